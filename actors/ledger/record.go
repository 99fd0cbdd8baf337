package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
)

// On-disk formats.
//
// An active segment (seg-<first sequence, 20 digits>.log) is a plain run of records:
//
//	magic u32 "SELR" ‖ payload length u32 ‖ crc32c(length ‖ payload) u32 ‖ payload
//
// where payload is the episode's JSON (every field, hashes included). A sealed segment
// (seg-<first>.zst) starts with the 8-byte header "BZSELZ1\n" followed by blocks:
//
//	magic u32 "SELB" ‖ compressed length u32 ‖ raw length u32 ‖ crc32c(compressed) u32 ‖ zstd frame
//
// each block holding whole records (about 64 KiB raw). A flipped byte in a sealed
// segment spoils one block, and the first sequence that cannot be read is reported.
const (
	recordMagic    = 0x52_4C_45_53 // "SELR" little-endian
	blockMagic     = 0x42_4C_45_53 // "SELB" little-endian
	recordHeader   = 12
	blockHeader    = 16
	sealedHeader   = "BZSELZ1\n"
	blockRawTarget = 64 << 10
	maxBlockRaw    = 8 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errShort means the buffer ends inside a record: a torn tail when it is the end of the
// active segment.
var errShort = errors.New("sel: short record")

// appendRecord appends the record of e to b.
func appendRecord(b []byte, e *Episode) ([]byte, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return b, fmt.Errorf("encode episode %d: %w", e.Sequence, err)
	}
	if len(payload) > maxRecordPayload {
		return b, fmt.Errorf("%w: encoded episode of %d bytes (max %d)", ErrInvalidEpisode, len(payload), maxRecordPayload)
	}
	le := binary.LittleEndian
	b = le.AppendUint32(b, recordMagic)
	b = le.AppendUint32(b, uint32(len(payload)))
	crc := crc32.Update(0, crcTable, b[len(b)-4:])
	crc = crc32.Update(crc, crcTable, payload)
	b = le.AppendUint32(b, crc)
	return append(b, payload...), nil
}

// decodeRecord decodes the record at the start of b and returns it with its size. It
// returns errShort when b ends inside the record and ErrCorrupt (wrapped) when the
// record is damaged. It never panics and never allocates more than the record's size.
// recordLen checks one record's framing and checksum and returns its length, without
// decoding its payload (sealing moves records it does not need to read).
func recordLen(b []byte) (int, error) {
	if len(b) < recordHeader {
		return 0, errShort
	}
	le := binary.LittleEndian
	if le.Uint32(b) != recordMagic {
		return 0, fmt.Errorf("%w: bad record magic", ErrCorrupt)
	}
	n := le.Uint32(b[4:])
	if n > maxRecordPayload {
		return 0, fmt.Errorf("%w: record length %d", ErrCorrupt, n)
	}
	if len(b) < recordHeader+int(n) {
		return 0, errShort
	}
	crc := crc32.Update(0, crcTable, b[4:8])
	crc = crc32.Update(crc, crcTable, b[recordHeader:recordHeader+int(n)])
	if crc != le.Uint32(b[8:]) {
		return 0, fmt.Errorf("%w: record checksum", ErrCorrupt)
	}
	return recordHeader + int(n), nil
}

func decodeRecord(b []byte) (Episode, int, error) {
	var e Episode
	if len(b) < recordHeader {
		return e, 0, errShort
	}
	le := binary.LittleEndian
	if le.Uint32(b) != recordMagic {
		return e, 0, fmt.Errorf("%w: bad record magic", ErrCorrupt)
	}
	n := le.Uint32(b[4:])
	if n > maxRecordPayload {
		return e, 0, fmt.Errorf("%w: record length %d", ErrCorrupt, n)
	}
	if len(b) < recordHeader+int(n) {
		return e, 0, errShort
	}
	payload := b[recordHeader : recordHeader+int(n)]
	crc := crc32.Update(0, crcTable, b[4:8])
	crc = crc32.Update(crc, crcTable, payload)
	if crc != le.Uint32(b[8:]) {
		return e, 0, fmt.Errorf("%w: record checksum", ErrCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Episode{}, 0, fmt.Errorf("%w: record payload: %w", ErrCorrupt, err)
	}
	if dec.More() {
		return Episode{}, 0, fmt.Errorf("%w: trailing data in record", ErrCorrupt)
	}
	if e.Actions == nil {
		e.Actions = []Action{}
	}
	return e, recordHeader + int(n), nil
}

// nextRecordAt returns the offset of the first decodable record in b at or after
// from, or -1.
func nextRecordAt(b []byte, from int) int {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], recordMagic)
	for from < len(b) {
		i := bytes.Index(b[from:], m[:])
		if i < 0 {
			return -1
		}
		if _, _, err := decodeRecord(b[from+i:]); err == nil {
			return from + i
		}
		from += i + 1
	}
	return -1
}
