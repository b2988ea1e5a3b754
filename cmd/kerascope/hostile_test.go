package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hostileDir holds mutated models that crashed, hung or exhausted the
// libhdf5-based reader (see its README); absent on most machines.
const hostileDir = "../../../shared/hostile"

// hostileModels returns the model files (.h5, .keras) of hostileDir as
// absolute paths, and skips the test when there are none.
func hostileModels(t *testing.T) []string {
	t.Helper()
	dir, err := filepath.Abs(hostileDir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var models []string
	for _, f := range files {
		if strings.HasSuffix(f, ".h5") || strings.HasSuffix(f, ".keras") {
			models = append(models, f)
		}
	}
	if len(models) == 0 {
		t.Skipf("%s absent or without models", hostileDir)
	}
	return models
}

// TestHostileCLI runs check, weights and summary on every model file of
// hostileDir. Every run must refuse the file: exit 1 or 3, with one line
// on stderr naming the file (check may instead report failed checks on
// stdout, exit 1). The damage may lie where a command does not look (a
// summary reads no weights, and one file is damaged only in an attribute
// kerascope never uses): the whole-file verification that opening does
// (h5.File.Verify) refuses those too. Each run must also end (a hang
// guard, not a timing; the slowest run is logged), allocate at most 200
// MB and leave nothing in $TMPDIR.
func TestHostileCLI(t *testing.T) {
	models := hostileModels(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var slowest time.Duration
	var slowestRun string
	var failedChecks int
	for _, path := range models {
		for _, cmd := range []string{"check", "weights", "summary"} {
			t.Run(cmd+"/"+filepath.Base(path), func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				type result struct {
					code     int
					out, err string
				}
				done := make(chan result, 1)
				go func() {
					var out, errb bytes.Buffer
					code := run([]string{cmd, path}, &out, &errb)
					done <- result{code, out.String(), errb.String()}
				}()
				var r result
				select {
				case r = <-done:
				case <-time.After(30 * time.Second): // a hang, not a slow machine
					t.Fatalf("still running after 30 s")
				}
				if d := time.Since(start); d > slowest {
					slowest, slowestRun = d, cmd+" "+filepath.Base(path)
				}
				runtime.ReadMemStats(&after)
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
					t.Errorf("allocated %d MB", alloc>>20)
				}
				switch {
				case r.code != exitError && r.code != exitNotKeras:
					t.Errorf("exit %d, want %d or %d; stdout %.300q, stderr %.300q", r.code, exitError, exitNotKeras, r.out, r.err)
				case r.code == exitError && cmd == "check" && r.err == "" && r.out != "":
					failedChecks++ // the report is on stdout
				default:
					lines := strings.Split(strings.TrimSuffix(r.err, "\n"), "\n")
					if len(lines) != 1 || !strings.Contains(lines[0], path) || len(lines[0]) > 400 {
						t.Errorf("stderr is not one line naming the file: %q", r.err)
					}
					if r.out != "" {
						t.Errorf("refused, but wrote to stdout: %.300q", r.out)
					}
				}
				if left, _ := os.ReadDir(tmp); len(left) > 0 {
					t.Errorf("left in $TMPDIR: %v", left)
				}
			})
		}
	}
	t.Logf("%d runs, all refused (%d as failed checks on stdout); slowest %v (%s)",
		3*len(models), failedChecks, slowest, slowestRun)
}

// repeating yields its pattern without end, as /dev/zero does.
type repeating struct{ pattern []byte }

func (r repeating) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.pattern[i%len(r.pattern)]
	}
	return len(p), nil
}

// TestPredictEndlessInput feeds predict, on stdin, streams that go on past
// anything the model can use (issue 12, item 6): an npy header declaring
// 1.5e8 floats followed by endless zeros (../shared/hostile's
// stdin_hdr_1p5e8.npy when present, else the same header made here), a
// CSV row of endless values, a JSON number of a million digits. Each must
// be refused with exit 1 and one line naming <stdin>, at most 200
// characters, and allocate at most 200 MB however much the stream holds.
func TestPredictEndlessInput(t *testing.T) {
	const model = "../../testdata/models/rnn_seq/k3.keras" // input (None, 4, 3)
	npyHeader, err := os.ReadFile(filepath.Join(hostileDir, "stdin_hdr_1p5e8.npy"))
	if err != nil {
		dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (150000000, 4, 3), }"
		dict += strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
		npyHeader = append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), 0)
		npyHeader = append(npyHeader, dict...)
	}
	tests := []struct {
		name, format string
		in           io.Reader
		want         string
	}{
		{"npy header 1.5e8 then zeros", "npy", io.MultiReader(bytes.NewReader(npyHeader), repeating{[]byte{0}}), "more than the 16777212 values"},
		{"csv row without end", "csv", repeating{[]byte("1,")}, "line 1 has more than the 12 values"},
		{"json number of a million digits", "json", strings.NewReader("[" + strings.Repeat("1", 1_000_000) + "]"), "longer than 64 characters"},
		{"json number without end", "json", io.MultiReader(strings.NewReader("[[[1, 2, 3], [4"), repeating{[]byte("4")}), "longer than 64 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, errOut, code := runCLI(t, tt.in, "predict", model, "--input", "-", "--input-format", tt.format)
			runtime.ReadMemStats(&after)
			if code != exitError || out != "" {
				t.Errorf("exit %d, stdout %.200q; want exit %d and no output", code, out, exitError)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "<stdin>") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %.300q, want one line naming <stdin> containing %q", errOut, tt.want)
			}
			if n := len(lines[0]); n > 200 {
				t.Errorf("error line of %d characters: %.300s", n, lines[0])
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
				t.Errorf("allocated %d MB", alloc>>20)
			}
			t.Logf("%s (allocated %d KiB)", lines[0], (after.TotalAlloc-before.TotalAlloc)>>10)
		})
	}
}
