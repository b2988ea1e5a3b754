//go:build libhdf5

package libh5

/*
#include <stdlib.h>
#include <string.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"
)

// HasAttr reports whether object obj (an absolute path, "/" for the root
// group) has an attribute called name. It is quiet: a missing attribute is
// (false, nil). A missing object is an error wrapping fs.ErrNotExist.
func (f *File) HasAttr(obj, name string) (bool, error) {
	var ok bool
	err := f.run("check attribute", attrPath(obj, name), func() error {
		var err error
		ok, err = f.hasAttr(obj, name)
		return err
	})
	return ok, err
}

// StringAttr reads a scalar string attribute: variable- or fixed-length,
// ASCII or UTF-8 (returned as stored, without validation). A string array
// of one element is accepted too. Fixed-length strings are cut at their
// first NUL. A missing attribute or object is an error wrapping
// fs.ErrNotExist; any other type is an error that says what it is.
func (f *File) StringAttr(obj, name string) (string, error) {
	var s string
	err := f.run("read attribute", attrPath(obj, name), func() error {
		var err error
		s, err = f.stringAttr(obj, name)
		return err
	})
	return s, err
}

// StringsAttr reads a 1-D string array attribute, variable- or
// fixed-length; each fixed-length slot is cut at its first NUL, using the
// attribute's own width. A scalar string gives one element. A float
// attribute with no elements gives an empty, non-nil slice: Keras writes
// np.asarray([]) (float64, shape (0,)) for an empty name list. Keras's
// split attributes (name0, name1, ...) are the caller's business.
func (f *File) StringsAttr(obj, name string) ([]string, error) {
	var ss []string
	err := f.run("read attribute", attrPath(obj, name), func() error {
		var err error
		ss, err = f.stringsAttr(obj, name)
		return err
	})
	return ss, err
}

// attrPath names an attribute in errors: "/model_weights@layer_names".
func attrPath(obj, name string) string { return obj + "@" + name }

// hasAttr runs on the worker.
func (f *File) hasAttr(obj, name string) (bool, error) {
	p, _, err := f.resolve(obj)
	if err != nil {
		return false, err
	}
	return f.attrExists(p, name)
}

// attrExists checks for an attribute of the object at resolved path p.
func (f *File) attrExists(p, name string) (bool, error) {
	cp, cn, err := cnames(p, name)
	if err != nil {
		return false, err
	}
	defer C.free(unsafe.Pointer(cp))
	defer C.free(unsafe.Pointer(cn))
	var e C.kh_err
	r := C.kh_attr_exists(C.hid_t(f.h.ID()), cp, cn, &e)
	if r < 0 {
		return false, cerr(&e)
	}
	return r > 0, nil
}

func cnames(obj, name string) (*C.char, *C.char, error) {
	if name == "" {
		return nil, nil, errors.New("empty attribute name")
	}
	cn, err := cstring(name)
	if err != nil {
		return nil, nil, err
	}
	cp, err := cstring(obj)
	if err != nil {
		C.free(unsafe.Pointer(cn))
		return nil, nil, err
	}
	return cp, cn, nil
}

// attr is an open attribute with its type and shape.
type attr struct {
	id    C.hid_t
	typ   typeInfo
	space spaceInfo
}

// openAttr runs on the worker; the caller calls a.close.
func (f *File) openAttr(obj, name string) (*attr, error) {
	p, _, err := f.resolve(obj)
	if err != nil {
		return nil, err
	}
	if ok, err := f.attrExists(p, name); err != nil {
		return nil, err
	} else if !ok {
		return nil, errAttrNotFound
	}
	cp, cn, err := cnames(p, name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cp))
	defer C.free(unsafe.Pointer(cn))
	var t C.kh_type
	var s C.kh_space
	var e C.kh_err
	id := C.kh_attr_open(C.hid_t(f.h.ID()), cp, cn, &t, &s, &e)
	if id < 0 {
		return nil, cerr(&e)
	}
	return &attr{id: id, typ: goType(&t), space: goSpace(&s)}, nil
}

func (a *attr) close() { C.H5Aclose(a.id) }

// count returns the number of elements of a scalar or 1-D attribute.
func (a *attr) count() (int, bool) {
	switch {
	case a.space.class == spaceScalar:
		return 1, true
	case a.space.class == spaceSimple && len(a.space.dims) == 1 && a.space.dims[0] <= maxElements:
		return int(a.space.dims[0]), true
	}
	return 0, false
}

func (f *File) stringAttr(obj, name string) (string, error) {
	a, err := f.openAttr(obj, name)
	if err != nil {
		return "", err
	}
	defer a.close()
	if n, ok := a.count(); a.typ.class != classString || !ok || n != 1 {
		return "", fmt.Errorf("attribute is %s, want a string", describe(a.typ, a.space))
	}
	ss, err := a.readStrings(1)
	if err != nil {
		return "", err
	}
	return ss[0], nil
}

func (f *File) stringsAttr(obj, name string) ([]string, error) {
	a, err := f.openAttr(obj, name)
	if err != nil {
		return nil, err
	}
	defer a.close()
	n, ok := a.count()
	switch {
	case a.typ.class == classFloat && a.space.class == spaceSimple && ok && n == 0:
		return []string{}, nil // Keras's np.asarray([])
	case a.typ.class != classString || !ok:
		return nil, fmt.Errorf("attribute is %s, want a 1-D string array", describe(a.typ, a.space))
	}
	return a.readStrings(n)
}

// readStrings reads the n strings of a string attribute, bounded by
// MaxAttrBytes in all.
func (a *attr) readStrings(n int) ([]string, error) {
	if n == 0 {
		return []string{}, nil
	}
	if a.typ.vlenStr {
		return a.readVlen(n)
	}
	w := a.typ.size
	if int64(n) > MaxAttrBytes/int64(w) {
		return nil, fmt.Errorf("%d strings of %d bytes exceed MaxAttrBytes (%d)", n, w, MaxAttrBytes)
	}
	buf := make([]byte, n*w)
	var e C.kh_err
	if C.kh_attr_read_raw(a.id, unsafe.Pointer(&buf[0]), &e) < 0 {
		return nil, cerr(&e)
	}
	out := make([]string, n)
	for i := range out {
		slot := buf[i*w : (i+1)*w]
		// NULLTERM and NULLPAD end at the first NUL; a string that fills
		// its slot has none, so never assume one.
		if j := bytes.IndexByte(slot, 0); j >= 0 {
			slot = slot[:j]
		}
		if a.typ.strpad == strSpacePad {
			slot = bytes.TrimRight(slot, " ")
		}
		out[i] = string(slot)
	}
	return out, nil
}

// readVlen reads variable-length strings into a C array of C strings,
// copies them to Go and frees what libhdf5 allocated; gonum never frees
// them, which leaks every model_config read. The pointer array lives in C
// memory because cgo forbids passing Go memory that holds pointers.
func (a *attr) readVlen(n int) ([]string, error) {
	if int64(n) > MaxAttrBytes/int64(unsafe.Sizeof(uintptr(0))) {
		return nil, fmt.Errorf("%d strings exceed MaxAttrBytes (%d)", n, MaxAttrBytes)
	}
	var e C.kh_err
	p := C.kh_attr_read_vlen(a.id, C.size_t(n), C.int(a.typ.cset), &e)
	if p == nil {
		return nil, cerr(&e)
	}
	defer C.kh_free_vlen(p, C.size_t(n))
	ptrs := unsafe.Slice(p, n)
	out := make([]string, n)
	budget := MaxAttrBytes
	for i, s := range ptrs {
		if s == nil {
			continue // libhdf5 may store "" as a NULL pointer
		}
		l := int64(C.strnlen(s, C.size_t(budget+1)))
		if l > budget {
			return nil, fmt.Errorf("strings exceed MaxAttrBytes (%d)", MaxAttrBytes)
		}
		budget -= l
		out[i] = string(unsafe.Slice((*byte)(unsafe.Pointer(s)), l))
	}
	return out, nil
}
