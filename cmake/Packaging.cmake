# Install layout and the Debian package.
#
#   bin/twi                                   the operators' CLI
#   lib/twi-attestor/twi-*-nodeattestor       the SPIRE plugins (plugin_cmd points here)
#   lib/twi-attestor/twi-workloadattestor
#   lib/twi-attestor/twi-server-credentialcomposer   key binding (issue 14)
#   share/doc/twi-attestor/README.md
#   share/twi-attestor/examples/...           agent.conf, server.conf, quickstart configs
#
# `cpack -G DEB` in the build dir writes twi-attestor_<version>_amd64.deb (prefix /usr); its
# Depends are computed by dpkg-shlibdeps from what the binaries actually link, so the static
# gRPC/Protobuf/abseil (cmake/StaticDeps.cmake) do not appear and OpenSSL does; libcurl and
# tpm2-tss, loaded with dlopen, are named below.

set(TWI_PLUGIN_DIR lib/twi-attestor)

install(TARGETS twi RUNTIME DESTINATION bin COMPONENT twi)
install(TARGETS twi-agent-nodeattestor twi-server-nodeattestor twi-workloadattestor
        RUNTIME DESTINATION ${TWI_PLUGIN_DIR} COMPONENT twi)
install(TARGETS twi-agent-keymanager RUNTIME DESTINATION ${TWI_PLUGIN_DIR} COMPONENT twi)
install(TARGETS twi-server-credentialcomposer RUNTIME DESTINATION ${TWI_PLUGIN_DIR} COMPONENT twi)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/twi-attestor COMPONENT twi)
install(FILES ${PROJECT_SOURCE_DIR}/examples/agent.conf ${PROJECT_SOURCE_DIR}/examples/server.conf
        DESTINATION share/twi-attestor/examples COMPONENT twi)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/azure
        DESTINATION share/twi-attestor/examples COMPONENT twi)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/gcp
        DESTINATION share/twi-attestor/examples COMPONENT twi)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/quickstart
        DESTINATION share/twi-attestor/examples COMPONENT twi)

set(CPACK_PACKAGE_NAME twi-attestor)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "twi-attestor")
set(CPACK_PACKAGE_CONTACT "twi-attestor maintainers <twi-attestor@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "SPIRE node and workload attestor plugins for confidential VMs (AMD SEV-SNP)")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Strip: smaller package, and the binaries whose sha256 goes into plugin_checksum are the
# shipped ones (debug info stays in the build tree).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # twi-attestor_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from dpkg-shlibdeps (package dpkg-dev)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
if(TWI_STATIC_DEPS)
  # libcurl and tpm2-tss are dlopen'ed (attestors/collateral/curl_lazy.cc,
  # attestors/tpm/tss2_lazy.cc), invisible to dpkg-shlibdeps: name the packages that ship the
  # libraries found at configure time.
  find_library(TWI_TSS2_ESYS_SO NAMES tss2-esys)
  find_library(TWI_TSS2_MU_SO NAMES tss2-mu)
  find_library(TWI_TSS2_TCTILDR_SO NAMES tss2-tctildr)
  find_library(TWI_TSS2_RC_SO NAMES tss2-rc)
  set(_twi_dlopened)
  foreach(_twi_lib ${CURL_LIBRARY_RELEASE} ${TWI_TSS2_ESYS_SO} ${TWI_TSS2_MU_SO}
                   ${TWI_TSS2_TCTILDR_SO} ${TWI_TSS2_RC_SO})
    get_filename_component(_twi_real "${_twi_lib}" REALPATH)
    execute_process(COMMAND dpkg-query -S ${_twi_real} OUTPUT_VARIABLE _twi_pkg
                    ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    string(REGEX REPLACE ":.*" "" _twi_pkg "${_twi_pkg}")
    if(_twi_pkg)
      list(APPEND _twi_dlopened "${_twi_pkg}")
    endif()
  endforeach()
  list(JOIN _twi_dlopened ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
endif()
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR}/package)
include(CPack)

if(TWI_TESTS)
  # The package as an operator gets it: layout, computed Depends, installed binaries run and
  # load through the go-plugin host (when built).
  add_test(NAME package.contents_depends_and_installed_run
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/package-check.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_BINARY_DIR}/bin/gohost)
  set_tests_properties(package.contents_depends_and_installed_run PROPERTIES LABELS "e2e;package" TIMEOUT 300)
endif()
