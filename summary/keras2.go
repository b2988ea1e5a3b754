package summary

import (
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// writeKeras2 renders the summary of tf.keras 2.13+ and tf-keras
// (tf_keras/src/utils/layer_utils.py print_summary).
func writeKeras2(b *strings.Builder, m *keras.Model, opt Options) error {
	lineLength := opt.LineLength
	if lineLength == 0 {
		lineLength = DefaultLineLength(Keras2, true, 0)
	}
	rel := []float64{0.45, 0.85, 1.0}
	positions := make([]int, len(rel))
	for i, p := range rel {
		positions[i] = int(float64(lineLength) * p)
	}
	header := []string{"Layer (type)", "Output Shape", "Param #"}

	b.WriteString(`Model: "` + m.Name + `"` + "\n")
	b.WriteString(strings.Repeat("_", lineLength) + "\n")
	printRow(b, header, positions)
	b.WriteString(strings.Repeat("=", lineLength) + "\n")
	for _, l := range m.Layers {
		printRow(b, []string{l.Name + " (" + l.Class + ")", keras2Shapes(l), keras2Params(l)}, positions)
		b.WriteString(strings.Repeat(" ", lineLength) + "\n")
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
// the next line.
func printRow(b *strings.Builder, fields []string, positions []int) {
	left := append([]string(nil), fields...)
	for anyLeft(left) {
		var line strings.Builder
		for col := range left {
			start := 0
			if col > 0 {
				start = positions[col-1]
			}
			end := positions[col]
			space := 2
			if col == len(positions)-1 {
				space = 0
			}
			cutoff := end - start - space
			if col != len(positions)-1 {
				cutoff--
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
				cutoff = best
				fit = fit[:best]
			}
			if col == 0 {
				line.WriteString(" ")
			}
			line.WriteString(fit)
			line.WriteString(strings.Repeat(" ", space))
			left[col] = left[col][len(fit):]
			if pad := positions[col] - cellLen(line.String()); pad > 0 {
				line.WriteString(strings.Repeat(" ", pad))
			}
		}
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

// keras2Shapes formats output_shape as tf-keras prints it: a Python tuple,
// or a list of tuples for several outputs.
func keras2Shapes(l *keras.Layer) string {
	shapes := l.OutputShapes()
	if shapes == nil {
		return "?"
	}
	if len(shapes) == 1 && l.Class != "InputLayer" {
		return shapes[0].Tuple()
	}
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		parts[i] = s.Tuple()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func keras2Params(l *keras.Layer) string {
	if !l.Built {
		return "0 (unused)"
	}
	return strconv.FormatInt(l.Params(), 10)
}
