// text_tokenize_tool: a by-hand companion of text_test, not run by ctest.
//   text_tokenize_tool bench TOKENIZER FILE [REPEATS]  time loading and encoding
//   text_tokenize_tool lines TOKENIZER FILE            ids of each line, one line each
// `bench` gives the numbers in docs/tokenizer.md; `lines` feeds the exhaustive Unicode
// comparison of tools/make_tokenizer_fixtures.py --exhaustive-check.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/atomic_file.h"
#include "text/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "text_tokenize_tool: %s\n", message.c_str());
  return 1;
}

int Bench(const std::string& tokenizer_path, const std::string& text_path, int repeats) {
  auto text = orch::ReadFile(text_path);
  if (!text.ok()) return Fail(text.status().message());
  std::vector<double> load_s, encode_s;
  size_t tokens = 0;
  for (int i = 0; i < repeats; ++i) {
    auto start = Clock::now();
    auto tokenizer = orch::text::Tokenizer::FromFile(tokenizer_path);
    if (!tokenizer.ok()) return Fail(tokenizer.status().message());
    load_s.push_back(Seconds(start));
    start = Clock::now();
    auto ids = tokenizer->Encode(*text);
    if (!ids.ok()) return Fail(ids.status().message());
    encode_s.push_back(Seconds(start));
    tokens = ids->size();
  }
  std::sort(load_s.begin(), load_s.end());
  std::sort(encode_s.begin(), encode_s.end());
  std::printf(
      "bytes %zu tokens %zu repeats %d load_s median %.4f encode_s median %.4f min %.4f "
      "MB/s %.1f\n",
      text->size(), tokens, repeats, load_s[load_s.size() / 2], encode_s[encode_s.size() / 2],
      encode_s.front(), text->size() / 1e6 / encode_s[encode_s.size() / 2]);
  return 0;
}

int Lines(const std::string& tokenizer_path, const std::string& text_path) {
  auto tokenizer = orch::text::Tokenizer::FromFile(tokenizer_path);
  if (!tokenizer.ok()) return Fail(tokenizer.status().message());
  auto text = orch::ReadFile(text_path);
  if (!text.ok()) return Fail(text.status().message());
  std::string_view rest = *text;
  std::string out;
  while (!rest.empty()) {
    const size_t newline = std::min(rest.find('\n'), rest.size());
    auto ids = tokenizer->Encode(rest.substr(0, newline));
    if (!ids.ok()) return Fail(ids.status().message());
    for (size_t i = 0; i < ids->size(); ++i) {
      if (i > 0) out += ' ';
      out += std::to_string((*ids)[i]);
    }
    out += '\n';
    rest.remove_prefix(std::min(newline + 1, rest.size()));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "bench" && (argc == 4 || argc == 5)) {
    return Bench(argv[2], argv[3], argc == 5 ? std::max(1, std::atoi(argv[4])) : 5);
  }
  if (mode == "lines" && argc == 4) return Lines(argv[2], argv[3]);
  return Fail("usage: text_tokenize_tool bench TOKENIZER FILE [REPEATS] | lines TOKENIZER FILE");
}
