package index

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/catalog"
)

func write(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBuildSkipsAndCounts(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	write(t, outside, "secret.md", []byte("# Secret\n\nthe outside secret passphrase zebra"))
	write(t, dir, "guide.md", []byte("# Install\n\nRun the installer.\n\n## Bridge health\n\nCheck the bridge health with the doctor command.\n"))
	write(t, dir, "notes.txt", []byte("plain text about the ledger chain\n"))
	write(t, dir, "src/main.go", []byte("package main\n\n// bridge listener port\nfunc main() {}\n"))
	write(t, dir, "conf/settings.json", []byte(`{"cache_ttl_seconds": 600}`))
	write(t, dir, "image.png", []byte{0x89, 'P', 'N', 'G'})                            // type
	write(t, dir, "nul.md", []byte("looks like text\x00but has a NUL"))                // binary
	write(t, dir, "latin1.txt", []byte("caf\xe9 au lait"))                             // binary (invalid UTF-8)
	write(t, dir, "huge.md", []byte(strings.Repeat("word ", 400)))                     // 2000 bytes > 1024
	write(t, dir, "deep/inner.md", []byte("# Inner\n\ninner document about receipts")) // indexed
	if err := os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(dir, "escape.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "outdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("notes.txt", filepath.Join(dir, "alias.txt")); err != nil { // inside: indexed
		t.Fatal(err)
	}
	if err := os.Symlink("missing.md", filepath.Join(dir, "dangling.md")); err != nil {
		t.Fatal(err)
	}
	wantUnreadable := 2 // escape.md, dangling.md
	if os.Geteuid() != 0 {
		write(t, dir, "locked.md", []byte("no access"))
		if err := os.Chmod(filepath.Join(dir, "locked.md"), 0); err != nil {
			t.Fatal(err)
		}
		wantUnreadable++
	}
	ix, err := Build(context.Background(), dir, Options{MaxFileBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	st := ix.Stats()
	checks := []struct {
		name      string
		got, want int
	}{
		{"files", st.Files, 6}, // guide, notes, main.go, settings.json, inner, alias
		{"binary", st.SkippedBinary, 2},
		{"huge", st.SkippedHuge, 1},
		{"unreadable", st.SkippedUnreadable, wantUnreadable},
		{"type", st.SkippedType, 2}, // image.png, outdir (a symlink, not followed)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("%s = %d; want %d (stats %+v)", c.name, c.got, c.want, st)
			}
		})
	}
	if st.Passages < 6 || st.Duration <= 0 {
		t.Errorf("stats %+v", st)
	}
	if hits := ix.Search("zebra passphrase secret", 5); len(hits) != 0 {
		t.Errorf("content from outside the root was indexed: %+v", hits)
	}
	hits := ix.Search("how do I check bridge health?", 3)
	if len(hits) == 0 || hits[0].Source != "guide.md#bridge-health:L7" || hits[0].Doc != "guide.md" {
		t.Fatalf("hits %+v", hits)
	}
	if !strings.Contains(hits[0].Text, "doctor command") || strings.Contains(hits[0].Text, "installer") {
		t.Errorf("passage text %q", hits[0].Text)
	}
}

func TestBuildErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	write(t, dir, "a.md", []byte("hello world"))
	tests := []struct {
		name string
		ctx  context.Context
		root string
		opts Options
		want error
	}{
		{"missing root", context.Background(), filepath.Join(dir, "nope"), Options{}, ErrRoot},
		{"empty root", context.Background(), "", Options{}, ErrRoot},
		{"file as root", context.Background(), filepath.Join(dir, "a.md"), Options{}, ErrRoot},
		{"negative limit", context.Background(), dir, Options{MaxFileBytes: -1}, ErrOptions},
		{"target above max", context.Background(), dir, Options{PassageTarget: 100, MaxPassageBytes: 50}, ErrOptions},
		{"canceled", ctx, dir, Options{}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.ctx, tt.root, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
		})
	}
	if p := catalog.Lookup(ErrRoot); p.Code != "DATA_LAKE_UNAVAILABLE" {
		t.Errorf("catalog code %q", p.Code)
	}
}

func TestBudgets(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c", "d"} {
		write(t, dir, n+".txt", []byte("budget test document "+n+strings.Repeat(" filler", 10)))
	}
	ix, err := Build(context.Background(), dir, Options{MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	if st := ix.Stats(); st.Files != 3 || st.SkippedBudget != 1 {
		t.Errorf("max files: %+v", st)
	}
	ix, err = Build(context.Background(), dir, Options{MaxTotalBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	if st := ix.Stats(); st.Files != 2 || st.SkippedBudget != 2 || st.Bytes > 200 {
		t.Errorf("max bytes: %+v", st)
	}
}

// TestBM25Golden checks scores against testdata/index/bm25.json, computed by
// testdata/index/gen_bm25.py from hand-tokenised documents.
func TestBM25Golden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "index", "bm25.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Docs    []Document `json:"docs"`
		Queries []struct {
			Query string  `json:"query"`
			Ideal float64 `json:"ideal"`
			Hits  []struct {
				Doc   string  `json:"doc"`
				Score float64 `json:"score"`
				Norm  float64 `json:"norm"`
			} `json:"hits"`
		} `json:"queries"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	ix, err := FromDocuments(context.Background(), g.Docs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range g.Queries {
		t.Run(q.Query, func(t *testing.T) {
			if got := ix.IdealScore(q.Query); math.Abs(got-q.Ideal) > 1e-9 {
				t.Errorf("ideal %v; want %v", got, q.Ideal)
			}
			hits := ix.Search(q.Query, 10)
			if len(hits) != len(q.Hits) {
				t.Fatalf("hits %+v; want %+v", hits, q.Hits)
			}
			for i, h := range hits {
				w := q.Hits[i]
				if h.Doc != w.Doc || math.Abs(h.Score-w.Score) > 1e-9 || math.Abs(h.Norm-w.Norm) > 1e-9 {
					t.Errorf("hit %d: %s %v %v; want %s %v %v", i, h.Doc, h.Score, h.Norm, w.Doc, w.Score, w.Norm)
				}
			}
		})
	}
}

func TestNormComparableAcrossQueries(t *testing.T) {
	docs := []Document{
		{"ops.md", "# Bridge\n\nCheck bridge health with the doctor command; the bridge listens on port 9742."},
		{"cache.md", "# Cache\n\nThe result cache is a sharded LRU with a TTL of ten minutes."},
		{"sel.md", "# Ledger\n\nThe experience ledger appends one episode per successful query."},
	}
	ix, err := FromDocuments(context.Background(), docs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	on := ix.Search("check bridge health", 1)
	off := ix.Search("banana saxophone cache volcano", 1)
	if len(on) != 1 || len(off) != 1 {
		t.Fatalf("on %+v off %+v", on, off)
	}
	if on[0].Norm < 0.6 || off[0].Norm > 0.4 || on[0].Norm-off[0].Norm < 0.3 {
		t.Errorf("on-topic norm %.3f, off-topic best hit norm %.3f", on[0].Norm, off[0].Norm)
	}
	for _, q := range []string{"", "the and of", "?!", "zzzz"} {
		if hits := ix.Search(q, 5); len(hits) != 0 {
			t.Errorf("Search(%q) = %+v", q, hits)
		}
	}
	if hits := ix.Search("bridge", 0); hits != nil {
		t.Errorf("k=0 gave %v", hits)
	}
	empty, err := FromDocuments(context.Background(), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if hits := empty.Search("bridge", 3); hits != nil {
		t.Errorf("empty index gave %v", hits)
	}
}

func TestPassagesBounded(t *testing.T) {
	long := strings.Repeat("The ledger seals segments with zstd compression and verifies chains. ", 200)
	docs := []Document{{"long.md", "# Long\n\n" + long}, {"code.go", strings.Repeat("x := compute(y)\n", 500)}}
	ix, err := FromDocuments(context.Background(), docs, Options{PassageTarget: 300, MaxPassageBytes: 400})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() < 20 {
		t.Fatalf("passages %d", ix.Len())
	}
	for i, txt := range ix.texts {
		if len(txt) > 400 {
			t.Errorf("passage %d (%s) has %d bytes", i, ix.sources[i], len(txt))
		}
	}
}

func TestConcurrentSearch(t *testing.T) {
	var docs []Document
	for i := range 200 {
		docs = append(docs, Document{Path: filepath.Join("d", string(rune('a'+i%26))+".txt"), Text: genText(i, 40)})
	}
	ix, err := FromDocuments(context.Background(), docs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := ix.Search("ledger receipt cache", 5)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				got := ix.Search("ledger receipt cache", 5)
				if len(got) != len(want) || got[0] != want[0] {
					t.Error("concurrent search differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestDocOf(t *testing.T) {
	for in, want := range map[string]string{
		"a/b.md#install:L3": "a/b.md", "x.go:L10": "x.go", "plain.txt": "plain.txt", "c.md#h": "c.md",
		"weird:Lx": "weird:Lx",
	} {
		if got := DocOf(in); got != want {
			t.Errorf("DocOf(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestContentTerms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"How do I check bridge health?", "check bridg health"},
		{"Receipts, batches and queries", "receipt batch query"},
		{"the status of the bus", "status bus"},
		{"bridge_health-check v1 2026", "bridg health check v1 2026"},
		{"ParseDuration canceled running HTTPServer", "parseduration par duration cancel run httpserver http server"},
		{"created creates create, parsed parses", "creat creat creat par par"},
		{"ÉCOLE Straße", "école straße"},
		{"?!... the of and", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := strings.Join(ContentTerms(tt.in), " "); got != tt.want {
				t.Errorf("ContentTerms(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzContentTerms(f *testing.F) {
	for _, s := range []string{"How do I check bridge health?", "ponies, classes & buses", "İSTANBUL ǅ ﬃ", "a\x00b\xffc", "analysis thesis"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		terms := ContentTerms(s)
		for _, term := range terms {
			if !utf8.ValidString(term) || len(term) > MaxTermBytes || utf8.RuneCountInString(term) < 2 || IsStopWord(term) {
				t.Fatalf("bad term %q from %q", term, s)
			}
			for _, r := range term {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("term %q has %q", term, r)
				}
			}
		}
		again := ContentTerms(strings.Join(terms, " "))
		if strings.Join(again, " ") != strings.Join(terms, " ") {
			t.Fatalf("not idempotent: %q → %q → %q", s, terms, again)
		}
	})
}

func FuzzSplitDocument(f *testing.F) {
	f.Add("# A\n\npara one\n\n## B\n```\n# not a heading\n```\ntext", true)
	f.Add(strings.Repeat("é", 300), false)
	f.Fuzz(func(t *testing.T, s string, md bool) {
		k := kindText
		if md {
			k = kindMarkdown
		}
		for _, p := range splitDocument("f", s, k, 64, 128) {
			if len(p.text) > 128 || p.text == "" || !strings.HasPrefix(p.source, "f") {
				t.Fatalf("passage %+v", p)
			}
			if utf8.ValidString(s) && !utf8.ValidString(p.text) {
				t.Fatalf("split inside a rune: %q", p.text)
			}
		}
	})
}

// genText makes deterministic pseudo-English text from a fixed vocabulary.
func genText(seed, words int) string {
	var sb strings.Builder
	x := uint32(seed*2654435761 + 1)
	for i := range words {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(vocab[x%uint32(len(vocab))])
	}
	return sb.String()
}

var vocab = strings.Fields(`bridge health ledger receipt cache query gate token signer merkle batch seal
chain episode genesis node operator backend model circuit breaker retry deadline metric gauge counter
histogram latency throughput shard eviction mailbox actor supervisor restart backoff jitter window
segment compression snapshot verify anchor prune retention index passage search score signal noise
grounding coverage relevance attribution evidence reasoning graph depth branch synthesis conclusion
the and of to in is for with on that by this from`)

func TestSelectTopMatchesSort(t *testing.T) {
	scores := make([]float64, 500)
	ids := make([]uint32, 500)
	for i := range scores {
		scores[i] = float64((i * 7919) % 97) // many ties
		ids[i] = uint32(i)
	}
	better := func(x, y uint32) bool { return scores[x] > scores[y] || (scores[x] == scores[y] && x < y) }
	sorted := append([]uint32(nil), ids...)
	slices.SortFunc(sorted, func(x, y uint32) int {
		if better(x, y) {
			return -1
		}
		return 1
	})
	for _, k := range []int{1, 5, 97, 499, 500, 800} {
		got := selectTop(ids, k, better)
		if !slices.Equal(got, sorted[:min(k, len(sorted))]) {
			t.Errorf("k=%d: %v", k, got[:min(5, len(got))])
		}
	}
}
