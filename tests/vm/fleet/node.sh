#!/bin/bash
# lab-timeout: 2700
# One node of the lab's fleet (tests/vm/fleet.sh boots two side by side and scrapes both
# with one Prometheus on the host). The daemon runs from the OCI image as the DaemonSet
# runs it (image_daemon_run), and the node's workload follows from the topology it finds:
#   - edu alone in its IOMMU group: the node enforces an IOVA window on edu's tenant; the
#     workload maps inside it and one map outside it is denied.
#   - edu sharing its group with other endpoints: the node is mid-rollout, its policy
#     (strict viability) in audit mode; the other endpoints are left without a driver,
#     so the kernel lets edu's group be claimed while ioguard's strict rule says it is
#     not viable, and the workload keeps the group (vfio_workload --hold) until the host
#     has seen the fleet's non-viable-group alert fire for this node.
# The policy directory is laid out as the kubelet lays out a ConfigMap volume (policy.yaml
# -> ..data/policy.yaml, ..data -> ..v1). When the host asks (it writes $work/swap), the
# enforcing node updates it as the kubelet does: a new ..v2, and a ..data_tmp symlink
# renamed over ..data. The daemon must apply it; the new policy's narrower window then
# denies a map the old one allowed.
# Synchronisation: this writes $work/ready (what it did) and $work/swapped, the host
# $work/swap and $work/scraped.
. "$REPO/tests/vm/lib.sh"
bdf="" holder_pid="" others=()
finish() {
	[ -n "$holder_pid" ] && { touch "$work/release"; wait "$holder_pid"; }
	podman rm -f -t 5 ioguard > /dev/null 2>&1
	policy_unload
	for o in "${others[@]}"; do restore_driver "$o"; done
	[ -n "$bdf" ] && restore_driver "$bdf"
	true
}
trap finish EXIT

find_node_ip
bdf=$(find_device_by_id 1234 11e8) || fail "no edu (1234:11e8) device on node $LAB_NODE"
group=$(device_group "$bdf")
mapfile -t others < <(group_endpoints "$group" | grep -vx "$bdf")
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || fail "neither the VFIO container nor iommufd is available"
backend=${backends[0]}
note "node $LAB_NODE ($(uname -r)): edu $bdf in group $group with ${#others[@]} other endpoint(s) ${others[*]}; $backend"

etc=/tmp/ioguard-fleet-etc
mkdir -p "$etc/..v1"
ln -s ..v1 "$etc/..data"
ln -s ..data/policy.yaml "$etc/policy.yaml"
if [ ${#others[@]} -eq 0 ]; then
	role=enforce pages=24
	window_policy fleet 0x100000 0x1fffff > /dev/null
else
	role=audit pages=40
	for o in "${others[@]}"; do bind_driver "$o" none || fail "cannot unbind $o"; done
	# One tenant owns the whole group (a policy that splits a group does not load), and
	# the endpoints left without a driver make it non-viable under the strict rule only.
	group_policy fleet audit "$group" > /dev/null
fi
cp /tmp/ioguard-policy-fleet.yaml "$etc/..v1/policy.yaml"
"$IOGUARD" groups --json | jq -c --argjson g "$group" '.groups[] | select(.id == $g) | {id, kernel_viable, strict_viable}'

image_load
image_daemon_run "$image_id" "$etc" "$node_ip:9464"

denied=0
if [ $role = enforce ]; then
	"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages $pages --iova 0x100000 > "$work/inside.json"
	workload_expect "$pages maps inside the window" "$work/inside.json" failed_step=null maps=$pages
	"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages 1 --iova 0x40000000 > "$work/outside.json"
	workload_expect "a map outside the window is denied" "$work/outside.json" errno=1
	denied=1
else
	"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages $pages --iova 0x100000 \
		--hold "$work/release" > "$work/held.json" 2> "$work/held.err" &
	holder_pid=$!
	wait_for_line "$work/held.err" "holding" "$holder_pid" 120
	note "pid $holder_pid mapped $pages pages and holds group $group, which is not viable under the strict rule"
fi

cat > "$work/ready.tmp" <<JSON
{"node": "$LAB_NODE", "role": "$role", "group": "$group", "maps_4k": $pages, "denied": $denied,
 "others": "${others[*]}", "kernel": "$(uname -r)",
 "policy_sha256": "$(sha256sum "$etc/policy.yaml" | cut -d' ' -f1)"}
JSON
mv "$work/ready.tmp" "$work/ready"
note "waiting for the host's Prometheus"
if [ $role = enforce ]; then
	for _ in $(seq 1 12000); do [ -f "$work/swap" ] || [ -f "$work/scraped" ] && break; sleep 0.1; done
	[ -f "$work/swap" ] || fail "the host did not ask for the ConfigMap update: $(cat "$work/scraped" 2>/dev/null)"
	mkdir "$etc/..v2"
	window_policy fleet-v2 0x100000 0x10ffff > /dev/null
	cp /tmp/ioguard-policy-fleet-v2.yaml "$etc/..v2/policy.yaml"
	ln -s ..v2 "$etc/..data_tmp"
	mv -T "$etc/..data_tmp" "$etc/..data"
	wait_for_line "$work/container.log" "policy fleet-v2 from /etc/ioguard/policy.yaml is in force" "$image_daemon_pid" 120
	note "the daemon applied the ConfigMap-style update at $SECONDS s"
	"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages $pages --iova 0x100000 > "$work/narrowed.json"
	workload_expect "the new policy's 16-page window denies the 17th map" "$work/narrowed.json" \
		failed_step=map_dma errno=1 maps=16
	denied=$((denied + 1))
	cat > "$work/swapped.tmp" <<JSON
{"policy_sha256": "$(sha256sum "$etc/policy.yaml" | cut -d' ' -f1)", "denied": $denied, "maps_4k": $((pages + 16))}
JSON
	mv "$work/swapped.tmp" "$work/swapped"
fi
for _ in $(seq 1 12000); do [ -f "$work/scraped" ] && break; sleep 0.1; done
[ -f "$work/scraped" ] || fail "the host did not report within 1200 s"
[ "$(cat "$work/scraped")" = ok ] || fail "the host's assertions: $(cat "$work/scraped")"
if [ -n "$holder_pid" ]; then
	touch "$work/release"
	wait "$holder_pid"
	holder_pid=""
	workload_expect "the held workload" "$work/held.json" failed_step=null maps=$pages
fi
echo "ok: the host's Prometheus saw this node as the fleet expects"
