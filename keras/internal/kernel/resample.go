package kernel

import "math"

// Image resizing as TensorFlow's tf.image.resize computes it (the ops
// behind Keras's Resizing, UpSampling2D and CenterCrop): every method is
// separable, so each is a table of taps per output row and per output
// column, built once (ResizeTaps) and applied by Resample.
//
// The tables follow tensorflow/core/kernels/image: resize_bilinear_op.cc
// and resize_nearest_neighbor_op.cc with half_pixel_centers (as
// tf.image.resize passes), resize_bicubic_op.cc with Keys' cubic (a = -0.5)
// and out-of-image taps dropped and renormalized, resize_area_op.cc, and
// scale_and_translate_op.cc for lanczos3, lanczos5, gaussian and
// mitchellcubic (antialias off: kernel width not scaled).

// Taps maps each output position along an axis to K input positions and
// their weights: output i reads Index[i*K+k] with Weight[i*K+k].
type Taps struct {
	K      int
	Index  []int32
	Weight []float32
}

// ResizeMethods lists the methods ResizeTaps knows, by tf.image.resize
// name.
var ResizeMethods = []string{"area", "bicubic", "bilinear", "gaussian", "lanczos3", "lanczos5", "mitchellcubic", "nearest"}

// ResizeTaps builds the taps resizing an axis of length in to out with a
// tf.image.resize method; ok is false for an unknown method or an empty
// axis. It allocates the table, once per call of a layer.
func ResizeTaps(method string, in, out int) (t *Taps, ok bool) {
	if in <= 0 || out <= 0 {
		return nil, false
	}
	// TensorFlow computes the scale in float32.
	scale := float32(in) / float32(out)
	switch method {
	case "nearest":
		t = newTaps(out, 1)
		for i := 0; i < out; i++ {
			// HalfPixelScalerForNN: (i + 0.5)·scale, floored, clamped.
			f := float32(float32(i)+0.5) * scale
			t.Index[i] = int32(max(min(int(math.Floor(float64(f))), in-1), 0))
			t.Weight[i] = 1
		}
	case "bilinear":
		t = newTaps(out, 2)
		for i := 0; i < out; i++ {
			f := float32(float32(float32(i)+0.5)*scale) - 0.5
			fl := float32(math.Floor(float64(f)))
			lerp := f - fl
			t.Index[2*i] = int32(max(int(fl), 0))
			t.Index[2*i+1] = int32(min(int(math.Ceil(float64(f))), in-1))
			t.Weight[2*i] = 1 - lerp
			t.Weight[2*i+1] = lerp
		}
	case "bicubic":
		t = newTaps(out, 4)
		for i := 0; i < out; i++ {
			f := float32(float32(float32(i)+0.5)*scale) - 0.5
			loc := int(math.Floor(float64(f)))
			delta := f - float32(loc)
			// TensorFlow reads the weights from a 1024-entry table.
			const table = 1024
			off := int(math.RoundToEven(float64(delta * table)))
			w := [4]float32{
				keysCubicFar(float32(off) / table),
				keysCubicNear(float32(off) / table),
				keysCubicNear(float32(table-off) / table),
				keysCubicFar(float32(table-off) / table),
			}
			var sum float32
			for k := 0; k < 4; k++ {
				j := loc - 1 + k
				b := max(min(j, in-1), 0)
				if b != j {
					w[k] = 0
				}
				t.Index[4*i+k] = int32(b)
				sum += w[k]
			}
			if math.Abs(float64(sum)) >= 1000*smallestNormal {
				for k := range w {
					w[k] *= 1 / sum
				}
			}
			copy(t.Weight[4*i:4*i+4], w[:])
		}
	case "area":
		// Each output cell averages the input cells it covers, partial
		// cells weighted by their covered fraction.
		k := int(math.Ceil(float64(scale))) + 1
		t = newTaps(out, k)
		for i := 0; i < out; i++ {
			y0 := float32(i) * scale
			y1 := float32(i+1) * scale
			start := int(math.Floor(float64(y0)))
			end := int(math.Ceil(float64(y1)))
			n := 0
			for v := start; v < end && n < k; v++ {
				fv := float32(v)
				var w float32
				switch {
				case fv < y0 && fv+1 > y1:
					w = scale
				case fv < y0:
					w = fv + 1 - y0
				case fv+1 > y1:
					w = y1 - fv
				default:
					w = 1
				}
				t.Index[i*k+n] = int32(min(v, in-1))
				t.Weight[i*k+n] = w / scale
				n++
			}
		}
	case "lanczos3", "lanczos5", "gaussian", "mitchellcubic":
		return spanTaps(method, in, out), true
	default:
		return nil, false
	}
	return t, true
}

const smallestNormal = 1.1754943508222875e-38 // numeric_limits<float>::min()

func newTaps(out, k int) *Taps {
	return &Taps{K: k, Index: make([]int32, out*k), Weight: make([]float32, out*k)}
}

// Keys' cubic convolution with a = -0.5, for |x| <= 1 and 1 <= |x|+1 <= 2
// (TensorFlow's coefficient table entries).
func keysCubicNear(x float32) float32 {
	const a = -0.5
	return ((a+2)*x-(a+3))*x*x + 1
}

func keysCubicFar(x float32) float32 {
	const a = -0.5
	x++
	return ((a*x-5*a)*x+8*a)*x - 4*a
}

// spanTaps is scale_and_translate's ComputeSpans without antialiasing.
func spanTaps(method string, in, out int) *Taps {
	var radius float32
	var kernel func(float32) float32
	switch method {
	case "lanczos3":
		radius, kernel = 3, lanczos(3)
	case "lanczos5":
		radius, kernel = 5, lanczos(5)
	case "gaussian":
		radius = 1.5
		kernel = func(x float32) float32 {
			const sigma = 1.0 / 3
			if x >= 1.5 {
				return 0
			}
			return float32(math.Exp(float64(-x * x / (2 * sigma * sigma))))
		}
	default: // mitchellcubic
		radius = 2
		kernel = func(x float32) float32 {
			switch {
			case x >= 2:
				return 0
			case x >= 1:
				return (((-7.0/18)*x+2)*x-10.0/3)*x + 16.0/9
			}
			return ((7.0/6)*x-2)*x*x + 8.0/9
		}
	}
	invScale := float32(1 / float64(float32(out)/float32(in)))
	k := int(2*radius) + 2
	t := newTaps(out, k)
	for i := 0; i < out; i++ {
		sample := (float32(i) + 0.5) * invScale
		if sample < 0 || sample > float32(in) {
			continue
		}
		start := int(math.Ceil(float64(sample - radius - 0.5)))
		end := int(math.Floor(float64(sample + radius - 0.5)))
		start = max(min(start, in-1), 0)
		end = max(min(end, in-1), 0) + 1
		var sum float32
		n := 0
		for s := start; s < end && n < k; s++ {
			w := kernel(float32(math.Abs(float64(float32(s) + 0.5 - sample))))
			t.Index[i*k+n] = int32(s)
			t.Weight[i*k+n] = w
			sum += w
			n++
		}
		if math.Abs(float64(sum)) >= 1000*smallestNormal {
			for j := i * k; j < i*k+n; j++ {
				t.Weight[j] *= 1 / sum
			}
		}
	}
	return t
}

func lanczos(r float32) func(float32) float32 {
	return func(x float32) float32 {
		const pi = 3.14159265359
		if x > r {
			return 0
		}
		if x <= 1e-3 {
			return 1
		}
		return float32(float64(r) * math.Sin(pi*float64(x)) * math.Sin(pi*float64(x)/float64(r)) / (pi * pi * float64(x) * float64(x)))
	}
}

// Resample resizes images (n, inH, inW, ch) to (n, outH, outW, ch) with
// the row taps ty (outH outputs over inH) and column taps tx (outW over
// inW). scratch holds outH·inW·ch values.
func Resample(dst, src, scratch []float32, n, inH, inW, ch int, ty, tx *Taps) {
	outH := len(ty.Index) / ty.K
	outW := len(tx.Index) / tx.K
	rowLen := inW * ch
	tmp := scratch[:outH*rowLen]
	for img := 0; img < n; img++ {
		in := src[img*inH*rowLen : (img+1)*inH*rowLen]
		// Rows first: tmp (outH, inW, ch).
		for y := 0; y < outH; y++ {
			row := tmp[y*rowLen : (y+1)*rowLen]
			clear(row)
			for k := 0; k < ty.K; k++ {
				w := ty.Weight[y*ty.K+k]
				if w == 0 {
					continue
				}
				s := int(ty.Index[y*ty.K+k]) * rowLen
				for j, v := range in[s : s+rowLen] {
					row[j] += w * v
				}
			}
		}
		// Then columns: dst (outH, outW, ch).
		out := dst[img*outH*outW*ch : (img+1)*outH*outW*ch]
		for y := 0; y < outH; y++ {
			row := tmp[y*rowLen : (y+1)*rowLen]
			for x := 0; x < outW; x++ {
				o := out[(y*outW+x)*ch : (y*outW+x+1)*ch]
				clear(o)
				for k := 0; k < tx.K; k++ {
					w := tx.Weight[x*tx.K+k]
					if w == 0 {
						continue
					}
					s := int(tx.Index[x*tx.K+k]) * ch
					for c, v := range row[s : s+ch] {
						o[c] += w * v
					}
				}
			}
		}
	}
}
