#include "tarn/core/error.hpp"

#include <array>
#include <boost/throw_exception.hpp>
#include <map>
#include <set>

namespace tarn {

namespace {

// The one table of codes. Names with ERR_PNPM_ are pnpm's own for the same failure;
// ERR_TARN_ names are tarn's, for failures pnpm reports without a code of its own.
constexpr std::array<CodeInfo, 77> kCodes{{
    {Code::Usage, "ERR_TARN_USAGE", 2, "the command line is wrong (pnpm's parser exits 2 too)"},
    {Code::NoSuchDir, "ERR_TARN_NO_SUCH_DIR", 1, "the project directory does not exist"},
    {Code::NoImporterManifestFound, "ERR_PNPM_NO_IMPORTER_MANIFEST_FOUND", 1, "no package.json in the project"},
    {Code::BadPackageJson, "ERR_PNPM_BAD_PACKAGE_JSON", 1, "package.json has a field of the wrong shape"},
    {Code::JsonParse, "ERR_PNPM_JSON_PARSE", 1, "a JSON file does not parse"},
    {Code::InvalidPackageName, "ERR_PNPM_INVALID_PACKAGE_NAME", 1, "a package name is not a valid npm name"},
    {Code::InvalidWorkspaceConfiguration, "ERR_PNPM_INVALID_WORKSPACE_CONFIGURATION", 1,
     "pnpm-workspace.yaml does not parse or has a field of the wrong shape"},
    {Code::ConfigInvalid, "ERR_TARN_CONFIG", 1, "a setting in .npmrc or the environment has an invalid value"},
    {Code::StoreDir, "ERR_TARN_STORE_DIR", 1, "the store directory cannot be created or opened"},
    {Code::InvalidCatalogsConfiguration, "ERR_PNPM_INVALID_CATALOGS_CONFIGURATION", 1,
     "pnpm-workspace.yaml defines the default catalog twice (catalog and catalogs.default)"},
    {Code::CatalogEntryNotFoundForSpec, "ERR_PNPM_CATALOG_ENTRY_NOT_FOUND_FOR_SPEC", 1,
     "a catalog: specifier names an entry its catalog does not have"},
    {Code::CatalogEntryInvalidRecursiveDefinition, "ERR_PNPM_CATALOG_ENTRY_INVALID_RECURSIVE_DEFINITION", 1,
     "a catalog entry is itself a catalog: specifier"},
    {Code::CatalogEntryInvalidWorkspaceSpec, "ERR_PNPM_CATALOG_ENTRY_INVALID_WORKSPACE_SPEC", 1,
     "a catalog entry uses the workspace: protocol"},
    {Code::CatalogEntryInvalidSpec, "ERR_PNPM_CATALOG_ENTRY_INVALID_SPEC", 1, "a catalog entry uses link: or file:"},
    {Code::CatalogInOverrides, "ERR_PNPM_CATALOG_IN_OVERRIDES", 1, "an override's catalog: value does not resolve"},
    {Code::CannotResolveOverrideVersion, "ERR_PNPM_CANNOT_RESOLVE_OVERRIDE_VERSION", 1,
     "an override's $name value names no direct dependency of the root project"},
    {Code::InvalidSelector, "ERR_PNPM_INVALID_SELECTOR", 1, "an overrides or packageExtensions key names no package"},
    {Code::InvalidConvergenceOverride, "ERR_PNPM_INVALID_CONVERGENCE_OVERRIDE", 1,
     "a convergence override (pkg@) is combined with > or its value is not an exact version"},
    {Code::NoLockfile, "ERR_PNPM_NO_LOCKFILE", 1, "pnpm-lock.yaml is absent and tarn may not resolve"},
    {Code::BrokenLockfile, "ERR_PNPM_BROKEN_LOCKFILE", 1, "pnpm-lock.yaml does not parse"},
    {Code::LockfileBreakingChange, "ERR_PNPM_LOCKFILE_BREAKING_CHANGE", 1, "the lockfile version is not 9"},
    {Code::LockfileBadKey, "ERR_TARN_LOCKFILE_BAD_KEY", 1, "a lockfile key is not a valid dependency path"},
    {Code::LockfileMissingDependency, "ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY", 1,
     "a snapshot names a dependency the lockfile does not have"},
    {Code::LockfileConfigMismatch, "ERR_PNPM_LOCKFILE_CONFIG_MISMATCH", 1,
     "a setting recorded in the lockfile differs from the project's"},
    {Code::OutdatedLockfile, "ERR_PNPM_OUTDATED_LOCKFILE", 1, "package.json and the lockfile disagree"},
    {Code::LockfileWrite, "ERR_PNPM_LOCKFILE_WRITE_FILE", 1, "pnpm-lock.yaml cannot be written"},
    {Code::NoMatchingVersion, "ERR_PNPM_NO_MATCHING_VERSION", 1, "no published version satisfies a wanted range or tag"},
    {Code::PeerDepIssues, "ERR_PNPM_PEER_DEP_ISSUES", 1, "strictPeerDependencies and a peer is missing or unmet"},
    {Code::NoMatureMatchingVersion, "ERR_PNPM_NO_MATURE_MATCHING_VERSION", 1,
     "minimumReleaseAgeStrict and only versions younger than minimumReleaseAge match"},
    {Code::CannotRemoveMissingDeps, "ERR_PNPM_CANNOT_REMOVE_MISSING_DEPS", 1, "tarn remove names a dependency package.json does not have"},
    {Code::UnsupportedResolution, "ERR_PNPM_UNSUPPORTED_RESOLUTION_TYPE", 1,
     "a lockfile resolution kind tarn cannot fetch yet"},
    {Code::Unsupported, "ERR_TARN_UNSUPPORTED", 1, "a project feature tarn cannot install yet (it refuses rather than guess)"},
    {Code::UnsupportedEngine, "ERR_PNPM_UNSUPPORTED_ENGINE", 1, "engineStrict and a package's engines miss the host"},
    {Code::InvalidUrl, "ERR_TARN_INVALID_URL", 1, "a registry or tarball URL is not http(s)"},
    {Code::FetchStatus, "ERR_PNPM_FETCH_", 1, "the registry answered with an HTTP error status"},
    {Code::FetchFailed, "ERR_TARN_FETCH_FAILED", 1, "a request failed after every retry"},
    {Code::FetchTimeout, "ERR_TARN_FETCH_TIMEOUT", 1, "a response stalled longer than fetch-timeout on every retry"},
    {Code::InvalidProxy, "ERR_PNPM_INVALID_PROXY", 1, "https-proxy, http-proxy, proxy or HTTPS_PROXY / HTTP_PROXY is not a proxy URL"},
    {Code::ProxyConnect, "ERR_TARN_PROXY_CONNECT", 1, "the proxy refused to open a tunnel (CONNECT) to the registry"},
    {Code::TlsVerify, "ERR_TARN_TLS_VERIFY", 1, "the server's certificate failed verification (see cafile, ca, strict-ssl)"},
    {Code::TarballTooLarge, "ERR_PNPM_TARBALL_TOO_LARGE", 1, "a tarball or its content is over the size cap"},
    {Code::TarballIntegrity, "ERR_PNPM_TARBALL_INTEGRITY", 1, "a tarball's digest is not the lockfile's"},
    {Code::InvalidIntegrity, "ERR_PNPM_INVALID_TARBALL_INTEGRITY", 1, "an integrity string does not parse"},
    {Code::TarballExtract, "ERR_PNPM_TARBALL_EXTRACT", 1, "a tarball is corrupt or hostile"},
    {Code::NoOfflineTarball, "ERR_PNPM_NO_OFFLINE_TARBALL", 1, "--offline and a package is not in the store"},
    {Code::GitNotFound, "ERR_PNPM_GIT_FETCHER_GIT_NOT_FOUND", 1, "a git dependency and no `git` on PATH"},
    {Code::InvalidGitRepository, "ERR_PNPM_INVALID_GIT_REPOSITORY", 1, "a git resolution's repo is not a safe git argument"},
    {Code::InvalidGitCommit, "ERR_PNPM_INVALID_GIT_COMMIT", 1, "a git resolution's commit is not a 40-digit hex sha"},
    {Code::GitFetchFailed, "ERR_PNPM_GIT_FETCH_FAILED", 1, "cloning a git dependency's repository failed"},
    {Code::GitCheckoutFailed, "ERR_PNPM_GIT_CHECKOUT_FAILED", 1, "the pinned commit of a git dependency cannot be checked out"},
    {Code::GitDepPrepareNotAllowed, "ERR_PNPM_GIT_DEP_PREPARE_NOT_ALLOWED", 1,
     "a git dependency must run its prepare script and allowBuilds does not approve it"},
    {Code::InvalidPath, "ERR_PNPM_INVALID_PATH", 1, "a git resolution's path leaves the repository or is not a directory"},
    {Code::DirectoryFetch, "ERR_TARN_DIRECTORY_FETCH", 1, "a directory (file:) dependency cannot be read"},
    {Code::PatchNotFound, "ERR_PNPM_PATCH_NOT_FOUND", 1, "a patchedDependencies file does not exist"},
    {Code::InvalidPatch, "ERR_PNPM_INVALID_PATCH", 1, "a patch file is not a unified diff tarn can read"},
    {Code::PatchFailed, "ERR_PNPM_PATCH_FAILED", 1, "a patch does not apply to the package it patches"},
    {Code::NoOfflineMeta, "ERR_PNPM_NO_OFFLINE_META", 1, "--offline and a package's metadata is not in the cache"},
    {Code::MetaNotModifiedWithoutCache, "ERR_PNPM_META_NOT_MODIFIED_WITHOUT_CACHE", 1,
     "the registry answered 304 to a request that had no cached metadata to reuse"},
    {Code::MetadataDecode, "ERR_PNPM_RESOLVING_NPM_RESOLVER_DECODE_ERROR", 1,
     "a registry metadata document (packument) does not parse"},
    {Code::ReadFromStore, "ERR_PNPM_READ_FROM_STORE", 1, "a store entry cannot be read"},
    {Code::StoreWrite, "ERR_TARN_STORE_WRITE", 1, "a package cannot be written into the store"},
    {Code::StoreDamaged, "ERR_TARN_STORE_DAMAGED", 1, "tarn store status found damaged packages"},
    {Code::ModifiedDependency, "ERR_PNPM_MODIFIED_DEPENDENCY", 1,
     "store status: files of packages in node_modules were changed after they were imported"},
    {Code::LinkFailed, "ERR_TARN_LINK_FAILED", 1, "a file or link in node_modules cannot be created"},
    {Code::LinkBins, "ERR_TARN_LINK_BINS", 1, "a bin shim cannot be created"},
    {Code::Io, "ERR_TARN_IO", 1, "a file operation failed"},
    {Code::IgnoredBuilds, "ERR_PNPM_IGNORED_BUILDS", 1, "dependencies with build scripts are not approved"},
    {Code::Lifecycle, "ELIFECYCLE", 1, "a lifecycle script failed"},
    {Code::Interrupted, "ERR_TARN_INTERRUPTED", 130, "the install was interrupted by a signal"},
    {Code::RecursiveRunFirstFail, "ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL", 1,
     "run -r / --filter: a project's script failed and the run stopped (no --no-bail)"},
    {Code::RecursiveExecFirstFail, "ERR_PNPM_RECURSIVE_EXEC_FIRST_FAIL", 1,
     "exec -r / --filter: the command failed in a project and the run stopped (no --no-bail)"},
    {Code::RecursiveFail, "ERR_PNPM_RECURSIVE_FAIL", 1, "run or exec -r --no-bail: the command failed in some projects"},
    {Code::RecursiveRunNoScript, "ERR_PNPM_RECURSIVE_RUN_NO_SCRIPT", 1, "run -r / --filter: no selected project has the script"},
    {Code::ExoticSubdep, "ERR_PNPM_EXOTIC_SUBDEP", 1,
     "a package depends on a tarball URL or git repository and blockExoticSubdeps is on (pnpm 12's default)"},
    {Code::GitLsRemoteFailed, "ERR_PNPM_GIT_LS_REMOTE_FAILED", 1, "git ls-remote failed on a git dependency's repository"},
    {Code::GitUnknownRef, "ERR_TARN_GIT_UNKNOWN_REF", 1, "a git dependency's ref names no branch, tag or commit of its repository"},
    {Code::TarballHttpStatus, "ERR_PNPM_TARBALL_HTTP_STATUS", 1, "a tarball's server answered with an HTTP error status"},
}};

static_assert(kCodes.size() == static_cast<size_t>(Code::TarballHttpStatus) + 1, "one row per Code");

constexpr bool table_in_order() {
  for (size_t i = 0; i < kCodes.size(); ++i)
    if (static_cast<size_t>(kCodes[i].code) != i) return false;
  return true;
}
static_assert(table_in_order(), "rows in enumerator order");

}  // namespace

std::span<const CodeInfo> all_codes() { return kCodes; }
const CodeInfo& info(Code c) { return kCodes[static_cast<size_t>(c)]; }

Error Error::http(unsigned status, std::string message) {
  Error e{Code::FetchStatus, std::move(message), status == 404 ? ErrorKind::NotFound : ErrorKind::Failed};
  e.http_status = status;
  return e;
}

std::string Error::code_name() const {
  std::string n(info(code).name);
  if (code == Code::FetchStatus) n += std::to_string(http_status);
  return n;
}

std::string Error::render() const { return code_name() + "  " + message; }

std::string Errors::render() const {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += '\n';
    out += items[i].render();
  }
  return out;
}

void ErrorSink::add(Error e) {
  std::lock_guard lk(mu_);
  errs_.items.push_back(std::move(e));
}

void ErrorSink::add_all(Errors es) {
  for (auto& e : es.items) add(std::move(e));
}

bool ErrorSink::empty() const {
  std::lock_guard lk(mu_);
  return errs_.empty();
}

Errors ErrorSink::take() {
  std::lock_guard lk(mu_);
  return std::move(errs_);
}

Error ErrorSink::merged(const std::string& pass) const {
  constexpr size_t kShownPerCode = 3;
  std::lock_guard lk(mu_);
  // The same failure met from many places (a package every dependent waits for) is one.
  std::vector<const Error*> unique;
  std::set<std::pair<std::string, std::string>> seen;
  for (auto& x : errs_.items)
    if (seen.emplace(x.code_name(), x.message).second) unique.push_back(&x);
  if (unique.size() == 1) return *unique[0];
  std::map<std::string, std::vector<const Error*>> by_code;
  for (auto* x : unique) by_code[x->code_name()].push_back(x);
  Error e = *unique.at(0);
  e.message = std::to_string(unique.size()) + " errors while " + pass + ":";
  for (auto& [name, list] : by_code) {
    e.message += "\n  " + name + " (" + std::to_string(list.size()) + "):";
    for (size_t i = 0; i < list.size() && i < kShownPerCode; ++i) e.message += "\n    " + list[i]->message;
    if (list.size() > kShownPerCode) e.message += "\n    ... and " + std::to_string(list.size() - kShownPerCode) + " more";
  }
  return e;
}

void throw_exception_from_error(Error const& e, boost::source_location const& loc) {
  boost::throw_exception(ErrorException(e), loc);
}

std::string printable(std::string_view s, size_t max_len) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  size_t i = 0;
  for (; i < s.size() && out.size() < max_len; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len == 1 ? (c >= 0x20 && c != 0x7f) : len > 1 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (!ok) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
      continue;
    }
    out.append(s.substr(i, len));
    i += len - 1;
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace tarn
