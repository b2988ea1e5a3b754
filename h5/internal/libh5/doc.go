//go:build libhdf5

// Package libh5 is the libhdf5 backend of package h5, kept as the oracle of
// its differential test (build tag libhdf5). It gives read-only access to HDF5 files: the attributes, groups
// and datasets that Keras writes in .h5 models and in the model.weights.h5
// of .keras archives. It is the only package of kerascope that uses cgo; it
// wraps libhdf5 through gonum.org/v1/hdf5 plus a small C shim of its own.
//
// Objects are named by absolute HDF5 paths ("/" is the root group,
// "/model_weights/dense/dense/kernel:0" a dataset). Every component must be
// a hard link: soft links are refused, and external links, which would make
// libhdf5 open another file that the file names, are never followed.
//
// Errors are *Error values that name the operation and the object, with the
// innermost message of libhdf5's error stack as the cause instead of gonum's
// "code -1". A missing object or attribute wraps fs.ErrNotExist; a file
// that is not HDF5 wraps ErrNotHDF5.
//
// # Concurrency
//
// A *File is safe for concurrent use by multiple goroutines. Every libhdf5
// call, from any File, runs on one goroutine locked to its OS thread, where
// libhdf5's error printing is switched off: nothing is ever printed to
// stderr (printing is a per-thread setting in thread-safe builds, so
// goroutines that call libhdf5 on other threads print "HDF5-DIAG" blocks).
// Calls therefore run one at a time; thread-safe libhdf5 builds serialise
// the whole API behind one lock anyway, so parallelism must come from
// decoding and computing on what was read, not from reading.
//
// # Environment
//
// On first use the package sets HDF5_USE_FILE_LOCKING=FALSE in the
// process environment unless it is already set: read-only opens otherwise
// take a shared lock that fails while another process writes the file and
// on file systems without locking. Dynamically loaded filter plugins are
// disabled unless HDF5_PLUGIN_PATH is set: a file could otherwise make
// libhdf5 load shared libraries from its plugin directory.
//
// # Security
//
// Opening a file runs libhdf5's C parser, which has known memory-safety
// bugs on malformed files (heap overflows, crashes, hangs; randomly
// corrupted Keras files crash libhdf5 1.10's own h5dump about once in 200).
// A crash in C code cannot be recovered from in Go and ends the process. Do
// not open untrusted files in a process you cannot afford to lose; run such
// work in a child process.
//
// The package bounds what it allocates from sizes found in the file before
// allocating (see MaxReadBytes and MaxAttrBytes), refuses datasets stored
// in other files (external storage, virtual datasets), and frees the
// variable-length strings libhdf5 allocates, so long-running processes do
// not leak. The memory libhdf5 itself allocates while parsing is not
// bounded by this package.
package libh5
