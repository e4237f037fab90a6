#include "report/config_fields.h"

namespace orch::report {

ConfigFields::ConfigFields(std::initializer_list<Field> fields) {
  for (const auto& [k, v] : fields) Set(k, v);
}

std::string_view ConfigFields::Key(size_t i) const {
  const uint32_t from = i == 0 ? 0 : ends_[2 * i - 1];
  return std::string_view(text_).substr(from, ends_[2 * i] - from);
}

std::string_view ConfigFields::Val(size_t i) const {
  const uint32_t from = ends_[2 * i];
  return std::string_view(text_).substr(from, ends_[2 * i + 1] - from);
}

std::pair<size_t, bool> ConfigFields::Index(std::string_view key) const {
  size_t lo = 0, hi = size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (Key(mid) < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return {lo, lo < size() && Key(lo) == key};
}

std::optional<std::string_view> ConfigFields::Find(std::string_view key) const {
  const auto [i, found] = Index(key);
  if (!found) return std::nullopt;
  return Val(i);
}

void ConfigFields::Set(std::string_view key, std::string_view value) {
  // The common case: keys arrive sorted (a parsed JSON object's do), one compare each
  // rather than a binary search (100,000 configs of ~19 keys, issue 18).
  const bool after_last = empty() || Key(size() - 1) < key;
  const auto [i, found] = after_last ? std::pair{size(), false} : Index(key);
  if (i == size()) {
    text_.append(key);
    ends_.push_back(static_cast<uint32_t>(text_.size()));
    text_.append(value);
    ends_.push_back(static_cast<uint32_t>(text_.size()));
    return;
  }
  // Rebuild: rare (tests, replaced keys), and a config has a few dozen keys at most.
  ConfigFields rebuilt;
  rebuilt.text_.reserve(text_.size() + key.size() + value.size());
  rebuilt.ends_.reserve(ends_.size() + 2);
  for (size_t j = 0; j < size(); ++j) {
    if (j == i) {
      rebuilt.Set(key, value);
      if (found) continue;
    }
    rebuilt.Set(Key(j), Val(j));
  }
  *this = std::move(rebuilt);
}

}  // namespace orch::report
