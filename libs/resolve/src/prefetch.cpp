#include "prefetch.hpp"

#include <deque>

namespace tarn::resolve {

void SharedSource::get(const PkgName& name, bool full, Callback done) {
  std::string key = full ? name.str() + "\tfull" : name.str();
  std::unique_lock lk(mu_);
  Entry& e = entries_[key];
  if (e.result) {
    auto r = *e.result;
    lk.unlock();
    return done(std::move(r));
  }
  bool first = e.waiters.empty();
  e.waiters.push_back(std::move(done));
  lk.unlock();
  if (!first) return;
  inner_.get(name, full, [this, key](Result<std::shared_ptr<const Packument>> r) {
    std::vector<Callback> waiters;
    {
      std::lock_guard lk(mu_);
      Entry& e = entries_[key];
      e.result = r;
      waiters.swap(e.waiters);
    }
    for (auto& cb : waiters) cb(r);
  });
}

MetadataPrefetch::MetadataPrefetch(PackumentSource& source, PickOptions base, bool peers)
    : source_(source), base_(std::move(base)), peers_(peers) {}

MetadataPrefetch::~MetadataPrefetch() { stop(); }

void MetadataPrefetch::stop() {
  std::unique_lock lk(mu_);
  stopped_ = true;
  idle_.wait(lk, [&] { return busy_ == 0; });
}

void MetadataPrefetch::hold() {
  std::lock_guard lk(mu_);
  ++busy_;
}

void MetadataPrefetch::release() {
  std::lock_guard lk(mu_);
  if (--busy_ == 0) idle_.notify_all();
}

// Expansions run as a loop, not a recursion: a source may answer inside get(), and a chain
// of answers already here would otherwise nest one stack frame per level of the graph.
void MetadataPrefetch::schedule(Item item) {
  thread_local std::deque<Item>* queue = nullptr;
  if (queue) return queue->push_back(std::move(item));
  std::deque<Item> local;
  local.push_back(std::move(item));
  queue = &local;
  while (!local.empty()) {
    Item x = std::move(local.front());
    local.pop_front();
    for (auto& s : x.specs) x.owner->expand(*x.doc, s);
    x.owner->release();
  }
  queue = nullptr;
}

void MetadataPrefetch::want(const WantedSpec& spec, bool optional) {
  if (!spec.is_registry()) return;
  std::string key = optional ? spec.name.str() + "\tfull" : spec.name.str();
  std::shared_ptr<const Packument> doc;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    Node& node = nodes_[key];
    for (auto& s : node.specs)
      if (s.text == spec.text && s.kind == spec.kind) return;
    node.specs.push_back(spec);
    doc = node.doc;
    if (!doc && node.requested) return;
    node.requested = true;
    ++busy_;  // released by schedule() or arrived()
  }
  if (doc) return schedule(Item{this, doc, {spec}});
  source_.get(spec.name, optional, [this, key](Result<std::shared_ptr<const Packument>> r) { arrived(key, r); });
}

void MetadataPrefetch::arrived(const std::string& key, const Result<std::shared_ptr<const Packument>>& r) {
  // A package that fails here fails the walk too, which reports it; a guess needs no error.
  if (!r) return release();
  std::vector<WantedSpec> specs;
  {
    std::lock_guard lk(mu_);
    Node& node = nodes_[key];
    node.doc = *r;
    specs = node.specs;
  }
  schedule(Item{this, *r, std::move(specs)});
}

void MetadataPrefetch::expand(const Packument& doc, const WantedSpec& spec) {
  const PackageVersion* pv = pick_version(doc, spec, base_);
  if (!pv && base_.published_by) {
    PickOptions any = base_;
    any.published_by.reset();
    pv = pick_version(doc, spec, any);
  }
  if (!pv) return;
  {
    std::lock_guard lk(mu_);
    if (stopped_ || !expanded_.insert(doc.name.str() + "@" + pv->version.str()).second) return;
  }
  auto each = [&](const std::vector<std::pair<std::string, std::string>>& deps, bool optional) {
    for (auto& [n, range] : deps) {
      auto name = PkgName::parse(n);
      if (!name) continue;
      if (auto ws = WantedSpec::parse(*name, range)) want(*ws, optional);
    }
  };
  each(pv->dependencies, false);
  each(pv->optional_dependencies, true);
  if (peers_) each(pv->peer_dependencies, false);
}

}  // namespace tarn::resolve
