package h5

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// undef is HDF5's undefined address (all bits set), whatever the size of
// offsets; dec.addr normalises shorter ones to it.
const undef = ^uint64(0)

// op is the state of one call: the object being decoded (for errors) and
// what the call may still spend. Every read of metadata and every loop
// iteration draws on it, so no file can make a call run or allocate
// without bound, however its structures point at each other.
type op struct {
	f     *File
	obj   string // HDF5 path of the object being decoded
	meta  int64  // metadata bytes the call may still read
	steps int    // loop iterations left
	// heaps caches the global heap collections the call has read, each
	// indexed by object: many variable-length strings share one.
	heaps map[uint64]map[uint32][]byte
}

func (f *File) newOp(obj string) *op {
	return &op{f: f, obj: obj, meta: MaxMetadataBytes, steps: maxSteps}
}

func (o *op) formatf(format string, args ...any) error {
	return &FormatError{Object: o.obj, Msg: fmt.Sprintf(format, args...)}
}

func (o *op) unsupported(format string, args ...any) error {
	return &UnsupportedError{Object: o.obj, Feature: fmt.Sprintf(format, args...)}
}

// step counts one loop iteration.
func (o *op) step() error {
	o.steps--
	if o.steps < 0 {
		return o.formatf("more than %d records, messages or blocks visited in one call", maxSteps)
	}
	return nil
}

// span checks that n bytes at address addr (relative to the base address)
// lie inside the file and returns the absolute offset.
func (o *op) span(addr, n uint64, what string) (int64, error) {
	if addr == undef {
		return 0, o.formatf("%s at the undefined address", what)
	}
	abs := addr + o.f.base
	size := uint64(o.f.size)
	if abs < addr || abs > size || n > size-abs {
		return 0, o.formatf("%s (%d bytes at address %d) lies beyond the end of the file (%d bytes)", what, n, addr, size)
	}
	return int64(abs), nil
}

// read reads n bytes of metadata at addr, within the call's budget.
func (o *op) read(addr, n uint64, what string) ([]byte, error) {
	off, err := o.span(addr, n, what)
	if err != nil {
		return nil, err
	}
	if n > uint64(o.meta) {
		return nil, o.formatf("%s: reading %d bytes of metadata would exceed MaxMetadataBytes (%d) for one call", what, n, MaxMetadataBytes)
	}
	o.meta -= int64(n)
	if n <= pageSize {
		return o.f.readPaged(off, n, what, o)
	}
	return o.f.readRaw(off, n, what, o)
}

// Metadata is read through a small cache of file pages: decoding one
// object reads a dozen fields of a few bytes each, scattered over a few
// pages, and a read call per field (a system call for a file) cost more
// than all the decoding. Data is read directly.
const (
	pageSize = 4 << 10
	maxPages = 4 << 10 // 16 MiB per file
)

type pages struct {
	mu sync.Mutex
	m  map[int64][]byte
}

// readPaged reads n <= pageSize bytes at absolute offset off, which span
// has checked, through the page cache.
func (f *File) readPaged(off int64, n uint64, what string, o *op) ([]byte, error) {
	buf := make([]byte, n)
	for done := uint64(0); done < n; {
		at := off + int64(done)
		start := at &^ (pageSize - 1)
		p, err := f.page(start, what, o)
		if err != nil {
			return nil, err
		}
		k := copy(buf[done:], p[min(int(at-start), len(p)):])
		if k == 0 {
			return nil, o.formatf("%s: file ends early", what)
		}
		done += uint64(k)
	}
	return buf, nil
}

// page returns the page at start (shorter at the end of the file).
func (f *File) page(start int64, what string, o *op) ([]byte, error) {
	f.pages.mu.Lock()
	p, ok := f.pages.m[start]
	f.pages.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := f.readRaw(start, uint64(min(pageSize, f.size-start)), what, o)
	if err != nil {
		return nil, err
	}
	f.pages.mu.Lock()
	if f.pages.m == nil {
		f.pages.m = map[int64][]byte{}
	}
	if len(f.pages.m) < maxPages {
		f.pages.m[start] = p
	}
	f.pages.mu.Unlock()
	return p, nil
}

// readRaw reads n bytes at absolute offset off, which span has checked;
// the caller has bounded n.
func (f *File) readRaw(off int64, n uint64, what string, o *op) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := f.r.ReadAt(buf, off); err != nil && !(err == io.EOF && len(buf) == 0) {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, o.formatf("%s: file ends early", what)
		}
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return buf, nil
}

// dec decodes little-endian fields from b. Reading past the end sets bad
// and yields zeros, so a parser checks once, at the end.
type dec struct {
	b      []byte
	p      int
	bad    bool
	so, sl int // sizes of offsets and lengths
}

func (f *File) dec(b []byte) *dec { return &dec{b: b, so: f.so, sl: f.sl} }

func (d *dec) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b)-d.p {
		d.bad = true
		return nil
	}
	s := d.b[d.p : d.p+n]
	d.p += n
	return s
}

func (d *dec) left() int { return len(d.b) - d.p }

func (d *dec) skip(n int) { d.take(n) }

func (d *dec) u8() uint8 {
	if s := d.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (d *dec) u16() uint16 {
	if s := d.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (d *dec) u32() uint32 {
	if s := d.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

// uint reads an n-byte unsigned integer, 0 <= n <= 8.
func (d *dec) uint(n int) uint64 {
	if n > 8 {
		d.bad = true
		return 0
	}
	s := d.take(n)
	var v uint64
	for i := len(s) - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v
}

// addr reads a file address, mapping all-ones to undef.
func (d *dec) addr() uint64 {
	v := d.uint(d.so)
	if d.so < 8 && v == 1<<(8*d.so)-1 {
		return undef
	}
	return v
}

func (d *dec) length() uint64 { return d.uint(d.sl) }

// bytesFor is how many bytes encode values up to max (HDF5's
// H5VM_limit_enc_size): at least 1.
func bytesFor(max uint64) int {
	n := 1
	for max >>= 8; max > 0; max >>= 8 {
		n++
	}
	return n
}

// log2 of a power of two, or -1.
func log2(v uint64) int {
	if v == 0 || v&(v-1) != 0 {
		return -1
	}
	n := 0
	for v > 1 {
		v >>= 1
		n++
	}
	return n
}
