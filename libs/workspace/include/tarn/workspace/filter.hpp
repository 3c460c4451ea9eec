#pragma once
// --filter / --filter-prod: pnpm's project selector grammar and its selection over the
// projects graph (pnpm's workspace-projects-filter), with pnpm 12.21's ordered evaluation.
//
//   <name-glob>          projects by package name ('*' globs; "b" also finds a lone "@*/b")
//   ./dir, ../dir, .     projects at that path (relative to the current directory; globs)
//   {dir}                the same, braced: may follow a name ("@s/*{packages/*}")
//   <sel>...             with its dependencies;   <sel>^...  only its dependencies
//   ...<sel>             with its dependents;     ...^<sel>  only its dependents
//   !<sel>               excluded from what the selectors before it selected
//   [<since>]            changed since a git ref: not supported by tarn (an error)
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/core/error.hpp"
#include "tarn/workspace/graph.hpp"

namespace tarn::workspace {

struct Selector {
  bool exclude = false;               // "!": subtracted from the selection
  bool exclude_self = false;          // "^": the matched projects themselves are left out
  bool include_dependencies = false;  // trailing "..."
  bool include_dependents = false;    // leading "..."
  std::optional<std::string> name_pattern;
  std::optional<std::string> parent_dir;  // absolute, lexically normalised; may hold globs
  std::optional<std::string> diff;        // "[<since>]"
  bool follow_prod_deps_only = false;     // from --filter-prod, not from the text
  bool operator==(const Selector&) const = default;
};

// One selector, as pnpm's parse_project_selector reads it; path selectors resolve
// against `prefix` (the directory the command runs in).
Selector parse_selector(std::string_view raw, std::string_view prefix);

// The projects `selectors` select from `g`, in pnpm's order. pnpm 12.21 evaluates them in
// order: a run of consecutive inclusions adds its projects, a run of exclusions removes
// its projects, and a first exclusion starts from every project. Within a run, projects
// come as pnpm's walk buckets them: dependencies walked, dependents walked, the dependents'
// dependencies, then projects selected by themselves. Fails on a [<since>] selector.
Result<std::vector<size_t>> filter_projects(const Graph& g, const std::vector<Selector>& selectors);

// --filter and --filter-prod together: the prod selectors against `prod` (the graph
// without devDependencies edges, same projects), the others against `all`; the prod
// selection first. No selectors: every project.
struct Selection {
  std::vector<size_t> selected;
  std::vector<char> prod_only;  // per project: selected only through --filter-prod
};
Result<Selection> select_projects(const Graph& all, const Graph& prod, const std::vector<Selector>& selectors);

// A directory glob as pnpm's directory selectors match it: '*' within a segment, "**" any
// number of whole segments.
bool dir_glob_match(std::string_view candidate, std::string_view pattern);

}  // namespace tarn::workspace
