// libFuzzer harness for tarn::Lockfile::parse (pnpm-lock.yaml). Any bytes give a lockfile
// or an error naming the file, never an exception or a crash. A parsed lockfile keeps the
// promises the planner relies on (every snapshot has metadata, every reference lands on a
// snapshot), and the parallel chunked reader agrees with the whole-text reader: a %YAML
// directive sends the same text down the whole-text path, as in test/lockfile. What
// write_lockfile makes of it parses back and is written again unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <tbb/global_control.h>

#include "tarn/lockfile/lockfile.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Everything parse() decides, as text (packages sorted: they live in an unordered_map).
std::string describe(const tarn::Lockfile& lf) {
  std::string out = lf.lockfile_version + (lf.auto_install_peers ? " peers\n" : "\n");
  for (auto& [k, h] : lf.patched_dependencies) out += "patched " + k + " " + h + "\n";
  for (auto& i : lf.importers) {
    out += "importer " + i.id.str() + "\n";
    for (auto& d : i.deps)
      out += "  " + std::string(tarn::group_field(d.group)) + " " + d.alias.str() + " " + d.specifier + " " + d.version + "\n";
  }
  std::vector<std::string> pk;
  for (auto& [k, m] : lf.packages) {
    std::string l = k + " " + (m.integrity ? m.integrity->str() : "-") + " " + m.tarball.str() + " " +
                    std::string(tarn::resolution_kind_name(m.resolution)) + " " + m.version + (m.has_bin ? " bin" : "") +
                    (m.requires_build ? " build" : "") + (m.bundled ? " bundled" : "");
    for (auto* v : {&m.os, &m.cpu, &m.libc})
      for (auto& x : *v) l += " " + x;
    for (auto* v : {&m.engines, &m.peer_dependencies})
      for (auto& [e, r] : *v) l += " " + e + "=" + r;
    pk.push_back(l);
  }
  std::sort(pk.begin(), pk.end());
  for (auto& l : pk) out += l + "\n";
  for (auto& s : lf.snapshots) {
    out += "snapshot " + s.key.str() + (s.optional ? " optional\n" : "\n");
    for (auto* v : {&s.dependencies, &s.optional_dependencies})
      for (auto& d : *v) out += "  " + d.alias.str() + " " + (d.ref.is_link() ? d.ref.link : d.ref.target.str()) + "\n";
  }
  return out;
}

void check_references(const tarn::Lockfile& lf) {
  for (auto& s : lf.snapshots) {
    check(lf.meta(s.key) != nullptr);
    check(lf.find(s.key) != nullptr);
    for (auto* v : {&s.dependencies, &s.optional_dependencies})
      for (auto& d : *v) check(d.ref.is_link() || lf.find(d.ref.target) != nullptr);
  }
  for (auto& i : lf.importers) {
    check(lf.importer(i.id.str()) != nullptr);
    for (auto& d : i.deps) check(d.ref.is_link() || lf.find(d.ref.target) != nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Chunks are still cut and merged, but parsed on this thread: handing them to TBB workers
  // cost most of each execution (the parallel path has its own test in test/lockfile).
  static tbb::global_control serial(tbb::global_control::max_allowed_parallelism, 1);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto lf = tarn::Lockfile::parse(in, "/fuzz/pnpm-lock.yaml");
  if (!lf) {
    check(lf.error().message.find("/fuzz/pnpm-lock.yaml") != std::string::npos);
    return 0;
  }
  check_references(*lf);
  // What the writer writes reads back to a lockfile it writes the same way.
  std::string written = tarn::write_lockfile(*lf);
  auto reread = tarn::Lockfile::parse(written, "/fuzz/pnpm-lock.yaml");
  check(reread.has_value());
  check(tarn::write_lockfile(*reread) == written);
  // parse() drops one leading BOM; the directive must come before the text it strips.
  if (in.substr(0, 3) == "\xEF\xBB\xBF") in.remove_prefix(3);
  auto whole = tarn::Lockfile::parse("%YAML 1.2\n---\n" + std::string(in), "/fuzz/pnpm-lock.yaml");
  if (whole) check(describe(*lf) == describe(*whole));
  return 0;
}
