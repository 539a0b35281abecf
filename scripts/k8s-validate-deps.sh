#!/usr/bin/env bash
# Installs the npm packages of the offline Kubernetes validator (tests/k8s/: the
# Kubernetes and prometheus-operator schemas of kubernetes-models, TypeScript, yaml) with
# `npm ci` from tests/k8s/package-lock.json into $IOGUARD_CACHE/k8s-validate-KEY
# (default ~/.cache/ioguard), KEY hashing package.json and the lock: once per lock, never
# into the repository. Called by scripts/deps.sh.
#   k8s-validate-deps.sh         install unless installed
#   k8s-validate-deps.sh --dir   print the directory (installed or not) and exit
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
src=$repo/tests/k8s
cache=${IOGUARD_CACHE:-$HOME/.cache/ioguard}
key=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
dir=$cache/k8s-validate-$key

if [ "${1:-}" = --dir ]; then
	echo "$dir"
	exit 0
fi
[ -f "$dir/.complete" ] && exit 0
if ! command -v npm > /dev/null; then
	echo "k8s-validate-deps: no npm: install Debian's nodejs and npm (scripts/deps.sh)" >&2
	exit 1
fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/k8s-validate-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$src/package.json" "$src/package-lock.json" "$tmp/"
echo "k8s-validate-deps: npm ci of tests/k8s/package-lock.json into $dir" >&2
# --ignore-scripts: none of these packages needs an install script, so none runs.
# --use-openssl-ca: node trusts the system's CA store (/etc/ssl/certs), as apt, curl and
# git do, instead of the list built into node: a CA the machine's administrator added
# (an egress proxy's, through update-ca-certificates) then works for npm too.
if ! (cd "$tmp" && NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--use-openssl-ca" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2); then
	echo "k8s-validate-deps: npm ci of tests/k8s/package-lock.json failed (above): the" \
		"npm registry must be reachable" >&2
	exit 1
fi
touch "$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
