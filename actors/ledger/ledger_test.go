package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
)

func TestEmptyLedgerVerifies(t *testing.T) {
	l := startLedger(t, Options{})
	v := l.Verify()
	if !v.Valid || v.Episodes != 0 || v.ChainHead != Genesis || v.FirstBadSequence != nil {
		t.Errorf("got %+v; want valid, 0 episodes, head genesis", v)
	}
	p := l.Episodes(10, 0)
	if p.Total != 0 || p.Count != 0 || len(p.Episodes) != 0 || p.ChainHead != Genesis {
		t.Errorf("page %+v", p)
	}
	if r := l.Retrieve("anything", 5); len(r) != 0 {
		t.Errorf("retrieve on empty ledger: %d results", len(r))
	}
}

func TestCommitsChainAndVerify(t *testing.T) {
	set := metrics.NewSet()
	l := startLedger(t, Options{Metrics: set})
	heads := map[string]bool{Genesis: true}
	prev := Genesis
	for i := range 10 {
		a := commit(t, l, sample(fmt.Sprintf("query number %d", i)))
		if a.Sequence != uint64(i) {
			t.Fatalf("sequence %d; want %d", a.Sequence, i)
		}
		if heads[a.ChainHash] {
			t.Fatalf("head did not change at %d", i)
		}
		heads[a.ChainHash] = true
		if h := l.Head(); h != a.ChainHash {
			t.Fatalf("Head %s; want %s", h, a.ChainHash)
		}
		ep, err := l.BySequence(a.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		if ep.PrevHash != prev || ComputeChainHash(prev, ep.EpisodeHash) != a.ChainHash || ComputeEpisodeHash(&ep) != a.EpisodeHash {
			t.Fatalf("episode %d does not recompute", i)
		}
		prev = a.ChainHash
	}
	v := l.Verify()
	if !v.Valid || v.Episodes != 10 || v.ChainHead != prev {
		t.Errorf("verify %+v", v)
	}
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	for _, want := range []string{"sovereign_sel_episodes_total 10", "sovereign_sel_chain_valid 1", `sovereign_sel_commit_seconds_count 10`, "sovereign_sel_fsyncs_total"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
	st := l.Stats()
	if st.Episodes != 10 || st.Committed != 10 || !st.Verified || st.ChainHead != prev {
		t.Errorf("stats %+v", st)
	}
}

func TestLookups(t *testing.T) {
	l := startLedger(t, Options{})
	ep := sample("lookup me")
	ep.Actions = []Action{{Type: "a", Description: "first"}, {Type: "b", Description: "second", Success: true}, {Type: "c", Description: "third", DurationUS: 9}}
	var as []Appended
	for i := range 3 {
		ep.Context = fmt.Sprintf("lookup %d", i)
		as = append(as, commit(t, l, ep))
	}
	for i, a := range as {
		if a.Sequence != uint64(i) {
			t.Errorf("sequence %d; want %d", a.Sequence, i)
		}
		got, err := l.ByHash(a.EpisodeHash)
		if err != nil || got.Sequence != a.Sequence || got.Context != fmt.Sprintf("lookup %d", i) {
			t.Errorf("ByHash(%d) = %+v, %v", i, got, err)
		}
		if len(got.Actions) != 3 || got.Actions[0].Description != "first" || got.Actions[1].Description != "second" || got.Actions[2].DurationUS != 9 {
			t.Errorf("actions not kept in order: %+v", got.Actions)
		}
	}
	if _, err := l.ByHash(strings.Repeat("0", 64)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown hash: %v; want ErrNotFound", err)
	}
	if _, err := l.BySequence(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown sequence: %v; want ErrNotFound", err)
	}
	p := l.Episodes(2, 0)
	if p.Total != 3 || p.Count != 2 || p.Episodes[0].Sequence != 2 || p.Episodes[1].Sequence != 1 {
		t.Errorf("page newest first: %+v", p)
	}
	if p := l.Episodes(10, 2); p.Count != 1 || p.Episodes[0].Sequence != 0 {
		t.Errorf("offset page: %+v", p)
	}
	// Readers get copies.
	got, _ := l.BySequence(0)
	got.Actions[0].Description = "mutated"
	if again, _ := l.BySequence(0); again.Actions[0].Description != "first" {
		t.Errorf("reader mutated the ledger")
	}
}

func TestRetrieve(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := startLedger(t, Options{Now: func() time.Time { return now }})
	low := sample("the weather in paris today")
	low.SNR, low.Ihsan, low.TokensUsed = 0.5, 0.5, 0
	high := sample("the weather in paris today")
	high.SNR, high.Ihsan, high.TokensUsed = 1, 1, 0
	other := sample("quantum chromodynamics lattice")
	other.SNR, other.Ihsan, other.TokensUsed = 0.7, 0.7, 0
	for _, e := range []Episode{low, high, other} {
		commit(t, l, e)
	}
	t.Run("importance", func(t *testing.T) {
		r := l.Retrieve("unrelated words entirely", 3)
		if len(r) != 3 || r[0].Episode.Sequence != 1 || r[1].Episode.Sequence != 2 || r[2].Episode.Sequence != 0 {
			t.Errorf("order by importance: %v", seqs(r))
		}
		want := 0.3 + 0.3*1.0 // age 0, importance 1, no overlap
		if r[0].Score != want || r[0].Relevance != 0 {
			t.Errorf("score %v relevance %v; want %v, 0", r[0].Score, r[0].Relevance, want)
		}
	})
	t.Run("keyword relevance", func(t *testing.T) {
		r := l.Retrieve("Lattice QUANTUM chromodynamics!", 1)
		if len(r) != 1 || r[0].Episode.Sequence != 2 || r[0].Relevance != 1 {
			t.Errorf("got %v rel %v; want episode 2 with relevance 1", seqs(r), r[0].Relevance)
		}
		// "in" is too short to count: {weather, paris} vs {the, weather, paris, today}.
		r = l.Retrieve("weather in paris", 3)
		if r[0].Episode.Sequence != 1 || r[0].Relevance != 0.5 {
			t.Errorf("got %v rel %v; want 1 with relevance 0.5", seqs(r), r[0].Relevance)
		}
	})
	t.Run("top k", func(t *testing.T) {
		if r := l.Retrieve("paris", 2); len(r) != 2 {
			t.Errorf("got %d; want 2", len(r))
		}
		if r := l.Retrieve("paris", 0); len(r) != 3 {
			t.Errorf("default top k: got %d; want 3 (all)", len(r))
		}
	})
	t.Run("age decays", func(t *testing.T) {
		now = now.Add(1000 * time.Second)
		r := l.Retrieve("xyz", 1)
		if d := r[0].Score - (0.3*0.36787944117144233 + 0.3); d > 1e-12 || d < -1e-12 {
			t.Errorf("score after 1000 s: %v", r[0].Score)
		}
	})
}

func seqs(r []Scored) []uint64 {
	var out []uint64
	for _, s := range r {
		out = append(out, s.Episode.Sequence)
	}
	return out
}

func TestGroupCommitConcurrent(t *testing.T) {
	set := metrics.NewSet()
	l := startLedger(t, Options{Metrics: set})
	const writers, each = 32, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[uint64]bool{}
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				a := commit(t, l, sample(fmt.Sprintf("w%d e%d", w, i)))
				mu.Lock()
				got[a.Sequence] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != writers*each {
		t.Fatalf("%d distinct sequences; want %d", len(got), writers*each)
	}
	fs := set.GetOrCreateCounter("sovereign_sel_fsyncs_total").Get()
	if fs >= writers*each {
		t.Errorf("%d fsyncs for %d episodes: no group commit", fs, writers*each)
	}
	if v := l.Verify(); !v.Valid || v.Episodes != writers*each {
		t.Errorf("verify %+v", v)
	}
	t.Logf("%d episodes, %d fsyncs", writers*each, fs)
}

func TestInvalidEpisodeReply(t *testing.T) {
	l := startLedger(t, Options{})
	bad := sample("x")
	bad.SNR = 2
	_, err := l.Commit(context.Background(), bad)
	if !errors.Is(err, ErrInvalidEpisode) {
		t.Errorf("got %v; want ErrInvalidEpisode", err)
	}
	if l.Len() != 0 {
		t.Errorf("invalid episode stored")
	}
}

func TestOverloadAnswersAtOnce(t *testing.T) {
	sys := newSystem(t)
	l, err := Open(Options{System: sys, Dir: t.TempDir(), QueueSize: 2, MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	entered := make(chan struct{}, 16)
	l.testHook = func() { entered <- struct{}{}; <-gate }
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// One episode held by the flusher, two in the queue, then OVERLOADED at once.
	var futs []*actor.Future
	futs = append(futs, sys.Root.RequestFuture(l.PID(), &Append{Episode: sample("a")}, 10*time.Second))
	<-entered
	for _, c := range []string{"b", "c"} {
		futs = append(futs, sys.Root.RequestFuture(l.PID(), &Append{Episode: sample(c)}, 10*time.Second))
	}
	start := time.Now()
	res, err := sys.Root.RequestFuture(l.PID(), &Append{Episode: sample("d")}, 10*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	f, ok := res.(*AppendFailed)
	if !ok || !errors.Is(f.Err(), ErrOverloaded) || f.Code != "OVERLOADED" {
		t.Errorf("got %#v; want OVERLOADED", res)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("overload answer took %v", d)
	}
	close(gate)
	for i, fu := range futs {
		r, err := fu.Result()
		if _, ok := r.(*Appended); err != nil || !ok {
			t.Errorf("queued append %d: %#v %v", i, r, err)
		}
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownFlushesAndIsIdempotent(t *testing.T) {
	sys := newSystem(t)
	dir := t.TempDir()
	l, err := Open(Options{System: sys, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var futs []*actor.Future
	for i := range 50 {
		futs = append(futs, sys.Root.RequestFuture(l.PID(), &Append{Episode: sample(fmt.Sprint(i))}, 10*time.Second))
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := l.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ok := map[uint64]bool{}
	for _, f := range futs {
		r, err := f.Result()
		if a, is := r.(*Appended); err == nil && is {
			ok[a.Sequence] = true
		}
	}
	if _, err := l.Commit(context.Background(), sample("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("commit after shutdown: %v; want ErrClosed", err)
	}
	l2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	for seq := range ok {
		if _, err := l2.BySequence(seq); err != nil {
			t.Errorf("acknowledged %d lost after shutdown", seq)
		}
	}
	if l2.Len() < len(ok) {
		t.Errorf("%d stored < %d acknowledged", l2.Len(), len(ok))
	}
}

func TestSecondWriterLocked(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v; want ErrLocked", err)
	}
	if _, err := VerifyDir(dir); err != nil {
		t.Errorf("read-only open beside a writer: %v", err)
	}
}

// fill commits n episodes into a fresh ledger in dir and shuts it down.
func fill(t *testing.T, opts Options, n int) []Appended {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	opts.System = sys
	l, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []Appended
	for i := range n {
		out = append(out, commit(t, l, sample(fmt.Sprintf("fill episode %d with some words", i))))
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReopenKeepsChain(t *testing.T) {
	dir := t.TempDir()
	as := fill(t, Options{Dir: dir, SegmentBytes: 4 << 10}, 60)
	l := startLedger(t, Options{Dir: dir, SegmentBytes: 4 << 10})
	if v := l.Verify(); !v.Valid || v.Episodes != 60 || v.ChainHead != as[59].ChainHash {
		t.Fatalf("reopen verify %+v", v)
	}
	a := commit(t, l, sample("after reopen"))
	if a.Sequence != 60 {
		t.Errorf("next sequence %d; want 60", a.Sequence)
	}
	ep, _ := l.BySequence(60)
	if ep.PrevHash != as[59].ChainHash {
		t.Errorf("new episode does not chain onto the old head")
	}
}

func TestSealedSegmentsAndFlippedByte(t *testing.T) {
	dir := t.TempDir()
	fill(t, Options{Dir: dir, SegmentBytes: 8 << 10}, 200)
	// Start and stop once more so the maintenance loop seals every closed segment.
	l := startLedger(t, Options{Dir: dir, SegmentBytes: 8 << 10})
	waitFor(t, func() bool { return len(glob(t, dir, "*.log")) == 1 })
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	zst := glob(t, dir, "*.zst")
	if len(zst) < 3 {
		t.Fatalf("%d sealed segments; want >= 3", len(zst))
	}
	if v, err := VerifyDir(dir); err != nil || !v.Valid || v.Episodes != 200 {
		t.Fatalf("sealed verify %+v %v", v, err)
	}
	// Flip one byte in the middle of the second sealed segment.
	target := zst[1]
	b, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	var firstSeq uint64
	fmt.Sscanf(filepath.Base(target), "seg-%d.zst", &firstSeq)
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(target, b, 0o640); err != nil {
		t.Fatal(err)
	}
	v, err := VerifyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v.Valid || v.FirstBadSequence == nil {
		t.Fatalf("flipped byte not found: %+v", v)
	}
	// Blocks hold ~64 KiB, more than a whole 8 KiB segment: the segment's first sequence.
	if *v.FirstBadSequence != firstSeq {
		t.Errorf("first bad sequence %d; want %d (segment %s)", *v.FirstBadSequence, firstSeq, filepath.Base(target))
	}
	// A broken ledger refuses a writable open, naming the file; accepted, it opens,
	// reports it, and keeps appending.
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLoss) || !strings.Contains(err.Error(), filepath.Base(target)) {
		t.Fatalf("writable open of a damaged ledger: %v; want ErrLoss naming %s", err, filepath.Base(target))
	}
	l2 := startLedger(t, Options{Dir: dir, AcceptLoss: true})
	if v := l2.Verify(); v.Valid || *v.FirstBadSequence != firstSeq {
		t.Errorf("writable open verify %+v", v)
	}
	if st := l2.Stats(); st.Verified {
		t.Errorf("stats says verified")
	}
	commit(t, l2, sample("still appends"))
}

func TestEditedEpisodeDetected(t *testing.T) {
	dir := t.TempDir()
	fill(t, Options{Dir: dir}, 10)
	// Rewrite episode 4's context in the active segment with a valid record checksum,
	// as an editor who knows the format would.
	logs := glob(t, dir, "*.log")
	path := logs[len(logs)-1]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for off := 0; off < len(b); {
		e, n, err := decodeRecord(b[off:])
		if err != nil {
			t.Fatal(err)
		}
		if e.Sequence == 4 {
			e.Context = "edited"
		}
		out, _ = appendRecord(out, &e)
		off += n
	}
	if err := os.WriteFile(path, out, 0o640); err != nil {
		t.Fatal(err)
	}
	v, err := VerifyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v.Valid || v.FirstBadSequence == nil || *v.FirstBadSequence != 4 {
		t.Errorf("got %+v; want invalid at 4", v)
	}
	// The in-memory check catches edits too.
	l, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v := l.Verify(); v.Valid {
		t.Errorf("read-only verify valid after edit")
	}
}

func TestTornTailCut(t *testing.T) {
	dir := t.TempDir()
	as := fill(t, Options{Dir: dir}, 5)
	logs := glob(t, dir, "*.log")
	path := logs[len(logs)-1]
	st, _ := os.Stat(path)
	// Half a record, as a crash during write leaves it.
	var e Episode = sample("torn")
	seal(&e, 5, as[4].ChainHash)
	rec, _ := appendRecord(nil, &e)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(rec[:len(rec)/2])
	f.Close()
	if v, _ := VerifyDir(dir); !v.Valid || v.Episodes != 5 {
		t.Errorf("read-only open with torn tail: %+v", v)
	}
	l := startLedger(t, Options{Dir: dir})
	if st2, _ := os.Stat(path); st2.Size() != st.Size() {
		t.Errorf("torn tail not cut: %d bytes; want %d", st2.Size(), st.Size())
	}
	if v := l.Verify(); !v.Valid || v.Episodes != 5 {
		t.Errorf("verify %+v", v)
	}
	if a := commit(t, l, sample("next")); a.Sequence != 5 {
		t.Errorf("sequence after cut %d; want 5", a.Sequence)
	}
}

func TestCorruptionMidActiveSegmentIsReported(t *testing.T) {
	dir := t.TempDir()
	fill(t, Options{Dir: dir}, 6)
	logs := glob(t, dir, "*.log")
	path := logs[len(logs)-1]
	b, _ := os.ReadFile(path)
	_, n0, _ := decodeRecord(b)
	_, n1, _ := decodeRecord(b[n0:])
	b[n0+n1+recordHeader+5] ^= 1 // inside episode 2's payload
	os.WriteFile(path, b, 0o640)
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLoss) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d sequence 2", n0+n1)) {
		t.Fatalf("writable open: %v; want ErrLoss at offset %d sequence 2", err, n0+n1)
	}
	l := startLedger(t, Options{Dir: dir, AcceptLoss: true})
	v := l.Verify()
	if v.Valid || *v.FirstBadSequence != 2 {
		t.Errorf("got %+v; want invalid at 2", v)
	}
	for _, seq := range []uint64{3, 4, 5} { // the rest was not cut away
		if _, err := l.BySequence(seq); err != nil {
			t.Errorf("episode %d after the damage lost: %v", seq, err)
		}
	}
}

func TestRetentionPrunesToAnchor(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 4 << 10, MaxEpisodes: 30}
	as := fill(t, opts, 100)
	l := startLedger(t, opts)
	if l.Len() != 30 {
		t.Errorf("retained %d; want 30", l.Len())
	}
	if _, err := l.BySequence(69); !errors.Is(err, ErrNotFound) {
		t.Errorf("pruned episode still there")
	}
	if ep, err := l.BySequence(70); err != nil || ep.PrevHash != as[69].ChainHash {
		t.Errorf("first kept: %v", err)
	}
	v := l.Verify()
	if !v.Valid || v.Episodes != 30 || v.ChainHead != as[99].ChainHash {
		t.Errorf("verify after pruning %+v", v)
	}
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, anchorName)); return err == nil })
	for range 20 {
		commit(t, l, sample("more"))
	}
	waitFor(t, func() bool {
		a, _ := readAnchor(filepath.Join(dir, anchorName))
		return a != nil && a.Sequence >= 60
	})
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	v2, err := VerifyDir(dir)
	if err != nil || !v2.Valid {
		t.Errorf("verify after pruning on disk %+v %v", v2, err)
	}
	// An edit in a kept episode is still found after pruning.
	var buf bytes.Buffer
	if err := ExportDir(dir, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `{"anchor":{"last_pruned_sequence":`) {
		t.Errorf("export of a pruned ledger lacks its anchor line: %.80s", buf.String())
	}
	l3, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	if _, err := l3.Import(&buf); err != nil {
		t.Errorf("import of a pruned export: %v", err)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	src := startLedger(t, Options{})
	fb := -0.25
	for i := range 12 {
		e := sample(fmt.Sprintf("round trip %d ü", i))
		if i%3 == 0 {
			e.Feedback = &fb
		}
		commit(t, src, e)
	}
	var buf bytes.Buffer
	if err := src.Export(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d lines; want 12", len(lines))
	}
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	for _, k := range []string{"sequence", "timestamp", "context", "graph_hash", "graph_node_count", "actions", "snr", "ihsan", "snr_ok", "feedback", "tokens_used", "efficiency", "response_summary", "prev_hash", "episode_hash", "chain_hash"} {
		if _, ok := first[k]; !ok {
			t.Errorf("export line lacks %q", k)
		}
	}
	dir := t.TempDir()
	dst, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n, err := dst.Import(bytes.NewReader(buf.Bytes()))
	if err != nil || n != 12 {
		t.Fatalf("import: %d %v", n, err)
	}
	if dst.Head() != src.Head() {
		t.Errorf("imported head differs")
	}
	if _, err := dst.Import(bytes.NewReader(buf.Bytes())); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("second import: %v; want ErrNotEmpty", err)
	}
	dst.Close()
	v, err := VerifyDir(dir)
	if err != nil || !v.Valid || v.Episodes != 12 || v.ChainHead != src.Head() {
		t.Errorf("imported folder verify %+v %v", v, err)
	}
	var again bytes.Buffer
	ExportDir(dir, &again)
	if again.String() != buf.String() {
		t.Errorf("export of the import differs")
	}
}

func TestImportGoldenExport(t *testing.T) {
	f, err := os.Open(filepath.Join(goldenDir, "golden_export.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n, err := l.Import(f); err != nil || n != 4 {
		t.Fatalf("import python export: %d %v", n, err)
	}
}

func TestImportRefusesTampered(t *testing.T) {
	src := startLedger(t, Options{})
	for i := range 5 {
		commit(t, src, sample(fmt.Sprintf("tamper %d", i)))
	}
	var buf bytes.Buffer
	src.Export(&buf)
	orig := buf.String()
	tests := []struct {
		name string
		edit func(string) string
	}{
		{"context", func(s string) string { return strings.Replace(s, "tamper 2", "tamper X", 1) }},
		{"snr", func(s string) string { return strings.Replace(s, `"snr":0.9`, `"snr":0.8`, 1) }},
		{"dropped line", func(s string) string {
			ls := strings.SplitAfter(s, "\n")
			return strings.Join(append(ls[:2:2], ls[3:]...), "")
		}},
		{"swapped lines", func(s string) string {
			ls := strings.SplitAfter(s, "\n")
			ls[1], ls[2] = ls[2], ls[1]
			return strings.Join(ls, "")
		}},
		{"unknown field", func(s string) string { return strings.Replace(s, `"snr_ok"`, `"x":1,"snr_ok"`, 1) }},
		{"not json", func(s string) string { return s + "garbage\n" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := tt.edit(orig)
			if edited == orig {
				t.Fatal("edit changed nothing")
			}
			dir := t.TempDir()
			l, err := Open(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if _, err := l.Import(strings.NewReader(edited)); !errors.Is(err, ErrTampered) {
				t.Errorf("got %v; want ErrTampered", err)
			}
			if l.Len() != 0 || l.Head() != Genesis {
				t.Errorf("a refused import stored episodes")
			}
		})
	}
}

func TestReadOnlyOpenRefusesWrites(t *testing.T) {
	dir := t.TempDir()
	fill(t, Options{Dir: dir}, 3)
	l, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Len() != 3 {
		t.Errorf("len %d", l.Len())
	}
	if _, err := l.Commit(context.Background(), sample("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("commit on read-only: %v", err)
	}
	if err := l.Start(context.Background()); err == nil {
		t.Errorf("start on read-only succeeded")
	}
	if _, err := OpenReadOnly(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("read-only open of a missing folder: %v; want an empty ledger", err)
	}
}

func glob(t *testing.T, dir, pat string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pat))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached within 10 s")
}
