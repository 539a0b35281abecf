/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Policy files: the in-memory form of a parsed and validated policy, and its loader.
 * The file format is documented in docs/policy.md; this header is private to ioguard.
 *
 * A struct policy is immutable once policy__load() returns it and owns every string and
 * array it points to. Everything in it has been validated: enum values are in range,
 * BDFs are in range, windows are non-empty and do not overlap, no BDF or IOMMU group is
 * owned by two tenants. Checks that need the device topology (group viability, BDFs
 * owned through wildcards) are not done here; see `ioguard policy check --sysfs`.
 */
#ifndef IOGUARD_POLICY_H
#define IOGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Files above this size are refused before parsing (-EFBIG). */
#define POLICY_MAX_FILE_SIZE (1024 * 1024)
/* Policy and tenant names: [A-Za-z0-9][A-Za-z0-9._-]*, at most this many characters. */
#define POLICY_NAME_MAX 63
#define POLICY_HASH_SIZE 32	/* SHA-256 */

enum policy_mode {
	POLICY_MODE_ENFORCE,
	POLICY_MODE_AUDIT,
};

enum policy_default {
	POLICY_DEFAULT_DENY,
	POLICY_DEFAULT_ALLOW,
};

enum policy_viability {
	POLICY_VIABILITY_KERNEL,
	POLICY_VIABILITY_STRICT,
};

/* Position of a value in the policy file; 1-based like the error messages. */
struct policy_pos {
	unsigned int line;
	unsigned int column;
};

enum policy_dev_kind {
	POLICY_DEV_BDF,
	POLICY_DEV_ID,
	POLICY_DEV_CLASS,
	POLICY_DEV_GROUP,
};

/* Wildcard vendor or device in a POLICY_DEV_ID selector. */
#define POLICY_PCI_ID_ANY 0xffffffffu

/* One device selector: exactly one of bdf, id, class or group. */
struct policy_device {
	enum policy_dev_kind kind;
	struct policy_pos pos;
	union {
		struct {
			uint32_t domain;
			uint8_t bus;
			uint8_t dev;	/* 0x00-0x1f */
			uint8_t fn;	/* 0-7 */
		} bdf;
		struct {
			uint32_t vendor;	/* 0x0000-0xffff or POLICY_PCI_ID_ANY */
			uint32_t device;	/* 0x0000-0xffff or POLICY_PCI_ID_ANY */
		} id;
		struct {
			uint32_t value;		/* 24-bit class code, value & ~mask == 0 */
			uint32_t mask;		/* 0xffffff when no mask was written */
		} class;
		uint32_t group;		/* 0 to INT32_MAX */
	};
};

/* An allowed IOVA range; @last is inclusive, so a window is never empty. */
struct policy_window {
	uint64_t start;
	uint64_t last;
	struct policy_pos pos;
};

/* max_dma_bytes when the policy sets none. */
#define POLICY_DMA_UNLIMITED UINT64_MAX

/*
 * struct policy_tenant - who may use which devices, and how.
 * A process matches when every non-empty criterion matches (AND); within one criterion,
 * any listed value may match (OR). At least one criterion is non-empty.
 */
struct policy_tenant {
	char *name;
	struct policy_pos pos;		/* of the tenant's mapping */
	uint32_t *uids;
	size_t n_uids;
	uint32_t *gids;
	size_t n_gids;
	char **cgroups;			/* cgroup v2 paths, normalised, absolute */
	size_t n_cgroups;
	char **exes;			/* executable paths, normalised, absolute */
	size_t n_exes;
	uint8_t (*exe_sha256)[32];	/* SHA-256 digests of executables' content */
	size_t n_exe_sha256;
	struct policy_device *devices;	/* at least one */
	size_t n_devices;
	uint64_t max_dma_bytes;		/* the tenant's processes together; POLICY_DMA_UNLIMITED when unset */
	struct policy_window *windows;	/* sorted by start; none means any IOVA */
	size_t n_windows;
};

struct policy {
	char *name;
	enum policy_mode mode;
	enum policy_default dflt;
	enum policy_viability viability;
	struct policy_tenant *tenants;	/* in file order; no BDF or group has two owners */
	size_t n_tenants;
	/* SHA-256 of the file's bytes exactly as read (comments included). */
	uint8_t hash[POLICY_HASH_SIZE];
};

/*
 * struct policy_load_opts - options of policy__load(); NULL means all defaults.
 * @sz: sizeof(struct policy_load_opts), so the struct can grow.
 * @skip_owner_check: do not require the file to be owned by root and not writable by
 *	group or others (the default requires it, like sudo does for sudoers).
 */
struct policy_load_opts {
	size_t sz;
	bool skip_owner_check;
};

#define POLICY_ERR_CAUSE_MAX 512
#define POLICY_ERR_MSG_MAX 1024

/*
 * struct policy_error - why policy__load() failed.
 * @sz: set by the caller to sizeof(struct policy_error) (POLICY_ERROR_INIT does it);
 *	policy__load() fills nothing when it is smaller.
 * @err: the negative errno policy__load() returned.
 * @line, @column: 1-based position of the problem, 0 when the error has no position
 *	(the file cannot be opened, read, or fails the owner check).
 * @cause: what is wrong, one line, without position.
 * @msg: "FILE:LINE:COLUMN: error: CAUSE", or "FILE: error: CAUSE" without a position.
 */
struct policy_error {
	size_t sz;
	int err;
	unsigned int line;
	unsigned int column;
	char cause[POLICY_ERR_CAUSE_MAX];
	char msg[POLICY_ERR_MSG_MAX];
};

#define POLICY_ERROR_INIT { .sz = sizeof(struct policy_error) }

/*
 * policy__load() - read, parse and validate a policy file.
 * Stops at the first error. Returns 0 and sets *out, or a negative errno and fills @err
 * (if non-NULL): -EINVAL for any problem with the content, -EFBIG above
 * POLICY_MAX_FILE_SIZE, -EPERM for the owner check, -ENOMEM, or the errno of open/read.
 */
int policy__load(const char *path, const struct policy_load_opts *opts,
		 struct policy **out, struct policy_error *err);

/*
 * policy__load_buffer() - parse and validate @len bytes of policy text, as policy__load()
 * does with a file's content; @name stands for the file in messages. No owner check.
 * For tests and fuzzing, and for callers that hold the text already. Returns what
 * policy__load() returns for content (-EINVAL, -EFBIG, -ENOMEM).
 */
int policy__load_buffer(const char *name, const void *buf, size_t len,
			struct policy **out, struct policy_error *err);

/* Frees a policy and everything it owns; accepts NULL. */
void policy__free(struct policy *p);

/*
 * Lowercase hex of a SHA-256 digest: a policy's, or one read back from the pinned slot
 * (IOGUARD_SHA256_LEN, the same 32 bytes).
 */
void policy_hash_hex(const uint8_t hash[POLICY_HASH_SIZE], char hex[2 * POLICY_HASH_SIZE + 1]);
/* Lowercase hex of p->hash into @buf (2 * POLICY_HASH_SIZE + 1 bytes). */
void policy__hash_hex(const struct policy *p, char *buf);

const char *policy_mode__str(enum policy_mode m);
const char *policy_default__str(enum policy_default d);
const char *policy_viability__str(enum policy_viability v);

#endif /* IOGUARD_POLICY_H */
