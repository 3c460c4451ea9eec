#pragma once
// Topological order for workspace projects: pnpm's graph sequencer (chunks whose members
// depend only on earlier chunks; a cycle becomes one chunk) and its sort of a selection,
// which follows edges through unselected projects.
#include <cstddef>
#include <vector>

#include "tarn/workspace/graph.hpp"

namespace tarn::workspace {

// pnpm's graph_sequencer over nodes 0..edges.size()-1: `edges[n]` are the nodes n depends
// on; only `included` nodes are sorted (edges to others are ignored), in `included`'s order.
std::vector<std::vector<size_t>> graph_sequencer(const std::vector<std::vector<size_t>>& edges,
                                                 const std::vector<size_t>& included);

// For each of `selected`, the selected projects it depends on, reached through unselected
// ones (pnpm's sorted_dependencies): two selected projects linked only through an
// unselected one are still ordered. Indexed by project.
std::vector<std::vector<size_t>> selected_dependencies(const Graph& g, const std::vector<size_t>& selected);
// The same over bare edges (`deps[n]`: what node n depends on).
std::vector<std::vector<size_t>> selected_dependencies(const std::vector<std::vector<size_t>>& deps,
                                                       const std::vector<size_t>& selected);

// pnpm's sort of a --filter selection: chunks of `selected`, dependencies first.
std::vector<std::vector<size_t>> sort_selected(const Graph& g, const std::vector<size_t>& selected);

}  // namespace tarn::workspace
