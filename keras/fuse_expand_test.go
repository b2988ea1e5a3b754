package keras

import (
	"errors"
	"math"
	"testing"
)

// TestExpandDepthwiseMatchesUnfused runs the fixtures whose expanding 1×1
// convolutions fold into their depthwise readers (MobileNetV2's) with the
// fused loop, on inputs of any width, and without the fusion: the
// outputs must be the same bits, on one sample and on a batch.
func TestExpandDepthwiseMatchesUnfused(t *testing.T) {
	defer func(w int) { minExpandWidth = w }(minExpandWidth)
	minExpandWidth = 1
	fused := 0
	for _, fx := range predictFixtures(t) {
		net, err := Load(fx.path)
		if err != nil {
			var nr *NotRunnableError
			if errors.As(err, &nr) {
				continue
			}
			t.Fatal(err)
		}
		if net.plan == nil || net.plan.folded["Conv2D into DepthwiseConv2D"] == 0 {
			continue
		}
		fused++
		t.Run(fx.name, func(t *testing.T) {
			fuseExpandAtLoad = false
			plain, err := Load(fx.path)
			fuseExpandAtLoad = true
			if err != nil {
				t.Fatal(err)
			}
			if plain.plan.folded["Conv2D into DepthwiseConv2D"] != 0 {
				t.Fatal("fuseExpandAtLoad = false still fused")
			}
			var in []*Tensor
			for _, p := range fx.inputs {
				in = append(in, readNPYFile(t, p))
			}
			for _, n := range []int{1, 8} {
				var batch []*Tensor
				for _, x := range in {
					batch = append(batch, tileBatch(x, n))
				}
				got, err := net.Predict(batch...)
				if err != nil {
					t.Fatal(err)
				}
				want, err := plain.Predict(batch...)
				if err != nil {
					t.Fatal(err)
				}
				for i := range want {
					for j, v := range got[i].Data {
						if math.Float32bits(v) != math.Float32bits(want[i].Data[j]) {
							t.Fatalf("batch of %d, output %d, value %d: %v fused, %v not", n, i, j, v, want[i].Data[j])
						}
					}
				}
			}
		})
	}
	if fused == 0 {
		t.Error("no fixture has an expanding convolution fused into its depthwise reader")
	}
}
