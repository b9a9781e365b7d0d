// tpm2-tss, loaded on first use (TWI_STATIC_DEPS builds; cmake/StaticDeps.cmake).
//
// Why: linked normally, every start of a plugin loads libtss2-esys, -sys, -mu, -tctildr, -rc
// and their dependencies and resolves their relocations, though only a TPM collector or
// appraiser ever calls them (the server needs MU only to parse a quote). These definitions of
// the tss2 entry points twi calls stand in for the real ones at link time and forward to the
// library, dlopen'ed (RTLD_NOW | RTLD_LOCAL) on the first call into it. The prototypes are the
// tss2 headers' own: each definition's parameter and return types are read off the header's
// declaration, so a wrong arity or type does not compile.
//
// If a library cannot be loaded (or lacks an entry point), its functions do nothing and return
// the library's GENERAL_FAILURE code (ESAPI, MU or TCTI layer), and Tss2_RC_Decode of that code
// is the reason ("cannot load libtss2-esys.so.0: ..."), so the callers' TssStatus messages name
// the library and dlerror.
#include "attestors/tpm/tss2_lazy.h"

#include <dlfcn.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>

// Every tss2 function twi calls: X(library, name, number of parameters). Adding one is a line
// here; the compiler checks it against the header.
#define TWI_TSS2_FUNCTIONS(X)                     \
  X(kEsys, Esys_ActivateCredential, 9)            \
  X(kEsys, Esys_Certify, 10)                      \
  X(kEsys, Esys_ContextLoad, 3)                   \
  X(kEsys, Esys_ContextSave, 3)                   \
  X(kEsys, Esys_Create, 14)                       \
  X(kEsys, Esys_CreatePrimary, 14)                \
  X(kEsys, Esys_EvictControl, 8)                  \
  X(kEsys, Esys_Finalize, 1)                      \
  X(kEsys, Esys_FlushContext, 2)                  \
  X(kEsys, Esys_Free, 1)                          \
  X(kEsys, Esys_GetCapability, 9)                 \
  X(kEsys, Esys_Initialize, 3)                    \
  X(kEsys, Esys_Load, 8)                          \
  X(kEsys, Esys_LoadExternal, 8)                  \
  X(kEsys, Esys_MakeCredential, 9)                \
  X(kEsys, Esys_NV_DefineSpace, 8)                \
  X(kEsys, Esys_NV_Read, 9)                       \
  X(kEsys, Esys_NV_ReadPublic, 7)                 \
  X(kEsys, Esys_NV_UndefineSpace, 6)              \
  X(kEsys, Esys_NV_Write, 8)                      \
  X(kEsys, Esys_PCR_Extend, 6)                    \
  X(kEsys, Esys_PCR_Read, 8)                      \
  X(kEsys, Esys_PolicySecret, 12)                 \
  X(kEsys, Esys_Quote, 10)                        \
  X(kEsys, Esys_ReadPublic, 8)                    \
  X(kEsys, Esys_StartAuthSession, 11)             \
  X(kEsys, Esys_TR_Close, 2)                      \
  X(kEsys, Esys_TR_FromTPMPublic, 6)              \
  X(kEsys, Esys_TR_GetName, 3)                    \
  X(kEsys, Esys_TR_SetAuth, 3)                    \
  X(kMu, Tss2_MU_TPM2B_DIGEST_Marshal, 4)         \
  X(kMu, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal, 4) \
  X(kMu, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, 4) \
  X(kMu, Tss2_MU_TPM2B_ID_OBJECT_Marshal, 4)      \
  X(kMu, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, 4)    \
  X(kMu, Tss2_MU_TPM2B_PUBLIC_Unmarshal, 4)       \
  X(kMu, Tss2_MU_TPML_PCR_SELECTION_Unmarshal, 4) \
  X(kMu, Tss2_MU_TPMS_ATTEST_Marshal, 4)          \
  X(kMu, Tss2_MU_TPMS_ATTEST_Unmarshal, 4)        \
  X(kMu, Tss2_MU_TPMS_ECC_POINT_Marshal, 4)       \
  X(kMu, Tss2_MU_TPMT_PUBLIC_Marshal, 4)          \
  X(kMu, Tss2_MU_TPMT_PUBLIC_Unmarshal, 4)        \
  X(kMu, Tss2_MU_TPMT_SIGNATURE_Marshal, 4)       \
  X(kMu, Tss2_MU_TPMT_SIGNATURE_Unmarshal, 4)     \
  X(kTctiLdr, Tss2_TctiLdr_Finalize, 1)           \
  X(kTctiLdr, Tss2_TctiLdr_Initialize, 2)

namespace twi::tpm {
namespace tss2_lazy {

enum Lib { kEsys, kMu, kTctiLdr, kRc, kLibCount };

struct LibInfo {
  const char* soname;
  TSS2_RC failure;  // what its functions return when it cannot be loaded
};
constexpr LibInfo kLibs[kLibCount] = {
    {"libtss2-esys.so.0", TSS2_ESYS_RC_GENERAL_FAILURE},
    {"libtss2-mu.so.0", TSS2_MU_RC_GENERAL_FAILURE},
    {"libtss2-tctildr.so.0", TSS2_TCTI_RC_GENERAL_FAILURE},
    {"libtss2-rc.so.0", 0},  // only Tss2_RC_Decode, written out below
};

#define TWI_TSS2_ENUM(lib, name, n) k_##name,
enum Fn { TWI_TSS2_FUNCTIONS(TWI_TSS2_ENUM) kDecode, kFnCount };
#undef TWI_TSS2_ENUM

struct FnInfo {
  Lib lib;
  const char* name;
};
#define TWI_TSS2_INFO(lib, name, n) {lib, #name},
constexpr FnInfo kFns[kFnCount] = {TWI_TSS2_FUNCTIONS(TWI_TSS2_INFO){kRc, "Tss2_RC_Decode"}};
#undef TWI_TSS2_INFO

enum class State { kUnused, kLoaded, kFailed };

struct Loader {
  const char* soname[kLibCount] = {kLibs[kEsys].soname, kLibs[kMu].soname,
                                   kLibs[kTctiLdr].soname, kLibs[kRc].soname};
  std::once_flag once[kLibCount];
  std::atomic<State> state[kLibCount] = {};
  std::string error[kLibCount];  // why loading failed
  void* fns[kFnCount] = {};
};

// Lives for the process, as the loaded libraries do (no exit-time destructor racing a call).
Loader& L() {
  static Loader* loader = new Loader;
  return *loader;
}

void Load(Lib lib) {
  Loader& l = L();
  void* handle = dlopen(l.soname[lib], RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = dlerror();
    l.error[lib] = std::string("cannot load ") + l.soname[lib] + ": " +
                   (e != nullptr ? e : "unknown error");
    l.state[lib].store(State::kFailed);
    return;
  }
  for (int f = 0; f < kFnCount; ++f) {
    if (kFns[f].lib != lib) continue;
    l.fns[f] = dlsym(handle, kFns[f].name);
    if (l.fns[f] == nullptr) {
      l.error[lib] = std::string(l.soname[lib]) + " lacks " + kFns[f].name + ", which twi calls";
      for (int g = 0; g < kFnCount; ++g) {
        if (kFns[g].lib == lib) l.fns[g] = nullptr;
      }
      l.state[lib].store(State::kFailed);
      return;
    }
  }
  l.state[lib].store(State::kLoaded);
}

// The real function, loading its library on the first call; nullptr if it cannot be loaded.
void* Entry(Fn fn) {
  Loader& l = L();
  const Lib lib = kFns[fn].lib;
  std::call_once(l.once[lib], Load, lib);
  return l.fns[fn];
}

// The reason, when `rc` is the failure code of a library that could not be loaded.
const char* LoadError(TSS2_RC rc) {
  Loader& l = L();
  for (int lib = 0; lib < kLibCount; ++lib) {
    if (kLibs[lib].failure != 0 && rc == kLibs[lib].failure &&
        l.state[lib].load() == State::kFailed) {
      return l.error[lib].c_str();
    }
  }
  return nullptr;
}

template <auto F>
struct Sig;
template <typename R, typename... A, R (*F)(A...)>
struct Sig<F> {
  using Ret = R;
  template <std::size_t I>
  using Arg = std::tuple_element_t<I, std::tuple<A...>>;
};
template <auto F>
using Ret = typename Sig<F>::Ret;
template <auto F, std::size_t I>
using Arg = typename Sig<F>::template Arg<I>;

template <typename R>
R Failure(Lib lib) {
  static_assert(std::is_void_v<R> || std::is_same_v<R, TSS2_RC>,
                "a tss2 function returning neither TSS2_RC nor void needs its own failure value");
  if constexpr (std::is_same_v<R, TSS2_RC>) {
    return kLibs[lib].failure;
  }
}

}  // namespace tss2_lazy

bool ReplaceTss2LibraryForTest(std::string_view soname, const char* replacement) {
  tss2_lazy::Loader& l = tss2_lazy::L();
  for (int lib = 0; lib < tss2_lazy::kLibCount; ++lib) {
    if (soname == tss2_lazy::kLibs[lib].soname) {
      if (l.state[lib].load() != tss2_lazy::State::kUnused) return false;
      l.soname[lib] = replacement;
      return true;
    }
  }
  return false;
}

}  // namespace twi::tpm

// Parameter lists a0..aN-1 typed as in the header's declaration of `f`, and the matching
// argument lists.
#define TWI_TSS2_P1(f) ::twi::tpm::tss2_lazy::Arg<&f, 0> a0
#define TWI_TSS2_P2(f) TWI_TSS2_P1(f), ::twi::tpm::tss2_lazy::Arg<&f, 1> a1
#define TWI_TSS2_P3(f) TWI_TSS2_P2(f), ::twi::tpm::tss2_lazy::Arg<&f, 2> a2
#define TWI_TSS2_P4(f) TWI_TSS2_P3(f), ::twi::tpm::tss2_lazy::Arg<&f, 3> a3
#define TWI_TSS2_P5(f) TWI_TSS2_P4(f), ::twi::tpm::tss2_lazy::Arg<&f, 4> a4
#define TWI_TSS2_P6(f) TWI_TSS2_P5(f), ::twi::tpm::tss2_lazy::Arg<&f, 5> a5
#define TWI_TSS2_P7(f) TWI_TSS2_P6(f), ::twi::tpm::tss2_lazy::Arg<&f, 6> a6
#define TWI_TSS2_P8(f) TWI_TSS2_P7(f), ::twi::tpm::tss2_lazy::Arg<&f, 7> a7
#define TWI_TSS2_P9(f) TWI_TSS2_P8(f), ::twi::tpm::tss2_lazy::Arg<&f, 8> a8
#define TWI_TSS2_P10(f) TWI_TSS2_P9(f), ::twi::tpm::tss2_lazy::Arg<&f, 9> a9
#define TWI_TSS2_P11(f) TWI_TSS2_P10(f), ::twi::tpm::tss2_lazy::Arg<&f, 10> a10
#define TWI_TSS2_P12(f) TWI_TSS2_P11(f), ::twi::tpm::tss2_lazy::Arg<&f, 11> a11
#define TWI_TSS2_P13(f) TWI_TSS2_P12(f), ::twi::tpm::tss2_lazy::Arg<&f, 12> a12
#define TWI_TSS2_P14(f) TWI_TSS2_P13(f), ::twi::tpm::tss2_lazy::Arg<&f, 13> a13
#define TWI_TSS2_A1 a0
#define TWI_TSS2_A2 TWI_TSS2_A1, a1
#define TWI_TSS2_A3 TWI_TSS2_A2, a2
#define TWI_TSS2_A4 TWI_TSS2_A3, a3
#define TWI_TSS2_A5 TWI_TSS2_A4, a4
#define TWI_TSS2_A6 TWI_TSS2_A5, a5
#define TWI_TSS2_A7 TWI_TSS2_A6, a6
#define TWI_TSS2_A8 TWI_TSS2_A7, a7
#define TWI_TSS2_A9 TWI_TSS2_A8, a8
#define TWI_TSS2_A10 TWI_TSS2_A9, a9
#define TWI_TSS2_A11 TWI_TSS2_A10, a10
#define TWI_TSS2_A12 TWI_TSS2_A11, a11
#define TWI_TSS2_A13 TWI_TSS2_A12, a12
#define TWI_TSS2_A14 TWI_TSS2_A13, a13

// One forwarding definition per table row.
#define TWI_TSS2_DEFINE(lib, name, n)                                                          \
  extern "C" ::twi::tpm::tss2_lazy::Ret<&name> name(TWI_TSS2_P##n(name)) {                     \
    void* real = ::twi::tpm::tss2_lazy::Entry(::twi::tpm::tss2_lazy::k_##name);                \
    if (real == nullptr) {                                                                     \
      return ::twi::tpm::tss2_lazy::Failure<::twi::tpm::tss2_lazy::Ret<&name>>(                \
          ::twi::tpm::tss2_lazy::lib);                                                         \
    }                                                                                          \
    return reinterpret_cast<decltype(&name)>(real)(TWI_TSS2_A##n);                             \
  }
TWI_TSS2_FUNCTIONS(TWI_TSS2_DEFINE)

// Also the voice of the loader: a failure code of an unloadable library decodes to the reason.
extern "C" const char* Tss2_RC_Decode(TSS2_RC rc) {
  namespace lazy = ::twi::tpm::tss2_lazy;
  if (const char* why = lazy::LoadError(rc)) return why;
  void* real = lazy::Entry(lazy::kDecode);
  if (real == nullptr) return lazy::L().error[lazy::kRc].c_str();
  return reinterpret_cast<decltype(&Tss2_RC_Decode)>(real)(rc);
}
