// The inspector's countdowns, served as /static/inspector.js: the Content-Security-Policy runs
// no inline script. Loaded with `defer`, so the page's .countdown elements exist when it runs.
// Count the deadlines down in place; reload to see what the server now says.
const started = Date.now();
setInterval(() => {
  const gone = Math.floor((Date.now() - started) / 1000);
  for (const el of document.querySelectorAll(".countdown")) {
    el.textContent = Math.max(0, Number(el.dataset.seconds) - gone);
  }
}, 1000);
