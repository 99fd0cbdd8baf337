package skills_test

import (
	"context"
	"testing"

	"github.com/bizra/bizra/actors/skills"
)

// BenchmarkInvoke is one invoke_skill round trip of a trivial skill: edge copy of the
// inputs, validation, the owned goroutine, the reply.
func BenchmarkInvoke(b *testing.B) {
	r, _ := newRegistryB(b, skills.Options{MaxConcurrent: 64, Skills: []skills.Skill{fake("echo", skills.StatusAvailable, echo)}})
	in := map[string]any{"x": "hello", "n": 1.0}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Invoke(ctx, "echo", in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList is one list_skills round trip.
func BenchmarkList(b *testing.B) {
	r, _ := newRegistryB(b, skills.Options{DataLakeRoot: b.TempDir(), Skills: []skills.Skill{fake("echo", skills.StatusAvailable, echo)}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.List(ctx, ""); err != nil {
			b.Fatal(err)
		}
	}
}
