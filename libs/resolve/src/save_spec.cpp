#include "tarn/resolve/save_spec.hpp"

#include <cctype>

namespace tarn::resolve {

namespace {

std::string_view prefix(RangeStyle s) {
  switch (s) {
    case RangeStyle::Major:
    case RangeStyle::None: return "^";
    case RangeStyle::Minor: return "~";
    case RangeStyle::Patch: return "";
    case RangeStyle::Exact: return "=";
  }
  return "^";
}

struct Comparator {
  enum class Op { None, Caret, Tilde, Eq, Other } op = Op::None;
  int parts = 0;  // how many of major.minor.patch are written
};

// One comparator at `pos` ("(~?[<>]?|^?)=?\s*v?N(.N(.N)?)?" with x/* parts), or nothing.
std::optional<Comparator> comparator_at(std::string_view s, size_t& pos) {
  size_t i = pos;
  Comparator c;
  if (i < s.size() && s[i] == '^') {
    c.op = Comparator::Op::Caret;
    ++i;
  } else {
    bool tilde = i < s.size() && s[i] == '~';
    if (tilde) ++i;
    bool angle = i < s.size() && (s[i] == '<' || s[i] == '>');
    if (angle) ++i;
    c.op = tilde && !angle ? Comparator::Op::Tilde : (tilde || angle) ? Comparator::Op::Other : Comparator::Op::None;
  }
  if (i < s.size() && s[i] == '=') {
    c.op = c.op == Comparator::Op::None ? Comparator::Op::Eq : Comparator::Op::Other;
    ++i;
  }
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == 'v') ++i;
  auto part = [&] {
    size_t b = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == 'x' || s[i] == 'X' || s[i] == '*')) ++i;
    return i > b;
  };
  if (!part()) return std::nullopt;
  c.parts = 1;
  while (c.parts < 3 && i + 1 < s.size() && s[i] == '.' && (i++, part())) ++c.parts;
  // A prerelease or build tail belongs to the comparator.
  while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '|') ++i;
  pos = i;
  return c;
}

}  // namespace

std::optional<RangeStyle> infer_range_style(std::string_view spec) {
  if (spec.substr(0, 8) == "catalog:") return std::nullopt;
  if (auto c = spec.find(':'); c != std::string_view::npos) spec = spec.substr(c + 1);
  if (auto a = spec.rfind('@'); a != std::string_view::npos) spec = spec.substr(a + 1);
  if (spec == "*") return RangeStyle::None;
  std::optional<Comparator> last;
  int elements = 0;
  for (size_t pos = 0; pos < spec.size();) {
    if (spec.substr(pos, 2) == "||") {
      ++elements;
      pos += 2;
    } else if (spec[pos] == '-') {
      ++elements;
      ++pos;
    } else if (auto c = comparator_at(spec, pos)) {
      ++elements;
      last = c;
    } else {
      ++pos;
    }
    if (elements > 1) return std::nullopt;
  }
  if (!last) return std::nullopt;
  using Op = Comparator::Op;
  switch (last->op) {
    case Op::Tilde: return RangeStyle::Minor;
    case Op::Caret: return RangeStyle::Major;
    case Op::Other: return std::nullopt;
    case Op::Eq:
      if (last->parts == 3) return RangeStyle::Exact;
      [[fallthrough]];
    case Op::None:
      if (last->parts == 3) return RangeStyle::Patch;
      if (last->parts == 2) return RangeStyle::Minor;
      return RangeStyle::Major;
  }
  return std::nullopt;
}

std::string version_range(const Version& v, std::optional<RangeStyle> prev, std::optional<RangeStyle> requested,
                          RangeStyle default_style) {
  if (v.is_prerelease()) return prev ? std::string(prefix(*prev)) + v.str() : v.str();
  RangeStyle s = prev ? *prev : requested ? *requested : default_style;
  return std::string(prefix(s)) + v.str();
}

RangeStyle style_of_prefix(std::string_view p) {
  if (p == "~") return RangeStyle::Minor;
  if (p == "=") return RangeStyle::Exact;
  if (p.empty()) return RangeStyle::Patch;
  return RangeStyle::Major;
}

}  // namespace tarn::resolve
