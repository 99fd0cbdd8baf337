package canon

import (
	"fmt"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// Canonicaler is implemented by types that write their own RFC 8785 encoding. Marshal
// and Digest use it instead of the generic path (encoding/json, then a JCS transform),
// which costs tens of microseconds on a kilobyte-sized value; hot paths (cache keys,
// receipt digests) implement it with the Append helpers below. An implementation must
// produce exactly the bytes the generic path would: members sorted by UTF-16 code
// units, no insignificant whitespace, numbers and strings as AppendNumber and
// AppendString write them. Each implementation is pinned against the generic path by
// a test.
type Canonicaler interface {
	AppendCanonical(dst []byte) ([]byte, error)
}

// Canonical is a document its producer wrote canonically already (members sorted,
// numbers through AppendNumber, strings through AppendString). Marshal and Digest use
// it as is. Only wrap bytes this process produced that way, never client input; the
// producer's tests pin them against Transform.
type Canonical []byte

// AppendCanonical appends c unchanged.
func (c Canonical) AppendCanonical(dst []byte) ([]byte, error) { return append(dst, c...), nil }

// AppendString writes s as an RFC 8785 string: \" \\ \b \f \n \r \t, other control
// characters as \u00xx (lower-case hex), everything else as is. Invalid UTF-8 becomes
// U+FFFD, as encoding/json would have written it before the transform.
func AppendString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return appendStringSlow(dst, s)
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !needsEscape[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, c)
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// needsEscape marks the bytes RFC 8785 escapes: control characters, '"' and '\'.
var needsEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func appendEscape(dst []byte, c byte) []byte {
	const hexd = "0123456789abcdef"
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
}

// appendStringSlow is AppendString for invalid UTF-8: each invalid byte becomes U+FFFD.
func appendStringSlow(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += w
			continue
		}
		if needsEscape[c] {
			dst = append(dst, s[start:i]...)
			dst = appendEscape(dst, c)
			start = i + 1
		}
		i++
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendNumber writes f in the ECMAScript form RFC 8785 requires. NaN and infinities
// have no JSON form and are an error.
func AppendNumber(dst []byte, f float64) ([]byte, error) {
	s, err := jcs.NumberToJSON(f)
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return append(dst, s...), nil
}

// AppendBool writes true or false.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// AppendStrings writes a JSON array of strings.
func AppendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}

// AppendKey writes `,"name":` (or `"name":` when first is true). name must be a plain
// ASCII member name that needs no escaping.
func AppendKey(dst []byte, name string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}
