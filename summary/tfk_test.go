package summary_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/summary"
)

// tfkDir holds the files tf.keras 2.13, tf.keras 2.15 and tf-keras 2.21
// wrote (testdata/gen/gen_tf2.py), each with the summary that Keras
// printed after loading it back.
const tfkDir = "../testdata/tfk"

// TestWriteMatchesTFKeras renders every such file in the Keras 2 style
// and compares it byte for byte with what that tf.keras printed.
func TestWriteMatchesTFKeras(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(tfkDir, "*", "*.tfk.summary.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captured summaries under %s: %v", tfkDir, err)
	}
	for _, p := range paths {
		t.Run(strings.TrimPrefix(p, tfkDir+"/"), func(t *testing.T) {
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			file := strings.TrimSuffix(p, ".tfk.summary.txt")
			if got := render(t, file, summary.Options{Style: summary.Keras2}); got != string(want) {
				t.Errorf("differs from Keras's summary %s\n--- got\n%s--- want\n%s", p, got, want)
			}
		})
	}
}
