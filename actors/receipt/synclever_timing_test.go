package receipt

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkSyncLevers measures one durable append on the disk under t.TempDir, the
// unit of the receipt log's group commit: a 2.4 KB write (one issued plus one sealed
// record) followed by
//
//   - fsync-append: fsync of a growing file (the log before this change);
//
//   - fdatasync-append: fdatasync of a growing file (the size still changes);
//
//   - fdatasync-fallocated: fdatasync into space reserved by fallocate(2) (unwritten
//     extents: the first write to each still converts it);
//
//   - fdatasync-zeroed: fdatasync into space written with zeros beforehand (what the
//     log does now: no metadata changes on the commit path).
//
//     go test -run '^$' -bench SyncLevers ./actors/receipt
func BenchmarkSyncLevers(b *testing.B) {
	rec := bytes.Repeat([]byte("x"), 2400)
	const span = 64 << 20
	for _, c := range []struct {
		name string
		prep func(*os.File) error
		sync func(*os.File) error
	}{
		{"fsync-append", nil, (*os.File).Sync},
		{"fdatasync-append", nil, datasync},
		{"fdatasync-fallocated", func(f *os.File) error { return reserve(f, span) }, datasync},
		{"fdatasync-zeroed", func(f *os.File) error { return zeroFill(f, 0, span) }, datasync},
	} {
		b.Run(c.name, func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "seg"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if c.prep != nil {
				if err := c.prep(f); err != nil {
					b.Skipf("prepare: %v", err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			var off int64
			b.SetBytes(int64(len(rec)))
			for b.Loop() {
				if off+int64(len(rec)) > span {
					off = 0
				}
				if _, err := f.WriteAt(rec, off); err != nil {
					b.Fatal(err)
				}
				off += int64(len(rec))
				if err := c.sync(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
