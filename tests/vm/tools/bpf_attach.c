// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpf_attach: loads the named programs of a BPF object, attaches them, says so, and holds
 * them until SIGINT or SIGTERM. The overhead benchmarks attach empty programs with it
 * (tests/vm/bench/empty.bpf.c), which bpftool cannot attach and bpftrace cannot write
 * for BPF LSM or module functions.
 *
 *   bpf_attach OBJ PROG...
 *
 * Only the named programs are loaded, so the object may hold programs for functions this
 * kernel lacks. Prints "bpf_attach: attached N programs" once every one is attached.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#define MAX_PROGS 32

static bool named(const char *name, char **names, int nr)
{
	for (int i = 0; i < nr; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[MAX_PROGS] = { 0 };
	struct bpf_object *obj;
	struct bpf_program *prog;
	int nlinks = 0, found = 0, err = 0, sig;
	sigset_t set;

	if (argc < 3 || argc - 2 > MAX_PROGS) {
		fprintf(stderr, "usage: bpf_attach OBJ PROG... (at most %d programs)\n", MAX_PROGS);
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		err = -errno;
		fprintf(stderr, "bpf_attach: cannot open %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		bool want = named(bpf_program__name(prog), argv + 2, argc - 2);

		bpf_program__set_autoload(prog, want);
		found += want;
	}
	if (found != argc - 2) {
		fprintf(stderr, "bpf_attach: %s has %d of the %d programs named\n", argv[1], found,
			argc - 2);
		err = -ENOENT;
		goto out_close;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bpf_attach: cannot load %s: %s\n", argv[1], strerror(-err));
		goto out_close;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue;
		links[nlinks] = bpf_program__attach(prog);
		if (!links[nlinks]) {
			err = -errno;
			fprintf(stderr, "bpf_attach: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(-err));
			goto out_detach;
		}
		nlinks++;
	}
	printf("bpf_attach: attached %d programs\n", nlinks);
	fflush(stdout);
	sigwait(&set, &sig);
out_detach:
	while (nlinks--)
		bpf_link__destroy(links[nlinks]);
out_close:
	bpf_object__close(obj);
	return err ? 1 : 0;
}
