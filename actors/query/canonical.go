package query

import (
	"github.com/bizra/bizra/internal/canon"
)

// The hot paths of a query (the cache key, and the receipt's query and payload
// digests) hash canonical encodings on every request, cache hits included. These
// AppendCanonical methods write the RFC 8785 bytes directly, member by member in
// sorted order; canonical_test.go pins each against the generic canon path.

// appendContext writes the request context ({} when empty) through the generic path:
// it is arbitrary client JSON.
func appendContext(dst []byte, ctx map[string]any) ([]byte, error) {
	if len(ctx) == 0 {
		return append(dst, '{', '}'), nil
	}
	b, err := canon.Marshal(ctx)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// identity is the part of a request that decides its answer: the cache key digests it.
type identity struct{ r *Request }

// AppendCanonical writes {context, max_depth, query, require_reasoning,
// require_validation, user_id}.
func (id identity) AppendCanonical(dst []byte) ([]byte, error) {
	var err error
	dst = canon.AppendKey(append(dst, '{'), "context", true)
	if dst, err = appendContext(dst, id.r.Context); err != nil {
		return dst, err
	}
	dst = canon.AppendKey(dst, "max_depth", false)
	if dst, err = canon.AppendNumber(dst, float64(id.r.MaxDepth)); err != nil {
		return dst, err
	}
	dst = canon.AppendString(canon.AppendKey(dst, "query", false), id.r.Query)
	dst = canon.AppendBool(canon.AppendKey(dst, "require_reasoning", false), id.r.RequireReasoning)
	dst = canon.AppendBool(canon.AppendKey(dst, "require_validation", false), id.r.RequireValidation)
	dst = canon.AppendString(canon.AppendKey(dst, "user_id", false), id.r.UserID)
	return append(dst, '}'), nil
}

// receiptParams is what a query receipt's query_digest digests: the request's identity
// plus its timeout.
type receiptParams struct{ r *Request }

// AppendCanonical writes {context, max_depth, query, require_reasoning,
// require_validation, timeout_ms, user_id}.
func (p receiptParams) AppendCanonical(dst []byte) ([]byte, error) {
	var err error
	dst = canon.AppendKey(append(dst, '{'), "context", true)
	if dst, err = appendContext(dst, p.r.Context); err != nil {
		return dst, err
	}
	dst = canon.AppendKey(dst, "max_depth", false)
	if dst, err = canon.AppendNumber(dst, float64(p.r.MaxDepth)); err != nil {
		return dst, err
	}
	dst = canon.AppendString(canon.AppendKey(dst, "query", false), p.r.Query)
	dst = canon.AppendBool(canon.AppendKey(dst, "require_reasoning", false), p.r.RequireReasoning)
	dst = canon.AppendBool(canon.AppendKey(dst, "require_validation", false), p.r.RequireValidation)
	dst = canon.AppendKey(dst, "timeout_ms", false)
	if dst, err = canon.AppendNumber(dst, float64(p.r.TimeoutMs)); err != nil {
		return dst, err
	}
	dst = canon.AppendString(canon.AppendKey(dst, "user_id", false), p.r.UserID)
	return append(dst, '}'), nil
}

// MarshalJSON keeps encoding/json (and so the generic canon path) in agreement with
// AppendCanonical.
func (p receiptParams) MarshalJSON() ([]byte, error) { return p.AppendCanonical(nil) }

func appendOptString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return canon.AppendString(dst, *s)
}

func appendOptNumber(dst []byte, f *float64) ([]byte, error) {
	if f == nil {
		return append(dst, "null"...), nil
	}
	return canon.AppendNumber(dst, *f)
}

func appendStringsOrNull(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	return canon.AppendStrings(dst, ss)
}

// appendHead writes the members from cached to model_used and the processing_time_ms key.
func (r *Result) appendHead(dst []byte) ([]byte, error) {
	var err error
	dst = canon.AppendBool(canon.AppendKey(append(dst, '{'), "cached", true), r.Cached)
	dst = appendStringsOrNull(canon.AppendKey(dst, "claim_tags", false), r.ClaimTags)
	dst = canon.AppendBool(canon.AppendKey(dst, "degraded", false), r.Degraded)
	dst = appendOptString(canon.AppendKey(dst, "degraded_reason", false), r.DegradedReason)
	dst = appendOptString(canon.AppendKey(dst, "error", false), r.Error)
	dst = canon.AppendKey(dst, "evidence", false)
	if r.Evidence == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range r.Evidence {
			e := &r.Evidence[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = canon.AppendString(canon.AppendKey(append(dst, '{'), "excerpt", true), e.Excerpt)
			if dst, err = canon.AppendNumber(canon.AppendKey(dst, "score", false), e.Score); err != nil {
				return dst, err
			}
			dst = canon.AppendString(canon.AppendKey(dst, "source", false), e.Source)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = canon.AppendString(canon.AppendKey(dst, "graph_hash", false), r.GraphHash)
	if dst, err = appendOptNumber(canon.AppendKey(dst, "ihsan_score", false), r.IhsanScore); err != nil {
		return dst, err
	}
	dst = canon.AppendString(canon.AppendKey(dst, "model_used", false), r.ModelUsed)
	dst = canon.AppendKey(dst, "processing_time_ms", false)
	return dst, nil
}

// AppendCanonical writes the result's contract fields (its JSON form) canonically: the
// head, the two fields a cache hit changes per request (processing_time_ms and
// query_id), then the tail. hitForm precomputes head and tail.
func (r *Result) AppendCanonical(dst []byte) ([]byte, error) {
	dst, err := r.appendHead(dst)
	if err != nil {
		return dst, err
	}
	dst, err = appendPerRequest(dst, r.ProcessingTimeMs, r.QueryID)
	if err != nil {
		return dst, err
	}
	return r.appendTail(dst)
}

// appendPerRequest writes processing_time_ms's value and the query_id member.
func appendPerRequest(dst []byte, ms float64, qid string) ([]byte, error) {
	dst, err := canon.AppendNumber(dst, ms)
	if err != nil {
		return dst, err
	}
	return canon.AppendString(canon.AppendKey(dst, "query_id", false), qid), nil
}

// appendTail writes the members after query_id, from reasoning_depth to the closing brace.
func (r *Result) appendTail(dst []byte) ([]byte, error) {
	var err error
	if dst, err = canon.AppendNumber(canon.AppendKey(dst, "reasoning_depth", false), float64(r.ReasoningDepth)); err != nil {
		return dst, err
	}
	dst = canon.AppendBool(canon.AppendKey(dst, "reasoning_used", false), r.ReasoningUsed)
	dst = canon.AppendString(canon.AppendKey(dst, "receipt_id", false), r.ReceiptID)
	dst = canon.AppendString(canon.AppendKey(dst, "response", false), r.Response)
	dst = canon.AppendBool(canon.AppendKey(dst, "snr_ok", false), r.SNROK)
	if dst, err = appendOptNumber(canon.AppendKey(dst, "snr_score", false), r.SNRScore); err != nil {
		return dst, err
	}
	dst = canon.AppendBool(canon.AppendKey(dst, "success", false), r.Success)
	dst = appendStringsOrNull(canon.AppendKey(dst, "thoughts", false), r.Thoughts)
	dst = canon.AppendString(canon.AppendKey(dst, "user_id", false), r.UserID)
	dst = canon.AppendBool(canon.AppendKey(dst, "validated", false), r.Validated)
	dst = appendStringsOrNull(canon.AppendKey(dst, "validation_issues", false), r.ValidationIssues)
	dst = canon.AppendBool(canon.AppendKey(dst, "validation_passed", false), r.ValidationPassed)
	dst = canon.AppendString(canon.AppendKey(dst, "verdict", false), r.Verdict)
	return append(dst, '}'), nil
}
