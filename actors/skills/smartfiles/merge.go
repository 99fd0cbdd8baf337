package smartfiles

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
)

// MergeResult is the output of merge.
type MergeResult struct {
	Operation       string `json:"operation"`
	DryRun          bool   `json:"dry_run"`
	FilesMerged     int    `json:"files_merged"`
	OutputPath      string `json:"output_path"`
	Written         bool   `json:"written"`
	TotalInputSize  string `json:"total_input_size"`
	TotalInputBytes int64  `json:"total_input_bytes"`
	OutputSize      string `json:"output_size"`
	OutputBytes     int64  `json:"output_bytes"`
	SizeLimitBytes  int64  `json:"size_limit_bytes"`
}

func (s *Skill) merge(ctx context.Context, l *lake, req request) (any, error) {
	rels := make([]string, len(req.Paths))
	for i, p := range req.Paths {
		rel, err := l.rel("paths", p)
		if err != nil {
			return nil, err
		}
		rels[i] = rel
	}
	outRel := ""
	if req.OutputPath != "" {
		rel, err := l.rel("output_path", req.OutputPath)
		if err != nil {
			return nil, err
		}
		outRel = rel
	} else {
		var b [4]byte
		_, _ = rand.Read(b[:])
		dir, _ := split(rels[0])
		outRel = join(dir, "merged_"+hex.EncodeToString(b[:])+".txt")
	}
	outDir, outName := split(outRel)
	if outRel == "." || badName(outName) {
		return nil, fail("Output path '%s' must name a file inside the data lake.", l.abs(outRel))
	}

	limit := s.opts.MaxMergeBytes
	var total int64
	parts := make([]string, 0, 2*len(rels))
	for _, rel := range rels {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := readInput(l, rel, limit-total)
		if err != nil {
			return nil, err
		}
		total += int64(len(b))
		if req.AddHeaders {
			_, name := split(rel)
			parts = append(parts, "# === "+name+" ===")
		}
		parts = append(parts, strings.ToValidUTF8(string(b), "\uFFFD"))
	}
	merged := strings.Join(parts, req.Separator)
	res := &MergeResult{
		Operation: "merge", DryRun: req.DryRun, FilesMerged: len(rels), OutputPath: l.abs(outRel),
		TotalInputSize: HumanSize(total), TotalInputBytes: total,
		OutputSize: HumanSize(int64(len(merged))), OutputBytes: int64(len(merged)), SizeLimitBytes: limit,
	}
	mode := create
	if req.DryRun {
		mode = probe
	}
	d, err := l.dir(outDir, mode)
	if err != nil {
		return nil, l.pathErr(outDir, err)
	}
	if d == nil { // dry run, the folder would be created
		return res, nil
	}
	defer d.Close()
	if exists(d, outName) {
		return nil, fail("Output %s", clash(l.abs(outRel)))
	}
	if req.DryRun {
		return res, nil
	}
	s.hook()
	if err := writeNew(d, outName, merged); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fail("Output %s", clash(l.abs(outRel)))
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, l.pathErr(outRel, err)
	}
	res.Written = true
	return res, nil
}

// readInput reads one merge input (a regular file, no symlink) of at most left bytes.
func readInput(l *lake, rel string, left int64) ([]byte, error) {
	dir, name := split(rel)
	if rel == "." {
		return nil, fail("Not a file: %s", l.abs(rel))
	}
	d, err := l.dir(dir, mustExist)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, l.pathErr(rel, err)
	}
	if err != nil {
		return nil, l.pathErr(dir, err)
	}
	defer d.Close()
	li, err := lstatFile(d, name)
	if err != nil {
		return nil, l.pathErr(rel, err)
	}
	if l.state.HoldsFile(li) {
		return nil, l.stateLink("paths", rel)
	}
	if li.Size() > left {
		return nil, tooBig(l, rel, left)
	}
	f, err := openFile(d, name, li)
	if err != nil {
		return nil, l.pathErr(rel, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, left+1))
	if err != nil {
		return nil, l.pathErr(rel, err)
	}
	if int64(len(b)) > left {
		return nil, tooBig(l, rel, left)
	}
	return b, nil
}

func tooBig(l *lake, rel string, left int64) error {
	return fail("Merge size limit reached at %s (%d bytes were left under the limit); nothing was written.", l.abs(rel), max(left, 0))
}

// writeNew creates name in d with O_EXCL and writes data; a partial file is removed.
func writeNew(d *os.Root, name, data string) error {
	f, err := d.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = d.Remove(name)
	}
	return err
}
