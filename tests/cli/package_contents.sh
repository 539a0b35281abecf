#!/usr/bin/env bash
# The packages `make deb` built (OUTPUT/deb) hold what an operator expects: ioguard in
# /usr/sbin, the systemd unit (enabled, not started), the conffile
# /etc/ioguard/policy.yaml, the examples and docs, the man pages and the completion when
# the tree has them; libioasid0 the shared library with its soname and symbols;
# libioasid-dev the header, the .so link and ioasid.pc, which a program builds and runs
# with (tests/cli/libioasid_consumer.c). Read with dpkg-deb only: nothing is installed.
# OUTPUT is the directory of $IOGUARD (scripts/run-unit.sh sets IOGUARD=OUTPUT/ioguard).
# Without packages, SKIP: `make deb` was not run.
. "$(dirname "$0")/lib.bash"
output=$(dirname "$IOGUARD")

version=$(sed -n '1s/^ioguard (\([^)]*\)).*/\1/p' debian/changelog)
deb_dir="$output/deb"
ioguard_deb="$deb_dir/ioguard_${version}_amd64.deb"
lib_deb="$deb_dir/libioasid0_${version}_amd64.deb"
dev_deb="$deb_dir/libioasid-dev_${version}_amd64.deb"
if ! ls "$deb_dir"/ioguard_*.deb > /dev/null 2>&1; then
	echo "SKIP: no $deb_dir/ioguard_*.deb: \`make deb\` was not run"
	finish
fi
if ! command -v dpkg-deb > /dev/null; then
	echo "SKIP: dpkg-deb is missing"
	finish
fi
stale="(if the tree changed since, run make deb again)"
for deb in "$ioguard_deb" "$lib_deb" "$dev_deb"; do
	[ -f "$deb" ]
	result "$(basename "$deb") was built" $? \
		"not in $deb_dir: $(cd "$deb_dir" && ls ./*.deb | tr '\n' ' ')$stale"
done
[ "$failed" -eq 0 ] || finish
tmp=$(mktemp -d /tmp/ioguard-package-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# has DEB PATH...: every PATH (a dpkg-deb -c path without the leading '.') is in DEB
has() {
	local deb=$1 p missing=()
	shift
	dpkg-deb -c "$deb" | awk '{ sub(/^\./, "", $6); print $6 }' > "$tmp/list"
	for p in "$@"; do grep -qxF "$p" "$tmp/list" || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ]
	result "$(basename "$deb") has $*" $? "missing ${missing[*]} $stale"
}
field() {	# field DEB NAME WANT: dpkg-deb -f DEB NAME is WANT
	local got
	got=$(dpkg-deb -f "$1" "$2")
	[ "$got" = "$3" ]
	result "$(basename "$1") $2: $3" $? "it is '$got'"
}

# ioguard
has "$ioguard_deb" /usr/sbin/ioguard /etc/ioguard/policy.yaml
dpkg-deb -c "$ioguard_deb" > "$tmp/ioguard.list"
grep -qE ' \./(usr/)?lib/systemd/system/ioguard\.service$' "$tmp/ioguard.list"
result "ioguard has the systemd unit" $? "no /lib/systemd/system/ioguard.service $stale"
conffiles=$(dpkg-deb -I "$ioguard_deb" conffiles 2>&1)
grep -qx /etc/ioguard/policy.yaml <<< "$conffiles"
result "/etc/ioguard/policy.yaml is a conffile" $? "conffiles: $conffiles"
postinst=$(dpkg-deb -I "$ioguard_deb" postinst 2>&1)
grep -q "deb-systemd-helper enable 'ioguard.service'" <<< "$postinst" &&
	! grep -qE "deb-systemd-invoke (start|restart) " <<< "$postinst"
result "the unit is enabled, not started, on installation" $? "postinst: $postinst"
examples=() docs=()
for f in policies/*.yaml; do examples+=("/usr/share/doc/ioguard/examples/$(basename "$f")"); done
for f in docs/*.md; do docs+=("/usr/share/doc/ioguard/$(basename "$f")"); done
has "$ioguard_deb" "${examples[@]}"
has "$ioguard_deb" "${docs[@]}"
# man/NAME.SECTION.scd is rendered to NAME.SECTION (make man), compressed in manSECTION.
man=()
for f in man/*.scd; do
	[ -f "$f" ] || continue
	name=$(basename "$f" .scd)
	man+=("/usr/share/man/man${name##*.}/$name.gz")
done
if [ ${#man[@]} -gt 0 ]; then has "$ioguard_deb" "${man[@]}"
else echo "SKIP: no man/*.scd in the tree"; fi
if [ -f completion/ioguard ]; then
	has "$ioguard_deb" /usr/share/bash-completion/completions/ioguard
else echo "SKIP: no completion/ioguard in the tree"; fi
field "$ioguard_deb" Package ioguard
field "$ioguard_deb" Version "$version"
field "$ioguard_deb" Architecture amd64
field "$ioguard_deb" Section admin
depends=$(dpkg-deb -f "$ioguard_deb" Depends)
grep -q 'libbpf1' <<< "$depends"
result "ioguard depends on libbpf1" $? "Depends: $depends"

# The packaged files themselves: the unit starts the packaged binary, which names the
# version, and the packaged policy is valid.
dpkg-deb -x "$ioguard_deb" "$tmp/ioguard"
unit=$(ls "$tmp"/ioguard/{,usr/}lib/systemd/system/ioguard.service 2>/dev/null | head -n 1)
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ "$exec_start" = /usr/sbin/ioguard ]
result "the unit's ExecStart is /usr/sbin/ioguard" $? "it is '$exec_start'"
out=$("$tmp/ioguard/usr/sbin/ioguard" --version 2>&1)
[[ $out == "ioguard $version"* ]]
result "the packaged ioguard --version names $version" $? "it says '$out'"
out=$("$tmp/ioguard/usr/sbin/ioguard" policy check --no-owner-check \
	--sysfs tests/fixtures/sysfs/q35-one-vfio "$tmp/ioguard/etc/ioguard/policy.yaml" 2>&1)
result "the packaged policy.yaml passes policy check" $? "$out"
grep -q 'mode audit' <<< "$out"
result "the packaged policy.yaml is in audit mode" $? "$out"

# libioasid0
multiarch=$(dpkg-deb -c "$lib_deb" | sed -n 's|.* \./usr/lib/\([^/]*\)/libioasid\.so\.0 .*|\1|p')
[ -n "$multiarch" ]
result "libioasid0 has usr/lib/MULTIARCH/libioasid.so.0" $? "$(dpkg-deb -c "$lib_deb")"
field "$lib_deb" Package libioasid0
field "$lib_deb" Multi-Arch same
symbols=$(dpkg-deb -I "$lib_deb" symbols 2>&1)
grep -q '^libioasid.so.0 libioasid0 ' <<< "$symbols"
result "libioasid0 has a symbols file for libioasid.so.0" $? "$symbols"
dpkg-deb -x "$lib_deb" "$tmp/root"
soname=$(readelf -d "$tmp/root/usr/lib/$multiarch/libioasid.so.0" 2>&1 |
	sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libioasid.so.0 ]
result "libioasid.so.0's soname" $? "it is '$soname'"

# libioasid-dev, unpacked with libioasid0 into a scratch root, builds a program.
has "$dev_deb" /usr/include/ioasid/ioasid.h "/usr/lib/$multiarch/libioasid.so" \
	"/usr/lib/$multiarch/pkgconfig/ioasid.pc"
field "$dev_deb" Package libioasid-dev
depends=$(dpkg-deb -f "$dev_deb" Depends)
grep -qF "libioasid0 (= $version)" <<< "$depends"
result "libioasid-dev depends on libioasid0 (= $version)" $? "Depends: $depends"
dpkg-deb -x "$dev_deb" "$tmp/root"
pc() {
	PKG_CONFIG_PATH="$tmp/root/usr/lib/$multiarch/pkgconfig" \
		PKG_CONFIG_SYSROOT_DIR="$tmp/root" pkg-config "$@"
}
flags=$(pc --cflags --libs ioasid 2>&1)
result "pkg-config reads the packaged ioasid.pc" $? "$flags"
# shellcheck disable=SC2086
out=$(cc -Wall -Werror -o "$tmp/consumer" tests/cli/libioasid_consumer.c $flags 2>&1) &&
	out=$(LD_LIBRARY_PATH="$tmp/root/usr/lib/$multiarch" "$tmp/consumer" \
		tests/fixtures/sysfs/q35-one-vfio 2>&1)
result "a program builds and runs with the packaged header, .so and ioasid.pc" $? "$out"

finish
