package h5

import (
	"fmt"
	"strings"
)

// Verify checks the structure of the whole file, not only the parts a
// caller asks for: it walks every object reachable from the root group
// through hard links and decodes everything the file declares about it.
//
//   - groups of all three kinds (symbol table, compact links, dense
//     links in a fractal heap indexed by a version 2 B-tree), with their
//     heaps and B-tree nodes;
//   - every object header, continuation blocks included, and the message
//     count a version 1 header declares;
//   - every attribute, compact or dense: its datatype and dataspace, and
//     that its value fits what the message holds; variable-length values
//     are looked up in the global heap;
//   - every dataset's datatype, dataspace, fill value, layout and filter
//     pipeline, and that its storage lies inside the file: compact data
//     long enough, contiguous data in the file, every chunk of the chunk
//     index at a chunk boundary and inside the file.
//
// Raw data is not read (chunks are not inflated), so the cost is that of
// the metadata: a fraction of opening a model and printing its summary
// (see docs/limits in the README). The walk is bounded like every call
// (MaxMetadataBytes, and at most a few times the file's size of metadata
// read) and visits each object once; a cycle of hard links is an error.
//
// The error names the object (obj@name for an attribute) and wraps a
// *FormatError, or an *UnsupportedError for a well-formed feature this
// reader does not implement.
func (f *File) Verify() error {
	return f.run("verify", f.name, func(o *op) error {
		// A file's metadata is read about once; a budget of a few times
		// its size bounds what a file whose structures share blocks can
		// make the walk re-read.
		o.meta = min(o.meta, 16<<20+4*f.size)
		v := &verifier{o: o, done: map[uint64]bool{}, onPath: map[uint64]bool{}}
		return v.object("/", f.root, 0)
	})
}

// maxMsgType is the highest header message type HDF5 defines (0x18 in
// libhdf5 1.10 to 1.14; 0x17 is file space info). A message of a type
// above it is a damaged header, not a newer feature: libhdf5 never writes
// one.
const maxMsgType = 0x18

// maxWalkDepth bounds how deep groups nest in one walk.
const maxWalkDepth = 1024

type verifier struct {
	o      *op
	done   map[uint64]bool // objects already verified
	onPath map[uint64]bool // groups between the root and the object
}

func (v *verifier) object(path string, addr uint64, depth int) error {
	o := v.o
	o.obj = path
	if v.onPath[addr] {
		return o.formatf("leads back to a group that contains it (a cycle of hard links)")
	}
	if v.done[addr] {
		return nil // a second hard link to an object already verified
	}
	if depth > maxWalkDepth {
		return o.formatf("groups nested more than %d deep", maxWalkDepth)
	}
	v.done[addr] = true
	ob, err := o.object(addr)
	if err != nil {
		return err
	}
	if ob.declared >= 0 && ob.found != ob.declared {
		return o.formatf("object header declares %d messages and holds %d", ob.declared, ob.found)
	}
	for _, m := range ob.msgs {
		if m.typ > maxMsgType {
			return o.formatf("object header message of unknown type %#x", m.typ)
		}
	}
	if err := v.attributes(path, ob); err != nil {
		return err
	}
	o.obj = path
	switch ob.kind() {
	case objDataset:
		return v.dataset(path, ob)
	case objDatatype:
		_, err := o.typeOf(ob)
		return err
	case objGroup:
		links, err := o.links(ob)
		if err != nil {
			return err
		}
		v.onPath[addr] = true
		defer delete(v.onPath, addr)
		for _, l := range links {
			if strings.IndexByte(l.name, '/') >= 0 || l.name == "." {
				// libhdf5 cannot create such a name; paths could not
				// name the object.
				return o.formatf("link name %q", l.name)
			}
			if l.typ != linkHard {
				continue // soft and external links are never followed
			}
			if err := v.object(joinPath(path, l.name), l.addr, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// attributes verifies every attribute of ob, compact and dense.
func (v *verifier) attributes(path string, ob *object) error {
	o := v.o
	seen := map[string]bool{}
	return o.eachAttr(ob, func(b []byte) error {
		o.obj = path
		a, err := o.decodeAttr(b, "")
		if err != nil {
			return err
		}
		o.obj = attrPath(path, a.name)
		if seen[a.name] {
			return o.formatf("two attributes with this name")
		}
		seen[a.name] = true
		n, err := o.elements(a.space)
		if err != nil {
			return err
		}
		switch {
		case a.typ.vlenStr:
			return o.walkVlen(a.data, int(n), 1, func([]byte) error { return nil })
		case a.typ.class == classVlen:
			return o.walkVlen(a.data, int(n), a.typ.vlenBase, func([]byte) error { return nil })
		}
		if need := n * uint64(a.typ.size); uint64(len(a.data)) < need {
			return o.formatf("value of %d bytes for %s", len(a.data), describe(a.typ, a.space))
		}
		return nil
	})
}

// elements counts the elements of a dataspace: none for a null one.
func (o *op) elements(s spaceInfo) (uint64, error) {
	if s.class == spaceNull {
		return 0, nil
	}
	dims, err := datasetDims(s)
	if err != nil {
		return 0, o.formatf("%v", err)
	}
	n, err := numElements(dims, maxElements)
	if err != nil {
		return 0, o.formatf("%v", err)
	}
	return n, nil
}

// dataset verifies a dataset's messages and that its storage lies inside
// the file, reading no data.
func (v *verifier) dataset(path string, ob *object) error {
	o := v.o
	ds, err := o.datasetOf(path, ob)
	if err != nil {
		return err
	}
	n, err := o.elements(ds.space)
	if err != nil {
		return err
	}
	if _, err := o.fillValue(ds); err != nil {
		return err
	}
	if ob.first(msgExternal) != nil {
		return nil // valid, and never read: its data is in other files
	}
	if ob.first(msgFilters) != nil {
		if _, err := o.filters(ob); err != nil {
			return err
		}
	}
	dims, _ := datasetDims(ds.space)
	if ds.space.class == spaceNull {
		dims = nil
	}
	_, _, err = o.storage(ds, dims, n)
	return err
}

// typeOf decodes the datatype message of a named datatype.
func (o *op) typeOf(ob *object) (typeInfo, error) {
	m := ob.first(msgDatatype)
	if m == nil {
		return typeInfo{}, fmt.Errorf("no datatype message")
	}
	t, _, err := o.datatype(m.data, 0)
	return t, err
}
