// Status helpers: the macros the system abseil (20220623) does not ship.
#pragma once

#include <string>
#include <utility>

#include "attestors/core/str.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define TWI_CONCAT_INNER_(a, b) a##b
#define TWI_CONCAT_(a, b) TWI_CONCAT_INNER_(a, b)

// Returns from the current function when `expr` (an absl::Status) is not OK.
#define TWI_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::absl::Status twi_status_ = (expr);          \
    if (!twi_status_.ok()) return twi_status_;    \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr<T>), or return its status.
#define TWI_ASSIGN_OR_RETURN(lhs, expr) \
  TWI_ASSIGN_OR_RETURN_IMPL_(TWI_CONCAT_(twi_statusor_, __LINE__), lhs, expr)
#define TWI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

namespace twi {

// INVALID_ARGUMENT with `msg`: what parsers of untrusted bytes return.
inline absl::Status Invalid(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

// Same code, message prefixed with `context: `.
inline absl::Status Annotate(const absl::Status& s, std::string_view context) {
  if (s.ok()) return s;
  return absl::Status(s.code(), twi::StrCat(context, ": ", s.message()));
}

}  // namespace twi
