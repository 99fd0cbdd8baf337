package supervision

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
)

func TestMetricsHooks(t *testing.T) {
	set := metrics.NewSet()
	h := MetricsHooks(set, nil)
	h.OnRestart(actor.NewPID("nonhost", "root/inference-ollama"), "x", 1, time.Second)
	h.OnRestart(actor.NewPID("nonhost", "root/inference-llama"), "x", 2, time.Second)
	h.OnEscalate(actor.NewPID("nonhost", "root/$12"), "x", 5)
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	out := buf.String()
	for _, want := range []string{
		`sovereign_actor_restarts_total{kind="inference"} 2`,
		`sovereign_actor_escalations_total{kind="anonymous"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := map[string]string{
		"root/cache": "cache", "root/worker7": "worker", "a/b/query_worker-3": "query_worker",
		"$5": "anonymous", "": "anonymous", "root/Cache": "anonymous",
		"root/" + strings.Repeat("a", 50): strings.Repeat("a", 32),
	}
	for id, want := range tests {
		if got := KindOf(actor.NewPID("h", id)); got != want {
			t.Errorf("KindOf(%q) = %q; want %q", id, got, want)
		}
	}
	if KindOf(nil) != "anonymous" {
		t.Error("nil pid")
	}
}
