// Typed, schema-checked reading of an HCL plugin_data tree.
//
// One Reader walks one object. Each getter looks a key up, checks its type and range, and
// records a problem (with line and column) instead of failing fast, so Configure and Validate
// can report every problem at once. Finish() reports the keys nobody asked for: a misspelled
// policy key is an error, never silently ignored.
//
// Every key read must appear in the side's schema (plugin/config/schema.h); the README's
// config table is checked against that schema by a test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "plugin/hcl/hcl.h"

namespace twi::config {

// All problems found while building one config.
class Problems {
 public:
  void Add(const hcl::Pos& pos, std::string message);
  void Add(std::string message) { Add(hcl::Pos{}, std::move(message)); }
  bool empty() const { return list_.empty(); }
  // Problems in source order (those without a position first), each "line L, column C: ...".
  std::vector<std::string> list() const;
  // OK when empty; otherwise INVALID_ARGUMENT listing every problem.
  absl::Status ToStatus() const;

 private:
  struct Entry {
    hcl::Pos pos;
    std::string message;
  };
  std::vector<Entry> list_;
};

class Reader {
 public:
  // `obj` must be a kObject value (or null for an absent block: every getter returns nullopt).
  // `prefix` is the dotted path of this block ("" at top level, "sev_snp." inside a block).
  Reader(const hcl::Value* obj, std::string prefix, Problems* problems);

  std::optional<std::string> String(std::string_view key);
  std::optional<bool> Bool(std::string_view key);
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max);
  std::optional<std::vector<std::string>> StringList(std::string_view key);
  std::optional<std::vector<int64_t>> IntList(std::string_view key, int64_t min, int64_t max);
  // Whether `key` is set (any type); counts as asked, so Finish() leaves it to the caller.
  bool Has(std::string_view key) { return Find(key) != nullptr; }
  // A nested block `key { ... }` or `key = { ... }`. Returns a reader over an absent block
  // (all getters nullopt) when the key is missing.
  Reader Block(std::string_view key);
  // Labeled blocks `key "label" { ... }`, in source order; duplicate labels are problems.
  std::vector<std::pair<std::string, Reader>> LabeledBlocks(std::string_view key);

  // Keys of blocks whose members are open-ended names (claims), for the caller to check
  // itself: every member key once, in source order, with the kind of its first value.
  std::vector<std::pair<std::string, hcl::Kind>> Members() const;

  // Records a problem about `key`'s value, at the key's position when it is present.
  void Problem(std::string_view key, std::string message);

  hcl::Pos pos() const { return obj_ ? obj_->pos : hcl::Pos{}; }
  Problems* problems() const { return problems_; }
  std::string Path(std::string_view key) const { return prefix_ + std::string(key); }

  // Reports every member of this object that no getter asked for.
  void Finish();

 private:
  const hcl::Member* Find(std::string_view key);
  void TypeProblem(const hcl::Member& m, std::string_view want);

  const hcl::Value* obj_;
  std::string prefix_;
  Problems* problems_;
  std::vector<std::string> asked_;
};

// "did you mean \"k\"? " for the entry of `known` within edit distance 2 of `key`, or "".
std::string DidYouMean(std::string_view key, const std::vector<std::string>& known);

// Parses `text` as HCL; a syntax error becomes one problem. Returns an empty object on error.
hcl::Value ParseOrRecord(std::string_view text, Problems* problems);

}  // namespace twi::config
