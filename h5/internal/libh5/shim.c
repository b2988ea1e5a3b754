//go:build libhdf5

// See shim.h.

#include <stdlib.h>
#include <string.h>

#include "shim.h"

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
	kh_err *err = data;
	(void)n;
	err->depth++;
	if (err->msg[0] == 0 && e->desc != NULL && e->desc[0] != 0) {
		strncpy(err->msg, e->desc, sizeof(err->msg) - 1);
	}
	return 0;
}

// kh_capture records the current thread's error stack, walking up from the
// innermost entry, which holds the specific cause ("truncated file: ...").
void kh_capture(kh_err *err) {
	memset(err, 0, sizeof *err);
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, err);
	H5Eclear2(H5E_DEFAULT);
}

// kh_init switches error printing off for the calling thread (the setting
// is per thread in thread-safe builds) and, if asked, stops libhdf5 from
// dlopen()ing the filter plugins a file names.
herr_t kh_init(int no_plugins, kh_err *err) {
	if (H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0) { kh_capture(err); return -1; }
	if (no_plugins && H5PLset_loading_state(0) < 0) { kh_capture(err); return -1; }
	return 0;
}

// kh_link says what the last component of name is: KH_* or -1 on error.
// Earlier components must already be known to be hard links to groups.
int kh_link(hid_t loc, const char *name, kh_err *err) {
	H5L_info_t li;
	htri_t ex = H5Lexists(loc, name, H5P_DEFAULT);
	if (ex < 0) { kh_capture(err); return -1; }
	if (ex == 0) return KH_ABSENT;
	if (H5Lget_info(loc, name, &li, H5P_DEFAULT) < 0) { kh_capture(err); return -1; }
	switch (li.type) {
	case H5L_TYPE_HARD: return KH_HARD;
	case H5L_TYPE_SOFT: return KH_SOFT;
	case H5L_TYPE_EXTERNAL: return KH_EXTERNAL;
	default: return KH_OTHERLINK;
	}
}

// kh_objtype returns the H5I_type_t of the object at name (H5I_GROUP,
// H5I_DATASET, H5I_DATATYPE), or -1. Opening it also proves its object
// header can be read.
int kh_objtype(hid_t loc, const char *name, kh_err *err) {
	hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
	if (o < 0) { kh_capture(err); return -1; }
	int t = H5Iget_type(o);
	H5Oclose(o);
	return t;
}

hid_t kh_gopen(hid_t loc, const char *name, hsize_t *nlinks, kh_err *err) {
	H5G_info_t gi;
	hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
	if (g < 0) { kh_capture(err); return -1; }
	if (H5Gget_info(g, &gi) < 0) { kh_capture(err); H5Gclose(g); return -1; }
	*nlinks = gi.nlinks;
	return g;
}

// kh_child_name copies the name of link idx (in name order) into buf and
// returns its length; with buf == NULL it only returns the length.
ssize_t kh_child_name(hid_t g, hsize_t idx, char *buf, size_t size, kh_err *err) {
	ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, idx, buf, size, H5P_DEFAULT);
	if (n < 0) kh_capture(err);
	return n;
}

// kh_child_type returns the H5I_type_t of the object link idx points to if
// it is a hard link, 0 for soft, external and user-defined links, -1 on error.
int kh_child_type(hid_t g, hsize_t idx, kh_err *err) {
	H5L_info_t li;
	if (H5Lget_info_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, idx, &li, H5P_DEFAULT) < 0) {
		kh_capture(err);
		return -1;
	}
	if (li.type != H5L_TYPE_HARD) return 0;
	hid_t o = H5Oopen_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, idx, H5P_DEFAULT);
	if (o < 0) { kh_capture(err); return -1; }
	int t = H5Iget_type(o);
	H5Oclose(o);
	return t;
}

static int is_h5py_bool(hid_t t) {
	if (H5Tget_nmembers(t) != 2 || H5Tget_size(t) != 1) return 0;
	int ok = 1;
	for (unsigned i = 0; i < 2; i++) {
		signed char v = -1;
		char *name = H5Tget_member_name(t, i);
		if (name == NULL) return 0;
		if (strcmp(name, i == 0 ? "FALSE" : "TRUE") != 0) ok = 0;
		H5free_memory(name);
		if (H5Tget_member_value(t, i, &v) < 0 || v != (signed char)i) ok = 0;
	}
	return ok;
}

static int type_info(hid_t t, kh_type *out, kh_err *err) {
	memset(out, 0, sizeof *out);
	out->cls = H5Tget_class(t);
	if (out->cls < 0) { kh_capture(err); return -1; }
	out->size = H5Tget_size(t);
	if (out->size == 0) { kh_capture(err); return -1; }
	// A failure below leaves a field at 0 or -1, which only makes the type
	// "other:..." in Go; it is not worth an error of its own.
	switch (out->cls) {
	case H5T_INTEGER:
		out->sign = H5Tget_sign(t);
		// fall through
	case H5T_FLOAT:
		out->order = H5Tget_order(t);
		out->precision = H5Tget_precision(t);
		out->offset = H5Tget_offset(t);
		if (out->cls == H5T_FLOAT) {
			H5Tget_fields(t, &out->spos, &out->epos, &out->esize, &out->mpos, &out->msize);
			out->ebias = H5Tget_ebias(t);
			out->norm = H5Tget_norm(t);
		}
		break;
	case H5T_STRING:
		out->vlenstr = H5Tis_variable_str(t) > 0;
		out->cset = H5Tget_cset(t);
		out->strpad = H5Tget_strpad(t);
		break;
	case H5T_ENUM:
		out->isbool = is_h5py_bool(t);
		break;
	default:
		break;
	}
	return 0;
}

static int space_info(hid_t s, kh_space *out, kh_err *err) {
	memset(out, 0, sizeof *out);
	out->cls = H5Sget_simple_extent_type(s);
	if (out->cls < 0) { kh_capture(err); return -1; }
	out->rank = H5Sget_simple_extent_ndims(s);
	if (out->rank < 0) { kh_capture(err); return -1; }
	if (out->rank > H5S_MAX_RANK) {
		strcpy(err->msg, "dataspace rank above H5S_MAX_RANK");
		return -1;
	}
	if (out->rank > 0 && H5Sget_simple_extent_dims(s, out->dims, NULL) < 0) {
		kh_capture(err);
		return -1;
	}
	return 0;
}

// describe fills t and s, then closes the type ft and the space fs.
static int describe(hid_t ft, hid_t fs, kh_type *t, kh_space *s, kh_err *err) {
	int rc = type_info(ft, t, err);
	if (rc == 0) rc = space_info(fs, s, err);
	H5Tclose(ft);
	H5Sclose(fs);
	return rc;
}

int kh_dset_describe(hid_t d, kh_type *t, kh_space *s, kh_err *err) {
	hid_t ft = H5Dget_type(d);
	if (ft < 0) { kh_capture(err); return -1; }
	hid_t fs = H5Dget_space(d);
	if (fs < 0) { kh_capture(err); H5Tclose(ft); return -1; }
	return describe(ft, fs, t, s, err);
}

// kh_dset_storage: 0 for data stored in this file, 1 for external raw
// storage, 2 for a virtual dataset (data in other files), -1 on error.
// Both of the latter make libhdf5 read other files named by the file.
int kh_dset_storage(hid_t d, kh_err *err) {
	hid_t p = H5Dget_create_plist(d);
	if (p < 0) { kh_capture(err); return -1; }
	int r = 0;
	int n = H5Pget_external_count(p);
	if (n < 0) { kh_capture(err); H5Pclose(p); return -1; }
	H5D_layout_t l = H5Pget_layout(p);
	if (l < 0) { kh_capture(err); H5Pclose(p); return -1; }
	if (n > 0) r = 1;
	else if (l == H5D_VIRTUAL) r = 2;
	H5Pclose(p);
	return r;
}

// kh_dread reads the whole dataset into buf. memtype 32 and 64 ask for the
// host's float and double; 0 means the file's own type (a raw copy).
herr_t kh_dread(hid_t d, int memtype, void *buf, kh_err *err) {
	hid_t t;
	switch (memtype) {
	case 32: t = H5Tcopy(H5T_NATIVE_FLOAT); break;
	case 64: t = H5Tcopy(H5T_NATIVE_DOUBLE); break;
	default: t = H5Dget_type(d); break;
	}
	if (t < 0) { kh_capture(err); return -1; }
	herr_t rc = H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
	if (rc < 0) kh_capture(err);
	H5Tclose(t);
	return rc;
}

htri_t kh_attr_exists(hid_t loc, const char *obj, const char *name, kh_err *err) {
	htri_t r = H5Aexists_by_name(loc, obj, name, H5P_DEFAULT);
	if (r < 0) kh_capture(err);
	return r;
}

// kh_attr_open opens attribute name of object obj and describes its
// datatype and dataspace.
hid_t kh_attr_open(hid_t loc, const char *obj, const char *name, kh_type *t, kh_space *s, kh_err *err) {
	hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0) { kh_capture(err); return -1; }
	hid_t ft = H5Aget_type(a);
	if (ft < 0) { kh_capture(err); H5Aclose(a); return -1; }
	hid_t fs = H5Aget_space(a);
	if (fs < 0) { kh_capture(err); H5Tclose(ft); H5Aclose(a); return -1; }
	if (describe(ft, fs, t, s, err) < 0) { H5Aclose(a); return -1; }
	return a;
}

// kh_attr_read_raw reads the attribute in its own datatype (no conversion).
herr_t kh_attr_read_raw(hid_t a, void *buf, kh_err *err) {
	hid_t t = H5Aget_type(a);
	if (t < 0) { kh_capture(err); return -1; }
	herr_t rc = H5Aread(a, t, buf);
	if (rc < 0) kh_capture(err);
	H5Tclose(t);
	return rc;
}

// kh_attr_read_vlen reads n variable-length strings into a C array of
// pointers, released with kh_free_vlen. The memory type is a vlen C string
// of the attribute's own character set: libhdf5 has no ASCII<->UTF-8
// conversion path, and ASCII is a subset of UTF-8 anyway.
char **kh_attr_read_vlen(hid_t a, size_t n, int cset, kh_err *err) {
	char **buf = calloc(n, sizeof(char *));
	if (buf == NULL) { strcpy(err->msg, "out of memory"); return NULL; }
	hid_t mt = H5Tcopy(H5T_C_S1);
	if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, cset) < 0) {
		kh_capture(err);
		if (mt >= 0) H5Tclose(mt);
		free(buf);
		return NULL;
	}
	if (H5Aread(a, mt, buf) < 0) {
		kh_capture(err);
		H5Tclose(mt);
		kh_free_vlen(buf, n); // a partial read may have allocated some
		return NULL;
	}
	H5Tclose(mt);
	return buf;
}

void kh_free_vlen(char **buf, size_t n) {
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != NULL) H5free_memory(buf[i]);
	}
	free(buf);
}
