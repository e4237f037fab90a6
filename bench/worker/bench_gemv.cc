// GEMV kernels alone (docs/benchmarks.md, "CPU GEMV kernels"): for each Pythia-70M linear
// shape (and the 50304 x 512 head), M = 1, the median time of our kernels at every ISA level
// this CPU runs and of the ATen call the worker used before (at::linear for fp32/bf16,
// at::_weight_int8pack_mm, at::_weight_int4pack_mm_for_cpu), as GB/s of weight bytes read.
// Weights are random; a shape that fits in the cache reads from it, so the head (103 MB
// fp32, 26 MB int8, 13 MB int4) is the row that shows DRAM bandwidth.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "worker/quant/cpu_gemv.h"
#include "worker/quant/quantized_linear.h"

namespace {

using namespace orch::worker;

double MedianMs(const std::function<void()>& f, int reps) {
  f();  // warm
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 21;
  at::set_num_threads(threads);
  struct Shape {
    const char* name;
    int64_t n, k;
  };
  const std::vector<Shape> shapes = {{"qkv", 1536, 512},  {"dense", 512, 512},
                                     {"fc_in", 2048, 512}, {"fc_out", 512, 2048},
                                     {"head", 50304, 512}};
  std::printf("threads %d, reps %d, M = 1; GB/s of weight bytes (median time)\n", threads, reps);
  std::printf("%-7s %-10s %-9s %10s %9s\n", "shape", "weights", "kernel", "ms", "GB/s");
  for (const Shape& s : shapes) {
    at::manual_seed(1);
    const at::Tensor w = at::randn({s.n, s.k}) * 0.05, x = at::randn({1, s.k});
    const at::Tensor wb = w.to(at::kBFloat16), xb = x.to(at::kBFloat16);
    Int8Weights q8 = QuantizeInt8PerChannel(w);
    Int4Weights q4 = QuantizeInt4Grouped(w, 128);
    const CpuInt4Weights p4 = PackInt4ForCpu(q4.q, q4.scale, q4.zero, 128);
    const at::Tensor aten4 = at::_convert_weight_to_int4pack_for_cpu(q4.q.contiguous(), 8);
    const at::Tensor sz = at::stack({q4.scale.t(), q4.zero.t()}, 2).contiguous();
    const double n = static_cast<double>(s.n * s.k);
    auto row = [&](const char* weights, const std::string& kernel, double bytes,
                   const std::function<void()>& f) {
      const double ms = MedianMs(f, reps);
      std::printf("%-7s %-10s %-9s %10.3f %9.2f\n", s.name, weights, kernel.c_str(), ms,
                  bytes / (ms * 1e-3) / 1e9);
    };
    row("fp32", "aten", n * 4, [&] { (void)at::linear(x, w); });
    row("bf16", "aten", n * 2, [&] { (void)at::linear(xb, wb); });
    row("int8", "aten", n, [&] { (void)at::_weight_int8pack_mm(x, q8.q, q8.scale); });
    row("int4-g128", "aten", n / 2, [&] { (void)at::_weight_int4pack_mm_for_cpu(x, aten4, 128, sz); });
    for (IsaLevel l : SupportedIsaLevels()) {
      const std::string k = IsaLevelName(l);
      row("fp32", k, n * 4, [&] { (void)CpuDenseGemv(x, w, at::Tensor(), l); });
      row("bf16", k, n * 2, [&] { (void)CpuDenseGemv(xb, wb, at::Tensor(), l); });
      row("int8", k, n, [&] { (void)CpuInt8Gemv(x, q8.q, q8.scale, at::Tensor(), l); });
      row("int4-g128", k, n / 2, [&] { (void)CpuInt4Gemv(x, p4, at::Tensor(), l); });
    }
  }
  return 0;
}
