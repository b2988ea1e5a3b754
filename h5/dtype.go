package h5

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Datatype classes and properties as the file encodes them (the same
// numbers as libhdf5's H5T_* enums, except mantissa normalisation).
const (
	classInteger = 0
	classFloat   = 1
	classTime    = 2
	classString  = 3
	classBits    = 4
	classOpaque  = 5
	classComp    = 6
	classRef     = 7
	classEnum    = 8
	classVlen    = 9
	classArray   = 10

	orderLE  = 0
	orderBE  = 1
	orderVAX = 2

	signNone = 0
	sign2    = 1

	strNullTerm = 0
	strNullPad  = 1
	strSpacePad = 2

	normImplied = 2 // the file's encoding; libhdf5's H5T_NORM_IMPLIED is 0

	spaceScalar = 0
	spaceSimple = 1
	spaceNull   = 2
)

// typeInfo is a decoded datatype message. A variable-length string has
// class classString and vlenStr set, as libhdf5 reports it.
type typeInfo struct {
	class, size, order, sign int
	vlenStr                  bool
	cset, strpad             int
	precision, offset        int
	spos, epos, esize        int
	mpos, msize, ebias       int
	norm                     int
	isBool                   bool
	vlenBase                 int // a vlen sequence: bytes per element
}

type spaceInfo struct {
	class int
	dims  []uint64 // nil unless simple
}

// datatype decodes a datatype message and returns the bytes it used.
func (o *op) datatype(b []byte, depth int) (typeInfo, int, error) {
	if depth > 8 {
		return typeInfo{}, 0, o.formatf("datatype nested too deep")
	}
	d := o.f.dec(b)
	cv := d.u8()
	bf := [3]byte{d.u8(), d.u8(), d.u8()}
	size := d.u32()
	if d.bad {
		return typeInfo{}, 0, o.formatf("truncated datatype message")
	}
	version, class := int(cv>>4), int(cv&0x0f)
	if version < 1 || version > 5 {
		return typeInfo{}, 0, o.formatf("datatype message version %d", version)
	}
	if size == 0 || size > 1<<24 {
		return typeInfo{}, 0, o.formatf("datatype of %d bytes", size)
	}
	t := typeInfo{class: class, size: int(size)}
	switch class {
	case classInteger, classBits:
		t.order = int(bf[0] & 1)
		if bf[0]&0x08 != 0 {
			t.sign = sign2
		}
		t.offset, t.precision = int(d.u16()), int(d.u16())
	case classFloat:
		t.order = int(bf[0] & 1)
		if bf[0]&0x40 != 0 {
			t.order = orderVAX
		}
		t.norm = int(bf[0]>>4) & 3
		t.spos = int(bf[1])
		t.offset, t.precision = int(d.u16()), int(d.u16())
		t.epos, t.esize, t.mpos, t.msize = int(d.u8()), int(d.u8()), int(d.u8()), int(d.u8())
		t.ebias = int(d.u32())
	case classTime:
		d.skip(2)
	case classString:
		t.strpad, t.cset = int(bf[0]&0x0f), int(bf[0]>>4)
	case classOpaque:
		d.skip(int(bf[0])) // the tag, padded to 8 bytes
	case classRef:
	case classEnum:
		base, n, err := o.datatype(b[d.p:], depth+1)
		if err != nil {
			return typeInfo{}, 0, err
		}
		d.skip(n)
		members := int(bf[0]) | int(bf[1])<<8
		t.sign, t.order = base.sign, base.order
		names := make([]string, 0, min(members, 2))
		for i := 0; i < members; i++ {
			if err := o.step(); err != nil {
				return typeInfo{}, 0, err
			}
			start := d.p
			for d.u8() != 0 && !d.bad {
			}
			if i < 2 && !d.bad {
				names = append(names, string(b[start:d.p-1]))
			}
			if version < 3 {
				d.skip((8 - (d.p-start)%8) % 8)
			}
		}
		vals := d.take(members * base.size)
		t.isBool = !d.bad && members == 2 && t.size == 1 && base.size == 1 &&
			names[0] == "FALSE" && names[1] == "TRUE" && vals[0] == 0 && vals[1] == 1
	case classVlen:
		base, n, err := o.datatype(b[d.p:], depth+1)
		if err != nil {
			return typeInfo{}, 0, err
		}
		d.skip(n)
		t.vlenBase = base.size
		if bf[0]&0x0f == 1 { // a string
			t = typeInfo{class: classString, size: int(size), vlenStr: true,
				strpad: int(bf[0] >> 4), cset: int(bf[1] & 0x0f)}
		}
	default:
		// Compound and array types are named, never decoded; their
		// properties are not needed and the message length bounds them.
		if depth > 0 {
			return typeInfo{}, 0, o.unsupported("%s datatype nested in another", className(class))
		}
		return t, len(b), nil
	}
	if d.bad {
		return typeInfo{}, 0, o.formatf("truncated datatype message")
	}
	return t, d.p, nil
}

// dataspace decodes a dataspace message.
func (o *op) dataspace(b []byte) (spaceInfo, error) {
	d := o.f.dec(b)
	version, rank, flags := d.u8(), int(d.u8()), d.u8()
	var s spaceInfo
	switch version {
	case 1:
		d.skip(5)
		s.class = spaceSimple
		if rank == 0 {
			s.class = spaceScalar
		}
	case 2:
		s.class = int(d.u8())
		if s.class > spaceNull {
			return s, o.formatf("dataspace of unknown type %d", s.class)
		}
	default:
		return s, o.formatf("dataspace message version %d", version)
	}
	if rank > maxRank {
		return s, o.formatf("dataspace of rank %d, more than %d", rank, maxRank)
	}
	if s.class == spaceSimple {
		s.dims = make([]uint64, rank)
		for i := range s.dims {
			s.dims[i] = d.length()
		}
	}
	_ = flags // maximum dimensions and permutations do not change what is read
	if d.bad {
		return s, o.formatf("truncated dataspace message")
	}
	return s, nil
}

// floatLayout is an IEEE 754 binary format as HDF5 describes it.
type floatLayout struct {
	name                                        string
	size, spos, epos, esize, mpos, msize, ebias int
}

var floatLayouts = []floatLayout{
	{"float16", 2, 15, 10, 5, 0, 10, 15},
	{"float32", 4, 31, 23, 8, 0, 23, 127},
	{"float64", 8, 63, 52, 11, 0, 52, 1023},
}

// floatName returns "float16", "float32" or "float64" for the standard
// IEEE layouts in either byte order, and "" for anything else.
func floatName(t typeInfo) string {
	for _, l := range floatLayouts {
		if t.size == l.size && t.precision == 8*l.size && t.offset == 0 &&
			t.spos == l.spos && t.epos == l.epos && t.esize == l.esize &&
			t.mpos == l.mpos && t.msize == l.msize && t.ebias == l.ebias &&
			t.norm == normImplied {
			return l.name
		}
	}
	return ""
}

// dtypeName names a datatype as DatasetShape documents it. Big-endian
// numbers get a ">" suffix; other byte orders and unusual layouts are
// "other:float" or "other:integer".
func dtypeName(t typeInfo) string {
	suffix := ""
	if t.class == classFloat || t.class == classInteger {
		switch {
		case t.order == orderBE && t.size > 1:
			suffix = ">"
		case t.order != orderLE && t.size > 1:
			return "other:" + className(t.class)
		}
	}
	switch t.class {
	case classFloat:
		if name := floatName(t); name != "" {
			return name + suffix
		}
	case classInteger:
		if t.offset != 0 || t.precision != 8*t.size {
			break
		}
		switch t.size {
		case 1, 2, 4, 8:
			switch t.sign {
			case sign2:
				return fmt.Sprintf("int%d%s", 8*t.size, suffix)
			case signNone:
				return fmt.Sprintf("uint%d%s", 8*t.size, suffix)
			}
		}
	case classString:
		return "string"
	case classEnum:
		if t.isBool {
			return "bool"
		}
	}
	return "other:" + className(t.class)
}

func className(c int) string {
	switch c {
	case classInteger:
		return "integer"
	case classFloat:
		return "float"
	case classString:
		return "string"
	case classOpaque:
		return "opaque"
	case classEnum:
		return "enum"
	case classBits:
		return "bitfield"
	case classTime:
		return "time"
	case classComp:
		return "compound"
	case classRef:
		return "reference"
	case classVlen:
		return "vlen"
	case classArray:
		return "array"
	}
	return fmt.Sprintf("class%d", c)
}

// describe says what an attribute or dataset holds, for error messages:
// "a float64 scalar", "a string array of 3 elements", "an int32 array of
// shape (2, 3)".
func describe(t typeInfo, s spaceInfo) string {
	return article(describeNoArticle(t, s))
}

// article prefixes "a" or "an"; u is left out for "a uint8".
func article(s string) string {
	if s != "" && strings.IndexByte("aeio", s[0]) >= 0 {
		return "an " + s
	}
	return "a " + s
}

func describeNoArticle(t typeInfo, s spaceInfo) string {
	name := dtypeName(t)
	switch s.class {
	case spaceScalar:
		return name + " scalar"
	case spaceNull:
		return name + " with no data (null dataspace)"
	case spaceSimple:
		if len(s.dims) == 1 {
			return fmt.Sprintf("%s array of %d elements", name, s.dims[0])
		}
		return fmt.Sprintf("%s array of shape %s", name, shapeString(s.dims))
	}
	return name + " with an unknown dataspace"
}

// numElements multiplies dims, failing on overflow or beyond max.
func numElements(dims []uint64, max uint64) (uint64, error) {
	n := uint64(1)
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > max {
			return 0, fmt.Errorf("shape %s has more than %d elements", shapeString(dims), max)
		}
		n = lo
	}
	return n, nil
}

// intShape converts dims to []int, which DatasetShape returns.
func intShape(dims []uint64) ([]int, error) {
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d of %s is too large", i, shapeString(dims))
		}
		shape[i] = int(d)
	}
	return shape, nil
}
