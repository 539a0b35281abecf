#!/usr/bin/env bash
# Proves that a fresh Debian 12 machine builds and unit-tests ioguard with nothing but
# what scripts/deps.sh installs: in a pristine `debootstrap --variant=minbase` bookworm
# root, on a copy of HEAD (`git archive`: no uncommitted or ignored file of this
# checkout gets in), it runs scripts/deps.sh, `make all` and the unit tests. The lab is
# not booted there (QEMU under TCG takes most of `make check`'s hour), so the commands
# step covers it: every command the recipes and the lab's scripts call
# (scripts/recipe-commands.sh) that resolves on this machine must resolve in the root
# after deps.sh too.
# Writes "passed failed skipped" (one per step) to OUTPUT/results/fresh and each step's
# log to OUTPUT/fresh/STEP.log.
#
#   check-fresh.sh OUTPUT
#
# The pristine root is cached in $IOGUARD_CACHE/fresh/root-KEY (default
# ~/.cache/ioguard), KEY from the suite, variant, mirrors, the debootstrap version and
# ROOT_RECIPE below. Every run gets its own writable overlay on top of it, thrown away
# afterwards: the root itself is never written to, so a package that deps.sh misses can
# never be hidden by an earlier run that had installed it.
#
# What is shared between runs, and why that hides nothing:
#   - downloaded .deb files ($IOGUARD_CACHE/fresh/debs, bind-mounted at the root's
#     /var/cache/apt/archives): a download is not an install; dpkg still installs every
#     package on every run.
#   - the unpacked linux-source-6.12 tree of IOGUARD_CACHE (src-VERSION), read-only,
#     when it is of the version deps.sh installed in the root; otherwise the root
#     unpacks its own and this script keeps it there for the next run. Unpacking needs
#     only tar and xz, and the commands step proves both are in the root.
#   - nothing else. The installed 6.12 uAPI headers (headers-VERSION) are NOT shared:
#     every run does headers_install in the root (make, gcc, rsync, ...). That step
#     runs on a real machine only when its cache is cold, which is exactly how the rsync
#     bug hid; sharing the header cache here would hide it again. It costs about a
#     minute of a warm run; unpacking would cost another.
#
# Environment: FRESH_MIRROR, FRESH_SECURITY_MIRROR (deb.debian.org), FRESH_JOBS (2),
# FRESH_OMIT="PKG..." (an experiment: drop these packages from the copy's deps.sh, to
# see the check catch the gap; never set it in CI).
set -uo pipefail

# The whole script is one compound command, read before it runs: a checkout that changes
# this file during a run (it takes minutes) cannot make bash execute half-old lines.
{
# Bump when the root's recipe below (debootstrap options, sources, configuration) changes.
ROOT_RECIPE=1
SUITE=bookworm
VARIANT=minbase

die() { echo "check-fresh: $*" >&2; exit 1; }
log() { echo "check-fresh: $*" >&2; }

[ "${1:-}" = --inner ] && inner=1 || inner=0
if [ $inner = 1 ]; then shift; fi
output=${1:?usage: check-fresh.sh OUTPUT}
mkdir -p "$output" && output=$(cd "$output" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${IOGUARD_CACHE:-$HOME/.cache/ioguard}
fresh="$cache/fresh"
debs="$fresh/debs"
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
security=${FRESH_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
jobs=${FRESH_JOBS:-2}
steps=(deps commands build unit)
results="$output/results/fresh"
logs="$output/fresh"

# finish PASSED FAILED SKIPPED
finish() {
	mkdir -p "$output/results"
	echo "$1 $2 $3" > "$results"
	[ "$2" -eq 0 ]
	exit
}

# ---------------------------------------------------------------------------------------
# Inside a private mount namespace (unshare, below): every mount made here disappears
# with the namespace even if this script is killed, and none is ever seen by the host.
# Args: OUTPUT ROOT RUN_DIR
if [ $inner = 1 ]; then
	root=$2 run=$3
	m="$run/merged"
	passed=0 failed=0

	leftovers() {	# processes still running inside the chroot (a daemon a postinst started)
		local p
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root" 2>/dev/null)" = "$m" ] && echo "${p#/proc/}"
		done
	}
	cleanup() {
		local pids
		pids=$(leftovers)
		[ -n "$pids" ] && { log "stopping leftover processes in the root: $pids"; kill -9 $pids; sleep 1; }
		umount -R "$m" 2>/dev/null || umount -R -l "$m" ||
			log "cannot unmount $m (the namespace drops it when this process ends)"
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	mount -t overlay overlay -o "lowerdir=$root,upperdir=$run/upper,workdir=$run/work" "$m" ||
		die "cannot mount the overlay on $m"
	# /sys: the build reads the running kernel's BTF (/sys/kernel/btf/vmlinux).
	mount -t proc proc "$m/proc" && mount -t sysfs sysfs "$m/sys" &&
		mount --bind /dev "$m/dev" && mount -t tmpfs tmpfs "$m/dev/shm" &&
		mount --bind "$debs" "$m/var/cache/apt/archives" ||
		die "cannot mount /proc, /sys, /dev or the .deb cache in $m"
	cp -L /etc/resolv.conf "$m/etc/resolv.conf" || die "cannot copy /etc/resolv.conf"
	# The network's TLS trust, as resolv.conf its names: CAs this machine's administrator
	# added (an egress proxy's) belong to the site, not to a package, and a fresh machine
	# on this network gets them the same way. The root's ca-certificates (deps.sh
	# installs it) puts them into its /etc/ssl/certs.
	if compgen -G '/usr/local/share/ca-certificates/*.crt' > /dev/null; then
		mkdir -p "$m/usr/local/share/ca-certificates" &&
			cp /usr/local/share/ca-certificates/*.crt "$m/usr/local/share/ca-certificates/" ||
			die "cannot copy the site's CAs from /usr/local/share/ca-certificates"
	fi
	tar -x -C "$m" -f "$run/src.tar" || die "cannot unpack the copy of the repository"

	# check_commands: each "WORD FILE:LINE PACKAGE" of host-commands must resolve in the root.
	check_commands() {
		cp "$run/host-commands" "$m/tmp/host-commands" &&
		chroot "$m" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			/bin/bash -c 'rc=0
				while read -r word where pkg; do
					command -v "$word" >/dev/null && continue
					echo "$word (called at $where; on this machine from package $pkg) is not in the fresh root"
					rc=1
				done < /tmp/host-commands
				exit $rc'
	}

	# share_source: see "What is shared" above.
	share_source() {
		local ver src
		ver=$(chroot "$m" dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || return 0
		src="$cache/src-$ver"
		if [ ! -f "$src/.complete" ]; then
			log "no unpacked linux-source $ver in $cache: the root unpacks its own"
			return 0
		fi
		mkdir -p "$m/root/.cache/ioguard/src-$ver" &&
			mount --bind -o ro "$src" "$m/root/.cache/ioguard/src-$ver" ||
			die "cannot bind-mount $src into the root"
		log "sharing the unpacked $src read-only"
	}

	for p in ${FRESH_OMIT:-}; do
		sed -i -E "/^packages=\(/,/^\)/ s/(^|[[:space:]])$p([[:space:]]|\$)/\1\2/" "$m/src/scripts/deps.sh"
		log "EXPERIMENT: '$p' removed from the copy's scripts/deps.sh (FRESH_OMIT)"
	done

	# The step commands, in the root, as a fresh login would run them: a clean
	# environment, the root's own PATH (no host pyenv or /usr/local), an empty cache.
	declare -A cmd=(
		[deps]="scripts/deps.sh"
		[build]="make -j$jobs all"
		# The unit binaries `make all` built, one under valgrind, then the CLI tests.
		# Left to make check on the host, on the same code: the ASan/UBSan builds (their
		# runtimes come with gcc-12 by its dependencies, so a fresh machine cannot lack
		# them) and valgrind on every binary (one run proves valgrind works here).
		# Together they took 7 of the cold run's 12 minutes.
		[unit]="scripts/run-unit.sh build --valgrind-one"
	)
	for i in "${!steps[@]}"; do
		s=${steps[$i]}
		start=$(date +%s)
		[ "$s" = build ] && share_source
		if [ "$s" = commands ]; then
			# Not fatal for the build and unit steps, which prove other things.
			if check_commands > "$logs/$s.log" 2>&1; then
				echo "fresh $s: $(wc -l < "$run/host-commands") commands of the recipes resolve: ok"
				passed=$((passed + 1))
			else
				echo "FAIL fresh/$s: commands the recipes call resolve on this machine but not in" \
					"a fresh Debian 12 root after scripts/deps.sh (add their packages to deps.sh):"
				sed 's/^/    ! /' "$logs/$s.log"
				failed=$((failed + 1))
			fi
			continue
		fi
		# Each log line starts with the seconds since the step began: where the time goes.
		SECONDS=0
		nice -n 10 chroot "$m" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
			IOGUARD_CACHE=/root/.cache/ioguard \
			/bin/bash -c "cd /src && ${cmd[$s]}" 2>&1 < /dev/null |
			while IFS= read -r line; do printf '%4d %s\n' "$SECONDS" "$line"; done > "$logs/$s.log"
		rc=${PIPESTATUS[0]}
		took=$(( $(date +%s) - start ))
		if [ $rc -eq 0 ]; then
			echo "fresh $s: ${cmd[$s]}: ok in ${took} s"
			passed=$((passed + 1))
			continue
		fi
		echo "FAIL fresh/$s: '${cmd[$s]}' exit $rc after ${took} s in a pristine Debian 12" \
			"root that has only what scripts/deps.sh installed: a command or package it" \
			"needs is probably missing from deps.sh. Full log: $logs/$s.log"
		# The lines that name what was missing, then the end of the log.
		grep -E 'not found|No such file or directory|command not found|Unable to locate|cannot|error' \
			"$logs/$s.log" | head -n 8 | sed 's/^/    ! /'
		tail -n 25 "$logs/$s.log" | sed 's/^/    | /'
		failed=$((failed + 1))
		finish "$passed" "$failed" $(( ${#steps[@]} - i - 1 ))
	done
	finish "$passed" "$failed" 0
fi

# ---------------------------------------------------------------------------------------
# The host side: the pristine root, a snapshot of HEAD, the namespace, the cleanup.
rm -f "$results"
rm -rf "$logs"
mkdir -p "$logs" "$debs" "$output/results"
[ "$(id -u)" -eq 0 ] || { echo "FAIL fresh: needs root (debootstrap, mount, chroot)"; finish 0 1 0; }
for c in debootstrap unshare chroot git flock; do
	command -v "$c" >/dev/null ||
		{ echo "FAIL fresh: $c is missing (scripts/deps.sh installs it)"; finish 0 1 0; }
done

exec 8>"$fresh/.lock"
flock 8	# runs share the .deb cache (apt's lock) and the root's build: one at a time

key=$(printf '%s\n' "$SUITE" "$VARIANT" "$mirror" "$security" "$ROOT_RECIPE" \
	"$(dpkg-query -W -f='${Version}' debootstrap)" | sha256sum | cut -c1-16)
root="$fresh/root-$key"
total_start=$(date +%s)
if [ ! -d "$root" ]; then
	start=$(date +%s)
	log "creating the pristine $SUITE $VARIANT root $root"
	rm -rf --one-file-system "$root.tmp"
	# In its own mount namespace: the /proc and /sys debootstrap mounts in the target
	# go away with it, even when it is interrupted.
	if ! nice -n 10 unshare --mount --propagation private -- \
		debootstrap --variant="$VARIANT" --cache-dir="$debs" "$SUITE" "$root.tmp" "$mirror" \
		> "$logs/debootstrap.log" 2>&1; then
		echo "FAIL fresh: debootstrap $SUITE failed; see $logs/debootstrap.log"
		tail -n 20 "$logs/debootstrap.log" | sed 's/^/    | /'
		finish 0 1 ${#steps[@]}
	fi
	# The sources an installed Debian 12 has: linux-source-6.12 is in bookworm-security
	# only. The rest is what any chroot gets: no service starts (policy-rc.d), dpkg does
	# not fsync each file (it changes how fast, not what, is installed).
	cat > "$root.tmp/etc/apt/sources.list" <<-EOF
	deb $mirror $SUITE main
	deb $mirror $SUITE-updates main
	deb $security $SUITE-security main
	EOF
	printf '#!/bin/sh\nexit 101\n' > "$root.tmp/usr/sbin/policy-rc.d"
	chmod 0755 "$root.tmp/usr/sbin/policy-rc.d"
	echo force-unsafe-io > "$root.tmp/etc/dpkg/dpkg.cfg.d/ioguard-unsafe-io"
	echo 'Acquire::Languages "none";' > "$root.tmp/etc/apt/apt.conf.d/99ioguard"
	rm -rf "$root.tmp/var/cache/apt/archives/"*.deb
	mv "$root.tmp" "$root"
	log "pristine root built in $(( $(date +%s) - start )) s"
fi

run=$(mktemp -d "$fresh/run.XXXXXX")
mkdir -p "$run/upper" "$run/work" "$run/merged"
# shellcheck disable=SC2317
remove_run() {
	# Nothing may be mounted under $run any more (the namespace is gone); refuse to
	# delete through a mount rather than risk it, and never cross a file system.
	if findmnt -rn -o TARGET | grep -qF "$run"; then
		log "something is still mounted under $run; not deleting it"
		return
	fi
	rm -rf --one-file-system "$run"
}
trap remove_run EXIT

head=$(git -C "$repo" rev-parse --short HEAD) || { echo "FAIL fresh: $repo is not a git checkout"; finish 0 1 ${#steps[@]}; }
git -C "$repo" archive --format=tar --prefix=src/ HEAD > "$run/src.tar" ||
	{ echo "FAIL fresh: git archive HEAD failed"; finish 0 1 ${#steps[@]}; }
# The commands HEAD's recipes call that resolve here, with the package they come from here.
mkdir "$run/head" && tar -x -C "$run/head" -f "$run/src.tar" &&
	"$run/head/src/scripts/recipe-commands.sh" > "$run/commands" ||
	{ echo "FAIL fresh: scripts/recipe-commands.sh failed"; finish 0 1 ${#steps[@]}; }
while read -r word where; do
	path=$(command -v "$word") || continue
	pkg="?"	# dpkg knows a file by the path its package ships (/bin/ip, not /usr/bin/ip)
	for c in "$path" "$(readlink -f "$path")" {/usr,}/{bin,sbin}/"${path##*/}"; do
		p=$(dpkg -S "$c" 2>/dev/null) && { pkg=${p%%:*}; break; }
	done
	echo "$word $where $pkg"
done < "$run/commands" > "$run/host-commands"
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
	log "note: testing commit $head; uncommitted changes are not part of this check"
log "scripts/deps.sh, make all, the unit tests in a fresh $SUITE root, on commit $head"

unshare --mount --propagation private -- "$here/check-fresh.sh" --inner "$output" "$root" "$run"
rc=$?
# A source tree the root had to unpack is kept for the next run (a rename: same file
# system). Only complete trees (kernel-cache.sh marks them) of a version not kept yet.
for t in "$run"/upper/root/.cache/ioguard/src-*; do
	[ -f "$t/.complete" ] || continue
	v=${t##*/}
	(
		flock 9
		[ -e "$cache/$v" ] || { mv "$t" "$cache/$v" && log "kept the unpacked $v in $cache"; }
	) 9>"$cache/.lock-$v"
done
log "done in $(( $(date +%s) - total_start )) s"
[ -f "$results" ] || { echo "FAIL fresh: the check stopped before a result (exit $rc)"; finish 0 1 0; }
exit $rc
}
