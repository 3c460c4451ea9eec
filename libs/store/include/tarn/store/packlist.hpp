#pragma once
// Which files of a package directory make the package: npm-packlist's rules, as pnpm 12
// applies them to `file:` directory dependencies and to git checkouts before they are
// imported. Measured against pnpm 12.21 (fixtures/kinds, test/store/packlist_test.cpp):
//   - with a `files` field: only what its entries name (anchored at the package root;
//     "lib" takes the directory's contents, "!x" takes x out again); the root's own
//     .npmignore/.gitignore are not read, nested ones are;
//   - without: each directory's .npmignore, or its .gitignore when it has none, with
//     gitignore syntax (case-insensitive, as npm's minimatch nocase);
//   - always out: .git/.svn/.hg/CVS, the root node_modules, .npmignore, .gitignore, .npmrc,
//     npm-debug.log, .DS_Store, ._*, .*.swp, *.orig, and at the root only the lockfiles,
//     .lock-wscript, .wafpickle-*, build/config.gypi, archived-packages/;
//   - always in (root only, case-insensitive): package.json, readme[.*], copying[.*],
//     license[.*], licence[.*] (a suffix ending in ~ or $ does not count), and the files
//     `main` and `bin` name.
// Not reproduced: bundleDependencies (a local package's node_modules is never packed).
#include <string>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn {

struct PackedFile {
  std::string path;    // where the file goes in the package ('/'-separated, relative)
  std::string source;  // what is read, relative to the package directory: `path`, or a
                       // symlink's target when the `files` field names the symlink
  bool bin = false;    // a package.json bin (or directories.bin) target: must be executable
};

// Sorted by path. Fails (ERR_TARN_DIRECTORY_FETCH) when `pkg_dir` cannot be read.
Result<std::vector<PackedFile>> packlist(const std::string& pkg_dir);

// gitignore/minimatch-style matching of one '/'-separated path, ASCII case-insensitive:
// '*' and '?' stop at '/', "**" spans directories, [a-z] / [!x] classes. Exposed for tests.
bool ignore_glob_match(std::string_view pattern, std::string_view path);

}  // namespace tarn
