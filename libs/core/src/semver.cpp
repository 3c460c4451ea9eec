// node-semver (v7) semantics. node-semver desugars a range by rewriting its text in stages
// (hyphen ranges, operator/space joining, ^ and ~, x-ranges, stars) and only then parses plain
// comparators; its quirks (which odd inputs are valid, what "<=1.x" means) live in that order.
// So this follows the same stages over the text instead of a grammar of its own: the one way
// to be valid on exactly the inputs node-semver is. Every buffer is bounded by the input caps.
//
// Where tarn differs from node-semver 7.8 (non-loose), on purpose:
// - Version::parse also takes the loose "v"/"="/space prefix run ("=1.2.3"); ranges do not.
// - All-digit prerelease identifiers above 2^53 compare exactly, not as JavaScript doubles.
// - Whitespace is ASCII; node-semver also trims and splits on Unicode spaces (U+00A0...).
// - Ranges over 4 KiB are invalid; node-semver has no cap.
// - Validity is that of the parse without includePrerelease. node-semver accepts one garbage
//   form only with includePrerelease: "1 - =2.0.0", a hyphen upper bound written with "=".
#include "tarn/core/semver.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace tarn {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_char(char c) { return is_digit(c) || is_alpha(c) || c == '-'; }
// ASCII only: node-semver also trims Unicode spaces (U+00A0...), which tarn treats as text.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// "0" or a digit run without a leading zero, as semver's numeric identifier.
bool is_number(std::string_view s) { return !s.empty() && all_digits(s) && (s.size() == 1 || s[0] != '0'); }

// Value of a number no larger than MAX_SAFE_INTEGER (16 digits at most, so no overflow).
std::optional<uint64_t> safe_value(std::string_view digits) {
  if (digits.empty() || digits.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) v = v * 10 + uint64_t(c - '0');
  if (v > kSemverMaxSafeInteger) return std::nullopt;
  return v;
}

// Splits "a.b.c" on dots; false when an identifier is empty or has a character outside
// [0-9A-Za-z-] (semver's identifier alphabet, shared by prerelease and build).
bool split_identifiers(std::string_view s, std::vector<std::string_view>& out) {
  for (;;) {
    size_t dot = s.find('.');
    std::string_view id = s.substr(0, dot);
    if (id.empty() || !std::all_of(id.begin(), id.end(), is_ident_char)) return false;
    out.push_back(id);
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

// node-semver's length caps inside a version (its regexes bound each run so that they cannot
// be made slow); they only bite in x-ranges, whose prerelease text is otherwise dropped.
constexpr size_t kMaxDigitRun = 257;
constexpr size_t kMaxIdentifierTail = 250;

// A prerelease is a dot list whose all-digit identifiers have no leading zero.
bool valid_prerelease(std::string_view s) {
  std::vector<std::string_view> ids;
  if (!split_identifiers(s, ids)) return false;
  return std::all_of(ids.begin(), ids.end(), [](std::string_view id) {
    size_t digits = std::find_if_not(id.begin(), id.end(), is_digit) - id.begin();
    if (digits == id.size()) return is_number(id) && digits <= kMaxDigitRun;
    return digits <= kMaxDigitRun - 1 && id.size() - digits - 1 <= kMaxIdentifierTail;
  });
}

// Numeric identifiers compare by value: without leading zeros, a longer one is larger.
// (node-semver compares JavaScript numbers, so it can only differ above 2^53.)
int compare_identifiers(const Version::Identifier& a, const Version::Identifier& b) {
  if (a.numeric != b.numeric) return a.numeric ? -1 : 1;
  if (a.numeric && a.text.size() != b.text.size()) return a.text.size() < b.text.size() ? -1 : 1;
  int c = a.text.compare(b.text);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

}  // namespace

// ---- Version ----------------------------------------------------------------------------

std::optional<Version> Version::parse_strict(std::string_view text) {
  if (text.size() > kSemverMaxVersionLength) return std::nullopt;  // checked before trimming, as node-semver
  std::string_view s = trim(text);
  if (!s.empty() && s.front() == 'v') s.remove_prefix(1);
  Version v;
  size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    std::vector<std::string_view> ids;
    if (!split_identifiers(s.substr(plus + 1), ids)) return std::nullopt;
    v.build_ = std::string(s.substr(plus + 1));
    s = s.substr(0, plus);
  }
  size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    std::string_view pre = s.substr(dash + 1);
    if (!valid_prerelease(pre)) return std::nullopt;
    std::vector<std::string_view> ids;
    split_identifiers(pre, ids);
    for (auto id : ids) v.pre_.push_back(Identifier{std::string(id), all_digits(id)});
    s = s.substr(0, dash);
  }
  std::vector<std::string_view> main;
  if (!split_identifiers(s, main) || main.size() != 3) return std::nullopt;
  uint64_t* parts[3] = {&v.major_, &v.minor_, &v.patch_};
  for (int i = 0; i < 3; ++i) {
    auto n = is_number(main[i]) ? safe_value(main[i]) : std::nullopt;
    if (!n) return std::nullopt;
    *parts[i] = *n;
  }
  return v;
}

std::optional<Version> Version::parse(std::string_view text) {
  if (text.size() > kSemverMaxVersionLength) return std::nullopt;
  std::string_view s = trim(text);
  // The loose prefix run; parse_strict would take one "v" but not "=" or "v=".
  while (!s.empty() && (s.front() == 'v' || s.front() == '=' || is_space(s.front()))) s.remove_prefix(1);
  return parse_strict(s);
}

std::string Version::str() const {
  std::string out = std::to_string(major_) + '.' + std::to_string(minor_) + '.' + std::to_string(patch_);
  for (size_t i = 0; i < pre_.size(); ++i) {
    out += i == 0 ? '-' : '.';
    out += pre_[i].text;
  }
  return out;
}

int Version::compare(const Version& o) const {
  auto main_a = std::tie(major_, minor_, patch_);
  auto main_b = std::tie(o.major_, o.minor_, o.patch_);
  if (main_a != main_b) return main_a < main_b ? -1 : 1;
  // A release is above its prereleases; otherwise identifiers compare left to right and a
  // shorter list that is a prefix of the other is lower.
  if (pre_.empty() || o.pre_.empty()) return pre_.empty() == o.pre_.empty() ? 0 : pre_.empty() ? 1 : -1;
  for (size_t i = 0; i < pre_.size() && i < o.pre_.size(); ++i)
    if (int c = compare_identifiers(pre_[i], o.pre_[i])) return c;
  if (pre_.size() == o.pre_.size()) return 0;
  return pre_.size() < o.pre_.size() ? -1 : 1;
}

// ---- Range: the text stages -------------------------------------------------------------

namespace {

// node-semver's XRANGEPLAIN: a [v=]* prefix, then 1-3 dot-separated parts, each a number, x,
// X or *, and a prerelease only after three parts. Build metadata is stripped before this.
struct XPlain {
  std::string_view part[3];  // empty when absent
  std::string_view pre;      // without the '-'
  int count = 0;
};

bool is_x(std::string_view p) { return p.empty() || p == "x" || p == "X" || p == "*"; }

// Matches the whole of `s` as an XPlain; `spaces_in_prefix` for the hyphen-range form.
std::optional<XPlain> match_xplain(std::string_view s, bool spaces_in_prefix) {
  XPlain x;
  size_t i = 0;
  while (i < s.size() && (s[i] == 'v' || s[i] == '=' || (spaces_in_prefix && s[i] == ' '))) ++i;
  for (;;) {
    size_t j = i;
    if (j < s.size() && (s[j] == 'x' || s[j] == 'X' || s[j] == '*' || s[j] == '0')) {
      ++j;  // a single character: "01" is no number
    } else {
      while (j < s.size() && is_digit(s[j])) ++j;
    }
    if (j == i || j - i > kMaxDigitRun) return std::nullopt;
    x.part[x.count++] = s.substr(i, j - i);
    i = j;
    if (x.count == 3 || i == s.size() || s[i] != '.') break;
    ++i;
  }
  if (x.count == 3 && i < s.size() && s[i] == '-') {
    x.pre = s.substr(i + 1);
    if (!valid_prerelease(x.pre)) return std::nullopt;
    i = s.size();
  }
  if (i != s.size()) return std::nullopt;
  return x;
}

// `n` + 1 as text. A number past MAX_SAFE_INTEGER (already invalid wherever it appears) or
// MAX_SAFE_INTEGER itself gives a number the version parser rejects, as in node-semver.
std::string bump(std::string_view n) {
  auto v = safe_value(n);
  return std::to_string(v ? *v + 1 : kSemverMaxSafeInteger + 1);
}

std::string join3(std::string_view a, std::string_view b, std::string_view c) {
  std::string s(a);
  s += '.';
  s += b;
  s += '.';
  s += c;
  return s;
}

// A dot list of identifier-character runs starting at k; returns its end.
size_t ident_list_end(std::string_view s, size_t k) {
  while (k < s.size() && is_ident_char(s[k])) ++k;
  while (k + 1 < s.size() && s[k] == '.' && is_ident_char(s[k + 1]))
    for (++k; k < s.size() && is_ident_char(s[k]);) ++k;
  return k;
}

// Removes node-semver's BUILD matches ("+" then dot-separated identifiers) everywhere.
std::string strip_builds(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i + 1;
    if (s[i] == '+' && j < s.size() && is_ident_char(s[j])) {
      j = ident_list_end(s, j);
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// "A - B": node-semver's hyphenReplace, or nullopt when `s` is not one.
std::optional<std::string> hyphen_range(std::string_view s, bool inc_pr) {
  // One space may be left at either end where build metadata was stripped ("1 - 2 +b").
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  for (size_t at = s.find(" - "); at != std::string_view::npos; at = s.find(" - ", at + 1)) {
    auto from = match_xplain(s.substr(0, at), true);
    auto to = match_xplain(s.substr(at + 3), true);
    if (!from || !to) continue;
    std::string z = inc_pr ? "-0" : "";
    const auto& f = from->part;
    const auto& t = to->part;
    std::string lo, hi;
    // A fully written bound keeps its text, prefix and all ("v1.2.3", but "=1.2.3" then fails).
    if (is_x(f[0])) lo = "";
    else if (is_x(f[1])) lo = ">=" + join3(f[0], "0", "0") + z;
    else if (is_x(f[2])) lo = ">=" + join3(f[0], f[1], "0") + z;
    else if (!from->pre.empty()) lo = ">=" + std::string(s.substr(0, at));
    else lo = ">=" + std::string(s.substr(0, at)) + z;
    if (is_x(t[0])) hi = "";
    else if (is_x(t[1])) hi = "<" + join3(bump(t[0]), "0", "0") + "-0";
    else if (is_x(t[2])) hi = "<" + join3(t[0], bump(t[1]), "0") + "-0";
    else if (!to->pre.empty()) hi = "<=" + join3(t[0], t[1], t[2]) + "-" + std::string(to->pre);
    else if (inc_pr) hi = "<" + join3(t[0], t[1], bump(t[2])) + "-0";
    else hi = "<=" + std::string(s.substr(at + 3));
    std::string out = lo.empty() || hi.empty() ? lo + hi : lo + " " + hi;
    return out;
  }
  return std::nullopt;
}

bool is_prefix_char(char c) { return c == 'v' || c == '=' || c == ' '; }
bool is_xstart(char c) { return is_digit(c) || c == 'x' || c == 'X' || c == '*'; }

// Where the version text starting at i ends, so that a "v" or "=" inside it is not taken for
// the prefix of another one. Close to node-semver's scan; it only decides where operators may
// start, and operators never occur inside a version.
size_t version_end(std::string_view s, size_t i) {
  size_t k = i;
  int parts = 0;
  while (parts < 3 && k < s.size() && is_xstart(s[k])) {
    if (is_digit(s[k]) && s[k] != '0') {
      while (k < s.size() && is_digit(s[k])) ++k;
    } else {
      ++k;
    }
    if (++parts == 3 || k + 1 >= s.size() || s[k] != '.' || !is_xstart(s[k + 1])) break;
    ++k;
  }
  if (parts == 3 && k < s.size() && (s[k] == '-' || is_alpha(s[k]))) k = ident_list_end(s, k);
  if (k + 1 < s.size() && s[k] == '+' && is_ident_char(s[k + 1])) k = ident_list_end(s, k + 1);
  return std::max(k, i + 1);
}

// node-semver's comparator trim: the space between an operator and its version goes
// ("> 1.2.3" -> ">1.2.3", ">= 1" -> ">=1"). A candidate starts at < or >, or at a v/=/space
// run or a version; the space removed is the one right after its [<>]?=? operator.
std::string join_operators(std::string_view s) {
  std::string out;
  size_t copy_from = 0;
  size_t i = 0;
  auto at = [&](size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < s.size()) {
    size_t start = i;
    if (s[i] == '<' || s[i] == '>') ++i;
    else if (!is_prefix_char(s[i]) && !is_xstart(s[i])) {
      ++i;
      continue;
    }
    while (i < s.size() && is_prefix_char(s[i])) ++i;
    if (!is_xstart(at(i))) continue;
    size_t p = start;
    if (at(p) == ' ') ++p;
    if (at(p) == '<' || at(p) == '>') ++p;
    if (at(p) == '=') ++p;
    if (at(p) == ' ') {
      out.append(s.substr(copy_from, p - copy_from));
      copy_from = p + 1;
    }
    i = version_end(s, i);
  }
  out.append(s.substr(copy_from));
  return out;
}

// "~ 1.2" -> "~1.2", "~> 1.2" -> "~1.2", "^ 1.2" -> "^1.2".
std::string join_lone(std::string_view s, char op) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s[i] != op) continue;
    size_t j = i + 1;
    if (op == '~' && j < s.size() && s[j] == '>') ++j;
    if (j < s.size() && s[j] == ' ') i = j;
  }
  return out;
}


// node-semver's replaceCaret. `z` is "-0" with includePrerelease: the lower bound of a partial
// ("^1.2") then admits that version's prereleases; a fully written one ("^1.2.3") stays exact.
void caret(const XPlain& x, const std::string& z, std::vector<std::string>& out) {
  auto M = x.part[0], m = x.part[1], p = x.part[2];
  std::string pre = x.pre.empty() ? "" : "-" + std::string(x.pre);
  if (is_x(M)) {
    out.emplace_back();
  } else if (is_x(m)) {
    out.push_back(">=" + join3(M, "0", "0") + z);
    out.push_back("<" + join3(bump(M), "0", "0") + "-0");
  } else if (is_x(p)) {
    out.push_back(">=" + join3(M, m, "0") + z);
    out.push_back("<" + (M == "0" ? join3(M, bump(m), "0") : join3(bump(M), "0", "0")) + "-0");
  } else {
    out.push_back(">=" + join3(M, m, p) + pre);
    std::string hi = M != "0" ? join3(bump(M), "0", "0") : m != "0" ? join3(M, bump(m), "0") : join3(M, m, bump(p));
    out.push_back("<" + hi + "-0");
  }
}

// node-semver's replaceTilde: the minor is fixed, or the major when only it is given.
void tilde(const XPlain& x, const std::string& z, std::vector<std::string>& out) {
  auto M = x.part[0], m = x.part[1], p = x.part[2];
  if (is_x(M)) {
    out.emplace_back();
  } else if (is_x(m)) {
    out.push_back(">=" + join3(M, "0", "0") + z);
    out.push_back("<" + join3(bump(M), "0", "0") + "-0");
  } else {
    std::string lo = is_x(p) ? join3(M, m, "0") + z : join3(M, m, p) + (x.pre.empty() ? "" : "-" + std::string(x.pre));
    out.push_back(">=" + lo);
    out.push_back("<" + join3(M, bump(m), "0") + "-0");
  }
}

// node-semver's replaceXRange for an operator and a version with at least one x.
void xrange(std::string op, const XPlain& x, bool inc_pr, std::vector<std::string>& out) {
  std::string M(x.part[0]), m(x.part[1]), p(x.part[2]);
  bool xM = is_x(M), xm = xM || is_x(m);
  if (op == "=") op = "";
  std::string pr = inc_pr ? "-0" : "";
  if (xM) {
    out.push_back(op == ">" || op == "<" ? "<0.0.0-0" : "");  // nothing, or anything
  } else if (!op.empty()) {
    if (xm) m = "0";
    p = "0";
    std::string& last_given = xm ? M : m;
    if (op == ">") {  // ">1" is ">=2.0.0", ">1.2" is ">=1.3.0"
      op = ">=";
      last_given = bump(last_given);
    } else if (op == "<=") {  // "<=1.2" is "<1.3.0-0": any 1.2.x passes
      op = "<";
      last_given = bump(last_given);
    }
    if (op == "<") pr = "-0";
    out.push_back(op + join3(M, m, p) + pr);
  } else if (xm) {
    out.push_back(">=" + join3(M, "0", "0") + pr);
    out.push_back("<" + join3(bump(M), "0", "0") + "-0");
  } else {
    out.push_back(">=" + join3(M, m, "0") + pr);
    out.push_back("<" + join3(M, bump(m), "0") + "-0");
  }
}

// node-semver drops the first "*" (with an operator right before it) from a token that is no
// x-range, which makes "1.2.3*" read as "1.2.3".
std::string drop_first_star(std::string_view tok) {
  size_t k = tok.find('*');
  if (k == std::string_view::npos) return std::string(tok);
  size_t b = k;
  if (b > 0 && tok[b - 1] == '=') --b;
  if (b > 0 && (tok[b - 1] == '<' || tok[b - 1] == '>')) --b;
  return std::string(tok.substr(0, b)) + std::string(tok.substr(k + 1));
}

// One space-free token of an alternative, as node-semver's parseComparator: comparator texts
// appended to `out` ("" is "any version"). Text that is none of the forms is passed on as is
// and fails when parsed as a comparator.
void desugar_token(std::string_view tok, bool inc_pr, std::vector<std::string>& out) {
  std::string z = inc_pr ? "-0" : "";
  if (!tok.empty() && tok[0] == '^') {
    if (auto x = match_xplain(tok.substr(1), false)) return caret(*x, z, out);
  } else if (!tok.empty() && tok[0] == '~') {
    std::string_view rest = tok.substr(tok.size() > 1 && tok[1] == '>' ? 2 : 1);
    if (auto x = match_xplain(rest, false)) return tilde(*x, z, out);
  } else {
    size_t n = tok.size() > 0 && (tok[0] == '<' || tok[0] == '>') ? 1 : 0;
    if (n < tok.size() && tok[n] == '=') ++n;
    if (auto x = match_xplain(tok.substr(n), false)) {
      const auto& part = x->part;
      bool bad_order = (is_x(part[0]) && !is_x(part[1])) || (is_x(part[1]) && !part[2].empty() && !is_x(part[2]));
      bool any_x = is_x(part[0]) || is_x(part[1]) || is_x(part[2]);
      if (!bad_order && any_x) return xrange(std::string(tok.substr(0, n)), *x, inc_pr, out);
      if (!bad_order) {  // a plain comparator, kept as written
        out.emplace_back(tok);
        return;
      }
    }
  }
  out.push_back(drop_first_star(tok));
}

std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  for (size_t at; (at = s.find(sep)) != std::string_view::npos; s.remove_prefix(at + sep.size()))
    out.push_back(s.substr(0, at));
  out.push_back(s);
  return out;
}

// Trimmed, with every whitespace run made one space, as node-semver's Range does first.
std::string collapse_spaces(std::string_view s) {
  std::string out;
  for (char c : trim(s)) {
    if (!is_space(c)) out += c;
    else if (!out.empty() && out.back() != ' ')
      out += ' ';
  }
  return out;
}

}  // namespace

// ---- Range: comparators and sets --------------------------------------------------------

bool Range::Comparator::test(const Version& x) const {
  if (op == Op::Any) return true;
  int c = x.compare(v);
  switch (op) {
    case Op::Eq: return c == 0;
    case Op::Lt: return c < 0;
    case Op::Le: return c <= 0;
    case Op::Gt: return c > 0;
    case Op::Ge: return c >= 0;
    case Op::Any: break;
  }
  return true;
}

std::string Range::Comparator::str() const {
  static constexpr std::string_view names[] = {"", "", "<", "<=", ">", ">="};
  return op == Op::Any ? std::string() : std::string(names[int(op)]) + v.str();
}

// node-semver's COMPARATOR: an operator, then a strict version ("v" allowed), or nothing.
std::optional<Range::Comparator> Range::parse_comparator(std::string_view text) {
  Comparator c;
  if (text.empty()) return c;
  size_t n = text[0] == '<' || text[0] == '>' ? 1 : 0;
  if (n < text.size() && text[n] == '=') ++n;
  std::string_view op = text.substr(0, n);
  c.op = op == "<" ? Comparator::Op::Lt
         : op == "<=" ? Comparator::Op::Le
         : op == ">" ? Comparator::Op::Gt
         : op == ">=" ? Comparator::Op::Ge
                      : Comparator::Op::Eq;
  std::string_view rest = text.substr(n);
  if (rest.empty() || is_space(rest.front())) return std::nullopt;  // parse_strict would trim
  auto v = Version::parse_strict(rest);
  if (!v) return std::nullopt;
  c.v = std::move(*v);
  return c;
}

// One "||" alternative, as node-semver's parseRange.
std::optional<Range::Set> Range::parse_alternative(std::string_view part, bool inc_pr) {
  std::string s = strip_builds(part);
  if (auto h = hyphen_range(s, inc_pr)) s = std::move(*h);
  s = join_lone(join_lone(join_operators(s), '~'), '^');
  std::vector<std::string> texts;
  for (auto tok : split(s, " ")) desugar_token(tok, inc_pr, texts);
  Set set;
  for (auto& t : texts) {
    // ">=0.0.0" is "any version" (">=0.0.0-0" with includePrerelease), as in node-semver.
    if (t == (inc_pr ? ">=0.0.0-0" : ">=0.0.0")) t.clear();
    auto c = parse_comparator(t);
    if (!c) return std::nullopt;
    set.push_back(std::move(*c));
  }
  // "<0.0.0-0" matches nothing, and makes the whole alternative match nothing.
  for (auto& c : set)
    if (c.str() == "<0.0.0-0") return Set{c};
  Set unique;
  for (auto& c : set) {
    auto same = [&](const Comparator& u) { return u.str() == c.str(); };
    if (std::none_of(unique.begin(), unique.end(), same)) unique.push_back(c);
  }
  if (unique.size() > 1)
    std::erase_if(unique, [](const Comparator& c) { return c.op == Comparator::Op::Any; });
  return unique;
}

std::optional<std::vector<Range::Set>> Range::parse_sets(std::string_view text, bool inc_pr) {
  std::string raw = collapse_spaces(text);
  std::vector<Set> sets;
  for (auto part : split(raw, "||")) {
    auto set = parse_alternative(trim(part), inc_pr);
    if (!set) return std::nullopt;
    sets.push_back(std::move(*set));
  }
  // As node-semver: alternatives that match nothing go (unless all do), and an "any version"
  // alternative replaces the rest, so "* || 1.2.3-rc.1" does not admit 1.2.3-rc.1.
  auto is_null = [](const Set& s) { return s[0].str() == "<0.0.0-0"; };
  if (sets.size() > 1) {
    Set first = sets[0];
    std::erase_if(sets, is_null);
    if (sets.empty()) sets.push_back(std::move(first));
    for (auto& s : sets)
      if (s.size() == 1 && s[0].op == Comparator::Op::Any) {
        sets = {s};
        break;
      }
  }
  return sets;
}

std::optional<Range> Range::parse(std::string_view s) {
  if (s.size() > kSemverMaxRangeLength) return std::nullopt;
  auto sets = parse_sets(s, false);
  if (!sets) return std::nullopt;
  Range r;
  r.sets_ = std::move(*sets);
  r.sets_with_prerelease_ = parse_sets(s, true);
  return r;
}

bool Range::test_set(const Set& set, const Version& v, bool inc_pr) {
  for (auto& c : set)
    if (!c.test(v)) return false;
  if (!v.is_prerelease() || inc_pr) return true;
  // A prerelease passes only where the range names a prerelease of the same major.minor.patch:
  // "^1.2.3-rc.1" admits 1.2.3-rc.2 but not 1.2.4-alpha.
  return std::any_of(set.begin(), set.end(), [&](const Comparator& c) {
    return c.op != Comparator::Op::Any && c.v.is_prerelease() && c.v.major() == v.major() &&
           c.v.minor() == v.minor() && c.v.patch() == v.patch();
  });
}

bool Range::satisfies(const Version& v, bool include_prerelease) const {
  const auto* sets = include_prerelease ? (sets_with_prerelease_ ? &*sets_with_prerelease_ : nullptr) : &sets_;
  if (!sets) return false;
  return std::any_of(sets->begin(), sets->end(), [&](const Set& s) { return test_set(s, v, include_prerelease); });
}

std::string Range::str() const {
  std::string out;
  for (size_t i = 0; i < sets_.size(); ++i) {
    if (i > 0) out += "||";
    for (size_t k = 0; k < sets_[i].size(); ++k) {
      if (k > 0) out += ' ';
      out += sets_[i][k].str();
    }
  }
  return out;
}

namespace {

// One comparator set as an interval of versions; no bound = unbounded.
struct Interval {
  std::optional<Version> lo, hi;
  bool lo_incl = true, hi_incl = true;
};

void tighten_lo(Interval& iv, const Version& v, bool incl) {
  int c = iv.lo ? v.compare(*iv.lo) : 1;
  if (c > 0 || (c == 0 && !incl)) iv.lo = v, iv.lo_incl = incl;
}

void tighten_hi(Interval& iv, const Version& v, bool incl) {
  int c = iv.hi ? v.compare(*iv.hi) : -1;
  if (c < 0 || (c == 0 && !incl)) iv.hi = v, iv.hi_incl = incl;
}

bool nonempty(const Interval& iv) {
  if (!iv.lo || !iv.hi) return true;
  int c = iv.lo->compare(*iv.hi);
  return c < 0 || (c == 0 && iv.lo_incl && iv.hi_incl);
}

}  // namespace

bool Range::intersects(const Range& other) const {
  auto interval = [](const Set& set, Interval iv) {
    using Op = Comparator::Op;
    for (auto& c : set) {
      if (c.op == Op::Ge || c.op == Op::Gt || c.op == Op::Eq) tighten_lo(iv, c.v, c.op != Op::Gt);
      if (c.op == Op::Le || c.op == Op::Lt || c.op == Op::Eq) tighten_hi(iv, c.v, c.op != Op::Lt);
    }
    return iv;
  };
  for (auto& a : sets_)
    for (auto& b : other.sets_)
      if (nonempty(interval(b, interval(a, Interval{})))) return true;
  return false;
}

// ---- helpers ----------------------------------------------------------------------------

namespace {

// The best satisfying version by `better`; the first wins among equals, as in node-semver.
template <class Better>
const Version* best_satisfying(std::span<const Version> versions, const Range& range, bool inc_pr, Better better) {
  const Version* best = nullptr;
  for (auto& v : versions)
    if (range.satisfies(v, inc_pr) && (!best || better(v.compare(*best)))) best = &v;
  return best;
}

}  // namespace

const Version* max_satisfying(std::span<const Version> versions, const Range& range, bool include_prerelease) {
  return best_satisfying(versions, range, include_prerelease, [](int c) { return c > 0; });
}

const Version* min_satisfying(std::span<const Version> versions, const Range& range, bool include_prerelease) {
  return best_satisfying(versions, range, include_prerelease, [](int c) { return c < 0; });
}

bool semver_satisfies(std::string_view version, std::string_view range) {
  // pnpm's engines check: semver.satisfies(current, wanted, { includePrerelease: true }).
  auto v = Version::parse(version);
  auto r = v ? Range::parse(range) : std::nullopt;
  return r && r->satisfies(*v, true);
}

}  // namespace tarn
