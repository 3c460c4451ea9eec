#include "tarn/linker/patch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <optional>

#include "tarn/fs/fs.hpp"

namespace tarn {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view l = text.substr(i, j - i);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out.push_back(l);
    i = j + 1;
  }
  return out;
}

// "-12,3" or "+4": start and length (1 when omitted).
bool parse_range(std::string_view s, size_t& start, size_t& len) {
  size_t comma = s.find(',');
  auto num = [](std::string_view t, size_t& v) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return ec == std::errc() && p == t.data() + t.size();
  };
  len = 1;
  if (comma == std::string_view::npos) return num(s, start);
  return num(s.substr(0, comma), start) && num(s.substr(comma + 1), len);
}

std::optional<Hunk> parse_header(std::string_view l) {
  // "@@ -a,b +c,d @@ ..."
  size_t end = l.find(" @@", 2);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view r = l.substr(3, end - 3);
  size_t sp = r.find(' ');
  if (sp == std::string_view::npos || r[0] != '-' || r[sp + 1] != '+') return std::nullopt;
  Hunk h;
  if (!parse_range(r.substr(1, sp - 1), h.old_start, h.old_len) ||
      !parse_range(r.substr(sp + 2), h.new_start, h.new_len))
    return std::nullopt;
  return h;
}

// "a/lib/x.js" -> "lib/x.js" (git's -p1); a trailing tab and timestamp are dropped.
std::string strip_prefix(std::string_view p) {
  if (size_t tab = p.find('\t'); tab != std::string_view::npos) p = p.substr(0, tab);
  if (p.size() > 1 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
  size_t slash = p.find('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

struct Parser {
  const std::vector<std::string_view>& lines;
  const std::string& patch_path;
  size_t i = 0;

  Error invalid(const std::string& why) const {
    return Error::failed(Code::InvalidPatch, "Applying patch \"" + patch_path + "\" failed: " + why + " (line " +
                                                 std::to_string(i + 1) + ")");
  }

  Result<Hunk> hunk() {
    auto h = parse_header(lines[i]);
    if (!h) return invalid("malformed hunk header");
    ++i;
    size_t old_left = h->old_len, new_left = h->new_len;
    while (old_left || new_left) {
      if (i >= lines.size()) return invalid("hunk cut short");
      std::string_view l = lines[i];
      char k = l.empty() ? ' ' : l[0];  // an empty line is context whose space was trimmed
      if (k == '\\') {
        if (!h->lines.empty()) h->lines.back().eol = false;
        ++i;
        continue;
      }
      if ((k == ' ' && (!old_left || !new_left)) || (k == '-' && !old_left) || (k == '+' && !new_left) ||
          (k != ' ' && k != '-' && k != '+'))
        return invalid("hunk line does not fit its header");
      if (k != '+') --old_left;
      if (k != '-') --new_left;
      h->lines.push_back({k, std::string(l.empty() ? l : l.substr(1)), true});
      ++i;
    }
    if (i < lines.size() && lines[i].starts_with("\\")) {
      if (!h->lines.empty()) h->lines.back().eol = false;
      ++i;
    }
    return std::move(*h);
  }

  // The extended git header lines after "diff --git".
  void git_header(FilePatch& f) {
    for (; i < lines.size() && !lines[i].starts_with("diff --git ") && !lines[i].starts_with("--- ") &&
           !lines[i].starts_with("@@ ");
         ++i) {
      std::string_view l = lines[i];
      if (l.starts_with("new file mode")) f.op = FilePatch::Op::Create;
      else if (l.starts_with("deleted file mode")) f.op = FilePatch::Op::Delete;
      else if (l.starts_with("rename from") || l.starts_with("copy from")) {
        f.op = FilePatch::Op::Unsupported;
        f.unsupported = "rename/copy operations in patches are not yet supported";
      } else if (l.starts_with("Binary files") || l.starts_with("GIT binary patch")) {
        f.op = FilePatch::Op::Unsupported;
        f.unsupported = "binary patch is not supported";
      }
    }
  }

  Result<void> file(FilePatch& f) {
    if (i < lines.size() && lines[i].starts_with("--- ")) {
      std::string_view old_path = lines[i].substr(4);
      if (++i >= lines.size() || !lines[i].starts_with("+++ ")) return invalid("\"---\" without \"+++\"");
      std::string_view new_path = lines[i++].substr(4);
      if (old_path.starts_with("/dev/null")) f.op = FilePatch::Op::Create;
      else if (new_path.starts_with("/dev/null")) f.op = FilePatch::Op::Delete;
      if (f.op != FilePatch::Op::Unsupported)
        f.path = strip_prefix(f.op == FilePatch::Op::Delete ? old_path : new_path);
    }
    while (i < lines.size() && lines[i].starts_with("@@ ")) {
      auto h = hunk();
      if (!h) return h.error();
      f.hunks.push_back(std::move(*h));
    }
    return {};
  }
};

}  // namespace

Result<std::vector<FilePatch>> parse_patch(std::string_view text, const std::string& patch_path) {
  auto lines = split_lines(text);
  Parser p{lines, patch_path};
  std::vector<FilePatch> out;
  while (p.i < lines.size()) {
    std::string_view l = lines[p.i];
    bool git = l.starts_with("diff --git ");
    if (!git && !(l.starts_with("--- ") && p.i + 1 < lines.size() && lines[p.i + 1].starts_with("+++ "))) {
      if (l.starts_with("@@ ")) return p.invalid("hunk outside a file");
      ++p.i;
      continue;
    }
    FilePatch f;
    if (git) {
      // "diff --git a/x b/x": the b/ path, for headers that have no ---/+++ (empty files).
      std::string_view rest = l.substr(11);
      size_t b = rest.rfind(" b/");
      f.path = strip_prefix(b == std::string_view::npos ? rest : rest.substr(b + 1));
      ++p.i;
      p.git_header(f);
    }
    if (auto r = p.file(f); !r) return r.error();
    if (f.path.empty() && f.op != FilePatch::Op::Unsupported) return p.invalid("a file patch without a path");
    out.push_back(std::move(f));
  }
  return out;
}

namespace {

// A run of hunk lines of one kind; `ends_file`: its last line has no line ending.
struct Part {
  char kind;
  std::vector<std::string_view> lines;
  bool ends_file = false;
};

std::vector<Part> parts_of(const Hunk& h) {
  std::vector<Part> parts;
  for (auto& l : h.lines) {
    if (parts.empty() || parts.back().kind != l.kind) parts.push_back({l.kind, {}, false});
    parts.back().lines.push_back(l.text);
    parts.back().ends_file = !l.eol;
  }
  return parts;
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n' ||
                        s.back() == '\v' || s.back() == '\f'))
    s.remove_suffix(1);
  return s;
}

struct Mod {
  enum Kind { Splice, Pop, Push } kind = Splice;
  size_t index = 0, del = 0;
  const std::vector<std::string_view>* ins = nullptr;
};

// patch-package's evaluateHunk: the hunk's old lines at `start`, and the edits it makes.
bool evaluate(const std::vector<Part>& parts, const std::vector<std::string_view>& file, long start, size_t old_len,
              std::vector<Mod>& mods) {
  if (start < 0) return false;
  size_t index = static_cast<size_t>(start);
  if (index > file.size() || file.size() - index < old_len) return false;
  std::vector<Mod> out;
  static const std::vector<std::string_view> none;
  for (const Part& p : parts) {
    if (p.kind == '+') {
      out.push_back({Mod::Splice, index, 0, &p.lines});
      if (p.ends_file) out.push_back({Mod::Pop});
      continue;
    }
    for (auto l : p.lines) {
      if (index >= file.size() || trim_end(file[index]) != trim_end(l)) return false;
      ++index;
    }
    if (p.kind == '-') {
      out.push_back({Mod::Splice, index - p.lines.size(), p.lines.size(), &none});
      if (p.ends_file) out.push_back({Mod::Push});
    }
  }
  mods.insert(mods.end(), out.begin(), out.end());
  return true;
}

Hunk reversed(const Hunk& h) {
  Hunk r{h.new_start, h.new_len, h.old_start, h.old_len, h.lines};
  for (auto& l : r.lines) l.kind = l.kind == '+' ? '-' : l.kind == '-' ? '+' : ' ';
  return r;
}

}  // namespace

Applied apply_hunks(std::string_view original, const std::vector<Hunk>& hunks) {
  // The file as split('\n'): a final newline leaves an empty last element.
  std::vector<std::string_view> file;
  for (size_t i = 0;;) {
    size_t j = original.find('\n', i);
    file.push_back(original.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  std::vector<std::vector<Part>> parts;
  std::vector<Mod> mods;
  for (size_t n = 0; n < hunks.size(); ++n) {
    parts.push_back(parts_of(hunks[n]));
    long start = static_cast<long>(hunks[n].old_start) - 1;
    bool found = false;
    for (long k = 0; k <= 20 && !found; ++k)
      for (long off : {-k, k}) {
        if ((k == 0 && off != 0) || found) continue;
        found = evaluate(parts.back(), file, start + off, hunks[n].old_len, mods);
      }
    if (!found) return {false, {}, n + 1};
  }
  std::vector<std::string_view> lines = file;
  long offset = 0;
  for (const Mod& m : mods) {
    if (m.kind == Mod::Pop) {
      if (!lines.empty()) lines.pop_back();
    } else if (m.kind == Mod::Push) {
      lines.push_back("");
    } else {
      size_t at = std::min(static_cast<size_t>(std::max(0L, static_cast<long>(m.index) + offset)), lines.size());
      size_t end = std::min(at + m.del, lines.size());
      offset += static_cast<long>(m.ins->size()) - static_cast<long>(m.del);
      lines.erase(lines.begin() + static_cast<long>(at), lines.begin() + static_cast<long>(end));
      lines.insert(lines.begin() + static_cast<long>(at), m.ins->begin(), m.ins->end());
    }
  }
  Applied a{true, {}, 0};
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) a.text += '\n';
    a.text += lines[i];
  }
  return a;
}

namespace {

bool escapes(const std::string& rel) {
  if (rel.empty() || rel.front() == '/') return true;
  std::string n = fs::normalize(rel);
  return n == ".." || n.rfind("../", 0) == 0;
}

// Writes `text` to `path` through a temporary and rename(2), keeping `mode`: the slot's
// files are private copies, but a rename never writes through a link either way.
int write_replacing(const std::string& path, const std::string& text, mode_t mode) {
  std::string tmp = path + ".tarn-patch-" + std::to_string(::getpid());
  int e = fs::write_file_at(AT_FDCWD, tmp.c_str(), text.data(), text.size(), mode & 07777);
  if (!e && (::chmod(tmp.c_str(), mode & 07777) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0)) e = errno;
  if (e) ::unlink(tmp.c_str());
  return e;
}

// One file's patch; returns pnpm's message tail on failure.
std::optional<std::string> apply_file(const FilePatch& f, const std::string& dir) {
  if (f.op == FilePatch::Op::Unsupported) return f.unsupported;
  if (escapes(f.path)) return "patch path escapes target dir: " + f.path;
  std::string target = fs::join(dir, f.path);
  struct stat st;
  bool exists = ::stat(target.c_str(), &st) == 0;
  auto current = exists ? fs::read_file(target) : Result<std::string>(std::string());
  if (!current) return "read " + target + ": " + current.error().message;
  if (f.op == FilePatch::Op::Create) {
    Applied a = apply_hunks("", f.hunks);
    if (!a.ok) return "create " + target + ": error applying hunk #" + std::to_string(a.failed_hunk);
    if (exists) return *current == a.text ? std::nullopt : std::optional("cannot create " + target + ": target already exists");
    if (int e = fs::mkdirs_at(AT_FDCWD, fs::dirname(target)); e)
      return "create parent of " + target + ": " + fs::errno_text(e);
    if (int e = fs::write_file_at(AT_FDCWD, target.c_str(), a.text.data(), a.text.size(), 0644); e)
      return "write " + target + ": " + fs::errno_text(e);
    return std::nullopt;
  }
  if (!exists) return (f.op == FilePatch::Op::Delete ? std::optional<std::string>() : "stat " + target + ": No such file or directory");
  Applied a = apply_hunks(*current, f.hunks);
  if (f.op == FilePatch::Op::Delete) {
    if (!a.ok) return "apply to " + target + ": error applying hunk #" + std::to_string(a.failed_hunk);
    if (!a.text.empty()) return "delete patch left " + target + " non-empty after apply";
    if (::unlink(target.c_str()) != 0) return "delete " + target + ": " + fs::errno_text(errno);
    return std::nullopt;
  }
  if (!a.ok) {
    std::vector<Hunk> rev;
    for (auto& h : f.hunks) rev.push_back(reversed(h));
    if (apply_hunks(*current, rev).ok) return std::nullopt;  // already applied
    return "apply to " + target + ": error applying hunk #" + std::to_string(a.failed_hunk);
  }
  if (int e = write_replacing(target, a.text, st.st_mode); e) return "write " + target + ": " + fs::errno_text(e);
  return std::nullopt;
}

}  // namespace

Result<void> apply_patch(std::string_view patch_text, const std::string& patch_path, const std::string& dir) {
  auto files = parse_patch(patch_text, patch_path);
  if (!files) return files.error();
  for (const FilePatch& f : *files)
    if (auto why = apply_file(f, dir))
      return Error::failed(Code::PatchFailed, "Could not apply patch " + patch_path + " to " + dir + ": " + *why);
  return {};
}

}  // namespace tarn
