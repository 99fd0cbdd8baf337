package genesis

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/internal/canon"
	"github.com/bizra/bizra/internal/catalog"
)

var ceremonyTime = time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)

// ceremony runs Init in a fresh folder and returns it.
func ceremony(t *testing.T) (string, Genesis) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sovereign_state")
	g, err := Init(dir, "Home Base", "Kitchen table", ceremonyTime)
	if err != nil {
		t.Fatal(err)
	}
	return dir, g
}

func readSeed(t *testing.T, dir string) []byte {
	t.Helper()
	seed, _, err := loadSeed(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

func writeDoc(t *testing.T, dir string, g *Genesis) {
	t.Helper()
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, GenesisFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeHashFile(t *testing.T, dir, h string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, HashFile), []byte(h+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reseal recomputes every hash of g from its content, re-signs it with priv and
// writes both files: a self-consistent document.
func reseal(t *testing.T, dir string, g *Genesis, priv ed25519.PrivateKey) {
	t.Helper()
	var err error
	for _, agents := range [][]Agent{g.PATTeam.Agents, g.SATTeam.Agents} {
		for i := range agents {
			if agents[i].AgentHash, err = AgentHash(agents[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	g.Identity.IdentityHash = must(IdentityHash(g.Identity))
	g.PATTeam.TeamHash = must(PATTeamHash(g.PATTeam))
	g.SATTeam.TeamHash = must(SATTeamHash(g.SATTeam))
	g.PartnershipHash = must(PartnershipHash(g.PATTeam.TeamHash, g.SATTeam.TeamHash))
	g.GenesisHash = must(GenesisHash(g))
	g.Signature = hex.EncodeToString(ed25519.Sign(priv, []byte(g.GenesisHash)))
	writeDoc(t, dir, g)
	writeHashFile(t, dir, g.GenesisHash)
}

func mustValidate(t *testing.T, dir string, want string) {
	t.Helper()
	ok, reason := Validate(dir)
	if reason != want || ok != (want == ReasonOK) {
		t.Fatalf("Validate = (%v, %q); want %q", ok, reason, want)
	}
}

func TestCeremonyValidates(t *testing.T) {
	dir, g := ceremony(t)
	mustValidate(t, dir, ReasonOK)

	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o; want 0600", fi.Mode().Perm())
	}
	hb, err := os.ReadFile(filepath.Join(dir, HashFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(hb) != g.GenesisHash+"\n" {
		t.Errorf("hash file %q; want %q", hb, g.GenesisHash+"\n")
	}
	if len(g.PATTeam.Agents) != 7 || len(g.SATTeam.Agents) != 5 {
		t.Fatalf("teams of %d and %d agents", len(g.PATTeam.Agents), len(g.SATTeam.Agents))
	}
	pub, _ := hex.DecodeString(g.Identity.PublicKey)
	if want := "node0_" + canon.SHA256Hex(pub)[:16]; g.Identity.NodeID != want {
		t.Errorf("node id %s; want %s", g.Identity.NodeID, want)
	}
	if g.Timestamp != "2026-03-04T05:06:07.89Z" || g.Identity.CreatedAt != g.Timestamp {
		t.Errorf("timestamp %q created_at %q", g.Timestamp, g.Identity.CreatedAt)
	}
	// A hash file without its trailing newline is fine too.
	writeHashFile(t, dir, g.GenesisHash)
	if err := os.WriteFile(filepath.Join(dir, HashFile), []byte(g.GenesisHash), 0o644); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, dir, ReasonOK)
}

func TestInitRefusesOverwrite(t *testing.T) {
	dir, g := ceremony(t)
	before, _ := os.ReadFile(filepath.Join(dir, GenesisFile))
	if _, err := Init(dir, "Other", "", ceremonyTime.Add(time.Hour)); !errors.Is(err, ErrExists) {
		t.Fatalf("second Init: %v; want ErrExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, GenesisFile))
	if !bytes.Equal(before, after) {
		t.Fatal("second Init changed the genesis")
	}
	// Only the hash file left: still refused.
	if err := os.Remove(filepath.Join(dir, GenesisFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, "Other", "", ceremonyTime); !errors.Is(err, ErrExists) {
		t.Fatalf("Init over a hash file: %v; want ErrExists", err)
	}
	_ = g
}

func TestInitReusesKeyAndRefusesInsecureKey(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(nil)
	seed := priv.Seed()
	kpath := filepath.Join(dir, KeyFile)
	if err := os.WriteFile(kpath, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := Init(dir, "Reuse", "", ceremonyTime)
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)); g.Identity.PublicKey != want {
		t.Fatal("Init did not use the existing identity key")
	}
	mustValidate(t, dir, ReasonOK)

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		d := t.TempDir()
		kp := filepath.Join(d, KeyFile)
		if err := os.WriteFile(kp, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(kp, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := Init(d, "X", "", ceremonyTime); !errors.Is(err, ErrKeyInsecure) {
			t.Errorf("mode %04o: Init err %v; want ErrKeyInsecure", mode, err)
		}
		if _, err := os.Lstat(filepath.Join(d, GenesisFile)); err == nil {
			t.Errorf("mode %04o: Init wrote a genesis", mode)
		}
	}
	// Known test keys are refused.
	for _, testSeed := range [][]byte{make([]byte, 32), bytes.Repeat([]byte{0x11}, 32), goldenSeed()} {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, KeyFile), []byte(hex.EncodeToString(testSeed)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Init(d, "X", "", ceremonyTime); !errors.Is(err, ErrKeyInsecure) || !strings.Contains(err.Error(), "test key") {
			t.Errorf("test seed %x: %v; want ErrKeyInsecure", testSeed[:4], err)
		}
	}
	// A malformed key file is refused too.
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, KeyFile), []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(d, "X", "", ceremonyTime); !errors.Is(err, ErrKeyMalformed) {
		t.Errorf("malformed key: %v; want ErrKeyMalformed", err)
	}
	// A symlinked key file is refused.
	d = t.TempDir()
	if err := os.Symlink(kpath, filepath.Join(d, KeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(d, "X", "", ceremonyTime); !errors.Is(err, ErrKeyInsecure) {
		t.Errorf("symlinked key: %v; want ErrKeyInsecure", err)
	}
}

func TestInitRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, dir, node, location string
		now                       time.Time
	}{
		{"empty dir", "", "n", "", ceremonyTime},
		{"empty name", "x", "", "", ceremonyTime},
		{"long name", "x", strings.Repeat("a", 257), "", ceremonyTime},
		{"control char", "x", "a\nb", "", ceremonyTime},
		{"long location", "x", "n", strings.Repeat("b", 300), ceremonyTime},
		{"zero time", "x", "n", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if dir != "" {
				dir = filepath.Join(t.TempDir(), dir)
			}
			if _, err := Init(dir, tt.node, tt.location, tt.now); !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err %v; want ErrInvalidInput", err)
			}
		})
	}
}

func TestValidateKeyFileAnchors(t *testing.T) {
	dir, _ := ceremony(t)
	kpath := filepath.Join(dir, KeyFile)
	if err := os.Chmod(kpath, 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, reason := Validate(dir); ok || !strings.HasPrefix(reason, "insecure permissions 0644 on "+kpath) {
		t.Fatalf("readable key: (%v, %q)", ok, reason)
	}
	if err := os.Chmod(kpath, 0o600); err != nil {
		t.Fatal(err)
	}
	seed := readSeed(t, dir)
	if err := os.Remove(kpath); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, dir, "missing "+kpath)
	if ok, reason := ValidateWith(dir, Policy{AllowMissingKey: true}); !ok {
		t.Fatalf("AllowMissingKey: %q", reason)
	}
	// A key file holding another key.
	_, otherKey, _ := ed25519.GenerateKey(nil)
	other := otherKey.Seed()
	if err := os.WriteFile(kpath, []byte(hex.EncodeToString(other)), 0o600); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, dir, ReasonIdentityKey)
	if err := os.WriteFile(kpath, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, dir, ReasonOK)
}

func TestMissingFiles(t *testing.T) {
	dir, _ := ceremony(t)
	gpath, hpath := filepath.Join(dir, GenesisFile), filepath.Join(dir, HashFile)
	if err := os.Remove(hpath); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, dir, "missing "+hpath)
	if err := os.Remove(gpath); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, dir, "missing "+gpath)
	nowhere := filepath.Join(t.TempDir(), "nowhere")
	mustValidate(t, nowhere, "missing "+filepath.Join(nowhere, GenesisFile))
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{"", RoleNode, false},
		{"node", RoleNode, false},
		{"node0", RoleNode0, false},
		{"NODE0", "", true},
		{"node1", "", true},
		{" node", "", true},
		{"genesis", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRole(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidRole) || !strings.Contains(err.Error(), "BIZRA_NODE_ROLE") {
					t.Fatalf("err %v; want ErrInvalidRole naming BIZRA_NODE_ROLE", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("(%q, %v); want %q", got, err, tt.want)
			}
		})
	}
}

func TestEnforce(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "sovereign_state")
	if err := Enforce(RoleNode, empty); err != nil {
		t.Fatalf("node over an empty folder: %v", err)
	}
	err := Enforce(RoleNode0, empty)
	want := "Node0 genesis enforcement failed: missing " + empty + "/node0_genesis.json. Required authority files: " +
		empty + "/node0_genesis.json and " + empty + "/genesis_hash.txt"
	if err == nil || err.Error() != want {
		t.Fatalf("err %v;\nwant %s", err, want)
	}
	if !errors.Is(err, ErrEnforcement) || catalog.Lookup(err).Code != "GENESIS_ENFORCEMENT_FAILED" {
		t.Fatalf("err %v does not wrap ErrEnforcement", err)
	}

	dir, g := ceremony(t)
	if err := Enforce(RoleNode0, dir); err != nil {
		t.Fatalf("valid chain: %v", err)
	}
	g.Identity.Name = "Tampered"
	writeDoc(t, dir, &g)
	err = Enforce(RoleNode0, dir)
	want = "Node0 genesis enforcement failed: IDENTITY_HASH_MISMATCH. Required authority files: " +
		dir + "/node0_genesis.json and " + dir + "/genesis_hash.txt"
	if err == nil || err.Error() != want {
		t.Fatalf("err %v;\nwant %s", err, want)
	}
	if err := Enforce(Role("admin"), dir); !errors.Is(err, ErrInvalidRole) {
		t.Fatalf("unknown role: %v", err)
	}
}

func TestSnapshot(t *testing.T) {
	ephemeral := `{"designation":"ephemeral_node","genesis_node":false,"genesis_block":false,"home_base_device":false,"authority_source":"genesis_files","hash_validated":false}`
	dir, g := ceremony(t)
	marshal := func(o Origin) string {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := marshal(Snapshot(RoleNode, dir)); got != ephemeral {
		t.Errorf("node: %s", got)
	}
	want := `{"designation":"node0","genesis_node":true,"genesis_block":true,"block_id":"block0","home_base_device":true,"node_id":"` +
		g.Identity.NodeID + `","node_name":"Home Base","authority_source":"genesis_files","hash_validated":true}`
	if got := marshal(Snapshot(RoleNode0, dir)); got != want {
		t.Errorf("node0 valid:\n got %s\nwant %s", got, want)
	}
	writeHashFile(t, dir, flip(g.GenesisHash))
	if got := marshal(Snapshot(RoleNode0, dir)); got != ephemeral {
		t.Errorf("node0 invalid: %s", got)
	}
	if got := marshal(Snapshot(RoleNode0, t.TempDir())); got != ephemeral {
		t.Errorf("node0 empty: %s", got)
	}
}

func TestShow(t *testing.T) {
	dir, g := ceremony(t)
	s, err := Show(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Valid || s.Reason != ReasonOK || s.NodeID != g.Identity.NodeID || s.GenesisHash != g.GenesisHash ||
		len(s.PATAgents) != 7 || len(s.SATAgents) != 5 || s.Governance.Quorum != 3 {
		t.Fatalf("summary %+v", s)
	}
	writeHashFile(t, dir, flip(g.GenesisHash))
	if s, err = Show(dir); err != nil || s.Valid || s.Reason != ReasonHashFile {
		t.Fatalf("tampered: %+v %v", s, err)
	}
	if _, err := Show(t.TempDir()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, GenesisFile), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Show(dir); !errors.Is(err, ErrMalformed) {
		t.Fatalf("array: %v", err)
	}
}

// TestGoldenVector checks the document made by testdata/genesis/make_vectors.py
// (Python hashlib, hmac and cryptography, independent of this code).
func TestGoldenVector(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "genesis")
	var vec struct {
		SeedHex    string            `json:"seed_hex"`
		Name       string            `json:"name"`
		Location   string            `json:"location"`
		Timestamp  string            `json:"timestamp"`
		PublicKey  string            `json:"public_key"`
		NodeID     string            `json:"node_id"`
		Signature  string            `json:"signature"`
		AgentSeeds map[string]string `json:"agent_seeds"`
		Hashes     []struct {
			Name, Canonical, SHA256 string
		} `json:"hashes"`
	}
	raw, err := os.ReadFile(filepath.Join(src, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	seed, err := hex.DecodeString(vec.SeedHex)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(time.RFC3339, vec.Timestamp)
	if err != nil {
		t.Fatal(err)
	}

	// 1. The Python files validate, with the test seed as the key file.
	dir := t.TempDir()
	for _, f := range []string{GenesisFile, HashFile} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte(vec.SeedHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, dir, ReasonTestKey) // the golden seed is a known test key
	if ok, reason := ValidateWith(dir, Policy{AllowTestKeys: true}); !ok {
		t.Fatalf("golden files: %s", reason)
	}

	// 2. The ceremony reproduces the Python document exactly.
	got, err := build(seed, vec.Name, vec.Location, ts)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("build differs from the golden document:\n got %+v\nwant %+v", got, want)
	}
	if got.Identity.PublicKey != vec.PublicKey || got.Identity.NodeID != vec.NodeID || got.Signature != vec.Signature {
		t.Fatal("identity or signature differs from the vector")
	}

	// 3. Each hashed object's canonical bytes and digest.
	objects := map[string]any{
		"identity":    identityBody{want.Identity.NodeID, want.Identity.PublicKey, want.Identity.Name, want.Identity.Location, want.Identity.CreatedAt},
		"pat_team":    patBody{sortedAgents(want.PATTeam.Agents)},
		"sat_team":    satBody{sortedAgents(want.SATTeam.Agents), want.SATTeam.Governance},
		"partnership": partnershipBody{want.PATTeam.TeamHash, want.SATTeam.TeamHash},
		"genesis": genesisBody{want.Version, want.Timestamp, want.Identity.IdentityHash, want.PATTeam.TeamHash,
			want.SATTeam.TeamHash, want.PartnershipHash},
	}
	for _, a := range append(want.PATTeam.Agents, want.SATTeam.Agents...) {
		objects["agent "+a.AgentID] = agentBody{a.AgentID, a.Role, a.PublicKey, a.Capabilities}
	}
	if len(vec.Hashes) != len(objects) {
		t.Fatalf("%d vectors for %d objects", len(vec.Hashes), len(objects))
	}
	for _, h := range vec.Hashes {
		obj, ok := objects[h.Name]
		if !ok {
			t.Fatalf("unexpected vector %q", h.Name)
		}
		c, err := canon.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if string(c) != h.Canonical {
			t.Errorf("%s canonical:\n got %s\nwant %s", h.Name, c, h.Canonical)
		}
		if d := canon.SHA256Hex(c); d != h.SHA256 {
			t.Errorf("%s digest %s; want %s", h.Name, d, h.SHA256)
		}
	}
	for id, s := range vec.AgentSeeds {
		k, err := AgentKey(seed, id)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(k.Seed()) != s {
			t.Errorf("agent %s seed %x; want %s", id, k.Seed(), s)
		}
	}
	if len(vec.AgentSeeds) != 12 {
		t.Errorf("%d agent seeds; want 12", len(vec.AgentSeeds))
	}
}

func goldenSeed() []byte {
	s := make([]byte, 32)
	for i := range s {
		s[i] = byte(i)
	}
	return s
}

func TestIsTestKey(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	if IsTestKey(priv.Seed()) || IsTestKey(nil) {
		t.Fatal("a random key is not a test key")
	}
	for _, s := range [][]byte{make([]byte, 32), bytes.Repeat([]byte{0x11}, 32), goldenSeed()} {
		if !IsTestKey(s) {
			t.Fatalf("%x is a test key", s)
		}
	}
}

func TestGuard(t *testing.T) {
	dir, g := ceremony(t)
	guard, err := NewGuard(RoleNode0, dir)
	if err != nil {
		t.Fatal(err)
	}
	if o := guard.Origin(); o.Designation != "node0" || o.NodeID != g.Identity.NodeID || !o.HashValidated {
		t.Fatalf("origin %+v", o)
	}
	writeHashFile(t, dir, flip(g.GenesisHash))
	if o := guard.Origin(); o.Designation != "node0" {
		t.Fatal("Origin re-read the files; it must return the cached result")
	}
	if ok, reason := guard.Refresh(); ok || reason != ReasonHashFile {
		t.Fatalf("Refresh after tamper: (%v, %q)", ok, reason)
	}
	if o := guard.Origin(); o.Designation != "ephemeral_node" || o.HashValidated {
		t.Fatalf("origin after tamper %+v", o)
	}
	if ok, reason := guard.Status(); ok || reason != ReasonHashFile {
		t.Fatalf("Status (%v, %q)", ok, reason)
	}
	writeHashFile(t, dir, g.GenesisHash)
	if ok, _ := guard.Refresh(); !ok || guard.Origin().Designation != "node0" {
		t.Fatal("Refresh after repair")
	}

	empty := t.TempDir()
	if _, err := NewGuard(RoleNode0, empty); !errors.Is(err, ErrEnforcement) {
		t.Fatalf("node0 over an empty folder: %v", err)
	}
	node, err := NewGuard(RoleNode, empty)
	if err != nil || node.Origin().Designation != "ephemeral_node" {
		t.Fatalf("node: %v %+v", err, node)
	}
	if _, err := NewGuard("root", empty); !errors.Is(err, ErrInvalidRole) {
		t.Fatalf("bad role: %v", err)
	}
}
