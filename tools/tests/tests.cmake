# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests of the operator tools (included from tools/CMakeLists.txt).  The
# real traces live next to the source tree (../shared/traces); tests that
# need them skip (exit 77 or "SKIPPED") when they are absent.
find_package(Python3 COMPONENTS Interpreter)

set(SWIOTLB_TRACES ${CMAKE_SOURCE_DIR}/../shared/traces)
set(SWIOTLB_TRACE_A ${SWIOTLB_TRACES}/traceA.csv.gz)
set(TOOLS_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/tests)
set(TOOLS_DATA ${TOOLS_TESTS}/data)
set(REPLAY $<TARGET_FILE:swiotlb-replay>)
set(CONVERT ${CMAKE_CURRENT_SOURCE_DIR}/swiotlb-trace-convert)
set(CAPTURE ${CMAKE_CURRENT_SOURCE_DIR}/swiotlb-capture)

# expect_test(NAME [VAR=VALUE ...] -- COMMAND...): see tests/expect.cmake.
function(expect_test name)
  set(defs)
  set(cmd)
  set(in_cmd FALSE)
  foreach(a IN LISTS ARGN)
    if(in_cmd)
      list(APPEND cmd "${a}")
    elseif(a STREQUAL "--")
      set(in_cmd TRUE)
    else()
      list(APPEND defs "-D${a}")
    endif()
  endforeach()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} "-DEMU=${CMAKE_CROSSCOMPILING_EMULATOR}"
           "-DPYTHON=${Python3_EXECUTABLE}" ${defs} -P ${TOOLS_TESTS}/expect.cmake -- ${cmd})
  set_tests_properties(${name} PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED" TIMEOUT 120)
endfunction()

# The byte-verified check replay of trace A (pinned: the per-area used
# counts are compared with the kernel's).  A plain command line, so a
# cross-compiling emulator applies.
add_test(NAME replay_traceA
  COMMAND swiotlb-replay --skip-missing --quiet --no-sizing ${SWIOTLB_TRACE_A})
set_tests_properties(replay_traceA PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

# Sizing advisor on trace A.  --no-pin keeps these fast on a loaded
# machine; the exit codes do not depend on the area choice (8M serves the
# trace from any one area, 1M is below its peak of live slots).
add_test(NAME sizing_traceA_big_pool
  COMMAND swiotlb-replay --skip-missing --quiet --no-pin --no-sizing --pool-size 8M
          ${SWIOTLB_TRACE_A})
set_tests_properties(sizing_traceA_big_pool PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
expect_test(replay_bad_segments RC=2 "REGEX=--segment-slots: a power of two from 128 to 4096"
  -- ${REPLAY} --segment-slots 128,100 x.csv)
expect_test(sizing_mini_two_segments "REGEX=128-slot segments" "REGEX=1024-slot segments"
  -- ${REPLAY} --no-pin --no-check --segment-slots 128,1024 ${TOOLS_DATA}/mini.csv)
expect_test(sizing_traceA_shortfall RC=3 SKIP_IF_MISSING=${SWIOTLB_TRACE_A}
  "REGEX=CAPACITY SHORTFALL" -- ${REPLAY} --no-pin --no-sizing --pool-size 1M ${SWIOTLB_TRACE_A})
if(Python3_Interpreter_FOUND)
  expect_test(sizing_traceA_json SKIP_IF_MISSING=${SWIOTLB_TRACE_A}
    "JSON_CHECK=d['sizing']['static'][0]['found'] and d['sizing']['static'][0]['size'] >= d['peak_live_slots'] * 2048 and d['sizing']['coco_default']['size'] == 256 << 20 and d['exit_status'] == 0"
    -- ${REPLAY} --no-pin --no-check --ram 4G --json ${SWIOTLB_TRACE_A})
endif()

# Replay options and bad input.
add_test(NAME replay_skip_missing COMMAND swiotlb-replay --skip-missing
         ${CMAKE_CURRENT_BINARY_DIR}/no-such-trace.csv)
set_tests_properties(replay_skip_missing PROPERTIES PASS_REGULAR_EXPRESSION "SKIPPED: .*not found")
expect_test(replay_missing_file RC=2 "REGEX=No such file" -- ${REPLAY} /nonexistent/trace.csv)
expect_test(replay_bad_option RC=2 "REGEX=unknown option '--bogus'" -- ${REPLAY} --bogus x.csv)
expect_test(replay_bad_size RC=2 "REGEX=--pool-size: invalid size" -- ${REPLAY} --pool-size 12Q x.csv)
expect_test(replay_no_trace RC=2 "REGEX=no trace file given" -- ${REPLAY} --no-pin)
expect_test(replay_garbage_rows RC=2 "REGEX=line 3: malformed row.*2 malformed rows"
  -- ${REPLAY} --no-pin ${TOOLS_DATA}/garbage.csv)
expect_test(replay_no_header RC=2 "REGEX=no valid CSV header" -- ${REPLAY} ${TOOLS_DATA}/mini-raw.txt)
expect_test(replay_mini_ok "REGEX=RESULT: OK" "REGEX=syncs performed 2, in-unmap syncs skipped 1"
  -- ${REPLAY} --no-pin ${TOOLS_DATA}/mini.csv)

if(Python3_Interpreter_FOUND)
  # Raw ftrace text -> CSV.
  add_test(NAME trace_convert_traceA
    COMMAND ${Python3_EXECUTABLE} ${TOOLS_TESTS}/convert_equal.py ${CONVERT}
            ${SWIOTLB_TRACES}/raw-A/trace.txt.gz ${SWIOTLB_TRACE_A})
  set_tests_properties(trace_convert_traceA PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
  expect_test(trace_convert_mini "REGEX=unmatched unmap: 1" "REGEX=1 lines not understood"
    COMPARE_A=${CMAKE_CURRENT_BINARY_DIR}/mini.csv COMPARE_B=${TOOLS_DATA}/mini.csv
    -- ${Python3_EXECUTABLE} ${CONVERT} ${TOOLS_DATA}/mini-raw.txt -o ${CMAKE_CURRENT_BINARY_DIR}/mini.csv)
  expect_test(trace_convert_bounced_only "REGEX=only swiotlb_bounced"
    -- ${Python3_EXECUTABLE} ${CONVERT} ${TOOLS_DATA}/bounced-raw.txt -o ${CMAKE_CURRENT_BINARY_DIR}/bounced.csv)
  set_tests_properties(trace_convert_bounced_only PROPERTIES FIXTURES_SETUP bounced_csv)
  expect_test(replay_bounced_histogram RC=4 "REGEX=no lifetimes.*0000:00:03.0: 1 bounces"
    -- ${REPLAY} ${CMAKE_CURRENT_BINARY_DIR}/bounced.csv)
  set_tests_properties(replay_bounced_histogram PROPERTIES FIXTURES_REQUIRED bounced_csv)
  expect_test(trace_convert_missing RC=2 "REGEX=cannot read input" -- ${Python3_EXECUTABLE} ${CONVERT} /nonexistent.txt)
  expect_test(trace_convert_garbage RC=1 "REGEX=no swiotlb events" -- ${Python3_EXECUTABLE} ${CONVERT} ${TOOLS_DATA}/garbage.csv)
  expect_test(trace_convert_bad_option RC=2 "REGEX=unrecognized arguments: --bogus" -- ${Python3_EXECUTABLE} ${CONVERT} --bogus x)
endif()

# Capture: no tracefs in tests; --help, argument errors and the probes.
expect_test(capture_help "REGEX=Usage: swiotlb-capture.*--portable" -- ${CAPTURE} --help)
expect_test(capture_bad_option RC=2 "REGEX=unknown option '--bogus'" -- ${CAPTURE} --bogus)
expect_test(capture_nothing_to_record RC=2 "REGEX=nothing to record" -- ${CAPTURE})
expect_test(capture_both_modes RC=2 "REGEX=either --seconds or a command" -- ${CAPTURE} -s 1 -- true)
expect_test(capture_bad_seconds RC=2 "REGEX=--seconds: a positive whole number" -- ${CAPTURE} -s 1x)
expect_test(capture_probes_raw_A SKIP_IF_MISSING=${SWIOTLB_TRACES}/raw-A/kprobe_events.txt
  COMPARE_A=${CMAKE_CURRENT_BINARY_DIR}/probes.txt
  COMPARE_B=${SWIOTLB_TRACES}/raw-A/kprobe_events.txt
  STDOUT_FILE=${CMAKE_CURRENT_BINARY_DIR}/probes.txt -- ${CAPTURE} --print-probes)
expect_test(capture_probes_portable "REGEX=dev=\\$arg1:x64 orig=\\$arg2:x64.*attrs=\\$arg7:x64"
  "NOT_REGEX=%[a-z]|@io_tlb" -- ${CAPTURE} --portable --print-probes)
expect_test(capture_dry_run "REGEX=kprobe_events.*events/swtlb/enable.*PHASE start.*sleep 3.*gzip > out.txt.gz.*-o out.csv.gz"
  -- ${CAPTURE} --dry-run --tracefs /nonexistent-tracefs -o out -s 3)

# The kernel's CoCo default (6% of RAM, clamped to 64M..1G, power of two)
# on the small trace: below the clamp, inside it, above it.
if(Python3_Interpreter_FOUND)
  foreach(case "512M;67108864" "2G;134217728" "32G;1073741824")
    list(GET case 0 ram)
    list(GET case 1 want)
    expect_test(sizing_coco_${ram}
      "JSON_CHECK=d['sizing']['coco_default']['size'] == ${want} and d['sizing']['coco_default']['serves']"
      -- ${REPLAY} --no-pin --no-check --ram ${ram} --json ${TOOLS_DATA}/mini.csv)
  endforeach()
endif()

# The static search is honest: for each placement the reported size serves
# every map and one segment less does not (checked by the byte-verified
# replay), on a generated trace that strict_cursor fragments.
if(Python3_Interpreter_FOUND)
  add_test(NAME sizing_search_honest
    COMMAND ${Python3_EXECUTABLE} ${TOOLS_TESTS}/sizing_search.py ${CMAKE_CURRENT_BINARY_DIR}
            ${CMAKE_CROSSCOMPILING_EMULATOR} -- $<TARGET_FILE:swiotlb-replay>)
  set_tests_properties(sizing_search_honest PROPERTIES TIMEOUT 120)
endif()
