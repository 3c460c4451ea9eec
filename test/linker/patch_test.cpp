// The patch applier against pnpm 12's tolerances (see libs/linker/include/tarn/linker/patch.hpp).
#include "tarn/linker/patch.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "testing.hpp"

using namespace tarn;
using namespace tarn::test;

namespace {

// What `pnpm patch-commit` (12.21) wrote for three edits of a two-file package.
const std::string kPnpmPatch =
    "diff --git a/added.txt b/added.txt\n"
    "new file mode 100644\n"
    "index 0000000000000000000000000000000000000000..3e757656cf36eca53338e520d134963a44f793f8\n"
    "--- /dev/null\n"
    "+++ b/added.txt\n"
    "@@ -0,0 +1 @@\n"
    "+new\n"
    "diff --git a/index.js b/index.js\n"
    "index beb840b5e73ae093908b795f1dc8221bfc58d9f2..2b7940d013058ce26395cc33cb3b26ce10f725f8 100644\n"
    "--- a/index.js\n"
    "+++ b/index.js\n"
    "@@ -1 +1 @@\n"
    "-module.exports = \"original\";\n"
    "+module.exports = \"patched\";\n"
    "diff --git a/lib/util.js b/lib/util.js\n"
    "index 5db3e272e3e088b2c983bc7d53d72bedbd1b0a7a..9a44e516bc46f9a8a2edeb59c544e39b0e74ddd5 100644\n"
    "--- a/lib/util.js\n"
    "+++ b/lib/util.js\n"
    "@@ -1,3 +1,3 @@\n"
    " exports.a = 1;\n"
    "-exports.b = 2;\n"
    "+exports.b = 22;\n"
    " exports.c = 3;\n";

std::string one_hunk(const std::string& header, const std::string& body) {
  return "--- a/f.js\n+++ b/f.js\n" + header + "\n" + body;
}

}  // namespace

TEST_CASE("patch: pnpm's own patch applies to the package it was made from") {
  TempDir t;
  write_file(t.path() + "/index.js", "module.exports = \"original\";\n");
  write_file(t.path() + "/lib/util.js", "exports.a = 1;\nexports.b = 2;\nexports.c = 3;\n");
  ::chmod((t.path() + "/lib/util.js").c_str(), 0755);
  REQUIRE(apply_patch(kPnpmPatch, "p.patch", t.path()));
  CHECK(read_file(t.path() + "/index.js") == "module.exports = \"patched\";\n");
  CHECK(read_file(t.path() + "/lib/util.js") == "exports.a = 1;\nexports.b = 22;\nexports.c = 3;\n");
  CHECK(read_file(t.path() + "/added.txt") == "new\n");
  struct stat st;
  REQUIRE(::stat((t.path() + "/lib/util.js").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);  // the mode survives the rewrite
  // Applying it again finds every change already made: nothing changes, no error.
  REQUIRE(apply_patch(kPnpmPatch, "p.patch", t.path()));
  CHECK(read_file(t.path() + "/lib/util.js") == "exports.a = 1;\nexports.b = 22;\nexports.c = 3;\n");
}

TEST_CASE("patch: hunks against file contents, with pnpm's tolerances") {
  struct Row {
    const char* name;
    std::string original, patch;
    bool ok;
    std::string result;  // when ok
  };
  const std::string abc = "a\nb\nc\n";
  std::vector<Row> rows = {
      {"exact", abc, one_hunk("@@ -1,3 +1,3 @@", " a\n-b\n+B\n c\n"), true, "a\nB\nc\n"},
      {"moved down 4 lines", "1\n2\n3\n4\n" + abc, one_hunk("@@ -1,3 +1,3 @@", " a\n-b\n+B\n c\n"), true,
       "1\n2\n3\n4\na\nB\nc\n"},
      {"moved 21 lines: out of reach", std::string(42, '\n') + abc, one_hunk("@@ -1,3 +1,3 @@", " a\n-b\n+B\n c\n"),
       false, ""},
      {"context differs: no fuzz", "a\nb\nX\n", one_hunk("@@ -1,3 +1,3 @@", " a\n-b\n+B\n c\n"), false, ""},
      {"CRLF file, LF patch", "a\r\nb\r\nc\r\n", one_hunk("@@ -1,3 +1,3 @@", " a\n-b\n+B\n c\n"), true,
       "a\r\nB\nc\r\n"},
      {"trailing spaces ignored", "a  \nb\nc\n", one_hunk("@@ -1,3 +1,3 @@", " a\n-b\n+B\n c\n"), true,
       "a  \nB\nc\n"},
      {"adds the final newline", "a\nb", one_hunk("@@ -1,2 +1,2 @@", " a\n-b\n\\ No newline at end of file\n+b\n"),
       true, "a\nb\n"},
      {"removes the final newline", "a\nb\n", one_hunk("@@ -1,2 +1,2 @@", " a\n-b\n+b\n\\ No newline at end of file\n"),
       true, "a\nb"},
      {"two hunks, both located on the original", "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
       one_hunk("@@ -1,2 +1,3 @@", " 1\n+1.5\n 2\n@@ -8,2 +9,1 @@\n 8\n-9\n"), true, "1\n1.5\n2\n3\n4\n5\n6\n7\n8\n"},
  };
  for (auto& r : rows) {
    SECTION(r.name) {
      TempDir t;
      write_file(t.path() + "/f.js", r.original);
      auto res = apply_patch(r.patch, "x.patch", t.path());
      CHECK(bool(res) == r.ok);
      if (r.ok) CHECK(read_file(t.path() + "/f.js") == r.result);
      if (!r.ok) {
        REQUIRE_FALSE(res);
        CHECK(res.error().code == Code::PatchFailed);
        CHECK(res.error().message == "Could not apply patch x.patch to " + t.path() + ": apply to " + t.path() +
                                         "/f.js: error applying hunk #1");
        CHECK(read_file(t.path() + "/f.js") == r.original);
      }
    }
  }
}

TEST_CASE("patch: file operations and refusals") {
  struct Row {
    const char* name;
    std::string patch;
    Code code;  // Io: succeeds
    std::string message_part;
  };
  std::vector<Row> rows = {
      {"delete", "--- a/f.js\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n", Code::Io, ""},
      {"delete leaves content", "--- a/f.js\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n", Code::PatchFailed, "non-empty"},
      {"create over a different file", "--- /dev/null\n+++ b/f.js\n@@ -0,0 +1 @@\n+z\n", Code::PatchFailed,
       "target already exists"},
      {"create the same file", "--- /dev/null\n+++ b/f.js\n@@ -0,0 +1,2 @@\n+a\n+b\n", Code::Io, ""},
      {"escaping path", "--- a/../f.js\n+++ b/../f.js\n@@ -1 +1 @@\n-a\n+b\n", Code::PatchFailed,
       "patch path escapes target dir: ../f.js"},
      {"rename", "diff --git a/f.js b/g.js\nsimilarity index 100%\nrename from f.js\nrename to g.js\n",
       Code::PatchFailed, "rename/copy operations in patches are not yet supported"},
      {"cut short", "--- a/f.js\n+++ b/f.js\n@@ -1,2 +1,2 @@\n a\n", Code::InvalidPatch, "hunk cut short"},
      {"bad header", "--- a/f.js\n+++ b/f.js\n@@ -x +1 @@\n", Code::InvalidPatch, "malformed hunk header"},
      {"missing file", "--- a/nope.js\n+++ b/nope.js\n@@ -1 +1 @@\n-a\n+b\n", Code::PatchFailed,
       "nope.js: No such file"},
  };
  for (auto& r : rows) {
    SECTION(r.name) {
      TempDir t;
      write_file(t.path() + "/f.js", "a\nb\n");
      auto res = apply_patch(r.patch, "x.patch", t.path());
      if (r.code == Code::Io) {
        CHECK(res);
        continue;
      }
      REQUIRE_FALSE(res);
      CHECK(res.error().code == r.code);
      CHECK(res.error().message.find(r.message_part) != std::string::npos);
    }
  }
  TempDir t;
  write_file(t.path() + "/f.js", "a\nb\n");
  REQUIRE(apply_patch("--- a/f.js\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n", "x.patch", t.path()));
  CHECK_FALSE(std::filesystem::exists(t.path() + "/f.js"));
}
