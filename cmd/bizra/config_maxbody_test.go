package main

import (
	"strings"
	"testing"
)

// TestMaxBodyFlag: --max-body defaults to 8 MiB, takes BIZRA_MAX_BODY, the flag wins,
// and a bad value is one error naming the variable or flag.
func TestMaxBodyFlag(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    int
		wantErr string
	}{
		{"default", nil, nil, 8 << 20, ""},
		{"environment", map[string]string{"BIZRA_MAX_BODY": "16777216"}, nil, 16 << 20, ""},
		{"flag over environment", map[string]string{"BIZRA_MAX_BODY": "16777216"}, []string{"--max-body", "2097152"}, 2 << 20, ""},
		{"bad env", map[string]string{"BIZRA_MAX_BODY": "big"}, nil, 0, "BIZRA_MAX_BODY"},
		{"env below the query limit", map[string]string{"BIZRA_MAX_BODY": "1000"}, nil, 0, "BIZRA_MAX_BODY"},
		{"flag too large", nil, []string{"--max-body", "1073741824"}, 0, "--max-body"},
		{"flag too small", nil, []string{"--max-body", "1"}, 0, "--max-body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, cfg, err := runFlags(tt.env, tt.args)
			if tt.wantErr != "" {
				wantOneLineError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxBody != tt.want {
				t.Fatalf("max body %d; want %d", cfg.MaxBody, tt.want)
			}
			if u := fs.Lookup("max-body").Usage; !strings.Contains(u, "BIZRA_MAX_BODY") {
				t.Fatalf("--max-body help does not name BIZRA_MAX_BODY: %q", u)
			}
		})
	}
}
