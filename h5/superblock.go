package h5

import (
	"io"
)

// readSuperblock finds the superblock where HDF5 allows one (offset 0,
// then every power of two from 512) and reads the sizes and the root
// group's address from it.
func (f *File) readSuperblock() error {
	o := f.newOp("")
	var sig [len(signature)]byte
	at := int64(-1)
	for off := int64(0); off+int64(len(sig)) <= f.size; {
		if _, err := f.r.ReadAt(sig[:], off); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			return err
		}
		if string(sig[:]) == signature {
			at = off
			break
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	if at < 0 {
		return ErrNotHDF5
	}
	// Addresses count from the superblock: libhdf5 uses where it found the
	// signature as the base address, whatever the field says.
	f.base = uint64(at)
	f.so, f.sl = 8, 8
	n := uint64(f.size - at)
	if n > 256 {
		n = 256 // the longest superblock (v1 with 8-byte sizes) is 112 bytes
	}
	b, err := o.read(0, n, "superblock")
	if err != nil {
		return err
	}
	if len(b) < 9 {
		return o.formatf("superblock truncated")
	}
	version := b[8]
	var d *dec
	var eof uint64
	switch version {
	case 0, 1:
		if len(b) < 16 {
			return o.formatf("superblock truncated")
		}
		f.so, f.sl = int(b[13]), int(b[14])
		if err := f.checkSizes(o); err != nil {
			return err
		}
		d = f.dec(b)
		d.skip(16)
		d.skip(2 + 2 + 4) // leaf and internal node K, consistency flags
		if version == 1 {
			d.skip(4) // indexed storage K, reserved
		}
		d.addr() // base address: see above
		d.addr() // free-space info
		eof = d.addr()
		d.addr() // driver info
		// Root group symbol table entry: link name offset, header address,
		// cache type, reserved, scratch pad.
		d.addr()
		f.root = d.addr()
		d.skip(4 + 4 + 16)
	case 2, 3:
		if len(b) < 12 {
			return o.formatf("superblock truncated")
		}
		f.so, f.sl = int(b[9]), int(b[10])
		if err := f.checkSizes(o); err != nil {
			return err
		}
		d = f.dec(b)
		d.skip(12) // signature, version, sizes, flags
		d.addr()   // base address
		d.addr()   // superblock extension
		eof = d.addr()
		f.root = d.addr()
		end := d.p
		sum := d.u32()
		if !d.bad && checksum(b[:end]) != sum {
			return o.formatf("superblock checksum mismatch")
		}
	default:
		return o.unsupported("superblock version %d", version)
	}
	if d.bad {
		return o.formatf("superblock truncated")
	}
	// The stored end of file counts the user block too, as libhdf5 reads it.
	if eof != undef && eof > uint64(f.size) {
		return o.formatf("truncated file: %d bytes, the superblock says %d", f.size, eof)
	}
	if f.root == undef || f.root >= uint64(f.size-at) {
		return o.formatf("root group address %d is outside the file", f.root)
	}
	return nil
}

func (f *File) checkSizes(o *op) error {
	for _, s := range []int{f.so, f.sl} {
		if s != 2 && s != 4 && s != 8 {
			return o.formatf("superblock gives %d-byte offsets or lengths; HDF5 uses 2, 4 or 8", s)
		}
	}
	return nil
}
