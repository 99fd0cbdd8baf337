package eval

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Corpus kinds.
const (
	KindGo  = "go"  // `go doc -all <package>`
	KindMan = "man" // `man -P cat <section> <name> | col -bx`
)

// renderTimeout bounds one document's rendering.
const renderTimeout = 30 * time.Second

// maxDocBytes bounds one rendered document (the largest, bash(1), is about 400 KB).
const maxDocBytes = 4 << 20

// Doc is one generated document.
type Doc struct {
	// ID names the document in the question files: an import path ("net/http") or a
	// man page with its section ("tar.1").
	ID string
	// Path is the document's path inside the data lake ("go/net/http.txt",
	// "man/tar.1.txt"); the evidence sources the runtime reports start with it.
	Path string
	Text string
}

// Corpus is one generated corpus.
type Corpus struct {
	Kind string
	Docs []Doc
	// Absent lists the documents of the list that could not be rendered, each with the
	// reason; under Options.RequireAll generation fails instead.
	Absent []string
	// Took is the generation time.
	Took time.Duration
}

// ByID returns the document with the given id.
func (c *Corpus) ByID(id string) (Doc, bool) {
	for _, d := range c.Docs {
		if d.ID == id {
			return d, true
		}
	}
	return Doc{}, false
}

// Bytes is the corpus's total text size.
func (c *Corpus) Bytes() int {
	n := 0
	for _, d := range c.Docs {
		n += len(d.Text)
	}
	return n
}

// maxListEntries bounds a corpus list.
const maxListEntries = 1000

// ReadList reads a corpus list: one id a line, blank lines and #-comments ignored.
// Duplicates, an empty list and more than maxListEntries ids are errors.
func ReadList(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorpusList, err)
	}
	var ids []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") || strings.Contains(line, "..") || strings.HasPrefix(line, "/") {
			return nil, fmt.Errorf("%w: %s:%d: %q is not an id", ErrCorpusList, path, n, line)
		}
		if seen[line] {
			return nil, fmt.Errorf("%w: %s:%d: %q listed twice", ErrCorpusList, path, n, line)
		}
		seen[line] = true
		if ids = append(ids, line); len(ids) > maxListEntries {
			return nil, fmt.Errorf("%w: %s lists more than %d documents", ErrCorpusList, path, maxListEntries)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: %s lists nothing", ErrCorpusList, path)
	}
	return ids, nil
}

// DocPath is the data-lake path of a document id of a corpus kind.
func DocPath(kind, id string) string { return kind + "/" + id + ".txt" }

// DocIDOf maps an evidence source ("man/tar.1.txt:L120", "go/net/http.txt#x:L3") back
// to the corpus kind and document id; ok is false for a source outside both corpora.
// A replicated lake's sources ("copy-2/man/tar.1.txt") map to the same document.
func DocIDOf(source string) (kind, id string, ok bool) {
	s := source
	if i := strings.IndexAny(s, "#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, ".txt:L"); i >= 0 {
		s = s[:i+len(".txt")]
	}
	if strings.HasPrefix(s, "copy-") {
		if i := strings.IndexByte(s, '/'); i >= 0 {
			s = s[i+1:]
		}
	}
	for _, k := range []string{KindGo, KindMan} {
		if rest, found := strings.CutPrefix(s, k+"/"); found {
			if id, found := strings.CutSuffix(rest, ".txt"); found && id != "" {
				return k, id, true
			}
		}
	}
	return "", "", false
}

// Renderer turns documentation on this machine into text.
type Renderer struct {
	// GoTool is the go command; "" looks up "go" in PATH.
	GoTool string
	// Man and Col are the man and col commands; "" looks them up in PATH.
	Man, Col string
	// Workers renders this many documents at once; 0 → 2.
	Workers int
	// RequireAll makes a document that cannot be rendered an error (CI) instead of an
	// entry in Corpus.Absent.
	RequireAll bool
}

func (r Renderer) tool(name, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not installed (%w)", ErrMissingTool, name, err)
	}
	return p, nil
}

// Render generates the corpus of kind for the listed ids.
func (r Renderer) Render(ctx context.Context, kind string, ids []string) (*Corpus, error) {
	start := time.Now()
	var render func(ctx context.Context, id string) (string, error)
	switch kind {
	case KindGo:
		goTool, err := r.tool("go", r.GoTool)
		if err != nil {
			return nil, err
		}
		render = func(ctx context.Context, id string) (string, error) {
			return runCapture(ctx, nil, goTool, "doc", "-all", id)
		}
	case KindMan:
		man, err := r.tool("man", r.Man)
		if err != nil {
			return nil, err
		}
		col, err := r.tool("col", r.Col)
		if err != nil {
			return nil, err
		}
		render = func(ctx context.Context, id string) (string, error) {
			i := strings.LastIndexByte(id, '.')
			if i <= 0 || i == len(id)-1 {
				return "", fmt.Errorf("%w: man page %q is not <name>.<section>", ErrCorpusList, id)
			}
			name, section := id[:i], id[i+1:]
			// -w first: a missing page is named as such, not as a rendering failure.
			if _, err := runCapture(ctx, []string{"MANWIDTH=80"}, man, "-w", section, name); err != nil {
				return "", fmt.Errorf("no man page %s(%s) on this machine: %w", name, section, err)
			}
			page, err := runCapture(ctx, []string{"MANWIDTH=80", "MAN_KEEP_FORMATTING=0", "LC_ALL=C.UTF-8"}, man, "-P", "cat", section, name)
			if err != nil {
				return "", err
			}
			return runFilter(ctx, col, page, "-bx")
		}
	default:
		return nil, fmt.Errorf("%w: unknown corpus kind %q", ErrCorpusList, kind)
	}
	workers := r.Workers
	if workers <= 0 {
		workers = 2
	}
	texts := make([]string, len(ids))
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(ids)) {
		wg.Go(func() {
			for i := range next {
				dctx, cancel := context.WithTimeout(ctx, renderTimeout)
				texts[i], errs[i] = render(dctx, ids[i])
				cancel()
			}
		})
	}
	for i := range ids {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &Corpus{Kind: kind}
	var missing []string
	for i, id := range ids {
		text := strings.TrimSpace(texts[i])
		if errs[i] == nil && text == "" {
			errs[i] = fmt.Errorf("rendered empty")
		}
		if errs[i] != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", id, errs[i]))
			continue
		}
		c.Docs = append(c.Docs, Doc{ID: id, Path: DocPath(kind, id), Text: text + "\n"})
	}
	if len(missing) > 0 && r.RequireAll {
		return nil, fmt.Errorf("%w: %d of %d %s documents could not be rendered: %s", ErrCorpusMissing,
			len(missing), len(ids), kind, strings.Join(missing, "; "))
	}
	c.Absent = missing
	c.Took = time.Since(start)
	return c, nil
}

// runCapture runs a command and returns its standard output, bounded by maxDocBytes.
func runCapture(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb limitedBuffer
	out.max, errb.max = maxDocBytes, 4<<10
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	if out.over {
		return "", fmt.Errorf("%s %s: output larger than %d bytes", filepath.Base(name), strings.Join(args, " "), maxDocBytes)
	}
	return out.String(), nil
}

// runFilter pipes in through a command.
func runFilter(ctx context.Context, name, in string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(in)
	var out, errb limitedBuffer
	out.max, errb.max = maxDocBytes, 4<<10
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", filepath.Base(name), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// limitedBuffer keeps at most max bytes and remembers whether more came.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// WriteLake writes the corpora into dir (dir/<kind>/<id>.txt), copies times each under
// copy-<n>/ after the first (copies ≤ 1 writes one set).
func WriteLake(dir string, copies int, corpora ...*Corpus) error {
	for n := range max(copies, 1) {
		base := dir
		if n > 0 {
			base = filepath.Join(dir, fmt.Sprintf("copy-%d", n))
		}
		for _, c := range corpora {
			for _, d := range c.Docs {
				p := filepath.Join(base, filepath.FromSlash(d.Path))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return fmt.Errorf("eval: data lake: %w", err)
				}
				if err := os.WriteFile(p, []byte(d.Text), 0o644); err != nil {
					return fmt.Errorf("eval: data lake: %w", err)
				}
			}
		}
	}
	return nil
}
