// run -r / exec -r / --filter (recursive.hpp), as pnpm 12.21 runs them. Measured on
// fixtures/workspace and a five-project workspace:
//   - -r without an inclusion selector leaves the workspace root out (pnpm appends
//     "!{<root>}"), unless pnpm-workspace.yaml lists only "." or there is none;
//   - run prints "Scope: ..." first (exec does not); a --filter that selects nothing prints
//     `No projects matched the filters in "<root>"` and exits 0;
//   - a project without the script is skipped; its edges pass through to its own
//     dependencies; no selected project with the script is ERR_PNPM_RECURSIVE_RUN_NO_SCRIPT
//     ("None of the packages ..." when every project was selected);
//   - pre<script> and post<script> run around the script; arguments are appended quoted;
//   - scripts see node_modules/.bin of the project, then of the workspace root, on PATH.
#include "tarn/install/recursive.hpp"

#include <boost/json.hpp>
#include <thread>

#include "lifecycle.hpp"
#include "task_runner.hpp"
#include "tarn/config/config.hpp"
#include "tarn/fs/fs.hpp"
#include "tarn/workspace/filter.hpp"
#include "tarn/workspace/projects.hpp"
#include "tarn/workspace/sequence.hpp"

extern char** environ;

namespace tarn {

namespace {

struct Workspace {
  std::string root;
  Settings settings;
  std::vector<workspace::LoadedProject> projects;
  workspace::Graph all, prod;
};

Result<Workspace> open_workspace(const std::string& start) {
  Workspace w;
  w.root = workspace::find_root(start);
  auto s = load_settings(w.root, CliOverrides{});
  if (!s) return s.error();
  w.settings = std::move(*s);
  auto projects = workspace::load_projects(w.root, w.settings.workspace_packages);
  if (!projects) return projects.error();
  w.projects = std::move(*projects);
  std::vector<workspace::ProjectInfo> infos;
  for (auto& p : w.projects) infos.push_back(workspace::ProjectInfo::from_manifest(p.dir, p.manifest));
  w.all = workspace::make_graph(infos);
  w.prod = workspace::make_graph(infos, {true, false});
  return w;
}

// The selectors, with pnpm's "!{<root>}" when none includes anything (in the prod pass
// when a --filter-prod is given).
std::vector<workspace::Selector> selectors(const RecursiveOptions& o, const Workspace& w, const std::string& prefix) {
  std::vector<workspace::Selector> out;
  bool includes = false;
  for (auto* list : {&o.filter, &o.filter_prod})
    for (auto& f : *list) {
      out.push_back(workspace::parse_selector(f, prefix));
      out.back().follow_prod_deps_only = list == &o.filter_prod;
      includes |= !out.back().exclude;
    }
  auto& patterns = w.settings.workspace_packages;
  bool root_only = patterns.size() == 1 && patterns[0] == ".";
  if (!includes && w.settings.workspace_file && !root_only) {
    out.push_back(workspace::parse_selector("!{" + fs::relative(prefix, w.root) + "}", prefix));
    out.back().follow_prod_deps_only = !o.filter_prod.empty();
  }
  return out;
}

// pnpm prints arguments shell-quoted only when they need it.
std::string quote_arg(const std::string& a) {
  bool plain = !a.empty();
  for (char c : a)
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("_/.,:@%+=-").find(c) == std::string_view::npos)
      plain = false;
  if (plain) return a;
  std::string out = "'";
  for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string script_of(const Manifest& m, const std::string& name) {
  for (auto& [k, v] : m.scripts)
    if (k == name) return v;
  return "";
}

}  // namespace

namespace {

struct Context {
  const RecursiveOptions& o;
  const Workspace& w;
  std::string start;  // absolute: where tarn runs
  ScriptEnv env;
};

// run: pre<script>, <script> with the arguments, post<script> (pnpm's enablePrePostScripts
// default); a pre/post whose name the script itself mentions is not run twice.
std::vector<TaskStage> run_stages(const Context& c, const workspace::LoadedProject& p, const std::string& body) {
  const std::string& name = c.o.args.front();
  boost::system::error_code ec;
  auto v = boost::json::parse(p.manifest_text, ec);
  boost::json::object manifest = !ec && v.is_object() ? v.as_object() : boost::json::object{};
  std::vector<TaskStage> out;
  auto add = [&](const std::string& stage, std::string line) {
    ScriptRun run{p.dir, stage, line, &manifest, false};
    out.push_back({stage, line, {"sh", "-c", line}, script_environment(c.env, run)});
  };
  std::string pre = script_of(p.manifest, "pre" + name), post = script_of(p.manifest, "post" + name);
  if (!pre.empty() && body.find("pre" + name) == std::string::npos) add("pre" + name, pre);
  std::string line = body;
  for (size_t i = 1; i < c.o.args.size(); ++i) line += " " + quote_arg(c.o.args[i]);
  add(name, line);
  if (!post.empty() && body.find("post" + name) == std::string::npos) add("post" + name, post);
  return out;
}

// exec: the command through `sh -c 'exec "$0" "$@"'`, so the project's PATH finds it;
// pnpm's environment for exec (PNPM_PACKAGE_NAME, npm_command=exec, ...).
TaskStage exec_stage(const Context& c, const workspace::LoadedProject& p) {
  std::vector<std::pair<std::string, std::string>> vars = {
      {"PNPM_PACKAGE_NAME", p.manifest.name}, {"npm_command", "exec"}, {"INIT_CWD", c.env.init_cwd},
      {"npm_config_user_agent", c.env.user_agent}, {"pnpm_config_verify_deps_before_run", "false"}};
  if (!c.env.exe.empty()) vars.emplace_back("npm_execpath", c.env.exe);
  if (!c.env.node.empty()) vars.emplace_back("npm_node_execpath", c.env.node);
  std::string path;
  for (auto& d : ancestor_bin_dirs(p.dir)) path += d + ":";
  vars.emplace_back("PATH", path + c.env.path);
  TaskStage s{"", "", {"sh", "-c", "exec \"$0\" \"$@\""}, {}};
  for (auto& a : c.o.args) s.argv.push_back(a), s.shown += (s.shown.empty() ? "" : " ") + quote_arg(a);
  for (auto& kv : c.env.base) {
    std::string_view key = std::string_view(kv).substr(0, kv.find('='));
    if (std::none_of(vars.begin(), vars.end(), [&](auto& v) { return v.first == key; })) s.env.push_back(kv);
  }
  for (auto& [k, v] : vars) s.env.push_back(k + "=" + v);
  return s;
}

// One task per selected project, in selection order, waiting for the tasks of the selected
// projects it depends on (through unselected ones). A project without the script is a
// task with nothing to run: pnpm 12.21 still takes it in its turn, so it holds back its
// dependents until then (measured: `--filter p1 --filter p2 --filter p4 --filter p5` runs
// p1 p2 p5 when p5 -> p4 has no script, p1 p5 p2 without p4).
std::vector<Task> make_tasks(const Context& c, const std::vector<size_t>& selected) {
  std::vector<Task> tasks;
  bool run = c.o.command == RecursiveOptions::Command::Run;
  for (size_t i : selected) {
    auto& p = c.w.projects[i];
    Task t{p.dir, fs::relative(c.start, p.dir), {}, {}};
    std::string body = run ? script_of(p.manifest, c.o.args.front()) : "";
    bool skip = body.empty() || (c.o.args.size() == 1 && body == "npx only-allow pnpm");
    if (!run) t.stages.push_back(exec_stage(c, p));
    else if (!skip) t.stages = run_stages(c, p, body);
    tasks.push_back(std::move(t));
  }
  auto deps = workspace::selected_dependencies(c.w.all, selected);
  for (size_t t = 0; t < tasks.size(); ++t)
    for (size_t d : deps[selected[t]])
      tasks[t].deps.push_back(std::find(selected.begin(), selected.end(), d) - selected.begin());
  return tasks;
}

// pnpm pipes and prefixes output only when two scripts can ever run at once: not when one
// at a time may run, nor when the tasks with something to run form a chain.
bool parallel_possible(const std::vector<Task>& tasks, unsigned concurrency) {
  if (concurrency <= 1) return false;
  std::vector<size_t> real;
  for (size_t i = 0; i < tasks.size(); ++i)
    if (!tasks[i].stages.empty()) real.push_back(i);
  std::vector<std::vector<size_t>> edges(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) edges[i] = tasks[i].deps;
  // Edges through tasks with nothing to run, as the scheduler waits through them.
  auto through = workspace::selected_dependencies(edges, real);
  for (auto& chunk : workspace::graph_sequencer(through, real))
    if (chunk.size() > 1) return true;
  return false;
}

Result<int> outcome(const RecursiveOptions& o, const std::vector<Task>& tasks, const TaskRunResult& r) {
  bool run = o.command == RecursiveOptions::Command::Run;
  // pnpm 12.21: Ctrl+C ends the run with the interrupted script's status, not a bail error.
  if (r.interrupted_by) return 128 + r.interrupted_by;
  std::string what = run ? "\"tarn recursive run\" failed in " : "\"tarn recursive exec\" failed in ";
  if (r.first_failure >= 0)
    return Error::failed(run ? Code::RecursiveRunFirstFail : Code::RecursiveExecFirstFail,
                         what + tasks[static_cast<size_t>(r.first_failure)].dir);
  size_t failed = std::count(r.states.begin(), r.states.end(), TaskState::Failed);
  if (failed) return Error::failed(Code::RecursiveFail, what + std::to_string(failed) + " packages");
  return 0;
}

}  // namespace

Result<int> run_recursive(const RecursiveOptions& o, Reporter& rep) {
  bool run = o.command == RecursiveOptions::Command::Run;
  if (o.args.empty())
    return Error::failed(Code::Usage, run ? "tarn run needs a script name" : "tarn exec needs a command");
  std::string start = fs::absolute(o.dir);
  auto w = open_workspace(start);
  if (!w) return w.error();
  auto sel = workspace::select_projects(w->all, w->prod, selectors(o, *w, start));
  if (!sel) return sel.error();
  if (run) rep.scope(sel->selected.size(), w->projects.size(), w->root);
  if (sel->selected.empty() && (!o.filter.empty() || !o.filter_prod.empty())) {
    rep.info("No projects matched the filters in \"" + w->root + "\"");
    return 0;
  }
  Context c{o, *w, start, ScriptEnv::from_process(start)};
  c.env.private_tmp = false;
  c.env.path = fs::join(w->root, "node_modules/.bin") + ":" + c.env.path;  // pnpm's extra bin path
  auto tasks = make_tasks(c, sel->selected);
  bool any = std::any_of(tasks.begin(), tasks.end(), [](const Task& t) { return !t.stages.empty(); });
  if (run && !any && o.args.front() != "test")
    return Error::failed(Code::RecursiveRunNoScript,
                         std::string(sel->selected.size() == w->projects.size() ? "None of the packages"
                                                                               : "None of the selected packages") +
                             " has a \"" + printable(o.args.front()) + "\" script");
  TaskRunOptions to;
  to.concurrency = o.concurrency ? o.concurrency : std::min(4u, std::max(1u, std::thread::hardware_concurrency()));
  to.bail = o.bail;
  to.prefixed = run && parallel_possible(tasks, to.concurrency);
  to.lifecycle_lines = run;
  to.silent = rep.kind() == ReporterKind::Silent;
  return outcome(o, tasks, run_tasks(tasks, to));
}

}  // namespace tarn
