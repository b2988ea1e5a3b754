package keras

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
// Masking keeps its input and has no weights.
//
// Keys used: input_dim, output_dim, input_length, lora_rank, mask_value
// (checked only). Ignored: mask_zero (masks do not change shapes),
// initializers, regularizers, constraints, lora_alpha, sparse.

type embedding struct {
	inputDim, outputDim int
	loraRank            int
}

func newEmbedding(d *decoder) (layerKind, error) {
	l := &embedding{
		inputDim:  d.int(0, "input_dim"),
		outputDim: d.int(0, "output_dim"),
		loraRank:  d.int(0, "lora_rank"),
	}
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

func newMasking(d *decoder) (layerKind, error) {
	scalar(d, 0, "mask_value")
	return elementwise{}, nil
}

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
