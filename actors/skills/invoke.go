package skills

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/bizra/bizra/internal/catalog"
)

func (r *Registry) list(filter string) Listed {
	out := make([]Info, 0, len(r.infos))
	for _, i := range r.infos {
		if filter == "" || i.Status == filter {
			out = append(out, i.clone())
		}
	}
	return Listed{Skills: out, Count: len(out)}
}

// invoke validates m and runs it on a goroutine the Registry owns, waiting for its
// answer (an Invocation or a Rejected) at most until m.Deadline plus a grace period
// (so the invocation's own timeout answer arrives first) or ctx's end. The error is a
// failure to get an answer at all.
func (r *Registry) invoke(ctx context.Context, m Invoke) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("skills: %w: %w", ErrTimeout, err)
	}
	now := time.Now()
	reject := func(label, outcome string, err error, text string) (any, error) {
		r.count(label, outcome)
		return Rejected{Err: err, Invocation: r.rejection(m.Skill, now, text)}, nil
	}
	if !r.open() {
		if r.closed.Load() {
			return reject(labelOf(r, m.Skill), "unavailable", ErrClosed, catalog.Lookup(ErrClosed).Message)
		}
		return nil, ErrClosed // not started
	}
	s, ok := r.skills[m.Skill]
	if !ok {
		return reject("unknown", "not_found", fmt.Errorf("skills: %q: %w", m.Skill, ErrNotFound), "Skill not found: "+m.Skill)
	}
	info, ok := r.safeInfo(m.Skill, s)
	if !ok {
		return reject(m.Skill, "panic", fmt.Errorf("skills: %q: Info: %w", m.Skill, ErrPanicked), catalog.Lookup(ErrPanicked).Message)
	}
	if info.Status != StatusAvailable {
		return reject(m.Skill, "disabled", fmt.Errorf("skills: %q status %q: %w", m.Skill, info.Status, ErrDisabled),
			fmt.Sprintf("Skill '%s' is %s.", m.Skill, info.Status))
	}
	if ie := checkInputs(m.Skill, info.RequiredInputs, m.Inputs); ie != nil {
		return reject(m.Skill, "invalid_input", ie, ie.Text)
	}
	deadline := now.Add(r.opts.InvokeTimeout)
	if !m.Deadline.IsZero() && m.Deadline.Before(deadline) {
		deadline = m.Deadline
	}
	if !deadline.After(now) {
		return reject(m.Skill, "timeout", ErrTimeout, catalog.Lookup(ErrTimeout).Message)
	}
	select {
	case r.sem <- struct{}{}:
	default:
		return reject(m.Skill, "overloaded", ErrOverloaded, catalog.Lookup(ErrOverloaded).Message)
	}
	r.mu.Lock()
	if r.shutdown {
		r.mu.Unlock()
		<-r.sem
		return reject(m.Skill, "unavailable", ErrClosed, catalog.Lookup(ErrClosed).Message)
	}
	r.wg.Add(1)
	r.mu.Unlock()
	reply := make(chan any, 1)
	go func() {
		defer r.wg.Done()
		defer func() { <-r.sem }()
		reply <- r.execute(s, m, deadline)
	}()
	t := time.NewTimer(time.Until(deadline) + 250*time.Millisecond)
	defer t.Stop()
	select {
	case res := <-reply:
		return res, nil
	case <-t.C:
		return nil, fmt.Errorf("skills: invoke %s: %w", m.Skill, ErrTimeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("skills: invoke %s: %w: %w", m.Skill, ErrTimeout, ctx.Err())
	}
}

// execute runs one invocation on an owned goroutine and builds its answer.
func (r *Registry) execute(s Skill, m Invoke, deadline time.Time) (reply any) {
	ctx, cancel := context.WithDeadline(r.base, deadline)
	defer cancel()
	id := newID()
	start := time.Now()
	out, err := r.runSafely(ctx, s, m, id)
	end := time.Now()
	inv := Invocation{
		SkillName: m.Skill, Output: out, DurationMs: float64(end.Sub(start)) / float64(time.Millisecond),
		ExecutionID: id, StartedAt: stamp(start), CompletedAt: stamp(end),
	}
	r.observe(m.Skill, end.Sub(start))
	if errors.Is(err, ErrPanicked) {
		r.count(m.Skill, "panic")
		text := catalog.Lookup(ErrPanicked).Message
		inv.Output, inv.Error = nil, &text
		return Rejected{Err: err, Invocation: inv}
	}
	if err == nil {
		inv.Success = true
		r.count(m.Skill, "success")
		return inv
	}
	text, rejected := r.classify(ctx, m.Skill, id, err)
	inv.Error = &text
	if rejected != nil {
		inv.Output = nil
		return Rejected{Err: rejected, Invocation: inv}
	}
	r.count(m.Skill, "failure")
	return inv
}

// classify turns a Run error into public text, and a catalog error when the
// invocation is to be rejected rather than reported as the skill's failure.
func (r *Registry) classify(ctx context.Context, skill, id string, err error) (string, error) {
	var pe PublicError
	public := errors.As(err, &pe)
	switch {
	case public && catalog.Lookup(err).Kind == catalog.InvalidInput:
		ie := &InputError{Skill: skill, Text: pe.Public()}
		var named interface{ InputName() string }
		if errors.As(err, &named) {
			ie.Input = named.InputName()
		}
		r.count(skill, "invalid_input")
		return ie.Text, ie
	case public:
		return pe.Public(), nil
	case ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
		r.count(skill, "timeout")
		msg := catalog.Lookup(ErrTimeout).Message
		return msg, fmt.Errorf("skills: %s: %w", skill, ErrTimeout)
	}
	r.log.Warn("skill failed", "skill", skill, "execution_id", id, "err", err)
	return "The skill failed unexpectedly.", nil
}

// runSafely runs the skill and checks its output encodes as JSON (a MarshalJSON is
// skill code too). A panic in either becomes ErrPanicked: the stack is logged once and
// sovereign_panics_total{component="skills"} counts it.
func (r *Registry) runSafely(ctx context.Context, s Skill, m Invoke, id string) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked(m.Skill, id, p)
			out, err = nil, fmt.Errorf("skills: %q: %v: %w", m.Skill, p, ErrPanicked)
		}
	}()
	out, err = s.Run(ctx, m.Inputs)
	if err == nil {
		if _, jerr := json.Marshal(out); jerr != nil {
			r.log.Error("skill output is not JSON", "skill", m.Skill, "execution_id", id, "err", jerr)
			return nil, errors.New("skills: output not encodable")
		}
	}
	return out, err
}

// safeInfo calls s.Info on the caller's goroutine; a panic in it is contained here.
func (r *Registry) safeInfo(name string, s Skill) (info Info, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked(name, "", p)
			ok = false
		}
	}()
	return s.Info(), true
}

func (r *Registry) panicked(skill, id string, p any) {
	r.panics.Inc()
	r.log.Error("skill panicked", "skill", skill, "execution_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// checkInputs verifies the required inputs are present with their type.
func checkInputs(skill string, specs []InputSpec, in map[string]any) *InputError {
	for _, sp := range specs {
		v, ok := in[sp.Name]
		if !ok || v == nil {
			return &InputError{Skill: skill, Input: sp.Name, Text: "Missing required input: " + sp.Name}
		}
		good := true
		switch sp.Type {
		case TypeString:
			s, isStr := v.(string)
			good = isStr && s != ""
		case TypeBool:
			_, good = v.(bool)
		case TypeNumber:
			switch v.(type) {
			case float64, float32, int, int64, int32, uint, uint64, uint32, json.Number:
			default:
				good = false
			}
		case TypeObject:
			_, good = v.(map[string]any)
		case TypeArray:
			switch v.(type) {
			case []any, []string:
			default:
				good = false
			}
		}
		if !good {
			return &InputError{Skill: skill, Input: sp.Name,
				Text: fmt.Sprintf("Invalid input '%s': must be a non-empty %s", sp.Name, sp.Type)}
		}
	}
	return nil
}

// rejection is the Invocation of an Invoke that did not run.
func (r *Registry) rejection(skill string, at time.Time, text string) Invocation {
	ts := stamp(at)
	return Invocation{SkillName: skill, Error: &text, ExecutionID: newID(), StartedAt: ts, CompletedAt: ts}
}

func catalogText(err error) string { return catalog.Lookup(err).Message }

func labelOf(r *Registry, name string) string {
	if _, ok := r.skills[name]; ok {
		return name
	}
	return "unknown"
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
