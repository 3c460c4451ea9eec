// Bin linking, following pnpm's rules: `bin` (string or map) or `directories.bin`;
// scoped command names lose their scope; a direct dependency beats a hoisted one, then
// the package that owns the command name wins, then the lexically smaller package name.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <tbb/parallel_for_each.h>

#include "tarn/fs/fs.hpp"
#include "tarn/linker/geometry.hpp"
#include "tarn/linker/layout.hpp"

namespace tarn {

namespace json = boost::json;

namespace {

struct Command {
  std::string name;
  std::string rel;  // inside the package, normalised
};

struct PackageBins {
  std::string name;  // the manifest's name
  std::vector<Command> commands;
};

bool safe_bin_name(std::string_view n) {
  if (n == "$") return true;
  if (n.empty() || n == "." || n == "..") return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_.!~*'()").find(c) != std::string_view::npos))
      return false;
  return true;
}

// The normalised relative path, or nullopt when it leaves the package.
std::optional<std::string> inside(std::string_view rel) {
  std::string n = fs::normalize(rel);
  if (n == "." || n.rfind("..", 0) == 0 || (!n.empty() && n[0] == '/')) return std::nullopt;
  return n;
}

Result<PackageBins> read_bins(const std::string& abs_pkg_dir) {
  PackageBins out;
  auto text = fs::read_file(abs_pkg_dir + "/package.json");
  if (!text) {
    if (text.error().is_not_found()) return out;
    return text.error();
  }
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object())
    return Error::failed(Code::BadPackageJson, "failed to read " + abs_pkg_dir + "/package.json: not valid JSON");
  auto& o = v.as_object();
  if (auto* n = o.if_contains("name"); n && n->is_string()) out.name = n->as_string().c_str();
  auto add = [&](std::string name, std::string_view rel) {
    if (name.size() > 1 && name[0] == '@') {
      auto slash = name.find('/');
      if (slash != std::string::npos) name = name.substr(slash + 1);
    }
    if (!safe_bin_name(name)) return;
    if (auto r = inside(rel)) out.commands.push_back({std::move(name), std::move(*r)});
  };
  auto* bin = o.if_contains("bin");
  if (bin && !(bin->is_string() && bin->as_string().empty()) && !bin->is_null()) {
    if (bin->is_string()) {
      if (!out.name.empty()) add(out.name, bin->as_string().c_str());
    } else if (bin->is_object()) {
      for (auto& kv : bin->as_object())
        if (kv.value().is_string()) add(std::string(kv.key()), kv.value().as_string().c_str());
    }
    return out;
  }
  if (auto* dirs = o.if_contains("directories"); dirs && dirs->is_object()) {
    if (auto* b = dirs->as_object().if_contains("bin"); b && b->is_string()) {
      auto rel = inside(b->as_string().c_str());
      if (!rel) return out;
      std::error_code fec;
      for (auto it = std::filesystem::recursive_directory_iterator(abs_pkg_dir + "/" + *rel, fec);
           !fec && it != std::filesystem::recursive_directory_iterator(); it.increment(fec)) {
        if (!it->is_regular_file()) continue;
        std::string file = it->path().filename().string();
        std::string r = std::filesystem::relative(it->path(), abs_pkg_dir).string();
        if (safe_bin_name(file)) out.commands.push_back({file, r});
      }
    }
  }
  return out;
}

bool owns(std::string_view bin, std::string_view pkg) {
  if (bin == pkg) return true;
  static const std::map<std::string_view, std::vector<std::string_view>> overrides = {
      {"npx", {"npm"}}, {"pn", {"pnpm", "@pnpm/exe"}}, {"pnpm", {"@pnpm/exe"}},
      {"pnpx", {"pnpm", "@pnpm/exe"}}, {"pnx", {"pnpm", "@pnpm/exe"}}};
  auto it = overrides.find(bin);
  return it != overrides.end() && std::find(it->second.begin(), it->second.end(), pkg) != it->second.end();
}

std::string first_line(int project_fd, const std::string& rel) {
  int fd = ::openat(project_fd, rel.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

// pnpm's NODE_PATH for a bin: the package's own node_modules, the slot's node_modules.
void node_paths_of(const std::string& abs_pkg_dir, std::vector<std::string>& out) {
  // The outermost-but-one "node_modules" ancestor: "<...>/.pnpm/<slot>/node_modules".
  auto pos = abs_pkg_dir.rfind("/node_modules/");
  if (pos == std::string::npos) return;
  std::string nm = abs_pkg_dir.substr(0, pos + 13);
  std::string rest = abs_pkg_dir.substr(pos + 14);
  auto slash = rest.find('/');
  std::string first = rest.substr(0, slash);
  if (!first.empty() && first[0] == '@' && slash != std::string::npos) {
    auto s2 = rest.find('/', slash + 1);
    first = rest.substr(0, s2);
  }
  out.push_back(nm + "/" + first + "/node_modules");
  out.push_back(nm);
}

// Copies `rel` to a new private file with `mode` and renames it over `rel`: the link in
// node_modules is replaced, the file it was linked to is untouched.
int replace_with_private_copy(int dirfd, const std::string& rel, mode_t mode) {
  static std::atomic<unsigned> counter{0};
  std::string tmp = rel + ".tarn-exec-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  int in = ::openat(dirfd, rel.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  int out = ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return e;
  }
  int e = 0;
  for (ssize_t n; (n = ::sendfile(out, in, nullptr, 1 << 20)) != 0;)
    if (n < 0) {
      e = errno;
      break;
    }
  if (e == 0 && ::fchmod(out, mode) != 0) e = errno;  // O_CREAT's mode went through the umask
  ::close(in);
  if (::close(out) != 0 && e == 0) e = errno;
  if (e == 0 && ::renameat(dirfd, tmp.c_str(), dirfd, rel.c_str()) != 0) e = errno;
  if (e != 0) ::unlinkat(dirfd, tmp.c_str(), 0);
  return e;
}

// A bin target must be executable (pnpm's fixBin adds a+x). The store already marks every
// file a package.json names as a bin, so this is for the rest, such as a bin that a bundled
// dependency declares differently. A file with several links is most likely a store blob:
// a chmod through the link would change it for every project, so the link is replaced by
// an executable private copy instead (copy-on-write). A file with one link is ours alone.
int ensure_executable(int project_fd, const std::string& rel) {
  struct stat st;
  if (::fstatat(project_fd, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0111) return 0;
  mode_t want = (st.st_mode & 0777) | 0111;
  if (st.st_nlink > 1) return replace_with_private_copy(project_fd, rel, want);
  return ::fchmodat(project_fd, rel.c_str(), want, 0) == 0 ? 0 : errno;
}

}  // namespace

std::string make_shim(std::string_view rel_target, std::string_view line, const std::vector<std::string>& node_path) {
  std::string prog, args;
  if (line.rfind("#!", 0) == 0) {
    std::string_view rest = line.substr(2);
    auto ws = [](std::string_view& s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    };
    auto word = [&](std::string_view& s) {
      ws(s);
      size_t e = s.find_first_of(" \t");
      std::string_view w = s.substr(0, e);
      s = e == std::string_view::npos ? std::string_view() : s.substr(e);
      return w;
    };
    std::string_view first = word(rest);
    if (first == "/usr/bin/env") {
      std::string_view w = word(rest);
      if (w == "-S") w = word(rest);
      while (w.find('=') != std::string_view::npos) w = word(rest);  // env VAR=x prog
      first = w;
    }
    prog = std::string(first);
    ws(rest);
    args = std::string(rest);
  } else {
    auto dot = rel_target.rfind('.');
    std::string_view ext = dot == std::string_view::npos ? "" : rel_target.substr(dot);
    if (ext == ".js" || ext == ".cjs" || ext == ".mjs") prog = "node";
    else if (ext == ".sh") prog = "sh";
  }
  std::string target = "$basedir/" + std::string(rel_target);
  std::string s = "#!/bin/sh\n# Written by tarn: runs " + std::string(rel_target) + "\n";
  s += "basedir=$(dirname \"$(echo \"$0\" | sed -e 's,\\\\,/,g')\")\n";
  if (!node_path.empty()) {
    std::string np;
    for (auto& p : node_path) np += (np.empty() ? "" : ":") + p;
    s += "if [ -z \"$NODE_PATH\" ]; then\n  export NODE_PATH=\"" + np + "\"\nelse\n  export NODE_PATH=\"" + np +
         ":$NODE_PATH\"\nfi\n";
  }
  std::string a = args.empty() ? "" : args + " ";
  if (prog.empty()) {
    s += "exec \"" + target + "\" \"$@\"\n";
  } else {
    s += "if [ -x \"$basedir/" + prog + "\" ]; then\n  exec \"$basedir/" + prog + "\" " + a + "\"" + target +
         "\" \"$@\"\nelse\n  exec " + prog + " " + a + "\"" + target + "\" \"$@\"\nfi\n";
  }
  return s;
}

namespace {

// A package offering bins to one .bin directory.
struct Candidate {
  const PackageBins* bins;
  std::string location;  // where this .bin's owner sees the package
  std::string real_dir;  // the package's real directory (for the exec check and NODE_PATH)
  bool hoisted;
};

using Chosen = std::map<std::string, std::pair<const Command*, const Candidate*>>;

// pnpm's conflict rules: a direct dependency beats a hoisted one; then the package that
// owns the command name; then the lexically smaller package name.
Chosen choose_commands(const std::vector<Candidate>& cands) {
  Chosen chosen;
  for (auto& cand : cands)
    for (auto& c : cand.bins->commands) {
      auto [it, fresh] = chosen.emplace(c.name, std::pair{&c, &cand});
      if (fresh) continue;
      const Candidate& ex = *it->second.second;
      bool take;
      if (ex.hoisted != cand.hoisted) {
        take = ex.hoisted;
      } else {
        bool eo = owns(c.name, ex.bins->name), co = owns(c.name, cand.bins->name);
        take = eo != co ? co : cand.bins->name < ex.bins->name;
      }
      if (take) it->second = {&c, &cand};
    }
  return chosen;
}

// The package directories directly under `dir` (one level into @scope directories).
std::vector<std::string> package_dirs_under(const std::string& abs_dir) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (auto& ent : std::filesystem::directory_iterator(abs_dir, ec)) {
    std::string name = ent.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (name[0] != '@') {
      dirs.push_back(name);
      continue;
    }
    for (auto& sub : std::filesystem::directory_iterator(ent.path(), ec))
      dirs.push_back(name + "/" + sub.path().filename().string());
  }
  return dirs;
}

class BinLinker {
 public:
  BinLinker(const InstallPlan& plan, int project_fd, const std::string& project_dir)
      : plan_(plan), fd_(project_fd), dir_(project_dir), hoisted_nm_(fs::join(project_dir, geometry::kHoisted)) {}

  Errors run() {
    read_declared_bins();
    tbb::parallel_for_each(plan_.bins.begin(), plan_.bins.end(), [&](const BinTarget& t) { link_target(t); });
    return std::move(errs_);
  }

 private:
  void fail(Error e) {
    std::lock_guard lk(mu_);
    errs_.items.push_back(std::move(e));
  }

  // Every bin-declaring manifest, read once.
  void read_declared_bins() {
    bins_.resize(plan_.packages.size());
    std::vector<size_t> wanted;
    for (size_t i = 0; i < plan_.packages.size(); ++i)
      if (plan_.packages[i].has_bin) wanted.push_back(i);
    tbb::parallel_for_each(wanted.begin(), wanted.end(), [&](size_t i) {
      auto r = read_bins(fs::join(dir_, plan_.packages[i].pkg_dir));
      if (!r) return fail(r.error());
      bins_[i] = std::move(*r);
    });
  }

  // Planned sources, linked projects (read here) and bundled dependencies.
  void gather(const BinTarget& t, std::vector<Candidate>& cands, std::deque<PackageBins>& read_here) {
    for (auto& src : t.sources) {
      if (src.package != BinTarget::Source::kLinked) {
        if (auto& pb = bins_[src.package]) cands.push_back({&*pb, src.location, plan_.packages[src.package].pkg_dir, src.hoisted});
        continue;
      }
      auto r = read_bins(src.linked_dir);
      if (!r) {
        if (!r.error().is_not_found()) fail(r.error());
        continue;
      }
      read_here.push_back(std::move(*r));
      cands.push_back({&read_here.back(), src.location, fs::relative(dir_, src.linked_dir), false});
    }
    if (t.bundled_dir.empty()) return;
    for (auto& d : package_dirs_under(fs::join(dir_, t.bundled_dir))) {
      std::string rel = t.bundled_dir + "/" + d;
      auto r = read_bins(fs::join(dir_, rel));
      if (!r) return fail(r.error());
      if (r->commands.empty()) continue;
      read_here.push_back(std::move(*r));
      cands.push_back({&read_here.back(), rel, rel, false});
    }
  }

  void link_target(const BinTarget& t) {
    std::vector<Candidate> cands;
    std::deque<PackageBins> read_here;  // a deque: candidates point into it
    gather(t, cands, read_here);
    Chosen chosen = choose_commands(cands);
    if (chosen.empty()) return;
    if (int e = fs::mkdirs_at(fd_, t.bin_dir); e != 0)
      return fail(Error::failed(Code::LinkBins, "failed to create " + t.bin_dir + ": " + fs::errno_text(e)));
    for (auto& [name, pick] : chosen) write_shim(t, name, *pick.first, *pick.second);
  }

  void write_shim(const BinTarget& t, const std::string& name, const Command& cmd, const Candidate& cand) {
    std::string real_target = cand.real_dir + "/" + cmd.rel;
    std::string rel = fs::relative(t.bin_dir, cand.location + "/" + cmd.rel);
    std::string shim_path = t.bin_dir + "/" + name;
    int e;
    if (name == "node") {
      // pnpm links a `node` binary directly rather than through a shim.
      e = fs::symlink_at(rel.c_str(), fd_, shim_path.c_str());
    } else {
      std::vector<std::string> np;
      if (plan_.private_hoisting) {
        node_paths_of(fs::join(dir_, cand.real_dir), np);
        np.push_back(hoisted_nm_);
      }
      ::unlinkat(fd_, shim_path.c_str(), 0);
      std::string shim = make_shim(rel, first_line(fd_, real_target), np);
      e = fs::write_file_at(fd_, shim_path.c_str(), shim.data(), shim.size(), 0755);
    }
    if (e != 0) return fail(Error::failed(Code::LinkBins, "failed to write " + shim_path + ": " + fs::errno_text(e)));
    e = ensure_executable(fd_, real_target);
    if (e != 0 && e != ENOENT)
      fail(Error::failed(Code::LinkBins, "failed to make " + real_target + " executable: " + fs::errno_text(e)));
  }

  const InstallPlan& plan_;
  int fd_;
  const std::string& dir_;
  std::string hoisted_nm_;
  std::vector<std::optional<PackageBins>> bins_;
  std::mutex mu_;
  Errors errs_;
};

}  // namespace

Errors link_bins(const InstallPlan& plan, int project_fd, const std::string& project_dir) {
  return BinLinker(plan, project_fd, project_dir).run();
}

}  // namespace tarn
