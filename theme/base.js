/* scalebook base behaviour: dark/light toggle, and links that work from file://.
   No dependencies; safe to load with defer on every page. */
(function () {
  "use strict";
  var root = document.documentElement;

  // Theme toggle: the reader's choice wins over the system setting and is remembered.
  var btn = document.querySelector(".theme-toggle");
  function current() {
    var t = root.getAttribute("data-theme");
    if (t) return t;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function label() {
    var dark = current() === "dark";
    btn.textContent = dark ? "Light mode" : "Dark mode";
    btn.setAttribute("aria-pressed", dark ? "true" : "false");
  }
  if (btn) {
    btn.hidden = false;
    label();
    btn.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("scalebook:theme", next); } catch (e) { /* private mode */ }
      label();
    });
  }

  // Opened straight from disk, a folder link shows a directory listing: point it at the
  // folder's index.html instead. Only relative links are touched.
  if (location.protocol === "file:") {
    var links = document.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      var href = links[i].getAttribute("href");
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.charAt(0) === "#" || href.charAt(0) === "/") continue;
      var m = href.match(/^([^?#]*)(.*)$/);
      if (m && (m[1] === "" ? false : /\/$/.test(m[1]) || m[1] === "." || m[1] === "..")) {
        var path = m[1].replace(/\/?$/, "/") + "index.html";
        links[i].setAttribute("href", path + m[2]);
      }
    }
  }
})();
