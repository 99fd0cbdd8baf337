package bench

import "testing"

// The in-process micro-benchmarks of the report, as Go benchmarks:
//
//	go test -run '^$' -bench . -benchmem ./bench/
func BenchmarkActorSend(b *testing.B)            { BenchActorSend(b) }
func BenchmarkActorRequestFuture(b *testing.B)   { BenchActorRequestFuture(b) }
func BenchmarkCacheGet(b *testing.B)             { BenchCacheGet(b) }
func BenchmarkCachePut(b *testing.B)             { BenchCachePut(b) }
func BenchmarkCacheKey(b *testing.B)             { BenchCacheKey(b) }
func BenchmarkCanonResult(b *testing.B)          { BenchCanonResult(b) }
func BenchmarkReceiptLeaf(b *testing.B)          { BenchReceiptLeaf(b) }
func BenchmarkReceiptBatch1024(b *testing.B)     { BenchReceiptBatch(b) }
func BenchmarkReceiptSingleEd25519(b *testing.B) { BenchReceiptSingle(b) }
func BenchmarkLedgerGroup64(b *testing.B)        { BenchLedgerGroup(b) }
func BenchmarkLedgerFsyncEach64(b *testing.B)    { BenchLedgerFsyncEach(b) }
func BenchmarkMetricsCounter(b *testing.B)       { BenchMetricsCounter(b) }
func BenchmarkMetricsPromHistogram(b *testing.B) { BenchMetricsHistogram(b) }
