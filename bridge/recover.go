package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"
)

// errPanicRPC is the answer to a request whose handling panicked: -32603 with no
// internal text (bridge.md: a handler failure gives -32603 Internal error).
var errPanicRPC = newRPCError(CodeInternal, "Internal error", "INTERNAL")

// panicked records one recovered panic: the stack is logged once, here, and
// sovereign_panics_total{component="bridge"} counts it. where is a fixed label of
// the edge ("handler", "request", "reader", "writer", "accept").
func (b *Bridge) panicked(where string, v any) {
	b.m.panics.Inc()
	b.log.Error("bridge panic recovered", "where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// callHandler runs a method handler behind the panic edge. A panic becomes ErrPanic,
// which the pipeline answers like any internal failure (-32603 with a rejected
// receipt) without logging it a second time. The deferred closure is open-coded: it
// costs no allocation on the normal path.
func (b *Bridge) callHandler(mi int, ctx context.Context, params json.RawMessage) (out handlerOut, err error) {
	defer func() {
		if v := recover(); v != nil {
			b.panicked("handler", v)
			out, err = handlerOut{}, ErrPanic
		}
	}()
	return handlers[mi](b, ctx, params)
}

// serveLine is handleLine behind the panic edge: a panic anywhere else in the
// pipeline (receipt store, metrics, codec) answers -32603 with the request's id when
// it can be read again, null otherwise, and no receipt (the store may be what failed).
// The connection keeps serving.
func (b *Bridge) serveLine(c *conn, line []byte, start time.Time) (resp []byte) {
	defer func() {
		if v := recover(); v != nil {
			b.panicked("request", v)
			b.m.request(mUnknown, outcomeInternal)
			b.m.duration.UpdateDuration(start)
			resp = appendError(nil, recoverID(line), errPanicRPC, nil)
		}
	}()
	return b.handleLine(c, line, start)
}

// recoverID decodes line's id again for a panic answer; null when that fails too.
func recoverID(line []byte) (id json.RawMessage) {
	defer func() {
		if recover() != nil {
			id = nil
		}
	}()
	fr, perr := decodeFrame(line)
	if perr != nil {
		return nil
	}
	return fr.id
}

// guard is deferred at the top of every goroutine the bridge starts: it turns a panic
// into a log line and a count instead of a process exit. The goroutine then ends
// through its normal deferred cleanup.
func (b *Bridge) guard(where string) {
	if v := recover(); v != nil {
		b.panicked(where, v)
	}
}
