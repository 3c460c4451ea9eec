// The projects graph's edges (pnpm's create_projects_graph rules) and the graph sequencer.
#include "tarn/workspace/graph.hpp"
#include "tarn/workspace/sequence.hpp"
#include "testing.hpp"

using namespace tarn;
using namespace tarn::workspace;

namespace {

ProjectInfo lib(std::string dir, std::string name, std::string version) {
  ProjectInfo p;
  p.dir = std::move(dir), p.name = std::move(name), p.version = std::move(version);
  return p;
}

}  // namespace

TEST_CASE("workspace: which specifiers make an edge to a sibling") {
  struct Row {
    std::string alias, spec;
    bool link_workspace_packages;
    std::string want;  // the sibling's name, "" for no edge
  };
  std::vector<Row> rows = {
      {"lib", "workspace:*", false, "lib"},
      {"lib", "workspace:^", false, "lib"},
      {"lib", "workspace:~", false, "lib"},
      {"lib", "workspace:^2.0.0", false, "lib"},
      {"lib", "workspace:^3.0.0", false, ""},  // no sibling version satisfies it
      {"lib", "workspace:2.0.0", false, "lib"},
      {"x", "workspace:lib@*", false, "lib"},    // an aliased workspace spec names the sibling
      {"x", "workspace:../lib", false, "lib"},   // a path
      {"lib", "link:../lib", false, "lib"},
      {"lib", "file:../lib", false, "lib"},
      {"lib", "../lib", false, "lib"},
      {"lib", "^2.0.0", false, ""},  // a bare range stays a registry dependency by default
      {"lib", "^2.0.0", true, "lib"},
      {"lib", "^1.0.0", true, ""},
      {"lib", "latest", true, ""},  // tags never link
      {"lib", "npm:lib@^2.0.0", true, ""},
      {"other", "workspace:*", false, ""},
  };
  for (auto& r : rows) {
    CAPTURE(r.alias, r.spec, r.link_workspace_packages);
    ProjectInfo app = lib("/w/app", "app", "1.0.0");
    app.dependencies = {{r.alias, r.spec}};
    Graph g = make_graph({app, lib("/w/lib", "lib", "2.0.0")}, GraphOptions{false, r.link_workspace_packages});
    std::string got = g.deps[0].empty() ? "" : g.projects[g.deps[0][0]].name;
    CHECK(got == r.want);
  }
}

TEST_CASE("workspace: devDependencies edges are left out of the --filter-prod graph; later groups win") {
  ProjectInfo app = lib("/w/app", "app", "1.0.0");
  app.dev_dependencies = {{"lib", "workspace:*"}};
  CHECK(make_graph({app, lib("/w/lib", "lib", "2.0.0")}).deps[0] == std::vector<size_t>{1});
  CHECK(make_graph({app, lib("/w/lib", "lib", "2.0.0")}, GraphOptions{true, false}).deps[0].empty());
  // The same name in dependencies replaces the dev specifier, in the dev position.
  app.dependencies = {{"lib", "^9.0.0"}};
  auto merged = merged_dependencies(app, false);
  REQUIRE(merged.size() == 1);
  CHECK(merged[0].second == "^9.0.0");
  CHECK(make_graph({app, lib("/w/lib", "lib", "2.0.0")}).deps[0].empty());
}

TEST_CASE("workspace: the graph sequencer's chunks, as pnpm's graph_sequencer cuts them") {
  struct Row {
    std::vector<std::vector<size_t>> edges;
    std::vector<size_t> included;
    std::vector<std::vector<size_t>> want;
  };
  std::vector<Row> rows = {
      {{{}, {0}, {1}}, {0, 1, 2}, {{0}, {1}, {2}}},              // a chain
      {{{}, {0}, {0}, {1, 2}}, {0, 1, 2, 3}, {{0}, {1, 2}, {3}}},  // a diamond
      {{{}, {0}, {}}, {2, 1, 0}, {{2, 0}, {1}}},                 // included's order within a chunk
      {{{1}, {0}, {1}}, {0, 1, 2}, {{0, 1}, {2}}},               // a cycle is one chunk
      {{{}, {0}, {1}}, {0, 2}, {{0, 2}}},                        // edges to excluded nodes ignored
  };
  for (auto& r : rows) {
    CAPTURE(r.edges, r.included);
    CHECK(graph_sequencer(r.edges, r.included) == r.want);
  }
}
