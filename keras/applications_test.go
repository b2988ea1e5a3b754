package keras

import (
	"path/filepath"
	"testing"
)

// TestApplicationsH5KerasCannotLoad: Keras 3 cannot load the .h5 it
// wrote for MobileNetV3 (ops given constants: "Only input tensors may be
// passed as positional arguments") nor for ConvNeXt and InceptionResNetV2
// (LayerScale and CustomScaleLayer are not registered for legacy
// loading), so those files have no outputs of their
// own. They hold the same model and weights as the k3.keras beside them,
// saved by the same process, so Keras's predictions from the .keras are
// the oracle for the .h5 too.
func TestApplicationsH5KerasCannotLoad(t *testing.T) {
	for _, model := range []string{"app_mobilenetv3_fn", "app_convnext_fn", "app_inception_resnet_fn"} {
		t.Run(model, func(t *testing.T) {
			dir := filepath.Join(modelsDir, model)
			net, err := Load(filepath.Join(dir, "k3.h5"))
			if err != nil {
				t.Fatal(err)
			}
			in := readNPYFile(t, filepath.Join(dir, "input.npy"))
			want := readNPYFile(t, filepath.Join(dir, "k3.keras.output.npy"))
			out, err := net.Predict(in)
			if err != nil {
				t.Fatal(err)
			}
			if shapeString(out[0].Shape) != shapeString(want.Shape) {
				t.Fatalf("output shape %v, want %v", out[0].Shape, want.Shape)
			}
			if maxAbs, maxRel, bad := errorStats(out[0].Data, want.Data); bad > 0 {
				t.Errorf("%d of %d values out of tolerance: max abs %.3g, max rel %.3g", bad, len(want.Data), maxAbs, maxRel)
			}
		})
	}
}
