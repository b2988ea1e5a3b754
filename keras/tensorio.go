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
	case "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1":
		var d []int64
		if err = nr.Read(&d); err == nil {
			t.Data = make([]float32, len(d))
			for i, v := range d {
				t.Data[i] = float32(v)
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
