package main

import (
	"fmt"
	"io"
	"strings"
)

// manPage renders the manual page in roff (man(7) macros) from the
// command table: the same text as the help. docs/kerascope.1 is this
// output, kept current by a test (go test ./cmd/kerascope -update).
func manPage() string {
	var b strings.Builder
	b.WriteString(`.TH KERASCOPE 1 "" "kerascope" "User Commands"
.SH NAME
kerascope \- inspect and run saved Keras models without Python
.SH SYNOPSIS
.B kerascope
.I COMMAND
[\fIflags\fR] [\fIARGS\fR]
.SH DESCRIPTION
kerascope opens saved Keras models without Python: .h5 files from Keras
1, 2 and 3, and .keras archives from Keras 3. It prints model.summary()
exactly as Keras prints it, lists every stored tensor, checks a model
against its own architecture, draws its graph and runs it natively.
It never executes anything stored in a model file.
.SH COMMANDS
`)
	for _, c := range commands {
		fmt.Fprintf(&b, ".SS \"kerascope %s", roffEscape(c.name))
		if c.args != "" {
			fmt.Fprintf(&b, " %s", roffEscape(c.args))
		}
		b.WriteString("\"\n")
		writeRoffText(&b, c.long)
		if c.flags == nil {
			continue
		}
		for _, d := range flagDocs(c.flags(io.Discard)) {
			b.WriteString(".TP\n")
			if d.short != "" {
				fmt.Fprintf(&b, "\\fB\\-%s\\fR, ", roffEscape(d.short))
			}
			fmt.Fprintf(&b, "\\fB\\-\\-%s\\fR", roffEscape(d.long))
			if d.arg != "" {
				fmt.Fprintf(&b, " \\fI%s\\fR", roffEscape(d.arg))
			}
			fmt.Fprintf(&b, "\n%s\n", roffEscape(d.usage))
		}
	}
	b.WriteString(`.SH EXIT STATUS
0 success; 1 an error or a failed check; 2 a usage error; 3 the file is
not a Keras model. Every error is one line on standard error naming the
file; nothing is printed on standard output when a command fails.
.SH ENVIRONMENT
.TP
.B COLUMNS
the terminal width Keras's summary width follows when standard output is
not a terminal.
.SH SEE ALSO
https://github.com/kerascope/kerascope
`)
	return b.String()
}

// writeRoffText writes help text: paragraphs as filled text, indented
// lines (lists, examples) as they are.
func writeRoffText(b *strings.Builder, text string) {
	b.WriteString(".PP\n")
	inVerbatim := false
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		indented := strings.HasPrefix(line, " ")
		switch {
		case line == "":
			if inVerbatim {
				b.WriteString(".fi\n")
				inVerbatim = false
			}
			b.WriteString(".PP\n")
			continue
		case indented && !inVerbatim:
			b.WriteString(".nf\n")
			inVerbatim = true
		case !indented && inVerbatim:
			b.WriteString(".fi\n")
			inVerbatim = false
		}
		b.WriteString(roffEscape(line) + "\n")
	}
	if inVerbatim {
		b.WriteString(".fi\n")
	}
}

// roffEscape keeps text literal in roff: backslashes and hyphens escaped,
// and a line starting with a period or quote guarded.
func roffEscape(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
