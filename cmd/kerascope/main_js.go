//go:build js

package main

import (
	"bytes"
	"syscall/js"
)

// In the browser (package web), kerascope is this program compiled with
// GOOS=js and run by the page's Web Worker. Instead of reading os.Args
// once, it offers the worker two functions and stays alive:
//
//	kerascope(args)  the command line, as run: a Promise of {code, stdout, stderr}
//	modelConfig(path) the model's config JSON, for the layer details panel
//
// The worker gives files to the program through wasm_exec.js's fs hook, an
// in-memory file system of the files the user dropped, so every command
// reads them by path exactly as the command line does, and every message
// is the command line's.
func main() {
	js.Global().Set("kerascope", js.FuncOf(func(_ js.Value, a []js.Value) any {
		args := make([]string, 0)
		if len(a) > 0 {
			for i := range a[0].Length() {
				args = append(args, a[0].Index(i).String())
			}
		}
		return promise(func() any {
			var out, errb bytes.Buffer
			code := run(args, &out, &errb)
			stdout := js.Global().Get("Uint8Array").New(out.Len())
			js.CopyBytesToJS(stdout, out.Bytes())
			return map[string]any{"code": code, "stdout": stdout, "stderr": errb.String()}
		})
	}))
	js.Global().Set("modelConfig", js.FuncOf(func(_ js.Value, a []js.Value) any {
		path := a[0].String()
		return promise(func() any {
			f, err := openModel(path)
			if err != nil {
				var errb bytes.Buffer
				code := report(err, &errb, &errb)
				return map[string]any{"code": code, "stderr": errb.String()}
			}
			defer f.Close()
			return map[string]any{"code": 0, "config": string(f.Config)}
		})
	}))
	select {}
}

// promise runs f on its own goroutine, since reading a file waits for the
// worker's fs callbacks, which a js.FuncOf callback must not block on.
func promise(f func() any) js.Value {
	return js.Global().Get("Promise").New(js.FuncOf(func(_ js.Value, a []js.Value) any {
		resolve := a[0]
		go func() { resolve.Invoke(f()) }()
		return nil
	}))
}
