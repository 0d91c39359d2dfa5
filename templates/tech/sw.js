/* The technician app's service worker (docs/offline.md). Served by tech.pwa.service_worker.

   Static assets: cache-first, in a cache named after a hash of the static files.
   Technician pages (GET below /tech/): network-first; a page is kept in the cache of the user
   it was made for (the X-Cmms-User answer header) and served offline only while that user is
   the last one the server named. An answer without the header (logged out) drops every
   user's pages. POSTs are never touched: the page's offline queue sends them. */
"use strict";

const VERSION = "{{ version }}";
const STATIC_CACHE = "tech-static-" + VERSION;
const PAGES_PREFIX = "tech-pages-u";
const META_CACHE = "tech-meta";
const USER_KEY = "/tech/__cmms_user__";
const PRECACHE = {{ precache|safe }};
const MANIFEST = {{ manifest|safe }};
const OFFLINE_PAGES = {{ offline_pages|safe }};
const SCOPE_PATH = new URL(self.registration.scope).pathname;
const WORKER_PATH = new URL(self.location.href).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("tech-static-") && n !== STATIC_CACHE).map((n) => caches.delete(n))
      ))
      .then(() => self.clients.claim())
  );
});

let currentUser; // undefined: not read yet; "": nobody

async function getUser() {
  if (currentUser === undefined) {
    const meta = await caches.open(META_CACHE);
    const stored = await meta.match(USER_KEY);
    currentUser = stored ? await stored.text() : "";
  }
  return currentUser;
}

async function setUser(user) {
  if (user === (await getUser())) return;
  currentUser = user;
  const meta = await caches.open(META_CACHE);
  await meta.put(USER_KEY, new Response(user));
  const names = await caches.keys();
  await Promise.all(
    names.filter((n) => n.startsWith(PAGES_PREFIX) && n !== PAGES_PREFIX + user).map((n) => caches.delete(n))
  );
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    return offlineAnswer(request, error);
  }
  // A redirect followed by the browser (opaque here) shows no headers: it names nobody.
  if (response.type !== "basic") return response;
  const user = response.headers.get("X-Cmms-User") || "";
  await setUser(user);
  if (user && response.status === 200 && !response.redirected) {
    const cache = await caches.open(PAGES_PREFIX + user);
    await cache.put(request, response.clone());
  }
  return response;
}

async function offlineAnswer(request, error) {
  const user = await getUser();
  if (user) {
    const cache = await caches.open(PAGES_PREFIX + user);
    const hit = await cache.match(request, { ignoreVary: true });
    if (hit) return hit;
  }
  if (request.mode !== "navigate") throw error;
  const css = PRECACHE.find((url) => url.endsWith(".css")) || "";
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Offline · CMMS</title><link rel="stylesheet" href="${css}"></head>
<body><p class="netbar offline" role="status">Offline</p><main>
<h1>Offline</h1><p>This page was not saved on this device. Pages of your work for the next days
are saved each time you open My work with a network.</p><p><a href="${SCOPE_PATH}">My work</a></p>
</main></body></html>`;
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === WORKER_PATH) return;
  if (PRECACHE.includes(url.pathname) || url.pathname === MANIFEST) {
    event.respondWith(url.pathname === MANIFEST ? networkFirstStatic(request) : cacheFirst(request));
  } else if (url.pathname.startsWith(SCOPE_PATH)) {
    event.respondWith(networkFirst(request));
  }
});

async function networkFirstStatic(request) {
  const cache = await caches.open(STATIC_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const hit = await cache.match(request);
    if (hit) return hit;
    throw error;
  }
}

/* {type: "precache"} from a page: fetch the user's pages for the next days into the cache,
   then answer {type: "precached", ok, count} on the message's port. */
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "precache") {
    // Claim the asking page first: a page whose navigation began while this worker was still
    // installing (the login page registers it; the login's redirect lands before it activates)
    // is missed by the activate event's claim and would stay uncontrolled, so not offline-ready,
    // until its next navigation.
    event.waitUntil(self.clients.claim().catch(() => {}).then(precache).then(
      (count) => event.ports[0] && event.ports[0].postMessage({ ok: true, count }),
      (error) => event.ports[0] && event.ports[0].postMessage({ ok: false, error: String(error) })
    ));
  } else if (data.type === "forget") {
    currentUser = "";
    event.waitUntil(caches.keys().then((names) => Promise.all(names.map((n) => caches.delete(n)))));
  }
});

async function precache() {
  const listing = await fetch(OFFLINE_PAGES, { credentials: "same-origin", cache: "no-store" });
  if (!listing.ok) throw new Error("pages list: " + listing.status);
  const { user, urls } = await listing.json();
  await setUser(String(user));
  let count = 0;
  for (const url of urls) {
    const response = await networkFirst(new Request(url, { credentials: "same-origin" }));
    if (response.ok) count += 1;
  }
  return count;
}
