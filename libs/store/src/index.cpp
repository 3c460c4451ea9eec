#include <algorithm>
#include <charconv>

#include "tarn/store/store.hpp"

namespace tarn {

namespace {

const std::string& header() {
  static const std::string h = "tarn-index " + std::to_string(kLayoutVersion) + "\n";
  return h;
}

Error bad_index(const std::string& why) { return Error::failed(Code::ReadFromStore, "store index " + why); }

// A hand-edited or corrupted index must not make an import write outside the package.
bool safe_path(std::string_view p) {
  if (p.empty() || p.front() == '/') return false;
  for (size_t i = 0; i <= p.size();) {
    size_t j = std::min(p.find('/', i), p.size());
    if (p.substr(i, j - i) == "..") return false;
    i = j + 1;
  }
  return true;
}

}  // namespace

// One line per entry: 'd' or 'f', 'x' or '-', a space, the blob size, a tab, the path.
std::string PackageIndex::serialize() const {
  std::string out = header();
  for (auto& e : entries) {
    out += e.dir ? 'd' : 'f';
    out += e.exec ? 'x' : '-';
    out += ' ';
    out += std::to_string(e.size);
    out += '\t';
    out += e.path;
    out += '\n';
  }
  return out;
}

Result<PackageIndex> PackageIndex::parse(std::string_view text) {
  if (text.substr(0, header().size()) != header()) return bad_index("has an unknown format");
  PackageIndex idx;
  size_t i = header().size();
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) return bad_index("is truncated");
    std::string_view line = text.substr(i, j - i);
    i = j + 1;
    size_t tab = line.find('\t');
    if (line.size() < 5 || line[2] != ' ' || tab == std::string_view::npos || tab + 1 == line.size() ||
        (line[0] != 'd' && line[0] != 'f') || (line[1] != 'x' && line[1] != '-'))
      return bad_index("has a malformed line");
    PackageIndex::Entry e;
    e.dir = line[0] == 'd';
    e.exec = line[1] == 'x';
    auto [end, ec] = std::from_chars(line.data() + 3, line.data() + tab, e.size);
    if (ec != std::errc() || end != line.data() + tab) return bad_index("has a malformed size");
    e.path = std::string(line.substr(tab + 1));
    if (!safe_path(e.path)) return bad_index("names a path outside the package");
    idx.entries.push_back(std::move(e));
  }
  return idx;
}

}  // namespace tarn
