package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bizra/bizra/supervision/genesis"
)

var cmdGenesis = toolGroup("genesis", []subcommand{
	{"init", "run the Node0 ceremony: identity key, genesis document and hash file (never overwrites)", cmdGenesisInit},
	{"verify", "validate_genesis_chain: print ok or the first mismatch; exit 0 only when valid", cmdGenesisVerify},
	{"show", "summarize the genesis (identity, agents, governance) and whether it validates", cmdGenesisShow},
})

func cmdGenesisInit(_ context.Context, a *app, args []string) int {
	const cmd = "genesis init"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	state := stateDirFlag(fs, a)
	name := fs.String("name", "", "node name (required)")
	location := fs.String("location", "", "node location (free text)")
	pos, code := toolFlags(a, fs, args, "bizra genesis init --name NAME [--location LOCATION] [--state-dir DIR]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	if strings.TrimSpace(*name) == "" {
		return toolUsage(a, cmd, "--name is required")
	}
	g, err := genesis.Init(*state, *name, *location, time.Now())
	switch {
	case errors.Is(err, genesis.ErrExists):
		return toolFail(a, cmd, fmt.Errorf("a genesis already exists in %s; refusing to overwrite it (%v)", *state, err))
	case errors.Is(err, genesis.ErrInvalidInput):
		return toolUsage(a, cmd, "%v", err)
	case err != nil:
		return toolFail(a, cmd, err)
	}
	fmt.Fprintf(a.stdout, "node_id:      %s\n", g.Identity.NodeID)
	fmt.Fprintf(a.stdout, "genesis_hash: %s\n", g.GenesisHash)
	fmt.Fprintf(a.stdout, "public_key:   %s\n", g.Identity.PublicKey)
	fmt.Fprintln(a.stdout, "files:")
	for _, f := range []string{genesis.GenesisFile, genesis.HashFile, genesis.KeyFile + " (0600, keep it private)"} {
		fmt.Fprintf(a.stdout, "  %s\n", filepath.Join(*state, f))
	}
	fmt.Fprintf(a.stdout, "record the node_id out of band; pin it with: bizra genesis verify --trusted-public-key %[1]s, and at start with bizra run --genesis-public-key %[1]s (BIZRA_GENESIS_PUBLIC_KEY)\n", g.Identity.PublicKey)
	return 0
}

func cmdGenesisVerify(_ context.Context, a *app, args []string) int {
	const cmd = "genesis verify"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	state := stateDirFlag(fs, a)
	trusted := fs.String("trusted-public-key", envOr(a, "BIZRA_GENESIS_PUBLIC_KEY", ""),
		"hex Ed25519 public key the identity must have (an out-of-band pin; BIZRA_GENESIS_PUBLIC_KEY). Unset, the key recorded in <state>/"+genesis.TrustFile+" by the first validated start is required when that file exists")
	allowMissingKey := fs.Bool("allow-missing-key", false, "pass without node0_identity.key (checking a copy of the files away from the home-base device)")
	pos, code := toolFlags(a, fs, args, "bizra genesis verify [--state-dir DIR] [--trusted-public-key HEX] [--allow-missing-key]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	var p genesis.Policy
	p.AllowMissingKey = *allowMissingKey
	key, source, err := genesisAnchor(*state, *trusted)
	if err != nil {
		if errors.Is(err, genesis.ErrInvalidPublicKey) {
			return toolUsage(a, cmd, "invalid --trusted-public-key: want %d hex characters", 2*ed25519.PublicKeySize)
		}
		fmt.Fprintf(a.stdout, "invalid: %v\n", err)
		return 1
	}
	p.TrustedPublicKey = key
	ok, reason := genesis.ValidateWith(*state, p)
	if !ok {
		fmt.Fprintf(a.stdout, "invalid: %s\n", reason)
		if source != "" {
			fmt.Fprintf(a.stdout, "trust anchor: %s\n", source)
		}
		return 1
	}
	if source != "" {
		fmt.Fprintf(a.stdout, "trust anchor: %s (key id %s)\n", source, genesis.KeyID(key))
	}
	fmt.Fprintln(a.stdout, genesis.ReasonOK)
	return 0
}

func cmdGenesisShow(_ context.Context, a *app, args []string) int {
	const cmd = "genesis show"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	state := stateDirFlag(fs, a)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, code := toolFlags(a, fs, args, "bizra genesis show [--state-dir DIR] [--json]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	s, err := genesis.Show(*state)
	if errors.Is(err, genesis.ErrNotFound) {
		return toolFail(a, cmd, fmt.Errorf("no genesis in %s (run: bizra genesis init --name NAME)", *state))
	}
	if err != nil {
		return toolFail(a, cmd, err)
	}
	if *asJSON {
		if err := printJSON(a.stdout, s); err != nil {
			return toolFail(a, cmd, err)
		}
		return 0
	}
	w := a.stdout
	fmt.Fprintf(w, "version:      %s\n", s.Version)
	fmt.Fprintf(w, "timestamp:    %s\n", s.Timestamp)
	fmt.Fprintf(w, "node_id:      %s\n", s.NodeID)
	fmt.Fprintf(w, "name:         %s\n", s.Name)
	fmt.Fprintf(w, "location:     %s\n", s.Location)
	fmt.Fprintf(w, "public_key:   %s\n", s.PublicKey)
	fmt.Fprintf(w, "genesis_hash: %s\n", s.GenesisHash)
	fmt.Fprintf(w, "governance:   quorum %d, voting period %d h, upgrade threshold %g\n",
		s.Governance.Quorum, s.Governance.VotingPeriodHours, s.Governance.UpgradeThreshold)
	for _, team := range []struct {
		name   string
		agents []genesis.AgentSummary
	}{{"pat_agents", s.PATAgents}, {"sat_agents", s.SATAgents}} {
		fmt.Fprintf(w, "%s:\n", team.name)
		for _, ag := range team.agents {
			fmt.Fprintf(w, "  %-16s %-11s %s\n", ag.AgentID, ag.Role, strings.Join(ag.Capabilities, ", "))
		}
	}
	if s.Valid {
		fmt.Fprintln(w, "valid:        true")
	} else {
		fmt.Fprintf(w, "valid:        false (%s)\n", s.Reason)
	}
	return 0
}

// genesisAnchor is the key a genesis must be signed with, as bizra run decides it: the
// pin (flag or BIZRA_GENESIS_PUBLIC_KEY) when set, otherwise the key recorded in the
// state folder's trust file by the first validated start (trust on first use), and
// none when neither exists. source names where the key came from ("" for none).
func genesisAnchor(state, pin string) (ed25519.PublicKey, string, error) {
	if strings.TrimSpace(pin) != "" {
		k, err := genesis.ParsePublicKey(pin)
		if err != nil {
			return nil, "", err
		}
		return k, "pinned key (--trusted-public-key / BIZRA_GENESIS_PUBLIC_KEY)", nil
	}
	k, err := genesis.ReadTrustFile(state)
	if err != nil {
		return nil, "", err
	}
	if k == nil {
		return nil, "", nil
	}
	return k, "recorded key (" + genesis.TrustFile + ", written by the first validated start)", nil
}
