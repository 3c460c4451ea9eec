// packlist against what pnpm 12.21 packed from the same directories (file: dependencies,
// listed with nm-tree; see libs/store/include/tarn/store/packlist.hpp).
#include "tarn/store/packlist.hpp"

#include <filesystem>

#include "testing.hpp"

using namespace tarn;
using namespace tarn::test;

namespace {

// Every file holds its own path, as in the probes run against pnpm.
const std::vector<std::string> kProbeFiles = {
    "index.js", "a.log", "build/x.js", ".npmrc", "sub/.DS_Store", "x.orig", "test/t.js", "LICENSE",
    "CHANGELOG.md", "README.md", "node_modules/foo/index.js", ".git/config", "pnpm-lock.yaml",
    "package-lock.json", "yarn.lock", "sub/deep/README.md", "sub/b.log", "docs/a.md", ".hidden/h.js",
    "npm-debug.log"};

const std::vector<std::string> kProbeFiles2 = {
    "index.js", "CHANGELOG.md", "HISTORY.md", "NOTICE", "LICENSE-MIT", "readme.txt", "README.md~", "COPYING",
    "lib/a.js", "lib/secret.js", "dist/x/y.js", "dist/x/y.d.ts", "x.js", "build/config.gypi", "build/other.js",
    ".foo.swp", "._x", "archived-packages/a", "sub/.npmrc", "sub/package-lock.json", "package-lock.json",
    "pnpm-lock.yaml", "sub/pnpm-lock.yaml", "sub/node_modules/n.js", "sub/s.js", "sub/t.txt", "other/o.js",
    ".github/w.yml"};

struct Probe {
  const char* name;
  const std::vector<std::string>* files;
  std::map<std::string, std::string> extra;  // path -> content (ignore files, package.json)
  std::vector<std::string> expected;         // what pnpm 12.21 installed
};

std::vector<std::string> paths(const std::vector<PackedFile>& v) {
  std::vector<std::string> out;
  for (auto& f : v) out.push_back(f.path);
  return out;
}

}  // namespace

TEST_CASE("packlist: the files pnpm 12.21 packs from a directory") {
  std::vector<Probe> probes = {
      {"gitignore", &kProbeFiles,
       {{".gitignore", "*.log\nbuild/\n/docs\n"}, {"package.json", R"({"name":"p1","version":"1.0.0"})"}},
       {".hidden/h.js", "CHANGELOG.md", "LICENSE", "README.md", "index.js", "package.json", "sub/deep/README.md",
        "test/t.js"}},
      {"npmignore wins over gitignore; readme stays at the root only", &kProbeFiles,
       {{".gitignore", "*.log\nbuild/\n"}, {".npmignore", "test/\nREADME.md\n*.orig\n"},
        {"package.json", R"({"name":"p2","version":"1.0.0"})"}},
       {".hidden/h.js", "CHANGELOG.md", "LICENSE", "README.md", "a.log", "build/x.js", "docs/a.md", "index.js",
        "package.json", "sub/b.log"}},
      {"files field", &kProbeFiles,
       {{".gitignore", "*.log\n"},
        {"package.json",
         R"({"name":"p3","version":"1.0.0","files":["sub/","*.md","!sub/deep", "build/x.js"],"main":"index.js"})"}},
       {"CHANGELOG.md", "LICENSE", "README.md", "build/x.js", "index.js", "package.json", "sub/b.log"}},
      {"files field with globs and nested npmignore", &kProbeFiles2,
       {{"lib/.npmignore", "secret.js\n"}, {"sub/.npmignore", "t.txt\n"},
        {"package.json", R"({"name":"q1","version":"1.0.0","files":["lib","dist/**/*.js","./x.js"]})"}},
       {"COPYING", "dist/x/y.js", "lib/a.js", "package.json", "readme.txt", "x.js"}},
      {"default rules", &kProbeFiles2,
       {{"lib/.npmignore", "secret.js\n"}, {"sub/.npmignore", "t.txt\n"},
        {"package.json", R"({"name":"q2","version":"1.0.0"})"}},
       {".github/w.yml", "CHANGELOG.md", "COPYING", "HISTORY.md", "LICENSE-MIT", "NOTICE", "README.md~",
        "build/other.js", "dist/x/y.d.ts", "dist/x/y.js", "index.js", "lib/a.js", "other/o.js", "package.json",
        "readme.txt", "sub/node_modules/n.js", "sub/package-lock.json", "sub/pnpm-lock.yaml", "sub/s.js", "x.js"}},
  };
  for (auto& p : probes) {
    SECTION(p.name) {
      TempDir t;
      for (auto& f : *p.files) write_file(t.path() + "/" + f, f + "\n");
      for (auto& [f, c] : p.extra) write_file(t.path() + "/" + f, c);
      auto got = packlist(t.path());
      REQUIRE(got);
      CHECK(paths(*got) == p.expected);
    }
  }
}

TEST_CASE("packlist: bins are marked, symlinks named by files are packed as their target") {
  TempDir t;
  write_file(t.path() + "/package.json", R"({"name":"b","bin":{"b":"./bin/b.js"},"files":["bin","link.js"]})");
  write_file(t.path() + "/bin/b.js", "#!/usr/bin/env node\n");
  write_file(t.path() + "/index.js", "x\n");
  std::filesystem::create_symlink("index.js", t.path() + "/link.js");
  auto got = packlist(t.path());
  REQUIRE(got);
  REQUIRE(paths(*got) == std::vector<std::string>{"bin/b.js", "link.js", "package.json"});
  CHECK((*got)[0].bin);
  CHECK_FALSE((*got)[2].bin);
  CHECK((*got)[1].source == "index.js");
  CHECK_FALSE(packlist(t.path() + "/missing"));
}

TEST_CASE("ignore_glob_match: gitignore and minimatch forms") {
  struct Row {
    const char* pattern;
    const char* path;
    bool match;
  };
  for (auto& r : {Row{"*.js", "a.js", true}, Row{"*.js", "a/b.js", false}, Row{"**/*.js", "a/b/c.js", true},
                  Row{"**/*.js", "c.js", true}, Row{"dist/**/*.js", "dist/x/y.js", true},
                  Row{"dist/**/*.js", "dist/y.d.ts", false}, Row{"a/**", "a/b/c", true}, Row{"?.md", "a.md", true},
                  Row{"?.md", "/.md", false}, Row{"[a-c]x", "Bx", true}, Row{"[!a-c]x", "dx", true},
                  Row{"[!a-c]x", "ax", false}, Row{"README.md", "readme.MD", true}, Row{".*.swp", ".a.swp", true},
                  Row{"\\*", "*", true}, Row{"\\*", "a", false}}) {
    CAPTURE(r.pattern, r.path);
    CHECK(ignore_glob_match(r.pattern, r.path) == r.match);
  }
}
