package catalog

import (
	"errors"
	"fmt"
	"testing"
)

func TestLookup(t *testing.T) {
	errNF := New(NotFound, "RECEIPT_NOT_FOUND", "Receipt not found", "receipt: not found")
	tests := []struct {
		name     string
		err      error
		wantHTTP int
		wantRPC  int
		wantCode string
		wantMsg  string
	}{
		{"sentinel", errNF, 404, -32602, "RECEIPT_NOT_FOUND", "Receipt not found"},
		{"wrapped", fmt.Errorf("get %q: %w", "x", errNF), 404, -32602, "RECEIPT_NOT_FOUND", "Receipt not found"},
		{"detail", WithDetail(New(InvalidInput, "INVALID_QUERY", "Invalid query", "q"), "max_depth: must be 1..10"),
			400, -32602, "INVALID_QUERY", "Invalid query: max_depth: must be 1..10"},
		{"defaults", New(Overloaded, "", "", "pool full"), 503, -32000, "OVERLOADED", "Server busy, retry later"},
		{"foreign error is internal and hides its text", errors.New("open /etc/secret: denied"), 500, -32603, "INTERNAL", "Internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Lookup(tt.err)
			if p.HTTP != tt.wantHTTP || p.RPC != tt.wantRPC || p.Code != tt.wantCode || p.Message != tt.wantMsg {
				t.Fatalf("got %+v; want %d %d %s %q", p, tt.wantHTTP, tt.wantRPC, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestKindsDistinctCodes(t *testing.T) {
	seen := map[string]bool{}
	for k := Internal; k <= Conflict; k++ {
		e := Of(k)
		if e.Code == "" || e.Message == "" || e.HTTP < 400 || seen[e.Code] {
			t.Fatalf("kind %d: bad or duplicate entry %+v", k, e)
		}
		seen[e.Code] = true
	}
}
