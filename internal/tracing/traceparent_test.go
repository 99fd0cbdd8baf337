package tracing

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type vectors struct {
	Valid []struct {
		Header   string `json:"header"`
		TraceID  string `json:"trace_id"`
		ParentID string `json:"parent_id"`
		Flags    string `json:"flags"`
		Sampled  bool   `json:"sampled"`
		Format   string `json:"format"`
	} `json:"valid"`
	Invalid []struct {
		Header string `json:"header"`
		Why    string `json:"why"`
	} `json:"invalid"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/traceparent.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

// TestParseGolden: the W3C examples decode to their fields and format back to the
// version 00 form; the invalid ones fail with ErrInvalid.
func TestParseGolden(t *testing.T) {
	v := loadVectors(t)
	for _, tt := range v.Valid {
		t.Run(tt.Header, func(t *testing.T) {
			p, err := Parse(tt.Header)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := hex.EncodeToString(p.TraceID[:]); got != tt.TraceID {
				t.Errorf("trace id %s, want %s", got, tt.TraceID)
			}
			if got := hex.EncodeToString(p.SpanID[:]); got != tt.ParentID {
				t.Errorf("parent id %s, want %s", got, tt.ParentID)
			}
			if got := hex.EncodeToString([]byte{p.Flags}); got != tt.Flags {
				t.Errorf("flags %s, want %s", got, tt.Flags)
			}
			if p.Sampled() != tt.Sampled {
				t.Errorf("sampled %v, want %v", p.Sampled(), tt.Sampled)
			}
			if got := p.String(); got != tt.Format {
				t.Errorf("String %q, want %q", got, tt.Format)
			}
		})
	}
	for _, tt := range v.Invalid {
		t.Run(tt.Why, func(t *testing.T) {
			p, err := Parse(tt.Header)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %+v, %v; want ErrInvalid (%s)", tt.Header, p, err, tt.Why)
			}
			if p.IsValid() {
				t.Errorf("an invalid header gave a valid Parent %+v", p)
			}
		})
	}
}

func TestContextCarriesParent(t *testing.T) {
	p, err := Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"none", context.Background(), false},
		{"valid", WithParent(context.Background(), p), true},
		{"zero is not stored", WithParent(context.Background(), Parent{}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromContext(tt.ctx)
			if ok != tt.want || (ok && got != p) {
				t.Errorf("FromContext = %+v, %v; want %v", got, ok, tt.want)
			}
		})
	}
	if s := (Parent{}).String(); s != "" {
		t.Errorf("zero Parent String = %q, want empty", s)
	}
}

// TestParseAllocBudget: parsing a header from fasthttp's bytes allocates nothing.
func TestParseAllocBudget(t *testing.T) {
	b := []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	got := testing.AllocsPerRun(200, func() {
		if _, err := ParseBytes(b); err != nil {
			t.Fatal(err)
		}
	})
	if got > 0 {
		t.Errorf("ParseBytes allocates %.1f per call; budget 0", got)
	}
}

// FuzzParse: no input panics; whatever parses is valid and formats to a header that
// parses back to the same Parent; a version 00 header formats back to itself.
func FuzzParse(f *testing.F) {
	for _, v := range loadVectors(f).Valid {
		f.Add(v.Header)
	}
	for _, v := range loadVectors(f).Invalid {
		f.Add(v.Header)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if !p.IsValid() {
			t.Fatalf("Parse(%q) accepted an invalid Parent", s)
		}
		out := p.String()
		q, err := Parse(out)
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %q gives %+v, %v", s, out, q, err)
		}
		if s[:2] == "00" && out != s {
			t.Fatalf("version 00 %q formats as %q", s, out)
		}
	})
}
