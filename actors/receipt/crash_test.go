package receipt

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
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

// crashChild issues receipts under load from several goroutines until it is killed.
// It prints "durable <id>" as soon as Issue returns it (acknowledged: the issued record
// is on disk; the seal may not be), one write per line.
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
	for g := range 8 {
		go func() {
			for i := 0; ; i++ {
				r, err := s.Issue(input(g<<24 | i))
				if err != nil {
					time.Sleep(time.Millisecond) // overloaded: let the writer catch up
					continue
				}
				_, _ = os.Stdout.WriteString("durable " + r.ReceiptID + "\n")
			}
		}()
	}
	select {} // until killed
}

// TestFaultReceiptKill9 re-executes the test binary as a loaded child, kills it with
// SIGKILL, and checks that every receipt the child was handed by Issue survives (sealed
// after the restart if its seal was not yet on disk), that a torn tail is cut on
// restart, and that the log keeps working.
func TestFaultReceiptKill9(t *testing.T) {
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
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var durable []string
	sc := bufio.NewScanner(out)
	killed := false
	deadline := time.Now().Add(3 * time.Second)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "durable "); ok && ValidID(id) {
			durable = append(durable, id)
		}
		if !killed && (len(durable) >= 1000 || time.Now().After(deadline)) {
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
	flush(t, s) // seals the receipts whose seal the kill cut off
	data, err := os.ReadFile(active)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// The kill came when the active segment had reached its size but before the
		// next one existed: the open rotated it (cut, then compressed). The cut is
		// then checked by RejectedRecords below (a torn line kept would be refused).
		if _, zerr := os.Stat(active + ".zst"); zerr != nil {
			t.Fatalf("active segment %s gone and not compressed: %v", active, zerr)
		}
	case err != nil:
		t.Fatal(err)
	case len(data) > 0 && data[len(data)-1] != '\n':
		t.Fatal("torn tail not cut")
	}
	for _, id := range durable {
		raw, err := s.Get(id)
		if err != nil {
			t.Fatalf("acknowledged receipt %s lost: %v", id, err)
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
	if st := s.Stats(); st.RejectedRecords != 0 {
		t.Fatalf("%d records rejected after a kill", st.RejectedRecords)
	}
	t.Logf("%d acknowledged receipts survived SIGKILL; %d receipts stored", len(durable), s.Stats().Stored)
}
