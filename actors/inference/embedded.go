package inference

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Embedded-engine limits.
const (
	embeddedMaxSentences = 4
	embeddedDefaultChars = 1200 // answer budget when Request.MaxTokens is 0
	charsPerToken        = 4    // token estimate used when a backend reports none
)

// Validate checks a request against the package limits.
func (r *Request) Validate() error {
	if strings.TrimSpace(r.Query) == "" {
		return fmt.Errorf("empty query: %w", ErrInvalidRequest)
	}
	if len(r.Query) > MaxQueryBytes {
		return fmt.Errorf("query of %d bytes exceeds %d: %w", len(r.Query), MaxQueryBytes, ErrInvalidRequest)
	}
	if len(r.SubQuestions) > MaxSubQuestions {
		return fmt.Errorf("%d sub-questions exceed %d: %w", len(r.SubQuestions), MaxSubQuestions, ErrInvalidRequest)
	}
	if len(r.Evidence) > MaxEvidence {
		return fmt.Errorf("%d evidence passages exceed %d: %w", len(r.Evidence), MaxEvidence, ErrInvalidRequest)
	}
	total := len(r.Conclusion)
	for _, q := range r.SubQuestions {
		total += len(q)
	}
	for _, e := range r.Evidence {
		total += len(e.Excerpt) + len(e.Source)
	}
	if total > MaxEvidenceBytes {
		return fmt.Errorf("evidence and reasoning of %d bytes exceed %d: %w", total, MaxEvidenceBytes, ErrInvalidRequest)
	}
	if r.MaxTokens < 0 {
		return fmt.Errorf("max_tokens %d is negative: %w", r.MaxTokens, ErrInvalidRequest)
	}
	if t := r.Temperature; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 2) {
		return fmt.Errorf("temperature %v outside [0, 2]: %w", *t, ErrInvalidRequest)
	}
	return nil
}

// Embedded is the embedded engine: an extractive answer that quotes the evidence units
// covering the question best (compose.go) — whole option entries, declarations with
// their doc comments, code blocks with their line breaks, list items, or whole
// sentences of prose — each followed by its "[n]" marker, with one Citation per marker.
// It never invents text: every Sentence.Text is a substring of one Evidence.Excerpt.
// With no evidence, or no unit that covers enough of the question's terms, it returns
// ErrNoEvidence. Pure and safe for concurrent use.
func Embedded(req Request) (Answer, error) {
	ans := Answer{Backend: EmbeddedBackend, Model: EmbeddedModel, TokensEstimated: true}
	if err := req.Validate(); err != nil {
		return ans, err
	}
	if len(req.Evidence) == 0 {
		return ans, fmt.Errorf("no evidence passages: %w", ErrNoEvidence)
	}
	chosen, err := compose(req)
	if err != nil {
		return ans, fmt.Errorf("no evidence unit addresses the question: %w", err)
	}
	ans.Text, ans.Sentences, ans.Citations = render(chosen)
	ans.TokensUsed = estimateTokens(len(ans.Text))
	return ans, nil
}

func estimateTokens(chars int) int { return (chars + charsPerToken - 1) / charsPerToken }

// splitSentences cuts text into sentences, each a trimmed substring of text. A sentence
// ends at '.', '!' or '?' (with closing quotes or brackets) followed by white space, at a
// blank line, or at a line break before or after a structural line (a heading, list
// item, table row or code fence). A single line break inside a paragraph is a soft
// wrap, not a sentence end, so hard-wrapped prose stays whole.
func splitSentences(text string) []string {
	var out []string
	emit := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" {
			out = append(out, s)
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n':
			if hardBreak(text, start, i) {
				emit(text[start:i])
				start = i + w
			}
		case r == '.' || r == '!' || r == '?' || r == '。':
			j := i + w
			for j < len(text) && strings.IndexByte("\"')]»", text[j]) >= 0 {
				j++
			}
			if j >= len(text) || text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r' {
				// "e.g. x" and "3.5" do not end a sentence: require the next word to
				// not start in lower case.
				k := j
				for k < len(text) && (text[k] == ' ' || text[k] == '\t') {
					k++
				}
				next, _ := utf8.DecodeRuneInString(text[k:])
				if k >= len(text) || !unicode.IsLower(next) {
					emit(text[start:j])
					start = j
					i = j
					continue
				}
			}
		}
		i += w
	}
	emit(text[start:])
	return out
}

// hardBreak reports whether the line break at text[nl] ends a sentence: a blank line
// follows, or the line it ends or the line it starts is structural.
func hardBreak(text string, start, nl int) bool {
	lineStart := strings.LastIndexByte(text[:nl], '\n') + 1
	lineStart = max(lineStart, start)
	next := text[nl+1:]
	if i := strings.IndexByte(next, '\n'); i >= 0 {
		next = next[:i]
	}
	return strings.TrimSpace(next) == "" || structural(text[lineStart:nl]) || structural(next)
}

// structural reports a Markdown line that is not prose: a heading, list item, table
// row, quote or code fence.
func structural(line string) bool {
	t := strings.TrimSpace(line)
	if t == "" {
		return true
	}
	switch t[0] {
	case '#', '|', '>', '-', '*', '+':
		return true
	}
	if strings.HasPrefix(t, "```") {
		return true
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(t) && (t[i] == '.' || t[i] == ')') && t[i+1] == ' '
}

func normText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
