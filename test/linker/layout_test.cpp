#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "tarn/fs/fs.hpp"
#include "tarn/linker/layout.hpp"
#include "testing.hpp"

using namespace tarn;

TEST_CASE("shims honour shebangs and file types") {
  struct Row {
    const char* rel;
    const char* line;
    const char* expect;
  };
  for (auto r : {Row{"../a/cli.js", "#!/usr/bin/env node", "exec node  \"$basedir/../a/cli.js\""},
                 Row{"../a/cli", "#!/usr/bin/env -S node --no-warnings", "exec node --no-warnings \"$basedir/../a/cli\""},
                 Row{"../a/run.sh", "#!/bin/bash -e", "exec /bin/bash -e \"$basedir/../a/run.sh\""},
                 Row{"../a/tool.js", "", "exec node  \"$basedir/../a/tool.js\""},
                 Row{"../a/native", "", "exec \"$basedir/../a/native\" \"$@\""}}) {
    CAPTURE(r.rel, r.line);
    std::string shim = make_shim(r.rel, r.line, {"/p/node_modules/.pnpm/node_modules"});
    CHECK(shim.rfind("#!/bin/sh\n", 0) == 0);
    std::string want = r.expect;
    // Normalise the double space the generic template leaves when there are no args.
    std::string compact = shim;
    CHECK((compact.find(want) != std::string::npos ||
           compact.find(std::string(want).replace(want.find("  "), 2, " ")) != std::string::npos));
    CHECK(shim.find("NODE_PATH=\"/p/node_modules/.pnpm/node_modules\"") != std::string::npos);
  }
}

TEST_CASE("a shim runs its target") {
  test::TempDir t;
  test::write_file(t.path() + "/pkg/hello.sh", "#!/bin/sh\necho \"hello $1\"\n");
  ::chmod((t.path() + "/pkg/hello.sh").c_str(), 0755);
  test::write_file(t.path() + "/bin/hello", make_shim("../pkg/hello.sh", "#!/bin/sh", {}));
  ::chmod((t.path() + "/bin/hello").c_str(), 0755);
  FILE* p = popen((t.path() + "/bin/hello world").c_str(), "r");
  REQUIRE(p);
  char buf[64] = {0};
  REQUIRE(fgets(buf, sizeof buf, p));
  pclose(p);
  CHECK(std::string(buf) == "hello world\n");
}

TEST_CASE("import hard-links a stored package into its slot, symlinks need only the graph") {
  test::TempDir t;
  Store store(t.path() + "/store");
  REQUIRE(store.open());
  auto staging = store.begin();
  REQUIRE(staging);
  REQUIRE(fs::write_file_at(staging->dir.fd(), PackageIndex::blob_name(0).c_str(), "A", 1, 0644) == 0);
  PackageIndex idx;
  idx.entries = {{"lib", true, false}, {"lib/a.js", false, false}};
  std::string project = t.path() + "/proj";
  REQUIRE(fs::create_directories(project));
  auto pd = fs::Dir::open(project);
  InstallPlan plan;
  PlannedPackage p;
  p.slot = SlotName::from_text("a@1.0.0");
  p.modules_dir = "node_modules/.pnpm/a@1.0.0/node_modules";
  p.pkg_dir = p.modules_dir + "/a";
  p.dirs = {"node_modules/.pnpm/a@1.0.0", p.modules_dir, p.pkg_dir};
  p.links = {{p.modules_dir + "/b", "../../b@1.0.0/node_modules/b"}};
  plan.packages.push_back(p);
  plan.top_dirs = {"node_modules", "node_modules/.pnpm"};
  plan.top_links = {{"node_modules/a", ".pnpm/a@1.0.0/node_modules/a"}};
  REQUIRE(make_directories(plan, pd->fd()).empty());
  REQUIRE(link_slot(plan.packages[0], pd->fd()));
  REQUIRE(link_top_level(plan, pd->fd()).empty());
  REQUIRE(import_package(staging->dir.fd(), idx, pd->fd(), plan.packages[0]));
  CHECK(test::read_file(project + "/node_modules/a/lib/a.js") == "A");
  struct stat st;
  REQUIRE(::stat((project + "/node_modules/a/lib/a.js").c_str(), &st) == 0);
  CHECK(st.st_nlink == 2);  // hard link, not a copy
  char buf[128] = {0};
  REQUIRE(::readlink((project + "/" + p.modules_dir + "/b").c_str(), buf, sizeof buf) > 0);
  CHECK(std::string(buf) == "../../b@1.0.0/node_modules/b");
}

TEST_CASE("bins: a non-executable target becomes executable without changing the file it is linked to") {
  struct Row {
    const char* name;
    bool linked;  // hard-linked to a file outside node_modules, as from the store
  };
  for (auto row : {Row{"hard-linked target: replaced by a private copy", true}, Row{"private target: chmod-ed", false}}) {
    SECTION(row.name) {
      test::TempDir t;
      std::string project = t.path() + "/proj", pkg = "node_modules/.pnpm/x@1.0.0/node_modules/x";
      std::string target = project + "/" + pkg + "/cli.sh", blob = t.path() + "/blob";
      const std::string content = "#!/bin/sh\necho hi\n";
      test::write_file(project + "/" + pkg + "/package.json", R"({"name":"x","bin":{"x":"cli.sh"}})");
      test::write_file(row.linked ? blob : target, content);
      if (row.linked) REQUIRE(::link(blob.c_str(), target.c_str()) == 0);
      REQUIRE(::chmod(target.c_str(), 0644) == 0);
      struct stat before, after, outside;
      REQUIRE(::stat(target.c_str(), &before) == 0);
      InstallPlan plan;
      PlannedPackage p;
      p.pkg_dir = pkg;
      p.has_bin = true;
      plan.packages.push_back(p);
      plan.bins.push_back({"node_modules/.bin", {{0, "node_modules/x", false, {}}}, ""});
      auto pd = fs::Dir::open(project);
      REQUIRE(pd);
      auto errs = link_bins(plan, pd->fd(), project);
      INFO(errs.render());
      REQUIRE(errs.empty());
      REQUIRE(::stat(target.c_str(), &after) == 0);
      CHECK((after.st_mode & 0777) == 0755);
      CHECK(test::read_file(target) == content);
      CHECK(after.st_nlink == 1);
      CHECK((after.st_ino == before.st_ino) == !row.linked);
      if (row.linked) {
        REQUIRE(::stat(blob.c_str(), &outside) == 0);
        CHECK((outside.st_mode & 0777) == 0644);  // the "store" file is untouched
        CHECK(outside.st_ino == before.st_ino);
        CHECK(test::read_file(blob) == content);
      }
      CHECK(test::read_file(project + "/node_modules/.bin/x").find("cli.sh") != std::string::npos);
    }
  }
}
