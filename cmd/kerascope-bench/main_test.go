package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras/tensor"
)

// TestProtocol drives the worker as bench_keras.py does and checks each
// reply is one JSON line of the promised form.
func TestProtocol(t *testing.T) {
	dir := "../../testdata/models/rnn_1unit/"
	var out bytes.Buffer
	dump := filepath.Join(t.TempDir(), "out.npy")
	in := strings.NewReader("single 3\nbatch 2\nrss\ndump " + dump + "\nquit\nsingle 1\n")
	if err := run(dir+"k3.keras", dir+"input.npy", 5, in, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d reply lines, want 4 (nothing after quit):\n%s", len(lines), out.String())
	}
	for i, want := range []int{3, 2} {
		var r struct{ NS []int64 }
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil || len(r.NS) != want {
			t.Errorf("reply %d = %q, want %d timings", i, lines[i], want)
		}
		for _, ns := range r.NS {
			if ns <= 0 {
				t.Errorf("reply %d: timing %d", i, ns)
			}
		}
	}
	var rss struct {
		MaxRSS int64 `json:"maxrss_kb"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &rss); err != nil || rss.MaxRSS <= 0 {
		t.Errorf("rss reply %q", lines[2])
	}
	// The dump holds the batch's output: 5 samples of rnn_1unit's one unit.
	f, err := os.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	y, err := tensor.ReadNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(y.Shape) != 2 || y.Shape[0] != 5 || y.Shape[1] != 1 {
		t.Errorf("dumped output has shape %v, want [5 1]", y.Shape)
	}
}

func TestBadCommand(t *testing.T) {
	dir := "../../testdata/models/rnn_1unit/"
	for _, cmd := range []string{"jump\n", "single x\n", "batch 0\n", "dump\n"} {
		if err := run(dir+"k3.keras", dir+"input.npy", 64, strings.NewReader(cmd), &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", cmd)
		}
	}
}
