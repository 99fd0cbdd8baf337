package receipt

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// writer is the goroutine that owns the durable log: it turns sealed jobs into lines
// (inclusion proofs, seal or signature), appends them, fsyncs once per drained queue,
// publishes them to the index, then rotates, compresses and prunes segments. The sealer
// hands jobs over with enqueue, which never blocks.
type writer struct {
	st     *store
	log    *slog.Logger
	alg    string
	keyID  string
	pubHex string
	// durable is called after a set of jobs is durable and visible (or lost, with err).
	durable func(jobs []*job, n int, err error)

	// mu guards the following fields.
	mu     sync.Mutex
	queue  []*job
	closed bool

	wake chan struct{} // capacity 1
	done chan struct{} // closed when run returns
}

func newWriter(st *store, signer *Ed25519Signer, log *slog.Logger, durable func([]*job, int, error)) *writer {
	return &writer{
		st: st, log: log, alg: signer.Alg(), keyID: signer.KeyID(), pubHex: signer.PublicKeyHex(),
		durable: durable, wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

// enqueue hands j to the writer; it never blocks (the queue is bounded by the
// Service's MaxPending admission limit).
func (w *writer) enqueue(j *job) {
	w.mu.Lock()
	w.queue = append(w.queue, j)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close asks run to drain the queue and return.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) run() {
	defer close(w.done)
	var buf []byte
	var recs []record
	for {
		<-w.wake
		for {
			w.mu.Lock()
			jobs, closed := w.queue, w.closed
			w.queue = nil
			w.mu.Unlock()
			if len(jobs) == 0 {
				if closed {
					return
				}
				break
			}
			buf, recs = w.flush(jobs, buf[:0], recs[:0])
		}
	}
}

// flush writes jobs as one chunk with one fsync.
func (w *writer) flush(jobs []*job, buf []byte, recs []record) ([]byte, []record) {
	var err error
	for _, j := range jobs {
		if buf, recs, err = w.lines(j, buf, recs); err != nil {
			break
		}
	}
	n := len(recs)
	if err == nil {
		var off int64
		if off, err = w.st.write(buf); err == nil {
			err = w.st.sync()
		}
		if err == nil {
			for i := range recs {
				recs[i].off += off
			}
			w.st.publish(recs)
		}
	}
	if err != nil {
		w.log.Error("receipt batch not persisted; its receipts are lost", "receipts", n, "err", err)
	}
	if err == nil {
		// Before durable: a Flush that returns sees rotation and retention done.
		if rerr := w.st.maybeRotate(); rerr != nil {
			w.log.Error("receipt segment rotation", "err", rerr)
		}
	}
	w.durable(jobs, n, err)
	return buf, recs
}

// lines appends one line per receipt of j to buf. The seal members shared by the
// batch are encoded once; per receipt only index and proof change.
func (w *writer) lines(j *job, buf []byte, recs []record) ([]byte, []record, error) {
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
		start := len(buf)
		var err error
		if buf, err = assemble(buf, it.body, string(leafHex[:]), key, sealBuf); err != nil {
			return buf, recs, err
		}
		recs = append(recs, record{key: it.key, off: int64(start), n: len(buf) - start})
		buf = append(buf, '\n')
	}
	return buf, recs, nil
}

// sealAge reports how long ago a job closed.
func sealAge(j *job, now time.Time) time.Duration { return now.Sub(j.closedAt) }
