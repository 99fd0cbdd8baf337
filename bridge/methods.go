package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/canon"
	"github.com/bizra/bizra/internal/catalog"
)

// Method limits.
const (
	maxFilterChars    = 64
	maxSkillChars     = 128
	maxIntentChars    = 64
	maxTargetAppChars = 256
	// actuatorMinEntropy is the Shannon entropy (bits per character) below which an
	// actuator instruction is refused.
	actuatorMinEntropy = 3.5
	// ActuatorDomain is the digest domain of actuator_execute's content_hash:
	// SHA-256("bizra-actuator-v1:" ‖ UTF-8 code).
	ActuatorDomain = "bizra-actuator-v1"
)

// uptime returns seconds since Start, to the millisecond.
func (b *Bridge) uptime() float64 {
	return math.Round(b.opts.Now().Sub(b.started).Seconds()*1000) / 1000
}

func (b *Bridge) handlePing(_ context.Context, params json.RawMessage) (handlerOut, error) {
	if err := noParams(params); err != nil {
		return handlerOut{}, err
	}
	// The result keeps the member order the runbook shows operators
	// ({"status":"alive","uptime_s":...}); its receipt digests the same document
	// written canonically (members sorted, ECMAScript numbers), which needs no JCS
	// transform. TestPingResultCanonical pins the two against each other.
	uptime, count := b.uptime(), b.requestCount.Load()
	out := make([]byte, 0, 80)
	out = append(out, `{"status":"alive","uptime_s":`...)
	out = strconv.AppendFloat(out, uptime, 'f', -1, 64)
	out = append(out, `,"request_count":`...)
	out = strconv.AppendUint(out, count, 10)
	out = append(out, '}')
	doc := make([]byte, 0, 80)
	doc = append(doc, `{"request_count":`...)
	doc, err := canon.AppendNumber(doc, float64(count))
	if err != nil {
		return handlerOut{}, err
	}
	doc = append(doc, `,"status":"alive","uptime_s":`...)
	if doc, err = canon.AppendNumber(doc, uptime); err != nil {
		return handlerOut{}, err
	}
	return handlerOut{result: out, canonical: append(doc, '}')}, nil
}

type statusResult struct {
	Node          string         `json:"node"`
	Origin        map[string]any `json:"origin"`
	BridgeUptimeS float64        `json:"bridge_uptime_s"`
	RequestCount  uint64         `json:"request_count"`
	Health        HealthInfo     `json:"health"`
	Inference     InferenceInfo  `json:"inference"`
}

func (b *Bridge) handleStatus(ctx context.Context, params json.RawMessage) (handlerOut, error) {
	if err := noParams(params); err != nil {
		return handlerOut{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.RequestTimeout)
	defer cancel()
	st := b.opts.Core.Status(ctx)
	r := statusResult{Node: st.Role, Origin: st.Origin, BridgeUptimeS: b.uptime(),
		RequestCount: b.requestCount.Load(), Health: st.Health, Inference: st.Inference}
	if r.Node == "" {
		r.Node = b.opts.Role
	}
	if r.Origin == nil {
		r.Origin = map[string]any{}
	}
	return marshalOut(r)
}

// queryRequest validates sovereign_query's params with POST /v1/query's rules (api.md).
func queryRequest(params json.RawMessage) (query.Request, error) {
	m, err := paramObject(params)
	if err != nil {
		return query.Request{}, err
	}
	q, ok, err := str(m, "query", 0)
	if err != nil {
		return query.Request{}, err
	}
	if !ok {
		return query.Request{}, badParam("query", "required")
	}
	req := query.NewRequest(q)
	req.Method = methodNames[mQuery]
	ctxMap, _, err := object(m, "context")
	if err != nil {
		return req, err
	}
	req.Context = ctxMap
	if req.RequireReasoning, err = boolean(m, "require_reasoning", true); err != nil {
		return req, err
	}
	if req.RequireValidation, err = boolean(m, "require_validation", true); err != nil {
		return req, err
	}
	if req.MaxDepth, err = integer(m, "max_depth", query.DefaultMaxDepth); err != nil {
		return req, err
	}
	if req.TimeoutMs, err = integer(m, "timeout_ms", query.DefaultTimeoutMs); err != nil {
		return req, err
	}
	if req.UserID, _, err = str(m, "user_id", 0); err != nil {
		return req, err
	}
	// Ranges and sizes are the core's rules (query.Validate), the same for every
	// front door; the field it names becomes data.member.
	if err := query.Validate(&req); err != nil {
		var fe *query.FieldError
		if errors.As(err, &fe) {
			return req, badParam(fe.Field, fe.Rule)
		}
		return req, err
	}
	return req, nil
}

// queryResult is sovereign_query's result: the query result (core.md) plus
// episode, {sequence, hash} of the ledger episode the answer committed, null when
// none was (api.md, POST /v1/query).
type queryResult struct {
	*query.Result
	Episode *query.EpisodeRef `json:"episode"`
	// Citations carry the source of each "[n]" marker in response (api.md).
	Citations []query.Citation `json:"citations"`
}

func (b *Bridge) handleQuery(ctx context.Context, params json.RawMessage) (handlerOut, error) {
	req, err := queryRequest(params)
	if err != nil {
		return handlerOut{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(req.TimeoutMs)*time.Millisecond+time.Second)
	defer cancel()
	res, err := b.opts.Core.Query(ctx, req)
	if err != nil {
		return handlerOut{}, fmt.Errorf("sovereign_query: %w", err)
	}
	cites := res.Detail.Citations
	if cites == nil {
		cites = []query.Citation{}
	}
	out, err := marshalOut(queryResult{Result: &res, Episode: res.Detail.Episode, Citations: cites})
	if err == nil && !res.Success {
		out.rejectReason = res.Detail.ErrorCode
		if out.rejectReason == "" {
			out.rejectReason = "QUERY_FAILED"
		}
	}
	return out, err
}

type listSkillsResult struct {
	Skills []SkillInfo `json:"skills"`
	Count  int         `json:"count"`
}

func (b *Bridge) handleListSkills(ctx context.Context, params json.RawMessage) (handlerOut, error) {
	m, err := paramObject(params)
	if err != nil {
		return handlerOut{}, err
	}
	filter, _, err := str(m, "filter", maxFilterChars)
	if err != nil {
		return handlerOut{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.RequestTimeout)
	defer cancel()
	skills, err := b.opts.Core.ListSkills(ctx, filter)
	if err != nil {
		return handlerOut{}, fmt.Errorf("list_skills: %w", err)
	}
	if skills == nil {
		skills = []SkillInfo{}
	}
	for i := range skills {
		if skills[i].Tags == nil {
			skills[i].Tags = []string{}
		}
	}
	return marshalOut(listSkillsResult{Skills: skills, Count: len(skills)})
}

func (b *Bridge) handleInvokeSkill(ctx context.Context, params json.RawMessage) (handlerOut, error) {
	m, err := paramObject(params)
	if err != nil {
		return handlerOut{}, err
	}
	name, err := requiredStr(m, "skill", maxSkillChars)
	if err != nil {
		return handlerOut{}, err
	}
	inputs, _, err := object(m, "inputs")
	if err != nil {
		return handlerOut{}, err
	}
	if inputs == nil {
		inputs = map[string]any{}
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.RequestTimeout)
	defer cancel()
	res, err := b.opts.Core.InvokeSkill(ctx, name, inputs)
	if err != nil {
		return handlerOut{}, fmt.Errorf("invoke_skill %q: %w", name, err)
	}
	out, err := marshalOut(res)
	if err == nil && !res.Success {
		out.rejectReason = "SKILL_FAILED"
	}
	return out, err
}

// ValidReceiptID reports whether id has the receipt-id form
// `<br|qr|sk>-<unix_ms, 13 digits>-<16 lower-case hex>` (proof.md).
func ValidReceiptID(id string) bool {
	if len(id) != 2+1+13+1+16 {
		return false
	}
	switch id[:3] {
	case "br-", "qr-", "sk-":
	default:
		return false
	}
	for i := 3; i < 16; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	if id[16] != '-' {
		return false
	}
	for i := 17; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (b *Bridge) handleGetReceipt(_ context.Context, params json.RawMessage) (handlerOut, error) {
	m, err := paramObject(params)
	if err != nil {
		return handlerOut{}, err
	}
	id, err := requiredStr(m, "receipt_id", 64)
	if err != nil {
		return handlerOut{}, err
	}
	if !ValidReceiptID(id) {
		return handlerOut{}, badParam("receipt_id", "not a receipt id (<br|qr|sk>-<13 digits>-<16 hex>)")
	}
	raw, err := b.opts.Receipts.Get(id)
	if err != nil {
		switch catalog.Lookup(err).Kind {
		case catalog.NotFound:
			return handlerOut{}, fmt.Errorf("get_receipt %s: %w: %w", id, ErrReceiptNotFound, err)
		case catalog.InvalidInput:
			return handlerOut{}, badParam("receipt_id", "not a receipt id")
		}
		return handlerOut{}, fmt.Errorf("get_receipt %s: %w", id, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil || buf.Len() < 2 || buf.Bytes()[0] != '{' {
		return handlerOut{}, fmt.Errorf("get_receipt %s: stored receipt is not a JSON object", id)
	}
	return handlerOut{result: buf.Bytes()}, nil
}

type contextResult struct {
	SchemaVersion  string   `json:"schema_version"`
	ExpectedFields []string `json:"expected_fields"`
}

func (b *Bridge) handleGetContext(_ context.Context, params json.RawMessage) (handlerOut, error) {
	if err := noParams(params); err != nil {
		return handlerOut{}, err
	}
	return marshalOut(contextResult{SchemaVersion: "1.0",
		ExpectedFields: []string{"title", "class", "process", "structure", "hash"}})
}

type actuatorResult struct {
	Status            string  `json:"status"`
	Intent            string  `json:"intent"`
	TargetApp         *string `json:"target_app"`
	ContentHash       string  `json:"content_hash"`
	Entropy           float64 `json:"entropy"`
	InstructionLength int     `json:"instruction_length"`
}

// lowEntropyError refuses an actuator instruction; it wraps ErrLowEntropy.
type lowEntropyError struct{ entropy float64 }

func (e *lowEntropyError) Error() string {
	return fmt.Sprintf("%v: %.4f bits/char", ErrLowEntropy, e.entropy)
}
func (e *lowEntropyError) Unwrap() error { return ErrLowEntropy }

// ShannonEntropy returns the Shannon entropy of s in bits per character (Unicode
// code point); 0 for the empty string.
func ShannonEntropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := make(map[rune]int, 64)
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	h := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

func (b *Bridge) handleActuator(_ context.Context, params json.RawMessage) (handlerOut, error) {
	m, err := paramObject(params)
	if err != nil {
		return handlerOut{}, err
	}
	code, err := requiredStr(m, "code", 0)
	if err != nil {
		return handlerOut{}, err
	}
	intent, ok, err := str(m, "intent", maxIntentChars)
	if err != nil {
		return handlerOut{}, err
	}
	if !ok || strings.TrimSpace(intent) == "" {
		intent = "execute"
	}
	var target *string
	if t, ok, err := str(m, "target_app", maxTargetAppChars); err != nil {
		return handlerOut{}, err
	} else if ok {
		target = &t
	}
	h := ShannonEntropy(code)
	if h < actuatorMinEntropy {
		return handlerOut{}, &lowEntropyError{entropy: h}
	}
	return marshalOut(actuatorResult{
		Status:            "SEALED",
		Intent:            intent,
		TargetApp:         target,
		ContentHash:       canon.SumHex(ActuatorDomain, []byte(code)),
		Entropy:           h,
		InstructionLength: utf8.RuneCountInString(code),
	})
}

func marshalOut(v any) (handlerOut, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return handlerOut{}, errors.Join(errors.New("bridge: encode result"), err)
	}
	return handlerOut{result: b}, nil
}
