// The WebSocket result stream (Boost.Beast websocket): one strand per session, one write in
// flight, a read always pending (pings, close), a bounded queue, and replay-then-live.
#include "stream_session.hpp"

#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <vector>

namespace inferwatch::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;

constexpr std::int64_t k_replay_page = 256;
// How long a client being closed has to take the message in flight and the close frame; past
// that, the connection is dropped without them.
constexpr std::chrono::seconds k_close_grace{30};

class StreamSession final : public Subscriber, public std::enable_shared_from_this<StreamSession> {
 public:
  StreamSession(beast::tcp_stream stream, std::int64_t after, std::string prefix,
                StreamShared& shared)
      : m_ws(std::move(stream)),
        m_heartbeat(m_ws.get_executor()),
        m_cutoff(m_ws.get_executor()),
        m_last_sent(after),
        m_prefix(util::to_valid_utf8(prefix)),
        m_shared(shared) {
    const int clients = ++m_shared.clients;
    if (m_shared.options.metrics) m_shared.options.metrics->websocket_clients(clients);
  }

  ~StreamSession() override {
    const int clients = --m_shared.clients;
    if (m_shared.options.metrics) {
      m_shared.options.metrics->websocket_clients(clients);
      m_shared.options.metrics->websocket_disconnect(m_reason);
    }
  }

  void run(http::request<http::string_body> request) {
    beast::get_lowest_layer(m_ws).expires_never();  // the websocket timeouts take over
    m_ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    m_ws.read_message_max(m_shared.options.max_message_bytes);
    m_ws.async_accept(request,
                      [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  // Any thread: hop onto the strand.
  void deliver(const std::shared_ptr<const StreamEvent>& event) override {
    net::post(m_ws.get_executor(), [self = shared_from_this(), event] { self->on_event(*event); });
  }

  void shut_down() override {
    net::post(m_ws.get_executor(), [self = shared_from_this()] {
      self->close_with(websocket::close_code::going_away, "server shutting down", "shutdown");
    });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return finish("error");
    // Live first, then replay: an event committed meanwhile is in one or the other, and ids
    // already sent are skipped, so there is neither gap nor duplicate at the hand-over.
    m_shared.options.broadcaster->subscribe(shared_from_this());
    do_read();
    arm_heartbeat();
    replay();
  }

  // Replay stored results up to half the queue's limits; the rest follows once the queue has
  // drained, so a client far behind is paced rather than cut off as a slow consumer.
  void replay() {
    if (m_closing) return;
    store::ResultQuery query;
    query.after = m_last_sent;
    query.limit = std::min<std::int64_t>(
        k_replay_page, std::max<std::size_t>(1, m_shared.options.queue_messages / 2));
    query.path_prefix = m_prefix;
    const auto found = m_shared.options.reader->results(query);
    if (!found) {
      // The database cannot answer now: the client resumes from its last id when it can.
      spdlog::warn("result stream: cannot replay: {}", found.error().message);
      return close_with(websocket::close_code::try_again_later,
                        "the database cannot answer now; resume with after", "store_unavailable");
    }
    const auto& rows = *found;
    bool more = static_cast<std::int64_t>(rows.size()) == query.limit;
    for (const auto& row : rows) {
      if (!m_queue.empty() && m_queued_bytes + row.json.size() > m_shared.options.queue_bytes / 2) {
        more = true;  // continue from m_last_sent
        break;
      }
      enqueue(std::make_shared<const std::string>(row.json), row.id);
    }
    if (more) {
      m_replay_pending = true;  // continued from on_write when the queue is empty
      if (!m_writing) continue_replay();
      return;
    }
    m_replaying = false;
    for (const auto& event : m_held) on_event(event);
    m_held.clear();
  }

  void continue_replay() {
    m_replay_pending = false;
    net::post(m_ws.get_executor(), [self = shared_from_this()] { self->replay(); });
  }

  void on_event(const StreamEvent& event) {
    // Feedback has no id of its own: it is sent whatever the cursor, and does not move it.
    const bool feedback = event.kind == StreamEvent::Kind::feedback;
    if (m_closing || (!feedback && event.id <= m_last_sent)) return;
    if (!m_prefix.empty() && !matches_prefix(event.path)) return;
    if (m_replaying) {
      if (m_held.size() >= m_shared.options.queue_messages) return close_slow();
      m_held.push_back(event);
      return;
    }
    enqueue(event.text, feedback ? 0 : event.id);
  }

  // The prefix filters display paths (SPEC §5), as the replay's query does; events carry the raw
  // name, converted only when it is not valid UTF-8.
  bool matches_prefix(const std::string& raw_path) const {
    if (util::is_valid_utf8(raw_path)) return raw_path.starts_with(m_prefix);
    return util::to_valid_utf8(raw_path).starts_with(m_prefix);
  }

  void enqueue(std::shared_ptr<const std::string> text, std::int64_t id) {
    if (m_closing) return;
    if (m_queue.size() >= m_shared.options.queue_messages ||
        m_queued_bytes + text->size() > m_shared.options.queue_bytes) {
      return close_slow();
    }
    m_queued_bytes += text->size();
    m_queue.push_back(std::move(text));
    if (id > 0) m_last_sent = id;
    if (!m_writing) do_write();
  }

  void do_write() {
    m_writing = true;
    m_ws.text(true);
    m_ws.async_write(
        net::buffer(*m_queue.front()),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    m_writing = false;
    if (ec) return finish("error");
    m_queued_bytes -= m_queue.front()->size();
    m_queue.pop_front();
    if (m_closing) {
      if (m_close_after_write) send_close();
      return;
    }
    if (!m_queue.empty()) return do_write();
    if (m_replay_pending) continue_replay();
  }

  // The client falls behind: tell it why, and let it resume with ?after=<last id it has>.
  void close_slow() {
    if (m_closing) return;
    beast::error_code ec;
    const auto peer = beast::get_lowest_layer(m_ws).socket().remote_endpoint(ec);
    spdlog::info(
        "result stream {}: closed as a slow consumer ({} messages, {} bytes waiting); it "
        "may resume with after={}",
        ec ? std::string("client")
           : fmt::format("client {}:{}", peer.address().to_string(), peer.port()),
        m_queue.size() + m_held.size(), m_queued_bytes, m_last_sent);
    close_with(websocket::close_code::try_again_later, "slow consumer", "slow_consumer");
  }

  void close_with(websocket::close_code code, const char* text, const char* reason) {
    if (m_closing) return;
    m_closing = true;
    m_reason = reason;
    m_close = websocket::close_reason(code, text);
    m_shared.options.broadcaster->unsubscribe(this);
    m_heartbeat.cancel();
    m_queue.erase(m_queue.begin() + (m_writing ? 1 : 0), m_queue.end());  // drop what was not sent
    // One write may be in flight: close once it ends. A client that stops reading holds that
    // write, and this session, until Beast's idle timeout (minutes of silence; never while the
    // client keeps sending), and a timeout set on the TCP stream now would not reach the write
    // and the read already pending: so past the grace, the socket is closed under them.
    m_cutoff.expires_after(k_close_grace);
    m_cutoff.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // the session finished in time
      beast::get_lowest_layer(self->m_ws).close();
    });
    if (m_writing)
      m_close_after_write = true;
    else
      send_close();
  }

  void send_close() {
    m_close_after_write = false;
    m_ws.async_close(m_close, [self = shared_from_this()](beast::error_code) {});
  }

  void do_read() {
    m_ws.async_read(m_read_buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->finish(ec == websocket::error::closed ? "client_closed" : "error");
      self->on_message();
      self->m_read_buffer.consume(self->m_read_buffer.size());
      self->do_read();
    });
  }

  // A client's message (feedback) is answered on this stream, in order with the results: the
  // reply counts against the same queue, so a client that sends without reading is closed as a
  // slow consumer like one that does not read results.
  void on_message() {
    if (m_closing || !m_shared.options.on_message || !m_ws.got_text()) return;
    const auto data = m_read_buffer.cdata();
    std::string reply = m_shared.options.on_message(
        std::string_view(static_cast<const char*>(data.data()), data.size()));
    if (!reply.empty()) enqueue(std::make_shared<const std::string>(std::move(reply)), 0);
  }

  void arm_heartbeat() {
    m_heartbeat.expires_after(m_shared.options.heartbeat);
    m_heartbeat.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->m_closing) return;
      self->enqueue(std::make_shared<const std::string>(
                        fmt::format(R"({{"type":"heartbeat","last_id":{}}})", self->m_last_sent)),
                    0);
      self->arm_heartbeat();
    });
  }

  void finish(const char* reason) {
    if (!m_closing) m_reason = reason;  // a slow-consumer close keeps its own reason
    m_closing = true;
    m_heartbeat.cancel();
    m_cutoff.cancel();
    m_shared.options.broadcaster->unsubscribe(this);
  }

  websocket::stream<beast::tcp_stream> m_ws;
  net::steady_timer m_heartbeat;
  net::steady_timer m_cutoff;  // drops a closing client that does not take the close
  beast::flat_buffer m_read_buffer;
  std::deque<std::shared_ptr<const std::string>> m_queue;  // strand only, like everything below
  std::size_t m_queued_bytes = 0;
  std::vector<StreamEvent> m_held;  // live events that arrived during the replay
  std::int64_t m_last_sent;
  std::string m_prefix;  // valid UTF-8
  bool m_writing = false;
  bool m_replaying = true;
  bool m_replay_pending = false;
  bool m_closing = false;
  bool m_close_after_write = false;
  websocket::close_reason m_close;
  std::string m_reason = "client_closed";
  StreamShared& m_shared;
};

}  // namespace

void start_stream(beast::tcp_stream stream, http::request<http::string_body> request,
                  std::int64_t after, std::string path_prefix, StreamShared& shared) {
  std::make_shared<StreamSession>(std::move(stream), after, std::move(path_prefix), shared)
      ->run(std::move(request));
}

}  // namespace inferwatch::server
