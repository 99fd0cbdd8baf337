package smartfiles

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
)

// Move is one planned move or copy.
type Move struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Category    string `json:"category"`
	Error       string `json:"error,omitempty"`
}

// OrganizeResult is the output of organize.
type OrganizeResult struct {
	Operation         string         `json:"operation"`
	DryRun            bool           `json:"dry_run"`
	Action            string         `json:"action"` // "moved" or "copied"
	Path              string         `json:"path"`
	TargetPath        string         `json:"target_path"`
	Planned           int            `json:"planned"`
	Executed          int            `json:"executed"`
	Errors            []string       `json:"errors"`
	CategoryBreakdown map[string]int `json:"category_breakdown"`
	Moves             []Move         `json:"moves"` // the first 50
	SkippedSymlinks   int            `json:"skipped_symlinks"`
	Truncated         bool           `json:"truncated"`
	EntryLimit        int            `json:"entry_limit"`
}

const maxReportedMoves = 50

func (s *Skill) organize(ctx context.Context, l *lake, req request) (any, error) {
	srcRel, err := l.rel("path", req.Path)
	if err != nil {
		return nil, err
	}
	tgtRel := srcRel
	if req.TargetPath != "" {
		if tgtRel, err = l.rel("target_path", req.TargetPath); err != nil {
			return nil, err
		}
	}
	src, err := l.dir(srcRel, mustExist)
	if err != nil {
		return nil, l.pathErr(srcRel, err)
	}
	defer src.Close()
	// The target's existing part must be plain directories, even in a dry run.
	if t, err := l.dir(tgtRel, probe); err != nil {
		return nil, l.pathErr(tgtRel, err)
	} else if t != nil {
		_ = t.Close()
	}
	files, symlinks, truncated, err := listFiles(ctx, src, s.opts.MaxEntries)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, l.pathErr(srcRel, err)
	}
	files = l.notState(files)
	res := &OrganizeResult{
		Operation: "organize", DryRun: req.DryRun, Action: "moved", Path: l.abs(srcRel),
		TargetPath: l.abs(tgtRel), Planned: len(files), Errors: []string{},
		CategoryBreakdown: map[string]int{}, Moves: []Move{}, SkippedSymlinks: symlinks,
		Truncated: truncated, EntryLimit: s.opts.MaxEntries,
	}
	if req.CopyMode {
		res.Action = "copied"
	}
	moves := make([]Move, len(files))
	for i, f := range files {
		cat := Category(f.name)
		res.CategoryBreakdown[cat]++
		moves[i] = Move{Source: l.abs(join(srcRel, f.name)), Destination: l.abs(join(tgtRel, cat, f.name)), Category: cat}
	}
	if !req.DryRun {
		s.hook()
		dirs := map[string]*os.Root{}
		defer func() {
			for _, d := range dirs {
				_ = d.Close()
			}
		}()
		for i, f := range files {
			if ctx.Err() != nil {
				res.Errors = append(res.Errors, "Stopped before finishing: the deadline passed.")
				break
			}
			cat := moves[i].Category
			dst, ok := dirs[cat]
			if !ok {
				if dst, err = l.dir(join(tgtRel, cat), create); err != nil {
					moves[i].Error = l.errText(join(tgtRel, cat), err)
					res.Errors = append(res.Errors, f.name+": "+moves[i].Error)
					continue
				}
				dirs[cat] = dst
			}
			if err := s.place(ctx, l, src, srcRel, f, dst, join(tgtRel, cat), req.CopyMode); err != "" {
				moves[i].Error = err
				res.Errors = append(res.Errors, f.name+": "+err)
				continue
			}
			res.Executed++
		}
	}
	res.Moves = slices.Clone(moves[:min(len(moves), maxReportedMoves)])
	return res, nil
}

// place moves (link, check, unlink) or copies one file; it answers a public error
// text, "" on success.
func (s *Skill) place(ctx context.Context, l *lake, src *os.Root, srcRel string, f entry, dst *os.Root, dstRel string, copyMode bool) string {
	destRel := join(dstRel, f.name)
	if exists(dst, f.name) {
		return clash(l.abs(destRel))
	}
	if copyMode {
		return l.placeErr(join(srcRel, f.name), destRel, copyFile(ctx, src, f.name, f.info, dst, f.name))
	}
	err := l.r.Link(join(srcRel, f.name), destRel)
	if err != nil && linkUnsupported(err) {
		if err = copyFile(ctx, src, f.name, f.info, dst, f.name); err == nil {
			return l.placeErr(join(srcRel, f.name), destRel, removeSame(src, f))
		}
		return l.placeErr(join(srcRel, f.name), destRel, err)
	}
	if err != nil {
		return l.placeErr(join(srcRel, f.name), destRel, err)
	}
	// The link must be the planned file; a swap in between is undone.
	li, err := dst.Lstat(f.name)
	if err != nil || !os.SameFile(li, f.info) {
		if err == nil {
			_ = dst.Remove(f.name)
		}
		return l.errText(join(srcRel, f.name), errChanged)
	}
	return l.placeErr(join(srcRel, f.name), destRel, removeSame(src, f))
}

// removeSame unlinks f from d if d's entry is still the planned file.
func removeSame(d *os.Root, f entry) error {
	li, err := d.Lstat(f.name)
	if err != nil {
		return err
	}
	if !os.SameFile(li, f.info) {
		return errChanged
	}
	return d.Remove(f.name)
}

func (l *lake) placeErr(srcRel, destRel string, err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, fs.ErrExist):
		return clash(l.abs(destRel))
	}
	return l.errText(srcRel, err)
}
