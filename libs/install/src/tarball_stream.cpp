#include "tarball_stream.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <system_error>

#include "tarn/tarball/tarball.hpp"

namespace tarn {

namespace {
std::atomic<int> g_streams{0};  // running, process-wide (TarballStreams::kMaxStreams)
}

// The reads of one attempt's body, from the network thread to the stream's thread. Every
// byte queued here counts toward the fetcher's pending bytes until it is released, which
// is what makes the network wait for a stream that falls behind.
class StreamSink::Pipe final : public ByteSource {
 public:
  Pipe(net::Fetcher& f, const std::string& what) : fetcher_(f), what_(what) {}
  ~Pipe() override { abandon(); }

  // Network thread.
  void push(std::span<const uint8_t> bytes) {
    {
      std::lock_guard lock(mu_);
      if (!abandoned_) {
        reads_.emplace_back(bytes.begin(), bytes.end());
        cv_.notify_one();
        return;
      }
    }
    fetcher_.release(bytes.size());  // nobody reads any more: let the network go on
  }
  void close(bool whole) {
    size_t dropped = 0;
    {
      std::lock_guard lock(mu_);
      (whole ? ended_ : cut_) = true;
      if (!whole) dropped = drop_queued();
      cv_.notify_one();
    }
    fetcher_.release(dropped);
  }

  // The stream's thread.
  Result<std::span<const uint8_t>> next() override {
    std::unique_lock lock(mu_);
    fetcher_.release(std::exchange(held_, 0));
    current_.clear();
    cv_.wait(lock, [&] { return !reads_.empty() || ended_ || cut_; });
    if (cut_) return Error::failed(Code::FetchFailed, "failed to fetch " + what_ + ": the download was cut off");
    if (reads_.empty()) return std::span<const uint8_t>();
    current_ = std::move(reads_.front());
    reads_.pop_front();
    held_ = current_.size();
    return std::span<const uint8_t>(current_);
  }
  // The stream stopped reading: whatever is queued or still comes is released at once.
  // True when the network had cut the body off.
  bool abandon() {
    size_t n = 0;
    bool cut = false;
    {
      std::lock_guard lock(mu_);
      abandoned_ = true;
      n = drop_queued() + std::exchange(held_, 0);
      cut = cut_;
    }
    fetcher_.release(n);
    return cut;
  }

 private:
  size_t drop_queued() {
    size_t n = 0;
    for (auto& r : reads_) n += r.size();
    reads_.clear();
    return n;
  }

  net::Fetcher& fetcher_;
  const std::string& what_;  // the sink's, which outlives the pipe's reader
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<uint8_t>> reads_;
  std::vector<uint8_t> current_;  // the stream thread's piece
  size_t held_ = 0;               // current_'s bytes, not yet released
  bool ended_ = false, cut_ = false, abandoned_ = false;
};

std::shared_ptr<StreamSink> TarballStreams::sink(StoreKey key, std::optional<Integrity> want, std::string what,
                                                 Stored stored) {
  return std::make_shared<StreamSink>(*this, std::move(key), std::move(want), std::move(what), std::move(stored));
}

bool TarballStreams::start(std::function<void()> work) {
  if (g_streams.fetch_add(1) >= kMaxStreams) {
    --g_streams;
    return false;
  }
  try {
    std::lock_guard lock(mu_);
    threads_.emplace_back([work = std::move(work)] {
      work();
      --g_streams;
    });
    return true;
  } catch (const std::system_error&) {  // no thread to be had: collect the body instead
    --g_streams;
    return false;
  }
}

void TarballStreams::join() {
  for (;;) {
    std::vector<std::thread> done;
    {
      std::lock_guard lock(mu_);
      done.swap(threads_);
    }
    if (done.empty()) return;
    for (auto& t : done) t.join();
  }
}

// Network thread: each attempt that gets a big 200 gets a pipe and a thread of its own.
// A failed attempt's thread ends on the cut and reports nothing; the retry starts afresh.
bool StreamSink::open(unsigned, std::optional<uint64_t> size) {
  pipe_.reset();
  if (size && *size < TarballStreams::kStreamFrom) return false;
  auto pipe = std::make_shared<Pipe>(owner_.fetcher_, what_);
  bool started = owner_.start([this, pipe, self = shared_from_this()] {
    const Store& store = owner_.store_;
    auto stored = store.add(key_, [&](int fd) {
      return unpack_tarball_stream(*pipe, want_ ? &*want_ : nullptr, fd, what_);
    });
    if (!pipe->abandon()) stored_(std::move(stored));
  });
  if (started) pipe_ = std::move(pipe);
  return started;
}

void StreamSink::write(std::span<const uint8_t> bytes) { pipe_->push(bytes); }

void StreamSink::close(bool whole) {
  pipe_->close(whole);
  if (!whole) pipe_.reset();
}

}  // namespace tarn
