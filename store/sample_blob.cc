#include "store/sample_blob.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

namespace orch::store {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kRunBytes = 4 + 4 + 4 + 1;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutF64(std::string& out, double v) {
  if (!std::isfinite(v)) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(bits));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

double GetF64(const char* p) {
  const uint64_t bits = GetLe(p, 8);
  double v = 0;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

struct Run {
  int32_t repeat = 0, first = 0;
  uint32_t length = 0;
  bool warmup = false;
};

}  // namespace

StatusOr<std::string> EncodeSamples(std::vector<Sample> samples) {
  std::stable_sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) {
    return a.repeat != b.repeat ? a.repeat < b.repeat : a.index < b.index;
  });
  std::vector<Run> runs;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    if (i > 0 && samples[i - 1].repeat == s.repeat && samples[i - 1].index == s.index) {
      return Status::Error("sample (repeat " + std::to_string(s.repeat) + ", index " +
                           std::to_string(s.index) + ") is given twice");
    }
    Run* last = runs.empty() ? nullptr : &runs.back();
    if (last && last->repeat == s.repeat && last->warmup == s.warmup &&
        static_cast<int64_t>(last->first) + last->length == s.index) {
      ++last->length;
    } else {
      runs.push_back({s.repeat, s.index, 1, s.warmup});
    }
  }
  std::string out;
  out.reserve(1 + 4 + runs.size() * kRunBytes + samples.size() * 16);
  out.push_back(static_cast<char>(kVersion));
  PutU32(out, static_cast<uint32_t>(runs.size()));
  for (const Run& r : runs) {
    PutU32(out, static_cast<uint32_t>(r.repeat));
    PutU32(out, static_cast<uint32_t>(r.first));
    PutU32(out, r.length);
    out.push_back(r.warmup ? 1 : 0);
  }
  for (const Sample& s : samples) PutF64(out, s.latency_ms);
  for (const Sample& s : samples) PutF64(out, s.nll);
  return out;
}

namespace {

// A version-1 blob's run table and where its value arrays start, checked against its size.
struct Layout {
  std::vector<Run> runs;
  uint64_t n = 0;                 // samples: the sum of the runs' lengths
  const char* latency = nullptr;  // n f64
  const char* nll = nullptr;      // n f64
};

StatusOr<Layout> ParseLayout(std::string_view blob) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption("samples blob (" + std::to_string(blob.size()) + " bytes): " + why);
  };
  if (blob.size() < 5) return bad("shorter than its header");
  if (static_cast<uint8_t>(blob[0]) != kVersion) {
    return bad("format version " + std::to_string(static_cast<uint8_t>(blob[0])) +
               " (this orch reads version 1)");
  }
  const uint64_t n_runs = GetLe(blob.data() + 1, 4);
  if (n_runs > (blob.size() - 5) / kRunBytes) return bad("run table past its end");
  const char* p = blob.data() + 5;
  Layout out;
  out.runs.resize(n_runs);
  for (Run& r : out.runs) {
    r.repeat = static_cast<int32_t>(GetLe(p, 4));
    r.first = static_cast<int32_t>(GetLe(p + 4, 4));
    r.length = static_cast<uint32_t>(GetLe(p + 8, 4));
    r.warmup = p[12] != 0;
    p += kRunBytes;
    out.n += r.length;
  }
  const uint64_t values = blob.size() - 5 - n_runs * kRunBytes;
  if (values != out.n * 16) {
    return bad(std::to_string(out.n) + " samples need " + std::to_string(out.n * 16) +
               " bytes of values, it has " + std::to_string(values));
  }
  out.latency = p;
  out.nll = p + out.n * 8;
  return out;
}

}  // namespace

StatusOr<std::vector<Sample>> DecodeSamples(std::string_view blob) {
  auto layout = ParseLayout(blob);
  if (!layout.ok()) return layout.status();
  std::vector<Sample> out;
  out.reserve(layout->n);
  const char* latency = layout->latency;
  const char* nll = layout->nll;
  for (const Run& r : layout->runs) {
    for (uint32_t i = 0; i < r.length; ++i) {
      Sample s;
      s.repeat = r.repeat;
      s.index = static_cast<int>(static_cast<int64_t>(r.first) + i);
      s.latency_ms = GetF64(latency);
      s.nll = GetF64(nll);
      s.warmup = r.warmup;
      latency += 8;
      nll += 8;
      out.push_back(s);
    }
  }
  return out;
}

StatusOr<std::vector<std::vector<double>>> DecodeLatencyRepeats(std::string_view blob) {
  auto layout = ParseLayout(blob);
  if (!layout.ok()) return layout.status();
  const std::vector<Run>& runs = layout->runs;
  // Each run's first latency, in blob order; then the runs by repeat (stable: a repeat's
  // runs keep their blob order). Encoded blobs are sorted already; any other is allowed.
  struct Span {
    int32_t repeat;
    uint64_t offset;  // in samples
    uint32_t length;
  };
  std::vector<Span> spans;
  spans.reserve(runs.size());
  uint64_t offset = 0;
  for (const Run& r : runs) {
    if (!r.warmup && r.length > 0) spans.push_back({r.repeat, offset, r.length});
    offset += r.length;
  }
  std::stable_sort(spans.begin(), spans.end(),
                   [](const Span& a, const Span& b) { return a.repeat < b.repeat; });
  std::vector<std::vector<double>> out;
  std::vector<double>* list = nullptr;
  std::optional<int32_t> repeat;
  for (const Span& s : spans) {
    if (!repeat || *repeat != s.repeat) {
      if (list && list->empty()) out.pop_back();  // a repeat with no finite latency
      repeat = s.repeat;
      list = &out.emplace_back();
    }
    const char* p = layout->latency + s.offset * 8;
    list->reserve(list->size() + s.length);
    for (uint32_t i = 0; i < s.length; ++i, p += 8) {
      const double v = GetF64(p);
      if (std::isfinite(v)) list->push_back(v);
    }
  }
  if (list && list->empty()) out.pop_back();
  return out;
}

}  // namespace orch::store
