package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

// TestHelpConsistent checks every command's help against its flag set:
// `kerascope help C` and `kerascope C --help` print the same, on stdout,
// with every flag listed, booleans without a value, and the usage line the
// command list shows.
func TestHelpConsistent(t *testing.T) {
	var top bytes.Buffer
	if code := run([]string{"help"}, &top, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	for _, c := range commands {
		var a, b, errb bytes.Buffer
		if code := run([]string{"help", c.name}, &a, &errb); code != exitOK {
			t.Errorf("help %s: exit %d, %q", c.name, code, errb.String())
		}
		if code := run([]string{c.name, "--help"}, &b, &errb); code != exitOK {
			t.Errorf("%s --help: exit %d, %q", c.name, code, errb.String())
		}
		if a.String() != b.String() || errb.Len() != 0 {
			t.Errorf("%s: help and --help differ, or stderr is not empty:\n%s\n---\n%s\n---\n%s", c.name, a.String(), b.String(), errb.String())
		}
		if !strings.Contains(top.String(), "  "+c.name+" ") {
			t.Errorf("the command list lacks %s", c.name)
		}
		if strings.Contains(a.String(), "[=true|false]") || strings.Contains(a.String(), "[=") {
			t.Errorf("%s --help shows a flag's optional value:\n%s", c.name, a.String())
		}
		if c.flags == nil {
			continue
		}
		c.flags(nil).VisitAll(func(f *pflagFlag) {
			if !strings.Contains(a.String(), "--"+f.Name+" ") && !strings.Contains(a.String(), "--"+f.Name+"\n") {
				t.Errorf("%s --help does not list --%s", c.name, f.Name)
			}
		})
	}
}

// TestVersion checks that the version comes from the build information
// and names the Go version and both backends.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{"kerascope ", "go: " + runtime.Version() + " ", "hdf5: ", "blas: " + keras.BLAS()}
	if len(lines) != len(want) {
		t.Fatalf("version printed %q", out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q, want it to start with %q", i+1, lines[i], w)
		}
	}
	if strings.Contains(lines[0], "dev\n") || lines[0] == "kerascope dev" {
		t.Errorf("version %q is the old placeholder", lines[0])
	}
	// The build information decides, as go install and go build record it.
	for _, c := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "kerascope v1.2.3\n"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-03T05:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"kerascope devel 0123456789ab+dirty (2026-12-03T05:00:00Z)\n"},
		{&debug.BuildInfo{Deps: []*debug.Module{{Path: "gonum.org/v1/hdf5", Version: "v0.1"}}}, "hdf5: libhdf5 (C library, through cgo and gonum.org/v1/hdf5 v0.1)\n"},
		{&debug.BuildInfo{}, "hdf5: pure Go reader\n"},
	} {
		if got := versionText(c.info); !strings.Contains(got, c.want) {
			t.Errorf("versionText(%+v) = %q, want it to contain %q", c.info, got, c.want)
		}
	}
}

// TestManPage keeps docs/kerascope.1 equal to `kerascope help --man`
// (go test -update rewrites it) and, where groff is installed, free of
// roff warnings.
func TestManPage(t *testing.T) {
	page := manPage()
	if diff := checkGolden(t, filepath.Join("..", "..", "docs", "kerascope.1"), page); diff != "" {
		t.Error(diff)
	}
	for _, c := range commands {
		if !strings.Contains(page, `.SS "kerascope `+roffEscape(c.name)) {
			t.Errorf("the man page has no section for %s", c.name)
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff to check the roff")
	}
	cmd := exec.Command(groff, "-k", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
}

// TestCompletionBash loads the bash script and completes command lines as
// bash would.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "kerascope.bash")
	os.WriteFile(script, []byte(bashCompletion()), 0o644)
	os.WriteFile(filepath.Join(dir, "model.keras"), nil, 0o644)
	tests := []struct {
		words []string // the command line, the last word being completed
		want  string   // COMPREPLY, sorted, space-separated
	}{
		{[]string{"kerascope", "su"}, "summary"},
		{[]string{"kerascope", "c"}, "check completion"},
		{[]string{"kerascope", "summary", "--st"}, "--style"},
		{[]string{"kerascope", "summary", "--style", ""}, "keras2 keras3"},
		{[]string{"kerascope", "graph", "--rankdir", "B"}, "BT"},
		{[]string{"kerascope", "graph", "--format", "s"}, "svg"},
		{[]string{"kerascope", "predict", "--input-"}, "--input-format"},
		{[]string{"kerascope", "weights", "mod"}, "model.keras"},
		{[]string{"kerascope", "predict", "-o", "mod"}, "model.keras"},
		{[]string{"kerascope", "completion", "z"}, "zsh"},
		{[]string{"kerascope", "help", "ex"}, "explain"},
		{[]string{"kerascope", "summary", "--line-length", ""}, ""},
	}
	for _, tt := range tests {
		quoted := make([]string, len(tt.words))
		for i, w := range tt.words {
			quoted[i] = shellQuote(w)
			if w == "" {
				quoted[i] = "''"
			}
		}
		prog := `source "$1"; COMP_WORDS=(` + strings.Join(quoted, " ") + `); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _kerascope; printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '`
		cmd := exec.Command(bash, "-c", prog, "bash", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.words, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tt.want {
			t.Errorf("completing %q: got %q, want %q", tt.words, got, tt.want)
		}
	}
}

// TestCompletionSyntax has zsh and fish, where installed, parse their
// scripts.
func TestCompletionSyntax(t *testing.T) {
	for _, c := range []struct {
		shell  string
		script string
		args   []string
	}{
		{"zsh", zshCompletion(), []string{"-n"}},
		{"fish", fishCompletion(), []string{"--no-execute"}},
		{"bash", bashCompletion(), []string{"-n"}},
	} {
		t.Run(c.shell, func(t *testing.T) {
			sh, err := exec.LookPath(c.shell)
			if err != nil {
				t.Skipf("no %s", c.shell)
			}
			f := filepath.Join(t.TempDir(), "completion")
			os.WriteFile(f, []byte(c.script), 0o644)
			out, err := exec.Command(sh, append(c.args, f)...).CombinedOutput()
			if err != nil || len(out) != 0 {
				t.Errorf("%s: %v\n%s", c.shell, err, out)
			}
			for _, cmd := range commands {
				if !strings.Contains(c.script, cmd.name) {
					t.Errorf("the %s script does not complete %s", c.shell, cmd.name)
				}
			}
		})
	}
}

// TestCompletionZsh runs the zsh script's completion function with a stub
// _arguments and _describe, which record what they were given.
func TestCompletionZsh(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("no zsh")
	}
	f := filepath.Join(t.TempDir(), "_kerascope")
	os.WriteFile(f, []byte(zshCompletion()), 0o644)
	prog := `compdef() { :; }
_arguments() { printf '%s\n' "$@"; }
_describe() { print -l -- "${(@P)4}"; }
source "$1"
eval "words=(kerascope $2)"
CURRENT=$3
_kerascope`
	for _, c := range []struct {
		line, current, want string
	}{
		{"''", "2", "summary:print model.summary() as Keras prints it"},
		{"summary ''", "3", "--style=[summary style\\: keras3 or keras2 (default\\: the style of the Keras that saved the file)]:style:(keras3 keras2)"},
		{"predict ''", "3", "(-o --output)--output=[write to FILE instead of stdout; {name} in it is replaced by each output's name]:file:_files"},
		{"summary ''", "3", `*:model file:_files -g "*.(h5|hdf5|keras)(-.)"`},
	} {
		out, err := exec.Command(zsh, "-f", "-c", prog, "zsh", f, c.line, c.current).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.line, err, out)
		}
		if !strings.Contains(string(out)+"\n", c.want+"\n") {
			t.Errorf("completing %q: output lacks %q:\n%s", c.line, c.want, out)
		}
	}
}

// TestCompletionFish completes command lines with fish's own completer.
func TestCompletionFish(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("no fish")
	}
	f := filepath.Join(t.TempDir(), "kerascope.fish")
	os.WriteFile(f, []byte(fishCompletion()), 0o644)
	for _, c := range []struct{ line, want string }{
		{"kerascope su", "summary"},
		{"kerascope summary --st", "--style"},
		{"kerascope summary --style ", "keras2 keras3"},
		{"kerascope graph --rankdir ", "BT LR RL TB"},
		{"kerascope completion ", "bash fish zsh"},
	} {
		out, err := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C "$argv[2]" | string replace -r '\t.*' '' | sort`, f, c.line).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", c.line, err, out)
		}
		if got := strings.Join(strings.Fields(string(out)), " "); got != c.want {
			t.Errorf("completing %q: got %q, want %q", c.line, got, c.want)
		}
	}
}
