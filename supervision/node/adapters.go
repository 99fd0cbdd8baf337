package node

// The adapters from the assembled runtime (actors/core) to the narrow interfaces the
// front doors declare (gateway.Core and its routes, bridge.Core and bridge.Receipts).
// They live here, in the node builder, so that neither front door imports the
// runtime or the origin guard: each knows only the interface it serves.

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/actors/skills"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/supervision/genesis"
)

// GatewayCore adapts the assembled runtime (actors/core) to gateway.Core and to the
// optional routes (Routes). The runtime's components exist once it has started; every method
// looks them up at call time.
type GatewayCore struct{ RT *core.Runtime }

func (g GatewayCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	return g.RT.Query(ctx, req)
}

func (g GatewayCore) Health() gateway.Health {
	h := g.RT.Health()
	return gateway.Health{Status: h.Status, Version: h.Version, UptimeS: h.UptimeS, Checks: h.Checks}
}

func (g GatewayCore) Status(ctx context.Context) any { return g.RT.Status(ctx) }
func (g GatewayCore) WriteMetrics(w io.Writer)       { g.RT.WriteMetrics(w) }

// Routes returns the artifact, ledger, receipt, genesis and skill routes over the
// runtime (the OpenAI front is added by the caller).
func (g GatewayCore) Routes() gateway.Extra {
	return gateway.Extra{
		Artifacts: func(id string) ([]byte, bool) {
			a, ok := g.RT.Artifact(id)
			if !ok {
				return nil, false
			}
			b, err := json.Marshal(a)
			return b, err == nil
		},
		Ledger:   ledgerRoutes{g.RT},
		Receipts: receiptRoutes{g.RT},
		Genesis:  genesisRoutes{g.RT},
		Skills:   skillRoutes{g.RT},
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

// VerifyGenesis checks a posted genesis document on its own (hashes, node id,
// signature against the key it carries) and says whether it is this node's genesis:
// this_node is true only on a node0 whose genesis still checks and only for the
// document it validated at start (same genesis hash and identity key). A valid
// document of another node0 is "valid": true, "this_node": false. With no body the
// state folder's files are checked the same way.
func (g genesisRoutes) VerifyGenesis(body []byte) (any, error) {
	source := "request"
	if len(body) == 0 {
		source = "state_dir"
		ok, reason, this := g.stateVerdict()
		return map[string]any{"valid": ok, "reason": reason, "this_node": this, "source": source, "origin": g.rt.Origin()}, nil
	}
	ok, reason := genesis.VerifyDocument(body, nil)
	this := ok && g.rt.GenesisIsThisNode(body)
	return map[string]any{"valid": ok, "reason": reason, "this_node": this, "source": source, "origin": g.rt.Origin()}, nil
}

// public drops the state folder from a validation reason ("missing
// /var/lib/bizra/state/node0_genesis.json" becomes "missing node0_genesis.json"): the
// reason is for the client, the server's file system layout is not.
func (g genesisRoutes) public(reason string) string {
	dir := g.rt.StateDir()
	if dir == "" {
		return reason
	}
	return strings.ReplaceAll(reason, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator), "")
}

// stateVerdict validates the state folder's genesis files. On node0 they must also be
// the genesis this node validated at start: another node0's genesis copied over them
// validates on its own, but it is a swap (the origin guard's GENESIS_SWAPPED), not
// this node's genesis, and is neither valid nor served.
func (g genesisRoutes) stateVerdict() (ok bool, reason string, this bool) {
	ok, reason = genesis.Validate(g.rt.StateDir())
	if ok {
		if doc, err := genesis.ReadDocument(g.rt.StateDir()); err == nil {
			this = g.rt.GenesisIsThisNode(doc)
		}
		if !this && g.rt.Role() == string(genesis.RoleNode0) {
			ok = false
			reason = genesis.ReasonSwapped + ": the genesis on disk is not the one this node validated at start"
			if gok, greason := g.rt.GenesisStatus(); !gok && strings.HasPrefix(greason, genesis.ReasonSwapped) {
				reason = greason
			}
		}
	}
	return ok, g.public(reason), this
}

func (g genesisRoutes) GenesisHeader() (any, bool) {
	ok, reason, _ := g.stateVerdict()
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
		return nil, skills.WithPublicDetail(err)
	}
	out := map[string]any{"success": inv.Success, "skill_name": inv.SkillName, "output": inv.Output,
		"error": inv.Error, "duration_ms": inv.DurationMs, "execution_id": inv.ExecutionID,
		"started_at": inv.StartedAt, "completed_at": inv.CompletedAt}
	ref, err := issueSkillReceipt(s.rt.Receipts(), "POST /v1/skills/"+name+"/invoke", name, inputs, inv.Success, inv.ErrorText(), out, time.Since(t0))
	if err != nil {
		return nil, err // 503 STORAGE_UNAVAILABLE when the receipt log cannot be written
	}
	out["receipt"] = ref
	return out, nil
}

// issueSkillReceipt stores a receipt for a skill invocation (proof.md: kind skill) and
// returns it once it is durable; an error means no receipt and fails the request.
func issueSkillReceipt(rs *receipt.Service, method, name string, inputs map[string]any, ok bool, reason string, payload any, d time.Duration) (receipt.Ref, error) {
	if rs == nil {
		return receipt.Ref{}, core.ErrNotRunning
	}
	status := receipt.StatusAccepted
	if !ok {
		status = receipt.StatusRejected
	}
	return rs.Issue(receipt.Input{Kind: receipt.KindSkill, Status: status, Method: method,
		Params: map[string]any{"skill": name, "inputs": inputs}, Payload: payload, GatePassed: true,
		Reason: reason, Duration: d})
}

// BridgeCore adapts the assembled runtime (actors/core) to bridge.Core.
type BridgeCore struct{ RT *core.Runtime }

func (b BridgeCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	return b.RT.Query(ctx, req)
}

func (b BridgeCore) Status(context.Context) bridge.StatusInfo {
	h := b.RT.Health()
	info := bridge.StatusInfo{Role: b.RT.Role(), Origin: b.RT.OriginMap(),
		Health: bridge.HealthInfo{Status: h.Status, Score: b.RT.HealthScore()}}
	if inf := b.RT.Inference(); inf != nil {
		be, model, status := inf.Primary()
		info.Inference = bridge.InferenceInfo{Available: inf.Available(), Backend: be, Model: model, Status: status}
	}
	return info
}

func (b BridgeCore) ListSkills(ctx context.Context, filter string) ([]bridge.SkillInfo, error) {
	list, err := b.RT.Skills().List(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]bridge.SkillInfo, len(list))
	for i, s := range list {
		out[i] = bridge.SkillInfo{Name: s.Name, Description: s.Description, Status: s.Status, Agent: s.Agent, Tags: s.Tags}
	}
	return out, nil
}

func (b BridgeCore) InvokeSkill(ctx context.Context, name string, inputs map[string]any) (bridge.SkillResult, error) {
	inv, err := b.RT.Skills().Invoke(ctx, name, inputs)
	if err != nil {
		return bridge.SkillResult{}, skills.WithPublicDetail(err)
	}
	return bridge.SkillResult{Success: inv.Success, SkillName: inv.SkillName, Output: inv.Output, Error: inv.Error,
		DurationMs: inv.DurationMs, ExecutionID: inv.ExecutionID, StartedAt: inv.StartedAt, CompletedAt: inv.CompletedAt}, nil
}

// BridgeReceipts adapts the runtime's bridge receipt service to bridge.Receipts. It holds
// the runtime, not the service: the bridge is built before the runtime starts, and the
// service exists only once it has.
type BridgeReceipts struct{ RT *core.Runtime }

func (b BridgeReceipts) Issue(in bridge.ReceiptInput) (bridge.ReceiptRef, error) {
	s := b.RT.BridgeReceipts()
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

func (b BridgeReceipts) Get(id string) (json.RawMessage, error) {
	s := b.RT.BridgeReceipts()
	if s == nil {
		return nil, core.ErrNotRunning
	}
	return s.Get(id)
}
