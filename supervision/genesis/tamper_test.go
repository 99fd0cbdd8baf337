package genesis

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flip changes one byte of s (the last), keeping lower-case hex hex and text text.
func flip(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	i := len(b) - 1
	switch c := b[i]; {
	case c == '0':
		b[i] = '1'
	case c >= '1' && c <= '9', c >= 'b' && c <= 'z', c >= 'B' && c <= 'Z':
		b[i] = c - 1
	default:
		b[i] = 'b'
	}
	return string(b)
}

func TestTamperMatrix(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(g *Genesis)
		want   string
	}{
		{"identity.node_id", func(g *Genesis) { g.Identity.NodeID = flip(g.Identity.NodeID) }, ReasonIdentityHash},
		{"identity.public_key", func(g *Genesis) { g.Identity.PublicKey = flip(g.Identity.PublicKey) }, ReasonIdentityHash},
		{"identity.name", func(g *Genesis) { g.Identity.Name = flip(g.Identity.Name) }, ReasonIdentityHash},
		{"identity.location", func(g *Genesis) { g.Identity.Location = flip(g.Identity.Location) }, ReasonIdentityHash},
		{"identity.created_at", func(g *Genesis) {
			g.Identity.CreatedAt = strings.Replace(g.Identity.CreatedAt, "07.", "08.", 1)
		}, ReasonIdentityHash},
		{"identity.identity_hash", func(g *Genesis) { g.Identity.IdentityHash = flip(g.Identity.IdentityHash) }, ReasonIdentityHash},
		{"timestamp", func(g *Genesis) { g.Timestamp = strings.Replace(g.Timestamp, "07.", "08.", 1) }, ReasonGenesisHash},
		{"version", func(g *Genesis) { g.Version = flip(g.Version) }, reasonMalformed + "unsupported version (want bizra-genesis-v1)"},
		{"pat agent public_key", func(g *Genesis) { g.PATTeam.Agents[2].PublicKey = flip(g.PATTeam.Agents[2].PublicKey) }, ReasonAgentHash},
		{"pat agent capability", func(g *Genesis) {
			g.PATTeam.Agents[0].Capabilities[1] = flip(g.PATTeam.Agents[0].Capabilities[1])
		}, ReasonAgentHash},
		{"sat agent agent_hash", func(g *Genesis) { g.SATTeam.Agents[4].AgentHash = flip(g.SATTeam.Agents[4].AgentHash) }, ReasonAgentHash},
		{"sat agent public_key", func(g *Genesis) { g.SATTeam.Agents[1].PublicKey = flip(g.SATTeam.Agents[1].PublicKey) }, ReasonAgentHash},
		{"pat team_hash", func(g *Genesis) { g.PATTeam.TeamHash = flip(g.PATTeam.TeamHash) }, ReasonTeamHash},
		{"sat team_hash", func(g *Genesis) { g.SATTeam.TeamHash = flip(g.SATTeam.TeamHash) }, ReasonTeamHash},
		{"sat governance quorum", func(g *Genesis) { g.SATTeam.Governance.Quorum = 4 }, ReasonTeamHash},
		{"sat governance threshold", func(g *Genesis) { g.SATTeam.Governance.UpgradeThreshold = 0.51 }, ReasonTeamHash},
		{"sat governance period", func(g *Genesis) { g.SATTeam.Governance.VotingPeriodHours = 1 }, ReasonTeamHash},
		{"partnership_hash", func(g *Genesis) { g.PartnershipHash = flip(g.PartnershipHash) }, ReasonPartnershipHash},
		{"genesis_hash", func(g *Genesis) { g.GenesisHash = flip(g.GenesisHash) }, ReasonGenesisHash},
		{"signature", func(g *Genesis) { g.Signature = flip(g.Signature) }, ReasonSignature},
		{"signature first byte", func(g *Genesis) { g.Signature = flip(g.Signature[:1]) + g.Signature[1:] }, ReasonSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, g := ceremony(t)
			tt.mutate(&g)
			writeDoc(t, dir, &g)
			mustValidate(t, dir, tt.want)
		})
	}
	t.Run("hash file", func(t *testing.T) {
		dir, g := ceremony(t)
		writeHashFile(t, dir, flip(g.GenesisHash))
		mustValidate(t, dir, ReasonHashFile)
		writeHashFile(t, dir, " "+g.GenesisHash)
		mustValidate(t, dir, ReasonHashFile)
		writeHashFile(t, dir, strings.ToUpper(g.GenesisHash))
		mustValidate(t, dir, ReasonHashFile)
	})
	t.Run("agents reordered stay valid", func(t *testing.T) {
		dir, g := ceremony(t)
		a := g.PATTeam.Agents
		a[0], a[len(a)-1] = a[len(a)-1], a[0]
		writeDoc(t, dir, &g)
		mustValidate(t, dir, ReasonOK)
	})
}

// TestEveryByteMatters flips one bit of every byte of a valid document: none may pass.
func TestEveryByteMatters(t *testing.T) {
	dir, _ := ceremony(t)
	doc, err := os.ReadFile(filepath.Join(dir, GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if ok, reason := VerifyDocument(doc, nil); !ok {
		t.Fatalf("original: %s", reason)
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(doc); i += step {
		m := bytes.Clone(doc)
		m[i] ^= 1
		if ok, _ := VerifyDocument(m, nil); ok {
			t.Fatalf("byte %d (%q→%q) changed and the document still verifies", i, doc[i], m[i])
		}
	}
}

// Forgeries: documents that are self-consistent (every hash recomputed) but not what
// the node's identity key signed.
func TestForgeries(t *testing.T) {
	_, attacker, _ := ed25519.GenerateKey(nil)

	t.Run("whole document re-signed by another key", func(t *testing.T) {
		dir, _ := ceremony(t)
		forged, err := build(attacker.Seed(), "Home Base", "Kitchen table", ceremonyTime)
		if err != nil {
			t.Fatal(err)
		}
		writeDoc(t, dir, &forged)
		writeHashFile(t, dir, forged.GenesisHash)
		if ok, reason := VerifyDocument(mustRead(t, dir), nil); !ok {
			t.Fatalf("precondition: the forgery should be self-consistent, got %s", reason)
		}
		mustValidate(t, dir, ReasonIdentityKey)
	})
	t.Run("content changed, hashes recomputed, old public key, signed by attacker", func(t *testing.T) {
		dir, g := ceremony(t)
		g.Identity.Name = "Evil Base"
		reseal(t, dir, &g, attacker)
		mustValidate(t, dir, ReasonSignature)
	})
	t.Run("public key swapped but node id kept", func(t *testing.T) {
		dir, g := ceremony(t)
		g.Identity.PublicKey = hex.EncodeToString(attacker.Public().(ed25519.PublicKey))
		reseal(t, dir, &g, attacker)
		mustValidate(t, dir, ReasonNodeID)
	})
	t.Run("node id changed, signed by the real key", func(t *testing.T) {
		dir, g := ceremony(t)
		g.Identity.NodeID = flip(g.Identity.NodeID)
		reseal(t, dir, &g, ed25519.NewKeyFromSeed(readSeed(t, dir)))
		mustValidate(t, dir, ReasonNodeID)
	})
	t.Run("agent key not derived from identity", func(t *testing.T) {
		dir, g := ceremony(t)
		g.SATTeam.Agents[0].PublicKey = hex.EncodeToString(attacker.Public().(ed25519.PublicKey))
		reseal(t, dir, &g, ed25519.NewKeyFromSeed(readSeed(t, dir)))
		mustValidate(t, dir, ReasonAgentKey)
	})
	t.Run("key file replaced too: only a pin detects it", func(t *testing.T) {
		dir, g := ceremony(t)
		realPub, _ := hex.DecodeString(g.Identity.PublicKey)
		for _, f := range []string{GenesisFile, HashFile, KeyFile} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte(hex.EncodeToString(attacker.Seed())), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Init(dir, "Home Base", "Kitchen table", ceremonyTime); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, dir, ReasonOK) // documented limit: the folder alone cannot tell
		if ok, reason := ValidateWith(dir, Policy{TrustedPublicKey: realPub}); ok || reason != ReasonTrustedKey {
			t.Fatalf("pinned: (%v, %q); want %s", ok, reason, ReasonTrustedKey)
		}
	})
}

func mustRead(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedDocuments(t *testing.T) {
	dir, g := ceremony(t)
	gpath := filepath.Join(dir, GenesisFile)
	valid := mustRead(t, dir)
	replaceOnce := func(old, new string) string {
		if !bytes.Contains(valid, []byte(old)) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(string(valid), old, new, 1)
	}
	tests := []struct {
		name, doc, wantPrefix string
	}{
		{"empty", "", "empty " + gpath},
		{"json array", "[]", reasonMalformed + "top level is not a JSON object"},
		{"json null", "null", reasonMalformed + "top level is not a JSON object"},
		{"json string", `"x"`, reasonMalformed + "top level is not a JSON object"},
		{"empty object", "{}", reasonMalformed + "unsupported version"},
		{"not json", "hello", reasonMalformed + "invalid JSON"},
		{"truncated", string(valid[:len(valid)/2]), reasonMalformed + "invalid JSON"},
		{"version is a number", `{"version": 1}`, reasonMalformed + "version has the wrong type"},
		{"identity is a string", `{"version":"bizra-genesis-v1","identity":"x"}`, reasonMalformed + "identity has the wrong type"},
		{"quorum is a string", replaceOnce(`"quorum": 3`, `"quorum": "3"`), reasonMalformed + "sat_team.governance.quorum has the wrong type"},
		{"quorum is fractional", replaceOnce(`"quorum": 3`, `"quorum": 3.5`), reasonMalformed + "sat_team.governance.quorum has the wrong type"},
		{"agents is an object", `{"version":"bizra-genesis-v1","pat_team":{"agents":{}}}`, reasonMalformed + "pat_team.agents has the wrong type"},
		{"unknown member", replaceOnce(`"version"`, `"extra": 1, "version"`), reasonMalformed + `json: unknown field "extra"`},
		{"duplicate member", replaceOnce(`"version"`, `"version": "bizra-genesis-v1", "version"`), reasonMalformed + `duplicate member "version"`},
		{"duplicate nested member", replaceOnce(`"name"`, `"name": "Other", "name"`), reasonMalformed + `duplicate member "name"`},
		{"trailing data", string(valid) + "{}", reasonMalformed + "trailing data"},
		{"invalid utf-8", replaceOnce("Home Base", "Home \xff Base"), reasonMalformed + "not valid UTF-8"},
		{"deep nesting", strings.Repeat("[", 100) + strings.Repeat("]", 100), reasonMalformed + "top level is not a JSON object"},
		{"deep object", `{"a":` + strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 21), reasonMalformed + "nested too deeply"},
		{"missing agent", replaceOnce(`"agent_id": "pat_analyst"`, `"agent_id": "pat_analyst2"`), reasonMalformed + "pat_team.agents[0].agent_id is not pat_analyst"},
		{"upper-case hex", replaceOnce(g.GenesisHash, strings.ToUpper(g.GenesisHash)), reasonMalformed + "genesis_hash is not 64 lower-case hex"},
		{"bad signature hex", replaceOnce(g.Signature, g.Signature[:10]), reasonMalformed + "signature is not 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(gpath, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			ok, reason := Validate(dir)
			if ok || !strings.HasPrefix(reason, tt.wantPrefix) {
				t.Fatalf("Validate = (%v, %q); want prefix %q", ok, reason, tt.wantPrefix)
			}
		})
	}
}

func TestHostileFiles(t *testing.T) {
	t.Run("100 MB sparse genesis", func(t *testing.T) {
		dir, _ := ceremony(t)
		gpath := filepath.Join(dir, GenesisFile)
		f, err := os.OpenFile(gpath, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(100 << 20); err != nil { // sparse: no 100 MB written or read
			t.Fatal(err)
		}
		f.Close()
		ok, reason := Validate(dir)
		if ok || reason != gpath+" too large (104857600 bytes, limit 1048576)" {
			t.Fatalf("(%v, %q)", ok, reason)
		}
	})
	t.Run("1 MiB + 1 genesis", func(t *testing.T) {
		dir, _ := ceremony(t)
		gpath := filepath.Join(dir, GenesisFile)
		if err := os.WriteFile(gpath, bytes.Repeat([]byte(" "), MaxGenesisBytes+1), 0o644); err != nil {
			t.Fatal(err)
		}
		if ok, reason := Validate(dir); ok || !strings.Contains(reason, "too large") {
			t.Fatalf("(%v, %q)", ok, reason)
		}
	})
	t.Run("symlinked genesis", func(t *testing.T) {
		dir, _ := ceremony(t)
		gpath := filepath.Join(dir, GenesisFile)
		elsewhere := filepath.Join(t.TempDir(), "real.json")
		if err := os.Rename(gpath, elsewhere); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(elsewhere, gpath); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, dir, "refusing symlinked "+gpath)
	})
	t.Run("symlinked hash file", func(t *testing.T) {
		dir, _ := ceremony(t)
		hpath := filepath.Join(dir, HashFile)
		elsewhere := filepath.Join(t.TempDir(), "h.txt")
		if err := os.Rename(hpath, elsewhere); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(elsewhere, hpath); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, dir, "refusing symlinked "+hpath)
	})
	t.Run("genesis is a directory", func(t *testing.T) {
		dir, _ := ceremony(t)
		gpath := filepath.Join(dir, GenesisFile)
		if err := os.Remove(gpath); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(gpath, 0o700); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, dir, gpath+" is not a regular file")
	})
	t.Run("empty hash file", func(t *testing.T) {
		dir, _ := ceremony(t)
		hpath := filepath.Join(dir, HashFile)
		if err := os.WriteFile(hpath, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, dir, "empty "+hpath)
	})
}
