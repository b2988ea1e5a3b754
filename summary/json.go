package summary

import (
	"encoding/json"
	"io"

	"github.com/kerascope/kerascope/keras"
)

// JSONSchema names the version of the document WriteJSON writes. Fields are
// only ever added under the same version.
const JSONSchema = "kerascope.summary/v1"

// A Document is the machine-readable summary WriteJSON writes: the same
// information as the table, for scripts and CI.
type Document struct {
	Schema       string     `json:"schema"`
	File         string     `json:"file,omitempty"`
	Format       string     `json:"format,omitempty"`
	KerasVersion string     `json:"keras_version,omitempty"`
	Backend      string     `json:"backend,omitempty"`
	Model        JSONModel  `json:"model"`
	Params       JSONParams `json:"params"`
}

// JSONModel is a model, or a nested model inside a layer.
type JSONModel struct {
	Name    string      `json:"name"`
	Class   string      `json:"class"`
	Inputs  []JSONRef   `json:"inputs"`
	Outputs []JSONRef   `json:"outputs"`
	Layers  []JSONLayer `json:"layers"`
}

// JSONLayer is one layer. OutputShapes holds the shapes of the layer's
// last call (null dimensions are None; null shapes are unknown); Inbound
// lists, for each call, the tensors it consumed.
type JSONLayer struct {
	Name               string       `json:"name"`
	Class              string       `json:"class"`
	OutputShapes       [][]*int     `json:"output_shapes"`
	Params             int64        `json:"params"`
	TrainableParams    int64        `json:"trainable_params"`
	NonTrainableParams int64        `json:"non_trainable_params"`
	Trainable          bool         `json:"trainable"`
	Built              bool         `json:"built"`
	WeightsFromFile    bool         `json:"weights_from_file,omitempty"`
	Inbound            [][]JSONRef  `json:"inbound"`
	Weights            []JSONWeight `json:"weights"`
	Model              *JSONModel   `json:"model,omitempty"`
}

// JSONRef names a tensor: the output Tensor of call Node of Layer. The
// model's inputs and outputs also give the tensor's shape.
type JSONRef struct {
	Layer  string `json:"layer"`
	Node   int    `json:"node"`
	Tensor int    `json:"tensor"`
	Shape  []*int `json:"shape,omitempty"`
}

// JSONWeight is one weight variable.
type JSONWeight struct {
	Name      string `json:"name"`
	Shape     []int  `json:"shape"`
	DType     string `json:"dtype"`
	Trainable bool   `json:"trainable"`
}

// JSONParams are the totals under Keras's table; Optimizer is present when
// the file holds a built optimizer's state.
type JSONParams struct {
	Total             int64  `json:"total"`
	Trainable         int64  `json:"trainable"`
	NonTrainable      int64  `json:"non_trainable"`
	Optimizer         *int64 `json:"optimizer,omitempty"`
	TotalBytes        int64  `json:"total_bytes"`
	TrainableBytes    int64  `json:"trainable_bytes"`
	NonTrainableBytes int64  `json:"non_trainable_bytes"`
	OptimizerBytes    *int64 `json:"optimizer_bytes,omitempty"`
}

// NewDocument describes m; the caller fills in the file fields.
func NewDocument(m *keras.Model, optimizer []keras.StoredVar) *Document {
	t := countTotals(m, optimizer)
	d := &Document{Schema: JSONSchema, Model: jsonModel(m, m.Trainable)}
	d.Params = JSONParams{
		Total:             t.trainable + t.nonTrainable + t.optimizer,
		Trainable:         t.trainable,
		NonTrainable:      t.nonTrainable,
		TotalBytes:        t.trainableBytes + t.nonTrainableBytes + t.optimBytes,
		TrainableBytes:    t.trainableBytes,
		NonTrainableBytes: t.nonTrainableBytes,
	}
	if optimizer != nil {
		d.Params.Optimizer, d.Params.OptimizerBytes = &t.optimizer, &t.optimBytes
	}
	return d
}

// WriteJSON writes d, indented, with a final newline.
func WriteJSON(w io.Writer, d *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func jsonModel(m *keras.Model, trainable bool) JSONModel {
	jm := JSONModel{
		Name:    m.Name,
		Class:   m.Class,
		Inputs:  jsonRefs(m.Inputs, true),
		Outputs: jsonRefs(m.Outputs, true),
		Layers:  make([]JSONLayer, 0, len(m.Layers)),
	}
	for _, l := range m.Layers {
		jl := JSONLayer{
			Name:            l.Name,
			Class:           l.Class,
			Params:          l.Params(),
			Trainable:       l.Trainable,
			Built:           l.Built,
			WeightsFromFile: l.WeightsFromFile,
			Inbound:         make([][]JSONRef, 0, len(l.Nodes)),
			Weights:         make([]JSONWeight, 0, len(l.Weights)),
		}
		if shapes := l.OutputShapes(); shapes != nil {
			for _, s := range shapes {
				jl.OutputShapes = append(jl.OutputShapes, jsonShape(s))
			}
		}
		for _, n := range l.Nodes {
			jl.Inbound = append(jl.Inbound, jsonRefs(n.Inputs, false))
		}
		for _, w := range l.Weights {
			size, _ := w.Shape.Size()
			tr := w.Trainable && l.Trainable && trainable
			if tr {
				jl.TrainableParams += size
			} else {
				jl.NonTrainableParams += size
			}
			jl.Weights = append(jl.Weights, JSONWeight{Name: w.Name, Shape: w.Shape, DType: w.DType, Trainable: tr})
		}
		if l.Model != nil {
			inner := jsonModel(l.Model, trainable && l.Trainable && l.Model.Trainable)
			jl.Model = &inner
		}
		jm.Layers = append(jm.Layers, jl)
	}
	return jm
}

func jsonRefs(refs []keras.TensorRef, withShape bool) []JSONRef {
	out := make([]JSONRef, len(refs))
	for i, r := range refs {
		out[i] = JSONRef{Layer: r.Layer.Name, Node: r.Node, Tensor: r.Tensor}
		if s := r.Shape(); withShape && s != nil {
			out[i].Shape = jsonShape(s)
		}
	}
	return out
}

func jsonShape(s keras.Shape) []*int {
	out := make([]*int, len(s))
	for i, d := range s {
		if d >= 0 {
			v := d
			out[i] = &v
		}
	}
	return out
}
