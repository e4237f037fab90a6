#include "report/trial_index.h"

#include <algorithm>
#include <numeric>
#include <string_view>

namespace orch::report {

TrialIndex::TrialIndex(const ReportModel& model) : model_(&model) {
  size_t n = 0;
  for (const Study& s : model.studies) {
    study_start_.push_back(n);
    n += s.cells.size();
  }
  std::vector<std::string_view> keys;
  keys.reserve(n);
  study_of_cell_.reserve(n);
  for (size_t si = 0; si < model.studies.size(); ++si) {
    for (const Cell& c : model.studies[si].cells) {
      keys.push_back(c.key);
      study_of_cell_.push_back(static_cast<uint32_t>(si));
    }
  }
  // Cells by key, then by their place: each run of equal keys is one trial, its first
  // cell first.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return keys[a] != keys[b] ? keys[a] < keys[b] : a < b; });
  next_same_.assign(n, kNone);
  std::vector<bool> first(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || keys[order[i]] != keys[order[i - 1]]) {
      first[order[i]] = true;
    } else {
      next_same_[order[i - 1]] = order[i];
    }
  }
  trial_of_.assign(n, kNone);
  std::vector<const Cell*> cells;
  cells.reserve(n);
  for (const Study& s : model.studies) {
    for (const Cell& c : s.cells) cells.push_back(&c);
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!first[i]) continue;
    const uint32_t t = static_cast<uint32_t>(trials_.size());
    trials_.push_back(cells[i]);
    first_cell_.push_back(i);
    for (uint32_t j = i; j != kNone; j = next_same_[j]) trial_of_[j] = t;
  }
}

std::vector<std::string> TrialIndex::StudiesOf(size_t t) const {
  std::vector<std::string> out;
  for (uint32_t j = first_cell_[t]; j != kNone; j = next_same_[j]) {
    out.push_back(model_->studies[study_of_cell_[j]].id);
  }
  return out;
}

}  // namespace orch::report
