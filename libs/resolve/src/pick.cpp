#include "tarn/resolve/pick.hpp"

#include <algorithm>
#include <ctime>

namespace tarn::resolve {

namespace {

using Candidates = std::vector<const PackageVersion*>;

const PackageVersion* max_of(const Candidates& c, const WantedSpec& r, bool lowest) {
  const PackageVersion* best = nullptr;
  for (auto* pv : c)
    if (r.satisfied_by(pv->version) && (!best || (lowest ? pv->version < best->version : best->version < pv->version)))
      best = pv;
  return best;
}

// The dist-tags of a date-filtered packument, as pnpm rewrites them: a tag whose target was
// filtered out moves to the best remaining version of its lane (same major unless it is
// `latest`, same release/prerelease status, no newer than the original), preferring
// non-deprecated versions.
std::map<std::string, const PackageVersion*> bounded_tags(const Packument& doc, const Candidates& kept) {
  std::map<std::string, const PackageVersion*> out;
  for (auto& [tag, text] : doc.dist_tags) {
    auto orig = Version::parse(text);
    if (!orig) continue;
    auto same = std::find_if(kept.begin(), kept.end(), [&](auto* pv) { return pv->version == *orig; });
    if (same != kept.end()) {
      out[tag] = *same;
      continue;
    }
    const PackageVersion* best = nullptr;
    for (auto* pv : kept) {
      const Version& v = pv->version;
      if (*orig < v || (tag != "latest" && v.major() != orig->major())) continue;
      if (v.is_prerelease() != orig->is_prerelease()) continue;
      bool bd = best && best->deprecated && !best->deprecated->empty();
      bool cd = pv->deprecated && !pv->deprecated->empty();
      if (!best || (best->version < v && bd == cd) || (bd && !cd)) best = pv;
    }
    if (best) out[tag] = best;
  }
  return out;
}

std::vector<Candidates> preferred_groups(const Candidates& all, const WantedSpec& spec,
                                         const std::map<std::string, const PackageVersion*>& tags,
                                         const std::vector<Preferred>& prefs) {
  std::map<const PackageVersion*, unsigned> weight;
  for (auto* pv : all)
    if (spec.satisfied_by(pv->version)) weight[pv] = 0;
  auto add = [&](const PackageVersion* pv, unsigned w) {
    unsigned& x = weight[pv];
    x = x == 0 ? w : x + w;  // JS truthiness in pnpm: a 0 seed is replaced, not summed
  };
  for (auto& p : prefs) {
    if (p.selector == spec.text) continue;
    if (p.kind == Preferred::Kind::Tag) {
      if (auto it = tags.find(p.selector); it != tags.end()) add(it->second, p.weight);
    } else if (auto r = Range::parse(p.selector)) {
      for (auto* pv : all)
        if (r->satisfies(pv->version)) add(pv, p.weight);
    }
  }
  std::map<unsigned, Candidates, std::greater<>> by_weight;
  for (auto& [pv, w] : weight) by_weight[w].push_back(pv);
  std::vector<Candidates> out;
  for (auto& [w, c] : by_weight) out.push_back(std::move(c));
  return out;
}

bool deprecated(const PackageVersion* pv) { return pv->deprecated && !pv->deprecated->empty(); }

const PackageVersion* pick_range(const Candidates& all, const WantedSpec& spec,
                                 const std::map<std::string, const PackageVersion*>& tags, const PickOptions& o) {
  auto latest_it = tags.find("latest");
  const PackageVersion* latest = latest_it == tags.end() ? nullptr : latest_it->second;
  // A dependency's own spec among the preferences selects nothing new (pnpm skips it); with
  // only that, pnpm 12.21 picks as without preferences, avoiding a deprecated top version.
  bool prefs = o.preferred && std::any_of(o.preferred->begin(), o.preferred->end(),
                                          [&](const Preferred& p) { return p.selector != spec.text; });
  if (prefs) {
    for (auto& group : preferred_groups(all, spec, tags, *o.preferred)) {
      if (!o.lowest && latest && std::count(group.begin(), group.end(), latest) && spec.satisfied_by(latest->version))
        return latest;
      if (auto* p = max_of(group, spec, o.lowest)) return p;
    }
  }
  if (o.lowest) return max_of(all, spec, true);
  // `*` takes `latest` even when it is a prerelease (pnpm/pnpm#865). A deprecated `latest`
  // yields to the best non-deprecated match (pnpm 12.21, test/resolve/cases/deprecated).
  if (latest && !deprecated(latest) && (spec.text == "*" || spec.satisfied_by(latest->version))) return latest;
  const PackageVersion* top = max_of(all, spec, false);
  if (top && deprecated(top) && all.size() > 1) {
    Candidates fresh;
    for (auto* pv : all)
      if (!deprecated(pv)) fresh.push_back(pv);
    if (auto* p = max_of(fresh, spec, false)) return p;
  }
  return top;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s) {
  std::tm tm{};
  int ms = 0;
  std::string text(s.substr(0, 40));
  char tail = 0;
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec, &ms, &tail);
  if (n < 6) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  if (t == -1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t) + std::chrono::milliseconds(n >= 7 ? ms : 0);
}

const PackageVersion* pick_version(const Packument& doc, const WantedSpec& spec, const PickOptions& o) {
  Candidates all;
  all.reserve(doc.versions.size());
  for (auto& pv : doc.versions) {
    if (o.published_by) {
      auto t = doc.time.find(pv.version.str());
      auto when = t == doc.time.end() ? std::nullopt : parse_timestamp(t->second);
      bool trusted = std::count(o.trusted_versions.begin(), o.trusted_versions.end(), pv.version.str()) > 0;
      if (!trusted && (!when || *when > *o.published_by)) continue;
    }
    all.push_back(&pv);
  }
  auto tags = bounded_tags(doc, all);
  switch (spec.kind) {
    case WantedSpec::Kind::Version: {
      for (auto* pv : all)
        if (spec.satisfied_by(pv->version)) return pv;
      return nullptr;
    }
    case WantedSpec::Kind::Tag: {
      auto it = tags.find(spec.text);
      return it == tags.end() ? nullptr : it->second;
    }
    case WantedSpec::Kind::Range: return pick_range(all, spec, tags, o);
    default: return nullptr;
  }
}

}  // namespace tarn::resolve
