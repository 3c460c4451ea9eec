#include <tbb/task_group.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "packument_cache.hpp"
#include "packument_json.hpp"
#include "tarn/net/fetcher.hpp"
#include "tarn/resolve/packument.hpp"

namespace tarn::resolve {

using detail::Validators;

namespace {

// pnpm's Accept headers (resolving-npm-resolver fetch_full_metadata.rs).
constexpr const char* kAcceptFull = "application/json; q=1.0, */*";
constexpr const char* kAcceptAbbreviated = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

// JavaScript's encodeURIComponent, as pnpm's to_registry_url applies it.
std::string encode_uri_component(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// pnpm's hide_auth_information: the scheme, and four characters of a long credential.
std::string hide_auth(std::string_view value) {
  auto sp = value.find(' ');
  if (sp == std::string_view::npos) return "[hidden]";
  std::string_view scheme = value.substr(0, sp), token = value.substr(sp + 1);
  token = token.substr(0, token.find(' '));
  if (token.size() < 20) return std::string(scheme) + " [hidden]";
  return std::string(scheme) + " " + std::string(token.substr(0, 4)) + "[hidden]";
}

struct Job {
  PkgName name;
  bool full = false;
  std::string key, url, path;
  bool bypass = false;  // a 304 found no cached copy: ask again as a cold cache would
};

}  // namespace

std::string PackumentClient::url_for(const std::string& registry, const PkgName& name) {
  std::string base = registry.ends_with('/') ? registry : registry + "/";
  const std::string& n = name.str();
  return base + (name.scoped() ? "@" + encode_uri_component(std::string_view(n).substr(1)) : encode_uri_component(n));
}

struct PackumentClient::Impl {
  using Shared = std::shared_ptr<const Packument>;
  struct Entry {
    std::vector<Callback> waiters;
    std::optional<Result<Shared>> result;
  };

  net::Fetcher& fetcher;
  const PackumentClientOptions opts;
  std::mutex mu;
  std::condition_variable idle;
  std::map<std::string, Entry> entries;  // guarded by mu
  size_t busy = 0;  // guarded by mu: tasks queued or running, requests in flight
  tbb::task_group tasks;
  std::atomic<uint64_t> bytes{0}, sent{0}, not_modified{0}, hits{0};

  Impl(net::Fetcher& f, PackumentClientOptions o) : fetcher(f), opts(std::move(o)) {}

  ~Impl() {
    std::unique_lock lk(mu);
    idle.wait(lk, [&] { return busy == 0; });
    lk.unlock();
    tasks.wait();
  }

  void hold() {
    std::lock_guard lk(mu);
    ++busy;
  }
  void drop() {
    std::lock_guard lk(mu);
    if (--busy == 0) idle.notify_all();
  }
  // Parsing, disk and callbacks run on TBB tasks: the network thread only hands over.
  // (TBB runs a task's functor as const; the work may move what it holds, so it sits
  // behind a pointer.)
  template <class F>
  void spawn(F f) {
    hold();
    tasks.run([this, work = std::make_shared<F>(std::move(f))] {
      (*work)();
      drop();
    });
  }

  void get(const PkgName& name, bool full, Callback done) {
    std::string key = (full ? "full " : "abbr ") + name.str();
    std::unique_lock lk(mu);
    Entry& e = entries[key];
    if (e.result) {
      Result<Shared> r = *e.result;
      lk.unlock();
      spawn([done = std::move(done), r = std::move(r)]() { done(r); });
      return;
    }
    bool first = e.waiters.empty();
    e.waiters.push_back(std::move(done));
    lk.unlock();
    if (first) spawn([this, job = Job{name, full, key, "", "", false}]() mutable { start(std::move(job)); });
  }

  void complete(const std::string& key, const Result<Shared>& r) {
    std::vector<Callback> waiters;
    {
      std::lock_guard lk(mu);
      Entry& e = entries[key];
      e.result = r;
      waiters.swap(e.waiters);
    }
    for (auto& cb : waiters) cb(r);
  }

  // The cached copy, parsed; none when absent or unreadable (then it is refetched).
  std::optional<Shared> load_cached(const Job& job) {
    if (job.path.empty()) return std::nullopt;
    auto doc = detail::read_cached(job.path);
    if (!doc) return std::nullopt;
    auto p = detail::parse(doc->body, job.name, detail::Source::Cache);
    if (!p) return std::nullopt;
    return std::make_shared<const Packument>(std::move(*p));
  }

  void start(Job job) {
    const std::string registry = opts.registry_for ? opts.registry_for(job.name) : opts.registry;
    job.url = url_for(registry, job.name);
    job.path = detail::cache_path(opts.cache_dir, job.full, registry, job.name);
    if (opts.mode != CacheMode::Revalidate) {
      if (auto cached = load_cached(job)) {
        ++hits;
        return complete(job.key, *cached);
      }
      if (opts.mode == CacheMode::Offline)
        return complete(job.key, Error::failed(Code::NoOfflineMeta,
                                               "failed to resolve " + job.name.str() + " in package mirror " +
                                                   (job.path.empty() ? "(no cache-dir)" : job.path) +
                                                   ": offline, and the metadata is not cached"));
    }
    auto validators = job.path.empty() ? std::nullopt : detail::read_validators(job.path);
    request(std::move(job), validators);
  }

  // pnpm's send_metadata_request: If-None-Match from the ETag; If-Modified-Since from
  // Last-Modified, else from the packument's `modified` as an HTTP date.
  std::vector<std::pair<std::string, std::string>> headers(const Job& job, const std::optional<Validators>& v) {
    std::vector<std::pair<std::string, std::string>> h{{"Accept", job.full ? kAcceptFull : kAcceptAbbreviated}};
    if (job.bypass) h.emplace_back("Cache-Control", "no-cache");
    if (!v || job.bypass) return h;
    if (!v->etag.empty()) h.emplace_back("If-None-Match", v->etag);
    std::string since = !v->last_modified.empty() ? v->last_modified : detail::http_date_from_iso(v->modified);
    if (!since.empty()) h.emplace_back("If-Modified-Since", since);
    return h;
  }

  void request(Job job, const std::optional<Validators>& v) {
    auto auth = opts.authorization ? opts.authorization(job.url) : std::nullopt;
    net::Request req(job.url, auth, job.name.str(), headers(job, v), opts.max_body_bytes);
    req.urgent = true;  // the walk waits on metadata; tarballs can wait for it
    ++sent;
    hold();
    fetcher.get_response(std::move(req), [this, job = std::move(job), auth](Result<net::Response>&& r) mutable {
      spawn([this, job = std::move(job), auth = std::move(auth), r = std::move(r)]() mutable {
        on_response(std::move(job), auth, std::move(r));
      });
      drop();
    });
  }

  void on_response(Job job, const std::optional<std::string>& auth, Result<net::Response>&& r) {
    if (!r) return on_failure(job, auth, r.error());
    if (r->status == 304) return on_not_modified(std::move(job));
    size_t n = r->body.size();
    bytes += n;
    auto parsed = detail::parse(std::string_view(reinterpret_cast<const char*>(r->body.data()), n), job.name,
                                detail::Source::Registry);
    net::Body().swap(r->body);  // the full document goes as soon as it is trimmed
    fetcher.release(n);
    if (!parsed) return complete(job.key, parsed.error());
    if (!job.path.empty()) {
      // A cache that cannot be written costs the next install a download, not this one.
      (void)detail::write_cached(job.path, Validators{r->etag, r->last_modified, parsed->modified},
                                 detail::serialize(*parsed));
    }
    complete(job.key, std::make_shared<const Packument>(std::move(*parsed)));
  }

  void on_not_modified(Job job) {
    ++not_modified;
    if (auto cached = load_cached(job)) return complete(job.key, *cached);
    // pnpm's recover_from_not_modified: the copy the validators described is gone (or there
    // never was one): ask once more without validators, and give up on a second 304.
    if (job.bypass)
      return complete(job.key, Error::failed(Code::MetaNotModifiedWithoutCache,
                                             "failed to fetch the metadata of " + job.name.str() +
                                                 ": the registry returned 304 without an existing cache to refresh"));
    job.bypass = true;
    request(std::move(job), std::nullopt);
  }

  void on_failure(const Job& job, const std::optional<std::string>& auth, Error e) {
    // pnpm falls back to the cached copy when the fetch of a public registry's metadata
    // fails, whatever the failure.
    if (auto cached = load_cached(job)) return complete(job.key, *cached);
    unsigned s = e.http_status;
    if (e.code == Code::FetchStatus && (s == 401 || s == 403 || s == 404)) {
      // pnpm's RegistryResponseError: the package named, and whether a credential was sent.
      std::string msg = "failed to fetch the metadata of " + job.name.str() + ": GET " + printable(job.url) + ": " +
                        (s == 404 ? "Not Found" : s == 401 ? "Unauthorized" : "Forbidden") + " - " + std::to_string(s);
      if (s == 404) msg += ". " + job.name.str() + " is not in the npm registry, or you have no permission to fetch it";
      msg += auth ? ". An authorization header was used: " + hide_auth(*auth)
                  : ". No authorization header was set for the request";
      e = Error::http(s, msg + ".");
    }
    complete(job.key, e);
  }
};

PackumentClient::PackumentClient(net::Fetcher& fetcher, PackumentClientOptions options)
    : impl_(std::make_unique<Impl>(fetcher, std::move(options))) {}
PackumentClient::~PackumentClient() = default;

void PackumentClient::get(const PkgName& name, bool full, Callback done) { impl_->get(name, full, std::move(done)); }

uint64_t PackumentClient::metadata_bytes() const { return impl_->bytes; }
uint64_t PackumentClient::requests() const { return impl_->sent; }
uint64_t PackumentClient::not_modified() const { return impl_->not_modified; }
uint64_t PackumentClient::cache_hits() const { return impl_->hits; }

Result<Packument> parse_packument(std::string_view json, const PkgName& what) {
  return detail::parse(json, what, detail::Source::Registry);
}

}  // namespace tarn::resolve
