package keras

import (
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/kerascope/kerascope/keras/internal/kernel"
)

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
// Used config: height, width, data_format; Rescaling's scale and offset
// (numbers, or lists that broadcast along the last axis); Resizing's
// interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode and
// fill_value.
//
// Forward passes follow Keras 3's TensorFlow backend (image.resize) and
// tf_keras, which agree: Resizing crops (crop_to_aspect_ratio) or pads
// (pad_to_aspect_ratio, the same padding on both sides) to the target's
// aspect ratio, then resizes with tf.image.resize; CenterCrop crops the
// centre when the image is at least the target size, and otherwise crops
// to the target's aspect ratio and resizes bilinearly (smart_resize).
// Rescaling computes x·scale + offset in float32 and passes masks on
// (Keras 3's supports_masking); the image layers drop them.

type rescaling struct {
	scale, offset []float32 // one value, or one per element of the last axis
	reason        string    // why it cannot run, if it cannot
}

func newRescaling(d *decoder) (layerKind, error) {
	l := rescaling{}
	var why string
	l.scale, why = broadcastArg(d, 1, "scale")
	l.offset, l.reason = broadcastArg(d, 0, "offset")
	if why != "" {
		l.reason = why
	}
	return l, nil
}

// broadcastArg reads a Rescaling argument: a number, a (nested) list, or
// Keras 3's serialized NumPy array or tensor. A list runs when it
// broadcasts along the last axis only (every other dimension 1); else the
// reason says why not.
func broadcastArg(d *decoder, def float32, key string) ([]float32, string) {
	r, _ := d.lookup(key)
	if !r.Exists() || r.Type == gjson.Null {
		return []float32{def}, ""
	}
	if r.IsObject() {
		r = r.Get("config.value")
	}
	if r.Type == gjson.Number {
		return []float32{float32(r.Float())}, ""
	}
	// Peel leading length-1 lists down to the last axis.
	for r.IsArray() {
		arr := r.Array()
		if len(arr) == 1 && arr[0].IsArray() {
			r = arr[0]
			continue
		}
		out := make([]float32, len(arr))
		for i, e := range arr {
			if e.Type != gjson.Number {
				return []float32{def}, fmt.Sprintf("its %s %s broadcasts over more than the last axis", key, short(r.Raw))
			}
			out[i] = float32(e.Float())
		}
		if len(out) == 0 {
			break
		}
		return out, ""
	}
	d.fail(key, "got %s, want a number or a list of numbers", short(r.Raw))
	return []float32{def}, ""
}

func (rescaling) build(in []Shape) ([]WeightSpec, error) { return nil, wantInputs(in, 1) }

func (rescaling) outputShapes(in []Shape) ([]Shape, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return []Shape{in[0].Clone()}, nil
}

func (l rescaling) cannotRun() string { return l.reason }

func (rescaling) passesMask() bool { return true }

func (l rescaling) forward(c *call) error {
	x, err := oneInput(c, 1, -1)
	if err != nil {
		return err
	}
	n := x.Shape[len(x.Shape)-1]
	for _, v := range [][]float32{l.scale, l.offset} {
		if len(v) != 1 && len(v) != n {
			return fmt.Errorf("input shape %s: %d scale or offset values do not broadcast over its last axis", shapeString(x.Shape), len(v))
		}
	}
	out := c.ar.output(x.Shape...) // every value is written below
	if n == 0 {
		c.out = []*Tensor{out}
		return nil
	}
	// Two float32 roundings, as TensorFlow's multiply then add, in
	// 16-float vectors where the CPU has AVX-512 (the channels' values
	// laid out over their cycle: an image's 3).
	kernel.Rescale(out.Data, x.Data, l.scale, l.offset)
	c.out = []*Tensor{out}
	return nil
}

// imageResize is Resizing and CenterCrop.
type imageResize struct {
	height, width int
	channelsFirst bool
	center        bool // CenterCrop
	interpolation string
	cropToAspect  bool
	padToAspect   bool
	fillMode      string
	fillValue     float32
}

func newResizing(d *decoder) (layerKind, error) {
	l, err := newImageResize(d)
	if err != nil {
		return l, err
	}
	r := l.(*imageResize)
	r.interpolation = d.str("bilinear", "interpolation")
	r.cropToAspect = d.boolean(false, "crop_to_aspect_ratio")
	r.padToAspect = d.boolean(false, "pad_to_aspect_ratio")
	r.fillMode = d.str("constant", "fill_mode")
	r.fillValue = float32(d.float(0, "fill_value"))
	return r, nil
}

func newCenterCrop(d *decoder) (layerKind, error) {
	l, err := newImageResize(d)
	if err != nil {
		return l, err
	}
	r := l.(*imageResize)
	r.center = true
	r.interpolation = "bilinear"
	r.fillMode = "constant"
	return r, nil
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

// cannotRun: the interpolations are tf.image.resize's; Keras accepts only
// constant fill.
func (l *imageResize) cannotRun() string {
	if _, ok := kernel.ResizeTaps(l.interpolation, 1, 1); !ok {
		return fmt.Sprintf("its interpolation %q is not one kerascope implements", l.interpolation)
	}
	if l.fillMode != "constant" {
		return fmt.Sprintf("its fill_mode %q is not one Keras implements", l.fillMode)
	}
	if l.cropToAspect && l.padToAspect {
		return "it both crops and pads to the aspect ratio, which Keras refuses"
	}
	return ""
}

func (l *imageResize) forward(c *call) error {
	x, err := oneInput(c, 3, 4)
	if err != nil {
		return err
	}
	// A rank-3 tensor is one image, as Keras takes it; move the channels
	// last and view it as a batch of one.
	r := len(x.Shape)
	switch {
	case l.channelsFirst && r == 4:
		x = toChannelsLast(x, true)
	case l.channelsFirst:
		x = axesMoved(x, []int{1, 2, 0})
	}
	s := x.Shape
	n, h, w, ch := 1, s[0], s[1], s[2]
	if r == 4 {
		n, h, w, ch = s[0], s[1], s[2], s[3]
	}
	var out *Tensor
	if l.center {
		out, err = l.centerCrop(x, n, h, w, ch)
	} else {
		out, err = l.resizeTo(x, n, h, w, ch)
	}
	if err != nil {
		return err
	}
	if r == 4 {
		out.Shape = []int{n, l.height, l.width, ch}
	} else {
		out.Shape = []int{l.height, l.width, ch}
	}
	if l.channelsFirst {
		if r == 4 {
			out = toChannelsFirst(out, true)
		} else {
			out = axesMoved(out, []int{2, 0, 1})
		}
	}
	c.out = []*Tensor{out}
	return nil
}

// resizeTo is Resizing: crop or pad to the aspect ratio, then resize.
func (l *imageResize) resizeTo(x *Tensor, n, h, w, ch int) (*Tensor, error) {
	th, tw := l.height, l.width
	switch {
	case l.cropToAspect:
		// Keras computes the crop box in float32 on tensors.
		cropH := max(min(h, int(float32(w*th)/float32(tw))), 1)
		cropW := max(min(w, int(float32(h*tw)/float32(th))), 1)
		return resizeBox(x, n, h, w, ch, (h-cropH)/2, (w-cropW)/2, cropH, cropW, th, tw, l.interpolation)
	case l.padToAspect:
		padH := max(h, int(float32(w*th)/float32(tw)))
		padW := max(w, int(float32(h*tw)/float32(th)))
		// Keras pads (padH - h) / 2 on both sides, so an odd difference
		// loses a row.
		top, left := (padH-h)/2, (padW-w)/2
		ph, pw := h+2*top, w+2*left
		p := NewTensor(n, ph, pw, ch)
		if l.fillValue != 0 {
			for i := range p.Data {
				p.Data[i] = l.fillValue
			}
		}
		kernel.CopyBox(p.Data, p.Shape, []int{0, top, left, 0}, x.Data, []int{n, h, w, ch}, []int{0, 0, 0, 0}, []int{n, h, w, ch})
		return resizeImages(p, n, ph, pw, ch, th, tw, l.interpolation)
	}
	return resizeImages(x, n, h, w, ch, th, tw, l.interpolation)
}

// centerCrop is CenterCrop: the centre of an image at least the target's
// size, else smart_resize (Keras computes its box in Python floats).
func (l *imageResize) centerCrop(x *Tensor, n, h, w, ch int) (*Tensor, error) {
	th, tw := l.height, l.width
	if h >= th && w >= tw {
		out := NewTensor(n, th, tw, ch)
		kernel.CopyBox(out.Data, out.Shape, []int{0, 0, 0, 0}, x.Data, []int{n, h, w, ch}, []int{0, (h - th) / 2, (w - tw) / 2, 0}, out.Shape)
		return out, nil
	}
	cropH := max(min(h, int(float64(w*th)/float64(tw))), 1)
	cropW := max(min(w, int(float64(h*tw)/float64(th))), 1)
	return resizeBox(x, n, h, w, ch, int(float64(h-cropH)/2), int(float64(w-cropW)/2), cropH, cropW, th, tw, "bilinear")
}

// resizeBox resizes the box (y0, x0, bh, bw) of each image of x to
// (th, tw), without copying the box out: the taps read it in place.
func resizeBox(x *Tensor, n, h, w, ch, y0, x0, bh, bw, th, tw int, method string) (*Tensor, error) {
	ty, ok1 := kernel.ResizeTaps(method, bh, th)
	tx, ok2 := kernel.ResizeTaps(method, bw, tw)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("cannot resize (%d, %d) to (%d, %d) with %q interpolation", bh, bw, th, tw, method)
	}
	for i := range ty.Index {
		ty.Index[i] += int32(y0)
	}
	for i := range tx.Index {
		tx.Index[i] += int32(x0)
	}
	out := NewTensor(n, th, tw, ch)
	kernel.Resample(out.Data, x.Data, make([]float32, th*w*ch), n, h, w, ch, ty, tx)
	return out, nil
}

// resizeImages resizes n images (h, w, ch) to (th, tw) as
// tf.image.resize does with the named method.
func resizeImages(x *Tensor, n, h, w, ch, th, tw int, method string) (*Tensor, error) {
	return resizeBox(x, n, h, w, ch, 0, 0, h, w, th, tw, method)
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
