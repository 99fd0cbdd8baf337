package inference

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// beginPass admits one pass-through call: it is counted for Shutdown's wait and runs
// under a context with the call's deadline that Shutdown's cancel also ends. finish
// must be called exactly once.
func (s *Service) beginPass(ctx context.Context, dl time.Time) (context.Context, func(), error) {
	s.passMu.RLock()
	if !s.started.Load() || s.rt.stopping.Load() {
		s.passMu.RUnlock()
		return nil, nil, ErrStopped
	}
	s.passWG.Add(1)
	s.passMu.RUnlock()
	if err := ctx.Err(); err != nil {
		s.passWG.Done()
		return nil, nil, ctxErr(err)
	}
	cctx, cancel := context.WithDeadline(ctx, s.deadline(ctx, dl))
	stop := context.AfterFunc(s.rt.ctx, cancel)
	return cctx, func() { stop(); cancel(); s.passWG.Done() }, nil
}

// candidate is a backend that offers the requested model, under its wire name.
type candidate struct {
	b     *backend
	model string
}

// resolve returns the backend's wire name for model when the backend offers it.
func (b *backend) resolve(model string) (string, bool) {
	if b.cfg.Model == model {
		return model, true
	}
	p := b.models.Load()
	if p == nil {
		return "", false
	}
	if slices.Contains(*p, model) {
		return model, true
	}
	if b.cfg.Kind == KindOllama && !strings.Contains(model, ":") && slices.Contains(*p, model+":latest") {
		return model + ":latest", true
	}
	return "", false
}

// refreshModels lists b's models now, at most once per second per backend. Callers
// that arrive while a listing runs wait for it and use its result.
func (s *Service) refreshModels(ctx context.Context, b *backend) {
	asked := time.Now().UnixNano()
	b.listMu.Lock()
	defer b.listMu.Unlock()
	last := b.listedAt.Load()
	if last >= asked || asked-last < int64(time.Second) {
		return // listed meanwhile, or too recently
	}
	lctx, cancel := context.WithTimeout(ctx, s.opts.ProbeTimeout)
	defer cancel()
	if l, err := b.client.listing(lctx); err == nil {
		b.models.Store(&l.ids)
		b.tools.Store(&l.tools)
	}
	b.listedAt.Store(time.Now().UnixNano())
}

// candidates returns the backends that offer model, in fallback order. When none does,
// the backends' lists are refreshed (rate-limited) and looked at again. The error is
// ErrModelNotFound when every reachable backend has listed its models and none offers
// model, and ErrBackend when some backend's list is unknown (never listed: it may be
// down or too slow to answer its listing), so a caller is not told "no such model"
// merely because a listing failed under load.
func (s *Service) candidates(ctx context.Context, model string) ([]candidate, error) {
	find := func() []candidate {
		var out []candidate
		for _, b := range s.backends {
			if m, ok := b.resolve(model); ok {
				out = append(out, candidate{b: b, model: m})
			}
		}
		return out
	}
	// A backend that has never listed its models may offer this one: list it first, so
	// the fallback order is complete.
	for _, b := range s.backends {
		if b.models.Load() == nil && b.breaker.State() != gobreaker.StateOpen {
			s.refreshModels(ctx, b)
		}
	}
	if out := find(); len(out) > 0 {
		return out, nil
	}
	for _, b := range s.backends {
		if b.breaker.State() != gobreaker.StateOpen {
			s.refreshModels(ctx, b)
		}
	}
	if out := find(); len(out) > 0 {
		return out, nil
	}
	for _, b := range s.backends {
		if b.models.Load() == nil {
			return nil, fmt.Errorf("model %q: listing of backend %s unavailable: %w", model, b.cfg.Name, ErrBackend)
		}
	}
	return nil, fmt.Errorf("model %q: %w", model, ErrModelNotFound)
}

// ToolModel is the model of the first OpenAI-compatible backend, in fallback order,
// whose circuit is not open and that takes tools and response_format: one configured
// so (BackendConfig.Tools; its configured or discovered model), or one whose model
// listing marks the model as taking tools (its configured model, or the first such
// listed model when none is configured). False when there is none. The bizra model
// hands its tool parameters to that model (gateway/openai).
func (s *Service) ToolModel() (string, bool) {
	for _, b := range s.backends {
		if b.cfg.Kind != KindOpenAI || b.breaker.State() == gobreaker.StateOpen {
			continue
		}
		if m := b.currentModel(); b.cfg.Tools && m != "" {
			return m, true
		}
		p := b.tools.Load()
		if p == nil || len(*p) == 0 {
			continue
		}
		switch {
		case b.cfg.Model == "":
			return (*p)[0], true
		case slices.Contains(*p, b.cfg.Model):
			return b.cfg.Model, true
		}
	}
	return "", false
}

// Models lists the models of the external backends in fallback order (a model listed
// by several backends appears once, under the first). Lists come from the health
// probes; a backend not yet listed is asked now (bounded by ctx and ProbeTimeout).
func (s *Service) Models(ctx context.Context) []ModelInfo {
	var out []ModelInfo
	seen := map[string]bool{}
	for _, b := range s.backends {
		if b.models.Load() == nil {
			s.refreshModels(ctx, b)
		}
		var ids []string
		if p := b.models.Load(); p != nil {
			ids = *p
		}
		if b.cfg.Model != "" && !slices.Contains(ids, b.cfg.Model) {
			ids = append([]string{b.cfg.Model}, ids...)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, ModelInfo{ID: id, Backend: b.cfg.Name})
			}
		}
	}
	return out
}

// fallback is the one fallback policy of the pass-through (Chat, OpenChatStream,
// Forward, OpenForwardStream): the candidates in order, each admitted by its in-flight
// slot and circuit breaker, each failure settled by failed.
type fallback struct {
	s       *Service
	model   string
	reasons []string
	busy    int            // candidates refused for overload
	last    *UpstreamError // the last 5xx or 429 answer, returned when every candidate failed
}

// admit takes a slot and a circuit permission on b; on refusal it records why.
func (f *fallback) admit(b *backend) (*slot, func(error), bool) {
	name := b.cfg.Name
	sl := b.takeSlot()
	if sl == nil {
		f.busy++
		f.s.rt.countRequest(name, "overloaded")
		f.reasons = append(f.reasons, name+": overloaded")
		return nil, nil, false
	}
	done, err := b.breaker.Allow()
	if err != nil {
		sl.release()
		f.s.rt.countRequest(name, "circuit_open")
		f.reasons = append(f.reasons, name+": circuit open")
		return nil, nil, false
	}
	return sl, done, true
}

// failed settles a failed attempt on b (after its retries) and says whether to stop
// (with the error to return) or to try the next backend:
//   - the caller's deadline or cancel: stop (no circuit count);
//   - a 429: next backend (no circuit count: the backend works, it is busy);
//   - another 4xx: stop with the UpstreamError (the request's fault: no circuit count);
//   - a 5xx, a connection failure, an unusable answer: next backend, counted against
//     the circuit.
//
// next names the candidate that follows ("" when b was the last one), d is how long
// the attempt took: the failure is logged once, with the decision (logFailure).
func (f *fallback) failed(ctx context.Context, b *backend, sl *slot, done func(error), err error, next string, d time.Duration) (bool, error) {
	sl.release()
	name := b.cfg.Name
	decision := decisionFellBack
	if next == "" {
		decision = decisionFinal
	}
	if ctx.Err() != nil {
		done(errExcluded)
		cerr := ctxFailure(ctx)
		outcome := "canceled"
		if errors.Is(cerr, ErrTimeout) {
			outcome = "timeout"
		}
		f.s.rt.countRequest(name, outcome)
		logFailure(f.s.rt.log, b.cfg, cerr, decisionFinal, "", d)
		return true, cerr
	}
	var be *backendError
	if !errors.As(err, &be) {
		be = failure(ErrBackend, "backend error", err)
	}
	switch {
	case be.upstream != nil && be.status == http.StatusTooManyRequests:
		done(errExcluded)
		f.s.rt.countRequest(name, "rate_limited")
		f.last = be.upstream
		logFailure(f.s.rt.log, b.cfg, be, decision, next, d)
	case be.upstream != nil && be.status >= 400 && be.status < 500:
		done(errExcluded)
		f.s.rt.countRequest(name, "rejected")
		logFailure(f.s.rt.log, b.cfg, be, decisionFinal, "", d)
		return true, fmt.Errorf("backend %s answered %d: %w", name, be.status, be.upstream)
	default:
		logFailure(f.s.rt.log, b.cfg, be, decision, next, d)
		done(errors.New(be.reason))
		b.health.Store(healthFailing)
		outcome := "error"
		if errors.Is(be.sentinel, ErrBadResponse) {
			outcome = "bad_response"
		}
		f.s.rt.countRequest(name, outcome)
		if be.upstream != nil {
			f.last = be.upstream
		}
	}
	f.reasons = append(f.reasons, name+": "+be.reason)
	return false, nil
}

// nextName is the name of the candidate after cands[i], "" when it is the last.
func nextName(cands []candidate, i int) string {
	if i+1 < len(cands) {
		return cands[i+1].b.cfg.Name
	}
	return ""
}

// exhausted is the error once every candidate failed or refused: the last upstream
// 5xx or 429 when there was one, else overload or a backend failure.
func (f *fallback) exhausted(n int) error {
	switch {
	case f.last != nil:
		return fmt.Errorf("all backends serving %q failed: %s: %w", f.model, strings.Join(f.reasons, "; "), f.last)
	case f.busy == n:
		return fmt.Errorf("every backend serving %q is at its in-flight limit: %w", f.model, ErrOverloaded)
	}
	return fmt.Errorf("all backends failed: %s: %w", strings.Join(f.reasons, "; "), ErrBackend)
}

func (f *fallback) succeeded(b *backend, sl *slot, done func(error), model string, u Usage) {
	sl.release()
	done(nil)
	b.health.Store(healthOK)
	f.s.rt.countRequest(b.cfg.Name, "success")
	f.s.rt.tokens.count(model, u)
}

// requestInvalid says whether a backend's status means the pipeline's request itself is
// invalid (400, 413, 422), which every backend would refuse alike: the router then
// asks no other external backend. A 401, 403 or 404 says that this backend's key or
// model is wrong, and a 429 that it is busy: the router moves on to the next one (it
// sends each backend its own configured model, unlike the pass-through, where the
// client names the model and every 4xx other than 429 is final). No 4xx counts
// against a circuit, and none is retried on the same backend (retry.go).
func requestInvalid(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return true
	}
	return false
}
