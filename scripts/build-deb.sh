#!/usr/bin/env bash
# Builds the Debian packages (debian/) from a copy of the tree, then checks them with
# lintian. Run by `make deb`.
#   build-deb.sh OUTPUT VERSION COMMIT
# The copy is OUTPUT/deb/ioguard-VERSION: dpkg-buildpackage writes the .deb, .changes and
# .buildinfo files into its parent, OUTPUT/deb, and nothing beside the repository. It holds
# the files git knows plus untracked ones not ignored, as they are in the work tree (what
# `make` would build); without git, the whole tree but OUTPUT. COMMIT (git describe of the
# work tree, empty outside git) goes to `ioguard --version` through IOGUARD_COMMIT.
# Each step that fails stops the script with a message naming it; lintian errors fail
# it, its warnings are printed.
set -euo pipefail
output=${1:?usage: build-deb.sh OUTPUT VERSION COMMIT}
version=${2:?usage: build-deb.sh OUTPUT VERSION COMMIT}
commit=${3-}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
start=$SECONDS

die() { echo "make deb: $*" >&2; exit 1; }
step() { printf '  %-8s %s\n' DEB "$*"; }

for tool in dpkg-buildpackage dpkg-checkbuilddeps lintian; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing (scripts/deps.sh installs dpkg-dev, debhelper and lintian)"
done

out=$(mkdir -p "$output/deb" && cd "$output/deb" && pwd)
src="$out/ioguard-$version"
log="$out/build.log"
rm -rf "$src" "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"

step "copying the tree to $src"
if [ -e .git ]; then
	# Tracked files deleted in the work tree are left out, as a build would.
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done |
		tar -c --null --no-recursion -T - -f - | tar -x -C "$src" ||
		die "copying the tree to $src failed"
else
	tar -c --exclude="./${output#./}" --exclude=./debian/build -f - . | tar -x -C "$src" ||
		die "copying the tree to $src failed"
fi

step "dpkg-checkbuilddeps"
(cd "$src" && dpkg-checkbuilddeps) ||
	die "the Build-Depends of debian/control are not installed (run scripts/deps.sh)"

step "dpkg-buildpackage -b -us -uc (log: $log)"
if ! (cd "$src" && IOGUARD_COMMIT=$commit \
	IOGUARD_CACHE=${IOGUARD_CACHE:-$HOME/.cache/ioguard} \
	dpkg-buildpackage -b -us -uc -J"$(nproc)") > "$log" 2>&1; then
	# A parallel build's first error is rarely in its last lines.
	grep -m 10 -E ': (fatal )?error:' "$log" | sed 's/^/    | /' >&2
	tail -n 20 "$log" | sed 's/^/    | /' >&2
	die "dpkg-buildpackage failed (its errors and last lines above; all of it in $log)"
fi

changes=$(ls "$out"/ioguard_"${version}"_*.changes 2>/dev/null) ||
	die "dpkg-buildpackage wrote no ioguard_${version}_*.changes into $out"

step "lintian $(basename "$changes")"
# --fail-on error: warnings are printed but do not fail the build.
rc=0
lintian --fail-on error --display-info "$changes" > "$out/lintian.log" 2>&1 || rc=$?
sed 's/^/    /' "$out/lintian.log"
[ $rc -eq 0 ] || die "lintian found errors in the packages (above; also in $out/lintian.log)"
echo "  DEB      $(grep -c '^E: ' "$out/lintian.log") lintian errors," \
	"$(grep -c '^W: ' "$out/lintian.log") warnings"

for deb in "$out"/*.deb; do
	echo "  DEB      $deb ($(du -k "$deb" | cut -f1) KiB)"
done
echo "  DEB      built in $((SECONDS - start)) s"
