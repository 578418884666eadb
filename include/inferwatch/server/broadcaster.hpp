#pragma once

// Fan-out of committed results to WebSocket streams (Beast's chat-multi shape): each event is
// serialized once and the same buffer goes to every subscriber; the subscriber list is copied
// under the lock and delivered outside it. Delivery only posts to the subscriber's strand, so a
// slow client never holds up the store thread. Thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace inferwatch::server {

struct StreamEvent {
  // A result (the §5 JSON, ordered by id) or feedback on one (SPEC §11: no id of its own, so it
  // never moves a subscriber's `after` cursor and is never replayed).
  enum class Kind { result, feedback };
  std::int64_t id = 0;  // the result's id (for feedback: the result it is about)
  std::string path;     // the raw name (any bytes), relative to its watch root
  std::shared_ptr<const std::string> text;  // the message, shared by every subscriber
  Kind kind = Kind::result;
};

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Must not block: called on the publisher's thread.
  virtual void deliver(const std::shared_ptr<const StreamEvent>& event) = 0;
  // The server is stopping: close with "going away" (must not block either).
  virtual void shut_down() = 0;
};

class Broadcaster {
 public:
  void subscribe(const std::shared_ptr<Subscriber>& subscriber);
  void unsubscribe(const Subscriber* subscriber);
  void publish(std::int64_t id, const std::string& path, const std::string& json);
  // Send `message` (a `{"type":"feedback",...}` object) about result `result_id` of `path` to
  // every subscriber whose path prefix matches.
  void publish_feedback(std::int64_t result_id, const std::string& path,
                        const std::string& message);
  // Ask every subscriber to close ("going away").
  void shut_down_all();
  std::size_t subscribers() const;

 private:
  void deliver_all(const std::shared_ptr<const StreamEvent>& event);

  mutable std::mutex m_mutex;
  std::vector<std::weak_ptr<Subscriber>> m_subscribers;  // guarded by m_mutex
};

}  // namespace inferwatch::server
