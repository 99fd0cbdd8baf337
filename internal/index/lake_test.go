package index

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuf collects log records for assertions.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) count(sub string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), sub)
}

func (b *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// oldLake writes files (rel → text) under a fresh folder with an mtime an hour ago,
// so no file is racily clean.
func oldLake(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, text := range files {
		writeOld(t, dir, rel, text)
	}
	return dir
}

func writeOld(t *testing.T, dir, rel, text string) {
	t.Helper()
	write(t, dir, rel, []byte(text))
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(rel)), old, old); err != nil {
		t.Fatal(err)
	}
}

func genLakeFiles(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("f%02d/doc%03d.md", i%7, i)] = fmt.Sprintf("# Doc %d\n\n%s\n\n## More\n\n%s\n", i, genText(i, 60), genText(i+1000, 40))
	}
	return m
}

// newTestLake starts a lake and registers its shutdown.
func newTestLake(t *testing.T, o LakeOptions) *Lake {
	t.Helper()
	if o.RescanInterval == 0 {
		o.RescanInterval = -1
	}
	l, err := NewLake(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopLake(t, l) })
	select {
	case <-l.Scanned():
	case <-time.After(30 * time.Second):
		t.Fatal("first scan did not finish")
	}
	return l
}

// rescan runs one rescan and waits for it.
func rescan(t *testing.T, l *Lake) Progress {
	t.Helper()
	before := l.Progress().Scans
	l.Rescan()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p := l.Progress(); p.Scans > before {
			return p
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("rescan did not finish")
	return Progress{}
}

func sources(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, fmt.Sprintf("%s %.9f %.9f", h.Source, h.Score, h.Norm))
	}
	return out
}

// TestLakeSavedIndexMatchesBuild: an index loaded from the saved file answers exactly
// as a fresh Build of the same lake (same passages, order, scores).
func TestLakeSavedIndexMatchesBuild(t *testing.T) {
	files := genLakeFiles(120)
	files["a-b.md"] = "# Dash\n\nsorted between a and a/b\n"
	files["a/b.md"] = "# Slash\n\nwalk order is per folder\n"
	root := oldLake(t, files)
	save := t.TempDir()
	fresh, err := Build(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l1 := newTestLake(t, LakeOptions{Root: root, SaveDir: save})
	stopLake(t, l1)
	l2 := newTestLake(t, LakeOptions{Root: root, SaveDir: save})
	p := l2.Progress()
	if !p.Saved.Loaded || p.LastScanRd != 0 {
		t.Fatalf("restart did not reuse the saved index without reading: %+v", p)
	}
	got := l2.Index()
	fs, gs := fresh.Stats(), got.Stats()
	fs.Duration, gs.Duration = 0, 0
	if fs != gs {
		t.Fatalf("stats differ:\nbuild %+v\nsaved %+v", fs, gs)
	}
	for _, q := range []string{"bridge health", genText(3, 4), genText(77, 3), "walk order folder", "sorted dash"} {
		if a, b := sources(fresh.Search(q, 10)), sources(got.Search(q, 10)); !slices.Equal(a, b) {
			t.Fatalf("query %q:\nbuild %v\nsaved %v", q, a, b)
		}
	}
}

// TestLakeRescanReadsOnlyChanged: a rescan reads only new files and files whose size or
// mtime changed; a touched file (same content) is read but not re-analysed; removed
// files leave the index.
func TestLakeRescanReadsOnlyChanged(t *testing.T) {
	files := genLakeFiles(40)
	root := oldLake(t, files)
	l := newTestLake(t, LakeOptions{Root: root})
	if p := l.Progress(); p.LastScanRd != 40 || l.Index().Stats().Files != 40 {
		t.Fatalf("first scan %+v, files %d", p, l.Index().Stats().Files)
	}
	if p := rescan(t, l); p.LastScanRd != 0 {
		t.Fatalf("unchanged rescan read %d files", p.LastScanRd)
	}
	writeOld(t, root, "f00/doc000.md", "# Changed\n\nquetzalcoatl feathered serpent\n")
	writeOld(t, root, "new/added.md", "# Added\n\naxolotl salamander\n")
	if err := os.Remove(filepath.Join(root, "f01", "doc001.md")); err != nil {
		t.Fatal(err)
	}
	touched := filepath.Join(root, "f02", "doc002.md")
	later := time.Now().Add(-30 * time.Minute)
	if err := os.Chtimes(touched, later, later); err != nil {
		t.Fatal(err)
	}
	old := l.Index()
	p := rescan(t, l)
	if p.LastScanRd != 3 {
		t.Fatalf("rescan read %d files, want 3 (changed, added, touched)", p.LastScanRd)
	}
	ix := l.Index()
	if ix == old || ix.Stats().Files != 40 {
		t.Fatalf("index not swapped or wrong file count: %d", ix.Stats().Files)
	}
	if h := ix.Search("quetzalcoatl", 3); len(h) == 0 || h[0].Doc != "f00/doc000.md" {
		t.Fatalf("changed file not served: %+v", h)
	}
	if h := ix.Search("axolotl", 3); len(h) == 0 || h[0].Doc != "new/added.md" {
		t.Fatalf("added file not served: %+v", h)
	}
	for _, h := range ix.Search(genText(1, 6), 50) {
		if h.Doc == "f01/doc001.md" {
			t.Fatalf("removed file still served: %+v", h)
		}
	}
	if len(old.Search("quetzalcoatl", 3)) != 0 {
		t.Fatal("the old index changed under its readers")
	}
}

// TestLakeWatchFollowsTheLake writes real files into a watched lake: an added, changed
// and removed file (and a file in a new folder) is reflected within a few seconds
// without any rescan request or periodic rescan.
func TestLakeWatchFollowsTheLake(t *testing.T) {
	root := oldLake(t, genLakeFiles(10))
	l := newTestLake(t, LakeOptions{Root: root, Watch: true, Debounce: 50 * time.Millisecond})
	if !l.Progress().Watching {
		t.Fatalf("not watching: %+v", l.Progress())
	}
	wait := func(what string, ok func(*Index) bool) {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 10*time.Second {
			if ok(l.Index()) {
				t.Logf("%s: answerable after %v", what, time.Since(start).Round(time.Millisecond))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: not reflected within 10 s (%+v)", what, l.Progress())
	}
	found := func(word, doc string) func(*Index) bool {
		return func(ix *Index) bool {
			h := ix.Search(word, 3)
			return len(h) > 0 && h[0].Doc == doc
		}
	}
	write(t, root, "added.md", []byte("# Added\n\nokapi giraffe cousin\n"))
	wait("added file", found("okapi", "added.md"))
	write(t, root, "added.md", []byte("# Added\n\npangolin scales\n"))
	wait("changed file", func(ix *Index) bool { return found("pangolin", "added.md")(ix) && len(ix.Search("okapi", 3)) == 0 })
	if err := os.MkdirAll(filepath.Join(root, "fresh", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the new folders are watched after the rescan they trigger
	write(t, root, "fresh/deeper/x.md", []byte("# X\n\nnarwhal tusk\n"))
	wait("file in a new folder", found("narwhal", "fresh/deeper/x.md"))
	if err := os.Remove(filepath.Join(root, "added.md")); err != nil {
		t.Fatal(err)
	}
	wait("removed file", func(ix *Index) bool { return len(ix.Search("pangolin", 3)) == 0 })
}

// TestLakePeriodicRescan: with no watcher, the periodic rescan alone finds a new file.
func TestLakePeriodicRescan(t *testing.T) {
	root := oldLake(t, genLakeFiles(3))
	l := newTestLake(t, LakeOptions{Root: root, RescanInterval: 100 * time.Millisecond})
	write(t, root, "late.md", []byte("# Late\n\nwombat burrow\n"))
	deadline := time.Now().Add(10 * time.Second)
	for len(l.Index().Search("wombat", 1)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("periodic rescan did not pick the file up: %+v", l.Progress())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLakeUnreadableFileNamed: an unreadable lake file is counted and named, not fatal.
func TestLakeUnreadableFileNamed(t *testing.T) {
	root := oldLake(t, genLakeFiles(5))
	// A dangling link is unreadable for every user; a mode-0 file for all but root.
	must(t, os.Symlink("nowhere.md", filepath.Join(root, "dangling.md")))
	want := []string{"dangling.md"}
	if os.Geteuid() != 0 {
		writeOld(t, root, "locked/secret.md", "# Locked\n\nno access\n")
		must(t, os.Chmod(filepath.Join(root, "locked", "secret.md"), 0))
		want = append(want, "locked/secret.md")
	}
	var logs logBuf
	l := newTestLake(t, LakeOptions{Root: root, Index: Options{Logger: logs.logger()}, MaxUnreadable: 1})
	p := l.Progress()
	if p.State != StateReady || p.Unreadable != len(want) || len(p.Unreadables) != 1 || p.Unreadables[0].Path != want[0] ||
		p.Unreadables[0].Error == "" {
		t.Fatalf("progress %+v, want %v counted and the first named", p, want)
	}
	if l.Index().Stats().Files != 5 || l.Index().Stats().SkippedUnreadable != len(want) {
		t.Fatalf("stats %+v", l.Index().Stats())
	}
	rescan(t, l)
	if n := logs.count("unreadable data-lake file skipped"); n != 1 {
		t.Fatalf("%d WARN lines over two scans, want 1 (MaxUnreadable 1, each file once)", n)
	}
}

// TestLakeReadOnlyNeverWrites: a read-only lake (a one-shot query beside a node) loads
// the saved index and never writes the folder.
func TestLakeReadOnlyNeverWrites(t *testing.T) {
	root := oldLake(t, genLakeFiles(5))
	save := t.TempDir()
	l := newTestLake(t, LakeOptions{Root: root, SaveDir: save, ReadOnly: true})
	stopLake(t, l)
	if ents, _ := os.ReadDir(save); len(ents) != 0 {
		t.Fatalf("read-only lake wrote %v", ents)
	}
	stopLake(t, newTestLake(t, LakeOptions{Root: root, SaveDir: save}))
	before, err := os.ReadFile(filepath.Join(save, SavedIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	writeOld(t, root, "extra.md", "# Extra\n\ncapybara\n")
	ro := newTestLake(t, LakeOptions{Root: root, SaveDir: save, ReadOnly: true})
	if !ro.Progress().Saved.Loaded || len(ro.Index().Search("capybara", 1)) == 0 {
		t.Fatalf("read-only lake: %+v", ro.Progress())
	}
	stopLake(t, ro)
	after, err := os.ReadFile(filepath.Join(save, SavedIndexFile))
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("read-only lake changed the saved index (err %v)", err)
	}
}

// TestLakeSaveWhileReading: a reader loading the saved index while another scanner
// saves it over and over never sees a partial file (temp + rename).
func TestLakeSaveWhileReading(t *testing.T) {
	root := oldLake(t, genLakeFiles(60))
	save := t.TempDir()
	opts, _ := Options{}.withDefaults()
	lr, err := openLake(root, "")
	if err != nil {
		t.Fatal(err)
	}
	w := newScanner(lr, opts)
	if _, _, err := w.scan(context.Background(), true, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.save(save); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.save(save); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 30 {
		r := newScanner(lr, opts)
		if _, err := r.load(save); err != nil {
			t.Errorf("load during saves: %v", err)
			break
		}
	}
	close(stop)
	wg.Wait()
	if m, _ := filepath.Glob(filepath.Join(save, "*.tmp-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// TestFaultSavedIndex: a saved index that is truncated, altered, of another format or
// splitter, empty or unreadable is discarded with exactly one WARN, the index is
// rebuilt from the lake, and a good file replaces the bad one.
func TestFaultSavedIndex(t *testing.T) {
	files := genLakeFiles(30)
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
		opts   Options // the restarted lake's options
		reason string
	}{
		{"truncated", func(t *testing.T, p string) {
			b, _ := os.ReadFile(p)
			must(t, os.WriteFile(p, b[:len(b)*2/3], 0o600))
		}, Options{}, "checksum mismatch"},
		{"truncated to a few bytes", func(t *testing.T, p string) { must(t, os.WriteFile(p, []byte("BZRAIDX\n\x01"), 0o600)) }, Options{}, "truncated"},
		{"empty", func(t *testing.T, p string) { must(t, os.WriteFile(p, nil, 0o600)) }, Options{}, "truncated"},
		{"flipped byte", func(t *testing.T, p string) {
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x40
			must(t, os.WriteFile(p, b, 0o600))
		}, Options{}, "checksum mismatch"},
		{"not an index", func(t *testing.T, p string) {
			must(t, os.WriteFile(p, bytes.Repeat([]byte("garbage!"), 100), 0o600))
		}, Options{}, "not a saved index"},
		{"wrong version", func(t *testing.T, p string) {
			b, _ := os.ReadFile(p)
			binary.LittleEndian.PutUint32(b[len(savedMagic):], FormatVersion+1)
			must(t, os.WriteFile(p, b, 0o600))
		}, Options{}, "format version changed"},
		{"splitter options changed", func(*testing.T, string) {}, Options{PassageTarget: 300}, "splitter or options changed"},
		{"unreadable", func(t *testing.T, p string) {
			if os.Geteuid() == 0 { // root reads files whatever their mode, but not a folder
				must(t, os.Remove(p))
				must(t, os.Mkdir(p, 0o700))
				return
			}
			must(t, os.Chmod(p, 0))
		}, Options{}, "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := oldLake(t, files)
			save := t.TempDir()
			stopLake(t, newTestLake(t, LakeOptions{Root: root, SaveDir: save}))
			path := filepath.Join(save, SavedIndexFile)
			tc.damage(t, path)
			var logs logBuf
			o := tc.opts
			o.Logger = logs.logger()
			l := newTestLake(t, LakeOptions{Root: root, SaveDir: save, Index: o})
			p := l.Progress()
			if p.Saved.Loaded || !strings.Contains(p.Saved.Discarded, tc.reason) {
				t.Fatalf("saved: %+v, want discarded for %q", p.Saved, tc.reason)
			}
			if n := logs.count("level=WARN msg=\"index: saved index discarded"); n != 1 {
				t.Fatalf("%d discard WARNs, want 1:\n%s", n, logs.buf.String())
			}
			if p.State != StateReady || l.Index().Stats().Files != 30 || p.LastScanRd != 30 {
				t.Fatalf("not rebuilt from the lake: %+v files %d", p, l.Index().Stats().Files)
			}
			stopLake(t, l)
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				// a folder in the file's place is left alone: the save fails and says so
				if l.Progress().Saved.SaveError == "" {
					t.Fatal("a failed save is not reported")
				}
				return
			}
			again := newTestLake(t, LakeOptions{Root: root, SaveDir: save, Index: tc.opts})
			if !again.Progress().Saved.Loaded {
				t.Fatalf("the rebuilt index was not saved: %+v", again.Progress().Saved)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLakeOptionsAndLifecycle: bad options are refused, the root is checked at Start,
// a lake not started shuts down at once, Shutdown is idempotent, and Ready waits.
func TestLakeOptionsAndLifecycle(t *testing.T) {
	for _, o := range []LakeOptions{{}, {Root: "x", Debounce: -1}, {Root: "x", MaxWatchedDirs: -1},
		{Root: "x", Index: Options{MaxFiles: -1}}} {
		if _, err := NewLake(o); err == nil {
			t.Fatalf("NewLake(%+v) accepted", o)
		}
	}
	l, err := NewLake(LakeOptions{Root: filepath.Join(t.TempDir(), "missing")})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Start on a missing root: %v", err)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.Index() == nil || l.Index().Len() != 0 || len(l.Index().Search("anything", 3)) != 0 {
		t.Fatal("a lake not ready must serve an empty index")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.WaitReady(ctx); err == nil {
		t.Fatal("WaitReady on a lake that never started returned nil")
	}
	ok := newTestLake(t, LakeOptions{Root: oldLake(t, genLakeFiles(2))})
	if err := ok.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopLake(t, ok)
	stopLake(t, ok)
}

// FuzzSavedIndex: decoding arbitrary bytes as a saved index never panics, and what
// decodes assembles into a searchable index.
func FuzzSavedIndex(f *testing.F) {
	dir := f.TempDir()
	for rel, text := range genLakeFiles(3) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		_ = os.WriteFile(p, []byte(text), 0o644)
	}
	opts, _ := Options{}.withDefaults()
	lr, err := openLake(dir, "")
	if err != nil {
		f.Fatal(err)
	}
	s := newScanner(lr, opts)
	if _, _, err := s.scan(context.Background(), true, nil, nil); err != nil {
		f.Fatal(err)
	}
	save := f.TempDir()
	if _, err := s.save(save); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(save, SavedIndexFile))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(savedMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newScanner(lr, opts)
		if err := r.decode(b); err != nil {
			return
		}
		files := make([]namedEntry, len(r.order))
		for i, rel := range r.order {
			files[i] = namedEntry{rel, r.entries[rel]}
		}
		ix := assemble(files, r.dict, &r.opts, Stats{}, time.Now())
		ix.Search("doc more", 5)
	})
}

// FuzzSavedPayload: arbitrary payloads behind a valid header and checksum (so the
// fuzzer reaches the decoder) never panic.
func FuzzSavedPayload(f *testing.F) {
	opts, _ := Options{}.withDefaults()
	f.Add([]byte{1, 2, 'a', 'b', 1, 1, 'x'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		var buf bytes.Buffer
		fp := fingerprint(&opts)
		buf.WriteString(savedMagic)
		_ = binary.Write(&buf, binary.LittleEndian, uint32(FormatVersion))
		buf.Write(fp[:])
		buf.Write(payload)
		_ = binary.Write(&buf, binary.LittleEndian, uint64(len(payload)))
		sum := sha256Sum(buf.Bytes())
		buf.Write(sum[:])
		r := &scanner{opts: opts, entries: map[string]*fileEntry{}, dict: newDict()}
		if err := r.decode(buf.Bytes()); err != nil {
			return
		}
		files := make([]namedEntry, len(r.order))
		for i, rel := range r.order {
			files[i] = namedEntry{rel, r.entries[rel]}
		}
		assemble(files, r.dict, &r.opts, Stats{}, time.Now()).Search("a b", 3)
	})
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
