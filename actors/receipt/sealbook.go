package receipt

import (
	"slices"
	"sync"
)

// sealBook is the sealer's recovered state, kept by the Service outside the actor: the
// chain position after the last job the sealer handed the writer, and every leaf handed
// to the sealer that no job holds yet. A restarted sealer is a fresh instance that
// starts from it (Started), so it resumes neither with what a panic left half-done nor
// without the leaves of the message the panic lost: those leaves are sealed by the new
// instance and their waiters (Flush, the pending gauge) are answered.
type sealBook struct {
	mu sync.Mutex
	// mu guards the following fields.
	jobs     uint64   // jobs handed to the writer (numbers continue across instances)
	seq      uint64   // next batch_seq
	prevRoot [32]byte // root of the last batch handed to the writer
	sent     uint64   // number of the last leavesMsg handed to the sealer
	order    uint64
	out      map[*leafMsg]uint64 // leaves sent and in no job yet → arrival order; bounded by MaxPending
}

func newSealBook(seq uint64, prevRoot [32]byte) *sealBook {
	return &sealBook{seq: seq, prevRoot: prevRoot, out: map[*leafMsg]uint64{}}
}

// send records items as handed to the sealer and returns the message to send.
func (b *sealBook) send(items []*leafMsg) *leavesMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, it := range items {
		b.order++
		b.out[it] = b.order
	}
	b.sent++
	return &leavesMsg{items: items, n: b.sent}
}

// sealed records a job about to go to the writer: its leaves leave the book and the
// chain position moves to after it.
func (b *sealBook) sealed(items []*leafMsg, jobs, nextSeq uint64, root [32]byte, batch bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jobs = jobs
	for _, it := range items {
		delete(b.out, it)
	}
	if batch {
		b.seq, b.prevRoot = nextSeq, root
	}
}

// recovered is what a fresh sealer starts from.
type recovered struct {
	jobs     uint64
	seq      uint64
	prevRoot [32]byte
	pending  []*leafMsg // in arrival order
	upTo     uint64     // leavesMsg numbered up to this are in pending already
}

func (b *sealBook) recover() recovered {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := recovered{jobs: b.jobs, seq: b.seq, prevRoot: b.prevRoot, upTo: b.sent, pending: make([]*leafMsg, 0, len(b.out))}
	for it := range b.out {
		r.pending = append(r.pending, it)
	}
	slices.SortFunc(r.pending, func(x, y *leafMsg) int {
		switch a, c := b.out[x], b.out[y]; {
		case a < c:
			return -1
		case a > c:
			return 1
		}
		return 0
	})
	return r
}

// FailureReply is the reply a supervisor sends at once to the caller of a sealer
// message lost in a crash (supervision.Options.FailureReply): a Flush learns the sealer
// restarted instead of waiting for its deadline. nil for any other message.
func FailureReply(msg any) any {
	if _, ok := msg.(flushMsg); ok {
		return flushedMsg{Restarted: true}
	}
	return nil
}
