package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// failingDisk is an Options.Fault that refuses the operations it is armed for.
type failingDisk struct {
	armed atomic.Bool
	match func(op, path string) bool
	err   func() error
}

func (d *failingDisk) fault(op, path string) error {
	if d.armed.Load() && d.match(op, path) {
		return d.err()
	}
	return nil
}

func metricValue(t *testing.T, set *metrics.Set, name string) string {
	t.Helper()
	var b bytes.Buffer
	set.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return "<missing>"
}

// TestFaultLedgerWriteRefused: a batch whose write, fsync or witness update fails is
// answered with an error (nothing acknowledged), the ledger says it is not writable
// and counts the error, the files are cut back, and once the disk accepts writes the
// next append takes the next sequence and the chain (and a reopen) verifies.
func TestFaultLedgerWriteRefused(t *testing.T) {
	devFull, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("/dev/full: %v", err)
	}
	t.Cleanup(func() { devFull.Close() })
	seg := func(op string) func(string, string) bool {
		return func(o, p string) bool { return o == op && strings.HasSuffix(p, logExt) }
	}
	head := func(op string) func(string, string) bool {
		return func(o, p string) bool { return o == op && strings.HasSuffix(p, headName) }
	}
	eio := func() error { return syscall.EIO }
	tests := []struct {
		name     string
		match    func(op, path string) bool
		err      func() error
		wantErr  error
		wantCode string
	}{
		{"segment write refused by /dev/full (real ENOSPC)", seg("write"),
			func() error { _, err := devFull.Write([]byte{0}); return err }, ErrDiskFull, "SEL_DISK_FULL"},
		{"segment write EIO", seg("write"), eio, ErrStorage, "SEL_STORAGE"},
		{"segment fsync EIO", seg("fsync"), eio, ErrStorage, "SEL_STORAGE"},
		{"witness write EIO", head("write"), eio, ErrStorage, "SEL_STORAGE"},
		{"witness fsync EIO", head("fsync"), eio, ErrStorage, "SEL_STORAGE"},
		{"segment fsync and the cut back both fail", func(o, p string) bool {
			return (o == "fsync" || o == "truncate") && strings.HasSuffix(p, logExt)
		}, eio, ErrStorage, "SEL_STORAGE"},
		{"read-only", seg("write"), func() error { return syscall.EROFS }, ErrReadOnly, "SEL_READ_ONLY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			disk := &failingDisk{match: tt.match, err: tt.err}
			set := metrics.NewSet()
			l := startLedger(t, Options{Dir: dir, Metrics: set, Fault: disk.fault})
			if v := metricValue(t, set, "sovereign_sel_write_errors_total"); v != "0" {
				t.Fatalf("write errors metric at start %s; want 0", v)
			}
			for i := range 3 {
				commit(t, l, sample(fmt.Sprintf("before %d", i)))
			}
			disk.armed.Store(true)
			for i := range 2 { // the second one finds the store still failing
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := l.Commit(ctx, sample(fmt.Sprintf("refused %d", i)))
				cancel()
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("commit on a failing disk: %v; want %v", err, tt.wantErr)
				}
			}
			if st := l.Stats(); st.Writable || st.WriteError != tt.wantCode || st.Committed != 3 {
				t.Fatalf("stats while failing %+v; want not writable, %s, 3 committed", st, tt.wantCode)
			}
			if v := metricValue(t, set, "sovereign_sel_write_errors_total"); v != "2" {
				t.Errorf("write errors metric %s; want 2", v)
			}
			disk.armed.Store(false)
			if a := commit(t, l, sample("after")); a.Sequence != 3 {
				t.Errorf("sequence after the disk recovered %d; want 3", a.Sequence)
			}
			if st := l.Stats(); !st.Writable || st.WriteError != "" {
				t.Errorf("stats after recovery %+v; want writable", st)
			}
			if err := l.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			l2, err := Open(Options{Dir: dir})
			if err != nil {
				t.Fatalf("reopen after recovery: %v", err)
			}
			defer l2.Close()
			if v := l2.Verify(); !v.Valid || v.Episodes != 4 {
				t.Errorf("reopened %+v; want 4 valid episodes", v)
			}
		})
	}
}

// recordOffsets returns the byte offset of every record of a log segment.
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := 0; off < len(b); {
		_, n, err := decodeRecord(b[off:])
		if err != nil {
			t.Fatalf("%s offset %d: %v", path, off, err)
		}
		offs = append(offs, int64(off))
		off += n
	}
	return offs
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m := append(glob(t, dir, "seg-*.log"), glob(t, dir, "seg-*.zst")...)
	sort.Strings(m)
	return m
}

func firstOf(t *testing.T, path string) uint64 {
	t.Helper()
	var n uint64
	if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), logExt), zstExt), "seg-%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func rewriteLast(t *testing.T, path string, edit func(e *Episode)) {
	t.Helper()
	offs := recordOffsets(t, path)
	b, _ := os.ReadFile(path)
	last := offs[len(offs)-1]
	e, _, err := decodeRecord(b[last:])
	if err != nil {
		t.Fatal(err)
	}
	edit(&e)
	out, err := appendRecord(append([]byte{}, b[:last]...), &e)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o640); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFaultLedgerTamper: every way of losing or altering an acknowledged episode is
// caught by verify (naming file, offset and sequence) and refuses a writable open
// unless AcceptLoss; a torn record that was never acknowledged is still cut silently.
func TestFaultLedgerTamper(t *testing.T) {
	const n = 40
	type want struct {
		damaged bool
		file    string // base name expected in the damage ("" = any)
		offset  int64  // -1 = any
		seq     uint64
		eps     int // episodes after a clean (or accepted) open
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string, as []Appended) want
	}{
		{"cut 10 bytes off the last acknowledged record", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			p := segs[len(segs)-1]
			offs := recordOffsets(t, p)
			fi, _ := os.Stat(p)
			must(t, os.Truncate(p, fi.Size()-10))
			return want{true, filepath.Base(p), offs[len(offs)-1], n - 1, n - 1}
		}},
		{"cut the whole last record", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			p := segs[len(segs)-1]
			offs := recordOffsets(t, p)
			must(t, os.Truncate(p, offs[len(offs)-1]))
			return want{true, filepath.Base(p), offs[len(offs)-1], n - 1, n - 1}
		}},
		{"delete a middle segment", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			mid := segs[len(segs)/2]
			must(t, os.Remove(mid))
			return want{true, filepath.Base(segs[len(segs)/2+1]), -1, firstOf(t, mid), -1}
		}},
		{"delete every file of the ledger folder", func(t *testing.T, dir string, as []Appended) want {
			ents, err := os.ReadDir(dir)
			must(t, err)
			for _, e := range ents {
				must(t, os.RemoveAll(filepath.Join(dir, e.Name())))
			}
			return want{true, headName, 0, 0, 0}
		}},
		{"remove the ledger folder", func(t *testing.T, dir string, as []Appended) want {
			must(t, os.RemoveAll(dir))
			return want{true, headName, 0, 0, 0}
		}},
		{"delete the last segment", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			last := segs[len(segs)-1]
			must(t, os.Remove(last))
			return want{true, "", -1, firstOf(t, last), int(firstOf(t, last))}
		}},
		{"rewrite a field in the tail, checksum fixed", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			p := segs[len(segs)-1]
			offs := recordOffsets(t, p)
			rewriteLast(t, p, func(e *Episode) { e.Context = "rewritten" })
			return want{true, filepath.Base(p), offs[len(offs)-1], n - 1, -1}
		}},
		{"rewrite a field in the tail, every hash recomputed", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			p := segs[len(segs)-1]
			offs := recordOffsets(t, p)
			rewriteLast(t, p, func(e *Episode) { e.Context = "rewritten"; seal(e, e.Sequence, e.PrevHash) })
			return want{true, filepath.Base(p), offs[len(offs)-1], n - 1, n}
		}},
		{"rewrite a byte in the tail, checksum not fixed", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			p := segs[len(segs)-1]
			offs := recordOffsets(t, p)
			b, _ := os.ReadFile(p)
			b[offs[len(offs)-1]+recordHeader+3] ^= 0x20
			must(t, os.WriteFile(p, b, 0o640))
			return want{true, filepath.Base(p), offs[len(offs)-1], n - 1, n - 1}
		}},
		{"append a forged record", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			p := segs[len(segs)-1]
			fi, _ := os.Stat(p)
			e := sample("forged")
			seal(&e, n, as[n-1].ChainHash)
			e.Context = "forged after sealing" // its hashes no longer recompute
			rec, _ := appendRecord(nil, &e)
			appendBytes(t, p, rec)
			return want{true, filepath.Base(p), fi.Size(), n, -1}
		}},
		{"delete the witness", func(t *testing.T, dir string, as []Appended) want {
			must(t, os.Remove(filepath.Join(dir, headName)))
			return want{true, headName, 0, 0, n}
		}},
		{"torn unacknowledged tail is cut silently", func(t *testing.T, dir string, as []Appended) want {
			segs := segFiles(t, dir)
			e := sample("torn")
			seal(&e, n, as[n-1].ChainHash)
			rec, _ := appendRecord(nil, &e)
			appendBytes(t, segs[len(segs)-1], rec[:len(rec)-7])
			return want{eps: n}
		}},
		{"complete unacknowledged record past the witness is kept", func(t *testing.T, dir string, as []Appended) want {
			// A crash after the segment fsync and before the witness update: the
			// record is whole and chains on; it cannot be told from a forgery that
			// recomputes every hash (documented in doc.go).
			segs := segFiles(t, dir)
			e := sample("written, not acknowledged")
			e, _ = normalize(e)
			e.Timestamp = 1
			seal(&e, n, as[n-1].ChainHash)
			rec, _ := appendRecord(nil, &e)
			appendBytes(t, segs[len(segs)-1], rec)
			return want{eps: n + 1}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// Closed segments (some sealed by then), and an active one holding the
			// last 15 episodes that does not roll.
			as := fill(t, Options{Dir: dir, SegmentBytes: 6 << 10}, n-15)
			as = append(as, fill(t, Options{Dir: dir, SegmentBytes: 1 << 30}, 15)...)
			if len(segFiles(t, dir)) < 3 {
				t.Fatalf("%d segments; want >= 3", len(segFiles(t, dir)))
			}
			w := tt.tamper(t, dir, as)

			// bizra sel verify's view.
			v, err := VerifyDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !w.damaged {
				if !v.Valid || v.Damage != nil {
					t.Fatalf("verify %+v damage %v; want valid", v, v.Damage)
				}
			} else {
				d := v.Damage
				if v.Valid || d == nil || v.FirstBadSequence == nil || *v.FirstBadSequence != w.seq {
					t.Fatalf("verify %+v damage %v; want invalid at %d", v, d, w.seq)
				}
				if d.Sequence != w.seq || (w.file != "" && d.File != w.file) || (w.offset >= 0 && d.Offset != w.offset) {
					t.Fatalf("damage %v; want file %q offset %d sequence %d", d, w.file, w.offset, w.seq)
				}
			}

			// A start without AcceptLoss.
			l, err := Open(Options{Dir: dir})
			if w.damaged {
				if !errors.Is(err, ErrLoss) {
					t.Fatalf("open of a damaged ledger: %v; want ErrLoss", err)
				}
				msg := err.Error()
				if !strings.Contains(msg, fmt.Sprintf("sequence %d", w.seq)) || !strings.Contains(msg, " offset ") ||
					strings.Contains(msg, "\n") {
					t.Fatalf("refusal %q does not name offset and sequence %d on one line", msg, w.seq)
				}
				// Accepted: it starts, is not verified, appends, and the next start
				// is not refused again for the same damage.
				l, err = Open(Options{Dir: dir, AcceptLoss: true, System: newSystem(t)})
				if err != nil {
					t.Fatalf("open with AcceptLoss: %v", err)
				}
				if l.Stats().Verified || l.Damage() == nil {
					t.Errorf("accepted loss reports verified %+v", l.Stats())
				}
			} else if err != nil {
				t.Fatalf("open: %v", err)
			}
			if w.eps >= 0 && l.Len() != w.eps {
				t.Errorf("%d episodes after open; want %d", l.Len(), w.eps)
			}
			if l.opts.System == nil {
				l.opts.System = newSystem(t)
			}
			if err := l.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			a := commit(t, l, sample("after"))
			if err := l.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !w.damaged && a.Sequence != uint64(w.eps) {
				t.Errorf("next sequence %d; want %d", a.Sequence, w.eps)
			}
			// Two more starts without AcceptLoss, appending in between: an accepted
			// damage stays accepted (and the appended episodes stay).
			for i := range 2 {
				l2, err := Open(Options{Dir: dir, System: newSystem(t)})
				if err != nil {
					t.Fatalf("open %d after the loss was accepted: %v", i+1, err)
				}
				if _, err := l2.BySequence(a.Sequence); err != nil {
					t.Errorf("episode appended after the open lost: %v", err)
				}
				if err := l2.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				a = commit(t, l2, sample(fmt.Sprintf("after %d", i)))
				if err := l2.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
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

// TestFaultLedgerVerifyWhileWriting: a read-only verify of a folder that a running
// ledger is appending to (sel verify beside a live node) never reports damage: it
// reads the witness before the segments.
func TestFaultLedgerVerifyWhileWriting(t *testing.T) {
	dir := t.TempDir()
	l := startLedger(t, Options{Dir: dir})
	done := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := l.Commit(ctx, sample(fmt.Sprintf("writer %d episode %d", w, i)))
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	t.Cleanup(func() { close(done); wg.Wait() })
	// Verify while commits land: wait for the first, then verify at least 10 times and
	// until more were committed during the verifications (bounded, so a stalled writer
	// fails the test instead of hanging it).
	deadline := time.Now().Add(20 * time.Second)
	for l.Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no episode was committed within 20 s")
		}
		time.Sleep(time.Millisecond)
	}
	before := l.Len()
	for i := 0; i < 10 || l.Len() == before; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("nothing was committed during %d verifications", i)
		}
		v, err := VerifyDir(dir)
		if err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
		if !v.Valid || v.Damage != nil {
			t.Fatalf("verify %d of a live ledger: %+v damage %v", i, v, v.Damage)
		}
	}
	select {
	case err := <-errs:
		t.Fatalf("commit: %v", err)
	default:
	}
}

// TestFaultLedgerAcceptedLossLogOneReason: a start that accepts a cut tail logs the
// damage with its reason, and no second "sel unreadable records" line with an empty
// reason.
func TestFaultLedgerAcceptedLossLogOneReason(t *testing.T) {
	dir := t.TempDir()
	fill(t, Options{Dir: dir}, 5)
	segs := segFiles(t, dir)
	p := segs[len(segs)-1]
	fi, _ := os.Stat(p)
	must(t, os.Truncate(p, fi.Size()-10))
	var logs bytes.Buffer
	l, err := Open(Options{Dir: dir, AcceptLoss: true, System: newSystem(t),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	out := logs.String()
	if !strings.Contains(out, "security_event=sel_loss_accepted") {
		t.Fatalf("no security event logged:\n%s", out)
	}
	if strings.Contains(out, `reason=""`) {
		t.Fatalf("a log line with an empty reason:\n%s", out)
	}
}

// TestFaultLedgerStorageErrorNamesPathOnce: a ledger file that is a directory is
// refused in one line that names the file once.
func TestFaultLedgerStorageErrorNamesPathOnce(t *testing.T) {
	dir := t.TempDir()
	fill(t, Options{Dir: dir}, 2)
	head := filepath.Join(dir, headName)
	must(t, os.Remove(head))
	must(t, os.Mkdir(head, 0o700))
	_, err := Open(Options{Dir: dir, System: newSystem(t)})
	if err == nil {
		t.Fatal("a HEAD that is a directory opened")
	}
	if msg := err.Error(); strings.Count(msg, head) != 1 || strings.Contains(msg, "\n") {
		t.Fatalf("refusal %q does not name %s exactly once on one line", msg, head)
	}
}
