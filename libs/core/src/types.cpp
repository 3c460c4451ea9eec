#include "tarn/core/types.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace tarn {

namespace {
bool valid_segment(std::string_view seg) {
  if (seg.empty() || seg == "." || seg == "..") return false;
  for (char c : seg) {
    if (c == '/' || c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}
}  // namespace

Result<PkgName> PkgName::parse(std::string_view s) {
  auto bad = [&](const char* why) {
    return Error::failed(Code::InvalidPackageName,
                         "invalid package name \"" + std::string(s) + "\": " + why);
  };
  if (s.empty()) return bad("empty");
  if (s.size() > 214) return bad("longer than 214 characters");
  if (s[0] == '@') {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return bad("scope without a name");
    if (!valid_segment(s.substr(1, slash - 1)) || !valid_segment(s.substr(slash + 1)))
      return bad("not a valid path segment");
  } else {
    if (!valid_segment(s)) return bad("not a valid path segment");
    if (s[0] == '.') return bad("starts with a dot");
  }
  PkgName n;
  n.s_ = std::string(s);
  return n;
}

std::string_view PkgName::scope() const {
  if (!scoped()) return {};
  return std::string_view(s_).substr(0, s_.find('/'));
}

std::string_view PkgName::bare() const {
  if (!scoped()) return s_;
  return std::string_view(s_).substr(s_.find('/') + 1);
}

Result<DepPath> DepPath::parse(std::string_view s) {
  std::string_view t = s;
  if (!t.empty() && t[0] == '/') t.remove_prefix(1);  // lockfile v6 keys start with '/'
  auto at = t.size() > 1 ? t.find('@', 1) : std::string_view::npos;
  if (at == std::string_view::npos || at + 1 >= t.size())
    return Error::failed(Code::LockfileBadKey, "invalid dependency path \"" + std::string(s) +
                                                          "\": expected <name>@<version>");
  auto name = PkgName::parse(t.substr(0, at));
  if (!name) return name.error();
  return from_parts(*name, t.substr(at + 1));
}

Result<DepPath> DepPath::from_parts(const PkgName& name, std::string_view vp) {
  DepPath p;
  p.name_ = name;
  p.s_ = name.str() + "@" + std::string(vp);
  p.version_begin_ = name.str().size() + 1;
  auto paren = vp.find('(');
  if (paren == std::string_view::npos) {
    if (vp.find(')') != std::string_view::npos)
      return Error::failed(Code::LockfileBadKey, "invalid dependency path \"" + p.s_ + "\": unbalanced parentheses");
    p.version_end_ = p.s_.size();
  } else {
    if (vp.back() != ')')
      return Error::failed(Code::LockfileBadKey, "invalid dependency path \"" + p.s_ + "\": unbalanced parentheses");
    int depth = 0;
    for (char c : vp.substr(paren)) {
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (depth < 0) break;
    }
    if (depth != 0)
      return Error::failed(Code::LockfileBadKey, "invalid dependency path \"" + p.s_ + "\": unbalanced parentheses");
    p.version_end_ = p.version_begin_ + paren;
  }
  if (p.version_end_ == p.version_begin_)
    return Error::failed(Code::LockfileBadKey, "invalid dependency path \"" + p.s_ + "\": empty version");
  return p;
}

std::string_view DepPath::version() const {
  return std::string_view(s_).substr(version_begin_, version_end_ - version_begin_);
}
std::string_view DepPath::peers() const { return std::string_view(s_).substr(version_end_); }
std::string_view DepPath::without_peers() const { return std::string_view(s_).substr(0, version_end_); }

// ---------------------------------------------------------------- Integrity

static int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string Integrity::to_base64(const uint8_t* p, size_t n) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == n) {
    uint32_t v = p[i] << 16;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == n) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<Integrity> Integrity::parse(std::string_view s) {
  Integrity best;
  bool found = false;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view tok = s.substr(i, j - i);
    i = j;
    if (tok.empty()) continue;
    auto dash = tok.find('-');
    if (dash == std::string_view::npos) continue;
    std::string_view algo = tok.substr(0, dash), b64 = tok.substr(dash + 1);
    auto q = b64.find('?');  // SRI options
    if (q != std::string_view::npos) b64 = b64.substr(0, q);
    Algo a;
    size_t want;
    if (algo == "sha512") a = Algo::Sha512, want = 64;
    else if (algo == "sha384") a = Algo::Sha384, want = 48;
    else if (algo == "sha256") a = Algo::Sha256, want = 32;
    else if (algo == "sha1") a = Algo::Sha1, want = 20;
    else continue;
    std::vector<uint8_t> out;
    uint32_t acc = 0;
    int bits = 0;
    bool ok = true;
    for (char c : b64) {
      if (c == '=') break;
      int v = b64_value(c);
      if (v < 0) { ok = false; break; }
      acc = (acc << 6) | static_cast<uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
      }
    }
    if (!ok || out.size() != want) continue;
    if (!found || a > best.algo_) {
      best.algo_ = a;
      best.digest_ = std::move(out);
      found = true;
    }
  }
  if (!found)
    return Error::failed(Code::InvalidIntegrity, "invalid integrity \"" + std::string(s) + "\"");
  return best;
}

std::string_view Integrity::algo_name() const {
  switch (algo_) {
    case Algo::Sha1: return "sha1";
    case Algo::Sha256: return "sha256";
    case Algo::Sha384: return "sha384";
    case Algo::Sha512: return "sha512";
  }
  return "";
}

std::string Integrity::hex() const {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(digest_.size() * 2);
  for (uint8_t b : digest_) {
    out += d[b >> 4];
    out += d[b & 15];
  }
  return out;
}

std::string Integrity::base64() const { return to_base64(digest_.data(), digest_.size()); }
std::string Integrity::str() const { return std::string(algo_name()) + "-" + base64(); }

// ---------------------------------------------------------------- SlotName

static std::string sha256_hex32(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 16; ++i) {
    out += d[md[i] >> 4];
    out += d[md[i] & 15];
  }
  return out;
}

namespace {

// Whether a dependency path's version is a URL ("name@https://...", "name@git+ssh://...")
// holding a character that escaping changes beyond the scheme's "://" and the path's '/'s:
// a port's ':', a query's '?', a git commit's '#'. pnpm 12.21 hashes exactly those slot
// names (measured: "escape-html@http://127.0.0.1:48799/...tgz", "...tgz?x=1", "...tgz#frag"
// and "gitpkg@git+http://127.0.0.1/repo.git#<sha>" get "_<sha256 of the key>";
// "escape-html@https://registry.npmjs.org/escape-html/-/escape-html-1.0.3.tgz" and
// "...@http://127.0.0.1/escape-html/-/escape-html-1.0.3.tgz" keep the plain escaped name).
bool url_version_needs_hash(std::string_view dep_path) {
  size_t at = dep_path.size() > 1 ? dep_path.find('@', 1) : std::string_view::npos;
  if (at == std::string_view::npos) return false;
  std::string_view v = dep_path.substr(at + 1);
  v = v.substr(0, v.find('('));
  if (v.substr(0, 5) == "file:") return false;
  size_t scheme = v.find("://");
  if (scheme == std::string_view::npos) return false;
  if (v.substr(0, scheme).find_first_of("\\:*?\"<>|#") != std::string_view::npos) return false;
  return v.substr(scheme + 3).find_first_of("\\:*?\"<>|#") != std::string_view::npos;
}

}  // namespace

SlotName SlotName::from(const DepPath& p, size_t max_length) { return from_text(p.str(), max_length); }

// pnpm's depPathToFilename: escape path-hostile characters, flatten the peer suffix with
// underscores, and replace names that are too long or not lower-case by a truncated
// prefix plus a 32-hex-digit sha256.
SlotName SlotName::from_text(std::string_view dep_path, size_t max_length) {
  std::string f;
  if (dep_path.substr(0, 5) == "file:") {
    f = "file+" + std::string(dep_path.substr(5));
  } else {
    if (!dep_path.empty() && dep_path[0] == '/') dep_path.remove_prefix(1);
    f = std::string(dep_path);
  }
  for (char& c : f) {
    switch (c) {
      case '\\': case '/': case ':': case '*': case '?': case '"': case '<': case '>': case '|': case '#':
        c = '+';
        break;
      default: break;
    }
  }
  if (f.find('(') != std::string::npos) {
    if (f.back() == ')') f.pop_back();
    std::string g;
    g.reserve(f.size());
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] == ')' && i + 1 < f.size() && f[i + 1] == '(') {
        g += '_';
        ++i;
      } else if (f[i] == '(' || f[i] == ')') {
        g += '_';
      } else {
        g += f[i];
      }
    }
    f = std::move(g);
  }
  std::string lower = f;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  bool shorten = f.size() > max_length || (f != lower && f.compare(0, 5, "file+") != 0);
  SlotName n;
  if (url_version_needs_hash(dep_path)) {
    // pnpm 12.21 names such a slot by the escaped key, cut at max_length - 33, plus the
    // sha256 of the key as written, even when it is short (measured:
    // leftpad@http://127.0.0.1:48731/leftpad/-/leftpad-1.0.0.tgz ->
    // leftpad@http+++127.0.0.1+48731+leftpad+-+leftpad-1.0.0.tgz_fdbee042...).
    size_t cap = std::min(max_length > 33 ? max_length - 33 : 0, f.size());
    while (cap > 0 && cap < f.size() && (static_cast<unsigned char>(f[cap]) & 0xC0) == 0x80) --cap;
    n.s_ = f.substr(0, cap) + "_" + sha256_hex32(dep_path);
    return n;
  }
  if (!shorten) {
    n.s_ = std::move(f);
  } else {
    size_t cap = max_length > 33 ? max_length - 33 : 0;
    cap = std::min(cap, f.size());
    // Keep a UTF-8 character whole.
    while (cap > 0 && cap < f.size() && (static_cast<unsigned char>(f[cap]) & 0xC0) == 0x80) --cap;
    n.s_ = f.substr(0, cap) + "_" + sha256_hex32(f);
  }
  return n;
}

StoreKey StoreKey::from_integrity(const Integrity& i) {
  std::string h = i.hex();
  StoreKey k;
  k.rel_ = h.substr(0, 2) + "/" + h.substr(2) + "-" + std::string(i.algo_name());
  return k;
}

StoreKey StoreKey::from_url(std::string_view url) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(url.data(), url.size(), md, &len, EVP_sha256(), nullptr);
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned i = 0; i < len; ++i) h += d[md[i] >> 4], h += d[md[i] & 15];
  StoreKey k;
  k.rel_ = h.substr(0, 2) + "/" + h.substr(2) + "-url";
  return k;
}

StoreKey StoreKey::from_git(std::string_view repo, std::string_view commit, std::string_view path) {
  return from_url("git:" + std::string(repo) + "#" + std::string(commit) + "&path:" + std::string(path));
}

}  // namespace tarn
