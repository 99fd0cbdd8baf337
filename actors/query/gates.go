package query

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/catalog"
)

// Gate names, the bounded label of sovereign_gate_rejections_total.
const (
	GateSchema = "schema"
	GateSafety = "safety"
)

// Validate checks the schema and size rules of api.md on a request built by either
// front door. The error wraps ErrInvalidQuery with a detail naming the field.
func Validate(r *Request) error {
	bad := func(format string, args ...any) error {
		return catalog.WithDetail(ErrInvalidQuery, fmt.Sprintf(format, args...))
	}
	q := strings.TrimSpace(r.Query)
	if n := utf8.RuneCountInString(q); n == 0 || n > MaxQueryChars {
		return bad("query: must be 1..%d characters after trimming", MaxQueryChars)
	}
	if !utf8.ValidString(r.Query) {
		return bad("query: must be valid UTF-8")
	}
	if len(r.Context) > MaxContextKeys {
		return bad("context: at most %d keys", MaxContextKeys)
	}
	if len(r.Context) > 0 {
		b, err := json.Marshal(r.Context)
		if err != nil {
			return bad("context: must be a JSON object")
		}
		if len(b) > MaxContextBytes {
			return bad("context: at most %d bytes encoded", MaxContextBytes)
		}
	}
	if r.MaxDepth < MinMaxDepth || r.MaxDepth > MaxMaxDepth {
		return bad("max_depth: must be %d..%d", MinMaxDepth, MaxMaxDepth)
	}
	if r.TimeoutMs < MinTimeoutMs || r.TimeoutMs > MaxTimeoutMs {
		return bad("timeout_ms: must be %d..%d", MinTimeoutMs, MaxTimeoutMs)
	}
	if utf8.RuneCountInString(r.UserID) > MaxUserIDChars {
		return bad("user_id: at most %d characters", MaxUserIDChars)
	}
	return nil
}

// SafetyPolicy is the configurable deny-pattern gate. It judges one request on its
// own text; it keeps no state between queries.
type SafetyPolicy struct {
	patterns []*regexp.Regexp
	// MaxHits caps the hits counted for the Ihsan safety term.
	MaxHits int
}

// DefaultDenyPatterns refuse requests for credentials and secrets of this node.
var DefaultDenyPatterns = []string{
	`(?i)\b(print|show|reveal|dump|leak|exfiltrate)\b.{0,40}\b(private key|secret key|bridge token|api key|password)s?\b`,
	`(?i)BIZRA_(BRIDGE_TOKEN|RECEIPT_PRIVATE_KEY_HEX)\s*=`,
}

// NewSafetyPolicy compiles the deny patterns (Go RE2 syntax, so matching is linear).
func NewSafetyPolicy(patterns []string) (*SafetyPolicy, error) {
	p := &SafetyPolicy{MaxHits: 3}
	for _, s := range patterns {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w: %w", s, ErrBadPattern, err)
		}
		p.patterns = append(p.patterns, re)
	}
	return p, nil
}

// Hits counts the deny patterns text matches.
func (p *SafetyPolicy) Hits(text string) int {
	if p == nil {
		return 0
	}
	n := 0
	for _, re := range p.patterns {
		if re.MatchString(text) {
			n++
		}
	}
	return n
}

// Patterns returns the sources of the deny patterns, for the policy digest.
func (p *SafetyPolicy) Patterns() []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p.patterns))
	for i, re := range p.patterns {
		out[i] = re.String()
	}
	return out
}
