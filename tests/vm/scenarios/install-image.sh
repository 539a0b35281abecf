#!/bin/bash
# The OCI image (`make image`) as a node agent runs it: loaded with podman in the guest
# and run with what the fleet's DaemonSet gives it: the host's PID and network
# namespaces, /sys read-only with /sys/fs/bpf shared both ways (rshared: its pins outlive
# the container), securityfs, /dev/vfio (and /dev/iommu), the policy as a read-only
# volume, a read-only root with tmpfs /run/ioguard and /tmp, and exactly the systemd
# unit's capabilities on the default seccomp profile. The image's own entrypoint starts
# the daemon with the command docs/static.md gives a DaemonSet (the policy, and /metrics
# on the node's address: the guest's management NIC here, not the image's loopback
# default); it must enforce the mounted policy (its SHA-256 is the one in force) on the
# host's VFIO, serve /metrics to the host (tests/vm/host/install-image.sh scrapes it
# through QEMU's forward) and not on loopback, and its policy must stay in force after
# the container is removed.
. "$REPO/tests/vm/lib.sh"
# A node agent meets any kernel; this runs on Debian's 6.12. The lab's built kernels are
# tinyconfig without namespaces (CONFIG_NAMESPACES) or cgroups, so no container runtime
# starts there (crun: clone: EINVAL); the image's binary is the build the other
# scenarios prove on every kernel, and a podman run costs close to three minutes of TCG
# (debian-6.1 runs install-package in that time).
case "$KERNEL_FLAVOUR" in
debian) ;;
*) skip "runs on Debian's 6.12 (built kernels have no namespaces for a container runtime; debian-6.1 runs install-package); the image holds the build the other scenarios prove here" ;;
esac
bdf=""
finish() {
	podman rm -f -t 5 ioguard > /dev/null 2>&1
	policy_unload
	[ -n "$bdf" ] && restore_driver "$bdf"
	true
}
trap finish EXIT

find_node_ip
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
backend=${backends[-1]}

image_load
id=$image_id
podman image inspect "$id" --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' > "$work/entry.txt" ||
	fail "podman image inspect $id"
note "loaded $id: entrypoint and command $(cat "$work/entry.txt")"

mkdir -p /tmp/ioguard-image-etc
window_policy image 0x100000 0x1fffff > /dev/null
cp /tmp/ioguard-policy-image.yaml /tmp/ioguard-image-etc/policy.yaml
image_daemon_run "$id" /tmp/ioguard-image-etc "$node_ip:9464"

"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages 4 --iova 0x100000 > "$work/inside.json"
workload_expect "$backend: maps inside the window" "$work/inside.json" failed_step=null
"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages 1 --iova 0x40000000 > "$work/outside.json"
workload_expect "$backend: a map outside the window is denied by the container's policy" \
	"$work/outside.json" errno=1
curl -sf "http://$node_ip:9464/metrics" > "$work/metrics.prom" || fail "no /metrics on $node_ip:9464"
sha=$(sha256sum /tmp/ioguard-image-etc/policy.yaml | cut -d' ' -f1)
grep -q "^ioguard_enforcement_policy_info{.*sha256=\"$sha\"} 1" "$work/metrics.prom" ||
	fail "the policy in force is not the mounted one (sha256 $sha): $(grep policy_info "$work/metrics.prom")"
curl -s -o /dev/null --max-time 5 http://127.0.0.1:9464/metrics &&
	fail "/metrics is served on loopback too: --listen $node_ip:9464 was not honoured"

echo '{"denied": 1}' > "$work/ready.tmp" && mv "$work/ready.tmp" "$work/ready"
note "waiting for the host's scrape"
for _ in $(seq 1 600); do [ -f "$work/scraped" ] && break; sleep 0.1; done
[ -f "$work/scraped" ] || fail "the host did not report its scrape within 60 s"
[ "$(cat "$work/scraped")" = ok ] || fail "the host's scrape: $(cat "$work/scraped")"
echo "ok: the host scraped the container's /metrics"

podman rm -f -t 20 ioguard > /dev/null || fail "podman rm ioguard failed"
grep -q "stays in force" "$work/container.log" || fail "the daemon did not say enforcement stays"
"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages 1 --iova 0x40000000 > "$work/after.json"
workload_expect "the policy pinned from the container outlives it" "$work/after.json" errno=1
"$IOGUARD" unload || fail "unload of the container's policy from the host failed"
