package store

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Member names Keras 3 writes into a .keras archive
// (keras/src/saving/saving_lib.py: _CONFIG_FILENAME and friends).
const (
	archiveConfig    = "config.json"
	archiveMetadata  = "metadata.json"
	archiveWeightsH5 = "model.weights.h5"
	archiveWeightsNP = "model.weights.npz"
)

// Size limits for archive members, checked against the sizes the archive
// declares before anything is read, and enforced again while reading.
const (
	maxMetadataBytes = 1 << 20
	// MaxWeightsBytes bounds the model.weights.h5 member of a .keras
	// archive (see also MaxInflatedWeightsBytes).
	MaxWeightsBytes = 16 << 30
)

// An archive is the parts of a .keras zip that kerascope reads.
type archive struct {
	config   []byte
	metadata []byte
	weights  *zip.File // model.weights.h5, nil when absent
	npz      bool      // weights stored as pickled NumPy arrays instead
}

// readArchive reads config.json and metadata.json from a .keras archive and
// locates model.weights.h5. It refuses archives with duplicate member names,
// which Python's zipfile resolves to the last one and other readers to the
// first, so two tools could see two different models.
func readArchive(r *zip.Reader) (*archive, error) {
	seen := make(map[string]bool, len(r.File))
	a := &archive{}
	for _, f := range r.File {
		if seen[f.Name] {
			return nil, Formatf("archive has two members named %q, which Keras and other readers resolve differently: %w", f.Name, ErrNotKeras)
		}
		seen[f.Name] = true
		switch f.Name {
		case archiveConfig:
			b, err := readMember(f, MaxConfigBytes)
			if err != nil {
				return nil, err
			}
			a.config = b
		case archiveMetadata:
			b, err := readMember(f, maxMetadataBytes)
			if err != nil {
				return nil, err
			}
			a.metadata = b
		case archiveWeightsH5:
			if f.UncompressedSize64 > MaxWeightsBytes {
				return nil, Formatf("archive member %s declares %d bytes, more than the %d this tool reads", f.Name, f.UncompressedSize64, uint64(MaxWeightsBytes))
			}
			a.weights = f
		case archiveWeightsNP:
			a.npz = true
		}
	}
	if a.config == nil {
		return nil, fmt.Errorf("zip archive has no %s: %w", archiveConfig, ErrNotKeras)
	}
	return a, nil
}

func readMember(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, Formatf("archive member %s declares %d bytes, more than the %d this tool reads", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, Formatf("archive member %s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errors.New("longer than declared")
	}
	if err != nil {
		return nil, Formatf("archive member %s: %w", f.Name, err)
	}
	return b, nil
}

// MaxInflatedWeightsBytes bounds the memory that a compressed
// model.weights.h5 member takes: it is inflated into memory, never to disk.
// A stored (uncompressed) member, which is what Keras writes, is read in
// place and costs no memory of its own.
const MaxInflatedWeightsBytes = 1 << 30

// weightsReader gives model.weights.h5 as an io.ReaderAt without a
// temporary file: the member's bytes in place inside the archive src
// (size bytes) when it is stored uncompressed, else its content inflated
// into memory, at most MaxInflatedWeightsBytes. Stored members are not
// checked against their CRC, since that would read them whole; the HDF5
// reader checks every structure it uses instead.
func (a *archive) weightsReader(src io.ReaderAt, size int64) (io.ReaderAt, int64, error) {
	w := a.weights
	if w.Method == zip.Store {
		off, err := w.DataOffset()
		if err != nil {
			return nil, 0, Formatf("archive member %s: %w", archiveWeightsH5, err)
		}
		n := w.CompressedSize64
		if n != w.UncompressedSize64 || off < 0 || off > size || n > uint64(size-off) {
			return nil, 0, Formatf("archive member %s: stored sizes %d and %d do not fit the archive", archiveWeightsH5, w.CompressedSize64, w.UncompressedSize64)
		}
		return io.NewSectionReader(src, off, int64(n)), int64(n), nil
	}
	if w.UncompressedSize64 > MaxInflatedWeightsBytes {
		return nil, 0, Formatf("archive member %s is compressed and declares %d bytes, more than the %d this tool inflates in memory", archiveWeightsH5, w.UncompressedSize64, MaxInflatedWeightsBytes)
	}
	b, err := readMember(w, int64(w.UncompressedSize64))
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}
