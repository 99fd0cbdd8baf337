package bridge

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryParamsSharedValidationVectors runs testdata/query/validation.json, the
// vectors the gateway's DecodeQuery test runs too: sovereign_query names the same
// member (data.member) with the same rule as POST /v1/query's detail.
func TestQueryParamsSharedValidationVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "query", "validation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name   string          `json:"name"`
		Body   json.RawMessage `json:"body"`
		Field  string          `json:"field"`
		Detail string          `json:"detail"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 5 {
		t.Fatalf("only %d validation vectors", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			_, err := queryRequest(tc.Body)
			if tc.Field == "" {
				if err != nil {
					t.Fatalf("valid params refused: %v", err)
				}
				return
			}
			var pe *paramError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a params error naming %q", err, tc.Field)
			}
			if pe.member != tc.Field {
				t.Fatalf("member %q, want %q", pe.member, tc.Field)
			}
			if want := strings.TrimPrefix(tc.Detail, tc.Field+": "); pe.detail != want {
				t.Fatalf("detail %q, want %q", pe.detail, want)
			}
		})
	}
}
