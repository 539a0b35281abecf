#!/bin/bash
# A policy that fails to load leaves the previous one fully in force: files of the
# bad-policy catalogue (tests/policies/bad, with its exact expected message; a quarter
# per kernel, see below), generated junk, a group-splitting policy, an unsafe file
# owner/mode and a policy over the programs' limits are refused by `ioguard load`, and
# after each the good policy is still the one in status and still denies what it denied.
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
group=$(find_multi_device_group) || skip "no multi-device group for the split policy"
mapfile -t endpoints < <(group_endpoints "$group")

good=$(write_policy good <<'POLICY'
name: lab-good
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    iova_windows: [ { start: 0x100000, end: 0x1fffff } ]
POLICY
)
policy_load "$good"
good_hash=$(sha256sum "$good" | cut -d' ' -f1)

still_good() {	# still_good WHAT: status and behaviour are the good policy's
	local hash
	# The text form: no interpreter start per refusal (about eighty of them under TCG).
	# Without a policy in force there is no sha256 line and the hash is empty.
	hash=$("$IOGUARD" status | sed -n 's/^sha256: *//p')
	[ "$hash" = "$good_hash" ] || fail "after $1: the policy in force is '${hash:-none}', not the good one"
}
probe() {	# the good policy allows 0x100000 and denies 0x300000
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x100000 > "$work/probe-in.json"
	workload_expect "probe inside the window ($1)" "$work/probe-in.json" failed_step=null
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x300000 > "$work/probe-out.json"
	workload_expect "probe outside the window ($1)" "$work/probe-out.json" errno=1
}
refused() {	# refused WHAT FILE EXPECTED_SUBSTRING [load options]
	local what=$1 file=$2 want=$3 out rc
	shift 3
	out=$("$IOGUARD" load "$@" "$file" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "$what: exit $rc, expected 1: $out"
	grep -qF -- "$want" <<< "$out" || fail "$what: message '$out' lacks '$want'"
	grep -qF "the policy in force is unchanged" <<< "$out" ||
		fail "$what: the message does not say the policy in force is unchanged: $out"
	still_good "$what"
	refusals=$((refusals + 1))
}

probe "before"
refusals=0
catalogue="$REPO/tests/policies/bad"
# Every catalogue file's exact message is a unit test (test_policy); here each lab
# kernel refuses a quarter of them, a different quarter per kernel, so the four kernels
# together load the whole catalogue through the CLI under a policy in force.
case "$KERNEL_FLAVOUR" in
debian) share=0 ;; iommufd) share=1 ;; iommufd-compat) share=2 ;; *) share=3 ;;
esac
entry=0
while IFS=$'\t' read -r name message; do
	case "$name" in ''|'#'*) continue ;; esac
	entry=$((entry + 1))
	[ $((entry % 4)) -eq $share ] || continue
	refused "$name" "$catalogue/$name" "$catalogue/$name:$message" --no-owner-check
done < "$catalogue/EXPECTED"
note "catalogue files refused: $refusals of $entry (this kernel's quarter)"
[ $refusals -ge $((entry / 4)) ] || fail "only $refusals of the catalogue's $entry files refused"
catalogue_refusals=$refusals

head -c 4096 /dev/urandom > /tmp/junk.yaml
refused "binary junk" /tmp/junk.yaml "/tmp/junk.yaml:" --no-owner-check
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' > /tmp/huge.yaml
refused "a file over 1 MiB" /tmp/huge.yaml "/tmp/huge.yaml" --no-owner-check
split=$(write_policy split <<POLICY
name: split
mode: enforce
default: deny
tenants:
  - { name: a, match: { uid: 1 }, devices: [ { bdf: "${endpoints[0]}" } ] }
  - { name: b, match: { uid: 2 }, devices: [ { bdf: "${endpoints[1]}" } ] }
POLICY
)
refused "a policy that splits group $group" "$split" "IOMMU group $group is split"
cp "$good" /tmp/unsafe.yaml && chmod 0666 /tmp/unsafe.yaml
refused "a world-writable policy file" /tmp/unsafe.yaml "/tmp/unsafe.yaml: error:"
{
	printf 'name: too-many\nmode: enforce\ndefault: deny\ntenants:\n'
	for i in $(seq 1 33); do printf '  - { name: t%d, match: { uid: %d }, devices: [ { group: %d } ] }\n' "$i" "$((i + 1000))" "$((i + 5000))"; done
} | write_policy too-many > /tmp/too-many-path
refused "33 tenants" "$(cat /tmp/too-many-path)" "33 tenants; the enforcement programs hold at most 32"
probe "after $refusals refusals"
note "$refusals bad policies refused, the good one stayed in force throughout"
[ $((refusals - catalogue_refusals)) -ge 5 ] || fail "only $((refusals - catalogue_refusals)) refusals beyond the catalogue"
restore_driver "$bdf"
