package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestHandler serves a site and checks the headers the page relies on.
func TestHandler(t *testing.T) {
	site := fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html>")},
		Bundle:       {Data: []byte{0x1f, 0x8b}},
	}
	srv := httptest.NewServer(Handler(site))
	defer srv.Close()
	for path, ctype := range map[string]string{"/": "text/html; charset=utf-8", "/" + Bundle: "application/gzip"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s", path, resp.Status)
		}
		if got := resp.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q", path, got, ctype)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s: Content-Security-Policy %q", path, got)
		}
		if resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: Content-Encoding %q: the worker inflates the bundle itself", path, resp.Header.Get("Content-Encoding"))
		}
	}
}

// TestStaticSelfContained checks that the page carries the server's
// policy for static hosts, and that no script or page names another
// origin: nothing is fetched from a CDN or anywhere else.
func TestStaticSelfContained(t *testing.T) {
	html, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `content="`+CSP+`"`) {
		t.Errorf("static/index.html's Content-Security-Policy meta tag is not web.CSP (%s)", CSP)
	}
	files, _ := filepath.Glob("static/*")
	if len(files) < 4 {
		t.Fatalf("static holds %v", files)
	}
	url := regexp.MustCompile(`(?i)\b(https?:|wss?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := url.Find(data); m != nil {
			t.Errorf("%s names another origin: %s", f, m)
		}
	}
}

// TestSite checks that the embedded site says whether it holds the
// bundle, as the web command reports it.
func TestSite(t *testing.T) {
	site, built := Site()
	if site == nil {
		t.Fatal("no site")
	}
	_, err := os.Stat(filepath.Join("dist", Bundle))
	if built != (err == nil) {
		t.Errorf("Site says built %v; dist/%s: %v", built, Bundle, err)
	}
}
