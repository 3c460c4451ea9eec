// Pass scripts: dependency builds, then the projects' own lifecycle scripts, as pnpm 12.
//   detect   which planned packages need a build: a preinstall/install/postinstall script,
//            or a binding.gyp (then `node-gyp rebuild` is the install script)
//   builds   those allowBuilds approves (builds.cpp decided it before the import, which
//            copied their files), dependencies first: the lockfile's snapshot graph cut
//            into waves as pnpm's graph sequencer does (a cycle becomes one wave); each
//            wave's builds run in parallel, as many as min(4, cores) (pnpm's
//            childConcurrency). Bins are linked before (pnpm links a package's
//            dependencies' bins before its scripts) and again after, for the shims of bins
//            a build replaced (pnpm re-links bins after its build phase).
//   ignored  unapproved builds: ERR_PNPM_IGNORED_BUILDS (a warning when strictDepBuilds
//            is false), raised after the approved ones ran, as pnpm does
//   projects each project's preinstall ... postprepare, dependencies first: pnpm sequences
//            the projects this install runs through by their lockfile link: edges
//            (fixtures/workspace: c, b, a, then the root), one after another here
#include <tbb/parallel_for.h>
#include <tbb/parallel_for_each.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "builds.hpp"
#include "lifecycle.hpp"
#include "passes.hpp"
#include "tarn/workspace/sequence.hpp"

namespace tarn {

namespace {

namespace json = boost::json;

constexpr const char* kDependencyStages[] = {"preinstall", "install", "postinstall"};
constexpr const char* kProjectStages[] = {"preinstall", "install", "postinstall", "preprepare", "prepare", "postprepare"};
constexpr const char* kNodeGypRebuild = "node-gyp rebuild";

std::string script_of(const json::object& manifest, const char* stage) {
  if (auto* s = manifest.if_contains("scripts"); s && s->is_object())
    if (auto* v = s->as_object().if_contains(stage); v && v->is_string()) return std::string(v->as_string());
  return "";
}

// pnpm's stage script: the `install` stage of a package with a binding.gyp and neither an
// install nor a preinstall script is `node-gyp rebuild`.
std::string stage_script(const json::object& manifest, const char* stage, bool binding_gyp) {
  std::string s = script_of(manifest, stage);
  if (s.empty() && binding_gyp && std::string_view(stage) == "install" && script_of(manifest, "preinstall").empty())
    return kNodeGypRebuild;
  return s == "npx only-allow pnpm" ? "" : s;
}

// A planned package that needs a build.
struct Candidate {
  size_t pkg;
  json::object manifest;
  bool binding_gyp = false;
  std::string id;  // name@version, as messages name it
};

// Reads the package.json of every planned package (in parallel) and keeps those with a
// build step. Cheap when none has one: a manifest without `install"` is not parsed.
std::vector<Candidate> detect(const InstallContext& cx) {
  std::mutex mu;
  std::vector<Candidate> found;
  const auto& pkgs = cx.plan.packages;
  int root = cx.root_fd->fd();
  tbb::parallel_for(size_t(0), pkgs.size(), [&](size_t i) {
    const std::string& dir = pkgs[i].pkg_dir;
    bool gyp = ::faccessat(root, (dir + "/binding.gyp").c_str(), F_OK, 0) == 0;
    auto text = fs::read_file_at(root, (dir + "/package.json").c_str(), dir);
    bool maybe = text && text->find("install\"") != std::string::npos;
    if (!gyp && !maybe) return;
    json::object manifest;
    if (text) {
      boost::system::error_code ec;
      json::value v = json::parse(*text, ec);
      if (!ec && v.is_object()) manifest = std::move(v.as_object());
    }
    bool scripted = false;
    for (const char* stage : kDependencyStages) scripted |= !script_of(manifest, stage).empty();
    if (!scripted && !gyp) return;
    const DepPath& key = pkgs[i].snapshot->key;
    std::string id = key.name().str() + "@" + std::string(key.version());
    if (auto* v = manifest.if_contains("version"); v && v->is_string())
      id = key.name().str() + "@" + std::string(v->as_string());
    std::lock_guard lk(mu);
    found.push_back({i, std::move(manifest), gyp, std::move(id)});
  });
  std::sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.pkg < b.pkg; });
  return found;
}

// pnpm's build_sequence + graph_sequencer over plan indices. The nodes are the packages
// whose dependency closure holds a build (so an unbuilt package between two builds still
// orders them); each wave's nodes depend only on earlier waves. With no node free of
// pending dependencies, the cycles among the rest are found (breadth first) and each
// becomes part of one wave, as pnpm does.
class WaveBuilder {
 public:
  WaveBuilder(const InstallPlan& plan, const std::vector<char>& needs)
      : plan_(plan), needs_(needs), n_(plan.packages.size()), children_(n_), remaining_(n_, 0), degree_(n_, 0),
        parents_(n_) {}

  std::vector<std::vector<size_t>> run() {
    link_children();
    closure_order();
    count_degrees();
    std::vector<std::vector<size_t>> waves;
    for (size_t left = order_.size(); left > 0;) waves.push_back(next_wave(left));
    return waves;
  }

 private:
  void link_children() {
    for (size_t i = 0; i < n_; ++i) {
      const Snapshot& s = *plan_.packages[i].snapshot;
      for (auto* deps : {&s.dependencies, &s.optional_dependencies})
        for (auto& d : *deps) {
          if (d.ref.is_link()) continue;
          auto it = plan_.by_dep_path.find(d.ref.target.str());
          if (it != plan_.by_dep_path.end() && it->second != i) children_[i].push_back(it->second);
        }
      std::sort(children_[i].begin(), children_[i].end());
      children_[i].erase(std::unique(children_[i].begin(), children_[i].end()), children_[i].end());
    }
  }

  // The nodes whose closure holds a build, in post-order (dependencies first). State:
  // 0 unvisited, 1 in progress (a cycle: counts as no), 2 no, 3 yes.
  void closure_order() {
    std::vector<char> state(n_, 0);
    auto visit = [&](auto& self, size_t i) -> bool {
      if (state[i] != 0) return state[i] == 3;
      state[i] = 1;
      bool sub = needs_[i];
      for (size_t c : children_[i]) sub |= self(self, c);
      state[i] = sub ? 3 : 2;
      if (sub) order_.push_back(i);
      return sub;
    };
    for (size_t i = 0; i < n_; ++i) visit(visit, i);
  }

  void count_degrees() {
    for (size_t i : order_) remaining_[i] = 1;
    for (size_t i : order_)
      for (size_t c : children_[i])
        if (remaining_[c]) ++degree_[i], parents_[c].push_back(i);
  }

  void remove(size_t i) {
    remaining_[i] = 0;
    for (size_t p : parents_[i])
      if (degree_[p] > 0) --degree_[p];
  }

  // The longest cycle through `start` among nodes still remaining, found breadth first.
  std::vector<size_t> find_cycle(size_t start) const {
    std::deque<std::vector<size_t>> queue{{start}};
    std::vector<char> seen(n_, 0);
    std::vector<size_t> best;
    while (!queue.empty()) {
      std::vector<size_t> path = std::move(queue.front());
      queue.pop_front();
      for (size_t to : children_[path.back()]) {
        if (to == start) {
          if (path.size() > best.size()) best = path;
          continue;
        }
        if (!remaining_[to] || seen[to]) continue;
        seen[to] = 1;
        auto next = path;
        next.push_back(to);
        queue.push_back(std::move(next));
      }
    }
    return best;
  }

  std::vector<size_t> next_wave(size_t& left) {
    std::vector<size_t> wave;
    for (size_t i : order_)
      if (remaining_[i] && degree_[i] == 0) wave.push_back(i);
    if (!wave.empty()) {
      for (size_t i : wave) remove(i), --left;
      return wave;
    }
    for (size_t i : order_) {
      if (!remaining_[i]) continue;
      for (size_t c : find_cycle(i))
        if (remaining_[c]) remove(c), wave.push_back(c), --left;
    }
    if (wave.empty())  // unreachable: a node with pending dependencies lies on or behind a cycle
      for (size_t i : order_)
        if (remaining_[i]) remove(i), wave.push_back(i), --left;
    return wave;
  }

  const InstallPlan& plan_;
  const std::vector<char>& needs_;
  size_t n_;
  std::vector<std::vector<size_t>> children_;
  std::vector<size_t> order_;
  std::vector<char> remaining_;
  std::vector<size_t> degree_;
  std::vector<std::vector<size_t>> parents_;
};

std::vector<std::vector<size_t>> build_waves(const InstallPlan& plan, const std::vector<char>& needs) {
  return WaveBuilder(plan, needs).run();
}

// Runs one package's preinstall, install and postinstall.
Result<void> build_one(const InstallContext& cx, const ScriptEnv& env, const Candidate& c) {
  const PlannedPackage& p = cx.plan.packages[c.pkg];
  for (const char* stage : kDependencyStages) {
    std::string script = stage_script(c.manifest, stage, c.binding_gyp);
    if (script.empty()) continue;
    ScriptRun run{fs::join(cx.root_dir, p.pkg_dir), stage, script, &c.manifest, true};
    if (script == kNodeGypRebuild) {
      std::string path;
      for (auto& d : ancestor_bin_dirs(run.pkg_root)) path += d + ":";
      if (!on_path(path + env.path, "node-gyp"))
        return Error::failed(Code::Lifecycle, c.id + " " + stage + ": `node-gyp rebuild` (for its binding.gyp) cannot run: "
                                              "no node-gyp on PATH. Install node-gyp (npm install -g node-gyp), "
                                              "or leave " + p.snapshot->key.name().str() + " out of allowBuilds");
    }
    auto t0 = std::chrono::steady_clock::now();
    auto r = run_script(env, run);
    if (!r) return r.error();
    if (!r->ok()) {
      std::string tail;  // the output's last lines, each made printable
      std::string last = tail_lines(r->output, 20);
      std::string_view rest = last;
      while (!rest.empty()) {
        size_t nl = rest.find('\n');
        tail += "\n  " + printable(rest.substr(0, nl), 400);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      }
      return Error::failed(Code::Lifecycle, c.id + " " + stage + ": `" + printable(script) + "` exited with status " +
                                                std::to_string(r->exit_code) + " (in " + p.pkg_dir + ")" +
                                                tail);
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.1fs", s);
    cx.rep.info(p.pkg_dir + " " + stage + "$ " + printable(script) + "\n" + p.pkg_dir + " " + stage + ": Done in " + took);
  }
  return {};
}

// Builds every approved candidate, dependencies first. Returns whether one with bins built.
Result<bool> run_dependency_builds(InstallContext& cx, const std::vector<Candidate>& cands) {
  std::vector<char> needs(cx.plan.packages.size(), 0);
  std::vector<const Candidate*> by_pkg(cx.plan.packages.size(), nullptr);
  for (auto& c : cands) needs[c.pkg] = 1, by_pkg[c.pkg] = &c;
  ScriptEnv env = ScriptEnv::from_process(cx.root_dir);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  tbb::task_arena arena(static_cast<int>(std::min(4u, cores)));
  bool bins = false;
  for (auto& wave : build_waves(cx.plan, needs)) {
    std::vector<const Candidate*> todo;
    for (size_t i : wave)
      if (by_pkg[i] && cx.builds.approved[i]) todo.push_back(by_pkg[i]);
    ErrorSink errs;
    arena.execute([&] {
      tbb::parallel_for_each(todo.begin(), todo.end(), [&](const Candidate* c) {
        auto r = build_one(cx, env, *c);
        if (r) return;
        if (cx.plan.packages[c->pkg].snapshot->optional) {
          // pnpm skips an optional dependency whose build fails.
          cx.rep.warn("Skipping failed optional dependency build: " + r.error().message);
          return;
        }
        errs.add(r.error());
      });
    });
    if (!errs.empty()) return errs.merged("building dependencies");
    for (auto* c : todo) bins |= cx.plan.packages[c->pkg].has_bin;
  }
  return bins;
}

Result<void> check_ignored(const InstallContext& cx, const std::vector<Candidate>& cands) {
  std::set<std::string> ignored;
  for (auto& c : cands) {
    const DepPath& key = cx.plan.packages[c.pkg].snapshot->key;
    if (!build_allowed(cx.settings, key.name().str(), key.version())) ignored.insert(key.name().str());
  }
  if (ignored.empty()) return {};
  std::string list;
  for (auto& n : ignored) list += (list.empty() ? "" : ", ") + n;
  std::string msg = "Ignored build scripts: " + list +
                    "\nRun \"pnpm approve-builds\" to pick which dependencies should be allowed to run scripts.";
  if (!cx.settings.strict_dep_builds) return cx.rep.warn(msg), Result<void>{};
  return Error::failed(Code::IgnoredBuilds, msg);
}

// One project's lifecycle scripts; their output goes straight to tarn's.
Result<void> run_project(const InstallContext& cx, std::optional<ScriptEnv>& env, const Project& p) {
  json::object manifest;
  boost::system::error_code ec;
  json::value v = json::parse(p.manifest_text, ec);
  if (!ec && v.is_object()) manifest = std::move(v.as_object());
  bool gyp = fs::exists(p.dir + "/binding.gyp");
  std::string id = p.manifest.name.empty() ? p.id.str() : p.manifest.name + "@" + p.manifest.version;
  for (const char* stage : kProjectStages) {
    std::string script = stage_script(manifest, stage, gyp);
    if (script.empty()) continue;
    cx.rep.info(p.id.str() + " " + stage + "$ " + printable(script));
    if (!env) env = ScriptEnv::from_process(cx.root_dir);
    auto r = run_script(*env, ScriptRun{p.dir, stage, script, &manifest, false});
    if (!r) return r.error();
    if (!r->ok())
      return Error::failed(Code::Lifecycle, id + " " + stage + ": `" + printable(script) + "` exited with status " +
                                                std::to_string(r->exit_code));
  }
  return {};
}

// The projects this install runs through, dependencies first: pnpm's graph sequencer over
// the importers' link: edges among them, in project order (the root first) within a chunk.
std::vector<const Project*> project_order(const InstallContext& cx) {
  std::vector<std::vector<size_t>> edges(cx.projects.size());
  std::vector<size_t> included;
  for (size_t i = 0; i < cx.projects.size(); ++i) {
    const Project& p = cx.projects[i];
    if (!p.this_run) continue;
    included.push_back(i);
    const Importer* imp = cx.lockfile.importer(p.id.str());
    if (!imp) continue;
    for (auto& d : imp->deps) {
      if (!d.ref.is_link()) continue;
      std::string target = fs::normalize(fs::join(p.dir, d.ref.link));
      for (size_t j = 0; j < cx.projects.size(); ++j)
        if (j != i && cx.projects[j].this_run && cx.projects[j].dir == target) edges[i].push_back(j);
    }
  }
  std::vector<const Project*> order;
  for (auto& chunk : workspace::graph_sequencer(edges, included))
    for (size_t i : chunk) order.push_back(&cx.projects[i]);
  return order;
}

}  // namespace

Result<void> run_project_scripts(InstallContext& cx) {
  if (cx.opts.ignore_scripts || cx.settings.ignore_scripts) return {};
  std::vector<Candidate> cands;
  {
    PassTimer t(cx.rep, "scripts/detect");
    cands = detect(cx);
  }
  if (cx.builds.approved_count && !cands.empty()) {
    PassTimer t(cx.rep, "scripts/dependency-builds");
    auto built_bins = run_dependency_builds(cx, cands);
    if (!built_bins) return built_bins.error();
    if (*built_bins)
      if (auto r = link_bin_shims(cx); !r) return r;
  }
  if (auto r = check_ignored(cx, cands); !r) return r;
  PassTimer t(cx.rep, "scripts/projects");
  std::optional<ScriptEnv> env;  // made when a project has a script
  for (const Project* p : project_order(cx))
    if (auto r = run_project(cx, env, *p); !r) return r;
  return {};
}

}  // namespace tarn
