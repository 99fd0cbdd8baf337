package ledger

import (
	"fmt"
	"sort"
)

// Damage is the first place where the folder does not hold what was acknowledged: a
// damaged or missing record at or below the witness, a chain that does not recompute,
// or a chain head that differs from the witness. File is a base name inside the ledger
// folder; Offset is a byte offset in it (for a sealed segment, the offset of the
// block); Sequence is the first sequence missing or wrong.
type Damage struct {
	File     string `json:"file"`
	Offset   int64  `json:"offset"`
	Sequence uint64 `json:"sequence"`
	Reason   string `json:"reason"`
	// accepted: the same damage was accepted before (Options.AcceptLoss) and recorded
	// in the witness; it does not refuse a start again.
	accepted bool
}

// String is one line: "<file> offset <n> sequence <s>: <reason>".
func (d *Damage) String() string {
	return fmt.Sprintf("%s offset %d sequence %d: %s", d.File, d.Offset, d.Sequence, d.Reason)
}

// found is the head of what was read: the next sequence and its chain hash.
func (sc *scanned) found() (uint64, string) {
	if n := len(sc.eps); n > 0 {
		return sc.eps[n-1].Sequence + 1, sc.eps[n-1].ChainHash
	}
	if sc.anchor != nil {
		return sc.anchor.Sequence + 1, sc.anchor.ChainHash
	}
	return 0, Genesis
}

// assess compares what load read with the witness and the chain, and sets sc.damage
// to the damage with the lowest sequence (nil when the folder holds every
// acknowledged episode unaltered).
func assess(sc *scanned) {
	var worst *Damage
	note := func(d *Damage) {
		if worst == nil || d.Sequence < worst.Sequence {
			worst = d
		}
	}
	w := sc.witness
	next, _ := sc.found()
	if w == nil {
		if len(sc.eps) > 0 || sc.anchor != nil {
			note(&Damage{File: headName, Sequence: 0,
				Reason: fmt.Sprintf("%s (the witness of acknowledged episodes) is missing from a ledger holding episodes up to %d", headName, next)})
		}
		w = &witness{chain: Genesis}
	}
	// Unreadable records (checksum, framing, sealed blocks) in the middle.
	if sc.bad != nil {
		note(&Damage{File: sc.badAt.file, Offset: sc.badAt.off, Sequence: *sc.bad, Reason: "unreadable: " + sc.badWhy})
	}
	// A damaged tail: fine past the witness (never acknowledged), loss below it.
	if sc.torn > 0 && sc.tornSeq < w.next {
		note(&Damage{File: sc.tornAt.file, Offset: sc.tornAt.off, Sequence: sc.tornSeq,
			Reason: fmt.Sprintf("acknowledged record cut or damaged (%d bytes to the end of the file); %s acknowledges up to sequence %d", sc.torn, headName, w.next-1)})
	}
	// The chain from the anchor (or genesis) must recompute record by record.
	prev, seq := Genesis, uint64(0)
	if sc.anchor != nil {
		prev, seq = sc.anchor.ChainHash, sc.anchor.Sequence+1
	}
	for i := range sc.eps {
		e := &sc.eps[i]
		if why := checkSealed(e, seq, prev); why != "" {
			if e.Sequence > seq {
				why = fmt.Sprintf("sequences %d..%d are missing before this record", seq, e.Sequence-1)
			}
			note(&Damage{File: sc.locs[i].file, Offset: sc.locs[i].off, Sequence: seq, Reason: why})
			break
		}
		prev, seq = e.ChainHash, seq+1
	}
	// Everything the witness acknowledges must be there, ending on its chain hash.
	switch {
	case next < w.next:
		at := sc.end // the end of the last segment file, where sequence next belongs
		if at.file == "" {
			at.file = headName
		}
		if sc.torn > 0 {
			at = sc.tornAt
		}
		note(&Damage{File: at.file, Offset: at.off, Sequence: next,
			Reason: fmt.Sprintf("the ledger ends before sequence %d but %s acknowledges up to %d (records or segments removed)", next, headName, w.next-1)})
	case w.next > 0:
		got, at, ok := sc.chainAt(w.next - 1)
		if ok && got != w.chain {
			note(&Damage{File: at.file, Offset: at.off, Sequence: w.next - 1,
				Reason: fmt.Sprintf("chain hash %.16s… differs from the acknowledged head %.16s… in %s (record rewritten)", got, w.chain, headName)})
		}
	}
	if worst != nil && w.accepted == worst.Sequence+1 {
		worst.accepted = true
	}
	sc.damage = worst
}

// chainAt returns the chain hash of sequence seq as read, and where; ok is false when
// seq was pruned below the anchor (or is not there).
func (sc *scanned) chainAt(seq uint64) (string, loc, bool) {
	if sc.anchor != nil && seq == sc.anchor.Sequence {
		return sc.anchor.ChainHash, loc{file: anchorName}, true
	}
	i := sort.Search(len(sc.eps), func(i int) bool { return sc.eps[i].Sequence >= seq })
	if i < len(sc.eps) && sc.eps[i].Sequence == seq {
		return sc.eps[i].ChainHash, sc.locs[i], true
	}
	return "", loc{}, false
}
