package keras

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// TestFusedMatchesUnfused runs every fixture with stored Keras outputs both
// as planned at load (fuse.go) and as decoded, and checks the two agree
// within the tolerance kerascope keeps against Keras (TestPredictFixtures
// checks the planned run against Keras itself). It also checks that each
// kind of fold happened on some fixture, so that the comparison compares
// something.
func TestFusedMatchesUnfused(t *testing.T) {
	all := predictFixtures(t)
	folded := make(map[string]int)
	for _, fx := range all {
		t.Run(fx.name, func(t *testing.T) {
			net, err := Load(fx.path)
			if err != nil {
				var nr *NotRunnableError
				if errors.As(err, &nr) {
					return // TestPredictFixtures holds such files to their refusals
				}
				t.Fatal(err)
			}
			n := 0
			for class, k := range net.plan.folded {
				folded[class] += k
				n += k
			}
			if n == 0 {
				return
			}
			var in []*Tensor
			for _, p := range fx.inputs {
				in = append(in, readNPYFile(t, p))
			}
			got, err := net.Predict(in...)
			if err != nil {
				t.Fatal(err)
			}
			planAtLoad = false
			plain, err := Load(fx.path)
			planAtLoad = true
			if err != nil {
				t.Fatal(err)
			}
			if plain.plan != nil {
				t.Fatal("planAtLoad = false still planned")
			}
			want, err := plain.Predict(in...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				abs, rel, bad := errorStats(got[i].Data, want[i].Data)
				if bad > 0 {
					t.Errorf("output %d: %d values differ from the unfused run beyond the tolerance (max abs %.3g, rel %.3g)", i, bad, abs, rel)
				}
			}
			if net.stateful != nil {
				return
			}
			// Packed products that only batches take: a Dense layer's
			// (a single sample's row multiplies the kernel as it is) and
			// a recurrent kernel's (packed per call for 12 rows or more
			// on each CPU's part of the batch). A batch of 32 takes them;
			// the unfused run multiplies through BLAS only.
			var batch []*Tensor
			for _, x := range in {
				batch = append(batch, tileBatch(x, 32))
			}
			got, err = net.Predict(batch...)
			if err != nil {
				t.Fatal(err)
			}
			packed := kernel.PackedProducts
			kernel.PackedProducts = false
			want, err = plain.Predict(batch...)
			kernel.PackedProducts = packed
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				abs, rel, bad := errorStats(got[i].Data, want[i].Data)
				if bad > 0 {
					t.Errorf("batch of 32, output %d: %d values differ from the unfused run beyond the tolerance (max abs %.3g, rel %.3g)", i, bad, abs, rel)
				}
			}
		})
	}
	t.Logf("calls folded over the fixtures: %v", folded)
	classes := []string{"BatchNormalization", "ReLU", "Activation", "ZeroPadding2D", "Activation after Add", "ReLU after Add"}
	if kernel.PackedProducts {
		classes = append(classes, "packed Conv2D", "packed SeparableConv2D", "packed Dense")
	}
	for _, class := range classes {
		if folded[class] == 0 {
			t.Errorf("no %s was folded in any fixture", class)
		}
	}
}

// A predictFixture is a fixture file with Keras's outputs and its inputs.
type predictFixture struct {
	path, name string
	inputs     []string
}

// predictFixtures lists the fixtures Keras 3 and tf-keras 2.21 wrote, and
// those of the tf.keras savers (testdata/tfk: MobileNetV2 is the one whose
// paddings fold), each with its inputs.
func predictFixtures(t *testing.T) []predictFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m predictManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var all []predictFixture
	for _, name := range sortedKeys(m.Models) {
		mod := m.Models[name]
		for _, file := range sortedKeys(mod.Files) {
			if len(mod.Files[file].Outputs) == 0 {
				continue
			}
			dir := filepath.Join(modelsDir, name)
			var in []string
			for _, p := range mod.Inputs {
				in = append(in, filepath.Join(dir, p))
			}
			all = append(all, predictFixture{filepath.Join(dir, file), name + "/" + file, in})
		}
	}
	tfk := readTFKManifests(t)
	for _, name := range sortedKeys(tfk) {
		var in []string
		for i := range tfk[name].Inputs {
			in = append(in, filepath.Join(tfkDir, filepath.Dir(name), "input"+itoa(i)+".npy"))
		}
		all = append(all, predictFixture{filepath.Join(tfkDir, name), "tfk/" + name, in})
	}
	return all
}

// TestExpandDepthwiseMatchesUnfused runs the fixtures whose expanding 1×1
// convolutions fold into their depthwise readers (MobileNetV2's, the
// inverted residual fixture's) with the fused loop, on inputs of any
// width, and without the fusion: the outputs must be the same bits, on
// one sample and on a batch.
func TestExpandDepthwiseMatchesUnfused(t *testing.T) {
	defer func(w int) { minExpandWidth = w }(minExpandWidth)
	minExpandWidth = 1
	testFoldBits(t, &fuseExpandAtLoad, func(net *Net) int { return net.plan.folded["Conv2D into DepthwiseConv2D"] })
}

// TestResidualMatchesUnfused runs the fixtures whose residual Adds fold
// into one of their convolutions (MobileNetV2's, the residual block's,
// the inverted residual fixture's) with the fused product and without:
// the outputs must be the same bits, on one sample and on a batch.
func TestResidualMatchesUnfused(t *testing.T) {
	testFoldBits(t, &fuseResidualAtLoad, func(net *Net) int {
		n := 0
		for class, k := range net.plan.folded {
			if strings.HasSuffix(class, " into Add") {
				n += k
			}
		}
		return n
	})
}

// testFoldBits runs every fixture on which folds counts a fusion with it
// and, loaded again with *enabled false, without it, at a batch of one
// and of eight, and requires the same bits; and that some fixture has
// the fusion.
func testFoldBits(t *testing.T, enabled *bool, folds func(*Net) int) {
	fused := 0
	for _, fx := range predictFixtures(t) {
		net, err := Load(fx.path)
		if err != nil {
			var nr *NotRunnableError
			if errors.As(err, &nr) {
				continue
			}
			t.Fatal(err)
		}
		if net.plan == nil || folds(net) == 0 {
			continue
		}
		fused++
		t.Run(fx.name, func(t *testing.T) {
			*enabled = false
			plain, err := Load(fx.path)
			*enabled = true
			if err != nil {
				t.Fatal(err)
			}
			if folds(plain) != 0 {
				t.Fatal("the fusion turned off still fused")
			}
			var in []*Tensor
			for _, p := range fx.inputs {
				in = append(in, readNPYFile(t, p))
			}
			for _, n := range []int{1, 8} {
				var batch []*Tensor
				for _, x := range in {
					batch = append(batch, tileBatch(x, n))
				}
				got, err := net.Predict(batch...)
				if err != nil {
					t.Fatal(err)
				}
				want, err := plain.Predict(batch...)
				if err != nil {
					t.Fatal(err)
				}
				for i := range want {
					for j, v := range got[i].Data {
						if math.Float32bits(v) != math.Float32bits(want[i].Data[j]) {
							t.Fatalf("batch of %d, output %d, value %d: %v fused, %v not", n, i, j, v, want[i].Data[j])
						}
					}
				}
			}
		})
	}
	if fused == 0 {
		t.Error("no fixture has the fusion")
	}
}
