package keras

import (
	"errors"
	"github.com/kerascope/kerascope/keras/bind"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// decodeLayer decodes one layer config with its class's constructor, as
// newLayer does.
func decodeLayer(class, cfg string) (layerKind, error) {
	make, ok := registry[class]
	if !ok {
		return nil, errors.New("class not registered: " + class)
	}
	d := &decoder{cfg: gjson.Parse(cfg)}
	l, err := make(d)
	if err == nil {
		err = d.err
	}
	return l, err
}

// callLayer builds a layer on one input shape and infers its outputs.
func callLayer(l layerKind, in Shape) ([]Shape, []WeightSpec, error) {
	return callInputs(l, []Shape{in})
}

// A configErrorCase is a config its class must reject, naming the key.
type configErrorCase struct {
	class, cfg string
	key        string // the key the error must name, as "config.<key>"
}

func testConfigErrors(t *testing.T, cases []configErrorCase) {
	t.Helper()
	for _, c := range cases {
		_, err := decodeLayer(c.class, c.cfg)
		var fe *FormatError
		var ue *UnsupportedError
		switch {
		case err == nil:
			t.Errorf("%s %s: no error", c.class, c.cfg)
		case !errors.As(err, &fe) && !errors.As(err, &ue):
			t.Errorf("%s %s: %T %v, want a FormatError or an UnsupportedError", c.class, c.cfg, err, err)
		case !strings.Contains(err.Error(), "config."+c.key+":"):
			t.Errorf("%s %s: %v, want it to name config.%s", c.class, c.cfg, err, c.key)
		}
	}
}

// A shapeErrorCase is a valid config called on an input it cannot take.
type shapeErrorCase struct {
	class, cfg string
	in         Shape
}

func testShapeErrors(t *testing.T, cases []shapeErrorCase) {
	t.Helper()
	calls := make([]callErrorCase, len(cases))
	for i, c := range cases {
		calls[i] = callErrorCase{class: c.class, cfg: c.cfg, in: []Shape{c.in}}
	}
	testCallErrors(t, calls)
}

// testLegacySpellings checks that each older config decodes to the same
// layer as its modern spelling.
func testLegacySpellings(t *testing.T, pairs [][4]string) {
	t.Helper()
	for _, p := range pairs {
		old, err := decodeLayer(p[0], p[1])
		if err != nil {
			t.Errorf("%s %s: %v", p[0], p[1], err)
			continue
		}
		modern, err := decodeLayer(p[2], p[3])
		if err != nil {
			t.Errorf("%s %s: %v", p[2], p[3], err)
			continue
		}
		// Keras 1 spellings carry the Keras 1 kernel layout, which only
		// tells package bind how Keras 1 stored the kernel
		// (TestConvKeras1Layouts, and TestKeras1Layouts on files).
		if c, ok := old.(*conv); ok {
			cc := *c
			cc.legacy, cc.keras1 = "", bind.Keras1{}
			old = &cc
		}
		if !reflect.DeepEqual(old, modern) {
			t.Errorf("%s %s decodes to %+v, but %s %s to %+v", p[0], p[1], old, p[2], p[3], modern)
		}
	}
}

func TestConvConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"Conv2D", `{"kernel_size": 3}`, "filters"},
		{"Conv2D", `{"filters": 0, "kernel_size": 3}`, "filters"},
		{"Conv2D", `{"filters": "4", "kernel_size": 3}`, "filters"},
		{"Conv2D", `{"filters": 4}`, "kernel_size"},
		{"Conv2D", `{"filters": 4, "kernel_size": [3]}`, "kernel_size"},
		{"Conv2D", `{"filters": 4, "kernel_size": [3, 0]}`, "kernel_size"},
		{"Conv2D", `{"filters": 4, "kernel_size": [3, "3"]}`, "kernel_size"},
		{"Conv1D", `{"filters": 4, "kernel_size": 3, "strides": 0}`, "strides"},
		{"Conv3D", `{"filters": 4, "kernel_size": 3, "strides": [1, 1]}`, "strides"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "dilation_rate": -1}`, "dilation_rate"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "padding": "causal"}`, "padding"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "padding": "reflect"}`, "padding"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "padding": 1}`, "padding"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "data_format": "NHWC"}`, "data_format"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "groups": 3}`, "groups"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "groups": 0}`, "groups"},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "use_bias": "yes"}`, "use_bias"},
		{"Conv1DTranspose", `{"filters": 4, "kernel_size": 3, "padding": "causal"}`, "padding"},
		{"Conv2DTranspose", `{"filters": 4, "kernel_size": 3, "strides": 2, "output_padding": 2}`, "output_padding"},
		{"Conv2DTranspose", `{"filters": 4, "kernel_size": 3, "output_padding": [0, -1]}`, "output_padding"},
		{"Conv2DTranspose", `{"filters": 4, "kernel_size": 3, "output_padding": [0]}`, "output_padding"},
		{"DepthwiseConv2D", `{"kernel_size": 3, "depth_multiplier": 0}`, "depth_multiplier"},
		{"DepthwiseConv1D", `{"kernel_size": 3, "padding": "causal"}`, "padding"},
		{"SeparableConv2D", `{"filters": 4, "kernel_size": 3, "depth_multiplier": -2}`, "depth_multiplier"},
		{"Convolution2D", `{"nb_filter": 4, "nb_row": 0, "nb_col": 3}`, "nb_row"},
		{"Convolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "border_mode": "full"}`, "border_mode"},
		{"Convolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "dim_ordering": "xy"}`, "dim_ordering"},
		{"Convolution1D", `{"nb_filter": 4, "filter_length": 3, "subsample_length": 0}`, "subsample_length"},
	})
}

func TestConvShapeErrors(t *testing.T) {
	testShapeErrors(t, []shapeErrorCase{
		{"Conv2D", `{"filters": 4, "kernel_size": 3}`, Shape{None, 8, 3}},
		{"Conv2D", `{"filters": 4, "kernel_size": 3}`, Shape{None, 8, 8, 8, 3}},
		{"Conv2D", `{"filters": 4, "kernel_size": 3}`, Shape{None, 8, 8, None}},
		{"Conv2D", `{"filters": 4, "kernel_size": 3}`, Shape{None, 2, 8, 3}},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "dilation_rate": 4}`, Shape{None, 8, 8, 3}},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "groups": 2}`, Shape{None, 8, 8, 3}},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "data_format": "channels_first"}`, Shape{None, None, 8, 8}},
		{"Conv2DTranspose", `{"filters": 4, "kernel_size": 1, "strides": 2}`, Shape{None, 8, 3}},
		{"DepthwiseConv2D", `{"kernel_size": 3}`, Shape{None, 8, 8, None}},
		{"DepthwiseConv2D", `{"kernel_size": 1, "depth_multiplier": 2147483648}`, Shape{None, 8, 8, 3}},
		{"SeparableConv1D", `{"filters": 2, "kernel_size": 5}`, Shape{None, 4, 3}},
		{"Conv1DTranspose", `{"filters": 1, "kernel_size": 1, "strides": 2147483648}`, Shape{None, 2147483648, 1}},
	})
}

func TestConvLegacySpellings(t *testing.T) {
	testLegacySpellings(t, [][4]string{
		{"Convolution1D", `{"nb_filter": 4, "filter_length": 3, "subsample_length": 2, "border_mode": "same", "bias": false}`,
			"Conv1D", `{"filters": 4, "kernel_size": [3], "strides": [2], "padding": "same", "use_bias": false}`},
		{"Convolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 2, "subsample": [2, 1], "dim_ordering": "th"}`,
			"Conv2D", `{"filters": 4, "kernel_size": [3, 2], "strides": [2, 1], "data_format": "channels_first"}`},
		{"Convolution3D", `{"nb_filter": 4, "kernel_dim1": 1, "kernel_dim2": 2, "kernel_dim3": 3, "dim_ordering": "tf"}`,
			"Conv3D", `{"filters": 4, "kernel_size": [1, 2, 3], "data_format": "channels_last"}`},
		{"AtrousConvolution1D", `{"nb_filter": 4, "filter_length": 3, "atrous_rate": 2}`,
			"Conv1D", `{"filters": 4, "kernel_size": 3, "dilation_rate": 2}`},
		{"AtrousConvolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "atrous_rate": [2, 2]}`,
			"Conv2D", `{"filters": 4, "kernel_size": 3, "dilation_rate": 2}`},
		{"Deconvolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "output_shape": [null, 14, 14, 4], "subsample": [2, 2]}`,
			"Conv2DTranspose", `{"filters": 4, "kernel_size": 3, "strides": 2}`},
		{"SeparableConvolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "depth_multiplier": 2}`,
			"SeparableConv2D", `{"filters": 4, "kernel_size": 3, "depth_multiplier": 2}`},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "padding": "SAME", "data_format": "Channels_Last"}`,
			"Conv2D", `{"filters": 4, "kernel_size": 3, "padding": "same"}`},
	})
}

// FuzzSpatialLayer feeds mutated configs and input shapes to the classes
// of conv.go, pool.go, reshape.go and preprocess.go: decoding, building and
// shape inference must never panic, and the shapes they accept must give
// shapes with known or None dimensions only.
func FuzzSpatialLayer(f *testing.F) {
	seeds := []struct{ class, cfg, in string }{
		{"Conv1D", `{"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}`, `[null, 8, 2]`},
		{"Conv2D", `{"filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "groups": 2}`, `[null, 8, 8, 2]`},
		{"Conv3DTranspose", `{"filters": 2, "kernel_size": 2, "output_padding": [0, 1, 0], "strides": 2}`, `[null, 4, 4, 4, 2]`},
		{"DepthwiseConv2D", `{"kernel_size": 3, "depth_multiplier": 2, "data_format": "channels_first"}`, `[null, 3, 8, null]`},
		{"SeparableConv1D", `{"filters": 4, "kernel_size": 3, "depth_multiplier": 2}`, `[null, null, 3]`},
		{"Convolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "dim_ordering": "th"}`, `[null, 3, 9, 9]`},
		{"MaxPooling2D", `{"pool_size": [2, 2], "strides": null, "padding": "valid"}`, `[null, 7, 7, 3]`},
		{"AveragePooling1D", `{"pool_length": 2, "stride": 1, "border_mode": "same"}`, `[null, 5, 3]`},
		{"GlobalAveragePooling3D", `{"keepdims": true, "data_format": "channels_first"}`, `[null, 2, 3, 4, 5]`},
		{"Reshape", `{"target_shape": [-1, 3]}`, `[null, 4, 3]`},
		{"Permute", `{"dims": [2, 1]}`, `[null, 4, 3]`},
		{"Flatten", `{}`, `[null, 4, null]`},
		{"RepeatVector", `{"n": 3}`, `[null, 4]`},
		{"ZeroPadding2D", `{"padding": [[1, 0], 2]}`, `[null, 4, 4, 3]`},
		{"ZeroPadding2D", `{"padding": {"top_pad": 1, "right_pad": 2}}`, `[null, 4, 4, 3]`},
		{"Cropping3D", `{"cropping": 1}`, `[null, 4, 4, 4, 3]`},
		{"UpSampling1D", `{"length": 3}`, `[null, 4, 3]`},
		{"Resizing", `{"height": 4, "width": 5}`, `[null, 8, 8, 3]`},
		{"CenterCrop", `{"height": 4, "width": 5, "data_format": "channels_first"}`, `[null, 3, 8]`},
		{"Rescaling", `{"scale": 0.5}`, `[null, 8]`},
	}
	var classes []string
	for _, s := range seeds {
		classes = append(classes, s.class)
		f.Add(len(classes)-1, s.cfg, s.in)
	}
	f.Fuzz(func(t *testing.T, class int, cfg, in string) {
		if class < 0 || class >= len(classes) || !gjson.Valid(cfg) {
			return
		}
		l, err := decodeLayer(classes[class], cfg)
		if err != nil {
			return
		}
		s, err := parseShape(gjson.Parse(in))
		if err != nil {
			return
		}
		out, _, err := callLayer(l, s)
		if err != nil {
			return
		}
		for _, o := range out {
			for _, d := range o {
				if d < None {
					t.Fatalf("%s %s on %s: output shape %s", classes[class], cfg, s, o)
				}
			}
		}
	})
}

// TestConvKeras1Layouts: Keras 1 kernel layouts that package bind converts
// (Theano ordering, Convolution1D's 4-D kernel, Deconvolution2D) run, and
// tell how Keras 1 stored the kernel; those it does not convert
// (ConvLSTM2D's) refuse to run; Keras 2 spellings run with no Keras 1
// layout.
func TestConvKeras1Layouts(t *testing.T) {
	for _, tc := range []struct {
		class, config string
		runs, keras1  bool
	}{
		{"Convolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "dim_ordering": "th"}`, true, true},
		{"Convolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "dim_ordering": "tf"}`, true, false},
		{"Convolution1D", `{"nb_filter": 4, "filter_length": 3}`, true, true},
		{"Deconvolution2D", `{"nb_filter": 4, "nb_row": 3, "nb_col": 3, "output_shape": [null, 14, 14, 4], "dim_ordering": "tf"}`, true, true},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "data_format": "channels_first"}`, true, false},
		{"Conv1D", `{"filters": 4, "kernel_size": 3}`, true, false},
		{"ConvLSTM2D", `{"filters": 4, "kernel_size": 3, "dim_ordering": "th"}`, false, false},
	} {
		l, err := decodeLayer(tc.class, tc.config)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.class, tc.config, err)
		}
		reason := l.(interface{ cannotRun() string }).cannotRun()
		if (reason == "") != tc.runs {
			t.Errorf("%s %s: cannotRun %q, want runnable %v", tc.class, tc.config, reason, tc.runs)
		}
		k, ok := l.(interface{ keras1Layout() bind.Keras1 })
		if got := ok && !k.keras1Layout().Zero(); got != tc.keras1 {
			t.Errorf("%s %s: Keras 1 layout %v, want %v", tc.class, tc.config, got, tc.keras1)
		}
	}
}
