package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateSection(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.md")
	md := "## Answer quality (`make eval`)\n\n| table |\n\n### Goals (issue 16, held-out corpus)\n\n| goal |\n\n### Score components over each corpus's answers\n\n| snr |\n"
	if err := os.WriteFile(report, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, before string
		short        bool
		want, absent []string
	}{
		{"readme, markers present", "# x\n\n" + markStart + "\nold\n" + markEnd + "\n\n## after\n", true,
			[]string{"# x\n\n" + markStart + "\n## Answer quality", "| table |", "### Goals", "docs/eval.md", markEnd + "\n\n## after\n"},
			[]string{"old", "| snr |"}},
		{"doc, markers appended", "# doc\n", false,
			[]string{"# doc\n\n" + markStart + "\n| table |", "#### Goals", "#### Score components", "| snr |", markEnd + "\n"},
			[]string{"## Answer quality"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, "target.md")
			if err := os.WriteFile(f, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := updateSection(f, report, tc.short); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(f)
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("lacks %q:\n%s", w, b)
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(string(b), w) {
					t.Errorf("still has %q:\n%s", w, b)
				}
			}
		})
	}
	if err := updateSection(filepath.Join(dir, "target.md"), filepath.Join(dir, "none.md"), true); err == nil {
		t.Error("a missing report was accepted")
	}
}
