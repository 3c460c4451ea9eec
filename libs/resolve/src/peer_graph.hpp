#pragma once
// pnpm's peer pass (resolve_peers): walks every occurrence of every package under each
// importer, binds each peer to the nearest provider above it, and names each occurrence by
// its pkg id plus the sorted suffix of the peers it and its subtree took from above.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "walk_internal.hpp"

namespace tarn::resolve {

// One snapshot of the resolved graph.
struct GraphNode {
  size_t pkg = SIZE_MAX;
  struct Edge {
    PkgName alias;
    std::string dep_path;  // the child's (or peer provider's) snapshot key
    bool optional = false;
  };
  std::vector<Edge> edges;                       // regular children, then own resolved peers
  std::set<std::string> transitive_peers;        // names, written sorted
  std::set<std::string> resolved_peer_names;     // every peer the suffix names
};

struct PeerGraph {
  std::map<std::string, GraphNode> nodes;  // snapshot key -> node
  // Per importer (tree order), per direct dependency: its snapshot key ("" when dropped).
  std::vector<std::vector<std::string>> direct;
  std::vector<std::map<std::string, MissingPeer>> missing;  // per importer
  std::vector<std::string> bad;                              // "a@1 wants b@^2, found 1.0.0"
};

PeerGraph resolve_peers(const ResolvedTree& tree, bool record_graph);

// Tarjan's strongly connected components of a graph given as adjacency lists: each node's
// component.
std::vector<size_t> scc_ids(const std::vector<std::vector<size_t>>& adj);

// pnpm's dedupePeerDependents: a peer variant whose edges and peer names are subsets of a
// larger variant of the same package is merged into it.
void dedupe_peer_dependents(PeerGraph& g, const ResolvedTree& tree);

}  // namespace tarn::resolve
