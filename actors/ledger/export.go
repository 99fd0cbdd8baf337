package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// exportAnchor is the first line of an export of a pruned ledger.
type exportAnchor struct {
	Anchor *anchor `json:"anchor"`
}

const maxExportLine = 2 * maxRecordPayload

// Export writes the retained episodes as JSON lines, oldest first, every field
// included. When the ledger was pruned the first line is
// {"anchor":{"last_pruned_sequence":N,"chain_hash":"…"}}, the point the first
// episode chains onto.
func (l *Ledger) Export(w io.Writer) error {
	l.mu.RLock()
	eps := append([]*entry(nil), l.eps...) // entries are immutable once added
	a := l.anchor
	l.mu.RUnlock()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if a != nil {
		if err := enc.Encode(exportAnchor{Anchor: a}); err != nil {
			return fmt.Errorf("export anchor: %w", err)
		}
	}
	for _, e := range eps {
		if err := enc.Encode(&e.ep); err != nil {
			return fmt.Errorf("export episode %d: %w", e.ep.Sequence, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// Import reads an Export stream into this ledger, which must be empty, writable and
// not started. Every episode is recomputed (sequence, field limits, episode hash,
// chain) before anything is written; a stream that does not recompute is refused
// with ErrTampered naming the first bad sequence, and nothing is stored. Retention
// applies: only the newest MaxEpisodes are kept, after an anchor. An import cut short
// by a crash leaves a partial ledger: import again into an empty folder.
func (l *Ledger) Import(r io.Reader) (int, error) {
	if l.readOnly {
		return 0, fmt.Errorf("import: %w: opened read-only", ErrClosed)
	}
	l.qmu.RLock()
	busy := l.started || l.closed
	l.qmu.RUnlock()
	if busy {
		return 0, fmt.Errorf("import: %w: ledger started or shut down", ErrNotEmpty)
	}
	l.mu.RLock()
	empty := len(l.eps) == 0 && l.anchor == nil && l.next == 0
	l.mu.RUnlock()
	if !empty {
		return 0, fmt.Errorf("import: %w", ErrNotEmpty)
	}

	br := bufio.NewReaderSize(r, 64<<10)
	var (
		anc     *anchor
		kept    []Episode
		prev    = Genesis
		seq     uint64
		line    int
		total   int
		scratch []byte
	)
	for {
		b, err := readLine(br, scratch[:0])
		scratch = b
		if errors.Is(err, io.EOF) && len(b) == 0 {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("import line %d: %w", line+1, err)
		}
		line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		if line == 1 && bytes.HasPrefix(b, []byte(`{"anchor"`)) {
			var ea exportAnchor
			if err := strictUnmarshal(b, &ea); err != nil || ea.Anchor == nil || len(ea.Anchor.ChainHash) != 64 {
				return 0, fmt.Errorf("import line 1: %w: bad anchor", ErrTampered)
			}
			anc = ea.Anchor
			prev, seq = anc.ChainHash, anc.Sequence+1
			continue
		}
		var ep Episode
		if err := strictUnmarshal(b, &ep); err != nil {
			return 0, fmt.Errorf("import line %d: %w: %w", line, ErrTampered, err)
		}
		if ep.Actions == nil {
			ep.Actions = []Action{}
		}
		if why := storedProblem(&ep); why != "" {
			return 0, fmt.Errorf("import sequence %d: %w: %s", seq, ErrTampered, why)
		}
		if why := checkSealed(&ep, seq, prev); why != "" {
			return 0, fmt.Errorf("import sequence %d: %w: %s", seq, ErrTampered, why)
		}
		kept = append(kept, ep)
		prev, seq = ep.ChainHash, seq+1
		total++
		if l.maxEps >= 0 && len(kept) > 2*max(l.maxEps, 1024) {
			kept, anc = keepLast(kept, l.maxEps, anc)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if l.maxEps >= 0 && len(kept) > l.maxEps {
		kept, anc = keepLast(kept, l.maxEps, anc)
	}
	if err := l.writeImported(anc, kept); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	l.mu.Lock()
	l.anchor = anc
	if anc != nil {
		l.head, l.next = anc.ChainHash, anc.Sequence+1
	}
	for _, ep := range kept {
		l.addLocked(ep)
	}
	l.mu.Unlock()
	l.mEpisodes.Set(l.next)
	l.Verify()
	return total, nil
}

func keepLast(eps []Episode, n int, a *anchor) ([]Episode, *anchor) {
	if len(eps) <= n {
		return eps, a
	}
	k := len(eps) - n
	last := eps[k-1]
	return append([]Episode(nil), eps[k:]...), &anchor{Sequence: last.Sequence, ChainHash: last.ChainHash}
}

// writeImported stores the anchor (first) and the episodes, rolling segments as they fill.
func (l *Ledger) writeImported(a *anchor, eps []Episode) error {
	st := l.st
	if a != nil {
		ab, _ := json.Marshal(a)
		if err := writeFileSync(st.dir+"/"+anchorName, ab, st.sync); err != nil {
			return err
		}
		if err := st.syncDir(); err != nil {
			return err
		}
	}
	var buf []byte
	start := 0
	flush := func(end int) error {
		if end == start {
			return nil
		}
		if _, err := st.writeBatch(buf, eps[start].Sequence, eps[end-1].Sequence, eps[end-1].ChainHash); err != nil {
			return err
		}
		buf, start = buf[:0], end
		if st.activeSize >= l.opts.SegmentBytes {
			return st.roll(eps[end-1].Sequence + 1)
		}
		return nil
	}
	for i := range eps {
		var err error
		if buf, err = appendRecord(buf, &eps[i]); err != nil {
			return err
		}
		if st.activeSize+int64(len(buf)) >= l.opts.SegmentBytes {
			if err := flush(i + 1); err != nil {
				return err
			}
		}
	}
	if len(eps) == 0 && a != nil { // only an anchor: the witness acknowledges it
		return st.writeHead(a.Sequence+1, a.ChainHash)
	}
	return flush(len(eps))
}

// storedProblem checks the field limits of a stored (already sealed) episode.
func storedProblem(e *Episode) string {
	n, err := normalize(*e)
	switch {
	case err != nil:
		return err.Error()
	case n.Context != e.Context:
		return "context longer than 500 characters or not UTF-8"
	case n.ResponseSummary != e.ResponseSummary:
		return "response summary longer than 500 characters or not UTF-8"
	}
	return ""
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// readLine reads one line (without its newline) of at most maxExportLine bytes.
func readLine(br *bufio.Reader, dst []byte) ([]byte, error) {
	for {
		frag, err := br.ReadSlice('\n')
		dst = append(dst, frag...)
		if len(dst) > maxExportLine {
			return dst, fmt.Errorf("%w: line longer than %d bytes", ErrTampered, maxExportLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(dst, []byte{'\n'}), err
	}
}

// VerifyDir opens dir read-only and verifies its chain (for `bizra sel verify`).
func VerifyDir(dir string) (Verification, error) {
	l, err := OpenReadOnly(dir)
	if err != nil {
		return Verification{}, err
	}
	defer l.Close()
	return l.Verify(), nil
}

// ExportDir opens dir read-only and exports it to w (for `bizra sel export`).
func ExportDir(dir string, w io.Writer) error {
	l, err := OpenReadOnly(dir)
	if err != nil {
		return err
	}
	defer l.Close()
	return l.Export(w)
}
