# Lean binaries: link gRPC, Protobuf, abseil, re2, c-ares and upb from their static archives
# (Debian ships them beside the shared objects) instead of ~80 shared libraries.
#
# Why: a plugin is exec'd by SPIRE and must answer the go-plugin handshake quickly. With the
# shared libraries each start paid the dynamic loader's relocations and every library's static
# initialisers (~40 ms, 20 MiB RSS); statically linked, only the objects actually used are
# pulled in. OpenSSL, libcurl, zlib and tpm2-tss stay shared: they get security updates from
# the distribution, and tss2 loads its TCTIs with dlopen anyway.
#
# Measured (scripts/bench-startup.py) the start is dominated by the dynamic loader's symbol
# lookups, so beyond the archives: spdlog and fmt are used header-only (Debian ships no
# archives; only plugin/runtime/log.cc includes them), libstdc++/libgcc are linked statically
# (4300 symbol relocations at every start), and --as-needed drops libraries a binary does not
# call. With --gc-sections lld counts only references from live code, so the agent and workload
# plugins, which link the SEV-SNP node library but never run its server-side KDS client, do
# not load libcurl and its ~25 dependencies.
#
# How: the imported targets found by find_package keep their names and dependency graph; only
# their library files are swapped for the .a next to them. Every binary therefore links one
# copy of each library (no mix of a static and a shared abseil). lld resolves archives in any
# order; with GNU ld, CMake's dependency-ordered link line plus LINK_INTERFACE_MULTIPLICITY
# handles abseil's cycles. TWI_STATIC_DEPS=OFF restores the shared libraries.
#
# libcurl and tpm2-tss are loaded on first use: the binaries link small shims
# (attestors/collateral/curl_lazy.cc, attestors/tpm/tss2_lazy.cc) that define the entry points
# twi calls and forward to the library dlopen'ed at the first call. Most starts never fetch
# collateral or open a TPM, and the agent used to load five tss2 libraries at every exec (the
# server two, for MU). A library that cannot be loaded fails its calls with an error naming it
# and dlerror; Packaging.cmake names the packages by hand (dpkg-shlibdeps cannot see a dlopen).
# The tss2 shim replaces what the PkgConfig::TSS2_* targets link (attestors/tpm/CMakeLists.txt).
option(TWI_STATIC_DEPS "Link gRPC, Protobuf, abseil, re2, c-ares statically" ON)

# The .a beside a shared library path, or "" when there is none.
function(_twi_static_sibling out path)
  set(result "")
  if(path MATCHES "^(.*/lib[^/]+)\\.so(\\.[0-9.]+)?$")
    if(EXISTS "${CMAKE_MATCH_1}.a")
      set(result "${CMAKE_MATCH_1}.a")
    endif()
  endif()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

function(_twi_make_static target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    return()
  endif()
  get_target_property(configs ${target} IMPORTED_CONFIGURATIONS)
  set(props IMPORTED_LOCATION)
  if(configs)
    foreach(c IN LISTS configs)
      string(TOUPPER "${c}" c)
      list(APPEND props IMPORTED_LOCATION_${c})
    endforeach()
  endif()
  set(swapped FALSE)
  foreach(p IN LISTS props)
    get_target_property(loc ${target} ${p})
    if(loc)
      _twi_static_sibling(a "${loc}")
      if(a)
        set_target_properties(${target} PROPERTIES ${p} "${a}")
        set(swapped TRUE)
      endif()
    endif()
  endforeach()
  if(swapped)
    # A shared imported target whose file is now an archive: no soname to record.
    set_target_properties(${target} PROPERTIES IMPORTED_NO_SONAME TRUE IMPORTED_LINK_INTERFACE_MULTIPLICITY 3)
  endif()
endfunction()

if(TWI_STATIC_DEPS)
  get_directory_property(_twi_imported IMPORTED_TARGETS)
  foreach(t IN LISTS _twi_imported)
    if(t MATCHES "^absl::" OR t MATCHES "^gRPC::(gpr|grpc|grpc\\+\\+|address_sorting|upb)$" OR
       t STREQUAL "protobuf::libprotobuf" OR t STREQUAL "c-ares::cares")
      _twi_make_static(${t})
    endif()
  endforeach()
  # re2 comes from pkg-config as a bare "-lre2" name on an INTERFACE target.
  if(TARGET re2::re2)
    find_library(TWI_RE2_STATIC NAMES libre2.a)
    if(TWI_RE2_STATIC)
      set_target_properties(re2::re2 PROPERTIES INTERFACE_LINK_LIBRARIES "${TWI_RE2_STATIC}")
    endif()
  endif()
  # What the shared libprotobuf brought along through its own DT_NEEDED.
  find_package(ZLIB REQUIRED)
  set_property(TARGET protobuf::libprotobuf APPEND PROPERTY INTERFACE_LINK_LIBRARIES ZLIB::ZLIB Threads::Threads)
  set_target_properties(spdlog::spdlog_header_only PROPERTIES
                        INTERFACE_LINK_LIBRARIES "Threads::Threads;fmt::fmt-header-only")
  set(TWI_SPDLOG spdlog::spdlog_header_only)
  # libcurl is loaded on first use (attestors/collateral/curl_lazy.cc). The Debian package
  # then needs it named by hand: dpkg-shlibdeps cannot see a dlopen.
  add_library(twi_curl_lazy STATIC ${PROJECT_SOURCE_DIR}/attestors/collateral/curl_lazy.cc)
  target_include_directories(twi_curl_lazy PUBLIC ${CURL_INCLUDE_DIRS})
  target_link_libraries(twi_curl_lazy PUBLIC ${CMAKE_DL_LIBS})
  set(TWI_CURL twi_curl_lazy)
  # Not under the sanitizers: their runtimes interpose operator new/delete from a shared libasan.
  if(NOT TWI_SANITIZE AND NOT TWI_FUZZ)
    add_link_options(-static-libstdc++ -static-libgcc)
  endif()
else()
  set(TWI_SPDLOG spdlog::spdlog)
  set(TWI_CURL CURL::libcurl)
endif()
add_link_options(LINKER:--as-needed)
if(TWI_HAVE_LLD)
  add_compile_options(-ffunction-sections -fdata-sections)
  add_link_options(LINKER:--gc-sections)
endif()
