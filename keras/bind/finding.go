package bind

import "fmt"

// A Kind is a kind of difference between a model's architecture and the
// weights its file stores.
type Kind int

const (
	// MissingLayer: a layer with weights has no stored group.
	MissingLayer Kind = iota + 1
	// UnusedGroup: a stored group with weights belongs to no layer.
	UnusedGroup
	// MissingWeight: a weight of the layer is not stored, or listed in
	// weight_names but not stored.
	MissingWeight
	// UnusedWeight: a stored tensor is no weight of the layer.
	UnusedWeight
	// ShapeMismatch: a stored tensor has another shape than its weight.
	ShapeMismatch
	// DTypeMismatch: a stored dtype the layer cannot use.
	DTypeMismatch
	// DTypeDiffers: a weight stored in another float type than the
	// layer computes in; it is converted when read.
	DTypeDiffers
	// Keras1Layout: Keras 1 stored the layer's weights in a layout of its
	// own (recurrent weights per gate, Theano-ordered kernels).
	Keras1Layout
)

// String returns the kind's stable identifier, as check reports print it.
func (k Kind) String() string {
	switch k {
	case MissingLayer:
		return "missing-layer"
	case UnusedGroup:
		return "unused-layer"
	case MissingWeight:
		return "missing-weight"
	case UnusedWeight:
		return "unused-weight"
	case ShapeMismatch:
		return "shape-mismatch"
	case DTypeMismatch, DTypeDiffers:
		return "dtype"
	case Keras1Layout:
		return "keras1-layout"
	}
	return "unknown"
}

// A Finding is one difference between the architecture and the file.
type Finding struct {
	Kind Kind
	// Layer is the layer concerned; nil for a group no layer claims.
	Layer *Layer
	// Weight is the weight concerned, if any: its stored path, or its
	// Keras name when the file does not store it.
	Weight string
	Msg    string
}

func (f Finding) Error() string {
	s := f.Msg
	if f.Weight != "" {
		s = fmt.Sprintf("weight %q: %s", f.Weight, s)
	}
	if f.Layer != nil {
		s = fmt.Sprintf("layer %q (%s): %s", f.Layer.Name, f.Layer.Class, s)
	}
	return s
}

func (b *Binding) add(kind Kind, l *Layer, weight, format string, args ...any) {
	b.Findings = append(b.Findings, Finding{Kind: kind, Layer: l, Weight: weight, Msg: fmt.Sprintf(format, args...)})
}

// FindingsOf returns the findings about one layer.
func (b *Binding) FindingsOf(l *Layer) []Finding {
	var out []Finding
	for _, f := range b.Findings {
		if f.Layer == l {
			out = append(out, f)
		}
	}
	return out
}
