package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The witness (file HEAD): the durable record of what was acknowledged, independent of
// the segments' tail. After each batch's segment fsync the flusher writes the new
// head (next sequence and chain head) into one of two 512-byte slots, alternately, and
// fdatasyncs it; only then are the batch's appends acknowledged. A torn slot write
// leaves the other slot, which holds the previous acknowledged head. So at open:
//
//   - records after the witness were never acknowledged: a torn one is cut silently;
//   - a chain that ends before the witness, a damaged record at or below it, or a
//     chain head at the witness's sequence that differs from the witness's hash means
//     acknowledged episodes were lost or altered (tampering), reported with file,
//     byte offset and sequence.
//
// Slot layout (little-endian): magic "SELH" u32 ‖ generation u64 ‖ next sequence u64 ‖
// accepted u64 (1 + the first bad sequence of a loss accepted with Options.AcceptLoss,
// 0 for none) ‖ chain head [32] (zeros for genesis) ‖ crc32c of the preceding bytes u32.
const (
	headName     = "HEAD"
	headMagic    = 0x48_4C_45_53 // "SELH" little-endian
	headSlot     = 512
	headSlotUsed = 4 + 8 + 8 + 8 + 32 + 4
)

// witness is one decoded head slot.
type witness struct {
	gen      uint64
	next     uint64 // episodes ever acknowledged (the next sequence)
	accepted uint64 // 1 + first bad sequence of an accepted loss; 0 none
	chain    string // chain head after next-1 ("genesis" when next is 0)
}

func encodeWitness(w witness) ([]byte, error) {
	b := make([]byte, headSlot)
	le := binary.LittleEndian
	le.PutUint32(b, headMagic)
	le.PutUint64(b[4:], w.gen)
	le.PutUint64(b[12:], w.next)
	le.PutUint64(b[20:], w.accepted)
	if w.chain != Genesis {
		h, err := hex.DecodeString(w.chain)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("%w: head chain hash %.70q", ErrStorage, w.chain)
		}
		copy(b[28:60], h)
	}
	le.PutUint32(b[60:], crc32.Checksum(b[:60], crcTable))
	return b, nil
}

// decodeWitness decodes one slot; ok is false for an empty or damaged slot.
func decodeWitness(b []byte) (witness, bool) {
	if len(b) < headSlotUsed {
		return witness{}, false
	}
	le := binary.LittleEndian
	if le.Uint32(b) != headMagic || crc32.Checksum(b[:60], crcTable) != le.Uint32(b[60:]) {
		return witness{}, false
	}
	w := witness{gen: le.Uint64(b[4:]), next: le.Uint64(b[12:]), accepted: le.Uint64(b[20:]), chain: Genesis}
	if w.next > 0 {
		w.chain = hex.EncodeToString(b[28:60])
	}
	return w, true
}

// readWitness reads HEAD: nil (and no error) when the file does not exist; an error
// naming the file when no slot is readable.
func readWitness(dir string) (*witness, error) {
	path := filepath.Join(dir, headName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, ioErr("read", path, err)
	}
	var best *witness
	for off := 0; off+headSlotUsed <= len(b) && off < 2*headSlot; off += headSlot {
		if w, ok := decodeWitness(b[off:]); ok && (best == nil || w.gen > best.gen) {
			best = &w
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: %s holds no readable slot", ErrCorrupt, headName)
	}
	return best, nil
}

// headFile is the open witness of a writable store (owned by the flusher).
type headFile struct {
	f     *os.File
	cur   witness // the last durable head
	dirty bool    // a slot write or sync failed: the slot at cur.gen+1 may be torn or ahead
}

// openHead opens (creating it with w when missing) the witness for writing.
func (s *store) openHead(w witness) error {
	path := filepath.Join(s.dir, headName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return ioErr("open", path, err)
	}
	s.head = &headFile{f: f, cur: w}
	if fi, err := f.Stat(); err != nil || fi.Size() != 2*headSlot {
		// New (or short) file: both slots get w, then the file and the folder are synced.
		b0, err := encodeWitness(w)
		if err != nil {
			return err
		}
		w1 := w
		w1.gen++
		b1, err := encodeWitness(w1)
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(append(b0, b1...), 0); err != nil {
			return ioErr("write", path, err)
		}
		if s.sync {
			if err := f.Sync(); err != nil {
				return ioErr("fsync", path, err)
			}
		}
		s.head.cur = w1
		return s.syncDir()
	}
	return nil
}

// writeHead makes w (next, chain) the durable witness: one slot write and one
// fdatasync. On failure the head is marked dirty; restoreHead puts the last durable
// head back before anything else is written.
func (s *store) writeHead(next uint64, chain string) error {
	h := s.head
	if h == nil {
		return nil
	}
	w := witness{gen: h.cur.gen + 1, next: next, accepted: h.cur.accepted, chain: chain}
	if err := s.putSlot(w); err != nil {
		h.dirty = true
		return err
	}
	h.cur, h.dirty = w, false
	return nil
}

// restoreHead rewrites the slot a failed writeHead may have touched with the last
// durable head, so the witness never claims more than was acknowledged.
func (s *store) restoreHead() error {
	h := s.head
	if h == nil || !h.dirty {
		return nil
	}
	w := h.cur
	w.gen++
	if err := s.putSlot(w); err != nil {
		return err
	}
	h.cur, h.dirty = w, false
	return nil
}

// setAccepted records an accepted loss (1 + first bad sequence) and re-anchors the
// witness on next and chain.
func (s *store) setAccepted(next uint64, chain string, accepted uint64) error {
	h := s.head
	w := witness{gen: h.cur.gen + 1, next: next, accepted: accepted, chain: chain}
	if err := s.putSlot(w); err != nil {
		h.dirty = true
		return err
	}
	h.cur, h.dirty = w, false
	return nil
}

func (s *store) putSlot(w witness) error {
	h := s.head
	path := h.f.Name()
	b, err := encodeWitness(w)
	if err != nil {
		return err
	}
	if err := s.inject("write", path); err != nil {
		return ioErr("write", path, err)
	}
	if _, err := h.f.WriteAt(b, int64(w.gen%2)*headSlot); err != nil {
		return ioErr("write", path, err)
	}
	if !s.sync {
		return nil
	}
	if err := s.inject("fsync", path); err != nil {
		return ioErr("fsync", path, err)
	}
	if err := syscall.Fdatasync(int(h.f.Fd())); err != nil {
		return ioErr("fsync", path, err)
	}
	return nil
}
