package serve

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// The request reader works on the raw bytes in two steps: validate checks
// the whole document's syntax once (so a syntax error is reported before
// any meaning is looked at, as TF Serving's rapidjson does), and the
// helpers below then walk the validated bytes without allocating, which
// lets the reader learn every tensor's shape and check it against the
// limits before it allocates the tensor.
//
// The syntax is JSON's plus the NaN, Inf, Infinity tokens (with an
// optional minus sign) that TF Serving accepts (rapidjson's
// kParseNanAndInfFlag, see its api_rest.md "JSON conformance").

// maxDepth bounds nesting, so hostile input cannot exhaust the stack. A
// tensor of rank 32 in an instances list of objects needs 35.
const maxDepth = 64

// A syntaxError is where and why a document is not JSON; its messages are
// rapidjson's (GetParseError_En), which TF Serving's errors quote.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("JSON Parse error: %s at offset: %d", e.msg, e.off)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// validate checks that b holds exactly one JSON value.
func validate(b []byte) error {
	i := skipSpace(b, 0)
	if i == len(b) {
		return &syntaxError{"The document is empty.", i}
	}
	end, err := scanValue(b, i, 0)
	if err != nil {
		return err
	}
	if end = skipSpace(b, end); end != len(b) {
		return &syntaxError{"The document root must not be followed by other values.", end}
	}
	return nil
}

// scanValue checks the value at b[i] (no leading space) and returns its
// end.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, &syntaxError{"Invalid value.", i}
	}
	switch c := b[i]; {
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '"':
		return scanString(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || c == 'N' || c == 'I' || (c >= '0' && c <= '9'):
		return lexNumber(b, i)
	}
	return i, &syntaxError{"Invalid value.", i}
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, &syntaxError{"Invalid value.", i}
	}
	return i + len(lit), nil
}

func scanObject(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, &syntaxError{fmt.Sprintf("Nesting deeper than %d levels.", maxDepth), i}
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, &syntaxError{"Missing a name for object member.", i}
		}
		end, err := scanString(b, i)
		if err != nil {
			return end, err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, &syntaxError{"Missing a colon after a name of object member.", i}
		}
		if i, err = scanValue(b, skipSpace(b, i+1), depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return i, &syntaxError{"Missing a comma or '}' after an object member.", i}
	}
}

func scanArray(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, &syntaxError{fmt.Sprintf("Nesting deeper than %d levels.", maxDepth), i}
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = scanValue(b, i, depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return i, &syntaxError{"Missing a comma or ']' after an array element.", i}
	}
}

func scanString(b []byte, i int) (int, error) {
	start := i
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i >= len(b) {
				return i, &syntaxError{"Missing a closing quotation mark in string.", start}
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					return i, &syntaxError{"Incorrect hex digit after \\u escape in string.", i}
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return i, &syntaxError{"Incorrect hex digit after \\u escape in string.", i}
					}
				}
				i += 4
			default:
				return i, &syntaxError{"Invalid escape character in string.", i}
			}
		case c < 0x20:
			return i, &syntaxError{"Invalid encoding in string.", i}
		}
	}
	return i, &syntaxError{"Missing a closing quotation mark in string.", start}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// lexNumber checks the syntax of the number at b[i] and returns its end,
// without converting it: values are skipped many times (to count and
// find elements) and converted once, by scanNumber.
func lexNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	if i < len(b) && (b[i] == 'N' || b[i] == 'I') {
		for _, lit := range []string{"NaN", "Infinity", "Inf"} {
			if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
				return i + len(lit), nil
			}
		}
		return i, &syntaxError{"Invalid value.", start}
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, &syntaxError{"Invalid value.", start}
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, &syntaxError{"Miss fraction part in number.", i}
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	exp := false
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		exp = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, &syntaxError{"Miss exponent in number.", i}
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	// Only an exponent or hundreds of digits can overflow a double,
	// which rapidjson reports as a syntax error.
	if exp || i-start > 300 {
		if v, err := strconv.ParseFloat(string(b[start:i]), 64); err != nil && math.IsInf(v, 0) {
			return i, &syntaxError{"Number too big to be stored in double.", start}
		}
	}
	return i, nil
}

// A number is a JSON number's value, and whether it was written as an
// integer (which decides how TF Serving checks that float32 holds it).
type number struct {
	v     float64
	isInt bool
}

// scanNumber converts the (validated) number at b[i] and returns its end.
func scanNumber(b []byte, i int) (number, int) {
	end, _ := lexNumber(b, i)
	s := b[i:end]
	switch string(bytes.TrimPrefix(s, []byte{'-'})) {
	case "NaN":
		return number{v: math.NaN()}, end
	case "Inf", "Infinity":
		if s[0] == '-' {
			return number{v: math.Inf(-1)}, end
		}
		return number{v: math.Inf(1)}, end
	}
	// The conversion does not keep the string, so the compiler need not
	// copy the bytes to the heap.
	v, _ := strconv.ParseFloat(string(s), 64)
	return number{v: v, isInt: bytes.IndexAny(s, ".eE") < 0}, end
}

// The helpers below assume validated bytes.

// valueEnd returns the end of the value at b[i].
func valueEnd(b []byte, i int) int {
	end, _ := scanValue(b, i, 0)
	return end
}

// eachElement calls fn with the start of each element of the array at
// b[i], stopping at fn's first error.
func eachElement(b []byte, i int, fn func(start int) error) error {
	i = skipSpace(b, i+1)
	if b[i] == ']' {
		return nil
	}
	for {
		if err := fn(i); err != nil {
			return err
		}
		i = skipSpace(b, valueEnd(b, i))
		if b[i] == ']' {
			return nil
		}
		i = skipSpace(b, i+1)
	}
}

// eachMember calls fn with the raw key (quotes included) and the value's
// start of each member of the object at b[i].
func eachMember(b []byte, i int, fn func(key []byte, start int) error) error {
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return nil
	}
	for {
		kend, _ := scanString(b, i)
		key := b[i:kend]
		v := skipSpace(b, skipSpace(b, kend)+1)
		if err := fn(key, v); err != nil {
			return err
		}
		i = skipSpace(b, valueEnd(b, v))
		if b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1)
	}
}

// countElements returns the length of the array at b[i].
func countElements(b []byte, i int) int {
	n := 0
	eachElement(b, i, func(int) error { n++; return nil })
	return n
}

// keyString decodes a raw key; keys without escapes (all real input
// names) take the fast path.
func keyString(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			if s, err := strconv.Unquote(string(raw)); err == nil {
				return s
			}
			return string(inner) // \/ and \u surrogates Go's Unquote refuses
		}
	}
	return string(inner)
}

// isObject reports whether the value at b[i] is an object.
func isObject(b []byte, i int) bool { return b[i] == '{' }

// isB64 reports whether the value at b[i] is TF Serving's binary value
// form, an object whose only member is "b64" holding a string.
func isB64(b []byte, i int) bool {
	if b[i] != '{' {
		return false
	}
	n, ok := 0, false
	eachMember(b, i, func(key []byte, v int) error {
		n++
		ok = keyString(key) == "b64" && b[v] == '"'
		return nil
	})
	return n == 1 && ok
}

// jsonType names the JSON type at b[i] as TF Serving's errors do.
func jsonType(b []byte, i int) string {
	switch b[i] {
	case '{':
		return "Object"
	case '[':
		return "Array"
	case '"':
		return "String"
	case 't':
		return "True"
	case 'f':
		return "False"
	case 'n':
		return "Null"
	}
	return "Number"
}

// snippet quotes the value at b[i] for an error message, cut short so
// that an error stays one short line whatever the request holds.
func snippet(b []byte, i int) string {
	end := valueEnd(b, i)
	const most = 64
	s := b[i:end]
	if len(s) > most {
		return string(s[:most]) + "..."
	}
	return string(s)
}
