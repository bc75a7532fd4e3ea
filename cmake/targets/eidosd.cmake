# cmake/targets/eidosd.cmake -- eidosd, the HTTP API server: a second
# executable built from the same static libraries as eidos (eidos_core,
# eidos_bind, the embedded resource tree) plus src/server/*.c and
# src/host/state.c, linked against libh2o-evloop and libssl. Kept out of
# `eidos` so the CLI starts as fast as a bare Lua VM; `eidos serve` execs
# it. api/openapi.yaml is compiled in (served at /openapi.yaml), and so is
# every file of ui/ (the console, src/server/console.c): eidosd's alone, the
# CLI does not carry them. zlib gzips the console's assets once at start.
#
# This file doubles as the script that turns api/openapi.yaml into C:
#   cmake -DEIDOSD_EMBED_IN=api/openapi.yaml -DEIDOSD_EMBED_OUT=gen/openapi.c -P eidosd.cmake
if(EIDOSD_EMBED_OUT)
  file(READ "${EIDOSD_EMBED_IN}" hex HEX)
  string(LENGTH "${hex}" nhex)
  math(EXPR nbytes "${nhex} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
  file(WRITE "${EIDOSD_EMBED_OUT}.tmp"
    "/* generated from api/openapi.yaml by cmake/targets/eidosd.cmake -- do not edit */\n"
    "#include <stddef.h>\n"
    "const char srv_openapi_yaml[] = {${arr}0};\n"
    "const size_t srv_openapi_yaml_len = ${nbytes};\n")
  file(RENAME "${EIDOSD_EMBED_OUT}.tmp" "${EIDOSD_EMBED_OUT}")
  return()
endif()

find_library(H2O_EVLOOP_LIB NAMES h2o-evloop)
find_library(SSL_LIB NAMES ssl)
find_library(CRYPTO_LIB NAMES crypto)
find_path(H2O_INCLUDE_DIR h2o.h)
find_library(Z_LIB NAMES z)
if(NOT H2O_EVLOOP_LIB OR NOT SSL_LIB OR NOT CRYPTO_LIB OR NOT H2O_INCLUDE_DIR OR NOT Z_LIB)
  message(WARNING "eidosd is not built: libh2o-evloop-dev, libssl-dev or zlib1g-dev is missing (scripts/install-deps)")
  return()
endif()

add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/gen/openapi.c
  COMMAND ${CMAKE_COMMAND} -DEIDOSD_EMBED_IN=${CMAKE_SOURCE_DIR}/api/openapi.yaml
          -DEIDOSD_EMBED_OUT=${CMAKE_BINARY_DIR}/gen/openapi.c -P ${CMAKE_CURRENT_LIST_FILE}
  DEPENDS ${CMAKE_SOURCE_DIR}/api/openapi.yaml ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Embedding api/openapi.yaml")

# ui/ -> the table srv_ui_files (cmake/embed.c), for eidosd only
eidos_file_list(UI_FILES ${CMAKE_BINARY_DIR}/gen/ui_list.txt UI_DEPS ${CMAKE_SOURCE_DIR}/ui/*)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/gen/ui_embed.c
  COMMAND eidos_embedgen --table=srv_ui ${CMAKE_BINARY_DIR}/gen/ui_embed.c ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/gen/ui_list.txt
  DEPENDS eidos_embedgen ${UI_DEPS} ${CMAKE_BINARY_DIR}/gen/ui_list.txt
  COMMENT "Embedding ui/ (the console) into eidosd")

file(GLOB EIDOSD_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/server/*.c)
add_executable(eidosd ${EIDOSD_SRC} ${CMAKE_SOURCE_DIR}/src/host/state.c
               ${CMAKE_BINARY_DIR}/gen/openapi.c ${CMAKE_BINARY_DIR}/gen/ui_embed.c $<TARGET_OBJECTS:eidos_res>)
# libh2o-evloop: the evloop backend, not libuv
target_compile_definitions(eidosd PRIVATE H2O_USE_LIBUV=0)
target_include_directories(eidosd PRIVATE ${LUA_INCLUDE_DIR} ${CMAKE_SOURCE_DIR}/src ${H2O_INCLUDE_DIR})
target_link_libraries(eidosd PRIVATE -Wl,--whole-archive eidos_bind -Wl,--no-whole-archive eidos_core
                      ${LUA_STATIC} ${LUA_CJSON} ${H2O_EVLOOP_LIB} ${SSL_LIB} ${CRYPTO_LIB} ${Z_LIB} Threads::Threads m)
target_link_options(eidosd PRIVATE -Wl,-E -Wl,--as-needed)

install(TARGETS eidosd RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/ui DESTINATION share/eidos)
