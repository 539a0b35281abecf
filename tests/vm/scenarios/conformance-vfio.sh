#!/bin/bash
# libioasid's conformance scenarios (tests/conformance/scenarios.c) on the legacy VFIO
# backend (container, group, type1v2) with the lab's real devices: edu alone in its
# group, and two endpoints of the multi-device group. The same scenarios then run on sim
# over the same live topology; both must pass and print the same lines: the same verdict
# per scenario, the same result (0 or errno) for every library call, the same IOVA ranges.
. "$REPO/tests/vm/lib.sh"
. "$REPO/tests/vm/conformance.sh"

[ -e /dev/vfio/vfio ] || skip "no /dev/vfio/vfio: this kernel has no VFIO container"
conformance_setup || exit
conformance_run vfio
