package canon

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestMarshalSortsAndFormats(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"sorted keys", map[string]any{"b": 1, "a": 2}, `{"a":2,"b":1}`},
		{"no html escaping", map[string]string{"x": "<&>"}, `{"x":"<&>"}`},
		{"es6 numbers", []any{1.0, 1e21, 0.1, math.Copysign(0, -1)}, `[1,1e+21,0.1,0]`},
		{"nested", map[string]any{"z": map[string]any{"y": true, "x": nil}}, `{"z":{"x":null,"y":true}}`},
		{"struct fields by name", struct {
			B string `json:"b"`
			A int    `json:"a"`
		}{"q", 7}, `{"a":7,"b":"q"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %s; want %s", got, tt.want)
			}
		})
	}
}

func TestMarshalRejectsNaN(t *testing.T) {
	if _, err := Marshal(map[string]any{"x": func() {}}); err == nil {
		t.Fatal("got nil error for a func value")
	}
}

// TestGoldenVectors pins the canonical bytes and domain digests in testdata.
func TestGoldenVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "canon", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vecs []struct {
		Domain    string          `json:"domain"`
		Input     json.RawMessage `json:"input"`
		Canonical string          `json:"canonical"`
		Digest    string          `json:"digest"`
	}
	if err := json.Unmarshal(raw, &vecs); err != nil {
		t.Fatal(err)
	}
	if len(vecs) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vecs {
		c, err := Transform(v.Input)
		if err != nil {
			t.Fatal(err)
		}
		if string(c) != v.Canonical {
			t.Errorf("%s: canonical %s; want %s", v.Domain, c, v.Canonical)
		}
		if got := SumHex(v.Domain, c); got != v.Digest {
			t.Errorf("%s: digest %s; want %s", v.Domain, got, v.Digest)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	v := map[string]any{"query": "how do I check bridge health?", "context": map[string]any{"a": 1, "b": "two"},
		"require_reasoning": true, "require_validation": true, "max_depth": 3, "user_id": ""}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzTransform(f *testing.F) {
	f.Add([]byte(`{"b":1,"a":[1,2,{"c":null}]}`))
	f.Add([]byte(`"\u00e9"`))
	f.Add([]byte(`1e400`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Transform(b)
		if err != nil {
			return
		}
		again, err := Transform(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, err)
		}
	})
}

// Generic returns the canonical bytes of v through the generic path (encoding/json and
// the JCS transform), ignoring any AppendCanonical. Tests of Canonicaler
// implementations compare against it.
func TestAppendHelpersMatchTransform(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x01\x1f\b\f\n\r\t", "<&>", "\u2028\u2029",
		"é€😀", "bad\xffutf8\xc3", "\x7f"} {
		got := AppendString(nil, s)
		want, err := marshalGeneric(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s; want %s", s, got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 1e21, 1e-7, 123456789012345680000, 0.1 + 0.2, 5e-324} {
		got, err := AppendNumber(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := marshalGeneric(f)
		if string(got) != string(want) {
			t.Errorf("AppendNumber(%v) = %s; want %s", f, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\x00\xff€")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := marshalGeneric(s)
		if err != nil {
			return
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s; want %s", s, got, want)
		}
	})
}

func TestMarshalNilAndCanonical(t *testing.T) {
	if b, err := Marshal(nil); err != nil || string(b) != "null" {
		t.Fatalf("Marshal(nil) = %s %v", b, err)
	}
	if b, err := Marshal(Canonical(`{"a":1}`)); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("Marshal(Canonical) = %s %v", b, err)
	}
	d1, _ := Digest("bizra-x-v1", Canonical(`{"a":1}`))
	d2, _ := Digest("bizra-x-v1", map[string]int{"a": 1})
	if d1 != d2 {
		t.Fatal("a canonical document and its value digest differently")
	}
}
