/* Render cards: the heart and the "Add to collection" menu.
   Markup: templates/components/render_card.html and app/render.html. The closest element with
   data-render-id names the render; one with data-collection-ids lists the caller's collections it
   is in. Both controls are optimistic (they flip at once and roll back with a toast on error) and
   keep every copy of a render on the page in step: the generate page shows one card per variant.
   The heart and a card's "Remove from this collection" are small forms (data-card-form) so that
   they work without JavaScript; with it they are never submitted: this file answers the heart's
   click, static/js/library.js the remove button's.
   Pages that react (static/js/library.js) listen for "roomcraft:favorite" {renderId, isFavorited,
   phase} and "roomcraft:collection-item" {renderId, collectionId, inCollection, phase}, where
   phase is "pending", "done" or "failed". */
(function () {
  "use strict";

  var api = window.roomcraft.api;
  var toast = window.roomcraft.toast;

  function renderIdOf(el) {
    var holder = el.closest("[data-render-id]");
    return holder ? holder.getAttribute("data-render-id") : "";
  }

  function copiesOf(selector, renderId) {
    return Array.prototype.filter.call(document.querySelectorAll(selector), function (el) {
      return renderIdOf(el) === renderId;
    });
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function showFavorite(renderId, on) {
    copiesOf("[data-heart]", renderId).forEach(function (heart) {
      heart.setAttribute("aria-pressed", on ? "true" : "false");
      heart.title = on ? "Remove from favorites" : "Add to favorites";
      heart.value = on ? "false" : "true"; // what its form would ask for next
    });
  }

  function membershipsOf(renderId) {
    var holder = copiesOf("[data-collection-ids]", renderId)[0];
    var value = holder ? holder.getAttribute("data-collection-ids") : "";
    return value ? value.split(" ") : [];
  }

  function showMembership(renderId, collectionId, inside) {
    copiesOf("[data-collection-ids]", renderId).forEach(function (holder) {
      var ids = (holder.getAttribute("data-collection-ids") || "").split(" ").filter(function (id) {
        return id && id !== collectionId;
      });
      if (inside) ids.push(collectionId);
      holder.setAttribute("data-collection-ids", ids.join(" "));
    });
  }

  var pending = {}; // one request at a time per render and control, so answers arrive in order

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-card-form] [type=submit]")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var heart = event.target.closest("[data-heart]");
    var renderId = heart && renderIdOf(heart);
    if (!renderId || pending["heart " + renderId]) return;
    var wanted = heart.getAttribute("aria-pressed") !== "true";
    pending["heart " + renderId] = true;
    showFavorite(renderId, wanted);
    emit("roomcraft:favorite", { renderId: renderId, isFavorited: wanted, phase: "pending" });
    api("POST", "/favorites/toggle", { renderId: renderId }).then(function (data) {
      showFavorite(renderId, data.isFavorited);
      emit("roomcraft:favorite", { renderId: renderId, isFavorited: data.isFavorited, phase: "done" });
    }, function (error) {
      showFavorite(renderId, !wanted);
      emit("roomcraft:favorite", { renderId: renderId, isFavorited: !wanted, phase: "failed" });
      toast("Couldn't update your favorites. " + error.message, "error");
    }).then(function () { delete pending["heart " + renderId]; });
  });

  // Put the render in the collection or take it out; resolves with whether it is in.
  function toggleCollectionItem(renderId, collectionId) {
    var key = "item " + renderId + " " + collectionId;
    if (pending[key]) return Promise.reject(new Error("busy"));
    var wanted = membershipsOf(renderId).indexOf(collectionId) === -1;
    pending[key] = true;
    showMembership(renderId, collectionId, wanted);
    emit("roomcraft:collection-item", { renderId: renderId, collectionId: collectionId, inCollection: wanted, phase: "pending" });
    return api("POST", "/collections/items/toggle", { collectionId: collectionId, renderId: renderId }).then(function (data) {
      showMembership(renderId, collectionId, data.inCollection);
      emit("roomcraft:collection-item", { renderId: renderId, collectionId: collectionId, inCollection: data.inCollection, phase: "done" });
      return data.inCollection;
    }, function (error) {
      showMembership(renderId, collectionId, !wanted);
      emit("roomcraft:collection-item", { renderId: renderId, collectionId: collectionId, inCollection: !wanted, phase: "failed" });
      toast("Couldn't update that collection. " + error.message, "error");
      throw error;
    }).finally(function () { delete pending[key]; });
  }

  var CHECK_SVG = '<svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="m5 12.5 4.5 4.5L19 7.5"/></svg>';
  var PLUS_SVG = '<svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true" focusable="false"><path d="M12 5v14M5 12h14"/></svg>';
  var openMenu = null; // {button, panel, renderId, status, list, form}
  var menuSerial = 0;

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function menuItems() {
    return openMenu ? Array.prototype.slice.call(openMenu.list.querySelectorAll("[role^='menuitem']")) : [];
  }

  function closeMenu(returnFocus) {
    if (!openMenu) return;
    var closing = openMenu;
    openMenu = null;
    closing.panel.remove();
    closing.button.setAttribute("aria-expanded", "false");
    closing.button.removeAttribute("aria-controls");
    var card = closing.button.closest(".render-card");
    if (card) card.classList.remove("has-open-menu");
    if (returnFocus) closing.button.focus();
  }

  function buildPanel(id) {
    var panel = element("div", "collection-menu-panel");
    panel.id = id;
    var title = element("p", "collection-menu-heading", "Add to collection");
    title.id = id + "-title";
    var status = element("p", "collection-menu-status", "Loading your collections…");
    status.setAttribute("role", "status");
    var list = element("div", "collection-menu-list");
    list.setAttribute("role", "menu");
    list.setAttribute("aria-labelledby", title.id);
    list.hidden = true;
    var form = element("form", "collection-menu-new");
    form.hidden = true;
    form.noValidate = true;
    form.innerHTML = '<label for="' + id + '-name">Name of the new collection</label>' +
      '<input class="input" id="' + id + '-name" name="name" maxlength="100" autocomplete="off" required>' +
      '<p class="field-error" id="' + id + '-error" hidden></p>' +
      '<div class="button-row"><button class="btn btn-primary btn-sm" type="submit">Create and add</button>' +
      '<button class="btn btn-ghost btn-sm" type="button" data-menu-back>Back</button></div>';
    panel.append(title, status, list, form);
    return { panel: panel, status: status, list: list, form: form };
  }

  function fillMenu(state, collections) {
    var inside = membershipsOf(state.renderId);
    var own = collections.filter(function (c) { return !c.isDefaultFavorites; });
    own.forEach(function (collection) {
      var item = element("button", "collection-menu-item");
      item.type = "button";
      item.tabIndex = -1;
      item.setAttribute("role", "menuitemcheckbox");
      item.setAttribute("aria-checked", inside.indexOf(collection.id) === -1 ? "false" : "true");
      item.setAttribute("data-collection-id", collection.id);
      var check = element("span", "collection-menu-check");
      check.innerHTML = CHECK_SVG;
      var count = element("span", "collection-menu-count", String(collection.itemsCount));
      count.setAttribute("aria-hidden", "true");
      item.append(check, element("span", "collection-menu-name", collection.name), count);
      state.list.appendChild(item);
    });
    if (own.length) {
      var separator = element("div", "collection-menu-separator");
      separator.setAttribute("role", "separator");
      state.list.appendChild(separator);
    }
    var create = element("button", "collection-menu-item collection-menu-create");
    create.type = "button";
    create.tabIndex = -1;
    create.setAttribute("role", "menuitem");
    create.setAttribute("data-new-collection", "");
    create.innerHTML = PLUS_SVG;
    create.appendChild(element("span", "collection-menu-name", "New collection…"));
    state.list.appendChild(create);
    state.status.textContent = own.length ? "" : "You have no collections yet.";
    state.status.hidden = !!own.length;
    state.list.hidden = false;
  }

  // Below the button and flush with its right edge, unless that leaves the screen or the content.
  function placeMenu(state) {
    var rect = state.panel.getBoundingClientRect();
    var button = state.button.getBoundingClientRect();
    var content = document.getElementById("main") || document.body;
    if (rect.bottom > window.innerHeight - 8 && button.top > rect.height + 16) state.panel.classList.add("opens-up");
    if (rect.left < Math.max(8, content.getBoundingClientRect().left)) state.panel.classList.add("opens-right");
  }

  function showMenu(button) {
    closeMenu(false);
    var renderId = renderIdOf(button);
    if (!renderId) return;
    menuSerial += 1;
    var state = buildPanel("collection-menu-" + menuSerial);
    state.button = button;
    state.renderId = renderId;
    openMenu = state;
    button.parentNode.appendChild(state.panel);
    button.setAttribute("aria-expanded", "true");
    button.setAttribute("aria-controls", state.panel.id);
    var card = button.closest(".render-card");
    if (card) card.classList.add("has-open-menu");
    placeMenu(state);
    api("GET", "/collections").then(function (data) {
      if (openMenu !== state) return;
      fillMenu(state, data.collections);
      placeMenu(state);
      menuItems()[0].focus();
    }, function (error) {
      if (openMenu === state) state.status.textContent = error.message;
    });
  }

  function onMenuItem(item) {
    if (item.hasAttribute("data-new-collection")) {
      openMenu.list.hidden = true;
      openMenu.status.hidden = true;
      openMenu.form.hidden = false;
      openMenu.form.elements.name.focus();
      return;
    }
    var count = item.querySelector(".collection-menu-count");
    var before = Number(count.textContent) - (item.getAttribute("aria-checked") === "true" ? 1 : 0);
    var show = function (inside) {
      item.setAttribute("aria-checked", inside ? "true" : "false");
      count.textContent = String(before + (inside ? 1 : 0));
    };
    var wanted = item.getAttribute("aria-checked") !== "true";
    show(wanted);
    toggleCollectionItem(openMenu.renderId, item.getAttribute("data-collection-id")).then(show, function () { show(!wanted); });
  }

  function createFromMenu(state) {
    var input = state.form.elements.name;
    var error = state.form.querySelector(".field-error");
    var name = input.value.trim();
    var fail = function (message) {
      error.textContent = message;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", error.id);
      input.focus();
    };
    if (!name || name.length > 100) return fail("Give the collection a name of 1 to 100 characters.");
    var submit = state.form.querySelector("[type=submit]");
    submit.disabled = true;
    api("POST", "/collections/upsert", { name: name }).then(function (collection) {
      return toggleCollectionItem(state.renderId, collection.id).then(function () {
        toast("Added to “" + collection.name + "”.", "success");
        if (openMenu === state) closeMenu(true);
      });
    }).catch(function (err) {
      submit.disabled = false;
      if (openMenu === state) fail(err.message);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-collection-menu-button]");
    if (button) {
      if (openMenu && openMenu.button === button) closeMenu(true);
      else showMenu(button);
      return;
    }
    if (!openMenu) return;
    if (!openMenu.panel.contains(event.target)) { closeMenu(false); return; }
    var item = event.target.closest(".collection-menu-item");
    if (item) onMenuItem(item);
    if (event.target.closest("[data-menu-back]")) {
      openMenu.form.hidden = true;
      openMenu.list.hidden = false;
      openMenu.list.querySelector("[data-new-collection]").focus();
    }
  });

  document.addEventListener("submit", function (event) {
    if (!openMenu || event.target !== openMenu.form) return;
    event.preventDefault();
    createFromMenu(openMenu);
  });

  document.addEventListener("keydown", function (event) {
    var button = event.target.closest && event.target.closest("[data-collection-menu-button]");
    if (button && (event.key === "ArrowDown" || event.key === "ArrowUp") && !openMenu) {
      event.preventDefault();
      showMenu(button);
      return;
    }
    if (!openMenu || !openMenu.panel.contains(event.target)) return;
    if (event.key === "Escape") { event.preventDefault(); closeMenu(true); return; }
    if (event.key === "Tab") { closeMenu(true); return; } // focus moves on from the menu's button
    var items = menuItems();
    var at = items.indexOf(event.target);
    if (at === -1) return;
    var next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    items[(next + items.length) % items.length].focus();
  });

  // A boosted navigation or a history snapshot must not keep a menu open.
  document.addEventListener("htmx:beforeSwap", function () { closeMenu(false); });
  document.addEventListener("htmx:beforeHistorySave", function () { closeMenu(false); });

  window.roomcraft.showFavorite = showFavorite;
  window.roomcraft.showMembership = showMembership;
  window.roomcraft.toggleCollectionItem = toggleCollectionItem;
})();
