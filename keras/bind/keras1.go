package bind

import (
	"fmt"
	"strconv"

	"github.com/kerascope/kerascope/keras/store"
	"github.com/kerascope/kerascope/keras/tensor"
)

// Keras 1 stored some layers' weights in layouts of their own, which Keras
// 2's loader converted (preprocess_weights_for_loading, in tf_keras's
// saving/legacy/hdf5_format.py, for files whose weights group records no
// keras_version):
//
//   - Theano-ordered ("th") convolution kernels as (filters, channels,
//     *kernel), and channels-last Deconvolution2D kernels with their last
//     two axes swapped: one transposition each;
//   - Convolution1D kernels as (length, 1, channels, filters);
//   - LSTM and GRU weights one (W, U, b) triple per gate, LSTM's gates in
//     the order i, c, f, o where Keras 2 keeps i, f, c, o.
//
// Keras 2.3 also flipped the kernels of models trained with Theano (which
// convolves where TensorFlow correlates) when the file records backend
// "theano"; tf.keras never did. Files without a backend are read as both
// did, unflipped; those that record Theano are refused.

// A Keras1 tells how Keras 1 laid out a layer's weights, where that differs
// from the layout since Keras 2; the zero value: as since.
type Keras1 struct {
	// Perm transposes the first weight (the kernel): axis i of the weight
	// is axis Perm[i] of the stored tensor, after DropAxis.
	Perm []int
	// DropAxis, when Drop is set, removes that axis, of length 1, from the
	// stored kernel first.
	DropAxis int
	Drop     bool
	// Gates, for a recurrent layer stored per gate, lists for each gate of
	// the weights the stored gate it comes from; the file stores a
	// (kernel, recurrent kernel, bias) triple per gate.
	Gates []int
}

// Zero reports the layout since Keras 2.
func (k Keras1) Zero() bool { return k.Perm == nil && !k.Drop && k.Gates == nil }

// A part of a weight that Keras 1 stored in pieces: the stored tensors,
// concatenated along their last axis, then reshaped and transposed.
type keras1Weight struct {
	parts []Var
	drop  int // axis to remove, -1 for none
	perm  []int
}

// bindKeras1 binds a layer whose stored weights have the architecture's
// elements but not its shapes, by its Keras 1 layout. It reports false,
// with a finding, when the layer has none kerascope converts.
func (b *Binding) bindKeras1(bd *Bound, backend string) bool {
	l, got := bd.Layer, bd.Group.Vars
	k := l.Keras1
	if k.Zero() {
		b.add(Keras1Layout, l, "", "weights stored in Keras 1's layout (%d tensors for %d), which kerascope does not convert for this layer", len(got), len(l.Weights))
		return false
	}
	if backend == "theano" && (k.Perm != nil || k.Drop) {
		b.add(Keras1Layout, l, "", "kernels trained with Theano, which convolves where TensorFlow correlates; Keras 2.3 flipped them and tf.keras does not, so kerascope does not guess")
		return false
	}
	var ws []keras1Weight
	if k.Gates != nil {
		// (kernel, recurrent kernel, bias) per gate, or without bias.
		per := len(got) / len(k.Gates)
		if per*len(k.Gates) != len(got) || per != len(l.Weights) {
			b.add(Keras1Layout, l, "", "%d tensors stored in Keras 1's layout do not divide into %d gates of %d weights", len(got), len(k.Gates), len(l.Weights))
			return false
		}
		for w := range per {
			var parts []Var
			for _, g := range k.Gates {
				parts = append(parts, got[g*per+w])
			}
			ws = append(ws, keras1Weight{parts: parts, drop: -1})
		}
	} else {
		if len(got) != len(l.Weights) {
			b.add(Keras1Layout, l, "", "weights stored in Keras 1's layout (%d tensors for %d)", len(got), len(l.Weights))
			return false
		}
		for i, v := range got {
			w := keras1Weight{parts: []Var{v}, drop: -1}
			if i == 0 {
				w.perm = k.Perm
				if k.Drop {
					w.drop = k.DropAxis
				}
			}
			ws = append(ws, w)
		}
	}
	bd.Weights = make([]Weight, len(ws))
	nm := names(l)
	for i, w := range ws {
		shape, err := w.shape()
		if err == nil && !equal(shape, l.Weights[i].Shape) {
			err = fmt.Errorf("converts to shape %s, want %s", tensor.ShapeString(shape), tensor.ShapeString(l.Weights[i].Shape))
		}
		if err != nil {
			b.add(ShapeMismatch, l, w.parts[0].Path, "stored in Keras 1's layout, %v", err)
			bd.Weights = nil
			return false
		}
		bd.Weights[i] = Weight{Name: nm[i], Var: w.parts[0], Trainable: l.Weights[i].Trainable && l.Trainable,
			Want: l.Weights[i], keras1: &ws[i]}
	}
	return true
}

// shape returns the shape of the weight the parts make.
func (w keras1Weight) shape() ([]int, error) {
	s := append([]int(nil), w.parts[0].Shape...)
	if len(s) == 0 {
		return nil, fmt.Errorf("a scalar")
	}
	for _, p := range w.parts[1:] {
		if len(p.Shape) != len(s) || !equal(p.Shape[:len(s)-1], s[:len(s)-1]) {
			return nil, fmt.Errorf("parts of shapes %s and %s do not join", tensor.ShapeString(w.parts[0].Shape), tensor.ShapeString(p.Shape))
		}
		s[len(s)-1] += p.Shape[len(s)-1]
	}
	if w.drop >= 0 {
		if w.drop >= len(s) || s[w.drop] != 1 {
			return nil, fmt.Errorf("axis %d of %s is not 1", w.drop, tensor.ShapeString(s))
		}
		s = append(s[:w.drop:w.drop], s[w.drop+1:]...)
	}
	if w.perm != nil {
		if len(w.perm) != len(s) {
			return nil, fmt.Errorf("a %d-dimensional kernel, want %d", len(s), len(w.perm))
		}
		t := make([]int, len(s))
		for i, p := range w.perm {
			t[i] = s[p]
		}
		s = t
	}
	return s, nil
}

// read reads the parts and makes the weight of them.
func (w keras1Weight) read(s store.Store) ([]float32, error) {
	if _, err := w.shape(); err != nil {
		return nil, err
	}
	var data []float32
	var cols []int
	for _, p := range w.parts {
		d, err := s.ReadFloat32(p.Path, p.Shape)
		if err != nil {
			return nil, err
		}
		if len(w.parts) == 1 {
			data = d
			break
		}
		data = append(data, d...)
		cols = append(cols, p.Shape[len(p.Shape)-1])
	}
	if len(w.parts) > 1 {
		data = joinLast(data, cols)
	}
	if w.perm != nil {
		dims := append([]int(nil), w.parts[0].Shape...)
		if w.drop >= 0 {
			dims = append(dims[:w.drop:w.drop], dims[w.drop+1:]...)
		}
		data = transpose(data, dims, w.perm)
	}
	return data, nil
}

// joinLast concatenates along the last axis arrays stored one after the
// other in data, each with cols[i] columns and the same rows.
func joinLast(data []float32, cols []int) []float32 {
	total := 0
	for _, c := range cols {
		total += c
	}
	rows := len(data) / total
	out := make([]float32, len(data))
	off, start := 0, 0
	for _, c := range cols {
		for r := range rows {
			copy(out[r*total+off:r*total+off+c], data[start+r*c:start+(r+1)*c])
		}
		off += c
		start += rows * c
	}
	return out
}

// transpose returns data, of the row-major shape dims, with its axes
// permuted: axis i of the result is axis perm[i] of data.
func transpose(data []float32, dims, perm []int) []float32 {
	n := len(dims)
	strides := make([]int, n)
	st := 1
	for i := n - 1; i >= 0; i-- {
		strides[i] = st
		st *= dims[i]
	}
	outDims := make([]int, n)
	outStrides := make([]int, n) // stride in data of each result axis
	for i, p := range perm {
		outDims[i] = dims[p]
		outStrides[i] = strides[p]
	}
	out := make([]float32, len(data))
	idx := make([]int, n)
	src := 0
	for i := range out {
		out[i] = data[src]
		for a := n - 1; a >= 0; a-- {
			idx[a]++
			src += outStrides[a]
			if idx[a] < outDims[a] {
				break
			}
			src -= outStrides[a] * idx[a]
			idx[a] = 0
		}
	}
	return out
}

// gateName names gate g of a recurrent layer's weights by the letter Keras
// uses for it.
func gateName(gates, g int) string {
	switch gates {
	case 4:
		return string("ifco"[g])
	case 3:
		return string("zrh"[g])
	}
	return strconv.Itoa(g)
}
