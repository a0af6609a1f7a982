// ReDoc draws a "API docs by Redocly" link to redocly.com in its sidebar; an operations
// console links to no third party, so the link is taken out as soon as ReDoc renders it.
(function () {
  function strip() {
    document.querySelectorAll('a[href^="https://redocly.com"]').forEach(function (a) {
      (a.parentElement || a).remove();
    });
  }
  new MutationObserver(strip).observe(document.documentElement, { childList: true, subtree: true });
  strip();
})();
