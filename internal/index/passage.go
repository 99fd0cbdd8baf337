package index

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// passage is one retrievable unit of a document before indexing.
type passage struct {
	source string // relative path, "#heading-slug" for markdown sections, ":L<line>"
	doc    string // relative path
	head   string // heading text, indexed with the passage but not part of Text
	text   string
}

// kind of a file, chosen by extension.
type kind uint8

const (
	kindText kind = iota + 1
	kindMarkdown
)

// splitDocument cuts a document into passages: paragraphs (blank-line separated),
// grouped up to target bytes, never longer than max bytes, and for markdown never across
// a heading. Fenced code blocks are kept whole when they fit.
func splitDocument(rel, text string, k kind, target, max int) []passage {
	var (
		out       []passage
		heading   string
		slug      string
		cur       strings.Builder
		curLine   int
		inFence   bool
		lineNo    int
		paraStart = -1
		para      strings.Builder
	)
	emit := func() {
		t := strings.TrimSpace(cur.String())
		cur.Reset()
		if t == "" {
			return
		}
		src := rel
		if slug != "" {
			src += "#" + slug
		}
		src += ":L" + strconv.Itoa(curLine)
		out = append(out, passage{source: src, doc: rel, head: heading, text: t})
	}
	endPara := func() {
		if paraStart < 0 {
			return
		}
		p := strings.TrimSpace(para.String())
		start := paraStart
		para.Reset()
		paraStart = -1
		if p == "" {
			return
		}
		for len(p) > 0 {
			piece := p
			if len(piece) > max {
				piece = cutAt(p, max)
			}
			p = strings.TrimSpace(p[len(piece):])
			if cur.Len() > 0 && cur.Len()+2+len(piece) > target {
				emit()
			}
			if cur.Len() == 0 {
				curLine = start
			} else {
				cur.WriteString("\n\n")
			}
			cur.WriteString(piece)
		}
	}
	for line := range strings.Lines(text) {
		lineNo++
		trimmed := strings.TrimSpace(line)
		if k == kindMarkdown {
			if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
				inFence = !inFence
			}
			if !inFence && isHeading(trimmed) {
				endPara()
				emit()
				heading = strings.TrimSpace(strings.TrimLeft(trimmed, "#"))
				slug = slugify(heading)
				continue
			}
		}
		if trimmed == "" && !inFence {
			endPara()
			continue
		}
		if paraStart < 0 {
			paraStart = lineNo
		}
		para.WriteString(line)
		if para.Len() > 4*max { // a paragraph without blank lines (minified code, logs)
			endPara()
		}
	}
	endPara()
	emit()
	return out
}

// cutAt returns the longest prefix of s of at most n bytes that ends at a line break,
// else a sentence end, else a space, else a rune boundary.
func cutAt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head := s[:n]
	for _, sep := range []string{"\n", ". ", " "} {
		if i := strings.LastIndex(head, sep); i > n/2 {
			return s[:i+len(sep)]
		}
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	if n == 0 {
		_, size := utf8.DecodeRuneInString(s)
		return s[:size]
	}
	return s[:n]
}

func isHeading(line string) bool {
	i := 0
	for i < len(line) && line[i] == '#' {
		i++
	}
	return i >= 1 && i <= 6 && (i == len(line) || line[i] == ' ')
}

// slugify makes a GitHub-style anchor: lower case, letters/digits kept, spaces and
// dashes to "-", everything else dropped.
func slugify(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
		if b.Len() >= 80 {
			break
		}
	}
	return b.String()
}
