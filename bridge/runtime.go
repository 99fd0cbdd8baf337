package bridge

import (
	"context"
	"encoding/json"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/actors/skills"
)

// RuntimeCore adapts the assembled runtime (actors/core) to Core.
type RuntimeCore struct{ RT *core.Runtime }

func (b RuntimeCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	return b.RT.Query(ctx, req)
}

func (b RuntimeCore) Status(context.Context) StatusInfo {
	h := b.RT.Health()
	info := StatusInfo{Role: b.RT.Role(), Origin: b.RT.OriginMap(),
		Health: HealthInfo{Status: h.Status, Score: b.RT.HealthScore()}}
	if inf := b.RT.Inference(); inf != nil {
		be, model, status := inf.Primary()
		info.Inference = InferenceInfo{Available: inf.Available(), Backend: be, Model: model, Status: status}
	}
	return info
}

func (b RuntimeCore) ListSkills(ctx context.Context, filter string) ([]SkillInfo, error) {
	list, err := b.RT.Skills().List(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]SkillInfo, len(list))
	for i, s := range list {
		out[i] = SkillInfo{Name: s.Name, Description: s.Description, Status: s.Status, Agent: s.Agent, Tags: s.Tags}
	}
	return out, nil
}

func (b RuntimeCore) InvokeSkill(ctx context.Context, name string, inputs map[string]any) (SkillResult, error) {
	inv, err := b.RT.Skills().Invoke(ctx, name, inputs)
	if err != nil {
		return SkillResult{}, skills.WithPublicDetail(err)
	}
	return SkillResult{Success: inv.Success, SkillName: inv.SkillName, Output: inv.Output, Error: inv.Error,
		DurationMs: inv.DurationMs, ExecutionID: inv.ExecutionID, StartedAt: inv.StartedAt, CompletedAt: inv.CompletedAt}, nil
}

// RuntimeReceipts adapts the runtime's bridge receipt service to Receipts. It holds
// the runtime, not the service: the bridge is built before the runtime starts, and the
// service exists only once it has.
type RuntimeReceipts struct{ RT *core.Runtime }

func (b RuntimeReceipts) Issue(in ReceiptInput) (ReceiptRef, error) {
	s := b.RT.BridgeReceipts()
	if s == nil {
		return ReceiptRef{}, core.ErrNotRunning
	}
	ref, err := s.Issue(receipt.Input{Kind: receipt.KindBridge, Status: in.Status, Method: in.Method,
		Params: in.Params, Payload: in.Payload, GatePassed: in.Status == receipt.StatusAccepted,
		Reason: in.Reason, Duration: in.Duration})
	if err != nil {
		return ReceiptRef{}, err
	}
	return ReceiptRef{ReceiptID: ref.ReceiptID, Status: ref.Status, LeafHash: ref.LeafHash}, nil
}

func (b RuntimeReceipts) Get(id string) (json.RawMessage, error) {
	s := b.RT.BridgeReceipts()
	if s == nil {
		return nil, core.ErrNotRunning
	}
	return s.Get(id)
}
