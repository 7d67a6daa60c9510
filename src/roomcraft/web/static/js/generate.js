/* Roomcraft generator (app/generate.html): mode tabs, uploads, submit, live progress, results.

   The page links this file from its content block, so htmx runs it again after every hx-boost swap
   that brings the page in: each run sets up the generator roots it finds that are not set up yet. A
   root cleans up after itself (stream, timers, uploads) when htmx removes it. The page carries
   hx-history="false", so "back" reloads it from the server instead of a stale snapshot.

   API (see DESIGN §6): POST /api/v1/uploads (multipart `file`), POST /api/v1/generations/submit,
   GET /api/v1/generations/{id}[/events], POST /api/v1/generations/{id}/cancel, GET /api/v1/usage. */
(function () {
  "use strict";

  var API = "/api/v1";
  var POLL_MS = 2000;
  var IN_FLIGHT_UNLOCK_MS = 20000;
  var PROMPT_MAX = 800;
  var TERMINAL = { succeeded: true, failed: true, canceled: true };
  var UPLOAD_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"];
  var UPLOAD_EXTENSIONS = /\.(jpe?g|png|webp|heic|heif)$/i;
  var MODES = {
    redesign: { inputs: 1, zone1: "Photo of your room", uploadsTitle: "Your photo" },
    staging: { inputs: 1, zone1: "Photo of your room", uploadsTitle: "Your photo" },
    compose: { inputs: 2, zone1: "Your room", uploadsTitle: "Your images" },
    imagine: { inputs: 0, zone1: "Photo of your room", uploadsTitle: "Your photo" }
  };
  var PLACEHOLDERS = {
    imagine: "A sunlit reading nook with a linen armchair, terracotta and oak",
    other: "e.g. keep the fireplace, add plants and warm lighting"
  };

  /* ---------- Helpers ---------- */

  function csrfToken() {
    var holder = document.getElementById("csrf-token");
    return (holder && holder.getAttribute("data-token")) || "";
  }

  function toast(message, kind) {
    if (window.roomcraft && typeof window.roomcraft.toast === "function") window.roomcraft.toast(message, kind);
  }

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function humanize(key) {
    if (!key) return "";
    var words = String(key).replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function formatResetDate(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return null;
    return date.toLocaleDateString("en-US", { month: "long", day: "numeric", year: "numeric", timeZone: "UTC" });
  }

  function fallbackMessage(status) {
    if (status === 0) return "Couldn't reach Roomcraft. Check your connection and try again.";
    if (status === 401) return "Your session has ended. Please sign in again.";
    if (status === 429) return "Too many requests. Please wait a moment and try again.";
    if (status >= 500) return "Something went wrong on our side. Please try again.";
    return "That didn't work (error " + status + "). Please try again.";
  }

  function apiError(status, error) {
    error = error || {};
    var err = new Error(error.message || fallbackMessage(status));
    err.status = status;
    err.code = error.code || null;
    err.details = error.details || null;
    return err;
  }

  /* The envelope's `data`, or an Error with status, code, message and details. */
  function parseEnvelope(status, text) {
    var body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (status >= 200 && status < 300 && body && body.success !== false) return body.data;
    throw apiError(status, body && body.error);
  }

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /* fetch as JSON. A network failure (no answer at all) is retried `retries` times with the same
     body: the submit's idempotency key makes that safe. */
  function requestJson(method, path, payload, retries) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (payload !== undefined) init.body = JSON.stringify(payload);

    function attempt(left) {
      return fetch(API + path, init).then(function (response) {
        return response.text().then(function (text) { return parseEnvelope(response.status, text); });
      }, function () {
        if (left > 0) return delay(1000 * (retries - left + 1)).then(function () { return attempt(left - 1); });
        throw apiError(0, null);
      });
    }
    return attempt(retries || 0);
  }

  /* ---------- One upload zone ---------- */

  function createUploadZone(el) {
    var input = el.querySelector(".upload-input");
    var preview = el.querySelector("[data-upload-preview]");
    var image = preview.querySelector("img");
    var note = el.querySelector("[data-upload-note]");
    var filename = el.querySelector("[data-upload-filename]");
    var progress = el.querySelector("[data-upload-progress]");
    var status = el.querySelector("[data-upload-status]");
    var errorBox = el.querySelector("[data-upload-error]");
    var title = el.querySelector(".upload-title");
    var zone = { uploadId: null, xhr: null, objectUrl: null, serverUrl: null };

    function setError(message) {
      errorBox.textContent = message || "";
      errorBox.hidden = !message;
      el.classList.toggle("has-error", !!message);
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }

    function revokePreview() {
      if (zone.objectUrl) URL.revokeObjectURL(zone.objectUrl);
      zone.objectUrl = null;
    }

    function abortUpload() {
      if (zone.xhr) { var xhr = zone.xhr; zone.xhr = null; xhr.abort(); }
    }

    function reset() {
      abortUpload();
      revokePreview();
      zone.uploadId = null;
      zone.serverUrl = null;
      input.value = "";
      image.hidden = true;
      image.removeAttribute("src");
      note.hidden = true;
      preview.hidden = true;
      el.classList.remove("has-file", "is-done", "is-uploading");
    }

    function showImage(src) {
      image.onerror = function () {
        image.hidden = true;
        // HEIC/HEIF: most browsers cannot draw it; the server's JPEG version arrives after the upload.
        if (zone.serverUrl && image.getAttribute("src") !== zone.serverUrl) showImage(zone.serverUrl);
        else note.hidden = false;
      };
      image.onload = function () { image.hidden = false; note.hidden = true; };
      image.src = src;
    }

    function acceptable(file) {
      if (file.type) return UPLOAD_TYPES.indexOf(file.type.toLowerCase()) !== -1;
      return UPLOAD_EXTENSIONS.test(file.name || ""); // HEIC often comes without a type
    }

    function fail(message) {
      zone.xhr = null;
      zone.uploadId = null;
      el.classList.remove("is-uploading", "is-done");
      status.textContent = "Upload failed.";
      progress.value = 0;
      setError(message);
      toast(message, "error");
    }

    function onLoad(xhr) {
      if (zone.xhr !== xhr) return; // replaced or removed meanwhile
      zone.xhr = null;
      var data;
      try { data = parseEnvelope(xhr.status, xhr.responseText); } catch (err) { fail(err.message); return; }
      zone.uploadId = data && data.id;
      if (!zone.uploadId) { fail("The upload didn't return an id. Please try again."); return; }
      zone.serverUrl = data.url || null;
      progress.value = 100;
      status.textContent = "Uploaded" + (data.width && data.height ? " · " + data.width + " × " + data.height : "");
      el.classList.remove("is-uploading");
      el.classList.add("is-done");
      if (image.hidden && zone.serverUrl) showImage(zone.serverUrl);
      el.dispatchEvent(new CustomEvent("upload:change", { bubbles: true }));
    }

    function upload(file) {
      var xhr = new XMLHttpRequest();
      var form = new FormData();
      form.append("file", file);
      zone.xhr = xhr;
      xhr.open("POST", API + "/uploads");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable && zone.xhr === xhr) progress.value = Math.round((event.loaded / event.total) * 95);
      });
      xhr.addEventListener("load", function () { onLoad(xhr); });
      xhr.addEventListener("error", function () { if (zone.xhr === xhr) fail(fallbackMessage(0)); });
      xhr.addEventListener("timeout", function () { if (zone.xhr === xhr) fail("The upload took too long. Please try again."); });
      xhr.send(form);
    }

    function start(file) {
      if (!file) return;
      reset();
      setError("");
      if (!acceptable(file)) {
        setError("That file type isn't supported. Use a JPEG, PNG, WebP or HEIC photo.");
        return;
      }
      el.classList.add("has-file", "is-uploading");
      preview.hidden = false;
      filename.textContent = file.name || "Photo";
      status.textContent = "Uploading…";
      progress.value = 0;
      zone.objectUrl = URL.createObjectURL(file);
      showImage(zone.objectUrl);
      upload(file);
      el.dispatchEvent(new CustomEvent("upload:change", { bubbles: true }));
    }

    function onDrag(event) {
      if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") === -1) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      el.classList.add("is-dragover");
    }

    input.addEventListener("change", function () { start(input.files && input.files[0]); });
    el.addEventListener("dragenter", onDrag);
    el.addEventListener("dragover", onDrag);
    el.addEventListener("dragleave", function (event) {
      if (!el.contains(event.relatedTarget)) el.classList.remove("is-dragover");
    });
    el.addEventListener("drop", function (event) {
      event.preventDefault();
      el.classList.remove("is-dragover");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) start(files[0]);
    });
    el.querySelector("[data-upload-replace]").addEventListener("click", function () { input.click(); });
    el.querySelector("[data-upload-remove]").addEventListener("click", function () {
      reset();
      setError("");
      status.textContent = "";
      input.focus();
      el.dispatchEvent(new CustomEvent("upload:change", { bubbles: true }));
    });
    return {
      el: el,
      input: input,
      id: function () { return zone.uploadId; },
      isUploading: function () { return !!zone.xhr; },
      setError: setError,
      setTitle: function (text) { title.textContent = text; },
      destroy: reset
    };
  }

  /* ---------- The generator ---------- */

  function setUpGenerator(root) {
    var form = root.querySelector("form.gen-layout");
    var tabs = Array.prototype.slice.call(root.querySelectorAll("[role=tab][data-mode]"));
    var uploadsSection = root.querySelector("[data-uploads]");
    var uploadsTitle = uploadsSection.querySelector(".gen-section-title");
    var zones = Array.prototype.map.call(root.querySelectorAll("[data-upload-zone]"), createUploadZone);
    var roomSelect = root.querySelector("#room-type");
    var prompt = root.querySelector("#prompt");
    var promptNeed = root.querySelector("[data-prompt-need]");
    var promptCount = root.querySelector("[data-prompt-count]");
    var promptLength = root.querySelector("[data-prompt-length]");
    var styleGrid = root.querySelector("[data-style-grid]");
    var submitButton = root.querySelector("[data-testid=generate]");
    var submitLabel = root.querySelector("[data-submit-label]");
    var cancelButton = root.querySelector("[data-testid=cancel]");
    var formError = root.querySelector("[data-form-error]");
    var remainingCount = root.querySelector("[data-remaining-count]");
    var limitCounts = root.querySelectorAll("[data-limit-count]");
    var outPanel = root.querySelector("[data-testid=out-of-credits]");
    var outTitle = root.querySelector("#out-title");
    var resetsAt = root.querySelector("[data-resets-at]");
    var progressPanel = root.querySelector("[data-testid=progress]");
    var progressStep = root.querySelector("[data-progress-step]");
    var progressElapsed = root.querySelector("[data-progress-elapsed]");
    var progressHint = root.querySelector("[data-progress-hint]");
    var failurePanel = root.querySelector("[data-testid=failure]");
    var failureTitle = root.querySelector("[data-failure-title]");
    var failureMessage = root.querySelector("[data-failure-message]");
    var tryAgain = root.querySelector("[data-testid=try-again]");
    var resultsSection = root.querySelector("[data-results-section]");
    var results = root.querySelector("[data-results]");
    var resultsOpen = root.querySelector("[data-results-open]");
    var cardTemplate = root.querySelector("template[data-card-template]");

    var state = {
      mode: form.getAttribute("data-mode") || "redesign",
      busy: false,
      jobId: null,
      stream: null,
      pollTimer: null,
      elapsedTimer: null,
      unlockTimer: null,
      startedAt: null,
      lastPayload: null,
      remaining: parseInt(root.getAttribute("data-remaining"), 10),
      limit: parseInt(root.getAttribute("data-monthly-limit"), 10),
      destroyed: false
    };

    /* ----- Names shown to people ----- */

    function modeName(mode) {
      var tab = root.querySelector("[data-mode='" + mode + "'] .gen-mode-name");
      return tab ? tab.textContent.trim() : humanize(mode);
    }

    function roomName(key) {
      var option = key && Array.prototype.find.call(roomSelect.options, function (o) { return o.value === key; });
      return option ? option.textContent.trim() : humanize(key);
    }

    function styleName(key) {
      var radio = key && Array.prototype.find.call(root.querySelectorAll("input[name=style]"), function (r) { return r.value === key; });
      return radio ? radio.getAttribute("data-name") : humanize(key);
    }

    function checkedValue(name) {
      var checked = root.querySelector("input[name='" + name + "']:checked");
      return checked ? checked.value : "";
    }

    /* ----- Mode tabs ----- */

    function setMode(mode) {
      if (!MODES[mode]) return;
      var spec = MODES[mode];
      state.mode = mode;
      form.setAttribute("data-mode", mode);
      tabs.forEach(function (tab) {
        var selected = tab.getAttribute("data-mode") === mode;
        tab.setAttribute("aria-selected", selected ? "true" : "false");
        tab.tabIndex = selected ? 0 : -1;
        if (selected) form.setAttribute("aria-labelledby", tab.id);
      });
      uploadsSection.hidden = spec.inputs === 0;
      uploadsTitle.textContent = spec.uploadsTitle;
      zones[0].setTitle(spec.zone1);
      zones[1].el.hidden = spec.inputs < 2;
      var needsPrompt = mode === "imagine";
      prompt.required = needsPrompt;
      if (needsPrompt) prompt.setAttribute("aria-required", "true"); else prompt.removeAttribute("aria-required");
      promptNeed.textContent = needsPrompt ? "(required)" : "(optional)";
      prompt.placeholder = needsPrompt ? PLACEHOLDERS.imagine : PLACEHOLDERS.other;
      clearErrors();
      updateSummary();
    }

    function onTabKey(event) {
      var index = tabs.indexOf(event.currentTarget);
      var next = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") next = tabs[(index + 1) % tabs.length];
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = tabs[(index - 1 + tabs.length) % tabs.length];
      else if (event.key === "Home") next = tabs[0];
      else if (event.key === "End") next = tabs[tabs.length - 1];
      if (!next) return;
      event.preventDefault();
      setMode(next.getAttribute("data-mode"));
      next.focus();
    }

    /* ----- Summary, prompt counter ----- */

    function updateSummary() {
      var set = function (name, text) {
        var el = root.querySelector("[data-summary-" + name + "]");
        if (el) el.textContent = text;
      };
      var quality = checkedValue("quality");
      var variants = parseInt(checkedValue("variants"), 10) || 1;
      set("mode", modeName(state.mode));
      set("room", roomName(roomSelect.value));
      set("style", checkedValue("style") ? styleName(checkedValue("style")) : "None");
      set("format", [checkedValue("aspect_ratio"), humanize(quality)].filter(Boolean).join(" · "));
      set("variants", String(variants));
    }

    function updateCounter() {
      var length = prompt.value.length;
      promptLength.textContent = String(length);
      promptCount.classList.toggle("is-near", length > PROMPT_MAX - 40);
    }

    function scrollSelectedStyleIntoView() {
      var checked = styleGrid.querySelector("input:checked");
      var option = checked && checked.closest(".style-option");
      if (!option || styleGrid.scrollHeight <= styleGrid.clientHeight) return;
      var top = option.offsetTop - styleGrid.offsetTop;
      if (top + option.offsetHeight > styleGrid.clientHeight) styleGrid.scrollTop = top - 8;
    }

    /* ----- Errors ----- */

    function setFieldError(field, message) {
      var box = root.querySelector("[data-field-error='" + field + "']");
      if (!box) return false;
      box.textContent = message;
      box.hidden = !message;
      var control = field === "prompt" ? prompt : field === "roomType" ? roomSelect : null;
      if (control) {
        if (message) control.setAttribute("aria-invalid", "true"); else control.removeAttribute("aria-invalid");
      }
      return true;
    }

    function setFormError(message, items) {
      formError.textContent = "";
      if (message) {
        var text = document.createElement("p");
        text.textContent = message;
        formError.appendChild(text);
      }
      if (items && items.length) {
        var list = document.createElement("ul");
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.textContent = item;
          list.appendChild(li);
        });
        formError.appendChild(list);
      }
      formError.hidden = !message && !(items && items.length);
    }

    function clearErrors() {
      setFormError("");
      ["roomType", "style", "prompt", "aspectRatio", "quality", "variants"].forEach(function (f) { setFieldError(f, ""); });
      zones.forEach(function (zone) { zone.setError(""); });
    }

    /* `error.details.fieldErrors` → the field's own message; the rest in the form's error box. */
    function showValidation(err) {
      var details = err.details || {};
      var fieldErrors = details.fieldErrors || {};
      var leftover = (details.formErrors || []).slice();
      Object.keys(fieldErrors).forEach(function (field) {
        var message = [].concat(fieldErrors[field]).join(" ");
        if (field === "input1" || field === "input2") zones[field === "input1" ? 0 : 1].setError(message);
        else if (!setFieldError(field, message)) leftover.push(humanize(field) + ": " + message);
      });
      setFormError(err.message, leftover.filter(function (m) { return m && m !== err.message; }));
      var invalid = root.querySelector("[aria-invalid=true]");
      if (invalid) invalid.focus();
    }

    /* ----- Settings ----- */

    function readSettings() {
      var spec = MODES[state.mode];
      var text = prompt.value.trim();
      return {
        mode: state.mode,
        roomType: roomSelect.value || null,
        style: checkedValue("style") || null,
        prompt: text || null,
        input1: spec.inputs >= 1 ? zones[0].id() : null,
        input2: spec.inputs >= 2 ? zones[1].id() : null,
        aspectRatio: checkedValue("aspect_ratio") || null,
        quality: checkedValue("quality") || null,
        variants: parseInt(checkedValue("variants"), 10) || null
      };
    }

    /* The first problem's control, after marking every problem; null when the settings can go. */
    function validate(settings) {
      var spec = MODES[settings.mode];
      var first = null;
      function problem(control, show) { show(); if (!first) first = control; }
      zones.slice(0, spec.inputs).forEach(function (zone, i) {
        if (zone.isUploading()) {
          problem(zone.input, function () { zone.setError("Please wait until this upload finishes."); });
        } else if (!zone.id()) {
          problem(zone.input, function () {
            zone.setError(i === 0 ? "Add a photo of your room." : "Add a photo of the piece or look to place in your room.");
          });
        }
      });
      if (settings.mode === "imagine" && !settings.prompt) {
        problem(prompt, function () { setFieldError("prompt", "Describe the room you'd like to imagine."); });
      }
      if (!isNaN(state.remaining) && state.remaining > 0 && settings.variants > state.remaining) {
        problem(root.querySelector("input[name=variants]:checked"), function () {
          setFieldError("variants", "You have " + plural(state.remaining, "generation") +
            " left this month: choose " + state.remaining + " variant" + (state.remaining === 1 ? "" : "s") + " or fewer.");
        });
      }
      return first;
    }

    /* ----- Usage ----- */

    function setUsage(remaining, limit, resetIso) {
      if (typeof remaining !== "number" || isNaN(remaining)) return;
      state.remaining = Math.max(0, remaining);
      if (remainingCount) remainingCount.textContent = String(state.remaining);
      if (typeof limit === "number" && !isNaN(limit)) {
        state.limit = limit;
        Array.prototype.forEach.call(limitCounts, function (count) { count.textContent = String(limit); });
      }
      if (resetIso && resetsAt) {
        var text = formatResetDate(resetIso);
        if (text) { resetsAt.textContent = text; resetsAt.setAttribute("datetime", resetIso); }
      }
      var out = state.remaining <= 0;
      outPanel.hidden = !out;
      submitButton.disabled = out;
    }

    /* After a refused submit: the out-of-generations panel, read out by moving focus to it. */
    function showOutOfCredits() {
      setUsage(0);
      outTitle.focus();
    }

    function refreshUsage() {
      return requestJson("GET", "/usage").then(function (usage) {
        if (usage) setUsage(usage.remaining, usage.limit, usage.resetsAt);
        return usage;
      });
    }

    /* ----- Busy state, progress, failure, results ----- */

    function setBusy(busy) {
      state.busy = busy;
      clearTimeout(state.unlockTimer);
      submitButton.setAttribute("aria-disabled", busy ? "true" : "false");
      submitButton.classList.toggle("is-busy", busy);
      submitLabel.textContent = busy ? "Generating…" : "Generate";
    }

    function showCancel(show) {
      cancelButton.hidden = !show;
      cancelButton.disabled = false;
      cancelButton.removeAttribute("aria-disabled");
    }

    function tickElapsed() {
      if (!state.startedAt) { progressElapsed.textContent = ""; return; }
      var seconds = Math.max(0, Math.round((Date.now() - state.startedAt) / 1000));
      progressElapsed.textContent = seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
    }

    function showProgress(step, hint) {
      failurePanel.hidden = true;
      progressPanel.hidden = false;
      if (progressStep.textContent !== step) progressStep.textContent = step;
      if (hint && progressHint.textContent !== hint) progressHint.textContent = hint;
      if (!state.elapsedTimer) state.elapsedTimer = setInterval(tickElapsed, 1000);
      tickElapsed();
    }

    function hideProgress() {
      progressPanel.hidden = true;
      clearInterval(state.elapsedTimer);
      state.elapsedTimer = null;
    }

    function showFailure(title, message) {
      failureTitle.textContent = "";
      var strong = document.createElement("strong");
      strong.textContent = title;
      failureTitle.appendChild(strong);
      failureMessage.textContent = message;
      failurePanel.hidden = false;
    }

    function jobTitle(job) {
      var parts = [modeName(job.mode)];
      if (job.roomType) parts.push(roomName(job.roomType));
      if (job.style) parts.push(styleName(job.style));
      return parts.join(" · ");
    }

    /* Same markup as components/render_card.html: the page renders the macro into a <template>. */
    function buildCard(job, variant, title) {
      var card = cardTemplate.content.firstElementChild.cloneNode(true);
      var idx = Number(variant.idx) || 0;
      var label = "Variant " + (idx + 1);
      var href = "/renders/" + encodeURIComponent(job.renderId) + "?variant=" + idx;
      var img = card.querySelector(".render-card-image");
      var download = card.querySelector(".render-card-download");
      card.setAttribute("data-render-id", job.renderId);
      card.setAttribute("data-variant", String(idx));
      img.src = variant.thumbUrl || variant.url;
      if (variant.width && variant.height) { img.width = variant.width; img.height = variant.height; }
      img.alt = title + ", " + label.toLowerCase();
      img.loading = "eager";
      card.querySelector(".render-card-link").href = href;
      card.querySelector(".render-card-title-text").textContent = title;
      card.querySelector(".render-card-variant").textContent = label;
      card.querySelector(".render-card-badge").hidden = job.provider !== "local";
      download.href = variant.url;
      download.setAttribute("download", "roomcraft-" + job.renderId + "-" + (idx + 1) + ".jpg");
      var hidden = download.querySelector(".visually-hidden");
      if (hidden) hidden.textContent = " " + label.toLowerCase();
      var heart = card.querySelector(".render-card-heart");
      heart.setAttribute("data-render-id", job.renderId);
      heart.form.action = "/renders/" + encodeURIComponent(job.renderId) + "/favorite";
      heart.form.elements.csrf_token.value = csrfToken();
      heart.form.elements.next.value = href;
      return card;
    }

    function showResults(job) {
      var variants = (job.variants || []).slice().sort(function (a, b) { return a.idx - b.idx; });
      var title = jobTitle(job);
      results.textContent = "";
      variants.forEach(function (variant) { results.appendChild(buildCard(job, variant, title)); });
      resultsOpen.href = job.renderId ? "/renders/" + encodeURIComponent(job.renderId) : "/renders";
      resultsSection.hidden = false;
      if (window.htmx && typeof window.htmx.process === "function") window.htmx.process(resultsSection);
      var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      resultsSection.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "start" });
      return variants.length;
    }

    /* ----- Watching a job: SSE first, polling as the fallback ----- */

    function stopWatching() {
      if (state.stream) { state.stream.close(); state.stream = null; }
      clearTimeout(state.pollTimer);
      state.pollTimer = null;
    }

    function alive() {
      if (!state.destroyed && root.isConnected) return true;
      destroy();
      return false;
    }

    function schedulePoll(id, wait) {
      clearTimeout(state.pollTimer);
      state.pollTimer = setTimeout(function () { pollOnce(id); }, wait);
    }

    function pollOnce(id) {
      if (!alive() || state.jobId !== id) return;
      requestJson("GET", "/generations/" + encodeURIComponent(id)).then(function (job) {
        if (state.jobId !== id) return;
        handleJob(job);
        if (job && !TERMINAL[job.status]) schedulePoll(id, POLL_MS);
      }, function (err) {
        if (state.jobId !== id) return;
        if (err.status === 404 || err.status === 401 || err.status === 403) {
          endJob();
          showFailure("We lost track of that render", err.message + " Your renders are in My Renders.");
        } else {
          schedulePoll(id, POLL_MS * 2);
        }
      });
    }

    function watch(id) {
      stopWatching();
      state.jobId = id;
      if (!window.EventSource) { schedulePoll(id, 0); return; }
      var source = new EventSource(API + "/generations/" + encodeURIComponent(id) + "/events");
      state.stream = source;
      source.addEventListener("status", function (event) {
        if (state.stream !== source || !alive()) return;
        var job = null;
        try { job = JSON.parse(event.data); } catch (e) { job = null; }
        if (job) handleJob(job);
      });
      source.addEventListener("error", function () {
        if (state.stream !== source) return;
        // The stream broke (or was never allowed): poll instead.
        source.close();
        state.stream = null;
        if (state.jobId === id && alive()) schedulePoll(id, 0);
      });
    }

    function endJob() {
      stopWatching();
      state.jobId = null;
      hideProgress();
      setBusy(false);
      showCancel(false);
    }

    function handleJob(job) {
      if (!job || (job.id && state.jobId && String(job.id) !== String(state.jobId))) return;
      var created = job.createdAt ? Date.parse(job.createdAt) : NaN;
      if (!isNaN(created)) state.startedAt = Math.min(created, Date.now());
      if (job.status === "starting") {
        showProgress("Queued", "Waiting for a free renderer…");
      } else if (job.status === "processing") {
        showProgress("Rendering…", "Renders usually take under a minute. You can leave this page: they will be in My Renders.");
      } else if (job.status === "succeeded") {
        onSucceeded(job);
      } else if (job.status === "failed" || job.status === "canceled") {
        onFailed(job);
      }
    }

    function onSucceeded(job) {
      endJob();
      var delivered = showResults(job);
      toast(delivered === 1 ? "Your render is ready." : plural(delivered, "render") + " are ready.", "success");
      refreshUsage().catch(function () {
        if (!isNaN(state.remaining)) setUsage(state.remaining - delivered);
      });
    }

    function onFailed(job) {
      endJob();
      if (job.status === "canceled") {
        showFailure("Generation canceled", job.error || "Nothing was charged for it. Change the settings or try again.");
      } else {
        showFailure("That render didn't work", job.error || "The renderer couldn't finish this one. Its credits were returned.");
      }
      refreshUsage().catch(function () { /* the numbers stay as they were */ });
    }

    /* ----- Submit and cancel ----- */

    function onSubmitError(err) {
      if (err.code === "GENERATION_IN_FLIGHT") {
        toast("Please wait until the current generation completes.", "error");
        var running = err.details && (err.details.jobId || err.details.id);
        if (running) { startWatching(String(running), false); return; }
        // Keep the button disabled for a while; another tab's job should end by then.
        state.unlockTimer = setTimeout(function () { if (!state.jobId) setBusy(false); }, IN_FLIGHT_UNLOCK_MS);
        return;
      }
      setBusy(false);
      if (err.code === "NO_CREDITS" || err.status === 402) {
        refreshUsage().then(function () {
          if (state.remaining > 0) setFieldError("variants", err.message);
          else showOutOfCredits();
        }, showOutOfCredits);
        return;
      }
      if (err.status === 400 || err.code === "VALIDATION_ERROR") { showValidation(err); return; }
      if (err.status === 401) toast("Your session has ended. Please sign in again.", "error");
      else toast(err.message, "error");
    }

    function startWatching(id, fresh) {
      state.jobId = id;
      state.startedAt = fresh ? Date.now() : null;
      setBusy(true);
      showCancel(true);
      showProgress(fresh ? "Queued" : "Checking on your render…", fresh ? "Waiting for a free renderer…" : null);
      watch(id);
    }

    function submit(settings) {
      if (state.busy) return;
      clearErrors();
      failurePanel.hidden = true;
      state.lastPayload = settings;
      setBusy(true);
      var body = Object.assign({}, settings, { idempotencyKey: uuid4() });
      requestJson("POST", "/generations/submit", body, 2).then(function (data) {
        if (!alive()) return;
        if (!data || !data.id) { setBusy(false); toast("The server didn't start the generation. Please try again.", "error"); return; }
        startWatching(String(data.id), true);
      }, function (err) {
        if (alive()) onSubmitError(err);
      });
    }

    function onSubmit(event) {
      event.preventDefault();
      if (state.busy) {
        if (state.jobId) toast("Please wait until the current generation completes.", "info");
        return;
      }
      if (state.remaining <= 0) { showOutOfCredits(); return; }
      clearErrors();
      var settings = readSettings();
      var invalid = validate(settings);
      if (invalid) { invalid.focus(); return; }
      submit(settings);
    }

    function onCancel() {
      var id = state.jobId;
      if (!id || cancelButton.disabled) return;
      cancelButton.disabled = true;
      progressStep.textContent = "Canceling…";
      requestJson("POST", "/generations/" + encodeURIComponent(id) + "/cancel", {}).then(function (job) {
        if (state.jobId === id) handleJob(job);
      }, function (err) {
        cancelButton.disabled = false;
        toast(err.message, "error");
      });
    }

    function onTryAgain() {
      failurePanel.hidden = true;
      if (state.lastPayload) submit(state.lastPayload);
      else form.requestSubmit();
    }

    /* ----- Life cycle ----- */

    function destroy() {
      if (state.destroyed) return;
      state.destroyed = true;
      stopWatching();
      clearInterval(state.elapsedTimer);
      clearTimeout(state.unlockTimer);
      zones.forEach(function (zone) { zone.destroy(); });
    }

    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () { setMode(tab.getAttribute("data-mode")); });
      tab.addEventListener("keydown", onTabKey);
    });
    form.addEventListener("submit", onSubmit);
    form.addEventListener("change", function (event) {
      updateSummary();
      var name = event.target.name;
      if (name === "variants") setFieldError("variants", "");
      if (name === "room_type") setFieldError("roomType", "");
      if (name === "style") setFieldError("style", "");
    });
    form.addEventListener("upload:change", function () { setFormError(""); });
    prompt.addEventListener("input", function () {
      updateCounter();
      if (prompt.value.trim()) setFieldError("prompt", "");
    });
    cancelButton.addEventListener("click", onCancel);
    tryAgain.addEventListener("click", onTryAgain);
    // A file dropped next to a zone must not make the browser leave the page.
    root.addEventListener("dragover", function (event) { event.preventDefault(); });
    root.addEventListener("drop", function (event) { event.preventDefault(); });
    // htmx is about to remove this content (hx-boost navigation).
    root.addEventListener("htmx:beforeCleanupElement", function (event) { if (event.target === root) destroy(); });

    setMode(state.mode);
    updateCounter();
    scrollSelectedStyleIntoView();
    if (!isNaN(state.remaining)) setUsage(state.remaining, state.limit);
    var inFlight = root.getAttribute("data-in-flight");
    if (inFlight) startWatching(inFlight, false);
  }

  /* An expando, not an attribute: it is shared by every run of this script and never copied into
     HTML, so a root that htmx brings back is set up afresh. */
  function setUpAll() {
    Array.prototype.forEach.call(document.querySelectorAll("#generator"), function (root) {
      if (root.__roomcraftGenerator) return;
      root.__roomcraftGenerator = true;
      setUpGenerator(root);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAll, { once: true });
  else setUpAll();
})();
