// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of the decision reader (src/ioguard/decisions/decision_reader.c) and the tenant names of its
 * records. Without BPF, a plain temporary directory stands for the pin directory: what
 * the reader says when nothing is pinned, when another process holds the records, and
 * when the maps are missing. With root, the test mounts its own bpffs, pins a
 * `decisions` ring buffer and a `policies` array as `ioguard load` would, and writes
 * records into the ring with a small socket-filter program run by BPF_PROG_TEST_RUN:
 * the reader owns its ring (its fd polls, __consume() hands every record to the
 * callback with its tenant's name) and its lock (free lets the next reader in). A case
 * that cannot run here says "SKIP <case>: <reason>" and skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "decisions/decision_reader.h"

#define POLICY_ID 0x1122334455667788ULL

struct fixture {
	char dir[64];
	char pins[96];
	bool bpffs_mounted;
	int bpffs_errno;
	int rb_fd;			/* the pinned ring buffer, for the writer */
	int policies_fd;
	struct decision_reader *reader;
	struct errbuf eb;
	unsigned int n;			/* records the reader delivered */
	__u32 last_pid;
	char last_tenant[IOGUARD_NAME_LEN];
};

static void on_decision(void *ctx, const struct ioguard_decision *d, const char *tenant)
{
	struct fixture *f = ctx;

	f->n++;
	f->last_pid = d->pid;
	snprintf(f->last_tenant, sizeof(f->last_tenant), "%s", tenant ? tenant : "(none)");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/ioguard-test-decisions-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->pins, sizeof(f->pins), "%s/pins", f->dir);
	f->rb_fd = f->policies_fd = -1;
	setenv("IOGUARD_PIN_DIR", f->pins, 1);
	*state = f;
	return 0;
}

static int setup_bpffs(void **state)
{
	struct fixture *f;

	if (setup(state))
		return -1;
	f = *state;
	if (mkdir(f->pins, 0700))
		return -1;
	if (mount("bpf", f->pins, "bpf", 0, NULL))
		f->bpffs_errno = errno;
	else
		f->bpffs_mounted = true;
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* The reader first: it holds the maps and a lock in the mount. */
	decision_reader__free(f->reader);
	if (f->rb_fd >= 0)
		close(f->rb_fd);
	if (f->policies_fd >= 0)
		close(f->policies_fd);
	if (f->bpffs_mounted)
		umount2(f->pins, MNT_DETACH);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int _do_open(struct fixture *f)
{
	f->eb.msg[0] = '\0';
	return decision_reader__open(on_decision, f, &f->reader, &f->eb);
}

static void do_open(struct fixture *f)
{
	int ret = _do_open(f);

	if (ret)
		fail_msg("decision_reader__open: %s (%s)", strerror(-ret), f->eb.msg);
}

static void do_open_err(struct fixture *f, int err, const char *why)
{
	struct decision_reader *before = f->reader;

	assert_int_equal(_do_open(f), err);
	assert_ptr_equal(f->reader, before);
	if (!strstr(f->eb.msg, why))
		fail_msg("expected '%s' in the reason, got '%s'", why, f->eb.msg);
}

/* ------------------------------------------------------------------------------------ */
/* Without BPF                                                                           */
/* ------------------------------------------------------------------------------------ */

static void test_nothing_pinned(void **state)
{
	struct fixture *f = *state;

	do_open_err(f, -ENOENT, "no enforcement is pinned at");
	assert_non_null(strstr(f->eb.msg, f->pins));
}

static void test_records_held_by_another_process(void **state)
{
	struct fixture *f = *state;
	int lock_fd;

	assert_int_equal(mkdir(f->pins, 0700), 0);
	lock_fd = open(f->pins, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(lock_fd >= 0);
	assert_int_equal(flock(lock_fd, LOCK_EX | LOCK_NB), 0);
	do_open_err(f, -EBUSY, "another process (the ioguard daemon, or another trace) "
		    "consumes the decision records of");
	close(lock_fd);
}

static void test_maps_missing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->pins, 0700), 0);
	do_open_err(f, -ENOENT, "cannot open the pinned decision records in");
}

static void test_tenant_names(void **state)
{
	static struct ioguard_policy_slot slot;

	memset(&slot, 0, sizeof(slot));
	slot.loaded = 1;
	slot.policy_id = POLICY_ID;
	slot.n_tenants = 2;
	strcpy(slot.tenants[0].name, "blue");
	assert_string_equal(decision_tenant_name(&slot, POLICY_ID, 0), "blue");
	/* No tenant, a tenant past the policy's, another policy, an empty name. */
	assert_null(decision_tenant_name(&slot, POLICY_ID, -1));
	assert_null(decision_tenant_name(&slot, POLICY_ID, 2));
	assert_null(decision_tenant_name(&slot, POLICY_ID + 1, 0));
	assert_null(decision_tenant_name(&slot, POLICY_ID, 1));
	/* A name that fills its field without a NUL is none. */
	memset(slot.tenants[1].name, 'x', IOGUARD_NAME_LEN);
	assert_null(decision_tenant_name(&slot, POLICY_ID, 1));
	slot.loaded = 0;
	assert_null(decision_tenant_name(&slot, POLICY_ID, 0));
}

/* ------------------------------------------------------------------------------------ */
/* On a bpffs of the test's own (root)                                                   */
/* ------------------------------------------------------------------------------------ */

static bool bpffs_or_skip(const struct fixture *f, const char *name)
{
	if (f->bpffs_mounted)
		return true;
	printf("SKIP %s: cannot mount a bpffs at %s: %s\n", name, f->pins,
	       strerror(f->bpffs_errno));
	return false;
}

/* What `ioguard load` pins: the ring buffer and the policies with tenant "blue" in slot 0. */
static void pin_maps(struct fixture *f)
{
	static struct ioguard_policy_slot slot;
	char path[160];
	__u32 gen = 0;

	/* No names: libbpf would probe for name support with a load valgrind flags. */
	f->rb_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, 4096, NULL);
	f->policies_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), sizeof(slot),
					IOGUARD_GENERATIONS, NULL);
	if (f->rb_fd < 0 || f->policies_fd < 0)
		fail_msg("cannot create the maps: %s", strerror(errno));
	memset(&slot, 0, sizeof(slot));
	slot.loaded = 1;
	slot.policy_id = POLICY_ID;
	slot.n_tenants = 1;
	strcpy(slot.tenants[0].name, "blue");
	assert_int_equal(bpf_map_update_elem(f->policies_fd, &gen, &slot, BPF_ANY), 0);
	snprintf(path, sizeof(path), "%s/decisions", f->pins);
	assert_int_equal(bpf_obj_pin(f->rb_fd, path), 0);
	snprintf(path, sizeof(path), "%s/policies", f->pins);
	assert_int_equal(bpf_obj_pin(f->policies_fd, path), 0);
}

static void unpin_maps(struct fixture *f)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/decisions", f->pins);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/policies", f->pins);
	assert_int_equal(unlink(path), 0);
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						.off = (o), .imm = (i) })

/*
 * Writes one record for @pid and tenant 0 of POLICY_ID into the ring buffer, as the
 * enforcement programs do: a socket filter that builds the record on its stack and calls
 * bpf_ringbuf_output(), run once by BPF_PROG_TEST_RUN. Returns 0 or a negative errno.
 */
static int write_record(const struct fixture *f, __u32 pid)
{
	const int size = sizeof(struct ioguard_decision);
	struct bpf_insn insns[64];
	unsigned char pkt[64] = { 0 }, out[64];
	int n = 0, off, prog_fd, err;
	/* data_out too: valgrind checks it whether or not the kernel writes there. */
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out));

	for (off = -size; off < 0; off += 8)
		insns[n++] = INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, off, 0);
	insns[n++] = INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0,
			  -size + (int)offsetof(struct ioguard_decision, pid), pid);
	insns[n++] = INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0,
			  -size + (int)offsetof(struct ioguard_decision, policy_id),
			  (__u32)POLICY_ID);
	insns[n++] = INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0,
			  -size + (int)offsetof(struct ioguard_decision, policy_id) + 4,
			  (__u32)(POLICY_ID >> 32));
	insns[n++] = INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, f->rb_fd);
	insns[n++] = INSN(0, 0, 0, 0, 0);
	insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	insns[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -size);
	insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, size);
	insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0);
	insns[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output);
	insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	insns[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	assert_true(n <= (int)(sizeof(insns) / sizeof(insns[0])));

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, n, NULL);
	if (prog_fd < 0)
		return -errno;
	err = bpf_prog_test_run_opts(prog_fd, &run) ? -errno : 0;
	close(prog_fd);
	return err;
}

static void test_reader_owns_its_ring(void **state)
{
	struct fixture *f = *state;
	struct pollfd pfd;
	int err;

	if (!bpffs_or_skip(f, "test_reader_owns_its_ring"))
		skip();
	pin_maps(f);
	do_open(f);
	pfd = (struct pollfd){ .fd = decision_reader__fd(f->reader), .events = POLLIN };
	assert_true(pfd.fd >= 0);
	assert_int_equal(decision_reader__consume(f->reader), 0);
	assert_int_equal(f->n, 0);

	err = write_record(f, 4242);
	if (err) {
		printf("SKIP test_reader_owns_its_ring: this kernel does not run a socket "
		       "filter that writes a ring buffer: %s\n", strerror(-err));
		skip();
	}
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(decision_reader__consume(f->reader), 1);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->last_pid, 4242);
	assert_string_equal(f->last_tenant, "blue");
	assert_int_equal(decision_reader__consume(f->reader), 0);
}

static void test_one_reader_at_a_time(void **state)
{
	struct fixture *f = *state;
	struct decision_reader *first;

	if (!bpffs_or_skip(f, "test_one_reader_at_a_time"))
		skip();
	pin_maps(f);
	do_open(f);
	first = f->reader;
	do_open_err(f, -EBUSY, "consumes the decision records of");
	/* Freeing the reader, ring and all, lets the next one in. */
	decision_reader__free(first);
	f->reader = NULL;
	do_open(f);
	assert_false(decision_reader__replaced(f->reader));
}

static void test_replaced_records(void **state)
{
	struct fixture *f = *state;

	if (!bpffs_or_skip(f, "test_replaced_records"))
		skip();
	pin_maps(f);
	do_open(f);
	assert_false(decision_reader__replaced(f->reader));
	/* unload */
	unpin_maps(f);
	assert_true(decision_reader__replaced(f->reader));
	/* then load: new maps, new ids */
	close(f->rb_fd);
	close(f->policies_fd);
	pin_maps(f);
	assert_true(decision_reader__replaced(f->reader));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_pinned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_held_by_another_process, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maps_missing, setup, teardown),
		cmocka_unit_test(test_tenant_names),
		cmocka_unit_test_setup_teardown(test_reader_owns_its_ring, setup_bpffs, teardown),
		cmocka_unit_test_setup_teardown(test_one_reader_at_a_time, setup_bpffs, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_records, setup_bpffs, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
