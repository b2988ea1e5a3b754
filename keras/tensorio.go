package keras

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// Readers and writers of tensors in the formats people hand to a model:
// NumPy .npy files, JSON nested arrays and CSV tables. Every reader takes
// untrusted bytes: it never panics, never unpickles, and never allocates
// more than the data it has actually read justifies, whatever a header
// claims.

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// npyMaxHeader bounds the header dictionary: real headers are a line long
// (numpy itself refuses more than 10000 bytes by default).
const npyMaxHeader = 1 << 16

// npyChunk is how many bytes ReadNPY decodes at a time when it cannot
// know in advance how many bytes the reader holds.
const npyChunk = 1 << 16

// An npyType is a dtype ReadNPY converts: its kind ('f', 'i', 'u', 'b'),
// its size in bytes and its byte order.
type npyType struct {
	kind  byte
	size  int
	order binary.ByteOrder
	descr string
}

// ReadNPY reads a NumPy .npy array (format versions 1 to 3) as a float32
// tensor, converting as Keras casts its inputs: float16 and float64
// values are rounded to float32, integers (signed and unsigned, 8 to 64
// bits) become the nearest float32, booleans become 0 and 1. Both byte
// orders are read, and Fortran-ordered arrays are transposed into the row
// major order Tensor uses. Complex, string, datetime, structured and
// object arrays are refused; object arrays are pickles, which kerascope
// never unpickles. Bytes after the array are ignored, as numpy ignores
// them.
//
// The element count the header declares is checked against the bytes the
// reader actually holds before memory is set aside for it: a header that
// claims a huge shape yields an error, not an allocation. When r reports
// its size (an *os.File on a regular file, a *bytes.Reader, a
// *strings.Reader, a *bytes.Buffer) the check happens up front; otherwise
// memory grows only with the bytes read.
func ReadNPY(r io.Reader) (*Tensor, error) {
	shape, typ, fortran, err := readNPYHeader(r)
	if err != nil {
		return nil, err
	}
	n := shapeLen(shape)
	if n < 0 {
		return nil, fmt.Errorf("npy: shape %s is too large", shapeString(shape))
	}
	need := int64(n) * int64(typ.size)
	capacity := min(n, npyChunk)
	if avail, ok := remaining(r); ok {
		if avail < need {
			return nil, npyTruncated(shape, typ, need, avail)
		}
		capacity = n
	}
	data := make([]float32, 0, capacity)
	buf := make([]byte, npyChunk-npyChunk%8)
	for got := int64(0); got < need; {
		chunk := buf[:min(int64(len(buf)), need-got)]
		k, err := io.ReadFull(r, chunk)
		got += int64(k)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, npyTruncated(shape, typ, need, got)
		}
		if err != nil {
			return nil, fmt.Errorf("npy: %w", err)
		}
		data = typ.decode(data, chunk)
	}
	if fortran && len(shape) > 1 {
		data = fromFortran(data, shape)
	}
	return &Tensor{Shape: append([]int{}, shape...), Data: data}, nil
}

func npyTruncated(shape []int, typ npyType, need, have int64) error {
	return fmt.Errorf("npy: truncated: the header declares shape %s of %s, %d bytes, but only %d bytes follow",
		shapeString(shape), typ.descr, need, have)
}

// remaining reports how many bytes r still holds, when it can tell.
func remaining(r io.Reader) (int64, bool) {
	switch r := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		return int64(r.Len()), true
	case interface {
		Stat() (fs.FileInfo, error)
		io.Seeker
	}:
		fi, err := r.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		at, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, false
		}
		return max(fi.Size()-at, 0), true
	}
	return 0, false
}

// decode appends the values of raw, a whole number of elements, to dst.
func (t npyType) decode(dst []float32, raw []byte) []float32 {
	o := t.order
	switch {
	case t.kind == 'f' && t.size == 4:
		for i := 0; i+4 <= len(raw); i += 4 {
			dst = append(dst, math.Float32frombits(o.Uint32(raw[i:])))
		}
	case t.kind == 'f' && t.size == 8:
		for i := 0; i+8 <= len(raw); i += 8 {
			dst = append(dst, float32(math.Float64frombits(o.Uint64(raw[i:]))))
		}
	case t.kind == 'f' && t.size == 2:
		for i := 0; i+2 <= len(raw); i += 2 {
			dst = append(dst, halfToFloat32(o.Uint16(raw[i:])))
		}
	case t.kind == 'b':
		for _, b := range raw {
			if b != 0 {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
	case t.kind == 'i' && t.size == 1:
		for _, b := range raw {
			dst = append(dst, float32(int8(b)))
		}
	case t.kind == 'u' && t.size == 1:
		for _, b := range raw {
			dst = append(dst, float32(b))
		}
	case t.kind == 'i' && t.size == 2:
		for i := 0; i+2 <= len(raw); i += 2 {
			dst = append(dst, float32(int16(o.Uint16(raw[i:]))))
		}
	case t.kind == 'u' && t.size == 2:
		for i := 0; i+2 <= len(raw); i += 2 {
			dst = append(dst, float32(o.Uint16(raw[i:])))
		}
	case t.kind == 'i' && t.size == 4:
		for i := 0; i+4 <= len(raw); i += 4 {
			dst = append(dst, float32(int32(o.Uint32(raw[i:]))))
		}
	case t.kind == 'u' && t.size == 4:
		for i := 0; i+4 <= len(raw); i += 4 {
			dst = append(dst, float32(o.Uint32(raw[i:])))
		}
	case t.kind == 'i' && t.size == 8:
		for i := 0; i+8 <= len(raw); i += 8 {
			dst = append(dst, float32(int64(o.Uint64(raw[i:]))))
		}
	case t.kind == 'u' && t.size == 8:
		for i := 0; i+8 <= len(raw); i += 8 {
			dst = append(dst, float32(o.Uint64(raw[i:])))
		}
	}
	return dst
}

// halfToFloat32 converts IEEE 754 binary16 bits, subnormals included.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// A subnormal half is frac·2⁻²⁴, exactly representable in float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// fromFortran reorders column-major data into row-major order.
func fromFortran(data []float32, shape []int) []float32 {
	out := make([]float32, len(data))
	if len(data) == 0 {
		return out
	}
	// Walk the output in row-major order, keeping the source offset in
	// step: in Fortran order axis k has stride shape[0]·…·shape[k-1].
	strides := make([]int, len(shape))
	s := 1
	for k, d := range shape {
		strides[k] = s
		s *= d
	}
	idx := make([]int, len(shape))
	src := 0
	for i := range out {
		out[i] = data[src]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			src += strides[k]
			if idx[k] < shape[k] {
				break
			}
			src -= strides[k] * shape[k]
			idx[k] = 0
		}
	}
	return out
}

// readNPYHeader reads the magic, version and header dictionary.
func readNPYHeader(r io.Reader) (shape []int, typ npyType, fortran bool, err error) {
	var pre [10]byte
	if k, err := io.ReadFull(r, pre[:8]); err != nil {
		if k == 0 {
			return nil, typ, false, errors.New("npy: empty input, not a NumPy .npy file")
		}
		return nil, typ, false, errors.New("npy: not a NumPy .npy file (too short)")
	}
	if string(pre[:6]) != npyMagic {
		return nil, typ, false, errors.New("npy: not a NumPy .npy file (no \\x93NUMPY magic)")
	}
	var hlen int
	switch major := pre[6]; major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, typ, false, errors.New("npy: truncated header")
		}
		hlen = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, typ, false, errors.New("npy: truncated header")
		}
		hlen = int(binary.LittleEndian.Uint32(l[:]))
	default:
		return nil, typ, false, fmt.Errorf("npy: format version %d.%d is not one kerascope reads (1.0, 2.0, 3.0)", major, pre[7])
	}
	if hlen > npyMaxHeader {
		return nil, typ, false, fmt.Errorf("npy: header of %d bytes is implausibly large", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, typ, false, errors.New("npy: truncated header")
	}
	d, err := parseNPYDict(hdr)
	if err != nil {
		return nil, typ, false, fmt.Errorf("npy: header: %w", err)
	}
	descr, ok := d["descr"].(string)
	if !ok {
		if _, isList := d["descr"].(pyList); isList {
			return nil, typ, false, errors.New("npy: structured arrays (record dtypes) are not supported; save a plain numeric array")
		}
		return nil, typ, false, errors.New("npy: header: 'descr' is not a dtype string")
	}
	if typ, err = parseNPYType(descr); err != nil {
		return nil, typ, false, err
	}
	if fortran, ok = d["fortran_order"].(bool); !ok {
		return nil, typ, false, errors.New("npy: header: 'fortran_order' is not True or False")
	}
	tup, ok := d["shape"].(pyTuple)
	if !ok {
		return nil, typ, false, errors.New("npy: header: 'shape' is not a tuple")
	}
	if len(tup) > 64 {
		return nil, typ, false, fmt.Errorf("npy: header: %d dimensions; numpy allows 64", len(tup))
	}
	shape = make([]int, len(tup))
	for i, v := range tup {
		n, ok := v.(int64)
		if !ok || n < 0 || n > 1<<40 {
			return nil, typ, false, fmt.Errorf("npy: header: shape entry %v is not a dimension", v)
		}
		shape[i] = int(n)
	}
	return shape, typ, fortran, nil
}

// parseNPYType reads a dtype string such as '<f4' and refuses the dtypes
// that have no float32 value.
func parseNPYType(descr string) (npyType, error) {
	t := npyType{order: binary.LittleEndian, descr: fmt.Sprintf("%q", descr)}
	s := descr
	if s != "" && strings.ContainsRune("<>|=", rune(s[0])) {
		switch s[0] {
		case '>':
			t.order = binary.BigEndian
		case '=':
			t.order = binary.NativeEndian
		}
		s = s[1:]
	}
	if s == "" {
		return t, fmt.Errorf("npy: empty dtype %q", descr)
	}
	t.kind = s[0]
	size, err := strconv.Atoi(s[1:])
	if s[1:] == "" {
		size, err = 0, nil
	}
	switch t.kind {
	case 'O':
		return t, fmt.Errorf("npy: dtype %q is an object array, whose values are pickled Python objects; kerascope never unpickles (save a numeric array)", descr)
	case 'c':
		return t, fmt.Errorf("npy: dtype %q is complex; a model takes real numbers (save the real part, or a float array)", descr)
	case 'U', 'S', 'a':
		return t, fmt.Errorf("npy: dtype %q holds strings; a model takes numbers (tokenize first)", descr)
	case 'M', 'm':
		return t, fmt.Errorf("npy: dtype %q holds dates or durations; convert them to numbers first", descr)
	case 'V':
		return t, fmt.Errorf("npy: dtype %q is raw or structured data; save a plain numeric array", descr)
	}
	ok := err == nil
	switch t.kind {
	case 'f':
		ok = ok && (size == 2 || size == 4 || size == 8)
	case 'i', 'u':
		ok = ok && (size == 1 || size == 2 || size == 4 || size == 8)
	case 'b':
		ok = ok && size == 1
	default:
		ok = false
	}
	if !ok {
		return t, fmt.Errorf("npy: dtype %q is not one kerascope converts (float16/32/64, int and uint 8 to 64 bits, bool)", descr)
	}
	t.size = size
	return t, nil
}

// The header is a Python dict literal; parseNPYDict reads the small part
// of Python literal syntax it uses (strings, ints, booleans, None, tuples,
// lists, dicts), never evaluating anything.

type (
	pyTuple []any
	pyList  []any
)

func parseNPYDict(hdr []byte) (map[string]any, error) {
	p := &pyParser{s: string(hdr)}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the dictionary", p.rest())
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := d[k]; !ok {
			return nil, fmt.Errorf("no %q key", k)
		}
	}
	if len(d) != 3 {
		return nil, errors.New("keys other than 'descr', 'fortran_order' and 'shape'")
	}
	return d, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *pyParser) value(depth int) (any, error) {
	if depth > 16 {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("ends early")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		d := make(map[string]any)
		err := p.items('}', depth, func() error {
			k, err := p.value(depth + 1)
			if err != nil {
				return err
			}
			key, ok := k.(string)
			if !ok {
				return errors.New("a dictionary key is not a string")
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return fmt.Errorf("want ':' after key %q", key)
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return err
			}
			if _, dup := d[key]; dup {
				return fmt.Errorf("key %q twice", key)
			}
			d[key] = v
			return nil
		})
		return d, err
	case c == '(' || c == '[':
		p.i++
		end := byte(')')
		if c == '[' {
			end = ']'
		}
		var l []any
		err := p.items(end, depth, func() error {
			v, err := p.value(depth + 1)
			l = append(l, v)
			return err
		})
		if c == '[' {
			return pyList(l), err
		}
		return pyTuple(l), err
	case c == '\'' || c == '"':
		j := strings.IndexByte(p.s[p.i+1:], c)
		if j < 0 {
			return nil, errors.New("unterminated string")
		}
		s := p.s[p.i+1 : p.i+1+j]
		if strings.ContainsRune(s, '\\') {
			return nil, errors.New("escapes in strings are not supported")
		}
		p.i += j + 2
		return s, nil
	case c >= '0' && c <= '9' || c == '-':
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", p.s[p.i:j])
		}
		if j < len(p.s) && p.s[j] == 'L' { // Python 2 wrote long integers as 3L
			j++
		}
		p.i = j
		return n, nil
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if strings.HasPrefix(p.s[p.i:], w.word) {
			p.i += len(w.word)
			return w.v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q", p.rest())
}

// items parses comma-separated items up to end, allowing a trailing comma.
func (p *pyParser) items(end byte, depth int, item func() error) error {
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return nil
		}
		if err := item(); err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.s) {
			return errors.New("ends early")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case end:
		default:
			return fmt.Errorf("unexpected %q", p.rest())
		}
	}
}

// WriteNPY writes t as a NumPy .npy file (format 1.0): dtype '<f4', C
// order, the header padded to 64 bytes as numpy pads it. np.load reads it.
func WriteNPY(w io.Writer, t *Tensor) error {
	if err := t.check(); err != nil {
		return err
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", pyShape(t.Shape))
	// magic (6) + version (2) + length (2) + dict + padding + '\n'.
	pad := 63 - (10+len(dict))%64
	if 10+len(dict)+pad+1 > 10+65535 {
		return fmt.Errorf("npy: shape %s makes too long a header", shapeString(t.Shape))
	}
	out := make([]byte, 0, 10+len(dict)+pad+1+4*len(t.Data))
	out = append(out, npyMagic...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(dict)+pad+1))
	out = append(out, dict...)
	out = append(out, bytes.Repeat([]byte{' '}, pad)...)
	out = append(out, '\n')
	for _, v := range t.Data {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	_, err := w.Write(out)
	return err
}

// pyShape formats a shape as Python writes a tuple: (3,) and ().
func pyShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// maxJSONRank bounds the nesting of JSON input, as numpy bounds ranks.
const maxJSONRank = 64

// ReadJSON reads a tensor written as JSON nested arrays of numbers, such as
// [[1, 2, 3], [4, 5, 6]] for shape (2, 3). The arrays must be rectangular:
// every array at one depth has the same length, and numbers appear only at
// the innermost depth. Errors name the position of the offending value,
// as in "at [1][2]".
func ReadJSON(r io.Reader) (*Tensor, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.UseNumber()
	p := &jsonTensor{dec: dec}
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
	kinds []byte // per depth: 'a' arrays, 'n' numbers
	shape []int  // per array depth: its length, set by the first array
	path  []int  // the index of the value being read, per depth
	data  []float32
}

func (p *jsonTensor) token() (json.Token, error) {
	tok, err := p.dec.Token()
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
	for _, i := range p.path {
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
			return p.errorf("%s does not fit in a float32", v)
		}
		p.data = append(p.data, float32(f))
		return nil
	case json.Delim:
		if v != '[' {
			return p.errorf("want a number or an array, got an object")
		}
	case string:
		return p.errorf("want a number, got the string %q", truncate(v, 20))
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
		n++
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
	if err := t.check(); err != nil {
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

// ReadCSV reads a table of numbers, one sample per row, as a tensor of
// shape (rows, columns). Fields are separated by commas; spaces around a
// number are ignored; lines starting with '#' (np.savetxt's header) and
// blank lines are skipped. A first row in which no cell is a number is a
// header and is skipped; any other non-numeric cell is an error naming its
// line and column. NaN and Inf are read as such.
func ReadCSV(r io.Reader) (*Tensor, error) {
	br := bufio.NewReader(r)
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
		return 0, fmt.Errorf("%s does not fit in a float32", truncate(s, 30))
	}
	msg := fmt.Sprintf("%q is not a number", truncate(s, 30))
	if f := strings.Fields(s); len(f) > 1 {
		if _, err := strconv.ParseFloat(f[0], 32); err == nil {
			msg += " (values separated by spaces? kerascope's CSV separates them with commas: np.savetxt(path, x, delimiter=\",\"))"
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
	if err := t.check(); err != nil {
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
