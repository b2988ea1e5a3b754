package summary

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// This file reproduces the parts of the rich library (rich/table.py,
// rich/text.py, rich/_wrap.py, rich/_ratio.py; rich 13 to 15) that Keras 3's
// summary table uses: fixed-width columns, cell padding of one space on each
// side, the HEAVY_HEAD box with a line between rows, word wrapping, and "…"
// for words longer than their cell.

type justify int

const (
	left justify = iota
	right
	center
)

type column struct {
	header  string
	width   int // requested content width, as Keras computes it
	justify justify
}

// tableWidths returns the width of each column, padding included, for a
// table of total width lineLength: rich adds the padding to each requested
// width and, when the sum exceeds the room between the borders, takes the
// excess off the columns evenly (_calculate_column_widths, ratio_reduce).
func tableWidths(cols []column, lineLength int) []int {
	const padding = 2
	extra := 2 + len(cols) - 1 // outer edges and separators
	maxWidth := lineLength - extra
	widths := make([]int, len(cols))
	total := 0
	for i, c := range cols {
		widths[i] = min(c.width+padding, maxWidth)
		total += widths[i]
	}
	if total > maxWidth {
		excess := total - maxWidth
		ratio := len(widths)
		for i, w := range widths {
			d := min(w, roundHalfEven(float64(excess)/float64(ratio)))
			widths[i] = w - d
			excess -= d
			ratio--
		}
	}
	return widths
}

// renderTable draws the table; each returned line ends with "\n".
func renderTable(b *strings.Builder, cols []column, rows [][]string, lineLength int) {
	widths := tableWidths(cols, lineLength)
	rule := func(l, fill, mid, r string) {
		b.WriteString(l)
		for i, w := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat(fill, w))
		}
		b.WriteString(r)
		b.WriteByte('\n')
	}
	row := func(cells []string, edge string) {
		lines := make([][]string, len(cells))
		height := 0
		for i, c := range cells {
			lines[i] = wrapCell(c, widths[i]-2, cols[i].justify)
			height = max(height, len(lines[i]))
		}
		for y := 0; y < height; y++ {
			b.WriteString(edge)
			for i := range cells {
				if i > 0 {
					b.WriteString(edge)
				}
				s := strings.Repeat(" ", widths[i]-2)
				if y < len(lines[i]) {
					s = lines[i][y]
				}
				b.WriteByte(' ')
				b.WriteString(s)
				b.WriteByte(' ')
			}
			b.WriteString(edge)
			b.WriteByte('\n')
		}
	}
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.header
	}
	rule("┏", "━", "┳", "┓")
	row(headers, "┃")
	rule("┡", "━", "╇", "┩")
	for i, r := range rows {
		if i > 0 {
			rule("├", "─", "┼", "┤")
		}
		row(r, "│")
	}
	rule("└", "─", "┴", "┘")
}

var wordRE = regexp.MustCompile(`\s*\S+\s*`)

// wrapCell wraps text into lines of exactly width cells, as rich's
// Text.wrap does with overflow "ellipsis": break before a word that does not
// fit, never inside a word, and cut a line that is still too long to
// width-1 cells followed by "…".
func wrapCell(text string, width int, j justify) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		for _, line := range divideLine(para, width) {
			line = rstripEnd(line, width)
			lines = append(lines, justifyLine(line, width, j))
		}
	}
	return lines
}

// divideLine splits text where rich's divide_line (fold=False) breaks it.
func divideLine(text string, width int) []string {
	var breaks []int
	offset := 0
	for _, loc := range wordRE.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		word := text[start:end]
		wordLen := cellLen(strings.TrimRight(word, " \t\r\n\f\v"))
		if width-offset >= wordLen {
			offset += cellLen(word)
			continue
		}
		if wordLen > width {
			if start > 0 {
				breaks = append(breaks, start)
			}
			offset = cellLen(word)
		} else if offset > 0 && start > 0 {
			breaks = append(breaks, start)
			offset = cellLen(word)
		}
	}
	var parts []string
	prev := 0
	for _, br := range breaks {
		parts = append(parts, text[prev:br])
		prev = br
	}
	return append(parts, text[prev:])
}

// rstripEnd removes trailing whitespace beyond width (rich Text.rstrip_end).
func rstripEnd(s string, width int) string {
	n := cellLen(s)
	if n <= width {
		return s
	}
	excess := n - width
	trimmed := strings.TrimRight(s, " \t\r\n\f\v")
	ws := len(s) - len(trimmed)
	return s[:len(s)-min(ws, excess)]
}

func justifyLine(s string, width int, j justify) string {
	switch j {
	case right:
		s = truncate(strings.TrimRight(s, " \t\r\n\f\v"), width)
		return strings.Repeat(" ", width-cellLen(s)) + s
	case center:
		s = truncate(strings.TrimRight(s, " \t\r\n\f\v"), width)
		l := (width - cellLen(s)) / 2
		s = strings.Repeat(" ", l) + s
		return s + strings.Repeat(" ", width-cellLen(s))
	}
	s = truncate(s, width)
	return s + strings.Repeat(" ", width-cellLen(s))
}

// truncate cuts s to width cells with a final "…" when it is longer.
func truncate(s string, width int) string {
	if cellLen(s) <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n+1 > width-1 {
			break
		}
		b.WriteRune(r)
		n++
	}
	b.WriteString("…")
	return b.String()
}

// cellLen is the number of terminal cells s takes. Layer names and shapes
// are ASCII in practice; other characters count as one cell each.
func cellLen(s string) int {
	return utf8.RuneCountInString(s)
}
