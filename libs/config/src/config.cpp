#include "tarn/config/config.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "tarn/fs/fs.hpp"
#include "workspace_extras.hpp"

namespace tarn {

bool glob_match(std::string_view g, std::string_view s) {
  // Iterative '*' matching with backtracking to the last star.
  size_t gi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (gi < g.size() && g[gi] == '*') {
      star = gi++;
      mark = si;
    } else if (gi < g.size() && (g[gi] == '?' || g[gi] == s[si])) {
      ++gi, ++si;
    } else if (star != std::string_view::npos) {
      gi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (gi < g.size() && g[gi] == '*') ++gi;
  return gi == g.size();
}

Matcher::Matcher(std::vector<std::string> patterns) {
  for (auto& p : patterns) {
    std::string t = p;
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
    if (t.empty()) continue;
    bool ign = t[0] == '!';
    pats_.push_back(Pat{ign ? t.substr(1) : t, ign});
  }
}

bool Matcher::matches(std::string_view name) const {
  if (pats_.empty()) return false;
  bool any_include = false;
  for (auto& p : pats_) any_include |= !p.ignore;
  if (!any_include) {
    for (auto& p : pats_)
      if (glob_match(p.glob, name)) return false;
    return true;
  }
  bool hit = false;
  for (auto& p : pats_) {
    if (p.ignore) {
      if (glob_match(p.glob, name)) hit = false;
    } else if (!hit && glob_match(p.glob, name)) {
      hit = true;
    }
  }
  return hit;
}

static std::string with_slash(std::string u) {
  if (!u.empty() && u.back() != '/') u += '/';
  return u;
}

const std::string& Settings::registry_for(const PkgName& name) const {
  if (name.scoped()) {
    auto it = scoped_registries.find(std::string(name.scope()));
    if (it != scoped_registries.end()) return it->second;
  }
  return registry;
}

namespace {

std::string nerf_dart(std::string_view url) {
  auto p = url.find("//");
  return p == std::string_view::npos ? std::string() : std::string(url.substr(p));
}

std::string base64_decode(const std::string& in) {
  std::string out(in.size() * 3 / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  out.resize(static_cast<size_t>(n));
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
  out.resize(out.size() >= pad ? out.size() - pad : 0);
  return out;
}

std::optional<std::string> header_for(const Settings::Credentials& c) {
  if (!c.token.empty()) return "Bearer " + c.token;
  if (!c.auth.empty()) return "Basic " + c.auth;
  if (!c.username.empty() && !c.password.empty()) {
    std::string plain = c.username + ":" + base64_decode(c.password);
    return "Basic " + Integrity::to_base64(reinterpret_cast<const uint8_t*>(plain.data()), plain.size());
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Settings::authorization_for(std::string_view url) const {
  std::string rest = nerf_dart(url);
  if (rest.empty()) return std::nullopt;
  const Credentials* best = nullptr;
  size_t best_len = 0;
  for (auto& [prefix, creds] : credentials) {
    std::string p = prefix.empty() ? nerf_dart(registry) : prefix;
    if (!p.empty() && rest.compare(0, p.size(), p) == 0 && p.size() > best_len && header_for(creds)) {
      best = &creds;
      best_len = p.size();
    }
  }
  return best ? header_for(*best) : std::nullopt;
}

TarballUrl Settings::tarball_url(const PkgName& name, std::string_view version) const {
  return TarballUrl(registry_for(name) + name.str() + "/-/" + std::string(name.bare()) + "-" + std::string(version) + ".tgz");
}

std::string Settings::fingerprint() const {
  std::string f = "store=" + store_dir + "\nregistry=" + registry + "\n";
  for (auto& [k, v] : scoped_registries) f += k + ":registry=" + v + "\n";
  for (auto& p : hoist_pattern) f += "hoist=" + p + "\n";
  for (auto& p : public_hoist_pattern) f += "public-hoist=" + p + "\n";
  if (supported_architectures) {
    for (auto& v : supported_architectures->os) f += "os=" + v + "\n";
    for (auto& v : supported_architectures->cpu) f += "cpu=" + v + "\n";
    for (auto& v : supported_architectures->libc) f += "libc=" + v + "\n";
  }
  f += "vsmax=" + std::to_string(virtual_store_dir_max_length) + "\n";
  for (auto& [k, v] : patched_dependencies) f += "patch=" + k + "=" + v + "\n";
  return f;
}

std::string default_store_dir() {
  // tarn keeps its own XDG-style store; it never writes into pnpm's.
  if (const char* x = std::getenv("TARN_STORE_DIR"); x && *x) return x;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::join(x, "tarn/store");
  const char* home = std::getenv("HOME");
  return fs::join(home && *home ? home : "/tmp", ".local/share/tarn/store");
}

std::string default_cache_dir() {
  if (const char* x = std::getenv("TARN_CACHE_DIR"); x && *x) return x;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::join(x, "tarn");
  const char* home = std::getenv("HOME");
  return fs::join(home && *home ? home : "/tmp", ".cache/tarn");
}

static std::string expand_env(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '$' && i + 1 < v.size() && v[i + 1] == '{') {
      auto end = v.find('}', i);
      if (end != std::string_view::npos) {
        std::string name(v.substr(i + 2, end - i - 2));
        if (const char* e = std::getenv(name.c_str())) out += e;
        i = end;
        continue;
      }
    }
    out += v[i];
  }
  return out;
}

static std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  std::string t(s.substr(a, b - a));
  if (t.size() >= 2 && ((t.front() == '"' && t.back() == '"') || (t.front() == '\'' && t.back() == '\'')))
    t = t.substr(1, t.size() - 2);
  return t;
}

// The fetch-* settings, in .npmrc (kebab-case) or pnpm-workspace.yaml (camelCase) form.
// Unparsable numbers keep the default, as pnpm's config reader ignores them.
static bool apply_resolution_setting(Settings& s, const std::string& key, const std::string& val);

static bool apply_fetch_setting(Settings& s, std::string_view key, const std::string& val) {
  char* end = nullptr;
  unsigned long n = std::strtoul(val.c_str(), &end, 10);
  // strtoul accepts "-1" (wrapping to ~4e9 retries) and values past the field: refused.
  bool ok = end && *end == '\0' && !val.empty() && val[0] != '-' && n <= 3'600'000;
  auto set = [&](auto& field) {
    if (ok) field = static_cast<std::remove_reference_t<decltype(field)>>(n);
    return true;
  };
  if (key == "fetch-retries" || key == "fetchRetries") return set(s.fetch_retries);
  if (key == "fetch-retry-factor" || key == "fetchRetryFactor") return set(s.fetch_retry_factor);
  if (key == "fetch-retry-mintimeout" || key == "fetchRetryMintimeout") return set(s.fetch_retry_mintimeout);
  if (key == "fetch-retry-maxtimeout" || key == "fetchRetryMaxtimeout") return set(s.fetch_retry_maxtimeout);
  if (key == "fetch-timeout" || key == "fetchTimeout") return set(s.fetch_timeout);
  return false;
}

// _authToken, _auth, username and _password, scoped by "//host/path/:" or bare (the
// default registry), as npm and pnpm read them.
static bool apply_credential(Settings& s, const std::string& key, const std::string& val) {
  std::string prefix, field = key;
  if (key.rfind("//", 0) == 0) {
    auto colon = key.rfind(':');
    if (colon == std::string::npos) return false;
    prefix = key.substr(0, colon), field = key.substr(colon + 1);
  }
  auto& c = s.credentials[prefix];
  if (field == "_authToken") c.token = val;
  else if (field == "_auth") c.auth = val;
  else if (field == "username") c.username = val;
  else if (field == "_password") c.password = val;
  else {
    if (c.token.empty() && c.auth.empty() && c.username.empty() && c.password.empty()) s.credentials.erase(prefix);
    return false;
  }
  return true;
}

void apply_npmrc(Settings& s, std::string_view text, const std::string& base_dir) {
  bool reset_hoist = false, reset_public = false, reset_ca = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string line = trim(text.substr(i, j - i));
    i = j + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(std::string_view(line).substr(0, eq));
    std::string val = expand_env(trim(std::string_view(line).substr(eq + 1)));
    if (key == "registry") s.registry = with_slash(val);
    else if (key.size() > 9 && key[0] == '@' && key.compare(key.size() - 9, 9, ":registry") == 0)
      s.scoped_registries[key.substr(0, key.size() - 9)] = with_slash(val);
    else if (apply_credential(s, key, val)) {
    }
    else if (key == "store-dir" || key == "storeDir") s.store_dir = fs::normalize(fs::join(base_dir, val));
    else if (key == "cache-dir" || key == "cacheDir") s.cache_dir = fs::normalize(fs::join(base_dir, val));
    else if (key == "offline") s.offline = val == "true";
    else if (key == "prefer-offline" || key == "preferOffline") s.prefer_offline = val == "true";
    else if (key == "hoist-pattern[]" || key == "hoist-pattern") {
      if (!reset_hoist) s.hoist_pattern.clear(), reset_hoist = true;
      s.hoist_pattern.push_back(val);
    } else if (key == "public-hoist-pattern[]" || key == "public-hoist-pattern") {
      if (!reset_public) s.public_hoist_pattern.clear(), reset_public = true;
      s.public_hoist_pattern.push_back(val);
    } else if (key == "hoist" && val == "false") s.hoist_pattern.clear();
    else if (key == "shamefully-hoist" && val == "true") s.public_hoist_pattern = {"*"};
    else if (key == "network-concurrency") s.network_concurrency = std::max(1, std::atoi(val.c_str()));
    else if (key == "ignore-scripts") s.ignore_scripts = val == "true";
    else if (key == "ignore-pnpmfile") s.ignore_pnpmfile = val == "true";
    else if (key == "pnpmfile") s.pnpmfile = fs::normalize(fs::join(base_dir, val));
    else if (key == "engine-strict") s.engine_strict = val == "true";
    else if (key == "auto-install-peers") s.auto_install_peers = val == "true";
    else if (apply_resolution_setting(s, key, val)) {
    }
    else if (apply_fetch_setting(s, key, val)) {
    }
    else if (apply_network_setting(s, key, val, base_dir, reset_ca)) {
    }
    else if (key == "virtual-store-dir-max-length") s.virtual_store_dir_max_length = std::max(40, std::atoi(val.c_str()));
  }
}

// The resolution settings, under their .npmrc (kebab-case) and pnpm-workspace.yaml
// (camelCase) names. A value that does not parse keeps pnpm's default.
static bool apply_resolution_setting(Settings& s, const std::string& key, const std::string& val) {
  auto is = [&](const char* kebab, const char* camel) { return key == kebab || key == camel; };
  if (is("minimum-release-age", "minimumReleaseAge")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(val.c_str(), &end, 10);
    if (end && *end == 0 && !val.empty() && val[0] != '-' && v <= 100u * 365 * 24 * 60) s.minimum_release_age = static_cast<unsigned>(v);
  } else if (is("minimum-release-age-strict", "minimumReleaseAgeStrict")) {
    s.minimum_release_age_strict = val == "true";
  } else if (is("resolution-mode", "resolutionMode")) {
    if (val == "highest" || val == "lowest-direct" || val == "time-based") s.resolution_mode = val;
  } else if (is("dedupe-peer-dependents", "dedupePeerDependents")) {
    s.dedupe_peer_dependents = val == "true";
  } else if (is("strict-peer-dependencies", "strictPeerDependencies")) {
    s.strict_peer_dependencies = val == "true";
  } else if (is("save-prefix", "savePrefix")) {
    if (val.empty() || val == "^" || val == "~" || val == "=") s.save_prefix = val;
  } else if (is("save-exact", "saveExact")) {
    if (val == "true") s.save_prefix = "";
  } else {
    return false;
  }
  return true;
}

static std::vector<std::string> yaml_list(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) out.push_back(n.Scalar());
  else if (n.IsSequence())
    for (auto x : n) out.push_back(x.Scalar());
  return out;
}

// pnpm-workspace.yaml's install switches (booleans, and the pnpmfile path).
static void read_install_flags(Settings& s, const YAML::Node& root, const std::string& base) {
  if (auto n = root["ignoreScripts"]) s.ignore_scripts = n.as<bool>();
  if (auto n = root["ignorePnpmfile"]) s.ignore_pnpmfile = n.as<bool>();
  if (auto n = root["injectWorkspacePackages"]) s.inject_workspace_packages = n.as<bool>();
  if (auto n = root["pnpmfile"]) s.pnpmfile = fs::normalize(fs::join(base, n.Scalar()));
  if (auto n = root["strictDepBuilds"]) s.strict_dep_builds = n.as<bool>();
  if (auto n = root["engineStrict"]) s.engine_strict = n.as<bool>();
  if (auto n = root["autoInstallPeers"]) s.auto_install_peers = n.as<bool>();
}

// Which dependencies may build, and for which platforms optional dependencies install.
static void read_builds(Settings& s, const YAML::Node& root) {
  if (auto n = root["allowBuilds"]; n && n.IsMap())
    for (auto kv : n) s.allow_builds[kv.first.Scalar()] = kv.second.IsScalar() && kv.second.Scalar() == "true";
  for (auto& name : yaml_list(root["onlyBuiltDependencies"])) s.allow_builds[name] = true;
  for (auto& name : yaml_list(root["neverBuiltDependencies"])) s.allow_builds[name] = false;
  if (auto n = root["supportedArchitectures"]; n && n.IsMap()) {
    SupportedArchitectures a;
    a.os = yaml_list(n["os"]);
    a.cpu = yaml_list(n["cpu"]);
    a.libc = yaml_list(n["libc"]);
    s.supported_architectures = a;
  }
}

Result<void> apply_workspace_yaml(Settings& s, std::string_view text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error::failed(Code::InvalidWorkspaceConfiguration, "failed to read " + path + ": " + e.what());
  }
  if (!root || root.IsNull()) return {};
  if (!root.IsMap())
    return Error::failed(Code::InvalidWorkspaceConfiguration, "failed to read " + path + ": not a YAML map");
  try {
    std::string base = fs::dirname(path);
    if (auto n = root["storeDir"]) s.store_dir = fs::normalize(fs::join(base, n.Scalar()));
    if (auto n = root["cacheDir"]) s.cache_dir = fs::normalize(fs::join(base, n.Scalar()));
    if (auto n = root["offline"]) s.offline = n.as<bool>();
    if (auto n = root["preferOffline"]) s.prefer_offline = n.as<bool>();
    if (auto n = root["registry"]) s.registry = with_slash(n.Scalar());
    if (auto n = root["hoistPattern"]) s.hoist_pattern = yaml_list(n);
    if (auto n = root["publicHoistPattern"]) s.public_hoist_pattern = yaml_list(n);
    if (auto n = root["hoist"]; n && !n.as<bool>()) s.hoist_pattern.clear();
    if (auto n = root["shamefullyHoist"]; n && n.as<bool>()) s.public_hoist_pattern = {"*"};
    if (auto n = root["networkConcurrency"]) s.network_concurrency = std::max(1, n.as<int>());
    if (auto n = root["virtualStoreDirMaxLength"]) s.virtual_store_dir_max_length = std::max(40, n.as<int>());
    if (auto n = root["packages"]) s.workspace_packages = yaml_list(n);
    bool reset_ca = false;
    for (auto kv : root) {
      if (!kv.second.IsScalar()) continue;
      apply_fetch_setting(s, kv.first.Scalar(), kv.second.Scalar());
      if (kv.first.Scalar() != "ca" && kv.first.Scalar() != "cafile")  // .npmrc-only keys in pnpm
        apply_network_setting(s, kv.first.Scalar(), kv.second.Scalar(), base, reset_ca);
    }
    read_install_flags(s, root, base);
    for (auto kv : root)
      if (kv.second.IsScalar()) apply_resolution_setting(s, kv.first.Scalar(), kv.second.Scalar());
    if (auto n = root["minimumReleaseAgeExclude"]) s.minimum_release_age_exclude = yaml_list(n);
    if (auto n = root["overrides"]; n && n.IsMap())
      for (auto kv : n) s.overrides.emplace_back(kv.first.Scalar(), kv.second.Scalar());
    if (auto r = read_catalogs(s, root, path); !r) return r;
    read_package_extensions(s, root);
    if (auto n = root["patchedDependencies"]; n && n.IsMap())
      for (auto kv : n) s.patched_dependencies[kv.first.Scalar()] = kv.second.Scalar();
    read_builds(s, root);
  } catch (const YAML::Exception& e) {
    return Error::failed(Code::InvalidWorkspaceConfiguration, "failed to read " + path + ": " + e.what());
  }
  return {};
}

Result<Settings> load_settings(const std::string& project_dir, const CliOverrides& cli) {
  Settings s;
  s.project_dir = fs::absolute(project_dir);
  s.store_dir = default_store_dir();
  s.cache_dir = default_cache_dir();
  read_proxy_env(s, [](const char* name) { return std::getenv(name); });
  std::string user_rc;
  if (const char* u = std::getenv("NPM_CONFIG_USERCONFIG"); u && *u) user_rc = u;
  else if (const char* h = std::getenv("HOME"); h && *h) user_rc = fs::join(h, ".npmrc");
  for (const std::string& rc : {user_rc, fs::join(s.project_dir, ".npmrc")}) {
    if (rc.empty()) continue;
    auto text = fs::read_file(rc);
    if (!text) {
      if (text.error().is_not_found()) continue;
      return text.error();
    }
    apply_npmrc(s, *text, fs::dirname(rc));
    s.sources.push_back(rc + "\n" + *text);
  }
  std::string ws = fs::join(s.project_dir, "pnpm-workspace.yaml");
  if (auto text = fs::read_file(ws)) {
    auto r = apply_workspace_yaml(s, *text, ws);
    if (!r) return r.error();
    s.workspace_file = true;
    s.sources.push_back(ws + "\n" + *text);
  } else if (!text.error().is_not_found()) {
    return text.error();
  }
  // pnpm's precedence: command line > npm_config_* / pnpm_config_* > pnpm-workspace.yaml >
  // project .npmrc > user .npmrc.
  std::string env = environment_npmrc(environ);
  apply_npmrc(s, env, s.project_dir);
  if (!env.empty()) s.sources.push_back("environment\n" + env);
  if (cli.store_dir) s.store_dir = fs::absolute(*cli.store_dir);
  if (cli.cache_dir) s.cache_dir = fs::absolute(*cli.cache_dir);
  if (cli.registry) s.registry = with_slash(*cli.registry);
  return s;
}

std::string environment_npmrc(char** envp) {
  std::string out;
  for (char** e = envp; e && *e; ++e) {
    std::string_view kv = *e;
    size_t prefix = 0;
    for (std::string_view p : {"npm_config_", "pnpm_config_"})
      if (kv.size() > p.size() && std::equal(p.begin(), p.end(), kv.begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
          }))
        prefix = p.size();
    auto eq = kv.find('=');
    if (!prefix || eq == std::string_view::npos || eq <= prefix || kv[prefix] == '_') continue;
    std::string key(kv.substr(prefix, eq - prefix));
    for (auto& c : key) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string val(kv.substr(eq + 1));
    if (val.find('\n') != std::string::npos) continue;
    out += key + "=" + val + "\n";
  }
  return out;
}

}  // namespace tarn
