#!/usr/bin/env bash
# The static archives `make static` links that Debian does not ship in a usable form,
# built once from Debian's own source into the cache. Prints the install prefix on
# stdout (PREFIX/lib/libX.a, PREFIX/lib/pkgconfig/X.pc); progress goes to stderr.
#
#   static-deps.sh libmicrohttpd -> PREFIX of libmicrohttpd without HTTPS
#
# Why libmicrohttpd is rebuilt: Debian's libmicrohttpd.a is built with HTTPS, so it
# needs gnutls, whose static archive needs p11-kit and libunistring, and Debian 12 ships
# no libp11-kit.a: the link fails on p11_kit_* symbols. ioguard serves /metrics in
# plain HTTP only (src/ioguard/metrics/http_server.c), so the library is built from the very
# source package Debian 12 ships (upstream tarball plus Debian's patches, unpacked by
# dpkg-source), with Debian's hardening flags and --disable-https. The other archives
# (libbpf, libelf, zlib, libyaml, libbsd, libmd) are Debian's own .a files.
#
# Licence: libmicrohttpd is LGPL-2.1+ (debian/copyright of the source package; copied
# beside the archive as PREFIX/share/doc/libmicrohttpd/copyright). docs/static.md says
# what that asks of whoever distributes the static binary.
#
# Cache root: $IOGUARD_CACHE, default ~/.cache/ioguard; the prefix is keyed by the
# source package version, the pinned SHA-256 of its .dsc, the configure flags and
# RECIPE. It is renamed into place only once complete.
set -euo pipefail

cache=${IOGUARD_CACHE:-$HOME/.cache/ioguard}
# Debian's mirror; the files are checked against the pinned .dsc whatever it serves.
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Debian 12's libmicrohttpd (the version libmicrohttpd-dev installs: ioguard's objects
# are compiled against that package's microhttpd.h, so the upstream versions must match).
MHD_VERSION=0.9.75-6
MHD_DSC_SHA256=c0f8a9cd77c41285d2d48fc68bbee2e460a55042fcd5d3f6b9946c017d4b6846
MHD_POOL=pool/main/libm/libmicrohttpd
# No TLS, no shared object, no documentation (needs texinfo), no examples, no curl-based
# test programs. Everything else as Debian builds it.
MHD_CONFIGURE=(--disable-https --without-gnutls --disable-shared --enable-static --disable-doc
	--disable-examples --disable-curl)
# Bump when the build steps below change what is built.
RECIPE=1

log() { echo "static-deps: $*" >&2; }
die() { echo "static-deps: $*" >&2; exit 1; }

need() {
	local tool=$1 pkg=$2
	command -v "$tool" >/dev/null ||
		die "$tool is missing (package $pkg; scripts/deps.sh installs it)"
}

# What the cache holds is linked into a binary that runs as root, and a prefix with
# .complete is taken as it is: a cache directory another user can write could hold a
# planted prefix, or a symlink where the lock file is opened. So it must belong to this
# user and be writable by nobody else (a shared IOGUARD_CACHE in /tmp is refused).
trusted_cache() {
	local owner mode
	owner=$(stat -c %u "$cache") && mode=$(stat -c %a "$cache") ||
		die "cannot stat the cache directory $cache"
	[ "$owner" = "$(id -u)" ] && [ $((8#$mode & 8#022)) -eq 0 ] ||
		die "the cache directory $cache belongs to uid $owner with mode $mode: it must" \
			"belong to uid $(id -u) and be writable by nobody else, or another user could" \
			"plant the archive linked into ioguard (set IOGUARD_CACHE to a directory of yours)"
}

# Serialises concurrent builds of one prefix (two checkouts, make -j): the second waits
# and then finds it built.
lock() {
	exec 9>"$cache/.lock-$1"
	flock 9
}

# fetch URL FILE: FILE from URL, or a message naming the URL and curl's reason.
fetch() {
	curl -fsS --retry 3 -o "$2" "$1" || die "cannot download $1 (set DEBIAN_MIRROR to another Debian mirror)"
}

libmicrohttpd() {
	local upstream dev key out work dsc
	need curl curl; need dpkg-source dpkg-dev; need dpkg-buildflags dpkg-dev
	need xz xz-utils; need make make; need gcc gcc; need flock util-linux
	upstream=${MHD_VERSION%-*}
	dev=$(dpkg-query -W -f='${Version}' libmicrohttpd-dev 2>/dev/null) ||
		die "libmicrohttpd-dev is not installed (scripts/deps.sh installs it)"
	[ "${dev%-*}" = "$upstream" ] ||
		die "libmicrohttpd-dev is $dev but scripts/static-deps.sh pins $MHD_VERSION: the" \
			"static archive must match the headers ioguard is compiled with; update" \
			"MHD_VERSION and MHD_DSC_SHA256 to Debian's current source package"
	key=$(echo "$MHD_VERSION $MHD_DSC_SHA256 ${MHD_CONFIGURE[*]} recipe $RECIPE" |
		sha256sum | cut -c1-16)
	out="$cache/static-libmicrohttpd-$MHD_VERSION-$key"
	mkdir -p "$cache"
	trusted_cache
	lock "static-libmicrohttpd-$key"
	if [ ! -f "$out/.complete" ]; then
		log "building libmicrohttpd $MHD_VERSION without HTTPS (once; about 30 s)"
		work="$out.tmp"
		rm -rf "$work" "$out"
		mkdir -p "$work/dl"
		dsc="libmicrohttpd_$MHD_VERSION.dsc"
		fetch "$mirror/$MHD_POOL/$dsc" "$work/dl/$dsc"
		echo "$MHD_DSC_SHA256  $work/dl/$dsc" | sha256sum --quiet -c - ||
			die "$mirror/$MHD_POOL/$dsc does not have the pinned SHA-256 $MHD_DSC_SHA256"
		# The .dsc lists the tarballs with their SHA-256; dpkg-source checks them.
		local f
		for f in $(awk '/^Checksums-Sha256:/ {s = 1; next} /^[^ ]/ {s = 0} s {print $3}' \
				"$work/dl/$dsc"); do
			fetch "$mirror/$MHD_POOL/$f" "$work/dl/$f"
		done
		# No keyring here: the .dsc's signature is not checked (dpkg-source warns);
		# the pinned SHA-256 above stands for it.
		dpkg-source -q -x "$work/dl/$dsc" "$work/src" 2>"$work/dpkg-source.log" || {
			cat "$work/dpkg-source.log" >&2
			die "dpkg-source could not unpack $dsc (checksums?)"
		}
		(
			cd "$work/src"
			# Debian's own flags for this package (debian/rules: hardening=+all).
			export DEB_BUILD_MAINT_OPTIONS=hardening=+all
			eval "$(dpkg-buildflags --export=sh)"
			./configure --prefix="$out" "${MHD_CONFIGURE[@]}" > "$work/build.log" 2>&1 &&
				make -j"$(nproc)" >> "$work/build.log" 2>&1 &&
				make install DESTDIR="$work/stage" >> "$work/build.log" 2>&1
		) || {
			tail -n 30 "$work/build.log" >&2
			die "building libmicrohttpd failed (log: $work/build.log)"
		}
		# The prefix is $out: the .pc files name it, so the staged tree moves there whole.
		mkdir -p "$work/stage$out/share/doc/libmicrohttpd"
		cp "$work/src/debian/copyright" "$work/src/COPYING" \
			"$work/stage$out/share/doc/libmicrohttpd/"
		rm -f "$work/stage$out"/lib/*.la
		mv "$work/stage$out" "$out"
		rm -rf "$work"
		touch "$out/.complete"
	fi
	echo "$out"
}

case "${1:-}" in
libmicrohttpd) libmicrohttpd ;;
*) die "usage: $0 libmicrohttpd" ;;
esac
