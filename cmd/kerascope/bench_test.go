package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/h5"
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

// BenchmarkVerify measures the cost of the whole-file structural check
// (h5.File.Verify) that opening a model now does, side by side with the
// whole `kerascope summary` run that includes it, on the largest fixtures
// and corpus files:
//
//	go test -run '^$' -bench Verify ./cmd/kerascope
//
// verify opens the HDF5 (a .keras archive's member in place) and verifies
// it; summary is the command end to end. verify/summary is the share of a
// summary that the check costs.
func BenchmarkVerify(b *testing.B) {
	files := []string{
		filepath.Join(modelsDir, "big_1000", "k3.keras"),
		filepath.Join(modelsDir, "big_1000", "tfk.h5"),
		filepath.Join(modelsDir, "bench_lstm", "k3.keras"),
		filepath.Join(modelsDir, "bench_mlp", "k3.keras"),
		"../../../shared/corpus/files/kakazai98__ocr_app__ocr_model.h5",
		"../../../shared/corpus/files/kakazai98__ocr_app__ocr_model.keras",
		"../../../shared/corpus/incoming/files/tmakian99__GeoLife-Trajectories__model_weights__transformer_model.h5",
	}
	for _, path := range files {
		if _, err := os.Stat(path); err != nil {
			continue // the corpus is absent on most machines
		}
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		if len(name) > 40 {
			name = name[len(name)-40:]
		}
		b.Run(name+"/summary", func(b *testing.B) {
			for b.Loop() {
				if code := run([]string{"summary", "--line-length", "88", path}, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
		b.Run(name+"/verify", func(b *testing.B) {
			for b.Loop() {
				f, closeAll := openHDF5(b, path)
				if err := f.Verify(); err != nil {
					b.Fatal(err)
				}
				closeAll()
			}
		})
	}
}

// openHDF5 opens the HDF5 of a model file as keras/store does: a .keras
// archive's stored model.weights.h5 in place.
func openHDF5(b *testing.B, path string) (*h5.File, func()) {
	if !strings.HasSuffix(path, ".keras") {
		f, err := h5.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return f, func() { f.Close() }
	}
	zf, err := zip.OpenReader(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range zf.File {
		if m.Name != "model.weights.h5" || m.Method != zip.Store {
			continue
		}
		off, err := m.DataOffset()
		if err != nil {
			b.Fatal(err)
		}
		raw, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f, err := h5.NewFile(io.NewSectionReader(raw, off, int64(m.UncompressedSize64)), int64(m.UncompressedSize64))
		if err != nil {
			b.Fatal(err)
		}
		return f, func() { f.Close(); raw.Close(); zf.Close() }
	}
	b.Fatalf("%s: no stored model.weights.h5", path)
	return nil, nil
}
