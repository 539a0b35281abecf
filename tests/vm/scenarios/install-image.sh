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

image="$OUTPUT/image/ioguard-oci.tar"
[ -f "$image" ] || fail "no $image: \`make image\` did not run"
[ -s "$LAB_RESULTS/mgmt-if" ] || skip "no management NIC in this guest (tests/vm/run.sh adds one)"
node_ip=$(ip -4 -o addr show dev "$(cat "$LAB_RESULTS/mgmt-if")" | awk '{split($4, a, "/"); print a[1]; exit}')
[ -n "$node_ip" ] || fail "the management NIC $(cat "$LAB_RESULTS/mgmt-if") has no IPv4 address"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
backend=${backends[-1]}

# podman's storage on a tmpfs of its own (the guest's root is an overlay, which cannot be
# an overlay's upper layer), its locks in /dev/shm.
mkdir -p /var/lib/containers /dev/shm
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o size=256m tmpfs /var/lib/containers
export STORAGE_DRIVER=vfs
podman load -q -i "$image" > "$work/load.txt" 2>&1 || { cat "$work/load.txt"; fail "podman load -i $image failed"; }
id=$(sed -n 's/^Loaded image[^:]*: *//p' "$work/load.txt" | tail -n 1)
[ -n "$id" ] || fail "podman load named no image: $(cat "$work/load.txt")"
podman image inspect "$id" --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' > "$work/entry.txt" ||
	fail "podman image inspect $id"
note "loaded $id: entrypoint and command $(cat "$work/entry.txt")"

mkdir -p /tmp/ioguard-image-etc
window_policy image 0x100000 0x1fffff > /dev/null
cp /tmp/ioguard-policy-image.yaml /tmp/ioguard-image-etc/policy.yaml
# rshared needs a shared source; kubelet's hosts mount /sys/fs/bpf shared (systemd does).
mount --make-shared /sys/fs/bpf
caps=$(unit_setting CapabilityBoundingSet "$REPO/docs/systemd/ioguard.service")
cap_args=(--cap-drop=all)
for c in $caps; do cap_args+=("--cap-add=$c"); done
devices=()
for d in /dev/vfio /dev/iommu; do [ -e "$d" ] && devices+=(-v "$d:$d"); done
podman run -d --name ioguard --pid=host --network=host "${cap_args[@]}" \
	--ulimit memlock=-1:-1 --stop-timeout 20 \
	--read-only --tmpfs /run/ioguard:mode=0700 --tmpfs /tmp \
	-v /sys:/sys:ro -v /sys/fs/bpf:/sys/fs/bpf:rshared \
	-v /sys/kernel/security:/sys/kernel/security:ro "${devices[@]}" \
	-v /tmp/ioguard-image-etc:/etc/ioguard:ro \
	--log-driver k8s-file --log-opt "path=$work/container.log" \
	"$id" --policy /etc/ioguard/policy.yaml --listen "$node_ip:9464" \
	> "$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "podman run failed"; }
pid=$(podman inspect ioguard --format '{{.State.Pid}}')
wait_for_line "$work/container.log" "serving metrics" "$pid" 120
note "the daemon serves at $SECONDS s in the container (host PID $pid), capabilities $caps"

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
