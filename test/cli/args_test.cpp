#include "tarn/cli/args.hpp"
#include "testing.hpp"

using namespace tarn;

namespace {
bool pass(std::string_view c) { return c == "run" || c == "exec"; }
std::vector<std::string_view> words(const std::vector<const char*>& v) { return {v.begin(), v.end()}; }
}  // namespace

TEST_CASE("cli: global options before the command, values, and pnpm's usage errors") {
  struct Row {
    std::vector<const char*> argv;
    std::string command;
    std::string option, value;  // one option to look for ("" for none)
    std::string error;          // substring of a usage error, "" when parsing succeeds
  };
  std::vector<Row> rows = {
      {{"-C", "dir", "install"}, "install", "--dir", "dir", ""},
      {{"install", "--store-dir=/s"}, "install", "--store-dir", "/s", ""},
      {{"--dir", "x", "i", "--frozen-lockfile"}, "i", "--frozen-lockfile", "", ""},
      {{"install", "--store-dir"}, "", "", "", "a value is required for '--store-dir <dir>' but none was supplied"},
      {{"install", "--store-dir", "--prod"}, "", "", "", "a value is required for '--store-dir <dir>'"},
      {{"install", "--bogus"}, "", "", "", "unexpected argument '--bogus' found"},
      {{"install", "--prod=1"}, "", "", "", "unexpected value '1' for '--prod'"},
      {{"run", "build", "--watch", "-x"}, "run", "", "", ""},
      {{"-r", "install"}, "install", "--recursive", "", ""},
  };
  for (auto& r : rows) {
    CAPTURE(r.argv.size(), r.command, r.error);
    auto a = cli::parse_args(words(r.argv), pass);
    if (!r.error.empty()) {
      REQUIRE_FALSE(a);
      CHECK(a.error().code == Code::Usage);
      CHECK(a.error().message.find(r.error) != std::string::npos);
      continue;
    }
    REQUIRE(a);
    CHECK(a->command == r.command);
    if (!r.option.empty()) CHECK(a->value(r.option) == std::optional<std::string>(r.value));
  }
}

TEST_CASE("cli: run keeps the script's own arguments") {
  auto a = cli::parse_args(words({"run", "build", "--watch", "-x", "y"}), pass);
  REQUIRE(a);
  CHECK(a->positionals == std::vector<std::string>{"build", "--watch", "-x", "y"});
  CHECK_FALSE(a->has("--watch"));
}

TEST_CASE("cli: --filter is repeatable and needs a value; recursive flags") {
  struct Row {
    std::vector<const char*> argv;
    std::vector<std::string> filters;  // --filter values in order
    std::string error;                 // substring of a usage error, "" when parsing succeeds
  };
  std::vector<Row> rows = {
      {{"install", "--filter", "a", "--filter", "b..."}, {"a", "b..."}, ""},
      {{"-F", "a", "install", "--filter=!b"}, {"a", "!b"}, ""},
      {{"--filter", "./packages/*", "run", "build"}, {"./packages/*"}, ""},
      // After the script name, options belong to the script, as with pnpm.
      {{"run", "--filter", "a", "build", "--filter", "b"}, {"a"}, ""},
      {{"install", "--filter"}, {}, "a value is required for '--filter <selector>' but none was supplied"},
      {{"install", "--filter", "--prod"}, {}, "a value is required for '--filter <selector>'"},
      {{"run", "-F"}, {}, "a value is required for '--filter <selector>'"},
      {{"install", "--filter-prod"}, {}, "a value is required for '--filter-prod <selector>'"},
      {{"run", "--workspace-concurrency"}, {}, "a value is required for '--workspace-concurrency <n>'"},
      {{"run", "--no-bail=1", "x"}, {}, "unexpected value '1' for '--no-bail'"},
  };
  for (auto& r : rows) {
    CAPTURE(r.argv.size(), r.error);
    auto a = cli::parse_args(words(r.argv), pass);
    if (!r.error.empty()) {
      REQUIRE_FALSE(a);
      CHECK(a.error().code == Code::Usage);
      CHECK(a.error().message.find(r.error) != std::string::npos);
      continue;
    }
    REQUIRE(a);
    CHECK(a->all("--filter") == r.filters);
  }
  auto a = cli::parse_args(words({"-r", "--no-bail", "--filter-prod", "x", "exec", "ls"}), pass);
  REQUIRE(a);
  CHECK(a->has("--recursive"));
  CHECK(a->has("--no-bail"));
  CHECK(a->all("--filter-prod") == std::vector<std::string>{"x"});
  CHECK(a->positionals == std::vector<std::string>{"ls"});
}
