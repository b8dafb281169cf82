// @__NO_SIDE_EFFECTS__
function yo(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const Oe = {}, Dn = [], In = () => {
}, ra = () => !1, Os = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), Ns = (e) => e.startsWith("onUpdate:"), pt = Object.assign, sa = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, Df = Object.prototype.hasOwnProperty, Ae = (e, t) => Df.call(e, t), ae = Array.isArray, sn = (e) => zr(e) === "[object Map]", Pn = (e) => zr(e) === "[object Set]", ul = (e) => zr(e) === "[object Date]", Se = (e) => typeof e == "function", je = (e) => typeof e == "string", It = (e) => typeof e == "symbol", Ne = (e) => e !== null && typeof e == "object", ia = (e) => (Ne(e) || Se(e)) && Se(e.then) && Se(e.catch), oa = Object.prototype.toString, zr = (e) => oa.call(e), Tf = (e) => zr(e).slice(8, -1), la = (e) => zr(e) === "[object Object]", bo = (e) => je(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, br = /* @__PURE__ */ yo(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), Ms = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Ff = /-\w/g, kt = /* @__PURE__ */ Ms((e) => e.replace(Ff, (t) => t.slice(1).toUpperCase())), If = /\B([A-Z])/g, jn = /* @__PURE__ */ Ms(
  (e) => e.replace(If, "-$1").toLowerCase()
), ca = /* @__PURE__ */ Ms((e) => e.charAt(0).toUpperCase() + e.slice(1)), ai = /* @__PURE__ */ Ms((e) => e ? `on${ca(e)}` : ""), Dt = (e, t) => !Object.is(e, t), ds = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, aa = (e, t, n, r = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: r,
    value: n
  });
}, Ur = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let fl;
const Ls = () => fl || (fl = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function Sr(e) {
  if (ae(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const r = e[n], s = je(r) ? Lf(r) : Sr(r);
      if (s)
        for (const i in s)
          t[i] = s[i];
    }
    return t;
  } else if (je(e) || Ne(e))
    return e;
}
const Of = /;(?![^(]*\))/g, Nf = /:([^]+)/, Mf = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function Lf(e) {
  const t = {};
  return e.replace(Mf, (n) => n.startsWith("/*") ? "" : n).split(Of).forEach((n) => {
    if (n) {
      const r = n.split(Nf);
      r.length > 1 && (t[r[0].trim()] = r[1].trim());
    }
  }), t;
}
function it(e) {
  let t = "";
  if (je(e))
    t = e;
  else if (ae(e))
    for (let n = 0; n < e.length; n++) {
      const r = it(e[n]);
      r && (t += r + " ");
    }
  else if (Ne(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const Pf = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", jf = /* @__PURE__ */ yo(Pf);
function ua(e) {
  return !!e || e === "";
}
function $f(e, t, n) {
  if (e.length !== t.length) return !1;
  let r = !0;
  for (let s = 0; r && s < e.length; s++)
    r = cn(e[s], t[s], n);
  return r;
}
function dl(e, t, n) {
  if (e.size !== t.size) return !1;
  const r = Array.from(t), s = new Uint8Array(r.length);
  for (const i of e) {
    let o = -1;
    for (let l = 0; l < r.length; l++)
      if (!s[l] && cn(i, r[l], n)) {
        o = l;
        break;
      }
    if (o < 0) return !1;
    s[o] = 1;
  }
  return !0;
}
function Bf(e, t, n) {
  let r = sn(e), s = sn(t);
  if (r || s || (r = Pn(e), s = Pn(t), r || s))
    return r && s ? dl(e, t, n) : !1;
  const i = Object.keys(e).length, o = Object.keys(t).length;
  if (i !== o)
    return !1;
  for (const l in e) {
    const c = e.hasOwnProperty(l), a = t.hasOwnProperty(l);
    if (c && !a || !c && a || !cn(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function hl(e, t, n, r) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [s, i] = n;
  if (s.has(e) || i.has(t))
    return s.get(e) === t && i.get(t) === e;
  s.set(e, t), i.set(t, e);
  const o = r(e, t, n);
  return s.delete(e), i.delete(t), o;
}
function cn(e, t, n) {
  if (e === t) return !0;
  let r = ul(e), s = ul(t);
  return r || s ? r && s ? e.getTime() === t.getTime() : !1 : (r = It(e), s = It(t), r || s ? e === t : (r = ae(e), s = ae(t), r || s ? r && s ? hl(e, t, n, $f) : !1 : (r = Ne(e), s = Ne(t), r || s ? !r || !s ? !1 : hl(e, t, n, Bf) : String(e) === String(t))));
}
function zf(e, t) {
  return e.findIndex((n) => cn(n, t));
}
const fa = (e) => !!(e && e.__v_isRef === !0), re = (e) => je(e) ? e : e == null ? "" : ae(e) || Ne(e) && (e.toString === oa || !Se(e.toString)) ? fa(e) ? re(e.value) : JSON.stringify(e, da, 2) : String(e), da = (e, t) => fa(t) ? da(e, t.value) : sn(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [r, s], i) => (n[ui(r, i) + " =>"] = s, n),
    {}
  )
} : Pn(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => ui(n))
} : It(t) ? ui(t) : Ne(t) && !ae(t) && !la(t) ? String(t) : t, ui = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    It(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let Ke;
class Uf {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && Ke && (Ke.active ? (this.parent = Ke, this.index = (Ke.scopes || (Ke.scopes = [])).push(
      this
    ) - 1) : (this._active = !1, this._warnOnRun = !1));
  }
  get active() {
    return this._active;
  }
  pause() {
    if (this._active) {
      this._isPaused = !0;
      let t, n;
      if (this.scopes) {
        const r = this.scopes.slice();
        for (t = 0, n = r.length; t < n; t++)
          r[t].pause();
      }
      for (t = 0, n = this.effects.length; t < n; t++)
        this.effects[t].pause();
    }
  }
  /**
   * Resumes the effect scope, including all child scopes and effects.
   */
  resume() {
    if (this._active && this._isPaused) {
      this._isPaused = !1;
      let t, n;
      if (this.scopes) {
        const s = this.scopes.slice();
        for (t = 0, n = s.length; t < n; t++)
          s[t].resume();
      }
      const r = this.effects.slice();
      for (t = 0, n = r.length; t < n; t++)
        r[t].resume();
    }
  }
  run(t) {
    if (this._active) {
      const n = Ke;
      try {
        return Ke = this, t();
      } finally {
        Ke = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = Ke, Ke = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (Ke === this)
        Ke = this.prevScope;
      else {
        let t = Ke;
        for (; t; ) {
          if (t.prevScope === this) {
            t.prevScope = this.prevScope;
            break;
          }
          t = t.prevScope;
        }
      }
      this.prevScope = void 0;
    }
  }
  stop(t) {
    if (this._active) {
      this._active = !1;
      let n, r;
      for (n = 0, r = this.effects.length; n < r; n++)
        this.effects[n].stop();
      for (this.effects.length = 0, n = 0, r = this.cleanups.length; n < r; n++)
        this.cleanups[n]();
      if (this.cleanups.length = 0, this.scopes) {
        const s = this.scopes.slice();
        for (n = 0, r = s.length; n < r; n++)
          s[n].stop(!0);
        this.scopes.length = 0;
      }
      if (!this.detached && this.parent && !t) {
        const s = this.parent.scopes.pop();
        s && s !== this && (this.parent.scopes[this.index] = s, s.index = this.index);
      }
      this.parent = void 0;
    }
  }
}
function Wf() {
  return Ke;
}
let De;
const fi = /* @__PURE__ */ new WeakSet();
class ha {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, Ke && (Ke.active ? Ke.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, fi.has(this) && (fi.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || ga(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, pl(this), ma(this);
    const t = De, n = wt;
    De = this, wt = !0;
    try {
      return this.fn();
    } finally {
      _a(this), De = t, wt = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        xo(t);
      this.deps = this.depsTail = void 0, pl(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? fi.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    Yi(this) && this.run();
  }
  get dirty() {
    return Yi(this);
  }
}
let pa = 0, kr, wr;
function ga(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = wr, wr = e;
    return;
  }
  e.next = kr, kr = e;
}
function ko() {
  pa++;
}
function wo() {
  if (--pa > 0)
    return;
  if (wr) {
    let t = wr;
    for (wr = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; kr; ) {
    let t = kr;
    for (kr = void 0; t; ) {
      const n = t.next;
      if (t.next = void 0, t.flags &= -9, t.flags & 1)
        try {
          t.trigger();
        } catch (r) {
          e || (e = r);
        }
      t = n;
    }
  }
  if (e) throw e;
}
function ma(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function _a(e) {
  let t, n = e.depsTail, r = n;
  for (; r; ) {
    const s = r.prevDep;
    r.version === -1 ? (r === n && (n = s), xo(r), Jf(r)) : t = r, r.dep.activeLink = r.prevActiveLink, r.prevActiveLink = void 0, r = s;
  }
  e.deps = t, e.depsTail = n;
}
function Yi(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (ya(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function ya(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === Dr) || (e.globalVersion = Dr, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !Yi(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = De, r = wt;
  De = e, wt = !0;
  try {
    ma(e);
    const s = e.fn(e._value);
    (t.version === 0 || Dt(s, e._value)) && (e.flags |= 128, e._value = s, t.version++);
  } catch (s) {
    throw t.version++, s;
  } finally {
    De = n, wt = r, _a(e), e.flags &= -3;
  }
}
function xo(e, t = !1) {
  const { dep: n, prevSub: r, nextSub: s } = e;
  if (r && (r.nextSub = s, e.prevSub = void 0), s && (s.prevSub = r, e.nextSub = void 0), n.subs === e && (n.subs = r, !r && n.computed)) {
    n.computed.flags &= -5;
    for (let i = n.computed.deps; i; i = i.nextDep)
      xo(i, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function Jf(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let wt = !0;
const ba = [];
function an() {
  ba.push(wt), wt = !1;
}
function un() {
  const e = ba.pop();
  wt = e === void 0 ? !0 : e;
}
function pl(e) {
  const { cleanup: t } = e;
  if (e.cleanup = void 0, t) {
    const n = De;
    De = void 0;
    try {
      t();
    } finally {
      De = n;
    }
  }
}
let Dr = 0;
class qf {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class vo {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!De || !wt || De === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== De)
      n = this.activeLink = new qf(De, this), De.deps ? (n.prevDep = De.depsTail, De.depsTail.nextDep = n, De.depsTail = n) : De.deps = De.depsTail = n, ka(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const r = n.nextDep;
      r.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = r), n.prevDep = De.depsTail, n.nextDep = void 0, De.depsTail.nextDep = n, De.depsTail = n, De.deps === n && (De.deps = r);
    }
    return n;
  }
  trigger(t) {
    this.version++, Dr++, this.notify(t);
  }
  notify(t) {
    ko();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      wo();
    }
  }
}
function ka(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let r = t.deps; r; r = r.nextDep)
        ka(r);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const Xi = /* @__PURE__ */ new WeakMap(), On = /* @__PURE__ */ Symbol(
  ""
), Zi = /* @__PURE__ */ Symbol(
  ""
), Tr = /* @__PURE__ */ Symbol(
  ""
);
function Qe(e, t, n) {
  if (wt && De) {
    let r = Xi.get(e);
    r || Xi.set(e, r = /* @__PURE__ */ new Map());
    let s = r.get(n);
    s || (r.set(n, s = new vo()), s.map = r, s.key = n), s.track();
  }
}
function Wt(e, t, n, r, s, i) {
  const o = Xi.get(e);
  if (!o) {
    Dr++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (ko(), t === "clear")
    o.forEach(l);
  else {
    const c = ae(e), a = c && bo(n);
    if (c && n === "length") {
      const u = Number(r);
      o.forEach((d, m) => {
        (m === "length" || m === Tr || !It(m) && m >= u) && l(d);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), a && l(o.get(Tr)), t) {
        case "add":
          c ? a && l(o.get("length")) : (l(o.get(On)), sn(e) && l(o.get(Zi)));
          break;
        case "delete":
          c || (l(o.get(On)), sn(e) && l(o.get(Zi)));
          break;
        case "set":
          sn(e) && l(o.get(On));
          break;
      }
  }
  wo();
}
function Jn(e) {
  const t = /* @__PURE__ */ xe(e);
  return t === e || (Qe(t, "iterate", Tr), /* @__PURE__ */ ht(e)) ? t : /* @__PURE__ */ Ot(e) ? /* @__PURE__ */ on(e) ? t.map((n) => fn(gt(n))) : t.map(fn) : t.map(gt);
}
function Ps(e) {
  return Qe(e = /* @__PURE__ */ xe(e), "iterate", Tr), e;
}
function Ct(e, t) {
  return /* @__PURE__ */ Ot(e) ? fn(/* @__PURE__ */ on(e) ? gt(t) : t) : gt(t);
}
const Hf = {
  __proto__: null,
  [Symbol.iterator]() {
    return di(this, Symbol.iterator, (e) => Ct(this, e));
  },
  concat(...e) {
    return Jn(this).concat(
      ...e.map((t) => ae(t) ? Jn(t) : t)
    );
  },
  entries() {
    return di(this, "entries", (e) => (e[1] = Ct(this, e[1]), e));
  },
  every(e, t) {
    return jt(this, "every", e, t, void 0, arguments);
  },
  filter(e, t) {
    return jt(
      this,
      "filter",
      e,
      t,
      (n) => n.map((r) => Ct(this, r)),
      arguments
    );
  },
  find(e, t) {
    return jt(
      this,
      "find",
      e,
      t,
      (n) => Ct(this, n),
      arguments
    );
  },
  findIndex(e, t) {
    return jt(this, "findIndex", e, t, void 0, arguments);
  },
  findLast(e, t) {
    return jt(
      this,
      "findLast",
      e,
      t,
      (n) => Ct(this, n),
      arguments
    );
  },
  findLastIndex(e, t) {
    return jt(this, "findLastIndex", e, t, void 0, arguments);
  },
  // flat, flatMap could benefit from ARRAY_ITERATE but are not straight-forward to implement
  forEach(e, t) {
    return jt(this, "forEach", e, t, void 0, arguments);
  },
  includes(...e) {
    return hi(this, "includes", e);
  },
  indexOf(...e) {
    return hi(this, "indexOf", e);
  },
  join(e) {
    return Jn(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return hi(this, "lastIndexOf", e);
  },
  map(e, t) {
    return jt(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return ar(this, "pop");
  },
  push(...e) {
    return ar(this, "push", e);
  },
  reduce(e, ...t) {
    return ml(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return ml(this, "reduceRight", e, t);
  },
  shift() {
    return ar(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return jt(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return ar(this, "splice", e);
  },
  toReversed() {
    return Jn(this).toReversed();
  },
  toSorted(e) {
    return Jn(this).toSorted(e);
  },
  toSpliced(...e) {
    return Jn(this).toSpliced(...e);
  },
  unshift(...e) {
    return ar(this, "unshift", e);
  },
  values() {
    return di(this, "values", (e) => Ct(this, e));
  }
};
function di(e, t, n) {
  const r = Ps(e), s = r[t], i = s.call(r);
  if (r !== e && !/* @__PURE__ */ ht(e)) {
    if (i[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(i));
      return o.next = () => gl(i.next(), n), s !== wa[t] && Object.defineProperties(o, {
        return: {
          get() {
            const l = i.return;
            return typeof l == "function" ? l.bind(i) : l;
          }
        },
        throw: {
          get() {
            const l = i.throw;
            return typeof l == "function" ? l.bind(i) : l;
          }
        }
      }), o;
    }
    i._next = i.next, i.next = () => gl(i._next(), n);
  }
  return i;
}
function gl(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const wa = Array.prototype;
function jt(e, t, n, r, s, i) {
  const o = Ps(e), l = o !== e && !/* @__PURE__ */ ht(e), c = o[t];
  if (c !== wa[t]) {
    const d = c.apply(e, i);
    return l ? gt(d) : d;
  }
  let a = n;
  o !== e && (l ? a = function(d, m) {
    return n.call(this, Ct(e, d), m, e);
  } : n.length > 2 && (a = function(d, m) {
    return n.call(this, d, m, e);
  }));
  const u = c.call(o, a, r);
  return l && s ? s(u) : u;
}
function ml(e, t, n, r) {
  const s = Ps(e), i = s !== e && !/* @__PURE__ */ ht(e);
  let o = n, l = !1;
  s !== e && (i ? (l = r.length === 0, o = function(a, u, d) {
    return l && (l = !1, a = Ct(e, a)), n.call(this, a, Ct(e, u), d, e);
  }) : n.length > 3 && (o = function(a, u, d) {
    return n.call(this, a, u, d, e);
  }));
  const c = s[t](o, ...r);
  return l ? Ct(e, c) : c;
}
function hi(e, t, n) {
  const r = /* @__PURE__ */ xe(e);
  Qe(r, "iterate", Tr);
  const s = r[t](...n);
  return (s === -1 || s === !1) && /* @__PURE__ */ Eo(n[0]) ? (n[0] = /* @__PURE__ */ xe(n[0]), r[t](...n)) : s;
}
function ar(e, t, n = []) {
  an(), ko();
  const r = (/* @__PURE__ */ xe(e))[t].apply(e, n);
  return wo(), un(), r;
}
const Vf = /* @__PURE__ */ yo("__proto__,__v_isRef,__isVue"), xa = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(It)
);
function Gf(e) {
  It(e) || (e = String(e));
  const t = /* @__PURE__ */ xe(this);
  return Qe(t, "has", e), t.hasOwnProperty(e);
}
class va {
  constructor(t = !1, n = !1) {
    this._isReadonly = t, this._isShallow = n;
  }
  get(t, n, r) {
    if (n === "__v_skip") return t.__v_skip;
    const s = this._isReadonly, i = this._isShallow;
    if (n === "__v_isReactive")
      return !s;
    if (n === "__v_isReadonly")
      return s;
    if (n === "__v_isShallow")
      return i;
    if (n === "__v_raw")
      return r === (s ? i ? sd : Ea : i ? Ca : Ra).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(r) ? t : void 0;
    const o = ae(t);
    if (!s) {
      let c;
      if (o && (c = Hf[n]))
        return c;
      if (n === "hasOwnProperty")
        return Gf;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ rt(t) ? t : r
    );
    if ((It(n) ? xa.has(n) : Vf(n)) || (s || Qe(t, "get", n), i))
      return l;
    if (/* @__PURE__ */ rt(l)) {
      const c = o && bo(n) ? l : l.value;
      return s && Ne(c) ? /* @__PURE__ */ eo(c) : c;
    }
    return Ne(l) ? s ? /* @__PURE__ */ eo(l) : /* @__PURE__ */ Ro(l) : l;
  }
}
class Aa extends va {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, r, s) {
    let i = t[n];
    const o = ae(t) && bo(n);
    if (!this._isShallow) {
      const a = /* @__PURE__ */ Ot(i);
      if (!/* @__PURE__ */ ht(r) && !/* @__PURE__ */ Ot(r) && (i = /* @__PURE__ */ xe(i), r = /* @__PURE__ */ xe(r)), !o && /* @__PURE__ */ rt(i) && !/* @__PURE__ */ rt(r))
        return a || (i.value = r), !0;
    }
    const l = o ? Number(n) < t.length : Ae(t, n), c = Reflect.set(
      t,
      n,
      r,
      /* @__PURE__ */ rt(t) ? t : s
    );
    return t === /* @__PURE__ */ xe(s) && c && (l ? Dt(r, i) && Wt(t, "set", n, r) : Wt(t, "add", n, r)), c;
  }
  deleteProperty(t, n) {
    const r = Ae(t, n);
    t[n];
    const s = Reflect.deleteProperty(t, n);
    return s && r && Wt(t, "delete", n, void 0), s;
  }
  has(t, n) {
    const r = Reflect.has(t, n);
    return (!It(n) || !xa.has(n)) && Qe(t, "has", n), r;
  }
  ownKeys(t) {
    return Qe(
      t,
      "iterate",
      ae(t) ? "length" : On
    ), Reflect.ownKeys(t);
  }
}
class Kf extends va {
  constructor(t = !1) {
    super(!0, t);
  }
  set(t, n) {
    return !0;
  }
  deleteProperty(t, n) {
    return !0;
  }
}
const Yf = /* @__PURE__ */ new Aa(), Xf = /* @__PURE__ */ new Kf(), Zf = /* @__PURE__ */ new Aa(!0);
const Qi = (e) => e, Zr = (e) => Reflect.getPrototypeOf(e);
function Qf(e, t, n) {
  return function(...r) {
    const s = this.__v_raw, i = /* @__PURE__ */ xe(s), o = sn(i), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, a = s[e](...r), u = n ? Qi : t ? fn : gt;
    return !t && Qe(
      i,
      "iterate",
      c ? Zi : On
    ), pt(
      // inheriting all iterator properties
      Object.create(a),
      {
        // iterator protocol
        next() {
          const { value: d, done: m } = a.next();
          return m ? { value: d, done: m } : {
            value: l ? [u(d[0]), u(d[1])] : u(d),
            done: m
          };
        }
      }
    );
  };
}
function Qr(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function ed(e, t) {
  const n = {
    get(s) {
      const i = this.__v_raw, o = /* @__PURE__ */ xe(i), l = /* @__PURE__ */ xe(s);
      e || (Dt(s, l) && Qe(o, "get", s), Qe(o, "get", l));
      const { has: c } = Zr(o), a = t ? Qi : e ? fn : gt;
      if (c.call(o, s))
        return a(i.get(s));
      if (c.call(o, l))
        return a(i.get(l));
      i !== o && i.get(s);
    },
    get size() {
      const s = this.__v_raw;
      return !e && Qe(/* @__PURE__ */ xe(s), "iterate", On), s.size;
    },
    has(s) {
      const i = this.__v_raw, o = /* @__PURE__ */ xe(i), l = /* @__PURE__ */ xe(s);
      return e || (Dt(s, l) && Qe(o, "has", s), Qe(o, "has", l)), s === l ? i.has(s) : i.has(s) || i.has(l);
    },
    forEach(s, i) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ xe(l), a = t ? Qi : e ? fn : gt;
      return !e && Qe(c, "iterate", On), l.forEach((u, d) => s.call(i, a(u), a(d), o));
    }
  };
  return pt(
    n,
    e ? {
      add: Qr("add"),
      set: Qr("set"),
      delete: Qr("delete"),
      clear: Qr("clear")
    } : {
      add(s) {
        const i = /* @__PURE__ */ xe(this), o = Zr(i), l = /* @__PURE__ */ xe(s), c = !t && !/* @__PURE__ */ ht(s) && !/* @__PURE__ */ Ot(s) ? l : s;
        return o.has.call(i, c) || Dt(s, c) && o.has.call(i, s) || Dt(l, c) && o.has.call(i, l) || (i.add(c), Wt(i, "add", c, c)), this;
      },
      set(s, i) {
        !t && !/* @__PURE__ */ ht(i) && !/* @__PURE__ */ Ot(i) && (i = /* @__PURE__ */ xe(i));
        const o = /* @__PURE__ */ xe(this), { has: l, get: c } = Zr(o);
        let a = l.call(o, s);
        a || (s = /* @__PURE__ */ xe(s), a = l.call(o, s));
        const u = c.call(o, s);
        return o.set(s, i), a ? Dt(i, u) && Wt(o, "set", s, i) : Wt(o, "add", s, i), this;
      },
      delete(s) {
        const i = /* @__PURE__ */ xe(this), { has: o, get: l } = Zr(i);
        let c = o.call(i, s);
        c || (s = /* @__PURE__ */ xe(s), c = o.call(i, s)), l && l.call(i, s);
        const a = i.delete(s);
        return c && Wt(i, "delete", s, void 0), a;
      },
      clear() {
        const s = /* @__PURE__ */ xe(this), i = s.size !== 0, o = s.clear();
        return i && Wt(
          s,
          "clear",
          void 0,
          void 0
        ), o;
      }
    }
  ), [
    "keys",
    "values",
    "entries",
    Symbol.iterator
  ].forEach((s) => {
    n[s] = Qf(s, e, t);
  }), n;
}
function Ao(e, t) {
  const n = ed(e, t);
  return (r, s, i) => s === "__v_isReactive" ? !e : s === "__v_isReadonly" ? e : s === "__v_isShallow" ? t : s === "__v_raw" ? r : Reflect.get(
    Ae(n, s) && s in r ? n : r,
    s,
    i
  );
}
const td = {
  get: /* @__PURE__ */ Ao(!1, !1)
}, nd = {
  get: /* @__PURE__ */ Ao(!1, !0)
}, rd = {
  get: /* @__PURE__ */ Ao(!0, !1)
};
const Ra = /* @__PURE__ */ new WeakMap(), Ca = /* @__PURE__ */ new WeakMap(), Ea = /* @__PURE__ */ new WeakMap(), sd = /* @__PURE__ */ new WeakMap();
function id(e) {
  switch (e) {
    case "Object":
    case "Array":
      return 1;
    case "Map":
    case "Set":
    case "WeakMap":
    case "WeakSet":
      return 2;
    default:
      return 0;
  }
}
// @__NO_SIDE_EFFECTS__
function Ro(e) {
  return /* @__PURE__ */ Ot(e) ? e : Co(
    e,
    !1,
    Yf,
    td,
    Ra
  );
}
// @__NO_SIDE_EFFECTS__
function od(e) {
  return Co(
    e,
    !1,
    Zf,
    nd,
    Ca
  );
}
// @__NO_SIDE_EFFECTS__
function eo(e) {
  return Co(
    e,
    !0,
    Xf,
    rd,
    Ea
  );
}
function Co(e, t, n, r, s) {
  if (!Ne(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const i = s.get(e);
  if (i)
    return i;
  const o = id(Tf(e));
  if (o === 0)
    return e;
  const l = new Proxy(
    e,
    o === 2 ? r : n
  );
  return s.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function on(e) {
  return /* @__PURE__ */ Ot(e) ? /* @__PURE__ */ on(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function Ot(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function ht(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function Eo(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function xe(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ xe(t) : e;
}
function ld(e) {
  return !Ae(e, "__v_skip") && Object.isExtensible(e) && aa(e, "__v_skip", !0), e;
}
const gt = (e) => Ne(e) ? /* @__PURE__ */ Ro(e) : e, fn = (e) => Ne(e) ? /* @__PURE__ */ eo(e) : e;
// @__NO_SIDE_EFFECTS__
function rt(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function es(e) {
  return cd(e, !1);
}
function cd(e, t) {
  return /* @__PURE__ */ rt(e) ? e : new ad(e, t);
}
class ad {
  constructor(t, n) {
    this.dep = new vo(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ xe(t), this._value = n ? t : gt(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, r = this.__v_isShallow || /* @__PURE__ */ ht(t) || /* @__PURE__ */ Ot(t);
    t = r ? t : /* @__PURE__ */ xe(t), Dt(t, n) && (this._rawValue = t, this._value = r ? t : gt(t), this.dep.trigger());
  }
}
function H(e) {
  return /* @__PURE__ */ rt(e) ? e.value : e;
}
const ud = {
  get: (e, t, n) => t === "__v_raw" ? e : H(Reflect.get(e, t, n)),
  set: (e, t, n, r) => {
    const s = e[t];
    return /* @__PURE__ */ rt(s) && !/* @__PURE__ */ rt(n) ? (s.value = n, !0) : Reflect.set(e, t, n, r);
  }
};
function Sa(e) {
  return /* @__PURE__ */ on(e) ? e : new Proxy(e, ud);
}
class fd {
  constructor(t, n, r) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new vo(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = Dr - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = r;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    De !== this)
      return ga(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return ya(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function dd(e, t, n = !1) {
  let r, s;
  return Se(e) ? r = e : (r = e.get, s = e.set), new fd(r, s, n);
}
const ts = {}, ys = /* @__PURE__ */ new WeakMap();
let An;
function hd(e, t = !1, n = An) {
  if (n) {
    let r = ys.get(n);
    r || ys.set(n, r = []), r.push(e);
  }
}
function pd(e, t, n = Oe) {
  const { immediate: r, deep: s, once: i, scheduler: o, augmentJob: l, call: c } = n, a = (b) => s ? b : /* @__PURE__ */ ht(b) || s === !1 || s === 0 ? Jt(b, 1) : Jt(b);
  let u, d, m, g, h = !1, w = !1;
  if (/* @__PURE__ */ rt(e) ? (d = () => e.value, h = /* @__PURE__ */ ht(e)) : /* @__PURE__ */ on(e) ? (d = () => a(e), h = !0) : ae(e) ? (w = !0, h = e.some((b) => /* @__PURE__ */ on(b) || /* @__PURE__ */ ht(b)), d = () => e.map((b) => {
    if (/* @__PURE__ */ rt(b))
      return b.value;
    if (/* @__PURE__ */ on(b))
      return a(b);
    if (Se(b))
      return c ? c(b, 2) : b();
  })) : Se(e) ? t ? d = c ? () => c(e, 2) : e : d = () => {
    if (m) {
      an();
      try {
        m();
      } finally {
        un();
      }
    }
    const b = An;
    An = u;
    try {
      return c ? c(e, 3, [g]) : e(g);
    } finally {
      An = b;
    }
  } : d = In, t && s) {
    const b = d, O = s === !0 ? 1 / 0 : s;
    d = () => Jt(b(), O);
  }
  const v = Wf(), C = () => {
    u.stop(), v && v.active && sa(v.effects, u);
  };
  if (i && t) {
    const b = t;
    t = (...O) => {
      try {
        return b(...O);
      } finally {
        C();
      }
    };
  }
  let x = w ? new Array(e.length).fill(ts) : ts;
  const k = (b) => {
    if (!(!(u.flags & 1) || !u.dirty && !b))
      if (t) {
        const O = u.run();
        if (b || s || h || (w ? O.some((z, j) => Dt(z, x[j])) : Dt(O, x))) {
          const z = An;
          an();
          try {
            m && m(), An = u;
            const j = [
              O,
              // pass undefined as the old value when it's changed for the first time
              x === ts ? void 0 : w && x[0] === ts ? [] : x,
              g
            ];
            x = O, c ? c(t, 3, j) : (
              // @ts-expect-error
              t(...j)
            );
          } finally {
            An = z, un();
          }
        }
      } else
        u.run();
  };
  return l && l(k), u = new ha(d), u.scheduler = o ? () => o(k, !1) : k, g = (b) => hd(b, !1, u), m = u.onStop = () => {
    const b = ys.get(u);
    if (b) {
      if (c)
        c(b, 4);
      else
        for (const O of b) O();
      ys.delete(u);
    }
  }, t ? r ? k(!0) : x = u.run() : o ? o(k.bind(null, !0), !0) : u.run(), C.pause = u.pause.bind(u), C.resume = u.resume.bind(u), C.stop = C, C;
}
function Jt(e, t = 1 / 0, n) {
  if (t <= 0 || !Ne(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ rt(e))
    Jt(e.value, t, n);
  else if (ae(e))
    for (let r = 0; r < e.length; r++)
      Jt(e[r], t, n);
  else if (Pn(e) || sn(e))
    e.forEach((r) => {
      Jt(r, t, n);
    });
  else if (la(e)) {
    for (const r in e)
      Jt(e[r], t, n);
    for (const r of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, r) && Jt(e[r], t, n);
  }
  return e;
}
function Wr(e, t, n, r) {
  try {
    return r ? e(...r) : e();
  } catch (s) {
    js(s, t, n);
  }
}
function Gt(e, t, n, r) {
  if (Se(e)) {
    const s = Wr(e, t, n, r);
    return s && ia(s) && s.catch((i) => {
      js(i, t, n, void 0, !0);
    }), s;
  }
  if (ae(e)) {
    const s = [];
    for (let i = 0; i < e.length; i++)
      s.push(Gt(e[i], t, n, r));
    return s;
  }
}
function js(e, t, n, r = !0, s = !1) {
  const i = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || Oe;
  if (t) {
    let c = t.parent;
    const a = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const d = c.ec;
      if (d && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!s || c.scope.active)) {
        for (let m = 0; m < d.length; m++)
          if (d[m](e, a, u) === !1)
            return;
      }
      c = c.parent;
    }
    if (o) {
      an(), Wr(o, null, 10, [
        e,
        a,
        u
      ]), un();
      return;
    }
  }
  gd(e, n, i, r, l);
}
function gd(e, t, n, r = !0, s = !1) {
  if (s)
    throw e;
  console.error(e);
}
const et = [];
let bt = -1;
const Et = [];
let tn = null, Gn = 0;
const Da = /* @__PURE__ */ Promise.resolve();
let bs = null;
function xr(e) {
  const t = bs || Da;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function md(e) {
  let t = bt + 1, n = et.length;
  for (; t < n; ) {
    const r = t + n >>> 1, s = et[r], i = Fr(s);
    i < e || i === e && s.flags & 2 ? t = r + 1 : n = r;
  }
  return t;
}
function So(e) {
  if (!(e.flags & 1)) {
    const t = Fr(e), n = et[et.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Fr(n) ? et.push(e) : et.splice(md(t), 0, e), e.flags |= 1, Ta();
  }
}
function Ta() {
  bs || (bs = Da.then(Oa));
}
function _d(e) {
  if (!ae(e))
    tn && e.id === -1 ? tn.splice(Gn + 1, 0, e) : e.flags & 1 || (Et.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      Et.push(e[t]);
  Ta();
}
function Fa(e, t, n, r = bt + 1) {
  for (; r < et.length; r++) {
    const s = et[r];
    if (s && s.flags & 2) {
      if (e && s.id !== e.uid || t !== void 0 && !(s.id >= t))
        continue;
      et.splice(r, 1), r = e ? r - 1 : bt, s.flags & 4 && (s.flags &= -2), s(), s.flags & 4 || (s.flags &= -2);
    }
  }
}
function Ia(e, t, n = 0) {
  if (Et.length) {
    let r = Et, s = 0;
    if (t) {
      r = [];
      for (let o = 0; o < Et.length; o++) {
        const l = Et[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? Et[s++] = l : r.push(l);
      }
    }
    const i = [...new Set(r)].sort((o, l) => Fr(o) - Fr(l));
    if (Et.length = s, tn) {
      for (let o = 0; o < i.length; o++)
        tn.push(i[o]);
      return;
    }
    for (tn = i, Gn = 0; Gn < tn.length; Gn++) {
      const o = tn[Gn];
      o.flags & 4 && (o.flags &= -2), o.flags & 8 || o(), o.flags &= -2;
    }
    tn = null, Gn = 0;
  }
}
let pi = !1;
function yd(e, t) {
  if (pi) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(Et);
  e(), pi = !0;
  try {
    Fa(void 0, t), Ia(void 0, n, t);
  } finally {
    pi = !1;
  }
}
const Fr = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function Oa(e) {
  try {
    for (bt = 0; bt < et.length; bt++) {
      const t = et[bt];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), Wr(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; bt < et.length; bt++) {
      const t = et[bt];
      t && (t.flags &= -2);
    }
    bt = -1, et.length = 0, Ia(), bs = null, (et.length || Et.length) && Oa();
  }
}
let dt = null, Na = null;
function ks(e) {
  const t = dt;
  return dt = e, Na = e && e.type.__scopeId || null, t;
}
function bd(e, t = dt, n) {
  if (!t || e._n)
    return e;
  const r = (...s) => {
    r._d && Rl(-1);
    const i = ks(t), o = Nn.length;
    let l;
    try {
      l = e(...s);
    } finally {
      for (let c = Nn.length; c > o; c--) Ya();
      ks(i), r._d && Rl(1);
    }
    return l;
  };
  return r._n = !0, r._c = !0, r._d = !0, r;
}
function yn(e, t) {
  if (dt === null)
    return e;
  const n = Us(dt), r = e.dirs || (e.dirs = []);
  for (let s = 0; s < t.length; s++) {
    let [i, o, l, c = Oe] = t[s];
    i && (Se(i) && (i = {
      mounted: i,
      updated: i
    }), i.deep && Jt(o), r.push({
      dir: i,
      instance: n,
      value: o,
      oldValue: void 0,
      arg: l,
      modifiers: c
    }));
  }
  return e;
}
function bn(e, t, n, r) {
  let s = e;
  if (r === "beforeMount")
    e._mount = e;
  else if (r === "beforeUpdate") {
    const l = t && t._mount;
    l && (l._latest = e, e._mount = l);
  } else if (r === "mounted") {
    const l = e._latest;
    e._mount = e._latest = void 0, l && (s = l, l._mount = void 0);
  }
  const i = s.dirs, o = t && t.dirs;
  for (let l = 0; l < i.length; l++) {
    let c = i[l];
    o ? c.oldValue = o[l].value : r === "mounted" && c.oldValue !== void 0 && (c = pt({}, c, { oldValue: void 0 }));
    let a = c.dir[r];
    a && (an(), Gt(a, n, 8, [
      e.el,
      c,
      s,
      t
    ]), un());
  }
}
function kd(e, t, n = !1) {
  const r = ih();
  if (r || Yn) {
    let s = Yn ? Yn._context.provides : r ? r.parent == null || r.ce ? r.vnode.appContext && r.vnode.appContext.provides : r.parent.provides : void 0;
    if (s && e in s)
      return s[e];
    if (arguments.length > 1)
      return n && Se(t) ? t.call(r && r.proxy) : t;
  }
}
const wd = /* @__PURE__ */ Symbol.for("v-scx"), xd = () => kd(wd);
function gi(e, t, n) {
  return vd(e, t, n);
}
function vd(e, t, n = Oe) {
  const { immediate: r, deep: s, flush: i, once: o } = n, l = pt({}, n), c = t && r || !t && i !== "post";
  let a;
  if (As) {
    if (i === "sync") {
      const g = xd();
      a = g.__watcherHandles || (g.__watcherHandles = []);
    } else if (!c) {
      const g = () => {
      };
      return g.stop = In, g.resume = In, g.pause = In, g;
    }
  }
  const u = tr;
  l.call = (g, h, w) => Gt(g, u, h, w);
  let d = !1;
  i === "post" ? l.scheduler = (g) => {
    g.i = u, Xe(g, u && u.suspense);
  } : i !== "sync" && (d = !0, l.scheduler = (g, h) => {
    h ? g() : So(g);
  }), l.augmentJob = (g) => {
    t && (g.flags |= 4), d && (g.flags |= 2, u && (g.id = u.uid, g.i = u));
  };
  const m = pd(e, t, l);
  return As && (a ? a.push(m) : c && m()), m;
}
const en = /* @__PURE__ */ new WeakMap(), Ma = /* @__PURE__ */ Symbol("_vte"), $s = (e) => e.__isTeleport, En = (e) => e && (e.disabled || e.disabled === ""), Ad = (e) => e && (e.defer || e.defer === ""), _l = (e) => typeof SVGElement < "u" && e instanceof SVGElement, yl = (e) => typeof MathMLElement == "function" && e instanceof MathMLElement, to = (e, t) => {
  const n = e && e.to;
  return je(n) ? t ? t(n) : null : n;
}, Rd = {
  name: "Teleport",
  __isTeleport: !0,
  process(e, t, n, r, s, i, o, l, c, a) {
    const {
      mc: u,
      pc: d,
      pbc: m,
      o: { insert: g, querySelector: h, createText: w, createComment: v, parentNode: C }
    } = a, x = En(t.props);
    let { dynamicChildren: k } = t;
    const b = (j, ee, Y) => {
      j.shapeFlag & 16 && u(
        j.children,
        ee,
        Y,
        s,
        i,
        o,
        l,
        c
      );
    }, O = (j = t) => {
      const ee = En(j.props), Y = j.target = to(j.props, h), ue = no(Y, j, w, g);
      Y && (o !== "svg" && _l(Y) ? o = "svg" : o !== "mathml" && yl(Y) && (o = "mathml"), s && s.isCE && (s.ce._teleportTargets || (s.ce._teleportTargets = /* @__PURE__ */ new Set())).add(Y), ee || (b(j, Y, ue), mr(j, !1)));
    }, z = (j) => {
      const ee = () => {
        if (en.get(j) === ee) {
          if (en.delete(j), En(j.props)) {
            const Y = C(j.el) || n;
            b(j, Y, j.anchor), mr(j, !0);
          }
          O(j);
        }
      };
      en.set(j, ee), Xe(ee, i);
    };
    if (e == null) {
      const j = t.el = w(""), ee = t.anchor = w("");
      if (g(j, n, r), g(ee, n, r), Ad(t.props) || i && i.pendingBranch) {
        z(t);
        return;
      }
      x && (b(t, n, ee), mr(t, !0)), O();
    } else {
      t.el = e.el;
      const j = t.anchor = e.anchor, ee = en.get(e);
      if (ee) {
        ee.flags |= 8, en.delete(e), z(t);
        return;
      }
      t.targetStart = e.targetStart;
      const Y = t.target = e.target, ue = t.targetAnchor = e.targetAnchor, ne = En(e.props), pe = ne ? n : Y, Fe = ne ? j : ue;
      if (o === "svg" || _l(Y) ? o = "svg" : (o === "mathml" || yl(Y)) && (o = "mathml"), k ? (m(
        e.dynamicChildren,
        k,
        pe,
        s,
        i,
        o,
        l
      ), Fo(e, t, !0)) : c || d(
        e,
        t,
        pe,
        Fe,
        s,
        i,
        o,
        l,
        !1
      ), x)
        ne ? t.props && e.props && t.props.to !== e.props.to && (t.props.to = e.props.to) : ns(
          t,
          n,
          j,
          a,
          1
        );
      else if ((t.props && t.props.to) !== (e.props && e.props.to)) {
        const ve = to(t.props, h);
        ve && (t.target = ve, ns(
          t,
          ve,
          null,
          a,
          0
        ));
      } else ne && ns(
        t,
        Y,
        ue,
        a,
        1
      );
      mr(t, x);
    }
  },
  remove(e, t, n, { um: r, o: { remove: s } }, i) {
    const {
      shapeFlag: o,
      children: l,
      anchor: c,
      targetStart: a,
      targetAnchor: u,
      target: d,
      props: m
    } = e, g = En(m), h = i || !g, w = en.get(e);
    if (w && (w.flags |= 8, en.delete(e)), d && (s(a), s(u)), i && s(c), !w && (g || d) && o & 16)
      for (let v = 0; v < l.length; v++) {
        const C = l[v];
        r(
          C,
          t,
          n,
          h,
          !!C.dynamicChildren
        );
      }
  },
  move: ns,
  hydrate: Cd
};
function ns(e, t, n, { o: { insert: r }, m: s }, i = 2) {
  i === 0 && (e.targetStart && r(e.targetStart, t, n), r(e.targetAnchor, t, n), n = e.targetAnchor);
  const { el: o, anchor: l, shapeFlag: c, children: a, props: u } = e, d = i === 2;
  if (d && r(o, t, n), !en.has(e) && (!d || En(u)) && c & 16)
    for (let m = 0; m < a.length; m++)
      s(
        a[m],
        t,
        n,
        2
      );
  d && r(l, t, n);
}
function Cd(e, t, n, r, s, i, {
  o: { nextSibling: o, parentNode: l, querySelector: c, insert: a, createText: u }
}, d) {
  function m(v, C) {
    let x = C;
    for (; x; ) {
      if (x && x.nodeType === 8) {
        if (x.data === "teleport start anchor")
          t.targetStart = x;
        else if (x.data === "teleport anchor") {
          t.targetAnchor = x, v._lpa = t.targetAnchor && o(t.targetAnchor);
          break;
        }
      }
      x = o(x);
    }
  }
  function g(v, C) {
    C.anchor = d(
      o(v),
      C,
      l(v),
      n,
      r,
      s,
      i
    );
  }
  const h = t.target = to(
    t.props,
    c
  ), w = En(t.props);
  if (h) {
    const v = h._lpa || h.firstChild;
    t.shapeFlag & 16 && (w ? (g(e, t), m(h, v), t.targetAnchor || no(
      h,
      t,
      u,
      a,
      // if target is the same as the main view, insert anchors before current node
      // to avoid hydrating mismatch
      l(e) === h ? e : null
    )) : (t.anchor = o(e), m(h, v), t.targetAnchor || no(h, t, u, a), d(
      v && o(v),
      t,
      h,
      n,
      r,
      s,
      i
    ))), mr(t, w);
  } else w && t.shapeFlag & 16 && (g(e, t), t.targetStart = e, t.targetAnchor = o(e));
  return t.anchor && o(t.anchor);
}
const Ed = Rd;
function mr(e, t) {
  const n = e.ctx;
  if (n && n.ut) {
    let r, s;
    for (t ? (r = e.el, s = e.anchor) : (r = e.targetStart, s = e.targetAnchor); r && r !== s; )
      r.nodeType === 1 && r.setAttribute("data-v-owner", n.uid), r = r.nextSibling;
    n.ut();
  }
}
function no(e, t, n, r, s = null) {
  const i = t.targetStart = n(""), o = t.targetAnchor = n("");
  return i[Ma] = o, e && (r(i, e, s), r(o, e, s)), o;
}
const mi = /* @__PURE__ */ Symbol("_leaveCb");
function Sd(e) {
  let t = e[0];
  if (e.length > 1) {
    for (const n of e)
      if (n.type !== xt) {
        t = n;
        break;
      }
  }
  return t;
}
function La(e) {
  if (!Pa(e))
    return $s(e.type) && e.children ? Sd(e.children) : e;
  if (e.component)
    return e.component.subTree;
  const { shapeFlag: t, children: n } = e;
  if (n) {
    if (t & 16)
      return n[0];
    if (t & 32 && Se(n.default))
      return n.default();
  }
}
function vr(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    vr(
      $s(n.type) && La(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const r = n.isHydrating ? n.pendingBranch : n.activeBranch;
      r && vr(r, t.clone(r));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === ie && ae(e.children)) {
    const n = $a(e.children, !1);
    n && vr(n, t);
  }
}
function ro(e) {
  if (e.component)
    return ro(e.component.subTree);
  if (e.type === ie) {
    const t = ae(e.children) && $a(e.children, !1);
    return t ? ro(t) : void 0;
  }
  if (e.type !== xt)
    return e;
}
function Dd(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function bl(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const ws = /* @__PURE__ */ new WeakMap();
function Ar(e, t, n, r, s = !1) {
  if (ae(e)) {
    e.forEach(
      (w, v) => Ar(
        w,
        t && (ae(t) ? t[v] : t),
        n,
        r,
        s
      )
    );
    return;
  }
  if (Rr(r) && !s) {
    r.shapeFlag & 512 && r.type.__asyncResolved && r.component.subTree.component && Ar(e, t, n, r.component.subTree);
    return;
  }
  const i = r.shapeFlag & 4 ? Us(r.component) : r.el, o = s ? null : i, { i: l, r: c } = e, a = t && t.r, u = l.refs === Oe ? l.refs = {} : l.refs, d = l.setupState, m = /* @__PURE__ */ xe(d), g = d === Oe ? ra : (w) => bl(u, w) ? !1 : Ae(m, w), h = (w, v) => !(v && bl(u, v));
  if (a != null && a !== c) {
    if (kl(t), je(a))
      u[a] = null, g(a) && (d[a] = null);
    else if (/* @__PURE__ */ rt(a)) {
      const w = t;
      h(a, w.k) && (a.value = null), w.k && (u[w.k] = null);
    }
  }
  if (Se(c))
    Wr(c, l, 12, [o, u]);
  else {
    const w = je(c), v = /* @__PURE__ */ rt(c);
    if (w || v) {
      const C = () => {
        if (e.f) {
          const x = w ? g(c) ? d[c] : u[c] : h() || !e.k ? c.value : u[e.k];
          if (s)
            ae(x) && sa(x, i);
          else if (ae(x))
            x.includes(i) || x.push(i);
          else if (w)
            u[c] = [i], g(c) && (d[c] = u[c]);
          else {
            const k = [i];
            h(c, e.k) && (c.value = k), e.k && (u[e.k] = k);
          }
        } else w ? (u[c] = o, g(c) && (d[c] = o)) : v && (h(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const x = () => {
          C(), ws.delete(e);
        };
        x.id = -1, ws.set(e, x), Xe(x, n);
      } else
        kl(e), C();
    }
  }
}
function kl(e) {
  const t = ws.get(e);
  t && (t.flags |= 8, ws.delete(e));
}
Ls().requestIdleCallback;
Ls().cancelIdleCallback;
const Rr = (e) => !!e.type.__asyncLoader, Pa = (e) => e.type.__isKeepAlive, Td = /* @__PURE__ */ Symbol.for("v-ndc");
function Ye(e, t, n, r) {
  let s;
  const i = n, o = ae(e);
  if (o || je(e)) {
    const l = o && /* @__PURE__ */ on(e);
    let c = !1, a = !1;
    l && (c = !/* @__PURE__ */ ht(e), a = /* @__PURE__ */ Ot(e), e = Ps(e)), s = new Array(e.length);
    for (let u = 0, d = e.length; u < d; u++)
      s[u] = t(
        c ? a ? fn(gt(e[u])) : gt(e[u]) : e[u],
        u,
        void 0,
        i
      );
  } else if (typeof e == "number")
    if (!Number.isInteger(e) || e < 0)
      s = [];
    else {
      s = new Array(e);
      for (let l = 0; l < e; l++)
        s[l] = t(l + 1, l, void 0, i);
    }
  else if (Ne(e))
    if (e[Symbol.iterator])
      s = Array.from(
        e,
        (l, c) => t(l, c, void 0, i)
      );
    else {
      const l = Object.keys(e);
      s = new Array(l.length);
      for (let c = 0, a = l.length; c < a; c++) {
        const u = l[c];
        s[c] = t(e[u], u, c, i);
      }
    }
  else
    s = [];
  return s;
}
const so = (e) => e ? tu(e) ? Us(e) : so(e.parent) : null, Cr = (
  // Move PURE marker to new line to workaround compiler discarding it
  // due to type annotation
  /* @__PURE__ */ pt(/* @__PURE__ */ Object.create(null), {
    $: (e) => e,
    $el: (e) => e.vnode.el,
    $data: (e) => e.data,
    $props: (e) => e.props,
    $attrs: (e) => e.attrs,
    $slots: (e) => e.slots,
    $refs: (e) => e.refs,
    $parent: (e) => so(e.parent),
    $root: (e) => so(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      So(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = xr.bind(e.proxy)),
    $watch: (e) => In
  })
), _i = (e, t) => e !== Oe && !e.__isScriptSetup && Ae(e, t), Fd = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: r, data: s, props: i, accessCache: o, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const m = o[t];
      if (m !== void 0)
        switch (m) {
          case 1:
            return r[t];
          case 2:
            return s[t];
          case 4:
            return n[t];
          case 3:
            return i[t];
        }
      else {
        if (_i(r, t))
          return o[t] = 1, r[t];
        if (Ae(i, t))
          return o[t] = 3, i[t];
        if (n !== Oe && Ae(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const a = Cr[t];
    let u, d;
    if (a)
      return t === "$attrs" && Qe(e.attrs, "get", ""), a(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== Oe && Ae(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      d = c.config.globalProperties, Ae(d, t)
    )
      return d[t];
  },
  set({ _: e }, t, n) {
    const { data: r, setupState: s, ctx: i } = e;
    return _i(s, t) ? (s[t] = n, !0) : Ae(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (i[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: r, appContext: s, props: i, type: o }
  }, l) {
    let c;
    return !!(n[l] || _i(t, l) || Ae(i, l) || Ae(r, l) || Ae(Cr, l) || Ae(s.config.globalProperties, l) || (c = o.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : Ae(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function ja() {
  return {
    app: null,
    config: {
      isNativeTag: ra,
      performance: !1,
      globalProperties: {},
      optionMergeStrategies: {},
      errorHandler: void 0,
      warnHandler: void 0,
      compilerOptions: {}
    },
    mixins: [],
    components: {},
    directives: {},
    provides: /* @__PURE__ */ Object.create(null),
    optionsCache: /* @__PURE__ */ new WeakMap(),
    propsCache: /* @__PURE__ */ new WeakMap(),
    emitsCache: /* @__PURE__ */ new WeakMap()
  };
}
let Id = 0;
function Od(e, t) {
  return function(r, s = null) {
    Se(r) || (r = pt({}, r)), s != null && !Ne(s) && (s = null);
    const i = ja(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const a = i.app = {
      _uid: Id++,
      _component: r,
      _props: s,
      _container: null,
      _context: i,
      _instance: null,
      version: fh,
      get config() {
        return i.config;
      },
      set config(u) {
      },
      use(u, ...d) {
        return o.has(u) || (u && Se(u.install) ? (o.add(u), u.install(a, ...d)) : Se(u) && (o.add(u), u(a, ...d))), a;
      },
      mixin(u) {
        return a;
      },
      component(u, d) {
        return d ? (i.components[u] = d, a) : i.components[u];
      },
      directive(u, d) {
        return d ? (i.directives[u] = d, a) : i.directives[u];
      },
      mount(u, d, m) {
        if (!c) {
          const g = a._ceVNode || Ht(r, s);
          return g.appContext = i, m === !0 ? m = "svg" : m === !1 && (m = void 0), e(g, u, m), c = !0, a._container = u, u.__vue_app__ = a, Us(g.component);
        }
      },
      onUnmount(u) {
        l.push(u);
      },
      unmount() {
        c && (Gt(
          l,
          a._instance,
          16
        ), e(null, a._container), delete a._container.__vue_app__);
      },
      provide(u, d) {
        return i.provides[u] = d, a;
      },
      runWithContext(u) {
        const d = Yn;
        Yn = a;
        try {
          return u();
        } finally {
          Yn = d;
        }
      }
    };
    return a;
  };
}
let Yn = null;
const Nd = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${kt(t)}Modifiers`] || e[`${jn(t)}Modifiers`];
function Md(e, t, ...n) {
  if (e.isUnmounted) return;
  const r = e.vnode.props || Oe;
  let s = n;
  const i = t.startsWith("update:"), o = i && Nd(r, t.slice(7));
  o && (o.trim && (s = n.map((u) => je(u) ? u.trim() : u)), o.number && (s = s.map(Ur)));
  let l, c = r[l = ai(t)] || // also try camelCase event handler (#2249)
  r[l = ai(kt(t))];
  !c && i && (c = r[l = ai(jn(t))]), c && Gt(
    c,
    e,
    6,
    s
  );
  const a = r[l + "Once"];
  if (a) {
    if (!e.emitted)
      e.emitted = {};
    else if (e.emitted[l])
      return;
    e.emitted[l] = !0, Gt(
      a,
      e,
      6,
      s
    );
  }
}
function Ld(e, t, n = !1) {
  const r = t.emitsCache, s = r.get(e);
  if (s !== void 0)
    return s;
  const i = e.emits;
  let o = {};
  return i ? (ae(i) ? i.forEach((l) => o[l] = null) : pt(o, i), Ne(e) && r.set(e, o), o) : (Ne(e) && r.set(e, null), null);
}
function Bs(e, t) {
  return !e || !Os(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), Ae(e, t[0].toLowerCase() + t.slice(1)) || Ae(e, jn(t)) || Ae(e, t));
}
function wl(e) {
  const {
    type: t,
    vnode: n,
    proxy: r,
    withProxy: s,
    propsOptions: [i],
    slots: o,
    attrs: l,
    emit: c,
    render: a,
    renderCache: u,
    props: d,
    data: m,
    setupState: g,
    ctx: h,
    inheritAttrs: w
  } = e, v = ks(e);
  let C, x;
  try {
    if (n.shapeFlag & 4) {
      const b = s || r, O = b;
      C = St(
        a.call(
          O,
          b,
          u,
          d,
          g,
          m,
          h
        )
      ), x = l;
    } else {
      const b = t;
      C = St(
        b.length > 1 ? b(
          d,
          { attrs: l, slots: o, emit: c }
        ) : b(
          d,
          null
        )
      ), x = t.props ? l : Pd(l);
    }
  } catch (b) {
    Nn.length = 0, js(b, e, 1), C = Ht(xt);
  }
  let k = C;
  if (x && w !== !1) {
    const b = Object.keys(x), { shapeFlag: O } = k;
    b.length && O & 7 && (i && b.some(Ns) && (x = jd(
      x,
      i
    )), k = er(k, x, !1, !0));
  }
  if (n.dirs && (k = er(k, null, !1, !0), k.dirs = k.dirs ? k.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const b = $s(k.type) && La(k) || k;
    vr(b, n.transition);
  }
  return C = k, ks(v), C;
}
function $a(e, t = !0) {
  let n;
  for (let r = 0; r < e.length; r++) {
    const s = e[r];
    if (Io(s)) {
      if (s.type !== xt || s.children === "v-if") {
        if (n)
          return;
        n = s;
      }
    } else
      return;
  }
  return n;
}
const Pd = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || Os(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, jd = (e, t) => {
  const n = {};
  for (const r in e)
    (!Ns(r) || !(r.slice(9) in t)) && (n[r] = e[r]);
  return n;
};
function $d(e, t, n) {
  const { props: r, children: s, component: i } = e, { props: o, children: l, patchFlag: c } = t, a = i.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return r ? xl(r, o, a) : !!o;
    if (c & 8) {
      const u = t.dynamicProps;
      for (let d = 0; d < u.length; d++) {
        const m = u[d];
        if (Ba(o, r, m) && !Bs(a, m))
          return !0;
      }
    }
  } else
    return (s || l) && (!l || !l.$stable) ? !0 : r === o ? !1 : r ? o ? xl(r, o, a) : !0 : !!o;
  return !1;
}
function xl(e, t, n) {
  const r = Object.keys(t);
  if (r.length !== Object.keys(e).length)
    return !0;
  for (let s = 0; s < r.length; s++) {
    const i = r[s];
    if (!Ae(e, i) || Ba(t, e, i) && !Bs(n, i))
      return !0;
  }
  return !1;
}
function Ba(e, t, n) {
  const r = e[n], s = t[n];
  return n === "style" && Ne(r) && Ne(s) ? !cn(r, s) : r !== s;
}
function Bd({ vnode: e, parent: t, suspense: n }, r) {
  for (; t; ) {
    const s = t.subTree;
    if (s.suspense && s.suspense.activeBranch === e && (s.suspense.vnode.el = s.el = r, e = s), s === e)
      (e = t.vnode).el = r, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = r);
}
const za = {}, Ua = () => Object.create(za), Wa = (e) => Object.getPrototypeOf(e) === za;
function zd(e, t, n, r = !1) {
  const s = {}, i = Ua();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), Ja(e, t, s, i);
  for (const o in e.propsOptions[0])
    o in s || (s[o] = void 0);
  n ? e.props = r ? s : /* @__PURE__ */ od(s) : e.type.props ? e.props = s : e.props = i, e.attrs = i;
}
function Ud(e, t, n, r) {
  const {
    props: s,
    attrs: i,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ xe(s), [c] = e.propsOptions;
  let a = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (r || o > 0) && !(o & 16)
  ) {
    if (o & 8) {
      const u = e.vnode.dynamicProps;
      for (let d = 0; d < u.length; d++) {
        let m = u[d];
        if (Bs(e.emitsOptions, m))
          continue;
        const g = t[m];
        if (c)
          if (Ae(i, m))
            g !== i[m] && (i[m] = g, a = !0);
          else {
            const h = kt(m);
            s[h] = io(
              c,
              l,
              h,
              g,
              e,
              !1
            );
          }
        else
          g !== i[m] && (i[m] = g, a = !0);
      }
    }
  } else {
    Ja(e, t, s, i) && (a = !0);
    let u;
    for (const d in l)
      (!t || // for camelCase
      !Ae(t, d) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = jn(d)) === d || !Ae(t, u))) && (c ? n && // for camelCase
      (n[d] !== void 0 || // for kebab-case
      n[u] !== void 0) && (s[d] = io(
        c,
        l,
        d,
        void 0,
        e,
        !0
      )) : delete s[d]);
    if (i !== l)
      for (const d in i)
        (!t || !Ae(t, d)) && (delete i[d], a = !0);
  }
  a && Wt(e.attrs, "set", "");
}
function Ja(e, t, n, r) {
  const [s, i] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let c in t) {
      if (br(c))
        continue;
      const a = t[c];
      let u;
      s && Ae(s, u = kt(c)) ? !i || !i.includes(u) ? n[u] = a : (l || (l = {}))[u] = a : Bs(e.emitsOptions, c) || (!(c in r) || a !== r[c]) && (r[c] = a, o = !0);
    }
  if (i) {
    const c = /* @__PURE__ */ xe(n), a = l || Oe;
    for (let u = 0; u < i.length; u++) {
      const d = i[u];
      n[d] = io(
        s,
        c,
        d,
        a[d],
        e,
        !Ae(a, d)
      );
    }
  }
  return o;
}
function io(e, t, n, r, s, i) {
  const o = e[n];
  if (o != null) {
    const l = Ae(o, "default");
    if (l && r === void 0) {
      const c = o.default;
      if (o.type !== Function && !o.skipFactory && Se(c)) {
        const { propsDefaults: a } = s;
        if (n in a)
          r = a[n];
        else {
          const u = eu(s);
          r = a[n] = c.call(
            null,
            t
          ), u();
        }
      } else
        r = c;
      s.ce && s.ce._setProp(n, r);
    }
    o[
      0
      /* shouldCast */
    ] && (i && !l ? r = !1 : o[
      1
      /* shouldCastTrue */
    ] && (r === "" || r === jn(n)) && (r = !0));
  }
  return r;
}
function Wd(e, t, n = !1) {
  const r = t.propsCache, s = r.get(e);
  if (s)
    return s;
  const i = e.props, o = {}, l = [];
  if (!i)
    return Ne(e) && r.set(e, Dn), Dn;
  if (ae(i))
    for (let a = 0; a < i.length; a++) {
      const u = kt(i[a]);
      vl(u) && (o[u] = Oe);
    }
  else if (i)
    for (const a in i) {
      const u = kt(a);
      if (vl(u)) {
        const d = i[a], m = o[u] = ae(d) || Se(d) ? { type: d } : pt({}, d), g = m.type;
        let h = !1, w = !0;
        if (ae(g))
          for (let v = 0; v < g.length; ++v) {
            const C = g[v], x = Se(C) && C.name;
            if (x === "Boolean") {
              h = !0;
              break;
            } else x === "String" && (w = !1);
          }
        else
          h = Se(g) && g.name === "Boolean";
        m[
          0
          /* shouldCast */
        ] = h, m[
          1
          /* shouldCastTrue */
        ] = w, (h || Ae(m, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return Ne(e) && r.set(e, c), c;
}
function vl(e) {
  return e[0] !== "$" && !br(e);
}
const Do = (e) => e === "_" || e === "_ctx" || e === "$stable", To = (e) => ae(e) ? e.map(St) : [St(e)], Jd = (e, t, n) => {
  if (t._n)
    return t;
  const r = bd((...s) => To(t(...s)), n);
  return r._c = !1, r;
}, qa = (e, t, n) => {
  const r = e._ctx;
  for (const s in e) {
    if (Do(s)) continue;
    const i = e[s];
    if (Se(i))
      t[s] = Jd(s, i, r);
    else if (i != null) {
      const o = To(i);
      t[s] = () => o;
    }
  }
}, Ha = (e, t) => {
  const n = To(t);
  e.slots.default = () => n;
}, Va = (e, t, n) => {
  for (const r in t)
    (n || !Do(r)) && (e[r] = t[r]);
}, qd = (e, t, n) => {
  const r = e.slots = Ua();
  if (e.vnode.shapeFlag & 32) {
    const s = t._;
    s ? (Va(r, t, n), n && aa(r, "_", s, !0)) : qa(t, r);
  } else t && Ha(e, t);
}, Hd = (e, t, n) => {
  const { vnode: r, slots: s } = e;
  let i = !0, o = Oe;
  if (r.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? i = !1 : Va(s, t, n) : (i = !t.$stable, qa(t, s)), o = t;
  } else t && (Ha(e, t), o = { default: 1 });
  if (i)
    for (const l in s)
      !Do(l) && o[l] == null && delete s[l];
}, Xe = Zd;
function Vd(e) {
  return Gd(e);
}
function Gd(e, t) {
  const n = Ls();
  n.__VUE__ = !0;
  const {
    insert: r,
    remove: s,
    patchProp: i,
    createElement: o,
    createText: l,
    createComment: c,
    setText: a,
    setElementText: u,
    parentNode: d,
    nextSibling: m,
    setScopeId: g = In,
    insertStaticContent: h
  } = e, w = (p, _, A, P = null, S = null, F = null, M = void 0, $ = null, N = !!_.dynamicChildren) => {
    if (p === _)
      return;
    p && !ur(p, _) && (P = me(p), ye(p, S, F, !0), p = null), _.patchFlag === -2 && (N = !1, _.dynamicChildren = null), _.dynamicChildren && p && p.dynamicChildren && p.dynamicChildren.hasOnce && (_.dynamicChildren === Dn && (_.dynamicChildren = []), _.dynamicChildren.hasOnce = !0);
    const { type: D, ref: V, shapeFlag: U } = _;
    switch (D) {
      case zs:
        v(p, _, A, P);
        break;
      case xt:
        C(p, _, A, P);
        break;
      case bi:
        p == null && x(_, A, P, M);
        break;
      case ie:
        pe(
          p,
          _,
          A,
          P,
          S,
          F,
          M,
          $,
          N
        );
        break;
      default:
        U & 1 ? O(
          p,
          _,
          A,
          P,
          S,
          F,
          M,
          $,
          N
        ) : U & 6 ? Fe(
          p,
          _,
          A,
          P,
          S,
          F,
          M,
          $,
          N
        ) : (U & 64 || U & 128) && D.process(
          p,
          _,
          A,
          P,
          S,
          F,
          M,
          $,
          N,
          hn
        );
    }
    V != null && S ? Ar(V, p && p.ref, F, _ || p, !_) : V == null && p && p.ref != null && Ar(p.ref, null, F, p, !0);
  }, v = (p, _, A, P) => {
    if (p == null)
      r(
        _.el = l(_.children),
        A,
        P
      );
    else {
      const S = _.el = p.el;
      _.children !== p.children && a(S, _.children);
    }
  }, C = (p, _, A, P) => {
    p == null ? r(
      _.el = c(_.children || ""),
      A,
      P
    ) : _.el = p.el;
  }, x = (p, _, A, P) => {
    [p.el, p.anchor] = h(
      p.children,
      _,
      A,
      P,
      p.el,
      p.anchor
    );
  }, k = ({ el: p, anchor: _ }, A, P) => {
    let S;
    for (; p && p !== _; )
      S = m(p), r(p, A, P), p = S;
    r(_, A, P);
  }, b = ({ el: p, anchor: _ }) => {
    let A;
    for (; p && p !== _; )
      A = m(p), s(p), p = A;
    s(_);
  }, O = (p, _, A, P, S, F, M, $, N) => {
    if (_.type === "svg" ? M = "svg" : _.type === "math" && (M = "mathml"), p == null)
      z(
        _,
        A,
        P,
        S,
        F,
        M,
        $,
        N
      );
    else {
      const D = p.el && p.el._isVueCE ? p.el : null;
      try {
        D && D._beginPatch(), Y(
          p,
          _,
          S,
          F,
          M,
          $,
          N
        );
      } finally {
        D && D._endPatch();
      }
    }
  }, z = (p, _, A, P, S, F, M, $) => {
    let N, D;
    const { props: V, shapeFlag: U, transition: Z, dirs: te } = p;
    if (N = p.el = o(
      p.type,
      F,
      V && V.is,
      V
    ), U & 8 ? u(N, p.children) : U & 16 && ee(
      p.children,
      N,
      null,
      P,
      S,
      yi(p, F),
      M,
      $
    ), te && bn(p, null, P, "created"), j(N, p, p.scopeId, M, P), V) {
      for (const be in V)
        be !== "value" && !br(be) && i(N, be, null, V[be], F, P);
      "value" in V && i(N, "value", null, V.value, F), (D = V.onVnodeBeforeMount) && Rt(D, P, p);
    }
    te && bn(p, null, P, "beforeMount");
    const ge = Kd(S, Z);
    ge ? Z.beforeEnter(N) : Z && !Z.persisted && (N[Xd] = !0), r(N, _, A), ((D = V && V.onVnodeMounted) || ge || te) && Xe(() => {
      D && Rt(D, P, p), ge && Z.enter(N), te && bn(p, null, P, "mounted");
    }, S);
  }, j = (p, _, A, P, S) => {
    if (A && g(p, A), P)
      for (let F = 0; F < P.length; F++)
        g(p, P[F]);
    if (S) {
      let F = S.subTree;
      if (_ === F || Ka(F.type) && (F.ssContent === _ || F.ssFallback === _)) {
        const M = S.vnode;
        j(
          p,
          M,
          M.scopeId,
          M.slotScopeIds,
          S.parent
        );
      }
    }
  }, ee = (p, _, A, P, S, F, M, $, N = 0) => {
    for (let D = N; D < p.length; D++) {
      const V = p[D] = $ ? Ut(p[D]) : St(p[D]);
      w(
        null,
        V,
        _,
        A,
        P,
        S,
        F,
        M,
        $
      );
    }
  }, Y = (p, _, A, P, S, F, M) => {
    const $ = _.el = p.el;
    let { patchFlag: N, dynamicChildren: D, dirs: V } = _;
    N |= p.patchFlag & 16;
    const U = p.props || Oe, Z = _.props || Oe;
    let te;
    if (A && kn(A, !1), (te = Z.onVnodeBeforeUpdate) && Rt(te, A, _, p), V && bn(_, p, A, "beforeUpdate"), A && kn(A, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    D && (!p.dynamicChildren || p.dynamicChildren.length !== D.length) && (N = 0, M = !1, D = null), (U.innerHTML && Z.innerHTML == null || U.textContent && Z.textContent == null) && u($, ""), D ? ue(
      p.dynamicChildren,
      D,
      $,
      A,
      P,
      yi(_, S),
      F
    ) : M || oe(
      p,
      _,
      $,
      null,
      A,
      P,
      yi(_, S),
      F,
      !1
    ), N > 0) {
      if (N & 16)
        ne($, U, Z, A, S);
      else if (N & 2 && U.class !== Z.class && i($, "class", null, Z.class, S), N & 4 && i($, "style", U.style, Z.style, S), N & 8) {
        const ge = _.dynamicProps;
        for (let be = 0; be < ge.length; be++) {
          const ke = ge[be], Ie = U[ke], Ee = Z[ke];
          (Ee !== Ie || ke === "value") && i($, ke, Ie, Ee, S, A);
        }
      }
      N & 1 && p.children !== _.children && u($, _.children);
    } else !M && D == null && ne($, U, Z, A, S);
    ((te = Z.onVnodeUpdated) || V) && Xe(() => {
      te && Rt(te, A, _, p), V && bn(_, p, A, "updated");
    }, P);
  }, ue = (p, _, A, P, S, F, M) => {
    for (let $ = 0; $ < _.length; $++) {
      const N = p[$], D = _[$], V = N.el || Er(N), U = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        V && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (N.type === ie || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !ur(N, D) || // - In the case of a component, it could contain anything.
        N.shapeFlag & 198) ? d(V) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          A
        )
      );
      w(
        N,
        D,
        U,
        null,
        P,
        S,
        F,
        M,
        !0
      );
    }
  }, ne = (p, _, A, P, S) => {
    if (_ !== A) {
      if (_ !== Oe)
        for (const F in _)
          !br(F) && !(F in A) && i(
            p,
            F,
            _[F],
            null,
            S,
            P
          );
      for (const F in A) {
        if (br(F)) continue;
        const M = A[F], $ = _[F];
        M !== $ && F !== "value" && i(p, F, $, M, S, P);
      }
      "value" in A && i(p, "value", _.value, A.value, S);
    }
  }, pe = (p, _, A, P, S, F, M, $, N) => {
    const D = _.el = p ? p.el : l(""), V = _.anchor = p ? p.anchor : l("");
    let { patchFlag: U, dynamicChildren: Z, slotScopeIds: te } = _;
    te && ($ = $ ? $.concat(te) : te), p == null ? (r(D, A, P), r(V, A, P), ee(
      // #10007
      // such fragment like `<></>` will be compiled into
      // a fragment which doesn't have a children.
      // In this case fallback to an empty array
      _.children || [],
      A,
      V,
      S,
      F,
      M,
      $,
      N
    )) : U > 0 && U & 64 && Z && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    p.dynamicChildren && p.dynamicChildren.length === Z.length ? (ue(
      p.dynamicChildren,
      Z,
      A,
      S,
      F,
      M,
      $
    ), // #2080 if the stable fragment has a key, it's a <template v-for> that may
    //  get moved around. Make sure all root level vnodes inherit el.
    // #2134 or if it's a component root, it may also get moved around
    // as the component is being moved.
    (_.key != null || S && _ === S.subTree) && Fo(
      p,
      _,
      !0
      /* shallow */
    )) : oe(
      p,
      _,
      A,
      V,
      S,
      F,
      M,
      $,
      N
    );
  }, Fe = (p, _, A, P, S, F, M, $, N) => {
    _.slotScopeIds = $, p == null ? _.shapeFlag & 512 ? S.ctx.activate(
      _,
      A,
      P,
      M,
      N
    ) : ve(
      _,
      A,
      P,
      S,
      F,
      M,
      N
    ) : Re(p, _, N);
  }, ve = (p, _, A, P, S, F, M) => {
    const $ = p.component = sh(
      p,
      P,
      S
    );
    if (Pa(p) && ($.ctx.renderer = hn), oh($, !1, M), $.asyncDep) {
      if (S && S.registerDep(
        $,
        ut,
        M,
        F
      ), !p.el) {
        const N = $.subTree = Ht(xt);
        C(null, N, _, A), p.placeholder = N.el;
      }
    } else
      ut(
        $,
        p,
        _,
        A,
        S,
        F,
        M
      );
  }, Re = (p, _, A) => {
    const P = _.component = p.component;
    if ($d(p, _, A))
      if (P.asyncDep && !P.asyncResolved) {
        _.el = p.el, _.placeholder = p.placeholder, J(P, _, A);
        return;
      } else
        P.next = _, P.update();
    else
      _.el = p.el, _.placeholder = p.placeholder, P.vnode = _;
  }, ut = (p, _, A, P, S, F, M) => {
    const $ = () => {
      if (p.isMounted) {
        let { next: U, bu: Z, u: te, parent: ge, vnode: be } = p;
        {
          const Ue = Ga(p);
          if (Ue) {
            U && (U.el = be.el, J(p, U, M)), Ue.asyncDep.then(() => {
              const lt = () => {
                p.job.flags & 8 || (S && S.pendingBranch ? Xe(lt, S) : D());
              };
              lt.flags = 48, Xe(lt, S);
            });
            return;
          }
        }
        let ke = U, Ie;
        kn(p, !1), U ? (U.el = be.el, J(p, U, M)) : U = be, Z && ds(Z), (Ie = U.props && U.props.onVnodeBeforeUpdate) && Rt(Ie, ge, U, be), kn(p, !0);
        const Ee = wl(p), Be = p.subTree;
        p.subTree = Ee, w(
          Be,
          Ee,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          d(
            Be.el || Er(Be)
          ),
          // anchor may have changed if it's in a fragment
          me(Be),
          p,
          S,
          F
        ), U.el = Ee.el, ke === null && Bd(p, Ee.el), te && Xe(te, S), (Ie = U.props && U.props.onVnodeUpdated) && Xe(
          () => Rt(Ie, ge, U, be),
          S
        );
      } else {
        let U;
        const { el: Z, props: te } = _, { bm: ge, m: be, parent: ke, root: Ie, type: Ee } = p, Be = Rr(_);
        kn(p, !1), ge && ds(ge), !Be && (U = te && te.onVnodeBeforeMount) && Rt(U, ke, _), kn(p, !0);
        {
          Ie.ce && Ie.ce._hasShadowRoot() && Ie.ce._injectChildStyle(
            Ee,
            p.parent ? p.parent.type : void 0
          );
          const Ue = p.subTree = wl(p);
          w(
            null,
            Ue,
            A,
            P,
            p,
            S,
            F
          ), _.el = Ue.el;
        }
        if (be && Xe(be, S), !Be && (U = te && te.onVnodeMounted)) {
          const Ue = _;
          Xe(
            () => Rt(U, ke, Ue),
            S
          );
        }
        (_.shapeFlag & 256 || ke && Rr(ke.vnode) && ke.vnode.shapeFlag & 256) && p.a && Xe(p.a, S), p.isMounted = !0, _ = A = P = null;
      }
    };
    p.scope.on();
    const N = p.effect = new ha($);
    p.scope.off();
    const D = p.update = N.run.bind(N), V = p.job = N.runIfDirty.bind(N);
    V.i = p, V.id = p.uid, N.scheduler = () => So(V), kn(p, !0), D();
  }, J = (p, _, A) => {
    _.component = p;
    const P = p.vnode.props;
    p.vnode = _, p.next = null, Ud(p, _.props, P, A), Hd(p, _.children, A), an(), Fa(p), un();
  }, oe = (p, _, A, P, S, F, M, $, N = !1) => {
    const D = p && p.children, V = p ? p.shapeFlag : 0, U = _.children, { patchFlag: Z, shapeFlag: te } = _;
    if (Z > 0) {
      if (Z & 128) {
        _e(
          D,
          U,
          A,
          P,
          S,
          F,
          M,
          $,
          N
        );
        return;
      } else if (Z & 256) {
        le(
          D,
          U,
          A,
          P,
          S,
          F,
          M,
          $,
          N
        );
        return;
      }
    }
    te & 8 ? (V & 16 && X(D, S, F), U !== D && u(A, U)) : V & 16 ? te & 16 ? _e(
      D,
      U,
      A,
      P,
      S,
      F,
      M,
      $,
      N
    ) : X(D, S, F, !0) : (V & 8 && u(A, ""), te & 16 && ee(
      U,
      A,
      P,
      S,
      F,
      M,
      $,
      N
    ));
  }, le = (p, _, A, P, S, F, M, $, N) => {
    p = p || Dn, _ = _ || Dn;
    const D = p.length, V = _.length, U = Math.min(D, V);
    let Z;
    for (Z = 0; Z < U; Z++) {
      const te = _[Z] = N ? Ut(_[Z]) : St(_[Z]);
      w(
        p[Z],
        te,
        A,
        null,
        S,
        F,
        M,
        $,
        N
      );
    }
    D > V ? X(
      p,
      S,
      F,
      !0,
      !1,
      U
    ) : ee(
      _,
      A,
      P,
      S,
      F,
      M,
      $,
      N,
      U
    );
  }, _e = (p, _, A, P, S, F, M, $, N) => {
    let D = 0;
    const V = _.length;
    let U = p.length - 1, Z = V - 1;
    for (; D <= U && D <= Z; ) {
      const te = p[D], ge = _[D] = N ? Ut(_[D]) : St(_[D]);
      if (ur(te, ge))
        w(
          te,
          ge,
          A,
          null,
          S,
          F,
          M,
          $,
          N
        );
      else
        break;
      D++;
    }
    for (; D <= U && D <= Z; ) {
      const te = p[U], ge = _[Z] = N ? Ut(_[Z]) : St(_[Z]);
      if (ur(te, ge))
        w(
          te,
          ge,
          A,
          null,
          S,
          F,
          M,
          $,
          N
        );
      else
        break;
      U--, Z--;
    }
    if (D > U) {
      if (D <= Z) {
        const te = Z + 1, ge = te < V ? _[te].el : P;
        for (; D <= Z; )
          w(
            null,
            _[D] = N ? Ut(_[D]) : St(_[D]),
            A,
            ge,
            S,
            F,
            M,
            $,
            N
          ), D++;
      }
    } else if (D > Z)
      for (; D <= U; )
        ye(p[D], S, F, !0), D++;
    else {
      const te = D, ge = D, be = /* @__PURE__ */ new Map();
      for (D = ge; D <= Z; D++) {
        const We = _[D] = N ? Ut(_[D]) : St(_[D]);
        We.key != null && be.set(We.key, D);
      }
      let ke, Ie = 0;
      const Ee = Z - ge + 1;
      let Be = !1, Ue = 0;
      const lt = new Array(Ee);
      for (D = 0; D < Ee; D++) lt[D] = 0;
      for (D = te; D <= U; D++) {
        const We = p[D];
        if (Ie >= Ee) {
          ye(We, S, F, !0);
          continue;
        }
        let st;
        if (We.key != null)
          st = be.get(We.key);
        else
          for (ke = ge; ke <= Z; ke++)
            if (lt[ke - ge] === 0 && ur(We, _[ke])) {
              st = ke;
              break;
            }
        st === void 0 ? ye(We, S, F, !0) : (lt[st - ge] = D + 1, st >= Ue ? Ue = st : Be = !0, w(
          We,
          _[st],
          A,
          null,
          S,
          F,
          M,
          $,
          N
        ), Ie++);
      }
      const pn = Be ? Yd(lt) : Dn;
      for (ke = pn.length - 1, D = Ee - 1; D >= 0; D--) {
        const We = ge + D, st = _[We], Lt = _[We + 1], gn = We + 1 < V ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Lt.el || Er(Lt)
        ) : P;
        lt[D] === 0 ? w(
          null,
          st,
          A,
          gn,
          S,
          F,
          M,
          $,
          N
        ) : Be && (ke < 0 || D !== pn[ke] ? Ce(st, A, gn, 2) : ke--);
      }
    }
  }, Ce = (p, _, A, P, S = null) => {
    const { el: F, type: M, transition: $, children: N, shapeFlag: D } = p;
    if (D & 6) {
      Ce(p.component.subTree, _, A, P);
      return;
    }
    if (D & 128) {
      p.suspense.move(_, A, P);
      return;
    }
    if (D & 64) {
      M.move(p, _, A, hn);
      return;
    }
    if (M === ie) {
      r(F, _, A);
      for (let U = 0; U < N.length; U++)
        Ce(N[U], _, A, P);
      r(p.anchor, _, A);
      return;
    }
    if (M === bi) {
      k(p, _, A);
      return;
    }
    if (P !== 2 && D & 1 && $)
      if (P === 0)
        $.persisted && !F[mi] ? r(F, _, A) : ($.beforeEnter(F), r(F, _, A), Xe(() => $.enter(F), S));
      else {
        const { leave: U, delayLeave: Z, afterLeave: te } = $, ge = () => {
          p.ctx.isUnmounted ? s(F) : r(F, _, A);
        }, be = () => {
          const ke = F._isLeaving || !!F[mi];
          F._isLeaving && F[mi](
            !0
            /* cancelled */
          ), $.persisted && !ke ? ge() : U(F, () => {
            ge(), te && te();
          });
        };
        Z ? Z(F, ge, be) : be();
      }
    else
      r(F, _, A);
  }, ye = (p, _, A, P = !1, S = !1) => {
    const {
      type: F,
      props: M,
      ref: $,
      children: N,
      dynamicChildren: D,
      shapeFlag: V,
      patchFlag: U,
      dirs: Z,
      cacheIndex: te,
      memo: ge
    } = p;
    if ((U === -2 || D && D.hasOnce) && (S = !1), $ != null && (an(), Ar($, null, A, p, !0), un()), te != null && (!p.ctx || p.ctx === _) && (_.renderCache[te] = void 0), V & 256 && _.ctx.deactivate(p))
      return;
    const be = V & 1 && Z, ke = !Rr(p);
    let Ie;
    if (ke && (Ie = M && M.onVnodeBeforeUnmount) && Rt(Ie, _, p), V & 6)
      E(p.component, A, P);
    else {
      if (V & 128) {
        p.suspense.unmount(A, P);
        return;
      }
      be && bn(p, null, _, "beforeUnmount"), V & 64 ? p.type.remove(
        p,
        _,
        A,
        hn,
        P
      ) : D && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !D.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (F !== ie || U > 0 && U & 64) ? X(
        D,
        _,
        A,
        !1,
        !0
      ) : (F === ie && U & 384 || !S && V & 16) && X(N, _, A), P && G(p);
    }
    const Ee = ge != null && te == null;
    (ke && (Ie = M && M.onVnodeUnmounted) || be || Ee) && Xe(() => {
      Ie && Rt(Ie, _, p), be && bn(p, null, _, "unmounted"), Ee && (p.el = null);
    }, A);
  }, G = (p) => {
    const { type: _, el: A, anchor: P, transition: S } = p, F = _ === ie;
    if (F && !S) {
      T(A, P);
      return;
    }
    if (_ === bi) {
      b(p), S && !S.persisted && S.afterLeave && S.afterLeave();
      return;
    }
    const M = F ? ro(p) : p, $ = () => {
      F ? d(A) && T(A, P) : s(A), S && !S.persisted && S.afterLeave && S.afterLeave();
    };
    if (M && M.shapeFlag & 1 && S && !S.persisted) {
      const { leave: N, delayLeave: D } = S, V = M.el, U = () => N(V, $);
      D ? D(V, $, U) : U();
    } else
      $();
  }, T = (p, _) => {
    let A;
    for (; p !== _; )
      A = m(p), s(p), p = A;
    s(_);
  }, E = (p, _, A) => {
    const { bum: P, scope: S, job: F, subTree: M, um: $, m: N, a: D } = p;
    Al(N), Al(D), P && ds(P), S.stop(), F ? (F.flags |= 8, ye(M, p, _, A)) : M && (M.transition = p.vnode.transition, ye(M, p, _, A)), $ && Xe($, _);
    const V = () => {
      p.isUnmounted = !0;
    };
    V.flags = 16, Xe(V, _);
  }, X = (p, _, A, P = !1, S = !1, F = 0) => {
    for (let M = F; M < p.length; M++)
      ye(p[M], _, A, P, S);
  }, me = (p) => {
    if (p.shapeFlag & 6)
      return me(p.component.subTree);
    if (p.shapeFlag & 128)
      return p.suspense.next();
    const _ = m(p.anchor || p.el), A = _ && _[Ma];
    return A ? m(A) : _;
  }, qr = (p, _, A) => {
    const P = p && _._vnode ? void 0 : p && p.component ? p.component.uid : rh();
    yd(() => {
      p == null ? _._vnode && ye(_._vnode, null, null, !0) : w(
        _._vnode || null,
        p,
        _,
        null,
        null,
        null,
        A
      ), _._vnode = p;
    }, P);
  }, hn = {
    p: w,
    um: ye,
    m: Ce,
    r: G,
    mt: ve,
    mc: ee,
    pc: oe,
    pbc: ue,
    n: me,
    o: e
  };
  return {
    render: qr,
    hydrate: void 0,
    createApp: Od(qr)
  };
}
function yi({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function kn({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function Kd(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function Fo(e, t, n = !1) {
  const r = e.children, s = t.children;
  if (ae(r) && ae(s))
    for (let i = 0; i < r.length; i++) {
      const o = r[i];
      let l = s[i];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = s[i] = Ut(s[i]), l.el = o.el), !n && l.patchFlag !== -2 && Fo(o, l)), l.type === zs && (l.patchFlag === -1 && (l = s[i] = Ut(l)), l.el = o.el), l.type === xt && !l.el && (l.el = o.el);
    }
}
function Yd(e) {
  const t = e.slice(), n = [0];
  let r, s, i, o, l;
  const c = e.length;
  for (r = 0; r < c; r++) {
    const a = e[r];
    if (a !== 0) {
      if (s = n[n.length - 1], e[s] < a) {
        t[r] = s, n.push(r);
        continue;
      }
      for (i = 0, o = n.length - 1; i < o; )
        l = i + o >> 1, e[n[l]] < a ? i = l + 1 : o = l;
      a < e[n[i]] && (i > 0 && (t[r] = n[i - 1]), n[i] = r);
    }
  }
  for (i = n.length, o = n[i - 1]; i-- > 0; )
    n[i] = o, o = t[o];
  return n;
}
function Ga(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : Ga(t);
}
function Al(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function Er(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return Er(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? Er(n.activeBranch) : null;
}
const Ka = (e) => e.__isSuspense, Xd = /* @__PURE__ */ Symbol("_deferredEnter");
function Zd(e, t) {
  t && t.pendingBranch ? ae(e) ? t.effects.push(...e) : t.effects.push(e) : _d(e);
}
const ie = /* @__PURE__ */ Symbol.for("v-fgt"), zs = /* @__PURE__ */ Symbol.for("v-txt"), xt = /* @__PURE__ */ Symbol.for("v-cmt"), bi = /* @__PURE__ */ Symbol.for("v-stc"), Nn = [];
let at = null;
function B(e = !1) {
  Nn.push(at = e ? null : []);
}
function Ya() {
  Nn.pop(), at = Nn[Nn.length - 1] || null;
}
let Ir = 1;
function Rl(e, t = !1) {
  Ir += e, e < 0 && at && t && (at.hasOnce = !0);
}
function Xa(e) {
  return e.dynamicChildren = Ir > 0 ? at || Dn : null, Ya(), Ir > 0 && at && at.push(e), e;
}
function W(e, t, n, r, s, i) {
  return Xa(
    q(
      e,
      t,
      n,
      r,
      s,
      i,
      !0
    )
  );
}
function hs(e, t, n, r, s) {
  return Xa(
    Ht(
      e,
      t,
      n,
      r,
      s,
      !0
    )
  );
}
function Io(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function ur(e, t) {
  return e.type === t.type && e.key === t.key;
}
const Za = ({ key: e }) => e ?? null, ps = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? je(e) || /* @__PURE__ */ rt(e) || Se(e) ? { i: dt, r: e, k: t, f: !!n } : e : null);
function q(e, t = null, n = null, r = 0, s = null, i = e === ie ? 0 : 1, o = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && Za(t),
    ref: t && ps(t),
    scopeId: Na,
    slotScopeIds: null,
    children: n,
    component: null,
    suspense: null,
    ssContent: null,
    ssFallback: null,
    dirs: null,
    transition: null,
    el: null,
    anchor: null,
    target: null,
    targetStart: null,
    targetAnchor: null,
    staticCount: 0,
    shapeFlag: i,
    patchFlag: r,
    dynamicProps: s,
    dynamicChildren: null,
    appContext: null,
    ctx: dt
  };
  return l ? (xs(c, n), i & 128 && e.normalize(c)) : n && (c.shapeFlag |= je(n) ? 8 : 16), Ir > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  at && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || i & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && at.push(c), c;
}
const Ht = Qd;
function Qd(e, t = null, n = null, r = 0, s = null, i = !1) {
  if ((!e || e === Td) && (e = xt), Io(e)) {
    const l = er(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && xs(l, n), Ir > 0 && !i && at && (l.shapeFlag & 6 ? at[at.indexOf(e)] = l : at.push(l)), l.patchFlag = -2, l;
  }
  if (uh(e) && (e = e.__vccOpts), t) {
    t = eh(t);
    let { class: l, style: c } = t;
    l && !je(l) && (t.class = it(l)), Ne(c) && (/* @__PURE__ */ Eo(c) && !ae(c) && (c = pt({}, c)), t.style = Sr(c));
  }
  const o = je(e) ? 1 : Ka(e) ? 128 : $s(e) ? 64 : Ne(e) ? 4 : Se(e) ? 2 : 0;
  return q(
    e,
    t,
    n,
    r,
    s,
    o,
    i,
    !0
  );
}
function eh(e) {
  return e ? /* @__PURE__ */ Eo(e) ? pt({}, e) : Wa(e) ? pt({}, e[ru] || e) : e : null;
}
function er(e, t, n = !1, r = !1) {
  const { props: s, ref: i, patchFlag: o, children: l, transition: c } = e, a = t ? th(s || {}, t) : s, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: a,
    key: a && Za(a),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && i ? ae(i) ? i.concat(ps(t)) : [i, ps(t)] : ps(t)
    ) : i,
    scopeId: e.scopeId,
    slotScopeIds: e.slotScopeIds,
    children: l,
    target: e.target,
    targetStart: e.targetStart,
    targetAnchor: e.targetAnchor,
    staticCount: e.staticCount,
    shapeFlag: e.shapeFlag,
    // if the vnode is cloned with extra props, we can no longer assume its
    // existing patch flag to be reliable and need to add the FULL_PROPS flag.
    // note: preserve flag for fragments since they use the flag for children
    // fast paths only.
    patchFlag: t && e.type !== ie ? o === -1 ? 16 : o | 16 : o,
    dynamicProps: e.dynamicProps,
    dynamicChildren: e.dynamicChildren,
    appContext: e.appContext,
    dirs: e.dirs,
    transition: c,
    // These should technically only be non-null on mounted VNodes. However,
    // they *should* be copied for kept-alive vnodes. So we just always copy
    // them since them being non-null during a mount doesn't affect the logic as
    // they will simply be overwritten.
    component: e.component,
    suspense: e.suspense,
    ssContent: e.ssContent && er(e.ssContent),
    ssFallback: e.ssFallback && er(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return c && r && vr(
    u,
    c.clone(u)
  ), u;
}
function he(e = " ", t = 0) {
  return Ht(zs, null, e, t);
}
function de(e = "", t = !1) {
  return t ? (B(), hs(xt, null, e)) : Ht(xt, null, e);
}
function St(e) {
  return e == null || typeof e == "boolean" ? Ht(xt) : ae(e) ? Ht(
    ie,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : Io(e) ? Ut(e) : Ht(zs, null, String(e));
}
function Ut(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : er(e);
}
function xs(e, t) {
  let n = 0;
  const { shapeFlag: r } = e;
  if (t == null)
    t = null;
  else if (ae(t))
    n = 16;
  else if (typeof t == "object")
    if (r & 65) {
      const s = t.default;
      s && (s._c && (s._d = !1), xs(e, s()), s._c && (s._d = !0));
      return;
    } else {
      n = 32;
      const s = t._;
      !s && !Wa(t) ? t._ctx = dt : s === 3 && dt && (dt.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (Se(t)) {
    if (r & 65) {
      xs(e, { default: t });
      return;
    }
    t = { default: t, _ctx: dt }, n = 32;
  } else
    t = String(t), r & 64 ? (n = 16, t = [he(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function th(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const r = e[n];
    for (const s in r)
      if (s === "class")
        t.class !== r.class && (t.class = it([t.class, r.class]));
      else if (s === "style")
        t.style = Sr([t.style, r.style]);
      else if (Os(s)) {
        const i = t[s], o = r[s];
        o && i !== o && !(ae(i) && i.includes(o)) ? t[s] = i ? [].concat(i, o) : o : o == null && i == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !Ns(s) && (t[s] = o);
      } else s !== "" && (t[s] = r[s]);
  }
  return t;
}
function Rt(e, t, n, r = null) {
  Gt(e, t, 7, [
    n,
    r
  ]);
}
const nh = /* @__PURE__ */ ja();
let Qa = 0;
function rh() {
  return Qa;
}
function sh(e, t, n) {
  const r = e.type, s = (t ? t.appContext : e.appContext) || nh, i = {
    uid: Qa++,
    vnode: e,
    type: r,
    parent: t,
    appContext: s,
    root: null,
    // to be immediately set
    next: null,
    subTree: null,
    // will be set synchronously right after creation
    effect: null,
    update: null,
    // will be set synchronously right after creation
    job: null,
    scope: new Uf(
      !0
      /* detached */
    ),
    render: null,
    proxy: null,
    exposed: null,
    exposeProxy: null,
    withProxy: null,
    provides: t ? t.provides : Object.create(s.provides),
    ids: t ? t.ids : ["", 0, 0],
    accessCache: null,
    renderCache: [],
    // local resolved assets
    components: null,
    directives: null,
    // resolved props and emits options
    propsOptions: Wd(r, s),
    emitsOptions: Ld(r, s),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: Oe,
    // inheritAttrs
    inheritAttrs: r.inheritAttrs,
    // state
    ctx: Oe,
    data: Oe,
    props: Oe,
    attrs: Oe,
    slots: Oe,
    refs: Oe,
    setupState: Oe,
    setupContext: null,
    // suspense related
    suspense: n,
    suspenseId: n ? n.pendingId : 0,
    asyncDep: null,
    asyncResolved: !1,
    // lifecycle hooks
    // not using enums here because it results in computed properties
    isMounted: !1,
    isUnmounted: !1,
    isDeactivated: !1,
    bc: null,
    c: null,
    bm: null,
    m: null,
    bu: null,
    u: null,
    um: null,
    bum: null,
    da: null,
    a: null,
    rtg: null,
    rtc: null,
    ec: null,
    sp: null
  };
  return i.ctx = { _: i }, i.root = t ? t.root : i, i.emit = Md.bind(null, i), e.ce && e.ce(i), i;
}
let tr = null;
const ih = () => tr || dt;
let vs, Or;
{
  const e = Ls(), t = (n, r) => {
    let s;
    return (s = e[n]) || (s = e[n] = []), s.push(r), (i) => {
      s.length > 1 ? s.forEach((o) => o(i)) : s[0](i);
    };
  };
  vs = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => tr = n
  ), Or = t(
    "__VUE_SSR_SETTERS__",
    (n) => As = n
  );
}
const eu = (e) => {
  const t = tr;
  return vs(e), e.scope.on(), () => {
    e.scope.off(), vs(t);
  };
}, Cl = () => {
  tr && tr.scope.off(), vs(null);
};
function tu(e) {
  return e.vnode.shapeFlag & 4;
}
let As = !1;
function oh(e, t = !1, n = !1) {
  t && Or(t);
  const { props: r, children: s } = e.vnode, i = tu(e);
  zd(e, r, i, t), qd(e, s, n || t);
  const o = i ? lh(e, t) : void 0;
  return t && Or(!1), o;
}
function lh(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Fd);
  const { setup: r } = n;
  if (r) {
    an();
    const s = e.setupContext = r.length > 1 ? ah(e) : null, i = eu(e), o = Wr(
      r,
      e,
      0,
      [
        e.props,
        s
      ]
    ), l = ia(o);
    if (un(), i(), (l || e.sp) && !Rr(e) && Dd(e), l) {
      if (o.then(Cl, Cl), t)
        return o.then((c) => {
          Or(!0);
          try {
            El(e, c, t);
          } finally {
            Or(!1);
          }
        }).catch((c) => {
          js(c, e, 0, void 0, !0), e.ssrRender = (a, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      El(e, o);
  } else
    nu(e);
}
function El(e, t, n) {
  Se(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : Ne(t) && (e.setupState = Sa(t)), nu(e);
}
function nu(e, t, n) {
  const r = e.type;
  e.render || (e.render = r.render || In);
}
const ru = /* @__PURE__ */ Symbol(), ch = {
  get(e, t) {
    return Qe(e, "get", ""), t === ru ? e : e[t];
  }
};
function ah(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, ch),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function Us(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(Sa(ld(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in Cr)
        return Cr[n](e);
    },
    has(t, n) {
      return n in t || n in Cr;
    }
  })) : e.proxy;
}
function uh(e) {
  return Se(e) && "__vccOpts" in e;
}
const Je = (e, t) => /* @__PURE__ */ dd(e, t, As), fh = "3.5.45";
let oo;
const Sl = typeof window < "u" && window.trustedTypes;
if (Sl)
  try {
    oo = /* @__PURE__ */ Sl.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const su = oo ? (e) => oo.createHTML(e) : (e) => e, dh = "http://www.w3.org/2000/svg", hh = "http://www.w3.org/1998/Math/MathML", zt = typeof document < "u" ? document : null, Dl = zt && /* @__PURE__ */ zt.createElement("template"), ph = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, r) => {
    const s = t === "svg" ? zt.createElementNS(dh, e) : t === "mathml" ? zt.createElementNS(hh, e) : n ? zt.createElement(e, { is: n }) : zt.createElement(e);
    return e === "select" && r && r.multiple != null && s.setAttribute("multiple", r.multiple), s;
  },
  createText: (e) => zt.createTextNode(e),
  createComment: (e) => zt.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => zt.querySelector(e),
  setScopeId(e, t) {
    e.setAttribute(t, "");
  },
  // __UNSAFE__
  // Reason: innerHTML.
  // Static content here can only come from compiled templates.
  // As long as the user only uses trusted templates, this is safe.
  insertStaticContent(e, t, n, r, s, i) {
    const o = n ? n.previousSibling : t.lastChild;
    if (s && (s === i || s.nextSibling))
      for (; t.insertBefore(s.cloneNode(!0), n), !(s === i || !(s = s.nextSibling)); )
        ;
    else {
      Dl.innerHTML = su(
        r === "svg" ? `<svg>${e}</svg>` : r === "mathml" ? `<math>${e}</math>` : e
      );
      const l = Dl.content;
      if (r === "svg" || r === "mathml") {
        const c = l.firstChild;
        for (; c.firstChild; )
          l.appendChild(c.firstChild);
        l.removeChild(c);
      }
      t.insertBefore(l, n);
    }
    return [
      // first
      o ? o.nextSibling : t.firstChild,
      // last
      n ? n.previousSibling : t.lastChild
    ];
  }
}, gh = /* @__PURE__ */ Symbol("_vtc");
function mh(e, t, n) {
  const r = e[gh];
  r && (t = (t ? [t, ...r] : [...r]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const Tl = /* @__PURE__ */ Symbol("_vod"), _h = /* @__PURE__ */ Symbol("_vsh"), yh = /* @__PURE__ */ Symbol(""), bh = /(?:^|;)\s*display\s*:/;
function kh(e, t, n) {
  const r = e.style, s = je(n);
  let i = !1;
  if (n && !s) {
    if (t)
      if (je(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && _r(r, l, "");
        }
      else
        for (const o in t)
          n[o] == null && _r(r, o, "");
    for (const o in n) {
      o === "display" && (i = !0);
      const l = n[o];
      l != null ? xh(
        e,
        o,
        !je(t) && t ? t[o] : void 0,
        l
      ) || _r(r, o, l) : _r(r, o, "");
    }
  } else if (s) {
    if (t !== n) {
      const o = r[yh];
      o && (n += ";" + o), r.cssText = n, i = bh.test(n);
    }
  } else t && e.removeAttribute("style");
  Tl in e && ((!s || t !== n) && (e[Tl] = i ? r.display : ""), e[_h] && (r.display = "none"));
}
const rs = /\s*!important$/;
function _r(e, t, n) {
  if (ae(n))
    n.forEach((r) => _r(e, t, r));
  else if (n == null && (n = ""), t.startsWith("--"))
    rs.test(n) ? e.setProperty(t, n.replace(rs, ""), "important") : e.setProperty(t, n);
  else {
    const r = wh(e, t);
    rs.test(n) ? e.setProperty(
      jn(r),
      n.replace(rs, ""),
      "important"
    ) : e[r] = n;
  }
}
const Fl = ["Webkit", "Moz", "ms"], ki = {};
function wh(e, t) {
  const n = ki[t];
  if (n)
    return n;
  let r = kt(t);
  if (r !== "filter" && r in e)
    return ki[t] = r;
  r = ca(r);
  for (let s = 0; s < Fl.length; s++) {
    const i = Fl[s] + r;
    if (i in e)
      return ki[t] = i;
  }
  return t;
}
function xh(e, t, n, r) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && je(r) && n === r;
}
const Il = "http://www.w3.org/1999/xlink";
function Ol(e, t, n, r, s, i = jf(t)) {
  r && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(Il, t.slice(6, t.length)) : e.setAttributeNS(Il, t, n) : n == null || i && !ua(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    i ? "" : It(n) ? String(n) : n
  );
}
function Nl(e, t, n, r, s) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? su(n) : n);
    return;
  }
  const i = e.tagName;
  if (t === "value" && i !== "PROGRESS" && // custom elements may use _value internally
  !i.includes("-")) {
    const l = i === "OPTION" ? e.getAttribute("value") || "" : e.value, c = n == null ? (
      // #11647: value should be set as empty string for null and undefined,
      // but <input type="checkbox"> should be set as 'on'.
      e.type === "checkbox" ? "on" : ""
    ) : String(n);
    (l !== c || !("_value" in e)) && (e.value = c), n == null && e.removeAttribute(t), e._value = n;
    return;
  }
  let o = !1;
  if (n === "" || n == null) {
    const l = typeof e[t];
    l === "boolean" ? n = ua(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  o && e.removeAttribute(s || t);
}
function Sn(e, t, n, r) {
  e.addEventListener(t, n, r);
}
function vh(e, t, n, r) {
  e.removeEventListener(t, n, r);
}
const Ml = /* @__PURE__ */ Symbol("_vei");
function Ah(e, t, n, r, s = null) {
  const i = e[Ml] || (e[Ml] = {}), o = i[t];
  if (r && o)
    o.value = r;
  else {
    const [l, c] = Eh(t);
    if (r) {
      const a = i[t] = Th(
        r,
        s
      );
      Sn(e, l, a, c);
    } else o && (vh(e, l, o, c), i[t] = void 0);
  }
}
const Rh = /(Once|Passive|Capture)$/, Ch = /^on:?(?:Once|Passive|Capture)$/;
function Eh(e) {
  let t, n;
  for (; (n = e.match(Rh)) && !Ch.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : jn(e.slice(2)), t];
}
let wi = 0;
const Sh = /* @__PURE__ */ Promise.resolve(), Dh = () => wi || (Sh.then(() => wi = 0), wi = Date.now());
function Th(e, t) {
  const n = (r) => {
    if (!r._vts)
      r._vts = Date.now();
    else if (r._vts <= n.attached)
      return;
    const s = n.value;
    if (ae(s)) {
      const i = r.stopImmediatePropagation;
      r.stopImmediatePropagation = () => {
        i.call(r), r._stopped = !0;
      };
      const o = s.slice(), l = [r];
      for (let c = 0; c < o.length && !r._stopped; c++) {
        const a = o[c];
        a && Gt(
          a,
          t,
          5,
          l
        );
      }
    } else
      Gt(
        s,
        t,
        5,
        [r]
      );
  };
  return n.value = e, n.attached = Dh(), n;
}
const Ll = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Fh = (e, t, n, r, s, i) => {
  const o = s === "svg";
  t === "class" ? mh(e, r, o) : t === "style" ? kh(e, n, r) : Os(t) ? Ns(t) || Ah(e, t, n, r, i) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : Ih(e, t, r, o)) ? (Nl(e, t, r), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && Ol(e, t, r, o, i, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Oh(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !je(r))) ? Nl(e, kt(t), r, i, t) : (t === "true-value" ? e._trueValue = r : t === "false-value" && (e._falseValue = r), Ol(e, t, r, o));
};
function Ih(e, t, n, r) {
  if (r)
    return !!(t === "innerHTML" || t === "textContent" || t in e && Ll(t) && Se(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const s = e.tagName;
    if (s === "IMG" || s === "VIDEO" || s === "CANVAS" || s === "SOURCE")
      return !1;
  }
  return Ll(t) && je(n) ? !1 : t in e;
}
function Oh(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const r = kt(t);
  return Array.isArray(n) ? n.some((s) => kt(s) === r) : Object.keys(n).some((s) => kt(s) === r);
}
const Rs = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return ae(t) ? (n) => ds(t, n) : t;
};
function Nh(e) {
  e.target.composing = !0;
}
function Pl(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const Tn = /* @__PURE__ */ Symbol("_assign"), ss = /* @__PURE__ */ Symbol("_initialValue");
function xi(e, t, n) {
  return t && (e = e.trim()), n && (e = Ur(e)), e;
}
const qn = {
  created(e, { modifiers: { lazy: t, trim: n, number: r } }, s) {
    e.parentNode && (e.type === "text" ? e[ss] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[ss] = e.defaultValue.replace(/\r\n?/g, `
`))), e[Tn] = Rs(s);
    const i = r || s.props && s.props.type === "number";
    Sn(e, t ? "change" : "input", (o) => {
      o.target.composing || e[Tn](xi(e.value, n, i));
    }), (n || i) && Sn(e, "change", () => {
      e.value = xi(e.value, n, i);
    }), t || (Sn(e, "compositionstart", Nh), Sn(e, "compositionend", Pl), Sn(e, "change", Pl));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: r } }) {
    const s = t ?? "", i = e[ss];
    delete e[ss], i !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== i ? e[Tn](xi(e.value, n, r)) : e.value = s;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: r, trim: s, number: i } }, o) {
    if (e[Tn] = Rs(o), e.composing) return;
    const l = (i || e.type === "number") && !/^0\d/.test(e.value) ? Ur(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const a = e.getRootNode();
    (a instanceof Document || a instanceof ShadowRoot) && a.activeElement === e && e.type !== "range" && (r && t === n || s && e.value.trim() === c) || (e.value = c);
  }
}, Mh = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, r) {
    e._modelValue = t, Sn(e, "change", () => {
      const s = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? Ur(Cs(c)) : Cs(c)
      ), i = e.multiple, o = i ? Pn(e._modelValue) ? new Set(s) : s : s[0], l = e._pendingValue = [
        i,
        i ? ae(o) ? s.slice() : s : o
      ];
      try {
        e[Tn](o);
      } finally {
        xr(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[Tn] = Rs(r);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    jl(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[Tn] = Rs(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const r = e._pendingValue;
    e._pendingValue = void 0, (!r || r[0] !== e.multiple || !Lh(t, r[1], r[0])) && jl(e, t, n);
  }
};
function Lh(e, t, n) {
  if (!n || ae(e)) return cn(e, t);
  if (Pn(e)) {
    if (e.size !== t.length) return !1;
    for (const r of t)
      if (!e.has(r)) return !1;
    return !0;
  }
  return !1;
}
function jl(e, t, n = !1) {
  const r = e.multiple, s = ae(t);
  if (!(r && !s && !Pn(t))) {
    for (let i = 0, o = e.options.length; i < o; i++) {
      const l = e.options[i], c = Cs(l);
      if (r)
        if (s) {
          const a = typeof c;
          a === "string" || a === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = zf(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(Ur(c));
      else if (cn(Cs(l), t)) {
        e.selectedIndex !== i && (e.selectedIndex = i);
        return;
      }
    }
    !r && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function Cs(e) {
  return "_value" in e ? e._value : e.value;
}
const Ph = ["ctrl", "shift", "alt", "meta"], jh = {
  stop: (e) => e.stopPropagation(),
  prevent: (e) => e.preventDefault(),
  self: (e) => e.target !== e.currentTarget,
  ctrl: (e) => !e.ctrlKey,
  shift: (e) => !e.shiftKey,
  alt: (e) => !e.altKey,
  meta: (e) => !e.metaKey,
  left: (e) => "button" in e && e.button !== 0,
  middle: (e) => "button" in e && e.button !== 1,
  right: (e) => "button" in e && e.button !== 2,
  exact: (e, t) => Ph.some((n) => e[`${n}Key`] && !t.includes(n))
}, Rn = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), r = t.join(".");
  return n[r] || (n[r] = ((s, ...i) => {
    for (let o = 0; o < t.length; o++) {
      const l = jh[t[o]];
      if (l && l(s, t)) return;
    }
    return e(s, ...i);
  }));
}, $h = /* @__PURE__ */ pt({ patchProp: Fh }, ph);
let $l;
function Bh() {
  return $l || ($l = Vd($h));
}
const zh = ((...e) => {
  const t = Bh().createApp(...e), { mount: n } = t;
  return t.mount = (r) => {
    const s = Wh(r);
    if (!s) return;
    const i = t._component;
    !Se(i) && !i.render && !i.template && (i.template = s.innerHTML), s.nodeType === 1 && (s.textContent = "");
    const o = n(s, !1, Uh(s));
    return s instanceof Element && (s.removeAttribute("v-cloak"), s.setAttribute("data-v-app", "")), o;
  }, t;
});
function Uh(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function Wh(e) {
  return je(e) ? document.querySelector(e) : e;
}
const Jh = "/comfyd/connection";
function qh(e, t) {
  if (!e || typeof e != "object") throw new Error("no connection info");
  if (e.status && e.status !== "ready") throw new Error(e.error || `comfyd is ${e.status}`);
  const n = e.token;
  if (typeof n != "string" || !/^[\x21-\x7e]{1,512}$/.test(n)) throw new Error("no bridge token");
  let r;
  try {
    r = new URL(String(e.bridge_url));
  } catch {
    throw new Error("bad bridge_url");
  }
  if (r.protocol !== "http:" && r.protocol !== "https:") throw new Error("bad bridge_url scheme");
  const s = /* @__PURE__ */ new Set(["127.0.0.1", "localhost", "[::1]"]);
  return t && s.has(r.hostname) && s.has(t.hostname) && (r.hostname = t.hostname), { wsBase: `${r.protocol === "https:" ? "wss:" : "ws:"}//${r.host}`, token: n, bridgeUrl: r.origin };
}
const Hh = "comfyd", Vh = "comfyd.token.", Gh = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function iu(e) {
  return Gh.test(e.token);
}
function ou(e, t) {
  return iu(e) ? `${e.wsBase}${t}` : `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
function lu(e) {
  return iu(e) ? [Hh, Vh + e.token] : [];
}
class Kh {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(Jh).then(
      (t) => qh(t, this.location),
      (t) => {
        throw this.pending = null, t;
      }
    ), this.pending.catch(() => {
      this.pending = null;
    })), this.pending;
  }
  invalidate() {
    this.pending = null;
  }
}
function lo(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const Mn = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function Vt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (Mn(e).find((r) => String(r.id) === String(t)) ?? null);
}
function Yh(e, t) {
  if (t == null) return null;
  const n = e.links ?? e._links;
  return n ? typeof n.get == "function" ? n.get(t) ?? null : n[t] ?? null : null;
}
function Bl(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function Xh(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function Zh(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function Qh(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function ep(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function Fn(e) {
  if (!e || typeof e != "object") return "";
  const { extra: t, nodes: n, ...r } = e;
  let s = t;
  if (s && typeof s == "object" && "ds" in s) {
    const { ds: o, ...l } = s;
    s = l;
  }
  if (s && typeof s == "object" && s.comfyd && typeof s.comfyd == "object" && "provenance" in s.comfyd) {
    const { provenance: o, ...l } = s.comfyd, { comfyd: c, ...a } = s;
    s = Object.keys(l).length ? { ...a, comfyd: l } : a;
  }
  const i = Array.isArray(n) ? n.map((o) => {
    if (!o || typeof o != "object") return o;
    const { order: l, ...c } = o;
    return c;
  }) : n;
  return JSON.stringify({ ...r, nodes: i, extra: s ?? null });
}
function tp(e, t) {
  if (!e || typeof t != "string" || !t) return !1;
  let n;
  try {
    n = JSON.parse(t);
  } catch {
    return !1;
  }
  if (!n || typeof n != "object" || Array.isArray(n)) return !1;
  (!e.extra || typeof e.extra != "object") && (e.extra = {});
  const r = e.extra.comfyd && typeof e.extra.comfyd == "object" ? e.extra.comfyd : {};
  return e.extra.comfyd = { ...r, provenance: n }, !0;
}
function Kn(e, t, n = 3) {
  const r = String(e).toLowerCase(), s = [];
  for (const i of t) {
    const o = String(i).toLowerCase();
    let l = np(r, o);
    (o.includes(r) || r.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(r.length / 3)) && s.push([l, i]);
  }
  return s.sort((i, o) => i[0] - o[0] || String(i[1]).localeCompare(String(o[1]))), s.slice(0, n).map((i) => i[1]);
}
const zl = 128;
function np(e, t) {
  if (e.length > zl || t.length > zl) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (r, s) => s);
  for (let r = 1; r <= e.length; r++) {
    const s = [r];
    for (let i = 1; i <= t.length; i++)
      s[i] = Math.min(n[i] + 1, s[i - 1] + 1, n[i - 1] + (e[r - 1] === t[i - 1] ? 0 : 1));
    n = s;
  }
  return n[t.length];
}
const Kt = Object.freeze({
  // Gap between columns and between the nodes of a column.
  spacing: 60,
  // The largest spacing a command may ask for (ArrangeCommand.spacing).
  maxSpacing: 1e4,
  // LiteGraph draws a node's title above node.pos; its height when the
  // LiteGraph in use does not say.
  titleHeight: 30,
  // Barycenter sweeps (each one down and one up): real graphs settle in 2-3.
  sweeps: 4,
  // Where a node goes on an empty canvas without a view.
  origin: [100, 100]
}), Es = (e, t) => e < t ? -1 : e > t ? 1 : 0;
function cu(e, t, n = {}) {
  const r = n.x ?? 0, s = n.y ?? 0, i = n.spacing ?? Kt.spacing, o = e.length, l = /* @__PURE__ */ new Map();
  e.forEach((J, oe) => l.set(J.id, oe));
  const c = Array.from({ length: o }, () => []), a = Array.from({ length: o }, () => []), u = /* @__PURE__ */ new Set();
  for (const [J, oe] of t) {
    const le = l.get(J), _e = l.get(oe);
    if (le === void 0 || _e === void 0 || le === _e) continue;
    const Ce = le * o + _e;
    u.has(Ce) || (u.add(Ce), c[le].push(_e), a[_e].push(le));
  }
  const d = new Uint8Array(o), m = /* @__PURE__ */ new Set();
  for (let J = 0; J < o; J++) {
    if (d[J]) continue;
    const oe = [[J, 0]];
    for (d[J] = 1; oe.length; ) {
      const le = oe[oe.length - 1], [_e, Ce] = le;
      if (Ce < c[_e].length) {
        le[1]++;
        const ye = c[_e][Ce];
        d[ye] === 1 ? m.add(_e * o + ye) : d[ye] === 0 && (d[ye] = 1, oe.push([ye, 0]));
      } else
        d[_e] = 2, oe.pop();
    }
  }
  const g = (J, oe) => !m.has(J * o + oe), h = a.map((J, oe) => J.filter((le) => g(le, oe))), w = c.map((J, oe) => J.filter((le) => g(oe, le))), v = h.map((J) => J.length), C = [], x = [];
  for (let J = 0; J < o; J++) v[J] || x.push(J);
  for (let J = 0; J < x.length; J++) {
    const oe = x[J];
    C.push(oe);
    for (const le of w[oe]) --v[le] === 0 && x.push(le);
  }
  const k = new Int32Array(o);
  for (const J of C) for (const oe of w[J]) k[oe] = Math.max(k[oe], k[J] + 1);
  for (const J of C) {
    if (h[J].length || !w[J].length) continue;
    let oe = 1 / 0;
    for (const le of w[J]) oe = Math.min(oe, k[le]);
    k[J] = Math.max(0, oe - 1);
  }
  let b = 0;
  for (let J = 0; J < o; J++) b = Math.max(b, k[J] + 1);
  const O = Array.from({ length: b }, () => []);
  for (let J = 0; J < o; J++) O[k[J]].push(J);
  const z = new Float64Array(o), j = () => {
    for (const J of O) J.forEach((oe, le) => z[oe] = J.length > 1 ? le / (J.length - 1) : 0.5);
  };
  j();
  const ee = (J, oe) => {
    const le = J.map((_e, Ce) => {
      const ye = oe[_e];
      let G = z[_e];
      if (ye.length) {
        let T = 0;
        for (const E of ye) T += z[E];
        G = T / ye.length;
      }
      return [G, Ce, _e];
    });
    return le.sort((_e, Ce) => Es(_e[0], Ce[0]) || _e[1] - Ce[1]), le.map((_e) => _e[2]);
  };
  let Y = O.map((J) => J.slice()), ue = Ul(O, w, k, o);
  for (let J = 0; J < Kt.sweeps && ue > 0; J++) {
    for (let le = 1; le < b; le++)
      O[le] = ee(O[le], h), j();
    for (let le = b - 2; le >= 0; le--)
      O[le] = ee(O[le], w), j();
    const oe = Ul(O, w, k, o);
    oe < ue && (ue = oe, Y = O.map((le) => le.slice()));
  }
  const ne = new Float64Array(o), pe = new Float64Array(o);
  let Fe = r, ve = s;
  for (let J = 0; J < b; J++) {
    let oe = 0, le = s;
    for (const _e of Y[J]) {
      const Ce = e[_e];
      let ye = le;
      if (h[_e].length) {
        let G = 0;
        for (const T of h[_e]) G += pe[T] + e[T].h / 2;
        ye = Math.max(le, G / h[_e].length - Ce.h / 2);
      }
      ne[_e] = Fe, pe[_e] = ye, le = ye + Ce.h + i, oe = Math.max(oe, Ce.w), ve = Math.max(ve, ye + Ce.h);
    }
    Fe += oe + i;
  }
  const Re = /* @__PURE__ */ new Map(), ut = /* @__PURE__ */ new Map();
  for (let J = 0; J < o; J++)
    Re.set(e[J].id, [ne[J], pe[J]]), ut.set(e[J].id, k[J]);
  return { pos: Re, layer: ut, width: b ? Fe - i - r : 0, height: ve - s };
}
function Ul(e, t, n, r) {
  const s = new Float64Array(r);
  for (const l of e) l.forEach((c, a) => s[c] = a);
  const i = /* @__PURE__ */ new Map();
  for (let l = 0; l < r; l++)
    for (const c of t[l]) {
      const a = n[l] * 65536 + n[c];
      let u = i.get(a);
      u || i.set(a, u = []), u.push([s[l], s[c]]);
    }
  let o = 0;
  for (const l of i.values())
    l.sort((c, a) => c[0] - a[0] || c[1] - a[1]), o += co(l.map((c) => c[1]));
  return o;
}
function co(e) {
  if (e.length < 2) return 0;
  const t = e.length >> 1, n = e.slice(0, t), r = e.slice(t);
  let s = co(n) + co(r), i = 0, o = 0, l = 0;
  for (; i < n.length && o < r.length; )
    n[i] <= r[o] ? e[l++] = n[i++] : (e[l++] = r[o++], s += n.length - i);
  for (; i < n.length; ) e[l++] = n[i++];
  for (; o < r.length; ) e[l++] = r[o++];
  return s;
}
function rp(e, t, n = 0) {
  return e.x < t.x + t.w + n && t.x < e.x + e.w + n && e.y < t.y + t.h + n && t.y < e.y + e.h + n;
}
function au(e, t, n = Kt.spacing) {
  const r = n / 2, s = t.filter((o) => e.x < o.x + o.w + r && o.x < e.x + e.w + r);
  s.sort((o, l) => o.y - l.y || o.x - l.x);
  let i = e.y;
  for (const o of s) i < o.y + o.h + r && o.y < i + e.h + r && (i = o.y + o.h + n);
  return i;
}
function Oo(e) {
  const t = e?.NODE_TITLE_HEIGHT;
  return typeof t == "number" && Number.isFinite(t) && t >= 0 ? t : Kt.titleHeight;
}
function Ss(e, t) {
  const n = Oo(t), r = Number(e.size?.[0]), s = Number(e.size?.[1]), i = !!e.flags?.collapsed;
  return {
    id: e.id,
    x: Number(e.pos?.[0]) || 0,
    y: (Number(e.pos?.[1]) || 0) - n,
    w: Number.isFinite(r) && r > 0 ? r : 200,
    h: i ? n : (Number.isFinite(s) && s > 0 ? s : 100) + n
  };
}
function uu(e) {
  const t = [];
  for (const n of Mn(e))
    for (const r of n.inputs ?? []) {
      if (r?.link === null || r?.link === void 0) continue;
      const s = Yh(e, r.link);
      if (!s) continue;
      const i = s.origin_id ?? s[1];
      i != null && t.push([s.id ?? s[0], i, n.id]);
    }
  return t.sort((n, r) => Es(Number(n[0]), Number(r[0]))), t.map(([, n, r]) => [n, r]);
}
const sp = (e, t) => Es(Number(e.id), Number(t.id)) || Es(String(e.id), String(t.id));
function fu(e, t, n, r) {
  const s = [Math.round(t), Math.round(n + r)];
  e.pos && typeof e.pos.length == "number" && e.pos.length >= 2 ? (e.pos[0] = s[0], e.pos[1] = s[1]) : e.pos = s;
}
function ip(e, t, n = {}) {
  const r = n.LiteGraph, s = Oo(r), i = n.spacing ?? Kt.spacing, o = n.exclude ?? (() => !1);
  let l;
  if (t && t.length) {
    const k = new Set(t.map(String));
    l = Mn(e).filter((b) => k.has(String(b.id)));
  } else l = Mn(e).filter((k) => !o(k));
  if (!l.length) return [];
  const c = new Set(l.map((k) => String(k.id))), a = l.map((k) => Ss(k, r));
  a.sort((k, b) => k.y - b.y || k.x - b.x || sp(k, b));
  const u = n.x ?? Math.min(...a.map((k) => k.x)), d = n.y ?? Math.min(...a.map((k) => k.y)), m = uu(e).filter(([k, b]) => c.has(String(k)) && c.has(String(b))), { pos: g, layer: h } = cu(a, m, { x: u, y: d, spacing: i }), w = new Set([...n.ignore ?? []].map(String)), v = Mn(e).filter((k) => !c.has(String(k.id)) && !w.has(String(k.id))).map((k) => Ss(k, r)), C = a.slice().sort((k, b) => h.get(k.id) - h.get(b.id) || g.get(k.id)[1] - g.get(b.id)[1]), x = [];
  for (const k of C) {
    const [b, O] = g.get(k.id), z = { ...k, x: b, y: O };
    v.length && (z.y = au(z, v.concat(x), i)), x.push(z), fu(Vt(e, k.id), z.x, z.y, s);
  }
  return C.map((k) => k.id);
}
function op(e, t, n = {}) {
  const r = n.LiteGraph, s = Oo(r), i = n.spacing ?? Kt.spacing, o = new Set(t.map(String)), l = t.map((x) => Vt(e, x)).filter(Boolean);
  if (!l.length) return [];
  const c = l.map((x) => Ss(x, r)), a = Mn(e).filter((x) => !o.has(String(x.id))).map((x) => Ss(x, r)), u = new Map(a.map((x) => [String(x.id), x])), d = uu(e), m = d.filter(([x, k]) => o.has(String(x)) && o.has(String(k))), g = cu(c, m, { x: 0, y: 0, spacing: i });
  let h = -1 / 0, w = 1 / 0;
  for (const [x, k] of d) {
    const b = u.get(String(x));
    !b || !o.has(String(k)) || (h = Math.max(h, b.x + b.w + i - g.pos.get(k)[0]), w = Math.min(w, b.y));
  }
  if (h === -1 / 0) {
    const x = lp(a), k = Array.isArray(n.view) && n.view.length === 4 && n.view.every(Number.isFinite) ? n.view : null;
    let b = null;
    if (k) {
      b = [k[0] + Math.max(i, (k[2] - g.width) / 2), k[1] + Math.max(i, (k[3] - g.height) / 2)];
      const O = { x: b[0], y: b[1], w: g.width, h: g.height };
      a.some((z) => rp(O, z, i / 2)) && (b = null);
    }
    b || (b = x ? [x.x + x.w + i, x.y] : k ? [k[0] + k[2] / 4, k[1] + k[3] / 4] : Kt.origin), [h, w] = b;
  }
  const v = c.slice().sort((x, k) => g.layer.get(x.id) - g.layer.get(k.id) || g.pos.get(x.id)[1] - g.pos.get(k.id)[1]), C = a.slice();
  for (const x of v) {
    const [k, b] = g.pos.get(x.id), O = { ...x, x: h + k, y: w + b };
    O.y = au(O, C, i), C.push(O), fu(Vt(e, x.id), O.x, O.y, s);
  }
  return v.map((x) => x.id);
}
function lp(e) {
  if (!e.length) return null;
  let t = 1 / 0, n = 1 / 0, r = -1 / 0, s = -1 / 0;
  for (const i of e)
    t = Math.min(t, i.x), n = Math.min(n, i.y), r = Math.max(r, i.x + i.w), s = Math.max(s, i.y + i.h);
  return { x: t, y: n, w: r - t, h: s - n };
}
const tt = Object.freeze({
  // GRAPH_MAX_BATCH of the core.
  commands: 1e3,
  // GRAPH_MAX_NAME: type, slot, widget names and titles.
  name: 1024,
  // CANVAS_MAX_TEXT: text widget values (long prompts are a few KB).
  text: 256 * 1024,
  // GRAPH_MAX_COORD: keeps nodes reachable and coordinates exact.
  coord: 1e7,
  // GRAPH_MAX_WIDGETS: widgets set by one create_node.
  widgets: 1024,
  // GRAPH_MAX_REF.
  ref: 128,
  // GRAPH_MAX_NODES: node_ids of one arrange.
  nodes: 1e4
}), vi = Object.freeze({ always: 0, never: 2, mute: 2, bypass: 4 });
class ao extends Error {
  constructor(t, n, r = []) {
    super(n), this.code = t, this.suggestions = r;
  }
}
const ce = (e, t, n) => {
  throw new ao(e, t, n);
}, nr = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function Hn(e, t, n = tt.name, { optional: r = !1 } = {}) {
  if (e == null) {
    if (r) return "";
    ce("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && ce("INVALID_COMMAND", `${t} must be a string`), e.length > n && ce("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function wn(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > tt.coord) && ce("INVALID_COMMAND", `${t} must be a number within ±${tt.coord}`), e);
}
function Xt(e, t) {
  return nr(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= tt.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : ce("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function Ai(e, t) {
  if (e == null) return 0;
  if (nr(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= tt.name ? e : ce("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function Wl(e, t) {
  if (nr(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((r) => r in e);
    n.length !== 1 && ce("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || ce("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > tt.text && ce("VALUE_INVALID", `${t} is longer than ${tt.text} characters`), e) : ce("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const gs = {
  create_node(e) {
    const t = {
      node_type: Hn(e.node_type, "node_type"),
      x: wn(e.x, "x", { optional: !0 }),
      y: wn(e.y, "y", { optional: !0 }),
      ref: Hn(e.ref, "ref", tt.ref, { optional: !0 }),
      title: Hn(e.title, "title", tt.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || ce("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      nr(e.widgets) || ce("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > tt.widgets && ce("INVALID_COMMAND", `more than ${tt.widgets} widgets`);
      for (const r of n) t.widgets.push([Hn(r, "widget name"), Wl(e.widgets[r], `widgets.${r}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: Xt(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: Xt(e.from_id, "from_id"),
    from_slot: Ai(e.from_slot, "from_slot"),
    to_id: Xt(e.to_id, "to_id"),
    to_slot: Ai(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: Xt(e.node_id, "node_id"), slot: Ai(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: Xt(e.node_id, "node_id"),
    name: Hn(e.name, "name"),
    value: Wl(e.value, "value")
  }),
  move_node: (e) => ({ node_id: Xt(e.node_id, "node_id"), x: wn(e.x, "x"), y: wn(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(e) {
    const t = e.node_ids ?? [];
    Array.isArray(t) || ce("INVALID_COMMAND", "node_ids must be an array of node ids or refs"), t.length > tt.nodes && ce("INVALID_COMMAND", `node_ids: more than ${tt.nodes}`);
    const n = wn(e.spacing, "spacing", { optional: !0 });
    return n !== null && (n < 0 || n > Kt.maxSpacing) && ce("INVALID_COMMAND", `spacing must be between 0 and ${Kt.maxSpacing}`), {
      node_ids: t.map((r, s) => Xt(r, `node_ids[${s}]`)),
      x: wn(e.x, "x", { optional: !0 }),
      y: wn(e.y, "y", { optional: !0 }),
      spacing: n
    };
  },
  set_node_mode(e) {
    const t = Hn(e.mode, "mode");
    return Object.hasOwn(vi, t) || ce("INVALID_COMMAND", `mode "${t.slice(0, 40)}" is not one of ${Object.keys(vi).join(", ")}`), { node_id: Xt(e.node_id, "node_id"), mode: vi[t] };
  }
}, du = Object.freeze(Object.keys(gs)), Jl = new Set(du.filter((e) => e !== "get_graph"));
function cp(e) {
  nr(e) || ce("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const r = Object.keys(e).filter((s) => Object.hasOwn(gs, s));
    r.length !== 1 && ce("INVALID_COMMAND", "missing field: type"), t = r[0], n = nr(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(gs, t)) && ce("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${du.join(", ")}`), { type: t, ...gs[t](n) };
}
const ap = /* @__PURE__ */ new Set(["number", "slider", "knob"]), up = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function fp(e, t, n) {
  const r = String(e.type ?? ""), s = e.options ?? {};
  if (r === "combo") {
    const i = ep(e, t);
    return i && !i.some((o) => o === n) && ce("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${i.length} options of ${e.name}`, Kn(n, i.filter((o) => typeof o == "string"))), n;
  }
  return ap.has(r) ? (typeof n != "number" && ce("VALUE_INVALID", `${e.name} takes a number`), s.precision === 0 && !Number.isInteger(n) && ce("VALUE_INVALID", `${e.name} takes an integer`), typeof s.min == "number" && n < s.min && ce("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${s.min}`), typeof s.max == "number" && n > s.max && ce("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${s.max}`), n) : r === "toggle" || r === "boolean" ? (typeof n != "boolean" && ce("VALUE_INVALID", `${e.name} takes true or false`), n) : up.has(r) ? (typeof n != "string" && ce("VALUE_INVALID", `${e.name} takes a string`), n) : (r === "button" && ce("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function dp(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function ql(e, t, n, r) {
  const s = Zh(t, n);
  s || ce("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, Kn(n, Qh(t)));
  const i = fp(s, t, r), o = s.value;
  s.value = i;
  try {
    s.callback?.call(s, s.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(s.name, s.value, o, s);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return dp(s);
}
function Zt(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return Vt(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const r = Vt(e.graph, t.id);
    if (r) return r;
    ce("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return ce("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function hp(e) {
  const t = typeof e.view == "function" ? e.view() : null;
  return Array.isArray(t) && t.length === 4 && t.every(Number.isFinite) ? t : null;
}
function pp(e) {
  const t = [...e.pending].filter((n) => Vt(e.graph, n));
  e.pending.clear(), t.length && op(e.graph, t, { LiteGraph: e.LiteGraph, view: hp(e) });
}
const gp = {
  create_node(e, t) {
    const { graph: n, LiteGraph: r } = e, s = r.createNode(t.node_type);
    if (!s) {
      const l = Object.keys(r.registered_node_types ?? {});
      ce("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, Kn(t.node_type, l));
    }
    t.title && (s.title = t.title);
    const i = t.x === null || t.y === null;
    s.pos = i ? [0, 0] : [t.x, t.y];
    const o = e.expectedId;
    Number.isSafeInteger(o) && o > 0 && !Vt(n, o) && (s.id = o), n.add(s), Vt(n, s.id) || ce("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [l, c] of t.widgets) ql(e, s, l, c);
    } catch (l) {
      throw n.remove(s), l;
    }
    return t.ref && e.refs.set(t.ref, s.id), i && e.pending.add(s.id), { node_id: s.id };
  },
  remove_node(e, t) {
    const n = Zt(e, t.node_id, "node_id"), r = n.id;
    return e.graph.remove(n), Vt(e.graph, r) && ce("EDITOR_FAILED", `node #${r} cannot be removed`), { node_id: r };
  },
  connect(e, t) {
    const n = Zt(e, t.from_id, "from_id"), r = Zt(e, t.to_id, "to_id"), s = Xh(n, t.from_slot);
    s < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? Kn(t.from_slot, (n.outputs ?? []).map((a) => a.name)) : []
    );
    const i = Bl(r, t.to_slot);
    i < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${r.id} (${r.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? Kn(t.to_slot, (r.inputs ?? []).map((a) => a.name)) : []
    ), n === r && ce("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const o = n.outputs[s].type, l = r.inputs[i].type;
    e.LiteGraph.isValidConnection(o, l) || ce("TYPE_MISMATCH", `output ${s} of #${n.id} is ${o}, input ${JSON.stringify(r.inputs[i].name)} of #${r.id} takes ${l}`);
    const c = n.connect(s, r, i);
    return c || ce("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${s} -> #${r.id}:${i}`), { node_id: r.id, link_id: c.id };
  },
  disconnect(e, t) {
    const n = Zt(e, t.node_id, "node_id"), r = Bl(n, t.slot);
    r < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? Kn(t.slot, (n.inputs ?? []).map((i) => i.name)) : []
    );
    const s = n.inputs[r].link;
    return s == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(r), n.inputs[r].link !== null && n.inputs[r].link !== void 0 && ce("EDITOR_FAILED", `input ${r} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: s });
  },
  set_widget(e, t) {
    const n = Zt(e, t.node_id, "node_id"), r = ql(e, n, t.name, t.value);
    return r === void 0 ? { node_id: n.id } : { node_id: n.id, value: r };
  },
  move_node(e, t) {
    const n = Zt(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], e.pending.delete(n.id), { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of Mn(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  },
  arrange(e, t) {
    const n = t.node_ids.map((s, i) => Zt(e, s, `node_ids[${i}]`).id), r = ip(e.graph, n, {
      LiteGraph: e.LiteGraph,
      x: t.x ?? void 0,
      y: t.y ?? void 0,
      spacing: t.spacing ?? void 0,
      exclude: e.keepOnClear,
      ignore: e.pending
    });
    for (const s of r) e.pending.delete(s);
    return {};
  },
  set_node_mode(e, t) {
    const n = Zt(e, t.node_id, "node_id");
    return n.mode = t.mode, n.mode !== t.mode && ce("EDITOR_FAILED", `node #${n.id} kept mode ${n.mode}`), { node_id: n.id };
  }
}, mp = "BATCH_MODE_PARTIAL";
function _p(e) {
  return e === mp || e === 2 || String(e).toLowerCase() === "partial";
}
function Hl(e, t) {
  const n = t instanceof ao ? t.code : "EDITOR_FAILED", r = t instanceof ao ? t.message : `command failed: ${t?.message ?? String(t)}`, s = { code: n, message: r.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (s.suggestions = t.suggestions), { index: e, ok: !1, error: s };
}
function yp(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > tt.commands)
    return { ok: !1, error: `more than ${tt.commands} commands`, results: [], applied: !1 };
  const r = e.graph, s = _p(t?.mode), i = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), pending: /* @__PURE__ */ new Set(), expectedId: void 0 }, l = r.serialize(), c = new Array(n.length);
  let a = 0, u = -1, d = !1;
  for (let h = 0; h < n.length; h++) {
    let w;
    try {
      w = cp(n[h]);
    } catch (C) {
      if (c[h] = Hl(h, C), !s) {
        u = h;
        break;
      }
      continue;
    }
    o.expectedId = w.type === "create_node" ? i[a++] : void 0;
    const v = s && Jl.has(w.type) && h > 0 ? r.serialize() : null;
    try {
      c[h] = { index: h, ok: !0, ...gp[w.type](o, w) }, Jl.has(w.type) && (d = !0);
    } catch (C) {
      if (c[h] = Hl(h, C), !s) {
        u = h;
        break;
      }
      const x = v ?? l;
      Fn(r.serialize()) !== Fn(x) && Vl(r, x);
    }
  }
  if (u >= 0) {
    Fn(r.serialize()) !== Fn(l) && Vl(r, l);
    const h = `not applied: command ${u} failed and the patch is atomic (the graph was rolled back)`;
    for (let w = 0; w < n.length; w++)
      w !== u && (c[w] = { index: w, ok: !1, error: { code: "SKIPPED", message: h, index: w } });
    return r.setDirtyCanvas?.(!0, !0), { ok: !1, error: c[u].error.message, results: c, applied: !1 };
  }
  pp(o), r.setDirtyCanvas?.(!0, !0);
  const m = c.every((h) => h.ok), g = c.find((h) => !h.ok);
  return {
    ok: m,
    error: m ? "" : g.error.message,
    results: c,
    applied: d
  };
}
function Vl(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
const hu = new Float64Array(1), Gl = new Uint32Array(hu.buffer), Kl = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
function Yl(e) {
  for (let t = 1; t < e.length; t++) if (e[t - 1].id > e[t].id) return [...e].sort((n, r) => n.id - r.id);
  return e;
}
function bp(e) {
  const t = e._links ?? e.links;
  return t ? [...typeof t.values == "function" && !Array.isArray(t) ? t.values() : Object.values(t)].filter((r) => r && r.id != null) : [];
}
function kp(e) {
  let t = -2128831035;
  const n = (l) => {
    t = Math.imul(t ^ l, 16777619);
  }, r = (l) => {
    let c = Number(l);
    (c === 0 || !Number.isFinite(c)) && (c = 0), hu[0] = c, n(Gl[Kl]), n(Gl[1 - Kl]);
  }, s = (l) => {
    const c = String(l ?? "");
    r(c.length);
    for (let a = 0; a < c.length; a++) n(c.charCodeAt(a));
  }, i = Yl(e._nodes ?? e.nodes ?? []);
  r(i.length);
  for (const l of i) {
    r(l.id), s(l.type), r(l.pos?.[0] ?? 0), r(l.pos?.[1] ?? 0), r(l.mode ?? 0);
    const c = l.inputs ?? [];
    r(c.length);
    for (const u of c) r(u?.link > 0 ? u.link : 0);
    const a = l.outputs ?? [];
    r(a.length);
    for (const u of a) {
      const d = (u?.links ?? []).filter((m) => m > 0);
      r(d.length);
      for (const m of d) r(m);
    }
  }
  const o = Yl(bp(e));
  r(o.length);
  for (const l of o)
    r(l.id), r(l.origin_id), r(l.origin_slot), r(l.target_id), r(l.target_slot);
  return (t >>> 0).toString(16).padStart(8, "0");
}
function wp(e) {
  return Array.isArray(e) ? e : e && typeof e == "object" ? [e.id, e.origin_id, e.origin_slot, e.target_id, e.target_slot, e.type] : null;
}
function xp(e) {
  if (!e || typeof e != "object") return JSON.stringify(e);
  const { order: t, ...n } = e;
  return JSON.stringify(n);
}
function vp(e) {
  const { nodes: t, links: n, last_node_id: r, last_link_id: s, state: i, ...o } = e;
  return Fn({ ...o, nodes: [] });
}
function pu(e) {
  if (!e || typeof e != "object" || !Array.isArray(e.nodes)) return null;
  const t = /* @__PURE__ */ new Map();
  for (const r of e.nodes) r && r.id != null && t.set(r.id, xp(r));
  const n = /* @__PURE__ */ new Map();
  for (const r of Array.isArray(e.links) ? e.links : []) {
    const s = wp(r);
    s && s[0] != null && n.set(s[0], JSON.stringify(s));
  }
  return { nodes: t, links: n, rest: vp(e) };
}
function Ap(e, t, n) {
  if (!e) return null;
  const r = pu(t);
  if (!r || r.rest !== e.rest) return null;
  const s = [];
  for (const c of t.nodes)
    !c || c.id == null || e.nodes.get(c.id) !== r.nodes.get(c.id) && s.push(JSON.stringify(c));
  const i = [...e.nodes.keys()].filter((c) => !r.nodes.has(c)), o = [];
  for (const [c, a] of r.links) {
    const u = e.links.get(c);
    if (u === void 0) o.push(a);
    else if (u !== a) return null;
  }
  const l = [...e.links.keys()].filter((c) => !r.links.has(c));
  return {
    nodes_json: s,
    removed_node_ids: i,
    links_json: o,
    removed_link_ids: l,
    last_node_id: Number(n.state?.lastNodeId ?? n.last_node_id ?? t.last_node_id ?? 0),
    last_link_id: Number(n.state?.lastLinkId ?? n.last_link_id ?? t.last_link_id ?? 0),
    digest: kp(n)
  };
}
function Rp(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function Xl(e, t) {
  const n = Rp(e);
  n.begin(), n.end(), n.begin();
  try {
    return t();
  } finally {
    try {
      e?.canvas?.setDirty?.(!0, !0);
    } finally {
      n.end();
    }
  }
}
const Cp = 1e3, Ep = 1500, Sp = 120, Dp = 480 * 1024, Ri = "the tab has switched to another workflow; this canvas is no longer open in it", Tp = 200, Fp = 50, Ip = 1e4, Op = 1e3, Np = 128, Ci = 1024 * 1024 - 1024;
function Mp(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function Ei(e, t) {
  const n = String(t || "workflow"), r = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${r}~${Mp(n)}`.slice(0, Np);
}
function Lp(e, t = Dp) {
  if (!e || typeof e != "object") return "";
  const n = /* @__PURE__ */ new Set(["tooltip", "description", "output_tooltips", "search_aliases", "python_module"]), r = (i) => {
    if (Array.isArray(i)) return i.map(r);
    if (i && typeof i == "object") {
      const o = {};
      for (const l of Object.keys(i)) n.has(l) || (o[l] = r(i[l]));
      return o;
    }
    return i;
  }, s = JSON.stringify(r(e));
  return new TextEncoder().encode(s).length <= t ? s : "";
}
function Pp(e, t = () => Math.random().toString(36).slice(2, 10)) {
  const n = "comfyd.tabId";
  let r = null;
  try {
    r = e?.getItem(n);
  } catch {
    r = null;
  }
  if (!r || !/^[a-z0-9]{4,16}$/.test(r)) {
    r = t();
    try {
      e?.setItem(n, r);
    } catch {
    }
  }
  return r;
}
class jp {
  /**
   * deps: {
   *   app, api, LiteGraph,          the frontend's objects
   *   connection,                   a ConnectionProvider
   *   WebSocket,                    the WebSocket class
   *   tabId,                        from tabId()
   *   objectInfo: () => Promise<object|null>,
   *   timers: {setTimeout, clearTimeout, setInterval, clearInterval},
   *   hasFocus: () => boolean,
   *   log: (level, text) => void,
   *   isPanelNode: (node) => boolean,
   * }
   */
  constructor(t) {
    this.d = t, this.t = t.timers ?? globalThis, this.log = t.log ?? (() => {
    }), this.socket = null, this.attached = !1, this.canvasId = null, this.revision = 0, this.tabRevision = 0, this.lastSig = null, this.baseline = null, this.deltasSent = 0, this.resyncs = 0, this.work = Promise.resolve(), this.busy = 0, this.attempt = 0, this.stopped = !0, this.replaced = !1, this.reconnectTimer = null, this.pollTimer = null, this.debounceTimer = null, this.focused = !1, this.focusSentAt = -1 / 0, this.waitedSteps = 0, this.pointerDown = !1, this.pointerDownAt = 0, this.objectInfoJson = null, this.listeners = [], this.status = "idle", this.onStatus = null;
  }
  // ---- the graph ----
  graph() {
    return this.d.app.rootGraph ?? this.d.app.graph;
  }
  activeWorkflow() {
    return this.d.app.extensionManager?.workflow?.activeWorkflow ?? null;
  }
  /** ComfyUI's change tracker compares the workflow's extra (all but its
   * view state) with its snapshot of the current state: the snapshot gets
   * the provenance just stored too, so storing it is neither an undo step
   * nor a modification. */
  untrackProvenance() {
    const t = this.activeWorkflow()?.changeTracker?.activeState, n = this.graph()?.extra?.comfyd?.provenance;
    if (!t || typeof t != "object" || !n) return;
    const r = t.extra && typeof t.extra == "object" ? t.extra : {}, s = r.comfyd && typeof r.comfyd == "object" ? r.comfyd : {};
    t.extra = { ...r, comfyd: { ...s, provenance: JSON.parse(JSON.stringify(n)) } };
  }
  workflowKey() {
    const t = this.activeWorkflow();
    return t?.path ?? t?.key ?? "workflow";
  }
  title() {
    const t = this.activeWorkflow();
    return String(t?.filename ?? t?.path ?? "workflow").slice(0, 1024);
  }
  serialize() {
    return this.graph().serialize();
  }
  // ---- lifecycle ----
  start() {
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), Ep), this.connect());
  }
  stop() {
    this.stopped = !0, this.t.clearInterval(this.pollTimer), this.t.clearTimeout(this.reconnectTimer), this.t.clearTimeout(this.debounceTimer), this.closeSocket(1e3, "tab closed");
  }
  setStatus(t) {
    this.status = t, this.onStatus?.(t);
  }
  closeSocket(t, n) {
    const r = this.socket;
    if (this.socket = null, this.attached = !1, r) {
      r.onopen = r.onmessage = r.onclose = r.onerror = null;
      try {
        r.close(t, n);
      } catch {
      }
    }
  }
  scheduleReconnect() {
    if (this.stopped || this.reconnectTimer) return;
    const t = lo(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Fp : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, Tp);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = Lp(await this.d.objectInfo?.());
      } catch (r) {
        this.log("warn", `comfyd: cannot read /object_info (${r?.message ?? r})`);
      }
    try {
      t = await this.d.connection.get();
    } catch (r) {
      this.log("warn", `comfyd: no connection info yet (${r?.message ?? r})`), this.d.connection.invalidate?.(), this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    let n;
    try {
      n = new this.d.WebSocket(ou(t, "/comfy/editor/ws"), lu(t));
    } catch (r) {
      this.log("warn", `comfyd: cannot open the editor socket (${r?.message ?? r})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (r) => this.onMessage(r.data), n.onerror = () => {
    }, n.onclose = (r) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (r?.code === Cp) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (r?.code === 1008 || r?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = Ei(this.d.tabId, this.workflowKey()), this.reported(t), this.tabRevision += 1;
    const n = {
      type: "attach",
      canvas_id: this.canvasId,
      title: this.title(),
      workflow_json: JSON.stringify(t),
      object_info_json: this.objectInfoJson ?? "",
      focused: this.focused,
      tab_revision: this.tabRevision
    };
    this.send(n) || (n.object_info_json = "", this.send(n));
  }
  send(t) {
    const n = this.socket;
    if (!n || n.readyState !== 1) return !1;
    const r = JSON.stringify(t);
    return r.length > Ci && new TextEncoder().encode(r).length > Ci ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(r), !0);
  }
  onMessage(t) {
    let n;
    try {
      n = JSON.parse(t);
    } catch {
      this.log("warn", "comfyd: the bridge sent a message that is not JSON");
      return;
    }
    if (!(!n || typeof n != "object"))
      switch (n.type) {
        case "attached":
          this.attached = !0, this.attempt = 0, this.replaced = !1, this.revision = Number(n.revision) || 0, this.setStatus("attached"), this.checkEdits();
          return;
        case "patch":
          return this.enqueue(() => this.handlePatch(n));
        case "queue":
          return this.enqueue(() => this.handleQueue(n));
        case "load":
          return this.enqueue(() => this.handleLoad(n));
        case "resync":
          return this.enqueue(() => this.resync(n));
        case "report_ack":
          Number.isFinite(Number(n.revision)) && (this.revision = Number(n.revision)), n.provenance_json && tp(this.graph(), n.provenance_json) && this.untrackProvenance();
          return;
        case "error":
          this.log("warn", `comfyd: ${n.code ?? "error"}: ${n.message ?? ""}`);
          return;
        default:
          this.log("warn", `comfyd: ignored an unknown message type ${JSON.stringify(String(n.type)).slice(0, 80)}`);
      }
  }
  enqueue(t) {
    return this.work = this.work.then(t).catch((n) => this.log("error", `comfyd: ${n?.stack ?? n}`)), this.work;
  }
  // ---- requests from the core ----
  /** The request is for the canvas this socket attached; when the user has
   * switched to another workflow since, refuse it (it would edit the wrong
   * workflow) and attach the one that is open now. */
  switchedAway() {
    return Ei(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: Ri, results: [], workflow_json: "", tab_revision: this.tabRevision });
    const n = {
      graph: this.graph(),
      LiteGraph: this.d.LiteGraph,
      canvas: this.d.app.canvas,
      keepOnClear: this.d.isPanelNode,
      view: () => this.view(),
      log: this.log
    };
    let r;
    this.busy++;
    try {
      r = Xl(this.d.app, () => yp(n, t));
    } catch (i) {
      r = { ok: !1, error: `the patch failed: ${i?.message ?? i}`, results: [] };
    } finally {
      this.busy--;
    }
    const s = this.serialize();
    this.reported(s), this.tabRevision += 1, this.send({
      type: "patch_result",
      request_id: t.request_id,
      ok: !!r.ok,
      error: r.error ?? "",
      results: (r.results ?? []).filter(Boolean).map($p),
      workflow_json: JSON.stringify(s),
      tab_revision: this.tabRevision
    });
  }
  /** The visible part of the canvas in canvas units ([x, y, w, h]), where
   * nodes created without coordinates go when it is free; null when the
   * canvas has no size yet. */
  view() {
    const t = this.d.app.canvas, n = t?.ds, r = t?.canvas, s = n?.visible_area;
    if (s && s[2] > 0 && s[3] > 0) return [s[0], s[1], s[2], s[3]].map(Number);
    if (!n || !r || !n.scale || !r.width || !r.height) return null;
    const i = globalThis.devicePixelRatio || 1, o = (r.clientWidth || r.width / i) / n.scale, l = (r.clientHeight || r.height / i) / n.scale;
    return [-n.offset[0], -n.offset[1], o, l];
  }
  async handleQueue(t) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: Ri, prompt_id: "", number: 0 });
    if (t.prompt_only) return this.handlePromptOnly(t);
    const { app: n, api: r } = this.d, s = [];
    let i = "";
    const o = r.queuePrompt;
    r.queuePrompt = async function(...a) {
      try {
        const u = await o.apply(this, a);
        return s.push(u), u;
      } catch (u) {
        throw i = Ql(u), u;
      }
    };
    try {
      const a = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, a);
    } catch (a) {
      i = i || Ql(a);
    } finally {
      r.queuePrompt = o;
    }
    const l = s[s.length - 1], c = !!l?.prompt_id && !i;
    this.send({
      type: "queue_result",
      request_id: t.request_id,
      ok: c,
      error: c ? "" : i || "the frontend did not queue the workflow",
      prompt_id: l?.prompt_id ? String(l.prompt_id) : "",
      number: Number.isSafeInteger(l?.number) ? l.number : 0
    });
  }
  /** The core posts the prompt itself (to follow the run's events, which
   * ComfyUI sends only to the client id that queued): convert the canvas
   * with the frontend's own graphToPrompt and hand over the API prompt and
   * the workflow. The widgets' beforeQueued/afterQueued callbacks run as
   * around app.queuePrompt (a seed set to "randomize" changes after). */
  async handlePromptOnly(t) {
    const { app: n } = this.d, r = n.rootGraph ?? n.graph, s = { type: "queue_result", request_id: t.request_id, prompt_id: "", number: 0 };
    if (typeof n.graphToPrompt != "function")
      return this.send({ ...s, ok: !1, error: "this frontend has no graphToPrompt" });
    let i;
    try {
      Zl(r, "beforeQueued");
      const o = await n.graphToPrompt(r);
      if (i = { prompt_json: JSON.stringify(o?.output ?? null), workflow_json: JSON.stringify(o?.workflow ?? null) }, !o?.output || typeof o.output != "object") throw new Error("graphToPrompt returned no prompt");
      Zl(r, "afterQueued");
    } catch (o) {
      return this.send({ ...s, ok: !1, error: `cannot convert the workflow: ${String(o?.message ?? o).slice(0, 1e3)}` });
    }
    if (i.prompt_json.length + i.workflow_json.length > Ci)
      return this.send({ ...s, ok: !1, error: "the workflow is too large to hand over" });
    this.send({ ...s, ok: !0, error: "", ...i });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: Ri, workflow_json: "", tab_revision: this.tabRevision });
    let n, r = !1, s = "";
    try {
      if (n = JSON.parse(t.workflow_json), !n || typeof n != "object" || !Array.isArray(n.nodes)) throw new Error("not a workflow");
    } catch (o) {
      s = `cannot load: ${o?.message ?? o}`;
    }
    if (!s) {
      this.busy++;
      try {
        if (t.undo_step) {
          const o = this.d.app.rootGraph ?? this.d.app.graph;
          Xl(this.d.app, () => o.configure(n));
        } else
          await this.d.app.loadGraphData(n, !0, !0, this.activeWorkflow() ?? void 0);
        r = !0;
      } catch (o) {
        s = `loading failed: ${o?.message ?? o}`;
      } finally {
        this.busy--;
      }
    }
    const i = this.serialize();
    this.reported(i), this.tabRevision += 1, this.send({
      type: "load_result",
      request_id: t.request_id,
      ok: r,
      error: s,
      workflow_json: r ? JSON.stringify(i) : "",
      tab_revision: this.tabRevision
    });
  }
  // ---- the user's edits and focus ----
  /** Called on graphChanged: a burst becomes one check. */
  graphChanged() {
    this.t.clearTimeout(this.debounceTimer), this.debounceTimer = this.t.setTimeout(() => {
      this.debounceTimer = null, this.checkEdits();
    }, Sp);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < Ip || this.d.app.configuringGraph) return;
    if (Ei(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const r = Fn(n);
    if (r === this.lastSig) return;
    let s = null;
    try {
      s = Ap(this.baseline, n, this.graph());
    } catch {
      s = null;
    }
    this.reported(n, r), this.tabRevision += 1, s && this.send({ type: "user_edit", delta: s, tab_revision: this.tabRevision }) ? this.deltasSent++ : s || this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision });
  }
  /** The workflow the core now has from this tab: edits are found, and
   * their deltas taken, against it. */
  reported(t, n = Fn(t)) {
    this.lastSig = n, this.baseline = pu(t);
  }
  /** The core could not use a delta of a user edit: it gets the whole
   * workflow (the tab's patches always carry it). */
  resync(t) {
    if (this.resyncs++, !this.attached) return;
    if (String(t.request_id ?? 0) !== "0") {
      this.log("warn", `comfyd: a resync for request ${String(t.request_id).slice(0, 40)}, which carried its workflow`);
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    this.reported(n), this.tabRevision += 1, this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision });
  }
  /** The open workflow changed: attach it on a new socket. */
  reattach() {
    this.stopped || (this.attempt = 0, this.connect());
  }
  setFocus(t) {
    if (t !== this.focused) {
      if (this.focused = t, t && this.replaced && !this.socket) {
        this.replaced = !1, this.connect();
        return;
      }
      this.attached && this.sendFocus();
    }
  }
  /** A drag is in progress: its states in between are not edits; its end
   * (pointer up) is checked. */
  setPointerDown(t) {
    this.pointerDown = t, t && (this.pointerDownAt = this.t.now?.() ?? Date.now()), t || this.graphChanged();
  }
  /** The user works in this tab (a click, a key): it is the focused one,
   * even when the browser raised no focus event (another window of the
   * same browser, a headless one). Announced at most once a second. */
  touched() {
    const t = this.t.now?.() ?? Date.now();
    if (!(this.focused && t - this.focusSentAt < Op)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function Zl(e, t) {
  const n = e?._nodes ?? e?.nodes ?? [];
  for (const r of n) for (const s of r.widgets ?? []) s[t]?.();
}
function Ql(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, r = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${r.length ? ` (nodes ${r.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function $p(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const Bp = 600, ec = 64;
function is(e) {
  const t = String(e ?? "");
  return t.length > ec ? `${t.slice(0, ec - 1)}…` : t;
}
function zp(e) {
  switch (e?.kind) {
    case "skill":
      return `skill ${is(e.skill)} (session ${is(e.session_id).slice(0, 8)})`;
    case "mcp":
      return e.name ? `MCP client ${is(e.name)}` : "an MCP client";
    case "grpc":
      return e.name ? `caller ${is(e.name)}` : "an unnamed caller";
    case "user":
      return "the user";
    case "load":
      return "a loaded workflow";
    default:
      return "someone unknown";
  }
}
function Up(e) {
  const t = Math.max(0, Math.round(Number(e) / 1e3));
  return !Number.isFinite(t) || t < 45 ? "just now" : t < 3600 ? `${Math.round(t / 60)} min ago` : t < 86400 ? `${Math.round(t / 3600)} h ago` : `${Math.round(t / 86400)} d ago`;
}
function Wp(e, t, n = Date.now()) {
  if (!e || typeof e != "object" || !e.nodes || typeof e.nodes != "object") return null;
  const r = e.nodes[String(t)];
  if (!r || typeof r != "object") return null;
  const s = Array.isArray(e.actors) ? e.actors : [], i = (c) => `${zp(s[c.by])}, ${Up(n - Number(c.at))} (revision ${c.rev})`, o = [`Last changed by ${i(r)}`], l = r.created;
  return l && typeof l == "object" && (l.by !== r.by || l.rev !== r.rev) && o.push(`Created by ${i(l)}`), o;
}
function Jp({ app: e, document: t, timers: n = globalThis, now: r = () => Date.now() }) {
  const s = t.createElement("div");
  s.className = "comfyd-provenance-tip", Object.assign(s.style, {
    position: "fixed",
    zIndex: "10000",
    pointerEvents: "none",
    display: "none",
    maxWidth: "420px",
    padding: "4px 8px",
    borderRadius: "4px",
    font: "12px sans-serif",
    whiteSpace: "pre-line",
    background: "rgba(20, 20, 20, 0.92)",
    color: "#ddd",
    border: "1px solid #555"
  }), t.body.appendChild(s);
  let i = null, o = null;
  const l = () => {
    i && n.clearTimeout(i), i = null, o = null, s.style.display = "none";
  }, c = (m, g) => {
    const h = m.canvas?.getBoundingClientRect?.();
    return h && typeof m.ds?.convertCanvasToOffset == "function" ? m.ds.convertCanvasToOffset([g.clientX - h.left, g.clientY - h.top]) : m.graph_mouse ?? null;
  }, a = (m) => {
    const g = e.canvas, h = e.rootGraph ?? e.graph, w = g?.graph ?? h;
    if (w !== h) return null;
    const v = c(g, m);
    return !w || !v || typeof w.getNodeOnPos != "function" ? null : w.getNodeOnPos(v[0], v[1]) ?? null;
  }, u = (m, g) => {
    const h = e.rootGraph ?? e.graph, w = Wp(h?.extra?.comfyd?.provenance, o, r());
    if (!w) {
      s.style.display = "none";
      return;
    }
    s.textContent = w.join(`
`), s.style.left = `${m + 14}px`, s.style.top = `${g + 14}px`, s.style.display = "block";
  }, d = (m) => {
    if (!e.canvas || m.target !== e.canvas.canvas || m.buttons) return l();
    const g = a(m);
    if (!g) return l();
    if (g.id === o) {
      i || u(m.clientX, m.clientY);
      return;
    }
    l(), o = g.id;
    const h = m.clientX, w = m.clientY;
    i = n.setTimeout(() => {
      i = null, u(h, w);
    }, Bp);
  };
  return t.addEventListener("pointermove", d, { passive: !0 }), t.addEventListener("pointerdown", l, !0), () => {
    l(), t.removeEventListener("pointermove", d), t.removeEventListener("pointerdown", l, !0), s.remove();
  };
}
const uo = 200, qp = 16, Hp = 256, Vp = /* @__PURE__ */ new Set(["succeeded", "failed", "interrupted", "cancelled", "unknown"]), rr = (e) => Vp.has(e);
function sr(e) {
  let t = String(e ?? "").toLowerCase();
  return t.startsWith("run_status_") && (t = t.slice(11)), t || "unspecified";
}
const nt = (e) => {
  const t = Number(e);
  return Number.isFinite(t) ? t : 0;
};
function Gp(e, t) {
  if (!e) return !0;
  const n = nt(e.seq), r = nt(t.seq);
  return n && r ? r > n : !(rr(sr(e.status)) && !rr(sr(t.status)));
}
function Kp(e) {
  const t = Object.keys(e.runs);
  if (t.length <= uo) return;
  const n = t.map((r) => e.runs[r]).sort((r, s) => Number(rr(sr(s.status))) - Number(rr(sr(r.status))) || nt(r.queued_at_ms) - nt(s.queued_at_ms));
  for (const r of n.slice(0, t.length - uo))
    delete e.runs[r.prompt_id], delete e.runTurns[r.prompt_id];
}
function gu(e, t, { workingTurn: n = 0 } = {}) {
  if (!t || typeof t != "object" || typeof t.prompt_id != "string" || !t.prompt_id || t.session_id && e.sessionId && t.session_id !== e.sessionId) return !1;
  const r = t.prompt_id;
  return Gp(e.runs[r], t) ? (e.runs[r] = t, !e.runTurns[r] && n && !rr(sr(t.status)) && (e.runTurns[r] = n), Kp(e), !0) : !1;
}
function Yp(e) {
  let t;
  try {
    t = typeof e == "string" ? JSON.parse(e) : e;
  } catch {
    return "";
  }
  if (!t || typeof t != "object") return "";
  const n = (r) => typeof r == "string" && r ? r : "";
  return n(t.run?.prompt_id) || n(t.prompt_id) || (Array.isArray(t.prompt_ids) ? n(t.prompt_ids.at(-1)) : "");
}
function Xp(e, t, n) {
  const r = Yp(n), s = Number(t) || 0;
  return !r || !s || e.runTurns[r] === s ? !1 : (e.runTurns[r] = s, !0);
}
function Zp(e, t) {
  const n = e.runTurns[t.prompt_id];
  if (n && e.turns.some((o) => o.id === n)) return n;
  const r = nt(t.queued_at_ms), s = e.turns.filter((o) => !o.pending);
  if (!s.length) return 0;
  if (!r) return s.at(-1).id;
  let i = 0;
  for (const o of s) {
    if (!o.createdAt || o.createdAt > r) continue;
    i = o.id;
    const l = o.order.map((a) => o.replies[a]).filter((a) => a.final && a.createdAt);
    if ((l.length === o.order.length && l.length > 0 ? Math.max(...l.map((a) => a.createdAt)) : 1 / 0) >= r) return o.id;
  }
  return i || s[0].id;
}
function Qp(e) {
  const t = {}, n = Object.values(e.runs).sort((r, s) => nt(r.queued_at_ms) - nt(s.queued_at_ms) || nt(r.number) - nt(s.number));
  for (const r of n) {
    const s = Zp(e, r);
    (t[s] ??= []).push(r);
  }
  return t;
}
function eg(e, t = () => "") {
  const n = sr(e.status), r = (a, u) => String(u || t(String(a)) || (a ? `#${a}` : "")), s = {
    id: e.prompt_id,
    short: String(e.prompt_id).slice(0, 8),
    status: n,
    final: rr(n),
    queuedBy: String(e.queued_by ?? ""),
    reason: String(e.reason ?? ""),
    queuePosition: nt(e.queue_position),
    node: null,
    // {id, title} running now
    value: 0,
    max: 0,
    percent: null,
    // of the node running now, when it reports progress
    done: 0,
    // nodes executed or cached
    errors: [],
    // [{nodeId, title, input, message}]
    outputs: [],
    // [{nodeId, index, filename, kind}]
    seconds: null
  }, i = new Set([...e.executed_nodes ?? [], ...e.cached_nodes ?? []].map(String));
  if (s.done = i.size, e.executing_node && !s.final) {
    const a = String(e.executing_node);
    s.node = { id: a, title: r(a) };
    const u = (e.progress ?? []).find((d) => String(d.node_id) === a);
    u && nt(u.max) > 0 && (s.value = nt(u.value), s.max = nt(u.max), s.percent = Math.max(0, Math.min(100, Math.round(100 * s.value / s.max))));
  }
  for (const a of e.node_errors ?? [])
    s.errors.push({
      nodeId: String(a.node_id ?? ""),
      title: r(a.node_id, a.title),
      input: String(a.input_name ?? ""),
      message: [a.message, a.details].filter(Boolean).join(": ")
    });
  const o = e.execution_error;
  o && (o.node_id || o.exception_message || o.exception_type) && s.errors.push({
    nodeId: String(o.node_id ?? ""),
    title: r(o.node_id, o.title),
    input: "",
    message: [o.exception_type, o.exception_message].filter(Boolean).join(": ")
  }), !s.errors.length && (e.prompt_error || n === "failed" && e.reason) && s.errors.push({ nodeId: "", title: "", input: "", message: String(e.prompt_error || e.reason) });
  for (const a of e.outputs ?? [])
    (a.files ?? []).forEach((u, d) => {
      s.outputs.length >= qp || u.kind && u.kind !== "images" || /\.(png|jpe?g|webp|gif)$/i.test(String(u.filename ?? "")) && s.outputs.push({ nodeId: String(a.node_id), index: d, filename: String(u.filename), kind: String(u.kind ?? "images") });
    });
  const l = nt(e.started_at_ms), c = nt(e.ended_at_ms);
  return l && c >= l && (s.seconds = (c - l) / 1e3), s;
}
function tc(e, t, n, r = 0) {
  const s = r ? `?max_side=${r}` : "";
  return `/comfyd/runs/${encodeURIComponent(e)}/outputs/${encodeURIComponent(t)}/${n}${s}`;
}
const nc = 500, rc = 200;
function ln(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function mu() {
  return {
    sessionId: "",
    session: null,
    // Session as the core last described it
    config: null,
    // SessionConfig (api_key_set, never the key)
    title: "",
    status: "unknown",
    // idle | working | error | unknown
    statusDetail: "",
    queuedTurns: 0,
    lastSeq: 0,
    turns: [],
    // [{id, content, state, error, replies: {skill: reply}, order: [skill]}]
    logs: [],
    // [{seq, level, module, skill, message}]
    lastError: null,
    needsResync: !1,
    runs: {},
    // prompt_id -> Run, the newest state seen
    runTurns: {},
    // prompt_id -> turn id, when known exactly
    workingTurn: 0,
    // the turn the session works on now (status_update)
    summaries: [],
    // [{id, coversTo, content}]: compacted turns (docs/sessions.md)
    lastRevert: null
    // {to, hidden}: the revert seen last, until undone or the session moves on
  };
}
function tg(e) {
  let t = null;
  for (const n of e.summaries) (!t || n.coversTo > t.coversTo) && (t = n);
  return t;
}
function _u(e, t = "") {
  Object.assign(e, mu(), { sessionId: t });
}
function sc(e, t) {
  const n = Number(t) || 0;
  for (let r = e.turns.length - 1; r >= 0; r--) if (e.turns[r].id === n) return e.turns[r];
  return null;
}
function Xn(e, t) {
  let n = sc(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let r = e.turns.length;
  for (; r > 0 && e.turns[r - 1].id > n.id; ) r--;
  return e.turns.splice(r, 0, n), e.turns.length > rc && e.turns.splice(0, e.turns.length - rc), sc(e, n.id) ?? n;
}
function ms(e, t) {
  const n = t || "comfyd";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function xn(e, t) {
  e.logs.push(t), e.logs.length > nc && e.logs.splice(0, e.logs.length - nc);
}
function No(e) {
  return Array.isArray(e) ? e.filter((t) => t && typeof t == "object" && /^[0-9a-f]{64}$/.test(String(t.sha256 ?? ""))).map((t) => ({
    sha256: String(t.sha256),
    name: String(t.name ?? ""),
    mime: String(t.mime_type ?? ""),
    size: Number(t.size) || 0,
    width: Number(t.width) || 0,
    height: Number(t.height) || 0
  })) : [];
}
function Si(e, t) {
  if (!t || typeof t != "object") return;
  const n = ln(t.role, "ROLE_"), r = ln(t.state, "MESSAGE_STATE_");
  if (ln(t.kind, "MESSAGE_KIND_") === "summary") {
    const s = Number(t.id) || 0;
    e.summaries.some((i) => i.id === s) || e.summaries.push({ id: s, coversTo: Number(t.covers_to) || 0, content: String(t.content ?? "") });
    return;
  }
  if (n === "user") {
    const s = Xn(e, t.id);
    s.content = String(t.content ?? ""), s.attachments = No(t.attachments), s.state = r, s.error = String(t.error ?? ""), s.createdAt = Number(t.created_at_ms) || s.createdAt || 0, s.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const s = Xn(e, t.turn_id), i = ms(s, t.skill);
    i.id = Number(t.id) || i.id || 0, i.content = String(t.content ?? ""), i.state = r || "done", i.error = String(t.error ?? ""), i.createdAt = Number(t.created_at_ms) || i.createdAt || 0, i.final = !0;
  }
}
function ic(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = ln(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function yu(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function ng(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, r = t.data && typeof t.data == "object" ? t.data : {}, s = yu(t);
  if (r.session_id && e.sessionId && r.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (s && s < e.lastSeq) return !1;
    const i = e.logs, o = { runs: e.runs, runTurns: e.runTurns }, l = e.turns.filter((a) => a.pending), c = r.session?.id ?? e.sessionId;
    _u(e, c), e.logs = i;
    for (const [a, u] of Object.entries(o.runs))
      (!u.session_id || u.session_id === e.sessionId) && (e.runs[a] = u, o.runTurns[a] && (e.runTurns[a] = o.runTurns[a]));
    ic(e, r.session), r.status !== void 0 && (e.status = ln(r.status, "SESSION_STATUS_") || e.status);
    for (const a of Array.isArray(r.history) ? r.history : []) Si(e, a);
    for (const a of Array.isArray(r.partials) ? r.partials : []) {
      const u = ms(Xn(e, a.turn_id), a.skill);
      u.final || (u.content = String(a.content ?? ""), u.next = Number(a.delta_count) || 0, u.state = "streaming");
    }
    return e.lastSeq = s || e.lastSeq, e.needsResync = !1, e.turns.push(...l), !0;
  }
  if (n === "run_update") return gu(e, r.run, { workingTurn: e.status === "working" ? e.workingTurn : 0 });
  if (["created", "configured", "sessions", "skills", "ack", "cancelled", "forked", "revert_result", "unrevert_result"].includes(n))
    return n === "configured" && r.session && ic(e, r.session), !1;
  if (s) {
    if (s <= e.lastSeq) return !1;
    e.lastSeq = s;
  }
  switch (n) {
    case "status_update": {
      if (e.status = ln(r.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(r.detail ?? ""), e.queuedTurns = Number(r.queued_turns) || 0, e.workingTurn = e.status === "working" ? Number(r.turn_id) || e.workingTurn : 0, e.status === "idle")
        for (const i of e.turns)
          for (const o of i.order) i.replies[o].state === "streaming" && (i.replies[o].state = "done");
      return !0;
    }
    case "stream_delta": {
      const i = Xn(e, r.turn_id), o = ms(i, r.skill), l = Number(r.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(r.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return Si(e, r.message), e.lastRevert && (Number(r.message?.id) || 0) > e.lastRevert.to && (e.lastRevert = null), !0;
    case "debug_log":
      return xn(e, {
        seq: s,
        level: ln(r.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(r.module ?? ""),
        skill: String(r.skill ?? ""),
        message: String(r.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(r.code ?? ""), message: String(r.message ?? ""), skill: String(r.skill ?? "") }, r.turn_id) {
        const i = Xn(e, r.turn_id);
        if (r.skill) {
          const o = ms(i, r.skill);
          o.error = e.lastError.message, o.final || (o.state = r.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return xn(e, { seq: s, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return r.config && (e.config = r.config), typeof r.title == "string" && (e.title = r.title), !0;
    case "tool_call":
      return xn(e, { seq: s, level: "INFO", module: "tool", skill: String(r.skill ?? ""), message: `${r.name ?? "tool"}(${String(r.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return Xp(e, r.turn_id, r.result_json), xn(e, { seq: s, level: r.ok ? "INFO" : "WARN", module: "tool", skill: String(r.skill ?? ""), message: `${r.call_id ?? ""} -> ${String(r.result_json ?? "").slice(0, 300)}` }), !0;
    case "reverted": {
      const i = Number(r.to_message_id) || 0;
      if (!i) return !1;
      e.turns = e.turns.filter((l) => l.pending || l.id <= i);
      for (const l of e.turns)
        for (const c of [...l.order])
          (l.replies[c].id || 0) > i && (delete l.replies[c], l.order.splice(l.order.indexOf(c), 1));
      e.summaries = e.summaries.filter((l) => l.id <= i), e.lastRevert = { to: i, hidden: Number(r.messages_hidden) || 0 };
      const o = Array.isArray(r.restored) ? r.restored.map((l) => l.canvas_id).join(", ") : "";
      return xn(e, { seq: s, level: "INFO", module: "session", skill: "", message: `reverted to message ${i}: ${Number(r.messages_hidden) || 0} later message(s) hidden${o ? `; canvas ${o} restored` : ""}` }), !0;
    }
    case "unreverted": {
      const i = Array.isArray(r.messages) ? r.messages : [];
      for (const l of i) Si(e, l);
      const o = e.turns.filter((l) => l.pending);
      return e.turns = e.turns.filter((l) => !l.pending).sort((l, c) => l.id - c.id).concat(o), e.summaries.sort((l, c) => l.id - c.id), e.lastRevert = null, xn(e, { seq: s, level: "INFO", module: "session", skill: "", message: `revert undone: ${i.length} message(s) back` }), !0;
    }
    case "graph_changed":
      return xn(e, { seq: s, level: "INFO", module: "graph", skill: "", message: `${r.canvas_id ?? ""} r${r.revision ?? ""}: ${r.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function rg(e, t, n, r = []) {
  const s = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, attachments: No(r), state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(s), s;
}
function sg(e, t, n) {
  const r = e.turns.findIndex((o) => o.pending && o.clientId === t), s = r >= 0 ? e.turns.splice(r, 1)[0] : null;
  if (!n?.id) return;
  const i = Xn(e, n.id);
  i.content || (i.content = String(n.content ?? s?.content ?? "")), i.attachments?.length || (i.attachments = No(n.attachments ?? s?.attachments)), i.state || (i.state = ln(n.state, "MESSAGE_STATE_"));
}
function oc(e, t) {
  const n = e.turns.find((r) => r.pending && r.clientId === t);
  n && (n.state = "waiting", n.error = "");
}
function ig(e, t, n) {
  const r = e.turns.find((s) => s.pending && s.clientId === t);
  r && (r.state = "failed", r.error = String(n ?? "not sent"));
}
function os(e, t = []) {
  const n = [];
  for (const r of t) e.replies[r] && n.push(r);
  for (const r of e.order) n.includes(r) || n.push(r);
  return n.map((r) => e.replies[r]);
}
const og = 15e3, lg = /* @__PURE__ */ new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]), cg = /* @__PURE__ */ new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);
function _s(e) {
  return cg.has(String(e?.code ?? ""));
}
function fr(e, t) {
  const n = new Error(e);
  return n.code = t, n;
}
class ag {
  /**
   * deps: {connection, WebSocket, timers?, log?, state (session store),
   *        onOpen?(), onClose?(), onChange?(), onOffline?(reason),
   *        onOutage?(reason), onRecovered?(), onJoin?(sessionId)}
   */
  constructor(t) {
    this.d = t, this.t = t.timers ?? globalThis, this.log = t.log ?? (() => {
    }), this.state = t.state, this.socket = null, this.open = !1, this.nextId = 1, this.pending = /* @__PURE__ */ new Map(), this.joined = "", this.joinRid = 0, this.attempt = 0, this.stopped = !0, this.reconnectTimer = null, this.outage = "", this.probeTimer = null, this.probeAttempt = 0, this.joinFailed = !1;
  }
  start() {
    this.stopped && (this.stopped = !1, this.connect());
  }
  stop() {
    this.stopped = !0, this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = null, this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.drop(fr("panel closed", "CLOSED"));
    const t = this.socket;
    if (this.socket = null, t) {
      t.onopen = t.onmessage = t.onclose = t.onerror = null;
      try {
        t.close(1e3, "panel closed");
      } catch {
      }
    }
  }
  drop(t) {
    for (const [, n] of this.pending)
      this.t.clearTimeout(n.timer), n.reject(t);
    this.pending.clear();
  }
  async connect() {
    if (this.stopped) return;
    let t;
    try {
      t = await this.d.connection.get();
    } catch (r) {
      return this.log("warn", `comfyd: no connection info (${r?.message ?? r})`), this.d.onOffline?.(String(r?.message ?? r)), this.d.connection.invalidate?.(), this.retry();
    }
    if (this.stopped) return;
    let n;
    try {
      n = new this.d.WebSocket(ou(t, "/comfy/session/ws"), lu(t));
    } catch {
      return this.retry();
    }
    this.socket = n, n.onopen = () => {
      this.open = !0, this.attempt = 0, this.joined && this.sendJoin(this.joined), this.outage && this.scheduleProbe(0), this.d.onOpen?.();
    }, n.onmessage = (r) => this.onMessage(r.data), n.onerror = () => {
    }, n.onclose = (r) => {
      this.socket === n && (this.open || this.d.onOffline?.(`comfyd-bridge does not answer at ${t.bridgeUrl ?? t.wsBase}`), this.socket = null, this.open = !1, this.drop(fr("connection lost", "DISCONNECTED")), this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.d.onClose?.(r?.code), (r?.code === 1008 || r?.code === 1006) && this.d.connection.invalidate?.(), this.retry());
    };
  }
  retry() {
    this.stopped || this.reconnectTimer || (this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, lo(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const r = this.nextId++;
    return new Promise((s, i) => {
      if (!this.send({ event: t, data: n, request_id: r })) {
        i(fr("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(r);
        const l = fr(`${t}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(l.message), i(l);
      }, og);
      this.pending.set(r, { resolve: s, reject: i, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && _u(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
  }
  sendJoin(t, n = !1) {
    const r = n || this.state.sessionId !== t ? 0 : this.state.lastSeq;
    this.joinFailed = !1, this.joinRid = this.nextId++, this.send({ event: "join", data: { session_id: t, last_seq: r }, request_id: this.joinRid }), this.d.onJoin?.(t);
  }
  onMessage(t) {
    let n;
    try {
      n = JSON.parse(t);
    } catch {
      return;
    }
    if (!n || typeof n != "object") return;
    const r = n.request_id;
    if (r !== void 0 && r === this.joinRid && n.event === "error") {
      const s = String(n.data?.code ?? "join_failed"), i = String(n.data?.message ?? "");
      if (lg.has(s)) {
        this.state.lastError = { code: s, message: i, skill: "" }, this.d.onChange?.();
        return;
      }
      this.joinFailed = !0, this.coreAway(i || s);
      return;
    }
    if (r !== void 0 && this.pending.has(r)) {
      const s = this.pending.get(r);
      if (this.pending.delete(r), this.t.clearTimeout(s.timer), n.event === "error") {
        const i = fr(n.data?.message ?? "request failed", n.data?.code ?? "error");
        _s(i) ? this.coreAway(i.message) : this.coreBack(), s.reject(i);
      } else
        this.coreBack(), s.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    yu(n) && n.event !== "error" && this.coreBack(), ng(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
  /** The core is away: say so once, and probe it with backoff. */
  coreAway(t) {
    this.stopped || (this.outage || (this.outage = String(t || "core unavailable"), this.probeAttempt = 0, this.log("warn", `comfyd: core unavailable (${this.outage}); reconnecting`), this.d.onOutage?.(this.outage)), this.scheduleProbe());
  }
  scheduleProbe(t) {
    if (this.stopped || this.probeTimer || !this.open) return;
    const n = t ?? lo(this.probeAttempt++);
    this.probeTimer = this.t.setTimeout(() => {
      this.probeTimer = null, this.probe();
    }, n);
  }
  /** One cheap request through the bridge: an answer means the core is
   * back (coreBack runs from onMessage), an outage error schedules the
   * next probe (coreAway). */
  probe() {
    this.stopped || !this.outage || !this.open || this.request("list", { page_size: 1 }).catch(() => {
    });
  }
  /** The core answered: end the outage, join again from the last seq. */
  coreBack() {
    this.outage && (this.outage = "", this.probeAttempt = 0, this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.log("info", "comfyd: core available again"), this.joined && this.joinFailed && this.open && this.sendJoin(this.joined), this.d.onRecovered?.());
  }
}
const bu = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), ug = Object.freeze(["echo", "openai"]), Di = "workflow-builder", lc = 64 * 1024, Ti = 4096, fg = 64 * 1024, cc = 8, ac = 3 << 20, Mo = Object.freeze(["image/png", "image/jpeg", "image/webp", "image/gif", "text/plain", "text/markdown", "application/json"]), dg = { md: "text/markdown", markdown: "text/markdown", json: "application/json", txt: "text/plain", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };
function hg(e) {
  const t = String(e?.type ?? "").toLowerCase();
  if (Mo.includes(t)) return t;
  const n = String(e?.name ?? "").toLowerCase().split(".").pop();
  return dg[n] ?? t;
}
let pg = 0;
function gg(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let uc = 0;
function mg() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return uc += 1, `panel-${e}-${uc}`;
}
function fc(e) {
  const t = {
    provider: String(e.provider || "echo"),
    model: String(e.model ?? ""),
    base_url: String(e.base_url ?? ""),
    system_prompt: String(e.system_prompt ?? "")
  };
  return Array.isArray(e.active_skills) && (t.skills = e.active_skills.map(String)), t;
}
function dc(e, t) {
  return Array.isArray(e) || Array.isArray(t) ? JSON.stringify(e) === JSON.stringify(t) : e === t;
}
class _g {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value),
   *        app? (the ComfyUI app: node titles, selecting a node),
   *        getJson?(path) (GET on ComfyUI's own server, same origin),
   *        apiUrl?(path) (the URL of such a path, for <img>)}
   */
  constructor(t) {
    this.d = t, this.creatingSession = null, this.settingsQueue = Promise.resolve();
    const n = t.reactive ?? ((r) => r);
    this.state = n(mu()), this.ui = n({
      connected: !1,
      sessions: [],
      searchQuery: "",
      searchHits: null,
      // null: no search shown; [] none found
      skills: [],
      skillErrors: [],
      form: this.formFromConfig(t.readConfig()),
      apiKey: "",
      showSettings: !1,
      showLog: !1,
      notice: "",
      // A revert with the canvas refused because the canvas changed since
      // the agent's change: {messageId, message} (the core's sentence,
      // listing those changes), offering to restore anyway.
      staleRevert: null,
      draft: "",
      busy: !1,
      offlineReason: "",
      // why the bridge cannot be reached (the supervisor's word)
      outage: "",
      // why the core is away while the bridge answers
      image: "",
      // URL of the output shown full size ("" = none)
      // Files picked, dropped or pasted for the next message:
      // [{key, name, mime, size, state: "uploading"|"ready"|"failed", error, sha256, preview}]
      attachments: []
    }), this.outbox = [], this.client = new ag({
      connection: t.connection,
      WebSocket: t.WebSocket,
      timers: t.timers,
      log: t.log,
      state: this.state,
      onOpen: () => this.onOpen(),
      onClose: () => {
        this.ui.connected = !1;
      },
      onChange: () => this.onChange(),
      onOffline: (r) => {
        this.ui.offlineReason = r;
      },
      onOutage: (r) => {
        this.ui.outage = r;
      },
      onRecovered: () => this.onRecovered(),
      onJoin: (r) => this.refreshRuns(r)
    });
  }
  formFromConfig(t) {
    const n = t ?? {};
    return {
      session_id: String(n.session_id ?? ""),
      provider: String(n.provider || "echo"),
      model: String(n.model ?? ""),
      base_url: String(n.base_url ?? ""),
      system_prompt: String(n.system_prompt ?? ""),
      skills: gg(n.skills)
    };
  }
  start() {
    this.ui.form.session_id && this.client.join(this.ui.form.session_id), this.client.start();
  }
  stop() {
    this.client.stop();
  }
  /** The workflow was reloaded into the node (undo, load): follow it. */
  reloadConfig() {
    const t = this.formFromConfig(this.d.readConfig()), n = t.session_id !== this.ui.form.session_id;
    this.ui.form = t, n && this.client.join(t.session_id);
  }
  async onOpen() {
    this.ui.connected = !0, this.ui.offlineReason = "", this.ui.notice = "", await Promise.allSettled([this.refreshSkills(), this.refreshSessions()]), this.client.outage || this.flushOutbox();
  }
  /** The core answers again after an outage: refresh what failed and
   * deliver the messages written meanwhile. */
  async onRecovered() {
    this.ui.outage = "", this.ui.notice = "", this.flushOutbox(), await Promise.allSettled([this.refreshSkills(), this.refreshSessions()]);
  }
  flushOutbox() {
    const t = this.outbox;
    this.outbox = [];
    for (const n of t) this.deliver(n);
  }
  /** Sends one user message; an outage keeps it for the recovery. */
  async deliver(t) {
    try {
      const n = { session_id: t.sid, content: t.content, client_message_id: t.cid };
      t.attachments?.length && (n.attachments = t.attachments);
      const r = await this.client.request("user_message", n);
      t.sid === this.state.sessionId && sg(this.state, t.cid, r.message);
    } catch (n) {
      _s(n) && !this.client.stopped ? (oc(this.state, t.cid), this.outbox.push(t)) : ig(this.state, t.cid, n.message);
    }
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = fc(t), r = this.coreConfig?.sid === this.state.sessionId ? this.coreConfig.values : null, s = this.ui.form;
    for (const [i, o] of Object.entries(n))
      !(r && !dc(s[i], r[i])) && !dc(s[i], o) && (s[i] = o, this.d.writeConfig(i, i === "skills" ? o.join(",") : o));
    this.coreConfig = { sid: this.state.sessionId, values: n };
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`), this.tickDefaultSkill();
    } catch (t) {
      _s(t) || (this.ui.notice = `skills: ${t.message}`);
    }
  }
  /** A panel without a session and without a chosen skill starts with the
   * default skill ticked (when the core has it). */
  tickDefaultSkill() {
    const t = this.ui.form;
    t.session_id || t.skills.length || this.skillsChosen || this.ui.skills.some((n) => n.name === Di) && (t.skills = [Di], this.d.writeConfig("skills", Di));
  }
  async refreshSessions() {
    try {
      const t = await this.client.request("list", { page_size: 50 });
      this.ui.sessions = (t.sessions ?? []).map((n) => ({
        id: String(n.id),
        title: String(n.title || n.id),
        parentId: String(n.parent_id ?? ""),
        forkPoint: Number(n.fork_point) || 0
      }));
    } catch (t) {
      _s(t) || (this.ui.notice = `sessions: ${t.message}`);
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, Ti),
      model: t.model.slice(0, Ti),
      base_url: t.base_url.slice(0, Ti),
      system_prompt: t.system_prompt.slice(0, fg)
    };
  }
  /** Creates a session and selects it. Settings changed while the core is
   * creating it wait for it (creating() below), or they would go to the
   * session shown before, and the new one would keep the old settings. */
  createSession(t = "") {
    return this.creatingSession || (this.creatingSession = this.createSessionNow(t).finally(() => {
      this.creatingSession = null;
    })), this.creatingSession;
  }
  /** Resolves once no session is being created (never rejects). */
  async creating() {
    this.creatingSession && await this.creatingSession;
  }
  async createSessionNow(t) {
    this.ui.busy = !0;
    try {
      const n = {
        title: String(t || `ComfyUI ${(/* @__PURE__ */ new Date()).toISOString().slice(0, 16).replace("T", " ")}`).slice(0, 200),
        config: { ...this.configFields(), active_skills: [...this.ui.form.skills] }
      };
      this.ui.apiKey && (n.api_key = this.ui.apiKey);
      const r = await this.client.request("create", n);
      this.ui.apiKey = "";
      const s = r.session?.id;
      if (!s) throw new Error("the core answered without a session id");
      this.coreConfig = { sid: String(s), values: fc(n.config) }, this.selectSession(String(s)), await this.refreshSessions();
    } catch (n) {
      this.ui.notice = `create: ${n.message}`;
    } finally {
      this.ui.busy = !1;
    }
  }
  /** Searches every session (the session picker's search box). */
  async search() {
    const t = this.ui.searchQuery.trim();
    if (!t) {
      this.ui.searchHits = null;
      return;
    }
    try {
      const n = await this.client.request("search", { query: t, limit: 20 });
      this.ui.searchHits = (n.hits ?? []).map((r) => ({
        key: `${r.kind}:${r.id}`,
        sessionId: String(r.session_id ?? ""),
        title: String(r.session_title || r.session_id || "memory"),
        kind: String(r.kind ?? ""),
        snippet: String(r.snippet ?? "")
      }));
    } catch (n) {
      this.ui.searchHits = null, this.ui.notice = `search: ${n.message}`;
    }
  }
  /** Opens the session of a search hit. */
  openHit(t) {
    this.ui.searchHits = null, t.sessionId && this.selectSession(t.sessionId);
  }
  /**
   * The session the shown one was forked from, or null: {id, title,
   * point} (point: the parent's message the fork was made at). The title
   * comes from the session list; a parent not listed (archived, deleted)
   * shows its id.
   */
  forkOf() {
    const t = this.ui.form.session_id, n = this.ui.sessions.find((o) => o.id === t), r = this.state.session && this.state.sessionId === t ? this.state.session : null, s = String(r?.parent_id || n?.parentId || "");
    if (!t || !s) return null;
    const i = this.ui.sessions.find((o) => o.id === s);
    return {
      id: s,
      title: i ? i.title : s,
      point: Number(r?.fork_point) || n?.forkPoint || 0,
      listed: !!i
    };
  }
  /** Switches to the parent of a fork. */
  openParent() {
    const t = this.forkOf();
    t && this.selectSession(t.id);
  }
  selectSession(t) {
    this.ui.form.session_id = t, this.d.writeConfig("session_id", t), this.client.join(t);
  }
  /** Runs a settings change after the ones before it and after a pending
   * session creation. The bridge may apply requests that are in flight
   * together in any order, so one at a time, each reading the form when it
   * goes out: an older value never wins over a newer one, and a change made
   * while a session is being created reaches the new session. */
  settingsStep(t) {
    const n = this.settingsQueue.then(async () => (await this.creating(), t()));
    return this.settingsQueue = n.catch(() => {
    }), n;
  }
  /** Saves provider, model, base URL and system prompt (workflow + core). */
  saveConfig() {
    for (const [t, n] of Object.entries(this.configFields())) this.d.writeConfig(t, n);
    return this.settingsStep(async () => {
      if (this.ui.form.session_id)
        try {
          await this.client.request("configure", { session_id: this.ui.form.session_id, ...this.configFields() }), this.ui.notice = "";
        } catch (t) {
          this.ui.notice = `configure: ${t.message}`;
        }
    });
  }
  /** Sends the API key to the core and forgets it. */
  setApiKey() {
    const t = this.ui.apiKey;
    return this.ui.apiKey = "", this.settingsStep(async () => {
      if (!this.ui.form.session_id) {
        this.ui.notice = "create or choose a session first";
        return;
      }
      try {
        await this.client.request("configure", { session_id: this.ui.form.session_id, api_key: t }), this.ui.notice = t ? "API key stored in comfyd" : "API key removed";
      } catch (n) {
        this.ui.notice = `API key: ${n.message}`;
      }
    });
  }
  toggleSkill(t, n) {
    this.skillsChosen = !0;
    const r = new Set(this.ui.form.skills);
    n ? r.add(t) : r.delete(t);
    const s = this.ui.skills.map((o) => o.name), i = [...s.filter((o) => r.has(o)), ...[...r].filter((o) => !s.includes(o))];
    return this.ui.form.skills = i, this.d.writeConfig("skills", i.join(",")), this.settingsStep(async () => {
      if (this.ui.form.session_id)
        try {
          await this.client.request("update_skills", { session_id: this.ui.form.session_id, skills: [...this.ui.form.skills] });
        } catch (o) {
          this.ui.notice = `skills: ${o.message}`;
        }
    });
  }
  /** Adds files for the next message: each is checked, then uploaded at
   * once (the core stores it by its hash); its chip says how it went. */
  async addFiles(t) {
    const n = Array.from(t ?? []), r = [];
    for (const s of n) {
      const i = hg(s), o = { key: `att-${++pg}`, name: String(s.name || (i.startsWith("image/") ? "pasted image" : "file")), mime: i, size: Number(s.size) || 0, state: "uploading", error: "", sha256: "", preview: "" };
      if (this.ui.attachments.length >= cc) {
        this.ui.notice = `at most ${cc} files per message`;
        break;
      }
      if (!Mo.includes(i))
        o.state = "failed", o.error = `${i || "this type"} is not accepted (PNG, JPEG, WebP, GIF, text, Markdown, JSON)`;
      else if (o.size > ac)
        o.state = "failed", o.error = `larger than ${ac >> 20} MiB`;
      else if (i.startsWith("image/") && globalThis.URL?.createObjectURL)
        try {
          o.preview = URL.createObjectURL(s);
        } catch {
          o.preview = "";
        }
      this.ui.attachments.push(o), o.state === "uploading" && r.push(this.upload(s, o.key));
    }
    await Promise.all(r);
  }
  async upload(t, n) {
    const r = () => this.ui.attachments.find((s) => s.key === n);
    try {
      if (!this.d.postBytes) throw new Error("uploads are not available here");
      const s = r(), o = (await this.d.postBytes(`/comfyd/attachments?name=${encodeURIComponent(s?.name ?? "")}`, t, s?.mime ?? ""))?.attachment ?? {}, l = r();
      if (!l) return;
      l.sha256 = String(o.sha256 ?? ""), l.mime = String(o.mime_type ?? l.mime), l.state = l.sha256 ? "ready" : "failed", l.sha256 || (l.error = "the upload gave no hash");
    } catch (s) {
      const i = r();
      i && (i.state = "failed", i.error = s.message);
    }
  }
  removeAttachment(t) {
    const n = this.ui.attachments.findIndex((s) => s.key === t);
    if (n < 0) return;
    const [r] = this.ui.attachments.splice(n, 1);
    r.preview && globalThis.URL?.revokeObjectURL && URL.revokeObjectURL(r.preview);
  }
  /** Where the panel reads a stored attachment (same origin). */
  attachmentUrl(t) {
    return this.url(`/comfyd/attachments/${encodeURIComponent(String(t ?? ""))}`);
  }
  async send() {
    const t = this.ui.draft.trim();
    if (this.ui.attachments.some((o) => o.state === "uploading")) {
      this.ui.notice = "wait for the files to finish uploading";
      return;
    }
    const n = this.ui.attachments.filter((o) => o.state === "ready");
    if (!t && !n.length) return;
    if (t.length > lc) {
      this.ui.notice = `a message is at most ${lc} characters`;
      return;
    }
    await this.settingsStep(() => {
    }), this.ui.form.session_id || await this.createSession();
    const r = this.ui.form.session_id;
    if (!r) return;
    this.ui.draft = "";
    const s = n.map((o) => ({ sha256: o.sha256, name: o.name, mime_type: o.mime }));
    for (const o of [...this.ui.attachments]) this.removeAttachment(o.key);
    const i = { cid: mg(), sid: r, content: t, attachments: s };
    if (rg(this.state, i.cid, t, s), this.client.outage) {
      oc(this.state, i.cid), this.outbox.push(i);
      return;
    }
    await this.deliver(i);
  }
  /** The runs of the session as the core has them (after a join: run
   * updates are live only). A core without --comfyui has none. */
  async refreshRuns(t) {
    if (!(!this.d.getJson || !t))
      try {
        const n = await this.d.getJson(`/comfyd/runs?session_id=${encodeURIComponent(t)}&page_size=${Math.min(100, uo)}`);
        if (t !== this.state.sessionId) return;
        for (const r of Array.isArray(n?.runs) ? n.runs : []) gu(this.state, r);
      } catch (n) {
        this.d.log?.("debug", `comfyd: runs of ${t}: ${n.message}`);
      }
  }
  graph() {
    const t = this.d.app;
    return t?.rootGraph ?? t?.graph ?? null;
  }
  /** The canvas node of a prompt's node id ("12", or "12:5" inside a
   * subgraph: then the subgraph node on the canvas). */
  nodeOf(t) {
    const n = this.graph();
    if (!n?.getNodeById || !t) return null;
    const r = String(t), s = (i) => n.getNodeById(/^\d+$/.test(i) ? Number(i) : i) ?? null;
    return s(r) ?? (r.includes(":") ? s(r.split(":")[0]) : null);
  }
  titleOf(t) {
    const n = this.nodeOf(t);
    return n ? String(n.title || n.type || "") : "";
  }
  /** Selects and centres a node on the canvas (the failing one). */
  focusNode(t) {
    const n = this.nodeOf(t), r = this.d.app?.canvas;
    return !n || !r ? (this.ui.notice = `node ${t} is not on this canvas`, !1) : (typeof r.selectNode == "function" ? r.selectNode(n, !1) : typeof r.selectItems == "function" && r.selectItems([n]), typeof r.centerOnNode == "function" && r.centerOnNode(n), r.setDirty?.(!0, !0), this.ui.notice = "", !0);
  }
  /** Shows an output full size ("" closes it). */
  showImage(t) {
    this.ui.image = String(t ?? "");
  }
  /** The URL of a bridge path reached through ComfyUI's server. */
  url(t) {
    return this.d.apiUrl ? this.d.apiUrl(t) : `/api${t}`;
  }
  /** A new session from this message on (ForkSession), then opens it. */
  async forkFrom(t) {
    const n = this.ui.form.session_id;
    if (!(!n || !t))
      try {
        const r = await this.client.request("fork", { session_id: n, message_id: t }), s = r.session?.id;
        if (!s) throw new Error("the core answered without a session id");
        this.selectSession(String(s)), await this.refreshSessions(), this.ui.notice = `forked into "${r.session.title}" (${Number(r.messages_copied) || 0} message(s) copied)`;
      } catch (r) {
        this.ui.notice = `fork: ${r.message}`;
      }
  }
  /**
   * Takes the session back to this message (RevertSession): later
   * messages are hidden; with canvas, the canvas goes back to its
   * checkpoint too. A canvas the user changed since is refused with the
   * list of changes (staleRevert) until asked again with force.
   */
  async revertTo(t, { canvas: n = !1, force: r = !1 } = {}) {
    const s = this.ui.form.session_id;
    if (!(!s || !t)) {
      this.ui.staleRevert = null;
      try {
        const i = await this.client.request("revert", { session_id: s, message_id: t, restore_canvas: n, force: r });
        this.ui.notice = String(i.notice ?? "");
      } catch (i) {
        n && /^STALE_REVISION/.test(i.message) ? this.ui.staleRevert = { messageId: t, message: i.message } : this.ui.notice = `revert: ${i.message}`;
      }
    }
  }
  /**
   * Undoes the session's latest revert (UnrevertSession): the hidden
   * messages come back through the unreverted event. The core refuses
   * once the session was compacted or got new messages since.
   */
  async unrevert() {
    const t = this.ui.form.session_id;
    if (t)
      try {
        const n = await this.client.request("unrevert", { session_id: t });
        this.ui.notice = String(n.notice ?? "");
      } catch (n) {
        this.ui.notice = `undo revert: ${n.message}`, this.state.lastRevert = null;
      }
  }
  async cancel() {
    if (this.ui.form.session_id)
      try {
        await this.client.request("cancel", { session_id: this.ui.form.session_id, clear_queue: !1 });
      } catch (t) {
        this.ui.notice = `cancel: ${t.message}`;
      }
  }
}
const fo = "ComfydAgentPanel", hc = "comfyd-panel-style", pc = Object.freeze([440, 560]), yg = 320, gc = (e) => e?.comfyClass === fo || e?.type === fo;
function bg(e, t) {
  if (e.getElementById(hc)) return;
  const n = e.createElement("style");
  n.id = hc, n.textContent = t, e.head.appendChild(n);
}
function kg(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function wg(e) {
  for (const [t, n] of bu) {
    let r = (e.widgets ?? []).find((s) => s.name === t);
    r || (r = e.addWidget("text", t, n, () => {
    }, {})), kg(r);
  }
}
function xg(e) {
  const t = {};
  for (const [n, r] of bu) {
    const i = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof i == "string" ? i : r;
  }
  return t;
}
function vg(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: r } = t;
  bg(r, t.css), wg(e);
  const s = (m, g) => {
    const h = (e.widgets ?? []).find((w) => w.name === m);
    !h || h.value === g || (h.value = g, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, i = new _g({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => xg(e),
    writeConfig: s,
    app: n,
    getJson: t.getJson,
    apiUrl: t.apiUrl,
    postBytes: t.postBytes
  }), o = r.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: i });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const m = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => yg,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    m.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  const c = () => {
    (Array.isArray(e.size) || ArrayBuffer.isView(e.size)) && e.setSize?.([Math.max(e.size[0], pc[0]), Math.max(e.size[1], pc[1])]);
  };
  c();
  let a = !1;
  const u = e.onConfigure;
  e.onConfigure = function(...m) {
    a = !0;
    const g = u?.apply(this, m);
    return i.reloadConfig(), g;
  };
  const d = e.onRemoved;
  return e.onRemoved = function(...m) {
    i.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, d?.apply(this, m);
  }, setTimeout(() => {
    e.__comfydPanel && (a || (c(), e.setDirtyCanvas?.(!0, !0)), i.reloadConfig(), i.start());
  }, 0), e.__comfydPanel = i, i;
}
function mc(e, t) {
  (t == null || t > e.length) && (t = e.length);
  for (var n = 0, r = Array(t); n < t; n++) r[n] = e[n];
  return r;
}
function Ag(e) {
  if (Array.isArray(e)) return e;
}
function Rg(e, t) {
  var n = e == null ? null : typeof Symbol < "u" && e[Symbol.iterator] || e["@@iterator"];
  if (n != null) {
    var r, s, i, o, l = [], c = !0, a = !1;
    try {
      if (i = (n = n.call(e)).next, t !== 0) for (; !(c = (r = i.call(n)).done) && (l.push(r.value), l.length !== t); c = !0) ;
    } catch (u) {
      a = !0, s = u;
    } finally {
      try {
        if (!c && n.return != null && (o = n.return(), Object(o) !== o)) return;
      } finally {
        if (a) throw s;
      }
    }
    return l;
  }
}
function Cg() {
  throw new TypeError(`Invalid attempt to destructure non-iterable instance.
In order to be iterable, non-array objects must have a [Symbol.iterator]() method.`);
}
function Eg(e, t) {
  return Ag(e) || Rg(e, t) || Sg(e, t) || Cg();
}
function Sg(e, t) {
  if (e) {
    if (typeof e == "string") return mc(e, t);
    var n = {}.toString.call(e).slice(8, -1);
    return n === "Object" && e.constructor && (n = e.constructor.name), n === "Map" || n === "Set" ? Array.from(e) : n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n) ? mc(e, t) : void 0;
  }
}
const ku = Object.entries, Dg = Object.keys, _c = Object.setPrototypeOf, Tg = Object.isFrozen, wu = Object.getPrototypeOf, xu = Object.getOwnPropertyDescriptor;
let Ve = Object.freeze, $e = Object.seal, nn = Object.create, vu = typeof Reflect < "u" && Reflect, Ds = vu.apply, ho = vu.construct;
Ve || (Ve = function(t) {
  return t;
});
$e || ($e = function(t) {
  return t;
});
Ds || (Ds = function(t, n) {
  for (var r = arguments.length, s = new Array(r > 2 ? r - 2 : 0), i = 2; i < r; i++) s[i - 2] = arguments[i];
  return t.apply(n, s);
});
ho || (ho = function(t) {
  for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), s = 1; s < n; s++) r[s - 1] = arguments[s];
  return new t(...r);
});
const $t = Me(Array.prototype.forEach), Fg = Me(Array.prototype.lastIndexOf), yc = Me(Array.prototype.pop), dr = Me(Array.prototype.push), Ig = Me(Array.prototype.slice), Og = Me(Array.prototype.splice), Zn = Array.isArray, Fi = Au(Set), Ii = Me(Set.prototype.add), hr = Me(Set.prototype.has), Cn = Me(String.prototype.toLowerCase), Oi = Me(String.prototype.toString), Ng = Me(String.prototype.match), ls = Me(String.prototype.replace), Ni = Me(String.prototype.indexOf), Mg = Me(String.prototype.trim), Lg = Me(Number.prototype.toString), Pg = Me(Boolean.prototype.toString), bc = typeof BigInt > "u" ? null : Me(BigInt.prototype.toString), kc = typeof Symbol > "u" ? null : Me(Symbol.prototype.toString), Ze = Me(Object.prototype.hasOwnProperty), pr = Me(Object.prototype.toString), jg = RegExp.prototype.test, qe = function(t, n) {
  return t instanceof RegExp && (t.lastIndex = 0), Ds(jg, t, [n]);
}, Bt = Au(TypeError);
function Me(e) {
  return function(t) {
    for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), s = 1; s < n; s++) r[s - 1] = arguments[s];
    return Ds(e, t, r);
  };
}
function Au(e) {
  return function() {
    for (var t = arguments.length, n = new Array(t), r = 0; r < t; r++) n[r] = arguments[r];
    return ho(e, n);
  };
}
function we(e, t) {
  let n = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : Cn;
  if (_c && _c(e, null), !Zn(t)) return e;
  let r = t.length;
  for (; r--; ) {
    let s = t[r];
    if (typeof s == "string") {
      const i = n(s);
      i !== s && (Tg(t) || (t[r] = i), s = i);
    }
    e[s] = !0;
  }
  return e;
}
function $g(e) {
  for (let t = 0; t < e.length; t++) Ze(e, t) || (e[t] = null);
  return e;
}
function Ts(e) {
  const t = nn(null);
  for (const r of ku(e)) {
    var n = Eg(r, 2);
    const s = n[0], i = n[1];
    Ze(e, s) && (Zn(i) ? t[s] = $g(i) : i && typeof i == "object" && i.constructor === Object ? t[s] = Ts(i) : t[s] = i);
  }
  return t;
}
function yr(e) {
  const t = nn(null), n = Dg(e);
  let r = n.length;
  for (; r--; ) t[n[r]] = e[n[r]];
  return t;
}
function Bg(e) {
  switch (typeof e) {
    case "string":
      return e;
    case "number":
      return Lg(e);
    case "boolean":
      return Pg(e);
    case "bigint":
      return bc ? bc(e) : "0";
    case "symbol":
      return kc ? kc(e) : "Symbol()";
    case "undefined":
      return pr(e);
    case "function":
    case "object": {
      if (e === null) return pr(e);
      const t = e, n = ft(t, "toString");
      if (typeof n == "function") {
        const r = n(t);
        return typeof r == "string" ? r : pr(r);
      }
      return pr(e);
    }
    default:
      return pr(e);
  }
}
function ft(e, t) {
  for (; e !== null; ) {
    const r = xu(e, t);
    if (r) {
      if (r.get) return Me(r.get);
      if (typeof r.value == "function") return Me(r.value);
    }
    e = wu(e);
  }
  function n() {
    return null;
  }
  return n;
}
function zg(e, t) {
  for (; e !== null; ) {
    const n = xu(e, t);
    if (n) return n.get ? Me(n.get) : null;
    e = wu(e);
  }
  return null;
}
function Ug(e) {
  if (!e) return !1;
  try {
    return qe(e, ""), !0;
  } catch {
    return !1;
  }
}
const wc = Ve([
  "a",
  "abbr",
  "acronym",
  "address",
  "area",
  "article",
  "aside",
  "audio",
  "b",
  "bdi",
  "bdo",
  "big",
  "blink",
  "blockquote",
  "body",
  "br",
  "button",
  "canvas",
  "caption",
  "center",
  "cite",
  "code",
  "col",
  "colgroup",
  "content",
  "data",
  "datalist",
  "dd",
  "decorator",
  "del",
  "details",
  "dfn",
  "dialog",
  "dir",
  "div",
  "dl",
  "dt",
  "element",
  "em",
  "fieldset",
  "figcaption",
  "figure",
  "font",
  "footer",
  "form",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "head",
  "header",
  "hgroup",
  "hr",
  "html",
  "i",
  "img",
  "input",
  "ins",
  "kbd",
  "label",
  "legend",
  "li",
  "main",
  "map",
  "mark",
  "marquee",
  "menu",
  "menuitem",
  "meter",
  "nav",
  "nobr",
  "ol",
  "optgroup",
  "option",
  "output",
  "p",
  "picture",
  "pre",
  "progress",
  "q",
  "rp",
  "rt",
  "ruby",
  "s",
  "samp",
  "search",
  "section",
  "select",
  "shadow",
  "slot",
  "small",
  "source",
  "spacer",
  "span",
  "strike",
  "strong",
  "style",
  "sub",
  "summary",
  "sup",
  "table",
  "tbody",
  "td",
  "template",
  "textarea",
  "tfoot",
  "th",
  "thead",
  "time",
  "tr",
  "track",
  "tt",
  "u",
  "ul",
  "var",
  "video",
  "wbr"
]), Mi = Ve([
  "svg",
  "a",
  "altglyph",
  "altglyphdef",
  "altglyphitem",
  "animatecolor",
  "animatemotion",
  "animatetransform",
  "circle",
  "clippath",
  "defs",
  "desc",
  "ellipse",
  "filter",
  "font",
  "g",
  "glyph",
  "glyphref",
  "hkern",
  "image",
  "line",
  "lineargradient",
  "marker",
  "mask",
  "metadata",
  "mpath",
  "path",
  "pattern",
  "polygon",
  "polyline",
  "radialgradient",
  "rect",
  "stop",
  "style",
  "switch",
  "symbol",
  "text",
  "textpath",
  "title",
  "tref",
  "tspan",
  "view",
  "vkern"
]), Li = Ve([
  "feBlend",
  "feColorMatrix",
  "feComponentTransfer",
  "feComposite",
  "feConvolveMatrix",
  "feDiffuseLighting",
  "feDisplacementMap",
  "feDistantLight",
  "feDropShadow",
  "feFlood",
  "feFuncA",
  "feFuncB",
  "feFuncG",
  "feFuncR",
  "feGaussianBlur",
  "feImage",
  "feMerge",
  "feMergeNode",
  "feMorphology",
  "feOffset",
  "fePointLight",
  "feSpecularLighting",
  "feSpotLight",
  "feTile",
  "feTurbulence"
]), Wg = Ve([
  "animate",
  "color-profile",
  "cursor",
  "discard",
  "font-face",
  "font-face-format",
  "font-face-name",
  "font-face-src",
  "font-face-uri",
  "foreignobject",
  "hatch",
  "hatchpath",
  "mesh",
  "meshgradient",
  "meshpatch",
  "meshrow",
  "missing-glyph",
  "script",
  "set",
  "solidcolor",
  "unknown",
  "use"
]), Pi = Ve([
  "math",
  "menclose",
  "merror",
  "mfenced",
  "mfrac",
  "mglyph",
  "mi",
  "mlabeledtr",
  "mmultiscripts",
  "mn",
  "mo",
  "mover",
  "mpadded",
  "mphantom",
  "mroot",
  "mrow",
  "ms",
  "mspace",
  "msqrt",
  "mstyle",
  "msub",
  "msup",
  "msubsup",
  "mtable",
  "mtd",
  "mtext",
  "mtr",
  "munder",
  "munderover",
  "mprescripts"
]), Jg = Ve([
  "maction",
  "maligngroup",
  "malignmark",
  "mlongdiv",
  "mscarries",
  "mscarry",
  "msgroup",
  "mstack",
  "msline",
  "msrow",
  "semantics",
  "annotation",
  "annotation-xml",
  "mprescripts",
  "none"
]), xc = Ve(["#text"]), vc = Ve([
  "accept",
  "action",
  "align",
  "alt",
  "autocapitalize",
  "autocomplete",
  "autopictureinpicture",
  "autoplay",
  "background",
  "bgcolor",
  "border",
  "capture",
  "cellpadding",
  "cellspacing",
  "checked",
  "cite",
  "class",
  "clear",
  "color",
  "cols",
  "colspan",
  "command",
  "commandfor",
  "controls",
  "controlslist",
  "coords",
  "crossorigin",
  "datetime",
  "decoding",
  "default",
  "dir",
  "disabled",
  "disablepictureinpicture",
  "disableremoteplayback",
  "download",
  "draggable",
  "enctype",
  "enterkeyhint",
  "exportparts",
  "face",
  "for",
  "headers",
  "height",
  "hidden",
  "high",
  "href",
  "hreflang",
  "id",
  "inert",
  "inputmode",
  "integrity",
  "ismap",
  "kind",
  "label",
  "lang",
  "list",
  "loading",
  "loop",
  "low",
  "max",
  "maxlength",
  "media",
  "method",
  "min",
  "minlength",
  "multiple",
  "muted",
  "name",
  "nonce",
  "noshade",
  "novalidate",
  "nowrap",
  "open",
  "optimum",
  "part",
  "pattern",
  "placeholder",
  "playsinline",
  "popover",
  "popovertarget",
  "popovertargetaction",
  "poster",
  "preload",
  "pubdate",
  "radiogroup",
  "readonly",
  "rel",
  "required",
  "rev",
  "reversed",
  "role",
  "rows",
  "rowspan",
  "spellcheck",
  "scope",
  "selected",
  "shape",
  "size",
  "sizes",
  "slot",
  "span",
  "srclang",
  "start",
  "src",
  "srcset",
  "step",
  "style",
  "summary",
  "tabindex",
  "title",
  "translate",
  "type",
  "usemap",
  "valign",
  "value",
  "width",
  "wrap",
  "xmlns"
]), ji = Ve([
  "accent-height",
  "accumulate",
  "additive",
  "alignment-baseline",
  "amplitude",
  "ascent",
  "attributename",
  "attributetype",
  "azimuth",
  "basefrequency",
  "baseline-shift",
  "begin",
  "bias",
  "by",
  "class",
  "clip",
  "clippathunits",
  "clip-path",
  "clip-rule",
  "color",
  "color-interpolation",
  "color-interpolation-filters",
  "color-profile",
  "color-rendering",
  "cx",
  "cy",
  "d",
  "dx",
  "dy",
  "diffuseconstant",
  "direction",
  "display",
  "divisor",
  "dominant-baseline",
  "dur",
  "edgemode",
  "elevation",
  "end",
  "exponent",
  "fill",
  "fill-opacity",
  "fill-rule",
  "filter",
  "filterunits",
  "flood-color",
  "flood-opacity",
  "font-family",
  "font-size",
  "font-size-adjust",
  "font-stretch",
  "font-style",
  "font-variant",
  "font-weight",
  "fx",
  "fy",
  "g1",
  "g2",
  "glyph-name",
  "glyphref",
  "gradientunits",
  "gradienttransform",
  "height",
  "href",
  "id",
  "image-rendering",
  "in",
  "in2",
  "intercept",
  "k",
  "k1",
  "k2",
  "k3",
  "k4",
  "kerning",
  "keypoints",
  "keysplines",
  "keytimes",
  "lang",
  "lengthadjust",
  "letter-spacing",
  "kernelmatrix",
  "kernelunitlength",
  "lighting-color",
  "local",
  "marker-end",
  "marker-mid",
  "marker-start",
  "markerheight",
  "markerunits",
  "markerwidth",
  "maskcontentunits",
  "maskunits",
  "max",
  "mask",
  "mask-type",
  "media",
  "method",
  "mode",
  "min",
  "name",
  "numoctaves",
  "offset",
  "operator",
  "opacity",
  "order",
  "orient",
  "orientation",
  "origin",
  "overflow",
  "paint-order",
  "path",
  "pathlength",
  "patterncontentunits",
  "patterntransform",
  "patternunits",
  "pointer-events",
  "points",
  "preservealpha",
  "preserveaspectratio",
  "primitiveunits",
  "r",
  "rx",
  "ry",
  "radius",
  "refx",
  "refy",
  "repeatcount",
  "repeatdur",
  "restart",
  "result",
  "rotate",
  "scale",
  "seed",
  "shape-rendering",
  "slope",
  "specularconstant",
  "specularexponent",
  "spreadmethod",
  "startoffset",
  "stddeviation",
  "stitchtiles",
  "stop-color",
  "stop-opacity",
  "stroke-dasharray",
  "stroke-dashoffset",
  "stroke-linecap",
  "stroke-linejoin",
  "stroke-miterlimit",
  "stroke-opacity",
  "stroke",
  "stroke-width",
  "style",
  "surfacescale",
  "systemlanguage",
  "tabindex",
  "tablevalues",
  "targetx",
  "targety",
  "transform",
  "transform-origin",
  "text-anchor",
  "text-decoration",
  "text-orientation",
  "text-rendering",
  "textlength",
  "type",
  "u1",
  "u2",
  "unicode",
  "values",
  "vector-effect",
  "viewbox",
  "visibility",
  "version",
  "vert-adv-y",
  "vert-origin-x",
  "vert-origin-y",
  "width",
  "word-spacing",
  "wrap",
  "writing-mode",
  "xchannelselector",
  "ychannelselector",
  "x",
  "x1",
  "x2",
  "xmlns",
  "y",
  "y1",
  "y2",
  "z",
  "zoomandpan"
]), Ac = Ve([
  "accent",
  "accentunder",
  "align",
  "bevelled",
  "close",
  "columnalign",
  "columnlines",
  "columnspacing",
  "columnspan",
  "denomalign",
  "depth",
  "dir",
  "display",
  "displaystyle",
  "encoding",
  "fence",
  "frame",
  "height",
  "href",
  "id",
  "largeop",
  "length",
  "linethickness",
  "lquote",
  "lspace",
  "mathbackground",
  "mathcolor",
  "mathsize",
  "mathvariant",
  "maxsize",
  "minsize",
  "movablelimits",
  "notation",
  "numalign",
  "open",
  "rowalign",
  "rowlines",
  "rowspacing",
  "rowspan",
  "rspace",
  "rquote",
  "scriptlevel",
  "scriptminsize",
  "scriptsizemultiplier",
  "selection",
  "separator",
  "separators",
  "stretchy",
  "subscriptshift",
  "supscriptshift",
  "symmetric",
  "voffset",
  "width",
  "xmlns"
]), cs = Ve([
  "xlink:href",
  "xml:id",
  "xlink:title",
  "xml:space",
  "xmlns:xlink"
]), qg = $e(/{{[\w\W]*|^[\w\W]*}}/g), Hg = $e(/<%[\w\W]*|^[\w\W]*%>/g), Vg = $e(/\${[\w\W]*/g), Gg = $e(/{{|}}|\${|<%|%>|&lt;%|%&gt;/), Kg = $e(/^data-[\-\w.\u00B7-\uFFFF]+$/), Yg = $e(/^aria-[\-\w]+$/), Rc = $e(/^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i), Xg = $e(/^(?:\w+script|data):/i), Zg = $e(/[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g), Qg = $e(/^html$/i), em = $e(/^[a-z][.\w]*(-[.\w]+)+$/i), $i = $e(/<[/\w!]/g), Cc = $e(/<[/\w]/g), tm = $e(/<\/no(script|embed|frames)/i), Ec = $e(/\/>/i), nm = $e(/((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i), rm = $e(/^[\r\n\t ]+/), Pe = {
  element: 1,
  text: 3,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentFragment: 11
}, sm = Ve(we({}, [
  "style",
  "script",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "plaintext",
  "noscript"
])), im = function() {
  return typeof window > "u" ? null : window;
}, om = function(t, n) {
  if (typeof t != "object" || typeof t.createPolicy != "function") return null;
  let r = null;
  const s = "data-tt-policy-suffix";
  n && n.hasAttribute(s) && (r = n.getAttribute(s));
  const i = "dompurify" + (r ? "#" + r : "");
  try {
    return t.createPolicy(i, {
      createHTML(o) {
        return o;
      },
      createScriptURL(o) {
        return o;
      }
    });
  } catch {
    return console.warn("TrustedTypes policy " + i + " could not be created."), null;
  }
}, Sc = function() {
  return {
    afterSanitizeAttributes: [],
    afterSanitizeElements: [],
    afterSanitizeShadowDOM: [],
    beforeSanitizeAttributes: [],
    beforeSanitizeElements: [],
    beforeSanitizeShadowDOM: [],
    uponSanitizeAttribute: [],
    uponSanitizeElement: [],
    uponSanitizeShadowNode: []
  };
}, Qt = function(t, n, r, s) {
  return Ze(t, n) && Zn(t[n]) ? we(s.base ? yr(s.base) : {}, t[n], s.transform) : r;
}, Bi = function(t, n, r) {
  const s = Ze(t, n) ? t[n] : void 0;
  return s && typeof s == "object" ? Ts(s) : r;
};
function Ru() {
  let e = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : im();
  const t = (I) => Ru(I);
  if (t.version = "3.4.18", t.removed = [], !e || !e.document || e.document.nodeType !== Pe.document || !e.Element)
    return t.isSupported = !1, t;
  let n = e.document;
  const r = n, s = r.currentScript, i = e.HTMLTemplateElement, o = e.Node, l = e.Element, c = e.NodeFilter, a = e.DOMParser, u = e.trustedTypes, d = l.prototype, m = ft(d, "cloneNode"), g = ft(d, "remove"), h = ft(d, "removeAttributeNode"), w = ft(d, "nextSibling"), v = ft(d, "childNodes"), C = ft(d, "parentNode"), x = ft(d, "shadowRoot"), k = ft(d, "attributes"), b = o && o.prototype ? ft(o.prototype, "nodeType") : null, O = o && o.prototype ? ft(o.prototype, "nodeName") : null, z = o && o.prototype ? ft(o.prototype, "ownerDocument") : null, j = function(f) {
    return b ? b(f) : f.nodeType;
  }, ee = function(f) {
    return O ? O(f) : f.nodeName;
  }, Y = zg(d, "namespaceURI"), ue = function(f) {
    return Y ? Y(f) : f.namespaceURI;
  };
  if (typeof i == "function") {
    const I = n.createElement("template");
    I.content && I.content.ownerDocument && (n = I.content.ownerDocument);
  }
  let ne, pe = "", Fe, ve = !1, Re = 0;
  const ut = function() {
    if (Re > 0) throw Bt('A configured TRUSTED_TYPES_POLICY callback (createHTML or createScriptURL) must not call DOMPurify.sanitize, as that causes infinite recursion. Do not pass a policy whose callbacks wrap DOMPurify as TRUSTED_TYPES_POLICY; see the "DOMPurify and Trusted Types" section of the README.');
  }, J = function(f) {
    ut(), Re++;
    try {
      return ne.createHTML(f);
    } finally {
      Re--;
    }
  }, oe = function(f) {
    return ne && qs ? J(f) : f;
  }, le = function(f) {
    ut(), Re++;
    try {
      return ne.createScriptURL(f);
    } finally {
      Re--;
    }
  }, _e = function() {
    return ve || (Fe = om(u, s), ve = !0), Fe;
  }, Ce = n, ye = Ce.implementation, G = Ce.createNodeIterator, T = Ce.createDocumentFragment, E = Ce.getElementsByTagName, X = r.importNode;
  let me = Sc();
  t.isSupported = typeof ku == "function" && typeof C == "function" && ye && ye.createHTMLDocument !== void 0;
  const qr = qg, hn = Hg, zo = Vg, p = Kg, _ = Yg, A = Xg, P = Zg, S = em;
  let F = Rc, M = null;
  const $ = we({}, [
    ...wc,
    ...Mi,
    ...Li,
    ...Pi,
    ...xc
  ]);
  let N = null;
  const D = we({}, [
    ...vc,
    ...ji,
    ...Ac,
    ...cs
  ]);
  let V = null, U = null, Z = null;
  const te = Object.seal(nn(null, {
    tagCheck: {
      writable: !0,
      configurable: !1,
      enumerable: !0,
      value: null
    },
    attributeCheck: {
      writable: !0,
      configurable: !1,
      enumerable: !0,
      value: null
    }
  }));
  let ge = !0, be = !0, ke = !1, Ie = !0, Ee = !1, Be = !0, Ue = !1, lt = !1, pn = null, We = null, st = !1, Lt = !1, gn = !1, qs = !1, Uo = !0, Wo = !1;
  const Jo = "user-content-";
  let Hs = !0, Vs = !1, mn = null, $n = !1, _n = null;
  const qo = we({}, [
    "annotation-xml",
    "audio",
    "colgroup",
    "desc",
    "foreignobject",
    "head",
    "iframe",
    "math",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
    "script",
    "selectedcontent",
    "style",
    "svg",
    "template",
    "thead",
    "title",
    "video",
    "xmp"
  ]);
  let Ho = null;
  const Vo = we({}, [
    "audio",
    "video",
    "img",
    "source",
    "image",
    "track"
  ]);
  let Go = null;
  const Ko = we({}, [
    "alt",
    "class",
    "for",
    "id",
    "label",
    "name",
    "pattern",
    "placeholder",
    "role",
    "summary",
    "title",
    "value",
    "style",
    "xmlns"
  ]), Hr = "http://www.w3.org/1998/Math/MathML", Vr = "http://www.w3.org/2000/svg", vt = "http://www.w3.org/1999/xhtml";
  let Bn = vt, Gs = !1, Yo = null;
  const rf = we({}, [
    Hr,
    Vr,
    vt
  ], Oi), sf = Ve(we({}, [
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext"
  ]));
  let Ks = null;
  const of = Ve(we({}, ["annotation-xml"]));
  let Ys = null;
  const lf = Ve(nn(null)), cf = we({}, [
    "title",
    "style",
    "font",
    "a",
    "script"
  ]);
  let lr = null;
  const af = ["application/xhtml+xml", "text/html"], uf = "text/html";
  let Le = null, Gr = null;
  const ff = n.createElement("form"), Xo = function(f) {
    return f instanceof RegExp || f instanceof Function;
  }, Xs = function() {
    let f = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    (!f || typeof f != "object") && (f = {}), f = Ts(f), lr = af.indexOf(f.PARSER_MEDIA_TYPE) === -1 ? uf : f.PARSER_MEDIA_TYPE, Le = lr === "application/xhtml+xml" ? Oi : Cn, M = Qt(f, "ALLOWED_TAGS", $, { transform: Le }), N = Qt(f, "ALLOWED_ATTR", D, { transform: Le }), Yo = Qt(f, "ALLOWED_NAMESPACES", rf, { transform: Oi }), Go = Qt(f, "ADD_URI_SAFE_ATTR", Ko, {
      transform: Le,
      base: Ko
    }), Ho = Qt(f, "ADD_DATA_URI_TAGS", Vo, {
      transform: Le,
      base: Vo
    }), _n = Qt(f, "FORBID_CONTENTS", qo, { transform: Le }), U = Qt(f, "FORBID_TAGS", nn(null), { transform: Le }), Z = Qt(f, "FORBID_ATTR", nn(null), { transform: Le }), $n = Ze(f, "USE_PROFILES") ? f.USE_PROFILES && typeof f.USE_PROFILES == "object" ? Ts(f.USE_PROFILES) : f.USE_PROFILES : !1, ge = f.ALLOW_ARIA_ATTR !== !1, be = f.ALLOW_DATA_ATTR !== !1, ke = f.ALLOW_UNKNOWN_PROTOCOLS || !1, Ie = f.ALLOW_SELF_CLOSE_IN_ATTR !== !1, Ee = f.SAFE_FOR_TEMPLATES || !1, Be = f.SAFE_FOR_XML !== !1, Ue = f.WHOLE_DOCUMENT || !1, Lt = f.RETURN_DOM || !1, gn = f.RETURN_DOM_FRAGMENT || !1, qs = f.RETURN_TRUSTED_TYPE || !1, st = f.FORCE_BODY || !1, Uo = f.SANITIZE_DOM !== !1, Wo = f.SANITIZE_NAMED_PROPS || !1, Hs = f.KEEP_CONTENT !== !1, Vs = f.IN_PLACE || !1, F = Ug(f.ALLOWED_URI_REGEXP) ? f.ALLOWED_URI_REGEXP : Rc, Bn = typeof f.NAMESPACE == "string" ? f.NAMESPACE : vt, Ks = Bi(f, "MATHML_TEXT_INTEGRATION_POINTS", sf), Ys = Bi(f, "HTML_INTEGRATION_POINTS", of);
    const y = Bi(f, "CUSTOM_ELEMENT_HANDLING", lf);
    if (V = nn(null), Ze(y, "tagNameCheck") && Xo(y.tagNameCheck) && (V.tagNameCheck = y.tagNameCheck), Ze(y, "attributeNameCheck") && Xo(y.attributeNameCheck) && (V.attributeNameCheck = y.attributeNameCheck), Ze(y, "allowCustomizedBuiltInElements") && typeof y.allowCustomizedBuiltInElements == "boolean" && (V.allowCustomizedBuiltInElements = y.allowCustomizedBuiltInElements), $e(V), Ee && (be = !1), gn && (Lt = !0), $n && ((Ze(f, "ALLOWED_TAGS") || Ze(f, "ALLOWED_ATTR")) && typeof console < "u" && typeof console.warn == "function" && console.warn("DOMPurify: USE_PROFILES overrides ALLOWED_TAGS and ALLOWED_ATTR. Do not use these options together."), M = we({}, xc), N = nn(null), $n.html === !0 && (we(M, wc), we(N, vc)), $n.svg === !0 && (we(M, Mi), we(N, ji), we(N, cs)), $n.svgFilters === !0 && (we(M, Li), we(N, ji), we(N, cs)), $n.mathMl === !0 && (we(M, Pi), we(N, Ac), we(N, cs))), te.tagCheck = null, te.attributeCheck = null, Ze(f, "ADD_TAGS") && (typeof f.ADD_TAGS == "function" ? te.tagCheck = f.ADD_TAGS : Zn(f.ADD_TAGS) && (M === $ && (M = yr(M)), we(M, f.ADD_TAGS, Le))), Ze(f, "ADD_ATTR") && (typeof f.ADD_ATTR == "function" ? te.attributeCheck = f.ADD_ATTR : Zn(f.ADD_ATTR) && (N === D && (N = yr(N)), we(N, f.ADD_ATTR, Le))), Ze(f, "ADD_FORBID_CONTENTS") && Zn(f.ADD_FORBID_CONTENTS) && (_n === qo && (_n = yr(_n)), we(_n, f.ADD_FORBID_CONTENTS, Le)), Hs && (M["#text"] = !0), Ue && we(M, [
      "html",
      "head",
      "body"
    ]), M.table && (M.tbody = !0, delete U.tbody), f.TRUSTED_TYPES_POLICY) {
      if (typeof f.TRUSTED_TYPES_POLICY.createHTML != "function") throw Bt('TRUSTED_TYPES_POLICY configuration option must provide a "createHTML" hook.');
      if (typeof f.TRUSTED_TYPES_POLICY.createScriptURL != "function") throw Bt('TRUSTED_TYPES_POLICY configuration option must provide a "createScriptURL" hook.');
      const R = ne;
      ne = f.TRUSTED_TYPES_POLICY;
      try {
        pe = J("");
      } catch (L) {
        throw ne = R, L;
      }
    } else f.TRUSTED_TYPES_POLICY === null ? (ne = void 0, pe = "") : (ne === void 0 && (ne = _e()), ne && typeof pe == "string" && (pe = J("")));
    Gr = Ve(f);
  }, Zo = we({}, [
    ...Mi,
    ...Li,
    ...Wg
  ]), Qo = we({}, [...Pi, ...Jg]), df = function(f, y, R) {
    return y === vt ? f === "svg" : y === Hr ? f === "svg" && (R === "annotation-xml" || Ks[R]) : !!Zo[f];
  }, hf = function(f, y, R) {
    return y === vt ? f === "math" : y === Vr ? f === "math" && Ys[R] : !!Qo[f];
  }, pf = function(f, y, R) {
    return y === Vr && !Ys[R] || y === Hr && !Ks[R] ? !1 : !Qo[f] && (cf[f] || !Zo[f]);
  }, gf = function(f) {
    const y = ue(f), R = Cn(ee(f)), L = C(f);
    let Q = Bn, se = "template";
    return L && j(L) === Pe.element && (Q = ue(L), se = Cn(ee(L))), Yo[y] ? y === Vr ? df(R, Q, se) : y === Hr ? hf(R, Q, se) : y === vt ? pf(R, Q, se) : lr === "application/xhtml+xml" : !1;
  }, Yt = function(f) {
    dr(t.removed, { element: f });
    try {
      C(f).removeChild(f);
    } catch {
      if (g(f), !C(f)) throw Bt("a node selected for removal could not be detached from its tree and cannot be safely returned; refusing to sanitize in place");
    }
  }, el = function(f, y, R) {
    try {
      h(f, y);
    } catch {
      try {
        f.removeAttribute(R);
      } catch {
      }
    }
  }, Zs = function(f) {
    ti(f);
    const y = v(f);
    y && $t(Ig(y), (R) => {
      try {
        g(R);
      } catch {
      }
    }), j(f) === Pe.element && Qs(f, !1);
  }, zn = function(f, y, R) {
    if (!R) try {
      R = y.getAttributeNode(f);
    } catch {
      R = null;
    }
    if (dr(t.removed, {
      attribute: R || null,
      from: y
    }), R) el(y, R, f);
    else try {
      y.removeAttribute(f);
    } catch {
    }
    if (f === "is")
      if (Lt || gn) try {
        Yt(y);
      } catch {
      }
      else try {
        y.setAttribute(f, "");
      } catch {
      }
  }, Qs = function(f, y) {
    const R = k(f);
    if (R)
      for (let L = R.length - 1; L >= 0; --L) {
        const Q = R[L], se = Q && Q.name;
        typeof se == "string" && !(y && N[Le(se)]) && el(f, Q, se);
      }
  }, ei = function(f, y) {
    let R = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : !1;
    const L = [f];
    for (; L.length > 0; ) {
      const Q = L.pop();
      if (y(Q) === !1) continue;
      if (R && j(Q) === Pe.element) {
        const fe = x(Q);
        Un(fe) && L.push(fe);
      }
      const se = v(Q);
      if (se) for (let fe = se.length - 1; fe >= 0; --fe) L.push(se[fe]);
    }
  }, ti = function(f) {
    ei(f, (y) => {
      j(y) === Pe.element && Qs(y, !0);
    });
  }, ni = function(f) {
    const y = [];
    return ei(f, (R) => {
      y.push(R);
    }, !0), y;
  }, mf = function(f, y) {
    const R = Fi();
    $t(ni(f), (L) => {
      j(L) === Pe.element && Ii(R, L);
    }), $t(y, (L) => {
      j(L) === Pe.element && !hr(R, L) && Qs(L, !0);
    });
  }, tl = function(f, y) {
    let R = !1;
    return $t(t.removed, (L) => {
      L.element && (R = R || L.element === f, ti(L.element));
    }), mf(f, y), R;
  }, _f = 8, yf = function(f, y) {
    const R = mn;
    let L = null;
    const Q = () => (L || (L = Fi(), $t(y, (se) => {
      Ii(L, se);
    })), L);
    for (let se = 0; ; se++) {
      const fe = ni(f), ze = [f];
      let Pt = !1;
      if ($t(fe, (_t) => {
        j(_t) === Pe.documentFragment ? dr(ze, _t) : !Pt && !hr(R, _t) && (Pt = hr(Q(), _t));
      }), !Pt) return;
      if (se >= _f) throw Bt("the tree kept changing during in-place sanitization; refusing to return it");
      $t(ze, (_t, ct) => {
        bf(_t, ct > 0, f, Q());
      });
    }
  }, bf = function(f, y, R, L) {
    const Q = Kr(f);
    let se;
    for (; se = Q.nextNode(); )
      !hr(L, se) || hr(mn, se) || (y && mt(me.uponSanitizeShadowNode, se, null), oi(se, R));
  }, kf = function(f) {
    mn && Ii(mn, f);
  }, nl = function(f, y) {
    return Be ? f === "patchsrc" ? !0 : f === "for" && y !== "label" && y !== "output" : !1;
  }, wf = function(f) {
    Be && ei(f, (y) => {
      const R = j(y);
      if (R === Pe.processingInstruction || R === Pe.comment && qe(Cc, y.data)) {
        try {
          g(y);
        } catch {
        }
        return !1;
      }
      if (R === Pe.element) {
        const L = y, Q = Le(ee(y));
        try {
          L.hasAttribute && L.hasAttribute("patchsrc") && L.removeAttribute("patchsrc"), L.hasAttribute && L.hasAttribute("for") && nl("for", Q) && L.removeAttribute("for");
        } catch {
        }
      }
      return !0;
    });
  }, rl = function(f) {
    let y = null, R = null;
    if (st) f = "<remove></remove>" + f;
    else {
      const se = Ng(f, rm);
      R = se && se[0];
    }
    lr === "application/xhtml+xml" && Bn === vt && (f = '<html xmlns="http://www.w3.org/1999/xhtml"><head></head><body>' + f + "</body></html>");
    const L = ne ? J(f) : f;
    if (Bn === vt) try {
      y = new a().parseFromString(L, lr);
    } catch {
    }
    if (!y || !y.documentElement) {
      y = ye.createDocument(Bn, "template", null);
      try {
        y.documentElement.innerHTML = Gs ? pe : L;
      } catch {
      }
    }
    const Q = y.body || y.documentElement;
    return f && R && Q.insertBefore(n.createTextNode(R), Q.childNodes[0] || null), Bn === vt ? E.call(y, Ue ? "html" : "body")[0] : Ue ? y.documentElement : Q;
  }, Kr = function(f) {
    let y = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : !1;
    const R = z ? z(f) : f.ownerDocument;
    return G.call(R || f, f, (y ? 0 : c.SHOW_ELEMENT) | c.SHOW_COMMENT | c.SHOW_TEXT | c.SHOW_PROCESSING_INSTRUCTION | c.SHOW_CDATA_SECTION, null);
  }, ri = function(f) {
    return f = ls(f, qr, " "), f = ls(f, hn, " "), f = ls(f, zo, " "), f;
  }, si = function(f) {
    var y;
    ii(f);
    const R = (y = f.querySelectorAll) === null || y === void 0 ? void 0 : y.call(f, "template");
    R && $t(R, (L) => {
      Un(L.content) && si(L.content);
    });
  }, ii = function(f) {
    f.normalize();
    const y = Kr(f, !0);
    let R = y.nextNode();
    for (; R; )
      R.data = ri(R.data), R = y.nextNode();
  }, Yr = function(f) {
    const y = O ? O(f) : null;
    return typeof y != "string" || Le(y) !== "form" ? !1 : typeof f.nodeName != "string" || typeof f.textContent != "string" || typeof f.removeChild != "function" || f.attributes !== k(f) || typeof f.removeAttribute != "function" || typeof f.removeAttributeNode != "function" || typeof f.getAttributeNode != "function" || typeof f.setAttribute != "function" || typeof f.namespaceURI != "string" || typeof f.insertBefore != "function" || typeof f.hasChildNodes != "function" || f.nodeType !== b(f) || f.childNodes !== v(f);
  }, sl = function(f) {
    if (!b || typeof f != "object" || f === null) return null;
    try {
      const y = b(f);
      return typeof y == "number" ? y : null;
    } catch {
      return null;
    }
  }, Un = function(f) {
    return sl(f) === Pe.documentFragment;
  }, cr = function(f) {
    return sl(f) !== null;
  };
  function mt(I, f, y) {
    I.length !== 0 && $t(I, (R) => {
      R.call(t, f, y, Gr);
    });
  }
  const xf = function(f, y, R) {
    return !!(Be && R === Pe.element && f.hasChildNodes() && !cr(f.firstElementChild) && qe($i, f.textContent) && qe($i, f.innerHTML) || Be && sm[y] && R === Pe.element && ue(f) === vt && (cr(f.firstElementChild) || typeof f.textContent == "string" && qe($i, f.textContent)) || R === Pe.processingInstruction || Be && R === Pe.comment && qe(Cc, f.data));
  }, Xr = function(f, y) {
    if (f instanceof RegExp) return qe(f, y);
    if (f instanceof Function) {
      for (var R = arguments.length, L = new Array(R > 2 ? R - 2 : 0), Q = 2; Q < R; Q++) L[Q - 2] = arguments[Q];
      return !!f(y, ...L);
    }
    return !1;
  }, vf = function(f, y, R) {
    if (!U[y] && ll(y) && Xr(V.tagNameCheck, y)) return !1;
    if (Hs && !_n[y] && !_n[Cn(y)]) {
      const L = C(f), Q = v(f);
      if (Q && L) {
        const se = Q.length;
        for (let fe = se - 1; fe >= 0; --fe) {
          const ze = f === R ? m(Q[fe], !0) : Q[fe];
          L.insertBefore(ze, w(f));
        }
      }
    }
    return Yt(f), !0;
  }, il = function(f, y, R, L) {
    return f.length === 0 ? y : y === R || y === L ? yr(y) : y;
  }, Wn = function(f, y) {
    return f === y || C(f) !== null ? !1 : (Vs && ti(f), !0);
  }, Af = function(f, y) {
    if (kf(f), mt(me.beforeSanitizeElements, f, null), Wn(f, y)) return !0;
    if (Yr(f))
      return Yt(f), !0;
    const R = Le(ee(f)), L = j(f);
    if (M = il(me.uponSanitizeElement, M, $, pn), mt(me.uponSanitizeElement, f, {
      tagName: R,
      allowedTags: M
    }), Wn(f, y)) return !0;
    if (xf(f, R, L))
      return Yt(f), !0;
    if (U[R] || !(te.tagCheck instanceof Function && te.tagCheck(R)) && !M[R]) {
      const Q = vf(f, R, y);
      return Q === !1 && (mt(me.afterSanitizeElements, f, null), Wn(f, y)) ? !0 : Q;
    }
    if (L === Pe.element && !gf(f) || (R === "noscript" || R === "noembed" || R === "noframes") && qe(tm, f.innerHTML))
      return Yt(f), !0;
    if (Ee && L === Pe.text) {
      const Q = f.textContent, se = ri(Q);
      Q !== se && (dr(t.removed, { element: f.cloneNode() }), f.textContent = se);
    }
    return mt(me.afterSanitizeElements, f, null), Wn(f, y);
  }, ol = function(f, y, R) {
    if (Z[y] || nl(y, f) || Uo && (y === "id" || y === "name") && (R in n || R in ff)) return !1;
    const L = N[y] || te.attributeCheck instanceof Function && te.attributeCheck(y, f);
    if (be && qe(p, y) || ge && qe(_, y)) return !0;
    if (!L) return ll(f) && Xr(V.tagNameCheck, f) && Xr(V.attributeNameCheck, y, f) || y === "is" && V.allowCustomizedBuiltInElements && Xr(V.tagNameCheck, R);
    if (Go[y]) return !0;
    const Q = ls(R, P, "");
    return qe(F, Q) || (y === "src" || y === "xlink:href" || y === "href") && f !== "script" && Ni(R, "data:") === 0 && Ho[f] || ke && !qe(A, Q) ? !0 : !R;
  }, Rf = we({}, [
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-format",
    "font-face-name",
    "font-face-src",
    "font-face-uri",
    "missing-glyph"
  ]), ll = function(f) {
    return !Rf[Cn(f)] && qe(S, f);
  }, Cf = function(f, y, R, L) {
    if (ne && typeof u == "object" && typeof u.getAttributeType == "function" && !R) switch (u.getAttributeType(f, y)) {
      case "TrustedHTML":
        return J(L);
      case "TrustedScriptURL":
        return le(L);
    }
    return L;
  }, Ef = function(f, y, R, L) {
    try {
      return R ? f.setAttributeNS(R, y, L) : f.setAttribute(y, L), Yr(f) ? (Yt(f), !1) : !0;
    } catch {
      return zn(y, f), !1;
    }
  }, cl = function(f, y) {
    return Be && qe(nm, y) ? !0 : Cn(f) === "attributename" && Ni(y, "href") !== -1;
  }, Sf = function(f, y) {
    if (mt(me.beforeSanitizeAttributes, f, null), Wn(f, y)) return;
    const R = f.attributes;
    if (!R || Yr(f)) return;
    N = il(me.uponSanitizeAttribute, N, D, We);
    const L = {
      attrName: "",
      attrValue: "",
      keepAttr: !0,
      allowedAttributes: N,
      forceKeepAttr: void 0
    };
    let Q = R.length;
    const se = Le(ee(f));
    for (; Q--; ) {
      const fe = R[Q], ze = fe.name, Pt = fe.namespaceURI, _t = fe.value, ct = Le(ze), At = _t;
      let Ge = ze === "value" ? At : Mg(At), al = !1;
      if (L.attrName = ct, L.attrValue = Ge, L.keepAttr = !0, L.forceKeepAttr = void 0, mt(me.uponSanitizeAttribute, f, L), Ge = L.attrValue, Wo && (ct === "id" || ct === "name") && Ni(Ge, Jo) !== 0 && (zn(ze, f, fe), Ge = Jo + Ge, al = !0), cl(ze, Ge)) {
        zn(ze, f, fe);
        continue;
      }
      if (!L.forceKeepAttr) {
        if (!L.keepAttr) {
          zn(ze, f, fe);
          continue;
        }
        if (!Ie && qe(Ec, Ge)) {
          zn(ze, f, fe);
          continue;
        }
        if (Ee && (Ge = ri(Ge)), !ol(se, ct, Ge)) {
          zn(ze, f, fe);
          continue;
        }
        Ge = Cf(se, ct, Pt, Ge), Ge !== At && Ef(f, ze, Pt, Ge) && al && yc(t.removed);
      }
    }
    mt(me.afterSanitizeAttributes, f, null), Wn(f, y);
  }, oi = function(f, y) {
    Af(f, y), Sf(f, y), Un(f.content) && li(f.content);
  }, li = function(f) {
    let y = null;
    const R = Kr(f);
    for (mt(me.beforeSanitizeShadowDOM, f, null); y = R.nextNode(); )
      if (mt(me.uponSanitizeShadowNode, y, null), oi(y, f), j(y) === Pe.element) {
        const L = x(y);
        Un(L) && (ci(L), li(L));
      }
    Ee && ii(f), mt(me.afterSanitizeShadowDOM, f, null);
  }, ci = function(f) {
    const y = [{
      node: f,
      shadow: null
    }];
    for (; y.length > 0; ) {
      const R = y.pop();
      if (R.shadow) {
        li(R.shadow);
        continue;
      }
      const L = R.node, Q = j(L) === Pe.element, se = v(L);
      if (se) for (let fe = se.length - 1; fe >= 0; --fe) y.push({
        node: se[fe],
        shadow: null
      });
      if (Q) {
        const fe = O ? O(L) : null;
        if (typeof fe == "string" && Le(fe) === "template") {
          const ze = L.content;
          Un(ze) && y.push({
            node: ze,
            shadow: null
          });
        }
      }
      if (Q) {
        const fe = x(L);
        Un(fe) && y.push({
          node: null,
          shadow: fe
        }, {
          node: fe,
          shadow: null
        });
      }
    }
  };
  return t.sanitize = function(I) {
    let f = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : {}, y = null, R = null, L = null, Q = null;
    if (Gs = !I, Gs && (I = "<!-->"), typeof I != "string" && !cr(I) && (I = Bg(I), typeof I != "string"))
      throw Bt("dirty is not a string, aborting");
    if (!t.isSupported) return I;
    lt ? (M = pn, N = We) : Xs(f), t.removed = [];
    const se = Vs && typeof I != "string" && cr(I);
    let fe = [];
    const ze = mn;
    if (se) {
      wf(I);
      const At = ee(I);
      if (typeof At == "string") {
        const Ge = Le(At);
        if (!M[Ge] || U[Ge])
          throw Zs(I), Bt("root node is forbidden and cannot be sanitized in-place");
      }
      if (Yr(I))
        throw Zs(I), Bt("root node is clobbered and cannot be sanitized in-place");
      fe = ni(I), mn = Fi();
    } else if (cr(I))
      y = rl("<!---->"), R = y.ownerDocument.importNode(I, !0), R.nodeType === Pe.element && R.nodeName === "BODY" || R.nodeName === "HTML" ? y = R : y.appendChild(R), ci(y);
    else {
      if (!Lt && !Ee && !Ue && I.indexOf("<") === -1) return oe(I);
      if (y = rl(I), !y) return Lt ? null : qs ? pe : "";
    }
    y && st && Yt(y.firstChild);
    const Pt = se ? I : y;
    try {
      se && ci(I);
      const At = Kr(Pt);
      for (; L = At.nextNode(); ) oi(L, Pt);
      se && yf(I, fe);
    } catch (At) {
      throw se && (Zs(I), tl(I, fe)), At;
    } finally {
      mn = ze;
    }
    if (se) {
      if (tl(I, fe)) throw Bt("a node selected for removal could not be safely returned; refusing to sanitize in place");
      return Ee && si(I), I;
    }
    if (Lt) {
      if (Ee && si(y), gn)
        for (Q = T.call(y.ownerDocument); y.firstChild; ) Q.appendChild(y.firstChild);
      else Q = y;
      return (N.shadowroot || N.shadowrootmode) && (Q = X.call(r, Q, !0)), Q;
    }
    const _t = () => Ue ? y.outerHTML : y.innerHTML;
    let ct = _t();
    return Ee && qe(Gg, ct) && (ii(y), ct = _t()), Ue && M["!doctype"] && y.ownerDocument && y.ownerDocument.doctype && y.ownerDocument.doctype.name && qe(Qg, y.ownerDocument.doctype.name) && (ct = "<!DOCTYPE " + y.ownerDocument.doctype.name + `>
` + ct), oe(ct);
  }, t.setConfig = function() {
    let I = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    Xs(I), lt = !0, pn = M, We = N;
  }, t.clearConfig = function() {
    Gr = null, lt = !1, pn = null, We = null, ne = Fe, pe = "";
  }, t.isValidAttribute = function(I, f, y) {
    Gr || Xs({});
    const R = Le(I), L = Le(f);
    return typeof y == "string" && (cl(f, y) || !Ie && qe(Ec, y)) ? !1 : ol(R, L, y);
  }, t.addHook = function(I, f) {
    typeof f == "function" && Ze(me, I) && dr(me[I], f);
  }, t.removeHook = function(I, f) {
    if (Ze(me, I)) {
      if (f !== void 0) {
        const y = Fg(me[I], f);
        return y === -1 ? void 0 : Og(me[I], y, 1)[0];
      }
      return yc(me[I]);
    }
  }, t.removeHooks = function(I) {
    Ze(me, I) && (me[I] = []);
  }, t.removeAllHooks = function() {
    me = Sc();
  }, t;
}
var lm = Ru();
const Dc = {};
function cm(e) {
  let t = Dc[e];
  if (t)
    return t;
  t = Dc[e] = [];
  for (let n = 0; n < 128; n++) {
    const r = String.fromCharCode(n);
    t.push(r);
  }
  for (let n = 0; n < e.length; n++) {
    const r = e.charCodeAt(n);
    t[r] = "%" + ("0" + r.toString(16).toUpperCase()).slice(-2);
  }
  return t;
}
function ir(e, t) {
  typeof t != "string" && (t = ir.defaultChars);
  const n = cm(t);
  return e.replace(/(%[a-f0-9]{2})+/gi, function(r) {
    let s = "";
    for (let i = 0, o = r.length; i < o; i += 3) {
      const l = parseInt(r.slice(i + 1, i + 3), 16);
      if (l < 128) {
        s += n[l];
        continue;
      }
      if ((l & 224) === 192 && i + 3 < o) {
        const c = parseInt(r.slice(i + 4, i + 6), 16);
        if ((c & 192) === 128) {
          const a = l << 6 & 1984 | c & 63;
          a < 128 ? s += "��" : s += String.fromCharCode(a), i += 3;
          continue;
        }
      }
      if ((l & 240) === 224 && i + 6 < o) {
        const c = parseInt(r.slice(i + 4, i + 6), 16), a = parseInt(r.slice(i + 7, i + 9), 16);
        if ((c & 192) === 128 && (a & 192) === 128) {
          const u = l << 12 & 61440 | c << 6 & 4032 | a & 63;
          u < 2048 || u >= 55296 && u <= 57343 ? s += "���" : s += String.fromCharCode(u), i += 6;
          continue;
        }
      }
      if ((l & 248) === 240 && i + 9 < o) {
        const c = parseInt(r.slice(i + 4, i + 6), 16), a = parseInt(r.slice(i + 7, i + 9), 16), u = parseInt(r.slice(i + 10, i + 12), 16);
        if ((c & 192) === 128 && (a & 192) === 128 && (u & 192) === 128) {
          let d = l << 18 & 1835008 | c << 12 & 258048 | a << 6 & 4032 | u & 63;
          d < 65536 || d > 1114111 ? s += "����" : (d -= 65536, s += String.fromCharCode(55296 + (d >> 10), 56320 + (d & 1023))), i += 9;
          continue;
        }
      }
      s += "�";
    }
    return s;
  });
}
ir.defaultChars = ";/?:@&=+$,#";
ir.componentChars = "";
const Tc = {};
function am(e) {
  let t = Tc[e];
  if (t)
    return t;
  t = Tc[e] = [];
  for (let n = 0; n < 128; n++) {
    const r = String.fromCharCode(n);
    /^[0-9a-z]$/i.test(r) ? t.push(r) : t.push("%" + ("0" + n.toString(16).toUpperCase()).slice(-2));
  }
  for (let n = 0; n < e.length; n++)
    t[e.charCodeAt(n)] = e[n];
  return t;
}
function qt(e, t, n) {
  typeof t != "string" && (n = t, t = qt.defaultChars), typeof n > "u" && (n = !0);
  const r = am(t);
  let s = "";
  for (let i = 0, o = e.length; i < o; i++) {
    const l = e.charCodeAt(i);
    if (n && l === 37 && i + 2 < o && /^[0-9a-f]{2}$/i.test(e.slice(i + 1, i + 3))) {
      s += e.slice(i, i + 3), i += 2;
      continue;
    }
    if (l < 128) {
      s += r[l];
      continue;
    }
    if (l >= 55296 && l <= 57343) {
      if (l >= 55296 && l <= 56319 && i + 1 < o) {
        const c = e.charCodeAt(i + 1);
        if (c >= 56320 && c <= 57343) {
          s += encodeURIComponent(e[i] + e[i + 1]), i++;
          continue;
        }
      }
      s += "%EF%BF%BD";
      continue;
    }
    s += encodeURIComponent(e[i]);
  }
  return s;
}
qt.defaultChars = ";/?:@&=+$,-_.!~*'()#";
qt.componentChars = "-_.!~*'()";
function po(e) {
  let t = "";
  return t += e.protocol || "", t += e.slashes ? "//" : "", t += e.auth ? e.auth + "@" : "", e.hostname && e.hostname.indexOf(":") !== -1 ? t += "[" + e.hostname + "]" : t += e.hostname || "", t += e.port ? ":" + e.port : "", t += e.pathname || "", t += e.search || "", t += e.hash || "", t;
}
function Fs() {
  this.protocol = null, this.slashes = null, this.auth = null, this.port = null, this.hostname = null, this.hash = null, this.search = null, this.pathname = null;
}
const um = /^([a-z0-9.+-]+:)/i, fm = /:[0-9]*$/, dm = /^(\/\/?(?!\/)[^\?\s]*)(\?[^\s]*)?$/, hm = ["<", ">", '"', "`", " ", "\r", `
`, "	"], pm = ["{", "}", "|", "\\", "^", "`"].concat(hm), gm = ["'"].concat(pm), Fc = ["%", "/", "?", ";", "#"].concat(gm), Ic = ["/", "?", "#"], mm = 255, Oc = /^[+a-z0-9A-Z_-]{0,63}$/, _m = /^([+a-z0-9A-Z_-]{0,63})(.*)$/, Nc = {
  javascript: !0,
  "javascript:": !0
}, Mc = {
  http: !0,
  https: !0,
  ftp: !0,
  gopher: !0,
  file: !0,
  "http:": !0,
  "https:": !0,
  "ftp:": !0,
  "gopher:": !0,
  "file:": !0
};
function go(e, t) {
  if (e && e instanceof Fs) return e;
  const n = new Fs();
  return n.parse(e, t), n;
}
Fs.prototype.parse = function(e, t) {
  let n, r, s, i = e;
  if (i = i.trim(), !t && e.split("#").length === 1) {
    const a = dm.exec(i);
    if (a)
      return this.pathname = a[1], a[2] && (this.search = a[2]), this;
  }
  let o = um.exec(i);
  if (o && (o = o[0], n = o.toLowerCase(), this.protocol = o, i = i.substr(o.length)), (t || o || i.match(/^\/\/[^@\/]+@[^@\/]+/)) && (s = i.substr(0, 2) === "//", s && !(o && Nc[o]) && (i = i.substr(2), this.slashes = !0)), !Nc[o] && (s || o && !Mc[o])) {
    let a = -1;
    for (let h = 0; h < Ic.length; h++)
      r = i.indexOf(Ic[h]), r !== -1 && (a === -1 || r < a) && (a = r);
    let u, d;
    a === -1 ? d = i.lastIndexOf("@") : d = i.lastIndexOf("@", a), d !== -1 && (u = i.slice(0, d), i = i.slice(d + 1), this.auth = u), a = -1;
    for (let h = 0; h < Fc.length; h++)
      r = i.indexOf(Fc[h]), r !== -1 && (a === -1 || r < a) && (a = r);
    a === -1 && (a = i.length), i[a - 1] === ":" && a--;
    const m = i.slice(0, a);
    i = i.slice(a), this.parseHost(m), this.hostname = this.hostname || "";
    const g = this.hostname[0] === "[" && this.hostname[this.hostname.length - 1] === "]";
    if (!g) {
      const h = this.hostname.split(/\./);
      for (let w = 0, v = h.length; w < v; w++) {
        const C = h[w];
        if (C && !C.match(Oc)) {
          let x = "";
          for (let k = 0, b = C.length; k < b; k++)
            C.charCodeAt(k) > 127 ? x += "x" : x += C[k];
          if (!x.match(Oc)) {
            const k = h.slice(0, w), b = h.slice(w + 1), O = C.match(_m);
            O && (k.push(O[1]), b.unshift(O[2])), b.length && (i = b.join(".") + i), this.hostname = k.join(".");
            break;
          }
        }
      }
    }
    this.hostname.length > mm && (this.hostname = ""), g && (this.hostname = this.hostname.substr(1, this.hostname.length - 2));
  }
  const l = i.indexOf("#");
  l !== -1 && (this.hash = i.substr(l), i = i.slice(0, l));
  const c = i.indexOf("?");
  return c !== -1 && (this.search = i.substr(c), i = i.slice(0, c)), i && (this.pathname = i), Mc[n] && this.hostname && !this.pathname && (this.pathname = ""), this;
};
Fs.prototype.parseHost = function(e) {
  let t = fm.exec(e);
  t && (t = t[0], t !== ":" && (this.port = t.substr(1)), e = e.substr(0, e.length - t.length)), e && (this.hostname = e);
};
const ym = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  decode: ir,
  encode: qt,
  format: po,
  parse: go
}, Symbol.toStringTag, { value: "Module" })), Cu = /[\0-\uD7FF\uE000-\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/, Eu = /[\0-\x1F\x7F-\x9F]/, bm = /[\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/, Lo = /[!-#%-\*,-\/:;\?@\[-\]_\{\}\xA1\xA7\xAB\xB6\xB7\xBB\xBF\u037E\u0387\u055A-\u055F\u0589\u058A\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0609\u060A\u060C\u060D\u061B\u061D-\u061F\u066A-\u066D\u06D4\u0700-\u070D\u07F7-\u07F9\u0830-\u083E\u085E\u0964\u0965\u0970\u09FD\u0A76\u0AF0\u0C77\u0C84\u0DF4\u0E4F\u0E5A\u0E5B\u0F04-\u0F12\u0F14\u0F3A-\u0F3D\u0F85\u0FD0-\u0FD4\u0FD9\u0FDA\u104A-\u104F\u10FB\u1360-\u1368\u1400\u166E\u169B\u169C\u16EB-\u16ED\u1735\u1736\u17D4-\u17D6\u17D8-\u17DA\u1800-\u180A\u1944\u1945\u1A1E\u1A1F\u1AA0-\u1AA6\u1AA8-\u1AAD\u1B4E\u1B4F\u1B5A-\u1B60\u1B7D-\u1B7F\u1BFC-\u1BFF\u1C3B-\u1C3F\u1C7E\u1C7F\u1CC0-\u1CC7\u1CD3\u2010-\u2027\u2030-\u2043\u2045-\u2051\u2053-\u205E\u207D\u207E\u208D\u208E\u2308-\u230B\u2329\u232A\u2768-\u2775\u27C5\u27C6\u27E6-\u27EF\u2983-\u2998\u29D8-\u29DB\u29FC\u29FD\u2CF9-\u2CFC\u2CFE\u2CFF\u2D70\u2E00-\u2E2E\u2E30-\u2E4F\u2E52-\u2E5D\u3001-\u3003\u3008-\u3011\u3014-\u301F\u3030\u303D\u30A0\u30FB\uA4FE\uA4FF\uA60D-\uA60F\uA673\uA67E\uA6F2-\uA6F7\uA874-\uA877\uA8CE\uA8CF\uA8F8-\uA8FA\uA8FC\uA92E\uA92F\uA95F\uA9C1-\uA9CD\uA9DE\uA9DF\uAA5C-\uAA5F\uAADE\uAADF\uAAF0\uAAF1\uABEB\uFD3E\uFD3F\uFE10-\uFE19\uFE30-\uFE52\uFE54-\uFE61\uFE63\uFE68\uFE6A\uFE6B\uFF01-\uFF03\uFF05-\uFF0A\uFF0C-\uFF0F\uFF1A\uFF1B\uFF1F\uFF20\uFF3B-\uFF3D\uFF3F\uFF5B\uFF5D\uFF5F-\uFF65]|\uD800[\uDD00-\uDD02\uDF9F\uDFD0]|\uD801\uDD6F|\uD802[\uDC57\uDD1F\uDD3F\uDE50-\uDE58\uDE7F\uDEF0-\uDEF6\uDF39-\uDF3F\uDF99-\uDF9C]|\uD803[\uDD6E\uDEAD\uDED0\uDF55-\uDF59\uDF86-\uDF89]|\uD804[\uDC47-\uDC4D\uDCBB\uDCBC\uDCBE-\uDCC1\uDD40-\uDD43\uDD74\uDD75\uDDC5-\uDDC8\uDDCD\uDDDB\uDDDD-\uDDDF\uDE38-\uDE3D\uDEA9\uDFD4\uDFD5\uDFD7\uDFD8]|\uD805[\uDC4B-\uDC4F\uDC5A\uDC5B\uDC5D\uDCC6\uDDC1-\uDDD7\uDE41-\uDE43\uDE60-\uDE6C\uDEB9\uDF3C-\uDF3E]|\uD806[\uDC3B\uDD44-\uDD46\uDDE2\uDE3F-\uDE46\uDE9A-\uDE9C\uDE9E-\uDEA2\uDF00-\uDF09\uDFE1]|\uD807[\uDC41-\uDC45\uDC70\uDC71\uDEF7\uDEF8\uDF43-\uDF4F\uDFFF]|\uD809[\uDC70-\uDC74]|\uD80B[\uDFF1\uDFF2]|\uD81A[\uDE6E\uDE6F\uDEF5\uDF37-\uDF3B\uDF44]|\uD81B[\uDD6D-\uDD6F\uDE97-\uDE9A\uDFE2]|\uD82F\uDC9F|\uD836[\uDE87-\uDE8B]|\uD839\uDDFF|\uD83A[\uDD5E\uDD5F]/, Su = /[\$\+<->\^`\|~\xA2-\xA6\xA8\xA9\xAC\xAE-\xB1\xB4\xB8\xD7\xF7\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02EB\u02ED\u02EF-\u02FF\u0375\u0384\u0385\u03F6\u0482\u058D-\u058F\u0606-\u0608\u060B\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6\u07FE\u07FF\u0888\u09F2\u09F3\u09FA\u09FB\u0AF1\u0B70\u0BF3-\u0BFA\u0C7F\u0D4F\u0D79\u0E3F\u0F01-\u0F03\u0F13\u0F15-\u0F17\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8\u109E\u109F\u1390-\u1399\u166D\u17DB\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u1FBD\u1FBF-\u1FC1\u1FCD-\u1FCF\u1FDD-\u1FDF\u1FED-\u1FEF\u1FFD\u1FFE\u2044\u2052\u207A-\u207C\u208A-\u208C\u20A0-\u20C1\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u2140-\u2144\u214A-\u214D\u214F\u218A\u218B\u2190-\u2307\u230C-\u2328\u232B-\u2429\u2440-\u244A\u249C-\u24E9\u2500-\u2767\u2794-\u27C4\u27C7-\u27E5\u27F0-\u2982\u2999-\u29D7\u29DC-\u29FB\u29FE-\u2B73\u2B76-\u2BFF\u2CE5-\u2CEA\u2E50\u2E51\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u2FF0-\u2FFF\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u309B\u309C\u3190\u3191\u3196-\u319F\u31C0-\u31E5\u31EF\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0\u32C0-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA700-\uA716\uA720\uA721\uA789\uA78A\uA828-\uA82B\uA836-\uA839\uAA77-\uAA79\uAB5B\uAB6A\uAB6B\uFB29\uFBB2-\uFBD2\uFD40-\uFD4F\uFD90\uFD91\uFDC8-\uFDCF\uFDFC-\uFDFF\uFE62\uFE64-\uFE66\uFE69\uFF04\uFF0B\uFF1C-\uFF1E\uFF3E\uFF40\uFF5C\uFF5E\uFFE0-\uFFE6\uFFE8-\uFFEE\uFFFC\uFFFD]|\uD800[\uDD37-\uDD3F\uDD79-\uDD89\uDD8C-\uDD8E\uDD90-\uDD9C\uDDA0\uDDD0-\uDDFC]|\uD802[\uDC77\uDC78\uDEC8]|\uD803[\uDD8E\uDD8F\uDED1-\uDED8]|\uD805\uDF3F|\uD807[\uDFD5-\uDFF1]|\uD81A[\uDF3C-\uDF3F\uDF45]|\uD82F\uDC9C|\uD833[\uDC00-\uDCEF\uDCFA-\uDCFC\uDD00-\uDEB3\uDEBA-\uDED0\uDEE0-\uDEF0\uDF50-\uDFC3]|\uD834[\uDC00-\uDCF5\uDD00-\uDD26\uDD29-\uDD64\uDD6A-\uDD6C\uDD83\uDD84\uDD8C-\uDDA9\uDDAE-\uDDEA\uDE00-\uDE41\uDE45\uDF00-\uDF56]|\uD835[\uDEC1\uDEDB\uDEFB\uDF15\uDF35\uDF4F\uDF6F\uDF89\uDFA9\uDFC3]|\uD836[\uDC00-\uDDFF\uDE37-\uDE3A\uDE6D-\uDE74\uDE76-\uDE83\uDE85\uDE86]|\uD838[\uDD4F\uDEFF]|\uD83B[\uDCAC\uDCB0\uDD2E\uDEF0\uDEF1]|\uD83C[\uDC00-\uDC2B\uDC30-\uDC93\uDCA0-\uDCAE\uDCB1-\uDCBF\uDCC1-\uDCCF\uDCD1-\uDCF5\uDD0D-\uDDAD\uDDE6-\uDE02\uDE10-\uDE3B\uDE40-\uDE48\uDE50\uDE51\uDE60-\uDE65\uDF00-\uDFFF]|\uD83D[\uDC00-\uDED8\uDEDC-\uDEEC\uDEF0-\uDEFC\uDF00-\uDFD9\uDFE0-\uDFEB\uDFF0]|\uD83E[\uDC00-\uDC0B\uDC10-\uDC47\uDC50-\uDC59\uDC60-\uDC87\uDC90-\uDCAD\uDCB0-\uDCBB\uDCC0\uDCC1\uDCD0-\uDCD8\uDD00-\uDE57\uDE60-\uDE6D\uDE70-\uDE7C\uDE80-\uDE8A\uDE8E-\uDEC6\uDEC8\uDECD-\uDEDC\uDEDF-\uDEEA\uDEEF-\uDEF8\uDF00-\uDF92\uDF94-\uDFEF\uDFFA]/, Du = /[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/, km = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  Any: Cu,
  Cc: Eu,
  Cf: bm,
  P: Lo,
  S: Su,
  Z: Du
}, Symbol.toStringTag, { value: "Module" })), wm = [
  8364,
  0,
  8218,
  402,
  8222,
  8230,
  8224,
  8225,
  710,
  8240,
  352,
  8249,
  338,
  0,
  381,
  0,
  0,
  8216,
  8217,
  8220,
  8221,
  8226,
  8211,
  8212,
  732,
  8482,
  353,
  8250,
  339,
  0,
  382,
  376
];
function xm(e) {
  return e === 0 || e >= 55296 && e <= 57343 || e > 1114111;
}
function vm(e) {
  return xm(e) ? 65533 : e >= 128 && e <= 159 && wm[e - 128] || e;
}
function Am(e) {
  return e - 1 >>> 0 < 127 || e - 160 >>> 0 < 55136 ? String.fromCharCode(e) : String.fromCodePoint(vm(e));
}
const yt = /* @__PURE__ */ (() => {
  const e = new Uint8Array(127);
  let t = 0;
  for (let n = 33; n <= 126; n++)
    n !== 34 && n !== 36 && n !== 92 && (e[n] = t++);
  return e;
})();
function Rm(e, t, n, r, s, i) {
  const l = e.length, c = i * 90;
  let a = 0;
  const u = () => {
    const Y = yt[e.charCodeAt(a++)];
    return Y < i ? Y : Y * 91 - c + yt[e.charCodeAt(a++)];
  }, d = n - r, m = n + s, g = new Int32Array(m);
  g.fill(-1, r, i), g.fill(-1, i + d, m);
  const h = new Int32Array(m), w = new Int32Array(m);
  function v(Y, ue) {
    let ne = 0, pe = ue;
    const Fe = ue + Y;
    for (; pe < Fe; ) {
      const ve = yt[e.charCodeAt(a++)];
      if (ve < 89)
        ne += ve, g[pe++] = ne;
      else if (ve === 89) {
        let Re = yt[e.charCodeAt(a++)] + 2;
        for (; Re--; )
          g[pe++] = ++ne;
      } else {
        const Re = yt[e.charCodeAt(a++)];
        ne += 89 + // eslint-disable-next-line unicorn/prefer-minimal-ternary -- branches read a different number of side-effecting input bytes
        (Re < 90 ? Re * 91 + yt[e.charCodeAt(a++)] : yt[e.charCodeAt(a++)] * 8281 + yt[e.charCodeAt(a++)] * 91 + yt[e.charCodeAt(a++)]), g[pe++] = ne;
      }
    }
  }
  v(r, 0), v(d, i);
  const C = new Int32Array(s * 2);
  let x = 0, k = 0;
  function b(Y, ue) {
    for (let ne = 0; ne < Y; ne++) {
      const pe = ue + ne, Fe = u(), ve = u();
      C[k * 2] = Fe, C[k * 2 + 1] = ve, k += 1, h[pe] = x;
      const Re = (g[Fe] < 0 ? w[Fe] : 1) + (g[ve] < 0 ? w[ve] : 1);
      w[pe] = Re, x += Re;
    }
  }
  b(s - i + r, i + d), b(i - r, r);
  const O = new Uint16Array(x);
  let z = 0;
  for (let Y = 0; Y < k; Y++)
    for (let ue = 0; ue < 2; ue++) {
      const ne = C[Y * 2 + ue], pe = g[ne];
      if (pe < 0) {
        let Fe = h[ne];
        const ve = Fe + w[ne];
        for (; Fe < ve; )
          O[z++] = O[Fe++];
      } else
        O[z++] = pe;
    }
  const j = new Uint16Array(t);
  let ee = 0;
  for (; a < l; ) {
    let Y = yt[e.charCodeAt(a++)];
    Y >= i && (Y = Y * 91 - c + yt[e.charCodeAt(a++)]);
    const ue = g[Y];
    if (ue < 0) {
      let ne = h[Y];
      const pe = ne + w[Y];
      for (; ne < pe; )
        j[ee++] = O[ne++];
    } else
      j[ee++] = ue;
  }
  return j;
}
const Cm = /* @__PURE__ */ Rm("!}.&u%}'&}*'~!6*)%&,~!J~!J~%L~y<~!R,~~%Lu~~#GD~~#|)1#%}^%}2%+#.##%##%}&%##%'#%##&%#%#'%#&#%#&#'#%%#&#%##%#)%''%&%#%#'%#%%#%%}%%%#%#&(23#%%#&-%0%('1#(##%#'##+%'*.:1}#%#6-+(%'%%#%%%}#L'2351&('%}&/N'(0(/*-%(%%}#'+&T%7.2}#&%&#%#36/5##%&%%#&#%%#))2%%##%&&'0~!#*+&'%1~!%).'3q?&%'1~!.##%6(~!+%%%(Gw'rT~!E#<nA%#jZ~!H%(~!42##~!*31&~!G%U~#)5~#`3~!J~!Z~%]~%Y~%C~!q~!u~#kz~%#~!6'~!D~!U~!?~#T~!c%~!G#'~%7|~!G~!J~!G&~#pb~(Df}#%}*&}#%##%##%##&#-}&'#'&%#.++}%mI,#,@&(}*%}*'%&##&#%##%}&0}#.},U},%}+%}&%}#%##&}B%(}(%}+%)})%##%#&}&%##%&}<%}>%#%&}*%}(%}9%}/%})%}*%}*%}?&}&%}3%}&*#%})%#%#)}#&#-#+*%E%%'%'#%}#*V##&##I}#&&##%&%#&&Qf%%))w/0+&%#(#.%-''''++++7}>%4'',##1,#%#&%##&#'##&#*#9)%&%}#*}%,#+P(%A&%#'&##wSD',9E00#y#@}(+}&%&>~!#~!X}#*}(&&}(&}(,%}%&#+&}#&}I%#%}%)#(},'%#*}4%%#%}(''}#/##(##),%-##%%)#&}(.}&%#&}%%}*&#%},&&}&%}#%*'#%})%}D&}&%}-&}6&#&}-,%}#%})-(~+`~,=?~I9'9%~!,#%})%})%}@%}?%}(~!?~#<~#pP~#BG~#=1#%K+~#?#~%;)~#A~#mF1~#A'~'X%'~#lR~#N~'N~#r~#m#-~#i'?%#'%~#B%##%,%#~#_%#0%~#]732~,w~2+#:&#%&'0%&>%}#>##F+)#%&&#(+_}4&}-%}(&}@&}O7Fdf0@+/v4}&WU##&/0#&'('B#%}.%}'+#%}#%%&#&%#%##+#&#)#6#'#.},%}c%},%#%##%&#&%#&~#>'*-.%##%##%}#%%}%'~#)D1}#%*&~#_%%'(~#S2%'.}#~#=##*'*-%}&'%'##&&~'E%.#&~#M4}%%##&'%#~#O1##%&#'+~#<B%##%%'%+~#;#@%}#&%#&&%#(~#H1}'%'##&&~#?A}&'~#D#%32}'&&&&~#[}'(#%}'~#;C})&}%%#%~#=&%,3}%'(#%%~#^'#&&)#%'~#Y%-~#d-%'~#^%%&#&&&}#~#b~2t*&'~&(~&@~0%~e~3}%*''0})&}+~!9##-}#%-hD*)1fC#%/&/fB#40~!+#)*4~!+~!K'&:~!/*7~!.#~!H~!L':~%x&~!H#~!*~%1~!I#~!+A~#p'~!F~~#-#~,,(~.Z~!V~%;'B'mq-W~!N~%I%#&&#&}#%},%%}'%}+X#%}#&}(%}'%}<%}#%}%%'}'%}:~![)9@~%>~#UA%-%##&~!C%~!-.9:~!1~!-^2/:a~!y,D*J#-5)/4~%23,~#G~!L1~!0X3`~!2+~!!0-~&E~!W~!o,>Y&]~%cZx_&~#O*9#A#'#+I'%#)~!0B*-5A+-((F&*M#)(-7-5+'-3a5Vi~!Y~!?+[)%3),ERHm~!+:D,VG.+)?fB%%*(%)'(#&80%1'8`K8?`+'Z#&O&'H5#*9)A%%5&3))0%39+.*7#()&&*=4@**L)<'_&*+..;(#*+)./&0#3)%')-8(4ixD(&.}%,('aI:,)%,k2231T)I'#/-W7,/'Q#.'Y24+h')37</31&83##&0#),H(?'&?/1##%#&&#%''-%&&&#(&''&#.-'%#%%(,')*'&#&#'##%(%(#%('#&##%%%%('%#%#%%#%#&%##h>w+v<ayvyvcg.uuhKr}g/v|g>u9i[~>g5uI~=RvdwEg;v/g;uk!!TTSx]@RT!U!#!@VBRUU!'UTe-d0c`e&gSdicedFcrdTaqb.kYcAohdYd@a3e+d}dMdtd.aJ#bqcK`dle/e.e'dwdPdodddjbEb}ogd^ofdpduc6j?l%d{drdqc)d7bacOdQ%T#Y)X.sR[yH>6Vyv3[xwLu>vo'!*.[yBacahoj>6Rew3[xqdZa#!a&#^(X-[yG>6Vyu3[xvg3sEr|g.u/Ri9db0T#^(Xa)!-[y;>6Vylg4wKs{JwNZt3@3r=c4Z([xlg;wKt!cpq's@v7A'*a(a+!-a#[y<3Dt?3Dt'>6Vym3[xmg9rxsNJwLZt4~?r?db1T#`-!(Xa,!0[yS>6Vz%NuQs.g4wKtnJwNZtS@3r>c4Z([y%g;wKtrdga8!a(!#&T*Y-Xa#!a0<or[yc3Dtq>6Vz43[y3JwNZtf@3s!Ju}!%Dti:pm3c_%X#tjB5pkd6q!r]u?voC'*-a.a2!0a&a+[yI3DtI3Ds~3DtH>6Vyw3[xx;:s#~<5pKJwNZtE@3r~d`a)!a2T#a.(!+U.X1[yT3Dt`3Dtv>6Vz&3[y&g9rxwzcxstPu.<rAJwLZtT~?r@dZa%!a.&^*Za(/Reu[ya>6Vz23[y1g3sEr}wkg{NuQRg{ci(U#5@b`~,cg#U(2WnH5wugcRh7dX#T(Y,a'Ta!!a,[yZ<]mj>6Vz,3[y+Pv#5ReZKu+=,%!H}7ABwkaS?Rh:BcW(X#<]mrj:ubv/ARekdg%!(!a.*Ta(Y.X1!#sP>Rl*Dt6[y>>6Vyo3Wf*jOvuumvuRgRJuq*!:9<B@bX~3jVv&v@s@5Re[d/rQt{uAvo&a&a*)a2!,0Wf!3Dt0=Bs'>6Re}3[xy~<5s%JwJZt1~Gs)c;&!#2sJkNuXvzq7rxu,Re8dka4!a8(aEZ+a@Y.X1Xa)[yd=Bs(3DtP>6Vz53[y4cX#X&Re:avRe9~<5s&JwJZtQ~Gs*i^rzvdRg+Jv{%!2sbB@bX}kdga,!Za?&^*T1/!a'Dt+[y6>6Vyf3Wf%g/u;s4hGu6?Rh-JvZ,!c%#&RoX54Rivj7uyvf8RgTKvZB%*!2sGh<vu5Rgq<=C::9bb~#dZ#T&Ta6Y.X*Dt>[y93Wf)coZ(T,6VyifluvRgC@95@B@bX~/hFu34cC#T,k/unq8w8Q5RkUklwQuzunq8w8Q5Rk8d/rJu?v8w9)-&!a0a;a&aIWejg3sEr/h1s<DtDJvyZqY5aws3Jvy!&Wei~Hr1:au5@Bag>23E~5c:Z&bX};kKv?w&unuVu5Rjc;>bs)#~@:Rh.=ay<a]C;b`}Vd6s/t{uAvoaxa()!a,a7%-a#a2Dt,[yF2Wo[>6Vyt3[xuNuPRi&NuPwpi#RoWh?vf8Ri%Jv]!%Ri:KvxD!.'2WeAjZu`q9rxu,Re7woeAg-unLq(qA_/*2Wg_g3u5q^9:4E}/jTrxrzv=Wkkd~0UX#^^Xa-a1a5T&a=U1a'*aEa]!a*aPaA-adok[y54Rn>;:p3~Dp5g9rpsFNvZqjg3uJp4~<5p0Pw;5qlJwNZt*@3p1Pw:5p/Ou!5p2JvG'!6Vye=<qnJvh_[xhg3v,Rh3kOwOw-sDuev/Re^dha[a%!%!a+#Ta7)-5TaCaO!aka!a)sf[yb2>Rl!9ARiq5E}Qg=ucRkBE|oJrJ_@Wk~@Wk{JrJ_@Wk|@WkyJrJ_@Wk}@WkzJvO_[y2g-vMRmiKuYC!)&>Ri;>Ri<@3RkNc](X#@9Rk=g5vuRmhKvDB!+'=]meg3u4Rmgd)#Y'Vz3CARmfd`a+!%T'!+#Ta1Ta6TaM-sTDt9[yA9sYd'%Y#s[[xpj:ueunaXRgEjRq,v-vuqdd2'`#6Rev<32@5>:2<E}5xIo9a*X#Y(;5RePJvD_g>vyRgNj8w)v8<wggs:RgXiZt|vjx,hSq3ah!-(~@:Ro/Ou!5RhWj^v(pyw8unRhUdx-UY#^Ua.a3a70!)%UX1TaDa)'omRiRRhE[y:3Dsz=Br,>6Vyj3[xkg6ruwjcqsrPw;5r*Ku]D'Zt-@3r(~?r.i[vwv]dU1a--U#`a4(g/vsRhPOu!5RhLj:rmu9Wo!~@:wdh@g/vsRiTjXuvvNr}:RhBj^v(pyw8unRn]dz1UYa'a+^Y(!aETZalaRY.Ta?a4[yDJw1!#qLsW>6Vyrfzq-pLflpwRe|Js>%!Dt@3Dt&Jvy_[xs~HrnjMuwpsw'RecKu+D#'!t<~Grl~?rjg5u-x,gwp{ah!-(~@:Rg~Ou!5Rh'jXuvvNr}:Rh#cW#X/c;&!#2sLi[v7u7RgpJv)(!iLrxu,Re6j7v@s@5Se[e7d`aW!Za(a`T.a#!a3!&aDa-!9)Dt_=6s+3[x~~DR|h~DS6avhGun5RkZj3w)v-]mkKunB!&*]kb97R|i<ARk<c:Z(6Vy}Juh'!wziMRoS:F|vkLuauJv5vtvQRh1d='T+Y#VyO~DR|jcF#T'7R|g97R|kJv3'!ay<Rj,Jvh&!:ReXcsa6*a+#a#_aIRf9aLRf?c,Z&Rf5Rf7c.Z&Rf;Rf>cQ#%T'p-Rf8Rf=ct#%'(*!,p,Rf4p+Rf6Rf:Rf<d~'Ua%U*^UYa(!a,-!#a4YaTalaEX0a8a<Weo3Dt/3Dsx=Br93Wen~Dr;~<5p<JwNZt2@3p=Pw:5p;Ou!5r3c7&!#:p>3Ds}KvGB)_6Vyk2sM=<r7x'eovA(!hFu1ARf}cV#X&@r5j6rvwQa^Rf3c=Za'wkghJv__g;unRggA53B9=b^}%j6uduo5Jq;!(hIv%2Re`Ou4ARe_e%a#^^^Xa&!a*a2!&a6YaP!*ad!#a:aE/5Rn?[y@>6Vyp;:pE~DrY~<5pBJwNZt8@3pCh=rt3rWPw:5pAJup_[xoNuPpF9c!#'45pD5ARn)d8#X'X*3@rU72s]h>v<<sSjJpqvewOJq/(!hNw'5ReBk0s2u3w/w'5ReE5@Jq.!a+JQ!&WeU23d(#Y&RjG5]jBk!u7w&u0udARjEe#+^^^Ub#!a2/a`Z(agT1!a-a;|@TaG!aS[yV=Re~fow'RguNuPRe?bz#'>RoUWeL>:Cbb|?JwPZtVg6ruRmzJvD'!6Vz(g/vmRh~Jvy_[y(g9voRgyx*cy(#2>Ri2B9b]~9kIw9u7rluJu3Rg]dI#a%UY'@=p%CAx.gQZ&RhwwygtRm{x5g_Z'+ABqR9Woa=Bp&dV#^*Xa'!&@o{g4v]Rk;Jv{!%Rk[wkkiA5RkiwwfUB=x,fUuqC&*!>RfTg8v0RfV~ARfSd;rJsAuAv9wR'ae+/aO!a@aza/a#[yQ@Wg!2Wemg3sEr0JvB_g>uvReWg2v+Re=KupB_+[y!2AbY~-~Hr2AJwD!(h<~El>h<~El?Kun@+_:9b`}Kg-v/Ri3g;vtwyk_9]k_d=&T#*U.6qh@Ab`|K9:H|CJv[!&3Dtex'fDwC%!Rf[9WlMd[(^X,!a%Z06Vz!@WgBg=v~Rgvg,QRe@awd,#Y+jTv|Q~EfWj]uNr|~FRfXdy#Y&^Ua%!aO.!(a)Ua;=!a@aKap!a-,a!Ta]a[rSa]p?[y82sK=Bq~;:p:~<5p8Pw:5p7d'#Y'Wf(;RnRi[u4w&RgJJvG'!6Vyh=<r#ijuuv/sIKuYD'ZtG@3p9~Gr&d2#`(g<vtRgFj`u5w&rqpxRf2CJuY!+:wfnTOu!5Rg}jNs1ucv&RfwJvA!&3@q|BDcC#T,k/unq8w8Q5RkTklwQuzunq8w8Q5Rk9dga#!a'!a=#a0!:+Tb*b@aO.a4!aba8aFJv^}?!VyR~Dr<g;u%Rn.~<5p[x'e`wNZtR@3p]Pw:5pZhNvjBp.woe_g5u-r4JwF!%DtO3:ooc7&!#:p^3DtpLuGw(!+%)Dtk6Vz#2sd=<r8d'#Y([y#<x3gJt`w@!)%}MRiowzikRij=]ilxAf3,U(#B2Rf#g0v-Rm[ck{`U#]giKv3>)!&6Ri154s,KuGB_%@r68r:dJ|t`#X(9<E|u2@H|rx3gJu?w'!+'1Nu7Reg4=H~+9<wxgY95Rm]xLggZ-`(X}U2:Ri4h<uOawRmsJv__5@bb{jbV~3dka#a'a]!,#a+U=a>b6a3b%!/aKa/)!arwve^VyJ;:pR~DpTg3uJpS~<5pOPw;5qmPw:5pNOu!5pQJvG'!6Vyx=<qoJvA!{~Jup!%@qk7Rn/KvyD!}''[xz;>wkh'?Rh,x8gyt`w5D!&),(SgyccRgztJ@3pPB5p#d'(Y#<]mmifubw&RgoJvE&!82s^JvF&!8Rf,ADb]~;x=h'rNu]vK!,%'*0RnORh)4Rh*AqQg-vaRnNg;wHwkh'ba~4cE#Ta*x3gctyw@'!+%RnFRnD<4Rn@hFvK5RnCxWg[#`&a0Ua()`1Rm75Rg[c]%X#qi8Rg^NvdRj>BwzgZauwji7Rm6A4wgg]d1#&(*,.0a#Rm;Rm<Rm=Rm>Rm?Rm@RmARmBe%#^^^Xaea?aC/b+(,!a+a#!a/!>a&Ta<aKbD!2wphBRnk[yPw}hE|.=Br-3Dtm>6Vy~g6urRf.x,hPrNav!%'RnqRo%Ro#Nu;q[Pw;5r+JwNZtM@3r)d'#Y'Weh;xChL#`&RnmRnoKu}>%(!Rne~Bs-;2wjcussJv+'!aYSO}6@B<5?ba~8LrNvj!.%*ROwungw~ng~:9;Ri^>wtnig;wHRnixDh@|(UZ.x1h@|)!#:2<H|*xHn]#-UX'3Ro)z=iT}6ARns=Bwsn_wpnaRncw]aR(#UXa&Ua*a/=]iPd'#Y&Ro'WnXf{QRm2hNvj]nZd`'T~&1`{|`#9b]{}c:'!#Wl{>@=be}]?cl{{U#:5Abb}Jds#^YaF!a*b4a#a3aPa>&Tb!bH!*a_!Eau?/a&RjY<]gj>6Vz*;:pe~DrZg,QRj1JwNZtX@wihspcJvZ&!VyX9WmOJu|!|N2WmHJvh&!]ht~Bpbcn&T(!#RmQ<s7Nu;padH#X'`+WmJ@>RmKCARhnKup=!)&Wf+:RhqNuPpf9c!#'45pd5AwghpARn(Ls@w!%,)!RmP@Wfe<E|IJva!&WmNg8vsRmLd`*.`#Y'Xa!axRn*]hrA8Rhug5s@rXg8u!RmMd8#X'X*3@rV72smdI*#UY&RmICARho~GsgxVgd)Ta'U-Y&Xa!T#RnEWnA@Wffg1uDRi0hFvK5RnBxGnG&#`%owp)@wsf+bX}Ze-*1!a*^^^Ua|!#a.aq&Ya2!a>.a6!a:aO`aJDtL[y`@Wg#>6Vz12@wzoYRoZNuPRi!NuPRhzg=ucRi,@=b`{Yg=ucRi-ACJvB!&Sh[ebSh]ebi`wUuFRm4Jw2_[y0JvB!.<Ju(!&SoG}6Shd}6<Ju(!&SoH}6She}6Kur@._g5vHRieJvx!{L2G{Kx6gd'T#?Rh82Wi5cZ#X(g1w)Rm5dW-Y(Ta#!a)!#aYa=wnfE=su2>>bU{0j9udv:<svj8uQv-7RgHdE%#^'sq9sp=>Bb_{TJv`!&g/r|snj6v(us5d,#Y(56H}[978H}]Jw5!&g1rushJvB!+j;v{u5?zDhd}6}bj;v{u5?zDhe}6}ce*#`(^^^a[aea!=!a6a*aoXb1a.!aAbL!b>,b'aL!aV@Wf|2Wlg3[y/JwNZt^@3piPw:5pgJunZou3@rsJva&!Vy_g<v~Rm#JvG'!6Vz0=<r{Ju{%!:pj@WfsiXuJu3Rm:JvZ&!WfA~Bph@c4Z&Dtwax5rubx(#:awRk1@d,#Y&RfjRfid1#,Y(@Wfp2Wlrg5s@ryKu[@!,'=]ig9wlk?Rk>g5u-rqJvy'!@9RkQcH(T#=>Ri~@<wkj(Wj(KuZB*!&<7rw@9RkRcH(T#=>Ri}@<wkj)Wj)dg(Ta2Xa9X#`-!a*CARhg@@=I}d9x;c~#X%so=<sj>2@@=aybb}XjWv0Q~EfEj3vLv;<d,#Y(56H}`978H}_dgaPaFa'a/!#a3Y0a_a;a|!1(a7-[yE3[xt;:pJNvZrrg3uJrvJwNZt=@3pIh=rt3rxPw:5pGOu!5rpJvG'!6Vys=<rz@c4Z&Dt(ax5rtJvZ!&~BpH@wsfNg-vaRlNci*U#=<wei<F}a5@Jq.!a*JQ!%@qZ23d(#Y&RjH5]jCk!u7w&u0udARjFd/prq=tyvpaEa(a:.!a1aZ(@@=I}:9wpd%=<sX55w_h}@@=I{t=ay<aU@@=I}T=ay<2@@=I})?C9:9au@9Cb]}DP~=x-fAZ(2Wl1=ay<aU@@=I}>5@d##Y+jTv|vV~EfFj]uNpn~FRfGdgaK!Z2&!a8a-Tb({E!acTbM*!a(DtY[yYd'%Y#sl[y*hHvh>Re5x2c{Z}.j4uCvcawRiMd+#X+_x&d!},<5RkX;2Hzw@x,gavfB-!{CcF&T#Roe;RodwWbBg5urRgaKvHC*_6Vz+<4opieuew&Rmq@d]&Y)X,T#X0Rh}<BqP=4qS9:ReMg/ujReNJw0!/<Jui%!bd{kawwnemRelAxUa?a3#*.&UX(Ya+a/RhvRnQ<o}9Wmtd-#Y&RgSRmw9;Rmxay=Rmyg-vaRmuxEhSrNu,v-voC!%(aR.a(a7+1Ro1>Ro5CE{A9b]{@;5x#eO{:g;urRi+KrNA!%(Ro3>Ro79;Ri_Ku@>{;&!x%gX|{KunA_+g5QRj/g3u5Rj#g>uERj%wio/xRhS&!,!#^1U}wba{8>>@=be}qC@:D5ba{7Ku+A&!}x?ba}t>>@=be}se(aA^^^Uat!b0#{pa+awUazbGa#aLb9bgaWac'a5TbS=Br!d1#`%scp_Jvl!#rT>Re0JvX&!VyN=H{Fcm#U&:pY=ReaJv2&!]h0=]nUJvG'!6Vy|=<r%JrM_=]h2@Wlud'#)U'Wf'b]{i=]h/Jvh!&~BpWg=v]RnMx+ny#'Nu;pVwjnu=]nwxJnx,T#`&Reqwjnt=]nvieu9vrRjLLuYwP(#+!th@wih5pX~Gr'g5v/Rh4KunA'!-CARnP@wwiN:Rm_9x'cvw>!|l=<saKvAA!0&3@q}>w^e1bp#&Re2Re3BDx7gH#T|f5H|eKuZ>!%(:qNAH{]Jv6!+3B2B9=b^{X<5<B92:E{ZLvhwA(a;a%!igQuyRmad+#Y}m@3Rh5d8#X'X*:AqUAHzmaxwbh<aXRnVcF}RT#Nw&cj#U(BWnug/vsRntdka)(a3+.Zb7aYYan1!bVa@Xa}[y^@b[{G=H{+hFu73Rj&Pv#5ReQcK%T#sig1v{Rj'Ku+D#'!t]~Grm~?rkKuMB!01d5#`'Vy.ta3Dtu~Hroc8#'{^45s85AwZbP&!#Rn!wghxWn#KvEA!)&2RlA2RlBx:h|#(T,=]j09Wobz>x]z/@awRoTd+#Y(az]hFhCrm4d,#Y+jTv|Q~EfMj]uNr|~FRfOdCa!Xa9_X#@<plJvf!%b`{(9;Rgwc;.!#2x7cw#T|UDb]|T5Ju={(!=@E{&Jv)&!Ab`{'awJvf!~*>>@=be{#KuY>!+&4Ezyi[ugv&RjIdea+T)#UXa&T-T&a!Rh9auRmW=]kLg5vuRn+g3u4Rn-Ow6ARn,hHus5xNk?#UX(U~)/g8v0RkD~AwkkF?Ri.OuNBwkkA?Ri/d|a2`a*^UYa.!aBTZaTa'Xa;!(!2!-a#b2[yC>6Vyq3[xr2Wi?g1rusVh%s?DtF~<5rbJs;%!DtBfswKtCj[uvuSsEu3RgVx3o:u+wN'*Zt;@3rd~Grh~?rfg8w)Lq)qE&-a%!>bI|`jWv0vV~EfCjTv|vV~Ef@j]uNpn~FRfBcK#T']gWNu7x,k7q4ai(0!hHv8<RhmkMu9vrsBuev/RhlCJvB!,g<v{wchh~@:Rhji[vrv{wchi~@:RhkdS&a5UY#Ta!RgPwwiI5BwciI~@:Rh`x'iJvj'!5]iJPu8Bwch]~@:Rhach)U#h3rp]gLh@t|Ax,hTq3ah!-(~@:Ro0Ou!5RhXj^v(pyw8unRhVd|)`,^UYas!a?/a2Z'a^Ta{Tb7Ta(a#!a,Wf&9sZ3DtAadamov=Bqt3[xig8vsRm~>waiL2b`{QJv*_Ouv2qgj<v]v2BqfdR'X*X#Y-@3qr~Gqv~?p6hHv-]glPup5Lq+q?_%*b_{qF{n9b^{rOu4ARhpKvCD!+&~Bqp:5Dbb}nwoiKl&unuTuBv]v+ueunaXRf0=Jvh!0nKufu8v1w&w7q%w&uHrz:Rgnj5w,uxDJq/(!hNw'5ReCk0s2u3w/w'5ReFd>Za&!*UaA=<wkgsRnSJv^!%Refifw3vyRgOKu_B'!,<]gkiiu:w&Rh<=C@a^<B57@2F{[<B5@aW:=3away9A5aW=<B=C@a^<B57@2F{Ie-#`(^^^bCara.b8aza6!/bZ,!adTbnTbOb+aFaS!aAT9@Wf~2Wli3Dtl2@d,#Y&RfnRfmJwJZtN~GqyJva&!VyMg<v~Rm%iXuJu3Rm9Jv[_=]ih9wlkDRkCd1#`(@Wg>2Wls3cH#T(@<Rj*=>Ri|b~'#23s9h<~El.d'#Y&Dtxi^rzvdRl#d*#U%(o|B2s`hJwSaxRmDKv4B&!1:Rmdd5#`'Vx}to~Hq{x'f1v3(!BA5ba|bJv_&!Wfug1v]ReIdO+U/Y#&G}-8wze=Rh{g1v]ReHg/uQRf/by#)ibQwERl/cH#T(@<Rj+=>Ri{cNu+vlax-!(#a0qa9<Rii2;;bU{H;x<i=&X#Rk`<4wwi=C9H~8xAI(Y#<azRi@45wXI<B9;5bb~7dL(X#Xa(+!aL6Vy{g5QqOau:5au2@ay547EzbxOcU(UX-T#Ta#:Cbb|A?wjh/b_|SOw6ARgtihr}u7Rhy<d1#T)X1@@=I|~=ay<2@@=aybb}Sj3vLv;<d,#Y(56H}A978H}@dGpvs@uAu`vcw9*!aFa+ai%(b!aXa8.a?a[ozWey=sU2@G}Nch&U#Rf_WexKu+D#'!t:~Gr`~?r^j]uNr|~FRg*j^psurwJt|RmcKv)@&!)7Rkv~Br[@wxfO:Rl3co#U'6Rezj_q#vIuavjRltwzeyh@vr5JqD0!>aY?C9:9au@9Cb]}9cl#U*5;5<H||jbuus1ucv&Rfvg1v~d/pppzqFr^a--a~!aMat1(hFv;Wiz@@=Izoj5uuv-7Rix~Cw`fk2WlVcZ#X,k)u3vWs@u2]ktg;wEx'fBq(_2Wg/jTv|vV~EfoJv]!15x'hzqG!(P~EfU~CRl_j6v(us5x4i-#T(2WmZ?C2F|d>Kq<aj1!*jTqIsBv=Wl`~Cw`fi2WlWj`v0u*~>RlR=c>Z,k#u3vWs@u2]kr<c1Z+jTqIsBv=Wla~Cw`fm2WlXdmb3!a{(arZa`bkTa%TbQTa-a9+c'!aM!/[yL=Bqug.w'RifhFvyDRj.g>vgwyk^9]k^Jv3_@WfbAARkhJw2_[x|JvB_wkoIRoKwkoJRoLd'(Y#<]gm=<9<H|yd'%_X#skDtb3awwqkgNulRkgdB#^',9:p'hJwSaxRmEBwVb8@4=H|qLu+w50&!)@3qs~?pU>Awwn;;Rn=c:Z'ARn<=<qwKvC@!/&~BqqJv6!&]eVb^z^xRge'/a%+^`#Sge}6<4Rn3=]n0Pw2>Rn8Jw0!&>Rn:>Rn6cY#a7+!a&=<wkaNw~h3z_c5Z{=wjh#=]nLKv^D!&)Vyz=bW|swYb<WetcG#T(2wxa@qVx@gD#Y&b^|V5JwG&!5bb|pg/w&RgD@x=kHs=uAvn!a%%/'+RmSRh694Ro`g-vaRmRhHv-]mlxCcS#`&ba~.5cD#Ta)P~=d,#Y(56H{>978H{Dd_#{2^Y%_+qbbb{6g3sERhsbU{?dfa.,`a(Xa<!aiX#(55RiG54RiHcI#T'WiU3RiVNvdwtfcRlKNvdd,#Y&RlHRlExQgf.1*^T'X#Sgf}6Wn4=]hfPrk>Rn7Jw0!&>Rn5>Rn9Lunw?&a2!,5<oq@@wqfdRlJj5Q~=d,#Y(~ARfcOuN]fdDKw;ay(}i!547E}j?cI#T(@5bV}iCbV}hdv(^^Tb?a40,b##Tbo!a*bR!a<b|a/!aKai!aU[yK=]o^g:v>ReGJwPZtK<7Rh+h<~El,Pv#5ReR@awwxjCg,ulRjDJv6&!]j!z?aQeeg>w=Sh<eeJw;!&axEzOg,Qosc!#*:wkeJ]eJ>x'h-u(!%Ro.w~h.zPdNZ(X,Ya![x{;9ReY;wkgxRiF:x?ap#Y&RmUg<s2Rkod]+UY0TZ'!a&A9sw<=bczLNvuw{gqzNhJwSaxRmCKuLay!#&s_Rf-55b^{uJvZa!!c%#(55Ri654wmiu5RiuawLu,vp!+}^%b_}Y9;wkgxba}o>A9:=b^}zKuh=a''!3awRk3c*'!#aHRk6c+Z&Rk5Rk4Jv)&!awRjSawd9*`#0?C2@EzMj8u<uJ5RmbjQrquJu3x,k>uq@_+=ayb^|W~ARkEOuN]k@7dhzV^X/X&a-#zRzSb`zXcJzTT#2WkVKvDBzW!%FzY9;5bbzWjQrquJu3Jw3%!b`zU=ayb^zQd:#X(T-a!6Vyywxh}=b]{Jg=u1RiAdGp~qHtzv!w(wA+a+a;<!aJaYai'anasb(=azRmV:Cbb{MLq2vb!%')RjuRjrRjtRjqx3jnqCw3!%')Rk(Rk+Rk&Rk)Lq2vb!%')Rj{RjxRjzRjwLq2vb!%')RjsRjpRjfRjex3jcqCw3!%')Rk'Rk*RjkRjl9<CbbzfOu4ARhxLq2vb!%')RjyRjvRjhRjgx=joq*uKvb!%')+-Rk.Rk%Rj~Rk-Rk#Rj}x=jdq*uKvb!%')+-Rk,Rk!Rj|RjmRjjRjidAq&qKs@uAv8Aa.'*-a@a&0!aM@a5[y73Dsy3Ds|3Dt):wxgI2sHJwJZt.~Gqxwsf0ikrzt}Rl0Jvy_[xj~HqzKv_A|D!&WfP8axRoVcf,U#k(v]v+ueunaXRf1Ju}'!g8u#Ri=jQw!sCunLprq>!,')~<5qeGzq9F{W=c##%s5au:5aU3CBE|;d4#X(D!a&6Vygx(b;#(=]ed?C2F{N<capoq2r[a&!aPa9,'Pw;5s:@@=I|,55w_h|@@=IzcP~=x'fCqB_2Wl2>aU@@=I|1OuNBc1Z+jTqIsBv=Wlc~Cw`fl2WlZ~AcTa%!Z+jTqIsBv=Wlb~Cw`fh2WlYk+uNqJsBv=WlSg,u3dca3#UXaMYa)TaB-=cM|7T#<bI}l5@B932:aV2G{BOuNBJq:|M!5Ezt=<B=C@a^<B57@2F{v>cB{/T#=ay<bI{3Jv6!a.6BKq0ah&+!5E}HP~Ef{978BaU@@=Iza<7d#.Y#978BaU@@=IzH~AJq0!(@@=IzG978BaU@@=IzFe,aU*Y&^^^bvJb,b:bFad!a,c2Ta>aL.bo6!a#CbTa'T#Re{2Wlh2@G{yg6t~Ro_NvdRfticuRQRllJv3&!x&c|zs@Jw3!%RflwpfkRlpKuL;%(!Re<@G|C2GzdhIvuBwgjAg-u0RjAKQB%!(GzZ@G|5NuuRl7d='T+Y#Vy[g<v~Rm!==G|>JvA!)@wma=]m1ifuaw&RmnLs@vT'!|/+[y,g:v>ReTJw1!#qX=x!eC{bLu+wT&)ZtZauq_~Graci&U#F|89:r_Lupvq!.)&2RlG8RfaC=x!eF{_h?rpWlmd&'!#X|&]k::xJey#`'T|+<E|&2@H|%dE#(^,g;u.RiEg6vjRiC9xCkA{O|zY#g=ucRmXKs0@!&*@G|m@awRknJuh!,3d(}gY}eJvj!%Rm):Jw3!%Rm+Rm-Ls0w(&!a(a#@b[|6cZ#X'7RkxWgAOu4ARn'dH'U#Y*Vz-Wm'CARm}d]*#a%^a*T'aK!a<9bV{PC=p*Jw4!&SgxcbB5r]idw(wBRmF7xFkt#&`(Rm/Rm8E|!JuY_9:Rl5=wrgr2:bbxd@xXfB(a*#T+!.X0X1Ta/a'T&RlDRfL>RlyARl9b[z[>RfZ:RlL:RfRwlg/ARl;9;RlxKv,A/!%7s69<74=BA5ba{-8Bde#`a<XaKYa1,a'P~=wxfB2bZ}}?C972@@=I}r8@55B9;5bb}G978B2@@=aybb}3j3vLv;<Jw3&!>Rfk=ayb^}4~Ad1#`*@@=aybb{w2@>==<bbz]dx+UY#^UaF!a9!bB'Ya1.!ajXa#%olRhD[y=3Dt#Ov5BrHKuMB%!(Rf^Wep~HrJwkiQjKr|~FRg)Ku+D#'!t5~GrF~?rDdV)UY,Z/_7RkuG{<~BrBg,rlsO:235B@bX}|d?a1!#`(6Vyn5@d##Y+jTv|vV~EfIj]uNpn~FRfH7Lq2vb1!a9-978BaU@@=Iz9978BbU}#~AJq0!(@@=Iz8978BaU@@=Iz7~AJQ|}!978BbU}!JvkaK!AdUa21-U#`a+(g/vsRn~Ou!5RPj:rmu9WhOjXuvvNr}:RhAj^v(pyw8unRn[kPr}p|u7vwv]RiSBd;pppzq@qHQa?(b.!a.a`@.|xa(hFv;Wiyj5uuv-7Riw~Cw`fg2WlU978BbU|wOuNBJqG!(P~EfD~CRlQcZ#X,k)u3vWs@u2]ksg;wEx'f@q1_2Wg.j]uNpn~FRfqJv]!15x'h{qG!(@@=IzK~CRl^j6v(us5x4i,#T(2WmY?C2F{1>Kq<aj1!*jTqIsBv=Wld~Cw`fj2Wl[j`v0u*~>RlT=c>Z,k#u3vWs@u2]kq<c1Z+jTqIsBv=Wle~Cw`fn2Wl]dn1#c(a(b^a2!b/bAT(bj!aDa7bu,a_a{c0!2T0g:v>ReD2@G{42@G{5~DpM~<5rc=Bx6i>{RT#RnI@zCx]y]z:2Jv[!zr5Awyk]9]k]dD(Y+X#6Vz.g=wKtgwhaCwgmTWj2Lu,w%_+/[y-B;b^xeg3u3Rj-2@bX{*KrJ<!+'@Wg(g?QRlC@Jv`!%b[zIwsfII}8JQ_@w|kW|=Jv(%!AqcOuNBJvEzh!bYzjLs@wP#(0!oy@>RkdJwMZtc3Dtd@BcG#T'9bWxg2@2Fznd*#Y+;2x'c}w<zizixNgwa#Z'U+!/!a'!a+w~g~z6wcn{Rn}wcnzRn|5Rh%=]nJg5vuRmvNvdRlvcprJu}w*az*a#!%.a.'Bot9qT]kj@Wg'ay2Gzv@Jv`!%b[zEwsfHI}1;ck#Ux`<Cbbx_Lu+w!a&0*!wko*wwo,So,}6Juqxf!E}PigQuyRm`d3(`#8>Rn%:A5B;bZ~%KvhCa!a2!x>k7#Uxb@b{#xaRk7Jw0!)>wwhlShl}6>wwhmShm}6CJvB!.x'hhvj{!!5Bwkhhbaz}x'hivjz~!5Bwkhibaz|xEhTrNu,v-vpD!a%&/)a3a.,%Ro2t[CE{)@3re9b]{%wjo09:rgc:Z&Ro6=<riifuaw&RmoKrNA!%(Ro4>Ro89;Ri`dSaL'UYzxZb)7Rka3xRhT&!,!#^1U}vbaz{>>@=be}yC@:D5bazzKu+A&!}{?ba}y>>@=be}wxBh[t`u~vJvr!%a!a()a,a0a4RoC=]o;Ju(!%RoGRhdwjh`=]oAg>w#Ro?g5vuRo=NvdRl|Ku]C.!&;RoEJvB!%RoORoMBx'h[v+_?w~h`}~5?w~hd~!xKh]oiptu-utv.vp!#%&a30a@a'a+(a/aOp(o~p!RoDJu(!%RoHRhewjha=]oBNvdRl}g>w#Ro@g5vuRo>c[#X']o<CauRoRAd-#Y':RkpauRoQKu]C.!&;RoFJvB!%RoNRoPBx'h]v+_?w~ha}t5?w~he}ue!/UbhYacXaW^Tc&a;b:a-c/#b&aja1(!cL+!bKbt!bmcRc9aIc?8[yW3Dtt94Rg`Jv}!&SiRMzBhEebShEMNuPRe>x7gL#TzuwjirRipc<Z&>on;>z=h-MSh.Mwqczx'a7vj&!>Re4@=ResJt__NuPRi*NuPRi)j]uNr|~FRfzKrJ>_+@Wfy@Wf]2WocKrJ<!+'@Wg%g/QRl@@Jv`!&awRl<wsfFIzgLu(w*!.*&ShBMwvhIRhI9;RhNx1hK'!#Sn]Mx1hK~0!#:2<H~7cNu+w7D*'1ZtW>Rn1~?rOc:Z&Rn2=<rQ<7wjh&=BSnLMc]#X(6Vz)w[b=a!U#9wzgMc3#&(RgMRitRis<x,gKt`ax!&+SioM=BSilMc3#&(RgKRinRimKurB,!&SiQMzBhDebShDM6BJQ!(P~Efx978B2@@=I}WLrJw!!,a*&@G}O@9wkibRid@@x'fKwC!&SlDMSfLMjUv~Q~EfKKv3@a+!(hFv-]mpx/hYZ(C5RiWz<o/MwkhY?So/M@x,gbvfB*&!SgEM:SoeeehFu3:Rgbda(,^TZa)X/7Sg[eb:2RgI~BrMC@wgkc:wwkcRerx3h(uUvK!&*,SnOM4Sh*MArRg;wHRh(x=h;rJvPwI!a4',a'0@Wg&=BSh/Mg>w=Rh=g3w*wwgGRgGcW(X#;Sg}M2Gzk@Jv`!&awRl=wsfGIz`dKZ*T'Y-:RhR7RhQg5u-p`j6v(us5d,#Y+~Awkia?RicOuNBwkibba}Ld6p~tyu_vbAa'a+!a/'a3aEa8a!>Sh,ebJv{!&Sh@ebSaReb9;SgwebNuPRi(NvdRl)NuPRi'hHu^<Rm^Jvv_@Wl(g;u1Si/ebKu'B&!*Sh?eb@Wl'z@aPeb95Si.ebcpputyvjB)!,&a+0a%ShAMWeK@G}C@WfJ9;RhMwvhH9w{ia}ix,hJvRA1(!zAn[MRhHx1hJ~*!#hFv(BSn[MBJQ!(@@=I~'978B2@@=I}2db.Ua<'X}+T#a0XaG2G}E;wkg|wuh!Rh!x,hZu,@)!&So0MVy)C5RiXACJvB!&5RiY5RiZg8w)cG}*T#2@bU}=KsA>(!a.3wkhZba~(x,h^u(A!&(SoCMRhb5Bz=h[eb?w~hb~6x,h_u(A!&(SoDMRhc5Bz=h]eb?w~hc~6e)aA1T#T,^^^c-bMb&blcPaP(a/!0!bA=b5c@a(!bfbrc#2afwmhARnjwchORnp2Wlf3DtsNvdRl-2@wpa<]m0bx(#:awRk2@Jw3!%RfhwpfgRlnKQB%!(G{V@G|'NuuRl6d='T+Y#VyUg<v~Rl~==G|<Jv+'!aYShC}6@B<5?ba~8@Jw3'!g2QRljhLrpWlOd+#Y'g.w'rIg>w*wgj@g-u0Rj@Lu+wT&)ZtUauq]~GrGci&U#F|39:rELrNvj!.%*RhCwunfw~nf~:9;Ri]>wtnhg;wHRnhx3hDs@v~!/+'@Wfr@9RkSNu&Rlo=@<5GzoKs0@_+@Wl+@awRkmJuh!-3d(}pY#qWJvj!%Rm(:Jw3!%Rm,Rm*de&!1U-U#`)Re;@G|.@9Ri82@wjfvRlq=@<5GzpLvOvr!).&2RlF8Rf`C=x!eE{.Jw3_g2QRlkhLrpWlPde(!#U{s,UXa*Ta'[y'g:v>ReS;x0PZ&RnlRnn~HrKJw1}f!=x!eB|2w]aP(#Xa&a*Ta.Ua2a7=]iOd'#Y&Ro&WnWg;u.RiDg6vjRiBNvdRlzhNvj]nYJuW_2Wm3x)kFze{9d])!a.!,Y01!#&aC!a3RndC=ox~BrC@2b^{pg,rlse7x'ksuq!%Rm.E{xidw(wBRmGx9o+)X#wwo-So-}69:Rl4@xSf@a#XZ'X)X,Ta(/ARl8b[xc>RfY:RlI:RfQwlg.ARl:9;Rlwdn'#^XafaQa1X1TaHTa)@b[{zcZ#X'7RkwWg@Ou4ARn&x)kG#{,g7u/RkGdH'U#Y*Vz'Wm&CARm|bx#(A]gUbUzJj9Q~=d,#Y(56H}l978H{U7d,0#U*2>ABb_xZ978BbU{e~AJQ{g!978BbU{hxMh?ad{oUYZ.x1h?{l!#:2<H{mx3n[t{vl!,&a%3Ro(z=iS}6ARnr=Bwsn^wvn`Rnbd`*T}B0!#^X'BG{c9b]{a>>@=be}F?JvS!&BG{d7BG}(Bde#`a1X,Ya@!a'P~=wxf@2bZ}I56B2@@=aybb}08@55B9;5bb}<j3vLv;<Jw3&!>Rfg=ayb^}&OuNBKuLA!)a!P~=x#fD{f2@>==<bbzl?C972@@=Ix^d6rSu,v7w*C(0a)a6#B+a%!sQ[y?3Dt%3[xn~<5rLOu!5p@Ku+D#'!t7~GrP~?rNKvlaya7'!h+v-5qMg=t|cd,U#5AAaa5Abb{S@52B5@a[@52B5Gx[iXueu;d<#`a(!/549C;ag>23ExY5@Dah89b^~689Jv)!~2b[~1Lv'w(%*!a#bX|aPrmawRe]keu7uhv-q6rxu,q`xTo]/a5aU!bNaDXbi!b-!ao!b<bwA!#5@B932:aV2G|:d-)Y#hJrL>RhG<7@C5<H|_=Cau:5aj5@B932:bJ|ng>vIbs)#?C2F|9jPv0w.vISh-MKvUaz(.!9ABbb|[5;5<H|Eg>unwfh;9:4E|YjQsBt|vjx'hYq3!(?C2F|J:2<BaY?C2F|GOu!5x,g|p{ah!-(?C2F|c9:4E|OjXuvvNr}:Rh&i[w*t|cd+U#jJvsu)vsSn~Mkfrmu9p}u7vwv]So!McW#Xa!ax5@A5aY:5;5<H|>kJv~vYrquJu3x4ib#T)2@SmZM?C2F|Bj:rmu9@xPhI(a*a#U#`a3-5Abb|L~@:RhK9:4E|0@52B5G|#C::aY?C2F|-:2<BaY?C2F|.5Jvk!a)javYrquJu3x4ia#T)2@SmYM?C2F|HAxPhH(!a#U#`a*-5Abb|4~@:RhJ9:4E|R@52B5G|F:2<BaY?C2F|Sc^#Xa2j=Qq5CJvB!-g<v{z;hhM?C2F|Zi[vrv{z;hiM?C2F|XKsA>!a)-g<v{z;h[eb?C2F|]i[vrv{z;h]eb?C2F|^iZu.vix,hZq3ah!.(?C2F|QOu!5ShXM:2<BaY?C2F|P", 13494, 2713, 49, 25, 61);
var He;
(function(e) {
  e[e.VALUE_LENGTH = 49152] = "VALUE_LENGTH", e[e.FLAG13 = 8192] = "FLAG13", e[e.BRANCH_LENGTH = 8064] = "BRANCH_LENGTH", e[e.JUMP_TABLE = 127] = "JUMP_TABLE", e[e.VALUE_MASK = 8191] = "VALUE_MASK";
})(He || (He = {}));
var ot;
(function(e) {
  e[e.AMP = 38] = "AMP", e[e.NUM = 35] = "NUM", e[e.SEMI = 59] = "SEMI", e[e.EQUALS = 61] = "EQUALS", e[e.ZERO = 48] = "ZERO", e[e.NINE = 57] = "NINE", e[e.LOWER_A = 97] = "LOWER_A", e[e.LOWER_X = 120] = "LOWER_X";
})(ot || (ot = {}));
const Is = 32, Tu = 21, Em = 2097151, mo = 2047;
let Fu = 0;
function Sm(e) {
  const t = e >>> Tu;
  return t === mo ? Fu : t;
}
function Dm(e) {
  return e - ot.ZERO >>> 0 <= 9;
}
function Tm(e) {
  return (e | Is) - ot.LOWER_A >>> 0 <= 5;
}
function Fm(e) {
  return (e | Is) - ot.LOWER_A >>> 0 <= 25;
}
var Lc;
(function(e) {
  e[e.EntityStart = 0] = "EntityStart", e[e.NumericStart = 1] = "NumericStart", e[e.NumericDecimal = 2] = "NumericDecimal", e[e.NumericHex = 3] = "NumericHex", e[e.NamedEntity = 4] = "NamedEntity";
})(Lc || (Lc = {}));
var Pc;
(function(e) {
  e[e.Legacy = 0] = "Legacy", e[e.Strict = 1] = "Strict", e[e.Attribute = 2] = "Attribute";
})(Pc || (Pc = {}));
function Im(e, t, n, r) {
  const s = (t & He.BRANCH_LENGTH) >> 7, i = t & He.JUMP_TABLE;
  if (i) {
    if (s === 0)
      return r === i ? n : -1;
    const c = r - i;
    if (c >>> 0 >= s)
      return -1;
    const a = e[n + c];
    return a === 0 ? -1 : n + s + a - 1 & 65535;
  }
  if (s === 0)
    return -1;
  const o = s + 1 >> 1, l = n + o + s;
  for (let c = 0; c < s; c++) {
    const u = e[n + (c >> 1)] >> ((c & 1) << 3) & 255;
    if (u === r) {
      const d = n + o + c;
      return l + e[d] & 65535;
    }
    if (u > r)
      return -1;
  }
  return -1;
}
function jc(e, t, n) {
  return n === 1 ? String.fromCharCode(e[t] & He.VALUE_MASK) : n === 2 ? String.fromCharCode(e[t + 1]) : String.fromCharCode(e[t + 1], e[t + 2]);
}
function Om(e, t, n) {
  let r = t + 1, s = 0, i = r;
  if (r < n && (e.charCodeAt(r) | Is) === ot.LOWER_X)
    for (r += 1, i = r; r < n; ) {
      const l = e.charCodeAt(r);
      if (Dm(l))
        s = s * 16 + (l - ot.ZERO);
      else if (Tm(l))
        s = s * 16 + ((l | Is) - ot.LOWER_A + 10);
      else
        break;
      r += 1;
    }
  else
    for (; r < n; ) {
      const l = e.charCodeAt(r) - ot.ZERO;
      if (l >>> 0 > 9)
        break;
      s = s * 10 + l, r += 1;
    }
  if (r === i)
    return 0;
  r < n && e.charCodeAt(r) === ot.SEMI && (r += 1), s > 1114111 && (s = 1114112);
  let o = r - t;
  return o >= mo && (Fu = o, o = mo), o << Tu | s;
}
function Nm(e, t, n) {
  const r = Cm;
  let s = e.indexOf("&");
  if (s < 0)
    return e;
  const i = e.length;
  let o = 0, l = "";
  const c = r[0], a = c & He.JUMP_TABLE, u = (c & He.BRANCH_LENGTH) >> 7;
  do {
    const d = s + 1, m = e.charCodeAt(d);
    let g, h;
    if (m === ot.NUM) {
      const w = Om(e, d, i);
      g = Sm(w), g > 0 && e.charCodeAt(d + g - 1) !== ot.SEMI && (g = 0), h = g === 0 ? "" : Am(w & Em);
    } else if (Fm(m)) {
      g = 0, h = "";
      const w = m - a;
      let v;
      if (w >>> 0 < u) {
        const O = r[1 + w];
        v = O === 0 ? -1 : u + O & 65535;
      } else
        v = -1;
      let C = 0, x = 0, k = v < 0 ? 0 : r[v], b = d + 1;
      e: for (; b < i; ) {
        for (
          ;
          // Value-less, non-run node with a nonzero jump offset.
          (k & (He.VALUE_LENGTH | He.FLAG13)) === 0 && (k & He.JUMP_TABLE) !== 0;
        ) {
          const ee = k & He.JUMP_TABLE, Y = (k & He.BRANCH_LENGTH) >> 7;
          if (Y === 0) {
            if (e.charCodeAt(b) !== ee)
              break e;
            v += 1;
          } else {
            const ue = e.charCodeAt(b) - ee;
            if (ue >>> 0 >= Y)
              break e;
            const ne = r[v + 1 + ue];
            if (ne === 0)
              break e;
            v = v + Y + ne & 65535;
          }
          if (k = r[v], b += 1, b >= i)
            break e;
        }
        if ((k & (He.VALUE_LENGTH | He.FLAG13)) === He.FLAG13) {
          const ee = (k & He.BRANCH_LENGTH) >> 7;
          if (e.charCodeAt(b) !== (k & He.JUMP_TABLE))
            break;
          b += 1;
          const Y = ee - 1;
          let ue = v + 1, ne = 0;
          for (; ne + 1 < Y; ne += 2) {
            const pe = r[ue];
            if (e.charCodeAt(b) !== (pe & 255) || (b += 1, e.charCodeAt(b) !== (pe >> 8 & 255)))
              break e;
            b += 1, ue += 1;
          }
          if (ne < Y) {
            if (e.charCodeAt(b) !== (r[ue] & 255))
              break;
            b += 1;
          }
          v += 1 + (ee >> 1), k = r[v];
          continue;
        }
        const O = k >>> 14, z = e.charCodeAt(b);
        if (O !== 0) {
          if (z === ot.SEMI) {
            g = b - d + 1, h = O === 1 ? String.fromCharCode(k & He.VALUE_MASK) : jc(r, v, O);
            break;
          }
          if (O === 1)
            break;
        }
        const j = Im(r, k, v + (O || 1), z);
        if (j < 0)
          break;
        v = j, k = r[v], b += 1;
      }
      h === "" && g > 0 && (h = jc(r, C, x));
    } else
      g = 0, h = "";
    g === 0 || n ? s = d : (o < s && (l += e.slice(o, s)), l += h, s = o = d + g), e.charCodeAt(s) !== ot.AMP && (s = e.indexOf("&", s));
  } while (s >= 0);
  return l + e.slice(o);
}
function Iu(e) {
  return Nm(e, !0, !1);
}
var Mm = class {
  src_Any = Cu.source;
  src_Cc = Eu.source;
  src_Z = Du.source;
  src_P = Lo.source;
  src_ZPCc = [
    this.src_Z,
    this.src_P,
    this.src_Cc
  ].join("|");
  src_ZCc = [this.src_Z, this.src_Cc].join("|");
  cache = {};
  opts = {
    maxLength: 1e4,
    urlAuth: !1,
    schema_names: []
  };
  constructor(e = {}) {
    this.opts = {
      ...this.opts,
      ...e
    };
  }
  set(e = {}) {
    return this.opts = {
      ...this.opts,
      ...e
    }, this.cache = {}, this;
  }
  escapeRE(e) {
    return e.replace(/[.?*+^$[\]\\(){}|-]/g, "\\$&");
  }
  nestedPairRE(e, t, n = 4) {
    const r = this.escapeRE(e), s = this.escapeRE(t), i = `(?:(?!${this.src_ZCc}|${r}|${s}).)`;
    let o = `${r}${i}{0,1000}${s}`;
    for (let l = 2; l <= n; l++) o = `${r}(?:${i}|${o}){0,1000}${s}`;
    return o;
  }
  get_text_separators() {
    return this.cache.text_separators ??= /[><\uff5c]/;
  }
  get_pseudo_letter() {
    return this.cache.src_pseudo_letter ??= new RegExp(`(?:(?!${this.get_text_separators().source}|${this.src_ZPCc})${this.src_Any})`);
  }
  get_ipv4_addr() {
    return this.cache.src_ip4 ??= /* @__PURE__ */ new RegExp("(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])[.]){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])");
  }
  get_ipv6_addr() {
    const e = "[0-9A-Fa-f]{1,4}", t = `(?:(?:${e}:${e})|${this.get_ipv4_addr().source})`;
    return this.cache.src_ip6_addr ??= new RegExp(`(?:(?:${e}:){6}${t}|::(?:${e}:){5}${t}|(?:${e})?::(?:${e}:){4}${t}|(?:(?:${e}:){0,1}${e})?::(?:${e}:){3}${t}|(?:(?:${e}:){0,2}${e})?::(?:${e}:){2}${t}|(?:(?:${e}:){0,3}${e})?::${e}:${t}|(?:(?:${e}:){0,4}${e})?::${t}|(?:(?:${e}:){0,5}${e})?::${e}|(?:(?:${e}:){0,6}${e})?::)`);
  }
  get_ipv6_url_host() {
    return this.cache.src_ip6_host ??= new RegExp(`\\[${this.get_ipv6_addr().source}\\]`);
  }
  get_ipv6_mail_host() {
    return this.cache.src_ipv6_mail_host ??= new RegExp(`\\[IPv6:${this.get_ipv6_addr().source}\\]`);
  }
  get_auth() {
    return this.cache.src_auth ??= new RegExp(`(?:(?:(?!${this.src_ZCc}|[@/\\[\\]()]).){1,50}@)?`);
  }
  get_port() {
    return this.cache.src_port ??= /* @__PURE__ */ new RegExp("(?::(?:6(?:[0-4]\\d{3}|5(?:[0-4]\\d{2}|5(?:[0-2]\\d|3[0-5])))|[1-5]?\\d{1,4}))?");
  }
  get_host_terminator() {
    return this.cache.src_host_terminator ??= new RegExp(`(?=$|${this.get_text_separators().source}|${this.src_ZPCc})(?!${this.opts["---"] ? "-(?!--)|" : "-|"}_|:\\d|\\.-|\\.(?!$|${this.src_ZPCc}))`);
  }
  get_path_terminator() {
    return this.cache.src_path_terminator ??= new RegExp(`${this.src_ZPCc}|${this.get_text_separators().source}`);
  }
  get_path() {
    return this.cache.src_path ??= new RegExp(`(?:[/?#](?:${this.nestedPairRE("[", "]")}|${this.nestedPairRE("(", ")")}|${this.nestedPairRE("{", "}")}|\\"(?:(?!${this.src_ZCc}|["]).){1,100}\\"|\\'(?:(?!${this.src_ZCc}|[']).){1,100}\\'|\\'(?=${this.get_pseudo_letter().source}|[-])|\\.{2,20}[:]?[a-zA-Z0-9%/&]|\\.(?!${this.src_ZCc}|[.]|$)|` + (this.opts["---"] ? "\\-(?!--(?:[^-]|$))(?:-{0,19})|" : "\\-{1,20}|") + `,(?!${this.src_ZCc}|$)|;(?!${this.src_ZCc}|$)|\\!{1,20}(?!${this.src_ZCc}|[!]|$)|\\?(?!${this.src_ZCc}|[?]|$)|` + this.get_path_extra().source + `[\\\\/:%@#&=_~*]|(?!${this.get_path_terminator().source}).){1,${this.opts.maxLength}}|\\/)?`);
  }
  get_mail_name() {
    return this.cache.src_mail_name ??= /* @__PURE__ */ new RegExp("[-!#$%&'*+/=?^_`{|}~a-zA-Z0-9](?:[-!#$%&'*+/=?^_`{|}~a-zA-Z0-9]|[.](?=[-!#$%&'*+/=?^_`{|}~a-zA-Z0-9])){0,63}");
  }
  get_xn() {
    return this.cache.src_xn ??= /* @__PURE__ */ new RegExp("xn--[a-z0-9\\-]{1,59}");
  }
  get_tld() {
    if (this.cache.tld) return this.cache.tld;
    const e = [...new Set(this.opts.tlds || [])].sort().reverse().join("|");
    return this.cache.tld = new RegExp(`${e || "$#none#$"}|${this.get_xn().source}`), this.cache.tld;
  }
  get_domain_root() {
    return this.cache.src_domain_root ??= new RegExp("(?:" + this.get_xn().source + `|${this.get_pseudo_letter().source}{1,63})`);
  }
  get_domain() {
    return this.cache.src_domain ??= new RegExp("(?:" + this.get_xn().source + `|(?:${this.get_pseudo_letter().source})|(?:${this.get_pseudo_letter().source}(?:-|${this.get_pseudo_letter().source}){0,61}${this.get_pseudo_letter().source}))`);
  }
  get_url_host_port() {
    return this.cache.url_host_port ??= new RegExp("(?:" + this.get_ipv6_url_host().source + `|(?:(?:(?:${this.get_domain().source})\\.){0,10}${this.get_domain().source}))` + this.get_port().source + this.get_host_terminator().source);
  }
  get_fuzzy_url_host_port() {
    return this.cache.fuzzy_url_host_port ??= new RegExp("(?:" + (this.opts.fuzzyIP ? this.get_ipv4_addr().source + "|" : "") + `(?:(?:(?:${this.get_domain().source})\\.){1,10}(?:${this.get_tld().source})))` + this.get_host_terminator().source);
  }
  get_mail_host() {
    return this.cache.src_mail_host ??= new RegExp("(?:" + this.get_ipv6_mail_host().source + `|(?:(?:(?:${this.get_domain().source})\\.){0,4}${this.get_domain().source}))` + this.get_host_terminator().source);
  }
  get_fuzzy_mail_host() {
    return this.cache.src_fuzzy_mail_host ??= new RegExp("(?:" + this.get_ipv6_mail_host().source + `|(?:(?:(?:${this.get_domain().source})[.]){1,4}${this.get_domain_root().source}))` + this.get_host_terminator().source);
  }
  get_path_extra() {
    return this.cache.src_path_extra ??= /* @__PURE__ */ new RegExp("");
  }
  get_fuzzy_mail_host_search() {
    return this.cache.mail_fuzzy_host_search ??= new RegExp(`@${this.get_fuzzy_mail_host().source}`, "ig");
  }
  get_fuzzy_link_search() {
    return this.cache.link_fuzzy_search ??= new RegExp(`(^|(?![.:/\\-_@])(?:[$+<=>^\`|｜]|${this.src_ZPCc}))(?:(?![$+<=>^\`|｜])${this.get_fuzzy_url_host_port().source}${this.get_path().source})`, "ig");
  }
  get_http_validator() {
    return this.cache.http_validator ??= new RegExp("\\/\\/" + (this.opts.urlAuth ? this.get_auth().source : "") + this.get_url_host_port().source + this.get_path().source, "iy");
  }
  get_relative_proto_validator() {
    return this.cache.relative_proto_validator ??= new RegExp((this.opts.urlAuth ? this.get_auth().source : "") + `(?:localhost|${this.get_ipv6_url_host().source}|(?:(?:${this.get_domain().source})[.]){1,10}${this.get_domain_root().source})` + this.get_port().source + this.get_host_terminator().source + this.get_path().source, "iy");
  }
  get_mail_name_validator() {
    return this.cache.mail_name_validator ??= new RegExp(`(?:^|${this.get_text_separators().source}|"|\\(|${this.src_ZCc})(${this.get_mail_name().source})$`);
  }
  get_mailto_validator() {
    return this.cache.mailto_validator ??= new RegExp(`${this.get_mail_name().source}@${this.get_mail_host().source}`, "iy");
  }
  get_schema_names() {
    return this.cache.schema_names ??= new RegExp((this.opts.schema_names || []).map((e) => this.escapeRE(e)).join("|"));
  }
  get_schema_search() {
    return this.cache.schema_search ??= new RegExp(`(^|(?!_)(?:[><｜]|${this.src_ZPCc}))(${this.get_schema_names().source})`, "ig");
  }
  get_schema_at_start() {
    return this.cache.schema_at_start ??= new RegExp(`^${this.get_schema_search().source}`, "i");
  }
}, zi = {
  validate: (e, t, n) => {
    const r = n.re.get_http_validator();
    r.lastIndex = t;
    const s = r.exec(e);
    return s ? s[0].length : 0;
  },
  normalize: (e, t) => t.normalize(e)
}, Lm = {
  "http:": zi,
  "https:": zi,
  "ftp:": zi,
  "//": {
    validate: function(e, t, n) {
      const r = n.re.get_relative_proto_validator();
      r.lastIndex = t;
      const s = r.exec(e);
      return s ? t >= 3 && e[t - 3] === ":" || t >= 3 && e[t - 3] === "/" ? 0 : s[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  },
  "mailto:": {
    validate: function(e, t, n) {
      const r = n.re.get_mailto_validator();
      r.lastIndex = t;
      const s = r.exec(e);
      return s ? s[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  }
}, Pm = "a:cdefgilmnoqrstuwxz|b:abdefghijmnorstvwyz|c:acdfghiklmnoruvwxyz|d:ejkmoz|e:cegrstu|f:ijkmor|g:abdefghilmnpqrstuwy|h:kmnrtu|i:delmnoqrst|j:emop|k:eghimnprwyz|l:abcikrstuvy|m:acdeghklmnopqrstuvwxyz|n:acefgilopruz|o:m|p:aefghklmnrstwy|q:a|r:eosuw|s:abcdeghijklmnortuvxyz|t:cdfghjklmnortvwz|u:agksyz|v:aceginu|w:fs|y:et|z:amw", jm = "biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф";
function $m() {
  const e = jm.split("|");
  return Pm.split("|").forEach((t) => {
    const n = t.indexOf(":"), r = t.slice(0, n);
    for (const s of t.slice(n + 1)) e.push(r + s);
  }), e;
}
var Bm = {
  fuzzyLink: !1,
  fuzzyEmail: !0,
  fuzzyIP: !1,
  "---": !1,
  tlds: $m(),
  urlAuth: !1,
  maxLength: 1e4
}, $c = class {
  /** Prefix (protocol) for matched string. Empty for fuzzy links. */
  schema;
  /** First position of matched string. */
  index;
  /** Next position after matched string. */
  lastIndex;
  /** Matched string. */
  raw;
  /** Normalized text of matched string. */
  text;
  /** Normalized URL of matched string. */
  url;
  constructor(e, t, n, r) {
    const s = e.slice(n, r);
    this.schema = t.toLowerCase(), this.index = n, this.lastIndex = r, this.raw = s, this.text = s, this.url = s;
  }
}, zm = class {
  __opts__;
  __schemas__;
  re;
  /**
  * Creates new linkifier instance.
  *
  * By default understands:
  *
  * - `http(s)://...` , `ftp://...`, `mailto:...` & `//...` links
  * - "fuzzy" emails (foo@bar.com).
  *
  * See {@link LinkifyConstructorOptions} for available options.
  *
  * @param options Recognition options.
  *
  * @example
  * ```javascript
  * import { LinkifyIt } from 'linkify-it'
  *
  * const linkify = new LinkifyIt({ fuzzyLink: true })
  *
  * linkify
  *   .tlds(require('tlds'))       // Reload with full TLD list
  *   .tlds('onion', true)         // Add unofficial `.onion` domain
  *   .add('ftp:', null)           // Disable `ftp:` protocol
  *   .set({ fuzzyIP: true })      // Enable IPs in fuzzy links
  *
  * console.log(linkify.test('Site github.com!')) // true
  * console.log(linkify.match('Site github.com!'))
  * ```
  */
  constructor(e = {}) {
    const { rebuilder: t, ...n } = e;
    this.__opts__ = {
      ...Bm,
      ...n
    }, this.__schemas__ = { ...Lm }, this.re = t || new Mm(), this.re.set({
      ...this.__opts__,
      schema_names: Object.keys(this.__schemas__)
    });
  }
  /**
  * Add new rule definition.
  *
  * `schema` is a link prefix (usually, protocol name with `:` at the end,
  * `skype:` for example). `linkify-it` makes sure that prefix is not
  * preceded with alphanumeric char and symbols. Only whitespaces and
  * punctuation allowed.
  *
  * `definition` is a rule to check tail after link prefix. To disable an
  * existing rule, pass `null`.
  *
  * @param schema Rule name (fixed pattern prefix).
  * @param definition Schema definition, or `null` to disable the rule.
  *
  * See [twitter mentions example](https://github.com/markdown-it/linkify-it/blob/master/examples/twitter.mjs).
  */
  add(e, t = null) {
    if (!t) delete this.__schemas__[e];
    else {
      const n = {
        normalize: (r, s) => s.normalize(r),
        ...t
      };
      this.__schemas__[e] = n;
    }
    return this.re.set({
      ...this.__opts__,
      schema_names: Object.keys(this.__schemas__)
    }), this;
  }
  /**
  * Set recognition options for links without schema.
  *
  * @param options Recognition options.
  */
  set(e = {}) {
    return this.__opts__ = {
      ...this.__opts__,
      ...e
    }, this.re.set({
      ...this.__opts__,
      schema_names: Object.keys(this.__schemas__)
    }), this;
  }
  /**
  * Searches linkifiable pattern and returns `true` on success or `false` on fail.
  *
  * @param text Text to scan.
  */
  test(e) {
    if (!e.length) return !1;
    let t, n;
    for (n = this.re.get_schema_search(), n.lastIndex = 0; (t = n.exec(e)) !== null; ) if (this.testSchemaAt(e, t[2], n.lastIndex)) return !0;
    if (this.__opts__.fuzzyLink && this.__schemas__["http:"] && (n = this.re.get_fuzzy_link_search(), n.lastIndex = 0, n.exec(e) !== null))
      return !0;
    if (this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && e.indexOf("@") >= 0) {
      const r = this.re.get_fuzzy_mail_host_search(), s = this.re.get_mail_name_validator();
      for (r.lastIndex = 0; (t = r.exec(e)) !== null; ) {
        const i = e.slice(Math.max(0, t.index - 65), t.index);
        if (s.test(i)) return !0;
      }
    }
    return !1;
  }
  /**
  * Similar to {@link LinkifyIt.test} but checks only specific protocol tail exactly
  * at given position. Returns length of found pattern (0 on fail).
  *
  * @param text Text to scan.
  * @param schema Rule (schema) name.
  * @param pos Text offset to check from.
  */
  testSchemaAt(e, t, n) {
    return this.__schemas__[t.toLowerCase()] ? this.__schemas__[t.toLowerCase()].validate(e.slice(0, n + this.__opts__.maxLength), n, this) : 0;
  }
  /**
  * Returns array of found link descriptions or `null` on fail. We strongly
  * recommend to use {@link LinkifyIt.test} first, for best speed.
  *
  * @param text Text to scan.
  */
  match(e) {
    const t = [], n = this.re.get_schema_search();
    let r, s, i, o, l, c, a = !1, u = !1, d = !1, m = 0;
    if (!e.length) return null;
    for (n.lastIndex = 0, this.__opts__.fuzzyLink && this.__schemas__["http:"] && (r = this.re.get_fuzzy_link_search(), r.lastIndex = 0), this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && (s = this.re.get_fuzzy_mail_host_search(), s.lastIndex = 0, i = this.re.get_mail_name_validator()); ; ) {
      const g = Math.max(m - 1, 0);
      if (s && i && !d && (!l || l.index < m))
        for (s.lastIndex < g && (s.lastIndex = g); ; ) {
          const x = s.exec(e);
          if (!x) {
            d = !0, l = void 0;
            break;
          }
          const k = i.exec(e.slice(Math.max(0, x.index - 65), x.index));
          if (k) {
            if (l = {
              schema: "mailto:",
              index: x.index - k[1].length,
              lastIndex: x.index + x[0].length
            }, l.index >= m) break;
            s.lastIndex < g && (s.lastIndex = g);
          }
        }
      if (r && !u && (!o || o.index < m))
        for (r.lastIndex < g && (r.lastIndex = g); ; ) {
          const x = r.exec(e);
          if (!x) {
            u = !0, o = void 0;
            break;
          }
          if (o = {
            schema: "",
            index: x.index + x[1].length,
            lastIndex: x.index + x[0].length
          }, o.index >= m) break;
          r.lastIndex < g && (r.lastIndex = g);
        }
      let h = l;
      (!h || o && (o.index < h.index || o.index === h.index && o.lastIndex > h.lastIndex)) && (h = o);
      let w;
      if (!a) for (; ; ) {
        if (!c) {
          n.lastIndex < g && (n.lastIndex = g);
          const b = n.exec(e);
          if (!b) {
            a = !0;
            break;
          }
          c = {
            schema: b[2],
            index: b.index + b[1].length,
            lastIndex: b.index + b[0].length
          };
        }
        if (c.index < m) {
          c = void 0;
          continue;
        }
        if (h && c.index > h.index) break;
        const x = c;
        c = void 0;
        const k = this.testSchemaAt(e, x.schema, x.lastIndex);
        if (k) {
          w = {
            schema: x.schema,
            index: x.index,
            lastIndex: x.lastIndex + k
          };
          break;
        }
      }
      let v = w;
      if ((!v || l && (l.index < v.index || l.index === v.index && l.lastIndex > v.lastIndex)) && (v = l), (!v || o && (o.index < v.index || o.index === v.index && o.lastIndex > v.lastIndex)) && (v = o), !v) break;
      v === l ? l = void 0 : v === o && (o = void 0);
      const C = new $c(e, v.schema, v.index, v.lastIndex);
      C.schema ? this.__schemas__[C.schema].normalize(C, this) : this.normalize(C), t.push(C), m = v.lastIndex;
    }
    return t.length ? t : null;
  }
  /**
  * Returns fully-formed (not fuzzy) link if it starts at the beginning
  * of the string, and null otherwise.
  *
  * @param text Text to scan.
  */
  matchAtStart(e) {
    if (!e.length) return null;
    const t = this.re.get_schema_at_start().exec(e);
    if (!t) return null;
    const n = this.testSchemaAt(e, t[2], t[0].length);
    if (!n) return null;
    const r = new $c(e, t[2], t.index + t[1].length, t.index + t[0].length + n);
    return this.__schemas__[r.schema].normalize(r, this), r;
  }
  /**
  * Load (or merge) new TLDs list. Those are used for fuzzy links (without
  * prefix) to avoid false positives. By default this algorithm is used:
  *
  * - hostname with any 2-letter root zones are ok.
  * - biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф
  *   are ok.
  * - encoded (`xn--...`) root zones are ok.
  *
  * If list is replaced, then exact match for 2-chars root zones will be checked.
  *
  * @param list List of TLDs.
  * @param keepOld Merge with current list if `true` (`false` by default).
  */
  tlds(e, t = !1) {
    return e = Array.isArray(e) ? e : [e], t ? this.__opts__.tlds = this.__opts__.tlds.concat(e) : this.__opts__.tlds = e, this.re.set({
      ...this.__opts__,
      schema_names: Object.keys(this.__schemas__)
    }), this;
  }
  /**
  * Default normalizer (if schema does not define its own).
  *
  * @param match Match to normalize.
  */
  normalize(e) {
    e.schema || (e.url = `http://${e.url}`), e.schema === "mailto:" && !/^mailto:/i.test(e.url) && (e.url = `mailto:${e.url}`);
  }
};
const Qn = 2147483647, Tt = 36, Po = 1, Nr = 26, Um = 38, Wm = 700, Ou = 72, Nu = 128, Mu = "-", Jm = /^xn--/, qm = /[^\0-\x7F]/, Hm = /[\x2E\u3002\uFF0E\uFF61]/g, Vm = {
  overflow: "Overflow: input needs wider integers to process",
  "not-basic": "Illegal input >= 0x80 (not a basic code point)",
  "invalid-input": "Invalid input"
}, Ui = Tt - Po, Ft = Math.floor, Wi = String.fromCharCode;
function rn(e) {
  throw new RangeError(Vm[e]);
}
function Gm(e, t) {
  const n = [];
  let r = e.length;
  for (; r--; )
    n[r] = t(e[r]);
  return n;
}
function Lu(e, t) {
  const n = e.split("@");
  let r = "";
  n.length > 1 && (r = n[0] + "@", e = n[1]), e = e.replace(Hm, ".");
  const s = e.split("."), i = Gm(s, t).join(".");
  return r + i;
}
function Pu(e) {
  const t = [];
  let n = 0;
  const r = e.length;
  for (; n < r; ) {
    const s = e.charCodeAt(n++);
    if (s >= 55296 && s <= 56319 && n < r) {
      const i = e.charCodeAt(n++);
      (i & 64512) == 56320 ? t.push(((s & 1023) << 10) + (i & 1023) + 65536) : (t.push(s), n--);
    } else
      t.push(s);
  }
  return t;
}
const Km = (e) => String.fromCodePoint(...e), Ym = function(e) {
  return e >= 48 && e < 58 ? 26 + (e - 48) : e >= 65 && e < 91 ? e - 65 : e >= 97 && e < 123 ? e - 97 : Tt;
}, Bc = function(e, t) {
  return e + 22 + 75 * (e < 26) - ((t != 0) << 5);
}, ju = function(e, t, n) {
  let r = 0;
  for (e = n ? Ft(e / Wm) : e >> 1, e += Ft(e / t); e > Ui * Nr >> 1; r += Tt)
    e = Ft(e / Ui);
  return Ft(r + (Ui + 1) * e / (e + Um));
}, $u = function(e) {
  const t = [], n = e.length;
  let r = 0, s = Nu, i = Ou, o = e.lastIndexOf(Mu);
  o < 0 && (o = 0);
  for (let l = 0; l < o; ++l)
    e.charCodeAt(l) >= 128 && rn("not-basic"), t.push(e.charCodeAt(l));
  for (let l = o > 0 ? o + 1 : 0; l < n; ) {
    const c = r;
    for (let u = 1, d = Tt; ; d += Tt) {
      l >= n && rn("invalid-input");
      const m = Ym(e.charCodeAt(l++));
      m >= Tt && rn("invalid-input"), m > Ft((Qn - r) / u) && rn("overflow"), r += m * u;
      const g = d <= i ? Po : d >= i + Nr ? Nr : d - i;
      if (m < g)
        break;
      const h = Tt - g;
      u > Ft(Qn / h) && rn("overflow"), u *= h;
    }
    const a = t.length + 1;
    i = ju(r - c, a, c == 0), Ft(r / a) > Qn - s && rn("overflow"), s += Ft(r / a), r %= a, t.splice(r++, 0, s);
  }
  return String.fromCodePoint(...t);
}, Bu = function(e) {
  const t = [];
  e = Pu(e);
  const n = e.length;
  let r = Nu, s = 0, i = Ou;
  for (const c of e)
    c < 128 && t.push(Wi(c));
  const o = t.length;
  let l = o;
  for (o && t.push(Mu); l < n; ) {
    let c = Qn;
    for (const u of e)
      u >= r && u < c && (c = u);
    const a = l + 1;
    c - r > Ft((Qn - s) / a) && rn("overflow"), s += (c - r) * a, r = c;
    for (const u of e)
      if (u < r && ++s > Qn && rn("overflow"), u === r) {
        let d = s;
        for (let m = Tt; ; m += Tt) {
          const g = m <= i ? Po : m >= i + Nr ? Nr : m - i;
          if (d < g)
            break;
          const h = d - g, w = Tt - g;
          t.push(
            Wi(Bc(g + h % w, 0))
          ), d = Ft(h / w);
        }
        t.push(Wi(Bc(d, 0))), i = ju(s, a, l === o), s = 0, ++l;
      }
    ++s, ++r;
  }
  return t.join("");
}, Xm = function(e) {
  return Lu(e, function(t) {
    return Jm.test(t) ? $u(t.slice(4).toLowerCase()) : t;
  });
}, Zm = function(e) {
  return Lu(e, function(t) {
    return qm.test(t) ? "xn--" + Bu(t) : t;
  });
}, zc = {
  /**
   * A string representing the current Punycode.js version number.
   * @memberOf punycode
   * @type String
   */
  version: "2.3.1",
  /**
   * An object of methods to convert from JavaScript's internal character
   * representation (UCS-2) to Unicode code points, and back.
   * @see <https://mathiasbynens.be/notes/javascript-encoding>
   * @memberOf punycode
   * @type Object
   */
  ucs2: {
    decode: Pu,
    encode: Km
  },
  decode: $u,
  encode: Bu,
  toASCII: Zm,
  toUnicode: Xm
};
var Uc = Object.defineProperty, zu = (e, t) => {
  let n = {};
  for (var r in e) Uc(n, r, {
    get: e[r],
    enumerable: !0
  });
  return Uc(n, Symbol.toStringTag, { value: "Module" }), n;
}, Qm = /* @__PURE__ */ zu({
  arrayReplaceAt: () => e_,
  asciiTrim: () => Js,
  callable: () => Uu,
  escapeHtml: () => dn,
  escapeRE: () => u_,
  fromCodePoint: () => Mr,
  isMdAsciiPunct: () => jr,
  isPunctChar: () => Ju,
  isPunctCharCode: () => Pr,
  isSpace: () => Te,
  isValidEntityCode: () => jo,
  isWhiteSpace: () => Lr,
  lib: () => f_,
  normalizeReference: () => Ws,
  unescapeAll: () => or,
  unescapeMd: () => s_
});
function Uu(e) {
  const t = function(...n) {
    return Reflect.construct(e, n, new.target && new.target !== t ? new.target : e);
  };
  return Object.defineProperty(t, "name", { value: e.name }), Object.setPrototypeOf(t, e), t.prototype = e.prototype, t;
}
function e_(e, t, n) {
  return [].concat(e.slice(0, t), n, e.slice(t + 1));
}
function jo(e) {
  return !(e >= 55296 && e <= 57343 || e >= 64976 && e <= 65007 || (e & 65535) === 65535 || (e & 65535) === 65534 || e >= 0 && e <= 8 || e === 11 || e >= 14 && e <= 31 || e >= 127 && e <= 159 || e > 1114111);
}
function Mr(e) {
  if (e > 65535) {
    e -= 65536;
    const t = 55296 + (e >> 10), n = 56320 + (e & 1023);
    return String.fromCharCode(t, n);
  }
  return String.fromCharCode(e);
}
var Wu = /\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, t_ = new RegExp(`${Wu.source}|${/&([a-z#][a-z0-9]{1,31});/gi.source}`, "gi"), n_ = /^#((?:x[a-f0-9]{1,8}|[0-9]{1,8}))$/i;
function r_(e, t) {
  if (t.charCodeAt(0) === 35 && n_.test(t)) {
    const r = t[1].toLowerCase() === "x" ? parseInt(t.slice(2), 16) : parseInt(t.slice(1), 10);
    return jo(r) ? Mr(r) : e;
  }
  const n = Iu(e);
  return n !== e ? n : e;
}
function s_(e) {
  return e.indexOf("\\") < 0 ? e : e.replace(Wu, "$1");
}
function or(e) {
  return e.indexOf("\\") < 0 && e.indexOf("&") < 0 ? e : e.replace(t_, function(t, n, r) {
    return n || r_(t, r);
  });
}
var i_ = /[&<>"]/, o_ = /[&<>"]/g, l_ = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;"
};
function c_(e) {
  return l_[e];
}
function dn(e) {
  return i_.test(e) ? e.replace(o_, c_) : e;
}
var a_ = /[.?*+^$[\]\\(){}|-]/g;
function u_(e) {
  return e.replace(a_, "\\$&");
}
function Te(e) {
  switch (e) {
    case 9:
    case 32:
      return !0;
  }
  return !1;
}
function Lr(e) {
  if (e >= 8192 && e <= 8202) return !0;
  switch (e) {
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 32:
    case 160:
    case 5760:
    case 8239:
    case 8287:
    case 12288:
      return !0;
  }
  return !1;
}
function Ju(e) {
  return Lo.test(e) || Su.test(e);
}
function Pr(e) {
  return Ju(Mr(e));
}
function jr(e) {
  switch (e) {
    case 33:
    case 34:
    case 35:
    case 36:
    case 37:
    case 38:
    case 39:
    case 40:
    case 41:
    case 42:
    case 43:
    case 44:
    case 45:
    case 46:
    case 47:
    case 58:
    case 59:
    case 60:
    case 61:
    case 62:
    case 63:
    case 64:
    case 91:
    case 92:
    case 93:
    case 94:
    case 95:
    case 96:
    case 123:
    case 124:
    case 125:
    case 126:
      return !0;
    default:
      return !1;
  }
}
function Ws(e) {
  return e = e.trim().replace(/\s+/g, " "), e.toLowerCase().toUpperCase();
}
function Wc(e) {
  return e === 32 || e === 9 || e === 10 || e === 13;
}
function Js(e) {
  let t = 0;
  for (; t < e.length && Wc(e.charCodeAt(t)); t++) ;
  let n = e.length - 1;
  for (; n >= t && Wc(e.charCodeAt(n)); n--) ;
  return e.slice(t, n + 1);
}
var f_ = {
  mdurl: ym,
  ucmicro: km
};
function d_(e, t, n) {
  let r, s, i, o;
  const l = e.posMax, c = e.pos;
  for (e.pos = t + 1, r = 1; e.pos < l; ) {
    if (i = e.src.charCodeAt(e.pos), i === 93 && (r--, r === 0)) {
      s = !0;
      break;
    }
    if (o = e.pos, e.md.inline.skipToken(e), i === 91) {
      if (o === e.pos - 1) r++;
      else if (n)
        return e.pos = c, -1;
    }
  }
  let a = -1;
  return s && (a = e.pos), e.pos = c, a;
}
function h_(e, t, n) {
  let r, s = t;
  const i = {
    ok: !1,
    pos: 0,
    str: ""
  };
  if (e.charCodeAt(s) === 60) {
    for (s++; s < n; ) {
      if (r = e.charCodeAt(s), r === 10 || r === 60) return i;
      if (r === 62)
        return i.pos = s + 1, i.str = or(e.slice(t + 1, s)), i.ok = !0, i;
      if (r === 92 && s + 1 < n) {
        s += 2;
        continue;
      }
      s++;
    }
    return i;
  }
  let o = 0;
  for (; s < n && (r = e.charCodeAt(s), !(r === 32 || r < 32 || r === 127)); ) {
    if (r === 92 && s + 1 < n) {
      if (e.charCodeAt(s + 1) === 32) {
        s++;
        continue;
      }
      s += 2;
      continue;
    }
    if (r === 40 && (o++, o > 32))
      return i;
    if (r === 41) {
      if (o === 0) break;
      o--;
    }
    s++;
  }
  return t === s || o !== 0 || (i.str = or(e.slice(t, s)), i.pos = s, i.ok = !0), i;
}
function p_(e, t, n, r) {
  let s, i = t;
  const o = {
    ok: !1,
    can_continue: !1,
    pos: 0,
    str: "",
    marker: 0
  };
  if (r)
    o.str = r.str, o.marker = r.marker;
  else {
    if (i >= n) return o;
    let l = e.charCodeAt(i);
    if (l !== 34 && l !== 39 && l !== 40) return o;
    t++, i++, l === 40 && (l = 41), o.marker = l;
  }
  for (; i < n; ) {
    if (s = e.charCodeAt(i), s === o.marker)
      return o.pos = i + 1, o.str += or(e.slice(t, i)), o.ok = !0, o;
    if (s === 40 && o.marker === 41) return o;
    s === 92 && i + 1 < n && i++, i++;
  }
  return o.can_continue = !0, o.str += or(e.slice(t, i)), o;
}
var g_ = /* @__PURE__ */ zu({
  parseLinkDestination: () => h_,
  parseLinkLabel: () => d_,
  parseLinkTitle: () => p_
});
function $r(e) {
  "@babel/helpers - typeof";
  return $r = typeof Symbol == "function" && typeof Symbol.iterator == "symbol" ? function(t) {
    return typeof t;
  } : function(t) {
    return t && typeof Symbol == "function" && t.constructor === Symbol && t !== Symbol.prototype ? "symbol" : typeof t;
  }, $r(e);
}
function m_(e, t) {
  if ($r(e) != "object" || !e) return e;
  var n = e[Symbol.toPrimitive];
  if (n !== void 0) {
    var r = n.call(e, t);
    if ($r(r) != "object") return r;
    throw new TypeError("@@toPrimitive must return a primitive value.");
  }
  return (t === "string" ? String : Number)(e);
}
function __(e) {
  var t = m_(e, "string");
  return $r(t) == "symbol" ? t : t + "";
}
function K(e, t, n) {
  return (t = __(t)) in e ? Object.defineProperty(e, t, {
    value: n,
    enumerable: !0,
    configurable: !0,
    writable: !0
  }) : e[t] = n, e;
}
var Ln = class {
  constructor(e, t, n) {
    K(
      this,
      /**
      * Source map info. Format: `[ line_begin, line_end ]`
      */
      "map",
      null
    ), K(
      this,
      /**
      * nesting level, the same as `state.level`
      */
      "level",
      0
    ), K(
      this,
      /**
      * An array of child nodes (inline and img tokens)
      */
      "children",
      null
    ), K(
      this,
      /**
      * In a case of self-closing tag (code, html, fence, etc.),
      * it has contents of this tag.
      */
      "content",
      ""
    ), K(
      this,
      /**
      * '*' or '_' for emphasis, fence string for fence, etc.
      */
      "markup",
      ""
    ), K(
      this,
      /**
      * Additional information:
      *
      * - Info string for "fence" tokens
      * - The value "auto" for autolink "link_open" and "link_close" tokens
      * - The string value of the item marker for ordered-list "list_item_open" tokens
      */
      "info",
      ""
    ), K(
      this,
      /**
      * True for block-level tokens, false for inline tokens.
      * Used in renderer to calculate line breaks
      */
      "block",
      !1
    ), K(
      this,
      /**
      * If it's true, ignore this element when rendering. Used for tight lists
      * to hide paragraphs.
      */
      "hidden",
      !1
    ), this.type = e, this.tag = t, this.attrs = null, this.nesting = n, this.meta = null;
  }
  /**
  * Search attribute index by name.
  */
  attrIndex(e) {
    if (!this.attrs) return -1;
    const t = this.attrs;
    for (let n = 0, r = t.length; n < r; n++) if (t[n][0] === e) return n;
    return -1;
  }
  /**
  * Add `[ name, value ]` attribute to list. Init attrs if necessary
  */
  attrPush(e) {
    this.attrs ? this.attrs.push(e) : this.attrs = [e];
  }
  /**
  * Set `name` attribute to `value`. Override old value if exists.
  */
  attrSet(e, t) {
    const n = this.attrIndex(e), r = [e, t];
    n < 0 ? this.attrPush(r) : this.attrs[n] = r;
  }
  /**
  * Get the value of attribute `name`, or null if it does not exist.
  */
  attrGet(e) {
    const t = this.attrIndex(e);
    let n = null;
    return t >= 0 && (n = this.attrs[t][1]), n;
  }
  /**
  * Join value to existing attribute via space. Or create new attribute if not
  * exists. Useful to operate with token classes.
  */
  attrJoin(e, t) {
    const n = this.attrIndex(e);
    n < 0 ? this.attrPush([e, t]) : this.attrs[n][1] = `${this.attrs[n][1]} ${t}`;
  }
}, Br = class {
  constructor() {
    K(
      this,
      /** @internal */
      "__rules__",
      []
    ), K(
      this,
      /** @internal */
      "__cache__",
      null
    );
  }
  /** @internal */
  __find__(e) {
    for (let t = 0; t < this.__rules__.length; t++) if (this.__rules__[t].name === e) return t;
    return -1;
  }
  /** @internal */
  __compile__() {
    const e = /* @__PURE__ */ new Set();
    this.__rules__.forEach((t) => {
      t.enabled && t.alt.forEach((n) => {
        n && e.add(n);
      });
    }), this.__cache__ = /* @__PURE__ */ Object.create(null), this.__cache__[""] = [], this.__rules__.forEach((t) => {
      t.enabled && this.__cache__[""].push(t.fn);
    }), e.forEach((t) => {
      this.__cache__[t] = [], this.__rules__.forEach((n) => {
        n.enabled && n.alt.indexOf(t) >= 0 && this.__cache__[t].push(n.fn);
      });
    });
  }
  /**
  * Replace rule by name with new function & options. Throws error if name not
  * found.
  *
  * @example Replace existing typographer replacement rule with new one
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  * const md = new MarkdownIt()
  *
  * md.core.ruler.at('replacements', function replace(state) {
  *   //...
  * });
  * ```
  */
  at(e, t, n = {}) {
    const r = this.__find__(e);
    if (r === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__[r].fn = t, this.__rules__[r].alt = n.alt || [], this.__cache__ = null;
  }
  /**
  * Add new rule to chain before one with given name. See also
  * {@link Ruler.after}, {@link Ruler.push}.
  *
  * @example
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  * const md = new MarkdownIt()
  *
  * md.block.ruler.before('paragraph', 'my_rule', function replace(state) {
  *   //...
  * });
  * ```
  */
  before(e, t, n, r = {}) {
    const s = this.__find__(e);
    if (s === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(s, 0, {
      name: t,
      enabled: !0,
      fn: n,
      alt: r.alt || []
    }), this.__cache__ = null;
  }
  /**
  * Add new rule to chain after one with given name. See also
  * {@link Ruler.before}, {@link Ruler.push}.
  *
  * @example
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  * const md = new MarkdownIt()
  *
  * md.inline.ruler.after('text', 'my_rule', function replace(state) {
  *   //...
  * });
  * ```
  */
  after(e, t, n, r = {}) {
    const s = this.__find__(e);
    if (s === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(s + 1, 0, {
      name: t,
      enabled: !0,
      fn: n,
      alt: r.alt || []
    }), this.__cache__ = null;
  }
  /**
  * Push new rule to the end of chain. See also
  * {@link Ruler.before}, {@link Ruler.after}.
  *
  * @example
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  * const md = new MarkdownIt()
  *
  * md.core.ruler.push('my_rule', function replace(state) {
  *   //...
  * });
  * ```
  */
  push(e, t, n = {}) {
    this.__rules__.push({
      name: e,
      enabled: !0,
      fn: t,
      alt: n.alt || []
    }), this.__cache__ = null;
  }
  /**
  * Enable rules with given names. If any rule name not found - throw Error.
  * Errors can be disabled by second param.
  *
  * See also {@link Ruler.disable}, {@link Ruler.enableOnly}.
  *
  * Returns list of found rule names (if no exception happened).
  */
  enable(e, t = !1) {
    Array.isArray(e) || (e = [e]);
    const n = [];
    return e.forEach((r) => {
      const s = this.__find__(r);
      if (s < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${r}`);
      }
      this.__rules__[s].enabled = !0, n.push(r);
    }), this.__cache__ = null, n;
  }
  /**
  * Enable rules with given names, and disable everything else. If any rule name
  * not found - throw Error. Errors can be disabled by second param.
  *
  * See also {@link Ruler.disable}, {@link Ruler.enable}.
  */
  enableOnly(e, t = !1) {
    Array.isArray(e) || (e = [e]), this.__rules__.forEach((n) => {
      n.enabled = !1;
    }), this.enable(e, t);
  }
  /**
  * Disable rules with given names. If any rule name not found - throw Error.
  * Errors can be disabled by second param.
  *
  * See also {@link Ruler.enable}, {@link Ruler.enableOnly}.
  *
  * Returns list of found rule names (if no exception happened).
  */
  disable(e, t = !1) {
    Array.isArray(e) || (e = [e]);
    const n = [];
    return e.forEach((r) => {
      const s = this.__find__(r);
      if (s < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${r}`);
      }
      this.__rules__[s].enabled = !1, n.push(r);
    }), this.__cache__ = null, n;
  }
  /**
  * Return array of active functions (rules) for given chain name. It analyzes
  * rules configuration, compiles caches if not exists and returns result.
  *
  * Default chain name is `''` (empty string). It can't be skipped. That's
  * done intentionally, to keep signature monomorphic for high speed.
  */
  getRules(e) {
    return this.__cache__ || this.__compile__(), this.__cache__[e] || [];
  }
}, Nt = {};
Nt.code_inline = function(e, t, n, r, s) {
  const i = e[t];
  return `<code${s.renderAttrs(i)}>${dn(i.content)}</code>`;
};
Nt.code_block = function(e, t, n, r, s) {
  const i = e[t];
  return `<pre${s.renderAttrs(i)}><code>${dn(e[t].content)}</code></pre>
`;
};
Nt.fence = function(e, t, n, r, s) {
  const i = e[t], o = i.info ? or(i.info).trim() : "";
  let l = "", c = "";
  if (o) {
    const u = o.split(/(\s+)/g);
    l = u[0], c = u.slice(2).join("");
  }
  let a;
  if (n.highlight ? a = n.highlight(i.content, l, c) || dn(i.content) : a = dn(i.content), a.indexOf("<pre") === 0) return a + `
`;
  if (o) {
    const u = i.attrIndex("class"), d = i.attrs ? i.attrs.slice() : [];
    u < 0 ? d.push(["class", `${n.langPrefix}${l}`]) : (d[u] = [d[u][0], d[u][1]], d[u][1] += ` ${n.langPrefix}${l}`);
    const m = { attrs: d };
    return `<pre><code${s.renderAttrs(m)}>${a}</code></pre>
`;
  }
  return `<pre><code${s.renderAttrs(i)}>${a}</code></pre>
`;
};
Nt.image = function(e, t, n, r, s) {
  const i = e[t];
  return i.attrs[i.attrIndex("alt")][1] = s.renderInlineAsText(i.children, n, r), s.renderToken(e, t, n);
};
Nt.hardbreak = function(e, t, n) {
  return n.xhtmlOut ? `<br />
` : `<br>
`;
};
Nt.softbreak = function(e, t, n) {
  return n.breaks ? n.xhtmlOut ? `<br />
` : `<br>
` : `
`;
};
Nt.text = function(e, t) {
  return dn(e[t].content);
};
Nt.html_block = function(e, t) {
  return e[t].content;
};
Nt.html_inline = function(e, t) {
  return e[t].content;
};
var qu = class {
  constructor() {
    K(
      this,
      /**
      * Contains render rules for tokens. Can be updated and extended.
      *
      * See [source code](https://github.com/markdown-it/markdown-it/blob/master/src/renderer.ts)
      * for more details and examples.
      *
      * @example Custom render rules
      * ```javascript
      * import MarkdownIt from 'markdown-it'
      * const md = new MarkdownIt()
      *
      * md.renderer.rules.strong_open  = function () { return '<b>'; };
      * md.renderer.rules.strong_close = function () { return '</b>'; };
      *
      * const result = md.renderInline(...);
      * ```
      *
      * @example Each rule is called as independent static function with fixed signature
      * ```javascript
      * function my_token_render(tokens, idx, options, env, renderer) {
      *   // ...
      *   return renderedHTML;
      * }
      * ```
      */
      "rules",
      Object.assign({}, Nt)
    );
  }
  /**
  * Render token attributes to string.
  */
  renderAttrs(e) {
    let t, n, r;
    if (!e.attrs) return "";
    for (r = "", t = 0, n = e.attrs.length; t < n; t++) r += ` ${dn(e.attrs[t][0])}="${dn(String(e.attrs[t][1]))}"`;
    return r;
  }
  /**
  * Default token renderer. Can be overriden by custom function
  * in {@link Renderer.rules}.
  */
  renderToken(e, t, n) {
    const r = e[t];
    let s = "";
    if (r.hidden) return "";
    let i = t - 1;
    for (; i >= 0 && e[i].hidden && e[i].nesting === 0; ) i--;
    r.block && r.nesting !== -1 && i >= 0 && e[i].hidden && e[i].nesting === -1 && (s += `
`), s += (r.nesting === -1 ? "</" : "<") + r.tag, s += this.renderAttrs(r), r.nesting === 0 && n.xhtmlOut && (s += " /");
    let o = !1;
    if (r.block && (o = !0, r.nesting === 1)) {
      let l = t + 1;
      for (; l < e.length && e[l].hidden && e[l].nesting === 0; ) l++;
      if (l < e.length) {
        const c = e[l];
        (c.type === "inline" || c.hidden || c.nesting === -1 && c.tag === r.tag) && (o = !1);
      }
    }
    return s += o ? `>
` : ">", s;
  }
  /**
  * The same as {@link Renderer.render}, but for single token of `inline` type.
  */
  renderInline(e, t, n) {
    let r = "";
    const s = this.rules;
    for (let i = 0, o = e.length; i < o; i++) {
      const l = e[i].type;
      typeof s[l] < "u" ? r += s[l](e, i, t, n, this) : r += this.renderToken(e, i, t);
    }
    return r;
  }
  /**
  * Special kludge for image `alt` attributes to conform CommonMark spec.
  * Don't try to use it! Spec requires to show `alt` content with stripped markup,
  * instead of simple escaping.
  */
  renderInlineAsText(e, t, n) {
    let r = "";
    for (let s = 0, i = e.length; s < i; s++) switch (e[s].type) {
      case "text":
      case "code_inline":
        r += e[s].content;
        break;
      case "image":
        r += this.renderInlineAsText(e[s].children, t, n);
        break;
      case "html_inline":
      case "html_block":
        r += e[s].content;
        break;
      case "softbreak":
      case "hardbreak":
        r += `
`;
    }
    return r;
  }
  /**
  * Takes token stream and generates HTML. Probably, you will never need to call
  * this method directly.
  */
  render(e, t, n) {
    let r = "";
    const s = this.rules;
    for (let i = 0, o = e.length; i < o; i++) {
      const l = e[i].type;
      l === "inline" ? r += this.renderInline(e[i].children, t, n) : typeof s[l] < "u" ? r += s[l](e, i, t, n, this) : r += this.renderToken(e, i, t);
    }
    return r;
  }
}, Hu = class {
  constructor(e, t, n) {
    K(this, "tokens", []), K(this, "inlineMode", !1), K(this, "Token", Ln), this.src = e, this.env = n, this.md = t;
  }
}, y_ = /\r\n?/g, b_ = /\0/g;
function k_(e) {
  let t;
  t = e.src.replace(y_, `
`), t = t.replace(b_, "�"), e.src = t;
}
function w_(e) {
  let t;
  e.inlineMode ? (t = new e.Token("inline", "", 0), t.content = e.src, t.map = [0, 1], t.children = [], e.tokens.push(t)) : e.md.block.parse(e.src, e.md, e.env, e.tokens);
}
function x_(e) {
  const t = e.tokens;
  let n = 0;
  for (let r = 0; r < t.length; r++)
    t[r].type !== "reference_definition" && (r !== n && (t[n] = t[r]), n++);
  t.length !== n && (t.length = n);
}
function v_(e) {
  const t = e.tokens;
  for (let n = 0, r = t.length; n < r; n++) {
    const s = t[n];
    s.type === "inline" && e.md.inline.parse(s.content, e.md, e.env, s.children);
  }
}
function A_(e) {
  return /^<a[>\s]/i.test(e);
}
function R_(e) {
  return /^<\/a\s*>/i.test(e);
}
function C_(e) {
  const t = e.tokens;
  if (e.md.options.linkify)
    for (let n = 0, r = t.length; n < r; n++) {
      if (t[n].type !== "inline" || !e.md.linkify.test(t[n].content)) continue;
      const s = t[n].children, i = [];
      let o = 0;
      for (let l = s.length - 1; l >= 0; l--) {
        const c = s[l];
        if (c.type === "link_close") {
          for (l--; s[l].level !== c.level && s[l].type !== "link_open"; ) l--;
          continue;
        }
        if (c.type === "html_inline" && (A_(c.content) && o > 0 && o--, R_(c.content) && o++), !(o > 0) && c.type === "text" && e.md.linkify.test(c.content)) {
          const a = c.content;
          let u = e.md.linkify.match(a);
          const d = [];
          let m = c.level, g = 0;
          u.length > 0 && u[0].index === 0 && l > 0 && s[l - 1].type === "text_special" && (u = u.slice(1));
          for (let h = 0; h < u.length; h++) {
            const w = u[h].url, v = e.md.normalizeLink(w);
            if (!e.md.validateLink(v)) continue;
            let C = u[h].text;
            u[h].schema ? u[h].schema === "mailto:" && !/^mailto:/i.test(C) ? C = e.md.normalizeLinkText(`mailto:${C}`).replace(/^mailto:/, "") : C = e.md.normalizeLinkText(C) : C = e.md.normalizeLinkText(`http://${C}`).replace(/^http:\/\//, "");
            const x = u[h].index;
            if (x > g) {
              const z = new e.Token("text", "", 0);
              z.content = a.slice(g, x), z.level = m, d.push(z);
            }
            const k = new e.Token("link_open", "a", 1);
            k.attrs = [["href", v]], k.level = m++, k.markup = "linkify", k.info = "auto", d.push(k);
            const b = new e.Token("text", "", 0);
            b.content = C, b.level = m, d.push(b);
            const O = new e.Token("link_close", "a", -1);
            O.level = --m, O.markup = "linkify", O.info = "auto", d.push(O), g = u[h].lastIndex;
          }
          if (g < a.length) {
            const h = new e.Token("text", "", 0);
            h.content = a.slice(g), h.level = m, d.push(h);
          }
          i.push({
            index: l,
            nodes: d
          });
        }
      }
      if (i.length > 0) {
        let l = s.length;
        for (const d of i) l += d.nodes.length - 1;
        const c = new Array(l);
        let a = 0, u = 0;
        i.reverse();
        for (let d = 0; d < s.length; d++) {
          const m = i[a];
          if (m?.index === d) {
            for (const g of m.nodes) c[u++] = g;
            a++;
          } else c[u++] = s[d];
        }
        t[n].children = c;
      }
    }
}
var Vu = /\+-|\.\.|\?\?\?\?|!!!!|,,|--/, E_ = /\((c|tm|r)\)/i, S_ = /\((c|tm|r)\)/gi, D_ = {
  c: "©",
  r: "®",
  tm: "™"
};
function T_(e, t) {
  return D_[t.toLowerCase()];
}
function F_(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && (r.content = r.content.replace(S_, T_)), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function I_(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && Vu.test(r.content) && (r.content = r.content.replace(/\+-/g, "±").replace(/\.{2,}/g, "…").replace(/([?!])…/g, "$1..").replace(/([?!]){4,}/g, "$1$1$1").replace(/,{2,}/g, ",").replace(/(^|[^-])---(?=[^-]|$)/gm, "$1—").replace(/(^|\s)--(?=\s|$)/gm, "$1–").replace(/(^|[^-\s])--(?=[^-\s]|$)/gm, "$1–")), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function O_(e) {
  let t;
  if (e.md.options.typographer)
    for (t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type === "inline" && (E_.test(e.tokens[t].content) && F_(e.tokens[t].children), Vu.test(e.tokens[t].content) && I_(e.tokens[t].children));
}
var N_ = /['"]/, Jc = /['"]/g, qc = "’", M_ = 1e3;
function Hc(e, t, n) {
  for (; e.length > n; ) {
    const r = e.pop();
    r.isSingleQuote ? t.single = r.prevSameQuoteIdx : t.double = r.prevSameQuoteIdx;
  }
}
function as(e, t, n, r) {
  e[t] || (e[t] = []), e[t].push({
    pos: n,
    ch: r
  });
}
function L_(e, t) {
  let n = "", r = 0;
  t.sort((s, i) => s.pos - i.pos);
  for (let s = 0; s < t.length; s++) {
    const i = t[s];
    n += e.slice(r, i.pos) + i.ch, r = i.pos + 1;
  }
  return n + e.slice(r);
}
function P_(e, t) {
  let n;
  const r = [], s = {
    single: -1,
    double: -1
  }, i = {};
  for (let o = 0; o < e.length; o++) {
    const l = e[o], c = e[o].level;
    for (n = r.length - 1; n >= 0 && !(r[n].level <= c); n--) ;
    if (Hc(r, s, n + 1), l.type !== "text") continue;
    const a = l.content;
    let u = 0;
    const d = a.length;
    e: for (; u < d; ) {
      Jc.lastIndex = u;
      const m = Jc.exec(a);
      if (!m) break;
      let g = !0, h = !0;
      u = m.index + 1;
      const w = m[0] === "'";
      let v = 32;
      if (m.index - 1 >= 0) v = a.charCodeAt(m.index - 1);
      else for (n = o - 1; n >= 0 && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n--)
        if (e[n].content) {
          v = e[n].content.charCodeAt(e[n].content.length - 1);
          break;
        }
      let C = 32;
      if (u < d) C = a.charCodeAt(u);
      else for (n = o + 1; n < e.length && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n++)
        if (e[n].content) {
          C = e[n].content.charCodeAt(0);
          break;
        }
      const x = jr(v) || Pr(v), k = jr(C) || Pr(C), b = Lr(v), O = Lr(C);
      if (O ? g = !1 : k && (b || x || (g = !1)), b ? h = !1 : x && (O || k || (h = !1)), C === 34 && m[0] === '"' && v >= 48 && v <= 57 && (h = g = !1), g && h && (g = x, h = k), !g && !h) {
        w && as(i, o, m.index, qc);
        continue;
      }
      if (h && (n = w ? s.single : s.double, n >= 0 && r[n].level === c)) {
        const z = r[n];
        let j, ee;
        w ? (j = t.md.options.quotes[2], ee = t.md.options.quotes[3]) : (j = t.md.options.quotes[0], ee = t.md.options.quotes[1]), as(i, o, m.index, ee), as(i, z.tokenIdx, z.contentPos, j), Hc(r, s, n);
        continue e;
      }
      if (g) {
        if (r.length >= M_) return;
        r.push({
          tokenIdx: o,
          contentPos: m.index,
          isSingleQuote: w,
          level: c,
          prevSameQuoteIdx: w ? s.single : s.double
        }), w ? s.single = r.length - 1 : s.double = r.length - 1;
      } else h && w && as(i, o, m.index, qc);
    }
  }
  Object.keys(i).forEach(function(o) {
    const l = Number(o);
    e[l].content = L_(e[l].content, i[o]);
  });
}
function j_(e) {
  if (e.md.options.typographer)
    for (let t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type !== "inline" || !N_.test(e.tokens[t].content) || P_(e.tokens[t].children, e);
}
function $_(e) {
  let t, n;
  const r = e.length;
  for (t = 0; t < r; t++) e[t].type === "text_special" && (e[t].type = "text");
  for (t = n = 0; t < r; t++) e[t].type === "text" && t + 1 < r && e[t + 1].type === "text" ? e[t + 1].content = e[t].content + e[t + 1].content : (t !== n && (e[n] = e[t]), n++);
  t !== n && (e.length = n);
}
function B_(e) {
  let t, n;
  const r = e.tokens, s = r.length;
  for (let i = 0; i < s; i++) {
    if (r[i].type !== "inline") continue;
    const o = r[i].children, l = o.length;
    for (t = 0; t < l; t++)
      o[t].type === "text_special" && (o[t].type = "text"), o[t].children && $_(o[t].children);
    for (t = n = 0; t < l; t++) o[t].type === "text" && t + 1 < l && o[t + 1].type === "text" ? o[t + 1].content = o[t].content + o[t + 1].content : (t !== n && (o[n] = o[t]), n++);
    t !== n && (o.length = n);
  }
}
var Ji = [
  ["normalize", k_],
  ["block", w_],
  ["strip_references", x_],
  ["inline", v_],
  ["linkify", C_],
  ["replacements", O_],
  ["smartquotes", j_],
  ["text_join", B_]
], Gu = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of core rules.
      */
      "ruler",
      new Br()
    ), K(this, "State", Hu);
    for (let e = 0; e < Ji.length; e++) this.ruler.push(Ji[e][0], Ji[e][1]);
  }
  /**
  * Executes core chain rules.
  */
  process(e) {
    const t = this.ruler.getRules("");
    for (let n = 0, r = t.length; n < r; n++) t[n](e);
  }
}, Ku = class {
  constructor(e, t, n, r) {
    K(this, "bMarks", []), K(this, "eMarks", []), K(this, "tShift", []), K(this, "sCount", []), K(this, "bsCount", []), K(this, "blkIndent", 0), K(this, "line", 0), K(this, "lineMax", 0), K(this, "tight", !1), K(this, "listIndent", -1), K(this, "parentType", "root"), K(this, "level", 0), K(this, "Token", Ln), this.src = e, this.md = t, this.env = n, this.tokens = r;
    const s = this.src;
    for (let i = 0, o = 0, l = 0, c = 0, a = s.length, u = !1; o < a; o++) {
      const d = s.charCodeAt(o);
      if (!u)
        if (Te(d)) {
          l++, d === 9 ? c += 4 - c % 4 : c++;
          continue;
        } else u = !0;
      (d === 10 || o === a - 1) && (d !== 10 && o++, this.bMarks.push(i), this.eMarks.push(o), this.tShift.push(l), this.sCount.push(c), this.bsCount.push(0), u = !1, l = 0, c = 0, i = o + 1);
    }
    this.bMarks.push(s.length), this.eMarks.push(s.length), this.tShift.push(0), this.sCount.push(0), this.bsCount.push(0), this.lineMax = this.bMarks.length - 1;
  }
  push(e, t, n) {
    const r = new Ln(e, t, n);
    return r.block = !0, n < 0 && this.level--, r.level = this.level, n > 0 && this.level++, this.tokens.push(r), r;
  }
  isEmpty(e) {
    return this.bMarks[e] + this.tShift[e] >= this.eMarks[e];
  }
  skipEmptyLines(e) {
    for (let t = this.lineMax; e < t && !(this.bMarks[e] + this.tShift[e] < this.eMarks[e]); e++) ;
    return e;
  }
  skipSpaces(e) {
    for (let t = this.src.length; e < t && Te(this.src.charCodeAt(e)); e++) ;
    return e;
  }
  skipSpacesBack(e, t) {
    if (e <= t) return e;
    for (; e > t; ) if (!Te(this.src.charCodeAt(--e))) return e + 1;
    return e;
  }
  skipChars(e, t) {
    for (let n = this.src.length; e < n && this.src.charCodeAt(e) === t; e++) ;
    return e;
  }
  skipCharsBack(e, t, n) {
    if (e <= n) return e;
    for (; e > n; ) if (t !== this.src.charCodeAt(--e)) return e + 1;
    return e;
  }
  getLines(e, t, n, r) {
    if (e >= t) return "";
    const s = new Array(t - e);
    for (let i = 0, o = e; o < t; o++, i++) {
      let l = 0;
      const c = this.bMarks[o];
      let a = c, u;
      for (o + 1 < t || r ? u = this.eMarks[o] + 1 : u = this.eMarks[o]; a < u && l < n; ) {
        const d = this.src.charCodeAt(a);
        if (Te(d))
          d === 9 ? l += 4 - (l + this.bsCount[o]) % 4 : l++;
        else if (a - c < this.tShift[o]) l++;
        else break;
        a++;
      }
      l > n ? s[i] = new Array(l - n + 1).join(" ") + this.src.slice(a, u) : s[i] = this.src.slice(a, u);
    }
    return s.join("");
  }
}, z_ = 65536;
function qi(e, t) {
  const n = e.bMarks[t] + e.tShift[t], r = e.eMarks[t];
  return e.src.slice(n, r);
}
function Vc(e) {
  const t = [], n = e.length;
  let r = 0, s = e.charCodeAt(r), i = !1, o = 0, l = "";
  for (; r < n; )
    s === 124 && (i ? (l += e.substring(o, r - 1), o = r) : (t.push(l + e.substring(o, r)), l = "", o = r + 1)), i = s === 92, r++, s = e.charCodeAt(r);
  return t.push(l + e.substring(o)), t;
}
function U_(e, t, n, r) {
  if (t + 2 > n) return !1;
  let s = t + 1;
  if (e.sCount[s] < e.blkIndent || e.sCount[s] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[s] + e.tShift[s];
  if (i >= e.eMarks[s]) return !1;
  const o = e.src.charCodeAt(i++);
  if (o !== 124 && o !== 45 && o !== 58 || i >= e.eMarks[s]) return !1;
  const l = e.src.charCodeAt(i++);
  if (l !== 124 && l !== 45 && l !== 58 && !Te(l) || o === 45 && Te(l)) return !1;
  for (; i < e.eMarks[s]; ) {
    const b = e.src.charCodeAt(i);
    if (b !== 124 && b !== 45 && b !== 58 && !Te(b)) return !1;
    i++;
  }
  let c = qi(e, t + 1), a = c.split("|");
  const u = [];
  for (let b = 0; b < a.length; b++) {
    const O = a[b].trim();
    if (!O) {
      if (b === 0 || b === a.length - 1) continue;
      return !1;
    }
    if (!/^:?-+:?$/.test(O)) return !1;
    O.charCodeAt(O.length - 1) === 58 ? u.push(O.charCodeAt(0) === 58 ? "center" : "right") : O.charCodeAt(0) === 58 ? u.push("left") : u.push("");
  }
  if (c = qi(e, t).trim(), c.indexOf("|") === -1 || e.sCount[t] - e.blkIndent >= 4) return !1;
  a = Vc(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop();
  const d = a.length;
  if (d === 0 || d !== u.length) return !1;
  if (r) return !0;
  const m = e.parentType;
  e.parentType = "table";
  const g = e.md.block.ruler.getRules("blockquote"), h = e.push("table_open", "table", 1), w = [t, 0];
  h.map = w;
  const v = e.push("thead_open", "thead", 1);
  v.map = [t, t + 1];
  const C = e.push("tr_open", "tr", 1);
  C.map = [t, t + 1];
  for (let b = 0; b < a.length; b++) {
    const O = e.push("th_open", "th", 1);
    u[b] && (O.attrs = [["style", `text-align:${u[b]}`]]);
    const z = e.push("inline", "", 0);
    z.content = a[b].trim(), z.children = [], e.push("th_close", "th", -1);
  }
  e.push("tr_close", "tr", -1), e.push("thead_close", "thead", -1);
  let x, k = 0;
  for (s = t + 2; s < n && !(e.sCount[s] < e.blkIndent); s++) {
    let b = !1;
    for (let z = 0, j = g.length; z < j; z++) if (g[z](e, s, n, !0)) {
      b = !0;
      break;
    }
    if (b || (c = qi(e, s).trim(), !c) || e.sCount[s] - e.blkIndent >= 4 || (a = Vc(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop(), k += d - a.length, k > z_)) break;
    if (s === t + 2) {
      const z = e.push("tbody_open", "tbody", 1);
      z.map = x = [t + 2, 0];
    }
    const O = e.push("tr_open", "tr", 1);
    O.map = [s, s + 1];
    for (let z = 0; z < d; z++) {
      const j = e.push("td_open", "td", 1);
      u[z] && (j.attrs = [["style", `text-align:${u[z]}`]]);
      const ee = e.push("inline", "", 0);
      ee.content = a[z] ? a[z].trim() : "", ee.children = [], e.push("td_close", "td", -1);
    }
    e.push("tr_close", "tr", -1);
  }
  return x && (e.push("tbody_close", "tbody", -1), x[1] = s), e.push("table_close", "table", -1), w[1] = s, e.parentType = m, e.line = s, !0;
}
function W_(e, t, n) {
  if (e.sCount[t] - e.blkIndent < 4) return !1;
  let r = t + 1, s = r;
  for (; r < n; ) {
    if (e.isEmpty(r)) {
      r++;
      continue;
    }
    if (e.sCount[r] - e.blkIndent >= 4) {
      r++, s = r;
      continue;
    }
    break;
  }
  e.line = s;
  const i = e.push("code_block", "code", 0);
  return i.content = e.getLines(t, s, 4 + e.blkIndent, !1) + `
`, i.map = [t, e.line], !0;
}
function J_(e, t, n, r) {
  let s = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || s + 3 > i) return !1;
  const o = e.src.charCodeAt(s);
  if (o !== 126 && o !== 96) return !1;
  let l = s;
  s = e.skipChars(s, o);
  let c = s - l;
  if (c < 3) return !1;
  const a = e.src.slice(l, s), u = e.src.slice(s, i);
  if (o === 96 && u.indexOf(String.fromCharCode(o)) >= 0)
    return !1;
  if (r) return !0;
  let d = t, m = !1;
  for (; d++, !(d >= n || (s = l = e.bMarks[d] + e.tShift[d], i = e.eMarks[d], s < i && e.sCount[d] < e.blkIndent)); )
    if (e.src.charCodeAt(s) === o && !(e.sCount[d] - e.blkIndent >= 4) && (s = e.skipChars(s, o), !(s - l < c) && (s = e.skipSpaces(s), !(s < i)))) {
      m = !0;
      break;
    }
  c = e.sCount[t], e.line = d + (m ? 1 : 0);
  const g = e.push("fence", "code", 0);
  return g.info = u, g.content = e.getLines(t + 1, d, c, !0), g.markup = a, g.map = [t, e.line], !0;
}
function q_(e, t, n, r) {
  let s = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  const o = e.lineMax;
  if (e.sCount[t] - e.blkIndent >= 4 || e.src.charCodeAt(s) !== 62) return !1;
  if (r) return !0;
  const l = [], c = [], a = [], u = [], d = e.md.block.ruler.getRules("blockquote"), m = e.parentType;
  e.parentType = "blockquote";
  let g = !1, h;
  for (h = t; h < n; h++) {
    const k = e.sCount[h] < e.blkIndent;
    if (s = e.bMarks[h] + e.tShift[h], i = e.eMarks[h], s >= i) break;
    if (e.src.charCodeAt(s++) === 62 && !k) {
      let O = e.sCount[h] + 1, z, j;
      e.src.charCodeAt(s) === 32 ? (s++, O++, j = !1, z = !0) : e.src.charCodeAt(s) === 9 ? (z = !0, (e.bsCount[h] + O) % 4 === 3 ? (s++, O++, j = !1) : j = !0) : z = !1;
      let ee = O;
      for (l.push(e.bMarks[h]), e.bMarks[h] = s; s < i; ) {
        const Y = e.src.charCodeAt(s);
        if (Te(Y))
          Y === 9 ? ee += 4 - (ee + e.bsCount[h] + (j ? 1 : 0)) % 4 : ee++;
        else break;
        s++;
      }
      g = s >= i, c.push(e.bsCount[h]), e.bsCount[h] = e.sCount[h] + 1 + (z ? 1 : 0), a.push(e.sCount[h]), e.sCount[h] = ee - O, u.push(e.tShift[h]), e.tShift[h] = s - e.bMarks[h];
      continue;
    }
    if (g) break;
    let b = !1;
    for (let O = 0, z = d.length; O < z; O++) if (d[O](e, h, n, !0)) {
      b = !0;
      break;
    }
    if (b) {
      e.lineMax = h, e.blkIndent !== 0 && (l.push(e.bMarks[h]), c.push(e.bsCount[h]), u.push(e.tShift[h]), a.push(e.sCount[h]), e.sCount[h] -= e.blkIndent);
      break;
    }
    l.push(e.bMarks[h]), c.push(e.bsCount[h]), u.push(e.tShift[h]), a.push(e.sCount[h]), e.sCount[h] = -1;
  }
  const w = e.blkIndent;
  e.blkIndent = 0;
  const v = e.push("blockquote_open", "blockquote", 1);
  v.markup = ">";
  const C = [t, 0];
  v.map = C, e.md.block.tokenize(e, t, h);
  const x = e.push("blockquote_close", "blockquote", -1);
  x.markup = ">", e.lineMax = o, e.parentType = m, C[1] = e.line;
  for (let k = 0; k < u.length; k++)
    e.bMarks[k + t] = l[k], e.tShift[k + t] = u[k], e.sCount[k + t] = a[k], e.bsCount[k + t] = c[k];
  return e.blkIndent = w, !0;
}
function H_(e, t, n, r) {
  const s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[t] + e.tShift[t];
  const o = e.src.charCodeAt(i++);
  if (o !== 42 && o !== 45 && o !== 95) return !1;
  let l = 1;
  for (; i < s; ) {
    const a = e.src.charCodeAt(i++);
    if (a !== o && !Te(a)) return !1;
    a === o && l++;
  }
  if (l < 3) return !1;
  if (r) return !0;
  e.line = t + 1;
  const c = e.push("hr", "hr", 0);
  return c.map = [t, e.line], c.markup = Array(l + 1).join(String.fromCharCode(o)), !0;
}
function Gc(e, t) {
  const n = e.eMarks[t];
  let r = e.bMarks[t] + e.tShift[t];
  const s = e.src.charCodeAt(r++);
  return s !== 42 && s !== 45 && s !== 43 || r < n && !Te(e.src.charCodeAt(r)) ? -1 : r;
}
function Kc(e, t) {
  const n = e.bMarks[t] + e.tShift[t], r = e.eMarks[t];
  let s = n;
  if (s + 1 >= r) return -1;
  let i = e.src.charCodeAt(s++);
  if (i < 48 || i > 57) return -1;
  for (; ; ) {
    if (s >= r) return -1;
    if (i = e.src.charCodeAt(s++), i >= 48 && i <= 57) {
      if (s - n >= 10) return -1;
      continue;
    }
    if (i === 41 || i === 46) break;
    return -1;
  }
  return s < r && (i = e.src.charCodeAt(s), !Te(i)) ? -1 : s;
}
function V_(e, t) {
  const n = e.level + 2;
  for (let r = t + 2, s = e.tokens.length - 2; r < s; r++) e.tokens[r].level === n && e.tokens[r].type === "paragraph_open" && (e.tokens[r + 2].hidden = !0, e.tokens[r].hidden = !0, r += 2);
}
function G_(e, t, n, r) {
  let s, i, o, l, c = t, a = !0;
  if (e.sCount[c] - e.blkIndent >= 4 || e.listIndent >= 0 && e.sCount[c] - e.listIndent >= 4 && e.sCount[c] < e.blkIndent) return !1;
  let u = !1;
  r && e.parentType === "paragraph" && e.sCount[c] >= e.blkIndent && (u = !0);
  let d, m, g;
  if ((g = Kc(e, c)) >= 0) {
    if (d = !0, o = e.bMarks[c] + e.tShift[c], m = Number(e.src.slice(o, g - 1)), u && m !== 1) return !1;
  } else if ((g = Gc(e, c)) >= 0) d = !1;
  else return !1;
  if (u && e.skipSpaces(g) >= e.eMarks[c])
    return !1;
  if (r) return !0;
  const h = e.src.charCodeAt(g - 1), w = e.tokens.length;
  d ? (l = e.push("ordered_list_open", "ol", 1), m !== 1 && (l.attrs = [["start", m]])) : l = e.push("bullet_list_open", "ul", 1);
  const v = [c, 0];
  l.map = v, l.markup = String.fromCharCode(h);
  let C = !1;
  const x = e.md.block.ruler.getRules("list"), k = e.parentType;
  for (e.parentType = "list"; c < n; ) {
    i = g, s = e.eMarks[c];
    const b = e.sCount[c] + g - (e.bMarks[c] + e.tShift[c]);
    let O = b;
    for (; i < s; ) {
      const Re = e.src.charCodeAt(i);
      if (Re === 9) O += 4 - (O + e.bsCount[c]) % 4;
      else if (Re === 32) O++;
      else break;
      i++;
    }
    const z = i;
    let j;
    z >= s ? j = 1 : j = O - b, j > 4 && (j = 1);
    const ee = b + j;
    l = e.push("list_item_open", "li", 1), l.markup = String.fromCharCode(h);
    const Y = [c, 0];
    l.map = Y, d && (l.info = e.src.slice(o, g - 1));
    const ue = e.tight, ne = e.tShift[c], pe = e.sCount[c], Fe = e.listIndent;
    if (e.listIndent = e.blkIndent, e.blkIndent = ee, e.tight = !0, e.tShift[c] = z - e.bMarks[c], e.sCount[c] = O, z >= s && e.isEmpty(c + 1) ? e.line = Math.min(e.line + 2, n) : e.md.block.tokenize(e, c, n), (!e.tight || C) && (a = !1), C = e.line - c > 1 && e.isEmpty(e.line - 1), e.blkIndent = e.listIndent, e.listIndent = Fe, e.tShift[c] = ne, e.sCount[c] = pe, e.tight = ue, l = e.push("list_item_close", "li", -1), l.markup = String.fromCharCode(h), c = e.line, Y[1] = c, c >= n || e.sCount[c] < e.blkIndent || e.sCount[c] - e.blkIndent >= 4) break;
    let ve = !1;
    for (let Re = 0, ut = x.length; Re < ut; Re++) if (x[Re](e, c, n, !0)) {
      ve = !0;
      break;
    }
    if (ve) break;
    if (d) {
      if (g = Kc(e, c), g < 0) break;
      o = e.bMarks[c] + e.tShift[c];
    } else if (g = Gc(e, c), g < 0) break;
    if (h !== e.src.charCodeAt(g - 1)) break;
  }
  return d ? l = e.push("ordered_list_close", "ol", -1) : l = e.push("bullet_list_close", "ul", -1), l.markup = String.fromCharCode(h), v[1] = c, e.line = c, e.parentType = k, a && V_(e, w), !0;
}
var Hi = 999;
function K_(e) {
  let t = e.length;
  for (let n = 0; n < e.length - 1; n++) {
    const r = e.charCodeAt(n);
    if (r < 55296 || r > 56319) continue;
    const s = e.charCodeAt(n + 1);
    s >= 56320 && s <= 57343 && (t--, n++);
  }
  return t;
}
function gr(e, t) {
  return Math.min(e.eMarks[t] + 1, e.src.length);
}
function us(e, t) {
  const n = e.lineMax;
  if (t >= n || e.isEmpty(t)) return -1;
  let r = !1;
  if (e.sCount[t] - e.blkIndent > 3 && (r = !0), e.sCount[t] < 0 && (r = !0), !r) {
    const s = e.md.block.ruler.getRules("reference"), i = e.parentType;
    e.parentType = "reference";
    let o = !1;
    for (let l = 0, c = s.length; l < c; l++) if (s[l](e, t, n, !0)) {
      o = !0;
      break;
    }
    if (e.parentType = i, o) return -1;
  }
  return e.bMarks[t] + e.tShift[t];
}
function Y_(e, t, n, r) {
  const s = e.src;
  let i = e.bMarks[t] + e.tShift[t], o = t + 1;
  if (e.sCount[t] - e.blkIndent >= 4 || s.charCodeAt(i) !== 91) return !1;
  let l = gr(e, t), c = "", a = -1, u = ++i;
  for (; i < l; ) {
    if (c.length + i - u > Hi * 2) return !1;
    let z = s.charCodeAt(i);
    if (z === 91) return !1;
    if (z === 93) {
      a = i;
      break;
    }
    if (z === 92 && (z = s.charCodeAt(++i)), z === 10 && i < l) {
      const j = us(e, o);
      if (j < 0) return !1;
      c += s.slice(u, l), i = u = j, l = gr(e, o++);
      continue;
    }
    i++;
  }
  if (a < 0 || s.charCodeAt(a + 1) !== 58 || (c += s.slice(u, a), c.length > Hi && K_(c) > Hi)) return !1;
  for (i = a + 2; i < l; ) {
    const z = s.charCodeAt(i);
    if (z === 10) {
      const j = us(e, o);
      if (j < 0) break;
      i = j, l = gr(e, o++);
    } else if (Te(z)) i++;
    else break;
  }
  const d = e.md.helpers.parseLinkDestination(s, i, l);
  if (!d.ok) return !1;
  const m = e.md.normalizeLink(d.str);
  if (!e.md.validateLink(m)) return !1;
  i = d.pos;
  const g = i, h = l, w = o;
  for (; i < l; ) {
    const z = s.charCodeAt(i);
    if (z === 10) {
      const j = us(e, o);
      if (j < 0) break;
      i = j, l = gr(e, o++);
    } else if (Te(z)) i++;
    else break;
  }
  const v = i;
  let C = e.md.helpers.parseLinkTitle(s, i, l);
  for (; C.can_continue; ) {
    const z = us(e, o);
    if (z < 0) break;
    i = z, l = gr(e, o++), C = e.md.helpers.parseLinkTitle(s, i, l, C);
  }
  let x;
  for (v !== g && C.ok ? (x = C.str, i = C.pos) : (x = "", i = g, l = h, o = w); i < l && Te(s.charCodeAt(i)); )
    i++;
  if (i < l && s.charCodeAt(i) !== 10 && x)
    for (x = "", i = g, l = h, o = w; i < l && Te(s.charCodeAt(i)); )
      i++;
  if (i < l && s.charCodeAt(i) !== 10) return !1;
  const k = Ws(c);
  if (!k) return !1;
  if (r) return !0;
  typeof e.env.references > "u" && (e.env.references = {}), typeof e.env.references[k] > "u" && (e.env.references[k] = {
    title: x,
    href: m
  });
  const b = e.push("reference_definition", "", 0);
  b.map = [t, o], b.hidden = !0;
  const O = /* @__PURE__ */ Object.create(null);
  return O.label = k, b.meta = O, e.line = o, !0;
}
var X_ = [
  "address",
  "article",
  "aside",
  "base",
  "basefont",
  "blockquote",
  "body",
  "caption",
  "center",
  "col",
  "colgroup",
  "dd",
  "details",
  "dialog",
  "dir",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "frame",
  "frameset",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "head",
  "header",
  "hr",
  "html",
  "iframe",
  "legend",
  "li",
  "link",
  "main",
  "menu",
  "menuitem",
  "nav",
  "noframes",
  "ol",
  "optgroup",
  "option",
  "p",
  "param",
  "search",
  "section",
  "summary",
  "table",
  "tbody",
  "td",
  "tfoot",
  "th",
  "thead",
  "title",
  "tr",
  "track",
  "ul"
], Z_ = `<[A-Za-z][A-Za-z0-9\\-]*(?:\\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\\s*=\\s*(?:[^"'=<>\`\\x00-\\x20]+|'[^']*'|"[^"]*"))?)*\\s*\\/?>`, Q_ = "<\\/[A-Za-z][A-Za-z0-9\\-]*\\s*>", Yu = new RegExp(`^(?:${Z_}|${Q_})`), vn = [
  [
    /^<(script|pre|style|textarea)(?=(\s|>|$))/i,
    /<\/(script|pre|style|textarea)>/i,
    !0
  ],
  [
    /^<!--/,
    /-->/,
    !0
  ],
  [
    /^<\?/,
    /\?>/,
    !0
  ],
  [
    /^<![A-Za-z]/,
    />/,
    !0
  ],
  [
    /^<!\[CDATA\[/,
    /\]\]>/,
    !0
  ],
  [
    new RegExp(`^</?(${X_.join("|")})(?=(\\s|/?>|$))`, "i"),
    /^$/,
    !0
  ],
  [
    new RegExp(`${Yu.source}\\s*$`),
    /^$/,
    !1
  ]
];
function e0(e, t, n, r) {
  let s = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || !e.md.options.html || e.src.charCodeAt(s) !== 60) return !1;
  let o = e.src.slice(s, i), l = 0;
  for (; l < vn.length && !vn[l][0].test(o); l++) ;
  if (l === vn.length) return !1;
  if (r) return vn[l][2];
  let c = t + 1;
  const a = vn[l][1].test("");
  if (!vn[l][1].test(o)) {
    for (; c < n && !(e.sCount[c] < e.blkIndent && (a || !e.isEmpty(c))); c++)
      if (s = e.bMarks[c] + e.tShift[c], i = e.eMarks[c], o = e.src.slice(s, i), vn[l][1].test(o)) {
        o.length !== 0 && c++;
        break;
      }
  }
  e.line = c;
  const u = e.push("html_block", "", 0);
  return u.map = [t, c], u.content = e.getLines(t, c, e.blkIndent, !0), !0;
}
function t0(e, t, n, r) {
  let s = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let o = e.src.charCodeAt(s);
  if (o !== 35 || s >= i) return !1;
  let l = 1;
  for (o = e.src.charCodeAt(++s); o === 35 && s < i && l <= 6; )
    l++, o = e.src.charCodeAt(++s);
  if (l > 6 || s < i && !Te(o)) return !1;
  if (r) return !0;
  i = e.skipSpacesBack(i, s);
  const c = e.skipCharsBack(i, 35, s);
  c > s && Te(e.src.charCodeAt(c - 1)) && (i = c), e.line = t + 1;
  const a = e.push("heading_open", `h${l}`, 1);
  a.markup = "########".slice(0, l), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = Js(e.src.slice(s, i)), u.map = [t, e.line], u.children = [];
  const d = e.push("heading_close", `h${l}`, -1);
  return d.markup = "########".slice(0, l), !0;
}
function n0(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph");
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  const s = e.parentType;
  e.parentType = "paragraph";
  let i = 0, o, l = t + 1;
  for (; l < n && !e.isEmpty(l); l++) {
    if (e.sCount[l] - e.blkIndent > 3) continue;
    if (e.sCount[l] >= e.blkIndent) {
      let g = e.bMarks[l] + e.tShift[l];
      const h = e.eMarks[l];
      if (g < h && (o = e.src.charCodeAt(g), (o === 45 || o === 61) && (g = e.skipChars(g, o), g = e.skipSpaces(g), g >= h))) {
        i = o === 61 ? 1 : 2;
        break;
      }
    }
    if (e.sCount[l] < 0) continue;
    let m = !1;
    for (let g = 0, h = r.length; g < h; g++) if (r[g](e, l, n, !0)) {
      m = !0;
      break;
    }
    if (m) break;
  }
  if (!i)
    return e.parentType = s, !1;
  const c = Js(e.getLines(t, l, e.blkIndent, !1));
  e.line = l + 1;
  const a = e.push("heading_open", `h${i}`, 1);
  a.markup = String.fromCharCode(o), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = c, u.map = [t, e.line - 1], u.children = [];
  const d = e.push("heading_close", `h${i}`, -1);
  return d.markup = String.fromCharCode(o), e.parentType = s, !0;
}
function r0(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph"), s = e.parentType;
  let i = t + 1;
  for (e.parentType = "paragraph"; i < n && !e.isEmpty(i); i++) {
    if (e.sCount[i] - e.blkIndent > 3 || e.sCount[i] < 0) continue;
    let a = !1;
    for (let u = 0, d = r.length; u < d; u++) if (r[u](e, i, n, !0)) {
      a = !0;
      break;
    }
    if (a) break;
  }
  const o = Js(e.getLines(t, i, e.blkIndent, !1));
  e.line = i;
  const l = e.push("paragraph_open", "p", 1);
  l.map = [t, e.line];
  const c = e.push("inline", "", 0);
  return c.content = o, c.map = [t, e.line], c.children = [], e.push("paragraph_close", "p", -1), e.parentType = s, !0;
}
var fs = [
  [
    "table",
    U_,
    ["paragraph", "reference"]
  ],
  ["code", W_],
  [
    "fence",
    J_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "blockquote",
    q_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "hr",
    H_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "list",
    G_,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["reference", Y_],
  [
    "html_block",
    e0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  [
    "heading",
    t0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["lheading", n0],
  ["paragraph", r0]
], Xu = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of block rules.
      */
      "ruler",
      new Br()
    ), K(this, "State", Ku);
    for (let e = 0; e < fs.length; e++) this.ruler.push(fs[e][0], fs[e][1], { alt: (fs[e][2] || []).slice() });
  }
  tokenize(e, t, n) {
    const r = this.ruler.getRules(""), s = r.length, i = e.md.options.maxNesting;
    let o = t, l = !1;
    for (; o < n && (e.line = o = e.skipEmptyLines(o), !(o >= n || e.sCount[o] < e.blkIndent)); ) {
      if (e.level >= i) {
        e.line = n;
        break;
      }
      const c = e.line;
      let a = !1;
      for (let u = 0; u < s; u++)
        if (a = r[u](e, o, n, !1), a) {
          if (c >= e.line) throw new Error("block rule didn't increment state.line");
          break;
        }
      if (!a) throw new Error("none of the block rules matched");
      e.tight = !l, e.isEmpty(e.line - 1) && (l = !0), o = e.line, o < n && e.isEmpty(o) && (l = !0, o++, e.line = o);
    }
  }
  /**
  * Process input string and push block tokens into `outTokens`
  */
  parse(e, t, n, r) {
    if (!e) return;
    const s = new this.State(e, t, n, r);
    this.tokenize(s, s.line, s.lineMax);
  }
}, Zu = class {
  constructor(e, t, n, r) {
    K(this, "pos", 0), K(this, "level", 0), K(this, "pending", ""), K(this, "pendingLevel", 0), K(this, "cache", {}), K(this, "backticks", {}), K(this, "backticksScanned", !1), K(this, "skipHtmlSpecial", !1), K(this, "linkLevel", 0), K(this, "delimiters", []), K(this, "_prev_delimiters", []), K(this, "Token", Ln), this.src = e, this.env = n, this.md = t, this.tokens = r, this.tokens_meta = Array(r.length), this.posMax = this.src.length;
  }
  pushPending() {
    const e = new Ln("text", "", 0);
    return e.content = this.pending, e.level = this.pendingLevel, this.tokens.push(e), this.pending = "", e;
  }
  push(e, t, n) {
    this.pending && this.pushPending();
    const r = new Ln(e, t, n);
    let s;
    return n < 0 && (this.level--, this.delimiters = this._prev_delimiters.pop()), r.level = this.level, n > 0 && (this.level++, this._prev_delimiters.push(this.delimiters), this.delimiters = [], s = { delimiters: this.delimiters }), this.pendingLevel = this.level, this.tokens.push(r), this.tokens_meta.push(s), r;
  }
  scanDelims(e, t) {
    const n = this.posMax, r = this.src.charCodeAt(e);
    let s;
    if (e === 0) s = 32;
    else if (e === 1)
      s = this.src.charCodeAt(0), (s & 63488) === 55296 && (s = 65533);
    else if (s = this.src.charCodeAt(e - 1), (s & 64512) === 56320) {
      const h = this.src.charCodeAt(e - 2);
      s = (h & 64512) === 55296 ? 65536 + (h - 55296 << 10) + (s - 56320) : 65533;
    } else (s & 64512) === 55296 && (s = 65533);
    let i = e;
    for (; i < n && this.src.charCodeAt(i) === r; ) i++;
    const o = i - e;
    let l = i < n ? this.src.charCodeAt(i) : 32;
    if ((l & 64512) === 55296) {
      const h = this.src.charCodeAt(i + 1);
      l = (h & 64512) === 56320 ? 65536 + (l - 55296 << 10) + (h - 56320) : 65533;
    } else (l & 64512) === 56320 && (l = 65533);
    const c = jr(s) || Pr(s), a = jr(l) || Pr(l), u = Lr(s), d = Lr(l), m = !d && (!a || u || c), g = !u && (!c || d || a);
    return {
      can_open: m && (t || !g || c),
      can_close: g && (t || !m || a),
      length: o
    };
  }
};
function s0(e) {
  switch (e) {
    case 10:
    case 33:
    case 35:
    case 36:
    case 37:
    case 38:
    case 42:
    case 43:
    case 45:
    case 58:
    case 60:
    case 61:
    case 62:
    case 64:
    case 91:
    case 92:
    case 93:
    case 94:
    case 95:
    case 96:
    case 123:
    case 125:
    case 126:
      return !0;
    default:
      return !1;
  }
}
function i0(e, t) {
  let n = e.pos;
  for (; n < e.posMax && !s0(e.src.charCodeAt(n)); ) n++;
  return n === e.pos ? !1 : (t || (e.pending += e.src.slice(e.pos, n)), e.pos = n, !0);
}
function o0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122;
}
function l0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122 || e >= 48 && e <= 57 || e === 43 || e === 45 || e === 46;
}
function c0(e, t) {
  if (!e.md.options.linkify || e.linkLevel > 0) return !1;
  const n = e.pos, r = e.posMax;
  if (n + 3 > r || e.src.charCodeAt(n) !== 58 || e.src.charCodeAt(n + 1) !== 47 || e.src.charCodeAt(n + 2) !== 47) return !1;
  const s = n - Math.min(10, e.pending.length, n);
  let i = n;
  for (; i > s && l0(e.src.charCodeAt(i - 1)); ) i--;
  if (i === n || !o0(e.src.charCodeAt(i))) return !1;
  const o = n - i, l = e.md.linkify.matchAtStart(e.src.slice(i));
  if (!l) return !1;
  let c = l.url;
  if (c.length <= o) return !1;
  let a = c.length;
  for (; a > 0 && c.charCodeAt(a - 1) === 42; ) a--;
  a !== c.length && (c = c.slice(0, a));
  const u = e.md.normalizeLink(c);
  if (!e.md.validateLink(u)) return !1;
  if (!t) {
    e.pending = e.pending.slice(0, -o);
    const d = e.push("link_open", "a", 1);
    d.attrs = [["href", u]], d.markup = "linkify", d.info = "auto";
    const m = e.push("text", "", 0);
    m.content = e.md.normalizeLinkText(c);
    const g = e.push("link_close", "a", -1);
    g.markup = "linkify", g.info = "auto";
  }
  return e.pos += c.length - o, !0;
}
function a0(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 10) return !1;
  const r = e.pending.length - 1, s = e.posMax;
  if (!t)
    if (r >= 0 && e.pending.charCodeAt(r) === 32)
      if (r >= 1 && e.pending.charCodeAt(r - 1) === 32) {
        let i = r - 1;
        for (; i >= 1 && e.pending.charCodeAt(i - 1) === 32; ) i--;
        e.pending = e.pending.slice(0, i), e.push("hardbreak", "br", 0);
      } else
        e.pending = e.pending.slice(0, -1), e.push("softbreak", "br", 0);
    else e.push("softbreak", "br", 0);
  for (n++; n < s && Te(e.src.charCodeAt(n)); ) n++;
  return e.pos = n, !0;
}
var $o = [];
for (let e = 0; e < 256; e++) $o.push(0);
"\\!\"#$%&'()*+,./:;<=>?@[]^_`{|}~-".split("").forEach(function(e) {
  $o[e.charCodeAt(0)] = 1;
});
function u0(e, t) {
  let n = e.pos;
  const r = e.posMax;
  if (e.src.charCodeAt(n) !== 92 || (n++, n >= r)) return !1;
  let s = e.src.charCodeAt(n);
  if (s === 10) {
    for (t || e.push("hardbreak", "br", 0), n++; n < r && (s = e.src.charCodeAt(n), !!Te(s)); )
      n++;
    return e.pos = n, !0;
  }
  if (s === 32) {
    if (!t) {
      const l = e.push("text_special", "", 0);
      l.content = "\\", l.markup = "\\", l.info = "escape";
    }
    return e.pos = n, !0;
  }
  let i = e.src[n];
  if (s >= 55296 && s <= 56319 && n + 1 < r) {
    const l = e.src.charCodeAt(n + 1);
    l >= 56320 && l <= 57343 && (i += e.src[n + 1], n++);
  }
  const o = "\\" + i;
  if (!t) {
    const l = e.push("text_special", "", 0);
    s < 256 && $o[s] !== 0 ? l.content = i : l.content = o, l.markup = o, l.info = "escape";
  }
  return e.pos = n + 1, !0;
}
function f0(e) {
  const t = {};
  let n = 0;
  for (; (n = e.indexOf("`", n)) !== -1; ) {
    const r = n;
    for (; e.charCodeAt(++n) === 96; ) ;
    t[n - r] = r;
  }
  return t;
}
function d0(e, t) {
  var n;
  const r = e.pos;
  if (e.src.charCodeAt(r) !== 96) return !1;
  const s = e.posMax;
  let i = r + 1;
  for (; i < s && e.src.charCodeAt(i) === 96; ) i++;
  const o = e.src.slice(r, i), l = o.length;
  if (e.backticksScanned || (e.backticks = f0(e.src), e.backticksScanned = !0), ((n = e.backticks[l]) !== null && n !== void 0 ? n : -1) >= i) {
    let c = i, a;
    for (; (a = e.src.indexOf("`", c)) !== -1 && a < s; ) {
      for (c = a + 1; e.src.charCodeAt(c) === 96; ) c++;
      if (c > s) break;
      if (c - a === l) {
        if (!t) {
          const u = e.push("code_inline", "code", 0);
          u.markup = o;
          let d = e.src.slice(i, a).replace(/\n/g, " ");
          d.startsWith(" ") && d.endsWith(" ") && /[^ ]/.test(d) && (d = d.slice(1, -1)), u.content = d;
        }
        return e.pos = c, !0;
      }
    }
  }
  return t || (e.pending += o), e.pos = i, !0;
}
function h0(e, t) {
  const n = e.pos, r = e.src.charCodeAt(n);
  if (t || r !== 126) return !1;
  const s = e.scanDelims(e.pos, !0);
  let i = s.length;
  const o = String.fromCharCode(r);
  if (i < 2) return !1;
  let l;
  i % 2 && (l = e.push("text", "", 0), l.content = o, i--);
  for (let c = 0; c < i; c += 2)
    l = e.push("text", "", 0), l.content = o + o, e.delimiters.push({
      marker: r,
      length: 0,
      token: e.tokens.length - 1,
      end: -1,
      open: s.can_open,
      close: s.can_close
    });
  return e.pos += s.length, !0;
}
function Yc(e, t) {
  let n;
  const r = [], s = t.length;
  for (let i = 0; i < s; i++) {
    const o = t[i];
    if (o.marker !== 126 || o.end === -1) continue;
    const l = t[o.end];
    n = e.tokens[o.token], n.type = "s_open", n.tag = "s", n.nesting = 1, n.markup = "~~", n.content = "", n = e.tokens[l.token], n.type = "s_close", n.tag = "s", n.nesting = -1, n.markup = "~~", n.content = "", e.tokens[l.token - 1].type === "text" && e.tokens[l.token - 1].content === "~" && r.push(l.token - 1);
  }
  for (; r.length; ) {
    const i = r.pop();
    let o = i + 1;
    for (; o < e.tokens.length && e.tokens[o].type === "s_close"; ) o++;
    o--, i !== o && (n = e.tokens[o], e.tokens[o] = e.tokens[i], e.tokens[i] = n);
  }
}
function p0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  Yc(e, e.delimiters);
  for (let s = 0; s < n; s++) {
    var r;
    const i = (r = t[s]) === null || r === void 0 ? void 0 : r.delimiters;
    i && Yc(e, i);
  }
}
var Qu = {
  tokenize: h0,
  postProcess: p0
};
function g0(e, t) {
  const n = e.pos, r = e.src.charCodeAt(n);
  if (t || r !== 95 && r !== 42) return !1;
  const s = e.scanDelims(e.pos, r === 42);
  for (let i = 0; i < s.length; i++) {
    const o = e.push("text", "", 0);
    o.content = String.fromCharCode(r), e.delimiters.push({
      marker: r,
      length: s.length,
      token: e.tokens.length - 1,
      end: -1,
      open: s.can_open,
      close: s.can_close
    });
  }
  return e.pos += s.length, !0;
}
function Xc(e, t) {
  const n = t.length;
  for (let r = n - 1; r >= 0; r--) {
    const s = t[r];
    if (s.marker !== 95 && s.marker !== 42 || s.end === -1) continue;
    const i = t[s.end], o = r > 0 && t[r - 1].end === s.end + 1 && t[r - 1].marker === s.marker && t[r - 1].token === s.token - 1 && t[s.end + 1].token === i.token + 1, l = String.fromCharCode(s.marker), c = e.tokens[s.token];
    c.type = o ? "strong_open" : "em_open", c.tag = o ? "strong" : "em", c.nesting = 1, c.markup = o ? l + l : l, c.content = "";
    const a = e.tokens[i.token];
    a.type = o ? "strong_close" : "em_close", a.tag = o ? "strong" : "em", a.nesting = -1, a.markup = o ? l + l : l, a.content = "", o && (e.tokens[t[r - 1].token].content = "", e.tokens[t[s.end + 1].token].content = "", r--);
  }
}
function m0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  Xc(e, e.delimiters);
  for (let s = 0; s < n; s++) {
    var r;
    const i = (r = t[s]) === null || r === void 0 ? void 0 : r.delimiters;
    i && Xc(e, i);
  }
}
var ef = {
  tokenize: g0,
  postProcess: m0
};
function _0(e, t) {
  let n, r, s, i, o = "", l = "", c = e.pos, a = !0;
  if (e.src.charCodeAt(e.pos) !== 91) return !1;
  const u = e.pos, d = e.posMax, m = e.pos + 1, g = e.md.helpers.parseLinkLabel(e, e.pos, !0);
  if (g < 0) return !1;
  let h = g + 1;
  if (h < d && e.src.charCodeAt(h) === 40) {
    for (a = !1, h++; h < d && (n = e.src.charCodeAt(h), !(!Te(n) && n !== 10)); h++)
      ;
    if (h >= d) return !1;
    if (c = h, s = e.md.helpers.parseLinkDestination(e.src, h, e.posMax), s.ok) {
      for (o = e.md.normalizeLink(s.str), e.md.validateLink(o) ? h = s.pos : o = "", c = h; h < d && (n = e.src.charCodeAt(h), !(!Te(n) && n !== 10)); h++)
        ;
      if (s = e.md.helpers.parseLinkTitle(e.src, h, e.posMax), h < d && c !== h && s.ok)
        for (l = s.str, h = s.pos; h < d && (n = e.src.charCodeAt(h), !(!Te(n) && n !== 10)); h++)
          ;
    }
    (h >= d || e.src.charCodeAt(h) !== 41) && (a = !0), h++;
  }
  if (a) {
    if (typeof e.env.references > "u") return !1;
    if (h < d && e.src.charCodeAt(h) === 91 ? (c = h + 1, h = e.md.helpers.parseLinkLabel(e, h), h >= 0 ? r = e.src.slice(c, h++) : h = g + 1) : h = g + 1, r || (r = e.src.slice(m, g)), r = Ws(r), i = e.env.references[r], !i)
      return e.pos = u, !1;
    o = i.href, l = i.title;
  }
  if (!t) {
    e.pos = m, e.posMax = g;
    const w = e.push("link_open", "a", 1), v = [["href", o]];
    if (w.attrs = v, l && v.push(["title", l]), r) {
      const C = /* @__PURE__ */ Object.create(null);
      C.label = r, w.meta = C;
    }
    e.linkLevel++, e.md.inline.tokenize(e), e.linkLevel--, e.push("link_close", "a", -1);
  }
  return e.pos = h, e.posMax = d, !0;
}
function y0(e, t) {
  let n, r, s, i, o, l, c, a, u = "";
  const d = e.pos, m = e.posMax;
  if (e.src.charCodeAt(e.pos) !== 33 || e.src.charCodeAt(e.pos + 1) !== 91) return !1;
  const g = e.pos + 2, h = e.md.helpers.parseLinkLabel(e, e.pos + 1, !1);
  if (h < 0) return !1;
  if (i = h + 1, i < m && e.src.charCodeAt(i) === 40) {
    for (i++; i < m && (n = e.src.charCodeAt(i), !(!Te(n) && n !== 10)); i++)
      ;
    if (i >= m) return !1;
    for (a = i, l = e.md.helpers.parseLinkDestination(e.src, i, e.posMax), l.ok && (u = e.md.normalizeLink(l.str), e.md.validateLink(u) ? i = l.pos : u = ""), a = i; i < m && (n = e.src.charCodeAt(i), !(!Te(n) && n !== 10)); i++)
      ;
    if (l = e.md.helpers.parseLinkTitle(e.src, i, e.posMax), i < m && a !== i && l.ok)
      for (c = l.str, i = l.pos; i < m && (n = e.src.charCodeAt(i), !(!Te(n) && n !== 10)); i++)
        ;
    else c = "";
    if (i >= m || e.src.charCodeAt(i) !== 41)
      return e.pos = d, !1;
    i++;
  } else {
    if (typeof e.env.references > "u") return !1;
    if (i < m && e.src.charCodeAt(i) === 91 ? (a = i + 1, i = e.md.helpers.parseLinkLabel(e, i), i >= 0 ? s = e.src.slice(a, i++) : i = h + 1) : i = h + 1, s || (s = e.src.slice(g, h)), s = Ws(s), o = e.env.references[s], !o)
      return e.pos = d, !1;
    u = o.href, c = o.title;
  }
  if (!t) {
    r = e.src.slice(g, h);
    const w = [];
    e.md.inline.parse(r, e.md, e.env, w);
    const v = e.push("image", "img", 0), C = [["src", u], ["alt", ""]];
    if (v.attrs = C, v.children = w, v.content = r, c && C.push(["title", c]), s) {
      const x = /* @__PURE__ */ Object.create(null);
      x.label = s, v.meta = x;
    }
  }
  return e.pos = i, e.posMax = m, !0;
}
var b0 = /^([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, k0 = /^([a-zA-Z][a-zA-Z0-9+.-]{1,31}):([^<>\x00-\x20]*)$/;
function w0(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 60) return !1;
  const r = e.pos, s = e.posMax;
  for (; ; ) {
    if (++n >= s) return !1;
    const o = e.src.charCodeAt(n);
    if (o === 60) return !1;
    if (o === 62) break;
  }
  const i = e.src.slice(r + 1, n);
  if (k0.test(i)) {
    const o = e.md.normalizeLink(i);
    if (!e.md.validateLink(o)) return !1;
    if (!t) {
      const l = e.push("link_open", "a", 1);
      l.attrs = [["href", o]], l.markup = "autolink", l.info = "auto";
      const c = e.push("text", "", 0);
      c.content = e.md.normalizeLinkText(i);
      const a = e.push("link_close", "a", -1);
      a.markup = "autolink", a.info = "auto";
    }
    return e.pos += i.length + 2, !0;
  }
  if (b0.test(i)) {
    const o = e.md.normalizeLink(`mailto:${i}`);
    if (!e.md.validateLink(o)) return !1;
    if (!t) {
      const l = e.push("link_open", "a", 1);
      l.attrs = [["href", o]], l.markup = "autolink", l.info = "auto";
      const c = e.push("text", "", 0);
      c.content = e.md.normalizeLinkText(i);
      const a = e.push("link_close", "a", -1);
      a.markup = "autolink", a.info = "auto";
    }
    return e.pos += i.length + 2, !0;
  }
  return !1;
}
function x0(e) {
  return /^<a[>\s]/i.test(e);
}
function v0(e) {
  return /^<\/a\s*>/i.test(e);
}
function tf(e) {
  const t = e | 32;
  return t >= 97 && t <= 122;
}
function A0(e, t) {
  const n = e.src;
  let r, s;
  if (n.startsWith("<!--", t)) {
    if (n.startsWith(">", t + 4)) return t + 5;
    if (n.startsWith("->", t + 4)) return t + 6;
    r = t + 4, s = "-->";
  } else if (n.startsWith("<![CDATA[", t))
    r = t + 9, s = "]]>";
  else if (n.charCodeAt(t + 1) === 63)
    r = t + 2, s = "?>";
  else if (tf(n.charCodeAt(t + 2)))
    r = t + 3, s = ">";
  else return -1;
  if (e.skipHtmlSpecial) return -1;
  const i = n.indexOf(s, r);
  return i < 0 ? (e.skipHtmlSpecial = !0, -1) : i + s.length;
}
function R0(e, t) {
  if (!e.md.options.html) return !1;
  const n = e.posMax, r = e.pos;
  if (e.src.charCodeAt(r) !== 60 || r + 2 >= n) return !1;
  let s;
  const i = e.src.charCodeAt(r + 1);
  if (i === 33 || i === 63) s = A0(e, r);
  else if (i === 47 || tf(i)) {
    const o = e.src.slice(r).match(Yu);
    s = o ? r + o[0].length : -1;
  } else return !1;
  if (s < 0) return !1;
  if (!t) {
    const o = e.push("html_inline", "", 0);
    o.content = e.src.slice(r, s), x0(o.content) && e.linkLevel++, v0(o.content) && e.linkLevel--;
  }
  return e.pos = s, !0;
}
var C0 = /^&#((?:x[a-f0-9]{1,6}|[0-9]{1,7}));/i, E0 = /^&([a-z][a-z0-9]{1,31});/i;
function S0(e, t) {
  const n = e.pos, r = e.posMax;
  if (e.src.charCodeAt(n) !== 38 || n + 1 >= r) return !1;
  if (e.src.charCodeAt(n + 1) === 35) {
    const s = e.src.slice(n).match(C0);
    if (s) {
      if (!t) {
        const i = s[1][0].toLowerCase() === "x" ? parseInt(s[1].slice(1), 16) : parseInt(s[1], 10), o = e.push("text_special", "", 0);
        o.content = jo(i) ? Mr(i) : Mr(65533), o.markup = s[0], o.info = "entity";
      }
      return e.pos += s[0].length, !0;
    }
  } else {
    const s = e.src.slice(n).match(E0);
    if (s) {
      const i = Iu(s[0]);
      if (i !== s[0]) {
        if (!t) {
          const o = e.push("text_special", "", 0);
          o.content = i, o.markup = s[0], o.info = "entity";
        }
        return e.pos += s[0].length, !0;
      }
    }
  }
  return !1;
}
function Zc(e) {
  const t = {}, n = e.length;
  if (!n) return;
  let r = 0, s = -2;
  const i = [];
  for (let o = 0; o < n; o++) {
    const l = e[o];
    if (i.push(0), (e[r].marker !== l.marker || s !== l.token - 1) && (r = o), s = l.token, l.length = l.length || 0, !l.close) continue;
    t.hasOwnProperty(l.marker) || (t[l.marker] = [
      -1,
      -1,
      -1,
      -1,
      -1,
      -1
    ]);
    const c = t[l.marker][(l.open ? 3 : 0) + l.length % 3];
    let a = r - i[r] - 1, u = a;
    for (; a > c; a -= i[a] + 1) {
      const d = e[a];
      if (d.marker === l.marker && d.open && d.end < 0) {
        let m = !1;
        if ((d.close || l.open) && (d.length + l.length) % 3 === 0 && (d.length % 3 !== 0 || l.length % 3 !== 0) && (m = !0), !m) {
          const g = a > 0 && !e[a - 1].open ? i[a - 1] + 1 : 0;
          i[o] = o - a + g, i[a] = g, l.open = !1, d.end = o, d.close = !1, u = -1, s = -2;
          break;
        }
      }
    }
    u !== -1 && (t[l.marker][(l.open ? 3 : 0) + (l.length || 0) % 3] = u);
  }
}
function D0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  Zc(e.delimiters);
  for (let s = 0; s < n; s++) {
    var r;
    const i = (r = t[s]) === null || r === void 0 ? void 0 : r.delimiters;
    i && Zc(i);
  }
}
function T0(e) {
  let t, n, r = 0;
  const s = e.tokens, i = e.tokens.length;
  for (t = n = 0; t < i; t++)
    s[t].nesting < 0 && r--, s[t].level = r, s[t].nesting > 0 && r++, s[t].type === "text" && t + 1 < i && s[t + 1].type === "text" ? s[t + 1].content = s[t].content + s[t + 1].content : (t !== n && (s[n] = s[t]), n++);
  t !== n && (s.length = n);
}
var Vi = [
  ["text", i0],
  ["linkify", c0],
  ["newline", a0],
  ["escape", u0],
  ["backticks", d0],
  ["strikethrough", Qu.tokenize],
  ["emphasis", ef.tokenize],
  ["link", _0],
  ["image", y0],
  ["autolink", w0],
  ["html_inline", R0],
  ["entity", S0]
], Gi = [
  ["balance_pairs", D0],
  ["strikethrough", Qu.postProcess],
  ["emphasis", ef.postProcess],
  ["fragments_join", T0]
], nf = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of inline rules.
      */
      "ruler",
      new Br()
    ), K(
      this,
      /**
      * {@link Ruler} instance. Second ruler used for post-processing
      * (e.g. in emphasis-like rules).
      */
      "ruler2",
      new Br()
    ), K(this, "State", Zu);
    for (let e = 0; e < Vi.length; e++) this.ruler.push(Vi[e][0], Vi[e][1]);
    for (let e = 0; e < Gi.length; e++) this.ruler2.push(Gi[e][0], Gi[e][1]);
  }
  skipToken(e) {
    const t = e.pos, n = this.ruler.getRules(""), r = n.length, s = e.md.options.maxNesting, i = e.cache;
    if (typeof i[t] < "u") {
      e.pos = i[t];
      return;
    }
    let o = !1;
    if (e.level < s) {
      for (let l = 0; l < r; l++)
        if (e.level++, o = n[l](e, !0), e.level--, o) {
          if (t >= e.pos) throw new Error("inline rule didn't increment state.pos");
          break;
        }
    } else e.pos = e.posMax;
    o || e.pos++, i[t] = e.pos;
  }
  tokenize(e) {
    const t = this.ruler.getRules(""), n = t.length, r = e.posMax, s = e.md.options.maxNesting;
    for (; e.pos < r; ) {
      const i = e.pos;
      let o = !1;
      if (e.level < s) {
        for (let l = 0; l < n; l++)
          if (o = t[l](e, !1), o) {
            if (i >= e.pos) throw new Error("inline rule didn't increment state.pos");
            break;
          }
      }
      if (o) {
        if (e.pos >= r) break;
        continue;
      }
      e.pending += e.src[e.pos++];
    }
    e.pending && e.pushPending();
  }
  /**
  * Process input string and push inline tokens into `outTokens`
  */
  parse(e, t, n, r) {
    const s = new this.State(e, t, n, r);
    this.tokenize(s);
    const i = this.ruler2.getRules(""), o = i.length;
    for (let l = 0; l < o; l++) i[l](s);
  }
}, F0 = {
  default: {
    options: {
      html: !1,
      xhtmlOut: !1,
      breaks: !1,
      langPrefix: "language-",
      linkify: !1,
      typographer: !1,
      quotes: "“”‘’",
      highlight: null,
      maxNesting: 100
    },
    components: {
      core: {},
      block: {},
      inline: {}
    }
  },
  zero: {
    options: {
      html: !1,
      xhtmlOut: !1,
      breaks: !1,
      langPrefix: "language-",
      linkify: !1,
      typographer: !1,
      quotes: "“”‘’",
      highlight: null,
      maxNesting: 20
    },
    components: {
      core: { rules: [
        "normalize",
        "block",
        "strip_references",
        "inline",
        "text_join"
      ] },
      block: { rules: ["paragraph"] },
      inline: {
        rules: ["text"],
        rules2: ["balance_pairs", "fragments_join"]
      }
    }
  },
  commonmark: {
    options: {
      html: !0,
      xhtmlOut: !0,
      breaks: !1,
      langPrefix: "language-",
      linkify: !1,
      typographer: !1,
      quotes: "“”‘’",
      highlight: null,
      maxNesting: 20
    },
    components: {
      core: { rules: [
        "normalize",
        "block",
        "strip_references",
        "inline",
        "text_join"
      ] },
      block: { rules: [
        "blockquote",
        "code",
        "fence",
        "heading",
        "hr",
        "html_block",
        "lheading",
        "list",
        "reference",
        "paragraph"
      ] },
      inline: {
        rules: [
          "autolink",
          "backticks",
          "emphasis",
          "entity",
          "escape",
          "html_inline",
          "image",
          "link",
          "newline",
          "text"
        ],
        rules2: [
          "balance_pairs",
          "emphasis",
          "fragments_join"
        ]
      }
    }
  }
}, I0 = /^(vbscript|javascript|file|data):/, O0 = /^data:image\/(gif|png|jpeg|webp);/, Qc = [
  "http:",
  "https:",
  "mailto:"
], Mt = class {
  /**
  * Link validation function. CommonMark allows too much in links. By default
  * we disable `javascript:`, `vbscript:`, `file:` schemas, and almost all `data:...` schemas
  * except some embedded image types.
  *
  * You can change this behaviour:
  *
  * @example
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  * const md = new MarkdownIt()
  *
  * // enable everything
  * md.validateLink = function () { return true; }
  * ```
  */
  validateLink(e) {
    const t = e.trim().toLowerCase();
    return I0.test(t) ? O0.test(t) : !0;
  }
  /**
  * Function used to encode link url to a machine-readable format,
  * which includes url-encoding, punycode, etc.
  */
  normalizeLink(e) {
    const t = go(e, !0);
    if (t.hostname && (!t.protocol || Qc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = zc.toASCII(t.hostname);
      } catch {
      }
    return t.auth && (t.auth = qt(t.auth)), t.hostname && (t.hostname = qt(t.hostname)), t.pathname && (t.pathname = qt(t.pathname)), t.search && (t.search = qt(t.search)), t.hash && (t.hash = qt(t.hash)), po(t);
  }
  /**
  * Function used to decode link url to a human-readable format`
  */
  normalizeLinkText(e) {
    const t = go(e, !0);
    if (t.hostname && (!t.protocol || Qc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = zc.toUnicode(t.hostname);
      } catch {
      }
    return ir(po(t), ir.defaultChars + "%");
  }
  constructor(...e) {
    K(
      this,
      /**
      * Instance of {@link ParserInline}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "inline",
      new nf()
    ), K(
      this,
      /**
      * Instance of {@link ParserBlock}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "block",
      new Xu()
    ), K(
      this,
      /**
      * Instance of {@link ParserCore} chain executor. You may need it to add new
      * rules when writing plugins. For simple rules control use
      * {@link MarkdownIt.disable} and {@link MarkdownIt.enable}.
      */
      "core",
      new Gu()
    ), K(
      this,
      /**
      * Instance of {@link Renderer}. Use it to modify output look. Or to add rendering
      * rules for new token types, generated by plugins.
      *
      * See {@link Renderer} docs and
      * [source code](https://github.com/markdown-it/markdown-it/blob/master/src/renderer.ts).
      *
      * @example
      * ```javascript
      * import MarkdownIt from 'markdown-it'
      * const md = new MarkdownIt()
      *
      * function myToken(tokens, idx, options, env, self) {
      *   //...
      *   return result;
      * };
      *
      * md.renderer.rules['my_token'] = myToken
      * ```
      */
      "renderer",
      new qu()
    ), K(
      this,
      /**
      * [linkify-it](https://github.com/markdown-it/linkify-it) instance.
      * Used by [linkify](https://github.com/markdown-it/markdown-it/blob/master/src/rules_core/linkify.ts)
      * rule.
      */
      "linkify",
      new zm()
    ), K(
      this,
      /**
      * Assorted utility functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/common/utils.ts).
      */
      "utils",
      Qm
    ), K(
      this,
      /**
      * Link components parser functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/helpers).
      */
      "helpers",
      Object.assign({}, g_)
    );
    const [t, n] = e;
    typeof t == "string" ? (this.configure(t), n && this.set(n)) : (this.configure("default"), this.set(t || {}));
  }
  /**
  * Set parser options (in the same format as in constructor). Probably, you
  * will never need it, but you can change options after constructor call.
  *
  * __Note:__ To achieve the best possible performance, don't modify a
  * `markdown-it` instance options on the fly. If you need multiple configurations
  * it's best to create multiple instances and initialize each with separate
  * config.
  *
  * @example
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  *
  * const md = new MarkdownIt()
  *   .set({ html: true, breaks: true })
  *   .set({ typographer: true })
  * ```
  */
  set(e) {
    return Object.assign(this.options, e), this;
  }
  /**
  * Batch load of all options and compenent settings. This is internal method,
  * and you probably will not need it. But if you will - see available presets
  * and data structure [here](https://github.com/markdown-it/markdown-it/tree/master/src/presets)
  *
  * We strongly recommend to use presets instead of direct config loads. That
  * will give better compatibility with next versions.
  */
  configure(e) {
    let t;
    if (typeof e == "string") {
      const s = e;
      if (t = F0[s], !t) throw new Error(`Wrong 'markdown-it' preset "${s}", check name`);
    } else t = e;
    if (!t) throw new Error("Wrong `markdown-it` preset, can't be empty");
    t.options && (this.options = { ...t.options });
    const n = t.components;
    if (n) {
      var r;
      [
        "core",
        "block",
        "inline"
      ].forEach((i) => {
        var o;
        const l = (o = n[i]) === null || o === void 0 ? void 0 : o.rules;
        l && this[i].ruler.enableOnly(l);
      });
      const s = (r = n.inline) === null || r === void 0 ? void 0 : r.rules2;
      s && this.inline.ruler2.enableOnly(s);
    }
    return this;
  }
  /**
  * Enable list or rules. It will automatically find appropriate components,
  * containing rules with given names. If rule not found, and `ignoreInvalid`
  * not set - throws exception.
  *
  * @example
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  *
  * const md = new MarkdownIt()
  *   .enable(['sub', 'sup'])
  *   .disable('smartquotes')
  * ```
  */
  enable(e, t = !1) {
    let n = [];
    Array.isArray(e) || (e = [e]), [
      "core",
      "block",
      "inline"
    ].forEach((s) => {
      n = n.concat(this[s].ruler.enable(e, !0));
    }), n = n.concat(this.inline.ruler2.enable(e, !0));
    const r = e.filter((s) => n.indexOf(s) < 0);
    if (r.length && !t) throw new Error(`MarkdownIt. Failed to enable unknown rule(s): ${r}`);
    return this;
  }
  /**
  * The same as {@link MarkdownIt.enable}, but turn specified rules off.
  */
  disable(e, t = !1) {
    let n = [];
    Array.isArray(e) || (e = [e]), [
      "core",
      "block",
      "inline"
    ].forEach((s) => {
      n = n.concat(this[s].ruler.disable(e, !0));
    }), n = n.concat(this.inline.ruler2.disable(e, !0));
    const r = e.filter((s) => n.indexOf(s) < 0);
    if (r.length && !t) throw new Error(`MarkdownIt. Failed to disable unknown rule(s): ${r}`);
    return this;
  }
  /**
  * Load specified plugin with given params into current parser instance.
  * It's just a sugar to call `plugin(md, params)` with curring.
  *
  * @example
  * ```javascript
  * import MarkdownIt from 'markdown-it'
  * import iterator from 'markdown-it-for-inline'
  *
  * const md = new MarkdownIt()
  *   .use(iterator, 'foo_replace', 'text', function (tokens, idx) {
  *     tokens[idx].content = tokens[idx].content.replace(/foo/g, 'bar')
  *   })
  * ```
  */
  use(e, ...t) {
    return e.apply(e, [this, ...t]), this;
  }
  /**
  * Parse input string and return list of block tokens (special token type
  * "inline" will contain list of inline tokens). You should not call this
  * method directly, until you write custom renderer (for example, to produce
  * AST).
  *
  * `env` is used to pass data between "distributed" rules and return additional
  * metadata like reference info, needed for the renderer. It also can be used to
  * inject data in specific cases. Usually, you will be ok to pass `{}`,
  * and then pass updated object to renderer.
  */
  parse(e, t) {
    if (typeof e != "string") throw new Error("Input data should be a String");
    const n = new this.core.State(e, this, t);
    return this.core.process(n), n.tokens;
  }
  /**
  * Render markdown string into html. It does all magic for you :).
  *
  * `env` can be used to inject additional metadata (`{}` by default).
  * But you will not need it with high probability. See also comment
  * in {@link MarkdownIt.parse}.
  */
  render(e, t = {}) {
    return this.renderer.render(this.parse(e, t), this.options, t);
  }
  /**
  * The same as {@link MarkdownIt.parse} but skip all block rules. It returns
  * the block tokens list with the single `inline` element, containing parsed
  * inline tokens in `children` property. Also updates `env` object.
  */
  parseInline(e, t) {
    const n = new this.core.State(e, this, t);
    return n.inlineMode = !0, this.core.process(n), n.tokens;
  }
  /**
  * Similar to {@link MarkdownIt.render} but for single paragraph content.
  * Result will NOT be wrapped into `<p>` tags.
  */
  renderInline(e, t = {}) {
    return this.renderer.render(this.parseInline(e, t), this.options, t);
  }
};
K(Mt, "Token", Ln);
K(Mt, "Ruler", Br);
K(Mt, "Renderer", qu);
K(Mt, "ParserCore", Gu);
K(Mt, "StateCore", Hu);
K(Mt, "ParserBlock", Xu);
K(Mt, "StateBlock", Ku);
K(Mt, "ParserInline", nf);
K(Mt, "StateInline", Zu);
var N0 = Uu(Mt);
const M0 = 200 * 1024, Bo = /^(?:https?:\/\/|mailto:)/i, L0 = [
  "a",
  "blockquote",
  "br",
  "code",
  "del",
  "em",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "hr",
  "li",
  "ol",
  "p",
  "pre",
  "s",
  "strong",
  "table",
  "tbody",
  "td",
  "th",
  "thead",
  "tr",
  "ul"
], P0 = ["href", "title", "target", "rel", "start", "class"], Jr = new N0({ html: !1, linkify: !0, breaks: !0, typographer: !1 });
Jr.disable(["image"]);
Jr.validateLink = (e) => Bo.test(String(e).trim());
const j0 = Jr.renderer.rules.link_open ?? ((e, t, n, r, s) => s.renderToken(e, t, n));
Jr.renderer.rules.link_open = (e, t, n, r, s) => (e[t].attrSet("target", "_blank"), e[t].attrSet("rel", "noopener noreferrer nofollow"), j0(e, t, n, r, s));
function $0(e) {
  return String(e).replace(/[&<>"']/g, (t) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[t]);
}
let ea = null;
function B0(e) {
  return !e?.isSupported || typeof e.sanitize != "function" ? null : (ea !== e && (e.addHook("afterSanitizeAttributes", (t) => {
    if (t.nodeName !== "A") return;
    const n = t.getAttribute("href");
    n !== null && !Bo.test(n.trim()) && t.removeAttribute("href"), t.hasAttribute("href") ? (t.setAttribute("target", "_blank"), t.setAttribute("rel", "noopener noreferrer nofollow")) : (t.removeAttribute("target"), t.removeAttribute("rel"));
  }), ea = e), e);
}
function z0(e, t = lm) {
  const n = String(e ?? "").slice(0, M0), r = B0(t);
  if (!r) return `<p>${$0(n)}</p>`;
  const s = Jr.render(n);
  return r.sanitize(s, {
    ALLOWED_TAGS: L0,
    ALLOWED_ATTR: P0,
    ALLOWED_URI_REGEXP: Bo,
    ALLOW_DATA_ATTR: !1,
    ALLOW_ARIA_ATTR: !1
  });
}
const U0 = 300, Vn = /* @__PURE__ */ new Map();
function Ki(e) {
  const t = String(e ?? "");
  let n = Vn.get(t);
  return n !== void 0 ? Vn.delete(t) : (n = z0(t), Vn.size >= U0 && Vn.delete(Vn.keys().next().value)), Vn.set(t, n), n;
}
const W0 = ["data-prompt", "data-status"], J0 = { class: "cd-run-head" }, q0 = { "data-test": "run-status" }, H0 = { class: "cd-hint" }, V0 = ["value"], G0 = {
  key: 1,
  class: "cd-progress",
  "data-test": "run-progress"
}, K0 = {
  class: "cd-hint",
  "data-test": "run-node"
}, Y0 = {
  key: 1,
  class: "cd-err",
  "data-test": "run-reason"
}, X0 = ["data-node", "onClick"], Z0 = { class: "cd-err" }, Q0 = {
  key: 2,
  class: "cd-thumbs",
  "data-test": "run-outputs"
}, ey = ["src", "alt", "title", "onClick"], ta = {
  __name: "RunCard",
  props: { run: { type: Object, required: !0 }, ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = (i, o) => t.ctl.url(tc(i.id, o.nodeId, o.index, Hp)), r = (i) => i < 1 ? `${Math.round(i * 1e3)} ms` : `${i.toFixed(1)} s`, s = (i, o) => t.ctl.url(tc(i.id, o.nodeId, o.index));
    return (i, o) => (B(), W("div", {
      class: it(["cd-run", "cd-run-" + e.run.status]),
      "data-test": "run",
      "data-prompt": e.run.id,
      "data-status": e.run.status
    }, [
      q("div", J0, [
        o[0] || (o[0] = q("span", { class: "cd-who" }, "run", -1)),
        q("b", q0, re(e.run.status), 1),
        q("span", H0, [
          he(re(e.run.short), 1),
          e.run.queuedBy ? (B(), W(ie, { key: 0 }, [
            he(" · " + re(e.run.queuedBy), 1)
          ], 64)) : de("", !0),
          e.run.seconds !== null ? (B(), W(ie, { key: 1 }, [
            he(" · " + re(r(e.run.seconds)), 1)
          ], 64)) : de("", !0)
        ])
      ]),
      e.run.final ? de("", !0) : (B(), W(ie, { key: 0 }, [
        e.run.percent !== null ? (B(), W("progress", {
          key: 0,
          class: "cd-progress",
          value: e.run.percent,
          max: "100",
          "data-test": "run-progress"
        }, null, 8, V0)) : (B(), W("progress", G0)),
        q("div", K0, [
          e.run.status === "queued" ? (B(), W(ie, { key: 0 }, [
            o[1] || (o[1] = he("waiting in ComfyUI's queue", -1)),
            e.run.queuePosition ? (B(), W(ie, { key: 0 }, [
              he(" (position " + re(e.run.queuePosition) + ")", 1)
            ], 64)) : de("", !0)
          ], 64)) : e.run.node ? (B(), W(ie, { key: 1 }, [
            he(re(e.run.node.title), 1),
            e.run.max ? (B(), W(ie, { key: 0 }, [
              he(" · " + re(e.run.value) + "/" + re(e.run.max), 1)
            ], 64)) : de("", !0)
          ], 64)) : (B(), W(ie, { key: 2 }, [
            he("starting…")
          ], 64)),
          e.run.done ? (B(), W(ie, { key: 3 }, [
            he(" · " + re(e.run.done) + " node" + re(e.run.done === 1 ? "" : "s") + " done", 1)
          ], 64)) : de("", !0)
        ])
      ], 64)),
      e.run.final && e.run.status !== "succeeded" && e.run.reason && !e.run.errors.length ? (B(), W("div", Y0, re(e.run.reason), 1)) : de("", !0),
      (B(!0), W(ie, null, Ye(e.run.errors, (l, c) => (B(), W("div", {
        key: c,
        class: "cd-run-error",
        "data-test": "run-error"
      }, [
        l.nodeId ? (B(), W("button", {
          key: 0,
          class: "cd-link",
          "data-node": l.nodeId,
          title: "Select this node on the canvas",
          onClick: Rn((a) => e.ctl.focusNode(l.nodeId), ["stop"]),
          "data-test": "run-error-node"
        }, [
          he(re(l.title), 1),
          l.input ? (B(), W(ie, { key: 0 }, [
            he(" · " + re(l.input), 1)
          ], 64)) : de("", !0)
        ], 8, X0)) : de("", !0),
        q("span", Z0, re((l.nodeId ? ": " : "") + l.message), 1)
      ]))), 128)),
      e.run.outputs.length ? (B(), W("div", Q0, [
        (B(!0), W(ie, null, Ye(e.run.outputs, (l) => (B(), W("img", {
          key: l.nodeId + "/" + l.index,
          src: n(e.run, l),
          alt: l.filename,
          title: l.filename + " (click for full size)",
          loading: "lazy",
          onClick: (c) => e.ctl.showImage(s(e.run, l)),
          "data-test": "run-thumb"
        }, null, 8, ey))), 128))
      ])) : de("", !0)
    ], 10, W0));
  }
}, ty = { class: "cd-bar" }, ny = ["title"], ry = ["value", "disabled"], sy = ["value", "title"], iy = ["disabled"], oy = ["title"], ly = ["disabled"], cy = {
  key: 0,
  class: "cd-forkof",
  "data-test": "fork-of"
}, ay = ["title"], uy = {
  key: 1,
  class: "cd-hits",
  "data-test": "search-hits"
}, fy = {
  key: 0,
  class: "cd-hint"
}, dy = ["onClick", "data-session"], hy = { class: "cd-hint" }, py = { key: 0 }, gy = {
  key: 2,
  class: "cd-settings",
  "data-test": "settings-pane"
}, my = ["value"], _y = { class: "cd-wide" }, yy = { class: "cd-wide" }, by = { class: "cd-hint" }, ky = { class: "cd-row" }, wy = ["disabled"], xy = {
  class: "cd-skills",
  "data-test": "skills"
}, vy = ["title"], Ay = ["checked", "onChange", "data-skill"], Ry = {
  key: 0,
  class: "cd-hint",
  "data-test": "skills-hint"
}, Cy = { class: "cd-main" }, Ey = {
  key: 0,
  class: "cd-compacted",
  "data-test": "compacted"
}, Sy = { "data-test": "summary" }, Dy = ["innerHTML"], Ty = { class: "cd-user" }, Fy = ["data-skill"], Iy = { class: "cd-skill" }, Oy = ["innerHTML"], Ny = ["data-message"], My = ["disabled", "onClick"], Ly = ["disabled", "onClick"], Py = ["disabled", "onClick"], jy = {
  key: 1,
  class: "cd-atts",
  "data-test": "attachments"
}, $y = ["src", "alt", "title", "onClick"], By = ["href", "title"], zy = {
  key: 2,
  class: "cd-hint",
  "data-test": "waiting"
}, Uy = {
  key: 3,
  class: "cd-err"
}, Wy = ["data-skill"], Jy = { class: "cd-skill" }, qy = {
  key: 0,
  class: "cd-typing"
}, Hy = ["data-message"], Vy = ["disabled", "onClick"], Gy = ["disabled", "onClick"], Ky = ["innerHTML"], Yy = {
  key: 0,
  class: "cd-err"
}, Xy = {
  key: 1,
  class: "cd-empty"
}, Zy = {
  key: 0,
  class: "cd-hint"
}, Qy = ["src"], eb = ["href"], tb = {
  key: 3,
  class: "cd-notice cd-stale",
  "data-test": "stale-revert"
}, nb = { class: "cd-row" }, rb = {
  key: 4,
  class: "cd-notice",
  "data-test": "reverted"
}, sb = ["disabled"], ib = {
  key: 5,
  class: "cd-notice",
  "data-test": "notice"
}, ob = {
  key: 6,
  class: "cd-chips",
  "data-test": "chips"
}, lb = ["title", "data-state"], cb = ["src"], ab = ["onClick"], ub = { class: "cd-input" }, fb = ["disabled"], db = ["accept"], hb = ["disabled"], pb = ["disabled"], gb = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, r = t.ctl.ui, s = Je(() => r.connected ? r.outage ? "core unavailable, reconnecting…" : r.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), i = Je(() => r.connected && r.outage ? "cd-outage" : "cd-" + s.value.replace(" ", "-")), o = Je(() => (r.connected ? r.outage : r.offlineReason) || n.statusDetail || s.value), l = Je(() => r.connected ? r.outage ? `core unavailable, reconnecting… (${r.outage})` : r.notice ? r.notice : n.lastError ? `${n.lastError.code}: ${n.lastError.message}` : "" : r.offlineReason ? `comfyd is not reachable: ${r.offlineReason}` : ""), c = Je(() => r.connected && !r.outage && n.status === "working"), a = Je(() => r.connected && !r.outage && !!r.form.session_id), u = Je(() => a.value && n.status !== "working" && !n.queuedTurns), d = Je(() => r.form.skills), m = Je(() => !!n.config?.api_key_set), g = Je(() => t.ctl.forkOf()), h = Je(() => Object.fromEntries(r.sessions.map((G) => [G.id, G.title]))), w = Je(() => {
      const G = [...r.sessions];
      return r.form.session_id && !G.some((T) => T.id === r.form.session_id) && G.unshift({ id: r.form.session_id, title: n.title || r.form.session_id }), G;
    }), v = Je(() => tg(n)), C = Je(() => v.value ? n.turns.filter((G) => !G.pending && G.id <= v.value.coversTo) : []), x = Je(() => v.value ? n.turns.filter((G) => G.pending || G.id > v.value.coversTo) : n.turns);
    function k(G) {
      return String(G).split(/(\[[^\]]*\])/).filter((T) => T).map((T) => T.startsWith("[") && T.endsWith("]") ? { mark: !0, text: T.slice(1, -1) } : { mark: !1, text: T });
    }
    function b(G) {
      G.key === "Enter" && t.ctl.search(), G.key === "Escape" && (r.searchQuery = "", r.searchHits = null);
    }
    const O = Je(() => {
      const G = {};
      for (const [T, E] of Object.entries(Qp(n))) G[T] = E.map((X) => eg(X, (me) => t.ctl.titleOf(me)));
      return G;
    }), z = (G) => O.value[G] ?? [];
    function j(G) {
      (!G || G.type === "click" || G.key === "Escape") && t.ctl.showImage("");
    }
    const ee = /* @__PURE__ */ es(null);
    gi(
      () => r.image,
      (G) => G && xr(() => ee.value?.focus())
    );
    const Y = /* @__PURE__ */ es(null), ue = /* @__PURE__ */ es(null), ne = (G) => {
      G && (G.scrollTop = G.scrollHeight);
    };
    gi(
      () => [n.turns.length, n.lastSeq, Object.keys(n.runs).length],
      () => xr(() => ne(Y.value))
    ), gi(
      () => n.logs.length,
      () => xr(() => ne(ue.value))
    );
    function pe(G) {
      const T = G.target.value;
      T === "__new__" ? t.ctl.createSession() : T && t.ctl.selectSession(T);
    }
    function Fe(G) {
      G.key === "Enter" && !G.shiftKey && !G.isComposing && (G.preventDefault(), t.ctl.send());
    }
    const ve = /* @__PURE__ */ es(null), Re = [...Mo, ".md", ".json", ".txt"].join(","), ut = Je(() => r.attachments.some((G) => G.state === "ready")), J = Je(() => r.connected && (r.draft.trim() || ut.value));
    function oe(G) {
      t.ctl.addFiles(G.target.files), G.target.value = "";
    }
    function le(G) {
      G.dataTransfer?.files?.length && t.ctl.addFiles(G.dataTransfer.files);
    }
    function _e(G) {
      const T = Array.from(G.clipboardData?.files ?? []);
      T.length && (G.preventDefault(), t.ctl.addFiles(T));
    }
    const Ce = (G) => String(G.mime).startsWith("image/");
    function ye(G) {
      G.stopPropagation();
    }
    return (G, T) => (B(), W("div", {
      class: "comfyd-panel",
      onKeydown: ye,
      onKeyup: ye,
      onWheel: T[23] || (T[23] = Rn(() => {
      }, ["stop"])),
      onContextmenu: T[24] || (T[24] = Rn(() => {
      }, ["stop"])),
      onDragover: T[25] || (T[25] = Rn(() => {
      }, ["prevent", "stop"])),
      onDrop: Rn(le, ["prevent", "stop"])
    }, [
      q("div", ty, [
        q("span", {
          class: it(["cd-dot", i.value]),
          title: o.value
        }, null, 10, ny),
        q("select", {
          class: "cd-session",
          value: H(r).form.session_id,
          disabled: !H(r).connected || H(r).busy,
          onChange: pe,
          "data-test": "session"
        }, [
          T[26] || (T[26] = q("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (B(!0), W(ie, null, Ye(w.value, (E) => (B(), W("option", {
            key: E.id,
            value: E.id,
            title: E.parentId ? "fork of " + (h.value[E.parentId] ?? E.parentId) : ""
          }, re(E.parentId ? "↳ " : "") + re(E.title), 9, sy))), 128)),
          T[27] || (T[27] = q("option", { value: "__new__" }, "+ new session", -1))
        ], 40, ry),
        yn(q("input", {
          class: "cd-search",
          "onUpdate:modelValue": T[0] || (T[0] = (E) => H(r).searchQuery = E),
          type: "search",
          placeholder: "search sessions…",
          disabled: !H(r).connected,
          onKeydown: b,
          "data-test": "session-search",
          title: 'Words, "a phrase", prefix*, a OR b, -excluded; Enter searches'
        }, null, 40, iy), [
          [qn, H(r).searchQuery]
        ]),
        q("span", {
          class: it(["cd-status", { "cd-status-outage": H(r).connected && H(r).outage }]),
          title: o.value,
          "data-test": "status"
        }, [
          he(re(s.value), 1),
          H(n).queuedTurns ? (B(), W(ie, { key: 0 }, [
            he(" · " + re(H(n).queuedTurns) + " queued", 1)
          ], 64)) : de("", !0)
        ], 10, oy),
        q("button", {
          class: "cd-btn",
          disabled: !c.value,
          onClick: T[1] || (T[1] = (E) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, ly),
        q("button", {
          class: it(["cd-btn", { "cd-on": H(r).showSettings }]),
          onClick: T[2] || (T[2] = (E) => H(r).showSettings = !H(r).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        q("button", {
          class: it(["cd-btn", { "cd-on": H(r).showLog }]),
          onClick: T[3] || (T[3] = (E) => H(r).showLog = !H(r).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      g.value ? (B(), W("div", cy, [
        T[28] || (T[28] = he(" fork of ", -1)),
        q("a", {
          href: "#",
          onClick: T[4] || (T[4] = Rn((E) => e.ctl.openParent(), ["prevent"])),
          "data-test": "fork-parent",
          title: "Switch to " + g.value.title
        }, re(g.value.title), 9, ay),
        g.value.point ? (B(), W(ie, { key: 0 }, [
          he(" at message " + re(g.value.point), 1)
        ], 64)) : de("", !0)
      ])) : de("", !0),
      H(r).searchHits ? (B(), W("div", uy, [
        H(r).searchHits.length ? de("", !0) : (B(), W("div", fy, "nothing found")),
        (B(!0), W(ie, null, Ye(H(r).searchHits, (E) => (B(), W("button", {
          key: E.key,
          class: "cd-hit",
          onClick: (X) => e.ctl.openHit(E),
          "data-session": E.sessionId
        }, [
          q("b", null, re(E.title), 1),
          T[29] || (T[29] = he()),
          q("span", hy, re(E.kind), 1),
          T[30] || (T[30] = q("br", null, null, -1)),
          (B(!0), W(ie, null, Ye(k(E.snippet), (X, me) => (B(), W(ie, { key: me }, [
            X.mark ? (B(), W("mark", py, re(X.text), 1)) : (B(), W(ie, { key: 1 }, [
              he(re(X.text), 1)
            ], 64))
          ], 64))), 128))
        ], 8, dy))), 128))
      ])) : de("", !0),
      H(r).showSettings ? (B(), W("div", gy, [
        q("label", null, [
          T[31] || (T[31] = he("Provider ", -1)),
          yn(q("select", {
            "onUpdate:modelValue": T[5] || (T[5] = (E) => H(r).form.provider = E),
            onChange: T[6] || (T[6] = (E) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (B(!0), W(ie, null, Ye(H(ug), (E) => (B(), W("option", {
              key: E,
              value: E
            }, re(E), 9, my))), 128))
          ], 544), [
            [Mh, H(r).form.provider]
          ])
        ]),
        q("label", null, [
          T[32] || (T[32] = he("Model ", -1)),
          yn(q("input", {
            "onUpdate:modelValue": T[7] || (T[7] = (E) => H(r).form.model = E),
            onChange: T[8] || (T[8] = (E) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [qn, H(r).form.model]
          ])
        ]),
        q("label", null, [
          T[33] || (T[33] = he("Base URL ", -1)),
          yn(q("input", {
            "onUpdate:modelValue": T[9] || (T[9] = (E) => H(r).form.base_url = E),
            onChange: T[10] || (T[10] = (E) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [qn, H(r).form.base_url]
          ])
        ]),
        q("label", _y, [
          T[34] || (T[34] = he("System prompt ", -1)),
          yn(q("textarea", {
            "onUpdate:modelValue": T[11] || (T[11] = (E) => H(r).form.system_prompt = E),
            rows: "2",
            onChange: T[12] || (T[12] = (E) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [qn, H(r).form.system_prompt]
          ])
        ]),
        q("label", yy, [
          T[35] || (T[35] = he("API key ", -1)),
          q("span", by, re(m.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          q("span", ky, [
            yn(q("input", {
              "onUpdate:modelValue": T[13] || (T[13] = (E) => H(r).apiKey = E),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [qn, H(r).apiKey]
            ]),
            q("button", {
              class: "cd-btn",
              onClick: T[14] || (T[14] = (E) => e.ctl.setApiKey()),
              disabled: !H(r).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, wy)
          ])
        ])
      ])) : de("", !0),
      q("div", xy, [
        (B(!0), W(ie, null, Ye(H(r).skills, (E) => (B(), W("label", {
          key: E.name,
          class: it(["cd-chip", { "cd-on": d.value.includes(E.name) }]),
          title: E.description
        }, [
          q("input", {
            type: "checkbox",
            checked: d.value.includes(E.name),
            onChange: (X) => e.ctl.toggleSkill(E.name, X.target.checked),
            "data-skill": E.name
          }, null, 40, Ay),
          he(" " + re(E.name), 1)
        ], 10, vy))), 128)),
        H(r).skills.length ? de("", !0) : (B(), W("span", Ry, [
          he(re(H(r).connected ? H(r).outage ? "waiting for the core…" : "no skills loaded" : "connecting to comfyd…"), 1),
          !H(r).connected && H(r).offlineReason ? (B(), W(ie, { key: 0 }, [
            he(" (" + re(H(r).offlineReason) + ")", 1)
          ], 64)) : de("", !0)
        ]))
      ]),
      q("div", Cy, [
        q("div", {
          ref_key: "chat",
          ref: Y,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          v.value ? (B(), W("details", Ey, [
            q("summary", Sy, [
              T[36] || (T[36] = q("b", null, "Summary", -1)),
              he(" of " + re(C.value.length) + " earlier turn" + re(C.value.length === 1 ? "" : "s") + " (what the model sees now; the originals below) ", 1),
              q("div", {
                class: "cd-text cd-md",
                innerHTML: H(Ki)(v.value.content)
              }, null, 8, Dy)
            ]),
            (B(!0), W(ie, null, Ye(C.value, (E) => (B(), W("div", {
              key: E.id,
              class: "cd-turn cd-old"
            }, [
              q("div", Ty, [
                T[37] || (T[37] = q("span", { class: "cd-who" }, "you", -1)),
                he(re(E.content), 1)
              ]),
              q("div", {
                class: "cd-replies",
                style: Sr({ "--cols": Math.max(1, H(os)(E, d.value).length) })
              }, [
                (B(!0), W(ie, null, Ye(H(os)(E, d.value), (X) => (B(), W("div", {
                  key: X.skill,
                  class: it(["cd-reply", "cd-" + X.state]),
                  "data-skill": X.skill
                }, [
                  q("div", Iy, re(X.skill), 1),
                  q("div", {
                    class: "cd-text cd-md",
                    innerHTML: H(Ki)(X.content)
                  }, null, 8, Oy)
                ], 10, Fy))), 128))
              ], 4)
            ]))), 128))
          ])) : de("", !0),
          (B(!0), W(ie, null, Ye(x.value, (E) => (B(), W("div", {
            key: E.pending ? E.clientId : E.id,
            class: "cd-turn"
          }, [
            q("div", {
              class: it(["cd-user", { "cd-failed": E.state === "failed", "cd-waiting": E.state === "waiting" }])
            }, [
              E.pending ? de("", !0) : (B(), W("span", {
                key: 0,
                class: "cd-acts",
                "data-test": "message-actions",
                "data-message": E.id
              }, [
                q("button", {
                  class: "cd-act",
                  disabled: !a.value,
                  onClick: (X) => e.ctl.forkFrom(E.id),
                  "data-test": "fork",
                  title: "Fork from here: a new session with the history up to this message"
                }, "fork", 8, My),
                q("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (X) => e.ctl.revertTo(E.id),
                  "data-test": "revert",
                  title: "Revert to here: hide the later messages (kept in comfyd)"
                }, "revert", 8, Ly),
                q("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (X) => e.ctl.revertTo(E.id, { canvas: !0 }),
                  "data-test": "revert-canvas",
                  title: "Revert to here and put the canvas back as it was before this turn's changes"
                }, "revert + canvas", 8, Py)
              ], 8, Ny)),
              T[38] || (T[38] = q("span", { class: "cd-who" }, "you", -1)),
              he(re(E.content) + " ", 1),
              E.attachments?.length ? (B(), W("span", jy, [
                (B(!0), W(ie, null, Ye(E.attachments, (X) => (B(), W(ie, {
                  key: X.sha256
                }, [
                  Ce(X) ? (B(), W("img", {
                    key: 0,
                    class: "cd-thumb",
                    src: e.ctl.attachmentUrl(X.sha256),
                    alt: X.name,
                    title: X.name + (X.width ? ` · ${X.width}×${X.height}` : ""),
                    onClick: (me) => e.ctl.showImage(e.ctl.attachmentUrl(X.sha256)),
                    "data-test": "attachment"
                  }, null, 8, $y)) : (B(), W("a", {
                    key: 1,
                    class: "cd-file",
                    href: e.ctl.attachmentUrl(X.sha256),
                    target: "_blank",
                    rel: "noopener",
                    title: X.mime,
                    "data-test": "attachment"
                  }, re(X.name || X.mime), 9, By))
                ], 64))), 128))
              ])) : de("", !0),
              E.state === "waiting" ? (B(), W("span", zy, " — waiting for comfyd, sent when it is back")) : de("", !0),
              E.error ? (B(), W("span", Uy, " — " + re(E.error), 1)) : de("", !0)
            ], 2),
            q("div", {
              class: "cd-replies",
              style: Sr({ "--cols": Math.max(1, H(os)(E, d.value).length) })
            }, [
              (B(!0), W(ie, null, Ye(H(os)(E, d.value), (X) => (B(), W("div", {
                key: X.skill,
                class: it(["cd-reply", "cd-" + X.state]),
                "data-skill": X.skill
              }, [
                q("div", Jy, [
                  he(re(X.skill), 1),
                  X.state === "streaming" ? (B(), W("span", qy, "…")) : de("", !0),
                  X.id ? (B(), W("span", {
                    key: 1,
                    class: "cd-acts",
                    "data-test": "reply-actions",
                    "data-message": X.id
                  }, [
                    q("button", {
                      class: "cd-act",
                      disabled: !a.value,
                      onClick: (me) => e.ctl.forkFrom(X.id),
                      "data-test": "fork",
                      title: "Fork from here: a new session with the history up to this reply"
                    }, "fork", 8, Vy),
                    q("button", {
                      class: "cd-act",
                      disabled: !u.value,
                      onClick: (me) => e.ctl.revertTo(X.id),
                      "data-test": "revert",
                      title: "Revert to here: hide the later messages (kept in comfyd)"
                    }, "revert", 8, Gy)
                  ], 8, Hy)) : de("", !0)
                ]),
                q("div", {
                  class: "cd-text cd-md",
                  innerHTML: H(Ki)(X.content)
                }, null, 8, Ky),
                X.error ? (B(), W("div", Yy, re(X.error), 1)) : de("", !0)
              ], 10, Wy))), 128))
            ], 4),
            (B(!0), W(ie, null, Ye(z(E.id), (X) => (B(), hs(ta, {
              key: X.id,
              run: X,
              ctl: e.ctl
            }, null, 8, ["run", "ctl"]))), 128))
          ]))), 128)),
          (B(!0), W(ie, null, Ye(z(0), (E) => (B(), hs(ta, {
            key: E.id,
            run: E,
            ctl: e.ctl,
            class: "cd-run-loose"
          }, null, 8, ["run", "ctl"]))), 128)),
          H(n).turns.length ? de("", !0) : (B(), W("div", Xy, re(H(r).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        H(r).showLog ? (B(), W("div", {
          key: 0,
          ref_key: "logBox",
          ref: ue,
          class: "cd-log",
          "data-test": "log"
        }, [
          (B(!0), W(ie, null, Ye(H(n).logs, (E, X) => (B(), W("div", {
            key: E.seq + ":" + X,
            class: it("cd-l-" + E.level)
          }, [
            q("b", null, re(E.level), 1),
            he(" " + re(E.module), 1),
            E.skill ? (B(), W(ie, { key: 0 }, [
              he(" [" + re(E.skill) + "]", 1)
            ], 64)) : de("", !0),
            he(": " + re(E.message), 1)
          ], 2))), 128)),
          H(n).logs.length ? de("", !0) : (B(), W("div", Zy, "no debug output yet"))
        ], 512)) : de("", !0)
      ]),
      (B(), hs(Ed, { to: "body" }, [
        H(r).image ? (B(), W("div", {
          key: 0,
          ref_key: "overlay",
          ref: ee,
          class: "comfyd-image-overlay",
          tabindex: "0",
          onClick: j,
          onKeydown: j,
          "data-test": "image-overlay"
        }, [
          q("img", {
            src: H(r).image,
            alt: "full size"
          }, null, 8, Qy),
          q("a", {
            href: H(r).image,
            target: "_blank",
            rel: "noopener",
            onClick: T[15] || (T[15] = Rn(() => {
            }, ["stop"]))
          }, "open in a new tab", 8, eb)
        ], 544)) : de("", !0)
      ])),
      H(r).staleRevert ? (B(), W("div", tb, [
        he(re(H(r).staleRevert.message) + " ", 1),
        q("span", nb, [
          q("button", {
            class: "cd-btn",
            onClick: T[16] || (T[16] = (E) => e.ctl.revertTo(H(r).staleRevert.messageId, { canvas: !0, force: !0 })),
            "data-test": "revert-force"
          }, "restore the canvas anyway"),
          q("button", {
            class: "cd-btn",
            onClick: T[17] || (T[17] = (E) => e.ctl.revertTo(H(r).staleRevert.messageId)),
            "data-test": "revert-keep-canvas"
          }, "revert, keep the canvas"),
          q("button", {
            class: "cd-btn",
            onClick: T[18] || (T[18] = (E) => H(r).staleRevert = null),
            "data-test": "revert-dismiss"
          }, "dismiss")
        ])
      ])) : de("", !0),
      H(n).lastRevert && !H(r).staleRevert ? (B(), W("div", rb, [
        he(re(H(n).lastRevert.hidden) + " later message(s) hidden by a revert ", 1),
        q("button", {
          class: "cd-btn",
          disabled: !u.value,
          onClick: T[19] || (T[19] = (E) => e.ctl.unrevert()),
          "data-test": "unrevert",
          title: "Bring the hidden messages back (the canvas stays as it is: Ctrl+Z in the tab undoes a restore)"
        }, "undo revert", 8, sb)
      ])) : de("", !0),
      l.value ? (B(), W("div", ib, re(l.value), 1)) : de("", !0),
      H(r).attachments.length ? (B(), W("div", ob, [
        (B(!0), W(ie, null, Ye(H(r).attachments, (E) => (B(), W("span", {
          key: E.key,
          class: it(["cd-chip cd-att", "cd-att-" + E.state]),
          title: E.error || E.mime,
          "data-state": E.state
        }, [
          E.preview ? (B(), W("img", {
            key: 0,
            class: "cd-chip-thumb",
            src: E.preview,
            alt: ""
          }, null, 8, cb)) : de("", !0),
          he(" " + re(E.name), 1),
          E.state === "uploading" ? (B(), W(ie, { key: 1 }, [
            he(" …")
          ], 64)) : de("", !0),
          E.error ? (B(), W(ie, { key: 2 }, [
            he(" — " + re(E.error), 1)
          ], 64)) : de("", !0),
          q("button", {
            class: "cd-x",
            onClick: (X) => e.ctl.removeAttachment(E.key),
            title: "Remove"
          }, "×", 8, ab)
        ], 10, lb))), 128))
      ])) : de("", !0),
      q("div", ub, [
        q("button", {
          class: "cd-btn",
          disabled: !H(r).connected,
          onClick: T[20] || (T[20] = (E) => ve.value?.click()),
          title: "Attach images or text files (or drop, or paste)",
          "data-test": "attach"
        }, "+", 8, fb),
        q("input", {
          ref_key: "picker",
          ref: ve,
          type: "file",
          multiple: "",
          accept: H(Re),
          style: { display: "none" },
          onChange: oe,
          "data-test": "file"
        }, null, 40, db),
        yn(q("textarea", {
          "onUpdate:modelValue": T[21] || (T[21] = (E) => H(r).draft = E),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !H(r).connected,
          onKeydown: Fe,
          onPaste: _e,
          "data-test": "input"
        }, null, 40, hb), [
          [qn, H(r).draft]
        ]),
        q("button", {
          class: "cd-btn cd-send",
          disabled: !J.value,
          onClick: T[22] || (T[22] = (E) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, pb)
      ])
    ], 32));
  }
}, mb = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline,.comfyd-panel .cd-outage{background:#c84a4a}.comfyd-panel .cd-status.cd-status-outage{color:#e0a050;white-space:normal}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{word-break:break-word}.comfyd-panel .cd-waiting{opacity:.75}.comfyd-panel .cd-md>:first-child{margin-top:0}.comfyd-panel .cd-md>:last-child{margin-bottom:0}.comfyd-panel .cd-md p,.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol,.comfyd-panel .cd-md pre,.comfyd-panel .cd-md blockquote,.comfyd-panel .cd-md table{margin:0 0 6px}.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol{padding-left:18px}.comfyd-panel .cd-md h1,.comfyd-panel .cd-md h2,.comfyd-panel .cd-md h3,.comfyd-panel .cd-md h4,.comfyd-panel .cd-md h5,.comfyd-panel .cd-md h6{font-size:13px;margin:6px 0 4px}.comfyd-panel .cd-md code{font:11px/1.35 ui-monospace,DejaVu Sans Mono,monospace;background:#7f7f7f2e;border-radius:3px;padding:0 3px}.comfyd-panel .cd-md pre{padding:4px 6px;overflow-x:auto;background:#00000047;border-radius:4px}.comfyd-panel .cd-md pre code{background:none;padding:0;white-space:pre}.comfyd-panel .cd-md a{color:var(--cd-accent)}.comfyd-panel .cd-md blockquote{border-left:3px solid var(--cd-border);padding-left:6px;color:var(--cd-dim)}.comfyd-panel .cd-md table{border-collapse:collapse}.comfyd-panel .cd-md th,.comfyd-panel .cd-md td{border:1px solid var(--cd-border);padding:1px 4px}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}.comfyd-panel .cd-run{margin:4px 0 2px;padding:4px 6px;border:1px solid var(--border-color, #444);border-left-width:3px;border-radius:4px;font-size:12px}.comfyd-panel .cd-run-head{display:flex;gap:4px;align-items:baseline;flex-wrap:wrap}.comfyd-panel .cd-run-queued,.comfyd-panel .cd-run-running{border-left-color:#4a90d9}.comfyd-panel .cd-run-succeeded{border-left-color:#3c9a5f}.comfyd-panel .cd-run-failed,.comfyd-panel .cd-run-unknown{border-left-color:#c0392b}.comfyd-panel .cd-run-interrupted,.comfyd-panel .cd-run-cancelled{border-left-color:#b08a2e}.comfyd-panel .cd-progress{width:100%;height:8px;margin:3px 0 1px}.comfyd-panel .cd-run-error{margin-top:2px}.comfyd-panel .cd-link{background:none;border:none;padding:0;color:#6fa8ff;text-decoration:underline;cursor:pointer;font:inherit}.comfyd-panel .cd-thumbs{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumbs img{max-width:96px;max-height:96px;border-radius:3px;cursor:zoom-in;background:#222}.comfyd-image-overlay{position:fixed;inset:0;z-index:10000;background:#000000d9;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;cursor:zoom-out}.comfyd-image-overlay img{max-width:95vw;max-height:90vh;object-fit:contain}.comfyd-image-overlay a{color:#ddd;font-size:13px}.comfyd-panel .cd-chips{display:flex;flex-wrap:wrap;gap:4px;margin-bottom:4px}.comfyd-panel .cd-att{display:inline-flex;align-items:center;gap:4px;max-width:100%}.comfyd-panel .cd-att-failed{border-color:#c44;color:#e88}.comfyd-panel .cd-att-uploading{opacity:.7}.comfyd-panel .cd-chip-thumb{width:20px;height:20px;object-fit:cover;border-radius:2px}.comfyd-panel .cd-x{background:none;border:0;color:inherit;cursor:pointer;padding:0 2px}.comfyd-panel .cd-atts{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumb{max-width:96px;max-height:72px;border-radius:3px;cursor:zoom-in;border:1px solid var(--cd-border, #444)}.comfyd-panel .cd-file{font-size:.9em;padding:1px 5px;border:1px solid var(--cd-border, #444);border-radius:3px}.comfyd-panel .cd-search{flex:0 1 9em;min-width:5em}.comfyd-panel .cd-hits{display:flex;flex-direction:column;gap:2px;max-height:12em;overflow-y:auto;padding:4px;border-bottom:1px solid var(--border-color, #444)}.comfyd-panel .cd-hit{text-align:left;background:none;border:1px solid transparent;color:inherit;padding:3px 4px;cursor:pointer;font:inherit}.comfyd-panel .cd-hit:hover{border-color:var(--border-color, #555)}.comfyd-panel .cd-hit mark{background:#6a5d1e;color:inherit}.comfyd-panel .cd-compacted{margin:4px 0 8px;padding:4px 6px;border:1px dashed var(--border-color, #555);border-radius:4px}.comfyd-panel .cd-compacted>summary{cursor:pointer}.comfyd-panel .cd-old{opacity:.75}.comfyd-panel .cd-acts{float:right;visibility:hidden;margin-left:6px}.comfyd-panel .cd-user:hover .cd-acts,.comfyd-panel .cd-reply:hover .cd-acts,.comfyd-panel .cd-acts:focus-within{visibility:visible}.comfyd-panel .cd-act{background:none;border:1px solid #555;border-radius:3px;color:inherit;cursor:pointer;font-size:10px;line-height:14px;margin-left:2px;padding:0 3px}.comfyd-panel .cd-act:disabled{cursor:default;opacity:.4}.comfyd-panel .cd-stale{white-space:pre-wrap}.comfyd-panel .cd-stale .cd-row{display:flex;gap:4px;margin-top:4px}.comfyd-panel .cd-forkof{padding:2px 8px;font-size:11px;color:var(--cd-dim)}.comfyd-panel .cd-forkof a{color:inherit;text-decoration:underline;cursor:pointer}", _b = "comfyd.canvas", yb = 1500;
function na() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function _o(e, t) {
  (console[e] ?? console.log)(t);
}
function bb(e) {
  const t = na();
  if (t) return e(t, !1);
  let n = 0;
  const r = setInterval(() => {
    const s = na();
    (s || ++n > yb) && (clearInterval(r), s ? e(s, !0) : _o("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function kb({ app: e, api: t }, n) {
  const r = new Kh({
    fetchJson: async (c) => {
      const a = await t.fetchApi(c);
      let u = null;
      try {
        u = await a.json();
      } catch {
        u = null;
      }
      if (!a.ok) throw new Error(u?.error || u?.detail || `${c}: HTTP ${a.status}`);
      return u;
    },
    location: window.location
  }), s = new jp({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: r,
    WebSocket: window.WebSocket,
    tabId: Pp(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: _o,
    isPanelNode: gc
  }), i = {
    app: e,
    connection: r,
    WebSocket: window.WebSocket,
    createApp: zh,
    reactive: Ro,
    component: gb,
    css: mb,
    document,
    log: _o,
    // Runs and their outputs come through the package's routes on
    // ComfyUI's own server (same origin; it adds the bridge's token).
    getJson: async (c) => {
      const a = await t.fetchApi(c, { cache: "no-store" });
      if (!a.ok) throw new Error(`${c}: HTTP ${a.status}`);
      return a.json();
    },
    apiUrl: (c) => typeof t.apiURL == "function" ? t.apiURL(c) : `/api${c}`,
    // Attachments are uploaded the same way (the package's POST route).
    postBytes: async (c, a, u) => {
      const d = await t.fetchApi(c, { method: "POST", body: a, headers: { "Content-Type": u || "application/octet-stream" }, cache: "no-store" }), m = await d.json().catch(() => ({}));
      if (!d.ok) throw new Error(m?.error || `HTTP ${d.status}`);
      return m;
    }
  };
  let o = !1;
  const l = () => {
    o || (o = !0, t.addEventListener("graphChanged", () => s.graphChanged()), window.addEventListener("focus", () => s.setFocus(!0)), window.addEventListener("blur", () => s.setFocus(!1)), document.addEventListener("visibilitychange", () => s.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      s.touched(), s.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => s.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => s.setPointerDown(!1), !0), window.addEventListener("keydown", () => s.touched(), !0), Jp({ app: e, document }), s.start());
  };
  e.registerExtension({
    name: _b,
    setup: l,
    afterConfigureGraph() {
      s.graphChanged();
    },
    beforeRegisterNodeDef(c, a) {
      a?.name === fo && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      gc(c) && vg(c, i);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: s, version: "0.1.0" });
}
bb(kb);
