# Small helpers shared by every folder's CMakeLists.txt.

# twi_library(NAME SOURCES ... DEPS ...): a static library rooted at the project root
# for includes ("attestors/core/bytes.h").
function(twi_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# twi_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with ctest.
# Tests run with the test data folder in TWI_TESTDATA and the build's bin dir in TWI_BIN_DIR.
function(twi_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TWI_TESTDATA="${PROJECT_SOURCE_DIR}/test/testdata"
    TWI_BIN_DIR="${PROJECT_BINARY_DIR}/bin"
    TWI_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TWI_TEST_CACHE_DIR="${PROJECT_BINARY_DIR}/test-cache")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(props TIMEOUT ${ARG_TIMEOUT})
  if(ARG_LABELS)
    list(APPEND props LABELS ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()

# twi_fuzz(NAME SOURCES ... DEPS ... CORPUS dir): a libFuzzer target, built only with TWI_FUZZ=ON
# (clang). Without TWI_FUZZ the same source is linked against a driver that replays the seed
# corpus, registered as a ctest test, so every fuzz target is exercised in every build.
function(twi_fuzz name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(ARG_CORPUS)
    # scripts/fuzz.sh reads the list of targets and their corpora from here.
    file(APPEND ${PROJECT_BINARY_DIR}/fuzz-targets.txt "${name} ${ARG_CORPUS}\n")
  endif()
  if(TWI_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    if(ARG_CORPUS)
      # libFuzzer writes the inputs it finds into its first corpus directory: a scratch one in
      # the build tree, so the seed corpus in the source tree stays as committed.
      set(scratch ${PROJECT_BINARY_DIR}/fuzz-smoke/${name})
      file(MAKE_DIRECTORY ${scratch})
      add_test(NAME ${name}.smoke COMMAND ${name} -runs=2000 -max_total_time=20 ${scratch} ${ARG_CORPUS})
    endif()
  else()
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/test/fuzz/replay_main.cc)
    if(ARG_CORPUS)
      add_test(NAME ${name}.replay COMMAND ${name} ${ARG_CORPUS})
    endif()
  endif()
endfunction()
