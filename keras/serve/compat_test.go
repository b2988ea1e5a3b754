package serve

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

// The compatibility tests send every request form of TF Serving's REST API
// documentation (tensorflow_serving/g3doc/api_rest.md) and of its handler
// tests (http_rest_api_handler_test.cc, json_tensor_test.cc) to fixture
// models with one and several inputs and outputs, and compare the answers'
// layout with what the documentation specifies and their values with the
// outputs Keras wrote for the fixtures.

// compatModel is a fixture served under a name. Input names are the
// models' Input layers' names, output names the output layers' names with
// tf-keras's suffixes for a layer giving several outputs, all as
// testdata/gen/gen_models.py defines the models.
type compatModel struct {
	name, dir, file string
	inputs, outputs []string
}

var compatModels = []compatModel{
	{"core", "core_fn", "k3.keras", []string{"input"}, []string{"concatenate"}},
	{"rnn", "rnn_1unit", "k3.keras", []string{"input_layer"}, []string{"dense"}},
	{"shared", "shared_fn", "k3.keras", []string{"input_a", "input_b", "input_seq"}, []string{"dense"}},
	{"merge", "merge_fn", "k3.keras", []string{"input_a", "input_b"}, []string{"out_1", "out_2"}},
	{"masked", "mask_embed_fn", "tfk.h5", []string{"tokens"}, []string{
		"lstm", "lstm_seq", "gru_seq_state", "gru_seq_state_1", "gru_v1_back", "simple_rnn_back_seq",
		"bi_lstm_seq", "bi_gru_state", "bi_gru_state_1", "bi_gru_state_2", "dense_seq"}},
}

func compatServer(t *testing.T, opts Options) string {
	var models []Model
	for _, m := range compatModels {
		models = append(models, Model{Name: m.name, Path: filepath.Join(modelsDir, m.dir, m.file)})
	}
	_, ts := newTestServer(t, models, opts)
	return ts.URL
}

// A requestForm builds a request body from a model's inputs; nil when the
// form does not apply to the model (a plain list needs a single input).
type requestForm struct {
	name   string
	format format
	body   func(m compatModel, in []*keras.Tensor) any
}

var requestForms = []requestForm{
	{"instances plain list", rowFormat, func(m compatModel, in []*keras.Tensor) any {
		if len(in) > 1 {
			return nil
		}
		return map[string]any{"instances": nested(in[0].Shape, in[0].Data)}
	}},
	{"instances list of objects", rowFormat, func(m compatModel, in []*keras.Tensor) any {
		rows := make([]any, in[0].Shape[0])
		for r := range rows {
			obj := map[string]any{}
			for k, t := range in {
				obj[m.inputs[k]] = row(t, r)
			}
			rows[r] = obj
		}
		return map[string]any{"instances": rows}
	}},
	{"instances with signature_name", rowFormat, func(m compatModel, in []*keras.Tensor) any {
		rows := make([]any, in[0].Shape[0])
		for r := range rows {
			obj := map[string]any{}
			for k, t := range in {
				obj[m.inputs[k]] = row(t, r)
			}
			rows[r] = obj
		}
		return map[string]any{"signature_name": "serving_default", "instances": rows}
	}},
	{"inputs plain value", columnarFormat, func(m compatModel, in []*keras.Tensor) any {
		if len(in) > 1 {
			return nil
		}
		return map[string]any{"inputs": nested(in[0].Shape, in[0].Data)}
	}},
	{"inputs object", columnarFormat, func(m compatModel, in []*keras.Tensor) any {
		obj := map[string]any{}
		for k, t := range in {
			obj[m.inputs[k]] = nested(t.Shape, t.Data)
		}
		return map[string]any{"inputs": obj}
	}},
}

func TestCompatPredict(t *testing.T) {
	url := compatServer(t, Options{})
	for _, m := range compatModels {
		in, want := fixtureIO(t, m.dir, m.file)
		for _, form := range requestForms {
			body := form.body(m, in)
			if body == nil {
				continue
			}
			for _, path := range []string{":predict", "/versions/1:predict"} {
				t.Run(fmt.Sprintf("%s/%s/%s", m.name, form.name, path), func(t *testing.T) {
					code, resp := call(t, "POST", url+"/v1/models/"+m.name+path, mustJSON(t, body))
					if code != 200 {
						t.Fatalf("status %d: %s", code, resp)
					}
					if err := checkPrediction(resp, form.format, m.outputs, want); err != nil {
						t.Fatalf("%v\n%.400s", err, resp)
					}
				})
			}
		}
	}
}

// checkPrediction checks a predict answer's layout against api_rest.md's
// "Response format" and its values against Keras's.
func checkPrediction(resp []byte, f format, names []string, want []*keras.Tensor) error {
	var doc map[string]any
	if err := json.Unmarshal(resp, &doc); err != nil {
		return err
	}
	if len(doc) != 1 {
		return fmt.Errorf("want one key, got %d", len(doc))
	}
	got := make([][]float64, len(want))
	if f == columnarFormat {
		v, ok := doc["outputs"]
		if !ok {
			return fmt.Errorf(`no "outputs" key`)
		}
		for k, w := range want {
			item := v
			if len(want) > 1 {
				obj, ok := v.(map[string]any)
				if !ok || len(obj) != len(want) {
					return fmt.Errorf("want an object of %d named outputs, got %s", len(want), short(v))
				}
				if item, ok = obj[names[k]]; !ok {
					return fmt.Errorf("no output %q", names[k])
				}
			}
			vals, err := flatten(item, w.Shape)
			if err != nil {
				return fmt.Errorf("output %q: %v", names[k], err)
			}
			got[k] = vals
		}
	} else {
		v, ok := doc["predictions"].([]any)
		if !ok || len(v) != want[0].Shape[0] {
			return fmt.Errorf(`want "predictions" with %d rows`, want[0].Shape[0])
		}
		for _, item := range v {
			for k, w := range want {
				x := item
				if len(want) > 1 {
					obj, ok := item.(map[string]any)
					if !ok || len(obj) != len(want) {
						return fmt.Errorf("want objects of %d named outputs, got %s", len(want), short(item))
					}
					if x, ok = obj[names[k]]; !ok {
						return fmt.Errorf("no output %q", names[k])
					}
				}
				vals, err := flatten(x, w.Shape[1:])
				if err != nil {
					return fmt.Errorf("output %q: %v", names[k], err)
				}
				got[k] = append(got[k], vals...)
			}
		}
	}
	for k, w := range want {
		if err := closeTo(got[k], w.Data); err != nil {
			return fmt.Errorf("output %q: %v", names[k], err)
		}
	}
	return nil
}

// TestCompatStatus compares the model status answer with the one
// api_rest.md and GetStatus in http_rest_api_handler_test.cc show.
func TestCompatStatus(t *testing.T) {
	url := compatServer(t, Options{})
	const want = `{"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}`
	for _, path := range []string{"/v1/models/merge", "/v1/models/merge/versions/1"} {
		code, body := call(t, "GET", url+path, nil)
		if code != 200 || !sameJSON(t, body, []byte(want)) {
			t.Errorf("GET %s: %d %s\nwant %s", path, code, body, want)
		}
	}
}

// TestCompatMetadata checks the signature against the one TF Serving's
// saved_model_half_plus_two_2_versions_metadata.json shows for a predict
// signature, with the inputs' shapes Keras reports (the manifest) and the
// outputs' shapes of Keras's predictions.
func TestCompatMetadata(t *testing.T) {
	url := compatServer(t, Options{})
	man := readManifestInputs(t)
	for _, m := range compatModels {
		code, body := call(t, "GET", url+"/v1/models/"+m.name+"/metadata", nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", m.name, code, body)
		}
		var doc struct {
			ModelSpec map[string]string `json:"model_spec"`
			Metadata  struct {
				SignatureDef struct {
					SignatureDef map[string]struct {
						Inputs     map[string]tensorInfo `json:"inputs"`
						Outputs    map[string]tensorInfo `json:"outputs"`
						MethodName string                `json:"method_name"`
						Defaults   map[string]any        `json:"defaults"`
					} `json:"signature_def"`
				} `json:"signature_def"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if spec := doc.ModelSpec; spec["name"] != m.name || spec["version"] != "1" || spec["signature_name"] != "" {
			t.Errorf("%s: model_spec %v", m.name, spec)
		}
		sig, ok := doc.Metadata.SignatureDef.SignatureDef["serving_default"]
		if !ok || sig.MethodName != "tensorflow/serving/predict" || sig.Defaults == nil {
			t.Fatalf("%s: no serving_default predict signature: %s", m.name, body)
		}
		ins, outs := fixtureIO(t, m.dir, m.file)
		for k, name := range m.inputs {
			want, ok := man[m.dir][m.file][name]
			if !ok { // a Sequential model lists no InputLayer: the input Keras predicted on
				want = shapeDims(ins[k].Shape)
			}
			if got := dims(sig.Inputs[name]); got != want || sig.Inputs[name].Dtype != "DT_FLOAT" {
				t.Errorf("%s: input %q: %s %s, Keras reports %s", m.name, name, sig.Inputs[name].Dtype, got, want)
			}
		}
		for k, name := range m.outputs {
			if got := dims(sig.Outputs[name]); got != shapeDims(outs[k].Shape) {
				t.Errorf("%s: output %q: %s, Keras's prediction has %v", m.name, name, got, outs[k].Shape)
			}
		}
		if len(sig.Inputs) != len(m.inputs) || len(sig.Outputs) != len(m.outputs) {
			t.Errorf("%s: %d inputs, %d outputs", m.name, len(sig.Inputs), len(sig.Outputs))
		}
	}
}

// shapeDims writes an array's shape with its batch free: -1,3,4.
func shapeDims(shape []int) string {
	s := []string{"-1"}
	for _, d := range shape[1:] {
		s = append(s, fmt.Sprint(d))
	}
	return strings.Join(s, ",")
}

func dims(t tensorInfo) string {
	if t.TensorShape.UnknownRank {
		return "unknown rank"
	}
	var s []string
	for _, d := range t.TensorShape.Dim {
		s = append(s, d.Size)
	}
	return strings.Join(s, ",")
}

// readManifestInputs returns, per model, file and input name, the
// input's shape as Keras reports its InputLayer (None as -1).
func readManifestInputs(t *testing.T) map[string]map[string]map[string]string {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Models map[string]struct {
			Files map[string]struct {
				Loaders map[string]struct {
					Layers []struct {
						Name        string `json:"name"`
						ClassName   string `json:"class_name"`
						OutputShape any    `json:"output_shape"`
					} `json:"layers"`
				} `json:"loaders"`
			} `json:"files"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]map[string]string{}
	for model, m := range man.Models {
		out[model] = map[string]map[string]string{}
		for file, f := range m.Files {
			out[model][file] = map[string]string{}
			loader := "k3"
			if strings.HasPrefix(file, "tfk") {
				loader = "tfk"
			}
			for _, l := range f.Loaders[loader].Layers {
				if l.ClassName != "InputLayer" {
					continue
				}
				shape, ok := l.OutputShape.([]any)
				if !ok || len(shape) == 0 {
					continue
				}
				if first, ok := shape[0].([]any); ok { // tf-keras: a list of one shape
					shape = first
				}
				var s []string
				for _, d := range shape {
					if d == nil {
						s = append(s, "-1")
					} else {
						s = append(s, fmt.Sprint(d))
					}
				}
				out[model][file][l.Name] = strings.Join(s, ",")
			}
		}
	}
	return out
}

func sameJSON(t *testing.T, a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// TestCompatErrors sends the malformed requests of TF Serving's handler
// tests (UnsupportedApiCalls, PredictModelNameVersionErrors,
// PredictRequestErrors) and of json_tensor.cc's checks, and wants TF
// Serving's status and the start of its message as {"error": "..."}; after
// each the server must still answer a good request.
func TestCompatErrors(t *testing.T) {
	url := compatServer(t, Options{MaxBodyBytes: 1 << 16})
	good := `{"instances": [[1, 2, 3, 4, 5, 6]]}`
	cases := []struct {
		name, method, path, body string
		code                     int
		msg                      string
	}{
		{"empty document", "POST", "/v1/models/core:predict", "", 400, "JSON Parse error: The document is empty"},
		{"not JSON", "POST", "/v1/models/core:predict", "instances = [1, 2]", 400, "JSON Parse error: Invalid value"},
		{"truncated JSON", "POST", "/v1/models/core:predict", `{"instances": [[1, 2`, 400, "JSON Parse error: Missing a comma or ']'"},
		{"trailing garbage", "POST", "/v1/models/core:predict", good + "x", 400, "JSON Parse error: The document root must not be followed by other values"},
		{"root not object", "POST", "/v1/models/core:predict", `[1, 2]`, 400, "JSON Value: [1, 2] Is not object"},
		{"strings for floats", "POST", "/v1/models/core:predict", `{ "instances": ["x", "y"] }`, 400, "not of expected type: float"},
		{"bool for float", "POST", "/v1/models/core:predict", `{"instances": [[true, 2, 3, 4, 5, 6]]}`, 400, "Type: True is not of expected type: float"},
		{"null for float", "POST", "/v1/models/core:predict", `{"inputs": [[null, 2, 3, 4, 5, 6]]}`, 400, "Type: Null is not of expected type: float"},
		{"b64 for float", "POST", "/v1/models/core:predict", `{"inputs": {"b64": "aGVsbG8="}}`, 400, "Type: Object is not of expected type: float"},
		{"integer beyond float32", "POST", "/v1/models/core:predict", `{"instances": [[16777217, 2, 3, 4, 5, 6]]}`, 400, "Cannot convert JSON value: 16777217 to float without loss of precision."},
		{"decimal beyond float32", "POST", "/v1/models/core:predict", `{"instances": [[1e39, 2, 3, 4, 5, 6]]}`, 400, "Cannot convert JSON value: 1e39 to float without loss of precision."},
		{"unknown version label", "POST", "/v1/models/core/labels/Version_Nonexistent:predict", good, 400, "Unrecognized servable version label: Version_Nonexistent"},
		{"signature_name not a string", "POST", "/v1/models/core:predict", `{ "signature_name": 100 }`, 400, "'signature_name' key must be a string value."},
		{"unknown signature", "POST", "/v1/models/core:predict", `{"signature_name": "classify", "instances": [[1, 2, 3, 4, 5, 6]]}`, 400, `Serving signature name: "classify" not found in signature def`},
		{"both instances and inputs", "POST", "/v1/models/core:predict", `{"instances": [[1]], "inputs": [[1]]}`, 400, "JSON Value: "},
		{"instances not a list", "POST", "/v1/models/core:predict", `{"instances": 1}`, 400, "Excepting 'instances' to be an list/array"},
		{"empty instances", "POST", "/v1/models/core:predict", `{"instances": []}`, 400, "No values in 'instances' array"},
		{"no tensors", "POST", "/v1/models/core:predict", `{"signature_name": "serving_default"}`, 400, "Missing 'inputs' or 'instances' key"},
		{"plain list for several inputs", "POST", "/v1/models/merge:predict", `{"instances": [[1, 2, 3, 4]]}`, 400, "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map"},
		{"plain inputs for several inputs", "POST", "/v1/models/merge:predict", `{"inputs": [[1, 2, 3, 4]]}`, 400, "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map"},
		{"missing named input", "POST", "/v1/models/merge:predict", `{"inputs": {"input_a": [[1, 2, 3, 4]]}}`, 400, "Missing named input: input_b in 'inputs' object."},
		{"unknown named input", "POST", "/v1/models/merge:predict", `{"instances": [{"input_a": [1, 2, 3, 4], "input_c": [1, 2, 3, 4]}]}`, 400, "Failed to process element: 0 key: input_c of 'instances' list. Error: JSON object: does not have named input: input_c"},
		{"object keys short", "POST", "/v1/models/merge:predict", `{"instances": [{"input_a": [1, 2, 3, 4]}]}`, 400, "Failed to process element: 0 of 'instances' list. JSON object: "},
		{"object then list", "POST", "/v1/models/merge:predict", `{"instances": [{"input_a": [1, 2, 3, 4], "input_b": [1, 2, 3, 4]}, [1]]}`, 400, "Expecting object but got list at item 1 of input list"},
		{"list then object", "POST", "/v1/models/core:predict", `{"instances": [[1, 2, 3, 4, 5, 6], {"input": [1, 2, 3, 4, 5, 6]}]}`, 400, "Expecting value/list but got object at item 1 of input list"},
		{"rows of other sizes", "POST", "/v1/models/core:predict", `{"instances": [[1, 2, 3, 4, 5, 6], [1, 2]]}`, 400, "Failed to process element: 1 of 'instances' list. Error: Expecting tensor size: 6 but got: 2"},
		{"rows of other shapes", "POST", "/v1/models/rnn:predict", `{"instances": [[[1], [2], [3]], [[1, 2, 3]]]}`, 400, "Failed to process element: 1 of 'instances' list. Error: Expecting shape [3,1] but got: [1,3]"},
		{"ragged list", "POST", "/v1/models/core:predict", `{"inputs": [[1, 2, 3, 4, 5, 6], [1, 2]]}`, 400, "Encountered list at unexpected size: 2 at level: 1 expected size: 6"},
		{"value at wrong level", "POST", "/v1/models/core:predict", `{"inputs": [[1, 2, 3, 4, 5, 6], 7]}`, 400, "JSON Value: 7 found at incorrect level: 2 in the JSON DOM. Expected at level: 2"},
		{"list too deep", "POST", "/v1/models/core:predict", `{"inputs": [[1, 2, 3, 4, 5, [6]]]}`, 400, "Encountered list at unexpected level: 2 expected < 2"},
		{"wrong shape", "POST", "/v1/models/core:predict", `{"instances": [[1, 2, 3]]}`, 400, `input "input": shape (1, 3), want (None, 6)`},
		{"wrong rank", "POST", "/v1/models/core:predict", `{"instances": [1, 2, 3]}`, 400, `input "input": shape (3,), want (None, 6)`},
		{"batches differ", "POST", "/v1/models/merge:predict", `{"inputs": {"input_a": [[1, 2, 3, 4]], "input_b": [[1, 2, 3, 4], [1, 2, 3, 4]]}}`, 400, `input "input_b": batch of 2`},
		{"deep nesting", "POST", "/v1/models/core:predict", `{"inputs": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, 400, "JSON Parse error: Nesting deeper than 64 levels."},
		{"body over the limit", "POST", "/v1/models/core:predict", `{"inputs": [[` + strings.Repeat("1, ", 1<<15) + `1]]}`, 413, "the request body of 983"},
		{"unknown model", "POST", "/v1/models/foo:predict", `{ "instances": [1] }`, 404, "Servable not found for request: Latest(foo)"},
		{"unknown model version", "POST", "/v1/models/foo/versions/50:predict", `{ "instances": [1] }`, 404, "Servable not found for request: Specific(foo, 50)"},
		{"unknown version", "POST", "/v1/models/core/versions/99:predict", good, 404, "Servable not found for request: Specific(core, 99)"},
		{"classify", "POST", "/v1/models/core:classify", `{"examples": [{"x": 1}]}`, 400, "Expected classification signature method_name to be tensorflow/serving/classify."},
		{"GET unknown API", "GET", "/v1/foo", "", 400, "Malformed request: GET /v1/foo"},
		{"POST unknown API", "POST", "/v1/foo", "", 400, "Malformed request"},
		{"status without model", "GET", "/v1/models", "", 400, "Missing model name in request."},
		{"status of a sub-path", "GET", "/v1/models/debug/model_name", "", 400, "Malformed request"},
		{"POST models", "POST", "/v1/models", "", 400, "Malformed request"},
		{"GET predict", "GET", "/v1/models/foo:predict", "", 400, "Malformed request"},
		{"version misspelt", "GET", "/v1/models/foo/version/50:predict", "", 400, "Malformed request"},
		{"version misspelt POST", "POST", "/v1/models/foo/version/50:regress", "", 400, "Malformed request"},
		{"version not a number", "POST", "/v1/models/foo/versions/HELLO:regress", "", 400, "Malformed request"},
		{"version beyond int64", "POST", "/v1/models/foo/versions/18446744073709551615:regress", "", 400, "Failed to convert version"},
		{"POST metadata", "POST", "/v1/models/foo/metadata", "", 400, "Malformed request"},
		{"label misspelt", "POST", "/v1/models/foo/label/some_label:regress", "", 400, "Malformed request"},
		{"version and label", "POST", "/v1/models/foo/versions/50/labels/some_label:regress", "", 400, "Malformed request"},
		{"status of unknown model", "GET", "/v1/models/foo", "", 404, "Could not find any versions of model foo"},
		{"status of unknown version", "GET", "/v1/models/core/versions/7", "", 404, "Could not find version 7 of model core"},
		{"metadata of unknown model", "GET", "/v1/models/foo/metadata", "", 404, "Servable not found for request: Latest(foo)"},
		{"outside the API", "GET", "/statuspage", "", 404, "no such endpoint: /statuspage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := call(t, c.method, url+c.path, []byte(c.body))
			var doc map[string]string
			if err := json.Unmarshal(body, &doc); err != nil || len(doc) != 1 {
				t.Fatalf("status %d, body not {\"error\": ...}: %q", code, body)
			}
			if code != c.code || !strings.HasPrefix(doc["error"], c.msg) && !strings.Contains(doc["error"], c.msg) {
				t.Errorf("status %d %q\nwant %d %q", code, doc["error"], c.code, c.msg)
			}
			if strings.Contains(doc["error"], "\n") {
				t.Errorf("error spans several lines: %q", doc["error"])
			}
			if code, body := call(t, "POST", url+"/v1/models/core:predict", []byte(good)); code != 200 {
				t.Errorf("then a good request: %d %s", code, body)
			}
		})
	}
}

// TestCompatSpecialValues: TF Serving accepts NaN, Infinity and exponents
// in requests and writes NaN and Infinity as bare tokens; whole numbers
// get ".0" (json_tensor.cc WriteDecimal).
func TestCompatSpecialValues(t *testing.T) {
	cases := []struct {
		v    float32
		want string
	}{
		{3, "3.0"}, {0.5, "0.5"}, {-2.5e-7, "-2.5e-07"}, {9e6, "9e+06"},
		{0.1, "0.1"}, {1.0 / 3, "0.333333343"},
	}
	for _, c := range cases {
		if got := string(appendFloat(nil, c.v)); got != c.want {
			t.Errorf("%v written %s, want %s", c.v, got, c.want)
		}
	}
	url := compatServer(t, Options{})
	code, body := call(t, "POST", url+"/v1/models/core:predict", []byte(`{"instances": [[NaN, 1e0, -Infinity, 2E-1, 0, 6]]}`))
	if code != 200 || !strings.Contains(string(body), "NaN") {
		t.Errorf("%d %s", code, body)
	}
}
