// Package bind decides which stored tensor is which weight of which layer.
// It is the one place that knows how each Keras version lays weights out
// in a file:
//
//   - legacy .h5 from model.save (Keras 1, 2, 3 and tf.keras): the
//     layer_names list of /model_weights, and each layer's weight_names,
//     with a layer's trainable weights before its non-trainable ones;
//   - legacy .h5 from save_weights: the same lists at the root;
//   - Keras 3 stores (model.weights.h5 in a .keras archive, .weights.h5):
//     layers/<snake_case class>[_n]/vars/<i>, sublayers in groups named
//     after their attributes, nested models under their own layers/;
//   - tf.keras 2.13-2.14 stores, under _layer_checkpoint_dependencies/, and
//     stores written on Windows, whose group names hold backslashes;
//   - subclassed models' stores, whose groups are attribute names;
//   - optimizer state (optimizer_weights, optimizer/vars).
//
// The model is described to it (Layer), so that it depends on nothing of
// the config graph: [Bind] takes the description and a store and returns,
// for every layer, its weights by Keras name ("kernel",
// "recurrent_kernel", "gamma") with where each is stored, its shape,
// dtype and trainability, plus typed findings for stored tensors that
// belong to no layer and layer weights the file lacks.
//
// Data path: bytes -> store -> config graph (keras) -> binding (this
// package) -> layers -> run. It imports only package store; it must not
// import keras, summary or cmd.
package bind
