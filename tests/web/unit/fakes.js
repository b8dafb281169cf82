// Fakes of the browser's outside world for the client classes: a WebSocket
// the test plays the bridge for, manual timers, and a connection provider.

export class FakeSocket {
  static all = [];
  constructor(url, protocols = []) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = 0;
    this.sent = [];
    this.closed = null;
    FakeSocket.all.push(this);
  }
  static reset() {
    FakeSocket.all = [];
  }
  static last() {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(text) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(text));
  }
  receive(msg) {
    this.onmessage?.({ data: typeof msg === "string" ? msg : JSON.stringify(msg) });
  }
  close(code = 1000, reason = "") {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  /** The server ends the connection. */
  drop(code = 1012) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  ofType(type) {
    return this.sent.filter((m) => m.type === type || m.event === type);
  }
}

export class ManualTimers {
  constructor() {
    this.clock = 0;
    this.next = 1;
    this.tasks = new Map();
  }
  now() {
    return this.clock;
  }
  setTimeout(fn, ms = 0) {
    const id = this.next++;
    this.tasks.set(id, { at: this.clock + ms, fn, every: 0 });
    return id;
  }
  setInterval(fn, ms) {
    const id = this.next++;
    this.tasks.set(id, { at: this.clock + ms, fn, every: ms });
    return id;
  }
  clearTimeout(id) {
    this.tasks.delete(id);
  }
  clearInterval(id) {
    this.tasks.delete(id);
  }
  /** Runs everything due within ms, in time order. */
  advance(ms) {
    const end = this.clock + ms;
    for (;;) {
      let best = null;
      for (const [id, t] of this.tasks) if (t.at <= end && (!best || t.at < best[1].at)) best = [id, t];
      if (!best) break;
      const [id, t] = best;
      this.clock = t.at;
      if (t.every) t.at += t.every;
      else this.tasks.delete(id);
      t.fn();
    }
    this.clock = end;
  }
}

export function fakeConnection(token = "tok en/1") {
  return {
    gets: 0,
    invalidated: 0,
    async get() {
      this.gets++;
      return { wsBase: "ws://127.0.0.1:8189", token, bridgeUrl: "http://127.0.0.1:8189" };
    },
    invalidate() {
      this.invalidated++;
    },
  };
}

/** Lets pending promise callbacks run. */
export const flush = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
};
