package keras

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// A Net is a model ready to run: its graph and every weight in memory.
// Load it once and call Predict as often as needed; a Net is never
// modified after Load, so any number of goroutines may call Predict at the
// same time.
type Net struct {
	// Model is the decoded architecture.
	Model *Model
	// KerasVersion is the version of Keras that saved the file, which
	// decides version-dependent definitions (hard_sigmoid).
	KerasVersion string

	legacy bool // saved by Keras 1 or 2
	// axisListsDropped: Keras 3 loading a legacy .h5 file drops every
	// "axis" argument that is a list of several axes, so the layer takes
	// its default (keras/src/legacy/saving/saving_utils.py
	// model_from_config); layers without weights then compute something
	// else than the saved model did, and this is what Keras predicts.
	axisListsDropped bool
	weights          map[*Layer][]*Tensor
	order            map[*Model][]*Node
	// release lists, per model and step of its order, the calls whose
	// outputs no later step reads, so a run can let them go.
	release map[*Model][][]*Node
	inputs  []Port
	outputs []Port
	// stateful is the model's first stateful layer, nil if none: only
	// then is a declared batch size kept (stateful.go).
	stateful *Layer

	plan *plan // load-time rewrites of the graph (fuse.go); nil runs it as decoded
	// minPart is the smallest part of a batch that runSplit gives its own
	// goroutine (parallel.go).
	minPart int
	// livePerSample is the most activation memory (floats) a run holds at
	// once per sample, from the graph, or 0: it sizes the arenas' slabs.
	livePerSample int
	// chunk is the most samples a part of a batch runs through the model
	// at once, or 0 for no limit (parallel.go).
	chunk int
	// arenas are the activation memory of runs, reused between them
	// (arena.go).
	arenas arenas
}

// A Port is one of a model's inputs or outputs: its name (the InputLayer's
// or the producing layer's) and its shape, None (-1) for the batch and any
// other free dimension.
type Port struct {
	Name  string
	Shape Shape
}

// errNotRunnable marks a layer kind without a forward pass.
var errNotRunnable = errors.New("kerascope has no native forward pass for this layer")

// A NotRunnableError lists the layers that keep a model from running
// natively, found before any weight is read.
type NotRunnableError struct {
	Layers []NotRunnable
}

// A NotRunnable is one layer that cannot run natively, and why.
type NotRunnable struct {
	Name, Class, Reason string
}

func (e *NotRunnableError) Error() string {
	// Layers that cannot run for the same reason (a model built from one
	// repeated block) are named together, the reason said once; of many,
	// the first few make the point.
	const most = 5
	var reasons []string
	byReason := make(map[string][]string)
	for _, l := range e.Layers {
		if _, ok := byReason[l.Reason]; !ok {
			reasons = append(reasons, l.Reason)
		}
		byReason[l.Reason] = append(byReason[l.Reason], fmt.Sprintf("%q (%s)", l.Name, l.Class))
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		names := byReason[r]
		if len(names) > most {
			names = append(names[:most:most], fmt.Sprintf("%d more", len(byReason[r])-most))
		}
		parts[i] = strings.Join(names, ", ") + ": " + r
	}
	what := "a layer that cannot"
	if len(e.Layers) > 1 {
		what = fmt.Sprintf("%d layers that cannot", len(e.Layers))
	}
	return "the model has " + what + " run natively: " + strings.Join(parts, "; ")
}

// Load opens a model file and prepares it to run. Models with layers that
// cannot run natively (Lambda layers, custom classes, ...) give a
// *NotRunnableError naming them.
func Load(path string) (*Net, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	net, err := NewNet(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// NewNet prepares an opened file's model to run, reading all its weights;
// f may be closed afterwards.
func NewNet(f *File) (*Net, error) {
	m := f.Model
	if m == nil {
		return nil, ErrNoArchitecture
	}
	if bad := notRunnable(m, nil); len(bad) > 0 {
		return nil, &NotRunnableError{Layers: bad}
	}
	net := &Net{
		Model:        m,
		KerasVersion: f.KerasVersion,
		legacy:       !f.IsKeras3(),

		axisListsDropped: f.IsKeras3() && f.Format == FormatH5,
		order:            make(map[*Model][]*Node),
		release:          make(map[*Model][][]*Node),
	}
	if err := net.schedule(m); err != nil {
		return nil, err
	}
	var err error
	if net.weights, err = f.readWeights(); err != nil {
		return nil, err
	}
	net.optimize() // fuse.go
	net.minPart = minPart(net.perSampleMACs(m))
	net.livePerSample = net.peakPerSample(m) // arena.go
	net.chunk = batchChunk(net.livePerSample, net.hasSpatialMaps(m))
	net.stateful = firstStateful(m)
	for _, r := range m.Inputs {
		net.inputs = append(net.inputs, Port{Name: r.Layer.Name, Shape: freeBatch(r.Shape(), net.stateful)})
	}
	for _, r := range m.Outputs {
		net.outputs = append(net.outputs, Port{Name: r.Layer.Name, Shape: freeBatch(r.Shape(), net.stateful)})
	}
	return net, nil
}

func (net *Net) schedule(m *Model) error {
	order, err := schedule(m)
	if err != nil {
		return err
	}
	net.order[m] = order
	net.release[m] = releases(m, order, nil)
	for _, l := range m.Layers {
		if l.Model != nil {
			if err := net.schedule(l.Model); err != nil {
				return err
			}
		}
	}
	return nil
}

// releases finds, for each step of a model's order, the calls whose
// outputs are read for the last time there (model outputs never are), after
// the plan p's rewrites when p is not nil, so
// that a deep model holds only the activations still needed, not all of
// them.
func releases(m *Model, order []*Node, p *plan) [][]*Node {
	last := make(map[*Node]int)
	for i, n := range order {
		if p.skipped(n) {
			continue
		}
		for _, r := range p.inputsOf(n) {
			last[r.Layer.Nodes[r.Node]] = i
		}
	}
	for _, r := range m.Outputs {
		delete(last, r.Layer.Nodes[r.Node])
	}
	out := make([][]*Node, len(order))
	for _, n := range order {
		if i, ok := last[n]; ok {
			out[i] = append(out[i], n)
		}
	}
	return out
}

// notRunnable lists the layers of m (and of the models inside it) that
// have no forward pass.
func notRunnable(m *Model, out []NotRunnable) []NotRunnable {
	if m.Subclassed {
		return append(out, NotRunnable{m.Name, m.Class, "a subclassed model: only its Python code knows how its layers connect"})
	}
	for _, l := range m.Layers {
		if l.Model != nil {
			out = notRunnable(l.Model, out)
			continue
		}
		if reason := runReason(l); reason != "" {
			out = append(out, NotRunnable{l.Name, l.Class, reason})
		}
	}
	return out
}

// runReason says why a layer cannot run, or "" if it can.
func runReason(l *Layer) string {
	if l.Class == "InputLayer" {
		return ""
	}
	if r, ok := l.impl.(interface{ cannotRun() string }); ok {
		if reason := r.cannotRun(); reason != "" {
			return reason
		}
	}
	if _, ok := l.impl.(forwarder); ok {
		return ""
	}
	switch {
	case l.Class == "Lambda":
		return "a Lambda layer holds Python code, which kerascope never runs"
	case l.Class == "TFOpLambda" || l.Class == "SlicingOpLambda":
		return "a TensorFlow operation recorded by tf.keras, which kerascope does not run"
	case l.Op:
		return "a Keras operation kerascope has no native implementation of"
	case BuiltinNotRunReason(l.Class) != "":
		return BuiltinNotRunReason(l.Class)
	case !knownClass(l.Class):
		return "a custom class: only its Python code defines what it computes"
	}
	return "no native forward pass yet"
}

func knownClass(class string) bool {
	if alias, ok := registeredNames[class]; ok {
		class = alias
	}
	_, ok := registry[class]
	return ok
}

// Inputs describes the model's inputs, in the order Predict takes them.
func (net *Net) Inputs() []Port { return clonePorts(net.inputs) }

// Outputs describes the model's outputs, in the order Predict returns them.
func (net *Net) Outputs() []Port { return clonePorts(net.outputs) }

func clonePorts(p []Port) []Port {
	out := make([]Port, len(p))
	for i, e := range p {
		out[i] = Port{Name: e.Name, Shape: e.Shape.Clone()}
	}
	return out
}

// An InputError is an input that does not fit the model.
type InputError struct {
	Input string // the input's name
	Msg   string
}

func (e *InputError) Error() string { return fmt.Sprintf("input %q: %s", e.Input, e.Msg) }

// Predict runs the model on a batch: one tensor per model input, in the
// order Inputs lists them, each with the batch as its first dimension. It
// returns one tensor per model output.
func (net *Net) Predict(inputs ...*Tensor) ([]*Tensor, error) {
	if len(inputs) != len(net.inputs) {
		names := make([]string, len(net.inputs))
		for i, p := range net.inputs {
			names[i] = fmt.Sprintf("%q %s", p.Name, p.Shape)
		}
		return nil, fmt.Errorf("the model takes %d inputs (%s), got %d", len(net.inputs), strings.Join(names, ", "), len(inputs))
	}
	batch := -1
	for i, t := range inputs {
		p := net.inputs[i]
		if err := t.Check(); err != nil {
			return nil, &InputError{p.Name, err.Error()}
		}
		if msg := statefulBatchError(t.Shape, p.Shape, net.stateful); msg != "" {
			return nil, &InputError{p.Name, msg}
		}
		if !fits(t.Shape, p.Shape) {
			return nil, &InputError{p.Name, fmt.Sprintf("shape %s, want %s", shapeString(t.Shape), p.Shape)}
		}
		if t.Shape[0] == 0 {
			return nil, &InputError{p.Name, "empty batch"}
		}
		if batch >= 0 && t.Shape[0] != batch {
			return nil, &InputError{p.Name, fmt.Sprintf("batch of %d, but the first input has %d", t.Shape[0], batch)}
		}
		batch = t.Shape[0]
	}
	// Layers never write to their inputs, so the caller's tensors are used
	// as they are.
	out, err := net.runSplit(inputs, batch)
	if err != nil {
		return nil, err
	}
	// An output may be an input or appear twice: copy any shared tensor so
	// that callers own every result.
	seen := make(map[*Tensor]bool)
	for _, t := range inputs {
		seen[t] = true
	}
	for i, t := range out {
		if seen[t] {
			out[i] = &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
		}
		seen[out[i]] = true
	}
	return out, nil
}

// PredictNamed runs the model on inputs given by name.
func (net *Net) PredictNamed(inputs map[string]*Tensor) ([]*Tensor, error) {
	ordered := make([]*Tensor, len(net.inputs))
	for i, p := range net.inputs {
		t, ok := inputs[p.Name]
		if !ok {
			return nil, &InputError{p.Name, "not given"}
		}
		ordered[i] = t
	}
	if len(inputs) > len(net.inputs) {
		var unknown []string
		for name := range inputs {
			if !net.hasInput(name) {
				unknown = append(unknown, fmt.Sprintf("%q", name))
			}
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("the model has no input named %s", strings.Join(unknown, ", "))
	}
	return net.Predict(ordered...)
}

func (net *Net) hasInput(name string) bool {
	for _, p := range net.inputs {
		if p.Name == name {
			return true
		}
	}
	return false
}

// fits reports whether a concrete shape matches a model shape with free
// (None) dimensions.
func fits(got []int, want Shape) bool {
	if len(got) != len(want) {
		return false
	}
	for i, d := range want {
		if d >= 0 && got[i] != d {
			return false
		}
	}
	return true
}

// NotRunnableLayers lists the layers of m, and of the models inside it,
// that cannot run natively, with the reason for each: the test Load
// applies before it reads any weight.
func NotRunnableLayers(m *Model) []NotRunnable { return notRunnable(m, nil) }

// KnownClass reports whether class is a Keras layer class kerascope knows.
func KnownClass(class string) bool { return knownClass(class) }
