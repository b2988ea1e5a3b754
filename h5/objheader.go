package h5

// Header message types this reader uses.
const (
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgFilters      = 0x0b
	msgAttribute    = 0x0c
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// message flag bits.
const msgFlagShared = 0x02

type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// object is a decoded object header: its messages, continuation blocks
// followed.
type object struct {
	addr uint64
	msgs []message
	// v1 headers declare their message count, continuations and null
	// messages included; Verify compares it with what the blocks hold.
	// declared is -1 for v2 headers, which have no count.
	declared, found int
}

type objKind int

const (
	objOther objKind = iota
	objGroup
	objDataset
	objDatatype
)

func (k objKind) String() string {
	switch k {
	case objGroup:
		return "group"
	case objDataset:
		return "dataset"
	case objDatatype:
		return "named datatype"
	}
	return "object of unknown kind"
}

// kind classifies an object by its messages, as libhdf5 does: a layout
// makes a dataset, a symbol table or link messages a group, a lone
// datatype a named datatype.
func (ob *object) kind() objKind {
	var hasType bool
	for _, m := range ob.msgs {
		switch m.typ {
		case msgLayout:
			return objDataset
		case msgSymbolTable, msgLinkInfo, msgLink:
			return objGroup
		case msgDatatype:
			hasType = true
		}
	}
	if hasType {
		return objDatatype
	}
	return objOther
}

// first returns the first message of type t, or nil.
func (ob *object) first(t uint16) *message {
	for i := range ob.msgs {
		if ob.msgs[i].typ == t {
			return &ob.msgs[i]
		}
	}
	return nil
}

// object decodes the object header at addr. The result is shared through
// the file's cache: callers must not modify it.
func (o *op) object(addr uint64) (*object, error) {
	if err := o.step(); err != nil {
		return nil, err
	}
	if ob := o.f.cache.object(addr); ob != nil {
		return ob, nil
	}
	pre, err := o.read(addr, 4, "object header")
	if err != nil {
		return nil, err
	}
	var ob *object
	if string(pre) == "OHDR" {
		ob, err = o.objectV2(addr)
	} else {
		ob, err = o.objectV1(addr)
	}
	if err != nil {
		return nil, err
	}
	o.f.cache.putObject(ob)
	return ob, nil
}

type chunkRef struct{ addr, size uint64 }

func (o *op) objectV1(addr uint64) (*object, error) {
	b, err := o.read(addr, 16, "object header")
	if err != nil {
		return nil, err
	}
	if b[0] != 1 {
		return nil, o.formatf("object header at %d has version %d; want 1 or 2 (OHDR)", addr, b[0])
	}
	d := o.f.dec(b)
	d.skip(2)
	nmsgs := d.u16()
	d.skip(4)
	size := uint64(d.u32())
	ob := &object{addr: addr, declared: int(nmsgs)}
	chunks := []chunkRef{{addr + 16, size}}
	seen := map[uint64]bool{}
	for len(chunks) > 0 {
		c := chunks[0]
		chunks = chunks[1:]
		if seen[c.addr] || len(seen) > maxDepth*16 {
			return nil, o.formatf("object header continuation blocks form a cycle or an overlong chain")
		}
		seen[c.addr] = true
		data, err := o.read(c.addr, c.size, "object header block")
		if err != nil {
			return nil, err
		}
		d := o.f.dec(data)
		for d.left() >= 8 {
			if err := o.step(); err != nil {
				return nil, err
			}
			typ := d.u16()
			n := int(d.u16())
			flags := d.u8()
			d.skip(3)
			body := d.take(n)
			if d.bad {
				return nil, o.formatf("object header message of type %#x runs past its block", typ)
			}
			ob.found++
			if typ == msgContinuation {
				cd := o.f.dec(body)
				ref := chunkRef{cd.addr(), cd.length()}
				if cd.bad {
					return nil, o.formatf("truncated continuation message")
				}
				chunks = append(chunks, ref)
				continue
			}
			ob.msgs = append(ob.msgs, message{typ, flags, body})
		}
	}
	return ob, nil
}

func (o *op) objectV2(addr uint64) (*object, error) {
	// The prefix is at most 4+1+1+16+4+8 bytes; read what the file has.
	avail := uint64(o.f.size) - (addr + o.f.base)
	n := min(avail, 34)
	b, err := o.read(addr, n, "object header")
	if err != nil {
		return nil, err
	}
	d := o.f.dec(b)
	d.skip(4)
	if v := d.u8(); v != 2 {
		return nil, o.formatf("OHDR object header version %d; want 2", v)
	}
	flags := d.u8()
	if flags&0x20 != 0 {
		d.skip(16) // times
	}
	if flags&0x10 != 0 {
		d.skip(4) // attribute phase change
	}
	size := d.uint(1 << (flags & 3))
	if d.bad {
		return nil, o.formatf("truncated object header")
	}
	pre := uint64(d.p)
	if size > uint64(o.f.size) {
		return nil, o.formatf("object header chunk of %d bytes is larger than the file", size)
	}
	ob := &object{addr: addr, declared: -1}
	chunks := []chunkRef{{addr, pre + size + 4}}
	seen := map[uint64]bool{}
	for first := true; len(chunks) > 0; first = false {
		c := chunks[0]
		chunks = chunks[1:]
		if seen[c.addr] || len(seen) > maxDepth*16 {
			return nil, o.formatf("object header continuation blocks form a cycle or an overlong chain")
		}
		seen[c.addr] = true
		if c.size < 8 {
			return nil, o.formatf("object header continuation block of %d bytes", c.size)
		}
		data, err := o.read(c.addr, c.size, "object header block")
		if err != nil {
			return nil, err
		}
		body := data[:len(data)-4]
		d := o.f.dec(data[len(data)-4:])
		if checksum(body) != d.u32() {
			return nil, o.formatf("object header checksum mismatch")
		}
		if first {
			body = body[pre:]
		} else {
			if string(body[:4]) != "OCHK" {
				return nil, o.formatf("object header continuation block without OCHK signature")
			}
			body = body[4:]
		}
		hdr := 4
		if flags&0x04 != 0 {
			hdr = 6
		}
		md := o.f.dec(body)
		for md.left() >= hdr {
			if err := o.step(); err != nil {
				return nil, err
			}
			typ := uint16(md.u8())
			n := int(md.u16())
			mflags := md.u8()
			if flags&0x04 != 0 {
				md.skip(2)
			}
			data := md.take(n)
			if md.bad {
				return nil, o.formatf("object header message of type %#x runs past its block", typ)
			}
			if typ == msgContinuation {
				cd := o.f.dec(data)
				ref := chunkRef{cd.addr(), cd.length()}
				if cd.bad {
					return nil, o.formatf("truncated continuation message")
				}
				chunks = append(chunks, ref)
				continue
			}
			ob.msgs = append(ob.msgs, message{typ, mflags, data})
		}
	}
	return ob, nil
}
