package keras

import (
	"fmt"
	"math"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

// The attention layers' forward passes (decoding, shapes and weights are
// in attention.go).
//
// MultiHeadAttention projects query, key and value with EinsumDense
// equations, scales the query by 1/√key_dim, takes per head the softmax of
// query·keyᵀ over the attention axes (masked positions set 1e9 lower) and
// the weighted sum of values, and projects the heads back. The mask
// combines the query's, value's and key's Keras masks, the attention_mask
// argument, use_causal_mask and Keras 3's sliding_window, as
// _compute_attention_mask does; the query's mask passes on.
//
// Attention (Luong) and AdditiveAttention (Bahdanau) score query against
// key (dot product, optionally scaled, or Keras 3's concat mode; the sum
// of scale·tanh(q + k)), mask the value's padding and, with causal
// masking, later steps, and zero the output at the query's padding.

// callOption reads a constant argument of the call, such as
// use_causal_mask, from the node's config: Keras 3 records it in kwargs,
// Keras 2 as the fourth element of each inbound tensor.
func callOption(c *call, name string) gjson.Result {
	if c.node == nil {
		return gjson.Result{}
	}
	call := c.node.call
	if kw := call.Get("kwargs"); kw.IsObject() {
		return kw.Get(gjsonKey(name))
	}
	if call.IsArray() {
		for _, t := range call.Array() {
			if arr := t.Array(); len(arr) >= 4 && arr[3].IsObject() {
				if r := arr[3].Get(gjsonKey(name)); r.Exists() {
					return r
				}
			}
		}
	}
	return gjson.Result{}
}

// gjsonKey escapes gjson's path syntax in a literal key.
func gjsonKey(k string) string {
	var b []byte
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '.', '*', '?', '#', '@', '|', '\\':
			b = append(b, '\\')
		}
		b = append(b, k[i])
	}
	return string(b)
}

// callFlag reads a boolean call argument, false when absent.
func callFlag(c *call, name string) bool { return callOption(c, name).Bool() }

// argTensor returns the tensor given positionally at i or by keyword
// name, and its mask; nil when neither.
func argTensor(c *call, i int, name string) (*Tensor, mask) {
	if i < len(c.in) {
		var m mask
		if i < len(c.masks) {
			m = c.masks[i]
		}
		return c.in[i], m
	}
	if ts := c.kwargs[name]; len(ts) > 0 {
		var m mask
		if ms := c.kwargMasks[name]; len(ms) > 0 {
			m = ms[0]
		}
		return ts[0], m
	}
	return nil, nil
}

// explicitMask returns a mask passed by keyword (Keras 3's value_mask...),
// else m.
func explicitMask(c *call, name string, m mask) mask {
	if ts := c.kwargs[name]; len(ts) > 0 {
		return tensorMask(ts[0])
	}
	return m
}

func (l *multiHeadAttention) sublayers() []string {
	return []string{"query_dense", "key_dense", "gate_dense", "value_dense", "output_dense"}
}

func (l *multiHeadAttention) passesMask() bool { return true }

func (l *multiHeadAttention) cannotRun() string {
	if l.slidingWindow < 0 {
		return "its sliding_window is not a positive integer"
	}
	return ""
}

// project applies one of the EinsumDense sublayers: x's free dimensions
// through its last to out dimensions, plus the bias.
func project(x *Tensor, w []*Tensor, useBias bool, bound, outDims int, activation string, c *call) (*Tensor, []*Tensor, error) {
	need := 1
	if useBias {
		need = 2
	}
	if len(w) < need {
		return nil, nil, fmt.Errorf("missing projection weights")
	}
	eq, _, _ := projEquation(len(x.Shape)-bound, bound, outDims)
	p, err := eq.plan(len(x.Shape))
	if err != nil {
		return nil, nil, err
	}
	out, err := p.einsum(x, w[0])
	if err != nil {
		return nil, nil, err
	}
	if useBias {
		if err := addBias(out, w[1]); err != nil {
			return nil, nil, err
		}
	}
	if err := c.activate(activation, out); err != nil {
		return nil, nil, err
	}
	return out, w[need:], nil
}

func (l *multiHeadAttention) forward(c *call) error {
	q, qMask := argTensor(c, 0, "query")
	v, vMask := argTensor(c, 1, "value")
	k, kMask := argTensor(c, 2, "key")
	if q == nil || v == nil {
		return fmt.Errorf("called without a query and a value")
	}
	if k == nil || k == v {
		// Keras ignores the key's mask when the key is the value.
		k, kMask = v, nil
	}
	qMask = explicitMask(c, "query_mask", qMask)
	vMask = explicitMask(c, "value_mask", vMask)
	kMask = explicitMask(c, "key_mask", kMask)
	if len(q.Shape) < 3 || len(v.Shape) != len(q.Shape) || len(k.Shape) != len(q.Shape) {
		return fmt.Errorf("query, value and key of shapes %s, %s and %s: want one rank of at least 3", shapeString(q.Shape), shapeString(v.Shape), shapeString(k.Shape))
	}
	rank := len(q.Shape) // the projections have rank+1: (B, ..., heads, dim)
	// Attention axes, of the input: Keras 3 counts negative ones from
	// the end of the input's shape.
	attn := l.attentionAxes
	if attn == nil {
		for a := 1; a < rank-1; a++ {
			attn = append(attn, a)
		}
	}
	attn = slices.Clone(attn)
	for i, a := range attn {
		if a < 0 {
			a += rank
		}
		if a < 1 || a >= rank-1 || slices.Contains(attn[:i], a) {
			return fmt.Errorf("attention_axes %v do not fit inputs of rank %d", l.attentionAxes, rank)
		}
		attn[i] = a
	}
	slices.Sort(attn)
	var batchAxes []int
	for a := 1; a < rank-1; a++ {
		if !slices.Contains(attn, a) {
			batchAxes = append(batchAxes, a)
		}
	}
	for _, a := range batchAxes {
		if v.Shape[a] != q.Shape[a] || k.Shape[a] != q.Shape[a] {
			return fmt.Errorf("query, value and key of shapes %s, %s and %s differ on axis %d, which is not an attention axis", shapeString(q.Shape), shapeString(v.Shape), shapeString(k.Shape), a)
		}
	}
	for a := 0; a < rank-1; a++ {
		if k.Shape[a] != v.Shape[a] || (a == 0 && q.Shape[0] != v.Shape[0]) {
			return fmt.Errorf("value and key of shapes %s and %s differ before the last dimension", shapeString(v.Shape), shapeString(k.Shape))
		}
	}
	w := c.w
	var gate *Tensor
	qp, w, err := project(q, w, l.useBias, 1, 2, "", c)
	if err != nil {
		return fmt.Errorf("query projection: %w", err)
	}
	kp, w, err := project(k, w, l.useBias, 1, 2, "", c)
	if err != nil {
		return fmt.Errorf("key projection: %w", err)
	}
	if l.useGate {
		if gate, w, err = project(q, w, l.useBias, 1, 2, "sigmoid", c); err != nil {
			return fmt.Errorf("gate projection: %w", err)
		}
	}
	vp, w, err := project(v, w, l.useBias, 1, 2, "", c)
	if err != nil {
		return fmt.Errorf("value projection: %w", err)
	}
	tq := shapeLen(permuted(q.Shape, attn))
	tk := shapeLen(permuted(k.Shape, attn))
	bg := shapeLen(permuted(q.Shape, batchAxes)) // batch groups per sample
	nb := q.Shape[0] * bg
	if len(qp.Data) != nb*tq*l.heads*l.keyDim || len(kp.Data) != nb*tk*l.heads*l.keyDim || len(vp.Data) != nb*tk*l.heads*l.valueDim {
		return fmt.Errorf("projections of shapes %s, %s and %s do not fit %d heads of %d and %d values", shapeString(qp.Shape), shapeString(kp.Shape), shapeString(vp.Shape), l.heads, l.keyDim, l.valueDim)
	}
	scale := float32(1 / math.Sqrt(float64(l.keyDim)))
	for i := range qp.Data {
		qp.Data[i] *= scale
	}
	keep, kg, err := l.attentionMask(c, q.Shape[0], qMask, vMask, kMask, tq, tk, bg, len(attn))
	if err != nil {
		return err
	}
	wantScores := callFlag(c, "return_attention_scores")
	outShape := append(slices.Clone(q.Shape[:rank-1]), l.heads, l.valueDim)
	var data, scores []float32
	if len(batchAxes) == 0 {
		data, scores = l.attendInPlace(qp.Data, kp.Data, vp.Data, q.Shape[0], tq, tk, keep, wantScores, c.net.legacy)
	} else {
		data, scores = l.attendTransposed(qp, kp, vp, rank, attn, batchAxes, outShape, tq, tk, bg, keep, kg, c.net.legacy)
	}
	heads := &Tensor{Shape: outShape, Data: data}
	if gate != nil {
		if len(gate.Data) != len(heads.Data) {
			return fmt.Errorf("gate of shape %s does not fit attention output %s", shapeString(gate.Shape), shapeString(outShape))
		}
		for i, g := range gate.Data {
			heads.Data[i] *= g
		}
	}
	out, _, err := project(heads, w, l.useBias, 2, len(l.outputLast(Shape(q.Shape))), "", c)
	if err != nil {
		return fmt.Errorf("output projection: %w", err)
	}
	c.out = []*Tensor{out}
	if wantScores {
		// Scores are (B, batch axes, heads, query axes, key axes).
		shape := []int{q.Shape[0]}
		shape = append(shape, permuted(q.Shape, batchAxes)...)
		shape = append(shape, l.heads)
		shape = append(shape, permuted(q.Shape, attn)...)
		shape = append(shape, permuted(k.Shape, attn)...)
		c.out = append(c.out, &Tensor{Shape: shape, Data: scores})
		c.outMasks = []mask{qMask, nil}
	} else {
		c.outMasks = []mask{qMask}
	}
	return nil
}

// attendInPlace computes every head's attention when the attention axes
// are all the axes between batch and features: the projections are then
// (B, positions, heads, dim), and each head's matrices are read in place
// with a row stride of heads·dim, and its output written the same way, so
// that no projection is transposed. One head's scores at a time live in a
// buffer of tq×tk, unless all are returned (allScores).
func (l *multiHeadAttention) attendInPlace(q, k, v []float32, b, tq, tk int, keep []bool, allScores, legacy bool) (out, scores []float32) {
	h, dk, dv := l.heads, l.keyDim, l.valueDim
	per := tq * tk
	out = make([]float32, b*tq*h*dv)
	var buf []float32
	if allScores {
		scores = make([]float32, b*h*per)
	} else {
		buf = make([]float32, per)
	}
	for s := 0; s < b; s++ {
		for hd := 0; hd < h; hd++ {
			sc := buf
			if allScores {
				sc = scores[(s*h+hd)*per : (s*h+hd+1)*per]
			}
			kernel.Gemm(false, true, tq, tk, dk, q[s*tq*h*dk+hd*dk:], h*dk, k[s*tk*h*dk+hd*dk:], h*dk, sc, tk, false)
			if keep != nil {
				maskScores(sc, keep[s*per:(s+1)*per], legacy)
			}
			if tk > 0 {
				kernel.FastSoftmax(sc, tk)
			}
			kernel.Gemm(false, false, tq, dv, tk, sc, tk, v[s*tk*h*dv+hd*dv:], h*dv, out[s*tq*h*dv+hd*dv:], h*dv, false)
		}
	}
	return out, scores
}

// attendTransposed computes the attention for any attention axes: the
// projections are laid out as (B, batch axes, heads, attention axes, dim),
// one matrix per group of the first three, and the heads' outputs are
// transposed back to outShape, (B, ..., heads, value_dim).
func (l *multiHeadAttention) attendTransposed(qp, kp, vp *Tensor, rank int, attn, batchAxes []int, outShape []int, tq, tk, bg int, keep []bool, kg int, legacy bool) (out, scores []float32) {
	perm := []int{0}
	perm = append(perm, batchAxes...)
	perm = append(perm, rank-1)
	perm = append(perm, attn...)
	perm = append(perm, rank)
	groups := qp.Shape[0] * bg * l.heads
	qd, _ := transposed(qp.Data, qp.Shape, perm)
	kd, _ := transposed(kp.Data, kp.Shape, perm)
	vd, _ := transposed(vp.Data, vp.Shape, perm)
	scores = make([]float32, groups*tq*tk)
	for g := 0; g < groups; g++ {
		kernel.MatMulTransB(scores[g*tq*tk:(g+1)*tq*tk], qd[g*tq*l.keyDim:(g+1)*tq*l.keyDim], kd[g*tk*l.keyDim:(g+1)*tk*l.keyDim], tq, l.keyDim, tk, false)
	}
	if keep != nil {
		// keep is (B, kg, Tq, Tk): kg is bg or 1; the heads share it.
		for g := 0; g < groups; g++ {
			s, sub := g/(bg*l.heads), g%(bg*l.heads)/l.heads
			if kg == 1 {
				sub = 0
			}
			off := (s*kg + sub) * tq * tk
			maskScores(scores[g*tq*tk:(g+1)*tq*tk], keep[off:off+tq*tk], legacy)
		}
	}
	if tk > 0 {
		kernel.FastSoftmax(scores, tk)
	}
	attnOut := make([]float32, groups*tq*l.valueDim)
	for g := 0; g < groups; g++ {
		kernel.MatMul(attnOut[g*tq*l.valueDim:(g+1)*tq*l.valueDim], scores[g*tq*tk:(g+1)*tq*tk], vd[g*tk*l.valueDim:(g+1)*tk*l.valueDim], tq, tk, l.valueDim, false)
	}
	// Back to (B, ..., heads, value_dim).
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	out, _ = transposed(attnOut, permuted(outShape, perm), inv)
	return out, scores
}

// attentionMask combines MultiHeadAttention's masks into one flag per
// (sample, batch group, query position, key position), where batch groups
// count the positions along non-attention axes and are 1 unless an
// explicit attention_mask depends on them: nil when nothing is masked.
// Keras's own mask arithmetic only makes sense for the input masks and the
// causal and sliding-window masks when the attention axes are all the
// axes between batch and features (and, for the last two, one axis), so
// other combinations are refused.
func (l *multiHeadAttention) attentionMask(c *call, b int, qMask, vMask, kMask mask, tq, tk, bg int, attnAxes int) ([]bool, int, error) {
	causal := callFlag(c, "use_causal_mask")
	explicit := c.kwarg("attention_mask")
	if qMask == nil && vMask == nil && kMask == nil && !causal && l.slidingWindow == 0 && len(explicit) == 0 {
		return nil, 0, nil
	}
	if bg > 1 && (qMask != nil || vMask != nil || kMask != nil || causal || l.slidingWindow > 0) {
		return nil, 0, fmt.Errorf("masks with attention_axes that leave other axes are not supported")
	}
	if attnAxes > 1 && (causal || l.slidingWindow > 0) {
		return nil, 0, fmt.Errorf("causal or sliding-window masks over several attention axes are not supported")
	}
	groups := 1
	if len(explicit) > 0 && bg > 1 {
		groups = bg
	}
	keep := make([]bool, b*groups*tq*tk)
	for i := range keep {
		keep[i] = true
	}
	for _, m := range []struct {
		m     mask
		query bool
	}{{qMask, true}, {vMask, false}, {kMask, false}} {
		if m.m == nil {
			continue
		}
		n := tk
		if m.query {
			n = tq
		}
		if len(m.m) != b*n {
			return nil, 0, fmt.Errorf("a mask of %d values does not fit %d samples of %d positions", len(m.m), b, n)
		}
		for s := 0; s < b; s++ {
			for i := 0; i < tq; i++ {
				for j := 0; j < tk; j++ {
					p := i
					if !m.query {
						p = j
					}
					if !m.m[s*n+p] {
						keep[(s*tq+i)*tk+j] = false
					}
				}
			}
		}
	}
	if causal || l.slidingWindow > 0 {
		for s := 0; s < b; s++ {
			for i := 0; i < tq; i++ {
				for j := 0; j < tk; j++ {
					if (causal && j > i) || (l.slidingWindow > 0 && (i-j >= l.slidingWindow || j-i >= l.slidingWindow)) {
						keep[(s*tq+i)*tk+j] = false
					}
				}
			}
		}
	}
	if len(explicit) > 0 {
		m := explicit[0].Data
		switch per := tq * tk; len(m) {
		case len(keep):
			for i, v := range m {
				keep[i] = keep[i] && v != 0
			}
		case per: // one mask for every sample
			for p := range keep {
				keep[p] = keep[p] && m[p%per] != 0
			}
		default:
			return nil, 0, fmt.Errorf("attention_mask of shape %s does not fit %d query and %d key positions", shapeString(explicit[0].Shape), tq, tk)
		}
	}
	return keep, groups, nil
}

// maskScores lowers the masked scores before a softmax: Keras 3's Softmax
// replaces them with -1e9, tf.keras's adds -1e9.
func maskScores(scores []float32, keep []bool, legacy bool) {
	for i, k := range keep {
		if k {
			continue
		}
		if legacy {
			scores[i] += -1e9
		} else {
			scores[i] = -1e9
		}
	}
}

func (l *dotAttention) forward(c *call) error {
	if len(c.in) != 2 && len(c.in) != 3 {
		return fmt.Errorf("called on %d inputs, want [query, value] or [query, value, key]", len(c.in))
	}
	q, v := c.in[0], c.in[1]
	k := v
	if len(c.in) == 3 {
		k = c.in[2]
	}
	var qMask, vMask mask
	if len(c.masks) > 0 {
		qMask = c.masks[0]
	}
	if len(c.masks) > 1 {
		vMask = c.masks[1]
	}
	if len(q.Shape) != 3 || len(v.Shape) != 3 || len(k.Shape) != 3 {
		return fmt.Errorf("query, value and key of shapes %s, %s and %s: want rank 3", shapeString(q.Shape), shapeString(v.Shape), shapeString(k.Shape))
	}
	b, tq, dim := q.Shape[0], q.Shape[1], q.Shape[2]
	tv, dv := v.Shape[1], v.Shape[2]
	if k.Shape[0] != b || v.Shape[0] != b || k.Shape[1] != tv || k.Shape[2] != dim {
		return fmt.Errorf("query, value and key of shapes %s, %s and %s do not fit", shapeString(q.Shape), shapeString(v.Shape), shapeString(k.Shape))
	}
	w := c.w
	var scale []float32
	if l.useScale {
		scale, w = w[0].Data, w[1:]
		if want := map[bool]int{true: dim, false: 1}[l.additive]; len(scale) != want {
			return fmt.Errorf("scale has %d values, want %d", len(scale), want)
		}
	}
	scores := make([]float32, b*tq*tv)
	switch {
	case l.additive || l.concat:
		// sum over features of s·tanh(q + k): AdditiveAttention's scale
		// multiplies outside the tanh, Attention's concat mode inside.
		var weight float32 = 1
		if l.concat {
			weight = w[0].Data[0]
		}
		for s := 0; s < b; s++ {
			for i := 0; i < tq; i++ {
				qr := q.Data[(s*tq+i)*dim:][:dim]
				for j := 0; j < tv; j++ {
					kr := k.Data[(s*tv+j)*dim:][:dim]
					var sum float32
					for f := range dim {
						x := qr[f] + kr[f]
						switch {
						case l.additive && scale != nil:
							sum += scale[f] * float32(math.Tanh(float64(x)))
						case !l.additive && scale != nil:
							sum += float32(math.Tanh(float64(scale[0] * x)))
						default:
							sum += float32(math.Tanh(float64(x)))
						}
					}
					scores[(s*tq+i)*tv+j] = weight * sum
				}
			}
		}
	default:
		for s := 0; s < b; s++ {
			kernel.MatMulTransB(scores[s*tq*tv:(s+1)*tq*tv], q.Data[s*tq*dim:(s+1)*tq*dim], k.Data[s*tv*dim:(s+1)*tv*dim], tq, dim, tv, false)
		}
		if scale != nil {
			for i := range scores {
				scores[i] *= scale[0]
			}
		}
	}
	causal := l.causal || callFlag(c, "use_causal_mask")
	if vMask != nil && len(vMask) != b*tv {
		return fmt.Errorf("value mask of %d values does not fit value shape %s", len(vMask), shapeString(v.Shape))
	}
	if vMask != nil || causal {
		for s := 0; s < b; s++ {
			for i := 0; i < tq; i++ {
				for j := 0; j < tv; j++ {
					if (vMask != nil && !vMask[s*tv+j]) || (causal && j > i) {
						scores[(s*tq+i)*tv+j] -= 1e9
					}
				}
			}
		}
	}
	if tv > 0 {
		kernel.Softmax(scores, b*tq, tv, 1)
	}
	out := c.ar.tensor(b, tq, dv)
	for s := 0; s < b; s++ {
		kernel.MatMul(out.Data[s*tq*dv:(s+1)*tq*dv], scores[s*tq*tv:(s+1)*tq*tv], v.Data[s*tv*dv:(s+1)*tv*dv], tq, tv, dv, false)
	}
	if qMask != nil {
		if len(qMask) != b*tq {
			return fmt.Errorf("query mask of %d values does not fit query shape %s", len(qMask), shapeString(q.Shape))
		}
		for i, keep := range qMask {
			if !keep {
				clear(out.Data[i*dv : (i+1)*dv])
			}
		}
	}
	c.out = []*Tensor{out}
	c.outMasks = []mask{qMask}
	if callFlag(c, "return_attention_scores") {
		c.out = append(c.out, &Tensor{Shape: []int{b, tq, tv}, Data: scores})
		c.outMasks = append(c.outMasks, nil)
	}
	return nil
}
