// Cell labels: how the report names a cell of a study — its quant method plus the config
// fields that vary within the study ("int8wo window=256"), so any two cells of a study
// read differently, in text, tables and figures alike. Pure functions; any thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "report/model.h"
#include "report/prose.h"

namespace orch::report {

// The value of a config field by name, as shown in the report ("" if absent).
std::string ConfigField(const CellConfig& config, const std::string& field);

// Config fields whose values differ between `cells`: the known ones (quant, scope,
// window, n_sink, dtype, compile, mode, tokens, model, dataset, device) in that order,
// then any other key (matrix extras) sorted.
std::vector<std::string> VaryingFields(const std::vector<Cell>& cells);

// The known config fields (the list of VaryingFields) that do not vary within the study
// and are present in its cells, with the first cell's value: the "fixed" settings that a
// study section states. Unescaped; each writer escapes.
std::vector<std::pair<std::string, std::string>> FixedFields(const Study& study);

// The label as plain text, e.g. "int8wo window=256 dtype=bf16".
std::string CellLabel(const Cell& cell, const std::vector<std::string>& varying);

// The label as Prose: the variant as code, the varying fields as (escaped) text.
Prose CellLabelProse(const Cell& cell, const std::vector<std::string>& varying);

// The varying fields a table has no column for (not quant, scope, window, dtype,
// compile), e.g. "n_sink=8 x_seed=2"; "" when none.
std::string TableVariantExtras(const Cell& cell, const std::vector<std::string>& varying);

// The measurement columns of cell `i`'s table row, shared by the markdown and LaTeX
// tables: PPL, TPOT median [CI], ratio to the baseline [CI] ("baseline", "not compared"),
// peak memory. `missing` stands where a value does not exist (failed cell, no samples).
struct TableColumns {
  std::string ppl, tpot, ratio, memory;
};
TableColumns CellTableColumns(const Study& study, size_t i, const std::string& missing);

}  // namespace orch::report
