package keras

// The preprocessing layers whose shapes follow from their config alone,
// mirroring Keras 3's keras/src/layers/preprocessing/rescaling.py and
// image_preprocessing/{resizing,center_crop}.py (tf_keras's
// image_preprocessing.py gives the same shapes). None of them has weights.
//
//	Rescaling    the input shape, unchanged
//	Resizing     the two image axes become (height, width)
//	CenterCrop   likewise
//
// Keras takes a rank-4 input as a batch of images, (batch, h, w, c) or
// (batch, c, h, w), and any other as one image, (h, w, c) or (c, h, w).
// So a model input of shape (h, w) has its batch and h axes replaced, odd
// as that is: kerascope follows Keras. CenterCrop accepts only ranks 3 and
// 4, and so, here, does Resizing.
//
// Used config: height, width, data_format. Rescaling's scale and offset,
// and Resizing's interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
// fill_mode, fill_value and antialias change values, not shapes, and are
// ignored.

type rescaling struct{}

func newRescaling(*decoder) (layerKind, error) { return rescaling{}, nil }

func (rescaling) build(in []Shape) ([]WeightSpec, error) { return nil, wantInputs(in, 1) }

func (rescaling) outputShapes(in []Shape) ([]Shape, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return []Shape{in[0].Clone()}, nil
}

// imageResize is Resizing and CenterCrop.
type imageResize struct {
	height, width int
	channelsFirst bool
}

func newImageResize(d *decoder) (layerKind, error) {
	l := &imageResize{
		height:        d.int(0, "height"),
		width:         d.int(0, "width"),
		channelsFirst: d.channelsFirst(),
	}
	if d.err == nil && l.height <= 0 {
		d.fail("height", "got %d, want a positive integer", l.height)
	}
	if d.err == nil && l.width <= 0 {
		d.fail("width", "got %d, want a positive integer", l.width)
	}
	return l, nil
}

func (l *imageResize) build(in []Shape) ([]WeightSpec, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return nil, wantRank(in[0], 3, 4)
}

func (l *imageResize) outputShapes(in []Shape) ([]Shape, error) {
	if _, err := l.build(in); err != nil {
		return nil, err
	}
	out := in[0].Clone()
	h := len(out) - 3 // the first image axis: 1 for a batch, 0 for one image
	if l.channelsFirst {
		h++
	}
	out[h], out[h+1] = l.height, l.width
	return []Shape{out}, nil
}

func (rescaling) explain(string, []Shape) (*formula, error)    { return noWeights(""), nil }
func (*imageResize) explain(string, []Shape) (*formula, error) { return noWeights(""), nil }
