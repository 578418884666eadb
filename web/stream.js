// The result stream (GET /v1/stream): results and feedback events as they happen, resumed with
// `after` = the last id received after any close, so nothing is missed and nothing comes twice.

import { api, streamUrl, Unauthorized } from "./api.js";

const k_min_retry_ms = 500;
const k_max_retry_ms = 10000;

export class Stream {
  // handlers: onResult(result), onFeedback(resultId, feedback), onState("live" | "reconnecting"),
  // onUnauthorized().
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.timer = null;
    this.stopped = true;
  }

  // Follow results with id > `after` (and path starting with `pathPrefix`).
  start(after, pathPrefix) {
    this.stop();
    this.after = after;
    this.pathPrefix = pathPrefix;
    this.stopped = false;
    this.retryMs = k_min_retry_ms;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000, "page done");
      this.socket = null;
    }
  }

  connect() {
    const socket = new WebSocket(streamUrl(this.after, this.pathPrefix));
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.retryMs = k_min_retry_ms;
      this.handlers.onState("live");
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.handlers.onState("reconnecting");
      // A refused handshake looks like any failed connection to a browser: ask the API why.
      const check = opened ? Promise.resolve() : api("/v1/status").then(() => {});
      check.then(() => this.retry(), (error) => {
        if (error instanceof Unauthorized) this.handlers.onUnauthorized();
        else this.retry();
      });
    };
  }

  retry() {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, k_max_retry_ms);
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "heartbeat") {
      if (Number.isInteger(message.last_id)) this.after = Math.max(this.after, message.last_id);
    } else if (message.type === "feedback") {
      this.handlers.onFeedback(message.result_id, message.feedback);
    } else if (message.type === undefined && Number.isInteger(message.id)) {
      this.after = Math.max(this.after, message.id);
      this.handlers.onResult(message);
    }
  }
}
