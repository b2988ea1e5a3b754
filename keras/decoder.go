package keras

import (
	"fmt"
	"math"

	"github.com/tidwall/gjson"
)

// A decoder reads one layer's config with a sticky error, so a layer
// constructor reads every key it needs and checks for failure once:
//
//	u := d.int(0, "units", "output_dim")
//	if err := d.err; err != nil { ... }
//
// Keys are literal strings from this package, never data from the file:
// gjson treats . * ? # @ | as path syntax.
type decoder struct {
	cfg gjson.Result
	err error
	// sub decodes a layer serialized inside this one's config (wrappers,
	// nested models). It is a field rather than a call to newLayer so
	// that the registry, which names the wrappers' constructors, does not
	// refer to itself.
	sub func(gjson.Result) (*Layer, error)
}

func (d *decoder) fail(key string, format string, args ...any) {
	if d.err == nil {
		d.err = formatErrorf("config.%s: %s", key, fmt.Sprintf(format, args...))
	}
}

// lookup returns the first of keys present in the config (later keys are
// older Keras spellings of the same argument), and the key found.
func (d *decoder) lookup(keys ...string) (gjson.Result, string) {
	for _, k := range keys {
		if r := d.cfg.Get(k); r.Exists() {
			return r, k
		}
	}
	return gjson.Result{}, keys[0]
}

func (d *decoder) has(keys ...string) bool {
	r, _ := d.lookup(keys...)
	return r.Exists() && r.Type != gjson.Null
}

func (d *decoder) int(def int, keys ...string) int {
	r, k := d.lookup(keys...)
	if !r.Exists() || r.Type == gjson.Null {
		return def
	}
	v, ok := intValue(r)
	if !ok {
		d.fail(k, "got %s, want an integer", short(r.Raw))
		return def
	}
	return v
}

func (d *decoder) float(def float64, keys ...string) float64 {
	r, k := d.lookup(keys...)
	if !r.Exists() || r.Type == gjson.Null {
		return def
	}
	if r.Type != gjson.Number {
		d.fail(k, "got %s, want a number", short(r.Raw))
		return def
	}
	return r.Float()
}

func (d *decoder) boolean(def bool, keys ...string) bool {
	r, k := d.lookup(keys...)
	if !r.Exists() || r.Type == gjson.Null {
		return def
	}
	switch r.Type {
	case gjson.True:
		return true
	case gjson.False:
		return false
	}
	d.fail(k, "got %s, want true or false", short(r.Raw))
	return def
}

func (d *decoder) str(def string, keys ...string) string {
	r, k := d.lookup(keys...)
	if !r.Exists() || r.Type == gjson.Null {
		return def
	}
	if r.Type != gjson.String {
		d.fail(k, "got %s, want a string", short(r.Raw))
		return def
	}
	return r.Str
}

// ints reads an integer or a list of integers, as Keras accepts for
// kernel_size, strides and the like; n is the rank the layer wants.
func (d *decoder) ints(def []int, n int, keys ...string) []int {
	r, k := d.lookup(keys...)
	if !r.Exists() || r.Type == gjson.Null {
		return def
	}
	if v, ok := intValue(r); ok {
		out := make([]int, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	if !r.IsArray() {
		d.fail(k, "got %s, want an integer or a list of %d integers", short(r.Raw), n)
		return def
	}
	arr := r.Array()
	if len(arr) != n {
		d.fail(k, "got %d values, want %d", len(arr), n)
		return def
	}
	if out, ok := d.intArray(k, arr); ok {
		return out
	}
	return def
}

// intArray reads the elements of a JSON list as integers, failing on key k
// at the first one that is not.
func (d *decoder) intArray(k string, arr []gjson.Result) ([]int, bool) {
	out := make([]int, len(arr))
	for i, e := range arr {
		v, ok := intValue(e)
		if !ok {
			d.fail(k, "got %s, want an integer", short(e.Raw))
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// activation reads an activation argument: a name, or (Keras 3) a
// serialized function object whose config or class_name names it.
func (d *decoder) activation(def string, keys ...string) string {
	r, k := d.lookup(keys...)
	if !r.Exists() || r.Type == gjson.Null {
		return def
	}
	if r.Type == gjson.String {
		return r.Str
	}
	if r.IsObject() {
		if c := r.Get("config"); c.Type == gjson.String {
			return c.Str
		}
		if c := r.Get("class_name"); c.Type == gjson.String {
			return c.Str
		}
	}
	d.fail(k, "got %s, want an activation name", short(r.Raw))
	return def
}

// intValue accepts JSON integers, including floats with integral values
// (3.0), which old Keras versions sometimes wrote.
func intValue(r gjson.Result) (int, bool) {
	if r.Type != gjson.Number {
		return 0, false
	}
	f := r.Float()
	if f != math.Trunc(f) || f < -maxDim || f > maxDim {
		return 0, false
	}
	return int(f), true
}

// parseShape reads a JSON list of dimensions where null is None.
func parseShape(r gjson.Result) (Shape, error) {
	if !r.IsArray() {
		return nil, fmt.Errorf("got %s, want a list of dimensions", short(r.Raw))
	}
	arr := r.Array()
	if len(arr) > maxRank {
		return nil, fmt.Errorf("rank %d is more than %d", len(arr), maxRank)
	}
	s := make(Shape, len(arr))
	for i, e := range arr {
		if e.Type == gjson.Null {
			s[i] = None
			continue
		}
		v, ok := intValue(e)
		if !ok || v < 0 {
			return nil, fmt.Errorf("dimension %d: got %s, want a size or null", i, short(e.Raw))
		}
		s[i] = v
	}
	return s, nil
}

// short cuts raw JSON quoted in error messages to a readable length.
func short(raw string) string {
	const max = 60
	if len(raw) > max {
		return raw[:max] + "..."
	}
	return raw
}
