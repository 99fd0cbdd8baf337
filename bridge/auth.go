package bridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/canon"
)

// Header names inside a request's "headers" object (bridge.md, Auth).
const (
	HeaderToken = "X-BIZRA-TOKEN"
	HeaderTS    = "X-BIZRA-TS"
	HeaderNonce = "X-BIZRA-NONCE"
	HeaderSig   = "X-BIZRA-SIG"
)

// authHeaders is the decoded "headers" object. Members stay raw so that each one's
// type is checked in the contract's order. Header names match exactly.
type authHeaders struct {
	Token, TS, Nonce, Sig json.RawMessage
}

// authFailure is one row of the auth table: the error and the metric reason.
type authFailure struct {
	err    *rpcError
	reason string // bounded label of sovereign_bridge_auth_failures_total
}

var (
	failHeaders  = authFailure{newRPCError(CodeAuthMissing, "Authentication required: missing headers", "AUTH_MISSING_HEADERS"), "missing_headers"}
	failToken    = authFailure{newRPCError(CodeAuthMissing, "Authentication required: missing X-BIZRA-TOKEN", "AUTH_MISSING_TOKEN"), "missing_token"}
	failTS       = authFailure{newRPCError(CodeAuthMissing, "Authentication required: missing or invalid X-BIZRA-TS", "AUTH_MISSING_TIMESTAMP"), "missing_timestamp"}
	failNonce    = authFailure{newRPCError(CodeAuthMissing, "Authentication required: missing or invalid X-BIZRA-NONCE", "AUTH_MISSING_NONCE"), "missing_nonce"}
	failBadToken = authFailure{newRPCError(CodeAuthInvalid, "Invalid token", "AUTH_INVALID_TOKEN"), "invalid_token"}
	failBadSig   = authFailure{newRPCError(CodeAuthInvalid, "Invalid signature", "AUTH_INVALID_SIGNATURE"), "invalid_signature"}
	failStale    = authFailure{newRPCError(CodeAuthStale, "Stale or invalid timestamp", "AUTH_STALE_TIMESTAMP"), "stale_timestamp"}
	failReplay   = authFailure{newRPCError(CodeNonceReplay, "Nonce already used", "AUTH_NONCE_REPLAY"), "nonce_replay"}
	// failBeforeStart: a timestamp older than this listener's start (less StartSkew)
	// cannot be fresh for this nonce window, which began empty at Start: it is a
	// stale timestamp to the client, counted apart.
	failBeforeStart = authFailure{newRPCError(CodeAuthStale, "Stale or invalid timestamp: older than the bridge's start", "AUTH_STALE_TIMESTAMP"), "before_start"}
	errRateLimit    = newRPCError(CodeBusy, "Rate limit exceeded", "RATE_LIMIT_EXCEEDED")
	errNonceStore   = newRPCError(CodeBusy, "Server busy, retry later", "NONCE_STORE_FULL")
)

// authenticator checks step 4 of the pipeline. It is immutable and safe for
// concurrent use.
type authenticator struct {
	tokenSum   [32]byte // SHA-256 of the token: compared in constant time, whatever the length
	token      []byte   // HMAC key of X-BIZRA-SIG
	maxSkewMs  int64
	requireSig bool
	// notBeforeMs refuses timestamps older than the listener's start less StartSkew
	// (replays of lines captured by an earlier process); 0 is off (benchmarks, fuzz).
	notBeforeMs int64
}

func newAuthenticator(token string, maxSkew time.Duration, requireSig bool) *authenticator {
	return &authenticator{
		tokenSum:   sha256.Sum256([]byte(token)),
		token:      []byte(token),
		maxSkewMs:  maxSkew.Milliseconds(),
		requireSig: requireSig,
	}
}

// authenticate runs the auth table in order and returns the nonce on success.
func (a *authenticator) authenticate(fr *frame, nowMs int64) (nonce string, fail *authFailure) {
	if len(fr.headers) == 0 || fr.headers[0] != '{' {
		return "", &failHeaders
	}
	var h authHeaders
	it := newMemberIter(fr.headers) // a sub-slice of a validated line
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		switch {
		case keyIs(k, HeaderToken):
			h.Token = v
		case keyIs(k, HeaderTS):
			h.TS = v
		case keyIs(k, HeaderNonce):
			h.Nonce = v
		case keyIs(k, HeaderSig):
			h.Sig = v
		}
	}
	tok, ok := rawString(h.Token)
	if !ok || tok == "" {
		return "", &failToken
	}
	ts, ok := parseTS(h.TS)
	if !ok {
		return "", &failTS
	}
	nonce, ok = rawString(h.Nonce)
	if !ok || nonce == "" || utf8.RuneCountInString(nonce) > MaxNonceChars {
		return "", &failNonce
	}
	if !a.tokenEqual(tok) {
		return "", &failBadToken
	}
	if len(h.Sig) > 0 || a.requireSig {
		sig, ok := rawString(h.Sig)
		if !ok || !a.sigValid(sig, ts, nonce, fr.method, fr.params) {
			return "", &failBadSig
		}
	}
	lo, hi := nowMs-a.maxSkewMs, nowMs+a.maxSkewMs
	if ts < lo || ts > hi {
		return "", &failStale
	}
	if ts < a.notBeforeMs {
		return "", &failBeforeStart
	}
	return nonce, nil
}

// tokenEqual compares digests so neither the content nor the length of the token
// leaks through timing; any bytes are fine.
func (a *authenticator) tokenEqual(got string) bool {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) == 1
}

func (a *authenticator) sigValid(sig string, ts int64, nonce, method string, params json.RawMessage) bool {
	want, err := signBytes(a.token, ts, nonce, method, params)
	if err != nil {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, want)
}

// maxTSDigits bounds X-BIZRA-TS: 16 digits reach the year 318857, far past any clock.
const maxTSDigits = 16

// parseTS accepts an integer JSON number (ms) or a string holding a decimal one;
// fractions, exponents, signs in strings and huge values are refused.
func parseTS(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	digits := []byte(raw)
	neg := false
	switch {
	case raw[0] == '"':
		s, ok := rawString(raw)
		if !ok {
			return 0, false
		}
		digits = []byte(s)
	case raw[0] == '-':
		neg, digits = true, digits[1:]
	}
	if len(digits) == 0 || len(digits) > maxTSDigits {
		return 0, false
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// SignatureBase returns the bytes X-BIZRA-SIG signs:
//
//	ts ‖ "\n" ‖ nonce ‖ "\n" ‖ method ‖ "\n" ‖ canonical(params)
//
// ts is the timestamp's decimal form (as the integer, even when sent as a string);
// canonical(params) is the RFC 8785 encoding of params (internal/canon) and the empty
// string when the request has no params member. params "null" canonicalizes to "null".
func SignatureBase(ts int64, nonce, method string, params json.RawMessage) ([]byte, error) {
	b := strconv.AppendInt(nil, ts, 10)
	b = append(b, '\n')
	b = append(b, nonce...)
	b = append(b, '\n')
	b = append(b, method...)
	b = append(b, '\n')
	if len(params) > 0 {
		c, err := canon.Transform(params)
		if err != nil {
			return nil, err
		}
		b = append(b, c...)
	}
	return b, nil
}

func signBytes(token []byte, ts int64, nonce, method string, params json.RawMessage) ([]byte, error) {
	base, err := SignatureBase(ts, nonce, method, params)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, token)
	m.Write(base)
	return m.Sum(nil), nil
}

// Sign returns X-BIZRA-SIG for a request: lower-case hex HMAC-SHA256(token, SignatureBase(...)).
// params nil means the request carries no params member.
func Sign(token string, ts int64, nonce, method string, params json.RawMessage) (string, error) {
	s, err := signBytes([]byte(token), ts, nonce, method, params)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(s), nil
}
