package gateway

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/catalog"
)

// validationCase is one vector of testdata/query/validation.json, shared with the
// bridge's test: both front doors must name the same field with the same words.
type validationCase struct {
	Name   string          `json:"name"`
	Body   json.RawMessage `json:"body"`
	Field  string          `json:"field"`
	Detail string          `json:"detail"`
}

func loadValidationCases(t *testing.T) []validationCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "query", "validation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []validationCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 5 {
		t.Fatalf("only %d validation vectors", len(cases))
	}
	return cases
}

func TestDecodeQuerySharedValidationVectors(t *testing.T) {
	for _, tc := range loadValidationCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			_, err := DecodeQuery(tc.Body)
			if tc.Field == "" {
				if err != nil {
					t.Fatalf("valid body refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q refused", tc.Field)
			}
			if got := catalog.Detail(err); got != tc.Detail {
				t.Fatalf("detail %q, want %q", got, tc.Detail)
			}
			var fe *query.FieldError
			if errors.As(err, &fe) && fe.Field != tc.Field {
				t.Fatalf("field %q, want %q", fe.Field, tc.Field)
			}
		})
	}
}
