// libcurl, loaded on first use (TWI_STATIC_DEPS builds; cmake/StaticDeps.cmake).
//
// Why: libcurl pulls in ~25 shared libraries (GnuTLS, Kerberos, LDAP, ...) whose symbol
// relocations the dynamic loader resolves at every exec, roughly doubling the server plugin's
// time to the go-plugin handshake and adding 4 MiB RSS, though most starts never fetch from
// AMD KDS. These definitions of the libcurl entry points http.cc calls stand in for the real
// ones at link time and forward to libcurl.so.4, dlopen'ed once on the first call. If it cannot
// be loaded, every call fails with CURLE_FAILED_INIT and curl_easy_strerror says why.
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>

#include <cstdarg>
#include <string>

namespace {

struct Curl {
  CURLcode (*global_init)(long) = nullptr;
  CURL* (*easy_init)() = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;
  std::string error;  // why loading failed
};

template <typename F>
bool Sym(void* handle, const char* name, F* out) {
  *out = reinterpret_cast<F>(dlsym(handle, name));
  return *out != nullptr;
}

const Curl& Lib() {
  static const Curl* lib = [] {
    auto* c = new Curl;  // lives for the process, as the loaded library does
    void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = dlerror();
      c->error = std::string("cannot load libcurl.so.4: ") + (e != nullptr ? e : "unknown error");
      return c;
    }
    if (!Sym(h, "curl_global_init", &c->global_init) || !Sym(h, "curl_easy_init", &c->easy_init) ||
        !Sym(h, "curl_easy_setopt", &c->easy_setopt) || !Sym(h, "curl_easy_perform", &c->easy_perform) ||
        !Sym(h, "curl_easy_getinfo", &c->easy_getinfo) || !Sym(h, "curl_easy_cleanup", &c->easy_cleanup) ||
        !Sym(h, "curl_easy_strerror", &c->easy_strerror) ||
        !Sym(h, "curl_slist_append", &c->slist_append) ||
        !Sym(h, "curl_slist_free_all", &c->slist_free_all)) {
      c->global_init = nullptr;
      c->error = "libcurl.so.4 lacks an entry point twi uses";
    }
    return c;
  }();
  return *lib;
}

bool Loaded() { return Lib().global_init != nullptr; }

}  // namespace

// curl.h fixes these prototypes: the last named parameter is an enum, which clang warns about
// in va_start (-Wvarargs). CURLoption and CURLINFO are int-sized enums, passed like int, and
// libcurl's own definitions start their va_list from the same parameter.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wvarargs"
#endif

extern "C" {

CURLcode curl_global_init(long flags) { return Loaded() ? Lib().global_init(flags) : CURLE_FAILED_INIT; }

CURL* curl_easy_init() { return Loaded() ? Lib().easy_init() : nullptr; }

// The option number says what the one variadic argument is (curl.h's CURLOPTTYPE_* bands).
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  if (!Loaded()) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = Lib().easy_setopt(curl, option, va_arg(ap, long));
  } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
    rc = Lib().easy_setopt(curl, option, va_arg(ap, curl_off_t));
  } else {  // object, string, function pointer, blob: all pointer-sized
    rc = Lib().easy_setopt(curl, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

CURLcode curl_easy_perform(CURL* curl) { return Loaded() ? Lib().easy_perform(curl) : CURLE_FAILED_INIT; }

// Every CURLINFO_* takes a pointer to where the value goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  if (!Loaded()) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  CURLcode rc = Lib().easy_getinfo(curl, info, va_arg(ap, void*));
  va_end(ap);
  return rc;
}

void curl_easy_cleanup(CURL* curl) {
  if (Loaded()) Lib().easy_cleanup(curl);
}

const char* curl_easy_strerror(CURLcode code) {
  return Loaded() ? Lib().easy_strerror(code) : Lib().error.c_str();
}

curl_slist* curl_slist_append(curl_slist* list, const char* s) {
  return Loaded() ? Lib().slist_append(list, s) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (Loaded()) Lib().slist_free_all(list);
}

}  // extern "C"
