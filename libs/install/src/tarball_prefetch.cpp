#include "tarball_prefetch.hpp"

#include "passes.hpp"
#include "tarn/resolve/resolver.hpp"
#include "tarn/tarball/tarball.hpp"

namespace tarn {

TarballPrefetch::TarballPrefetch(InstallContext& cx) : cx_(cx) {
  if (cx_.fetcher) streams_.emplace(*cx_.fetcher, *cx_.store);
}

TarballPrefetch::~TarballPrefetch() {
  try {
    drain();
  } catch (...) {
  }
}

void TarballPrefetch::pick(const PkgName& name, const resolve::PackageVersion& pv) {
  std::string what = name.str() + "@" + pv.version.str();
  cx_.rep.resolved(what);
  // --offline resolves from the metadata cache and downloads nothing (store-check then
  // names what the store lacks).
  if (!pv.integrity || !cx_.fetcher || cx_.opts.offline) return;
  StoreKey key = StoreKey::from_integrity(*pv.integrity);
  if (started_.count(key.rel()) || cx_.store->check(key) == Store::Health::Present) return;
  started_.insert(key.rel());
  net::Request req{pv.tarball.str(), cx_.settings.authorization_for(pv.tarball.str()), what};
  req.progress = download_progress(cx_.rep, what);
  auto sink = streams_->sink(key, *pv.integrity, what, [this, key](Result<Store::Package>&& stored) {
    finished(key.rel(), stored.has_value());
  });
  req.sink = sink;
  // Failures only mark the key: the link pass downloads it again and reports every error.
  cx_.fetcher->get(std::move(req), [this, key, want = *pv.integrity, what, sink](Result<net::Body>&& body) {
    if (!body) {
      tasks_.run([this, key] { finished(key.rel(), false); });
      return;
    }
    cx_.rep.downloaded(what);
    if (sink->took()) return;
    tasks_.run([this, key, want, what, b = std::make_shared<net::Body>(std::move(*body))] {
      size_t n = b->size();
      auto stored = cx_.store->add(key, [&](int fd) { return unpack_tarball(*b, &want, fd, what); });
      b->clear();
      b->shrink_to_fit();
      cx_.fetcher->release(n);
      finished(key.rel(), stored.has_value());
    });
  });
}

void TarballPrefetch::finished(const std::string& key, bool stored) {
  std::vector<std::function<void(bool)>> waiters;
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[key];
    e.done = true;
    e.stored = stored;
    waiters.swap(e.waiters);
  }
  for (auto& w : waiters) w(stored);
}

void TarballPrefetch::when_stored(const StoreKey& key, std::function<void(bool)> then) {
  bool stored = false;
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[key.rel()];
    if (!e.done) return e.waiters.push_back(std::move(then));
    stored = e.stored;
  }
  then(stored);
}

void TarballPrefetch::drain() {
  if (cx_.fetcher)
    while (!cx_.fetcher->wait_idle_for(std::chrono::milliseconds(2))) tasks_.wait();
  if (streams_) streams_->join();
  tasks_.wait();
}

}  // namespace tarn
