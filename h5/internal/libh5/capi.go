//go:build libhdf5

package libh5

// Go side of shim.c. Everything here runs on the worker thread (worker.go);
// nothing here calls do.

/*
#cgo pkg-config: hdf5
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// cerr returns the error captured in e by a failed shim call.
func cerr(e *C.kh_err) error {
	msg := strings.TrimSpace(C.GoString(&e.msg[0]))
	if msg == "" {
		// A failure that left no stack (rare): say so, not "code -1".
		msg = "libhdf5 call failed without an error message"
	}
	return &libError{msg}
}

// lastError captures the thread's error stack right after a gonum call
// failed; gonum itself only reports "code -1".
func lastError() error {
	var e C.kh_err
	C.kh_capture(&e)
	return cerr(&e)
}

func initThread(noPlugins bool) error {
	var e C.kh_err
	flag := C.int(0)
	if noPlugins {
		flag = 1
	}
	if C.kh_init(flag, &e) < 0 {
		return cerr(&e)
	}
	return nil
}

// cstring copies s to C memory; the caller frees it with C.free. HDF5 names
// are C strings, so a NUL inside would silently cut the name short.
func cstring(s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, fmt.Errorf("name %q contains a NUL byte", s)
	}
	return C.CString(s), nil
}

type linkKind int

const (
	linkAbsent   linkKind = C.KH_ABSENT
	linkHard     linkKind = C.KH_HARD
	linkSoft     linkKind = C.KH_SOFT
	linkExternal linkKind = C.KH_EXTERNAL
)

func linkInfo(loc int64, path string) (linkKind, error) {
	cp, err := cstring(path)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(cp))
	var e C.kh_err
	k := C.kh_link(C.hid_t(loc), cp, &e)
	if k < 0 {
		return 0, cerr(&e)
	}
	return linkKind(k), nil
}

type objKind int

const (
	objOther objKind = iota
	objGroup
	objDataset
	objDatatype
)

func (k objKind) String() string {
	switch k {
	case objGroup:
		return "group"
	case objDataset:
		return "dataset"
	case objDatatype:
		return "named datatype"
	}
	return "object of unknown kind"
}

func kindOf(t C.int) objKind {
	switch t {
	case C.H5I_GROUP:
		return objGroup
	case C.H5I_DATASET:
		return objDataset
	case C.H5I_DATATYPE:
		return objDatatype
	}
	return objOther
}

func objectKind(loc int64, path string) (objKind, error) {
	cp, err := cstring(path)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(cp))
	var e C.kh_err
	t := C.kh_objtype(C.hid_t(loc), cp, &e)
	if t < 0 {
		return 0, cerr(&e)
	}
	return kindOf(t), nil
}

// children lists the hard links of group path by kind, in name order.
func children(loc int64, path string) (groups, datasets []string, err error) {
	cp, err := cstring(path)
	if err != nil {
		return nil, nil, err
	}
	defer C.free(unsafe.Pointer(cp))
	var e C.kh_err
	var n C.hsize_t
	g := C.kh_gopen(C.hid_t(loc), cp, &n, &e)
	if g < 0 {
		return nil, nil, cerr(&e)
	}
	defer C.H5Gclose(g)
	if n > maxChildren {
		return nil, nil, fmt.Errorf("group has %d members, more than the limit of %d", uint64(n), maxChildren)
	}
	groups, datasets = []string{}, []string{}
	var buf []byte
	for i := C.hsize_t(0); i < n; i++ {
		size := C.kh_child_name(g, i, nil, 0, &e)
		if size < 0 {
			return nil, nil, cerr(&e)
		}
		if size > maxNameLen {
			return nil, nil, fmt.Errorf("member %d has a %d-byte name, more than the limit of %d", uint64(i), int64(size), maxNameLen)
		}
		if int(size)+1 > len(buf) {
			buf = make([]byte, int(size)+1)
		}
		got := C.kh_child_name(g, i, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(size)+1, &e)
		if got < 0 {
			return nil, nil, cerr(&e)
		}
		if got != size {
			return nil, nil, fmt.Errorf("member %d: name length changed from %d to %d", uint64(i), int64(size), int64(got))
		}
		t := C.kh_child_type(g, i, &e)
		if t < 0 {
			return nil, nil, fmt.Errorf("member %q: %w", buf[:size], cerr(&e))
		}
		if t == 0 {
			continue // soft, external or user-defined link: not followed
		}
		switch kindOf(t) {
		case objGroup:
			groups = append(groups, string(buf[:size]))
		case objDataset:
			datasets = append(datasets, string(buf[:size]))
		}
	}
	return groups, datasets, nil
}

// HDF5 constants that the pure-Go files use.
const (
	classInteger = int(C.H5T_INTEGER)
	classFloat   = int(C.H5T_FLOAT)
	classString  = int(C.H5T_STRING)
	classOpaque  = int(C.H5T_OPAQUE)
	classEnum    = int(C.H5T_ENUM)
	classBits    = int(C.H5T_BITFIELD)
	classTime    = int(C.H5T_TIME)
	classComp    = int(C.H5T_COMPOUND)
	classRef     = int(C.H5T_REFERENCE)
	classVlen    = int(C.H5T_VLEN)
	classArray   = int(C.H5T_ARRAY)

	orderLE  = int(C.H5T_ORDER_LE)
	orderBE  = int(C.H5T_ORDER_BE)
	signNone = int(C.H5T_SGN_NONE)
	sign2    = int(C.H5T_SGN_2)

	strNullTerm = int(C.H5T_STR_NULLTERM)
	strNullPad  = int(C.H5T_STR_NULLPAD)
	strSpacePad = int(C.H5T_STR_SPACEPAD)
	normImplied = int(C.H5T_NORM_IMPLIED)

	spaceScalar = int(C.H5S_SCALAR)
	spaceSimple = int(C.H5S_SIMPLE)
	spaceNull   = int(C.H5S_NULL)
)

// typeInfo and spaceInfo are the Go views of kh_type and kh_space.
type typeInfo struct {
	class, size, order, sign int
	vlenStr                  bool
	cset, strpad             int
	precision, offset        int
	spos, epos, esize        int
	mpos, msize, ebias       int
	norm                     int
	isBool                   bool
}

type spaceInfo struct {
	class int
	dims  []uint64 // nil unless simple
}

func goType(t *C.kh_type) typeInfo {
	return typeInfo{
		class: int(t.cls), size: int(t.size), order: int(t.order), sign: int(t.sign),
		vlenStr: t.vlenstr != 0, cset: int(t.cset), strpad: int(t.strpad),
		precision: int(t.precision), offset: int(t.offset),
		spos: int(t.spos), epos: int(t.epos), esize: int(t.esize),
		mpos: int(t.mpos), msize: int(t.msize), ebias: int(t.ebias), norm: int(t.norm),
		isBool: t.isbool != 0,
	}
}

func goSpace(s *C.kh_space) spaceInfo {
	si := spaceInfo{class: int(s.cls)}
	if si.class == spaceSimple {
		si.dims = make([]uint64, int(s.rank))
		for i := range si.dims {
			si.dims[i] = uint64(s.dims[i])
		}
	}
	return si
}

// describeDataset reports the datatype and dataspace of an open dataset.
func describeDataset(d int64) (typeInfo, spaceInfo, error) {
	var t C.kh_type
	var s C.kh_space
	var e C.kh_err
	if C.kh_dset_describe(C.hid_t(d), &t, &s, &e) < 0 {
		return typeInfo{}, spaceInfo{}, cerr(&e)
	}
	return goType(&t), goSpace(&s), nil
}

// checkStorage refuses datasets whose data lives outside this file:
// libhdf5 would open whatever paths the file names.
func checkStorage(d int64) error {
	var e C.kh_err
	switch C.kh_dset_storage(C.hid_t(d), &e) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("dataset uses external raw storage (data in other files), not read")
	case 2:
		return fmt.Errorf("virtual dataset (data in other files), not read")
	}
	return cerr(&e)
}

// Memory types for readDataset.
const (
	memRaw     = 0  // the file's own type: a byte-for-byte copy
	memFloat32 = 32 // the host's float32
	memFloat64 = 64 // the host's float64
)

// readDataset reads the whole dataset into buf, which must have room for
// all its elements in the memory type and must not contain Go pointers.
func readDataset(d int64, memtype int, buf unsafe.Pointer) error {
	var e C.kh_err
	if C.kh_dread(C.hid_t(d), C.int(memtype), buf, &e) < 0 {
		return cerr(&e)
	}
	return nil
}
