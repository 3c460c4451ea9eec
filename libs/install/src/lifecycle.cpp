// One lifecycle script, spawned with posix_spawn (see lifecycle.hpp). The environment
// follows pnpm's executor (make_env.rs, extend_path.rs): parent variables minus the
// npm_package_* stamps, npm_config_/pnpm_config_ auth keys, NODE, INIT_CWD and
// PNPM_SCRIPT_SRC_DIR; then npm_package_{name,version,config,engines,bin}*,
// npm_lifecycle_event, NODE/npm_node_execpath, npm_package_json, npm_execpath, INIT_CWD,
// PNPM_SCRIPT_SRC_DIR, npm_config_user_agent, pnpm_config_verify_deps_before_run=false,
// TMPDIR (as root), npm_lifecycle_script; PATH = the package's node_modules/.bin
// ancestors, deepest first, then the parent PATH.
#include "lifecycle.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "tarn/fs/fs.hpp"
#include "tarn/linker/plan.hpp"

extern char** environ;

namespace tarn {

namespace json = boost::json;

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// pnpm's is_stamping_key: variables it regenerates, and registry credentials.
bool dropped(std::string_view key) {
  if (starts_with(key, "npm_package_")) return true;
  for (std::string_view prefix : {"npm_config_", "pnpm_config_"})
    if (starts_with(key, prefix)) {
      std::string_view rest = key.substr(prefix.size());
      if (!rest.empty() && (rest[0] == '_' || rest[0] == '/' || rest[0] == '@')) return true;
      if (rest.find(":_") != std::string_view::npos) return true;
    }
  return key == "NODE" || key == "INIT_CWD" || key == "PNPM_SCRIPT_SRC_DIR" || key == "PATH" ||
         key == "PNPM_INTERNAL_DEV_PREINSTALL_ALREADY_RAN";
}

std::string sanitize_key(std::string_view raw) {
  std::string k(raw);
  for (char& c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
  return k;
}

// npm_package_*: the top level keeps name, version, config, engines and bin; below
// config/engines/bin everything is kept.
void stamp(std::vector<std::pair<std::string, std::string>>& out, const std::string& prefix, const json::value& v,
           bool top) {
  auto put = [&](const std::string& key, const json::value& x) {
    std::string k = sanitize_key(prefix + key);
    if (x.is_object() || x.is_array()) return stamp(out, k + "_", x, false);
    if (x.is_string()) {
      std::string s(x.as_string());
      out.emplace_back(k, s.find('\n') == std::string::npos ? s : json::serialize(x));
    } else if (x.is_null()) {
      out.emplace_back(k, "");
    } else {
      out.emplace_back(k, json::serialize(x));
    }
  };
  if (v.is_object()) {
    for (auto& kv : v.as_object()) {
      std::string_view key = kv.key();
      if (!key.empty() && key[0] == '_') continue;
      if (top && key != "name" && key != "version" && key != "config" && key != "engines" && key != "bin") continue;
      put(std::string(key), kv.value());
    }
  } else if (v.is_array()) {
    size_t i = 0;
    for (auto& x : v.as_array()) put(std::to_string(i++), x);
  }
}

std::string find_on_path(const std::string& path, const std::string& command) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + command;
      struct stat st;
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
        return candidate;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

}  // namespace

ScriptEnv ScriptEnv::from_process(std::string init_cwd) {
  ScriptEnv e;
  for (char** p = environ; p && *p; ++p) {
    std::string_view kv(*p);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view key = kv.substr(0, eq);
    if (key == "PATH") e.path = std::string(kv.substr(eq + 1));
    if (!dropped(key)) e.base.emplace_back(kv);
  }
  e.node = find_on_path(e.path, "node");
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) e.exe.assign(buf, static_cast<size_t>(n));
  Platform host = Platform::host();
  e.user_agent = std::string("tarn/") + TARN_VERSION + " npm/? node/? " + host.os + " " + host.cpu;
  e.init_cwd = std::move(init_cwd);
  e.private_tmp = ::getuid() == 0;
  return e;
}

std::vector<std::string> ancestor_bin_dirs(const std::string& pkg_root) {
  // "<head>/node_modules/<p1>/node_modules/<p2>": <head>/node_modules/.bin,
  // <head>/node_modules/<p1>/node_modules/.bin, <pkg_root>/node_modules/.bin; reversed.
  std::vector<std::string> bins;
  static constexpr std::string_view sep = "/node_modules/";
  size_t pos = 0;
  while ((pos = pkg_root.find(sep, pos)) != std::string::npos) {
    bins.push_back(pkg_root.substr(0, pos) + "/node_modules/.bin");
    pos += sep.size();
  }
  bins.push_back(pkg_root + "/node_modules/.bin");
  return {bins.rbegin(), bins.rend()};
}

bool on_path(const std::string& path, const std::string& command) { return !find_on_path(path, command).empty(); }

std::vector<std::string> script_environment(const ScriptEnv& env, const ScriptRun& run) {
  std::vector<std::pair<std::string, std::string>> vars;
  if (run.manifest) stamp(vars, "npm_package_", json::value(*run.manifest), true);
  vars.emplace_back("npm_lifecycle_event", run.stage);
  if (!env.node.empty()) {
    vars.emplace_back("npm_node_execpath", env.node);
    vars.emplace_back("NODE", env.node);
  }
  vars.emplace_back("npm_package_json", run.pkg_root + "/package.json");
  if (!env.exe.empty()) vars.emplace_back("npm_execpath", env.exe);
  vars.emplace_back("INIT_CWD", env.init_cwd);
  vars.emplace_back("PNPM_SCRIPT_SRC_DIR", run.pkg_root);
  vars.emplace_back("npm_config_user_agent", env.user_agent);
  vars.emplace_back("pnpm_config_verify_deps_before_run", "false");
  if (env.private_tmp) vars.emplace_back("TMPDIR", run.pkg_root + "/node_modules/.tmp");
  vars.emplace_back("npm_lifecycle_script", run.script);
  std::string path;
  for (auto& d : ancestor_bin_dirs(run.pkg_root)) path += d + ":";
  vars.emplace_back("PATH", path + env.path);

  // Later entries win, as pnpm inserts into a map: keep the last of each key.
  std::vector<std::string> out;
  out.reserve(env.base.size() + vars.size());
  auto key_of = [](std::string_view kv) { return kv.substr(0, kv.find('=')); };
  for (auto& kv : env.base) {
    bool overridden = false;
    for (auto& [k, v] : vars)
      if (k == key_of(kv)) overridden = true;
    if (!overridden) out.push_back(kv);
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    bool later = false;
    for (size_t j = i + 1; j < vars.size(); ++j)
      if (vars[j].first == vars[i].first) later = true;
    if (!later) out.push_back(vars[i].first + "=" + vars[i].second);
  }
  return out;
}

Result<ScriptResult> run_script(const ScriptEnv& env, const ScriptRun& run) {
  auto fail = [&](const char* what, int err) {
    return Error::failed(Code::Lifecycle, "failed to start the " + run.stage + " script in " + run.pkg_root + " (" +
                                              what + "): " + fs::errno_text(err));
  };
  std::vector<std::string> vars = script_environment(env, run);
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", script = run.script;
  char* argv[] = {sh.data(), dash_c.data(), script.data(), nullptr};

  if (env.private_tmp) (void)fs::create_directories(run.pkg_root + "/node_modules/.tmp");

  int pipe_fds[2] = {-1, -1};
  if (run.capture && ::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail("pipe", errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, run.pkg_root.c_str());
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (run.capture) {
    posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 2);
  }
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (run.capture) ::close(pipe_fds[1]);
  if (rc != 0) {
    if (run.capture) ::close(pipe_fds[0]);
    return fail("posix_spawn", rc);
  }
  ScriptResult res;
  if (run.capture) {
    static constexpr size_t kKeep = 64 * 1024;
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      res.output.append(buf, static_cast<size_t>(n));
      if (res.output.size() > 2 * kKeep) res.output.erase(0, res.output.size() - kKeep);
    }
    ::close(pipe_fds[0]);
    if (res.output.size() > kKeep) res.output.erase(0, res.output.size() - kKeep);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return fail("waitpid", errno);
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return res;
}

std::string tail_lines(std::string_view text, size_t lines) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  size_t pos = text.size();
  for (size_t n = 0; n < lines && pos > 0; ++n) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string_view::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  if (pos > 0) ++pos;
  return std::string(text.substr(pos));
}

}  // namespace tarn
