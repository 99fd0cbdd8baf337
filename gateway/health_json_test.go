package gateway

import (
	"encoding/json"
	"reflect"
	"testing"
)

func healthSamples() []Health {
	return []Health{
		{},
		{Status: "starting", Version: "0.1.0", UptimeS: 0.001, Checks: map[string]any{}},
		{Status: "healthy", Version: "1.2.3+dev \"x\" <&>", UptimeS: 123456.789, Checks: map[string]any{
			"runtime": true, "ledger": false, "inference": "ready", "bridge": nil, "genesis": true, "receipts": true}},
		{Status: "degraded", Version: "v", UptimeS: 1e-9, Checks: map[string]any{"é": "\u2028", "n": 1.5, "list": []string{"a"}}},
	}
}

// TestAppendHealthMatchesEncodingJSON pins the hand-written health encoder against
// encoding/json: same bytes once both are decoded.
func TestAppendHealthMatchesEncodingJSON(t *testing.T) {
	for i, h := range healthSamples() {
		fast, err := appendHealth(nil, &h)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("sample %d: fast encoding is not JSON: %v\n%s", i, err, fast)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("sample %d:\n fast %s\n json %s", i, fast, want)
		}
	}
}

// TestAppendHealthAllocBudget: the health document is written without allocating
// (booleans, strings and null checks, as the runtime reports); a change that
// allocates fails here (make test runs it).
func TestAppendHealthAllocBudget(t *testing.T) {
	h := healthSamples()[2]
	buf := make([]byte, 0, 4096)
	got := testing.AllocsPerRun(200, func() {
		var err error
		if buf, err = appendHealth(buf[:0], &h); err != nil {
			t.Fatal(err)
		}
	})
	if got > 0 {
		t.Errorf("appendHealth allocates %.1f per call; budget 0", got)
	}
}
