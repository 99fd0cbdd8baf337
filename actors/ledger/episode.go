package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Hash domains and the chain's starting point (core.md, SEL).
const (
	episodeDomain = "bizra-sel-v1:"
	chainDomain   = "bizra-sel-chain-v1:"
	// Genesis is the "previous chain hash" of the first episode and the chain head of
	// an empty ledger.
	Genesis = "genesis"
)

// Field limits. Context and the response summary are cut to their first 500
// characters; everything else that is too long is refused with ErrInvalidEpisode.
const (
	MaxContextChars     = 500  // characters (Unicode code points), not bytes
	MaxSummaryChars     = 500  // characters (Unicode code points), not bytes
	MaxGraphHashBytes   = 128  // a hex SHA-256 is 64
	MaxActions          = 64   // actions per episode
	MaxActionTypeBytes  = 64   // bytes of an action type
	MaxActionDescBytes  = 1024 // bytes of an action description
	maxRecordPayload    = 256 << 10
	qScale              = 1_000_000
	efficiencyDenomiter = 1e12
)

// Action is one step of a query recorded in an episode: the inference call and each
// gate. All four fields are hashed.
type Action struct {
	Type        string `json:"type"`
	Description string `json:"description"`
	Success     bool   `json:"success"`
	DurationUS  uint64 `json:"duration_us"`
}

// Episode is one entry of the experience ledger. Every field except ResponseSummary
// (which the contract's byte layout leaves out) and the three hashes goes into
// EpisodeHash; the JSON form carries all of them so anyone can recompute the chain.
//
// Context and ResponseSummary hold at most 500 characters: Unicode code points, the
// way Python's s[:500] counts, not bytes and not UTF-16 units. Invalid UTF-8 is
// replaced by U+FFFD before cutting, so the stored bytes survive a JSON round trip
// and the hash (which covers the UTF-8 bytes, lengths in bytes) recomputes.
type Episode struct {
	Sequence        uint64   `json:"sequence"`
	Timestamp       uint64   `json:"timestamp"` // Unix seconds
	Context         string   `json:"context"`
	GraphHash       string   `json:"graph_hash"`
	GraphNodeCount  uint32   `json:"graph_node_count"`
	Actions         []Action `json:"actions"`
	SNR             float64  `json:"snr"`
	Ihsan           float64  `json:"ihsan"`
	SNROK           bool     `json:"snr_ok"`
	Feedback        *float64 `json:"feedback,omitempty"` // in [-1, 1] when present
	TokensUsed      uint64   `json:"tokens_used"`
	Efficiency      float64  `json:"efficiency"` // derived: Efficiency(SNR, Ihsan, TokensUsed)
	ResponseSummary string   `json:"response_summary"`
	PrevHash        string   `json:"prev_hash"`
	EpisodeHash     string   `json:"episode_hash"`
	ChainHash       string   `json:"chain_hash"`
}

// Importance is snr·ihsan, times the efficiency when that is positive.
func (e *Episode) Importance() float64 {
	imp := e.SNR * e.Ihsan
	if eff := Efficiency(e.SNR, e.Ihsan, e.TokensUsed); eff > 0 {
		imp *= eff
	}
	return imp
}

// Clip returns the first n characters (code points) of s after replacing invalid
// UTF-8 by U+FFFD.
func Clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n { // fast path: n bytes hold at most n runes
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i]
}

// Q is the contract's quantisation q(x) = floor(clamp(x, 0, 1) · 10^6); NaN gives 0.
func Q(x float64) uint32 {
	if !(x > 0) { // also NaN
		return 0
	}
	if x > 1 {
		x = 1
	}
	return uint32(math.Floor(x * qScale))
}

// ILog2 is floor(log2(n)) computed on integers, with ILog2(0) = 0.
func ILog2(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	return uint64(bits.Len64(n) - 1)
}

// Efficiency is (q(snr)·q(ihsan) div max(1, ILog2(tokens+2))) / 10^12 when tokens > 0,
// else 0.
func Efficiency(snr, ihsan float64, tokens uint64) float64 {
	if tokens == 0 {
		return 0
	}
	d := ILog2(tokens + 2) // tokens+2 cannot overflow below 2^64-2; saturate above
	if tokens > math.MaxUint64-2 {
		d = 63
	}
	d = max(1, d)
	n := uint64(Q(snr)) * uint64(Q(ihsan)) / d
	return float64(n) / efficiencyDenomiter
}

// AppendLayout appends the contract's byte layout of e (the EpisodeHash preimage,
// domain prefix included) to b.
func AppendLayout(b []byte, e *Episode) []byte {
	le := binary.LittleEndian
	b = append(b, episodeDomain...)
	b = le.AppendUint64(b, e.Sequence)
	b = le.AppendUint64(b, e.Timestamp)
	b = appendString(b, e.Context)
	b = appendString(b, e.GraphHash)
	b = le.AppendUint32(b, e.GraphNodeCount)
	b = le.AppendUint32(b, uint32(len(e.Actions)))
	for i := range e.Actions {
		a := &e.Actions[i]
		b = appendString(b, a.Type)
		b = appendString(b, a.Description)
		b = appendBool(b, a.Success)
		b = le.AppendUint64(b, a.DurationUS)
	}
	b = le.AppendUint32(b, Q(e.SNR))
	b = le.AppendUint32(b, Q(e.Ihsan))
	b = appendBool(b, e.SNROK)
	if e.Feedback != nil {
		b = append(b, 1)
		b = le.AppendUint32(b, Q((*e.Feedback+1)/2))
	} else {
		b = append(b, 0)
	}
	b = le.AppendUint64(b, e.TokensUsed)
	b = le.AppendUint32(b, Q(Efficiency(e.SNR, e.Ihsan, e.TokensUsed)))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// ComputeEpisodeHash returns the hex SHA-256 of e's byte layout. The stored hash
// fields of e are ignored.
func ComputeEpisodeHash(e *Episode) string {
	var buf [1024]byte
	s := sha256.Sum256(AppendLayout(buf[:0], e))
	return hex.EncodeToString(s[:])
}

// ComputeChainHash returns hex SHA-256 of "bizra-sel-chain-v1:" + prev + ":" + episodeHash.
func ComputeChainHash(prev, episodeHash string) string {
	h := sha256.New()
	h.Write([]byte(chainDomain))
	h.Write([]byte(prev))
	h.Write([]byte{':'})
	h.Write([]byte(episodeHash))
	var out [32]byte
	return hex.EncodeToString(h.Sum(out[:0]))
}

// seal fills the derived and hash fields of e as the episode following prev.
func seal(e *Episode, seq uint64, prev string) {
	e.Sequence = seq
	e.Efficiency = Efficiency(e.SNR, e.Ihsan, e.TokensUsed)
	e.PrevHash = prev
	e.EpisodeHash = ComputeEpisodeHash(e)
	e.ChainHash = ComputeChainHash(prev, e.EpisodeHash)
}

// checkSealed recomputes e's hashes as the episode following (seq, prev) and says what
// does not match ("" when it all recomputes).
func checkSealed(e *Episode, seq uint64, prev string) string {
	switch {
	case e.Sequence != seq:
		return fmt.Sprintf("sequence %d, want %d", e.Sequence, seq)
	case e.PrevHash != prev:
		return "prev_hash does not match the previous chain hash"
	case e.Efficiency != Efficiency(e.SNR, e.Ihsan, e.TokensUsed):
		return "efficiency does not recompute"
	case e.EpisodeHash != ComputeEpisodeHash(e):
		return "episode_hash does not recompute"
	case e.ChainHash != ComputeChainHash(prev, e.EpisodeHash):
		return "chain_hash does not recompute"
	}
	return ""
}

// normalize returns a validated copy of e ready to be sealed: context and summary cut
// to 500 characters, strings made valid UTF-8, actions copied (the caller's slice is
// not retained).
func normalize(e Episode) (Episode, error) {
	bad := func(format string, args ...any) (Episode, error) {
		return Episode{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidEpisode}, args...)...)
	}
	if !unit(e.SNR) {
		return bad("snr %v not in [0,1]", e.SNR)
	}
	if !unit(e.Ihsan) {
		return bad("ihsan %v not in [0,1]", e.Ihsan)
	}
	if e.Feedback != nil {
		f := *e.Feedback
		if !(f >= -1 && f <= 1) {
			return bad("feedback %v not in [-1,1]", f)
		}
		e.Feedback = &f
	}
	e.Context = Clip(e.Context, MaxContextChars)
	e.ResponseSummary = Clip(e.ResponseSummary, MaxSummaryChars)
	e.GraphHash = strings.ToValidUTF8(e.GraphHash, "\uFFFD")
	if len(e.GraphHash) > MaxGraphHashBytes {
		return bad("graph_hash of %d bytes (max %d)", len(e.GraphHash), MaxGraphHashBytes)
	}
	if len(e.Actions) > MaxActions {
		return bad("%d actions (max %d)", len(e.Actions), MaxActions)
	}
	acts := make([]Action, len(e.Actions))
	for i, a := range e.Actions {
		a.Type = strings.ToValidUTF8(a.Type, "\uFFFD")
		a.Description = strings.ToValidUTF8(a.Description, "\uFFFD")
		if len(a.Type) > MaxActionTypeBytes {
			return bad("action %d type of %d bytes (max %d)", i, len(a.Type), MaxActionTypeBytes)
		}
		if len(a.Description) > MaxActionDescBytes {
			return bad("action %d description of %d bytes (max %d)", i, len(a.Description), MaxActionDescBytes)
		}
		acts[i] = a
	}
	e.Actions = acts
	e.Sequence, e.PrevHash, e.EpisodeHash, e.ChainHash, e.Efficiency = 0, "", "", "", 0
	return e, nil
}

func unit(x float64) bool { return x >= 0 && x <= 1 }

// clone returns a deep copy of e (readers get copies, never the ledger's own slices).
func (e *Episode) clone() Episode {
	c := *e
	c.Actions = append([]Action(nil), e.Actions...)
	if e.Feedback != nil {
		f := *e.Feedback
		c.Feedback = &f
	}
	return c
}
