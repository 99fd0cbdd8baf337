package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress prints one line per phase to w: on a terminal a bar redrawn in place,
// elsewhere the phase's start and end lines only.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	total  int
	done   int
	phase  string
	detail string
	start  time.Time
	t0     time.Time
}

func newProgress(w io.Writer, tty bool, total int) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, tty: tty, total: total, t0: time.Now()}
}

// begin starts a phase.
func (p *progress) begin(phase string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase, p.detail, p.start = phase, "", time.Now()
	if p.tty {
		p.drawLocked()
	} else {
		fmt.Fprintf(p.w, "[%2d/%d] %-28s …\n", p.done+1, p.total, phase)
	}
}

// step updates the current phase's detail.
func (p *progress) step(detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.detail = detail
	if p.tty {
		p.drawLocked()
	}
}

// end finishes the phase with a one-line summary.
func (p *progress) end(summary string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	el := time.Since(p.start).Round(100 * time.Millisecond)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "[%2d/%d] %-28s %6s  %s\n", p.done, p.total, p.phase, el, summary)
}

func (p *progress) drawLocked() {
	const width = 20
	filled := width * p.done / max(p.total, 1)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	fmt.Fprintf(p.w, "\r\033[K%s %2d/%d %s %s (%s)", bar, p.done+1, p.total, p.phase, p.detail,
		time.Since(p.t0).Round(time.Second))
}
