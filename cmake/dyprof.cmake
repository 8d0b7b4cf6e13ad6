# Helpers shared by every stage: one static library per src/<stage> folder, its *_test.cc files
# in one GoogleTest binary, and the data/ folder embedded as a generated source file.

function(dyprof_add_stage stage)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${stage}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "_test\\.cc$")
  list(FILTER srcs EXCLUDE REGEX "/main\\.cc$")
  if(NOT srcs)  # a stage with headers only (so far)
    add_library(dyprof_${stage} INTERFACE)
    target_include_directories(dyprof_${stage} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(dyprof_${stage} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(dyprof_${stage} STATIC ${srcs})
  target_include_directories(dyprof_${stage} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(dyprof_${stage} PUBLIC ${ARG_DEPS})
  target_compile_options(dyprof_${stage} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

function(dyprof_add_stage_tests stage)
  file(GLOB tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${stage}/*_test.cc)
  if(NOT tests)
    return()
  endif()
  add_executable(${stage}_test ${tests})
  target_link_libraries(${stage}_test PRIVATE dyprof_${stage} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${stage}_test PRIVATE
    DYPROF_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    DYPROF_BINARY="$<TARGET_FILE:dynamo-profiler>")
  if(stage STREQUAL "thorough")
    # Timing agreement between the bench client and the emulator: keep other tests off the cores.
    # Not run under ASan + UBSan (label nosanitize): the sanitizers slow the bench client and the
    # emulator unequally, so the timing-agreement tests fail for reasons unrelated to memory safety.
    # (One label: gtest_discover_tests flattens a list value. ctest -L/-LE take regexes, so
    # "unit-nosanitize" still matches -L unit.)
    gtest_discover_tests(${stage}_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit-nosanitize RUN_SERIAL TRUE)
  else()
    gtest_discover_tests(${stage}_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
  endif()
endfunction()

# Embeds every file under DIR into a library exposing dyprof::EmbeddedFile(path).
function(dyprof_embed_data target dir)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS RELATIVE ${dir} ${dir}/*)
  list(FILTER files EXCLUDE REGEX "(^|/)README\\.md$")
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_data.cc)
  set(abs_files)
  foreach(f ${files})
    list(APPEND abs_files ${dir}/${f})
  endforeach()
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DDIR=${dir} -DOUT=${out} -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${abs_files} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding data/ into the binary")
  add_library(${target} STATIC ${out})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
endfunction()
