package bridge

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Defaults (bridge.md, Listener).
const (
	DefaultHost               = "127.0.0.1"
	DefaultPort               = 9742
	DefaultMaxConns           = 1024
	DefaultMaxConnsPerIP      = 256
	DefaultAuthTimeout        = 10 * time.Second
	DefaultMaxLineBytes       = 1 << 20
	DefaultPartialLineTimeout = 10 * time.Second
	DefaultIdleTimeout        = 5 * time.Minute
	DefaultWriteTimeout       = 10 * time.Second
	DefaultMaxSkew            = 120 * time.Second
	DefaultRatePerSec         = 20
	DefaultBurst              = 30
	DefaultNonceStoreMax      = 1_000_000
	DefaultOutboundQueue      = 64
	DefaultRequestTimeout     = 30 * time.Second
	DefaultStateDir           = "sovereign_state"
	// MinTokenLen is the shortest BIZRA_BRIDGE_TOKEN Start accepts.
	MinTokenLen = 16
	// MaxNonceChars bounds X-BIZRA-NONCE (in characters).
	MaxNonceChars = 128
)

// Options configures a Bridge. The zero value of every field is documented; New fills
// defaults on a copy. Only cmd/ reads flags and environment and fills these.
type Options struct {
	// Logger; nil discards.
	Logger *slog.Logger
	// AccessLog writes one INFO line per authenticated request to Logger
	// (component=bridge_access: method, outcome, code, duration_ms, bytes in and out,
	// remote address, receipt id, trace id). Unauthenticated lines are not in it (they
	// are counted, and logged at most once a second). false, the zero value, writes
	// none; cmd/bizra turns it on by default.
	AccessLog bool
	// Metrics; nil uses metrics.NewSet().
	Metrics *metrics.Set

	// Host to bind; "" means 127.0.0.1. Only loopback addresses are accepted.
	Host string
	// Port to bind; 0 asks the kernel for a free port (tests). cmd/ passes 9742
	// (DefaultPort, as DefaultOptions does).
	Port int

	// Token is BIZRA_BRIDGE_TOKEN; Start refuses one shorter than MinTokenLen.
	Token string
	// SecretHex is BIZRA_RECEIPT_PRIVATE_KEY_HEX. The bridge only checks that it is
	// 64 hex characters (the receipt store owns the key).
	SecretHex string
	// Role is BIZRA_NODE_ROLE: "node" or "node0"; "" is refused (cmd/ applies the
	// "node" default).
	Role string
	// GenesisCheck validates the node0 genesis chain; required when Role is node0
	// (nil then refuses start).
	GenesisCheck func() (ok bool, reason string)
	// StateDir names the state folder in the node0 refusal; "" means "sovereign_state".
	StateDir string

	// MaxConns: connections beyond it are closed at accept; 0 means 1024.
	MaxConns int
	// MaxConnsPerIP: connections from one remote address beyond it are answered with
	// one -32000 TOO_MANY_CONNECTIONS line and closed at accept; 0 means 256, a
	// quarter of the default MaxConns and four times a 64-connection desktop pool
	// (every loopback client is 127.0.0.1 unless it binds another 127.x address).
	// A value of MaxConns or more switches it off.
	MaxConnsPerIP int
	// AuthTimeout: a connection that has not sent one authenticated request (one
	// that passed the auth table and the nonce check) this long after accept gets one
	// -32001 AUTH_TIMEOUT line and is closed, so silent or unauthenticated
	// connections cannot hold slots for IdleTimeout; 0 means 10 s
	// (--bridge-auth-timeout). Once authenticated, IdleTimeout alone applies.
	AuthTimeout time.Duration
	// MaxLineBytes: a longer request line gets -32600 and the connection is closed;
	// 0 means 1 MiB.
	MaxLineBytes int
	// PartialLineTimeout: a started line must end within it; 0 means 10 s.
	PartialLineTimeout time.Duration
	// IdleTimeout: a connection with no request for this long is closed; 0 means 5 min.
	IdleTimeout time.Duration
	// WriteTimeout: a response flush blocked this long disconnects the client; 0 means 10 s.
	WriteTimeout time.Duration
	// OutboundQueue: responses waiting for the writer per connection; when full the
	// client is disconnected; 0 means 64.
	OutboundQueue int
	// RequestTimeout bounds one core call (sovereign_query uses its own timeout_ms
	// plus one second instead); 0 means 30 s.
	RequestTimeout time.Duration

	// MaxSkew is the accepted |now − X-BIZRA-TS|; 0 means 120 s. Nonces are kept for 2×MaxSkew.
	MaxSkew time.Duration
	// StartSkew: a request stamped more than StartSkew before this listener's Start
	// is refused (AUTH_STALE_TIMESTAMP, reason before_start) because the nonce window
	// began empty at Start and cannot tell it from a line captured by an earlier
	// process. 0, the default, is the exact rule: nothing stamped before Start. A
	// client whose clock lags the node's by d is then refused only during the first d
	// after Start. A positive value serves lagging clients at once, but lets a line
	// captured up to StartSkew before a restart be replayed once after it (a process
	// restart takes well under a second), so keep it small; at most MaxSkew.
	StartSkew time.Duration
	// RatePerSec and Burst configure the per-connection token bucket
	// (BIZRA_BRIDGE_RATE_PER_S, BIZRA_BRIDGE_BURST). RatePerSec 0 switches it off;
	// Burst 0 with a non-zero rate means Burst = ceil(RatePerSec). DefaultOptions
	// sets 20/s, burst 30.
	RatePerSec float64
	Burst      int
	// GlobalRatePerSec and GlobalBurst configure a bucket shared by all connections;
	// 0 is off.
	GlobalRatePerSec float64
	GlobalBurst      int
	// NonceStoreMax bounds the replay store; when full new requests are refused with
	// NONCE_STORE_FULL. 0 means 1,000,000.
	NonceStoreMax int
	// RequireSig makes X-BIZRA-SIG mandatory (--bridge-require-sig).
	RequireSig bool

	// Core and Receipts are required.
	Core     Core
	Receipts Receipts

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultOptions returns the documented production defaults: 127.0.0.1:9742, 20
// requests/s with a burst of 30 per connection, and every limit at its default. The
// caller fills Token, SecretHex, Role, Core, Receipts and the rest.
func DefaultOptions() Options {
	return Options{Host: DefaultHost, Port: DefaultPort, RatePerSec: DefaultRatePerSec, Burst: DefaultBurst}
}

func (o Options) withDefaults() (Options, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Port < 0 || o.Port > 65535 {
		return o, fmt.Errorf("%w: port %d out of range", ErrConfig, o.Port)
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	for _, v := range []struct {
		name string
		p    *int
		def  int
	}{
		{"MaxConns", &o.MaxConns, DefaultMaxConns},
		{"MaxConnsPerIP", &o.MaxConnsPerIP, DefaultMaxConnsPerIP},
		{"MaxLineBytes", &o.MaxLineBytes, DefaultMaxLineBytes},
		{"OutboundQueue", &o.OutboundQueue, DefaultOutboundQueue},
		{"NonceStoreMax", &o.NonceStoreMax, DefaultNonceStoreMax},
	} {
		if *v.p < 0 {
			return o, fmt.Errorf("%w: %s %d is negative", ErrConfig, v.name, *v.p)
		}
		if *v.p == 0 {
			*v.p = v.def
		}
	}
	for _, v := range []struct {
		name string
		p    *time.Duration
		def  time.Duration
	}{
		{"PartialLineTimeout", &o.PartialLineTimeout, DefaultPartialLineTimeout},
		{"IdleTimeout", &o.IdleTimeout, DefaultIdleTimeout},
		{"AuthTimeout", &o.AuthTimeout, DefaultAuthTimeout},
		{"WriteTimeout", &o.WriteTimeout, DefaultWriteTimeout},
		{"RequestTimeout", &o.RequestTimeout, DefaultRequestTimeout},
		{"MaxSkew", &o.MaxSkew, DefaultMaxSkew},
	} {
		if *v.p < 0 {
			return o, fmt.Errorf("%w: %s %v is negative", ErrConfig, v.name, *v.p)
		}
		if *v.p == 0 {
			*v.p = v.def
		}
	}
	if o.StartSkew < 0 || o.StartSkew > o.MaxSkew {
		return o, fmt.Errorf("%w: StartSkew %v outside 0..MaxSkew (%v)", ErrConfig, o.StartSkew, o.MaxSkew)
	}
	if o.RatePerSec < 0 || o.Burst < 0 || o.GlobalRatePerSec < 0 || o.GlobalBurst < 0 {
		return o, fmt.Errorf("%w: negative rate or burst", ErrConfig)
	}
	if o.RatePerSec > 0 && o.Burst == 0 {
		o.Burst = int(math.Ceil(o.RatePerSec))
	}
	if o.GlobalRatePerSec > 0 && o.GlobalBurst == 0 {
		o.GlobalBurst = int(math.Ceil(o.GlobalRatePerSec))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
