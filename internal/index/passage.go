package index

import (
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// passage is one retrievable unit of a document before indexing.
type passage struct {
	source string // relative path, "#heading-slug" for markdown sections, ":L<line>"
	doc    string // relative path
	head   string // heading text (and the document's name), indexed with the passage but not part of Text
	text   string // verbatim lines line..endLine of the document
}

// kind of a file, chosen by extension.
type kind uint8

const (
	kindText kind = iota + 1
	kindMarkdown
)

// splitDocument cuts a document into passages that follow its structure: the
// structural units of Units (paragraphs, list items, fenced code, tables, man-page
// option entries, Go declarations with their doc comments) grouped, in order, up to
// target bytes, never across a heading and never cutting a unit (a unit longer than
// max is cut by Units, at its blank lines first). A passage's text is the verbatim
// slice of the document from its first unit to its last, so its lines are the
// document's lines from the one its Source names.
func splitDocument(rel, text string, k kind, target, max int) []passage {
	var out []passage
	title := docTitle(rel)
	var (
		group      []Unit
		head, slug string
	)
	flush := func() {
		if len(group) == 0 {
			return
		}
		first, last := group[0], group[len(group)-1]
		src := rel
		if slug != "" {
			src += "#" + slug
		}
		src += ":L" + strconv.Itoa(first.Line)
		h := strings.TrimSpace(title + " " + first.Head)
		out = append(out, passage{source: src, doc: rel, head: h, text: text[first.Offset : last.Offset+len(last.Text)]})
		group = group[:0]
	}
	for _, u := range Units(text, k == kindMarkdown, max) {
		if u.Kind == UnitHeading {
			flush()
			if k == kindMarkdown {
				head = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(u.Text), "#"))
				slug = slugify(head)
			}
			continue
		}
		if len(group) > 0 {
			first := group[0]
			span := u.Offset + len(u.Text) - first.Offset
			if u.Head != first.Head || span > target || span > max {
				flush()
			}
		}
		group = append(group, u)
	}
	flush()
	return out
}

// docTitle is the document's name as words: the base name without its extensions
// ("man/grep.1.txt" → "grep 1"), indexed with each of its passages.
func docTitle(rel string) string {
	base := path.Base(rel)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
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
