package main

import (
	"testing"
	"time"
)

// TestIndexFlags: --index-rescan-interval and --no-index-cache take their variables,
// the flag wins, bad values are one error naming the variable or flag, and the core
// gets the options (0 → no periodic rescan; a one-shot query is unwatched).
func TestIndexFlags(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantRescan time.Duration // core.IndexOptions.RescanInterval
		wantNo     bool
		wantErr    string
	}{
		{"default", nil, nil, time.Minute, false, ""},
		{"environment", map[string]string{"BIZRA_INDEX_RESCAN_INTERVAL": "5m", "BIZRA_NO_INDEX_CACHE": "yes"}, nil, 5 * time.Minute, true, ""},
		{"flag over environment", map[string]string{"BIZRA_INDEX_RESCAN_INTERVAL": "5m"}, []string{"--index-rescan-interval", "10s", "--no-index-cache"}, 10 * time.Second, true, ""},
		{"zero is off", nil, []string{"--index-rescan-interval", "0"}, -1, false, ""},
		{"bad env duration", map[string]string{"BIZRA_INDEX_RESCAN_INTERVAL": "often"}, nil, 0, false, "BIZRA_INDEX_RESCAN_INTERVAL"},
		{"bad env boolean", map[string]string{"BIZRA_NO_INDEX_CACHE": "maybe"}, nil, 0, false, "BIZRA_NO_INDEX_CACHE"},
		{"negative", nil, []string{"--index-rescan-interval", "-1s"}, 0, false, "--index-rescan-interval"},
		{"too often", nil, []string{"--index-rescan-interval", "10ms"}, 0, false, "--index-rescan-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg, err := runFlags(tt.env, tt.args)
			if tt.wantErr != "" {
				wantOneLineError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o := indexOptions(cfg)
			if o.RescanInterval != tt.wantRescan || o.NoCache != tt.wantNo || o.ReadOnly || o.NoWatch {
				t.Fatalf("index options %+v; want rescan %v, no cache %v", o, tt.wantRescan, tt.wantNo)
			}
			cfg.oneShot = true
			if o := indexOptions(cfg); o.ReadOnly || !o.NoWatch {
				t.Fatalf("one-shot index options %+v", o)
			}
		})
	}
}
