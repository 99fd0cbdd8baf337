package eval

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ftsTopK is how many paragraphs the baseline ranks per question.
const ftsTopK = 5

// Paragraph is one unit of the FTS5 baseline: a blank-line separated paragraph of a
// document.
type Paragraph struct {
	Doc  string
	Text string
}

// Paragraphs splits a document at blank lines (lines of white space only); paragraphs
// keep their line breaks and are never empty.
func Paragraphs(doc, text string) []Paragraph {
	var out []Paragraph
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, Paragraph{Doc: doc, Text: strings.Join(cur, "\n")})
			cur = cur[:0]
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		cur = append(cur, strings.TrimRight(line, " \t\r"))
	}
	flush()
	return out
}

// ftsStopWords are the question words the baseline drops: a short English list of its
// own (not bizra's), so tuning bizra's term filter cannot move the baseline.
const ftsStopWords = " a about an and are as at be by can could do does for from has have how i if in " +
	"into is it its me my of on or should than that the their them then there these this to " +
	"use used using was what when where which who whom why will with would you your "

func isFTSStopWord(w string) bool { return strings.Contains(ftsStopWords, " "+w+" ") }

// MatchExpr turns a question into an FTS5 query: its words (runs of letters and
// digits, lower-cased, two runes or more) minus ftsStopWords, each quoted, joined with
// OR. "" when no word is left.
func MatchExpr(question string) string {
	seen := map[string]bool{}
	var terms []string
	words := strings.FieldsFunc(strings.ToLower(question), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, t := range words {
		if utf8.RuneCountInString(t) < 2 || isFTSStopWord(t) || seen[t] {
			continue
		}
		seen[t] = true
		terms = append(terms, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
	}
	return strings.Join(terms, " OR ")
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// FTS is the SQLite FTS5 BM25 baseline, run through the sqlite3 command-line shell.
type FTS struct {
	// SQLite is the sqlite3 command; "" looks it up in PATH.
	SQLite string
}

// Rank indexes paragraphs in an in-memory FTS5 table (tokenizer porter unicode61, the
// stock English stemmer) and ranks the top paragraphs of each question by bm25(). The
// result is parallel to questions.
func (f FTS) Rank(ctx context.Context, paragraphs []Paragraph, questions []string) ([]Ranked, error) {
	bin := f.SQLite
	if bin == "" {
		p, err := exec.LookPath("sqlite3")
		if err != nil {
			return nil, fmt.Errorf("%w: sqlite3 is not installed (apt-get install sqlite3): %w", ErrMissingTool, err)
		}
		bin = p
	}
	var sql strings.Builder
	sql.WriteString(".bail on\n.mode tabs\n.headers off\n")
	sql.WriteString("CREATE VIRTUAL TABLE p USING fts5(doc UNINDEXED, body, tokenize = 'porter unicode61');\nBEGIN;\n")
	for i, p := range paragraphs {
		fmt.Fprintf(&sql, "INSERT INTO p(rowid, doc, body) VALUES(%d, %s, %s);\n", i+1, sqlString(p.Doc), sqlString(p.Text))
	}
	sql.WriteString("COMMIT;\n")
	for i, q := range questions {
		expr := MatchExpr(q)
		if expr == "" {
			continue
		}
		fmt.Fprintf(&sql, "SELECT %d, rowid FROM p WHERE p MATCH %s ORDER BY bm25(p) LIMIT %d;\n", i, sqlString(expr), ftsTopK)
	}
	cmd := exec.CommandContext(ctx, bin, ":memory:")
	cmd.Stdin = strings.NewReader(sql.String())
	var out, errb limitedBuffer
	out.max, errb.max = 16<<20, 4<<10
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: sqlite3: %w: %s", ErrFTS, err, strings.TrimSpace(errb.String()))
	}
	if out.over {
		return nil, fmt.Errorf("%w: sqlite3 printed more than 16 MiB", ErrFTS)
	}
	res := make([]Ranked, len(questions))
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		qs, rs, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return nil, fmt.Errorf("%w: unexpected output line %q", ErrFTS, sc.Text())
		}
		qi, err1 := strconv.Atoi(qs)
		row, err2 := strconv.Atoi(rs)
		if err1 != nil || err2 != nil || qi < 0 || qi >= len(questions) || row < 1 || row > len(paragraphs) {
			return nil, fmt.Errorf("%w: unexpected output line %q", ErrFTS, sc.Text())
		}
		p := paragraphs[row-1]
		if len(res[qi].Docs) == 0 {
			res[qi].Top = p.Text
		}
		res[qi].Docs = append(res[qi].Docs, p.Doc)
	}
	return res, nil
}
