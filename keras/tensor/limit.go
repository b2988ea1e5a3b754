package tensor

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// DefaultMaxValues bounds the values one tensor read from an untrusted
// stream may hold when the caller sets no bound of its own: 16 Mi values,
// 64 MiB of float32. keras/serve bounds a request's tensors by the same
// number.
const DefaultMaxValues = 16 << 20

// maxToken bounds the text of one JSON or CSV value: a float32 needs at
// most 9 significant digits, and numpy's longest form (np.savetxt's
// %.18e) is 25 characters; anything past 64 is not a number anyone
// meant.
const maxToken = 64

// A Limit bounds what a reader accepts from an untrusted stream, so that
// input that goes on and on is refused as soon as it exceeds what its
// consumer can use, not once memory runs out. The zero Limit allows
// DefaultMaxValues values.
//
// Memory: reading holds at most Values float32 values (4 bytes each,
// twice that while the slice grows), plus a 64 KiB read buffer, plus for
// JSON one value of at most 64 bytes, and for CSV one line, for which
// encoding/csv allocates about 150 bytes per field: at most Row fields
// (and MaxCSVRow) of at most 256 bytes each.
type Limit struct {
	// Values bounds the values of the whole tensor; 0 means
	// DefaultMaxValues.
	Values int
	// Row bounds the values of one CSV row or of one innermost JSON
	// array; 0 means Values.
	Row int
}

func (l Limit) values() int {
	if l.Values <= 0 {
		return DefaultMaxValues
	}
	return l.Values
}

func (l Limit) row() int {
	if l.Row <= 0 {
		return l.values()
	}
	return min(l.Row, l.values())
}

// MaxCSVRow bounds the values of one CSV row whatever the limit says:
// encoding/csv allocates about 150 bytes per field of the line it reads
// (measured in TestLimitEndless), so this bounds one line's memory at
// about 160 MiB; a model whose samples are known bounds it by one sample.
const MaxCSVRow = 1 << 20

func (l Limit) csvRow() int { return min(l.row(), MaxCSVRow) }

// tooMany is the error for a tensor past Values.
func (l Limit) tooMany(format string) error {
	return fmt.Errorf("%s: more than %d values, more than the input can use", format, l.values())
}

// quotePrefix quotes the start of s, escaped, in at most about 24
// characters, marking a cut with "…": error messages quote offending
// input, and input can be megabytes long, or binary, whose escapes take
// four characters a byte.
func quotePrefix(s string) string {
	const budget = 22 // characters of escaped text inside the quotes
	used, cut := 0, 0
	for cut < len(s) {
		r, size := utf8.DecodeRuneInString(s[cut:])
		n := len(strconv.Quote(s[cut:cut+size])) - 2
		if r == utf8.RuneError && size == 1 {
			n = 4 // \xff
		}
		if used+n > budget {
			break
		}
		used += n
		cut += size
	}
	if cut == len(s) {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:cut]) + "…"
}

// errTokenTooLong is what tokenLimiter's Read returns past maxToken.
var errTokenTooLong = errors.New("token too long")

// tokenLimiter passes JSON text through while bounding each scalar token
// (a number, a string, a literal) at maxToken bytes and the whole text at
// total bytes: encoding/json buffers a whole token before returning it,
// so a number of a million digits or a string without end would
// otherwise be read into memory in full before ReadJSON could refuse it.
type tokenLimiter struct {
	r        io.Reader
	total    int64
	run      int  // bytes of the current token
	inString bool // inside a string
	escape   bool // after a backslash inside a string
	head     []byte
	err      error
}

func (t *tokenLimiter) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if int64(len(p)) > t.total+1 {
		p = p[:t.total+1]
	}
	n, err := t.r.Read(p)
	for i, c := range p[:n] {
		switch {
		case t.inString:
			t.run++
			switch {
			case t.escape:
				t.escape = false
			case c == '\\':
				t.escape = true
			case c == '"':
				t.inString, t.run = false, 0
			}
		case c == '"':
			t.inString, t.run = true, 1
		case c == '[' || c == ']' || c == ',' || c == ':' || c == '{' || c == '}' ||
			c == ' ' || c == '\t' || c == '\n' || c == '\r':
			t.run = 0
		default:
			t.run++
		}
		if t.run == 1 {
			t.head = t.head[:0]
		}
		if t.run > 0 && len(t.head) < 32 { // more than quotePrefix shows, so it marks the cut
			t.head = append(t.head, c)
		}
		if t.run > maxToken {
			t.err = errTokenTooLong
			return i, nil // what came before is still JSON to decode
		}
	}
	t.total -= int64(n)
	if t.total < 0 {
		t.err = errTextTooLong
		return n, nil
	}
	return n, err
}

var errTextTooLong = errors.New("text too long")

// shortShape prints a shape for an error message, eliding the middle of
// one of very high rank (a header may declare 64 dimensions).
func shortShape(shape []int) string {
	if len(shape) <= 8 {
		return ShapeString(shape)
	}
	return ShapeString(shape[:4]) + "…" + ShapeString(shape[len(shape)-2:]) + fmt.Sprintf(" (rank %d)", len(shape))
}
