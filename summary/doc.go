// Package summary prints a model's summary exactly as Keras's
// model.summary() does, byte for byte, in either of Keras's two styles:
//
//   - [Keras3]: the rich table of Keras 3 (keras/src/utils/summary_utils.py),
//     box-drawn, with comma thousands separators and byte sizes in B/KB/MB;
//   - [Keras2]: the plain table of tf.keras 2.13+ and tf-keras
//     (tf_keras/src/utils/layer_utils.py), with sizes in Byte/KB/MB.
//
// The output depends only on the model and the options, never on the
// terminal: callers that want Keras's terminal-dependent default width
// compute it with [DefaultLineLength].
package summary
