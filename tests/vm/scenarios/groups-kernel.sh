#!/bin/bash
# `ioguard groups --json` against the kernel's own view, in both states of the
# multi-device group: one endpoint on vfio-pci and the other on its host driver (the
# kernel rule says not viable, naming the host driver), then every endpoint on vfio-pci
# (viable). For every group: devices, drivers, ids, type and reserved regions as the
# guest's sysfs shows them; for every group with a VFIO group node: kernel_viable equal to
# VFIO_GROUP_GET_STATUS's VIABLE flag (build/lab/vfio_workload status). In the
# non-viable state the raw kernel must also refuse the group with EPERM (type1
# SET_CONTAINER, iommufd BIND), the errno libioasid gives.
. "$REPO/tests/vm/lib.sh"
# Its expectations are the legacy type1 container's. Where iommufd serves /dev/vfio/vfio
# the kernel answers differently (a non-viable group is refused at GET_DEVICE_FD, not at
# SET_CONTAINER; ownership is claimed through iommufd): not rewritten for it yet.
[ -e /dev/vfio/vfio ] && ! has_type1_container &&
	skip "expects the legacy type1 container; on iommufd's emulated /dev/vfio/vfio the kernel refuses at another step (not rewritten for this kernel yet)"

edu=$(find_device_by_id 1234 11e8) || skip "no edu device (1234:11e8)"
group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
mapfile -t endpoints < <(group_endpoints "$group")
first=${endpoints[0]}
second=${endpoints[1]}
host_driver=$(device_driver "$second")
note "group $group: endpoints ${endpoints[*]}; $second is on $host_driver; edu $edu"
trap 'for b in "$edu" "${endpoints[@]}"; do restore_driver "$b"; done; cleanup_trace' EXIT

# check STATE: ioguard's JSON and GET_STATUS of every VFIO group, into $work/STATE.*
check() {
	local state=$1 g bdf b
	"$IOGUARD" groups --json > "$work/$state.json" || fail "$state: ioguard groups --json failed"
	: > "$work/$state.status"
	for g in $(ls /sys/kernel/iommu_groups | sort -n); do
		[ -e "/dev/vfio/$g" ] || continue
		for b in /sys/kernel/iommu_groups/"$g"/devices/*; do bdf=$(basename "$b"); break; done
		"$LAB_TOOLS/vfio_workload" status "$bdf" >> "$work/$state.status" ||
			fail "$state: vfio_workload status $bdf failed: $(tail -n 1 "$work/$state.status")"
	done
	python3 - "$state" "$work/$state.json" "$work/$state.status" "$group" "$second" "$host_driver" <<'PY' || fail "$state: ioguard groups disagrees with the kernel"
import json, os, sys
state, jpath, spath, multi, second, host_driver = sys.argv[1:]
doc = json.load(open(jpath))
status = [json.loads(l) for l in open(spath) if l.strip()]
sysfs = "/sys"
bad = []

def sysread(p):
    with open(p) as f:
        return f.read().strip()

groups = {g["id"]: g for g in doc["groups"]}
want_ids = sorted(int(g) for g in os.listdir(f"{sysfs}/kernel/iommu_groups"))
if sorted(groups) != want_ids:
    bad.append(f"groups {sorted(groups)} != sysfs {want_ids}")
for gid in want_ids:
    g = groups.get(gid)
    if not g:
        continue
    gdir = f"{sysfs}/kernel/iommu_groups/{gid}"
    if g["type"] != sysread(f"{gdir}/type"):
        bad.append(f"group {gid}: type {g['type']} != {sysread(gdir + '/type')}")
    resv = [l.split() for l in sysread(f"{gdir}/reserved_regions").splitlines()]
    got = [[r["start"], r["last"], r["type"]] for r in g["reserved_regions"]]
    if got != resv:
        bad.append(f"group {gid}: reserved regions {got} != {resv}")
    names = sorted(os.listdir(f"{gdir}/devices"))
    if [d["name"] for d in g["devices"]] != names:
        bad.append(f"group {gid}: devices {[d['name'] for d in g['devices']]} != {names}")
    for d in g["devices"]:
        ddir = f"{sysfs}/bus/pci/devices/{d['name']}"
        drv = os.path.basename(os.readlink(f"{ddir}/driver")) if os.path.exists(f"{ddir}/driver") else None
        if d["driver"] != drv:
            bad.append(f"{d['name']}: driver {d['driver']} != {drv}")
        for k in ("vendor", "device", "class"):
            if int(d[k], 16) != int(sysread(f"{ddir}/{k}"), 16):
                bad.append(f"{d['name']}: {k} {d[k]} != {sysread(ddir + '/' + k)}")
for s in status:
    g = groups.get(s["group"])
    if g is None:
        bad.append(f"VFIO group {s['group']} is not in ioguard's output")
    elif g["kernel_viable"] != s["viable"]:
        bad.append(f"group {s['group']}: kernel_viable {g['kernel_viable']} but GET_STATUS VIABLE={s['viable']}")
    else:
        print(f"ok: {state}: group {s['group']}: kernel_viable {g['kernel_viable']} = VFIO_GROUP_GET_STATUS VIABLE")
m = groups[int(multi)]
if state == "one-vfio":
    want = f"{second} is bound to {host_driver}, which uses the kernel DMA API"
    kr = [r for r in m["reasons"] if r["rule"] == "kernel"]
    if m["kernel_viable"] or [(r["cause"], r["device"], r["message"]) for r in kr] != [("dma_api_driver", second, want)]:
        bad.append(f"group {multi}: expected not viable because '{want}', got {m['kernel_viable']} {kr}")
    else:
        print(f"ok: {state}: group {multi} not viable: {want}")
else:
    if not (m["kernel_viable"] and m["strict_viable"]) or m["reasons"]:
        bad.append(f"group {multi}: expected viable under both rules, got {m}")
    else:
        print(f"ok: {state}: group {multi} viable under the kernel and the strict rule")
if not any(s["group"] == int(multi) for s in status):
    bad.append(f"no GET_STATUS for group {multi}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
}

bind_driver "$edu" vfio-pci || fail "cannot bind $edu to vfio-pci"
bind_driver "$first" vfio-pci || fail "cannot bind $first to vfio-pci"
check one-vfio
# The raw kernel refuses the non-viable group with EPERM on both interfaces, the errno
# libioasid's bind gives before it asks the kernel (docs/libioasid.md).
"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 1 > "$work/one-vfio.type1.json"
workload_expect "type1 on the non-viable group" "$work/one-vfio.type1.json" failed_step=set_container errno=1
if [ -e /dev/iommu ] && [ -d "/sys/bus/pci/devices/$first/vfio-dev" ]; then
	"$LAB_TOOLS/vfio_workload" iommufd "$first" --pages 1 > "$work/one-vfio.iommufd.json"
	workload_expect "iommufd on the non-viable group" "$work/one-vfio.iommufd.json" failed_step=bind_iommufd errno=1
fi
for bdf in "${endpoints[@]:1}"; do
	bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
done
check both-vfio
