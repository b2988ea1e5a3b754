package graph

import (
	"fmt"
	"strconv"

	"github.com/kerascope/kerascope/keras"
)

// unroll draws the planned layers once per time step, in one column per
// step: the recurrent weights join consecutive steps, and a recurrent
// layer passes its state on to the next layer at every step with
// return_sequences=True, else only at the last one. That difference is
// the point of the picture, so weights are drawn per step (they are the
// same weights each time) and biases are left out.
func unroll(m *keras.Model, plan []*unitLayer, opt UnitOptions) (*Graph, error) {
	steps := 0
	for _, u := range plan {
		if u.recurrent {
			steps = u.src.steps
			if steps <= 0 {
				return nil, fmt.Errorf("layer %q: the number of time steps is not in the model (input shape with None); it cannot be unrolled", u.l.Name)
			}
			break
		}
	}
	switch {
	case steps == 0:
		return nil, fmt.Errorf("model %q has no recurrent layer to unroll", m.Name)
	case steps > MaxSteps:
		return nil, fmt.Errorf("%d time steps; the unrolled view draws at most %d", steps, MaxSteps)
	}
	g := newGraph(m.Name, orDefault(opt.RankDir, "BT"), true)
	g.unrolled = true
	// One column per step, labelled left of its inputs. The columns are
	// plain groups, not boxes: Graphviz draws the recurrent lines between
	// boxes of one rank twice and shuffles their nodes.
	var labels []string
	for t := 1; t <= steps; t++ {
		step := "t = " + strconv.Itoa(t)
		c := &Cluster{ID: "t" + strconv.Itoa(t), Label: []string{step}, LabelNode: step, Plain: true}
		g.addNode(&Node{ID: step, Kind: LabelNode, Text: step})
		c.Nodes = append(c.Nodes, step)
		g.Clusters = append(g.Clusters, c)
		labels = append(labels, step)
	}
	// outs[u][t] are the units layer u passes on at step t (nil for none).
	outs := map[*unitLayer][][]string{}
	for _, u := range plan {
		name, kind := unitName(u)
		if u.src == nil {
			name, kind = "x", InputUnit
		}
		at := make([][]string, steps) // the layer's units at each step
		emit := make([][]string, steps)
		// rows are the ranks of the layer: one for all its units, or one
		// per unit of a recurrent layer, so that the recurrent lines between
		// steps run from row to row instead of over the units in between.
		rows := make([][]string, 1)
		if u.recurrent {
			rows = make([][]string, u.units)
		}
		for t := range steps {
			switch {
			case u.src == nil && !u.seq && t < steps-1:
				continue // an input without time axis is drawn once
			case u.src != nil && !u.recurrent && outs[u.src][t] == nil:
				continue // a Dense layer runs where its input comes
			}
			emitted := !u.recurrent || u.seq || t == steps-1
			for j := 1; j <= u.units; j++ {
				k := kind
				if u.recurrent && !emitted {
					k = HiddenUnit
				}
				id := unitID(u, name, j) + "@t" + strconv.Itoa(t+1)
				g.addNode(&Node{ID: id, Kind: k, Text: name + strconv.Itoa(j), Layer: u.l.Name, Group: g.Clusters[t].ID})
				g.Clusters[t].Nodes = append(g.Clusters[t].Nodes, id)
				at[t] = append(at[t], id)
				if u.recurrent {
					rows[j-1] = append(rows[j-1], id)
					if j > 1 {
						g.Edges = append(g.Edges, &Edge{From: at[t][j-2], To: id, Kind: Layout})
					}
				} else {
					if u.src == nil && u.seq && j == 1 && labels != nil {
						rows[0] = append(rows[0], labels[t])
					}
					rows[0] = append(rows[0], id)
				}
			}
			if emitted {
				emit[t] = at[t]
			}
			if u.src == nil {
				continue
			}
			for _, h := range at[t] {
				for _, x := range outs[u.src][t] {
					g.Edges = append(g.Edges, &Edge{From: x, To: h, Kind: Weight, Layer: u.l.Name})
				}
				if u.recurrent && t > 0 {
					for _, p := range at[t-1] {
						g.Edges = append(g.Edges, &Edge{From: p, To: h, Kind: Recurrent, Layer: u.l.Name})
					}
				}
			}
		}
		outs[u] = emit
		g.Ranks = append(g.Ranks, rows...)
		if u.src == nil && u.seq {
			labels = nil // placed, in the row of the first input
		}
		if u.src != nil {
			g.Caption = append(g.Caption, unrollNote(u, steps))
		}
	}
	if labels != nil {
		g.Ranks = append(g.Ranks, labels)
	}
	g.Caption = append(g.Caption,
		"Solid = input weights, dashed red = recurrent weights from the step before (at t = 1 the previous state is zero).",
		"Every step uses the same weights; biases are not drawn.")
	if n := g.Count("", Weight, Recurrent); n > MaxEdges {
		return nil, fmt.Errorf("the unrolled view of %q would draw %d lines, more than %d", m.Name, n, MaxEdges)
	}
	return g, nil
}

func unrollNote(u *unitLayer, steps int) string {
	head := fmt.Sprintf("%s: %s(%d)", u.l.Name, u.l.Class, u.units)
	switch {
	case u.recurrent && u.seq:
		return fmt.Sprintf("%s, return_sequences=True: passes h(t) on at each of the %d steps.", head, steps)
	case u.recurrent:
		return fmt.Sprintf("%s, return_sequences=False: only h(%d) of the last step goes on.", head, steps)
	case u.seq:
		return head + ": applied at every step that gets an input, with the same weights."
	}
	return head + ": applied once, to the last step's output."
}
