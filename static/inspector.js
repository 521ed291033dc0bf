// The inspector's live view, served as /static/inspector.js: the Content-Security-Policy runs
// no inline script. Loaded with `defer`, so the page's elements exist when it runs.
//
// - The .countdown elements count the deadlines down every second.
// - Every 5 s (while the tab is visible and "Live" is ticked) it asks /session.json, the same
//   data the page was rendered from, and updates in place: the size, the value, the
//   decoded map, the anatomy, the row and the deadlines. Each poll is an ordinary read of the
//   session: it pushes the idle deadline only once less than half the idle window is left, like
//   any page, and with no session it creates none (the JSON route sends no cookie).
// - When the session changes shape (one appears, is refused, logs in or out), the page's
//   sections differ, so it reloads instead.
// - A page that refused the cookie it shows has nothing live to follow: its response told the
//   browser to delete that cookie. It says so and does not poll, rather than showing the dead
//   cookie as "updated".
"use strict";

const POLL_MS = 5000;
const root = document.getElementById("inspector");
const limit = Number(root ? root.dataset.limit : 4096) || 4096;
let base = Date.now();
let shape = null;
let timer = null;

function tick() {
  const gone = Math.floor((Date.now() - base) / 1000);
  for (const el of document.querySelectorAll(".countdown")) {
    el.textContent = Math.max(0, Number(el.dataset.seconds) - gone);
  }
}

function at(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? o : o[k]), obj);
}

// What decides which sections the page shows: if any of it changes, reload.
function shapeOf(s) {
  return JSON.stringify([
    s.cookie == null,
    s.refused,
    s.row == null,
    s.user_id,
    s.expires_at == null,
    s.anatomy ? s.anatomy.readable : null,
    // The drawings (the cookie to scale, the deadlines) are made on the server: when what they
    // show moves, the page is made again.
    s.cookie ? s.cookie.bytes : null,
    s.idle_expires_at,
  ]);
}

// The row's times (its `…_at` columns) to the second, as the page was rendered: PostgreSQL's
// microseconds are noise to a reader.
function toTheSecond(key, value) {
  return key.endsWith("_at") && typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+/.test(value)
    ? value.replace(/\.\d+/, "")
    : value;
}

function status(text) {
  const el = document.getElementById("live-status");
  if (el) el.textContent = text;
}

function apply(s) {
  for (const el of document.querySelectorAll("[data-live]")) {
    const v = at(s, el.dataset.live);
    if (v != null) el.textContent = String(v);
  }
  for (const el of document.querySelectorAll("[data-live-json]")) {
    el.textContent = JSON.stringify(at(s, el.dataset.liveJson) ?? null, toTheSecond, 2);
  }
  for (const el of document.querySelectorAll("[data-live-seconds]")) {
    const v = at(s, el.dataset.liveSeconds);
    if (v != null) el.dataset.seconds = v;
  }
  base = Date.now();
  tick();
  if (s.cookie) {
    const size = document.getElementById("cookie-size");
    if (size) size.textContent = `${s.cookie.bytes} of ${limit} bytes`;
  }
}

async function poll() {
  try {
    const res = await fetch("/session.json", {
      cache: "no-store",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!res.ok) {
      status(`last update: the server answered ${res.status}`);
      return;
    }
    const s = await res.json();
    const now = shapeOf(s);
    if (shape !== null && now !== shape) {
      status("the session changed: reloading");
      window.location.reload();
      return;
    }
    shape = now;
    apply(s);
    status(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    status("last update failed: is the server running?");
  }
}

function live() {
  const box = document.getElementById("live-on");
  return !box || box.checked;
}

function schedule() {
  clearInterval(timer);
  timer = null;
  if (live() && !document.hidden) {
    timer = setInterval(poll, POLL_MS);
  }
}

setInterval(tick, 1000);
if (root && root.dataset.refused) {
  const line = document.getElementById("live");
  if (line) line.hidden = false;
  const box = document.getElementById("live-on");
  if (box) {
    box.checked = false;
    box.disabled = true;
  }
  status(
    "not live: this cookie was refused, and this page's response told your browser to delete " +
      "it — reload to see what is left",
  );
} else if (root) {
  const line = document.getElementById("live");
  if (line) line.hidden = false;
  const box = document.getElementById("live-on");
  if (box) {
    box.addEventListener("change", () => {
      status(box.checked ? "" : "paused");
      schedule();
    });
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && live()) poll();
    schedule();
  });
  poll();
  schedule();
}
