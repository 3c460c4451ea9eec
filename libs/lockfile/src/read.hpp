#pragma once
// Inside tarn_lockfile: reading the sections of one YAML document into a Partial, which
// the whole-text and the chunked parallel paths of Lockfile::parse both merge.
#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tarn/lockfile/lockfile.hpp"

namespace tarn::detail {

struct Settings {
  bool auto_install_peers = true;
  std::optional<bool> dedupe_peers;
  bool exclude_links_from_lockfile = false;
  bool inject_workspace_packages = false;
  std::optional<uint64_t> peers_suffix_max_length;
};

// What one YAML document (or one chunk of it) contributes to the lockfile. Every key but
// packages:/snapshots: lives in exactly one chunk, so merging takes what a chunk has.
struct Partial {
  std::optional<std::string> lockfile_version;
  std::optional<Settings> settings;
  std::map<std::string, std::map<std::string, CatalogEntry>> catalogs;
  std::vector<std::pair<std::string, std::string>> overrides;
  std::optional<std::string> package_extensions_checksum, pnpmfile_checksum;
  std::map<std::string, std::string> patched;
  std::vector<std::string> ignored_optional;
  std::map<std::string, std::string> time;
  std::vector<Importer> importers;
  std::vector<std::pair<std::string, PackageMeta>> packages;
  std::vector<Snapshot> snapshots;
};

Error bad(const std::string& path, const std::string& why);

// Throws YAML::Exception on nodes of the wrong shape; the callers turn it into an error.
Result<void> read_document(const YAML::Node& root, Partial& out, const std::string& path);
void merge(Partial& all, Partial&& p);

// The env document (pnpm's first YAML document), or an error naming `path`.
Result<EnvLockfile> read_env_document(const std::string& text, const std::string& path);

// The text with what yaml-cpp misreads rewritten to what it reads right (compat.cpp), or
// nullopt when there is nothing to mend.
std::optional<std::string> mend_for_yaml_cpp(std::string_view text);

// pnpm's is_git_hosted_tarball_url: an immutable archive URL of GitHub, GitLab or Bitbucket.
bool is_git_hosted_tarball_url(std::string_view url);

}  // namespace tarn::detail
