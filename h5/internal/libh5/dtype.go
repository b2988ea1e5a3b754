//go:build libhdf5

package libh5

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

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
