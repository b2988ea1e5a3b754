package store_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/kerascope/kerascope/keras/store"
	"github.com/tidwall/gjson"
)

const modelsDir = "../../testdata/models"

// TestOpenFixtures opens every fixture file and compares what the
// container says with what the generator recorded when Keras wrote it:
// the kind, the Keras version and backend, whether it was compiled, and
// the model's class and name in its config.
func TestOpenFixtures(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(modelsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models map[string]struct {
			Files map[string]struct {
				Format            string `json:"format"`
				KerasVersion      string `json:"keras_version"`
				Backend           string `json:"backend"`
				HasTrainingConfig bool   `json:"has_training_config"`
				StoredClassName   string `json:"stored_class_name"`
				StoredModelName   string `json:"stored_model_name"`
			} `json:"files"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for model, mf := range m.Models {
		for file := range mf.Files {
			paths = append(paths, filepath.Join(model, file))
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		want := m.Models[filepath.Dir(p)].Files[filepath.Base(p)]
		t.Run(p, func(t *testing.T) {
			c, err := store.Open(filepath.Join(modelsDir, p))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			kind := map[string]store.Kind{"legacy-h5": store.KindH5, "keras-v3-zip": store.KindArchive}[want.Format]
			if c.Kind != kind || c.Store == nil || c.Config == nil {
				t.Errorf("kind %v, store %v, config %d bytes; want kind %v (%s) with both", c.Kind, c.Store != nil, len(c.Config), kind, want.Format)
			}
			if c.KerasVersion != want.KerasVersion || c.Backend != want.Backend {
				t.Errorf("Keras %q backend %q, want %q and %q", c.KerasVersion, c.Backend, want.KerasVersion, want.Backend)
			}
			if c.Kind == store.KindH5 && c.Compiled != want.HasTrainingConfig {
				t.Errorf("compiled %v, the file has training_config: %v", c.Compiled, want.HasTrainingConfig)
			}
			cfg := gjson.ParseBytes(c.Config)
			if got := cfg.Get("class_name").String(); got != want.StoredClassName {
				t.Errorf("config class %q, want %q", got, want.StoredClassName)
			}
			if got := cfg.Get("config.name").String(); got != want.StoredModelName {
				t.Errorf("config name %q, want %q", got, want.StoredModelName)
			}
		})
	}
}

// TestOpenNotKeras opens files that are no Keras model at all, made by the
// generator (testdata/bad/expected.json says so): each error wraps
// ErrNotKeras, or the container opens and holds no config.
func TestOpenNotKeras(t *testing.T) {
	for _, name := range []string{"notkeras_zip.keras", "notkeras_plain.h5"} {
		t.Run(name, func(t *testing.T) {
			c, err := store.Open(filepath.Join("../../testdata/bad", name))
			if err == nil {
				defer c.Close()
				if c.Config != nil {
					t.Fatalf("opened with a config of %d bytes", len(c.Config))
				}
				return
			}
			if !errors.Is(err, store.ErrNotKeras) {
				t.Errorf("error %v does not wrap ErrNotKeras", err)
			}
		})
	}
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"empty.h5":   nil,
		"pickle.h5":  {0x80, 0x04, 0x95},
		"text.keras": []byte("hello, not a model"),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if c, err := store.Open(p); !errors.Is(err, store.ErrNotKeras) {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s: error %v does not wrap ErrNotKeras", name, err)
		}
	}
}
