// ConfigFields: the top-level keys of a trial's config with their values as the report
// displays them, in key order, held in one buffer with one offset array. A std::map per
// cell cost ~2 KB at 19 keys (a node and two strings per key): 100,000 cells made it the
// report's largest part (issue 18). Lookups are binary searches over the keys; the views
// it returns stay valid until the ConfigFields is modified or destroyed. A plain value;
// any thread, one writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orch::report {

class ConfigFields {
 public:
  using Field = std::pair<std::string_view, std::string_view>;  // key, value

  ConfigFields() = default;
  ConfigFields(std::initializer_list<Field> fields);  // a later duplicate key wins

  // Sets `key` to `value`: replaced when present, else inserted in key order.
  void Set(std::string_view key, std::string_view value);

  // The value of `key`, or nullopt when the config has no such key.
  std::optional<std::string_view> Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Index(key).second; }
  // The value of `key`, "" when absent.
  std::string_view Value(std::string_view key) const { return Find(key).value_or(""); }

  // Gives back the spare capacity of the buffer and offsets (filled field by field, they
  // grow by doubling): a model keeps one ConfigFields per cell (issue 18).
  void ShrinkToFit() {
    text_.shrink_to_fit();
    ends_.shrink_to_fit();
  }

  size_t size() const { return ends_.size() / 2; }
  bool empty() const { return ends_.empty(); }
  Field at(size_t i) const { return {Key(i), Val(i)}; }

  // Iterates the fields in key order as (key, value) pairs of views.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Field;
    Iterator(const ConfigFields* f, size_t i) : f_(f), i_(i) {}
    Field operator*() const { return f_->at(i_); }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator t = *this;
      ++i_;
      return t;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const ConfigFields* f_;
    size_t i_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size()}; }

  bool operator==(const ConfigFields& o) const { return text_ == o.text_ && ends_ == o.ends_; }

 private:
  std::string_view Key(size_t i) const;
  std::string_view Val(size_t i) const;
  // The first field whose key is not less than `key`, and whether it equals `key`.
  std::pair<size_t, bool> Index(std::string_view key) const;

  std::string text_;            // key 0, value 0, key 1, value 1, ... back to back
  std::vector<uint32_t> ends_;  // where each key and each value ends in text_
};

}  // namespace orch::report
