package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestWebNotBuilt: a binary built without `make web` says in one line how
// to get the page, and exits 1.
func TestWebNotBuilt(t *testing.T) {
	saved := webSite
	defer func() { webSite = saved }()
	webSite = func() (fs.FS, bool) { return fstest.MapFS{}, false }
	var out, errb bytes.Buffer
	if code := run([]string{"web"}, &out, &errb); code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if lines := strings.Split(strings.TrimSpace(errb.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "make build") {
		t.Errorf("stderr %q: want one line naming 'make build'", errb.String())
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out.String())
	}
	if code := run([]string{"web", "extra"}, &out, &errb); code != exitUsage {
		t.Errorf("web extra: exit %d, want %d", code, exitUsage)
	}
}

// TestWebServes serves a site on a loopback port, fetches its page, and
// stops when the context ends.
func TestWebServes(t *testing.T) {
	site := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>kerascope</title>")}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- serveWeb(ctx, ln, site, &out) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<title>kerascope</title>") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /: %s %q, CSP %q", resp.Status, body, resp.Header.Get("Content-Security-Policy"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serveWeb: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveWeb did not stop")
	}
	if want := "kerascope web: serving http://" + ln.Addr().String() + "/"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("stdout %q, want %q…", out.String(), want)
	}
}
