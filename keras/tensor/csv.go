package tensor

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Tensors as CSV tables, one sample per row (see tensorio_npy.go).

// ReadCSV reads a table of numbers, one sample per row, as a tensor of
// shape (rows, columns). Fields are separated by commas; spaces around a
// number are ignored; lines starting with '#' (np.savetxt's header) and
// blank lines are skipped. A first row in which no cell is a number is a
// header and is skipped; any other non-numeric cell is an error naming its
// line and column. NaN and Inf are read as such.
func ReadCSV(r io.Reader) (*Tensor, error) { return Limit{}.ReadCSV(r) }

// ReadCSV reads a table as the package function does, within l: at most
// l.Values numbers in all and l.Row in one row (at most MaxCSVRow), each
// field at most 256 bytes; a line past these is refused as soon as that
// much of it is read, without waiting for its end.
func (l Limit) ReadCSV(r io.Reader) (*Tensor, error) {
	br := bufio.NewReader(&lineLimiter{r: r, max: l.csvRow()})
	// Excel and PowerShell start UTF-8 files with a byte order mark.
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	t := &Tensor{}
	cols, colsLine, rows, first := -1, 0, 0, true
	var headerErr error // why the header row is not data
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var le *lineError
			if errors.As(err, &le) && le.cell {
				return nil, fmt.Errorf("csv: line %d: a value longer than %d characters", le.line, maxCell)
			}
			if errors.As(err, &le) {
				return nil, fmt.Errorf("csv: line %d has more than the %d values the input can use", le.line, l.csvRow())
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("csv: line %d: %v", pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		switch {
		case first && isHeader(rec):
			first, cols, colsLine = false, len(rec), line
			_, err := parseCell(rec[0])
			headerErr = fmt.Errorf("line %d, column 1: %v", line, err)
			continue
		case cols < 0:
			cols, colsLine = len(rec), line
		case len(rec) != cols:
			return nil, fmt.Errorf("csv: line %d has %d columns, line %d has %d", line, len(rec), colsLine, cols)
		}
		first = false
		if len(rec) > l.csvRow() {
			return nil, fmt.Errorf("csv: line %d has more than the %d values the input can use", line, l.csvRow())
		}
		if len(t.Data)+len(rec) > l.values() {
			return nil, l.tooMany("csv")
		}
		for j, cell := range rec {
			v, err := parseCell(cell)
			if err != nil {
				return nil, fmt.Errorf("csv: line %d, column %d: %v", line, j+1, err)
			}
			t.Data = append(t.Data, v)
		}
		rows++
	}
	if rows == 0 && headerErr != nil {
		return nil, fmt.Errorf("csv: no data rows after the header (%v)", headerErr)
	}
	if rows == 0 {
		return nil, errors.New("csv: no data rows")
	}
	t.Shape = []int{rows, cols}
	return t, nil
}

// isHeader reports a row in which no cell is a number: column names.
func isHeader(rec []string) bool {
	for _, c := range rec {
		if _, err := parseCell(c); err == nil {
			return false
		}
	}
	return true
}

func parseCell(cell string) (float32, error) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return 0, errors.New("empty cell")
	}
	f, err := strconv.ParseFloat(s, 32)
	if err == nil {
		return float32(f), nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s does not fit in a float32", quotePrefix(s))
	}
	msg := fmt.Sprintf("%s is not a number", quotePrefix(s))
	if f := strings.Fields(s); len(f) > 1 {
		if _, err := strconv.ParseFloat(f[0], 32); err == nil {
			msg += " (separated by spaces? CSV needs commas)"
		}
	}
	return 0, errors.New(msg)
}

// WriteCSV writes t one sample per line: a rank-2 tensor as its rows, a
// rank-1 tensor one value per line, and a tensor of higher rank with each
// sample flattened in row-major order (np.reshape(x, (len(x), -1))). NaN
// and infinities are written as nan, inf and -inf, which numpy and
// pandas read back.
func WriteCSV(w io.Writer, t *Tensor) error {
	if err := t.Check(); err != nil {
		return err
	}
	rows, per := 1, len(t.Data)
	if len(t.Shape) > 0 {
		rows = t.Shape[0]
		per = 0
		if rows > 0 {
			per = len(t.Data) / rows
		}
	}
	var b []byte
	for i := range rows {
		for j, v := range t.Data[i*per : (i+1)*per] {
			if j > 0 {
				b = append(b, ',')
			}
			switch f := float64(v); {
			case math.IsNaN(f):
				b = append(b, "nan"...)
			case math.IsInf(f, 1):
				b = append(b, "inf"...)
			case math.IsInf(f, -1):
				b = append(b, "-inf"...)
			default:
				b = strconv.AppendFloat(b, f, 'g', -1, 32)
			}
		}
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

// lineLimiter passes text through but fails once a line holds more
// fields than max or one field runs past maxCell bytes: encoding/csv reads
// a whole line, and keeps every field, before returning it, so a line
// without end would otherwise be read into memory in full. Comment lines
// ('#') are bounded in bytes only, as a line of max fields would be.
type lineLimiter struct {
	r       io.Reader
	max     int // fields in one line
	fields  int // commas seen on the current line
	cell    int // bytes of the current field
	bytes   int // bytes of the current line
	lines   int
	comment bool
	err     error
}

// maxCell bounds a CSV field: a number needs under 64 characters, and a
// header's column name is allowed more.
const maxCell = 256

type lineError struct {
	line int
	cell bool // a field too long, else too many fields
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d too long", e.line) }

func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.fields, l.cell, l.bytes, l.comment = 0, 0, 0, false
			l.lines++
			continue
		}
		if l.bytes == 0 && c == '#' {
			l.comment = true
		}
		l.bytes++
		switch {
		case l.comment:
			if l.bytes > (l.max+1)*(maxCell+1) {
				l.err = &lineError{line: l.lines + 1}
			}
		case c == ',':
			l.cell = 0
			if l.fields++; l.fields >= l.max {
				l.err = &lineError{line: l.lines + 1}
			}
		default:
			if l.cell++; l.cell > maxCell {
				l.err = &lineError{line: l.lines + 1, cell: true}
			}
		}
		if l.err != nil {
			return i, nil
		}
	}
	return n, err
}
