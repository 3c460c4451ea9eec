// Pass scripts: dependency builds and the projects' own lifecycle scripts.
// Dependency builds: pnpm 12 runs a dependency's preinstall/install/postinstall (or
// `node-gyp rebuild` for a binding.gyp) only when allowBuilds approves it, and by default
// (strictDepBuilds) fails with ERR_PNPM_IGNORED_BUILDS when any are left unapproved.
// tarn matches that refusal; it does not run approved dependency builds yet, and says so
// instead of leaving a package unbuilt behind exit status 0.
#include <sys/wait.h>
#include <tbb/parallel_for.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <mutex>
#include <set>

#include "passes.hpp"

namespace tarn {

namespace {

namespace json = boost::json;

bool has_install_script(const json::object& scripts) {
  for (const char* k : {"preinstall", "install", "postinstall"})
    if (auto* v = scripts.if_contains(k); v && v->is_string() && !v->as_string().empty()) return true;
  return false;
}

// Whether the package in `pkg_dir` (relative to the root fd) has a build step.
bool requires_build(int root_fd, const std::string& pkg_dir) {
  auto text = fs::read_file_at(root_fd, (pkg_dir + "/package.json").c_str(), pkg_dir);
  if (text && text->find("install\"") != std::string::npos) {
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (!ec && v.is_object())
      if (auto* s = v.as_object().if_contains("scripts"); s && s->is_object() && has_install_script(s->as_object()))
        return true;
  }
  return ::faccessat(root_fd, (pkg_dir + "/binding.gyp").c_str(), F_OK, 0) == 0;
}

Result<void> check_dependency_builds(const InstallContext& cx) {
  std::mutex mu;
  std::set<std::string> ignored, approved;
  const auto& pkgs = cx.plan.packages;
  tbb::parallel_for(size_t(0), pkgs.size(), [&](size_t i) {
    if (!requires_build(cx.root_fd->fd(), pkgs[i].pkg_dir)) return;
    const std::string& name = pkgs[i].snapshot->key.name().str();
    auto it = cx.settings.allow_builds.find(name);
    std::lock_guard lk(mu);
    if (it == cx.settings.allow_builds.end()) ignored.insert(name);
    else if (it->second) approved.insert(name);
  });
  auto list = [](const std::set<std::string>& s) {
    std::string out;
    for (auto& n : s) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  if (!approved.empty())
    return Error::failed(Code::Unsupported, "failed to build " + list(approved) +
                                                ": tarn does not run dependency build scripts yet; install with pnpm, "
                                                "or pass --ignore-scripts to skip them");
  if (ignored.empty()) return {};
  std::string msg = "Ignored build scripts: " + list(ignored) +
                    "\nRun \"pnpm approve-builds\" to pick which dependencies should be allowed to run scripts.";
  if (!cx.settings.strict_dep_builds) return cx.rep.warn(msg), Result<void>{};
  return Error::failed(Code::IgnoredBuilds, msg);
}

// One lifecycle script of a project, run as pnpm runs it: sh -c, in the project's
// directory, with its node_modules/.bin first on PATH and npm's variables set.
Result<void> run_script(const InstallContext& cx, const Project& p, const std::string& event, const std::string& cmd) {
  std::string path = fs::join(p.dir, "node_modules/.bin");
  if (const char* old = std::getenv("PATH")) path += ":" + std::string(old);
  std::string env = "PATH='" + path + "' npm_lifecycle_event='" + event + "' npm_package_name='" + p.manifest.name +
                    "' npm_package_version='" + p.manifest.version + "' INIT_CWD='" + cx.root_dir + "'";
  cx.rep.info(p.id.str() + " " + event + "$ " + printable(cmd));
  std::string line = "cd '" + p.dir + "' && env " + env + " /bin/sh -c \"$TARN_SCRIPT\"";
  ::setenv("TARN_SCRIPT", cmd.c_str(), 1);
  int status = std::system(line.c_str());
  ::unsetenv("TARN_SCRIPT");
  if (status == 0) return {};
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return Error::failed(Code::Lifecycle, "failed to run " + p.id.str() + " " + event + " script (" + printable(cmd) +
                                            "): exit status " + std::to_string(code));
}

}  // namespace

Result<void> run_project_scripts(InstallContext& cx) {
  if (cx.opts.ignore_scripts || cx.settings.ignore_scripts) return {};
  if (auto r = check_dependency_builds(cx); !r) return r;
  // Workspace packages first, the root last, each in pnpm's lifecycle order.
  std::vector<const Project*> order;
  for (size_t i = 1; i < cx.projects.size(); ++i) order.push_back(&cx.projects[i]);
  order.push_back(&cx.projects.front());
  for (const Project* p : order)
    for (const char* event : {"preinstall", "install", "postinstall", "prepare"})
      for (auto& [name, cmd] : p->manifest.scripts)
        if (name == event)
          if (auto r = run_script(cx, *p, name, cmd); !r) return r;
  return {};
}

}  // namespace tarn
