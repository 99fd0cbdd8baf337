package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/canon"
)

// Micro is one micro-benchmark: a function for testing.Benchmark (and for the
// Benchmark wrappers in micro_timing_test.go).
type Micro struct {
	Name string
	What string
	F    func(b *testing.B)
}

// Micros lists the in-process micro-benchmarks, in report order. They use only the
// packages' exported APIs; the bridge auth check, which is not exported, is run from
// the bridge package's own benchmark (see packageBenches).
func Micros() []Micro {
	return []Micro{
		{"actor-send", "protoactor Root.Send to an actor, until it has received every message", BenchActorSend},
		{"actor-request-future", "protoactor RequestFuture round trip to an echo actor", BenchActorRequestFuture},
		{"cache-get-hit", "result cache Get of a present key (query.Result value)", BenchCacheGet},
		{"cache-put", "result cache Put, 10k keys rotating through a full cache", BenchCachePut},
		{"cache-key", "query.CacheKey of a request (canonical encoding + SHA-256)", BenchCacheKey},
		{"canon-result", "canon.Marshal of a query result (~1.5 KB JSON)", BenchCanonResult},
		{"receipt-leaf", "receipt leaf: Body.Canonical + domain-separated SHA-256", BenchReceiptLeaf},
		{"receipt-batch-1024", "Merkle tree of 1024 leaves + one Ed25519 signature, per receipt", BenchReceiptBatch},
		{"receipt-single-ed25519", "one Ed25519 signature per receipt", BenchReceiptSingle},
		{"ledger-group-64", "ledger Commit from 64 writers, group commit (fsync shared)", BenchLedgerGroup},
		{"ledger-fsync-each-64", "ledger Commit from 64 writers, MaxBatch 1 (one fsync per episode)", BenchLedgerFsyncEach},
		{"metrics-counter", "VictoriaMetrics counter Inc, 2 goroutines contending", BenchMetricsCounter},
		{"metrics-prom-histogram", "VictoriaMetrics Prometheus (le) histogram Update, 2 goroutines", BenchMetricsHistogram},
	}
}

// MicroResult is one micro-benchmark's figures.
type MicroResult struct {
	Name        string  `json:"name"`
	What        string  `json:"what"`
	N           int     `json:"n"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
	// NsPerItem is ns per receipt or episode where an op covers several (else NsPerOp).
	NsPerItem float64 `json:"ns_per_item"`
	Source    string  `json:"source"` // "in-process" or the go test command
	Err       string  `json:"error,omitempty"`
}

type ping struct{}

// BenchActorSend measures fire-and-forget delivery: b.N Sends, timed until the
// actor has received them all.
func BenchActorSend(b *testing.B) {
	sys := discardSystem()
	b.Cleanup(sys.Shutdown)
	var got atomic.Int64
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*ping); ok {
			got.Add(1)
		}
	}))
	msg := &ping{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sys.Root.Send(pid, msg)
	}
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() < int64(b.N) && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	b.StopTimer()
	if got.Load() < int64(b.N) {
		b.Fatalf("actor received %d of %d", got.Load(), b.N)
	}
}

// BenchActorRequestFuture measures one request/response hop to an echo actor.
func BenchActorRequestFuture(b *testing.B) {
	sys := discardSystem()
	b.Cleanup(sys.Shutdown)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*ping); ok {
			c.Respond(c.Message())
		}
	}))
	msg := &ping{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sys.Root.RequestFuture(pid, msg, 5*time.Second).Result(); err != nil {
			b.Fatal(err)
		}
	}
}

// sampleResult is a cache-sized query result: an answer, three evidence passages and
// the scores, as a cache hit returns it.
func sampleResult() query.Result {
	snr, ihsan := 0.873, 0.951
	ev := make([]query.Evidence, 3)
	for i := range ev {
		ev[i] = query.Evidence{Source: fmt.Sprintf("RUNBOOK.md#%d", i),
			Excerpt: strings.Repeat("The bridge listens on loopback and signs every receipt. ", 5), Score: 0.5 + float64(i)/10}
	}
	return query.Result{QueryID: "q-0000000000001-00000000000000aa", Success: true,
		Response:      strings.Repeat("Receipts are sealed in batches with one Ed25519 signature. ", 4),
		ReasoningUsed: true, ReasoningDepth: 2, Thoughts: []string{"what is a receipt?", "how is it sealed?"},
		IhsanScore: &ihsan, SNRScore: &snr, SNROK: true, ProcessingTimeMs: 41.2, ModelUsed: "mock-small",
		GraphHash: strings.Repeat("ab", 32), ClaimTags: []string{"source:model_with_evidence", "verdict:approved"},
		Verdict: "APPROVED", Evidence: ev, ValidationIssues: []string{}}
}

func cacheKeys(n int) []cache.Key {
	keys := make([]cache.Key, n)
	for i := range keys {
		keys[i] = canon.Sum("bench-key", []byte(fmt.Sprint(i)))
	}
	return keys
}

// BenchCacheGet measures a hit in the sharded result cache.
func BenchCacheGet(b *testing.B) {
	s, err := cache.New[query.Result](cache.Options{})
	if err != nil {
		b.Fatal(err)
	}
	keys := cacheKeys(1024)
	r := sampleResult()
	for _, k := range keys {
		s.Put(k, r)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := s.Get(keys[i&1023]); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchCachePut measures Put into a full cache (every Put evicts).
func BenchCachePut(b *testing.B) {
	s, err := cache.New[query.Result](cache.Options{Capacity: 4096})
	if err != nil {
		b.Fatal(err)
	}
	keys := cacheKeys(10_000)
	r := sampleResult()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Put(keys[i%len(keys)], r)
		i++
	}
}

// BenchCacheKey measures the cache key of a typical request.
func BenchCacheKey(b *testing.B) {
	req := query.NewRequest("how are receipts sealed and verified?")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := query.CacheKey(&req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchCanonResult measures RFC 8785 encoding of a query result.
func BenchCanonResult(b *testing.B) {
	r := sampleResult()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := canon.Marshal(&r); err != nil {
			b.Fatal(err)
		}
	}
}

func sampleBody() receipt.Body {
	snr, ihsan := 0.873, 0.951
	return receipt.Body{ReceiptID: "rcpt-0000000000001-00000000000000aa", Version: receipt.Version,
		Kind: receipt.KindQuery, Status: receipt.StatusAccepted, Method: "POST /v1/query", NodeID: "node_3f2a9c1d0b7e4a61",
		QueryDigest: strings.Repeat("a1", 32), PolicyDigest: strings.Repeat("b2", 32), PayloadDigest: strings.Repeat("c3", 32),
		Origin:       []byte(`{"authority_source":"genesis_files","designation":"ephemeral_node","genesis_node":false}`),
		OriginDigest: strings.Repeat("d4", 32), SNR: &snr, Ihsan: &ihsan, GatePassed: true, Reason: "ok",
		DurationMS: 12.5, Timestamp: "2026-01-02T03:04:05.000000000Z"}
}

// BenchReceiptLeaf measures the per-receipt leaf: canonical body and its hash.
func BenchReceiptLeaf(b *testing.B) {
	body := sampleBody()
	b.ReportAllocs()
	for b.Loop() {
		c, err := body.Canonical()
		if err != nil {
			b.Fatal(err)
		}
		_ = receipt.LeafHash(c)
	}
}

const batchN = 1024

func benchSigner(b *testing.B) (*receipt.Ed25519Signer, [][32]byte) {
	s, err := receipt.GenerateSecret()
	if err != nil {
		b.Fatal(err)
	}
	leaves := make([][32]byte, batchN)
	for i := range leaves {
		leaves[i] = canon.Sum(receipt.DomainLeaf, []byte(fmt.Sprint(i)))
	}
	return receipt.NewEd25519Signer(s), leaves
}

// BenchReceiptBatch seals a batch of 1024 leaves: the RFC 6962 tree and one
// signature. ns/op is per batch; the report divides by 1024.
func BenchReceiptBatch(b *testing.B) {
	ed, leaves := benchSigner(b)
	b.ReportAllocs()
	seq := uint64(0)
	for b.Loop() {
		seq++
		t := receipt.NewTree(leaves)
		_ = ed.Sign(receipt.BatchMessage(seq, t.Root(), [32]byte{}))
	}
}

// BenchReceiptSingle signs one receipt leaf with Ed25519 (the per-receipt baseline).
func BenchReceiptSingle(b *testing.B) {
	ed, leaves := benchSigner(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = ed.Sign(receipt.SingleMessage(leaves[i%batchN]))
		i++
	}
}

// LedgerDir, when set, is where the ledger benchmarks put their folders ("" → the
// system temporary folder). fsync cost depends on the file system.
var LedgerDir = ""

func benchLedger(b *testing.B, opts ledger.Options) {
	dir, err := os.MkdirTemp(LedgerDir, "bizra-bench-sel-")
	if err != nil {
		b.Fatal(err)
	}
	sys := discardSystem()
	opts.System, opts.Dir, opts.Metrics = sys, dir, metrics.NewSet()
	l, err := ledger.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = l.Shutdown(ctx)
		sys.Shutdown()
		_ = os.RemoveAll(dir)
	})
	ep := ledger.Episode{Context: "how are receipts sealed and verified?", GraphHash: strings.Repeat("ab", 32),
		GraphNodeCount: 7, Actions: []ledger.Action{
			{Type: "gate", Description: "schema: passed", Success: true, DurationUS: 5},
			{Type: "reasoning", Description: "graph of thought: depth 2 of 3, 7 nodes", Success: true, DurationUS: 900},
			{Type: "inference", Description: "inference: llm (mock-small)", Success: true, DurationUS: 20500}},
		SNR: 0.87, Ihsan: 0.95, SNROK: true, TokensUsed: 120, ResponseSummary: "Receipts are sealed in batches."}
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := l.Commit(ctx, ep); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchLedgerGroup commits from 64 writers with group commit (the default).
func BenchLedgerGroup(b *testing.B) { benchLedger(b, ledger.Options{}) }

// BenchLedgerFsyncEach commits from 64 writers with one fsync per episode.
func BenchLedgerFsyncEach(b *testing.B) { benchLedger(b, ledger.Options{MaxBatch: 1}) }

// BenchMetricsCounter measures a counter increment under contention.
func BenchMetricsCounter(b *testing.B) {
	c := metrics.NewSet().GetOrCreateCounter(`sovereign_bench_total{route="query"}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

// BenchMetricsHistogram measures a Prometheus le-bucket histogram update under
// contention.
func BenchMetricsHistogram(b *testing.B) {
	h := metrics.NewSet().GetOrCreatePrometheusHistogramExt(`sovereign_bench_seconds{route="query"}`,
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := 0.0001
		for pb.Next() {
			h.Update(v)
			v *= 1.7
			if v > 20 {
				v = 0.0001
			}
		}
	})
}

// runMicro runs one micro-benchmark with testing.Benchmark.
func runMicro(m Micro) MicroResult {
	out := MicroResult{Name: m.Name, What: m.What, Source: "in-process testing.Benchmark"}
	var failed atomic.Bool
	r := testing.Benchmark(func(b *testing.B) {
		defer func() {
			if b.Failed() {
				failed.Store(true)
			}
		}()
		m.F(b)
	})
	if failed.Load() || r.N == 0 {
		out.Err = "benchmark failed"
		return out
	}
	out.N, out.NsPerOp = r.N, float64(r.T.Nanoseconds())/float64(r.N)
	out.BytesPerOp, out.AllocsPerOp = r.AllocedBytesPerOp(), r.AllocsPerOp()
	out.NsPerItem = out.NsPerOp
	if m.Name == "receipt-batch-1024" {
		out.NsPerItem = out.NsPerOp / batchN
	}
	return out
}
