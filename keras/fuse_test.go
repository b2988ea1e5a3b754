package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestFusedMatchesUnfused runs every fixture with stored Keras outputs both
// as planned at load (fuse.go) and as decoded, and checks the two agree
// within the tolerance kerascope keeps against Keras (TestPredictFixtures
// checks the planned run against Keras itself). It also checks that each
// kind of fold happened on some fixture, so that the comparison compares
// something.
func TestFusedMatchesUnfused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m predictManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	folded := make(map[string]int)
	for _, name := range sortedKeys(m.Models) {
		mod := m.Models[name]
		for _, file := range sortedKeys(mod.Files) {
			if len(mod.Files[file].Outputs) == 0 {
				continue
			}
			t.Run(name+"/"+file, func(t *testing.T) {
				dir := filepath.Join(modelsDir, name)
				net, err := Load(filepath.Join(dir, file))
				if err != nil {
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
				for _, p := range mod.Inputs {
					in = append(in, readNPYFile(t, filepath.Join(dir, p)))
				}
				got, err := net.Predict(in...)
				if err != nil {
					t.Fatal(err)
				}
				planAtLoad = false
				plain, err := Load(filepath.Join(dir, file))
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
			})
		}
	}
	t.Logf("calls folded over the fixtures: %v", folded)
	for _, class := range []string{"BatchNormalization", "ReLU", "Activation"} {
		if folded[class] == 0 {
			t.Errorf("no %s was folded in any fixture", class)
		}
	}
}
