// C helpers of package h5 for what gonum.org/v1/hdf5 does not offer:
// attributes by name, link and type introspection, error-stack capture,
// reads with an explicit memory type, and freeing variable-length strings.
//
// Every helper that can fail takes a kh_err and fills it before making any
// other libhdf5 call, because each API call clears the thread's error stack.
// All of them run on the package's worker thread (worker.go).

#ifndef KERASCOPE_H5_SHIM_H
#define KERASCOPE_H5_SHIM_H

#include <hdf5.h>

typedef struct {
	char msg[512]; // innermost non-empty description on the error stack
	int depth;     // number of stack entries
} kh_err;

typedef struct {
	int cls;     // H5T_class_t
	size_t size; // bytes per element
	int order;   // H5T_order_t, integer and float only
	int sign;    // H5T_sign_t, integer only
	int vlenstr, cset, strpad;
	size_t precision, offset;
	size_t spos, epos, esize, mpos, msize, ebias; // float only
	int norm;    // H5T_norm_t, float only
	int isbool;  // h5py's bool: enum of int8 {FALSE=0, TRUE=1}
} kh_type;

typedef struct {
	int cls; // H5S_class_t
	int rank;
	hsize_t dims[H5S_MAX_RANK];
} kh_space;

// Kinds of link returned by kh_link.
enum { KH_ABSENT = 0, KH_HARD = 1, KH_SOFT = 2, KH_EXTERNAL = 3, KH_OTHERLINK = 4 };

void kh_capture(kh_err *err);
herr_t kh_init(int no_plugins, kh_err *err);

int kh_link(hid_t loc, const char *name, kh_err *err);
int kh_objtype(hid_t loc, const char *name, kh_err *err);

hid_t kh_gopen(hid_t loc, const char *name, hsize_t *nlinks, kh_err *err);
ssize_t kh_child_name(hid_t g, hsize_t idx, char *buf, size_t size, kh_err *err);
int kh_child_type(hid_t g, hsize_t idx, kh_err *err);

int kh_dset_describe(hid_t d, kh_type *t, kh_space *s, kh_err *err);
int kh_dset_storage(hid_t d, kh_err *err);
herr_t kh_dread(hid_t d, int memtype, void *buf, kh_err *err);

htri_t kh_attr_exists(hid_t loc, const char *obj, const char *name, kh_err *err);
hid_t kh_attr_open(hid_t loc, const char *obj, const char *name, kh_type *t, kh_space *s, kh_err *err);
herr_t kh_attr_read_raw(hid_t a, void *buf, kh_err *err);
char **kh_attr_read_vlen(hid_t a, size_t n, int cset, kh_err *err);
void kh_free_vlen(char **buf, size_t n);

#endif
