package tracing

import (
	"context"
	"fmt"
)

// Parent is the content of a traceparent header: the trace, the parent span in it,
// and the trace flags. The zero Parent is "none" (IsValid false).
type Parent struct {
	TraceID [16]byte
	SpanID  [8]byte
	Flags   byte
}

// FlagSampled is the sampled bit of Parent.Flags.
const FlagSampled = 0x01

// headerLen is the length of a version 00 traceparent.
const headerLen = 55

// IsValid reports whether p has a non-zero trace id and span id.
func (p Parent) IsValid() bool {
	return p.TraceID != [16]byte{} && p.SpanID != [8]byte{}
}

// Sampled reports whether the sampled flag is set.
func (p Parent) Sampled() bool { return p.Flags&FlagSampled != 0 }

// Parse reads a traceparent header value (see the package doc for the rules).
func Parse(s string) (Parent, error) { return parse(s) }

// ParseBytes is Parse of a header value held in a byte slice (fasthttp's Peek); it
// does not retain b and does not allocate unless b is invalid.
func ParseBytes(b []byte) (Parent, error) { return parse(b) }

func parse[T string | []byte](s T) (Parent, error) {
	p, err := parseFields(s)
	if err != nil {
		return Parent{}, err
	}
	return p, nil
}

func parseFields[T string | []byte](s T) (Parent, error) {
	var p Parent
	if len(s) < headerLen {
		return p, fmt.Errorf("%w: %d characters, want %d", ErrInvalid, len(s), headerLen)
	}
	v0, ok0 := unhex(s[0])
	v1, ok1 := unhex(s[1])
	if !ok0 || !ok1 {
		return p, fmt.Errorf("%w: version is not 2 lowercase hex digits", ErrInvalid)
	}
	version := v0<<4 | v1
	switch {
	case version == 0xff:
		return p, fmt.Errorf("%w: version ff is invalid", ErrInvalid)
	case version == 0 && len(s) != headerLen:
		return p, fmt.Errorf("%w: version 00 is %d characters, got %d", ErrInvalid, headerLen, len(s))
	case version > 0 && len(s) > headerLen && s[headerLen] != '-':
		return p, fmt.Errorf("%w: a later version's fields must be followed by '-'", ErrInvalid)
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return p, fmt.Errorf("%w: fields must be separated by '-'", ErrInvalid)
	}
	if !decodeHex(p.TraceID[:], s[3:35]) {
		return p, fmt.Errorf("%w: trace id is not 32 lowercase hex digits", ErrInvalid)
	}
	if !decodeHex(p.SpanID[:], s[36:52]) {
		return p, fmt.Errorf("%w: parent id is not 16 lowercase hex digits", ErrInvalid)
	}
	var f [1]byte
	if !decodeHex(f[:], s[53:55]) {
		return p, fmt.Errorf("%w: flags are not 2 lowercase hex digits", ErrInvalid)
	}
	p.Flags = f[0]
	if p.TraceID == [16]byte{} {
		return p, fmt.Errorf("%w: trace id is all zeros", ErrInvalid)
	}
	if p.SpanID == [8]byte{} {
		return p, fmt.Errorf("%w: parent id is all zeros", ErrInvalid)
	}
	return p, nil
}

// String returns the version 00 header value, or "" for an invalid Parent.
func (p Parent) String() string {
	if !p.IsValid() {
		return ""
	}
	var b [headerLen]byte
	return string(p.AppendTo(b[:0]))
}

// AppendTo appends the version 00 header value of p to b.
func (p Parent) AppendTo(b []byte) []byte {
	b = append(b, '0', '0', '-')
	b = appendHex(b, p.TraceID[:])
	b = append(b, '-')
	b = appendHex(b, p.SpanID[:])
	b = append(b, '-')
	return appendHex(b, []byte{p.Flags})
}

const hexDigits = "0123456789abcdef"

func appendHex(b, src []byte) []byte {
	for _, c := range src {
		b = append(b, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return b
}

// unhex decodes one lowercase hex digit (the spec allows no uppercase).
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func decodeHex[T string | []byte](dst []byte, s T) bool {
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

type parentKey struct{}

// WithParent returns ctx carrying p; an invalid p returns ctx unchanged.
func WithParent(ctx context.Context, p Parent) context.Context {
	if !p.IsValid() {
		return ctx
	}
	return context.WithValue(ctx, parentKey{}, p)
}

// FromContext returns the Parent ctx carries, if any.
func FromContext(ctx context.Context) (Parent, bool) {
	p, ok := ctx.Value(parentKey{}).(Parent)
	return p, ok && p.IsValid()
}
