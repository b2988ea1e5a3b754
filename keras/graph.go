package keras

import (
	"fmt"
	"sort"

	"github.com/tidwall/gjson"
)

// decodeSequential wires a Sequential config into a chain: an InputLayer
// (named in the config, or the one Keras would create), then each layer
// called once on the previous layer's output.
func decodeSequential(cfg, buildConfig gjson.Result, depth int) (*Model, error) {
	return decodeSequentialWith(cfg, buildConfig, depth, nil)
}

// decodeSequentialWith decodes a Sequential config; a non-nil input shape
// stands for the one the config lacks.
func decodeSequentialWith(cfg, buildConfig gjson.Result, depth int, input Shape) (*Model, error) {
	m := &Model{Name: "sequential", Class: "Sequential", Trainable: true}
	var list gjson.Result
	switch {
	case cfg.IsArray(): // Keras 1 and early Keras 2: the config is the list
		list = cfg
	case cfg.IsObject():
		list = cfg.Get("layers")
		if n := cfg.Get("name"); n.Type == gjson.String {
			m.Name = n.Str
		}
		// Keras (3 and 2) ignores a Sequential model's own trainable flag
		// on load (Sequential.from_config passes only the name); its
		// layers keep theirs.
	default:
		return nil, formatErrorf("Sequential config is %s, want an object", jsonKind(cfg))
	}
	if !list.IsArray() {
		return nil, formatErrorf("Sequential config has no layers list")
	}
	arr := list.Array()
	if len(arr) > maxLayers {
		return nil, formatErrorf("%d layers, more than %d", len(arr), maxLayers)
	}
	entries := make([]layerEntry, len(arr))
	for i, obj := range arr {
		e, err := readLayerEntry(obj, i)
		if err != nil {
			return nil, err
		}
		entries[i] = e
	}
	if err := uniqueNames(entries); err != nil {
		return nil, err
	}

	// The input: an explicit InputLayer entry, or the input shape that the
	// first layer's config, the model's build_input_shape or a build_config
	// records. Without one the model was never built.
	var inShape Shape
	inName := "input_layer"
	if len(entries) > 0 && entries[0].class == "InputLayer" {
		s, err := inputLayerShape(entries[0])
		if err != nil {
			return nil, err
		}
		inShape, inName = s, entries[0].name
		entries = entries[1:]
	} else {
		var err error
		inShape, err = sequentialInputShape(entries, cfg, buildConfig)
		if err != nil {
			return nil, err
		}
		if inShape == nil {
			inShape = input
		}
		if len(entries) > 0 {
			inName = entries[0].name + "_input"
		}
	}
	if inShape != nil {
		m.Input = &Layer{Name: inName, Class: "InputLayer", Trainable: true, impl: inputLayer{shape: inShape}}
		m.Input.Nodes = []*Node{{Layer: m.Input}}
		m.Inputs = []TensorRef{{Layer: m.Input}}
	}

	prev := m.Inputs
	for _, e := range entries {
		l, err := newLayer(e, depth)
		if err != nil {
			return nil, err
		}
		if prev != nil {
			l.Nodes = []*Node{{Layer: l, Inputs: prev}}
			prev = []TensorRef{{Layer: l}}
		}
		m.Layers = append(m.Layers, l)
	}
	m.Outputs = prev
	if err := m.infer(); err != nil {
		return nil, err
	}
	return m, nil
}

// sequentialInputShape finds the input shape of a Sequential model whose
// config has no InputLayer entry: the first layer's own input arguments,
// else the model's build_input_shape or build_config. Without one the model
// was never built, and the shape is nil.
func sequentialInputShape(entries []layerEntry, cfg, buildConfig gjson.Result) (Shape, error) {
	if len(entries) > 0 {
		e := entries[0]
		if s, err := entryShape(e, "input_shape"); s != nil || err != nil {
			return s, err
		}
		// Keras 1 recurrent and Dense layers: input_dim, with input_length
		// for sequences.
		if r := e.cfg.Get("input_dim"); r.Type == gjson.Number {
			dim, _ := intValue(r)
			if l := e.cfg.Get("input_length"); l.Exists() {
				n := None
				if v, ok := intValue(l); ok {
					n = v
				}
				return Shape{None, n, dim}, nil
			}
			return Shape{None, dim}, nil
		}
	}
	for _, r := range []gjson.Result{cfg.Get("build_input_shape"), buildConfig.Get("input_shape")} {
		if r.IsArray() {
			s, err := parseShape(r)
			if err != nil {
				return nil, formatErrorf("build_input_shape: %w", err)
			}
			return s, nil
		}
	}
	return nil, nil
}

// inputLayerShape returns an InputLayer's batch shape.
func inputLayerShape(e layerEntry) (Shape, error) {
	s, err := entryShape(e, "shape")
	if s == nil && err == nil {
		err = fmt.Errorf("%s: %w", e.describe(), formatErrorf("config has no batch_shape"))
	}
	return s, err
}

// entryShape reads the input shape a layer's config records: batch_shape
// (Keras 3) or batch_input_shape (Keras 2), or the per-sample shape under
// sampleKey with a None batch dimension prepended. Nil when it records none.
func entryShape(e layerEntry, sampleKey string) (Shape, error) {
	for _, key := range []string{"batch_shape", "batch_input_shape", sampleKey} {
		r := e.cfg.Get(key)
		if !r.IsArray() {
			continue
		}
		s, err := parseShape(r)
		if err != nil {
			return nil, fmt.Errorf("%s: config.%s: %w", e.describe(), key, &FormatError{Err: err})
		}
		if key == sampleKey {
			s = append(Shape{None}, s...)
		}
		return s, nil
	}
	return nil, nil
}

func uniqueNames(entries []layerEntry) error {
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if seen[e.name] {
			return formatErrorf("two layers are named %q", e.name)
		}
		seen[e.name] = true
	}
	return nil
}

// rawRef is a tensor reference as the config spells it, before layer names
// are resolved.
type rawRef struct {
	layer        string
	node, tensor int
	// legacy marks Keras 2 node lists, whose node indices count a nested
	// model's own construction call (see ownsFirstNode).
	legacy bool
	// shape is the tensor's shape as Keras 3 recorded it, or nil.
	shape Shape
	// arg is the keyword argument the tensor was passed in ("mask",
	// "initial_state", "value", ...), or "" for a positional argument.
	arg string
}

// ownsFirstNode reports whether a layer is a nested model that Keras 2
// built from its own Input before the outer model called it: that first
// call is not in the config, yet Keras 2 counts it in node indices
// (tf_keras engine/functional.py _should_skip_first_node).
func ownsFirstNode(l *Layer) bool {
	return l.Model != nil && (l.Model.Class != "Sequential" || l.Model.Input != nil)
}

// decodeFunctional wires a Functional config: layers, the nodes each layer's
// inbound_nodes describe, and the model's inputs and outputs.
func decodeFunctional(class string, cfg gjson.Result, depth int) (*Model, error) {
	m := &Model{Name: "model", Class: class, Trainable: true}
	if n := cfg.Get("name"); n.Type == gjson.String {
		m.Name = n.Str
	}
	if t := cfg.Get("trainable"); t.Type == gjson.False {
		m.Trainable = false
	}
	arr := cfg.Get("layers").Array()
	if len(arr) > maxLayers {
		return nil, formatErrorf("%d layers, more than %d", len(arr), maxLayers)
	}
	entries := make([]layerEntry, len(arr))
	for i, obj := range arr {
		e, err := readLayerEntry(obj, i)
		if err != nil {
			return nil, err
		}
		entries[i] = e
	}
	if err := uniqueNames(entries); err != nil {
		return nil, err
	}
	byName := make(map[string]*Layer, len(entries))
	nodeRefs := make([][][]rawRef, len(entries))
	calls := make([][]gjson.Result, len(entries))
	for i, e := range entries {
		var l *Layer
		if e.class == "InputLayer" {
			s, err := inputLayerShape(e)
			if err != nil {
				return nil, err
			}
			l = &Layer{Name: e.name, Class: e.class, Trainable: true, impl: inputLayer{shape: s}}
			l.Nodes = []*Node{{Layer: l}}
		} else {
			var err error
			if l, err = newLayer(e, depth); err != nil {
				return nil, err
			}
			calls[i] = e.obj.Get("inbound_nodes").Array()
			if nodeRefs[i], err = readInboundNodes(e.obj.Get("inbound_nodes")); err != nil {
				return nil, fmt.Errorf("%s: %w", e.describe(), err)
			}
		}
		byName[e.name] = l
		m.Layers = append(m.Layers, l)
	}
	resolve := func(r rawRef) (TensorRef, error) {
		l, ok := byName[r.layer]
		if !ok {
			return TensorRef{}, formatErrorf("refers to layer %q, which the config does not have", r.layer)
		}
		node := r.node
		if r.legacy && node > 0 && ownsFirstNode(l) {
			node--
		}
		return TensorRef{Layer: l, Node: node, Tensor: r.tensor}, nil
	}
	for i, l := range m.Layers {
		for j, refs := range nodeRefs[i] {
			n := &Node{Layer: l, Index: len(l.Nodes)}
			if j < len(calls[i]) {
				n.call = calls[i][j]
			}
			for _, r := range refs {
				t, err := resolve(r)
				if err != nil {
					return nil, fmt.Errorf("%s: inbound_nodes: %w", entries[i].describe(), err)
				}
				n.Inputs = append(n.Inputs, t)
				n.inputHints = append(n.inputHints, r.shape)
				n.args = append(n.args, r.arg)
			}
			l.Nodes = append(l.Nodes, n)
		}
	}
	// Keras 2 configs count nested models' own first calls in the model's
	// inputs and outputs too.
	legacy := false
	for _, nodes := range nodeRefs {
		for _, refs := range nodes {
			for _, r := range refs {
				legacy = legacy || r.legacy
			}
		}
	}
	for _, io := range []struct {
		key string
		dst *[]TensorRef
	}{{"input_layers", &m.Inputs}, {"output_layers", &m.Outputs}} {
		refs, err := readRefList(cfg.Get(io.key))
		if err != nil {
			return nil, formatErrorf("%s: %w", io.key, err)
		}
		for _, r := range refs {
			r.legacy = legacy
			t, err := resolve(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", io.key, err)
			}
			*io.dst = append(*io.dst, t)
		}
	}
	if err := m.infer(); err != nil {
		return nil, err
	}
	// A model's input or output must be a call that exists: a config may
	// name a layer it never calls (found by FuzzDecode; running it would
	// index past the layer's calls).
	for _, io := range []struct {
		key  string
		refs []TensorRef
	}{{"input_layers", m.Inputs}, {"output_layers", m.Outputs}} {
		for _, r := range io.refs {
			if r.Node < 0 || r.Node >= len(r.Layer.Nodes) {
				return nil, formatErrorf("%s: layer %q has no call %d", io.key, r.Layer.Name, r.Node)
			}
		}
	}
	return m, nil
}

// readInboundNodes reads a layer's inbound_nodes in either dialect: Keras 3
// writes each node as {"args": [...], "kwargs": {...}} with tensors as
// __keras_tensor__ objects; Keras 2 writes each node as a list of
// [layer, node, tensor, kwargs] lists.
func readInboundNodes(r gjson.Result) ([][]rawRef, error) {
	if !r.Exists() || r.Type == gjson.Null {
		return nil, nil
	}
	if !r.IsArray() {
		return nil, formatErrorf("inbound_nodes is %s, want a list", jsonKind(r))
	}
	var nodes [][]rawRef
	calls := r.Array()
	for i, n := range calls {
		var refs []rawRef
		var err error
		switch {
		case n.IsObject():
			err = collectKerasTensors(n.Get("args"), &refs, 0)
			if err == nil {
				err = collectKwargs(n.Get("kwargs"), &refs, false)
			}
		case n.IsArray():
			// A node is the structure of the call's first argument with
			// a [layer, node, tensor, kwargs] entry for each tensor in
			// it: a list of entries, nested lists for TF ops taking
			// lists (tf.concat), or, for a TF op called on one tensor,
			// the entry itself (TFOpLambda keeps the argument's
			// structure). Constants in it are ["_CONSTANT_VALUE", -1,
			// value, kwargs].
			var leaves []gjson.Result
			if err := nodeLeaves(n, &leaves, 0); err != nil {
				return nil, fmt.Errorf("inbound_nodes[%d]: %w", i, err)
			}
			for _, t := range leaves {
				// Keras 2 repeats the call's keyword arguments on every
				// entry; tensors among them (MultiHeadAttention's value, an
				// RNN's initial_state, y of 2.0 * y) are inputs of the
				// node too, after the first argument's.
				if isConstantEntry(t) {
					continue
				}
				ref, ok := legacyRef(t)
				if !ok {
					return nil, formatErrorf("inbound_nodes[%d]: got %s, want [layer, node, tensor, kwargs]", i, short(t.Raw))
				}
				ref.legacy = true
				refs = append(refs, ref)
			}
			if len(leaves) > 0 {
				if err := collectKwargs(leaves[0].Get("3"), &refs, true); err != nil {
					return nil, fmt.Errorf("inbound_nodes[%d]: %w", i, err)
				}
			}
		default:
			err = formatErrorf("got %s, want a node", short(n.Raw))
		}
		if err != nil {
			return nil, fmt.Errorf("inbound_nodes[%d]: %w", i, err)
		}
		nodes = append(nodes, refs)
	}
	return nodes, nil
}

// nodeEntry reports whether a Keras 2 node's list is one entry, [layer,
// node, tensor] with optional kwargs, rather than a list of them.
func nodeEntry(r gjson.Result) bool {
	a := r.Array()
	return r.IsArray() && (len(a) == 3 || len(a) == 4) && a[0].Type == gjson.String && a[1].Type == gjson.Number
}

// isConstantEntry reports a constant in a TF op's first argument.
func isConstantEntry(r gjson.Result) bool {
	return nodeEntry(r) && r.Get("0").Str == constantValue
}

// constantValue marks a constant where a Keras 2 node lists its tensors.
const constantValue = "_CONSTANT_VALUE"

// nodeLeaves appends the entries of a Keras 2 node's structure in the
// order tf.nest.flatten visits them.
func nodeLeaves(r gjson.Result, out *[]gjson.Result, depth int) error {
	if depth > maxNesting {
		return formatErrorf("node arguments nested more than %d deep", maxNesting)
	}
	switch {
	case nodeEntry(r):
		*out = append(*out, r)
	case r.IsArray():
		for _, e := range r.Array() {
			if err := nodeLeaves(e, out, depth+1); err != nil {
				return err
			}
		}
	case r.IsObject():
		for _, e := range sortedValues(r) {
			if err := nodeLeaves(e, out, depth+1); err != nil {
				return err
			}
		}
	default:
		return formatErrorf("got %s, want [layer, node, tensor, kwargs]", short(r.Raw))
	}
	return nil
}

// collectKerasTensors appends, in order, every __keras_tensor__ found in a
// node's args or kwargs, as Keras flattens them into the node's inputs.
func collectKerasTensors(r gjson.Result, refs *[]rawRef, depth int) error {
	if depth > maxNesting {
		return formatErrorf("node arguments nested more than %d deep", maxNesting)
	}
	switch {
	case r.IsArray():
		for _, e := range r.Array() {
			if err := collectKerasTensors(e, refs, depth+1); err != nil {
				return err
			}
		}
	case r.IsObject():
		if c := r.Get("class_name"); c.Type == gjson.String && c.Str == "__keras_tensor__" {
			h := r.Get("config.keras_history")
			ref, ok := legacyRef(h)
			if !ok {
				return formatErrorf("keras_history %s, want [layer, node, tensor]", short(h.Raw))
			}
			// Keras 3 records each tensor's shape: a hint for tensors
			// that an operation kerascope does not know produced.
			if s, err := parseShape(r.Get("config.shape")); err == nil {
				ref.shape = s
			}
			*refs = append(*refs, ref)
			return nil
		}
		for _, v := range sortedValues(r) {
			if err := collectKerasTensors(v, refs, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectKwargs appends the tensors among a call's keyword arguments, in
// sorted key order, each marked with its argument's name.
func collectKwargs(r gjson.Result, refs *[]rawRef, legacy bool) error {
	for _, kv := range sortedPairs(r) {
		from := len(*refs)
		var err error
		if legacy {
			err = collectLegacyKwargs(kv.v, refs, 1)
		} else {
			err = collectKerasTensors(kv.v, refs, 1)
		}
		if err != nil {
			return err
		}
		for i := from; i < len(*refs); i++ {
			(*refs)[i].arg = kv.k
		}
	}
	return nil
}

// collectLegacyKwargs appends the [layer, node, tensor] triples found in a
// Keras 2 node's keyword arguments, in the order Keras flattens them.
func collectLegacyKwargs(r gjson.Result, refs *[]rawRef, depth int) error {
	if depth > maxNesting {
		return formatErrorf("node arguments nested more than %d deep", maxNesting)
	}
	if ref, ok := legacyRef(r); ok && len(r.Array()) == 3 {
		ref.legacy = true
		*refs = append(*refs, ref)
		return nil
	}
	var items []gjson.Result
	switch {
	case r.IsArray():
		items = r.Array()
	case r.IsObject():
		items = sortedValues(r)
	}
	for _, v := range items {
		if err := collectLegacyKwargs(v, refs, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// sortedValues returns an object's values in sorted key order, the order
// in which Keras's tree.flatten and tf.nest.flatten visit dicts.
func sortedValues(r gjson.Result) []gjson.Result {
	all := sortedPairs(r)
	out := make([]gjson.Result, len(all))
	for i, e := range all {
		out[i] = e.v
	}
	return out
}

type keyValue struct {
	k string
	v gjson.Result
}

// sortedPairs returns an object's entries in sorted key order.
func sortedPairs(r gjson.Result) []keyValue {
	var all []keyValue
	if !r.IsObject() {
		return nil
	}
	r.ForEach(func(k, v gjson.Result) bool {
		all = append(all, keyValue{k.String(), v})
		return true
	})
	sort.SliceStable(all, func(i, j int) bool { return all[i].k < all[j].k })
	return all
}

// legacyRef reads [layer, node, tensor, ...].
func legacyRef(t gjson.Result) (rawRef, bool) {
	if !t.IsArray() {
		return rawRef{}, false
	}
	a := t.Array()
	if len(a) < 3 || a[0].Type != gjson.String {
		return rawRef{}, false
	}
	node, ok1 := intValue(a[1])
	tensor, ok2 := intValue(a[2])
	if !ok1 || !ok2 || node < 0 || tensor < 0 {
		return rawRef{}, false
	}
	return rawRef{layer: a[0].Str, node: node, tensor: tensor}, true
}

// readRefList reads input_layers or output_layers: a single [name, node,
// tensor] triple (Keras 3, one tensor), a list of triples, or a dict of them.
func readRefList(r gjson.Result) ([]rawRef, error) {
	if ref, ok := legacyRef(r); ok {
		return []rawRef{ref}, nil
	}
	var refs []rawRef
	var bad gjson.Result
	r.ForEach(func(_, v gjson.Result) bool {
		ref, ok := legacyRef(v)
		if !ok {
			bad = v
			return false
		}
		refs = append(refs, ref)
		return true
	})
	if bad.Exists() || (!r.IsArray() && !r.IsObject()) {
		return nil, fmt.Errorf("got %s, want [layer, node, tensor] triples", short(r.Raw))
	}
	return refs, nil
}
