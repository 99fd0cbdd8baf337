package canon

import "testing"

// TestAppendAllocBudget: the canonical fast paths append into the caller's buffer and
// allocate nothing when it has room (AppendNumber: one, the string jcs.NumberToJSON
// returns); that is their reason to exist over the generic path (encoding/json then a
// JCS transform), which costs tens of allocations per value.
func TestAppendAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	tests := []struct {
		name   string
		budget float64
		f      func([]byte) []byte
	}{
		{"AppendString ascii", 0, func(b []byte) []byte { return AppendString(b, "which port does the bridge use?") }},
		{"AppendString escapes", 0, func(b []byte) []byte { return AppendString(b, "a\"b\\c\n\x01 é 😀") }},
		{"AppendNumber", 1, func(b []byte) []byte { b, _ = AppendNumber(b, 0.912345678); return b }},
		{"AppendNumber exponent", 1, func(b []byte) []byte { b, _ = AppendNumber(b, 1e-7); return b }},
		{"AppendKey", 0, func(b []byte) []byte { return AppendKey(b, "query", true) }},
		{"AppendStrings", 0, func(b []byte) []byte { return AppendStrings(b, []string{"a", "b\tc"}) }},
		{"AppendBool", 0, func(b []byte) []byte { return AppendBool(b, true) }},
	}
	for _, tt := range tests {
		buf := make([]byte, 0, 4096)
		got := testing.AllocsPerRun(200, func() { buf = tt.f(buf[:0]) })
		if got > tt.budget {
			t.Errorf("%s: %.1f allocations per call; budget %.0f", tt.name, got, tt.budget)
		}
	}
}
