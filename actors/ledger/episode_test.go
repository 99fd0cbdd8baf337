package ledger

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

const goldenDir = "../../testdata/ledger"

type goldenFile struct {
	ChainHead string `json:"chain_head"`
	Checks    struct {
		ILog2      map[string]uint64 `json:"ilog2"`
		Efficiency float64           `json:"efficiency_095_098_1000"`
	} `json:"checks"`
	Vectors []struct {
		Query        string  `json:"query"`
		Response     string  `json:"response"`
		LayoutHex    string  `json:"layout_hex"`
		ContextChars int     `json:"context_chars"`
		ContextBytes int     `json:"context_bytes"`
		Episode      Episode `json:"episode"`
	} `json:"vectors"`
}

// TestGolden recomputes the python3 vectors (testdata/ledger/gen_golden.py) from
// their inputs: layout bytes, episode hash, chain hash, 500-character cut.
func TestGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(goldenDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Vectors) < 4 {
		t.Fatalf("got %d vectors; want >= 4", len(g.Vectors))
	}
	prev := Genesis
	for i, v := range g.Vectors {
		want := v.Episode
		in := want
		in.Context, in.ResponseSummary = v.Query, v.Response
		n, err := normalize(in)
		if err != nil {
			t.Fatalf("vector %d: normalize: %v", i, err)
		}
		if got := utf8.RuneCountInString(n.Context); got != v.ContextChars || len(n.Context) != v.ContextBytes {
			t.Errorf("vector %d: context %d chars %d bytes; want %d, %d", i, got, len(n.Context), v.ContextChars, v.ContextBytes)
		}
		if n.ResponseSummary != want.ResponseSummary {
			t.Errorf("vector %d: summary cut differs", i)
		}
		seal(&n, uint64(i), prev)
		if got := hex.EncodeToString(AppendLayout(nil, &n)); got != v.LayoutHex {
			t.Errorf("vector %d: layout\n got %s\nwant %s", i, got, v.LayoutHex)
		}
		if n.EpisodeHash != want.EpisodeHash || n.ChainHash != want.ChainHash || n.PrevHash != want.PrevHash {
			t.Errorf("vector %d: hashes %s %s; want %s %s", i, n.EpisodeHash, n.ChainHash, want.EpisodeHash, want.ChainHash)
		}
		if n.Efficiency != want.Efficiency {
			t.Errorf("vector %d: efficiency %v; want %v", i, n.Efficiency, want.Efficiency)
		}
		prev = n.ChainHash
	}
	if prev != g.ChainHead {
		t.Errorf("chain head %s; want %s", prev, g.ChainHead)
	}
	for k, want := range g.Checks.ILog2 {
		var n uint64
		if err := json.Unmarshal([]byte(k), &n); err != nil {
			t.Fatal(err)
		}
		if got := ILog2(n); got != want {
			t.Errorf("ILog2(%d) = %d; want %d (python)", n, got, want)
		}
	}
	if got := Efficiency(0.95, 0.98, 1000); got != g.Checks.Efficiency {
		t.Errorf("Efficiency = %v; want %v (python)", got, g.Checks.Efficiency)
	}
}

func TestILog2(t *testing.T) {
	for _, c := range []struct{ n, want uint64 }{{0, 0}, {1, 0}, {2, 1}, {3, 1}, {1023, 9}, {1024, 10}, {1e6, 19}, {1e9, 29}, {math.MaxUint64, 63}} {
		if got := ILog2(c.n); got != c.want {
			t.Errorf("ILog2(%d) = %d; want %d", c.n, got, c.want)
		}
	}
}

func TestEfficiency(t *testing.T) {
	tests := []struct {
		name       string
		snr, ihsan float64
		tokens     uint64
		want       float64
	}{
		{"contract example", 0.95, 0.98, 1000, float64(uint64(950000*980000)/9) / 1e12},
		{"no tokens", 0.95, 0.98, 0, 0},
		{"one token divides by 1", 0.5, 0.5, 1, float64(500000*500000/1) / 1e12},
		{"two tokens: log2(4)=2", 1, 1, 2, 0.5},
		{"huge tokens saturate", 1, 1, math.MaxUint64, float64(uint64(1e12)/63) / 1e12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Efficiency(tt.snr, tt.ihsan, tt.tokens); got != tt.want {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
	if got, want := Efficiency(0.95, 0.98, 1000), 0.103444444444; got != want {
		t.Errorf("contract example = %v; want %v", got, want)
	}
}

func TestImportance(t *testing.T) {
	snr, ihsan := 0.9, 0.8 // variables: constant arithmetic would be exact
	e := Episode{SNR: snr, Ihsan: ihsan}
	if got := e.Importance(); got != snr*ihsan {
		t.Errorf("no tokens: %v; want %v", got, snr*ihsan)
	}
	e.TokensUsed = 1000
	if got, want := e.Importance(), snr*ihsan*Efficiency(0.9, 0.8, 1000); got != want {
		t.Errorf("with tokens: %v; want %v", got, want)
	}
}

func TestQ(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want uint32
	}{{-1, 0}, {0, 0}, {0.5, 500000}, {1, 1e6}, {2, 1e6}, {math.NaN(), 0}, {0.0000019, 1}} {
		if got := Q(c.x); got != c.want {
			t.Errorf("Q(%v) = %d; want %d", c.x, got, c.want)
		}
	}
}

func TestClipCountsCharacters(t *testing.T) {
	s := strings.Repeat("é", 600) // 2 bytes each
	c := Clip(s, 500)
	if utf8.RuneCountInString(c) != 500 || len(c) != 1000 {
		t.Errorf("got %d chars, %d bytes; want 500, 1000", utf8.RuneCountInString(c), len(c))
	}
	if got := Clip("abc", 500); got != "abc" {
		t.Errorf("short: %q", got)
	}
	if got := Clip("a\xffb", 500); got != "a\uFFFDb" {
		t.Errorf("invalid utf-8: %q; want replacement", got)
	}
}

func TestEpisodeHashProperties(t *testing.T) {
	base := sample("what is sovereignty")
	n, _ := normalize(base)
	seal(&n, 0, Genesis)
	h := n.EpisodeHash
	if len(h) != 64 {
		t.Fatalf("hash length %d; want 64", len(h))
	}
	if _, err := hex.DecodeString(h); err != nil {
		t.Fatalf("not hex: %v", err)
	}
	if again := ComputeEpisodeHash(&n); again != h {
		t.Errorf("not deterministic: %s vs %s", again, h)
	}
	fb := 0.5
	mut := map[string]func(e *Episode){
		"context":     func(e *Episode) { e.Context += "!" },
		"snr":         func(e *Episode) { e.SNR = 0.91 },
		"ihsan":       func(e *Episode) { e.Ihsan = 0.97 },
		"tokens":      func(e *Episode) { e.TokensUsed = 101 },
		"sequence":    func(e *Episode) { e.Sequence = 1 },
		"timestamp":   func(e *Episode) { e.Timestamp = 1 },
		"graph hash":  func(e *Episode) { e.GraphHash = "cd" },
		"node count":  func(e *Episode) { e.GraphNodeCount = 4 },
		"snr_ok":      func(e *Episode) { e.SNROK = false },
		"feedback":    func(e *Episode) { e.Feedback = &fb },
		"action":      func(e *Episode) { e.Actions[1].Success = false },
		"action dur":  func(e *Episode) { e.Actions[0].DurationUS = 6 },
		"action kept": func(e *Episode) { e.Actions = e.Actions[:1] },
	}
	for name, f := range mut {
		t.Run(name, func(t *testing.T) {
			m := n.clone()
			f(&m)
			if ComputeEpisodeHash(&m) == h {
				t.Errorf("hash unchanged after changing %s", name)
			}
		})
	}
	// The summary is outside the contract's layout.
	m := n.clone()
	m.ResponseSummary = "other"
	if ComputeEpisodeHash(&m) != h {
		t.Errorf("response summary changed the hash; the layout excludes it")
	}
}

func TestNormalizeRejects(t *testing.T) {
	bad := 1.5
	tests := []struct {
		name string
		f    func(e *Episode)
	}{
		{"snr above 1", func(e *Episode) { e.SNR = 1.1 }},
		{"snr NaN", func(e *Episode) { e.SNR = math.NaN() }},
		{"ihsan negative", func(e *Episode) { e.Ihsan = -0.1 }},
		{"feedback out of range", func(e *Episode) { e.Feedback = &bad }},
		{"graph hash too long", func(e *Episode) { e.GraphHash = strings.Repeat("a", 129) }},
		{"too many actions", func(e *Episode) { e.Actions = make([]Action, 65) }},
		{"action type too long", func(e *Episode) { e.Actions[0].Type = strings.Repeat("t", 65) }},
		{"action description too long", func(e *Episode) { e.Actions[0].Description = strings.Repeat("d", 1025) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sample("x")
			tt.f(&e)
			if _, err := normalize(e); err == nil {
				t.Errorf("accepted")
			}
		})
	}
}
