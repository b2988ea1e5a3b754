package keras

import (
	"math"
	"testing"
)

// runLayerOn decodes a layer config and runs its forward pass on one
// input (with an optional mask), as the runner does.
func runLayerOn(t *testing.T, class, cfg string, x *Tensor, m mask) (*Tensor, mask) {
	t.Helper()
	l, err := decodeLayer(class, cfg)
	if err != nil {
		t.Fatalf("%s %s: %v", class, cfg, err)
	}
	if r, ok := l.(interface{ cannotRun() string }); ok && r.cannotRun() != "" {
		t.Fatalf("%s %s: cannot run: %s", class, cfg, r.cannotRun())
	}
	net := &Net{}
	c := &call{layer: &Layer{Name: "l", Class: class, impl: l}, in: []*Tensor{x}, masks: []mask{m}, net: net}
	if err := net.forward(c); err != nil {
		t.Fatalf("%s %s: %v", class, cfg, err)
	}
	return c.out[0], c.outMasks[0]
}

func seq(shape ...int) *Tensor {
	x := NewTensor(shape...)
	for i := range x.Data {
		x.Data[i] = float32(i + 1)
	}
	return x
}

func TestShapeLayersForward(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name, class, cfg string
		in               *Tensor
		mask             mask
		shape            []int
		want             []float32
	}{
		// Same padding puts the one padded row and column last; the
		// average counts only the cells inside the input.
		{"max same", "MaxPooling2D", `{"pool_size": 2, "padding": "same"}`, seq(1, 3, 3, 1), nil,
			[]int{1, 2, 2, 1}, []float32{5, 6, 8, 9}},
		{"avg same", "AveragePooling2D", `{"pool_size": 2, "padding": "same"}`, seq(1, 3, 3, 1), nil,
			[]int{1, 2, 2, 1}, []float32{3, 4.5, 7.5, 9}},
		{"avg same channels_first", "AvgPool2D", `{"pool_size": 2, "padding": "same", "data_format": "channels_first"}`, seq(1, 1, 3, 3), nil,
			[]int{1, 1, 2, 2}, []float32{3, 4.5, 7.5, 9}},
		{"max valid strides", "MaxPooling2D", `{"pool_size": [2, 1], "strides": [1, 2]}`, seq(1, 3, 3, 1), nil,
			[]int{1, 2, 2, 1}, []float32{4, 6, 7, 9}},
		{"avg 1d keras 1", "AveragePooling1D", `{"pool_length": 2, "stride": 1, "border_mode": "valid"}`, seq(1, 4, 1), nil,
			[]int{1, 3, 1}, []float32{1.5, 2.5, 3.5}},
		{"max 1d two channels", "MaxPool1D", `{"pool_size": 3, "strides": 2, "padding": "same"}`, seq(1, 4, 2), nil,
			[]int{1, 2, 2}, []float32{5, 6, 7, 8}},
		{"max 3d channels_first", "MaxPooling3D", `{"pool_size": 2, "data_format": "channels_first"}`, seq(1, 2, 2, 2, 2), nil,
			[]int{1, 2, 1, 1, 1}, []float32{8, 16}},
		{"avg 3d", "AveragePooling3D", `{"pool_size": [2, 2, 1]}`, seq(1, 2, 2, 1, 1), nil,
			[]int{1, 1, 1, 1, 1}, []float32{2.5}},
		{"global avg masked", "GlobalAveragePooling1D", `{}`, seq(2, 3, 1), mask{true, false, true, false, false, false},
			[]int{2, 1}, []float32{2, nan}},
		{"global avg keepdims channels_first", "GlobalAvgPool1D", `{"keepdims": true, "data_format": "channels_first"}`, seq(1, 2, 3), nil,
			[]int{1, 2, 1}, []float32{2, 5}},
		{"global max 2d keepdims channels_first", "GlobalMaxPooling2D", `{"keepdims": true, "data_format": "channels_first"}`, seq(1, 2, 2, 2), nil,
			[]int{1, 2, 1, 1}, []float32{4, 8}},
		{"global max 3d", "GlobalMaxPool3D", `{}`, seq(1, 1, 2, 2, 2), nil,
			[]int{1, 2}, []float32{7, 8}},
		{"global avg 2d", "GlobalAveragePooling2D", `{}`, seq(1, 2, 2, 2), nil,
			[]int{1, 2}, []float32{4, 5}},
		// Flatten of channels_first moves the channels last first.
		{"flatten channels_first", "Flatten", `{"data_format": "channels_first"}`, seq(1, 2, 2), nil,
			[]int{1, 4}, []float32{1, 3, 2, 4}},
		{"flatten", "Flatten", `{}`, seq(1, 2, 2), nil,
			[]int{1, 4}, []float32{1, 2, 3, 4}},
		{"reshape -1", "Reshape", `{"target_shape": [-1, 2]}`, seq(2, 4), nil,
			[]int{2, 2, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8}},
		{"permute", "Permute", `{"dims": [2, 1]}`, seq(1, 2, 3), nil,
			[]int{1, 3, 2}, []float32{1, 4, 2, 5, 3, 6}},
		{"repeat vector", "RepeatVector", `{"n": 2}`, seq(2, 2), nil,
			[]int{2, 2, 2}, []float32{1, 2, 1, 2, 3, 4, 3, 4}},
		{"cropping 2d", "Cropping2D", `{"cropping": [[1, 0], [0, 1]]}`, seq(1, 3, 3, 1), nil,
			[]int{1, 2, 2, 1}, []float32{4, 5, 7, 8}},
		{"cropping 1d", "Cropping1D", `{"cropping": [1, 2]}`, seq(1, 4, 1), nil,
			[]int{1, 1, 1}, []float32{2}},
		{"cropping 3d channels_first", "Cropping3D", `{"cropping": [[0, 1], [0, 0], [1, 0]], "data_format": "channels_first"}`, seq(1, 1, 2, 1, 2), nil,
			[]int{1, 1, 1, 1, 1}, []float32{2}},
		{"zero padding 1d", "ZeroPadding1D", `{"padding": [1, 2]}`, seq(1, 2, 1), nil,
			[]int{1, 5, 1}, []float32{0, 1, 2, 0, 0}},
		{"zero padding 2d keras 1", "ZeroPadding2D", `{"padding": {"top_pad": 1, "bottom_pad": 0, "left_pad": 0, "right_pad": 1}}`, seq(1, 1, 2, 1), nil,
			[]int{1, 2, 3, 1}, []float32{0, 0, 0, 1, 2, 0}},
		{"zero padding 2d channels_first", "ZeroPadding2D", `{"padding": [[0, 1], [1, 0]], "data_format": "channels_first"}`, seq(1, 1, 1, 1), nil,
			[]int{1, 1, 2, 2}, []float32{0, 1, 0, 0}},
		{"upsampling 1d", "UpSampling1D", `{"size": 2}`, seq(1, 2, 1), nil,
			[]int{1, 4, 1}, []float32{1, 1, 2, 2}},
		{"upsampling 2d nearest", "UpSampling2D", `{"size": [1, 2]}`, seq(1, 2, 1, 1), nil,
			[]int{1, 2, 2, 1}, []float32{1, 1, 2, 2}},
		{"upsampling 2d bilinear", "UpSampling2D", `{"size": 2, "interpolation": "bilinear"}`, seq(1, 2, 2, 1), nil,
			[]int{1, 4, 4, 1}, []float32{1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}},
		{"upsampling 2d bilinear channels_first", "UpSampling2D", `{"size": [1, 2], "interpolation": "bilinear", "data_format": "channels_first"}`, seq(1, 1, 1, 2), nil,
			[]int{1, 1, 1, 4}, []float32{1, 1.25, 1.75, 2}},
		{"upsampling 3d channels_first", "UpSampling3D", `{"size": [2, 1, 1], "data_format": "channels_first"}`, seq(1, 2, 1, 1, 1), nil,
			[]int{1, 2, 2, 1, 1}, []float32{1, 1, 2, 2}},
		{"rescaling", "Rescaling", `{"scale": 0.5, "offset": -1}`, seq(1, 2), nil,
			[]int{1, 2}, []float32{-0.5, 0}},
		{"rescaling per channel", "Rescaling", `{"scale": [[1, 10]], "offset": {"class_name": "__numpy__", "config": {"value": [0, 1]}}}`, seq(2, 2), nil,
			[]int{2, 2}, []float32{1, 21, 3, 41}},
		{"resizing nearest", "Resizing", `{"height": 1, "width": 2, "interpolation": "nearest"}`, seq(1, 2, 2, 1), nil,
			[]int{1, 1, 2, 1}, []float32{3, 4}},
		// crop_to_aspect_ratio keeps the centre 2×2 of a 4×2 image.
		{"resizing crop", "Resizing", `{"height": 2, "width": 2, "crop_to_aspect_ratio": true}`, seq(1, 4, 2, 1), nil,
			[]int{1, 2, 2, 1}, []float32{3, 4, 5, 6}},
		// pad_to_aspect_ratio adds one row of fill above and below.
		{"resizing pad", "Resizing", `{"height": 4, "width": 4, "pad_to_aspect_ratio": true, "fill_value": 9}`, seq(1, 2, 4, 1), nil,
			[]int{1, 4, 4, 1}, []float32{9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9}},
		{"resizing one image channels_first", "Resizing", `{"height": 1, "width": 1, "data_format": "channels_first"}`, seq(2, 2, 2), nil,
			[]int{2, 1, 1}, []float32{2.5, 6.5}},
		{"center crop", "CenterCrop", `{"height": 1, "width": 2}`, seq(1, 3, 2, 1), nil,
			[]int{1, 1, 2, 1}, []float32{3, 4}},
		// Smaller than the target: crop to its aspect ratio (nothing to
		// crop here) and resize bilinearly.
		{"center crop upsizes", "CenterCrop", `{"height": 4, "width": 4}`, seq(1, 2, 2, 1), nil,
			[]int{1, 4, 4, 1}, []float32{1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := append([]float32(nil), c.in.Data...)
			got, _ := runLayerOn(t, c.class, c.cfg, c.in, c.mask)
			if !equalInts(got.Shape, c.shape) {
				t.Fatalf("shape %v, want %v", got.Shape, c.shape)
			}
			for i, w := range c.want {
				g := got.Data[i]
				if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) || (!math.IsNaN(float64(w)) && math.Abs(float64(g-w)) > 1e-6) {
					t.Fatalf("got %v, want %v", got.Data, c.want)
				}
			}
			for i := range before {
				if before[i] != c.in.Data[i] {
					t.Fatal("the input was modified")
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestShapeLayerMasks: Rescaling passes masks on; pooling and reshaping
// layers drop them, GlobalAveragePooling1D after using it.
func TestShapeLayerMasks(t *testing.T) {
	m := mask{true, false}
	if _, out := runLayerOn(t, "Rescaling", `{"scale": 2}`, seq(1, 2, 3), m); len(out) != 2 {
		t.Errorf("Rescaling dropped its mask")
	}
	for _, c := range [][2]string{
		{"GlobalAveragePooling1D", `{}`}, {"Flatten", `{}`}, {"Reshape", `{"target_shape": [3, 2]}`},
		{"MaxPooling1D", `{"pool_size": 1}`}, {"UpSampling1D", `{}`}, {"Cropping1D", `{"cropping": 0}`},
	} {
		if _, out := runLayerOn(t, c[0], c[1], seq(1, 2, 3), m); out != nil {
			t.Errorf("%s passed a mask on", c[0])
		}
	}
}

func TestShapeLayersCannotRun(t *testing.T) {
	for _, c := range [][2]string{
		{"Resizing", `{"height": 2, "width": 2, "interpolation": "cubic_spline"}`},
		{"Resizing", `{"height": 2, "width": 2, "fill_mode": "reflect"}`},
		{"Resizing", `{"height": 2, "width": 2, "crop_to_aspect_ratio": true, "pad_to_aspect_ratio": true}`},
		{"UpSampling2D", `{"interpolation": "spline"}`},
		{"Rescaling", `{"scale": [[1, 2], [3, 4]]}`},
	} {
		l, err := decodeLayer(c[0], c[1])
		if err != nil {
			t.Fatalf("%s %s: %v", c[0], c[1], err)
		}
		r, ok := l.(interface{ cannotRun() string })
		if !ok || r.cannotRun() == "" {
			t.Errorf("%s %s: runs", c[0], c[1])
		}
	}
}

func TestShapeLayersBadInput(t *testing.T) {
	for _, c := range []struct {
		class, cfg string
		in         *Tensor
	}{
		{"MaxPooling2D", `{}`, seq(1, 4, 4)},                  // rank
		{"MaxPooling2D", `{"pool_size": 5}`, seq(1, 4, 4, 1)}, // window larger than input
		{"Reshape", `{"target_shape": [5]}`, seq(1, 4)},
		{"Reshape", `{"target_shape": [-1, 3]}`, seq(1, 4)},
		{"Cropping1D", `{"cropping": 2}`, seq(1, 4, 1)},
		{"Rescaling", `{"scale": [1, 2, 3]}`, seq(1, 2)},
		{"Permute", `{"dims": [2, 1]}`, seq(1, 2)},
		{"Flatten", `{}`, &Tensor{Shape: []int{2, 3}, Data: make([]float32, 5)}},
	} {
		l, err := decodeLayer(c.class, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		call := &call{layer: &Layer{Name: "l", Class: c.class, impl: l}, in: []*Tensor{c.in}, masks: []mask{nil}, net: &Net{}}
		if err := (&Net{}).forward(call); err == nil {
			t.Errorf("%s %s on %v: no error", c.class, c.cfg, c.in.Shape)
		}
	}
}

// BenchmarkShapeLayers times the common layers of an image model on a
// batch of 64.
func BenchmarkShapeLayers(b *testing.B) {
	for _, c := range [][2]string{
		{"MaxPooling2D", `{"pool_size": 2}`},
		{"AveragePooling2D", `{"pool_size": 3, "strides": 2, "padding": "same"}`},
		{"GlobalAveragePooling2D", `{}`},
		{"Flatten", `{}`},
		{"UpSampling2D", `{"interpolation": "bilinear"}`},
	} {
		b.Run(c[0], func(b *testing.B) {
			l, err := decodeLayer(c[0], c[1])
			if err != nil {
				b.Fatal(err)
			}
			x := seq(64, 28, 28, 32)
			net := &Net{}
			b.SetBytes(int64(4 * len(x.Data)))
			for b.Loop() {
				c := &call{layer: &Layer{Name: "l", impl: l}, in: []*Tensor{x}, masks: []mask{nil}, net: net}
				if err := net.forward(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
