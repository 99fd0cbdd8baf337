package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode"
)

// Roles of a question set.
const (
	RoleTuning  = "tuning"   // the corpus one may tune against
	RoleHeldOut = "held-out" // the corpus the goals are judged on
)

// maxQuestions bounds one question file.
const maxQuestions = 1000

// QuestionSet is one committed question file (testdata/eval/<kind>.json).
type QuestionSet struct {
	// Corpus is the corpus kind the questions are about (KindGo, KindMan).
	Corpus string `json:"corpus"`
	// Role is RoleTuning or RoleHeldOut.
	Role      string     `json:"role"`
	Note      string     `json:"note,omitempty"`
	Questions []Question `json:"questions"`
}

// Question is one question. An answerable question names the document that answers it
// and the facts an answer must contain (any one suffices); an unanswerable one has
// neither.
type Question struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	Doc      string `json:"doc,omitempty"`
	// Facts are acceptable facts, any one suffices: plain strings matched
	// case-insensitively with runs of white space collapsed (Normalize), or, prefixed
	// with "re:", RE2 regular expressions matched case-sensitively (identifiers keep
	// their case; write (?i) to ignore it) against the text with its white space
	// collapsed (Collapse).
	Facts        []string `json:"facts,omitempty"`
	Unanswerable bool     `json:"unanswerable,omitempty"`

	matchers []matcher
}

// Answerable reports whether the question has an answer in its corpus.
func (q *Question) Answerable() bool { return !q.Unanswerable }

type matcher struct {
	plain string
	re    *regexp.Regexp
}

// LoadQuestions reads and validates a question file against its corpus list.
func LoadQuestions(path string, docs []string) (*QuestionSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQuestions, err)
	}
	qs, err := ParseQuestions(b, docs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return qs, nil
}

// ParseQuestions parses a question file and checks it: a known corpus and role, at
// least one answerable and one unanswerable question, unique ids, every answerable
// question naming a listed document and at least one valid fact, no unanswerable
// question naming either.
func ParseQuestions(b []byte, docs []string) (*QuestionSet, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var qs QuestionSet
	if err := dec.Decode(&qs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQuestions, err)
	}
	if qs.Corpus != KindGo && qs.Corpus != KindMan {
		return nil, fmt.Errorf("%w: corpus %q is not %q or %q", ErrQuestions, qs.Corpus, KindGo, KindMan)
	}
	if qs.Role != RoleTuning && qs.Role != RoleHeldOut {
		return nil, fmt.Errorf("%w: role %q is not %q or %q", ErrQuestions, qs.Role, RoleTuning, RoleHeldOut)
	}
	if len(qs.Questions) > maxQuestions {
		return nil, fmt.Errorf("%w: %d questions, more than %d", ErrQuestions, len(qs.Questions), maxQuestions)
	}
	listed := map[string]bool{}
	for _, d := range docs {
		listed[d] = true
	}
	ids := map[string]bool{}
	answerable, unanswerable := 0, 0
	for i := range qs.Questions {
		q := &qs.Questions[i]
		where := fmt.Sprintf("question %d (%q)", i+1, q.ID)
		switch {
		case q.ID == "":
			return nil, fmt.Errorf("%w: %s: no id", ErrQuestions, where)
		case ids[q.ID]:
			return nil, fmt.Errorf("%w: %s: id used twice", ErrQuestions, where)
		case strings.TrimSpace(q.Question) == "":
			return nil, fmt.Errorf("%w: %s: no question text", ErrQuestions, where)
		}
		ids[q.ID] = true
		if q.Unanswerable {
			if q.Doc != "" || len(q.Facts) > 0 {
				return nil, fmt.Errorf("%w: %s: an unanswerable question names no document and no fact", ErrQuestions, where)
			}
			unanswerable++
			continue
		}
		if !listed[q.Doc] {
			return nil, fmt.Errorf("%w: %s: document %q is not in the %s corpus list", ErrQuestions, where, q.Doc, qs.Corpus)
		}
		if len(q.Facts) == 0 {
			return nil, fmt.Errorf("%w: %s: no fact", ErrQuestions, where)
		}
		for _, f := range q.Facts {
			m, err := compileFact(f)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrQuestions, where, err)
			}
			q.matchers = append(q.matchers, m)
		}
		answerable++
	}
	if answerable == 0 || unanswerable == 0 {
		return nil, fmt.Errorf("%w: %d answerable and %d unanswerable questions: a set needs both", ErrQuestions, answerable, unanswerable)
	}
	return &qs, nil
}

func compileFact(f string) (matcher, error) {
	if src, ok := strings.CutPrefix(f, "re:"); ok {
		re, err := regexp.Compile(src)
		if err != nil {
			return matcher{}, fmt.Errorf("fact %q: %w", f, err)
		}
		return matcher{re: re}, nil
	}
	n := Normalize(f)
	if n == "" {
		return matcher{}, fmt.Errorf("fact %q is blank", f)
	}
	return matcher{plain: n}, nil
}

// Contains reports whether text contains one of the question's facts. An unanswerable
// question's facts are never contained.
func (q *Question) Contains(text string) bool {
	if len(q.matchers) == 0 {
		return false
	}
	n, c := Normalize(text), ""
	for _, m := range q.matchers {
		if m.re == nil {
			if strings.Contains(n, m.plain) {
				return true
			}
			continue
		}
		if c == "" {
			c = Collapse(text)
		}
		if m.re.MatchString(c) {
			return true
		}
	}
	return false
}

// Normalize lower-cases text and collapses every run of white space into one space, so
// a fact matches across the line breaks and indentation of a rendered page.
func Normalize(s string) string { return collapse(s, true) }

// Collapse collapses every run of white space into one space and trims the ends.
func Collapse(s string) string { return collapse(s, false) }

func collapse(s string, lower bool) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if lower {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
