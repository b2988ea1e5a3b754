package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// A command is one subcommand. The table of them is the single source of
// the top-level usage, each command's --help, the shell completions and
// the man page, so that none of them can drift from the others.
type command struct {
	name  string
	args  string // what follows the command name in its usage line
	short string // one line, for the command list
	long  string // the help text
	// flags returns the command's flag set (nil for commands without
	// flags), writing to out.
	flags func(out io.Writer) *pflag.FlagSet
	// values lists the words a flag accepts, for completion.
	values map[string][]string
	// files is the extensions completion offers for the command's file
	// arguments ("" for none: no file argument).
	files string
	run   func(args []string, stdout, stderr io.Writer) error
}

// commands is filled in init: the help command reads the table itself.
var commands []*command

func init() {
	commands = []*command{
		{name: "summary", args: "[flags] FILE", short: "print model.summary() as Keras prints it", long: summaryHelp,
			flags:  func(w io.Writer) *pflag.FlagSet { fs, _ := summaryFlags(w); return fs },
			values: map[string][]string{"style": {"keras3", "keras2"}}, files: modelExts, run: runSummary},
		{name: "check", args: "[flags] FILE", short: "validate the weights against the architecture (CI)", long: checkHelp,
			flags: func(w io.Writer) *pflag.FlagSet { fs, _ := checkFlags(w); return fs }, files: modelExts, run: runCheck},
		{name: "weights", args: "[flags] FILE [LAYER...]", short: "list every stored tensor with its statistics", long: weightsHelp,
			flags: func(w io.Writer) *pflag.FlagSet { fs, _ := weightsFlags(w); return fs }, files: modelExts, run: runWeights},
		{name: "explain", args: "[flags] FILE", short: "show the arithmetic behind each layer's parameter count", long: explainHelp,
			flags: func(w io.Writer) *pflag.FlagSet { fs, _ := explainFlags(w); return fs }, files: modelExts, run: runExplain},
		{name: "graph", args: "[flags] FILE", short: "draw the layer graph, or every unit and weight (--units)", long: graphHelp,
			flags:  func(w io.Writer) *pflag.FlagSet { fs, _ := graphFlags(w); return fs },
			values: map[string][]string{"format": graphFormats, "rankdir": rankDirs}, files: modelExts, run: runGraph},
		{name: "predict", args: "[flags] FILE --input PATH...", short: "run the model natively on inputs (.npy, JSON, CSV)", long: predictHelp,
			flags:  func(w io.Writer) *pflag.FlagSet { fs, _ := predictFlags(w); return fs },
			values: map[string][]string{"format": tensorFormats, "input-format": tensorFormats}, files: modelExts, run: runPredict},
		serveCommand(),
		{name: "web", args: "[--addr HOST:PORT]", short: "open models in the browser: summary, graph, units, check, predict", long: webHelp,
			flags: func(w io.Writer) *pflag.FlagSet { fs, _ := webFlags(w); return fs }, run: runWeb},
		{name: "version", short: "print the version, the Go version and the backends", long: versionHelp, run: runVersion},
		{name: "completion", args: "bash|zsh|fish", short: "print a shell completion script", long: completionHelp, run: runCompletion,
			values: map[string][]string{"": shells}},
		{name: "help", args: "[COMMAND] | --man", short: "show help for a command, or the man page (--man)", long: helpHelp, run: runHelp},
	}
}

// modelExts are the extensions of model files, for completion.
const modelExts = "h5 hdf5 keras"

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageText is the top-level help.
func usageText() string {
	var b strings.Builder
	b.WriteString("kerascope inspects saved Keras models (.h5, .keras) without Python.\n\nUsage:\n  kerascope COMMAND [flags] [ARGS]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.short)
	}
	b.WriteString("\nExit codes: 0 success, 1 error or failed check, 2 usage error, 3 not a Keras model.\n")
	b.WriteString("Run 'kerascope COMMAND --help' for a command's flags.\n")
	return b.String()
}

// commandUsage is what `kerascope COMMAND --help` and `kerascope help
// COMMAND` print.
func commandUsage(c *command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: kerascope %s", c.name)
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	fmt.Fprintf(&b, "\n\n%s\n", strings.TrimRight(c.long, "\n"))
	if c.flags != nil {
		fmt.Fprintf(&b, "\nFlags:\n%s", flagUsages(c.flags(io.Discard)))
	}
	return b.String()
}

// A flagDoc is one flag as help, completion and the man page show it.
type flagDoc struct {
	short, long string
	arg         string // the value's placeholder; "" for a boolean
	usage       string
}

// placeholders name the values of flags whose usage text names none.
var placeholders = map[string]string{
	"expect-inputs": "SHAPE", "expect-outputs": "SHAPE", "max-params": "N",
	"expect-keras-version": "VERSION", "line-length": "N", "style": "STYLE",
	"format": "FORMAT", "input-format": "FORMAT", "rankdir": "DIR",
}

// flagDocs lists fs's flags, then -h/--help, which every command takes.
func flagDocs(fs *pflag.FlagSet) []flagDoc {
	var docs []flagDoc
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name, usage := pflag.UnquoteUsage(f)
		d := flagDoc{short: f.Shorthand, long: f.Name, usage: usage}
		if f.Value.Type() != "bool" {
			switch {
			case strings.Contains(f.Usage, "`"):
				d.arg = name
			case placeholders[f.Name] != "":
				d.arg = placeholders[f.Name]
			default:
				d.arg = "VALUE"
			}
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "[]" {
				d.usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		docs = append(docs, d)
	})
	return append(docs, flagDoc{short: "h", long: "help", usage: "show this help"})
}

// flagUsages formats fs's flags as gh and go do: names and placeholder in
// one column, the description after, booleans without a value.
func flagUsages(fs *pflag.FlagSet) string {
	docs := flagDocs(fs)
	left := make([]string, len(docs))
	width := 0
	for i, d := range docs {
		s := "    --" + d.long
		if d.short != "" {
			s = "-" + d.short + ", --" + d.long
		}
		if d.arg != "" {
			s += " " + d.arg
		}
		left[i] = s
		width = max(width, len(s))
	}
	var b strings.Builder
	for i, d := range docs {
		fmt.Fprintf(&b, "  %-*s   %s\n", width, left[i], d.usage)
	}
	return b.String()
}

const helpHelp = `Shows the list of commands, or one command's usage, description and
flags (the same as 'kerascope COMMAND --help'). With --man it prints the
manual page in roff, made from the same table as the help
(man -l <(kerascope help --man)).`

func runHelp(args []string, stdout, _ io.Writer) error {
	switch {
	case len(args) == 0:
		_, err := io.WriteString(stdout, usageText())
		return err
	case args[0] == "-h" || args[0] == "--help":
		_, err := io.WriteString(stdout, commandUsage(lookup("help")))
		return err
	case len(args) == 1 && args[0] == "--man":
		_, err := io.WriteString(stdout, manPage())
		return err
	case len(args) > 1:
		return usagef("help: want one COMMAND, got %d arguments", len(args))
	}
	c := lookup(args[0])
	if c == nil {
		return usagef("help: unknown command %q", args[0])
	}
	_, err := io.WriteString(stdout, commandUsage(c))
	return err
}
