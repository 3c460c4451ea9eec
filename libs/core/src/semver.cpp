// Just enough semver to evaluate `engines.node` ranges the way pnpm's installability check does.
#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/core/semver.hpp"

namespace tarn {

namespace {

struct Partial {
  std::array<long, 3> v{0, 0, 0};
  int given = 0;  // how many leading parts are concrete (x/X/* or missing are wildcards)
};

bool parse_partial(std::string_view s, Partial& p) {
  while (!s.empty() && (s.front() == 'v' || s.front() == '=' || s.front() == ' ')) s.remove_prefix(1);
  if (s.empty() || s == "*" || s == "x" || s == "X") return true;
  auto dash = s.find_first_of("-+");
  if (dash != std::string_view::npos) s = s.substr(0, dash);  // prerelease/build ignored
  size_t i = 0;
  for (int part = 0; part < 3 && i <= s.size(); ++part) {
    size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view seg = s.substr(i, j - i);
    if (seg == "x" || seg == "X" || seg == "*") return true;
    if (seg.empty()) return part > 0;
    long n = 0;
    for (char c : seg) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      n = n * 10 + (c - '0');
    }
    p.v[part] = n;
    p.given = part + 1;
    i = j + 1;
    if (j == s.size()) break;
  }
  return true;
}

int cmp(const std::array<long, 3>& a, const std::array<long, 3>& b) {
  for (int i = 0; i < 3; ++i)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

// Lower bound (inclusive) and upper bound (exclusive) of a partial "=X.Y".
std::array<long, 3> bump(const Partial& p) {
  std::array<long, 3> u = p.v;
  if (p.given == 0) return {1L << 40, 0, 0};
  u[p.given - 1]++;
  for (int i = p.given; i < 3; ++i) u[i] = 0;
  return u;
}

bool test_comparator(const std::array<long, 3>& ver, std::string_view c) {
  std::string_view op;
  size_t k = 0;
  while (k < c.size() && (c[k] == '<' || c[k] == '>' || c[k] == '=' || c[k] == '^' || c[k] == '~')) ++k;
  op = c.substr(0, k);
  Partial p;
  if (!parse_partial(c.substr(k), p)) return false;
  if (op == "^") {
    if (cmp(ver, p.v) < 0) return false;
    std::array<long, 3> u;
    if (p.v[0] != 0 || p.given <= 1) u = {p.v[0] + 1, 0, 0};
    else if (p.v[1] != 0 || p.given <= 2) u = {0, p.v[1] + 1, 0};
    else u = {0, 0, p.v[2] + 1};
    return cmp(ver, u) < 0;
  }
  if (op == "~" || op == "~>") {
    if (cmp(ver, p.v) < 0) return false;
    std::array<long, 3> u = p.given >= 2 ? std::array<long, 3>{p.v[0], p.v[1] + 1, 0} : std::array<long, 3>{p.v[0] + 1, 0, 0};
    return cmp(ver, u) < 0;
  }
  if (op == ">=") return cmp(ver, p.v) >= 0;
  if (op == ">") return p.given < 3 ? cmp(ver, bump(p)) >= 0 : cmp(ver, p.v) > 0;
  if (op == "<") return cmp(ver, p.v) < 0;
  if (op == "<=") return p.given < 3 ? cmp(ver, bump(p)) < 0 : cmp(ver, p.v) <= 0;
  // "=" or none: an x-range
  return cmp(ver, p.v) >= 0 && (p.given == 3 ? cmp(ver, p.v) == 0 : cmp(ver, bump(p)) < 0);
}

std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  // Glue a lone operator to its version: ">= 0.8" -> ">=0.8".
  std::vector<std::string> glued;
  for (size_t k = 0; k < out.size(); ++k) {
    const auto& t = out[k];
    bool only_op = !t.empty() && t.find_first_not_of("<>=^~") == std::string::npos;
    if (only_op && k + 1 < out.size()) glued.push_back(t + out[++k]);
    else glued.push_back(t);
  }
  return glued;
}

}  // namespace

bool semver_satisfies(std::string_view version, std::string_view range) {
  Partial v;
  if (!parse_partial(version, v)) return false;
  size_t start = 0;
  for (;;) {
    size_t bar = range.find("||", start);
    std::string_view set = range.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    auto toks = tokens(set);
    bool ok = true;
    if (toks.size() == 3 && toks[1] == "-") {  // hyphen range
      Partial hi;
      parse_partial(toks[2], hi);
      ok = test_comparator(v.v, ">=" + toks[0]) &&
           (hi.given == 3 ? cmp(v.v, hi.v) <= 0 : cmp(v.v, bump(hi)) < 0);
    } else {
      for (auto& t : toks)
        if (!test_comparator(v.v, t)) {
          ok = false;
          break;
        }
    }
    if (ok) return true;
    if (bar == std::string_view::npos) return false;
    start = bar + 2;
  }
}

}  // namespace tarn
