package gateway

import (
	"context"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/query"
)

// QueryView is the api.md response of POST /v1/query, a view of query.Result.
type QueryView struct {
	ID             string          `json:"id"`
	Success        bool            `json:"success"`
	Answer         string          `json:"answer"`
	Error          *string         `json:"error"`
	ErrorCode      *string         `json:"error_code"`
	Quality        qualityView     `json:"quality"`
	Validation     validationView  `json:"validation"`
	Reasoning      reasoningView   `json:"reasoning"`
	Evidence       []evidenceView  `json:"evidence"`
	Timing         timingView      `json:"timing"`
	ModelUsed      string          `json:"model_used"`
	Degraded       bool            `json:"degraded"`
	DegradedReason *string         `json:"degraded_reason"`
	Cached         bool            `json:"cached"`
	GraphHash      string          `json:"graph_hash"`
	Citations      []citationView  `json:"citations"` // the source of each "[n]" marker in Answer
	Receipt        *receiptRefView `json:"receipt"`
	// Episode is the ledger episode this answer committed, null when none was
	// (rejected, not snr_ok, or a cache hit: a hit commits nothing of its own).
	Episode *query.EpisodeRef `json:"episode"`
	// AnsweredBy is the cluster member whose pipeline answered; absent on a
	// standalone node.
	AnsweredBy string `json:"answered_by,omitempty"`
}

type qualityView struct {
	SNR        *float64           `json:"snr"`
	Ihsan      *float64           `json:"ihsan"`
	SNROK      bool               `json:"snr_ok"`
	Verdict    string             `json:"verdict"`
	Components map[string]float64 `json:"components"`
}

type validationView struct {
	Performed bool     `json:"performed"`
	Passed    bool     `json:"passed"`
	Issues    []string `json:"issues"`
}

type reasoningView struct {
	Used     bool     `json:"used"`
	Depth    int      `json:"depth"`
	Thoughts []string `json:"thoughts"`
	Nodes    int      `json:"nodes"`
	Edges    int      `json:"edges"`
}

type evidenceView = query.Evidence

type citationView = query.Citation

type timingView struct {
	TotalMs    float64 `json:"total_ms"`
	OverheadMs float64 `json:"overhead_ms"`
	BackendMs  float64 `json:"backend_ms"`
}

type receiptRefView struct {
	ReceiptID string `json:"receipt_id"`
	LeafHash  string `json:"leaf_hash"`
	Status    string `json:"status"`
}

// ViewOf renders a result as the HTTP response body.
func ViewOf(r *query.Result) QueryView {
	v := QueryView{
		ID: r.QueryID, Success: r.Success, Answer: r.Response, Error: r.Error,
		Quality: qualityView{SNR: r.SNRScore, Ihsan: r.IhsanScore, SNROK: r.SNROK, Verdict: r.Verdict,
			Components: r.Detail.Components},
		Validation: validationView{Performed: r.Validated, Passed: r.ValidationPassed, Issues: nonNil(r.ValidationIssues)},
		Reasoning: reasoningView{Used: r.ReasoningUsed, Depth: r.ReasoningDepth, Thoughts: nonNil(r.Thoughts),
			Nodes: r.Detail.Nodes, Edges: r.Detail.Edges},
		Evidence:       r.Evidence,
		Timing:         timingView{TotalMs: r.Detail.TotalMs, OverheadMs: r.Detail.OverheadMs, BackendMs: r.Detail.BackendMs},
		ModelUsed:      r.ModelUsed,
		Degraded:       r.Degraded,
		DegradedReason: r.DegradedReason,
		Cached:         r.Cached,
		GraphHash:      r.GraphHash,
	}
	if v.Evidence == nil {
		v.Evidence = []query.Evidence{}
	}
	if v.Citations = r.Detail.Citations; v.Citations == nil {
		v.Citations = []query.Citation{}
	}
	if r.Detail.ErrorCode != "" {
		c := r.Detail.ErrorCode
		v.ErrorCode = &c
	}
	if r.ReceiptID != "" {
		v.Receipt = &receiptRefView{ReceiptID: r.ReceiptID, LeafHash: r.Detail.LeafHash, Status: r.Detail.ReceiptStatus}
	}
	v.Episode = r.Detail.Episode
	v.AnsweredBy = r.Detail.AnsweredBy
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) handleQuery(rc *reqCtx) {
	req, err := DecodeQuery(rc.PostBody())
	if err != nil {
		s.fail(rc, err)
		return
	}
	if req.UserID == "" {
		req.UserID = rc.userID
	}
	req.Method = "POST /v1/query"
	// The engine bounds the query by req.TimeoutMs itself (its deadline is the earlier
	// of that and ctx's; the cluster route does the same), so no per-request timer is needed here.
	res, err := s.opts.Core.Query(rc.withTrace(context.Background()), req)
	if err != nil {
		s.fail(rc, err)
		return
	}
	overhead := float64(time.Since(rc.start).Microseconds())/1000 - res.Detail.BackendMs
	if overhead < 0 {
		overhead = 0
	}
	rc.Response.Header.Set("X-Overhead-Ms", strconv.FormatFloat(overhead, 'f', 3, 64))
	bp := viewBufs.Get().(*[]byte)
	b := appendResponse((*bp)[:0], &res)
	s.writeRaw(rc, fasthttp.StatusOK, b) // SetBody copies
	if cap(b) <= 1<<20 {
		*bp = b[:0]
		viewBufs.Put(bp)
	}
}
