package ledger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
)

const (
	lockName   = "LOCK"
	anchorName = "anchor.json"
	segPrefix  = "seg-"
	logExt     = ".log"
	zstExt     = ".zst"
	tmpExt     = ".tmp"
)

// anchor replaces a pruned prefix of the chain: the last pruned sequence and its chain
// hash. The first kept episode chains onto ChainHash.
type anchor struct {
	Sequence  uint64 `json:"last_pruned_sequence"`
	ChainHash string `json:"chain_hash"`
}

// segment is one file of the log.
type segment struct {
	first     uint64 // first sequence, from the file name
	count     int    // records in the file
	last      uint64 // last sequence (valid when count > 0)
	lastChain string // chain hash of the last record
	sealed    bool   // .zst
	damaged   bool   // corruption found when it was read: never sealed or rewritten
	size      int64  // bytes on disk
}

func segName(first uint64, ext string) string {
	return fmt.Sprintf("%s%020d%s", segPrefix, first, ext)
}

// loc is where a record lives: its segment file (base name) and byte offset (for a
// sealed segment, the offset of its block).
type loc struct {
	file string
	off  int64
}

// scanned is what opening a folder found.
type scanned struct {
	anchor *anchor
	eps    []Episode
	locs   []loc   // locs[i] is where eps[i] was read
	bad    *uint64 // first sequence that could not be read
	badAt  loc
	badWhy string // what is wrong there
	reason string // where and why (for logs)
	// A damaged tail of the active segment with nothing readable after it: torn
	// bytes from tornAt.off, where sequence tornSeq would have started.
	torn    int64
	tornAt  loc
	tornSeq uint64
	// cut is true once the torn tail was cut (a writable open, when it was not
	// acknowledged or the loss was accepted).
	cut bool
	// witness is HEAD (nil when missing); damage what assess found.
	witness *witness
	damage  *Damage
	end     loc // the last segment file and its size
}

func (sc *scanned) markBad(seq uint64, at loc, why string) {
	if sc.bad == nil || seq < *sc.bad {
		s := seq
		sc.bad, sc.badAt, sc.badWhy = &s, at, why
		sc.reason = fmt.Sprintf("segment %s offset %d: %s", at.file, at.off, why)
	}
}

// store owns the files under one folder. The flusher goroutine is the only writer of
// the active segment; the maintenance goroutine seals and prunes closed segments.
type store struct {
	dir      string
	readOnly bool
	sync     bool
	lock     *os.File
	// fault, when set, is asked before each write, fsync and truncate (tests).
	fault func(op, path string) error

	enc *zstd.Encoder
	dec *zstd.Decoder

	mu sync.Mutex // mu guards the following fields
	// segs is ordered by first sequence; when writable the last one is the active segment.
	segs []*segment

	// Owned by the flusher goroutine (or Open/Import before Start).
	active     *os.File
	activeSize int64 // bytes of the active segment that are durable and acknowledged
	head       *headFile
	// broken is set when a failed batch could not be cut back (or the witness not
	// restored): the next batch first retries the repair and fails while it fails.
	broken error
}

func (s *store) inject(op, path string) error {
	if s.fault == nil {
		return nil
	}
	return s.fault(op, path)
}

// classify maps an I/O error to its sentinel.
func classify(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		return ErrDiskFull
	case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return ErrReadOnly
	}
	return ErrStorage
}

// ioErr names op and path once: the *fs.PathError of the os call on that same path
// ("open <path>: is a directory") is unwrapped to its cause, so that the message does
// not repeat the path ("read <path>: read <path>: is a directory").
func ioErr(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path && pe.Err != nil {
		return fmt.Errorf("%w: %s %s: %w", classify(err), op, path, pe.Err)
	}
	return fmt.Errorf("%w: %s %s: %w", classify(err), op, path, err)
}

// openStore opens (writable: creates, locks and repairs) the folder, reads every
// record after the anchor and checks them against the witness (assess). A writable
// open with damage fails with ErrLoss unless acceptLoss.
func openStore(dir string, readOnly, syncWrites, acceptLoss bool, fault func(op, path string) error) (*store, *scanned, error) {
	if dir == "" {
		return nil, nil, fmt.Errorf("%w: empty ledger folder", ErrInvalidEpisode)
	}
	s := &store{dir: dir, readOnly: readOnly, sync: syncWrites, fault: fault}
	if !readOnly {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, nil, ioErr("create folder", dir, err)
		}
		lp := filepath.Join(dir, lockName)
		f, err := os.OpenFile(lp, os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			return nil, nil, ioErr("open lock", lp, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, nil, fmt.Errorf("%w: %s", ErrLocked, dir)
			}
			return nil, nil, ioErr("lock", lp, err)
		}
		s.lock = f
	}
	var err error
	if s.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBlockRaw)); err != nil {
		s.close()
		return nil, nil, fmt.Errorf("%w: zstd decoder: %w", ErrStorage, err)
	}
	if !readOnly {
		if s.enc, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault)); err != nil {
			s.close()
			return nil, nil, fmt.Errorf("%w: zstd encoder: %w", ErrStorage, err)
		}
	}
	// The witness is read before the segments: HEAD is written after the records it
	// covers are on disk, so a reader racing a running node's flusher (sel verify) may
	// see records past the witness, never a witness past the records.
	w, werr := readWitness(dir)
	born, berr := readBirth(dir)
	if berr != nil {
		s.close()
		return nil, nil, berr
	}
	sc, err := s.load()
	if err != nil {
		s.close()
		return nil, nil, err
	}
	switch {
	case werr != nil:
		sc.damage = &Damage{File: headName, Reason: werr.Error()}
	case w == nil && len(sc.eps) == 0 && sc.anchor == nil && born != "":
		// Nothing at all, not even the witness, where a ledger was created: the folder
		// was emptied or removed (a fresh ledger writes HEAD before its birth record).
		sc.damage = &Damage{File: headName, Reason: fmt.Sprintf(
			"the ledger folder is empty or missing, but %s records a ledger created here at %s: its episodes and witness were removed",
			filepath.Base(birthPath(dir)), born)}
	default:
		sc.witness = w
		assess(sc)
	}
	if readOnly {
		return s, sc, nil
	}
	if err := s.repair(sc, acceptLoss); err != nil {
		s.close()
		return nil, nil, err
	}
	if err := s.openActive(sc); err != nil {
		s.close()
		return nil, nil, err
	}
	if born == "" {
		if err := writeBirth(dir, s.sync); err != nil {
			s.close()
			return nil, nil, err
		}
	}
	return s, sc, nil
}

// birthPath is the ledger's birth record, beside (not inside) its folder, so that
// emptying or removing the folder does not remove the evidence that a ledger was there:
// <state>/sel → <state>/sel.created.
func birthPath(dir string) string { return filepath.Clean(dir) + ".created" }

// readBirth returns the creation time a birth record holds ("" when there is none).
func readBirth(dir string) (string, error) {
	p := birthPath(dir)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", ioErr("read", p, err)
	}
	if s := strings.TrimSpace(string(b)); s != "" && len(s) <= 64 {
		return s, nil
	}
	return "an unknown time (the record is unreadable)", nil
}

// writeBirth records, once, that a ledger lives in dir (the creation time, RFC 3339).
func writeBirth(dir string, syncWrites bool) error {
	p := birthPath(dir)
	if err := writeFileSync(p, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), syncWrites); err != nil {
		return err
	}
	if !syncWrites {
		return nil
	}
	parent := filepath.Dir(p)
	d, err := os.Open(parent)
	if err != nil {
		return ioErr("open", parent, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return ioErr("fsync", parent, err)
	}
	return nil
}

// repair cuts a torn tail that was never acknowledged, refuses damage (ErrLoss) unless
// acceptLoss, and opens the witness (re-anchored on what was found after an accepted
// loss).
func (s *store) repair(sc *scanned, acceptLoss bool) error {
	d := sc.damage
	if d != nil && !d.accepted && !acceptLoss {
		return fmt.Errorf("%w: %s", ErrLoss, d)
	}
	if sc.torn > 0 && (d == nil || d.accepted || acceptLoss || sc.witness == nil || sc.tornSeq >= sc.witness.next) {
		path := filepath.Join(s.dir, sc.tornAt.file)
		if err := os.Truncate(path, sc.tornAt.off); err != nil {
			return ioErr("truncate torn tail of", path, err)
		}
		if seg := s.segs[len(s.segs)-1]; !seg.sealed {
			seg.size = sc.tornAt.off
		}
		sc.cut = true
	}
	next, chain := sc.found()
	w := witness{next: next, chain: chain}
	switch {
	case sc.witness != nil && (d == nil || d.accepted):
		w = *sc.witness // keeps the accepted damage it records
	case sc.witness != nil:
		w.gen = sc.witness.gen
	}
	if err := s.openHead(w); err != nil {
		return err
	}
	if d != nil && !d.accepted {
		// An accepted loss: the witness now stands on what is on disk, and remembers the
		// damage so that the same damage does not refuse the next start.
		return s.setAccepted(next, chain, d.Sequence+1)
	}
	return nil
}

// load lists and reads the segments.
func (s *store) load() (*scanned, error) {
	sc := &scanned{}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		if s.readOnly && errors.Is(err, fs.ErrNotExist) {
			return sc, nil
		}
		return nil, ioErr("list", s.dir, err)
	}
	if a, err := readAnchor(filepath.Join(s.dir, anchorName)); err != nil {
		return nil, err
	} else {
		sc.anchor = a
	}
	logs, zsts := map[uint64]bool{}, map[uint64]bool{}
	for _, de := range ents {
		name := de.Name()
		if strings.HasSuffix(name, tmpExt) {
			if !s.readOnly {
				_ = os.Remove(filepath.Join(s.dir, name))
			}
			continue
		}
		if !strings.HasPrefix(name, segPrefix) {
			continue
		}
		ext := filepath.Ext(name)
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), ext), 10, 64)
		if err != nil {
			continue
		}
		switch ext {
		case logExt:
			logs[n] = true
		case zstExt:
			zsts[n] = true
		}
	}
	for n := range zsts {
		if logs[n] { // crash between sealing and removing the log: the log is the truth
			if !s.readOnly {
				if err := os.Remove(filepath.Join(s.dir, segName(n, zstExt))); err != nil {
					return nil, ioErr("remove", segName(n, zstExt), err)
				}
			}
			continue
		}
		s.segs = append(s.segs, &segment{first: n, sealed: true})
	}
	for n := range logs {
		s.segs = append(s.segs, &segment{first: n})
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].first < s.segs[j].first })

	next := uint64(0)
	if sc.anchor != nil {
		next = sc.anchor.Sequence + 1
	}
	for i, seg := range s.segs {
		lastSeg := i == len(s.segs)-1
		var err error
		if seg.sealed {
			err = s.readSealed(seg, sc, &next)
		} else {
			err = s.readLog(seg, sc, &next, lastSeg)
		}
		if err != nil {
			return nil, err
		}
		if lastSeg {
			ext := logExt
			if seg.sealed {
				ext = zstExt
			}
			sc.end = loc{segName(seg.first, ext), seg.size}
		}
	}
	return sc, nil
}

// take records one decoded episode of seg, read at at.
func (sc *scanned) take(seg *segment, e Episode, at loc, next *uint64) {
	seg.count++
	seg.last, seg.lastChain = e.Sequence, e.ChainHash
	if sc.anchor != nil && e.Sequence <= sc.anchor.Sequence {
		return // in the pruned prefix of a partly pruned segment
	}
	sc.eps = append(sc.eps, e)
	sc.locs = append(sc.locs, at)
	*next = e.Sequence + 1
}

func (s *store) readLog(seg *segment, sc *scanned, next *uint64, active bool) error {
	path := filepath.Join(s.dir, segName(seg.first, logExt))
	b, err := os.ReadFile(path)
	if err != nil {
		return ioErr("read", path, err)
	}
	seg.size = int64(len(b))
	name := filepath.Base(path)
	off := 0
	for off < len(b) {
		e, n, err := decodeRecord(b[off:])
		if err == nil {
			sc.take(seg, e, loc{name, int64(off)}, next)
			off += n
			continue
		}
		resume := nextRecordAt(b, off+1)
		if resume < 0 && active {
			// Torn tail: nothing readable follows. Whether it was acknowledged is for
			// assess to say (against the witness); repair cuts it when it was not.
			sc.torn, sc.tornAt, sc.tornSeq = int64(len(b)-off), loc{name, int64(off)}, *next
			return nil
		}
		seg.damaged = true
		sc.markBad(*next, loc{name, int64(off)}, err.Error())
		if resume < 0 {
			return nil
		}
		off = resume
	}
	return nil
}

func (s *store) readSealed(seg *segment, sc *scanned, next *uint64) error {
	path := filepath.Join(s.dir, segName(seg.first, zstExt))
	b, err := os.ReadFile(path)
	if err != nil {
		return ioErr("read", path, err)
	}
	seg.size = int64(len(b))
	name := filepath.Base(path)
	bad := func(at int, why string) {
		seg.damaged = true
		sc.markBad(*next, loc{name, int64(at)}, why)
	}
	if len(b) < len(sealedHeader) || string(b[:len(sealedHeader)]) != sealedHeader {
		bad(0, "bad header")
		return nil
	}
	off := len(sealedHeader)
	for off < len(b) {
		raw, n, err := s.decodeBlock(b[off:])
		if n == 0 {
			bad(off, err.Error())
			return nil
		}
		off += n
		if err != nil {
			bad(off-n, err.Error())
			continue
		}
		for r := 0; r < len(raw); {
			e, m, err := decodeRecord(raw[r:])
			if err != nil {
				bad(off-n, "record in block: "+err.Error())
				break
			}
			sc.take(seg, e, loc{name, int64(off - n)}, next)
			r += m
		}
	}
	return nil
}

// decodeBlock decodes the sealed block at the start of b. n is the block's size when
// its header is sound (so the reader can skip a damaged body), 0 when even the header
// is unusable.
func (s *store) decodeBlock(b []byte) (raw []byte, n int, err error) {
	if len(b) < blockHeader {
		return nil, 0, fmt.Errorf("%w: short block header", ErrCorrupt)
	}
	le := binary.LittleEndian
	clen, rlen := le.Uint32(b[4:]), le.Uint32(b[8:])
	if le.Uint32(b) != blockMagic || rlen > maxBlockRaw || int64(clen) > int64(len(b)-blockHeader) {
		return nil, 0, fmt.Errorf("%w: bad block header", ErrCorrupt)
	}
	n = blockHeader + int(clen)
	body := b[blockHeader:n]
	if crc32.Checksum(body, crcTable) != le.Uint32(b[12:]) {
		return nil, n, fmt.Errorf("%w: block checksum", ErrCorrupt)
	}
	raw, err = s.dec.DecodeAll(body, make([]byte, 0, rlen))
	if err != nil || len(raw) != int(rlen) {
		return nil, n, fmt.Errorf("%w: block body: %v", ErrCorrupt, err)
	}
	return raw, n, nil
}

func readAnchor(path string) (*anchor, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, ioErr("read", path, err)
	}
	var a anchor
	if err := json.Unmarshal(b, &a); err != nil || len(a.ChainHash) != 64 {
		return nil, fmt.Errorf("%w: anchor %s unreadable", ErrCorrupt, path)
	}
	return &a, nil
}

// openActive opens the last log segment for appending, or creates one.
func (s *store) openActive(sc *scanned) error {
	next := uint64(0)
	if sc.anchor != nil {
		next = sc.anchor.Sequence + 1
	}
	if n := len(sc.eps); n > 0 {
		next = sc.eps[n-1].Sequence + 1
	}
	if n := len(s.segs); n > 0 && !s.segs[n-1].sealed && !s.segs[n-1].damaged {
		seg := s.segs[n-1]
		path := filepath.Join(s.dir, segName(seg.first, logExt))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return ioErr("open", path, err)
		}
		s.active, s.activeSize = f, seg.size
		return nil
	}
	return s.createActive(next)
}

func (s *store) createActive(first uint64) error {
	path := filepath.Join(s.dir, segName(first, logExt))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o640)
	if err != nil {
		return ioErr("create", path, err)
	}
	if err := s.syncDir(); err != nil {
		f.Close()
		return err
	}
	if s.active != nil {
		s.active.Close()
	}
	s.active, s.activeSize = f, 0
	s.mu.Lock()
	s.segs = append(s.segs, &segment{first: first})
	s.mu.Unlock()
	return nil
}

func (s *store) syncDir() error {
	if !s.sync {
		return nil
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return ioErr("open", s.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return ioErr("fsync", s.dir, err)
	}
	return nil
}

// writeBatch appends encoded records (sequences first..last) to the active segment,
// fsyncs it and then writes the witness (HEAD) for last. Any failure cuts the segment
// back to the last acknowledged offset and restores the witness (rollback), so the
// files stay consistent and a later batch can succeed once the disk accepts writes
// again; when even that fails the store is broken and each later batch first retries
// the rollback. It reports whether a segment fsync was issued.
func (s *store) writeBatch(buf []byte, first, last uint64, lastChain string) (synced bool, err error) {
	if s.active == nil {
		return false, fmt.Errorf("%w: no active segment", ErrStorage)
	}
	if s.broken != nil {
		if rerr := s.rollback(); rerr != nil {
			return false, fmt.Errorf("%w (earlier: %w)", rerr, s.broken)
		}
		s.broken = nil
	}
	path := s.active.Name()
	fail := func(e error) (bool, error) {
		if rerr := s.rollback(); rerr != nil {
			s.broken = rerr
		}
		return synced, e
	}
	if werr := s.inject("write", path); werr != nil {
		return fail(ioErr("write", path, werr))
	}
	if _, werr := s.active.Write(buf); werr != nil {
		return fail(ioErr("write", path, werr))
	}
	if s.sync {
		synced = true
		serr := s.inject("fsync", path)
		if serr == nil {
			serr = s.active.Sync()
		}
		if serr != nil {
			return fail(ioErr("fsync", path, serr))
		}
	}
	if herr := s.writeHead(last+1, lastChain); herr != nil {
		return fail(herr)
	}
	s.activeSize += int64(len(buf))
	s.mu.Lock()
	seg := s.segs[len(s.segs)-1]
	seg.count += int(last - first + 1)
	seg.last, seg.lastChain, seg.size = last, lastChain, s.activeSize
	s.mu.Unlock()
	return synced, nil
}

// rollback cuts the active segment back to its acknowledged size (and syncs the cut)
// and puts the last durable witness back.
func (s *store) rollback() error {
	path := s.active.Name()
	err := s.inject("truncate", path)
	if err == nil {
		err = s.active.Truncate(s.activeSize)
	}
	if err == nil && s.sync {
		err = s.active.Sync()
	}
	if err != nil {
		return fmt.Errorf("%w: cut back %s to %d bytes after a failed write: %w", classify(err), path, s.activeSize, err)
	}
	if err := s.restoreHead(); err != nil {
		return err
	}
	return nil
}

// roll closes the active segment (already fsynced) and starts seg-<next>.log.
func (s *store) roll(next uint64) error {
	if s.activeSize == 0 {
		return nil
	}
	return s.createActive(next)
}

// sealable returns the closed, undamaged log segments (every one but the active).
func (s *store) sealable() []*segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*segment
	for i, seg := range s.segs {
		if i == len(s.segs)-1 {
			break
		}
		if !seg.sealed && !seg.damaged && seg.count > 0 {
			out = append(out, seg)
		}
	}
	return out
}

// seal compresses a closed log segment into seg-<first>.zst (written to a temporary
// file, fsynced, renamed, then the log removed).
func (s *store) seal(seg *segment) error {
	src := filepath.Join(s.dir, segName(seg.first, logExt))
	b, err := os.ReadFile(src)
	if err != nil {
		return ioErr("read", src, err)
	}
	out := []byte(sealedHeader)
	le := binary.LittleEndian
	flush := func(raw []byte) {
		if len(raw) == 0 {
			return
		}
		h := len(out)
		out = append(out, make([]byte, blockHeader)...)
		out = s.enc.EncodeAll(raw, out)
		body := out[h+blockHeader:]
		le.PutUint32(out[h:], blockMagic)
		le.PutUint32(out[h+4:], uint32(len(body)))
		le.PutUint32(out[h+8:], uint32(len(raw)))
		le.PutUint32(out[h+12:], crc32.Checksum(body, crcTable))
	}
	start := 0
	for off := 0; off < len(b); {
		n, err := recordLen(b[off:])
		if err != nil {
			return fmt.Errorf("seal %s offset %d: %w", src, off, err)
		}
		off += n
		if off-start >= blockRawTarget {
			flush(b[start:off])
			start = off
		}
	}
	flush(b[start:])
	dst := filepath.Join(s.dir, segName(seg.first, zstExt))
	if err := writeFileSync(dst, out, s.sync); err != nil {
		return err
	}
	if err := s.syncDir(); err != nil {
		return err
	}
	s.mu.Lock()
	seg.sealed, seg.size = true, int64(len(out))
	s.mu.Unlock()
	if err := os.Remove(src); err != nil {
		return ioErr("remove", src, err)
	}
	return s.syncDir()
}

// writeFileSync writes path atomically: path.tmp, fsync, rename.
func writeFileSync(path string, b []byte, syncWrites bool) error {
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return ioErr("create", tmp, err)
	}
	_, err = f.Write(b)
	if err == nil && syncWrites {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return ioErr("write", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return ioErr("rename", tmp, err)
	}
	return nil
}

// prune removes the closed segments whose every record is at or below upTo, after
// writing the anchor (their last sequence and chain hash) that replaces them.
func (s *store) prune(upTo uint64) (int, error) {
	s.mu.Lock()
	var drop []*segment
	for i, seg := range s.segs {
		if i == len(s.segs)-1 || seg.count == 0 || seg.last > upTo || seg.damaged {
			break
		}
		drop = append(drop, seg)
	}
	s.mu.Unlock()
	if len(drop) == 0 {
		return 0, nil
	}
	last := drop[len(drop)-1]
	a, _ := json.Marshal(anchor{Sequence: last.last, ChainHash: last.lastChain})
	if err := writeFileSync(filepath.Join(s.dir, anchorName), a, s.sync); err != nil {
		return 0, err
	}
	if err := s.syncDir(); err != nil {
		return 0, err
	}
	for _, seg := range drop {
		ext := logExt
		if seg.sealed {
			ext = zstExt
		}
		p := filepath.Join(s.dir, segName(seg.first, ext))
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, ioErr("remove", p, err)
		}
	}
	s.mu.Lock()
	s.segs = s.segs[len(drop):]
	s.mu.Unlock()
	return len(drop), s.syncDir()
}

// diskStats reports the number of segment files and their bytes.
func (s *store) diskStats() (segments int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		bytes += seg.size
	}
	return len(s.segs), bytes
}

func (s *store) close() error {
	var err error
	if s.head != nil {
		_ = s.head.f.Close()
		s.head = nil
	}
	if s.active != nil {
		err = s.active.Close()
		s.active = nil
	}
	if s.enc != nil {
		_ = s.enc.Close()
		s.enc = nil
	}
	if s.dec != nil {
		s.dec.Close()
		s.dec = nil
	}
	if s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		_ = s.lock.Close()
		s.lock = nil
	}
	return err
}
