package keras

import (
	"fmt"
	"strings"

	"github.com/kerascope/kerascope/keras/store"
	"github.com/tidwall/gjson"
)

// Limits on what a config may ask for, so that a hostile file cannot make
// decoding allocate or recurse without bound.
const (
	// MaxConfigBytes bounds the model config JSON.
	MaxConfigBytes = store.MaxConfigBytes
	maxLayers      = 100_000
	maxNesting     = 32
)

// Decode decodes a model config: the JSON document Keras stores as the
// model_config attribute of a legacy .h5 file, or as config.json in a .keras
// archive. It accepts every dialect Keras has written: Keras 3 (with
// module, registered_name and __keras_tensor__ nodes), Keras 2 / tf.keras
// (nested-list inbound_nodes, batch_input_shape) and Keras 1 (a Sequential
// config that is a bare list of layers).
func Decode(config []byte) (*Model, error) {
	if len(config) > MaxConfigBytes {
		return nil, formatErrorf("model config is %d bytes, more than the %d this tool reads", len(config), MaxConfigBytes)
	}
	if !gjson.ValidBytes(config) {
		return nil, formatErrorf("model config is not valid JSON")
	}
	root := gjson.ParseBytes(config)
	if !root.IsObject() {
		return nil, formatErrorf("model config is %s, want a JSON object", jsonKind(root))
	}
	return decodeModel(root, 0)
}

// decodeModel decodes a serialized model object {"class_name", "config"}.
func decodeModel(obj gjson.Result, depth int) (*Model, error) {
	if depth > maxNesting {
		return nil, formatErrorf("models nested more than %d deep", maxNesting)
	}
	class := obj.Get("class_name")
	if class.Type != gjson.String {
		return nil, formatErrorf("model config has no class_name")
	}
	cfg := obj.Get("config")
	switch {
	case class.Str == "Sequential":
		return decodeSequential(cfg, obj.Get("build_config"), depth)
	case cfg.IsObject() && cfg.Get("layers").IsArray() && cfg.Get("input_layers").Exists():
		return decodeFunctional(class.Str, cfg, depth)
	}
	return nil, &errSubclassed{class: class.Str}
}

func jsonKind(r gjson.Result) string {
	switch {
	case r.IsArray():
		return "a list"
	case r.IsObject():
		return "an object"
	case r.Type == gjson.String:
		return "a string"
	case r.Type == gjson.Number:
		return "a number"
	case r.Type == gjson.Null:
		return "null"
	}
	return "a boolean"
}

// layerEntry is one element of a config's "layers" list, before the graph
// is wired.
type layerEntry struct {
	class string
	name  string
	cfg   gjson.Result
	obj   gjson.Result
}

func readLayerEntry(obj gjson.Result, i int) (layerEntry, error) {
	if !obj.IsObject() {
		return layerEntry{}, formatErrorf("layers[%d]: got %s, want an object", i, jsonKind(obj))
	}
	class := obj.Get("class_name")
	if class.Type != gjson.String || class.Str == "" {
		return layerEntry{}, formatErrorf("layers[%d]: no class_name", i)
	}
	cfg := obj.Get("config")
	if !cfg.IsObject() {
		return layerEntry{}, formatErrorf("layers[%d] (%s): config is %s, want an object", i, class.Str, jsonKind(cfg))
	}
	name := obj.Get("name")
	if name.Type != gjson.String {
		name = cfg.Get("name")
	}
	if name.Type != gjson.String || name.Str == "" {
		return layerEntry{}, formatErrorf("layers[%d] (%s): no name", i, class.Str)
	}
	return layerEntry{class: class.Str, name: name.Str, cfg: cfg, obj: obj}, nil
}

func (e layerEntry) describe() string {
	return fmt.Sprintf("layer %q (%s)", e.name, e.class)
}

// newLayer makes the Layer for a config entry, with its class's
// implementation. A model used as a layer becomes a nested model. Classes
// this tool does not know get a stand-in whose shapes and weights are
// unknown, so the rest of the model still decodes. depth is the nesting
// depth of the model the entry belongs to.
func newLayer(e layerEntry, depth int) (*Layer, error) {
	d := &decoder{cfg: e.cfg, sub: func(r gjson.Result) (*Layer, error) { return subLayer(r, depth+1) }}
	l := &Layer{Name: e.name, Class: e.class, Trainable: d.boolean(true, "trainable")}
	l.dtype = variableDType(e.cfg.Get("dtype"))
	make, ok := registry[e.class]
	if alias, found := registeredNames[e.class]; found && !ok {
		// applications.go; Keras prints the class's own name.
		make, ok = registry[alias]
		l.Class = alias
	}
	_, isOpClass := opRegistry[e.class]
	switch {
	case isOpClass && isOp(e):
		// keras.ops.add(x, 3.0) records class Add like the Add layer;
		// its module (or, in legacy .h5 configs, its bare config) tells
		// the operation, whose constant operands the layer would drop.
		l.Op, l.Built = true, true
		l.impl = newOp(e)
	case ok:
		impl, err := make(d)
		if err == nil {
			err = d.err
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.describe(), err)
		}
		l.impl = impl
	case isModelConfig(e):
		if depth+1 > maxNesting {
			return nil, formatErrorf("models nested more than %d deep", maxNesting)
		}
		inner, err := decodeModel(e.obj, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.describe(), err)
		}
		l.Model = inner
		l.impl = &modelLayer{obj: e.obj, model: inner, depth: depth + 1}
		if e.class == "Sequential" {
			l.Trainable = true // see decodeSequentialWith
		}
	default:
		l.impl = unknownLayer{}
		if k := newStringLayer(e.class, d); k != nil {
			l.impl = k // preprocess_builtin.go: shapes, no forward pass
		}
		// A bare operation (keras.ops) has no weights: nothing unknown
		// about its parameters.
		if isOp(e) {
			l.Op, l.Built = true, true
			l.impl = newOp(e) // ops.go: the operations kerascope runs
		}
	}
	return l, nil
}

// isOp reports whether an entry is a bare Keras 3 operation rather than a
// layer: its module is keras.src.ops (or keras.ops), or, in the legacy
// configs Keras 3 writes to .h5 files, which drop the module, its config
// lacks the trainable and dtype keys every layer's config has.
func isOp(e layerEntry) bool {
	m := e.obj.Get("module")
	if m.Exists() {
		return strings.HasPrefix(m.String(), "keras.src.ops") || strings.HasPrefix(m.String(), "keras.ops")
	}
	return !e.cfg.Get("trainable").Exists() && !e.cfg.Get("dtype").Exists()
}

// isModelConfig reports whether a layer entry is a whole model used as a
// layer: a Sequential, or any class whose config is a layer graph.
func isModelConfig(e layerEntry) bool {
	if e.class == "Sequential" {
		return true
	}
	return e.cfg.Get("layers").IsArray() && e.cfg.Get("input_layers").Exists()
}

// subLayer decodes a layer serialized inside another layer's config.
func subLayer(r gjson.Result, depth int) (*Layer, error) {
	e, err := readLayerEntry(r, 0)
	if err != nil {
		return nil, err
	}
	l, err := newLayer(e, depth)
	if err != nil {
		return nil, err
	}
	if _, unknown := l.impl.(unknownLayer); unknown {
		return nil, unsupportedf("wrapped layer class %q", e.class)
	}
	return l, nil
}

// variableDType returns the dtype of the weights a layer creates: the
// layer's dtype, or the variable dtype of its mixed-precision policy.
func variableDType(r gjson.Result) string {
	name := ""
	switch {
	case r.Type == gjson.String:
		name = r.Str
	case r.IsObject():
		if n := r.Get("config.name"); n.Type == gjson.String {
			name = n.Str
		}
	}
	switch name {
	case "", "mixed_float16", "mixed_bfloat16":
		return "float32"
	}
	return name
}

// IsOpConfig reports whether a serialized node of a functional graph is a
// bare Keras 3 operation (keras.ops) rather than a layer.
func IsOpConfig(obj gjson.Result) bool {
	return isOp(layerEntry{obj: obj, cfg: obj.Get("config")})
}
