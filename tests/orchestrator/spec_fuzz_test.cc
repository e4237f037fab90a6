// Spec fuzzing: mutations of valid specs (byte flips, truncations, YAML punctuation,
// huge numbers, deep nesting, anchors and aliases) each end in a valid plan or a list of
// SpecErrors, never an exception or a crash; the `orch plan` binary exits 0 or 2 on them.
// Deterministic (fixed seed) and bounded (a fixed number of mutations, about a second).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "orchestrator/plan/matrix.h"
#include "orchestrator/plan/spec.h"
#include "test_util.h"

namespace orch {
namespace {

const char* const kSeeds[] = {
    R"(name: fuzz
context: what we want to know
device: cpu
defaults: {tokens: 64, dtype: bf16, timeout: 30m, heartbeat_timeout: 90s, retries: 2}
studies:
  - id: A
    title: quantization
    baseline: {quant: none}
    matrix:
      quant: [none, int8wo, int4wo-g32]
      window: [64, 256, full]
    exclude:
      - {quant: none, window: 64}
    include:
      - {quant: int8wo, x_note: extra}
  - id: B
    n_sink: 4
    matrix: {dtype: [fp32, fp16], seed: [0, 1]}
)",
    R"(name: aliases
defaults: &d {tokens: 16}
studies:
  - id: A
    matrix: {x_a: &v [1, 2, 3], x_b: *v}
  - id: B
    include: [{quant: none, device: "cuda:0"}, {quant: int8wo, window: 8}]
)",
};

const char kPunctuation[] = "{}[]:,-&*!|>'\"%@`#? \n\t\\";

std::string Mutate(std::string s, std::mt19937& rng) {
  auto pick = [&](size_t n) {
    return n == 0 ? size_t{0} : std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  int n_mutations = 1 + static_cast<int>(pick(4));
  for (int m = 0; m < n_mutations; ++m) {
    size_t pos = pick(s.size() + 1);
    switch (pick(9)) {
      case 0:  // flip a byte (invalid UTF-8 and control characters included)
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(pick(256));
        break;
      case 1:  // truncate
        s.resize(pos);
        break;
      case 2:  // YAML punctuation
        s.insert(pos, 1, kPunctuation[pick(sizeof(kPunctuation) - 1)]);
        break;
      case 3:  // huge or odd numbers
        s.insert(pos, pick(2) ? "99999999999999999999999999999" : "-1e308");
        break;
      case 4:  // deep nesting
        s.insert(pos, std::string(pick(2) ? 5000 : 200, pick(2) ? '[' : '{'));
        break;
      case 5:  // anchors and aliases, some dangling, some recursive
        s.insert(pos, pick(2) ? " &a " : " *a ");
        break;
      case 6: {  // duplicate a slice (duplicate keys, repeated entries)
        size_t from = pick(s.size() + 1), len = pick(80);
        s.insert(pos, s.substr(from, len));
        break;
      }
      case 7:  // delete a slice
        s.erase(pos, pick(40));
        break;
      default:  // a stray multi-byte or control sequence
        s.insert(pos, pick(2) ? "\x1b[2J" : "\xc3\x28\xf0\x9f");
        break;
    }
  }
  return s;
}

// The spec and its expansion: an answer either way, no exception.
void ParseAndExpand(const std::string& text) {
  SpecParse p = ParseSpec("fuzz.yaml", text);
  for (const auto& e : p.errors) EXPECT_FALSE(e.ToString().empty());
  if (p.ok()) {
    std::vector<SpecError> errors;
    ExpandStudies(p.spec, &errors);
  }
}

TEST(SpecFuzz, MutatedSpecsEndInAPlanOrErrors) {
  std::mt19937 rng(20261203);
  for (const char* seed : kSeeds) ASSERT_TRUE(ParseSpec("seed.yaml", seed).ok()) << seed;
  for (int i = 0; i < 3000; ++i) {
    std::string text = Mutate(kSeeds[i % 2], rng);
    SCOPED_TRACE("mutation " + std::to_string(i));
    EXPECT_NO_THROW(ParseAndExpand(text));
  }
}

TEST(SpecFuzz, HostileConstructs) {
  // Billion laughs: each level doubles through aliases; nothing may expand it.
  std::string laughs = "name: lol\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) laughs += (k ? ", *l" : "*l") + std::to_string(i - 1);
    laughs += "]\n";
  }
  laughs += "studies:\n  - id: A\n    matrix: {x_a: *l9, quant: *l9}\n    include: *l9\n";
  std::vector<std::string> cases = {
      laughs,
      "name: deep\nstudies: " + std::string(100000, '[') + "\n",
      "name: deep\nstudies: " + std::string(100000, '{') + "\n",
      std::string("name: nul\0\nstudies: []\n", 24),
      "name: n\ndefaults: {tokens: 99999999999999999999999999999, timeout: 1e999}\nstudies: []\n",
      "name: &a [*a]\nstudies: *a\n",
      // YAML escapes that decode to bytes that are not UTF-8 (a lone surrogate).
      "name: s\nstudies:\n  - id: A\n    matrix: {x_a: [\"\\ud800\"]}\n",
      "name: \"\\ud800\"\nstudies:\n  - id: A\n    matrix: {quant: [none]}\n",
      "name: x\nstudies:\n  - id: A\n    matrix: {quant: [none]}\n    exclude: [{window: 1}]\n",
      "",
      "\xff\xfe",
      "---\n...\n---\n",
  };
  for (const auto& text : cases) {
    SCOPED_TRACE(text.substr(0, 60));
    EXPECT_NO_THROW(ParseAndExpand(text));
    EXPECT_FALSE(ParseSpec("h.yaml", text).ok());
  }
}

TEST(SpecFuzz, PlanBinaryExitsZeroOrTwo) {
  testing::TempDir d;
  std::mt19937 rng(7);
  for (int i = 0; i < 12; ++i) {
    std::string text = i == 0 ? std::string(kSeeds[0]) : Mutate(kSeeds[i % 2], rng);
    std::string name = "spec" + std::to_string(i) + ".yaml";
    testing::WriteText(d / name, text);
    auto r = testing::RunOrch(d.path(), "plan " + name + " --db " + (d / "none.db"));
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 2) << r.exit_code << "\n" << r.output;
    if (i == 0) {
      EXPECT_EQ(r.exit_code, 0) << r.output;
    }
  }
}

}  // namespace
}  // namespace orch
