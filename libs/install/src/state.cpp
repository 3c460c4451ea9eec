#include "state.hpp"

#include "tarn/fs/fs.hpp"

#include <boost/json.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

namespace tarn {

namespace json = boost::json;

// xxHash's XXH3 (header-only, inlined): the lockfile is hashed on every up-to-date
// install, and byte-at-a-time FNV-1a over alotta-modules' 600 KB lockfile was a tenth of it.
static uint64_t hash64(std::string_view s, uint64_t seed = 0) { return XXH3_64bits_withSeed(s.data(), s.size(), seed); }

LockfileDigest lockfile_digest(std::string_view text) { return {hash64(text), text.size()}; }

Result<LockfileDigest> lockfile_digest_of_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return Error::not_found(Code::Io, path + ": no such file");
    return Error::failed(Code::Io, "failed to read " + path + ": " + fs::errno_text(e));
  }
  XXH3_state_t st;
  XXH3_64bits_reset_withSeed(&st, 0);
  LockfileDigest d;
  static thread_local char buf[64 << 10];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return Error::failed(Code::Io, "failed to read " + path + ": " + fs::errno_text(e));
    }
    if (n == 0) break;
    XXH3_64bits_update(&st, buf, static_cast<size_t>(n));
    d.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  d.hash = XXH3_64bits_digest(&st);
  return d;
}

std::string install_identity(const LockfileDigest& lockfile, const std::string& manifest_text, const Settings& s,
                             const InstallOptions& o) {
  std::string flags = std::string("prod=") + (o.prod ? "1" : "0") + " dev=" + (o.dev ? "1" : "0") +
                      " optional=" + (o.optional ? "1" : "0") +
                      // An install with scripts off leaves builds pending: the next one with
                      // scripts on must not count as up to date (pnpm's pendingBuilds).
                      " scripts=" + (o.ignore_scripts || s.ignore_scripts ? "0" : "1");
  std::string settings = s.fingerprint();
  for (auto& src : s.sources) settings += src;
  char buf[160];
  std::snprintf(buf, sizeof buf, "tarn-%s-%016llx-%zu-%016llx-%016llx", TARN_VERSION,
                static_cast<unsigned long long>(lockfile.hash), static_cast<size_t>(lockfile.size),
                static_cast<unsigned long long>(hash64(manifest_text)),
                static_cast<unsigned long long>(hash64(flags, hash64(settings))));
  return buf;
}

static long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string workspace_state(const std::string& identity, const std::vector<StateProject>& list,
                            const std::vector<std::string>& slots, bool filtered) {
  json::object o;
  o["lastValidatedTimestamp"] = now_ms();
  json::object projects;
  for (auto& p : list) {
    json::object project;
    if (!p.name.empty()) project["name"] = p.name;
    if (!p.version.empty()) project["version"] = p.version;
    projects[p.dir] = std::move(project);
  }
  o["projects"] = std::move(projects);
  o["filteredInstall"] = filtered;
  o["tarnIdentity"] = identity;
  json::array sl;
  for (auto& x : slots) sl.emplace_back(x);
  o["tarnSlots"] = std::move(sl);
  return json::serialize(o) + "\n";
}

bool workspace_state_matches(std::string_view text, const std::string& identity) {
  // Plain substring test: no JSON parser on the up-to-date path.
  std::string needle = "\"tarnIdentity\":\"" + identity + "\"";
  return text.find(needle) != std::string_view::npos;
}

std::string previous_pruned_at(std::string_view modules_yaml_text) {
  boost::system::error_code ec;
  auto v = json::parse(modules_yaml_text, ec);
  if (ec || !v.is_object()) return {};
  auto* p = v.as_object().if_contains("prunedAt");
  return p && p->is_string() ? std::string(p->as_string()) : std::string();
}

PreviousInstall previous_install(const std::string& root_dir) {
  PreviousInstall prev;
  if (auto m = fs::read_file(fs::join(root_dir, "node_modules/.modules.yaml"))) prev.pruned_at = previous_pruned_at(*m);
  auto st = fs::read_file(fs::join(root_dir, kStateFile));
  if (!st) return prev;
  boost::system::error_code ec;
  auto v = json::parse(*st, ec);
  if (ec || !v.is_object()) return prev;
  if (auto* a = v.as_object().if_contains("tarnSlots"); a && a->is_array())
    for (auto& x : a->as_array())
      if (x.is_string()) prev.slots.emplace_back(x.as_string());
  return prev;
}

std::string modules_yaml(const InstallPlan& plan, const Settings& s, const InstallOptions& o,
                         std::string_view previous_pruned_at) {
  // pnpm 12 writes .modules.yaml as JSON (YAML's superset makes both readers happy).
  json::object m;
  json::object hoisted;
  for (auto& [dep, aliases] : plan.hoisted) {
    json::object a;
    for (auto& [alias, kind] : aliases) a[alias] = kind == HoistKind::Public ? "public" : "private";
    hoisted[dep] = std::move(a);
  }
  m["hoistedDependencies"] = std::move(hoisted);
  json::array hp;
  for (auto& p : s.hoist_pattern) hp.emplace_back(p);
  m["hoistPattern"] = std::move(hp);
  m["included"] = json::object{{"dependencies", o.prod}, {"devDependencies", o.dev}, {"optionalDependencies", o.optional}};
  m["layoutVersion"] = 5;
  m["nodeLinker"] = "isolated";
  m["packageManager"] = std::string("tarn@") + TARN_VERSION;
  m["pendingBuilds"] = json::array();
  // pnpm sets prunedAt when it prunes the virtual store (modulesCacheMaxAge counts from
  // it) and otherwise carries it over; tarn never prunes slots, so it carries it over too.
  if (!previous_pruned_at.empty()) {
    m["prunedAt"] = previous_pruned_at;
  } else {
    std::time_t t = std::time(nullptr);
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&t));
    m["prunedAt"] = date;
  }
  json::array php;
  for (auto& p : s.public_hoist_pattern) php.emplace_back(p);
  m["publicHoistPattern"] = std::move(php);
  json::array skipped;
  for (auto& k : plan.skipped) skipped.emplace_back(k);
  m["skipped"] = std::move(skipped);
  m["storeDir"] = s.store_dir;
  m["virtualStoreDir"] = ".pnpm";
  m["virtualStoreDirMaxLength"] = s.virtual_store_dir_max_length;
  return json::serialize(m) + "\n";
}

}  // namespace tarn
