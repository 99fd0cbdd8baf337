# bizra — sovereign AI runtime. `make help` lists the targets.
GO      ?= go
BIN     := bin/bizra
PKGS    := ./...
FUZZTIME ?= 20s

.DEFAULT_GOAL := help

.PHONY: help build run test lint faults smoke bench bench-profile eval fuzz vet fmt

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/bizra
	$(GO) build -o $(BIN) ./cmd/bizra

run: build ## init the state folder (idempotent) and start the whole runtime on 127.0.0.1
	./$(BIN) init
	./$(BIN) run

test: vet lint ## vet, staticcheck, go mod tidy check, gofmt check and the full test suite with the race detector
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) test -race -count=1 -timeout 9m $(PKGS)
	@# alloc-budgets: testing.AllocsPerRun budgets run without -race, whose sync.Pool drops objects at random
	$(GO) test -count=1 -run 'AllocBudget' $(PKGS)

faults: ## the fault matrix alone: every TestFault* test (also part of make test)
	$(GO) test -race -count=1 -timeout 5m -run '^TestFault' $(PKGS)

smoke: build ## start a node on free ports, run the runbook's checks against it, stop it
	./.ci/smoke.sh

bench: ## the latency and throughput suite (BENCH_QUICK=1 for the 60 s version)
	$(GO) run ./bench/cmd/bizra-bench

eval: ## answer-quality evaluation over generated Go docs and man pages, side by side with SQLite FTS5 (docs/eval.md)
	$(GO) run ./bench/cmd/bizra-eval

bench-profile: ## CPU and allocation profiles of the query path (cache hit and miss) into .proof-forge/bench/
	mkdir -p .proof-forge/bench
	$(GO) test -c -o .proof-forge/bench/bench.test ./bench/
	for q in CacheHit Miss; do \
	  ./.proof-forge/bench/bench.test -test.run '^$$' -test.bench "^BenchmarkQuery$$q$$" -test.benchmem -test.benchtime 3s \
	    -test.cpuprofile .proof-forge/bench/cpu-query-$$q.prof -test.memprofile .proof-forge/bench/mem-query-$$q.prof || exit 1; \
	  $(GO) tool pprof -top -nodecount 20 .proof-forge/bench/cpu-query-$$q.prof | sed -n '1,26p'; \
	  $(GO) tool pprof -top -sample_index alloc_space -nodecount 12 .proof-forge/bench/mem-query-$$q.prof | sed -n '1,18p'; \
	done
	@echo "profiles: .proof-forge/bench/{cpu,mem}-query-{CacheHit,Miss}.prof (go tool pprof -http :0 <file>)"

fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

vet: ## go vet
	$(GO) vet $(PKGS)

lint: ## staticcheck (pinned in go.mod as a tool) and go mod tidy -diff
	$(GO) tool staticcheck $(PKGS)
	$(GO) mod tidy -diff

fmt: ## gofmt -w the tree
	gofmt -w $$(git ls-files '*.go')
