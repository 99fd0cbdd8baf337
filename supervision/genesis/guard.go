package genesis

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// ReasonSwapped starts the reason of a Verdict whose genesis on disk is another
// document than the one validated at start (another genesis hash or another key).
const ReasonSwapped = "GENESIS_SWAPPED"

// Guard holds a running node's origin so that hot paths (status, every receipt) read it
// with one atomic load instead of re-validating files: NewGuard enforces at start,
// Refresh re-verifies (the maintenance loop calls it each cycle), Origin and Status
// read the last result.
//
// For RoleNode0 the guard anchors the genesis it validated at start (its identity key
// and genesis hash): a later Refresh that finds another document on disk fails with
// a reason starting with ReasonSwapped, even when the new files validate on their own.
type Guard struct {
	opts GuardOptions
	log  *slog.Logger
	// anchor is the genesis validated at start (RoleNode0 only).
	anchorKey  ed25519.PublicKey
	anchorHash string
	last       atomic.Pointer[guardResult]
}

// GuardOptions configures NewGuardWith.
type GuardOptions struct {
	// Role is the node role; only RoleNode0 validates anything.
	Role Role
	// Dir is the state folder.
	Dir string
	// TrustedPublicKey pins Node0's identity key: a genesis signed by any other key is
	// refused with a *TrustError. With TrustOnFirstUse the pin is also recorded in
	// Dir/TrustFile (replacing an older record: the deliberate reset).
	TrustedPublicKey ed25519.PublicKey
	// PinSource names where the pin comes from, for messages (e.g.
	// "--genesis-public-key / BIZRA_GENESIS_PUBLIC_KEY"); "" says "the configured
	// genesis public key".
	PinSource string
	// TrustOnFirstUse, without a pin, trusts the key recorded in Dir/TrustFile and
	// records the first validated key there when there is none.
	TrustOnFirstUse bool
	// Logger receives the INFO line that records a key on first use; nil discards.
	Logger *slog.Logger
}

type guardResult struct {
	origin  Origin
	ok      bool
	swapped bool
	reason  string
}

// Verdict is the result of one check of the genesis files.
type Verdict struct {
	OK     bool
	Reason string
	// Swapped is set when the files on disk hold another genesis than the one
	// validated at start (Reason starts with ReasonSwapped).
	Swapped bool
}

// NewGuard is NewGuardWith without a pin or trust on first use.
func NewGuard(role Role, dir string) (*Guard, error) {
	return NewGuardWith(GuardOptions{Role: role, Dir: dir})
}

// NewGuardWith reads the files once. For RoleNode0 it returns an *EnforcementError
// when the chain does not validate, a *TrustError when it is signed by a key other
// than the pinned or recorded one, and an error wrapping ErrTrustFile when the trust
// file cannot be read or written; the caller refuses to start. An unknown role is an
// error wrapping ErrInvalidRole. For RoleNode the pin and the trust file are not used.
func NewGuardWith(o GuardOptions) (*Guard, error) {
	if _, err := ParseRole(string(o.Role)); err != nil {
		return nil, err
	}
	if o.TrustedPublicKey != nil && len(o.TrustedPublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("trusted public key of %d bytes: %w", len(o.TrustedPublicKey), ErrInvalidPublicKey)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{opts: o, log: log}
	if o.Role != RoleNode0 {
		g.last.Store(&guardResult{origin: Snapshot(RoleNode, o.Dir), ok: true, reason: ReasonOK})
		return g, nil
	}
	trusted, pinned := o.TrustedPublicKey, o.TrustedPublicKey != nil
	var recorded ed25519.PublicKey
	if o.TrustOnFirstUse {
		var err error
		if recorded, err = ReadTrustFile(o.Dir); err != nil {
			return nil, err
		}
		if !pinned {
			trusted = recorded
		}
	}
	gen, reason := validateSafe(o.Dir, trusted)
	if reason == ReasonTrustedKey && gen != nil {
		found, _ := hex.DecodeString(gen.Identity.PublicKey)
		return nil, &TrustError{Dir: o.Dir, Expected: trusted, Found: found, Pinned: pinned, PinSource: o.PinSource}
	}
	if reason != ReasonOK {
		return nil, &EnforcementError{Dir: o.Dir, Reason: reason}
	}
	pub, _ := hex.DecodeString(gen.Identity.PublicKey) // validated: 64 hex
	if o.TrustOnFirstUse && !bytes.Equal(recorded, pub) {
		if err := WriteTrustFile(o.Dir, pub); err != nil {
			return nil, err
		}
		msg := "node0 genesis key recorded on first use; a genesis signed by another key will be refused"
		if pinned {
			msg = "node0 genesis key pin recorded; a genesis signed by another key will be refused"
		}
		log.Info(msg, "key_id", KeyID(pub), "node_id", gen.Identity.NodeID,
			"file", filepath.Join(o.Dir, TrustFile), "replaced_key_id", keyIDOrEmpty(recorded))
	}
	g.anchorKey, g.anchorHash = pub, gen.GenesisHash
	g.last.Store(&guardResult{origin: node0Origin(gen), ok: true, reason: ReasonOK})
	return g, nil
}

func keyIDOrEmpty(pub ed25519.PublicKey) string {
	if len(pub) == 0 {
		return ""
	}
	return KeyID(pub)
}

// Refresh re-validates the chain (RoleNode0) and stores the new origin. For RoleNode
// it is always ("ok", true) with the ephemeral origin. On failure the origin falls back
// to ephemeral_node; the caller marks health unhealthy and logs a security event.
func (g *Guard) Refresh() (ok bool, reason string) {
	v := g.Check()
	return v.OK, v.Reason
}

// Check is Refresh with the full verdict: for RoleNode0 the files must validate, be
// signed by the key validated at start and hold the same genesis hash.
func (g *Guard) Check() Verdict {
	r := &guardResult{origin: Snapshot(RoleNode, g.opts.Dir), ok: true, reason: ReasonOK}
	if g.opts.Role == RoleNode0 {
		gen, why := validateSafe(g.opts.Dir, g.anchorKey)
		switch {
		case gen != nil && (gen.Identity.PublicKey != hex.EncodeToString(g.anchorKey) ||
			gen.GenesisHash != g.anchorHash && !documentFailure(why)):
			r.ok, r.swapped = false, true
			r.reason = fmt.Sprintf("%s: %s changed on disk since start (genesis hash %s, key id %s; validated at start: genesis hash %s, key id %s)",
				ReasonSwapped, filepath.Join(g.opts.Dir, GenesisFile), truncate(gen.GenesisHash, 16),
				docKeyID(gen), truncate(g.anchorHash, 16), KeyID(g.anchorKey))
		case why == ReasonOK:
			r.origin = node0Origin(gen)
		default:
			r.ok, r.reason = false, why
		}
	}
	g.last.Store(r)
	return Verdict{OK: r.ok, Reason: r.reason, Swapped: r.swapped}
}

// documentFailure reports whether reason is a failure of the document's own
// consistency (it was edited in place rather than replaced by another signed genesis).
func documentFailure(reason string) bool {
	switch reason {
	case ReasonAgentHash, ReasonTeamHash, ReasonIdentityHash, ReasonNodeID, ReasonPartnershipHash,
		ReasonGenesisHash, ReasonSignature:
		return true
	}
	return strings.HasPrefix(reason, reasonMalformed)
}

// docKeyID is the key id of the key a (possibly malformed) document names.
func docKeyID(gen *Genesis) string {
	pub, err := hex.DecodeString(gen.Identity.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return "(malformed)"
	}
	return KeyID(pub)
}

// Origin returns the origin of the last Refresh.
func (g *Guard) Origin() Origin { return g.last.Load().origin }

// Status returns the result of the last Refresh.
func (g *Guard) Status() (ok bool, reason string) {
	r := g.last.Load()
	return r.ok, r.reason
}

// Last returns the verdict of the last Refresh (or of the start).
func (g *Guard) Last() Verdict {
	r := g.last.Load()
	return Verdict{OK: r.ok, Reason: r.reason, Swapped: r.swapped}
}

// Role returns the guard's role.
func (g *Guard) Role() Role { return g.opts.Role }

// KeyID returns the key id of the genesis identity key validated at start, or "" for
// RoleNode.
func (g *Guard) KeyID() string { return keyIDOrEmpty(g.anchorKey) }

// IsThisNode reports whether data is a valid genesis document that is this node's:
// the guard is a node0 whose last check passed, and data carries the genesis hash and
// identity key validated at start. It never panics.
func (g *Guard) IsThisNode(data []byte) bool {
	if g.opts.Role != RoleNode0 || g.anchorKey == nil {
		return false
	}
	if ok, _ := g.Status(); !ok {
		return false
	}
	gen, reason := verifyDocumentSafe(data, g.anchorKey)
	return reason == ReasonOK && gen != nil && gen.GenesisHash == g.anchorHash
}

func verifyDocumentSafe(data []byte, trusted ed25519.PublicKey) (g *Genesis, reason string) {
	defer func() {
		if r := recover(); r != nil {
			g, reason = nil, "internal error while verifying genesis"
		}
	}()
	return verifyDocument(data, trusted)
}
