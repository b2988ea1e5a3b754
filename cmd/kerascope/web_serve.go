//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os/signal"
	"time"

	"github.com/kerascope/kerascope/web"
)

// webSite is the site the web command serves; tests replace it.
var webSite = web.Site

func runWeb(args []string, stdout, stderr io.Writer) error {
	flags, o := webFlags(stderr)
	if err := flags.Parse(args); err != nil {
		return flagError(flags, err)
	}
	if flags.NArg() > 0 {
		return usagef("web: unexpected argument %q", flags.Arg(0))
	}
	site, built := webSite()
	if !built {
		return errors.New("web: this kerascope was built without its web app; build it with 'make build' (or 'make web' for the static files) in a checkout")
	}
	ctx, stop := signal.NotifyContext(context.Background(), serveSignals...)
	defer stop()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	return serveWeb(ctx, ln, site, stdout)
}

// serveWeb serves site on ln until ctx ends, then lets requests finish.
func serveWeb(ctx context.Context, ln net.Listener, site fs.FS, stdout io.Writer) error {
	srv := &http.Server{
		Handler:           web.Handler(site),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "kerascope web: serving http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
