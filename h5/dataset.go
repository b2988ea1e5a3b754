package h5

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unsafe"
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
	err = f.run("inspect", path, func(o *op) error {
		ds, err := f.openDataset(o, path)
		if err != nil {
			return err
		}
		dtype = o.dtypeOf(ds)
		dims, err := datasetDims(ds.space)
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
// types, big-endian ones included, are refused rather than converted.
func (f *File) ReadFloat32(path string, want []int) ([]float32, error) {
	var out []float32
	err := f.run("read", path, func(o *op) error {
		ds, err := f.openDataset(o, path)
		if err != nil {
			return err
		}
		dims, err := datasetDims(ds.space)
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
		dtype := o.dtypeOf(ds)
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
		if uint64(ds.typ.size) != elem {
			return o.formatf("datatype %s of %d bytes", dtype, ds.typ.size)
		}
		need := n * elem
		if elem != 4 {
			need += n * 4 // the converted result
		}
		if need > uint64(MaxReadBytes) {
			return fmt.Errorf("reading %s %s needs %d bytes, more than MaxReadBytes (%d)",
				dtype, shapeString(dims), need, MaxReadBytes)
		}
		raw, err := o.readData(ds, dims, n)
		if err != nil {
			return err
		}
		out = convert(raw, dtype, int(n))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// convert decodes n little-endian elements of a checked float type.
// raw is the caller's own buffer (readData never returns a cache's): a
// float32 dataset on a little-endian machine is the same bytes, so raw
// becomes the result in place, and loading a model's weights makes no
// second copy of them (ResNet50's load peaked 50 MB higher with one).
func convert(raw []byte, dtype string, n int) []float32 {
	if dtype == "float32" && littleEndian && len(raw) >= 4*n && n > 0 &&
		uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%unsafe.Alignof(float32(0)) == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(raw))), n)
	}
	out := make([]float32, n)
	switch dtype {
	case "float32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case "float64":
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case "float16":
		for i := range out {
			out[i] = float16to32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case "bfloat16":
		for i := range out {
			out[i] = bfloat16to32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	}
	return out
}

// littleEndian reports whether this machine stores a float32 as HDF5's
// little-endian datasets do.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// dataset is a decoded dataset object header.
type dataset struct {
	path  string
	obj   *object
	typ   typeInfo
	space spaceInfo
}

func (f *File) openDataset(o *op, path string) (*dataset, error) {
	p, ob, err := f.resolve(o, path)
	if err != nil {
		return nil, err
	}
	if k := ob.kind(); k != objDataset {
		return nil, fmt.Errorf("object is %s, not a dataset", article(k.String()))
	}
	return o.datasetOf(p, ob)
}

// datasetOf decodes the datatype and dataspace of the dataset ob at path p.
func (o *op) datasetOf(p string, ob *object) (*dataset, error) {
	var err error
	ds := &dataset{path: p, obj: ob}
	tm, sm := ob.first(msgDatatype), ob.first(msgDataspace)
	if tm == nil || sm == nil {
		return nil, o.formatf("dataset without a datatype or a dataspace")
	}
	tb := tm.data
	if tm.flags&msgFlagShared != 0 {
		if tb, err = o.sharedType(tb); err != nil {
			return nil, err
		}
	}
	if sm.flags&msgFlagShared != 0 {
		return nil, o.unsupported("shared dataspace")
	}
	if ds.typ, _, err = o.datatype(tb, 0); err != nil {
		return nil, err
	}
	if ds.space, err = o.dataspace(sm.data); err != nil {
		return nil, err
	}
	return ds, nil
}

// dtypeOf names the type of a dataset, recognising Keras's bfloat16
// convention.
func (o *op) dtypeOf(ds *dataset) string {
	if ds.typ.class == classOpaque && ds.typ.size == 2 {
		if a, err := o.findAttr(ds.obj, "dtype"); err == nil && a != nil && a.typ.class == classString {
			if n, ok := a.count(); ok && n == 1 {
				if ss, err := o.readStrings(a, 1); err == nil && ss[0] == "bfloat16" {
					return "bfloat16"
				}
			}
		}
	}
	return dtypeName(ds.typ)
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
