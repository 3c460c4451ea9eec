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
//   Revalidate: a conditional GET (If-None-Match / If-Modified-Since from the cached copy);
//     a 304 reuses the cache, and a failed request falls back to it (pnpm, public registries).
//   PreferOffline: the cached copy without a request; a request only when there is none.
//   Offline: the cached copy or ERR_PNPM_NO_OFFLINE_META, never a request.
enum class CacheMode { Revalidate, PreferOffline, Offline };

struct PackumentClientOptions {
  std::string registry;  // "https://registry.npmjs.org/" (with trailing slash)
  // Settings::cache_dir; files go to <cache_dir>/metadata-v1/<host[+port]>/<name>.json
  // (full documents: metadata-full-v1), as pnpm's <cache-dir>/v11/metadata{,-full}/.
  // Empty: no disk cache.
  std::string cache_dir;
  CacheMode mode = CacheMode::Revalidate;
  // Unused: get() chooses per call (pnpm's resolver asks for the abbreviated document, and
  // for the full one, which has `time`, when time-based resolution or trustPolicy needs it,
  // for optional dependencies, or when minimumReleaseAge meets a package modified after
  // the cutoff).
  bool full_metadata = true;
  // Authorization header value per registry origin is resolved by the caller's config.
  std::function<std::optional<std::string>(const std::string& url)> authorization;
  // pnpm has no cap; this one only stops a hostile registry (npm's largest full packuments
  // are some tens of MB, and a body is parsed in memory).
  uint64_t max_body_bytes = uint64_t{512} << 20;
  // The registry of a name when it is not `registry`: .npmrc's "@scope:registry=" (pnpm
  // fetches a scoped package's metadata from its scope's registry). Unset: `registry`.
  // (Last, so that positional initializers of the fields above still compile.)
  std::function<std::string(const PkgName&)> registry_for = nullptr;
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

// Fetches packuments; every request for one name shares one fetch (in-flight de-dup), and
// the answer is kept for the client's lifetime (abbreviated and full documents apart).
// Thread-safe. Callbacks run on a TBB worker (never inside get(), never on the network
// thread): keep them short. Parsing runs on TBB tasks too; only the trimmed model is kept,
// the response body is released once parsed.
class PackumentClient : public PackumentSource {
 public:
  PackumentClient(net::Fetcher& fetcher, PackumentClientOptions options);
  ~PackumentClient() override;
  void get(const PkgName& name, bool full, Callback done) override;
  // The registry URL of a name's packument: scoped names as "@scope%2Fname" (pnpm's
  // encodeURIComponent of the part after '@').
  static std::string url_for(const std::string& registry, const PkgName& name);

  // Statistics for --perf and the bench.
  uint64_t metadata_bytes() const;  // bodies received (a 304 adds none)
  uint64_t requests() const;        // GETs sent
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
