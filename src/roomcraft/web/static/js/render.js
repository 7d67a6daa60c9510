/* Roomcraft render detail (app/render.html): the before/after slider, the variant switcher and the
   in-page delete confirmation. Progressive: without JavaScript the page shows every variant and the
   delete form's confirm button. Like generate.js, htmx runs this file again after each hx-boost swap
   that brings the page in; each page root is set up once. */
(function () {
  "use strict";

  /* ---------- Before/after ---------- */

  function setUpCompare(compare) {
    var range = compare.querySelector("[data-compare-range]");
    if (!range) return;
    function update() {
      var value = Math.min(100, Math.max(0, Number(range.value) || 0));
      compare.style.setProperty("--pos", value + "%");
      range.setAttribute("aria-valuetext", value + "% before, " + (100 - value) + "% after");
    }
    range.addEventListener("input", update);
    range.addEventListener("change", update);
    update();
  }

  /* ---------- Variant switcher ---------- */

  function setUpVariants(root) {
    var strip = root.querySelector("[data-variant-thumbs]");
    if (!strip) return;
    var thumbs = Array.prototype.slice.call(strip.querySelectorAll("[data-idx]"));
    var main = root.querySelector("[data-main-image]");
    var frame = main && (main.closest("[data-compare]") || main.closest(".render-main"));
    var caption = root.querySelector("[data-caption]");
    var download = root.querySelector("[data-download]");
    var downloadLabel = root.querySelector("[data-download-label]");
    var renderId = root.getAttribute("data-render-id");
    var count = thumbs.length;

    function select(thumb) {
      var idx = Number(thumb.getAttribute("data-idx"));
      var width = Number(thumb.getAttribute("data-width"));
      var height = Number(thumb.getAttribute("data-height"));
      var number = idx + 1;
      thumbs.forEach(function (other) { other.setAttribute("aria-pressed", other === thumb ? "true" : "false"); });
      root.setAttribute("data-selected", String(idx));

      if (main && main.getAttribute("src") !== thumb.getAttribute("data-url")) {
        main.classList.add("is-loading");
        main.addEventListener("load", function done() { main.classList.remove("is-loading"); main.removeEventListener("load", done); });
        main.src = thumb.getAttribute("data-url");
        main.alt = main.alt.replace(/variant \d+$/, "variant " + number);
        if (width && height) {
          main.width = width;
          main.height = height;
          if (frame) {
            frame.style.setProperty("--ratio", width + " / " + height);
            frame.style.setProperty("--ratio-num", (width / height).toFixed(4));
          }
        }
      }
      if (caption) caption.textContent = "Variant " + number + " of " + count;
      if (download) {
        download.href = thumb.getAttribute("data-url");
        download.setAttribute("download", "roomcraft-" + renderId + "-" + number + ".jpg");
      }
      if (downloadLabel) downloadLabel.textContent = "variant " + number;
      rememberVariant(idx);
    }

    strip.addEventListener("click", function (event) {
      var thumb = event.target.closest("[data-idx]");
      if (thumb && strip.contains(thumb)) select(thumb);
    });
  }

  /* Keep ?variant= in the address so a reload or a shared link shows the same variant. */
  function rememberVariant(idx) {
    if (!window.history || typeof window.history.replaceState !== "function") return;
    try {
      var url = new URL(window.location.href);
      url.searchParams.set("variant", String(idx));
      window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    } catch (e) { /* an odd URL: leave it */ }
  }

  /* ---------- Delete: ask in the page first ---------- */

  function setUpDelete(root) {
    var form = root.querySelector("[data-delete-form]");
    if (!form) return;
    var start = form.querySelector("[data-delete-start]");
    var panel = form.querySelector("[data-delete-confirm]");
    var cancel = form.querySelector("[data-delete-cancel]");
    var confirm = form.querySelector("[type=submit]");

    function open() {
      panel.classList.add("is-open");
      form.classList.add("is-confirming");
      start.setAttribute("aria-expanded", "true");
      cancel.focus();
    }
    function close() {
      panel.classList.remove("is-open");
      form.classList.remove("is-confirming");
      start.setAttribute("aria-expanded", "false");
      start.focus();
    }

    start.addEventListener("click", open);
    cancel.addEventListener("click", close);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    var label = confirm.textContent;
    form.addEventListener("submit", function () {
      confirm.setAttribute("aria-disabled", "true");
      confirm.textContent = "Deleting…";
    });
    // hx-boost sends the form; when that fails the page stays, so the button must come back.
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail && event.detail.successful) return;
      confirm.removeAttribute("aria-disabled");
      confirm.textContent = label;
    });
  }

  /* ---------- Start ---------- */

  function setUpAll() {
    Array.prototype.forEach.call(document.querySelectorAll("#render-page"), function (root) {
      if (root.__roomcraftRender) return; // an expando: shared by every run of this script
      root.__roomcraftRender = true;
      var compare = root.querySelector("[data-compare]");
      if (compare) setUpCompare(compare);
      setUpVariants(root);
      setUpDelete(root);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAll, { once: true });
  else setUpAll();
})();
