#!/usr/bin/env bash
# `ioguard --version` names the build: the version of debian/changelog (its only home)
# and, for a build from a git checkout, the commit it was built from.
. "$(dirname "$0")/lib.bash"

version=$(sed -n '1s/^ioguard (\([^)]*\)).*/\1/p' debian/changelog)
[ -n "$version" ]
result "debian/changelog's first line names a version" $? "$(head -n 1 debian/changelog)"
case $version in
*-*) result "the package is native (no Debian revision)" 1 \
	"version $version; debian/source/format is $(cat debian/source/format)" ;;
*) result "the package is native (no Debian revision)" 0 ;;
esac

out=$("$IOGUARD" --version)
result "--version exits 0" $? "$out"
[ "$(wc -l <<< "$out")" -eq 1 ]
result "--version prints one line" $? "$out"
[[ $out == "ioguard $version" || $out == "ioguard $version (git "*")" ]]
result "--version names debian/changelog's version $version" $? "it says '$out'"

# The Makefile asks git only at the top of a checkout; a tree without .git (a tarball,
# `make deb`'s copy before IOGUARD_COMMIT) has no commit to name.
if [ -e .git ] && command -v git >/dev/null; then
	head=$(git describe --always --abbrev=12)
	[[ $out == "ioguard $version (git $head"* ]]
	result "--version names the commit $head" $? "it says '$out' (rebuild: make)"
else
	echo "SKIP: not a git checkout, no commit to compare with"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
