package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/bizra/bizra/actors/catalog"
	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/supervision/genesis"
)

// gatewayCore adapts the runtime to gateway.Core and the gateway's optional routes.
type gatewayCore struct{ rt *core.Runtime }

func (g gatewayCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	return g.rt.Query(ctx, req)
}

func (g gatewayCore) Health() gateway.Health {
	h := g.rt.Health()
	return gateway.Health{Status: h.Status, Version: h.Version, UptimeS: h.UptimeS, Checks: h.Checks}
}

func (g gatewayCore) Status(ctx context.Context) any { return g.rt.Status(ctx) }
func (g gatewayCore) WriteMetrics(w io.Writer)       { g.rt.WriteMetrics(w) }

func (g gatewayCore) routes() gateway.Extra {
	return gateway.Extra{
		Artifacts: func(id string) ([]byte, bool) {
			a, ok := g.rt.Artifact(id)
			if !ok {
				return nil, false
			}
			b, err := json.Marshal(a)
			return b, err == nil
		},
		Ledger:   ledgerRoutes{g.rt},
		Receipts: receiptRoutes{g.rt},
		Genesis:  genesisRoutes{g.rt},
		Skills:   skillRoutes{g.rt},
	}
}

type ledgerRoutes struct{ rt *core.Runtime }

func (l ledgerRoutes) Episodes(limit, offset int) (any, error) {
	return l.rt.Ledger().Episodes(limit, offset), nil
}
func (l ledgerRoutes) Episode(hash string) (any, error) { return l.rt.Ledger().ByHash(hash) }
func (l ledgerRoutes) Retrieve(q string, k int) (any, error) {
	res := l.rt.Ledger().Retrieve(q, k)
	return map[string]any{"query": q, "top_k": k, "count": len(res), "results": res}, nil
}
func (l ledgerRoutes) Verify() any { return l.rt.Ledger().Verify() }

type receiptRoutes struct{ rt *core.Runtime }

// Receipt looks the id up in the query log, then the bridge log, by its prefix.
func (r receiptRoutes) Receipt(id string) (json.RawMessage, error) {
	if kind, ok := receipt.KindOfID(id); ok && kind == receipt.KindBridge {
		return r.rt.BridgeReceipts().Get(id)
	}
	return r.rt.Receipts().Get(id)
}

func (r receiptRoutes) VerifyReceipt(body []byte) any {
	v := receipt.Verify(body)
	return map[string]any{"valid": v.Valid, "reason": v.Reason, "key_id": v.KeyID,
		"trusted": v.Valid && v.KeyID == r.rt.Receipts().KeyID()}
}

type genesisRoutes struct{ rt *core.Runtime }

// errBadGenesisDoc is a POST /v1/verify/genesis body that is not a genesis document.
var errBadGenesisDoc = catalog.New(catalog.InvalidInput, "INVALID_GENESIS", "Body is not a genesis document", "verify genesis: bad body")

// VerifyGenesis checks a posted genesis document on its own (hashes, node id,
// signature against the key it carries) and says whether it is this node's genesis.
func (g genesisRoutes) VerifyGenesis(body []byte) (any, error) {
	if len(body) == 0 {
		ok, reason := genesis.Validate(g.rt.StateDir())
		return map[string]any{"valid": ok, "reason": reason, "source": "state_dir", "origin": g.rt.Origin()}, nil
	}
	ok, reason := genesis.VerifyDocument(body, nil)
	return map[string]any{"valid": ok, "reason": reason, "source": "request", "origin": g.rt.Origin()}, nil
}

func (g genesisRoutes) GenesisHeader() (any, bool) {
	ok, reason := genesis.Validate(g.rt.StateDir())
	doc := map[string]any{"valid": ok, "reason": reason, "role": g.rt.Role(), "origin": g.rt.Origin()}
	if ok {
		if s, err := genesis.Show(g.rt.StateDir()); err == nil {
			doc["genesis"] = s
		}
	}
	return doc, ok
}

type skillRoutes struct{ rt *core.Runtime }

func (s skillRoutes) ListSkills(ctx context.Context, filter string) (any, error) {
	list, err := s.rt.Skills().List(ctx, filter)
	if err != nil {
		return nil, err
	}
	return map[string]any{"skills": list, "count": len(list)}, nil
}

func (s skillRoutes) InvokeSkill(ctx context.Context, name string, inputs map[string]any) (any, error) {
	t0 := time.Now()
	inv, err := s.rt.Skills().Invoke(ctx, name, inputs)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"success": inv.Success, "skill_name": inv.SkillName, "output": inv.Output,
		"error": inv.Error, "duration_ms": inv.DurationMs, "execution_id": inv.ExecutionID,
		"started_at": inv.StartedAt, "completed_at": inv.CompletedAt}
	out["receipt"] = issueSkillReceipt(s.rt.Receipts(), "POST /v1/skills/"+name+"/invoke", name, inputs, inv.Success, inv.ErrorText(), out, time.Since(t0))
	return out, nil
}

// issueSkillReceipt stores a receipt for a skill invocation (proof.md: kind skill).
func issueSkillReceipt(rs *receipt.Service, method, name string, inputs map[string]any, ok bool, reason string, payload any, d time.Duration) any {
	status := receipt.StatusAccepted
	if !ok {
		status = receipt.StatusRejected
	}
	ref, err := rs.Issue(receipt.Input{Kind: receipt.KindSkill, Status: status, Method: method,
		Params: map[string]any{"skill": name, "inputs": inputs}, Payload: payload, GatePassed: true,
		Reason: reason, Duration: d})
	if err != nil {
		return nil
	}
	return ref
}

// bridgeCore adapts the runtime to bridge.Core.
type bridgeCore struct{ rt *core.Runtime }

func (b bridgeCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	return b.rt.Query(ctx, req)
}

func (b bridgeCore) Status(ctx context.Context) bridge.StatusInfo {
	h := b.rt.Health()
	st := b.rt.Status(ctx)
	score := 0.0
	if hm, ok := st["health"].(map[string]any); ok {
		score, _ = hm["score"].(float64)
	}
	o := b.rt.Origin()
	ob, _ := json.Marshal(o)
	var om map[string]any
	_ = json.Unmarshal(ob, &om)
	info := bridge.StatusInfo{Role: b.rt.Role(), Origin: om, Health: bridge.HealthInfo{Status: h.Status, Score: score}}
	if inf := b.rt.Inference(); inf != nil {
		be, model, status := inf.Primary()
		info.Inference = bridge.InferenceInfo{Available: inf.Available(), Backend: be, Model: model, Status: status}
	}
	return info
}

func (b bridgeCore) ListSkills(ctx context.Context, filter string) ([]bridge.SkillInfo, error) {
	list, err := b.rt.Skills().List(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]bridge.SkillInfo, len(list))
	for i, s := range list {
		out[i] = bridge.SkillInfo{Name: s.Name, Description: s.Description, Status: s.Status, Agent: s.Agent, Tags: s.Tags}
	}
	return out, nil
}

func (b bridgeCore) InvokeSkill(ctx context.Context, name string, inputs map[string]any) (bridge.SkillResult, error) {
	inv, err := b.rt.Skills().Invoke(ctx, name, inputs)
	if err != nil {
		return bridge.SkillResult{}, err
	}
	return bridge.SkillResult{Success: inv.Success, SkillName: inv.SkillName, Output: inv.Output, Error: inv.Error,
		DurationMs: inv.DurationMs, ExecutionID: inv.ExecutionID, StartedAt: inv.StartedAt, CompletedAt: inv.CompletedAt}, nil
}

// bridgeReceipts adapts the runtime's bridge receipt service to bridge.Receipts. It
// holds the runtime, not the service: the bridge is built before the runtime starts,
// and the service exists only once it has.
type bridgeReceipts struct{ rt *core.Runtime }

func (b bridgeReceipts) Issue(in bridge.ReceiptInput) (bridge.ReceiptRef, error) {
	s := b.rt.BridgeReceipts()
	if s == nil {
		return bridge.ReceiptRef{}, core.ErrNotRunning
	}
	ref, err := s.Issue(receipt.Input{Kind: receipt.KindBridge, Status: in.Status, Method: in.Method,
		Params: in.Params, Payload: in.Payload, GatePassed: in.Status == receipt.StatusAccepted,
		Reason: in.Reason, Duration: in.Duration})
	if err != nil {
		return bridge.ReceiptRef{}, err
	}
	return bridge.ReceiptRef{ReceiptID: ref.ReceiptID, Status: ref.Status, LeafHash: ref.LeafHash}, nil
}

func (b bridgeReceipts) Get(id string) (json.RawMessage, error) {
	s := b.rt.BridgeReceipts()
	if s == nil {
		return nil, core.ErrNotRunning
	}
	return s.Get(id)
}

// catalogLookup renders an error's public message (never internal text).
func catalogLookup(err error) string {
	p := catalog.Lookup(err)
	return p.Code + ": " + p.Message
}
