package receipt

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// crashChildEnv makes the test binary run crashChild instead of the tests.
const crashChildEnv = "BIZRA_RECEIPT_TEST_CRASH_DIR"

// crashChild issues receipts under load until it is killed. After each Flush it prints
// "durable <id>" for every receipt issued before that Flush, in one write.
func crashChild(dir string) {
	sec, err := ParseSecretHex(testSecretHex, false)
	if err != nil {
		panic(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	s, err := New(Options{System: sys, Dir: dir, Secret: sec, BatchInterval: time.Millisecond,
		BatchMax: 256, SegmentBytes: 256 << 10})
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	go func() { // background load that is never reported as durable
		for i := 0; ; i++ {
			if _, err := s.Issue(input(i)); err != nil || i%64 == 63 {
				time.Sleep(time.Millisecond) // bounded load; let the writer catch up
			}
		}
	}()
	for i := 0; ; i++ {
		var b strings.Builder
		for k := range 200 {
			r, err := s.Issue(input(i*200 + k))
			if err != nil {
				continue // overloaded by the background load
			}
			b.WriteString("durable " + r.ReceiptID + "\n")
		}
		if err := s.Flush(context.Background()); err != nil {
			panic(err)
		}
		_, _ = os.Stdout.WriteString(b.String())
	}
}

// TestKill9LosesNoSealedReceipt re-executes the test binary as a loaded child, kills it
// with SIGKILL, and checks that every receipt the child saw sealed survives, that a
// torn tail is cut on restart, and that the log keeps working.
func TestKill9LosesNoSealedReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var durable []string
	sc := bufio.NewScanner(out)
	killed := false
	deadline := time.Now().Add(5 * time.Second)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "durable "); ok && ValidID(id) {
			durable = append(durable, id)
		}
		if !killed && (len(durable) >= 2000 || time.Now().After(deadline)) {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited on its own: %v", err)
	}
	if len(durable) < 200 {
		t.Fatalf("only %d durable receipts reported", len(durable))
	}
	// Make the tail torn for certain (the kill may or may not have left one).
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.jsonl"))
	if len(segs) == 0 {
		t.Fatal("no active segment")
	}
	active := segs[len(segs)-1]
	f, err := os.OpenFile(active, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"duration_ms":1.5,"fate_score":null,"gate_pa`)
	f.Close()

	s := startService(t, Options{Dir: dir})
	data, err := os.ReadFile(active)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatal("torn tail not cut")
	}
	for _, id := range durable {
		raw, err := s.Get(id)
		if err != nil {
			t.Fatalf("sealed receipt %s lost: %v", id, err)
		}
		if res := s.Verify(raw); !res.Valid {
			t.Fatalf("%s: %+v", id, res)
		}
	}
	r := mustIssue(t, s, input(1))
	flush(t, s)
	if _, err := s.Get(r.ReceiptID); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sealed receipts survived SIGKILL; %d receipts stored", len(durable), s.Stats().Stored)
}
