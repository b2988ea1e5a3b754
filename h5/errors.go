package h5

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ErrNotHDF5 is wrapped by the error Open and NewFile return for input that
// has no HDF5 signature where HDF5 allows one.
var ErrNotHDF5 = errors.New("not an HDF5 file")

// Limits on what one call may allocate. They bound memory for malformed or
// hostile files before anything is allocated; raise them before opening
// files that legitimately need more. They must not be changed while calls
// are in flight.
var (
	// MaxReadBytes bounds one ReadFloat32: the raw elements (after
	// decompression) plus the float32 result.
	MaxReadBytes int64 = 4 << 30
	// MaxAttrBytes bounds the bytes of one string attribute read by
	// StringAttr or StringsAttr, all elements together. Keras's
	// model_config can be several MB.
	MaxAttrBytes int64 = 64 << 20
	// MaxMetadataBytes bounds the file metadata (object headers, B-tree
	// nodes, heaps) one call reads: a file cannot make a lookup read more
	// than this however its structures point at each other.
	MaxMetadataBytes int64 = 256 << 20
)

// maxSteps bounds the loop iterations (records, messages, blocks, chunks)
// of one call; a variable so that the fuzz targets can make calls cheap.
var maxSteps = 1 << 20

const (
	maxElements = 1 << 31 // per dataset or attribute, whatever the limits say
	maxChildren = 1 << 20 // members listed by one Children call
	maxNameLen  = 1 << 16 // bytes in one link name
	maxRank     = 32      // H5S_MAX_RANK
	maxDepth    = 64      // nesting of B-trees, heaps, continuation chains
)

// Error records a failed operation, the object it was on and the cause, like
// fs.PathError. Path is the file for Open, Close and Verify ("" for a file
// given to NewFile), the HDF5 path of the object otherwise, and obj@name
// for an attribute.
type Error struct {
	Op   string // "open", "close", "verify", "check attribute", "read attribute", "list", "inspect", "read"
	Path string
	Err  error
}

func (e *Error) Error() string {
	if e.Path == "" { // a file given to NewFile, which has no name
		return "h5: " + e.Op + ": " + e.Err.Error()
	}
	return "h5: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// FormatError reports a malformed file: a structure that breaks the HDF5
// format or points outside the file, or a limit the file would make a
// call exceed. Object is the HDF5 path of the object being decoded when
// the damage was found ("" for the superblock).
type FormatError struct {
	Object string
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Object == "" {
		return "malformed HDF5: " + e.Msg
	}
	return "malformed HDF5 object " + e.Object + ": " + e.Msg
}

// UnsupportedError reports a well-formed HDF5 feature this reader does not
// implement (Keras and h5py do not write it).
type UnsupportedError struct {
	Object  string
	Feature string
}

func (e *UnsupportedError) Error() string {
	if e.Object == "" {
		return "unsupported HDF5 feature: " + e.Feature
	}
	return "unsupported HDF5 feature in object " + e.Object + ": " + e.Feature
}

// notFound is the cause when an object or attribute does not exist. It
// matches fs.ErrNotExist with errors.Is but reads better than its text.
type notFound string

func (e notFound) Error() string        { return string(e) + " not found" }
func (e notFound) Is(target error) bool { return target == fs.ErrNotExist }

var (
	errObjectNotFound = notFound("object")
	errAttrNotFound   = notFound("attribute")
	errClosed         = fs.ErrClosed // "file already closed"
)

// shapeString prints a shape the way NumPy and Keras users read them:
// "()", "(3,)", "(2, 3)".
func shapeString[T int | uint64](dims []T) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range dims {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	if len(dims) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}
