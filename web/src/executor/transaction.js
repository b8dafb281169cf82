// One undo step per patch. ComfyUI's change tracker listens for the
// canvas's "litegraph:canvas" before-change/after-change events: it counts
// them and, when the count returns to zero, captures the graph as one undo
// state. Programmatic edits trigger none of its user-input capture points,
// so without a bracket a patch would merge into the user's next step.
//
// The first (empty) before/after pair captures an edit of the user's that
// is still pending, so the patch never shares a step with it. The bracket
// is closed in `finally`: a patch that throws still leaves the tracker's
// counter balanced.

function bracket(app) {
  const canvas = app?.canvas;
  if (canvas && typeof canvas.emitBeforeChange === "function" && typeof canvas.emitAfterChange === "function")
    return { begin: () => canvas.emitBeforeChange(), end: () => canvas.emitAfterChange() };
  // Older LiteGraph canvases: the graph's own hooks.
  const graph = app?.rootGraph ?? app?.graph;
  if (graph && typeof graph.beforeChange === "function" && typeof graph.afterChange === "function")
    return { begin: () => graph.beforeChange(), end: () => graph.afterChange() };
  return { begin() {}, end() {} };
}

/** Runs fn as one undo step of the app's change tracker; returns its value. */
export function inUndoStep(app, fn) {
  const b = bracket(app);
  b.begin();
  b.end();
  b.begin();
  try {
    return fn();
  } finally {
    try {
      app?.canvas?.setDirty?.(true, true);
    } finally {
      b.end();
    }
  }
}
