# ioguard: BPF programs, the ioguard loader, libioasid, their tests and the VM lab.
#
#   make            build everything into $(OUTPUT)
#   make check      install deps, unit tests, then the lab on every lab kernel
#   make check-unit unit tests only (cmocka, ASan/UBSan build, valgrind); the BPF
#                   programs are checked against the lab kernels' BTF already cached
#   make kernel-btf the lab kernels' BTF for tests/unit/test_bpf_compat.c (check runs it)
#   make check-fresh  deps.sh, the build and the unit tests in a pristine Debian 12
#                   root (debootstrap minbase, cached), on a copy of HEAD
#   make check-vm   lab scenarios; KERNEL=debian, debian-6.1, iommufd or iommufd-compat for one
#                   kernel; LAB_LANES (2) guests run at once
#   make check-fleet  two lab guests as a two-node fleet under one Prometheus with the
#                   shipped alert rules (tests/vm/fleet.sh)
#   make bench      benchmarks: host (IOVA tree, /metrics render, ring buffer) and lab
#                   (map/unmap overhead of ioguard, bpftrace and a policy), ratios
#                   measured in one run
#   make demo       live trace of real attach/map events inside the lab
#   make lab-old    the older ioguard (OLD_REV) the lab's upgrade scenario replaces
#   make man        the man pages (man/*.scd, scdoc) into $(OUTPUT)/man/
#   make fuzz       every libFuzzer target (tests/fuzz/) for FUZZ_SECONDS (300) each;
#                   `check` runs them for FUZZ_SMOKE_SECONDS (20) in total
#   make static     $(OUTPUT)/static/ioguard: one static binary for any x86-64 Linux
#                   with BTF (docs/static.md)
#   make image      $(OUTPUT)/image/ioguard-oci.tar: an OCI image from scratch holding
#                   the static binary, entrypoint `ioguard run` (buildah; docs/static.md)
#   make lib        libioasid: the static archive and the shared library (soname
#                   libioasid.so.0, only include/ioasid/ioasid.h exported)
#   make install    ioguard, libioasid, its header and ioasid.pc under DESTDIR and prefix
#                   (/usr/local)
#   make deb        the Debian packages into $(OUTPUT)/deb/, built from a copy of the tree
#                   with dpkg-buildpackage, then checked by lintian
#   make deploy-rules  deploy/kubernetes/base/prometheusrule.yaml from the rules files of
#                   docs/prometheus/ (docs/fleet.md)
#   make check-deploy  the Kubernetes manifests and alert rules only, without a cluster:
#                   kubectl kustomize, the schema validator, promtool (also in check-unit)
#   V=1             show full commands

OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
# Two lanes share them out in this order (scripts/run-lab.sh): the two Debian kernels,
# which run the loader races, first and side by side; then iommufd after the shorter of
# them, and iommufd-compat (which skips what its container does not change) last.
KERNEL ?= debian-6.1 debian iommufd iommufd-compat

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
# A failing command inside a recipe's pipeline (git archive | tar) fails the recipe.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.SUFFIXES:
.DEFAULT_GOAL := all

# The kernel's name for the architecture, as bpf_tracing.h's __TARGET_ARCH_* wants it: the
# host's, or ARCH in either spelling (an ARCH=x86_64 exported for kernel builds is x86).
ARCH ?= $(shell uname -m)
override ARCH := $(shell echo '$(ARCH)' | sed -e 's/x86_64/x86/' -e 's/i.86/x86/' \
	-e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/' \
	-e 's/loongarch64/loongarch/')
UAPI := $(OUTPUT)/uapi
# The system's uAPI headers are 6.1 and lack linux/iommufd.h and the VFIO cdev ioctls;
# the 6.12 headers come from linux-source-6.12 via the kernel cache. Only what includes
# them waits for them and sees them (UAPI_CFLAGS): libioasid's two kernel backends and
# the lab's programs.
UAPI_STAMP := $(UAPI)/include/linux/iommufd.h

PKGS := libbpf libelf zlib yaml-0.1 libmicrohttpd libmd
# pkg_config OPTION: pkg-config's answer for $(PKGS); a missing pkg-config or .pc file
# stops make with pkg-config's own message rather than compile with guessed flags.
# Expanded in recipes only, so `make deps` and `make clean` work before it is installed.
# pkg_config OPTION[,PACKAGES]: the same for other packages than $(PKGS).
pkg_config = $(strip $(eval pkg_list := $(or $(2),$(PKGS)))$(eval pkg_out := $(shell \
	pkg-config --print-errors $(1) $(pkg_list) 2>&1))$(if \
	$(filter 0,$(.SHELLSTATUS)),$(pkg_out),$(error pkg-config $(1) $(pkg_list) failed: \
	$(or $(pkg_out),pkg-config not found) (scripts/deps.sh installs them))))
PKG_CFLAGS = $(call pkg_config,--cflags)
PKG_LIBS = $(call pkg_config,--libs)

WARNINGS := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS) -MMD -MP -D_GNU_SOURCE \
	-Iinclude -I$(OUTPUT) -Isrc/ioguard $(PKG_CFLAGS)
UAPI_CFLAGS = -I$(UAPI)/include
# Tests include what they test by its wing ("policy/policy.h", "ioasid/iova_tree.h").
TEST_CFLAGS = -Itests/unit -Isrc
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(OUTPUT) -Iinclude -Ibpf

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))

IOASID_SRCS := $(wildcard src/ioasid/*.c)
IOASID_OBJS := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(IOASID_SRCS))
# One folder per wing of the loader (docs/architecture.md).
IOGUARD_SRCS := $(filter-out src/ioguard/cli/main.c,$(wildcard src/ioguard/*/*.c))
IOGUARD_OBJS := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(IOGUARD_SRCS))
LIBIOASID := $(OUTPUT)/libioasid.a
LIBIOGUARD := $(OUTPUT)/libioguard.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
LAB_SRCS := $(wildcard tests/vm/tools/*.c)
LAB_BINS := $(patsubst tests/vm/tools/%.c,$(OUTPUT)/lab/%,$(LAB_SRCS)) $(OUTPUT)/lab/int80_attack
LAB32_SRCS := $(wildcard tests/vm/tools32/*.c)
LAB32_BINS := $(patsubst tests/vm/tools32/%.c,$(OUTPUT)/lab32/%,$(LAB32_SRCS))
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bench/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))

.PHONY: all deps check check-unit check-fresh check-vm check-fleet check-fuzz fuzz fuzz-bins bench demo \
	clean lab-old kernel-btf kernel-btf-cached man lib install install-bin install-lib deb
all: $(OUTPUT)/ioguard $(LIBIOASID) lib $(UNIT_BINS) $(LAB_BINS) $(LAB32_BINS) $(BENCH_BINS)

deps:
	$(Q)scripts/deps.sh

$(UAPI_STAMP):
	$(call msg,UAPI,$(UAPI))
	$(Q)mkdir -p $(UAPI)
	$(Q)dir=$$(scripts/kernel-cache.sh headers) || { echo "make: cannot install the 6.12 uAPI headers: scripts/kernel-cache.sh headers failed (see above)" >&2; exit 1; }; \
		test -f "$$dir/include/linux/iommufd.h" || { echo "make: $$dir/include/linux/iommufd.h is missing after scripts/kernel-cache.sh headers" >&2; exit 1; }; \
		rm -rf $(UAPI)/include && ln -sfn "$$dir/include" $(UAPI)/include

$(OUTPUT)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no kernel BTF at $(VMLINUX_BTF): set VMLINUX_BTF=path" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

# The DMA accounts need atomic fetch-and-add and compare-and-swap (BPF ISA v3, 5.12+).
$(OUTPUT)/bpf/enforce.bpf.o: BPF_CFLAGS += -mcpu=v3

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/obj/%.o: src/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBIOASID): $(IOASID_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBIOGUARD): $(IOGUARD_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Each object waits for the skeleton it includes (the generated dependency files know it
# only after a first build), and only libioasid's kernel backends for the 6.12 uAPI.
# The four builds of the sources: plain, PIC (libioasid.so), sanitized and fuzzed.
SRC_BUILDS := obj pic san fuzz/obj
in_builds = $(foreach b,$(SRC_BUILDS),$(patsubst src/%.c,$(OUTPUT)/$(b)/%.o,$(1)))
$(call in_builds,src/ioguard/prog/tracer.c): $(OUTPUT)/trace.skel.h
$(call in_builds,src/ioguard/prog/enforcer.c): $(OUTPUT)/enforce.skel.h
$(call in_builds,src/ioguard/prog/bpf_probe.c): $(OUTPUT)/probe.skel.h
UAPI_OBJS := $(call in_builds,src/ioasid/iommufd.c src/ioasid/vfio.c)
$(UAPI_OBJS): ALL_CFLAGS += $(UAPI_CFLAGS)
$(UAPI_OBJS): | $(UAPI_STAMP)

$(OUTPUT)/ioguard: $(OUTPUT)/obj/ioguard/cli/main.o $(LIBIOGUARD) $(LIBIOASID)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lbsd

# ---- Packaging (issue 13): the version stamp, the shared libioasid, install, deb -------
#
# The version is debian/changelog's (the package is native, so it has no Debian
# revision); the commit is `git describe` of a git checkout, or IOGUARD_COMMIT when given
# (`make deb` passes it to the copy it builds, which has no .git). Neither is written in
# any other file. Only main.c and collect.c include the generated header, and it is
# rewritten only when its text changes: a new commit rebuilds two objects.
changelog_version := s/^ioguard (\([^)]*\)).*/\1/p
IOGUARD_VERSION := $(shell sed -n '1$(changelog_version)' debian/changelog)
ifeq ($(IOGUARD_VERSION),)
$(error debian/changelog: no version in its first line, "ioguard (VERSION) ...")
endif
ifeq ($(origin IOGUARD_COMMIT),undefined)
# Only the characters a commit or tag name needs: the value is pasted into a shell command
# and a C string below, and a tag name may hold quotes, $ and ;.
IOGUARD_COMMIT := $(if $(wildcard .git),$(shell git describe --always --dirty --abbrev=12 2>/dev/null | tr -cd 'A-Za-z0-9._+~-'))
endif
VERSION_H := $(OUTPUT)/ioguard_version.h

$(VERSION_H): FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf '/* Generated by the Makefile from debian/changelog and git. */\n#define IOGUARD_VERSION "%s"\n#define IOGUARD_COMMIT "%s"\n' \
		'$(IOGUARD_VERSION)' '$(IOGUARD_COMMIT)' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(call in_builds,src/ioguard/cli/main.c src/ioguard/metrics/collect.c): $(VERSION_H)
# Phony, not just a file that is never made: .SECONDARY would let make skip it.
.PHONY: FORCE

# libioasid.so: its own PIC objects; only the functions of include/ioasid/ioasid.h are
# exported, under the version node LIBIOASID_0 (src/ioasid/libioasid.map;
# tests/cli/libioasid_shared.sh checks that the two agree). ioguard links the archive.
IOASID_SONAME := libioasid.so.0
LIBIOASID_SO := $(OUTPUT)/libioasid.so.$(IOGUARD_VERSION)
IOASID_PIC_OBJS := $(patsubst src/%.c,$(OUTPUT)/pic/%.o,$(IOASID_SRCS))

$(OUTPUT)/pic/%.o: src/%.c
	$(call msg,CC-PIC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(LIBIOASID_SO): $(IOASID_PIC_OBJS) src/ioasid/libioasid.map
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -fPIC -Wl,-soname,$(IOASID_SONAME) \
		-Wl,--version-script=src/ioasid/libioasid.map -Wl,--no-undefined \
		-o $@ $(IOASID_PIC_OBJS) -lbsd
	$(Q)ln -sfn $(@F) $(OUTPUT)/$(IOASID_SONAME) && ln -sfn $(IOASID_SONAME) $(OUTPUT)/libioasid.so

lib: $(LIBIOASID) $(LIBIOASID_SO)

# GNU directory variables; debian/rules sets prefix=/usr and the multiarch libdir.
prefix ?= /usr/local
sbindir ?= $(prefix)/sbin
libdir ?= $(prefix)/lib
includedir ?= $(prefix)/include
pkgconfigdir ?= $(libdir)/pkgconfig

install: install-bin install-lib

install-bin: $(OUTPUT)/ioguard
	$(call msg,INSTALL,$(DESTDIR)$(sbindir)/ioguard)
	$(Q)install -D -m 0755 $< $(DESTDIR)$(sbindir)/ioguard

install-lib: lib
	$(call msg,INSTALL,libioasid into $(DESTDIR)$(libdir))
	$(Q)install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir)/ioasid $(DESTDIR)$(pkgconfigdir)
	$(Q)install -m 0644 $(LIBIOASID_SO) $(LIBIOASID) $(DESTDIR)$(libdir)/
	$(Q)ln -sfn $(notdir $(LIBIOASID_SO)) $(DESTDIR)$(libdir)/$(IOASID_SONAME)
	$(Q)ln -sfn $(IOASID_SONAME) $(DESTDIR)$(libdir)/libioasid.so
	$(Q)install -m 0644 include/ioasid/ioasid.h $(DESTDIR)$(includedir)/ioasid/
	$(Q)sed -e 's|@prefix@|$(prefix)|' -e 's|@libdir@|$(libdir)|' \
		-e 's|@includedir@|$(includedir)|' -e 's|@version@|$(IOGUARD_VERSION)|' \
		src/ioasid/ioasid.pc.in > $(DESTDIR)$(pkgconfigdir)/ioasid.pc

# The packages, from a copy of the tree under $(OUTPUT)/deb (scripts/build-deb.sh).
deb: deps
	$(Q)scripts/build-deb.sh $(OUTPUT) '$(IOGUARD_VERSION)' '$(IOGUARD_COMMIT)'

-include $(wildcard $(OUTPUT)/pic/*/*.d $(OUTPUT)/pic/*/*/*.d)
# ---- end of packaging ---------------------------------------------------------------

# --- static binary and OCI image (docs/static.md) ---
# The objects of $(OUTPUT)/ioguard, linked static-pie (a static binary that keeps ASLR,
# as the PIE dynamic build has it) against Debian's .a files and a libmicrohttpd built
# without HTTPS (scripts/static-deps.sh says why). --fatal-warnings: glibc marks the
# functions a static binary cannot serve without its shared NSS/dlopen modules
# (getaddrinfo, getpwnam, dlopen, ...) with a link warning; ioguard must call none of
# them, so one appearing fails the link instead of failing at run time on a host.
# The debug info goes to ioguard.debug beside it (gnu-debuglink).
# `static` and `image` install their dependencies first, as check and demo do; the
# file targets do not.
STATIC_IOGUARD := $(OUTPUT)/static/ioguard
.PHONY: static image
static: deps
	$(Q)$(MAKE) --no-print-directory $(STATIC_IOGUARD)

$(STATIC_IOGUARD): $(OUTPUT)/obj/ioguard/cli/main.o $(LIBIOGUARD) $(LIBIOASID) scripts/static-deps.sh
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)for t in pkg-config objcopy; do command -v $$t >/dev/null || { echo "make: $$t is missing (scripts/deps.sh installs it)" >&2; exit 1; }; done
	$(Q)mhd=$$(scripts/static-deps.sh libmicrohttpd) || { echo "make: no static libmicrohttpd: scripts/static-deps.sh failed (see above)" >&2; exit 1; }; \
		libs=$$(PKG_CONFIG_PATH=$$mhd/lib/pkgconfig pkg-config --print-errors --static --libs $(PKGS) libbsd) || { echo "make: pkg-config --static --libs $(PKGS) libbsd failed (scripts/deps.sh installs them)" >&2; exit 1; }; \
		$(CC) $(CFLAGS) -static-pie -Wl,--fatal-warnings -o $@.full $(filter %.o %.a,$^) $$libs
	$(Q)objcopy --only-keep-debug $@.full $@.debug
	$(Q)objcopy --strip-all --add-gnu-debuglink=$@.debug $@.full $@ && rm -f $@.full

# Always rebuilt (a second): its revision label follows HEAD. IMAGE_POLICY becomes
# /etc/ioguard/policy.yaml; IMAGE_SOURCE=URL sets org.opencontainers.image.source
# (default: the git remote origin).
IMAGE_POLICY ?= policies/default.yaml
image: static
	$(call msg,IMAGE,$(OUTPUT)/image/ioguard-oci.tar)
	$(Q)scripts/build-image.sh $(OUTPUT) $(IMAGE_POLICY)
# --- end of static binary and OCI image ---

# --- Kubernetes manifests and fleet alerts (deploy/kubernetes, docs/fleet.md) ---
# deploy-rules: deploy/kubernetes/base/prometheusrule.yaml from docs/prometheus/*-rules.yml
# (the one source; tests/cli/deploy_kubernetes.sh fails when the two differ).
# check-deploy: deps, then only the two command-line tests of the manifests and rules
# (check-unit runs them with the others); a "not ok" line fails it.
.PHONY: deploy-rules check-deploy
deploy-rules:
	$(call msg,GEN,deploy/kubernetes/base/prometheusrule.yaml)
	$(Q)scripts/gen-prometheusrule.sh > deploy/kubernetes/base/prometheusrule.yaml.tmp
	$(Q)mv deploy/kubernetes/base/prometheusrule.yaml.tmp deploy/kubernetes/base/prometheusrule.yaml

check-deploy: deps
	$(Q)for t in prometheus_rules deploy_kubernetes; do \
		IOGUARD=$(OUTPUT)/ioguard bash tests/cli/$$t.sh > $(OUTPUT)/check-deploy-$$t.log 2>&1; rc=$$?; \
		grep -E '^(not ok|SKIP)' $(OUTPUT)/check-deploy-$$t.log; \
		echo "$$t: $$(grep -c '^ok ' $(OUTPUT)/check-deploy-$$t.log) passed, $$(grep -c '^not ok ' $(OUTPUT)/check-deploy-$$t.log) failed"; \
		[ $$rc -eq 0 ] || [ $$rc -eq 77 ] || exit 1; \
		! grep -q '^not ok ' $(OUTPUT)/check-deploy-$$t.log || exit 1; \
	done
# --- end of Kubernetes manifests and fleet alerts ---

# Unit tests are built a second time with sanitizers, from the same sources.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_OBJS := $(patsubst src/%.c,$(OUTPUT)/san/%.o,$(IOASID_SRCS) $(IOGUARD_SRCS))
$(OUTPUT)/san/%.o: src/%.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIBIOGUARD) $(LIBIOASID)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_OBJS) $(LIBIOGUARD) $(LIBIOASID) -lcmocka $(PKG_LIBS) -lbsd $(TEST_LIBS)

$(OUTPUT)/tests-san/%: tests/unit/%.c $(SAN_OBJS)
	$(call msg,TEST-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_OBJS) $(SAN_OBJS) -lcmocka $(PKG_LIBS) -lbsd $(TEST_LIBS)

# The tests that read the programs themselves include their skeletons.
$(foreach t,tests tests-san,$(OUTPUT)/$(t)/test_bpf_compat): $(OUTPUT)/trace.skel.h $(OUTPUT)/enforce.skel.h
$(foreach t,tests tests-san,$(OUTPUT)/$(t)/test_policy_compile): $(OUTPUT)/enforce.skel.h

# Objects a test or lab program links besides the libraries, listed as its prerequisites:
# the conformance scenarios (test_sim and lab/conformance run them) and iova_tree.c built
# with tiny nodes (test_iova_tree runs on both builds; tests/unit/iova_tree_small.h).
TEST_OBJS = $(filter $(OUTPUT)/test-obj/% $(OUTPUT)/test-obj-san/%,$^)
IOVA_SMALL_CFLAGS := -DIOVA_TREE_SMALL_NODES -include tests/unit/iova_tree_small.h
$(OUTPUT)/test-obj/%.o: tests/conformance/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -c $< -o $@
$(OUTPUT)/test-obj-san/%.o: tests/conformance/%.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(TEST_CFLAGS) -c $< -o $@
$(OUTPUT)/test-obj/iova_tree_small.o: src/ioasid/iova_tree.c tests/unit/iova_tree_small.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(IOVA_SMALL_CFLAGS) -c $< -o $@
$(OUTPUT)/test-obj-san/iova_tree_small.o: src/ioasid/iova_tree.c tests/unit/iova_tree_small.h
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(IOVA_SMALL_CFLAGS) -c $< -o $@
$(OUTPUT)/tests/test_sim $(OUTPUT)/lab/conformance: $(OUTPUT)/test-obj/scenarios.o
$(OUTPUT)/tests-san/test_sim: $(OUTPUT)/test-obj-san/scenarios.o
$(OUTPUT)/tests/test_iova_tree: $(OUTPUT)/test-obj/iova_tree_small.o
$(OUTPUT)/tests-san/test_iova_tree: $(OUTPUT)/test-obj-san/iova_tree_small.o

# The BPF programs relocated offline against other kernels' BTF (test_bpf_compat): the
# kernels are listed in KERNEL_BTF_LIST, by `kernel-btf` (the lab kernels of $(KERNEL) and
# Debian's 6.1, fetched or built if need be, the others if cached) or `kernel-btf-cached`
# (those in the cache). A kernel not listed is SKIPPED; the host's BTF is always checked.
KERNEL_BTF_LIST := $(abspath $(OUTPUT))/kernel-btf.list
BTF_KERNELS := debian debian-6.1 iommufd iommufd-compat
BTF_FETCH := $(sort debian-6.1 $(KERNEL))
$(OUTPUT)/tests/test_bpf_compat $(OUTPUT)/tests-san/test_bpf_compat: TEST_LIBS := -ldw
$(OUTPUT)/tests/test_bpf_compat $(OUTPUT)/tests-san/test_bpf_compat: \
	ALL_CFLAGS += -DKERNEL_BTF_LIST='"$(KERNEL_BTF_LIST)"'

kernel-btf kernel-btf-cached:
	$(Q)mkdir -p $(OUTPUT) && : > $(KERNEL_BTF_LIST).tmp
	$(Q)fetch="$(if $(filter kernel-btf,$@),$(BTF_FETCH))"; \
	for k in $(BTF_KERNELS); do \
		case " $$fetch " in *" $$k "*) opt= ;; *) opt=--cached ;; esac; \
		if dir=$$(scripts/kernel-cache.sh btf $$opt $$k 2>$(KERNEL_BTF_LIST).err); then \
			echo "$$k $$dir" >> $(KERNEL_BTF_LIST).tmp; \
		else \
			echo "  BTF      $$k: $$(tail -n 1 $(KERNEL_BTF_LIST).err); test_bpf_compat will SKIP it"; \
		fi; \
	done; rm -f $(KERNEL_BTF_LIST).err; mv $(KERNEL_BTF_LIST).tmp $(KERNEL_BTF_LIST)

$(OUTPUT)/lab/%: tests/vm/tools/%.c $(LIBIOASID) | $(UAPI_STAMP)
	$(call msg,LAB,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(UAPI_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_OBJS) $(LIBIOASID) -lbsd $(PKG_LIBS)

# IA-32 programs reach the kernel's compat ioctl path (lsm file_ioctl_compat). Static, so
# the guest needs no 32-bit libc; libioasid and the libraries are 64-bit only and are not
# linked.
$(OUTPUT)/lab32/%: tests/vm/tools32/%.c | $(UAPI_STAMP)
	$(call msg,LAB32,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -m32 -static -std=gnu11 $(WARNINGS) $(CFLAGS) -MMD -MP -D_GNU_SOURCE \
		$(UAPI_CFLAGS) $(LDFLAGS) -o $@ $<

# int80_attack, compat_attack's 64-bit twin: the same source built for x86-64, where it
# issues its ioctls through `int $0x80`. One source on purpose: both issue byte-identical
# ioctls, so a difference in how they are judged can only come from the way in.
$(OUTPUT)/lab/int80_attack: tests/vm/tools32/compat_attack.c | $(UAPI_STAMP)
	$(call msg,LAB,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(UAPI_CFLAGS) $(LDFLAGS) -o $@ $<

# Benches may load a skeleton and link ioguard's own code, so they wait for both. A bench's
# peers (implementations it is compared with, tests/bench/peer/) are objects listed as its
# prerequisites and linked into it; BENCH_PKGS are their pkg-config packages.
BENCH_PEERS = $(filter $(OUTPUT)/bench-peer/%.o,$^)
$(OUTPUT)/bench-peer/%.o: tests/bench/peer/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(call pkg_config,--cflags,$(BENCH_PKGS)) -c $< -o $@

$(OUTPUT)/bench/%: tests/bench/%.c $(LIBIOGUARD) $(LIBIOASID)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -I$(OUTPUT)/bench-bpf $(if $(BENCH_PKGS),$(call pkg_config,--cflags,$(BENCH_PKGS))) \
		$(LDFLAGS) -o $@ $< $(BENCH_PEERS) $(LIBIOASID) $(LIBIOGUARD) $(PKG_LIBS) -lbsd \
		$(if $(BENCH_PKGS),$(call pkg_config,--libs,$(BENCH_PKGS)))

# A bench's own BPF program (tests/bench/NAME.bpf.c) and the skeleton the bench includes.
$(OUTPUT)/bench-bpf/%.bpf.o: tests/bench/%.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/bench-bpf/%.skel.h: $(OUTPUT)/bench-bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/bench/bench_ringbuf: $(OUTPUT)/bench-bpf/bench_ringbuf.skel.h

# BPF programs the lab's icount benchmark attaches (tests/vm/tools/bpf_attach): empty ones
# as its floors, and the least work each job needs as its lower bounds; built by `make
# bench` only.
BENCH_LAB_BPF := $(OUTPUT)/lab-bpf/empty.bpf.o $(OUTPUT)/lab-bpf/lower.bpf.o
$(OUTPUT)/lab-bpf/%.bpf.o: tests/vm/bench/%.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

# QEMU's IOVA tree algorithm on GLib, bench_iova's peer.
$(OUTPUT)/bench/bench_iova: $(OUTPUT)/bench-peer/gtree_iova.o
$(OUTPUT)/bench/bench_iova $(OUTPUT)/bench-peer/gtree_iova.o: BENCH_PKGS := glib-2.0

UNIT_SAN_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests-san/%,$(UNIT_SRCS))

# The ioguard of an older layout (b9c57cc: layout 1, no marker), built from git history
# for the lab's enforce-upgrade, which replaces its pinned set. A tree without that
# commit builds nothing here and the scenario says SKIP with the reason.
OLD_REV := b9c57cc
OLD_IOGUARD := $(OUTPUT)/old/$(OLD_REV)/ioguard
$(OLD_IOGUARD): | $(UAPI_STAMP)
	$(call msg,OLD,$@)
	$(Q)command -v git >/dev/null || { echo "make: git is missing (scripts/deps.sh installs it)" >&2; exit 1; }
	$(Q)if git cat-file -e $(OLD_REV)^{commit} 2>/dev/null; then \
		rm -rf $(@D)/src && mkdir -p $(@D)/src && \
		git archive $(OLD_REV) | tar -x -C $(@D)/src && \
		$(MAKE) --no-print-directory -C $(@D)/src OUTPUT=$(abspath $(@D))/build \
			$(abspath $(@D))/build/ioguard && cp $(@D)/build/ioguard $@; \
	else echo "make: no commit $(OLD_REV) in this tree: the lab's enforce-upgrade will SKIP"; fi

lab-old: $(OLD_IOGUARD)

# libFuzzer targets: clang 14 (libclang-rt-14-dev has the runtime), the project's sources
# built once more with coverage and ASan/UBSan. Corpora, logs and crash inputs stay under
# $(OUTPUT)/fuzz (scripts/run-fuzz.sh).
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/bin/%,$(FUZZ_SRCS))
FUZZ_OBJS := $(patsubst src/%.c,$(OUTPUT)/fuzz/obj/%.o,$(IOASID_SRCS) $(IOGUARD_SRCS))
FUZZ_LIB := $(OUTPUT)/fuzz/libfuzzed.a

$(OUTPUT)/fuzz/obj/%.o: src/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/fuzz/bin/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(ALL_CFLAGS) $(TEST_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(LDFLAGS) \
		-DFUZZ_SYSFS='"$(CURDIR)/tests/fixtures/sysfs/q35-one-vfio"' \
		-o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lbsd

fuzz-bins: $(FUZZ_BINS)

fuzz: fuzz-bins
	$(Q)scripts/run-fuzz.sh $(OUTPUT) $(FUZZ_SECONDS)

check-fuzz: fuzz-bins
	$(Q)scripts/run-fuzz.sh $(OUTPUT) $(FUZZ_SMOKE_SECONDS) --smoke

# Man pages: man/NAME.SECTION.scd rendered by scdoc into $(OUTPUT)/man/NAME.SECTION, the
# files the Debian package installs. tests/cli/man_options.sh checks them against the
# binary's --help and the getopt tables. A page's date is SOURCE_DATE_EPOCH (set by
# dpkg-buildpackage), else its source's last commit, else today: the same sources give
# the same pages.
SCDOC ?= scdoc
MAN_SRCS := $(wildcard man/*.scd)
MAN_PAGES := $(patsubst man/%.scd,$(OUTPUT)/man/%,$(MAN_SRCS))

man: $(MAN_PAGES)

$(OUTPUT)/man/%: man/%.scd
	$(call msg,SCDOC,$@)
	$(Q)command -v $(SCDOC) >/dev/null || { echo "make: $(SCDOC) is missing (scripts/deps.sh installs it)" >&2; exit 1; }
	$(Q)mkdir -p $(@D)
	$(Q)epoch=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct -- $< 2>/dev/null)}; \
		SOURCE_DATE_EPOCH=$${epoch:-$$(date +%s)} $(SCDOC) < $< > $@

# `check` runs every suite even when one fails, then prints one total line and fails if
# any suite failed. Each suite writes "passed failed" to $(OUTPUT)/results/<suite>.
check: deps
	$(Q)rm -rf $(OUTPUT)/results && mkdir -p $(OUTPUT)/results
	$(Q)$(MAKE) --no-print-directory all $(UNIT_SAN_BINS) lab-old
	$(Q)$(MAKE) --no-print-directory deb image
	$(Q)$(MAKE) --no-print-directory kernel-btf
	-$(Q)scripts/run-unit.sh $(OUTPUT)
	-$(Q)$(MAKE) --no-print-directory check-fuzz
	-$(Q)scripts/check-fresh.sh $(OUTPUT)
	-$(Q)tests/vm/selftest.sh $(OUTPUT)
	-$(Q)scripts/run-lab.sh $(OUTPUT) $(KERNEL)
	-$(Q)tests/vm/fleet.sh $(OUTPUT)
	$(Q)scripts/summarize.sh $(OUTPUT)/results unit fuzz fresh vm-harness $(addprefix vm-,$(KERNEL)) vm-fleet

check-unit: all $(UNIT_SAN_BINS)
	$(Q)$(MAKE) --no-print-directory kernel-btf-cached
	$(Q)rm -rf $(OUTPUT)/results && mkdir -p $(OUTPUT)/results
	$(Q)scripts/run-unit.sh $(OUTPUT)

# A fresh machine's view: only what scripts/deps.sh installs (needs deps for debootstrap).
check-fresh: deps
	$(Q)rm -rf $(OUTPUT)/results && mkdir -p $(OUTPUT)/results
	-$(Q)scripts/check-fresh.sh $(OUTPUT)
	$(Q)scripts/summarize.sh $(OUTPUT)/results fresh

# The install scenarios install the packages and run the image.
check-vm: all lab-old deb image
	$(Q)rm -rf $(OUTPUT)/results && mkdir -p $(OUTPUT)/results
	-$(Q)scripts/run-lab.sh $(OUTPUT) $(KERNEL)
	$(Q)scripts/summarize.sh $(OUTPUT)/results $(addprefix vm-,$(KERNEL))

# Two lab guests as two nodes of a fleet, both scraped by one Prometheus with the
# shipped alert rules (tests/vm/fleet.sh; the daemon runs from the OCI image).
check-fleet: all image
	$(Q)rm -rf $(OUTPUT)/results && mkdir -p $(OUTPUT)/results
	-$(Q)tests/vm/fleet.sh $(OUTPUT)
	$(Q)scripts/summarize.sh $(OUTPUT)/results vm-fleet

# Host benches, then per lab kernel the TCG wall-clock overhead bench and the icount one
# (instructions per map and unmap; docs/overhead.md).
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_LAB_BPF)
	$(Q)scripts/run-bench.sh $(OUTPUT)
	$(Q)for k in $(KERNEL); do tests/vm/run.sh --output $(OUTPUT) --kernel $$k --bench overhead || exit 1; done
	$(Q)for k in $(KERNEL); do tests/vm/run.sh --output $(OUTPUT) --kernel $$k --icount --bench overhead-icount || exit 1; done

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/vm/run.sh --output $(OUTPUT) --kernel $${DEMO_KERNEL:-iommufd} --demo

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/obj/*/*.d $(OUTPUT)/obj/*/*/*.d $(OUTPUT)/san/*/*.d \
	$(OUTPUT)/san/*/*/*.d $(OUTPUT)/bpf/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/tests-san/*.d \
	$(OUTPUT)/test-obj/*.d $(OUTPUT)/test-obj-san/*.d \
	$(OUTPUT)/lab/*.d $(OUTPUT)/lab32/*.d $(OUTPUT)/bench/*.d $(OUTPUT)/bench-peer/*.d \
	$(OUTPUT)/bench-bpf/*.d $(OUTPUT)/lab-bpf/*.d $(OUTPUT)/fuzz/obj/*/*.d \
	$(OUTPUT)/fuzz/obj/*/*/*.d $(OUTPUT)/fuzz/bin/*.d)
