package genesis

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
)

// Role is the node role from BIZRA_NODE_ROLE.
type Role string

// The roles.
const (
	RoleNode  Role = "node"  // default: an ephemeral node with no genesis authority
	RoleNode0 Role = "node0" // the genesis home-base device: fail-closed on its genesis chain
)

// ParseRole parses a BIZRA_NODE_ROLE value: "" and "node" give RoleNode, "node0" gives
// RoleNode0; anything else is an error wrapping ErrInvalidRole that names the variable.
func ParseRole(s string) (Role, error) {
	switch s {
	case "", string(RoleNode):
		return RoleNode, nil
	case string(RoleNode0):
		return RoleNode0, nil
	}
	return "", fmt.Errorf("BIZRA_NODE_ROLE=%q: want node or node0: %w", truncate(s, 64), ErrInvalidRole)
}

// EnforcementError is the error Enforce returns. Its text is the operator contract
// (proof.md); it unwraps to ErrEnforcement.
type EnforcementError struct {
	Dir    string
	Reason string
}

func (e *EnforcementError) Error() string {
	return fmt.Sprintf("Node0 genesis enforcement failed: %s. Required authority files: %s and %s",
		e.Reason, filepath.Join(e.Dir, GenesisFile), filepath.Join(e.Dir, HashFile))
}

// Unwrap returns ErrEnforcement.
func (e *EnforcementError) Unwrap() error { return ErrEnforcement }

// Enforce is the origin guard run before the runtime, the API or the bridge start:
// nil for RoleNode; for RoleNode0, nil when Validate(dir) passes and an
// *EnforcementError otherwise. Any other role is an error wrapping ErrInvalidRole.
func Enforce(role Role, dir string) error {
	switch role {
	case RoleNode:
		return nil
	case RoleNode0:
		if ok, reason := Validate(dir); !ok {
			return &EnforcementError{Dir: dir, Reason: reason}
		}
		return nil
	}
	_, err := ParseRole(string(role))
	if err == nil {
		err = errors.New("BUG: unhandled role")
	}
	return err
}

// Origin is the origin snapshot (proof.md) carried in status, receipts and
// /v1/verify/genesis. BlockID, NodeID and NodeName are set only for a validated node0.
type Origin struct {
	Designation     string `json:"designation"`
	GenesisNode     bool   `json:"genesis_node"`
	GenesisBlock    bool   `json:"genesis_block"`
	BlockID         string `json:"block_id,omitempty"`
	HomeBaseDevice  bool   `json:"home_base_device"`
	NodeID          string `json:"node_id,omitempty"`
	NodeName        string `json:"node_name,omitempty"`
	AuthoritySource string `json:"authority_source"`
	HashValidated   bool   `json:"hash_validated"`
}

// Snapshot returns the origin of a node: the node0 projection when role is RoleNode0
// and the chain in dir validates now, the ephemeral one otherwise. It reads the files
// and hashes on every call (about a millisecond); hot paths use a Guard.
func Snapshot(role Role, dir string) Origin {
	if role == RoleNode0 {
		if g, reason := validateSafe(dir, nil); reason == ReasonOK {
			return node0Origin(g)
		}
	}
	return Origin{Designation: "ephemeral_node", AuthoritySource: "genesis_files"}
}

func node0Origin(g *Genesis) Origin {
	return Origin{
		Designation: "node0", GenesisNode: true, GenesisBlock: true, BlockID: "block0",
		HomeBaseDevice: true, NodeID: g.Identity.NodeID, NodeName: g.Identity.Name,
		AuthoritySource: "genesis_files", HashValidated: true,
	}
}

func validateSafe(dir string, trusted ed25519.PublicKey) (g *Genesis, reason string) {
	defer func() {
		if r := recover(); r != nil {
			g, reason = nil, "internal error while validating genesis"
		}
	}()
	return validate(dir, Policy{TrustedPublicKey: trusted})
}

// Summary is what `bizra genesis show` prints.
type Summary struct {
	Version     string         `json:"version"`
	Timestamp   string         `json:"timestamp"`
	NodeID      string         `json:"node_id"`
	Name        string         `json:"name"`
	Location    string         `json:"location"`
	PublicKey   string         `json:"public_key"`
	GenesisHash string         `json:"genesis_hash"`
	PATAgents   []AgentSummary `json:"pat_agents"`
	SATAgents   []AgentSummary `json:"sat_agents"`
	Governance  Governance     `json:"governance"`
	Valid       bool           `json:"valid"`
	Reason      string         `json:"reason"`
}

// AgentSummary is one agent in a Summary.
type AgentSummary struct {
	AgentID      string   `json:"agent_id"`
	Role         string   `json:"role"`
	Capabilities []string `json:"capabilities"`
}

// Show summarizes the genesis in dir and says whether it validates. It returns an
// error wrapping ErrNotFound when there is no genesis file and ErrMalformed when the
// file cannot be read as a genesis; an invalid but readable chain is a Summary with
// Valid false and the reason.
func Show(dir string) (Summary, error) {
	g, err := Load(dir)
	if err != nil {
		return Summary{}, err
	}
	ok, reason := Validate(dir)
	s := Summary{
		Version: g.Version, Timestamp: g.Timestamp, NodeID: g.Identity.NodeID, Name: g.Identity.Name,
		Location: g.Identity.Location, PublicKey: g.Identity.PublicKey, GenesisHash: g.GenesisHash,
		PATAgents: summarize(g.PATTeam.Agents), SATAgents: summarize(g.SATTeam.Agents),
		Governance: g.SATTeam.Governance, Valid: ok, Reason: reason,
	}
	return s, nil
}

func summarize(agents []Agent) []AgentSummary {
	out := make([]AgentSummary, len(agents))
	for i, a := range agents {
		out[i] = AgentSummary{AgentID: a.AgentID, Role: a.Role, Capabilities: a.Capabilities}
	}
	return out
}

// Load reads and parses (without validating) the genesis in dir, within the same size,
// symlink and strictness limits as Validate.
func Load(dir string) (Genesis, error) {
	gpath := filepath.Join(dir, GenesisFile)
	data, _, prob := readRegular(gpath, MaxGenesisBytes)
	if prob != nil {
		if prob.missing {
			return Genesis{}, fmt.Errorf("%s: %w", prob.reason, ErrNotFound)
		}
		return Genesis{}, fmt.Errorf("%s: %w", prob.reason, ErrMalformed)
	}
	g, reason := parse(data)
	if g == nil {
		return Genesis{}, fmt.Errorf("%s: %s: %w", gpath, reason, ErrMalformed)
	}
	return *g, nil
}

// ReadDocument returns the raw bytes of dir's node0_genesis.json, within the same size
// and symlink limits as Validate. A missing file is an error wrapping ErrNotFound, an
// unreadable one ErrMalformed.
func ReadDocument(dir string) ([]byte, error) {
	data, _, prob := readRegular(filepath.Join(dir, GenesisFile), MaxGenesisBytes)
	if prob != nil {
		if prob.missing {
			return nil, fmt.Errorf("%s: %w", prob.reason, ErrNotFound)
		}
		return nil, fmt.Errorf("%s: %w", prob.reason, ErrMalformed)
	}
	return data, nil
}
