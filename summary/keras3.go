package summary

import (
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// writeKeras3 renders Keras 3's summary (summary_utils.print_summary).
func writeKeras3(b *strings.Builder, m *keras.Model, opt Options) error {
	layers := m.Layers
	cols := []column{
		{header: "Layer (type)", justify: left},
		{header: "Output Shape", justify: left},
		{header: "Param #", justify: right},
	}
	positions := []float64{0.45, 0.80, 1.0}
	lineLength := opt.LineLength
	if lineLength == 0 {
		lineLength = DefaultLineLength(Keras3, true, 80)
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
	rows := make([][]string, 0, len(layers))
	for _, l := range layers {
		rows = append(rows, []string{
			l.Name + " (" + l.Class + ")",
			keras3Shapes(l),
			keras3Params(l),
		})
	}
	b.WriteString(`Model: "` + m.Name + `"` + "\n")
	renderTable(b, cols, rows, lineLength)
	t := countTotals(m, opt.Optimizer)
	total := t.trainable + t.nonTrainable + t.optimizer
	totalBytes := t.trainableBytes + t.nonTrainableBytes + t.optimBytes
	line := func(label string, n, bytes int64) {
		b.WriteString(" " + label + ": " + commas(n) + " (" + readableSize(float64(bytes), keras3Units) + ")\n")
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
	if !l.Built {
		return "0 (unbuilt)"
	}
	return commas(l.Params())
}
