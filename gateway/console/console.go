package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
)

// files are the console's sources, served as they are (the index with its asset
// references versioned). Embedded data is read-only.
//
//go:embed assets
var files embed.FS

// Prefix is the path under which the assets are served; the index is served at "/".
const Prefix = "/console/"

// CSP allows the page's own scripts, styles, images and API only: no inline script or
// style, no eval, no framing, no form posts, no other origin.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the types of the file extensions the console ships; a file of any
// other type fails New.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Asset is one servable file.
type Asset struct {
	Name        string // file name under Prefix ("index.html" for "/")
	ContentType string
	Body        []byte
	// Version is the first 16 hex digits of the body's SHA-256, the ?v= of the
	// index's references; ETag is the strong entity tag built from it.
	Version, ETag string
}

// Console serves the embedded files. Build it with New.
type Console struct {
	index  Asset
	assets map[string]Asset
}

// New reads the embedded files and versions the index's references. It fails only on
// a build defect (ErrAssets).
func New() (*Console, error) {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAssets, err)
	}
	c := &Console{assets: map[string]Asset{}}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAssets, err)
	}
	var index []byte
	for _, e := range entries {
		if e.IsDir() {
			return nil, fmt.Errorf("%w: sub-folder %s (assets are one flat folder)", ErrAssets, e.Name())
		}
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrAssets, err)
		}
		if e.Name() == "index.html" {
			index = b
			continue
		}
		a, err := newAsset(e.Name(), b)
		if err != nil {
			return nil, err
		}
		c.assets[a.Name] = a
	}
	if index == nil {
		return nil, fmt.Errorf("%w: no index.html", ErrAssets)
	}
	// Version every reference to an asset: `/console/app.js"` becomes
	// `/console/app.js?v=<hash>"`. A reference to a file that does not exist is a defect.
	for _, ref := range references(index) {
		a, ok := c.assets[ref]
		if !ok {
			return nil, fmt.Errorf("%w: index.html references %s%s, which is not embedded", ErrAssets, Prefix, ref)
		}
		index = bytes.ReplaceAll(index, []byte(`"`+Prefix+ref+`"`), []byte(`"`+Prefix+ref+"?v="+a.Version+`"`))
	}
	if c.index, err = newAsset("index.html", index); err != nil {
		return nil, err
	}
	return c, nil
}

func newAsset(name string, body []byte) (Asset, error) {
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		return Asset{}, fmt.Errorf("%w: %s has no known content type", ErrAssets, name)
	}
	sum := sha256.Sum256(body)
	v := hex.EncodeToString(sum[:8])
	return Asset{Name: name, ContentType: ct, Body: body, Version: v, ETag: `"` + v + `"`}, nil
}

// references are the asset names the index refers to as "/console/NAME".
func references(index []byte) []string {
	var refs []string
	s := string(index)
	for {
		i := strings.Index(s, `"`+Prefix)
		if i < 0 {
			break
		}
		s = s[i+1+len(Prefix):]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			break
		}
		if name := s[:j]; !slices.Contains(refs, name) {
			refs = append(refs, name)
		}
		s = s[j:]
	}
	return refs
}

// Index is the page served at "/".
func (c *Console) Index() Asset { return c.index }

// Lookup returns the asset served at Prefix+name.
func (c *Console) Lookup(name string) (Asset, bool) {
	a, ok := c.assets[name]
	return a, ok
}

// Names lists the assets under Prefix, sorted.
func (c *Console) Names() []string {
	names := make([]string, 0, len(c.assets))
	for n := range c.assets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ServeIndex writes the page with its headers (a GET or HEAD; the caller routes).
func (c *Console) ServeIndex(ctx *fasthttp.RequestCtx) { serve(ctx, c.index, false) }

// ServeAsset writes the asset called name. It returns ErrNoAsset, writing nothing,
// when there is none.
func (c *Console) ServeAsset(ctx *fasthttp.RequestCtx, name string) error {
	a, ok := c.assets[name]
	if !ok {
		return ErrNoAsset
	}
	serve(ctx, a, string(ctx.QueryArgs().Peek("v")) == a.Version)
	return nil
}

// serve writes a with its cache and security headers, or 304 when the client's
// If-None-Match names its ETag. current: the request carries a's current version, so
// the answer may be cached as immutable.
func serve(ctx *fasthttp.RequestCtx, a Asset, current bool) {
	h := &ctx.Response.Header
	h.Set("ETag", a.ETag)
	if current {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", CSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.SetContentType(a.ContentType)
	if etagMatch(ctx.Request.Header.Peek("If-None-Match"), a.ETag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		ctx.Response.SkipBody = true
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(a.Body)
}

// etagMatch reports whether an If-None-Match value names tag ("*", or a list of
// entity tags, weak ones compared weakly as RFC 9110 asks for If-None-Match).
func etagMatch(inm []byte, tag string) bool {
	for _, t := range strings.Split(string(inm), ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}
