package receipt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func benchBody(b *testing.B) Body {
	v := loadVectors(b)
	var body Body
	if err := json.Unmarshal(v.Bodies[0].Body, &body); err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkLeafHash: JCS of a body (through canon, and through Issue's fast path) plus the
// domain-separated SHA-256, and the hash alone.
func BenchmarkLeafHash(b *testing.B) {
	body := benchBody(b)
	c, _ := body.Canonical()
	b.Run("canonical+hash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := body.Canonical()
			if err != nil {
				b.Fatal(err)
			}
			_ = LeafHash(c)
		}
	})
	b.Run("fast-canonical+hash", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendBodyCanonical(buf[:0], &body); err != nil {
				b.Fatal(err)
			}
			_ = LeafHash(buf)
		}
	})
	b.Run("hash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = LeafHash(c)
		}
	})
}

// BenchmarkSealPerReceipt compares sealing a batch of 1024 leaves (tree, one Ed25519
// signature, and with "+lines" also every inclusion proof and stored line) with one
// Ed25519 signature per receipt. Compare the ns/receipt metrics.
func BenchmarkSealPerReceipt(b *testing.B) {
	const n = 1024
	ed := NewEd25519Signer(testSecret(b))
	leaves := testLeaves(n)
	body := benchBody(b)
	c, _ := body.Canonical()
	items := make([]*leafMsg, n)
	for i := range items {
		items[i] = &leafMsg{id: body.ReceiptID, leaf: leaves[i], body: c}
	}
	b.Run("batch-1024", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t := NewTree(leaves)
			_ = ed.Sign(BatchMessage(1, t.Root(), [32]byte{}))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/receipt")
	})
	b.Run("batch-1024+lines", func(b *testing.B) {
		w := &writer{alg: ed.Alg(), keyID: ed.KeyID(), pubHex: ed.PublicKeyHex(), mac: newMacer(make([]byte, 32))}
		var buf []byte
		var recs []record
		b.ReportAllocs()
		for b.Loop() {
			t := NewTree(leaves)
			sig := ed.Sign(BatchMessage(1, t.Root(), [32]byte{}))
			var err error
			buf, recs, err = w.lines(&job{seq: 1, tree: t, root: t.Root(), sig: sig, items: items}, 1, 0, buf[:0], recs[:0])
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/receipt")
	})
	b.Run("single-ed25519", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = ed.Sign(SingleMessage(leaves[i%n]))
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/receipt")
	})
}

// BenchmarkVerify reports verifications per second of a sealed receipt (batch of 3).
func BenchmarkVerify(b *testing.B) {
	v := loadVectors(b)
	for _, tc := range []struct{ name, raw string }{{"sealed", v.SealedReceipts[1]}, {"single", v.Single.Receipt}} {
		b.Run(tc.name, func(b *testing.B) {
			raw := []byte(tc.raw)
			b.ReportAllocs()
			for b.Loop() {
				if !Verify(raw).Valid {
					b.Fatal("invalid")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}

// BenchmarkIssue measures Issue on the caller's goroutine against a running Service
// (sealer, writer, fsync to a temp folder), with its p99.
func BenchmarkIssue(b *testing.B) {
	origin := map[string]any{"designation": "ephemeral_node", "genesis_node": false, "genesis_block": false,
		"home_base_device": false, "authority_source": "genesis_files", "hash_validated": false}
	s := startService(b, Options{MaxPending: 1 << 20, NodeID: "node0_3f2a9c1d0b7e4a61",
		Origin: func() map[string]any { return origin }, PolicyDigest: func() string { return "p" }})
	in := Input{Kind: KindQuery, Status: StatusAccepted, Method: "POST /v1/query",
		Params:  map[string]any{"query": "how do I check bridge health?", "max_depth": 3, "require_reasoning": true},
		Payload: map[string]any{"answer": "run bizra doctor", "snr": 0.873, "evidence": []any{"a", "b"}},
		SNR:     f64(0.873), Ihsan: f64(0.95), GatePassed: true, Duration: 12 * time.Millisecond}
	b.Run("serial", func(b *testing.B) {
		lat := make([]time.Duration, 0, 1<<16)
		b.ReportAllocs()
		for b.Loop() {
			t0 := time.Now()
			if _, err := s.Issue(in); err != nil {
				b.Fatal(err)
			}
			if len(lat) < cap(lat) {
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Issue(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIssueDurable measures durable Issue (each call waits for the group commit of
// its issued record: one write and one fsync per round) from 1, 16 and 64 goroutines,
// reporting receipts/s and the mean group-commit batch (issued records per fsync).
//
//	go test -run '^$' -bench IssueDurable -benchmem ./actors/receipt
//
// The log levers, as sub-benchmarks: "fsync-append" is the log before this change
// (fsync, segments growing by appending), "fdatasync-append" only swaps the sync call,
// "fdatasync-prealloc" is the default (fdatasync into preallocated spare segments).
func BenchmarkIssueDurable(b *testing.B) {
	levers := []struct {
		name string
		o    Options
	}{
		{"fsync-append", Options{fullSync: true, NoPreallocate: true}},
		{"fdatasync-append", Options{NoPreallocate: true}},
		{"fdatasync-prealloc", Options{}},
	}
	for _, g := range []int{1, 16, 64} {
		for _, lv := range levers {
			b.Run(fmt.Sprintf("%s/goroutines-%d", lv.name, g), func(b *testing.B) {
				o := lv.o
				o.MaxPending = 1 << 20
				benchIssueDurable(b, o, g)
			})
		}
	}
}

func benchIssueDurable(b *testing.B, o Options, g int) {
	{
		{
			s := startService(b, o)
			in := input(1)
			before := s.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			var next atomic.Int64
			for range g {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := s.Issue(in); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			st := s.Stats()
			commits, recs := st.Commits-before.Commits, st.CommitRecords-before.CommitRecords
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "receipts/s")
			if commits > 0 {
				b.ReportMetric(float64(recs)/float64(commits), "records/fsync")
			}
		}
	}
}
