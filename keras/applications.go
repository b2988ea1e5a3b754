package keras

import "fmt"

// The layer classes that keras.applications defines for itself rather than
// keras.layers, as Keras 3.15 (keras/src/applications/convnext.py) and
// tf_keras 2.21 (tf_keras/src/applications/convnext.py) write them:
//
//	LayerScale       ConvNeXt: x * gamma, gamma of shape (projection_dim,)
//	                 broadcast along the last axis; config init_values
//	                 (gamma's starting value only) and projection_dim
//	StochasticDepth  ConvNeXt with drop_path_rate > 0: drops residual
//	                 paths in training only, so an identity in predict;
//	                 config drop_path_rate
//	CustomScaleLayer InceptionResNetV2 (inception_resnet_v2.py, both):
//	                 called on [x, r], gives x + r * scale in float32
//	                 (the product rounded before the sum); config scale
//
// All are saved under their bare names ("LayerScale"); neither
// Keras can load a file holding them without the applications module's
// custom_objects, but kerascope knows them natively.

// registeredNames maps the names under which tf_keras's
// register_keras_serializable() (package "Custom") saves an applications
// class to the class: tf_keras 2.21 writes InceptionResNetV2's
// CustomScaleLayer as "Custom>CustomScaleLayer".
var registeredNames = map[string]string{
	"Custom>CustomScaleLayer": "CustomScaleLayer",
}

// layerScale multiplies its input by one learned value per channel.
type layerScale struct{ dim int }

func newLayerScale(d *decoder) (layerKind, error) {
	l := &layerScale{dim: d.int(0, "projection_dim")}
	if d.err == nil && l.dim <= 0 {
		d.fail("projection_dim", "got %d, want a positive integer", l.dim)
	}
	return l, nil
}

func (l *layerScale) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	// Keras 3 creates gamma with add_weight and no name ("variable");
	// tf_keras as a bare tf.Variable ("Variable").
	return []WeightSpec{{Name: "variable", Shape: Shape{l.dim}, Trainable: true}}, nil
}

func (l *layerScale) outputShapes(in []Shape) ([]Shape, error) { return sameShape(in) }

func (l *layerScale) explain(class string, in []Shape) (*formula, error) {
	terms := []Term{newTerm("gamma", true, l.dim)}
	return &formula{head: class, body: equation(terms) + ", one scale per channel", terms: terms}, nil
}

func (l *layerScale) forward(c *call) error {
	x, err := oneInput(c, 1, -1)
	if err != nil {
		return err
	}
	g := c.w[0].Data
	if len(x.Shape) == 0 || x.Shape[len(x.Shape)-1] != len(g) {
		return fmt.Errorf("input shape %s does not fit gamma of %d values along its last axis", shapeString(x.Shape), len(g))
	}
	out := c.ar.tensor(x.Shape...)
	for i := 0; i < len(x.Data); i += len(g) {
		row, dst := x.Data[i:i+len(g)], out.Data[i:i+len(g)]
		for j, v := range row {
			dst[j] = v * g[j]
		}
	}
	c.out = []*Tensor{out}
	return nil
}

// customScale is InceptionResNetV2's residual sum x + r·scale.
type customScale struct{ scale float32 }

func newCustomScaleLayer(d *decoder) (layerKind, error) {
	return &customScale{scale: float32(scalar(d, 0, "scale"))}, nil
}

func (l *customScale) build(in []Shape) ([]WeightSpec, error) { return nil, wantInputs(in, 2) }

func (l *customScale) outputShapes(in []Shape) ([]Shape, error) {
	if err := wantInputs(in, 2); err != nil {
		return nil, err
	}
	return []Shape{in[0].Clone()}, nil
}

func (l *customScale) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }

func (l *customScale) forward(c *call) error {
	if len(c.in) != 2 {
		return fmt.Errorf("called on %d tensors, want 2", len(c.in))
	}
	x, r := c.in[0], c.in[1]
	if shapeString(x.Shape) != shapeString(r.Shape) {
		return fmt.Errorf("shapes %s and %s differ", shapeString(x.Shape), shapeString(r.Shape))
	}
	out := c.ar.tensor(x.Shape...)
	for i, v := range x.Data {
		// The conversion rounds the product, as TensorFlow's separate
		// Mul and AddV2 do, and keeps the compiler from fusing them.
		out.Data[i] = v + float32(r.Data[i]*l.scale)
	}
	c.out = []*Tensor{out}
	return nil
}

// newStochasticDepth: an identity outside training. Keras accepts any
// drop_path_rate here; it is read only to reject what is not a number.
func newStochasticDepth(d *decoder) (layerKind, error) {
	scalar(d, 0, "drop_path_rate")
	return passThrough{}, nil
}

// nameUnnamedVariables names LayerScale's weight as the Keras that saved
// the file names it on loading: tf_keras's bare tf.Variable is
// "Variable"; Keras 3 numbers every unnamed variable of a process
// ("variable", "variable_1", ...), which for a freshly loaded model
// follows the order its layers are built in, the config's order.
func nameUnnamedVariables(m *Model, keras3 bool) {
	n := 0
	var walk func(m *Model)
	walk = func(m *Model) {
		for _, l := range m.Layers {
			if l.Model != nil {
				walk(l.Model)
				continue
			}
			if _, ok := l.impl.(*layerScale); !ok || len(l.Weights) != 1 {
				continue
			}
			switch {
			case !keras3:
				l.Weights[0].Name = "Variable"
			case n == 0:
				l.Weights[0].Name = "variable"
			default:
				l.Weights[0].Name = fmt.Sprintf("variable_%d", n)
			}
			n++
		}
	}
	walk(m)
}
