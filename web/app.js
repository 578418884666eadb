// The review page: recent results from the REST list, live ones from the stream, a page of at
// most k_page_rows rows in the DOM over a buffer of at most k_buffer results, filters, feedback
// (confirm, correct) and keyboard shortcuts. No framework, no build step.

import { api, ApiError, query, setToken, thumbnailUrl, token, Unauthorized } from "./api.js";
import { ResultBuffer } from "./buffer.js";
import { createRow, feedbackState, fillRow, predictedLabel, setThumb, setThumbPlaceholder } from "./rows.js";
import { Stream } from "./stream.js";

const k_page_rows = 50;
const k_buffer = 5000;
const k_history_span = 500; // ids looked at per step back in history
const k_rest_limit = 1000;
const k_thumb_px = 96;
const k_reviewer_key = "inferwatch.reviewer";

const $ = (id) => document.getElementById(id);

const state = {
  buffer: new ResultBuffer(k_buffer),
  anchor: null, // null: the page follows the newest results; else the newest id on the page
  selected: null,
  lastId: 0, // the stream's starting point at boot
  historyDone: false,
  loadingOlder: false,
  labelsByVersion: new Map(),
  pending: new Map(), // result id -> feedback requests not answered yet
  inflight: new Map(), // result id -> the last of them (the next one waits for it)
  rows: new Map(), // result id -> row on the page
  thumbs: new Map(), // result id -> {url, abort}
  generation: 0, // bumped by every boot: answers for an older one are dropped
  renderQueued: false,
  reveal: false, // scroll the selected row into view at the next render
};

const stream = new Stream({
  onResult(result) {
    if (!serverFilterMatches(result)) return;
    if (state.buffer.add(result)) trimAndRender();
  },
  onFeedback(resultId, feedback) {
    if (state.buffer.setFeedback(resultId, feedback)) scheduleRender();
  },
  onState: showConnection,
  onUnauthorized: askToken,
});

// ---- filters --------------------------------------------------------------------------------

function filters() {
  return {
    pathPrefix: $("f-path").value,
    label: $("f-label").value,
    status: $("f-status").value,
    version: $("f-version").value,
    feedback: $("f-feedback").value,
  };
}

// The filters the stream cannot apply itself (REST pages apply status too).
function serverFilterMatches(result) {
  const f = filters();
  return !f.status || result.status === f.status;
}

function matches(result, f) {
  if (f.pathPrefix && !String(result.path).startsWith(f.pathPrefix)) return false;
  if (f.status && result.status !== f.status) return false;
  if (f.label && predictedLabel(result) !== f.label) return false;
  if (f.version && (!result.model || result.model.version !== f.version)) return false;
  if (f.feedback === "yes" && !result.feedback) return false;
  if (f.feedback === "no" && result.feedback) return false;
  return true;
}

function filteredIds() {
  const f = filters();
  return state.buffer.ids.filter((id) => matches(state.buffer.get(id), f));
}

// Fill a <select> with `values` (keeping the first "any" option and the current choice).
function setOptions(select, values) {
  const current = select.value;
  const all = [...new Set([...values, ...(current ? [current] : [])])].sort();
  const have = [...select.options].slice(1).map((o) => o.value);
  if (have.length === all.length && have.every((v, i) => v === all[i])) return;
  select.replaceChildren(select.options[0], ...all.map((v) => new Option(v, v)));
  select.value = current;
}

function refreshFilterOptions() {
  const labels = new Set();
  const versions = new Set(state.labelsByVersion.keys());
  for (const list of state.labelsByVersion.values()) list.forEach((l) => labels.add(l));
  for (const id of state.buffer.ids) {
    const r = state.buffer.get(id);
    const label = predictedLabel(r);
    if (label) labels.add(label);
    if (r.model && r.model.version) versions.add(String(r.model.version));
  }
  setOptions($("f-label"), labels);
  setOptions($("f-version"), versions);
}

// ---- labels ---------------------------------------------------------------------------------

// The labels feedback on `result` may use: its model version's, else those its predictions name.
function labelsOf(result) {
  const version = result.model && result.model.version;
  const known = version && state.labelsByVersion.get(version);
  if (known) return known;
  return Array.isArray(result.predictions) ? result.predictions.map((p) => String(p.label)) : [];
}

async function loadLabels() {
  const [model, models] = await Promise.all([
    api("/v1/model").catch(rethrowUnauthorized),
    api("/v1/models").catch(rethrowUnauthorized),
  ]);
  if (model && model.version && Array.isArray(model.labels)) {
    state.labelsByVersion.set(model.version, model.labels.map(String));
  }
  for (const m of (models && models.models) || []) {
    if (Array.isArray(m.labels) && m.live_version) {
      state.labelsByVersion.set(versionName(m.name, m.live_version), m.labels.map(String));
    }
    for (const v of m.versions || []) {
      if (Array.isArray(v.labels)) state.labelsByVersion.set(versionName(m.name, v.version), v.labels.map(String));
    }
  }
}

// Results name a repository version <model>@<version>; the single model's is already that.
function versionName(model, version) {
  return String(version).includes("@") ? String(version) : `${model}@${version}`;
}

function rethrowUnauthorized(error) {
  if (error instanceof Unauthorized) throw error;
  return null; // labels are a help, not a must: results' own predictions stand in
}

// ---- loading --------------------------------------------------------------------------------

// Start over: the newest results from REST, then the stream from where they end.
async function boot() {
  const generation = ++state.generation;
  stream.stop();
  clearPage();
  showConnection("connecting");
  try {
    const status = await api("/v1/status");
    if (generation !== state.generation) return;
    state.lastId = (status.results && status.results.last_id) || 0;
    await loadLabels();
    await loadOlder(state.lastId + 1, generation);
    if (generation !== state.generation) return;
    stream.start(state.lastId, filters().pathPrefix);
    document.body.dataset.ready = "true";
  } catch (error) {
    if (generation !== state.generation) return;
    if (error instanceof Unauthorized) askToken();
    else {
      showConnection("offline");
      toast(`Cannot reach the server: ${error.message}`);
    }
  }
  scheduleRender();
}

function clearPage() {
  state.buffer.clear();
  state.anchor = null;
  state.selected = null;
  state.historyDone = false;
  for (const row of state.rows.values()) row.tr.remove();
  state.rows.clear();
  dropThumbs(new Set());
  scheduleRender();
}

// Results with id < `before` from REST, stepping back until a page of matches has arrived or
// history is exhausted (filters may match few of the ids looked at).
async function loadOlder(before, generation = state.generation) {
  const f = filters();
  let span = k_history_span;
  let found = 0;
  let looked = 0;
  while (before > 1 && found < k_page_rows && looked < k_buffer / 2) {
    const after = Math.max(0, before - 1 - span);
    let cursor = after;
    for (;;) {
      const page = await api("/v1/results" + query({ after: cursor, limit: k_rest_limit,
                                                     path_prefix: f.pathPrefix, status: f.status }));
      if (generation !== state.generation) return;
      for (const result of page.results) {
        if (result.id >= before) continue;
        state.buffer.add(result);
        if (matches(result, f)) found++;
      }
      if (!page.results.length || page.next_after >= before - 1) break;
      cursor = page.next_after;
    }
    looked += before - 1 - after;
    before = after + 1;
    span *= 2;
  }
  if (before <= 1) state.historyDone = true;
  state.buffer.trim(state.anchor);
}

async function older() {
  const ids = pageIds();
  const all = filteredIds();
  const last = ids.length ? ids[ids.length - 1] : null;
  const at = last === null ? all.length : all.indexOf(last) + 1;
  if (at >= all.length && !state.historyDone && !state.loadingOlder) {
    state.loadingOlder = true;
    try {
      await loadOlder(state.buffer.oldestId || state.lastId + 1);
    } catch (error) {
      handleError(error);
    } finally {
      state.loadingOlder = false;
    }
  }
  const fresh = filteredIds();
  const next = last === null ? 0 : fresh.findIndex((id) => id < last);
  if (next >= 0 && next < fresh.length) {
    state.anchor = fresh[next];
    state.selected = fresh[next];
    state.reveal = true;
  }
  scheduleRender();
}

function newer() {
  const ids = pageIds();
  const all = filteredIds();
  const first = ids.length ? all.indexOf(ids[0]) : 0;
  if (first <= 0) return; // already the newest page
  state.anchor = all[Math.max(0, first - k_page_rows)];
  state.selected = all[first - 1]; // the row just above the page left
  state.reveal = true;
  scheduleRender();
}

function newest() {
  state.selected = null;
  if (state.buffer.droppedNewer) return boot(); // the newest ones were let go: fetch them again
  state.anchor = null;
  scheduleRender();
}

function trimAndRender() {
  const dropped = state.buffer.trim(state.anchor);
  if (dropped.length && state.buffer.droppedOlder) state.historyDone = false;
  scheduleRender();
}

// ---- feedback -------------------------------------------------------------------------------

function reviewer() {
  const name = $("reviewer").value.trim();
  return name || "reviewer";
}

// Send feedback on result `id`; requests for one result go one after the other, in the order
// given (a quick "3" then "c" stores the correction, then the confirmation).
function sendFeedback(id, label) {
  const result = state.buffer.get(id);
  if (!result || !label) return;
  state.pending.set(id, (state.pending.get(id) || 0) + 1);
  const previous = state.inflight.get(id) || Promise.resolve();
  const next = previous.then(() => postFeedback(result, label));
  state.inflight.set(id, next);
  next.finally(() => {
    if (state.inflight.get(id) === next) state.inflight.delete(id);
    const left = state.pending.get(id) - 1;
    if (left > 0) state.pending.set(id, left);
    else state.pending.delete(id);
    scheduleRender();
  });
  scheduleRender();
}

async function postFeedback(result, label) {
  try {
    const answer = await api(`/v1/results/${result.id}/feedback`,
                             { method: "POST", body: { label, user: reviewer() } });
    state.buffer.setFeedback(result.id, answer.feedback);
  } catch (error) {
    if (error instanceof ApiError && error.code === "unknown_label" && Array.isArray(error.detail.labels)) {
      if (result.model) state.labelsByVersion.set(result.model.version, error.detail.labels.map(String));
    }
    handleError(error);
  }
}

function confirm(id) {
  const result = state.buffer.get(id);
  if (result) sendFeedback(id, predictedLabel(result));
}

function correct(id, label) {
  sendFeedback(id, label);
}

// ---- rendering ------------------------------------------------------------------------------

// The ids on the current page: k_page_rows matching ids from the anchor down.
function pageIds() {
  const all = filteredIds();
  const start = state.anchor === null ? 0 : all.findIndex((id) => id <= state.anchor);
  return start < 0 ? [] : all.slice(start, start + k_page_rows);
}

function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => {
    state.renderQueued = false;
    render();
  });
}

function render() {
  const all = filteredIds();
  const ids = pageIds();
  const body = $("rows");
  const keep = new Set(ids);
  for (const [id, row] of state.rows) {
    if (!keep.has(id)) {
      row.tr.remove();
      state.rows.delete(id);
    }
  }
  const actions = { confirm, correct, select };
  let at = body.firstElementChild;
  for (const id of ids) {
    const result = state.buffer.get(id);
    let row = state.rows.get(id);
    if (!row) {
      row = createRow(id, actions);
      state.rows.set(id, row);
    }
    fillRow(row, result, {
      labels: labelsOf(result),
      superseded: state.buffer.superseded(result),
      selected: state.selected === id,
      pending: state.pending.has(id),
    });
    // Move only what is out of place: a row kept in place keeps focus and an open picker.
    if (at !== row.tr) body.insertBefore(row.tr, at);
    else at = at.nextElementSibling;
  }
  loadThumbs(ids);
  dropThumbs(keep);
  if (state.reveal && state.rows.has(state.selected)) {
    state.rows.get(state.selected).tr.scrollIntoView({ block: "nearest" });
  }
  state.reveal = false;

  $("empty").hidden = ids.length > 0;
  const first = ids.length ? all.indexOf(ids[0]) : 0;
  const newerCount = first;
  $("page-info").textContent = ids.length
      ? `${first + 1}–${first + ids.length} of ${all.length} loaded` +
        (state.historyDone ? "" : " (more on the server)")
      : "";
  $("newer").disabled = first === 0;
  $("newest").textContent = newerCount > 0 ? `Newest (${newerCount} newer)` : "Newest";
  $("newest").disabled = state.anchor === null;
  $("older").disabled = first + ids.length >= all.length && state.historyDone;
  document.body.dataset.rows = String(ids.length);
  refreshFilterOptions();
}

function loadThumbs(ids) {
  for (const id of ids) {
    if (state.thumbs.has(id)) continue;
    const controller = new AbortController();
    const entry = { url: null, abort: controller };
    state.thumbs.set(id, entry);
    const result = state.buffer.get(id);
    thumbnailUrl(id, k_thumb_px, controller.signal).then((url) => {
      if (state.thumbs.get(id) !== entry) {
        if (url) URL.revokeObjectURL(url);
        return;
      }
      entry.url = url;
      const row = state.rows.get(id);
      if (!row) return;
      if (url) setThumb(row, url, `Image of ${result.path}`);
      else setThumbPlaceholder(row, "no image");
    }, (error) => {
      if (error.name === "AbortError") return;
      if (error instanceof Unauthorized) askToken();
      const row = state.rows.get(id);
      if (row) setThumbPlaceholder(row, "no image");
    });
  }
}

// Revoke the blob URLs (and stop the downloads) of results no longer on the page.
function dropThumbs(keep) {
  for (const [id, entry] of state.thumbs) {
    if (keep.has(id)) continue;
    entry.abort.abort();
    if (entry.url) URL.revokeObjectURL(entry.url);
    state.thumbs.delete(id);
  }
}

function select(id) {
  if (state.anchor === null) state.anchor = pageIds()[0] ?? null; // hold the page still
  state.selected = id;
  state.reveal = true;
  scheduleRender();
}

function move(step) {
  const ids = pageIds();
  if (!ids.length) return;
  const at = ids.indexOf(state.selected);
  if (at < 0) return select(ids[step > 0 ? 0 : ids.length - 1]);
  const next = at + step;
  if (next >= ids.length) return older();
  if (next < 0) return newer();
  select(ids[next]);
}

// ---- status, errors, token ------------------------------------------------------------------

function showConnection(what) {
  const node = $("connection");
  node.dataset.state = what;
  node.textContent = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…",
                       offline: "offline", locked: "token needed" }[what] || what;
}

let toastTimer = null;
function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 6000);
}

function handleError(error) {
  if (error instanceof Unauthorized) return askToken();
  if (error instanceof ApiError) return toast(`${error.code}: ${error.message}`);
  toast(String(error.message || error));
}

function askToken() {
  stream.stop();
  showConnection("locked");
  const dialog = $("token-dialog");
  if (dialog.open) return;
  $("token-error").hidden = !token();
  $("token-error").textContent = token() ? "The server refused that token." : "";
  $("token-input").value = "";
  dialog.showModal();
  $("token-input").focus();
}

async function submitToken(event) {
  event.preventDefault();
  const candidate = $("token-input").value.trim();
  if (!candidate) return;
  $("token-submit").disabled = true;
  try {
    await api("/v1/status", { token: candidate });
    setToken(candidate);
    $("token-dialog").close();
    boot();
  } catch (error) {
    $("token-error").hidden = false;
    $("token-error").textContent = error instanceof Unauthorized
        ? "The server refused that token." : `Cannot check it: ${error.message}`;
    $("token-input").select();
  } finally {
    $("token-submit").disabled = false;
  }
}

// ---- keyboard -------------------------------------------------------------------------------

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (document.querySelector("dialog[open]")) return; // the dialog has the keys
  // A text field takes every key but Esc; a picker keeps its own (letters, arrows) but lets
  // "/" and "?" through.
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      (target instanceof HTMLSelectElement && event.key !== "/" && event.key !== "?")) {
    if (event.key === "Escape") target.blur();
    return;
  }
  if (event.key === "Enter" && target instanceof HTMLButtonElement) return; // the button's own
  const key = event.key;
  let handled = true;
  if (key === "j" || key === "ArrowDown") move(1);
  else if (key === "k" || key === "ArrowUp") move(-1);
  else if ((key === "c" || key === "Enter") && state.selected !== null) confirm(state.selected);
  else if (/^[1-9]$/.test(key) && state.selected !== null) {
    const result = state.buffer.get(state.selected);
    const label = result && labelsOf(result)[Number(key) - 1];
    if (label) correct(state.selected, label);
  } else if (key === "n" || key === "]") older();
  else if (key === "p" || key === "[") newer();
  else if (key === "g") newest();
  else if (key === "/") $("f-path").focus();
  else if (key === "?") $("help-dialog").showModal();
  else if (key === "Escape") {
    state.selected = null;
    scheduleRender();
  } else handled = false;
  if (handled) event.preventDefault();
}

// ---- wiring ---------------------------------------------------------------------------------

function init() {
  const name = $("reviewer");
  name.value = localStorage.getItem(k_reviewer_key) || "";
  name.placeholder = "reviewer";
  name.addEventListener("change", () => localStorage.setItem(k_reviewer_key, name.value.trim()));

  // The path prefix and status go to the server (REST and stream): start over when they change.
  // Label, model version and feedback filter what is loaded, at once.
  let pathTimer = null;
  $("f-path").addEventListener("input", () => {
    clearTimeout(pathTimer);
    pathTimer = setTimeout(boot, 300);
  });
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(pathTimer);
    boot();
  });
  $("f-status").addEventListener("change", boot);
  for (const id of ["f-label", "f-version", "f-feedback"]) {
    $(id).addEventListener("change", () => {
      state.anchor = null;
      state.selected = null;
      scheduleRender();
    });
  }
  $("older").addEventListener("click", older);
  $("newer").addEventListener("click", newer);
  $("newest").addEventListener("click", newest);
  $("help-button").addEventListener("click", () => $("help-dialog").showModal());
  $("token-form").addEventListener("submit", submitToken);
  $("token-dialog").addEventListener("cancel", (e) => e.preventDefault()); // nothing works without it
  document.addEventListener("keydown", onKey);
  boot();
}

init();

// For tests and the benchmark: the state of the page, read-only.
window.inferwatchReview = {
  loaded: () => state.buffer.size,
  feedbackState: (id) => (state.buffer.get(id) ? feedbackState(state.buffer.get(id)) : null),
};
