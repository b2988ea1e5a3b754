package h5

import (
	"errors"
	"fmt"
)

// Dense storage of links and attributes: names indexed by a version 2
// B-tree whose records hold IDs of objects in a fractal heap.

// fheap is a decoded fractal heap header.
type fheap struct {
	addr          uint64
	idLen         int
	filterLen     int
	flags         uint8
	maxManaged    uint64
	width         uint64
	startBlock    uint64
	maxDirect     uint64
	maxHeapBits   int
	rootAddr      uint64
	rootRows      uint64
	offSize       int // bytes of a heap offset
	lenSize       int // bytes of an object length in a managed ID
	maxDirectRows uint64
	hugeBtree     uint64
}

func (o *op) fractalHeap(addr uint64) (*fheap, error) {
	n := uint64(4 + 1 + 2 + 2 + 1 + 4 + 12*o.f.sl + 3*o.f.so + 2 + 2 + 2 + 2 + 4)
	b, err := o.read(addr, n, "fractal heap header")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "FRHP" {
		return nil, o.formatf("fractal heap without FRHP signature")
	}
	d := o.f.dec(b)
	d.skip(4)
	if v := d.u8(); v != 0 {
		return nil, o.formatf("fractal heap version %d; want 0", v)
	}
	h := &fheap{addr: addr}
	h.idLen = int(d.u16())
	h.filterLen = int(d.u16())
	h.flags = d.u8()
	h.maxManaged = uint64(d.u32())
	d.length() // next huge ID
	h.hugeBtree = d.addr()
	d.length() // free space
	d.addr()   // free space manager
	d.length() // managed space
	d.length() // allocated managed space
	d.length() // direct block allocation iterator
	d.length() // managed objects
	d.length() // huge object size
	d.length() // huge objects
	d.length() // tiny object size
	d.length() // tiny objects
	h.width = uint64(d.u16())
	h.startBlock = d.length()
	h.maxDirect = d.length()
	h.maxHeapBits = int(d.u16())
	d.u16() // starting rows of the root indirect block
	h.rootAddr = d.addr()
	h.rootRows = uint64(d.u16())
	if d.bad {
		return nil, o.formatf("truncated fractal heap header")
	}
	if h.filterLen != 0 {
		return nil, o.unsupported("filtered fractal heap")
	}
	end := d.p
	if checksum(b[:end]) != d.u32() {
		return nil, o.formatf("fractal heap header checksum mismatch")
	}
	ls, lm := log2(h.startBlock), log2(h.maxDirect)
	if h.width == 0 || h.width > 1<<16 || ls < 0 || lm < ls || h.maxHeapBits < 1 || h.maxHeapBits > 64 || lm >= h.maxHeapBits+1 {
		return nil, o.formatf("fractal heap geometry out of range (width %d, blocks %d..%d, %d bits)", h.width, h.startBlock, h.maxDirect, h.maxHeapBits)
	}
	h.offSize = (h.maxHeapBits + 7) / 8
	h.lenSize = min((lm+7)/8, bytesFor(h.maxManaged))
	h.maxDirectRows = uint64(lm - ls + 2)
	return h, nil
}

// rowSize is the size of the blocks in row r of an indirect block.
func (h *fheap) rowSize(r uint64) uint64 {
	if r == 0 {
		return h.startBlock
	}
	if r-1 >= 64 {
		return 0
	}
	return h.startBlock << (r - 1)
}

// object returns the bytes of the heap object with the given ID.
func (o *op) heapObject(h *fheap, id []byte) ([]byte, error) {
	if len(id) == 0 {
		return nil, o.formatf("empty fractal heap ID")
	}
	switch (id[0] >> 4) & 3 {
	case 0: // managed
		d := o.f.dec(id[1:])
		off := d.uint(h.offSize)
		n := d.uint(h.lenSize)
		if d.bad {
			return nil, o.formatf("truncated fractal heap ID")
		}
		return o.managed(h, off, n)
	case 2: // tiny: the object is in the ID
		n := int(id[0]&0x0f) + 1
		if 1+n > len(id) {
			return nil, o.formatf("tiny heap object longer than its ID")
		}
		return id[1 : 1+n], nil
	case 1:
		return o.hugeObject(h, id[1:])
	}
	return nil, o.formatf("fractal heap ID of unknown type")
}

// hugeObject reads an object too big for the heap's blocks, stored on its
// own: its ID holds its address and length, or a key to look them up in
// the heap's B-tree of huge objects.
func (o *op) hugeObject(h *fheap, id []byte) ([]byte, error) {
	var addr, n uint64
	if len(id) >= o.f.so+o.f.sl {
		d := o.f.dec(id)
		addr, n = d.addr(), d.length()
	} else {
		d := o.f.dec(id)
		key := d.uint(min(len(id), 8))
		found := false
		errFound := errors.New("found")
		err := o.btree2Records(h.hugeBtree, func(rec []byte) error {
			d := o.f.dec(rec)
			a, l, k := d.addr(), d.length(), d.length()
			if d.bad {
				return o.formatf("truncated huge object record")
			}
			if k == key {
				addr, n, found = a, l, true
				return errFound
			}
			return nil
		})
		if err != nil && err != errFound {
			return nil, err
		}
		if !found {
			return nil, o.formatf("huge heap object %d not found", key)
		}
	}
	if n > uint64(MaxAttrBytes) {
		return nil, fmt.Errorf("a heap object of %d bytes exceeds MaxAttrBytes (%d)", n, MaxAttrBytes)
	}
	return o.read(addr, n, "huge heap object")
}

// managed reads n bytes at heap offset off.
func (o *op) managed(h *fheap, off, n uint64) ([]byte, error) {
	if n > h.maxManaged || n > h.maxDirect {
		return nil, o.formatf("heap object of %d bytes exceeds the heap's managed object size", n)
	}
	if h.rootRows == 0 {
		return o.directBlock(h, h.rootAddr, 0, h.startBlock, off, n)
	}
	addr, rows, start := h.rootAddr, h.rootRows, uint64(0)
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return nil, o.formatf("fractal heap indirect blocks nested too deep")
		}
		if err := o.step(); err != nil {
			return nil, err
		}
		direct := min(rows, h.maxDirectRows) * h.width
		indirect := uint64(0)
		if rows > h.maxDirectRows {
			indirect = (rows - h.maxDirectRows) * h.width
		}
		hdr := uint64(4 + 1 + o.f.so + h.offSize)
		size := hdr + (direct+indirect)*uint64(o.f.so) + 4
		b, err := o.read(addr, size, "fractal heap indirect block")
		if err != nil {
			return nil, err
		}
		if string(b[:4]) != "FHIB" {
			return nil, o.formatf("fractal heap indirect block without FHIB signature")
		}
		if checksum(b[:size-4]) != o.f.dec(b[size-4:]).u32() {
			return nil, o.formatf("fractal heap indirect block checksum mismatch")
		}
		d := o.f.dec(b[hdr:])
		cur := start
		found := false
		for r := uint64(0); r < rows && !found; r++ {
			rs := h.rowSize(r)
			if rs == 0 {
				return nil, o.formatf("fractal heap row %d out of range", r)
			}
			for c := uint64(0); c < h.width; c++ {
				child := d.addr()
				if off >= cur && off-cur < rs {
					if child == undef {
						return nil, o.formatf("heap object in an unallocated block")
					}
					if r < h.maxDirectRows {
						return o.directBlock(h, child, cur, rs, off, n)
					}
					// A child indirect block spanning rs bytes.
					lr := log2(rs) - log2(h.startBlock*h.width) + 1
					if lr < 1 {
						return nil, o.formatf("fractal heap geometry out of range")
					}
					addr, rows, start = child, uint64(lr), cur
					found = true
					break
				}
				cur += rs
			}
		}
		if !found {
			return nil, o.formatf("heap offset %d beyond the heap", off)
		}
	}
}

// directBlock reads n bytes at heap offset off from the direct block at
// addr, which starts at heap offset start and spans size bytes.
func (o *op) directBlock(h *fheap, addr, start, size, off, n uint64) ([]byte, error) {
	rel := off - start
	if rel > size || n > size-rel {
		return nil, o.formatf("heap object runs past its direct block")
	}
	b, err := o.read(addr, 5, "fractal heap direct block")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "FHDB" {
		return nil, o.formatf("fractal heap direct block without FHDB signature")
	}
	return o.read(addr+rel, n, "fractal heap object")
}

// btree2 is a decoded version 2 B-tree header.
type btree2 struct {
	typ      uint8
	nodeSize uint64
	recSize  uint64
	depth    int
	root     uint64
	rootRecs uint64
	// per depth: max records in a node, and bytes of the child pointers'
	// record counts
	maxRec    []uint64
	cumMaxRec []uint64
	cumSize   []int
	nrecSize  int
}

func (o *op) btree2Header(addr uint64) (*btree2, error) {
	n := uint64(4+1+1+4+2+2+1+1+o.f.so+2+o.f.sl) + 4
	b, err := o.read(addr, n, "v2 B-tree header")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "BTHD" {
		return nil, o.formatf("v2 B-tree without BTHD signature")
	}
	if checksum(b[:n-4]) != o.f.dec(b[n-4:]).u32() {
		return nil, o.formatf("v2 B-tree header checksum mismatch")
	}
	d := o.f.dec(b)
	d.skip(4)
	if v := d.u8(); v != 0 {
		return nil, o.formatf("v2 B-tree version %d; want 0", v)
	}
	t := &btree2{typ: d.u8()}
	t.nodeSize = uint64(d.u32())
	t.recSize = uint64(d.u16())
	t.depth = int(d.u16())
	d.skip(2)
	t.root = d.addr()
	t.rootRecs = uint64(d.u16())
	if t.nodeSize < 32 || t.nodeSize > 1<<24 || t.recSize == 0 || t.recSize > t.nodeSize || t.depth > maxDepth {
		return nil, o.formatf("v2 B-tree geometry out of range (node %d, record %d, depth %d)", t.nodeSize, t.recSize, t.depth)
	}
	// The sizes of the record counts in child pointers follow from the
	// geometry, as in libhdf5's H5B2__hdr_init.
	t.maxRec = make([]uint64, t.depth+1)
	t.cumMaxRec = make([]uint64, t.depth+1)
	t.cumSize = make([]int, t.depth+1)
	t.maxRec[0] = (t.nodeSize - 10) / t.recSize
	t.cumMaxRec[0] = t.maxRec[0]
	t.nrecSize = bytesFor(t.maxRec[0])
	for u := 1; u <= t.depth; u++ {
		ptr := uint64(o.f.so + t.nrecSize)
		if u > 1 {
			ptr += uint64(t.cumSize[u-1])
		}
		if t.nodeSize < 10+ptr+t.recSize {
			return nil, o.formatf("v2 B-tree nodes of %d bytes cannot hold a record", t.nodeSize)
		}
		t.maxRec[u] = (t.nodeSize - 10 - ptr) / (t.recSize + ptr)
		c := (t.maxRec[u]+1)*t.cumMaxRec[u-1] + t.maxRec[u]
		if c < t.cumMaxRec[u-1] { // overflow
			c = undef
		}
		t.cumMaxRec[u] = c
		t.cumSize[u] = bytesFor(c)
	}
	return t, nil
}

// btree2Records visits every record of the v2 B-tree at addr.
func (o *op) btree2Records(addr uint64, fn func(rec []byte) error) error {
	t, err := o.btree2Header(addr)
	if err != nil {
		return err
	}
	if t.root == undef || t.rootRecs == 0 {
		return nil
	}
	var walk func(addr, nrec uint64, depth int) error
	walk = func(addr, nrec uint64, depth int) error {
		if nrec > t.maxRec[depth] || nrec*t.recSize > t.nodeSize {
			return o.formatf("v2 B-tree node claims %d records, room for %d", nrec, t.maxRec[depth])
		}
		b, err := o.read(addr, t.nodeSize, "v2 B-tree node")
		if err != nil {
			return err
		}
		sig := "BTLF"
		if depth > 0 {
			sig = "BTIN"
		}
		if string(b[:4]) != sig {
			return o.formatf("v2 B-tree node without %s signature", sig)
		}
		if b[5] != t.typ {
			return o.formatf("v2 B-tree node of type %d in a tree of type %d", b[5], t.typ)
		}
		d := o.f.dec(b[6:])
		recs := make([][]byte, nrec)
		for i := range recs {
			recs[i] = d.take(int(t.recSize))
		}
		type ptr struct{ addr, n uint64 }
		var kids []ptr
		if depth > 0 {
			kids = make([]ptr, nrec+1)
			for i := range kids {
				kids[i].addr = d.addr()
				kids[i].n = d.uint(t.nrecSize)
				if depth > 1 {
					d.uint(t.cumSize[depth-1])
				}
			}
		}
		if d.bad {
			return o.formatf("truncated v2 B-tree node")
		}
		end := 6 + d.p
		if checksum(b[:end]) != o.f.dec(b[end:]).u32() {
			return o.formatf("v2 B-tree node checksum mismatch")
		}
		for i := uint64(0); i <= nrec; i++ {
			if err := o.step(); err != nil {
				return err
			}
			if depth > 0 {
				if err := walk(kids[i].addr, kids[i].n, depth-1); err != nil {
					return err
				}
			}
			if i < nrec {
				if err := fn(recs[i]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(t.root, t.rootRecs, t.depth)
}

// linkInfo lists a new-style group: compact link messages, or dense
// storage when the link info message names a fractal heap.
func (o *op) linkInfo(g *object, m *message) ([]link, error) {
	d := o.f.dec(m.data)
	if v := d.u8(); v != 0 {
		return nil, o.formatf("link info message version %d; want 0", v)
	}
	flags := d.u8()
	if flags&1 != 0 {
		d.skip(8)
	}
	heapAddr, nameIndex := d.addr(), d.addr()
	if d.bad {
		return nil, o.formatf("truncated link info message")
	}
	if heapAddr == undef {
		return o.compactLinks(g)
	}
	h, err := o.fractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var links []link
	err = o.btree2Records(nameIndex, func(rec []byte) error {
		if len(rec) < 4 {
			return o.formatf("link name record of %d bytes", len(rec))
		}
		obj, err := o.heapObject(h, rec[4:]) // after the name hash
		if err != nil {
			return err
		}
		l, err := o.decodeLink(obj)
		if err != nil {
			return err
		}
		links = append(links, l)
		return nil
	})
	return links, err
}
