#include "attestors/core/str.h"
#include "plugin/config/reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace twi::config {

void Problems::Add(const hcl::Pos& pos, std::string message) {
  list_.push_back({pos, std::move(message)});
}

std::vector<std::string> Problems::list() const {
  std::vector<Entry> sorted = list_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
    return a.pos.line != b.pos.line ? a.pos.line < b.pos.line : a.pos.column < b.pos.column;
  });
  std::vector<std::string> out;
  for (const auto& e : sorted) {
    out.push_back(e.pos.line > 0
                      ? twi::StrCat("line ", e.pos.line, ", column ", e.pos.column, ": ", e.message)
                      : e.message);
  }
  return out;
}

absl::Status Problems::ToStatus() const {
  if (list_.empty()) return absl::OkStatus();
  std::vector<std::string> l = list();
  if (l.size() == 1) return absl::InvalidArgumentError(twi::StrCat("invalid configuration: ", l[0]));
  return absl::InvalidArgumentError(twi::StrCat("invalid configuration (", l.size(),
                                                " problems): ", absl::StrJoin(l, "; ")));
}

namespace {
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

Reader::Reader(const hcl::Value* obj, std::string prefix, Problems* problems)
    : obj_(obj), prefix_(std::move(prefix)), problems_(problems) {}

const hcl::Member* Reader::Find(std::string_view key) {
  asked_.emplace_back(key);
  if (obj_ == nullptr) return nullptr;
  const hcl::Member* found = nullptr;
  for (const auto& m : obj_->members) {
    if (m.key != key) continue;
    if (found != nullptr) {
      problems_->Add(m.pos, twi::StrCat("\"", Path(key), "\" is set more than once (first at line ",
                                         found->pos.line, ")"));
      continue;
    }
    found = &m;
  }
  return found;
}

void Reader::TypeProblem(const hcl::Member& m, std::string_view want) {
  problems_->Add(m.pos, twi::StrCat("\"", Path(m.key), "\" must be ", want, ", got ",
                                     hcl::KindName(m.value.kind)));
}

std::optional<std::string> Reader::String(std::string_view key) {
  const hcl::Member* m = Find(key);
  if (m == nullptr) return std::nullopt;
  if (m->value.kind != hcl::Kind::kString) {
    TypeProblem(*m, "a string");
    return std::nullopt;
  }
  return m->value.str;
}

std::optional<bool> Reader::Bool(std::string_view key) {
  const hcl::Member* m = Find(key);
  if (m == nullptr) return std::nullopt;
  if (m->value.kind != hcl::Kind::kBool) {
    TypeProblem(*m, "a bool (true or false)");
    return std::nullopt;
  }
  return m->value.boolean;
}

std::optional<int64_t> Reader::Int(std::string_view key, int64_t min, int64_t max) {
  const hcl::Member* m = Find(key);
  if (m == nullptr) return std::nullopt;
  if (m->value.kind != hcl::Kind::kNumber || !m->value.is_integer) {
    TypeProblem(*m, "an integer");
    return std::nullopt;
  }
  if (m->value.integer < min || m->value.integer > max) {
    problems_->Add(m->pos, twi::StrCat("\"", Path(key), "\" must be between ", min, " and ", max,
                                        ", got ", m->value.integer));
    return std::nullopt;
  }
  return m->value.integer;
}

std::optional<std::vector<std::string>> Reader::StringList(std::string_view key) {
  const hcl::Member* m = Find(key);
  if (m == nullptr) return std::nullopt;
  if (m->value.kind != hcl::Kind::kList) {
    TypeProblem(*m, "a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < m->value.list.size(); ++i) {
    const hcl::Value& v = m->value.list[i];
    if (v.kind != hcl::Kind::kString) {
      problems_->Add(v.pos, twi::StrCat("\"", Path(key), "\"[", i, "] must be a string, got ",
                                         hcl::KindName(v.kind)));
      return std::nullopt;
    }
    out.push_back(v.str);
  }
  return out;
}

std::optional<std::vector<int64_t>> Reader::IntList(std::string_view key, int64_t min, int64_t max) {
  const hcl::Member* m = Find(key);
  if (m == nullptr) return std::nullopt;
  if (m->value.kind != hcl::Kind::kList) {
    TypeProblem(*m, "a list of integers");
    return std::nullopt;
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < m->value.list.size(); ++i) {
    const hcl::Value& v = m->value.list[i];
    if (v.kind != hcl::Kind::kNumber || !v.is_integer || v.integer < min || v.integer > max) {
      problems_->Add(v.pos, twi::StrCat("\"", Path(key), "\"[", i, "] must be an integer between ",
                                        min, " and ", max));
      return std::nullopt;
    }
    out.push_back(v.integer);
  }
  return out;
}

Reader Reader::Block(std::string_view key) {
  const hcl::Member* m = Find(key);
  std::string prefix = twi::StrCat(prefix_, key, ".");
  if (m == nullptr) return Reader(nullptr, prefix, problems_);
  if (m->value.kind != hcl::Kind::kObject) {
    TypeProblem(*m, "a block");
    return Reader(nullptr, prefix, problems_);
  }
  return Reader(&m->value, prefix, problems_);
}

std::vector<std::pair<std::string, Reader>> Reader::LabeledBlocks(std::string_view key) {
  asked_.emplace_back(key);
  std::vector<std::pair<std::string, Reader>> out;
  if (obj_ == nullptr) return out;
  for (const auto& m : obj_->members) {
    if (m.key != key) continue;
    if (m.value.kind != hcl::Kind::kObject) {
      TypeProblem(m, "a labeled block (key \"label\" { ... })");
      continue;
    }
    for (const auto& labeled : m.value.members) {
      if (labeled.value.kind != hcl::Kind::kObject) {
        problems_->Add(labeled.pos, twi::StrCat("\"", Path(key), "\" must be written as ", key,
                                                 " \"<name>\" { ... }"));
        continue;
      }
      bool dup = std::any_of(out.begin(), out.end(),
                             [&](const auto& p) { return p.first == labeled.key; });
      if (dup) {
        problems_->Add(labeled.pos, twi::StrCat(key, " \"", labeled.key, "\" is defined more than once"));
        continue;
      }
      out.emplace_back(labeled.key, Reader(&labeled.value,
                                           twi::StrCat(prefix_, key, ".", labeled.key, "."),
                                           problems_));
    }
  }
  return out;
}

void Reader::Problem(std::string_view key, std::string message) {
  hcl::Pos pos;
  if (obj_ != nullptr) {
    for (const auto& m : obj_->members) {
      if (m.key == key) {
        pos = m.pos;
        break;
      }
    }
  }
  problems_->Add(pos, std::move(message));
}

void Reader::Finish() {
  if (obj_ == nullptr) return;
  for (const auto& m : obj_->members) {
    if (std::find(asked_.begin(), asked_.end(), m.key) != asked_.end()) continue;
    std::vector<std::string> known = asked_;
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
    std::string hint = DidYouMean(m.key, known);
    problems_->Add(m.pos, twi::StrCat("unknown key \"", Path(m.key), "\" (", hint, "known keys",
                                       prefix_.empty() ? "" : twi::StrCat(" in ", prefix_.substr(0, prefix_.size() - 1)),
                                       ": ", absl::StrJoin(known, ", "), ")"));
  }
}

std::vector<std::pair<std::string, hcl::Kind>> Reader::Members() const {
  std::vector<std::pair<std::string, hcl::Kind>> out;
  if (obj_ == nullptr) return out;
  for (const auto& m : obj_->members) {
    bool seen = std::any_of(out.begin(), out.end(), [&](const auto& p) { return p.first == m.key; });
    if (!seen) out.emplace_back(m.key, m.value.kind);
  }
  return out;
}

std::string DidYouMean(std::string_view key, const std::vector<std::string>& known) {
  std::string hint;
  for (const auto& k : known) {
    if (EditDistance(k, key) <= 2) hint = twi::StrCat("did you mean \"", k, "\"? ");
  }
  return hint;
}

hcl::Value ParseOrRecord(std::string_view text, Problems* problems) {
  auto parsed = hcl::Parse(text);
  if (!parsed.ok()) {
    problems->Add(twi::StrCat("plugin_data is not valid HCL: ", parsed.status().message()));
    return hcl::Value{};
  }
  return *std::move(parsed);
}

}  // namespace twi::config
