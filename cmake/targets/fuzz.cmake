# cmake/targets/fuzz.cmake -- the libFuzzer targets of fuzz/ (docs/fuzzing.md).
# Only active with -DEIDOS_FUZZ=ON, clang and -DEIDOS_SANITIZE=ON, in a
# build directory of their own (fuzz/run uses build-fuzz):
#   CC=clang cmake -S . -B build-fuzz -DEIDOS_FUZZ=ON -DEIDOS_SANITIZE=ON
# The libraries the targets link (eidos_core, eidos_host, eidos_bind) get
# -fsanitize=fuzzer-no-link on top of EIDOS_SANITIZE's address,undefined,
# so libFuzzer sees their edges; every target is compiled and linked with
# -fsanitize=fuzzer,address,undefined and lands in <build>/fuzz/<name>.
#  * C targets: fuzz/<name>.c with LLVMFuzzerTestOneInput (version, smi_xml);
#  * Lua targets: fuzz/lua_target.c built once per adapter
#    fuzz/adapters/<name>.lua, with -DTARGET="eidos.fuzz.<name>".
option(EIDOS_FUZZ "Build the libFuzzer targets of fuzz/ (clang, with EIDOS_SANITIZE)" OFF)
if(NOT EIDOS_FUZZ)
  return()
endif()
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "EIDOS_FUZZ needs clang (configure a fresh build dir with CC=clang)")
endif()
if(NOT EIDOS_SANITIZE)
  message(FATAL_ERROR "EIDOS_FUZZ needs -DEIDOS_SANITIZE=ON (the libraries must carry ASan and UBSan)")
endif()

target_compile_options(eidos_core PRIVATE -fsanitize=fuzzer-no-link)
target_compile_options(eidos_bind PRIVATE -fsanitize=fuzzer-no-link)
target_compile_options(eidos_host PRIVATE -fsanitize=fuzzer-no-link)

set(EIDOS_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
set(EIDOS_FUZZ_DIR ${CMAKE_BINARY_DIR}/fuzz)

function(eidos_fuzz_target name)
  target_compile_options(fuzz_${name} PRIVATE ${EIDOS_FUZZ_FLAGS})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  set_target_properties(fuzz_${name} PROPERTIES OUTPUT_NAME ${name} RUNTIME_OUTPUT_DIRECTORY ${EIDOS_FUZZ_DIR})
endfunction()

# ---- C targets ----
foreach(name version smi_xml)
  add_executable(fuzz_${name} ${CMAKE_SOURCE_DIR}/fuzz/${name}.c)
  target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(fuzz_${name} PRIVATE eidos_core)
  eidos_fuzz_target(${name})
endforeach()

# ---- Lua targets: one per adapter ----
file(GLOB FUZZ_ADAPTERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/adapters/*.lua)
foreach(a ${FUZZ_ADAPTERS})
  get_filename_component(name ${a} NAME_WE)
  add_executable(fuzz_${name} ${CMAKE_SOURCE_DIR}/fuzz/lua_target.c ${CMAKE_SOURCE_DIR}/src/host/state.c
                 $<TARGET_OBJECTS:eidos_res>)
  target_compile_definitions(fuzz_${name} PRIVATE TARGET="eidos.fuzz.${name}"
                             EIDOS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  target_include_directories(fuzz_${name} PRIVATE ${LUA_INCLUDE_DIR} ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(fuzz_${name} PRIVATE -Wl,--whole-archive eidos_bind -Wl,--no-whole-archive eidos_core
                        ${LUA_STATIC} ${LUA_CJSON} m)
  target_link_options(fuzz_${name} PRIVATE -Wl,-E)
  eidos_fuzz_target(${name})
endforeach()
