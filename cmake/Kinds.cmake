# TWI_KINDS: the evidence kinds built into the plugins, twi_config and twi-sim.
#
# Platform teams that run one kind of VM build lean plugins: -DTWI_KINDS=sev-snp compiles and
# links no TDX, TPM, Azure or GCP code (nor the event log and Intel DCAP collateral they use),
# which is what the quickstart builds. SEV-SNP is always in. The default is every kind.
#
# With a partial list the twi CLI, the tests, the benchmarks and the Debian package are not
# built: they cover every kind. TWI_TESTS=ON is refused (a test run that skips kinds would look
# green while testing less); twi and the package are skipped with a status message.
#
# twi_kinds.h (generated) defines TWI_WITH_TDX, TWI_WITH_TPM, TWI_WITH_AZURE, TWI_WITH_GCP (0/1)
# and TWI_KINDS_LIST; plugin/config/kinds.h turns them into constants for the registration seams
# and the "not built" refusals.
set(TWI_ALL_KINDS sev-snp tdx tpm azure gcp)
set(TWI_KINDS "${TWI_ALL_KINDS}" CACHE STRING
    "Evidence kinds built into the plugins (list of sev-snp, tdx, tpm, azure, gcp; sev-snp is always in)")

set(_twi_kinds sev-snp)
foreach(k IN LISTS TWI_KINDS)
  string(STRIP "${k}" k)
  if(k STREQUAL "")
    continue()
  endif()
  if(NOT k IN_LIST TWI_ALL_KINDS)
    message(FATAL_ERROR "TWI_KINDS: unknown evidence kind \"${k}\"; the kinds are "
            "sev-snp;tdx;tpm;azure;gcp (a CMake list, e.g. -DTWI_KINDS=\"sev-snp;tpm\")")
  endif()
  list(APPEND _twi_kinds ${k})
endforeach()
# In the canonical order, each once, so the list printed by the binaries is stable.
set(TWI_KINDS_BUILT "")
foreach(k IN LISTS TWI_ALL_KINDS)
  if(k IN_LIST _twi_kinds)
    list(APPEND TWI_KINDS_BUILT ${k})
  endif()
endforeach()

foreach(k tdx tpm azure gcp)
  string(TOUPPER ${k} K)
  if(k IN_LIST TWI_KINDS_BUILT)
    set(TWI_WITH_${K} 1)
  else()
    set(TWI_WITH_${K} 0)
  endif()
endforeach()
# Azure CVMs quote a vTPM and run on SEV-SNP or TDX; GCP quotes a vTPM and carries SEV-SNP or TDX
# evidence: their verifiers are built on the tpm and tdx ones.
foreach(k azure gcp)
  string(TOUPPER ${k} K)
  if(TWI_WITH_${K} AND NOT (TWI_WITH_TPM AND TWI_WITH_TDX))
    message(FATAL_ERROR "TWI_KINDS=${TWI_KINDS}: ${k} needs tpm and tdx (its evidence is a vTPM "
            "quote with SEV-SNP or TDX evidence); add them or leave ${k} out")
  endif()
endforeach()

list(LENGTH TWI_KINDS_BUILT _twi_n)
list(LENGTH TWI_ALL_KINDS _twi_all_n)
if(_twi_n EQUAL _twi_all_n)
  set(TWI_KINDS_ALL ON)
else()
  set(TWI_KINDS_ALL OFF)
  if(TWI_TESTS)
    message(FATAL_ERROR "TWI_KINDS=${TWI_KINDS_BUILT} leaves evidence kinds out, but the tests "
            "cover every kind: configure with -DTWI_TESTS=OFF -DTWI_BENCH=OFF, or without "
            "TWI_KINDS (every kind) to run them")
  endif()
  message(STATUS "TWI_KINDS=${TWI_KINDS_BUILT}: plugins and twi-sim only; the twi CLI and the "
          "Debian package need every kind and are not built")
endif()
set(TWI_KINDS_LIST "${TWI_KINDS_BUILT}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/kinds.h.in ${PROJECT_BINARY_DIR}/twi_kinds.h @ONLY)
