package inference

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/internal/catalog"
)

// TestRepliesCarryErrors: the router's replies carry error values that errors.Is
// matches. ErrStopped has no public code, so a code string ("" on success) used to
// turn "the service is stopping" into a successful, empty answer.
func TestRepliesCarryErrors(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	rt := &runtime{log: slog.New(slog.DiscardHandler)}
	rt.stopping.Store(true)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &routerActor{rt: rt} }))
	for _, tc := range []struct {
		name string
		msg  any
	}{
		{"ask", &Ask{Request: sampleRequest()}},
		{"decompose", &DecomposeAsk{Query: "why is the sky blue and why is grass green?", Max: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := sys.Root.RequestFuture(pid, tc.msg, 5*time.Second).Result()
			if err != nil {
				t.Fatal(err)
			}
			var got error
			switch r := res.(type) {
			case *Answered:
				got = r.Err
			case *Decomposed:
				got = r.Err
			default:
				t.Fatalf("reply %T", res)
			}
			if !errors.Is(got, ErrStopped) || Reason(got) != "stopping" {
				t.Fatalf("reply error %v (reason %q); want ErrStopped, reason stopping", got, Reason(got))
			}
		})
	}
	for _, tc := range []struct {
		err  error
		code string
	}{
		{failWith(ErrNoEvidence, "no evidence"), "NO_EVIDENCE"},
		{failWith(ErrTimeout, "timeout"), "TIMEOUT"},
	} {
		if !errors.Is(tc.err, tc.err.(*replyError).sentinel) || catalog.Lookup(tc.err).Code != tc.code {
			t.Fatalf("%v: code %q, want %q", tc.err, catalog.Lookup(tc.err).Code, tc.code)
		}
	}
	if FailureReply(&Ask{ID: 7}).(*Answered).Err == nil || FailureReply(&DecomposeAsk{ID: 8}).(*Decomposed).Err == nil || FailureReply("x") != nil {
		t.Fatal("FailureReply: want errors for Ask and DecomposeAsk, nil otherwise")
	}
}
