package launcher

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) comp(name string, startErr error) Component {
	return Component{Name: name,
		Start: func(context.Context) error {
			r.add("start " + name)
			return startErr
		},
		Shutdown: func(context.Context) error { r.add("stop " + name); return nil }}
}

func TestRunOrderAndReverseShutdown(t *testing.T) {
	var r recorder
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Ready: func() { close(ready) }}, r.comp("core", nil), r.comp("api", nil), r.comp("bridge", nil))
	}()
	<-ready
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := "start core,start api,start bridge,stop bridge,stop api,stop core"
	if got := strings.Join(r.log, ","); got != want {
		t.Fatalf("got %s; want %s", got, want)
	}
}

func TestRunUnwindsOnStartFailure(t *testing.T) {
	var r recorder
	boom := errors.New("port in use")
	err := Run(context.Background(), Options{}, r.comp("core", nil), r.comp("api", boom), r.comp("bridge", nil))
	if !errors.Is(err, ErrStart) || !errors.Is(err, boom) || !strings.Contains(err.Error(), "api") {
		t.Fatalf("err = %v; want ErrStart naming api and wrapping the cause", err)
	}
	want := "start core,start api,stop core"
	if got := strings.Join(r.log, ","); got != want {
		t.Fatalf("got %s; want %s (bridge never started, core unwound)", got, want)
	}
}

func TestShutdownTimeoutBoundsAStuckComponent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stuck := Component{Name: "stuck", Start: func(context.Context) error { return nil },
		Shutdown: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- Run(ctx, Options{ShutdownTimeout: 50 * time.Millisecond, Ready: func() { close(ready) }}, stuck)
	}()
	<-ready
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want the shutdown deadline", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its shutdown timeout")
	}
}
