/* Roomcraft page behaviour: theme, progress bar, CSRF for HTMX, toasts, copy buttons, the JSON API.
   Loaded with `defer` after htmx; every listener is delegated on document so it keeps
   working after hx-boost swaps the body's content. */
(function () {
  "use strict";

  var THEME_KEY = "roomcraft-theme";
  var root = document.documentElement;
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  /* ---------- Theme: "light" | "dark" | "system" stored; data-theme is always light or dark ---------- */

  function storedPreference() {
    var value = null;
    try { value = localStorage.getItem(THEME_KEY); } catch (e) { /* storage blocked */ }
    return value === "light" || value === "dark" || value === "system" ? value : "system";
  }

  function effectiveTheme(preference) {
    if (preference === "light" || preference === "dark") return preference;
    return darkQuery && darkQuery.matches ? "dark" : "light";
  }

  function syncThemeControls() {
    var theme = root.getAttribute("data-theme");
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
      toggle.title = theme === "dark" ? "Switch to light mode" : "Switch to dark mode";
    }
    var preference = storedPreference();
    document.querySelectorAll("input[name='theme-preference']").forEach(function (input) {
      input.checked = input.value === preference;
    });
  }

  function applyTheme() {
    root.setAttribute("data-theme", effectiveTheme(storedPreference()));
    syncThemeControls();
  }

  function setThemePreference(preference) {
    try { localStorage.setItem(THEME_KEY, preference); } catch (e) { /* storage blocked */ }
    applyTheme();
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest("#theme-toggle")) return;
    setThemePreference(root.getAttribute("data-theme") === "dark" ? "light" : "dark");
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name='theme-preference']")) setThemePreference(event.target.value);
  });

  if (darkQuery) {
    var onSystemChange = function () { if (storedPreference() === "system") applyTheme(); };
    if (darkQuery.addEventListener) darkQuery.addEventListener("change", onSystemChange);
    else if (darkQuery.addListener) darkQuery.addListener(onSystemChange);
  }

  // Another tab changed the preference.
  window.addEventListener("storage", function (event) { if (event.key === THEME_KEY) applyTheme(); });

  /* ---------- Toasts ---------- */

  var TOAST_MS = 4000;
  var TOAST_KINDS = { info: true, success: true, error: true };

  function toast(message, kind) {
    var container = document.getElementById("toasts");
    if (!container || !message) return null;
    kind = TOAST_KINDS[kind] ? kind : "info";

    var item = document.createElement("div");
    item.className = "toast toast--" + kind;
    var text = document.createElement("p");
    text.className = "toast-message";
    text.textContent = String(message);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss notification");
    close.textContent = "\u00d7";
    item.appendChild(text);
    item.appendChild(close);

    var timer = null;
    function dismiss() {
      clearTimeout(timer);
      if (!item.parentNode) return;
      item.classList.add("is-leaving");
      setTimeout(function () { item.remove(); }, 200);
    }
    function schedule() { clearTimeout(timer); timer = setTimeout(dismiss, TOAST_MS); }

    close.addEventListener("click", dismiss);
    // Keep it on screen while the pointer or keyboard focus is on it.
    item.addEventListener("mouseenter", function () { clearTimeout(timer); });
    item.addEventListener("mouseleave", schedule);
    item.addEventListener("focusin", function () { clearTimeout(timer); });
    item.addEventListener("focusout", schedule);

    container.appendChild(item);
    schedule();
    return item;
  }

  window.roomcraft = window.roomcraft || {};
  window.roomcraft.toast = toast;

  // Server-sent toasts: `HX-Trigger: {"roomcraft:toast": {"message": "Saved", "kind": "success"}}`.
  document.addEventListener("roomcraft:toast", function (event) {
    var detail = event.detail || {};
    toast(detail.message || detail.value, detail.kind);
  });

  /* ---------- Progress bar: one bar for any number of overlapping requests ---------- */

  var inFlight = new Set();
  var progress = 0;
  var trickleTimer = null;
  var hideTimer = null;

  function progressBar() { return document.getElementById("progress-bar"); }

  function drawProgress() {
    var bar = progressBar();
    if (bar) bar.style.transform = "scaleX(" + progress + ")";
  }

  function startProgress() {
    var bar = progressBar();
    if (!bar) return;
    clearTimeout(hideTimer);
    if (!bar.classList.contains("is-active")) {
      progress = 0.08;
      bar.classList.add("is-active");
      drawProgress();
    }
    clearInterval(trickleTimer);
    // Creep towards 90% without reaching it; the response finishes the bar.
    trickleTimer = setInterval(function () {
      progress += (0.9 - progress) * 0.08;
      drawProgress();
    }, 200);
  }

  function finishProgress() {
    var bar = progressBar();
    clearInterval(trickleTimer);
    if (!bar) return;
    progress = 1;
    drawProgress();
    hideTimer = setTimeout(function () {
      bar.classList.remove("is-active");
      progress = 0;
      hideTimer = setTimeout(drawProgress, 250);
    }, 200);
  }

  function requestStarted(event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || inFlight.has(xhr)) return;
    // Background polling (e.g. a job's status) opts out with data-no-progress.
    if (event.target.closest && event.target.closest("[data-no-progress]")) return;
    inFlight.add(xhr);
    startProgress();
  }

  function requestEnded(event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || !inFlight.delete(xhr)) return; // htmx may report the same request twice
    if (inFlight.size === 0) finishProgress();
  }

  document.addEventListener("htmx:beforeRequest", requestStarted);
  ["htmx:afterRequest", "htmx:sendError", "htmx:timeout", "htmx:sendAbort"].forEach(function (name) {
    document.addEventListener(name, requestEnded);
  });

  /* ---------- CSRF header for HTMX requests ---------- */

  // <body hx-headers> is rendered once and survives boosted swaps; #csrf-token is re-rendered with
  // every page, so it is the current truth after signing in or out.
  document.addEventListener("htmx:configRequest", function (event) {
    var holder = document.getElementById("csrf-token");
    if (!holder) return;
    var token = holder.getAttribute("data-token");
    if (token) event.detail.headers["X-CSRF-Token"] = token;
    else delete event.detail.headers["X-CSRF-Token"];
  });

  /* ---------- Errors ---------- */

  function isHtml(xhr) {
    return /text\/html/i.test(xhr.getResponseHeader("Content-Type") || "");
  }

  // A boosted navigation or form that gets an HTML error page (404, a form re-rendered with 400/422)
  // shows that page, as a plain browser would. JSON errors stay unswapped and become toasts.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var xhr = detail.xhr;
    if (xhr.status < 400 || !isHtml(xhr) || !xhr.responseText) return;
    if (detail.boosted || xhr.status === 422) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  function errorMessage(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.success === false && body.error && typeof body.error.message === "string") {
        return body.error.message;
      }
    } catch (e) { /* not JSON */ }
    if (xhr.status === 429) return "Too many requests. Please wait a moment and try again.";
    if (xhr.status >= 500) return "Something went wrong on our side. Please try again.";
    return "That didn't work (error " + xhr.status + "). Please try again.";
  }

  document.addEventListener("htmx:responseError", function (event) {
    toast(errorMessage(event.detail.xhr), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Couldn't reach Roomcraft. Check your connection and try again.", "error");
  });
  document.addEventListener("htmx:timeout", function () {
    toast("The server took too long to answer. Please try again.", "error");
  });

  /* ---------- Copy to clipboard: <button data-copy="#selector"> ---------- */

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var scratch = document.createElement("textarea");
      scratch.value = text;
      scratch.setAttribute("readonly", "");
      scratch.className = "visually-hidden";
      document.body.appendChild(scratch);
      scratch.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      scratch.remove();
      if (copied) resolve(); else reject(new Error("copy failed"));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent;
    copyText(text.trim()).then(function () {
      button.classList.add("is-copied");
      setTimeout(function () { button.classList.remove("is-copied"); }, 2000);
      toast("Copied to clipboard", "success");
    }, function () {
      if (source.select) source.select();
      toast("Couldn't copy automatically. The text is selected: press Ctrl+C (⌘C on a Mac).", "error");
    });
  });

  /* ---------- The JSON API: window.roomcraft.api(method, path, payload) ---------- */

  function csrfHeader() {
    var holder = document.getElementById("csrf-token");
    return (holder && holder.getAttribute("data-token")) || "";
  }

  // The JSON API: resolves with the envelope's data, rejects with an Error carrying its message.
  function api(method, path, payload) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfHeader();
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (payload !== undefined) init.body = JSON.stringify(payload);
    return fetch("/api/v1" + path, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok && body && body.success) return body.data;
        var error = new Error((body && body.error && body.error.message) ||
          "That didn't work (error " + response.status + "). Please try again.");
        error.status = response.status;
        throw error;
      });
    }, function () {
      throw new Error("Couldn't reach Roomcraft. Check your connection and try again.");
    });
  }

  window.roomcraft.api = api;

  /* ---------- Start up, and after every swap ---------- */

  applyTheme();
  document.addEventListener("htmx:load", syncThemeControls);
})();
