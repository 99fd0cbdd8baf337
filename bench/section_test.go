package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReplaceSection(t *testing.T) {
	const start, end = "<!-- s -->", "<!-- e -->"
	for _, tc := range []struct{ name, before, want string }{
		{"markers present", "# x\n\n" + start + "\nold\n" + end + "\n\n## after\n", "# x\n\n" + start + "\nnew\n" + end + "\n\n## after\n"},
		{"markers missing: appended", "# x\n", "# x\n\n" + start + "\nnew\n" + end + "\n"},
		{"end before start: appended", end + "\n" + start + "\n", end + "\n" + start + "\n\n" + start + "\nnew\n" + end + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "README.md")
			if err := os.WriteFile(f, []byte(tc.before), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := ReplaceSection(f, start, end, "new\n"); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(f)
			if string(b) != tc.want {
				t.Fatalf("got %q\nwant %q", b, tc.want)
			}
			if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o640 {
				t.Fatalf("mode %v, want 0640 kept", fi.Mode().Perm())
			}
		})
	}
	if err := ReplaceSection(filepath.Join(t.TempDir(), "absent.md"), start, end, "x"); err == nil {
		t.Fatal("a missing file: want an error")
	}
}
