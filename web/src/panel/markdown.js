// Markdown of the models' replies, made safe for the DOM. A reply is text
// written by a model that may have been steered by anything it read, so it
// is treated as hostile:
//
// - markdown-it with html:false: raw HTML in a reply stays text (escaped),
//   it never becomes elements;
// - links only to http(s) and mailto (anything else stays text), opened in
//   a new tab with rel="noopener noreferrer nofollow"; no images (a picture
//   from a URL the model chose would be a request to any host);
// - the HTML markdown-it wrote is then passed through DOMPurify with an
//   allowlist of the elements and attributes Markdown produces, as a second
//   line: should the parser ever let something through, no script, event
//   handler, style or foreign URL reaches the DOM.
//
// Where no DOM exists (DOMPurify unsupported) the text is escaped whole.

import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

/** Longest reply rendered as Markdown; a longer one is cut (the core keeps
 * the whole text). Rendering runs on every streamed delta. */
export const MAX_MARKDOWN_CHARS = 200 * 1024;

const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;

const ALLOWED_TAGS = [
  "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "s",
  "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
];
const ALLOWED_ATTR = ["href", "title", "target", "rel", "start", "class"];

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(["image"]);
md.validateLink = (url) => SAFE_URL.test(String(url).trim());

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet("target", "_blank");
  tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
  return defaultLinkOpen(tokens, idx, options, env, self);
};

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

let hooked = null;
function purifier(purify) {
  if (!purify?.isSupported || typeof purify.sanitize !== "function") return null;
  if (hooked !== purify) {
    // After DOMPurify's own checks: every link that is left gets the safe
    // target and rel, and one whose URL is not http(s)/mailto loses it.
    purify.addHook("afterSanitizeAttributes", (node) => {
      if (node.nodeName !== "A") return;
      const href = node.getAttribute("href");
      if (href !== null && !SAFE_URL.test(href.trim())) node.removeAttribute("href");
      if (node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer nofollow");
      } else {
        node.removeAttribute("target");
        node.removeAttribute("rel");
      }
    });
    hooked = purify;
  }
  return purify;
}

/** Markdown text -> sanitized HTML for v-html. purify: a DOMPurify
 * instance (the page's by default). */
export function renderMarkdown(text, purify = DOMPurify) {
  const src = String(text ?? "").slice(0, MAX_MARKDOWN_CHARS);
  const p = purifier(purify);
  if (!p) return `<p>${escapeHtml(src)}</p>`;
  const html = md.render(src);
  return p.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_URL,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  });
}

/** Rendered replies kept, by text: the panel renders again on every
 * streamed delta, and only the reply that grew needs parsing. */
export const MARKDOWN_CACHE_ENTRIES = 300;
const cache = new Map();

/** renderMarkdown with the page's DOMPurify, remembering recent results
 * (least recently used dropped first). */
export function markdownHtml(text) {
  const key = String(text ?? "");
  let html = cache.get(key);
  if (html !== undefined) {
    cache.delete(key);
  } else {
    html = renderMarkdown(key);
    if (cache.size >= MARKDOWN_CACHE_ENTRIES) cache.delete(cache.keys().next().value);
  }
  cache.set(key, html);
  return html;
}
