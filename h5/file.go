package h5

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// signature starts every HDF5 superblock.
const signature = "\x89HDF\r\n\x1a\n"

// File is an HDF5 file opened read-only by Open or NewFile. Its methods are
// safe for concurrent use.
type File struct {
	name   string
	r      io.ReaderAt
	size   int64
	closer io.Closer // the *os.File Open opened; nil for NewFile

	mu     sync.RWMutex // Close takes it exclusively
	closed bool

	base   uint64 // absolute offset of address 0 (the superblock)
	so, sl int    // sizes of offsets and lengths
	root   uint64 // root group's object header address

	cache cache
	pages pages
}

// Open opens an HDF5 file read-only. A missing file gives an error wrapping
// fs.ErrNotExist; one without the HDF5 signature at offset 0, 512, 1024,
// 2048, ... (where HDF5 allows a superblock after a user block) an error
// wrapping ErrNotHDF5.
func Open(path string) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Err: unwrapPathError(err)}
	}
	if fi.IsDir() {
		return nil, &Error{Op: "open", Path: path, Err: errors.New("is a directory")}
	}
	if !fi.Mode().IsRegular() {
		// Opening a FIFO or a device could block or never end.
		return nil, &Error{Op: "open", Path: path, Err: fmt.Errorf("not a regular file (mode %s)", fi.Mode().Type())}
	}
	r, err := os.Open(path)
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Err: unwrapPathError(err)}
	}
	f, err := newFile(path, r, fi.Size())
	if err != nil {
		r.Close()
		return nil, err
	}
	f.closer = r
	return f, nil
}

// NewFile reads an HDF5 file of size bytes from r, which must stay usable
// until Close and must be safe for concurrent ReadAt calls (an *os.File, a
// *bytes.Reader and an *io.SectionReader over either are). Close does not
// close r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	return newFile("", r, size)
}

func newFile(name string, r io.ReaderAt, size int64) (f *File, err error) {
	f = &File{name: name, r: r, size: size}
	if size < 0 {
		return nil, &Error{Op: "open", Path: name, Err: errors.New("negative size")}
	}
	defer func() {
		// As in run: a bug must not take the caller's process down.
		if r := recover(); r != nil {
			if repanic {
				panic(r)
			}
			f, err = nil, &Error{Op: "open", Path: name, Err: fmt.Errorf("internal error (please report): %v", r)}
		}
	}()
	if err := f.readSuperblock(); err != nil {
		return nil, &Error{Op: "open", Path: name, Err: err}
	}
	return f, nil
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
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &Error{Op: "close", Path: f.name, Err: errClosed}
	}
	f.closed = true
	if f.closer != nil {
		if err := f.closer.Close(); err != nil {
			return &Error{Op: "close", Path: f.name, Err: unwrapPathError(err)}
		}
	}
	return nil
}

// repanic makes run and NewFile let panics through, so that the fuzz
// targets see them; set by tests only.
var repanic bool

// run runs fn with the file open and wraps its error. A panic in fn (a bug
// this package's fuzzing has not found) becomes an error rather than the
// end of the caller's process.
func (f *File) run(opName, path string, fn func(o *op) error) (err error) {
	if f == nil {
		return &Error{Op: opName, Path: path, Err: fs.ErrInvalid}
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return &Error{Op: opName, Path: path, Err: errClosed}
	}
	defer func() {
		if r := recover(); r != nil {
			if repanic {
				panic(r)
			}
			err = &Error{Op: opName, Path: path, Err: fmt.Errorf("internal error (please report): %v", r)}
		}
	}()
	if err := fn(f.newOp(path)); err != nil {
		return &Error{Op: opName, Path: path, Err: err}
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

// resolve follows p from the root group through hard links only and
// returns the object's cleaned path and decoded header.
//
// Soft links are refused to keep paths and Children consistent, external
// links because they name other files.
func (f *File) resolve(o *op, p string) (string, *object, error) {
	parts, err := splitPath(p)
	if err != nil {
		return "", nil, err
	}
	o.obj = "/"
	obj, err := o.object(f.root)
	if err != nil {
		return "", nil, err
	}
	seen := map[uint64]bool{f.root: true}
	prefix := ""
	for _, part := range parts {
		if obj.kind() != objGroup {
			return "", nil, fmt.Errorf("%s is %s, not a group", prefix, article(obj.kind().String()))
		}
		l, err := o.lookup(obj, part)
		if err != nil {
			return "", nil, err
		}
		prefix += "/" + part
		switch l.typ {
		case linkHard:
		case linkAbsent:
			return "", nil, errObjectNotFound
		case linkSoft:
			return "", nil, fmt.Errorf("%s is a soft link; links are not followed", prefix)
		case linkExternal:
			return "", nil, fmt.Errorf("%s is an external link to another file; links are not followed", prefix)
		default:
			return "", nil, fmt.Errorf("%s is a user-defined link; links are not followed", prefix)
		}
		if seen[l.addr] {
			// A path may legitimately revisit an object only through a
			// cycle of hard links, which Keras never writes and which
			// would let a path of any length stay inside the file.
			return "", nil, o.formatf("%s leads back to an object already on the path (a cycle of hard links)", prefix)
		}
		seen[l.addr] = true
		o.obj = prefix
		if obj, err = o.object(l.addr); err != nil {
			return "", nil, err
		}
	}
	if prefix == "" {
		prefix = "/"
	}
	return prefix, obj, nil
}

// Children returns the names of the groups and datasets that are members
// of group, each list in name order (byte-wise), not creation order and
// not Keras's layer_names order. Soft, external and user-defined links,
// and committed datatypes, are skipped. Both lists are non-nil.
func (f *File) Children(group string) (groups, datasets []string, err error) {
	err = f.run("list", group, func(o *op) error {
		p, obj, err := f.resolve(o, group)
		if err != nil {
			return err
		}
		if k := obj.kind(); k != objGroup {
			return fmt.Errorf("object is %s, not a group", article(k.String()))
		}
		links, err := o.links(obj)
		if err != nil {
			return err
		}
		if len(links) > maxChildren {
			return fmt.Errorf("group has %d members, more than the limit of %d", len(links), maxChildren)
		}
		groups, datasets = []string{}, []string{}
		for _, l := range links {
			if l.typ != linkHard {
				continue
			}
			if err := o.step(); err != nil {
				return err
			}
			o.obj = joinPath(p, l.name)
			child, err := o.object(l.addr)
			if err != nil {
				return err
			}
			switch child.kind() {
			case objGroup:
				groups = append(groups, l.name)
			case objDataset:
				datasets = append(datasets, l.name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return groups, datasets, nil
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
