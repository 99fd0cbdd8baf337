package tracing

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (the SDK's batch
// processor and the exporter's connections must end with Shutdown).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
