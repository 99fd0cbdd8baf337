package bridge

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// slowLogEvery is the least interval between two "client not reading" warnings of one
// listener; the next one carries the count suppressed in between.
const slowLogEvery = 10 * time.Second

// Lifecycle states.
const (
	stateNew int32 = iota
	stateStarting
	stateRunning
	stateShut
)

// Bridge is the desktop bridge: a loopback TCP listener speaking newline-delimited
// JSON-RPC 2.0 (bridge.md). Create it with New, run it with Start, stop it with Shutdown.
type Bridge struct {
	opts     Options
	log      *slog.Logger
	access   *slog.Logger // nil when Options.AccessLog is off
	m        *bridgeMetrics
	auth     *authenticator
	nonces   *nonceStore
	global   *lockedBucket // nil when off
	unauth   logLimiter
	refusals logLimiter // connections refused or closed for a limit
	slowLog  logLimiter // "client not reading": one line per slowLogEvery
	// errAuthTimeout is the AUTH_TIMEOUT line's error, naming AuthTimeout.
	errAuthTimeout *rpcError

	state        atomic.Int32
	requestCount atomic.Uint64
	started      time.Time // set before the accept loop starts
	ln           net.Listener
	addr         string

	baseCtx    context.Context // cancelled when Shutdown's deadline passes
	cancelBase context.CancelFunc
	wg         sync.WaitGroup // accept loop and every connection goroutine
	shutOnce   sync.Once

	mu sync.Mutex
	// mu guards the following fields.
	conns  map[*conn]struct{}
	perIP  map[netip.Addr]int // connections per remote address
	closed bool               // no connection may be added
}

// Stats is the bridge part of GET /v1/status.
type Stats struct {
	Listening    bool   `json:"listening"`
	Address      string `json:"address"`
	Connections  int    `json:"connections"`
	RequestCount uint64 `json:"request_count"`
}

// New checks and completes opts. It binds nothing; Start does.
func New(opts Options) (*Bridge, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge{
		opts:       o,
		log:        o.Logger.With("component", "bridge"),
		m:          newBridgeMetrics(o.Metrics),
		nonces:     newNonceStore(2*o.MaxSkew, o.NonceStoreMax),
		baseCtx:    ctx,
		cancelBase: cancel,
		conns:      make(map[*conn]struct{}),
		perIP:      make(map[netip.Addr]int),
		slowLog:    logLimiter{every: slowLogEvery},
		errAuthTimeout: newRPCError(CodeAuthMissing,
			"Authentication required: no authenticated request within "+o.AuthTimeout.String()+"; closing", "AUTH_TIMEOUT"),
	}
	if o.AccessLog {
		b.access = o.Logger.With("component", "bridge_access")
	}
	if o.GlobalRatePerSec > 0 {
		b.global = &lockedBucket{b: newBucket(o.GlobalRatePerSec, o.GlobalBurst, o.Now())}
	}
	return b, nil
}

// validate applies the start refusals in bridge.md's order.
func (b *Bridge) validate() error {
	o := &b.opts
	if len(o.Token) < MinTokenLen {
		if o.Token == "" {
			return fmt.Errorf("%w (BIZRA_BRIDGE_TOKEN is missing or empty)", ErrNoToken)
		}
		return fmt.Errorf("%w (BIZRA_BRIDGE_TOKEN has %d characters)", ErrNoToken, len(o.Token))
	}
	if o.Role != "node" && o.Role != "node0" {
		return fmt.Errorf("%w (BIZRA_NODE_ROLE=%q)", ErrBadRole, o.Role)
	}
	if o.Role == "node0" {
		ok, reason := false, "no genesis check configured"
		if o.GenesisCheck != nil {
			ok, reason = o.GenesisCheck()
		}
		if !ok {
			return fmt.Errorf("%w: Node0 genesis enforcement failed: %s. Required authority files: %s/node0_genesis.json and %s/genesis_hash.txt",
				ErrGenesis, reason, o.StateDir, o.StateDir)
		}
	}
	if len(o.SecretHex) != 64 {
		return fmt.Errorf("%w (got %d characters)", ErrNoReceiptKey, len(o.SecretHex))
	}
	if _, err := hex.DecodeString(o.SecretHex); err != nil {
		return fmt.Errorf("%w (not hex)", ErrNoReceiptKey)
	}
	if !isLoopback(o.Host) {
		return fmt.Errorf("%w: refusing host %q; bind 127.0.0.1 (or another loopback address)", ErrNotLoopback, o.Host)
	}
	if o.Core == nil || o.Receipts == nil {
		return fmt.Errorf("%w: Core and Receipts are required", ErrConfig)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start validates the configuration (refusing, in order: token, role, node0 genesis,
// receipt key, non-loopback host), binds the listener and starts accepting. Nothing is
// bound when it fails. ctx bounds only the bind; the bridge runs until Shutdown.
func (b *Bridge) Start(ctx context.Context) error {
	if !b.state.CompareAndSwap(stateNew, stateStarting) {
		return ErrStarted
	}
	if err := b.validate(); err != nil {
		b.state.Store(stateNew)
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(b.opts.Host, strconv.Itoa(b.opts.Port)))
	if err != nil {
		b.state.Store(stateNew)
		return fmt.Errorf("bridge: listen %s:%d: %w", b.opts.Host, b.opts.Port, err)
	}
	b.ln = ln
	b.addr = ln.Addr().String()
	b.started = b.opts.Now()
	b.auth = newAuthenticator(b.opts.Token, b.opts.MaxSkew, b.opts.RequireSig)
	b.auth.notBeforeMs = b.started.Add(-b.opts.StartSkew).UnixMilli()
	b.state.Store(stateRunning)
	b.log.Info("bridge listening", "addr", b.addr, "role", b.opts.Role, "max_conns", b.opts.MaxConns)
	b.wg.Go(b.acceptLoop)
	return nil
}

// Addr returns the bound address ("" before Start).
func (b *Bridge) Addr() string {
	if b.state.Load() < stateRunning {
		return ""
	}
	return b.addr
}

// Stats reports the listener state for /v1/status.
func (b *Bridge) Stats() Stats {
	b.mu.Lock()
	n := len(b.conns)
	b.mu.Unlock()
	return Stats{
		Listening:    b.state.Load() == stateRunning,
		Address:      b.Addr(),
		Connections:  n,
		RequestCount: b.requestCount.Load(),
	}
}

func (b *Bridge) acceptLoop() {
	defer func() {
		if v := recover(); v != nil {
			b.panicked("accept", v)
			if b.state.Load() == stateRunning {
				b.wg.Go(b.acceptLoop) // this goroutine still holds the WaitGroup: Add is safe
			}
		}
	}()
	var backoff time.Duration
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || b.state.Load() == stateShut {
				return
			}
			// Transient (EMFILE, ECONNABORTED…): back off like net/http.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			b.log.Warn("bridge accept failed", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-b.baseCtx.Done():
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		c := newConn(b, nc)
		switch b.addConn(c) {
		case admitFull:
			b.m.rejected.Inc()
			b.refuse(nc, errBusy)
			continue
		case admitPerIP:
			b.m.perIP.Inc()
			b.logRefusal("bridge refused a connection over the per-address cap", "TOO_MANY_CONNECTIONS", c.remote)
			b.refuse(nc, errPerIP)
			continue
		}
		b.m.conns.Inc()
		b.wg.Go(c.readLoop)
		b.wg.Go(c.writeLoop)
	}
}

// refuse answers a connection over MaxConns or MaxConnsPerIP (or arriving during
// shutdown) with one error line and closes it, without blocking the accept loop.
func (b *Bridge) refuse(nc net.Conn, e *rpcError) {
	_ = nc.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	_, _ = nc.Write(appendError(nil, nil, e, nil))
	_ = nc.Close()
}

// errPerIP answers a connection over MaxConnsPerIP.
var errPerIP = newRPCError(CodeBusy, "Too many connections from this address", "TOO_MANY_CONNECTIONS")

// addConn results.
const (
	admitOK = iota
	admitFull
	admitPerIP
)

func (b *Bridge) addConn(c *conn) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || len(b.conns) >= b.opts.MaxConns {
		return admitFull
	}
	if b.perIP[c.ip] >= b.opts.MaxConnsPerIP {
		return admitPerIP
	}
	b.conns[c] = struct{}{}
	b.perIP[c.ip]++
	return admitOK
}

func (b *Bridge) removeConn(c *conn) {
	b.mu.Lock()
	delete(b.conns, c)
	if n := b.perIP[c.ip] - 1; n > 0 {
		b.perIP[c.ip] = n
	} else {
		delete(b.perIP, c.ip)
	}
	b.mu.Unlock()
	b.m.conns.Dec()
}

// logRefusal logs a refused or closed connection at most once a second, with the
// count of lines suppressed since.
func (b *Bridge) logRefusal(msg, code, remote string) {
	if ok, suppressed := b.refusals.allow(time.Now()); ok {
		b.log.Warn(msg, "code", code, "remote_addr", remote, "suppressed", suppressed)
	}
}

// Shutdown stops accepting, lets in-flight requests finish and their responses flush
// until ctx's deadline, then closes every connection and waits for every goroutine.
// It is idempotent; it returns ctx.Err() when the deadline forced connections closed.
func (b *Bridge) Shutdown(ctx context.Context) error {
	if b.state.CompareAndSwap(stateNew, stateShut) {
		b.cancelBase()
		return nil
	}
	b.shutOnce.Do(func() {
		b.state.Store(stateShut)
		if b.ln != nil {
			_ = b.ln.Close()
		}
		b.mu.Lock()
		b.closed = true
		for c := range b.conns {
			c.stop()
		}
		b.mu.Unlock()
	})
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		b.cancelBase()
		b.log.Info("bridge stopped", "addr", b.addr)
		return nil
	case <-ctx.Done():
	}
	b.cancelBase()
	b.mu.Lock()
	for c := range b.conns {
		_ = c.nc.Close()
	}
	b.mu.Unlock()
	<-done
	b.log.Warn("bridge stopped with requests cut short", "addr", b.addr)
	return ctx.Err()
}

// logLimiter lets through one log line per interval (every; 0 means a second) and
// counts the rest.
type logLimiter struct {
	every      time.Duration
	last       atomic.Int64 // unix ns of the last line let through; 0 = never
	suppressed atomic.Int64
}

// allow reports whether to log now and how many lines were suppressed since the last.
func (l *logLimiter) allow(now time.Time) (bool, int64) {
	every := l.every
	if every <= 0 {
		every = time.Second
	}
	n, last := now.UnixNano(), l.last.Load()
	if (last == 0 || n-last >= int64(every)) && l.last.CompareAndSwap(last, n) {
		return true, l.suppressed.Swap(0)
	}
	l.suppressed.Add(1)
	return false, 0
}
