package receipt

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// sealer is the actor that collects leaves and seals them: in batch mode an RFC 6962
// tree per batch and one Ed25519 signature chaining batch_seq, root and prev_root; in
// single mode one signature per leaf. It never touches the disk: sealed jobs go to the
// writer through a non-blocking queue.
type sealer struct {
	signer   *Ed25519Signer
	book     *sealBook // the recovered state, kept by the Service
	skipUpTo uint64    // leavesMsg numbered up to this were recovered on Started
	single   bool
	interval time.Duration
	max      int
	out      *writer
	now      func() time.Time

	pending  []*leafMsg
	seq      uint64 // next batch_seq
	prevRoot [32]byte
	jobs     uint64 // jobs handed to the writer
	gen      uint64
	timer    *time.Timer
	self     *actor.PID
	root     *actor.RootContext
}

func (s *sealer) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		s.self, s.root = ctx.Self(), ctx.ActorSystem().Root
		// Every instance (the first, and each restart's fresh one) starts from the
		// book: the job count (Flush waits on it), the chain position of the last job handed to the writer and the leaves
		// sent but in no job, the lost message's included.
		rec := s.book.recover()
		s.seq, s.prevRoot, s.pending, s.skipUpTo, s.jobs = rec.seq, rec.prevRoot, rec.pending, rec.upTo, rec.jobs
		if len(s.pending) > 0 {
			s.arm()
		}
	case *leavesMsg:
		if m.n != 0 && m.n <= s.skipUpTo {
			return // recovered on Started
		}
		first := len(s.pending) == 0
		s.pending = append(s.pending, m.items...)
		for len(s.pending) >= s.max {
			s.seal()
		}
		if len(s.pending) > 0 && (first || s.timer == nil) {
			s.arm()
		}
	case tickMsg:
		if m.gen == s.gen && len(s.pending) > 0 {
			s.seal()
		}
	case flushMsg:
		s.seal()
		ctx.Respond(flushedMsg{Job: s.jobs})
	case *actor.Stopping:
		s.seal() // nothing received is lost on shutdown
	case *actor.Restarting:
		if s.timer != nil {
			s.timer.Stop() // the fresh instance arms its own
		}
	}
}

// arm schedules a tick for the batch that just started.
func (s *sealer) arm() {
	s.gen++
	gen, pid, root := s.gen, s.self, s.root
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(s.interval, func() { root.Send(pid, tickMsg{gen: gen}) })
}

func (s *sealer) seal() {
	s.gen++ // invalidates an armed tick
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if len(s.pending) == 0 {
		return
	}
	items := s.pending
	if len(items) > s.max {
		items = items[:s.max:s.max]
		s.pending = append(make([]*leafMsg, 0, len(s.pending)-s.max), s.pending[s.max:]...)
	} else {
		s.pending = make([]*leafMsg, 0, min(len(items), s.max))
	}
	s.jobs++
	j := &job{num: s.jobs, single: s.single, items: items, closedAt: s.now()}
	if s.single {
		j.sigs = make([][]byte, len(items))
		for i, it := range items {
			j.sigs[i] = s.signer.Sign(SingleMessage(it.leaf))
		}
	} else {
		leaves := make([][32]byte, len(items))
		for i, it := range items {
			leaves[i] = it.leaf
		}
		j.tree = NewTree(leaves)
		j.seq, j.root, j.prevRoot = s.seq, j.tree.Root(), s.prevRoot
		j.sig = s.signer.Sign(BatchMessage(j.seq, j.root, j.prevRoot))
		s.seq++
		s.prevRoot = j.root
	}
	s.book.sealed(items, s.jobs, s.seq, s.prevRoot, !s.single)
	s.out.enqueue(j)
}
