# Records what built this binary (git commit, dirty flag, build type, compiler) in a
# generated header, refreshed at every build so `orch` reports the tree it came from.
set(ORCH_BUILD_INFO_H "${CMAKE_BINARY_DIR}/generated/orch_build_info.h")
add_custom_target(orch_build_info ALL
  COMMAND ${CMAKE_COMMAND}
    -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${ORCH_BUILD_INFO_H}
    -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
    -DCOMPILER_ID=${CMAKE_CXX_COMPILER_ID} -DCOMPILER_VERSION=${CMAKE_CXX_COMPILER_VERSION}
    -P ${CMAKE_SOURCE_DIR}/cmake/WriteBuildInfo.cmake
  BYPRODUCTS ${ORCH_BUILD_INFO_H}
  COMMENT "orch build info")
