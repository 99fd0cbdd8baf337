package receipt

import "time"

// leafMsg carries one issued receipt to the sealer. The sealer owns it after Send.
type leafMsg struct {
	id   string
	key  idKey
	leaf [32]byte
	body []byte // JCS(body)
}

// tickMsg fires BatchInterval after the first leaf of a batch; gen ignores stale ticks.
type tickMsg struct{ gen uint64 }

// flushMsg asks the sealer to seal what it holds now; it answers flushedMsg.
type flushMsg struct{}

// flushedMsg answers flushMsg: every leaf received before the flush is in a job whose
// number is at most Job.
// Restarted: the sealer crashed on the flush (the supervisor's FailureReply); the
// restarted instance seals what was pending.
type flushedMsg struct {
	Job       uint64
	Restarted bool
}

// job is a sealed batch handed from the sealer to the writer goroutine (ownership moves
// with it; the sealer keeps no reference).
type job struct {
	num      uint64 // sealer-local job number, for Flush
	single   bool
	seq      uint64 // batch mode: batch_seq
	tree     *Tree  // batch mode
	root     [32]byte
	prevRoot [32]byte
	sig      []byte   // batch mode: signature over BatchMessage
	sigs     [][]byte // single mode: one signature per leaf
	items    []*leafMsg
	closedAt time.Time
}

// leavesMsg carries receipts whose issued record is durable to the sealer, in the order
// they were written (from the writer after each group commit, and from Start for
// receipts issued but not sealed before a crash). The sealer owns items after Send.
// n numbers the message (sealBook.send), so a restarted sealer skips the messages whose
// leaves it recovered already.
type leavesMsg struct {
	items []*leafMsg
	n     uint64
}
