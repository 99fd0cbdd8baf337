// Package bench is bizra's latency and throughput suite (`make bench`, operations.md
// Bench, issue 12). It owns nothing of the runtime: it assembles the whole runtime in
// process on 127.0.0.1:0 (StartStack: core, gateway with the OpenAI-compatible front,
// bridge, mock OpenAI backend), drives it at constant rates with vegeta as a library
// beside a bare fasthttp ceiling and a bare NDJSON echo server, runs micro-benchmarks
// with testing.Benchmark, and reports exact percentiles, ratios, the throughput
// frontier and issue 12's goals (Run, Report). README.md describes the phases.
//
// It accepts no messages and starts no actors of its own beyond the runtime it
// measures; every goroutine it starts is waited for before Run returns.
//
// # Concurrency
//
// Run is not safe to call concurrently with itself: while it runs it owns the process's
// CPU profiler, the standard logger's output and testing's -test.benchtime. A Stack is
// safe for concurrent use once StartStack returned; Shutdown is called once. The
// BenchXxx functions are ordinary benchmark bodies.
package bench
