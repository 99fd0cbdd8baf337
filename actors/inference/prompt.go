package inference

import (
	"strconv"
	"strings"
	"unicode"
)

// chatMessage is one message of a chat request (both wire formats).
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func chatMessages(ms []chatMessage) []ChatMessage {
	out := make([]ChatMessage, len(ms))
	for i, m := range ms {
		out[i] = ChatMessage(m)
	}
	return out
}

// maxPromptEvidenceBytes bounds the evidence placed in a prompt; passages beyond it are
// left out (best first, as the pipeline ordered them).
const maxPromptEvidenceBytes = 48 << 10

const answerSystemPrompt = "You are the answer engine of a sovereign knowledge runtime. " +
	"Answer the question using only the evidence provided. " +
	"After each sentence, cite the source it rests on in square brackets exactly as the evidence names it, for example [notes/a.md]. " +
	"If the evidence does not answer the question, say so briefly. Do not invent facts."

const decomposeSystemPrompt = "Split the user's question into at most %d self-contained sub-questions " +
	"that together answer it. Reply with one sub-question per line, no numbering, no other text."

// answerMessages builds the chat messages of an answer call: the question, the
// sub-questions and draft conclusion of the reasoning, and the evidence, each passage on
// its own line as "[source] excerpt".
func answerMessages(req Request) []chatMessage {
	var b strings.Builder
	b.WriteString("Question: ")
	b.WriteString(oneLine(req.Query))
	b.WriteByte('\n')
	if len(req.SubQuestions) > 0 {
		b.WriteString("Sub-questions:\n")
		for _, q := range req.SubQuestions {
			b.WriteString("- ")
			b.WriteString(oneLine(q))
			b.WriteByte('\n')
		}
	}
	if c := strings.TrimSpace(req.Conclusion); c != "" {
		b.WriteString("Draft conclusion: ")
		b.WriteString(oneLine(c))
		b.WriteByte('\n')
	}
	if len(req.Evidence) == 0 {
		b.WriteString("Evidence: none was found locally.\n")
	} else {
		b.WriteString("Evidence:\n")
		used := 0
		for _, ev := range req.Evidence {
			line := "[" + citeName(ev.Source) + "] " + oneLine(ev.Excerpt) + "\n"
			if used > 0 && used+len(line) > maxPromptEvidenceBytes {
				break
			}
			used += len(line)
			b.WriteString(line)
		}
	}
	return []chatMessage{{Role: "system", Content: answerSystemPrompt}, {Role: "user", Content: b.String()}}
}

// decomposeMessages builds the chat messages of a Decompose call.
func decomposeMessages(q string, maxN int) []chatMessage {
	return []chatMessage{
		{Role: "system", Content: strings.Replace(decomposeSystemPrompt, "%d", strconv.Itoa(maxN), 1)},
		{Role: "user", Content: oneLine(q)},
	}
}

// citeName is how a source is written inside brackets: brackets and line breaks removed.
func citeName(src string) string {
	src = strings.Map(func(r rune) rune {
		switch r {
		case '[', ']', '\n', '\r':
			return -1
		}
		return r
	}, src)
	if src = strings.TrimSpace(src); src == "" {
		return "unknown"
	}
	return src
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// stripThink removes <think>…</think> blocks (any case, any number). An unterminated
// <think> drops the rest of the text; a lone </think> drops everything before it (some
// chat templates open the block in the prompt).
func stripThink(s string) string {
	for {
		lower := asciiLower(s) // same byte offsets as s (strings.ToLower may change lengths)
		open := strings.Index(lower, "<think>")
		closeIdx := strings.Index(lower, "</think>")
		switch {
		case open < 0 && closeIdx < 0:
			return strings.TrimSpace(s)
		case open < 0 || (closeIdx >= 0 && closeIdx < open):
			s = s[closeIdx+len("</think>"):]
		default:
			end := strings.Index(lower[open:], "</think>")
			if end < 0 {
				s = s[:open]
			} else {
				s = s[:open] + s[open+end+len("</think>"):]
			}
		}
	}
}

// asciiLower lowers A-Z only, keeping every byte offset.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// parseCitations splits a model answer into sentences and records, for each, the first
// bracketed citation that names an evidence source ([source], or [n] for the n-th
// passage); recognised citations are removed from Sentence.Text.
func parseCitations(text string, evidence []Evidence) []Sentence {
	known := map[string]string{}
	for i, ev := range evidence {
		name := citeName(ev.Source)
		known[strings.ToLower(name)] = ev.Source
		known[strconv.Itoa(i+1)] = ev.Source
	}
	var out []Sentence
	for _, s := range splitSentences(text) {
		var src string
		var b strings.Builder
		rest := s
		for {
			i := strings.IndexByte(rest, '[')
			if i < 0 {
				b.WriteString(rest)
				break
			}
			j := strings.IndexByte(rest[i:], ']')
			if j < 0 {
				b.WriteString(rest)
				break
			}
			inner := rest[i+1 : i+j]
			matched := false
			for part := range strings.SplitSeq(inner, ",") {
				part = strings.ToLower(strings.TrimSpace(part))
				if full, ok := known[part]; ok {
					if src == "" {
						src = full
					}
					matched = true
				}
			}
			if matched {
				b.WriteString(strings.TrimRightFunc(rest[:i], unicode.IsSpace))
			} else {
				b.WriteString(rest[:i+j+1])
			}
			rest = rest[i+j+1:]
		}
		t := strings.TrimSpace(b.String())
		if t == "" || strings.Trim(t, ".!? ") == "" {
			// a citation standing alone after the sentence end ("... . [a]")
			if len(out) > 0 && out[len(out)-1].Source == "" {
				out[len(out)-1].Source = src
			}
			continue
		}
		out = append(out, Sentence{Text: t, Source: src})
	}
	return out
}

// parseSubQuestions turns a model's decomposition reply into at most maxN questions:
// one per line, list markers and numbering removed, empty and duplicate lines dropped.
func parseSubQuestions(text string, maxN int) []string {
	var out []string
	seen := map[string]bool{}
	for line := range strings.Lines(stripThink(text)) {
		l := strings.TrimSpace(line)
		l = strings.TrimLeft(l, "-*•# \t")
		// "1." "2)" "(3)" "Q1:" numbering
		k := 0
		for k < len(l) && (l[k] >= '0' && l[k] <= '9' || l[k] == '(' || l[k] == 'Q' || l[k] == 'q') {
			k++
		}
		if k > 0 && k < len(l) && strings.IndexByte(".):", l[k]) >= 0 {
			l = strings.TrimSpace(l[k+1:])
		}
		l = oneLine(l)
		if len(l) < 3 || len(l) > 1000 || seen[strings.ToLower(l)] {
			continue
		}
		seen[strings.ToLower(l)] = true
		out = append(out, l)
		if len(out) == maxN {
			break
		}
	}
	return out
}
