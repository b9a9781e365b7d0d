// absl::StrCat that also takes std::string_view. Debian's abseil 20220623 is built with its
// own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW = 0), so absl::StrCat rejects
// std::string_view arguments; this forwards them as absl::string_view.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace twi {
namespace internal {
template <typename T>
decltype(auto) ToAlphaNumArg(T&& v) {
  if constexpr (std::is_convertible_v<T, std::string_view> &&
                !std::is_convertible_v<T, absl::string_view>) {
    std::string_view sv(v);
    return absl::string_view(sv.data(), sv.size());
  } else {
    return std::forward<T>(v);
  }
}
}  // namespace internal

template <typename... Args>
std::string StrCat(Args&&... args) {
  return absl::StrCat(internal::ToAlphaNumArg(std::forward<Args>(args))...);
}

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace twi
