package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTools are stand-ins for the programs scripts/install-deps runs, so
// that its decisions can be tested without installing anything: pkg-config
// finds the packages listed in $DIR/have; apt-get logs its arguments,
// fails with dpkg's lock message while $DIR/locked counts down, refuses
// the packages in $DIR/unavailable and otherwise "installs" by adding to
// $DIR/have; id -u prints $FAKE_UID; sleep returns at once.
var fakeTools = map[string]string{
	"pkg-config": `[ "$1" = --exists ] && grep -qx "$2" "$FAKE_DIR/have"`,
	"apt-get": `echo "$*" >> "$FAKE_DIR/apt.log"
n=$(cat "$FAKE_DIR/locked" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then
	echo $((n - 1)) > "$FAKE_DIR/locked"
	echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)" >&2
	exit 100
fi
case "$*" in *install*) ;; *) exit 0 ;; esac
for p in "$@"; do
	if grep -qx "$p" "$FAKE_DIR/unavailable" 2>/dev/null; then
		echo "E: Unable to locate package $p" >&2
		exit 100
	fi
done
for p in "$@"; do
	case $p in
	libhdf5-dev) echo hdf5 >> "$FAKE_DIR/have" ;;
	libopenblas-dev) echo openblas >> "$FAKE_DIR/have" ;;
	chromium) printf '#!/bin/sh\n' > "$FAKE_DIR/bin/chromium" && chmod +x "$FAKE_DIR/bin/chromium" ;;
	esac
done`,
	"id":       `echo "$FAKE_UID"`,
	"sleep":    `:`,
	"uname":    `echo Linux`,
	"cat":      `exec /bin/cat "$@"`,
	"grep":     `exec /bin/grep "$@"`,
	"brew":     `exit 0`,
	"chromium": `exit 0`,
}

// TestInstallDeps runs scripts/install-deps against fake tools: OpenBLAS is
// optional (a hint, never a failure), libhdf5 is required, a non-root user
// gets the exact command, and a held dpkg lock is waited for; with
// --browser, Chromium is installed too, or hinted at, never a failure.
func TestInstallDeps(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script, err := filepath.Abs("../../scripts/install-deps")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		tools       []string // the fake tools on PATH
		have        string   // packages pkg-config finds
		uid         string
		locked      string // how many apt-get runs find the lock held
		unavailable string
		code        int
		stderr      []string // lines stderr must contain, in order
		apt         []string // apt-get runs, in order
		nowHave     string
	}{
		{name: "everything there", tools: []string{"apt-get"}, have: "hdf5\nopenblas", uid: "1000", code: 0},
		{name: "root installs both", tools: []string{"apt-get"}, uid: "0", code: 0,
			stderr:  []string{"install-deps: installing libhdf5-dev pkg-config libopenblas-dev with apt-get"},
			apt:     []string{"-o DPkg::Lock::Timeout=300 update -qq", "-o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends libhdf5-dev pkg-config libopenblas-dev"},
			nowHave: "hdf5\nopenblas"},
		{name: "non-root, only OpenBLAS missing", tools: []string{"apt-get"}, have: "hdf5", uid: "1000", code: 0,
			stderr: []string{"install-deps: OpenBLAS (optional) is missing: kerascope builds with gonum's pure-Go BLAS; for faster batches install it with: sudo apt-get install -y libopenblas-dev"}},
		{name: "non-root, libhdf5 missing", tools: []string{"apt-get"}, uid: "1000", code: 1,
			stderr: []string{"install-deps: libhdf5 (required) is missing; install it with: sudo apt-get install -y libhdf5-dev pkg-config"}},
		{name: "root, OpenBLAS not packaged", tools: []string{"apt-get"}, uid: "0", unavailable: "libopenblas-dev", code: 0,
			stderr: []string{"E: Unable to locate package libopenblas-dev",
				"install-deps: OpenBLAS (optional) is missing: kerascope builds with gonum's pure-Go BLAS; for faster batches install it with: apt-get install -y libopenblas-dev"},
			nowHave: "hdf5"},
		{name: "root, lock held a while", tools: []string{"apt-get"}, have: "hdf5", uid: "0", locked: "3", code: 0,
			stderr: []string{"install-deps: installing libopenblas-dev with apt-get",
				"install-deps: waiting for another apt or dpkg process to finish (up to 300s)"},
			nowHave: "hdf5\nopenblas"},
		{name: "root, lock never released", tools: []string{"apt-get"}, uid: "0", locked: "1000", code: 1,
			stderr: []string{"install-deps: waiting for another apt or dpkg process to finish (up to 300s)",
				"install-deps: another apt or dpkg process still holds the package lock after 300s; run this again when it has finished"}},
		{name: "browser there", args: []string{"--browser"}, tools: []string{"apt-get", "chromium"}, have: "hdf5\nopenblas", uid: "0", code: 0},
		{name: "root installs the browser", args: []string{"--browser"}, tools: []string{"apt-get"}, have: "hdf5\nopenblas", uid: "0", code: 0,
			stderr: []string{"install-deps: installing chromium with apt-get"},
			apt:    []string{"-o DPkg::Lock::Timeout=300 update -qq", "-o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium"}},
		{name: "root installs all three", args: []string{"--browser"}, tools: []string{"apt-get"}, uid: "0", code: 0,
			stderr:  []string{"install-deps: installing libhdf5-dev pkg-config libopenblas-dev chromium with apt-get"},
			nowHave: "hdf5\nopenblas"},
		{name: "non-root, browser missing", args: []string{"--browser"}, tools: []string{"apt-get"}, have: "hdf5\nopenblas", uid: "1000", code: 0,
			stderr: []string{"install-deps: Chromium (for the web app's browser tests, make test-web) is missing; install it with: sudo apt-get install -y chromium"}},
		{name: "bad argument", args: []string{"--brower"}, tools: []string{"apt-get"}, have: "hdf5\nopenblas", uid: "0", code: 2,
			stderr: []string{"install-deps: unknown argument --brower (want --browser or nothing)"}},
		{name: "brew, libhdf5 missing", tools: []string{"brew"}, uid: "501", code: 1,
			stderr: []string{"install-deps: libhdf5 (required) is missing; install it with: brew install hdf5 pkg-config"}},
		{name: "brew, OpenBLAS missing", tools: []string{"brew"}, have: "hdf5", uid: "501", code: 0,
			stderr: []string{"install-deps: OpenBLAS (optional) is missing: kerascope builds with gonum's pure-Go BLAS; for faster batches install it with: brew install openblas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			os.Mkdir(bin, 0o755)
			for _, name := range append([]string{"pkg-config", "id", "sleep", "uname", "cat", "grep"}, tt.tools...) {
				body := "#!" + bash + "\n" + fakeTools[name] + "\n"
				if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			os.WriteFile(filepath.Join(dir, "have"), []byte(tt.have+"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "locked"), []byte(tt.locked+"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "unavailable"), []byte(tt.unavailable+"\n"), 0o644)
			if tt.locked == "" {
				os.Remove(filepath.Join(dir, "locked"))
			}
			cmd := exec.Command(bash, append([]string{script}, tt.args...)...)
			cmd.Env = []string{"PATH=" + bin, "FAKE_DIR=" + dir, "FAKE_UID=" + tt.uid, "HOME=" + dir}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			rest := stderr.String()
			for _, want := range tt.stderr {
				i := strings.Index(rest, want+"\n")
				if i < 0 {
					t.Errorf("stderr lacks %q (in order); stderr:\n%s", want, stderr.String())
					break
				}
				rest = rest[i+len(want):]
			}
			if len(tt.stderr) == 0 && stderr.Len() != 0 {
				t.Errorf("stderr not empty:\n%s", stderr.String())
			}
			if tt.apt != nil {
				log, _ := os.ReadFile(filepath.Join(dir, "apt.log"))
				if got := strings.TrimSuffix(string(log), "\n"); got != strings.Join(tt.apt, "\n") {
					t.Errorf("apt-get ran\n%s\nwant\n%s", got, strings.Join(tt.apt, "\n"))
				}
			}
			if tt.nowHave != "" {
				have, _ := os.ReadFile(filepath.Join(dir, "have"))
				if got := strings.TrimSpace(string(have)); got != tt.nowHave {
					t.Errorf("installed %q, want %q", got, tt.nowHave)
				}
			}
		})
	}
}

// TestInstallDepsREADME keeps the README's manual install commands the
// ones scripts/install-deps prints.
func TestInstallDepsREADME(t *testing.T) {
	script, err := os.ReadFile("../../scripts/install-deps")
	if err != nil {
		t.Fatal(err)
	}
	readme := readREADME(t)
	for _, c := range []struct{ cmd, required, optional string }{
		{"brew install", "brew_required", "brew_optional"},
		{"sudo dnf install -y", "dnf_required", "dnf_optional"},
		{"sudo apt-get install -y", "apt_required", "apt_optional"},
	} {
		vars := map[string]string{}
		for _, line := range strings.Split(string(script), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && (k == c.required || k == c.optional) {
				vars[k] = strings.Trim(v, `"`)
			}
		}
		for _, want := range []string{c.cmd + " " + vars[c.required], c.cmd + " " + vars[c.optional]} {
			if vars[c.required] == "" || !strings.Contains(readme, want) {
				t.Errorf("README does not show %q, the command scripts/install-deps prints", want)
			}
		}
	}
}

// TestREADMEGoVersion keeps the Go version the README asks for equal to
// go.mod's, and the install line and the binary's location in it.
func TestREADMEGoVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var goVersion string
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			goVersion = strings.Join(strings.Split(v, ".")[:2], ".")
		}
	}
	readme := readREADME(t)
	for _, want := range []string{
		"Go " + goVersion + " or later",
		"go install github.com/kerascope/kerascope/cmd/kerascope@latest",
		"$(go env GOPATH)/bin",
		"make install",
	} {
		if goVersion == "" || !strings.Contains(readme, want) {
			t.Errorf("README does not say %q (go.mod: go %s)", want, goVersion)
		}
	}
}
