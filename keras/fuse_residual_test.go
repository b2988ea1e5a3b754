package keras

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestResidualMatchesUnfused runs the fixtures whose residual Adds fold
// into one of their convolutions (MobileNetV2's, the inverted residual
// fixture's) with the fused product and without: the outputs must be the
// same bits, on one sample and on a batch.
func TestResidualMatchesUnfused(t *testing.T) {
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
		if net.plan == nil || residualFolds(net) == 0 {
			continue
		}
		fused++
		t.Run(fx.name, func(t *testing.T) {
			fuseResidualAtLoad = false
			plain, err := Load(fx.path)
			fuseResidualAtLoad = true
			if err != nil {
				t.Fatal(err)
			}
			if residualFolds(plain) != 0 {
				t.Fatal("fuseResidualAtLoad = false still fused")
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
		t.Error("no fixture has a residual Add fused into a convolution")
	}
}

func residualFolds(net *Net) int {
	n := 0
	for class, k := range net.plan.folded {
		if strings.HasSuffix(class, " into Add") {
			n += k
		}
	}
	return n
}
