// A lockfile's text cut down to some importers (lockfile.hpp), as pnpm's filtered install
// writes its node_modules/.pnpm/lock.yaml: entries of `importers:`, `packages:` and
// `snapshots:` that nothing kept reaches are removed with one blank line next to them;
// everything else keeps its bytes. Measured against pnpm 12.21's copy after
// `pnpm install --filter @ws/b` in fixtures/workspace (test/lockfile).
#include <algorithm>
#include <set>
#include <unordered_set>

#include "tarn/lockfile/lockfile.hpp"

namespace tarn {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < text.size();) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

size_t indent(std::string_view l) {
  size_t n = 0;
  while (n < l.size() && l[n] == ' ') ++n;
  return n;
}

bool blank(std::string_view l) { return indent(l) == l.size(); }
bool top_level(std::string_view l) { return !blank(l) && indent(l) == 0; }

// The key of a mapping line ("  key:", "  key: {}", "  'quoted key':"), unquoted.
std::string key_of(std::string_view l) {
  l.remove_prefix(indent(l));
  if (!l.empty() && l.front() == '\'') {
    std::string out;
    for (size_t i = 1; i < l.size(); ++i) {
      if (l[i] != '\'') out += l[i];
      else if (i + 1 < l.size() && l[i + 1] == '\'') out += '\'', ++i;
      else break;
    }
    return out;
  }
  size_t colon = l.find(": ");
  if (colon == std::string_view::npos) colon = l.size() && l.back() == ':' ? l.size() - 1 : l.size();
  return std::string(l.substr(0, colon));
}

// Entry keys of one top-level section, with each entry's first and one-past-last line.
struct Entry {
  std::string key;
  size_t begin, end;
};
std::vector<Entry> entries_of(const std::vector<std::string_view>& lines, std::string_view section) {
  std::vector<Entry> out;
  size_t i = 0;
  while (i < lines.size() && !(top_level(lines[i]) && key_of(lines[i]) == section)) ++i;
  for (++i; i < lines.size(); ++i) {
    if (blank(lines[i])) continue;
    if (indent(lines[i]) == 0) break;
    if (indent(lines[i]) == 2) out.push_back({key_of(lines[i]), i, i + 1});
    else if (!out.empty()) out.back().end = i + 1;
  }
  return out;
}

// The snapshot and package keys the kept importers reach.
std::pair<std::unordered_set<std::string>, std::unordered_set<std::string>> reached(
    const Lockfile& lf, const std::vector<ImporterId>& keep) {
  std::unordered_set<std::string> snapshots, packages;
  std::vector<const DepPath*> todo;
  auto visit = [&](const DepRef& r) {
    if (!r.is_link() && snapshots.insert(r.target.str()).second) todo.push_back(&r.target);
  };
  for (auto& id : keep)
    if (const Importer* imp = lf.importer(id.str()))
      for (auto& d : imp->deps) visit(d.ref);
  while (!todo.empty()) {
    const DepPath* p = todo.back();
    todo.pop_back();
    packages.insert(std::string(p->without_peers()));
    if (const Snapshot* s = lf.find(*p))
      for (auto* list : {&s->dependencies, &s->optional_dependencies})
        for (auto& d : *list) visit(d.ref);
  }
  return {snapshots, packages};
}

}  // namespace

std::vector<std::string> lockfile_importer_ids(std::string_view text) {
  std::vector<std::string> out;
  for (auto& e : entries_of(split_lines(text), "importers")) out.push_back(e.key);
  return out;
}

namespace {

// One section, rebuilt from its kept entries: its header and leading blank lines, the kept
// entries one blank line apart (pnpm's layout), then what followed its last entry.
void emit_section(const std::vector<std::string_view>& lines, const std::vector<Entry>& entries,
                  const std::vector<char>& kept, size_t from, std::string& out) {
  auto put = [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) out.append(lines[i]).push_back('\n');
  };
  put(from, entries.front().begin);
  bool first = true;
  for (size_t k = 0; k < entries.size(); ++k) {
    if (!kept[k]) continue;
    if (!first) out.push_back('\n');
    put(entries[k].begin, entries[k].end);
    first = false;
  }
  size_t tail = entries.back().end;
  while (tail < lines.size() && !top_level(lines[tail])) ++tail;  // blank lines up to the next key
  put(entries.back().end, tail);
}

}  // namespace

std::string lockfile_text_for_importers(std::string_view text, const Lockfile& lf, const std::vector<ImporterId>& keep) {
  std::set<std::string> kept_ids;
  for (auto& id : keep) kept_ids.insert(id.str());
  auto lines = split_lines(text);
  auto [snapshots, packages] = reached(lf, keep);
  struct Cut {
    std::vector<Entry> entries;
    std::vector<char> kept;
  };
  std::vector<Cut> cuts;
  bool dropped_any = false;
  auto cut = [&](std::string_view section, auto&& keep_key) {
    Cut c{entries_of(lines, section), {}};
    for (auto& e : c.entries) c.kept.push_back(keep_key(e.key)), dropped_any |= !c.kept.back();
    if (!c.entries.empty()) cuts.push_back(std::move(c));
  };
  cut("importers", [&](const std::string& k) { return kept_ids.count(k) > 0; });
  // (clang 14 cannot capture structured bindings: named references instead)
  auto& kept_packages = packages;
  auto& kept_snapshots = snapshots;
  cut("packages", [&](const std::string& k) { return kept_packages.count(k) > 0; });
  cut("snapshots", [&](const std::string& k) { return kept_snapshots.count(k) > 0; });
  if (!dropped_any) return std::string(text);
  std::sort(cuts.begin(), cuts.end(), [](auto& a, auto& b) { return a.entries.front().begin < b.entries.front().begin; });
  std::string out;
  size_t i = 0;
  for (auto& c : cuts) {
    size_t header = c.entries.front().begin;
    while (header > 0 && !top_level(lines[header])) --header;  // the section's own key line
    for (; i < header; ++i) out.append(lines[i]).push_back('\n');
    emit_section(lines, c.entries, c.kept, header, out);
    i = c.entries.back().end;
    while (i < lines.size() && !top_level(lines[i])) ++i;
  }
  for (; i < lines.size(); ++i) out.append(lines[i]).push_back('\n');
  if (!text.empty() && text.back() != '\n' && !out.empty()) out.pop_back();
  return out;
}

}  // namespace tarn
