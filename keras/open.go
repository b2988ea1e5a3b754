package keras

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/kerascope/kerascope/h5"
	"github.com/tidwall/gjson"
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

	h5      *h5.File
	tmpPath string
	npz     bool
}

// Close releases the file and removes any temporary copy of the weights.
func (f *File) Close() error {
	var err error
	if f.h5 != nil {
		err = f.h5.Close()
		f.h5 = nil
	}
	if f.tmpPath != "" {
		os.Remove(f.tmpPath)
		f.tmpPath = ""
	}
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
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory, not a model file")
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("empty file: %w", ErrNotKeras)
	}
	head := make([]byte, 8)
	r, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	n, _ := io.ReadFull(r, head)
	r.Close()
	head = head[:n]

	f := &File{Path: path}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return f, f.openArchive(path, st.Size())
	case len(head) > 0 && head[0] == 0x80:
		return nil, fmt.Errorf("a Python pickle, %w (kerascope never unpickles)", ErrNotKeras)
	}
	hf, err := h5.Open(path)
	if err != nil {
		if errors.Is(err, h5.ErrNotHDF5) {
			return nil, fmt.Errorf("neither an HDF5 file nor a .keras archive: %w", ErrNotKeras)
		}
		return nil, &FormatError{Msg: "cannot read HDF5", Err: unprefixH5(err)}
	}
	f.h5, f.Store = hf, hf
	return f, f.openH5()
}

// unprefixH5 keeps the cause of an h5 error without repeating the path the
// caller already names.
func unprefixH5(err error) error {
	var he *h5.Error
	if errors.As(err, &he) && he.Op == "open" {
		return he.Err
	}
	return err
}

func (f *File) openH5() error {
	s := f.Store
	f.KerasVersion = optionalString(s, "/", "keras_version")
	f.Backend = optionalString(s, "/", "backend")
	has, err := s.HasAttr("/", "model_config")
	if err != nil {
		return err
	}
	if !has {
		if ok, _ := s.HasAttr("/", "layer_names"); ok {
			f.Format = FormatH5Weights
			return ErrNoArchitecture
		}
		groups, _, err := s.Children("/")
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g == "layers" || g == "vars" || g == "_layer_checkpoint_dependencies" {
				f.Format = FormatWeightsH5
				return ErrNoArchitecture
			}
		}
		return fmt.Errorf("an HDF5 file, but not one Keras saved (it holds neither a model nor layer weights): %w", ErrNotKeras)
	}
	f.Format = FormatH5
	if ok, _ := s.HasAttr("/", "training_config"); ok {
		f.Compiled = true
	}
	cfg, err := s.StringAttr("/", "model_config")
	if err != nil {
		return err
	}
	f.Config = []byte(cfg)
	return f.decodeFileModel()
}

func (f *File) openArchive(path string, size int64) error {
	zr, err := os.Open(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	z, err := zip.NewReader(zr, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// The file starts as a zip does, so it is one that lost its end
		// (the central directory): a broken download or copy, not a file
		// of another kind.
		return &FormatError{Msg: "truncated or corrupt archive", Err: err}
	}
	a, err := readArchive(z)
	if err != nil {
		return err
	}
	f.Format = FormatKeras
	f.Config = a.config
	if a.metadata != nil && gjson.ValidBytes(a.metadata) {
		f.KerasVersion = gjson.GetBytes(a.metadata, "keras_version").String()
	}
	if cc := gjson.GetBytes(a.config, "compile_config"); cc.IsObject() && len(cc.Map()) > 0 {
		f.Compiled = true
	}
	f.npz = a.npz
	if a.weights != nil {
		f.tmpPath, err = a.extractWeights()
		if err != nil {
			return err
		}
		hf, err := h5.Open(f.tmpPath)
		if err != nil {
			return &FormatError{Msg: "archive member " + archiveWeightsH5, Err: unprefixH5(err)}
		}
		f.h5, f.Store = hf, hf
	}
	return f.decodeFileModel()
}

func optionalString(s Store, obj, name string) string {
	v, err := s.StringAttr(obj, name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v)
}

// IsKeras3 reports whether the file was saved by Keras 3, whose summary
// style differs from Keras 2's.
func (f *File) IsKeras3() bool {
	return strings.HasPrefix(f.KerasVersion, "3")
}
