package tensor

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
)

// The tensor readers take untrusted bytes. These fuzz tests (go test
// -fuzz=FuzzReadNPY ./keras/tensor, and likewise for JSON and CSV) check that no
// input makes them panic, that what they accept is a consistent tensor,
// and that it survives a round trip through the matching writer.

// checkTensor reports a tensor whose data does not fill its shape.
func checkTensor(t *testing.T, x *Tensor) {
	t.Helper()
	if err := x.Check(); err != nil {
		t.Fatalf("reader returned an inconsistent tensor: %v", err)
	}
}

func FuzzReadNPY(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	for _, seed := range [][]byte{
		npyFile(header("<f4", "(2, 3)", false), encode(le, []float32{1, 2, 3, 4, 5, 6})),
		npyFile(header(">f8", "(2,)", false), encode(be, []float64{1, 2})),
		npyFile(header("<i2", "(2, 2)", true), encode(le, []int16{1, 2, 3, 4})),
		npyFile(header("|b1", "(3,)", false), []byte{0, 1, 2}),
		npyFile(header("<f2", "()", false), encode(le, uint16(0x3c00))),
		npyFile(header("<u8", "(1, 1, 1)", false), encode(le, uint64(5))),
		npyFile(header("|O", "(1,)", false), []byte("\x80\x02cos\nsystem\n")),
		npyFile(header("<c8", "(1,)", false), make([]byte, 8)),
		npyFile(header("<f4", "(1000000000, 1000000000)", false), nil),
		npyFile(header("<f4", "(100000000,)", false), make([]byte, 16)),
		npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", nil),
		npy2File(header("|u1", "(2,)", false), []byte{1, 2}),
		[]byte("\x93NUMPY\x01\x00\x04\x00{}\n\n"),
		[]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"),
		[]byte("\x93NUMPY"),
		nil,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Both paths: size known up front, and size discovered by reading.
		x, err := ReadNPY(bytes.NewReader(data))
		y, err2 := ReadNPY(io.MultiReader(bytes.NewReader(data)))
		shortError(t, err)
		small, err3 := tinyLimit.ReadNPY(bytes.NewReader(data))
		within(t, x, err, small, err3)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("sized reader: %v; unsized reader: %v", err, err2)
		}
		if err != nil {
			return
		}
		checkTensor(t, x)
		if !reflect.DeepEqual(x.Shape, y.Shape) || !sameBits(x.Data, y.Data) {
			t.Fatal("sized and unsized readers disagree")
		}
		var b bytes.Buffer
		if err := WriteNPY(&b, x); err != nil {
			return // a header too long for format 1.0
		}
		back, err := ReadNPY(&b)
		if err != nil {
			t.Fatalf("re-reading WriteNPY's output: %v", err)
		}
		if !reflect.DeepEqual(back.Shape, x.Shape) || !sameBits(back.Data, x.Data) {
			t.Fatal("round trip through WriteNPY changed the tensor")
		}
	})
}

func FuzzReadJSON(f *testing.F) {
	for _, seed := range []string{
		"[[1, 2, 3], [4, 5, 6]]", "[]", "[[], []]", "7", "[[[0.5]]]",
		"[[1, 2], [3]]", `[[1, "a"]]`, "[[1], 2]", "[1, [2]]", `{"x": [1]}`,
		"[1e39]", "[1, 2", "[1] [2]", "[null]", "[[[[[[[[", "-", "[1,]",
		"[" + strings.Repeat("1", 100) + "]", `["` + strings.Repeat("\\u00e9", 30) + `"]`,
		"[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadJSON(bytes.NewReader(data))
		shortError(t, err)
		small, err2 := tinyLimit.ReadJSON(bytes.NewReader(data))
		within(t, x, err, small, err2)
		if err != nil {
			return
		}
		checkTensor(t, x)
		var b bytes.Buffer
		if err := WriteJSON(&b, x); err != nil {
			t.Fatalf("WriteJSON refuses what ReadJSON read: %v", err)
		}
		back, err := ReadJSON(&b)
		if err != nil {
			t.Fatalf("re-reading WriteJSON's output: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(back.Shape, x.Shape) || !sameBits(back.Data, x.Data) {
			t.Fatalf("round trip changed %v %v into %v %v", x.Shape, x.Data, back.Shape, back.Data)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"1,2,3\n4,5,6\n", "a,b\n1,2\n", "# h\n1\n", "\ufeffx\r\n1\r\n", "nan,inf\n",
		"1,2\n3\n", "1,x\n", "1 2 3\n", "1,\"2\n", "\"1\",\"2\"\n", "", "a\n", ",\n", "1e39\n",
		"1,2,3,4\n5,6,7,8\n", strings.Repeat("9", 300) + "\n", "#" + strings.Repeat("x", 300) + "\n1\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadCSV(bytes.NewReader(data))
		shortError(t, err)
		small, err2 := tinyLimit.ReadCSV(bytes.NewReader(data))
		within(t, x, err, small, err2)
		if err != nil {
			return
		}
		checkTensor(t, x)
		if len(x.Shape) != 2 || x.Shape[0] == 0 || x.Shape[1] == 0 {
			t.Fatalf("shape %v, want rows and columns", x.Shape)
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, x); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCSV(&b)
		if err != nil {
			t.Fatalf("re-reading WriteCSV's output: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(back.Shape, x.Shape) || !sameNumbers(back.Data, x.Data) {
			t.Fatalf("round trip changed %v into %v", x.Data, back.Data)
		}
	})
}

// sameNumbers compares values, any NaN equal to any NaN (CSV writes one
// NaN).
func sameNumbers(a, b []float32) bool {
	for i := range a {
		na, nb := math.IsNaN(float64(a[i])), math.IsNaN(float64(b[i]))
		if na != nb || (!na && math.Float32bits(a[i]) != math.Float32bits(b[i])) {
			return false
		}
	}
	return len(a) == len(b)
}

// tinyLimit makes the limits bite on small inputs.
var tinyLimit = Limit{Values: 8, Row: 3}

// shortError holds a reader to one-line errors: at most 150 characters
// (the CLI adds a prefix and the file name), whatever the input quotes.
func shortError(t *testing.T, err error) {
	if err != nil && len(err.Error()) > 150 {
		t.Fatalf("error of %d characters: %.300s", len(err.Error()), err)
	}
}

// within checks a read under tinyLimit against the unlimited one: it
// succeeds only with what the unlimited read gives, within the limit.
func within(t *testing.T, x *Tensor, err error, small *Tensor, errSmall error) {
	shortError(t, errSmall)
	if errSmall != nil {
		return
	}
	if err != nil {
		t.Fatalf("refused without a limit (%v), read within one", err)
	}
	if len(small.Data) > tinyLimit.Values || !reflect.DeepEqual(small.Shape, x.Shape) || !sameBits(small.Data, x.Data) {
		t.Fatalf("within the limit: %v %v; without: %v %v", small.Shape, small.Data, x.Shape, x.Data)
	}
}
