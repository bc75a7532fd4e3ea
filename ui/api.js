// api.js -- the console talks to the eidosd that served it, through its
// public HTTP API only (api/openapi.yaml): same origin, JSON answers, the
// API's error document turned into an ApiError the views can show.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.details = (body && body.details) || {};
    this.requestId = body && body.requestId;
  }
}

async function fail(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not the API's error document */ }
  throw new ApiError(res.status, body);
}

// GET path -> decoded JSON (ApiError on an error status)
export async function getJSON(path, signal) {
  const res = await fetch(path, { headers: { Accept: "application/json" }, signal });
  if (!res.ok) await fail(res);
  return res.json();
}

// the Content-Type of a document the user gave: JSON when it starts like
// JSON, else YAML (the server reads both, by this header)
export function typeOf(text) {
  return /^\s*[[{]/.test(text) ? "application/json" : "application/yaml";
}

// POST path with body (a string, sent as type, or a value sent as JSON) ->
// the Response (ApiError on an error status)
export async function post(path, body, { type, accept = "application/json", signal } = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(path, {
    method: "POST", body: text, signal,
    headers: { "Content-Type": type || (typeof body === "string" ? typeOf(body) : "application/json"), Accept: accept },
  });
  if (!res.ok) await fail(res);
  return res;
}

export async function postJSON(path, body, opts) {
  return (await post(path, body, opts)).json();
}
