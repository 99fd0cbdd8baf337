package index

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTermBytes bounds a term: longer tokens (hashes, base64, minified code) are dropped.
const MaxTermBytes = 64

// Tokens splits text into lower-case tokens of unicode letters and digits. Everything
// else separates tokens (so "bridge_health" gives "bridge", "health"). Tokens of one
// rune and tokens longer than MaxTermBytes are dropped. Stop words are kept; see
// ContentTerms.
func Tokens(text string) []string {
	var out []string
	forEachToken(text, func(tok string) { out = append(out, tok) })
	return out
}

// ContentTerms returns the content terms of text in order of appearance (duplicates
// kept): Tokens without English stop words, each reduced by Stem. It is the one
// definition of a "content term" used by the index, the reasoning graph and the
// scoring policy.
func ContentTerms(text string) []string {
	var out []string
	forEachToken(text, func(tok string) {
		if t, ok := contentTerm(tok); ok {
			out = append(out, t)
		}
	})
	return out
}

// ContentTermSet returns the distinct content terms of text.
func ContentTermSet(text string) map[string]struct{} {
	set := make(map[string]struct{})
	forEachToken(text, func(tok string) {
		if t, ok := contentTerm(tok); ok {
			set[t] = struct{}{}
		}
	})
	return set
}

// IsStopWord reports whether the lower-case token w is an English stop word.
func IsStopWord(w string) bool {
	_, ok := stopWords[w]
	return ok
}

func contentTerm(tok string) (string, bool) {
	if IsStopWord(tok) {
		return "", false
	}
	t := Stem(tok)
	if IsStopWord(t) || utf8.RuneCountInString(t) < 2 {
		return "", false
	}
	return t, true
}

// forEachToken calls fn with every lower-case letter/digit run of text that has at
// least two runes and at most MaxTermBytes bytes. Invalid UTF-8 separates tokens. A
// camel-case identifier gives the whole token and then its parts ("ParseDuration" →
// "parseduration", "parse", "duration"; "HTTPServer" → "httpserver", "http",
// "server"), so a question's words meet the identifiers of code and API docs.
func forEachToken(text string, fn func(string)) {
	var b strings.Builder
	runes := 0
	var cuts []int // byte offsets in b where a camel-case part starts
	var prev, prev2 rune
	flush := func() {
		if runes >= 2 && b.Len() <= MaxTermBytes {
			tok := b.String()
			fn(tok)
			if len(cuts) > 0 {
				start := 0
				for _, c := range append(cuts, len(tok)) {
					if part := tok[start:c]; utf8.RuneCountInString(part) >= 2 {
						fn(part)
					}
					start = c
				}
			}
		}
		b.Reset()
		runes = 0
		cuts = cuts[:0]
		prev, prev2 = 0, 0
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			lr := unicode.ToLower(r)
			if !unicode.IsLetter(lr) && !unicode.IsDigit(lr) {
				lr = r
			}
			if runes > 0 && b.Len() <= MaxTermBytes && r < utf8.RuneSelf && prev < utf8.RuneSelf {
				switch {
				case unicode.IsUpper(r) && unicode.IsLower(prev): // parseDuration
					cuts = append(cuts, b.Len())
				case unicode.IsLower(r) && unicode.IsUpper(prev) && unicode.IsUpper(prev2) && runes >= 2: // HTTPServer
					if n := b.Len() - 1; n > 0 && (len(cuts) == 0 || cuts[len(cuts)-1] < n) {
						cuts = append(cuts, n)
					}
				}
			}
			if b.Len() <= MaxTermBytes { // stop growing a token that will be dropped
				b.WriteRune(lr)
			} else {
				b.WriteByte('x')
			}
			prev2, prev = prev, r
			runes++
			continue
		}
		flush()
	}
	flush()
}

// Stem is a light English stemmer: Harman's S-stemmer for plurals (sStem), then, for
// ASCII words of five letters or more, Porter's step 1b ("-ed", "-ing", "-eed") and
// step 5a (a final "-e"), repeated until nothing changes, so that "canceled" and
// "cancel", "created" and "create", "running" and "run", "parses" and "parse" meet.
// Words shorter than four runes are left alone. It is idempotent: Stem(Stem(w)) ==
// Stem(w) (a fixed point).
func Stem(w string) string {
	for range 6 {
		s := sStem(w)
		if len(s) >= 5 && isASCIILower(s) {
			s = porter5a(porter1b(s))
		}
		if s == w {
			return s
		}
		w = s
	}
	return w
}

func isASCIILower(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

func isVowelAt(w string, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	case 'y':
		return i > 0 && !isVowelAt(w, i-1)
	}
	return false
}

// measure is Porter's m: the number of vowel-consonant sequences of w.
func measure(w string) int {
	m, inVowel := 0, false
	for i := range len(w) {
		v := isVowelAt(w, i)
		if !v && inVowel {
			m++
		}
		inVowel = v
	}
	return m
}

func hasVowel(w string) bool {
	for i := range len(w) {
		if isVowelAt(w, i) {
			return true
		}
	}
	return false
}

// cvc: w ends consonant-vowel-consonant, the last not w, x or y.
func cvc(w string) bool {
	n := len(w)
	if n < 3 || isVowelAt(w, n-1) || !isVowelAt(w, n-2) || isVowelAt(w, n-3) {
		return false
	}
	c := w[n-1]
	return c != 'w' && c != 'x' && c != 'y'
}

func porter1b(w string) string {
	if strings.HasSuffix(w, "eed") {
		if measure(w[:len(w)-3]) > 0 {
			return w[:len(w)-1]
		}
		return w
	}
	var stem string
	switch {
	case strings.HasSuffix(w, "ed") && hasVowel(w[:len(w)-2]):
		stem = w[:len(w)-2]
	case strings.HasSuffix(w, "ing") && hasVowel(w[:len(w)-3]):
		stem = w[:len(w)-3]
	default:
		return w
	}
	n := len(stem)
	switch {
	case strings.HasSuffix(stem, "at"), strings.HasSuffix(stem, "bl"), strings.HasSuffix(stem, "iz"):
		return stem + "e"
	case n >= 2 && stem[n-1] == stem[n-2] && !isVowelAt(stem, n-1) && !strings.ContainsRune("lsz", rune(stem[n-1])):
		return stem[:n-1]
	case measure(stem) == 1 && cvc(stem):
		return stem + "e"
	}
	return stem
}

func porter5a(w string) string {
	if !strings.HasSuffix(w, "e") {
		return w
	}
	stem := w[:len(w)-1]
	if m := measure(stem); m > 1 || (m == 1 && !cvc(stem)) {
		return stem
	}
	return w
}

// sStem is Harman's S-stemmer: "-ies" → "-y", "-es" → "-e", "-s" → "" with the usual
// exceptions ("-aies", "-eies", "-aes", "-ees", "-oes", "-ss", "-us", "-is"). Words
// shorter than four runes are left alone.
func sStem(w string) string {
	if len(w) < 4 || w[len(w)-1] != 's' || utf8.RuneCountInString(w) < 4 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "es") && !strings.HasSuffix(w, "aes") && !strings.HasSuffix(w, "ees") && !strings.HasSuffix(w, "oes"):
		return w[:len(w)-1]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	}
	return w[:len(w)-1]
}

// stopWords is a common English stop-word list (the union of the Lucene/Snowball short
// lists, plus question words and contractions split at the apostrophe).
var stopWords = func() map[string]struct{} {
	const list = `a about above after again against all am an and any are aren as at be because been
before being below between both but by can cannot could couldn did didn do does doesn doing don down
during each few for from further had hadn has hasn have haven having he her here hers herself him
himself his how however i if in into is isn it its itself just let ll me more most mustn my myself no
nor not now of off on once only or other ought our ours ourselves out over own re same shan she should
shouldn so some such than that the their theirs them themselves then there these they this those
through to too under until up upon us ve very was wasn we were weren what when where whether which
while who whom whose why will with won would wouldn you your yours yourself yourselves also may might
must shall yet etc via eg ie`
	m := make(map[string]struct{}, 200)
	for _, w := range strings.Fields(list) {
		m[w] = struct{}{}
	}
	return m
}()
