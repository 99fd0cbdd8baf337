package skills_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bizra/bizra/actors/skills"
	"github.com/bizra/bizra/internal/catalog"
)

// infoPanics panics in Info from its second call on (New reads it once at
// registration; the actor reads it on every invocation).
type infoPanics struct {
	fakeSkill
	calls *atomic.Int64
}

func (s infoPanics) Info() skills.Info {
	if s.calls.Add(1) > 1 {
		panic("info boom /secret")
	}
	return s.fakeSkill.Info()
}

// badMarshal panics when encoded.
type badMarshal struct{}

func (badMarshal) MarshalJSON() ([]byte, error) { panic("marshal boom /secret") }

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFaultSkillPanics: a panic in a skill's Run, Info or output encoding is answered
// ErrPanicked (500 INTERNAL at the edges) without the panic text, logged once with
// its stack, counted in sovereign_panics_total{component="skills"}, and the registry
// keeps serving.
func TestFaultSkillPanics(t *testing.T) {
	logs := &lockedBuf{}
	r, set := newRegistry(t, skills.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Skills: []skills.Skill{
		fake("run", skills.StatusAvailable, func(context.Context, map[string]any) (any, error) { panic("run boom /secret") }),
		fake("marshal", skills.StatusAvailable, func(context.Context, map[string]any) (any, error) {
			return map[string]any{"v": badMarshal{}}, nil
		}),
		infoPanics{fakeSkill: fake("info", skills.StatusAvailable, echo), calls: &atomic.Int64{}},
		fake("echo", skills.StatusAvailable, echo),
	}})
	for i, name := range []string{"run", "marshal", "info"} {
		t.Run(name, func(t *testing.T) {
			inv, err := r.Invoke(context.Background(), name, map[string]any{"x": "1"})
			if !errors.Is(err, skills.ErrPanicked) {
				t.Fatalf("err %v; want ErrPanicked", err)
			}
			if p := catalog.Lookup(err); p.HTTP != 500 || p.Code != "INTERNAL" || p.RPC != -32603 {
				t.Fatalf("renders %+v; want 500 INTERNAL -32603", p)
			}
			if inv.Success || inv.Output != nil || strings.Contains(inv.ErrorText(), "secret") || inv.ErrorText() == "" {
				t.Fatalf("invocation %+v", inv)
			}
			if got := set.GetOrCreateCounter(`sovereign_panics_total{component="skills"}`).Get(); got != uint64(i+1) {
				t.Fatalf("sovereign_panics_total{component=skills} = %d; want %d", got, i+1)
			}
			if n := strings.Count(logs.String(), `"msg":"skill panicked"`); n != i+1 {
				t.Fatalf("%d panic log lines; want %d:\n%s", n, i+1, logs)
			}
			if !strings.Contains(logs.String(), "runtime/debug.Stack") {
				t.Fatalf("no stack in the log:\n%s", logs)
			}
			if inv, err := r.Invoke(context.Background(), "echo", map[string]any{"x": "after"}); err != nil || !inv.Success {
				t.Fatalf("next invocation: %+v %v", inv, err)
			}
		})
	}
}

// TestFaultSkillsInputErrorNamedAtEdges: a refused input reaches a client (through
// catalog.Lookup, as both edges render) naming the input and what is wrong, not only
// the bare "Invalid skill input".
func TestFaultSkillsInputErrorNamedAtEdges(t *testing.T) {
	ie := &skills.InputError{Skill: "smart_files", Input: "operation", Text: "Invalid input 'operation': unknown operation 'bogus'"}
	for _, err := range []error{ie, fmt.Errorf("invoke_skill %q: %w", "smart_files", ie)} {
		p := catalog.Lookup(skills.WithPublicDetail(err))
		if p.Code != "SKILL_INVALID_INPUT" || p.Message != "Invalid skill input: "+ie.Text {
			t.Fatalf("rendered %q %q", p.Code, p.Message)
		}
		var got *skills.InputError
		if !errors.As(skills.WithPublicDetail(err), &got) || got != ie {
			t.Fatal("the InputError is no longer in the chain")
		}
	}
	if err := skills.WithPublicDetail(skills.ErrTimeout); err != skills.ErrTimeout {
		t.Fatalf("another error changed: %v", err)
	}
	if p := catalog.Lookup(skills.WithPublicDetail(skills.WithPublicDetail(ie))); strings.Count(p.Message, ie.Text) != 1 {
		t.Fatalf("detail attached twice: %q", p.Message)
	}
}
