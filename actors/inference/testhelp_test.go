package inference

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// assertExtractive checks that every answer sentence appears verbatim in the evidence
// passage it is attributed to, and that the text is made of those sentences.
func assertExtractive(t *testing.T, ans Answer, evidence []Evidence) {
	t.Helper()
	if len(ans.Sentences) == 0 {
		t.Fatalf("no sentences in %+v", ans)
	}
	for _, s := range ans.Sentences {
		found := false
		for _, ev := range evidence {
			if ev.Source == s.Source && strings.Contains(ev.Excerpt, s.Text) {
				found = true
			}
		}
		if !found {
			t.Fatalf("sentence %q (source %q) is not verbatim in its source", s.Text, s.Source)
		}
	}
	if len(ans.Citations) != len(ans.Sentences) {
		t.Fatalf("%d citations for %d sentences", len(ans.Citations), len(ans.Sentences))
	}
	flat := strings.Join(strings.Fields(ans.Text), " ")
	for i, s := range ans.Sentences {
		c := ans.Citations[i]
		marker := fmt.Sprintf("[%d]", i+1)
		if c.Marker != i+1 || c.Source != s.Source || c.Excerpt != s.Text || c.Lines != [2]int{c.LineStart, c.LineEnd} ||
			c.LineEnd-c.LineStart != strings.Count(s.Text, "\n") || c.LineStart < 1 {
			t.Fatalf("citation %d %+v for sentence %+v", i, c, s)
		}
		if !strings.Contains(flat, strings.Join(strings.Fields(s.Text), " ")+" "+marker) {
			t.Fatalf("text %q does not show %q with its marker %s", ans.Text, s.Text, marker)
		}
	}
}

// askAnswer sends an Ask to the service actor and waits for the reply, as the query
// worker does (Service has no blocking Answer: callers are actors). The request's
// deadline is the earliest of its own and ctx's.
func askAnswer(s *Service, ctx context.Context, req Request) (Answer, error) {
	if !s.started.Load() || s.rt.stopping.Load() {
		return Answer{}, ErrStopped
	}
	req.Deadline = s.deadline(ctx, req.Deadline)
	res, err := askService(s, ctx, &Ask{Request: req}, req.Deadline)
	if err != nil {
		return Answer{}, err
	}
	a, ok := res.(*Answered)
	if !ok {
		return Answer{}, fmt.Errorf("reply %T: %w", res, ErrBackend)
	}
	return a.Answer, a.Err
}

// askDecompose sends a DecomposeAsk and waits for the reply.
func askDecompose(s *Service, ctx context.Context, q string, maxN int) ([]string, error) {
	if !s.started.Load() || s.rt.stopping.Load() {
		return nil, ErrStopped
	}
	if len(s.backends) == 0 {
		return nil, fmt.Errorf("no external backend configured: %w", ErrNoModel)
	}
	dl := s.deadline(ctx, time.Time{})
	res, err := askService(s, ctx, &DecomposeAsk{Query: q, Max: maxN, Deadline: dl}, dl)
	if err != nil {
		return nil, err
	}
	d, ok := res.(*Decomposed)
	if !ok {
		return nil, fmt.Errorf("reply %T: %w", res, ErrBackend)
	}
	return d.SubQuestions, d.Err
}

func askService(s *Service, ctx context.Context, msg any, dl time.Time) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	remaining := time.Until(dl)
	if remaining <= 0 {
		return nil, ErrTimeout
	}
	res, err := s.opts.System.Root.RequestFuture(s.PID(), msg, remaining+2*futureGrace).Result()
	if err != nil {
		return nil, fmt.Errorf("no reply: %v: %w", err, ErrTimeout)
	}
	return res, nil
}
