package genesis

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyChain copies the three genesis files of src over those of dst (a wholesale swap
// by someone who can write the state folder).
func copyChain(t *testing.T, src, dst string, files ...string) {
	t.Helper()
	if len(files) == 0 {
		files = []string{GenesisFile, HashFile, KeyFile}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, f)
		if err := os.WriteFile(p+".new", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".new", p); err != nil {
			t.Fatal(err)
		}
	}
}

func pubOf(t *testing.T, g Genesis) ed25519.PublicKey {
	t.Helper()
	pub, err := hex.DecodeString(g.Identity.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestParsePublicKey(t *testing.T) {
	good := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"lower hex", good, true},
		{"upper hex", strings.ToUpper(good), true},
		{"surrounding blanks", " " + good + "\n", true},
		{"empty", "", false},
		{"short", good[:62], false},
		{"long", good + "ab", false},
		{"not hex", strings.Repeat("zz", 32), false},
		{"seed-sized private key", strings.Repeat("ab", 64), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := ParsePublicKey(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidPublicKey) {
					t.Fatalf("error %v does not wrap ErrInvalidPublicKey", err)
				}
				if tc.in != "" && strings.Contains(err.Error(), tc.in) {
					t.Fatalf("error echoes the value: %v", err)
				}
				return
			}
			if hex.EncodeToString(pub) != good {
				t.Fatalf("parsed %x", pub)
			}
		})
	}
}

// TestFaultGenesisTrustAnchors starts guards over pinned, recorded and changed keys.
func TestFaultGenesisTrustAnchors(t *testing.T) {
	_, other := ceremony(t) // another Node0: another identity key
	otherPub := pubOf(t, other)
	for _, tc := range []struct {
		name string
		// prepare returns the options; it may write the trust file.
		prepare   func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions
		wantErr   error    // nil: the guard starts
		wantText  []string // substrings of the error
		wantTrust func(mine ed25519.PublicKey) ed25519.PublicKey
		wantLog   string // substring of the log; "" means no "recorded" line
	}{
		{name: "pin matches",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				return GuardOptions{TrustedPublicKey: mine, TrustOnFirstUse: true}
			},
			wantTrust: func(mine ed25519.PublicKey) ed25519.PublicKey { return mine }, wantLog: "pin recorded"},
		{name: "pin differs",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				return GuardOptions{TrustedPublicKey: otherPub, PinSource: "--genesis-public-key", TrustOnFirstUse: true}
			},
			wantErr:  ErrUntrustedKey,
			wantText: []string{"--genesis-public-key pins key id " + KeyID(otherPub), "is signed by key id "},
		},
		{name: "pin without trust on first use writes nothing",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				return GuardOptions{TrustedPublicKey: mine}
			}},
		{name: "first use records the key",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				return GuardOptions{TrustOnFirstUse: true}
			},
			wantTrust: func(mine ed25519.PublicKey) ed25519.PublicKey { return mine }, wantLog: "recorded on first use"},
		{name: "recorded key matches",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				if err := WriteTrustFile(dir, mine); err != nil {
					t.Fatal(err)
				}
				return GuardOptions{TrustOnFirstUse: true}
			},
			wantTrust: func(mine ed25519.PublicKey) ed25519.PublicKey { return mine }},
		{name: "recorded key differs",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				if err := WriteTrustFile(dir, otherPub); err != nil {
					t.Fatal(err)
				}
				return GuardOptions{TrustOnFirstUse: true, PinSource: "--genesis-public-key"}
			},
			wantErr: ErrUntrustedKey,
			wantText: []string{"key id " + KeyID(otherPub) + " was recorded on first use", "delete ",
				TrustFile, "--genesis-public-key"},
			wantTrust: func(ed25519.PublicKey) ed25519.PublicKey { return otherPub }},
		{name: "a pin replaces a different recorded key",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				if err := WriteTrustFile(dir, otherPub); err != nil {
					t.Fatal(err)
				}
				return GuardOptions{TrustedPublicKey: mine, TrustOnFirstUse: true}
			},
			wantTrust: func(mine ed25519.PublicKey) ed25519.PublicKey { return mine }, wantLog: "replaced_key_id=" + KeyID(otherPub)},
		{name: "malformed trust file",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				if err := os.WriteFile(filepath.Join(dir, TrustFile), []byte("not a key\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return GuardOptions{TrustOnFirstUse: true}
			},
			wantErr: ErrTrustFile, wantText: []string{"malformed", TrustFile}},
		{name: "symlinked trust file",
			prepare: func(t *testing.T, dir string, mine ed25519.PublicKey) GuardOptions {
				target := filepath.Join(t.TempDir(), "k")
				if err := os.WriteFile(target, []byte(hex.EncodeToString(otherPub)+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, filepath.Join(dir, TrustFile)); err != nil {
					t.Fatal(err)
				}
				return GuardOptions{TrustOnFirstUse: true}
			},
			wantErr: ErrTrustFile, wantText: []string{"refusing symlinked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, g := ceremony(t)
			mine := pubOf(t, g)
			o := tc.prepare(t, dir, mine)
			var logBuf bytes.Buffer
			o.Role, o.Dir, o.Logger = RoleNode0, dir, slog.New(slog.NewTextHandler(&logBuf, nil))
			guard, err := NewGuardWith(o)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("NewGuardWith: %v", err)
				}
				if guard.KeyID() != KeyID(mine) || guard.Origin().NodeID != g.Identity.NodeID {
					t.Fatalf("guard key id %s origin %+v", guard.KeyID(), guard.Origin())
				}
			} else {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("NewGuardWith: %v, want %v", err, tc.wantErr)
				}
				if errors.Is(tc.wantErr, ErrUntrustedKey) && !errors.Is(err, ErrEnforcement) {
					t.Fatalf("a trust refusal must also be an enforcement failure: %v", err)
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") {
					t.Fatalf("refusal is not one line: %q", msg)
				}
				for _, s := range tc.wantText {
					if !strings.Contains(msg, s) {
						t.Fatalf("refusal %q lacks %q", msg, s)
					}
				}
				if errors.Is(tc.wantErr, ErrUntrustedKey) && !strings.Contains(msg, KeyID(mine)) {
					t.Fatalf("refusal %q does not name the found key id %s", msg, KeyID(mine))
				}
			}
			rec, rerr := ReadTrustFile(dir)
			switch {
			case tc.wantTrust == nil && tc.wantErr == nil:
				if rec != nil || rerr != nil {
					t.Fatalf("trust file written: %x %v", rec, rerr)
				}
			case tc.wantTrust != nil:
				if rerr != nil || !bytes.Equal(rec, tc.wantTrust(mine)) {
					t.Fatalf("trust file holds %x (%v), want %x", rec, rerr, tc.wantTrust(mine))
				}
				fi, err := os.Stat(filepath.Join(dir, TrustFile))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("trust file mode: %v %v", fi, err)
				}
			}
			if tc.wantLog == "" {
				if strings.Contains(logBuf.String(), "recorded") {
					t.Fatalf("unexpected log %q", logBuf.String())
				}
			} else if !strings.Contains(logBuf.String(), tc.wantLog) || !strings.Contains(logBuf.String(), "level=INFO") {
				t.Fatalf("log %q lacks %q at INFO", logBuf.String(), tc.wantLog)
			}
			matches, _ := filepath.Glob(filepath.Join(dir, "."+TrustFile+".tmp-*"))
			if len(matches) != 0 {
				t.Fatalf("temporary files left: %v", matches)
			}
		})
	}

	t.Run("role node ignores pin and trust file", func(t *testing.T) {
		dir := t.TempDir()
		guard, err := NewGuardWith(GuardOptions{Role: RoleNode, Dir: dir, TrustedPublicKey: otherPub, TrustOnFirstUse: true})
		if err != nil || guard.Origin().Designation != "ephemeral_node" || guard.KeyID() != "" {
			t.Fatalf("node: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, TrustFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("trust file written for role node: %v", err)
		}
	})
	t.Run("bad pin length", func(t *testing.T) {
		dir, _ := ceremony(t)
		if _, err := NewGuardWith(GuardOptions{Role: RoleNode0, Dir: dir, TrustedPublicKey: otherPub[:16]}); !errors.Is(err, ErrInvalidPublicKey) {
			t.Fatalf("short pin: %v", err)
		}
	})
	t.Run("unwritable state folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions") // not a missing tool: the check cannot be made as root
		}
		dir, _ := ceremony(t)
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		if _, err := NewGuardWith(GuardOptions{Role: RoleNode0, Dir: dir, TrustOnFirstUse: true}); !errors.Is(err, ErrTrustFile) {
			t.Fatalf("unwritable folder: %v", err)
		}
	})
}

// TestFaultGenesisSwapDetected swaps and tampers with the files under a started guard.
func TestFaultGenesisSwapDetected(t *testing.T) {
	otherDir, other := ceremony(t)
	for _, tc := range []struct {
		name        string
		change      func(t *testing.T, dir string, g Genesis)
		wantSwapped bool
		wantReason  string // prefix
	}{
		{"untouched", func(*testing.T, string, Genesis) {}, false, ReasonOK},
		{"whole chain replaced by another ceremony", func(t *testing.T, dir string, _ Genesis) {
			copyChain(t, otherDir, dir)
		}, true, ReasonSwapped},
		{"genesis file replaced alone", func(t *testing.T, dir string, _ Genesis) {
			copyChain(t, otherDir, dir, GenesisFile)
		}, true, ReasonSwapped},
		{"genesis and hash file replaced", func(t *testing.T, dir string, _ Genesis) {
			copyChain(t, otherDir, dir, GenesisFile, HashFile)
		}, true, ReasonSwapped},
		{"re-ceremony with the same key", func(t *testing.T, dir string, _ Genesis) {
			for _, f := range []string{GenesisFile, HashFile} {
				if err := os.Remove(filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Init(dir, "Home Base", "Kitchen table", ceremonyTime.Add(1)); err != nil {
				t.Fatal(err)
			}
		}, true, ReasonSwapped},
		{"signature edited in place", func(t *testing.T, dir string, g Genesis) {
			g.Signature = flip(g.Signature)
			writeDoc(t, dir, &g)
		}, false, ReasonSignature},
		{"hash file edited", func(t *testing.T, dir string, g Genesis) {
			writeHashFile(t, dir, flip(g.GenesisHash))
		}, false, ReasonHashFile},
		{"genesis deleted", func(t *testing.T, dir string, _ Genesis) {
			if err := os.Remove(filepath.Join(dir, GenesisFile)); err != nil {
				t.Fatal(err)
			}
		}, false, "missing "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, g := ceremony(t)
			guard, err := NewGuardWith(GuardOptions{Role: RoleNode0, Dir: dir, TrustOnFirstUse: true})
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, dir, g)
			v := guard.Check()
			if v.Swapped != tc.wantSwapped || !strings.HasPrefix(v.Reason, tc.wantReason) || v.OK != (tc.wantReason == ReasonOK) {
				t.Fatalf("verdict %+v, want swapped=%v reason %q…", v, tc.wantSwapped, tc.wantReason)
			}
			if guard.Last() != v {
				t.Fatalf("Last %+v != Check %+v", guard.Last(), v)
			}
			if !v.OK && guard.Origin().Designation != "ephemeral_node" {
				t.Fatalf("origin after failure %+v", guard.Origin())
			}
			if tc.wantSwapped && (!strings.Contains(v.Reason, KeyID(pubOf(t, g))) || strings.Contains(v.Reason, "\n")) {
				t.Fatalf("swap reason %q does not name the start key id", v.Reason)
			}
			if tc.name == "whole chain replaced by another ceremony" && !strings.Contains(v.Reason, KeyID(pubOf(t, other))) {
				t.Fatalf("swap reason %q does not name the new key id", v.Reason)
			}
		})
	}
}

func TestGuardIsThisNode(t *testing.T) {
	dir, _ := ceremony(t)
	otherDir, _ := ceremony(t)
	mine, other := mustRead(t, dir), mustRead(t, otherDir)
	guard, err := NewGuardWith(GuardOptions{Role: RoleNode0, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nodeGuard, err := NewGuard(RoleNode, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(mine, []byte(`"name": "Home Base"`), []byte(`"name": "Home Bass"`), 1)
	for _, tc := range []struct {
		name  string
		guard *Guard
		doc   []byte
		want  bool
	}{
		{"own document", guard, mine, true},
		{"another node0's valid document", guard, other, false},
		{"own document tampered", guard, tampered, false},
		{"not JSON", guard, []byte("{"), false},
		{"empty", guard, nil, false},
		{"role node", nodeGuard, mine, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.guard.IsThisNode(tc.doc); got != tc.want {
				t.Fatalf("IsThisNode = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("after a swap on disk", func(t *testing.T) {
		copyChain(t, otherDir, dir)
		if v := guard.Check(); v.OK {
			t.Fatal("swap not detected")
		}
		if guard.IsThisNode(mine) || guard.IsThisNode(other) {
			t.Fatal("a node whose genesis failed its check claims a document")
		}
	})
}
