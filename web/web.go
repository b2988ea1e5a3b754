// Package web is kerascope's web app: the site `make web` builds into
// dist (the page, its scripts, Go's wasm_exec.js, the kerascope command
// compiled to WebAssembly and the article's example models) embedded, and
// the http.Handler that serves it.
//
// The page runs kerascope itself, compiled with GOOS=js (cmd/kerascope's
// main_js.go), in a Web Worker: the model file is read by the browser and
// never leaves it, and every view is the output of a kerascope command, so
// its text and its error messages are the command line's.
//
// It must not import the module's other packages: it serves bytes.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed dist
var dist embed.FS

// Bundle is the name of the gzipped WebAssembly module in the site.
const Bundle = "kerascope.wasm.gz"

// Site returns the embedded site; built is false when the binary was
// compiled without `make web` first, so that the site holds no bundle.
func Site() (site fs.FS, built bool) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, false
	}
	_, err = fs.Stat(sub, Bundle)
	return sub, err == nil
}

// CSP is the page's Content-Security-Policy: everything from the page's
// own origin and nothing else (no CDN, no network fetches), WebAssembly
// compilation allowed. index.html carries the same policy in a meta tag
// for static hosts.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'"

// Handler serves site with the security headers the page expects.
func Handler(site fs.FS) http.Handler {
	files := http.FileServer(http.FS(site))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasSuffix(r.URL.Path, ".gz") {
			// The worker inflates the bundle itself (DecompressionStream),
			// as it must on a static host that serves .gz as is.
			h.Set("Content-Type", "application/gzip")
		}
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
