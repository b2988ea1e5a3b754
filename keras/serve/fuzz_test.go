package serve

import (
	"path/filepath"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

// FuzzParsePredict feeds request bodies from untrusted clients to the
// reader: it must never panic, and what it accepts must be tensors whose
// data fits their shape, within the limit.
func FuzzParsePredict(f *testing.F) {
	// Seeds: each compatibility model's fixture inputs in every request
	// form, and the malformed bodies of the error tests.
	for _, m := range compatModels {
		in, _ := fixtureIO(f, m.dir, m.file)
		for _, form := range requestForms {
			if body := form.body(m, in); body != nil {
				f.Add(mustJSON(f, body))
			}
		}
	}
	for _, s := range []string{"", "instances = [1, 2]", `{"instances": [[1, 2`, `{ "instances": ["x", "y"] }`,
		`{"inputs": {"b64": "aGVsbG8="}}`, `{"instances": [[NaN, -Infinity, 1e39, 16777217]]}`,
		`{"instances": [{"input_a": [1], "input_a": [2]}]}`, `{"inputs": [[1, 2, 3], [1]]}`, `{"instances": [[[1]], [[1, 2]]]}`,
		`{"signature_name": "\u0073erving_default", "inputs": {"input_a": [[1]], "inp\u0075t_b": [[2]]}}`} {
		f.Add([]byte(s))
	}
	var ports [][]keras.Port
	for _, m := range compatModels {
		net, err := keras.Load(filepath.Join(modelsDir, m.dir, m.file))
		if err != nil {
			f.Fatal(err)
		}
		ports = append(ports, net.Inputs())
	}
	lim := readLimits{maxElements: 1 << 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range ports {
			tensors, _, err := parsePredict(b, p, lim)
			if err != nil {
				if tensors != nil {
					t.Fatal("tensors with an error")
				}
				continue
			}
			if len(tensors) != len(p) {
				t.Fatalf("%d tensors for %d inputs", len(tensors), len(p))
			}
			total := 0
			for _, x := range tensors {
				if product(x.Shape) != len(x.Data) {
					t.Fatalf("shape %v with %d values", x.Shape, len(x.Data))
				}
				total += len(x.Data)
			}
			if total > lim.maxElements {
				t.Fatalf("%d values past the limit", total)
			}
		}
	})
}
