package smartfiles

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Operations lists the operations, in the order they are reported.
var Operations = []string{"scan", "organize", "rename", "merge"}

const (
	maxPathLen    = 4096
	maxPatternLen = 255
	maxSepLen     = 1024
)

// request is a decoded, validated input object.
type request struct {
	Op             string
	Path           string
	Paths          []string
	Recursive      bool
	CategoryFilter string
	DryRun         bool
	CopyMode       bool
	TargetPath     string
	Pattern        string
	Prefix         string
	Suffix         string
	HashSuffix     bool
	OutputPath     string
	Separator      string
	AddHeaders     bool
}

// decode validates the inputs of one invocation. maxPaths bounds merge's paths.
// It never panics, whatever the map holds.
func decode(in map[string]any, maxPaths int) (request, error) {
	var r request
	op, err := str(in, "operation", 64)
	if err != nil {
		return r, err
	}
	if op == "" {
		return r, badInput("operation", "missing")
	}
	switch op {
	case "scan", "organize", "rename", "merge":
	default:
		return r, badInput("operation", fmt.Sprintf("unknown operation '%s'; available operations: %s", op, strings.Join(Operations, ", ")))
	}
	r.Op = op
	if r.DryRun, err = flag(in, "dry_run", true); err != nil {
		return r, err
	}
	if op != "merge" {
		if r.Path, err = str(in, "path", maxPathLen); err != nil {
			return r, err
		}
		if r.Path == "" {
			return r, badInput("path", "missing")
		}
	}
	switch op {
	case "scan":
		if r.Recursive, err = flag(in, "recursive", false); err != nil {
			return r, err
		}
		if r.CategoryFilter, err = str(in, "category_filter", 32); err != nil {
			return r, err
		}
		if r.CategoryFilter != "" && !isCategory(r.CategoryFilter) {
			return r, badInput("category_filter", "must be one of "+strings.Join(Categories, ", "))
		}
	case "organize":
		if r.CopyMode, err = flag(in, "copy_mode", false); err != nil {
			return r, err
		}
		if r.TargetPath, err = str(in, "target_path", maxPathLen); err != nil {
			return r, err
		}
	case "rename":
		if r.Pattern, err = str(in, "pattern", maxPatternLen); err != nil {
			return r, err
		}
		if r.Pattern == "" {
			r.Pattern = "{name}{ext}"
		}
		if r.Prefix, err = str(in, "prefix", maxPatternLen); err != nil {
			return r, err
		}
		if r.Suffix, err = str(in, "suffix", maxPatternLen); err != nil {
			return r, err
		}
		for _, f := range []struct{ name, v string }{{"pattern", r.Pattern}, {"prefix", r.Prefix}, {"suffix", r.Suffix}} {
			if strings.Contains(f.v, "..") || strings.ContainsAny(f.v, "/\\\x00") {
				return r, badInput(f.name, "may not contain a path separator or '..'")
			}
		}
		if r.HashSuffix, err = flag(in, "hash_suffix", false); err != nil {
			return r, err
		}
	case "merge":
		if r.Paths, err = strList(in, "paths", maxPaths); err != nil {
			return r, err
		}
		if r.OutputPath, err = str(in, "output_path", maxPathLen); err != nil {
			return r, err
		}
		r.Separator = "\n"
		if _, ok := in["separator"]; ok && in["separator"] != nil {
			if r.Separator, err = str(in, "separator", maxSepLen); err != nil {
				return r, err
			}
		}
		if r.AddHeaders, err = flag(in, "add_headers", true); err != nil {
			return r, err
		}
	}
	return r, nil
}

// str reads an optional string input; absent or null is "".
func str(in map[string]any, name string, max int) (string, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badInput(name, "must be a string")
	}
	if len(s) > max {
		return "", badInput(name, "is too long")
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return "", badInput(name, "must be valid UTF-8 text without NUL")
	}
	return s, nil
}

// flag reads a strict boolean: true, false, "true", "false"; absent or null is def.
func flag(in map[string]any, name string, def bool) (bool, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return def, nil
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch {
		case strings.EqualFold(b, "true"):
			return true, nil
		case strings.EqualFold(b, "false"):
			return false, nil
		}
	}
	return def, badInput(name, `must be a boolean or "true"/"false"`)
}

// strList reads a required non-empty list of strings.
func strList(in map[string]any, name string, max int) ([]string, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return nil, badInput(name, "missing")
	}
	var out []string
	switch l := v.(type) {
	case []string:
		out = append(out, l...)
	case []any:
		if len(l) > max {
			return nil, badInput(name, "lists too many files")
		}
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, badInput(name, "must be a list of strings")
			}
			out = append(out, s)
		}
	default:
		return nil, badInput(name, "must be a list of file paths")
	}
	if len(out) == 0 {
		return nil, badInput(name, "must list at least one file")
	}
	if len(out) > max {
		return nil, badInput(name, "lists too many files")
	}
	for _, s := range out {
		if s == "" || len(s) > maxPathLen || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return nil, badInput(name, "each entry must be a non-empty path")
		}
	}
	return out, nil
}
