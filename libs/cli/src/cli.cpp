// The command table: each command is a composition of library calls over parsed args.
#include "tarn/cli/cli.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <set>

#include "tarn/cli/args.hpp"
#include "tarn/config/config.hpp"
#include "tarn/fs/fs.hpp"
#include "tarn/install/install.hpp"
#include "tarn/install/store_status.hpp"
#include "tarn/install/recursive.hpp"
#include "tarn/lockfile/lockfile.hpp"
#include "tarn/lockfile/manifest.hpp"
#include "tarn/store/store.hpp"

#ifndef TARN_VERSION
#define TARN_VERSION "0.0.0"
#endif

namespace tarn {

namespace {

using cli::Args;

struct Command {
  std::string_view name, alias, usage, summary;
  std::function<Result<int>(const Args&, Reporter&)> run;
};

const std::vector<Command>& commands();

InstallOptions install_options(const Args& a) {
  InstallOptions o;
  if (auto d = a.value("--dir")) o.dir = *d;
  // pnpm's frozen-lockfile defaults to true in CI.
  const char* ci = std::getenv("CI");
  bool in_ci = ci && *ci && std::string_view(ci) != "false" && std::string_view(ci) != "0";
  o.frozen_lockfile = (a.has("--frozen-lockfile") || in_ci) && !a.has("--no-frozen-lockfile");
  o.lockfile_only = a.has("--lockfile-only");
  o.ignore_scripts = a.has("--ignore-scripts");
  o.ignore_pnpmfile = a.has("--ignore-pnpmfile");
  o.store_dir = a.value("--store-dir");
  o.registry = a.value("--registry");
  o.offline = a.has("--offline");
  o.prefer_offline = a.has("--prefer-offline");
  if (a.has("--no-optional")) o.optional = false;
  bool prod = a.has("--prod") || a.has("--production"), dev = a.has("--dev");
  if (prod && !dev) o.dev = false;
  if (dev && !prod) o.prod = false, o.optional = false;
  if (auto n = a.value("--network-concurrency")) o.network_concurrency = std::strtoul(n->c_str(), nullptr, 10);
  o.filter = a.all("--filter");
  o.filter_prod = a.all("--filter-prod");
  return o;
}

Result<int> cmd_install(const Args& a, Reporter& rep) {
  if (!a.positionals.empty())
    return Error::failed(Code::Usage, "unexpected argument '" + printable(a.positionals[0]) +
                                          "' found (to add a dependency, use tarn add)");
  // -r at any depth of a workspace is the whole workspace, which install covers anyway.
  if (auto r = install(install_options(a), rep); !r) return r.error();
  return 0;
}

// add, remove and update: the change to package.json, then an install that resolves.
Result<int> cmd_change(const Args& a, Reporter& rep) {
  InstallOptions o = install_options(a);
  ManifestChange& c = o.change;
  using K = ManifestChange::Kind;
  using G = ManifestChange::Group;
  c.kind = a.command == "add" ? K::Add : (a.command == "update" || a.command == "up") ? K::Update : K::Remove;
  c.specs = a.positionals;
  if (c.kind != K::Update && c.specs.empty())
    return Error::failed(Code::Usage, "the following required arguments were not provided: <pkg>...");
  // In add, -D and -P save to a group (pnpm's --save-dev / --save-prod).
  if (a.has("--save-dev") || a.has("--dev")) c.group = G::Dev;
  else if (a.has("--save-optional")) c.group = G::Optional;
  else if (a.has("--save-prod") || a.has("--prod")) c.group = G::Prod;
  o.prod = o.dev = o.optional = true;
  c.exact = a.has("--save-exact");
  c.peer = a.has("--save-peer");
  c.latest = a.has("--latest");
  o.frozen_lockfile = false;
  if (auto r = install(o, rep); !r) return r.error();
  return 0;
}

Result<Settings> settings_for(const Args& a) {
  std::string dir = fs::absolute(a.value("--dir").value_or("."));
  return load_settings(dir, CliOverrides{a.value("--store-dir"), a.value("--registry")});
}

// The store keys a project's last install used, from its copy of the lockfile.
void keys_in_use(const std::string& project, const Settings& s, std::set<std::string>& keep) {
  auto lf = Lockfile::load(fs::join(project, "node_modules/.pnpm/lock.yaml"));
  if (!lf) return;
  for (auto& [key, m] : lf->packages) {
    if (m.resolution == ResolutionKind::Directory) continue;  // never in the store
    if (m.resolution == ResolutionKind::Git) keep.insert(StoreKey::from_git(m.git_repo, m.git_commit, m.git_path).rel());
    else if (m.integrity) keep.insert(StoreKey::from_integrity(*m.integrity).rel());
    else if (!m.tarball.empty()) keep.insert(StoreKey::from_url(m.tarball.str()).rel());
    else if (auto dp = DepPath::parse(key))
      keep.insert(StoreKey::from_url(s.tarball_url(dp->name(), dp->version()).str()).rel());
  }
}

Result<int> store_prune(const Settings& s, Store& store, Reporter& rep) {
  std::set<std::string> keep;
  auto projects = store.registered_projects();
  for (auto& p : projects) keys_in_use(p, s, keep);
  auto removed = store.prune(keep);
  if (!removed) return removed.error();
  rep.info("Removed " + std::to_string(*removed) + " packages not used by the " + std::to_string(projects.size()) +
           " projects registered with this store");
  return 0;
}

// pnpm's `store status` (store_status.hpp): the project's packages whose files changed in
// node_modules since they were imported, ERR_PNPM_MODIFIED_DEPENDENCY and exit 1, as pnpm
// 12.21 lists them. Then tarn's own check, the whole store's entries for damage (a blob
// missing, cut short or not executable): ERR_TARN_STORE_DAMAGED.
Result<int> store_status(const Args& a, const Settings& s, Reporter& rep) {
  auto st = store_status(a.value("--dir").value_or("."), CliOverrides{a.value("--store-dir"), a.value("--registry")});
  if (!st) return st.error();
  if (!st->modified.empty()) {
    std::string msg = "Packages in the store have been mutated\nThese packages are modified:";
    for (auto& k : st->modified) msg += "\n" + printable(k);
    return Error::failed(Code::ModifiedDependency, msg);
  }
  if (Store::exists(s.store_dir)) {
    Store store(s.store_dir);
    if (auto r = store.open(); !r) return r.error();
    auto damage = store.verify();
    if (!damage) return damage.error();
    if (!damage->empty()) {
      std::string msg = std::to_string(damage->size()) + " damaged packages in " + Store::layout_dir(store.root()) +
                        " (the next install fetches them again):";
      for (size_t i = 0; i < damage->size() && i < 20; ++i) msg += "\n  " + (*damage)[i].rel + ": " + (*damage)[i].why;
      return Error::failed(Code::StoreDamaged, msg);
    }
  }
  rep.info_stderr("Packages in the store are untouched");  // pnpm prints it on stderr
  return 0;
}

Result<int> cmd_store(const Args& a, Reporter& rep) {
  std::string sub = a.positionals.empty() ? "" : a.positionals[0];
  if (sub != "path" && sub != "status" && sub != "prune")
    return Error::failed(Code::Usage, sub.empty() ? "tarn store needs a subcommand: path, status or prune"
                                                  : "unrecognized subcommand '" + printable(sub) + "' (path, status, prune)");
  auto s = settings_for(a);
  if (!s) return s.error();
  if (sub == "path") return fmt::print("{}\n", Store::layout_dir(s->store_dir)), 0;
  if (sub == "status") return store_status(a, *s, rep);
  Store store(s->store_dir);
  if (auto r = store.open(); !r) return r.error();
  return store_prune(*s, store, rep);
}

// The nearest directory with a package.json, from --dir or the current directory.
Result<std::string> project_dir(const Args& a) {
  std::string start = fs::absolute(a.value("--dir").value_or("."));
  for (std::string d = start;; d = fs::dirname(d)) {
    if (fs::exists(fs::join(d, "package.json"))) return d;
    if (d == "/" || d.empty()) break;
  }
  return Error::not_found(Code::NoImporterManifestFound, "No package.json was found in " + start + " or above");
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `line` with sh in `dir`, node_modules/.bin first on PATH, as pnpm's run and exec do.
int run_shell(const std::string& dir, const std::string& line, const std::string& event) {
  std::string path = fs::join(dir, "node_modules/.bin");
  if (const char* old = std::getenv("PATH")) path += ":" + std::string(old);
  ::setenv("PATH", path.c_str(), 1);
  if (!event.empty()) ::setenv("npm_lifecycle_event", event.c_str(), 1);
  if (::chdir(dir.c_str()) != 0) return 1;
  int status = std::system(line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool recursive(const Args& a) { return a.has("--recursive") || a.has("--filter") || a.has("--filter-prod"); }

// -r / --filter: pnpm's recursive run or exec over the selected workspace projects.
Result<int> cmd_recursive(const Args& a, Reporter& rep, RecursiveOptions::Command command) {
  RecursiveOptions o;
  o.command = command;
  o.dir = a.value("--dir").value_or(".");
  o.filter = a.all("--filter");
  o.filter_prod = a.all("--filter-prod");
  o.args = a.positionals;
  o.bail = !a.has("--no-bail");
  if (auto n = a.value("--workspace-concurrency")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(n->c_str(), &end, 10);
    if (n->empty() || *end || v == 0 || v > 1024)
      return Error::failed(Code::Usage, "invalid value '" + printable(*n) + "' for '--workspace-concurrency <n>'");
    o.concurrency = static_cast<unsigned>(v);
  }
  return run_recursive(o, rep);
}

Result<int> cmd_run(const Args& a, Reporter& rep) {
  if (a.positionals.empty()) return Error::failed(Code::Usage, "tarn run needs a script name");
  if (recursive(a)) return cmd_recursive(a, rep, RecursiveOptions::Command::Run);
  auto dir = project_dir(a);
  if (!dir) return dir.error();
  auto m = Manifest::load(fs::join(*dir, "package.json"));
  if (!m) return m.error();
  const std::string& name = a.positionals[0];
  for (auto& [script, cmd] : m->scripts) {
    if (script != name) continue;
    std::string line = cmd;
    for (size_t i = 1; i < a.positionals.size(); ++i) line += " " + shell_quote(a.positionals[i]);
    rep.info("> " + printable(m->name) + " " + printable(name) + " " + *dir + "\n> " + printable(line));
    int code = run_shell(*dir, line, name);
    if (code != 0) return Error::failed(Code::Lifecycle, "Command failed with exit code " + std::to_string(code) + ".");
    return 0;
  }
  return Error::failed(Code::Usage, "Missing script: \"" + printable(name) + "\"");
}

Result<int> cmd_exec(const Args& a, Reporter& rep) {
  if (a.positionals.empty()) return Error::failed(Code::Usage, "tarn exec needs a command");
  if (recursive(a)) return cmd_recursive(a, rep, RecursiveOptions::Command::Exec);
  auto dir = project_dir(a);
  if (!dir) return dir.error();
  std::string line;
  for (auto& p : a.positionals) line += (line.empty() ? "" : " ") + shell_quote(p);
  return run_shell(*dir, "exec " + line, "");
}

void print_help(const Command* c) {
  if (!c) {
    fmt::print("tarn {}: installs node_modules from pnpm-lock.yaml, as pnpm does\n\nUsage: tarn [options] <command>\n\nCommands:\n",
               TARN_VERSION);
    for (auto& k : commands()) fmt::print("  {:<10} {}\n", k.name, k.summary);
  } else {
    fmt::print("Usage: tarn {}\n\n{}\n", c->usage, c->summary);
  }
  fmt::print("\nOptions:\n");
  for (auto& o : cli::option_table()) {
    std::string left = o.short_name.empty() ? "    " : std::string(o.short_name) + ", ";
    left += std::string(o.long_name) + (o.value_name.empty() ? "" : " " + std::string(o.value_name));
    fmt::print("  {:<32} {}\n", left, o.help);
  }
}

const std::vector<Command>& commands() {
  static const std::vector<Command> t = {
      {"install", "i", "install [options]", "install node_modules from pnpm-lock.yaml", cmd_install},
      {"store", "", "store path|status|prune", "the store: its directory, modified or damaged packages, unused packages", cmd_store},
      {"run", "", "run <script> [args...]", "run a package.json script with node_modules/.bin on PATH (-r, --filter: in workspace projects)", cmd_run},
      {"exec", "", "exec <command> [args...]", "run a command with node_modules/.bin on PATH (-r, --filter: in workspace projects)", cmd_exec},
      {"add", "", "add <pkg>[@spec]...", "add dependencies to package.json and install them", cmd_change},
      {"remove", "rm", "remove <pkg>...", "remove dependencies from package.json and node_modules", cmd_change},
      {"update", "up", "update [pkg...]", "update dependencies within their ranges (--latest: past them)", cmd_change},
  };
  return t;
}

const Command* find_command(std::string_view name) {
  for (auto& c : commands())
    if (c.name == name || (!c.alias.empty() && c.alias == name)) return &c;
  return nullptr;
}

bool passthrough(std::string_view command) { return command == "run" || command == "exec"; }

Reporter make_reporter(const Args& a, ReporterKind& kind) {
  if (a.has("--silent") || a.value("--loglevel") == std::optional<std::string>("error")) kind = ReporterKind::Silent;
  return Reporter(kind, a.has("--perf"));
}

// Usage errors print as pnpm's argument parser prints them, and exit 2.
int fail_usage(const Error& e) {
  fmt::print(stderr, "error: {}\n\nFor more information, try 'tarn help'.\n", e.message);
  return info(Code::Usage).exit_status;
}

}  // namespace

int run_cli(int argc, char** argv) {
  auto args = cli::parse_args(std::vector<std::string_view>(argv + 1, argv + argc), passthrough);
  if (!args) return fail_usage(args.error());
  if (args->has("--version") || args->command == "version") return fmt::print("{}\n", TARN_VERSION), 0;
  if (args->command.empty() || args->command == "help") {
    print_help(args->positionals.empty() ? nullptr : find_command(args->positionals[0]));
    return args->command.empty() && !args->has("--help") ? 1 : 0;
  }
  const Command* cmd = find_command(args->command);
  if (!cmd) return fail_usage(Error::failed(Code::Usage, "unrecognized subcommand '" + printable(args->command) + "'"));
  if (args->has("--help")) return print_help(cmd), 0;
  ReporterKind kind = ReporterKind::Default;
  if (auto r = args->value("--reporter"); r && !parse_reporter_kind(*r, kind))
    return fail_usage(Error::failed(Code::Usage, "invalid value '" + printable(*r) + "' for '--reporter <name>'"));
  Reporter reporter = make_reporter(*args, kind);
  auto r = cmd->run(*args, reporter);
  reporter.print_perf();
  if (r) return *r;
  if (r.error().code == Code::Usage) return fail_usage(r.error());
  reporter.error(r.error());
  return r.error().exit_status();
}

}  // namespace tarn
