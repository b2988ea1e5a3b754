package h5

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHostileFiles reads every file of ../shared/hostile (mutated files
// that crashed, hung or exhausted libhdf5) and the malformed fixtures of
// testdata/bad with the default limits, visiting everything: each must end
// in errors or values, never a panic (recovered as "internal error"), a
// hang, or more than 200 MB allocated.
func TestHostileFiles(t *testing.T) {
	var files []string
	for _, pat := range []string{hostileDir + "/*", "../testdata/bad/*"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if m, _ := filepath.Glob(hostileDir + "/*"); len(m) == 0 {
		t.Logf("%s absent: only testdata/bad is read", hostileDir)
	}
	n := 0
	for _, p := range files {
		var b []byte
		switch {
		case strings.HasSuffix(p, ".h5"):
			b, _ = os.ReadFile(p)
		case strings.HasSuffix(p, ".keras"):
			b = kerasMember(p)
		}
		if b == nil {
			continue
		}
		n++
		t.Run(filepath.Base(p), func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			done := make(chan []string, 1)
			go func() { done <- readEverything(b) }()
			select {
			case errs := <-done:
				for _, e := range errs {
					if strings.Contains(e, "internal error") {
						t.Errorf("panic: %s", e)
					}
				}
				t.Logf("%v, %d errors, first: %.200s", time.Since(start).Round(time.Millisecond), len(errs), first(errs))
			case <-time.After(20 * time.Second): // a hang, not a slow machine
				t.Fatalf("still reading after 20 s")
			}
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
				t.Errorf("allocated %d MB", alloc>>20)
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d files read", n)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// readEverything opens b and calls every method on every object, and
// returns the errors.
func readEverything(b []byte) []string {
	h, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return []string{err.Error()}
	}
	defer h.Close()
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	var walk func(p string, depth int)
	walk = func(p string, depth int) {
		names, err := h.attrNames(p)
		note(err)
		for _, n := range names {
			_, err := h.StringsAttr(p, n)
			note(err)
		}
		groups, datasets, err := h.Children(p)
		note(err)
		for _, d := range datasets {
			dp := joinPath(p, d)
			_, _, err := h.DatasetShape(dp)
			note(err)
			_, err = h.ReadFloat32(dp, nil)
			note(err)
		}
		if depth < 32 {
			for _, g := range groups {
				walk(joinPath(p, g), depth+1)
			}
		}
	}
	walk("/", 0)
	return errs
}
