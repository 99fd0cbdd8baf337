package skills_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/skills"
	"github.com/bizra/bizra/internal/catalog"
)

type fakeSkill struct {
	info skills.Info
	run  func(ctx context.Context, in map[string]any) (any, error)
}

func (f fakeSkill) Info() skills.Info { return f.info }
func (f fakeSkill) Run(ctx context.Context, in map[string]any) (any, error) {
	return f.run(ctx, in)
}

func fake(name, status string, run func(context.Context, map[string]any) (any, error)) fakeSkill {
	return fakeSkill{info: skills.Info{Name: name, Description: name + " skill", Status: status, Agent: "tester",
		Tags: []string{"t"}, Version: "0.1.0", RequiredInputs: []skills.InputSpec{{Name: "x", Type: skills.TypeString}}}, run: run}
}

type publicErr string

func (p publicErr) Error() string  { return "internal: " + string(p) }
func (p publicErr) Public() string { return string(p) }

func echo(ctx context.Context, in map[string]any) (any, error) {
	return map[string]any{"x": in["x"]}, nil
}

// newRegistry starts a registry on its own actor system; everything is stopped at
// cleanup.
func newRegistry(t *testing.T, o skills.Options) (*skills.Registry, *metrics.Set) {
	return newRegistryB(t, o)
}

func newRegistryB(t testing.TB, o skills.Options) (*skills.Registry, *metrics.Set) {
	t.Helper()
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	r, err := skills.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return r, o.Metrics
}

func lakeRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestList(t *testing.T) {
	r, _ := newRegistry(t, skills.Options{DataLakeRoot: lakeRoot(t), Skills: []skills.Skill{
		fake("zeta", skills.StatusAvailable, echo), fake("alpha", skills.StatusDisabled, echo),
	}})
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{"", []string{"alpha", "smart_files", "zeta"}},
		{"available", []string{"smart_files", "zeta"}},
		{"disabled", []string{"alpha"}},
		{"unknown-status", nil},
	} {
		t.Run("filter="+c.filter, func(t *testing.T) {
			got, err := r.List(context.Background(), c.filter)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, i := range got {
				names = append(names, i.Name)
			}
			if !slices.Equal(names, c.want) {
				t.Fatalf("got %v, want %v", names, c.want)
			}
		})
	}
}

func TestSmartFilesRegistration(t *testing.T) {
	r, _ := newRegistry(t, skills.Options{DataLakeRoot: lakeRoot(t)})
	got, err := r.List(context.Background(), "")
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	sf := got[0]
	if sf.Name != "smart_files" || sf.Agent != "file-manager" || sf.Status != "available" || sf.Version == "" ||
		!slices.Equal(sf.Tags, []string{"files", "organize", "rename", "merge", "cowork"}) ||
		len(sf.RequiredInputs) != 1 || sf.RequiredInputs[0].Name != "operation" {
		t.Fatalf("%+v", sf)
	}
	b, _ := json.Marshal(sf)
	for _, k := range []string{`"name"`, `"description"`, `"status"`, `"agent"`, `"tags"`} {
		if !strings.Contains(string(b), k) {
			t.Fatalf("%s lacks %s", b, k)
		}
	}
	// A missing or relative root refuses to build the registry.
	for _, root := range []string{"relative/lake", filepath.Join(t.TempDir(), "missing")} {
		if _, err := skills.New(skills.Options{DataLakeRoot: root}); err == nil {
			t.Fatalf("root %q accepted", root)
		}
	}
}

func TestInvokeSuccess(t *testing.T) {
	r, set := newRegistry(t, skills.Options{Skills: []skills.Skill{fake("echo", skills.StatusAvailable, echo)}})
	in := map[string]any{"x": "hello", "nested": map[string]any{"k": []any{1.0}}}
	inv, err := r.Invoke(context.Background(), "echo", in)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Success || inv.SkillName != "echo" || inv.Error != nil || inv.Outcome() != "success" {
		t.Fatalf("%+v", inv)
	}
	if out, _ := json.Marshal(inv.Output); string(out) != `{"x":"hello"}` {
		t.Fatalf("output %s", out)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(inv.ExecutionID) {
		t.Fatal(inv.ExecutionID)
	}
	s, err1 := time.Parse(time.RFC3339Nano, inv.StartedAt)
	c, err2 := time.Parse(time.RFC3339Nano, inv.CompletedAt)
	if err1 != nil || err2 != nil || c.Before(s) || !strings.HasSuffix(inv.StartedAt, "Z") || inv.DurationMs < 0 {
		t.Fatalf("%+v", inv)
	}
	// The bridge.md field names, exactly.
	var m map[string]any
	b, _ := json.Marshal(inv)
	_ = json.Unmarshal(b, &m)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"completed_at", "duration_ms", "error", "execution_id", "output", "skill_name", "started_at", "success"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %v", keys)
	}
	var buf strings.Builder
	set.WritePrometheus(&buf)
	for _, want := range []string{`sovereign_skill_invocations_total{skill="echo",outcome="success"} 1`, `sovereign_skill_duration_seconds_bucket{skill="echo",le=`} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("metrics lack %s:\n%s", want, buf.String())
		}
	}
}

func TestInputsAreCopied(t *testing.T) {
	r, _ := newRegistry(t, skills.Options{Skills: []skills.Skill{fake("mut", skills.StatusAvailable, func(_ context.Context, in map[string]any) (any, error) {
		in["x"] = "changed"
		in["list"].([]any)[0] = "changed"
		return nil, nil
	})}})
	in := map[string]any{"x": "orig", "list": []any{"orig"}}
	if _, err := r.Invoke(context.Background(), "mut", in); err != nil {
		t.Fatal(err)
	}
	if in["x"] != "orig" || in["list"].([]any)[0] != "orig" {
		t.Fatalf("caller's inputs changed: %v", in)
	}
	if _, err := r.Invoke(context.Background(), "mut", map[string]any{"x": "a", "ch": make(chan int)}); !errors.Is(err, skills.ErrInvalidInput) {
		t.Fatal(err)
	}
}

func TestSkillFailure(t *testing.T) {
	r, set := newRegistry(t, skills.Options{Skills: []skills.Skill{
		fake("public", skills.StatusAvailable, func(context.Context, map[string]any) (any, error) {
			return map[string]any{"partial": 1.0}, publicErr("Disk quota reached for /lake/x.")
		}),
		fake("internal", skills.StatusAvailable, func(context.Context, map[string]any) (any, error) {
			return nil, fmt.Errorf("open /etc/shadow: %w", os.ErrPermission)
		}),
		fake("badjson", skills.StatusAvailable, func(context.Context, map[string]any) (any, error) { return make(chan int), nil }),
	}})
	for _, c := range []struct{ skill, want string }{
		{"public", "Disk quota reached for /lake/x."},
		{"internal", "The skill failed unexpectedly."},
		{"badjson", "The skill failed unexpectedly."},
	} {
		t.Run(c.skill, func(t *testing.T) {
			inv, err := r.Invoke(context.Background(), c.skill, map[string]any{"x": "1"})
			if err != nil {
				t.Fatal(err)
			}
			if inv.Success || inv.ErrorText() != c.want || inv.Outcome() != "failure" || inv.ExecutionID == "" {
				t.Fatalf("%+v", inv)
			}
		})
	}
	var buf strings.Builder
	set.WritePrometheus(&buf)
	if !strings.Contains(buf.String(), `sovereign_skill_invocations_total{skill="internal",outcome="failure"} 1`) {
		t.Fatal(buf.String())
	}
}

func TestRejections(t *testing.T) {
	r, set := newRegistry(t, skills.Options{Skills: []skills.Skill{
		fake("echo", skills.StatusAvailable, echo), fake("off", skills.StatusDisabled, echo),
	}})
	for _, c := range []struct {
		name, skill string
		in          map[string]any
		sentinel    error
		code, text  string
	}{
		{"unknown skill", "nope", map[string]any{"x": "1"}, skills.ErrNotFound, "SKILL_NOT_FOUND", "Skill not found: nope"},
		{"disabled", "off", map[string]any{"x": "1"}, skills.ErrDisabled, "SKILL_DISABLED", "Skill 'off' is disabled."},
		{"missing input", "echo", map[string]any{}, skills.ErrInvalidInput, "SKILL_INVALID_INPUT", "Missing required input: x"},
		{"null input", "echo", map[string]any{"x": nil}, skills.ErrInvalidInput, "SKILL_INVALID_INPUT", "Missing required input: x"},
		{"wrong type", "echo", map[string]any{"x": 3.0}, skills.ErrInvalidInput, "SKILL_INVALID_INPUT", "Invalid input 'x': must be a non-empty string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			inv, err := r.Invoke(context.Background(), c.skill, c.in)
			if !errors.Is(err, c.sentinel) || catalog.Lookup(err).Code != c.code {
				t.Fatalf("err %v", err)
			}
			if inv.Success || inv.ErrorText() != c.text || inv.SkillName != c.skill {
				t.Fatalf("%+v", inv)
			}
			var ie *skills.InputError
			if errors.As(err, &ie) && ie.Input != "x" {
				t.Fatalf("input %q", ie.Input)
			}
		})
	}
	var buf strings.Builder
	set.WritePrometheus(&buf)
	for _, want := range []string{`{skill="unknown",outcome="not_found"} 1`, `{skill="off",outcome="disabled"} 1`, `{skill="echo",outcome="invalid_input"} 3`} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("metrics lack %s:\n%s", want, buf.String())
		}
	}
}

// blocker is a skill that signals when it starts and runs until released or ctx ends.
func blocker(started chan<- struct{}, release <-chan struct{}) func(context.Context, map[string]any) (any, error) {
	return func(ctx context.Context, _ map[string]any) (any, error) {
		started <- struct{}{}
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func TestOverload(t *testing.T) {
	started, release := make(chan struct{}, 4), make(chan struct{})
	r, set := newRegistry(t, skills.Options{MaxConcurrent: 2, Skills: []skills.Skill{fake("slow", skills.StatusAvailable, blocker(started, release))}})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := r.Invoke(context.Background(), "slow", map[string]any{"x": "1"})
			errs <- err
		}()
	}
	<-started
	<-started
	inv, err := r.Invoke(context.Background(), "slow", map[string]any{"x": "1"})
	if !errors.Is(err, skills.ErrOverloaded) || catalog.Lookup(err).Kind != catalog.Overloaded || inv.Success {
		t.Fatalf("%+v %v", inv, err)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Capacity is back.
	inv, err = r.Invoke(context.Background(), "slow", map[string]any{"x": "1"})
	if err != nil || !inv.Success {
		t.Fatalf("%+v %v", inv, err)
	}
	var buf strings.Builder
	set.WritePrometheus(&buf)
	if !strings.Contains(buf.String(), `{skill="slow",outcome="overloaded"} 1`) {
		t.Fatal(buf.String())
	}
}

func TestDeadline(t *testing.T) {
	started := make(chan struct{}, 1)
	r, _ := newRegistry(t, skills.Options{Skills: []skills.Skill{fake("slow", skills.StatusAvailable, blocker(started, nil))}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	inv, err := r.Invoke(ctx, "slow", map[string]any{"x": "1"})
	if !errors.Is(err, skills.ErrTimeout) || inv.Success {
		t.Fatalf("%+v %v", inv, err)
	}
}

func TestShutdownWaits(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	r, err := skills.New(skills.Options{Skills: []skills.Skill{fake("slow", skills.StatusAvailable, blocker(started, release))}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		inv skills.Invocation
		err error
	}
	res := make(chan result, 1)
	go func() {
		inv, err := r.Invoke(context.Background(), "slow", map[string]any{"x": "1"})
		res <- result{inv, err}
	}()
	<-started
	down := make(chan error, 1)
	go func() { down <- r.Shutdown(context.Background()) }()
	select {
	case err := <-down:
		t.Fatalf("Shutdown returned %v while an invocation ran", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := r.Invoke(context.Background(), "slow", map[string]any{"x": "1"}); !errors.Is(err, skills.ErrClosed) {
		t.Fatalf("invoke during shutdown: %v", err)
	}
	close(release)
	if err := <-down; err != nil {
		t.Fatal(err)
	}
	if got := <-res; got.err != nil || !got.inv.Success {
		t.Fatalf("%+v", got)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal("second Shutdown:", err)
	}
	if _, err := r.List(context.Background(), ""); !errors.Is(err, skills.ErrClosed) {
		t.Fatal(err)
	}
}

func TestShutdownDeadlineCancels(t *testing.T) {
	started := make(chan struct{}, 1)
	r, _ := skills.New(skills.Options{Skills: []skills.Skill{fake("slow", skills.StatusAvailable, blocker(started, nil))}})
	_ = r.Start(context.Background())
	res := make(chan error, 1)
	go func() {
		_, err := r.Invoke(context.Background(), "slow", map[string]any{"x": "1"})
		res <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, skills.ErrTimeout) {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	if _, err := skills.New(skills.Options{Skills: []skills.Skill{fake("a", "available", echo), fake("a", "available", echo)}}); !errors.Is(err, skills.ErrOptions) {
		t.Fatal(err)
	}
	r, _ := skills.New(skills.Options{})
	if _, err := r.Invoke(context.Background(), "a", nil); !errors.Is(err, skills.ErrClosed) {
		t.Fatal("invoke before Start:", err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
