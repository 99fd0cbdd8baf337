package console

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func newConsole(t testing.TB) *Console {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNewVersionsEveryReference: every asset the index refers to is embedded and
// referenced with its current version; every embedded asset is referenced (no dead
// files) and has its content type.
func TestNewVersionsEveryReference(t *testing.T) {
	c := newConsole(t)
	index := string(c.Index().Body)
	refs := regexp.MustCompile(`"/console/([^"?]+)(\?v=([0-9a-f]+))?"`).FindAllStringSubmatch(index, -1)
	if len(refs) == 0 {
		t.Fatal("the index references no asset")
	}
	seen := map[string]bool{}
	for _, r := range refs {
		a, ok := c.Lookup(r[1])
		if !ok {
			t.Errorf("index references %s, not embedded", r[1])
			continue
		}
		if r[3] != a.Version {
			t.Errorf("index references %s with v=%q; its version is %s", r[1], r[3], a.Version)
		}
		seen[r[1]] = true
	}
	want := map[string]string{"app.js": "text/javascript; charset=utf-8", "prom.js": "text/javascript; charset=utf-8",
		"style.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}
	names := c.Names()
	if len(names) != len(want) {
		t.Errorf("embedded assets %v; want %d", names, len(want))
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("%s is embedded but the index never references it", n)
		}
		a, _ := c.Lookup(n)
		if a.ContentType != want[n] {
			t.Errorf("%s: content type %q; want %q", n, a.ContentType, want[n])
		}
	}
	if c.Index().ContentType != "text/html; charset=utf-8" {
		t.Errorf("index content type %q", c.Index().ContentType)
	}
}

// TestAssetsAreCSPClean: no inline script or style, no handler attribute, no eval and
// no other origin in the shipped files (the CSP would block them: the page would break
// in the browser without a server-side error).
func TestAssetsAreCSPClean(t *testing.T) {
	c := newConsole(t)
	bad := []struct {
		re   *regexp.Regexp
		what string
	}{
		{regexp.MustCompile(`<script(?:\s[^>]*)?>[^<\s]`), "inline script"},
		{regexp.MustCompile(`<script(?:\s(?:[^s>]|s(?:[^r>]|r[^c>]))*)?>`), "script without src"},
		{regexp.MustCompile(`<style`), "inline style element"},
		{regexp.MustCompile(`\sstyle="`), "style attribute"},
		{regexp.MustCompile(`\son[a-z]+="`), "event handler attribute"},
		{regexp.MustCompile(`\beval\(|new Function\(|setTimeout\("|innerHTML|outerHTML|insertAdjacentHTML|document\.write`), "eval or HTML injection"},
		{regexp.MustCompile(`https?://`), "an absolute URL (another origin)"},
	}
	files := map[string][]byte{"index.html": c.Index().Body}
	for _, n := range c.Names() {
		a, _ := c.Lookup(n)
		files[n] = a.Body
	}
	for name, body := range files {
		if name == "icon.svg" {
			continue // its xmlns is a name, not a fetch
		}
		for _, b := range bad {
			if m := b.re.Find(body); m != nil {
				t.Errorf("%s: %s: %q", name, b.what, m)
			}
		}
	}
}

func request(method, uri string, hdr map[string]string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	for k, v := range hdr {
		ctx.Request.Header.Set(k, v)
	}
	return &ctx
}

// TestServe: status, type, cache policy, ETag revalidation and the security headers of
// the page and its assets.
func TestServe(t *testing.T) {
	c := newConsole(t)
	app, _ := c.Lookup("app.js")
	tests := []struct {
		name      string
		asset     string // "" is the index
		uri       string
		hdr       map[string]string
		status    int
		cache     string
		emptyBody bool
	}{
		{"index", "", "/", nil, 200, "no-cache", false},
		{"index revalidated", "", "/", map[string]string{"If-None-Match": c.Index().ETag}, 304, "no-cache", true},
		{"index stale etag", "", "/", map[string]string{"If-None-Match": `"0000"`}, 200, "no-cache", false},
		{"asset current version", "app.js", "/console/app.js?v=" + app.Version, nil, 200, "public, max-age=31536000, immutable", false},
		{"asset old version", "app.js", "/console/app.js?v=0123456789abcdef", nil, 200, "no-cache", false},
		{"asset no version", "app.js", "/console/app.js", nil, 200, "no-cache", false},
		{"asset revalidated", "app.js", "/console/app.js", map[string]string{"If-None-Match": `"x", ` + app.ETag}, 304, "no-cache", true},
		{"asset weak etag", "app.js", "/console/app.js", map[string]string{"If-None-Match": "W/" + app.ETag}, 304, "no-cache", true},
		{"asset any", "app.js", "/console/app.js", map[string]string{"If-None-Match": "*"}, 304, "no-cache", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := request("GET", tt.uri, tt.hdr)
			want := c.Index()
			if tt.asset == "" {
				c.ServeIndex(ctx)
			} else {
				want, _ = c.Lookup(tt.asset)
				if err := c.ServeAsset(ctx, tt.asset); err != nil {
					t.Fatal(err)
				}
			}
			h := &ctx.Response.Header
			if got := ctx.Response.StatusCode(); got != tt.status {
				t.Fatalf("status %d; want %d", got, tt.status)
			}
			if got := string(h.Peek("Cache-Control")); got != tt.cache {
				t.Errorf("Cache-Control %q; want %q", got, tt.cache)
			}
			if string(h.Peek("ETag")) != want.ETag || string(h.ContentType()) != want.ContentType {
				t.Errorf("ETag %q type %q; want %q %q", h.Peek("ETag"), h.ContentType(), want.ETag, want.ContentType)
			}
			if string(h.Peek("Content-Security-Policy")) != CSP || string(h.Peek("X-Content-Type-Options")) != "nosniff" ||
				string(h.Peek("X-Frame-Options")) != "DENY" || string(h.Peek("Referrer-Policy")) != "no-referrer" {
				t.Errorf("security headers missing:\n%s", h.String())
			}
			body := ctx.Response.Body()
			if tt.emptyBody != (len(body) == 0) || (!tt.emptyBody && string(body) != string(want.Body)) {
				t.Errorf("body of %d bytes; want %d (empty %v)", len(body), len(want.Body), tt.emptyBody)
			}
		})
	}
}

func TestServeUnknownAsset(t *testing.T) {
	c := newConsole(t)
	for _, name := range []string{"", "index.html", "nope.js", "../console.go", "app.js/", "APP.JS", "app.js\x00"} {
		ctx := request("GET", "/console/x", nil)
		if err := c.ServeAsset(ctx, name); !errors.Is(err, ErrNoAsset) {
			t.Errorf("%q: err %v; want ErrNoAsset", name, err)
		}
		if len(ctx.Response.Body()) != 0 || len(ctx.Response.Header.Peek("ETag")) != 0 {
			t.Errorf("%q: something was written", name)
		}
	}
}

func TestETagMatch(t *testing.T) {
	for _, tt := range []struct {
		inm  string
		want bool
	}{
		{`"abc"`, true}, {`W/"abc"`, true}, {`"x", "abc"`, true}, {`*`, true},
		{``, false}, {`abc`, false}, {`"abcd"`, false}, {`"ab"`, false}, {`,,,`, false},
	} {
		if got := etagMatch([]byte(tt.inm), `"abc"`); got != tt.want {
			t.Errorf("etagMatch(%q) = %v; want %v", tt.inm, got, tt.want)
		}
	}
}

// FuzzServeAsset: whatever the name, version and If-None-Match a client sends under
// /console/, the console answers a known asset (200 or 304) or ErrNoAsset, and never
// panics.
func FuzzServeAsset(f *testing.F) {
	c := newConsole(f)
	app, _ := c.Lookup("app.js")
	f.Add("app.js", app.Version, app.ETag)
	f.Add("style.css", "", "*")
	f.Add("../doc.go", "x", `W/"`)
	f.Add("", "", ",")
	f.Fuzz(func(t *testing.T, name, v, inm string) {
		ctx := request("GET", "/console/x", map[string]string{"If-None-Match": strings.ToValidUTF8(inm, "")})
		ctx.QueryArgs().Set("v", v)
		err := c.ServeAsset(ctx, name)
		_, known := c.Lookup(name)
		switch {
		case known && err != nil:
			t.Fatalf("%q: %v", name, err)
		case !known && !errors.Is(err, ErrNoAsset):
			t.Fatalf("%q: err %v; want ErrNoAsset", name, err)
		case known && ctx.Response.StatusCode() != 200 && ctx.Response.StatusCode() != 304:
			t.Fatalf("%q: status %d", name, ctx.Response.StatusCode())
		}
	})
}
