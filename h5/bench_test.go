//go:build libhdf5

package h5

// Reading a model's config and every weight, through this package and
// through libhdf5 (the oracle backend), side by side:
//
//	go test -tags libhdf5 -run '^$' -bench ReadModel ./h5

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/h5/internal/libh5"
)

var benchModels = []string{
	"../testdata/models/bench_lstm/k3.keras",
	"../testdata/models/big_1000/k3.keras",
	"../testdata/models/big_1000/tfk.h5",
	"../testdata/models/bench_mlp/k3.keras",
}

type closer interface {
	reader
	Close() error
}

// readModel reads the model config (legacy .h5) and every dataset.
func readModel(b *testing.B, r reader) int {
	if ok, _ := r.HasAttr("/", "model_config"); ok {
		if _, err := r.StringAttr("/", "model_config"); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	var walk func(p string)
	walk = func(p string) {
		groups, datasets, err := r.Children(p)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range datasets {
			v, err := r.ReadFloat32(joinPath(p, d), nil)
			if err == nil {
				n += len(v)
			}
		}
		for _, g := range groups {
			walk(joinPath(p, g))
		}
	}
	walk("/")
	return n
}

func BenchmarkReadModel(b *testing.B) {
	for _, path := range benchModels {
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		// The .keras member is read in place by this package (as keras.Open
		// does) and from an extracted copy by libhdf5, extracted once,
		// outside the timing.
		h5path := path
		var member []byte
		if strings.HasSuffix(path, ".keras") {
			member = kerasMember2(b, path)
			h5path = filepath.Join(b.TempDir(), "model.weights.h5")
			if err := os.WriteFile(h5path, member, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		open := map[string]func() (closer, error){
			"purego": func() (closer, error) {
				if member != nil {
					return NewFile(bytes.NewReader(member), int64(len(member)))
				}
				return Open(path)
			},
			// What kerascope does on every open since Verify: the
			// whole-file walk first, then the reads.
			"purego+verify": func() (closer, error) {
				var f *File
				var err error
				if member != nil {
					f, err = NewFile(bytes.NewReader(member), int64(len(member)))
				} else {
					f, err = Open(path)
				}
				if err != nil {
					return nil, err
				}
				if err := f.Verify(); err != nil {
					f.Close()
					return nil, err
				}
				return f, nil
			},
			"libhdf5": func() (closer, error) { return libh5.Open(h5path) },
		}
		for _, backend := range []string{"purego", "purego+verify", "libhdf5"} {
			b.Run(name+"/"+backend, func(b *testing.B) {
				values := 0
				for b.Loop() {
					f, err := open[backend]()
					if err != nil {
						b.Fatal(err)
					}
					values = readModel(b, f)
					f.Close()
				}
				b.ReportMetric(float64(values), "values")
			})
		}
	}
}

func kerasMember2(b *testing.B, path string) []byte {
	m := weightsMember(b, path)
	if m == nil {
		b.Fatalf("%s: no model.weights.h5", path)
	}
	return m
}
