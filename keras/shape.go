package keras

import (
	"fmt"
	"strconv"
	"strings"
)

// None stands for an unknown dimension (Keras's None) in a [Shape].
const None = -1

// maxRank and maxDim bound shapes read from a file, so that a hostile config
// cannot make shape arithmetic overflow.
const (
	maxRank = 16
	maxDim  = 1 << 31
)

// A Shape is a tensor shape as Keras reports it, batch dimension included
// where Keras includes it. [None] marks an unknown dimension.
type Shape []int

// Equal reports whether s and t have the same rank and dimensions.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape {
	if s == nil {
		return nil
	}
	return append(Shape{}, s...)
}

// String formats s as Keras 3 prints shapes: "(None, 3, 1)"; a rank-1 shape
// prints as "(None)".
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(dimString(d))
	}
	b.WriteByte(')')
	return b.String()
}

// Tuple formats s as a Python tuple, as Keras 2 prints shapes: "(None, 3)",
// with a trailing comma for rank 1: "(None,)".
func (s Shape) Tuple() string {
	if len(s) == 1 {
		return "(" + dimString(s[0]) + ",)"
	}
	return s.String()
}

func dimString(d int) string {
	if d < 0 {
		return "None"
	}
	return strconv.Itoa(d)
}

// Size returns the number of elements of a fully known shape, and false if a
// dimension is unknown or the product overflows.
func (s Shape) Size() (int64, bool) {
	n := int64(1)
	for _, d := range s {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > (1<<62)/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// ParseShape parses a shape as Keras prints it: "(None, 3, 1)", "(None,)",
// "[None, 3]" or "None,3".
func ParseShape(s string) (Shape, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "("), "[")
	t = strings.TrimSuffix(strings.TrimSuffix(t, ")"), "]")
	var out Shape
	for _, f := range strings.Split(t, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.EqualFold(f, "none") || f == "?" || f == "-1" {
			out = append(out, None)
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("shape %q: %q is not a dimension", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}
