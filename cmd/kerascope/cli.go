package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kerascope/kerascope/keras"
	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitNotKeras = 3
)

// usageError marks errors in the command line itself. cmd names the
// command whose help the hint points to ("" for the top level).
type usageError struct{ msg, cmd string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// helpRequest is what parsing -h or --help gives: the command's help,
// printed on stdout with exit code 0, as gh and go do.
type helpRequest struct{ cmd string }

func (e *helpRequest) Error() string { return e.cmd + ": help requested" }

// version is the version this binary reports; a release build may set it
// with -ldflags "-X main.version=v1.2.3", else it comes from the build
// information (see version.go).
var version = ""

// run is the whole command line tool; main only exits with its result.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
		return exitUsage
	}
	var err error
	switch name, rest := args[0], args[1:]; name {
	case "-h", "--help":
		err = runHelp(rest, stdout, stderr)
	case "--version":
		err = runVersion(rest, stdout, stderr)
	default:
		c := lookup(name)
		if c == nil {
			err = usagef("unknown command %q", name)
			break
		}
		err = c.run(rest, stdout, stderr)
		var ue *usageError
		if errors.As(err, &ue) && ue.cmd == "" && c.name != "help" {
			ue.cmd = c.name
		}
	}
	return report(err, stdout, stderr)
}

// silentError ends a command with an exit code after the command has
// printed everything itself (a failed check prints its report).
type silentError struct{ code int }

func (e *silentError) Error() string { return "check failed" }

// report prints err as one line and picks the exit code. A usage error
// gets a second line: where to read the usage.
func report(err error, stdout, stderr io.Writer) int {
	var hr *helpRequest
	if errors.As(err, &hr) {
		if _, err := io.WriteString(stdout, commandUsage(lookup(hr.cmd))); err != nil {
			return exitError
		}
		return exitOK
	}
	if err == nil {
		return exitOK
	}
	var se *silentError
	if errors.As(err, &se) {
		return se.code
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintf(stderr, "kerascope: error: %s\n", msg)
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		if ue.cmd != "" {
			fmt.Fprintf(stderr, "kerascope: hint: run 'kerascope %s --help' for usage\n", ue.cmd)
		} else {
			fmt.Fprintf(stderr, "kerascope: hint: run 'kerascope help' for usage\n")
		}
		return exitUsage
	case errors.Is(err, keras.ErrNotKeras):
		return exitNotKeras
	}
	return exitError
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.Usage = func() {}
	return fs
}

type pflagSet = pflag.FlagSet

// flagError turns a flag parsing error into a usage error, or -h and
// --help into a request for the command's help.
func flagError(fs *pflag.FlagSet, err error) error {
	if errors.Is(err, pflag.ErrHelp) {
		return &helpRequest{cmd: fs.Name()}
	}
	return usagef("%s: %v", fs.Name(), err)
}

// parseFlags parses args and wants exactly one file argument.
func parseFlags(fs *pflag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", flagError(fs, err)
	}
	switch fs.NArg() {
	case 0:
		return "", usagef("%s: missing FILE", fs.Name())
	case 1:
		return fs.Arg(0), nil
	}
	return "", usagef("%s: want one FILE, got %d arguments", fs.Name(), fs.NArg())
}

// terminalColumns returns the width Python's shutil.get_terminal_size
// reports, which Keras 3 uses for its default summary width: $COLUMNS if
// set, else the terminal's width, else 80.
func terminalColumns(stdout io.Writer) int {
	if c := os.Getenv("COLUMNS"); c != "" {
		var n int
		if _, err := fmt.Sscanf(c, "%d", &n); err == nil && n > 0 {
			return n
		}
	}
	if f, ok := stdout.(*os.File); ok {
		if w, ok := termWidth(f); ok {
			return w
		}
	}
	return 80
}

// writeOutput renders a command's result completely before writing it, so a
// failure never leaves partial output: v as indented JSON, or as text.
func writeOutput(stdout io.Writer, asJSON bool, v any, text func(io.Writer)) error {
	var buf bytes.Buffer
	if asJSON {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		text(&buf)
	}
	_, err := stdout.Write(buf.Bytes())
	return err
}

// openModel opens a model file for a command that needs its architecture;
// for a weights-only file it says which command reads those.
func openModel(path string) (*keras.File, error) {
	f, err := keras.Open(path)
	if err != nil {
		if errors.Is(err, keras.ErrNoArchitecture) {
			f.Close()
		}
		return nil, weightsHint(err, path)
	}
	return f, nil
}

// weightsHint adds to an error about a weights-only file the command that
// reads those.
func weightsHint(err error, path string) error {
	if errors.Is(err, keras.ErrNoArchitecture) {
		return fmt.Errorf("%w; run 'kerascope weights %s' to list its weights", err, shellQuote(path))
	}
	return err
}

// shellQuote quotes s for a POSIX shell when it needs quoting, so that a
// hint can be pasted as it is.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+,:@%=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

type pflagFlag = pflag.Flag
