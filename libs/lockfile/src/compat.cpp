// yaml-cpp 0.7 misreads two things pnpm 12 writes, so the text is mended before parsing:
//  - a '?' inside a plain scalar of a flow collection ends the scalar ("unknown token"),
//    as in `resolution: {tarball: https://gitlab.com/.../archive.tar.gz?ref=<sha>}`: such
//    scalars are single-quoted, which YAML reads as the same string;
//  - the escapes `\N` and `\_` (NEL, NBSP; js-yaml writes NBSP as `\_`) come out as the
//    bare bytes 0x85 and 0xA0 instead of UTF-8: they become `\u0085` and `\u00A0`.
// The scan knows the line shapes pnpm writes (`key: value`, `- item`, `? key`, one-line
// flow collections, literal blocks, whose content is left alone); other shapes pass
// through unchanged.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "read.hpp"

namespace tarn::detail {

namespace {

struct LineScan {
  std::string_view line;
  size_t i = 0;
  std::string out;
  bool literal = false;  // the line opens a literal block (`key: |...`)

  bool at_end() const { return i >= line.size(); }
  char peek(size_t k = 0) const { return i + k < line.size() ? line[i + k] : '\0'; }
  void copy(size_t n = 1) {
    out.append(line.substr(i, n));
    i += n;
  }

  void double_quoted() {
    copy();  // opening quote
    while (!at_end() && peek() != '"') {
      if (peek() == '\\' && (peek(1) == 'N' || peek(1) == '_')) {
        out += peek(1) == 'N' ? "\\u0085" : "\\u00A0";
        i += 2;
      } else {
        copy(peek() == '\\' && i + 1 < line.size() ? 2 : 1);
      }
    }
    if (!at_end()) copy();
  }

  void single_quoted() {
    copy();
    while (!at_end()) {
      if (peek() == '\'' && peek(1) == '\'') copy(2);
      else if (peek() == '\'') return copy();
      else copy();
    }
  }

  static bool ends_flow_plain(char c, char next) {
    return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' ||
           (c == ':' && (next == ' ' || next == ',' || next == ']' || next == '}' || next == '\0'));
  }

  void flow_plain() {
    size_t start = i;
    while (!at_end() && !ends_flow_plain(peek(), peek(1))) ++i;
    std::string_view token = line.substr(start, i - start);
    size_t trail = token.find_last_not_of(' ');
    token = token.substr(0, trail == std::string_view::npos ? 0 : trail + 1);
    if (token.find('?') == std::string_view::npos || token.substr(0, 2) == "? ") {
      out.append(line.substr(start, i - start));
      return;
    }
    out += '\'';
    for (char c : token) out += c == '\'' ? std::string_view("''") : std::string_view(&c, 1);
    out += '\'';
    out.append(line.substr(start + token.size(), i - start - token.size()));
  }

  void flow() {
    int depth = 0;
    while (!at_end()) {
      char c = peek();
      if (c == '{' || c == '[') ++depth, copy();
      else if (c == '}' || c == ']') {
        copy();
        if (--depth == 0) break;
      } else if (c == ',' || c == ' ' || c == ':') copy();
      else if (c == '"') double_quoted();
      else if (c == '\'') single_quoted();
      else flow_plain();
    }
  }

  // A block scalar or collection start at i: quoted, flow, literal or plain.
  void node() {
    char c = peek();
    if (c == '"') double_quoted();
    else if (c == '\'') single_quoted();
    else if (c == '{' || c == '[') flow();
    else if (c == '|') {
      literal = true;
      copy(line.size() - i);
    } else {
      // A plain key ends at ": "; a plain value runs to the end of the line.
      while (!at_end() && !(peek() == ':' && (peek(1) == ' ' || peek(1) == '\0'))) copy();
    }
  }

  void run() {
    while (peek() == ' ') copy();
    while ((peek() == '-' || peek() == '?' || peek() == ':') && peek(1) == ' ') {
      copy(2);
      while (peek() == ' ') copy();
    }
    if (at_end()) return;
    node();
    if (peek() == ':' && (peek(1) == ' ' || peek(1) == '\0')) {
      copy(peek(1) == ' ' ? 2 : 1);
      while (peek() == ' ') copy();
      if (!at_end()) node();
    }
    copy(line.size() - i);  // whatever the shapes above did not cover
  }
};

size_t indent_of(std::string_view line) {
  size_t n = line.find_first_not_of(' ');
  return n == std::string_view::npos ? line.size() : n;
}

// The start of every line holding `c`, in order.
void lines_with(std::string_view text, char c, std::vector<size_t>& starts) {
  for (size_t p = text.find(c); p != std::string_view::npos; p = text.find(c, p + 1)) {
    size_t bol = p == 0 ? std::string_view::npos : text.rfind('\n', p - 1);
    size_t start = bol == std::string_view::npos ? 0 : bol + 1;
    if (starts.empty() || starts.back() != start) starts.push_back(start);
    size_t eol = text.find('\n', p);
    if (eol == std::string_view::npos) break;
    p = eol;
  }
}

LineScan scanned(std::string_view line) {
  LineScan scan;
  scan.line = line;
  scan.run();
  return scan;
}

// Whether the line at `start` is content of a literal block: some less-indented line
// above it, nearest first, opens one (`key: |-`). Lines indented 2 or less never are
// (pnpm's root values are one-line scalars), which bounds the walk to one entry.
bool inside_literal(std::string_view text, size_t start) {
  size_t cur = indent_of(text.substr(start, text.find('\n', start) - start));
  while (cur > 2 && start > 0) {
    size_t prev = start >= 2 ? text.rfind('\n', start - 2) : std::string_view::npos;
    prev = prev == std::string_view::npos ? 0 : prev + 1;
    std::string_view line = text.substr(prev, start - 1 - prev);
    start = prev;
    size_t indent = indent_of(line);
    if (indent == line.size() || indent >= cur) continue;
    if (scanned(line).literal) return true;
    cur = indent;
  }
  return false;
}

}  // namespace

// Only lines holding '\\' or '?' can need mending (none in most lockfiles), so only those
// are scanned: scanning every line cost 3 ms on alotta-modules, whose two peer ranges
// carry a `\_`.
std::optional<std::string> mend_for_yaml_cpp(std::string_view text) {
  std::vector<size_t> starts;
  lines_with(text, '\\', starts);
  lines_with(text, '?', starts);
  if (starts.empty()) return std::nullopt;
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  std::string out;
  size_t copied = 0;
  for (size_t start : starts) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    std::string mended = scanned(line).out;
    if (mended == line || inside_literal(text, start)) continue;
    if (out.empty()) out.reserve(text.size() + 64);
    out.append(text.substr(copied, start - copied)).append(mended);
    copied = end;
  }
  if (copied == 0) return std::nullopt;
  out.append(text.substr(copied));
  return out;
}

}  // namespace tarn::detail
