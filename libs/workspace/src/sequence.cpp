// Topological chunks (sequence.hpp), after pnpm's graph_sequencer.rs and the recursive
// commands' sort_projects.
#include "tarn/workspace/sequence.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <set>

namespace tarn::workspace {

namespace {

// The longest cycle through `start` that avoids `visited`, found breadth first; empty when
// `start` is on no cycle.
std::vector<size_t> find_cycle(size_t start, const std::vector<std::vector<size_t>>& edges,
                               const std::vector<char>& visited) {
  std::deque<std::pair<size_t, std::vector<size_t>>> queue{{start, {start}}};
  std::vector<char> seen(edges.size(), 0);
  std::vector<std::vector<size_t>> found;
  while (!queue.empty()) {
    auto [id, cycle] = std::move(queue.front());
    queue.pop_front();
    for (size_t to : edges[id]) {
      if (to == start) {
        seen[to] = 1;
        found.push_back(cycle);
        continue;
      }
      if (visited[to] || seen[to]) continue;
      seen[to] = 1;
      auto next = cycle;
      next.push_back(to);
      queue.emplace_back(to, std::move(next));
    }
  }
  std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
  return found.empty() ? std::vector<size_t>{} : found.front();
}

struct Sequencer {
  const std::vector<std::vector<size_t>>& edges;
  std::vector<std::vector<size_t>> reverse;
  std::vector<size_t> out_degree;
  std::vector<char> remaining, visited;

  Sequencer(const std::vector<std::vector<size_t>>& e, const std::vector<size_t>& included)
      : edges(e), reverse(e.size()), out_degree(e.size(), 0), remaining(e.size(), 0), visited(e.size(), 0) {
    for (size_t n : included) remaining[n] = 1;
    for (size_t from = 0; from < e.size(); ++from) {
      for (size_t to : e[from])
        if (remaining[from] && remaining[to]) ++out_degree[from], reverse[to].push_back(from);
      if (!remaining[from]) visited[from] = 1;
    }
  }
  void remove(size_t n) {
    for (size_t parent : reverse[n])
      if (out_degree[parent] > 0) --out_degree[parent];
    visited[n] = 1;
    remaining[n] = 0;
  }
};

}  // namespace

std::vector<std::vector<size_t>> graph_sequencer(const std::vector<std::vector<size_t>>& edges,
                                                 const std::vector<size_t>& included) {
  Sequencer s(edges, included);
  std::vector<std::vector<size_t>> chunks;
  auto any_left = [&] { return std::any_of(included.begin(), included.end(), [&](size_t n) { return s.remaining[n]; }); };
  while (any_left()) {
    std::vector<size_t> chunk;
    size_t min_degree = SIZE_MAX;
    for (size_t n : included) {
      if (!s.remaining[n]) continue;
      if (s.out_degree[n] == 0) chunk.push_back(n);
      min_degree = std::min(min_degree, s.out_degree[n]);
    }
    if (min_degree == 0) {
      for (size_t n : chunk) s.remove(n);
      chunks.push_back(std::move(chunk));
      continue;
    }
    std::vector<size_t> cycle_nodes;
    for (size_t n : included) {
      if (!s.remaining[n]) continue;
      auto cycle = find_cycle(n, edges, s.visited);
      for (size_t c : cycle) s.remove(c);
      cycle_nodes.insert(cycle_nodes.end(), cycle.begin(), cycle.end());
    }
    chunks.push_back(std::move(cycle_nodes));
  }
  return chunks;
}

std::vector<std::vector<size_t>> selected_dependencies(const std::vector<std::vector<size_t>>& deps,
                                                       const std::vector<size_t>& selected) {
  std::vector<char> is_selected(deps.size(), 0);
  for (size_t i : selected) is_selected[i] = 1;
  std::vector<std::vector<size_t>> out(deps.size());
  for (size_t p : selected) {
    std::vector<char> seen(deps.size(), 0);
    std::vector<size_t> stack = deps[p];
    while (!stack.empty()) {
      size_t d = stack.back();
      stack.pop_back();
      if (d == p || seen[d]) continue;
      seen[d] = 1;
      if (is_selected[d]) out[p].push_back(d);
      else stack.insert(stack.end(), deps[d].begin(), deps[d].end());
    }
  }
  return out;
}

std::vector<std::vector<size_t>> selected_dependencies(const Graph& g, const std::vector<size_t>& selected) {
  return selected_dependencies(g.deps, selected);
}

std::vector<std::vector<size_t>> sort_selected(const Graph& g, const std::vector<size_t>& selected) {
  return graph_sequencer(selected_dependencies(g, selected), selected);
}

}  // namespace tarn::workspace
