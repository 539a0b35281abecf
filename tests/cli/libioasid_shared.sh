#!/usr/bin/env bash
# libioasid.so as an outside program sees it: soname libioasid.so.0, exactly the
# functions of include/ioasid/ioasid.h exported (version node LIBIOASID_0, so
# src/ioasid/libioasid.map and the header agree), and `make install-lib` into a scratch
# root gives a header, a .so link and an ioasid.pc that a program builds, links and runs
# with (tests/cli/libioasid_consumer.c), shared and static.
# OUTPUT is the directory of $IOGUARD (scripts/run-unit.sh sets IOGUARD=OUTPUT/ioguard).
. "$(dirname "$0")/lib.bash"
output=$(dirname "$IOGUARD")

so="$output/libioasid.so.0"
if [ ! -e "$so" ]; then
	echo "SKIP: no $so: the shared library is not built (make lib)"
	finish
fi
tmp=$(mktemp -d /tmp/ioguard-libioasid-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libioasid.so.0 ]
result "soname is libioasid.so.0" $? "it is '$soname'"

# Function names of the header: identifiers followed by '(' outside comment lines.
grep -v '^[[:space:]]*/\?\*' include/ioasid/ioasid.h | grep -o '\bioasid_[a-z0-9_]*(' |
	tr -d '(' | sort -u > "$tmp/header"
nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' > "$tmp/exported-versioned"
sed 's/@.*//' "$tmp/exported-versioned" | sort -u > "$tmp/exported"
diff=$(diff "$tmp/header" "$tmp/exported")
result "exports exactly the functions of include/ioasid/ioasid.h" $? \
	"< only in the header, > only exported: $(echo $diff)"
[ "$(grep -vc '@@LIBIOASID_0$' "$tmp/exported-versioned")" -eq 0 ]
result "every export is in version node LIBIOASID_0" $? \
	"$(grep -v '@@LIBIOASID_0$' "$tmp/exported-versioned" | tr '\n' ' ')"

root="$tmp/root"
out=$(make -s --no-print-directory OUTPUT="$output" DESTDIR="$root" prefix=/usr install-lib 2>&1)
result "make install-lib" $? "$out"

# The installed .pc names /usr: the scratch root is its sysroot.
pc() {
	PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config "$@"
}
cflags=$(pc --cflags ioasid) && libs=$(pc --libs ioasid) && static_libs=$(pc --static --libs ioasid)
result "pkg-config finds ioasid.pc" $? "pkg-config --cflags --libs ioasid failed"

# shellcheck disable=SC2086
out=$(cc -Wall -Werror -o "$tmp/consumer" tests/cli/libioasid_consumer.c $cflags $libs 2>&1)
result "a program builds against the installed header and library" $? "$out"
needed=$(readelf -d "$tmp/consumer" 2>/dev/null | grep -c 'NEEDED.*\[libioasid.so.0\]')
[ "$needed" = 1 ]
result "the program needs libioasid.so.0" $? "readelf shows no NEEDED libioasid.so.0"
out=$(LD_LIBRARY_PATH="$root/usr/lib" "$tmp/consumer" tests/fixtures/sysfs/q35-one-vfio 2>&1)
grep -q '^[1-9][0-9]* groups, [1-9][0-9]* devices$' <<< "$out"
result "the program runs on the installed library" $? "$out"

# shellcheck disable=SC2086
out=$(cc -Wall -Werror -o "$tmp/consumer-static" tests/cli/libioasid_consumer.c $cflags \
	"$root/usr/lib/libioasid.a" ${static_libs/-lioasid/} 2>&1) &&
	out=$("$tmp/consumer-static" tests/fixtures/sysfs/q35-one-vfio 2>&1)
result "the archive links with pkg-config --static's libraries" $? "$out"

finish
