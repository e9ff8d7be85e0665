# Writes OUTPUT from TEMPLATE with the build's identity (daemon/build_info.hpp). Run
# with `cmake -P` at every build (daemon/CMakeLists.txt), so the commit is the one
# built, not the one CMake was configured at; configure_file rewrites OUTPUT only
# when its text changes, so an unchanged tree recompiles nothing.
#
# Inputs: SOURCE_DIR, TEMPLATE, OUTPUT, BUILD_VERSION, BUILD_TYPE, BUILD_COMPILER, and
# COMMIT_IF_NOT_GIT: the commit to report when SOURCE_DIR is not a git checkout (an
# exported tree), else "unknown".
set(BUILD_COMMIT unknown)
if(COMMIT_IF_NOT_GIT)
  set(BUILD_COMMIT ${COMMIT_IF_NOT_GIT})
endif()
find_program(GIT git)
if(GIT)
  # The source tree must be the top of its own checkout: a release tarball unpacked
  # inside some other repository must not take that repository's commit.
  execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} rev-parse --show-toplevel
                  OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE top_failed ERROR_QUIET)
  file(REAL_PATH "${SOURCE_DIR}" source_real)
  if(NOT top_failed AND top)
    file(REAL_PATH "${top}" top_real)
  endif()
  if(NOT top_failed AND top_real STREQUAL source_real)
    execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                    OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE commit_failed ERROR_QUIET)
    if(NOT commit_failed AND commit)
      set(BUILD_COMMIT ${commit})
      execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} diff --quiet HEAD --
                      RESULT_VARIABLE dirty ERROR_QUIET)
      if(dirty)
        string(APPEND BUILD_COMMIT "-dirty")
      endif()
    endif()
  endif()
endif()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE none)
endif()
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)
