#!/usr/bin/env bash
# Install the Debian packages buddyvm needs. Idempotent: when everything is
# present it only asks dpkg and returns in well under a second.
#   scripts/install-deps.sh          build and test dependencies
#   scripts/install-deps.sh --bench  also bench peers (allocators, QEMU, fio)
#   scripts/install-deps.sh --plot   also gnuplot (balloon experiment plots)
set -euo pipefail

pkgs=(gcc make pkg-config libc6-dev libfdt-dev device-tree-compiler check
      libsubunit-dev clang-format libjansson-dev libseccomp-dev)
# libFuzzer (clang's -fsanitize=fuzzer) for the harnesses in tests/fuzz/.
pkgs+=(clang libclang-rt-14-dev)
# QEMU (microvm, PVH) and python3 (scripts/qmp.py) for the guest's QEMU
# integration tests (tests/integration/qemu.tests.sh).
pkgs+=(qemu-system-x86 python3)
# libvirt (libvirtd, virsh) for scripts/libvirt-guest and its tests
# (tests/integration/libvirt.tests.sh): the guest as a q35 libvirt domain.
pkgs+=(libvirt-daemon-system libvirt-clients)
# strace: a test makes a client's send fail at will (syscall injection).
pkgs+=(strace)
for arg in "$@"; do
	case "$arg" in
	--bench) pkgs+=(libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev
			qemu-system-x86 hyperfine fio) ;;
	--plot) pkgs+=(gnuplot-nox) ;;
	-h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install-deps: unknown option '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
