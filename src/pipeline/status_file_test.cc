#include "pipeline/status_file.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/document.h"

namespace dyprof {
namespace {

TEST(StatusFile, KeysInReferenceOrder) {
  StatusUpdate u{RunStatus::kSuccess, "Profiler completed successfully", std::nullopt, Phase::kDone, true};
  EXPECT_EQ(RenderStatusYaml(u, 1772625600.0),
            "status: success\ntimestamp: 2026-03-04T12:00:00Z\nmessage: Profiler completed successfully\n"
            "outputs:\n  final_config: final_config.yaml\nphase: Done\n");
}

TEST(StatusFile, FailedCarriesErrorOnOneLine) {
  StatusUpdate u{RunStatus::kFailed, "Config validation failed", "bad\nthing: here", std::nullopt, false};
  std::string y = RenderStatusYaml(u, 0);
  auto doc = ParseYaml(y);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["status"], "failed");
  EXPECT_EQ((*doc)["error"], "bad thing: here");
  EXPECT_FALSE(doc->contains("phase"));
  // The side-car greps single-line top-level keys.
  EXPECT_NE(y.find("\nerror: "), std::string::npos);
  EXPECT_EQ(std::count(y.begin(), y.end(), '\n'), 4);
}

TEST(StatusWriter, WritesAtomicallyToOutputDir) {
  MemFileSystem fs;
  FakeClock clock;
  StatusWriter w(&fs, &clock, "out");
  ASSERT_TRUE(w.Write({RunStatus::kRunning, "Profiler job started", std::nullopt, Phase::kInitializing, false}).ok());
  auto text = fs.ReadFile("out/profiler_status.yaml");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("phase: Initializing"), std::string::npos);
}

}  // namespace
}  // namespace dyprof
