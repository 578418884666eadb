#include <inferwatch/server/broadcaster.hpp>

#include <algorithm>

namespace inferwatch::server {

void Broadcaster::subscribe(const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard lock(m_mutex);
  m_subscribers.push_back(subscriber);
}

void Broadcaster::unsubscribe(const Subscriber* subscriber) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_subscribers, [&](const std::weak_ptr<Subscriber>& w) {
    const auto s = w.lock();
    return !s || s.get() == subscriber;
  });
}

void Broadcaster::publish(std::int64_t id, const std::string& path, const std::string& json) {
  deliver_all(std::make_shared<const StreamEvent>(
      StreamEvent{id, path, std::make_shared<const std::string>(json)}));
}

void Broadcaster::publish_feedback(std::int64_t result_id, const std::string& path,
                                   const std::string& message) {
  deliver_all(std::make_shared<const StreamEvent>(StreamEvent{
      result_id, path, std::make_shared<const std::string>(message), StreamEvent::Kind::feedback}));
}

void Broadcaster::deliver_all(const std::shared_ptr<const StreamEvent>& event) {
  std::vector<std::shared_ptr<Subscriber>> targets;
  {
    std::lock_guard lock(m_mutex);
    targets.reserve(m_subscribers.size());
    for (const auto& w : m_subscribers) {
      if (auto s = w.lock()) targets.push_back(std::move(s));
    }
  }
  for (const auto& s : targets) s->deliver(event);
}

void Broadcaster::shut_down_all() {
  std::vector<std::shared_ptr<Subscriber>> targets;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& w : m_subscribers) {
      if (auto s = w.lock()) targets.push_back(std::move(s));
    }
  }
  for (const auto& s : targets) s->shut_down();
}

std::size_t Broadcaster::subscribers() const {
  std::lock_guard lock(m_mutex);
  return m_subscribers.size();
}

}  // namespace inferwatch::server
