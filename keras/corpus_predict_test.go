package keras

import (
	"errors"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusPredict runs every real-world model of the corpus that has an
// architecture: it either refuses at Load, naming only layers that cannot
// run natively by nature or by a documented limit, or predicts a batch of
// two samples with outputs of the declared shapes, all finite. No Python
// output exists for these files (the corpus is never loaded with Keras), so
// this checks robustness on files people really saved, not numbers.
func TestCorpusPredict(t *testing.T) {
	ran, refused := 0, 0
	for _, e := range readCorpus(t) {
		if e.Format != "h5-full" && e.Format != "keras-zip" {
			continue
		}
		t.Run(e.File, func(t *testing.T) {
			net, err := Load(filepath.Join(corpusDir, e.Dir, e.File))
			var nr *NotRunnableError
			if errors.As(err, &nr) {
				refused++
				t.Log(err)
				for _, l := range nr.Layers {
					if !corpusExpectsRefusal(e, l) {
						t.Errorf("layer %q (%s) refused: %s", l.Name, l.Class, l.Reason)
					}
				}
				return
			}
			if err != nil {
				if strings.Contains(e.Notes, "DUPLICATE zip member") {
					refused++ // the corpus's hostile archive: refused, never unpickled
					return
				}
				t.Fatal(err)
			}
			rng := rand.New(rand.NewSource(1))
			var in []*Tensor
			for _, p := range net.Inputs() {
				shape := make([]int, len(p.Shape))
				for i, d := range p.Shape {
					switch {
					case i == 0:
						shape[i] = 2
					case d < 0:
						shape[i] = 8 // a free length: a short sequence
					default:
						shape[i] = d
					}
				}
				x := NewTensor(shape...)
				for i := range x.Data {
					x.Data[i] = rng.Float32() // ids truncate to 0 for an Embedding
				}
				in = append(in, x)
			}
			out, err := net.Predict(in...)
			if err != nil {
				t.Fatal(err)
			}
			ran++
			for i, o := range out {
				if want := net.Outputs()[i].Shape; !fits(o.Shape, want) {
					t.Errorf("output %d: shape %v, the model declares %s", i, o.Shape, want)
				}
				for j, v := range o.Data {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Errorf("output %d: value %d is %v", i, j, v)
						break
					}
				}
			}
		})
	}
	t.Logf("%d corpus models predicted, %d refused", ran, refused)
}

// corpusExpectsRefusal reports whether a layer's refusal is explained: by
// the corpus manifest (a Lambda layer; a custom class, listed as
// "Name(module=...)" or "TOP:Name" for a subclassed model), or by the
// documented limit on Keras 1 Theano-ordered kernels.
func corpusExpectsRefusal(e corpusEntry, l NotRunnable) bool {
	switch l.Class {
	case "Lambda":
		return len(e.LambdaLayers) > 0
	case "TFOpLambda", "SlicingOpLambda":
		// Only ops outside kerascope's vocabulary, which it names.
		return strings.Contains(l.Reason, "has no native implementation")
	}
	for _, c := range e.CustomClasses {
		c = strings.TrimPrefix(c, "TOP:")
		if i := strings.IndexByte(c, '('); i >= 0 {
			c = c[:i]
		}
		if c == l.Class {
			return true
		}
	}
	return false
}
