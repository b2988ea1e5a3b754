package tensor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Tensors as JSON nested arrays (see tensorio_npy.go).

// maxJSONRank bounds the nesting of JSON input, as numpy bounds ranks.
const maxJSONRank = 64

// ReadJSON reads a tensor written as JSON nested arrays of numbers, such as
// [[1, 2, 3], [4, 5, 6]] for shape (2, 3). The arrays must be rectangular:
// every array at one depth has the same length, and numbers appear only at
// the innermost depth. Errors name the position of the offending value,
// as in "at [1][2]".
func ReadJSON(r io.Reader) (*Tensor, error) { return Limit{}.ReadJSON(r) }

// ReadJSON reads nested arrays as the package function does, within l:
// at most l.Values numbers, l.Row in one innermost array, each value at
// most 64 characters long (a million-digit number is refused after 64),
// and at most 66 bytes of text per value allowed.
func (l Limit) ReadJSON(r io.Reader) (*Tensor, error) {
	lim := &tokenLimiter{r: r, total: int64(l.values())*(maxToken+2) + 1<<20}
	dec := json.NewDecoder(bufio.NewReader(lim))
	dec.UseNumber()
	p := &jsonTensor{dec: dec, lim: lim, limit: l}
	tok, err := p.token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("json: empty input")
		}
		return nil, err
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		return nil, errors.New("json: want a nested array of numbers, got an object")
	}
	if err := p.value(tok, 0); err != nil {
		return nil, err
	}
	if _, err := p.token(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("json: more data after the array (byte %d)", p.dec.InputOffset())
		}
		return nil, err
	}
	rank := 0
	for rank < len(p.kinds) && p.kinds[rank] == 'a' {
		rank++
	}
	return &Tensor{Shape: append([]int{}, p.shape[:rank]...), Data: p.data}, nil
}

type jsonTensor struct {
	dec   *json.Decoder
	lim   *tokenLimiter
	limit Limit
	kinds []byte // per depth: 'a' arrays, 'n' numbers
	shape []int  // per array depth: its length, set by the first array
	path  []int  // the index of the value being read, per depth
	data  []float32
}

func (p *jsonTensor) token() (json.Token, error) {
	tok, err := p.dec.Token()
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, errTokenTooLong):
		return nil, fmt.Errorf("json: at byte %d: a value longer than %d characters, %s", p.dec.InputOffset(), maxToken, quotePrefix(string(p.lim.head)))
	case errors.Is(err, errTextTooLong):
		return nil, fmt.Errorf("json: more text than %d values can take", p.limit.values())
	}
	if err != nil && err != io.EOF {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("json: invalid JSON at byte %d: %v", se.Offset, se)
		}
		return nil, fmt.Errorf("json: %w", err)
	}
	return tok, err
}

func (p *jsonTensor) at() string {
	var b strings.Builder
	for k, i := range p.path {
		if k == 8 && len(p.path) > 9 { // arrays nest up to 64 deep
			fmt.Fprintf(&b, "…[%d]", p.path[len(p.path)-1])
			break
		}
		fmt.Fprintf(&b, "[%d]", i)
	}
	if b.Len() == 0 {
		return "the top level"
	}
	return b.String()
}

func (p *jsonTensor) errorf(format string, args ...any) error {
	return fmt.Errorf("json: at %s: %s", p.at(), fmt.Sprintf(format, args...))
}

// kind records that depth holds arrays or numbers, and refuses a mix.
func (p *jsonTensor) kind(depth int, k byte) error {
	if depth == len(p.kinds) {
		p.kinds = append(p.kinds, k)
		if k == 'a' {
			p.shape = append(p.shape, -1)
		}
		return nil
	}
	if p.kinds[depth] != k {
		if k == 'a' {
			return p.errorf("an array where the other elements are numbers")
		}
		return p.errorf("a number where the other elements are arrays")
	}
	return nil
}

func (p *jsonTensor) value(tok json.Token, depth int) error {
	switch v := tok.(type) {
	case json.Number:
		if err := p.kind(depth, 'n'); err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(v), 32)
		if err != nil {
			return p.errorf("%s does not fit in a float32", quotePrefix(string(v)))
		}
		if len(p.data) >= p.limit.values() {
			return p.limit.tooMany("json")
		}
		p.data = append(p.data, float32(f))
		return nil
	case json.Delim:
		if v != '[' {
			return p.errorf("want a number or an array, got an object")
		}
	case string:
		return p.errorf("want a number, got the string %s", quotePrefix(v))
	case bool:
		return p.errorf("want a number, got %v", v)
	case nil:
		return p.errorf("want a number, got null")
	}
	if depth >= maxJSONRank {
		return p.errorf("arrays nested more than %d deep", maxJSONRank)
	}
	if err := p.kind(depth, 'a'); err != nil {
		return err
	}
	p.path = append(p.path, 0)
	n := 0
	for {
		tok, err := p.token()
		if err == io.EOF {
			return errors.New("json: input ends inside an array")
		}
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			break
		}
		p.path[depth] = n
		if err := p.value(tok, depth+1); err != nil {
			return err
		}
		if n++; n > p.limit.row() && p.kinds[depth+1] == 'n' {
			return p.errorf("an array of more than %d numbers, more than the input can use", p.limit.row())
		}
	}
	p.path = p.path[:depth]
	switch want := p.shape[depth]; {
	case want < 0:
		p.shape[depth] = n
	case want != n:
		return p.errorf("%d elements, but the first array at this depth has %d (the arrays must be rectangular)", n, want)
	}
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// WriteJSON writes t as JSON nested arrays, the innermost arrays one per
// line. JSON has no NaN or infinity: a tensor holding one is refused
// (write .npy or CSV instead) rather than written as something else.
func WriteJSON(w io.Writer, t *Tensor) error {
	if err := t.Check(); err != nil {
		return err
	}
	for i, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("the value at %s is %v, which JSON cannot represent; write .npy or CSV instead", indexString(t.Shape, i), v)
		}
	}
	var b []byte
	b = appendJSON(b, t.Shape, t.Data, "")
	b = append(b, '\n')
	_, err := w.Write(b)
	return err
}

func appendJSON(b []byte, shape []int, data []float32, indent string) []byte {
	if len(shape) == 0 {
		return strconv.AppendFloat(b, float64(data[0]), 'g', -1, 32)
	}
	b = append(b, '[')
	if len(shape) == 1 {
		for i, v := range data {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
		}
		return append(b, ']')
	}
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	inner := indent + "  "
	for i := range shape[0] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, inner...)
		b = appendJSON(b, shape[1:], data[i*per:(i+1)*per], inner)
	}
	if shape[0] > 0 {
		b = append(b, '\n')
		b = append(b, indent...)
	}
	return append(b, ']')
}

// indexString names element i of a row-major tensor, as in [2][0].
func indexString(shape []int, i int) string {
	idx := make([]string, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = fmt.Sprintf("[%d]", i%shape[k])
			i /= shape[k]
		}
	}
	return strings.Join(idx, "")
}
