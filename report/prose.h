// Prose: a sentence as spans with light semantic markup (our text, user text, code,
// trial keys), built once by the facts and rendered by each writer with its own
// escaping. This keeps the wording of a claim in one place while markdown and LaTeX
// escape differently. Value type; any thread.
#pragma once

#include <string>
#include <vector>

namespace orch::report {

enum class SpanKind {
  kText,      // written by the report itself (ASCII plus a few typographic symbols)
  kUserText,  // from the spec or a worker: escaped by every writer
  kCode,      // an identifier such as a variant name or layer: monospace
  kKey,       // a trial key prefix: monospace, marks where a number came from
};

struct Span {
  SpanKind kind = SpanKind::kText;
  std::string text;
  bool operator==(const Span&) const = default;
};

class Prose {
 public:
  Prose& Text(std::string s) { return Add(SpanKind::kText, std::move(s)); }
  Prose& User(std::string s) { return Add(SpanKind::kUserText, std::move(s)); }
  Prose& Code(std::string s) { return Add(SpanKind::kCode, std::move(s)); }
  Prose& Key(std::string s) { return Add(SpanKind::kKey, std::move(s)); }
  Prose& Append(const Prose& other) {
    spans_.insert(spans_.end(), other.spans_.begin(), other.spans_.end());
    return *this;
  }
  const std::vector<Span>& spans() const { return spans_; }
  bool empty() const { return spans_.empty(); }
  // Gives back the spans' spare capacity: a model keeps one Prose per cell (issue 18).
  void ShrinkToFit() { spans_.shrink_to_fit(); }
  // Plain text without markup (tests, SVG labels).
  std::string PlainText() const {
    std::string out;
    for (const Span& s : spans_) out += s.text;
    return out;
  }

 private:
  Prose& Add(SpanKind kind, std::string s) {
    if (!s.empty()) spans_.push_back({kind, std::move(s)});
    return *this;
  }
  std::vector<Span> spans_;
};

}  // namespace orch::report
