//go:build libhdf5

package libh5

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ErrNotHDF5 is wrapped by the error Open returns for an existing regular
// file that has no HDF5 signature where HDF5 allows one.
var ErrNotHDF5 = errors.New("not an HDF5 file")

// Limits on what one call may allocate. They bound memory for malformed or
// hostile files, before anything is allocated; raise them before opening
// files that legitimately need more. They must not be changed while calls
// are in flight.
var (
	// MaxReadBytes bounds one ReadFloat32: the file's raw elements plus
	// the float32 result (float64 data needs 12 bytes per element).
	MaxReadBytes int64 = 4 << 30
	// MaxAttrBytes bounds the bytes of one string attribute read by
	// StringAttr or StringsAttr, all elements together. Keras's
	// model_config can be several MB.
	MaxAttrBytes int64 = 64 << 20
)

const (
	maxElements = 1 << 31 // per dataset or attribute, whatever the limits say
	maxChildren = 1 << 20 // members listed by one Children call
	maxNameLen  = 1 << 16 // bytes in one link name
)

// Error records a failed operation, the object it was on and the cause, like
// fs.PathError. Path is the file for Open and Close, the HDF5 path of the
// object otherwise, and obj@name for an attribute.
type Error struct {
	Op   string // "open", "close", "check attribute", "read attribute", "list", "inspect", "read"
	Path string
	Err  error
}

func (e *Error) Error() string { return "h5: " + e.Op + " " + e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

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

// libError is a failure reported by libhdf5: the innermost message of its
// error stack, e.g. "truncated file: eof = 1000, ...".
type libError struct{ msg string }

func (e *libError) Error() string { return e.msg }

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
