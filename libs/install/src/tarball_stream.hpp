#pragma once
// Big tarballs unpack while they download (issue 9): a body of kStreamFrom bytes or more,
// or of unknown length, goes from the network thread through a queue of reads to a thread
// of its own, which inflates, unpacks and verifies it into the store as the reads arrive.
// No such body is ever held whole, and its extraction ends when its last byte lands
// instead of starting then. Smaller bodies are collected and extracted in one piece on
// TBB, which is cheaper per byte (libdeflate, no thread) and is most of every install.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tarn/core/types.hpp"
#include "tarn/net/fetcher.hpp"
#include "tarn/store/store.hpp"

namespace tarn {

class StreamSink;

class TarballStreams {
 public:
  // Bodies at least this big stream. On alotta-modules that is 8 of 1,347 tarballs
  // measured (Content-Length from the npm registry), but 32.7 MB of the 66.5 MB, the two
  // highcharts at 9.5 MB each among them; the rest stay on the whole-buffer path.
  static constexpr uint64_t kStreamFrom = uint64_t{1} << 20;
  // Streams at once, process-wide; a body over the limit is collected as a small one is.
  // Each holds a thread that mostly waits on the network.
  static constexpr int kMaxStreams = 4;

  TarballStreams(net::Fetcher& fetcher, const Store& store) : fetcher_(fetcher), store_(store) {}
  ~TarballStreams() { join(); }
  TarballStreams(const TarballStreams&) = delete;
  TarballStreams& operator=(const TarballStreams&) = delete;

  // What Store::add made of a streamed body, on the stream's thread. Not called for an
  // attempt the network cut off: the fetcher retries it, or fails the request.
  using Stored = std::function<void(Result<Store::Package>&&)>;
  // A sink for one download into `key`, to set as its request's sink.
  std::shared_ptr<StreamSink> sink(StoreKey key, std::optional<Integrity> want, std::string what, Stored stored);
  // Waits for every stream's thread; call once the fetcher is idle.
  void join();

 private:
  friend class StreamSink;
  bool start(std::function<void()> work);

  net::Fetcher& fetcher_;
  const Store& store_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

// One download's sink. took() tells the request's callback whether the attempt that
// answered was streamed, so its (empty) body is not extracted again.
class StreamSink final : public net::BodySink, public std::enable_shared_from_this<StreamSink> {
 public:
  StreamSink(TarballStreams& owner, StoreKey key, std::optional<Integrity> want, std::string what,
             TarballStreams::Stored stored)
      : owner_(owner), key_(std::move(key)), want_(std::move(want)), what_(std::move(what)), stored_(std::move(stored)) {}
  bool open(unsigned attempt, std::optional<uint64_t> size) override;
  void write(std::span<const uint8_t> bytes) override;
  void close(bool whole) override;
  bool took() const { return pipe_ != nullptr; }

  class Pipe;

 private:
  TarballStreams& owner_;
  StoreKey key_;
  std::optional<Integrity> want_;
  std::string what_;
  TarballStreams::Stored stored_;
  std::shared_ptr<Pipe> pipe_;  // the open attempt's, or the last one's; network thread only
};

}  // namespace tarn
