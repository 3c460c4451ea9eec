#pragma once
// The host's Node.js version, for `engines` checks.
#include <future>
#include <optional>
#include <string>

namespace tarn {

// Spawning `node --version` costs ~30 ms with warm caches and ~140 ms cold, on the hot
// path. The answer is cached in the store, keyed by the node binary's identity (path,
// inode, size, mtime), so an unchanged node is never spawned twice; on a miss the probe
// runs on its own thread while the lockfile is parsed.
class NodeProbe {
 public:
  explicit NodeProbe(std::string cache_file);
  // As detect_node_version(): without the "v"; kUnknownNodeVersion when there is no node.
  std::string get();

 private:
  std::string cache_file_, key_;
  std::optional<std::string> known_;
  std::future<std::string> pending_;
};

}  // namespace tarn
