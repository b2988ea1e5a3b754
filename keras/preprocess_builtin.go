package keras

import "github.com/tidwall/gjson"

// The built-in Keras layers kerascope reads (summary, check, weights) but
// does not run. They are Keras's own classes, listed by
// keras.layers in Keras 3.15 and tf_keras.layers in 2.21, so a refusal
// must not call them custom: it says what keeps them from running.

// stringPreprocessing lists Keras's built-in preprocessing layers whose
// work is on strings or on lookup and hash tables, which kerascope's float
// tensors cannot carry. The value says what is missing.
var stringPreprocessing = map[string]string{
	"TextVectorization": "string inputs",
	"StringLookup":      "string inputs",
	"Hashing":           "string inputs and FarmHash hashing",
	"HashedCrossing":    "string inputs and FarmHash hashing",
	"IntegerLookup":     "vocabulary lookup tables",
}

// builtinNotRun lists the other built-in layer classes kerascope has no
// forward pass for yet.
var builtinNotRun = map[string]bool{
	"AdaptiveAveragePooling1D": true, "AdaptiveAveragePooling2D": true, "AdaptiveAveragePooling3D": true,
	"AdaptiveMaxPooling1D": true, "AdaptiveMaxPooling2D": true, "AdaptiveMaxPooling3D": true,
	"AugMix": true, "AutoContrast": true, "CategoryEncoding": true,
	"ContrastLimitedAdaptiveHistogramEqualization": true, "CutMix": true,
	"DenseFeatures": true, "Discretization": true, "Equalization": true,
	"GroupQueryAttention": true, "LocallyConnected1D": true, "LocallyConnected2D": true,
	"MaxNumBoundingBoxes": true, "MelSpectrogram": true, "MixUp": true, "Pipeline": true,
	"RandAugment": true, "RandomBrightness": true, "RandomColorDegeneration": true,
	"RandomColorJitter": true, "RandomContrast": true, "RandomCrop": true,
	"RandomElasticTransform": true, "RandomErasing": true, "RandomFlip": true,
	"RandomGaussianBlur": true, "RandomGrayscale": true, "RandomHeight": true, "RandomHue": true,
	"RandomInvert": true, "RandomPerspective": true, "RandomPosterization": true,
	"RandomRotation": true, "RandomSaturation": true, "RandomSharpness": true,
	"RandomShear": true, "RandomTranslation": true, "RandomWidth": true, "RandomZoom": true,
	"ReversibleEmbedding": true, "STFTSpectrogram": true, "Solarization": true,
	"SpectralNormalization": true,
}

// BuiltinNotRunReason says why a built-in Keras layer class that kerascope
// does not run cannot run, or "" when class is not one of them (a class
// kerascope runs, or one Keras does not have).
func BuiltinNotRunReason(class string) string {
	if what, ok := stringPreprocessing[class]; ok {
		return "a built-in preprocessing layer; not supported for prediction yet: " + what
	}
	if builtinNotRun[class] {
		return "a built-in Keras layer; not supported for prediction yet"
	}
	return ""
}

// stringLayer gives the string preprocessing layers their output shapes
// (tf_keras's files record none; Keras 3's record every tensor's), so
// that summary and check work on them. They create no weights: their
// vocabularies are assets, not variables. Shapes as Keras computes them
// (keras/src/layers/preprocessing/{text_vectorization,index_lookup,
// hashing}.py, and tf_keras's): with output_mode "int", TextVectorization
// gives (batch, output_sequence_length), the lookups and Hashing keep
// their input's shape; other modes depend on the vocabulary's size and
// stay unknown.
type stringLayer struct {
	class  string
	mode   string
	seqLen int // TextVectorization's output_sequence_length, -1 for None
}

// newStringLayer returns the kind of a string preprocessing layer, or nil
// for any other class.
func newStringLayer(class string, d *decoder) layerKind {
	if _, ok := stringPreprocessing[class]; !ok || class == "HashedCrossing" {
		return nil
	}
	l := &stringLayer{class: class, mode: d.str("int", "output_mode"), seqLen: -1}
	if r, _ := d.lookup("output_sequence_length"); r.Type == gjson.Number {
		l.seqLen = int(r.Int())
	}
	return l
}

func (l *stringLayer) build(in []Shape) ([]WeightSpec, error) { return nil, wantInputs(in, 1) }

func (l *stringLayer) outputShapes(in []Shape) ([]Shape, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if l.mode != "int" || len(in[0]) == 0 {
		return nil, nil
	}
	if l.class == "TextVectorization" {
		return []Shape{{in[0][0], l.seqLen}}, nil
	}
	return []Shape{in[0].Clone()}, nil
}

func (l *stringLayer) explain(string, []Shape) (*formula, error) {
	if l.class == "Hashing" {
		return noWeights(""), nil
	}
	return noWeights("its vocabulary is stored as an asset, not as weights"), nil
}

func (l *stringLayer) cannotRun() string { return BuiltinNotRunReason(l.class) }
