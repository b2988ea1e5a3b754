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

// usageError marks errors in the command line itself.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

const usage = `kerascope inspects saved Keras models (.h5, .keras) without Python.

Usage:
  kerascope summary [flags] FILE   print model.summary() as Keras prints it
  kerascope check [flags] FILE     validate the weights against the architecture (CI)
  kerascope graph [flags] FILE     draw the layer graph, or every unit and weight (--units)
  kerascope explain [flags] FILE   show the arithmetic behind each layer's parameter count
  kerascope predict [flags] FILE --input PATH...
                                   run the model on inputs (.npy, JSON, CSV)
  kerascope weights [flags] FILE [LAYER...]
                                   list every stored tensor with its statistics
  kerascope serve [flags] --model NAME=PATH...
                                   serve models over TensorFlow Serving's REST API
  kerascope version                print the version
  kerascope help [COMMAND]         show help

Run 'kerascope help summary' for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole command line tool; main only exits with its result.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "summary":
		err = runSummary(rest, stdout, stderr)
	case "weights":
		err = runWeights(rest, stdout, stderr)
	case "check":
		err = runCheck(rest, stdout, stderr)
	case "graph":
		err = runGraph(rest, stdout, stderr)
	case "explain":
		err = runExplain(rest, stdout, stderr)
	case "predict":
		err = runPredict(rest, stdout, stderr)
	case "serve":
		err = runServe(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "kerascope %s\n", version)
	case "help", "-h", "--help":
		err = runHelp(rest, stdout)
	default:
		err = usagef("unknown command %q", cmd)
	}
	return report(err, stderr)
}

// silentError ends a command with an exit code after the command has
// printed everything itself (a failed check prints its report).
type silentError struct{ code int }

func (e *silentError) Error() string { return "check failed" }

// report prints err as one line and picks the exit code.
func report(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
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
		fmt.Fprintf(stderr, "kerascope: hint: run 'kerascope help' for usage\n")
		return exitUsage
	case errors.Is(err, keras.ErrNotKeras):
		return exitNotKeras
	}
	return exitError
}

// commandHelp gives, per command, its usage line, its description and its
// flags, for `kerascope help COMMAND`.
var commandHelp = map[string]struct {
	usage, help string
	flags       func(io.Writer) *pflag.FlagSet
}{
	"summary": {"summary [flags] FILE", summaryHelp, func(w io.Writer) *pflag.FlagSet { fs, _ := summaryFlags(w); return fs }},
	"check":   {"check [flags] FILE", checkHelp, func(w io.Writer) *pflag.FlagSet { fs, _ := checkFlags(w); return fs }},
	"explain": {"explain [flags] FILE", explainHelp, func(w io.Writer) *pflag.FlagSet { fs, _ := explainFlags(w); return fs }},
	"graph":   {"graph [flags] FILE", graphHelp, func(w io.Writer) *pflag.FlagSet { fs, _ := graphFlags(w); return fs }},
	"weights": {"weights [flags] FILE [LAYER...]", weightsHelp, func(w io.Writer) *pflag.FlagSet { fs, _ := weightsFlags(w); return fs }},
	"predict": {"predict [flags] FILE --input PATH...", predictHelp, func(w io.Writer) *pflag.FlagSet { fs, _ := predictFlags(w); return fs }},
	"serve":   {"serve [flags] --model NAME=PATH... | --model-base-path DIR", serveHelp, func(w io.Writer) *pflag.FlagSet { fs, _ := serveFlags(w); return fs }},
}

func runHelp(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	c, ok := commandHelp[args[0]]
	if !ok {
		return usagef("no help for %q", args[0])
	}
	fmt.Fprintf(stdout, "Usage: kerascope %s\n\n%s\n\nFlags:\n%s", c.usage, c.help, c.flags(stdout).FlagUsages())
	return nil
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

// flagError turns a flag parsing error into a usage error, or prints the
// command's flags for --help.
func flagError(fs *pflag.FlagSet, err error) error {
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintf(fs.Output(), "Usage: kerascope %s [flags] FILE\n\nFlags:\n%s", fs.Name(), fs.FlagUsages())
		return err
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
