// End-to-end: `tarn run` / `tarn exec` with -r and --filter over a workspace on disk, as
// pnpm 12.21 runs them (measured with its binary on fixtures/workspace and on this shape).
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>

#include "testing.hpp"

using namespace tarn::test;

namespace {

struct Ran {
  int status;
  std::string out, err;
};

// tarn in `dir`, stdout and stderr kept apart.
Ran tarn_in(const std::string& dir, const std::string& args) {
  std::string cmd = "cd '" + dir + "' && '" TARN_BINARY "' " + args + " > '" + dir + "/.out' 2> '" + dir + "/.err'";
  int rc = std::system(cmd.c_str());
  Ran r{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, read_file(dir + "/.out"), read_file(dir + "/.err")};
  std::filesystem::remove(dir + "/.out");
  std::filesystem::remove(dir + "/.err");
  return r;
}

// root, p1, p2 -> p1, p3, p4 -> p3 (p4 has no script "t"), p5 -> p4. Script "t" appends the
// project's name to <root>/order; `t_bodies` replaces a project's "t".
struct Workspace {
  TempDir tmp;
  std::string root = tmp.path() + "/ws";

  explicit Workspace(std::map<std::string, std::string> t_bodies = {}) {
    write_file(root + "/pnpm-workspace.yaml", "packages:\n  - 'p/*'\n");
    auto t = [&](const std::string& name) {
      auto it = t_bodies.find(name);
      std::string body = it != t_bodies.end() ? it->second : "echo " + name + " >> " + root + "/order";
      return R"("scripts":{"t":")" + body + R"("})";
    };
    write_file(root + "/package.json", R"({"name":"root","private":true,)" + t("root") + "}");
    write_file(root + "/p/p1/package.json", R"({"name":"p1","version":"1.0.0",)" + t("p1") + "}");
    write_file(root + "/p/p2/package.json",
               R"({"name":"p2","version":"1.0.0","dependencies":{"p1":"workspace:*"},)" + t("p2") + "}");
    write_file(root + "/p/p3/package.json", R"({"name":"p3","version":"1.0.0",)" + t("p3") + "}");
    write_file(root + "/p/p4/package.json", R"({"name":"p4","version":"1.0.0","dependencies":{"p3":"workspace:^"}})");
    write_file(root + "/p/p5/package.json",
               R"({"name":"p5","version":"1.0.0","devDependencies":{"p4":"workspace:*"},)" + t("p5") + "}");
  }
  std::string order() const {
    return std::filesystem::exists(root + "/order") ? read_file(root + "/order") : std::string();
  }
};

}  // namespace

TEST_CASE("run -r: dependencies first, the root left out, through projects without the script") {
  struct Row {
    std::string args;
    std::string order;  // with one script at a time, the order is fixed
  };
  std::vector<Row> rows = {
      // Ready projects start in selection order; one finishing frees its dependents, queued
      // behind the projects already ready (pnpm 12.21 with --workspace-concurrency=1).
      {"--workspace-concurrency=1 run -r t", "p1\np3\np2\np5\n"},
      {"--workspace-concurrency=1 run --filter p5... t", "p3\np5\n"},
      {"--workspace-concurrency=1 run --filter p3 --filter p1 t", "p3\np1\n"},
      {"--workspace-concurrency=1 run --filter root --filter p2 t", "root\np2\n"},
      // p4 has no "t" but is selected: p5 waits for p4's turn (after p2's).
      {"--workspace-concurrency=1 run --filter '!p3' t", "p1\np2\np5\n"},
      {"--workspace-concurrency=1 run --filter '!p3' --filter '!p4' t", "p1\np5\np2\n"},
      {"--workspace-concurrency=1 run --filter p1 --filter p2 --filter p5 t", "p1\np5\np2\n"},
      {"--workspace-concurrency=1 run --filter p5 --filter p1 --filter p2 t", "p5\np1\np2\n"},
      {"--workspace-concurrency=1 run --filter p1 --filter p3 --filter p5 --filter p2 t", "p1\np3\np2\np5\n"},
      {"--workspace-concurrency=1 run --filter '...p3' t", "p3\np5\n"},
      {"--workspace-concurrency=1 run --filter-prod '...p3' t", "p3\n"},  // p5 -> p4 is a devDependency
  };
  for (auto& row : rows) {
    CAPTURE(row.args);
    Workspace w;
    auto r = tarn_in(w.root, row.args);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(w.order() == row.order);
  }
}

TEST_CASE("run -r: pnpm's output, inherited when scripts run one at a time, prefixed when they may overlap") {
  Workspace w;
  auto one = tarn_in(w.root, "--filter p2... run t");
  CHECK(one.status == 0);
  CHECK(one.out == "Scope: 2 of 6 workspace projects\n");  // the scripts' own output went to the file
  CHECK(one.err == "$ echo p1 >> " + w.root + "/order\n$ echo p2 >> " + w.root + "/order\n");
  Workspace v({{"p1", "echo hello-p1"}, {"p3", "echo hello-p3"}});
  auto two = tarn_in(v.root + "/p/p3", "--workspace-concurrency=2 run --filter p1 --filter p3 t");
  CHECK(two.status == 0);
  CHECK(two.err.empty());
  for (std::string line : {"Scope: 2 of 6 workspace projects\n", "../p1 t$ echo hello-p1\n", "../p1 t: hello-p1\n",
                           "../p1 t: Done\n", ". t$ echo hello-p3\n", ". t: hello-p3\n", ". t: Done\n"})
    CHECK(two.out.find(line) != std::string::npos);
  auto single = tarn_in(v.root, "--filter p1 run t a 'b c'");
  CHECK(single.out == "hello-p1 a b c\n");  // one project: no scope line
  CHECK(single.err == "$ echo hello-p1 a 'b c'\n");
}

TEST_CASE("run -r: failures, --no-bail, missing scripts and empty selections exit as pnpm's") {
  struct Row {
    std::map<std::string, std::string> bodies;
    std::string args;
    int status;
    std::string err;    // in stderr
    std::string order;  // projects that ran
  };
  std::vector<Row> rows = {
      {{{"p2", "exit 3"}}, "--workspace-concurrency=1 run -r t", 1,
       "[ELIFECYCLE] Command failed with exit code 3.\nERR_PNPM_RECURSIVE_RUN_FIRST_FAIL", "p1\np3\n"},
      // --no-bail: the rest runs, but not what depends on the failure.
      {{{"p1", "exit 3"}}, "--workspace-concurrency=1 run -r --no-bail t", 1,
       "ERR_PNPM_RECURSIVE_FAIL  \"tarn recursive run\" failed in 1 packages", "p3\np5\n"},
      {{}, "run -r nosuch", 1, "ERR_PNPM_RECURSIVE_RUN_NO_SCRIPT  None of the selected packages has a \"nosuch\" script", ""},
      {{}, "run --filter p4 t", 1, "None of the selected packages has a \"t\" script", ""},
      {{}, "run --filter '*' nosuch", 1, "None of the packages has a \"nosuch\" script", ""},
      {{}, "run --filter nope t", 0, "", ""},
      {{}, "run --filter ./p t", 0, "", ""},  // a directory selector names projects, not parents
  };
  for (auto& row : rows) {
    CAPTURE(row.args);
    Workspace w(row.bodies);
    auto r = tarn_in(w.root, row.args);
    INFO(r.out << r.err);
    CHECK(r.status == row.status);
    CHECK(r.err.find(row.err) != std::string::npos);
    CHECK(w.order() == row.order);
    if (row.args.find("nope") != std::string::npos)
      CHECK(r.out == "Scope: 0 of 6 workspace projects\nNo projects matched the filters in \"" + w.root + "\"\n");
  }
}

TEST_CASE("run -r: a failure stops the scripts still running (SIGTERM to their process groups)") {
  Workspace w({{"p1", "sleep 0.2; exit 4"}, {"p3", "sleep 30; echo late >> order"}});
  auto t0 = std::chrono::steady_clock::now();
  auto r = tarn_in(w.root, "--workspace-concurrency=2 run --filter p1 --filter p3 t");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(secs < 10);
  CHECK(r.out.find("[ELIFECYCLE] Command failed with signal SIGTERM.") != std::string::npos);
  CHECK(r.err.find("ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL  \"tarn recursive run\" failed in " + w.root + "/p/p1") !=
        std::string::npos);
}

TEST_CASE("exec -r: the command in every selected project, raw output, pnpm's errors") {
  Workspace w;
  auto r = tarn_in(w.root, "--workspace-concurrency=1 exec -r -- sh -c 'echo $PNPM_PACKAGE_NAME'");
  CHECK(r.status == 0);
  CHECK(r.out == "p1\np3\np2\np4\np5\n");  // every project but the root, with or without scripts
  CHECK(r.err.empty());
  r = tarn_in(w.root, "exec --filter p2... -- sh -c 'exit 3'");
  CHECK(r.status == 1);
  CHECK(r.err == "ERR_PNPM_RECURSIVE_EXEC_FIRST_FAIL  \"tarn recursive exec\" failed in " + w.root + "/p/p1\n");
  r = tarn_in(w.root, "exec --filter nope pwd");
  CHECK(r.status == 0);
  CHECK(r.out == "No projects matched the filters in \"" + w.root + "\"\n");  // exec prints no scope
  r = tarn_in(w.root, "--workspace-concurrency=0 exec -r pwd");
  CHECK(r.status == 2);
  CHECK(r.err.find("--workspace-concurrency") != std::string::npos);
}
