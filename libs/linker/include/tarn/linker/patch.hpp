#pragma once
// patchedDependencies: applying a unified (git) diff to a package's files in its slot, as
// pnpm 12 does (crates/patching, apply/tolerant.rs, itself patch-package's matcher):
//   - each hunk's removed and context lines must all match, compared with trailing
//     whitespace stripped (an LF patch applies to a CRLF file); no line is ever skipped
//     (no fuzz in GNU patch's sense);
//   - a hunk that does not match at its recorded line is tried up to 20 lines either side
//     (0, -1, +1, -2, +2 ...), each hunk located against the unpatched file;
//   - a patch that is already applied (its reverse applies) leaves the file as it is;
//   - new files are created (an existing one with the same content is fine), deleted files
//     must end empty; renames, copies and binary diffs are refused.
// No Debian library does this: libgit2 applies only inside a repository, GNU patch is a
// program with other tolerances (fuzz), so this is a small strict applier with tests.
#include <string>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn {

struct PatchLine {
  char kind;         // ' ' context, '-' removed, '+' added
  std::string text;  // without its line ending
  bool eol = true;   // false when "\ No newline at end of file" follows it
};

struct Hunk {
  size_t old_start = 0, old_len = 0, new_start = 0, new_len = 0;
  std::vector<PatchLine> lines;
};

struct FilePatch {
  enum class Op { Modify, Create, Delete, Unsupported };
  Op op = Op::Modify;
  std::string path;  // inside the package, the a/ or b/ prefix removed
  std::string unsupported;  // why, for Op::Unsupported
  std::vector<Hunk> hunks;
};

// Parses a patch file's text. ERR_PNPM_INVALID_PATCH naming `patch_path` when a hunk is
// malformed or cut short.
Result<std::vector<FilePatch>> parse_patch(std::string_view text, const std::string& patch_path);

// The file's new content, or the number (1-based) of the first hunk that does not apply.
struct Applied {
  bool ok = false;
  std::string text;
  size_t failed_hunk = 0;
};
Applied apply_hunks(std::string_view original, const std::vector<Hunk>& hunks);

// Applies the patch at `patch_path` (its text already read) to the package directory
// `dir` (absolute). ERR_PNPM_PATCH_FAILED with pnpm's message when a file does not take
// its hunks or a path leaves `dir`.
Result<void> apply_patch(std::string_view patch_text, const std::string& patch_path, const std::string& dir);

}  // namespace tarn
