// Failure map: a study's cells on a grid of two config axes with each cell's outcome,
// so that where a variant runs out of memory (the OOM frontier) shows at a glance. Axes
// by default: rows `quant` (else the first varying field), columns `window` when it
// varies (else the next varying field, else one column); any two fields on request.
// Axis values sort numbers ascending, then other values in spec order ("full" after
// 256). A grid cell may hold several cells (fields off the axes vary): each is listed.
// One layout (DrawFailureMap) for SVG and PDF. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "report/canvas.h"
#include "report/figures.h"
#include "report/model.h"

namespace orch::report {

struct MapEntry {
  std::string outcome;
  std::string short_key;
  std::string extra;  // the other varying fields, "dtype=bf16"; "" when none
};

struct FailureMap {
  std::string title;
  std::string row_axis, col_axis;  // col_axis "" when every cell shares one column
  std::string axes_how;            // which rule chose the axes
  std::vector<std::string> rows, cols;
  std::vector<std::vector<std::vector<MapEntry>>> grid;  // [row][col], spec order inside
  // Per row with an out-of-memory cell: the column values that ran out of memory and
  // those whose cells all ended ok.
  struct FrontierRow {
    std::string row;
    std::vector<std::string> oom, fits;
  };
  std::vector<FrontierRow> frontier;
};

// Axis names as the user gave them (`--map-axes quant,window`); empty: the default rule.
struct MapAxes {
  std::string row, col;
};

// Only studies with at least two cells of which one did not end ok get a map (a map of
// successes says nothing the study's table does not).
bool WantsFailureMap(const Study& study);
FailureMap BuildFailureMap(const Study& study, const MapAxes& axes = {});

FigureSize FailureMapSize(const FailureMap& map);
void DrawFailureMap(const FailureMap& map, Canvas& canvas);

// The colour a grid cell is filled with for an outcome class.
Color OutcomeColor(const std::string& outcome);

}  // namespace orch::report
