#pragma once
// Shared between the walk (walk.cpp) and the peer pass (peers.cpp).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tarn/resolve/resolver.hpp"

namespace tarn::resolve {

// A missing peer found under one importer: the ranges its consumers asked for.
struct MissingPeer {
  std::vector<std::string> ranges;  // of non-optional consumers, first-seen order
  std::vector<std::string> optional_ranges;
  bool required() const { return !ranges.empty(); }
};

// The peer walk without building a graph: which peers nothing provides under importer `i`.
std::map<std::string, MissingPeer> discover_missing_peers(const ResolvedTree& tree, size_t importer);

// The pkg ids ("name@version") in `ancestors` contain the sequence parent ... id: the
// edge parent -> id would start the second lap of a cycle (pnpm keeps the first).
bool closes_second_lap(const std::vector<size_t>& ancestors, size_t parent, size_t id);

}  // namespace tarn::resolve
