# faultfs.cmake -- the LD_PRELOAD fault injector of the replacement specs
# (spec/fixtures/faultfs.c): build/libfaultfs.so, named by
# spec/e2e/replace_spec.lua. Test code only; never installed.
add_library(faultfs SHARED ${CMAKE_SOURCE_DIR}/spec/fixtures/faultfs.c)
target_link_libraries(faultfs PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(faultfs PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
  C_VISIBILITY_PRESET default)
