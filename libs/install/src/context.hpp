#pragma once
// One install's shared state. Passes (one file each, declared in passes.hpp) run in
// sequence over it; each is parallel inside. Ownership: the context owns everything a
// pass reads or writes; a pass keeps nothing after it returns.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host_node.hpp"
#include "state.hpp"
#include "tarn/config/config.hpp"
#include "tarn/fs/fs.hpp"
#include "tarn/install/install.hpp"
#include "tarn/linker/plan.hpp"
#include "tarn/lockfile/lockfile.hpp"
#include "tarn/lockfile/manifest.hpp"
#include "tarn/net/fetcher.hpp"
#include "tarn/store/store.hpp"

namespace tarn {

class TarballPrefetch;

// One project of the workspace: the root, or a package matched by pnpm-workspace.yaml.
struct Project {
  ImporterId id;
  std::string dir;            // absolute
  std::string manifest_path;  // <dir>/package.json
  std::string manifest_text;
  Manifest manifest;
  // A filtered install (pnpm's mutated importers): the selected projects and the root run
  // through this install (frozen check, scripts); `installed` adds the projects an earlier
  // install linked, whose links stay. Unfiltered: both true for every project.
  bool this_run = true;
  bool installed = true;
};

// Where each planned package comes from and whether the store already has it.
struct Sources {
  std::vector<char> cold;
  size_t cold_count = 0;
  // One download per missing tarball: the packages (slots) it fills. Two slots of one
  // package (different peers) share a tarball.
  std::vector<std::vector<size_t>> downloads;
  // Downloads resolution already started (TarballPrefetch): adopted, not queued again.
  std::vector<std::vector<size_t>> adopted;
  // Likewise one clone per missing git package (git_fetch.cpp).
  std::vector<std::vector<size_t>> git_fetches;
};

// One pnpm-workspace.yaml patchedDependencies entry, its file read once (read_inputs).
struct PatchFile {
  std::string selector;  // "name@1.0.0", "name@^1" or "name"
  std::string path;      // absolute
  std::string text;
  std::string hash;      // pnpm's: sha256 hex of the text with CRLF read as LF
};

// Which planned packages will build (allowBuilds approved, scripts not ignored): decided
// by decide_builds (builds.cpp) right after the plan; imported by copy, built by scripts.
struct Builds {
  std::vector<char> approved;  // per plan.packages index
  size_t approved_count = 0;
  // The patch each package gets (index into InstallContext::patches), -1 for none. A
  // patched package is imported by copy, as an approved one: the patch writes into it.
  std::vector<int> patch;
  size_t patched_count = 0;
  bool private_copy(size_t i) const { return approved[i] || patch[i] >= 0; }
};

struct InstallContext {
  InstallContext(const InstallOptions& o, Reporter& r) : opts(o), rep(r) {}

  const InstallOptions& opts;
  Reporter& rep;
  Settings settings;
  std::string root_dir;  // absolute: the directory holding pnpm-lock.yaml
  std::string lockfile_path, lockfile_text;
  // Until load_lockfile_text (after the up-to-date check) only the lockfile's digest is
  // known: an up-to-date install never holds the text.
  std::optional<LockfileDigest> lockfile_streamed;
  std::vector<Project> projects;  // the root first, then workspace packages by id
  size_t selected_count = 0;      // projects --filter selected (all of them without one)
  bool manifests_parsed = false;  // a filtered install parses them before its up-to-date check
  std::vector<PatchFile> patches;  // by selector
  // The pnpmfile in effect (pnpm's finder) and its text; empty when there is none.
  std::string pnpmfile_path, pnpmfile_text;
  std::string identity;           // hash of every input that decides the tree
  bool has_lockfile = false;  // pnpm-lock.yaml exists (or resolution just wrote it)
  Lockfile lockfile;
  InstallPlan plan;
  std::optional<NodeProbe> node;
  std::optional<Store> store;
  std::optional<net::Fetcher> fetcher;
  // Resolution's tarball downloads (tarball_prefetch.hpp); declared after the store and the
  // fetcher it uses, so it is destroyed (and drained) before them.
  std::shared_ptr<TarballPrefetch> prefetch;
  Sources sources;
  Builds builds;
  std::optional<fs::Dir> root_fd;
  bool modules_existed = false;
  std::string pruned_at;  // the previous .modules.yaml's prunedAt, carried over
  std::vector<std::string> previous_slots;  // the previous complete install's slots

  const Project& root() const { return projects.front(); }
  // Opens connections early (TLS handshakes overlap with parsing and planning).
  void start_fetcher();
};

}  // namespace tarn
