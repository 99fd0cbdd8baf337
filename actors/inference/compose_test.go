package inference

import (
	"errors"
	"strings"
	"testing"
)

const grepOptions = "       -e PATTERNS, --regexp=PATTERNS\n              Use  PATTERNS  as the patterns.  If this option is used multiple\n              times, search for all patterns given.\n\n" +
	"       -i, --ignore-case\n              Ignore case distinctions in patterns and\tinput  data,  so  that\n              characters that differ only in case match each other.\n\n" +
	"       --no-ignore-case\n              Do  not  ignore  case  distinctions  in patterns and input data.\n              This is the default.  This option is useful for passing to shell\n              scripts  that  already use -i, to cancel its effects because the\n              two options override each other.\n"

const bashCase = "       nocasematch\n              If set, bash matches patterns in a case-insensitive fashion when\n              performing matching while executing case or [[ conditional commands.\n"

const goFields = "func Fields(s string) []string\n    Fields splits the string s around each instance of one or more consecutive\n    white space characters, as defined by unicode.IsSpace.\n\n" +
	"func FieldsFunc(s string, f func(rune) bool) []string\n    FieldsFunc splits the string s at each run of Unicode code points c\n    satisfying f(c).\n"

const mdHealth = "Check a running node:\n\n```bash\ncurl -s 127.0.0.1:8080/v1/health | jq\nbin/bizra health\n```\n"

// TestEmbeddedQuotesWholeUnits: the engine quotes an option with its description, a
// declaration with its doc comment and a code block with its line breaks, each with a
// marker and a citation naming the document lines it spans.
func TestEmbeddedQuotesWholeUnits(t *testing.T) {
	tests := []struct {
		name      string
		req       Request
		wantText  []string // substrings of the answer text
		notText   []string
		wantCite  Citation // the first citation (Marker, Source, Lines)
		wantUnits int      // citations at most
	}{
		{
			name: "man option entry",
			req: Request{Query: "how do I make grep ignore case?",
				TermWeights: map[string]float64{"make": 1.2, "grep": 2.5, "ignore": 3, "case": 2.2},
				Evidence: []Evidence{{Source: "man/bash.1.txt:L900", Excerpt: bashCase, Score: 0.6},
					{Source: "man/grep.1.txt:L54", Excerpt: grepOptions, Score: 0.5}}},
			wantText: []string{"-i, --ignore-case\n       Ignore case distinctions in patterns and input data, so that\n       characters that differ only in case match each other. [1]"},
			notText:  []string{"nocasematch", "--regexp"},
			wantCite: Citation{Marker: 1, Source: "man/grep.1.txt:L54", Lines: [2]int{58, 60}, LineStart: 58, LineEnd: 60},
		},
		{
			name: "go declaration with its doc comment",
			req: Request{Query: "how do I split a string around white space?",
				Evidence: []Evidence{{Source: "go/strings.txt:L64", Excerpt: goFields, Score: 0.7}}},
			wantText: []string{"func Fields(s string) []string\n    Fields splits the string s around each instance of one or more consecutive\n    white space characters, as defined by unicode.IsSpace. [1]"},
			notText:  []string{"FieldsFunc splits"},
			wantCite: Citation{Marker: 1, Source: "go/strings.txt:L64", Lines: [2]int{64, 66}, LineStart: 64, LineEnd: 66},
		},
		{
			name: "code block keeps its line breaks",
			req: Request{Query: "which command checks the node health with curl?",
				Evidence: []Evidence{{Source: "RUNBOOK.md#health:L10", Excerpt: mdHealth, Score: 0.7}}},
			wantText: []string{"Check a running node:\n\n```bash\ncurl -s 127.0.0.1:8080/v1/health | jq\nbin/bizra health\n```\n[1]"},
			notText:  []string{"jq bin/bizra"},
			wantCite: Citation{Marker: 1, Source: "RUNBOOK.md#health:L10", Lines: [2]int{10, 15}, LineStart: 10, LineEnd: 15},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ans, err := Embedded(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			assertExtractive(t, ans, tc.req.Evidence)
			for _, w := range tc.wantText {
				if !strings.Contains(ans.Text, w) {
					t.Errorf("answer %q lacks %q", ans.Text, w)
				}
			}
			for _, n := range tc.notText {
				if strings.Contains(ans.Text, n) {
					t.Errorf("answer %q contains %q", ans.Text, n)
				}
			}
			c := ans.Citations[0]
			if c.Marker != tc.wantCite.Marker || c.Source != tc.wantCite.Source || c.Lines != tc.wantCite.Lines ||
				c.LineStart != tc.wantCite.LineStart || c.LineEnd != tc.wantCite.LineEnd {
				t.Errorf("citation %+v, want %+v", c, tc.wantCite)
			}
		})
	}
}

// TestEmbeddedRefusesWhatItCannotAnswer: when no unit covers enough of the question's
// rare terms, the answer is NO_EVIDENCE, not the nearest paragraph.
func TestEmbeddedRefusesWhatItCannotAnswer(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"rare term missing", Request{Query: "how do I make grep print JSON output?",
			TermWeights: map[string]float64{"make": 1.2, "grep": 2.5, "print": 1.5, "json": 6, "output": 1.4},
			Evidence:    []Evidence{{Source: "man/grep.1.txt:L54", Excerpt: grepOptions, Score: 0.4}}}},
		{"only stop words shared", Request{Query: "what is the meaning of life?",
			Evidence: []Evidence{{Source: "go/strings.txt:L1", Excerpt: goFields, Score: 0.4}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ans, err := Embedded(tc.req); !errors.Is(err, ErrNoEvidence) {
				t.Fatalf("answered %q (err %v)", ans.Text, err)
			}
		})
	}
}
