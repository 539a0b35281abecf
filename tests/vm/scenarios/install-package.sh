#!/bin/bash
# The Debian packages as an operator installs them: `dpkg -i` of what `make deb` built,
# into the guest's overlay. The binary, man pages, completion, conffile and unit are where
# the package puts them; the unit is enabled and not started; the README's host commands
# run from the installed paths; and the installed unit's ExecStart, run with the unit's
# capability bounding set, NoNewPrivileges and its file system sandbox (everything
# read-only but /sys/fs/bpf, a fresh /run/ioguard and a private /tmp, as ProtectSystem=
# strict, ReadWritePaths=, RuntimeDirectory= and PrivateTmp= leave it), enforces the
# operator's policy in /etc/ioguard and serves /metrics. The guest has no systemd: the
# sandbox is built here from the unit's own settings, so a setting the daemon cannot live
# with fails here as it would under systemd.
. "$REPO/tests/vm/lib.sh"
# What the package puts where does not depend on the kernel, and what the binary does on
# each kernel the other scenarios prove with the same build; dpkg alone costs about a
# minute of TCG here. So it runs on Debian 12's own kernel, the one an apt user has.
case "$KERNEL_FLAVOUR" in
debian-6.1) ;;
*) skip "runs on debian-6.1, Debian 12's kernel: the package's layout is the same here, and enforcement by this build is proven by the other scenarios" ;;
esac
bdf=""
finish() {
	stop_daemon
	/usr/sbin/ioguard unload > /dev/null 2>&1 || policy_unload
	[ -n "$bdf" ] && restore_driver "$bdf"
	true
}
trap finish EXIT

shopt -s nullglob
debs=("$OUTPUT"/deb/libioasid0_*.deb "$OUTPUT"/deb/libioasid-dev_*.deb "$OUTPUT"/deb/ioguard_*.deb)
shopt -u nullglob
[ ${#debs[@]} -eq 3 ] ||
	fail "expected the three packages of \`make deb\` in $OUTPUT/deb, found ${#debs[@]}: ${debs[*]}"
# man-db's trigger re-indexes every manual page, minutes under TCG; what is checked
# here (man finds and renders the page) needs no index. Debian's switch for it:
rm -f /var/lib/man-db/auto-update
dpkg -i "${debs[@]}" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
note "installed in $SECONDS s: $(dpkg-query -W -f '${Package} ${Version}; ' ioguard libioasid0 libioasid-dev)"

ioguard=/usr/sbin/ioguard
unit=$(dpkg -L ioguard | grep '/systemd/system/ioguard\.service$')
[ -n "$unit" ] || fail "the ioguard package ships no ioguard.service"
for f in "$ioguard" /etc/ioguard/policy.yaml "$unit" /usr/share/bash-completion/completions/ioguard \
	/usr/share/man/man8/ioguard.8.gz /usr/share/man/man8/ioguard-load.8.gz \
	/usr/include/ioasid/ioasid.h; do
	[ -e "$f" ] || fail "the packages did not install $f"
done
dpkg-query -W -f '${Conffiles}\n' ioguard | grep -q ' /etc/ioguard/policy.yaml ' ||
	fail "/etc/ioguard/policy.yaml is not a conffile: an upgrade would overwrite the operator's policy"
# Enabled, not started: deb-systemd-helper's symlink is there; nothing runs ioguard.
[ -L /etc/systemd/system/multi-user.target.wants/ioguard.service ] ||
	fail "the unit is not enabled (no multi-user.target.wants link)"
pgrep -x ioguard > /dev/null && fail "installing started ioguard; the unit must only be enabled"
[ "$(unit_setting ExecStart "$unit" | awk '{print $1}')" = "$ioguard" ] ||
	fail "the unit's ExecStart does not run $ioguard: $(unit_setting ExecStart "$unit")"
note "unit $unit: enabled, not started"

# The build the package holds is this tree's: same version line as the lab's own binary.
[ "$("$ioguard" --version)" = "$("$IOGUARD" --version)" ] ||
	fail "installed '$("$ioguard" --version)' but this tree built '$("$IOGUARD" --version)'"
MANPAGER=cat MANWIDTH=100 man ioguard-load > "$work/man.txt" 2>&1 || fail "man ioguard-load: $(head -n 3 "$work/man.txt")"
grep -q -- '--' "$work/man.txt" || fail "man ioguard-load shows no options"
completion=$(bash -c '. /usr/share/bash-completion/bash_completion 2>/dev/null
	. /usr/share/bash-completion/completions/ioguard || exit 1
	fn=$(complete -p ioguard | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
	COMP_WORDS=(ioguard lo); COMP_CWORD=1; COMP_LINE="ioguard lo"; COMP_POINT=${#COMP_LINE}
	"$fn" ioguard lo ioguard; echo "${COMPREPLY[*]}"')
[ "$completion" = load ] || fail "completing 'ioguard lo' gave '$completion', not load"
echo "ok: $("$ioguard" --version); man ioguard-load, completion of 'ioguard lo' -> load"

# The README's host commands, from the installed paths; load, trace and metrics run below
# inside the daemon (one policy load and one set of tracing programs: each costs tens of
# seconds of TCG).
"$ioguard" doctor > "$work/doctor.txt" || { cat "$work/doctor.txt"; fail "installed ioguard doctor failed"; }
"$ioguard" groups --json | jq -e '.groups | length > 0' > /dev/null || fail "installed ioguard groups --json"
"$ioguard" policy check /etc/ioguard/policy.yaml > "$work/check.txt" 2>&1 ||
	{ cat "$work/check.txt"; fail "the shipped /etc/ioguard/policy.yaml does not validate"; }
grep -Eq '^mode: *audit' /etc/ioguard/policy.yaml || fail "the shipped policy is not in audit mode"
"$ioguard" status > /dev/null || fail "installed ioguard status"
echo "ok: doctor, groups, policy check (shipped sample, audit mode), status from $ioguard ($SECONDS s)"

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
backend=${backends[-1]}
# Every endpoint of edu's group to one tenant: group-viable whatever else the group holds.
members=$(group_endpoints "$(device_group "$bdf")" | paste -sd,)
"$ioguard" plan --assign "lab=$members" > "$work/plan.txt" ||
	{ cat "$work/plan.txt"; fail "installed ioguard plan --assign lab=$members"; }
grep -q '^plan: group-viable' "$work/plan.txt" || fail "plan of edu's whole group is not group-viable: $(cat "$work/plan.txt")"

# The operator's policy replaces the sample; the unit's own command line runs it.
window_policy installed 0x100000 0x1fffff > /dev/null
cp /tmp/ioguard-policy-installed.yaml /etc/ioguard/policy.yaml
read -ra exec_start <<< "$(unit_setting ExecStart "$unit")"
caps=$(unit_setting CapabilityBoundingSet "$unit")
[ "$(unit_setting NoNewPrivileges "$unit")" = yes ] || fail "the unit lost NoNewPrivileges=yes"
[ "$(unit_setting ProtectSystem "$unit")" = strict ] || fail "the unit lost ProtectSystem=strict"
[ "$(unit_setting ReadWritePaths "$unit")" = /sys/fs/bpf ] ||
	fail "the unit's ReadWritePaths= changed; this sandbox builds /sys/fs/bpf only"
mkdir -p /run/ioguard
# shellcheck disable=SC2086
unshare --mount --propagation private -- bash -c '
	mount -t tmpfs -o mode=0700 tmpfs /run/ioguard &&
	mount -t tmpfs tmpfs /tmp &&
	mount -o remount,bind,ro / || exit 90
	bset=$1; shift
	exec setpriv --bounding-set "$bset" --inh-caps -all --no-new-privs -- "$@"' \
	- "$(bounding_set $caps)" "${exec_start[@]}" > "$work/daemon.jsonl" 2> "$work/daemon.stderr" &
daemon_pid=$!
wait_for_line "$work/daemon.stderr" "serving metrics" "$daemon_pid" 120
note "the unit's ExecStart (${exec_start[*]}) serves at $SECONDS s, with bounding set $caps, no_new_privs, / read-only"

"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages 4 --iova 0x100000 > "$work/inside.json"
workload_expect "$backend: maps inside the window" "$work/inside.json" failed_step=null
"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages 1 --iova 0x40000000 > "$work/outside.json"
workload_expect "$backend: a map outside the window is denied" "$work/outside.json" errno=1

curl -sf http://127.0.0.1:9464/metrics > "$work/metrics.prom" || fail "no /metrics on the unit's 127.0.0.1:9464"
version=$("$ioguard" --version | awk '{print $2}')
grep -q "^ioguard_build_info{.*version=\"$version\"" "$work/metrics.prom" ||
	fail "ioguard_build_info does not name version $version: $(grep build_info "$work/metrics.prom")"
denials=$(awk '/^ioguard_policy_decisions_total\{.*decision="deny".*reason="iova_window"/ {n += $2} END {print n + 0}' "$work/metrics.prom")
[ "$denials" -ge 1 ] || fail "/metrics counts no iova_window denial"
# A denial shows that a window is enforced, not whose (window_policy writes the same one
# for every scenario): the policy in force must be the very file the unit names.
sha=$(sha256sum /etc/ioguard/policy.yaml | cut -d' ' -f1)
grep -q "^ioguard_enforcement_policy_info{.*sha256=\"$sha\"} 1" "$work/metrics.prom" ||
	fail "the policy in force is not /etc/ioguard/policy.yaml (sha256 $sha): $(grep policy_info "$work/metrics.prom")"
echo "ok: the installed daemon enforces /etc/ioguard/policy.yaml and /metrics counts $denials denial(s)"

stop_daemon || fail "the daemon did not exit cleanly on SIGTERM: $(tail -n 5 "$work/daemon.stderr")"
"$LAB_TOOLS/vfio_workload" "$backend" "$bdf" --pages 1 --iova 0x40000000 > "$work/after.json"
workload_expect "the pinned policy outlives the stopped unit" "$work/after.json" errno=1
"$ioguard" unload || fail "installed ioguard unload failed"
# Not purged: dpkg's database read costs another half minute here, and the guest's
# overlay, with the packages in it, is gone at power-off.
