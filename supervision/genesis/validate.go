package genesis

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"
)

// Reasons Validate returns. A reason is either one of these constants or starts with
// "missing ", "malformed genesis: ", "refusing symlinked ", "empty ", "insecure
// permissions " or names a file that is "too large".
const (
	ReasonOK              = "ok"
	ReasonHashFile        = "genesis hash validation failed" // genesis_hash.txt differs from genesis_hash
	ReasonIdentityHash    = "IDENTITY_HASH_MISMATCH"
	ReasonAgentHash       = "AGENT_HASH_MISMATCH"
	ReasonTeamHash        = "TEAM_HASH_MISMATCH"
	ReasonPartnershipHash = "PARTNERSHIP_HASH_MISMATCH"
	ReasonGenesisHash     = "GENESIS_HASH_MISMATCH" // stored genesis_hash differs from the recomputed one
	ReasonNodeID          = "NODE_ID_MISMATCH"
	ReasonSignature       = "SIGNATURE_INVALID"
	ReasonIdentityKey     = "IDENTITY_KEY_MISMATCH" // node0_identity.key is not the key of identity.public_key
	ReasonAgentKey        = "AGENT_KEY_MISMATCH"    // an agent key is not the HKDF derivation of the identity key
	ReasonTrustedKey      = "TRUSTED_KEY_MISMATCH"  // identity.public_key is not Policy.TrustedPublicKey
	ReasonTestKey         = "TEST_KEY_REFUSED"      // the identity key is a known test value (IsTestKey)
	reasonMalformed       = "malformed genesis: "
	maxTextBytes          = 256
	maxCapabilities       = 32
	maxCapabilityBytes    = 64
	maxJSONDepth          = 8
)

// Policy says what anchors trust beyond the file's own consistency. The zero value is
// the strict default used by Validate.
type Policy struct {
	// TrustedPublicKey, when non-nil, must equal identity.public_key: an out-of-band
	// pin (configuration, another machine) that survives an attacker who can rewrite
	// every file in the state folder.
	TrustedPublicKey ed25519.PublicKey
	// AllowMissingKey lets ValidateWith pass when node0_identity.key is absent (checking
	// a copy of the files away from the home-base device). By default the key file is
	// required and must hold the private key of identity.public_key.
	AllowMissingKey bool
	// AllowTestKeys accepts an identity key that IsTestKey (golden vectors, drills).
	AllowTestKeys bool
}

// Validate is the spec's validate_genesis_chain(state_dir) with the default Policy.
// It never panics; reason is "ok" when the chain is valid.
func Validate(dir string) (ok bool, reason string) { return ValidateWith(dir, Policy{}) }

// ValidateWith validates the genesis files in dir under p. It never panics.
func ValidateWith(dir string, p Policy) (ok bool, reason string) {
	defer func() {
		if r := recover(); r != nil {
			ok, reason = false, "internal error while validating genesis"
		}
	}()
	_, reason = validate(dir, p)
	return reason == ReasonOK, reason
}

// validate returns the parsed genesis (when it parsed) and the reason.
func validate(dir string, p Policy) (*Genesis, string) {
	gpath := filepath.Join(dir, GenesisFile)
	hpath := filepath.Join(dir, HashFile)
	data, _, prob := readRegular(gpath, MaxGenesisBytes)
	if prob != nil {
		return nil, prob.reason
	}
	hb, _, prob := readRegular(hpath, maxHashBytes)
	if prob != nil {
		return nil, prob.reason
	}
	g, reason := verifyDocument(data, p.TrustedPublicKey)
	if reason != ReasonOK {
		return g, reason
	}
	if trimNewline(string(hb)) != g.GenesisHash {
		return g, ReasonHashFile
	}
	seed, kprob, _ := loadSeed(filepath.Join(dir, KeyFile))
	if kprob != nil {
		if kprob.missing && p.AllowMissingKey {
			return g, ReasonOK
		}
		return g, kprob.reason
	}
	if r := checkKeys(g, seed); r != ReasonOK {
		return g, r
	}
	if IsTestKey(seed) && !p.AllowTestKeys {
		return g, ReasonTestKey
	}
	return g, ReasonOK
}

// checkKeys checks that seed is the identity key of g and that every agent key is
// its HKDF derivation.
func checkKeys(g *Genesis, seed []byte) string {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if hex.EncodeToString(pub) != g.Identity.PublicKey {
		return ReasonIdentityKey
	}
	for _, a := range slices.Concat(g.PATTeam.Agents, g.SATTeam.Agents) {
		k, err := AgentKey(seed, a.AgentID)
		if err != nil || hex.EncodeToString(k.Public().(ed25519.PublicKey)) != a.PublicKey {
			return ReasonAgentKey
		}
	}
	return ReasonOK
}

// VerifyDocument checks a genesis document on its own: structure, every hash, the node
// id and the signature under identity.public_key, and, when trusted is non-nil, that
// identity.public_key is trusted. It never panics.
//
// Without a trusted key it proves only that the document is self-consistent and signed
// by the key it names: anyone can make such a document. Pin the key to prove origin.
func VerifyDocument(data []byte, trusted ed25519.PublicKey) (ok bool, reason string) {
	defer func() {
		if r := recover(); r != nil {
			ok, reason = false, "internal error while verifying genesis"
		}
	}()
	_, reason = verifyDocument(data, trusted)
	return reason == ReasonOK, reason
}

func verifyDocument(data []byte, trusted ed25519.PublicKey) (*Genesis, string) {
	g, reason := parse(data)
	if g == nil {
		return nil, reason
	}
	if r := checkStructure(g); r != "" {
		return g, reasonMalformed + r
	}
	for _, a := range slices.Concat(g.PATTeam.Agents, g.SATTeam.Agents) {
		if h, err := AgentHash(a); err != nil || h != a.AgentHash {
			return g, ReasonAgentHash
		}
	}
	if h, err := PATTeamHash(g.PATTeam); err != nil || h != g.PATTeam.TeamHash {
		return g, ReasonTeamHash
	}
	if h, err := SATTeamHash(g.SATTeam); err != nil || h != g.SATTeam.TeamHash {
		return g, ReasonTeamHash
	}
	if h, err := IdentityHash(g.Identity); err != nil || h != g.Identity.IdentityHash {
		return g, ReasonIdentityHash
	}
	pub, _ := hex.DecodeString(g.Identity.PublicKey) // length checked by checkStructure
	if NodeID(pub) != g.Identity.NodeID {
		return g, ReasonNodeID
	}
	if h, err := PartnershipHash(g.PATTeam.TeamHash, g.SATTeam.TeamHash); err != nil || h != g.PartnershipHash {
		return g, ReasonPartnershipHash
	}
	if h, err := GenesisHash(g); err != nil || h != g.GenesisHash {
		return g, ReasonGenesisHash
	}
	sig, _ := hex.DecodeString(g.Signature)
	if !ed25519.Verify(pub, signedMessage(g.GenesisHash), sig) {
		return g, ReasonSignature
	}
	if trusted != nil && !bytes.Equal(trusted, pub) {
		return g, ReasonTrustedKey
	}
	return g, ReasonOK
}

// parse decodes a genesis strictly: one JSON object, valid UTF-8, no duplicate or
// unknown members, bounded nesting, no trailing data. A nil result carries the reason.
func parse(data []byte) (*Genesis, string) {
	if len(data) == 0 {
		return nil, reasonMalformed + "empty document"
	}
	if len(data) > MaxGenesisBytes {
		return nil, reasonMalformed + "document too large"
	}
	if !utf8.Valid(data) {
		return nil, reasonMalformed + "not valid UTF-8"
	}
	if err := checkShape(data); err != nil {
		return nil, reasonMalformed + err.Error()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var g Genesis
	if err := dec.Decode(&g); err != nil {
		return nil, reasonMalformed + decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, reasonMalformed + "trailing data after the object"
	}
	return &g, ""
}

// decodeProblem renders a decoding error without echoing document content.
func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s has the wrong type (%s)", te.Field, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// checkShape walks the tokens: the top level is an object, objects have no duplicate
// member names, and nesting is at most maxJSONDepth.
func checkShape(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		keys     map[string]struct{}
		isObject bool
		wantKey  bool
	}
	var stack []frame
	first := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("invalid JSON at offset %d", se.Offset)
			}
			return errors.New("invalid JSON")
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return errors.New("top level is not a JSON object")
			}
			first = false
		}
		if n := len(stack); n > 0 && stack[n-1].isObject {
			top := &stack[n-1]
			if top.wantKey {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:n-1]
					continue
				}
				k, _ := tok.(string)
				if _, dup := top.keys[k]; dup {
					return fmt.Errorf("duplicate member %q", truncate(k, 40))
				}
				top.keys[k] = struct{}{}
				top.wantKey = false
				continue
			}
			top.wantKey = true
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return errors.New("nested too deeply")
				}
				stack = append(stack, frame{keys: map[string]struct{}{}, isObject: d == '{', wantKey: d == '{'})
			case ']':
				stack = stack[:len(stack)-1]
			}
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkText(field, s string, required bool) string {
	switch {
	case required && s == "":
		return field + " is empty"
	case len(s) > maxTextBytes:
		return fmt.Sprintf("%s is longer than %d bytes", field, maxTextBytes)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return field + " contains a control character"
		}
	}
	return ""
}

// checkStructure returns "" or what is wrong with the shape of g's values.
func checkStructure(g *Genesis) string {
	if g.Version != Version {
		return "unsupported version (want " + Version + ")"
	}
	if _, err := time.Parse(time.RFC3339Nano, g.Timestamp); err != nil {
		return "timestamp is not RFC 3339"
	}
	id := g.Identity
	if _, err := time.Parse(time.RFC3339Nano, id.CreatedAt); err != nil {
		return "identity.created_at is not RFC 3339"
	}
	if !isLowerHex(id.PublicKey, 2*ed25519.PublicKeySize) {
		return "identity.public_key is not 64 lower-case hex characters"
	}
	if len(id.NodeID) != len("node0_")+16 || id.NodeID[:6] != "node0_" || !isLowerHex(id.NodeID[6:], 16) {
		return "identity.node_id is not node0_ and 16 hex characters"
	}
	if r := checkText("identity.name", id.Name, true); r != "" {
		return r
	}
	if r := checkText("identity.location", id.Location, false); r != "" {
		return r
	}
	for _, h := range [...]struct{ field, value string }{
		{"identity.identity_hash", id.IdentityHash}, {"pat_team.team_hash", g.PATTeam.TeamHash},
		{"sat_team.team_hash", g.SATTeam.TeamHash}, {"partnership_hash", g.PartnershipHash},
		{"genesis_hash", g.GenesisHash},
	} {
		if !isLowerHex(h.value, 64) {
			return h.field + " is not 64 lower-case hex characters"
		}
	}
	if !isLowerHex(g.Signature, 2*ed25519.SignatureSize) {
		return "signature is not 128 lower-case hex characters"
	}
	if r := checkAgents("pat_team", "pat", g.PATTeam.Agents, patRoles); r != "" {
		return r
	}
	if r := checkAgents("sat_team", "sat", g.SATTeam.Agents, satRoles); r != "" {
		return r
	}
	gov := g.SATTeam.Governance
	if gov.Quorum < 1 || gov.Quorum > len(satRoles) {
		return fmt.Sprintf("sat_team.governance.quorum must be 1..%d", len(satRoles))
	}
	if gov.VotingPeriodHours < 1 || gov.VotingPeriodHours > 24*366 {
		return "sat_team.governance.voting_period_hours must be 1..8784"
	}
	if !(gov.UpgradeThreshold > 0 && gov.UpgradeThreshold <= 1) {
		return "sat_team.governance.upgrade_threshold must be in (0, 1]"
	}
	return ""
}

func checkAgents(field, team string, agents []Agent, specs []roleSpec) string {
	if len(agents) != len(specs) {
		return fmt.Sprintf("%s has %d agents, want %d", field, len(agents), len(specs))
	}
	seen := make(map[string]bool, len(specs))
	for i, a := range agents {
		at := fmt.Sprintf("%s.agents[%d]", field, i)
		if !slices.ContainsFunc(specs, func(s roleSpec) bool { return s.role == a.Role }) {
			return at + ".role is not a " + team + " role"
		}
		if seen[a.Role] {
			return at + ".role " + a.Role + " appears twice"
		}
		seen[a.Role] = true
		if a.AgentID != agentID(team, a.Role) {
			return at + ".agent_id is not " + agentID(team, a.Role)
		}
		if !isLowerHex(a.PublicKey, 2*ed25519.PublicKeySize) {
			return at + ".public_key is not 64 lower-case hex characters"
		}
		if !isLowerHex(a.AgentHash, 64) {
			return at + ".agent_hash is not 64 lower-case hex characters"
		}
		if len(a.Capabilities) == 0 || len(a.Capabilities) > maxCapabilities {
			return fmt.Sprintf("%s.capabilities must hold 1..%d entries", at, maxCapabilities)
		}
		for _, c := range a.Capabilities {
			if c == "" || len(c) > maxCapabilityBytes {
				return fmt.Sprintf("%s.capabilities entries must be 1..%d bytes", at, maxCapabilityBytes)
			}
			if r := checkText(at+".capabilities", c, true); r != "" {
				return r
			}
		}
	}
	return ""
}
