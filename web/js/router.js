// The URL fragment: hash routes for the pages (`#/`, `#/account`, `#/users`,
// `#/keys`, `#/audit`, `#/containers`, `#/containers/<name>`, `#/storage`,
// `#/alerts`, `#/jarvis`, `#/jarvis/<conversation-id>`) and one-time secrets handed over in links (`#token=`,
// `#setup=`), which are scrubbed from the address bar as soon as they are read
// so they do not stay in the history or get shared by accident.

export const PAGES = ["overview", "account", "users", "keys", "audit", "containers", "container", "storage", "alerts", "jarvis"];

/** Pages addressed as `#/<section>/<param>`: the section's detail page (Jarvis is its own). */
const DETAIL = { containers: "container", jarvis: "jarvis" };

/** The nav item that stands for a page (a detail page lights up its list). */
export function navFor(page) {
  const entry = Object.entries(DETAIL).find(([, detail]) => detail === page);
  return entry ? entry[0] : page;
}

/** Whether the fragment carries `#<name>=…`. */
export function hasSecret(name) {
  const hash = window.location.hash;
  return hash.length > 1 && !hash.startsWith("#/") && new URLSearchParams(hash.slice(1)).has(name);
}

/** Read and remove `#<name>=<value>`; null when absent or empty. */
export function takeSecret(name) {
  const hash = window.location.hash;
  if (!hash || hash.length < 2 || hash.startsWith("#/")) return null;
  const params = new URLSearchParams(hash.slice(1));
  if (!params.has(name)) return null;
  const value = (params.get(name) || "").trim();
  params.delete(name);
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  window.history.replaceState(window.history.state, "", url);
  return value || null;
}

/** The page the fragment names: "overview" for `#/` or no route, null for an unknown one. */
export function currentPage() {
  const hash = window.location.hash;
  if (!hash.startsWith("#/")) return "overview";
  const [first, second] = hash.slice(2).split(/[?]/)[0].split("/");
  const name = first || "overview";
  if (second && DETAIL[name]) return DETAIL[name];
  if (second || name === "container") return null;
  return PAGES.includes(name) ? name : null;
}

/** The decoded `<param>` of `#/<section>/<param>`, or "". */
export function currentParam() {
  const hash = window.location.hash;
  if (!hash.startsWith("#/")) return "";
  const parts = hash.slice(2).split(/[?]/)[0].split("/");
  try {
    return decodeURIComponent(parts.slice(1).join("/"));
  } catch {
    return "";
  }
}

export function detailHref(section, param) {
  return `#/${section}/${encodeURIComponent(param)}`;
}

export function hrefFor(page) {
  return page === "overview" ? "#/" : `#/${page}`;
}

/** Go to a page; `replace` keeps a redirect out of the history. */
export function go(page, { replace = false } = {}) {
  const href = hrefFor(page);
  if (window.location.hash === href) return;
  if (replace) {
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search + href);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = href;
  }
}

export function onNavigate(fn) {
  window.addEventListener("hashchange", () => fn(currentPage()));
}
