package supervision

import (
	"errors"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// run feeds msgs through the middleware and returns the 1-based indexes that panicked.
func run(t *testing.T, mws []actor.ReceiverMiddleware, msgs []any) (panicked []int, delivered int) {
	t.Helper()
	next := actor.ReceiverFunc(func(actor.ReceiverContext, *actor.MessageEnvelope) { delivered++ })
	for i := len(mws) - 1; i >= 0; i-- {
		next = mws[i](next)
	}
	for i, m := range msgs {
		func() {
			defer func() {
				if r := recover(); r != nil {
					err, _ := r.(error)
					if !errors.Is(err, ErrInjectedFault) || !strings.Contains(err.Error(), "cache message") {
						t.Fatalf("panic value %v", r)
					}
					panicked = append(panicked, i+1)
				}
			}()
			next(nil, actor.WrapEnvelope(m))
		}()
	}
	return panicked, delivered
}

func TestFaultInjectionMiddleware(t *testing.T) {
	user := func(n int) []any {
		out := []any{&actor.Started{}}
		for i := range n {
			out = append(out, &ping{N: i}, &actor.Restarting{})
		}
		return out
	}
	tests := []struct {
		name     string
		f        FaultInjection
		kind     string
		wantMW   bool
		panicked []int // indexes in user(6): user messages are at 2, 4, 6, ...
	}{
		{"off", FaultInjection{}, "cache", false, nil},
		{"other kind", FaultInjection{Kind: "ledger", PanicOnNth: 1}, "cache", false, nil},
		{"zero count", FaultInjection{Kind: "cache"}, "cache", false, nil},
		{"third message once", FaultInjection{Kind: "cache", PanicOnNth: 3}, "cache", true, []int{6}},
		{"every second", FaultInjection{Kind: "cache", PanicOnNth: 2, Repeat: true}, "cache", true, []int{4, 8, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mws := tt.f.Middleware(tt.kind)
			if (len(mws) > 0) != tt.wantMW {
				t.Fatalf("middleware installed: %v; want %v", len(mws) > 0, tt.wantMW)
			}
			got, delivered := run(t, mws, user(6))
			if len(got) != len(tt.panicked) {
				t.Fatalf("panicked at %v; want %v", got, tt.panicked)
			}
			for i := range got {
				if got[i] != tt.panicked[i] {
					t.Fatalf("panicked at %v; want %v", got, tt.panicked)
				}
			}
			if delivered != 13-len(got) {
				t.Fatalf("delivered %d of 13 with %d panics", delivered, len(got))
			}
		})
	}
}

func TestParseFaultInjection(t *testing.T) {
	tests := []struct {
		in   string
		want FaultInjection
		ok   bool
	}{
		{"", FaultInjection{}, true},
		{"cache:5", FaultInjection{Kind: "cache", PanicOnNth: 5}, true},
		{"query_worker:1:repeat", FaultInjection{Kind: "query_worker", PanicOnNth: 1, Repeat: true}, true},
		{"cache", FaultInjection{}, false},
		{"cache:0", FaultInjection{}, false},
		{"cache:-1", FaultInjection{}, false},
		{"cache:x", FaultInjection{}, false},
		{"Cache:1", FaultInjection{}, false},
		{":1", FaultInjection{}, false},
		{"cache:1:always", FaultInjection{}, false},
		{"cache:1:repeat:x", FaultInjection{}, false},
		{"cache:99999999999", FaultInjection{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFaultInjection(tt.in)
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("(%+v, %v); want %+v ok=%v", got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("err %v does not wrap ErrInvalidOptions", err)
			}
		})
	}
}

func FuzzParseFaultInjection(f *testing.F) {
	for _, s := range []string{"", "cache:5", "a:1:repeat", "::", "x:1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fi, err := ParseFaultInjection(s)
		if err != nil {
			return
		}
		if s != "" && (fi.Kind == "" || fi.PanicOnNth < 1) {
			t.Fatalf("accepted %q as %+v", s, fi)
		}
	})
}
