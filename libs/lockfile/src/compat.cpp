// yaml-cpp 0.7 misreads two things pnpm 12 writes, so the text is mended before parsing:
//  - a '?' inside a plain scalar of a flow collection ends the scalar ("unknown token"),
//    as in `resolution: {tarball: https://gitlab.com/.../archive.tar.gz?ref=<sha>}`: such
//    scalars are single-quoted, which YAML reads as the same string;
//  - the escapes `\N` and `\_` (NEL, NBSP; js-yaml writes NBSP as `\_`) come out as the
//    bare bytes 0x85 and 0xA0 instead of UTF-8: they become `\u0085` and `\u00A0`.
// The scan knows the line shapes pnpm writes (`key: value`, `- item`, `? key`, one-line
// flow collections, literal blocks); other shapes pass through unchanged.
#include <optional>
#include <string>
#include <string_view>

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

bool needs_mending(std::string_view text) {
  if (text.find("\\N") != std::string_view::npos || text.find("\\_") != std::string_view::npos) return true;
  for (size_t q = text.find('?'); q != std::string_view::npos; q = text.find('?', q + 1)) {
    size_t bol = text.rfind('\n', q);
    size_t start = bol == std::string_view::npos ? 0 : bol + 1;
    std::string_view before = text.substr(start, q - start);
    if (before.find_first_of("{[") != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> mend_for_yaml_cpp(std::string_view text) {
  if (!needs_mending(text)) return std::nullopt;
  std::string out;
  out.reserve(text.size() + 64);
  size_t literal_indent = std::string_view::npos;  // inside a literal block deeper than this
  for (size_t i = 0; i < text.size();) {
    size_t nl = text.find('\n', i);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(i, end - i);
    size_t indent = indent_of(line);
    if (literal_indent != std::string_view::npos && (indent > literal_indent || indent == line.size())) {
      out.append(line);
    } else {
      LineScan scan;
      scan.line = line;
      scan.run();
      out += scan.out;
      literal_indent = scan.literal ? indent : std::string_view::npos;
    }
    if (nl != std::string_view::npos) out += '\n';
    i = end + 1;
  }
  return out;
}

}  // namespace tarn::detail
