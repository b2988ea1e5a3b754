package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

// TestExplainGolden checks `explain` of every fixture file against its
// golden file (regenerate with go test -update), and that `explain --json`
// says the same.
func TestExplainGolden(t *testing.T) {
	h5, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.h5"))
	zips, _ := filepath.Glob(filepath.Join(modelsDir, "*", "*.keras"))
	for _, path := range append(h5, zips...) {
		model, file := filepath.Base(filepath.Dir(path)), filepath.Base(path)
		if strings.HasPrefix(model, "big_") {
			continue // a thousand identical lines say nothing more
		}
		t.Run(model+"/"+file, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"explain", path}, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if diff := checkGolden(t, filepath.Join("testdata", "golden", model, file+".explain.txt"), out.String()); diff != "" {
				t.Error(diff)
			}

			var jb bytes.Buffer
			if code := run([]string{"explain", "--json", path}, &jb, &errb); code != 0 {
				t.Fatalf("--json: exit %d: %s", code, errb.String())
			}
			var d explainDoc
			if err := json.Unmarshal(jb.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			if d.Schema != ExplainSchema || d.File != path {
				t.Errorf("--json: schema %q file %q", d.Schema, d.File)
			}
			var text bytes.Buffer
			writeExplanation(&text, d.Layers, d.Params)
			if text.String() != out.String() {
				t.Errorf("--json describes another explanation:\n%s", text.String())
			}
		})
	}
}

// explainManifest is what the explain tests read of the fixture manifest:
// each layer's parameter counts as Keras reported them.
type explainManifest struct {
	Models map[string]struct {
		Files map[string]struct {
			Loaders map[string]struct {
				TrainableParams    *int64 `json:"trainable_params"`
				NonTrainableParams *int64 `json:"non_trainable_params"`
				Layers             []struct {
					Name               string `json:"name"`
					ClassName          string `json:"class_name"`
					Params             int64  `json:"params"`
					TrainableParams    int64  `json:"trainable_params"`
					NonTrainableParams int64  `json:"non_trainable_params"`
				} `json:"layers"`
			} `json:"loaders"`
		} `json:"files"`
	} `json:"models"`
}

// formulaSources collects, per class, where the explanations of the
// layers seen came from.
type formulaSources map[string]map[keras.Source]int

// add records e and the layers inside it, and checks what holds for every
// explanation: its terms add up to its total, each term's factors to its
// count, and its trainable and non-trainable parts to its total.
func (s formulaSources) add(t *testing.T, where string, e keras.Explanation) {
	t.Helper()
	if s[e.Class] == nil {
		s[e.Class] = map[keras.Source]int{}
	}
	s[e.Class][e.Source]++
	var sum int64
	for _, term := range e.Terms {
		n := int64(1)
		for _, f := range term.Factors {
			n *= int64(f)
		}
		if n != term.Count {
			t.Errorf("%s %q: term %q: factors %v make %d, not %d", where, e.Layer, term.Label, term.Factors, n, term.Count)
		}
		sum += term.Count
	}
	if sum != e.Total || e.Trainable+e.NonTrainable != e.Total {
		t.Errorf("%s %q: terms add up to %d, trainable %d + non-trainable %d, total %d",
			where, e.Layer, sum, e.Trainable, e.NonTrainable, e.Total)
	}
	if e.Total > 0 && !strings.Contains(e.Formula, keras.Thousands(e.Total)) {
		t.Errorf("%s %q: formula %q does not show the total %d", where, e.Layer, e.Formula, e.Total)
	}
	for _, inner := range e.Layers {
		s.add(t, where+" "+e.Layer+"/", inner)
	}
}

// check fails for every registered class some layer explained only
// generically, and logs which classes have a formula of their own.
func (s formulaSources) check(t *testing.T) {
	t.Helper()
	registered := map[string]bool{"InputLayer": true}
	for _, c := range keras.Classes() {
		registered[c] = true
	}
	var specific, generic []string
	for _, c := range sortedClasses(s) {
		switch {
		case s[c][keras.SourceGeneric] > 0 && registered[c]:
			generic = append(generic, c)
		case s[c][keras.SourceFormula] > 0:
			specific = append(specific, c)
		}
	}
	t.Logf("classes explained by a formula of their own: %s", strings.Join(specific, " "))
	if len(generic) > 0 {
		t.Errorf("registered classes with only the generic formula (none of their own, or one that disagrees with Params): %s",
			strings.Join(generic, " "))
	}
}

func sortedClasses(s formulaSources) []string {
	var out []string
	for c := range s {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// TestExplainMatchesKeras explains every layer of every fixture file and
// checks each total against the layer's Params() and against the counts
// Keras reported for it (trainable and non-trainable), and the model's
// totals against Keras's. Every registered class the fixtures hold must
// have a formula of its own.
func TestExplainMatchesKeras(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man explainManifest
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	sources := formulaSources{}
	for _, model := range sortedKeys(man.Models) {
		for _, file := range sortedKeys(man.Models[model].Files) {
			fm := man.Models[model].Files[file]
			f, err := keras.Open(filepath.Join(modelsDir, model, file))
			if err != nil {
				t.Errorf("%s/%s: %v", model, file, err)
				continue
			}
			explained, params, err := explainModel(f, false)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			var layers []keras.Explanation // model.layers: no bare operations
			for i, e := range explained {
				sources.add(t, model+"/"+file, e)
				if p := f.Model.Layers[i].Params(); e.Total != p {
					t.Errorf("%s/%s %q: explained %d parameters, Params() is %d", model, file, e.Layer, e.Total, p)
				}
				if !f.Model.Layers[i].Op {
					layers = append(layers, e)
				}
			}
			for _, loader := range sortedKeys(fm.Loaders) {
				want := fm.Loaders[loader]
				if want.Layers == nil {
					continue // this Keras could not load the file
				}
				where := model + "/" + file + " loaded by " + loader
				if len(layers) != len(want.Layers) {
					t.Errorf("%s: %d layers, Keras has %d", where, len(layers), len(want.Layers))
					continue
				}
				for i, w := range want.Layers {
					e := layers[i]
					if e.Layer != w.Name || e.Total != w.Params || e.Trainable != w.TrainableParams || e.NonTrainable != w.NonTrainableParams {
						t.Errorf("%s: %q explained %d = %d trainable + %d non-trainable; Keras: %q %d = %d + %d",
							where, e.Layer, e.Total, e.Trainable, e.NonTrainable, w.Name, w.Params, w.TrainableParams, w.NonTrainableParams)
					}
				}
				if want.TrainableParams != nil && (params.Trainable != *want.TrainableParams || params.NonTrainable != *want.NonTrainableParams) {
					t.Errorf("%s: totals %d trainable + %d non-trainable, Keras: %d + %d",
						where, params.Trainable, params.NonTrainable, *want.TrainableParams, *want.NonTrainableParams)
				}
			}
		}
	}
	sources.check(t)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// classCase is a layer config to explain on inputs of the given shapes
// (without the batch dimension).
type classCase struct {
	class, config string
	inputs        [][]int
	want          string // a part of the formula
}

// classCases explain every registered class at least once, and the
// variants whose formulas differ (groups, depth multipliers, LoRA, GRU
// without reset_after, renorm, gates, a backward layer of its own).
var classCases = []classCase{
	{"ELU", `{}`, [][]int{{4}}, "no weights"},
	{"LeakyReLU", `{}`, [][]int{{4}}, "no weights"},
	{"PReLU", `{"shared_axes": [1]}`, [][]int{{3, 4}}, "alpha 1×4 = 4"},
	{"ReLU", `{}`, [][]int{{4}}, "no weights"},
	{"Softmax", `{}`, [][]int{{4}}, "no weights"},
	{"ThresholdedReLU", `{}`, [][]int{{4}}, "no weights"},

	{"AdditiveAttention", `{}`, [][]int{{5, 6}, {7, 6}}, "scale 6"},
	{"Attention", `{"use_scale": true, "score_mode": "concat"}`, [][]int{{5, 6}, {7, 6}}, "scale 1 (a learned scalar multiplying the scores) + concat score weight 1 = 2"},
	{"Attention", `{}`, [][]int{{5, 6}, {7, 6}}, "no weights"},
	{"MultiHeadAttention", `{"num_heads": 8, "key_dim": 64}`, [][]int{{10, 512}, {12, 512}},
		"query (512×8×64 + 8×64) + key (512×8×64 + 8×64) + value (512×8×64 + 8×64) + output (8×64×512 + 512) = 262,656 + 262,656 + 262,656 + 262,656 = 1,050,624"},
	{"MultiHeadAttention", `{"num_heads": 2, "key_dim": 3, "value_dim": 4, "use_bias": false, "use_gate": true, "output_shape": [2, 5]}`,
		[][]int{{5, 6}, {7, 8}, {7, 2}}, "query 6×2×3 + key 2×2×3 + gate 6×2×4 + value 8×2×4 + output 2×4×2×5 = 36 + 12 + 48 + 64 + 80 = 240"},

	{"AtrousConv1D", `{"filters": 4, "kernel_size": 3, "dilation_rate": 2}`, [][]int{{10, 2}}, "4 filters × (3×2 + 1)"},
	{"AtrousConv2D", `{"filters": 4, "kernel_size": 3}`, [][]int{{8, 8, 2}}, "= 76"},
	{"AtrousConvolution1D", `{"filters": 4, "kernel_size": 3}`, [][]int{{10, 2}}, "= 28"},
	{"AtrousConvolution2D", `{"filters": 4, "kernel_size": 3}`, [][]int{{8, 8, 2}}, "= 76"},
	{"Conv1D", `{"filters": 4, "kernel_size": 3, "use_bias": false}`, [][]int{{10, 2}}, "kernel 3×2×4 = 24"},
	{"Conv1DTranspose", `{"filters": 4, "kernel_size": 3}`, [][]int{{10, 2}}, "kernel 3×4×2 + bias 4 = 28 = 4 filters × (3×2 + 1)"},
	{"Conv2D", `{"filters": 32, "kernel_size": 3}`, [][]int{{28, 28, 3}}, "Conv2D(32, 3×3), 3 channels in: kernel 3×3×3×32 + bias 32 = 896 = 32 filters × (3×3×3 + 1)"},
	{"Conv2D", `{"filters": 8, "kernel_size": [3, 1], "groups": 4}`, [][]int{{8, 8, 12}}, "kernel 3×1×3×8 (12 channels in 4 groups of 3) + bias 8 = 80"},
	{"Conv2DTranspose", `{"filters": 4, "kernel_size": 3}`, [][]int{{8, 8, 2}}, "= 76"},
	{"Conv3D", `{"filters": 4, "kernel_size": 2}`, [][]int{{4, 4, 4, 2}}, "kernel 2×2×2×2×4 + bias 4 = 68"},
	{"Conv3DTranspose", `{"filters": 4, "kernel_size": 2}`, [][]int{{4, 4, 4, 2}}, "= 68"},
	{"Convolution1D", `{"nb_filter": 4, "filter_length": 3}`, [][]int{{10, 2}}, "= 28"},
	{"Convolution1DTranspose", `{"filters": 4, "kernel_size": 3}`, [][]int{{10, 2}}, "= 28"},
	{"Convolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3}`, [][]int{{8, 8, 2}}, "Convolution2D(4, 3×3)"},
	{"Convolution2DTranspose", `{"filters": 4, "kernel_size": 3}`, [][]int{{8, 8, 2}}, "= 76"},
	{"Convolution3D", `{"filters": 4, "kernel_size": 2}`, [][]int{{4, 4, 4, 2}}, "= 68"},
	{"Convolution3DTranspose", `{"filters": 4, "kernel_size": 2}`, [][]int{{4, 4, 4, 2}}, "= 68"},
	{"Deconv2D", `{"filters": 4, "kernel_size": 3}`, [][]int{{8, 8, 2}}, "= 76"},
	{"Deconv3D", `{"filters": 4, "kernel_size": 2}`, [][]int{{4, 4, 4, 2}}, "= 68"},
	{"Deconvolution2D", `{"filters": 4, "kernel_size": 3}`, [][]int{{8, 8, 2}}, "= 76"},
	{"Deconvolution3D", `{"filters": 4, "kernel_size": 2}`, [][]int{{4, 4, 4, 2}}, "= 68"},
	{"DepthwiseConv1D", `{"kernel_size": 3}`, [][]int{{10, 2}}, "depthwise kernel 3×2×1 + bias 2 = 8 = 2 channels × (3 + 1)"},
	{"DepthwiseConv2D", `{"kernel_size": 3, "depth_multiplier": 2}`, [][]int{{8, 8, 16}},
		"DepthwiseConv2D(3×3, depth multiplier 2), 16 channels in: depthwise kernel 3×3×16×2 + bias 32 (16 channels × 2) = 320 = 16 channels × 2 × (3×3 + 1)"},
	{"SeparableConv1D", `{"filters": 4, "kernel_size": 3}`, [][]int{{10, 2}}, "depthwise kernel 3×2×1 + pointwise kernel 1×2×4 + bias 4 = 18"},
	{"SeparableConv2D", `{"filters": 32, "kernel_size": 3, "depth_multiplier": 2}`, [][]int{{8, 8, 16}},
		"depthwise kernel 3×3×16×2 + pointwise kernel 1×1×32×32 + bias 32 = 1,344"},
	{"SeparableConvolution1D", `{"filters": 4, "kernel_size": 3}`, [][]int{{10, 2}}, "= 18"},
	{"SeparableConvolution2D", `{"filters": 4, "kernel_size": 3}`, [][]int{{8, 8, 2}}, "= 30"},

	{"Activation", `{"activation": "relu"}`, [][]int{{4}}, "no weights"},
	{"ActivityRegularization", `{}`, [][]int{{4}}, "no weights"},
	{"AlphaDropout", `{"rate": 0.1}`, [][]int{{4}}, "no weights"},
	{"Dropout", `{"rate": 0.1}`, [][]int{{4}}, "no weights"},
	{"GaussianDropout", `{"rate": 0.1}`, [][]int{{4}}, "no weights"},
	{"GaussianNoise", `{"stddev": 0.1}`, [][]int{{4}}, "no weights"},
	{"Identity", `{}`, [][]int{{4}}, "no weights"},
	{"TFOpLambda", `{"function": "math.abs"}`, [][]int{{4}}, "no weights (the TensorFlow function math.abs)"},
	// The case has no slice_spec to give a getitem: any op explains alike.
	{"SlicingOpLambda", `{"function": "math.negative"}`, [][]int{{4}}, "no weights (the TensorFlow function math.negative)"},
	{"SpatialDropout1D", `{"rate": 0.1}`, [][]int{{4, 3}}, "no weights"},
	{"SpatialDropout2D", `{"rate": 0.1}`, [][]int{{4, 4, 3}}, "no weights"},
	{"SpatialDropout3D", `{"rate": 0.1}`, [][]int{{4, 4, 4, 3}}, "no weights"},

	{"ConvLSTM1D", `{"filters": 2, "kernel_size": 3}`, [][]int{{5, 8, 3}}, "4 gates × 2 × (3×(3 + 2) + 1)"},
	{"ConvLSTM2D", `{"filters": 8, "kernel_size": 3}`, [][]int{{5, 8, 8, 2}},
		"ConvLSTM2D(8, 3×3), 2 channels in: kernel 3×3×2×32 + recurrent kernel 3×3×8×32 + bias 32 = 2,912 = 4 gates × 8 × (3×3×(2 + 8) + 1)"},
	{"ConvLSTM3D", `{"filters": 2, "kernel_size": 2, "use_bias": false}`, [][]int{{5, 4, 4, 4, 1}}, "= 4 gates × 2 × 2×2×2×(1 + 2)"},

	{"Dense", `{"units": 10}`, [][]int{{64}}, "Dense(10), input dim 64: kernel 64×10 + bias 10 = 650 = 10 × (64 + 1)"},
	{"EinsumDense", `{"equation": "abc,cde->abde", "output_shape": [null, 3, 4], "bias_axes": "de"}`, [][]int{{10, 32}}, "kernel 32×3×4 (cde) + bias 3×4 (de) = 396"},
	{"EinsumDense", `{"equation": "ab,bc->ac", "output_shape": 8, "lora_rank": 2}`, [][]int{{16}},
		"kernel 16×8 (bc) + lora kernel a 16×2 + lora kernel b 2×8 = 176, of which 128 non-trainable (the kernel LoRA freezes)"},

	{"Embedding", `{"input_dim": 1000, "output_dim": 16}`, [][]int{{5}}, "embeddings 1,000×16 = 16,000"},
	{"Embedding", `{"input_dim": 10, "output_dim": 4, "lora_rank": 2}`, [][]int{{5}}, "of which 40 non-trainable"},
	{"Masking", `{}`, [][]int{{5, 2}}, "no weights"},

	{"Add", `{}`, [][]int{{4}, {4}}, "no weights"},
	{"Average", `{}`, [][]int{{4}, {4}}, "no weights"},
	{"Concatenate", `{}`, [][]int{{4}, {3}}, "no weights"},
	{"Dot", `{"axes": 1}`, [][]int{{4}, {4}}, "no weights"},
	{"Maximum", `{}`, [][]int{{4}, {4}}, "no weights"},
	{"Merge", `{"mode": "concat", "concat_axis": -1}`, [][]int{{4}, {3}}, "no weights"},
	{"Minimum", `{}`, [][]int{{4}, {4}}, "no weights"},
	{"Multiply", `{}`, [][]int{{4}, {4}}, "no weights"},
	{"Subtract", `{}`, [][]int{{4}, {4}}, "no weights"},

	{"BatchNormalization", `{}`, [][]int{{8, 8, 64}},
		"BatchNormalization(axis -1), 64 features: gamma, beta, moving mean and moving variance: 4 × 64 = 256, of which 128 non-trainable (moving mean and variance)"},
	{"BatchNormalization", `{"axis": [1, 3], "renorm": true, "center": false}`, [][]int{{4, 5, 6}},
		"gamma, moving mean, moving variance, moving stddev, renorm mean and renorm stddev: 6 × 24 = 144, of which 120 non-trainable"},
	{"GroupNormalization", `{"groups": 4}`, [][]int{{16}}, "GroupNormalization(4 groups), 16 channels: gamma 16 + beta 16 = 32 = 2 × 16, per channel, not per group"},
	{"LayerNormalization", `{"axis": [1, 2]}`, [][]int{{4, 6}}, "gamma 4×6 + beta 4×6 = 48 = 2 × 24"},
	{"Normalization", `{"axis": -1}`, [][]int{{3}}, "mean 3 + variance 3 + count 1 = 7, all non-trainable"},
	{"Normalization", `{"axis": -1, "mean": 1.0, "variance": 2.0}`, [][]int{{3}}, "no weights"},
	{"RMSNormalization", `{}`, [][]int{{5, 8}}, "scale 8 = 8"},
	{"SyncBatchNormalization", `{}`, [][]int{{8}}, "4 × 8 = 32"},
	{"UnitNormalization", `{}`, [][]int{{8}}, "no weights"},

	{"AveragePooling1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"AveragePooling2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"AveragePooling3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"AvgPool1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"AvgPool2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"AvgPool3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"GlobalAveragePooling1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"GlobalAveragePooling2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"GlobalAveragePooling3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"GlobalAvgPool1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"GlobalAvgPool2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"GlobalAvgPool3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"GlobalMaxPool1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"GlobalMaxPool2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"GlobalMaxPool3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"GlobalMaxPooling1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"GlobalMaxPooling2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"GlobalMaxPooling3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"MaxPool1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"MaxPool2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"MaxPool3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"MaxPooling1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"MaxPooling2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"MaxPooling3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},

	{"LayerScale", `{"init_values": 1e-6, "projection_dim": 8}`, [][]int{{4, 4, 8}}, "gamma 8 = 8, one scale per channel"},
	{"StochasticDepth", `{"drop_path_rate": 0.1}`, [][]int{{4, 4, 8}}, "no weights"},
	{"CustomScaleLayer", `{"scale": 0.17}`, [][]int{{4, 4, 8}, {4, 4, 8}}, "no weights"},

	{"CenterCrop", `{"height": 2, "width": 2}`, [][]int{{4, 4, 3}}, "no weights"},
	{"Rescaling", `{"scale": 0.5}`, [][]int{{4}}, "no weights"},
	{"Resizing", `{"height": 2, "width": 2}`, [][]int{{4, 4, 3}}, "no weights"},

	{"Cropping1D", `{"cropping": 1}`, [][]int{{8, 3}}, "no weights"},
	{"Cropping2D", `{"cropping": 1}`, [][]int{{8, 8, 3}}, "no weights"},
	{"Cropping3D", `{"cropping": 1}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"Flatten", `{}`, [][]int{{4, 3}}, "no weights"},
	{"Permute", `{"dims": [2, 1]}`, [][]int{{4, 3}}, "no weights"},
	{"RepeatVector", `{"n": 3}`, [][]int{{4}}, "no weights"},
	{"Reshape", `{"target_shape": [2, 2]}`, [][]int{{4}}, "no weights"},
	{"UpSampling1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"UpSampling2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"UpSampling3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},
	{"ZeroPadding1D", `{}`, [][]int{{8, 3}}, "no weights"},
	{"ZeroPadding2D", `{}`, [][]int{{8, 8, 3}}, "no weights"},
	{"ZeroPadding3D", `{}`, [][]int{{4, 4, 4, 3}}, "no weights"},

	{"CuDNNGRU", `{"units": 3}`, [][]int{{5, 4}}, "bias 2×9 (input and recurrent biases in one vector) = 81 = 3 gates × 3 × (4 + 3 + 2)"},
	{"CuDNNLSTM", `{"units": 3}`, [][]int{{5, 4}}, "= 4 gates × 3 × (4 + 3 + 2)"},
	{"GRU", `{"units": 8, "reset_after": true}`, [][]int{{5, 4}}, "GRU(8), input dim 4: kernel 4×24 + recurrent kernel 8×24 + bias 2×24 (input and recurrent biases) = 336 = 3 gates × 8 × (4 + 8 + 2)"},
	{"GRU", `{"units": 8}`, [][]int{{5, 4}}, "bias 24 = 312 = 3 gates × 8 × (4 + 8 + 1)"},
	{"GRUCell", `{"units": 3, "reset_after": true}`, [][]int{{4}}, "= 3 gates × 3 × (4 + 3 + 2)"},
	{"LSTM", `{"units": 64}`, [][]int{{10, 128}}, "LSTM(64), input dim 128: kernel 128×256 + recurrent kernel 64×256 + bias 256 = 49,408 = 4 gates × 64 × (128 + 64 + 1)"},
	{"LSTM", `{"units": 2, "use_bias": false}`, [][]int{{10, 3}}, "kernel 3×8 + recurrent kernel 2×8 = 40 = 4 gates × 2 × (3 + 2)"},
	{"LSTMCell", `{"units": 3}`, [][]int{{4}}, "LSTMCell(3), input dim 4"},
	{"RNN", `{"cell": {"class_name": "LSTMCell", "config": {"units": 3}}}`, [][]int{{5, 4}}, "RNN(LSTMCell(3)), input dim 4"},
	{"RNN", `{"cell": [{"class_name": "SimpleRNNCell", "config": {"units": 4}}, {"class_name": "LSTMCell", "config": {"units": 8}}]}`, [][]int{{5, 3}},
		"RNN of 2 stacked cells: cell 1 SimpleRNNCell(4), input dim 3: kernel 3×4 + recurrent kernel 4×4 + bias 4 = 32 = 4 × (3 + 4 + 1); cell 2 LSTMCell(8), input dim 4: kernel 4×32 + recurrent kernel 8×32 + bias 32 = 416 = 4 gates × 8 × (4 + 8 + 1); 32 + 416 = 448"},
	{"SimpleRNN", `{"units": 2}`, [][]int{{3, 1}}, "SimpleRNN(2), input dim 1: kernel 1×2 + recurrent kernel 2×2 + bias 2 = 8 = 2 × (1 + 2 + 1)"},
	{"SimpleRNNCell", `{"units": 2}`, [][]int{{1}}, "= 8 = 2 × (1 + 2 + 1)"},
	{"StackedRNNCells", `{"cells": [{"class_name": "GRUCell", "config": {"units": 2}}, {"class_name": "GRUCell", "config": {"units": 3}}]}`, [][]int{{4}}, "StackedRNNCells of 2 cells: cell 1 GRUCell(2), input dim 4: kernel 4×6 + recurrent kernel 2×6 + bias 6 = 42 = 3 gates × 2 × (4 + 2 + 1); cell 2 GRUCell(3), input dim 2: kernel 2×9 + recurrent kernel 3×9 + bias 9 = 54 = 3 gates × 3 × (2 + 3 + 1); 42 + 54 = 96"},

	{"Bidirectional", `{"layer": {"class_name": "LSTM", "config": {"name": "f", "units": 64}}}`, [][]int{{10, 128}},
		"forward and backward LSTM(64), input dim 128: 2 × (kernel 128×256 + recurrent kernel 64×256 + bias 256) = 2 × 49,408 = 98,816"},
	{"Bidirectional", `{"layer": {"class_name": "LSTM", "config": {"name": "f", "units": 2}}, "backward_layer": {"class_name": "GRU", "config": {"name": "b", "units": 2, "go_backwards": true}}}`,
		[][]int{{10, 3}}, "forward LSTM(2), input dim 3: kernel 3×8 + recurrent kernel 2×8 + bias 8 = 48 = 4 gates × 2 × (3 + 2 + 1); backward GRU(2), input dim 3: kernel 3×6 + recurrent kernel 2×6 + bias 6 = 36 = 3 gates × 2 × (3 + 2 + 1); 48 + 36 = 84"},
	{"TimeDistributed", `{"layer": {"class_name": "Dense", "config": {"name": "d", "units": 3}}}`, [][]int{{5, 4}},
		"the same Dense(3), input dim 4, at every time step: kernel 4×3 + bias 3 = 15 = 3 × (4 + 1)"},
	{"TimeDistributed", `{"layer": {"class_name": "Flatten", "config": {"name": "d"}}}`, [][]int{{5, 4, 2}}, "no weights"},
}

// classModel writes a Functional model config that calls one layer on
// inputs of the given shapes.
func classModel(c classCase) []byte {
	var layers, inputs, refs []string
	for i, s := range c.inputs {
		shape, _ := json.Marshal(append([]any{nil}, anySlice(s)...))
		name := fmt.Sprintf("in%d", i)
		layers = append(layers, fmt.Sprintf(`{"class_name": "InputLayer", "name": %q, "config": {"name": %q, "batch_shape": %s}, "inbound_nodes": []}`, name, name, shape))
		inputs = append(inputs, fmt.Sprintf(`[%q, 0, 0]`, name))
		refs = append(refs, fmt.Sprintf(`[%q, 0, 0, {}]`, name))
	}
	cfg := strings.TrimSuffix(strings.TrimSpace(c.config), "}")
	if strings.TrimSpace(cfg) != "{" {
		cfg += ","
	}
	cfg += ` "name": "layer", "trainable": true}`
	layers = append(layers, fmt.Sprintf(`{"class_name": %q, "name": "layer", "config": %s, "inbound_nodes": [[%s]]}`,
		c.class, cfg, strings.Join(refs, ", ")))
	return fmt.Appendf(nil, `{"class_name": "Functional", "config": {"name": "m", "layers": [%s], "input_layers": [%s], "output_layers": [["layer", 0, 0]]}}`,
		strings.Join(layers, ", "), strings.Join(inputs, ", "))
}

func anySlice(s []int) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestExplainEveryClass explains a layer of every registered class and
// checks its formula, its total against Params(), and that it is the
// class's own.
func TestExplainEveryClass(t *testing.T) {
	sources := formulaSources{}
	covered := map[string]bool{}
	for _, c := range classCases {
		covered[c.class] = true
		m, err := keras.Decode(classModel(c))
		if err != nil {
			t.Errorf("%s %s: %v", c.class, c.config, err)
			continue
		}
		l := m.Layers[len(m.Layers)-1]
		e := l.Explain()
		sources.add(t, c.class+" "+c.config, e)
		if e.Total != l.Params() {
			t.Errorf("%s %s: explained %d parameters, Params() is %d", c.class, c.config, e.Total, l.Params())
		}
		if e.Source != keras.SourceFormula {
			t.Errorf("%s %s: source %s, want %s: %s", c.class, c.config, e.Source, keras.SourceFormula, e.Formula)
		}
		if !strings.Contains(e.Formula, c.want) {
			t.Errorf("%s %s:\n got %s\nwant it to contain %s", c.class, c.config, e.Formula, c.want)
		}
	}
	var missing []string
	for _, c := range keras.Classes() {
		if !covered[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no explain case for %s", strings.Join(missing, " "))
	}
	sources.check(t)
}

// TestExplainCorpus explains every layer of the real-world files: every
// total equals the layer's Params(), and every registered class has its
// own formula.
func TestExplainCorpus(t *testing.T) {
	entries := readCorpus(t)
	sources := formulaSources{}
	for _, e := range entries {
		if e.Format != "h5-full" && e.Format != "keras-zip" {
			continue
		}
		f, err := keras.Open(filepath.Join(corpusDir, e.Dir, e.File))
		if err != nil {
			continue // TestCorpusCLI says which files open
		}
		var walk func(layers []*keras.Layer)
		walk = func(layers []*keras.Layer) {
			for _, l := range layers {
				x := l.Explain()
				sources.add(t, e.File, x)
				if x.Total != l.Params() {
					t.Errorf("%s %q (%s): explained %d parameters, Params() is %d", e.File, l.Name, l.Class, x.Total, l.Params())
				}
				if l.WeightsFromFile && x.Source != keras.SourceFile {
					t.Errorf("%s %q (%s): weights from the file, source %s", e.File, l.Name, l.Class, x.Source)
				}
				if l.Model != nil {
					walk(l.Model.Layers)
				}
			}
		}
		walk(f.Model.Layers)
		f.Close()
	}
	sources.check(t)
}

// TestExplainCLI checks the command line around the explanation.
func TestExplainCLI(t *testing.T) {
	model := filepath.Join(modelsDir, "rnn_2units", "k3.keras")
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"missing file", []string{"explain"}, exitUsage},
		{"two files", []string{"explain", model, model}, exitUsage},
		{"unknown flag", []string{"explain", "--colour", model}, exitUsage},
		{"no such file", []string{"explain", "does-not-exist.h5"}, exitError},
		{"help", []string{"help", "explain"}, exitOK},
		{"flag help", []string{"explain", "--help"}, exitOK},
		{"summary json", []string{"summary", "--explain", "--json", model}, exitUsage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != tt.code {
				t.Errorf("run(%q) = %d, want %d; stderr %q", tt.args, code, tt.code, errb.String())
			}
		})
	}

	// summary --explain is the summary, a blank line, and the explanation.
	for _, args := range [][]string{{model}, {"--style", "keras2", model}} {
		var sum, exp, both, errb bytes.Buffer
		if run(append([]string{"summary"}, args...), &sum, &errb) != 0 ||
			run(append([]string{"summary", "--explain"}, args...), &both, &errb) != 0 ||
			run([]string{"explain", model}, &exp, &errb) != 0 {
			t.Fatal(errb.String())
		}
		want := sum.String() + "\n" + exp.String()
		if slices.Contains(args, "keras2") {
			// tf.keras's summary never counts the optimizer.
			want = strings.Replace(want, " + 24 optimizer = 35", " = 11", 1)
		}
		if both.String() != want {
			t.Errorf("summary --explain %q:\n%s\nwant\n%s", args, both.String(), want)
		}
	}
}
