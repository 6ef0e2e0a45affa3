#!/usr/bin/env bash
# Build and run every test of libswiotlb, from a clean checkout:
#   1. gcc, -Werror: unit, stress, example, tool and bench smoke tests
#   2. clang-14, -Werror: the same
#   3. ASan+UBSan (clang-14): the same
#   4. ThreadSanitizer, gcc and clang-14: the stress tests, the demo and the
#      cross-thread unit test (any report fails)
#   5. spin: every ordering model, as written (must hold) and with each
#      barrier removed (must fail)
#   6. abi: exported symbols = include/swiotlb.h (check-exports.sh), ABI
#      against the committed baseline abi/libswiotlb.abi (abi-check.sh)
#   7. pkg: Debian packages built, installed, consumer built against them
#      (deb-check.sh)
#   8. cross: arm64, s390x builds, ppc64le, riscv64 compiles;
#      arm64 tests under qemu-user (cross.sh)
#   9. verify: GenMC harnesses of the real src/ under RC11 and IMM
#      (verify/run.sh; builds GenMC once per machine into
#      /var/cache/genmc-0.10.3 from ../shared/tools/genmc, ~10 min, cached)
#  10. mutate (not in the default list; .ci/run runs it; ~3 min): weakens each barrier and
#      grace period of src/ in turn; fails unless a harness catches each
# Installs missing Debian packages first (scripts/deps.sh).
# Environment: JOBS (parallel build jobs), SWIOTLB_STRESS_SCALE (stress
# length multiplier), ONLY="gcc clang asan tsan models abi pkg cross verify"
# (the default) or any subset, plus "mutate".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=${JOBS:-$(nproc)}
ONLY=${ONLY:-"gcc clang asan tsan models abi pkg cross verify"}
export CTEST_OUTPUT_ON_FAILURE=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
# TSan: any report fails the run (exitcode), liburcu internals suppressed
# (it is not instrumented; see tests/tsan.supp for why each line is there).
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"

step() { printf '\n=== %s ===\n' "$*"; }

build() { # name cc extra-cmake-args...
  local name=$1 cc=$2; shift 2
  local dir=build-$name
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DSWIOTLB_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$JOBS"
}

run_ctest() { # name [ctest args]
  local name=$1; shift
  (cd "build-$name" && ctest --timeout 600 "$@")
}

start=$(date +%s)
for what in $ONLY; do
  case $what in
  gcc)    step "gcc -Werror";     build gcc gcc;      run_ctest gcc ;;
  clang)  step "clang-14 -Werror"; build clang clang-14; run_ctest clang ;;
  asan)   step "ASan+UBSan (clang-14)"
          build asan clang-14 -DSWIOTLB_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug
          run_ctest asan -LE bench ;;
  tsan)   step "TSan (gcc)";  build tsan-gcc gcc -DSWIOTLB_SANITIZE=thread -DSWIOTLB_BUILD_BENCH=OFF
          run_ctest tsan-gcc -R "^(stress_|demo_smoke|unit_crossthread|unit_regress|unit_hooks|example_device-thread|vhost_blk_io)"
          step "TSan (clang-14)"; build tsan-clang clang-14 -DSWIOTLB_SANITIZE=thread -DSWIOTLB_BUILD_BENCH=OFF
          run_ctest tsan-clang -R "^(stress_|demo_smoke|unit_crossthread|unit_regress|unit_hooks|example_device-thread|vhost_blk_io)" ;;
  models) step "spin models"; bash models/check.sh ;;
  abi)    step "ABI: exports and baseline"; bash scripts/abi-check.sh
          bash scripts/check-exports.sh build-abi/libswiotlb.so ;;
  pkg)    step "Debian packages"; bash scripts/deb-check.sh ;;
  cross)  step "cross builds, arm64 tests under qemu-user"; bash scripts/cross.sh ;;
  verify) step "GenMC: the real src/ under RC11 and IMM"; bash verify/run.sh ;;
  mutate) step "GenMC mutation check"; bash verify/mutate.sh ;;
  *) echo "test.sh: unknown step '$what' (use gcc clang asan tsan models abi pkg cross verify mutate)" >&2; exit 2 ;;
  esac
done
step "all tests passed in $(( $(date +%s) - start )) s"
