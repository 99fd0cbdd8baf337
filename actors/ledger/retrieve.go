package ledger

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// words returns the sorted, distinct lower-cased words of s longer than 2 characters.
// A word is a run of letters and digits; everything else separates words.
func words(s string) []string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := f[:0]
	for _, w := range f {
		if utf8.RuneCountInString(w) > 2 {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted distinct word lists (0 when both are empty).
func jaccard(a, b []string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// Retrieve returns the topK (1..100, 0 means 5) retained episodes with the highest
// score = 0.3·exp(−0.001·age_s) + 0.3·importance + 0.4·relevance, where relevance is
// the Jaccard overlap of the query's words with the episode context's words. Ties go
// to the newer episode.
func (l *Ledger) Retrieve(query string, topK int) []Scored {
	if topK <= 0 {
		topK = DefaultTopK
	}
	topK = min(topK, MaxTopK)
	q := words(query)
	now := l.opts.Now().Unix()
	l.mu.RLock()
	defer l.mu.RUnlock()
	type cand struct {
		e               *entry
		score, rel, imp float64
	}
	cands := make([]cand, 0, len(l.eps))
	for _, e := range l.eps {
		age := max(0, float64(now)-float64(e.ep.Timestamp))
		rel := jaccard(q, e.words)
		imp := e.ep.Importance()
		cands = append(cands, cand{e, 0.3*math.Exp(-0.001*age) + 0.3*imp + 0.4*rel, rel, imp})
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].e.ep.Sequence > cands[j].e.ep.Sequence
	})
	out := make([]Scored, 0, min(topK, len(cands)))
	for _, c := range cands[:min(topK, len(cands))] {
		out = append(out, Scored{Episode: c.e.ep.clone(), Score: c.score, Relevance: c.rel, Importance: c.imp})
	}
	return out
}
