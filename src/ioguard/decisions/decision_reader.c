// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decision_reader.h"
#include "prog/enforcer.h"
#include "output/errbuf.h"
#include "prog/pins.h"

/*
 * The reader owns @rb, a ring buffer manager holding its one ring: freeing the reader
 * frees the manager before the fds and the lock, so nothing outside ever sees a manager
 * that calls into a reader that is gone.
 */
struct decision_reader {
	decision_fn fn;
	void *ctx;
	struct ring_buffer *rb;
	int lock_fd;		/* the pin directory, flock()ed */
	int map_fd;		/* the `decisions` ring buffer */
	__u32 map_id;		/* its id: a reload after an unload pins a new one */
	int policies_fd;	/* the `policies` array, for tenant names */
	/* The two generation slots as last read; re-read when a record's policy differs. */
	struct ioguard_policy_slot slots[IOGUARD_GENERATIONS];
	bool slot_read[IOGUARD_GENERATIONS];
};

const char *decision_tenant_name(const struct ioguard_policy_slot *slot, __u64 policy_id,
				 __s32 tenant)
{
	const char *name;

	if (tenant < 0 || !slot->loaded || slot->policy_id != policy_id ||
	    (__u32)tenant >= slot->n_tenants || (__u32)tenant >= IOGUARD_MAX_TENANTS)
		return NULL;
	/*
	 * The slot is the pinned map's bytes, whoever wrote them: a name without its NUL
	 * would have every printer read on past the field into the rest of the slot, so
	 * it is none.
	 */
	name = slot->tenants[tenant].name;
	return name[0] && memchr(name, '\0', IOGUARD_NAME_LEN) ? name : NULL;
}

static const char *tenant_of(struct decision_reader *r, const struct ioguard_decision *d)
{
	__u32 gen = d->gen & 1;
	struct ioguard_policy_slot *slot = &r->slots[gen];

	if (d->tenant < 0)
		return NULL;
	if (!r->slot_read[gen] || slot->policy_id != d->policy_id) {
		r->slot_read[gen] = enforcer_slot_fits(r->policies_fd) &&
				    !bpf_map_lookup_elem(r->policies_fd, &gen, slot);
		if (!r->slot_read[gen])
			return NULL;
	}
	return decision_tenant_name(slot, d->policy_id, d->tenant);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct decision_reader *r = ctx;
	struct ioguard_decision d;

	if (size < sizeof(d))
		return 0;
	memcpy(&d, data, sizeof(d));
	d.comm[sizeof(d.comm) - 1] = '\0';
	d.device[sizeof(d.device) - 1] = '\0';
	r->fn(r->ctx, &d, tenant_of(r, &d));
	return 0;
}

static int map_id(int fd, __u32 *id)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

int decision_reader__open(decision_fn fn, void *ctx, struct decision_reader **out,
			  struct errbuf *eb)
{
	const char *dir = pins_dir();
	struct decision_reader *r;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return errbuf_set(eb, -ENOMEM, "cannot allocate a decision reader: %s",
				  strerror(ENOMEM));
	r->fn = fn;
	r->ctx = ctx;
	r->map_fd = r->policies_fd = -1;
	r->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->lock_fd < 0) {
		err = -errno;
		errbuf_set(eb, err, "no enforcement is pinned at %s (%s)", dir, strerror(-err));
		if (err == -ENOTDIR)
			err = -ENOENT;
		goto err_free;
	}
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		errbuf_set(eb, err, "another process (the ioguard daemon, or another trace) "
			   "consumes the decision records of %s", dir);
		goto err_close;
	}
	r->map_fd = pins_open("decisions");
	r->policies_fd = pins_open("policies");
	if (r->map_fd < 0 || r->policies_fd < 0) {
		err = -errno;
		errbuf_set(eb, err, "cannot open the pinned decision records in %s: %s", dir,
			   strerror(-err));
		goto err_close;
	}
	err = map_id(r->map_fd, &r->map_id);
	if (err) {
		errbuf_set(eb, err, "cannot identify the pinned decision records in %s: %s", dir,
			   strerror(-err));
		goto err_close;
	}
	r->rb = ring_buffer__new(r->map_fd, on_record, r, NULL);
	if (!r->rb) {
		err = -errno;
		errbuf_set(eb, err, "cannot read the decision ring buffer %s/decisions: %s", dir,
			   strerror(-err));
		goto err_close;
	}
	*out = r;
	return 0;

err_close:
	if (r->map_fd >= 0)
		close(r->map_fd);
	if (r->policies_fd >= 0)
		close(r->policies_fd);
	close(r->lock_fd);
err_free:
	free(r);
	return err;
}

void decision_reader__free(struct decision_reader *r)
{
	if (!r)
		return;
	/* The manager first, while the reader it calls into still exists. */
	ring_buffer__free(r->rb);
	close(r->map_fd);
	close(r->policies_fd);
	/* Last: another reader may take over from here. */
	close(r->lock_fd);
	free(r);
}

int decision_reader__fd(const struct decision_reader *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int decision_reader__consume(struct decision_reader *r)
{
	return ring_buffer__consume(r->rb);
}

bool decision_reader__replaced(const struct decision_reader *r)
{
	__u32 id = 0;
	int fd, err;

	fd = pins_open("decisions");
	if (fd < 0)
		return errno == ENOENT;
	err = map_id(fd, &id);
	close(fd);
	return !err && id != r->map_id;
}
