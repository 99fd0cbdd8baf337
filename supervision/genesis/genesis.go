package genesis

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/bizra/bizra/internal/canon"
)

// Version is the only genesis format this package writes and accepts.
const Version = "bizra-genesis-v1"

// File names inside the state folder.
const (
	GenesisFile = "node0_genesis.json"
	HashFile    = "genesis_hash.txt"
	KeyFile     = "node0_identity.key"
)

// AgentKeyInfo is the HKDF-SHA256 info prefix of an agent key: the agent's Ed25519 seed is
// HKDF-SHA256(ikm = identity seed, salt = none, info = AgentKeyInfo + ":" + agent_id), 32 bytes.
const AgentKeyInfo = "bizra-genesis-agent-ed25519-v1"

// Genesis is node0_genesis.json (proof.md, "Node0 genesis"). Field names are the contract.
type Genesis struct {
	Version         string   `json:"version"`
	Timestamp       string   `json:"timestamp"`
	Identity        Identity `json:"identity"`
	PATTeam         PATTeam  `json:"pat_team"`
	SATTeam         SATTeam  `json:"sat_team"`
	PartnershipHash string   `json:"partnership_hash"`
	GenesisHash     string   `json:"genesis_hash"`
	Signature       string   `json:"signature"`
}

// Identity is the node identity block. PublicKey is the lower-case hex Ed25519 public key.
type Identity struct {
	NodeID       string `json:"node_id"`
	PublicKey    string `json:"public_key"`
	Name         string `json:"name"`
	Location     string `json:"location"`
	CreatedAt    string `json:"created_at"`
	IdentityHash string `json:"identity_hash"`
}

// Agent is one PAT or SAT agent. PublicKey is lower-case hex Ed25519.
type Agent struct {
	AgentID      string   `json:"agent_id"`
	Role         string   `json:"role"`
	PublicKey    string   `json:"public_key"`
	Capabilities []string `json:"capabilities"`
	AgentHash    string   `json:"agent_hash"`
}

// PATTeam is the personal agent team.
type PATTeam struct {
	Agents   []Agent `json:"agents"`
	TeamHash string  `json:"team_hash"`
}

// SATTeam is the system agent team with its governance parameters.
type SATTeam struct {
	Agents     []Agent    `json:"agents"`
	Governance Governance `json:"governance"`
	TeamHash   string     `json:"team_hash"`
}

// Governance are the SAT voting rules.
type Governance struct {
	Quorum            int     `json:"quorum"`
	VotingPeriodHours int     `json:"voting_period_hours"`
	UpgradeThreshold  float64 `json:"upgrade_threshold"`
}

// DefaultGovernance is what Init writes: 3 of the 5 SAT agents, 72 hours, two thirds.
var defaultGovernance = Governance{Quorum: 3, VotingPeriodHours: 72, UpgradeThreshold: 0.67}

type roleSpec struct {
	role string
	caps []string
}

// The PAT and SAT roles with the capabilities Init assigns. Agent ids are
// "<team>_<lower-case role>", e.g. "pat_strategist".
var (
	patRoles = []roleSpec{
		{"Strategist", []string{"planning", "goal_decomposition", "prioritization"}},
		{"Researcher", []string{"retrieval", "source_evaluation", "synthesis"}},
		{"Developer", []string{"code_generation", "implementation", "testing"}},
		{"Analyst", []string{"data_analysis", "metrics", "pattern_detection"}},
		{"Reviewer", []string{"quality_review", "consistency_check", "critique"}},
		{"Executor", []string{"task_execution", "tool_invocation", "scheduling"}},
		{"Guardian", []string{"policy_enforcement", "safety_check", "ethics_review"}},
	}
	satRoles = []roleSpec{
		{"Validator", []string{"receipt_verification", "proof_checking", "hash_validation"}},
		{"Oracle", []string{"external_attestation", "time_source", "fact_checking"}},
		{"Mediator", []string{"dispute_resolution", "consensus_facilitation"}},
		{"Archivist", []string{"ledger_custody", "state_snapshot", "retention"}},
		{"Sentinel", []string{"anomaly_detection", "tamper_detection", "security_events"}},
	}
)

// PATRoles returns the seven PAT role names in their canonical order.
func PATRoles() []string { return roleNames(patRoles) }

// SATRoles returns the five SAT role names in their canonical order.
func SATRoles() []string { return roleNames(satRoles) }

func roleNames(rs []roleSpec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.role
	}
	return out
}

func agentID(team, role string) string { return team + "_" + strings.ToLower(role) }

// The objects hashed. Each is the JSON object of the contract minus its own hash field;
// canon.Marshal sorts the members (RFC 8785), so struct field order is irrelevant.
type (
	agentBody struct {
		AgentID      string   `json:"agent_id"`
		Role         string   `json:"role"`
		PublicKey    string   `json:"public_key"`
		Capabilities []string `json:"capabilities"`
	}
	identityBody struct {
		NodeID    string `json:"node_id"`
		PublicKey string `json:"public_key"`
		Name      string `json:"name"`
		Location  string `json:"location"`
		CreatedAt string `json:"created_at"`
	}
	patBody struct {
		Agents []Agent `json:"agents"`
	}
	satBody struct {
		Agents     []Agent    `json:"agents"`
		Governance Governance `json:"governance"`
	}
	partnershipBody struct {
		PATTeamHash string `json:"pat_team_hash"`
		SATTeamHash string `json:"sat_team_hash"`
	}
	genesisBody struct {
		Version         string `json:"version"`
		Timestamp       string `json:"timestamp"`
		IdentityHash    string `json:"identity_hash"`
		PATTeamHash     string `json:"pat_team_hash"`
		SATTeamHash     string `json:"sat_team_hash"`
		PartnershipHash string `json:"partnership_hash"`
	}
)

// hashOf is the plain SHA-256 (lower-case hex) of the canonical encoding of v.
func hashOf(v any) (string, error) {
	b, err := canon.Marshal(v)
	if err != nil {
		return "", err
	}
	return canon.SHA256Hex(b), nil
}

// AgentHash recomputes an agent's hash.
func AgentHash(a Agent) (string, error) {
	caps := a.Capabilities
	if caps == nil {
		caps = []string{}
	}
	return hashOf(agentBody{a.AgentID, a.Role, a.PublicKey, caps})
}

// IdentityHash recomputes the identity hash.
func IdentityHash(id Identity) (string, error) {
	return hashOf(identityBody{id.NodeID, id.PublicKey, id.Name, id.Location, id.CreatedAt})
}

func sortedAgents(in []Agent) []Agent {
	out := slices.Clone(in)
	if out == nil {
		out = []Agent{}
	}
	for i := range out {
		if out[i].Capabilities == nil {
			out[i].Capabilities = []string{}
		}
	}
	slices.SortStableFunc(out, func(a, b Agent) int { return strings.Compare(a.AgentID, b.AgentID) })
	return out
}

// PATTeamHash recomputes the PAT team hash: over {"agents": [...]} with the agents
// (including their agent_hash) sorted by agent_id.
func PATTeamHash(t PATTeam) (string, error) { return hashOf(patBody{sortedAgents(t.Agents)}) }

// SATTeamHash recomputes the SAT team hash: over {"agents": [...], "governance": {...}}
// with the agents sorted by agent_id.
func SATTeamHash(t SATTeam) (string, error) {
	return hashOf(satBody{sortedAgents(t.Agents), t.Governance})
}

// PartnershipHash recomputes the partnership hash over {pat_team_hash, sat_team_hash}.
func PartnershipHash(patTeamHash, satTeamHash string) (string, error) {
	return hashOf(partnershipBody{patTeamHash, satTeamHash})
}

// GenesisHash recomputes the genesis hash over {version, timestamp, identity_hash,
// pat_team_hash, sat_team_hash, partnership_hash} taken from g's stored fields.
func GenesisHash(g *Genesis) (string, error) {
	return hashOf(genesisBody{g.Version, g.Timestamp, g.Identity.IdentityHash,
		g.PATTeam.TeamHash, g.SATTeam.TeamHash, g.PartnershipHash})
}

// NodeID derives "node0_" + the first 16 hex of SHA-256(public key bytes).
func NodeID(pub ed25519.PublicKey) string {
	return "node0_" + canon.SHA256Hex(pub)[:16]
}

// AgentKey derives an agent's Ed25519 key from the identity seed (see AgentKeyInfo).
func AgentKey(identitySeed []byte, agentID string) (ed25519.PrivateKey, error) {
	r := hkdf.New(sha256.New, identitySeed, nil, []byte(AgentKeyInfo+":"+agentID))
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("derive agent key %s: %w", agentID, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// signedMessage is what the identity key signs: the ASCII bytes of the lower-case hex
// genesis hash (exactly the content of genesis_hash.txt without its newline).
func signedMessage(genesisHash string) []byte { return []byte(genesisHash) }

// build runs the deterministic part of the ceremony: everything in the file follows
// from the identity seed, name, location and time.
func build(seed []byte, name, location string, now time.Time) (Genesis, error) {
	if len(seed) != ed25519.SeedSize {
		return Genesis{}, fmt.Errorf("identity seed of %d bytes: %w", len(seed), ErrKeyMalformed)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	ts := now.UTC().Format(time.RFC3339Nano)
	g := Genesis{
		Version:   Version,
		Timestamp: ts,
		Identity: Identity{
			NodeID:    NodeID(pub),
			PublicKey: hex.EncodeToString(pub),
			Name:      name,
			Location:  location,
			CreatedAt: ts,
		},
	}
	var err error
	if g.Identity.IdentityHash, err = IdentityHash(g.Identity); err != nil {
		return Genesis{}, err
	}
	mk := func(team string, specs []roleSpec) ([]Agent, error) {
		agents := make([]Agent, 0, len(specs))
		for _, s := range specs {
			id := agentID(team, s.role)
			k, err := AgentKey(seed, id)
			if err != nil {
				return nil, err
			}
			a := Agent{AgentID: id, Role: s.role, PublicKey: hex.EncodeToString(k.Public().(ed25519.PublicKey)),
				Capabilities: slices.Clone(s.caps)}
			if a.AgentHash, err = AgentHash(a); err != nil {
				return nil, err
			}
			agents = append(agents, a)
		}
		return sortedAgents(agents), nil
	}
	if g.PATTeam.Agents, err = mk("pat", patRoles); err != nil {
		return Genesis{}, err
	}
	if g.SATTeam.Agents, err = mk("sat", satRoles); err != nil {
		return Genesis{}, err
	}
	g.SATTeam.Governance = defaultGovernance
	if g.PATTeam.TeamHash, err = PATTeamHash(g.PATTeam); err != nil {
		return Genesis{}, err
	}
	if g.SATTeam.TeamHash, err = SATTeamHash(g.SATTeam); err != nil {
		return Genesis{}, err
	}
	if g.PartnershipHash, err = PartnershipHash(g.PATTeam.TeamHash, g.SATTeam.TeamHash); err != nil {
		return Genesis{}, err
	}
	if g.GenesisHash, err = GenesisHash(&g); err != nil {
		return Genesis{}, err
	}
	g.Signature = hex.EncodeToString(ed25519.Sign(priv, signedMessage(g.GenesisHash)))
	return g, nil
}
