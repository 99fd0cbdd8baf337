package smartfiles

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bizra/bizra/internal/fsguard"
)

// The skill's manifest.
const (
	Name        = "smart_files"
	Agent       = "file-manager"
	Description = "Smart File Management -- batch rename, auto-organize, classify, and merge files"
	Version     = "1.0.0"
)

// Tags of the skill.
var Tags = []string{"files", "organize", "rename", "merge", "cowork"}

// Defaults of Options.
const (
	DefaultMaxEntries    = 10_000
	DefaultMaxDepth      = 32
	DefaultMaxMergeFiles = 100
	DefaultMaxMergeBytes = 16 << 20
)

// Options configures a Skill.
type Options struct {
	// Root is the data-lake root (BIZRA_DATA_LAKE_ROOT): an absolute path to an
	// existing directory. Required.
	Root string
	// MaxEntries bounds the directory entries one scan, organize or rename visits
	// (0 = DefaultMaxEntries). Hitting it is reported as truncated.
	MaxEntries int
	// MaxDepth bounds the depth of a recursive scan (0 = DefaultMaxDepth).
	MaxDepth int
	// MaxMergeFiles bounds merge's paths (0 = DefaultMaxMergeFiles).
	MaxMergeFiles int
	// MaxMergeBytes bounds the total size of merge's inputs (0 = DefaultMaxMergeBytes).
	MaxMergeBytes int64
	// StateDir is the node's state folder: every path inside it (as given, or once
	// symlinks are resolved) is refused with an *InputError, recursive scans skip it,
	// and a Root inside it is refused by New. "" checks nothing.
	StateDir string
}

// Skill is the smart_files skill over one data-lake root.
type Skill struct {
	root, alt string
	state     fsguard.Guard
	opts      Options
	afterPlan func() // test hook: runs between plan and execution
}

// New validates opts and returns the skill.
func New(opts Options) (*Skill, error) {
	if opts.Root == "" || !filepath.IsAbs(opts.Root) {
		return nil, fmt.Errorf("smartfiles: root %q must be an absolute path: %w", opts.Root, ErrRoot)
	}
	root := filepath.Clean(opts.Root)
	fi, err := os.Stat(root)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("smartfiles: root %q is not a directory: %w", root, ErrRoot)
	}
	alt, err := filepath.EvalSymlinks(root)
	if err != nil || alt == root {
		alt = ""
	}
	state, err := fsguard.NewGuard(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("smartfiles: state folder %q: %w", opts.StateDir, err)
	}
	if state.Contains(root) {
		return nil, fmt.Errorf("smartfiles: root %q is inside the state folder %q: %w", root, state.Dir(), ErrRoot)
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxMergeFiles <= 0 {
		opts.MaxMergeFiles = DefaultMaxMergeFiles
	}
	if opts.MaxMergeBytes <= 0 {
		opts.MaxMergeBytes = DefaultMaxMergeBytes
	}
	opts.Root = root
	return &Skill{root: root, alt: alt, state: state, opts: opts}, nil
}

// Root returns the cleaned data-lake root.
func (s *Skill) Root() string { return s.root }

// Run performs one operation. The output is one of *ScanResult, *OrganizeResult,
// *RenameResult, *MergeResult. A bad input is an *InputError, a failed operation a
// *Failure; both carry public text. Run stops early when ctx ends.
func (s *Skill) Run(ctx context.Context, inputs map[string]any) (any, error) {
	req, err := decode(inputs, s.opts.MaxMergeFiles)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l, err := openLake(s.root, s.alt, s.state)
	if err != nil {
		return nil, err
	}
	defer l.close()
	switch req.Op {
	case "scan":
		return s.scan(ctx, l, req)
	case "organize":
		return s.organize(ctx, l, req)
	case "rename":
		return s.rename(ctx, l, req)
	default:
		return s.merge(ctx, l, req)
	}
}

func (s *Skill) hook() {
	if s.afterPlan != nil {
		s.afterPlan()
	}
}
