// Getting secrets out of the page once: copy to the clipboard, or save as a
// text file. Both work without a server round trip, so a key or a set of
// recovery codes is never requested twice.

import { h } from "./dom.js";

/**
 * Copy text. The async clipboard needs a secure context (https or
 * localhost); a homelab reached as http://192.168.x.y falls back to the old
 * selection-based copy.
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      /* permission refused: try the fallback */
    }
  }
  const area = h("textarea", { class: "offscreen", value: text, readOnly: true });
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Offer `text` as a download named `filename` (a Blob URL, revoked afterwards). */
export function downloadText(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const a = h("a", { href: url, download: filename, class: "offscreen" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * A "Copy" button that says "Copied" for a moment (and announces it).
 * @param {() => string} getText
 */
export function copyButton(getText, label = "Copy") {
  const btn = h("button", { type: "button", class: "btn btn-small", text: label });
  const live = h("span", { class: "sr-only", attrs: { role: "status" } });
  let timer = null;
  btn.addEventListener("click", async () => {
    const ok = await copyText(getText());
    btn.textContent = ok ? "Copied" : "Copy failed: select and copy by hand";
    live.textContent = ok ? "Copied to the clipboard" : "Copying failed";
    clearTimeout(timer);
    timer = setTimeout(() => {
      btn.textContent = label;
      live.textContent = "";
    }, 2000);
  });
  return h("span", { class: "copy-wrap" }, btn, live);
}
