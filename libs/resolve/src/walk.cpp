// The resolution walk. Breadth-first and metadata-first: every packument a known edge needs
// is requested at once through the PackumentClient (which de-duplicates in-flight names);
// this thread consumes completions as they land, picks versions and requests the next
// level. Picks are pure functions of (packument, spec, options), so the graph does not
// depend on the order responses arrive in.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "tarn/resolve/resolver.hpp"

namespace tarn::resolve {

namespace {

// Who asked for a package: an importer's direct dependency or a package's child edge.
struct Want {
  size_t owner;      // importer index, or package index
  bool from_importer;
  size_t slot;       // index in the owner's deps / children
  WantedSpec spec;
};

struct Walk {
  const ResolveInput& in;
  PackumentSource& client;
  ResolvedTree tree;
  ErrorSink errs;
  std::unordered_map<std::string, size_t> by_id;  // "name@version" -> package index
  std::unordered_map<std::string, std::vector<Want>> waiting;  // name -> wants
  std::unordered_map<std::string, std::shared_ptr<const Packument>> docs;
  std::vector<Preferred> no_prefs;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::string, Result<std::shared_ptr<const Packument>>>> done;
  size_t in_flight = 0;

  PickOptions pick_options(bool direct) const {
    PickOptions o;
    o.lowest = direct && in.mode == ResolutionMode::LowestDirect;
    if (in.minimum_release_age) o.published_by = in.now - *in.minimum_release_age;
    return o;
  }

  void request(Want w) {
    std::string name = w.spec.name.str();  // a copy: `w` is moved below
    if (auto it = docs.find(name); it != docs.end()) return settle(w, it->second);
    auto& list = waiting[name];
    list.push_back(std::move(w));
    if (list.size() > 1) return;
    ++in_flight;
    client.get(PkgName(list.front().spec.name), [this, name](Result<std::shared_ptr<const Packument>> r) {
      std::lock_guard lk(mu);
      done.emplace_back(name, std::move(r));
      cv.notify_one();
    });
  }

  std::string owner_name(const Want& w) const {
    return w.from_importer ? "importer " + in.projects[w.owner].id.str()
                           : tree.packages[w.owner].name.str() + "@" + tree.packages[w.owner].meta->version.str();
  }

  void no_match(const Want& w, const Packument& doc) {
    std::string have;
    for (size_t i = doc.versions.size(), n = 0; i-- > 0 && n < 10; ++n)
      have += (n ? ", " : "") + doc.versions[i].version.str();
    errs.add(Error::failed(Code::NoMatchingVersion,
                           "No matching version found for " + w.spec.name.str() + "@" + printable(w.spec.text) +
                               " while fetching it from " + owner_name(w) +
                               (have.empty() ? "; the registry has no versions" : "; the registry has " + have)));
  }

  size_t node_for(const std::shared_ptr<const Packument>& doc, const PackageVersion* pv) {
    std::string id = doc->name.str() + "@" + pv->version.str();
    auto [it, fresh] = by_id.emplace(id, tree.packages.size());
    if (!fresh) return it->second;
    ResolvedPackage p;
    p.name = doc->name;
    p.doc = doc;
    p.meta = pv;
    tree.packages.push_back(std::move(p));
    if (in.on_picked) in.on_picked(doc->name, *pv);
    expand(it->second);
    return it->second;
  }

  void settle(const Want& w, const std::shared_ptr<const Packument>& doc) {
    PickOptions o = pick_options(w.from_importer);
    const PackageVersion* pv = pick_version(*doc, w.spec, o);
    if (!pv) return no_match(w, *doc);
    size_t target = node_for(doc, pv);
    if (w.from_importer) tree.importers[w.owner].deps[w.slot].target = target;
    else tree.packages[w.owner].children[w.slot].target = target;
  }

  void expand(size_t pkg);
  void start_importers();
  Result<void> run();
};

void Walk::expand(size_t pkg) {
  const PackageVersion& pv = *tree.packages[pkg].meta;
  auto add = [&](const std::string& alias, const std::string& spec, bool optional) {
    auto name = PkgName::parse(alias);
    if (!name) return errs.add(name.error());
    auto ws = WantedSpec::parse(*name, spec);
    if (!ws) return errs.add(ws.error());
    if (!ws->is_registry())
      return errs.add(Error::failed(Code::Unsupported, "failed to resolve " + alias + "@" + printable(spec) + " (from " +
                                                           tree.packages[pkg].name.str() +
                                                           "): tarn resolves registry dependencies only"));
    size_t slot = tree.packages[pkg].children.size();
    tree.packages[pkg].children.push_back({*name, SIZE_MAX, optional});
    request(Want{pkg, false, slot, std::move(*ws)});
  };
  // A name in both lists is an optional dependency (npm's rule).
  for (auto& [a, s] : pv.dependencies) {
    bool dup = false;
    for (auto& o : pv.optional_dependencies) dup |= o.first == a;
    if (!dup) add(a, s, false);
  }
  for (auto& [a, s] : pv.optional_dependencies) add(a, s, true);
}

void Walk::start_importers() {
  for (size_t i = 0; i < in.projects.size(); ++i) {
    auto& m = in.projects[i].manifest;
    tree.importers.push_back({in.projects[i].id, {}});
    std::map<std::string, std::pair<DepGroup, std::string>> want;  // pnpm's precedence: optional > prod > dev
    for (auto& [n, s] : m.dev_dependencies) want[n] = {DepGroup::Dev, s};
    for (auto& [n, s] : m.dependencies) want[n] = {DepGroup::Prod, s};
    for (auto& [n, s] : m.optional_dependencies) want[n] = {DepGroup::Optional, s};
    for (auto& [alias, gs] : want) {
      auto name = PkgName::parse(alias);
      if (!name) {
        errs.add(name.error());
        continue;
      }
      auto ws = WantedSpec::parse(*name, gs.second);
      if (!ws) {
        errs.add(ws.error());
        continue;
      }
      if (!ws->is_registry()) {
        errs.add(Error::failed(Code::Unsupported, "failed to resolve " + alias + "@" + printable(gs.second) + " in " +
                                                      in.projects[i].id.str() + ": tarn resolves registry dependencies only"));
        continue;
      }
      size_t slot = tree.importers[i].deps.size();
      tree.importers[i].deps.push_back({*name, gs.second, gs.first, SIZE_MAX});
      request(Want{i, true, slot, std::move(*ws)});
    }
  }
}

Result<void> Walk::run() {
  start_importers();
  while (in_flight > 0) {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return !done.empty(); });
    auto [name, r] = std::move(done.front());
    done.pop_front();
    lk.unlock();
    --in_flight;
    auto wants = std::move(waiting[name]);
    waiting.erase(name);
    if (!r) {
      errs.add(r.error());
      continue;
    }
    docs[name] = *r;
    for (auto& w : wants) settle(w, *r);
  }
  if (!errs.empty()) return errs.merged("resolving dependencies");
  return {};
}

}  // namespace

Result<ResolvedTree> resolve_tree(const ResolveInput& in, PackumentSource& client) {
  Walk w{in, client, {}, {}, {}, {}, {}, {}, {}, {}, {}, 0};
  if (auto r = w.run(); !r) return r.error();
  return std::move(w.tree);
}

}  // namespace tarn::resolve
