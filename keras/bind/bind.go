package bind

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kerascope/kerascope/keras/store"
	"github.com/kerascope/kerascope/keras/tensor"
)

// A Spec is one weight a layer's architecture implies.
type Spec struct {
	Name      string // "kernel", "recurrent_kernel", "gamma", ...
	Shape     []int
	Trainable bool
	DType     string // the dtype the layer computes in
}

// A Layer describes one of the model's layers to the binder.
type Layer struct {
	Name, Class string
	// Trainable is the layer's own flag: a frozen layer's weights are
	// stored with the non-trainable ones in a legacy .h5.
	Trainable bool
	// Weights lists the weights the architecture implies, in the order
	// the layer creates them; for a nested model, its layers' weights one
	// layer after the other.
	Weights []Spec
	// Unknown reports a layer whose weights the config does not tell (a
	// custom class, an input of unknown shape): it is given what the file
	// stores for it.
	Unknown bool
	// Sublayers lists, for a layer that keeps its weights in sublayers,
	// their attribute paths in a store, in the order the layer creates
	// them ("query_dense", ..., or "forward_layer/cell"); HDF5 lists the
	// groups by name instead.
	Sublayers []string
	// Layers are a nested model's layers, in model.layers order.
	Layers []*Layer
	// Key, when set, names the layer's stored group (its Group.Key): for
	// layers known only from the file, such as a subclassed model's.
	Key string
	// Keras1 is how Keras 1 laid out the layer's weights where that
	// differs from the architecture's; it applies to files Keras 1 saved.
	Keras1 Keras1
}

// A Weight is one weight of a layer and the tensor the file stores for it.
type Weight struct {
	// Name is the Keras name of the weight: "kernel", "dense_1/kernel"
	// inside a nested model; for layers the config does not describe,
	// the name the file gives it.
	Name string
	Var
	Trainable bool
	// Want is the shape and dtype the architecture implies; for layers
	// the config does not describe, what the file stores.
	Want Spec

	// keras1 makes the weight from what Keras 1 stored; nil when the
	// stored tensor is the weight as it is.
	keras1 *keras1Weight
}

// Stored lists the tensors the file stores for the weight: the one it is,
// or the parts Keras 1 stored it in.
func (w Weight) Stored() []Var {
	if w.keras1 != nil {
		return w.keras1.parts
	}
	return []Var{w.Var}
}

// Read reads the weight's values, in the architecture's shape (Want.Shape
// for layers the config describes): the stored tensor, or the tensors Keras
// 1 stored it in, joined and transposed as Keras 2's loader did.
func (w Weight) Read(s store.Store) ([]float32, error) {
	if w.keras1 != nil {
		return w.keras1.read(s)
	}
	return s.ReadFloat32(w.Path, w.Shape)
}

// A Saver is what a file records of the Keras that saved it.
type Saver struct {
	KerasVersion string
	Backend      string // "tensorflow", "theano", ...; "" when not recorded
}

// A Bound is one layer's binding.
type Bound struct {
	Layer *Layer
	// Group is what the file stores for the layer; nil when nothing.
	Group *Group
	// Weights lists the layer's weights in the order of Layer.Weights,
	// each with the tensor the file stores for it; nil when the stored
	// tensors do not match the architecture (the Findings say how). For a
	// layer the config does not describe it lists what the file stores.
	Weights []Weight
	// ByShape reports that the stored tensors matched the architecture's
	// weights only once both were sorted by shape, so that which of two
	// same-shaped tensors is which weight is a guess.
	ByShape bool
}

// A Binding is the weights of every layer of a model, as a file stores
// them.
type Binding struct {
	Layout Layout
	// Layers has one entry per top-level layer described to Bind.
	Layers []*Bound
	// Groups lists every group of weights the file stores, in the
	// model's layer order where the layout does not give one.
	Groups []Group
	// Findings are the differences between the architecture and the
	// file, layer by layer, then the groups no layer claims.
	Findings []Finding
}

// Bind finds the weights of each of a model's layers in a store. The saver
// matters for files Keras 1 wrote, which stored some weights in layouts of
// their own.
func Bind(s store.Store, layout Layout, layers []*Layer, saver Saver) (*Binding, error) {
	b := &Binding{Layout: layout, Layers: make([]*Bound, len(layers))}
	for i, l := range layers {
		b.Layers[i] = &Bound{Layer: l}
	}
	if s == nil {
		for _, bd := range b.Layers {
			b.missingLayer(bd.Layer)
		}
		return b, nil
	}
	var groups []Group
	var t *tree
	var err error
	if layout.Legacy() {
		groups, err = legacyGroups(s, layout.root())
	} else {
		groups, t, err = storeGroups(s)
	}
	if err != nil {
		return nil, err
	}
	container := ""
	if t != nil {
		container = t.container("")
	}
	// tf.keras 2.13 counted a layer with weights twice when naming the
	// groups; 2.14 skipped layers it had saved before counting them.
	doubled := strings.HasPrefix(saver.KerasVersion, "2.13.")
	keys := layerKeys(layers, layout, container, doubled)
	if !layout.Legacy() {
		// HDF5 lists groups by name; put them in the model's layer order.
		rank := make(map[string]int, len(keys))
		for i, k := range keys {
			rank[k] = i + 1
		}
		sort.SliceStable(groups, func(i, j int) bool {
			ri, rj := rank[groups[i].Key], rank[groups[j].Key]
			if ri == 0 || rj == 0 {
				return rj == 0 && ri != 0
			}
			return ri < rj
		})
	}
	b.Groups = groups
	byKey := make(map[string]int, len(groups))
	for i, g := range groups {
		byKey[g.Key] = i
	}
	used := make([]bool, len(groups))
	legacy1 := strings.HasPrefix(saver.KerasVersion, "1")
	for i, bd := range b.Layers {
		gi, ok := byKey[keys[i]]
		if !ok {
			if !bd.Layer.Unknown {
				b.missingLayer(bd.Layer)
			}
			continue
		}
		used[gi] = true
		bd.Group = &b.Groups[gi]
		switch {
		case bd.Layer.Unknown:
			bd.Weights = fromFile(*bd.Group)
		case layout.Legacy():
			b.bindLegacy(bd, legacy1, saver.Backend)
		default:
			if err := b.bindSaved(t, container, keys[i], doubled, bd); err != nil {
				return nil, err
			}
		}
	}
	for i, g := range b.Groups {
		if !used[i] && len(g.Vars) > 0 {
			b.add(UnusedGroup, nil, "", "the file stores %d weights under %s for a layer the architecture does not have", len(g.Vars), g.Path)
		}
	}
	return b, nil
}

func (b *Binding) missingLayer(l *Layer) {
	if len(l.Weights) > 0 && !l.Unknown {
		b.add(MissingLayer, l, "", "the file stores no weights for the layer, want %d", len(l.Weights))
	}
}

// layerKeys gives the key each layer's group has: its name in a legacy
// file; in a store, the group its saver named after its class, numbered
// per class as that saver counted (storeNames).
func layerKeys(layers []*Layer, layout Layout, container string, doubled bool) []string {
	var keys []string
	if layout.Legacy() {
		keys = make([]string, len(layers))
		for i, l := range layers {
			keys[i] = l.Name
		}
	} else {
		keys = storeNames(layers, container, doubled)
	}
	for i, l := range layers {
		if l.Key != "" {
			keys[i] = l.Key
		}
	}
	return keys
}

// storeNames names a model's layers as the saver that wrote the store
// did: by ListNames, except tf.keras 2.13's (doubled), which named the
// layers under _layer_checkpoint_dependencies/ by CheckpointNames.
func storeNames(layers []*Layer, container string, doubled bool) []string {
	if container != checkpointDeps || !doubled {
		return ListNames(classes(layers))
	}
	weighted := make([]bool, len(layers))
	for i, l := range layers {
		weighted[i] = len(l.Weights) > 0 || l.Unknown
	}
	return CheckpointNames(classes(layers), weighted)
}

func classes(layers []*Layer) []string {
	out := make([]string, len(layers))
	for i, l := range layers {
		out[i] = l.Class
	}
	return out
}

// fromFile describes what a file stores for a layer the config does not
// describe, named as the file names it.
func fromFile(g Group) []Weight {
	w := make([]Weight, len(g.Vars))
	for i, v := range g.Vars {
		w[i] = Weight{Name: g.storedName(v), Var: v, Trainable: true,
			Want: Spec{Name: baseName(v.Path), Shape: v.Shape, Trainable: true, DType: v.DType}}
	}
	return w
}

// storedName is the name a group gives one of its tensors: its path in
// the group ("vars/0", "cell/vars/1"), or for a legacy file its entry in
// weight_names without the layer's own name and TensorFlow's ":0"
// ("kernel", "lstm_cell/recurrent_kernel").
func (g Group) storedName(v Var) string {
	// A Windows-written store joins the group's path with backslashes.
	name := strings.TrimPrefix(strings.ReplaceAll(strings.TrimPrefix(v.Path, g.Path), `\`, "/"), "/")
	name = strings.TrimSuffix(name, ":0")
	if rest, ok := strings.CutPrefix(name, g.Name+"/"); ok && rest != "" {
		name = rest
	}
	return name
}

// Tensors lists every tensor a group stores, in the order the file lists
// them, each under its Keras name where the binding matched it to a weight
// and under the name the file gives it otherwise; and the layer the group
// belongs to, nil for none.
func (b *Binding) Tensors(g *Group) (*Layer, []Weight) {
	var owner *Bound
	for _, bd := range b.Layers {
		if bd.Group != nil && bd.Group.Path == g.Path {
			owner = bd
		}
	}
	bound := make(map[string]Weight)
	if owner != nil {
		for _, w := range owner.Weights {
			parts := w.Stored()
			for i, p := range parts {
				pw := w
				pw.Var = p
				if len(parts) > 1 {
					// A gate's part of a weight Keras 1 stored per gate.
					pw.Name = w.Name + " (" + gateName(len(parts), i) + ")"
				}
				bound[p.Path] = pw
			}
		}
	}
	out := make([]Weight, len(g.Vars))
	for i, v := range g.Vars {
		w, ok := bound[v.Path]
		if !ok || v.Missing {
			w = Weight{Name: g.storedName(v), Var: v}
		}
		out[i] = w
	}
	if owner == nil {
		return nil, out
	}
	return owner.Layer, out
}

// names gives the Keras name of each of a layer's weights: a nested
// model's are prefixed with the inner layer's name.
func names(l *Layer) []string {
	if len(l.Layers) == 0 {
		out := make([]string, len(l.Weights))
		for i, w := range l.Weights {
			out[i] = w.Name
		}
		return out
	}
	var out []string
	for _, inner := range l.Layers {
		for _, n := range names(inner) {
			out = append(out, inner.Name+"/"+n)
		}
	}
	if len(out) != len(l.Weights) {
		// A nested model whose layers' weights are not all known: fall
		// back to the weights' own names.
		out = out[:0]
		for _, w := range l.Weights {
			out = append(out, w.Name)
		}
	}
	return out
}

// bindLegacy binds a layer of a legacy .h5, whose weight_names list the
// layer's trainable weights first, then the non-trainable ones, each in
// creation order (Keras's _legacy_weights).
func (b *Binding) bindLegacy(bd *Bound, keras1 bool, backend string) {
	l, got := bd.Layer, bd.Group.Vars
	idx := legacyIndex(l)
	want := make([]Spec, len(idx))
	for i, j := range idx {
		want[i] = l.Weights[j]
	}
	// Keras 1 stored recurrent layers' weights split per gate (unless
	// consume_less="gpu" joined them, in Keras 2's order), and
	// Theano-ordered kernels transposed.
	perGate := l.Keras1.Gates != nil && len(got) != len(want)
	if keras1 && ((!l.Keras1.Zero() && l.Keras1.Gates == nil) || perGate) {
		b.bindKeras1(bd, backend)
		return
	}
	if keras1 && elements(want) == bd.Group.Elements() && !sameShapes(want, got) {
		b.add(Keras1Layout, l, "", "weights stored in Keras 1's layout (%d tensors for %d), which kerascope does not convert for this layer", len(got), len(want))
		return
	}
	if !b.compare(l, want, got) {
		return
	}
	nm := names(l)
	bd.Weights = make([]Weight, len(got))
	for k, j := range idx {
		// A legacy file names each variable as the Keras that saved it
		// did: tf.keras's depthwise_kernel is Keras 3's kernel.
		name := nm[j]
		if v := baseName(strings.TrimSuffix(got[k].Path, ":0")); v != baseName(name) {
			name = strings.TrimSuffix(name, baseName(name)) + v
		}
		bd.Weights[j] = Weight{Name: name, Var: got[k], Trainable: want[k].Trainable && l.Trainable, Want: want[k]}
	}
}

// legacyIndex gives, for each position of a legacy .h5 weight list, the
// index of that weight in l.Weights.
func legacyIndex(l *Layer) []int {
	var tr, nt []int
	for i, w := range l.Weights {
		if w.Trainable && l.Trainable {
			tr = append(tr, i)
		} else {
			nt = append(nt, i)
		}
	}
	return append(tr, nt...)
}

// bindSaved binds a layer of a store, which keeps a layer's own variables
// under vars/0, vars/1, ... and its sublayers' in groups named after
// their attributes, and a nested model's layers under its own layers/.
func (b *Binding) bindSaved(t *tree, container, key string, doubled bool, bd *Bound) error {
	l := bd.Layer
	prefix := "/" + key
	if container != "" {
		prefix = "/" + container + prefix
	}
	got, err := savedVars(t, prefix, l, doubled, 0)
	if err != nil {
		return fmt.Errorf("layer %q (%s): %w", l.Name, l.Class, err)
	}
	want := l.Weights
	if len(want) == len(got) && !sameShapes(want, got) {
		// Sublayer groups of a kind that does not tell their order: the
		// same shapes in another order are no problem for the check.
		sw, sg := sortedSpecs(want), sortedVars(got)
		if sameShapes(sw.specs, sg) {
			b.compare(l, sw.specs, sg) // dtypes only: the shapes match
			b.bindPositions(bd, sw.specs, sg, sw.index)
			bd.ByShape = true
			return nil
		}
	}
	if !b.compare(l, want, got) {
		return nil
	}
	idx := make([]int, len(want))
	for i := range idx {
		idx[i] = i
	}
	b.bindPositions(bd, want, got, idx)
	return nil
}

// bindPositions gives each weight want[k], which is l.Weights[idx[k]], the
// stored got[k].
func (b *Binding) bindPositions(bd *Bound, want []Spec, got []Var, idx []int) {
	nm := names(bd.Layer)
	bd.Weights = make([]Weight, len(got))
	for k, j := range idx {
		bd.Weights[j] = Weight{Name: nm[j], Var: got[k], Trainable: want[k].Trainable && bd.Layer.Trainable, Want: want[k]}
	}
}

// savedVars lists the variables of the layer at a logical path of a store
// in the order of its Weights.
func savedVars(t *tree, prefix string, l *Layer, doubled bool, depth int) ([]Var, error) {
	if depth > maxDepth {
		return nil, store.Formatf("%s: models nested too deep", prefix)
	}
	if len(l.Layers) > 0 {
		var vars []Var
		c := t.container(prefix)
		if c == "" {
			c = "layers"
		}
		keys := storeNames(l.Layers, c, doubled)
		for i, inner := range l.Layers {
			if len(inner.Weights) == 0 {
				continue
			}
			v, err := savedVars(t, prefix+"/"+c+"/"+keys[i], inner, doubled, depth+1)
			if err != nil {
				return nil, fmt.Errorf("layer %q (%s): %w", inner.Name, inner.Class, err)
			}
			vars = append(vars, v...)
		}
		return vars, nil
	}
	vars, at := t.varsUnder(prefix)
	if order := l.Sublayers; len(order) > 0 {
		rank := func(i int) int {
			rel := strings.TrimPrefix(at[i], prefix)
			if rel == "" {
				return -1 // the layer's own variables
			}
			// tf.keras 2.13 and 2.14 named sublayer groups after their
			// private attributes (_query_dense).
			rel = strings.TrimPrefix(rel[1:], "_")
			for i, p := range order {
				if rel == p || strings.HasPrefix(rel, p+"/") {
					return i
				}
			}
			return len(order)
		}
		idx := make([]int, len(vars))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(i, j int) bool { return rank(idx[i]) < rank(idx[j]) })
		sorted := make([]Var, len(vars))
		for k, i := range idx {
			sorted[k] = vars[i]
		}
		vars = sorted
	}
	return vars, nil
}

// compare reports every difference between the weights a layer should
// have and those stored, position by position, and whether they match
// well enough to bind: as many, each stored, of the same shape.
func (b *Binding) compare(l *Layer, want []Spec, got []Var) bool {
	ok := len(want) == len(got)
	for i := 0; i < len(want) || i < len(got); i++ {
		switch {
		case i < len(got) && got[i].Missing:
			what := "a weight the architecture does not have"
			if i < len(want) {
				what = want[i].Name + " " + tensor.ShapeString(want[i].Shape)
			}
			b.add(MissingWeight, l, got[i].Path, "listed in weight_names but not stored (%s)", what)
			ok = false
		case i >= len(got):
			b.add(MissingWeight, l, want[i].Name, "not stored, want shape %s", tensor.ShapeString(want[i].Shape))
		case i >= len(want):
			b.add(UnusedWeight, l, got[i].Path, "stored with shape %s, but the architecture has no such weight", tensor.ShapeString(got[i].Shape))
		case !equal(got[i].Shape, want[i].Shape):
			b.add(ShapeMismatch, l, got[i].Path, "shape %s, want %s (%s)", tensor.ShapeString(got[i].Shape), tensor.ShapeString(want[i].Shape), want[i].Name)
			ok = false
		case IsFloat(want[i].DType) && !IsFloat(got[i].DType):
			b.add(DTypeMismatch, l, got[i].Path, "dtype %s, want a float type", got[i].DType)
		case !IsFloat(want[i].DType) && got[i].DType != want[i].DType:
			b.add(DTypeMismatch, l, got[i].Path, "dtype %s, want %s", got[i].DType, want[i].DType)
		case got[i].DType != want[i].DType:
			b.add(DTypeDiffers, l, got[i].Path, "stored as %s; the layer computes in %s", got[i].DType, want[i].DType)
		}
	}
	return ok
}

// IsFloat reports a floating-point dtype name.
func IsFloat(dtype string) bool {
	switch dtype {
	case "float16", "bfloat16", "float32", "float64":
		return true
	}
	return false
}

func elements(specs []Spec) int64 {
	var n int64
	for _, s := range specs {
		n += Var{Shape: s.Shape}.Elements()
	}
	return n
}

func sameShapes(want []Spec, got []Var) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !equal(want[i].Shape, got[i].Shape) {
			return false
		}
	}
	return true
}

type indexedSpecs struct {
	specs []Spec
	index []int
}

func sortedSpecs(w []Spec) indexedSpecs {
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return tensor.ShapeString(w[idx[i]].Shape) < tensor.ShapeString(w[idx[j]].Shape) })
	out := indexedSpecs{specs: make([]Spec, len(w)), index: idx}
	for k, i := range idx {
		out.specs[k] = w[i]
	}
	return out
}

func sortedVars(g []Var) []Var {
	out := append([]Var(nil), g...)
	sort.SliceStable(out, func(i, j int) bool { return tensor.ShapeString(out[i].Shape) < tensor.ShapeString(out[j].Shape) })
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
