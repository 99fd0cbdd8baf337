package receipt

import (
	"reflect"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/canon"
)

// appendBodyCanonical is the fast path of Issue: it writes JCS(body) directly for the
// fixed body schema, with member names in RFC 8785 order, numbers through the JCS
// library's ECMAScript formatter and strings escaped as RFC 8785 section 3.2.2.2
// requires. body.Origin must already be canonical. Strings that are not valid UTF-8
// fall back to canon.Marshal. Tests and a fuzz target check that the bytes equal
// canon.Marshal(body).
func appendBodyCanonical(dst []byte, b *Body) ([]byte, error) {
	for _, s := range [...]string{b.ReceiptID, b.Version, b.Kind, b.Status, b.Method, b.NodeID, b.QueryDigest,
		b.PolicyDigest, b.PayloadDigest, b.OriginDigest, b.Reason, b.Timestamp} {
		if !utf8.ValidString(s) {
			c, err := canon.Marshal(b)
			return append(dst, c...), err
		}
	}
	var err error
	dst = append(dst, `{"duration_ms":`...)
	if dst, err = canon.AppendNumber(dst, b.DurationMS); err != nil {
		return nil, err
	}
	dst = append(dst, `,"fate_score":`...)
	if dst, err = appendScore(dst, b.FateScore); err != nil {
		return nil, err
	}
	dst = append(dst, `,"gate_passed":`...)
	dst = strconv.AppendBool(dst, b.GatePassed)
	dst = append(dst, `,"ihsan":`...)
	if dst, err = appendScore(dst, b.Ihsan); err != nil {
		return nil, err
	}
	dst = appendMember(dst, "kind", b.Kind)
	dst = appendMember(dst, "method", b.Method)
	dst = appendMember(dst, "node_id", b.NodeID)
	dst = append(dst, `,"origin":`...)
	dst = append(dst, b.Origin...)
	dst = appendMember(dst, "origin_digest", b.OriginDigest)
	dst = appendMember(dst, "payload_digest", b.PayloadDigest)
	dst = appendMember(dst, "policy_digest", b.PolicyDigest)
	dst = appendMember(dst, "query_digest", b.QueryDigest)
	dst = appendMember(dst, "reason", b.Reason)
	dst = appendMember(dst, "receipt_id", b.ReceiptID)
	dst = append(dst, `,"snr":`...)
	if dst, err = appendScore(dst, b.SNR); err != nil {
		return nil, err
	}
	dst = appendMember(dst, "status", b.Status)
	dst = appendMember(dst, "timestamp", b.Timestamp)
	dst = appendMember(dst, "version", b.Version)
	return append(dst, '}'), nil
}

func appendMember(dst []byte, name, v string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return canon.AppendString(dst, v)
}

func appendScore(dst []byte, v *float64) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	return canon.AppendNumber(dst, *v)
}

// originCache remembers the canonical form of the last origin map, by map identity.
type originCache struct {
	m      map[string]any // held so its address cannot be reused by another map
	ptr    uintptr
	canon  []byte
	digest string
}

// originOf returns JCS(snapshot) and its digest. The Origin callback's maps are
// treated as immutable snapshots: the same map returned again reuses the cached
// canonical form (a changed snapshot must be a new map).
func originOf(cache *atomic.Pointer[originCache], snap map[string]any) ([]byte, string, error) {
	if snap == nil {
		snap = map[string]any{}
	}
	p := uintptr(reflect.ValueOf(snap).UnsafePointer())
	if c := cache.Load(); c != nil && c.ptr == p {
		return c.canon, c.digest, nil
	}
	b, err := canon.Marshal(snap)
	if err != nil {
		return nil, "", err
	}
	c := &originCache{m: snap, ptr: p, canon: b, digest: canon.SumHex(DomainOrigin, b)}
	cache.Store(c)
	return c.canon, c.digest, nil
}
