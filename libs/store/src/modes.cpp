#include "modes.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <optional>
#include <unordered_map>

namespace tarn::store_detail {

namespace {

namespace json = boost::json;

// A file's path in the package -> its ordinal (its blob's name).
using Ordinals = std::unordered_map<std::string_view, size_t>;

// `rel` normalised the way the linker's bins.cpp does, under `prefix`; nullopt when it
// leaves the package (the linker ignores those, so there is nothing to mark).
std::optional<std::string> inside(std::string_view prefix, std::string_view rel) {
  std::string n = fs::normalize(rel);
  if (n == "." || n.rfind("..", 0) == 0 || n.front() == '/') return std::nullopt;
  return std::string(prefix) + n;
}

// The ordinals of the files one manifest (at `prefix`, "" or ".../node_modules/<name>/")
// declares as bins, by pnpm's rules: `bin` (string or map) wins over `directories.bin`.
void bin_targets(const json::object& o, std::string_view prefix, const Ordinals& files, std::vector<size_t>& out) {
  auto add = [&](std::string_view rel) {
    if (auto p = inside(prefix, rel))
      if (auto it = files.find(*p); it != files.end()) out.push_back(it->second);
  };
  if (auto* bin = o.if_contains("bin"); bin && !bin->is_null() && !(bin->is_string() && bin->as_string().empty())) {
    if (bin->is_string()) add(bin->as_string());
    if (bin->is_object())
      for (auto& kv : bin->as_object())
        if (kv.value().is_string()) add(kv.value().as_string());
    return;
  }
  auto* dirs = o.if_contains("directories");
  auto* b = dirs && dirs->is_object() ? dirs->as_object().if_contains("bin") : nullptr;
  if (!b || !b->is_string()) return;
  auto dir = inside(prefix, b->as_string());
  if (!dir) return;
  *dir += '/';
  for (auto& [path, ordinal] : files)
    if (path.rfind(*dir, 0) == 0) out.push_back(ordinal);
}

// The prefix of a manifest path whose bins the linker links: the package's own
// package.json, or a bundled dependency's (<...>node_modules/<name>/ or @scope/<name>/).
std::optional<std::string_view> manifest_prefix(std::string_view path) {
  static constexpr std::string_view file = "package.json", nm = "node_modules/";
  if (path == file) return std::string_view();
  if (path.size() <= file.size() || path.substr(path.size() - file.size() - 1) != "/package.json") return std::nullopt;
  std::string_view prefix = path.substr(0, path.size() - file.size());
  size_t pos = prefix.rfind(nm, prefix.size() - 2);
  if (pos == std::string_view::npos || (pos > 0 && prefix[pos - 1] != '/')) return std::nullopt;
  std::string_view name = prefix.substr(pos + nm.size(), prefix.size() - pos - nm.size() - 1);
  size_t slash = name.find('/');
  bool ok = !name.empty() && (slash == std::string_view::npos || (name[0] == '@' && name.find('/', slash + 1) == std::string_view::npos));
  return ok ? std::optional(prefix) : std::nullopt;
}

// Every file some manifest of the package names as a bin. Unreadable or invalid manifests
// mark nothing: the linker reports them if they matter.
std::vector<size_t> declared_bins(int staging_fd, const Ordinals& files) {
  std::vector<size_t> out;
  for (auto& [path, ordinal] : files) {
    auto prefix = manifest_prefix(path);
    if (!prefix) continue;
    auto text = fs::read_file_at(staging_fd, PackageIndex::blob_name(ordinal).c_str());
    // Most manifests declare no bins: skip their JSON parse.
    if (!text || (text->find("\"bin\"") == std::string::npos && text->find("\"directories\"") == std::string::npos))
      continue;
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (!ec && v.is_object()) bin_targets(v.as_object(), *prefix, files, out);
  }
  return out;
}

}  // namespace

Result<void> finalize_blobs(int staging_fd, PackageIndex& index, std::string_view staging_path) {
  Ordinals files;
  std::vector<PackageIndex::Entry*> by_ordinal;
  for (auto& e : index.entries)
    if (!e.dir) {
      files.emplace(e.path, by_ordinal.size());
      by_ordinal.push_back(&e);
    }
  auto fail = [&](const std::string& blob, int err) {
    return Error::failed(Code::StoreWrite, "failed to finalize " + std::string(staging_path) + "/" + blob + ": " + fs::errno_text(err));
  };
  for (size_t ordinal : declared_bins(staging_fd, files)) {
    PackageIndex::Entry& e = *by_ordinal[ordinal];
    // A blob whose writer vouched for its mode changes only when it becomes a bin.
    if (e.as_written && !e.exec && ::fchmodat(staging_fd, PackageIndex::blob_name(ordinal).c_str(), 0755, 0) != 0)
      return fail(PackageIndex::blob_name(ordinal), errno);
    e.exec = true;
  }
  for (size_t ordinal = 0; ordinal < by_ordinal.size(); ++ordinal) {
    PackageIndex::Entry& e = *by_ordinal[ordinal];
    if (e.as_written) continue;  // size and mode known
    std::string blob = PackageIndex::blob_name(ordinal);
    struct stat st;
    if (::fstatat(staging_fd, blob.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail(blob, errno);
    if (!S_ISREG(st.st_mode)) return fail(blob, EINVAL);
    mode_t want = e.exec ? 0755 : 0644;
    if ((st.st_mode & 07777) != want && ::fchmodat(staging_fd, blob.c_str(), want, 0) != 0) return fail(blob, errno);
    e.size = static_cast<uint64_t>(st.st_size);
  }
  return {};
}

}  // namespace tarn::store_detail
