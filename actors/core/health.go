package core

import (
	"context"
	"runtime"
	"time"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/maintenance"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/index"
	"github.com/bizra/bizra/supervision/genesis"
)

// Health is the cheap readiness report of GET /v1/health.
type Health struct {
	Status  string         `json:"status"`
	Version string         `json:"version"`
	UptimeS float64        `json:"uptime_s"`
	Checks  map[string]any `json:"checks"`
}

// Health computes readiness without building the full status.
func (r *Runtime) Health() Health {
	h := Health{Version: r.opts.Version, Checks: map[string]any{}}
	if !r.start.IsZero() {
		h.UptimeS = roundTo(time.Since(r.start).Seconds(), 3)
	}
	switch r.state.Load() {
	case stateStarting:
		h.Status = "starting"
		return h
	case stateStopping, stateStopped:
		h.Status = "stopping"
		return h
	}
	// The ledger check fails while its writes fail (until a write succeeds again) and
	// while its chain is not verified (damage found or accepted at start).
	var ledgerOK bool
	if r.ledger != nil {
		st := r.ledger.Stats()
		ledgerOK = r.ledgerBootValid && st.Verified && st.Writable
	}
	inf := r.inferenceCheck()
	h.Checks["runtime"] = !r.escalated.Load()
	h.Checks["ledger"] = ledgerOK
	h.Checks["inference"] = inf
	var bridge any
	if f := r.bridgeStats.Load(); f != nil {
		bs := (*f)()
		bridge = bs.Enabled && bs.Listening
	}
	h.Checks["bridge"] = bridge
	h.Checks["genesis"] = r.genesisOK.Load()
	receiptsOK := r.receiptsCheck()
	h.Checks["receipts"] = receiptsOK
	// "ready" once the first scan since start completed; "loading", "indexing" (the
	// API serves meanwhile: degraded, not down) or "failed" (the last scan failed; the
	// last good index is served).
	idx := index.StateIndexing
	if r.lake != nil {
		idx = r.lake.State()
	}
	h.Checks["index"] = idx
	switch {
	case !r.genesisOK.Load():
		h.Status = "unhealthy"
	case !ledgerOK || inf != inference.StatusReady || bridge != true || r.escalated.Load():
		h.Status = "degraded"
	case !receiptsOK || idx != index.StateReady:
		h.Status = "degraded"
	default:
		h.Status = "healthy"
	}
	return h
}

// receiptsCheck is false while a receipt log (queries and skills, or bridge) fails to
// write, or when one held records that failed their integrity check at start
// (receipt.Service.LogOK); status.receipts says which.
func (r *Runtime) receiptsCheck() bool {
	for _, s := range []*receipt.Service{r.receipts, r.bridgeRcp} {
		if s != nil && !s.LogOK() {
			return false
		}
	}
	return r.receipts != nil
}

// inferenceCheck is "ready" when an external model is ready, "degraded" when only the
// embedded engine can answer (none configured, or every configured one down), and
// "offline" when the service is not running.
func (r *Runtime) inferenceCheck() string {
	if r.infer == nil {
		return inference.StatusOffline
	}
	for _, b := range r.infer.Status() {
		if b.Status == inference.StatusReady {
			return inference.StatusReady
		}
	}
	return inference.StatusDegraded
}

func roundTo(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

// indexStatus is /v1/status "index": the served index's statistics and the lake's
// progress (state, files done of total, unreadable files, the saved index).
type indexStatus struct {
	index.Stats
	index.Progress
}

// Status is the /v1/status document (api.md).
func (r *Runtime) Status(context.Context) map[string]any {
	h := r.Health()
	snap := r.qmetricsSnapshot()
	signer := r.receipts
	identity := map[string]any{"node_id": r.NodeID(), "version": r.opts.Version, "role": string(r.role),
		"origin": r.Origin()}
	if signer != nil {
		identity["signer_public_key"], identity["signer_key_id"] = signer.PublicKeyHex(), signer.KeyID()
	}
	mode := "STANDARD"
	if len(r.opts.Inference.Backends) == 0 {
		mode = "MINIMAL"
	}
	doc := map[string]any{
		"identity": identity,
		"state": map[string]any{"running": r.Ready(), "mode": mode,
			"started_at": r.start.UTC().Format(time.RFC3339)},
		"health": map[string]any{"status": h.Status, "score": r.HealthScore(), "readiness": h.Checks},
	}
	backend, model, status := inference.EmbeddedBackend, inference.EmbeddedModel, inference.StatusDegraded
	backends := []inference.BackendStatus{}
	if r.infer != nil {
		backend, model, status = r.infer.Primary()
		backends = r.infer.Status()
	}
	doc["inference"] = map[string]any{"backend": backend, "model": model, "status": status, "backends": backends}
	if r.cache != nil {
		doc["cache"] = map[string]any{"entries": r.cache.Len(), "capacity": r.cache.Capacity(),
			"enabled": r.cache.Enabled(), "hit_rate": roundTo(snap.CacheHitRate, 6)}
	}
	if r.ledger != nil {
		st := r.ledger.Stats()
		var writeErr, damage any
		if st.WriteError != "" {
			writeErr = st.WriteError
		}
		if d := r.ledger.Damage(); d != nil {
			damage = map[string]any{"file": d.File, "offset": d.Offset, "sequence": d.Sequence}
		}
		doc["ledger"] = map[string]any{"episodes": st.Episodes, "chain_head": st.ChainHead,
			"verified": st.Verified && r.ledgerBootValid, "segments": st.Segments, "disk_bytes": st.DiskBytes,
			"writable": st.Writable, "write_error": writeErr, "damage": damage}
	}
	if r.receipts != nil {
		st := r.receipts.Stats()
		failing, rejected, legacy := st.WriteFailing, st.RejectedRecords, st.LegacySegments
		if r.bridgeRcp != nil { // the bridge's own log counts in the log's health
			bs := r.bridgeRcp.Stats()
			failing, rejected, legacy = failing || bs.WriteFailing, rejected+bs.RejectedRecords, legacy+bs.LegacySegments
		}
		doc["receipts"] = map[string]any{"issued": st.Issued, "sealed_batches": st.SealedBatches, "pending": st.Pending,
			"mode": r.receipts.Mode(), "write_failing": failing, "rejected_records": rejected, "legacy_segments": legacy}
	}
	bridge := map[string]any{"listening": false, "address": nil, "connections": 0, "request_count": 0}
	if f := r.bridgeStats.Load(); f != nil {
		bs := (*f)()
		bridge = map[string]any{"listening": bs.Listening, "address": bs.Address, "connections": bs.Connections,
			"request_count": bs.RequestCount}
	}
	doc["bridge"] = bridge
	actors := map[string]any{}
	mbs := r.mailboxes.kinds()
	children := map[string]int{}
	if r.tree != nil {
		for _, s := range r.tree.list() {
			children[s.kind]++
		}
	}
	for _, k := range kinds {
		kind := k.Kind
		rs, esc := r.restarts.get(kind)
		a := map[string]any{"restarts": rs, "escalations": esc, "mailbox": nil,
			"parent": "core", "policy": string(k.Policy), "children": children[kind]}
		if mb := mbs[kind]; mb != nil {
			a["mailbox"] = mb.depth()
		}
		actors[kind] = a
	}
	doc["actors"] = actors
	doc["index"] = indexStatus{Stats: r.searcher().Stats(), Progress: r.IndexProgress()}
	var ms maintenance.Stats
	if r.maint != nil {
		ms = r.maint.Stats()
	}
	doc["metrics"] = map[string]any{
		"queries": map[string]any{"processed": snap.Processed, "succeeded": snap.Succeeded, "failed": snap.Failed,
			"avg_time_ms": roundTo(snap.AvgTimeMs, 3), "in_flight": snap.InFlight, "queued": snap.Queued},
		"reasoning":      map[string]any{"calls": r.reasoningCalls(), "avg_depth": roundTo(snap.AvgDepth, 3)},
		"validation":     map[string]any{"count": snap.Validated, "pass_rate": roundTo(snap.ValidationPassRate, 6)},
		"quality":        map[string]any{"ihsan_score": roundTo(snap.Ihsan, 6), "snr_score": roundTo(snap.SNR, 6), "window": snap.Scored},
		"autonomy":       map[string]any{"cycles": ms.Cycles, "decisions": ms.Decisions, "actions": ms.Actions},
		"uptime_seconds": roundTo(time.Since(r.start).Seconds(), 3),
	}
	return doc
}

func (r *Runtime) reasoningCalls() uint64 {
	if r.recorder == nil {
		return 0
	}
	return r.recorder.Calls()
}

// HealthScore is the status document's health.score: 0.4·snr + 0.4·ihsan +
// 0.2·success_rate (api.md), without building the rest of the status.
func (r *Runtime) HealthScore() float64 { return roundTo(r.qmetricsSnapshot().HealthScore, 6) }

func (r *Runtime) qmetricsSnapshot() query.Snapshot {
	if r.qmetrics == nil {
		return query.Snapshot{}
	}
	return r.qmetrics.Snapshot()
}

// startMaintenance builds the maintenance loop's tasks (core.md): expire and trim the
// cache, flush pending receipts, re-verify the genesis chain of a node0.
func (r *Runtime) startMaintenance(ctx context.Context) error {
	interval := r.opts.MaintenanceInterval
	tasks := []maintenance.Task{
		{Name: "cache_expiry", Check: func(context.Context) func(context.Context) error {
			if r.cache.Len() == 0 {
				return nil
			}
			return func(ctx context.Context) error {
				r.cache.Sweep() // the store locks its shards itself
				return nil
			}
		}},
		{Name: "memory_budget", Check: func(context.Context) func(context.Context) error {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc < r.opts.MemoryBudget || r.cache.Len() == 0 {
				return nil
			}
			return func(ctx context.Context) error {
				r.log.Warn("heap over budget; trimming the result cache", "heap_bytes", ms.HeapAlloc,
					"budget_bytes", r.opts.MemoryBudget)
				r.cache.Trim(r.cache.Len() / 2)
				return nil
			}
		}},
		{Name: "receipt_flush", Check: func(context.Context) func(context.Context) error {
			st := r.receipts.Stats()
			if st.Pending == 0 || st.LastSealAge < 2*r.batchInterval() {
				return nil
			}
			return func(ctx context.Context) error { return r.receipts.Flush(ctx) }
		}},
	}
	if r.role == genesis.RoleNode0 {
		// A genesis that no longer validates, or was swapped for another one, turns
		// health unhealthy (proof.md: the origin guard is fail-closed).
		tasks = append(tasks, maintenance.GenesisTask(maintenance.GenesisOptions{Guard: r.guard, Logger: r.log,
			Metrics: r.set, OnChange: func(v genesis.Verdict) {
				r.genesisOK.Store(v.OK)
				r.storeOrigin()
			}}))
	}
	l, err := maintenance.New(maintenance.Options{Logger: r.log, Interval: interval,
		Tasks: tasks, OnCycle: r.qmetrics.Cycle})
	if err != nil {
		return err
	}
	if err := l.Start(ctx); err != nil {
		return err
	}
	r.maint = l
	r.onStop("maintenance", l.Shutdown)
	return nil
}

func (r *Runtime) batchInterval() time.Duration {
	if r.opts.ReceiptBatch > 0 {
		return r.opts.ReceiptBatch
	}
	return 5 * time.Millisecond
}
