#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the lab and the demo need.
# Idempotent: packages already installed are not touched, and apt-get runs only when
# something is missing. Needs root (it is run by `make check` and `make demo`).
set -euo pipefail

packages=(
	# build (gcc-multilib: the lab's 32-bit attack programs; libclang-rt-14-dev: libFuzzer
	# and the sanitizer runtimes of clang 14 for tests/fuzz; binutils: the Makefile's ar,
	# and objcopy and readelf for the lab kernels' BTF; git: `make lab-old` builds the
	# older ioguard from the history)
	make gcc gcc-multilib clang llvm libclang-rt-14-dev pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
	libyaml-dev libmicrohttpd-dev libbsd-dev libmd-dev binutils git
	# man pages (`make man`, tests/cli/man_options.sh: scdoc renders man/*.scd) and the
	# bash completion's test (tests/cli/completion.sh sources bash-completion's helpers)
	scdoc bash-completion
	# benchmarks (libglib2.0-dev: bench_iova's peer, QEMU's IOVA tree algorithm on GTree)
	libglib2.0-dev
	# tests (libdw-dev: test_bpf_compat reads the BPF programs' DWARF)
	libcmocka-dev libdw-dev valgrind python3 prometheus
	# the lab: kernels and the guest. The guest runs in this machine's root, so what its
	# scripts call is installed here: ip (iproute2, guest.sh's management NIC), curl
	# (metrics-scrape, guest and host side), jq (lib.sh's decision counts: under TCG a
	# python3 start costs seconds, jq's a fraction).
	qemu-system-x86 busybox-static kmod xz-utils cpio coreutils bpftrace iproute2 curl jq
	# check-fresh: a pristine Debian 12 root to run this script, the build and the unit
	# tests in (scripts/check-fresh.sh)
	debootstrap debian-archive-keyring
	# make deb: dpkg-buildpackage (dpkg-dev), debhelper and lintian build and check the
	# packages of debian/ (scdoc and bash-completion above: the man pages, and the
	# debhelper sequence that installs the completion)
	dpkg-dev debhelper lintian
	# the kernel tree's headers_install needs rsync
	linux-source-6.12 flex bison bc libssl-dev dwarves rsync
	# make static and make image (docs/static.md): dpkg-dev unpacks Debian's libmicrohttpd
	# source and gives Debian's build flags (scripts/static-deps.sh: it is rebuilt without
	# HTTPS); buildah builds the OCI image from scratch without a daemon
	buildah
	# the lab's install scenarios, in the guest (which runs in this root): podman loads
	# and runs the OCI image; man (man-db) shows an installed page; unshare, setpriv and
	# pgrep (util-linux, procps) rebuild the unit's sandbox and check nothing started
	podman man-db util-linux procps
	# deploy/kubernetes (tests/cli/deploy_kubernetes.sh): Node.js runs the schema
	# validator, whose npm packages scripts/k8s-validate-deps.sh installs into the cache;
	# kubectl (below) renders the kustomization (`kubectl kustomize`, no cluster);
	# ca-certificates: npm fetches them over HTTPS, trusting the system's CA store
	nodejs ca-certificates
)
# Debian's npm and kubernetes-client only where no npm or kubectl is installed: other
# sources' packages of them (NodeSource's nodejs provides npm; Google's kubectl
# package owns /usr/bin/kubectl) conflict with Debian's, and serve as well. The
# manifests are written for the oldest, Debian 12's kubectl 1.20 (kustomize v2.0.3).
command -v npm > /dev/null || packages+=(npm)
command -v kubectl > /dev/null || packages+=(kubernetes-client)
# The npm packages of the Kubernetes validator, once per lock file, into the cache.
validator_deps="$(dirname "$0")/k8s-validate-deps.sh"

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

# The Debian kernel for the lab is fetched by name, which needs a current package list.
need_update=0
if ! apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | grep -q .; then
	need_update=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_update -eq 0 ]; then
	exec "$validator_deps"
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian 12 ships the 6.12 kernel (image and source) in bookworm-security only; the
# installer enables it, a bare debootstrap root does not.
if ! apt-cache show linux-source-6.12 >/dev/null 2>&1; then
	echo "deps: linux-source-6.12 is not in the package lists: add the bookworm-security" \
		"suite to the APT sources and run again" >&2
	exit 1
fi
if [ ${#missing[@]} -ne 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
exec "$validator_deps"
