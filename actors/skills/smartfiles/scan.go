package smartfiles

import (
	"context"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// CategoryStat is one category of a scan.
type CategoryStat struct {
	Count     int    `json:"count"`
	Size      string `json:"size"`
	SizeBytes int64  `json:"size_bytes"`
}

// FileStat is one of the largest files of a scan.
type FileStat struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Category  string `json:"category"`
	Size      string `json:"size"`
	SizeBytes int64  `json:"size_bytes"`
}

// ScanResult is the output of scan.
type ScanResult struct {
	Operation       string                  `json:"operation"`
	Path            string                  `json:"path"`
	Recursive       bool                    `json:"recursive"`
	CategoryFilter  string                  `json:"category_filter,omitempty"`
	TotalFiles      int                     `json:"total_files"`
	TotalSize       string                  `json:"total_size"`
	TotalSizeBytes  int64                   `json:"total_size_bytes"`
	Categories      map[string]CategoryStat `json:"categories"`
	TopFiles        []FileStat              `json:"top_files"`
	SkippedSymlinks int                     `json:"skipped_symlinks"`
	SkippedState    int                     `json:"skipped_state,omitempty"` // sub-folders skipped because they are the state folder
	Truncated       bool                    `json:"truncated"`
	EntryLimit      int                     `json:"entry_limit"`
	DepthLimitHit   bool                    `json:"depth_limit_hit,omitempty"`
}

const topN = 10

type scanner struct {
	ctx     context.Context
	l       *lake
	s       *Skill
	req     request
	res     *ScanResult
	visited int
	top     []FileStat
}

func (s *Skill) scan(ctx context.Context, l *lake, req request) (any, error) {
	rel, err := l.rel("path", req.Path)
	if err != nil {
		return nil, err
	}
	d, err := l.dir(rel, mustExist)
	if err != nil {
		return nil, l.pathErr(rel, err)
	}
	defer d.Close()
	res := &ScanResult{
		Operation: "scan", Path: l.abs(rel), Recursive: req.Recursive, CategoryFilter: req.CategoryFilter,
		Categories: map[string]CategoryStat{}, TopFiles: []FileStat{}, EntryLimit: s.opts.MaxEntries,
	}
	sc := &scanner{ctx: ctx, l: l, s: s, req: req, res: res}
	if err := sc.walk(d, rel, 0); err != nil {
		return nil, err
	}
	sc.trimTop()
	res.TopFiles = append(res.TopFiles, sc.top...)
	res.TotalSize = HumanSize(res.TotalSizeBytes)
	return res, nil
}

// walk visits one directory; it stops (without error) when the entry limit is hit.
func (sc *scanner) walk(d *os.Root, rel string, depth int) error {
	f, err := d.Open(".")
	if err != nil {
		return sc.l.pathErr(rel, err)
	}
	defer f.Close()
	for {
		if err := sc.ctx.Err(); err != nil {
			return err
		}
		ents, err := f.ReadDir(256)
		for _, e := range ents {
			if sc.visited >= sc.s.opts.MaxEntries {
				sc.res.Truncated = true
				return nil
			}
			sc.visited++
			if err := sc.entry(d, rel, depth, e); err != nil {
				return err
			}
			if sc.res.Truncated {
				return nil
			}
		}
		if err == io.EOF || len(ents) == 0 {
			return nil
		}
		if err != nil {
			return sc.l.pathErr(rel, err)
		}
	}
}

// entry counts one directory entry; only the end of ctx is an error (an unreadable
// sub-directory is skipped).
func (sc *scanner) entry(d *os.Root, rel string, depth int, e fs.DirEntry) error {
	switch t := e.Type(); {
	case t&fs.ModeSymlink != 0:
		sc.res.SkippedSymlinks++
	case t.IsDir():
		if !sc.req.Recursive {
			return nil
		}
		if sc.l.inState(join(rel, e.Name())) {
			sc.res.SkippedState++
			return nil
		}
		if depth+1 >= sc.s.opts.MaxDepth {
			sc.res.DepthLimitHit = true
			return nil
		}
		sub, err := child(d, e.Name(), mustExist)
		if err != nil || sub == nil {
			return nil // vanished or swapped: skipped
		}
		defer sub.Close()
		if err := sc.walk(sub, join(rel, e.Name()), depth+1); err != nil && sc.ctx.Err() != nil {
			return err
		}
	case t.IsRegular():
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		cat := Category(e.Name())
		if sc.req.CategoryFilter != "" && cat != sc.req.CategoryFilter {
			return nil
		}
		size := info.Size()
		cs := sc.res.Categories[cat]
		cs.Count++
		cs.SizeBytes += size
		cs.Size = HumanSize(cs.SizeBytes)
		sc.res.Categories[cat] = cs
		sc.res.TotalFiles++
		sc.res.TotalSizeBytes += size
		sc.top = append(sc.top, FileStat{
			Name: e.Name(), Path: sc.l.abs(join(rel, e.Name())), Category: cat,
			Size: HumanSize(size), SizeBytes: size,
		})
		if len(sc.top) >= 8*topN {
			sc.trimTop()
		}
	}
	return nil
}

// trimTop keeps the topN largest files, largest first, ties by path.
func (sc *scanner) trimTop() {
	slices.SortFunc(sc.top, func(a, b FileStat) int {
		if a.SizeBytes != b.SizeBytes {
			if a.SizeBytes > b.SizeBytes {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Path, b.Path)
	})
	if len(sc.top) > topN {
		sc.top = sc.top[:topN]
	}
}
