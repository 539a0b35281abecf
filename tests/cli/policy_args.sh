#!/bin/bash
# `ioguard policy check` on files that are not policy files: one clear error naming the
# file, at once. Prints TAP-style "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"
dir=$(mktemp -d /tmp/ioguard-policy-args-XXXXXX)
trap 'rm -rf "$dir"' EXIT

# A FIFO used to block the open until a writer came (finding 10): `timeout` turns a
# regression into exit 124 instead of a hung suite.
mkfifo "$dir/fifo.yaml"
check_one_line "policy check of a FIFO" 1 "$dir/fifo.yaml: error: is a FIFO, not a regular file" \
	timeout 5 "$IOGUARD" policy check --no-owner-check "$dir/fifo.yaml"
start=$(date +%s%N)
timeout 5 "$IOGUARD" policy check --no-owner-check "$dir/fifo.yaml" 2>/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -lt 1000 ]; then
	echo "ok policy check of a FIFO within a second"
else
	echo "not ok policy check of a FIFO within a second: took $ms ms"
fi
