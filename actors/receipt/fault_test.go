package receipt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/internal/catalog"
)

// logBuffer is a concurrency-safe log sink for assertions on log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func counterValue(t *testing.T, set *metrics.Set, name string) string {
	t.Helper()
	var b bytes.Buffer
	set.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("metric %s not exposed", name)
	return ""
}

// writeLog issues n receipts, seals them, shuts the Service down and returns the ids,
// the sealed receipts and the path of the active segment.
func writeLog(t testing.TB, dir string, n int) ([]string, [][]byte, string) {
	t.Helper()
	s, err := newService(t, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range n {
		ids[i] = mustIssue(t, s, input(i)).ReceiptID
	}
	flush(t, s)
	raws := make([][]byte, n)
	for i, id := range ids {
		raws[i], _ = getMap(t, s, id)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	return ids, raws, segs[0]
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestFaultReceiptForgedLine appends a forged line for an existing receipt id to the
// active segment: at reopen the line is refused (logged with segment and offset,
// counted, health false) and GET still returns the genuine receipt.
func TestFaultReceiptForgedLine(t *testing.T) {
	dir := t.TempDir()
	ids, raws, seg := writeLog(t, dir, 20)
	fi, _ := os.Stat(seg)
	forgedAt := fi.Size()
	appendFile(t, seg, `{"receipt_id":"`+ids[7]+`","forged":true}`+"\n")

	var logs logBuffer
	set := metrics.NewSet()
	s := startService(t, Options{Dir: dir, Logger: logs.logger(), Metrics: set})
	got, err := s.Get(ids[7])
	if err != nil || !bytes.Equal(got, raws[7]) {
		t.Fatalf("GET after the forgery: %v\n%s", err, got)
	}
	if !s.Verify(got).Valid {
		t.Fatal("genuine receipt no longer verifies")
	}
	want := fmt.Sprintf("segment=%s offset=%d", seg, forgedAt)
	if l := logs.String(); !strings.Contains(l, "receipt log record refused") || !strings.Contains(l, want) {
		t.Fatalf("no refusal naming %q in the log:\n%s", want, l)
	}
	if st := s.Stats(); st.RejectedRecords != 1 || st.DuplicateRecords != 0 {
		t.Fatalf("stats %+v", st)
	}
	if v := counterValue(t, set, "sovereign_receipt_log_rejected_total"); v != "1" {
		t.Fatalf("sovereign_receipt_log_rejected_total %s", v)
	}
	if s.LogOK() {
		t.Fatal("LogOK true with a rejected record")
	}
	// The log keeps working.
	r := mustIssue(t, s, input(100))
	flush(t, s)
	if raw, err := s.Get(r.ReceiptID); err != nil || !s.Verify(raw).Valid {
		t.Fatalf("new receipt after the forgery: %v", err)
	}
}

// recordLine finds the line of the record of type typ for id in the segment data and
// returns its start and end (without the newline).
func recordLine(t *testing.T, data []byte, typ byte, id string) (int, int) {
	t.Helper()
	off := 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break
		}
		line := data[off : off+nl]
		if len(line) > frameHead && line[77] == typ && bytes.Contains(line, []byte(`"receipt_id":"`+id+`"`)) {
			return off, off + nl
		}
		off += nl + 1
	}
	t.Fatalf("no %c record for %s", typ, id)
	return 0, 0
}

// flipHex changes one lower-case hex digit of line's raw part (JSON stays valid).
func flipHex(line []byte, from int) {
	for i := from; i < len(line); i++ {
		if c := line[i]; c >= 'a' && c <= 'f' {
			line[i] = 'a' + (c-'a'+1)%6
			return
		}
	}
	panic("no hex digit")
}

// TestFaultReceiptLogDamage damages a sealed log in several ways and reopens it. The
// invariant in every case: each receipt the log acknowledged is retrievable and valid
// after Flush (a receipt whose sealed record is lost or refused but whose issued
// record is intact is sealed again), nothing forged is indexed, and the damage is
// reported (rejected records, torn bytes).
func TestFaultReceiptLogDamage(t *testing.T) {
	cases := []struct {
		name       string
		damage     func(t *testing.T, data []byte, ids []string) []byte
		rejected   int
		torn       bool
		duplicates int
		// lost: receipts whose only body was in a damaged issued record (a compact
		// sealed record holds no body): refused as not found, never served altered.
		lost []int
	}{
		{"truncated last record", func(t *testing.T, data []byte, _ []string) []byte {
			return data[:len(data)-10]
		}, 0, true, 0, nil},
		{"bit flip in a sealed record", func(t *testing.T, data []byte, ids []string) []byte {
			a, _ := recordLine(t, data, recSeal, ids[3])
			flipHex(data, a+frameHead+200)
			return data
		}, 1, false, 0, nil},
		{"bit flip in an issued record", func(t *testing.T, data []byte, ids []string) []byte {
			a, _ := recordLine(t, data, recIssued, ids[5])
			flipHex(data, a+frameHead+20)
			return data
		}, 1, false, 0, []int{5}},
		{"bit flip in a MAC", func(t *testing.T, data []byte, ids []string) []byte {
			a, _ := recordLine(t, data, recSeal, ids[8])
			flipHex(data, a+6)
			return data
		}, 1, false, 0, nil},
		{"genuine record copied to the end", func(t *testing.T, data []byte, ids []string) []byte {
			a, b := recordLine(t, data, recSeal, ids[2])
			return append(data, append(bytes.Clone(data[a:b]), '\n')...)
		}, 1, false, 0, nil},
		{"framed forgery with a zero MAC", func(t *testing.T, data []byte, ids []string) []byte {
			a, b := recordLine(t, data, recSeal, ids[4])
			line := bytes.Clone(data[a:b])
			copy(line[6:70], bytes.Repeat([]byte{'0'}, 64))
			flipHex(line, frameHead+compactLeafAt) // another leaf
			return append(data, append(line, '\n')...)
		}, 1, false, 0, nil},
		{"newline removed between two records", func(t *testing.T, data []byte, ids []string) []byte {
			_, b := recordLine(t, data, recSeal, ids[6])
			data[b] = ' '
			return data
		}, 1, false, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ids, _, seg := writeLog(t, dir, 12)
			data, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seg, tc.damage(t, data, ids), 0o600); err != nil {
				t.Fatal(err)
			}
			s := startService(t, Options{Dir: dir, BatchInterval: time.Hour})
			pending := 0
			for i, id := range ids { // before the re-seal: sealed or pending, never unknown
				if _, err := s.Get(id); errors.Is(err, ErrPending) {
					pending++
				} else if slices.Contains(tc.lost, i) {
					if !errors.Is(err, ErrNotFound) {
						t.Fatalf("receipt %d (body damaged): %v; want not found", i, err)
					}
				} else if err != nil {
					t.Fatalf("receipt %d before Flush: %v", i, err)
				}
			}
			if tc.torn && pending == 0 {
				t.Fatal("the receipt whose seal was cut is not pending")
			}
			flush(t, s)
			st := s.Stats()
			if st.RejectedRecords != tc.rejected || st.DuplicateRecords != tc.duplicates {
				t.Fatalf("rejected %d duplicates %d; want %d %d", st.RejectedRecords, st.DuplicateRecords, tc.rejected, tc.duplicates)
			}
			if got := s.st.cutBytes > 0; got != tc.torn {
				t.Fatalf("torn tail cut %v; want %v", got, tc.torn)
			}
			if s.LogOK() != (tc.rejected == 0) {
				t.Fatalf("LogOK %v with %d rejected records", s.LogOK(), tc.rejected)
			}
			for i, id := range ids {
				raw, err := s.Get(id)
				if slices.Contains(tc.lost, i) {
					if !errors.Is(err, ErrNotFound) {
						t.Fatalf("receipt %d (body damaged): %v; want not found", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("receipt %d: %v", i, err)
				}
				if res := s.Verify(raw); !res.Valid {
					t.Fatalf("receipt %d: %+v", i, res)
				}
				if !bytes.Contains(raw, []byte(`"status":"accepted"`)) {
					t.Fatalf("receipt %d altered: %s", i, raw)
				}
			}
		})
	}
}

var errInjected = errors.New("injected: no space left on device")

// TestFaultReceiptStorageRefused makes the log refuse writes through the store's fault
// hook: Issue answers ErrStorage (503 STORAGE_UNAVAILABLE), the failure is counted and
// LogOK is false, nothing half-written stays in the log, and once the disk works again
// Issue succeeds, LogOK is true, and receipts sealed during the failure get sealed.
func TestFaultReceiptStorageRefused(t *testing.T) {
	cases := []struct {
		name string
		fail map[string]bool
	}{
		{"write refused", map[string]bool{"write": true}},
		{"fsync refused", map[string]bool{"sync": true}},
		{"fsync and cut back refused", map[string]bool{"sync": true, "truncate": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var failing atomic.Bool
			set := metrics.NewSet()
			o := Options{Dir: dir, Metrics: set, faults: func(op string) error {
				if failing.Load() && tc.fail[op] {
					return errInjected
				}
				return nil
			}}
			s := startService(t, o)
			good := []string{mustIssue(t, s, input(0)).ReceiptID}
			flush(t, s)
			segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl"))
			before, _ := os.Stat(segs[0])

			failing.Store(true)
			for i := range 3 {
				r, err := s.Issue(input(10 + i))
				if !errors.Is(err, ErrStorage) {
					t.Fatalf("Issue with a failing disk: %v %+v", err, r)
				}
				if p := catalog.Lookup(err); p.HTTP != 503 || p.Code != "STORAGE_UNAVAILABLE" || strings.Contains(p.Message, "injected") {
					t.Fatalf("public rendering %+v", p)
				}
			}
			if s.LogOK() || !s.Stats().WriteFailing {
				t.Fatal("LogOK while writes fail")
			}
			if v := counterValue(t, set, "sovereign_receipt_write_errors_total"); v != "3" {
				t.Fatalf("sovereign_receipt_write_errors_total %s after 3 failed writes", v)
			}
			if !tc.fail["truncate"] {
				if now, _ := os.Stat(segs[0]); now.Size() != before.Size() {
					t.Fatalf("failed writes left %d bytes", now.Size()-before.Size())
				}
			}

			failing.Store(false)
			for i := range 3 {
				good = append(good, mustIssue(t, s, input(20+i)).ReceiptID)
			}
			if !s.LogOK() || s.Stats().WriteFailing {
				t.Fatal("LogOK false after a good write")
			}
			flush(t, s)
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			s2 := startService(t, Options{Dir: dir})
			if st := s2.Stats(); st.RejectedRecords != 0 || st.Stored != len(good) {
				t.Fatalf("after reopen %+v; want %d receipts, none rejected", st, len(good))
			}
			for _, id := range good {
				if raw, err := s2.Get(id); err != nil || !s2.Verify(raw).Valid {
					t.Fatalf("%s: %v", id, err)
				}
			}
		})
	}
}

// TestFaultReceiptSealWriteRefused fails the write of sealed records only (the issued
// records are already durable): the receipts stay pending, never lost, and are sealed
// after the next good write.
func TestFaultReceiptSealWriteRefused(t *testing.T) {
	var failing atomic.Bool
	s := startService(t, Options{BatchInterval: time.Hour, faults: func(op string) error {
		if failing.Load() {
			return errInjected
		}
		return nil
	}})
	var ids []string
	for i := range 5 {
		ids = append(ids, mustIssue(t, s, input(i)).ReceiptID)
	}
	failing.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded with a failing disk")
	}
	for _, id := range ids {
		if _, err := s.Get(id); !errors.Is(err, ErrPending) {
			t.Fatalf("%s while its seal failed: %v", id, err)
		}
	}
	if s.LogOK() {
		t.Fatal("LogOK while writes fail")
	}
	failing.Store(false)
	ids = append(ids, mustIssue(t, s, input(9)).ReceiptID) // a good write re-queues the seals
	flush(t, s)
	for _, id := range ids {
		if raw, err := s.Get(id); err != nil || !s.Verify(raw).Valid {
			t.Fatalf("%s after recovery: %v", id, err)
		}
	}
}

// TestFaultReceiptFsyncHangs blocks the fsync: Issue gives up after IssueTimeout with
// ErrStorage instead of waiting for ever, and LogOK is false until a write completes.
func TestFaultReceiptFsyncHangs(t *testing.T) {
	release := make(chan struct{})
	var hang atomic.Bool
	s := startService(t, Options{IssueTimeout: 50 * time.Millisecond, faults: func(op string) error {
		if op == "sync" && hang.Load() {
			<-release
		}
		return nil
	}})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the Service's own cleanup (LIFO)
	mustIssue(t, s, input(0))
	hang.Store(true)
	if _, err := s.Issue(input(1)); !errors.Is(err, ErrStorage) {
		t.Fatalf("Issue with a hung fsync: %v", err)
	}
	if s.LogOK() {
		t.Fatal("LogOK with a hung fsync")
	}
	hang.Store(false)
	unblock()
	mustIssue(t, s, input(2))
	if !s.LogOK() {
		t.Fatal("LogOK false after a completed write")
	}
}

// TestLegacySegmentMigration opens a log written before record MACs (bare receipts, no
// header): its receipts are served, the segment is reported as legacy and compressed,
// new records go to a new MAC'd segment, and a later duplicate of an id in the legacy
// segment never replaces the first record.
func TestLegacySegmentMigration(t *testing.T) {
	src := t.TempDir()
	ids, raws, seg := writeLog(t, src, 6)
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	_ = data
	var legacy []byte
	for _, raw := range raws {
		legacy = append(append(legacy, raw...), '\n')
	}
	forged := bytes.Replace(raws[0], []byte(`"status":"accepted"`), []byte(`"status":"rejected"`), 1)
	legacy = append(append(legacy, forged...), '\n')
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "seg-00000001.jsonl"), legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startService(t, Options{Dir: dir})
	if st := s.Stats(); st.LegacySegments != 1 || st.DuplicateRecords != 1 || st.RejectedRecords != 0 {
		t.Fatalf("stats %+v", st)
	}
	for i, id := range ids {
		if got, err := s.Get(id); err != nil || !bytes.Equal(got, raws[i]) {
			t.Fatalf("legacy receipt %d: %v", i, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "seg-00000001.jsonl.zst")); err != nil {
		t.Fatalf("legacy segment not compressed: %v", err)
	}
	r := mustIssue(t, s, input(50))
	flush(t, s)
	active, err := os.ReadFile(filepath.Join(dir, "seg-00000002.jsonl"))
	if err != nil || !bytes.HasPrefix(active, []byte(logHeader)) {
		t.Fatalf("new segment: %v %.40q", err, active)
	}
	if raw, err := s.Get(r.ReceiptID); err != nil || !s.Verify(raw).Valid {
		t.Fatalf("new receipt: %v", err)
	}
}

// FuzzLogSegment drives the segment scanner with arbitrary bytes after the header (a
// tampered or damaged log file): it never panics, the good prefix lies within the data,
// and every indexed position holds the raw of a record whose MAC checked, for the id
// it is indexed under.
func FuzzLogSegment(f *testing.F) {
	_, _, seg := writeLog(f, f.TempDir(), 3)
	genuine, err := os.ReadFile(seg)
	if err != nil {
		f.Fatal(err)
	}
	body := genuine[len(logHeader):]
	f.Add(body)
	f.Add(body[:len(body)/2])
	f.Add([]byte("{\"receipt_id\":\"qr-1772323200000-0123456789abcdef\",\"forged\":true}\n"))
	f.Add([]byte("\n\n\x00\xff{\"m\":\"\n"))
	key := testSecret(f).logMACKey()
	f.Fuzz(func(t *testing.T, data []byte) {
		st := &store{opts: storeOptions{logger: slog.New(slog.DiscardHandler)},
			index: map[idKey]position{}, unsealed: map[idKey]*leafMsg{}, loadMAC: newMacer(key)}
		all := append([]byte(logHeader), data...)
		good := st.scanV2(&segment{num: 1}, "seg-00000001.jsonl", all)
		if good < len(logHeader) || good > len(all) {
			t.Fatalf("good prefix %d of %d", good, len(all))
		}
		for k, p := range st.index {
			end := int(p.off) + int(p.n)
			if end > len(all) || int(p.off) < len(logHeader)+frameHead {
				t.Fatalf("position %+v outside the data (%d bytes)", p, len(all))
			}
			lineStart := int(p.off) - frameHead
			typ, raw, reason := newMacer(key).checkFrame(all[lineStart:end+1], 1, int64(lineStart))
			wantTyp := byte(recIssued)
			if p.sealed && p.cn == 0 {
				wantTyp = recSealed
			}
			if reason != "" || typ != wantTyp || !bytes.Equal(raw, all[p.off:end]) {
				t.Fatalf("indexed record at %d does not check: %q", lineStart, reason)
			}
			if p.cn > 0 {
				cs, ce := int(p.coff)-frameHead, int(p.coff)+int(p.cn)
				if ce >= len(all) || cs < len(logHeader) {
					t.Fatalf("compact position %+v outside the data", p)
				}
				ctyp, craw, creason := newMacer(key).checkFrame(all[cs:ce+1], 1, int64(cs))
				if creason != "" || ctyp != recSeal {
					t.Fatalf("compact record at %d does not check: %q", cs, creason)
				}
				if _, err := joinCompact(raw, craw); err != nil {
					t.Fatalf("compact record at %d: %v", cs, err)
				}
			}
			var v struct {
				ReceiptID string `json:"receipt_id"`
			}
			if json.Unmarshal(raw, &v) != nil {
				t.Fatalf("indexed record at %d is not JSON", lineStart)
			}
			if got, _ := parseIDKey(v.ReceiptID); got != k {
				t.Fatalf("record at %d indexed under another id", lineStart)
			}
		}
	})
}
