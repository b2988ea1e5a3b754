package summary

import (
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// writeKeras2 renders the summary of tf.keras 2.13+ and tf-keras
// (tf_keras/src/utils/layer_utils.py print_summary).
func writeKeras2(b *strings.Builder, m *keras.Model, opt Options) error {
	seq := m.SequentialLike()
	lineLength := opt.LineLength
	if lineLength == 0 {
		lineLength = DefaultLineLength(m, Options{Style: Keras2}, 0)
	}
	rel := []float64{0.45, 0.85, 1.0}
	header := []string{"Layer (type)", "Output Shape", "Param #"}
	if !seq {
		rel = []float64{0.3, 0.6, 0.70, 1.0}
		header = append(header, "Connected to")
	}
	positions := make([]int, len(rel))
	for i, p := range rel {
		positions[i] = int(float64(lineLength) * p)
	}
	if opt.ShowTrainable {
		lineLength += 11
		positions = append(positions, lineLength)
		header = append(header, "Trainable")
	}
	var depths map[*keras.Node]int
	if !seq {
		depths = m.NodeDepths()
	}

	b.WriteString(`Model: "` + m.Name + `"` + "\n")
	b.WriteString(strings.Repeat("_", lineLength) + "\n")
	printRow(b, header, positions, 0)
	b.WriteString(strings.Repeat("=", lineLength) + "\n")
	bar := func(level int) string { return strings.Repeat("|", level) }
	// printLayer mirrors tf-keras's recursive print_layer, separators and
	// nested-model frames included.
	var printLayer func(l *keras.Layer, level int, nestedLast bool)
	printLayer = func(l *keras.Layer, level int, nestedLast bool) {
		fields := []string{l.Name + " (" + l.Class + ")", keras2Shapes(l), keras2Params(l)}
		if !seq {
			fields = append(fields, pyList(connections(l, depths)))
		}
		if opt.ShowTrainable {
			t := "N"
			if l.Trainable {
				t = "Y"
			}
			fields = append(fields, t)
		}
		printRow(b, fields, positions, level)
		if opt.ExpandNested && l.Model != nil && len(l.Model.Layers) > 0 {
			b.WriteString(bar(level+1) + strings.Repeat("¯", lineLength-2*level-2) + bar(level+1) + "\n")
			inner := l.Model.Layers
			for i, nl := range inner {
				printLayer(nl, level+1, i == len(inner)-1)
			}
			b.WriteString(bar(level) + strings.Repeat("¯", lineLength-2*level) + bar(level) + "\n")
			// tf-keras reuses is_nested_last as its loop variable, so it
			// is always true here: no separator after a nested model.
			nestedLast = true
		}
		if !nestedLast {
			b.WriteString(bar(level) + strings.Repeat(" ", lineLength-2*level) + bar(level) + "\n")
		}
	}
	for _, l := range m.Layers {
		printLayer(l, 0, false)
	}
	b.WriteString(strings.Repeat("=", lineLength) + "\n")
	t := countTotals(m, nil)
	line := func(label string, n, bytes int64) {
		b.WriteString(label + ": " + strconv.FormatInt(n, 10) + " (" + readableSize(float64(bytes), keras2Units) + ")\n")
	}
	line("Total params", t.trainable+t.nonTrainable, t.trainableBytes+t.nonTrainableBytes)
	line("Trainable params", t.trainable, t.trainableBytes)
	line("Non-trainable params", t.nonTrainable, t.nonTrainableBytes)
	b.WriteString(strings.Repeat("_", lineLength) + "\n")
	return nil
}

// printRow is tf-keras's print_row: each field is cut to its column,
// preferably right after "),", "},", "]," or "',", and what is left goes on
// the next line. Nested rows are framed by one "|" per level.
func printRow(b *strings.Builder, fields []string, positions []int, level int) {
	left := append([]string(nil), fields...)
	for anyLeft(left) {
		var line strings.Builder
		for col := range left {
			start := 0
			if col > 0 {
				start = positions[col-1]
			}
			end := positions[col]
			last := col == len(positions)-1
			space := 2
			if last {
				space = 0
			}
			cutoff := end - start - space
			if !last {
				cutoff--
			}
			if col == 0 {
				cutoff -= level
			}
			fit := prefix(left[col], cutoff)
			best := -1
			for _, cond := range []string{"),", "},", "],", "',"} {
				if i := strings.Index(fit, cond); i >= 0 {
					if c := i + len(cond); best < 0 || c < best {
						best = c
					}
				}
			}
			if best >= 0 {
				fit = fit[:best]
			}
			if col == 0 {
				line.WriteString(strings.Repeat("|", level) + " ")
			}
			line.WriteString(fit)
			line.WriteString(strings.Repeat(" ", space))
			left[col] = left[col][len(fit):]
			pad := positions[col] - cellLen(line.String())
			if level > 0 && last {
				pad -= level
			}
			if pad > 0 {
				line.WriteString(strings.Repeat(" ", pad))
			}
		}
		line.WriteString(strings.Repeat("|", level))
		b.WriteString(line.String())
		b.WriteByte('\n')
	}
}

func anyLeft(fields []string) bool {
	for _, f := range fields {
		if f != "" {
			return true
		}
	}
	return false
}

// prefix returns the first n characters of s (Python's s[:n]).
func prefix(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// pyList formats strings as Python's str() of a list: ['a', 'b'].
func pyList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = "'" + s + "'"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// keras2Shapes formats output_shape as tf-keras prints it: the Python str()
// of the shape every call produced (a tuple, or a list of tuples for
// several outputs and for InputLayers), and "multiple" when calls differ or
// the layer was never called.
func keras2Shapes(l *keras.Layer) string {
	if len(l.Nodes) == 0 {
		return "multiple"
	}
	first := nodeShapes(l, l.Nodes[0])
	for _, n := range l.Nodes[1:] {
		if nodeShapes(l, n) != first {
			return "multiple"
		}
	}
	return first
}

func nodeShapes(l *keras.Layer, n *keras.Node) string {
	if n.Outputs == nil {
		return "?"
	}
	if len(n.Outputs) == 1 && l.Class != "InputLayer" {
		return n.Outputs[0].Tuple()
	}
	parts := make([]string, len(n.Outputs))
	for i, s := range n.Outputs {
		parts[i] = s.Tuple()
	}
	if groups := l.OutputGroups(); groups != nil {
		var nested []string
		i := 0
		for _, g := range groups {
			if g == 1 || i+g > len(parts) {
				nested = append(nested, parts[i:min(i+g, len(parts))]...)
			} else {
				nested = append(nested, "["+strings.Join(parts[i:i+g], ", ")+"]")
			}
			i += g
		}
		parts = nested
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func keras2Params(l *keras.Layer) string {
	if !l.Built {
		return "0 (unused)"
	}
	return strconv.FormatInt(l.Params(), 10)
}
