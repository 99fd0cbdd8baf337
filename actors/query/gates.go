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

// FieldError is a request that breaks one schema rule of api.md: Field names the
// member and Rule says what it must be. It wraps ErrInvalidQuery. Validate returns it
// with the public detail "field: rule", so every front door (the gateway, the bridge
// and the OpenAI front, which reaches it through the engine) reports the same rule in
// the same words; the bridge puts Field into data.member.
type FieldError struct {
	Field string
	Rule  string
}

func (e *FieldError) Error() string { return "query: invalid " + e.Field + ": " + e.Rule }

// Unwrap makes errors.Is(err, ErrInvalidQuery) hold.
func (e *FieldError) Unwrap() error { return ErrInvalidQuery }

func fieldError(field, format string, args ...any) error {
	rule := fmt.Sprintf(format, args...)
	return catalog.WithDetail(&FieldError{Field: field, Rule: rule}, field+": "+rule)
}

// Validate checks the schema and size rules of api.md on a request built by any
// front door: the one place those rules live. The front doors decode types (a
// string, a boolean, an integer) and leave every range and size to Validate. The
// error is a *FieldError (errors.As) wrapped with its public detail, and
// errors.Is(err, ErrInvalidQuery) holds.
func Validate(r *Request) error {
	q := strings.TrimSpace(r.Query)
	if n := utf8.RuneCountInString(q); n == 0 || n > MaxQueryChars {
		return fieldError("query", "must be 1..%d characters after trimming", MaxQueryChars)
	}
	if !utf8.ValidString(r.Query) {
		return fieldError("query", "must be valid UTF-8")
	}
	if len(r.Context) > MaxContextKeys {
		return fieldError("context", "at most %d keys", MaxContextKeys)
	}
	if len(r.Context) > 0 {
		b, err := json.Marshal(r.Context)
		if err != nil {
			return fieldError("context", "must be a JSON object")
		}
		if len(b) > MaxContextBytes {
			return fieldError("context", "at most %d bytes encoded", MaxContextBytes)
		}
	}
	if r.MaxDepth < MinMaxDepth || r.MaxDepth > MaxMaxDepth {
		return fieldError("max_depth", "must be %d..%d", MinMaxDepth, MaxMaxDepth)
	}
	if r.TimeoutMs < MinTimeoutMs || r.TimeoutMs > MaxTimeoutMs {
		return fieldError("timeout_ms", "must be %d..%d", MinTimeoutMs, MaxTimeoutMs)
	}
	if utf8.RuneCountInString(r.UserID) > MaxUserIDChars {
		return fieldError("user_id", "at most %d characters", MaxUserIDChars)
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
