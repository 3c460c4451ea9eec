// Crash safety end to end (issue 12 §4, §5): the tarn binary is SIGKILLed at random
// points of an install of a generated ~200-package project, then rerun, and the result
// must equal a clean install exactly; several installs share one store at once; and
// installs onto a full or read-only filesystem fail with a clear error and leave nothing
// that looks complete. Uses mount(2) (tests run as root); without it those cases WARN and
// skip. The kill loop's seed is printed; TARN_CRASH_SEED=<n> replays it.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tarn/store/store.hpp"
#include "testing.hpp"

using namespace tarn::test;
namespace sfs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// ---------------------------------------------------------------- running tarn
struct Proc {
  pid_t pid = -1;
  std::string out;  // stdout+stderr go here
};

struct Done {
  int status = -1;      // exit status, or -1 when killed by a signal
  int signal = 0;       // the signal that ended it, if any
  std::string output;
};

// fork/exec of the tarn binary in `dir`. `uid` != 0: the child drops to that uid/gid
// first (root bypasses file permissions), with HOME set to `dir`. Everything the child needs is built before
// fork(): the test process has threads (the registry), so the child only calls
// async-signal-safe functions.
Proc spawn(const std::vector<std::string>& args, const std::string& dir, const std::string& out, uid_t uid = 0) {
  std::vector<std::string> all{TARN_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (uid == 0 || std::string_view(*e).rfind("HOME=", 0) != 0) env_strings.push_back(*e);
  if (uid != 0) env_strings.push_back("HOME=" + dir);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  Proc p{-1, out};
  p.pid = ::fork();
  if (p.pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) ::_exit(126);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (uid != 0 && (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0)) ::_exit(125);
    if (::chdir(dir.c_str()) != 0) ::_exit(124);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  REQUIRE(p.pid > 0);
  return p;
}

Done wait_for(const Proc& p) {
  int st = 0;
  REQUIRE(::waitpid(p.pid, &st, 0) == p.pid);
  Done d;
  if (WIFEXITED(st)) d.status = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) d.signal = WTERMSIG(st);
  d.output = read_file(p.out);
  return d;
}

std::vector<std::string> install_args(const std::string& store) {
  return {"install", "--frozen-lockfile", "--store-dir", store, "--reporter=append-only"};
}

// ---------------------------------------------------------------- the generated project
// ~200 packages (every seventh scoped, every tenth with a bin, 4-8 files each) in a
// random DAG reachable from 20 direct dependencies, plus an npm: alias of one of them and
// peer-host in two slots (peer-dep@1 for the root, peer-dep@2 under p001).
struct BigProject {
  static constexpr int kCount = 200;
  RegistryServer server;
  TempDir tmp;
  std::string manifest, lockfile, npmrc;

  static std::string name(int i) {
    char b[16];
    std::snprintf(b, sizeof b, "p%03d", i);
    return i % 7 == 3 ? std::string("@crash/") + b : std::string(b);
  }
  static std::string q(const std::string& key) { return key[0] == '@' ? "'" + key + "'" : key; }

  void publish(const std::string& name, const std::string& version, const std::vector<TarEntry>& files,
               std::map<std::string, std::string>& integrity) {
    auto tgz = make_tgz(files);
    integrity[name + "@" + version] = sri_sha512(tgz);
    auto slash = name.find('/');
    std::string bare = slash == std::string::npos ? name : name.substr(slash + 1);
    server.put("/" + name + "/-/" + bare + "-" + version + ".tgz", std::move(tgz));
  }

  BigProject() {
    std::mt19937 rng(12);  // the project's shape is fixed; only the kill points vary
    std::map<std::string, std::string> integrity;
    std::vector<std::set<int>> deps(kCount);
    for (int i = 20; i < kCount; ++i) deps[std::uniform_int_distribution<int>(std::max(0, i - 25), i - 1)(rng)].insert(i);
    for (int i = 0; i < kCount - 1; ++i)
      for (int k = rng() % 3; k > 0; --k) deps[i].insert(std::uniform_int_distribution<int>(i + 1, kCount - 1)(rng));

    auto filler = [&](int n) {
      std::string s;
      while (int(s.size()) < n) s += "// " + std::to_string(rng()) + " lorem ipsum dolor sit amet\n";
      return s;
    };
    std::string packages, snapshots;
    std::map<std::string, std::string> pkg_entries, snap_entries;  // sorted, as pnpm writes them
    for (int i = 0; i < kCount; ++i) {
      std::string n = name(i), key = n + "@1.0.0";
      bool bin = i % 10 == 0;
      std::string pj = "{\"name\":\"" + n + "\",\"version\":\"1.0.0\",\"main\":\"index.js\"";
      if (bin) pj += ",\"bin\":{\"" + name(i).substr(name(i).find('/') + 1) + "-cli\":\"bin/cli.js\"}";
      pj += "}";
      std::vector<TarEntry> files{{"package/package.json", pj},
                                  {"package/index.js", "module.exports = '" + n + "'\n" + filler(1500)},
                                  {"package/README.md", "# " + n + "\n" + filler(800)},
                                  {"package/lib/a.js", filler(2500)}};
      for (int f = 0; f < i % 5; ++f) files.push_back({"package/lib/extra" + std::to_string(f) + ".js", filler(3000)});
      if (bin) files.push_back({"package/bin/cli.js", "#!/usr/bin/env node\nconsole.log('" + n + "')\n", 0644});
      publish(n, "1.0.0", files, integrity);
      pkg_entries[key] = "  " + q(key) + ":\n    resolution: {integrity: " + integrity.at(key) + "}\n" +
                         (bin ? "    hasBin: true\n" : "") + "\n";
      std::map<std::string, std::string> d;
      for (int j : deps[i]) d[name(j)] = "1.0.0";
      if (i == 1) d["peer-dep"] = "2.0.0", d["peer-host"] = "1.0.0(peer-dep@2.0.0)";
      std::string s = "  " + q(key) + ":";
      if (d.empty()) s += " {}\n\n";
      else {
        s += "\n    dependencies:\n";
        for (auto& [dn, dv] : d) s += "      " + q(dn) + ": " + dv + "\n";
        s += "\n";
      }
      snap_entries[key] = s;
    }
    for (const char* v : {"1.0.0", "2.0.0"}) {
      publish("peer-dep", v, {{"package/package.json", std::string("{\"name\":\"peer-dep\",\"version\":\"") + v + "\"}"},
                              {"package/index.js", std::string("module.exports = '") + v + "'\n"}},
              integrity);
      std::string key = std::string("peer-dep@") + v;
      pkg_entries[key] = "  " + key + ":\n    resolution: {integrity: " + integrity.at(key) + "}\n\n";
      snap_entries[key] = "  " + key + ": {}\n\n";
    }
    publish("peer-host", "1.0.0",
            {{"package/package.json", R"({"name":"peer-host","version":"1.0.0","peerDependencies":{"peer-dep":"*"}})"},
             {"package/index.js", "module.exports = require('peer-dep')\n"}},
            integrity);
    pkg_entries["peer-host@1.0.0"] = "  peer-host@1.0.0:\n    resolution: {integrity: " + integrity.at("peer-host@1.0.0") +
                                     "}\n    peerDependencies:\n      peer-dep: '*'\n\n";
    for (const char* v : {"1.0.0", "2.0.0"})
      snap_entries[std::string("peer-host@1.0.0(peer-dep@") + v + ")"] =
          std::string("  peer-host@1.0.0(peer-dep@") + v + "):\n    dependencies:\n      peer-dep: " + v + "\n\n";

    // The root: p000..p019, the alias, peer-dep@1 and peer-host with it.
    struct Direct {
      std::string specifier, version;
    };
    std::map<std::string, Direct> direct;
    for (int i = 0; i < 20; ++i) direct[name(i)] = {"^1.0.0", "1.0.0"};
    direct["aliased"] = {"npm:" + name(50) + "@^1.0.0", name(50) + "@1.0.0"};
    direct["peer-dep"] = {"^1.0.0", "1.0.0"};
    direct["peer-host"] = {"^1.0.0", "1.0.0(peer-dep@1.0.0)"};
    manifest = "{\"name\":\"crash\",\"version\":\"1.0.0\",\"dependencies\":{";
    lockfile = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n";
    bool first = true;
    for (auto& [n, d] : direct) {
      manifest += std::string(first ? "" : ",") + "\"" + n + "\":\"" + d.specifier + "\"";
      first = false;
      lockfile += "      " + q(n) + ":\n        specifier: " + d.specifier + "\n        version: " + d.version + "\n";
    }
    manifest += "}}\n";
    lockfile += "\npackages:\n\n";
    for (auto& [k, v] : pkg_entries) lockfile += v;
    lockfile += "snapshots:\n\n";
    for (auto& [k, v] : snap_entries) lockfile += v;
    npmrc = "registry=" + server.url() + "\n";
  }

  void write_project(const std::string& dir) const {
    write_file(dir + "/package.json", manifest);
    write_file(dir + "/pnpm-lock.yaml", lockfile);
    write_file(dir + "/.npmrc", npmrc);
  }
};

// ---------------------------------------------------------------- comparing results
// A file's bytes, with the project's absolute path (in bin shims' NODE_PATH, as pnpm's)
// replaced by a placeholder.
std::string content_of(const std::string& project, const std::string& rel) {
  std::string s = read_file(project + "/" + rel);
  for (size_t at; (at = s.find(project)) != std::string::npos;) s.replace(at, project.size(), "<project>");
  return s;
}

// The listing and every file's bytes of a clean install.
struct Reference {
  std::vector<std::string> listing;
  std::map<std::string, std::string> contents;  // project-relative path -> bytes

  static Reference of(const std::string& project) {
    Reference r{layout_listing(project), {}};
    for (auto& line : r.listing)
      if (line[0] == 'f' || line[0] == 'b') {
        std::string rel = line.substr(2, line.rfind(' ') - 2);
        r.contents[rel] = content_of(project, rel);
      }
    return r;
  }

  // Empty when `project` has exactly this tree; else the first few differences.
  std::string diff(const std::string& project) const {
    auto got = layout_listing(project);
    std::string out;
    int shown = 0;
    if (got != listing) {
      std::vector<std::string> missing, extra;
      std::set_difference(listing.begin(), listing.end(), got.begin(), got.end(), std::back_inserter(missing));
      std::set_difference(got.begin(), got.end(), listing.begin(), listing.end(), std::back_inserter(extra));
      out += std::to_string(missing.size()) + " missing, " + std::to_string(extra.size()) + " extra\n";
      for (auto& m : missing)
        if (shown++ < 6) out += "  missing: " + m + "\n";
      for (auto& e : extra)
        if (shown++ < 12) out += "  extra:   " + e + "\n";
      return out;
    }
    for (auto& [rel, bytes] : contents)
      if (content_of(project, rel) != bytes && shown++ < 6) out += "  content differs: " + rel + "\n";
    return out;
  }
};

// Store damage (Store::verify) and leftovers in <store>/v3/tmp, as one string ("" = clean).
// The leftovers are listed before the Store is opened: open() sweeps.
std::string store_problems(const std::string& store) {
  std::string out;
  std::string tmp = tarn::Store::layout_dir(store) + "/tmp";
  if (sfs::exists(tmp))
    for (auto& e : sfs::directory_iterator(tmp)) out += "left in tmp: " + e.path().filename().string() + "\n";
  tarn::Store s(store);
  auto opened = s.open();
  if (!opened) return out + "open: " + opened.error().render() + "\n";
  auto damage = s.verify();
  if (!damage) return out + "verify: " + damage.error().render() + "\n";
  for (auto& d : *damage) out += "damaged: " + d.rel + ": " + d.why + "\n";
  return out;
}

bool has_markers(const std::string& project) {
  return sfs::exists(project + "/node_modules/.modules.yaml") ||
         sfs::exists(project + "/node_modules/.pnpm-workspace-state-v1.json");
}

// A clean reference install of `big` into its own project and store; its cold and warm
// durations in ms.
struct Baseline {
  Reference ref;
  double cold_ms = 0, warm_ms = 0;
};

Baseline baseline(const BigProject& big) {
  std::string project = big.tmp.path() + "/ref", store = big.tmp.path() + "/ref-store";
  big.write_project(project);
  Baseline b;
  auto t0 = Clock::now();
  auto cold = wait_for(spawn(install_args(store), project, big.tmp.path() + "/ref.out"));
  b.cold_ms = ms_since(t0);
  INFO(cold.output);
  REQUIRE(cold.status == 0);
  b.ref = Reference::of(project);
  REQUIRE(b.ref.listing.size() > 1500);
  REQUIRE(store_problems(store).empty());
  sfs::remove_all(project + "/node_modules");
  t0 = Clock::now();
  auto warm = wait_for(spawn(install_args(store), project, big.tmp.path() + "/ref.out"));
  b.warm_ms = ms_since(t0);
  REQUIRE(warm.status == 0);
  REQUIRE(b.ref.diff(project).empty());
  return b;
}

}  // namespace

TEST_CASE("kill -9 at 100 random points of cold and warm installs: the rerun is exact", "[slow]") {
  BigProject big;
  big.server.set_response_delay_ms(2);  // a registry a little slower than loopback
  Baseline base = baseline(big);
  std::string project = big.tmp.path() + "/project", store = big.tmp.path() + "/store";
  big.write_project(project);

  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("TARN_CRASH_SEED")) seed = static_cast<unsigned>(std::stoul(s));
  std::printf("crash seed %u (TARN_CRASH_SEED=%u replays it); reference install: cold %.0f ms, warm %.0f ms, %zu entries\n",
              seed, seed, base.cold_ms, base.warm_ms, base.ref.listing.size());
  std::fflush(stdout);
  CAPTURE(seed);
  std::mt19937 rng(seed);

  // cold: empty store, no node_modules. warm: the store whole, no node_modules. double: a
  // cold install killed, then the install over its leftovers killed too.
  enum Mode { Cold, Warm, Double };
  const char* mode_names[] = {"cold", "warm", "double"};
  struct Tally {
    int runs = 0, killed = 0, finished = 0;
  };
  std::map<int, Tally> tally;
  int failures = 0;
  // One kill: start an install, wait a random time up to a little more than it takes, SIGKILL.
  auto kill_one = [&](double max_ms, Tally& t) {
    auto p = spawn(install_args(store), project, big.tmp.path() + "/killed.out");
    auto wait = std::chrono::microseconds(std::uniform_int_distribution<int>(0, int(max_ms * 1000))(rng));
    std::this_thread::sleep_for(wait);
    ::kill(p.pid, SIGKILL);
    auto d = wait_for(p);
    if (d.signal == SIGKILL) ++t.killed;
    else {
      ++t.finished;  // it won the race
      INFO(d.output);
      CHECK(d.status == 0);
    }
  };
  int kills = 100;
  if (const char* n = std::getenv("TARN_CRASH_KILLS")) kills = std::stoi(n);
  for (int i = 0; i < kills; ++i) {
    Mode mode = Mode(std::uniform_int_distribution<int>(0, 9)(rng) < 4 ? Cold : (rng() % 3 == 0 ? Double : Warm));
    CAPTURE(i, mode_names[mode]);
    Tally& t = tally[mode];
    ++t.runs;
    sfs::remove_all(project + "/node_modules");
    if (mode != Warm) sfs::remove_all(store);
    kill_one(mode == Warm ? base.warm_ms * 1.1 : base.cold_ms * 1.1, t);
    if (mode == Double) kill_one(base.cold_ms * 1.1, t);
    auto rerun = wait_for(spawn(install_args(store), project, big.tmp.path() + "/rerun.out"));
    INFO(rerun.output);
    bool ok = rerun.status == 0;
    CHECK(rerun.status == 0);
    std::string tree = ok ? base.ref.diff(project) : "";
    CHECK(tree == "");
    std::string st = store_problems(store);
    CHECK(st == "");
    if (!ok || !tree.empty() || !st.empty()) ++failures;
    if (mode == Warm && !ok) sfs::remove_all(store);  // start the next one from a known state
  }
  for (auto& [m, t] : tally)
    std::printf("%-6s runs %3d, kills landed %3d, finished before the kill %3d\n", mode_names[m], t.runs, t.killed,
                t.finished);
  std::printf("iterations with a wrong result: %d of %d\n", failures, kills);
  std::fflush(stdout);
}

TEST_CASE("four installs into one shared store at once are all exact", "[slow]") {
  BigProject big;
  Baseline base = baseline(big);
  std::string store = big.tmp.path() + "/shared-store";
  std::vector<std::string> projects;
  for (int k = 0; k < 4; ++k) {
    projects.push_back(big.tmp.path() + "/copy" + std::to_string(k));
    big.write_project(projects.back());
  }
  // Twice from an empty store (every process downloads and commits the same packages),
  // then once warm.
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    if (round < 2) sfs::remove_all(store);
    std::vector<Proc> procs;
    for (int k = 0; k < 4; ++k) {
      sfs::remove_all(projects[k] + "/node_modules");
      procs.push_back(spawn(install_args(store), projects[k], projects[k] + ".out"));
    }
    for (int k = 0; k < 4; ++k) {
      auto d = wait_for(procs[k]);
      INFO(d.output);
      CHECK(d.status == 0);
      CHECK(base.ref.diff(projects[k]) == "");
    }
    CHECK(store_problems(store) == "");
  }
}

TEST_CASE("a killed install's locked staging directory is swept at once, a live holder's is kept") {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);  // a dead pid, as a kill -9-ed install's
  TempDir t;
  tarn::Store store(t.path() + "/store");
  REQUIRE(store.open());
  // Named as Store::begin() names them; just written (idle 0 s).
  std::string dir = tarn::Store::layout_dir(store.root()) + "/tmp/" + std::to_string(child) + "-l0123456789ab";
  write_file(dir + "/0", "half a package");
  {
    // Held: a live process in another pid namespace, whose pid only looks dead here.
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    CHECK(tarn::Store(store.root()).sweep_staging() == 0);
    CHECK(sfs::exists(dir + "/0"));
    ::close(fd);
  }
  CHECK(tarn::Store(store.root()).sweep_staging() == 1);
  CHECK_FALSE(sfs::exists(dir));
  // And the store's own staging carries the mark and its lock.
  auto s = store.begin();
  REQUIRE(s);
  CHECK(s->path.find("/" + std::to_string(::getpid()) + "-l") != std::string::npos);
  int other = ::open(s->path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(other >= 0);
  CHECK(::flock(other, LOCK_EX | LOCK_NB) != 0);
  ::close(other);
  store.abort(*s);
}

TEST_CASE("an install killed while writing its markers leaves temporaries the next install removes") {
  BigProject big;
  Baseline base = baseline(big);
  std::string project = big.tmp.path() + "/ref", store = big.tmp.path() + "/ref-store";
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  std::string dead = std::to_string(child), self = std::to_string(::getpid());
  // Killed between write_file_atomic's write and its rename, in write-state: the lockfile
  // copy and .modules.yaml renamed, the up-to-date marker not.
  std::vector<std::string> leftovers = {"node_modules/.pnpm/lock.yaml.tmp-" + dead + "-1",
                                        "node_modules/.modules.yaml.tmp-" + dead + "-2",
                                        "node_modules/.pnpm-workspace-state-v1.json.tmp-" + dead + "-3"};
  for (auto& l : leftovers) write_file(project + "/" + l, "half");
  sfs::remove(project + "/node_modules/.pnpm-workspace-state-v1.json");
  std::string live = project + "/node_modules/.modules.yaml.tmp-" + self + "-4";  // a writer still running
  write_file(live, "being written");
  auto r = wait_for(spawn(install_args(store), project, big.tmp.path() + "/out"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  for (auto& l : leftovers) CHECK_FALSE(sfs::exists(project + "/" + l));
  CHECK(sfs::exists(live));
  sfs::remove(live);
  CHECK(base.ref.diff(project) == "");
}

// ---------------------------------------------------------------- disk faults
namespace {

// A filesystem mounted for the test's lifetime; `ok` false (and a WARN) when mount fails.
struct Mount {
  std::string dir;
  bool ok = false;
  Mount(const std::string& d, const char* fstype, const char* source, unsigned long flags, const char* data) : dir(d) {
    sfs::create_directories(dir);
    ok = ::mount(source, dir.c_str(), fstype, flags, data) == 0;
    if (!ok) WARN("cannot mount " << fstype << " at " << dir << ": " << std::strerror(errno) << " - case skipped");
  }
  // A read-only bind mount of `d` onto itself.
  static std::unique_ptr<Mount> read_only_bind(const std::string& d) {
    auto m = std::make_unique<Mount>(d, "none", d.c_str(), MS_BIND, nullptr);
    if (m->ok && ::mount("none", d.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      WARN("cannot remount " << d << " read-only: " << std::strerror(errno) << " - case skipped");
      ::umount2(d.c_str(), MNT_DETACH);
      m->ok = false;
    }
    return m;
  }
  ~Mount() {
    if (ok) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

// tarn's error report: the first line starts with the code (and, for a parallel pass, the
// count); a parallel pass then lists the first messages per code, indented.
std::vector<std::string> lines_of(const std::string& output) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < output.size()) {
    size_t nl = output.find('\n', at);
    out.push_back(output.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

// Exit 1 (not a crash); the report's first line has one of `codes`; a line of it names
// `path_part` and says `why`; nothing looks complete.
void expect_clean_failure(const Done& d, const std::string& project, const std::vector<std::string>& codes,
                          const std::string& path_part, const std::string& why) {
  INFO(d.output);
  CHECK(d.signal == 0);
  CHECK(d.status == 1);
  auto lines = lines_of(d.output);
  auto head = std::find_if(lines.begin(), lines.end(), [](auto& l) { return l.rfind("ERR_", 0) == 0; });
  REQUIRE(head != lines.end());
  CHECK(std::any_of(codes.begin(), codes.end(), [&](auto& c) { return head->rfind(c + " ", 0) == 0; }));
  CHECK(std::any_of(head, lines.end(), [&](auto& l) {
    return l.find(path_part) != std::string::npos && l.find(why) != std::string::npos;
  }));
  CHECK_FALSE(has_markers(project));
}

}  // namespace

TEST_CASE("disk faults: no space left and read-only directories fail clearly, exit 1, nothing looks complete") {
  BigProject big;
  const std::string t = big.tmp.path();
  SECTION("ENOSPC: the project on a full 2 MB filesystem, the store elsewhere") {
    Mount m(t + "/small", "tmpfs", "tmpfs", 0, "size=2m");
    if (!m.ok) return;
    std::string project = m.dir + "/project";
    big.write_project(project);
    auto d = wait_for(spawn(install_args(t + "/store"), project, t + "/out"));
    expect_clean_failure(d, project, {"ERR_TARN_LINK_FAILED"}, "node_modules/.pnpm/", "No space left on device");
    CHECK_FALSE(sfs::exists(project + "/node_modules"));  // it created node_modules: it removes it
    CHECK(store_problems(t + "/store") == "");
  }
  SECTION("ENOSPC: the store on a full 2 MB filesystem, the project elsewhere") {
    Mount m(t + "/small", "tmpfs", "tmpfs", 0, "size=2m");
    if (!m.ok) return;
    std::string project = t + "/project";
    big.write_project(project);
    auto d = wait_for(spawn(install_args(m.dir + "/store"), project, t + "/out"));
    // A blob or an index that does not fit is the disk's fault: ERR_TARN_STORE_WRITE.
    expect_clean_failure(d, project, {"ERR_TARN_STORE_WRITE"}, "", "No space left on device");
    CHECK_FALSE(sfs::exists(project + "/node_modules"));
    // What did get committed is whole, and no staging is left behind.
    CHECK(store_problems(m.dir + "/store") == "");
  }
  SECTION("EROFS: a read-only project directory") {
    std::string project = t + "/ro-project";
    big.write_project(project);
    auto m = Mount::read_only_bind(project);
    if (!m->ok) return;
    auto d = wait_for(spawn(install_args(t + "/store"), project, t + "/out"));
    expect_clean_failure(d, project, {"ERR_TARN_LINK_FAILED"}, "failed to create node_modules", "Read-only file system");
  }
  SECTION("EROFS: a read-only store") {
    Mount m(t + "/ro-store", "tmpfs", "tmpfs", MS_RDONLY, "size=2m");
    if (!m.ok) return;
    std::string project = t + "/project";
    big.write_project(project);
    auto d = wait_for(spawn(install_args(m.dir + "/store"), project, t + "/out"));
    expect_clean_failure(d, project, {"ERR_TARN_STORE_DIR"}, m.dir + "/store", "Read-only file system");
    CHECK_FALSE(sfs::exists(project + "/node_modules"));
  }
  // Permissions, as an unprivileged user (root ignores them): uid/gid 65534.
  const uid_t nobody = 65534;
  sfs::permissions(t, sfs::perms::owner_all | sfs::perms::group_read | sfs::perms::group_exec |
                          sfs::perms::others_read | sfs::perms::others_exec);
  SECTION("EACCES: a project directory the user may not write (0555)") {
    std::string project = t + "/project", store = t + "/store";
    big.write_project(project);
    sfs::create_directories(store);
    REQUIRE(::chown(store.c_str(), nobody, nobody) == 0);
    ::chmod(project.c_str(), 0555);
    auto d = wait_for(spawn(install_args(store), project, t + "/out", nobody));
    if (d.status == 127 || d.status == 125) {  // exec or setuid refused: the binary's path is not the user's to read
      WARN("cannot run tarn as uid " << nobody << " - case skipped");
      return;
    }
    expect_clean_failure(d, project, {"ERR_TARN_LINK_FAILED"}, "failed to create node_modules", "Permission denied");
  }
  SECTION("EACCES: a store directory the user may not write (0555)") {
    std::string project = t + "/project", store = t + "/store";
    big.write_project(project);
    sfs::create_directories(store);
    ::chmod(store.c_str(), 0555);
    for (auto& e : sfs::recursive_directory_iterator(project)) REQUIRE(::lchown(e.path().c_str(), nobody, nobody) == 0);
    REQUIRE(::chown(project.c_str(), nobody, nobody) == 0);
    auto d = wait_for(spawn(install_args(store), project, t + "/out", nobody));
    if (d.status == 127 || d.status == 125) {  // exec or setuid refused: the binary's path is not the user's to read
      WARN("cannot run tarn as uid " << nobody << " - case skipped");
      return;
    }
    expect_clean_failure(d, project, {"ERR_TARN_STORE_DIR"}, store, "Permission denied");
    CHECK_FALSE(sfs::exists(project + "/node_modules"));
  }
}
