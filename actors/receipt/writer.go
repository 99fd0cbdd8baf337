package receipt

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// writer is the goroutine that owns the durable log. It group-commits: each round it
// drains the issued records handed over by Issue and the sealed jobs handed over by the
// sealer, writes them as one chunk with one fsync, publishes them to the index, hands
// the newly durable leaves to the sealer, and only then wakes the Issue callers of that
// round (one shared group). Then it rotates, compresses and prunes segments. submit and
// enqueue never block.
type writer struct {
	st     *store
	log    *slog.Logger
	alg    string
	keyID  string
	pubHex string
	mac    *macer
	hooks  writerHooks
	// timeout is how long a round's callers wait before giving up (IssueTimeout);
	// 0 means forever.
	timeout time.Duration

	// mu guards the following fields.
	mu     sync.Mutex
	issued []*leafMsg // issued records waiting for the next round
	grp    *group     // the round they belong to; nil when none waits
	queue  []*job
	closed bool

	wake chan struct{} // capacity 1
	done chan struct{} // closed when run returns

	// The writer goroutine alone uses the following fields.
	reseal    []*leafMsg // leaves whose sealed records failed to write, sealed again after the next good write
	lastErrAt time.Time
	errSupp   int
}

// writerHooks are the Service's callbacks, all called on the writer goroutine.
type writerHooks struct {
	// issued reports a round's issued records durable (err nil) or not written.
	issued func(msgs []*leafMsg, err error)
	// sealed reports sealed jobs durable or not written (their leaves are sealed again
	// after the next good write).
	sealed func(jobs []*job, err error)
	// toSealer hands durable leaves to the sealer.
	toSealer func(msgs []*leafMsg)
	// round reports each group commit that wrote something: durable (nil) or failed.
	round func(err error)
}

// group is one round of the group commit: done closes when its records are durable
// (err nil) or failed (err set before done closes). expired closes once the writer's
// timeout has passed since the round began (one timer per round, not per caller);
// nil when there is no timeout.
type group struct {
	done    chan struct{}
	err     error
	expired chan struct{}
	timer   *time.Timer
}

// newGroup starts a round, with its expiry timer.
func newGroup(timeout time.Duration) *group {
	g := &group{done: make(chan struct{})}
	if timeout > 0 {
		g.expired = make(chan struct{})
		g.timer = time.AfterFunc(timeout, func() { close(g.expired) })
	}
	return g
}

// complete records the round's outcome and wakes its callers.
func (g *group) complete(err error) {
	if g.timer != nil {
		g.timer.Stop()
	}
	g.err = err
	close(g.done)
}

func newWriter(st *store, signer *Ed25519Signer, log *slog.Logger, macKey []byte, timeout time.Duration, hooks writerHooks) *writer {
	return &writer{
		st: st, log: log, alg: signer.Alg(), keyID: signer.KeyID(), pubHex: signer.PublicKeyHex(),
		mac: newMacer(macKey), hooks: hooks, timeout: timeout, wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// submit hands an issued record to the next round and returns that round; nil when the
// writer is closed. It never blocks.
func (w *writer) submit(m *leafMsg) *group {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.issued = append(w.issued, m)
	return w.nextRoundLocked()
}

// nextRoundLocked returns the round that the next flush completes (creating it),
// unlocks w.mu and wakes the writer.
func (w *writer) nextRoundLocked() *group {
	g := w.grp
	if g == nil {
		g = newGroup(w.timeout)
		w.grp = g
	}
	w.mu.Unlock()
	w.signal()
	return g
}

// barrier returns a round that completes after everything submitted before it (at
// once when the writer is closed).
func (w *writer) barrier() *group {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		g := &group{done: make(chan struct{})}
		close(g.done)
		return g
	}
	return w.nextRoundLocked()
}

// enqueue hands a sealed job to the writer; it never blocks (the queue is bounded by
// the Service's MaxPending admission limit).
func (w *writer) enqueue(j *job) {
	w.mu.Lock()
	w.queue = append(w.queue, j)
	w.mu.Unlock()
	w.signal()
}

// close asks run to drain the queue and return.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
}

func (w *writer) run() {
	defer close(w.done)
	var buf []byte
	var recs []record
	for {
		<-w.wake
		for {
			w.mu.Lock()
			msgs, g, jobs, closed := w.issued, w.grp, w.queue, w.closed
			w.issued, w.grp, w.queue = nil, nil, nil
			w.mu.Unlock()
			if len(msgs) == 0 && len(jobs) == 0 && g == nil {
				if closed {
					return
				}
				break
			}
			buf, recs = w.flush(msgs, g, jobs, buf[:0], recs[:0])
		}
	}
}

// flush writes one round as one chunk with one fsync.
func (w *writer) flush(msgs []*leafMsg, g *group, jobs []*job, buf []byte, recs []record) ([]byte, []record) {
	var err error
	if len(msgs) > 0 || len(jobs) > 0 {
		seg, base := w.st.activeNum(), w.st.activeSize
		for _, m := range msgs {
			start := len(buf)
			buf = beginFrame(buf, recIssued)
			buf = append(buf, m.body...)
			recs = append(recs, record{key: m.key, off: base + int64(start+frameHead), n: len(m.body)})
			buf = w.mac.finishFrame(buf, start, recIssued, seg, base+int64(start))
		}
		for _, j := range jobs {
			if buf, recs, err = w.lines(j, seg, base, buf, recs); err != nil {
				break
			}
		}
		if err == nil {
			if err = w.st.write(buf); err == nil {
				err = w.st.sync(base)
			}
		}
		if err == nil {
			w.st.publish(recs)
			// Before the waiters wake: an Issue that returns sees its segment rotated (the
			// compression runs in the background) and its leaf queued at the sealer
			// before any later Flush.
			if rerr := w.st.maybeRotate(); rerr != nil {
				w.log.Error("receipt segment rotation", "err", rerr)
			}
			if len(w.reseal) > 0 {
				w.hooks.toSealer(w.reseal)
				w.reseal = nil
			}
			if len(msgs) > 0 {
				w.hooks.toSealer(msgs)
			}
		} else {
			w.logFailure(len(msgs), len(recs)-len(msgs), err)
			for _, j := range jobs {
				w.reseal = append(w.reseal, j.items...)
			}
		}
		w.hooks.round(err)
		if len(msgs) > 0 {
			w.hooks.issued(msgs, err)
		}
		if len(jobs) > 0 {
			w.hooks.sealed(jobs, err)
		}
	}
	if g != nil {
		g.complete(err)
	}
	return buf, recs
}

// logFailure logs a failed round at most once a second (the disk may refuse every write
// for a while), with the number of failures suppressed meanwhile.
func (w *writer) logFailure(issued, sealed int, err error) {
	now := time.Now()
	if now.Sub(w.lastErrAt) < time.Second {
		w.errSupp++
		return
	}
	w.log.Error("receipt log write failed; the issued receipts were refused, sealing is retried after the next good write",
		"issued_records", issued, "sealed_records", sealed, "suppressed", w.errSupp, "err", err)
	w.lastErrAt, w.errSupp = now, 0
}

// lines appends one line per receipt of j to buf. The seal members shared by the
// batch are encoded once; per receipt only index and proof change.
func (w *writer) lines(j *job, seg uint32, base int64, buf []byte, recs []record) ([]byte, []record, error) {
	var head, mid, tail []byte
	key := "seal"
	if j.single {
		key = "signature"
	} else {
		// {"alg":…,"batch_seq":N,"index":  I  ,"key_id":…,"prev_root":…,"proof":[  P  ],"public_key":…,"root":…,"signature":…,"size":N}
		full := canonicalSeal(nil, &Seal{BatchSeq: j.seq, Size: uint64(len(j.items)), Root: hexOf(j.root),
			PrevRoot: hexOf(j.prevRoot), Alg: w.alg, KeyID: w.keyID, PublicKey: w.pubHex,
			Signature: hex.EncodeToString(j.sig)})
		i := bytes.Index(full, []byte(`"index":0`)) + len(`"index":`)
		k := bytes.Index(full, []byte(`"proof":[]`)) + len(`"proof":[`)
		head, mid, tail = full[:i], full[i+1:k], full[k:]
	}
	var sealBuf []byte
	var leafHex [64]byte
	for i, it := range j.items {
		hex.Encode(leafHex[:], it.leaf[:])
		sealBuf = sealBuf[:0]
		if j.single {
			sealBuf = canonicalSignature(sealBuf, &Signature{Alg: w.alg, KeyID: w.keyID, PublicKey: w.pubHex, Sig: hex.EncodeToString(j.sigs[i])})
		} else {
			sealBuf = append(sealBuf, head...)
			sealBuf = strconv.AppendUint(sealBuf, uint64(i), 10)
			sealBuf = append(sealBuf, mid...)
			for n, p := range j.tree.Proof(i) {
				if n > 0 {
					sealBuf = append(sealBuf, ',')
				}
				sealBuf = append(sealBuf, '"')
				sealBuf = hex.AppendEncode(sealBuf, p[:])
				sealBuf = append(sealBuf, '"')
			}
			sealBuf = append(sealBuf, tail...)
		}
		// A compact sealed record: the body is in the issued record already, and Get
		// joins the two (the same bytes assemble gave when the body was written twice).
		start := len(buf)
		buf = beginFrame(buf, recSeal)
		buf = appendCompact(buf, leafHex[:], it.id, key, sealBuf)
		recs = append(recs, record{key: it.key, off: base + int64(start+frameHead), n: len(buf) - start - frameHead, sealed: true, compact: true})
		buf = w.mac.finishFrame(buf, start, recSeal, seg, base+int64(start))
	}
	return buf, recs, nil
}

// sealAge reports how long ago a job closed.
func sealAge(j *job, now time.Time) time.Duration { return now.Sub(j.closedAt) }
