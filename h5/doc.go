// Package h5 gives read-only access to HDF5 files: the attributes, groups
// and datasets that Keras writes in .h5 models and in the model.weights.h5
// of .keras archives. It is pure Go and reads from any io.ReaderAt
// (NewFile), so a .keras member can be read in place, without a temporary
// file; Open opens a path.
//
// It reads what Keras and h5py write: superblock versions 0 to 3; object
// headers versions 1 and 2 with continuation blocks; groups as symbol
// tables (version 1 B-tree and local heap), compact links or dense links
// (fractal heap and version 2 B-tree); attributes compact and dense;
// fixed-point, IEEE float (float16, float32, float64, and Keras's
// bfloat16), enum (h5py's bool) and string datatypes, fixed and variable
// length (global heap); compact, contiguous and chunked storage (version 1
// B-tree, or a single chunk) with the deflate, shuffle and fletcher32
// filters; fill values. Other features give an *UnsupportedError.
//
// Objects are named by absolute HDF5 paths ("/" is the root group,
// "/model_weights/dense/dense/kernel:0" a dataset). Every component must be
// a hard link: soft links are refused, and external links, which name other
// files, are never followed.
//
// Verify checks the structure of the whole file, every object reachable
// from the root group, without reading tensor data: a caller that must
// refuse a damaged file even where it does not read (keras/store, before
// any command) calls it once after opening.
//
// Errors are *Error values that name the operation and the object. A
// missing object or attribute wraps fs.ErrNotExist; input that is not HDF5
// wraps ErrNotHDF5; a malformed file wraps a *FormatError and a valid but
// unsupported one an *UnsupportedError, each naming the object being
// decoded. Nothing is ever printed.
//
// # Safety
//
// The package is written for untrusted files. Every offset and size read
// from the file is checked against the file's length before use, and
// every allocation is bounded before it is made: metadata by
// MaxMetadataBytes per call, string attributes by MaxAttrBytes, dataset
// reads by MaxReadBytes, and the part of a dataset the file does not store
// (which reads as the fill value) by MaxFillBytes; an open file caches at
// most 16 MiB of metadata pages and 64 MiB of decoded headers and group
// listings. Every loop is bounded
// (records, messages and blocks visited per call), B-tree and heap nesting
// is bounded, and cycles (in continuation blocks, B-trees and hard-link
// paths) are errors. Version 2 metadata checksums are verified. A panic,
// which would be a bug, is recovered and returned as an error. The parsers
// are fuzzed (see fuzz_test.go and `make fuzz`).
//
// The previous backend, libhdf5 through gonum.org/v1/hdf5, lives on in
// h5/internal/libh5 behind the libhdf5 build tag, as the oracle of a
// differential test (diff_test.go) that reads every fixture and corpus
// file through both and requires identical results.
//
// # Concurrency
//
// A *File is safe for concurrent use by multiple goroutines; calls run in
// parallel (the io.ReaderAt given to NewFile must allow that).
package h5
