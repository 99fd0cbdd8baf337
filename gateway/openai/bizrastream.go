package openai

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/internal/tracing"
)

// maxPendingDeltas bounds the answer pieces queued between the pipeline and the
// client; a full queue holds the backend's stream back (a client that went away
// drops them).
const maxPendingDeltas = 256

// bizraStream serves a streamed bizra-model completion. The pipeline runs on a
// goroutine this handler (or the body writer it hands over to) waits for. When an
// external backend answers, its text is streamed piece by piece as the backend sends
// it (query.Request.OnDelta); the last chunk carries finish_reason and the bizra
// extension (scores, receipt) once the pipeline finished. An error before the first
// piece gets its HTTP status; one after it, an error event and no [DONE]. An answer
// that came whole (cache hit, embedded engine, Ihsan enforcement) is streamed as a
// few chunks (streamWhole).
func (r *Routes) bizraStream(ctx *fasthttp.RequestCtx, req *Request, userID string, start time.Time) {
	if err := r.checkBizra(req); err != nil {
		r.observe(kindBizra, true, r.writeError(ctx, err), start)
		return
	}
	type outcome struct {
		a   bizraAnswer
		err error
	}
	deltas := make(chan string, maxPendingDeltas)
	gone := make(chan struct{}) // closed when the client went away
	done := make(chan outcome, 1)
	// bounded like the pipeline's own deadline, so a piece never waits longer for a
	// writer that is not there
	qctx, cancel := context.WithTimeout(tracing.WithParent(context.Background(), clientTrace(ctx)), r.opts.Timeout+time.Second)
	onDelta := func(s string) {
		select {
		case deltas <- s:
		case <-gone:
		case <-qctx.Done():
		}
	}
	go func() {
		a, err := r.queryBizra(qctx, req, userID, start, onDelta)
		done <- outcome{a, err}
	}()
	var first string
	select {
	case first = <-deltas:
	case o := <-done:
		if len(deltas) == 0 {
			cancel()
			if o.err != nil {
				r.observe(kindBizra, true, r.writeError(ctx, o.err), start)
				return
			}
			r.streamWhole(ctx, req, o.a, start)
			return
		}
		first = <-deltas
		done <- o // the writer below takes it again
	}
	id := "chatcmpl-" + queryIDOf(ctx)
	created := r.opts.Now().Unix()
	mk := func(d delta, finish *string) Chunk {
		return Chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: ModelID,
			Choices: []chunkChoice{{Delta: d, FinishReason: finish}}}
	}
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		defer cancel()
		code := fasthttp.StatusOK
		clientGone := false
		send := func(c Chunk) {
			if clientGone {
				return
			}
			if b, err := marshal(c); err == nil && !sendData(w, b) {
				clientGone = true
				close(gone)
				cancel()
			}
		}
		sh := streamShaper{req: req}
		emit := func(piece string) {
			if s := sh.feed(piece); s != "" {
				send(mk(delta{Content: s}, nil))
			}
		}
		send(mk(delta{Role: "assistant"}, nil))
		emit(first)
		var o outcome
	wait:
		for {
			select {
			case d := <-deltas:
				emit(d)
			case o = <-done:
				break wait
			}
		}
		for len(deltas) > 0 { // every OnDelta returned before the pipeline did
			emit(<-deltas)
		}
		switch {
		case clientGone:
			code = 499
			r.mDisconn.Inc()
		case o.err != nil:
			var msg apiError
			code, msg = streamError(o.err)
			b, _ := json.Marshal(msg)
			writeData(w, b)
			_ = w.Flush()
		default:
			if s := sh.flush(); s != "" {
				send(mk(delta{Content: s}, nil))
			}
			finish := sh.finish()
			last := mk(delta{}, &finish)
			last.Bizra = o.a.ext
			send(last)
			if req.IncludeUsage {
				u := o.a.usage
				send(Chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: ModelID, Choices: []chunkChoice{}, Usage: &u})
			}
			if !clientGone {
				w.Write(doneEvent)
				_ = w.Flush()
			}
		}
		r.observe(kindBizra, true, code, start)
	}))
}

// queryIDOf names a streamed answer before its query id is known: the request id.
func queryIDOf(ctx *fasthttp.RequestCtx) string {
	if id := requestID(ctx); id != "" {
		return id
	}
	return "stream"
}

// streamShaper applies stop and max_tokens to an answer streamed piece by piece, as
// shape does to a whole one: text stops before the first stop sequence (finish
// "stop"), or at the word end within max_tokens (four bytes per token, finish
// "length"). The tail that could start a stop sequence, and trailing white space, are
// held back until the next piece or flush.
type streamShaper struct {
	req     *Request
	held    string
	sent    int
	stopped string // "" while text may still flow, else the finish reason
}

func (s *streamShaper) feed(piece string) string {
	if s.stopped != "" {
		return ""
	}
	buf := s.held + piece
	s.held = ""
	for _, st := range s.req.Stop {
		if i := strings.Index(buf, st); i >= 0 {
			buf, s.stopped = buf[:i], "stop"
		}
	}
	if s.stopped == "" {
		// hold back what could be the start of a stop sequence
		keep := 0
		for _, st := range s.req.Stop {
			for n := min(len(st)-1, len(buf)); n > keep; n-- {
				if strings.HasSuffix(buf, st[:n]) {
					keep = n
					break
				}
			}
		}
		buf, s.held = buf[:len(buf)-keep], buf[len(buf)-keep:]
		if keep == 0 {
			// trailing white space waits for more text (a cut or the end drops it)
			t := strings.TrimRightFunc(buf, unicode.IsSpace)
			buf, s.held = t, buf[len(t):]
		}
	}
	if s.req.MaxTokens > 0 {
		budget := s.req.MaxTokens*4 - s.sent
		if len(buf) > budget {
			cut := buf[:max(budget, 0)]
			if budget >= 0 && budget < len(buf) && !isSpace(buf[budget]) {
				if i := strings.LastIndexFunc(cut, unicode.IsSpace); i >= 0 {
					cut = cut[:i]
				} else if s.sent > 0 || budget == 0 {
					cut = "" // the word began in an earlier piece or does not fit
				}
			}
			buf, s.held, s.stopped = strings.TrimRightFunc(cut, unicode.IsSpace), "", "length"
		}
	}
	s.sent += len(buf)
	return buf
}

// flush returns the held-back tail once the answer is complete.
func (s *streamShaper) flush() string {
	if s.stopped != "" || strings.TrimSpace(s.held) == "" {
		return ""
	}
	t := s.held
	s.held = ""
	return s.feed(t)
}

func (s *streamShaper) finish() string {
	if s.stopped != "" {
		return s.stopped
	}
	return "stop"
}
