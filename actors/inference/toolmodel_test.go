package inference

import (
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// TestToolModel: the tool-capable model is the first OpenAI-compatible backend's that
// is configured to take tools, or whose listing marks the model as taking them
// ("capabilities": ["tool_use"]); none otherwise.
func TestToolModel(t *testing.T) {
	cases := []struct {
		name       string
		cfg        BackendConfig
		toolModels []string // listed with tool_use
		want       string   // "" for none
	}{
		{"configured", BackendConfig{Kind: KindOpenAI, Model: "m1", Tools: true}, nil, "m1"},
		{"configured, model discovered", BackendConfig{Kind: KindOpenAI, Tools: true}, nil, "m1"},
		{"listed, no model configured", BackendConfig{Kind: KindOpenAI}, []string{"m2"}, "m2"},
		{"listed, the configured model", BackendConfig{Kind: KindOpenAI, Model: "m2"}, []string{"m2"}, "m2"},
		{"listed, but not the configured model", BackendConfig{Kind: KindOpenAI, Model: "m1"}, []string{"m2"}, ""},
		{"nothing says tools", BackendConfig{Kind: KindOpenAI, Model: "m1"}, nil, ""},
		{"ollama is not used for tools", BackendConfig{Kind: KindOllama, Model: "m1", Tools: true}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := startMock(t, mockllm.Options{Models: []string{"m1", "m2"}, ToolModels: tc.toolModels})
			tc.cfg.Name, tc.cfg.URL = "be", m.URL()
			if tc.cfg.Kind == KindOllama {
				tc.cfg.URL = m.OllamaURL()
			}
			s := startService(t, testOptions(newSystem(t), metrics.NewSet(), tc.cfg))
			waitFor(t, "models listed", 2*time.Second, func() bool { return s.backends[0].models.Load() != nil })
			got, ok := s.ToolModel()
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("ToolModel %q %v, want %q", got, ok, tc.want)
			}
		})
	}
}
