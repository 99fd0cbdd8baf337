package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"
)

// WrkProfileOptions configures WrkProfile. Zero values are documented per field.
type WrkProfileOptions struct {
	// Dir receives the wrk scripts and cpu-wrk-cache-hit.prof (required).
	Dir string
	// Duration of each wrk run; 0 → 8 s.
	Duration time.Duration
	// GoTool summarises the profile; "" leaves it unsummarised.
	GoTool string
}

// WrkProfileResult is what WrkProfile measured.
type WrkProfileResult struct {
	Runs []LoadRun // same-size bare handler, cache hit (profiled), health bare, health
	// CPUPerReq is this process's CPU time (user + system, getrusage) per answered
	// request of each run: a figure that a busy machine disturbs less than req/s.
	CPUPerReq []time.Duration
	Profile   Profile
	Commit    GroupCommit // the query receipt log's group commit during the cache-hit run
}

// WrkProfile starts the bench stack, fills the cache and drives cache-hit POST
// /v1/query with wrk (its own process, 64 connections) under the CPU profiler, so the
// profile holds the node's work only; the same-size bare handler and /v1/health are run
// beside it unprofiled. It needs wrk on PATH.
func WrkProfile(ctx context.Context, o WrkProfileOptions) (*WrkProfileResult, error) {
	wrk := wrkTool()
	if wrk == "" {
		return nil, errors.New("wrk is not installed")
	}
	if o.Dir == "" {
		return nil, errors.New("wrk profile: Dir is required")
	}
	if o.Duration <= 0 {
		o.Duration = 8 * time.Second
	}
	rig, err := startHitRig(ctx, StackOptions{MockLatency: 20 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	defer rig.close()
	st, ceil, hitBody := rig.st, rig.ceil, rig.hitBody
	jsonHdr := http.Header{"Content-Type": []string{"application/json"}}
	tHit := target{method: "POST", url: st.APIURL() + "/v1/query", header: jsonHdr, body: func(uint64) []byte { return hitBody }}
	tSame := target{method: "POST", url: "http://" + ceil.addr + sameSizePath, header: jsonHdr, body: func(uint64) []byte { return hitBody }}
	tCeil := target{method: "GET", url: "http://" + ceil.addr + "/v1/health"}
	tHealth := target{method: "GET", url: st.APIURL() + "/v1/health"}
	hits := st.Metrics.GetOrCreateCounter("sovereign_cache_hits_total")
	res := &WrkProfileResult{}
	cpu := func(f func() LoadRun) LoadRun {
		c0 := processCPU()
		r := f()
		var per time.Duration
		if r.OK > 0 {
			per = (processCPU() - c0) / time.Duration(r.OK)
		}
		res.Runs, res.CPUPerReq = append(res.Runs, r), append(res.CPUPerReq, per)
		return r
	}
	cpu(func() LoadRun { return wrkAttack(ctx, wrk, o.Dir, closedBareHit, tSame, ClosedConns, o.Duration, nil) })
	file := filepath.Join(o.Dir, "cpu-wrk-cache-hit.prof")
	rcp := st.Runtime.Receipts()
	commitFrom(&res.Commit, rcp.Stats(), true)
	if err := profiled(file, func() {
		cpu(func() LoadRun { return wrkAttack(ctx, wrk, o.Dir, closedHit, tHit, ClosedConns, o.Duration, hits.Get) })
	}); err != nil {
		return nil, fmt.Errorf("wrk profile: %w", err)
	}
	commitFrom(&res.Commit, rcp.Stats(), false)
	cpu(func() LoadRun { return wrkAttack(ctx, wrk, o.Dir, closedBare, tCeil, ClosedConns, o.Duration, nil) })
	cpu(func() LoadRun { return wrkAttack(ctx, wrk, o.Dir, closedHealth, tHealth, ClosedConns, o.Duration, nil) })
	res.Profile = summarize(ctx, o.GoTool, "POST /v1/query cache hit under wrk", file)
	return res, nil
}
