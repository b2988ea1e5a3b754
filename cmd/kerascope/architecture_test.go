package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/kerascope/kerascope"

// architectureRow matches a row of the package table in
// docs/architecture.md: | `package` | owns | may import |.
var architectureRow = regexp.MustCompile("^\\| `([^`]+)` \\|.*\\|([^|]*)\\|$")

// TestArchitecture keeps docs/architecture.md true: every package of the
// module is in its table, no row names a package that does not exist, and
// each package imports, of the module's packages, only those its row
// allows.
func TestArchitecture(t *testing.T) {
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	allowed := make(map[string]map[string]bool)
	for _, line := range strings.Split(string(doc), "\n") {
		m := architectureRow.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		may := make(map[string]bool)
		for _, p := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[2], -1) {
			may[p[1]] = true
		}
		allowed[m[1]] = may
	}
	if len(allowed) == 0 {
		t.Fatal("docs/architecture.md has no package table")
	}
	imports := moduleImports(t, "../..")
	for pkg, imps := range imports {
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not in docs/architecture.md's table", pkg)
			continue
		}
		for _, imp := range imps {
			if !may[imp] {
				t.Errorf("package %s imports %s, which docs/architecture.md does not allow it", pkg, imp)
			}
		}
	}
	for pkg := range allowed {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("docs/architecture.md lists %s, which is no package of the module", pkg)
		}
	}
}

// moduleImports returns, for every package under root, the module's
// packages its non-test files import, whatever their build tags.
func moduleImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			if rest, ok := strings.CutPrefix(p, module+"/"); ok && !slices.Contains(out[pkg], rest) {
				out[pkg] = append(out[pkg], rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}
