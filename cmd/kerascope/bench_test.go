package main

import (
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkSummary times `kerascope summary` end to end (open, decode,
// render) on fixture files, including the generator's 1,000-layer model (big_1000).
func BenchmarkSummary(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(modelsDir, "*", "k3.keras"))
	h5, _ := filepath.Glob(filepath.Join(modelsDir, "*", "tfk.h5"))
	for _, f := range append(files, h5...) {
		model := filepath.Base(filepath.Dir(f))
		if model != "rnn_1unit" && model != "big_1000" && model != "nested_fn" {
			continue
		}
		b.Run(model+"/"+filepath.Base(f), func(b *testing.B) {
			for b.Loop() {
				if code := run([]string{"summary", "--line-length", "88", f}, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
