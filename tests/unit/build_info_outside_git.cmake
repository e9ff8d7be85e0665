# A build from a tree that is not a git checkout (a release tarball, even one unpacked
# inside another repository) says "unknown" for the commit: daemon/build_info.cmake run
# on a copy of its template in a fresh directory under the build tree.
# Inputs: SCRIPT (daemon/build_info.cmake), TEMPLATE, WORK (a scratch directory).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/src)
execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${WORK}/src -DTEMPLATE=${TEMPLATE}
                        -DOUTPUT=${WORK}/build_info.cpp -DBUILD_VERSION=9.9.9
                        -DBUILD_TYPE=Release "-DBUILD_COMPILER=GNU 12.2.0" -P ${SCRIPT}
                RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "build_info.cmake failed: ${failed}")
endif()
file(READ ${WORK}/build_info.cpp text)
if(NOT text MATCHES "\"9.9.9\", \"unknown\", \"Release\",")
  message(FATAL_ERROR "want commit \"unknown\" outside git, got:\n${text}")
endif()
message(STATUS "outside git: commit unknown")
