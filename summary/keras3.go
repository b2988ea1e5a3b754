package summary

import (
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// writeKeras3 renders Keras 3's summary (summary_utils.print_summary).
func writeKeras3(b *strings.Builder, m *keras.Model, opt Options) error {
	seq := m.SequentialLike()
	cols := []column{
		{header: "Layer (type)", justify: left},
		{header: "Output Shape", justify: left},
		{header: "Param #", justify: right},
	}
	positions := []float64{0.45, 0.80, 1.0}
	if !seq {
		cols = append(cols, column{header: "Connected to", justify: left})
		positions = []float64{0.3, 0.56, 0.74, 1.0}
	}
	if opt.ShowTrainable {
		for i := range positions {
			positions[i] *= 0.90
		}
		positions = append(positions, 1.0)
		cols = append(cols, column{header: "Trainable", justify: center})
	}
	lineLength := opt.LineLength
	if lineLength == 0 {
		lineLength = DefaultLineLength(m, opt, 80)
	}
	// Keras: width_i = int(pos_i * line_length) - sum of previous widths.
	cur := 0
	for i, p := range positions {
		w := int(p*float64(lineLength)) - cur
		if w < 4 {
			return errNarrow(lineLength)
		}
		cols[i].width = w
		cur += w
	}
	var depths map[*keras.Node]int
	if !seq {
		depths = m.NodeDepths()
	}
	var table [][]string
	for _, r := range rows(m, opt.ExpandNested) {
		l := r.layer
		name := l.Name
		if r.level > 0 {
			name = strings.Repeat("   ", r.level) + "└ " + name
		}
		fields := []string{name + " (" + l.Class + ")", keras3Shapes(l), keras3Params(l)}
		if !seq {
			c := strings.Join(connections(l, depths), ", ")
			if c == "" {
				c = "-"
			}
			fields = append(fields, c)
		}
		if opt.ShowTrainable {
			t := "-"
			if len(l.Weights) > 0 {
				t = "N"
				if l.Trainable {
					t = "Y"
				}
			}
			fields = append(fields, t)
		}
		table = append(table, fields)
	}
	b.WriteString(`Model: "` + m.Name + `"` + "\n")
	renderTable(b, cols, table, lineLength)
	t := countTotals(m, opt.Optimizer)
	total := t.trainable + t.nonTrainable + t.optimizer
	totalBytes := t.trainableBytes + t.nonTrainableBytes + t.optimBytes
	line := func(label string, n, bytes int64) {
		b.WriteString(" " + label + ": " + keras.Thousands(n) + " (" + readableSize(float64(bytes), keras3Units) + ")\n")
	}
	line("Total params", total, totalBytes)
	line("Trainable params", t.trainable, t.trainableBytes)
	line("Non-trainable params", t.nonTrainable, t.nonTrainableBytes)
	if opt.Optimizer != nil {
		line("Optimizer params", t.optimizer, t.optimBytes)
	}
	return nil
}

// keras3Shapes formats a layer's output shapes as format_layer_shape does:
// one shape as "(None, 3)", several as a list "[(None, 2), (None, 2)]",
// "?" when unknown.
func keras3Shapes(l *keras.Layer) string {
	shapes := l.OutputShapes()
	if shapes == nil {
		return "?"
	}
	if len(shapes) == 1 {
		return shapes[0].String()
	}
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		parts[i] = s.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func keras3Params(l *keras.Layer) string {
	if l.Op {
		return "0" // operations have no built state
	}
	if !l.Built {
		return "0 (unbuilt)"
	}
	return keras.Thousands(l.Params())
}
