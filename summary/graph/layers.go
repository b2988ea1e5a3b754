package graph

import (
	"strings"

	"github.com/kerascope/kerascope/keras"
	"github.com/tidwall/gjson"
)

// Options control the layer view.
type Options struct {
	RankDir string // "TB" (default) or "LR", as plot_model's rankdir
	// ExpandNested draws each nested model as a dashed cluster of its own
	// layers, as plot_model(expand_nested=True).
	ExpandNested bool
	// Config is the model config JSON the model was decoded from (the
	// File's Config); it gives the layers' activations. Nil leaves them out.
	Config []byte
}

// Layers draws m as keras.utils.plot_model(show_shapes=True,
// show_layer_names=True, show_layer_activations=True, show_trainable=True)
// does.
func Layers(m *keras.Model, opt Options) *Graph {
	g := newGraph(m.Name, orDefault(opt.RankDir, "TB"), false)
	lb := &layerBuilder{g: g, acts: activations(opt.Config, m), expand: opt.ExpandNested, edges: map[[2]string]bool{}}
	if m.Subclassed {
		// plot_model draws a subclassed model as a single box.
		g.addNode(&Node{ID: m.Name, Box: &LayerBox{Name: m.Name, Class: m.Class, OutputShape: "?"}})
		return g
	}
	lb.nodes(m, "", nil)
	lb.connect(m, "")
	return g
}

type layerBuilder struct {
	g      *Graph
	acts   map[*keras.Layer]string
	expand bool
	edges  map[[2]string]bool
}

// drawn lists the layers plot_model draws for a model: model.layers, which
// leaves out the InputLayer of a Sequential model, or the operations of a
// functional one, InputLayers included.
func drawn(m *keras.Model) []*keras.Layer { return m.Layers }

func (lb *layerBuilder) expands(l *keras.Layer) bool {
	return lb.expand && l.Model != nil && !l.Model.Subclassed
}

// nodes adds a box for each layer of m, or a cluster for each nested model
// to expand, inside parent (nil for the top level); prefix makes the IDs of
// nested layers unique.
func (lb *layerBuilder) nodes(m *keras.Model, prefix string, parent *Cluster) {
	for _, l := range drawn(m) {
		id := prefix + l.Name
		if lb.expands(l) {
			c := &Cluster{ID: id, Label: []string{l.Name}, Dashed: true}
			if parent == nil {
				lb.g.Clusters = append(lb.g.Clusters, c)
			} else {
				parent.Clusters = append(parent.Clusters, c)
			}
			lb.nodes(l.Model, id+"/", c)
			continue
		}
		box := &LayerBox{Name: l.Name, Class: l.Class, Activation: lb.acts[l]}
		if len(l.Nodes) > 0 {
			if l.Class != "InputLayer" {
				box.InputShape = refsShape(l.Nodes[0].Inputs)
			}
			box.OutputShape = shapesString(l.Nodes[0].Outputs, len(l.Nodes[0].Outputs))
		} else {
			box.OutputShape = "?"
			if l.Class != "InputLayer" {
				box.InputShape = "?"
			}
		}
		if len(l.Weights) > 0 {
			t := l.Trainable
			box.Trainable = &t
		}
		lb.g.addNode(&Node{ID: id, Box: box, Layer: l.Name})
		if parent != nil {
			parent.Nodes = append(parent.Nodes, id)
		}
	}
}

// connect adds an edge for each tensor each call of a layer of m consumes,
// as model_to_dot does: from the layer that made it to the layer that
// takes it, into and out of expanded nested models.
func (lb *layerBuilder) connect(m *keras.Model, prefix string) {
	depths := m.NodeDepths()
	for _, l := range drawn(m) {
		if lb.expands(l) {
			lb.connect(l.Model, prefix+l.Name+"/")
		}
		for _, n := range l.Nodes {
			if _, ok := depths[n]; !ok {
				continue // a call outside this model's graph
			}
			for i, in := range n.Inputs {
				if in.Layer == m.Input {
					continue // a Sequential model's InputLayer is not drawn
				}
				from := lb.source(in, prefix)
				to := lb.destination(l, i, prefix)
				key := [2]string{from, to}
				if from == "" || to == "" || lb.edges[key] || !lb.g.ids[from] || !lb.g.ids[to] {
					continue
				}
				lb.edges[key] = true
				lb.g.Edges = append(lb.g.Edges, &Edge{From: from, To: to, Kind: Connection})
			}
		}
	}
}

// source is the box that made tensor r: the layer, or inside an expanded
// nested model the layer that makes the model's output.
func (lb *layerBuilder) source(r keras.TensorRef, prefix string) string {
	for lb.expands(r.Layer) {
		inner := r.Layer.Model
		if r.Tensor >= len(inner.Outputs) {
			return ""
		}
		prefix += r.Layer.Name + "/"
		r = inner.Outputs[r.Tensor]
	}
	return prefix + r.Layer.Name
}

// destination is the box that takes input i of layer l: the layer, or
// inside an expanded nested model its i-th InputLayer (functional) or its
// first layer (Sequential, whose InputLayer is not drawn).
func (lb *layerBuilder) destination(l *keras.Layer, i int, prefix string) string {
	for lb.expands(l) {
		inner := l.Model
		prefix += l.Name + "/"
		switch {
		case inner.Class == "Sequential" && len(inner.Layers) > 0:
			l = inner.Layers[0]
		case inner.Class != "Sequential" && i < len(inner.Inputs):
			l = inner.Inputs[i].Layer
		default:
			return ""
		}
	}
	return prefix + l.Name
}

// refsShape formats the shapes of tensors as plot_model prints
// layer.input: a tuple for one tensor, a list of tuples for several.
func refsShape(refs []keras.TensorRef) string {
	shapes := make([]keras.Shape, len(refs))
	for i, r := range refs {
		shapes[i] = r.Shape()
	}
	return shapesString(shapes, len(refs))
}

func shapesString(shapes []keras.Shape, n int) string {
	if n == 0 || len(shapes) < n {
		return "?"
	}
	parts := make([]string, n)
	for i, s := range shapes[:n] {
		parts[i] = "?"
		if s != nil {
			parts[i] = s.Tuple()
		}
	}
	if n == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// activations reads each layer's activation from the model config, which
// the keras package does not keep: plot_model shows it for every layer
// that has an activation attribute, i.e. whose config names one. Layers
// are matched by name, model by model, since names are unique within a
// model.
func activations(config []byte, m *keras.Model) map[*keras.Layer]string {
	acts := map[*keras.Layer]string{}
	if len(config) == 0 || !gjson.ValidBytes(config) {
		return acts
	}
	var walk func(m *keras.Model, obj gjson.Result, depth int)
	walk = func(m *keras.Model, obj gjson.Result, depth int) {
		if depth > 32 {
			return
		}
		cfg := obj.Get("config")
		list := cfg.Get("layers")
		if cfg.IsArray() { // Keras 1: a Sequential config is the list
			list = cfg
		}
		byName := map[string]gjson.Result{}
		for _, e := range list.Array() {
			name := e.Get("name")
			if name.Type != gjson.String {
				name = e.Get("config.name")
			}
			byName[name.String()] = e
		}
		for _, l := range m.Layers {
			e, ok := byName[l.Name]
			switch {
			case !ok:
			case l.Model != nil:
				walk(l.Model, e, depth+1)
			default:
				if a := activationName(e.Get("config.activation")); a != "" {
					acts[l] = a
				}
			}
		}
	}
	walk(m, gjson.ParseBytes(config), 0)
	return acts
}

// activationName names a serialized activation: a string, a Keras 3
// function object {"class_name": "function", "config": "relu"} or a layer
// object; null is Keras's default, linear.
func activationName(r gjson.Result) string {
	switch {
	case !r.Exists():
		return ""
	case r.Type == gjson.Null:
		return "linear"
	case r.Type == gjson.String:
		return r.Str
	case r.Get("config").Type == gjson.String:
		return r.Get("config").Str
	case r.Get("class_name").Type == gjson.String:
		return r.Get("class_name").Str
	}
	return ""
}
