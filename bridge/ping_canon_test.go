package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/bizra/bizra/internal/canon"
)

// TestPingResultCanonical pins the ping result, which its receipt digests without a
// transform, to the canonical form of the same document.
func TestPingResultCanonical(t *testing.T) {
	b := &Bridge{started: time.Now().Add(-1234567 * time.Microsecond)}
	b.opts.Now = time.Now
	b.requestCount.Store(1e6 + 7)
	out, err := b.handlePing(context.Background(), nil)
	if err != nil || out.canonical == nil {
		t.Fatalf("ping: %+v %v", out, err)
	}
	want, err := canon.Transform(out.result)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.canonical) != string(want) {
		t.Fatalf("ping receipt document %s; want the canonical form of the result %s", out.canonical, want)
	}
}
