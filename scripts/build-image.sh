#!/usr/bin/env bash
# Builds the ioguard OCI image from scratch with buildah and writes it as an OCI archive
# (`podman load -i` takes it). `make image` runs it after `make static`.
#
#   build-image.sh OUTPUT [POLICY]  -> OUTPUT/image/ioguard-oci.tar
#
# The image holds one layer: /usr/sbin/ioguard (the static binary), the sample policy
# POLICY (default policies/default.yaml, as the package installs: audit mode, denies nothing) at
# /etc/ioguard/policy.yaml, an empty /run/ioguard (0700, the decision feed's socket and
# the policy's topology stamp) and /tmp (1777). No shell, no libc, no /etc/passwd: the
# binary needs none (docs/static.md). Entrypoint `ioguard run`, CMD its default options:
# /metrics on loopback, as the unit serves it. With the host's network, 0.0.0.0 would
# also serve every bridge a tenant VM sits on and every public address; a DaemonSet
# names the node's address instead (--listen $(NODE_IP):9464, docs/static.md).
#
# Storage: a throwaway containers-storage root under OUTPUT/image/storage with the vfs
# driver, removed on exit: the system's image store is not touched, vfs mounts nothing
# (no overlay mount can outlive a failed build or block `make clean`), and its cost, a
# full copy per layer, is nothing for one small layer. Overlay works on this machine
# too; vfs is chosen for the reasons above, not out of need.
#
# Labels: org.opencontainers.image.{title,version,revision,source,created}: version from
# the binary's --version, revision from git (with -dirty for local changes), source
# from $IMAGE_SOURCE or the git remote "origin" (left out, with a note, when neither is
# set). The creation time and file times are those of HEAD's commit, so one commit
# builds the same image.
set -euo pipefail

output=${1:?usage: build-image.sh OUTPUT [POLICY]}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
policy=${2:-$repo/policies/default.yaml}
binary=$output/static/ioguard
dir=$output/image
archive=$dir/ioguard-oci.tar

die() { echo "build-image: $*" >&2; exit 1; }

command -v buildah >/dev/null || die "buildah is missing (scripts/deps.sh installs it)"
[ -x "$binary" ] || die "$binary is missing: run make static"
[ -r "$policy" ] || die "cannot read the sample policy $policy"

version=$("$binary" --version | awk '{print $2}')
[ -n "$version" ] || die "$binary --version printed no version"
# An image tag allows [A-Za-z0-9_.-] only (a Debian-style 0.1.0+git1 would not do).
tag=$(printf '%s' "$version" | tr -c 'A-Za-z0-9_.-' '-')
revision=unknown
epoch=$(date +%s)
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
	revision=$(git -C "$repo" rev-parse HEAD)
	epoch=$(git -C "$repo" log -1 --format=%ct HEAD)
	[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
		revision=$revision-dirty
fi
source=${IMAGE_SOURCE:-$(git -C "$repo" remote get-url origin 2>/dev/null || true)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

storage=$dir/storage
rootfs=$dir/rootfs
buildah=(buildah --root "$storage/root" --runroot "$storage/run" --storage-driver vfs)
cleanup() {
	"${buildah[@]}" rm --all >/dev/null 2>&1 || true
	rm -rf "$storage" "$rootfs" "$archive.tmp"
}
trap cleanup EXIT
cleanup

install -D -m 0755 "$binary" "$rootfs/usr/sbin/ioguard"
install -D -m 0644 "$policy" "$rootfs/etc/ioguard/policy.yaml"
install -d -m 0700 "$rootfs/run/ioguard"
install -d -m 1777 "$rootfs/tmp"
# install(1) applies modes after the umask; the layer must carry exactly these.
chmod 0755 "$rootfs" "$rootfs/usr" "$rootfs/usr/sbin" "$rootfs/etc" "$rootfs/etc/ioguard" \
	"$rootfs/run"

ctr=$("${buildah[@]}" from --name "ioguard-build-$$" scratch)
"${buildah[@]}" copy --quiet --chown 0:0 "$ctr" "$rootfs/" / >/dev/null
labels=(
	--label org.opencontainers.image.title=ioguard
	--label "org.opencontainers.image.description=ioguard daemon: VFIO/iommufd device policy (BPF LSM), IOMMU tracing and Prometheus metrics"
	--label "org.opencontainers.image.version=$version"
	--label "org.opencontainers.image.revision=$revision"
	--label "org.opencontainers.image.created=$created"
)
if [ -n "$source" ]; then
	labels+=(--label "org.opencontainers.image.source=$source")
else
	echo "build-image: no IMAGE_SOURCE and no git remote origin: org.opencontainers.image.source left out" \
		"(set IMAGE_SOURCE=URL)" >&2
fi
# Numeric user: the image has no /etc/passwd. SIGTERM stops the daemon and leaves the
# policy pinned (docs/daemon.md).
"${buildah[@]}" config --os linux --arch amd64 --user 0:0 --workingdir / \
	--entrypoint '["/usr/sbin/ioguard", "run"]' \
	--cmd '["--policy", "/etc/ioguard/policy.yaml", "--listen", "127.0.0.1:9464"]' \
	--port 9464/tcp --stop-signal SIGTERM --created-by "make image (scripts/build-image.sh)" \
	"${labels[@]}" "$ctr"
"${buildah[@]}" commit --quiet --format oci --timestamp "$epoch" --identity-label=false \
	--disable-compression=false \
	--rm "$ctr" "oci-archive:$archive.tmp:ioguard:$tag" >/dev/null
mv "$archive.tmp" "$archive"
echo "build-image: $archive (ioguard:$tag, revision $revision, $(du -k "$archive" | cut -f1) KiB)" >&2
