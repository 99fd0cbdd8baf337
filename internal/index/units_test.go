package index

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

const manSample = `GREP(1)                     User Commands                    GREP(1)

NAME
       grep - print lines that match patterns

OPTIONS
   Matching Control
       -e PATTERNS, --regexp=PATTERNS
              Use PATTERNS as the patterns.  If this option is used multiple
              times, search for all patterns given.

       -i, --ignore-case
              Ignore case distinctions in patterns and input data, so that
              characters that differ only in case match each other.

       --no-ignore-case
              Do not ignore case distinctions in patterns and input data.
              This is the default.
`

const goDocSample = "package strings // import \"strings\"\n\nFUNCTIONS\n\n" +
	"func Fields(s string) []string\n    Fields splits the string s around each instance of one or more\n    consecutive white space characters.\n\n" +
	"func SplitN(s, sep string, n int) []string\n    SplitN slices s into substrings separated by sep.\n\n    The count determines the number of substrings to return:\n      - n > 0: at most n substrings;\n      - n < 0: all substrings.\n\n" +
	"TYPES\n\ntype Builder struct {\n\t// Has unexported fields.\n}\n    A Builder is used to efficiently build a string.\n\n" +
	"func (b *Builder) Grow(n int)\n    Grow grows b's capacity.\n"

const mdSample = "# Title\n\nIntro paragraph, two\nlines.\n\n## Run it\n\n- first item\n  continued\n- second item\n\n```bash\ncurl -s 127.0.0.1:8080/v1/health | jq\nbin/bizra health\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"

func TestUnits(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		markdown bool
		want     []Unit // Text, Line, EndLine, Kind, Head compared
	}{
		{"man option entries", manSample, false, []Unit{
			{Text: "GREP(1)                     User Commands                    GREP(1)", Line: 1, EndLine: 1, Kind: UnitProse},
			{Text: "NAME", Line: 3, EndLine: 3, Kind: UnitHeading},
			{Text: "       grep - print lines that match patterns", Line: 4, EndLine: 4, Kind: UnitCode, Head: "NAME"},
			{Text: "OPTIONS", Line: 6, EndLine: 6, Kind: UnitHeading},
			{Text: "   Matching Control", Line: 7, EndLine: 7, Kind: UnitHeading, Head: "OPTIONS"},
			{Text: "       -e PATTERNS, --regexp=PATTERNS\n              Use PATTERNS as the patterns.  If this option is used multiple\n              times, search for all patterns given.",
				Line: 8, EndLine: 10, Kind: UnitEntry, Head: "OPTIONS Matching Control"},
			{Text: "       -i, --ignore-case\n              Ignore case distinctions in patterns and input data, so that\n              characters that differ only in case match each other.",
				Line: 12, EndLine: 14, Kind: UnitEntry, Head: "OPTIONS Matching Control"},
			{Text: "       --no-ignore-case\n              Do not ignore case distinctions in patterns and input data.\n              This is the default.",
				Line: 16, EndLine: 18, Kind: UnitEntry, Head: "OPTIONS Matching Control"},
		}},
		{"go doc declarations", goDocSample, false, []Unit{
			{Text: "package strings // import \"strings\"", Line: 1, EndLine: 1, Kind: UnitProse},
			{Text: "FUNCTIONS", Line: 3, EndLine: 3, Kind: UnitHeading},
			{Text: "func Fields(s string) []string\n    Fields splits the string s around each instance of one or more\n    consecutive white space characters.",
				Line: 5, EndLine: 7, Kind: UnitEntry, Head: "FUNCTIONS"},
			{Text: "func SplitN(s, sep string, n int) []string\n    SplitN slices s into substrings separated by sep.\n\n    The count determines the number of substrings to return:\n      - n > 0: at most n substrings;\n      - n < 0: all substrings.",
				Line: 9, EndLine: 14, Kind: UnitEntry, Head: "FUNCTIONS"},
			{Text: "TYPES", Line: 16, EndLine: 16, Kind: UnitHeading},
			{Text: "type Builder struct {\n\t// Has unexported fields.\n}\n    A Builder is used to efficiently build a string.",
				Line: 18, EndLine: 21, Kind: UnitEntry, Head: "TYPES"},
			{Text: "func (b *Builder) Grow(n int)\n    Grow grows b's capacity.", Line: 23, EndLine: 24, Kind: UnitEntry, Head: "TYPES"},
		}},
		{"markdown lists, fences and tables", mdSample, true, []Unit{
			{Text: "# Title", Line: 1, EndLine: 1, Kind: UnitHeading},
			{Text: "Intro paragraph, two\nlines.", Line: 3, EndLine: 4, Kind: UnitProse, Head: "Title"},
			{Text: "## Run it", Line: 6, EndLine: 6, Kind: UnitHeading},
			{Text: "- first item\n  continued", Line: 8, EndLine: 9, Kind: UnitEntry, Head: "Run it"},
			{Text: "- second item", Line: 10, EndLine: 10, Kind: UnitEntry, Head: "Run it"},
			{Text: "```bash\ncurl -s 127.0.0.1:8080/v1/health | jq\nbin/bizra health\n```", Line: 12, EndLine: 15, Kind: UnitCode, Head: "Run it"},
			{Text: "| a | b |\n|---|---|\n| 1 | 2 |", Line: 17, EndLine: 19, Kind: UnitCode, Head: "Run it"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Units(tc.text, tc.markdown, 0)
			if len(got) != len(tc.want) {
				for _, u := range got {
					t.Logf("%d-%d k%d %q head %q", u.Line, u.EndLine, u.Kind, u.Text, u.Head)
				}
				t.Fatalf("%d units, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Text != w.Text || g.Line != w.Line || g.EndLine != w.EndLine || g.Kind != w.Kind || g.Head != w.Head {
					t.Errorf("unit %d:\n got %d-%d k%d head %q %q\nwant %d-%d k%d head %q %q", i, g.Line, g.EndLine, g.Kind, g.Head, g.Text,
						w.Line, w.EndLine, w.Kind, w.Head, w.Text)
				}
			}
		})
	}
}

// TestPassagesFollowStructure: a passage never cuts an option entry, a declaration
// or a code block, and its text is the document's lines from the one its source names.
func TestPassagesFollowStructure(t *testing.T) {
	docs := []Document{{"man/grep.1.txt", manSample}, {"go/strings.txt", goDocSample}, {"guide.md", mdSample}}
	ix, err := FromDocuments(context.Background(), docs, Options{PassageTarget: 200, MaxPassageBytes: 400})
	if err != nil {
		t.Fatal(err)
	}
	whole := []string{
		"-i, --ignore-case\n              Ignore case distinctions in patterns and input data, so that\n              characters that differ only in case match each other.",
		"func SplitN(s, sep string, n int) []string\n    SplitN slices s into substrings separated by sep.\n\n    The count determines",
		"```bash\ncurl -s 127.0.0.1:8080/v1/health | jq\nbin/bizra health\n```",
	}
	for _, w := range whole {
		found := false
		for _, txt := range ix.texts {
			if strings.Contains(txt, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("no passage holds the whole unit %q", w)
		}
	}
	byDoc := map[string]string{}
	for _, d := range docs {
		byDoc[d.Path] = d.Text
	}
	for i, src := range ix.sources {
		line := lineOf(src)
		lines := strings.Split(byDoc[ix.docs[i]], "\n")
		n := strings.Count(ix.texts[i], "\n") + 1
		if got := strings.Join(lines[line-1:line-1+n], "\n"); got != ix.texts[i] {
			t.Errorf("passage %s is not lines %d..%d of its document:\n%q\n%q", src, line, line+n-1, ix.texts[i], got)
		}
	}
	if hits := ix.Search("ignore case", 1); len(hits) == 0 || !strings.Contains(hits[0].Text, "--ignore-case") {
		t.Errorf("ignore case: %+v", hits)
	}
}

func lineOf(src string) int {
	i := strings.LastIndex(src, ":L")
	n := 0
	for _, c := range src[i+2:] {
		n = n*10 + int(c-'0')
	}
	return n
}

func FuzzUnits(f *testing.F) {
	f.Add(manSample, false, 64)
	f.Add(goDocSample, false, 100)
	f.Add(mdSample, true, 40)
	f.Add("```\nunclosed\n\n  x", true, 0)
	f.Fuzz(func(t *testing.T, s string, md bool, max int) {
		max = (max%512+512)%512 + 16
		for _, u := range Units(s, md, max) {
			if u.Text == "" || !strings.HasPrefix(s[u.Offset:], u.Text) || u.Line < 1 || u.EndLine < u.Line {
				t.Fatalf("unit %+v", u)
			}
			if len(u.Text) > max {
				t.Fatalf("unit of %d bytes > %d: %q", len(u.Text), max, u.Text)
			}
			if utf8.ValidString(s) && !utf8.ValidString(u.Text) {
				t.Fatalf("unit cut inside a rune: %q", u.Text)
			}
			if got := strings.Count(s[:u.Offset], "\n") + 1; got != u.Line {
				t.Fatalf("unit at line %d says %d", got, u.Line)
			}
		}
	})
}

func TestLead(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"func Fields(s string) []string\n    Fields splits the string s. Every element is non-empty.", "func Fields(s string) []string\nFields splits the string s."},
		{"       -i, --ignore-case\n              Ignore case distinctions in patterns and\n              input data.  More here.", "-i, --ignore-case\nIgnore case distinctions in patterns and\n              input data."},
		{"One sentence. Another one.", "One sentence."},
		{"A wrapped first\nsentence here. Then more.", "A wrapped first\nsentence here."},
		{"single line", "single line"},
	} {
		if got := Lead(tc.in); got != tc.want {
			t.Errorf("Lead(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
