#pragma once
// Registry metadata (a "packument"), trimmed to what resolution and the lockfile need, and
// the client that fetches it over the shared connection pool with an on-disk cache beside
// the store. Asio stays behind tarn/net.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tarn/core/error.hpp"
#include "tarn/core/semver.hpp"
#include "tarn/core/types.hpp"

namespace tarn::net {
class Fetcher;
}

namespace tarn::resolve {

// One published version, as the lockfile's `packages:` entry and the resolver need it.
// Maps keep the manifest's key order where pnpm's lockfile keeps it (it sorts most).
struct PackageVersion {
  Version version;
  std::vector<std::pair<std::string, std::string>> dependencies, optional_dependencies,
      peer_dependencies;                       // name -> range, manifest order
  std::vector<std::string> optional_peers;     // peerDependenciesMeta[x].optional == true
  std::vector<std::pair<std::string, std::string>> engines;
  std::vector<std::string> os, cpu, libc;
  std::vector<std::string> bundled_dependencies;  // bundleDependencies / bundledDependencies
  bool bundle_all = false;                        // bundleDependencies: true
  bool has_bin = false;                           // `bin` or `directories.bin`
  bool has_install_script = false;                // preinstall/install/postinstall or binding.gyp hint
  std::optional<std::string> deprecated;
  TarballUrl tarball;
  std::optional<Integrity> integrity;  // dist.integrity, else derived from dist.shasum
};

struct Packument {
  PkgName name;
  std::map<std::string, std::string> dist_tags;  // "latest" -> "1.2.3"
  std::vector<PackageVersion> versions;          // ascending by semver precedence
  // Publish times by version (ISO-8601 as the registry wrote it), for minimumReleaseAge and
  // time-based resolution; empty when the registry sent none.
  std::map<std::string, std::string> time;
  std::string modified;  // time.modified

  const PackageVersion* find(const Version& v) const;
};

// How the client may use its cache (pnpm's --offline / --prefer-offline).
enum class CacheMode { Revalidate, PreferOffline, Offline };

struct PackumentClientOptions {
  std::string registry;   // "https://registry.npmjs.org/" (with trailing slash)
  std::string cache_dir;  // "<cache>/metadata-v1"; empty: no disk cache
  CacheMode mode = CacheMode::Revalidate;
  bool full_metadata = true;  // `time` is needed (minimumReleaseAge, time-based mode)
  // Authorization header value per registry origin is resolved by the caller's config.
  std::function<std::optional<std::string>(const std::string& url)> authorization;
};

// Where the resolver gets packuments from: the registry client, or a table in tests.
class PackumentSource {
 public:
  using Callback = std::function<void(Result<std::shared_ptr<const Packument>>)>;
  virtual ~PackumentSource() = default;
  // Thread-safe; `done` may run on any thread, possibly before get() returns. `full`: the
  // whole document (with `time`), not npm's abbreviated one.
  virtual void get(const PkgName& name, bool full, Callback done) = 0;
};

// Fetches packuments; every request for one name shares one fetch (in-flight de-dup).
// Thread-safe. Callbacks run on the network thread or a TBB worker: keep them short.
class PackumentClient : public PackumentSource {
 public:
  PackumentClient(net::Fetcher& fetcher, PackumentClientOptions options);
  ~PackumentClient() override;
  void get(const PkgName& name, bool full, Callback done) override;

  // Statistics for --perf and the bench.
  uint64_t metadata_bytes() const;  // bodies received (a 304 adds none)
  uint64_t requests() const;
  uint64_t not_modified() const;
  uint64_t cache_hits() const;  // served from disk without a request

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses a registry response body (full or abbreviated JSON) into the trimmed model.
// `what` names the package for errors.
Result<Packument> parse_packument(std::string_view json, const PkgName& what);

}  // namespace tarn::resolve
