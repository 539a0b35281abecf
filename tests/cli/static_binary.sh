#!/usr/bin/env bash
# The static ioguard (make static) and its OCI image (make image), on the host: the
# binary is static and does what the dynamic one does without NSS or shared libraries;
# the archive's config has the daemon as entrypoint and the labels, and its one layer
# holds the binary and the sample policy only. Either part SKIPs, naming the make
# target, when its artifact is not built; podman is not used (it cannot run containers
# on this host; the lab runs the image). Prints "ok"/"not ok" lines and the totals.
set -u
. "$(dirname "$0")/lib.bash"
output=$(dirname "$IOGUARD")
static=$output/static/ioguard
archive=$output/image/ioguard-oci.tar
fixture=tests/fixtures/sysfs/q35-one-vfio
tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
pass() { echo "ok $1"; }
fail() { echo "not ok $1: $2"; }
# expect NAME CMD...: ok when CMD succeeds.
expect() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}
# expect_stdout NAME WANT_RC WANT_STDOUT_SUBSTRING CMD...
expect_stdout() {
	local name=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$("$@" 2>/dev/null)
	rc=$?
	if [ $rc -eq "$want_rc" ] && grep -qF -- "$want" <<< "$out"; then
		pass "$name"
	else
		fail "$name" "exit $rc (want $want_rc), stdout: $out"
	fi
}

if [ ! -x "$static" ] && [ ! -f "$archive" ]; then
	echo "SKIP: no $static and no $archive: run make static and make image"
	exit 77
fi

test_static() {
	local p out rc url

	if readelf -lW "$static" | grep -q 'INTERP'; then
		fail "static: no program interpreter" "$(readelf -lW "$static" | grep -A1 INTERP)"
	else
		pass "static: no program interpreter"
	fi
	if readelf -dW "$static" | grep -q '(NEEDED)'; then
		fail "static: no shared library needed" "$(readelf -dW "$static" | grep NEEDED)"
	else
		pass "static: no shared library needed"
	fi
	# ldd: "not a dynamic executable" (static), "statically linked" (static-pie).
	out=$(ldd "$static" 2>&1)
	if grep -qE 'not a dynamic executable|statically linked' <<< "$out"; then
		pass "static: ldd finds no libraries"
	else
		fail "static: ldd finds no libraries" "$out"
	fi

	expect "static: --version is the dynamic build's" \
		[ "$("$static" --version)" = "$("$IOGUARD" --version)" ]
	for p in policies/*.yaml; do
		expect_stdout "static: policy check $p" 0 "ok (policy" \
			"$static" policy check --no-owner-check --sysfs "$fixture" "$p"
	done
	expect "static: groups of $fixture are the dynamic build's" \
		[ "$("$static" groups --sysfs "$fixture" 2>&1)" = \
		  "$("$IOGUARD" groups --sysfs "$fixture" 2>&1)" ]
	expect "static: groups --json of $fixture are the dynamic build's" \
		[ "$("$static" --json groups --sysfs "$fixture" 2>&1)" = \
		  "$("$IOGUARD" --json groups --sysfs "$fixture" 2>&1)" ]

	# doctor: 0 where enforcement can run, 1 where it cannot (this host: no IOMMU); the
	# same answer as the dynamic build, and a summary either way.
	out=$("$static" doctor 2>&1)
	rc=$?
	"$IOGUARD" doctor >/dev/null 2>&1
	if [ $rc -eq $? ] && [ $rc -le 1 ] && grep -qE '^[0-9]+ OK, ' <<< "$out"; then
		pass "static: doctor runs to its summary (exit $rc)"
	else
		fail "static: doctor runs to its summary" "exit $rc: $(tail -n 3 <<< "$out")"
	fi

	# Host names would need NSS, which a static glibc binary cannot load: the listen
	# address is parsed numerically (inet_pton) and a name is refused in one line.
	check_one_line "static: run --listen with a host name is refused" 2 \
		"host names are not resolved" \
		"$static" run --policy policies/audit.yaml --listen localhost:9464
	check_one_line "static: metrics --listen with a host name is refused" 2 \
		"host names are not resolved" "$static" metrics --listen localhost:9464

	# A numeric address serves /metrics (libmicrohttpd without HTTPS, linked in). Needs
	# root and a kernel that lets the trace programs load.
	"$static" metrics --listen 127.0.0.1:0 > /dev/null 2> "$tmp/metrics.err" &
	server=$!
	for _ in $(seq 50); do
		url=$(sed -n 's/.*serving metrics on \(http[^;]*\);.*/\1/p' "$tmp/metrics.err")
		[ -n "$url" ] || ! kill -0 "$server" 2>/dev/null && break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "SKIP static: /metrics on a numeric address: ioguard metrics did not start here: $(tail -n 1 "$tmp/metrics.err")"
	elif curl -fsS "$url" 2>&1 | grep -q '^ioguard_build_info{version='; then
		pass "static: serves /metrics on $url"
	else
		fail "static: serves /metrics on $url" "$(curl -sS "$url" 2>&1 | head -n 3)"
	fi
	kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	server=
}

# blob DIGEST: the file of a blob extracted from the archive.
blob() {
	local f=$tmp/blob-${1#sha256:}
	[ -f "$f" ] || tar -xOf "$archive" "blobs/sha256/${1#sha256:}" > "$f"
	echo "$f"
}

test_image() {
	local manifest config layer files want version

	command -v jq >/dev/null || { fail "image" "jq is missing (scripts/deps.sh installs it)"; return; }
	manifest=$(blob "$(tar -xOf "$archive" index.json | jq -r '.manifests[0].digest')")
	expect "image: index names ioguard:VERSION" \
		[ "$(tar -xOf "$archive" index.json | jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]')" = \
		  "ioguard:$(printf '%s' "$("$static" --version | awk '{print $2}')" | tr -c 'A-Za-z0-9_.-' '-')" ]
	config=$(blob "$(jq -r .config.digest "$manifest")")
	expect "image: entrypoint is ioguard run" \
		[ "$(jq -c .config.Entrypoint "$config")" = '["/usr/sbin/ioguard","run"]' ]
	expect "image: cmd is the sample policy on loopback, as the unit" \
		[ "$(jq -c .config.Cmd "$config")" = \
		  '["--policy","/etc/ioguard/policy.yaml","--listen","127.0.0.1:9464"]' ]
	expect "image: runs as uid 0 by number (no /etc/passwd)" \
		[ "$(jq -r .config.User "$config")" = "0:0" ]
	version=$("$static" --version | awk '{print $2}')
	expect "image: version label is the binary's ($version)" \
		[ "$(jq -r '.config.Labels["org.opencontainers.image.version"]' "$config")" = "$version" ]
	expect "image: title label" \
		[ "$(jq -r '.config.Labels["org.opencontainers.image.title"]' "$config")" = ioguard ]
	expect "image: revision label is a commit" \
		grep -qE '^([0-9a-f]{40}(-dirty)?|unknown)$' \
		<<< "$(jq -r '.config.Labels["org.opencontainers.image.revision"]' "$config")"
	if jq -e '.config.Labels | has("org.opencontainers.image.source")' "$config" >/dev/null; then
		pass "image: source label"
	else
		echo "SKIP image: source label: built without IMAGE_SOURCE or a git remote origin"
	fi

	expect "image: one layer" [ "$(jq '.layers | length' "$manifest")" -eq 1 ]
	layer=$(blob "$(jq -r '.layers[0].digest' "$manifest")")
	# GNU tar recognises a compressed layer by itself when reading a file.
	files=$(tar -tvf "$layer" --numeric-owner | awk '$1 !~ /^d/ {print $1, $2, $6}' | sort)
	want=$(printf '%s\n' "-rw-r--r-- 0/0 etc/ioguard/policy.yaml" \
		"-rwxr-xr-x 0/0 usr/sbin/ioguard" | sort)
	expect "image: the layer holds the binary and the policy, nothing else" \
		[ "$files" = "$want" ]
	expect "image: its binary is $static" \
		cmp -s <(tar -xOf "$layer" usr/sbin/ioguard) "$static"
	tar -xOf "$layer" etc/ioguard/policy.yaml > "$tmp/policy.yaml"
	expect_stdout "image: its sample policy is valid and audits only" 0 "mode audit)" \
		"$static" policy check --no-owner-check --sysfs "$fixture" "$tmp/policy.yaml"
	expect "image: /run/ioguard is 0700 (the decision feed's directory)" \
		grep -q '^drwx------ 0/0 run/ioguard/$' \
		<<< "$(tar -tvf "$layer" --numeric-owner | awk '{print $1, $2, $6}')"
	test_image_root "$layer"
}

# The layer unpacked is a whole root: ioguard runs in it with nothing else there (no
# libc, no /etc/passwd, no /dev), as in a container from the image. A chroot in a mount
# namespace of its own (the mounts vanish with it), not a container runtime.
test_image_root() {
	local layer=$1 root=$tmp/root out url

	if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v chroot >/dev/null; then
		echo "SKIP image: running its root: needs root, unshare and chroot"
		return
	fi
	mkdir -p "$root" && tar -xf "$layer" -C "$root"
	expect_stdout "image root: ioguard --version" 0 "ioguard " \
		chroot "$root" /usr/sbin/ioguard --version
	# The owner check applies: the layer's policy is root's and 0644.
	mkdir -p "$root/fixture" && cp -a "$fixture/." "$root/fixture/"
	expect_stdout "image root: policy check /etc/ioguard/policy.yaml" 0 "mode audit)" \
		chroot "$root" /usr/sbin/ioguard policy check --sysfs /fixture /etc/ioguard/policy.yaml
	rm -rf "$root/fixture"
	# /metrics from the image's binary, with the host's /proc and /sys as a container
	# with --pid=host and /sys mounted sees them.
	mkdir -p "$root/proc" "$root/sys"
	unshare -m sh -c 'mount -t proc proc "$1/proc" && mount --rbind /sys "$1/sys" &&
		exec chroot "$1" /usr/sbin/ioguard metrics --listen 127.0.0.1:0' \
		sh "$root" > /dev/null 2> "$tmp/root-metrics.err" &
	server=$!
	for _ in $(seq 50); do
		url=$(sed -n 's/.*serving metrics on \(http[^;]*\);.*/\1/p' "$tmp/root-metrics.err")
		[ -n "$url" ] || ! kill -0 "$server" 2>/dev/null && break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "SKIP image root: /metrics: ioguard metrics did not start here: $(tail -n 1 "$tmp/root-metrics.err")"
	elif curl -fsS "$url" 2>&1 | grep -q '^ioguard_build_info{version='; then
		pass "image root: serves /metrics on $url"
	else
		fail "image root: serves /metrics on $url" "$(curl -sS "$url" 2>&1 | head -n 3)"
	fi
	kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	server=
}

{
	if [ -x "$static" ]; then test_static; else echo "SKIP static: no $static: run make static"; fi
	if [ -f "$archive" ]; then
		if [ -x "$static" ]; then test_image
		else echo "SKIP image: its checks need $static: run make static"; fi
	else
		echo "SKIP image: no $archive: run make image"
	fi
} | tee "$tmp/results"
echo "$(grep -c '^ok ' "$tmp/results") passed, $(grep -c '^not ok ' "$tmp/results") failed"
! grep -q '^not ok ' "$tmp/results"
