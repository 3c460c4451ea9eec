#pragma once
#include <optional>
#include <string>
#include <vector>

#include "tarn/report/reporter.hpp"

namespace tarn {

// What `add`, `remove` and `update` change in the project's package.json; the install then
// resolves, and writes package.json and the lockfile together.
struct ManifestChange {
  enum class Kind { None, Add, Remove, Update } kind = Kind::None;
  std::vector<std::string> specs;  // "name", "name@spec", "npm:..." forms as typed
  enum class Group { Auto, Prod, Dev, Optional } group = Group::Auto;
  bool exact = false;   // --save-exact
  bool peer = false;    // --save-peer
  bool latest = false;  // update --latest
};

struct InstallOptions {
  std::string dir = ".";
  bool frozen_lockfile = false;
  bool ignore_scripts = false;
  bool ignore_pnpmfile = false;
  std::optional<std::string> store_dir;
  std::optional<std::string> registry;
  bool prod = true, dev = true, optional = true;
  bool offline = false, prefer_offline = false;
  size_t network_concurrency = 0;  // 0: from config
  bool lockfile_only = false;      // resolve and write pnpm-lock.yaml; leave node_modules alone
  ManifestChange change;
  // --filter / --filter-prod selectors (pnpm's grammar; path selectors resolve against
  // `dir`). Empty: every project. With selectors, pnpm installs the selected projects and
  // the root, and keeps what an earlier install put in the other projects.
  std::vector<std::string> filter, filter_prod;
  bool filtered() const { return !filter.empty() || !filter_prod.empty(); }
};

// The whole install; every failure comes back as one or more errors.
Result<void> install(const InstallOptions& opt, Reporter& reporter);

}  // namespace tarn
