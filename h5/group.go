package h5

import (
	"bytes"
	"slices"
	"strings"
)

type linkType int

const (
	linkAbsent linkType = iota
	linkHard
	linkSoft
	linkExternal
	linkUser
)

type link struct {
	name string
	typ  linkType
	addr uint64 // hard links only
}

// lookup finds the link called name in group g; a missing one has type
// linkAbsent.
func (o *op) lookup(g *object, name string) (link, error) {
	links, err := o.links(g)
	if err != nil {
		return link{}, err
	}
	i, ok := slices.BinarySearchFunc(links, name, func(l link, n string) int { return strings.Compare(l.name, n) })
	if !ok {
		return link{name: name}, nil
	}
	return links[i], nil
}

// links lists the links of group g in byte-wise name order, from its
// symbol table, its link messages or its dense link storage.
func (o *op) links(g *object) ([]link, error) {
	if links, ok := o.f.cache.groupLinks(g.addr); ok {
		return links, nil
	}
	var links []link
	var err error
	if m := g.first(msgSymbolTable); m != nil {
		links, err = o.symbolTable(m)
	} else if m := g.first(msgLinkInfo); m != nil {
		links, err = o.linkInfo(g, m)
	} else {
		links, err = o.compactLinks(g)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(links, func(a, b link) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(links); i++ {
		if links[i].name == links[i-1].name {
			return nil, o.formatf("two links named %q", links[i].name)
		}
	}
	o.f.cache.putLinks(g.addr, links)
	return links, nil
}

func (o *op) compactLinks(g *object) ([]link, error) {
	var links []link
	for _, m := range g.msgs {
		if m.typ != msgLink {
			continue
		}
		l, err := o.decodeLink(m.data)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	return links, nil
}

// decodeLink decodes a link message (compact, or a dense record).
func (o *op) decodeLink(b []byte) (link, error) {
	d := o.f.dec(b)
	if v := d.u8(); v != 1 {
		return link{}, o.formatf("link message version %d; want 1", v)
	}
	flags := d.u8()
	typ := uint8(0)
	if flags&0x08 != 0 {
		typ = d.u8()
	}
	if flags&0x04 != 0 {
		d.skip(8) // creation order
	}
	if flags&0x10 != 0 {
		d.skip(1) // character set
	}
	n := d.uint(1 << (flags & 3))
	if n == 0 || n > maxNameLen {
		return link{}, o.formatf("link name of %d bytes", n)
	}
	name := d.take(int(n))
	l := link{name: string(name)}
	switch typ {
	case 0:
		l.typ = linkHard
		l.addr = d.addr()
	case 1:
		l.typ = linkSoft
	case 64:
		l.typ = linkExternal
	default:
		l.typ = linkUser
	}
	if d.bad {
		return link{}, o.formatf("truncated link message")
	}
	if bytes.IndexByte(name, 0) >= 0 {
		return link{}, o.formatf("link name %q contains a NUL byte", name)
	}
	return l, nil
}

// symbolTable lists an old-style group: a version 1 B-tree of symbol table
// nodes whose names live in a local heap.
func (o *op) symbolTable(m *message) ([]link, error) {
	d := o.f.dec(m.data)
	btree, heapAddr := d.addr(), d.addr()
	if d.bad {
		return nil, o.formatf("truncated symbol table message")
	}
	heap, err := o.localHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var links []link
	err = o.btreeV1(btree, 0, func(child uint64, _ []byte) error {
		return o.symbolNode(child, heap, &links)
	})
	if err != nil {
		return nil, err
	}
	return links, nil
}

// localHeap returns the data segment of the local heap at addr.
func (o *op) localHeap(addr uint64) ([]byte, error) {
	n := uint64(8 + 2*o.f.sl + o.f.so)
	b, err := o.read(addr, n, "local heap")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "HEAP" {
		return nil, o.formatf("local heap without HEAP signature")
	}
	d := o.f.dec(b)
	d.skip(8)
	size := d.length()
	d.length() // free list
	data := d.addr()
	if d.bad {
		return nil, o.formatf("truncated local heap")
	}
	return o.read(data, size, "local heap data")
}

// symbolNode appends the entries of the symbol table node at addr.
func (o *op) symbolNode(addr uint64, heap []byte, links *[]link) error {
	b, err := o.read(addr, 8, "symbol table node")
	if err != nil {
		return err
	}
	if string(b[:4]) != "SNOD" {
		return o.formatf("symbol table node without SNOD signature")
	}
	n := uint64(b[6]) | uint64(b[7])<<8
	entry := uint64(2*o.f.so + 24)
	b, err = o.read(addr+8, n*entry, "symbol table node")
	if err != nil {
		return err
	}
	d := o.f.dec(b)
	for range n {
		if err := o.step(); err != nil {
			return err
		}
		nameOff := d.addr()
		hdr := d.addr()
		cache := d.u32()
		d.skip(4 + 16)
		if d.bad {
			return o.formatf("truncated symbol table node")
		}
		name, err := o.heapString(heap, nameOff)
		if err != nil {
			return err
		}
		l := link{name: name, typ: linkHard, addr: hdr}
		if cache == 2 {
			l.typ = linkSoft
		}
		*links = append(*links, l)
	}
	return nil
}

// heapString reads the NUL-terminated string at off in a local heap.
func (o *op) heapString(heap []byte, off uint64) (string, error) {
	if off >= uint64(len(heap)) {
		return "", o.formatf("name at offset %d is outside its local heap (%d bytes)", off, len(heap))
	}
	s := heap[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", o.formatf("name at offset %d in the local heap is not NUL-terminated", off)
	}
	if i == 0 || i > maxNameLen {
		return "", o.formatf("link name of %d bytes", i)
	}
	return string(s[:i]), nil
}

// btreeV1 visits the children of the leaves of the version 1 B-tree at
// addr in key order; typ 0 is a group tree, 1 a chunk tree whose keys
// hold rank+1 dimension offsets (keyDims). fn gets each leaf child and the
// key before it.
func (o *op) btreeV1(addr uint64, typ uint8, fn func(child uint64, key []byte) error, keyDims ...int) error {
	keySize := o.f.sl
	if typ == 1 {
		keySize = 8 + 8*keyDims[0]
	}
	seen := map[uint64]bool{}
	var walk func(addr uint64, depth, level int) error
	walk = func(addr uint64, depth, level int) error {
		if depth > maxDepth {
			return o.formatf("B-tree deeper than %d levels", maxDepth)
		}
		if seen[addr] {
			return o.formatf("B-tree node %d reached twice (a cycle)", addr)
		}
		seen[addr] = true
		hdr := uint64(8 + 2*o.f.so)
		b, err := o.read(addr, hdr, "B-tree node")
		if err != nil {
			return err
		}
		if string(b[:4]) != "TREE" {
			return o.formatf("B-tree node without TREE signature")
		}
		if b[4] != typ {
			return o.formatf("B-tree node of type %d in a tree of type %d", b[4], typ)
		}
		lvl := int(b[5])
		if level >= 0 && lvl != level {
			return o.formatf("B-tree node at level %d where level %d belongs", lvl, level)
		}
		n := uint64(b[6]) | uint64(b[7])<<8
		body := n*uint64(keySize+o.f.so) + uint64(keySize)
		b, err = o.read(addr+hdr, body, "B-tree node")
		if err != nil {
			return err
		}
		d := o.f.dec(b)
		for range n {
			if err := o.step(); err != nil {
				return err
			}
			key := d.take(keySize)
			child := d.addr()
			if d.bad {
				return o.formatf("truncated B-tree node")
			}
			if lvl > 0 {
				err = walk(child, depth+1, lvl-1)
			} else {
				err = fn(child, key)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, 0, -1)
}
