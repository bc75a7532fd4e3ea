# fakenvml.cmake -- the fake NVML library of the collector tests
# (spec/fixtures/fakenvml.c). It lands next to the test executables as
# libfakenvml.so, where spec/core/c/test_collect.c looks for it, and is
# named through EIDOS_NVML_LIB by the snapshot specs.
add_library(fakenvml SHARED ${CMAKE_SOURCE_DIR}/spec/fixtures/fakenvml.c)
target_include_directories(fakenvml PRIVATE ${CMAKE_SOURCE_DIR}/src)
set_target_properties(fakenvml PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
  C_VISIBILITY_PRESET default)
