package tensor

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
)

// npyFile builds a .npy file from a header dictionary and raw data, so
// tests can state any header, honest or not.
func npyFile(dict string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	h := dict + "\n"
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func header(descr, shape string, fortran bool) string {
	f := "False"
	if fortran {
		f = "True"
	}
	return "{'descr': '" + descr + "', 'fortran_order': " + f + ", 'shape': " + shape + ", }"
}

func encode(order binary.ByteOrder, vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, order, v)
	}
	return b.Bytes()
}

// npyioFile writes v with npyio, an implementation independent of ours.
func npyioFile(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := npy.Write(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadNPY(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name  string
		file  []byte
		shape []int
		data  []float32
	}{
		{"f4 npyio", npyioFile(t, []float32{1.5, -2, 3}), []int{3}, []float32{1.5, -2, 3}},
		{"f8 npyio", npyioFile(t, []float64{0.1, 1e300, -1e-50}), []int{3}, []float32{0.1, float32(math.Inf(1)), float32(math.Copysign(0, -1))}},
		{"i1 npyio", npyioFile(t, []int8{-128, 127}), []int{2}, []float32{-128, 127}},
		{"u1 npyio", npyioFile(t, []uint8{0, 255}), []int{2}, []float32{0, 255}},
		{"i2 npyio", npyioFile(t, []int16{-32768, 7}), []int{2}, []float32{-32768, 7}},
		{"u2 npyio", npyioFile(t, []uint16{65535}), []int{1}, []float32{65535}},
		{"i4 npyio", npyioFile(t, []int32{-5, 1 << 30}), []int{2}, []float32{-5, 1 << 30}},
		{"u4 npyio", npyioFile(t, []uint32{4294967295}), []int{1}, []float32{4294967296}},
		{"i8 npyio", npyioFile(t, []int64{-1, 1 << 62}), []int{2}, []float32{-1, 1 << 62}},
		{"u8 npyio", npyioFile(t, []uint64{1 << 63}), []int{1}, []float32{1 << 63}},
		{"bool npyio", npyioFile(t, []bool{true, false, true}), []int{3}, []float32{1, 0, 1}},
		{"bool nonzero byte", npyFile(header("|b1", "(2,)", false), []byte{0, 7}), []int{2}, []float32{0, 1}},
		{"f4 2x3", npyFile(header("<f4", "(2, 3)", false), encode(le, []float32{1, 2, 3, 4, 5, 6})), []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"f4 big-endian", npyFile(header(">f4", "(2,)", false), encode(be, []float32{1.25, -3})), []int{2}, []float32{1.25, -3}},
		{"f8 big-endian", npyFile(header(">f8", "(1,)", false), encode(be, []float64{2.5})), []int{1}, []float32{2.5}},
		{"i4 big-endian", npyFile(header(">i4", "(2,)", false), encode(be, []int32{-7, 9})), []int{2}, []float32{-7, 9}},
		{"u2 big-endian", npyFile(header(">u2", "(1,)", false), encode(be, []uint16{513})), []int{1}, []float32{513}},
		{"i8 big-endian", npyFile(header(">i8", "(1,)", false), encode(be, []int64{-3})), []int{1}, []float32{-3}},
		{"f2", npyFile(header("<f2", "(6,)", false), encode(le, []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000})),
			[]int{6}, []float32{1, -2, 65504, 5.9604645e-08, float32(math.Inf(1)), float32(math.Copysign(0, -1))}},
		{"f2 big-endian", npyFile(header(">f2", "(1,)", false), encode(be, []uint16{0x3555})), []int{1}, []float32{0.33325195}},
		{"fortran 2x3", npyFile(header("<f4", "(2, 3)", true), encode(le, []float32{1, 4, 2, 5, 3, 6})), []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"fortran 2x3x2", npyFile(header("<i2", "(2, 3, 2)", true), encode(le, []int16{
			// element (i, j, k) at i + 2j + 6k holds 100i + 10j + k
			0, 100, 10, 110, 20, 120, 1, 101, 11, 111, 21, 121})),
			[]int{2, 3, 2}, []float32{0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121}},
		{"fortran 1-d", npyFile(header("<f4", "(2,)", true), encode(le, []float32{1, 2})), []int{2}, []float32{1, 2}},
		{"scalar", npyFile(header("<f4", "()", false), encode(le, float32(7))), []int{}, []float32{7}},
		{"empty", npyFile(header("<f4", "(0, 4)", false), nil), []int{0, 4}, []float32{}},
		{"trailing bytes ignored", npyFile(header("<f4", "(1,)", false), encode(le, float32(1), float32(2))), []int{1}, []float32{1}},
		{"python 2 long", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", encode(le, []float32{1, 2})), []int{1, 2}, []float32{1, 2}},
		{"double quotes, any key order", npyFile(`{"shape": (1,), "fortran_order": False, "descr": "<u1"}`, []byte{3}), []int{1}, []float32{3}},
		{"version 2", npy2File("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", []byte{9}), []int{1}, []float32{9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through a reader that reports its size, and one that does not.
			for _, r := range []io.Reader{bytes.NewReader(tt.file), io.MultiReader(bytes.NewReader(tt.file))} {
				got, err := ReadNPY(r)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Shape, tt.shape) {
					t.Errorf("shape %v, want %v", got.Shape, tt.shape)
				}
				if len(got.Data) != len(tt.data) {
					t.Fatalf("data %v, want %v", got.Data, tt.data)
				}
				for i := range got.Data {
					if math.Float32bits(got.Data[i]) != math.Float32bits(tt.data[i]) {
						t.Errorf("data %v, want %v", got.Data, tt.data)
						break
					}
				}
			}
		})
	}
}

func npy2File(dict string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x02\x00")
	h := dict + "\n"
	binary.Write(&b, binary.LittleEndian, uint32(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func TestReadNPYErrors(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name string
		file []byte
		msg  string
	}{
		{"empty", nil, "empty input"},
		{"not npy", []byte("hello, world\n"), "not a NumPy .npy file"},
		{"short", []byte("\x93NUM"), "too short"},
		{"version", []byte("\x93NUMPY\x09\x00\x00\x00"), "format version 9.0"},
		{"header truncated", []byte("\x93NUMPY\x01\x00\x50\x00{'descr'"), "truncated header"},
		{"huge header", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), "implausibly large"},
		{"complex", npyFile(header("<c8", "(1,)", false), make([]byte, 8)), "is complex"},
		{"complex128", npyFile(header("<c16", "(1,)", false), make([]byte, 16)), "is complex"},
		// The data is a pickle that would run code if unpickled; the dtype
		// alone refuses it.
		{"object", npyFile(header("|O", "(1,)", false), []byte("\x80\x02cos\nsystem\n")), "never unpickles"},
		{"unicode", npyFile(header("<U5", "(1,)", false), make([]byte, 20)), "holds strings"},
		{"bytes", npyFile(header("|S3", "(1,)", false), make([]byte, 3)), "holds strings"},
		{"datetime", npyFile(header("<M8[ns]", "(1,)", false), make([]byte, 8)), "dates or durations"},
		{"void", npyFile(header("|V4", "(1,)", false), make([]byte, 4)), "raw or structured"},
		{"structured", npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), "structured arrays"},
		{"long double", npyFile(header("<f16", "(1,)", false), make([]byte, 16)), "not one kerascope converts"},
		{"odd int", npyFile(header("<i3", "(1,)", false), make([]byte, 3)), "not one kerascope converts"},
		{"bad descr", npyFile(header("<", "(1,)", false), nil), "empty dtype"},
		{"huge shape, tiny file", npyFile(header("<f4", "(1000000000, 1000000000)", false), encode(le, float32(1))), "more than the 16777216 values the input can use"},
		{"large shape, tiny file", npyFile(header("<f8", "(10000, 1000)", false), encode(le, float64(1))), "truncated"},
		{"truncated data", npyFile(header("<f4", "(2, 3)", false), encode(le, []float32{1, 2, 3})), "only 12 bytes follow"},
		{"negative dim", npyFile(header("<f4", "(-1, 3)", false), nil), "not a dimension"},
		{"float dim", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }", nil), "unexpected"},
		{"missing key", npyFile("{'descr': '<f4', 'shape': (1,), }", nil), `no "fortran_order" key`},
		{"extra key", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", nil), "keys other than"},
		{"fortran not bool", npyFile("{'descr': '<f4', 'fortran_order': 1, 'shape': (1,), }", nil), "not True or False"},
		{"shape not tuple", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': 3, }", nil), "not a tuple"},
		{"not a dict", npyFile("[1, 2]", nil), "not a dictionary"},
		{"code in header", npyFile("__import__('os').system('true')", nil), "unexpected"},
		{"unterminated", npyFile("{'descr: '<f4'", nil), "header"},
		{"deep", npyFile(strings.Repeat("(", 100), nil), "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{bytes.NewReader(tt.file), io.MultiReader(bytes.NewReader(tt.file))} {
				_, err := ReadNPY(r)
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %v, want one containing %q", err, tt.msg)
				}
			}
		})
	}
}

// TestReadNPYFile checks the up-front size check on a real file, and that
// it counts from the reader's position.
func TestReadNPYFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	good := npyFile(header("<f4", "(2,)", false), encode(binary.LittleEndian, []float32{1, 2}))
	os.WriteFile(path, good[:len(good)-1], 0o644)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := ReadNPY(f); err == nil || !strings.Contains(err.Error(), "only 7 bytes follow") {
		t.Errorf("error %v, want a truncation naming 7 bytes", err)
	}
}

// TestWriteNPY reads WriteNPY's output back with npyio and with ReadNPY,
// and checks the header's alignment.
func TestWriteNPY(t *testing.T) {
	for _, x := range []*Tensor{
		{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, float32(math.NaN())}},
		{Shape: []int{4}, Data: []float32{-1, 0, 1, 2}},
		{Shape: []int{}, Data: []float32{3}},
		{Shape: []int{1, 2, 1, 2}, Data: []float32{1, 2, 3, 4}},
		{Shape: []int{0, 5}, Data: []float32{}},
	} {
		var b bytes.Buffer
		if err := WriteNPY(&b, x); err != nil {
			t.Fatal(err)
		}
		hlen := int(binary.LittleEndian.Uint16(b.Bytes()[8:]))
		if (10+hlen)%64 != 0 {
			t.Errorf("%v: data starts at byte %d, not 64-aligned", x.Shape, 10+hlen)
		}
		r, err := npy.NewReader(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var data []float32
		if err := r.Read(&data); err != nil {
			t.Fatal(err)
		}
		if r.Header.Descr.Type != "'<f4'" || r.Header.Descr.Fortran || !reflect.DeepEqual(append([]int{}, r.Header.Descr.Shape...), x.Shape) {
			t.Errorf("npyio reads header %+v, want '<f4' C order %v", r.Header.Descr, x.Shape)
		}
		back, err := ReadNPY(&b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back.Shape, x.Shape) || !sameBits(back.Data, x.Data) || !sameBits(data, x.Data) {
			t.Errorf("round trip of %v gives %v %v (npyio %v)", x, back.Shape, back.Data, data)
		}
	}
	if err := WriteNPY(io.Discard, &Tensor{Shape: []int{2}, Data: []float32{1}}); err == nil {
		t.Error("WriteNPY accepted a tensor whose data does not fill its shape")
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestReadJSON(t *testing.T) {
	tests := []struct {
		in    string
		shape []int
		data  []float32
	}{
		{"[[1, 2, 3], [4, 5, 6]]", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{" [1.5e0, -2, 0.1] \n", []int{3}, []float32{1.5, -2, 0.1}},
		{"[[[1], [2]]]", []int{1, 2, 1}, []float32{1, 2}},
		{"7", []int{}, []float32{7}},
		{"[]", []int{0}, nil},
		{"[[], []]", []int{2, 0}, nil},
		{"[1e-50]", []int{1}, []float32{0}},
	}
	for _, tt := range tests {
		got, err := ReadJSON(strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got.Shape, tt.shape) || len(got.Data) != len(tt.data) || (len(tt.data) > 0 && !reflect.DeepEqual(got.Data, tt.data)) {
			t.Errorf("%s: got %v %v, want %v %v", tt.in, got.Shape, got.Data, tt.shape, tt.data)
		}
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "empty input"},
		{"[[1, 2], [3]]", "at [1]: 1 elements, but the first array at this depth has 2"},
		{"[[1, 2], [3, 4, 5]]", "at [1]: 3 elements"},
		{`[[1, "a"]]`, `at [0][1]: want a number, got the string "a"`},
		{"[[1, null]]", "at [0][1]: want a number, got null"},
		{"[true]", "at [0]: want a number, got true"},
		{"[[1], 2]", "at [1]: a number where the other elements are arrays"},
		{"[1, [2]]", "at [1]: an array where the other elements are numbers"},
		{"[[], 1]", "at [1]: a number where"},
		{`{"x": [1]}`, "got an object"},
		{`[{"x": 1}]`, "at [0]: want a number or an array, got an object"},
		{"[1e39]", `at [0]: "1e39" does not fit in a float32`},
		{"[1, 2", "ends inside an array"},
		{"[1, 2]]", "invalid JSON"},
		{"[1] [2]", "more data after the array"},
		{"[1,, 2]", "invalid JSON at byte"},
		{"NaN", "invalid JSON"},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested more than 64 deep"},
	}
	for _, tt := range tests {
		_, err := ReadJSON(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%.30q: error %v, want one containing %q", tt.in, err, tt.msg)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	x := &Tensor{Shape: []int{2, 2, 2}, Data: []float32{1, 0.1, -2.5, 1e-8, 3, 4, 5, 6}}
	if err := WriteJSON(&b, x); err != nil {
		t.Fatal(err)
	}
	want := "[\n  [\n    [1, 0.1],\n    [-2.5, 1e-08]\n  ],\n  [\n    [3, 4],\n    [5, 6]\n  ]\n]\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	back, err := ReadJSON(&b)
	if err != nil || !reflect.DeepEqual(back, x) {
		t.Errorf("round trip gives %v, %v", back, err)
	}
	err = WriteJSON(io.Discard, &Tensor{Shape: []int{2, 2}, Data: []float32{1, 2, 3, float32(math.NaN())}})
	if err == nil || !strings.Contains(err.Error(), "[1][1] is NaN") {
		t.Errorf("NaN: error %v", err)
	}
	for _, e := range []struct {
		x    *Tensor
		want string
	}{
		{&Tensor{Shape: []int{}, Data: []float32{2}}, "2\n"},
		{&Tensor{Shape: []int{0}, Data: nil}, "[]\n"},
		{&Tensor{Shape: []int{0, 3}, Data: nil}, "[]\n"},
		{&Tensor{Shape: []int{2, 0}, Data: nil}, "[\n  [],\n  []\n]\n"},
	} {
		b.Reset()
		if err := WriteJSON(&b, e.x); err != nil || b.String() != e.want {
			t.Errorf("%v: %q, %v; want %q", e.x.Shape, b.String(), err, e.want)
		}
	}
}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name, in string
		shape    []int
		data     []float32
	}{
		{"plain", "1,2,3\n4,5,6\n", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"header", "a,b\n1,2\n", []int{1, 2}, []float32{1, 2}},
		{"savetxt header and spaces", "# a,b\n 1.5e+00 , -2\n\n3,4", []int{2, 2}, []float32{1.5, -2, 3, 4}},
		{"bom and crlf", "\ufeffx\r\n1\r\n2\r\n", []int{2, 1}, []float32{1, 2}},
		{"nan inf", "nan,inf,-Inf,NaN\n", []int{1, 4}, []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}},
		{"quoted", `"1","2"` + "\n", []int{1, 2}, []float32{1, 2}},
	}
	for _, tt := range tests {
		got, err := ReadCSV(strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got.Shape, tt.shape) || !sameBits(got.Data, tt.data) {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, got.Shape, got.Data, tt.shape, tt.data)
		}
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"empty", "", "no data rows"},
		{"header only", "a,b\n", "no data rows"},
		{"non-numeric", "1,2\n3,x\n", `line 2, column 2: "x" is not a number`},
		{"non-numeric first row", "1,b\n3,4\n", `line 1, column 2: "b" is not a number`},
		{"empty cell", "1,2\n3,\n", "line 2, column 2: empty cell"},
		{"ragged", "1,2\n3\n", "line 2 has 1 columns, line 1 has 2"},
		{"ragged after header", "a,b\n1,2,3\n", "line 2 has 3 columns, line 1 has 2"},
		{"spaces", "1 2 3\n", "separated by spaces?"},
		{"overflow", "1e39\n", "does not fit in a float32"},
		{"bad quote", "1,\"2\n", "line 1"},
	}
	for _, tt := range tests {
		_, err := ReadCSV(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.msg)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	for _, e := range []struct {
		x    *Tensor
		want string
	}{
		{&Tensor{Shape: []int{2, 2}, Data: []float32{1, 0.1, -2.5, 1e-8}}, "1,0.1\n-2.5,1e-08\n"},
		{&Tensor{Shape: []int{3}, Data: []float32{1, 2, 3}}, "1\n2\n3\n"},
		{&Tensor{Shape: []int{2, 2, 2}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8}}, "1,2,3,4\n5,6,7,8\n"},
		{&Tensor{Shape: []int{1, 3}, Data: []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}}, "nan,inf,-inf\n"},
		{&Tensor{Shape: []int{0, 3}, Data: nil}, ""},
	} {
		var b bytes.Buffer
		if err := WriteCSV(&b, e.x); err != nil || b.String() != e.want {
			t.Errorf("%v: %q, %v; want %q", e.x.Shape, b.String(), err, e.want)
		}
	}
	x := &Tensor{Shape: []int{2, 3}, Data: []float32{0.1, 1.0 / 3, 1e30, -7, 0, 65504}}
	var b bytes.Buffer
	WriteCSV(&b, x)
	back, err := ReadCSV(&b)
	if err != nil || !reflect.DeepEqual(back, x) {
		t.Errorf("round trip gives %v, %v", back, err)
	}
}
