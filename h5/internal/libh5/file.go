//go:build libhdf5

package libh5

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"gonum.org/v1/hdf5"
)

// signature starts every HDF5 superblock.
const signature = "\x89HDF\r\n\x1a\n"

// File is an HDF5 file opened read-only by Open. Its methods are safe for
// concurrent use; the calls themselves run one at a time (see the package
// documentation).
type File struct {
	name string
	h    *hdf5.File // nil once closed; touched only on the worker thread
}

// Open opens an HDF5 file read-only.
//
// Before libhdf5 sees the file, Open checks that path is a regular file with
// the HDF5 signature at offset 0, 512, 1024, 2048, ... (where HDF5 allows a
// superblock after a user block). A file without one gives an error wrapping
// ErrNotHDF5; a missing file one wrapping fs.ErrNotExist.
func Open(path string) (*File, error) {
	if err := checkSignature(path); err != nil {
		return nil, &Error{Op: "open", Path: path, Err: err}
	}
	f := &File{name: path}
	var err error
	if derr := do(func() {
		h, herr := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
		if herr != nil {
			err = lastError()
			return
		}
		f.h = h
	}); derr != nil {
		err = derr
	}
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

// checkSignature looks for the HDF5 signature where libhdf5 would: at 0,
// then at every power of two from 512 up to the file size.
func checkSignature(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return unwrapPathError(err)
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if !fi.Mode().IsRegular() {
		// Opening a FIFO or a device could block or never end.
		return fmt.Errorf("not a regular file (mode %s)", fi.Mode().Type())
	}
	r, err := os.Open(path)
	if err != nil {
		return unwrapPathError(err)
	}
	defer r.Close()
	var buf [len(signature)]byte
	for off := int64(0); off+int64(len(buf)) <= fi.Size(); {
		if _, err := r.ReadAt(buf[:], off); err != nil {
			if err == io.EOF {
				break // the file shrank under us
			}
			return unwrapPathError(err)
		}
		if string(buf[:]) == signature {
			return nil
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return ErrNotHDF5
}

// unwrapPathError drops the *fs.PathError around err: Error already names
// the operation and the path.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Close closes the file. Closing it again returns an error wrapping
// fs.ErrClosed, as does any other method after Close.
func (f *File) Close() error {
	if f == nil {
		return &Error{Op: "close", Path: "", Err: fs.ErrInvalid}
	}
	return f.run("close", f.name, func() error {
		h := f.h
		f.h = nil
		if h.Close() != nil {
			return lastError()
		}
		return nil
	})
}

// run runs fn on the worker with the file open, and wraps its error.
func (f *File) run(op, path string, fn func() error) error {
	if f == nil {
		return &Error{Op: op, Path: path, Err: fs.ErrInvalid}
	}
	var err error
	if derr := do(func() {
		if f.h == nil {
			err = errClosed
			return
		}
		err = fn()
	}); derr != nil {
		err = derr
	}
	if err != nil {
		return &Error{Op: op, Path: path, Err: err}
	}
	return nil
}

// splitPath checks an absolute HDF5 path and returns its components; "/"
// gives none. Empty and "." components are dropped, as HDF5 does; ".." is
// an ordinary name in HDF5, so it is kept.
func splitPath(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New("path is not absolute")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return nil, errors.New("path contains a NUL byte")
	}
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			parts = append(parts, s)
		}
	}
	return parts, nil
}

// resolve checks that p names an object reached through hard links only,
// one component at a time, and returns its cleaned path and kind.
//
// Soft links are refused to keep paths and Children consistent; external
// links would make libhdf5 open another file that the file names. Walking
// one component at a time also keeps a missing intermediate group a quiet
// "not found" rather than a libhdf5 failure.
func (f *File) resolve(p string) (string, objKind, error) {
	parts, err := splitPath(p)
	if err != nil {
		return "", 0, err
	}
	fid := f.h.ID()
	prefix := ""
	for i, part := range parts {
		if i > 0 {
			if kind, err := objectKind(fid, prefix); err != nil {
				return "", 0, err
			} else if kind != objGroup {
				return "", 0, fmt.Errorf("%s is %s, not a group", prefix, article(kind.String()))
			}
		}
		prefix += "/" + part
		k, err := linkInfo(fid, prefix)
		if err != nil {
			return "", 0, err
		}
		switch k {
		case linkHard:
		case linkAbsent:
			return "", 0, errObjectNotFound
		case linkSoft:
			return "", 0, fmt.Errorf("%s is a soft link; links are not followed", prefix)
		case linkExternal:
			return "", 0, fmt.Errorf("%s is an external link to another file; links are not followed", prefix)
		default:
			return "", 0, fmt.Errorf("%s is a user-defined link; links are not followed", prefix)
		}
	}
	if prefix == "" {
		return "/", objGroup, nil
	}
	kind, err := objectKind(fid, prefix)
	if err != nil {
		return "", 0, err
	}
	return prefix, kind, nil
}

// Children returns the names of the groups and datasets that are members
// of group, each list in the order libhdf5 gives them, which is name order
// (byte-wise), not creation order and not Keras's layer_names order. Soft,
// external and user-defined links, and committed datatypes, are skipped.
// Both lists are non-nil.
func (f *File) Children(group string) (groups, datasets []string, err error) {
	err = f.run("list", group, func() error {
		p, kind, err := f.resolve(group)
		if err != nil {
			return err
		}
		if kind != objGroup {
			return fmt.Errorf("object is %s, not a group", article(kind.String()))
		}
		groups, datasets, err = children(f.h.ID(), p)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return groups, datasets, nil
}
