package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/bizra/bizra/internal/tracing"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/catalog"
)

var (
	errFakeInternal   = fmt.Errorf("core: secret internal detail /etc/shadow")
	errFakeOverloaded = catalog.New(catalog.Overloaded, "", "", "core: secret overload detail")
	errFakeNotFound   = catalog.New(catalog.NotFound, "RECEIPT_NOT_FOUND", "Receipt not found", "receipt: not found (secret)")
	errFakeBadID      = catalog.New(catalog.InvalidInput, "INVALID_RECEIPT_ID", "", "receipt: bad id (secret)")
)

// fakeCore answers from fixed data. Queries named "boom" fail internally, "busy"
// with a catalog Overloaded error, "block" wait for release or ctx, "panic" panic
// (so do list_skills with filter "panic" and invoke_skill of skill "panic").
type fakeCore struct {
	release chan struct{}
	queries atomic.Int64
	lastReq atomic.Pointer[query.Request]
	// lastTrace is the traceparent the last query's context carried ("" none).
	lastTrace atomic.Pointer[string]
}

func newFakeCore() *fakeCore { return &fakeCore{release: make(chan struct{})} }

func (f *fakeCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	f.queries.Add(1)
	f.lastReq.Store(&req)
	p, _ := tracing.FromContext(ctx)
	tp := p.String()
	f.lastTrace.Store(&tp)
	switch req.Query {
	case "boom":
		return query.Result{}, errFakeInternal
	case "busy":
		return query.Result{}, fmt.Errorf("admit: %w", errFakeOverloaded)
	case "disk refuses":
		return query.Result{}, fmt.Errorf("commit: %w", ledger.ErrStorageUnavailable)
	case "committed":
		return query.Result{QueryID: "q-2", Success: true, SNROK: true, Response: "recorded",
			Detail: query.Detail{Episode: &query.EpisodeRef{Sequence: 7, Hash: strings.Repeat("ab", 32)},
				Citations: []query.Citation{{Marker: 1, Source: "RUNBOOK.md#x:L3", Lines: [2]int{3, 4}, LineStart: 3, LineEnd: 4,
					Excerpt: "recorded"}}}}, nil
	case "panic":
		panic("fake core: query panicked")
	case "block":
		select {
		case <-f.release:
		case <-ctx.Done():
			return query.Result{}, ctx.Err()
		}
	}
	return query.Result{QueryID: "q-1", Success: true, Response: "answer to " + req.Query,
		Thoughts: []string{}, ValidationIssues: []string{}, ClaimTags: []string{}, Evidence: []query.Evidence{},
		Verdict: query.VerdictApproved, ModelUsed: "fake"}, nil
}

func (f *fakeCore) Status(context.Context) StatusInfo {
	return StatusInfo{
		Origin:    map[string]any{"designation": "ephemeral_node", "genesis_node": false, "hash_validated": false},
		Health:    HealthInfo{Status: "healthy", Score: 0.97},
		Inference: InferenceInfo{Available: true, Backend: "ollama", Model: "qwen", Status: "ready"},
	}
}

func (f *fakeCore) ListSkills(_ context.Context, filter string) ([]SkillInfo, error) {
	if filter == "panic" {
		var s []int
		_ = s[len(filter)] // a runtime error (index out of range), not just a panic(value)
	}
	if filter == "big" { // ~64 KiB per response (slow-client test)
		return []SkillInfo{{Name: "big", Description: strings.Repeat("x", 64<<10)}}, nil
	}
	all := []SkillInfo{
		{Name: "smart_files", Description: "files", Status: "active", Agent: "Executor", Tags: []string{"fs"}},
		{Name: "draft", Description: "wip", Status: "disabled", Agent: "Developer"},
	}
	var out []SkillInfo
	for _, s := range all {
		if filter == "" || s.Status == filter {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeCore) InvokeSkill(_ context.Context, name string, inputs map[string]any) (SkillResult, error) {
	if name == "panic" {
		var s []int
		_ = s[len(name)] // index out of range
	}
	if name == "missing" {
		return SkillResult{}, catalog.New(catalog.NotFound, "SKILL_NOT_FOUND", "Skill not found", "skills: not found")
	}
	r := SkillResult{Success: name != "failing", SkillName: name, Output: inputs, DurationMs: 1.5,
		ExecutionID: "ex-1", StartedAt: "2025-01-01T00:00:00Z", CompletedAt: "2025-01-01T00:00:01Z"}
	if !r.Success {
		e := "skill failed"
		r.Error = &e
	}
	return r, nil
}

// fakeReceipts keeps receipts in memory, in receipt-id form.
type fakeReceipts struct {
	mu     sync.Mutex
	seq    int
	byID   map[string]json.RawMessage
	issued []ReceiptInput
	fail   atomic.Bool
	panic  atomic.Bool // Issue panics
	// storage makes Issue fail like a receipt log that cannot be written.
	storage atomic.Bool
}

func newFakeReceipts() *fakeReceipts { return &fakeReceipts{byID: map[string]json.RawMessage{}} }

func (f *fakeReceipts) Issue(in ReceiptInput) (ReceiptRef, error) {
	if f.fail.Load() {
		return ReceiptRef{}, fmt.Errorf("receipt: disk full (secret)")
	}
	if f.panic.Load() {
		panic("fake receipts: issue panicked")
	}
	if f.storage.Load() {
		return ReceiptRef{}, fmt.Errorf("%w: disk full (secret)", receipt.ErrStorage)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("br-%013d-%016x", time.Now().UnixMilli(), f.seq)
	body, _ := json.Marshal(map[string]any{"receipt_id": id, "version": "bizra-receipt-v1", "kind": "bridge",
		"status": in.Status, "method": in.Method, "reason": in.Reason})
	f.byID[id] = body
	f.issued = append(f.issued, in)
	return ReceiptRef{ReceiptID: id, Status: in.Status}, nil
}

func (f *fakeReceipts) Get(id string) (json.RawMessage, error) {
	if !ValidReceiptID(id) {
		return nil, errFakeBadID
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.byID[id]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", id, errFakeNotFound)
	}
	return append(json.RawMessage(nil), r...), nil
}

func (f *fakeReceipts) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.issued)
}

func (f *fakeReceipts) last() ReceiptInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued[len(f.issued)-1]
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
