package bind

import (
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/kerascope/kerascope/keras/store"
)

// A tree is every group of a store that holds variables, under its
// logical path: the path with Windows' backslashes read as slashes. A
// store written on Windows names each group by its whole path, joined
// with os.path.join, at the root (`layers\lstm\cell` holding vars/), where
// one written elsewhere nests the groups; both read the same here.
type tree struct {
	// groups are in the order a depth-first walk visits them with each
	// group's children in name order: a group's own variables come
	// before its subgroups'.
	groups []treeGroup
}

type treeGroup struct {
	logical string // "/layers/lstm/cell"
	real    string // "/layers\\lstm\\cell" in a Windows-written store
	vars    []Var  // the datasets of its vars/ subgroup, in numeric order
	name    string // the name attribute of vars/, when Keras wrote one
}

// maxDepth bounds the nesting of groups walked in a store, against files
// whose groups nest without end.
const maxDepth = 128

// skipTop lists the top-level groups that hold no layer weights: the
// optimizer's and the compiled metrics' state, and the model's own
// variables.
var skipTop = []string{"optimizer", "metrics", "vars"}

// readTree walks a store once. Optimizer and metric state are left out.
func readTree(s store.Store) (*tree, error) {
	t := &tree{}
	if err := t.walk(s, "/", "", 0); err != nil {
		return nil, err
	}
	slices.SortStableFunc(t.groups, func(a, b treeGroup) int { return comparePaths(a.logical, b.logical) })
	return t, nil
}

func (t *tree) walk(s store.Store, real, logical string, depth int) error {
	if depth > maxDepth {
		return store.Formatf("%s: groups nested too deep", real)
	}
	groups, _, err := s.Children(real)
	if err != nil {
		return err
	}
	g := treeGroup{logical: logical, real: real}
	if logical == "" {
		g.logical = "/"
	}
	if slices.Contains(groups, "vars") && logical != "" {
		_, ds, err := s.Children(join(real, "vars"))
		if err != nil {
			return err
		}
		sortNumerically(ds)
		if g.vars, err = statAll(s, join(real, "vars"), ds); err != nil {
			return err
		}
		// The name is optional; a damaged one is a damaged file.
		name, err := s.StringAttr(join(real, "vars"), "name")
		switch {
		case err == nil:
			g.name = name
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	if logical != "" {
		t.groups = append(t.groups, g)
	}
	for _, c := range groups {
		if c == "vars" {
			continue
		}
		lc := logical + "/" + strings.ReplaceAll(c, `\`, "/")
		if logical == "" && slices.Contains(skipTop, strings.SplitN(lc[1:], "/", 2)[0]) {
			continue
		}
		if err := t.walk(s, join(real, c), lc, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func join(group, child string) string {
	if group == "/" {
		return "/" + child
	}
	return group + "/" + child
}

// comparePaths orders logical paths component by component, as a walk of
// the nested groups would visit them: "/a" < "/a/b" < "/a_1".
func comparePaths(a, b string) int {
	return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
}

// under reports whether logical path p is prefix or inside it.
func under(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// has reports whether the store has a group at or inside the logical path.
func (t *tree) has(prefix string) bool {
	for _, g := range t.groups {
		if under(g.logical, prefix) {
			return true
		}
	}
	return false
}

// group returns the group at a logical path, nil when the store has none
// (a Windows-written store has no group for a path that only prefixes
// others).
func (t *tree) group(p string) *treeGroup {
	for i := range t.groups {
		if t.groups[i].logical == p {
			return &t.groups[i]
		}
	}
	return nil
}

// children lists, in name order, the names one level below a logical path.
func (t *tree) children(prefix string) []string {
	var out []string
	for _, g := range t.groups {
		rest, ok := strings.CutPrefix(g.logical, strings.TrimSuffix(prefix, "/")+"/")
		if !ok || rest == "" {
			continue
		}
		c := strings.SplitN(rest, "/", 2)[0]
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	return out
}

// varsUnder lists the variables at and inside a logical path, a group's
// own before its subgroups', each with the logical path of its group.
func (t *tree) varsUnder(prefix string) ([]Var, []string) {
	var vars []Var
	var at []string
	for _, g := range t.groups {
		if under(g.logical, prefix) {
			vars = append(vars, g.vars...)
			for range g.vars {
				at = append(at, g.logical)
			}
		}
	}
	return vars, at
}

// realPath gives the HDF5 path of a logical group path, for display: the
// group itself when the store has it.
func (t *tree) realPath(p string) string {
	if g := t.group(p); g != nil {
		return g.real
	}
	return p
}
