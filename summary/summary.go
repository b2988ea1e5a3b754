package summary

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// A Style is one of Keras's summary layouts.
type Style int

const (
	// Keras3 is Keras 3's rich table.
	Keras3 Style = iota + 1
	// Keras2 is the plain table of tf.keras 2.13+ and tf-keras.
	Keras2
)

func (s Style) String() string {
	switch s {
	case Keras3:
		return "keras3"
	case Keras2:
		return "keras2"
	}
	return "unknown"
}

// ParseStyle parses "keras3" or "keras2".
func ParseStyle(s string) (Style, error) {
	switch s {
	case "keras3", "3":
		return Keras3, nil
	case "keras2", "2":
		return Keras2, nil
	}
	return 0, fmt.Errorf("unknown style %q, want keras3 or keras2", s)
}

// Options control a summary.
type Options struct {
	Style Style
	// LineLength is the table width; 0 means Keras's default for the
	// style and layout (see DefaultLineLength).
	LineLength int
	// ExpandNested lists the layers of nested models under the model's
	// own row, as Keras's expand_nested=True does.
	ExpandNested bool
	// ShowTrainable adds a "Trainable" column (show_trainable=True).
	ShowTrainable bool
	// Optimizer lists the optimizer variables of a compiled model whose
	// optimizer is built; Keras 3 then adds an "Optimizer params" line and
	// counts them in the total. Keras 2 never shows them.
	Optimizer []keras.StoredVar
}

// Write prints the summary of m.
func Write(w io.Writer, m *keras.Model, opt Options) error {
	var b strings.Builder
	switch opt.Style {
	case Keras3:
		if err := writeKeras3(&b, m, opt); err != nil {
			return err
		}
	case Keras2:
		if err := writeKeras2(&b, m, opt); err != nil {
			return err
		}
	default:
		return fmt.Errorf("summary: unknown style %d", opt.Style)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DefaultLineLength returns the table width Keras picks for m when the
// caller gives none. Keras 3 takes min(default, terminal columns - 4),
// where Python reports 80 columns when stdout is not a terminal; Keras 2
// ignores the terminal. Both widen the table for the Trainable column.
func DefaultLineLength(m *keras.Model, opt Options, terminalColumns int) int {
	seq := m.SequentialLike()
	if opt.Style == Keras2 {
		n := 98
		if seq {
			n = 65
		}
		return n
	}
	def := 108
	if seq {
		def = 88
	}
	if opt.ShowTrainable {
		def += 12
	}
	return min(def, terminalColumns-4)
}

// rows lists the layers the summary shows, each with its nesting level:
// the model's layers, and with expand the layers of each nested model
// right after the nested model's own row.
func rows(m *keras.Model, expand bool) []row {
	var out []row
	var add func(ls []*keras.Layer, level int)
	add = func(ls []*keras.Layer, level int) {
		for _, l := range ls {
			out = append(out, row{layer: l, level: level})
			if expand && l.Model != nil && len(l.Model.Layers) > 0 {
				add(l.Model.Layers, level+1)
			}
		}
	}
	add(m.Layers, 0)
	return out
}

type row struct {
	layer *keras.Layer
	level int
}

// connections lists the tensors each call of l consumed, for the calls
// that belong to the model's graph, as "layer[node][tensor]".
func connections(l *keras.Layer, depths map[*keras.Node]int) []string {
	var c []string
	for _, n := range l.Nodes {
		if _, ok := depths[n]; !ok {
			continue
		}
		for _, in := range n.Inputs {
			c = append(c, in.Layer.Name+"["+strconv.Itoa(in.Node)+"]["+strconv.Itoa(in.Tensor)+"]")
		}
	}
	return c
}

// totals are the parameter counts and byte sizes under the table.
type totals struct {
	trainable, nonTrainable, optimizer            int64
	trainableBytes, nonTrainableBytes, optimBytes int64
}

func countTotals(m *keras.Model, opt []keras.StoredVar) totals {
	var t totals
	for _, l := range allLayers(m) {
		for _, w := range l.Weights {
			n, _ := w.Shape.Size()
			bytes := n * int64(keras.DTypeSize(w.DType))
			if w.Trainable && l.Trainable && m.Trainable {
				t.trainable += n
				t.trainableBytes += bytes
			} else {
				t.nonTrainable += n
				t.nonTrainableBytes += bytes
			}
		}
	}
	for _, v := range opt {
		n := v.Elements()
		t.optimizer += n
		t.optimBytes += n * int64(keras.DTypeSize(v.DType))
	}
	return t
}

// allLayers lists every layer whose weights the model owns.
func allLayers(m *keras.Model) []*keras.Layer {
	return m.Layers
}

// readableSize formats a byte count as Keras's readable_memory_size does:
// divide by 1024 while the value is at least 1024, "{:.2f} {unit}".
func readableSize(bytes float64, units []string) string {
	for _, u := range units {
		if bytes/1024 < 1 {
			return strconv.FormatFloat(bytes, 'f', 2, 64) + " " + u
		}
		bytes /= 1024
	}
	return strconv.FormatFloat(bytes, 'f', 2, 64) + " " + units[len(units)-1]
}

var (
	keras3Units = []string{"B", "KB", "MB", "GB", "TB", "PB"}
	keras2Units = []string{"Byte", "KB", "MB", "GB", "TB", "PB"}
)

// roundHalfEven is Python 3's round() on a float.
func roundHalfEven(x float64) int {
	return int(math.RoundToEven(x))
}

func errNarrow(lineLength int) error {
	return &NarrowError{LineLength: lineLength}
}

// A NarrowError reports a line length too small for the table's columns:
// an option the caller chose, not a problem of the model.
type NarrowError struct{ LineLength int }

func (e *NarrowError) Error() string {
	return fmt.Sprintf("summary: line length %d is too narrow for the table", e.LineLength)
}
