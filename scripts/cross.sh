#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Cross builds with Debian's cross compilers (gcc-<triplet>):
#   arm64:   full build; unit, stress, demo and replay tests under qemu-user
#   s390x:   full build (library, tools, tests), not run
#   ppc64le, riscv64: full build when liburcu-dev:<arch> is installed, else
#            every library and test source compiled (not linked) against
#            the host's liburcu headers (their content does not depend on
#            the architecture; urcu/arch.h picks the target's code)
# Environment: ARCHES="arm64 s390x ppc64el riscv64" to pick, JOBS,
# SWIOTLB_STRESS_SCALE (default 0.3 under emulation), CROSS_INSTALL:
# architectures whose liburcu-dev:<arch> is installed when missing through
# multiarch (dpkg --add-architecture; needs root; default "arm64 s390x";
# "" installs nothing).  On Debian 12 here the ppc64el index of
# bookworm-security failed to download and riscv64 is not in bookworm, so
# those two are compile-only by default.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHES=${ARCHES:-"arm64 s390x ppc64el riscv64"}
JOBS=${JOBS:-2}
export SWIOTLB_STRESS_SCALE=${SWIOTLB_STRESS_SCALE:-0.3}
export CTEST_OUTPUT_ON_FAILURE=1
trace=../shared/traces/traceA.csv.gz

triplet() {
	case $1 in
	arm64) echo aarch64-linux-gnu ;; s390x) echo s390x-linux-gnu ;;
	ppc64el) echo powerpc64le-linux-gnu ;; riscv64) echo riscv64-linux-gnu ;;
	*) echo "cross.sh: unknown architecture '$1' (arm64 s390x ppc64el riscv64)" >&2; exit 2 ;;
	esac
}
have_urcu() { dpkg-query -W -f='${Status}' "liburcu-dev:$1" 2>/dev/null | grep -q "ok installed"; }

# Install what an architecture needs: the cross compiler (a host package)
# and, through multiarch, liburcu-dev:<arch>.  If the archive cannot serve
# that architecture (apt-get update fails), the architecture is removed
# again so apt keeps working, and the build falls back to compile-only.
install_arch() { # arch
	local t; t=$(triplet "$1")
	command -v "$t-gcc" >/dev/null || apt-get install -y -qq --no-install-recommends \
		"gcc-$t" "libc6-dev-$1-cross"
	have_urcu "$1" && return 0
	dpkg --add-architecture "$1"
	if apt-get update -qq && apt-get install -y -qq --no-install-recommends "liburcu-dev:$1"; then
		return 0
	fi
	echo "cross.sh: liburcu-dev:$1 cannot be installed here; compile-only for $1" >&2
	dpkg --remove-architecture "$1" 2>/dev/null && apt-get update -qq || true
}

full_build() { # arch triplet -> build-cross-<arch>
	local arch=$1 t=$2 dir=build-cross-$1 emu=()
	if [ "$arch" = arm64 ]; then
		# no -L /usr/$t: liburcu-dev:arm64 brings the multiarch libc6:arm64,
		# whose ld.so must be paired with its own libc.so (the cross
		# sysroot's ld.so with the multiarch libc hangs in pthread_create)
		emu=(-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-aarch64)
	fi
	PKG_CONFIG_LIBDIR=/usr/lib/$t/pkgconfig:/usr/share/pkgconfig \
	cmake -S . -B "$dir" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="${t%%-*}" \
		-DCMAKE_C_COMPILER="$t-gcc" -DSWIOTLB_WERROR=ON -DSWIOTLB_BUILD_BENCH=OFF \
		"${emu[@]}" >/dev/null
	cmake --build "$dir" -j"$JOBS" >/dev/null
	file -bL "$dir/libswiotlb.so.1" | cut -d, -f1-2
}

compile_only() { # arch triplet
	local t=$2 inc dir=build-cross-$1 n=0
	dir=build-cross-$1; rm -rf "$dir"; mkdir -p "$dir/inc"
	# the host's liburcu headers: urcu/ and the urcu*.h beside it
	inc=$(dirname "$(dirname "$(find /usr/include -path '*/urcu/urcu-bp.h' | head -1)")")
	ln -s "$inc"/urcu* "$dir/inc/"
	for f in src/*.c common/*.c tests/unit/*.c tests/stress/*.c tests/log/*.c examples/*.c \
		 examples/vhost-user-blk/*.c tools/*.c; do
		"$t-gcc" -std=gnu11 -D_GNU_SOURCE -DSWIOTLB_BUILDING -Wall -Wextra -Wshadow \
			-Wno-unused-parameter -Werror -O2 -pthread -Iinclude -Isrc -Icommon -Itools -I"$dir/inc" \
			-c "$f" -o "$dir/$(basename "$f" .c).o"
		n=$((n + 1))
	done
	echo "$n sources compiled, not linked (no liburcu-dev:$1)"
}

run_arm64() {
	local dir=build-cross-arm64
	command -v qemu-aarch64 >/dev/null || { echo "cross.sh: qemu-aarch64 missing (qemu-user)" >&2; exit 1; }
	# unit_fork: qemu-user 7.2 (Debian 12) aborts (cpu_exec: assertion
	# cpu == current_cpu) when the child of a multi-threaded process
	# creates a thread, with or without libswiotlb.  The unit, stress,
	# example and replay tests run through the emulator (ctest prefixes
	# CMAKE_CROSSCOMPILING_EMULATOR); the real-device and packaging tests
	# need host programs and are left to the native build.
	(cd "$dir" && ctest --timeout 900 -j"$JOBS" -L '^(unit|stress|example)$' -E '^(unit_fork)$')
	(cd "$dir" && ctest --timeout 900 -R '^replay_traceA$')
}

for a in ${CROSS_INSTALL-arm64 s390x}; do
	[[ " $ARCHES " == *" $a "* ]] && install_arch "$a"
done
for a in $ARCHES; do
	t=$(triplet "$a"); s=$(date +%s)
	command -v "$t-gcc" >/dev/null || { echo "cross.sh: $t-gcc missing (apt-get install gcc-$t libc6-dev-$a-cross)" >&2; exit 1; }
	printf '\n--- %s (%s) ---\n' "$a" "$t"
	if have_urcu "$a"; then
		full_build "$a" "$t"
	elif [ "$a" = arm64 ]; then
		echo "cross.sh: liburcu-dev:arm64 missing; the arm64 tests need it (CROSS_INSTALL=arm64)" >&2
		exit 1
	else
		compile_only "$a" "$t"
	fi
	[ "$a" = arm64 ] && run_arm64
	echo "$a: $(( $(date +%s) - s )) s"
done
