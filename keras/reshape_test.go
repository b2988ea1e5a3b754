package keras

import "testing"

func TestReshapeConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"Reshape", `{}`, "target_shape"},
		{"Reshape", `{"target_shape": 4}`, "target_shape"},
		{"Reshape", `{"target_shape": [-1, -1]}`, "target_shape"},
		{"Reshape", `{"target_shape": [2, -2]}`, "target_shape"},
		{"Reshape", `{"target_shape": [2, null]}`, "target_shape"},
		{"Reshape", `{"target_shape": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}`, "target_shape"},
		{"Permute", `{}`, "dims"},
		{"Permute", `{"dims": [1, 1]}`, "dims"},
		{"Permute", `{"dims": [0, 1]}`, "dims"},
		{"Permute", `{"dims": [1, 3]}`, "dims"},
		{"RepeatVector", `{}`, "n"},
		{"RepeatVector", `{"n": 0}`, "n"},
		{"ZeroPadding1D", `{"padding": -1}`, "padding"},
		{"ZeroPadding1D", `{"padding": [1, 2, 3]}`, "padding"},
		{"ZeroPadding2D", `{"padding": [1, 2, 3]}`, "padding"},
		{"ZeroPadding2D", `{"padding": [[1, 2], [3]]}`, "padding"},
		{"ZeroPadding2D", `{"padding": {"top_pad": "1"}}`, "padding"},
		{"ZeroPadding3D", `{"padding": {"left_pad": 1}}`, "padding"},
		{"ZeroPadding3D", `{"padding": "same"}`, "padding"},
		{"Cropping1D", `{"cropping": [1, -1]}`, "cropping"},
		{"Cropping2D", `{"cropping": [[1, 1], [1, -1]]}`, "cropping"},
		{"Cropping3D", `{"cropping": [1, 1]}`, "cropping"},
		{"Cropping2D", `{"cropping": 1, "data_format": "channels"}`, "data_format"},
		{"UpSampling1D", `{"size": 0}`, "size"},
		{"UpSampling2D", `{"size": [2, 2, 2]}`, "size"},
		{"UpSampling3D", `{"size": [2, -2, 2]}`, "size"},
	})
}

func TestReshapeShapeErrors(t *testing.T) {
	testShapeErrors(t, []shapeErrorCase{
		{"Reshape", `{"target_shape": [5]}`, Shape{None, 2, 3}},
		{"Reshape", `{"target_shape": [4, -1]}`, Shape{None, 2, 3}},
		{"Reshape", `{"target_shape": [0, -1]}`, Shape{None, 2, 3}},
		{"Reshape", `{"target_shape": [2147483648, 2147483648, 2147483648, -1]}`, Shape{None, 2, 3}},
		{"Flatten", `{}`, Shape{None, 2147483648, 2}},
		{"Permute", `{"dims": [2, 1]}`, Shape{None, 2, 3, 4}},
		{"RepeatVector", `{"n": 2}`, Shape{None, 2, 3}},
		{"ZeroPadding2D", `{}`, Shape{None, 2, 3}},
		{"ZeroPadding1D", `{"padding": 2147483648}`, Shape{None, 2147483648, 3}},
		{"Cropping1D", `{"cropping": [1, 1]}`, Shape{None, 2, 3}},
		{"Cropping2D", `{"cropping": [[0, 0], [2, 1]], "data_format": "channels_first"}`, Shape{None, 2, 8, 3}},
		{"Cropping3D", `{}`, Shape{None, 8, 8, 2, 3}},
		{"UpSampling3D", `{}`, Shape{None, 8, 8, 3}},
	})
}

func TestReshapeLegacySpellings(t *testing.T) {
	testLegacySpellings(t, [][4]string{
		{"ZeroPadding1D", `{"padding": {"left_pad": 2}}`,
			"ZeroPadding1D", `{"padding": [2, 0]}`},
		{"ZeroPadding2D", `{"padding": [1, 2, 3, 4], "dim_ordering": "th"}`,
			"ZeroPadding2D", `{"padding": [[1, 2], [3, 4]], "data_format": "channels_first"}`},
		{"ZeroPadding2D", `{"padding": {"top_pad": 1, "bottom_pad": 2, "left_pad": 3, "right_pad": 4}}`,
			"ZeroPadding2D", `{"padding": [[1, 2], [3, 4]]}`},
		{"ZeroPadding3D", `{"padding": [1, 2, 3]}`,
			"ZeroPadding3D", `{"padding": [[1, 1], [2, 2], [3, 3]]}`},
		{"Cropping2D", `{"cropping": [[1, 1], [2, 2]], "dim_ordering": "tf"}`,
			"Cropping2D", `{"cropping": [1, 2], "data_format": "channels_last"}`},
		{"UpSampling1D", `{"length": 3}`,
			"UpSampling1D", `{"size": 3}`},
		{"UpSampling2D", `{"size": [2, 2], "dim_ordering": "th"}`,
			"UpSampling2D", `{"size": 2, "data_format": "channels_first", "interpolation": "nearest"}`},
	})
}
