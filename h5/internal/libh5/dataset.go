//go:build libhdf5

package libh5

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// DatasetShape returns the dimensions and element type of a dataset
// without reading its data. A scalar dataset has shape [] (empty, non-nil).
//
// dtype is one of "float16", "float32", "float64", "bfloat16", "int8",
// "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
// "string", "bool" (h5py's enum), or "other:<class>" (e.g.
// "other:compound"). Big-endian numbers carry a ">" suffix: "float32>".
// "bfloat16" is what Keras 3 writes for bfloat16 variables: a 2-byte opaque
// type with the dataset attribute dtype="bfloat16".
func (f *File) DatasetShape(path string) (shape []int, dtype string, err error) {
	err = f.run("inspect", path, func() error {
		d, t, s, p, err := f.openDataset(path)
		if err != nil {
			return err
		}
		defer d.Close()
		dtype = f.dtypeOf(p, t)
		dims, err := datasetDims(s)
		if err != nil {
			return err
		}
		shape, err = intShape(dims)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return shape, dtype, nil
}

// ReadFloat32 reads a whole dataset of float32, float64, float16 or
// bfloat16 (all little-endian) as float32.
//
// If want is not nil, the dataset's shape must equal it (want [] means a
// scalar). The shape and the size (at most 1<<31 elements and MaxReadBytes)
// are checked before anything is allocated. float32 is read directly;
// float64 is rounded to nearest (overflowing to ±Inf, as Go's float32()
// does); float16 and bfloat16 are widened exactly, NaN payloads kept. Other
// types, big-endian ones included, are refused: libhdf5 would otherwise
// convert them silently, or, as gonum's Dataset.Read does, copy bytes of
// the file's type into a Go value of another type.
func (f *File) ReadFloat32(path string, want []int) ([]float32, error) {
	var out []float32
	err := f.run("read", path, func() error {
		d, t, s, p, err := f.openDataset(path)
		if err != nil {
			return err
		}
		defer d.Close()
		dims, err := datasetDims(s)
		if err != nil {
			return err
		}
		if want != nil && !sameShape(dims, want) {
			return fmt.Errorf("shape %s, want %s", shapeString(dims), shapeString(want))
		}
		n, err := numElements(dims, maxElements)
		if err != nil {
			return err
		}
		dtype := f.dtypeOf(p, t)
		var elem uint64
		switch dtype {
		case "float32":
			elem = 4
		case "float64":
			elem = 8
		case "float16", "bfloat16":
			elem = 2
		default:
			if strings.HasPrefix(dtype, "float") || strings.HasPrefix(dtype, "bfloat") {
				return fmt.Errorf("datatype %s, want a little-endian float type", dtype)
			}
			return fmt.Errorf("datatype %s, want a float type", dtype)
		}
		need := n * elem
		if elem != 4 {
			need += n * 4 // the converted result
		}
		if need > uint64(MaxReadBytes) {
			return fmt.Errorf("reading %s %s needs %d bytes, more than MaxReadBytes (%d)",
				dtype, shapeString(dims), need, MaxReadBytes)
		}
		if err := checkStorage(d.ID()); err != nil {
			return err
		}
		out, err = readFloats(d.ID(), dtype, int(n))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readFloats reads n elements of a dataset whose type has been checked.
func readFloats(id int64, dtype string, n int) ([]float32, error) {
	out := make([]float32, n)
	if n == 0 {
		return out, nil // there is no &out[0] to read into
	}
	switch dtype {
	case "float32":
		// The memory type is the host's float: no conversion on
		// little-endian hosts, a byte swap on big-endian ones.
		if err := readDataset(id, memFloat32, unsafe.Pointer(&out[0])); err != nil {
			return nil, err
		}
	case "float64":
		tmp := make([]float64, n)
		if err := readDataset(id, memFloat64, unsafe.Pointer(&tmp[0])); err != nil {
			return nil, err
		}
		for i, v := range tmp {
			out[i] = float32(v)
		}
	case "float16", "bfloat16":
		raw := make([]byte, 2*n)
		if err := readDataset(id, memRaw, unsafe.Pointer(&raw[0])); err != nil {
			return nil, err
		}
		conv := float16to32
		if dtype == "bfloat16" {
			conv = bfloat16to32
		}
		for i := range out {
			out[i] = conv(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	default:
		panic("h5: readFloats: unchecked dtype " + dtype)
	}
	return out, nil
}

// openDataset runs on the worker; the caller closes d.
func (f *File) openDataset(path string) (d *hdf5.Dataset, t typeInfo, s spaceInfo, p string, err error) {
	p, kind, err := f.resolve(path)
	if err != nil {
		return nil, t, s, "", err
	}
	if kind != objDataset {
		return nil, t, s, "", fmt.Errorf("object is %s, not a dataset", article(kind.String()))
	}
	d, err = f.h.OpenDataset(p)
	if err != nil {
		return nil, t, s, "", lastError()
	}
	t, s, err = describeDataset(d.ID())
	if err != nil {
		d.Close()
		return nil, t, s, "", err
	}
	return d, t, s, p, nil
}

// dtypeOf names the type of the dataset at p, recognising Keras's
// bfloat16 convention. It runs on the worker.
func (f *File) dtypeOf(p string, t typeInfo) string {
	if t.class == classOpaque && t.size == 2 {
		if ok, err := f.attrExists(p, "dtype"); err == nil && ok {
			if v, err := f.stringAttr(p, "dtype"); err == nil && v == "bfloat16" {
				return "bfloat16"
			}
		}
	}
	return dtypeName(t)
}

// datasetDims returns the dims of a simple or scalar dataspace.
func datasetDims(s spaceInfo) ([]uint64, error) {
	switch s.class {
	case spaceScalar:
		return []uint64{}, nil
	case spaceSimple:
		return s.dims, nil
	case spaceNull:
		return nil, fmt.Errorf("dataset has no data (null dataspace)")
	}
	return nil, fmt.Errorf("dataset has an unknown dataspace class %d", s.class)
}

func sameShape(dims []uint64, want []int) bool {
	if len(dims) != len(want) {
		return false
	}
	for i, d := range dims {
		if want[i] < 0 || d != uint64(want[i]) {
			return false
		}
	}
	return true
}
