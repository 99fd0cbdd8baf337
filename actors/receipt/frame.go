package receipt

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Log framing (format 2). A segment starts with logHeader; every following line is one
// record
//
//	{"m":"<64 hex HMAC>","t":"i"|"c"|"s","r":<raw>}
//
// where t "i" is an issued record (raw is JCS(body), unsealed), "c" a compact sealed
// record (raw is {"leaf_hash":…,"receipt_id":…,"seal"|"signature":…}: what sealing
// adds, without the body, which Get joins from the issued record) and "s" a full sealed
// record (raw is the whole sealed receipt; written before compact records, still read). The MAC is
// HMAC-SHA256(K, t ‖ segment number (4 bytes BE) ‖ line offset (8 bytes BE) ‖ raw) with
// K = HKDF-SHA256(secret, info LogMACInfo): a record cannot be forged, edited, or
// copied to another place without the secret. It is log framing only: the receipt
// bytes (proof.md) are raw, unchanged.
const (
	logHeader = `{"bizra_receipt_log":2}` + "\n"
	frameHead = len(`{"m":"`) + 64 + len(`","t":"`) + 1 + len(`","r":`) // 84: raw starts here
	recIssued = 'i'
	recSealed = 's'
	recSeal   = 'c'
)

var (
	frameTemplate = []byte(`{"m":"` + string(bytes.Repeat([]byte{'0'}, 64)) + `","t":"x","r":`)
	frameT        = []byte(`","t":"`)
	frameR        = []byte(`","r":`)
)

// macer computes record MACs; one per goroutine (the writer, the loader).
type macer struct {
	h   hash.Hash
	hdr [13]byte
	sum [32]byte
}

func newMacer(key []byte) *macer { return &macer{h: hmac.New(sha256.New, key)} }

func (m *macer) mac(t byte, seg uint32, off int64, raw []byte) [32]byte {
	m.h.Reset()
	m.hdr[0] = t
	binary.BigEndian.PutUint32(m.hdr[1:5], seg)
	binary.BigEndian.PutUint64(m.hdr[5:13], uint64(off))
	m.h.Write(m.hdr[:])
	m.h.Write(raw)
	m.h.Sum(m.sum[:0])
	return m.sum
}

// beginFrame appends the record prefix for a record of type t; finishFrame closes it
// once raw has been appended after it, filling in the MAC. start is the index in buf
// where the line begins, off the line's offset in its segment.
func beginFrame(buf []byte, t byte) []byte {
	buf = append(buf, frameTemplate...)
	buf[len(buf)-len(`","r":`)-1] = t
	return buf
}

func (m *macer) finishFrame(buf []byte, start int, t byte, seg uint32, off int64) []byte {
	sum := m.mac(t, seg, off, buf[start+frameHead:])
	hexEncode32(buf[start+len(`{"m":"`):], &sum)
	return append(buf, '}', '\n')
}

const hexDigits = "0123456789abcdef"

func hexEncode32(dst []byte, b *[32]byte) {
	for i, v := range b {
		dst[2*i], dst[2*i+1] = hexDigits[v>>4], hexDigits[v&15]
	}
}

// checkFrame parses one record line (without its newline) and checks its MAC. It
// returns the record type and raw, or ok false with a reason.
func (m *macer) checkFrame(line []byte, seg uint32, off int64) (t byte, raw []byte, reason string) {
	if len(line) < frameHead+3 || !bytes.HasPrefix(line, frameTemplate[:6]) ||
		!bytes.Equal(line[70:77], frameT) || !bytes.Equal(line[78:84], frameR) || line[len(line)-1] != '}' {
		return 0, nil, "not a log record"
	}
	t = line[77]
	if t != recIssued && t != recSealed && t != recSeal {
		return 0, nil, "unknown record type"
	}
	var got [32]byte
	if decodeHexInto(got[:], string(line[6:70])) != nil {
		return 0, nil, "malformed MAC"
	}
	raw = line[frameHead : len(line)-1]
	want := m.mac(t, seg, off, raw)
	if !hmac.Equal(got[:], want[:]) {
		return 0, nil, "MAC mismatch"
	}
	return t, raw, ""
}

// Compact sealed record: {"leaf_hash":"<64 hex>","receipt_id":"<id>","<key>":<seal>}.
const (
	compactLeafAt = len(`{"leaf_hash":"`)
	compactIDMark = `","receipt_id":"`
)

// appendCompact appends a compact sealed record's raw bytes.
func appendCompact(buf, leafHex []byte, id, key string, seal []byte) []byte {
	buf = append(buf, `{"leaf_hash":"`...)
	buf = append(buf, leafHex...)
	buf = append(buf, compactIDMark...)
	buf = append(buf, id...)
	buf = append(buf, `","`...)
	buf = append(buf, key...)
	buf = append(buf, `":`...)
	buf = append(buf, seal...)
	return append(buf, '}')
}

// parseCompact splits a compact sealed record into its leaf (hex), receipt id, seal key
// and seal bytes; ok false when it is not one.
func parseCompact(raw []byte) (leafHex, id, key string, seal []byte, ok bool) {
	if len(raw) < compactLeafAt+64+len(compactIDMark)+8 || string(raw[:compactLeafAt]) != `{"leaf_hash":"` ||
		string(raw[compactLeafAt+64:compactLeafAt+64+len(compactIDMark)]) != compactIDMark || raw[len(raw)-1] != '}' {
		return "", "", "", nil, false
	}
	leafHex = string(raw[compactLeafAt : compactLeafAt+64])
	rest := raw[compactLeafAt+64+len(compactIDMark):]
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return "", "", "", nil, false
	}
	id, rest = string(rest[:i]), rest[i:]
	for _, k := range []string{"seal", "signature"} {
		if m := `","` + k + `":`; bytes.HasPrefix(rest, []byte(m)) {
			seal = rest[len(m) : len(rest)-1]
			if len(seal) < 2 || seal[0] != '{' || seal[len(seal)-1] != '}' {
				return "", "", "", nil, false
			}
			return leafHex, id, k, seal, true
		}
	}
	return "", "", "", nil, false
}
