#include "tarn/store/packlist.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <optional>
#include <set>

#include "tarn/fs/fs.hpp"

namespace tarn {

namespace {

namespace json = boost::json;
namespace stdfs = std::filesystem;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// One [...] class at p[pi] ('[' included); sets `next` past it. nullopt: not a class.
std::optional<bool> match_class(std::string_view p, size_t pi, char c, size_t& next) {
  size_t i = pi + 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool hit = false;
  size_t first = i;
  for (; i < p.size() && (p[i] != ']' || i == first); ++i) {
    char lo = lower(p[i]), hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = lower(p[i + 2]);
      i += 2;
    }
    if (lower(c) >= lo && lower(c) <= hi) hit = true;
  }
  if (i >= p.size()) return std::nullopt;
  next = i + 1;
  return hit != negate && c != '/';
}

bool match_from(std::string_view p, size_t pi, std::string_view s, size_t si) {
  while (pi < p.size()) {
    char c = p[pi];
    if (c == '*') {
      if (pi + 1 < p.size() && p[pi + 1] == '*') {
        size_t rest = pi + 2;
        if (rest < p.size() && p[rest] == '/') {
          // "**/": zero or more whole directories.
          if (match_from(p, rest + 1, s, si)) return true;
          for (size_t k = si; k < s.size(); ++k)
            if (s[k] == '/' && match_from(p, rest + 1, s, k + 1)) return true;
          return false;
        }
        for (size_t k = si; k <= s.size(); ++k)
          if (match_from(p, rest, s, k)) return true;
        return false;
      }
      for (size_t k = si; k <= s.size(); ++k) {
        if (match_from(p, pi + 1, s, k)) return true;
        if (k < s.size() && s[k] == '/') break;
      }
      return false;
    }
    if (si >= s.size()) return false;
    if (c == '?') {
      if (s[si] == '/') return false;
    } else if (c == '[') {
      size_t next = 0;
      if (auto hit = match_class(p, pi, s[si], next)) {
        if (!*hit) return false;
        pi = next;
        ++si;
        continue;
      }
      if (s[si] != '[') return false;
    } else {
      if (c == '\\' && pi + 1 < p.size()) c = p[++pi];
      if (lower(c) != lower(s[si])) return false;
    }
    ++pi;
    ++si;
  }
  return si == s.size();
}

// One line of an ignore file, or one `files` entry.
struct Rule {
  std::string base;     // directory of the ignore file ("" for the root), no trailing '/'
  std::string pattern;  // relative to `base` when anchored
  bool negate = false, dir_only = false, anchored = false;
};

std::optional<Rule> parse_rule(std::string line, const std::string& base) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.pop_back();
  if (line.empty() || line[0] == '#') return std::nullopt;
  Rule r;
  r.base = base;
  if (line[0] == '!') {
    r.negate = true;
    line.erase(0, 1);
  } else if (line[0] == '\\' && line.size() > 1 && (line[1] == '!' || line[1] == '#')) {
    line.erase(0, 1);
  }
  while (line.size() > 1 && line.back() == '/') {
    r.dir_only = true;
    line.pop_back();
  }
  if (line == "/" || line.empty()) return std::nullopt;
  r.anchored = line.find('/') != std::string::npos;
  if (line[0] == '/') line.erase(0, 1);
  r.pattern = std::move(line);
  return r;
}

// Whether `r` matches the path `rel` itself (a directory when `is_dir`).
bool rule_hits(const Rule& r, std::string_view rel, bool is_dir) {
  if (r.dir_only && !is_dir) return false;
  std::string_view sub = rel;
  if (!r.base.empty()) {
    if (rel.size() <= r.base.size() || rel.substr(0, r.base.size()) != r.base || rel[r.base.size()] != '/') return false;
    sub = rel.substr(r.base.size() + 1);
  }
  if (r.anchored) return ignore_glob_match(r.pattern, sub);
  size_t slash = sub.rfind('/');
  return ignore_glob_match(r.pattern, slash == std::string_view::npos ? sub : sub.substr(slash + 1));
}

// gitignore's reading of a rule list: the last rule that matches the path or one of its
// directories decides. `fallback` when none does.
bool decide(const std::vector<Rule>& rules, std::string_view rel, bool fallback) {
  bool state = fallback;
  for (const Rule& r : rules) {
    bool hit = rule_hits(r, rel, false);
    for (size_t k = rel.find('/'); !hit && k != std::string_view::npos; k = rel.find('/', k + 1))
      hit = rule_hits(r, rel.substr(0, k), true);
    if (hit) state = !r.negate;
  }
  return state;
}

bool dir_ignored(const std::vector<Rule>& rules, std::string_view rel) {
  bool state = false;
  for (const Rule& r : rules)
    if (rule_hits(r, rel, true)) state = !r.negate;
  return state;
}

bool is_vcs_dir(std::string_view name) { return name == ".git" || name == ".svn" || name == ".hg" || name == "CVS"; }

// npm-packlist's defaultRules (and the root lockfiles), for a file at `rel`.
bool default_excluded(std::string_view rel) {
  size_t slash = rel.rfind('/');
  std::string_view base = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  static constexpr std::string_view anywhere[] = {".npmignore", ".gitignore", ".npmrc", "npm-debug.log", ".DS_Store"};
  for (auto n : anywhere)
    if (ignore_glob_match(n, base)) return true;
  if (ignore_glob_match(".*.swp", base) || ignore_glob_match("._*", base) || ignore_glob_match("*.orig", base)) return true;
  for (size_t k = rel.find('/'); k != std::string_view::npos; k = rel.find('/', k + 1)) {
    size_t start = rel.rfind('/', k - 1);
    std::string_view dir = rel.substr(start == std::string_view::npos || start >= k ? 0 : start + 1,
                                      start == std::string_view::npos || start >= k ? k : k - start - 1);
    if (ignore_glob_match("._*", dir) || ignore_glob_match(".DS_Store", dir)) return true;
  }
  static constexpr std::string_view root_only[] = {".lock-wscript", ".wafpickle-*", "build/config.gypi",
                                                   "archived-packages/**", "package-lock.json", "yarn.lock",
                                                   "pnpm-lock.yaml", "bun.lockb"};
  for (auto n : root_only)
    if (ignore_glob_match(n, rel)) return true;
  return false;
}

bool strict_included(std::string_view rel) {
  if (rel.find('/') != std::string_view::npos) return false;
  if (ignore_glob_match("package.json", rel)) return true;
  for (std::string_view stem : {"readme", "copying", "license", "licence"}) {
    if (rel.size() < stem.size() || !ignore_glob_match(stem, rel.substr(0, stem.size()))) continue;
    std::string_view rest = rel.substr(stem.size());
    if (rest.empty()) return true;
    // "{,.*[^~$]}": a dot, then anything whose last character is not ~ or $.
    if (rest[0] == '.' && rest.size() > 1 && rest.back() != '~' && rest.back() != '$') return true;
  }
  return false;
}

std::string normalize_field(std::string_view v) {
  while (v.substr(0, 2) == "./") v.remove_prefix(2);
  while (!v.empty() && v.front() == '/') v.remove_prefix(1);
  return fs::normalize(v);
}

struct Manifest {
  std::optional<std::vector<Rule>> files;  // the `files` field as root rules
  std::set<std::string> forced;            // main and bin targets
  std::vector<std::string> bins;           // bin targets
  std::string bin_dir;                     // directories.bin, when there is no bin
};

void read_bins(const json::object& o, Manifest& m) {
  auto* bin = o.if_contains("bin");
  if (bin && bin->is_string()) m.bins.push_back(normalize_field(bin->as_string()));
  if (bin && bin->is_object())
    for (auto& kv : bin->as_object())
      if (kv.value().is_string()) m.bins.push_back(normalize_field(kv.value().as_string()));
  if (bin && !bin->is_null()) return;
  auto* dirs = o.if_contains("directories");
  auto* b = dirs && dirs->is_object() ? dirs->as_object().if_contains("bin") : nullptr;
  if (b && b->is_string()) m.bin_dir = normalize_field(b->as_string()) + "/";
}

Manifest read_manifest(const std::string& pkg_dir) {
  Manifest m;
  auto text = fs::read_file(fs::join(pkg_dir, "package.json"));
  boost::system::error_code ec;
  json::value v = text ? json::parse(*text, ec) : json::value();
  if (!text || ec || !v.is_object()) return m;
  const json::object& o = v.as_object();
  if (auto* f = o.if_contains("files"); f && f->is_array()) {
    std::vector<Rule> rules;
    for (auto& e : f->as_array()) {
      if (!e.is_string()) continue;
      std::string s(e.as_string());
      bool neg = !s.empty() && s[0] == '!';
      if (auto r = parse_rule((neg ? "!/" : "/") + normalize_field(std::string_view(s).substr(neg ? 1 : 0)), "")) {
        r->negate = !neg;  // a `files` entry takes the path in: "not ignored"
        rules.push_back(std::move(*r));
      }
    }
    if (!rules.empty()) m.files = std::move(rules);
  }
  if (auto* main = o.if_contains("main"); main && main->is_string()) m.forced.insert(normalize_field(main->as_string()));
  read_bins(o, m);
  for (auto& b : m.bins) m.forced.insert(b);
  return m;
}

struct Walk {
  const std::string& root;
  const Manifest& manifest;
  std::vector<PackedFile> out;
};

std::vector<Rule> ignore_rules(const std::string& dir, const std::string& rel) {
  std::vector<Rule> rules;
  auto text = fs::read_file(fs::join(dir, ".npmignore"));
  if (!text) text = fs::read_file(fs::join(dir, ".gitignore"));
  if (!text) return rules;
  size_t i = 0;
  while (i <= text->size()) {
    size_t j = text->find('\n', i);
    if (j == std::string::npos) j = text->size();
    if (auto r = parse_rule(text->substr(i, j - i), rel)) rules.push_back(std::move(*r));
    i = j + 1;
  }
  return rules;
}

bool wanted(const Walk& w, const std::vector<Rule>& rules, const std::string& rel) {
  if (strict_included(rel) || w.manifest.forced.count(rel)) return true;
  if (default_excluded(rel)) return false;
  // With `files`, a path is out unless an entry takes it in; then nested ignore files apply.
  if (w.manifest.files && decide(*w.manifest.files, rel, true)) return false;
  return !decide(rules, rel, false);
}

// A symlink the `files` field names is packed as its target's content (when that is a
// regular file inside the package); without `files`, the link itself is packed.
std::optional<std::string> link_source(const Walk& w, const stdfs::path& p) {
  if (!w.manifest.files) return std::nullopt;
  std::error_code ec;
  stdfs::path real = stdfs::canonical(p, ec);
  stdfs::path root = stdfs::canonical(w.root, ec);
  if (ec || !stdfs::is_regular_file(real, ec)) return std::string();
  std::string r = real.lexically_relative(root).generic_string();
  if (r.empty() || r.rfind("..", 0) == 0) return std::string();
  return r;
}

Result<void> walk_dir(Walk& w, const std::string& rel, std::vector<Rule> rules) {
  std::string dir = rel.empty() ? w.root : fs::join(w.root, rel);
  if (!(rel.empty() && w.manifest.files)) {
    auto more = ignore_rules(dir, rel);
    rules.insert(rules.end(), more.begin(), more.end());
  }
  std::error_code ec;
  std::vector<std::pair<std::string, stdfs::file_status>> entries;
  for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    entries.emplace_back(it->path().filename().string(), it->symlink_status(ec));
  if (ec)
    return Error::failed(Code::DirectoryFetch, "failed to read " + dir + ": " + ec.message());
  for (auto& [name, st] : entries) {
    if (is_vcs_dir(name) || (rel.empty() && name == "node_modules")) continue;
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (stdfs::is_directory(st)) {
      // gitignore: an ignored directory is not entered (nothing inside can come back).
      if (!dir_ignored(rules, child))
        if (auto r = walk_dir(w, child, rules); !r) return r;
      continue;
    }
    if (!wanted(w, rules, child)) continue;
    std::string source = child;
    if (stdfs::is_symlink(st)) {
      auto s = link_source(w, fs::join(w.root, child));
      if (s && s->empty()) continue;
      if (s) source = *s;
    } else if (!stdfs::is_regular_file(st)) {
      continue;
    }
    w.out.push_back({child, source, false});
  }
  return {};
}

}  // namespace

bool ignore_glob_match(std::string_view pattern, std::string_view path) { return match_from(pattern, 0, path, 0); }

Result<std::vector<PackedFile>> packlist(const std::string& pkg_dir) {
  if (!fs::is_dir(pkg_dir))
    return Error::failed(Code::DirectoryFetch, "failed to read " + pkg_dir + ": not a directory");
  Manifest m = read_manifest(pkg_dir);
  Walk w{pkg_dir, m, {}};
  if (auto r = walk_dir(w, "", {}); !r) return r.error();
  std::sort(w.out.begin(), w.out.end(), [](const PackedFile& a, const PackedFile& b) { return a.path < b.path; });
  for (auto& f : w.out)
    f.bin = std::find(m.bins.begin(), m.bins.end(), f.path) != m.bins.end() ||
            (!m.bin_dir.empty() && f.path.rfind(m.bin_dir, 0) == 0);
  return std::move(w.out);
}

}  // namespace tarn
