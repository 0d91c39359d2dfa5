/* The technician app offline (docs/offline.md): the service worker, the network bar, and the
   queue of actions recorded without a network, sent in order, exactly once, when it returns.

   Progressive enhancement: without this script every form posts as before. With it, a form
   marked `data-queue` posts as before while the device is online and nothing waits in the
   queue; otherwise the action is queued on the device (IndexedDB) with an Idempotency-Key,
   and the queue sends it to the same address when the network is back. The server applies
   each key once; a replay answers as the first request did.

   A new action: mark its form `data-queue="<kind>"` with a `data-queue-label`; nothing else is
   needed if it posts to a technician page (`showQueued` may say how the page shows it queued).
   Safety confirmations queue like steps, and once all are queued the held-back Start shows
   (`data-after-safety`); signatures travel inside the complete form as drawn PNG data. */
(function () {
  "use strict";

  const script = document.currentScript;
  const SW_URL = script.dataset.sw;
  const SCOPE = script.dataset.scope;
  const USER = script.dataset.user || "";
  const DB_NAME = "cmms-offline";
  const STORE = "actions";
  const LAST_SYNC = "cmms.lastSync";
  const KEEP_DONE_MS = 24 * 3600 * 1000;

  let db = null;
  let actions = []; // in order; mirrors the store
  let syncing = false;

  // ------------------------------------------------------------------ storage

  function openDb() {
    if (db) return Promise.resolve(db);
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
      request.onsuccess = () => { db = request.result; resolve(db); };
      request.onerror = () => reject(request.error);
    });
  }

  function tx(mode, work) {
    return openDb().then((database) => new Promise((resolve, reject) => {
      const transaction = database.transaction(STORE, mode);
      const result = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(result && result.result !== undefined ? result.result : result);
      transaction.onerror = () => reject(transaction.error);
    }));
  }

  async function load() {
    const all = await tx("readonly", (store) => store.getAll());
    const now = Date.now();
    const old = all.filter((a) => a.state === "done" && now - a.seq > KEEP_DONE_MS);
    if (old.length) await tx("readwrite", (store) => old.forEach((a) => store.delete(a.id)));
    actions = all.filter((a) => !old.includes(a)).sort((a, b) => a.seq - b.seq);
    // Only this user's actions: another user's queue (no logout in between) waits for them.
    return actions;
  }

  function save(action) {
    return tx("readwrite", (store) => store.put(action));
  }

  function mine() {
    return actions.filter((a) => a.user === USER);
  }

  function pending() {
    return mine().filter((a) => a.state === "waiting" || a.state === "sending");
  }

  // ------------------------------------------------------------------ queueing a form

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function enqueue(form, submitter) {
    const data = new FormData(form, submitter || undefined);
    const body = [];
    for (const [name, value] of data.entries()) {
      if (name === "csrfmiddlewaretoken") continue; // sent as a header: the body stays the same on every replay
      if (value instanceof File) {
        if (!value.size && !value.name) continue;
        body.push([name, { file: value, name: value.name, type: value.type }]);
      } else {
        body.push([name, value]);
      }
    }
    const head = document.querySelector("[data-wo], [data-round]");
    const last = actions.length ? actions[actions.length - 1].seq : 0;
    const action = {
      id: crypto.randomUUID(), // the Idempotency-Key
      user: USER,
      kind: form.dataset.queue,
      label: form.dataset.queueLabel || form.dataset.queue,
      wo: head ? head.dataset.wo || head.dataset.round : "",
      page: location.pathname,
      method: "POST",
      // getAttribute: a field named "action" (the Start button) shadows form.action.
      url: new URL(form.getAttribute("action") || location.href, location.href).pathname,
      body,
      created_at: new Date().toISOString(),
      seq: Math.max(Date.now(), last + 1),
      state: "waiting",
      reason: "",
    };
    actions.push(action);
    await save(action);
    return action;
  }

  function showQueued(form, action) {
    const note = document.createElement("p");
    note.className = "queued";
    note.setAttribute("role", "status");
    note.dataset.queuedId = action.id;
    note.textContent = "Waiting to sync: " + action.label;
    if (action.kind === "start" || action.kind === "resume") {
      document.querySelectorAll("[data-after-start]").forEach((el) => { el.hidden = false; });
      form.hidden = true;
      form.after(note);
    } else if (action.kind === "step") {
      const step = form.closest(".step");
      if (step) step.classList.add("done");
      form.hidden = true;
      form.after(note);
    } else if (action.kind === "safety") {
      const step = form.closest(".step");
      if (step) step.classList.add("done");
      form.hidden = true;
      form.after(note);
      // Every safety step confirmed (here or queued): the start they held back is offered; the
      // server checks the confirmations again when the queue sends the start after them.
      if (!document.querySelector("form[data-queue=safety]:not([hidden])")) {
        document.querySelectorAll("[data-before-safety]").forEach((el) => { el.hidden = true; });
        document.querySelectorAll("[data-after-safety]").forEach((el) => { el.hidden = false; });
      }
    } else if (action.kind === "complete" || action.kind === "pause") {
      const section = form.closest("section") || form;
      section.querySelectorAll("form, details").forEach((el) => { el.hidden = true; });
      section.append(note);
    } else if (action.kind === "round-result") {
      const check = form.closest(".check");
      if (check && !check.hasAttribute("data-recorded")) {
        check.setAttribute("data-recorded", "queued"); // counted once, if corrected again
        const bar = document.getElementById("round-progress");
        const count = document.getElementById("round-recorded");
        if (bar) bar.value = Number(bar.value) + 1;
        if (count) count.textContent = String(Number(count.textContent) + 1);
      }
      if (check) check.classList.add("done");
      form.hidden = true;
      form.after(note);
    } else if (action.kind === "round-complete") {
      form.hidden = true;
      form.after(note);
    } else {
      form.reset();
      form.after(note);
    }
  }

  function onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.hasAttribute("data-logout")) return onLogout(event, form);
    if (form.dataset.onlineOnly !== undefined) return onlineOnly(event, form);
    if (!form.dataset.queue) return;
    // Online with nothing waiting: the form posts as it always did (errors shown in place).
    if (navigator.onLine && !pending().length) return;
    event.preventDefault();
    enqueue(form, event.submitter).then((action) => {
      showQueued(form, action);
      render();
      sync();
    });
  }

  /* A form that is not queued (undoing a safety confirmation: the steps after it would be
     sent on a premise it withdraws) posts only online with nothing waiting; else it says so. */
  function onlineOnly(event, form) {
    if (navigator.onLine && !pending().length) return;
    event.preventDefault();
    if (form.nextElementSibling && form.nextElementSibling.dataset.onlineOnlyNote) return;
    const note = document.createElement("p");
    note.className = "queued";
    note.setAttribute("role", "status");
    note.dataset.onlineOnlyNote = "1";
    note.textContent = form.dataset.onlineOnly || "This needs the network.";
    form.after(note);
  }

  /* The page opened again (from the cache, say) shows what it still has waiting, as when the
     actions were taken: a queued safety confirmation, Start, step, note... */
  function showPending() {
    const forms = [...document.querySelectorAll("form[data-queue]")];
    for (const action of pending()) {
      if (action.page !== location.pathname) continue;
      if (document.querySelector(`[data-queued-id="${action.id}"]`)) continue;
      const form = forms.find((f) => f.dataset.queue === action.kind && !f.hidden &&
        new URL(f.getAttribute("action") || location.href, location.href).pathname === action.url &&
        sameChoice(f, action)) ||
        forms.find((f) => f.dataset.queue === action.kind &&
          new URL(f.getAttribute("action") || location.href, location.href).pathname === action.url);
      if (form) showQueued(form, action);
    }
  }

  /* Whether the form's hidden fields (which stock a part form issues) match the action's. */
  function sameChoice(form, action) {
    return [...form.querySelectorAll("input[type=hidden]")].every((input) => {
      const sent = action.body.find(([name]) => name === input.name);
      return !sent || typeof sent[1] !== "string" || sent[1] === input.value;
    });
  }

  // ------------------------------------------------------------------ sending

  function requestBody(action) {
    const hasFile = action.body.some(([, value]) => value && typeof value === "object");
    if (!hasFile) return new URLSearchParams(action.body.map(([n, v]) => [n, v]));
    const form = new FormData();
    for (const [name, value] of action.body) {
      if (value && typeof value === "object") form.append(name, value.file, value.name);
      else form.append(name, value);
    }
    return form;
  }

  /* Send one action: "done", "refused" (with the reason), or "waiting" (try again later). */
  async function send(action) {
    let response;
    try {
      response = await fetch(action.url, {
        method: action.method,
        body: requestBody(action),
        credentials: "same-origin",
        redirect: "follow",
        // The user who queued it: the server refuses to record it as anyone else (a tab left
        // from an earlier session, after another user logged in on the same phone).
        headers: { "Idempotency-Key": action.id, "X-CSRFToken": csrfToken(), "X-Cmms-Queued-For": action.user },
      });
    } catch (error) {
      return { state: "waiting", reason: "" }; // no network: the next try sends it again
    }
    const landed = new URL(response.url || action.url, location.href).pathname;
    if (landed.startsWith(SCOPE + "login/")) {
      return { state: "waiting", reason: "Log in again to send this." };
    }
    if (response.ok) return { state: "done", reason: "" };
    if (response.status >= 500 || response.status === 429) {
      return { state: "waiting", reason: "The server could not take it now; it will be sent again." };
    }
    const text = await response.text();
    if (response.status === 403 && /CSRF/i.test(text)) {
      return { state: "waiting", reason: "Reload the page to send this." };
    }
    if (response.status === 409 && text.includes('"queued_for_another_user"')) {
      return { state: "waiting", reason: "Another user is logged in: log in again to send this." };
    }
    return { state: "refused", reason: reasonOf(response, text) };
  }

  function reasonOf(response, text) {
    const type = response.headers.get("Content-Type") || "";
    if (response.status === 404) return "Not found: this work order is no longer at your sites.";
    if (type.includes("json")) {
      try {
        const data = JSON.parse(text);
        if (data.detail) return String(data.detail);
        return Object.entries(data).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join(" ");
      } catch (error) { /* fall through */ }
    }
    if (type.includes("html")) {
      const page = new DOMParser().parseFromString(text, "text/html");
      const items = [...page.querySelectorAll("[data-error-summary] li")].map((li) => li.textContent.trim());
      const unique = [...new Set(items.filter(Boolean))];
      if (unique.length) return unique.join(" ");
      const title = page.querySelector("h1, title");
      if (title) return title.textContent.trim();
    }
    return text.trim().slice(0, 300) || "Refused (" + response.status + ").";
  }

  /* Send the waiting actions in order, one at a time, until one must wait for the network. */
  async function sync() {
    if (syncing || !navigator.onLine || !USER) return;
    syncing = true;
    let changed = false;
    try {
      for (const action of mine()) {
        if (action.state !== "waiting" && action.state !== "sending") continue;
        action.state = "sending";
        await save(action);
        render();
        const outcome = await send(action);
        Object.assign(action, outcome, { sent_at: new Date().toISOString() });
        await save(action);
        render();
        if (outcome.state === "waiting") break;
        changed = true;
      }
      if (!pending().length) localStorage.setItem(LAST_SYNC, new Date().toISOString());
    } finally {
      syncing = false;
      render();
    }
    // The page shows the server's state again once everything it queued has been sent.
    if (changed && !pending().length && document.querySelector("[data-queued-id]")) {
      location.reload();
    }
  }

  /* Send every stored action again, whatever its state, without changing it: the server
     answers each key as the first time. Used by the exactly-once test and for support. */
  async function replayAll() {
    const outcomes = [];
    for (const action of mine()) outcomes.push(await send(action));
    return outcomes;
  }

  // ------------------------------------------------------------------ what the user sees

  function when(iso) {
    if (!iso) return "never";
    const date = new Date(iso);
    return date.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  const STATE_TEXT = { waiting: "Waiting to sync", sending: "Sending", done: "Synced", refused: "Refused" };

  function render() {
    const bar = document.getElementById("netbar");
    if (bar && USER) {
      const online = navigator.onLine;
      bar.hidden = false;
      bar.classList.toggle("offline", !online);
      bar.textContent = (online ? "Online" : "Offline: your work is saved on this device") +
        " · last sync " + when(localStorage.getItem(LAST_SYNC));
    }
    const waiting = pending().length;
    const refused = mine().filter((a) => a.state === "refused").length;
    const badge = document.getElementById("sync-badge");
    if (badge) {
      badge.hidden = !waiting && !refused;
      badge.classList.toggle("refused", refused > 0);
      badge.textContent = [waiting ? waiting + " waiting to sync" : "", refused ? refused + " refused" : ""]
        .filter(Boolean).join(", ");
    }
    const section = document.getElementById("sync-queue");
    const list = document.getElementById("sync-list");
    if (!section || !list) return;
    const shown = mine().slice().reverse();
    section.hidden = !shown.length;
    list.replaceChildren(...shown.map((action) => {
      const item = document.createElement("li");
      item.dataset.state = action.state;
      item.dataset.kind = action.kind;
      const state = document.createElement("span");
      state.className = "sync-state " + action.state;
      state.textContent = STATE_TEXT[action.state] || action.state;
      const what = document.createElement("span");
      what.textContent = `${action.wo} · ${action.label}`;
      const at = document.createElement("small");
      at.textContent = when(action.created_at);
      item.append(state, what, at);
      if (action.reason) {
        const reason = document.createElement("span");
        reason.className = "sync-reason";
        reason.textContent = action.reason;
        item.append(reason);
      }
      if (action.state === "refused") {
        const dismiss = document.createElement("button");
        dismiss.type = "button";
        dismiss.className = "link";
        dismiss.textContent = "Dismiss";
        dismiss.addEventListener("click", () => {
          action.state = "done";
          save(action).then(render);
        });
        item.append(dismiss);
      }
      return item;
    }));
  }

  // ------------------------------------------------------------------ logout

  async function forgetEverything() {
    if (db) { db.close(); db = null; }
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
    if (window.caches) {
      const names = await caches.keys();
      // The static assets are no one's data; pages and the worker's notes go.
      await Promise.all(names.filter((n) => !n.startsWith("tech-static-")).map((n) => caches.delete(n)));
    }
    localStorage.removeItem(LAST_SYNC);
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget" });
    }
  }

  function onLogout(event, form) {
    if (form.dataset.cleared) return; // the second submit: post the logout
    event.preventDefault();
    const waiting = pending().length;
    if (waiting && !window.confirm(`${waiting} action(s) are not synced yet and will be lost. Log out anyway?`)) return;
    forgetEverything().finally(() => {
      form.dataset.cleared = "1";
      form.requestSubmit();
    });
  }

  // ------------------------------------------------------------------ start

  async function precache() {
    if (!("serviceWorker" in navigator) || !USER || !navigator.onLine) return;
    const registration = await navigator.serviceWorker.ready;
    if (!registration.active) return;
    const channel = new MessageChannel();
    const answer = new Promise((resolve) => { channel.port1.onmessage = (e) => resolve(e.data); });
    registration.active.postMessage({ type: "precache" }, [channel.port2]);
    const result = await answer;
    if (result && result.ok) {
      if (!pending().length) localStorage.setItem(LAST_SYNC, new Date().toISOString());
      document.documentElement.dataset.precached = String(result.count);
      render();
    }
  }

  document.addEventListener("submit", onSubmit);
  window.addEventListener("online", () => { render(); sync(); });
  window.addEventListener("offline", render);
  window.cmmsOffline = {
    actions: () => load().then(() => mine()),
    sync,
    replayAll,
    precache,
  };

  if ("serviceWorker" in navigator && SW_URL) {
    navigator.serviceWorker.register(SW_URL, { scope: SCOPE }).catch(() => {});
  }
  // Logged out: the worker drops the pages it kept (the answer names no user). A queue left by
  // an expired session stays for its user's next login; logging out clears it (onLogout).
  if (!USER) return;
  load().then(() => {
    showPending();
    render();
    return sync();
  }).then(() => {
    if (location.pathname === SCOPE) return precache();
  }).catch(() => render());
  setInterval(() => { if (pending().length) sync(); }, 30000);
})();
