package keras

import (
	"fmt"
	"math"
)

// Embedding and Masking (keras/src/layers/core/embedding.py and
// masking.py; tf_keras layers/core/embedding.py and masking.py; Keras 1
// layers/embeddings.py and core.py).
//
// Embedding looks up integer indices: (batch, ...) -> (batch, ...,
// output_dim). Weights: embeddings (input_dim, output_dim); with Keras 3's
// lora_rank r, embeddings turns non-trainable and lora_embeddings_a
// (input_dim, r) and lora_embeddings_b (r, output_dim) follow, in float32.
// Keras 1 and 2's input_length only sets the input shape of a model's first
// layer, which the graph reads; the output shape follows the input's, as
// the lookup op's does, so it is only checked here.
//
// Masking keeps its input's shape and has no weights; its forward pass
// zeroes the steps whose features all equal mask_value and masks them.
//
// Keys used: input_dim, output_dim, input_length, lora_rank, lora_alpha,
// mask_zero, mask_value. Ignored: initializers, regularizers, constraints,
// sparse.

type embedding struct {
	inputDim, outputDim int
	loraRank            int
	loraAlpha           float64 // defaults to the rank: a scale of 1
	maskZero            bool
}

func newEmbedding(d *decoder) (layerKind, error) {
	l := &embedding{
		inputDim:  d.int(0, "input_dim"),
		outputDim: d.int(0, "output_dim"),
		loraRank:  d.int(0, "lora_rank"),
		maskZero:  d.boolean(false, "mask_zero"),
	}
	l.loraAlpha = d.float(float64(l.loraRank), "lora_alpha")
	readAxes(d, nil, "input_length")
	for _, v := range []struct {
		key string
		n   int
	}{{"input_dim", l.inputDim}, {"output_dim", l.outputDim}} {
		if d.err == nil && v.n <= 0 {
			d.fail(v.key, "got %d, want a positive integer", v.n)
		}
	}
	if d.err == nil && l.loraRank < 0 {
		d.fail("lora_rank", "got %d, want a positive integer", l.loraRank)
	}
	return l, nil
}

func (l *embedding) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	w := []WeightSpec{{Name: "embeddings", Shape: Shape{l.inputDim, l.outputDim}, Trainable: l.loraRank == 0}}
	if l.loraRank > 0 {
		w = append(w,
			WeightSpec{Name: "lora_embeddings_a", Shape: Shape{l.inputDim, l.loraRank}, Trainable: true, DType: "float32"},
			WeightSpec{Name: "lora_embeddings_b", Shape: Shape{l.loraRank, l.outputDim}, Trainable: true, DType: "float32"})
	}
	return w, nil
}

func (l *embedding) outputShapes(in []Shape) ([]Shape, error) {
	if len(in[0]) == 0 {
		return nil, formatErrorf("input shape %s has no batch dimension", in[0])
	}
	if len(in[0]) >= maxRank {
		return nil, formatErrorf("input shape %s: rank %d leaves no room for the embedding", in[0], len(in[0]))
	}
	return []Shape{append(in[0].Clone(), l.outputDim)}, nil
}

// masking is the Masking layer.
type masking struct{ value float32 }

func newMasking(d *decoder) (layerKind, error) {
	return masking{value: float32(scalar(d, 0, "mask_value"))}, nil
}

func (masking) build([]Shape) ([]WeightSpec, error)       { return nil, nil }
func (masking) outputShapes(in []Shape) ([]Shape, error)  { return sameShape(in) }
func (masking) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

// explain: one vector of output_dim values per token id; with LoRA, the
// table is frozen and two low-rank factors learn its update.
func (l *embedding) explain(class string, in []Shape) (*formula, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	head := class + "(" + num(l.inputDim) + ", " + num(l.outputDim) + ")"
	table := newTerm("embeddings", l.loraRank == 0, l.inputDim, l.outputDim)
	if l.loraRank == 0 {
		terms := []Term{table}
		return &formula{
			head:  head,
			body:  equation(terms) + ", a vector of " + num(l.outputDim) + " values for each of " + num(l.inputDim) + " token ids",
			terms: terms,
		}, nil
	}
	terms := []Term{
		table,
		newTerm("lora embeddings a", true, l.inputDim, l.loraRank),
		newTerm("lora embeddings b", true, l.loraRank, l.outputDim),
	}
	return &formula{
		head:  head + ", lora_rank " + num(l.loraRank),
		body:  equation(terms) + ", of which " + num(table.Count) + " non-trainable (the embeddings LoRA freezes)",
		terms: terms,
	}, nil
}

// forward looks up each id's row. Ids come as float32 values and are
// truncated to integers, as Keras's cast to int32 does; an id outside the
// table is an error, as TensorFlow's lookup on the CPU is. With LoRA the
// row is embeddings[id] + (lora_alpha / lora_rank)·a[id]·b.
func (l *embedding) forward(c *call) error {
	x := c.in[0]
	n, dim := l.inputDim, l.outputDim
	table := c.w[0]
	if table == nil || len(table.Data) != n*dim {
		return fmt.Errorf("embeddings hold the wrong number of values, want %d×%d", n, dim)
	}
	var a, b []float32
	var scale float32
	if l.loraRank > 0 {
		r := l.loraRank
		if len(c.w) < 3 || c.w[1] == nil || c.w[2] == nil || len(c.w[1].Data) != n*r || len(c.w[2].Data) != r*dim {
			return fmt.Errorf("LoRA weights missing or of the wrong size, want %d×%d and %d×%d", n, r, r, dim)
		}
		a, b = c.w[1].Data, c.w[2].Data
		scale = float32(l.loraAlpha / float64(r))
	}
	out := c.ar.tensor(append(append([]int(nil), x.Shape...), dim)...)
	for i, v := range x.Data {
		id := math.Trunc(float64(v))
		if !(id >= 0 && id < float64(n)) {
			return fmt.Errorf("input %s: id %v at position %d is not in [0, %d)", shapeString(x.Shape), v, i, n)
		}
		row := out.Data[i*dim : (i+1)*dim]
		k := int(id)
		copy(row, table.Data[k*dim:(k+1)*dim])
		if a != nil {
			r := l.loraRank
			for j := range row {
				var s float32
				for q := 0; q < r; q++ {
					s += a[k*r+q] * b[q*dim+j]
				}
				row[j] += scale * s
			}
		}
	}
	c.out = []*Tensor{out}
	// mask_zero: id 0 is padding. Otherwise Embedding drops any mask.
	c.outMasks = []mask{nil}
	if l.maskZero {
		m := make(mask, len(x.Data))
		for i, v := range x.Data {
			m[i] = v != 0
		}
		c.outMasks[0] = m
	}
	return nil
}

// forward: a step (the last axis) is masked when all its values equal
// mask_value; masked steps become zeros, and the mask is the layer's own,
// whatever mask came in.
func (l masking) forward(c *call) error {
	x := c.in[0]
	if len(x.Shape) < 2 {
		return fmt.Errorf("input shape %s, want (batch, ..., features)", shapeString(x.Shape))
	}
	out := NewTensor(x.Shape...)
	rows, n := rows(x)
	m := make(mask, maskSize(x.Shape))
	for r := 0; r < rows; r++ {
		src := x.Data[r*n : (r+1)*n]
		for _, v := range src {
			if v != l.value {
				m[r] = true
				break
			}
		}
		if m[r] {
			copy(out.Data[r*n:(r+1)*n], src)
		}
	}
	c.out = []*Tensor{out}
	c.outMasks = []mask{m}
	return nil
}
