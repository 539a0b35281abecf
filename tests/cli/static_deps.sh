#!/usr/bin/env bash
# scripts/static-deps.sh trusts its cache: a prefix marked complete is linked into the
# static ioguard as it is. So a cache directory another user could write is refused,
# before anything is downloaded, built or read from it. The mirror points at a closed
# port: a check that let the script through fails fast instead of downloading.
. "$(dirname "$0")/lib.bash"
repo=$(cd "$(dirname "$0")/../.." && pwd)

# What the script checks before its cache: without it, it stops earlier, for that.
for tool in curl dpkg-source dpkg-buildflags xz make gcc flock; do
	if ! command -v "$tool" > /dev/null; then
		echo "SKIP: $tool is missing (scripts/deps.sh installs it): static-deps.sh stops before its cache check"
		exit 77
	fi
done
if ! dpkg-query -W libmicrohttpd-dev > /dev/null 2>&1; then
	echo "SKIP: libmicrohttpd-dev is not installed (scripts/deps.sh installs it): static-deps.sh stops before its cache check"
	exit 77
fi
dir=$(mktemp -d /tmp/ioguard-static-deps-XXXXXX)
trap 'rm -rf "$dir"' EXIT

# refused NAME CACHE: static-deps.sh exits 1 naming CACHE and plants nothing in it.
refused() {
	local out rc
	out=$(IOGUARD_CACHE=$2 DEBIAN_MIRROR=http://127.0.0.1:9/debian \
		"$repo/scripts/static-deps.sh" libmicrohttpd 2>&1)
	rc=$?
	[ $rc -eq 1 ] && grep -qF "the cache directory $2 belongs to uid" <<< "$out" &&
		[ -z "$(ls -A "$2")" ]
	result "$1" $? "exit $rc, cache holds [$(ls -A "$2" | tr '\n' ' ')], said: $out"
}

mkdir -m 0777 "$dir/world"
chmod 0777 "$dir/world"		# whatever the umask
refused "a world-writable cache is refused" "$dir/world"
mkdir "$dir/group"
chmod 0775 "$dir/group"
refused "a group-writable cache is refused" "$dir/group"
if [ "$(id -u)" = 0 ]; then
	mkdir "$dir/other"
	chown 65534 "$dir/other"
	refused "a cache of another user is refused" "$dir/other"
else
	echo "SKIP: not root, cannot give a directory to another user"
fi

# Sanity: a cache of this user's, mode 0755, passes the check (and then stops at the
# closed mirror, having planted nothing complete).
mkdir "$dir/mine"
chmod 0755 "$dir/mine"
out=$(IOGUARD_CACHE=$dir/mine DEBIAN_MIRROR=http://127.0.0.1:9/debian \
	"$repo/scripts/static-deps.sh" libmicrohttpd 2>&1)
! grep -q "the cache directory" <<< "$out" && grep -q "cannot download http://127.0.0.1:9/" <<< "$out" &&
	[ -z "$(find "$dir/mine" -name .complete)" ]
result "a cache of this user's, writable by nobody else, is used" $? "said: $out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
