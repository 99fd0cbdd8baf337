package smartfiles

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzDecodeInputs feeds invoke_skill's inputs object, as JSON, to the decoder and to a
// dry run over a small lake: neither may panic, every refusal must be an *InputError
// or a *Failure, and a decoded request must respect the input rules.
func FuzzDecodeInputs(f *testing.F) {
	for _, s := range []string{
		`{"operation":"scan","path":".","recursive":"true","category_filter":"code"}`,
		`{"operation":"organize","path":"in","dry_run":"false","copy_mode":true,"target_path":"out"}`,
		`{"operation":"rename","path":".","pattern":"{name}_{n}{hash}{ext}","prefix":"p","suffix":"s","hash_suffix":true}`,
		`{"operation":"merge","paths":["a.txt","in/b.txt"],"separator":"--","add_headers":false,"output_path":"m.txt"}`,
		`{"operation":"merge","paths":"a.txt"}`, `{"operation":7}`, `{"operation":"scan","path":"../x"}`,
		`{"operation":"rename","path":".","pattern":"../{name}"}`, `{"dry_run":1}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	lk := newLake(f)
	populate(f, lk.path("in"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in map[string]any
		if json.Unmarshal(data, &in) != nil || in == nil {
			return
		}
		req, err := decode(in, 10)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Public() == "" {
				t.Fatalf("decode error %v is not an *InputError", err)
			}
			return
		}
		if !slices.Contains(Operations, req.Op) {
			t.Fatalf("op %q", req.Op)
		}
		for _, v := range []string{req.Pattern, req.Prefix, req.Suffix} {
			if strings.Contains(v, "..") || strings.ContainsAny(v, "/\\\x00") {
				t.Fatalf("unsafe rename input %q accepted", v)
			}
		}
		if req.Op == "merge" && (len(req.Paths) == 0 || len(req.Paths) > 10) {
			t.Fatalf("paths %v", req.Paths)
		}
		in["dry_run"] = true // never mutate during fuzzing
		_, err = lk.skill.Run(context.Background(), in)
		var ie *InputError
		var fl *Failure
		if err != nil && !errors.As(err, &ie) && !errors.As(err, &fl) {
			t.Fatalf("Run error %v is neither an *InputError nor a *Failure", err)
		}
	})
}
