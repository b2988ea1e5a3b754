package serve

import (
	"math"
	"strconv"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

// The response writer follows TF Serving's MakeJsonFromTensors
// (tensorflow_serving/util/json_tensor.cc): the row format answers
// {"predictions": [...]} with one item per batch row, the columnar format
// {"outputs": ...} with whole tensors; a model with one output gives its
// values unnamed, a model with several gives objects keyed by output name.
// The layout is rapidjson's pretty writer with its single-line arrays.

// appendResponse appends the JSON answer to a predict request.
func appendResponse(dst []byte, f format, names []string, outs []*keras.Tensor) []byte {
	named := len(outs) > 1
	if f == columnarFormat {
		dst = append(dst, "{\n    \"outputs\": "...)
		if !named {
			dst = appendTensor(dst, outs[0].Shape, outs[0].Data)
			return append(dst, "\n}"...)
		}
		dst = append(dst, "{\n"...)
		for k, t := range outs {
			dst = append(dst, "        "...)
			dst = appendJSONString(dst, names[k])
			dst = append(dst, ": "...)
			dst = appendTensor(dst, t.Shape, t.Data)
			if k < len(outs)-1 {
				dst = append(dst, ',')
			}
			dst = append(dst, '\n')
		}
		return append(dst, "    }\n}"...)
	}
	// Every output has the batch first (a Keras model's outputs always
	// do), so row r of each is its r-th slice.
	rows := outs[0].Shape[0]
	dst = append(dst, "{\n    \"predictions\": ["...)
	for r := range rows {
		if r > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, "\n        "...)
		if named {
			dst = append(dst, "{\n"...)
		}
		for k, t := range outs {
			inner := len(t.Data) / max(t.Shape[0], 1)
			row := t.Data[r*inner : (r+1)*inner]
			if named {
				dst = append(dst, "            "...)
				dst = appendJSONString(dst, names[k])
				dst = append(dst, ": "...)
			}
			dst = appendTensor(dst, t.Shape[1:], row)
			if named {
				if k < len(outs)-1 {
					dst = append(dst, ',')
				}
				dst = append(dst, '\n')
			}
		}
		if named {
			dst = append(dst, "        }"...)
		}
	}
	if rows > 0 {
		dst = append(dst, "\n    "...)
	}
	return append(dst, "]\n}"...)
}

// appendTensor appends values of the given shape as nested lists, or the
// single value of a scalar.
func appendTensor(dst []byte, shape []int, data []float32) []byte {
	if len(shape) == 0 {
		return appendFloat(dst, data[0])
	}
	dst = append(dst, '[')
	if len(shape) == 1 {
		for i, v := range data[:shape[0]] {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendFloat(dst, v)
		}
		return append(dst, ']')
	}
	inner := 1
	for _, d := range shape[1:] {
		inner *= d
	}
	for i := range shape[0] {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendTensor(dst, shape[1:], data[i*inner:(i+1)*inner])
	}
	return append(dst, ']')
}

// appendFloat writes a float32 as TF Serving's WriteDecimal does: six
// significant digits when they give the value back, else nine; ".0" after
// a whole number; NaN, Infinity and -Infinity as bare tokens.
func appendFloat(dst []byte, v float32) []byte {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', 6, 32)
	if back, err := strconv.ParseFloat(string(dst[start:]), 32); err != nil || float32(back) != v {
		dst = strconv.AppendFloat(dst[:start], f, 'g', 9, 32)
	}
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

// appendError appends TF Serving's error body, {"error": "..."}, with the
// message on one line.
func appendError(dst []byte, msg string) []byte {
	msg = strings.ToValidUTF8(strings.ReplaceAll(msg, "\n", " "), "\uFFFD")
	dst = append(dst, "{\n    \"error\": "...)
	dst = appendJSONString(dst, msg)
	return append(dst, "\n}"...)
}

// appendJSONString quotes s as a JSON string (strconv's Go quoting is not
// JSON: it writes \x escapes).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
