package smartfiles

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkScan scans a folder of 200 files of mixed categories.
func BenchmarkScan(b *testing.B) {
	f := newLake(b)
	for i := range 200 {
		write(b, f.path("in", fmt.Sprintf("f%03d%s", i, []string{".py", ".pdf", ".csv", ".jpg", ".xyz"}[i%5])), "content")
	}
	in := map[string]any{"operation": "scan", "path": "in"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.skill.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode decodes a rename input object.
func BenchmarkDecode(b *testing.B) {
	in := map[string]any{"operation": "rename", "path": "in", "pattern": "{name}_{n}{ext}", "prefix": "p_", "dry_run": "false", "hash_suffix": true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(in, 100); err != nil {
			b.Fatal(err)
		}
	}
}
