#!/bin/bash
# lab-timeout: 420
# `ioguard doctor --json` against what this kernel really has: every verdict it gives is
# recomputed here from the same kernel files (and the tracer's own mode, for fentry),
# and the exit status must be 0 exactly when no check failed. On every lab kernel the
# BPF LSM is active, the emulated Intel IOMMU is on with DMA domains, and nothing
# overrides isolation, so doctor must say enforcement can run (exit 0). The facts are
# the kernel's, not the result of loading ioguard's enforcer (doctor never loads it).
. "$REPO/tests/vm/lib.sh"

"$IOGUARD" doctor --json > "$work/doctor.json"
rc=$?
"$IOGUARD" doctor > "$work/doctor.txt"
text_rc=$?
sed 's/^/   | /' "$work/doctor.txt"
[ "$rc" = "$text_rc" ] || fail "exit $rc with --json but $text_rc without"
tail -n 1 "$work/doctor.txt" | grep -Eq '^[0-9]+ OK, [0-9]+ INFO, [0-9]+ WARN, [0-9]+ FAIL: ' ||
	fail "the text output does not end with the summary line: $(tail -n 1 "$work/doctor.txt")"

# The mode `ioguard trace` chooses, to hold doctor's fentry and trace verdicts against.
# Its programs take 60 s or more to load on 6.1 beside another guest, so the timeout that
# stops a hung trace must outlast the wait for its mode line, or the wait cannot help.
timeout 240 "$IOGUARD" trace > /dev/null 2> "$work/trace.err" &
trace_pid=$!
wait_for_line "$work/trace.err" 'mode ' "$trace_pid" 200
cleanup_trace
trace_mode=$(sed -n 's/.*tracing, mode \([a-z_]*\).*/\1/p' "$work/trace.err" | head -n 1)
[ -n "$trace_mode" ] || fail "ioguard trace said no mode: $(cat "$work/trace.err")"
note "ioguard trace chose mode $trace_mode"

python3 - "$work/doctor.json" "$rc" "$trace_mode" <<'PY' || fail "ioguard doctor disagrees with the kernel"
import glob, gzip, json, os, sys
doc = json.load(open(sys.argv[1]))
rc, trace_mode = int(sys.argv[2]), sys.argv[3]
checks = {c["name"]: c for c in doc["checks"]}
bad = []

def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default

def expect(name, want, why):
    c = checks.get(name)
    if c is None:
        bad.append(f"{name}: missing (want {want}: {why})")
    elif c["status"] != want:
        bad.append(f"{name}: {c['status']} but want {want} ({why}): {c['reason']}")
    else:
        print(f"ok: {name} {want}: {c['reason']}")

release = os.uname().release
cmdline = read("/proc/cmdline").split()
lsm = read("/sys/kernel/security/lsm").split(",")
config = read(f"/boot/config-{release}")
if not config:
    try:
        config = gzip.open("/proc/config.gz").read().decode()
    except OSError:
        config = ""
kallsyms = set(l.split()[2] for l in open("/proc/kallsyms") if len(l.split()) >= 3)
mounts = [(l.split()[4], l.split(" - ")[1].split()[0]) for l in open("/proc/self/mountinfo")]

expect("kernel_btf", "OK" if os.path.exists("/sys/kernel/btf/vmlinux") else "FAIL", "/sys/kernel/btf/vmlinux")
for m in ("vfio", "vfio_iommu_type1", "vfio_pci", "iommufd"):
    if os.path.exists(f"/sys/module/{m}/initstate"):
        expect(f"module_btf.{m}", "OK" if os.path.exists(f"/sys/kernel/btf/{m}") else "WARN", f"{m} loaded")
    elif os.path.exists(f"/sys/module/{m}"):
        expect(f"module_btf.{m}", "OK", f"{m} built in")
expect("bpf_lsm", "OK" if "bpf" in lsm else "FAIL", f"/sys/kernel/security/lsm = {','.join(lsm)}")
# The tracer in fentry mode proves the kernel attaches fentry; the converse does not
# hold: a kernel may attach fentry and still refuse ioguard's own fentry programs (its
# verifier), and doctor must then say trace falls back, and why.
if trace_mode == "fentry":
    expect("fentry", "OK", "ioguard trace attached fentry programs")
if checks.get("fentry", {}).get("status") == "FAIL" and trace_mode == "fentry":
    bad.append("doctor says fentry is refused, but ioguard trace attached fentry programs")
expect("feature.trace", "OK" if trace_mode == "fentry" else "WARN", f"ioguard trace chose {trace_mode}")
if trace_mode != "fentry" and checks["fentry"]["status"] == "OK" and "verifier" not in checks["feature.trace"]["reason"]:
    bad.append(f"trace falls back on a kernel that attaches fentry, and doctor does not say why: {checks['feature.trace']['reason']}")
expect("bpffs", "OK" if ("/sys/fs/bpf", "bpf") in mounts else "FAIL", "mountinfo")
expect("securityfs", "OK" if ("/sys/kernel/security", "securityfs") in mounts else "FAIL", "mountinfo")
expect("kallsyms", "OK", "root reads kallsyms addresses")
if "CONFIG_BPF_LSM=y" in config.splitlines():
    expect("config_bpf_lsm", "OK", "CONFIG_BPF_LSM=y")

iommus = os.listdir("/sys/class/iommu")
groups = os.listdir("/sys/kernel/iommu_groups")
expect("iommu", "OK" if iommus or groups else "FAIL", f"{len(iommus)} IOMMUs, {len(groups)} groups")
types = [read(f"/sys/kernel/iommu_groups/{g}/type") for g in groups]
if groups:
    want = f"DMA {types.count('DMA')}, DMA-FQ {types.count('DMA-FQ')}"
    c = checks.get("iommu_domains")
    if not c or want not in c["reason"]:
        bad.append(f"iommu_domains: want '{want}' in {c}")
    else:
        print(f"ok: iommu_domains: {want}")
    if any(t not in ("DMA", "DMA-FQ") for t in types):
        bad.append(f"lab groups should all translate DMA: {types}")
    else:
        expect("iommu_domains", "OK", "every group DMA or DMA-FQ")

acs = any(a.startswith("pcie_acs_override=") for a in cmdline)
expect("acs_override", "FAIL" if acs else "OK", "/proc/cmdline")
noiommu = read("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N")
expect("noiommu", "FAIL" if noiommu in ("Y", "1") else "OK", f"enable_unsafe_noiommu_mode={noiommu}")

expect("feature.iommufd", "OK" if os.path.exists("/dev/iommu") else "INFO", "/dev/iommu")
legacy = os.path.exists("/dev/vfio/vfio") and "vfio_fops_unl_ioctl" in kallsyms
expect("feature.vfio_type1", "OK" if legacy else "INFO", "/dev/vfio/vfio and vfio_fops_unl_ioctl")
# iommufd's emulation of /dev/vfio/vfio: the config says so, or the node exists without
# VFIO's own container code.
compat = "CONFIG_IOMMUFD_VFIO_CONTAINER=y" in config.splitlines() or \
    (os.path.exists("/dev/vfio/vfio") and "vfio_fops_unl_ioctl" not in kallsyms)
expect("feature.iommufd_vfio_compat", "OK" if compat else "INFO", "CONFIG_IOMMUFD_VFIO_CONTAINER or /dev/vfio/vfio without vfio_fops_unl_ioctl")
expect("feature.exe_sha256", "OK" if "ima_file_hash" in kallsyms else "WARN", "ima_file_hash in kallsyms")

fails = [c["name"] for c in doc["checks"] if c["status"] == "FAIL"]
if doc["enforcement_ok"] != (not fails) or rc != (1 if fails else 0):
    bad.append(f"exit {rc}, enforcement_ok {doc['enforcement_ok']}, but FAIL: {fails}")
if fails:
    bad.append(f"a lab kernel should pass every check, but FAIL: {fails}")
else:
    print("ok: nothing failed, exit 0, enforcement_ok")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# The isolation posture of `ioguard groups --json`, /metrics and doctor's interrupts
# check, each against this kernel's own files.
"$IOGUARD" groups --json > "$work/groups.json" || fail "ioguard groups --json failed"
"$IOGUARD" metrics --once --no-trace > "$work/metrics.prom" || fail "ioguard metrics --once failed"
"$IOGUARD" status --json > "$work/status.json" || fail "ioguard status --json failed"
python3 - "$work/groups.json" "$work/metrics.prom" "$work/doctor.json" "$work/status.json" <<'PY' || fail "the posture disagrees with the kernel"
import json, os, re, sys
groups, metrics, doctor = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), json.load(open(sys.argv[3]))
p = groups["posture"]
bad = []
def read(path, default=None):
    try:
        return open(path).read().strip()
    except OSError:
        return default
def metric(series):
    m = re.search("^" + re.escape(series) + r" (\S+)$", metrics, re.M)
    return m and float(m.group(1))
def same(what, got, want):
    if got != want:
        bad.append(f"{what}: ioguard says {got!r}, the kernel {want!r}")
    else:
        print(f"ok: posture: {what} = {want!r}")

gdir = "/sys/kernel/iommu_groups"
ids = os.listdir(gdir) if os.path.isdir(gdir) else []
iommus = os.listdir("/sys/class/iommu") if os.path.isdir("/sys/class/iommu") else []
same("iommu_enabled", p["iommu_enabled"], bool(ids or iommus))
same("ioguard_host_iommu_enabled", metric("ioguard_host_iommu_enabled"), float(bool(ids or iommus)))
known = {"DMA", "DMA-FQ", "identity", "blocked", "unmanaged"}
want = {}
for g in ids:
    t = read(f"{gdir}/{g}/type")
    t = "unknown" if t is None else t if t in known else "other"
    want[t] = want.get(t, 0) + 1
same("domains", {k: v for k, v in p["domains"].items() if v}, want)
for k, v in p["domains"].items():
    same(f'ioguard_host_iommu_groups{{domain="{k}"}}', metric(f'ioguard_host_iommu_groups{{domain="{k}"}}'), float(v))
for g in groups["groups"]:
    t = read(f"{gdir}/{g['id']}/type")
    if g["domain"] != (t if t in known else "other"):
        bad.append(f"group {g['id']}: domain {g['domain']} but type {t}")
cmdline = read("/proc/cmdline", "").split()
same("acs_override", p["acs_override"], any(a.startswith("pcie_acs_override=") for a in cmdline))
def param(module, name):
    v = read(f"/sys/module/{module}/parameters/{name}")
    if v is None:
        v = next((a.split("=", 1)[1] for a in reversed(cmdline) if a.startswith(f"{module}.{name}=")), "N")
    return "on" if v[:1] in ("Y", "y", "1") else "off"
same("vfio_noiommu_mode", p["vfio_noiommu_mode"], param("vfio", "enable_unsafe_noiommu_mode"))
noiommu = {g for g in ids if read(f"{gdir}/{g}/name") == "vfio-noiommu"}
noiommu |= {n[8:] for n in (os.listdir("/dev/vfio") if os.path.isdir("/dev/vfio") else []) if n.startswith("noiommu-")}
same("vfio_noiommu_groups", p["vfio_noiommu_groups"], len(noiommu))
for m in ("vfio_iommu_type1", "iommufd"):
    same(f"unsafe_interrupts.{m}", p["unsafe_interrupts"][m], param(m, "allow_unsafe_interrupts"))
    same(f'ioguard_host_vfio_unsafe_interrupts{{module="{m}"}}',
         metric(f'ioguard_host_vfio_unsafe_interrupts{{module="{m}"}}'), float(param(m, "allow_unsafe_interrupts") == "on"))
chips = [t for line in read("/proc/interrupts", "").splitlines() for t in line.split()]
ir = "on" if any(t.startswith("IR-") for t in chips) else "off" if any(t.startswith(("IO-APIC", "PCI-MSI")) for t in chips) else "unknown"
same("irq_remapping", p["irq_remapping"], ir)
same(f'ioguard_host_irq_remapping{{state="{ir}"}}', metric(f'ioguard_host_irq_remapping{{state="{ir}"}}'), 1.0)
lsm = read("/sys/kernel/security/lsm")
same("bpf_lsm", p["bpf_lsm"], "unknown" if lsm is None else "on" if "bpf" in lsm.split(",") else "off")
enforcing = json.load(open(sys.argv[4]))["enforcing"]
same("enforcement.active", p["enforcement"]["active"], enforcing)
same("ioguard_enforcement_active", metric("ioguard_enforcement_active"), float(enforcing))
c = {c["name"]: c for c in doctor["checks"]}.get("interrupts")
if not c or c["status"] != "OK" or f"IRQ remapping {ir}" not in c["reason"]:
    bad.append(f"doctor's interrupts check: {c}")
else:
    print(f"ok: doctor: interrupts OK, IRQ remapping {ir}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# A usage error is exit 2, whatever the host.
"$IOGUARD" doctor --bogus > /dev/null 2>&1
[ $? -eq 2 ] || fail "doctor --bogus did not exit 2"
echo "ok: usage error exits 2"
