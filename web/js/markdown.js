// A small Markdown renderer for Jarvis's answers. Model output is untrusted
// text: everything here builds DOM nodes with createElement and textContent,
// never innerHTML, so `<img onerror=…>` or `<script>` in an answer shows up as
// the literal characters. Links are made only for absolute http(s) URLs.
//
// Supported: paragraphs (a single newline is a line break), headings # to ###
// (rendered one level below the page's own h2, as h3–h5), fenced code blocks
// (``` or ~~~, with a language label; an unclosed fence — an answer still
// streaming — runs to the end), unordered (- * +) and ordered (1. or 1)) lists,
// `inline code`, **bold** / __bold__, *italic* / _italic_, [text](url) links and
// bare http(s) URLs, and backslash escapes. Anything else stays plain text.

import { copyButton } from "./copy.js";
import { h } from "./dom.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,3})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const BULLET = /^ {0,3}[-*+][ \t]+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)][ \t]+(.*)$/;
const ESCAPABLE = /[\\`*_{}[\]()#+\-.!~>|<]/;

/** An absolute http(s) URL, normalised; null for anything else (javascript:, data:, relative …). */
export function safeUrl(raw) {
  let url;
  try {
    url = new URL(String(raw).trim());
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

function link(href, parent, label) {
  const a = h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "md-link" });
  if (label === undefined) a.textContent = href;
  else inline(a, label);
  parent.append(a);
}

/** The end of a single-character emphasis run opened at `from - 1`, or -1. */
function emphasisEnd(text, mark, from) {
  for (let j = from + 1; j < text.length; j += 1) {
    if (text[j] === "`") {
      const close = text.indexOf("`", j + 1);
      if (close !== -1) j = close;
      continue;
    }
    if (text[j] !== mark || /\s/.test(text[j - 1])) continue;
    if (text[j + 1] === mark) {
      j += 1; // part of a ** pair inside: skip both
      continue;
    }
    if (mark === "_" && /\w/.test(text[j + 1] || "")) continue; // snake_case_words stay words
    return j;
  }
  return -1;
}

/** Append the inline content of `text` to `parent`. */
export function inline(parent, text) {
  let buf = "";
  const flush = () => {
    if (buf) parent.append(document.createTextNode(buf));
    buf = "";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];

    if (c === "\\" && next !== undefined && ESCAPABLE.test(next)) {
      buf += next;
      i += 2;
      continue;
    }

    if (c === "`") {
      let n = 1;
      while (text[i + n] === "`") n += 1;
      const ticks = "`".repeat(n);
      const end = text.indexOf(ticks, i + n);
      if (end !== -1) {
        flush();
        let body = text.slice(i + n, end);
        if (body.length > 2 && body.startsWith(" ") && body.endsWith(" ")) body = body.slice(1, -1);
        parent.append(h("code", { class: "md-code-inline", text: body }));
        i = end + n;
        continue;
      }
      buf += ticks;
      i += n;
      continue;
    }

    if ((c === "*" || c === "_") && next === c) {
      const opensWord = text[i + 2] !== undefined && !/\s/.test(text[i + 2]);
      const opens = opensWord && (c === "*" || !/\w/.test(text[i - 1] || ""));
      let end = opens ? text.indexOf(c + c, i + 2) : -1;
      // A closing pair follows a non-space; `__` also must not run into a word (dunder_names stay text).
      while (end !== -1 && (/\s/.test(text[end - 1]) || (c === "_" && /\w/.test(text[end + 2] || "")))) {
        end = text.indexOf(c + c, end + 1);
      }
      if (end > i + 2) {
        flush();
        const strong = h("strong");
        inline(strong, text.slice(i + 2, end));
        parent.append(strong);
        i = end + 2;
        continue;
      }
      buf += c + c;
      i += 2;
      continue;
    }

    if (c === "*" || c === "_") {
      const opens = next !== undefined && !/\s/.test(next) && (c === "*" || !/\w/.test(text[i - 1] || ""));
      const end = opens ? emphasisEnd(text, c, i + 1) : -1;
      if (end !== -1) {
        flush();
        const em = h("em");
        inline(em, text.slice(i + 1, end));
        parent.append(em);
        i = end + 1;
        continue;
      }
      buf += c;
      i += 1;
      continue;
    }

    if (c === "[") {
      const m = /^\[([^\]\n]+)\]\(\s*<?([^\s<>()]+)>?(?:\s+"[^"\n]*")?\s*\)/.exec(text.slice(i));
      if (m) {
        const href = safeUrl(m[2]);
        if (href) {
          flush();
          link(href, parent, m[1]);
        } else {
          buf += m[0]; // not a web link: shown as written
        }
        i += m[0].length;
        continue;
      }
    }

    if ((c === "h" || c === "H") && (i === 0 || /[\s(["'>]/.test(text[i - 1]))) {
      const m = /^https?:\/\/[^\s<>"'`]+/i.exec(text.slice(i));
      if (m) {
        const raw = m[0].replace(/[.,;:!?)\]}'"]+$/, "");
        const href = raw.length > 8 ? safeUrl(raw) : null;
        if (href) {
          flush();
          const a = h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "md-link", text: raw });
          parent.append(a);
          i += raw.length;
          continue;
        }
      }
    }

    buf += c;
    i += 1;
  }
  flush();
}

/** Lines of a paragraph, joined by <br>. */
function paragraph(lines) {
  const p = h("p");
  lines.forEach((line, n) => {
    if (n > 0) p.append(h("br"));
    inline(p, line.trim());
  });
  return p;
}

function codeBlock(body, lang) {
  const code = h("code", { text: body });
  if (/^[\w+#.-]{1,32}$/.test(lang)) code.className = `language-${lang}`;
  const head = h(
    "div",
    { class: "md-code-head" },
    h("span", { class: "md-lang", text: lang || "code" }),
    copyButton(() => body, "Copy"),
  );
  return h("div", { class: "md-code", dataset: { lang: lang || "" } }, head, h("pre", { tabIndex: 0 }, code));
}

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || BULLET.test(line) || NUMBERED.test(line);
}

/**
 * Render `text` as Markdown.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text) {
  const frag = document.createDocumentFragment();
  const lines = String(text ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    let m = FENCE.exec(line);
    if (m) {
      const mark = m[1];
      const closing = new RegExp(`^ {0,3}${mark[0] === "`" ? "`" : "~"}{${mark.length},}\\s*$`);
      const body = [];
      i += 1;
      while (i < lines.length && !closing.test(lines[i])) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1; // the closing fence (or past the end)
      frag.append(codeBlock(body.join("\n"), m[2]));
      continue;
    }
    m = HEADING.exec(line);
    if (m) {
      const el = h(`h${m[1].length + 2}`, { class: "md-heading" });
      inline(el, m[2]);
      frag.append(el);
      i += 1;
      continue;
    }
    const bullet = BULLET.test(line);
    if (bullet || NUMBERED.test(line)) {
      const pattern = bullet ? BULLET : NUMBERED;
      const list = h(bullet ? "ul" : "ol");
      if (!bullet) {
        const start = Number(NUMBERED.exec(line)[1]);
        if (start !== 1) list.start = start;
      }
      let item = null;
      let itemLines = [];
      const finish = () => {
        if (!item) return;
        itemLines.forEach((l, n) => {
          if (n > 0) item.append(h("br"));
          inline(item, l.trim());
        });
        list.append(item);
      };
      while (i < lines.length) {
        const l = lines[i];
        const im = pattern.exec(l);
        if (im) {
          finish();
          item = h("li");
          itemLines = [bullet ? im[1] : im[2]];
          i += 1;
          continue;
        }
        if (!l.trim()) {
          // A blank line ends the list unless the next line is another item of it.
          if (i + 1 < lines.length && pattern.test(lines[i + 1])) {
            i += 1;
            continue;
          }
          break;
        }
        if (/^\s{2,}\S/.test(l) && !FENCE.test(l)) {
          // Indented: more of the current item (a nested item is shown as a line of it).
          itemLines.push(l.replace(/^\s+(?:[-*+]|\d{1,9}[.)])?\s*/, (s) => (/[-*+\d]/.test(s) ? "• " : "")));
          i += 1;
          continue;
        }
        break;
      }
      finish();
      frag.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && (para.length === 0 || !startsBlock(lines[i]))) {
      para.push(lines[i]);
      i += 1;
    }
    frag.append(paragraph(para));
  }
  return frag;
}
