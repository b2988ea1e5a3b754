package h5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxFillBytes bounds the part of one read that the file does not store:
// storage never written, which reads as the fill value. A file can declare
// a dataset of any size without storing it; this keeps such a declaration
// from costing memory a file of its size could not otherwise claim.
var MaxFillBytes int64 = 64 << 20

// layout is a decoded data layout message.
type layout struct {
	class   uint8 // 0 compact, 1 contiguous, 2 chunked
	addr    uint64
	size    uint64 // contiguous: bytes stored
	compact []byte
	chunk   []uint64 // chunked: chunk dimensions, the element size last
	index   uint8    // chunked, version 4: index type (0 for v1 B-tree)
	single  struct {
		size uint64
		mask uint32
	}
}

func (o *op) layout(b []byte) (*layout, error) {
	d := o.f.dec(b)
	version := d.u8()
	l := &layout{}
	switch version {
	case 1, 2:
		rank := int(d.u8())
		l.class = d.u8()
		d.skip(5)
		if l.class != 0 {
			l.addr = d.addr()
		}
		dims := make([]uint64, 0, min(rank, maxRank+1))
		for i := 0; i < rank && i <= maxRank; i++ {
			dims = append(dims, uint64(d.u32()))
		}
		switch l.class {
		case 0:
			n := d.u32()
			l.compact = d.take(int(n))
		case 1:
			l.size = undef // the dataspace gives the size
		case 2:
			l.chunk = append(dims, uint64(d.u32()))
		}
	case 3, 4:
		l.class = d.u8()
		switch l.class {
		case 0:
			n := d.u16()
			l.compact = d.take(int(n))
		case 1:
			l.addr = d.addr()
			l.size = d.length()
		case 2:
			if version == 3 {
				rank := int(d.u8())
				l.addr = d.addr()
				for i := 0; i < rank && i <= maxRank+1; i++ {
					l.chunk = append(l.chunk, uint64(d.u32()))
				}
				break
			}
			flags := d.u8()
			rank := int(d.u8())
			enc := int(d.u8())
			for i := 0; i < rank && i <= maxRank+1; i++ {
				l.chunk = append(l.chunk, d.uint(enc))
			}
			l.index = d.u8()
			switch l.index {
			case 1: // a single chunk
				if flags&2 != 0 {
					l.single.size = d.length()
					l.single.mask = d.u32()
				}
			default:
				return nil, o.unsupported("chunk index type %d (fixed/extensible array, v2 B-tree or implicit)", l.index)
			}
			l.addr = d.addr()
		case 3:
			return nil, errors.New("virtual dataset (data in other files), not read")
		default:
			return nil, o.formatf("data layout class %d", l.class)
		}
	default:
		return nil, o.formatf("data layout message version %d", version)
	}
	if d.bad {
		return nil, o.formatf("truncated data layout message")
	}
	return l, nil
}

// fillValue returns the dataset's fill value, nil for zeros.
func (o *op) fillValue(ds *dataset) ([]byte, error) {
	elem := ds.typ.size
	check := func(v []byte) ([]byte, error) {
		if len(v) == 0 {
			return nil, nil
		}
		if len(v) != elem {
			return nil, o.formatf("fill value of %d bytes for elements of %d", len(v), elem)
		}
		return v, nil
	}
	if m := ds.obj.first(msgFill); m != nil {
		d := o.f.dec(m.data)
		version := d.u8()
		var defined bool
		switch version {
		case 1, 2:
			d.skip(2)
			defined = d.u8() != 0
			if version == 1 || defined {
				n := d.u32()
				return check(d.take(int(n)))
			}
			return nil, nil
		case 3:
			flags := d.u8()
			if flags&0x20 != 0 {
				n := d.u32()
				v := d.take(int(n))
				if d.bad {
					return nil, o.formatf("truncated fill value message")
				}
				return check(v)
			}
			return nil, nil
		default:
			return nil, o.formatf("fill value message version %d", version)
		}
	}
	if m := ds.obj.first(msgFillOld); m != nil {
		d := o.f.dec(m.data)
		n := d.u32()
		v := d.take(int(n))
		if d.bad {
			return nil, o.formatf("truncated fill value message")
		}
		return check(v)
	}
	return nil, nil
}

// fillWith returns n bytes of repeated fill values, within MaxFillBytes.
func (o *op) fillBudget(n uint64) error {
	if n > uint64(MaxFillBytes) {
		return fmt.Errorf("%d bytes of the dataset were never written (they read as the fill value), more than MaxFillBytes (%d)", n, MaxFillBytes)
	}
	return nil
}

func fill(buf, v []byte) {
	if v == nil {
		clear(buf)
		return
	}
	for i := 0; i+len(v) <= len(buf); i += len(v) {
		copy(buf[i:], v)
	}
}

// readData returns the n elements of a dataset with dimensions dims, raw
// in the file's byte order. The caller has bounded n times the element
// size.
func (o *op) readData(ds *dataset, dims []uint64, n uint64) ([]byte, error) {
	if elem := uint64(ds.typ.size); n*elem > uint64(MaxReadBytes) {
		return nil, fmt.Errorf("%d elements of %d bytes exceed MaxReadBytes (%d)", n, elem, MaxReadBytes)
	}
	l, c, err := o.storage(ds, dims, n)
	if err != nil {
		return nil, err
	}
	fv, err := o.fillValue(ds)
	if err != nil {
		return nil, err
	}
	total := n * uint64(ds.typ.size)
	switch {
	case total == 0:
		return []byte{}, nil // no element to read, whatever the storage says
	case c != nil:
		return o.readChunked(ds, c, dims, total, fv)
	case l.class == 0:
		return bytes.Clone(l.compact[:total]), nil
	case l.addr == undef:
		if err := o.fillBudget(total); err != nil {
			return nil, err
		}
		buf := make([]byte, total)
		fill(buf, fv)
		return buf, nil
	}
	off, err := o.span(l.addr, total, "dataset data")
	if err != nil {
		return nil, err
	}
	return o.f.readRaw(off, total, "dataset data", o)
}

// storage decodes the layout of a dataset of n elements with dimensions
// dims and checks, without reading any data, that the storage it declares
// holds them: compact data long enough, contiguous data inside the file
// (unless never written), chunks as chunkIndex checks them (c is nil
// unless chunked). Reads and Verify share it.
func (o *op) storage(ds *dataset, dims []uint64, n uint64) (l *layout, c *chunked, err error) {
	if ds.obj.first(msgExternal) != nil {
		return nil, nil, errors.New("dataset uses external raw storage (data in other files), not read")
	}
	lm := ds.obj.first(msgLayout)
	if lm == nil {
		return nil, nil, o.formatf("dataset without a data layout")
	}
	if l, err = o.layout(lm.data); err != nil {
		return nil, nil, err
	}
	elem := uint64(ds.typ.size)
	total := n * elem
	if total == 0 {
		return l, nil, nil
	}
	// n is at most 2^31 and elem 2^24: total does not overflow. It is not
	// bounded by MaxReadBytes here: that bounds reads, and Verify checks
	// datasets no call may ever read.
	switch l.class {
	case 0:
		if uint64(len(l.compact)) < total {
			return nil, nil, o.formatf("compact data of %d bytes for %d elements of %d bytes", len(l.compact), n, elem)
		}
	case 1:
		if l.addr == undef {
			break // never written: reads as the fill value
		}
		if l.size != undef && l.size < total {
			return nil, nil, o.formatf("contiguous storage of %d bytes for %d bytes of data", l.size, total)
		}
		if _, err := o.span(l.addr, total, "dataset data"); err != nil {
			return nil, nil, err
		}
	case 2:
		if c, err = o.chunkIndex(ds, l, dims); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, o.formatf("data layout class %d", l.class)
	}
	return l, c, nil
}

// chunkRec is one stored chunk: where, how big, which filters skipped.
type chunkRec struct {
	addr, size uint64
	mask       uint32
	offset     []uint64
}

// chunked is a chunked dataset's geometry and its stored chunks.
type chunked struct {
	cdims      []uint64 // chunk dimensions
	chunkBytes uint64   // bytes of one chunk, unfiltered
	grid       uint64   // chunks the dataset has room for
	pipe       []filter
	chunks     []chunkRec
}

// chunkIndex decodes a chunked dataset's geometry and filters and lists
// its stored chunks, each checked without being read: its offset is a
// chunk boundary inside the dataset, its stored size fits a chunk (after
// filters) and it lies inside the file. Reads and Verify share it.
func (o *op) chunkIndex(ds *dataset, l *layout, dims []uint64) (*chunked, error) {
	rank := len(dims)
	if len(l.chunk) != rank+1 || rank == 0 {
		return nil, o.formatf("chunks of rank %d in a dataset of rank %d", len(l.chunk)-1, rank)
	}
	elem := uint64(ds.typ.size)
	c := &chunked{cdims: l.chunk[:rank]}
	chunkElems, err := numElements(c.cdims, maxElements)
	if err != nil || chunkElems == 0 {
		return nil, o.formatf("chunk shape %s", shapeString(c.cdims))
	}
	c.chunkBytes = chunkElems * elem
	if c.chunkBytes > uint64(MaxReadBytes) {
		return nil, fmt.Errorf("chunks of %d bytes exceed MaxReadBytes (%d)", c.chunkBytes, MaxReadBytes)
	}
	c.grid = 1
	for i, d := range dims {
		c.grid *= (d + c.cdims[i] - 1) / c.cdims[i] // at most the element count
	}
	if c.pipe, err = o.filters(ds.obj); err != nil {
		return nil, err
	}
	switch l.index {
	case 0:
		if l.addr != undef {
			err = o.btreeV1(l.addr, 1, func(child uint64, key []byte) error {
				if uint64(len(c.chunks)) >= c.grid {
					return o.formatf("more chunks than the dataset has room for (%d)", c.grid)
				}
				d := o.f.dec(key)
				r := chunkRec{addr: child, size: uint64(d.u32()), mask: d.u32()}
				r.offset = make([]uint64, rank)
				for i := range r.offset {
					r.offset[i] = d.uint(8)
				}
				c.chunks = append(c.chunks, r)
				return nil
			}, rank+1)
		}
	case 1:
		if l.addr != undef {
			size := l.single.size
			if len(c.pipe) == 0 {
				size = c.chunkBytes
			}
			c.chunks = append(c.chunks, chunkRec{addr: l.addr, size: size, mask: l.single.mask, offset: make([]uint64, rank)})
		}
	}
	if err != nil {
		return nil, err
	}
	for _, r := range c.chunks {
		if err := o.step(); err != nil {
			return nil, err
		}
		for i, off := range r.offset {
			if off%c.cdims[i] != 0 || off >= dims[i] {
				return nil, o.formatf("chunk at offset %v does not fit the dataset %s with chunks %s", r.offset, shapeString(dims), shapeString(c.cdims))
			}
		}
		if r.size > c.chunkBytes+c.chunkBytes/16+4096 || (len(c.pipe) == 0 && r.size < c.chunkBytes) {
			return nil, o.formatf("stored chunk of %d bytes for a chunk of %d", r.size, c.chunkBytes)
		}
		if _, err := o.span(r.addr, r.size, "chunk"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readChunked reads the chunks chunkIndex listed into a buffer of total
// bytes, the fill value where none is stored.
func (o *op) readChunked(ds *dataset, c *chunked, dims []uint64, total uint64, fv []byte) ([]byte, error) {
	elem := uint64(ds.typ.size)
	if missing := c.grid - uint64(len(c.chunks)); missing > 0 {
		if err := o.fillBudget(min(missing*c.chunkBytes, total)); err != nil {
			return nil, err
		}
	}
	out := make([]byte, total)
	if uint64(len(c.chunks)) < c.grid {
		fill(out, fv)
	}
	for _, r := range c.chunks {
		if err := o.step(); err != nil {
			return nil, err
		}
		at, err := o.span(r.addr, r.size, "chunk")
		if err != nil {
			return nil, err
		}
		data, err := o.f.readRaw(at, r.size, "chunk", o)
		if err != nil {
			return nil, err
		}
		if data, err = o.unfilter(c.pipe, r.mask, data, c.chunkBytes, elem); err != nil {
			return nil, err
		}
		if uint64(len(data)) < c.chunkBytes {
			return nil, o.formatf("chunk decodes to %d bytes, want %d", len(data), c.chunkBytes)
		}
		copyChunk(out, data, dims, c.cdims, r.offset, elem)
	}
	return out, nil
}

// copyChunk copies the part of a chunk at offset that lies inside the
// dataset into out, both row-major.
func copyChunk(out, chunk []byte, dims, cdims, offset []uint64, elem uint64) {
	rank := len(dims)
	last := rank - 1
	run := min(cdims[last], dims[last]-offset[last]) * elem
	idx := make([]uint64, rank) // position inside the chunk; last stays 0
	for {
		src, dst := uint64(0), uint64(0)
		inside := true
		for i := 0; i < rank; i++ {
			src = src*cdims[i] + idx[i]
			g := offset[i] + idx[i]
			if g >= dims[i] {
				inside = false
				break
			}
			dst = dst*dims[i] + g
		}
		if inside {
			copy(out[dst*elem:dst*elem+run], chunk[src*elem:src*elem+run])
		}
		// Next row: increment idx over all dimensions but the last.
		i := last - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < cdims[i] && offset[i]+idx[i] < dims[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

type filter struct {
	id    uint16
	flags uint16
	cd    []uint32
}

const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
)

func (o *op) filters(ob *object) ([]filter, error) {
	m := ob.first(msgFilters)
	if m == nil {
		return nil, nil
	}
	d := o.f.dec(m.data)
	version, n := d.u8(), int(d.u8())
	if version == 1 {
		d.skip(6)
	} else if version != 2 {
		return nil, o.formatf("filter pipeline message version %d", version)
	}
	if n > 32 {
		return nil, o.formatf("%d filters in a pipeline (HDF5 allows 32)", n)
	}
	var fs []filter
	for range n {
		var f filter
		f.id = d.u16()
		nameLen := 0
		if version == 1 || f.id >= 256 {
			nameLen = int(d.u16())
		}
		f.flags = d.u16()
		nvals := int(d.u16())
		if version == 1 {
			nameLen = (nameLen + 7) &^ 7
		}
		d.skip(nameLen)
		if nvals > 256 {
			return nil, o.formatf("filter with %d parameters", nvals)
		}
		for range nvals {
			f.cd = append(f.cd, d.u32())
		}
		if version == 1 && nvals%2 == 1 {
			d.skip(4)
		}
		if d.bad {
			return nil, o.formatf("truncated filter pipeline message")
		}
		switch f.id {
		case filterDeflate, filterShuffle, filterFletcher32:
		default:
			return nil, o.unsupported("filter %d (only deflate, shuffle and fletcher32 are read)", f.id)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// unfilter undoes the pipeline on one chunk, last filter first, skipping
// those the chunk's mask marks as not applied.
func (o *op) unfilter(pipe []filter, mask uint32, data []byte, chunkBytes, elem uint64) ([]byte, error) {
	for i := len(pipe) - 1; i >= 0; i-- {
		if mask&(1<<i) != 0 {
			continue
		}
		switch f := pipe[i]; f.id {
		case filterDeflate:
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, o.formatf("deflated chunk: %v", err)
			}
			out := make([]byte, chunkBytes)
			n, err := io.ReadFull(zr, out)
			if err != nil && err != io.ErrUnexpectedEOF {
				return nil, o.formatf("deflated chunk: %v", err)
			}
			data = out[:n]
		case filterShuffle:
			size := elem
			if len(f.cd) > 0 {
				size = uint64(f.cd[0])
			}
			data = unshuffle(data, size)
		case filterFletcher32:
			if len(data) < 4 {
				return nil, o.formatf("fletcher32 chunk of %d bytes", len(data))
			}
			body := data[:len(data)-4]
			stored := binary.LittleEndian.Uint32(data[len(data)-4:])
			sum := fletcher32(body)
			// Files written by libhdf5 before 1.6.3 on little-endian
			// machines stored the sum byte-swapped; libhdf5 accepts both.
			swapped := sum>>24 | (sum>>8)&0xff00 | (sum<<8)&0xff0000 | sum<<24
			if stored != sum && stored != swapped {
				return nil, o.formatf("chunk fails its fletcher32 checksum")
			}
			data = body
		}
	}
	return data, nil
}

func unshuffle(in []byte, size uint64) []byte {
	if size <= 1 || uint64(len(in)) < size {
		return in
	}
	n := uint64(len(in)) / size
	out := make([]byte, len(in))
	for j := uint64(0); j < size; j++ {
		src := in[j*n : (j+1)*n]
		for i, b := range src {
			out[uint64(i)*size+j] = b
		}
	}
	copy(out[n*size:], in[n*size:])
	return out
}

// fletcher32 is HDF5's Fletcher checksum over big-endian 16-bit words.
func fletcher32(data []byte) uint32 {
	var sum1, sum2 uint32
	for len(data) >= 2 {
		t := min(len(data)/2, 360)
		for range t {
			sum1 += uint32(data[0])<<8 | uint32(data[1])
			data = data[2:]
			sum2 += sum1
		}
		sum1 = sum1&0xffff + sum1>>16
		sum2 = sum2&0xffff + sum2>>16
	}
	if len(data) == 1 {
		sum1 += uint32(data[0]) << 8
		sum2 += sum1
		sum1 = sum1&0xffff + sum1>>16
		sum2 = sum2&0xffff + sum2>>16
	}
	sum1 = sum1&0xffff + sum1>>16
	sum2 = sum2&0xffff + sum2>>16
	return sum2<<16 | sum1
}
