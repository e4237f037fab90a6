// The two writers that write every trial, report.html's data (html_data.h) and
// provenance.json's one-line trials (provenance.h), against the nlohmann documents they
// stand for: they write with JsonText, the bytes must be those documents' dumps, on a
// big sweep of hostile values (escapes, invalid UTF-8, non-finite numbers, long log
// tails, configs and environments that are not JSON).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "report/html_data.h"
#include "report/number_format.h"
#include "report/provenance.h"

namespace orch::report {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

constexpr int kCells = 230;  // > kBigStudyCells: provenance.json writes a trial per line

// A study G of kCells trials and a small study H that repeats some of them, with the
// values a database may hold.
struct HostileSweep {
  ReportModel model;
  SweepSnapshot snap;
};

HostileSweep MakeHostileSweep() {
  HostileSweep h;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::string> envs = {
      "{\"device_name\":\"cpu\",\"torch\":\"2.5.1\"}",
      "{\"z\":1,\"a\":[1.5,true,null]}",  // keys out of order: dumped sorted
      "not json",
      "",
      "{}",
      "{\"bad\":\"\xff\"}"};
  h.model.studies.reserve(2);  // g stays where it is when H is added
  h.model.sweep.name = "hostile \"sweep\" \xff";
  Study& g = h.model.studies.emplace_back();
  g.id = "G";
  g.varying = {"window", "x_seed", "note"};
  g.baseline = 0;
  for (int i = 0; i < kCells; ++i) {
    Cell& c = g.cells.emplace_back();
    json config = {{"dtype", "fp16"},
                   {"window", 64 << (i % 5)},
                   {"x_seed", i / 5},
                   {"note", i % 7 == 0 ? "tab\there \"q\" </script> \xc3\xa9" : "plain"}};
    if (i % 11 == 0) config["odd"] = "only some \xe2\x80\xa8";
    c.config.json = i == 3 ? "not json" : i == 4 ? "" : config.dump();
    for (const auto& [k, v] : config.items())
      c.config.fields.Set(k, v.is_string() ? v.get<std::string>() : v.dump());
    c.key = Sha256Hex(std::to_string(i));
    c.short_key = c.key.substr(0, 12);
    c.outcome = i % 5 == 4 ? "oom" : i % 13 == 0 ? "running" : "ok";
    c.reason = i % 5 == 4 ? "CUDA out of memory \"</script>\"\n\x01" : "";
    if (i % 10 == 9) c.error_line = "RuntimeError: \xff bad byte";
    if (c.ok()) {
      c.ppl = i % 17 == 0 ? nan : 20.0 + i / 7.0;
      c.tpot = LatencySummary{};
      c.tpot->median = 10 + i * 0.013;
      c.tpot->median_ci = {i % 19 == 0 ? -std::numeric_limits<double>::infinity() : 9.5 + i * 0.01,
                           10.5 + i * 0.017};
      c.peak_memory_bytes = i % 23 == 0 ? 1e21 : 7.5e8 + i;
      c.metrics = {{"ppl", 20.0 + i / 7.0}, {"tokens", 128}, {"m\"x", nan}, {"big", 1e20}};
    }
    if (i % 3 == 0) c.warnings = {"synthetic \xe2\x9c\x93", "second"};
    if (i % 4 == 0) c.platform = Platform{"GPU \"H100\" \xff", "orch abc+dirty, gcc 12"};
    Comparison& cmp = g.comparisons.emplace_back();
    if (c.ok() && i % 6 != 0) {
      cmp.ratio = 1 + i * 0.001;
      cmp.ratio_ci = {0.99 + i * 0.001, i % 29 == 0 ? nan : 1.01 + i * 0.001};
      cmp.speed = static_cast<SpeedVerdict>(i % 5);
    }
    std::vector<AttemptData>& attempts = h.snap.attempts[c.key];
    for (int n = 1; n <= 1 + (i % 9 == 0); ++n) {
      store::AttemptRecord& r = attempts.emplace_back().record;
      r.id = 1000 + 2 * i + n;
      r.number = n;
      r.replicate = 1;
      r.run_id = 1 + i % 2;
      r.slot = i % 2 ? "cpu:1" : "gpu:0";
      r.finished = !(c.outcome == "running" && n == 1);
      r.outcome = c.outcome;
      r.reason = c.reason;
      if (i % 5 == 4) r.exit_code = 1;
      if (i % 8 == 1) r.signal = 11;
      r.duration_s = i % 31 == 0 ? nan : i % 37 == 0 ? 1e-7 : 0.025971724 * (i + 1);
      r.started_utc = "2026-12-05T05:40:48.285Z";
      r.finished_utc = r.finished ? "2026-12-05T05:40:49.001Z" : "";
      r.environment_json = envs[(i + n) % envs.size()];
      if (i % 12 == 0) {
        r.stderr_tail = std::string(10, 'x');
        for (int k = 0; k < 1500; ++k) r.stderr_tail += "\xc3\xa9";  // cut inside a character
        r.stderr_tail += "\nTraceback <script>";
      }
      if (i % 14 == 0) r.job_id = "12345_7";
    }
  }
  // Study H: a few of G's trials again (each trial once in the data, with both studies).
  Study& hs = h.model.studies.emplace_back();
  hs.id = "H \xe2\x80\x94 again";
  for (int i : {5, 0, 42}) {
    hs.cells.push_back(g.cells[i]);
    hs.comparisons.emplace_back();
  }
  h.snap.sweep.name = h.model.sweep.name;
  h.snap.sweep.updated_utc = "2026-12-05T05:25:11.273Z";
  return h;
}

json Rounded(double x, int decimals) {
  if (!std::isfinite(x)) return nullptr;
  return std::stod(FormatFixed(x, decimals));
}

// The page's data as one nlohmann document (what html_data.cc built before JsonText).
json HtmlDocument(const HostileSweep& h) {
  std::vector<const Cell*> cells;
  std::set<std::string> seen;
  std::vector<std::vector<size_t>> trial_of(h.model.studies.size());
  for (size_t s = 0; s < h.model.studies.size(); ++s) {
    for (const Cell& c : h.model.studies[s].cells) {
      if (seen.insert(c.key).second) cells.push_back(&c);
      for (size_t t = 0; t < cells.size(); ++t) {
        if (cells[t]->key == c.key) trial_of[s].push_back(t);
      }
    }
  }
  std::map<std::string, std::string> fixed;
  for (const auto& [k, v] : cells.front()->config.fields) fixed.emplace(k, v);
  for (const Cell* c : cells) {
    for (auto it = fixed.begin(); it != fixed.end();) {
      const std::optional<std::string_view> f = c->config.fields.Find(it->first);
      it = (!f || *f != it->second) ? fixed.erase(it) : std::next(it);
    }
  }
  json out;
  out["cells"] = json::array();
  for (const Cell* c : cells) {
    json j;
    j["k"] = c->key;
    j["o"] = c->outcome;
    const std::string why = c->error_line.empty() ? c->reason : c->error_line;
    if (!why.empty()) j["r"] = why;
    json cfg = json::object();
    for (const auto& [k, v] : c->config.fields) {
      if (!fixed.count(std::string(k))) cfg[std::string(k)] = std::string(v);
    }
    j["c"] = cfg;
    if (c->ok() && c->ppl) j["p"] = Rounded(*c->ppl, 2);
    if (c->ok() && c->tpot) {
      j["t"] = {Rounded(c->tpot->median, 2), Rounded(c->tpot->median_ci.lo, 2),
                Rounded(c->tpot->median_ci.hi, 2)};
    }
    if (c->ok() && c->peak_memory_bytes) j["m"] = Rounded(*c->peak_memory_bytes, 0);
    if (!c->metrics.empty()) {
      json m = json::object();
      for (const auto& [k, v] : c->metrics) m[k] = FormatMetric(v);
      j["x"] = m;
    }
    if (!c->warnings.empty()) j["w"] = c->warnings;
    json attempts = json::array();
    for (const AttemptData& d : h.snap.attempts.at(c->key)) {
      const store::AttemptRecord& a = d.record;
      std::string tail = a.stderr_tail;
      if (tail.size() > kHtmlLogTailBytes) {
        size_t from = tail.size() - kHtmlLogTailBytes;
        while ((static_cast<unsigned char>(tail[from]) & 0xC0) == 0x80) ++from;
        tail = "..." + tail.substr(from);
      }
      attempts.push_back({a.number, a.replicate, a.finished ? a.outcome : "running", a.reason,
                          a.exit_code ? json(*a.exit_code) : json(nullptr),
                          a.signal ? json(*a.signal) : json(nullptr), a.slot,
                          a.finished ? Rounded(a.duration_s, 2) : json(nullptr), a.started_utc,
                          tail, a.job_id});
    }
    j["a"] = attempts;
    out["cells"].push_back(j);
  }
  json studies = json::array();
  for (size_t s = 0; s < h.model.studies.size(); ++s) {
    const Study& st = h.model.studies[s];
    json rows = json::array();
    for (size_t i = 0; i < st.cells.size(); ++i) {
      const Comparison& cmp = st.comparisons[i];
      int code = 5;
      if (st.baseline && *st.baseline == i) {
        code = 0;
      } else {
        switch (cmp.speed) {
          case SpeedVerdict::kSlower:
            code = 1;
            break;
          case SpeedVerdict::kFaster:
            code = 2;
            break;
          case SpeedVerdict::kNoDifference:
            code = 3;
            break;
          case SpeedVerdict::kWithinRunOnly:
            code = 4;
            break;
          case SpeedVerdict::kUnavailable:
            code = 5;
            break;
        }
      }
      json row = {trial_of[s][i], code};
      if (st.cells[i].ok() && cmp.ratio) {
        row.push_back(Rounded(*cmp.ratio, 3));
        row.push_back(Rounded(cmp.ratio_ci.lo, 3));
        row.push_back(Rounded(cmp.ratio_ci.hi, 3));
      }
      rows.push_back(row);
    }
    studies.push_back({{"id", st.id}, {"axes", st.varying}, {"rows", rows}});
  }
  const SnapshotState st = SnapshotStateOf(h.snap);
  out["sweep"] = h.model.sweep.name;
  out["snapshot"] = {{"time", st.time_utc},
                     {"total", st.total},
                     {"done", st.done},
                     {"running", st.running},
                     {"pending", st.pending}};
  out["fixed"] = fixed;
  out["studies"] = studies;
  return out;
}

TEST(HtmlData, IsTheDumpOfTheDocumentItDescribes) {
  const HostileSweep h = MakeHostileSweep();
  const std::string data = BuildHtmlData(h.model, h.snap);
  const json expected = HtmlDocument(h);
  ASSERT_EQ(expected["cells"].size(), static_cast<size_t>(kCells));
  ASSERT_FALSE(expected["fixed"].empty());  // dtype: the same for every trial
  EXPECT_EQ(data, Dump(expected));
}

TEST(HtmlData, PiecesEndBetweenTokensAndMakeTheText) {
  const HostileSweep h = MakeHostileSweep();
  std::vector<std::string> pieces;
  EmitHtmlData(h.model, h.snap, [&](std::string_view p) { pieces.emplace_back(p); });
  std::string joined;
  for (const std::string& p : pieces) joined += p;
  EXPECT_EQ(joined, BuildHtmlData(h.model, h.snap));
  // report.html escapes each piece on its own (JsonForScript): none may end inside a
  // string, where an escape or a UTF-8 sequence could be split.
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < pieces.size(); ++i) {
    for (const char ch : pieces[i]) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = in_string;
      } else if (ch == '"') {
        in_string = !in_string;
      }
    }
    EXPECT_FALSE(in_string) << "piece " << i << " of " << pieces.size() << " ends in a string";
  }
}

// One trial of provenance.json as one nlohmann document (what provenance.cc's TrialJson
// builds for the indented form).
json ProvenanceTrial(const HostileSweep& h, const Cell& c,
                     const std::vector<std::string>& studies) {
  auto parse_or_empty = [](const std::string& text) {
    json j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  };
  json t = {{"key", c.key},
            {"studies", studies},
            {"outcome", c.outcome},
            {"config", parse_or_empty(c.config.json)}};
  json attempts = json::array();
  for (const AttemptData& a : h.snap.attempts.at(c.key)) {
    const store::AttemptRecord& r = a.record;
    attempts.push_back({{"id", r.id},
                        {"number", r.number},
                        {"run_id", r.run_id},
                        {"slot", r.slot},
                        {"outcome", r.outcome},
                        {"started_utc", r.started_utc},
                        {"finished_utc", r.finished_utc},
                        {"duration_s", r.duration_s},
                        {"environment", parse_or_empty(r.environment_json)}});
  }
  t["attempts"] = attempts;
  if (c.platform)
    t["platform"] = {{"hardware", c.platform->hardware}, {"build", c.platform->build}};
  return t;
}

TEST(ProvenanceJson, OneLineTrialsAreTheDumpsOfTheirDocuments) {
  const HostileSweep h = MakeHostileSweep();
  const std::string text = RenderProvenanceJson(h.snap, h.model);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("    {\"attempts\":", 0) == 0) {
      if (line.back() == ',') line.pop_back();
      lines.push_back(line.substr(4));
    }
  }
  ASSERT_EQ(lines.size(), static_cast<size_t>(kCells));
  const std::vector<Cell>& g = h.model.studies[0].cells;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> studies = {"G"};
    if (i == 5 || i == 0 || i == 42) studies.push_back(h.model.studies[1].id);
    EXPECT_EQ(lines[i], Dump(ProvenanceTrial(h, g[i], studies))) << i;
  }
  // And the whole file is one document with every trial.
  EXPECT_EQ(json::parse(text)["trials"].size(), static_cast<size_t>(kCells));
}

}  // namespace
}  // namespace orch::report
