// Proxy and TLS settings, read and resolved the way pnpm 12 does
// (pnpm/crates/config/src/proxy_keys.rs and npmrc_auth.rs).
#include "tarn/config/config.hpp"

#include "tarn/fs/fs.hpp"

namespace tarn {

namespace {

// pnpm's ProxyValue::from_config: in a scalar-typed source "", "false" and "null" mean unset.
std::optional<std::string> config_url(const std::optional<std::string>& raw) {
  if (!raw || raw->empty() || *raw == "false" || *raw == "null") return std::nullopt;
  return raw;
}

// npm writes inline PEMs on one line with "\n" escapes; the TLS library needs real newlines.
std::string expand_inline_pem(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() && v[i + 1] == 'n') out += '\n', ++i;
    else out += v[i];
  }
  return out;
}

bool set_proxy_key(Settings::ProxyKeys& k, const std::string& key, const std::string& val) {
  if (key == "https-proxy" || key == "httpsProxy") k.https_proxy = val;
  else if (key == "http-proxy" || key == "httpProxy") k.http_proxy = val;
  else if (key == "proxy") k.legacy_proxy = val;
  // .npmrc's no-proxy and noproxy share one slot (npmrc_auth.rs); the yaml keeps two.
  else if (key == "no-proxy" || key == "noproxy" || key == "noProxy") k.no_proxy = val;
  else return false;
  return true;
}

}  // namespace

bool apply_network_setting(Settings& s, const std::string& key, const std::string& val, const std::string& base_dir,
                           bool& reset_ca) {
  if (set_proxy_key(s.proxy_keys, key, val)) return true;
  if (key == "strict-ssl" || key == "strictSsl") {
    // Only the literal tokens count; anything else leaves pnpm's default (true).
    if (val == "true" || val == "false") s.strict_ssl = val == "true";
    return true;
  }
  if (key == "ca" || key == "ca[]") {
    // Repeated lines of one file accumulate; a later file's `ca` replaces an earlier one's.
    if (!reset_ca) s.ca.clear(), reset_ca = true;
    if (!val.empty() && val != "null") s.ca.push_back(expand_inline_pem(val));
    return true;
  }
  if (key == "cafile") {
    // Relative to the .npmrc that names it (pnpm/pnpm#11726).
    s.cafile = val.empty() ? val : fs::normalize(fs::join(base_dir, val));
    return true;
  }
  return false;
}

void read_proxy_env(Settings& s, const std::function<const char*(const char*)>& get) {
  auto pair = [&](const char* upper, const char* lower) -> std::optional<std::string> {
    if (const char* v = get(upper)) return std::string(v);
    if (const char* v = get(lower)) return std::string(v);
    return std::nullopt;
  };
  s.proxy_env.https_proxy = pair("HTTPS_PROXY", "https_proxy");
  s.proxy_env.http_proxy = pair("HTTP_PROXY", "http_proxy");
  s.proxy_env.legacy_proxy = pair("PROXY", "proxy");
  s.proxy_env.no_proxy = pair("NO_PROXY", "no_proxy");
}

// ProxyKeys::resolve: https-proxy, else the legacy `proxy` key ("false" there turns
// proxying off, the environment included), else HTTPS_PROXY. http-proxy, else whatever
// the https side resolved to, else HTTP_PROXY or PROXY. An environment value is taken as
// is: an empty HTTPS_PROXY shadows the variables below it and means "direct".
Settings::Proxy Settings::proxy() const {
  Proxy p;
  bool disabled = false, https_set = true;
  if (auto u = config_url(proxy_keys.https_proxy)) p.https = *u;
  else if (proxy_keys.legacy_proxy && *proxy_keys.legacy_proxy == "false") disabled = true;
  else if (auto l = config_url(proxy_keys.legacy_proxy)) p.https = *l;
  else if (proxy_env.https_proxy) p.https = *proxy_env.https_proxy;
  else https_set = false;
  if (auto u = config_url(proxy_keys.http_proxy)) p.http = *u;
  else if (https_set && !disabled) p.http = p.https;
  else if (!disabled && proxy_env.http_proxy) p.http = *proxy_env.http_proxy;
  else if (!disabled && proxy_env.legacy_proxy) p.http = *proxy_env.legacy_proxy;
  if (auto n = config_url(proxy_keys.no_proxy)) p.no_proxy = *n;
  else if (auto m = config_url(proxy_keys.noproxy)) p.no_proxy = *m;
  else if (proxy_env.no_proxy) p.no_proxy = *proxy_env.no_proxy;
  return p;
}

// pnpm's load_cafile: split on the END line, each piece one certificate; an unreadable
// file is no certificates (pnpm 12 ignores it silently).
std::vector<std::string> Settings::ca_certs() const {
  std::vector<std::string> out = ca;
  if (cafile.empty()) return out;
  auto text = fs::read_file(cafile);
  if (!text) return out;
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::string_view rest = *text;
  for (size_t at; (at = rest.find(kEnd)) != std::string_view::npos; rest.remove_prefix(at + kEnd.size())) {
    std::string_view chunk = rest.substr(0, at);
    size_t first = chunk.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos) out.push_back(std::string(chunk.substr(first)) + std::string(kEnd) + "\n");
  }
  return out;
}

}  // namespace tarn
