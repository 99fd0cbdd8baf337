package index

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// UnitKind is the structural kind of a Unit.
type UnitKind uint8

// Unit kinds.
const (
	// UnitProse is a paragraph of prose: it may be quoted sentence by sentence.
	UnitProse UnitKind = iota + 1
	// UnitEntry is a definition: a head line (a man-page option such as
	// "-i, --ignore-case", a Go declaration as `go doc -all` prints it, a list item)
	// with everything indented under it. It is quoted whole.
	UnitEntry
	// UnitCode is fenced or indented code, a table, or lines that are not prose
	// (commands, examples). It is quoted whole, line breaks kept.
	UnitCode
	// UnitHeading is a heading line: the context of the units under it, never part of
	// a passage's text.
	UnitHeading
)

// Unit is one structural unit of a document: the smallest piece an answer quotes.
type Unit struct {
	Text    string   // verbatim lines of the document (no leading or trailing blank line, no final newline)
	Line    int      // first line, 1-based, in the text given to Units
	EndLine int      // last line
	Kind    UnitKind // prose, entry, code or heading
	Head    string   // the heading the unit stands under, "" for none
	Offset  int      // byte offset of Text in the text given to Units
}

type docLine struct {
	start, end int // byte offsets of the line in the text, end before "\n" (and "\r")
	indent     int // leading white space, tabs to the next multiple of 8
	blank      bool
	trimmed    string
}

func scanLines(text string) []docLine {
	var out []docLine
	off := 0
	for line := range strings.Lines(text) {
		end := off + len(line)
		e := end
		if e > off && text[e-1] == '\n' {
			e--
		}
		if e > off && text[e-1] == '\r' {
			e--
		}
		raw := text[off:e]
		t := strings.TrimSpace(raw)
		out = append(out, docLine{start: off, end: e, indent: indentOf(raw), blank: t == "", trimmed: t})
		off = end
	}
	return out
}

func indentOf(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			n++
		case '\t':
			n = (n/8 + 1) * 8
		default:
			return n
		}
	}
	return n
}

// Units splits a document into its structural units, in order: Markdown headings
// (markdown only), fenced code, tables, list items and paragraphs; in plain text
// (man pages, `go doc -all` output) upper-case section headings, and entries — a line
// with the lines indented under it, such as an option and its description or a
// declaration and its doc comment — and paragraphs. Consecutive non-blank lines at one
// indentation are one paragraph. A unit longer than maxBytes (≤ 0: no limit) is cut
// into several, at blank lines inside it when it has some, else at line breaks (a
// single longer line at a sentence end or a space); the pieces after the first carry
// the entry's head line in Head. Every Unit.Text is a substring of text.
func Units(text string, markdown bool, maxBytes int) []Unit {
	ls := scanLines(text)
	var out []Unit
	head, section := "", ""
	emit := func(a, b int, k UnitKind) {
		for b > a && ls[b].blank {
			b--
		}
		if ls[a].blank {
			return
		}
		u := Unit{Text: text[ls[a].start:ls[b].end], Line: a + 1, EndLine: b + 1, Kind: k, Head: head, Offset: ls[a].start}
		if maxBytes > 0 && len(u.Text) > maxBytes {
			out = append(out, cutUnit(text, ls, a, b, k, head, maxBytes)...)
			return
		}
		out = append(out, u)
	}
	n := len(ls)
	for i := 0; i < n; {
		l := ls[i]
		switch {
		case l.blank:
			i++
			continue
		case markdown && isHeading(l.trimmed):
			h := strings.TrimSpace(strings.TrimLeft(l.trimmed, "#"))
			head = ""
			emit(i, i, UnitHeading)
			head = h
			i++
			continue
		case !markdown && capsHeading(l):
			head = ""
			emit(i, i, UnitHeading)
			head, section = l.trimmed, l.trimmed
			i++
			continue
		case !markdown && subHeading(ls, i):
			head = section
			emit(i, i, UnitHeading)
			head = strings.TrimSpace(section + " " + l.trimmed)
			i++
			continue
		case isFence(l.trimmed):
			j := fenceEnd(ls, i)
			emit(i, j, UnitCode)
			i = j + 1
			continue
		case markdown && strings.HasPrefix(l.trimmed, "|"):
			j := i
			for j+1 < n && strings.HasPrefix(ls[j+1].trimmed, "|") {
				j++
			}
			emit(i, j, UnitCode)
			i = j + 1
			continue
		}
		j, children := blockEnd(ls, i, markdown)
		emit(i, j, blockKind(text, ls, i, j, children, markdown))
		i = j + 1
	}
	return out
}

// blockEnd returns the last line of the block that starts at line i, and whether it
// has lines indented deeper than its first.
func blockEnd(ls []docLine, i int, markdown bool) (int, bool) {
	n := len(ls)
	i0 := ls[i].indent
	last := i
	children := false
	item := listItem(ls[i].trimmed)
	for k := i + 1; k < n; k++ {
		l := ls[k]
		if l.blank {
			continue
		}
		contiguous := last == k-1
		switch {
		case markdown && isHeading(l.trimmed) && l.indent < 4:
			return last, children
		case !markdown && capsHeading(l):
			return last, children
		case l.indent > i0 && (contiguous || !markdown || item || children || l.indent >= i0+2):
			if isFence(l.trimmed) {
				k = fenceEnd(ls, k)
			}
			children = true
		case l.indent == i0 && contiguous && closer(l.trimmed):
			// "}" or ")" closing a declaration block (go doc's type and const blocks)
		case l.indent == i0 && contiguous && !children && !listItem(l.trimmed) && !isFence(l.trimmed) &&
			!(markdown && strings.HasPrefix(l.trimmed, "|")) && !(item && markdown && false):
			// the next line of a paragraph
		case markdown && contiguous && l.indent < i0 && item && !listItem(l.trimmed) && !isFence(l.trimmed):
			// lazy continuation of a list item
		default:
			return last, children
		}
		last = k
	}
	return last, children
}

func blockKind(text string, ls []docLine, a, b int, children, markdown bool) UnitKind {
	first := ls[a].trimmed
	switch {
	case children || listItem(first):
		if markdown && ls[a].indent >= 4 && !listItem(first) {
			return UnitCode
		}
		return UnitEntry
	case markdown && ls[a].indent >= 4:
		return UnitCode
	}
	if !proseLike(text[ls[a].start:ls[b].end]) {
		return UnitCode
	}
	return UnitProse
}

// proseLike reports whether a paragraph reads as prose: it ends a sentence (or
// introduces one with a colon) and most of its lines are not commands or code.
func proseLike(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(t)
	if !strings.ContainsRune(".!?:)\"'”", r) {
		return false
	}
	lines, codey := 0, 0
	for ln := range strings.Lines(t) {
		lt := strings.TrimSpace(ln)
		lines++
		if strings.HasPrefix(lt, "$ ") || strings.HasPrefix(lt, "# ") || strings.HasSuffix(lt, "{") ||
			strings.HasSuffix(lt, ";") || strings.HasPrefix(lt, "//") {
			codey++
		}
	}
	return codey*2 < lines
}

func isFence(t string) bool { return strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") }

// fenceEnd returns the closing line of the fence opened at line i (the last line when
// it is never closed).
func fenceEnd(ls []docLine, i int) int {
	marker := ls[i].trimmed[:3]
	for k := i + 1; k < len(ls); k++ {
		if strings.HasPrefix(ls[k].trimmed, marker) {
			return k
		}
	}
	return len(ls) - 1
}

func closer(t string) bool { return strings.HasPrefix(t, "}") || strings.HasPrefix(t, ")") }

// listItem reports a list item or option line: "- x", "* x", "+ x", "• x", "1. x",
// "1) x", or a command-line option "-i", "--ignore-case".
func listItem(t string) bool {
	if len(t) >= 2 {
		switch {
		case (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ':
			return true
		case strings.HasPrefix(t, "• "):
			return true
		case t[0] == '-' && (t[1] == '-' || unicode.IsLetter(rune(t[1])) || unicode.IsDigit(rune(t[1]))):
			return true
		}
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i < 4 && i+1 < len(t) && (t[i] == '.' || t[i] == ')') && t[i+1] == ' '
}

// capsHeading reports a plain-text section heading: at most three columns of
// indentation, at most 80 bytes, at least two letters and no lower-case letter, and
// only letters, digits, spaces and ( ) - _ / & , . : (man's NAME, OPTIONS, EXIT
// STATUS; go doc's FUNCTIONS, TYPES).
func capsHeading(l docLine) bool {
	t := l.trimmed
	if l.indent > 3 || len(t) > 80 || len(t) < 2 {
		return false
	}
	letters := 0
	for _, r := range t {
		switch {
		case unicode.IsLower(r):
			return false
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r), r == ' ', r == '\t', strings.ContainsRune("()-_/&,.:", r):
		default:
			return false
		}
	}
	return letters >= 2
}

// subHeading reports a man-page subsection heading at line i: indented one to three
// columns, a short title (at most eight words, starting with an upper-case letter, no
// sentence punctuation at its end, not an option) with the next non-blank line
// indented deeper.
func subHeading(ls []docLine, i int) bool {
	l := ls[i]
	if l.indent < 1 || l.indent > 3 || len(l.trimmed) > 60 || len(strings.Fields(l.trimmed)) > 8 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(l.trimmed)
	last, _ := utf8.DecodeLastRuneInString(l.trimmed)
	if !unicode.IsUpper(r) || strings.ContainsRune(".,;:!?)", last) {
		return false
	}
	for k := i + 1; k < len(ls); k++ {
		if !ls[k].blank {
			return ls[k].indent > l.indent
		}
	}
	return false
}

// cutUnit cuts the unit of lines a..b into pieces of at most max bytes: at blank lines
// when the unit has some, else at line breaks; a single line longer than max is cut
// by cutAt. Pieces after the first carry the entry's first line in Head.
func cutUnit(text string, ls []docLine, a, b int, k UnitKind, head string, max int) []Unit {
	var out []Unit
	sub := head
	if k == UnitEntry {
		eh := ls[a].trimmed
		if len(eh) > 120 {
			eh = strings.TrimSpace(cutAt(eh, 120))
		}
		sub = strings.TrimSpace(head + " " + eh)
	}
	h := head
	piece := func(x, y int) {
		for y > x && ls[y].blank {
			y--
		}
		for x < y && ls[x].blank {
			x++
		}
		if ls[x].blank {
			return
		}
		out = append(out, Unit{Text: text[ls[x].start:ls[y].end], Line: x + 1, EndLine: y + 1, Kind: k, Head: h, Offset: ls[x].start})
		h = sub
	}
	var split func(x, y int, byBlank bool)
	split = func(x, y int, byBlank bool) {
		for y > x && ls[y].blank {
			y--
		}
		for x < y && ls[x].blank {
			x++
		}
		if ls[y].end-ls[x].start <= max {
			piece(x, y)
			return
		}
		if x == y { // one line longer than max: cut inside it
			off, rest := ls[x].start, text[ls[x].start:ls[x].end]
			for rest != "" {
				p := cutAt(rest, max)
				if t := strings.TrimSpace(p); t != "" {
					lead := strings.Index(p, t)
					out = append(out, Unit{Text: text[off+lead : off+lead+len(t)], Line: x + 1, EndLine: x + 1, Kind: k, Head: h,
						Offset: off + lead})
					h = sub
				}
				off += len(p)
				rest = rest[len(p):]
			}
			return
		}
		// cut points: lines that may start a piece
		var cuts []int
		for i := x + 1; i <= y; i++ {
			if !ls[i].blank && (!byBlank || ls[i-1].blank) {
				cuts = append(cuts, i)
			}
		}
		if len(cuts) == 0 {
			if byBlank {
				split(x, y, false)
				return
			}
			piece(x, y) // unreachable: x < y gives a cut point at y
			return
		}
		start := x
		for ci := 0; ci <= len(cuts); ci++ {
			end := y
			if ci < len(cuts) {
				end = cuts[ci] - 1
			}
			// extend start..end while the next segment still fits
			if ci < len(cuts) {
				nextEnd := y
				if ci+1 < len(cuts) {
					nextEnd = cuts[ci+1] - 1
				}
				if ls[nextEnd].end-ls[start].start <= max {
					continue
				}
			}
			if ls[end].end-ls[start].start <= max {
				piece(start, end)
			} else {
				split(start, end, false)
			}
			if ci < len(cuts) {
				start = cuts[ci]
			}
		}
	}
	hasBlank := false
	for i := a + 1; i < b; i++ {
		if ls[i].blank {
			hasBlank = true
			break
		}
	}
	split(a, b, hasBlank)
	return out
}

// Lead returns the part of a unit that says what it is about: its first line and the
// first sentence after it (a declaration and the first sentence of its doc comment; an
// option and the first sentence of its description), or the first sentence of a
// paragraph. Inference ranks quoted units and scoring judges them by it as well as by
// the whole unit, so that a long unit which mentions every word of a question in
// passing does not pass for one that is about it.
func Lead(unit string) string {
	t := strings.TrimSpace(unit)
	first, rest, _ := strings.Cut(t, "\n")
	if end := sentenceEnd(first); end < len(first) || rest == "" {
		return first[:end]
	}
	rest = strings.TrimSpace(rest)
	if end := sentenceEnd(rest); end > 0 {
		rest = rest[:end]
	}
	return first + "\n" + rest
}

// sentenceEnd returns the end of the first sentence of s: after the first '.', '!' or
// '?' followed by white space (or the end of s); len(s) when none.
func sentenceEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', '!', '?':
			if i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n' || s[i+1] == '\t' {
				return i + 1
			}
		}
	}
	return len(s)
}
