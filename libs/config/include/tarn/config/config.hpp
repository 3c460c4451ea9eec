#pragma once
// Settings that shape an install, merged pnpm's way: ~/.npmrc < project .npmrc <
// pnpm-workspace.yaml < command-line flags.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tarn/core/package_extension.hpp"
#include "tarn/core/types.hpp"
#include "tarn/core/error.hpp"

namespace tarn {

// pnpm's hoist-pattern matcher: '*' globs, '!' negates; later negations veto earlier hits.
class Matcher {
 public:
  Matcher() = default;
  explicit Matcher(std::vector<std::string> patterns);
  bool matches(std::string_view name) const;
  bool empty() const { return pats_.empty(); }

 private:
  struct Pat {
    std::string glob;
    bool ignore;
  };
  std::vector<Pat> pats_;
};

bool glob_match(std::string_view glob, std::string_view s);

struct SupportedArchitectures {
  std::vector<std::string> os, cpu, libc;  // empty axis = "current"
};

struct Settings {
  std::string project_dir;  // absolute
  std::string store_dir;    // absolute
  // pnpm's cache-dir, where registry metadata is cached (absolute). tarn's own, beside its
  // store, never pnpm's: default_cache_dir().
  std::string cache_dir;
  // pnpm's offline / prefer-offline: metadata from the cache only, or the cache first.
  bool offline = false, prefer_offline = false;
  std::string registry = "https://registry.npmjs.org/";
  std::map<std::string, std::string> scoped_registries;  // "@scope" -> url ending in '/'
  // Credentials by .npmrc "nerf dart" ("//host/path/"; "" for the default registry).
  struct Credentials {
    std::string token;               // _authToken
    std::string auth;                // _auth: base64 of user:password
    std::string username, password;  // password base64-encoded, as npm writes it
  };
  std::map<std::string, Credentials> credentials;
  std::vector<std::string> hoist_pattern{"*"};
  std::vector<std::string> public_hoist_pattern{};
  std::optional<SupportedArchitectures> supported_architectures;
  size_t virtual_store_dir_max_length = SlotName::kDefaultMaxLength;
  // HTTP/1.1 keep-alive connections to the registry. Measured on alotta-modules here
  // (tmpfs store, cold): 16 -> 6.5 s, 24 -> 4.9 s, 32 -> 5.2 s, 64 -> 10.9 s; past ~25
  // concurrent connects this network stalls new connections for 5 s. pnpm 12 uses 64.
  size_t network_concurrency = 24;
  std::vector<std::string> sources;  // files that contributed, for the state hash
  // pnpm-workspace.yaml `packages`: globs of workspace projects, relative to the root.
  std::vector<std::string> workspace_packages;
  bool workspace_file = false;  // a pnpm-workspace.yaml was read
  // Which dependencies may run build scripts: allowBuilds (pnpm 11+; name -> allowed),
  // and pnpm 10's onlyBuiltDependencies / neverBuiltDependencies.
  std::map<std::string, bool> allow_builds;
  bool ignore_scripts = false;
  // pnpm's pnpmfile (a path; default .pnpmfile.mjs or .pnpmfile.cjs beside the lockfile) and
  // ignorePnpmfile. tarn runs no hooks: it checks pnpmfileChecksum, and refuses to resolve.
  std::string pnpmfile;
  bool ignore_pnpmfile = false;
  // pnpm-workspace.yaml injectWorkspacePackages: the lockfile records it; pnpm 12.21 still
  // links workspace dependencies (install/resolve.cpp).
  bool inject_workspace_packages = false;
  // strictDepBuilds (pnpm 12 default true): ignored dependency builds fail the install.
  bool strict_dep_builds = true;
  bool engine_strict = false;
  std::vector<std::pair<std::string, std::string>> overrides;  // pnpm-workspace.yaml `overrides`, declared order (the lockfile keeps it)
  // pnpm-workspace.yaml `catalog` (the catalog "default") and `catalogs`: catalog -> alias ->
  // specifier, for `catalog:` and `catalog:<name>` dependencies.
  std::map<std::string, std::map<std::string, std::string>> catalogs;
  // pnpm-workspace.yaml `packageExtensions`, declared order, and pnpm's checksum of them
  // (the lockfile's packageExtensionsChecksum; none when there are none).
  std::vector<PackageExtension> package_extensions;
  std::optional<std::string> package_extensions_checksum;
  // pnpm-workspace.yaml `patchedDependencies`: selector ("name@1.0.0", "name") -> patch
  // file, as written (relative to the workspace root unless absolute).
  std::map<std::string, std::string> patched_dependencies;
  bool auto_install_peers = true;                // auto-install-peers / autoInstallPeers
  // Resolution (pnpm 12's defaults): minimumReleaseAge in minutes (0: off), its exclusions,
  // resolutionMode, dedupePeerDependents, strictPeerDependencies; and how `add` writes
  // ranges (savePrefix, saveExact).
  unsigned minimum_release_age = 1440;
  std::vector<std::string> minimum_release_age_exclude;
  bool minimum_release_age_strict = false;
  std::string resolution_mode = "highest";
  bool dedupe_peer_dependents = true;
  bool strict_peer_dependencies = false;
  std::string save_prefix = "^";
  // pnpm's network retry settings and their defaults (fetch-retries, fetch-retry-factor,
  // fetch-retry-mintimeout, fetch-retry-maxtimeout in ms, fetch-timeout in ms).
  unsigned fetch_retries = 2, fetch_retry_factor = 10;
  unsigned long fetch_retry_mintimeout = 10'000, fetch_retry_maxtimeout = 60'000, fetch_timeout = 60'000;

  // Proxy keys as written (pnpm 12's ProxyKeys): a later layer that names a key replaces
  // it, even with a value that reads as unset ("", "false", "null"), so the cascade then
  // falls through to other keys and the environment, never to a lower layer of the key.
  // In .npmrc: https-proxy, http-proxy, proxy, no-proxy / noproxy (one slot);
  // in pnpm-workspace.yaml: httpsProxy, httpProxy, proxy, noProxy, noproxy.
  struct ProxyKeys {
    std::optional<std::string> https_proxy, http_proxy, legacy_proxy, no_proxy, noproxy;
  };
  ProxyKeys proxy_keys;
  // HTTPS_PROXY / https_proxy, HTTP_PROXY / http_proxy, PROXY / proxy (in legacy_proxy),
  // NO_PROXY / no_proxy: read by load_settings, upper case first, as pnpm 12 does.
  ProxyKeys proxy_env;
  struct Proxy {
    std::string https, http;  // proxy URLs for https:// and http:// targets; empty: direct
    std::string no_proxy;     // raw list ("a.com,.b.org") or "true"; empty: no bypass
  };
  Proxy proxy() const;  // pnpm 12's proxy cascade over proxy_keys and proxy_env
  // strict-ssl (pnpm default true: only the literal "true"/"false" change it); ca (inline
  // PEM; ca[]= repeats) and cafile (a PEM bundle, absolute; a missing file is ignored, as
  // pnpm 12 ignores it). pnpm 12 adds these CAs to the default roots.
  bool strict_ssl = true;
  std::vector<std::string> ca;
  std::string cafile;
  // The PEM certificates to trust besides the default roots: `ca` entries, then cafile's.
  std::vector<std::string> ca_certs() const;

  const std::string& registry_for(const PkgName& name) const;
  // The Authorization header for `url`: the credentials of the longest configured
  // //host/path/ prefix of it ("Bearer <token>" or "Basic <base64>"), if any. Sent only
  // to that origin; the fetcher drops it on a redirect elsewhere.
  std::optional<std::string> authorization_for(std::string_view url) const;
  // Tarball URL of a registry package: <registry><name>/-/<bare>-<version>.tgz
  TarballUrl tarball_url(const PkgName& name, std::string_view version) const;
  // Stable text of every setting that changes the resulting node_modules.
  std::string fingerprint() const;
};

struct CliOverrides {
  std::optional<std::string> store_dir;
  std::optional<std::string> registry;
  std::optional<std::string> cache_dir = std::nullopt;
};

// Reads the config files around `project_dir`; `env` lookups use getenv.
Result<Settings> load_settings(const std::string& project_dir, const CliOverrides& cli);

// Parses .npmrc text into `s` (exposed for tests). `base_dir` resolves relative paths.
void apply_npmrc(Settings& s, std::string_view text, const std::string& base_dir);
Result<void> apply_workspace_yaml(Settings& s, std::string_view text, const std::string& path);

std::string default_store_dir();
// pnpm's default cache-dir with tarn's name: $TARN_CACHE_DIR, else $XDG_CACHE_HOME/tarn,
// else ~/.cache/tarn (pnpm: $XDG_CACHE_HOME/pnpm, else ~/.cache/pnpm on Linux).
std::string default_cache_dir();

// npm_config_* and pnpm_config_* variables of `envp` as .npmrc lines ("store-dir=...").
std::string environment_npmrc(char** envp);

// The .npmrc and pnpm-workspace.yaml proxy and TLS keys (network.cpp); true when `key` is one.
bool apply_network_setting(Settings& s, const std::string& key, const std::string& val, const std::string& base_dir,
                           bool& reset_ca);
// Reads HTTPS_PROXY, HTTP_PROXY, PROXY and NO_PROXY (then their lower-case forms) into
// s.proxy_env; `get` is getenv or a test's table.
void read_proxy_env(Settings& s, const std::function<const char*(const char*)>& get);

}  // namespace tarn
