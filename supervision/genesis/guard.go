package genesis

import "sync/atomic"

// Guard holds a running node's origin so that hot paths (status, every receipt) read it
// with one atomic load instead of re-validating files: NewGuard enforces at start,
// Refresh re-verifies (the maintenance loop calls it each cycle), Origin and Status
// read the last result.
type Guard struct {
	role Role
	dir  string
	last atomic.Pointer[guardResult]
}

type guardResult struct {
	origin Origin
	ok     bool
	reason string
}

// NewGuard reads the files once: for RoleNode0 it returns the
// Enforce error (an *EnforcementError) when the chain does not validate, so the caller
// refuses to start; an unknown role is an error wrapping ErrInvalidRole.
func NewGuard(role Role, dir string) (*Guard, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	g := &Guard{role: role, dir: dir}
	if ok, reason := g.Refresh(); !ok {
		return nil, &EnforcementError{Dir: dir, Reason: reason}
	}
	return g, nil
}

// Refresh re-validates the chain (RoleNode0) and stores the new origin. For RoleNode
// it is always ("ok", true) with the ephemeral origin. On failure the origin falls back
// to ephemeral_node; the caller marks health unhealthy and logs a security event.
func (g *Guard) Refresh() (ok bool, reason string) {
	r := &guardResult{origin: Snapshot(RoleNode, g.dir), ok: true, reason: ReasonOK}
	if g.role == RoleNode0 {
		if gen, why := validateSafe(g.dir); why == ReasonOK {
			r.origin = node0Origin(gen)
		} else {
			r.ok, r.reason = false, why
		}
	}
	g.last.Store(r)
	return r.ok, r.reason
}

// Origin returns the origin of the last Refresh.
func (g *Guard) Origin() Origin { return g.last.Load().origin }

// Status returns the result of the last Refresh.
func (g *Guard) Status() (ok bool, reason string) {
	r := g.last.Load()
	return r.ok, r.reason
}

// Role returns the guard's role.
func (g *Guard) Role() Role { return g.role }
