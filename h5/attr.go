package h5

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// HasAttr reports whether object obj (an absolute path, "/" for the root
// group) has an attribute called name. It is quiet: a missing attribute is
// (false, nil). A missing object is an error wrapping fs.ErrNotExist.
func (f *File) HasAttr(obj, name string) (bool, error) {
	var ok bool
	err := f.run("check attribute", attrPath(obj, name), func(o *op) error {
		if err := checkAttrName(name); err != nil {
			return err
		}
		_, ob, err := f.resolve(o, obj)
		if err != nil {
			return err
		}
		a, err := o.findAttr(ob, name)
		ok = a != nil
		return err
	})
	return ok, err
}

// StringAttr reads a scalar string attribute: variable- or fixed-length,
// ASCII or UTF-8 (returned as stored, without validation). A string array
// of one element is accepted too. Fixed-length strings are cut at their
// first NUL. A missing attribute or object is an error wrapping
// fs.ErrNotExist; any other type is an error that says what it is.
func (f *File) StringAttr(obj, name string) (string, error) {
	var s string
	err := f.run("read attribute", attrPath(obj, name), func(o *op) error {
		var err error
		s, err = f.stringAttr(o, obj, name)
		return err
	})
	return s, err
}

// StringsAttr reads a 1-D string array attribute, variable- or
// fixed-length; each fixed-length slot is cut at its first NUL, using the
// attribute's own width. A scalar string gives one element. A float
// attribute with no elements gives an empty, non-nil slice: Keras writes
// np.asarray([]) (float64, shape (0,)) for an empty name list. Keras's
// split attributes (name0, name1, ...) are the caller's business.
func (f *File) StringsAttr(obj, name string) ([]string, error) {
	var ss []string
	err := f.run("read attribute", attrPath(obj, name), func(o *op) error {
		a, err := f.openAttr(o, obj, name)
		if err != nil {
			return err
		}
		n, ok := a.count()
		switch {
		case a.typ.class == classFloat && a.space.class == spaceSimple && ok && n == 0:
			ss = []string{} // Keras's np.asarray([])
			return nil
		case a.typ.class != classString || !ok:
			return fmt.Errorf("attribute is %s, want a 1-D string array", describe(a.typ, a.space))
		}
		ss, err = o.readStrings(a, n)
		return err
	})
	return ss, err
}

// attrPath names an attribute in errors: "/model_weights@layer_names".
func attrPath(obj, name string) string { return obj + "@" + name }

func checkAttrName(name string) error {
	if name == "" {
		return errors.New("empty attribute name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("name %q contains a NUL byte", name)
	}
	return nil
}

// attribute is a decoded attribute message.
type attribute struct {
	name  string
	typ   typeInfo
	space spaceInfo
	data  []byte
}

// count returns the number of elements of a scalar or 1-D attribute.
func (a *attribute) count() (int, bool) {
	switch {
	case a.space.class == spaceScalar:
		return 1, true
	case a.space.class == spaceSimple && len(a.space.dims) == 1 && a.space.dims[0] <= maxElements:
		return int(a.space.dims[0]), true
	}
	return 0, false
}

func (f *File) openAttr(o *op, obj, name string) (*attribute, error) {
	if err := checkAttrName(name); err != nil {
		return nil, err
	}
	_, ob, err := f.resolve(o, obj)
	if err != nil {
		return nil, err
	}
	a, err := o.findAttr(ob, name)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, errAttrNotFound
	}
	return a, nil
}

func (f *File) stringAttr(o *op, obj, name string) (string, error) {
	a, err := f.openAttr(o, obj, name)
	if err != nil {
		return "", err
	}
	if n, ok := a.count(); a.typ.class != classString || !ok || n != 1 {
		return "", fmt.Errorf("attribute is %s, want a string", describe(a.typ, a.space))
	}
	ss, err := o.readStrings(a, 1)
	if err != nil {
		return "", err
	}
	return ss[0], nil
}

// findAttr returns the attribute called name of ob, or nil.
func (o *op) findAttr(ob *object, name string) (*attribute, error) {
	var found *attribute
	errFound := errors.New("found")
	err := o.eachAttr(ob, func(b []byte) error {
		a, err := o.decodeAttr(b, name)
		if err != nil {
			return err
		}
		if a != nil {
			found = a
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return nil, err
	}
	return found, nil
}

// eachAttr calls fn with the bytes of every attribute message of ob, in
// storage order: its attribute messages, then dense storage when an
// attribute info message names a fractal heap. An error from fn ends the
// walk and is returned.
func (o *op) eachAttr(ob *object, fn func(b []byte) error) error {
	for _, m := range ob.msgs {
		if m.typ != msgAttribute {
			continue
		}
		if err := fn(m.data); err != nil {
			return err
		}
	}
	m := ob.first(msgAttrInfo)
	if m == nil {
		return nil
	}
	d := o.f.dec(m.data)
	if v := d.u8(); v != 0 {
		return o.formatf("attribute info message version %d; want 0", v)
	}
	if flags := d.u8(); flags&1 != 0 {
		d.skip(2)
	}
	heapAddr, nameIndex := d.addr(), d.addr()
	if d.bad {
		return o.formatf("truncated attribute info message")
	}
	if heapAddr == undef {
		return nil
	}
	h, err := o.fractalHeap(heapAddr)
	if err != nil {
		return err
	}
	return o.btree2Records(nameIndex, func(rec []byte) error {
		if len(rec) < 8 {
			return o.formatf("attribute name record of %d bytes", len(rec))
		}
		b, err := o.heapObject(h, rec[:8])
		if err != nil {
			return err
		}
		return fn(b)
	})
}

// decodeAttr decodes an attribute message if its name is want, else
// returns nil; want "" (never a valid name) matches any name.
func (o *op) decodeAttr(b []byte, want string) (*attribute, error) {
	d := o.f.dec(b)
	version := d.u8()
	flags := d.u8()
	nameLen, typeLen, spaceLen := int(d.u16()), int(d.u16()), int(d.u16())
	pad := func(n int) int { return n }
	switch version {
	case 1:
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		d.skip(1) // name character set
	default:
		return nil, o.formatf("attribute message version %d", version)
	}
	rawName := d.take(pad(nameLen))
	if d.bad || nameLen == 0 || nameLen > len(rawName) {
		return nil, o.formatf("truncated attribute message")
	}
	name := rawName[:nameLen]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i] // the size counts the terminating NUL
	}
	if want != "" && string(name) != want {
		return nil, nil
	}
	if want == "" {
		want = string(name)
	}
	tb, sb := d.take(pad(typeLen)), d.take(pad(spaceLen))
	if d.bad || typeLen > len(tb) || spaceLen > len(sb) {
		return nil, o.formatf("truncated attribute message %q", want)
	}
	tb, sb = tb[:typeLen], sb[:spaceLen]
	if flags&1 != 0 {
		var err error
		if tb, err = o.sharedType(tb); err != nil {
			return nil, err
		}
	}
	if flags&2 != 0 {
		return nil, o.unsupported("shared dataspace in attribute %q", want)
	}
	a := &attribute{name: want}
	var err error
	if a.typ, _, err = o.datatype(tb, 0); err != nil {
		return nil, err
	}
	if a.space, err = o.dataspace(sb); err != nil {
		return nil, err
	}
	a.data = b[d.p:]
	return a, nil
}

// sharedType follows a shared datatype message to the committed datatype
// it names and returns that datatype's message.
func (o *op) sharedType(b []byte) ([]byte, error) {
	d := o.f.dec(b)
	version, typ := d.u8(), d.u8()
	if version == 1 {
		d.skip(6)
	}
	addr := d.addr()
	if d.bad || version < 1 || version > 3 {
		return nil, o.formatf("bad shared message")
	}
	if version == 3 && typ != 2 {
		return nil, o.unsupported("datatype in the shared object header message table")
	}
	ob, err := o.object(addr)
	if err != nil {
		return nil, err
	}
	m := ob.first(msgDatatype)
	if m == nil {
		return nil, o.formatf("shared datatype names an object without a datatype")
	}
	if m.flags&msgFlagShared != 0 {
		return nil, o.unsupported("committed datatype that is itself shared")
	}
	return m.data, nil
}

// readStrings decodes the n strings of a string attribute, bounded by
// MaxAttrBytes in all.
func (o *op) readStrings(a *attribute, n int) ([]string, error) {
	if n == 0 {
		return []string{}, nil
	}
	if a.typ.vlenStr {
		return o.readVlen(a.data, n)
	}
	w := a.typ.size
	if int64(n) > MaxAttrBytes/int64(w) {
		return nil, fmt.Errorf("%d strings of %d bytes exceed MaxAttrBytes (%d)", n, w, MaxAttrBytes)
	}
	if len(a.data) < n*w {
		return nil, o.formatf("attribute %q holds %d bytes, %d strings of %d bytes need %d", a.name, len(a.data), n, w, n*w)
	}
	out := make([]string, n)
	for i := range out {
		slot := a.data[i*w : (i+1)*w]
		// NULLTERM and NULLPAD end at the first NUL; a string that fills
		// its slot has none, so never assume one.
		if j := bytes.IndexByte(slot, 0); j >= 0 {
			slot = slot[:j]
		}
		if a.typ.strpad == strSpacePad {
			slot = bytes.TrimRight(slot, " ")
		}
		out[i] = string(slot)
	}
	return out, nil
}

// readVlen decodes n variable-length strings whose (length, global heap
// ID) pairs are in data.
func (o *op) readVlen(data []byte, n int) ([]string, error) {
	out := make([]string, 0, min(n, len(data)/(8+o.f.so)))
	err := o.walkVlen(data, n, 1, func(s []byte) error {
		out = append(out, string(s))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// walkVlen calls fn with each of the n variable-length values whose
// (length, global heap ID) pairs are in data, elem bytes per element of
// their base type (1 for strings), at most MaxAttrBytes in all.
func (o *op) walkVlen(data []byte, n, elem int, fn func(v []byte) error) error {
	ref := 4 + o.f.so + 4
	if len(data)/ref < n {
		return o.formatf("attribute holds %d bytes, too few for %d variable-length values", len(data), n)
	}
	budget := uint64(MaxAttrBytes)
	d := o.f.dec(data)
	for range n {
		if err := o.step(); err != nil {
			return err
		}
		length := uint64(d.u32()) * uint64(elem)
		coll := d.addr()
		index := d.u32()
		if length == 0 {
			if err := fn(nil); err != nil { // "" may have no heap object at all
				return err
			}
			continue
		}
		if length > budget {
			return o.formatf("variable-length values exceed MaxAttrBytes (%d)", MaxAttrBytes)
		}
		s, err := o.globalHeapObject(coll, index)
		if err != nil {
			return err
		}
		if uint64(len(s)) < length {
			return o.formatf("variable-length value of %d bytes in a heap object of %d", length, len(s))
		}
		budget -= length
		if err := fn(s[:length]); err != nil {
			return err
		}
	}
	return nil
}

// globalHeapObject returns object index of the global heap collection at
// addr. The op indexes each collection it reads once: a model's name
// lists put hundreds of strings in one collection, and scanning it for
// each would cost the square of their number.
func (o *op) globalHeapObject(addr uint64, index uint32) ([]byte, error) {
	objs, ok := o.heaps[addr]
	if !ok {
		var err error
		if objs, err = o.globalHeap(addr); err != nil {
			return nil, err
		}
		if o.heaps == nil {
			o.heaps = map[uint64]map[uint32][]byte{}
		}
		o.heaps[addr] = objs
	}
	if obj, ok := objs[index]; ok {
		return obj, nil
	}
	return nil, o.formatf("global heap object %d not found in its collection", index)
}

// globalHeap reads the global heap collection at addr and indexes its
// objects.
func (o *op) globalHeap(addr uint64) (map[uint32][]byte, error) {
	b, err := o.read(addr, uint64(8+o.f.sl), "global heap")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "GCOL" {
		return nil, o.formatf("global heap collection without GCOL signature")
	}
	size := o.f.dec(b[8:]).length()
	if size < uint64(len(b)) {
		return nil, o.formatf("global heap collection of %d bytes", size)
	}
	coll, err := o.read(addr, size, "global heap collection")
	if err != nil {
		return nil, err
	}
	objs := map[uint32][]byte{}
	d := o.f.dec(coll)
	d.skip(8 + o.f.sl)
	for d.left() >= 8+o.f.sl {
		if err := o.step(); err != nil {
			return nil, err
		}
		idx := d.u16()
		d.skip(2 + 4)
		size := d.length()
		if idx == 0 {
			break // free space: the rest of the collection
		}
		if size > uint64(d.left()) {
			return nil, o.formatf("global heap object of %d bytes runs past its collection", size)
		}
		obj := d.take(int(size))
		if _, dup := objs[uint32(idx)]; !dup { // the first wins, as the scan did
			objs[uint32(idx)] = obj
		}
		d.skip(int((8 - size%8) % 8))
	}
	return objs, nil
}

// attrNames lists the names of the attributes of the object at path, in
// storage order; the differential test and the fuzz targets use it to
// visit every attribute.
func (f *File) attrNames(path string) ([]string, error) {
	var names []string
	err := f.run("list attributes", path, func(o *op) error {
		_, ob, err := f.resolve(o, path)
		if err != nil {
			return err
		}
		names, err = o.attrNames(ob)
		return err
	})
	return names, err
}

func (o *op) attrNames(ob *object) ([]string, error) {
	var names []string
	err := o.eachAttr(ob, func(b []byte) error {
		d := o.f.dec(b)
		version := d.u8()
		d.skip(1)
		n := int(d.u16())
		d.skip(4)
		if version == 3 {
			d.skip(1)
		}
		name := d.take(n)
		if d.bad || n == 0 {
			return o.formatf("truncated attribute message")
		}
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		names = append(names, string(name))
		return nil
	})
	return names, err
}
