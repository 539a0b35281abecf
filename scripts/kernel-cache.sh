#!/usr/bin/env bash
# Builds or fetches the slow artifacts the build and the lab need, once, into a cache
# outside the repository, keyed by their inputs. Prints the path of the requested artifact
# on stdout; progress goes to stderr.
#
#   kernel-cache.sh headers   -> DIR with 6.12 uAPI headers (DIR/include/linux/iommufd.h)
#   kernel-cache.sh iommufd   -> DIR with bzImage built from linux-source-6.12 + fragment
#   kernel-cache.sh iommufd-compat -> the same with /dev/vfio/vfio served by iommufd
#                                (CONFIG_IOMMUFD_VFIO_CONTAINER=y, no legacy container)
#   kernel-cache.sh debian    -> DIR with Debian's newest 6.12 kernel: vmlinuz, lib/modules
#   kernel-cache.sh debian-6.1 -> the same for Debian 12's default kernel, its newest 6.1
#   kernel-cache.sh btf [--cached] KERNEL -> DIR with KERNEL's BTF: vmlinux.btf and
#                                modules/<name>.btf (split BTF of its VFIO and IOMMU
#                                modules); --cached fails rather than fetch or build KERNEL
#
# Cache root: $IOGUARD_CACHE, default ~/.cache/ioguard. A directory is only renamed into
# place once complete, so an interrupted build is redone, never half-used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${IOGUARD_CACHE:-$HOME/.cache/ioguard}
mkdir -p "$cache"

# The iommufd kernel is keyed by the source version, the config fragment and this
# recipe number: bump it when the build steps below change what is built.
IOMMUFD_RECIPE=1

log() { echo "kernel-cache: $*" >&2; }

# Serialises work on one artifact between concurrent runs (two checkouts, two make
# check): the second waits for the first and then finds the artifact built.
lock() {
	exec 9>"$cache/.lock-$1"
	flock 9
}
die() { echo "kernel-cache: $*" >&2; exit 1; }

source_tarball() {
	local t
	t=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null) ||
		die "linux-source-6.12 is not installed (run scripts/deps.sh)"
	echo "$t"
}

source_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null ||
		die "cannot read the version of linux-source-6.12"
}

# Unpacked source tree, shared by the header and kernel steps.
source_tree() {
	local ver dir
	ver=$(source_version)
	dir="$cache/src-$ver"
	if [ ! -f "$dir/.complete" ]; then
		( lock "src-$ver"; [ -f "$dir/.complete" ] || unpack_source "$dir" )
	fi
	echo "$dir"
}

unpack_source() {
	local dir=$1 tmp

	log "unpacking $(basename "$dir")"
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp"
	tar -C "$dir.tmp" -xJf "$(source_tarball)"
	tmp=$(ls -d "$dir.tmp"/linux-source-6.12)
	mv "$tmp" "$dir"
	rm -rf "$dir.tmp"
	touch "$dir/.complete"
}

cmd_headers() {
	local ver out src
	ver=$(source_version)
	out="$cache/headers-$ver"
	src=$(source_tree)
	lock "headers-$ver"
	if [ ! -f "$out/include/linux/iommufd.h" ]; then
		log "installing uAPI headers of $ver"
		rm -rf "$out.tmp"
		make -s -C "$src" O="$out.tmp/build" headers_install \
			INSTALL_HDR_PATH="$out.tmp" >&2
		rm -rf "$out.tmp/build" "$out"
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}

# build_kernel NAME FRAGMENT...: a bzImage from tinyconfig plus the fragments, merged in
# order (a later fragment overrides an earlier one), keyed by the source version, the
# fragments' text and the recipe number.
build_kernel() {
	local name=$1 ver key out src build start
	shift
	ver=$(source_version)
	key=$( (echo "$ver recipe $IOMMUFD_RECIPE"; cat "$@") | sha256sum | cut -c1-16)
	out="$cache/kernel-$name-$key"
	src=$(source_tree)
	lock "kernel-$name-$key"
	if [ ! -f "$out/bzImage" ]; then
		build="$cache/build-$name-$key"
		start=$(date +%s)
		log "building the $name kernel ($ver, key $key); about 6 minutes on 2 cores"
		rm -rf "$build"
		mkdir -p "$build"
		make -s -C "$src" O="$build" tinyconfig >&2
		"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$@" >&2
		make -s -C "$src" O="$build" olddefconfig >&2
		# A fragment option that olddefconfig dropped means a missing dependency: fail
		# here rather than boot a kernel that silently lacks it. The last fragment that
		# names an option decides its value.
		local missing=0 line opt
		declare -A want=()
		while read -r line; do
			case "$line" in
			CONFIG_*=*) opt=${line%%=*} ;;
			"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *} ;;
			*) continue ;;
			esac
			want[$opt]=$line
		done < <(cat "$@")
		for opt in "${!want[@]}"; do
			line=${want[$opt]}
			case "$line" in
			"#"*) ! grep -q "^$opt=" "$build/.config" ||
				{ log "set after olddefconfig, wanted off: $opt"; missing=1; } ;;
			*) grep -qxF "$line" "$build/.config" ||
				{ log "not set after olddefconfig: $line"; missing=1; } ;;
			esac
		done
		[ "$missing" = 0 ] || die "config fragments not satisfied, see above"
		make -s -C "$src" O="$build" -j"$(nproc)" bzImage >&2
		rm -rf "$out.tmp"
		mkdir -p "$out.tmp"
		cp "$build/arch/x86/boot/bzImage" "$build/.config" "$out.tmp/"
		rm -rf "$out"
		mv "$out.tmp" "$out"
		rm -rf "$build"
		log "$name kernel built in $(( $(date +%s) - start )) s"
	fi
	echo "$out"
}

# debian_kernel REGEX: Debian's newest package whose name matches REGEX, unpacked with
# its modules indexed. The package name (which carries the ABI number) is the key.
debian_kernel() {
	local regex=$1 pkg out
	pkg=$(apt-cache search --names-only "$regex" | awk '{print $1}' | sort -V | tail -n 1)
	[ -n "$pkg" ] || die "no package matching $regex found (apt-get update?)"
	out="$cache/debian-$pkg"
	lock "debian-$pkg"
	if [ ! -f "$out/.complete" ]; then
		log "fetching $pkg"
		rm -rf "$out" "$out.tmp"
		mkdir -p "$out.tmp"
		(cd "$out.tmp" && apt-get download -q "$pkg" >&2) || die "cannot download $pkg"
		dpkg-deb -x "$out.tmp"/*.deb "$out.tmp/root"
		rm -f "$out.tmp"/*.deb
		local kver
		kver=$(ls "$out.tmp/root/lib/modules")
		depmod -b "$out.tmp/root" "$kver"
		ln -s "root/boot/vmlinuz-$kver" "$out.tmp/vmlinuz"
		echo "$kver" > "$out.tmp/kernel-release"
		mv "$out.tmp" "$out"
		touch "$out/.complete"
	fi
	echo "$out"
}

# kernel_btf [--cached] KERNEL: the BTF of a lab kernel (one of the kernel subcommands
# above), extracted once from its compressed image and modules, keyed by the kernel's
# artifact directory. The modules are the VFIO and IOMMU ones whose functions and types
# ioguard's programs use; their .BTF is split BTF over vmlinux.btf.
kernel_btf() {
	local cached=0 kernel kdir out tmp ko mod
	if [ "${1:-}" = --cached ]; then cached=1; shift; fi
	kernel=${1:?usage: kernel-cache.sh btf [--cached] KERNEL}
	if [ $cached = 1 ]; then
		kdir=$(cached_kernel_dir "$kernel") || die "the $kernel kernel is not in $cache yet"
	else
		kdir=$("$0" "$kernel") || die "cannot prepare the $kernel kernel"
	fi
	out="$cache/btf-$(basename "$kdir")"
	lock "btf-$(basename "$kdir")"
	if [ ! -f "$out/.complete" ]; then
		log "extracting the BTF of $(basename "$kdir")"
		rm -rf "$out" "$out.tmp"
		mkdir -p "$out.tmp/modules"
		tmp="$out.tmp/vmlinux"
		"$(source_tree)/scripts/extract-vmlinux" "$kdir/$(ls "$kdir" | grep -m1 -E '^(bzImage|vmlinuz)$')" \
			> "$tmp" || die "cannot extract vmlinux from $kdir"
		objcopy --dump-section .BTF="$out.tmp/vmlinux.btf" "$tmp" /dev/null ||
			die "$kdir has no .BTF section (CONFIG_DEBUG_INFO_BTF off?)"
		rm -f "$tmp"
		if [ -d "$kdir/root/lib/modules" ]; then
			while read -r ko; do
				mod=$(basename "$ko"); mod=${mod%.xz}; mod=${mod%.ko}; mod=${mod//-/_}
				case "$ko" in
				*.xz) xz -dc "$ko" > "$out.tmp/m.ko" ;;
				*) cp "$ko" "$out.tmp/m.ko" ;;
				esac
				objcopy --dump-section .BTF="$out.tmp/modules/$mod.btf" "$out.tmp/m.ko" \
					/dev/null 2>/dev/null || log "no .BTF in $ko"
			done < <(find "$kdir"/root/lib/modules/*/kernel/drivers/vfio \
				"$kdir"/root/lib/modules/*/kernel/drivers/iommu -name '*.ko*' 2>/dev/null)
			rm -f "$out.tmp/m.ko"
		fi
		mv "$out.tmp" "$out"
		touch "$out/.complete"
	fi
	echo "$out"
}

# cached_kernel_dir KERNEL: KERNEL's artifact directory if it is complete in the cache.
cached_kernel_dir() {
	local d
	case "$1" in
	debian) d=$(ls -d "$cache"/debian-linux-image-6.12.*-amd64-unsigned 2>/dev/null | sort -V | tail -n 1) ;;
	debian-6.1) d=$(ls -d "$cache"/debian-linux-image-6.1.0-*-amd64-unsigned 2>/dev/null | sort -V | tail -n 1) ;;
	iommufd|iommufd-compat) d=$(ls -td "$cache/kernel-$1"-???????????????? 2>/dev/null | head -n 1) ;;
	*) die "btf: unknown kernel '$1'" ;;
	esac
	[ -n "$d" ] && { [ -f "$d/.complete" ] || [ -f "$d/bzImage" ]; } || return 1
	echo "$d"
}

case "${1:-}" in
headers) cmd_headers ;;
iommufd) build_kernel iommufd "$repo/tests/vm/iommufd.config" ;;
iommufd-compat)
	build_kernel iommufd-compat "$repo/tests/vm/iommufd.config" \
		"$repo/tests/vm/iommufd-compat.config" ;;
debian) debian_kernel '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
debian-6.1) debian_kernel '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
btf) shift; kernel_btf "$@" ;;
*) die "usage: $0 headers|iommufd|iommufd-compat|debian|debian-6.1|btf [--cached] KERNEL" ;;
esac
