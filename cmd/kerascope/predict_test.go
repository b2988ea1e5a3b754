package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
	"github.com/kerascope/kerascope/keras/tensor"
)

// predictFixtures is the part of the manifest the predict tests read.
type predictFixtures struct {
	Models map[string]struct {
		Inputs []string `json:"inputs"`
		Files  map[string]struct {
			Outputs []string `json:"outputs"`
		} `json:"files"`
	} `json:"models"`
}

func readNPYPath(t *testing.T, path string) *keras.Tensor {
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

// compareOutput checks got against Keras's output within the issue's
// tolerance, |got - want| <= 1e-5 + 1e-4·|want|, NaN equal to NaN. CSV
// output is flattened per sample, so only the element count and the
// batch are compared as shape when flat is set.
func compareOutput(t *testing.T, what string, got, want *keras.Tensor, flat bool) {
	t.Helper()
	if flat {
		if len(got.Data) != len(want.Data) || (len(want.Shape) > 0 && got.Shape[0] != want.Shape[0]) {
			t.Fatalf("%s: shape %v, Keras gave %v", what, got.Shape, want.Shape)
		}
	} else if !keras.Shape(got.Shape).Equal(want.Shape) {
		t.Fatalf("%s: shape %v, Keras gave %v", what, got.Shape, want.Shape)
	}
	for i, w := range want.Data {
		g := got.Data[i]
		gn, wn := math.IsNaN(float64(g)), math.IsNaN(float64(w))
		if gn != wn || (!wn && math.Abs(float64(g)-float64(w)) > 1e-5+1e-4*math.Abs(float64(w))) {
			t.Fatalf("%s: element %d is %v, Keras gave %v", what, i, g, w)
		}
	}
}

func runCLI(t *testing.T, in io.Reader, args ...string) (string, string, int) {
	t.Helper()
	if in != nil {
		old := stdin
		stdin = in
		defer func() { stdin = old }()
	}
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestPredictFixtures runs kerascope predict on every fixture whose model
// runs natively, in every output format, from .npy, JSON, CSV and stdin,
// whole and in batches, and compares with Keras's stored outputs.
func TestPredictFixtures(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m predictFixtures
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for name, mod := range m.Models {
		for file, fe := range mod.Files {
			if len(fe.Outputs) == 0 || strings.HasPrefix(name, "big_") {
				continue
			}
			dir := filepath.Join(modelsDir, name)
			model := filepath.Join(dir, file)
			t.Run(name+"/"+file, func(t *testing.T) {
				net, err := keras.Load(model)
				if err != nil {
					t.Fatal(err)
				}
				ran++
				want := make([]*keras.Tensor, len(fe.Outputs))
				for i, o := range fe.Outputs {
					want[i] = readNPYPath(t, filepath.Join(dir, o))
				}
				names := uniqueNames(net.Outputs())
				var inputs []string
				var tensors []*keras.Tensor
				for _, in := range mod.Inputs {
					inputs = append(inputs, "--input", filepath.Join(dir, in))
					tensors = append(tensors, readNPYPath(t, filepath.Join(dir, in)))
				}
				tmp := t.TempDir()

				// JSON on stdout, the default.
				out, errs, code := runCLI(t, nil, append([]string{"predict", model}, inputs...)...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errs)
				}
				var doc map[string]json.RawMessage
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("output is not JSON: %v\n%s", err, out)
				}
				for i, n := range names {
					got, err := tensor.ReadJSON(bytes.NewReader(doc[n]))
					if err != nil {
						t.Fatalf("output %q: %v", n, err)
					}
					compareOutput(t, "json "+n, got, want[i], false)
				}

				// npy and CSV files, one per output, in batches of 1 too,
				// unless the model is stateful (its input keeps a fixed
				// batch size): Keras runs it only on that batch size.
				variants := []struct {
					format string
					extra  []string
				}{{"npy", nil}, {"csv", nil}, {"npy", []string{"--batch-size", "1"}}, {"csv", []string{"--batch-size", "3"}}}
				if b := net.Inputs()[0].Shape[0]; b >= 0 {
					variants = variants[:2]
					// Batches of another size are refused, with the
					// reason.
					args := append([]string{"predict", model, "--batch-size", strconv.Itoa(max(1, b-1))}, inputs...)
					_, errs, code := runCLI(t, nil, args...)
					if code != exitError || !strings.Contains(errs, "is stateful") || strings.Count(errs, "\n") != 1 {
						t.Errorf("a stateful model on batches of %d: exit %d, %q; want exit %d and one line giving the stateful reason", max(1, b-1), code, errs, exitError)
					}
				}
				for _, c := range variants {
					pattern := filepath.Join(tmp, "out_{name}."+c.format)
					args := append(append([]string{"predict", model, "--output", pattern}, c.extra...), inputs...)
					if _, errs, code := runCLI(t, nil, args...); code != 0 {
						t.Fatalf("%v: exit %d: %s", args, code, errs)
					}
					for i, n := range names {
						path := strings.ReplaceAll(pattern, "{name}", fileSafe(n))
						var got *keras.Tensor
						if c.format == "npy" {
							got = readNPYPath(t, path)
						} else {
							f, _ := os.Open(path)
							got, err = tensor.ReadCSV(f)
							f.Close()
							if err != nil {
								t.Fatal(err)
							}
						}
						compareOutput(t, c.format+" "+n, got, want[i], c.format == "csv")
					}
				}

				// The same inputs as JSON and, where a row can hold a
				// sample, CSV, by name; the first one from stdin.
				for _, format := range []string{"json", "csv"} {
					args := []string{"predict", model, "--format", "npy", "--output", filepath.Join(tmp, "via_"+format+"_{name}.npy")}
					var stdinData []byte
					ok := true
					for i, p := range net.Inputs() {
						var buf bytes.Buffer
						if format == "json" {
							err = tensor.WriteJSON(&buf, tensors[i])
						} else {
							if _, known := p.Shape[1:].Size(); !known || len(p.Shape) < 2 {
								ok = false
								break
							}
							err = tensor.WriteCSV(&buf, tensors[i])
						}
						if err != nil {
							t.Fatal(err)
						}
						if i == 0 {
							stdinData = buf.Bytes()
							args = append(args, "--input", p.Name+"=-")
							continue
						}
						path := filepath.Join(tmp, p.Name+"."+format)
						os.WriteFile(path, buf.Bytes(), 0o644)
						args = append(args, "--input", p.Name+"="+path)
					}
					if !ok {
						continue
					}
					if _, errs, code := runCLI(t, bytes.NewReader(stdinData), args...); code != 0 {
						t.Fatalf("%v: exit %d: %s", args, code, errs)
					}
					for i, n := range names {
						got := readNPYPath(t, filepath.Join(tmp, "via_"+format+"_"+fileSafe(n)+".npy"))
						compareOutput(t, "from "+format+" "+n, got, want[i], false)
					}
				}
			})
		}
	}
	t.Logf("%d fixture files predicted through the CLI", ran)
}

// testModel writes a variant of the compiled_fn fixture (Dense 8 relu,
// Dropout, Dense 1; input "input" (None, 4)) with its config edited, and
// returns its path. The weights are the fixture's own, so dense_out's
// values are Keras's.
func testModel(t *testing.T, edit func(cfg map[string]any)) string {
	t.Helper()
	src := filepath.Join(modelsDir, "compiled_fn", "k3.keras")
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "config.json" {
			var cfg map[string]any
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			edit(cfg["config"].(map[string]any))
			data, _ = json.Marshal(cfg)
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	zw.Close()
	path := filepath.Join(t.TempDir(), "model.keras")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// multiIOModel adds to compiled_fn a second input "b" (None, 3) feeding an
// Activation "act" (relu), and outputs [dense_out, act, dense].
func multiIOModel(t *testing.T) string {
	return testModel(t, func(c map[string]any) {
		tensor := func(layer string, n int) map[string]any {
			return map[string]any{"class_name": "__keras_tensor__", "config": map[string]any{
				"shape": []any{nil, n}, "dtype": "float32", "keras_history": []any{layer, 0, 0}}}
		}
		layers := c["layers"].([]any)
		layers = append(layers,
			map[string]any{"module": "keras.layers", "class_name": "InputLayer", "name": "b", "inbound_nodes": []any{},
				"config": map[string]any{"batch_shape": []any{nil, 3}, "dtype": "float32", "sparse": false, "name": "b"}},
			map[string]any{"module": "keras.layers", "class_name": "Activation", "name": "act",
				"config":        map[string]any{"name": "act", "trainable": true, "dtype": "float32", "activation": "relu"},
				"inbound_nodes": []any{map[string]any{"args": []any{tensor("b", 3)}, "kwargs": map[string]any{}}}})
		c["layers"] = layers
		c["input_layers"] = []any{[]any{"input", 0, 0}, []any{"b", 0, 0}}
		c["output_layers"] = []any{[]any{"dense_out", 0, 0}, []any{"act", 0, 0}, []any{"dense", 0, 0}}
	})
}

// customModel turns compiled_fn's Dropout into a custom class, which can
// never run natively.
func customModel(t *testing.T) string {
	return testModel(t, func(c map[string]any) {
		for _, l := range c["layers"].([]any) {
			l := l.(map[string]any)
			if l["name"] == "dropout" {
				l["class_name"], l["module"], l["registered_name"] = "MyNoise", "my_layers", "Custom>MyNoise"
			}
		}
	})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func npyBytes(t *testing.T, x *keras.Tensor) []byte {
	var b bytes.Buffer
	if err := tensor.WriteNPY(&b, x); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawNPY is a .npy file with any header, for dtypes WriteNPY never writes.
func rawNPY(descr, shape string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	h := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n"
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

// TestPredictMultiIO checks inputs by position and by name, and every
// output format, on a model with two inputs and three outputs.
func TestPredictMultiIO(t *testing.T) {
	model := multiIOModel(t)
	dir := t.TempDir()
	x := filepath.Join(modelsDir, "compiled_fn", "input.npy")
	xt := readNPYPath(t, x)
	want := readNPYPath(t, filepath.Join(modelsDir, "compiled_fn", "k3.keras.output.npy"))
	n := xt.Shape[0]
	bt := &keras.Tensor{Shape: []int{n, 3}, Data: make([]float32, 3*n)}
	for i := range bt.Data {
		bt.Data[i] = float32(i) - float32(len(bt.Data))/2
	}
	b := writeFile(t, dir, "b.npy", npyBytes(t, bt))
	relu := &keras.Tensor{Shape: bt.Shape, Data: make([]float32, len(bt.Data))}
	for i, v := range bt.Data {
		relu.Data[i] = max(v, 0)
	}

	for _, args := range [][]string{
		{"--input", x, "--input", b},
		{"--input", "b=" + b, "--input", "input=" + x},
		{"-i", x, "-i", b, "--batch-size", "1"},
	} {
		out, errs, code := runCLI(t, nil, append([]string{"predict", model}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		// The document lists the outputs in the model's order.
		if i, j, k := strings.Index(out, `"dense_out"`), strings.Index(out, `"act"`), strings.Index(out, `"dense"`); !(0 < i && i < j && j < k) {
			t.Errorf("outputs not in the model's order:\n%s", out)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		got, _ := tensor.ReadJSON(bytes.NewReader(doc["dense_out"]))
		compareOutput(t, "dense_out", got, want, false)
		got, _ = tensor.ReadJSON(bytes.NewReader(doc["act"]))
		compareOutput(t, "act", got, relu, false)
		if got, _ = tensor.ReadJSON(bytes.NewReader(doc["dense"])); got == nil || !keras.Shape(got.Shape).Equal(keras.Shape{n, 8}) {
			t.Errorf("dense: %v", got)
		}
	}

	// One npy per output through the {name} pattern.
	pattern := filepath.Join(dir, "pred-{name}.npy")
	if _, errs, code := runCLI(t, nil, "predict", model, "-i", x, "-i", b, "-o", pattern); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	compareOutput(t, "dense_out.npy", readNPYPath(t, filepath.Join(dir, "pred-dense_out.npy")), want, false)
	compareOutput(t, "act.npy", readNPYPath(t, filepath.Join(dir, "pred-act.npy")), relu, false)
	if got := readNPYPath(t, filepath.Join(dir, "pred-dense.npy")); !keras.Shape(got.Shape).Equal(keras.Shape{n, 8}) {
		t.Errorf("dense.npy shape %v", got.Shape)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".pred-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestPredictStdout checks the single-output formats on stdout: npy bytes
// and CSV lines.
func TestPredictStdout(t *testing.T) {
	model := filepath.Join(modelsDir, "compiled_fn", "k3.keras")
	x := filepath.Join(modelsDir, "compiled_fn", "input.npy")
	want := readNPYPath(t, filepath.Join(modelsDir, "compiled_fn", "k3.keras.output.npy"))
	out, errs, code := runCLI(t, nil, "predict", model, "-i", x, "--format", "npy")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	got, err := tensor.ReadNPY(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	compareOutput(t, "npy on stdout", got, want, false)
	out, _, _ = runCLI(t, nil, "predict", model, "-i", x, "--format", "csv")
	if got, err = tensor.ReadCSV(strings.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	compareOutput(t, "csv on stdout", got, want, false)
	// The format follows --output's extension.
	path := filepath.Join(t.TempDir(), "p.csv")
	runCLI(t, nil, "predict", model, "-i", x, "-o", path)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, []byte(out)) {
		t.Errorf("--output p.csv wrote %q, want CSV %q", b, out)
	}
}

// TestPredictErrors checks every way predict can fail: exit code, one
// line on stderr naming the file and the problem (golden files under
// testdata/golden/predict, go test -update rewrites them), nothing on
// stdout and no output file.
func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(modelsDir, "compiled_fn", "k3.keras")
	x := filepath.Join(modelsDir, "compiled_fn", "input.npy")
	multi := multiIOModel(t)
	custom := customModel(t)
	f := func(name, data string) string { return writeFile(t, dir, name, []byte(data)) }
	ff := func(v ...float32) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, v)
		return b.Bytes()
	}
	npyf := func(name string, x *keras.Tensor) string { return writeFile(t, dir, name, npyBytes(t, x)) }
	out := filepath.Join(dir, "out.json")

	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
	}{
		// Usage errors, found before the model is read.
		{"no file", []string{"predict", "-i", x}, "", exitUsage},
		{"bad format", []string{"predict", model, "-i", x, "--format", "xml"}, "", exitUsage},
		{"bad input format", []string{"predict", model, "-i", x, "--input-format", "parquet"}, "", exitUsage},
		{"negative batch size", []string{"predict", model, "-i", x, "--batch-size", "-1"}, "", exitUsage},
		{"two stdin", []string{"predict", multi, "-i", "input=-", "-i", "b=-"}, "", exitUsage},
		{"json pattern", []string{"predict", model, "-i", x, "-o", filepath.Join(dir, "o_{name}.json")}, "", exitUsage},
		// Usage errors that need the model.
		{"no input", []string{"predict", model}, "", exitUsage},
		{"several outputs no pattern", []string{"predict", multi, "-i", x, "-i", x, "--format", "npy", "-o", filepath.Join(dir, "o.npy")}, "", exitUsage},
		{"mixed named and positional", []string{"predict", multi, "-i", x, "-i", "b=" + x}, "", exitUsage},
		{"input twice", []string{"predict", multi, "-i", "b=" + x, "-i", "b=" + x}, "", exitUsage},
		// The model.
		{"model missing", []string{"predict", filepath.Join(dir, "missing.keras"), "-i", x}, "", exitError},
		{"not keras", []string{"predict", f("notes.h5", "just text\n"), "-i", x}, "", exitNotKeras},
		// Refused before reading inputs: the input does not even exist.
		{"not runnable", []string{"predict", custom, "-i", filepath.Join(dir, "never-read.npy")}, "", exitError},
		// Binding inputs.
		{"too many inputs", []string{"predict", model, "-i", x, "-i", x}, "", exitError},
		{"too few inputs", []string{"predict", multi, "-i", x}, "", exitError},
		{"unknown name", []string{"predict", model, "-i", "pixels=" + x}, "", exitError},
		{"missing named input", []string{"predict", multi, "-i", "input=" + x}, "", exitError},
		// Input files.
		{"input missing", []string{"predict", model, "-i", filepath.Join(dir, "nope.npy")}, "", exitError},
		{"input directory", []string{"predict", model, "-i", dir}, "", exitError},
		{"wrong size", []string{"predict", model, "-i", npyf("wide.npy", tensor.New(2, 5))}, "", exitError},
		{"wrong rank", []string{"predict", model, "-i", npyf("rank3.npy", tensor.New(2, 4, 1))}, "", exitError},
		{"scalar", []string{"predict", model, "-i", f("scalar.json", "3")}, "", exitError},
		{"empty batch npy", []string{"predict", model, "-i", npyf("empty.npy", tensor.New(0, 4))}, "", exitError},
		{"empty batch json", []string{"predict", model, "-i", f("empty.json", "[]")}, "", exitError},
		{"empty csv", []string{"predict", model, "-i", f("header.csv", "a,b,c,d\n")}, "", exitError},
		{"complex npy", []string{"predict", model, "-i", writeFile(t, dir, "c.npy", rawNPY("<c8", "(1, 4)", make([]byte, 32)))}, "", exitError},
		{"object npy", []string{"predict", model, "-i", writeFile(t, dir, "o.npy", rawNPY("|O", "(1, 4)", []byte("\x80\x02cos\nsystem\n")))}, "", exitError},
		{"string npy", []string{"predict", model, "-i", writeFile(t, dir, "s.npy", rawNPY("<U3", "(1, 4)", make([]byte, 48)))}, "", exitError},
		{"truncated npy", []string{"predict", model, "-i", writeFile(t, dir, "t.npy", rawNPY("<f4", "(2, 4)", ff(1, 2, 3)))}, "", exitError},
		{"huge npy header", []string{"predict", model, "-i", writeFile(t, dir, "h.npy", rawNPY("<f8", "(100000000, 4)", ff(1)))}, "", exitError},
		{"not npy", []string{"predict", model, "-i", f("fake.npy", "1,2,3,4\n")}, "", exitError},
		{"non-numeric csv", []string{"predict", model, "-i", f("bad.csv", "1,2,3,4\n5,6,seven,8\n")}, "", exitError},
		{"ragged csv", []string{"predict", model, "-i", f("ragged.csv", "1,2,3,4\n5,6,7\n")}, "", exitError},
		{"csv columns", []string{"predict", model, "-i", f("three.csv", "1,2,3\n")}, "", exitError},
		{"ragged json", []string{"predict", model, "-i", f("ragged.json", "[[1, 2, 3, 4], [5, 6, 7]]")}, "", exitError},
		{"json string", []string{"predict", model, "-i", f("str.json", `[[1, 2, "3", 4]]`)}, "", exitError},
		{"bad stdin", []string{"predict", model, "-i", "-"}, "[[1, 2, 3, 4]", exitError},
		{"stdin wrong format", []string{"predict", model, "-i", "-", "--input-format", "npy"}, "[[1, 2, 3, 4]]", exitError},
		{"batch mismatch", []string{"predict", multi, "-i", x, "-i", npyf("b1.npy", tensor.New(1, 3))}, "", exitError},
		// Outputs.
		{"nan in json", []string{"predict", model, "-i", f("nan.csv", "nan,1,2,3\n"), "-o", out}, "", exitError},
		{"output dir missing", []string{"predict", model, "-i", x, "-o", filepath.Join(dir, "no", "such", "dir", "p.json")}, "", exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in io.Reader
			if tt.stdin != "" {
				in = strings.NewReader(tt.stdin)
			}
			stdout, stderr, code := runCLI(t, in, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if tt.code == exitUsage {
				lines = lines[:1] // the second line is the usage hint
			}
			if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want 1: %q", len(lines), stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written despite the error", out)
				os.Remove(out)
			}
			// Temporary paths vary; models in testdata do not.
			got := strings.ReplaceAll(stderr, dir, "$TMP")
			got = strings.ReplaceAll(got, filepath.Dir(multi), "$MODEL")
			got = strings.ReplaceAll(got, filepath.Dir(custom), "$MODEL")
			golden := filepath.Join("testdata", "golden", "predict", strings.ReplaceAll(tt.name, " ", "_")+".txt")
			if msg := checkGolden(t, golden, got); msg != "" {
				t.Error(msg)
			}
		})
	}
}
