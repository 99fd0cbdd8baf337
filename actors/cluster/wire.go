package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/catalog"
)

// wireRequest is QueryCall.request: the request with its front door (Method is not
// part of query.Request's JSON).
type wireRequest struct {
	Request query.Request `json:"request"`
	Method  string        `json:"method"`
}

// wireResult is QueryAnswer.result: the contract fields and the HTTP view's detail.
type wireResult struct {
	Result query.Result `json:"result"`
	Detail query.Detail `json:"detail"`
}

func encodeRequest(req *query.Request) ([]byte, error) {
	return json.Marshal(wireRequest{Request: *req, Method: req.Method})
}

func decodeRequest(b []byte) (query.Request, error) {
	var w wireRequest
	if err := json.Unmarshal(b, &w); err != nil {
		return query.Request{}, catalog.WithDetail(query.ErrInvalidQuery, "cluster: undecodable request")
	}
	w.Request.Method = w.Method
	return w.Request, nil
}

func encodeResult(res *query.Result) ([]byte, error) {
	return json.Marshal(wireResult{Result: *res, Detail: res.Detail})
}

func decodeResult(b []byte) (query.Result, error) {
	var w wireResult
	if err := json.Unmarshal(b, &w); err != nil {
		return query.Result{}, fmt.Errorf("%w: undecodable result: %v", ErrRemote, err)
	}
	w.Result.Detail = w.Detail
	return w.Result, nil
}

// knownError returns the sentinel an owner's pipeline may fail with, by its code, so
// the member that took the request answers with the same public error.
func knownError(code string) (error, bool) {
	for _, e := range []*catalog.Error{query.ErrInvalidQuery, query.ErrOverloaded, query.ErrTimeout,
		query.ErrWorkerRestarted, query.ErrStopped, receipt.ErrOverloaded, receipt.ErrClosed, receipt.ErrStorage,
		ledger.ErrDiskFull, ledger.ErrStorage, ledger.ErrStorageUnavailable, ErrMemberLost} {
		if e.Code() == code {
			return e, true
		}
	}
	return nil, false
}

// errorAnswer renders an owner's failure for the wire: its code and public detail.
func errorAnswer(self string, err error) *QueryAnswer {
	pub := catalog.Lookup(err)
	return &QueryAnswer{AnsweredBy: self, ErrorCode: pub.Code, ErrorText: catalog.Detail(err)}
}

// answerError turns a wire failure back into the sentinel it was, with its detail.
func answerError(a *QueryAnswer) error {
	e, ok := knownError(a.ErrorCode)
	if !ok {
		e = catalog.WithDetail(ErrRemote, a.ErrorCode)
		return fmt.Errorf("member %s: %w", a.AnsweredBy, e)
	}
	if a.ErrorText != "" {
		e = catalog.WithDetail(e, a.ErrorText)
	}
	return fmt.Errorf("member %s: %w", a.AnsweredBy, e)
}
