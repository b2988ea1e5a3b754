// Package graph draws a Keras model as a graph, in two views.
//
// The layer view ([Layers]) is the picture keras.utils.plot_model draws
// (keras/src/utils/model_visualization.py): one box per layer with its
// name, class, activation, input and output shapes and trainable flag, and
// one edge per connection, taken from the calls (nodes) of the model's
// graph so that shared layers and several inputs or outputs read as they
// do in Keras. Nested models are one box, or a dashed cluster of their own
// layers when expanded.
//
// The unit view ([Units]) is the picture that makes a small network's
// parameter count obvious: every input unit, hidden unit and bias, and one
// edge per weight. Edges plus bias edges add up to the layer's "Param #",
// and each layer's cluster says so. Recurrent layers show the previous
// step's hidden state as nodes of their own, with the recurrent weights
// drawn dashed and red; LSTM and GRU show one block per gate. With
// UnitOptions.Unroll a recurrent layer is drawn once per time step, which
// shows what return_sequences changes.
//
// A [Graph] is plain data (the tests count its edges) that writes itself as
// Graphviz DOT ([Graph.DOT]) or Mermaid ([Graph.Mermaid]). [Render] lays a
// DOT graph out with Graphviz compiled to WebAssembly (go-graphviz, no cgo,
// no system Graphviz) and returns SVG, or PNG drawn by this package from
// Graphviz's xdot drawing operations with the embedded Go fonts, so that
// the image does not depend on the fonts installed on the machine.
package graph
