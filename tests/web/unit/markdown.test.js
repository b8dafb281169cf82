// @vitest-environment jsdom
// The panel's Markdown rendering of model replies: the Markdown a model
// writes becomes elements, anything that could run code or reach another
// host does not. Rendered into a real DOM (jsdom) the way Vue's v-html
// does, then inspected as elements, not as strings.
import { describe, expect, it } from "vitest";
import { MARKDOWN_CACHE_ENTRIES, escapeHtml, markdownHtml, renderMarkdown } from "../../../web/src/panel/markdown.js";

function dom(markdown) {
  const el = document.createElement("div");
  el.innerHTML = renderMarkdown(markdown);
  return el;
}

/** Every attribute in the tree: [tag, name, value]. */
function attributes(el) {
  const out = [];
  for (const n of el.querySelectorAll("*")) for (const a of n.attributes) out.push([n.tagName.toLowerCase(), a.name, a.value]);
  return out;
}

describe("Markdown of replies", () => {
  it("renders code blocks, lists, links and emphasis", () => {
    const el = dom("Use **KSampler** with *euler*:\n\n1. load\n2. sample\n\n- a\n- b\n\n```json\n{\"steps\": 20}\n```\n\nSee [the docs](https://docs.comfy.org/x) and `seed`.");
    expect(el.querySelector("strong").textContent).toBe("KSampler");
    expect(el.querySelector("em").textContent).toBe("euler");
    expect([...el.querySelectorAll("ol > li")].map((l) => l.textContent)).toEqual(["load", "sample"]);
    expect([...el.querySelectorAll("ul > li")].map((l) => l.textContent)).toEqual(["a", "b"]);
    const pre = el.querySelector("pre > code");
    expect(pre.textContent).toBe('{"steps": 20}\n');
    expect(pre.className).toBe("language-json");
    const a = el.querySelector("a");
    expect(a.getAttribute("href")).toBe("https://docs.comfy.org/x");
    expect(a.getAttribute("target")).toBe("_blank");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
    expect([...el.querySelectorAll("code")].map((c) => c.textContent)).toContain("seed");
  });

  it("links bare URLs and mailto, with the safe rel", () => {
    const el = dom("go to https://example.org/a?b=1 or [mail](mailto:me@example.org)");
    const links = [...el.querySelectorAll("a")];
    expect(links.map((l) => l.getAttribute("href"))).toEqual(["https://example.org/a?b=1", "mailto:me@example.org"]);
    for (const l of links) expect(l.getAttribute("rel")).toBe("noopener noreferrer nofollow");
  });

  it("keeps script tags as text", () => {
    const el = dom("hello <script>window.__pwned = 1</script> world\n\n<script src=https://evil.example/x.js></script>");
    expect(el.querySelector("script")).toBeNull();
    expect(el.textContent).toContain("<script>window.__pwned = 1</script>");
    expect(window.__pwned).toBeUndefined();
  });

  it("drops event handler attributes and raw HTML elements", () => {
    const el = dom('<img src=x onerror="window.__pwned=1"> <a href="https://x.org" onclick="alert(1)">x</a> <iframe src="https://x.org"></iframe> <b style="color:red" onmouseover=alert(1)>b</b>');
    expect(el.querySelector("img, iframe, b")).toBeNull();
    for (const [, name] of attributes(el)) expect(name).not.toMatch(/^on/i);
    expect(el.textContent).toContain('onerror="window.__pwned=1"'); // shown as text
  });

  it("neutralizes javascript:, data: and other link schemes", () => {
    const md = [
      "[a](javascript:alert(1))",
      "[b](JaVaScRiPt:alert(1))",
      "[c](java\tscript:alert(1))",
      "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "[e](vbscript:msgbox)",
      "[f](file:///etc/passwd)",
      "[g](/api/comfyd/connection)",
      "<javascript:alert(1)>",
      "[h](&#106;avascript:alert(1))",
    ].join("\n\n");
    const el = dom(md);
    for (const a of el.querySelectorAll("a")) expect(a.getAttribute("href") ?? "").toMatch(/^(https?:|mailto:)/);
    for (const [, name, value] of attributes(el)) if (name === "href" || name === "src") expect(value).toMatch(/^(https?:|mailto:)/);
    expect(el.querySelectorAll("a[href]")).toHaveLength(0);
  });

  it("shows no images (no request to a host the model chose)", () => {
    const el = dom("![pixel](https://tracker.example/p.gif)");
    expect(el.querySelector("img")).toBeNull();
  });

  it("escapes everything when no DOM sanitizer is available", () => {
    const html = renderMarkdown("<script>x</script> **b**", { isSupported: false });
    expect(html).toBe(`<p>${escapeHtml("<script>x</script> **b**")}</p>`);
    expect(html).not.toContain("<script");
  });

  it("remembers recent renderings, bounded, with the same sanitized result", () => {
    const text = "**x** <script>y</script> [a](javascript:z)";
    expect(markdownHtml(text)).toBe(renderMarkdown(text));
    expect(markdownHtml(text)).toBe(renderMarkdown(text));
    for (let i = 0; i < MARKDOWN_CACHE_ENTRIES + 10; i++) markdownHtml(`line ${i}`);
    expect(markdownHtml(text)).toBe(renderMarkdown(text));
  });
});
