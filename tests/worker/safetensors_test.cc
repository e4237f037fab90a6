#include "worker/weights/safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/worker/fixture_util.h"
#include "worker/weights/model_files.h"

namespace orch::worker {
namespace {

namespace fs = std::filesystem;

TEST(Safetensors, ReadsFixtureAndConvertsDtype) {
  SafetensorsFile f(testing::FixtureDir("tiny-parallel") + "/model.safetensors");
  ASSERT_TRUE(f.Has("gpt_neox.embed_in.weight"));
  const auto& e = f.entries().at("gpt_neox.embed_in.weight");
  EXPECT_EQ(e.dtype, at::kHalf);
  EXPECT_EQ(e.shape, (std::vector<int64_t>{512, 64}));
  at::Tensor half = f.View("gpt_neox.embed_in.weight");
  at::Tensor fp32 = f.Load("gpt_neox.embed_in.weight", at::kCPU, at::kFloat);
  EXPECT_EQ(fp32.scalar_type(), at::kFloat);
  EXPECT_TRUE(fp32.equal(half.to(at::kFloat)));
  EXPECT_NE(fp32.data_ptr(), half.data_ptr());  // a copy, independent of the mapping
}

TEST(Safetensors, TruncatedFileIsAnErrorNotACrash) {
  fs::path src = testing::FixtureDir("tiny-parallel") + "/model.safetensors";
  fs::path bad =
      fs::temp_directory_path() / ("trunc_" + std::to_string(::getpid()) + ".safetensors");
  fs::copy_file(src, bad, fs::copy_options::overwrite_existing);
  fs::resize_file(bad, fs::file_size(src) - 1000);
  EXPECT_THROW(SafetensorsFile f(bad.string()), std::runtime_error);
  fs::resize_file(bad, 4);
  EXPECT_THROW(SafetensorsFile f(bad.string()), std::runtime_error);
  fs::remove(bad);
}

TEST(ModelFiles, FindsSingleShardedAndBinCheckpoints) {
  std::string error;
  auto single = LocateModel(testing::FixtureDir("tiny-parallel"), &error);
  ASSERT_TRUE(single) << error;
  EXPECT_EQ(single->weight_paths.size(), 1u);
  auto sharded = LocateModel(testing::FixtureDir("tiny-sequential"), &error);
  ASSERT_TRUE(sharded) << error;
  EXPECT_EQ(sharded->weight_paths.size(), 2u);
  auto bin = LocateModel(testing::FixtureDir("tiny-sequential-bin"), &error);
  ASSERT_TRUE(bin) << error;
  EXPECT_EQ(bin->format, WeightFormat::kPytorchBin);
}

TEST(ModelFiles, ResolvesHubIdInCacheAndNamesDownloadCommandWhenMissing) {
  fs::path hub = fs::temp_directory_path() / ("hub_" + std::to_string(::getpid()));
  fs::path snap = hub / "models--Org--tiny" / "snapshots" / "abc123";
  fs::create_directories(snap);
  fs::create_directories(hub / "models--Org--tiny" / "refs");
  std::ofstream(hub / "models--Org--tiny" / "refs" / "main") << "abc123";
  fs::copy(testing::FixtureDir("tiny-parallel"), snap);
  ::setenv("HF_HUB_CACHE", hub.c_str(), 1);
  std::string error;
  auto f = LocateModel("Org/tiny", &error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->dir, snap.string());
  EXPECT_FALSE(LocateModel("EleutherAI/pythia-70m", &error));
  EXPECT_NE(error.find("download EleutherAI/pythia-70m"), std::string::npos) << error;
  ::unsetenv("HF_HUB_CACHE");
  fs::remove_all(hub);
}

}  // namespace
}  // namespace orch::worker
