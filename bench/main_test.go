package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// fasthttp's worker-pool cleaner sleeps out its interval after Shutdown, and its
// server-date ticker is process-wide, and a HostClient's cleaner sleeps out its
// interval after the last connection closed, and the default dialer keeps a
// process-wide cache cleaner: none of them is ours to stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*TCPDialer).tcpAddrsClean"))
}
