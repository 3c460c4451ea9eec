#pragma once
// Git resolutions ({type: git, repo, commit, path}), fetched as pnpm 12's git fetcher does
// (crates/git-fetcher, fetcher.rs): `git clone` into a temporary directory, `git checkout`
// of the pinned commit, a check that HEAD is that commit, then the package directory
// (`path` inside the checkout) without .git, reduced to npm's packlist. The files are
// staged for the store, so a second install reuses them without git.
//
// A package whose `prepare` pnpm would run (a `prepare` script, or prepublish/prepack/
// publish with no `main` file) is refused: without allowBuilds approval with pnpm's
// ERR_PNPM_GIT_DEP_PREPARE_NOT_ALLOWED; with it, tarn does not run the package's own
// package manager yet (ERR_TARN_UNSUPPORTED). --ignore-scripts imports it unprepared,
// with pnpm's warning.
#include <string>

#include "tarn/store/store.hpp"

namespace tarn {

struct InstallContext;
struct PlannedPackage;

// Clones and packs `p`'s git resolution into the staging directory `staging_fd`; returns
// the index of the staged blobs (exec bits from the checkout's modes).
Result<PackageIndex> fetch_git(const InstallContext& cx, const PlannedPackage& p, int staging_fd);

// The store address of a git package: its repository, commit and path.
StoreKey git_store_key(const PlannedPackage& p);

// For resolution: `git ls-remote <repo>`'s output, and the package.json at `commit` (under
// `path`) of `repo`, checked out in the directory `tmp` (which must exist; left for the caller).
Result<std::string> git_ls_remote(const std::string& repo, const std::string& tmp);
Result<std::string> git_read_manifest(const std::string& repo, const std::string& commit, const std::string& path,
                                      const std::string& tmp);

}  // namespace tarn
