// The pnpm-lock.yaml emitter: a port of pnpm 12's pnpm/crates/lockfile/src/yaml_emit.rs
// (key sort + @zkochan/js-yaml dumper). Function names follow the Rust ones so the two
// can be read side by side; every rule here is pnpm's, none is tarn's.
#include <algorithm>
#include <array>
#include <optional>

#include "tarn/lockfile/yaml_value.hpp"

namespace tarn {

YamlValue::YamlValue() = default;
YamlValue::~YamlValue() = default;
YamlValue::YamlValue(const YamlValue&) = default;
YamlValue::YamlValue(YamlValue&&) noexcept = default;
YamlValue& YamlValue::operator=(const YamlValue&) = default;
YamlValue& YamlValue::operator=(YamlValue&&) noexcept = default;
YamlValue YamlValue::null() { return {}; }
void YamlValue::push(YamlValue v) { items.push_back(std::move(v)); }

YamlValue YamlValue::boolean(bool b) {
  YamlValue v;
  v.kind = Kind::Bool;
  v.flag = b;
  return v;
}

YamlValue YamlValue::number(std::string digits) {
  YamlValue v;
  v.kind = Kind::Number;
  v.text = std::move(digits);
  return v;
}

YamlValue YamlValue::string(std::string s) {
  YamlValue v;
  v.kind = Kind::String;
  v.text = std::move(s);
  return v;
}

YamlValue YamlValue::seq() {
  YamlValue v;
  v.kind = Kind::Seq;
  return v;
}

YamlValue YamlValue::map() {
  YamlValue v;
  v.kind = Kind::Map;
  return v;
}

YamlValue YamlValue::string_list(const std::vector<std::string>& xs) {
  YamlValue v = seq();
  v.items.reserve(xs.size());
  for (auto& x : xs) v.items.push_back(string(x));
  return v;
}

YamlValue& YamlValue::add(std::string key, YamlValue v) {
  entries.emplace_back(std::move(key), std::move(v));
  return entries.back().second;
}

const YamlValue* YamlValue::get(std::string_view key) const {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

YamlValue* YamlValue::get(std::string_view key) {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

bool YamlValue::operator==(const YamlValue& o) const {
  return kind == o.kind && flag == o.flag && text == o.text && items == o.items && entries == o.entries;
}

namespace lockyaml {
namespace {

constexpr size_t kIndent = 2;

// Keys whose collection value always renders on one line (flow style).
constexpr std::array<std::string_view, 4> kSingleLineKeys{"cpu", "engines", "os", "libc"};

// Per-package / per-snapshot key priority (pnpm's lockfile key sort).
constexpr std::array<std::string_view, 20> kOrderedKeys{
    "resolution",   "id",           "name",          "version",          "engines",
    "cpu",          "os",           "libc",          "deprecated",       "hasBin",
    "prepare",      "requiresBuild", "bundleDependencies", "peerDependencies", "peerDependenciesMeta",
    "dependencies", "optionalDependencies", "transitivePeerDependencies", "dev", "optional"};

// Root-key priority.
constexpr std::array<std::string_view, 9> kRootKeys{"lockfileVersion",  "settings",
                                                    "catalogs",         "overrides",
                                                    "packageExtensionsChecksum", "pnpmfileChecksum",
                                                    "patchedDependencies", "importers",
                                                    "packages"};

// YAML caps a simple key at 1024 characters (js-yaml counts UTF-16 code units).
constexpr size_t kExplicitKeyThreshold = 1024;

// ---------------------------------------------------------------- key sort

// Prioritised keys first in priority order, the rest in plain byte order. An empty
// priority list is the plain byte order.
struct Order {
  const std::string_view* priority = nullptr;
  size_t count = 0;
  size_t rank(std::string_view key) const {
    for (size_t i = 0; i < count; ++i)
      if (priority[i] == key) return i;
    return count;
  }
};

constexpr Order kLex{};
constexpr Order kEntryOrder{kOrderedKeys.data(), kOrderedKeys.size()};
constexpr Order kRootOrder{kRootKeys.data(), kRootKeys.size()};

void sort_value(YamlValue& v, const Order& o);

void sort_map(YamlValue& map, const Order& o, bool deep) {
  auto& e = map.entries;
  if (e.size() > 1) {
    // Each key's rank is looked up once, not once per comparison.
    std::vector<std::pair<size_t, size_t>> keyed(e.size());  // (rank, index)
    for (size_t i = 0; i < e.size(); ++i) keyed[i] = {o.count ? o.rank(e[i].first) : 0, i};
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return a.first == o.count && e[a.second].first < e[b.second].first;
    });
    std::vector<std::pair<std::string, YamlValue>> sorted;
    sorted.reserve(e.size());
    for (auto& [rank, i] : keyed) sorted.push_back(std::move(e[i]));
    e = std::move(sorted);
  }
  if (deep)
    for (auto& [k, v] : e) sort_value(v, o);
}

// Mirrors the `deep` option of the sort-keys package: nested maps are sorted, arrays are
// walked but keep their order.
void sort_value(YamlValue& v, const Order& o) {
  if (v.kind == YamlValue::Kind::Map) sort_map(v, o, true);
  else if (v.kind == YamlValue::Kind::Seq)
    for (auto& item : v.items) sort_value(item, o);
}

}  // namespace

YamlValue sort_lockfile_keys(YamlValue root) {
  if (!root.is_map()) return root;
  for (auto [section, order] : {std::pair{"importers", &kRootOrder}, std::pair{"packages", &kEntryOrder},
                                std::pair{"snapshots", &kEntryOrder}}) {
    YamlValue* s = root.get(section);
    if (!s || !s->is_map()) continue;
    sort_map(*s, kLex, false);
    for (auto& [k, entry] : s->entries)
      if (entry.is_map()) sort_map(entry, *order, true);
  }
  if (YamlValue* c = root.get("catalogs"); c && c->is_map()) {
    sort_map(*c, kLex, false);
    for (auto& [k, v] : c->entries) sort_value(v, kLex);
  }
  for (const char* section : {"time", "patchedDependencies"})
    if (YamlValue* s = root.get(section); s && s->is_map()) sort_map(*s, kLex, false);
  sort_map(root, kRootOrder, false);
  return root;
}

namespace {

// ---------------------------------------------------------------- scalars

constexpr uint32_t kTab = 0x09, kLineFeed = 0x0A, kCarriageReturn = 0x0D, kSpace = 0x20, kSharp = 0x23,
                   kColon = 0x3A, kComma = 0x2C, kBom = 0xFEFF, kNone = 0xFFFFFFFF;

struct Char {
  uint32_t cp;
  size_t pos, len;  // the bytes it was decoded from
};

// UTF-8 to code points. A byte that starts no valid sequence stands for itself (Rust
// strings are always valid UTF-8, so pnpm never sees one).
std::vector<Char> decode(std::string_view s) {
  std::vector<Char> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c >> 6) == 2;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) n = 1, cp = b;
    out.push_back({cp, i, n});
    i += n;
  }
  return out;
}

size_t utf16_length(std::string_view s) {
  size_t n = 0;
  for (auto& c : decode(s)) n += c.cp >= 0x10000 ? 2 : 1;
  return n;
}

bool is_whitespace(uint32_t c) { return c == kSpace || c == kTab; }

bool is_printable(uint32_t c) {
  return (c >= 0x20 && c <= 0x7E) || (c >= 0xA1 && c <= 0xD7FF && c != 0x2028 && c != 0x2029) ||
         (c >= 0xE000 && c <= 0xFFFD && c != kBom) || (c >= 0x10000 && c <= 0x10FFFF);
}

bool is_ns_char_or_whitespace(uint32_t c) {
  return is_printable(c) && c != kBom && c != kCarriageReturn && c != kLineFeed;
}

bool is_plain_safe_first(uint32_t c) {
  static constexpr std::string_view kIndicators = "-?:,[]{}#&*!|=>'\"%@`";
  return is_printable(c) && c != kBom && !is_whitespace(c) &&
         !(c < 0x80 && kIndicators.find(static_cast<char>(c)) != std::string_view::npos);
}

bool is_plain_safe_last(uint32_t c) { return !is_whitespace(c) && c != kColon; }

bool is_plain_safe(uint32_t c, uint32_t prev, bool in_block) {
  bool c_ns_or_ws = is_ns_char_or_whitespace(c);
  bool c_ns = c_ns_or_ws && !is_whitespace(c);
  bool base = in_block ? c_ns_or_ws
                       : c_ns_or_ws && c != kComma && c != '[' && c != ']' && c != '{' && c != '}';
  bool prev_is_colon = prev == kColon;
  bool prev_is_ns = prev != kNone && is_ns_char_or_whitespace(prev) && !is_whitespace(prev);
  if (prev_is_ns && c == kSharp) return true;  // '[^ ]#'
  if (prev_is_colon && c_ns) return true;      // ':[^ ]'
  return base && c != kSharp && (!prev_is_colon || c_ns);
}

enum class Style { Plain, Single, Double, Literal };

Style choose_scalar_style(std::string_view s, const std::vector<Char>& chars, bool single_line_only, bool in_block) {
  bool plain = is_plain_safe_first(chars.front().cp) && is_plain_safe_last(chars.back().cp);
  bool has_line_break = false;
  uint32_t prev = kNone;
  for (auto& ch : chars) {
    if (!single_line_only && ch.cp == kLineFeed) has_line_break = true;
    else if (!is_printable(ch.cp)) return Style::Double;
    plain = plain && is_plain_safe(ch.cp, prev, in_block);
    prev = ch.cp;
  }
  if (!has_line_break) return plain && !resolves_implicitly(s) ? Style::Plain : Style::Single;
  return Style::Literal;
}

std::string_view escape_sequence(uint32_t c) {
  switch (c) {
    case 0x00: return "\\0";
    case 0x07: return "\\a";
    case 0x08: return "\\b";
    case 0x09: return "\\t";
    case 0x0A: return "\\n";
    case 0x0B: return "\\v";
    case 0x0C: return "\\f";
    case 0x0D: return "\\r";
    case 0x1B: return "\\e";
    case 0x22: return "\\\"";
    case 0x5C: return "\\\\";
    case 0x85: return "\\N";
    case 0xA0: return "\\_";
    case 0x2028: return "\\L";
    case 0x2029: return "\\P";
    default: return {};
  }
}

std::string encode_hex(uint32_t c) {
  static const char* digits = "0123456789ABCDEF";
  char handle = c <= 0xFF ? 'x' : c <= 0xFFFF ? 'u' : 'U';
  int width = c <= 0xFF ? 2 : c <= 0xFFFF ? 4 : 8;
  std::string out = {'\\', handle};
  for (int i = width - 1; i >= 0; --i) out += digits[(c >> (4 * i)) & 15];
  return out;
}

std::string escape_string(std::string_view s, const std::vector<Char>& chars) {
  std::string out;
  for (auto& ch : chars) {
    if (auto seq = escape_sequence(ch.cp); !seq.empty()) out += seq;
    else if (is_printable(ch.cp)) out.append(s.substr(ch.pos, ch.len));
    else out += encode_hex(ch.cp);
  }
  return out;
}

std::string block_header(std::string_view s) {
  size_t first = s.find_first_not_of('\n');
  bool indicator = first != std::string_view::npos && s[first] == ' ';
  bool clip = !s.empty() && s.back() == '\n';
  bool keep = clip && ((s.size() >= 2 && s[s.size() - 2] == '\n') || s == "\n");
  return std::string(indicator ? "2" : "") + (keep ? "+" : clip ? "" : "-") + "\n";
}

// js-yaml's indentString: every line but an empty one gets the indent.
std::string indent_string(std::string_view s, size_t spaces) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t nl = s.find('\n', i);
    size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
    std::string_view line = s.substr(i, end - i);
    if (!line.empty() && line != "\n") out.append(spaces, ' ');
    out.append(line);
    i = end;
  }
  return out;
}

bool digits_match(std::string_view b, bool (*pred)(char)) {
  bool has = false;
  char last = 0;
  for (char c : b) {
    last = c;
    if (c == '_') continue;
    if (!pred(c)) return false;
    has = true;
  }
  return has && last != '_';
}

bool is_dec(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_bin(char c) { return c == '0' || c == '1'; }
bool is_oct(char c) { return c >= '0' && c <= '7'; }

// js-yaml type/int.js resolveYamlInteger.
bool resolves_int(std::string_view b) {
  size_t i = 0;
  if (b.empty()) return false;
  if (b[i] == '-' || b[i] == '+') ++i;
  if (i >= b.size()) return false;
  if (b[i] == '0') {
    if (i + 1 == b.size()) return true;
    ++i;
    if (b[i] == 'b') return digits_match(b.substr(i + 1), is_bin);
    if (b[i] == 'x') return digits_match(b.substr(i + 1), is_hex);
    if (b[i] == 'o') return digits_match(b.substr(i + 1), is_oct);
  }
  if (b[i] == '_') return false;
  return digits_match(b.substr(i), is_dec);
}

bool exponent_consumes_all(std::string_view t) {
  if (t.empty()) return true;
  if (t[0] != 'e' && t[0] != 'E') return false;
  t.remove_prefix(1);
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
  return !t.empty() && std::all_of(t.begin(), t.end(), is_dec);
}

size_t span_of(std::string_view s, bool (*pred)(char)) {
  size_t n = 0;
  while (n < s.size() && pred(s[n])) ++n;
  return n;
}

bool is_dec_or_underscore(char c) { return is_dec(c) || c == '_'; }

// js-yaml type/float.js YAML_FLOAT_PATTERN, as pnpm 12 ports it.
bool float_matches(std::string_view s) {
  bool sign = !s.empty() && (s[0] == '-' || s[0] == '+');
  std::string_view body = sign ? s.substr(1) : s;
  if (body == ".inf" || body == ".Inf" || body == ".INF" || s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  if (!body.empty() && body[0] == '.') {
    if (sign) return false;
    std::string_view after = body.substr(1);
    size_t e = after.find_first_of("eE");
    std::string_view mantissa = after.substr(0, e);
    bool exp_ok = e == std::string_view::npos || exponent_consumes_all(after.substr(e));
    return !mantissa.empty() && std::all_of(mantissa.begin(), mantissa.end(), is_dec_or_underscore) && exp_ok;
  }
  if (body.empty() || !is_dec(body[0])) return false;
  body.remove_prefix(span_of(body, is_dec_or_underscore));
  if (!body.empty() && body[0] == '.') {
    body.remove_prefix(1);
    body.remove_prefix(span_of(body, is_dec_or_underscore));
  }
  return exponent_consumes_all(body);
}

bool resolves_float(std::string_view s) { return !(!s.empty() && s.back() == '_') && float_matches(s); }

bool take_digits(std::string_view b, size_t& i, size_t min, size_t max) {
  size_t start = i;
  while (i < b.size() && i - start < max && is_dec(b[i])) ++i;
  return i - start >= min;
}

bool matches_date(std::string_view b) {
  if (b.size() != 10 || b[4] != '-' || b[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!is_dec(b[i])) return false;
  return true;
}

// js-yaml type/timestamp.js YAML_TIMESTAMP_REGEXP, as pnpm 12 ports it (trailing blanks
// without a zone are accepted, as in the port).
bool matches_timestamp(std::string_view b) {
  size_t i = 0;
  auto at = [&](char c) { return i < b.size() && b[i] == c; };
  if (!take_digits(b, i, 4, 4) || !at('-')) return false;
  ++i;
  if (!take_digits(b, i, 1, 2) || !at('-')) return false;
  ++i;
  if (!take_digits(b, i, 1, 2)) return false;
  if (at('T') || at('t')) ++i;
  else if (at(' ') || at('\t'))
    while (at(' ') || at('\t')) ++i;
  else return false;
  if (!take_digits(b, i, 1, 2) || !at(':')) return false;
  ++i;
  if (!take_digits(b, i, 2, 2) || !at(':')) return false;
  ++i;
  if (!take_digits(b, i, 2, 2)) return false;
  if (at('.')) {
    ++i;
    while (i < b.size() && is_dec(b[i])) ++i;
  }
  while (at(' ') || at('\t')) ++i;
  if (i == b.size()) return true;
  if (at('Z')) ++i;
  else if (at('-') || at('+')) {
    ++i;
    if (!take_digits(b, i, 1, 2)) return false;
    if (at(':')) {
      ++i;
      if (!take_digits(b, i, 2, 2)) return false;
    }
  } else return false;
  return i == b.size();
}

}  // namespace

bool resolves_implicitly(std::string_view s) {
  return s == "~" || s == "null" || s == "Null" || s == "NULL" || s == "true" || s == "True" || s == "TRUE" ||
         s == "false" || s == "False" || s == "FALSE" || resolves_int(s) || resolves_float(s) || matches_date(s) ||
         matches_timestamp(s) || s == "<<";
}

YamlValue plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return YamlValue::null();
  if (s == "true" || s == "True" || s == "TRUE") return YamlValue::boolean(true);
  if (s == "false" || s == "False" || s == "FALSE") return YamlValue::boolean(false);
  if (resolves_int(s) || resolves_float(s)) return YamlValue::number(s);
  return YamlValue::string(s);
}

std::string scalar(std::string_view s, size_t level, bool single_line, bool in_block) {
  if (s.empty()) return "''";
  auto chars = decode(s);
  switch (choose_scalar_style(s, chars, single_line, in_block)) {
    case Style::Plain: return std::string(s);
    case Style::Single: {
      std::string out = "'";
      for (char c : s) out += c == '\'' ? std::string_view("''") : std::string_view(&c, 1);
      return out + "'";
    }
    case Style::Double: return "\"" + escape_string(s, chars) + "\"";
    case Style::Literal: {
      std::string body = indent_string(s, kIndent * std::max<size_t>(level, 1));
      if (!body.empty() && body.back() == '\n') body.pop_back();
      return "|" + block_header(s) + body;
    }
  }
  return std::string(s);
}

namespace {

// ---------------------------------------------------------------- collections

bool is_single_line_key(std::string_view key) {
  return std::find(kSingleLineKeys.begin(), kSingleLineKeys.end(), key) != kSingleLineKeys.end();
}

// `resolution` is one line except the nested variations/binary shapes.
bool is_single_line_map(std::optional<std::string_view> key, const YamlValue& map) {
  if (!key) return false;
  if (is_single_line_key(*key)) return true;
  if (*key != "resolution") return false;
  const YamlValue* t = map.get("type");
  bool nested = t && t->kind == YamlValue::Kind::String && (t->text == "variations" || t->text == "binary");
  return !nested;
}

std::string next_line(size_t level, bool double_line) {
  std::string line = double_line ? "\n\n" : "\n";
  line.append(kIndent * level, ' ');
  return line;
}

std::string render(const YamlValue& v, size_t level, bool block, bool compact, std::optional<std::string_view> key,
                   bool force_single_line);

std::string write_block_mapping(const YamlValue& map, size_t level, bool compact, bool double_line) {
  std::string out;
  for (auto& [k, v] : map.entries) {
    if (!compact || !out.empty()) out += next_line(level, double_line);
    std::string rendered_key = scalar(k, level + 1, true, true);
    bool explicit_pair = utf16_length(rendered_key) > kExplicitKeyThreshold;
    if (explicit_pair) {
      out += "? ";
      out += rendered_key;
      out += next_line(level, false);
    } else {
      out += rendered_key;
    }
    std::string rendered = render(v, level + 1, true, explicit_pair, k, false);
    out += ':';
    if (rendered.empty() || rendered[0] != '\n') out += ' ';
    out += rendered;
  }
  return out.empty() ? "{}" : out;
}

std::string write_block_sequence(const YamlValue& seq, size_t level, bool compact) {
  std::string out;
  for (auto& item : seq.items) {
    std::string rendered = render(item, level + 1, true, true, std::nullopt, false);
    if (!compact || !out.empty()) out += next_line(level, false);
    out += '-';
    if (rendered.empty() || rendered[0] != '\n') out += ' ';
    out += rendered;
  }
  return out.empty() ? "[]" : out;
}

std::string write_flow_mapping(const YamlValue& map, size_t level, bool single_line) {
  std::string out = "{";
  for (auto& [k, v] : map.entries) {
    if (out.size() > 1) out += ", ";
    out += scalar(k, level, single_line, false);
    out += ": ";
    out += render(v, level, false, false, std::nullopt, single_line);
  }
  return out + "}";
}

std::string write_flow_sequence(const YamlValue& seq, size_t level) {
  std::string out = "[";
  for (auto& item : seq.items) {
    if (out.size() > 1) out += ", ";
    out += render(item, level, false, false, std::nullopt, false);
  }
  return out + "]";
}

// js-yaml's writeNode. `compact`: the first child of a block collection sits on the line
// of its key; `key`: the map key this value is bound to (single-line and blank-line rules).
std::string render(const YamlValue& v, size_t level, bool block, bool compact, std::optional<std::string_view> key,
                   bool force_single_line) {
  switch (v.kind) {
    case YamlValue::Kind::Map: {
      bool single_line = is_single_line_map(key, v);
      if (block && !v.entries.empty() && !single_line) {
        bool double_line = level == 0 || (key && (*key == "packages" || *key == "importers" || *key == "snapshots"));
        return write_block_mapping(v, level, compact, double_line);
      }
      return write_flow_mapping(v, level, single_line);
    }
    case YamlValue::Kind::Seq: {
      bool single_line = key && is_single_line_key(*key);
      if (block && !v.items.empty() && !single_line) return write_block_sequence(v, level, compact);
      return write_flow_sequence(v, level);
    }
    case YamlValue::Kind::String: return scalar(v.text, level, force_single_line, block);
    case YamlValue::Kind::Bool: return v.flag ? "true" : "false";
    case YamlValue::Kind::Number: return v.text;
    case YamlValue::Kind::Null: return "null";
  }
  return "null";
}

}  // namespace

std::string write_document(YamlValue root) {
  YamlValue sorted = sort_lockfile_keys(std::move(root));
  std::string out = render(sorted, 0, true, true, std::nullopt, false);
  out += '\n';
  return out;
}

}  // namespace lockyaml
}  // namespace tarn
