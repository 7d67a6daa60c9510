/* Billing buttons (public/pricing.html, app/settings.html) and the usage history's "Show more".

   A form with data-billing="checkout" (field `plan`) or data-billing="portal" asks
   POST /api/v1/billing/{checkout,portal} for a Stripe URL and goes there; a refusal (billing not
   configured, Stripe unreachable) is shown next to the button, in the server's words. Without
   JavaScript the same form posts to the page route, which redirects.

   The pages link this file from their content block, so htmx runs it again after each hx-boost swap
   that brings one in: the listeners sit on the document and are added once. */
(function () {
  "use strict";

  window.roomcraft = window.roomcraft || {};
  if (window.roomcraft.billingReady) return;
  window.roomcraft.billingReady = true;

  var API = "/api/v1/billing/";
  var BUSY_LABEL = "Opening Stripe…";

  function csrfToken() {
    var holder = document.getElementById("csrf-token");
    return (holder && holder.getAttribute("data-token")) || "";
  }

  function messageFor(status, payload) {
    if (payload && payload.error && payload.error.message) return payload.error.message;
    if (status === 0) return "Couldn't reach Roomcraft. Check your connection and try again.";
    if (status === 401) return "Your session has ended. Please sign in again.";
    if (status === 404) return "Billing isn't available on this server.";
    return "Billing is unavailable right now. Please try again in a moment.";
  }

  /* The error line nearest to the form: the plan card's, or the usage card's. */
  function errorSlot(form) {
    for (var el = form.parentElement; el; el = el.parentElement) {
      var slot = el.querySelector("[data-billing-error]");
      if (slot) return slot;
    }
    return null;
  }

  function setBusy(button, busy) {
    if (busy) {
      button.setAttribute("data-label", button.textContent);
      button.textContent = BUSY_LABEL;
      button.setAttribute("aria-disabled", "true");
    } else if (button.hasAttribute("data-label")) {
      button.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-label");
      button.removeAttribute("aria-disabled");
    }
  }

  function showError(form, message) {
    var slot = errorSlot(form);
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
    } else if (typeof window.roomcraft.toast === "function") {
      window.roomcraft.toast(message, "error");
    }
  }

  function request(action, body) {
    return fetch(API + action, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var payload = null;
        try { payload = text ? JSON.parse(text) : null; } catch (e) { payload = null; }
        var url = response.ok && payload && payload.data && payload.data.url;
        if (url) return url;
        throw new Error(messageFor(response.status, payload));
      });
    }, function () {
      throw new Error(messageFor(0, null));
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-billing")) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (!button || button.getAttribute("aria-disabled") === "true") return;
    var action = form.getAttribute("data-billing");
    var plan = form.querySelector("input[name=plan]");
    var slot = errorSlot(form);
    if (slot) slot.hidden = true;
    setBusy(button, true);
    request(action, action === "checkout" ? { plan: plan ? plan.value : "" } : {}).then(function (url) {
      window.location.assign(url);
    }, function (err) {
      setBusy(button, false);
      showError(form, err.message);
    });
  });

  // Back from Stripe through the browser's cache: the button must not stay on "Opening Stripe…".
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-billing] button[data-label]").forEach(function (button) {
      setBusy(button, false);
    });
  });

  /* "Show more" appends the next page of the ledger; focus moves to its first line so a keyboard
     or screen-reader user carries on from there. */
  var pendingHistory = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.hasAttribute("data-history-more")) return;
    var rows = document.getElementById("usage-history-rows");
    pendingHistory = rows ? { rows: rows, count: rows.children.length } : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!pendingHistory) return;
    var first = pendingHistory.rows.children[pendingHistory.count];
    pendingHistory = null;
    if (first) first.focus();
  });
})();
