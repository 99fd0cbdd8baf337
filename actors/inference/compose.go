package inference

import (
	"cmp"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/bizra/bizra/internal/index"
)

// Citation is the source of one "[n]" marker of an answer (index.Citation).
type Citation = index.Citation

// Answer composition of the embedded engine (compose.go).
const (
	// embeddedMaxUnits bounds the units an answer quotes.
	embeddedMaxUnits = 4
	// composeMinCoverage: the best unit must cover at least this idf-weighted share of
	// the question's content terms, else the engine answers NO_EVIDENCE: nothing local
	// addresses the question.
	composeMinCoverage = 0.34
	// composeKeepShare: a further unit is quoted only when it covers at least this
	// share of what the best unit covers and adds a question term not yet shown.
	composeKeepShare = 0.5
	// composeCloseShare: a further unit that shows no new question term is still
	// quoted when it covers this share of what the best covers (a close alternative).
	composeCloseShare = 0.7
	// composeLeadShare: the weight of the unit's lead in its fit.
	composeLeadShare = 0.3
	// composeLocalShare: the weight, in ranking, of the fit with question terms
	// weighted also by their rarity among the candidate units.
	composeLocalShare = 0.5
	// composeSideShare: or when it covers at least this share of the sub-questions'
	// terms (and shows one not yet shown).
	composeSideShare = 0.5
)

// quoteUnit is one quotable unit: a whole entry, code block or list item, or one
// whole sentence of a prose paragraph.
type quoteUnit struct {
	text       string // verbatim, a substring of the evidence excerpt
	shown      string // as the answer shows it
	source     string
	line, end  int
	ev, from   int // evidence index and byte offset of text in its excerpt
	kind       index.UnitKind
	terms      map[string]struct{}
	cover      float64 // idf-weighted share of the question's terms in the unit (with its source's name)
	lead       float64 // the same share in the unit's lead (index.Lead: head line and first sentence)
	inAll      uint64  // bit i: question term i shown by the unit (or its source's name)
	inLead     uint64  // bit i: question term i in its lead (or its source's name)
	rankFit    float64 // fit with terms weighted also by their rarity among the candidates
	side       float64 // share of the sub-questions' and conclusion's terms
	density    float64
	evScore    float64
	order      int
	normalized string
}

// compose is the embedded engine's answer: the evidence units that best cover the
// question's terms, weighted by rarity (req.TermWeights, else equally), each quoted
// whole — an option with its description, a declaration with its doc comment, a code
// block with its line breaks, a list item, or a whole sentence of prose — followed by
// its "[n]" marker, with one Citation per marker (source, lines, excerpt).
func compose(req Request) (units []quoteUnit, err error) {
	q := distinctTerms(req.Query)
	weight := func(t string) float64 {
		if w, ok := req.TermWeights[t]; ok && w > 0 && !math.IsNaN(w) && !math.IsInf(w, 0) {
			return w
		}
		if len(req.TermWeights) > 0 {
			return maxWeight(req.TermWeights)
		}
		return 1
	}
	var total float64
	for _, t := range q {
		total += weight(t)
	}
	side := map[string]struct{}{}
	// The sub-questions' own terms (not the conclusion's: it quotes the best passage,
	// so its words are the evidence's, not the question's).
	for _, s := range req.SubQuestions {
		for _, t := range index.ContentTerms(s) {
			side[t] = struct{}{}
		}
	}
	for _, t := range q {
		delete(side, t)
	}
	var cands []quoteUnit
	for ei, ev := range req.Evidence {
		evScore := ev.Score
		if math.IsNaN(evScore) || evScore < 0 {
			evScore = 0
		}
		evScore = min(evScore, 1)
		base := max(index.SourceLine(ev.Source), 1)
		md := isMarkdown(ev.Source)
		name := index.ContentTermSet(index.DocName(ev.Source))
		add := func(text string, from int, kind index.UnitKind, head string, order int) {
			terms := index.ContentTermSet(text + " " + head)
			if len(terms) == 0 {
				return
			}
			lead := index.ContentTermSet(index.Lead(text))
			var got, gotLead, sideHits float64
			var inAll, inLd uint64
			for i, t := range q {
				_, in := terms[t]
				_, inLead := lead[t]
				_, inName := name[t]
				if in || inName {
					got += weight(t)
					if i < 64 {
						inAll |= 1 << i
					}
				}
				if inLead || inName {
					gotLead += weight(t)
					if i < 64 {
						inLd |= 1 << i
					}
				}
			}
			for t := range side {
				if _, ok := terms[t]; ok {
					sideHits++
				}
			}
			c := quoteUnit{text: text, source: ev.Source, kind: kind, terms: terms, evScore: evScore, order: order,
				ev: ei, from: from, inAll: inAll, inLead: inLd}
			if total > 0 {
				c.cover = got / total
				c.lead = gotLead / total
			}
			if len(side) > 0 {
				c.side = sideHits / float64(len(side))
			}
			if c.cover == 0 && c.side == 0 {
				return // shares nothing with the question: never part of the answer
			}
			c.density = got / math.Sqrt(float64(len(terms)))
			first := base + strings.Count(ev.Excerpt[:from], "\n")
			c.line, c.end = first, first+strings.Count(text, "\n")
			cands = append(cands, c)
		}
		units := index.Units(ev.Excerpt, md, 0)
		for ui, u := range units {
			if u.Kind == index.UnitHeading {
				continue
			}
			pieces := []string{u.Text}
			if u.Kind == index.UnitProse {
				pieces = splitSentences(u.Text)
			}
			at := 0
			for si, p := range pieces {
				pos := strings.Index(u.Text[at:], p)
				if pos < 0 {
					continue
				}
				pos += at
				at = pos + len(p)
				order := ei<<20 | min(ui, 1<<10-1)<<10 | min(si, 1<<10-1)
				add(p, u.Offset+pos, u.Kind, u.Head, order)
				// A sentence that introduces the code under it ("Run:") is quoted with it.
				if si == len(pieces)-1 && u.Kind == index.UnitProse && strings.HasSuffix(p, ":") && ui+1 < len(units) &&
					units[ui+1].Kind == index.UnitCode {
					nx := units[ui+1]
					from := u.Offset + pos
					add(ev.Excerpt[from:nx.Offset+len(nx.Text)], from, index.UnitCode, u.Head, order)
				}
			}
		}
	}
	if len(cands) == 0 {
		return nil, ErrNoEvidence
	}
	// Ranking weighs each question term also by its rarity among the candidates: a
	// term every candidate shows (the document's name, its common words) tells them
	// apart less than one few show.
	if len(q) <= 64 && len(cands) > 1 {
		local := make([]float64, len(q))
		var ltotal float64
		for i, t := range q {
			df := 0
			for _, c := range cands {
				if c.inAll&(1<<i) != 0 {
					df++
				}
			}
			local[i] = weight(t) * math.Log(1+float64(len(cands))/float64(max(df, 1))) / math.Log(1+float64(len(cands)))
			ltotal += local[i]
		}
		for k := range cands {
			c := &cands[k]
			var a, l float64
			for i := range q {
				if c.inAll&(1<<i) != 0 {
					a += local[i]
				}
				if c.inLead&(1<<i) != 0 {
					l += local[i]
				}
			}
			if ltotal > 0 {
				c.rankFit = composeLeadShare*l/ltotal + (1-composeLeadShare)*a/ltotal
			}
		}
	} else {
		for k := range cands {
			cands[k].rankFit = cands[k].fit()
		}
	}
	slices.SortStableFunc(cands, func(a, b quoteUnit) int {
		return cmp.Or(cmp.Compare(b.rank(), a.rank()), cmp.Compare(b.density, a.density), cmp.Compare(a.order, b.order))
	})
	best := cands[0]
	if best.fit() < composeMinCoverage {
		return nil, ErrNoEvidence
	}
	budget := embeddedDefaultChars
	if req.MaxTokens > 0 {
		budget = req.MaxTokens * charsPerToken
	}
	shownTerms := map[string]struct{}{}
	var chosen []quoteUnit
	used := 0
	for _, c := range cands {
		if len(chosen) == embeddedMaxUnits {
			break
		}
		c.normalized = normText(c.text)
		dup := false
		for _, p := range chosen {
			if p.normalized == c.normalized || jaccardSet(p.terms, c.terms) >= 0.9 ||
				(p.ev == c.ev && p.from <= c.from && c.from+len(c.text) <= p.from+len(p.text)) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if len(chosen) > 0 {
			addsQ, addsSide := false, 0
			for _, t := range q {
				_, shown := shownTerms[t]
				_, in := c.terms[t]
				addsQ = addsQ || (in && !shown)
			}
			for t := range side {
				_, shown := shownTerms[t]
				if _, in := c.terms[t]; in && !shown {
					addsSide++
				}
			}
			onQuestion := c.fit() >= composeKeepShare*best.fit() && (addsQ || c.fit() >= composeCloseShare*best.fit())
			onSub := len(side) > 0 && c.side >= composeSideShare && addsSide > 0
			if !(onQuestion || onSub) || used+len(c.text) > budget {
				continue
			}
		}
		c.shown = show(c.text, c.kind)
		chosen = append(chosen, c)
		used += len(c.shown) + 6
		for t := range c.terms {
			shownTerms[t] = struct{}{}
		}
	}
	return chosen, nil
}

// rank orders candidates: the question's coverage first, the sub-questions' next,
// the retrieval score as a small tie-breaker.
func (c quoteUnit) rank() float64 {
	return math.Round((composeLocalShare*c.rankFit+(1-composeLocalShare)*c.fit()+0.25*c.side+0.05*c.evScore)*1e6) / 1e6
}

// fit is how much the unit is about the question: its coverage of the question's
// terms, half in the whole unit and half in its lead (scoring.Fit, the same rule).
func (c quoteUnit) fit() float64 {
	return composeLeadShare*c.lead + (1-composeLeadShare)*c.cover
}

// render writes the chosen units as the answer text, each followed by its marker, and
// the citations.
func render(chosen []quoteUnit) (string, []Sentence, []Citation) {
	var b strings.Builder
	sents := make([]Sentence, 0, len(chosen))
	cites := make([]Citation, 0, len(chosen))
	for i, c := range chosen {
		if i > 0 {
			b.WriteString("\n\n")
		}
		marker := "[" + strconv.Itoa(i+1) + "]"
		b.WriteString(c.shown)
		if c.kind == index.UnitCode {
			b.WriteString("\n" + marker) // a marker never changes a line of code
		} else {
			b.WriteString(" " + marker)
		}
		sents = append(sents, Sentence{Text: c.text, Source: c.source})
		cites = append(cites, Citation{Marker: i + 1, Source: c.source, Lines: [2]int{c.line, c.end},
			LineStart: c.line, LineEnd: c.end, Excerpt: c.text})
	}
	return b.String(), sents, cites
}

// show is how the answer quotes a unit: prose as one line with its white space
// collapsed; an entry with its lines kept, their common indentation removed and runs of
// white space inside a line collapsed (man pages justify with extra spaces); code
// exactly, less its common indentation.
func show(text string, k index.UnitKind) string {
	if k == index.UnitProse {
		return strings.Join(strings.Fields(text), " ")
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	// the first line of a unit starts at its own indentation; the excerpt may begin
	// mid-line only for the first line, so measure every line
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			lines[i] = ""
			continue
		}
		lead := len(l) - len(strings.TrimLeft(l, " \t"))
		if k == index.UnitEntry {
			lines[i] = strings.Repeat(" ", max(0, width(l[:lead])-common)) + strings.Join(strings.Fields(l), " ")
			continue
		}
		lines[i] = strings.TrimRight(l[min(common, lead):], " \t")
	}
	return strings.Join(lines, "\n")
}

// width is the column a run of leading spaces and tabs reaches (tabs to multiples of 8).
func width(lead string) int {
	n := 0
	for _, c := range lead {
		if c == '\t' {
			n = (n/8 + 1) * 8
		} else {
			n++
		}
	}
	return n
}

func distinctTerms(s string) []string {
	t := index.ContentTerms(s)
	slices.Sort(t)
	return slices.Compact(t)
}

func maxWeight(m map[string]float64) float64 {
	w := 0.0
	for _, v := range m {
		if v > w && !math.IsInf(v, 0) {
			w = v
		}
	}
	return max(w, 1)
}

func isMarkdown(source string) bool {
	switch strings.ToLower(path.Ext(index.DocOf(source))) {
	case ".md", ".markdown", ".mdx":
		return true
	}
	return false
}

func jaccardSet(a, b map[string]struct{}) float64 {
	inter := 0
	for t := range a {
		if _, ok := b[t]; ok {
			inter++
		}
	}
	u := len(a) + len(b) - inter
	if u == 0 {
		return 1
	}
	return float64(inter) / float64(u)
}
