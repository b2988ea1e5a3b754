package keras

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
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
	// MaxWeightsBytes bounds the model.weights.h5 member extracted from a
	// .keras archive.
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
			return nil, formatErrorf("archive has two members named %q, which Keras and other readers resolve differently: %w", f.Name, ErrNotKeras)
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
				return nil, formatErrorf("archive member %s declares %d bytes, more than the %d this tool reads", f.Name, f.UncompressedSize64, uint64(MaxWeightsBytes))
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
		return nil, formatErrorf("archive member %s declares %d bytes, more than the %d this tool reads", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, formatErrorf("archive member %s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errors.New("longer than declared")
	}
	if err != nil {
		return nil, formatErrorf("archive member %s: %w", f.Name, err)
	}
	return b, nil
}

// extractWeights copies model.weights.h5 to a temporary file, since
// libhdf5 opens files by name only. The caller removes the file.
func (a *archive) extractWeights() (string, error) {
	rc, err := a.weights.Open()
	if err != nil {
		return "", formatErrorf("archive member %s: %w", archiveWeightsH5, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp("", "kerascope-*.weights.h5")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(tmp, io.LimitReader(rc, MaxWeightsBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > MaxWeightsBytes {
		err = errors.New("longer than the limit")
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", formatErrorf("archive member %s: %w", archiveWeightsH5, err)
	}
	return tmp.Name(), nil
}
