// The results the page holds in memory: at most `capacity`, newest id first, with the feedback
// each one has, and which of them a newer result of the same path supersedes.

export class ResultBuffer {
  constructor(capacity) {
    this.capacity = capacity;
    this.clear();
  }

  clear() {
    this.byId = new Map();
    this.ids = []; // descending
    this.latestByPath = new Map();
    this.droppedNewer = false; // results newer than ids[0] were let go to stay in bounds
    this.droppedOlder = false;
  }

  get size() {
    return this.ids.length;
  }

  get newestId() {
    return this.ids.length ? this.ids[0] : 0;
  }

  get oldestId() {
    return this.ids.length ? this.ids[this.ids.length - 1] : 0;
  }

  has(id) {
    return this.byId.has(id);
  }

  get(id) {
    return this.byId.get(id);
  }

  // Keep `result` (a stream result or a REST one, which may carry `feedback`); false when it was
  // already there.
  add(result) {
    if (this.byId.has(result.id)) return false;
    this.byId.set(result.id, result);
    if (!this.ids.length || result.id > this.ids[0]) {
      this.ids.unshift(result.id);
    } else if (result.id < this.ids[this.ids.length - 1]) {
      this.ids.push(result.id);
    } else {
      let lo = 0;
      let hi = this.ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.ids[mid] > result.id) lo = mid + 1;
        else hi = mid;
      }
      this.ids.splice(lo, 0, result.id);
    }
    const latest = this.latestByPath.get(result.path) || 0;
    if (result.id > latest) this.latestByPath.set(result.path, result.id);
    return true;
  }

  // Record `feedback` for `id`; false when the result is not held or the feedback is older than
  // what it has (a stream event and a POST answer may arrive in either order).
  setFeedback(id, feedback) {
    const result = this.byId.get(id);
    if (!result) return false;
    const held = result.feedback;
    if (held && (held.history_count || 0) > (feedback.history_count || 0)) return false;
    result.feedback = feedback;
    return true;
  }

  // Whether a newer result of the same path is held (feedback on it would be refused).
  superseded(result) {
    return (this.latestByPath.get(result.path) || 0) > result.id;
  }

  // Drop results until `capacity` hold, from the end farther from `keepId` (the view's position:
  // null keeps the newest); returns the ids dropped.
  trim(keepId) {
    const dropped = [];
    while (this.ids.length > this.capacity) {
      let fromTop = false;
      if (keepId !== null && keepId !== undefined) {
        const at = this.indexOf(keepId);
        fromTop = at > this.ids.length - 1 - at;
      }
      const id = fromTop ? this.ids.shift() : this.ids.pop();
      if (fromTop) this.droppedNewer = true;
      else this.droppedOlder = true;
      const result = this.byId.get(id);
      this.byId.delete(id);
      if (this.latestByPath.get(result.path) === id) this.latestByPath.delete(result.path);
      dropped.push(id);
    }
    return dropped;
  }

  // Position of the first id <= `id`.
  indexOf(id) {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ids[mid] > id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
