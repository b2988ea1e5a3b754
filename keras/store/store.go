// Package store opens the container a Keras model is saved in — a legacy
// HDF5 file or a .keras zip archive — and gives read-only access to the
// HDF5 inside it. It is the first step of the data path:
//
//	bytes -> store -> config graph (keras) -> binding (bind) -> layers -> run
//
// It knows the container's own names only: the archive members
// config.json, metadata.json and model.weights.h5, and the root attributes
// model_config, keras_version, backend and training_config. Where each
// weight lives inside the HDF5 is package bind's business, and nothing here
// looks at it.
//
// It must not import keras, bind, summary or cmd: every other package of
// the model path builds on it.
package store

// A Store is read-only access to the HDF5 container of a model: the legacy
// .h5 file itself, or the model.weights.h5 member of a .keras archive.
// Package h5's *File implements it; tests use in-memory fakes.
//
// Paths are absolute HDF5 paths ("/" is the root group). Absent attributes
// and objects give errors that wrap io/fs.ErrNotExist.
type Store interface {
	HasAttr(obj, name string) (bool, error)
	// StringAttr reads a scalar string attribute.
	StringAttr(obj, name string) (string, error)
	// StringsAttr reads a one-dimensional string array attribute; Keras's
	// empty list (an empty float64 array) reads as an empty slice.
	StringsAttr(obj, name string) ([]string, error)
	// Children lists the groups and datasets directly inside a group.
	Children(group string) (groups, datasets []string, err error)
	// DatasetShape returns a dataset's dimensions and element type
	// ("float32", "int64", ...) without reading its data.
	DatasetShape(path string) (shape []int, dtype string, err error)
	// ReadFloat32 reads a whole float dataset whose dimensions must equal want.
	ReadFloat32(path string, want []int) ([]float32, error)
}
