# SPDX-License-Identifier: LGPL-2.1-or-later
# cmake -DFUZZER=... -DCORPUS=... -DWORKDIR=... -DSECONDS=... -P run_fuzz.cmake
# Copies the seed corpus to WORKDIR/corpus and fuzzes for SECONDS seconds
# (inputs up to 4 KiB: programs of many calls); fails (with libFuzzer's
# report in the output) if a crash is found.  The final stats line gives
# the coverage reached (cov: edges, ft: features) and exec/s.
foreach(v FUZZER CORPUS WORKDIR SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzz.cmake: ${v} not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}/corpus" "${WORKDIR}/artifacts")
file(GLOB _seeds "${CORPUS}/*")
if(_seeds)
  file(COPY ${_seeds} DESTINATION "${WORKDIR}/corpus")
endif()
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -max_len=4096 -rss_limit_mb=2048 -timeout=20
          -print_final_stats=1 -artifact_prefix=${WORKDIR}/artifacts/
          "${WORKDIR}/corpus"
  WORKING_DIRECTORY "${WORKDIR}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz_api failed (exit ${rc}); reproducer in ${WORKDIR}/artifacts/")
endif()
