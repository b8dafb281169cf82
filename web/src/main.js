// comfyd's ComfyUI extension: the canvas executor (every tab) and the
// agent panel node. ComfyUI loads this file from WEB_DIRECTORY
// (/extensions/<package>/main.js).
//
// app and api are taken from window.comfyAPI, which the frontend's shims
// (scripts/app.js, scripts/api.js) read too; a module that imported the
// shims statically would fail on frontends that evaluate extensions before
// filling window.comfyAPI, so this one waits for it instead.

import { createApp, reactive } from "vue";
import { ConnectionProvider } from "./connection.js";
import { EditorClient, tabId } from "./executor/editor.js";
import { PreviewOverlay } from "./executor/preview.js";
import { installLeaseOutline } from "./executor/leaseoutline.js";
import { installProvenanceHover } from "./executor/provhover.js";
import { isPanelNode, mountPanel, PANEL_TYPE } from "./panel/mount.js";
import Panel from "./panel/Panel.vue";
import panelCss from "./panel/panel.css?inline";

const EXTENSION = "comfyd.canvas";
/** How long to wait for the frontend's globals (20 ms steps). */
const WAIT_STEPS = 1500;

function comfy() {
  const c = window.comfyAPI;
  const app = c?.app?.app;
  const api = c?.api?.api;
  return app && api ? { app, api } : null;
}

function log(level, text) {
  (console[level] ?? console.log)(text);
}

function whenReady(cb) {
  const now = comfy();
  if (now) return cb(now, false);
  let n = 0;
  const t = setInterval(() => {
    const got = comfy();
    if (got || ++n > WAIT_STEPS) {
      clearInterval(t);
      if (got) cb(got, true);
      else log("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active");
    }
  }, 20);
}

function register({ app, api }, late) {
  const connection = new ConnectionProvider({
    fetchJson: async (route) => {
      const r = await api.fetchApi(route);
      let body = null;
      try {
        body = await r.json();
      } catch {
        body = null;
      }
      // The supervisor's reason (not built, building, a port taken, ...)
      // is what the panel shows while it cannot connect.
      if (!r.ok) throw new Error(body?.error || body?.detail || `${route}: HTTP ${r.status}`);
      return body;
    },
    location: window.location,
  });

  // Outlines of leased nodes with their holders (docs/concurrent-editing.md).
  const leases = installLeaseOutline({ app, LiteGraph: window.LiteGraph });
  const editor = new EditorClient({
    app,
    onLeases: (m) => leases.update(m),
    api,
    LiteGraph: window.LiteGraph,
    connection,
    WebSocket: window.WebSocket,
    tabId: tabId(window.sessionStorage),
    objectInfo: async () => {
      const r = await api.fetchApi("/object_info");
      return r.ok ? r.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log,
    isPanelNode,
    // Previews of agents' patches with Accept / Reject (preview.js).
    preview: new PreviewOverlay({ app, document, isPanelNode }),
  });

  const panelDeps = {
    app,
    connection,
    WebSocket: window.WebSocket,
    createApp,
    reactive,
    component: Panel,
    css: panelCss,
    document,
    log,
    // Runs and their outputs come through the package's routes on
    // ComfyUI's own server (same origin; it adds the bridge's token).
    getJson: async (route) => {
      const r = await api.fetchApi(route, { cache: "no-store" });
      if (!r.ok) throw new Error(`${route}: HTTP ${r.status}`);
      return r.json();
    },
    apiUrl: (route) => (typeof api.apiURL === "function" ? api.apiURL(route) : `/api${route}`),
    // Attachments are uploaded the same way (the package's POST route).
    postBytes: async (route, body, type) => {
      const r = await api.fetchApi(route, { method: "POST", body, headers: { "Content-Type": type || "application/octet-stream" }, cache: "no-store" });
      const j = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(j?.error || `HTTP ${r.status}`);
      return j;
    },
  };

  let started = false;
  const setup = () => {
    if (started) return;
    started = true;
    api.addEventListener("graphChanged", () => editor.graphChanged());
    window.addEventListener("focus", () => editor.setFocus(true));
    window.addEventListener("blur", () => editor.setFocus(false));
    document.addEventListener("visibilitychange", () => editor.setFocus(document.visibilityState === "visible" && document.hasFocus()));
    // Interacting with a page means it is the one the user works in.
    window.addEventListener("pointerdown", () => {
      editor.touched();
      editor.setPointerDown(true);
    }, true);
    window.addEventListener("pointerup", () => editor.setPointerDown(false), true);
    window.addEventListener("pointercancel", () => editor.setPointerDown(false), true);
    window.addEventListener("keydown", () => editor.touched(), true);
    // Who last changed the node under the pointer (docs/provenance.md).
    installProvenanceHover({ app, document });
    editor.start();
  };

  app.registerExtension({
    name: EXTENSION,
    setup,
    afterConfigureGraph() {
      editor.graphChanged();
    },
    beforeRegisterNodeDef(nodeType, nodeData) {
      if (nodeData?.name !== PANEL_TYPE) return;
      // The panel is not part of the generation: never in the API prompt.
      nodeType.prototype.isVirtualNode = true;
    },
    nodeCreated(node) {
      if (isPanelNode(node)) mountPanel(node, panelDeps);
    },
  });

  // Registered after the frontend's own setup (a slow start): run ours now.
  if (late && (app.rootGraph ?? app.graph)) setup();

  window.comfyd = Object.freeze({ editor, leases, version: "0.1.0" });
}

whenReady(register);
