package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/kerascope/kerascope/keras"
)

const versionHelp = `Prints kerascope's version, the Go version and platform it was built with,
and its backends: the HDF5 reader and the BLAS behind the forward pass's
matrix products. The version is the module version for 'go install
...@v1.2.3', else the commit the binary was built from (with "+dirty" when
the work tree had changes).`

func runVersion(args []string, stdout, _ io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		return &helpRequest{cmd: "version"}
	}
	if len(args) > 0 {
		return usagef("version: takes no arguments")
	}
	info, _ := debug.ReadBuildInfo()
	_, err := io.WriteString(stdout, versionText(info))
	return err
}

// versionText describes the build from its build information: what `go
// install` and `go build` in a git checkout record, so that no release
// step has to stamp it.
func versionText(info *debug.BuildInfo) string {
	v := version
	hdf5 := "unknown"
	if info != nil {
		if v == "" {
			v = moduleVersion(info)
		}
		hdf5 = hdf5Backend(info.Deps)
	}
	if v == "" {
		v = "unknown (built without module information)"
	}
	return fmt.Sprintf("kerascope %s\ngo: %s %s/%s\nhdf5: %s\nblas: %s\n",
		v, runtime.Version(), runtime.GOOS, runtime.GOARCH, hdf5, keras.BLAS())
}

// moduleVersion is the main module's version, or for a local build the
// commit, its date and whether the tree was modified.
func moduleVersion(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, when string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel (no version control information)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	s := "devel " + rev
	if dirty {
		s += "+dirty"
	}
	if when != "" {
		s += " (" + when + ")"
	}
	return s
}

// hdf5Backend names the HDF5 reader the binary links: libhdf5 through cgo
// when it depends on gonum's binding, else kerascope's own Go reader.
func hdf5Backend(deps []*debug.Module) string {
	for _, d := range deps {
		if strings.HasPrefix(d.Path, "gonum.org/v1/hdf5") {
			return "libhdf5 (C library, through cgo and " + d.Path + " " + d.Version + ")"
		}
	}
	return "pure Go reader"
}
