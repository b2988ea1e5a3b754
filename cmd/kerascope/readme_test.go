package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kerascope/kerascope/keras"
)

func readREADME(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestREADMELayers keeps the README's layer table equal to the registry.
func TestREADMELayers(t *testing.T) {
	readme := readREADME(t)
	start := strings.Index(readme, "## Supported layers")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README has no Supported layers section")
	}
	section := readme[start : start+1+end]
	// The family table: from its header row to the first line that is not
	// a table row (the section has other tables after it).
	var table []string
	in := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "| family"):
			in = true
		case in && strings.HasPrefix(line, "| "):
			for _, m := range regexp.MustCompile("`(\\w+)`").FindAllStringSubmatch(line, -1) {
				table = append(table, m[1])
			}
		case in:
			in = false
		}
		if !in && len(table) > 0 {
			break
		}
	}
	sort.Strings(table)
	want := keras.Classes()
	if strings.Join(table, " ") != strings.Join(want, " ") {
		t.Errorf("README layer table lists\n%s\nthe registry has\n%s", strings.Join(table, " "), strings.Join(want, " "))
	}
}

// TestREADMECIGate runs the CI command line the README shows, on a fixture.
func TestREADMECIGate(t *testing.T) {
	readme := readREADME(t)
	m := regexp.MustCompile(`(?m)^\s*run: kerascope (check .*) > check\.json$`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README shows no `run: kerascope check ... > check.json` step")
	}
	args := shellFields(t, m[1])
	for i, a := range args {
		if a == "models/rnn.keras" {
			args[i] = filepath.Join(modelsDir, "rnn_1unit", "k3.keras")
		}
	}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("kerascope %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), `"ok": true`) {
		t.Errorf("report does not say ok:\n%s", out.String())
	}
}

// shellFields splits a command line the way a shell does for plain words
// and double-quoted strings, which is all the README uses.
func shellFields(t *testing.T, s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			inWord = true
		case r == ' ' && !inQuote:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inQuote {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// TestREADMETranscripts runs every example the README shows as a
// transcript, a code block of one `$ kerascope ...` line and its output,
// and checks that the output is what the README prints. (A block of several
// `$` lines is a session, such as serve's with curl, which serve's tests
// run.)
func TestREADMETranscripts(t *testing.T) {
	readme := readREADME(t)
	blocks := regexp.MustCompile("(?s)```\n(\\$ kerascope [^\n]*)\n(.*?)```").FindAllStringSubmatch(readme, -1)
	if len(blocks) < 3 {
		t.Fatalf("README shows %d transcripts, want the summary, weights and predict ones", len(blocks))
	}
	for _, b := range blocks {
		line, want := b[1], b[2]
		if strings.HasPrefix(want, "$ ") || strings.Contains(want, "\n$ ") {
			continue
		}
		t.Run(line, func(t *testing.T) {
			args := shellFields(t, strings.TrimPrefix(line, "$ kerascope "))
			for i, a := range args {
				args[i] = strings.Replace(a, "testdata/", "../../testdata/", 1)
			}
			out, errs, code := runCLI(t, nil, args...)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", line, code, errs)
			}
			// The README shows paths from the repository's root.
			if out = strings.ReplaceAll(out, "../../testdata/", "testdata/"); out != want {
				t.Errorf("%s prints\n%s\nthe README shows\n%s", line, out, want)
			}
		})
	}
}
