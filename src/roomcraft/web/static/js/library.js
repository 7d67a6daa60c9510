/* Roomcraft library pages (app/renders.html, favorites.html, collections.html, collection.html):
   filters that apply on change, the selection toolbar (add to a collection, delete with a
   confirmation), cards that leave Favorites or a collection when taken out of it, focus after
   "Load more", and the rename/delete disclosures. Without JavaScript every one of these is a form.

   The hearts and "Add to collection" menus belong to the cards (static/js/cards.js); this file only
   reacts to their events. Like generate.js, htmx runs this file again after every hx-boost swap
   that brings a library page in: the document listeners are added once, each page root is set up
   once. */
(function () {
  "use strict";

  var roomcraft = window.roomcraft || {};
  var LEAVE_MS = 220;

  function toast(message, kind) {
    if (typeof roomcraft.toast === "function") roomcraft.toast(message, kind);
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function pageOf(el) {
    return el.closest("[data-library]");
  }

  /* ---------- Filters: apply on change ---------- */

  function onFilterChange(event) {
    var form = event.target.closest("[data-filter-form]");
    if (form && event.target.matches("select")) form.requestSubmit();
  }

  /* ---------- Selection toolbar ---------- */

  function checkboxes(page) {
    return Array.prototype.slice.call(page.querySelectorAll("[data-select-render]"));
  }

  function selectedIds(page) {
    return checkboxes(page).filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
  }

  function updateToolbar(page) {
    var bar = page.querySelector("[data-bulk-form]");
    if (!bar) return;
    var count = selectedIds(page).length;
    bar.classList.toggle("is-active", count > 0);
    bar.querySelector("[data-bulk-count]").textContent = count ? count + " selected" : "No renders selected";
  }

  function clearSelection(page) {
    checkboxes(page).forEach(function (box) { box.checked = false; });
    updateToolbar(page);
  }

  function collectionChoice(form) {
    var select = form.querySelector("[data-bulk-collection]");
    var option = select.options[select.selectedIndex];
    return { id: select.value, name: option.textContent.trim(), isFavorites: option.hasAttribute("data-default") };
  }

  function addSelected(page, form) {
    var ids = selectedIds(page);
    var collection = collectionChoice(form);
    roomcraft.api("POST", "/collections/items/add", { collectionId: collection.id, renderIds: ids }).then(function (data) {
      ids.forEach(function (id) {
        roomcraft.showMembership(id, collection.id, true);
        if (collection.isFavorites) roomcraft.showFavorite(id, true);
      });
      var already = ids.length - data.added;
      toast("Added " + plural(data.added, "render") + " to “" + collection.name + "”" +
        (already ? " (" + already + " already there)." : "."), "success");
      clearSelection(page);
    }, function (error) {
      toast("Couldn't add them to “" + collection.name + "”. " + error.message, "error");
    });
  }

  function confirmDelete(page, count, trigger) {
    var dialog = page.querySelector("[data-bulk-dialog]");
    dialog.querySelector("[data-bulk-dialog-title]").textContent = "Delete " + plural(count, "render") + "?";
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () {
        trigger.focus();
        resolve(dialog.returnValue === "delete");
      }, { once: true });
    });
  }

  function deleteSelected(page, trigger) {
    var ids = selectedIds(page);
    confirmDelete(page, ids.length, trigger).then(function (confirmed) {
      if (!confirmed) return null;
      return roomcraft.api("POST", "/renders/delete", { renderIds: ids }).then(function (data) {
        toast("Deleted " + plural(data.deleted, "render") + ".", "success");
        clearSelection(page);
        ids.forEach(function (id) {
          var card = page.querySelector(".render-card[data-render-id='" + id + "']");
          if (card) leave(gridItem(card), true);
        });
        // The page emptied: let the server say what comes next (older renders, or the empty state).
        setTimeout(function () {
          if (!page.querySelector(".library-grid-item")) window.location.reload();
        }, LEAVE_MS + 20);
      }, function (error) {
        toast("Couldn't delete them. " + error.message, "error");
      });
    });
  }

  function onToolbarSubmit(event) {
    var form = event.target.closest("[data-bulk-form]");
    if (!form) return;
    event.preventDefault();
    var page = pageOf(form);
    if (!selectedIds(page).length) return;
    var submitter = event.submitter || form.querySelector("[data-bulk-add]");
    if (submitter.value === "delete") deleteSelected(page, submitter);
    else addSelected(page, form);
  }

  /* ---------- Cards that leave the page ---------- */

  function gridItem(card) {
    return card.closest(".library-grid-item") || card;
  }

  // Take a card off the grid with a short fade. It stays hidden in the page until its change is
  // confirmed (`gone`), so a rollback can bring it back where it was.
  function leave(item, gone) {
    var page = pageOf(item);
    var next = item.nextElementSibling || item.previousElementSibling;
    var hadFocus = item.contains(document.activeElement);
    item.__gone = gone;
    item.classList.add("is-leaving");
    item.__leaving = setTimeout(function () {
      item.hidden = true;
      if (hadFocus) focusAfterLeaving(next, page);
      if (item.__gone) item.remove();
      updateEmptyState(page);
    }, LEAVE_MS);
  }

  function comeBack(item) {
    clearTimeout(item.__leaving);
    item.classList.remove("is-leaving");
    item.hidden = false;
    updateEmptyState(pageOf(item));
  }

  function confirmGone(item) {
    item.__gone = true;
    if (item.hidden) item.remove();
  }

  function focusAfterLeaving(next, page) {
    var target = next && !next.hidden && next.isConnected ? next.querySelector("[data-heart], .render-card-link") : null;
    if (!target) {
      updateEmptyState(page);
      target = page.querySelector("[data-library-empty]:not([hidden]) a") || page.querySelector("h1");
    }
    if (target) {
      if (target.matches("h1")) target.tabIndex = -1;
      target.focus();
    }
  }

  function updateEmptyState(page) {
    var empty = page.querySelector("[data-library-empty]");
    if (!empty) return;
    var showing = page.querySelectorAll(".library-grid-item:not([hidden]):not(.is-leaving)").length;
    var more = page.querySelector("[data-load-more]");
    empty.hidden = showing > 0 || !!more;
  }

  function shiftCount(page, by) {
    var counter = page.querySelector("[data-items-count]");
    if (!counter) return;
    var n = Math.max(0, Number(counter.getAttribute("data-items-count")) + by);
    counter.setAttribute("data-items-count", String(n));
    counter.textContent = plural(n, "render");
  }

  // A card that stops belonging on this page leaves at once and comes back if the change fails.
  function follow(page, renderId, belongs, phase) {
    var card = page.querySelector(".render-card[data-render-id='" + renderId + "']");
    if (!card) return;
    var item = gridItem(card);
    var leaving = item.classList.contains("is-leaving");
    if (!belongs && !leaving && phase !== "failed") {
      leave(item, phase === "done");
      shiftCount(page, -1);
    } else if (belongs && leaving) {
      comeBack(item);
      shiftCount(page, 1);
    } else if (!belongs && phase === "done") {
      confirmGone(item);
    }
  }

  function onFavorite(event) {
    var page = document.querySelector("[data-library='favorites']");
    if (page) follow(page, event.detail.renderId, event.detail.isFavorited, event.detail.phase);
  }

  function onCollectionItem(event) {
    var page = document.querySelector("[data-library='collection']");
    if (page && page.getAttribute("data-collection-id") === event.detail.collectionId) {
      follow(page, event.detail.renderId, event.detail.inCollection, event.detail.phase);
    }
  }

  function onRemoveClick(event) {
    var button = event.target.closest("[data-remove-from]");
    if (!button) return;
    var card = button.closest("[data-render-id]");
    roomcraft.toggleCollectionItem(card.getAttribute("data-render-id"), button.getAttribute("data-remove-from")).catch(function () {});
  }

  /* ---------- "Load more": focus the first new card ---------- */

  function onLoadMoreStart(event) {
    if (!event.detail.elt.matches("[data-load-more]")) return;
    var grid = document.getElementById("render-grid");
    if (grid) grid.setAttribute("data-count-before", String(grid.children.length));
  }

  function onLoadMoreDone(event) {
    var grid = event.detail.target;
    if (!grid || grid.id !== "render-grid" || !grid.hasAttribute("data-count-before")) return;
    var first = grid.children[Number(grid.getAttribute("data-count-before"))];
    grid.removeAttribute("data-count-before");
    var link = first && first.querySelector(".render-card-link");
    if (link) link.focus();
    var page = pageOf(grid);
    if (page) updateToolbar(page);
  }

  /* ---------- Disclosures (rename, delete): one open at a time, Escape closes ---------- */

  function onDisclosureToggle(event) {
    var details = event.target;
    if (!details.matches || !details.matches("[data-disclosure]") || !details.open) return;
    document.querySelectorAll("[data-disclosure][open]").forEach(function (other) {
      if (other !== details) other.open = false;
    });
    var field = details.querySelector(".disclosure-panel input:not([type=hidden]), .disclosure-panel [type=submit]");
    if (field) {
      field.focus();
      if (field.select) field.select();
    }
  }

  function onKeydown(event) {
    if (event.key !== "Escape") return;
    var details = event.target.closest && event.target.closest("[data-disclosure][open]");
    if (!details) return;
    details.open = false;
    details.querySelector("summary").focus();
  }

  function onOutsideClick(event) {
    document.querySelectorAll("[data-disclosure][open]").forEach(function (details) {
      if (!details.contains(event.target)) details.open = false;
    });
  }

  // A history snapshot is the page's HTML: ticks are not in it, so neither may the toolbar be.
  function beforeHistorySave() {
    document.querySelectorAll("[data-bulk-form].is-active").forEach(function (bar) { bar.classList.remove("is-active"); });
    document.querySelectorAll("[data-disclosure][open]").forEach(function (details) { details.open = false; });
  }

  /* ---------- Start up ---------- */

  function setUpAll() {
    // Ticks can survive a history restore or a re-rendered confirmation: show the toolbar for them.
    document.querySelectorAll("[data-library]").forEach(function (page) {
      if (page.__roomcraftLibrary) return;
      page.__roomcraftLibrary = true;
      updateToolbar(page);
    });
  }

  if (!roomcraft.libraryListening) {
    roomcraft.libraryListening = true;
    document.addEventListener("change", function (event) {
      onFilterChange(event);
      if (event.target.matches("[data-select-render]")) updateToolbar(pageOf(event.target));
    });
    document.addEventListener("click", function (event) {
      if (event.target.closest("[data-bulk-clear]")) clearSelection(pageOf(event.target));
      onRemoveClick(event);
      onOutsideClick(event);
    });
    document.addEventListener("submit", onToolbarSubmit);
    document.addEventListener("roomcraft:favorite", onFavorite);
    document.addEventListener("roomcraft:collection-item", onCollectionItem);
    document.addEventListener("htmx:beforeRequest", onLoadMoreStart);
    document.addEventListener("htmx:afterSettle", onLoadMoreDone);
    document.addEventListener("toggle", onDisclosureToggle, true); // "toggle" does not bubble
    document.addEventListener("keydown", onKeydown);
    document.addEventListener("htmx:beforeHistorySave", beforeHistorySave);
    document.addEventListener("htmx:load", setUpAll);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAll, { once: true });
  else setUpAll();
})();
