#pragma once
// Errors are values: a code from the one table below, a message in the form
// "failed to <verb> <what>: <why>", and whether the thing was simply absent.
#include <boost/system/result.hpp>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tarn {

// Every code tarn can emit. Where pnpm has a code for the same failure, the printed name
// is pnpm's (ERR_PNPM_*); where it has none, tarn's own (ERR_TARN_*), listed in
// docs/errors.md. The table in error.cpp gives each its name and exit status.
enum class Code : uint8_t {
  // Usage (exit 2, as pnpm's argument parser exits).
  Usage,
  // Inputs and configuration.
  NoSuchDir,
  NoImporterManifestFound,
  BadPackageJson,
  JsonParse,
  InvalidPackageName,
  InvalidWorkspaceConfiguration,
  ConfigInvalid,
  StoreDir,
  // Catalogs, overrides, packageExtensions (pnpm-workspace.yaml).
  InvalidCatalogsConfiguration,
  CatalogEntryNotFoundForSpec,
  CatalogEntryInvalidRecursiveDefinition,
  CatalogEntryInvalidWorkspaceSpec,
  CatalogEntryInvalidSpec,
  CatalogInOverrides,
  CannotResolveOverrideVersion,
  InvalidSelector,
  InvalidConvergenceOverride,
  // Lockfile.
  NoLockfile,
  BrokenLockfile,
  LockfileBreakingChange,
  LockfileBadKey,
  LockfileMissingDependency,
  LockfileConfigMismatch,
  OutdatedLockfile,
  LockfileWrite,
  NoMatchingVersion,
  PeerDepIssues,
  NoMatureMatchingVersion,
  CannotRemoveMissingDeps,
  UnsupportedResolution,
  Unsupported,
  UnsupportedEngine,
  // Network and tarballs.
  InvalidUrl,
  FetchStatus,  // printed as ERR_PNPM_FETCH_<HTTP status>
  FetchFailed,
  FetchTimeout,
  InvalidProxy,
  ProxyConnect,
  TlsVerify,
  TarballTooLarge,
  TarballIntegrity,
  InvalidIntegrity,
  TarballExtract,
  NoOfflineTarball,
  // Git, directory and patched packages.
  GitNotFound,
  InvalidGitRepository,
  InvalidGitCommit,
  GitFetchFailed,
  GitCheckoutFailed,
  GitDepPrepareNotAllowed,
  InvalidPath,
  DirectoryFetch,
  PatchNotFound,
  InvalidPatch,
  PatchFailed,
  // Registry metadata.
  NoOfflineMeta,
  MetaNotModifiedWithoutCache,
  MetadataDecode,
  // Store, links, state.
  ReadFromStore,
  StoreWrite,
  StoreDamaged,
  ModifiedDependency,
  LinkFailed,
  LinkBins,
  Io,
  // Scripts.
  IgnoredBuilds,
  Lifecycle,
  Interrupted,
  // run -r / exec -r.
  RecursiveRunFirstFail,
  RecursiveExecFirstFail,
  RecursiveFail,
  RecursiveRunNoScript,
  // Resolving tarball-URL, file: and git specifiers.
  ExoticSubdep,
  GitLsRemoteFailed,
  GitUnknownRef,
  // A tarball's server answered with an error status (metadata errors stay FetchStatus).
  TarballHttpStatus,
};

struct CodeInfo {
  Code code;
  std::string_view name;     // as printed
  int exit_status;           // process exit status when this error ends a command
  std::string_view meaning;  // one line, for docs and `tarn help errors`
};

// The whole table, in enumerator order.
std::span<const CodeInfo> all_codes();
const CodeInfo& info(Code c);

enum class ErrorKind { Failed, NotFound };

struct Error {
  // Not an aggregate on purpose: Result<std::string> must not be constructible as an error.
  Error() = default;
  Error(Code c, std::string m, ErrorKind k = ErrorKind::Failed) : code(c), message(std::move(m)), kind(k) {}

  Code code = Code::Io;
  std::string message;  // one line, names the file or package
  ErrorKind kind = ErrorKind::Failed;
  unsigned http_status = 0;  // with Code::FetchStatus

  static Error failed(Code code, std::string message) { return Error{code, std::move(message), ErrorKind::Failed}; }
  static Error not_found(Code code, std::string message) {
    return Error{code, std::move(message), ErrorKind::NotFound};
  }
  static Error http(unsigned status, std::string message);
  bool is_not_found() const { return kind == ErrorKind::NotFound; }
  // The printed code, e.g. "ERR_PNPM_FETCH_404".
  std::string code_name() const;
  int exit_status() const { return info(code).exit_status; }
  // "ERR_PNPM_X  message" as pnpm prints it.
  std::string render() const;
};

// Thrown only inside a pass (e.g. out of a TBB task); passes convert it back to a value.
struct ErrorException : std::exception {
  Error error;
  explicit ErrorException(Error e) : error(std::move(e)) {}
  const char* what() const noexcept override { return error.message.c_str(); }
};

// Several errors collected by a parallel pass, reported together.
struct Errors {
  std::vector<Error> items;
  bool empty() const { return items.empty(); }
  std::string render() const;
};

// Collects the errors of a parallel pass from many threads; reported together at its end.
class ErrorSink {
 public:
  void add(Error e);
  void add_all(Errors es);
  bool empty() const;
  Errors take();
  // One error as is. Several become one summary: the count by code, and the first few
  // messages of each code (an unreachable registry is one error, not one per package).
  // Identical errors (code and message) count once: one failed package that many
  // dependents wait for is one failure.
  Error merged(const std::string& pass) const;

 private:
  mutable std::mutex mu_;
  Errors errs_;
};

template <class T>
using Result = boost::system::result<T, Error>;

[[noreturn]] void throw_exception_from_error(Error const& e, boost::source_location const& loc);

// Text from input files made safe to print: control bytes and invalid UTF-8 become \xNN,
// and very long text is cut, so hostile input cannot drive the terminal.
std::string printable(std::string_view s, size_t max_len = 200);

}  // namespace tarn
