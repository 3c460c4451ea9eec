// pnpm 12's is_git_hosted_tarball_url (pnpm/crates/lockfile/src/resolution.rs): immutable
// archive URLs of known git hosts, whose refs must be full commit SHAs. pnpm sets
// `gitHosted: true` on such tarball resolutions when it reads a lockfile without the field.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "read.hpp"

namespace tarn::detail {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool is_full_commit_sha(std::string_view v) {
  return v.size() == 40 && std::all_of(v.begin(), v.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::optional<std::string_view> query_param(std::optional<std::string_view> query, std::string_view key) {
  if (!query) return std::nullopt;
  std::string_view q = *query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == key) return part.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool is_gitlab_archive(const std::vector<std::string_view>& s, std::optional<std::string_view> query) {
  if (s.size() == 6 && s[0] == "api" && s[1] == "v4" && s[2] == "projects" && s[4] == "repository" &&
      s[5] == "archive.tar.gz") {
    auto ref = query_param(query, "ref");
    return ref && is_full_commit_sha(*ref);
  }
  size_t marker = s.size();
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (s[i] == "-" && s[i + 1] == "archive") {
      marker = i;
      break;
    }
  if (marker == s.size() || marker < 2 || s.size() != marker + 4) return false;
  std::string_view name = s[marker + 3];
  return name.size() >= 7 && name.substr(name.size() - 7) == ".tar.gz" && is_full_commit_sha(s[marker + 2]);
}

}  // namespace

bool is_git_hosted_tarball_url(std::string_view url) {
  constexpr std::string_view kHttps = "https://";
  if (url.size() < kHttps.size() || !iequals(url.substr(0, kHttps.size()), kHttps)) return false;
  std::string_view rest = url.substr(kHttps.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view host = rest.substr(0, slash), pq = rest.substr(slash + 1);
  pq = pq.substr(0, pq.find('#'));
  size_t qm = pq.find('?');
  std::optional<std::string_view> query;
  if (qm != std::string_view::npos) query = pq.substr(qm + 1);
  auto s = segments(pq.substr(0, qm));
  if (iequals(host, "codeload.github.com")) return s.size() == 4 && s[2] == "tar.gz" && is_full_commit_sha(s[3]);
  if (iequals(host, "bitbucket.org")) {
    if (s.size() != 4 || s[2] != "get" || s[3].size() < 7 || s[3].substr(s[3].size() - 7) != ".tar.gz") return false;
    return is_full_commit_sha(s[3].substr(0, s[3].size() - 7));
  }
  if (iequals(host, "gitlab.com")) return is_gitlab_archive(s, query);
  return false;
}

}  // namespace tarn::detail
