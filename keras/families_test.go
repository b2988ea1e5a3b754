package keras

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"
)

// Tests shared by the layer families of core.go, activation.go, norm.go,
// merge.go, attention.go, embedding.go and einsum.go.

// callInputs builds a layer on several input shapes and infers its outputs.
func callInputs(l layerKind, in []Shape) ([]Shape, []WeightSpec, error) {
	w, err := l.build(in)
	if err != nil {
		return nil, nil, err
	}
	out, err := l.outputShapes(in)
	return out, w, err
}

// A callErrorCase is a valid config called on inputs it cannot take.
type callErrorCase struct {
	class, cfg string
	in         []Shape
}

func testCallErrors(t *testing.T, cases []callErrorCase) {
	t.Helper()
	for _, c := range cases {
		l, err := decodeLayer(c.class, c.cfg)
		if err != nil {
			t.Errorf("%s %s: %v", c.class, c.cfg, err)
			continue
		}
		_, _, err = callInputs(l, c.in)
		if fe := (*FormatError)(nil); !errors.As(err, &fe) {
			t.Errorf("%s %s on %v: got %v, want a FormatError", c.class, c.cfg, c.in, err)
		}
	}
}

// FuzzLayerFamily feeds mutated configs and input shapes to the classes of
// core.go, activation.go, norm.go, merge.go, attention.go, embedding.go
// and einsum.go: decoding, building and shape inference must never panic,
// and what they accept must give dimensions that are sizes or None.
func FuzzLayerFamily(f *testing.F) {
	seeds := []struct{ class, cfg, in string }{
		{"Dropout", `{"rate": 0.5}`, `[[null, 4]]`},
		{"SpatialDropout2D", `{"rate": 0.1}`, `[[null, 4, 4, 2]]`},
		{"Identity", `{}`, `[[null, 4], [2, 3]]`},
		{"Activation", `{"activation": "relu"}`, `[[null, 4]]`},
		{"PReLU", `{"shared_axes": [1, -1]}`, `[[null, 4, 3, 2]]`},
		{"Softmax", `{"axis": [1, 2]}`, `[[null, 4, 3]]`},
		{"BatchNormalization", `{"axis": [1, 3], "renorm": true, "virtual_batch_size": 2}`, `[[null, 4, 5, 6]]`},
		{"BatchNormalization", `{"mode": 0, "axis": 1}`, `[[null, 3, 8, 8]]`},
		{"LayerNormalization", `{"axis": [-1, 1], "rms_scaling": true}`, `[[null, 4, 5, 6]]`},
		{"GroupNormalization", `{"groups": -1, "axis": 1}`, `[[null, 6, 5]]`},
		{"Normalization", `{"axis": null}`, `[[null, 4, 5]]`},
		{"Normalization", `{"axis": [2, 1], "mean": 1.0, "variance": 2.0}`, `[[null, 4, 5]]`},
		{"Add", `{}`, `[[null, 4, 3], [null, 1, 3], [null, 3]]`},
		{"Subtract", `{}`, `[[null, null, 3], [2, 4, 1]]`},
		{"Concatenate", `{"axis": 1}`, `[[null, 4, 3], [null, null, 3]]`},
		{"Dot", `{"axes": [2, 1], "normalize": true}`, `[[null, 4, 3], [null, 3, 5]]`},
		{"Merge", `{"mode": "concat", "concat_axis": 1}`, `[[null, 4], [null, 5]]`},
		{"Merge", `{"mode": "dot", "dot_axes": [1, 1]}`, `[[null, 4], [null, 4]]`},
		{"Merge", `{"mode": "lambda_src", "mode_type": "lambda", "output_shape": [3]}`, `[[null, 4], [null, 4]]`},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 3, "output_shape": [2, 3], "use_gate": true}`, `[[null, 5, 6], [null, 7, 8], [null, 7, 4]]`},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 3, "attention_axes": [1, 2]}`, `[[null, 3, 4, 6], [null, 3, 2, 8]]`},
		{"Attention", `{"use_scale": true, "score_mode": "concat"}`, `[[null, 5, 6], [null, 7, 6]]`},
		{"AdditiveAttention", `{}`, `[[null, 5, 6], [null, 7, 6], [null, 7, 6]]`},
		{"Embedding", `{"input_dim": 10, "output_dim": 4, "lora_rank": 2}`, `[[null, 5]]`},
		{"Masking", `{"mask_value": {"class_name": "__tensor__", "config": {"value": [0.0]}}}`, `[[null, 5, 2]]`},
		{"EinsumDense", `{"equation": "...ab,bc->...ac", "output_shape": [null, 5], "bias_axes": "c"}`, `[[null, 2, 4, 3, 6]]`},
		{"EinsumDense", `{"equation": "ab...,bc->ac...", "output_shape": 7, "bias_axes": "c", "dtype": "float32"}`, `[[null, 6, 4, 5]]`},
		{"EinsumDense", `{"equation": "abc,cde->abde", "output_shape": [null, 3, 4], "bias_axes": "de", "lora_rank": 2}`, `[[null, 10, 32]]`},
	}
	var classes []string
	for _, s := range seeds {
		classes = append(classes, s.class)
		f.Add(len(classes)-1, s.cfg, s.in)
	}
	f.Fuzz(func(t *testing.T, class int, cfg, in string) {
		if class < 0 || class >= len(classes) || !gjson.Valid(cfg) || !gjson.Valid(in) {
			return
		}
		l, err := decodeLayer(classes[class], cfg)
		if err != nil {
			return
		}
		var shapes []Shape
		for _, r := range gjson.Parse(in).Array() {
			s, err := parseShape(r)
			if err != nil {
				return
			}
			shapes = append(shapes, s)
		}
		out, w, err := callInputs(l, shapes)
		if err != nil {
			return
		}
		for _, o := range out {
			for _, d := range o {
				if d < None {
					t.Fatalf("%s %s on %s: output shape %s", classes[class], cfg, in, o)
				}
			}
		}
		for _, s := range w {
			if n, ok := s.Shape.Size(); !ok || n < 0 {
				t.Fatalf("%s %s on %s: weight %s of shape %s", classes[class], cfg, in, s.Name, s.Shape)
			}
		}
	})
}

func TestCoreConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"Dropout", `{"rate": 1.5}`, "rate"},
		{"Dropout", `{"p": "half"}`, "p"},
		{"SpatialDropout2D", `{"rate": -0.1}`, "rate"},
		{"GaussianNoise", `{"stddev": -1}`, "stddev"},
		{"GaussianNoise", `{"sigma": [1]}`, "sigma"},
		{"GaussianDropout", `{"rate": {"class_name": "__tensor__", "config": {"value": "x"}}}`, "rate"},
		{"ActivityRegularization", `{"l1": "0.1"}`, "l1"},
		{"Activation", `{"activation": 3}`, "activation"},
	})
}

func TestCoreShapeErrors(t *testing.T) {
	testCallErrors(t, []callErrorCase{
		{"SpatialDropout1D", `{"rate": 0.1}`, []Shape{{None, 4}}},
		{"SpatialDropout3D", `{"rate": 0.1}`, []Shape{{None, 4, 4, 4}}},
		{"Dropout", `{"rate": 0.1}`, []Shape{{None, 4}, {None, 4}}},
		{"Activation", `{"activation": "relu"}`, []Shape{}},
	})
}

func TestActivationConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"ReLU", `{"max_value": -1}`, "max_value"},
		{"ReLU", `{"negative_slope": -0.5}`, "negative_slope"},
		{"ReLU", `{"threshold": "0"}`, "threshold"},
		{"LeakyReLU", `{"alpha": -1}`, "alpha"},
		{"LeakyReLU", `{"negative_slope": {"class_name": "__numpy__", "config": {"value": [-2]}}}`, "negative_slope"},
		{"ELU", `{"alpha": true}`, "alpha"},
		{"ThresholdedReLU", `{"theta": -1}`, "theta"},
		{"Softmax", `{"axis": "last"}`, "axis"},
		{"Softmax", `{"axis": [1, 1.5]}`, "axis"},
		{"PReLU", `{"shared_axes": [1, "a"]}`, "shared_axes"},
	})
}

func TestActivationShapeErrors(t *testing.T) {
	testCallErrors(t, []callErrorCase{
		{"PReLU", `{"shared_axes": [3]}`, []Shape{{None, 4}}},
		{"PReLU", `{"shared_axes": [-3]}`, []Shape{{None, 4}}},
		{"PReLU", `{}`, []Shape{{None, None, 3}}},
		{"PReLU", `{}`, []Shape{{None}}},
		{"ReLU", `{}`, []Shape{{None, 4}, {None, 4}}},
	})
}

func TestKnownActivation(t *testing.T) {
	// Every activation the fixtures' configs name must be known.
	m := readManifest(t)
	for _, name := range sortedKeys(m.Models) {
		for _, file := range sortedKeys(m.Models[name].Files) {
			f, err := Open(filepath.Join(modelsDir, name, file))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range findKeys(gjson.ParseBytes(f.Config), "activation") {
				if r.Type == gjson.String && !knownActivation(r.Str) {
					t.Errorf("%s/%s: activation %q is not known", name, file, r.Str)
				}
			}
			f.Close()
		}
	}
}

// findKeys returns every value stored under key anywhere in a document.
func findKeys(r gjson.Result, key string) []gjson.Result {
	var out []gjson.Result
	r.ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			out = append(out, v)
		}
		if v.IsObject() || v.IsArray() {
			out = append(out, findKeys(v, key)...)
		}
		return true
	})
	return out
}

func TestNormConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"BatchNormalization", `{"axis": "channels"}`, "axis"},
		{"BatchNormalization", `{"axis": []}`, "axis"},
		{"BatchNormalization", `{"center": "yes"}`, "center"},
		{"BatchNormalization", `{"renorm": 1}`, "renorm"},
		{"BatchNormalization", `{"virtual_batch_size": 0}`, "virtual_batch_size"},
		{"LayerNormalization", `{"axis": 1.5}`, "axis"},
		{"LayerNormalization", `{"rms_scaling": "no"}`, "rms_scaling"},
		{"GroupNormalization", `{"groups": 0}`, "groups"},
		{"GroupNormalization", `{"axis": [1, 2]}`, "axis"},
		{"UnitNormalization", `{"axis": {"a": 1}}`, "axis"},
		{"RMSNormalization", `{"axis": "x"}`, "axis"},
		{"Normalization", `{"mean": 1.0}`, "variance"},
		{"Normalization", `{"axis": [1, "a"]}`, "axis"},
	})
}

func TestNormShapeErrors(t *testing.T) {
	testCallErrors(t, []callErrorCase{
		{"BatchNormalization", `{}`, []Shape{{None, 4, None}}},
		{"BatchNormalization", `{"axis": 3}`, []Shape{{None, 4, 5}}},
		{"BatchNormalization", `{"axis": [1, -2]}`, []Shape{{None, 4, 5}}},
		{"BatchNormalization", `{}`, []Shape{{None, 4}, {None, 4}}},
		{"LayerNormalization", `{"axis": [1, 1]}`, []Shape{{None, 4, 5}}},
		{"LayerNormalization", `{"axis": -4}`, []Shape{{None, 4, 5}}},
		{"GroupNormalization", `{"groups": 4}`, []Shape{{None, 5, 6}}},
		{"GroupNormalization", `{"groups": 8}`, []Shape{{None, 5, 6}}},
		{"GroupNormalization", `{"groups": 2}`, []Shape{{None, 5, None}}},
		{"UnitNormalization", `{"axis": 2}`, []Shape{{None, 5}}},
		{"Normalization", `{"axis": 2}`, []Shape{{None, 5}}},
		{"Normalization", `{}`, []Shape{{None, 5, None}}},
	})
}

func TestMergeConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"Concatenate", `{"axis": "last"}`, "axis"},
		{"Dot", `{}`, "axes"},
		{"Dot", `{"axes": [1, 2, 3]}`, "axes"},
		{"Dot", `{"axes": 1, "normalize": "l2"}`, "normalize"},
		{"Merge", `{"mode": "sub"}`, "mode"},
		{"Merge", `{"mode": 3}`, "mode"},
		{"Merge", `{"mode": "concat", "concat_axis": "x"}`, "concat_axis"},
		{"Merge", `{"mode": "dot", "dot_axes": [[1], [1]]}`, "dot_axes"},
		{"Merge", `{"mode": "f", "mode_type": "lambda", "output_shape": [-3]}`, "output_shape"},
		{"Merge", `{"mode": "sum", "layers": [{"class_name": "Sequential"}]}`, "layers"},
	})
}

func TestMergeShapeErrors(t *testing.T) {
	testCallErrors(t, []callErrorCase{
		{"Add", `{}`, []Shape{{None, 3}, {None, 4}}},
		{"Add", `{}`, []Shape{{2, 3}, {4, 3}}},
		{"Add", `{}`, []Shape{{}, {None, 3}}},
		{"Add", `{}`, []Shape{}},
		{"Subtract", `{}`, []Shape{{None, 3}, {None, 3}, {None, 3}}},
		{"Concatenate", `{"axis": 1}`, []Shape{{None, 3, 2}, {None, 3, 4}}},
		{"Concatenate", `{}`, []Shape{{None, 3, 2}, {None, 2}}},
		{"Concatenate", `{"axis": 3}`, []Shape{{None, 3, 2}, {None, 3, 2}}},
		{"Dot", `{"axes": 0}`, []Shape{{None, 3}, {None, 3}}},
		{"Dot", `{"axes": 1}`, []Shape{{None, 3}, {None, 4}}},
		{"Dot", `{"axes": [1, 2]}`, []Shape{{None, 3}, {None, 4}}},
		{"Dot", `{"axes": 1}`, []Shape{{None}, {None}}},
		{"Dot", `{"axes": 1}`, []Shape{{None, 3}}},
		{"Merge", `{"mode": "sum"}`, []Shape{{None, 3}}},
		{"Merge", `{"mode": "cos", "dot_axes": 1}`, []Shape{{None, 3}, {None, 4}}},
		{"Merge", `{"mode": "concat", "concat_axis": 2}`, []Shape{{None, 3}, {None, 4}}},
	})
}

func TestMergeLegacySpellings(t *testing.T) {
	testLegacySpellings(t, [][4]string{
		{"Merge", `{"mode": "dot", "dot_axes": -1}`, "Merge", `{"mode": "dot", "mode_type": "raw", "dot_axes": [-1]}`},
	})
}

func TestAttentionConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"MultiHeadAttention", `{"num_heads": 0, "key_dim": 2}`, "num_heads"},
		{"MultiHeadAttention", `{"num_heads": 2}`, "key_dim"},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 2, "value_dim": -1}`, "value_dim"},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 2, "output_shape": "wide"}`, "output_shape"},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 2, "output_shape": [4, null]}`, "output_shape"},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 2, "output_shape": 0}`, "output_shape"},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 2, "attention_axes": "time"}`, "attention_axes"},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 2, "use_bias": "no"}`, "use_bias"},
		{"Attention", `{"score_mode": "general"}`, "score_mode"},
		{"Attention", `{"use_scale": 1}`, "use_scale"},
		{"AdditiveAttention", `{"use_scale": "yes"}`, "use_scale"},
	})
}

func TestAttentionShapeErrors(t *testing.T) {
	mha := `{"num_heads": 2, "key_dim": 3}`
	testCallErrors(t, []callErrorCase{
		{"MultiHeadAttention", mha, []Shape{{None, 5, 6}}},
		{"MultiHeadAttention", mha, []Shape{{None, 5, 6}, {None, 7, 6}, {None, 8, 6}}},
		{"MultiHeadAttention", mha, []Shape{{None, 5, None}, {None, 7, 6}}},
		{"MultiHeadAttention", mha, []Shape{{None}, {None, 7, 6}}},
		{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 3, "output_shape": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}`,
			[]Shape{{None, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6}, {None, 7, 6}}},
		{"Attention", `{}`, []Shape{{None, 5, 6}}},
		{"Attention", `{}`, []Shape{{}, {None, 5, 6}}},
		{"AdditiveAttention", `{}`, []Shape{{None, 5, None}, {None, 7, 6}}},
	})
}

func TestEmbeddingConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"Embedding", `{"input_dim": 0, "output_dim": 4}`, "input_dim"},
		{"Embedding", `{"input_dim": 10}`, "output_dim"},
		{"Embedding", `{"input_dim": "10", "output_dim": 4}`, "input_dim"},
		{"Embedding", `{"input_dim": 10, "output_dim": 4, "input_length": "5"}`, "input_length"},
		{"Embedding", `{"input_dim": 10, "output_dim": 4, "lora_rank": -1}`, "lora_rank"},
		{"Masking", `{"mask_value": "zero"}`, "mask_value"},
	})
}

func TestEmbeddingShapeErrors(t *testing.T) {
	testCallErrors(t, []callErrorCase{
		{"Embedding", `{"input_dim": 10, "output_dim": 4}`, []Shape{{}}},
		{"Embedding", `{"input_dim": 10, "output_dim": 4}`, []Shape{{None, 5}, {None, 5}}},
		{"Masking", `{}`, []Shape{{None, 5}, {None, 5}}},
	})
}

func TestEinsumConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"EinsumDense", `{"output_shape": 4}`, "equation"},
		{"EinsumDense", `{"equation": "ab,bc", "output_shape": 4}`, "equation"},
		{"EinsumDense", `{"equation": "...ab,bc->ac", "output_shape": 4}`, "equation"},
		{"EinsumDense", `{"equation": "a...,ab->b...", "output_shape": 4}`, "equation"},
		{"EinsumDense", `{"equation": 3, "output_shape": 4}`, "equation"},
		{"EinsumDense", `{"equation": "ab,bc->ac"}`, "output_shape"},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": "4"}`, "output_shape"},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": [-2]}`, "output_shape"},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": 1}`, "bias_axes"},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4, "lora_rank": -2}`, "lora_rank"},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4, "activation": []}`, "activation"},
	})
}

func TestEinsumShapeErrors(t *testing.T) {
	testCallErrors(t, []callErrorCase{
		// input rank against the equation
		{"EinsumDense", `{"equation": "abc,cd->abd", "output_shape": [null, 4]}`, []Shape{{None, 6}}},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4}`, []Shape{{None, 5, 6}}},
		{"EinsumDense", `{"equation": "...ab,bc->...ac", "output_shape": [null, 4]}`, []Shape{{None}}},
		// output_shape against the input and the equation
		{"EinsumDense", `{"equation": "abc,cd->abd", "output_shape": [7, 4]}`, []Shape{{None, 5, 6}}},
		{"EinsumDense", `{"equation": "abc,cd->abd", "output_shape": [4]}`, []Shape{{None, 5, 6}}},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": [null]}`, []Shape{{None, 6}}},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4}`, []Shape{{None, None}}},
		// letters without a source
		{"EinsumDense", `{"equation": "ab,bc->ad", "output_shape": 4}`, []Shape{{None, 6}}},
		{"EinsumDense", `{"equation": "ab,bd->ac", "output_shape": 4}`, []Shape{{None, 6}}},
		// bias axes
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "x"}`, []Shape{{None, 6}}},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": ""}`, []Shape{{None, 6}}},
		{"EinsumDense", `{"equation": "abc,cd->abd", "output_shape": [null, 4], "bias_axes": "bd"}`, []Shape{{None, 5, 6}}},
		{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 4}`, []Shape{{None, 6}, {None, 6}}},
	})
}
