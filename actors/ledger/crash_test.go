package ledger

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash and disk tests re-execute the test binary as a child process; the child
// reads these variables (tests may read the environment; the package never does).
const (
	childEnv    = "BIZRA_SEL_TEST_CHILD" // "load", "diskfull" or "open"
	childDirEnv = "BIZRA_SEL_TEST_DIR"
)

func runChild(kind string) int {
	dir := os.Getenv(childDirEnv)
	switch kind {
	case "load":
		return childLoad(dir)
	case "diskfull":
		return childDiskFull(dir)
	case "open":
		_, err := Open(Options{Dir: dir})
		fmt.Println(err)
		if errors.Is(err, ErrReadOnly) {
			return 0
		}
		return 1
	}
	return 2
}

// childLoad commits from 16 goroutines until killed, printing "seq hash" for each
// acknowledged episode.
func childLoad(dir string) int {
	sys := newChildSystem()
	l, err := Open(Options{System: sys, Dir: dir, SegmentBytes: 32 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := l.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				a, err := l.Commit(context.Background(), sample(fmt.Sprintf("crash worker %d episode %d", w, i)))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "%d %s\n", a.Sequence, a.EpisodeHash)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return 1
}

// TestCrashKill9 kills a committing child with SIGKILL at 20 random moments and checks
// after each kill that every acknowledged episode survived and the chain verifies.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acked := map[uint64]string{}
	deadline := time.Now().Add(18 * time.Second)
	rounds := 0
	for ; rounds < 20 && time.Now().Before(deadline); rounds++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=load", childDirEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		var rd sync.WaitGroup
		rd.Go(func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		})
		var got []string
		// Wait for the first acknowledgement (the child is under load), then a random moment.
		select {
		case l, ok := <-lines:
			if ok {
				got = append(got, l)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("child acknowledged nothing within 5 s")
		}
		timer := time.After(time.Duration(rand.IntN(150)) * time.Millisecond)
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break wait
				}
				got = append(got, l)
			case <-timer:
				break wait
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for l := range lines {
			got = append(got, l)
		}
		rd.Wait()
		_ = cmd.Wait()
		for _, l := range got {
			f := strings.Fields(l)
			if len(f) != 2 {
				continue
			}
			seq, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				t.Fatalf("child line %q", l)
			}
			acked[seq] = f[1]
		}
		l, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", rounds, err)
		}
		v := l.Verify()
		if !v.Valid {
			t.Fatalf("round %d: chain invalid at %d", rounds, *v.FirstBadSequence)
		}
		for seq, h := range acked {
			ep, err := l.BySequence(seq)
			if err != nil || ep.EpisodeHash != h {
				t.Fatalf("round %d: acknowledged episode %d lost (%v)", rounds, seq, err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(acked) < rounds {
		t.Fatalf("only %d acknowledged episodes over %d rounds", len(acked), rounds)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.zst"))
	t.Logf("%d kills, %d acknowledged episodes all present, %d sealed segments", rounds, len(acked), len(segs))
}

// childDiskFull commits under a small file-size limit until the disk "fills", checks
// the error, lifts the limit and commits again.
func childDiskFull(dir string) int {
	signal.Ignore(syscall.SIGXFSZ)
	sys := newChildSystem()
	l, err := Open(Options{System: sys, Dir: dir, SegmentBytes: 1 << 30})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	if err := l.Start(context.Background()); err != nil {
		fmt.Println("start:", err)
		return 1
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		fmt.Println("getrlimit:", err)
		return 1
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 20 << 10, Max: old.Max}); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	full := false
	for i := 0; i < 1000 && !full; i++ {
		a, err := l.Commit(context.Background(), sample(fmt.Sprintf("fill %d", i)))
		switch {
		case err == nil:
			fmt.Printf("%d %s\n", a.Sequence, a.EpisodeHash)
		case errors.Is(err, ErrDiskFull):
			fmt.Printf("FULL %v\n", err)
			st := l.Stats()
			fmt.Printf("STATS full %t %s\n", st.Writable, st.WriteError)
			full = true
		default:
			fmt.Println("unexpected:", err)
			return 1
		}
	}
	if !full {
		fmt.Println("never full")
		return 1
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	for i := range 5 {
		a, err := l.Commit(context.Background(), sample(fmt.Sprintf("after %d", i)))
		if err != nil {
			fmt.Println("after space returned:", err)
			return 1
		}
		fmt.Printf("%d %s\n", a.Sequence, a.EpisodeHash)
	}
	st := l.Stats()
	fmt.Printf("STATS after %t %s\n", st.Writable, st.WriteError)
	if err := l.Shutdown(context.Background()); err != nil {
		fmt.Println("shutdown:", err)
		return 1
	}
	return 0
}

// TestFaultLedgerDiskFullRlimit: a write the kernel refuses (RLIMIT_FSIZE: EFBIG) gives
// SEL_DISK_FULL and marks the ledger not writable, nothing acknowledged is lost, the
// ledger carries on once space returns, and the folder reopens without damage.
func TestFaultLedgerDiskFullRlimit(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=diskfull", childDirEnv+"="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	acked := map[uint64]string{}
	var fullLine string
	var stats []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "FULL ") {
			fullLine = line
			continue
		}
		if s, ok := strings.CutPrefix(line, "STATS "); ok {
			stats = append(stats, strings.TrimSpace(s))
			continue
		}
		var seq uint64
		var h string
		if _, err := fmt.Sscanf(line, "%d %s", &seq, &h); err != nil {
			t.Fatalf("child line %q", line)
		}
		acked[seq] = h
	}
	if !strings.Contains(fullLine, "no space left for the ledger") || !strings.Contains(fullLine, "file too large") {
		t.Errorf("disk-full error not clear: %q", fullLine)
	}
	if len(stats) != 2 || stats[0] != "full false SEL_DISK_FULL" || stats[1] != "after true" {
		t.Errorf("stats lines %q; want not writable (SEL_DISK_FULL) while full, writable after", stats)
	}
	l, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if v := l.Verify(); !v.Valid {
		t.Fatalf("chain invalid at %d", *v.FirstBadSequence)
	}
	if l.Len() != len(acked) {
		t.Errorf("%d episodes stored; %d acknowledged", l.Len(), len(acked))
	}
	for seq, h := range acked {
		if ep, err := l.BySequence(seq); err != nil || ep.EpisodeHash != h {
			t.Errorf("acknowledged %d lost: %v", seq, err)
		}
	}
}

// TestReadOnlyFolder: opening a folder that cannot be written fails with SEL_READ_ONLY
// and says which path. Root ignores permission bits, so as root the check runs in a
// child process with the uid of nobody.
func TestReadOnlyFolder(t *testing.T) {
	base := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	existing := filepath.Join(base, "existing")
	l, err := Open(Options{Dir: existing})
	must(err)
	must(l.Close())
	fresh := filepath.Join(base, "ro", "sel")
	must(os.MkdirAll(filepath.Dir(fresh), 0o755))
	must(os.Chmod(filepath.Dir(fresh), 0o555))
	must(os.Chmod(existing, 0o555))
	must(os.Chmod(base, 0o755))
	must(os.Chmod(filepath.Dir(base), 0o755))
	for _, dir := range []string{fresh, existing} {
		if os.Geteuid() != 0 {
			_, err := Open(Options{Dir: dir})
			if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), dir) {
				t.Errorf("Open(%s) = %v; want ErrReadOnly naming the folder", dir, err)
			}
			continue
		}
		exe, err := os.Executable()
		must(err)
		bin := filepath.Join(base, "ledger.test")
		if _, err := os.Stat(bin); err != nil {
			b, err := os.ReadFile(exe)
			must(err)
			must(os.WriteFile(bin, b, 0o755))
		}
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=open", childDirEnv+"="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "read-only") || !strings.Contains(string(out), dir) {
			t.Errorf("open %s as nobody: %v: %s", dir, err, out)
		}
	}
}
