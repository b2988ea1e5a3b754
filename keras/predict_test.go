package keras

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/kerascope/kerascope/keras/tensor"
)

// predictManifest is the part of the manifest the prediction test reads:
// each model's inputs and, per file, Keras's model.predict outputs.
type predictManifest struct {
	Models map[string]struct {
		Inputs []string `json:"inputs"`
		Files  map[string]struct {
			Outputs        []string `json:"outputs"`
			OutputsMissing any      `json:"outputs_missing"`
			Covers         []string `json:"covers"`
		} `json:"files"`
	} `json:"models"`
}

// tolerance is the bound: |got - want| <= 1e-5 + 1e-4·|want|,
// NaN equal to NaN.
func withinTolerance(got, want float32) bool {
	g, w := float64(got), float64(want)
	if math.IsNaN(w) || math.IsNaN(g) {
		return math.IsNaN(w) && math.IsNaN(g)
	}
	if math.IsInf(w, 0) {
		return g == w
	}
	return math.Abs(g-w) <= 1e-5+1e-4*math.Abs(w)
}

// errorStats compares got with want elementwise and returns the largest
// absolute and relative errors and the number of elements out of
// tolerance.
func errorStats(got, want []float32) (maxAbs, maxRel float64, bad int) {
	for i := range want {
		if !withinTolerance(got[i], want[i]) {
			bad++
		}
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			continue
		}
		maxAbs = math.Max(maxAbs, d)
		if w := math.Abs(float64(want[i])); w > 0 {
			maxRel = math.Max(maxRel, d/w)
		}
	}
	return
}

func readNPYFile(t testing.TB, path string) *Tensor {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := tensor.ReadNPY(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return x
}

// TestPredictFixtures runs every fixture file with stored Keras outputs and
// compares kerascope's prediction with Keras's model.predict.
func TestPredictFixtures(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m predictManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var worstAbs, worstRel float64
	var worstAt string
	compared := 0
	covered := make(map[string]bool) // classes of files that matched Keras
	for _, name := range sortedKeys(m.Models) {
		mod := m.Models[name]
		for _, file := range sortedKeys(mod.Files) {
			fe := mod.Files[file]
			if len(fe.Outputs) == 0 {
				continue
			}
			t.Run(name+"/"+file, func(t *testing.T) {
				dir := filepath.Join(modelsDir, name)
				net, err := Load(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				var in []*Tensor
				for _, p := range mod.Inputs {
					in = append(in, readNPYFile(t, filepath.Join(dir, p)))
				}
				out, err := net.Predict(in...)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != len(fe.Outputs) {
					t.Fatalf("%d outputs, Keras gave %d", len(out), len(fe.Outputs))
				}
				var msgs []string
				for i, o := range fe.Outputs {
					want := readNPYFile(t, filepath.Join(dir, o))
					if !fits(out[i].Shape, Shape(want.Shape)) {
						t.Fatalf("output %d: shape %v, Keras gave %v", i, out[i].Shape, want.Shape)
					}
					abs, rel, bad := errorStats(out[i].Data, want.Data)
					msgs = append(msgs, fmt.Sprintf("output %d: max abs error %.3g, max rel error %.3g", i, abs, rel))
					if bad > 0 {
						t.Errorf("output %d: %d of %d values out of tolerance (max abs error %.3g, max rel %.3g)", i, bad, len(want.Data), abs, rel)
					}
					if abs > worstAbs {
						worstAbs, worstAt = abs, name+"/"+file
					}
					worstRel = math.Max(worstRel, rel)
				}
				compared++
				t.Log(msgs)
				if !t.Failed() {
					for _, c := range fe.Covers {
						covered[c] = true
					}
				}
			})
		}
	}
	// The files tf.keras 2.13, 2.15 and tf-keras 2.21 wrote (gen_tf2.py).
	tfk := readTFKManifests(t)
	for _, name := range sortedKeys(tfk) {
		t.Run("tfk/"+name, func(t *testing.T) {
			if m := runTFKFixture(t, name, tfk[name]); m != nil && !t.Failed() {
				markClasses(m, covered)
				compared++
			}
		})
	}
	t.Logf("%d fixture files predicted; worst absolute error %.3g (%s), worst relative error %.3g", compared, worstAbs, worstAt, worstRel)
	if compared == 0 {
		t.Fatal("no fixture has outputs to compare")
	}
	if t.Failed() {
		return
	}
	// Every class kerascope knows runs in some fixture that matched Keras,
	// except the spellings no file of the pinned Keras versions carries.
	for _, c := range Classes() {
		_, other := otherSpelling[c]
		if !covered[c] && !other {
			t.Errorf("class %s: no fixture with Keras outputs runs it", c)
		}
		if covered[c] && other {
			t.Errorf("class %s: listed in otherSpelling but a fixture covers it", c)
		}
	}
	for c, same := range otherSpelling {
		if !covered[same] && same != "" {
			t.Errorf("class %s runs as %s, which no fixture covers", c, same)
		}
	}
}

// otherSpelling maps the class names no fixture file can carry to the
// class whose forward pass they share, which fixtures cover. Keras 1 and
// 2.0-2.2 wrote the legacy names, and the pinned Keras versions cannot save
// them (the corpus has real files using them); Keras 3 saves its aliases
// (MaxPool2D, ...) under the canonical names. Merge (Keras 1) runs as the
// merge layers its modes name; "" stands for them.
var otherSpelling = map[string]string{
	"AtrousConv1D":           "Conv1D",
	"AtrousConv2D":           "Conv2D",
	"AtrousConvolution1D":    "Conv1D",
	"AtrousConvolution2D":    "Conv2D",
	"AvgPool1D":              "AveragePooling1D",
	"AvgPool2D":              "AveragePooling2D",
	"AvgPool3D":              "AveragePooling3D",
	"Convolution1D":          "Conv1D",
	"Convolution1DTranspose": "Conv1DTranspose",
	"Convolution2D":          "Conv2D",
	"Convolution2DTranspose": "Conv2DTranspose",
	"Convolution3D":          "Conv3D",
	"Convolution3DTranspose": "Conv3DTranspose",
	"CuDNNGRU":               "GRU",
	"CuDNNLSTM":              "LSTM",
	"Deconv2D":               "Conv2DTranspose",
	"Deconv3D":               "Conv3DTranspose",
	"Deconvolution2D":        "Conv2DTranspose",
	"Deconvolution3D":        "Conv3DTranspose",
	"GlobalAvgPool1D":        "GlobalAveragePooling1D",
	"GlobalAvgPool2D":        "GlobalAveragePooling2D",
	"GlobalAvgPool3D":        "GlobalAveragePooling3D",
	"GlobalMaxPool1D":        "GlobalMaxPooling1D",
	"GlobalMaxPool2D":        "GlobalMaxPooling2D",
	"GlobalMaxPool3D":        "GlobalMaxPooling3D",
	"MaxPool1D":              "MaxPooling1D",
	"MaxPool2D":              "MaxPooling2D",
	"MaxPool3D":              "MaxPooling3D",
	"Merge":                  "",
	"SeparableConvolution1D": "SeparableConv1D",
	"SeparableConvolution2D": "SeparableConv2D",
}
