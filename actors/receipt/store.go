package receipt

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// The durable log: append-only segments of JSON lines named seg-NNNNNNNN.jsonl; a full
// segment is compressed to seg-NNNNNNNN.jsonl.zst (one zstd frame) and the .jsonl
// removed. Only the last segment is ever appended to. A segment written by this version
// starts with logHeader and holds MAC'd records (frame.go); a segment without the header
// is legacy (one bare receipt per line, no integrity check), read only.

var segName = regexp.MustCompile(`^seg-([0-9]{8})\.jsonl(\.zst)?$`)

func segPath(dir string, num uint32, compressed bool) string {
	name := fmt.Sprintf("seg-%08d.jsonl", num)
	if compressed {
		name += ".zst"
	}
	return filepath.Join(dir, name)
}

type segment struct {
	num        uint32
	compressed bool
	legacy     bool    // written before record MACs (no logHeader)
	size       int64   // plain segments: bytes of records (a preallocated zero tail excluded)
	keys       []idKey // ids stored in this segment, for retention
}

type position struct {
	seg    uint32
	off    uint32 // of raw (the receipt bytes), not of the line
	n      uint32
	sealed bool // false: only the issued record (Get answers ErrPending)
	// A receipt sealed by a compact record: seg, off and n are its issued record (the
	// body), cseg, coff and cn the compact record; cn is 0 for a full sealed record.
	cseg, coff, cn uint32
}

type storeOptions struct {
	dir         string
	segBytes    int64
	segReceipts int
	maxReceipts int
	maxSegments int
	logger      *slog.Logger
	macKey      []byte
	// prealloc is the size of the spare segment the background goroutine prepares
	// (header, then space reserved with fallocate, fsynced) before the active one
	// fills, so appends neither grow the file nor allocate blocks; 0 = no spare:
	// segments grow by appending.
	prealloc int64
	// fullSync fsyncs instead of fdatasync (the benchmarks' before case).
	fullSync bool
	// faults, when set (tests), is consulted before each write, fsync and truncate of
	// the active segment; an error it returns is taken as that operation's failure.
	faults func(op string) error
}

type record struct {
	key     idKey
	off     int64 // offset of raw within the segment
	n       int
	sealed  bool
	compact bool // a compact sealed record: completes the issued record's position
}

type store struct {
	opts storeOptions
	lock *os.File
	enc  *zstd.Encoder
	dec  *zstd.Decoder

	// mu guards the following fields.
	mu     sync.RWMutex
	index  map[idKey]position
	segs   []*segment // oldest first; the last one is the active, uncompressed segment
	active *os.File   // the last segment, read with ReadAt by lookups

	// cacheMu guards the following fields (one decompressed segment for lookups).
	cacheMu   sync.Mutex
	cacheSeg  uint32
	cacheData []byte

	// The writer goroutine alone uses the following fields.
	activeSize  int64
	activeCount int  // sealed records in the active segment
	spareAsked  bool // the next segment's spare was asked for (at half the active one)
	dirty       bool // a failed write could not be cut back: truncate before the next one

	// The background goroutine (compression, retention); bgMu guards bg sends and bgClosed.
	bgMu         sync.Mutex
	bg           chan bgReq
	bgDone       chan struct{}
	bgClosed     bool
	retainQueued atomic.Bool
	lastWrite    atomic.Int64 // unix nanos of the last append (the background waits for a pause)

	// spareMu guards the following fields: the spare segment prepared in the background
	// (nil until it is ready) and the number being prepared (0: none; a rotation that
	// finds no spare ready sets it to 0, and the preparation then discards its file).
	spareMu   sync.Mutex
	spare     *os.File
	spareNum  uint32
	spareWant uint32

	// Set by openStore: what loading found.
	rejected   int                // records refused (integrity, framing)
	duplicates int                // records ignored because their id was already indexed
	legacySegs int                // segments without record MACs
	unsealed   map[idKey]*leafMsg // issued records without a sealed record
	loadMAC    *macer

	// Set by openStore: the newest batch seal found in the log, to continue the chain.
	lastSeq  uint64
	lastRoot [32]byte
	hasSeal  bool
	cutBytes int64 // bytes cut from a torn tail on open
}

func openStore(o storeOptions) (_ *store, err error) {
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: create %s: %w", ErrStore, o.dir, err)
	}
	lock, err := lockDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	st := &store{opts: o, lock: lock, index: make(map[idKey]position), unsealed: make(map[idKey]*leafMsg),
		loadMAC: newMacer(o.macKey)}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if st.enc, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest)); err != nil {
		return nil, fmt.Errorf("%w: zstd: %w", ErrStore, err)
	}
	if st.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<31)); err != nil {
		return nil, fmt.Errorf("%w: zstd: %w", ErrStore, err)
	}
	entries, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrStore, o.dir, err)
	}
	plain, comp := map[uint32]bool{}, map[uint32]bool{}
	var nums []uint32
	for _, e := range entries {
		name := e.Name()
		if filepath.Ext(name) == ".tmp" {
			_ = os.Remove(filepath.Join(o.dir, name)) // an interrupted compression
			continue
		}
		mm := segName.FindStringSubmatch(name)
		if mm == nil {
			continue
		}
		n64, _ := strconv.ParseUint(mm[1], 10, 32)
		n := uint32(n64)
		if !plain[n] && !comp[n] {
			nums = append(nums, n)
		}
		if mm[2] != "" {
			comp[n] = true
		} else {
			plain[n] = true
		}
	}
	slices.Sort(nums)
	for _, n := range nums {
		seg := &segment{num: n, compressed: comp[n]}
		if comp[n] && plain[n] { // crash after the rename, before the removal
			if err := os.Remove(segPath(o.dir, n, false)); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrStore, err)
			}
		}
		if err := st.load(seg); err != nil {
			return nil, err
		}
		st.segs = append(st.segs, seg)
	}
	// Compress every plain segment but the last (a crash between rotation and
	// compression), and the last too when it is legacy: new records go to a new segment.
	for i := 0; i < len(st.segs); i++ {
		if !st.segs[i].compressed && (i+1 < len(st.segs) || st.segs[i].legacy) {
			if err := st.compress(st.segs[i], nil); err != nil {
				return nil, err
			}
		}
	}
	if len(st.segs) == 0 || st.segs[len(st.segs)-1].compressed {
		var next uint32 = 1
		if len(st.segs) > 0 {
			next = st.segs[len(st.segs)-1].num + 1
		}
		f, err := st.create(next)
		if err != nil {
			return nil, err
		}
		st.segs = append(st.segs, &segment{num: next})
		st.active, st.activeSize = f, int64(len(logHeader))
	} else {
		last := st.segs[len(st.segs)-1]
		f, err := os.OpenFile(segPath(o.dir, last.num, false), os.O_RDWR, 0o600)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrStore, err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %w", ErrStore, err)
		}
		size := last.size
		if size > fi.Size() {
			size = fi.Size()
		}
		st.active, st.activeSize, st.activeCount = f, size, len(last.keys)
	}
	st.retain()
	st.startBackground()
	for k := range st.unsealed {
		if p, ok := st.index[k]; !ok || p.sealed {
			delete(st.unsealed, k) // dropped by retention
		}
	}
	return st, nil
}

// takeUnsealed returns the receipts whose issued record is in the log without a sealed
// record (issued before a crash), oldest id first, and forgets them.
func (st *store) takeUnsealed() []*leafMsg {
	out := make([]*leafMsg, 0, len(st.unsealed))
	for _, m := range st.unsealed {
		out = append(out, m)
	}
	st.unsealed = nil
	slices.SortFunc(out, func(a, b *leafMsg) int { return strings.Compare(a.id, b.id) })
	return out
}

// load indexes one segment. A plain segment whose tail is torn (a line without its
// newline, or a line that is not a receipt) is cut back to its last good line.
func (st *store) load(seg *segment) error {
	path := segPath(st.opts.dir, seg.num, seg.compressed)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrStore, path, err)
	}
	if seg.compressed {
		if data, err = st.dec.DecodeAll(data, nil); err != nil {
			return fmt.Errorf("%w: decompress %s: %w", ErrStore, path, err)
		}
	}
	// A preallocated segment ends in zeros, never part of a record (records are JSON
	// lines); a zero inside a line fails that record's MAC like any other damage.
	zeroTail := false
	if !seg.compressed {
		if n := len(bytes.TrimRight(data, "\x00")); n < len(data) {
			data, zeroTail = data[:n], true
		}
	}
	seg.size = int64(len(data))
	var good int
	switch {
	case bytes.HasPrefix(data, []byte(logHeader)):
		good = st.scanV2(seg, path, data)
	case !seg.compressed && bytes.HasPrefix([]byte(logHeader), data):
		// A segment created by this version whose header never reached the disk.
		st.opts.logger.Warn("receipt segment header torn; rewritten", "segment", path, "cut_bytes", len(data))
		st.cutBytes += int64(len(data))
		seg.size = int64(len(logHeader))
		return writeFileSync(path, []byte(logHeader))
	default:
		seg.legacy = true
		st.legacySegs++
		st.opts.logger.Warn("receipt segment written before record MACs: read without integrity check, no longer appended to",
			"segment", path)
		good = st.scan(seg, data)
	}
	if good == len(data) {
		return nil
	}
	if seg.compressed {
		st.rejected++
		st.opts.logger.Error("receipt log record refused: bad line in a compressed segment; ignoring the rest",
			"segment", path, "offset", good)
		return nil
	}
	st.opts.logger.Warn("receipt log torn tail cut", "segment", path, "kept_bytes", good, "cut_bytes", len(data)-good)
	st.cutBytes += int64(len(data) - good)
	seg.size = int64(good)
	if zeroTail { // keep the preallocation: zero the torn bytes instead of cutting the file
		if err := zeroRange(path, int64(good), int64(len(data))); err != nil {
			return fmt.Errorf("%w: cut torn tail of %s: %w", ErrStore, path, err)
		}
		return nil
	}
	if err := os.Truncate(path, int64(good)); err != nil {
		return fmt.Errorf("%w: cut torn tail of %s: %w", ErrStore, path, err)
	}
	return nil
}

// zeroRange overwrites [off, end) of the file at path with zeros and fsyncs it.
func zeroRange(path string, off, end int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := zeroFill(f, off, end); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// zeroFill writes zeros over [off, end) of f (no fsync).
func zeroFill(f *os.File, off, end int64) error {
	z := make([]byte, min(end-off, 1<<20))
	for off < end {
		n := min(int64(len(z)), end-off)
		if _, err := f.WriteAt(z[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}

type scanLine struct {
	ReceiptID string `json:"receipt_id"`
	Seal      *struct {
		BatchSeq uint64 `json:"batch_seq"`
		Root     string `json:"root"`
	} `json:"seal"`
}

// scan indexes complete lines and returns the length of the good prefix.
func (st *store) scan(seg *segment, data []byte) int {
	off := 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return off
		}
		line := data[off : off+nl]
		var sl scanLine
		if json.Unmarshal(line, &sl) != nil {
			return off
		}
		key, ok := parseIDKey(sl.ReceiptID)
		if !ok {
			return off
		}
		if _, dup := st.index[key]; dup {
			st.duplicate(segPath(st.opts.dir, seg.num, seg.compressed), off, sl.ReceiptID)
			off += nl + 1
			continue
		}
		st.noteSeal(&sl)
		st.index[key] = position{seg: seg.num, off: uint32(off), n: uint32(nl), sealed: true}
		seg.keys = append(seg.keys, key)
		off += nl + 1
	}
	return off
}

// noteSeal keeps the newest batch seal seen, to continue the chain.
func (st *store) noteSeal(sl *scanLine) {
	if sl.Seal == nil {
		return
	}
	var root [32]byte
	if decodeHexInto(root[:], sl.Seal.Root) == nil && (!st.hasSeal || sl.Seal.BatchSeq >= st.lastSeq) {
		st.hasSeal, st.lastSeq, st.lastRoot = true, sl.Seal.BatchSeq, root
	}
}

// maxLoggedRecords bounds the per-record log lines at open (a damaged file may hold
// millions of bad lines); the rest are counted, and Start logs the totals.
const maxLoggedRecords = 16

func (st *store) duplicate(path string, off int, id string) {
	st.duplicates++
	if st.duplicates <= maxLoggedRecords {
		st.opts.logger.Warn("receipt log record ignored: its receipt id is already indexed (the first record stands)",
			"segment", path, "offset", off, "receipt_id", id)
	}
}

func (st *store) reject(path string, off int, reason string) {
	st.rejected++
	if st.rejected <= maxLoggedRecords {
		st.opts.logger.Error("receipt log record refused: integrity check failed; not indexed",
			"segment", path, "offset", off, "reason", reason)
	}
}

var issuedIDMark = []byte(`"receipt_id":"`)

// scanV2 indexes the records of a format-2 segment and returns the length of the good
// prefix: only a last line without its newline (a torn write) ends it. A record that
// fails its MAC or framing is refused (logged, counted, never indexed) and scanning
// goes on; a record whose id is already indexed is ignored, except that a sealed record
// completes an issued one.
func (st *store) scanV2(seg *segment, path string, data []byte) int {
	off := len(logHeader)
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return off
		}
		line := data[off : off+nl]
		st.scanRecord(seg, path, line, off)
		off += nl + 1
	}
	return off
}

func (st *store) scanRecord(seg *segment, path string, line []byte, off int) {
	t, raw, reason := st.loadMAC.checkFrame(line, seg.num, int64(off))
	if reason != "" {
		st.reject(path, off, reason)
		return
	}
	pos := position{seg: seg.num, off: uint32(off + frameHead), n: uint32(len(raw)), sealed: t == recSealed}
	if t == recIssued {
		id := ""
		if i := bytes.Index(raw, issuedIDMark); i >= 0 {
			rest := raw[i+len(issuedIDMark):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				id = string(rest[:j])
			}
		}
		key, ok := parseIDKey(id)
		if !ok {
			st.reject(path, off, "issued record without a receipt id")
			return
		}
		if _, dup := st.index[key]; dup {
			st.duplicate(path, off, id)
			return
		}
		st.index[key] = pos
		seg.keys = append(seg.keys, key)
		st.unsealed[key] = &leafMsg{id: id, key: key, leaf: LeafHash(raw), body: bytes.Clone(raw)}
		return
	}
	if t == recSeal {
		st.scanCompact(seg, path, raw, off)
		return
	}
	var sl scanLine
	if json.Unmarshal(raw, &sl) != nil {
		st.reject(path, off, "sealed record is not a receipt")
		return
	}
	key, ok := parseIDKey(sl.ReceiptID)
	if !ok {
		st.reject(path, off, "sealed record without a receipt id")
		return
	}
	if p, dup := st.index[key]; dup && p.sealed {
		st.duplicate(path, off, sl.ReceiptID)
		return
	}
	st.noteSeal(&sl)
	st.index[key] = pos
	seg.keys = append(seg.keys, key)
	delete(st.unsealed, key)
}

// scanCompact indexes a compact sealed record: it completes the issued record of its
// receipt, whose body must hash to the record's leaf. A record whose issued record is
// not indexed (its segment dropped by retention) is skipped.
func (st *store) scanCompact(seg *segment, path string, raw []byte, off int) {
	leafHex, id, _, _, ok := parseCompact(raw)
	key, okID := parseIDKey(id)
	var sl scanLine
	if !ok || !okID || json.Unmarshal(raw, &sl) != nil || sl.ReceiptID != id {
		st.reject(path, off, "malformed compact sealed record")
		return
	}
	p, found := st.index[key]
	if !found {
		return
	}
	if p.sealed {
		st.duplicate(path, off, id)
		return
	}
	if m, ok := st.unsealed[key]; !ok || hex.EncodeToString(m.leaf[:]) != leafHex {
		st.reject(path, off, "sealed record does not match its issued record")
		return
	}
	st.noteSeal(&sl)
	p.sealed, p.cseg, p.coff, p.cn = true, seg.num, uint32(off+frameHead), uint32(len(raw))
	st.index[key] = p
	seg.keys = append(seg.keys, key)
	delete(st.unsealed, key)
}

// create starts segment num with its header (written and fsynced).
func (st *store) create(num uint32) (*os.File, error) {
	path := segPath(st.opts.dir, num, false)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if _, err = f.WriteString(logHeader); err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		_ = os.Remove(path) // a segment without its header is never left to block the next try
		return nil, fmt.Errorf("%w: write segment header: %w", ErrStore, err)
	}
	if err := syncDir(st.opts.dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("%w: fsync %s: %w", ErrStore, dir, err)
	}
	return nil
}

func (st *store) fault(op string) error {
	if st.opts.faults == nil {
		return nil
	}
	return st.opts.faults(op)
}

// activeNum is the number of the active segment (writer goroutine).
func (st *store) activeNum() uint32 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.segs[len(st.segs)-1].num
}

// write appends chunk at activeSize (no fsync). On a failure the segment is cut back to
// its previous length, so a failed write leaves neither a torn nor a whole record.
func (st *store) write(chunk []byte) error {
	off := st.activeSize
	if st.dirty {
		if err := st.truncate(off); err != nil {
			return fmt.Errorf("%w: cut back a failed write: %w", ErrStore, err)
		}
		st.dirty = false
	}
	err := st.fault("write")
	if err == nil {
		_, err = st.active.WriteAt(chunk, off)
	}
	if err != nil {
		st.cutBack(off)
		return fmt.Errorf("%w: append: %w", ErrStore, err)
	}
	st.activeSize += int64(len(chunk))
	st.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// sync fsyncs the active segment; on a failure the chunk written since off is cut off
// again (its records were never acknowledged).
func (st *store) sync(off int64) error {
	err := st.fault("sync")
	if err == nil {
		if st.opts.fullSync {
			err = st.active.Sync()
		} else {
			err = datasync(st.active)
		}
	}
	if err != nil {
		st.activeSize = off
		st.cutBack(off)
		return fmt.Errorf("%w: fsync: %w", ErrStore, err)
	}
	return nil
}

func (st *store) truncate(off int64) error {
	if err := st.fault("truncate"); err != nil {
		return err
	}
	return st.active.Truncate(off)
}

func (st *store) cutBack(off int64) {
	if st.truncate(off) != nil {
		st.dirty = true
	}
}

// publish makes durable records visible to lookups.
func (st *store) publish(recs []record) {
	st.mu.Lock()
	seg := st.segs[len(st.segs)-1]
	for _, r := range recs {
		if r.compact {
			p, ok := st.index[r.key]
			if !ok { // not reachable: the issued record is published first, and retention never drops the active segment
				continue
			}
			p.sealed, p.cseg, p.coff, p.cn = true, seg.num, uint32(r.off), uint32(r.n)
			st.index[r.key] = p
		} else {
			st.index[r.key] = position{seg: seg.num, off: uint32(r.off), n: uint32(r.n), sealed: r.sealed}
		}
		seg.keys = append(seg.keys, r.key)
		if r.sealed {
			st.activeCount++
		}
	}
	st.mu.Unlock()
}

// maybeRotate starts a new segment once the active one is full and hands the old one
// to the background goroutine, which compresses it and applies retention (so no group
// commit waits for a compression). Called by the writer after publish.
func (st *store) maybeRotate() error {
	if st.activeSize < st.opts.segBytes && st.activeCount < st.opts.segReceipts {
		if !st.spareAsked && (st.activeSize >= st.opts.segBytes/2 || st.activeCount >= st.opts.segReceipts/2) {
			// Half full: prepare the next segment now (a short-lived log never writes one).
			st.spareAsked = true
			st.prepareNext(st.activeNum() + 1)
		}
		st.mu.RLock()
		over := st.opts.maxReceipts > 0 && len(st.index) > st.opts.maxReceipts && len(st.segs) > 1
		st.mu.RUnlock()
		if over && !st.retainQueued.Swap(true) {
			st.background(bgReq{retain: true})
		}
		return nil
	}
	st.mu.RLock()
	old := st.segs[len(st.segs)-1]
	st.mu.RUnlock()
	f, err := st.takeSpare(old.num + 1)
	if err != nil {
		return err
	}
	st.mu.Lock()
	oldFile := st.active
	st.active = f
	st.segs = append(st.segs, &segment{num: old.num + 1})
	st.mu.Unlock()
	st.activeSize, st.activeCount, st.spareAsked = int64(len(logHeader)), 0, false
	st.background(bgReq{seg: old, f: oldFile, retain: true})
	return nil
}

// prepareNext asks the background goroutine to prepare segment num as the spare.
func (st *store) prepareNext(num uint32) {
	if st.opts.prealloc <= 0 {
		return
	}
	st.spareMu.Lock()
	st.spareWant = num
	st.spareMu.Unlock()
	st.background(bgReq{prep: num})
}

// takeSpare returns segment num's file: the spare when it is ready, else a segment
// created now (header only; the preparation under way is discarded).
func (st *store) takeSpare(num uint32) (*os.File, error) {
	st.spareMu.Lock()
	f, n := st.spare, st.spareNum
	st.spare, st.spareNum, st.spareWant = nil, 0, 0
	st.spareMu.Unlock()
	if f != nil {
		tmp := f.Name()
		if n == num {
			final := segPath(st.opts.dir, num, false)
			err := os.Rename(tmp, final)
			if err == nil {
				err = syncDir(st.opts.dir)
				if err != nil {
					_ = os.Remove(final)
				}
			}
			if err == nil {
				return f, nil
			}
			st.opts.logger.Warn("receipt spare segment not used", "segment", num, "err", err)
		}
		f.Close()
		_ = os.Remove(tmp)
	}
	return st.create(num)
}

// prepare writes segment num's header to seg-NNNNNNNN.jsonl.tmp, reserves prealloc
// bytes (fallocate; zeros written where it is not supported), fsyncs it and, unless a rotation gave up on it meanwhile,
// keeps it open as the spare; the rotation renames it into place (and fsyncs the
// folder). A crash leaves at most the .tmp file, which open removes.
func (st *store) prepare(num uint32) error {
	final := segPath(st.opts.dir, num, false)
	tmp := final + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.WriteAt([]byte(logHeader), 0); err != nil {
		return fmt.Errorf("%w: write spare segment: %w", ErrStore, err)
	}
	// Reserve the space with fallocate (no data written: writing zeros cost as much
	// CPU as the commits it saved); write zeros where the file system cannot.
	if err := reserve(f, st.opts.prealloc); err != nil {
		if err := zeroFill(f, int64(len(logHeader)), st.opts.prealloc); err != nil {
			return fmt.Errorf("%w: preallocate spare segment: %w", ErrStore, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: fsync spare segment: %w", ErrStore, err)
	}
	st.spareMu.Lock()
	defer st.spareMu.Unlock()
	if st.spareWant != num {
		return nil // the rotation came first and created the segment itself
	}
	keep = true
	st.spare, st.spareNum, st.spareWant = f, num, 0
	return nil
}

// bgReq is work for the background goroutine: compress seg (then close f), apply
// retention, and close done (a barrier) when everything before it is finished.
type bgReq struct {
	prep   uint32 // a spare segment to prepare first (0: none)
	seg    *segment
	f      *os.File
	retain bool
	done   chan struct{}
}

// startBackground starts the goroutine that compresses rotated segments and applies
// retention; close stops it and waits for it.
func (st *store) startBackground() {
	st.bg = make(chan bgReq, 64)
	st.bgDone = make(chan struct{})
	go st.runBackground()
}

// background queues r; it blocks only while 64 requests wait (backpressure on the
// writer), and drops r (closing done) once the store is closed.
func (st *store) background(r bgReq) {
	st.bgMu.Lock()
	defer st.bgMu.Unlock()
	if st.bgClosed || st.bg == nil {
		if r.f != nil {
			r.f.Close()
		}
		if r.done != nil {
			close(r.done)
		}
		return
	}
	st.bg <- r
}

func (st *store) runBackground() {
	defer close(st.bgDone)
	tick := time.NewTicker(compressIdle)
	defer tick.Stop()
	var pending []bgReq // rotated segments not compressed yet, oldest first
	compressNext := func() {
		r := pending[0]
		pending = pending[1:]
		st.mu.RLock()
		live := slices.Contains(st.segs, r.seg)
		st.mu.RUnlock()
		if live { // retention may have dropped it meanwhile
			if err := st.compress(r.seg, r.f); err != nil {
				st.opts.logger.Error("receipt segment compression", "segment", r.seg.num, "err", err)
			}
		}
		if r.f != nil {
			r.f.Close()
		}
	}
	for {
		select {
		case r, ok := <-st.bg:
			if !ok {
				for len(pending) > 0 {
					compressNext()
				}
				return
			}
			if r.prep != 0 {
				if err := st.prepare(r.prep); err != nil {
					st.opts.logger.Warn("receipt spare segment not prepared; the next rotation creates it", "segment", r.prep, "err", err)
				}
			}
			if r.seg != nil {
				pending = append(pending, r)
			}
			if r.done != nil { // a barrier: everything queued before it, now
				for len(pending) > 0 {
					compressNext()
				}
			}
			if r.retain {
				st.retainQueued.Store(false)
				st.retain()
			}
			if r.done != nil {
				close(r.done)
			}
		case <-tick.C:
		}
		// Compression waits for a pause in the commits (it would take CPU from them),
		// or until maxPlainSegments rotated segments wait.
		for len(pending) > 0 && (len(pending) > maxPlainSegments || time.Since(time.Unix(0, st.lastWrite.Load())) >= compressIdle) {
			compressNext()
		}
	}
}

// Compression of rotated segments is deferred while the log is busy: it runs once no
// commit has written for compressIdle, or when more than maxPlainSegments rotated
// segments wait (so under sustained load one is compressed per rotation, and at most
// maxPlainSegments+1 uncompressed segments are on disk).
const (
	compressIdle     = 50 * time.Millisecond
	maxPlainSegments = 8
)

// settle waits until every compression and retention queued before it is done (for
// Flush), or until ctx is done.
func (st *store) settle(ctx context.Context) error {
	done := make(chan struct{})
	st.background(bgReq{done: done})
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// compress writes seg's .zst (temp file, fsync, rename, fsync dir), then switches
// lookups to it and removes the .jsonl.
func (st *store) compress(seg *segment, f *os.File) error {
	plainPath := segPath(st.opts.dir, seg.num, false)
	var data []byte
	var err error
	if f != nil {
		fi, serr := f.Stat()
		if serr != nil {
			return fmt.Errorf("%w: %w", ErrStore, serr)
		}
		data = make([]byte, fi.Size())
		_, err = f.ReadAt(data, 0)
	} else {
		data, err = os.ReadFile(plainPath)
	}
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrStore, plainPath, err)
	}
	data = bytes.TrimRight(data, "\x00") // the preallocated tail
	zpath := segPath(st.opts.dir, seg.num, true)
	tmp := zpath + ".tmp"
	out := st.enc.EncodeAll(data, make([]byte, 0, len(data)/4))
	if err := writeFileSync(tmp, out); err != nil {
		return err
	}
	if err := os.Rename(tmp, zpath); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if err := syncDir(st.opts.dir); err != nil {
		return err
	}
	st.mu.Lock()
	seg.compressed = true
	st.mu.Unlock()
	if err := os.Remove(plainPath); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("%w: write %s: %w", ErrStore, path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%w: fsync %s: %w", ErrStore, path, err)
	}
	return f.Close()
}

// retain drops the oldest segments while the log holds more than maxReceipts receipts
// or more than maxSegments segments. The active segment is never dropped.
func (st *store) retain() {
	var drop []*segment
	st.mu.Lock()
	for len(st.segs) > 1 {
		tooMany := st.opts.maxReceipts > 0 && len(st.index) > st.opts.maxReceipts
		tooLong := st.opts.maxSegments > 0 && len(st.segs) > st.opts.maxSegments
		if !tooMany && !tooLong {
			break
		}
		old := st.segs[0]
		for _, k := range old.keys {
			if p, ok := st.index[k]; ok && p.seg == old.num {
				delete(st.index, k)
			}
		}
		st.segs = st.segs[1:]
		drop = append(drop, old)
	}
	st.mu.Unlock()
	for _, seg := range drop {
		st.cacheMu.Lock()
		if st.cacheSeg == seg.num {
			st.cacheSeg, st.cacheData = 0, nil
		}
		st.cacheMu.Unlock()
		for _, c := range []bool{true, false} {
			if err := os.Remove(segPath(st.opts.dir, seg.num, c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				st.opts.logger.Warn("receipt retention: remove segment", "segment", seg.num, "err", err)
			}
		}
	}
}

// get returns a copy of the stored receipt, ErrPending when only its issued record is
// in the log, or ErrNotFound. A receipt sealed by a compact record is joined from its
// issued record and its seal (the bytes a full sealed record held).
func (st *store) get(key idKey) ([]byte, error) {
	st.mu.RLock()
	pos, ok := st.index[key]
	st.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	if !pos.sealed {
		return nil, ErrPending
	}
	raw, err := st.read(pos.seg, pos.off, pos.n)
	if err != nil || pos.cn == 0 {
		return raw, err
	}
	comp, err := st.read(pos.cseg, pos.coff, pos.cn)
	if err != nil {
		return nil, err
	}
	return joinCompact(raw, comp)
}

// joinCompact builds the sealed receipt from an issued record's body and a compact
// sealed record, checking that the record's leaf is the body's.
func joinCompact(body, comp []byte) ([]byte, error) {
	leafHex, _, key, seal, ok := parseCompact(comp)
	if !ok {
		return nil, fmt.Errorf("%w: malformed compact sealed record", ErrStore)
	}
	leaf := LeafHash(body)
	if hex.EncodeToString(leaf[:]) != leafHex {
		return nil, fmt.Errorf("%w: sealed record does not match its issued record", ErrStore)
	}
	out, err := assemble(make([]byte, 0, len(body)+len(comp)+16), body, leafHex, key, seal)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	return out, nil
}

// read returns a copy of n bytes at off of segment num.
func (st *store) read(num, off, n uint32) ([]byte, error) {
	st.mu.RLock()
	var seg *segment
	for i := len(st.segs) - 1; i >= 0; i-- {
		if st.segs[i].num == num {
			seg = st.segs[i]
			break
		}
	}
	if seg == nil {
		st.mu.RUnlock()
		return nil, ErrNotFound
	}
	if !seg.compressed {
		defer st.mu.RUnlock()
		buf := make([]byte, n)
		f := st.active
		if f == nil {
			return nil, ErrClosed
		}
		if seg != st.segs[len(st.segs)-1] { // being compressed right now
			var err error
			if f, err = os.Open(segPath(st.opts.dir, seg.num, false)); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrStore, err)
			}
			defer f.Close()
		}
		if _, err := f.ReadAt(buf, int64(off)); err != nil {
			return nil, fmt.Errorf("%w: read receipt: %w", ErrStore, err)
		}
		return buf, nil
	}
	st.mu.RUnlock()
	data, err := st.segmentData(seg.num)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound // dropped by retention meanwhile
	}
	if err != nil {
		return nil, err
	}
	end := uint64(off) + uint64(n)
	if end > uint64(len(data)) {
		return nil, fmt.Errorf("%w: index points past segment %d", ErrStore, seg.num)
	}
	return bytes.Clone(data[off:end]), nil
}

func (st *store) segmentData(num uint32) ([]byte, error) {
	st.cacheMu.Lock()
	defer st.cacheMu.Unlock()
	if st.cacheSeg == num && st.cacheData != nil {
		return st.cacheData, nil
	}
	raw, err := os.ReadFile(segPath(st.opts.dir, num, true))
	if err != nil {
		return nil, err
	}
	data, err := st.dec.DecodeAll(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: decompress segment %d: %w", ErrStore, num, err)
	}
	st.cacheSeg, st.cacheData = num, data
	return data, nil
}

func (st *store) count() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.index)
}

func (st *store) segmentCount() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.segs)
}

func (st *store) close() error {
	st.bgMu.Lock()
	started := st.bg != nil && !st.bgClosed
	st.bgClosed = true
	if started {
		close(st.bg)
	}
	st.bgMu.Unlock()
	if started {
		<-st.bgDone
	}
	var err error
	st.mu.Lock()
	if st.active != nil {
		err = st.active.Close()
		st.active = nil
	}
	st.mu.Unlock()
	st.spareMu.Lock()
	if st.spare != nil {
		st.spare.Close()
		_ = os.Remove(st.spare.Name())
		st.spare = nil
	}
	st.spareWant = 0
	st.spareMu.Unlock()
	if st.enc != nil {
		st.enc.Close()
	}
	if st.dec != nil {
		st.dec.Close()
	}
	if st.lock != nil {
		st.lock.Close()
		st.lock = nil
	}
	return err
}
