//go:build libhdf5

package libh5

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// expected mirrors testdata/expected.json, written by testdata/gen.py from
// what h5py reads back.
type expected struct {
	Attrs map[string]struct {
		String  *string
		Strings []string
	}
	Children map[string]struct{ Groups, Datasets []string }
	Datasets map[string]struct {
		Dtype string
		Shape []int // nil for a null dataspace
		Bits  []uint32
	}
	Userblock string
}

func loadExpected(t testing.TB) *expected {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func openT(t testing.TB, name string) *File {
	t.Helper()
	f, err := Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func splitAttr(key string) (obj, name string) {
	i := strings.LastIndexByte(key, '@')
	return key[:i], key[i+1:]
}

func TestStringAttr(t *testing.T) {
	f, exp := openT(t, "attrs.h5"), loadExpected(t)
	n := 0
	for key, want := range exp.Attrs {
		if want.String == nil && len(want.Strings) != 1 {
			continue
		}
		w := ""
		if want.String != nil {
			w = *want.String
		} else {
			w = want.Strings[0] // a 1-element array is accepted
		}
		obj, name := splitAttr(key)
		got, err := f.StringAttr(obj, name)
		if err != nil || got != w {
			t.Errorf("StringAttr(%q, %q) = %.40q, %v; want %.40q", obj, name, got, err, w)
		}
		n++
	}
	// Scalar vlen ASCII, vlen UTF-8, fixed, empty, long; plus one_elem_array.
	if n < 6 {
		t.Errorf("only %d string attributes in expected.json", n)
	}
}

func TestStringsAttr(t *testing.T) {
	f, exp := openT(t, "attrs.h5"), loadExpected(t)
	for key, want := range exp.Attrs {
		w := want.Strings
		if want.String != nil {
			w = []string{*want.String} // a scalar gives one element
		}
		obj, name := splitAttr(key)
		got, err := f.StringsAttr(obj, name)
		if err != nil || got == nil || !slices.Equal(got, w) {
			t.Errorf("StringsAttr(%q, %q) = %.60q, %v; want %.60q", obj, name, got, err, w)
		}
	}
}

func TestHasAttr(t *testing.T) {
	f := openT(t, "attrs.h5")
	tests := []struct {
		obj, name string
		want      bool
		notExist  bool // error wraps fs.ErrNotExist
	}{
		{"/", "vlen_ascii", true, false},
		{"/", "training_config", false, false},
		{"/model_weights", "layer_names", true, false},
		{"/model_weights/dense 1:a", "weight_names", true, false},
		{"/data/bf16", "dtype", true, false},
		{"/data/f32", "dtype", false, false},
		{"/nope", "x", false, true},
		{"/nope/deeper", "x", false, true},
	}
	for _, tt := range tests {
		got, err := f.HasAttr(tt.obj, tt.name)
		if got != tt.want || (err != nil) != tt.notExist || (err != nil && !errors.Is(err, fs.ErrNotExist)) {
			t.Errorf("HasAttr(%q, %q) = %v, %v; want %v, not-exist error %v", tt.obj, tt.name, got, err, tt.want, tt.notExist)
		}
	}
}

func TestAttrErrors(t *testing.T) {
	f := openT(t, "attrs.h5")
	tests := []struct {
		name, obj, attr string
		strings         bool   // StringsAttr, else StringAttr
		want            string // whole error text
		notExist        bool
	}{
		{"absent", "/", "training_config", false, "h5: read attribute /@training_config: attribute not found", true},
		{"absent strings", "/model_weights", "layer_names0", true, "h5: read attribute /model_weights@layer_names0: attribute not found", true},
		{"absent object", "/model_weights/nope", "weight_names", true, "h5: read attribute /model_weights/nope@weight_names: object not found", true},
		{"float array", "/", "float_array", false, "h5: read attribute /@float_array: attribute is a float64 array of 3 elements, want a string", false},
		{"float scalar", "/", "float_scalar", true, "h5: read attribute /@float_scalar: attribute is a float64 scalar, want a 1-D string array", false},
		{"string array", "/", "vlen_array", false, "h5: read attribute /@vlen_array: attribute is a string array of 3 elements, want a string", false},
		{"empty float", "/", "empty_float", false, "h5: read attribute /@empty_float: attribute is a float64 array of 0 elements, want a string", false},
		{"empty int", "/", "empty_int", true, "h5: read attribute /@empty_int: attribute is an int64 array of 0 elements, want a 1-D string array", false},
		{"2-D", "/", "string_matrix", true, "h5: read attribute /@string_matrix: attribute is a string array of shape (2, 2), want a 1-D string array", false},
		{"through dataset", "/data/f32/x", "a", false, "h5: read attribute /data/f32/x@a: /data/f32 is a dataset, not a group", false},
		{"soft link", "/links/soft", "a", false, "h5: read attribute /links/soft@a: /links/soft is a soft link; links are not followed", false},
		{"relative", "model_weights", "layer_names", true, "h5: read attribute model_weights@layer_names: path is not absolute", false},
		{"NUL", "/", "a\x00b", false, "h5: read attribute /@a\x00b: name \"a\\x00b\" contains a NUL byte", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.strings {
				_, err = f.StringsAttr(tt.obj, tt.attr)
			} else {
				_, err = f.StringAttr(tt.obj, tt.attr)
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", !tt.notExist, tt.notExist)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "read attribute" {
				t.Errorf("error is not an *Error with Op \"read attribute\": %#v", err)
			}
		})
	}
}

func TestChildren(t *testing.T) {
	f, exp := openT(t, "attrs.h5"), loadExpected(t)
	if len(exp.Children) < 5 {
		t.Fatalf("only %d groups in expected.json", len(exp.Children))
	}
	for g, want := range exp.Children {
		groups, datasets, err := f.Children(g)
		if err != nil || groups == nil || datasets == nil ||
			!slices.Equal(groups, want.Groups) || !slices.Equal(datasets, want.Datasets) {
			t.Errorf("Children(%q) = %q, %q, %v; want %q, %q", g, groups, datasets, err, want.Groups, want.Datasets)
		}
	}
	for path, want := range map[string]string{
		"/data/f32":       "h5: list /data/f32: object is a dataset, not a group",
		"/nope":           "h5: list /nope: object not found",
		"/links/external": "h5: list /links/external: /links/external is an external link to another file; links are not followed",
		"/links/type":     "h5: list /links/type: object is a named datatype, not a group",
	} {
		if _, _, err := f.Children(path); err == nil || err.Error() != want {
			t.Errorf("Children(%q) error = %v, want %s", path, err, want)
		}
	}
}

func TestDatasetShape(t *testing.T) {
	f, exp := openT(t, "attrs.h5"), loadExpected(t)
	for p, want := range exp.Datasets {
		shape, dtype, err := f.DatasetShape(p)
		if want.Shape == nil { // null dataspace
			if err == nil || !strings.Contains(err.Error(), "null dataspace") {
				t.Errorf("DatasetShape(%q) = %v, %q, %v; want a null-dataspace error", p, shape, dtype, err)
			}
			continue
		}
		if err != nil || shape == nil || !slices.Equal(shape, want.Shape) || dtype != want.Dtype {
			t.Errorf("DatasetShape(%q) = %v, %q, %v; want %v, %q", p, shape, dtype, err, want.Shape, want.Dtype)
		}
	}
}

func TestReadFloat32(t *testing.T) {
	f, exp := openT(t, "attrs.h5"), loadExpected(t)
	n := 0
	for p, want := range exp.Datasets {
		if want.Bits == nil {
			continue
		}
		n++
		for _, shape := range [][]int{nil, want.Shape} {
			got, err := f.ReadFloat32(p, shape)
			if err != nil || got == nil || len(got) != len(want.Bits) {
				t.Errorf("ReadFloat32(%q, %v) = %v, %v; want %d values", p, shape, got, err, len(want.Bits))
				continue
			}
			for i, b := range want.Bits {
				if math.Float32bits(got[i]) != b {
					t.Errorf("ReadFloat32(%q)[%d] = %v, want %v", p, i, got[i], math.Float32frombits(b))
				}
			}
		}
	}
	if n < 8 { // f16, f32, f64, bf16, scalar, empty, gzip, Keras weights
		t.Errorf("only %d float datasets in expected.json", n)
	}
}

func TestReadFloat32Errors(t *testing.T) {
	f := openT(t, "attrs.h5")
	tests := []struct {
		path string
		want []int
		err  string
	}{
		{"/data/f32", []int{3, 2}, "h5: read /data/f32: shape (2, 3), want (3, 2)"},
		{"/data/f32", []int{6}, "h5: read /data/f32: shape (2, 3), want (6,)"},
		{"/data/f32", []int{}, "h5: read /data/f32: shape (2, 3), want ()"},
		{"/data/scalar_f32", []int{1}, "h5: read /data/scalar_f32: shape (), want (1,)"},
		{"/data/i64", nil, "h5: read /data/i64: datatype int64, want a float type"},
		{"/data/scalar_i64", nil, "h5: read /data/scalar_i64: datatype int64, want a float type"},
		{"/data/str", nil, "h5: read /data/str: datatype string, want a float type"},
		{"/data/compound", nil, "h5: read /data/compound: datatype other:compound, want a float type"},
		{"/data/bool", nil, "h5: read /data/bool: datatype bool, want a float type"},
		{"/data/f32be", nil, "h5: read /data/f32be: datatype float32>, want a little-endian float type"},
		{"/data/null", nil, "h5: read /data/null: dataset has no data (null dataspace)"},
		{"/data", nil, "h5: read /data: object is a group, not a dataset"},
		{"/data/nope", nil, "h5: read /data/nope: object not found"},
		{"/links/soft", nil, "h5: read /links/soft: /links/soft is a soft link; links are not followed"},
		{"/links/dangling", nil, "h5: read /links/dangling: /links/dangling is a soft link; links are not followed"},
		{"/links/external", nil, "h5: read /links/external: /links/external is an external link to another file; links are not followed"},
	}
	for _, tt := range tests {
		got, err := f.ReadFloat32(tt.path, tt.want)
		if err == nil || err.Error() != tt.err || got != nil {
			t.Errorf("ReadFloat32(%q, %v) = %v, %v\nwant error %s", tt.path, tt.want, got, err, tt.err)
		}
	}
	if _, err := f.ReadFloat32("/data/nope", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dataset: %v does not wrap fs.ErrNotExist", err)
	}
}

// TestReadFloat32Limit checks that the size limit applies before reading.
func TestReadFloat32Limit(t *testing.T) {
	f := openT(t, "attrs.h5")
	old := MaxReadBytes
	t.Cleanup(func() { MaxReadBytes = old })
	MaxReadBytes = 100*4 - 1 // gzip_f32 is 10×10 float32
	_, err := f.ReadFloat32("/data/gzip_f32", []int{10, 10})
	if err == nil || !strings.Contains(err.Error(), "more than MaxReadBytes") {
		t.Errorf("ReadFloat32 over the limit: %v", err)
	}
	MaxReadBytes = 100 * 4
	if _, err := f.ReadFloat32("/data/gzip_f32", []int{10, 10}); err != nil {
		t.Errorf("ReadFloat32 at the limit: %v", err)
	}
}

func TestAttrLimit(t *testing.T) {
	f := openT(t, "attrs.h5")
	old := MaxAttrBytes
	t.Cleanup(func() { MaxAttrBytes = old })
	MaxAttrBytes = 15999 // vlen_long has 16000 bytes
	if _, err := f.StringAttr("/", "vlen_long"); err == nil || !strings.Contains(err.Error(), "MaxAttrBytes") {
		t.Errorf("StringAttr over the limit: %v", err)
	}
	MaxAttrBytes = 20 // fixed_array is 3 slots of 7 bytes
	if _, err := f.StringsAttr("/", "fixed_array"); err == nil || !strings.Contains(err.Error(), "MaxAttrBytes") {
		t.Errorf("StringsAttr over the limit: %v", err)
	}
}
