package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bizra/bizra/internal/catalog"
)

const testdataDir = "../../testdata/inference"

func TestEmbeddedGoldenCases(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testdataDir, "embedded_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	type sent struct{ Text, Source string }
	var file struct {
		Cases []struct {
			Name         string         `json:"name"`
			Query        string         `json:"query"`
			SubQuestions []string       `json:"sub_questions"`
			Evidence     []Evidence     `json:"evidence"`
			First        *sent          `json:"first"`
			Include      []sent         `json:"include"`
			Exclude      []string       `json:"exclude"`
			MaxWithText  map[string]int `json:"max_sentences_with_text"`
			Error        string         `json:"error"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < 5 {
		t.Fatalf("only %d cases", len(file.Cases))
	}
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			ans, err := Embedded(Request{Query: tc.Query, SubQuestions: tc.SubQuestions, Evidence: tc.Evidence})
			if tc.Error != "" {
				if err == nil || catalog.Lookup(err).Code != tc.Error {
					t.Fatalf("err %v, want %s", err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertExtractive(t, ans, tc.Evidence)
			if got := ans.Sentences[0]; tc.First != nil && (got.Text != tc.First.Text || got.Source != tc.First.Source) {
				t.Fatalf("first sentence %+v, want %+v", got, *tc.First)
			}
			for _, want := range tc.Include {
				found := false
				for _, s := range ans.Sentences {
					found = found || (s.Text == want.Text && s.Source == want.Source)
				}
				if !found {
					t.Fatalf("missing %+v in %+v", want, ans.Sentences)
				}
			}
			for _, bad := range tc.Exclude {
				if strings.Contains(ans.Text, bad) {
					t.Fatalf("answer contains off-topic %q: %q", bad, ans.Text)
				}
			}
			for text, n := range tc.MaxWithText {
				if c := strings.Count(ans.Text, text); c > n {
					t.Fatalf("%q appears %d times, max %d", text, c, n)
				}
			}
			if ans.Backend != EmbeddedBackend || ans.Degraded || !ans.TokensEstimated || ans.TokensUsed <= 0 {
				t.Fatalf("metadata %+v", ans)
			}
		})
	}
}

func TestEmbeddedProperties(t *testing.T) {
	// A larger corpus: many passages, the answer stays extractive, attributed, bounded.
	var ev []Evidence
	for i := range 40 {
		ev = append(ev, Evidence{
			Source:  fmt.Sprintf("doc%02d.md", i),
			Excerpt: fmt.Sprintf("Receipts are sealed in batch %d. The ledger stores episode %d on disk! Unrelated filler sentence number %d?", i, i, i),
			Score:   float64(i) / 40,
		})
	}
	req := Request{Query: "How are receipts sealed in the ledger?", Evidence: ev}
	ans, err := Embedded(req)
	if err != nil {
		t.Fatal(err)
	}
	assertExtractive(t, ans, ev)
	if n := len(ans.Sentences); n == 0 || n > embeddedMaxSentences {
		t.Fatalf("%d sentences", n)
	}
	for _, s := range ans.Sentences {
		if strings.Contains(s.Text, "filler") {
			t.Fatalf("off-topic sentence chosen: %q", s.Text)
		}
	}
	// Higher-scored evidence wins ties: doc39 has the best retrieval score.
	if ans.Sentences[0].Source != "doc39.md" {
		t.Fatalf("first source %s", ans.Sentences[0].Source)
	}
	// MaxTokens bounds the answer (at least one sentence).
	req.MaxTokens = 5
	small, err := Embedded(req)
	if err != nil || len(small.Sentences) != 1 {
		t.Fatalf("max_tokens 5 gave %d sentences (%v)", len(small.Sentences), err)
	}
	// Pure: same input, same output.
	again, _ := Embedded(Request{Query: req.Query, Evidence: ev})
	if again.Text != ans.Text {
		t.Fatal("not deterministic")
	}
	// Sub-questions pull in their sentences.
	ans2, err := Embedded(Request{Query: "receipts", SubQuestions: []string{"Where is the episode stored on disk?"}, Evidence: ev[:1]})
	if err != nil || !strings.Contains(ans2.Text, "The ledger stores episode 0 on disk!") {
		t.Fatalf("sub-question sentence missing: %q %v", ans2.Text, err)
	}
}

func TestRequestValidate(t *testing.T) {
	nan, hot := 0.0, 3.0
	nan = nan / nan
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"empty query", Request{Query: " \n"}},
		{"huge query", Request{Query: strings.Repeat("a", MaxQueryBytes+1)}},
		{"too many evidence", Request{Query: "q", Evidence: make([]Evidence, MaxEvidence+1)}},
		{"evidence too large", Request{Query: "q", Evidence: []Evidence{{Excerpt: strings.Repeat("x", MaxEvidenceBytes+1)}}}},
		{"too many sub-questions", Request{Query: "q", SubQuestions: make([]string, MaxSubQuestions+1)}},
		{"negative max tokens", Request{Query: "q", MaxTokens: -1}},
		{"nan temperature", Request{Query: "q", Temperature: &nan}},
		{"hot temperature", Request{Query: "q", Temperature: &hot}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err %v", err)
			}
			if _, err := Embedded(tc.req); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("embedded err %v", err)
			}
		})
	}
}

func TestSplitSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"One. Two! Three?", []string{"One.", "Two!", "Three?"}},
		{"Version 2.5 is out. See e.g. the notes.", []string{"Version 2.5 is out.", "See e.g. the notes."}},
		{"He said \"stop.\" Then left.", []string{"He said \"stop.\"", "Then left."}},
		{"a hard-wrapped\nsentence goes on", []string{"a hard-wrapped\nsentence goes on"}},
		{"para one\n\npara two", []string{"para one", "para two"}},
		{"Intro:\n- item one\n- item two", []string{"Intro:", "- item one", "- item two"}},
		{"## Heading\nBody text here.", []string{"## Heading", "Body text here."}},
		{"see\n```bash\nbizra ping\n```", []string{"see", "```bash", "bizra ping", "```"}},
		{"  ", nil},
		{"No end", []string{"No end"}},
	} {
		got := splitSentences(tc.in)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("splitSentences(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, s := range got {
			if !strings.Contains(tc.in, s) {
				t.Errorf("%q not a substring of %q", s, tc.in)
			}
		}
	}
}
