package query

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"sync/atomic"

	"github.com/bizra/bizra/actors/receipt"
)

// hitForm is what a cache hit's payload_digest needs that does not change per request,
// computed once when the result is cached: the SHA-256 state after the domain and the
// canonical head (cached is true, as on every hit), and the canonical tail (receipt_id
// is empty: the payload is the result before its receipt is attached). Per hit only
// processing_time_ms and query_id are encoded and hashed with the tail. Read-only once
// built; shared by every hit of the entry.
type hitForm struct {
	state  []byte // sha256 digest state (encoding.BinaryMarshaler) after domain ‖ ":" ‖ head
	tail   []byte
	userID string // the user the digest was computed for (the cache key includes it)
	edge   EdgeSlot
}

// EdgeSlot keeps an edge's own precomputed encoding of one cached result (the
// gateway's response body minus its per-request fields), built on the entry's first
// hit and shared by the later ones. It lives and dies with the cache entry, so it is
// bounded by the cache's capacity. Safe for concurrent use; a value, once stored, must
// not be modified.
type EdgeSlot struct{ p atomic.Pointer[any] }

// Load returns the stored value, nil when none.
func (s *EdgeSlot) Load() any {
	if p := s.p.Load(); p != nil {
		return *p
	}
	return nil
}

// Store keeps v (concurrent hits may each store one; the last wins, and all are equal).
func (s *EdgeSlot) Store(v any) { s.p.Store(&v) }

// EdgeCache returns the edge slot of a result served from the cache, nil for any
// other result. What an edge stores there may depend only on the fields a cache hit
// does not change: everything but query_id, cached, processing_time_ms, the timing
// and receipt fields of Detail, Detail.Episode and Detail.TokensUsed.
func (r *Result) EdgeCache() *EdgeSlot {
	if r.hit == nil || !r.Cached {
		return nil
	}
	return &r.hit.edge
}

// withHitForm returns r with its hit form attached (r itself when it cannot be built:
// the hit then digests the whole payload).
func withHitForm(r Result) Result {
	h := r
	h.Cached, h.ReceiptID, h.hit = true, "", nil
	head, err := h.appendHead(make([]byte, 0, 1024))
	if err != nil {
		return r
	}
	tail, err := h.appendTail(make([]byte, 0, 4096))
	if err != nil {
		return r
	}
	d := sha256.New()
	d.Write([]byte(receipt.DomainPayload))
	d.Write([]byte{':'})
	d.Write(head)
	state, err := d.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return r
	}
	r.hit = &hitForm{state: state, tail: tail, userID: r.UserID}
	return r
}

// hitDigest returns the payload_digest of r, a cache hit about to be receipted, from
// its hit form: equal to canon.Digest(receipt.DomainPayload, r) with r.ReceiptID empty.
// ok is false when r has no hit form or differs from it in a field the form fixed.
func (r *Result) hitDigest() (digest string, ok bool) {
	f := r.hit
	if f == nil || !r.Cached || r.ReceiptID != "" || r.UserID != f.userID {
		return "", false
	}
	d := sha256.New()
	if err := d.(encoding.BinaryUnmarshaler).UnmarshalBinary(f.state); err != nil {
		return "", false
	}
	var buf [128]byte
	b, err := appendPerRequest(buf[:0], r.ProcessingTimeMs, r.QueryID)
	if err != nil {
		return "", false
	}
	d.Write(b)
	d.Write(f.tail)
	var sum [sha256.Size]byte
	d.Sum(sum[:0])
	return hex.EncodeToString(sum[:]), true
}
