package main

import (
	"io"

	"github.com/spf13/pflag"
)

const webHelp = `Serves kerascope's web app: open a .keras or .h5 file in the browser and
see its summary (both styles, byte for byte the summary command's), its
layer graph (click a layer for its config, shapes, weights and the
arithmetic of its parameter count), its unit diagram, the check report,
and predictions. The page runs kerascope itself, compiled to WebAssembly,
in a Web Worker: the file is read by the browser and never uploaded, and
the page fetches nothing from anywhere else. The article's four models are
built in as examples.

The server listens on 127.0.0.1 only unless --addr says otherwise, serves
the files embedded in this binary, and stops on Ctrl-C. The same files,
written by 'make web' into web/dist, work on any static host.

A binary built without 'make web' (go install, go build) has no page to
serve: it says so and exits 1; build it with 'make build'.`

type webOptions struct {
	addr string
}

func webFlags(out io.Writer) (*pflag.FlagSet, *webOptions) {
	o := &webOptions{}
	fs := newFlagSet("web", out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8765", "the `HOST:PORT` to listen on (port 0 picks a free one)")
	return fs, o
}
