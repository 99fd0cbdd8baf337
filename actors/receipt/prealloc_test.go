package receipt

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// activeSegment returns the path and content of the newest plain segment.
func activeSegment(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl"))
	if len(segs) == 0 {
		t.Fatal("no plain segment")
	}
	slices.Sort(segs)
	p := segs[len(segs)-1]
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

// TestSpareSegmentsPreallocated: after a rotation the active segment is a spare
// prepared in the background (header, then zeros up to SegmentBytes plus an eighth),
// records overwrite its zeros, every receipt stays retrievable across restarts, and no
// spare (.tmp) is left behind by Shutdown. A torn record in the zero tail is zeroed
// again on open (the file keeps its size), and a zero inside a record is damage.
func TestSpareSegmentsPreallocated(t *testing.T) {
	dir := t.TempDir()
	sys := quietSystem(t)
	o := Options{System: sys, Dir: dir, SegmentBytes: 16 << 10}
	prealloc := preallocBytes(Options{SegmentBytes: o.SegmentBytes})
	s := startService(t, o)
	var ids []string
	for i := range 40 {
		ids = append(ids, mustIssue(t, s, input(i)).ReceiptID)
		flush(t, s) // also waits for the background: the next spare is ready before the next rotation
	}
	path, data := activeSegment(t, dir)
	for try := 0; len(bytes.TrimRight(data, "\x00")) == len(logHeader) && try < 3; try++ {
		// Rotated just now: one more receipt, so the spare holds records.
		ids = append(ids, mustIssue(t, s, input(1000+try)).ReceiptID)
		flush(t, s)
		path, data = activeSegment(t, dir)
	}
	if filepath.Base(path) == "seg-00000001.jsonl" {
		t.Fatalf("no rotation happened: %s", path)
	}
	if int64(len(data)) != prealloc {
		t.Fatalf("active segment %s is %d bytes; want the preallocated %d", path, len(data), prealloc)
	}
	used := len(bytes.TrimRight(data, "\x00"))
	if used <= len(logHeader) || used >= len(data) {
		t.Fatalf("active segment uses %d of %d bytes", used, len(data))
	}
	checkAll := func(s *Service) {
		t.Helper()
		for _, id := range ids {
			if raw, err := s.Get(id); err != nil || !Verify(raw).Valid {
				t.Fatalf("receipt %s: %v", id, err)
			}
		}
	}
	checkAll(s)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) != 0 {
		t.Fatalf("left behind: %v", tmp)
	}

	// A torn record in the zero tail (a crash during the write, never acknowledged).
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(`{"m":"00","t":"i","r":{"receipt_id":"qr-1`), int64(used)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s = startService(t, o)
	if _, after := activeSegment(t, dir); int64(len(after)) != prealloc || len(bytes.TrimRight(after, "\x00")) != used {
		t.Fatalf("torn tail: file %d bytes, %d used; want %d and %d", len(after), len(bytes.TrimRight(after, "\x00")), prealloc, used)
	}
	if st := s.Stats(); st.RejectedRecords != 0 || !s.LogOK() {
		t.Fatalf("torn tail counted as damage: %+v", st)
	}
	checkAll(s)
	ids = append(ids, mustIssue(t, s, input(500)).ReceiptID)
	flush(t, s)
	checkAll(s)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A zero inside a record is damage, not preallocated space.
	path, data = activeSegment(t, dir)
	i := bytes.LastIndex(data[:len(bytes.TrimRight(data, "\x00"))-1], []byte("\n"))
	if i < len(logHeader) {
		t.Fatal("no record to damage")
	}
	data[i+100] = 0
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startService(t, o)
	if st := s.Stats(); st.RejectedRecords != 1 || s.LogOK() {
		t.Fatalf("zero inside a record: %d rejected, LogOK %v; want 1 and false", st.RejectedRecords, s.LogOK())
	}
}

// TestNoPreallocate: with NoPreallocate segments grow by appending and no spare is
// prepared.
func TestNoPreallocate(t *testing.T) {
	dir := t.TempDir()
	s := startService(t, Options{Dir: dir, SegmentBytes: 16 << 10, NoPreallocate: true})
	for i := range 120 {
		mustIssue(t, s, input(i))
	}
	flush(t, s)
	path, data := activeSegment(t, dir)
	if filepath.Base(path) == "seg-00000001.jsonl" {
		t.Fatalf("no rotation happened: %s", path)
	}
	if len(bytes.TrimRight(data, "\x00")) != len(data) {
		t.Fatalf("%s has a zero tail with NoPreallocate", path)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) != 0 {
		t.Fatalf("spares prepared with NoPreallocate: %v", tmp)
	}
}

// TestCompressionDeferredAndBounded: while receipts keep coming, rotated segments wait
// uncompressed, boundedly; once the commits pause, every rotated segment is
// compressed, and every receipt stays retrievable.
func TestCompressionDeferredAndBounded(t *testing.T) {
	dir := t.TempDir()
	s := startService(t, Options{Dir: dir, SegmentBytes: 8 << 10, NoPreallocate: true})
	var ids []string
	most := 0
	for i := range 200 {
		ids = append(ids, mustIssue(t, s, input(i)).ReceiptID)
		plain, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl"))
		most = max(most, len(plain))
		// maxPlainSegments wait at most, plus the active one, the one being compressed
		// and rotations queued behind a compression (tiny segments here rotate every
		// few receipts); unbounded growth would reach about 40.
		if len(plain) > 3*maxPlainSegments {
			t.Fatalf("after %d receipts: %d uncompressed segments", i+1, len(plain))
		}
	}
	if most < 3 {
		t.Fatalf("at most %d uncompressed segments during the burst: compression was not deferred", most)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		plain, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl"))
		zst, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl.zst"))
		if len(plain) == 1 && len(zst) > maxPlainSegments {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the pause: %d plain, %d compressed segments (most plain during the burst %d)", len(plain), len(zst), most)
		}
		time.Sleep(20 * time.Millisecond)
	}
	flush(t, s)
	for _, id := range ids {
		if raw, err := s.Get(id); err != nil || !Verify(raw).Valid {
			t.Fatalf("receipt %s: %v", id, err)
		}
	}
	t.Logf("at most %d uncompressed segments during the burst", most)
}
