package keras

import (
	"fmt"
	"io"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// ReadNPY reads a NumPy .npy array as a float32 tensor. Integer, boolean
// and float64 arrays are converted; complex, string and object arrays are
// refused (object arrays are pickles, which kerascope never unpickles).
func ReadNPY(r io.Reader) (*Tensor, error) {
	nr, err := npy.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	h := nr.Header.Descr
	if h.Fortran {
		return nil, fmt.Errorf("npy: Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
	}
	n := shapeLen(h.Shape)
	if n < 0 {
		return nil, fmt.Errorf("npy: shape %v is too large", h.Shape)
	}
	t := &Tensor{Shape: append([]int{}, h.Shape...)}
	// npyio keeps the quotes of the header's descr string.
	switch strings.Trim(h.Type, "'\"") {
	case "<f4", "|f4":
		t.Data = make([]float32, 0, n)
		err = nr.Read(&t.Data)
	case "<f8":
		var d []float64
		if err = nr.Read(&d); err == nil {
			t.Data = make([]float32, len(d))
			for i, v := range d {
				t.Data[i] = float32(v)
			}
		}
	// npyio reads each dtype only into a slice of its own Go type.
	case "<i8":
		t.Data, err = readInts[int64](nr)
	case "<i4":
		t.Data, err = readInts[int32](nr)
	case "<i2":
		t.Data, err = readInts[int16](nr)
	case "|i1":
		t.Data, err = readInts[int8](nr)
	case "<u8":
		t.Data, err = readInts[uint64](nr)
	case "<u4":
		t.Data, err = readInts[uint32](nr)
	case "<u2":
		t.Data, err = readInts[uint16](nr)
	case "|u1":
		t.Data, err = readInts[uint8](nr)
	case "|b1":
		var d []bool
		if err = nr.Read(&d); err == nil {
			t.Data = make([]float32, len(d))
			for i, v := range d {
				if v {
					t.Data[i] = 1
				}
			}
		}
	default:
		return nil, fmt.Errorf("npy: dtype %q: want a float, integer or bool array", h.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	if len(t.Data) != n {
		return nil, fmt.Errorf("npy: shape %v holds %d values, read %d", h.Shape, n, len(t.Data))
	}
	return t, nil
}

// readInts reads an integer array as float32 values.
func readInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](nr *npy.Reader) ([]float32, error) {
	var d []T
	if err := nr.Read(&d); err != nil {
		return nil, err
	}
	out := make([]float32, len(d))
	for i, v := range d {
		out[i] = float32(v)
	}
	return out, nil
}
