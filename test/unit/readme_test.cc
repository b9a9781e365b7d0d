// The README's config reference and selector tables must match the code, and the example
// SPIRE configs must carry plugin_data that our builders accept.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "attestors/appraisal/selectors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/config/configs.h"
#include "plugin/config/docs.h"
#include "plugin/config/schema.h"
#include "plugin/hcl/hcl.h"

namespace twi {
namespace {

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The first backticked cell of every table row between <!-- NAME --> and <!-- /NAME -->.
std::set<std::string> TableKeys(const std::string& readme, const std::string& name) {
  std::string open = "<!-- " + name + " -->", close = "<!-- /" + name + " -->";
  size_t a = readme.find(open), b = readme.find(close);
  EXPECT_NE(a, std::string::npos) << "README lacks " << open;
  EXPECT_NE(b, std::string::npos) << "README lacks " << close;
  std::set<std::string> out;
  if (a == std::string::npos || b == std::string::npos) return out;
  std::istringstream in(readme.substr(a, b - a));
  std::string line;
  static const std::regex kRow(R"(^\|\s*`([^`]+)`\s*\|)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, kRow)) out.insert(m[1]);
  }
  return out;
}

template <typename T, typename F>
std::set<std::string> Keys(std::span<const T> docs, F f) {
  std::set<std::string> out;
  for (const auto& d : docs) out.insert(std::string(f(d)));
  return out;
}

class ReadmeTest : public ::testing::Test {
 protected:
  std::string readme_ = Read(std::string(TWI_SOURCE_DIR) + "/README.md");
};

TEST_F(ReadmeTest, ConfigTablesMatchSchemas) {
  auto key = [](const config::KeyDoc& d) { return d.key; };
  EXPECT_EQ(TableKeys(readme_, "config:agent"), Keys(config::AgentSchema(), key));
  EXPECT_EQ(TableKeys(readme_, "config:server"), Keys(config::ServerSchema(), key));
  EXPECT_EQ(TableKeys(readme_, "config:workload"), Keys(config::WorkloadSchema(), key));
}

TEST_F(ReadmeTest, TablesAreExactlyTheGeneratedOnes) {
  // Regenerate with scripts/update-readme-tables.py after changing a schema or selector list.
  for (const char* const* n = config::TableNames(); *n != nullptr; ++n) {
    std::string open = std::string("<!-- ") + *n + " -->\n", close = std::string("<!-- /") + *n + " -->";
    size_t a = readme_.find(open), b = readme_.find(close);
    ASSERT_NE(a, std::string::npos) << *n;
    ASSERT_NE(b, std::string::npos) << *n;
    EXPECT_EQ(readme_.substr(a + open.size(), b - a - open.size()), config::MarkdownTable(*n)) << *n;
  }
}

TEST_F(ReadmeTest, ConfigTablesShowDefaults) {
  for (auto schema : {config::AgentSchema(), config::ServerSchema(), config::WorkloadSchema()}) {
    for (const auto& k : schema) {
      std::string row = "| `" + std::string(k.key) + "` | " + std::string(k.type) + " | `" +
                        std::string(k.default_value) + "` |";
      if (k.default_value.empty()) row = "| `" + std::string(k.key) + "` | " + std::string(k.type) + " | |";
      EXPECT_NE(readme_.find(row), std::string::npos) << "README row should start: " << row;
    }
  }
}

TEST_F(ReadmeTest, SelectorTablesMatchCode) {
  auto pat = [](const appraisal::SelectorDoc& d) { return d.pattern; };
  EXPECT_EQ(TableKeys(readme_, "selectors:node"), Keys(appraisal::NodeSelectors(), pat));
  EXPECT_EQ(TableKeys(readme_, "selectors:workload"), Keys(appraisal::WorkloadSelectors(), pat));
}

TEST_F(ReadmeTest, OpensWithExactlyTwoCommands) {
  // The first fenced block holds the two commands: quickstart, then all tests.
  size_t a = readme_.find("```sh\n");
  ASSERT_NE(a, std::string::npos);
  size_t b = readme_.find("```", a + 6);
  std::istringstream in(readme_.substr(a + 6, b - a - 6));
  std::vector<std::string> cmds;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') cmds.push_back(line);
  }
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0], "./scripts/quickstart.sh");
  EXPECT_EQ(cmds[1], "./scripts/test.sh");
}

// Finds plugins { <type> "twi" { plugin_data { ... } } } in a SPIRE config.
const hcl::Value* PluginData(const hcl::Value& root, const std::string& type) {
  for (const auto& plugins : root.members) {
    if (plugins.key != "plugins") continue;
    for (const auto& t : plugins.value.members) {
      if (t.key != type) continue;
      for (const auto& name : t.value.members) {
        if (name.key != "twi") continue;
        for (const auto& m : name.value.members) {
          if (m.key == "plugin_data") return &m.value;
        }
      }
    }
  }
  return nullptr;
}

TEST(ExamplesTest, ExampleConfigsCarryValidPluginData) {
  std::string dir = std::string(TWI_SOURCE_DIR) + "/examples/";
  auto server = hcl::Parse(Read(dir + "server.conf"));
  ASSERT_TRUE(server.ok()) << server.status();
  const hcl::Value* sd = PluginData(*server, "NodeAttestor");
  ASSERT_NE(sd, nullptr);
  auto sc = config::BuildServerConfig(*sd, "example.org");
  EXPECT_TRUE(sc.ok()) << sc.status();

  auto agent = hcl::Parse(Read(dir + "agent.conf"));
  ASSERT_TRUE(agent.ok()) << agent.status();
  const hcl::Value* ad = PluginData(*agent, "NodeAttestor");
  ASSERT_NE(ad, nullptr);
  auto ac = config::BuildAgentConfig(*ad, "example.org");
  EXPECT_TRUE(ac.ok()) << ac.status();
  const hcl::Value* wd = PluginData(*agent, "WorkloadAttestor");
  ASSERT_NE(wd, nullptr);
  auto wc = config::BuildWorkloadConfig(*wd, "example.org");
  EXPECT_TRUE(wc.ok()) << wc.status();
}

// The server and agent plugin_data of examples/<cloud>/, built as the plugins build them.
void LoadCloudExamples(const std::string& cloud, config::ServerConfig* sc, config::AgentConfig* ac) {
  std::string dir = std::string(TWI_SOURCE_DIR) + "/examples/" + cloud + "/";
  auto server = hcl::Parse(Read(dir + "server.conf"));
  ASSERT_TRUE(server.ok()) << server.status();
  const hcl::Value* sd = PluginData(*server, "NodeAttestor");
  ASSERT_NE(sd, nullptr);
  auto s = config::BuildServerConfig(*sd, "example.org");
  ASSERT_TRUE(s.ok()) << s.status();
  *sc = *std::move(s);
  auto agent = hcl::Parse(Read(dir + "agent.conf"));
  ASSERT_TRUE(agent.ok()) << agent.status();
  const hcl::Value* ad = PluginData(*agent, "NodeAttestor");
  ASSERT_NE(ad, nullptr);
  auto a = config::BuildAgentConfig(*ad, "example.org");
  ASSERT_TRUE(a.ok()) << a.status();
  *ac = *std::move(a);
}

TEST(ExamplesTest, AzureExampleConfigsCarryValidPluginData) {
  config::ServerConfig sc;
  config::AgentConfig ac;
  ASSERT_NO_FATAL_FAILURE(LoadCloudExamples("azure", &sc, &ac));
  EXPECT_TRUE(sc.azure.enabled);
  EXPECT_TRUE(ac.azure.enabled);
}

TEST(ExamplesTest, GcpExampleConfigsCarryValidPluginData) {
  config::ServerConfig sc;
  config::AgentConfig ac;
  ASSERT_NO_FATAL_FAILURE(LoadCloudExamples("gcp", &sc, &ac));
  EXPECT_TRUE(sc.gcp.enabled);
  EXPECT_EQ(ac.gcp.tee, "sev-snp");
}

}  // namespace
}  // namespace twi
