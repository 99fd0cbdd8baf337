package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkQueryCacheHitAccessLog: the cache-hit path of BenchmarkQueryCacheHit over
// real HTTP with the access log off and on (JSON lines written to /dev/null through a
// file descriptor, so the write system call is counted as `bizra run`'s stderr
// costs), from 2×GOMAXPROCS clients. Run the two interleaved:
//
//	go test -run '^$' -bench 'BenchmarkQueryCacheHitAccessLog' -benchmem -count 5 ./bench/
func BenchmarkQueryCacheHitAccessLog(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			o := StackOptions{}
			if on {
				f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { f.Close() })
				o.AccessLog = f
			}
			st, err := StartStack(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				_ = st.Shutdown(sctx)
			})
			c := &fasthttp.HostClient{Addr: st.Gateway.Addr(), MaxConns: 256}
			b.Cleanup(c.CloseIdleConnections)
			body := []byte(`{"query":"How are receipts sealed and verified?"}`)
			if _, err := warmCache(context.Background(), st.APIURL(), body); err != nil {
				b.Fatal(err)
			}
			url := st.APIURL() + "/v1/query"
			b.SetParallelism(2)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := postQuery(c, url, body, wantCached); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
