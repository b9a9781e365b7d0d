# Precompiled headers for the heavy third-party headers (included after every target exists).
#
# Why: most of a translation unit's compile time here is parsing Protobuf, gRPC, abseil and
# nlohmann-json headers, again in every file. Two donor libraries precompile them once and the
# project's static libraries reuse their PCH (REUSE_FROM needs identical flags, so donors are
# static libraries like the consumers; executables and tests keep plain includes):
#   twi_pch_base  std, abseil status/strings, OpenSSL, Protobuf, nlohmann-json
#   twi_pch_grpc  the same plus grpcpp, for the libraries that serve or call gRPC
# Off by default, measured: a clean build of the quickstart targets (2 jobs, no ccache) took
# 338 CPU-s with these PCHs against 319 without. GCC 12 writes 200-250 MB .gch files and loading
# them costs most light translation units more than the parsing it saves; the PCH build also
# shows a -Warray-bounds false positive in sevsnp/node.cc. Kept as an opt-in (-DTWI_PCH=ON) for
# trying narrower header sets; fuzz builds (clang) never use it.
option(TWI_PCH "Precompile heavy third-party headers" OFF)

set(_twi_pch_base
  <algorithm> <array> <chrono> <cstdint> <cstring> <filesystem> <functional> <map> <memory>
  <mutex> <optional> <set> <span> <string> <string_view> <thread> <utility> <vector>
  <absl/status/status.h> <absl/status/statusor.h> <absl/strings/str_cat.h>
  <absl/strings/str_format.h> <absl/strings/str_join.h> <absl/strings/str_split.h>
  <openssl/evp.h> <openssl/x509.h>
  <google/protobuf/message.h> <google/protobuf/generated_message_reflection.h>
  <google/protobuf/io/coded_stream.h> <google/protobuf/wire_format_lite.h>
  <google/protobuf/extension_set.h> <google/protobuf/descriptor.h>
  <nlohmann/json.hpp>)
set(_twi_pch_grpc ${_twi_pch_base} <grpcpp/grpcpp.h>)

# Static libraries of the project (not the donors) under `dir`, recursively.
function(_twi_collect_libraries dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  set(result "")
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "STATIC_LIBRARY" AND NOT t MATCHES "^twi_pch_")
      list(APPEND result ${t})
    endif()
  endforeach()
  foreach(d IN LISTS subdirs)
    _twi_collect_libraries(${d} sub)
    list(APPEND result ${sub})
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

if(TWI_PCH AND NOT TWI_FUZZ)
  foreach(kind base grpc)
    add_library(twi_pch_${kind} STATIC ${PROJECT_SOURCE_DIR}/cmake/pch/pch.cc)
    target_link_libraries(twi_pch_${kind} PRIVATE absl::status absl::statusor absl::strings
                          absl::str_format OpenSSL::Crypto protobuf::libprotobuf nlohmann_json::nlohmann_json)
    target_precompile_headers(twi_pch_${kind} PRIVATE ${_twi_pch_${kind}})
  endforeach()
  target_link_libraries(twi_pch_grpc PRIVATE gRPC::grpc++)
  _twi_collect_libraries(${PROJECT_SOURCE_DIR} libs)
  foreach(t IN LISTS libs)
    # Libraries that reach grpc++ (directly or through spire_proto) take the gRPC PCH.
    get_target_property(deps ${t} LINK_LIBRARIES)
    if(t STREQUAL "spire_proto" OR "spire_proto" IN_LIST deps OR "gRPC::grpc++" IN_LIST deps OR
       "twi_host" STREQUAL t)
      target_precompile_headers(${t} REUSE_FROM twi_pch_grpc)
    else()
      target_precompile_headers(${t} REUSE_FROM twi_pch_base)
    endif()
    # ccache caches compiles that use a PCH only with these sloppiness settings.
    get_target_property(launcher ${t} CXX_COMPILER_LAUNCHER)
    if(launcher MATCHES "ccache")
      set_target_properties(${t} PROPERTIES CXX_COMPILER_LAUNCHER
        "${CMAKE_COMMAND};-E;env;CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime;${launcher}")
      set_target_properties(twi_pch_base twi_pch_grpc PROPERTIES CXX_COMPILER_LAUNCHER
        "${CMAKE_COMMAND};-E;env;CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime;${launcher}")
    endif()
  endforeach()
endif()
