package index

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FormatVersion is the version of the saved-index file layout (persist.go). Bump it
// when the encoding of a file entry or passage changes (a new passage field, say):
// a saved index of another version is discarded with one WARN and rebuilt.
const FormatVersion = 1

// SplitterVersion names the passage splitter and tokenizer (splitDocument,
// forEachToken, contentTerm, Stem, the stop words). Bump it with any change to how
// passages are cut or terms are made: the saved index carries it in its fingerprint,
// so a node started with a new splitter discards the old index with one WARN and
// rebuilds instead of serving passages the current code would not produce.
const SplitterVersion = 3 // 2: structural units (units.go), document name indexed with each passage; 3: camel-case parts, Porter 1b/5a stems

// SavedIndexFile is the saved index's name inside its folder (<state>/index/).
const SavedIndexFile = "index.bin"

const (
	savedMagic  = "BZRAIDX\n"
	headerBytes = len(savedMagic) + 4 + sha256.Size // magic, version, fingerprint
	footerBytes = 8 + sha256.Size                   // payload length, checksum
)

// fingerprint digests everything that decides what a file's entry holds: the format
// and splitter versions and the options that change splitting or skipping.
func fingerprint(o *Options) [sha256.Size]byte {
	exts := slices.Clone(o.Extensions)
	for i := range exts {
		exts[i] = strings.ToLower(exts[i])
	}
	slices.Sort(exts)
	s := fmt.Sprintf("bizra-index|format=%d|splitter=%d|target=%d|max=%d|maxterm=%d|maxfile=%d|exts=%s",
		FormatVersion, SplitterVersion, o.PassageTarget, o.MaxPassageBytes, MaxTermBytes, o.MaxFileBytes,
		strings.Join(exts, ","))
	return sha256.Sum256([]byte(s))
}

// maxSavedBytes bounds the saved file that load reads into memory: the text budget,
// plus what terms and headers add, with room to spare.
func maxSavedBytes(o *Options) int64 { return 3*o.MaxTotalBytes + 64<<20 }

// save writes the scanner's entries to dir/index.bin atomically: a temporary file in
// dir, written, fsynced, renamed over the old one, and the folder fsynced. A reader
// (another process) sees the old file or the new one, never a mix.
func (s *scanner) save(dir string) (int64, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, err)
	}
	tmp, err := os.CreateTemp(dir, SavedIndexFile+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	enc := &encoder{w: bw}
	fp := fingerprint(&s.opts)
	enc.raw([]byte(savedMagic))
	enc.u32(FormatVersion)
	enc.raw(fp[:])
	enc.n = 0 // payload length counts from here
	s.encodePayload(enc)
	if enc.err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, enc.err)
	}
	payload := enc.n
	var lenb [8]byte
	binary.LittleEndian.PutUint64(lenb[:], uint64(payload))
	enc.raw(lenb[:])
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, err)
	}
	if _, err := tmp.Write(h.Sum(nil)); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, SavedIndexFile)); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSavedIndex, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return int64(headerBytes) + payload + int64(footerBytes), nil
}

// removeStaleTemps removes temporary files a crashed save left behind.
func removeStaleTemps(dir string) {
	m, _ := filepath.Glob(filepath.Join(dir, SavedIndexFile+".tmp-*"))
	for i, p := range m {
		if i >= 64 {
			return
		}
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > time.Minute {
			_ = os.Remove(p)
		}
	}
}

// The payload: the term dictionary, then the files in walk order.
//
//	uvarint terms, then each term: uvarint length, bytes
//	uvarint files, then each file:
//	  string path; varint size, mtime, readAt; 32-byte SHA-256; uvarint bytes; byte skip
//	  uvarint passages, then each: string source, string text, uvarint length,
//	    uvarint terms, then each: uvarint term id, uvarint tf
func (s *scanner) encodePayload(e *encoder) {
	e.uvarint(uint64(len(s.dict.terms)))
	for _, t := range s.dict.terms {
		e.str(t)
	}
	e.uvarint(uint64(len(s.order)))
	for _, rel := range s.order {
		f := s.entries[rel] // every path of order has its entry (scan commits both at once)
		e.str(rel)
		e.varint(f.size)
		e.varint(f.mtime)
		e.varint(f.readAt)
		e.raw(f.hash[:])
		e.uvarint(uint64(f.bytes))
		e.raw([]byte{byte(f.skip)})
		e.uvarint(uint64(len(f.passages)))
		for _, p := range f.passages {
			e.str(p.source)
			e.str(p.text)
			e.uvarint(uint64(p.length))
			e.uvarint(uint64(len(p.terms)))
			for _, t := range p.terms {
				e.uvarint(uint64(t.term))
				e.uvarint(uint64(t.tf))
			}
		}
	}
}

type encoder struct {
	w   io.Writer
	n   int64
	err error
	buf [binary.MaxVarintLen64]byte
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(b)
	e.n += int64(n)
	e.err = err
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.raw(e.buf[:4])
}
func (e *encoder) uvarint(v uint64) { e.raw(e.buf[:binary.PutUvarint(e.buf[:], v)]) }
func (e *encoder) varint(v int64)   { e.raw(e.buf[:binary.PutVarint(e.buf[:], v)]) }
func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		n, err := io.WriteString(e.w, s)
		e.n += int64(n)
		e.err = err
	}
}

// loadReason classifies why a saved index was not used (the WARN says which).
type loadReason string

const (
	loadMissing     loadReason = "missing"
	loadUnreadable  loadReason = "unreadable"
	loadTooLarge    loadReason = "too large"
	loadCorrupt     loadReason = "corrupt"
	loadVersion     loadReason = "format version changed"
	loadFingerprint loadReason = "splitter or options changed"
)

// loadError is a saved index that could not be used.
type loadError struct {
	reason loadReason
	detail string
}

func (e *loadError) Error() string {
	if e.detail == "" {
		return "saved index " + string(e.reason)
	}
	return "saved index " + string(e.reason) + ": " + e.detail
}

func (e *loadError) Unwrap() error { return ErrSavedIndex }

// load reads dir/index.bin into the scanner (which must be fresh). Any problem leaves
// the scanner empty and returns a *loadError.
func (s *scanner) load(dir string) (int64, error) {
	p := filepath.Join(dir, SavedIndexFile)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, &loadError{reason: loadMissing}
	}
	if err != nil {
		return 0, &loadError{reason: loadUnreadable, detail: unreadableReason(err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, &loadError{reason: loadUnreadable, detail: unreadableReason(err)}
	}
	if fi.Size() > maxSavedBytes(&s.opts) {
		return 0, &loadError{reason: loadTooLarge, detail: strconv.FormatInt(fi.Size(), 10) + " bytes"}
	}
	// The file is read once into the string every decoded string shares, hashing all
	// but the checksum on the way (no second copy of a file of hundreds of MB).
	size := fi.Size()
	if size < int64(headerBytes+footerBytes) {
		return 0, &loadError{reason: loadCorrupt, detail: "truncated"}
	}
	var sb strings.Builder
	sb.Grow(int(size))
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(&sb, h), f, size-sha256.Size); err != nil {
		return 0, &loadError{reason: loadUnreadable, detail: unreadableReason(err)}
	}
	if _, err := io.CopyN(&sb, f, sha256.Size); err != nil {
		return 0, &loadError{reason: loadUnreadable, detail: unreadableReason(err)}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	if err := s.decode(sb.String(), sum); err != nil {
		s.entries, s.dict, s.order = make(map[string]*fileEntry), newDict(), nil
		return 0, err
	}
	return size, nil
}

// decodeBytes checks and decodes a whole saved file held in b (tests, fuzzing).
func (s *scanner) decodeBytes(b []byte) error {
	var sum [sha256.Size]byte
	if len(b) >= sha256.Size {
		sum = sha256.Sum256(b[:len(b)-sha256.Size])
	}
	return s.decode(string(b), sum)
}

// decode checks and decodes a whole saved file; bodySum is the SHA-256 of all of it
// but its last 32 bytes (the checksum it must equal).
func (s *scanner) decode(buf string, bodySum [sha256.Size]byte) error {
	if len(buf) < headerBytes+footerBytes {
		return &loadError{reason: loadCorrupt, detail: "truncated"}
	}
	if buf[:len(savedMagic)] != savedMagic {
		return &loadError{reason: loadCorrupt, detail: "not a saved index"}
	}
	if v := binary.LittleEndian.Uint32([]byte(buf[len(savedMagic) : len(savedMagic)+4])); v != FormatVersion {
		return &loadError{reason: loadVersion, detail: fmt.Sprintf("version %d, this build reads %d", v, FormatVersion)}
	}
	body, sum := buf[:len(buf)-sha256.Size], buf[len(buf)-sha256.Size:]
	if sum != string(bodySum[:]) {
		return &loadError{reason: loadCorrupt, detail: "checksum mismatch (truncated or altered)"}
	}
	fp := fingerprint(&s.opts)
	if buf[len(savedMagic)+4:headerBytes] != string(fp[:]) {
		return &loadError{reason: loadFingerprint}
	}
	plen := binary.LittleEndian.Uint64([]byte(body[len(body)-8:]))
	if plen != uint64(len(body)-8-headerBytes) {
		return &loadError{reason: loadCorrupt, detail: "payload length mismatch"}
	}
	// Every decoded string is a substring of the payload.
	d := &decoder{s: body[headerBytes : len(body)-8]}
	if err := s.decodePayload(d); err != nil {
		return &loadError{reason: loadCorrupt, detail: err.Error()}
	}
	return nil
}

func (s *scanner) decodePayload(d *decoder) error {
	nt := d.count()
	dc := &dict{ids: make(map[string]uint32, nt), terms: make([]string, 0, nt)}
	for range nt {
		t := d.str()
		if d.err != nil {
			return d.err
		}
		if _, dup := dc.ids[t]; dup {
			return errors.New("duplicate term")
		}
		dc.id(t)
	}
	nf := d.count()
	entries := make(map[string]*fileEntry, nf)
	order := make([]string, 0, nf)
	for range nf {
		rel := d.str()
		e := &fileEntry{size: d.varint(), mtime: d.varint(), readAt: d.varint()}
		copy(e.hash[:], d.bytes(sha256.Size))
		e.bytes = int64(d.uvarint())
		sk := d.bytes(1)
		np := d.count()
		if d.err != nil {
			return d.err
		}
		e.skip = skipKind(sk[0])
		if e.skip > skipHuge || (e.skip != skipNone && np > 0) {
			return errors.New("bad skip kind")
		}
		if _, dup := entries[rel]; dup || rel == "" {
			return errors.New("duplicate or empty path")
		}
		if np > 0 {
			e.passages = make([]storedPassage, 0, np)
		}
		for range np {
			p := storedPassage{source: d.str(), text: d.str(), length: uint32(d.uvarint())}
			n := d.count()
			if d.err != nil {
				return d.err
			}
			p.terms = make([]termTF, n)
			for i := range p.terms {
				id, tf := d.uvarint(), d.uvarint()
				if d.err == nil && id >= uint64(len(dc.terms)) {
					return errors.New("term id out of range")
				}
				p.terms[i] = termTF{term: uint32(id), tf: uint32(tf)}
			}
			e.passages = append(e.passages, p)
		}
		if d.err != nil {
			return d.err
		}
		entries[rel] = e
		order = append(order, rel)
	}
	if d.err != nil {
		return d.err
	}
	if len(d.s) != 0 {
		return errors.New("trailing bytes")
	}
	s.entries, s.dict, s.order = entries, dc, order
	return nil
}

type decoder struct {
	s   string
	err error
}

var errShort = errors.New("truncated payload")

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		if c < 0x80 {
			d.s = d.s[i+1:]
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.err = errShort
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a length that must fit in what is left (every element takes a byte).
func (d *decoder) count() int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)) {
		d.err = errShort
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || len(d.s) < n {
		d.err = errShort
		return make([]byte, n)
	}
	b := []byte(d.s[:n])
	d.s = d.s[n:]
	return b
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}
