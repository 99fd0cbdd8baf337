package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/gateway/openai"
	"github.com/bizra/bizra/supervision/launcher"
)

// stopTimeout bounds the shutdown of what started when a later component fails.
const stopTimeout = 10 * time.Second

// Options configures a node.
type Options struct {
	// Logger; nil discards. The actor system logs through it with component=actor.
	Logger *slog.Logger
	// Metrics receives every component's series; nil makes a fresh set.
	Metrics *metrics.Set
	// Runtime is the core's configuration; System, Logger and Metrics are set by New.
	Runtime core.Options
	// API, when non-nil, adds the HTTP gateway with the OpenAI-compatible front.
	API *APIOptions
	// Bridge, when non-nil, adds the desktop bridge.
	Bridge *bridge.Options
}

// APIOptions configures the HTTP gateway. In Gateway, Logger, Metrics, Core and Routes
// are set by the node.
type APIOptions struct {
	Gateway gateway.Options
	// Built, when set, is called once the API is built, just before it starts (cmd/bizra
	// logs its security warning there, where `bizra run` always has).
	Built func()
}

// Node is a built node. Its exported fields are set by New (API once started).
type Node struct {
	System  *actor.ActorSystem
	Runtime *core.Runtime
	API     *gateway.Server
	Bridge  *bridge.Bridge
	Metrics *metrics.Set

	log     *slog.Logger
	api     *APIOptions
	comps   []launcher.Component
	started []launcher.Component
}

// New builds the actor system, the runtime and (when configured) the bridge. Nothing
// is started. On error nothing is left behind.
func New(o Options) (*Node, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set := o.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return log.With("component", "actor")
	}))
	ro := o.Runtime
	ro.System, ro.Logger, ro.Metrics = sys, log, set
	rt, err := core.New(ro)
	if err != nil {
		sys.Shutdown()
		return nil, err
	}
	n := &Node{System: sys, Runtime: rt, Metrics: set, log: log, api: o.API}
	n.comps = append(n.comps, launcher.Component{Name: "runtime", Start: rt.Start, Shutdown: rt.Shutdown})
	if o.API != nil {
		n.comps = append(n.comps, launcher.Component{Name: "api", Start: n.startAPI, Shutdown: n.stopAPI})
	}
	if o.Bridge != nil {
		bo := *o.Bridge
		bo.Logger, bo.Metrics = log, set
		if bo.StateDir == "" {
			bo.StateDir = rt.StateDir()
		}
		b, err := NewBridge(bo, rt)
		if err != nil {
			sys.Shutdown()
			return nil, err
		}
		n.Bridge = b
		rt.SetBridgeStats(func() core.BridgeStats {
			s := b.Stats()
			return core.BridgeStats{Enabled: true, Listening: s.Listening, Address: s.Address,
				Connections: s.Connections, RequestCount: s.RequestCount}
		})
		n.comps = append(n.comps, launcher.Component{Name: "bridge", Start: b.Start, Shutdown: b.Shutdown})
	}
	return n, nil
}

// NewBridge builds a bridge over rt: o's Core, Receipts and GenesisCheck are set to the
// runtime's (the guard is the pin or recorded key, and swaps seen by maintenance).
func NewBridge(o bridge.Options, rt *core.Runtime) (*bridge.Bridge, error) {
	o.Core, o.Receipts, o.GenesisCheck = BridgeCore{RT: rt}, BridgeReceipts{RT: rt}, rt.GenesisStatus
	return bridge.New(o)
}

// NewAPI builds the HTTP gateway over a started runtime, with the OpenAI-compatible
// front; o's Core and Routes are set here.
func NewAPI(o gateway.Options, rt *core.Runtime) (*gateway.Server, error) {
	gc := GatewayCore{RT: rt}
	routes := gc.Routes()
	oa, err := openai.New(openai.Options{Logger: o.Logger, Metrics: o.Metrics, Inference: rt.Inference(),
		Query: rt.Query, Receipts: rt.Receipts()})
	if err != nil {
		return nil, err
	}
	routes.OpenAI = oa
	o.Core, o.Routes = gc, routes
	return gateway.New(o)
}

func (n *Node) startAPI(ctx context.Context) error {
	o := n.api.Gateway
	o.Logger, o.Metrics = n.log, n.Metrics
	srv, err := NewAPI(o, n.Runtime)
	if err != nil {
		return err
	}
	if n.api.Built != nil {
		n.api.Built()
	}
	n.API = srv
	return srv.Start(ctx)
}

func (n *Node) stopAPI(ctx context.Context) error {
	if n.API == nil {
		return nil
	}
	return n.API.Shutdown(ctx)
}

// Components are the node's parts in start order (runtime, api, bridge), for
// launcher.Run. Call Close after Run returns.
func (n *Node) Components() []launcher.Component { return n.comps }

// Start starts the components in order. When one fails, those already started are
// shut down (reverse order, within 10 s) and the error names the failing one, except
// the runtime, whose errors already say what failed.
func (n *Node) Start(ctx context.Context) error {
	for _, c := range n.comps {
		if err := c.Start(ctx); err != nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			serr := n.stopStarted(sctx)
			cancel()
			if c.Name != "runtime" {
				err = fmt.Errorf("%s: %w", c.Name, err)
			}
			return errors.Join(err, serr)
		}
		n.started = append(n.started, c)
	}
	return nil
}

func (n *Node) stopStarted(ctx context.Context) error {
	var errs []error
	for i := len(n.started) - 1; i >= 0; i-- {
		if err := n.started[i].Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", n.started[i].Name, err))
		}
	}
	n.started = nil
	return errors.Join(errs...)
}

// Shutdown stops what Start started, in reverse order, then closes the actor system.
// Idempotent.
func (n *Node) Shutdown(ctx context.Context) error {
	err := n.stopStarted(ctx)
	n.Close()
	return err
}

// Close shuts the actor system down. Call it after the components have stopped
// (launcher.Run returned, or Shutdown). Idempotent.
func (n *Node) Close() {
	if n.System != nil {
		n.System.Shutdown()
		n.System = nil
	}
}
