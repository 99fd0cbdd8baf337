package gateway

import (
	"sort"
	"strconv"
	"sync"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/canon"
)

// The query response is the gateway's hottest encoding (every cache hit writes one of
// several kilobytes). appendView writes the QueryView JSON directly; view_json_test.go
// pins it against encoding/json of ViewOf.

var viewBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func appendOptStr(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return canon.AppendString(dst, *s)
}

// appendFloat writes f as encoding/json does (shortest repr, exponent outside
// [1e-6, 1e21)). NaN and infinities cannot occur in a result (scores are clamped).
func appendFloat(dst []byte, f float64) []byte {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	dst = strconv.AppendFloat(dst, f, fmt, -1, 64)
	if fmt == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func appendOptFloat(dst []byte, f *float64) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	return appendFloat(dst, *f)
}

func appendStrs(dst []byte, ss []string) []byte {
	if len(ss) == 0 {
		return append(dst, '[', ']')
	}
	return canon.AppendStrings(dst, ss)
}

// appendView writes the api.md response of r.
func appendView(dst []byte, r *query.Result) []byte {
	dst = append(dst, `{"id":`...)
	dst = canon.AppendString(dst, r.QueryID)
	dst = appendViewA(dst, r)
	dst = appendTiming(dst, r)
	dst = appendViewB(dst, r)
	dst = canon.AppendBool(dst, r.Cached)
	dst = appendViewC(dst, r)
	return appendViewRefs(dst, r)
}

// viewParts are a cached result's response bytes that no hit changes (everything but
// id, timing, cached, receipt and episode), built on its first hit and kept in its
// query.EdgeSlot: a hit then writes bytes it already has plus a few fields.
type viewParts struct{ a, b, c []byte }

func newViewParts(r *query.Result) *viewParts {
	return &viewParts{a: appendViewA(nil, r), b: appendViewB(nil, r), c: appendViewC(nil, r)}
}

// appendHitView writes the response of a cache hit from its parts; the bytes equal
// appendView's (view_json_test.go).
func appendHitView(dst []byte, r *query.Result, p *viewParts) []byte {
	dst = append(dst, `{"id":`...)
	dst = canon.AppendString(dst, r.QueryID)
	dst = append(dst, p.a...)
	dst = appendTiming(dst, r)
	dst = append(dst, p.b...)
	dst = canon.AppendBool(dst, r.Cached)
	dst = append(dst, p.c...)
	return appendViewRefs(dst, r)
}

// appendResponse writes r's response body: from the parts kept in its cache entry on a
// hit (building them on the entry's first hit), else in full.
func appendResponse(dst []byte, r *query.Result) []byte {
	slot := r.EdgeCache()
	if slot == nil {
		return appendView(dst, r)
	}
	p, _ := slot.Load().(*viewParts)
	if p == nil {
		p = newViewParts(r)
		slot.Store(p)
	}
	return appendHitView(dst, r, p)
}

// appendViewA writes from the success member to the total_ms key.
func appendViewA(dst []byte, r *query.Result) []byte {
	dst = append(dst, `,"success":`...)
	dst = canon.AppendBool(dst, r.Success)
	dst = append(dst, `,"answer":`...)
	dst = canon.AppendString(dst, r.Response)
	dst = append(dst, `,"error":`...)
	dst = appendOptStr(dst, r.Error)
	dst = append(dst, `,"error_code":`...)
	if r.Detail.ErrorCode == "" {
		dst = append(dst, "null"...)
	} else {
		dst = canon.AppendString(dst, r.Detail.ErrorCode)
	}
	dst = append(dst, `,"quality":{"snr":`...)
	dst = appendOptFloat(dst, r.SNRScore)
	dst = append(dst, `,"ihsan":`...)
	dst = appendOptFloat(dst, r.IhsanScore)
	dst = append(dst, `,"snr_ok":`...)
	dst = canon.AppendBool(dst, r.SNROK)
	dst = append(dst, `,"verdict":`...)
	dst = canon.AppendString(dst, r.Verdict)
	dst = append(dst, `,"components":`...)
	if r.Detail.Components == nil {
		dst = append(dst, "null"...)
	} else {
		keys := make([]string, 0, len(r.Detail.Components))
		for k := range r.Detail.Components {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = canon.AppendString(dst, k)
			dst = append(dst, ':')
			dst = appendFloat(dst, r.Detail.Components[k])
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `},"validation":{"performed":`...)
	dst = canon.AppendBool(dst, r.Validated)
	dst = append(dst, `,"passed":`...)
	dst = canon.AppendBool(dst, r.ValidationPassed)
	dst = append(dst, `,"issues":`...)
	dst = appendStrs(dst, r.ValidationIssues)
	dst = append(dst, `},"reasoning":{"used":`...)
	dst = canon.AppendBool(dst, r.ReasoningUsed)
	dst = append(dst, `,"depth":`...)
	dst = strconv.AppendInt(dst, int64(r.ReasoningDepth), 10)
	dst = append(dst, `,"thoughts":`...)
	dst = appendStrs(dst, r.Thoughts)
	dst = append(dst, `,"nodes":`...)
	dst = strconv.AppendInt(dst, int64(r.Detail.Nodes), 10)
	dst = append(dst, `,"edges":`...)
	dst = strconv.AppendInt(dst, int64(r.Detail.Edges), 10)
	dst = append(dst, `},"evidence":[`...)
	for i := range r.Evidence {
		e := &r.Evidence[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"source":`...)
		dst = canon.AppendString(dst, e.Source)
		dst = append(dst, `,"excerpt":`...)
		dst = canon.AppendString(dst, e.Excerpt)
		dst = append(dst, `,"score":`...)
		dst = appendFloat(dst, e.Score)
		dst = append(dst, '}')
	}
	return append(dst, `],"timing":{"total_ms":`...)
}

// appendTiming writes the timing values (total_ms's value to backend_ms's).
func appendTiming(dst []byte, r *query.Result) []byte {
	dst = appendFloat(dst, r.Detail.TotalMs)
	dst = append(dst, `,"overhead_ms":`...)
	dst = appendFloat(dst, r.Detail.OverheadMs)
	dst = append(dst, `,"backend_ms":`...)
	return appendFloat(dst, r.Detail.BackendMs)
}

// appendViewB writes from the end of timing to the cached key.
func appendViewB(dst []byte, r *query.Result) []byte {
	dst = append(dst, `},"model_used":`...)
	dst = canon.AppendString(dst, r.ModelUsed)
	dst = append(dst, `,"degraded":`...)
	dst = canon.AppendBool(dst, r.Degraded)
	dst = append(dst, `,"degraded_reason":`...)
	dst = appendOptStr(dst, r.DegradedReason)
	return append(dst, `,"cached":`...)
}

// appendViewC writes the graph_hash and citations members and the receipt key.
func appendViewC(dst []byte, r *query.Result) []byte {
	dst = append(dst, `,"graph_hash":`...)
	dst = canon.AppendString(dst, r.GraphHash)
	dst = append(dst, `,"citations":[`...)
	for i := range r.Detail.Citations {
		c := &r.Detail.Citations[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"marker":`...)
		dst = strconv.AppendInt(dst, int64(c.Marker), 10)
		dst = append(dst, `,"source":`...)
		dst = canon.AppendString(dst, c.Source)
		dst = append(dst, `,"lines":[`...)
		dst = strconv.AppendInt(dst, int64(c.Lines[0]), 10)
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, int64(c.Lines[1]), 10)
		dst = append(dst, `],"line_start":`...)
		dst = strconv.AppendInt(dst, int64(c.LineStart), 10)
		dst = append(dst, `,"line_end":`...)
		dst = strconv.AppendInt(dst, int64(c.LineEnd), 10)
		dst = append(dst, `,"excerpt":`...)
		dst = canon.AppendString(dst, c.Excerpt)
		dst = append(dst, '}')
	}
	return append(dst, `],"receipt":`...)
}

// appendViewRefs writes the receipt value, the episode member, answered_by (cluster
// members only) and the closing brace.
func appendViewRefs(dst []byte, r *query.Result) []byte {
	if r.ReceiptID == "" {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"receipt_id":`...)
		dst = canon.AppendString(dst, r.ReceiptID)
		dst = append(dst, `,"leaf_hash":`...)
		dst = canon.AppendString(dst, r.Detail.LeafHash)
		dst = append(dst, `,"status":`...)
		dst = canon.AppendString(dst, r.Detail.ReceiptStatus)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"episode":`...)
	if ep := r.Detail.Episode; ep == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"sequence":`...)
		dst = strconv.AppendUint(dst, ep.Sequence, 10)
		dst = append(dst, `,"hash":`...)
		dst = canon.AppendString(dst, ep.Hash)
		dst = append(dst, '}')
	}
	if r.Detail.AnsweredBy != "" { // a cluster member's answer: which member (actors/cluster)
		dst = append(dst, `,"answered_by":`...)
		dst = canon.AppendString(dst, r.Detail.AnsweredBy)
	}
	return append(dst, '}')
}
