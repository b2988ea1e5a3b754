package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A finding is one command a newcomer ran (issue 14) and what it must
// give: the exit code and a part of the first line of stderr, or of stdout
// when the command succeeds. The exact lines are in
// testdata/golden/findings.txt, from real runs (go test -update).
type finding struct {
	name   string
	args   []string // $MODELS, $BAD, $CORPUS and $TMP are replaced
	code   int
	first  string // part of the first stderr line (stdout's when stderr is empty)
	absent string // must appear in neither stream
	corpus bool   // needs ../shared/corpus
}

var findings = []finding{
	// Help and usage.
	{name: "weights help names LAYER", args: []string{"weights", "--help"}, code: 0, first: "Usage: kerascope weights [flags] FILE [LAYER...]"},
	{name: "help weights is the same", args: []string{"help", "weights"}, code: 0, first: "Usage: kerascope weights [flags] FILE [LAYER...]"},
	{name: "booleans without =true|false", args: []string{"summary", "--help"}, code: 0, first: "Usage: kerascope summary [flags] FILE", absent: "[=true|false]"},
	{name: "usage error hints the command's help", args: []string{"summary", "--colour", "$MODELS/rnn_1unit/k3.keras"}, code: 2, first: "unknown flag: --colour"},
	{name: "missing FILE", args: []string{"explain"}, code: 2, first: "explain: missing FILE"},
	{name: "unknown command hints help", args: []string{"sumary"}, code: 2, first: `unknown command "sumary"`},
	{name: "rankdir names every direction", args: []string{"graph", "--rankdir", "XY", "$MODELS/rnn_1unit/k3.keras"}, code: 2, first: "want TB, LR, BT or RL"},
	{name: "rankdir BT accepted", args: []string{"graph", "--rankdir", "BT", "$MODELS/rnn_1unit/k3.keras"}, code: 0, first: "digraph"},
	{name: "line length 10 is a usage error", args: []string{"summary", "--line-length", "10", "$MODELS/rnn_1unit/k3.keras"}, code: 2, first: "--line-length 10 is too narrow"},
	{name: "line length -5 is a usage error", args: []string{"summary", "--line-length", "-5", "$MODELS/rnn_1unit/k3.keras"}, code: 2, first: "--line-length -5 is too narrow"},
	{name: "help --man", args: []string{"help", "--man"}, code: 0, first: ".TH KERASCOPE 1"},
	{name: "completion needs a shell", args: []string{"completion"}, code: 2, first: "want one shell: bash, zsh or fish"},
	{name: "completion unknown shell", args: []string{"completion", "csh"}, code: 2, first: `unknown shell "csh"`},
	{name: "completion bash", args: []string{"completion", "bash"}, code: 0, first: "# bash completion for kerascope"},
	// Formats.
	{name: "predict -o p.xml refused", args: []string{"predict", "$MODELS/rnn_1unit/k3.keras", "-i", "$MODELS/rnn_1unit/input.npy", "-o", "$TMP/p.xml"}, code: 2, first: `unknown extension ".xml"`},
	{name: "predict --format decides", args: []string{"predict", "$MODELS/rnn_1unit/k3.keras", "-i", "$MODELS/rnn_1unit/input.npy", "-o", "$TMP/p.xml", "--format", "csv"}, code: 0},
	{name: "graph -o x.jpg refused", args: []string{"graph", "-o", "$TMP/x.jpg", "$MODELS/rnn_1unit/k3.keras"}, code: 2, first: `unknown extension ".jpg"`},
	// Messages.
	{name: "input count names the model", args: []string{"predict", "$MODELS/merge_fn/k3.keras", "-i", "$MODELS/merge_fn/input0.npy"}, code: 1, first: "merge_fn/k3.keras: the model takes 2 inputs"},
	{name: "truncated .keras", args: []string{"summary", "$TMP/truncated.keras"}, code: 1, first: "truncated or corrupt archive"},
	{name: "plain HDF5", args: []string{"weights", "$BAD/notkeras_plain.h5"}, code: 3, first: "not one Keras saved", absent: "model_config"},
	{name: "duplicate members", args: []string{"summary", "$BAD/bad_duplicate_member.keras"}, code: 3, first: "two members named"},
	{name: "one error, not 1 errors", args: []string{"check", "$BAD/bad_kernel_shape.keras"}, code: 1, first: "bad_kernel_shape.keras: keras-zip", absent: "1 errors"},
	{name: "parameters formatted alike", args: []string{"check", "--max-params", "1000", "$MODELS/bench_cnn/k3.keras"}, code: 1, first: "34,826 parameters", absent: "34826"},
	{name: "weights-only suggests weights", args: []string{"summary", "$CORPUS/SH2222222__machine_translation_app__model.weights.h5"}, code: 1, first: "run 'kerascope weights ", corpus: true},
	{name: "predict on weights-only suggests weights", args: []string{"predict", "$CORPUS/SH2222222__machine_translation_app__model.weights.h5", "-i", "x.npy"}, code: 1, first: "run 'kerascope weights ", corpus: true},
	{name: "one filter", args: []string{"explain", "$CORPUS/AbdallahElsayed73__Lane-Detection-task__unet.h5"}, code: 0, absent: "1 filters", corpus: true},
	{name: "one feature", args: []string{"explain", "$CORPUS/Niveditha79__Transformers_Model__transformer_model.keras"}, code: 0, absent: "1 features", corpus: true},
	{name: "one tensor, not 1 tensors", args: []string{"weights", "$MODELS/text_fn/k3.keras", "embedding"}, code: 0, first: "text_fn/k3.keras: keras-zip", absent: "1 tensors"},
	// Units through Dropout.
	{name: "units through Dropout", args: []string{"graph", "--units", "$MODELS/compiled_fn/k3.keras"}, code: 0, first: "digraph"},
	{name: "units refuse Reshape", args: []string{"graph", "--units", "$MODELS/core_seq/k3.keras"}, code: 1, first: "class Reshape"},
}

// TestFindings runs every finding of issue 14 and compares exit code,
// first lines and, for the golden file, the first line of each stream.
func TestFindings(t *testing.T) {
	tmp := t.TempDir()
	kerasFile, err := os.ReadFile(filepath.Join(modelsDir, "rnn_1unit", "k3.keras"))
	if err != nil {
		t.Fatal(err)
	}
	// A download cut short: the zip's start without its central directory.
	if err := os.WriteFile(filepath.Join(tmp, "truncated.keras"), kerasFile[:len(kerasFile)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	corpus := filepath.Join("..", "..", "..", "shared", "corpus", "files")
	_, corpusErr := os.Stat(corpus)
	var golden strings.Builder
	for _, f := range findings {
		args := make([]string, len(f.args))
		for i, a := range f.args {
			a = strings.ReplaceAll(a, "$MODELS", modelsDir)
			a = strings.ReplaceAll(a, "$BAD", badDir)
			a = strings.ReplaceAll(a, "$CORPUS", corpus)
			args[i] = strings.ReplaceAll(a, "$TMP", tmp)
		}
		var out, errb bytes.Buffer
		code := -1
		t.Run(f.name, func(t *testing.T) {
			if f.corpus && corpusErr != nil {
				t.Skipf("no corpus: %v", corpusErr)
			}
			code = run(args, &out, &errb)
			if code != f.code {
				t.Errorf("kerascope %s: exit %d, want %d; stderr %q", strings.Join(args, " "), code, f.code, errb.String())
			}
			first := firstLine(errb.String())
			if errb.Len() == 0 {
				first = firstLine(out.String())
			}
			if !strings.Contains(first, f.first) {
				t.Errorf("first line %q, want it to contain %q", first, f.first)
			}
			if f.absent != "" && (strings.Contains(out.String(), f.absent) || strings.Contains(errb.String(), f.absent)) {
				t.Errorf("output contains %q", f.absent)
			}
			if code != exitOK && out.Len() != 0 && errb.Len() != 0 {
				t.Errorf("exit %d with an error and output on stdout", code)
			}
			if code == exitUsage && !strings.HasPrefix(lastLine(errb.String()), "kerascope: hint: run 'kerascope ") {
				t.Errorf("usage error without a hint: %q", errb.String())
			}
		})
		if f.corpus {
			continue // the golden file must not depend on the corpus being there
		}
		fmt.Fprintf(&golden, "$ kerascope %s\nexit %d\n", strings.Join(f.args, " "), code)
		if errb.Len() > 0 {
			fmt.Fprintf(&golden, "stderr: %s\n", strings.ReplaceAll(strings.TrimSuffix(errb.String(), "\n"), "\n", "\nstderr: "))
		}
		if out.Len() > 0 {
			fmt.Fprintf(&golden, "stdout: %s\n", firstLine(out.String()))
			if last := lastLine(out.String()); last != firstLine(out.String()) {
				fmt.Fprintf(&golden, "stdout: ...\nstdout: %s\n", last)
			}
		}
		golden.WriteString("\n")
	}
	got := strings.ReplaceAll(golden.String(), tmp, "$TMP")
	if diff := checkGolden(t, filepath.Join("testdata", "golden", "findings.txt"), got); diff != "" {
		t.Error(diff)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}
