// --filter selection over small in-memory workspaces. Every selection row was measured
// with pnpm 12.21 (`pnpm exec <filters> pwd` in a copy of fixtures/workspace and in a
// five-project workspace), so the rows are pnpm's answers, not tarn's.
#include "tarn/workspace/filter.hpp"
#include "tarn/workspace/sequence.hpp"
#include "testing.hpp"

using namespace tarn;
using namespace tarn::workspace;

namespace {

ProjectInfo project(std::string dir, std::string name, std::vector<std::pair<std::string, std::string>> deps,
                    std::vector<std::pair<std::string, std::string>> dev = {}) {
  ProjectInfo p;
  p.dir = std::move(dir);
  p.name = std::move(name);
  p.version = p.name.empty() || p.name == "ws-root" || p.name == "root" ? "" : "1.0.0";
  p.dependencies = std::move(deps);
  p.dev_dependencies = std::move(dev);
  return p;
}

// fixtures/workspace: the root depends on @ws/a, @ws/a on @ws/b, @ws/b on @ws/c.
Graph fixture_graph(bool prod = false) {
  return make_graph({project("/w", "ws-root", {{"@ws/a", "workspace:~"}}, {{"rimraf", "^5.0.0"}, {"semver", "^7.6.0"}}),
                     project("/w/packages/a", "@ws/a", {{"@ws/b", "workspace:*"}, {"is-odd", "^3.0.1"}}),
                     project("/w/packages/b", "@ws/b", {{"@ws/c", "workspace:^"}, {"lodash", "^4.17.21"}}),
                     project("/w/packages/c", "@ws/c", {{"ms", "^2.1.3"}}, {{"is-number", "^7.0.0"}})},
                    GraphOptions{prod, false});
}

// Two chains: p2 -> p1 and p4 -> p3 (p4's edge a devDependency), and a root.
Graph pairs_graph(bool prod = false) {
  return make_graph({project("/r", "root", {}), project("/r/p/p1", "p1", {}),
                     project("/r/p/p2", "p2", {{"p1", "workspace:*"}}), project("/r/p/p3", "p3", {}),
                     project("/r/p/p4", "p4", {}, {{"p3", "workspace:*"}})},
                    GraphOptions{prod, false});
}

std::vector<std::string> names(const Graph& g, const std::vector<size_t>& v) {
  std::vector<std::string> out;
  for (size_t i : v) out.push_back(g.projects[i].name);
  return out;
}

std::vector<std::string> select_names(const Graph& g, const std::vector<std::string>& filters, const std::string& cwd,
                                      bool sort) {
  std::vector<Selector> sels;
  for (auto& f : filters) sels.push_back(parse_selector(f, cwd));
  auto r = filter_projects(g, sels);
  REQUIRE(r);
  auto out = names(g, *r);
  if (sort) std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("workspace: selector grammar as pnpm parses it") {
  struct Row {
    std::string raw;
    Selector want;
  };
  auto sel = [](auto f) {
    Selector s;
    f(s);
    return s;
  };
  std::vector<Row> rows = {
      {"foo", sel([](Selector& s) { s.name_pattern = "foo"; })},
      {"foo...", sel([](Selector& s) { s.name_pattern = "foo", s.include_dependencies = true; })},
      {"...foo", sel([](Selector& s) { s.name_pattern = "foo", s.include_dependents = true; })},
      {"...foo...", sel([](Selector& s) { s.name_pattern = "foo", s.include_dependents = s.include_dependencies = true; })},
      {"foo^...", sel([](Selector& s) { s.name_pattern = "foo", s.include_dependencies = s.exclude_self = true; })},
      {"...^foo", sel([](Selector& s) { s.name_pattern = "foo", s.include_dependents = s.exclude_self = true; })},
      {"!@s/*", sel([](Selector& s) { s.name_pattern = "@s/*", s.exclude = true; })},
      {"./foo", sel([](Selector& s) { s.parent_dir = "/prefix/foo"; })},
      {"../foo", sel([](Selector& s) { s.parent_dir = "/foo"; })},
      {".", sel([](Selector& s) { s.parent_dir = "/prefix"; })},
      {"..", sel([](Selector& s) { s.parent_dir = "/"; })},
      {"!./foo", sel([](Selector& s) { s.parent_dir = "/prefix/foo", s.exclude = true; })},
      // A path selector keeps only "!": its "..." is dropped, as pnpm's fallback does.
      {"./foo...", sel([](Selector& s) { s.parent_dir = "/prefix/foo"; })},
      {"...{./foo}", sel([](Selector& s) { s.parent_dir = "/prefix/foo", s.include_dependents = true; })},
      {"{/pkg}", sel([](Selector& s) { s.parent_dir = "/prefix/pkg"; })},
      {"{packages/*}", sel([](Selector& s) { s.parent_dir = "/prefix/packages/*"; })},
      {"@s/b{packages/*}", sel([](Selector& s) { s.name_pattern = "@s/b", s.parent_dir = "/prefix/packages/*"; })},
      {"[master]", sel([](Selector& s) { s.diff = "master"; })},
      {"{foo}[master]", sel([](Selector& s) { s.diff = "master", s.parent_dir = "/prefix/foo"; })},
      // A malformed brace group is part of the name; the fallback name drops "!".
      {"foo{bar", sel([](Selector& s) { s.name_pattern = "foo{bar"; })},
  };
  for (auto& r : rows) {
    CAPTURE(r.raw);
    CHECK(parse_selector(r.raw, "/prefix") == r.want);
  }
}

TEST_CASE("workspace: --filter selections over fixtures/workspace, as pnpm 12.21 selects") {
  struct Row {
    std::vector<std::string> filters;
    std::vector<std::string> want;  // sorted names
    std::string cwd = "/w";
  };
  std::vector<Row> rows = {
      {{"@ws/b"}, {"@ws/b"}},
      {{"@ws/a..."}, {"@ws/a", "@ws/b", "@ws/c"}},
      {{"...@ws/c"}, {"@ws/a", "@ws/b", "@ws/c", "ws-root"}},
      {{"...^@ws/c"}, {"@ws/a", "@ws/b", "ws-root"}},
      {{"@ws/a^..."}, {"@ws/b", "@ws/c"}},
      {{"...@ws/b..."}, {"@ws/a", "@ws/b", "@ws/c", "ws-root"}},
      {{"...{packages/b}"}, {"@ws/a", "@ws/b", "ws-root"}},
      {{"@ws/*"}, {"@ws/a", "@ws/b", "@ws/c"}},
      {{"*"}, {"@ws/a", "@ws/b", "@ws/c", "ws-root"}},
      {{"ws-*"}, {"ws-root"}},
      {{"b"}, {"@ws/b"}},  // an unscoped name finds the one @*/b
      {{"nope"}, {}},
      {{"{packages/*}"}, {"@ws/a", "@ws/b", "@ws/c"}},
      {{"./packages/*"}, {"@ws/a", "@ws/b", "@ws/c"}},
      {{"{packages/**}"}, {"@ws/a", "@ws/b", "@ws/c"}},
      {{"./packages"}, {}},  // a directory selector names projects, not their parent
      {{"./packages/b"}, {"@ws/b"}},
      {{"."}, {"ws-root"}},
      {{"{.}"}, {"ws-root"}},
      {{"."}, {"@ws/c"}, "/w/packages/c"},
      {{"./packages/b"}, {}, "/w/packages/c"},
      {{"@ws/b{packages/*}"}, {"@ws/b"}},
      {{"!{.}"}, {"@ws/a", "@ws/b", "@ws/c"}},
      // pnpm 12.21 evaluates in order: a first exclusion starts from every project.
      {{"!@ws/a", "!{.}"}, {"@ws/b", "@ws/c"}},
      {{"!@ws/a", "!@ws/b", "!{.}"}, {"@ws/c"}},
      {{"!@ws/a", "@ws/a"}, {"@ws/a", "@ws/b", "@ws/c", "ws-root"}},
      {{"@ws/a", "!@ws/a"}, {}},
      {{"@ws/*", "!@ws/b"}, {"@ws/a", "@ws/c"}},
      {{"!@ws/b", "@ws/*"}, {"@ws/a", "@ws/b", "@ws/c", "ws-root"}},
      {{"@ws/a...", "!@ws/c"}, {"@ws/a", "@ws/b"}},
      {{"!@ws/c", "@ws/a..."}, {"@ws/a", "@ws/b", "@ws/c", "ws-root"}},
  };
  Graph g = fixture_graph();
  for (auto& r : rows) {
    CAPTURE(r.filters, r.cwd);
    CHECK(select_names(g, r.filters, r.cwd, true) == r.want);
  }
}

TEST_CASE("workspace: selection order is pnpm's (walked dependencies, dependents, then single picks)") {
  // Orders inferred from pnpm 12.21's dispatch with --workspace-concurrency=1, which starts
  // ready projects in selection order.
  struct Row {
    std::vector<std::string> filters;
    std::vector<std::string> want;
  };
  std::vector<Row> rows = {
      {{"p3", "p1"}, {"p3", "p1"}},
      {{"p2...", "p3"}, {"p2", "p1", "p3"}},
      {{"p3", "p2..."}, {"p2", "p1", "p3"}},
      {{"...p1", "p4"}, {"p1", "p2", "p4"}},
      {{"!p1", "p2..."}, {"root", "p2", "p3", "p4", "p1"}},
      {{"p3", "!p1", "p2..."}, {"p3", "p2", "p1"}},
      {{"p4", "!p4", "p4", "p1"}, {"p4", "p1"}},
      {{"p2...", "!p1"}, {"p2"}},
  };
  Graph g = pairs_graph();
  for (auto& r : rows) {
    CAPTURE(r.filters);
    CHECK(select_names(g, r.filters, "/r", false) == r.want);
  }
}

TEST_CASE("workspace: --filter-prod follows production edges only and is selected first") {
  Graph all = pairs_graph(), prod = pairs_graph(true);
  auto sel = [](std::string raw, bool prod_only) {
    Selector s = parse_selector(raw, "/r");
    s.follow_prod_deps_only = prod_only;
    return s;
  };
  auto r = select_projects(all, prod, {sel("p4...", true)});
  REQUIRE(r);
  CHECK(names(all, r->selected) == std::vector<std::string>{"p4"});  // p3 is only a devDependency
  r = select_projects(all, prod, {sel("p2...", false), sel("p4...", true)});
  REQUIRE(r);
  CHECK(names(all, r->selected) == std::vector<std::string>{"p4", "p2", "p1"});
  CHECK(r->prod_only[4]);
  CHECK_FALSE(r->prod_only[2]);
  r = select_projects(all, prod, {});
  REQUIRE(r);
  CHECK(r->selected.size() == 5);
}

TEST_CASE("workspace: unsupported selectors are errors, not empty selections") {
  Graph g = fixture_graph();
  auto changed = filter_projects(g, {parse_selector("[main]", "/w")});
  REQUIRE_FALSE(changed);
  CHECK(changed.error().message.find("[main]") != std::string::npos);
  CHECK_FALSE(filter_projects(g, {parse_selector("", "/w")}));
}

TEST_CASE("workspace: a selection sorts dependencies first, through unselected projects") {
  Graph g = fixture_graph();
  auto idx = [&](const char* n) {
    for (size_t i = 0; i < g.size(); ++i)
      if (g.projects[i].name == n) return i;
    FAIL(n);
    return size_t(0);
  };
  // @ws/a reaches @ws/c only through the unselected @ws/b.
  auto chunks = sort_selected(g, {idx("@ws/a"), idx("@ws/c")});
  REQUIRE(chunks.size() == 2);
  CHECK(names(g, chunks[0]) == std::vector<std::string>{"@ws/c"});
  CHECK(names(g, chunks[1]) == std::vector<std::string>{"@ws/a"});
  Graph p = pairs_graph();
  chunks = sort_selected(p, {1, 2, 3, 4});
  REQUIRE(chunks.size() == 2);
  CHECK(names(p, chunks[0]) == std::vector<std::string>{"p1", "p3"});
  CHECK(names(p, chunks[1]) == std::vector<std::string>{"p2", "p4"});
}
