#!/bin/bash
# The bash completion (completion/ioguard), driven as bash drives it: COMP_WORDS split at
# the COMP_WORDBREAKS characters "=" and ":" as readline splits them, then _ioguard. The
# commands and every command's options against --help, fixed choices, policy files in a
# temporary directory, and IOMMU groups and BDFs from a sysfs fixture.
. "$(dirname "$0")/lib.bash"
repo=$(cd "$(dirname "$0")/../.." && pwd)
bash_completion=/usr/share/bash-completion/bash_completion
if [ ! -r "$bash_completion" ]; then
	echo "SKIP: $bash_completion is missing (package bash-completion; scripts/deps.sh installs it)"
	exit 0
fi
# bash-completion's helpers are written for an interactive shell without set -u.
. "$bash_completion"
. "$repo/completion/ioguard"
set -u
# q35-one-vfio: groups 0 to 3; 0000:00:03.0 and 0000:01:01.0 are bound to vfio-pci.
fixture=$repo/tests/fixtures/sysfs/q35-one-vfio

# complete LINE: what Tab at the end of LINE puts in place of its last word, one a line,
# sorted.
complete() {
	local line=$1 w prefix full
	local -a parts=()
	read -ra parts <<< "$line"
	COMP_WORDS=()
	for w in "${parts[@]}"; do
		while IFS= read -r w; do
			[ -n "$w" ] && COMP_WORDS+=("$w")
		done < <(sed -E 's/([=:]+)/\n\1\n/g' <<< "$w")
	done
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_ioguard ioguard "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	# Readline replaces only the text after the word's last "=" or ":".
	full=${parts[${#parts[@]} - 1]}
	[[ $line == *' ' ]] && full=
	prefix=${full%"${full##*[=:]}"}
	[[ $full == *[=:]* ]] || prefix=
	for w in "${COMPREPLY[@]}"; do
		echo "$prefix$w"
	done | sort
}

# expect NAME LINE WANT...: Tab after LINE offers exactly WANT.
expect() {
	local name=$1 line=$2 got want
	shift 2
	got=$(complete "$line" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		echo "ok $name"
	else
		echo "not ok $name: '$line<Tab>' offers [${got% }], want [${want% }]"
	fi
}

commands=$("$IOGUARD" --help 2>&1 | awk '/^Commands:/{ c = 1; next } c && /^  [a-z]/{ print $1 }')
expect "the commands of ioguard --help" "ioguard " $commands help
expect "a command after a global option" "ioguard --json st" status
expect "the global options of ioguard --help" "ioguard --" \
	$(help_options top | sed -n 's/^\(--[^=]*\)=\{0,1\}$/\1/p')

for cmd in $commands; do
	got=$(_ioguard_options "$cmd" | tr ' ' '\n' | sed '/^$/d' | sort)
	want=$(help_options "$cmd")
	if [ "$got" = "$want" ]; then
		echo "ok completion/ioguard's $cmd options are those of ioguard $cmd --help"
	else
		echo "not ok completion/ioguard's $cmd options differ from ioguard $cmd --help:" \
			"only in the completion: $(comm -23 <(echo "$got") <(echo "$want") | tr '\n' ' ')" \
			"only in --help: $(comm -13 <(echo "$got") <(echo "$want") | tr '\n' ' ')"
	fi
	line="ioguard $cmd --"
	[ "$cmd" = policy ] && line="ioguard policy check --"
	expect "$cmd: --<Tab> offers the long options of --help" "$line" \
		$(help_options "$cmd" | sed -n 's/^\(--[^=]*\)=\{0,1\}$/\1/p')
done
expect "no options before the command" "ioguard --json --" --json --version --help

expect "policy subcommands" "ioguard policy " check help
for cmd in trace metrics run; do
	expect "$cmd --mode choices" "ioguard $cmd --mode " auto fentry tp_btf
	if help_text "$cmd" | grep -qE -- '--mode MODE .*auto \(default\),? *(fentry or tp_btf)?'; then
		echo "ok $cmd --help names the --mode choices"
	else
		echo "not ok $cmd --help: the --mode line no longer reads 'auto (default), fentry or tp_btf'"
	fi
done
expect "the short form of an option takes its argument too" "ioguard trace -m f" fentry
expect "--option=ARGUMENT" "ioguard trace --mode=f" --mode=fentry

# The op names of `trace --help`: from "only these ops:" to the next option.
ops=$(help_text trace | sed -n '/only these ops:/,/^  -s, /p' | sed -e '$d' -e 's/.*only these ops://' |
	tr ',' ' ')
expect "trace --op: the op names of trace --help" "ioguard trace --op " $ops
expect "trace --op: the item after a comma" "ioguard trace --op map,unm" map,unmap map,unmap_fast

dir=$(mktemp -d /tmp/ioguard-completion-XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/policies.d"
touch "$dir/a.yaml" "$dir/b.yml" "$dir/notes.txt" "$dir/m.prom"
cd "$dir" || exit 1
expect "load: policy files and directories" "ioguard load " a.yaml b.yml policies.d
expect "load after an option" "ioguard load --no-owner-check " a.yaml b.yml policies.d
expect "policy check: policy files and directories" "ioguard policy check " a.yaml b.yml policies.d
expect "run --policy: policy files and directories" "ioguard run --policy " a.yaml b.yml policies.d
expect "run -P: policy files and directories" "ioguard run -P a" a.yaml
expect "groups --sysfs: directories" "ioguard groups --sysfs " policies.d
expect "doctor --root: directories" "ioguard doctor --root " policies.d
expect "metrics --textfile: .prom files and directories" "ioguard metrics --textfile " m.prom policies.d
expect "unload takes no file" "ioguard unload "
cd "$repo" || exit 1

groups=$(ls "$fixture/sys/kernel/iommu_groups")
export IOGUARD_COMPLETION_SYSFS=$fixture
expect "trace --group: the fixture's IOMMU groups" "ioguard trace --group " $groups
expect "trace --device: the BDFs bound to vfio-pci" "ioguard trace --device " \
	0000:00:03.0 0000:01:01.0
expect "trace -D: a BDF after its colons" "ioguard trace -D 0000:01:" 0000:01:01.0
expect "trace --device=BDF" "ioguard trace --device=0000:00" --device=0000:00:03.0
# A live sysfs has the driver's directory, with a link per bound device.
mkdir -p "$dir/sys/bus/pci/drivers/vfio-pci"
ln -s ../../../../devices/pci0000:00/0000:00:04.0 "$dir/sys/bus/pci/drivers/vfio-pci/0000:00:04.0"
ln -s ../../../../module/vfio_pci "$dir/sys/bus/pci/drivers/vfio-pci/module"
IOGUARD_COMPLETION_SYSFS=$dir expect "trace --device: the links of sys/bus/pci/drivers/vfio-pci" \
	"ioguard trace --device " 0000:00:04.0
unset IOGUARD_COMPLETION_SYSFS
expect "no groups without IOMMU groups" "ioguard trace --group " \
	$(ls /sys/kernel/iommu_groups 2>/dev/null)
devices=$(for d in "$fixture"/sys/kernel/iommu_groups/*/devices/*; do echo "${d##*/}"; done)
expect "plan --assign: nothing before TENANT=" "ioguard plan --sysfs $fixture --assign vm"
expect "plan --assign: the grouped devices of --sysfs DIR" \
	"ioguard plan --sysfs $fixture --assign vm1=" $(sed 's/^/vm1=/' <<< "$devices")
expect "plan --assign: the item after a comma" \
	"ioguard plan -s $fixture -a vm1=0000:00:03.0,0000:01:0" \
	vm1=0000:00:03.0,0000:01:01.0 vm1=0000:00:03.0,0000:01:02.0

# A --sysfs snapshot is data from elsewhere (a bug report, another user's /tmp): compgen
# -W expands $(...) in its word list, so a name is offered only when it is what the
# kernel names groups (a number) and devices ([A-Za-z0-9:._-]), and nothing in it runs.
hostile=$dir/hostile
mkdir -p "$hostile/sys/kernel/iommu_groups/5/devices/0000:00:05.0" \
	"$hostile/sys/kernel/iommu_groups/6\$(touch\${IFS}ran-group)/devices/0000:00:06.0\$(touch\${IFS}ran-device)" \
	"$hostile/sys/bus/pci/drivers/vfio-pci"
ln -s ../../../../devices/x "$hostile/sys/bus/pci/drivers/vfio-pci/0000:00:05.0"
ln -s ../../../../devices/x "$hostile/sys/bus/pci/drivers/vfio-pci/0000:00:07.0\`touch\${IFS}ran-driver\`"
cd "$dir" || exit 1
IOGUARD_COMPLETION_SYSFS=$hostile expect "trace --group: only numeric group names of a snapshot" \
	"ioguard trace --group " 5
IOGUARD_COMPLETION_SYSFS=$hostile expect "trace --device: only device names of a snapshot" \
	"ioguard trace --device " 0000:00:05.0
expect "plan --assign: only device names of a snapshot" \
	"ioguard plan --sysfs $hostile --assign vm1=" vm1=0000:00:05.0
ran=$(ls "$dir" | grep '^ran-' | tr '\n' ' ')
if [ -z "$ran" ]; then
	echo "ok completing from a hostile snapshot runs nothing in its names"
else
	echo "not ok completing from a hostile snapshot ran the commands in its names: $ran"
fi
cd "$repo" || exit 1
