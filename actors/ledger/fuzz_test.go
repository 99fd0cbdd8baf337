package ledger

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

// FuzzDecodeRecord feeds arbitrary bytes to the segment record decoder: it must never
// panic, and whatever it accepts must re-encode to the same record.
func FuzzDecodeRecord(f *testing.F) {
	e := sample("fuzz seed ü")
	seal(&e, 7, Genesis)
	rec, err := appendRecord(nil, &e)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add(rec[:len(rec)/2])
	f.Add(append(append([]byte{}, rec...), rec...))
	f.Add([]byte{})
	f.Add([]byte("SELR\xff\xff\xff\xff\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ep, n, err := decodeRecord(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error with size %d", n)
			}
			return
		}
		if n < recordHeader || n > len(b) {
			t.Fatalf("size %d of %d bytes", n, len(b))
		}
		again, err := appendRecord(nil, &ep)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		ep2, n2, err := decodeRecord(again)
		if err != nil || n2 != len(again) {
			t.Fatalf("re-decode: %v", err)
		}
		a, _ := appendRecord(nil, &ep2)
		if !bytes.Equal(a, again) {
			t.Fatalf("not stable under re-encoding")
		}
		_ = nextRecordAt(b, 0)
	})
}

// FuzzDecodeBlock feeds arbitrary bytes to the sealed-block decoder.
func FuzzDecodeBlock(f *testing.F) {
	s, _, err := openStore(f.TempDir(), true, false, false, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer s.close()
	f.Add([]byte("SELB\x05\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00hello"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, n, err := s.decodeBlock(b)
		if n < 0 || n > len(b) {
			t.Fatalf("size %d of %d", n, len(b))
		}
		if err == nil && raw == nil {
			t.Fatalf("nil block without error")
		}
	})
}

// FuzzRecordPayload wraps arbitrary payloads in a record with a valid checksum, so the
// JSON side of the decoder is reached.
func FuzzRecordPayload(f *testing.F) {
	e := sample("payload seed")
	seal(&e, 1, Genesis)
	rec, _ := appendRecord(nil, &e)
	f.Add(rec[recordHeader:])
	f.Add([]byte(`{"sequence":1,"actions":null}`))
	f.Add([]byte(`{"feedback":1e999}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > maxRecordPayload {
			return
		}
		b := binary.LittleEndian.AppendUint32(nil, recordMagic)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
		crc := crc32.Update(0, crcTable, b[4:8])
		b = binary.LittleEndian.AppendUint32(b, crc32.Update(crc, crcTable, payload))
		b = append(b, payload...)
		ep, n, err := decodeRecord(b)
		if err != nil {
			return
		}
		if n != len(b) || ep.Actions == nil {
			t.Fatalf("n %d of %d, actions %v", n, len(b), ep.Actions)
		}
		_ = checkSealed(&ep, ep.Sequence, ep.PrevHash) // must not panic
		_ = storedProblem(&ep)
	})
}

// FuzzDecodeWitness feeds arbitrary bytes to the HEAD slot decoder: it never panics,
// and a slot it accepts re-encodes to the same bytes.
func FuzzDecodeWitness(f *testing.F) {
	for _, w := range []witness{{gen: 1, next: 0, chain: Genesis}, {gen: 9, next: 42, accepted: 3, chain: strings.Repeat("ab", 32)}} {
		b, err := encodeWitness(w)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:headSlotUsed-1])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, ok := decodeWitness(b)
		if !ok {
			return
		}
		again, err := encodeWitness(w)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", w, err)
		}
		if w.next > 0 && !bytes.Equal(again[:headSlotUsed], b[:headSlotUsed]) {
			t.Fatalf("not stable: %x vs %x", again[:headSlotUsed], b[:headSlotUsed])
		}
		if w2, ok := decodeWitness(again); !ok || w2 != w {
			t.Fatalf("round trip %+v -> %+v", w, w2)
		}
	})
}
