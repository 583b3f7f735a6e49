// IBuilderConfig: strict JSON with the JSON path in every error.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "qsdk/builder_config.h"

namespace qsdk {
namespace {

TEST(BuilderConfigTest, DefaultsAreComplete) {
  auto config = CreateIBuilderConfig();
  auto doc = nlohmann::json::parse(config->ToJson());
  EXPECT_EQ(doc["precision_config"]["precision_mode"], "force_float32");
  EXPECT_EQ(doc["graph_optimization"]["batchnorm_folding"], true);
}

TEST(BuilderConfigTest, ParsesAndLayers) {
  auto config = CreateIBuilderConfig();
  ASSERT_TRUE(config->ParseFromString(
                        R"({"precision_config": {"precision_mode": "force_float32"}})")
                  .ok());
  ASSERT_TRUE(
      config->ParseFromString(R"({"graph_optimization": {"activation_fusion": false}})").ok());
  auto doc = nlohmann::json::parse(config->ToJson());
  EXPECT_EQ(doc["graph_optimization"]["activation_fusion"], false);
  EXPECT_EQ(doc["graph_optimization"]["constant_folding"], true);
}

TEST(BuilderConfigTest, UnknownKeyNamesItsPath) {
  auto config = CreateIBuilderConfig();
  Status s = config->ParseFromString(R"({"precision_config": {"precison_mode": "x"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/precision_config/precison_mode"), std::string::npos)
      << s.message();
  s = config->ParseFromString(R"({"bogus": 1})");
  EXPECT_NE(s.message().find("/bogus"), std::string::npos) << s.message();
}

TEST(BuilderConfigTest, BadValuesAreRejectedAndLeaveConfigUnchanged) {
  auto config = CreateIBuilderConfig();
  const std::string before = config->ToJson();
  Status s = config->ParseFromString(R"({"precision_config": {"precision_mode": "int3"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("int3"), std::string::npos);
  EXPECT_NE(s.message().find("force_float32"), std::string::npos);  // lists the valid ones
  s = config->ParseFromString(R"({"precision_config": {"precision_mode": 3}})");
  EXPECT_NE(s.message().find("expected a string"), std::string::npos) << s.message();
  s = config->ParseFromString(
      R"({"graph_optimization": {"constant_folding": false, "dead_node_removal": "yes"}})");
  EXPECT_NE(s.message().find("/graph_optimization/dead_node_removal"), std::string::npos);
  EXPECT_EQ(config->ToJson(), before);  // all-or-nothing: constant_folding not applied
  s = config->ParseFromString(R"({"precision_config": [1, 2]})");
  EXPECT_NE(s.message().find("/precision_config"), std::string::npos);
  s = config->ParseFromString("{not json");
  EXPECT_NE(s.message().find("not valid JSON"), std::string::npos);
  EXPECT_EQ(config->ToJson(), before);
}

TEST(BuilderConfigTest, ReservedModesAreNotYetSupported) {
  auto config = CreateIBuilderConfig();
  Status s = config->ParseFromString(
      R"({"precision_config": {"precision_mode": "qint8_mixed_float16"}})");
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("not yet supported"), std::string::npos) << s.message();
}

TEST(BuilderConfigTest, ParseFromFile) {
  auto config = CreateIBuilderConfig();
  Status missing = config->ParseFromFile("/nonexistent/qsdk.json");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("/nonexistent/qsdk.json"), std::string::npos);
  const std::string path = ::testing::TempDir() + "/qsdk_config_test.json";
  {
    std::ofstream f(path);
    f << R"({"graph_optimization": {"batchnorm_folding": false}})";
  }
  ASSERT_TRUE(config->ParseFromFile(path).ok());
  EXPECT_EQ(nlohmann::json::parse(config->ToJson())["graph_optimization"]["batchnorm_folding"],
            false);
  {
    std::ofstream f(path);
    f << R"({"graph_optimization": 7})";
  }
  Status bad = config->ParseFromFile(path);
  EXPECT_NE(bad.message().find(path), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace qsdk
