package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// badDir holds the malformed model files made by testdata/gen/gen_malformed.py
// from real Keras files, with expected.json saying what each one breaks.
const badDir = "../../testdata/bad"

// badExpect is one file's entry in testdata/bad/expected.json.
type badExpect struct {
	Base            string       `json:"base"`
	Broken          string       `json:"broken"`
	SHA256          string       `json:"sha256"`
	CheckExit       int          `json:"check_exit"`
	CheckStrictExit int          `json:"check_strict_exit"`
	SummaryExit     int          `json:"summary_exit"`
	Problems        []badProblem `json:"problems"`
	Error           string       `json:"error"`
}

// badProblem is a problem the file has, which check must report.
type badProblem struct {
	Severity string   `json:"severity"`
	Kind     string   `json:"kind"`
	AnyKind  []string `json:"any_kind"` // other kinds that also describe it
	Layer    string   `json:"layer"`
	Weight   string   `json:"weight"` // the weight's name or a trailing part of its path
	Index    string   `json:"index"`  // of the first NaN/Inf, as "(i, j)"
}

func (e badProblem) String() string {
	s := fmt.Sprintf("%s %s layer %q", e.Severity, e.Kind, e.Layer)
	if e.Weight != "" {
		s += fmt.Sprintf(" weight %q", e.Weight)
	}
	return s
}

// matches reports whether check reported the expected problem as p.
func (e badProblem) matches(p checkProblem) bool {
	if p.Severity != e.Severity || p.Layer != e.Layer {
		return false
	}
	if p.Kind != e.Kind && !slices.Contains(e.AnyKind, p.Kind) {
		return false
	}
	if e.Weight != "" && p.Weight != e.Weight && !strings.HasSuffix(p.Weight, "/"+e.Weight) {
		return false
	}
	return e.Index == "" || strings.Contains(p.Message, "index "+e.Index)
}

func readBadExpected(t *testing.T) map[string]badExpect {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(badDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files map[string]badExpect `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Files) == 0 {
		t.Fatal("expected.json lists no files")
	}
	return doc.Files
}

// TestBadFiles runs check and summary on every malformed file and compares
// the exit codes, the problems check reports and its text output
// (testdata/bad/golden, rewritten by go test -update) with expected.json.
func TestBadFiles(t *testing.T) {
	files := readBadExpected(t)
	onDisk, _ := filepath.Glob(filepath.Join(badDir, "*.*"))
	for _, p := range onDisk {
		if name := filepath.Base(p); name != "expected.json" {
			if _, ok := files[name]; !ok {
				t.Errorf("%s is not in expected.json (rerun testdata/gen/gen_malformed.py)", p)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		exp := files[name]
		t.Run(name, func(t *testing.T) {
			var fails []string
			failf := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
			checkBadFile(t, name, exp, failf)
			for _, f := range fails {
				t.Error(f)
			}
		})
	}
}

func checkBadFile(t *testing.T, name string, exp badExpect, failf func(string, ...any)) {
	path := filepath.ToSlash(filepath.Join(badDir, name))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != exp.SHA256 {
		t.Fatalf("%s does not match expected.json's sha256 (rerun testdata/gen/gen_malformed.py)", path)
	}

	// stderr is empty, or one error line when stdout is empty.
	checkStreams := func(what string, code int, stdout, stderr string) {
		for _, bad := range []string{"HDF5-DIAG", "panic", "goroutine "} {
			if strings.Contains(stderr, bad) {
				failf("%s: stderr contains %q: %q", what, bad, stderr)
			}
		}
		if code == exitOK || stdout != "" {
			if stderr != "" {
				failf("%s: exit %d with output, but stderr is not empty: %q", what, code, stderr)
			}
			return
		}
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if !strings.HasSuffix(stderr, "\n") || len(lines) != 1 || !strings.HasPrefix(lines[0], "kerascope: error: ") {
			failf("%s: exit %d, want one error line on stderr, got %q", what, code, stderr)
		}
	}

	// check --json, and --strict.
	var out, errb bytes.Buffer
	code := run([]string{"check", "--json", path}, &out, &errb)
	checkStreams("check --json", code, out.String(), errb.String())
	if code != exp.CheckExit {
		failf("check --json: exit %d, want %d; stderr %q", code, exp.CheckExit, errb.String())
	}
	var strictOut, strictErr bytes.Buffer
	if c := run([]string{"check", "--strict", "--json", path}, &strictOut, &strictErr); c != exp.CheckStrictExit {
		failf("check --strict --json: exit %d, want %d; stderr %q", c, exp.CheckStrictExit, strictErr.String())
	}
	if exp.Error != "" {
		if out.Len() != 0 {
			failf("check --json: want no report, got %q", out.String())
		}
		if !strings.Contains(errb.String(), path) || !strings.Contains(errb.String(), exp.Error) {
			failf("check --json: stderr %q does not name %s and %q", errb.String(), path, exp.Error)
		}
	} else {
		compareBadReport(path, exp, out.Bytes(), failf)
	}

	// summary
	out.Reset()
	errb.Reset()
	code = run([]string{"summary", path}, &out, &errb)
	checkStreams("summary", code, out.String(), errb.String())
	if code != exp.SummaryExit {
		failf("summary: exit %d, want %d; stderr %q", code, exp.SummaryExit, errb.String())
	}
	if code != exitOK && out.Len() != 0 {
		failf("summary: exit %d, but stdout is not empty: %q", code, out.String())
	}
	if code == exitOK && out.Len() == 0 {
		failf("summary: exit 0 and nothing printed")
	}

	// predict: one error line, never a result (the input does not exist:
	// files that fail to load must fail before reading it), and exit 3
	// exactly for files that are not Keras models.
	out.Reset()
	errb.Reset()
	code = run([]string{"predict", path, "--input", filepath.Join(badDir, "no-such-input.npy")}, &out, &errb)
	checkStreams("predict", code, out.String(), errb.String())
	if code == exitOK || out.Len() != 0 {
		failf("predict: exit %d, stdout %q, want an error", code, out.String())
	}
	if (code == 3) != (exp.SummaryExit == 3) {
		failf("predict: exit %d, summary exits %d", code, exp.SummaryExit)
	}

	// check's text output, against its golden file.
	out.Reset()
	errb.Reset()
	code = run([]string{"check", path}, &out, &errb)
	checkStreams("check", code, out.String(), errb.String())
	if code != exp.CheckExit {
		failf("check: exit %d, want %d", code, exp.CheckExit)
	}
	got := out.String() + errb.String() // what `kerascope check FILE 2>&1` prints
	if diff := checkGolden(t, filepath.Join(badDir, "golden", name+".check.txt"), got); diff != "" {
		failf("%s", diff)
	}
}

// compareBadReport checks that the check --json report has every expected
// problem, and no error beyond them.
func compareBadReport(path string, exp badExpect, report []byte, failf func(string, ...any)) {
	if len(report) == 0 {
		failf("check --json: no report on stdout")
		return
	}
	var doc checkDoc
	if err := json.Unmarshal(report, &doc); err != nil {
		failf("check --json: %v in %q", err, report)
		return
	}
	if doc.Schema != CheckSchema || doc.File != path {
		failf("check --json: schema %q file %q, want %q and %q", doc.Schema, doc.File, CheckSchema, path)
	}
	if doc.OK != (exp.CheckExit == exitOK) {
		failf("check --json: ok is %v with exit %d expected", doc.OK, exp.CheckExit)
	}
	var errs, warns int
	for _, p := range doc.Problems {
		switch p.Severity {
		case "error":
			errs++
		case "warning":
			warns++
		}
	}
	if errs != doc.Errors || warns != doc.Warnings {
		failf("check --json: counts %d errors %d warnings, problems have %d and %d", doc.Errors, doc.Warnings, errs, warns)
	}
	for _, e := range exp.Problems {
		if !slices.ContainsFunc(doc.Problems, e.matches) {
			failf("check --json: missing the problem %s%s", e, indexNote(e))
		}
	}
	var extra []string
	for _, p := range doc.Problems {
		if p.Severity != "error" {
			continue
		}
		if !slices.ContainsFunc(exp.Problems, func(e badProblem) bool { return e.matches(p) }) {
			extra = append(extra, fmt.Sprintf("%s %s: %s", p.Severity, p.Kind, p.Message))
		}
	}
	sort.Strings(extra)
	for _, x := range extra {
		failf("check --json: unexpected problem %s", x)
	}
}

func indexNote(e badProblem) string {
	if e.Index == "" {
		return ""
	}
	return " at index " + e.Index
}
