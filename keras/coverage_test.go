package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// requiredClasses are the built-in layer classes the summary must handle
// (issue 3), each of which some fixture made by real Keras must contain.
var requiredClasses = strings.Fields(`
	InputLayer Dense EinsumDense Activation Dropout SpatialDropout1D
	SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout AlphaDropout
	ActivityRegularization Flatten Reshape Permute RepeatVector Embedding Masking
	SimpleRNN LSTM GRU RNN StackedRNNCells Bidirectional TimeDistributed
	ConvLSTM1D ConvLSTM2D Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose
	Conv3DTranspose DepthwiseConv1D DepthwiseConv2D SeparableConv1D
	SeparableConv2D MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D
	AveragePooling2D AveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D
	GlobalMaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D
	GlobalAveragePooling3D BatchNormalization LayerNormalization
	GroupNormalization UnitNormalization Normalization Rescaling Resizing
	CenterCrop ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D Cropping2D
	Cropping3D UpSampling1D UpSampling2D UpSampling3D Add Subtract Multiply
	Average Maximum Minimum Concatenate Dot ReLU LeakyReLU PReLU ELU Softmax
	ThresholdedReLU MultiHeadAttention Attention AdditiveAttention`)

// legacyClasses exist only in files from old Keras versions, which today's
// Keras cannot write: the real-file corpus covers those it holds.
var legacyClasses = strings.Fields(`CuDNNLSTM CuDNNGRU Convolution1D Convolution2D Merge`)

// TestFixtureCoverage reports which classes each fixture covers and fails
// when a required class has no fixture or is missing from the registry.
func TestFixtureCoverage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Models map[string]struct {
			Files map[string]struct {
				Covers []string `json:"covers"`
			} `json:"files"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	covered := map[string][]string{}
	for _, name := range sortedKeys(man.Models) {
		for _, file := range sortedKeys(man.Models[name].Files) {
			classes := man.Models[name].Files[file].Covers
			t.Logf("%s/%s covers %s", name, file, strings.Join(classes, " "))
			for _, c := range classes {
				covered[c] = append(covered[c], name+"/"+file)
			}
		}
	}
	// The article models predate the covers field: their classes are known.
	for _, c := range []string{"InputLayer", "SimpleRNN", "Dense"} {
		covered[c] = append(covered[c], "rnn_*")
	}
	var missing, unregistered []string
	for _, c := range requiredClasses {
		if len(covered[c]) == 0 {
			missing = append(missing, c)
		}
		if _, ok := registry[c]; !ok && c != "InputLayer" {
			unregistered = append(unregistered, c)
		}
	}
	for _, c := range legacyClasses {
		if _, ok := registry[c]; !ok {
			unregistered = append(unregistered, c)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no fixture covers %s", strings.Join(missing, ", "))
	}
	if len(unregistered) > 0 {
		t.Errorf("not in the registry: %s", strings.Join(unregistered, ", "))
	}
}
