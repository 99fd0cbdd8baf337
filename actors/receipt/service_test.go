package receipt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/internal/canon"
	"github.com/bizra/bizra/internal/catalog"
)

func quietSystem(t testing.TB) *actor.ActorSystem {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	return sys
}

// newService builds and starts a Service; missing Dir, Secret and System are filled in.
func newService(t testing.TB, o Options) (*Service, error) {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Secret.IsZero() {
		o.Secret = testSecret(t)
	}
	if o.System == nil {
		o.System = quietSystem(t)
	}
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	if err := s.Start(context.Background()); err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, nil
}

func startService(t testing.TB, o Options) *Service {
	t.Helper()
	s, err := newService(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func flush(t testing.TB, s *Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func f64(v float64) *float64 { return &v }

func input(i int) Input {
	return Input{Kind: KindQuery, Status: StatusAccepted, Method: "POST /v1/query",
		Params: map[string]any{"query": fmt.Sprint("q", i)}, Payload: map[string]any{"i": i},
		SNR: f64(0.8), Ihsan: f64(0.95), GatePassed: true, Duration: 1500 * time.Microsecond}
}

func mustIssue(t testing.TB, s *Service, in Input) Ref {
	t.Helper()
	r, err := s.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func getMap(t testing.TB, s *Service, id string) (json.RawMessage, map[string]any) {
	t.Helper()
	raw, err := s.Get(id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return raw, m
}

func TestIssueStatusesAndKinds(t *testing.T) {
	s := startService(t, Options{NodeID: "node0_x"})
	var refs []Ref
	for _, kind := range []string{KindQuery, KindBridge, KindSkill} {
		for _, st := range []string{StatusAccepted, StatusRejected, StatusAmberRestricted, StatusPending} {
			in := input(0)
			in.Kind, in.Status, in.Reason = kind, st, "because "+st
			r := mustIssue(t, s, in)
			if r.Status != st || len(r.LeafHash) != 64 {
				t.Fatalf("ref %+v", r)
			}
			if k, ok := KindOfID(r.ReceiptID); !ok || k != kind {
				t.Fatalf("id %s kind %s", r.ReceiptID, k)
			}
			refs = append(refs, r)
		}
	}
	flush(t, s)
	for _, r := range refs {
		raw, m := getMap(t, s, r.ReceiptID)
		if m["status"] != r.Status || m["leaf_hash"] != r.LeafHash || m["receipt_id"] != r.ReceiptID || m["node_id"] != "node0_x" {
			t.Fatalf("stored %v; ref %+v", m, r)
		}
		if res := s.Verify(raw); !res.Valid || res.KeyID != s.KeyID() {
			t.Fatalf("%s: %+v", r.ReceiptID, res)
		}
	}
	if st := s.Stats(); st.Issued != 12 || st.Pending != 0 || st.SealedBatches == 0 || st.Stored != 12 {
		t.Fatalf("stats %+v", st)
	}
}

func TestInvalidInput(t *testing.T) {
	s := startService(t, Options{})
	nan := math.NaN()
	tests := []struct {
		name string
		f    func(*Input)
	}{
		{"kind", func(in *Input) { in.Kind = "file" }},
		{"status", func(in *Input) { in.Status = "ok" }},
		{"no method", func(in *Input) { in.Method = "" }},
		{"long method", func(in *Input) { in.Method = strings.Repeat("m", MaxMethodBytes+1) }},
		{"long reason", func(in *Input) { in.Reason = strings.Repeat("r", MaxReasonBytes+1) }},
		{"bad utf-8", func(in *Input) { in.Reason = "\xff" }},
		{"nan score", func(in *Input) { in.SNR = &nan }},
		{"inf score", func(in *Input) { v := math.Inf(1); in.FateScore = &v }},
		{"params without canonical form", func(in *Input) { in.Params = map[string]any{"c": make(chan int)} }},
		{"payload nan", func(in *Input) { in.Payload = []float64{nan} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(1)
			tt.f(&in)
			if _, err := s.Issue(in); !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err %v", err)
			}
		})
	}
	if s.Stats().Issued != 0 {
		t.Fatal("a refused input was counted")
	}
}

func TestIDsUniqueAndMonotonic(t *testing.T) {
	s := startService(t, Options{})
	var ids []string
	for i := range 3000 {
		ids = append(ids, mustIssue(t, s, input(i)).ReceiptID)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("not monotonic: %s then %s", ids[i-1], ids[i])
		}
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				r, err := s.Issue(input(g*1000 + i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[r.ReceiptID] {
					t.Errorf("duplicate %s", r.ReceiptID)
				}
				seen[r.ReceiptID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	flush(t, s)
	// A clock stepping back keeps ids monotonic.
	var g idGen
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, _ := g.next("qr", t0)
	b, _ := g.next("qr", t0.Add(-time.Hour))
	c, _ := g.next("qr", t0.Add(time.Millisecond))
	if !(a < b && b < c) || !ValidID(a) || !ValidID(b) || !ValidID(c) {
		t.Fatalf("%s %s %s", a, b, c)
	}
	if _, err := g.next("qr", time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Fatal("a 14-digit millisecond clock must be refused")
	}
}

// Every issued receipt is sealed, verifies, and the batches form a chain.
func TestEveryReceiptSealedAndChained(t *testing.T) {
	s := startService(t, Options{BatchMax: 100})
	var refs []Ref
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := range 3 {
		wg.Go(func() {
			for i := range 700 {
				r, err := s.Issue(input(g*1000 + i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				refs = append(refs, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	flush(t, s)
	type batch struct{ root, prev string }
	batches := map[uint64]batch{}
	sizes := map[uint64]int{}
	for _, r := range refs {
		raw, m := getMap(t, s, r.ReceiptID)
		if res := Verify(raw); !res.Valid || res.KeyID != s.KeyID() {
			t.Fatalf("%+v", res)
		}
		seal := m["seal"].(map[string]any)
		seq := uint64(seal["batch_seq"].(float64))
		b := batch{seal["root"].(string), seal["prev_root"].(string)}
		if old, ok := batches[seq]; ok && old != b {
			t.Fatalf("batch %d has two roots", seq)
		}
		batches[seq] = b
		sizes[seq]++
		if int(seal["size"].(float64)) > 100 {
			t.Fatal("batch larger than BatchMax")
		}
		if m["leaf_hash"] != r.LeafHash {
			t.Fatal("leaf_hash differs from the Ref")
		}
		// The digest of the sealed receipt is not the leaf: sealing added the seal.
		if canon.SumHex(DomainLeaf, raw) == r.LeafHash {
			t.Fatal("sealed receipt digest equals the body leaf")
		}
	}
	if len(batches) < 21 {
		t.Fatalf("%d batches for 2100 receipts at BatchMax 100", len(batches))
	}
	for seq := uint64(1); seq <= uint64(len(batches)); seq++ {
		b, ok := batches[seq]
		if !ok {
			t.Fatalf("batch %d missing", seq)
		}
		want := strings.Repeat("0", 64)
		if seq > 1 {
			want = batches[seq-1].root
		}
		if b.prev != want {
			t.Fatalf("batch %d prev_root %s; want %s", seq, b.prev, want)
		}
	}
	st := s.Stats()
	if st.Issued != 2100 || st.Pending != 0 || st.SealedBatches != uint64(len(batches)) || st.Stored != 2100 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGetPendingThenSealed(t *testing.T) {
	s := startService(t, Options{BatchInterval: time.Hour, BatchMax: 1 << 20})
	r := mustIssue(t, s, input(1))
	if _, err := s.Get(r.ReceiptID); !errors.Is(err, ErrPending) {
		t.Fatalf("err %v; want ErrPending", err)
	}
	if s.Stats().Pending != 1 {
		t.Fatal("pending count")
	}
	flush(t, s)
	if _, err := s.Get(r.ReceiptID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("qr-1772366400100-00000000000000a1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err %v; want ErrNotFound", err)
	}
	if p := catalog.Lookup(fmt.Errorf("x: %w", ErrNotFound)); p.Kind != catalog.NotFound || p.HTTP != 404 {
		t.Fatalf("%+v", p)
	}
}

func TestBatchIntervalSeals(t *testing.T) {
	s := startService(t, Options{BatchInterval: 5 * time.Millisecond})
	r := mustIssue(t, s, input(1))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Get(r.ReceiptID)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrPending) || time.Now().After(deadline) {
			t.Fatalf("not sealed by the interval: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBadIDsTouchNothing(t *testing.T) {
	s := startService(t, Options{})
	r := mustIssue(t, s, input(1))
	flush(t, s)
	bad := []string{
		"", "../../x", "../../../etc/passwd", "/etc/passwd", "qr-1772366400100-00000000000000a1/../../x",
		strings.Repeat("a", 10<<10), "qr-1772366400100-00000000000000A1", "xx-1772366400100-00000000000000a1",
		"qr-177236640010-00000000000000a1", "qr-1772366400100-00000000000000a1 ", "qr-1772366400100-00000000000000a\x00",
		"qr-١٧٧٢٣٦٦٤٠٠١٠٠-00000000000000a1", "qr-1772366400100-00000000000000a1\n", r.ReceiptID + "x",
	}
	// With the store detached, any lookup that reached it would panic.
	s.mu.Lock()
	st := s.st
	s.st = nil
	s.mu.Unlock()
	for _, id := range bad {
		_, err := s.Get(id)
		if !errors.Is(err, ErrInvalidID) {
			t.Fatalf("%q: err %v; want ErrInvalidID", trunc(id), err)
		}
		if p := catalog.Lookup(err); p.Kind != catalog.InvalidInput || p.HTTP != 400 {
			t.Fatalf("%+v", p)
		}
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	if _, err := s.Get(r.ReceiptID); err != nil {
		t.Fatal(err)
	}
}

func TestGetReturnsACopy(t *testing.T) {
	s := startService(t, Options{})
	r := mustIssue(t, s, input(1))
	flush(t, s)
	a, _ := s.Get(r.ReceiptID)
	want := bytes.Clone(a)
	for i := range a {
		a[i] = 'x'
	}
	if b, _ := s.Get(r.ReceiptID); !bytes.Equal(b, want) {
		t.Fatal("Get returned shared bytes")
	}
}

func TestShutdownSealsPendingAndRestartChains(t *testing.T) {
	dir := t.TempDir()
	sys := quietSystem(t)
	s1, err := New(Options{System: sys, Dir: dir, Secret: testSecret(t), BatchInterval: time.Hour, BatchMax: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 100 {
		ids = append(ids, mustIssue(t, s1, input(i)).ReceiptID)
	}
	if err := s1.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s1.Shutdown(context.Background()); err != nil {
		t.Fatal("second Shutdown:", err)
	}
	if _, err := s1.Issue(input(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("issue after shutdown: %v", err)
	}
	s2 := startService(t, Options{System: sys, Dir: dir})
	var root string
	for _, id := range ids {
		raw, m := getMap(t, s2, id)
		if !Verify(raw).Valid {
			t.Fatal("invalid after restart")
		}
		seal := m["seal"].(map[string]any)
		if seal["batch_seq"].(float64) != 1 || seal["size"].(float64) != 100 {
			t.Fatalf("the 100 pending receipts were not sealed as one batch: %v", seal)
		}
		root = seal["root"].(string)
	}
	r := mustIssue(t, s2, input(1))
	flush(t, s2)
	_, m := getMap(t, s2, r.ReceiptID)
	seal := m["seal"].(map[string]any)
	if seal["batch_seq"].(float64) != 2 || seal["prev_root"] != root {
		t.Fatalf("chain not continued: %v", seal)
	}
}

func TestDirLockedByOneService(t *testing.T) {
	dir := t.TempDir()
	startService(t, Options{Dir: dir})
	if _, err := newService(t, Options{Dir: dir}); !errors.Is(err, ErrStore) {
		t.Fatalf("second Service on one folder: %v", err)
	}
}

func TestOverload(t *testing.T) {
	s := startService(t, Options{BatchInterval: time.Hour, BatchMax: 1 << 20, MaxPending: 10})
	for i := range 10 {
		mustIssue(t, s, input(i))
	}
	if _, err := s.Issue(input(11)); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("err %v; want ErrOverloaded", err)
	}
	if p := catalog.Lookup(ErrOverloaded); p.HTTP != 503 {
		t.Fatalf("%+v", p)
	}
	flush(t, s)
	mustIssue(t, s, input(12))
}

func TestSingleMode(t *testing.T) {
	s := startService(t, Options{Mode: ModeSingle})
	r := mustIssue(t, s, input(1))
	flush(t, s)
	raw, m := getMap(t, s, r.ReceiptID)
	sig, ok := m["signature"].(map[string]any)
	if !ok || m["seal"] != nil || sig["alg"] != AlgEd25519 || sig["public_key"] != s.PublicKeyHex() {
		t.Fatalf("%v", m)
	}
	if res := Verify(raw); !res.Valid {
		t.Fatalf("%+v", res)
	}
	if c, _ := canon.Transform(raw); !bytes.Equal(c, raw) {
		t.Fatal("not canonical")
	}
}

func TestServiceVerifyTrustsItsKeys(t *testing.T) {
	v := loadVectors(t)
	s := startService(t, Options{})
	if res := s.Verify([]byte(v.SealedReceipts[0])); res.Valid || !strings.Contains(res.Reason, "untrusted") {
		t.Fatalf("another node's receipt: %+v", res)
	}
	// A legacy HMAC receipt made with this node's secret verifies through the Service.
	body := []byte(v.Bodies[0].Canonical)
	sg := NewSimpleSigner(testSecret(t))
	var leaf [32]byte = LeafHash(body)
	line, err := assemble(nil, body, hexOf(leaf), "signature", canonicalSignature(nil, &Signature{
		Alg: AlgHMAC, KeyID: sg.KeyID(), PublicKey: bytesHex(sg.PublicKeyBytes()), Sig: bytesHex(sg.Sign(body))}))
	if err != nil {
		t.Fatal(err)
	}
	if res := s.Verify(line); !res.Valid || res.Alg != AlgHMAC {
		t.Fatalf("%+v", res)
	}
	if st := s.VerifierStats(); st.Total != 2 || st.Rate != 0.5 {
		t.Fatalf("%+v", st)
	}
}

func TestRetentionCompressionAndReopen(t *testing.T) {
	dir := t.TempDir()
	sys := quietSystem(t)
	o := Options{System: sys, Dir: dir, SegmentBytes: 16 << 10, MaxReceipts: 400, BatchMax: 50}
	s := startService(t, o)
	var ids []string
	for i := range 1200 {
		ids = append(ids, mustIssue(t, s, input(i)).ReceiptID)
		if i%100 == 99 {
			flush(t, s)
		}
	}
	flush(t, s)
	zst, _ := filepath.Glob(filepath.Join(dir, "*.zst"))
	if len(zst) == 0 {
		t.Fatal("no compressed segment")
	}
	check := func(s *Service) (kept int) {
		t.Helper()
		lost := true
		for i, id := range ids {
			raw, err := s.Get(id)
			switch {
			case err == nil:
				kept++
				if !Verify(raw).Valid {
					t.Fatalf("receipt %d invalid", i)
				}
				lost = false
			case errors.Is(err, ErrNotFound):
				if !lost {
					t.Fatalf("receipt %d dropped after a newer one was kept", i)
				}
			default:
				t.Fatal(err)
			}
		}
		if kept > 400 || kept < 200 {
			t.Fatalf("kept %d receipts with MaxReceipts 400", kept)
		}
		if _, err := s.Get(ids[len(ids)-1]); err != nil {
			t.Fatal("newest receipt lost")
		}
		return kept
	}
	kept := check(s)
	if s.Stats().Stored != kept {
		t.Fatalf("Stored %d, found %d", s.Stats().Stored, kept)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s2 := startService(t, o)
	if got := check(s2); got != kept {
		t.Fatalf("after reopen %d receipts; before %d", got, kept)
	}
	// Lookups from a compressed segment work (oldest kept receipt is in one).
	for _, id := range ids {
		if _, err := s2.Get(id); err == nil {
			break
		}
	}
	// Each receipt takes an issued and a sealed record (about 2.5 KB): 400 kept receipts
	// fill at most about 60 segments of 16 KiB; all 1,200 would need about 180.
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	if len(segs) > 80 {
		t.Fatalf("%d segment files left", len(segs))
	}
	// MaxSegments also prunes.
	if err := s2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.MaxSegments, o.MaxReceipts = 2, -1
	s3 := startService(t, o)
	if n := s3.st.segmentCount(); n > 2 {
		t.Fatalf("%d segments with MaxSegments 2", n)
	}
}

// TestTornTailCutOnReopen appends tails to the active segment and reopens: a last line
// without its newline is a torn write and is cut; a complete line that is not a valid
// record is refused (kept on disk, counted, never indexed). Either way every genuine
// receipt stays retrievable and the log keeps working.
func TestTornTailCutOnReopen(t *testing.T) {
	dir := t.TempDir()
	sys := quietSystem(t)
	o := Options{System: sys, Dir: dir}
	s := startService(t, o)
	var ids []string
	for i := range 50 {
		ids = append(ids, mustIssue(t, s, input(i)).ReceiptID)
	}
	flush(t, s)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	fi, _ := os.Stat(segs[0])
	good := fi.Size()
	for _, tc := range []struct {
		tail     string
		cut      bool
		rejected int
	}{
		{`{"m":"00","t":"s","r":{"receipt_id":"qr-17723`, true, 0},
		{"{\"receipt_id\":\"not an id\"}\n", false, 1},
		// Zeros after the last record are a preallocated tail: kept (not cut), and the
		// next record overwrites them.
		{"\x00\x00\x00\x00", false, 1},
	} {
		f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString(tc.tail)
		f.Close()
		want := good
		if !tc.cut {
			want += int64(len(tc.tail))
		}
		s := startService(t, o)
		if fi, _ := os.Stat(segs[0]); fi.Size() != want {
			t.Fatalf("tail %q: size %d; want %d", tc.tail, fi.Size(), want)
		}
		if got := s.Stats().RejectedRecords; got != tc.rejected {
			t.Fatalf("tail %q: %d records rejected; want %d", tc.tail, got, tc.rejected)
		}
		for _, id := range ids {
			if raw, err := s.Get(id); err != nil || !Verify(raw).Valid {
				t.Fatalf("receipt lost after the cut: %v", err)
			}
		}
		r := mustIssue(t, s, input(99))
		flush(t, s)
		ids = append(ids, r.ReceiptID)
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(segs[0])
		good = fi.Size()
	}
}

func TestMetricsExposed(t *testing.T) {
	set := metrics.NewSet()
	s := startService(t, Options{Metrics: set})
	for i := range 5 {
		mustIssue(t, s, input(i))
	}
	flush(t, s)
	var b bytes.Buffer
	set.WritePrometheus(&b)
	out := b.String()
	for _, want := range []string{
		"sovereign_receipts_issued_total 5", "sovereign_receipt_pending 0",
		"sovereign_receipt_batch_size_bucket{le=", "sovereign_receipt_seal_seconds_bucket{le=",
		"sovereign_receipt_batches_sealed_total ",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sovereign_receipt_batches_sealed_total 0") {
		t.Fatal("no batch counted")
	}
}

func TestNewValidatesOptions(t *testing.T) {
	sec := testSecret(t)
	for _, o := range []Options{
		{Secret: sec},
		{Dir: "x"},
		{Dir: "x", Secret: sec, Mode: "fast"},
		{Dir: "x", Secret: sec, BatchMax: -1},
		{Dir: "x", Secret: sec, SegmentBytes: 2 << 30},
	} {
		if _, err := New(o); err == nil {
			t.Fatalf("accepted %+v", o)
		}
	}
	s, err := New(Options{Dir: t.TempDir(), Secret: sec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Issue(input(0)); !errors.Is(err, ErrClosed) {
		t.Fatal("Issue before Start")
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Own actor system when none is given.
	s2, err := New(Options{Dir: t.TempDir(), Secret: sec})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustIssue(t, s2, input(0))
	if err := s2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestIssuePayloadDigestInput: a precomputed payload_digest is checked for form and is
// exclusive with Payload; a well-formed one lands in the receipt as given.
func TestIssuePayloadDigestInput(t *testing.T) {
	good := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		payload any
		digest  string
		wantErr bool
	}{
		{"digest only", nil, good, false},
		{"both", map[string]any{"a": 1}, good, true},
		{"short", nil, "abc", true},
		{"upper case", nil, strings.Repeat("AB", 32), true},
		{"not hex", nil, strings.Repeat("zz", 32), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Payload: tt.payload, PayloadDigest: tt.digest}
			got, err := payloadDigest(&in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("err %v; want ErrInvalidInput", err)
				}
				return
			}
			if err != nil || got != tt.digest {
				t.Fatalf("got %q %v", got, err)
			}
		})
	}
}
