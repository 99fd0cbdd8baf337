package receipt

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/canon"
)

// Version is the receipt format version written into every body.
const Version = "bizra-receipt-v1"

// Digest domains (SHA-256("<domain>:" ‖ bytes), see internal/canon).
const (
	DomainLeaf    = "bizra-receipt-leaf-v1"    // leaf_hash over JCS(body)
	DomainQuery   = "bizra-receipt-query-v1"   // query_digest over JCS(params)
	DomainPayload = "bizra-receipt-payload-v1" // payload_digest over JCS(payload)
	DomainOrigin  = "bizra-receipt-origin-v1"  // origin_digest over JCS(origin)
)

// Kinds and statuses.
const (
	KindQuery  = "query"
	KindBridge = "bridge"
	KindSkill  = "skill"

	StatusAccepted        = "accepted"
	StatusRejected        = "rejected"
	StatusAmberRestricted = "amber_restricted"
	StatusPending         = "pending"
)

// TimestampLayout is RFC 3339 in UTC with exactly nine fractional digits.
const TimestampLayout = "2006-01-02T15:04:05.000000000Z"

// Limits on caller-supplied text.
const (
	MaxMethodBytes = 256
	MaxReasonBytes = 4096
)

// Body is the signed part of a receipt: every field but leaf_hash and seal/signature.
// Its canonical encoding (RFC 8785) is what leaf_hash digests.
type Body struct {
	ReceiptID     string          `json:"receipt_id"`
	Version       string          `json:"version"`
	Kind          string          `json:"kind"`
	Status        string          `json:"status"`
	Method        string          `json:"method"`
	NodeID        string          `json:"node_id"`
	QueryDigest   string          `json:"query_digest"`
	PolicyDigest  string          `json:"policy_digest"`
	PayloadDigest string          `json:"payload_digest"`
	Origin        json.RawMessage `json:"origin"` // a canonical JSON object
	OriginDigest  string          `json:"origin_digest"`
	SNR           *float64        `json:"snr"`
	Ihsan         *float64        `json:"ihsan"`
	FateScore     *float64        `json:"fate_score"`
	GatePassed    bool            `json:"gate_passed"`
	Reason        string          `json:"reason"`
	DurationMS    float64         `json:"duration_ms"`
	Timestamp     string          `json:"timestamp"`
}

// bodyFields lists the body's members; Verify requires exactly these.
var bodyFields = [...]string{
	"receipt_id", "version", "kind", "status", "method", "node_id", "query_digest",
	"policy_digest", "payload_digest", "origin", "origin_digest", "snr", "ihsan",
	"fate_score", "gate_passed", "reason", "duration_ms", "timestamp",
}

// Canonical returns JCS(body).
func (b *Body) Canonical() ([]byte, error) { return canon.Marshal(b) }

// LeafHash returns SHA-256("bizra-receipt-leaf-v1:" ‖ canonical).
func LeafHash(canonical []byte) [32]byte { return canon.Sum(DomainLeaf, canonical) }

// DurationMS converts d to milliseconds rounded to the microsecond.
func DurationMS(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000
}

var idPattern = regexp.MustCompile(`^(br|qr|sk)-[0-9]{13}-[0-9a-f]{16}$`)

const idLen = 33

// ValidID reports whether id has the receipt-id form <br|qr|sk>-<13 digits>-<16 lower hex>.
// Every lookup calls it first, so no other string reaches the file system.
func ValidID(id string) bool {
	return len(id) == idLen && idPattern.MatchString(id)
}

// KindOfID returns the receipt kind an id prefix names ("bridge", "query", "skill"),
// so a caller holding one Service per kind can route a lookup.
func KindOfID(id string) (string, bool) {
	if !ValidID(id) {
		return "", false
	}
	switch id[:2] {
	case "br":
		return KindBridge, true
	case "qr":
		return KindQuery, true
	default:
		return KindSkill, true
	}
}

func kindPrefix(kind string) (string, bool) {
	switch kind {
	case KindBridge:
		return "br", true
	case KindQuery:
		return "qr", true
	case KindSkill:
		return "sk", true
	}
	return "", false
}

func validStatus(s string) bool {
	switch s {
	case StatusAccepted, StatusRejected, StatusAmberRestricted, StatusPending:
		return true
	}
	return false
}

// idKey is the compact index key of a receipt id.
type idKey struct {
	prefix uint8
	ms     uint64
	seq    uint64
}

func parseIDKey(id string) (idKey, bool) {
	if !ValidID(id) {
		return idKey{}, false
	}
	ms, err := strconv.ParseUint(id[3:16], 10, 64)
	if err != nil {
		return idKey{}, false
	}
	var sb [8]byte
	if _, err := hex.Decode(sb[:], []byte(id[17:])); err != nil {
		return idKey{}, false
	}
	return idKey{prefix: id[0], ms: ms, seq: binary.BigEndian.Uint64(sb[:])}, true
}

// idGen issues unique ids whose (ms, seq) tuple strictly increases, even when the clock
// steps back: ms never decreases and seq restarts from a random value below 2^62 in
// each new millisecond (so ids are hard to guess) and increments within it.
type idGen struct {
	mu     sync.Mutex
	lastMS int64
	seq    uint64
}

func (g *idGen) next(prefix string, now time.Time) (string, error) {
	ms := now.UnixMilli()
	g.mu.Lock()
	if ms > g.lastMS {
		var rb [8]byte
		if _, err := rand.Read(rb[:]); err != nil {
			g.mu.Unlock()
			return "", fmt.Errorf("receipt id: %w", err)
		}
		g.lastMS = ms
		g.seq = binary.BigEndian.Uint64(rb[:]) >> 2
	} else {
		g.seq++
		if g.seq >= 1<<63 { // practically unreachable: move to the next millisecond
			g.lastMS++
			g.seq = 0
		}
	}
	ms, seq := g.lastMS, g.seq
	g.mu.Unlock()
	if ms < 0 || ms > 9999999999999 {
		return "", fmt.Errorf("%w: clock out of range for a 13-digit id", ErrInvalidInput)
	}
	var buf [idLen]byte
	copy(buf[:], prefix)
	buf[2] = '-'
	s := strconv.AppendInt(buf[3:3:16], ms, 10)
	pad := 13 - len(s)
	copy(buf[3+pad:16], s)
	for i := 3; i < 3+pad; i++ {
		buf[i] = '0'
	}
	buf[16] = '-'
	var sb [8]byte
	binary.BigEndian.PutUint64(sb[:], seq)
	hex.Encode(buf[17:], sb[:])
	return string(buf[:]), nil
}

func checkText(name, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidInput, name, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidInput, name)
	}
	return nil
}

func checkScore(name string, v *float64) error {
	if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
		return fmt.Errorf("%w: %s is not finite", ErrInvalidInput, name)
	}
	return nil
}

func copyScore(v *float64) *float64 {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}
