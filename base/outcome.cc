#include "base/outcome.h"

namespace orch {

const std::vector<OutcomeClass>& AllOutcomes() {
  static const std::vector<OutcomeClass> kAll = {
      OutcomeClass::kOk,      OutcomeClass::kNan,     OutcomeClass::kOom,
      OutcomeClass::kCudaError, OutcomeClass::kBlocked, OutcomeClass::kCrash,
      OutcomeClass::kError,   OutcomeClass::kTimeout, OutcomeClass::kHung,
      OutcomeClass::kInterrupted};
  return kAll;
}

std::string_view OutcomeName(OutcomeClass c) {
  switch (c) {
    case OutcomeClass::kOk: return "ok";
    case OutcomeClass::kNan: return "nan";
    case OutcomeClass::kOom: return "oom";
    case OutcomeClass::kCudaError: return "cuda_error";
    case OutcomeClass::kBlocked: return "blocked";
    case OutcomeClass::kCrash: return "crash";
    case OutcomeClass::kError: return "error";
    case OutcomeClass::kTimeout: return "timeout";
    case OutcomeClass::kHung: return "hung";
    case OutcomeClass::kInterrupted: return "interrupted";
  }
  return "error";
}

std::optional<OutcomeClass> ParseOutcome(std::string_view name) {
  for (OutcomeClass c : AllOutcomes()) {
    if (OutcomeName(c) == name) return c;
  }
  return std::nullopt;
}

bool IsTransient(OutcomeClass c) {
  return c == OutcomeClass::kCrash || c == OutcomeClass::kHung ||
         c == OutcomeClass::kInterrupted || c == OutcomeClass::kCudaError;
}

}  // namespace orch
