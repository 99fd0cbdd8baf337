package reasoning

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/index"
)

// MaxClauses bounds SplitClauses: clauses past it are merged into the last one.
const MaxClauses = 32

// conjunctions end a clause (they are all stop words, so no content term is lost).
var conjunctions = map[string]bool{"and": true, "or": true, "but": true, "then": true, "also": true, "nor": true}

// questionWords start a new clause when they appear after the start of a segment.
var questionWords = map[string]bool{"what": true, "how": true, "why": true, "when": true,
	"where": true, "which": true, "who": true, "whom": true, "whose": true, "whether": true}

// SplitClauses splits a query into its clauses: at sentence punctuation (? ! ; and . ,
// : when followed by a space or the end), at newlines, at the conjunctions and, or,
// but, then, also, nor, and before a question word (what, how, why, …) that does not
// start its segment. Clauses without a content term are dropped, clauses with the
// same content terms are kept once, and at most MaxClauses are returned (the rest is
// merged into the last). The union of the clauses' content terms is exactly the
// query's set of content terms; a query with one clause gives one clause.
func SplitClauses(q string) []string {
	var clauses []string
	seen := make(map[string]bool)
	var words []string
	flush := func() {
		if len(words) == 0 {
			return
		}
		c := strings.Join(words, " ")
		words = words[:0]
		terms := index.ContentTerms(c)
		if len(terms) == 0 {
			return
		}
		slices.Sort(terms)
		key := strings.Join(slices.Compact(terms), " ")
		if seen[key] {
			return
		}
		seen[key] = true
		clauses = append(clauses, c)
	}
	for _, seg := range segments(q) {
		for i, w := range strings.Fields(seg) {
			lw := strings.ToLower(w)
			switch {
			case conjunctions[lw]:
				flush()
				continue
			case i > 0 && questionWords[lw]:
				flush()
			}
			words = append(words, w)
		}
		flush()
	}
	if len(clauses) > MaxClauses {
		clauses = append(clauses[:MaxClauses-1], strings.Join(clauses[MaxClauses-1:], "; "))
	}
	return clauses
}

// segments cuts q at sentence punctuation.
func segments(q string) []string {
	var out []string
	start := 0
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		cut := false
		switch r {
		case '?', '!', ';', '\n', '\r', '\t', '¿', '¡', '。', '？', '！', '；':
			cut = true
		case '.', ',', ':', '，', '、':
			next, _ := utf8.DecodeRuneInString(q[i+size:])
			cut = i+size == len(q) || unicode.IsSpace(next)
		}
		if cut {
			out = append(out, q[start:i])
			start = i + size
		}
		i += size
	}
	return append(out, q[start:])
}
