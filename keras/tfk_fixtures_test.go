package keras

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/kerascope/kerascope/keras/tensor"
)

// tfkDir holds the fixtures tf.keras 2.13 and 2.15 and tf-keras 2.21
// wrote (testdata/gen/gen_tf2.py), one manifest per saver.
const tfkDir = "../testdata/tfk"

type tfkFile struct {
	Inputs         int   `json:"inputs"`
	Outputs        int   `json:"outputs"`
	WeightElements int64 `json:"weight_elements"`
}

func readTFKManifests(t *testing.T) map[string]tfkFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(tfkDir, "manifest.*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests under %s: %v", tfkDir, err)
	}
	all := map[string]tfkFile{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Files map[string]tfkFile `json:"files"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for k, v := range m.Files {
			all[k] = v
		}
	}
	return all
}

func readTFKNPY(t *testing.T, p string) *Tensor {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := tensor.ReadNPY(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return x
}

// runTFKFixture binds a file tf.keras wrote as its saver laid it out (no
// finding, every stored element counted) and predicts as that TensorFlow
// did, within 1e-5 + 1e-4*|want|. It returns the model on success.
// TestPredictFixtures runs every such file.
func runTFKFixture(t *testing.T, name string, e tfkFile) *Model {
	path := filepath.Join(tfkDir, name)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := f.Binding()
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range b.Findings {
		t.Errorf("finding: %v", fd)
	}
	if got := totalParams(f.Model); got != e.WeightElements {
		t.Errorf("total params %d, Keras stored %d", got, e.WeightElements)
	}
	net, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var in []*Tensor
	for i := range e.Inputs {
		in = append(in, readTFKNPY(t, filepath.Join(filepath.Dir(path), "input"+itoa(i)+".npy")))
	}
	out, err := net.Predict(in...)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != e.Outputs {
		t.Fatalf("%d outputs, Keras gave %d", len(out), e.Outputs)
	}
	for i, o := range out {
		want := readTFKNPY(t, path+".output"+itoa(i)+".npy")
		if !tfkEqualInts(o.Shape, want.Shape) {
			t.Errorf("output %d: shape %v, want %v", i, o.Shape, want.Shape)
			continue
		}
		for j, w := range want.Data {
			if d := math.Abs(float64(o.Data[j] - w)); !(d <= 1e-5+1e-4*math.Abs(float64(w))) {
				t.Errorf("output %d[%d] = %v, want %v", i, j, o.Data[j], w)
				break
			}
		}
	}
	return f.Model
}

// markClasses records the classes of a model's layers, nested ones too.
func markClasses(m *Model, covered map[string]bool) {
	for _, l := range m.Layers {
		covered[l.Class] = true
		if l.Model != nil {
			markClasses(l.Model, covered)
		}
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func tfkEqualInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
