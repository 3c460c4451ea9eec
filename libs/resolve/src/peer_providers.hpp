#pragma once
// pnpm's peer-hoist discovery (resolving-deps-resolver resolve_peers/discovery.rs and
// walker.rs, discovery mode), reduced to the one output tarn takes from it: which peer each
// walked subtree bound to which provider (NodeOutput::auto_install_resolved_peers). pnpm's
// append_resolved_peer_providers (resolve_importer.rs) makes such a provider a dependency of
// the importer. Which binding is reported depends on pnpm's walk order and on which visits
// its caches answer (those report nothing), so this walk keeps pnpm's node identities, its
// two-pass child order and its pure/peers caches, persistent across rounds and importers.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tarn/resolve/resolver.hpp"

namespace tarn::resolve {

// One node of pnpm's eagerly resolved tree (the resolution walk's occurrences).
struct EagerOcc {
  size_t pkg;
  size_t parent;  // occurrence, SIZE_MAX under an importer
  size_t slot;    // index in the parent package's children or the importer's deps
};

class PeerProviderDiscovery {
 public:
  using NodeId = std::uint64_t;
  struct Direct {
    std::string alias;
    NodeId node;
  };
  PeerProviderDiscovery();
  ~PeerProviderDiscovery();
  PeerProviderDiscovery(const PeerProviderDiscovery&) = delete;
  PeerProviderDiscovery& operator=(const PeerProviderDiscovery&) = delete;

  // The node pnpm gives occurrence `occ`: leaves share one per package.
  NodeId node_of(const ResolvedTree& tree, const std::vector<EagerOcc>& occs, size_t occ) const;
  // The package of an eagerly resolved node; SIZE_MAX for one the walk materialized (pnpm's
  // provider_pkg_ids drops those).
  size_t eager_pkg(NodeId node) const;
  // One discovery pass (pnpm's discover_peers): `direct` is the importer's whole direct set,
  // the walk covers direct[walk_from..]; `providers` are the nodes appended as peer providers.
  // Returns peer alias -> the provider node its last reported binding chose.
  std::map<std::string, NodeId> discover(const ResolvedTree& tree, const std::vector<EagerOcc>& occs,
                                         const std::vector<size_t>& owner_of, const std::vector<Direct>& direct,
                                         size_t walk_from, const std::vector<NodeId>& providers);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::resolve
