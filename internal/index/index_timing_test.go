package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// smallDocs returns n deterministic small documents (~40 words each).
func smallDocs(n int) []Document {
	docs := make([]Document, n)
	for i := range docs {
		docs[i] = Document{Path: fmt.Sprintf("d%03d/doc%05d.md", i%100, i), Text: "# Note\n\n" + genText(i, 40)}
	}
	return docs
}

// BenchmarkFromDocuments10k indexes 10,000 small in-memory documents per op.
func BenchmarkFromDocuments10k(b *testing.B) {
	docs := smallDocs(10_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromDocuments(context.Background(), docs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild10kFiles walks and indexes 10,000 small files on disk per op.
func BenchmarkBuild10kFiles(b *testing.B) {
	dir := b.TempDir()
	for _, d := range smallDocs(10_000) {
		p := filepath.Join(dir, filepath.FromSlash(d.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(d.Text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ix, err := Build(context.Background(), dir, Options{})
		if err != nil || ix.Stats().Files != 10_000 {
			b.Fatal(err, ix.Stats())
		}
	}
}

// BenchmarkSearch searches a 10,000-document index for a three-term query, top 5.
func BenchmarkSearch(b *testing.B) {
	ix, err := FromDocuments(context.Background(), smallDocs(10_000), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(ix.Search("how do I check bridge health?", 5)) == 0 {
			b.Fatal("no hits")
		}
	}
}
