// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A program outside the tree that uses an installed libioasid through `pkg-config
 * ioasid`: tests/cli/libioasid_shared.sh builds it against `make install-lib`,
 * tests/cli/package_contents.sh against the libioasid packages.
 *   libioasid_consumer SYSFS_ROOT: prints "N groups, N devices"
 */
#include <stdio.h>
#include <stdlib.h>

#include <ioasid/ioasid.h>

int main(int argc, char **argv)
{
	struct ioasid_topology *topo;
	struct ioasid_error err = { "" };

	if (argc != 2) {
		fprintf(stderr, "usage: %s SYSFS_ROOT\n", argv[0]);
		return 2;
	}
	if (ioasid_topology__load(argv[1], &topo, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAILURE;
	}
	printf("%zu groups, %zu devices\n", ioasid_topology__nr_groups(topo),
	       ioasid_topology__nr_devices(topo));
	ioasid_topology__free(topo);
	return EXIT_SUCCESS;
}
