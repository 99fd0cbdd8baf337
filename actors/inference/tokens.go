package inference

import (
	"regexp"
	"sync"

	"github.com/VictoriaMetrics/metrics"
)

// maxTokenModels caps the distinct model labels of sovereign_tokens_total; later
// models count under "other".
const maxTokenModels = 64

// tokenModelName is a model name usable as a label value as it is.
var tokenModelName = regexp.MustCompile(`^[A-Za-z0-9._:/@+-]{1,128}$`)

// tokenCounter counts sovereign_tokens_total{model,direction="in"|"out"}: the tokens
// really sent to (prompt) and received from (completion) the backends, for every
// upstream call (pipeline and pass-through). Model names come from the configuration
// and the backends' model lists (a pass-through model is counted only once a backend
// that lists it answered); at most limit distinct ones get their own label.
type tokenCounter struct {
	set   *metrics.Set
	limit int

	mu     sync.Mutex
	models map[string][2]*metrics.Counter // in, out
}

func newTokenCounter(set *metrics.Set, limit int) *tokenCounter {
	return &tokenCounter{set: set, limit: limit, models: map[string][2]*metrics.Counter{}}
}

func (t *tokenCounter) counters(model string) [2]*metrics.Counter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.models[model]; ok {
		return c
	}
	if !tokenModelName.MatchString(model) || (len(t.models) >= t.limit && model != "other") {
		model = "other"
		if c, ok := t.models[model]; ok {
			return c
		}
	}
	c := [2]*metrics.Counter{
		t.set.GetOrCreateCounter(`sovereign_tokens_total{model="` + model + `",direction="in"}`),
		t.set.GetOrCreateCounter(`sovereign_tokens_total{model="` + model + `",direction="out"}`),
	}
	t.models[model] = c
	return c
}

// count adds u for model (nothing for an empty usage).
func (t *tokenCounter) count(model string, u Usage) {
	if u.PromptTokens <= 0 && u.CompletionTokens <= 0 {
		return
	}
	c := t.counters(model)
	if u.PromptTokens > 0 {
		c[0].AddInt64(int64(u.PromptTokens))
	}
	if u.CompletionTokens > 0 {
		c[1].AddInt64(int64(u.CompletionTokens))
	}
}
