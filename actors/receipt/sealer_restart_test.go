package receipt

import (
	"fmt"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/supervision"
)

// TestFaultSealerRestartRecoversLostLeaves: a sealer that crashes on a leaves message
// is replaced by a fresh instance that starts from the Service's book, so the leaves
// of the lost message are sealed (nothing stays pending), batches keep chaining, and
// every receipt verifies.
func TestFaultSealerRestartRecoversLostLeaves(t *testing.T) {
	tests := []struct {
		name   string
		nth    int
		repeat bool
		issues int
	}{
		{"first leaves message lost", 1, false, 3},
		{"second leaves message lost", 2, false, 3},
		{"every other leaves message lost", 2, true, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Counted on the sealer's goroutine only.
			var instances, leaves int
			s := startService(t, Options{BatchInterval: time.Hour, BatchMax: 1 << 20,
				Props: func(p *actor.Props) *actor.Props {
					return p.Configure(actor.WithReceiverMiddleware(
						func(next actor.ReceiverFunc) actor.ReceiverFunc {
							return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
								switch env.Message.(type) {
								case *actor.Started:
									instances++
								case *leavesMsg:
									leaves++
									if leaves == tt.nth || (tt.repeat && leaves%tt.nth == 0) {
										panic(fmt.Errorf("sealer leaves message %d: %w", leaves, supervision.ErrInjectedFault))
									}
								}
								next(c, env)
							}
						}))
				}})
			var refs []Ref
			for i := range tt.issues {
				refs = append(refs, mustIssue(t, s, input(i)))
				flush(t, s) // one leaves message per receipt, one batch per flush
			}
			if p := s.Stats().Pending; p != 0 {
				t.Fatalf("pending %d after flush; want 0 (%+v, %d leaves messages)", p, s.Stats(), leaves)
			}
			for _, r := range refs {
				raw, err := s.Get(r.ReceiptID)
				if err != nil {
					t.Fatalf("get %s: %v", r.ReceiptID, err)
				}
				if v := s.Verify(raw); !v.Valid {
					t.Fatalf("receipt %s: %s", r.ReceiptID, v.Reason)
				}
			}
			if instances < 2 {
				t.Fatalf("%d sealer instances started; want a fresh one after the crash", instances)
			}
		})
	}
}

func TestFailureReplyAnswersOnlyFlush(t *testing.T) {
	tests := []struct {
		msg  any
		want any
	}{
		{flushMsg{}, flushedMsg{Restarted: true}},
		{&leavesMsg{}, nil},
		{tickMsg{}, nil},
		{"other", nil},
	}
	for _, tt := range tests {
		if got := FailureReply(tt.msg); got != tt.want {
			t.Errorf("FailureReply(%T) = %v; want %v", tt.msg, got, tt.want)
		}
	}
}
