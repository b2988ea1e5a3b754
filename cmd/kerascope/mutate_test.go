package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mutantsEnv sets how many mutants TestMutants makes of each file; unset,
// the test skips (make mutate sets it to 1000).
const mutantsEnv = "KERASCOPE_MUTANTS"

// mutateSources are the files TestMutants corrupts: three legacy .h5 and
// three .keras, whose model.weights.h5 member is mutated and re-zipped.
var mutateSources = []string{
	"rnn_seq/k3.h5", "conv2d_seq/tfk.h5", "bidir_modes_fn/k3.h5",
	"rnn_seq/k3.keras", "conv2d_seq/k3.keras", "bidir_modes_fn/k3.keras",
}

// TestMutants runs check, weights and summary on random byte mutations of
// real fixtures, as the fault-injection run of issue 12 did. Every run must
// end within 2 s (a hang guard: the runs take milliseconds), allocate at
// most 200 MB, and fail, if it fails, with one stderr line or a check
// report. A panic is recovered here, reported as a crash and the mutant
// kept in the original $TMPDIR for reproduction.
func TestMutants(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(mutantsEnv))
	if n <= 0 {
		t.Skipf("set %s to the number of mutants per file (make mutate)", mutantsEnv)
	}
	dir := t.TempDir()
	keepDir = os.TempDir() // before $TMPDIR changes, so kept mutants are not "left behind"
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var runs, failed, slow, crashes int
	refused := map[string]int{} // per command: mutants refused (exit != 0)
	var worst time.Duration
	var worstAlloc uint64
	for si, src := range mutateSources {
		orig, err := os.ReadFile(filepath.Join(modelsDir, src))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(si), 12))
		for i := range n {
			name := fmt.Sprintf("%s_%04d%s", strings.ReplaceAll(strings.TrimSuffix(src, filepath.Ext(src)), "/", "_"), i, filepath.Ext(src))
			path := filepath.Join(dir, name)
			var b []byte
			if strings.HasSuffix(src, ".keras") {
				b = mutateMember(t, orig, rng)
			} else {
				b = mutate(orig, rng)
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"check", "weights", "summary"} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				done := make(chan [2]string, 1)
				var code int
				go func() {
					defer func() {
						if r := recover(); r != nil {
							// A crash: counted, kept, and the run goes on.
							code = -1
							done <- [2]string{"", fmt.Sprintf("panic: %v\n", r)}
						}
					}()
					var out, errb bytes.Buffer
					code = run([]string{cmd, path}, &out, &errb)
					done <- [2]string{out.String(), errb.String()}
				}()
				var res [2]string
				select {
				case res = <-done:
				case <-time.After(2 * time.Second):
					t.Fatalf("%s %s: still running after 2 s (mutant kept in %s)", cmd, name, keep(t, name, b))
				}
				el := time.Since(start)
				runtime.ReadMemStats(&after)
				runs++
				worst = max(worst, el)
				alloc := after.TotalAlloc - before.TotalAlloc
				worstAlloc = max(worstAlloc, alloc)
				if el > time.Second {
					slow++
				}
				if alloc > 200<<20 {
					t.Errorf("%s %s: allocated %d MB (mutant kept in %s)", cmd, name, alloc>>20, keep(t, name, b))
				}
				if code == -1 {
					crashes++
					t.Errorf("%s %s: %s(mutant kept in %s)", cmd, name, res[1], keep(t, name, b))
					continue
				}
				if code != 0 {
					failed++
					refused[cmd]++
				}
				lines := strings.Count(res[1], "\n")
				switch {
				case code == 0 && res[1] != "":
					t.Errorf("%s %s: exit 0 with stderr %q", cmd, name, res[1])
				case code != 0 && !(lines == 1 || (cmd == "check" && code == exitError && lines == 0)):
					t.Errorf("%s %s: exit %d with stderr %q", cmd, name, code, res[1])
				case code != 0 && code != exitError && code != exitNotKeras:
					t.Errorf("%s %s: exit %d", cmd, name, code)
				}
			}
			os.Remove(path)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left in $TMPDIR: %d files", len(left))
	}
	t.Logf("%d runs on %d mutants: %d failed cleanly, %d crashes, %d over 1 s, slowest %v, most allocated %.1f MB",
		runs, n*len(mutateSources), failed, crashes, slow, worst.Round(time.Millisecond), float64(worstAlloc)/(1<<20))
	for _, cmd := range []string{"check", "weights", "summary"} {
		t.Logf("%s: refused %d mutants, accepted %d", cmd, refused[cmd], n*len(mutateSources)-refused[cmd])
	}
}

var keepDir string

// keep copies a failing mutant where it outlives the test.
func keep(t *testing.T, name string, b []byte) string {
	p := filepath.Join(keepDir, "kerascope-mutant-"+name)
	os.WriteFile(p, b, 0o600)
	return p
}

// mutate returns a copy of b with 1 to 8 mutations: a flipped bit, a
// random byte, or a 1-, 2-, 4- or 8-byte field set to a boundary value.
func mutate(b []byte, rng *rand.Rand) []byte {
	m := bytes.Clone(b)
	for range 1 + rng.IntN(8) {
		i := rng.IntN(len(m))
		switch rng.IntN(4) {
		case 0:
			m[i] ^= 1 << rng.IntN(8)
		case 1:
			m[i] = byte(rng.IntN(256))
		default:
			vals := []uint64{0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 1 << 31, 1 << 40, ^uint64(0)}
			v := vals[rng.IntN(len(vals))]
			w := []int{1, 2, 4, 8}[rng.IntN(4)]
			if i+w > len(m) {
				continue
			}
			var buf [8]byte
			binary.LittleEndian.PutUint64(buf[:], v)
			copy(m[i:i+w], buf[:w])
		}
	}
	return m
}

// mutateMember mutates the model.weights.h5 of a .keras archive and zips
// it again, stored, with a valid CRC, so the mutation reaches the reader.
func mutateMember(t *testing.T, archive []byte, rng *rand.Rand) []byte {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "model.weights.h5" {
			b = mutate(b, rng)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
