package keras

import "github.com/tidwall/gjson"

// A Model is a decoded Keras model: its layers, the calls between them and
// the shapes and weights that follow from its config.
type Model struct {
	Name  string
	Class string // "Sequential", "Functional", "Model", or a custom class name
	// Layers lists the layers in the order Keras's model.layers gives them.
	// For a Sequential model it leaves out the InputLayer, as Keras does;
	// for a Functional model it includes the InputLayers.
	Layers []*Layer
	// Input is the InputLayer of a Sequential model, whether the config
	// names it or Keras would create it; nil for other models.
	Input *Layer
	// Inputs and Outputs are the model's input and output tensors.
	Inputs, Outputs []TensorRef
	// Trainable is false when the whole model was frozen.
	Trainable bool
	// Subclassed reports a model whose config has no layer graph: its
	// Layers are the groups of weights the file stores.
	Subclassed bool
}

// A Layer is one configured Keras layer.
type Layer struct {
	Name  string
	Class string
	// Trainable reports the layer's trainable flag; the weights of a frozen
	// layer count as non-trainable.
	Trainable bool
	// Nodes are the layer's calls within its model, in config order.
	Nodes []*Node
	// Weights lists the weights the layer's architecture implies, in the
	// order Keras stores them (trainable, then non-trainable). It is nil
	// until the layer has been built from its first call's input shapes.
	Weights []WeightSpec
	// Built reports whether Weights is known.
	Built bool
	// WeightsFromFile reports that Weights lists what the file stores for
	// the layer, because its config does not tell (an unknown class, or
	// an input of unknown shape).
	WeightsFromFile bool
	// Op reports a bare Keras 3 operation (keras.ops, such as the NotEqual
	// and Any that compute masks), which has no weights and no built state.
	Op bool
	// Model is the inner model of a model used as a layer; nil otherwise.
	Model *Model

	impl  layerKind
	dtype string // dtype of the weights the layer creates
	// stored is the group of the file's weights bound to the layer when
	// its weights came from the file.
	stored string
}

// A Node is one call of a layer: the tensors it consumed and the shapes of
// the tensors it produced.
type Node struct {
	Layer   *Layer
	Index   int // position in Layer.Nodes
	Inputs  []TensorRef
	Outputs []Shape // nil while unknown

	// inputHints are the input shapes Keras 3 recorded in the config,
	// parallel to Inputs (nil entries where it recorded none).
	inputHints []Shape
	// args names the keyword argument each input was passed in, parallel
	// to Inputs: "" for positional arguments, else "mask", "value", ...
	args []string
	// call is the node's entry in inbound_nodes, for the constant
	// arguments of operations (NotEqual(x, 0)).
	call gjson.Result
}

// A TensorRef names one output tensor of one call of a layer, as Keras's
// keras_history does: layer, node index, tensor index.
type TensorRef struct {
	Layer  *Layer
	Node   int
	Tensor int
}

// Shape returns the shape of the referenced tensor, or nil if it is unknown.
func (r TensorRef) Shape() Shape {
	if r.Layer == nil || r.Node >= len(r.Layer.Nodes) {
		return nil
	}
	n := r.Layer.Nodes[r.Node]
	if r.Tensor >= len(n.Outputs) {
		return nil
	}
	return n.Outputs[r.Tensor]
}

// A WeightSpec is one weight variable a layer's architecture implies.
type WeightSpec struct {
	Name      string // "kernel", "recurrent_kernel", "bias", ...
	Shape     Shape  // fully known
	Trainable bool
	DType     string // "float32" unless the layer's dtype policy says otherwise
}

// Params returns the number of elements of the layer's weights.
func (l *Layer) Params() int64 {
	var n int64
	for _, w := range l.Weights {
		s, _ := w.Shape.Size()
		n += s
	}
	return n
}

// OutputShapes returns the output shapes of the layer's last call, which is
// what Keras 3's summary shows, or nil when the layer was never called.
func (l *Layer) OutputShapes() []Shape {
	if len(l.Nodes) == 0 {
		return nil
	}
	return l.Nodes[len(l.Nodes)-1].Outputs
}

// dtypeSize gives the bytes per element of the dtypes weights are stored in.
var dtypeSize = map[string]int{
	"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8,
	"int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
	"int64": 8, "uint64": 8, "bool": 1,
}

// DTypeSize returns the bytes per element of a Keras dtype name, and 4 for a
// name it does not know (Keras's float32 default).
func DTypeSize(dtype string) int {
	if n, ok := dtypeSize[dtype]; ok {
		return n
	}
	return 4
}

// OutputGroups tells how tf-keras nests a call's outputs when it prints
// them: consecutive groups of the flat outputs, a group of several being a
// list of its own. Nil means flat.
func (l *Layer) OutputGroups() []int {
	if g, ok := l.impl.(interface{ outputGroups() []int }); ok {
		return g.outputGroups()
	}
	return nil
}
