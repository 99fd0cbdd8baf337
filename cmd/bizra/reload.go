package main

import (
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/bizra/bizra/actors/core"
)

// reloadOnHUP handles SIGHUP for a running node until the returned stop is called
// (stop waits for the handler). SIGHUP never stops the node: it re-reads the
// configuration (flags as given, the environment, <state>/.env), applies what can
// change at run time — the log level (--log-level, BIZRA_LOG_LEVEL) and the API rate
// limit (--api-rate, --api-burst, BIZRA_API_RATE_PER_S, BIZRA_API_BURST) — names every
// other setting that changed (they apply at the next start), and rescans the data
// lake. A configuration that no longer parses is reported and the current one kept.
// setRate, when the node has an API, applies a changed API rate limit (--api-rate,
// --api-burst, BIZRA_API_RATE_PER_S, BIZRA_API_BURST).
func reloadOnHUP(a *app, name string, args []string, cfg *config, log *slog.Logger, rt *core.Runtime,
	setRate func(perSec float64, burst int) error) (stop func()) {
	if a.hup == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	cur := *cfg // the handler's own copy: cfg is not touched after start
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-a.hup:
				reload(a, name, args, &cur, log, rt, setRate)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// restartOnly are the settings a SIGHUP reports, not applies, when they changed.
func restartOnly(c *config) map[string]string {
	return map[string]string{
		"--bridge-rate": fmt.Sprint(c.BridgeRate), "--bridge-burst": fmt.Sprint(c.BridgeBurst),
		"--api-key": fmt.Sprint(len(c.APIKeys)), "--cache-entries": fmt.Sprint(c.CacheEntries),
		"--cache-ttl": c.CacheTTL.String(), "--queue": fmt.Sprint(c.Queue), "--data-lake": c.DataLake,
		"--host": c.APIHost, "--port": fmt.Sprint(c.APIPort), "--bridge-port": fmt.Sprint(c.BridgePort),
		"--index-rescan-interval": c.IndexRescan.String(), "--no-index-cache": fmt.Sprint(c.NoIndexCache),
		"--log-format": c.LogFormat, "--enforce-ihsan": fmt.Sprint(c.EnforceIhsan),
		"--maintenance-interval": c.MaintenanceInterval.String(),
	}
}

func reload(a *app, name string, args []string, cur *config, log *slog.Logger, rt *core.Runtime,
	setRate func(perSec float64, burst int) error) {
	log.Info("SIGHUP: re-reading the configuration and rescanning the data lake")
	defer rt.RescanIndex()
	env, state, err := newEnv(args, a.getenv)
	var nc *config
	if err == nil {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		fs.SetOutput(discard{})
		if nc, err = bindRuntimeFlags(fs, env, state, cur.server); err == nil {
			if err = fs.Parse(args); err == nil {
				err = nc.validate()
			}
		}
	}
	if err != nil {
		log.Warn("SIGHUP: the configuration does not load; keeping the current one", "err", flatErr(err))
		return
	}
	if nc.LogLevel != cur.LogLevel {
		var lvl slog.Level
		_ = lvl.UnmarshalText([]byte(nc.LogLevel))
		cur.logLevel.Set(lvl)
		log.Info("SIGHUP: log level changed", "from", cur.LogLevel, "to", nc.LogLevel)
		cur.LogLevel = nc.LogLevel
	}
	if setRate != nil && (nc.APIRate != cur.APIRate || nc.APIBurst != cur.APIBurst) {
		if err := setRate(nc.APIRate, nc.APIBurst); err != nil {
			log.Warn("SIGHUP: the API rate limit was not changed", "err", err)
		} else {
			log.Info("SIGHUP: API rate limit changed", "rate_per_s", nc.APIRate, "burst", nc.APIBurst,
				"was_rate_per_s", cur.APIRate, "was_burst", cur.APIBurst)
			cur.APIRate, cur.APIBurst = nc.APIRate, nc.APIBurst
		}
	}
	was, now := restartOnly(cur), restartOnly(nc)
	var changed []string
	for k, v := range now {
		if was[k] != v {
			changed = append(changed, k)
		}
	}
	if len(changed) > 0 {
		log.Warn("SIGHUP: these settings changed but apply only at the next start", "settings", strings.Join(slices.Sorted(slices.Values(changed)), " "))
	}
	log.Debug("SIGHUP: configuration reloaded", "log_level", cur.LogLevel)
}
