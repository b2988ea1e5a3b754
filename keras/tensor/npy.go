package tensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// Readers and writers of tensors in the formats people hand to a model:
// NumPy .npy files (here), JSON nested arrays (tensorio_json.go) and CSV
// tables (tensorio_csv.go). Every reader takes untrusted bytes: it never
// panics, never unpickles, and never allocates more than the data it has
// actually read justifies, whatever a header claims.

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
func ReadNPY(r io.Reader) (*Tensor, error) { return Limit{}.ReadNPY(r) }

// ReadNPY reads a .npy array as the package function does, refusing a
// header that declares more values than l allows before reading any data.
func (l Limit) ReadNPY(r io.Reader) (*Tensor, error) {
	shape, typ, fortran, err := readNPYHeader(r)
	if err != nil {
		return nil, err
	}
	n := Len(shape)
	if n < 0 || n > l.values() {
		return nil, fmt.Errorf("npy: the header declares shape %s, more than the %d values the input can use", shortShape(shape), l.values())
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
		shortShape(shape), typ.descr, need, have)
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
			return nil, typ, false, fmt.Errorf("npy: header: shape entry %s is not a dimension", quotePrefix(fmt.Sprint(v)))
		}
		shape[i] = int(n)
	}
	return shape, typ, fortran, nil
}

// parseNPYType reads a dtype string such as '<f4' and refuses the dtypes
// that have no float32 value.
func parseNPYType(descr string) (npyType, error) {
	t := npyType{order: binary.LittleEndian, descr: quotePrefix(descr)}
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
		return t, fmt.Errorf("npy: empty dtype %s", quotePrefix(descr))
	}
	t.kind = s[0]
	size, err := strconv.Atoi(s[1:])
	if s[1:] == "" {
		size, err = 0, nil
	}
	switch t.kind {
	case 'O':
		return t, fmt.Errorf("npy: dtype %s is an object array, whose values are pickled Python objects; kerascope never unpickles (save a numeric array)", quotePrefix(descr))
	case 'c':
		return t, fmt.Errorf("npy: dtype %s is complex; a model takes real numbers (save the real part, or a float array)", quotePrefix(descr))
	case 'U', 'S', 'a':
		return t, fmt.Errorf("npy: dtype %s holds strings; a model takes numbers (tokenize first)", quotePrefix(descr))
	case 'M', 'm':
		return t, fmt.Errorf("npy: dtype %s holds dates or durations; convert them to numbers first", quotePrefix(descr))
	case 'V':
		return t, fmt.Errorf("npy: dtype %s is raw or structured data; save a plain numeric array", quotePrefix(descr))
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
		return t, fmt.Errorf("npy: dtype %s is not one kerascope converts (float16/32/64, int and uint 8 to 64 bits, bool)", quotePrefix(descr))
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
		return nil, fmt.Errorf("unexpected %s after the dictionary", p.rest())
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := d[k]; !ok {
			return nil, fmt.Errorf("no %s key", quotePrefix(k))
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

func (p *pyParser) rest() string { return quotePrefix(p.s[p.i:]) }

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
				return fmt.Errorf("want ':' after key %s", quotePrefix(key))
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return err
			}
			if _, dup := d[key]; dup {
				return fmt.Errorf("key %s twice", quotePrefix(key))
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
			return nil, fmt.Errorf("bad integer %s", quotePrefix(p.s[p.i:j]))
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
	return nil, fmt.Errorf("unexpected %s", p.rest())
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
			return fmt.Errorf("unexpected %s", p.rest())
		}
	}
}

// WriteNPY writes t as a NumPy .npy file (format 1.0): dtype '<f4', C
// order, the header padded to 64 bytes as numpy pads it. np.load reads it.
func WriteNPY(w io.Writer, t *Tensor) error {
	if err := t.Check(); err != nil {
		return err
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", ShapeString(t.Shape))
	// magic (6) + version (2) + length (2) + dict + padding + '\n'.
	pad := 63 - (10+len(dict))%64
	if 10+len(dict)+pad+1 > 10+65535 {
		return fmt.Errorf("npy: shape %s makes too long a header", ShapeString(t.Shape))
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
