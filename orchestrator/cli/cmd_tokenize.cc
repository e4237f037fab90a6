#include <cstdio>
#include <string>

#include "orchestrator/cli/commands.h"
#include "text/tokenizer.h"

namespace orch::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer, file;
};

int RunTokenize(const TokenizeOptions& o) {
  auto ids = text::TokenizeFile(o.tokenizer, o.file);
  if (!ids.ok()) {
    std::fprintf(stderr, "orch: %s\n", ids.status().message().c_str());
    return kExitUsage;
  }
  std::string out;
  for (size_t i = 0; i < ids->size(); ++i) {
    out += (i ? " " : "") + std::to_string((*ids)[i]);
  }
  std::printf("%s\n", out.c_str());
  return kExitOk;
}

}  // namespace

void SetupTokenize(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text file");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json (Hugging Face format)")->required();
  cmd->add_option("file", o->file, "UTF-8 text file")->required();
  cmd->callback([o, exit_code] { *exit_code = RunTokenize(*o); });
}

}  // namespace orch::cli
