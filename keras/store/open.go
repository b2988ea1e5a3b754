package store

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

// MaxConfigBytes bounds the model config JSON read from a file.
const MaxConfigBytes = 64 << 20

// A Kind is the kind of container a model is saved in.
type Kind int

const (
	// KindH5 is an HDF5 file: a legacy model.save or save_weights file, or
	// a Keras 3 .weights.h5.
	KindH5 Kind = iota + 1
	// KindArchive is a .keras zip archive.
	KindArchive
)

// A Container is an opened model file: what its container says about the
// model, and its HDF5 contents.
type Container struct {
	Kind Kind
	// Config is the model config JSON: config.json of an archive, the
	// model_config attribute of an HDF5 file; nil when there is none.
	Config []byte
	// KerasVersion and Backend are as the file records them ("" when it
	// does not): metadata.json of an archive, root attributes of an HDF5.
	KerasVersion string
	Backend      string
	// Compiled reports a training configuration: the model was compiled
	// when saved.
	Compiled bool
	// Store is the HDF5 holding the weights; nil when there is none that
	// kerascope can read.
	Store Store
	// NPZ reports an archive whose weights are model.weights.npz, pickled
	// NumPy arrays that kerascope never unpickles.
	NPZ bool

	h5      *h5.File
	archive *os.File // the .keras file model.weights.h5 is read from in place
}

// Close releases the file.
func (c *Container) Close() error {
	var err error
	if c.h5 != nil {
		err = c.h5.Close()
		c.h5 = nil
	}
	if c.archive != nil {
		c.archive.Close()
		c.archive = nil
	}
	return err
}

// Open opens the container at path, telling its kind from its bytes, not
// its name. Errors do not repeat the path; the caller names the file.
//
// The HDF5 inside is verified whole (h5.File.Verify) before anything is
// read from it: every object, attribute and dataset the file holds, not
// only those a command reads. A damaged file is refused by every command
// alike, even when the damage lies where the command would not look (a
// summary reads no weights). It reads metadata only; README's Security
// section gives its cost beside a summary's.
func Open(path string) (*Container, error) {
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

	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		c := &Container{Kind: KindArchive}
		if err := c.openArchive(path, st.Size()); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
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
	if err := hf.Verify(); err != nil {
		hf.Close()
		return nil, &FormatError{Err: unprefixH5(err)}
	}
	c := &Container{Kind: KindH5, h5: hf, Store: hf}
	if err := c.readH5(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// unprefixH5 keeps the cause of an h5 error without repeating the path the
// caller already names.
func unprefixH5(err error) error {
	var he *h5.Error
	if errors.As(err, &he) && (he.Op == "open" || he.Op == "verify") {
		return he.Err
	}
	return err
}

func (c *Container) readH5() error {
	s := c.Store
	var err error
	if c.KerasVersion, err = optionalString(s, "/", "keras_version"); err != nil {
		return err
	}
	if c.Backend, err = optionalString(s, "/", "backend"); err != nil {
		return err
	}
	has, err := s.HasAttr("/", "model_config")
	if err != nil || !has {
		return err
	}
	if ok, _ := s.HasAttr("/", "training_config"); ok {
		c.Compiled = true
	}
	cfg, err := s.StringAttr("/", "model_config")
	if err != nil {
		return err
	}
	c.Config = []byte(cfg)
	return nil
}

func (c *Container) openArchive(path string, size int64) error {
	zr, err := os.Open(path)
	if err != nil {
		return err
	}
	c.archive = zr // Close closes it: model.weights.h5 is read from it in place
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
	c.Config = a.config
	if a.metadata != nil && gjson.ValidBytes(a.metadata) {
		c.KerasVersion = gjson.GetBytes(a.metadata, "keras_version").String()
	}
	if cc := gjson.GetBytes(a.config, "compile_config"); cc.IsObject() && len(cc.Map()) > 0 {
		c.Compiled = true
	}
	c.NPZ = a.npz
	if a.weights != nil {
		r, n, err := a.weightsReader(zr, size)
		if err != nil {
			return err
		}
		hf, err := h5.NewFile(r, n)
		if err == nil {
			if err = hf.Verify(); err != nil {
				hf.Close()
			}
		}
		if err != nil {
			return &FormatError{Msg: "archive member " + archiveWeightsH5, Err: unprefixH5(err)}
		}
		c.h5, c.Store = hf, hf
	}
	return nil
}

// optionalString reads an attribute that may be absent; one that is there
// but cannot be read is a damaged file.
func optionalString(s Store, obj, name string) (string, error) {
	v, err := s.StringAttr(obj, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(v), err
}
