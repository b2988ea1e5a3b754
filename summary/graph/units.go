package graph

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// UnitOptions control the unit view.
type UnitOptions struct {
	RankDir string // default "LR", or "BT" (time left to right) when unrolled
	// Unroll draws each recurrent layer once per time step.
	Unroll bool
}

// Limits of the unit view: past them the picture is a smear of lines, and
// the layer view is the one to read.
const (
	MaxUnits = 32   // units, or input features, of one layer
	MaxEdges = 1500 // lines in the whole picture
	MaxSteps = 12   // time steps of an unrolled recurrent layer
)

// UnitClasses lists the layer classes the unit view draws.
var UnitClasses = []string{"InputLayer", "Dense", "SimpleRNN", "LSTM", "GRU", "CuDNNLSTM", "CuDNNGRU"}

// gateCount gives the gates of each drawable class: a recurrent layer's
// kernels hold one block of columns per gate (Keras's i, f, c, o for LSTM
// and z, r, h for GRU).
var gateCount = map[string]int{"Dense": 1, "SimpleRNN": 1, "LSTM": 4, "CuDNNLSTM": 4, "GRU": 3, "CuDNNGRU": 3}

// gateNames name the gates in the order of the kernel's column blocks.
var gateNames = map[int][]string{4: {"i", "f", "g", "o"}, 3: {"z", "r", "n"}}

// A unitLayer is one layer as the unit view sees it.
type unitLayer struct {
	l         *keras.Layer
	src       *unitLayer // the layer whose units feed it; nil for an input
	in, units int        // input features and units
	gates     int
	recurrent bool
	biasRows  int  // bias vectors: 0 without bias, 2 for GRU reset_after and CuDNN
	output    bool // the layer's output is a model output
	seq       bool // its output has a time axis
	steps     int  // length of that axis, -1 if unknown
	// then lists the weightless layers drawn through after this one
	// ("dropout (Dropout)"): they pass each unit on unchanged in shape.
	then []string
}

func (u *unitLayer) params() int {
	n := u.in*u.gates*u.units + u.biasRows*u.gates*u.units
	if u.recurrent {
		n += u.units * u.gates * u.units
	}
	return n
}

// planUnits checks that m can be drawn unit by unit and lists its layers
// inputs first.
func planUnits(m *keras.Model) ([]*unitLayer, error) {
	if m.Subclassed {
		return nil, fmt.Errorf("model %q is subclassed: its config has no layer graph to draw unit by unit", m.Name)
	}
	depths := m.NodeDepths()
	outputs := map[*keras.Layer]bool{}
	for _, r := range m.Outputs {
		outputs[r.Layer] = true
	}
	type call struct {
		l       *keras.Layer
		n       *keras.Node
		depth   int
		through bool // a weightless layer that keeps its input's shape
	}
	var calls []call
	all := m.Layers
	if m.Input != nil {
		all = append([]*keras.Layer{m.Input}, all...)
	}
	for _, l := range all {
		var mine []*keras.Node
		for _, n := range l.Nodes {
			if _, ok := depths[n]; ok {
				mine = append(mine, n)
			}
		}
		switch {
		case len(mine) == 0:
			continue // not on the way to an output
		case len(mine) > 1:
			return nil, fmt.Errorf("layer %q is called %d times; the unit view draws each layer once, so it cannot draw a shared layer", l.Name, len(mine))
		case l.Model != nil:
			return nil, fmt.Errorf("layer %q is a nested model (%s); the unit view draws only %s", l.Name, l.Class, strings.Join(UnitClasses, ", "))
		case l.Class != "InputLayer" && gateCount[l.Class] == 0:
			if passThrough(l, mine[0]) {
				calls = append(calls, call{l, mine[0], depths[mine[0]], true})
				continue
			}
			return nil, fmt.Errorf("layer %q is of class %s, which the unit view does not draw; it draws %s, and draws through layers without weights that keep their input's shape (Dropout, Activation)",
				l.Name, l.Class, strings.Join(UnitClasses, ", "))
		}
		calls = append(calls, call{l, mine[0], depths[mine[0]], false})
	}
	// Deeper calls come first: a layer's inputs are always deeper.
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].depth > calls[j].depth })

	byLayer := map[*keras.Layer]*unitLayer{}
	var plan []*unitLayer
	for _, c := range calls {
		if c.through {
			// Drawn through, as the summary lists it with 0 parameters:
			// the next layer's weights start from the same units.
			src := byLayer[c.n.Inputs[0].Layer]
			if src == nil {
				return nil, fmt.Errorf("layer %q: its input %q is not drawn", c.l.Name, c.n.Inputs[0].Layer.Name)
			}
			src.then = append(src.then, fmt.Sprintf("%s (%s)", c.l.Name, c.l.Class))
			src.output = src.output || outputs[c.l]
			byLayer[c.l] = src
			continue
		}
		u, err := planLayer(c.l, c.n, byLayer)
		if err != nil {
			return nil, err
		}
		u.output = outputs[c.l]
		byLayer[c.l] = u
		plan = append(plan, u)
	}
	return plan, nil
}

// passThrough reports whether the unit view can draw through l: it has no
// weights and maps one input to one output of the same shape, so every
// unit goes on to the next layer as it came (Dropout, Activation,
// GaussianNoise).
func passThrough(l *keras.Layer, n *keras.Node) bool {
	if l.Model != nil || !l.Built || l.Params() != 0 || len(l.Weights) != 0 {
		return false
	}
	if len(n.Inputs) != 1 || len(n.Outputs) != 1 || n.Outputs[0] == nil {
		return false
	}
	in := n.Inputs[0].Shape()
	return in != nil && in.Equal(n.Outputs[0])
}

func planLayer(l *keras.Layer, n *keras.Node, byLayer map[*keras.Layer]*unitLayer) (*unitLayer, error) {
	u := &unitLayer{l: l, gates: gateCount[l.Class], steps: -1}
	if len(n.Outputs) != 1 || n.Outputs[0] == nil {
		return nil, fmt.Errorf("layer %q has %d outputs (return_state?); the unit view draws layers with one output", l.Name, len(n.Outputs))
	}
	out := n.Outputs[0]
	u.seq = len(out) == 3
	if u.seq {
		u.steps = out[1]
	}
	if l.Class == "InputLayer" {
		u.units = out[len(out)-1]
		if len(out) < 2 || u.units < 0 {
			return nil, fmt.Errorf("input %q has shape %s; the unit view needs a known number of features", l.Name, out)
		}
		return u, checkUnits(u)
	}
	if len(n.Inputs) != 1 {
		return nil, fmt.Errorf("layer %q takes %d inputs; the unit view draws layers with one input", l.Name, len(n.Inputs))
	}
	u.src = byLayer[n.Inputs[0].Layer]
	if u.src == nil {
		return nil, fmt.Errorf("layer %q: its input %q is not drawn", l.Name, n.Inputs[0].Layer.Name)
	}
	if !l.Built {
		return nil, fmt.Errorf("layer %q: its weights are unknown", l.Name)
	}
	u.recurrent = l.Class != "Dense"
	if u.recurrent && !u.src.seq {
		return nil, fmt.Errorf("layer %q: a %s needs a sequence input", l.Name, l.Class)
	}
	var kernel, bias keras.Shape
	for _, w := range l.Weights {
		switch w.Name {
		case "kernel":
			kernel = w.Shape
		case "bias":
			bias = w.Shape
		}
	}
	if len(kernel) != 2 || kernel[1]%u.gates != 0 {
		return nil, fmt.Errorf("layer %q: kernel of shape %s, want (inputs, units)", l.Name, kernel)
	}
	u.in, u.units = kernel[0], kernel[1]/u.gates
	if u.in != u.src.units {
		return nil, fmt.Errorf("layer %q: kernel of shape %s for %d input units", l.Name, kernel, u.src.units)
	}
	if bias != nil {
		size, _ := bias.Size()
		u.biasRows = int(size) / (u.gates * u.units)
	}
	if !u.recurrent {
		u.seq, u.steps = u.src.seq, u.src.steps // Dense acts on the last axis, step by step
	}
	if got, want := u.params(), l.Params(); int64(got) != want {
		return nil, fmt.Errorf("layer %q has %d parameters, but the unit view accounts for %d", l.Name, want, got)
	}
	return u, checkUnits(u)
}

func checkUnits(u *unitLayer) error {
	if u.src == nil && u.units > MaxUnits {
		return fmt.Errorf("input %q has %d features; the unit view draws at most %d (the layer view draws any model)", u.l.Name, u.units, MaxUnits)
	}
	if u.units > MaxUnits || u.in > MaxUnits {
		return fmt.Errorf("layer %q has %d units and %d inputs; the unit view draws at most %d per layer (the layer view draws any model)",
			u.l.Name, u.units, u.in, MaxUnits)
	}
	return nil
}

func unitID(u *unitLayer, name string, i int) string {
	return u.l.Name + "/" + name + strconv.Itoa(i)
}

// unitName names a layer's units: h for a recurrent layer's hidden state,
// y for a model output, a for any other activation.
func unitName(u *unitLayer) (string, NodeKind) {
	switch {
	case u.recurrent && u.output:
		return "h", OutputUnit
	case u.recurrent:
		return "h", HiddenUnit
	case u.output:
		return "y", OutputUnit
	}
	return "a", HiddenUnit
}

func inputDescription(u *unitLayer) string {
	s := plural(u.units, "feature")
	if u.seq && u.steps > 0 {
		return s + " at each of " + strconv.Itoa(u.steps) + " time steps"
	}
	if u.seq {
		return s + " at each time step"
	}
	return s
}

// formula is the per-layer sum the picture is about, e.g. "2 + 4
// input/recurrent weights + 2 biases = 8".
func formula(u *unitLayer) string {
	w := u.in * u.gates * u.units
	var s string
	if u.recurrent {
		s = fmt.Sprintf("%d + %d input/recurrent weights", w, u.units*u.gates*u.units)
	} else {
		s = plural(w, "weight")
	}
	b := u.biasRows * u.gates * u.units
	if b == 0 {
		s += " (no bias)"
	} else {
		s += " + " + pluralBias(b)
	}
	return s + " = " + strconv.Itoa(u.params())
}

func legend(kinds map[EdgeKind]bool, plan []*unitLayer) []string {
	lines := []string{"Each line is one weight:", "   solid: input weight"}
	if kinds[Recurrent] {
		lines = append(lines, "   dashed red: recurrent weight, from the previous step's state h(t-1)")
	}
	if kinds[Bias] {
		lines = append(lines, "   dotted grey: bias")
	}
	gates := map[int]bool{}
	for _, u := range plan {
		gates[u.gates] = true
	}
	if gates[4] {
		lines = append(lines, "LSTM gates of each unit: i input, f forget, g candidate, o output; grey lines combine them.")
	}
	if gates[3] {
		lines = append(lines, "GRU gates of each unit: z update, r reset, n candidate; grey lines combine them.")
	}
	return lines
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func pluralBias(n int) string {
	if n == 1 {
		return "1 bias"
	}
	return strconv.Itoa(n) + " biases"
}
