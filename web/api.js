// The daemon's REST API as the page uses it: the token, JSON requests, thumbnails as blob URLs.
// The token lives in sessionStorage (this tab only) and goes in the Authorization header; only
// the WebSocket, which cannot carry headers, takes it as ?access_token=.

const TOKEN_KEY = "inferwatch.token";

// The server answered 401: the page must ask for a (new) token.
export class Unauthorized extends Error {
  constructor() {
    super("the server needs a valid token");
    this.name = "Unauthorized";
  }
}

// Any other error answer, with the API's stable code and its message for people.
export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail || {};
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(withToken) {
  const h = {};
  const t = withToken === undefined ? token() : withToken;
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

// The parsed JSON of one request; throws Unauthorized on 401, ApiError on any other error.
// `options.token` overrides the stored token (to try one before keeping it).
export async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: headers(options.token), cache: "no-store" };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  if (options.signal) init.signal = options.signal;
  const response = await fetch(path, init);
  if (response.status === 401) throw new Unauthorized();
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || `http_${response.status}`,
                       error.message || response.statusText, error);
  }
  return data;
}

// A query string of the parameters that are set.
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

// A blob: URL of result `id`'s thumbnail (at most `size` pixels a side), or null when it has none
// (an error result, a file gone since). The caller revokes it.
export async function thumbnailUrl(id, size, signal) {
  const response = await fetch(`/v1/results/${id}/image${query({ size })}`,
                               { headers: headers(), cache: "default", signal });
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok) return null;
  return URL.createObjectURL(await response.blob());
}

// The WebSocket URL of the stream from `after` on, filtered by `pathPrefix`.
export function streamUrl(after, pathPrefix) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/v1/stream` +
         query({ after, path_prefix: pathPrefix, access_token: token() });
}
