package keras

import "testing"

func TestPreprocessConfigErrors(t *testing.T) {
	testConfigErrors(t, []configErrorCase{
		{"Resizing", `{"width": 4}`, "height"},
		{"Resizing", `{"height": 4, "width": 0}`, "width"},
		{"Resizing", `{"height": 4.5, "width": 4}`, "height"},
		{"CenterCrop", `{"height": 4, "width": 4, "data_format": "nchw"}`, "data_format"},
	})
}

func TestPreprocessShapeErrors(t *testing.T) {
	testShapeErrors(t, []shapeErrorCase{
		{"Resizing", `{"height": 4, "width": 4}`, Shape{None, 8}},
		{"CenterCrop", `{"height": 4, "width": 4}`, Shape{None, 8, 8, 8, 3}},
	})
}
