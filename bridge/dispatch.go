package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/bizra/bizra/internal/canon"
	"time"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/tracing"
)

// Methods (bridge.md, Methods). Indexes double as metric label indexes.
const (
	mPing = iota
	mStatus
	mQuery
	mListSkills
	mInvokeSkill
	mGetReceipt
	mGetContext
	mActuator
	numMethods
	mUnknown = numMethods
)

var methodNames = [numMethods]string{
	"ping", "status", "sovereign_query", "list_skills", "invoke_skill",
	"get_receipt", "get_context", "actuator_execute",
}

// Methods returns the JSON-RPC methods the bridge serves.
func Methods() []string { return append([]string(nil), methodNames[:]...) }

func methodIndex(name string) int {
	for i, n := range methodNames {
		if n == name {
			return i
		}
	}
	return mUnknown
}

// handlerOut is a handler's success: a JSON object, and optionally a reason to issue
// the receipt as rejected although the call itself succeeded (success: false).
type handlerOut struct {
	result       []byte
	rejectReason string
	// canonical, when set, is result written canonically (RFC 8785): the receipt
	// digests it as is instead of transforming result.
	canonical []byte
}

type handlerFunc func(b *Bridge, ctx context.Context, params json.RawMessage) (handlerOut, error)

var handlers = [numMethods]handlerFunc{
	mPing: (*Bridge).handlePing, mStatus: (*Bridge).handleStatus, mQuery: (*Bridge).handleQuery,
	mListSkills: (*Bridge).handleListSkills, mInvokeSkill: (*Bridge).handleInvokeSkill,
	mGetReceipt: (*Bridge).handleGetReceipt, mGetContext: (*Bridge).handleGetContext,
	mActuator: (*Bridge).handleActuator,
}

// maxReceiptMethod bounds the method name written into a receipt.
const maxReceiptMethod = 256

// handleLine runs the whole pipeline for one request line and returns the response
// line. It does not retain line.
func (b *Bridge) handleLine(c *conn, line []byte, start time.Time) (resp []byte) {
	fr, perr := decodeFrame(line)
	if perr != nil {
		oc := outcomeInvalidRequest
		if perr.code == CodeParseError {
			oc = outcomeParseError
		}
		b.countUnauth(oc, perr.data.Code, c.remote)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, perr, nil)
	}
	mi := methodIndex(fr.method)
	now := b.opts.Now()
	nonce, fail := b.auth.authenticate(&fr, now.UnixMilli())
	if fail != nil {
		b.m.authFail[fail.reason].Inc()
		b.countUnauthMethod(mi, outcomeAuthFailed, fail.err.data.Code, c.remote)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, fail.err, nil)
	}
	// Authenticated: from here on every line is in the access log.
	var acc accessRec
	if b.access != nil {
		defer func() { b.logAccess(c, mi, len(line), len(resp), start, &acc) }()
	}

	// Step 5: rate limit (per connection, then global).
	ok, retry := c.bucket.take(now)
	if ok && b.global != nil {
		ok, retry = b.global.take(now)
	}
	if !ok {
		b.m.rateLimited.Inc()
		e := *errRateLimit
		e.data.RetryAfterMs = retryMs(retry)
		var ref *ReceiptRef
		// One rejected receipt per nonce: a retry or a replay of a rate-limited
		// request gets none, so nobody can turn a captured line into disk writes.
		if b.nonces.markRateLimited(nonce, now) {
			ref, _ = b.issue(&fr, ReceiptRejected, e.data.Code, nil, start)
		}
		acc.set(outcomeRateLimited, e.data.Code, ref)
		b.m.request(mi, outcomeRateLimited)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, &e, ref)
	}

	// Step 6: nonce, recorded only now.
	switch b.nonces.use(nonce, now) {
	case nonceReplay:
		acc.set(outcomeReplay, failReplay.err.data.Code, nil)
		b.m.authFail[failReplay.reason].Inc()
		b.countUnauthMethod(mi, outcomeReplay, failReplay.err.data.Code, c.remote)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, failReplay.err, nil)
	case nonceFull:
		acc.set(outcomeBusy, errNonceStore.data.Code, nil)
		b.m.request(mi, outcomeBusy)
		b.log.Warn("bridge nonce store full; refusing requests", "max", b.opts.NonceStoreMax)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, errNonceStore, nil)
	}

	c.authed = true // a fresh authenticated request: IdleTimeout alone applies now

	// Step 7.
	b.requestCount.Add(1)

	// Step 8.
	if mi == mUnknown {
		e := &rpcError{code: CodeMethodNotFound, message: "Method not found: " + truncate(fr.method, maxReceiptMethod), data: errorData{Code: "METHOD_NOT_FOUND"}}
		ref, _ := b.issue(&fr, ReceiptRejected, e.data.Code, nil, start)
		acc.set(outcomeMethodNotFound, e.data.Code, ref)
		b.m.request(mi, outcomeMethodNotFound)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, e, ref)
	}

	// Step 9.
	hctx := b.baseCtx
	if p, ok := traceParent(fr.headers); ok {
		hctx = tracing.WithParent(hctx, p)
		acc.trace = p
	}
	out, err := b.callHandler(mi, hctx, fr.params)
	if err != nil {
		e, oc := b.renderError(fr.method, err)
		ref, _ := b.issue(&fr, ReceiptRejected, e.data.Code, nil, start)
		acc.set(oc, e.data.Code, ref)
		b.m.request(mi, oc)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, e, ref)
	}
	status := ReceiptAccepted
	if out.rejectReason != "" {
		status = ReceiptRejected
	}
	var payload any = json.RawMessage(out.result)
	if out.canonical != nil {
		payload = canon.Canonical(out.canonical)
	}
	ref, err := b.issue(&fr, status, out.rejectReason, payload, start)
	if err != nil {
		// No result without its durable receipt.
		e := receiptError(err)
		acc.set(outcomeInternal, e.data.Code, nil)
		b.m.request(mi, outcomeInternal)
		b.m.duration.UpdateDuration(start)
		return appendError(nil, fr.id, e, nil)
	}
	acc.set(outcomeOK, out.rejectReason, ref)
	b.m.request(mi, outcomeOK)
	b.m.duration.UpdateDuration(start)
	return appendResult(make([]byte, 0, len(out.result)+160+len(fr.id)), fr.id, out.result, ref)
}

var errReceiptUnavailable = newRPCError(CodeInternal, "Internal error", "RECEIPT_UNAVAILABLE")

// receiptError renders a failed Issue: the catalog's code for a catalog sentinel
// (STORAGE_UNAVAILABLE, -32603, for a receipt log that cannot be written), else
// RECEIPT_UNAVAILABLE; never the internal text.
func receiptError(err error) *rpcError {
	p := catalog.Lookup(err)
	if p.Kind == catalog.Internal {
		return errReceiptUnavailable
	}
	return &rpcError{code: p.RPC, message: p.Message, data: errorData{Code: p.Code}}
}

// issue stores the receipt of an authenticated request and returns it once durable;
// an error (logged) means no receipt.
func (b *Bridge) issue(fr *frame, status, reason string, payload any, start time.Time) (*ReceiptRef, error) {
	in := ReceiptInput{
		Status:   status,
		Method:   truncate(fr.method, maxReceiptMethod),
		Reason:   reason,
		Payload:  payload,
		Duration: time.Since(start),
	}
	if fr.params != nil {
		in.Params = json.RawMessage(bytes.Clone(fr.params)) // the line buffer is reused
	}
	ref, err := b.opts.Receipts.Issue(in)
	if err != nil {
		b.log.Error("bridge receipt not issued", "method", in.Method, "status", status, "err", err)
		return nil, err
	}
	return &ref, nil
}

// renderError turns a handler error into its public form: the catalog's code and
// message, never the internal text (which is logged).
func (b *Bridge) renderError(method string, err error) (*rpcError, int) {
	var pe *paramError
	if errors.As(err, &pe) {
		return &rpcError{code: CodeInvalidParams, message: "Invalid params",
			data: errorData{Code: "INVALID_PARAMS", Member: pe.member, Detail: pe.detail}}, outcomeInvalidParams
	}
	var le *lowEntropyError
	if errors.As(err, &le) {
		p := catalog.Lookup(err)
		th := actuatorMinEntropy
		return &rpcError{code: p.RPC, message: p.Message,
			data: errorData{Code: p.Code, Entropy: &le.entropy, Threshold: &th}}, outcomeInvalidParams
	}
	if errors.Is(err, context.DeadlineExceeded) && catalog.Lookup(err).Kind == catalog.Internal {
		err = errors.Join(ErrTimeout, err)
	}
	p := catalog.Lookup(err)
	if p.Kind == catalog.Internal {
		if errors.Is(err, ErrPanic) { // logged with its stack by callHandler
			return &rpcError{code: CodeInternal, message: "Internal error", data: errorData{Code: "INTERNAL"}}, outcomeInternal
		}
		b.log.Error("bridge handler failed", "method", truncate(method, maxReceiptMethod), "err", err)
		return &rpcError{code: CodeInternal, message: "Internal error", data: errorData{Code: "INTERNAL"}}, outcomeInternal
	}
	b.log.Debug("bridge handler refused", "method", truncate(method, maxReceiptMethod), "err", err)
	oc := outcomeError
	if p.RPC == CodeInvalidParams {
		oc = outcomeInvalidParams
	}
	return &rpcError{code: p.RPC, message: p.Message, data: errorData{Code: p.Code}}, oc
}

// countUnauth counts unauthenticated traffic (no receipt) and logs it at most once a second.
func (b *Bridge) countUnauth(outcome int, code, remote string) {
	b.countUnauthMethod(mUnknown, outcome, code, remote)
}

func (b *Bridge) countUnauthMethod(method, outcome int, code, remote string) {
	b.m.request(method, outcome)
	if ok, suppressed := b.unauth.allow(time.Now()); ok {
		b.log.Warn("bridge refused unauthenticated request", "code", code, "remote_addr", remote, "suppressed", suppressed)
	}
}

// truncate cuts s to at most n bytes on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
