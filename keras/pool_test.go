package keras

import "testing"

func TestPoolConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"MaxPooling2D", `{"pool_size": 0}`, "pool_size"},
		{"MaxPooling2D", `{"pool_size": [2, 2, 2]}`, "pool_size"},
		{"MaxPooling1D", `{"pool_length": -1}`, "pool_length"},
		{"AveragePooling3D", `{"pool_size": 2, "strides": [1, 0, 1]}`, "strides"},
		{"AveragePooling1D", `{"stride": "2"}`, "stride"},
		{"MaxPooling2D", `{"padding": "causal"}`, "padding"},
		{"MaxPooling2D", `{"border_mode": "full"}`, "border_mode"},
		{"MaxPooling2D", `{"data_format": "channels_middle"}`, "data_format"},
		{"GlobalMaxPooling2D", `{"dim_ordering": 1}`, "dim_ordering"},
		{"GlobalAveragePooling1D", `{"keepdims": 1}`, "keepdims"},
	})
}

func TestPoolShapeErrors(t *testing.T) {
	testShapeErrors(t, []shapeErrorCase{
		{"MaxPooling2D", `{}`, Shape{None, 8, 3}},
		{"MaxPooling1D", `{"pool_size": 3}`, Shape{None, 2, 3}},
		{"AveragePooling2D", `{"pool_size": 3, "data_format": "channels_first"}`, Shape{None, 3, 8, 2}},
		{"GlobalMaxPooling1D", `{}`, Shape{None, 8, 8, 3}},
		{"GlobalAveragePooling3D", `{}`, Shape{None, 3}},
	})
}

func TestPoolLegacySpellings(t *testing.T) {
	testLegacySpellings(t, [][4]string{
		{"MaxPooling1D", `{"pool_length": 3, "stride": null, "border_mode": "same"}`,
			"MaxPool1D", `{"pool_size": [3], "strides": [3], "padding": "same"}`},
		{"AveragePooling2D", `{"pool_size": [2, 2], "strides": null, "border_mode": "valid", "dim_ordering": "th"}`,
			"AvgPool2D", `{"pool_size": 2, "strides": 2, "data_format": "channels_first"}`},
		{"GlobalMaxPooling2D", `{"dim_ordering": "tf"}`,
			"GlobalMaxPool2D", `{"data_format": "channels_last", "keepdims": false}`},
	})
}
