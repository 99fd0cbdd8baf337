package index

import "testing"

func TestDocName(t *testing.T) {
	for _, tc := range []struct{ source, want string }{
		{"man/grep.1.txt:L4", "grep"},
		{"RUNBOOK.md#33-bridge-health:L82", "RUNBOOK 33-bridge-health"},
		{"go/strings.txt#func-cut", "strings func-cut"},
		{"notes", "notes"},
		{"a/b/.hidden.md:L2", ".hidden.md"}, // a leading dot is not an extension
	} {
		if got := DocName(tc.source); got != tc.want {
			t.Errorf("DocName(%q) = %q, want %q", tc.source, got, tc.want)
		}
	}
}
