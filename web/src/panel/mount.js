// Puts the agent panel into a node: hidden config widgets (saved in the
// workflow, so reopening it reconnects to the same session) and a DOM
// widget whose body is the Vue app.

import { CONFIG_WIDGETS, PanelController } from "./controller.js";

export const PANEL_TYPE = "ComfydAgentPanel";
const STYLE_ID = "comfyd-panel-style";
/** Default size of a new panel node: replies of a sentence or two per line
 * and a few turns visible at 100 % zoom. */
export const DEFAULT_SIZE = Object.freeze([440, 560]);
/** The panel's smallest useful height inside the node. */
const MIN_BODY_HEIGHT = 320;

export const isPanelNode = (node) => node?.comfyClass === PANEL_TYPE || node?.type === PANEL_TYPE;

export function ensureStyle(doc, css) {
  if (doc.getElementById(STYLE_ID)) return;
  const el = doc.createElement("style");
  el.id = STYLE_ID;
  el.textContent = css;
  doc.head.appendChild(el);
}

/** Hides a widget in both renderers (legacy canvas and Vue nodes). */
export function hideWidget(w) {
  w.hidden = true;
  w.options = w.options ?? {};
  w.options.hidden = true;
  w.computeSize = () => [0, -4];
}

/** Adds the config widgets that are missing, hidden, in their fixed order. */
export function addConfigWidgets(node) {
  for (const [name, def] of CONFIG_WIDGETS) {
    let w = (node.widgets ?? []).find((x) => x.name === name);
    if (!w) w = node.addWidget("text", name, def, () => {}, {});
    hideWidget(w);
  }
}

export function readConfig(node) {
  const out = {};
  for (const [name, def] of CONFIG_WIDGETS) {
    const w = (node.widgets ?? []).find((x) => x.name === name);
    const v = w?.value;
    out[name] = typeof v === "string" ? v : def;
  }
  return out;
}

/**
 * Mounts the panel into node. deps: {app, connection, WebSocket, createApp,
 * reactive, component, css, document, log, getJson?, apiUrl?, postBytes?}.
 */
export function mountPanel(node, deps) {
  if (node.__comfydPanel) return node.__comfydPanel;
  const { app, document: doc } = deps;
  ensureStyle(doc, deps.css);
  addConfigWidgets(node);

  const writeConfig = (name, value) => {
    const w = (node.widgets ?? []).find((x) => x.name === name);
    if (!w || w.value === value) return;
    w.value = value;
    node.setDirtyCanvas?.(true, true);
    // A config change is an edit of the workflow: let the change tracker
    // see it (undo, "modified", and the executor reports it to the core).
    app?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.();
  };

  const ctl = new PanelController({
    connection: deps.connection,
    WebSocket: deps.WebSocket,
    reactive: deps.reactive,
    log: deps.log,
    readConfig: () => readConfig(node),
    writeConfig,
    app,
    getJson: deps.getJson,
    apiUrl: deps.apiUrl,
    postBytes: deps.postBytes,
  });

  const host = doc.createElement("div");
  host.className = "comfyd-panel-host";
  host.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const vueApp = deps.createApp(deps.component, { ctl });
  vueApp.mount(host);

  if (typeof node.addDOMWidget === "function") {
    const w = node.addDOMWidget("comfyd_panel", "comfyd_panel", host, {
      serialize: false,
      hideOnZoom: false,
      getMinHeight: () => MIN_BODY_HEIGHT,
      getValue: () => undefined,
      setValue: () => {},
    });
    // Neither in the prompt nor in widgets_values: the panel has no value.
    w.serialize = false;
  } else {
    deps.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  }
  // The frontend sizes a new node to its widgets after nodeCreated (a few
  // hidden text widgets: about 190x300), so the default size is applied
  // now and again once the node is in place, unless a workflow being
  // loaded gave the node a size of its own.
  const grow = () => {
    if (Array.isArray(node.size) || ArrayBuffer.isView(node.size))
      node.setSize?.([Math.max(node.size[0], DEFAULT_SIZE[0]), Math.max(node.size[1], DEFAULT_SIZE[1])]);
  };
  grow();

  let configured = false;
  const onConfigure = node.onConfigure;
  node.onConfigure = function (...args) {
    configured = true;
    const r = onConfigure?.apply(this, args);
    ctl.reloadConfig();
    return r;
  };
  const onRemoved = node.onRemoved;
  node.onRemoved = function (...args) {
    ctl.stop();
    try {
      vueApp.unmount();
    } catch {
      /* already gone */
    }
    node.__comfydPanel = null;
    return onRemoved?.apply(this, args);
  };

  // Widget values of a loaded workflow are set after the node is created:
  // start once they are in.
  setTimeout(() => {
    if (!node.__comfydPanel) return;
    if (!configured) {
      grow();
      node.setDirtyCanvas?.(true, true);
    }
    ctl.reloadConfig();
    ctl.start();
  }, 0);
  node.__comfydPanel = ctl;
  return ctl;
}
