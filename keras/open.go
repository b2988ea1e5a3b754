package keras

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kerascope/kerascope/keras/bind"
	"github.com/kerascope/kerascope/keras/store"
)

// A Format is the kind of file a model came from.
type Format int

const (
	// FormatH5 is a legacy HDF5 file from model.save: config and weights.
	FormatH5 Format = iota + 1
	// FormatH5Weights is a legacy HDF5 file from save_weights: weights only.
	FormatH5Weights
	// FormatKeras is a Keras 3 .keras zip archive.
	FormatKeras
	// FormatWeightsH5 is a Keras 3 .weights.h5 file: weights only.
	FormatWeightsH5
)

// ID returns a short stable name for the format, for machine-readable
// output: "h5-full", "h5-weights-only", "keras-zip", "keras3-weights".
func (f Format) ID() string {
	switch f {
	case FormatH5:
		return "h5-full"
	case FormatH5Weights:
		return "h5-weights-only"
	case FormatKeras:
		return "keras-zip"
	case FormatWeightsH5:
		return "keras3-weights"
	}
	return "unknown"
}

func (f Format) String() string {
	switch f {
	case FormatH5:
		return "HDF5 model"
	case FormatH5Weights:
		return "HDF5 weights"
	case FormatKeras:
		return "Keras archive"
	case FormatWeightsH5:
		return "Keras 3 weights"
	}
	return "unknown"
}

// layout is how files of the format lay their weights out.
func (f Format) layout() bind.Layout {
	switch f {
	case FormatH5:
		return bind.LegacyModel
	case FormatH5Weights:
		return bind.LegacyWeights
	}
	return bind.Saved
}

// ErrNoArchitecture is wrapped by the error Open returns for weights-only
// files: they hold no model config, so there is no graph to decode. The
// File it returns alongside still gives access to the stored weights.
var ErrNoArchitecture = errors.New("the file holds weights only, no model architecture")

// A File is an opened model file.
type File struct {
	Path         string
	Format       Format
	KerasVersion string // as the file records it; "" when it does not
	Backend      string
	// Config is the model config JSON; nil for weights-only files.
	Config []byte
	// Compiled reports whether the file records a training configuration
	// (the model was compiled when saved).
	Compiled bool
	// Model is the decoded model; nil for weights-only files.
	Model *Model
	// Store gives access to the stored weights; nil when the file has
	// none that kerascope can read (a .keras archive with npz weights).
	Store Store

	c *store.Container
	// binding is the model's weights as the file stores them, made once.
	binding *bind.Binding
}

// A Store is read-only access to the HDF5 inside a model file.
type Store = store.Store

// Close releases the file and removes any temporary copy of the weights.
func (f *File) Close() error {
	if f.c == nil {
		return nil
	}
	err := f.c.Close()
	f.c = nil
	return err
}

// Open opens a saved Keras model and decodes its config. It tells the file
// kind from its bytes, not its name. Every error names the file.
//
// For weights-only files Open returns the File (with a nil Model) and an
// error wrapping ErrNoArchitecture, so callers can still list the weights.
func Open(path string) (*File, error) {
	f, err := open(path)
	if err != nil {
		if f != nil && errors.Is(err, ErrNoArchitecture) {
			return f, fmt.Errorf("%s: %w", path, err)
		}
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func open(path string) (*File, error) {
	c, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path, c: c, KerasVersion: c.KerasVersion, Backend: c.Backend,
		Config: c.Config, Compiled: c.Compiled, Store: c.Store}
	switch {
	case c.Kind == store.KindArchive:
		f.Format = FormatKeras
	case c.Config != nil:
		f.Format = FormatH5
	default:
		layout, err := bind.Detect(c.Store)
		switch {
		case err != nil:
			return f, err
		case layout == bind.LegacyWeights:
			f.Format = FormatH5Weights
		case layout == bind.Saved:
			f.Format = FormatWeightsH5
		default:
			return f, fmt.Errorf("an HDF5 file, but not one Keras saved (it holds neither a model nor layer weights): %w", ErrNotKeras)
		}
		return f, ErrNoArchitecture
	}
	return f, f.decodeFileModel()
}

// IsKeras3 reports whether the file was saved by Keras 3, whose summary
// style differs from Keras 2's.
func (f *File) IsKeras3() bool {
	return strings.HasPrefix(f.KerasVersion, "3")
}
