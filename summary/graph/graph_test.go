package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

// sequential decodes a Keras 3 Sequential config with an InputLayer of
// the given shape and the given layers ({"class_name": ..., "config": ...}).
func sequential(t *testing.T, shape string, layers ...string) *keras.Model {
	t.Helper()
	cfg := fmt.Sprintf(`{"class_name": "Sequential", "config": {"name": "m", "layers": [
		{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": %s}}, %s]}}`, shape, strings.Join(layers, ", "))
	m, err := keras.Decode([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func layer(class, name, cfg string) string {
	return fmt.Sprintf(`{"class_name": %q, "config": {"name": %q%s}}`, class, name, cfg)
}

// TestUnitsParams checks, for every class the unit view draws, that a
// layer's weight, recurrent and bias edges add up to its parameter count,
// that no two edges join the same nodes, and that gated layers get one
// block per gate.
func TestUnitsParams(t *testing.T) {
	m := sequential(t, "[null, 3, 2]",
		layer("SimpleRNN", "rnn", `, "units": 3, "return_sequences": true, "use_bias": false`),
		layer("LSTM", "lstm", `, "units": 2, "return_sequences": true`),
		layer("GRU", "gru_after", `, "units": 2, "return_sequences": true, "reset_after": true`),
		layer("GRU", "gru_before", `, "units": 2, "reset_after": false`),
		layer("Dense", "hidden", `, "units": 3`),
		layer("Dense", "out", `, "units": 2, "use_bias": false`))
	g, err := Units(m, UnitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[2]string]bool{}
	for _, e := range g.Edges {
		if seen[[2]string{e.From, e.To}] {
			t.Errorf("edge %s -> %s twice", e.From, e.To)
		}
		seen[[2]string{e.From, e.To}] = true
	}
	gates := map[string]int{"rnn": 0, "lstm": 8, "gru_after": 6, "gru_before": 6, "hidden": 0, "out": 0}
	for _, l := range m.Layers {
		got := g.Count(l.Name, Weight, Recurrent, Bias)
		if int64(got) != l.Params() {
			t.Errorf("%s (%s): %d edges, %d params", l.Name, l.Class, got, l.Params())
		}
		if n := g.Count(l.Name, Flow); n != gates[l.Name] {
			t.Errorf("%s: %d gate lines, want %d", l.Name, n, gates[l.Name])
		}
	}
	if g.Count("rnn", Bias) != 0 || g.Count("gru_after", Bias) != 2*6 {
		t.Errorf("bias edges: rnn %d, gru_after %d", g.Count("rnn", Bias), g.Count("gru_after", Bias))
	}
	if _, err := Render(context.Background(), g.DOT(), "svg"); err != nil {
		t.Errorf("Graphviz refuses the DOT: %v", err)
	}
}

// TestUnroll checks what return_sequences changes: the next layer runs at
// every step, or once after the last.
func TestUnroll(t *testing.T) {
	for _, seq := range []bool{true, false} {
		m := sequential(t, "[null, 4, 1]",
			layer("SimpleRNN", "rnn", fmt.Sprintf(`, "units": 2, "return_sequences": %v`, seq)),
			layer("Dense", "out", `, "units": 1`))
		g, err := Units(m, UnitOptions{Unroll: true})
		if err != nil {
			t.Fatal(err)
		}
		outputs := 0
		for _, n := range g.Nodes {
			if n.Layer == "out" {
				outputs++
			}
		}
		want := map[bool]int{true: 4, false: 1}[seq]
		if outputs != want {
			t.Errorf("return_sequences=%v: %d outputs, want %d", seq, outputs, want)
		}
		// Recurrent weights join each pair of consecutive steps.
		if n := g.Count("rnn", Recurrent); n != 3*2*2 {
			t.Errorf("return_sequences=%v: %d recurrent edges, want 12", seq, n)
		}
		if !strings.Contains(g.DOT(), `"t = 4"`) {
			t.Errorf("no label for step 4")
		}
	}
}

func TestUnitsRefusals(t *testing.T) {
	cases := []struct {
		m    *keras.Model
		opt  UnitOptions
		want string
	}{
		{sequential(t, "[null, 4]", layer("Dense", "wide", `, "units": 33`)), UnitOptions{}, "at most 32"},
		{sequential(t, "[null, 2, 2]", layer("Flatten", "flat", ``)), UnitOptions{}, "class Flatten"},
		{sequential(t, "[null, null, 2]", layer("SimpleRNN", "rnn", `, "units": 2`)), UnitOptions{Unroll: true}, "time steps"},
		{sequential(t, "[null, 4]", layer("Dense", "d", `, "units": 2`)), UnitOptions{Unroll: true}, "no recurrent layer"},
		{sequential(t, "[null, 3, 2]", layer("LSTM", "lstm", `, "units": 2, "return_state": true`)), UnitOptions{}, "outputs"},
	}
	for _, c := range cases {
		_, err := Units(c.m, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error with %q", err, c.want)
		}
	}
}

// TestNamesEscaped draws layers whose names need escaping in DOT and
// Mermaid, or collide once Mermaid's identifiers are made from them.
func TestNamesEscaped(t *testing.T) {
	names := []string{`a"b\c`, "<x>&", "end", "a.b", "a_b"}
	var layers []string
	for _, n := range names {
		layers = append(layers, fmt.Sprintf(`{"class_name": "Dense", "config": {"name": %q, "units": 2}}`, n))
	}
	m := sequential(t, "[null, 2]", layers...)
	for _, g := range []*Graph{Layers(m, Options{}), mustUnits(t, m)} {
		svg, err := Render(context.Background(), g.DOT(), "svg")
		if err != nil {
			t.Fatalf("Graphviz refuses the DOT: %v\n%s", err, g.DOT())
		}
		for _, n := range names {
			esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(n)
			if !strings.Contains(string(svg), esc) {
				t.Errorf("the SVG does not show %q", n)
			}
		}
		ids := mermaidIDs(g)
		used := map[string]string{}
		for id, mid := range ids {
			if other, ok := used[mid]; ok {
				t.Errorf("Mermaid ID %s for both %q and %q", mid, id, other)
			}
			used[mid] = id
			if mid == "end" {
				t.Errorf("Mermaid ID %q is a keyword", mid)
			}
		}
		if mm := g.Mermaid(); strings.Contains(mm, `a"b`) || strings.Contains(mm, "<x>") {
			t.Errorf("Mermaid labels are not escaped:\n%s", mm)
		}
	}
}

func mustUnits(t *testing.T, m *keras.Model) *Graph {
	t.Helper()
	g, err := Units(m, UnitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestXdotScanner feeds the xdot reader broken operations: it must fail
// cleanly, never panic.
func TestXdotScanner(t *testing.T) {
	for _, ops := range []string{"E 1 2", "T 1 2 0 5 9 -ab", "P 3 1 2", "c 7 #000000", "Q", "P -4", "F 14 999999 -x"} {
		p := newPainter(10, 10, 1, 0, 10)
		if err := p.run(ops); err == nil {
			t.Errorf("%q: no error", ops)
		}
	}
	doc := &xdotDoc{BB: "0,0,20,10"}
	doc.Draw = "c 7 -#ff0000 C 7 -#00ff00 P 4 0 0 0 10 20 10 20 0 F 10 5 -Times T 10 2 0 8 2 -hi "
	if _, err := rasterize(doc, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := rasterize(&xdotDoc{BB: "bogus"}, 2); err == nil {
		t.Error("a bad bounding box is accepted")
	}
}

// TestUnitsThroughWeightless checks that the unit view draws through
// layers without weights that keep their input's shape, as the summary
// lists them with 0 parameters, and still refuses layers that change the
// shape. compiled_fn is Keras's own file: Dense(8), Dropout, Dense(1).
func TestUnitsThroughWeightless(t *testing.T) {
	f, err := keras.Open("../../testdata/models/compiled_fn/k3.keras")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	synthetic := sequential(t, "[null, 3, 2]",
		layer("SimpleRNN", "rnn", `, "units": 3, "return_sequences": true`),
		layer("GaussianNoise", "noise", `, "stddev": 0.1`),
		layer("LSTM", "lstm", `, "units": 2`),
		layer("Dropout", "drop", `, "rate": 0.5`),
		layer("Dense", "out", `, "units": 1`),
		layer("Activation", "act", `, "activation": "sigmoid"`))
	for _, m := range []*keras.Model{f.Model, synthetic} {
		g, err := Units(m, UnitOptions{})
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		var total int64
		for _, l := range m.Layers {
			got := g.Count(l.Name, Weight, Recurrent, Bias)
			if int64(got) != l.Params() {
				t.Errorf("%s (%s): %d edges, %d params", l.Name, l.Class, got, l.Params())
			}
			total += l.Params()
			if l.Params() == 0 && l.Class != "InputLayer" && !strings.Contains(g.DOT(), "then "+l.Name+" ("+l.Class+")") {
				t.Errorf("%s: the picture does not name %s", m.Name, l.Name)
			}
		}
		if total == 0 || int64(g.Count("", Weight, Recurrent, Bias)) != total {
			t.Errorf("%s: %d edges in all, want %d", m.Name, g.Count("", Weight, Recurrent, Bias), total)
		}
	}
	// The output of a drawn-through layer is the model's output.
	g, _ := Units(synthetic, UnitOptions{})
	if !strings.Contains(g.DOT(), "y1") {
		t.Errorf("the last Dense's units are not drawn as outputs")
	}
	reshape := sequential(t, "[null, 4]",
		layer("Dense", "d", `, "units": 4`),
		layer("Reshape", "r", `, "target_shape": [2, 2]`))
	if _, err := Units(reshape, UnitOptions{}); err == nil || !strings.Contains(err.Error(), "Reshape") {
		t.Errorf("Reshape: got %v, want a refusal naming the class", err)
	}
}

// TestPNGTooLarge checks that a picture past the PNG bounds is refused,
// naming its size, after the first layout and before any painting.
func TestPNGTooLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("digraph g {\n")
	for i := range 400 {
		fmt.Fprintf(&b, "n%d -> n%d;\n", i, i+1)
	}
	b.WriteString("}\n")
	_, err := Render(context.Background(), b.String(), "png")
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Height <= maxSide || !strings.Contains(err.Error(), "write SVG instead") {
		t.Fatalf("got %v, want a *TooLargeError taller than %d pixels", err, maxSide)
	}
	if _, err := Render(context.Background(), b.String(), "svg"); err != nil {
		t.Errorf("svg: %v", err)
	}
}
