package serve

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// A format is how a predict request gave its tensors, which decides how
// the response gives its own (TF Serving's JsonPredictRequestFormat).
type format int

const (
	rowFormat      format = iota // "instances", answered in "predictions"
	columnarFormat               // "inputs", answered in "outputs"
)

// signatureName is the one signature a Keras model has here, the name
// TF Serving uses when a request names none.
const signatureName = "serving_default"

// An apiError is an error with the status TF Serving gives it.
type apiError struct {
	code int // HTTP status
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func invalid(format string, args ...any) *apiError {
	return &apiError{400, fmt.Sprintf(format, args...)}
}

// readLimits bound what a request may make the server allocate.
type readLimits struct {
	maxElements int // values over all input tensors
}

// parsePredict reads a predict request's body into one tensor per model
// input, in the model's order, following TF Serving's
// FillPredictRequestFromJson (tensorflow_serving/util/json_tensor.cc):
// the same forms, checks and messages, for a signature whose every input
// is DT_FLOAT.
func parsePredict(b []byte, ports []keras.Port, lim readLimits) ([]*keras.Tensor, format, *apiError) {
	if err := validate(b); err != nil {
		return nil, 0, &apiError{400, err.Error()}
	}
	root := skipSpace(b, 0)
	if !isObject(b, root) {
		return nil, 0, invalid("JSON Value: %s Is not object", snippet(b, root))
	}
	instances, inputs := -1, -1
	var bad *apiError
	eachMember(b, root, func(key []byte, v int) error {
		switch keyString(key) {
		case "signature_name":
			if b[v] != '"' {
				bad = invalid("JSON Value: %s not formatted correctly. 'signature_name' key must be a string value.", snippet(b, root))
			} else if name := keyString(b[v:valueEnd(b, v)]); name != signatureName && name != "" {
				bad = invalid("Serving signature name: %q not found in signature def", name)
			}
		case "instances":
			instances = v
		case "inputs":
			inputs = v
		}
		return nil
	})
	if bad != nil {
		return nil, 0, bad
	}
	switch {
	case instances >= 0 && inputs >= 0:
		return nil, 0, invalid("JSON Value: %s Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist", snippet(b, root))
	case instances >= 0:
		if b[instances] != '[' {
			return nil, 0, invalid("JSON Value: %s Excepting 'instances' to be an list/array", snippet(b, root))
		}
		if countElements(b, instances) == 0 {
			return nil, 0, invalid("JSON Value: %s No values in 'instances' array", snippet(b, root))
		}
		t, err := readInstances(b, instances, ports, lim)
		return t, rowFormat, err
	case inputs >= 0:
		t, err := readInputs(b, inputs, ports, lim)
		return t, columnarFormat, err
	}
	return nil, 0, invalid("Missing 'inputs' or 'instances' key")
}

// denseShape is the shape a nested list implies, read along its first
// elements (TF Serving's GetDenseTensorShape); later elements are checked
// against it as they are read.
func denseShape(b []byte, i int) []int {
	var shape []int
	for b[i] == '[' {
		n := countElements(b, i)
		shape = append(shape, n)
		if n == 0 {
			break
		}
		i = skipSpace(b, i+1)
	}
	return shape
}

// checkSize refuses a tensor of n values before it is allocated: over the
// limit, or more values than the body can hold (each needs a byte and a
// separator), which only a ragged list could claim.
func checkSize(n int, body int, lim readLimits) *apiError {
	if n < 0 || n > lim.maxElements {
		return &apiError{413, fmt.Sprintf("the request's tensors hold more than the limit of %d values", lim.maxElements)}
	}
	if n > body/2+1 {
		return invalid("the tensor shape implies %d values, more than the request body holds: a list has fewer elements than the first one at its level", n)
	}
	return nil
}

// product multiplies dims, or returns -1 past the 2^40 that no request
// can reach (so that it never overflows).
func product(dims []int) int {
	n := 1
	for _, d := range dims {
		if d != 0 && n > (1<<40)/d {
			return -1
		}
		n *= d
	}
	return n
}

// readInstances reads the row format: a list with one item per batch row,
// each a plain value (one input) or an object of named values.
func readInstances(b []byte, list int, ports []keras.Port, lim readLimits) ([]*keras.Tensor, *apiError) {
	var elems []int
	eachElement(b, list, func(i int) error { elems = append(elems, i); return nil })
	named := isObject(b, elems[0]) && !isB64(b, elems[0])
	if !isObject(b, elems[0]) && len(ports) > 1 {
		return nil, invalid("instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map")
	}
	// First pass: every item's shape, equal across rows, with no tensor
	// allocated yet.
	itemShapes := make([][]int, len(ports))
	items := make([][]int, len(ports)) // per input, each row's value
	for i := range items {
		items[i] = make([]int, 0, len(elems))
	}
	for row, e := range elems {
		isNamed := isObject(b, e) && !isB64(b, e)
		switch {
		case named && !isNamed:
			return nil, invalid("Expecting object but got list at item %d of input list", row)
		case !named && isNamed:
			return nil, invalid("Expecting value/list but got object at item %d of input list", row)
		case !named:
			if err := addItem(b, e, 0, itemShapes, items); err != nil {
				return nil, invalid("Failed to process element: %d of 'instances' list. Error: %s", row, err)
			}
			continue
		}
		seen := make([]bool, len(ports))
		var bad *apiError
		eachMember(b, e, func(key []byte, v int) error {
			name := keyString(key)
			k := portIndex(ports, name)
			switch {
			case k < 0:
				bad = invalid("Failed to process element: %d key: %s of 'instances' list. Error: JSON object: does not have named input: %s", row, name, name)
			case seen[k]:
				bad = invalid("Failed to process element: %d key: %s of 'instances' list. Error: the key appears twice", row, name)
			default:
				seen[k] = true
				if err := addItem(b, v, k, itemShapes, items); err != nil {
					bad = invalid("Failed to process element: %d key: %s of 'instances' list. Error: %s", row, name, err)
				}
			}
			if bad != nil {
				return bad
			}
			return nil
		})
		if bad != nil {
			return nil, bad
		}
		if slices.Contains(seen, false) {
			return nil, invalid("Failed to process element: %d of 'instances' list. JSON object: %s keys must be equal to: %s", row, snippet(b, e), sortedNames(ports))
		}
	}
	total := 0
	for k := range ports {
		n := product(append([]int{len(elems)}, itemShapes[k]...))
		if err := checkSize(n, len(b), lim); err != nil {
			return nil, err
		}
		if total += n; total > lim.maxElements {
			return nil, checkSize(total, len(b), lim)
		}
	}
	// Second pass: the values, straight into each batch tensor.
	out := make([]*keras.Tensor, len(ports))
	for k := range ports {
		t := &keras.Tensor{Shape: append([]int{len(elems)}, itemShapes[k]...)}
		t.Data = make([]float32, 0, product(t.Shape))
		for row, v := range items[k] {
			var err error
			if t.Data, err = fill(b, v, itemShapes[k], 0, t.Data); err != nil {
				if named {
					return nil, invalid("Failed to process element: %d key: %s of 'instances' list. Error: %s", row, ports[k].Name, err)
				}
				return nil, invalid("Failed to process element: %d of 'instances' list. Error: %s", row, err)
			}
		}
		out[k] = t
	}
	return out, nil
}

// addItem records one row's value of input k, checking its shape against
// the first row's (TF Serving's AddInstanceItem).
func addItem(b []byte, v, k int, shapes [][]int, items [][]int) error {
	shape := denseShape(b, v)
	if len(items[k]) == 0 {
		shapes[k] = shape
	} else if want := shapes[k]; !slices.Equal(shape, want) {
		if product(shape) != product(want) {
			return fmt.Errorf("Expecting tensor size: %d but got: %d", product(want), product(shape))
		}
		return fmt.Errorf("Expecting shape %s but got: %s", shapeString(want), shapeString(shape))
	}
	items[k] = append(items[k], v)
	return nil
}

// readInputs reads the columnar format: one value for a single input, or
// an object holding each input by name; keys naming no input are ignored,
// as TF Serving ignores them.
func readInputs(b []byte, v int, ports []keras.Port, lim readLimits) ([]*keras.Tensor, *apiError) {
	at := make([]int, len(ports))
	if !isObject(b, v) || isB64(b, v) {
		if len(ports) > 1 {
			return nil, invalid("inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map")
		}
		at[0] = v
	} else {
		for k := range at {
			at[k] = -1
		}
		eachMember(b, v, func(key []byte, start int) error {
			if k := portIndex(ports, keyString(key)); k >= 0 && at[k] < 0 {
				at[k] = start
			}
			return nil
		})
		for k, p := range ports {
			if at[k] < 0 {
				return nil, invalid("Missing named input: %s in 'inputs' object.", p.Name)
			}
		}
	}
	shapes := make([][]int, len(ports))
	total := 0
	for k := range ports {
		shapes[k] = denseShape(b, at[k])
		n := product(shapes[k])
		if err := checkSize(n, len(b), lim); err != nil {
			return nil, err
		}
		if total += n; total > lim.maxElements {
			return nil, checkSize(total, len(b), lim)
		}
	}
	out := make([]*keras.Tensor, len(ports))
	for k := range ports {
		t := &keras.Tensor{Shape: shapes[k], Data: make([]float32, 0, product(shapes[k]))}
		var err error
		if t.Data, err = fill(b, at[k], shapes[k], 0, t.Data); err != nil {
			return nil, invalid("%s", err)
		}
		out[k] = t
	}
	return out, nil
}

// fill appends the values of the nested list at b[i], which must have the
// given shape from level on, to dst (TF Serving's FillTensorProto for
// DT_FLOAT, with its messages).
func fill(b []byte, i int, shape []int, level int, dst []float32) ([]float32, error) {
	dst, _, err := fillAt(b, i, shape, level, dst)
	return dst, err
}

// fillAt is fill returning the end of the value too, so that each number
// is read once rather than skipped and then read.
func fillAt(b []byte, i int, shape []int, level int, dst []float32) ([]float32, int, error) {
	rank := len(shape)
	if b[i] != '[' {
		if level != rank {
			return dst, 0, fmt.Errorf("JSON Value: %s found at incorrect level: %d in the JSON DOM. Expected at level: %d", snippet(b, i), level+1, rank)
		}
		if c := b[i]; c == '{' || c == '"' || c == 't' || c == 'f' || c == 'n' {
			return dst, 0, fmt.Errorf("JSON Value: %s Type: %s is not of expected type: float", snippet(b, i), jsonType(b, i))
		}
		num, end := scanNumber(b, i)
		if !losslessFloat32(num) {
			return dst, 0, fmt.Errorf("Cannot convert JSON value: %s to float without loss of precision.", snippet(b, i))
		}
		return append(dst, float32(num.v)), end, nil
	}
	if level >= rank {
		return dst, 0, fmt.Errorf("Encountered list at unexpected level: %d expected < %d", level, rank)
	}
	n := 0
	j := skipSpace(b, i+1)
	for b[j] != ']' {
		if n++; n > shape[level] {
			j = valueEnd(b, j) // counted, not read: the size is wrong
		} else {
			var err error
			if dst, j, err = fillAt(b, j, shape, level+1, dst); err != nil {
				return dst, 0, err
			}
		}
		if j = skipSpace(b, j); b[j] == ',' {
			j = skipSpace(b, j+1)
		}
	}
	if n != shape[level] {
		return dst, 0, fmt.Errorf("Encountered list at unexpected size: %d at level: %d expected size: %d", n, level, shape[level])
	}
	return dst, j + 1, nil
}

// losslessFloat32 is TF Serving's IsLosslessDecimal<float>: integers up
// to 2^24-1 in magnitude, and finite decimals within float32's range.
func losslessFloat32(n number) bool {
	if math.IsInf(n.v, 0) || math.IsNaN(n.v) {
		return true
	}
	if n.isInt && math.Abs(n.v) < 1<<63 {
		return math.Abs(n.v) <= 1<<24-1
	}
	return math.Abs(n.v) <= math.MaxFloat32
}

func portIndex(ports []keras.Port, name string) int {
	for k, p := range ports {
		if p.Name == name {
			return k
		}
	}
	return -1
}

// sortedNames lists input names as TF Serving's std::set joins them.
func sortedNames(ports []keras.Port) string {
	names := make([]string, len(ports))
	for k, p := range ports {
		names[k] = p.Name
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// shapeString prints a shape as TF Serving's ShapeToString: [2,3].
func shapeString(shape []int) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprint(&sb, d)
	}
	sb.WriteByte(']')
	return sb.String()
}
