package ledger

import (
	"errors"
	"testing"
)

// TestFailureReply: an Append lost in a crash of the ledger actor is answered as not
// recorded (SEL_CLOSED, which the query worker turns into STORAGE_UNAVAILABLE); any
// other message gets no reply from the supervisor.
func TestFailureReply(t *testing.T) {
	tests := []struct {
		name  string
		msg   any
		reply bool
	}{
		{"pointer append", &Append{}, true},
		{"value append", Append{}, true},
		{"other", "tick", false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FailureReply(tt.msg)
			if !tt.reply {
				if got != nil {
					t.Fatalf("reply %v; want none", got)
				}
				return
			}
			f, ok := got.(*AppendFailed)
			if !ok || !errors.Is(f.Err(), ErrClosed) {
				t.Fatalf("reply %#v; want an AppendFailed wrapping ErrClosed", got)
			}
		})
	}
}
