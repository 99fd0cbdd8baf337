package inference

import (
	"strings"
	"testing"
)

// assertExtractive checks that every answer sentence appears verbatim in the evidence
// passage it is attributed to, and that the text is made of those sentences.
func assertExtractive(t *testing.T, ans Answer, evidence []Evidence) {
	t.Helper()
	if len(ans.Sentences) == 0 {
		t.Fatalf("no sentences in %+v", ans)
	}
	var texts []string
	for _, s := range ans.Sentences {
		found := false
		for _, ev := range evidence {
			if ev.Source == s.Source && strings.Contains(ev.Excerpt, s.Text) {
				found = true
			}
		}
		if !found {
			t.Fatalf("sentence %q (source %q) is not verbatim in its source", s.Text, s.Source)
		}
		texts = append(texts, s.Text)
	}
	if ans.Text != strings.Join(texts, " ") {
		t.Fatalf("text %q is not the sentences joined", ans.Text)
	}
}
