package gateway

import (
	"fmt"
	"testing"
)

// TestSetRateLimitAtRunTime: SetRateLimit (SIGHUP) turns the token bucket on, changes
// it and turns it off on a running server; negative values are refused.
func TestSetRateLimitAtRunTime(t *testing.T) {
	s, base := startServer(t, Options{})
	codes := func(n int) string {
		var c []int
		for range n {
			resp, _ := do(t, "GET", base+"/v1/status", "", nil)
			c = append(c, resp.StatusCode)
		}
		return fmt.Sprint(c)
	}
	if got := codes(4); got != "[200 200 200 200]" {
		t.Fatalf("no limit: %s", got)
	}
	if err := s.SetRateLimit(0.001, 2); err != nil {
		t.Fatal(err)
	}
	if got := codes(3); got != "[200 200 429]" {
		t.Fatalf("limit on (burst 2): %s", got)
	}
	if err := s.SetRateLimit(0.001, 3); err != nil {
		t.Fatal(err)
	}
	if got := codes(4); got != "[200 200 200 429]" {
		t.Fatalf("limit changed (burst 3, buckets start full): %s", got)
	}
	if err := s.SetRateLimit(0, 0); err != nil {
		t.Fatal(err)
	}
	if got := codes(4); got != "[200 200 200 200]" {
		t.Fatalf("limit off: %s", got)
	}
	if err := s.SetRateLimit(-1, 0); err == nil {
		t.Fatal("a negative rate was accepted")
	}
}
