package bridge

import "bytes"

// memberIter walks the members of a JSON object that has already been validated
// (json.Valid), without allocating: keys and values are sub-slices of the input.
type memberIter struct {
	b []byte
	i int
}

// newMemberIter starts after the object's opening brace. obj must be a valid JSON
// object (leading whitespace allowed).
func newMemberIter(obj []byte) memberIter {
	it := memberIter{b: obj}
	it.skipWS()
	it.i++ // '{'
	return it
}

func (it *memberIter) skipWS() {
	for it.i < len(it.b) {
		switch it.b[it.i] {
		case ' ', '\t', '\r', '\n':
			it.i++
		default:
			return
		}
	}
}

// next returns the next member's raw key (with its quotes) and raw value.
func (it *memberIter) next() (key, val []byte, ok bool) {
	it.skipWS()
	if it.i >= len(it.b) || it.b[it.i] == '}' {
		return nil, nil, false
	}
	if it.b[it.i] == ',' {
		it.i++
		it.skipWS()
	}
	ks := it.i
	it.i = skipString(it.b, it.i)
	key = it.b[ks:it.i]
	it.skipWS()
	it.i++ // ':'
	it.skipWS()
	vs := it.i
	it.i = skipValue(it.b, it.i)
	return key, it.b[vs:it.i], true
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
		j++
	}
	return j
}

// keyIs reports whether the raw key (with quotes) equals name exactly, after
// unescaping when the key has escapes.
func keyIs(raw []byte, name string) bool {
	if len(raw) == len(name)+2 && string(raw[1:len(raw)-1]) == name {
		return true
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	s, ok := rawString(raw)
	return ok && s == name
}
