package smartfiles

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Rename is one planned rename.
type Rename struct {
	Old   string `json:"old"`
	New   string `json:"new"`
	Error string `json:"error,omitempty"`
}

// RenameResult is the output of rename.
type RenameResult struct {
	Operation       string   `json:"operation"`
	DryRun          bool     `json:"dry_run"`
	Path            string   `json:"path"`
	Planned         int      `json:"planned"`
	Executed        int      `json:"executed"`
	Unchanged       int      `json:"unchanged"`
	Errors          []string `json:"errors"`
	Renames         []Rename `json:"renames"` // the first 100
	SkippedSymlinks int      `json:"skipped_symlinks"`
	Truncated       bool     `json:"truncated"`
	EntryLimit      int      `json:"entry_limit"`
}

const maxReportedRenames = 100

func (s *Skill) rename(ctx context.Context, l *lake, req request) (any, error) {
	rel, err := l.rel("path", req.Path)
	if err != nil {
		return nil, err
	}
	d, err := l.dir(rel, mustExist)
	if err != nil {
		return nil, l.pathErr(rel, err)
	}
	defer d.Close()
	files, symlinks, truncated, err := listFiles(ctx, d, s.opts.MaxEntries)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, l.pathErr(rel, err)
	}
	files = l.notState(files)
	res := &RenameResult{
		Operation: "rename", DryRun: req.DryRun, Path: l.abs(rel), Planned: len(files),
		Errors: []string{}, Renames: []Rename{}, SkippedSymlinks: symlinks,
		Truncated: truncated, EntryLimit: s.opts.MaxEntries,
	}
	needHash := req.HashSuffix || strings.Contains(req.Pattern, "{hash}")
	plan := make([]Rename, len(files))
	taken := map[string]bool{}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		plan[i] = Rename{Old: f.name}
		stem, ext := splitName(f.name)
		t := Tokens{Name: stem, Ext: ext, N: i + 1, Date: f.info.ModTime().UTC().Format(time.DateOnly), Cat: Category(f.name)}
		if needHash {
			h, err := hashFile(ctx, d, f.name, f.info)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				plan[i].Error = l.errText(join(rel, f.name), err)
				continue
			}
			t.Hash = h
		}
		name := req.Prefix + ExpandPattern(req.Pattern, t)
		if req.Suffix != "" {
			b, e := splitExt(name)
			name = b + req.Suffix + e
		}
		if req.HashSuffix && !strings.Contains(req.Pattern, "{hash}") {
			b, e := splitExt(name)
			name = fmt.Sprintf("%s_%s%s", b, t.Hash[:16], e)
		}
		plan[i].New = name
		switch {
		case badName(name):
			plan[i].Error = fmt.Sprintf("Generated name '%s' is not a plain file name (no separator or '..').", name)
		case len(name) > 255:
			plan[i].Error = "Generated name is longer than 255 bytes."
		case name != f.name && taken[name]:
			plan[i].Error = clash(l.abs(join(rel, name))) + " (two files would get this name)"
		}
		taken[name] = true
	}
	if !req.DryRun {
		s.hook()
	}
	for i, f := range files {
		r := &plan[i]
		if r.Error == "" && r.New == f.name {
			res.Unchanged++
			continue
		}
		if r.Error == "" && req.DryRun && exists(d, r.New) {
			r.Error = clash(l.abs(join(rel, r.New)))
		}
		if r.Error != "" || req.DryRun {
			continue
		}
		if ctx.Err() != nil {
			r.Error = "Stopped before finishing: the deadline passed."
			continue
		}
		r.Error = renameOne(ctx, l, d, rel, f, r.New)
		if r.Error == "" {
			res.Executed++
		}
	}
	for _, r := range plan {
		if r.Error != "" {
			res.Errors = append(res.Errors, r.Old+": "+r.Error)
		}
	}
	res.Renames = slices.Clone(plan[:min(len(plan), maxReportedRenames)])
	return res, nil
}

// renameOne links f as name in d, checks the link is the planned file, and unlinks
// the old name: an existing name is never replaced.
func renameOne(ctx context.Context, l *lake, d *os.Root, rel string, f entry, name string) string {
	err := d.Link(f.name, name)
	if err != nil && linkUnsupported(err) {
		if err = copyFile(ctx, d, f.name, f.info, d, name); err == nil {
			err = removeSame(d, f)
		}
		return l.placeErr(join(rel, f.name), join(rel, name), err)
	}
	if err != nil {
		return l.placeErr(join(rel, f.name), join(rel, name), err)
	}
	li, err := d.Lstat(name)
	if err != nil || !os.SameFile(li, f.info) {
		if err == nil {
			_ = d.Remove(name)
		}
		return l.errText(join(rel, f.name), errChanged)
	}
	if err := removeSame(d, f); err != nil {
		return l.errText(join(rel, f.name), err)
	}
	return ""
}
