package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/inference/mockllm"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/docs"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/supervision/node"
)

// StackOptions configures a Stack.
type StackOptions struct {
	// Dir is the parent of the state folder and the data lake; "" makes a temporary
	// folder that Shutdown removes.
	Dir string
	// MockLatency is the mock OpenAI backend's fixed delay per chat answer.
	MockLatency time.Duration
	// NoBackend runs the runtime on its embedded engine only (no mock backend).
	NoBackend bool
	// AccessLog, when set, receives the node's JSON log with the API and bridge access
	// lines on (as `bizra run` writes them to stderr); nil logs nothing.
	AccessLog io.Writer
	// FastMockLatency, when > 0 (and a backend runs), starts a second mock backend
	// with this delay serving model FastModel only (backend "fast", after "llm"): the
	// pass-through's constant-rate phase.
	FastMockLatency time.Duration
}

// FastModel is the model of the Stack's second mock backend (StackOptions.FastMockLatency).
const FastModel = "mock-fast"

// Stack is the whole runtime built by the node builder `bizra run` uses
// (supervision/node), in process on 127.0.0.1:0: the core with a seeded data lake and a
// fresh receipt key, the HTTP gateway with the OpenAI-compatible front, the desktop
// bridge, and a mock OpenAI-compatible backend.
type Stack struct {
	Runtime     *core.Runtime
	Gateway     *gateway.Server
	Bridge      *bridge.Bridge
	Mock        *mockllm.Server
	FastMock    *mockllm.Server // nil unless StackOptions.FastMockLatency > 0
	BridgeToken string
	Metrics     *metrics.Set

	node        *node.Node
	dir         string
	ownsDir     bool
	mockLatency time.Duration
	fastLatency time.Duration
}

// discardSystem is an actor system whose protoactor logger is silenced.
func discardSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}

// StartStack builds and starts a Stack. On error everything started is stopped.
func StartStack(ctx context.Context, o StackOptions) (s *Stack, err error) {
	s = &Stack{dir: o.Dir, Metrics: metrics.NewSet(), mockLatency: o.MockLatency, fastLatency: o.FastMockLatency}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "bizra-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench stack: %w", err)
		}
		s.dir, s.ownsDir = d, true
	}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Shutdown(sctx)
			s = nil
		}
	}()
	lake := filepath.Join(s.dir, "data-lake")
	if err := seedLake(lake); err != nil {
		return s, err
	}
	secret, err := receipt.GenerateSecret()
	if err != nil {
		return s, fmt.Errorf("bench stack: receipt key: %w", err)
	}
	var inf inference.Config
	if !o.NoBackend {
		s.Mock = mockllm.New(mockllm.Options{Latency: o.MockLatency})
		if _, err := s.Mock.Start(ctx); err != nil {
			return s, fmt.Errorf("bench stack: mock backend: %w", err)
		}
		inf.Backends = []inference.BackendConfig{{Name: "llm", Kind: inference.KindOpenAI, URL: s.Mock.URL(), Model: "mock-small"}}
		if o.FastMockLatency > 0 {
			s.FastMock = mockllm.New(mockllm.Options{Latency: o.FastMockLatency, Models: []string{FastModel}, RecordLimit: 1})
			if _, err := s.FastMock.Start(ctx); err != nil {
				return s, fmt.Errorf("bench stack: fast mock backend: %w", err)
			}
			inf.Backends = append(inf.Backends, inference.BackendConfig{Name: "fast", Kind: inference.KindOpenAI,
				URL: s.FastMock.URL(), Model: FastModel})
		}
	}
	var tok [32]byte
	_, _ = rand.Read(tok[:])
	s.BridgeToken = hex.EncodeToString(tok[:])
	var log *slog.Logger
	if o.AccessLog != nil {
		log = slog.New(slog.NewJSONHandler(o.AccessLog, nil))
	}
	s.node, err = node.New(node.Options{Metrics: s.Metrics, Logger: log,
		Runtime: core.Options{Version: "bench", StateDir: filepath.Join(s.dir, "state"), DataLake: lake,
			Inference: inf, ReceiptSecret: secret,
			// The same in-flight limit `bizra run` uses by default (--llm-max-in-flight).
			InferenceOptions: inference.Options{MaxInFlight: 32}},
		API: &node.APIOptions{Gateway: gateway.Options{Addr: "127.0.0.1:0", AccessLog: o.AccessLog != nil}},
		Bridge: &bridge.Options{Host: "127.0.0.1", Port: 0, Token: s.BridgeToken, SecretHex: secret.RevealHex(),
			Role: "node", NonceStoreMax: 1 << 22, AccessLog: o.AccessLog != nil}})
	if err != nil {
		return s, fmt.Errorf("bench stack: %w", err)
	}
	if err := s.node.Start(ctx); err != nil {
		return s, fmt.Errorf("bench stack: %w", err)
	}
	s.Runtime, s.Gateway, s.Bridge = s.node.Runtime, s.node.API, s.node.Bridge
	return s, nil
}

// APIURL is the gateway's base URL.
func (s *Stack) APIURL() string { return "http://" + s.Gateway.Addr() }

// Shutdown stops everything in reverse order and removes a temporary folder.
func (s *Stack) Shutdown(ctx context.Context) error {
	var errs []error
	if s.node != nil {
		errs = append(errs, s.node.Shutdown(ctx))
	}
	if s.Mock != nil {
		errs = append(errs, s.Mock.Shutdown(ctx))
	}
	if s.FastMock != nil {
		errs = append(errs, s.FastMock.Shutdown(ctx))
	}
	if s.ownsDir {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// seedLake writes the embedded docs into dir, as `bizra init` seeds a data lake.
func seedLake(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench stack: data lake: %w", err)
	}
	return fs.WalkDir(docs.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := docs.FS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	})
}
