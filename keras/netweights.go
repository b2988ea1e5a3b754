package keras

import (
	"fmt"

	"sort"
	"strings"
)

// Reading every weight for the forward pass. Each layer's tensors end up in
// the order of its Weights, whatever order the file keeps them in:
//
//   - legacy .h5 files list a layer's trainable weights before its
//     non-trainable ones (legacyIndex), a nested model's weights as one list
//     over all its layers;
//   - Keras 3 stores keep a layer's own variables under vars/0, vars/1, ...
//     and its sublayers' in groups named after attributes, which HDF5 lists
//     in name order (MultiHeadAttention's key_dense before query_dense,
//     Bidirectional's backward_layer before forward_layer). Kinds with
//     sublayers give their groups in creation order (storeGrouper).

// A storeGrouper is a layer kind whose Keras 3 weights live in sublayer
// groups: it lists their paths relative to the layer's group, in the order
// the layer creates its weights.
type storeGrouper interface {
	storeGroups() []string
}

// readWeights reads the weights of every layer of the file's model.
func (f *File) readWeights() (map[*Layer][]*Tensor, error) {
	out := make(map[*Layer][]*Tensor)
	if f.Store == nil {
		if needsWeights(f.Model) {
			_, err := f.StoredLayers()
			if err == nil {
				err = fmt.Errorf("the file stores no weights")
			}
			return nil, err
		}
		return out, nil
	}
	stored, err := f.StoredLayers()
	if err != nil {
		return nil, err
	}
	groups, _ := f.storedGroups(stored)
	legacy := f.Format == FormatH5 || f.Format == FormatH5Weights
	for _, l := range f.Model.Layers {
		if len(l.Weights) == 0 {
			continue
		}
		s, ok := groups[l]
		if !ok {
			return nil, fmt.Errorf("layer %q (%s): the file stores no weights for it, want %d", l.Name, l.Class, len(l.Weights))
		}
		var vars []StoredVar
		if legacy {
			if len(s.Weights) != len(l.Weights) {
				if strings.HasPrefix(f.KerasVersion, "1") {
					// Keras 1 stored recurrent weights per gate; Keras 2
					// converted them on load, kerascope does not yet.
					return nil, unsupportedf("layer %q (%s): the file stores %d weights in Keras 1's layout, want %d; predicting from Keras 1 weight layouts is not supported", l.Name, l.Class, len(s.Weights), len(l.Weights))
				}
				return nil, fmt.Errorf("layer %q (%s): the file stores %d weights, want %d", l.Name, l.Class, len(s.Weights), len(l.Weights))
			}
			vars = make([]StoredVar, len(l.Weights))
			for k, j := range legacyIndex(l) {
				vars[j] = s.Weights[k]
			}
		} else if vars, err = storeVars(f.Store, s.Path, l, 0); err != nil {
			return nil, fmt.Errorf("layer %q (%s): %w", l.Name, l.Class, err)
		}
		ts, err := readVars(f.Store, l, vars)
		if err != nil {
			return nil, err
		}
		assignWeights(l, ts, out)
	}
	return out, nil
}

func needsWeights(m *Model) bool {
	for _, l := range m.Layers {
		if len(l.Weights) > 0 {
			return true
		}
	}
	return false
}

// storeVars lists a layer's variables in a Keras 3 store in the order of
// its Weights.
func storeVars(s Store, group string, l *Layer, depth int) ([]StoredVar, error) {
	if depth > maxNesting {
		return nil, formatErrorf("%s: models nested too deep", group)
	}
	if l.Model != nil {
		var vars []StoredVar
		paths := storePaths(l.Model.Layers)
		for i, inner := range l.Model.Layers {
			if len(inner.Weights) == 0 {
				continue
			}
			v, err := storeVars(s, group+"/layers/"+paths[i], inner, depth+1)
			if err != nil {
				return nil, fmt.Errorf("layer %q (%s): %w", inner.Name, inner.Class, err)
			}
			vars = append(vars, v...)
		}
		return vars, nil
	}
	var vars []StoredVar
	if err := walkVars(s, group, &vars, 0); err != nil {
		return nil, err
	}
	if g, ok := l.impl.(storeGrouper); ok {
		order := g.storeGroups()
		rank := func(v StoredVar) int {
			rel := strings.TrimPrefix(v.Path, group+"/")
			if strings.HasPrefix(rel, "vars/") {
				return -1
			}
			for i, p := range order {
				if rel == p || strings.HasPrefix(rel, p+"/") {
					return i
				}
			}
			return len(order)
		}
		sort.SliceStable(vars, func(i, j int) bool { return rank(vars[i]) < rank(vars[j]) })
	}
	return vars, nil
}

// readVars reads a layer's weights, checking each stored shape against the
// architecture's.
func readVars(s Store, l *Layer, vars []StoredVar) ([]*Tensor, error) {
	if len(vars) != len(l.Weights) {
		return nil, fmt.Errorf("layer %q (%s): the file stores %d weights, want %d", l.Name, l.Class, len(vars), len(l.Weights))
	}
	ts := make([]*Tensor, len(vars))
	for i, w := range l.Weights {
		v := vars[i]
		if v.Missing {
			return nil, fmt.Errorf("layer %q (%s): weight %q: listed but not stored", l.Name, l.Class, w.Name)
		}
		if !v.Shape.Equal(w.Shape) {
			return nil, fmt.Errorf("layer %q (%s): weight %q: shape %s, want %s", l.Name, l.Class, w.Name, v.Shape.Tuple(), w.Shape.Tuple())
		}
		if !isFloatDType(v.DType) {
			continue // counters (Normalization's count): never used to compute
		}
		data, err := s.ReadFloat32(v.Path, v.Shape)
		if err != nil {
			return nil, fmt.Errorf("layer %q (%s): weight %q: %w", l.Name, l.Class, w.Name, err)
		}
		ts[i] = &Tensor{Shape: append([]int(nil), v.Shape...), Data: data}
	}
	return ts, nil
}

// assignWeights gives a layer its tensors, and a nested model's layers
// theirs, in the order modelWeights lists them.
func assignWeights(l *Layer, ts []*Tensor, out map[*Layer][]*Tensor) {
	if l.Model == nil {
		out[l] = ts
		return
	}
	for _, inner := range l.Model.Layers {
		n := len(inner.Weights)
		assignWeights(inner, ts[:n], out)
		ts = ts[n:]
	}
}
