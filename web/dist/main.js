// @__NO_SIDE_EFFECTS__
function yo(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const Fe = {}, Sn = [], Fn = () => {
}, oa = () => !1, Ns = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), Ms = (e) => e.startsWith("onUpdate:"), pt = Object.assign, la = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, If = Object.prototype.hasOwnProperty, xe = (e, t) => If.call(e, t), ae = Array.isArray, sn = (e) => Ur(e) === "[object Map]", Ln = (e) => Ur(e) === "[object Set]", ul = (e) => Ur(e) === "[object Date]", Ee = (e) => typeof e == "function", Le = (e) => typeof e == "string", It = (e) => typeof e == "symbol", Ie = (e) => e !== null && typeof e == "object", ca = (e) => (Ie(e) || Ee(e)) && Ee(e.then) && Ee(e.catch), aa = Object.prototype.toString, Ur = (e) => aa.call(e), Of = (e) => Ur(e).slice(8, -1), ua = (e) => Ur(e) === "[object Object]", bo = (e) => Le(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, kr = /* @__PURE__ */ yo(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), Ls = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Nf = /-\w/g, kt = /* @__PURE__ */ Ls((e) => e.replace(Nf, (t) => t.slice(1).toUpperCase())), Mf = /\B([A-Z])/g, Pn = /* @__PURE__ */ Ls(
  (e) => e.replace(Mf, "-$1").toLowerCase()
), fa = /* @__PURE__ */ Ls((e) => e.charAt(0).toUpperCase() + e.slice(1)), ui = /* @__PURE__ */ Ls((e) => e ? `on${fa(e)}` : ""), Dt = (e, t) => !Object.is(e, t), hs = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, da = (e, t, n, r = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: r,
    value: n
  });
}, Wr = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let fl;
const Ps = () => fl || (fl = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function Dr(e) {
  if (ae(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const r = e[n], s = Le(r) ? $f(r) : Dr(r);
      if (s)
        for (const i in s)
          t[i] = s[i];
    }
    return t;
  } else if (Le(e) || Ie(e))
    return e;
}
const Lf = /;(?![^(]*\))/g, Pf = /:([^]+)/, jf = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function $f(e) {
  const t = {};
  return e.replace(jf, (n) => n.startsWith("/*") ? "" : n).split(Lf).forEach((n) => {
    if (n) {
      const r = n.split(Pf);
      r.length > 1 && (t[r[0].trim()] = r[1].trim());
    }
  }), t;
}
function st(e) {
  let t = "";
  if (Le(e))
    t = e;
  else if (ae(e))
    for (let n = 0; n < e.length; n++) {
      const r = st(e[n]);
      r && (t += r + " ");
    }
  else if (Ie(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const Bf = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", zf = /* @__PURE__ */ yo(Bf);
function ha(e) {
  return !!e || e === "";
}
function Uf(e, t, n) {
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
function Wf(e, t, n) {
  let r = sn(e), s = sn(t);
  if (r || s || (r = Ln(e), s = Ln(t), r || s))
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
  return r || s ? r && s ? e.getTime() === t.getTime() : !1 : (r = It(e), s = It(t), r || s ? e === t : (r = ae(e), s = ae(t), r || s ? r && s ? hl(e, t, n, Uf) : !1 : (r = Ie(e), s = Ie(t), r || s ? !r || !s ? !1 : hl(e, t, n, Wf) : String(e) === String(t))));
}
function Jf(e, t) {
  return e.findIndex((n) => cn(n, t));
}
const pa = (e) => !!(e && e.__v_isRef === !0), ie = (e) => Le(e) ? e : e == null ? "" : ae(e) || Ie(e) && (e.toString === aa || !Ee(e.toString)) ? pa(e) ? ie(e.value) : JSON.stringify(e, ga, 2) : String(e), ga = (e, t) => pa(t) ? ga(e, t.value) : sn(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [r, s], i) => (n[fi(r, i) + " =>"] = s, n),
    {}
  )
} : Ln(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => fi(n))
} : It(t) ? fi(t) : Ie(t) && !ae(t) && !ua(t) ? String(t) : t, fi = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    It(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let He;
class qf {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && He && (He.active ? (this.parent = He, this.index = (He.scopes || (He.scopes = [])).push(
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
      const n = He;
      try {
        return He = this, t();
      } finally {
        He = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = He, He = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (He === this)
        He = this.prevScope;
      else {
        let t = He;
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
function Hf() {
  return He;
}
let Ce;
const di = /* @__PURE__ */ new WeakSet();
class ma {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, He && (He.active ? He.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, di.has(this) && (di.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || ya(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, pl(this), ba(this);
    const t = Ce, n = wt;
    Ce = this, wt = !0;
    try {
      return this.fn();
    } finally {
      ka(this), Ce = t, wt = n, this.flags &= -3;
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
    this.flags & 64 ? di.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
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
let _a = 0, wr, xr;
function ya(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = xr, xr = e;
    return;
  }
  e.next = wr, wr = e;
}
function ko() {
  _a++;
}
function wo() {
  if (--_a > 0)
    return;
  if (xr) {
    let t = xr;
    for (xr = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; wr; ) {
    let t = wr;
    for (wr = void 0; t; ) {
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
function ba(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function ka(e) {
  let t, n = e.depsTail, r = n;
  for (; r; ) {
    const s = r.prevDep;
    r.version === -1 ? (r === n && (n = s), xo(r), Vf(r)) : t = r, r.dep.activeLink = r.prevActiveLink, r.prevActiveLink = void 0, r = s;
  }
  e.deps = t, e.depsTail = n;
}
function Yi(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (wa(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function wa(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === Tr) || (e.globalVersion = Tr, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !Yi(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = Ce, r = wt;
  Ce = e, wt = !0;
  try {
    ba(e);
    const s = e.fn(e._value);
    (t.version === 0 || Dt(s, e._value)) && (e.flags |= 128, e._value = s, t.version++);
  } catch (s) {
    throw t.version++, s;
  } finally {
    Ce = n, wt = r, ka(e), e.flags &= -3;
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
function Vf(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let wt = !0;
const xa = [];
function an() {
  xa.push(wt), wt = !1;
}
function un() {
  const e = xa.pop();
  wt = e === void 0 ? !0 : e;
}
function pl(e) {
  const { cleanup: t } = e;
  if (e.cleanup = void 0, t) {
    const n = Ce;
    Ce = void 0;
    try {
      t();
    } finally {
      Ce = n;
    }
  }
}
let Tr = 0;
class Gf {
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
    if (!Ce || !wt || Ce === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== Ce)
      n = this.activeLink = new Gf(Ce, this), Ce.deps ? (n.prevDep = Ce.depsTail, Ce.depsTail.nextDep = n, Ce.depsTail = n) : Ce.deps = Ce.depsTail = n, va(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const r = n.nextDep;
      r.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = r), n.prevDep = Ce.depsTail, n.nextDep = void 0, Ce.depsTail.nextDep = n, Ce.depsTail = n, Ce.deps === n && (Ce.deps = r);
    }
    return n;
  }
  trigger(t) {
    this.version++, Tr++, this.notify(t);
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
function va(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let r = t.deps; r; r = r.nextDep)
        va(r);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const Xi = /* @__PURE__ */ new WeakMap(), In = /* @__PURE__ */ Symbol(
  ""
), Zi = /* @__PURE__ */ Symbol(
  ""
), Fr = /* @__PURE__ */ Symbol(
  ""
);
function Xe(e, t, n) {
  if (wt && Ce) {
    let r = Xi.get(e);
    r || Xi.set(e, r = /* @__PURE__ */ new Map());
    let s = r.get(n);
    s || (r.set(n, s = new vo()), s.map = r, s.key = n), s.track();
  }
}
function Wt(e, t, n, r, s, i) {
  const o = Xi.get(e);
  if (!o) {
    Tr++;
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
      o.forEach((f, g) => {
        (g === "length" || g === Fr || !It(g) && g >= u) && l(f);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), a && l(o.get(Fr)), t) {
        case "add":
          c ? a && l(o.get("length")) : (l(o.get(In)), sn(e) && l(o.get(Zi)));
          break;
        case "delete":
          c || (l(o.get(In)), sn(e) && l(o.get(Zi)));
          break;
        case "set":
          sn(e) && l(o.get(In));
          break;
      }
  }
  wo();
}
function Wn(e) {
  const t = /* @__PURE__ */ ke(e);
  return t === e || (Xe(t, "iterate", Fr), /* @__PURE__ */ ht(e)) ? t : /* @__PURE__ */ Ot(e) ? /* @__PURE__ */ on(e) ? t.map((n) => fn(gt(n))) : t.map(fn) : t.map(gt);
}
function js(e) {
  return Xe(e = /* @__PURE__ */ ke(e), "iterate", Fr), e;
}
function Et(e, t) {
  return /* @__PURE__ */ Ot(e) ? fn(/* @__PURE__ */ on(e) ? gt(t) : t) : gt(t);
}
const Kf = {
  __proto__: null,
  [Symbol.iterator]() {
    return hi(this, Symbol.iterator, (e) => Et(this, e));
  },
  concat(...e) {
    return Wn(this).concat(
      ...e.map((t) => ae(t) ? Wn(t) : t)
    );
  },
  entries() {
    return hi(this, "entries", (e) => (e[1] = Et(this, e[1]), e));
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
      (n) => n.map((r) => Et(this, r)),
      arguments
    );
  },
  find(e, t) {
    return jt(
      this,
      "find",
      e,
      t,
      (n) => Et(this, n),
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
      (n) => Et(this, n),
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
    return pi(this, "includes", e);
  },
  indexOf(...e) {
    return pi(this, "indexOf", e);
  },
  join(e) {
    return Wn(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return pi(this, "lastIndexOf", e);
  },
  map(e, t) {
    return jt(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return ur(this, "pop");
  },
  push(...e) {
    return ur(this, "push", e);
  },
  reduce(e, ...t) {
    return ml(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return ml(this, "reduceRight", e, t);
  },
  shift() {
    return ur(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return jt(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return ur(this, "splice", e);
  },
  toReversed() {
    return Wn(this).toReversed();
  },
  toSorted(e) {
    return Wn(this).toSorted(e);
  },
  toSpliced(...e) {
    return Wn(this).toSpliced(...e);
  },
  unshift(...e) {
    return ur(this, "unshift", e);
  },
  values() {
    return hi(this, "values", (e) => Et(this, e));
  }
};
function hi(e, t, n) {
  const r = js(e), s = r[t], i = s.call(r);
  if (r !== e && !/* @__PURE__ */ ht(e)) {
    if (i[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(i));
      return o.next = () => gl(i.next(), n), s !== Aa[t] && Object.defineProperties(o, {
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
const Aa = Array.prototype;
function jt(e, t, n, r, s, i) {
  const o = js(e), l = o !== e && !/* @__PURE__ */ ht(e), c = o[t];
  if (c !== Aa[t]) {
    const f = c.apply(e, i);
    return l ? gt(f) : f;
  }
  let a = n;
  o !== e && (l ? a = function(f, g) {
    return n.call(this, Et(e, f), g, e);
  } : n.length > 2 && (a = function(f, g) {
    return n.call(this, f, g, e);
  }));
  const u = c.call(o, a, r);
  return l && s ? s(u) : u;
}
function ml(e, t, n, r) {
  const s = js(e), i = s !== e && !/* @__PURE__ */ ht(e);
  let o = n, l = !1;
  s !== e && (i ? (l = r.length === 0, o = function(a, u, f) {
    return l && (l = !1, a = Et(e, a)), n.call(this, a, Et(e, u), f, e);
  }) : n.length > 3 && (o = function(a, u, f) {
    return n.call(this, a, u, f, e);
  }));
  const c = s[t](o, ...r);
  return l ? Et(e, c) : c;
}
function pi(e, t, n) {
  const r = /* @__PURE__ */ ke(e);
  Xe(r, "iterate", Fr);
  const s = r[t](...n);
  return (s === -1 || s === !1) && /* @__PURE__ */ Co(n[0]) ? (n[0] = /* @__PURE__ */ ke(n[0]), r[t](...n)) : s;
}
function ur(e, t, n = []) {
  an(), ko();
  const r = (/* @__PURE__ */ ke(e))[t].apply(e, n);
  return wo(), un(), r;
}
const Yf = /* @__PURE__ */ yo("__proto__,__v_isRef,__isVue"), Ra = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(It)
);
function Xf(e) {
  It(e) || (e = String(e));
  const t = /* @__PURE__ */ ke(this);
  return Xe(t, "has", e), t.hasOwnProperty(e);
}
class Ea {
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
      return r === (s ? i ? ld : Ta : i ? Da : Sa).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(r) ? t : void 0;
    const o = ae(t);
    if (!s) {
      let c;
      if (o && (c = Kf[n]))
        return c;
      if (n === "hasOwnProperty")
        return Xf;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ tt(t) ? t : r
    );
    if ((It(n) ? Ra.has(n) : Yf(n)) || (s || Xe(t, "get", n), i))
      return l;
    if (/* @__PURE__ */ tt(l)) {
      const c = o && bo(n) ? l : l.value;
      return s && Ie(c) ? /* @__PURE__ */ eo(c) : c;
    }
    return Ie(l) ? s ? /* @__PURE__ */ eo(l) : /* @__PURE__ */ Ro(l) : l;
  }
}
class Ca extends Ea {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, r, s) {
    let i = t[n];
    const o = ae(t) && bo(n);
    if (!this._isShallow) {
      const a = /* @__PURE__ */ Ot(i);
      if (!/* @__PURE__ */ ht(r) && !/* @__PURE__ */ Ot(r) && (i = /* @__PURE__ */ ke(i), r = /* @__PURE__ */ ke(r)), !o && /* @__PURE__ */ tt(i) && !/* @__PURE__ */ tt(r))
        return a || (i.value = r), !0;
    }
    const l = o ? Number(n) < t.length : xe(t, n), c = Reflect.set(
      t,
      n,
      r,
      /* @__PURE__ */ tt(t) ? t : s
    );
    return t === /* @__PURE__ */ ke(s) && c && (l ? Dt(r, i) && Wt(t, "set", n, r) : Wt(t, "add", n, r)), c;
  }
  deleteProperty(t, n) {
    const r = xe(t, n);
    t[n];
    const s = Reflect.deleteProperty(t, n);
    return s && r && Wt(t, "delete", n, void 0), s;
  }
  has(t, n) {
    const r = Reflect.has(t, n);
    return (!It(n) || !Ra.has(n)) && Xe(t, "has", n), r;
  }
  ownKeys(t) {
    return Xe(
      t,
      "iterate",
      ae(t) ? "length" : In
    ), Reflect.ownKeys(t);
  }
}
class Zf extends Ea {
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
const Qf = /* @__PURE__ */ new Ca(), ed = /* @__PURE__ */ new Zf(), td = /* @__PURE__ */ new Ca(!0);
const Qi = (e) => e, Qr = (e) => Reflect.getPrototypeOf(e);
function nd(e, t, n) {
  return function(...r) {
    const s = this.__v_raw, i = /* @__PURE__ */ ke(s), o = sn(i), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, a = s[e](...r), u = n ? Qi : t ? fn : gt;
    return !t && Xe(
      i,
      "iterate",
      c ? Zi : In
    ), pt(
      // inheriting all iterator properties
      Object.create(a),
      {
        // iterator protocol
        next() {
          const { value: f, done: g } = a.next();
          return g ? { value: f, done: g } : {
            value: l ? [u(f[0]), u(f[1])] : u(f),
            done: g
          };
        }
      }
    );
  };
}
function es(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function rd(e, t) {
  const n = {
    get(s) {
      const i = this.__v_raw, o = /* @__PURE__ */ ke(i), l = /* @__PURE__ */ ke(s);
      e || (Dt(s, l) && Xe(o, "get", s), Xe(o, "get", l));
      const { has: c } = Qr(o), a = t ? Qi : e ? fn : gt;
      if (c.call(o, s))
        return a(i.get(s));
      if (c.call(o, l))
        return a(i.get(l));
      i !== o && i.get(s);
    },
    get size() {
      const s = this.__v_raw;
      return !e && Xe(/* @__PURE__ */ ke(s), "iterate", In), s.size;
    },
    has(s) {
      const i = this.__v_raw, o = /* @__PURE__ */ ke(i), l = /* @__PURE__ */ ke(s);
      return e || (Dt(s, l) && Xe(o, "has", s), Xe(o, "has", l)), s === l ? i.has(s) : i.has(s) || i.has(l);
    },
    forEach(s, i) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ ke(l), a = t ? Qi : e ? fn : gt;
      return !e && Xe(c, "iterate", In), l.forEach((u, f) => s.call(i, a(u), a(f), o));
    }
  };
  return pt(
    n,
    e ? {
      add: es("add"),
      set: es("set"),
      delete: es("delete"),
      clear: es("clear")
    } : {
      add(s) {
        const i = /* @__PURE__ */ ke(this), o = Qr(i), l = /* @__PURE__ */ ke(s), c = !t && !/* @__PURE__ */ ht(s) && !/* @__PURE__ */ Ot(s) ? l : s;
        return o.has.call(i, c) || Dt(s, c) && o.has.call(i, s) || Dt(l, c) && o.has.call(i, l) || (i.add(c), Wt(i, "add", c, c)), this;
      },
      set(s, i) {
        !t && !/* @__PURE__ */ ht(i) && !/* @__PURE__ */ Ot(i) && (i = /* @__PURE__ */ ke(i));
        const o = /* @__PURE__ */ ke(this), { has: l, get: c } = Qr(o);
        let a = l.call(o, s);
        a || (s = /* @__PURE__ */ ke(s), a = l.call(o, s));
        const u = c.call(o, s);
        return o.set(s, i), a ? Dt(i, u) && Wt(o, "set", s, i) : Wt(o, "add", s, i), this;
      },
      delete(s) {
        const i = /* @__PURE__ */ ke(this), { has: o, get: l } = Qr(i);
        let c = o.call(i, s);
        c || (s = /* @__PURE__ */ ke(s), c = o.call(i, s)), l && l.call(i, s);
        const a = i.delete(s);
        return c && Wt(i, "delete", s, void 0), a;
      },
      clear() {
        const s = /* @__PURE__ */ ke(this), i = s.size !== 0, o = s.clear();
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
    n[s] = nd(s, e, t);
  }), n;
}
function Ao(e, t) {
  const n = rd(e, t);
  return (r, s, i) => s === "__v_isReactive" ? !e : s === "__v_isReadonly" ? e : s === "__v_isShallow" ? t : s === "__v_raw" ? r : Reflect.get(
    xe(n, s) && s in r ? n : r,
    s,
    i
  );
}
const sd = {
  get: /* @__PURE__ */ Ao(!1, !1)
}, id = {
  get: /* @__PURE__ */ Ao(!1, !0)
}, od = {
  get: /* @__PURE__ */ Ao(!0, !1)
};
const Sa = /* @__PURE__ */ new WeakMap(), Da = /* @__PURE__ */ new WeakMap(), Ta = /* @__PURE__ */ new WeakMap(), ld = /* @__PURE__ */ new WeakMap();
function cd(e) {
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
  return /* @__PURE__ */ Ot(e) ? e : Eo(
    e,
    !1,
    Qf,
    sd,
    Sa
  );
}
// @__NO_SIDE_EFFECTS__
function ad(e) {
  return Eo(
    e,
    !1,
    td,
    id,
    Da
  );
}
// @__NO_SIDE_EFFECTS__
function eo(e) {
  return Eo(
    e,
    !0,
    ed,
    od,
    Ta
  );
}
function Eo(e, t, n, r, s) {
  if (!Ie(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const i = s.get(e);
  if (i)
    return i;
  const o = cd(Of(e));
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
function Co(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function ke(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ ke(t) : e;
}
function ud(e) {
  return !xe(e, "__v_skip") && Object.isExtensible(e) && da(e, "__v_skip", !0), e;
}
const gt = (e) => Ie(e) ? /* @__PURE__ */ Ro(e) : e, fn = (e) => Ie(e) ? /* @__PURE__ */ eo(e) : e;
// @__NO_SIDE_EFFECTS__
function tt(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function ts(e) {
  return fd(e, !1);
}
function fd(e, t) {
  return /* @__PURE__ */ tt(e) ? e : new dd(e, t);
}
class dd {
  constructor(t, n) {
    this.dep = new vo(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ ke(t), this._value = n ? t : gt(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, r = this.__v_isShallow || /* @__PURE__ */ ht(t) || /* @__PURE__ */ Ot(t);
    t = r ? t : /* @__PURE__ */ ke(t), Dt(t, n) && (this._rawValue = t, this._value = r ? t : gt(t), this.dep.trigger());
  }
}
function G(e) {
  return /* @__PURE__ */ tt(e) ? e.value : e;
}
const hd = {
  get: (e, t, n) => t === "__v_raw" ? e : G(Reflect.get(e, t, n)),
  set: (e, t, n, r) => {
    const s = e[t];
    return /* @__PURE__ */ tt(s) && !/* @__PURE__ */ tt(n) ? (s.value = n, !0) : Reflect.set(e, t, n, r);
  }
};
function Fa(e) {
  return /* @__PURE__ */ on(e) ? e : new Proxy(e, hd);
}
class pd {
  constructor(t, n, r) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new vo(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = Tr - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = r;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    Ce !== this)
      return ya(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return wa(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function gd(e, t, n = !1) {
  let r, s;
  return Ee(e) ? r = e : (r = e.get, s = e.set), new pd(r, s, n);
}
const ns = {}, bs = /* @__PURE__ */ new WeakMap();
let An;
function md(e, t = !1, n = An) {
  if (n) {
    let r = bs.get(n);
    r || bs.set(n, r = []), r.push(e);
  }
}
function _d(e, t, n = Fe) {
  const { immediate: r, deep: s, once: i, scheduler: o, augmentJob: l, call: c } = n, a = (k) => s ? k : /* @__PURE__ */ ht(k) || s === !1 || s === 0 ? Jt(k, 1) : Jt(k);
  let u, f, g, m, h = !1, w = !1;
  if (/* @__PURE__ */ tt(e) ? (f = () => e.value, h = /* @__PURE__ */ ht(e)) : /* @__PURE__ */ on(e) ? (f = () => a(e), h = !0) : ae(e) ? (w = !0, h = e.some((k) => /* @__PURE__ */ on(k) || /* @__PURE__ */ ht(k)), f = () => e.map((k) => {
    if (/* @__PURE__ */ tt(k))
      return k.value;
    if (/* @__PURE__ */ on(k))
      return a(k);
    if (Ee(k))
      return c ? c(k, 2) : k();
  })) : Ee(e) ? t ? f = c ? () => c(e, 2) : e : f = () => {
    if (g) {
      an();
      try {
        g();
      } finally {
        un();
      }
    }
    const k = An;
    An = u;
    try {
      return c ? c(e, 3, [m]) : e(m);
    } finally {
      An = k;
    }
  } : f = Fn, t && s) {
    const k = f, F = s === !0 ? 1 / 0 : s;
    f = () => Jt(k(), F);
  }
  const v = Hf(), T = () => {
    u.stop(), v && v.active && la(v.effects, u);
  };
  if (i && t) {
    const k = t;
    t = (...F) => {
      try {
        return k(...F);
      } finally {
        T();
      }
    };
  }
  let x = w ? new Array(e.length).fill(ns) : ns;
  const b = (k) => {
    if (!(!(u.flags & 1) || !u.dirty && !k))
      if (t) {
        const F = u.run();
        if (k || s || h || (w ? F.some((B, j) => Dt(B, x[j])) : Dt(F, x))) {
          const B = An;
          an();
          try {
            g && g(), An = u;
            const j = [
              F,
              // pass undefined as the old value when it's changed for the first time
              x === ns ? void 0 : w && x[0] === ns ? [] : x,
              m
            ];
            x = F, c ? c(t, 3, j) : (
              // @ts-expect-error
              t(...j)
            );
          } finally {
            An = B, un();
          }
        }
      } else
        u.run();
  };
  return l && l(b), u = new ma(f), u.scheduler = o ? () => o(b, !1) : b, m = (k) => md(k, !1, u), g = u.onStop = () => {
    const k = bs.get(u);
    if (k) {
      if (c)
        c(k, 4);
      else
        for (const F of k) F();
      bs.delete(u);
    }
  }, t ? r ? b(!0) : x = u.run() : o ? o(b.bind(null, !0), !0) : u.run(), T.pause = u.pause.bind(u), T.resume = u.resume.bind(u), T.stop = T, T;
}
function Jt(e, t = 1 / 0, n) {
  if (t <= 0 || !Ie(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ tt(e))
    Jt(e.value, t, n);
  else if (ae(e))
    for (let r = 0; r < e.length; r++)
      Jt(e[r], t, n);
  else if (Ln(e) || sn(e))
    e.forEach((r) => {
      Jt(r, t, n);
    });
  else if (ua(e)) {
    for (const r in e)
      Jt(e[r], t, n);
    for (const r of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, r) && Jt(e[r], t, n);
  }
  return e;
}
function Jr(e, t, n, r) {
  try {
    return r ? e(...r) : e();
  } catch (s) {
    $s(s, t, n);
  }
}
function Gt(e, t, n, r) {
  if (Ee(e)) {
    const s = Jr(e, t, n, r);
    return s && ca(s) && s.catch((i) => {
      $s(i, t, n, void 0, !0);
    }), s;
  }
  if (ae(e)) {
    const s = [];
    for (let i = 0; i < e.length; i++)
      s.push(Gt(e[i], t, n, r));
    return s;
  }
}
function $s(e, t, n, r = !0, s = !1) {
  const i = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || Fe;
  if (t) {
    let c = t.parent;
    const a = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const f = c.ec;
      if (f && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!s || c.scope.active)) {
        for (let g = 0; g < f.length; g++)
          if (f[g](e, a, u) === !1)
            return;
      }
      c = c.parent;
    }
    if (o) {
      an(), Jr(o, null, 10, [
        e,
        a,
        u
      ]), un();
      return;
    }
  }
  yd(e, n, i, r, l);
}
function yd(e, t, n, r = !0, s = !1) {
  if (s)
    throw e;
  console.error(e);
}
const Ze = [];
let bt = -1;
const Ct = [];
let tn = null, Gn = 0;
const Ia = /* @__PURE__ */ Promise.resolve();
let ks = null;
function vr(e) {
  const t = ks || Ia;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function bd(e) {
  let t = bt + 1, n = Ze.length;
  for (; t < n; ) {
    const r = t + n >>> 1, s = Ze[r], i = Ir(s);
    i < e || i === e && s.flags & 2 ? t = r + 1 : n = r;
  }
  return t;
}
function So(e) {
  if (!(e.flags & 1)) {
    const t = Ir(e), n = Ze[Ze.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Ir(n) ? Ze.push(e) : Ze.splice(bd(t), 0, e), e.flags |= 1, Oa();
  }
}
function Oa() {
  ks || (ks = Ia.then(La));
}
function kd(e) {
  if (!ae(e))
    tn && e.id === -1 ? tn.splice(Gn + 1, 0, e) : e.flags & 1 || (Ct.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      Ct.push(e[t]);
  Oa();
}
function Na(e, t, n, r = bt + 1) {
  for (; r < Ze.length; r++) {
    const s = Ze[r];
    if (s && s.flags & 2) {
      if (e && s.id !== e.uid || t !== void 0 && !(s.id >= t))
        continue;
      Ze.splice(r, 1), r = e ? r - 1 : bt, s.flags & 4 && (s.flags &= -2), s(), s.flags & 4 || (s.flags &= -2);
    }
  }
}
function Ma(e, t, n = 0) {
  if (Ct.length) {
    let r = Ct, s = 0;
    if (t) {
      r = [];
      for (let o = 0; o < Ct.length; o++) {
        const l = Ct[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? Ct[s++] = l : r.push(l);
      }
    }
    const i = [...new Set(r)].sort((o, l) => Ir(o) - Ir(l));
    if (Ct.length = s, tn) {
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
let gi = !1;
function wd(e, t) {
  if (gi) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(Ct);
  e(), gi = !0;
  try {
    Na(void 0, t), Ma(void 0, n, t);
  } finally {
    gi = !1;
  }
}
const Ir = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function La(e) {
  try {
    for (bt = 0; bt < Ze.length; bt++) {
      const t = Ze[bt];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), Jr(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; bt < Ze.length; bt++) {
      const t = Ze[bt];
      t && (t.flags &= -2);
    }
    bt = -1, Ze.length = 0, Ma(), ks = null, (Ze.length || Ct.length) && La();
  }
}
let dt = null, Pa = null;
function ws(e) {
  const t = dt;
  return dt = e, Pa = e && e.type.__scopeId || null, t;
}
function xd(e, t = dt, n) {
  if (!t || e._n)
    return e;
  const r = (...s) => {
    r._d && Rl(-1);
    const i = ws(t), o = On.length;
    let l;
    try {
      l = e(...s);
    } finally {
      for (let c = On.length; c > o; c--) Qa();
      ws(i), r._d && Rl(1);
    }
    return l;
  };
  return r._n = !0, r._c = !0, r._d = !0, r;
}
function bn(e, t) {
  if (dt === null)
    return e;
  const n = Ws(dt), r = e.dirs || (e.dirs = []);
  for (let s = 0; s < t.length; s++) {
    let [i, o, l, c = Fe] = t[s];
    i && (Ee(i) && (i = {
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
function kn(e, t, n, r) {
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
function vd(e, t, n = !1) {
  const r = ch();
  if (r || Xn) {
    let s = Xn ? Xn._context.provides : r ? r.parent == null || r.ce ? r.vnode.appContext && r.vnode.appContext.provides : r.parent.provides : void 0;
    if (s && e in s)
      return s[e];
    if (arguments.length > 1)
      return n && Ee(t) ? t.call(r && r.proxy) : t;
  }
}
const Ad = /* @__PURE__ */ Symbol.for("v-scx"), Rd = () => vd(Ad);
function mi(e, t, n) {
  return Ed(e, t, n);
}
function Ed(e, t, n = Fe) {
  const { immediate: r, deep: s, flush: i, once: o } = n, l = pt({}, n), c = t && r || !t && i !== "post";
  let a;
  if (Rs) {
    if (i === "sync") {
      const m = Rd();
      a = m.__watcherHandles || (m.__watcherHandles = []);
    } else if (!c) {
      const m = () => {
      };
      return m.stop = Fn, m.resume = Fn, m.pause = Fn, m;
    }
  }
  const u = nr;
  l.call = (m, h, w) => Gt(m, u, h, w);
  let f = !1;
  i === "post" ? l.scheduler = (m) => {
    m.i = u, Ke(m, u && u.suspense);
  } : i !== "sync" && (f = !0, l.scheduler = (m, h) => {
    h ? m() : So(m);
  }), l.augmentJob = (m) => {
    t && (m.flags |= 4), f && (m.flags |= 2, u && (m.id = u.uid, m.i = u));
  };
  const g = _d(e, t, l);
  return Rs && (a ? a.push(g) : c && g()), g;
}
const en = /* @__PURE__ */ new WeakMap(), ja = /* @__PURE__ */ Symbol("_vte"), Bs = (e) => e.__isTeleport, En = (e) => e && (e.disabled || e.disabled === ""), Cd = (e) => e && (e.defer || e.defer === ""), _l = (e) => typeof SVGElement < "u" && e instanceof SVGElement, yl = (e) => typeof MathMLElement == "function" && e instanceof MathMLElement, to = (e, t) => {
  const n = e && e.to;
  return Le(n) ? t ? t(n) : null : n;
}, Sd = {
  name: "Teleport",
  __isTeleport: !0,
  process(e, t, n, r, s, i, o, l, c, a) {
    const {
      mc: u,
      pc: f,
      pbc: g,
      o: { insert: m, querySelector: h, createText: w, createComment: v, parentNode: T }
    } = a, x = En(t.props);
    let { dynamicChildren: b } = t;
    const k = (j, ee, X) => {
      j.shapeFlag & 16 && u(
        j.children,
        ee,
        X,
        s,
        i,
        o,
        l,
        c
      );
    }, F = (j = t) => {
      const ee = En(j.props), X = j.target = to(j.props, h), ue = no(X, j, w, m);
      X && (o !== "svg" && _l(X) ? o = "svg" : o !== "mathml" && yl(X) && (o = "mathml"), s && s.isCE && (s.ce._teleportTargets || (s.ce._teleportTargets = /* @__PURE__ */ new Set())).add(X), ee || (k(j, X, ue), _r(j, !1)));
    }, B = (j) => {
      const ee = () => {
        if (en.get(j) === ee) {
          if (en.delete(j), En(j.props)) {
            const X = T(j.el) || n;
            k(j, X, j.anchor), _r(j, !0);
          }
          F(j);
        }
      };
      en.set(j, ee), Ke(ee, i);
    };
    if (e == null) {
      const j = t.el = w(""), ee = t.anchor = w("");
      if (m(j, n, r), m(ee, n, r), Cd(t.props) || i && i.pendingBranch) {
        B(t);
        return;
      }
      x && (k(t, n, ee), _r(t, !0)), F();
    } else {
      t.el = e.el;
      const j = t.anchor = e.anchor, ee = en.get(e);
      if (ee) {
        ee.flags |= 8, en.delete(e), B(t);
        return;
      }
      t.targetStart = e.targetStart;
      const X = t.target = e.target, ue = t.targetAnchor = e.targetAnchor, ne = En(e.props), de = ne ? n : X, De = ne ? j : ue;
      if (o === "svg" || _l(X) ? o = "svg" : (o === "mathml" || yl(X)) && (o = "mathml"), b ? (g(
        e.dynamicChildren,
        b,
        de,
        s,
        i,
        o,
        l
      ), Fo(e, t, !0)) : c || f(
        e,
        t,
        de,
        De,
        s,
        i,
        o,
        l,
        !1
      ), x)
        ne ? t.props && e.props && t.props.to !== e.props.to && (t.props.to = e.props.to) : rs(
          t,
          n,
          j,
          a,
          1
        );
      else if ((t.props && t.props.to) !== (e.props && e.props.to)) {
        const we = to(t.props, h);
        we && (t.target = we, rs(
          t,
          we,
          null,
          a,
          0
        ));
      } else ne && rs(
        t,
        X,
        ue,
        a,
        1
      );
      _r(t, x);
    }
  },
  remove(e, t, n, { um: r, o: { remove: s } }, i) {
    const {
      shapeFlag: o,
      children: l,
      anchor: c,
      targetStart: a,
      targetAnchor: u,
      target: f,
      props: g
    } = e, m = En(g), h = i || !m, w = en.get(e);
    if (w && (w.flags |= 8, en.delete(e)), f && (s(a), s(u)), i && s(c), !w && (m || f) && o & 16)
      for (let v = 0; v < l.length; v++) {
        const T = l[v];
        r(
          T,
          t,
          n,
          h,
          !!T.dynamicChildren
        );
      }
  },
  move: rs,
  hydrate: Dd
};
function rs(e, t, n, { o: { insert: r }, m: s }, i = 2) {
  i === 0 && (e.targetStart && r(e.targetStart, t, n), r(e.targetAnchor, t, n), n = e.targetAnchor);
  const { el: o, anchor: l, shapeFlag: c, children: a, props: u } = e, f = i === 2;
  if (f && r(o, t, n), !en.has(e) && (!f || En(u)) && c & 16)
    for (let g = 0; g < a.length; g++)
      s(
        a[g],
        t,
        n,
        2
      );
  f && r(l, t, n);
}
function Dd(e, t, n, r, s, i, {
  o: { nextSibling: o, parentNode: l, querySelector: c, insert: a, createText: u }
}, f) {
  function g(v, T) {
    let x = T;
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
  function m(v, T) {
    T.anchor = f(
      o(v),
      T,
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
    t.shapeFlag & 16 && (w ? (m(e, t), g(h, v), t.targetAnchor || no(
      h,
      t,
      u,
      a,
      // if target is the same as the main view, insert anchors before current node
      // to avoid hydrating mismatch
      l(e) === h ? e : null
    )) : (t.anchor = o(e), g(h, v), t.targetAnchor || no(h, t, u, a), f(
      v && o(v),
      t,
      h,
      n,
      r,
      s,
      i
    ))), _r(t, w);
  } else w && t.shapeFlag & 16 && (m(e, t), t.targetStart = e, t.targetAnchor = o(e));
  return t.anchor && o(t.anchor);
}
const Td = Sd;
function _r(e, t) {
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
  return i[ja] = o, e && (r(i, e, s), r(o, e, s)), o;
}
const _i = /* @__PURE__ */ Symbol("_leaveCb");
function Fd(e) {
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
function $a(e) {
  if (!Ba(e))
    return Bs(e.type) && e.children ? Fd(e.children) : e;
  if (e.component)
    return e.component.subTree;
  const { shapeFlag: t, children: n } = e;
  if (n) {
    if (t & 16)
      return n[0];
    if (t & 32 && Ee(n.default))
      return n.default();
  }
}
function Ar(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    Ar(
      Bs(n.type) && $a(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const r = n.isHydrating ? n.pendingBranch : n.activeBranch;
      r && Ar(r, t.clone(r));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === oe && ae(e.children)) {
    const n = Ua(e.children, !1);
    n && Ar(n, t);
  }
}
function ro(e) {
  if (e.component)
    return ro(e.component.subTree);
  if (e.type === oe) {
    const t = ae(e.children) && Ua(e.children, !1);
    return t ? ro(t) : void 0;
  }
  if (e.type !== xt)
    return e;
}
function Id(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function bl(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const xs = /* @__PURE__ */ new WeakMap();
function Rr(e, t, n, r, s = !1) {
  if (ae(e)) {
    e.forEach(
      (w, v) => Rr(
        w,
        t && (ae(t) ? t[v] : t),
        n,
        r,
        s
      )
    );
    return;
  }
  if (Er(r) && !s) {
    r.shapeFlag & 512 && r.type.__asyncResolved && r.component.subTree.component && Rr(e, t, n, r.component.subTree);
    return;
  }
  const i = r.shapeFlag & 4 ? Ws(r.component) : r.el, o = s ? null : i, { i: l, r: c } = e, a = t && t.r, u = l.refs === Fe ? l.refs = {} : l.refs, f = l.setupState, g = /* @__PURE__ */ ke(f), m = f === Fe ? oa : (w) => bl(u, w) ? !1 : xe(g, w), h = (w, v) => !(v && bl(u, v));
  if (a != null && a !== c) {
    if (kl(t), Le(a))
      u[a] = null, m(a) && (f[a] = null);
    else if (/* @__PURE__ */ tt(a)) {
      const w = t;
      h(a, w.k) && (a.value = null), w.k && (u[w.k] = null);
    }
  }
  if (Ee(c))
    Jr(c, l, 12, [o, u]);
  else {
    const w = Le(c), v = /* @__PURE__ */ tt(c);
    if (w || v) {
      const T = () => {
        if (e.f) {
          const x = w ? m(c) ? f[c] : u[c] : h() || !e.k ? c.value : u[e.k];
          if (s)
            ae(x) && la(x, i);
          else if (ae(x))
            x.includes(i) || x.push(i);
          else if (w)
            u[c] = [i], m(c) && (f[c] = u[c]);
          else {
            const b = [i];
            h(c, e.k) && (c.value = b), e.k && (u[e.k] = b);
          }
        } else w ? (u[c] = o, m(c) && (f[c] = o)) : v && (h(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const x = () => {
          T(), xs.delete(e);
        };
        x.id = -1, xs.set(e, x), Ke(x, n);
      } else
        kl(e), T();
    }
  }
}
function kl(e) {
  const t = xs.get(e);
  t && (t.flags |= 8, xs.delete(e));
}
Ps().requestIdleCallback;
Ps().cancelIdleCallback;
const Er = (e) => !!e.type.__asyncLoader, Ba = (e) => e.type.__isKeepAlive, Od = /* @__PURE__ */ Symbol.for("v-ndc");
function Ge(e, t, n, r) {
  let s;
  const i = n, o = ae(e);
  if (o || Le(e)) {
    const l = o && /* @__PURE__ */ on(e);
    let c = !1, a = !1;
    l && (c = !/* @__PURE__ */ ht(e), a = /* @__PURE__ */ Ot(e), e = js(e)), s = new Array(e.length);
    for (let u = 0, f = e.length; u < f; u++)
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
  else if (Ie(e))
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
const so = (e) => e ? su(e) ? Ws(e) : so(e.parent) : null, Cr = (
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
    $nextTick: (e) => e.n || (e.n = vr.bind(e.proxy)),
    $watch: (e) => Fn
  })
), yi = (e, t) => e !== Fe && !e.__isScriptSetup && xe(e, t), Nd = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: r, data: s, props: i, accessCache: o, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const g = o[t];
      if (g !== void 0)
        switch (g) {
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
        if (yi(r, t))
          return o[t] = 1, r[t];
        if (xe(i, t))
          return o[t] = 3, i[t];
        if (n !== Fe && xe(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const a = Cr[t];
    let u, f;
    if (a)
      return t === "$attrs" && Xe(e.attrs, "get", ""), a(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== Fe && xe(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      f = c.config.globalProperties, xe(f, t)
    )
      return f[t];
  },
  set({ _: e }, t, n) {
    const { data: r, setupState: s, ctx: i } = e;
    return yi(s, t) ? (s[t] = n, !0) : xe(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (i[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: r, appContext: s, props: i, type: o }
  }, l) {
    let c;
    return !!(n[l] || yi(t, l) || xe(i, l) || xe(r, l) || xe(Cr, l) || xe(s.config.globalProperties, l) || (c = o.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : xe(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function za() {
  return {
    app: null,
    config: {
      isNativeTag: oa,
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
let Md = 0;
function Ld(e, t) {
  return function(r, s = null) {
    Ee(r) || (r = pt({}, r)), s != null && !Ie(s) && (s = null);
    const i = za(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const a = i.app = {
      _uid: Md++,
      _component: r,
      _props: s,
      _container: null,
      _context: i,
      _instance: null,
      version: ph,
      get config() {
        return i.config;
      },
      set config(u) {
      },
      use(u, ...f) {
        return o.has(u) || (u && Ee(u.install) ? (o.add(u), u.install(a, ...f)) : Ee(u) && (o.add(u), u(a, ...f))), a;
      },
      mixin(u) {
        return a;
      },
      component(u, f) {
        return f ? (i.components[u] = f, a) : i.components[u];
      },
      directive(u, f) {
        return f ? (i.directives[u] = f, a) : i.directives[u];
      },
      mount(u, f, g) {
        if (!c) {
          const m = a._ceVNode || Ht(r, s);
          return m.appContext = i, g === !0 ? g = "svg" : g === !1 && (g = void 0), e(m, u, g), c = !0, a._container = u, u.__vue_app__ = a, Ws(m.component);
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
      provide(u, f) {
        return i.provides[u] = f, a;
      },
      runWithContext(u) {
        const f = Xn;
        Xn = a;
        try {
          return u();
        } finally {
          Xn = f;
        }
      }
    };
    return a;
  };
}
let Xn = null;
const Pd = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${kt(t)}Modifiers`] || e[`${Pn(t)}Modifiers`];
function jd(e, t, ...n) {
  if (e.isUnmounted) return;
  const r = e.vnode.props || Fe;
  let s = n;
  const i = t.startsWith("update:"), o = i && Pd(r, t.slice(7));
  o && (o.trim && (s = n.map((u) => Le(u) ? u.trim() : u)), o.number && (s = s.map(Wr)));
  let l, c = r[l = ui(t)] || // also try camelCase event handler (#2249)
  r[l = ui(kt(t))];
  !c && i && (c = r[l = ui(Pn(t))]), c && Gt(
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
function $d(e, t, n = !1) {
  const r = t.emitsCache, s = r.get(e);
  if (s !== void 0)
    return s;
  const i = e.emits;
  let o = {};
  return i ? (ae(i) ? i.forEach((l) => o[l] = null) : pt(o, i), Ie(e) && r.set(e, o), o) : (Ie(e) && r.set(e, null), null);
}
function zs(e, t) {
  return !e || !Ns(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), xe(e, t[0].toLowerCase() + t.slice(1)) || xe(e, Pn(t)) || xe(e, t));
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
    props: f,
    data: g,
    setupState: m,
    ctx: h,
    inheritAttrs: w
  } = e, v = ws(e);
  let T, x;
  try {
    if (n.shapeFlag & 4) {
      const k = s || r, F = k;
      T = St(
        a.call(
          F,
          k,
          u,
          f,
          m,
          g,
          h
        )
      ), x = l;
    } else {
      const k = t;
      T = St(
        k.length > 1 ? k(
          f,
          { attrs: l, slots: o, emit: c }
        ) : k(
          f,
          null
        )
      ), x = t.props ? l : Bd(l);
    }
  } catch (k) {
    On.length = 0, $s(k, e, 1), T = Ht(xt);
  }
  let b = T;
  if (x && w !== !1) {
    const k = Object.keys(x), { shapeFlag: F } = b;
    k.length && F & 7 && (i && k.some(Ms) && (x = zd(
      x,
      i
    )), b = tr(b, x, !1, !0));
  }
  if (n.dirs && (b = tr(b, null, !1, !0), b.dirs = b.dirs ? b.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const k = Bs(b.type) && $a(b) || b;
    Ar(k, n.transition);
  }
  return T = b, ws(v), T;
}
function Ua(e, t = !0) {
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
const Bd = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || Ns(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, zd = (e, t) => {
  const n = {};
  for (const r in e)
    (!Ms(r) || !(r.slice(9) in t)) && (n[r] = e[r]);
  return n;
};
function Ud(e, t, n) {
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
      for (let f = 0; f < u.length; f++) {
        const g = u[f];
        if (Wa(o, r, g) && !zs(a, g))
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
    if (!xe(e, i) || Wa(t, e, i) && !zs(n, i))
      return !0;
  }
  return !1;
}
function Wa(e, t, n) {
  const r = e[n], s = t[n];
  return n === "style" && Ie(r) && Ie(s) ? !cn(r, s) : r !== s;
}
function Wd({ vnode: e, parent: t, suspense: n }, r) {
  for (; t; ) {
    const s = t.subTree;
    if (s.suspense && s.suspense.activeBranch === e && (s.suspense.vnode.el = s.el = r, e = s), s === e)
      (e = t.vnode).el = r, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = r);
}
const Ja = {}, qa = () => Object.create(Ja), Ha = (e) => Object.getPrototypeOf(e) === Ja;
function Jd(e, t, n, r = !1) {
  const s = {}, i = qa();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), Va(e, t, s, i);
  for (const o in e.propsOptions[0])
    o in s || (s[o] = void 0);
  n ? e.props = r ? s : /* @__PURE__ */ ad(s) : e.type.props ? e.props = s : e.props = i, e.attrs = i;
}
function qd(e, t, n, r) {
  const {
    props: s,
    attrs: i,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ ke(s), [c] = e.propsOptions;
  let a = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (r || o > 0) && !(o & 16)
  ) {
    if (o & 8) {
      const u = e.vnode.dynamicProps;
      for (let f = 0; f < u.length; f++) {
        let g = u[f];
        if (zs(e.emitsOptions, g))
          continue;
        const m = t[g];
        if (c)
          if (xe(i, g))
            m !== i[g] && (i[g] = m, a = !0);
          else {
            const h = kt(g);
            s[h] = io(
              c,
              l,
              h,
              m,
              e,
              !1
            );
          }
        else
          m !== i[g] && (i[g] = m, a = !0);
      }
    }
  } else {
    Va(e, t, s, i) && (a = !0);
    let u;
    for (const f in l)
      (!t || // for camelCase
      !xe(t, f) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = Pn(f)) === f || !xe(t, u))) && (c ? n && // for camelCase
      (n[f] !== void 0 || // for kebab-case
      n[u] !== void 0) && (s[f] = io(
        c,
        l,
        f,
        void 0,
        e,
        !0
      )) : delete s[f]);
    if (i !== l)
      for (const f in i)
        (!t || !xe(t, f)) && (delete i[f], a = !0);
  }
  a && Wt(e.attrs, "set", "");
}
function Va(e, t, n, r) {
  const [s, i] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let c in t) {
      if (kr(c))
        continue;
      const a = t[c];
      let u;
      s && xe(s, u = kt(c)) ? !i || !i.includes(u) ? n[u] = a : (l || (l = {}))[u] = a : zs(e.emitsOptions, c) || (!(c in r) || a !== r[c]) && (r[c] = a, o = !0);
    }
  if (i) {
    const c = /* @__PURE__ */ ke(n), a = l || Fe;
    for (let u = 0; u < i.length; u++) {
      const f = i[u];
      n[f] = io(
        s,
        c,
        f,
        a[f],
        e,
        !xe(a, f)
      );
    }
  }
  return o;
}
function io(e, t, n, r, s, i) {
  const o = e[n];
  if (o != null) {
    const l = xe(o, "default");
    if (l && r === void 0) {
      const c = o.default;
      if (o.type !== Function && !o.skipFactory && Ee(c)) {
        const { propsDefaults: a } = s;
        if (n in a)
          r = a[n];
        else {
          const u = ru(s);
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
    ] && (r === "" || r === Pn(n)) && (r = !0));
  }
  return r;
}
function Hd(e, t, n = !1) {
  const r = t.propsCache, s = r.get(e);
  if (s)
    return s;
  const i = e.props, o = {}, l = [];
  if (!i)
    return Ie(e) && r.set(e, Sn), Sn;
  if (ae(i))
    for (let a = 0; a < i.length; a++) {
      const u = kt(i[a]);
      vl(u) && (o[u] = Fe);
    }
  else if (i)
    for (const a in i) {
      const u = kt(a);
      if (vl(u)) {
        const f = i[a], g = o[u] = ae(f) || Ee(f) ? { type: f } : pt({}, f), m = g.type;
        let h = !1, w = !0;
        if (ae(m))
          for (let v = 0; v < m.length; ++v) {
            const T = m[v], x = Ee(T) && T.name;
            if (x === "Boolean") {
              h = !0;
              break;
            } else x === "String" && (w = !1);
          }
        else
          h = Ee(m) && m.name === "Boolean";
        g[
          0
          /* shouldCast */
        ] = h, g[
          1
          /* shouldCastTrue */
        ] = w, (h || xe(g, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return Ie(e) && r.set(e, c), c;
}
function vl(e) {
  return e[0] !== "$" && !kr(e);
}
const Do = (e) => e === "_" || e === "_ctx" || e === "$stable", To = (e) => ae(e) ? e.map(St) : [St(e)], Vd = (e, t, n) => {
  if (t._n)
    return t;
  const r = xd((...s) => To(t(...s)), n);
  return r._c = !1, r;
}, Ga = (e, t, n) => {
  const r = e._ctx;
  for (const s in e) {
    if (Do(s)) continue;
    const i = e[s];
    if (Ee(i))
      t[s] = Vd(s, i, r);
    else if (i != null) {
      const o = To(i);
      t[s] = () => o;
    }
  }
}, Ka = (e, t) => {
  const n = To(t);
  e.slots.default = () => n;
}, Ya = (e, t, n) => {
  for (const r in t)
    (n || !Do(r)) && (e[r] = t[r]);
}, Gd = (e, t, n) => {
  const r = e.slots = qa();
  if (e.vnode.shapeFlag & 32) {
    const s = t._;
    s ? (Ya(r, t, n), n && da(r, "_", s, !0)) : Ga(t, r);
  } else t && Ka(e, t);
}, Kd = (e, t, n) => {
  const { vnode: r, slots: s } = e;
  let i = !0, o = Fe;
  if (r.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? i = !1 : Ya(s, t, n) : (i = !t.$stable, Ga(t, s)), o = t;
  } else t && (Ka(e, t), o = { default: 1 });
  if (i)
    for (const l in s)
      !Do(l) && o[l] == null && delete s[l];
}, Ke = th;
function Yd(e) {
  return Xd(e);
}
function Xd(e, t) {
  const n = Ps();
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
    parentNode: f,
    nextSibling: g,
    setScopeId: m = Fn,
    insertStaticContent: h
  } = e, w = (p, _, A, P = null, S = null, I = null, M = void 0, $ = null, N = !!_.dynamicChildren) => {
    if (p === _)
      return;
    p && !fr(p, _) && (P = Ae(p), R(p, S, I, !0), p = null), _.patchFlag === -2 && (N = !1, _.dynamicChildren = null), _.dynamicChildren && p && p.dynamicChildren && p.dynamicChildren.hasOnce && (_.dynamicChildren === Sn && (_.dynamicChildren = []), _.dynamicChildren.hasOnce = !0);
    const { type: D, ref: V, shapeFlag: z } = _;
    switch (D) {
      case Us:
        v(p, _, A, P);
        break;
      case xt:
        T(p, _, A, P);
        break;
      case ki:
        p == null && x(_, A, P, M);
        break;
      case oe:
        de(
          p,
          _,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        );
        break;
      default:
        z & 1 ? F(
          p,
          _,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        ) : z & 6 ? De(
          p,
          _,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        ) : (z & 64 || z & 128) && D.process(
          p,
          _,
          A,
          P,
          S,
          I,
          M,
          $,
          N,
          pn
        );
    }
    V != null && S ? Rr(V, p && p.ref, I, _ || p, !_) : V == null && p && p.ref != null && Rr(p.ref, null, I, p, !0);
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
  }, T = (p, _, A, P) => {
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
  }, b = ({ el: p, anchor: _ }, A, P) => {
    let S;
    for (; p && p !== _; )
      S = g(p), r(p, A, P), p = S;
    r(_, A, P);
  }, k = ({ el: p, anchor: _ }) => {
    let A;
    for (; p && p !== _; )
      A = g(p), s(p), p = A;
    s(_);
  }, F = (p, _, A, P, S, I, M, $, N) => {
    if (_.type === "svg" ? M = "svg" : _.type === "math" && (M = "mathml"), p == null)
      B(
        _,
        A,
        P,
        S,
        I,
        M,
        $,
        N
      );
    else {
      const D = p.el && p.el._isVueCE ? p.el : null;
      try {
        D && D._beginPatch(), X(
          p,
          _,
          S,
          I,
          M,
          $,
          N
        );
      } finally {
        D && D._endPatch();
      }
    }
  }, B = (p, _, A, P, S, I, M, $) => {
    let N, D;
    const { props: V, shapeFlag: z, transition: Z, dirs: te } = p;
    if (N = p.el = o(
      p.type,
      I,
      V && V.is,
      V
    ), z & 8 ? u(N, p.children) : z & 16 && ee(
      p.children,
      N,
      null,
      P,
      S,
      bi(p, I),
      M,
      $
    ), te && kn(p, null, P, "created"), j(N, p, p.scopeId, M, P), V) {
      for (const _e in V)
        _e !== "value" && !kr(_e) && i(N, _e, null, V[_e], I, P);
      "value" in V && i(N, "value", null, V.value, I), (D = V.onVnodeBeforeMount) && Rt(D, P, p);
    }
    te && kn(p, null, P, "beforeMount");
    const he = Zd(S, Z);
    he ? Z.beforeEnter(N) : Z && !Z.persisted && (N[eh] = !0), r(N, _, A), ((D = V && V.onVnodeMounted) || he || te) && Ke(() => {
      D && Rt(D, P, p), he && Z.enter(N), te && kn(p, null, P, "mounted");
    }, S);
  }, j = (p, _, A, P, S) => {
    if (A && m(p, A), P)
      for (let I = 0; I < P.length; I++)
        m(p, P[I]);
    if (S) {
      let I = S.subTree;
      if (_ === I || Za(I.type) && (I.ssContent === _ || I.ssFallback === _)) {
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
  }, ee = (p, _, A, P, S, I, M, $, N = 0) => {
    for (let D = N; D < p.length; D++) {
      const V = p[D] = $ ? Ut(p[D]) : St(p[D]);
      w(
        null,
        V,
        _,
        A,
        P,
        S,
        I,
        M,
        $
      );
    }
  }, X = (p, _, A, P, S, I, M) => {
    const $ = _.el = p.el;
    let { patchFlag: N, dynamicChildren: D, dirs: V } = _;
    N |= p.patchFlag & 16;
    const z = p.props || Fe, Z = _.props || Fe;
    let te;
    if (A && wn(A, !1), (te = Z.onVnodeBeforeUpdate) && Rt(te, A, _, p), V && kn(_, p, A, "beforeUpdate"), A && wn(A, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    D && (!p.dynamicChildren || p.dynamicChildren.length !== D.length) && (N = 0, M = !1, D = null), (z.innerHTML && Z.innerHTML == null || z.textContent && Z.textContent == null) && u($, ""), D ? ue(
      p.dynamicChildren,
      D,
      $,
      A,
      P,
      bi(_, S),
      I
    ) : M || se(
      p,
      _,
      $,
      null,
      A,
      P,
      bi(_, S),
      I,
      !1
    ), N > 0) {
      if (N & 16)
        ne($, z, Z, A, S);
      else if (N & 2 && z.class !== Z.class && i($, "class", null, Z.class, S), N & 4 && i($, "style", z.style, Z.style, S), N & 8) {
        const he = _.dynamicProps;
        for (let _e = 0; _e < he.length; _e++) {
          const ye = he[_e], Te = z[ye], Re = Z[ye];
          (Re !== Te || ye === "value") && i($, ye, Te, Re, S, A);
        }
      }
      N & 1 && p.children !== _.children && u($, _.children);
    } else !M && D == null && ne($, z, Z, A, S);
    ((te = Z.onVnodeUpdated) || V) && Ke(() => {
      te && Rt(te, A, _, p), V && kn(_, p, A, "updated");
    }, P);
  }, ue = (p, _, A, P, S, I, M) => {
    for (let $ = 0; $ < _.length; $++) {
      const N = p[$], D = _[$], V = N.el || Sr(N), z = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        V && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (N.type === oe || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !fr(N, D) || // - In the case of a component, it could contain anything.
        N.shapeFlag & 198) ? f(V) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          A
        )
      );
      w(
        N,
        D,
        z,
        null,
        P,
        S,
        I,
        M,
        !0
      );
    }
  }, ne = (p, _, A, P, S) => {
    if (_ !== A) {
      if (_ !== Fe)
        for (const I in _)
          !kr(I) && !(I in A) && i(
            p,
            I,
            _[I],
            null,
            S,
            P
          );
      for (const I in A) {
        if (kr(I)) continue;
        const M = A[I], $ = _[I];
        M !== $ && I !== "value" && i(p, I, $, M, S, P);
      }
      "value" in A && i(p, "value", _.value, A.value, S);
    }
  }, de = (p, _, A, P, S, I, M, $, N) => {
    const D = _.el = p ? p.el : l(""), V = _.anchor = p ? p.anchor : l("");
    let { patchFlag: z, dynamicChildren: Z, slotScopeIds: te } = _;
    te && ($ = $ ? $.concat(te) : te), p == null ? (r(D, A, P), r(V, A, P), ee(
      // #10007
      // such fragment like `<></>` will be compiled into
      // a fragment which doesn't have a children.
      // In this case fallback to an empty array
      _.children || [],
      A,
      V,
      S,
      I,
      M,
      $,
      N
    )) : z > 0 && z & 64 && Z && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    p.dynamicChildren && p.dynamicChildren.length === Z.length ? (ue(
      p.dynamicChildren,
      Z,
      A,
      S,
      I,
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
    )) : se(
      p,
      _,
      A,
      V,
      S,
      I,
      M,
      $,
      N
    );
  }, De = (p, _, A, P, S, I, M, $, N) => {
    _.slotScopeIds = $, p == null ? _.shapeFlag & 512 ? S.ctx.activate(
      _,
      A,
      P,
      M,
      N
    ) : we(
      _,
      A,
      P,
      S,
      I,
      M,
      N
    ) : ve(p, _, N);
  }, we = (p, _, A, P, S, I, M) => {
    const $ = p.component = lh(
      p,
      P,
      S
    );
    if (Ba(p) && ($.ctx.renderer = pn), ah($, !1, M), $.asyncDep) {
      if (S && S.registerDep(
        $,
        at,
        M,
        I
      ), !p.el) {
        const N = $.subTree = Ht(xt);
        T(null, N, _, A), p.placeholder = N.el;
      }
    } else
      at(
        $,
        p,
        _,
        A,
        S,
        I,
        M
      );
  }, ve = (p, _, A) => {
    const P = _.component = p.component;
    if (Ud(p, _, A))
      if (P.asyncDep && !P.asyncResolved) {
        _.el = p.el, _.placeholder = p.placeholder, W(P, _, A);
        return;
      } else
        P.next = _, P.update();
    else
      _.el = p.el, _.placeholder = p.placeholder, P.vnode = _;
  }, at = (p, _, A, P, S, I, M) => {
    const $ = () => {
      if (p.isMounted) {
        let { next: z, bu: Z, u: te, parent: he, vnode: _e } = p;
        {
          const Be = Xa(p);
          if (Be) {
            z && (z.el = _e.el, W(p, z, M)), Be.asyncDep.then(() => {
              const ot = () => {
                p.job.flags & 8 || (S && S.pendingBranch ? Ke(ot, S) : D());
              };
              ot.flags = 48, Ke(ot, S);
            });
            return;
          }
        }
        let ye = z, Te;
        wn(p, !1), z ? (z.el = _e.el, W(p, z, M)) : z = _e, Z && hs(Z), (Te = z.props && z.props.onVnodeBeforeUpdate) && Rt(Te, he, z, _e), wn(p, !0);
        const Re = wl(p), je = p.subTree;
        p.subTree = Re, w(
          je,
          Re,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          f(
            je.el || Sr(je)
          ),
          // anchor may have changed if it's in a fragment
          Ae(je),
          p,
          S,
          I
        ), z.el = Re.el, ye === null && Wd(p, Re.el), te && Ke(te, S), (Te = z.props && z.props.onVnodeUpdated) && Ke(
          () => Rt(Te, he, z, _e),
          S
        );
      } else {
        let z;
        const { el: Z, props: te } = _, { bm: he, m: _e, parent: ye, root: Te, type: Re } = p, je = Er(_);
        wn(p, !1), he && hs(he), !je && (z = te && te.onVnodeBeforeMount) && Rt(z, ye, _), wn(p, !0);
        {
          Te.ce && Te.ce._hasShadowRoot() && Te.ce._injectChildStyle(
            Re,
            p.parent ? p.parent.type : void 0
          );
          const Be = p.subTree = wl(p);
          w(
            null,
            Be,
            A,
            P,
            p,
            S,
            I
          ), _.el = Be.el;
        }
        if (_e && Ke(_e, S), !je && (z = te && te.onVnodeMounted)) {
          const Be = _;
          Ke(
            () => Rt(z, ye, Be),
            S
          );
        }
        (_.shapeFlag & 256 || ye && Er(ye.vnode) && ye.vnode.shapeFlag & 256) && p.a && Ke(p.a, S), p.isMounted = !0, _ = A = P = null;
      }
    };
    p.scope.on();
    const N = p.effect = new ma($);
    p.scope.off();
    const D = p.update = N.run.bind(N), V = p.job = N.runIfDirty.bind(N);
    V.i = p, V.id = p.uid, N.scheduler = () => So(V), wn(p, !0), D();
  }, W = (p, _, A) => {
    _.component = p;
    const P = p.vnode.props;
    p.vnode = _, p.next = null, qd(p, _.props, P, A), Kd(p, _.children, A), an(), Na(p), un();
  }, se = (p, _, A, P, S, I, M, $, N = !1) => {
    const D = p && p.children, V = p ? p.shapeFlag : 0, z = _.children, { patchFlag: Z, shapeFlag: te } = _;
    if (Z > 0) {
      if (Z & 128) {
        me(
          D,
          z,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        );
        return;
      } else if (Z & 256) {
        le(
          D,
          z,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        );
        return;
      }
    }
    te & 8 ? (V & 16 && hn(D, S, I), z !== D && u(A, z)) : V & 16 ? te & 16 ? me(
      D,
      z,
      A,
      P,
      S,
      I,
      M,
      $,
      N
    ) : hn(D, S, I, !0) : (V & 8 && u(A, ""), te & 16 && ee(
      z,
      A,
      P,
      S,
      I,
      M,
      $,
      N
    ));
  }, le = (p, _, A, P, S, I, M, $, N) => {
    p = p || Sn, _ = _ || Sn;
    const D = p.length, V = _.length, z = Math.min(D, V);
    let Z;
    for (Z = 0; Z < z; Z++) {
      const te = _[Z] = N ? Ut(_[Z]) : St(_[Z]);
      w(
        p[Z],
        te,
        A,
        null,
        S,
        I,
        M,
        $,
        N
      );
    }
    D > V ? hn(
      p,
      S,
      I,
      !0,
      !1,
      z
    ) : ee(
      _,
      A,
      P,
      S,
      I,
      M,
      $,
      N,
      z
    );
  }, me = (p, _, A, P, S, I, M, $, N) => {
    let D = 0;
    const V = _.length;
    let z = p.length - 1, Z = V - 1;
    for (; D <= z && D <= Z; ) {
      const te = p[D], he = _[D] = N ? Ut(_[D]) : St(_[D]);
      if (fr(te, he))
        w(
          te,
          he,
          A,
          null,
          S,
          I,
          M,
          $,
          N
        );
      else
        break;
      D++;
    }
    for (; D <= z && D <= Z; ) {
      const te = p[z], he = _[Z] = N ? Ut(_[Z]) : St(_[Z]);
      if (fr(te, he))
        w(
          te,
          he,
          A,
          null,
          S,
          I,
          M,
          $,
          N
        );
      else
        break;
      z--, Z--;
    }
    if (D > z) {
      if (D <= Z) {
        const te = Z + 1, he = te < V ? _[te].el : P;
        for (; D <= Z; )
          w(
            null,
            _[D] = N ? Ut(_[D]) : St(_[D]),
            A,
            he,
            S,
            I,
            M,
            $,
            N
          ), D++;
      }
    } else if (D > Z)
      for (; D <= z; )
        R(p[D], S, I, !0), D++;
    else {
      const te = D, he = D, _e = /* @__PURE__ */ new Map();
      for (D = he; D <= Z; D++) {
        const ze = _[D] = N ? Ut(_[D]) : St(_[D]);
        ze.key != null && _e.set(ze.key, D);
      }
      let ye, Te = 0;
      const Re = Z - he + 1;
      let je = !1, Be = 0;
      const ot = new Array(Re);
      for (D = 0; D < Re; D++) ot[D] = 0;
      for (D = te; D <= z; D++) {
        const ze = p[D];
        if (Te >= Re) {
          R(ze, S, I, !0);
          continue;
        }
        let nt;
        if (ze.key != null)
          nt = _e.get(ze.key);
        else
          for (ye = he; ye <= Z; ye++)
            if (ot[ye - he] === 0 && fr(ze, _[ye])) {
              nt = ye;
              break;
            }
        nt === void 0 ? R(ze, S, I, !0) : (ot[nt - he] = D + 1, nt >= Be ? Be = nt : je = !0, w(
          ze,
          _[nt],
          A,
          null,
          S,
          I,
          M,
          $,
          N
        ), Te++);
      }
      const gn = je ? Qd(ot) : Sn;
      for (ye = gn.length - 1, D = Re - 1; D >= 0; D--) {
        const ze = he + D, nt = _[ze], Lt = _[ze + 1], mn = ze + 1 < V ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Lt.el || Sr(Lt)
        ) : P;
        ot[D] === 0 ? w(
          null,
          nt,
          A,
          mn,
          S,
          I,
          M,
          $,
          N
        ) : je && (ye < 0 || D !== gn[ye] ? J(nt, A, mn, 2) : ye--);
      }
    }
  }, J = (p, _, A, P, S = null) => {
    const { el: I, type: M, transition: $, children: N, shapeFlag: D } = p;
    if (D & 6) {
      J(p.component.subTree, _, A, P);
      return;
    }
    if (D & 128) {
      p.suspense.move(_, A, P);
      return;
    }
    if (D & 64) {
      M.move(p, _, A, pn);
      return;
    }
    if (M === oe) {
      r(I, _, A);
      for (let z = 0; z < N.length; z++)
        J(N[z], _, A, P);
      r(p.anchor, _, A);
      return;
    }
    if (M === ki) {
      b(p, _, A);
      return;
    }
    if (P !== 2 && D & 1 && $)
      if (P === 0)
        $.persisted && !I[_i] ? r(I, _, A) : ($.beforeEnter(I), r(I, _, A), Ke(() => $.enter(I), S));
      else {
        const { leave: z, delayLeave: Z, afterLeave: te } = $, he = () => {
          p.ctx.isUnmounted ? s(I) : r(I, _, A);
        }, _e = () => {
          const ye = I._isLeaving || !!I[_i];
          I._isLeaving && I[_i](
            !0
            /* cancelled */
          ), $.persisted && !ye ? he() : z(I, () => {
            he(), te && te();
          });
        };
        Z ? Z(I, he, _e) : _e();
      }
    else
      r(I, _, A);
  }, R = (p, _, A, P = !1, S = !1) => {
    const {
      type: I,
      props: M,
      ref: $,
      children: N,
      dynamicChildren: D,
      shapeFlag: V,
      patchFlag: z,
      dirs: Z,
      cacheIndex: te,
      memo: he
    } = p;
    if ((z === -2 || D && D.hasOnce) && (S = !1), $ != null && (an(), Rr($, null, A, p, !0), un()), te != null && (!p.ctx || p.ctx === _) && (_.renderCache[te] = void 0), V & 256 && _.ctx.deactivate(p))
      return;
    const _e = V & 1 && Z, ye = !Er(p);
    let Te;
    if (ye && (Te = M && M.onVnodeBeforeUnmount) && Rt(Te, _, p), V & 6)
      ut(p.component, A, P);
    else {
      if (V & 128) {
        p.suspense.unmount(A, P);
        return;
      }
      _e && kn(p, null, _, "beforeUnmount"), V & 64 ? p.type.remove(
        p,
        _,
        A,
        pn,
        P
      ) : D && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !D.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (I !== oe || z > 0 && z & 64) ? hn(
        D,
        _,
        A,
        !1,
        !0
      ) : (I === oe && z & 384 || !S && V & 16) && hn(N, _, A), P && C(p);
    }
    const Re = he != null && te == null;
    (ye && (Te = M && M.onVnodeUnmounted) || _e || Re) && Ke(() => {
      Te && Rt(Te, _, p), _e && kn(p, null, _, "unmounted"), Re && (p.el = null);
    }, A);
  }, C = (p) => {
    const { type: _, el: A, anchor: P, transition: S } = p, I = _ === oe;
    if (I && !S) {
      Y(A, P);
      return;
    }
    if (_ === ki) {
      k(p), S && !S.persisted && S.afterLeave && S.afterLeave();
      return;
    }
    const M = I ? ro(p) : p, $ = () => {
      I ? f(A) && Y(A, P) : s(A), S && !S.persisted && S.afterLeave && S.afterLeave();
    };
    if (M && M.shapeFlag & 1 && S && !S.persisted) {
      const { leave: N, delayLeave: D } = S, V = M.el, z = () => N(V, $);
      D ? D(V, $, z) : z();
    } else
      $();
  }, Y = (p, _) => {
    let A;
    for (; p !== _; )
      A = g(p), s(p), p = A;
    s(_);
  }, ut = (p, _, A) => {
    const { bum: P, scope: S, job: I, subTree: M, um: $, m: N, a: D } = p;
    Al(N), Al(D), P && hs(P), S.stop(), I ? (I.flags |= 8, R(M, p, _, A)) : M && (M.transition = p.vnode.transition, R(M, p, _, A)), $ && Ke($, _);
    const V = () => {
      p.isUnmounted = !0;
    };
    V.flags = 16, Ke(V, _);
  }, hn = (p, _, A, P = !1, S = !1, I = 0) => {
    for (let M = I; M < p.length; M++)
      R(p[M], _, A, P, S);
  }, Ae = (p) => {
    if (p.shapeFlag & 6)
      return Ae(p.component.subTree);
    if (p.shapeFlag & 128)
      return p.suspense.next();
    const _ = g(p.anchor || p.el), A = _ && _[ja];
    return A ? g(A) : _;
  }, Hr = (p, _, A) => {
    const P = p && _._vnode ? void 0 : p && p.component ? p.component.uid : oh();
    wd(() => {
      p == null ? _._vnode && R(_._vnode, null, null, !0) : w(
        _._vnode || null,
        p,
        _,
        null,
        null,
        null,
        A
      ), _._vnode = p;
    }, P);
  }, pn = {
    p: w,
    um: R,
    m: J,
    r: C,
    mt: we,
    mc: ee,
    pc: se,
    pbc: ue,
    n: Ae,
    o: e
  };
  return {
    render: Hr,
    hydrate: void 0,
    createApp: Ld(Hr)
  };
}
function bi({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function wn({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function Zd(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function Fo(e, t, n = !1) {
  const r = e.children, s = t.children;
  if (ae(r) && ae(s))
    for (let i = 0; i < r.length; i++) {
      const o = r[i];
      let l = s[i];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = s[i] = Ut(s[i]), l.el = o.el), !n && l.patchFlag !== -2 && Fo(o, l)), l.type === Us && (l.patchFlag === -1 && (l = s[i] = Ut(l)), l.el = o.el), l.type === xt && !l.el && (l.el = o.el);
    }
}
function Qd(e) {
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
function Xa(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : Xa(t);
}
function Al(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function Sr(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return Sr(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? Sr(n.activeBranch) : null;
}
const Za = (e) => e.__isSuspense, eh = /* @__PURE__ */ Symbol("_deferredEnter");
function th(e, t) {
  t && t.pendingBranch ? ae(e) ? t.effects.push(...e) : t.effects.push(e) : kd(e);
}
const oe = /* @__PURE__ */ Symbol.for("v-fgt"), Us = /* @__PURE__ */ Symbol.for("v-txt"), xt = /* @__PURE__ */ Symbol.for("v-cmt"), ki = /* @__PURE__ */ Symbol.for("v-stc"), On = [];
let ct = null;
function U(e = !1) {
  On.push(ct = e ? null : []);
}
function Qa() {
  On.pop(), ct = On[On.length - 1] || null;
}
let Or = 1;
function Rl(e, t = !1) {
  Or += e, e < 0 && ct && t && (ct.hasOnce = !0);
}
function eu(e) {
  return e.dynamicChildren = Or > 0 ? ct || Sn : null, Qa(), Or > 0 && ct && ct.push(e), e;
}
function q(e, t, n, r, s, i) {
  return eu(
    H(
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
function ps(e, t, n, r, s) {
  return eu(
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
function fr(e, t) {
  return e.type === t.type && e.key === t.key;
}
const tu = ({ key: e }) => e ?? null, gs = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? Le(e) || /* @__PURE__ */ tt(e) || Ee(e) ? { i: dt, r: e, k: t, f: !!n } : e : null);
function H(e, t = null, n = null, r = 0, s = null, i = e === oe ? 0 : 1, o = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && tu(t),
    ref: t && gs(t),
    scopeId: Pa,
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
  return l ? (vs(c, n), i & 128 && e.normalize(c)) : n && (c.shapeFlag |= Le(n) ? 8 : 16), Or > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  ct && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || i & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && ct.push(c), c;
}
const Ht = nh;
function nh(e, t = null, n = null, r = 0, s = null, i = !1) {
  if ((!e || e === Od) && (e = xt), Io(e)) {
    const l = tr(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && vs(l, n), Or > 0 && !i && ct && (l.shapeFlag & 6 ? ct[ct.indexOf(e)] = l : ct.push(l)), l.patchFlag = -2, l;
  }
  if (hh(e) && (e = e.__vccOpts), t) {
    t = rh(t);
    let { class: l, style: c } = t;
    l && !Le(l) && (t.class = st(l)), Ie(c) && (/* @__PURE__ */ Co(c) && !ae(c) && (c = pt({}, c)), t.style = Dr(c));
  }
  const o = Le(e) ? 1 : Za(e) ? 128 : Bs(e) ? 64 : Ie(e) ? 4 : Ee(e) ? 2 : 0;
  return H(
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
function rh(e) {
  return e ? /* @__PURE__ */ Co(e) ? pt({}, e) : Ha(e) ? pt({}, e[ou] || e) : e : null;
}
function tr(e, t, n = !1, r = !1) {
  const { props: s, ref: i, patchFlag: o, children: l, transition: c } = e, a = t ? sh(s || {}, t) : s, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: a,
    key: a && tu(a),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && i ? ae(i) ? i.concat(gs(t)) : [i, gs(t)] : gs(t)
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
    patchFlag: t && e.type !== oe ? o === -1 ? 16 : o | 16 : o,
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
    ssContent: e.ssContent && tr(e.ssContent),
    ssFallback: e.ssFallback && tr(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return c && r && Ar(
    u,
    c.clone(u)
  ), u;
}
function ge(e = " ", t = 0) {
  return Ht(Us, null, e, t);
}
function pe(e = "", t = !1) {
  return t ? (U(), ps(xt, null, e)) : Ht(xt, null, e);
}
function St(e) {
  return e == null || typeof e == "boolean" ? Ht(xt) : ae(e) ? Ht(
    oe,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : Io(e) ? Ut(e) : Ht(Us, null, String(e));
}
function Ut(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : tr(e);
}
function vs(e, t) {
  let n = 0;
  const { shapeFlag: r } = e;
  if (t == null)
    t = null;
  else if (ae(t))
    n = 16;
  else if (typeof t == "object")
    if (r & 65) {
      const s = t.default;
      s && (s._c && (s._d = !1), vs(e, s()), s._c && (s._d = !0));
      return;
    } else {
      n = 32;
      const s = t._;
      !s && !Ha(t) ? t._ctx = dt : s === 3 && dt && (dt.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (Ee(t)) {
    if (r & 65) {
      vs(e, { default: t });
      return;
    }
    t = { default: t, _ctx: dt }, n = 32;
  } else
    t = String(t), r & 64 ? (n = 16, t = [ge(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function sh(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const r = e[n];
    for (const s in r)
      if (s === "class")
        t.class !== r.class && (t.class = st([t.class, r.class]));
      else if (s === "style")
        t.style = Dr([t.style, r.style]);
      else if (Ns(s)) {
        const i = t[s], o = r[s];
        o && i !== o && !(ae(i) && i.includes(o)) ? t[s] = i ? [].concat(i, o) : o : o == null && i == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !Ms(s) && (t[s] = o);
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
const ih = /* @__PURE__ */ za();
let nu = 0;
function oh() {
  return nu;
}
function lh(e, t, n) {
  const r = e.type, s = (t ? t.appContext : e.appContext) || ih, i = {
    uid: nu++,
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
    scope: new qf(
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
    propsOptions: Hd(r, s),
    emitsOptions: $d(r, s),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: Fe,
    // inheritAttrs
    inheritAttrs: r.inheritAttrs,
    // state
    ctx: Fe,
    data: Fe,
    props: Fe,
    attrs: Fe,
    slots: Fe,
    refs: Fe,
    setupState: Fe,
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
  return i.ctx = { _: i }, i.root = t ? t.root : i, i.emit = jd.bind(null, i), e.ce && e.ce(i), i;
}
let nr = null;
const ch = () => nr || dt;
let As, Nr;
{
  const e = Ps(), t = (n, r) => {
    let s;
    return (s = e[n]) || (s = e[n] = []), s.push(r), (i) => {
      s.length > 1 ? s.forEach((o) => o(i)) : s[0](i);
    };
  };
  As = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => nr = n
  ), Nr = t(
    "__VUE_SSR_SETTERS__",
    (n) => Rs = n
  );
}
const ru = (e) => {
  const t = nr;
  return As(e), e.scope.on(), () => {
    e.scope.off(), As(t);
  };
}, El = () => {
  nr && nr.scope.off(), As(null);
};
function su(e) {
  return e.vnode.shapeFlag & 4;
}
let Rs = !1;
function ah(e, t = !1, n = !1) {
  t && Nr(t);
  const { props: r, children: s } = e.vnode, i = su(e);
  Jd(e, r, i, t), Gd(e, s, n || t);
  const o = i ? uh(e, t) : void 0;
  return t && Nr(!1), o;
}
function uh(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Nd);
  const { setup: r } = n;
  if (r) {
    an();
    const s = e.setupContext = r.length > 1 ? dh(e) : null, i = ru(e), o = Jr(
      r,
      e,
      0,
      [
        e.props,
        s
      ]
    ), l = ca(o);
    if (un(), i(), (l || e.sp) && !Er(e) && Id(e), l) {
      if (o.then(El, El), t)
        return o.then((c) => {
          Nr(!0);
          try {
            Cl(e, c, t);
          } finally {
            Nr(!1);
          }
        }).catch((c) => {
          $s(c, e, 0, void 0, !0), e.ssrRender = (a, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      Cl(e, o);
  } else
    iu(e);
}
function Cl(e, t, n) {
  Ee(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : Ie(t) && (e.setupState = Fa(t)), iu(e);
}
function iu(e, t, n) {
  const r = e.type;
  e.render || (e.render = r.render || Fn);
}
const ou = /* @__PURE__ */ Symbol(), fh = {
  get(e, t) {
    return Xe(e, "get", ""), t === ou ? e : e[t];
  }
};
function dh(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, fh),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function Ws(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(Fa(ud(e.exposed)), {
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
function hh(e) {
  return Ee(e) && "__vccOpts" in e;
}
const Ve = (e, t) => /* @__PURE__ */ gd(e, t, Rs), ph = "3.5.45";
let oo;
const Sl = typeof window < "u" && window.trustedTypes;
if (Sl)
  try {
    oo = /* @__PURE__ */ Sl.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const lu = oo ? (e) => oo.createHTML(e) : (e) => e, gh = "http://www.w3.org/2000/svg", mh = "http://www.w3.org/1998/Math/MathML", zt = typeof document < "u" ? document : null, Dl = zt && /* @__PURE__ */ zt.createElement("template"), _h = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, r) => {
    const s = t === "svg" ? zt.createElementNS(gh, e) : t === "mathml" ? zt.createElementNS(mh, e) : n ? zt.createElement(e, { is: n }) : zt.createElement(e);
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
      Dl.innerHTML = lu(
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
}, yh = /* @__PURE__ */ Symbol("_vtc");
function bh(e, t, n) {
  const r = e[yh];
  r && (t = (t ? [t, ...r] : [...r]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const Tl = /* @__PURE__ */ Symbol("_vod"), kh = /* @__PURE__ */ Symbol("_vsh"), wh = /* @__PURE__ */ Symbol(""), xh = /(?:^|;)\s*display\s*:/;
function vh(e, t, n) {
  const r = e.style, s = Le(n);
  let i = !1;
  if (n && !s) {
    if (t)
      if (Le(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && yr(r, l, "");
        }
      else
        for (const o in t)
          n[o] == null && yr(r, o, "");
    for (const o in n) {
      o === "display" && (i = !0);
      const l = n[o];
      l != null ? Rh(
        e,
        o,
        !Le(t) && t ? t[o] : void 0,
        l
      ) || yr(r, o, l) : yr(r, o, "");
    }
  } else if (s) {
    if (t !== n) {
      const o = r[wh];
      o && (n += ";" + o), r.cssText = n, i = xh.test(n);
    }
  } else t && e.removeAttribute("style");
  Tl in e && ((!s || t !== n) && (e[Tl] = i ? r.display : ""), e[kh] && (r.display = "none"));
}
const ss = /\s*!important$/;
function yr(e, t, n) {
  if (ae(n))
    n.forEach((r) => yr(e, t, r));
  else if (n == null && (n = ""), t.startsWith("--"))
    ss.test(n) ? e.setProperty(t, n.replace(ss, ""), "important") : e.setProperty(t, n);
  else {
    const r = Ah(e, t);
    ss.test(n) ? e.setProperty(
      Pn(r),
      n.replace(ss, ""),
      "important"
    ) : e[r] = n;
  }
}
const Fl = ["Webkit", "Moz", "ms"], wi = {};
function Ah(e, t) {
  const n = wi[t];
  if (n)
    return n;
  let r = kt(t);
  if (r !== "filter" && r in e)
    return wi[t] = r;
  r = fa(r);
  for (let s = 0; s < Fl.length; s++) {
    const i = Fl[s] + r;
    if (i in e)
      return wi[t] = i;
  }
  return t;
}
function Rh(e, t, n, r) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && Le(r) && n === r;
}
const Il = "http://www.w3.org/1999/xlink";
function Ol(e, t, n, r, s, i = zf(t)) {
  r && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(Il, t.slice(6, t.length)) : e.setAttributeNS(Il, t, n) : n == null || i && !ha(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    i ? "" : It(n) ? String(n) : n
  );
}
function Nl(e, t, n, r, s) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? lu(n) : n);
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
    l === "boolean" ? n = ha(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  o && e.removeAttribute(s || t);
}
function Cn(e, t, n, r) {
  e.addEventListener(t, n, r);
}
function Eh(e, t, n, r) {
  e.removeEventListener(t, n, r);
}
const Ml = /* @__PURE__ */ Symbol("_vei");
function Ch(e, t, n, r, s = null) {
  const i = e[Ml] || (e[Ml] = {}), o = i[t];
  if (r && o)
    o.value = r;
  else {
    const [l, c] = Th(t);
    if (r) {
      const a = i[t] = Oh(
        r,
        s
      );
      Cn(e, l, a, c);
    } else o && (Eh(e, l, o, c), i[t] = void 0);
  }
}
const Sh = /(Once|Passive|Capture)$/, Dh = /^on:?(?:Once|Passive|Capture)$/;
function Th(e) {
  let t, n;
  for (; (n = e.match(Sh)) && !Dh.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : Pn(e.slice(2)), t];
}
let xi = 0;
const Fh = /* @__PURE__ */ Promise.resolve(), Ih = () => xi || (Fh.then(() => xi = 0), xi = Date.now());
function Oh(e, t) {
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
  return n.value = e, n.attached = Ih(), n;
}
const Ll = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Nh = (e, t, n, r, s, i) => {
  const o = s === "svg";
  t === "class" ? bh(e, r, o) : t === "style" ? vh(e, n, r) : Ns(t) ? Ms(t) || Ch(e, t, n, r, i) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : Mh(e, t, r, o)) ? (Nl(e, t, r), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && Ol(e, t, r, o, i, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Lh(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !Le(r))) ? Nl(e, kt(t), r, i, t) : (t === "true-value" ? e._trueValue = r : t === "false-value" && (e._falseValue = r), Ol(e, t, r, o));
};
function Mh(e, t, n, r) {
  if (r)
    return !!(t === "innerHTML" || t === "textContent" || t in e && Ll(t) && Ee(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const s = e.tagName;
    if (s === "IMG" || s === "VIDEO" || s === "CANVAS" || s === "SOURCE")
      return !1;
  }
  return Ll(t) && Le(n) ? !1 : t in e;
}
function Lh(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const r = kt(t);
  return Array.isArray(n) ? n.some((s) => kt(s) === r) : Object.keys(n).some((s) => kt(s) === r);
}
const Es = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return ae(t) ? (n) => hs(t, n) : t;
};
function Ph(e) {
  e.target.composing = !0;
}
function Pl(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const Dn = /* @__PURE__ */ Symbol("_assign"), is = /* @__PURE__ */ Symbol("_initialValue");
function vi(e, t, n) {
  return t && (e = e.trim()), n && (e = Wr(e)), e;
}
const Jn = {
  created(e, { modifiers: { lazy: t, trim: n, number: r } }, s) {
    e.parentNode && (e.type === "text" ? e[is] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[is] = e.defaultValue.replace(/\r\n?/g, `
`))), e[Dn] = Es(s);
    const i = r || s.props && s.props.type === "number";
    Cn(e, t ? "change" : "input", (o) => {
      o.target.composing || e[Dn](vi(e.value, n, i));
    }), (n || i) && Cn(e, "change", () => {
      e.value = vi(e.value, n, i);
    }), t || (Cn(e, "compositionstart", Ph), Cn(e, "compositionend", Pl), Cn(e, "change", Pl));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: r } }) {
    const s = t ?? "", i = e[is];
    delete e[is], i !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== i ? e[Dn](vi(e.value, n, r)) : e.value = s;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: r, trim: s, number: i } }, o) {
    if (e[Dn] = Es(o), e.composing) return;
    const l = (i || e.type === "number") && !/^0\d/.test(e.value) ? Wr(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const a = e.getRootNode();
    (a instanceof Document || a instanceof ShadowRoot) && a.activeElement === e && e.type !== "range" && (r && t === n || s && e.value.trim() === c) || (e.value = c);
  }
}, jh = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, r) {
    e._modelValue = t, Cn(e, "change", () => {
      const s = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? Wr(Cs(c)) : Cs(c)
      ), i = e.multiple, o = i ? Ln(e._modelValue) ? new Set(s) : s : s[0], l = e._pendingValue = [
        i,
        i ? ae(o) ? s.slice() : s : o
      ];
      try {
        e[Dn](o);
      } finally {
        vr(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[Dn] = Es(r);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    jl(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[Dn] = Es(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const r = e._pendingValue;
    e._pendingValue = void 0, (!r || r[0] !== e.multiple || !$h(t, r[1], r[0])) && jl(e, t, n);
  }
};
function $h(e, t, n) {
  if (!n || ae(e)) return cn(e, t);
  if (Ln(e)) {
    if (e.size !== t.length) return !1;
    for (const r of t)
      if (!e.has(r)) return !1;
    return !0;
  }
  return !1;
}
function jl(e, t, n = !1) {
  const r = e.multiple, s = ae(t);
  if (!(r && !s && !Ln(t))) {
    for (let i = 0, o = e.options.length; i < o; i++) {
      const l = e.options[i], c = Cs(l);
      if (r)
        if (s) {
          const a = typeof c;
          a === "string" || a === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = Jf(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(Wr(c));
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
const Bh = ["ctrl", "shift", "alt", "meta"], zh = {
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
  exact: (e, t) => Bh.some((n) => e[`${n}Key`] && !t.includes(n))
}, Kn = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), r = t.join(".");
  return n[r] || (n[r] = ((s, ...i) => {
    for (let o = 0; o < t.length; o++) {
      const l = zh[t[o]];
      if (l && l(s, t)) return;
    }
    return e(s, ...i);
  }));
}, Uh = /* @__PURE__ */ pt({ patchProp: Nh }, _h);
let $l;
function Wh() {
  return $l || ($l = Yd(Uh));
}
const Jh = ((...e) => {
  const t = Wh().createApp(...e), { mount: n } = t;
  return t.mount = (r) => {
    const s = Hh(r);
    if (!s) return;
    const i = t._component;
    !Ee(i) && !i.render && !i.template && (i.template = s.innerHTML), s.nodeType === 1 && (s.textContent = "");
    const o = n(s, !1, qh(s));
    return s instanceof Element && (s.removeAttribute("v-cloak"), s.setAttribute("data-v-app", "")), o;
  }, t;
});
function qh(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function Hh(e) {
  return Le(e) ? document.querySelector(e) : e;
}
const Vh = "/comfyd/connection";
function Gh(e, t) {
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
const Kh = "comfyd", Yh = "comfyd.token.", Xh = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function cu(e) {
  return Xh.test(e.token);
}
function au(e, t) {
  return cu(e) ? `${e.wsBase}${t}` : `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
function uu(e) {
  return cu(e) ? [Kh, Yh + e.token] : [];
}
class Zh {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(Vh).then(
      (t) => Gh(t, this.location),
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
const Nn = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function Vt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (Nn(e).find((r) => String(r.id) === String(t)) ?? null);
}
function Qh(e, t) {
  if (t == null) return null;
  const n = e.links ?? e._links;
  return n ? typeof n.get == "function" ? n.get(t) ?? null : n[t] ?? null : null;
}
function Bl(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function ep(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function tp(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function np(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function rp(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function Tn(e) {
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
function sp(e, t) {
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
  if (n.since !== void 0) {
    try {
      n = ip(e, r.provenance, n);
    } catch {
      n = null;
    }
    if (!n) return !1;
  }
  return e.extra.comfyd = { ...r, provenance: n }, !0;
}
function zl(e) {
  const t = Number(e?.extra?.comfyd?.provenance?.revision);
  return Number.isSafeInteger(t) && t > 0 ? t : 0;
}
function rt(e) {
  return e && typeof e == "object" && !Array.isArray(e);
}
function ip(e, t, n) {
  if (!rt(t) || !rt(n) || t.v !== n.v || t.revision !== n.since || !Array.isArray(t.actors) || !Array.isArray(n.actors) || !rt(n.nodes) || !rt(n.links) || !rt(t.nodes) || !rt(t.links)) return null;
  const r = new Map(t.actors.map((f, g) => [JSON.stringify(f), g])), s = n.actors.map((f) => {
    if (!rt(f)) throw new Error("an actor is not an object");
    const g = JSON.stringify(f);
    return r.has(g) || (r.set(g, t.actors.length), t.actors.push(f)), r.get(g);
  }), i = (f) => {
    if (!Number.isInteger(f) || f < 0 || f >= s.length) throw new Error("a record names no actor");
    return s[f];
  }, o = (f) => {
    if (!rt(f)) return f;
    const g = { ...f, by: i(f.by) };
    if (rt(f.created) && (g.created = { ...f.created, by: i(f.created.by) }), rt(f.widgets)) {
      g.widgets = {};
      for (const [m, h] of Object.entries(f.widgets)) g.widgets[m] = rt(h) ? { ...h, by: i(h.by) } : h;
    }
    return g;
  }, l = Object.entries(n.nodes).map(([f, g]) => [f, o(g)]), c = Object.entries(n.links).map(([f, g]) => [f, o(g)]);
  for (const f of Object.keys(t.nodes)) e.getNodeById?.(Number(f)) || delete t.nodes[f];
  const a = e._links ?? e.links, u = (f) => !!a && (typeof a.get == "function" ? a.get(Number(f)) != null : a[f] != null);
  for (const f of Object.keys(t.links)) u(f) || delete t.links[f];
  for (const [f, g] of l) t.nodes[f] = g;
  for (const [f, g] of c) t.links[f] = g;
  return t.revision = n.revision, t.actors.length > op && lp(t), t;
}
const op = 64;
function lp(e) {
  const t = /* @__PURE__ */ new Map(), n = (i) => {
    rt(i) && (t.has(i.by) || t.set(i.by, t.size), i.by = t.get(i.by));
  }, r = (i) => {
    if (n(i), rt(i?.created) && n(i.created), rt(i?.widgets)) for (const o of Object.values(i.widgets)) n(o);
  };
  for (const i of Object.values(e.nodes)) r(i);
  for (const i of Object.values(e.links)) r(i);
  const s = new Array(t.size);
  for (const [i, o] of t) s[o] = e.actors[i];
  e.actors = s;
}
function Yn(e, t, n = 3) {
  const r = String(e).toLowerCase(), s = [];
  for (const i of t) {
    const o = String(i).toLowerCase();
    let l = cp(r, o);
    (o.includes(r) || r.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(r.length / 3)) && s.push([l, i]);
  }
  return s.sort((i, o) => i[0] - o[0] || String(i[1]).localeCompare(String(o[1]))), s.slice(0, n).map((i) => i[1]);
}
const Ul = 128;
function cp(e, t) {
  if (e.length > Ul || t.length > Ul) return 1 / 0;
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
}), Ss = (e, t) => e < t ? -1 : e > t ? 1 : 0;
function fu(e, t, n = {}) {
  const r = n.x ?? 0, s = n.y ?? 0, i = n.spacing ?? Kt.spacing, o = e.length, l = /* @__PURE__ */ new Map();
  e.forEach((W, se) => l.set(W.id, se));
  const c = Array.from({ length: o }, () => []), a = Array.from({ length: o }, () => []), u = /* @__PURE__ */ new Set();
  for (const [W, se] of t) {
    const le = l.get(W), me = l.get(se);
    if (le === void 0 || me === void 0 || le === me) continue;
    const J = le * o + me;
    u.has(J) || (u.add(J), c[le].push(me), a[me].push(le));
  }
  const f = new Uint8Array(o), g = /* @__PURE__ */ new Set();
  for (let W = 0; W < o; W++) {
    if (f[W]) continue;
    const se = [[W, 0]];
    for (f[W] = 1; se.length; ) {
      const le = se[se.length - 1], [me, J] = le;
      if (J < c[me].length) {
        le[1]++;
        const R = c[me][J];
        f[R] === 1 ? g.add(me * o + R) : f[R] === 0 && (f[R] = 1, se.push([R, 0]));
      } else
        f[me] = 2, se.pop();
    }
  }
  const m = (W, se) => !g.has(W * o + se), h = a.map((W, se) => W.filter((le) => m(le, se))), w = c.map((W, se) => W.filter((le) => m(se, le))), v = h.map((W) => W.length), T = [], x = [];
  for (let W = 0; W < o; W++) v[W] || x.push(W);
  for (let W = 0; W < x.length; W++) {
    const se = x[W];
    T.push(se);
    for (const le of w[se]) --v[le] === 0 && x.push(le);
  }
  const b = new Int32Array(o);
  for (const W of T) for (const se of w[W]) b[se] = Math.max(b[se], b[W] + 1);
  for (const W of T) {
    if (h[W].length || !w[W].length) continue;
    let se = 1 / 0;
    for (const le of w[W]) se = Math.min(se, b[le]);
    b[W] = Math.max(0, se - 1);
  }
  let k = 0;
  for (let W = 0; W < o; W++) k = Math.max(k, b[W] + 1);
  const F = Array.from({ length: k }, () => []);
  for (let W = 0; W < o; W++) F[b[W]].push(W);
  const B = new Float64Array(o), j = () => {
    for (const W of F) W.forEach((se, le) => B[se] = W.length > 1 ? le / (W.length - 1) : 0.5);
  };
  j();
  const ee = (W, se) => {
    const le = W.map((me, J) => {
      const R = se[me];
      let C = B[me];
      if (R.length) {
        let Y = 0;
        for (const ut of R) Y += B[ut];
        C = Y / R.length;
      }
      return [C, J, me];
    });
    return le.sort((me, J) => Ss(me[0], J[0]) || me[1] - J[1]), le.map((me) => me[2]);
  };
  let X = F.map((W) => W.slice()), ue = Wl(F, w, b, o);
  for (let W = 0; W < Kt.sweeps && ue > 0; W++) {
    for (let le = 1; le < k; le++)
      F[le] = ee(F[le], h), j();
    for (let le = k - 2; le >= 0; le--)
      F[le] = ee(F[le], w), j();
    const se = Wl(F, w, b, o);
    se < ue && (ue = se, X = F.map((le) => le.slice()));
  }
  const ne = new Float64Array(o), de = new Float64Array(o);
  let De = r, we = s;
  for (let W = 0; W < k; W++) {
    let se = 0, le = s;
    for (const me of X[W]) {
      const J = e[me];
      let R = le;
      if (h[me].length) {
        let C = 0;
        for (const Y of h[me]) C += de[Y] + e[Y].h / 2;
        R = Math.max(le, C / h[me].length - J.h / 2);
      }
      ne[me] = De, de[me] = R, le = R + J.h + i, se = Math.max(se, J.w), we = Math.max(we, R + J.h);
    }
    De += se + i;
  }
  const ve = /* @__PURE__ */ new Map(), at = /* @__PURE__ */ new Map();
  for (let W = 0; W < o; W++)
    ve.set(e[W].id, [ne[W], de[W]]), at.set(e[W].id, b[W]);
  return { pos: ve, layer: at, width: k ? De - i - r : 0, height: we - s };
}
function Wl(e, t, n, r) {
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
function ap(e, t, n = 0) {
  return e.x < t.x + t.w + n && t.x < e.x + e.w + n && e.y < t.y + t.h + n && t.y < e.y + e.h + n;
}
function du(e, t, n = Kt.spacing) {
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
function Ds(e, t) {
  const n = Oo(t), r = Number(e.size?.[0]), s = Number(e.size?.[1]), i = !!e.flags?.collapsed;
  return {
    id: e.id,
    x: Number(e.pos?.[0]) || 0,
    y: (Number(e.pos?.[1]) || 0) - n,
    w: Number.isFinite(r) && r > 0 ? r : 200,
    h: i ? n : (Number.isFinite(s) && s > 0 ? s : 100) + n
  };
}
function hu(e) {
  const t = [];
  for (const n of Nn(e))
    for (const r of n.inputs ?? []) {
      if (r?.link === null || r?.link === void 0) continue;
      const s = Qh(e, r.link);
      if (!s) continue;
      const i = s.origin_id ?? s[1];
      i != null && t.push([s.id ?? s[0], i, n.id]);
    }
  return t.sort((n, r) => Ss(Number(n[0]), Number(r[0]))), t.map(([, n, r]) => [n, r]);
}
const up = (e, t) => Ss(Number(e.id), Number(t.id)) || Ss(String(e.id), String(t.id));
function pu(e, t, n, r) {
  const s = [Math.round(t), Math.round(n + r)];
  e.pos && typeof e.pos.length == "number" && e.pos.length >= 2 ? (e.pos[0] = s[0], e.pos[1] = s[1]) : e.pos = s;
}
function fp(e, t, n = {}) {
  const r = n.LiteGraph, s = Oo(r), i = n.spacing ?? Kt.spacing, o = n.exclude ?? (() => !1);
  let l;
  if (t && t.length) {
    const b = new Set(t.map(String));
    l = Nn(e).filter((k) => b.has(String(k.id)));
  } else l = Nn(e).filter((b) => !o(b));
  if (!l.length) return [];
  const c = new Set(l.map((b) => String(b.id))), a = l.map((b) => Ds(b, r));
  a.sort((b, k) => b.y - k.y || b.x - k.x || up(b, k));
  const u = n.x ?? Math.min(...a.map((b) => b.x)), f = n.y ?? Math.min(...a.map((b) => b.y)), g = hu(e).filter(([b, k]) => c.has(String(b)) && c.has(String(k))), { pos: m, layer: h } = fu(a, g, { x: u, y: f, spacing: i }), w = new Set([...n.ignore ?? []].map(String)), v = Nn(e).filter((b) => !c.has(String(b.id)) && !w.has(String(b.id))).map((b) => Ds(b, r)), T = a.slice().sort((b, k) => h.get(b.id) - h.get(k.id) || m.get(b.id)[1] - m.get(k.id)[1]), x = [];
  for (const b of T) {
    const [k, F] = m.get(b.id), B = { ...b, x: k, y: F };
    v.length && (B.y = du(B, v.concat(x), i)), x.push(B), pu(Vt(e, b.id), B.x, B.y, s);
  }
  return T.map((b) => b.id);
}
function dp(e, t, n = {}) {
  const r = n.LiteGraph, s = Oo(r), i = n.spacing ?? Kt.spacing, o = new Set(t.map(String)), l = t.map((x) => Vt(e, x)).filter(Boolean);
  if (!l.length) return [];
  const c = l.map((x) => Ds(x, r)), a = Nn(e).filter((x) => !o.has(String(x.id))).map((x) => Ds(x, r)), u = new Map(a.map((x) => [String(x.id), x])), f = hu(e), g = f.filter(([x, b]) => o.has(String(x)) && o.has(String(b))), m = fu(c, g, { x: 0, y: 0, spacing: i });
  let h = -1 / 0, w = 1 / 0;
  for (const [x, b] of f) {
    const k = u.get(String(x));
    !k || !o.has(String(b)) || (h = Math.max(h, k.x + k.w + i - m.pos.get(b)[0]), w = Math.min(w, k.y));
  }
  if (h === -1 / 0) {
    const x = hp(a), b = Array.isArray(n.view) && n.view.length === 4 && n.view.every(Number.isFinite) ? n.view : null;
    let k = null;
    if (b) {
      k = [b[0] + Math.max(i, (b[2] - m.width) / 2), b[1] + Math.max(i, (b[3] - m.height) / 2)];
      const F = { x: k[0], y: k[1], w: m.width, h: m.height };
      a.some((B) => ap(F, B, i / 2)) && (k = null);
    }
    k || (k = x ? [x.x + x.w + i, x.y] : b ? [b[0] + b[2] / 4, b[1] + b[3] / 4] : Kt.origin), [h, w] = k;
  }
  const v = c.slice().sort((x, b) => m.layer.get(x.id) - m.layer.get(b.id) || m.pos.get(x.id)[1] - m.pos.get(b.id)[1]), T = a.slice();
  for (const x of v) {
    const [b, k] = m.pos.get(x.id), F = { ...x, x: h + b, y: w + k };
    F.y = du(F, T, i), T.push(F), pu(Vt(e, x.id), F.x, F.y, s);
  }
  return v.map((x) => x.id);
}
function hp(e) {
  if (!e.length) return null;
  let t = 1 / 0, n = 1 / 0, r = -1 / 0, s = -1 / 0;
  for (const i of e)
    t = Math.min(t, i.x), n = Math.min(n, i.y), r = Math.max(r, i.x + i.w), s = Math.max(s, i.y + i.h);
  return { x: t, y: n, w: r - t, h: s - n };
}
const Qe = Object.freeze({
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
}), Ai = Object.freeze({ always: 0, never: 2, mute: 2, bypass: 4 });
class ao extends Error {
  constructor(t, n, r = []) {
    super(n), this.code = t, this.suggestions = r;
  }
}
const ce = (e, t, n) => {
  throw new ao(e, t, n);
}, rr = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function qn(e, t, n = Qe.name, { optional: r = !1 } = {}) {
  if (e == null) {
    if (r) return "";
    ce("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && ce("INVALID_COMMAND", `${t} must be a string`), e.length > n && ce("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function xn(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > Qe.coord) && ce("INVALID_COMMAND", `${t} must be a number within ±${Qe.coord}`), e);
}
function Xt(e, t) {
  return rr(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= Qe.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : ce("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function Ri(e, t) {
  if (e == null) return 0;
  if (rr(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= Qe.name ? e : ce("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function Jl(e, t) {
  if (rr(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((r) => r in e);
    n.length !== 1 && ce("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || ce("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > Qe.text && ce("VALUE_INVALID", `${t} is longer than ${Qe.text} characters`), e) : ce("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const ms = {
  create_node(e) {
    const t = {
      node_type: qn(e.node_type, "node_type"),
      x: xn(e.x, "x", { optional: !0 }),
      y: xn(e.y, "y", { optional: !0 }),
      ref: qn(e.ref, "ref", Qe.ref, { optional: !0 }),
      title: qn(e.title, "title", Qe.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || ce("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      rr(e.widgets) || ce("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > Qe.widgets && ce("INVALID_COMMAND", `more than ${Qe.widgets} widgets`);
      for (const r of n) t.widgets.push([qn(r, "widget name"), Jl(e.widgets[r], `widgets.${r}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: Xt(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: Xt(e.from_id, "from_id"),
    from_slot: Ri(e.from_slot, "from_slot"),
    to_id: Xt(e.to_id, "to_id"),
    to_slot: Ri(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: Xt(e.node_id, "node_id"), slot: Ri(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: Xt(e.node_id, "node_id"),
    name: qn(e.name, "name"),
    value: Jl(e.value, "value")
  }),
  move_node: (e) => ({ node_id: Xt(e.node_id, "node_id"), x: xn(e.x, "x"), y: xn(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(e) {
    const t = e.node_ids ?? [];
    Array.isArray(t) || ce("INVALID_COMMAND", "node_ids must be an array of node ids or refs"), t.length > Qe.nodes && ce("INVALID_COMMAND", `node_ids: more than ${Qe.nodes}`);
    const n = xn(e.spacing, "spacing", { optional: !0 });
    return n !== null && (n < 0 || n > Kt.maxSpacing) && ce("INVALID_COMMAND", `spacing must be between 0 and ${Kt.maxSpacing}`), {
      node_ids: t.map((r, s) => Xt(r, `node_ids[${s}]`)),
      x: xn(e.x, "x", { optional: !0 }),
      y: xn(e.y, "y", { optional: !0 }),
      spacing: n
    };
  },
  set_node_mode(e) {
    const t = qn(e.mode, "mode");
    return Object.hasOwn(Ai, t) || ce("INVALID_COMMAND", `mode "${t.slice(0, 40)}" is not one of ${Object.keys(Ai).join(", ")}`), { node_id: Xt(e.node_id, "node_id"), mode: Ai[t] };
  }
}, gu = Object.freeze(Object.keys(ms)), ql = new Set(gu.filter((e) => e !== "get_graph")), pp = /* @__PURE__ */ new Set(["move_node", "set_widget", "get_graph"]);
function gp(e) {
  rr(e) || ce("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const r = Object.keys(e).filter((s) => Object.hasOwn(ms, s));
    r.length !== 1 && ce("INVALID_COMMAND", "missing field: type"), t = r[0], n = rr(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(ms, t)) && ce("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${gu.join(", ")}`), { type: t, ...ms[t](n) };
}
const mp = /* @__PURE__ */ new Set(["number", "slider", "knob"]), _p = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function yp(e, t, n) {
  const r = String(e.type ?? ""), s = e.options ?? {};
  if (r === "combo") {
    const i = rp(e, t);
    return i && !i.some((o) => o === n) && ce("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${i.length} options of ${e.name}`, Yn(n, i.filter((o) => typeof o == "string"))), n;
  }
  return mp.has(r) ? (typeof n != "number" && ce("VALUE_INVALID", `${e.name} takes a number`), s.precision === 0 && !Number.isInteger(n) && ce("VALUE_INVALID", `${e.name} takes an integer`), typeof s.min == "number" && n < s.min && ce("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${s.min}`), typeof s.max == "number" && n > s.max && ce("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${s.max}`), n) : r === "toggle" || r === "boolean" ? (typeof n != "boolean" && ce("VALUE_INVALID", `${e.name} takes true or false`), n) : _p.has(r) ? (typeof n != "string" && ce("VALUE_INVALID", `${e.name} takes a string`), n) : (r === "button" && ce("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function bp(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function Hl(e, t, n, r) {
  const s = tp(t, n);
  s || ce("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, Yn(n, np(t)));
  const i = yp(s, t, r), o = s.value;
  s.value = i;
  try {
    s.callback?.call(s, s.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(s.name, s.value, o, s);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return bp(s);
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
function kp(e) {
  const t = typeof e.view == "function" ? e.view() : null;
  return Array.isArray(t) && t.length === 4 && t.every(Number.isFinite) ? t : null;
}
function wp(e) {
  const t = [...e.pending].filter((n) => Vt(e.graph, n));
  e.pending.clear(), t.length && dp(e.graph, t, { LiteGraph: e.LiteGraph, view: kp(e) });
}
const xp = {
  create_node(e, t) {
    const { graph: n, LiteGraph: r } = e, s = r.createNode(t.node_type);
    if (!s) {
      const l = Object.keys(r.registered_node_types ?? {});
      ce("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, Yn(t.node_type, l));
    }
    t.title && (s.title = t.title);
    const i = t.x === null || t.y === null;
    s.pos = i ? [0, 0] : [t.x, t.y];
    const o = e.expectedId;
    Number.isSafeInteger(o) && o > 0 && !Vt(n, o) && (s.id = o), n.add(s), Vt(n, s.id) || ce("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [l, c] of t.widgets) Hl(e, s, l, c);
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
    const n = Zt(e, t.from_id, "from_id"), r = Zt(e, t.to_id, "to_id"), s = ep(n, t.from_slot);
    s < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? Yn(t.from_slot, (n.outputs ?? []).map((a) => a.name)) : []
    );
    const i = Bl(r, t.to_slot);
    i < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${r.id} (${r.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? Yn(t.to_slot, (r.inputs ?? []).map((a) => a.name)) : []
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
      typeof t.slot == "string" ? Yn(t.slot, (n.inputs ?? []).map((i) => i.name)) : []
    );
    const s = n.inputs[r].link;
    return s == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(r), n.inputs[r].link !== null && n.inputs[r].link !== void 0 && ce("EDITOR_FAILED", `input ${r} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: s });
  },
  set_widget(e, t) {
    const n = Zt(e, t.node_id, "node_id"), r = Hl(e, n, t.name, t.value);
    return r === void 0 ? { node_id: n.id } : { node_id: n.id, value: r };
  },
  move_node(e, t) {
    const n = Zt(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], e.pending.delete(n.id), { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of Nn(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  },
  arrange(e, t) {
    const n = t.node_ids.map((s, i) => Zt(e, s, `node_ids[${i}]`).id), r = fp(e.graph, n, {
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
}, vp = "BATCH_MODE_PARTIAL";
function Ap(e) {
  return e === vp || e === 2 || String(e).toLowerCase() === "partial";
}
function Vl(e, t) {
  const n = t instanceof ao ? t.code : "EDITOR_FAILED", r = t instanceof ao ? t.message : `command failed: ${t?.message ?? String(t)}`, s = { code: n, message: r.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (s.suggestions = t.suggestions), { index: e, ok: !1, error: s };
}
function Rp(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > Qe.commands)
    return { ok: !1, error: `more than ${Qe.commands} commands`, results: [], applied: !1 };
  const r = e.graph, s = Ap(t?.mode), i = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), pending: /* @__PURE__ */ new Set(), expectedId: void 0 }, c = n.length === 1 && pp.has(n[0]?.type) ? null : r.serialize(), a = new Array(n.length);
  let u = 0, f = -1, g = !1;
  for (let w = 0; w < n.length; w++) {
    let v;
    try {
      v = gp(n[w]);
    } catch (x) {
      if (a[w] = Vl(w, x), !s) {
        f = w;
        break;
      }
      continue;
    }
    o.expectedId = v.type === "create_node" ? i[u++] : void 0;
    const T = s && ql.has(v.type) && w > 0 ? r.serialize() : null;
    try {
      a[w] = { index: w, ok: !0, ...xp[v.type](o, v) }, ql.has(v.type) && (g = !0);
    } catch (x) {
      if (a[w] = Vl(w, x), !s) {
        f = w;
        break;
      }
      const b = T ?? c;
      b && Tn(r.serialize()) !== Tn(b) && Gl(r, b);
    }
  }
  if (f >= 0) {
    c && Tn(r.serialize()) !== Tn(c) && Gl(r, c);
    const w = `not applied: command ${f} failed and the patch is atomic (the graph was rolled back)`;
    for (let v = 0; v < n.length; v++)
      v !== f && (a[v] = { index: v, ok: !1, error: { code: "SKIPPED", message: w, index: v } });
    return r.setDirtyCanvas?.(!0, !0), { ok: !1, error: a[f].error.message, results: a, applied: !1 };
  }
  wp(o), r.setDirtyCanvas?.(!0, !0);
  const m = a.every((w) => w.ok), h = a.find((w) => !w.ok);
  return {
    ok: m,
    error: m ? "" : h.error.message,
    results: a,
    applied: g
  };
}
function Gl(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
const mu = new Float64Array(1), Kl = new Uint32Array(mu.buffer), Yl = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
function Xl(e) {
  for (let t = 1; t < e.length; t++) if (e[t - 1].id > e[t].id) return [...e].sort((n, r) => n.id - r.id);
  return e;
}
function Ep(e) {
  const t = e._links ?? e.links;
  return t ? [...typeof t.values == "function" && !Array.isArray(t) ? t.values() : Object.values(t)].filter((r) => r && r.id != null) : [];
}
function Cp(e) {
  let t = -2128831035;
  const n = (l) => {
    t = Math.imul(t ^ l, 16777619);
  }, r = (l) => {
    let c = Number(l);
    (c === 0 || !Number.isFinite(c)) && (c = 0), mu[0] = c, n(Kl[Yl]), n(Kl[1 - Yl]);
  }, s = (l) => {
    const c = String(l ?? "");
    r(c.length);
    for (let a = 0; a < c.length; a++) n(c.charCodeAt(a));
  }, i = Xl(e._nodes ?? e.nodes ?? []);
  r(i.length);
  for (const l of i) {
    r(l.id), s(l.type), r(l.pos?.[0] ?? 0), r(l.pos?.[1] ?? 0), r(l.mode ?? 0);
    const c = l.inputs ?? [];
    r(c.length);
    for (const u of c) r(u?.link > 0 ? u.link : 0);
    const a = l.outputs ?? [];
    r(a.length);
    for (const u of a) {
      const f = (u?.links ?? []).filter((g) => g > 0);
      r(f.length);
      for (const g of f) r(g);
    }
  }
  const o = Xl(Ep(e));
  r(o.length);
  for (const l of o)
    r(l.id), r(l.origin_id), r(l.origin_slot), r(l.target_id), r(l.target_slot);
  return (t >>> 0).toString(16).padStart(8, "0");
}
function Sp(e) {
  return Array.isArray(e) ? e : e && typeof e == "object" ? [e.id, e.origin_id, e.origin_slot, e.target_id, e.target_slot, e.type] : null;
}
function Dp(e) {
  if (!e || typeof e != "object") return JSON.stringify(e);
  const { order: t, ...n } = e;
  return JSON.stringify(n);
}
function Tp(e) {
  const { nodes: t, links: n, last_node_id: r, last_link_id: s, state: i, ...o } = e;
  return Tn({ ...o, nodes: [] });
}
function _u(e) {
  if (!e || typeof e != "object" || !Array.isArray(e.nodes)) return null;
  const t = /* @__PURE__ */ new Map();
  for (const r of e.nodes) r && r.id != null && t.set(r.id, Dp(r));
  const n = /* @__PURE__ */ new Map();
  for (const r of Array.isArray(e.links) ? e.links : []) {
    const s = Sp(r);
    s && s[0] != null && n.set(s[0], JSON.stringify(s));
  }
  return { nodes: t, links: n, rest: Tp(e) };
}
function Zl(e, t, n) {
  if (!e) return null;
  const r = _u(t);
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
    digest: Cp(n)
  };
}
function Fp(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function Ql(e, t) {
  const n = Fp(e);
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
const Ip = 1e3, Op = 1500, Np = 120, Mp = 480 * 1024, Ei = "the tab has switched to another workflow; this canvas is no longer open in it", Lp = 200, Pp = 50, jp = 1e4, $p = 1e3, Bp = 128, Ci = 1024 * 1024 - 1024, zp = 16;
function Up(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function Si(e, t) {
  const n = String(t || "workflow"), r = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${r}~${Up(n)}`.slice(0, Bp);
}
function Wp(e, t = Mp) {
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
function Jp(e, t = () => Math.random().toString(36).slice(2, 10)) {
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
class qp {
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
    }), this.socket = null, this.attached = !1, this.canvasId = null, this.revision = 0, this.tabRevision = 0, this.lastSig = null, this.baseline = null, this.deltasSent = 0, this.patchDeltasSent = 0, this.resyncs = 0, this.answered = /* @__PURE__ */ new Map(), this.work = Promise.resolve(), this.busy = 0, this.attempt = 0, this.stopped = !0, this.replaced = !1, this.reconnectTimer = null, this.pollTimer = null, this.debounceTimer = null, this.focused = !1, this.focusSentAt = -1 / 0, this.waitedSteps = 0, this.pointerDown = !1, this.pointerDownAt = 0, this.objectInfoJson = null, this.listeners = [], this.status = "idle", this.onStatus = null;
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), Op), this.connect());
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
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Pp : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, Lp);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = Wp(await this.d.objectInfo?.());
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
      n = new this.d.WebSocket(au(t, "/comfy/editor/ws"), uu(t));
    } catch (r) {
      this.log("warn", `comfyd: cannot open the editor socket (${r?.message ?? r})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (r) => this.onMessage(r.data), n.onerror = () => {
    }, n.onclose = (r) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (r?.code === Ip) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (r?.code === 1008 || r?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = Si(this.d.tabId, this.workflowKey()), this.reported(t), this.tabRevision += 1;
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
          Number.isFinite(Number(n.revision)) && (this.revision = Number(n.revision)), n.provenance_json && sp(this.graph(), n.provenance_json) && this.untrackProvenance();
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
    return Si(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: Ei, results: [], workflow_json: "", tab_revision: this.tabRevision });
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
      r = Ql(this.d.app, () => Rp(n, t));
    } catch (l) {
      r = { ok: !1, error: `the patch failed: ${l?.message ?? l}`, results: [] };
    } finally {
      this.busy--;
    }
    const s = this.serialize();
    let i = null;
    try {
      i = Zl(this.baseline, s, this.graph());
    } catch {
      i = null;
    }
    this.reported(s), this.tabRevision += 1;
    const o = {
      type: "patch_result",
      request_id: t.request_id,
      ok: !!r.ok,
      error: r.error ?? "",
      results: (r.results ?? []).filter(Boolean).map(Hp),
      tab_revision: this.tabRevision,
      provenance_revision: zl(this.graph())
    };
    this.answered.set(String(t.request_id), o), this.answered.size > zp && this.answered.delete(this.answered.keys().next().value), i && this.send({ ...o, delta: i }) ? this.patchDeltasSent++ : i || this.send({ ...o, workflow_json: JSON.stringify(s) });
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
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: Ei, prompt_id: "", number: 0 });
    if (t.prompt_only) return this.handlePromptOnly(t);
    const { app: n, api: r } = this.d, s = [];
    let i = "";
    const o = r.queuePrompt;
    r.queuePrompt = async function(...a) {
      try {
        const u = await o.apply(this, a);
        return s.push(u), u;
      } catch (u) {
        throw i = tc(u), u;
      }
    };
    try {
      const a = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, a);
    } catch (a) {
      i = i || tc(a);
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
      ec(r, "beforeQueued");
      const o = await n.graphToPrompt(r);
      if (i = { prompt_json: JSON.stringify(o?.output ?? null), workflow_json: JSON.stringify(o?.workflow ?? null) }, !o?.output || typeof o.output != "object") throw new Error("graphToPrompt returned no prompt");
      ec(r, "afterQueued");
    } catch (o) {
      return this.send({ ...s, ok: !1, error: `cannot convert the workflow: ${String(o?.message ?? o).slice(0, 1e3)}` });
    }
    if (i.prompt_json.length + i.workflow_json.length > Ci)
      return this.send({ ...s, ok: !1, error: "the workflow is too large to hand over" });
    this.send({ ...s, ok: !0, error: "", ...i });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: Ei, workflow_json: "", tab_revision: this.tabRevision });
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
          Ql(this.d.app, () => o.configure(n));
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
    }, Np);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < jp || this.d.app.configuringGraph) return;
    if (Si(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const r = Tn(n);
    if (r === this.lastSig) return;
    let s = null;
    try {
      s = Zl(this.baseline, n, this.graph());
    } catch {
      s = null;
    }
    this.reported(n, r), this.tabRevision += 1;
    const i = zl(this.graph());
    s && this.send({ type: "user_edit", delta: s, tab_revision: this.tabRevision, provenance_revision: i }) ? this.deltasSent++ : s || this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision });
  }
  /** The workflow the core now has from this tab: edits are found, and
   * their deltas taken, against it. */
  reported(t, n = Tn(t)) {
    this.lastSig = n, this.baseline = _u(t);
  }
  /** The core could not use a delta: it gets the whole workflow, in the
   * answer to that patch again (request_id names it; the patch is still in
   * flight there) or, after a user edit (request_id 0), in a user_edit. */
  resync(t) {
    if (this.resyncs++, !this.attached) return;
    const n = String(t.request_id ?? 0), r = n === "0" ? null : this.answered.get(n);
    if (n !== "0" && !r) {
      this.log("warn", `comfyd: a resync for request ${n.slice(0, 40)}, which this tab no longer holds`);
      return;
    }
    let s;
    try {
      s = this.serialize();
    } catch {
      return;
    }
    if (this.reported(s), r) return this.send({ ...r, workflow_json: JSON.stringify(s), tab_revision: this.tabRevision });
    this.tabRevision += 1, this.send({ type: "user_edit", workflow_json: JSON.stringify(s), tab_revision: this.tabRevision });
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
    if (!(this.focused && t - this.focusSentAt < $p)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function ec(e, t) {
  const n = e?._nodes ?? e?.nodes ?? [];
  for (const r of n) for (const s of r.widgets ?? []) s[t]?.();
}
function tc(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, r = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${r.length ? ` (nodes ${r.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function Hp(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const Vp = 600, nc = 64;
function os(e) {
  const t = String(e ?? "");
  return t.length > nc ? `${t.slice(0, nc - 1)}…` : t;
}
function Gp(e) {
  switch (e?.kind) {
    case "skill":
      return `skill ${os(e.skill)} (session ${os(e.session_id).slice(0, 8)})`;
    case "mcp":
      return e.name ? `MCP client ${os(e.name)}` : "an MCP client";
    case "grpc":
      return e.name ? `caller ${os(e.name)}` : "an unnamed caller";
    case "user":
      return "the user";
    case "load":
      return "a loaded workflow";
    default:
      return "someone unknown";
  }
}
function Kp(e) {
  const t = Math.max(0, Math.round(Number(e) / 1e3));
  return !Number.isFinite(t) || t < 45 ? "just now" : t < 3600 ? `${Math.round(t / 60)} min ago` : t < 86400 ? `${Math.round(t / 3600)} h ago` : `${Math.round(t / 86400)} d ago`;
}
function Yp(e, t, n = Date.now()) {
  if (!e || typeof e != "object" || !e.nodes || typeof e.nodes != "object") return null;
  const r = e.nodes[String(t)];
  if (!r || typeof r != "object") return null;
  const s = Array.isArray(e.actors) ? e.actors : [], i = (c) => `${Gp(s[c.by])}, ${Kp(n - Number(c.at))} (revision ${c.rev})`, o = [`Last changed by ${i(r)}`], l = r.created;
  return l && typeof l == "object" && (l.by !== r.by || l.rev !== r.rev) && o.push(`Created by ${i(l)}`), o;
}
function Xp({ app: e, document: t, timers: n = globalThis, now: r = () => Date.now() }) {
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
  }, c = (g, m) => {
    const h = g.canvas?.getBoundingClientRect?.();
    return h && typeof g.ds?.convertCanvasToOffset == "function" ? g.ds.convertCanvasToOffset([m.clientX - h.left, m.clientY - h.top]) : g.graph_mouse ?? null;
  }, a = (g) => {
    const m = e.canvas, h = e.rootGraph ?? e.graph, w = m?.graph ?? h;
    if (w !== h) return null;
    const v = c(m, g);
    return !w || !v || typeof w.getNodeOnPos != "function" ? null : w.getNodeOnPos(v[0], v[1]) ?? null;
  }, u = (g, m) => {
    const h = e.rootGraph ?? e.graph, w = Yp(h?.extra?.comfyd?.provenance, o, r());
    if (!w) {
      s.style.display = "none";
      return;
    }
    s.textContent = w.join(`
`), s.style.left = `${g + 14}px`, s.style.top = `${m + 14}px`, s.style.display = "block";
  }, f = (g) => {
    if (!e.canvas || g.target !== e.canvas.canvas || g.buttons) return l();
    const m = a(g);
    if (!m) return l();
    if (m.id === o) {
      i || u(g.clientX, g.clientY);
      return;
    }
    l(), o = m.id;
    const h = g.clientX, w = g.clientY;
    i = n.setTimeout(() => {
      i = null, u(h, w);
    }, Vp);
  };
  return t.addEventListener("pointermove", f, { passive: !0 }), t.addEventListener("pointerdown", l, !0), () => {
    l(), t.removeEventListener("pointermove", f), t.removeEventListener("pointerdown", l, !0), s.remove();
  };
}
const uo = 200, Zp = 16, Qp = 256, eg = /* @__PURE__ */ new Set(["succeeded", "failed", "interrupted", "cancelled", "unknown"]), sr = (e) => eg.has(e);
function ir(e) {
  let t = String(e ?? "").toLowerCase();
  return t.startsWith("run_status_") && (t = t.slice(11)), t || "unspecified";
}
const et = (e) => {
  const t = Number(e);
  return Number.isFinite(t) ? t : 0;
};
function tg(e, t) {
  if (!e) return !0;
  const n = et(e.seq), r = et(t.seq);
  return n && r ? r > n : !(sr(ir(e.status)) && !sr(ir(t.status)));
}
function ng(e) {
  const t = Object.keys(e.runs);
  if (t.length <= uo) return;
  const n = t.map((r) => e.runs[r]).sort((r, s) => Number(sr(ir(s.status))) - Number(sr(ir(r.status))) || et(r.queued_at_ms) - et(s.queued_at_ms));
  for (const r of n.slice(0, t.length - uo))
    delete e.runs[r.prompt_id], delete e.runTurns[r.prompt_id];
}
function yu(e, t, { workingTurn: n = 0 } = {}) {
  if (!t || typeof t != "object" || typeof t.prompt_id != "string" || !t.prompt_id || t.session_id && e.sessionId && t.session_id !== e.sessionId) return !1;
  const r = t.prompt_id;
  return tg(e.runs[r], t) ? (e.runs[r] = t, !e.runTurns[r] && n && !sr(ir(t.status)) && (e.runTurns[r] = n), ng(e), !0) : !1;
}
function rg(e) {
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
function sg(e, t, n) {
  const r = rg(n), s = Number(t) || 0;
  return !r || !s || e.runTurns[r] === s ? !1 : (e.runTurns[r] = s, !0);
}
function ig(e, t) {
  const n = e.runTurns[t.prompt_id];
  if (n && e.turns.some((o) => o.id === n)) return n;
  const r = et(t.queued_at_ms), s = e.turns.filter((o) => !o.pending);
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
function og(e) {
  const t = {}, n = Object.values(e.runs).sort((r, s) => et(r.queued_at_ms) - et(s.queued_at_ms) || et(r.number) - et(s.number));
  for (const r of n) {
    const s = ig(e, r);
    (t[s] ??= []).push(r);
  }
  return t;
}
function lg(e, t = () => "") {
  const n = ir(e.status), r = (a, u) => String(u || t(String(a)) || (a ? `#${a}` : "")), s = {
    id: e.prompt_id,
    short: String(e.prompt_id).slice(0, 8),
    status: n,
    final: sr(n),
    queuedBy: String(e.queued_by ?? ""),
    reason: String(e.reason ?? ""),
    queuePosition: et(e.queue_position),
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
    const u = (e.progress ?? []).find((f) => String(f.node_id) === a);
    u && et(u.max) > 0 && (s.value = et(u.value), s.max = et(u.max), s.percent = Math.max(0, Math.min(100, Math.round(100 * s.value / s.max))));
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
    (a.files ?? []).forEach((u, f) => {
      s.outputs.length >= Zp || u.kind && u.kind !== "images" || /\.(png|jpe?g|webp|gif)$/i.test(String(u.filename ?? "")) && s.outputs.push({ nodeId: String(a.node_id), index: f, filename: String(u.filename), kind: String(u.kind ?? "images") });
    });
  const l = et(e.started_at_ms), c = et(e.ended_at_ms);
  return l && c >= l && (s.seconds = (c - l) / 1e3), s;
}
function rc(e, t, n, r = 0) {
  const s = r ? `?max_side=${r}` : "";
  return `/comfyd/runs/${encodeURIComponent(e)}/outputs/${encodeURIComponent(t)}/${n}${s}`;
}
const sc = 500, ic = 200;
function ln(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function bu() {
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
    summaries: []
    // [{id, coversTo, content}]: compacted turns (docs/sessions.md)
  };
}
function cg(e) {
  let t = null;
  for (const n of e.summaries) (!t || n.coversTo > t.coversTo) && (t = n);
  return t;
}
function ku(e, t = "") {
  Object.assign(e, bu(), { sessionId: t });
}
function oc(e, t) {
  const n = Number(t) || 0;
  for (let r = e.turns.length - 1; r >= 0; r--) if (e.turns[r].id === n) return e.turns[r];
  return null;
}
function Zn(e, t) {
  let n = oc(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let r = e.turns.length;
  for (; r > 0 && e.turns[r - 1].id > n.id; ) r--;
  return e.turns.splice(r, 0, n), e.turns.length > ic && e.turns.splice(0, e.turns.length - ic), oc(e, n.id) ?? n;
}
function _s(e, t) {
  const n = t || "comfyd";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function Hn(e, t) {
  e.logs.push(t), e.logs.length > sc && e.logs.splice(0, e.logs.length - sc);
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
function lc(e, t) {
  if (!t || typeof t != "object") return;
  const n = ln(t.role, "ROLE_"), r = ln(t.state, "MESSAGE_STATE_");
  if (ln(t.kind, "MESSAGE_KIND_") === "summary") {
    const s = Number(t.id) || 0;
    e.summaries.some((i) => i.id === s) || e.summaries.push({ id: s, coversTo: Number(t.covers_to) || 0, content: String(t.content ?? "") });
    return;
  }
  if (n === "user") {
    const s = Zn(e, t.id);
    s.content = String(t.content ?? ""), s.attachments = No(t.attachments), s.state = r, s.error = String(t.error ?? ""), s.createdAt = Number(t.created_at_ms) || s.createdAt || 0, s.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const s = Zn(e, t.turn_id), i = _s(s, t.skill);
    i.id = Number(t.id) || i.id || 0, i.content = String(t.content ?? ""), i.state = r || "done", i.error = String(t.error ?? ""), i.createdAt = Number(t.created_at_ms) || i.createdAt || 0, i.final = !0;
  }
}
function cc(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = ln(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function wu(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function ag(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, r = t.data && typeof t.data == "object" ? t.data : {}, s = wu(t);
  if (r.session_id && e.sessionId && r.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (s && s < e.lastSeq) return !1;
    const i = e.logs, o = { runs: e.runs, runTurns: e.runTurns }, l = e.turns.filter((a) => a.pending), c = r.session?.id ?? e.sessionId;
    ku(e, c), e.logs = i;
    for (const [a, u] of Object.entries(o.runs))
      (!u.session_id || u.session_id === e.sessionId) && (e.runs[a] = u, o.runTurns[a] && (e.runTurns[a] = o.runTurns[a]));
    cc(e, r.session), r.status !== void 0 && (e.status = ln(r.status, "SESSION_STATUS_") || e.status);
    for (const a of Array.isArray(r.history) ? r.history : []) lc(e, a);
    for (const a of Array.isArray(r.partials) ? r.partials : []) {
      const u = _s(Zn(e, a.turn_id), a.skill);
      u.final || (u.content = String(a.content ?? ""), u.next = Number(a.delta_count) || 0, u.state = "streaming");
    }
    return e.lastSeq = s || e.lastSeq, e.needsResync = !1, e.turns.push(...l), !0;
  }
  if (n === "run_update") return yu(e, r.run, { workingTurn: e.status === "working" ? e.workingTurn : 0 });
  if (["created", "configured", "sessions", "skills", "ack", "cancelled", "forked", "revert_result"].includes(n))
    return n === "configured" && r.session && cc(e, r.session), !1;
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
      const i = Zn(e, r.turn_id), o = _s(i, r.skill), l = Number(r.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(r.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return lc(e, r.message), !0;
    case "debug_log":
      return Hn(e, {
        seq: s,
        level: ln(r.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(r.module ?? ""),
        skill: String(r.skill ?? ""),
        message: String(r.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(r.code ?? ""), message: String(r.message ?? ""), skill: String(r.skill ?? "") }, r.turn_id) {
        const i = Zn(e, r.turn_id);
        if (r.skill) {
          const o = _s(i, r.skill);
          o.error = e.lastError.message, o.final || (o.state = r.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return Hn(e, { seq: s, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return r.config && (e.config = r.config), typeof r.title == "string" && (e.title = r.title), !0;
    case "tool_call":
      return Hn(e, { seq: s, level: "INFO", module: "tool", skill: String(r.skill ?? ""), message: `${r.name ?? "tool"}(${String(r.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return sg(e, r.turn_id, r.result_json), Hn(e, { seq: s, level: r.ok ? "INFO" : "WARN", module: "tool", skill: String(r.skill ?? ""), message: `${r.call_id ?? ""} -> ${String(r.result_json ?? "").slice(0, 300)}` }), !0;
    case "reverted": {
      const i = Number(r.to_message_id) || 0;
      if (!i) return !1;
      e.turns = e.turns.filter((l) => l.pending || l.id <= i);
      for (const l of e.turns)
        for (const c of [...l.order])
          (l.replies[c].id || 0) > i && (delete l.replies[c], l.order.splice(l.order.indexOf(c), 1));
      e.summaries = e.summaries.filter((l) => l.id <= i);
      const o = Array.isArray(r.restored) ? r.restored.map((l) => l.canvas_id).join(", ") : "";
      return Hn(e, { seq: s, level: "INFO", module: "session", skill: "", message: `reverted to message ${i}: ${Number(r.messages_hidden) || 0} later message(s) hidden${o ? `; canvas ${o} restored` : ""}` }), !0;
    }
    case "graph_changed":
      return Hn(e, { seq: s, level: "INFO", module: "graph", skill: "", message: `${r.canvas_id ?? ""} r${r.revision ?? ""}: ${r.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function ug(e, t, n, r = []) {
  const s = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, attachments: No(r), state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(s), s;
}
function fg(e, t, n) {
  const r = e.turns.findIndex((o) => o.pending && o.clientId === t), s = r >= 0 ? e.turns.splice(r, 1)[0] : null;
  if (!n?.id) return;
  const i = Zn(e, n.id);
  i.content || (i.content = String(n.content ?? s?.content ?? "")), i.attachments?.length || (i.attachments = No(n.attachments ?? s?.attachments)), i.state || (i.state = ln(n.state, "MESSAGE_STATE_"));
}
function ac(e, t) {
  const n = e.turns.find((r) => r.pending && r.clientId === t);
  n && (n.state = "waiting", n.error = "");
}
function dg(e, t, n) {
  const r = e.turns.find((s) => s.pending && s.clientId === t);
  r && (r.state = "failed", r.error = String(n ?? "not sent"));
}
function ls(e, t = []) {
  const n = [];
  for (const r of t) e.replies[r] && n.push(r);
  for (const r of e.order) n.includes(r) || n.push(r);
  return n.map((r) => e.replies[r]);
}
const hg = 15e3, pg = /* @__PURE__ */ new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]), gg = /* @__PURE__ */ new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);
function ys(e) {
  return gg.has(String(e?.code ?? ""));
}
function dr(e, t) {
  const n = new Error(e);
  return n.code = t, n;
}
class mg {
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
    this.stopped = !0, this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = null, this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.drop(dr("panel closed", "CLOSED"));
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
      n = new this.d.WebSocket(au(t, "/comfy/session/ws"), uu(t));
    } catch {
      return this.retry();
    }
    this.socket = n, n.onopen = () => {
      this.open = !0, this.attempt = 0, this.joined && this.sendJoin(this.joined), this.outage && this.scheduleProbe(0), this.d.onOpen?.();
    }, n.onmessage = (r) => this.onMessage(r.data), n.onerror = () => {
    }, n.onclose = (r) => {
      this.socket === n && (this.open || this.d.onOffline?.(`comfyd-bridge does not answer at ${t.bridgeUrl ?? t.wsBase}`), this.socket = null, this.open = !1, this.drop(dr("connection lost", "DISCONNECTED")), this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.d.onClose?.(r?.code), (r?.code === 1008 || r?.code === 1006) && this.d.connection.invalidate?.(), this.retry());
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
        i(dr("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(r);
        const l = dr(`${t}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(l.message), i(l);
      }, hg);
      this.pending.set(r, { resolve: s, reject: i, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && ku(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
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
      if (pg.has(s)) {
        this.state.lastError = { code: s, message: i, skill: "" }, this.d.onChange?.();
        return;
      }
      this.joinFailed = !0, this.coreAway(i || s);
      return;
    }
    if (r !== void 0 && this.pending.has(r)) {
      const s = this.pending.get(r);
      if (this.pending.delete(r), this.t.clearTimeout(s.timer), n.event === "error") {
        const i = dr(n.data?.message ?? "request failed", n.data?.code ?? "error");
        ys(i) ? this.coreAway(i.message) : this.coreBack(), s.reject(i);
      } else
        this.coreBack(), s.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    wu(n) && n.event !== "error" && this.coreBack(), ag(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
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
const xu = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), _g = Object.freeze(["echo", "openai"]), Di = "workflow-builder", uc = 64 * 1024, Ti = 4096, yg = 64 * 1024, fc = 8, dc = 3 << 20, Mo = Object.freeze(["image/png", "image/jpeg", "image/webp", "image/gif", "text/plain", "text/markdown", "application/json"]), bg = { md: "text/markdown", markdown: "text/markdown", json: "application/json", txt: "text/plain", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };
function kg(e) {
  const t = String(e?.type ?? "").toLowerCase();
  if (Mo.includes(t)) return t;
  const n = String(e?.name ?? "").toLowerCase().split(".").pop();
  return bg[n] ?? t;
}
let wg = 0;
function xg(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let hc = 0;
function vg() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return hc += 1, `panel-${e}-${hc}`;
}
function pc(e) {
  const t = {
    provider: String(e.provider || "echo"),
    model: String(e.model ?? ""),
    base_url: String(e.base_url ?? ""),
    system_prompt: String(e.system_prompt ?? "")
  };
  return Array.isArray(e.active_skills) && (t.skills = e.active_skills.map(String)), t;
}
function gc(e, t) {
  return Array.isArray(e) || Array.isArray(t) ? JSON.stringify(e) === JSON.stringify(t) : e === t;
}
class Ag {
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
    this.state = n(bu()), this.ui = n({
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
    }), this.outbox = [], this.client = new mg({
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
      skills: xg(n.skills)
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
      t.sid === this.state.sessionId && fg(this.state, t.cid, r.message);
    } catch (n) {
      ys(n) && !this.client.stopped ? (ac(this.state, t.cid), this.outbox.push(t)) : dg(this.state, t.cid, n.message);
    }
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = pc(t), r = this.coreConfig?.sid === this.state.sessionId ? this.coreConfig.values : null, s = this.ui.form;
    for (const [i, o] of Object.entries(n))
      !(r && !gc(s[i], r[i])) && !gc(s[i], o) && (s[i] = o, this.d.writeConfig(i, i === "skills" ? o.join(",") : o));
    this.coreConfig = { sid: this.state.sessionId, values: n };
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`), this.tickDefaultSkill();
    } catch (t) {
      ys(t) || (this.ui.notice = `skills: ${t.message}`);
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
      this.ui.sessions = (t.sessions ?? []).map((n) => ({ id: String(n.id), title: String(n.title || n.id) }));
    } catch (t) {
      ys(t) || (this.ui.notice = `sessions: ${t.message}`);
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, Ti),
      model: t.model.slice(0, Ti),
      base_url: t.base_url.slice(0, Ti),
      system_prompt: t.system_prompt.slice(0, yg)
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
      this.coreConfig = { sid: String(s), values: pc(n.config) }, this.selectSession(String(s)), await this.refreshSessions();
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
      const i = kg(s), o = { key: `att-${++wg}`, name: String(s.name || (i.startsWith("image/") ? "pasted image" : "file")), mime: i, size: Number(s.size) || 0, state: "uploading", error: "", sha256: "", preview: "" };
      if (this.ui.attachments.length >= fc) {
        this.ui.notice = `at most ${fc} files per message`;
        break;
      }
      if (!Mo.includes(i))
        o.state = "failed", o.error = `${i || "this type"} is not accepted (PNG, JPEG, WebP, GIF, text, Markdown, JSON)`;
      else if (o.size > dc)
        o.state = "failed", o.error = `larger than ${dc >> 20} MiB`;
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
    if (t.length > uc) {
      this.ui.notice = `a message is at most ${uc} characters`;
      return;
    }
    await this.settingsStep(() => {
    }), this.ui.form.session_id || await this.createSession();
    const r = this.ui.form.session_id;
    if (!r) return;
    this.ui.draft = "";
    const s = n.map((o) => ({ sha256: o.sha256, name: o.name, mime_type: o.mime }));
    for (const o of [...this.ui.attachments]) this.removeAttachment(o.key);
    const i = { cid: vg(), sid: r, content: t, attachments: s };
    if (ug(this.state, i.cid, t, s), this.client.outage) {
      ac(this.state, i.cid), this.outbox.push(i);
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
        for (const r of Array.isArray(n?.runs) ? n.runs : []) yu(this.state, r);
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
  async cancel() {
    if (this.ui.form.session_id)
      try {
        await this.client.request("cancel", { session_id: this.ui.form.session_id, clear_queue: !1 });
      } catch (t) {
        this.ui.notice = `cancel: ${t.message}`;
      }
  }
}
const fo = "ComfydAgentPanel", mc = "comfyd-panel-style", _c = Object.freeze([440, 560]), Rg = 320, yc = (e) => e?.comfyClass === fo || e?.type === fo;
function Eg(e, t) {
  if (e.getElementById(mc)) return;
  const n = e.createElement("style");
  n.id = mc, n.textContent = t, e.head.appendChild(n);
}
function Cg(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function Sg(e) {
  for (const [t, n] of xu) {
    let r = (e.widgets ?? []).find((s) => s.name === t);
    r || (r = e.addWidget("text", t, n, () => {
    }, {})), Cg(r);
  }
}
function Dg(e) {
  const t = {};
  for (const [n, r] of xu) {
    const i = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof i == "string" ? i : r;
  }
  return t;
}
function Tg(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: r } = t;
  Eg(r, t.css), Sg(e);
  const s = (g, m) => {
    const h = (e.widgets ?? []).find((w) => w.name === g);
    !h || h.value === m || (h.value = m, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, i = new Ag({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => Dg(e),
    writeConfig: s,
    app: n,
    getJson: t.getJson,
    apiUrl: t.apiUrl,
    postBytes: t.postBytes
  }), o = r.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: i });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const g = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => Rg,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    g.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  const c = () => {
    (Array.isArray(e.size) || ArrayBuffer.isView(e.size)) && e.setSize?.([Math.max(e.size[0], _c[0]), Math.max(e.size[1], _c[1])]);
  };
  c();
  let a = !1;
  const u = e.onConfigure;
  e.onConfigure = function(...g) {
    a = !0;
    const m = u?.apply(this, g);
    return i.reloadConfig(), m;
  };
  const f = e.onRemoved;
  return e.onRemoved = function(...g) {
    i.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, f?.apply(this, g);
  }, setTimeout(() => {
    e.__comfydPanel && (a || (c(), e.setDirtyCanvas?.(!0, !0)), i.reloadConfig(), i.start());
  }, 0), e.__comfydPanel = i, i;
}
function bc(e, t) {
  (t == null || t > e.length) && (t = e.length);
  for (var n = 0, r = Array(t); n < t; n++) r[n] = e[n];
  return r;
}
function Fg(e) {
  if (Array.isArray(e)) return e;
}
function Ig(e, t) {
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
function Og() {
  throw new TypeError(`Invalid attempt to destructure non-iterable instance.
In order to be iterable, non-array objects must have a [Symbol.iterator]() method.`);
}
function Ng(e, t) {
  return Fg(e) || Ig(e, t) || Mg(e, t) || Og();
}
function Mg(e, t) {
  if (e) {
    if (typeof e == "string") return bc(e, t);
    var n = {}.toString.call(e).slice(8, -1);
    return n === "Object" && e.constructor && (n = e.constructor.name), n === "Map" || n === "Set" ? Array.from(e) : n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n) ? bc(e, t) : void 0;
  }
}
const vu = Object.entries, Lg = Object.keys, kc = Object.setPrototypeOf, Pg = Object.isFrozen, Au = Object.getPrototypeOf, Ru = Object.getOwnPropertyDescriptor;
let Je = Object.freeze, Pe = Object.seal, nn = Object.create, Eu = typeof Reflect < "u" && Reflect, Ts = Eu.apply, ho = Eu.construct;
Je || (Je = function(t) {
  return t;
});
Pe || (Pe = function(t) {
  return t;
});
Ts || (Ts = function(t, n) {
  for (var r = arguments.length, s = new Array(r > 2 ? r - 2 : 0), i = 2; i < r; i++) s[i - 2] = arguments[i];
  return t.apply(n, s);
});
ho || (ho = function(t) {
  for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), s = 1; s < n; s++) r[s - 1] = arguments[s];
  return new t(...r);
});
const $t = Oe(Array.prototype.forEach), jg = Oe(Array.prototype.lastIndexOf), wc = Oe(Array.prototype.pop), hr = Oe(Array.prototype.push), $g = Oe(Array.prototype.slice), Bg = Oe(Array.prototype.splice), Qn = Array.isArray, Fi = Cu(Set), Ii = Oe(Set.prototype.add), pr = Oe(Set.prototype.has), Rn = Oe(String.prototype.toLowerCase), Oi = Oe(String.prototype.toString), zg = Oe(String.prototype.match), cs = Oe(String.prototype.replace), Ni = Oe(String.prototype.indexOf), Ug = Oe(String.prototype.trim), Wg = Oe(Number.prototype.toString), Jg = Oe(Boolean.prototype.toString), xc = typeof BigInt > "u" ? null : Oe(BigInt.prototype.toString), vc = typeof Symbol > "u" ? null : Oe(Symbol.prototype.toString), Ye = Oe(Object.prototype.hasOwnProperty), gr = Oe(Object.prototype.toString), qg = RegExp.prototype.test, Ue = function(t, n) {
  return t instanceof RegExp && (t.lastIndex = 0), Ts(qg, t, [n]);
}, Bt = Cu(TypeError);
function Oe(e) {
  return function(t) {
    for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), s = 1; s < n; s++) r[s - 1] = arguments[s];
    return Ts(e, t, r);
  };
}
function Cu(e) {
  return function() {
    for (var t = arguments.length, n = new Array(t), r = 0; r < t; r++) n[r] = arguments[r];
    return ho(e, n);
  };
}
function be(e, t) {
  let n = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : Rn;
  if (kc && kc(e, null), !Qn(t)) return e;
  let r = t.length;
  for (; r--; ) {
    let s = t[r];
    if (typeof s == "string") {
      const i = n(s);
      i !== s && (Pg(t) || (t[r] = i), s = i);
    }
    e[s] = !0;
  }
  return e;
}
function Hg(e) {
  for (let t = 0; t < e.length; t++) Ye(e, t) || (e[t] = null);
  return e;
}
function Fs(e) {
  const t = nn(null);
  for (const r of vu(e)) {
    var n = Ng(r, 2);
    const s = n[0], i = n[1];
    Ye(e, s) && (Qn(i) ? t[s] = Hg(i) : i && typeof i == "object" && i.constructor === Object ? t[s] = Fs(i) : t[s] = i);
  }
  return t;
}
function br(e) {
  const t = nn(null), n = Lg(e);
  let r = n.length;
  for (; r--; ) t[n[r]] = e[n[r]];
  return t;
}
function Vg(e) {
  switch (typeof e) {
    case "string":
      return e;
    case "number":
      return Wg(e);
    case "boolean":
      return Jg(e);
    case "bigint":
      return xc ? xc(e) : "0";
    case "symbol":
      return vc ? vc(e) : "Symbol()";
    case "undefined":
      return gr(e);
    case "function":
    case "object": {
      if (e === null) return gr(e);
      const t = e, n = ft(t, "toString");
      if (typeof n == "function") {
        const r = n(t);
        return typeof r == "string" ? r : gr(r);
      }
      return gr(e);
    }
    default:
      return gr(e);
  }
}
function ft(e, t) {
  for (; e !== null; ) {
    const r = Ru(e, t);
    if (r) {
      if (r.get) return Oe(r.get);
      if (typeof r.value == "function") return Oe(r.value);
    }
    e = Au(e);
  }
  function n() {
    return null;
  }
  return n;
}
function Gg(e, t) {
  for (; e !== null; ) {
    const n = Ru(e, t);
    if (n) return n.get ? Oe(n.get) : null;
    e = Au(e);
  }
  return null;
}
function Kg(e) {
  if (!e) return !1;
  try {
    return Ue(e, ""), !0;
  } catch {
    return !1;
  }
}
const Ac = Je([
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
]), Mi = Je([
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
]), Li = Je([
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
]), Yg = Je([
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
]), Pi = Je([
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
]), Xg = Je([
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
]), Rc = Je(["#text"]), Ec = Je([
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
]), ji = Je([
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
]), Cc = Je([
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
]), as = Je([
  "xlink:href",
  "xml:id",
  "xlink:title",
  "xml:space",
  "xmlns:xlink"
]), Zg = Pe(/{{[\w\W]*|^[\w\W]*}}/g), Qg = Pe(/<%[\w\W]*|^[\w\W]*%>/g), em = Pe(/\${[\w\W]*/g), tm = Pe(/{{|}}|\${|<%|%>|&lt;%|%&gt;/), nm = Pe(/^data-[\-\w.\u00B7-\uFFFF]+$/), rm = Pe(/^aria-[\-\w]+$/), Sc = Pe(/^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i), sm = Pe(/^(?:\w+script|data):/i), im = Pe(/[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g), om = Pe(/^html$/i), lm = Pe(/^[a-z][.\w]*(-[.\w]+)+$/i), $i = Pe(/<[/\w!]/g), Dc = Pe(/<[/\w]/g), cm = Pe(/<\/no(script|embed|frames)/i), Tc = Pe(/\/>/i), am = Pe(/((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i), um = Pe(/^[\r\n\t ]+/), Me = {
  element: 1,
  text: 3,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentFragment: 11
}, fm = Je(be({}, [
  "style",
  "script",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "plaintext",
  "noscript"
])), dm = function() {
  return typeof window > "u" ? null : window;
}, hm = function(t, n) {
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
}, Fc = function() {
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
  return Ye(t, n) && Qn(t[n]) ? be(s.base ? br(s.base) : {}, t[n], s.transform) : r;
}, Bi = function(t, n, r) {
  const s = Ye(t, n) ? t[n] : void 0;
  return s && typeof s == "object" ? Fs(s) : r;
};
function Su() {
  let e = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : dm();
  const t = (O) => Su(O);
  if (t.version = "3.4.18", t.removed = [], !e || !e.document || e.document.nodeType !== Me.document || !e.Element)
    return t.isSupported = !1, t;
  let n = e.document;
  const r = n, s = r.currentScript, i = e.HTMLTemplateElement, o = e.Node, l = e.Element, c = e.NodeFilter, a = e.DOMParser, u = e.trustedTypes, f = l.prototype, g = ft(f, "cloneNode"), m = ft(f, "remove"), h = ft(f, "removeAttributeNode"), w = ft(f, "nextSibling"), v = ft(f, "childNodes"), T = ft(f, "parentNode"), x = ft(f, "shadowRoot"), b = ft(f, "attributes"), k = o && o.prototype ? ft(o.prototype, "nodeType") : null, F = o && o.prototype ? ft(o.prototype, "nodeName") : null, B = o && o.prototype ? ft(o.prototype, "ownerDocument") : null, j = function(d) {
    return k ? k(d) : d.nodeType;
  }, ee = function(d) {
    return F ? F(d) : d.nodeName;
  }, X = Gg(f, "namespaceURI"), ue = function(d) {
    return X ? X(d) : d.namespaceURI;
  };
  if (typeof i == "function") {
    const O = n.createElement("template");
    O.content && O.content.ownerDocument && (n = O.content.ownerDocument);
  }
  let ne, de = "", De, we = !1, ve = 0;
  const at = function() {
    if (ve > 0) throw Bt('A configured TRUSTED_TYPES_POLICY callback (createHTML or createScriptURL) must not call DOMPurify.sanitize, as that causes infinite recursion. Do not pass a policy whose callbacks wrap DOMPurify as TRUSTED_TYPES_POLICY; see the "DOMPurify and Trusted Types" section of the README.');
  }, W = function(d) {
    at(), ve++;
    try {
      return ne.createHTML(d);
    } finally {
      ve--;
    }
  }, se = function(d) {
    return ne && Hs ? W(d) : d;
  }, le = function(d) {
    at(), ve++;
    try {
      return ne.createScriptURL(d);
    } finally {
      ve--;
    }
  }, me = function() {
    return we || (De = hm(u, s), we = !0), De;
  }, J = n, R = J.implementation, C = J.createNodeIterator, Y = J.createDocumentFragment, ut = J.getElementsByTagName, hn = r.importNode;
  let Ae = Fc();
  t.isSupported = typeof vu == "function" && typeof T == "function" && R && R.createHTMLDocument !== void 0;
  const Hr = Zg, pn = Qg, zo = em, p = nm, _ = rm, A = sm, P = im, S = lm;
  let I = Sc, M = null;
  const $ = be({}, [
    ...Ac,
    ...Mi,
    ...Li,
    ...Pi,
    ...Rc
  ]);
  let N = null;
  const D = be({}, [
    ...Ec,
    ...ji,
    ...Cc,
    ...as
  ]);
  let V = null, z = null, Z = null;
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
  let he = !0, _e = !0, ye = !1, Te = !0, Re = !1, je = !0, Be = !1, ot = !1, gn = null, ze = null, nt = !1, Lt = !1, mn = !1, Hs = !1, Uo = !0, Wo = !1;
  const Jo = "user-content-";
  let Vs = !0, Gs = !1, _n = null, jn = !1, yn = null;
  const qo = be({}, [
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
  const Vo = be({}, [
    "audio",
    "video",
    "img",
    "source",
    "image",
    "track"
  ]);
  let Go = null;
  const Ko = be({}, [
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
  ]), Vr = "http://www.w3.org/1998/Math/MathML", Gr = "http://www.w3.org/2000/svg", vt = "http://www.w3.org/1999/xhtml";
  let $n = vt, Ks = !1, Yo = null;
  const lf = be({}, [
    Vr,
    Gr,
    vt
  ], Oi), cf = Je(be({}, [
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext"
  ]));
  let Ys = null;
  const af = Je(be({}, ["annotation-xml"]));
  let Xs = null;
  const uf = Je(nn(null)), ff = be({}, [
    "title",
    "style",
    "font",
    "a",
    "script"
  ]);
  let cr = null;
  const df = ["application/xhtml+xml", "text/html"], hf = "text/html";
  let Ne = null, Kr = null;
  const pf = n.createElement("form"), Xo = function(d) {
    return d instanceof RegExp || d instanceof Function;
  }, Zs = function() {
    let d = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    (!d || typeof d != "object") && (d = {}), d = Fs(d), cr = df.indexOf(d.PARSER_MEDIA_TYPE) === -1 ? hf : d.PARSER_MEDIA_TYPE, Ne = cr === "application/xhtml+xml" ? Oi : Rn, M = Qt(d, "ALLOWED_TAGS", $, { transform: Ne }), N = Qt(d, "ALLOWED_ATTR", D, { transform: Ne }), Yo = Qt(d, "ALLOWED_NAMESPACES", lf, { transform: Oi }), Go = Qt(d, "ADD_URI_SAFE_ATTR", Ko, {
      transform: Ne,
      base: Ko
    }), Ho = Qt(d, "ADD_DATA_URI_TAGS", Vo, {
      transform: Ne,
      base: Vo
    }), yn = Qt(d, "FORBID_CONTENTS", qo, { transform: Ne }), z = Qt(d, "FORBID_TAGS", nn(null), { transform: Ne }), Z = Qt(d, "FORBID_ATTR", nn(null), { transform: Ne }), jn = Ye(d, "USE_PROFILES") ? d.USE_PROFILES && typeof d.USE_PROFILES == "object" ? Fs(d.USE_PROFILES) : d.USE_PROFILES : !1, he = d.ALLOW_ARIA_ATTR !== !1, _e = d.ALLOW_DATA_ATTR !== !1, ye = d.ALLOW_UNKNOWN_PROTOCOLS || !1, Te = d.ALLOW_SELF_CLOSE_IN_ATTR !== !1, Re = d.SAFE_FOR_TEMPLATES || !1, je = d.SAFE_FOR_XML !== !1, Be = d.WHOLE_DOCUMENT || !1, Lt = d.RETURN_DOM || !1, mn = d.RETURN_DOM_FRAGMENT || !1, Hs = d.RETURN_TRUSTED_TYPE || !1, nt = d.FORCE_BODY || !1, Uo = d.SANITIZE_DOM !== !1, Wo = d.SANITIZE_NAMED_PROPS || !1, Vs = d.KEEP_CONTENT !== !1, Gs = d.IN_PLACE || !1, I = Kg(d.ALLOWED_URI_REGEXP) ? d.ALLOWED_URI_REGEXP : Sc, $n = typeof d.NAMESPACE == "string" ? d.NAMESPACE : vt, Ys = Bi(d, "MATHML_TEXT_INTEGRATION_POINTS", cf), Xs = Bi(d, "HTML_INTEGRATION_POINTS", af);
    const y = Bi(d, "CUSTOM_ELEMENT_HANDLING", uf);
    if (V = nn(null), Ye(y, "tagNameCheck") && Xo(y.tagNameCheck) && (V.tagNameCheck = y.tagNameCheck), Ye(y, "attributeNameCheck") && Xo(y.attributeNameCheck) && (V.attributeNameCheck = y.attributeNameCheck), Ye(y, "allowCustomizedBuiltInElements") && typeof y.allowCustomizedBuiltInElements == "boolean" && (V.allowCustomizedBuiltInElements = y.allowCustomizedBuiltInElements), Pe(V), Re && (_e = !1), mn && (Lt = !0), jn && ((Ye(d, "ALLOWED_TAGS") || Ye(d, "ALLOWED_ATTR")) && typeof console < "u" && typeof console.warn == "function" && console.warn("DOMPurify: USE_PROFILES overrides ALLOWED_TAGS and ALLOWED_ATTR. Do not use these options together."), M = be({}, Rc), N = nn(null), jn.html === !0 && (be(M, Ac), be(N, Ec)), jn.svg === !0 && (be(M, Mi), be(N, ji), be(N, as)), jn.svgFilters === !0 && (be(M, Li), be(N, ji), be(N, as)), jn.mathMl === !0 && (be(M, Pi), be(N, Cc), be(N, as))), te.tagCheck = null, te.attributeCheck = null, Ye(d, "ADD_TAGS") && (typeof d.ADD_TAGS == "function" ? te.tagCheck = d.ADD_TAGS : Qn(d.ADD_TAGS) && (M === $ && (M = br(M)), be(M, d.ADD_TAGS, Ne))), Ye(d, "ADD_ATTR") && (typeof d.ADD_ATTR == "function" ? te.attributeCheck = d.ADD_ATTR : Qn(d.ADD_ATTR) && (N === D && (N = br(N)), be(N, d.ADD_ATTR, Ne))), Ye(d, "ADD_FORBID_CONTENTS") && Qn(d.ADD_FORBID_CONTENTS) && (yn === qo && (yn = br(yn)), be(yn, d.ADD_FORBID_CONTENTS, Ne)), Vs && (M["#text"] = !0), Be && be(M, [
      "html",
      "head",
      "body"
    ]), M.table && (M.tbody = !0, delete z.tbody), d.TRUSTED_TYPES_POLICY) {
      if (typeof d.TRUSTED_TYPES_POLICY.createHTML != "function") throw Bt('TRUSTED_TYPES_POLICY configuration option must provide a "createHTML" hook.');
      if (typeof d.TRUSTED_TYPES_POLICY.createScriptURL != "function") throw Bt('TRUSTED_TYPES_POLICY configuration option must provide a "createScriptURL" hook.');
      const E = ne;
      ne = d.TRUSTED_TYPES_POLICY;
      try {
        de = W("");
      } catch (L) {
        throw ne = E, L;
      }
    } else d.TRUSTED_TYPES_POLICY === null ? (ne = void 0, de = "") : (ne === void 0 && (ne = me()), ne && typeof de == "string" && (de = W("")));
    Kr = Je(d);
  }, Zo = be({}, [
    ...Mi,
    ...Li,
    ...Yg
  ]), Qo = be({}, [...Pi, ...Xg]), gf = function(d, y, E) {
    return y === vt ? d === "svg" : y === Vr ? d === "svg" && (E === "annotation-xml" || Ys[E]) : !!Zo[d];
  }, mf = function(d, y, E) {
    return y === vt ? d === "math" : y === Gr ? d === "math" && Xs[E] : !!Qo[d];
  }, _f = function(d, y, E) {
    return y === Gr && !Xs[E] || y === Vr && !Ys[E] ? !1 : !Qo[d] && (ff[d] || !Zo[d]);
  }, yf = function(d) {
    const y = ue(d), E = Rn(ee(d)), L = T(d);
    let Q = $n, re = "template";
    return L && j(L) === Me.element && (Q = ue(L), re = Rn(ee(L))), Yo[y] ? y === Gr ? gf(E, Q, re) : y === Vr ? mf(E, Q, re) : y === vt ? _f(E, Q, re) : cr === "application/xhtml+xml" : !1;
  }, Yt = function(d) {
    hr(t.removed, { element: d });
    try {
      T(d).removeChild(d);
    } catch {
      if (m(d), !T(d)) throw Bt("a node selected for removal could not be detached from its tree and cannot be safely returned; refusing to sanitize in place");
    }
  }, el = function(d, y, E) {
    try {
      h(d, y);
    } catch {
      try {
        d.removeAttribute(E);
      } catch {
      }
    }
  }, Qs = function(d) {
    ni(d);
    const y = v(d);
    y && $t($g(y), (E) => {
      try {
        m(E);
      } catch {
      }
    }), j(d) === Me.element && ei(d, !1);
  }, Bn = function(d, y, E) {
    if (!E) try {
      E = y.getAttributeNode(d);
    } catch {
      E = null;
    }
    if (hr(t.removed, {
      attribute: E || null,
      from: y
    }), E) el(y, E, d);
    else try {
      y.removeAttribute(d);
    } catch {
    }
    if (d === "is")
      if (Lt || mn) try {
        Yt(y);
      } catch {
      }
      else try {
        y.setAttribute(d, "");
      } catch {
      }
  }, ei = function(d, y) {
    const E = b(d);
    if (E)
      for (let L = E.length - 1; L >= 0; --L) {
        const Q = E[L], re = Q && Q.name;
        typeof re == "string" && !(y && N[Ne(re)]) && el(d, Q, re);
      }
  }, ti = function(d, y) {
    let E = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : !1;
    const L = [d];
    for (; L.length > 0; ) {
      const Q = L.pop();
      if (y(Q) === !1) continue;
      if (E && j(Q) === Me.element) {
        const fe = x(Q);
        zn(fe) && L.push(fe);
      }
      const re = v(Q);
      if (re) for (let fe = re.length - 1; fe >= 0; --fe) L.push(re[fe]);
    }
  }, ni = function(d) {
    ti(d, (y) => {
      j(y) === Me.element && ei(y, !0);
    });
  }, ri = function(d) {
    const y = [];
    return ti(d, (E) => {
      y.push(E);
    }, !0), y;
  }, bf = function(d, y) {
    const E = Fi();
    $t(ri(d), (L) => {
      j(L) === Me.element && Ii(E, L);
    }), $t(y, (L) => {
      j(L) === Me.element && !pr(E, L) && ei(L, !0);
    });
  }, tl = function(d, y) {
    let E = !1;
    return $t(t.removed, (L) => {
      L.element && (E = E || L.element === d, ni(L.element));
    }), bf(d, y), E;
  }, kf = 8, wf = function(d, y) {
    const E = _n;
    let L = null;
    const Q = () => (L || (L = Fi(), $t(y, (re) => {
      Ii(L, re);
    })), L);
    for (let re = 0; ; re++) {
      const fe = ri(d), $e = [d];
      let Pt = !1;
      if ($t(fe, (_t) => {
        j(_t) === Me.documentFragment ? hr($e, _t) : !Pt && !pr(E, _t) && (Pt = pr(Q(), _t));
      }), !Pt) return;
      if (re >= kf) throw Bt("the tree kept changing during in-place sanitization; refusing to return it");
      $t($e, (_t, lt) => {
        xf(_t, lt > 0, d, Q());
      });
    }
  }, xf = function(d, y, E, L) {
    const Q = Yr(d);
    let re;
    for (; re = Q.nextNode(); )
      !pr(L, re) || pr(_n, re) || (y && mt(Ae.uponSanitizeShadowNode, re, null), li(re, E));
  }, vf = function(d) {
    _n && Ii(_n, d);
  }, nl = function(d, y) {
    return je ? d === "patchsrc" ? !0 : d === "for" && y !== "label" && y !== "output" : !1;
  }, Af = function(d) {
    je && ti(d, (y) => {
      const E = j(y);
      if (E === Me.processingInstruction || E === Me.comment && Ue(Dc, y.data)) {
        try {
          m(y);
        } catch {
        }
        return !1;
      }
      if (E === Me.element) {
        const L = y, Q = Ne(ee(y));
        try {
          L.hasAttribute && L.hasAttribute("patchsrc") && L.removeAttribute("patchsrc"), L.hasAttribute && L.hasAttribute("for") && nl("for", Q) && L.removeAttribute("for");
        } catch {
        }
      }
      return !0;
    });
  }, rl = function(d) {
    let y = null, E = null;
    if (nt) d = "<remove></remove>" + d;
    else {
      const re = zg(d, um);
      E = re && re[0];
    }
    cr === "application/xhtml+xml" && $n === vt && (d = '<html xmlns="http://www.w3.org/1999/xhtml"><head></head><body>' + d + "</body></html>");
    const L = ne ? W(d) : d;
    if ($n === vt) try {
      y = new a().parseFromString(L, cr);
    } catch {
    }
    if (!y || !y.documentElement) {
      y = R.createDocument($n, "template", null);
      try {
        y.documentElement.innerHTML = Ks ? de : L;
      } catch {
      }
    }
    const Q = y.body || y.documentElement;
    return d && E && Q.insertBefore(n.createTextNode(E), Q.childNodes[0] || null), $n === vt ? ut.call(y, Be ? "html" : "body")[0] : Be ? y.documentElement : Q;
  }, Yr = function(d) {
    let y = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : !1;
    const E = B ? B(d) : d.ownerDocument;
    return C.call(E || d, d, (y ? 0 : c.SHOW_ELEMENT) | c.SHOW_COMMENT | c.SHOW_TEXT | c.SHOW_PROCESSING_INSTRUCTION | c.SHOW_CDATA_SECTION, null);
  }, si = function(d) {
    return d = cs(d, Hr, " "), d = cs(d, pn, " "), d = cs(d, zo, " "), d;
  }, ii = function(d) {
    var y;
    oi(d);
    const E = (y = d.querySelectorAll) === null || y === void 0 ? void 0 : y.call(d, "template");
    E && $t(E, (L) => {
      zn(L.content) && ii(L.content);
    });
  }, oi = function(d) {
    d.normalize();
    const y = Yr(d, !0);
    let E = y.nextNode();
    for (; E; )
      E.data = si(E.data), E = y.nextNode();
  }, Xr = function(d) {
    const y = F ? F(d) : null;
    return typeof y != "string" || Ne(y) !== "form" ? !1 : typeof d.nodeName != "string" || typeof d.textContent != "string" || typeof d.removeChild != "function" || d.attributes !== b(d) || typeof d.removeAttribute != "function" || typeof d.removeAttributeNode != "function" || typeof d.getAttributeNode != "function" || typeof d.setAttribute != "function" || typeof d.namespaceURI != "string" || typeof d.insertBefore != "function" || typeof d.hasChildNodes != "function" || d.nodeType !== k(d) || d.childNodes !== v(d);
  }, sl = function(d) {
    if (!k || typeof d != "object" || d === null) return null;
    try {
      const y = k(d);
      return typeof y == "number" ? y : null;
    } catch {
      return null;
    }
  }, zn = function(d) {
    return sl(d) === Me.documentFragment;
  }, ar = function(d) {
    return sl(d) !== null;
  };
  function mt(O, d, y) {
    O.length !== 0 && $t(O, (E) => {
      E.call(t, d, y, Kr);
    });
  }
  const Rf = function(d, y, E) {
    return !!(je && E === Me.element && d.hasChildNodes() && !ar(d.firstElementChild) && Ue($i, d.textContent) && Ue($i, d.innerHTML) || je && fm[y] && E === Me.element && ue(d) === vt && (ar(d.firstElementChild) || typeof d.textContent == "string" && Ue($i, d.textContent)) || E === Me.processingInstruction || je && E === Me.comment && Ue(Dc, d.data));
  }, Zr = function(d, y) {
    if (d instanceof RegExp) return Ue(d, y);
    if (d instanceof Function) {
      for (var E = arguments.length, L = new Array(E > 2 ? E - 2 : 0), Q = 2; Q < E; Q++) L[Q - 2] = arguments[Q];
      return !!d(y, ...L);
    }
    return !1;
  }, Ef = function(d, y, E) {
    if (!z[y] && ll(y) && Zr(V.tagNameCheck, y)) return !1;
    if (Vs && !yn[y] && !yn[Rn(y)]) {
      const L = T(d), Q = v(d);
      if (Q && L) {
        const re = Q.length;
        for (let fe = re - 1; fe >= 0; --fe) {
          const $e = d === E ? g(Q[fe], !0) : Q[fe];
          L.insertBefore($e, w(d));
        }
      }
    }
    return Yt(d), !0;
  }, il = function(d, y, E, L) {
    return d.length === 0 ? y : y === E || y === L ? br(y) : y;
  }, Un = function(d, y) {
    return d === y || T(d) !== null ? !1 : (Gs && ni(d), !0);
  }, Cf = function(d, y) {
    if (vf(d), mt(Ae.beforeSanitizeElements, d, null), Un(d, y)) return !0;
    if (Xr(d))
      return Yt(d), !0;
    const E = Ne(ee(d)), L = j(d);
    if (M = il(Ae.uponSanitizeElement, M, $, gn), mt(Ae.uponSanitizeElement, d, {
      tagName: E,
      allowedTags: M
    }), Un(d, y)) return !0;
    if (Rf(d, E, L))
      return Yt(d), !0;
    if (z[E] || !(te.tagCheck instanceof Function && te.tagCheck(E)) && !M[E]) {
      const Q = Ef(d, E, y);
      return Q === !1 && (mt(Ae.afterSanitizeElements, d, null), Un(d, y)) ? !0 : Q;
    }
    if (L === Me.element && !yf(d) || (E === "noscript" || E === "noembed" || E === "noframes") && Ue(cm, d.innerHTML))
      return Yt(d), !0;
    if (Re && L === Me.text) {
      const Q = d.textContent, re = si(Q);
      Q !== re && (hr(t.removed, { element: d.cloneNode() }), d.textContent = re);
    }
    return mt(Ae.afterSanitizeElements, d, null), Un(d, y);
  }, ol = function(d, y, E) {
    if (Z[y] || nl(y, d) || Uo && (y === "id" || y === "name") && (E in n || E in pf)) return !1;
    const L = N[y] || te.attributeCheck instanceof Function && te.attributeCheck(y, d);
    if (_e && Ue(p, y) || he && Ue(_, y)) return !0;
    if (!L) return ll(d) && Zr(V.tagNameCheck, d) && Zr(V.attributeNameCheck, y, d) || y === "is" && V.allowCustomizedBuiltInElements && Zr(V.tagNameCheck, E);
    if (Go[y]) return !0;
    const Q = cs(E, P, "");
    return Ue(I, Q) || (y === "src" || y === "xlink:href" || y === "href") && d !== "script" && Ni(E, "data:") === 0 && Ho[d] || ye && !Ue(A, Q) ? !0 : !E;
  }, Sf = be({}, [
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-format",
    "font-face-name",
    "font-face-src",
    "font-face-uri",
    "missing-glyph"
  ]), ll = function(d) {
    return !Sf[Rn(d)] && Ue(S, d);
  }, Df = function(d, y, E, L) {
    if (ne && typeof u == "object" && typeof u.getAttributeType == "function" && !E) switch (u.getAttributeType(d, y)) {
      case "TrustedHTML":
        return W(L);
      case "TrustedScriptURL":
        return le(L);
    }
    return L;
  }, Tf = function(d, y, E, L) {
    try {
      return E ? d.setAttributeNS(E, y, L) : d.setAttribute(y, L), Xr(d) ? (Yt(d), !1) : !0;
    } catch {
      return Bn(y, d), !1;
    }
  }, cl = function(d, y) {
    return je && Ue(am, y) ? !0 : Rn(d) === "attributename" && Ni(y, "href") !== -1;
  }, Ff = function(d, y) {
    if (mt(Ae.beforeSanitizeAttributes, d, null), Un(d, y)) return;
    const E = d.attributes;
    if (!E || Xr(d)) return;
    N = il(Ae.uponSanitizeAttribute, N, D, ze);
    const L = {
      attrName: "",
      attrValue: "",
      keepAttr: !0,
      allowedAttributes: N,
      forceKeepAttr: void 0
    };
    let Q = E.length;
    const re = Ne(ee(d));
    for (; Q--; ) {
      const fe = E[Q], $e = fe.name, Pt = fe.namespaceURI, _t = fe.value, lt = Ne($e), At = _t;
      let qe = $e === "value" ? At : Ug(At), al = !1;
      if (L.attrName = lt, L.attrValue = qe, L.keepAttr = !0, L.forceKeepAttr = void 0, mt(Ae.uponSanitizeAttribute, d, L), qe = L.attrValue, Wo && (lt === "id" || lt === "name") && Ni(qe, Jo) !== 0 && (Bn($e, d, fe), qe = Jo + qe, al = !0), cl($e, qe)) {
        Bn($e, d, fe);
        continue;
      }
      if (!L.forceKeepAttr) {
        if (!L.keepAttr) {
          Bn($e, d, fe);
          continue;
        }
        if (!Te && Ue(Tc, qe)) {
          Bn($e, d, fe);
          continue;
        }
        if (Re && (qe = si(qe)), !ol(re, lt, qe)) {
          Bn($e, d, fe);
          continue;
        }
        qe = Df(re, lt, Pt, qe), qe !== At && Tf(d, $e, Pt, qe) && al && wc(t.removed);
      }
    }
    mt(Ae.afterSanitizeAttributes, d, null), Un(d, y);
  }, li = function(d, y) {
    Cf(d, y), Ff(d, y), zn(d.content) && ci(d.content);
  }, ci = function(d) {
    let y = null;
    const E = Yr(d);
    for (mt(Ae.beforeSanitizeShadowDOM, d, null); y = E.nextNode(); )
      if (mt(Ae.uponSanitizeShadowNode, y, null), li(y, d), j(y) === Me.element) {
        const L = x(y);
        zn(L) && (ai(L), ci(L));
      }
    Re && oi(d), mt(Ae.afterSanitizeShadowDOM, d, null);
  }, ai = function(d) {
    const y = [{
      node: d,
      shadow: null
    }];
    for (; y.length > 0; ) {
      const E = y.pop();
      if (E.shadow) {
        ci(E.shadow);
        continue;
      }
      const L = E.node, Q = j(L) === Me.element, re = v(L);
      if (re) for (let fe = re.length - 1; fe >= 0; --fe) y.push({
        node: re[fe],
        shadow: null
      });
      if (Q) {
        const fe = F ? F(L) : null;
        if (typeof fe == "string" && Ne(fe) === "template") {
          const $e = L.content;
          zn($e) && y.push({
            node: $e,
            shadow: null
          });
        }
      }
      if (Q) {
        const fe = x(L);
        zn(fe) && y.push({
          node: null,
          shadow: fe
        }, {
          node: fe,
          shadow: null
        });
      }
    }
  };
  return t.sanitize = function(O) {
    let d = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : {}, y = null, E = null, L = null, Q = null;
    if (Ks = !O, Ks && (O = "<!-->"), typeof O != "string" && !ar(O) && (O = Vg(O), typeof O != "string"))
      throw Bt("dirty is not a string, aborting");
    if (!t.isSupported) return O;
    ot ? (M = gn, N = ze) : Zs(d), t.removed = [];
    const re = Gs && typeof O != "string" && ar(O);
    let fe = [];
    const $e = _n;
    if (re) {
      Af(O);
      const At = ee(O);
      if (typeof At == "string") {
        const qe = Ne(At);
        if (!M[qe] || z[qe])
          throw Qs(O), Bt("root node is forbidden and cannot be sanitized in-place");
      }
      if (Xr(O))
        throw Qs(O), Bt("root node is clobbered and cannot be sanitized in-place");
      fe = ri(O), _n = Fi();
    } else if (ar(O))
      y = rl("<!---->"), E = y.ownerDocument.importNode(O, !0), E.nodeType === Me.element && E.nodeName === "BODY" || E.nodeName === "HTML" ? y = E : y.appendChild(E), ai(y);
    else {
      if (!Lt && !Re && !Be && O.indexOf("<") === -1) return se(O);
      if (y = rl(O), !y) return Lt ? null : Hs ? de : "";
    }
    y && nt && Yt(y.firstChild);
    const Pt = re ? O : y;
    try {
      re && ai(O);
      const At = Yr(Pt);
      for (; L = At.nextNode(); ) li(L, Pt);
      re && wf(O, fe);
    } catch (At) {
      throw re && (Qs(O), tl(O, fe)), At;
    } finally {
      _n = $e;
    }
    if (re) {
      if (tl(O, fe)) throw Bt("a node selected for removal could not be safely returned; refusing to sanitize in place");
      return Re && ii(O), O;
    }
    if (Lt) {
      if (Re && ii(y), mn)
        for (Q = Y.call(y.ownerDocument); y.firstChild; ) Q.appendChild(y.firstChild);
      else Q = y;
      return (N.shadowroot || N.shadowrootmode) && (Q = hn.call(r, Q, !0)), Q;
    }
    const _t = () => Be ? y.outerHTML : y.innerHTML;
    let lt = _t();
    return Re && Ue(tm, lt) && (oi(y), lt = _t()), Be && M["!doctype"] && y.ownerDocument && y.ownerDocument.doctype && y.ownerDocument.doctype.name && Ue(om, y.ownerDocument.doctype.name) && (lt = "<!DOCTYPE " + y.ownerDocument.doctype.name + `>
` + lt), se(lt);
  }, t.setConfig = function() {
    let O = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    Zs(O), ot = !0, gn = M, ze = N;
  }, t.clearConfig = function() {
    Kr = null, ot = !1, gn = null, ze = null, ne = De, de = "";
  }, t.isValidAttribute = function(O, d, y) {
    Kr || Zs({});
    const E = Ne(O), L = Ne(d);
    return typeof y == "string" && (cl(d, y) || !Te && Ue(Tc, y)) ? !1 : ol(E, L, y);
  }, t.addHook = function(O, d) {
    typeof d == "function" && Ye(Ae, O) && hr(Ae[O], d);
  }, t.removeHook = function(O, d) {
    if (Ye(Ae, O)) {
      if (d !== void 0) {
        const y = jg(Ae[O], d);
        return y === -1 ? void 0 : Bg(Ae[O], y, 1)[0];
      }
      return wc(Ae[O]);
    }
  }, t.removeHooks = function(O) {
    Ye(Ae, O) && (Ae[O] = []);
  }, t.removeAllHooks = function() {
    Ae = Fc();
  }, t;
}
var pm = Su();
const Ic = {};
function gm(e) {
  let t = Ic[e];
  if (t)
    return t;
  t = Ic[e] = [];
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
function or(e, t) {
  typeof t != "string" && (t = or.defaultChars);
  const n = gm(t);
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
          let f = l << 18 & 1835008 | c << 12 & 258048 | a << 6 & 4032 | u & 63;
          f < 65536 || f > 1114111 ? s += "����" : (f -= 65536, s += String.fromCharCode(55296 + (f >> 10), 56320 + (f & 1023))), i += 9;
          continue;
        }
      }
      s += "�";
    }
    return s;
  });
}
or.defaultChars = ";/?:@&=+$,#";
or.componentChars = "";
const Oc = {};
function mm(e) {
  let t = Oc[e];
  if (t)
    return t;
  t = Oc[e] = [];
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
  const r = mm(t);
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
function Is() {
  this.protocol = null, this.slashes = null, this.auth = null, this.port = null, this.hostname = null, this.hash = null, this.search = null, this.pathname = null;
}
const _m = /^([a-z0-9.+-]+:)/i, ym = /:[0-9]*$/, bm = /^(\/\/?(?!\/)[^\?\s]*)(\?[^\s]*)?$/, km = ["<", ">", '"', "`", " ", "\r", `
`, "	"], wm = ["{", "}", "|", "\\", "^", "`"].concat(km), xm = ["'"].concat(wm), Nc = ["%", "/", "?", ";", "#"].concat(xm), Mc = ["/", "?", "#"], vm = 255, Lc = /^[+a-z0-9A-Z_-]{0,63}$/, Am = /^([+a-z0-9A-Z_-]{0,63})(.*)$/, Pc = {
  javascript: !0,
  "javascript:": !0
}, jc = {
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
  if (e && e instanceof Is) return e;
  const n = new Is();
  return n.parse(e, t), n;
}
Is.prototype.parse = function(e, t) {
  let n, r, s, i = e;
  if (i = i.trim(), !t && e.split("#").length === 1) {
    const a = bm.exec(i);
    if (a)
      return this.pathname = a[1], a[2] && (this.search = a[2]), this;
  }
  let o = _m.exec(i);
  if (o && (o = o[0], n = o.toLowerCase(), this.protocol = o, i = i.substr(o.length)), (t || o || i.match(/^\/\/[^@\/]+@[^@\/]+/)) && (s = i.substr(0, 2) === "//", s && !(o && Pc[o]) && (i = i.substr(2), this.slashes = !0)), !Pc[o] && (s || o && !jc[o])) {
    let a = -1;
    for (let h = 0; h < Mc.length; h++)
      r = i.indexOf(Mc[h]), r !== -1 && (a === -1 || r < a) && (a = r);
    let u, f;
    a === -1 ? f = i.lastIndexOf("@") : f = i.lastIndexOf("@", a), f !== -1 && (u = i.slice(0, f), i = i.slice(f + 1), this.auth = u), a = -1;
    for (let h = 0; h < Nc.length; h++)
      r = i.indexOf(Nc[h]), r !== -1 && (a === -1 || r < a) && (a = r);
    a === -1 && (a = i.length), i[a - 1] === ":" && a--;
    const g = i.slice(0, a);
    i = i.slice(a), this.parseHost(g), this.hostname = this.hostname || "";
    const m = this.hostname[0] === "[" && this.hostname[this.hostname.length - 1] === "]";
    if (!m) {
      const h = this.hostname.split(/\./);
      for (let w = 0, v = h.length; w < v; w++) {
        const T = h[w];
        if (T && !T.match(Lc)) {
          let x = "";
          for (let b = 0, k = T.length; b < k; b++)
            T.charCodeAt(b) > 127 ? x += "x" : x += T[b];
          if (!x.match(Lc)) {
            const b = h.slice(0, w), k = h.slice(w + 1), F = T.match(Am);
            F && (b.push(F[1]), k.unshift(F[2])), k.length && (i = k.join(".") + i), this.hostname = b.join(".");
            break;
          }
        }
      }
    }
    this.hostname.length > vm && (this.hostname = ""), m && (this.hostname = this.hostname.substr(1, this.hostname.length - 2));
  }
  const l = i.indexOf("#");
  l !== -1 && (this.hash = i.substr(l), i = i.slice(0, l));
  const c = i.indexOf("?");
  return c !== -1 && (this.search = i.substr(c), i = i.slice(0, c)), i && (this.pathname = i), jc[n] && this.hostname && !this.pathname && (this.pathname = ""), this;
};
Is.prototype.parseHost = function(e) {
  let t = ym.exec(e);
  t && (t = t[0], t !== ":" && (this.port = t.substr(1)), e = e.substr(0, e.length - t.length)), e && (this.hostname = e);
};
const Rm = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  decode: or,
  encode: qt,
  format: po,
  parse: go
}, Symbol.toStringTag, { value: "Module" })), Du = /[\0-\uD7FF\uE000-\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/, Tu = /[\0-\x1F\x7F-\x9F]/, Em = /[\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/, Lo = /[!-#%-\*,-\/:;\?@\[-\]_\{\}\xA1\xA7\xAB\xB6\xB7\xBB\xBF\u037E\u0387\u055A-\u055F\u0589\u058A\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0609\u060A\u060C\u060D\u061B\u061D-\u061F\u066A-\u066D\u06D4\u0700-\u070D\u07F7-\u07F9\u0830-\u083E\u085E\u0964\u0965\u0970\u09FD\u0A76\u0AF0\u0C77\u0C84\u0DF4\u0E4F\u0E5A\u0E5B\u0F04-\u0F12\u0F14\u0F3A-\u0F3D\u0F85\u0FD0-\u0FD4\u0FD9\u0FDA\u104A-\u104F\u10FB\u1360-\u1368\u1400\u166E\u169B\u169C\u16EB-\u16ED\u1735\u1736\u17D4-\u17D6\u17D8-\u17DA\u1800-\u180A\u1944\u1945\u1A1E\u1A1F\u1AA0-\u1AA6\u1AA8-\u1AAD\u1B4E\u1B4F\u1B5A-\u1B60\u1B7D-\u1B7F\u1BFC-\u1BFF\u1C3B-\u1C3F\u1C7E\u1C7F\u1CC0-\u1CC7\u1CD3\u2010-\u2027\u2030-\u2043\u2045-\u2051\u2053-\u205E\u207D\u207E\u208D\u208E\u2308-\u230B\u2329\u232A\u2768-\u2775\u27C5\u27C6\u27E6-\u27EF\u2983-\u2998\u29D8-\u29DB\u29FC\u29FD\u2CF9-\u2CFC\u2CFE\u2CFF\u2D70\u2E00-\u2E2E\u2E30-\u2E4F\u2E52-\u2E5D\u3001-\u3003\u3008-\u3011\u3014-\u301F\u3030\u303D\u30A0\u30FB\uA4FE\uA4FF\uA60D-\uA60F\uA673\uA67E\uA6F2-\uA6F7\uA874-\uA877\uA8CE\uA8CF\uA8F8-\uA8FA\uA8FC\uA92E\uA92F\uA95F\uA9C1-\uA9CD\uA9DE\uA9DF\uAA5C-\uAA5F\uAADE\uAADF\uAAF0\uAAF1\uABEB\uFD3E\uFD3F\uFE10-\uFE19\uFE30-\uFE52\uFE54-\uFE61\uFE63\uFE68\uFE6A\uFE6B\uFF01-\uFF03\uFF05-\uFF0A\uFF0C-\uFF0F\uFF1A\uFF1B\uFF1F\uFF20\uFF3B-\uFF3D\uFF3F\uFF5B\uFF5D\uFF5F-\uFF65]|\uD800[\uDD00-\uDD02\uDF9F\uDFD0]|\uD801\uDD6F|\uD802[\uDC57\uDD1F\uDD3F\uDE50-\uDE58\uDE7F\uDEF0-\uDEF6\uDF39-\uDF3F\uDF99-\uDF9C]|\uD803[\uDD6E\uDEAD\uDED0\uDF55-\uDF59\uDF86-\uDF89]|\uD804[\uDC47-\uDC4D\uDCBB\uDCBC\uDCBE-\uDCC1\uDD40-\uDD43\uDD74\uDD75\uDDC5-\uDDC8\uDDCD\uDDDB\uDDDD-\uDDDF\uDE38-\uDE3D\uDEA9\uDFD4\uDFD5\uDFD7\uDFD8]|\uD805[\uDC4B-\uDC4F\uDC5A\uDC5B\uDC5D\uDCC6\uDDC1-\uDDD7\uDE41-\uDE43\uDE60-\uDE6C\uDEB9\uDF3C-\uDF3E]|\uD806[\uDC3B\uDD44-\uDD46\uDDE2\uDE3F-\uDE46\uDE9A-\uDE9C\uDE9E-\uDEA2\uDF00-\uDF09\uDFE1]|\uD807[\uDC41-\uDC45\uDC70\uDC71\uDEF7\uDEF8\uDF43-\uDF4F\uDFFF]|\uD809[\uDC70-\uDC74]|\uD80B[\uDFF1\uDFF2]|\uD81A[\uDE6E\uDE6F\uDEF5\uDF37-\uDF3B\uDF44]|\uD81B[\uDD6D-\uDD6F\uDE97-\uDE9A\uDFE2]|\uD82F\uDC9F|\uD836[\uDE87-\uDE8B]|\uD839\uDDFF|\uD83A[\uDD5E\uDD5F]/, Fu = /[\$\+<->\^`\|~\xA2-\xA6\xA8\xA9\xAC\xAE-\xB1\xB4\xB8\xD7\xF7\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02EB\u02ED\u02EF-\u02FF\u0375\u0384\u0385\u03F6\u0482\u058D-\u058F\u0606-\u0608\u060B\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6\u07FE\u07FF\u0888\u09F2\u09F3\u09FA\u09FB\u0AF1\u0B70\u0BF3-\u0BFA\u0C7F\u0D4F\u0D79\u0E3F\u0F01-\u0F03\u0F13\u0F15-\u0F17\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8\u109E\u109F\u1390-\u1399\u166D\u17DB\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u1FBD\u1FBF-\u1FC1\u1FCD-\u1FCF\u1FDD-\u1FDF\u1FED-\u1FEF\u1FFD\u1FFE\u2044\u2052\u207A-\u207C\u208A-\u208C\u20A0-\u20C1\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u2140-\u2144\u214A-\u214D\u214F\u218A\u218B\u2190-\u2307\u230C-\u2328\u232B-\u2429\u2440-\u244A\u249C-\u24E9\u2500-\u2767\u2794-\u27C4\u27C7-\u27E5\u27F0-\u2982\u2999-\u29D7\u29DC-\u29FB\u29FE-\u2B73\u2B76-\u2BFF\u2CE5-\u2CEA\u2E50\u2E51\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u2FF0-\u2FFF\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u309B\u309C\u3190\u3191\u3196-\u319F\u31C0-\u31E5\u31EF\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0\u32C0-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA700-\uA716\uA720\uA721\uA789\uA78A\uA828-\uA82B\uA836-\uA839\uAA77-\uAA79\uAB5B\uAB6A\uAB6B\uFB29\uFBB2-\uFBD2\uFD40-\uFD4F\uFD90\uFD91\uFDC8-\uFDCF\uFDFC-\uFDFF\uFE62\uFE64-\uFE66\uFE69\uFF04\uFF0B\uFF1C-\uFF1E\uFF3E\uFF40\uFF5C\uFF5E\uFFE0-\uFFE6\uFFE8-\uFFEE\uFFFC\uFFFD]|\uD800[\uDD37-\uDD3F\uDD79-\uDD89\uDD8C-\uDD8E\uDD90-\uDD9C\uDDA0\uDDD0-\uDDFC]|\uD802[\uDC77\uDC78\uDEC8]|\uD803[\uDD8E\uDD8F\uDED1-\uDED8]|\uD805\uDF3F|\uD807[\uDFD5-\uDFF1]|\uD81A[\uDF3C-\uDF3F\uDF45]|\uD82F\uDC9C|\uD833[\uDC00-\uDCEF\uDCFA-\uDCFC\uDD00-\uDEB3\uDEBA-\uDED0\uDEE0-\uDEF0\uDF50-\uDFC3]|\uD834[\uDC00-\uDCF5\uDD00-\uDD26\uDD29-\uDD64\uDD6A-\uDD6C\uDD83\uDD84\uDD8C-\uDDA9\uDDAE-\uDDEA\uDE00-\uDE41\uDE45\uDF00-\uDF56]|\uD835[\uDEC1\uDEDB\uDEFB\uDF15\uDF35\uDF4F\uDF6F\uDF89\uDFA9\uDFC3]|\uD836[\uDC00-\uDDFF\uDE37-\uDE3A\uDE6D-\uDE74\uDE76-\uDE83\uDE85\uDE86]|\uD838[\uDD4F\uDEFF]|\uD83B[\uDCAC\uDCB0\uDD2E\uDEF0\uDEF1]|\uD83C[\uDC00-\uDC2B\uDC30-\uDC93\uDCA0-\uDCAE\uDCB1-\uDCBF\uDCC1-\uDCCF\uDCD1-\uDCF5\uDD0D-\uDDAD\uDDE6-\uDE02\uDE10-\uDE3B\uDE40-\uDE48\uDE50\uDE51\uDE60-\uDE65\uDF00-\uDFFF]|\uD83D[\uDC00-\uDED8\uDEDC-\uDEEC\uDEF0-\uDEFC\uDF00-\uDFD9\uDFE0-\uDFEB\uDFF0]|\uD83E[\uDC00-\uDC0B\uDC10-\uDC47\uDC50-\uDC59\uDC60-\uDC87\uDC90-\uDCAD\uDCB0-\uDCBB\uDCC0\uDCC1\uDCD0-\uDCD8\uDD00-\uDE57\uDE60-\uDE6D\uDE70-\uDE7C\uDE80-\uDE8A\uDE8E-\uDEC6\uDEC8\uDECD-\uDEDC\uDEDF-\uDEEA\uDEEF-\uDEF8\uDF00-\uDF92\uDF94-\uDFEF\uDFFA]/, Iu = /[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/, Cm = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  Any: Du,
  Cc: Tu,
  Cf: Em,
  P: Lo,
  S: Fu,
  Z: Iu
}, Symbol.toStringTag, { value: "Module" })), Sm = [
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
function Dm(e) {
  return e === 0 || e >= 55296 && e <= 57343 || e > 1114111;
}
function Tm(e) {
  return Dm(e) ? 65533 : e >= 128 && e <= 159 && Sm[e - 128] || e;
}
function Fm(e) {
  return e - 1 >>> 0 < 127 || e - 160 >>> 0 < 55136 ? String.fromCharCode(e) : String.fromCodePoint(Tm(e));
}
const yt = /* @__PURE__ */ (() => {
  const e = new Uint8Array(127);
  let t = 0;
  for (let n = 33; n <= 126; n++)
    n !== 34 && n !== 36 && n !== 92 && (e[n] = t++);
  return e;
})();
function Im(e, t, n, r, s, i) {
  const l = e.length, c = i * 90;
  let a = 0;
  const u = () => {
    const X = yt[e.charCodeAt(a++)];
    return X < i ? X : X * 91 - c + yt[e.charCodeAt(a++)];
  }, f = n - r, g = n + s, m = new Int32Array(g);
  m.fill(-1, r, i), m.fill(-1, i + f, g);
  const h = new Int32Array(g), w = new Int32Array(g);
  function v(X, ue) {
    let ne = 0, de = ue;
    const De = ue + X;
    for (; de < De; ) {
      const we = yt[e.charCodeAt(a++)];
      if (we < 89)
        ne += we, m[de++] = ne;
      else if (we === 89) {
        let ve = yt[e.charCodeAt(a++)] + 2;
        for (; ve--; )
          m[de++] = ++ne;
      } else {
        const ve = yt[e.charCodeAt(a++)];
        ne += 89 + // eslint-disable-next-line unicorn/prefer-minimal-ternary -- branches read a different number of side-effecting input bytes
        (ve < 90 ? ve * 91 + yt[e.charCodeAt(a++)] : yt[e.charCodeAt(a++)] * 8281 + yt[e.charCodeAt(a++)] * 91 + yt[e.charCodeAt(a++)]), m[de++] = ne;
      }
    }
  }
  v(r, 0), v(f, i);
  const T = new Int32Array(s * 2);
  let x = 0, b = 0;
  function k(X, ue) {
    for (let ne = 0; ne < X; ne++) {
      const de = ue + ne, De = u(), we = u();
      T[b * 2] = De, T[b * 2 + 1] = we, b += 1, h[de] = x;
      const ve = (m[De] < 0 ? w[De] : 1) + (m[we] < 0 ? w[we] : 1);
      w[de] = ve, x += ve;
    }
  }
  k(s - i + r, i + f), k(i - r, r);
  const F = new Uint16Array(x);
  let B = 0;
  for (let X = 0; X < b; X++)
    for (let ue = 0; ue < 2; ue++) {
      const ne = T[X * 2 + ue], de = m[ne];
      if (de < 0) {
        let De = h[ne];
        const we = De + w[ne];
        for (; De < we; )
          F[B++] = F[De++];
      } else
        F[B++] = de;
    }
  const j = new Uint16Array(t);
  let ee = 0;
  for (; a < l; ) {
    let X = yt[e.charCodeAt(a++)];
    X >= i && (X = X * 91 - c + yt[e.charCodeAt(a++)]);
    const ue = m[X];
    if (ue < 0) {
      let ne = h[X];
      const de = ne + w[X];
      for (; ne < de; )
        j[ee++] = F[ne++];
    } else
      j[ee++] = ue;
  }
  return j;
}
const Om = /* @__PURE__ */ Im("!}.&u%}'&}*'~!6*)%&,~!J~!J~%L~y<~!R,~~%Lu~~#GD~~#|)1#%}^%}2%+#.##%##%}&%##%'#%##&%#%#'%#&#%#&#'#%%#&#%##%#)%''%&%#%#'%#%%#%%}%%%#%#&(23#%%#&-%0%('1#(##%#'##+%'*.:1}#%#6-+(%'%%#%%%}#L'2351&('%}&/N'(0(/*-%(%%}#'+&T%7.2}#&%&#%#36/5##%&%%#&#%%#))2%%##%&&'0~!#*+&'%1~!%).'3q?&%'1~!.##%6(~!+%%%(Gw'rT~!E#<nA%#jZ~!H%(~!42##~!*31&~!G%U~#)5~#`3~!J~!Z~%]~%Y~%C~!q~!u~#kz~%#~!6'~!D~!U~!?~#T~!c%~!G#'~%7|~!G~!J~!G&~#pb~(Df}#%}*&}#%##%##%##&#-}&'#'&%#.++}%mI,#,@&(}*%}*'%&##&#%##%}&0}#.},U},%}+%}&%}#%##&}B%(}(%}+%)})%##%#&}&%##%&}<%}>%#%&}*%}(%}9%}/%})%}*%}*%}?&}&%}3%}&*#%})%#%#)}#&#-#+*%E%%'%'#%}#*V##&##I}#&&##%&%#&&Qf%%))w/0+&%#(#.%-''''++++7}>%4'',##1,#%#&%##&#'##&#*#9)%&%}#*}%,#+P(%A&%#'&##wSD',9E00#y#@}(+}&%&>~!#~!X}#*}(&&}(&}(,%}%&#+&}#&}I%#%}%)#(},'%#*}4%%#%}(''}#/##(##),%-##%%)#&}(.}&%#&}%%}*&#%},&&}&%}#%*'#%})%}D&}&%}-&}6&#&}-,%}#%})-(~+`~,=?~I9'9%~!,#%})%})%}@%}?%}(~!?~#<~#pP~#BG~#=1#%K+~#?#~%;)~#A~#mF1~#A'~'X%'~#lR~#N~'N~#r~#m#-~#i'?%#'%~#B%##%,%#~#_%#0%~#]732~,w~2+#:&#%&'0%&>%}#>##F+)#%&&#(+_}4&}-%}(&}@&}O7Fdf0@+/v4}&WU##&/0#&'('B#%}.%}'+#%}#%%&#&%#%##+#&#)#6#'#.},%}c%},%#%##%&#&%#&~#>'*-.%##%##%}#%%}%'~#)D1}#%*&~#_%%'(~#S2%'.}#~#=##*'*-%}&'%'##&&~'E%.#&~#M4}%%##&'%#~#O1##%&#'+~#<B%##%%'%+~#;#@%}#&%#&&%#(~#H1}'%'##&&~#?A}&'~#D#%32}'&&&&~#[}'(#%}'~#;C})&}%%#%~#=&%,3}%'(#%%~#^'#&&)#%'~#Y%-~#d-%'~#^%%&#&&&}#~#b~2t*&'~&(~&@~0%~e~3}%*''0})&}+~!9##-}#%-hD*)1fC#%/&/fB#40~!+#)*4~!+~!K'&:~!/*7~!.#~!H~!L':~%x&~!H#~!*~%1~!I#~!+A~#p'~!F~~#-#~,,(~.Z~!V~%;'B'mq-W~!N~%I%#&&#&}#%},%%}'%}+X#%}#&}(%}'%}<%}#%}%%'}'%}:~![)9@~%>~#UA%-%##&~!C%~!-.9:~!1~!-^2/:a~!y,D*J#-5)/4~%23,~#G~!L1~!0X3`~!2+~!!0-~&E~!W~!o,>Y&]~%cZx_&~#O*9#A#'#+I'%#)~!0B*-5A+-((F&*M#)(-7-5+'-3a5Vi~!Y~!?+[)%3),ERHm~!+:D,VG.+)?fB%%*(%)'(#&80%1'8`K8?`+'Z#&O&'H5#*9)A%%5&3))0%39+.*7#()&&*=4@**L)<'_&*+..;(#*+)./&0#3)%')-8(4ixD(&.}%,('aI:,)%,k2231T)I'#/-W7,/'Q#.'Y24+h')37</31&83##&0#),H(?'&?/1##%#&&#%''-%&&&#(&''&#.-'%#%%(,')*'&#&#'##%(%(#%('#&##%%%%('%#%#%%#%#&%##h>w+v<ayvyvcg.uuhKr}g/v|g>u9i[~>g5uI~=RvdwEg;v/g;uk!!TTSx]@RT!U!#!@VBRUU!'UTe-d0c`e&gSdicedFcrdTaqb.kYcAohdYd@a3e+d}dMdtd.aJ#bqcK`dle/e.e'dwdPdodddjbEb}ogd^ofdpduc6j?l%d{drdqc)d7bacOdQ%T#Y)X.sR[yH>6Vyv3[xwLu>vo'!*.[yBacahoj>6Rew3[xqdZa#!a&#^(X-[yG>6Vyu3[xvg3sEr|g.u/Ri9db0T#^(Xa)!-[y;>6Vylg4wKs{JwNZt3@3r=c4Z([xlg;wKt!cpq's@v7A'*a(a+!-a#[y<3Dt?3Dt'>6Vym3[xmg9rxsNJwLZt4~?r?db1T#`-!(Xa,!0[yS>6Vz%NuQs.g4wKtnJwNZtS@3r>c4Z([y%g;wKtrdga8!a(!#&T*Y-Xa#!a0<or[yc3Dtq>6Vz43[y3JwNZtf@3s!Ju}!%Dti:pm3c_%X#tjB5pkd6q!r]u?voC'*-a.a2!0a&a+[yI3DtI3Ds~3DtH>6Vyw3[xx;:s#~<5pKJwNZtE@3r~d`a)!a2T#a.(!+U.X1[yT3Dt`3Dtv>6Vz&3[y&g9rxwzcxstPu.<rAJwLZtT~?r@dZa%!a.&^*Za(/Reu[ya>6Vz23[y1g3sEr}wkg{NuQRg{ci(U#5@b`~,cg#U(2WnH5wugcRh7dX#T(Y,a'Ta!!a,[yZ<]mj>6Vz,3[y+Pv#5ReZKu+=,%!H}7ABwkaS?Rh:BcW(X#<]mrj:ubv/ARekdg%!(!a.*Ta(Y.X1!#sP>Rl*Dt6[y>>6Vyo3Wf*jOvuumvuRgRJuq*!:9<B@bX~3jVv&v@s@5Re[d/rQt{uAvo&a&a*)a2!,0Wf!3Dt0=Bs'>6Re}3[xy~<5s%JwJZt1~Gs)c;&!#2sJkNuXvzq7rxu,Re8dka4!a8(aEZ+a@Y.X1Xa)[yd=Bs(3DtP>6Vz53[y4cX#X&Re:avRe9~<5s&JwJZtQ~Gs*i^rzvdRg+Jv{%!2sbB@bX}kdga,!Za?&^*T1/!a'Dt+[y6>6Vyf3Wf%g/u;s4hGu6?Rh-JvZ,!c%#&RoX54Rivj7uyvf8RgTKvZB%*!2sGh<vu5Rgq<=C::9bb~#dZ#T&Ta6Y.X*Dt>[y93Wf)coZ(T,6VyifluvRgC@95@B@bX~/hFu34cC#T,k/unq8w8Q5RkUklwQuzunq8w8Q5Rk8d/rJu?v8w9)-&!a0a;a&aIWejg3sEr/h1s<DtDJvyZqY5aws3Jvy!&Wei~Hr1:au5@Bag>23E~5c:Z&bX};kKv?w&unuVu5Rjc;>bs)#~@:Rh.=ay<a]C;b`}Vd6s/t{uAvoaxa()!a,a7%-a#a2Dt,[yF2Wo[>6Vyt3[xuNuPRi&NuPwpi#RoWh?vf8Ri%Jv]!%Ri:KvxD!.'2WeAjZu`q9rxu,Re7woeAg-unLq(qA_/*2Wg_g3u5q^9:4E}/jTrxrzv=Wkkd~0UX#^^Xa-a1a5T&a=U1a'*aEa]!a*aPaA-adok[y54Rn>;:p3~Dp5g9rpsFNvZqjg3uJp4~<5p0Pw;5qlJwNZt*@3p1Pw:5p/Ou!5p2JvG'!6Vye=<qnJvh_[xhg3v,Rh3kOwOw-sDuev/Re^dha[a%!%!a+#Ta7)-5TaCaO!aka!a)sf[yb2>Rl!9ARiq5E}Qg=ucRkBE|oJrJ_@Wk~@Wk{JrJ_@Wk|@WkyJrJ_@Wk}@WkzJvO_[y2g-vMRmiKuYC!)&>Ri;>Ri<@3RkNc](X#@9Rk=g5vuRmhKvDB!+'=]meg3u4Rmgd)#Y'Vz3CARmfd`a+!%T'!+#Ta1Ta6TaM-sTDt9[yA9sYd'%Y#s[[xpj:ueunaXRgEjRq,v-vuqdd2'`#6Rev<32@5>:2<E}5xIo9a*X#Y(;5RePJvD_g>vyRgNj8w)v8<wggs:RgXiZt|vjx,hSq3ah!-(~@:Ro/Ou!5RhWj^v(pyw8unRhUdx-UY#^Ua.a3a70!)%UX1TaDa)'omRiRRhE[y:3Dsz=Br,>6Vyj3[xkg6ruwjcqsrPw;5r*Ku]D'Zt-@3r(~?r.i[vwv]dU1a--U#`a4(g/vsRhPOu!5RhLj:rmu9Wo!~@:wdh@g/vsRiTjXuvvNr}:RhBj^v(pyw8unRn]dz1UYa'a+^Y(!aETZalaRY.Ta?a4[yDJw1!#qLsW>6Vyrfzq-pLflpwRe|Js>%!Dt@3Dt&Jvy_[xs~HrnjMuwpsw'RecKu+D#'!t<~Grl~?rjg5u-x,gwp{ah!-(~@:Rg~Ou!5Rh'jXuvvNr}:Rh#cW#X/c;&!#2sLi[v7u7RgpJv)(!iLrxu,Re6j7v@s@5Se[e7d`aW!Za(a`T.a#!a3!&aDa-!9)Dt_=6s+3[x~~DR|h~DS6avhGun5RkZj3w)v-]mkKunB!&*]kb97R|i<ARk<c:Z(6Vy}Juh'!wziMRoS:F|vkLuauJv5vtvQRh1d='T+Y#VyO~DR|jcF#T'7R|g97R|kJv3'!ay<Rj,Jvh&!:ReXcsa6*a+#a#_aIRf9aLRf?c,Z&Rf5Rf7c.Z&Rf;Rf>cQ#%T'p-Rf8Rf=ct#%'(*!,p,Rf4p+Rf6Rf:Rf<d~'Ua%U*^UYa(!a,-!#a4YaTalaEX0a8a<Weo3Dt/3Dsx=Br93Wen~Dr;~<5p<JwNZt2@3p=Pw:5p;Ou!5r3c7&!#:p>3Ds}KvGB)_6Vyk2sM=<r7x'eovA(!hFu1ARf}cV#X&@r5j6rvwQa^Rf3c=Za'wkghJv__g;unRggA53B9=b^}%j6uduo5Jq;!(hIv%2Re`Ou4ARe_e%a#^^^Xa&!a*a2!&a6YaP!*ad!#a:aE/5Rn?[y@>6Vyp;:pE~DrY~<5pBJwNZt8@3pCh=rt3rWPw:5pAJup_[xoNuPpF9c!#'45pD5ARn)d8#X'X*3@rU72s]h>v<<sSjJpqvewOJq/(!hNw'5ReBk0s2u3w/w'5ReE5@Jq.!a+JQ!&WeU23d(#Y&RjG5]jBk!u7w&u0udARjEe#+^^^Ub#!a2/a`Z(agT1!a-a;|@TaG!aS[yV=Re~fow'RguNuPRe?bz#'>RoUWeL>:Cbb|?JwPZtVg6ruRmzJvD'!6Vz(g/vmRh~Jvy_[y(g9voRgyx*cy(#2>Ri2B9b]~9kIw9u7rluJu3Rg]dI#a%UY'@=p%CAx.gQZ&RhwwygtRm{x5g_Z'+ABqR9Woa=Bp&dV#^*Xa'!&@o{g4v]Rk;Jv{!%Rk[wkkiA5RkiwwfUB=x,fUuqC&*!>RfTg8v0RfV~ARfSd;rJsAuAv9wR'ae+/aO!a@aza/a#[yQ@Wg!2Wemg3sEr0JvB_g>uvReWg2v+Re=KupB_+[y!2AbY~-~Hr2AJwD!(h<~El>h<~El?Kun@+_:9b`}Kg-v/Ri3g;vtwyk_9]k_d=&T#*U.6qh@Ab`|K9:H|CJv[!&3Dtex'fDwC%!Rf[9WlMd[(^X,!a%Z06Vz!@WgBg=v~Rgvg,QRe@awd,#Y+jTv|Q~EfWj]uNr|~FRfXdy#Y&^Ua%!aO.!(a)Ua;=!a@aKap!a-,a!Ta]a[rSa]p?[y82sK=Bq~;:p:~<5p8Pw:5p7d'#Y'Wf(;RnRi[u4w&RgJJvG'!6Vyh=<r#ijuuv/sIKuYD'ZtG@3p9~Gr&d2#`(g<vtRgFj`u5w&rqpxRf2CJuY!+:wfnTOu!5Rg}jNs1ucv&RfwJvA!&3@q|BDcC#T,k/unq8w8Q5RkTklwQuzunq8w8Q5Rk9dga#!a'!a=#a0!:+Tb*b@aO.a4!aba8aFJv^}?!VyR~Dr<g;u%Rn.~<5p[x'e`wNZtR@3p]Pw:5pZhNvjBp.woe_g5u-r4JwF!%DtO3:ooc7&!#:p^3DtpLuGw(!+%)Dtk6Vz#2sd=<r8d'#Y([y#<x3gJt`w@!)%}MRiowzikRij=]ilxAf3,U(#B2Rf#g0v-Rm[ck{`U#]giKv3>)!&6Ri154s,KuGB_%@r68r:dJ|t`#X(9<E|u2@H|rx3gJu?w'!+'1Nu7Reg4=H~+9<wxgY95Rm]xLggZ-`(X}U2:Ri4h<uOawRmsJv__5@bb{jbV~3dka#a'a]!,#a+U=a>b6a3b%!/aKa/)!arwve^VyJ;:pR~DpTg3uJpS~<5pOPw;5qmPw:5pNOu!5pQJvG'!6Vyx=<qoJvA!{~Jup!%@qk7Rn/KvyD!}''[xz;>wkh'?Rh,x8gyt`w5D!&),(SgyccRgztJ@3pPB5p#d'(Y#<]mmifubw&RgoJvE&!82s^JvF&!8Rf,ADb]~;x=h'rNu]vK!,%'*0RnORh)4Rh*AqQg-vaRnNg;wHwkh'ba~4cE#Ta*x3gctyw@'!+%RnFRnD<4Rn@hFvK5RnCxWg[#`&a0Ua()`1Rm75Rg[c]%X#qi8Rg^NvdRj>BwzgZauwji7Rm6A4wgg]d1#&(*,.0a#Rm;Rm<Rm=Rm>Rm?Rm@RmARmBe%#^^^Xaea?aC/b+(,!a+a#!a/!>a&Ta<aKbD!2wphBRnk[yPw}hE|.=Br-3Dtm>6Vy~g6urRf.x,hPrNav!%'RnqRo%Ro#Nu;q[Pw;5r+JwNZtM@3r)d'#Y'Weh;xChL#`&RnmRnoKu}>%(!Rne~Bs-;2wjcussJv+'!aYSO}6@B<5?ba~8LrNvj!.%*ROwungw~ng~:9;Ri^>wtnig;wHRnixDh@|(UZ.x1h@|)!#:2<H|*xHn]#-UX'3Ro)z=iT}6ARns=Bwsn_wpnaRncw]aR(#UXa&Ua*a/=]iPd'#Y&Ro'WnXf{QRm2hNvj]nZd`'T~&1`{|`#9b]{}c:'!#Wl{>@=be}]?cl{{U#:5Abb}Jds#^YaF!a*b4a#a3aPa>&Tb!bH!*a_!Eau?/a&RjY<]gj>6Vz*;:pe~DrZg,QRj1JwNZtX@wihspcJvZ&!VyX9WmOJu|!|N2WmHJvh&!]ht~Bpbcn&T(!#RmQ<s7Nu;padH#X'`+WmJ@>RmKCARhnKup=!)&Wf+:RhqNuPpf9c!#'45pd5AwghpARn(Ls@w!%,)!RmP@Wfe<E|IJva!&WmNg8vsRmLd`*.`#Y'Xa!axRn*]hrA8Rhug5s@rXg8u!RmMd8#X'X*3@rV72smdI*#UY&RmICARho~GsgxVgd)Ta'U-Y&Xa!T#RnEWnA@Wffg1uDRi0hFvK5RnBxGnG&#`%owp)@wsf+bX}Ze-*1!a*^^^Ua|!#a.aq&Ya2!a>.a6!a:aO`aJDtL[y`@Wg#>6Vz12@wzoYRoZNuPRi!NuPRhzg=ucRi,@=b`{Yg=ucRi-ACJvB!&Sh[ebSh]ebi`wUuFRm4Jw2_[y0JvB!.<Ju(!&SoG}6Shd}6<Ju(!&SoH}6She}6Kur@._g5vHRieJvx!{L2G{Kx6gd'T#?Rh82Wi5cZ#X(g1w)Rm5dW-Y(Ta#!a)!#aYa=wnfE=su2>>bU{0j9udv:<svj8uQv-7RgHdE%#^'sq9sp=>Bb_{TJv`!&g/r|snj6v(us5d,#Y(56H}[978H}]Jw5!&g1rushJvB!+j;v{u5?zDhd}6}bj;v{u5?zDhe}6}ce*#`(^^^a[aea!=!a6a*aoXb1a.!aAbL!b>,b'aL!aV@Wf|2Wlg3[y/JwNZt^@3piPw:5pgJunZou3@rsJva&!Vy_g<v~Rm#JvG'!6Vz0=<r{Ju{%!:pj@WfsiXuJu3Rm:JvZ&!WfA~Bph@c4Z&Dtwax5rubx(#:awRk1@d,#Y&RfjRfid1#,Y(@Wfp2Wlrg5s@ryKu[@!,'=]ig9wlk?Rk>g5u-rqJvy'!@9RkQcH(T#=>Ri~@<wkj(Wj(KuZB*!&<7rw@9RkRcH(T#=>Ri}@<wkj)Wj)dg(Ta2Xa9X#`-!a*CARhg@@=I}d9x;c~#X%so=<sj>2@@=aybb}XjWv0Q~EfEj3vLv;<d,#Y(56H}`978H}_dgaPaFa'a/!#a3Y0a_a;a|!1(a7-[yE3[xt;:pJNvZrrg3uJrvJwNZt=@3pIh=rt3rxPw:5pGOu!5rpJvG'!6Vys=<rz@c4Z&Dt(ax5rtJvZ!&~BpH@wsfNg-vaRlNci*U#=<wei<F}a5@Jq.!a*JQ!%@qZ23d(#Y&RjH5]jCk!u7w&u0udARjFd/prq=tyvpaEa(a:.!a1aZ(@@=I}:9wpd%=<sX55w_h}@@=I{t=ay<aU@@=I}T=ay<2@@=I})?C9:9au@9Cb]}DP~=x-fAZ(2Wl1=ay<aU@@=I}>5@d##Y+jTv|vV~EfFj]uNpn~FRfGdgaK!Z2&!a8a-Tb({E!acTbM*!a(DtY[yYd'%Y#sl[y*hHvh>Re5x2c{Z}.j4uCvcawRiMd+#X+_x&d!},<5RkX;2Hzw@x,gavfB-!{CcF&T#Roe;RodwWbBg5urRgaKvHC*_6Vz+<4opieuew&Rmq@d]&Y)X,T#X0Rh}<BqP=4qS9:ReMg/ujReNJw0!/<Jui%!bd{kawwnemRelAxUa?a3#*.&UX(Ya+a/RhvRnQ<o}9Wmtd-#Y&RgSRmw9;Rmxay=Rmyg-vaRmuxEhSrNu,v-voC!%(aR.a(a7+1Ro1>Ro5CE{A9b]{@;5x#eO{:g;urRi+KrNA!%(Ro3>Ro79;Ri_Ku@>{;&!x%gX|{KunA_+g5QRj/g3u5Rj#g>uERj%wio/xRhS&!,!#^1U}wba{8>>@=be}qC@:D5ba{7Ku+A&!}x?ba}t>>@=be}se(aA^^^Uat!b0#{pa+awUazbGa#aLb9bgaWac'a5TbS=Br!d1#`%scp_Jvl!#rT>Re0JvX&!VyN=H{Fcm#U&:pY=ReaJv2&!]h0=]nUJvG'!6Vy|=<r%JrM_=]h2@Wlud'#)U'Wf'b]{i=]h/Jvh!&~BpWg=v]RnMx+ny#'Nu;pVwjnu=]nwxJnx,T#`&Reqwjnt=]nvieu9vrRjLLuYwP(#+!th@wih5pX~Gr'g5v/Rh4KunA'!-CARnP@wwiN:Rm_9x'cvw>!|l=<saKvAA!0&3@q}>w^e1bp#&Re2Re3BDx7gH#T|f5H|eKuZ>!%(:qNAH{]Jv6!+3B2B9=b^{X<5<B92:E{ZLvhwA(a;a%!igQuyRmad+#Y}m@3Rh5d8#X'X*:AqUAHzmaxwbh<aXRnVcF}RT#Nw&cj#U(BWnug/vsRntdka)(a3+.Zb7aYYan1!bVa@Xa}[y^@b[{G=H{+hFu73Rj&Pv#5ReQcK%T#sig1v{Rj'Ku+D#'!t]~Grm~?rkKuMB!01d5#`'Vy.ta3Dtu~Hroc8#'{^45s85AwZbP&!#Rn!wghxWn#KvEA!)&2RlA2RlBx:h|#(T,=]j09Wobz>x]z/@awRoTd+#Y(az]hFhCrm4d,#Y+jTv|Q~EfMj]uNr|~FRfOdCa!Xa9_X#@<plJvf!%b`{(9;Rgwc;.!#2x7cw#T|UDb]|T5Ju={(!=@E{&Jv)&!Ab`{'awJvf!~*>>@=be{#KuY>!+&4Ezyi[ugv&RjIdea+T)#UXa&T-T&a!Rh9auRmW=]kLg5vuRn+g3u4Rn-Ow6ARn,hHus5xNk?#UX(U~)/g8v0RkD~AwkkF?Ri.OuNBwkkA?Ri/d|a2`a*^UYa.!aBTZaTa'Xa;!(!2!-a#b2[yC>6Vyq3[xr2Wi?g1rusVh%s?DtF~<5rbJs;%!DtBfswKtCj[uvuSsEu3RgVx3o:u+wN'*Zt;@3rd~Grh~?rfg8w)Lq)qE&-a%!>bI|`jWv0vV~EfCjTv|vV~Ef@j]uNpn~FRfBcK#T']gWNu7x,k7q4ai(0!hHv8<RhmkMu9vrsBuev/RhlCJvB!,g<v{wchh~@:Rhji[vrv{wchi~@:RhkdS&a5UY#Ta!RgPwwiI5BwciI~@:Rh`x'iJvj'!5]iJPu8Bwch]~@:Rhach)U#h3rp]gLh@t|Ax,hTq3ah!-(~@:Ro0Ou!5RhXj^v(pyw8unRhVd|)`,^UYas!a?/a2Z'a^Ta{Tb7Ta(a#!a,Wf&9sZ3DtAadamov=Bqt3[xig8vsRm~>waiL2b`{QJv*_Ouv2qgj<v]v2BqfdR'X*X#Y-@3qr~Gqv~?p6hHv-]glPup5Lq+q?_%*b_{qF{n9b^{rOu4ARhpKvCD!+&~Bqp:5Dbb}nwoiKl&unuTuBv]v+ueunaXRf0=Jvh!0nKufu8v1w&w7q%w&uHrz:Rgnj5w,uxDJq/(!hNw'5ReCk0s2u3w/w'5ReFd>Za&!*UaA=<wkgsRnSJv^!%Refifw3vyRgOKu_B'!,<]gkiiu:w&Rh<=C@a^<B57@2F{[<B5@aW:=3away9A5aW=<B=C@a^<B57@2F{Ie-#`(^^^bCara.b8aza6!/bZ,!adTbnTbOb+aFaS!aAT9@Wf~2Wli3Dtl2@d,#Y&RfnRfmJwJZtN~GqyJva&!VyMg<v~Rm%iXuJu3Rm9Jv[_=]ih9wlkDRkCd1#`(@Wg>2Wls3cH#T(@<Rj*=>Ri|b~'#23s9h<~El.d'#Y&Dtxi^rzvdRl#d*#U%(o|B2s`hJwSaxRmDKv4B&!1:Rmdd5#`'Vx}to~Hq{x'f1v3(!BA5ba|bJv_&!Wfug1v]ReIdO+U/Y#&G}-8wze=Rh{g1v]ReHg/uQRf/by#)ibQwERl/cH#T(@<Rj+=>Ri{cNu+vlax-!(#a0qa9<Rii2;;bU{H;x<i=&X#Rk`<4wwi=C9H~8xAI(Y#<azRi@45wXI<B9;5bb~7dL(X#Xa(+!aL6Vy{g5QqOau:5au2@ay547EzbxOcU(UX-T#Ta#:Cbb|A?wjh/b_|SOw6ARgtihr}u7Rhy<d1#T)X1@@=I|~=ay<2@@=aybb}Sj3vLv;<d,#Y(56H}A978H}@dGpvs@uAu`vcw9*!aFa+ai%(b!aXa8.a?a[ozWey=sU2@G}Nch&U#Rf_WexKu+D#'!t:~Gr`~?r^j]uNr|~FRg*j^psurwJt|RmcKv)@&!)7Rkv~Br[@wxfO:Rl3co#U'6Rezj_q#vIuavjRltwzeyh@vr5JqD0!>aY?C9:9au@9Cb]}9cl#U*5;5<H||jbuus1ucv&Rfvg1v~d/pppzqFr^a--a~!aMat1(hFv;Wiz@@=Izoj5uuv-7Rix~Cw`fk2WlVcZ#X,k)u3vWs@u2]ktg;wEx'fBq(_2Wg/jTv|vV~EfoJv]!15x'hzqG!(P~EfU~CRl_j6v(us5x4i-#T(2WmZ?C2F|d>Kq<aj1!*jTqIsBv=Wl`~Cw`fi2WlWj`v0u*~>RlR=c>Z,k#u3vWs@u2]kr<c1Z+jTqIsBv=Wla~Cw`fm2WlXdmb3!a{(arZa`bkTa%TbQTa-a9+c'!aM!/[yL=Bqug.w'RifhFvyDRj.g>vgwyk^9]k^Jv3_@WfbAARkhJw2_[x|JvB_wkoIRoKwkoJRoLd'(Y#<]gm=<9<H|yd'%_X#skDtb3awwqkgNulRkgdB#^',9:p'hJwSaxRmEBwVb8@4=H|qLu+w50&!)@3qs~?pU>Awwn;;Rn=c:Z'ARn<=<qwKvC@!/&~BqqJv6!&]eVb^z^xRge'/a%+^`#Sge}6<4Rn3=]n0Pw2>Rn8Jw0!&>Rn:>Rn6cY#a7+!a&=<wkaNw~h3z_c5Z{=wjh#=]nLKv^D!&)Vyz=bW|swYb<WetcG#T(2wxa@qVx@gD#Y&b^|V5JwG&!5bb|pg/w&RgD@x=kHs=uAvn!a%%/'+RmSRh694Ro`g-vaRmRhHv-]mlxCcS#`&ba~.5cD#Ta)P~=d,#Y(56H{>978H{Dd_#{2^Y%_+qbbb{6g3sERhsbU{?dfa.,`a(Xa<!aiX#(55RiG54RiHcI#T'WiU3RiVNvdwtfcRlKNvdd,#Y&RlHRlExQgf.1*^T'X#Sgf}6Wn4=]hfPrk>Rn7Jw0!&>Rn5>Rn9Lunw?&a2!,5<oq@@wqfdRlJj5Q~=d,#Y(~ARfcOuN]fdDKw;ay(}i!547E}j?cI#T(@5bV}iCbV}hdv(^^Tb?a40,b##Tbo!a*bR!a<b|a/!aKai!aU[yK=]o^g:v>ReGJwPZtK<7Rh+h<~El,Pv#5ReR@awwxjCg,ulRjDJv6&!]j!z?aQeeg>w=Sh<eeJw;!&axEzOg,Qosc!#*:wkeJ]eJ>x'h-u(!%Ro.w~h.zPdNZ(X,Ya![x{;9ReY;wkgxRiF:x?ap#Y&RmUg<s2Rkod]+UY0TZ'!a&A9sw<=bczLNvuw{gqzNhJwSaxRmCKuLay!#&s_Rf-55b^{uJvZa!!c%#(55Ri654wmiu5RiuawLu,vp!+}^%b_}Y9;wkgxba}o>A9:=b^}zKuh=a''!3awRk3c*'!#aHRk6c+Z&Rk5Rk4Jv)&!awRjSawd9*`#0?C2@EzMj8u<uJ5RmbjQrquJu3x,k>uq@_+=ayb^|W~ARkEOuN]k@7dhzV^X/X&a-#zRzSb`zXcJzTT#2WkVKvDBzW!%FzY9;5bbzWjQrquJu3Jw3%!b`zU=ayb^zQd:#X(T-a!6Vyywxh}=b]{Jg=u1RiAdGp~qHtzv!w(wA+a+a;<!aJaYai'anasb(=azRmV:Cbb{MLq2vb!%')RjuRjrRjtRjqx3jnqCw3!%')Rk(Rk+Rk&Rk)Lq2vb!%')Rj{RjxRjzRjwLq2vb!%')RjsRjpRjfRjex3jcqCw3!%')Rk'Rk*RjkRjl9<CbbzfOu4ARhxLq2vb!%')RjyRjvRjhRjgx=joq*uKvb!%')+-Rk.Rk%Rj~Rk-Rk#Rj}x=jdq*uKvb!%')+-Rk,Rk!Rj|RjmRjjRjidAq&qKs@uAv8Aa.'*-a@a&0!aM@a5[y73Dsy3Ds|3Dt):wxgI2sHJwJZt.~Gqxwsf0ikrzt}Rl0Jvy_[xj~HqzKv_A|D!&WfP8axRoVcf,U#k(v]v+ueunaXRf1Ju}'!g8u#Ri=jQw!sCunLprq>!,')~<5qeGzq9F{W=c##%s5au:5aU3CBE|;d4#X(D!a&6Vygx(b;#(=]ed?C2F{N<capoq2r[a&!aPa9,'Pw;5s:@@=I|,55w_h|@@=IzcP~=x'fCqB_2Wl2>aU@@=I|1OuNBc1Z+jTqIsBv=Wlc~Cw`fl2WlZ~AcTa%!Z+jTqIsBv=Wlb~Cw`fh2WlYk+uNqJsBv=WlSg,u3dca3#UXaMYa)TaB-=cM|7T#<bI}l5@B932:aV2G{BOuNBJq:|M!5Ezt=<B=C@a^<B57@2F{v>cB{/T#=ay<bI{3Jv6!a.6BKq0ah&+!5E}HP~Ef{978BaU@@=Iza<7d#.Y#978BaU@@=IzH~AJq0!(@@=IzG978BaU@@=IzFe,aU*Y&^^^bvJb,b:bFad!a,c2Ta>aL.bo6!a#CbTa'T#Re{2Wlh2@G{yg6t~Ro_NvdRfticuRQRllJv3&!x&c|zs@Jw3!%RflwpfkRlpKuL;%(!Re<@G|C2GzdhIvuBwgjAg-u0RjAKQB%!(GzZ@G|5NuuRl7d='T+Y#Vy[g<v~Rm!==G|>JvA!)@wma=]m1ifuaw&RmnLs@vT'!|/+[y,g:v>ReTJw1!#qX=x!eC{bLu+wT&)ZtZauq_~Graci&U#F|89:r_Lupvq!.)&2RlG8RfaC=x!eF{_h?rpWlmd&'!#X|&]k::xJey#`'T|+<E|&2@H|%dE#(^,g;u.RiEg6vjRiC9xCkA{O|zY#g=ucRmXKs0@!&*@G|m@awRknJuh!,3d(}gY}eJvj!%Rm):Jw3!%Rm+Rm-Ls0w(&!a(a#@b[|6cZ#X'7RkxWgAOu4ARn'dH'U#Y*Vz-Wm'CARm}d]*#a%^a*T'aK!a<9bV{PC=p*Jw4!&SgxcbB5r]idw(wBRmF7xFkt#&`(Rm/Rm8E|!JuY_9:Rl5=wrgr2:bbxd@xXfB(a*#T+!.X0X1Ta/a'T&RlDRfL>RlyARl9b[z[>RfZ:RlL:RfRwlg/ARl;9;RlxKv,A/!%7s69<74=BA5ba{-8Bde#`a<XaKYa1,a'P~=wxfB2bZ}}?C972@@=I}r8@55B9;5bb}G978B2@@=aybb}3j3vLv;<Jw3&!>Rfk=ayb^}4~Ad1#`*@@=aybb{w2@>==<bbz]dx+UY#^UaF!a9!bB'Ya1.!ajXa#%olRhD[y=3Dt#Ov5BrHKuMB%!(Rf^Wep~HrJwkiQjKr|~FRg)Ku+D#'!t5~GrF~?rDdV)UY,Z/_7RkuG{<~BrBg,rlsO:235B@bX}|d?a1!#`(6Vyn5@d##Y+jTv|vV~EfIj]uNpn~FRfH7Lq2vb1!a9-978BaU@@=Iz9978BbU}#~AJq0!(@@=Iz8978BaU@@=Iz7~AJQ|}!978BbU}!JvkaK!AdUa21-U#`a+(g/vsRn~Ou!5RPj:rmu9WhOjXuvvNr}:RhAj^v(pyw8unRn[kPr}p|u7vwv]RiSBd;pppzq@qHQa?(b.!a.a`@.|xa(hFv;Wiyj5uuv-7Riw~Cw`fg2WlU978BbU|wOuNBJqG!(P~EfD~CRlQcZ#X,k)u3vWs@u2]ksg;wEx'f@q1_2Wg.j]uNpn~FRfqJv]!15x'h{qG!(@@=IzK~CRl^j6v(us5x4i,#T(2WmY?C2F{1>Kq<aj1!*jTqIsBv=Wld~Cw`fj2Wl[j`v0u*~>RlT=c>Z,k#u3vWs@u2]kq<c1Z+jTqIsBv=Wle~Cw`fn2Wl]dn1#c(a(b^a2!b/bAT(bj!aDa7bu,a_a{c0!2T0g:v>ReD2@G{42@G{5~DpM~<5rc=Bx6i>{RT#RnI@zCx]y]z:2Jv[!zr5Awyk]9]k]dD(Y+X#6Vz.g=wKtgwhaCwgmTWj2Lu,w%_+/[y-B;b^xeg3u3Rj-2@bX{*KrJ<!+'@Wg(g?QRlC@Jv`!%b[zIwsfII}8JQ_@w|kW|=Jv(%!AqcOuNBJvEzh!bYzjLs@wP#(0!oy@>RkdJwMZtc3Dtd@BcG#T'9bWxg2@2Fznd*#Y+;2x'c}w<zizixNgwa#Z'U+!/!a'!a+w~g~z6wcn{Rn}wcnzRn|5Rh%=]nJg5vuRmvNvdRlvcprJu}w*az*a#!%.a.'Bot9qT]kj@Wg'ay2Gzv@Jv`!%b[zEwsfHI}1;ck#Ux`<Cbbx_Lu+w!a&0*!wko*wwo,So,}6Juqxf!E}PigQuyRm`d3(`#8>Rn%:A5B;bZ~%KvhCa!a2!x>k7#Uxb@b{#xaRk7Jw0!)>wwhlShl}6>wwhmShm}6CJvB!.x'hhvj{!!5Bwkhhbaz}x'hivjz~!5Bwkhibaz|xEhTrNu,v-vpD!a%&/)a3a.,%Ro2t[CE{)@3re9b]{%wjo09:rgc:Z&Ro6=<riifuaw&RmoKrNA!%(Ro4>Ro89;Ri`dSaL'UYzxZb)7Rka3xRhT&!,!#^1U}vbaz{>>@=be}yC@:D5bazzKu+A&!}{?ba}y>>@=be}wxBh[t`u~vJvr!%a!a()a,a0a4RoC=]o;Ju(!%RoGRhdwjh`=]oAg>w#Ro?g5vuRo=NvdRl|Ku]C.!&;RoEJvB!%RoORoMBx'h[v+_?w~h`}~5?w~hd~!xKh]oiptu-utv.vp!#%&a30a@a'a+(a/aOp(o~p!RoDJu(!%RoHRhewjha=]oBNvdRl}g>w#Ro@g5vuRo>c[#X']o<CauRoRAd-#Y':RkpauRoQKu]C.!&;RoFJvB!%RoNRoPBx'h]v+_?w~ha}t5?w~he}ue!/UbhYacXaW^Tc&a;b:a-c/#b&aja1(!cL+!bKbt!bmcRc9aIc?8[yW3Dtt94Rg`Jv}!&SiRMzBhEebShEMNuPRe>x7gL#TzuwjirRipc<Z&>on;>z=h-MSh.Mwqczx'a7vj&!>Re4@=ResJt__NuPRi*NuPRi)j]uNr|~FRfzKrJ>_+@Wfy@Wf]2WocKrJ<!+'@Wg%g/QRl@@Jv`!&awRl<wsfFIzgLu(w*!.*&ShBMwvhIRhI9;RhNx1hK'!#Sn]Mx1hK~0!#:2<H~7cNu+w7D*'1ZtW>Rn1~?rOc:Z&Rn2=<rQ<7wjh&=BSnLMc]#X(6Vz)w[b=a!U#9wzgMc3#&(RgMRitRis<x,gKt`ax!&+SioM=BSilMc3#&(RgKRinRimKurB,!&SiQMzBhDebShDM6BJQ!(P~Efx978B2@@=I}WLrJw!!,a*&@G}O@9wkibRid@@x'fKwC!&SlDMSfLMjUv~Q~EfKKv3@a+!(hFv-]mpx/hYZ(C5RiWz<o/MwkhY?So/M@x,gbvfB*&!SgEM:SoeeehFu3:Rgbda(,^TZa)X/7Sg[eb:2RgI~BrMC@wgkc:wwkcRerx3h(uUvK!&*,SnOM4Sh*MArRg;wHRh(x=h;rJvPwI!a4',a'0@Wg&=BSh/Mg>w=Rh=g3w*wwgGRgGcW(X#;Sg}M2Gzk@Jv`!&awRl=wsfGIz`dKZ*T'Y-:RhR7RhQg5u-p`j6v(us5d,#Y+~Awkia?RicOuNBwkibba}Ld6p~tyu_vbAa'a+!a/'a3aEa8a!>Sh,ebJv{!&Sh@ebSaReb9;SgwebNuPRi(NvdRl)NuPRi'hHu^<Rm^Jvv_@Wl(g;u1Si/ebKu'B&!*Sh?eb@Wl'z@aPeb95Si.ebcpputyvjB)!,&a+0a%ShAMWeK@G}C@WfJ9;RhMwvhH9w{ia}ix,hJvRA1(!zAn[MRhHx1hJ~*!#hFv(BSn[MBJQ!(@@=I~'978B2@@=I}2db.Ua<'X}+T#a0XaG2G}E;wkg|wuh!Rh!x,hZu,@)!&So0MVy)C5RiXACJvB!&5RiY5RiZg8w)cG}*T#2@bU}=KsA>(!a.3wkhZba~(x,h^u(A!&(SoCMRhb5Bz=h[eb?w~hb~6x,h_u(A!&(SoDMRhc5Bz=h]eb?w~hc~6e)aA1T#T,^^^c-bMb&blcPaP(a/!0!bA=b5c@a(!bfbrc#2afwmhARnjwchORnp2Wlf3DtsNvdRl-2@wpa<]m0bx(#:awRk2@Jw3!%RfhwpfgRlnKQB%!(G{V@G|'NuuRl6d='T+Y#VyUg<v~Rl~==G|<Jv+'!aYShC}6@B<5?ba~8@Jw3'!g2QRljhLrpWlOd+#Y'g.w'rIg>w*wgj@g-u0Rj@Lu+wT&)ZtUauq]~GrGci&U#F|39:rELrNvj!.%*RhCwunfw~nf~:9;Ri]>wtnhg;wHRnhx3hDs@v~!/+'@Wfr@9RkSNu&Rlo=@<5GzoKs0@_+@Wl+@awRkmJuh!-3d(}pY#qWJvj!%Rm(:Jw3!%Rm,Rm*de&!1U-U#`)Re;@G|.@9Ri82@wjfvRlq=@<5GzpLvOvr!).&2RlF8Rf`C=x!eE{.Jw3_g2QRlkhLrpWlPde(!#U{s,UXa*Ta'[y'g:v>ReS;x0PZ&RnlRnn~HrKJw1}f!=x!eB|2w]aP(#Xa&a*Ta.Ua2a7=]iOd'#Y&Ro&WnWg;u.RiDg6vjRiBNvdRlzhNvj]nYJuW_2Wm3x)kFze{9d])!a.!,Y01!#&aC!a3RndC=ox~BrC@2b^{pg,rlse7x'ksuq!%Rm.E{xidw(wBRmGx9o+)X#wwo-So-}69:Rl4@xSf@a#XZ'X)X,Ta(/ARl8b[xc>RfY:RlI:RfQwlg.ARl:9;Rlwdn'#^XafaQa1X1TaHTa)@b[{zcZ#X'7RkwWg@Ou4ARn&x)kG#{,g7u/RkGdH'U#Y*Vz'Wm&CARm|bx#(A]gUbUzJj9Q~=d,#Y(56H}l978H{U7d,0#U*2>ABb_xZ978BbU{e~AJQ{g!978BbU{hxMh?ad{oUYZ.x1h?{l!#:2<H{mx3n[t{vl!,&a%3Ro(z=iS}6ARnr=Bwsn^wvn`Rnbd`*T}B0!#^X'BG{c9b]{a>>@=be}F?JvS!&BG{d7BG}(Bde#`a1X,Ya@!a'P~=wxf@2bZ}I56B2@@=aybb}08@55B9;5bb}<j3vLv;<Jw3&!>Rfg=ayb^}&OuNBKuLA!)a!P~=x#fD{f2@>==<bbzl?C972@@=Ix^d6rSu,v7w*C(0a)a6#B+a%!sQ[y?3Dt%3[xn~<5rLOu!5p@Ku+D#'!t7~GrP~?rNKvlaya7'!h+v-5qMg=t|cd,U#5AAaa5Abb{S@52B5@a[@52B5Gx[iXueu;d<#`a(!/549C;ag>23ExY5@Dah89b^~689Jv)!~2b[~1Lv'w(%*!a#bX|aPrmawRe]keu7uhv-q6rxu,q`xTo]/a5aU!bNaDXbi!b-!ao!b<bwA!#5@B932:aV2G|:d-)Y#hJrL>RhG<7@C5<H|_=Cau:5aj5@B932:bJ|ng>vIbs)#?C2F|9jPv0w.vISh-MKvUaz(.!9ABbb|[5;5<H|Eg>unwfh;9:4E|YjQsBt|vjx'hYq3!(?C2F|J:2<BaY?C2F|GOu!5x,g|p{ah!-(?C2F|c9:4E|OjXuvvNr}:Rh&i[w*t|cd+U#jJvsu)vsSn~Mkfrmu9p}u7vwv]So!McW#Xa!ax5@A5aY:5;5<H|>kJv~vYrquJu3x4ib#T)2@SmZM?C2F|Bj:rmu9@xPhI(a*a#U#`a3-5Abb|L~@:RhK9:4E|0@52B5G|#C::aY?C2F|-:2<BaY?C2F|.5Jvk!a)javYrquJu3x4ia#T)2@SmYM?C2F|HAxPhH(!a#U#`a*-5Abb|4~@:RhJ9:4E|R@52B5G|F:2<BaY?C2F|Sc^#Xa2j=Qq5CJvB!-g<v{z;hhM?C2F|Zi[vrv{z;hiM?C2F|XKsA>!a)-g<v{z;h[eb?C2F|]i[vrv{z;h]eb?C2F|^iZu.vix,hZq3ah!.(?C2F|QOu!5ShXM:2<BaY?C2F|P", 13494, 2713, 49, 25, 61);
var We;
(function(e) {
  e[e.VALUE_LENGTH = 49152] = "VALUE_LENGTH", e[e.FLAG13 = 8192] = "FLAG13", e[e.BRANCH_LENGTH = 8064] = "BRANCH_LENGTH", e[e.JUMP_TABLE = 127] = "JUMP_TABLE", e[e.VALUE_MASK = 8191] = "VALUE_MASK";
})(We || (We = {}));
var it;
(function(e) {
  e[e.AMP = 38] = "AMP", e[e.NUM = 35] = "NUM", e[e.SEMI = 59] = "SEMI", e[e.EQUALS = 61] = "EQUALS", e[e.ZERO = 48] = "ZERO", e[e.NINE = 57] = "NINE", e[e.LOWER_A = 97] = "LOWER_A", e[e.LOWER_X = 120] = "LOWER_X";
})(it || (it = {}));
const Os = 32, Ou = 21, Nm = 2097151, mo = 2047;
let Nu = 0;
function Mm(e) {
  const t = e >>> Ou;
  return t === mo ? Nu : t;
}
function Lm(e) {
  return e - it.ZERO >>> 0 <= 9;
}
function Pm(e) {
  return (e | Os) - it.LOWER_A >>> 0 <= 5;
}
function jm(e) {
  return (e | Os) - it.LOWER_A >>> 0 <= 25;
}
var $c;
(function(e) {
  e[e.EntityStart = 0] = "EntityStart", e[e.NumericStart = 1] = "NumericStart", e[e.NumericDecimal = 2] = "NumericDecimal", e[e.NumericHex = 3] = "NumericHex", e[e.NamedEntity = 4] = "NamedEntity";
})($c || ($c = {}));
var Bc;
(function(e) {
  e[e.Legacy = 0] = "Legacy", e[e.Strict = 1] = "Strict", e[e.Attribute = 2] = "Attribute";
})(Bc || (Bc = {}));
function $m(e, t, n, r) {
  const s = (t & We.BRANCH_LENGTH) >> 7, i = t & We.JUMP_TABLE;
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
      const f = n + o + c;
      return l + e[f] & 65535;
    }
    if (u > r)
      return -1;
  }
  return -1;
}
function zc(e, t, n) {
  return n === 1 ? String.fromCharCode(e[t] & We.VALUE_MASK) : n === 2 ? String.fromCharCode(e[t + 1]) : String.fromCharCode(e[t + 1], e[t + 2]);
}
function Bm(e, t, n) {
  let r = t + 1, s = 0, i = r;
  if (r < n && (e.charCodeAt(r) | Os) === it.LOWER_X)
    for (r += 1, i = r; r < n; ) {
      const l = e.charCodeAt(r);
      if (Lm(l))
        s = s * 16 + (l - it.ZERO);
      else if (Pm(l))
        s = s * 16 + ((l | Os) - it.LOWER_A + 10);
      else
        break;
      r += 1;
    }
  else
    for (; r < n; ) {
      const l = e.charCodeAt(r) - it.ZERO;
      if (l >>> 0 > 9)
        break;
      s = s * 10 + l, r += 1;
    }
  if (r === i)
    return 0;
  r < n && e.charCodeAt(r) === it.SEMI && (r += 1), s > 1114111 && (s = 1114112);
  let o = r - t;
  return o >= mo && (Nu = o, o = mo), o << Ou | s;
}
function zm(e, t, n) {
  const r = Om;
  let s = e.indexOf("&");
  if (s < 0)
    return e;
  const i = e.length;
  let o = 0, l = "";
  const c = r[0], a = c & We.JUMP_TABLE, u = (c & We.BRANCH_LENGTH) >> 7;
  do {
    const f = s + 1, g = e.charCodeAt(f);
    let m, h;
    if (g === it.NUM) {
      const w = Bm(e, f, i);
      m = Mm(w), m > 0 && e.charCodeAt(f + m - 1) !== it.SEMI && (m = 0), h = m === 0 ? "" : Fm(w & Nm);
    } else if (jm(g)) {
      m = 0, h = "";
      const w = g - a;
      let v;
      if (w >>> 0 < u) {
        const F = r[1 + w];
        v = F === 0 ? -1 : u + F & 65535;
      } else
        v = -1;
      let T = 0, x = 0, b = v < 0 ? 0 : r[v], k = f + 1;
      e: for (; k < i; ) {
        for (
          ;
          // Value-less, non-run node with a nonzero jump offset.
          (b & (We.VALUE_LENGTH | We.FLAG13)) === 0 && (b & We.JUMP_TABLE) !== 0;
        ) {
          const ee = b & We.JUMP_TABLE, X = (b & We.BRANCH_LENGTH) >> 7;
          if (X === 0) {
            if (e.charCodeAt(k) !== ee)
              break e;
            v += 1;
          } else {
            const ue = e.charCodeAt(k) - ee;
            if (ue >>> 0 >= X)
              break e;
            const ne = r[v + 1 + ue];
            if (ne === 0)
              break e;
            v = v + X + ne & 65535;
          }
          if (b = r[v], k += 1, k >= i)
            break e;
        }
        if ((b & (We.VALUE_LENGTH | We.FLAG13)) === We.FLAG13) {
          const ee = (b & We.BRANCH_LENGTH) >> 7;
          if (e.charCodeAt(k) !== (b & We.JUMP_TABLE))
            break;
          k += 1;
          const X = ee - 1;
          let ue = v + 1, ne = 0;
          for (; ne + 1 < X; ne += 2) {
            const de = r[ue];
            if (e.charCodeAt(k) !== (de & 255) || (k += 1, e.charCodeAt(k) !== (de >> 8 & 255)))
              break e;
            k += 1, ue += 1;
          }
          if (ne < X) {
            if (e.charCodeAt(k) !== (r[ue] & 255))
              break;
            k += 1;
          }
          v += 1 + (ee >> 1), b = r[v];
          continue;
        }
        const F = b >>> 14, B = e.charCodeAt(k);
        if (F !== 0) {
          if (B === it.SEMI) {
            m = k - f + 1, h = F === 1 ? String.fromCharCode(b & We.VALUE_MASK) : zc(r, v, F);
            break;
          }
          if (F === 1)
            break;
        }
        const j = $m(r, b, v + (F || 1), B);
        if (j < 0)
          break;
        v = j, b = r[v], k += 1;
      }
      h === "" && m > 0 && (h = zc(r, T, x));
    } else
      m = 0, h = "";
    m === 0 || n ? s = f : (o < s && (l += e.slice(o, s)), l += h, s = o = f + m), e.charCodeAt(s) !== it.AMP && (s = e.indexOf("&", s));
  } while (s >= 0);
  return l + e.slice(o);
}
function Mu(e) {
  return zm(e, !0, !1);
}
var Um = class {
  src_Any = Du.source;
  src_Cc = Tu.source;
  src_Z = Iu.source;
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
}, Wm = {
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
}, Jm = "a:cdefgilmnoqrstuwxz|b:abdefghijmnorstvwyz|c:acdfghiklmnoruvwxyz|d:ejkmoz|e:cegrstu|f:ijkmor|g:abdefghilmnpqrstuwy|h:kmnrtu|i:delmnoqrst|j:emop|k:eghimnprwyz|l:abcikrstuvy|m:acdeghklmnopqrstuvwxyz|n:acefgilopruz|o:m|p:aefghklmnrstwy|q:a|r:eosuw|s:abcdeghijklmnortuvxyz|t:cdfghjklmnortvwz|u:agksyz|v:aceginu|w:fs|y:et|z:amw", qm = "biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф";
function Hm() {
  const e = qm.split("|");
  return Jm.split("|").forEach((t) => {
    const n = t.indexOf(":"), r = t.slice(0, n);
    for (const s of t.slice(n + 1)) e.push(r + s);
  }), e;
}
var Vm = {
  fuzzyLink: !1,
  fuzzyEmail: !0,
  fuzzyIP: !1,
  "---": !1,
  tlds: Hm(),
  urlAuth: !1,
  maxLength: 1e4
}, Uc = class {
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
}, Gm = class {
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
      ...Vm,
      ...n
    }, this.__schemas__ = { ...Wm }, this.re = t || new Um(), this.re.set({
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
    let r, s, i, o, l, c, a = !1, u = !1, f = !1, g = 0;
    if (!e.length) return null;
    for (n.lastIndex = 0, this.__opts__.fuzzyLink && this.__schemas__["http:"] && (r = this.re.get_fuzzy_link_search(), r.lastIndex = 0), this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && (s = this.re.get_fuzzy_mail_host_search(), s.lastIndex = 0, i = this.re.get_mail_name_validator()); ; ) {
      const m = Math.max(g - 1, 0);
      if (s && i && !f && (!l || l.index < g))
        for (s.lastIndex < m && (s.lastIndex = m); ; ) {
          const x = s.exec(e);
          if (!x) {
            f = !0, l = void 0;
            break;
          }
          const b = i.exec(e.slice(Math.max(0, x.index - 65), x.index));
          if (b) {
            if (l = {
              schema: "mailto:",
              index: x.index - b[1].length,
              lastIndex: x.index + x[0].length
            }, l.index >= g) break;
            s.lastIndex < m && (s.lastIndex = m);
          }
        }
      if (r && !u && (!o || o.index < g))
        for (r.lastIndex < m && (r.lastIndex = m); ; ) {
          const x = r.exec(e);
          if (!x) {
            u = !0, o = void 0;
            break;
          }
          if (o = {
            schema: "",
            index: x.index + x[1].length,
            lastIndex: x.index + x[0].length
          }, o.index >= g) break;
          r.lastIndex < m && (r.lastIndex = m);
        }
      let h = l;
      (!h || o && (o.index < h.index || o.index === h.index && o.lastIndex > h.lastIndex)) && (h = o);
      let w;
      if (!a) for (; ; ) {
        if (!c) {
          n.lastIndex < m && (n.lastIndex = m);
          const k = n.exec(e);
          if (!k) {
            a = !0;
            break;
          }
          c = {
            schema: k[2],
            index: k.index + k[1].length,
            lastIndex: k.index + k[0].length
          };
        }
        if (c.index < g) {
          c = void 0;
          continue;
        }
        if (h && c.index > h.index) break;
        const x = c;
        c = void 0;
        const b = this.testSchemaAt(e, x.schema, x.lastIndex);
        if (b) {
          w = {
            schema: x.schema,
            index: x.index,
            lastIndex: x.lastIndex + b
          };
          break;
        }
      }
      let v = w;
      if ((!v || l && (l.index < v.index || l.index === v.index && l.lastIndex > v.lastIndex)) && (v = l), (!v || o && (o.index < v.index || o.index === v.index && o.lastIndex > v.lastIndex)) && (v = o), !v) break;
      v === l ? l = void 0 : v === o && (o = void 0);
      const T = new Uc(e, v.schema, v.index, v.lastIndex);
      T.schema ? this.__schemas__[T.schema].normalize(T, this) : this.normalize(T), t.push(T), g = v.lastIndex;
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
    const r = new Uc(e, t[2], t.index + t[1].length, t.index + t[0].length + n);
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
const er = 2147483647, Tt = 36, Po = 1, Mr = 26, Km = 38, Ym = 700, Lu = 72, Pu = 128, ju = "-", Xm = /^xn--/, Zm = /[^\0-\x7F]/, Qm = /[\x2E\u3002\uFF0E\uFF61]/g, e_ = {
  overflow: "Overflow: input needs wider integers to process",
  "not-basic": "Illegal input >= 0x80 (not a basic code point)",
  "invalid-input": "Invalid input"
}, Ui = Tt - Po, Ft = Math.floor, Wi = String.fromCharCode;
function rn(e) {
  throw new RangeError(e_[e]);
}
function t_(e, t) {
  const n = [];
  let r = e.length;
  for (; r--; )
    n[r] = t(e[r]);
  return n;
}
function $u(e, t) {
  const n = e.split("@");
  let r = "";
  n.length > 1 && (r = n[0] + "@", e = n[1]), e = e.replace(Qm, ".");
  const s = e.split("."), i = t_(s, t).join(".");
  return r + i;
}
function Bu(e) {
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
const n_ = (e) => String.fromCodePoint(...e), r_ = function(e) {
  return e >= 48 && e < 58 ? 26 + (e - 48) : e >= 65 && e < 91 ? e - 65 : e >= 97 && e < 123 ? e - 97 : Tt;
}, Wc = function(e, t) {
  return e + 22 + 75 * (e < 26) - ((t != 0) << 5);
}, zu = function(e, t, n) {
  let r = 0;
  for (e = n ? Ft(e / Ym) : e >> 1, e += Ft(e / t); e > Ui * Mr >> 1; r += Tt)
    e = Ft(e / Ui);
  return Ft(r + (Ui + 1) * e / (e + Km));
}, Uu = function(e) {
  const t = [], n = e.length;
  let r = 0, s = Pu, i = Lu, o = e.lastIndexOf(ju);
  o < 0 && (o = 0);
  for (let l = 0; l < o; ++l)
    e.charCodeAt(l) >= 128 && rn("not-basic"), t.push(e.charCodeAt(l));
  for (let l = o > 0 ? o + 1 : 0; l < n; ) {
    const c = r;
    for (let u = 1, f = Tt; ; f += Tt) {
      l >= n && rn("invalid-input");
      const g = r_(e.charCodeAt(l++));
      g >= Tt && rn("invalid-input"), g > Ft((er - r) / u) && rn("overflow"), r += g * u;
      const m = f <= i ? Po : f >= i + Mr ? Mr : f - i;
      if (g < m)
        break;
      const h = Tt - m;
      u > Ft(er / h) && rn("overflow"), u *= h;
    }
    const a = t.length + 1;
    i = zu(r - c, a, c == 0), Ft(r / a) > er - s && rn("overflow"), s += Ft(r / a), r %= a, t.splice(r++, 0, s);
  }
  return String.fromCodePoint(...t);
}, Wu = function(e) {
  const t = [];
  e = Bu(e);
  const n = e.length;
  let r = Pu, s = 0, i = Lu;
  for (const c of e)
    c < 128 && t.push(Wi(c));
  const o = t.length;
  let l = o;
  for (o && t.push(ju); l < n; ) {
    let c = er;
    for (const u of e)
      u >= r && u < c && (c = u);
    const a = l + 1;
    c - r > Ft((er - s) / a) && rn("overflow"), s += (c - r) * a, r = c;
    for (const u of e)
      if (u < r && ++s > er && rn("overflow"), u === r) {
        let f = s;
        for (let g = Tt; ; g += Tt) {
          const m = g <= i ? Po : g >= i + Mr ? Mr : g - i;
          if (f < m)
            break;
          const h = f - m, w = Tt - m;
          t.push(
            Wi(Wc(m + h % w, 0))
          ), f = Ft(h / w);
        }
        t.push(Wi(Wc(f, 0))), i = zu(s, a, l === o), s = 0, ++l;
      }
    ++s, ++r;
  }
  return t.join("");
}, s_ = function(e) {
  return $u(e, function(t) {
    return Xm.test(t) ? Uu(t.slice(4).toLowerCase()) : t;
  });
}, i_ = function(e) {
  return $u(e, function(t) {
    return Zm.test(t) ? "xn--" + Wu(t) : t;
  });
}, Jc = {
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
    decode: Bu,
    encode: n_
  },
  decode: Uu,
  encode: Wu,
  toASCII: i_,
  toUnicode: s_
};
var qc = Object.defineProperty, Ju = (e, t) => {
  let n = {};
  for (var r in e) qc(n, r, {
    get: e[r],
    enumerable: !0
  });
  return qc(n, Symbol.toStringTag, { value: "Module" }), n;
}, o_ = /* @__PURE__ */ Ju({
  arrayReplaceAt: () => l_,
  asciiTrim: () => qs,
  callable: () => qu,
  escapeHtml: () => dn,
  escapeRE: () => __,
  fromCodePoint: () => Lr,
  isMdAsciiPunct: () => $r,
  isPunctChar: () => Vu,
  isPunctCharCode: () => jr,
  isSpace: () => Se,
  isValidEntityCode: () => jo,
  isWhiteSpace: () => Pr,
  lib: () => y_,
  normalizeReference: () => Js,
  unescapeAll: () => lr,
  unescapeMd: () => f_
});
function qu(e) {
  const t = function(...n) {
    return Reflect.construct(e, n, new.target && new.target !== t ? new.target : e);
  };
  return Object.defineProperty(t, "name", { value: e.name }), Object.setPrototypeOf(t, e), t.prototype = e.prototype, t;
}
function l_(e, t, n) {
  return [].concat(e.slice(0, t), n, e.slice(t + 1));
}
function jo(e) {
  return !(e >= 55296 && e <= 57343 || e >= 64976 && e <= 65007 || (e & 65535) === 65535 || (e & 65535) === 65534 || e >= 0 && e <= 8 || e === 11 || e >= 14 && e <= 31 || e >= 127 && e <= 159 || e > 1114111);
}
function Lr(e) {
  if (e > 65535) {
    e -= 65536;
    const t = 55296 + (e >> 10), n = 56320 + (e & 1023);
    return String.fromCharCode(t, n);
  }
  return String.fromCharCode(e);
}
var Hu = /\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, c_ = new RegExp(`${Hu.source}|${/&([a-z#][a-z0-9]{1,31});/gi.source}`, "gi"), a_ = /^#((?:x[a-f0-9]{1,8}|[0-9]{1,8}))$/i;
function u_(e, t) {
  if (t.charCodeAt(0) === 35 && a_.test(t)) {
    const r = t[1].toLowerCase() === "x" ? parseInt(t.slice(2), 16) : parseInt(t.slice(1), 10);
    return jo(r) ? Lr(r) : e;
  }
  const n = Mu(e);
  return n !== e ? n : e;
}
function f_(e) {
  return e.indexOf("\\") < 0 ? e : e.replace(Hu, "$1");
}
function lr(e) {
  return e.indexOf("\\") < 0 && e.indexOf("&") < 0 ? e : e.replace(c_, function(t, n, r) {
    return n || u_(t, r);
  });
}
var d_ = /[&<>"]/, h_ = /[&<>"]/g, p_ = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;"
};
function g_(e) {
  return p_[e];
}
function dn(e) {
  return d_.test(e) ? e.replace(h_, g_) : e;
}
var m_ = /[.?*+^$[\]\\(){}|-]/g;
function __(e) {
  return e.replace(m_, "\\$&");
}
function Se(e) {
  switch (e) {
    case 9:
    case 32:
      return !0;
  }
  return !1;
}
function Pr(e) {
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
function Vu(e) {
  return Lo.test(e) || Fu.test(e);
}
function jr(e) {
  return Vu(Lr(e));
}
function $r(e) {
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
function Js(e) {
  return e = e.trim().replace(/\s+/g, " "), e.toLowerCase().toUpperCase();
}
function Hc(e) {
  return e === 32 || e === 9 || e === 10 || e === 13;
}
function qs(e) {
  let t = 0;
  for (; t < e.length && Hc(e.charCodeAt(t)); t++) ;
  let n = e.length - 1;
  for (; n >= t && Hc(e.charCodeAt(n)); n--) ;
  return e.slice(t, n + 1);
}
var y_ = {
  mdurl: Rm,
  ucmicro: Cm
};
function b_(e, t, n) {
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
function k_(e, t, n) {
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
        return i.pos = s + 1, i.str = lr(e.slice(t + 1, s)), i.ok = !0, i;
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
  return t === s || o !== 0 || (i.str = lr(e.slice(t, s)), i.pos = s, i.ok = !0), i;
}
function w_(e, t, n, r) {
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
      return o.pos = i + 1, o.str += lr(e.slice(t, i)), o.ok = !0, o;
    if (s === 40 && o.marker === 41) return o;
    s === 92 && i + 1 < n && i++, i++;
  }
  return o.can_continue = !0, o.str += lr(e.slice(t, i)), o;
}
var x_ = /* @__PURE__ */ Ju({
  parseLinkDestination: () => k_,
  parseLinkLabel: () => b_,
  parseLinkTitle: () => w_
});
function Br(e) {
  "@babel/helpers - typeof";
  return Br = typeof Symbol == "function" && typeof Symbol.iterator == "symbol" ? function(t) {
    return typeof t;
  } : function(t) {
    return t && typeof Symbol == "function" && t.constructor === Symbol && t !== Symbol.prototype ? "symbol" : typeof t;
  }, Br(e);
}
function v_(e, t) {
  if (Br(e) != "object" || !e) return e;
  var n = e[Symbol.toPrimitive];
  if (n !== void 0) {
    var r = n.call(e, t);
    if (Br(r) != "object") return r;
    throw new TypeError("@@toPrimitive must return a primitive value.");
  }
  return (t === "string" ? String : Number)(e);
}
function A_(e) {
  var t = v_(e, "string");
  return Br(t) == "symbol" ? t : t + "";
}
function K(e, t, n) {
  return (t = A_(t)) in e ? Object.defineProperty(e, t, {
    value: n,
    enumerable: !0,
    configurable: !0,
    writable: !0
  }) : e[t] = n, e;
}
var Mn = class {
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
}, zr = class {
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
  const i = e[t], o = i.info ? lr(i.info).trim() : "";
  let l = "", c = "";
  if (o) {
    const u = o.split(/(\s+)/g);
    l = u[0], c = u.slice(2).join("");
  }
  let a;
  if (n.highlight ? a = n.highlight(i.content, l, c) || dn(i.content) : a = dn(i.content), a.indexOf("<pre") === 0) return a + `
`;
  if (o) {
    const u = i.attrIndex("class"), f = i.attrs ? i.attrs.slice() : [];
    u < 0 ? f.push(["class", `${n.langPrefix}${l}`]) : (f[u] = [f[u][0], f[u][1]], f[u][1] += ` ${n.langPrefix}${l}`);
    const g = { attrs: f };
    return `<pre><code${s.renderAttrs(g)}>${a}</code></pre>
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
var Gu = class {
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
}, Ku = class {
  constructor(e, t, n) {
    K(this, "tokens", []), K(this, "inlineMode", !1), K(this, "Token", Mn), this.src = e, this.env = n, this.md = t;
  }
}, R_ = /\r\n?/g, E_ = /\0/g;
function C_(e) {
  let t;
  t = e.src.replace(R_, `
`), t = t.replace(E_, "�"), e.src = t;
}
function S_(e) {
  let t;
  e.inlineMode ? (t = new e.Token("inline", "", 0), t.content = e.src, t.map = [0, 1], t.children = [], e.tokens.push(t)) : e.md.block.parse(e.src, e.md, e.env, e.tokens);
}
function D_(e) {
  const t = e.tokens;
  let n = 0;
  for (let r = 0; r < t.length; r++)
    t[r].type !== "reference_definition" && (r !== n && (t[n] = t[r]), n++);
  t.length !== n && (t.length = n);
}
function T_(e) {
  const t = e.tokens;
  for (let n = 0, r = t.length; n < r; n++) {
    const s = t[n];
    s.type === "inline" && e.md.inline.parse(s.content, e.md, e.env, s.children);
  }
}
function F_(e) {
  return /^<a[>\s]/i.test(e);
}
function I_(e) {
  return /^<\/a\s*>/i.test(e);
}
function O_(e) {
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
        if (c.type === "html_inline" && (F_(c.content) && o > 0 && o--, I_(c.content) && o++), !(o > 0) && c.type === "text" && e.md.linkify.test(c.content)) {
          const a = c.content;
          let u = e.md.linkify.match(a);
          const f = [];
          let g = c.level, m = 0;
          u.length > 0 && u[0].index === 0 && l > 0 && s[l - 1].type === "text_special" && (u = u.slice(1));
          for (let h = 0; h < u.length; h++) {
            const w = u[h].url, v = e.md.normalizeLink(w);
            if (!e.md.validateLink(v)) continue;
            let T = u[h].text;
            u[h].schema ? u[h].schema === "mailto:" && !/^mailto:/i.test(T) ? T = e.md.normalizeLinkText(`mailto:${T}`).replace(/^mailto:/, "") : T = e.md.normalizeLinkText(T) : T = e.md.normalizeLinkText(`http://${T}`).replace(/^http:\/\//, "");
            const x = u[h].index;
            if (x > m) {
              const B = new e.Token("text", "", 0);
              B.content = a.slice(m, x), B.level = g, f.push(B);
            }
            const b = new e.Token("link_open", "a", 1);
            b.attrs = [["href", v]], b.level = g++, b.markup = "linkify", b.info = "auto", f.push(b);
            const k = new e.Token("text", "", 0);
            k.content = T, k.level = g, f.push(k);
            const F = new e.Token("link_close", "a", -1);
            F.level = --g, F.markup = "linkify", F.info = "auto", f.push(F), m = u[h].lastIndex;
          }
          if (m < a.length) {
            const h = new e.Token("text", "", 0);
            h.content = a.slice(m), h.level = g, f.push(h);
          }
          i.push({
            index: l,
            nodes: f
          });
        }
      }
      if (i.length > 0) {
        let l = s.length;
        for (const f of i) l += f.nodes.length - 1;
        const c = new Array(l);
        let a = 0, u = 0;
        i.reverse();
        for (let f = 0; f < s.length; f++) {
          const g = i[a];
          if (g?.index === f) {
            for (const m of g.nodes) c[u++] = m;
            a++;
          } else c[u++] = s[f];
        }
        t[n].children = c;
      }
    }
}
var Yu = /\+-|\.\.|\?\?\?\?|!!!!|,,|--/, N_ = /\((c|tm|r)\)/i, M_ = /\((c|tm|r)\)/gi, L_ = {
  c: "©",
  r: "®",
  tm: "™"
};
function P_(e, t) {
  return L_[t.toLowerCase()];
}
function j_(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && (r.content = r.content.replace(M_, P_)), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function $_(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && Yu.test(r.content) && (r.content = r.content.replace(/\+-/g, "±").replace(/\.{2,}/g, "…").replace(/([?!])…/g, "$1..").replace(/([?!]){4,}/g, "$1$1$1").replace(/,{2,}/g, ",").replace(/(^|[^-])---(?=[^-]|$)/gm, "$1—").replace(/(^|\s)--(?=\s|$)/gm, "$1–").replace(/(^|[^-\s])--(?=[^-\s]|$)/gm, "$1–")), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function B_(e) {
  let t;
  if (e.md.options.typographer)
    for (t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type === "inline" && (N_.test(e.tokens[t].content) && j_(e.tokens[t].children), Yu.test(e.tokens[t].content) && $_(e.tokens[t].children));
}
var z_ = /['"]/, Vc = /['"]/g, Gc = "’", U_ = 1e3;
function Kc(e, t, n) {
  for (; e.length > n; ) {
    const r = e.pop();
    r.isSingleQuote ? t.single = r.prevSameQuoteIdx : t.double = r.prevSameQuoteIdx;
  }
}
function us(e, t, n, r) {
  e[t] || (e[t] = []), e[t].push({
    pos: n,
    ch: r
  });
}
function W_(e, t) {
  let n = "", r = 0;
  t.sort((s, i) => s.pos - i.pos);
  for (let s = 0; s < t.length; s++) {
    const i = t[s];
    n += e.slice(r, i.pos) + i.ch, r = i.pos + 1;
  }
  return n + e.slice(r);
}
function J_(e, t) {
  let n;
  const r = [], s = {
    single: -1,
    double: -1
  }, i = {};
  for (let o = 0; o < e.length; o++) {
    const l = e[o], c = e[o].level;
    for (n = r.length - 1; n >= 0 && !(r[n].level <= c); n--) ;
    if (Kc(r, s, n + 1), l.type !== "text") continue;
    const a = l.content;
    let u = 0;
    const f = a.length;
    e: for (; u < f; ) {
      Vc.lastIndex = u;
      const g = Vc.exec(a);
      if (!g) break;
      let m = !0, h = !0;
      u = g.index + 1;
      const w = g[0] === "'";
      let v = 32;
      if (g.index - 1 >= 0) v = a.charCodeAt(g.index - 1);
      else for (n = o - 1; n >= 0 && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n--)
        if (e[n].content) {
          v = e[n].content.charCodeAt(e[n].content.length - 1);
          break;
        }
      let T = 32;
      if (u < f) T = a.charCodeAt(u);
      else for (n = o + 1; n < e.length && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n++)
        if (e[n].content) {
          T = e[n].content.charCodeAt(0);
          break;
        }
      const x = $r(v) || jr(v), b = $r(T) || jr(T), k = Pr(v), F = Pr(T);
      if (F ? m = !1 : b && (k || x || (m = !1)), k ? h = !1 : x && (F || b || (h = !1)), T === 34 && g[0] === '"' && v >= 48 && v <= 57 && (h = m = !1), m && h && (m = x, h = b), !m && !h) {
        w && us(i, o, g.index, Gc);
        continue;
      }
      if (h && (n = w ? s.single : s.double, n >= 0 && r[n].level === c)) {
        const B = r[n];
        let j, ee;
        w ? (j = t.md.options.quotes[2], ee = t.md.options.quotes[3]) : (j = t.md.options.quotes[0], ee = t.md.options.quotes[1]), us(i, o, g.index, ee), us(i, B.tokenIdx, B.contentPos, j), Kc(r, s, n);
        continue e;
      }
      if (m) {
        if (r.length >= U_) return;
        r.push({
          tokenIdx: o,
          contentPos: g.index,
          isSingleQuote: w,
          level: c,
          prevSameQuoteIdx: w ? s.single : s.double
        }), w ? s.single = r.length - 1 : s.double = r.length - 1;
      } else h && w && us(i, o, g.index, Gc);
    }
  }
  Object.keys(i).forEach(function(o) {
    const l = Number(o);
    e[l].content = W_(e[l].content, i[o]);
  });
}
function q_(e) {
  if (e.md.options.typographer)
    for (let t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type !== "inline" || !z_.test(e.tokens[t].content) || J_(e.tokens[t].children, e);
}
function H_(e) {
  let t, n;
  const r = e.length;
  for (t = 0; t < r; t++) e[t].type === "text_special" && (e[t].type = "text");
  for (t = n = 0; t < r; t++) e[t].type === "text" && t + 1 < r && e[t + 1].type === "text" ? e[t + 1].content = e[t].content + e[t + 1].content : (t !== n && (e[n] = e[t]), n++);
  t !== n && (e.length = n);
}
function V_(e) {
  let t, n;
  const r = e.tokens, s = r.length;
  for (let i = 0; i < s; i++) {
    if (r[i].type !== "inline") continue;
    const o = r[i].children, l = o.length;
    for (t = 0; t < l; t++)
      o[t].type === "text_special" && (o[t].type = "text"), o[t].children && H_(o[t].children);
    for (t = n = 0; t < l; t++) o[t].type === "text" && t + 1 < l && o[t + 1].type === "text" ? o[t + 1].content = o[t].content + o[t + 1].content : (t !== n && (o[n] = o[t]), n++);
    t !== n && (o.length = n);
  }
}
var Ji = [
  ["normalize", C_],
  ["block", S_],
  ["strip_references", D_],
  ["inline", T_],
  ["linkify", O_],
  ["replacements", B_],
  ["smartquotes", q_],
  ["text_join", V_]
], Xu = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of core rules.
      */
      "ruler",
      new zr()
    ), K(this, "State", Ku);
    for (let e = 0; e < Ji.length; e++) this.ruler.push(Ji[e][0], Ji[e][1]);
  }
  /**
  * Executes core chain rules.
  */
  process(e) {
    const t = this.ruler.getRules("");
    for (let n = 0, r = t.length; n < r; n++) t[n](e);
  }
}, Zu = class {
  constructor(e, t, n, r) {
    K(this, "bMarks", []), K(this, "eMarks", []), K(this, "tShift", []), K(this, "sCount", []), K(this, "bsCount", []), K(this, "blkIndent", 0), K(this, "line", 0), K(this, "lineMax", 0), K(this, "tight", !1), K(this, "listIndent", -1), K(this, "parentType", "root"), K(this, "level", 0), K(this, "Token", Mn), this.src = e, this.md = t, this.env = n, this.tokens = r;
    const s = this.src;
    for (let i = 0, o = 0, l = 0, c = 0, a = s.length, u = !1; o < a; o++) {
      const f = s.charCodeAt(o);
      if (!u)
        if (Se(f)) {
          l++, f === 9 ? c += 4 - c % 4 : c++;
          continue;
        } else u = !0;
      (f === 10 || o === a - 1) && (f !== 10 && o++, this.bMarks.push(i), this.eMarks.push(o), this.tShift.push(l), this.sCount.push(c), this.bsCount.push(0), u = !1, l = 0, c = 0, i = o + 1);
    }
    this.bMarks.push(s.length), this.eMarks.push(s.length), this.tShift.push(0), this.sCount.push(0), this.bsCount.push(0), this.lineMax = this.bMarks.length - 1;
  }
  push(e, t, n) {
    const r = new Mn(e, t, n);
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
    for (let t = this.src.length; e < t && Se(this.src.charCodeAt(e)); e++) ;
    return e;
  }
  skipSpacesBack(e, t) {
    if (e <= t) return e;
    for (; e > t; ) if (!Se(this.src.charCodeAt(--e))) return e + 1;
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
        const f = this.src.charCodeAt(a);
        if (Se(f))
          f === 9 ? l += 4 - (l + this.bsCount[o]) % 4 : l++;
        else if (a - c < this.tShift[o]) l++;
        else break;
        a++;
      }
      l > n ? s[i] = new Array(l - n + 1).join(" ") + this.src.slice(a, u) : s[i] = this.src.slice(a, u);
    }
    return s.join("");
  }
}, G_ = 65536;
function qi(e, t) {
  const n = e.bMarks[t] + e.tShift[t], r = e.eMarks[t];
  return e.src.slice(n, r);
}
function Yc(e) {
  const t = [], n = e.length;
  let r = 0, s = e.charCodeAt(r), i = !1, o = 0, l = "";
  for (; r < n; )
    s === 124 && (i ? (l += e.substring(o, r - 1), o = r) : (t.push(l + e.substring(o, r)), l = "", o = r + 1)), i = s === 92, r++, s = e.charCodeAt(r);
  return t.push(l + e.substring(o)), t;
}
function K_(e, t, n, r) {
  if (t + 2 > n) return !1;
  let s = t + 1;
  if (e.sCount[s] < e.blkIndent || e.sCount[s] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[s] + e.tShift[s];
  if (i >= e.eMarks[s]) return !1;
  const o = e.src.charCodeAt(i++);
  if (o !== 124 && o !== 45 && o !== 58 || i >= e.eMarks[s]) return !1;
  const l = e.src.charCodeAt(i++);
  if (l !== 124 && l !== 45 && l !== 58 && !Se(l) || o === 45 && Se(l)) return !1;
  for (; i < e.eMarks[s]; ) {
    const k = e.src.charCodeAt(i);
    if (k !== 124 && k !== 45 && k !== 58 && !Se(k)) return !1;
    i++;
  }
  let c = qi(e, t + 1), a = c.split("|");
  const u = [];
  for (let k = 0; k < a.length; k++) {
    const F = a[k].trim();
    if (!F) {
      if (k === 0 || k === a.length - 1) continue;
      return !1;
    }
    if (!/^:?-+:?$/.test(F)) return !1;
    F.charCodeAt(F.length - 1) === 58 ? u.push(F.charCodeAt(0) === 58 ? "center" : "right") : F.charCodeAt(0) === 58 ? u.push("left") : u.push("");
  }
  if (c = qi(e, t).trim(), c.indexOf("|") === -1 || e.sCount[t] - e.blkIndent >= 4) return !1;
  a = Yc(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop();
  const f = a.length;
  if (f === 0 || f !== u.length) return !1;
  if (r) return !0;
  const g = e.parentType;
  e.parentType = "table";
  const m = e.md.block.ruler.getRules("blockquote"), h = e.push("table_open", "table", 1), w = [t, 0];
  h.map = w;
  const v = e.push("thead_open", "thead", 1);
  v.map = [t, t + 1];
  const T = e.push("tr_open", "tr", 1);
  T.map = [t, t + 1];
  for (let k = 0; k < a.length; k++) {
    const F = e.push("th_open", "th", 1);
    u[k] && (F.attrs = [["style", `text-align:${u[k]}`]]);
    const B = e.push("inline", "", 0);
    B.content = a[k].trim(), B.children = [], e.push("th_close", "th", -1);
  }
  e.push("tr_close", "tr", -1), e.push("thead_close", "thead", -1);
  let x, b = 0;
  for (s = t + 2; s < n && !(e.sCount[s] < e.blkIndent); s++) {
    let k = !1;
    for (let B = 0, j = m.length; B < j; B++) if (m[B](e, s, n, !0)) {
      k = !0;
      break;
    }
    if (k || (c = qi(e, s).trim(), !c) || e.sCount[s] - e.blkIndent >= 4 || (a = Yc(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop(), b += f - a.length, b > G_)) break;
    if (s === t + 2) {
      const B = e.push("tbody_open", "tbody", 1);
      B.map = x = [t + 2, 0];
    }
    const F = e.push("tr_open", "tr", 1);
    F.map = [s, s + 1];
    for (let B = 0; B < f; B++) {
      const j = e.push("td_open", "td", 1);
      u[B] && (j.attrs = [["style", `text-align:${u[B]}`]]);
      const ee = e.push("inline", "", 0);
      ee.content = a[B] ? a[B].trim() : "", ee.children = [], e.push("td_close", "td", -1);
    }
    e.push("tr_close", "tr", -1);
  }
  return x && (e.push("tbody_close", "tbody", -1), x[1] = s), e.push("table_close", "table", -1), w[1] = s, e.parentType = g, e.line = s, !0;
}
function Y_(e, t, n) {
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
function X_(e, t, n, r) {
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
  let f = t, g = !1;
  for (; f++, !(f >= n || (s = l = e.bMarks[f] + e.tShift[f], i = e.eMarks[f], s < i && e.sCount[f] < e.blkIndent)); )
    if (e.src.charCodeAt(s) === o && !(e.sCount[f] - e.blkIndent >= 4) && (s = e.skipChars(s, o), !(s - l < c) && (s = e.skipSpaces(s), !(s < i)))) {
      g = !0;
      break;
    }
  c = e.sCount[t], e.line = f + (g ? 1 : 0);
  const m = e.push("fence", "code", 0);
  return m.info = u, m.content = e.getLines(t + 1, f, c, !0), m.markup = a, m.map = [t, e.line], !0;
}
function Z_(e, t, n, r) {
  let s = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  const o = e.lineMax;
  if (e.sCount[t] - e.blkIndent >= 4 || e.src.charCodeAt(s) !== 62) return !1;
  if (r) return !0;
  const l = [], c = [], a = [], u = [], f = e.md.block.ruler.getRules("blockquote"), g = e.parentType;
  e.parentType = "blockquote";
  let m = !1, h;
  for (h = t; h < n; h++) {
    const b = e.sCount[h] < e.blkIndent;
    if (s = e.bMarks[h] + e.tShift[h], i = e.eMarks[h], s >= i) break;
    if (e.src.charCodeAt(s++) === 62 && !b) {
      let F = e.sCount[h] + 1, B, j;
      e.src.charCodeAt(s) === 32 ? (s++, F++, j = !1, B = !0) : e.src.charCodeAt(s) === 9 ? (B = !0, (e.bsCount[h] + F) % 4 === 3 ? (s++, F++, j = !1) : j = !0) : B = !1;
      let ee = F;
      for (l.push(e.bMarks[h]), e.bMarks[h] = s; s < i; ) {
        const X = e.src.charCodeAt(s);
        if (Se(X))
          X === 9 ? ee += 4 - (ee + e.bsCount[h] + (j ? 1 : 0)) % 4 : ee++;
        else break;
        s++;
      }
      m = s >= i, c.push(e.bsCount[h]), e.bsCount[h] = e.sCount[h] + 1 + (B ? 1 : 0), a.push(e.sCount[h]), e.sCount[h] = ee - F, u.push(e.tShift[h]), e.tShift[h] = s - e.bMarks[h];
      continue;
    }
    if (m) break;
    let k = !1;
    for (let F = 0, B = f.length; F < B; F++) if (f[F](e, h, n, !0)) {
      k = !0;
      break;
    }
    if (k) {
      e.lineMax = h, e.blkIndent !== 0 && (l.push(e.bMarks[h]), c.push(e.bsCount[h]), u.push(e.tShift[h]), a.push(e.sCount[h]), e.sCount[h] -= e.blkIndent);
      break;
    }
    l.push(e.bMarks[h]), c.push(e.bsCount[h]), u.push(e.tShift[h]), a.push(e.sCount[h]), e.sCount[h] = -1;
  }
  const w = e.blkIndent;
  e.blkIndent = 0;
  const v = e.push("blockquote_open", "blockquote", 1);
  v.markup = ">";
  const T = [t, 0];
  v.map = T, e.md.block.tokenize(e, t, h);
  const x = e.push("blockquote_close", "blockquote", -1);
  x.markup = ">", e.lineMax = o, e.parentType = g, T[1] = e.line;
  for (let b = 0; b < u.length; b++)
    e.bMarks[b + t] = l[b], e.tShift[b + t] = u[b], e.sCount[b + t] = a[b], e.bsCount[b + t] = c[b];
  return e.blkIndent = w, !0;
}
function Q_(e, t, n, r) {
  const s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[t] + e.tShift[t];
  const o = e.src.charCodeAt(i++);
  if (o !== 42 && o !== 45 && o !== 95) return !1;
  let l = 1;
  for (; i < s; ) {
    const a = e.src.charCodeAt(i++);
    if (a !== o && !Se(a)) return !1;
    a === o && l++;
  }
  if (l < 3) return !1;
  if (r) return !0;
  e.line = t + 1;
  const c = e.push("hr", "hr", 0);
  return c.map = [t, e.line], c.markup = Array(l + 1).join(String.fromCharCode(o)), !0;
}
function Xc(e, t) {
  const n = e.eMarks[t];
  let r = e.bMarks[t] + e.tShift[t];
  const s = e.src.charCodeAt(r++);
  return s !== 42 && s !== 45 && s !== 43 || r < n && !Se(e.src.charCodeAt(r)) ? -1 : r;
}
function Zc(e, t) {
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
  return s < r && (i = e.src.charCodeAt(s), !Se(i)) ? -1 : s;
}
function e0(e, t) {
  const n = e.level + 2;
  for (let r = t + 2, s = e.tokens.length - 2; r < s; r++) e.tokens[r].level === n && e.tokens[r].type === "paragraph_open" && (e.tokens[r + 2].hidden = !0, e.tokens[r].hidden = !0, r += 2);
}
function t0(e, t, n, r) {
  let s, i, o, l, c = t, a = !0;
  if (e.sCount[c] - e.blkIndent >= 4 || e.listIndent >= 0 && e.sCount[c] - e.listIndent >= 4 && e.sCount[c] < e.blkIndent) return !1;
  let u = !1;
  r && e.parentType === "paragraph" && e.sCount[c] >= e.blkIndent && (u = !0);
  let f, g, m;
  if ((m = Zc(e, c)) >= 0) {
    if (f = !0, o = e.bMarks[c] + e.tShift[c], g = Number(e.src.slice(o, m - 1)), u && g !== 1) return !1;
  } else if ((m = Xc(e, c)) >= 0) f = !1;
  else return !1;
  if (u && e.skipSpaces(m) >= e.eMarks[c])
    return !1;
  if (r) return !0;
  const h = e.src.charCodeAt(m - 1), w = e.tokens.length;
  f ? (l = e.push("ordered_list_open", "ol", 1), g !== 1 && (l.attrs = [["start", g]])) : l = e.push("bullet_list_open", "ul", 1);
  const v = [c, 0];
  l.map = v, l.markup = String.fromCharCode(h);
  let T = !1;
  const x = e.md.block.ruler.getRules("list"), b = e.parentType;
  for (e.parentType = "list"; c < n; ) {
    i = m, s = e.eMarks[c];
    const k = e.sCount[c] + m - (e.bMarks[c] + e.tShift[c]);
    let F = k;
    for (; i < s; ) {
      const ve = e.src.charCodeAt(i);
      if (ve === 9) F += 4 - (F + e.bsCount[c]) % 4;
      else if (ve === 32) F++;
      else break;
      i++;
    }
    const B = i;
    let j;
    B >= s ? j = 1 : j = F - k, j > 4 && (j = 1);
    const ee = k + j;
    l = e.push("list_item_open", "li", 1), l.markup = String.fromCharCode(h);
    const X = [c, 0];
    l.map = X, f && (l.info = e.src.slice(o, m - 1));
    const ue = e.tight, ne = e.tShift[c], de = e.sCount[c], De = e.listIndent;
    if (e.listIndent = e.blkIndent, e.blkIndent = ee, e.tight = !0, e.tShift[c] = B - e.bMarks[c], e.sCount[c] = F, B >= s && e.isEmpty(c + 1) ? e.line = Math.min(e.line + 2, n) : e.md.block.tokenize(e, c, n), (!e.tight || T) && (a = !1), T = e.line - c > 1 && e.isEmpty(e.line - 1), e.blkIndent = e.listIndent, e.listIndent = De, e.tShift[c] = ne, e.sCount[c] = de, e.tight = ue, l = e.push("list_item_close", "li", -1), l.markup = String.fromCharCode(h), c = e.line, X[1] = c, c >= n || e.sCount[c] < e.blkIndent || e.sCount[c] - e.blkIndent >= 4) break;
    let we = !1;
    for (let ve = 0, at = x.length; ve < at; ve++) if (x[ve](e, c, n, !0)) {
      we = !0;
      break;
    }
    if (we) break;
    if (f) {
      if (m = Zc(e, c), m < 0) break;
      o = e.bMarks[c] + e.tShift[c];
    } else if (m = Xc(e, c), m < 0) break;
    if (h !== e.src.charCodeAt(m - 1)) break;
  }
  return f ? l = e.push("ordered_list_close", "ol", -1) : l = e.push("bullet_list_close", "ul", -1), l.markup = String.fromCharCode(h), v[1] = c, e.line = c, e.parentType = b, a && e0(e, w), !0;
}
var Hi = 999;
function n0(e) {
  let t = e.length;
  for (let n = 0; n < e.length - 1; n++) {
    const r = e.charCodeAt(n);
    if (r < 55296 || r > 56319) continue;
    const s = e.charCodeAt(n + 1);
    s >= 56320 && s <= 57343 && (t--, n++);
  }
  return t;
}
function mr(e, t) {
  return Math.min(e.eMarks[t] + 1, e.src.length);
}
function fs(e, t) {
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
function r0(e, t, n, r) {
  const s = e.src;
  let i = e.bMarks[t] + e.tShift[t], o = t + 1;
  if (e.sCount[t] - e.blkIndent >= 4 || s.charCodeAt(i) !== 91) return !1;
  let l = mr(e, t), c = "", a = -1, u = ++i;
  for (; i < l; ) {
    if (c.length + i - u > Hi * 2) return !1;
    let B = s.charCodeAt(i);
    if (B === 91) return !1;
    if (B === 93) {
      a = i;
      break;
    }
    if (B === 92 && (B = s.charCodeAt(++i)), B === 10 && i < l) {
      const j = fs(e, o);
      if (j < 0) return !1;
      c += s.slice(u, l), i = u = j, l = mr(e, o++);
      continue;
    }
    i++;
  }
  if (a < 0 || s.charCodeAt(a + 1) !== 58 || (c += s.slice(u, a), c.length > Hi && n0(c) > Hi)) return !1;
  for (i = a + 2; i < l; ) {
    const B = s.charCodeAt(i);
    if (B === 10) {
      const j = fs(e, o);
      if (j < 0) break;
      i = j, l = mr(e, o++);
    } else if (Se(B)) i++;
    else break;
  }
  const f = e.md.helpers.parseLinkDestination(s, i, l);
  if (!f.ok) return !1;
  const g = e.md.normalizeLink(f.str);
  if (!e.md.validateLink(g)) return !1;
  i = f.pos;
  const m = i, h = l, w = o;
  for (; i < l; ) {
    const B = s.charCodeAt(i);
    if (B === 10) {
      const j = fs(e, o);
      if (j < 0) break;
      i = j, l = mr(e, o++);
    } else if (Se(B)) i++;
    else break;
  }
  const v = i;
  let T = e.md.helpers.parseLinkTitle(s, i, l);
  for (; T.can_continue; ) {
    const B = fs(e, o);
    if (B < 0) break;
    i = B, l = mr(e, o++), T = e.md.helpers.parseLinkTitle(s, i, l, T);
  }
  let x;
  for (v !== m && T.ok ? (x = T.str, i = T.pos) : (x = "", i = m, l = h, o = w); i < l && Se(s.charCodeAt(i)); )
    i++;
  if (i < l && s.charCodeAt(i) !== 10 && x)
    for (x = "", i = m, l = h, o = w; i < l && Se(s.charCodeAt(i)); )
      i++;
  if (i < l && s.charCodeAt(i) !== 10) return !1;
  const b = Js(c);
  if (!b) return !1;
  if (r) return !0;
  typeof e.env.references > "u" && (e.env.references = {}), typeof e.env.references[b] > "u" && (e.env.references[b] = {
    title: x,
    href: g
  });
  const k = e.push("reference_definition", "", 0);
  k.map = [t, o], k.hidden = !0;
  const F = /* @__PURE__ */ Object.create(null);
  return F.label = b, k.meta = F, e.line = o, !0;
}
var s0 = [
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
], i0 = `<[A-Za-z][A-Za-z0-9\\-]*(?:\\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\\s*=\\s*(?:[^"'=<>\`\\x00-\\x20]+|'[^']*'|"[^"]*"))?)*\\s*\\/?>`, o0 = "<\\/[A-Za-z][A-Za-z0-9\\-]*\\s*>", Qu = new RegExp(`^(?:${i0}|${o0})`), vn = [
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
    new RegExp(`^</?(${s0.join("|")})(?=(\\s|/?>|$))`, "i"),
    /^$/,
    !0
  ],
  [
    new RegExp(`${Qu.source}\\s*$`),
    /^$/,
    !1
  ]
];
function l0(e, t, n, r) {
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
function c0(e, t, n, r) {
  let s = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let o = e.src.charCodeAt(s);
  if (o !== 35 || s >= i) return !1;
  let l = 1;
  for (o = e.src.charCodeAt(++s); o === 35 && s < i && l <= 6; )
    l++, o = e.src.charCodeAt(++s);
  if (l > 6 || s < i && !Se(o)) return !1;
  if (r) return !0;
  i = e.skipSpacesBack(i, s);
  const c = e.skipCharsBack(i, 35, s);
  c > s && Se(e.src.charCodeAt(c - 1)) && (i = c), e.line = t + 1;
  const a = e.push("heading_open", `h${l}`, 1);
  a.markup = "########".slice(0, l), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = qs(e.src.slice(s, i)), u.map = [t, e.line], u.children = [];
  const f = e.push("heading_close", `h${l}`, -1);
  return f.markup = "########".slice(0, l), !0;
}
function a0(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph");
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  const s = e.parentType;
  e.parentType = "paragraph";
  let i = 0, o, l = t + 1;
  for (; l < n && !e.isEmpty(l); l++) {
    if (e.sCount[l] - e.blkIndent > 3) continue;
    if (e.sCount[l] >= e.blkIndent) {
      let m = e.bMarks[l] + e.tShift[l];
      const h = e.eMarks[l];
      if (m < h && (o = e.src.charCodeAt(m), (o === 45 || o === 61) && (m = e.skipChars(m, o), m = e.skipSpaces(m), m >= h))) {
        i = o === 61 ? 1 : 2;
        break;
      }
    }
    if (e.sCount[l] < 0) continue;
    let g = !1;
    for (let m = 0, h = r.length; m < h; m++) if (r[m](e, l, n, !0)) {
      g = !0;
      break;
    }
    if (g) break;
  }
  if (!i)
    return e.parentType = s, !1;
  const c = qs(e.getLines(t, l, e.blkIndent, !1));
  e.line = l + 1;
  const a = e.push("heading_open", `h${i}`, 1);
  a.markup = String.fromCharCode(o), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = c, u.map = [t, e.line - 1], u.children = [];
  const f = e.push("heading_close", `h${i}`, -1);
  return f.markup = String.fromCharCode(o), e.parentType = s, !0;
}
function u0(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph"), s = e.parentType;
  let i = t + 1;
  for (e.parentType = "paragraph"; i < n && !e.isEmpty(i); i++) {
    if (e.sCount[i] - e.blkIndent > 3 || e.sCount[i] < 0) continue;
    let a = !1;
    for (let u = 0, f = r.length; u < f; u++) if (r[u](e, i, n, !0)) {
      a = !0;
      break;
    }
    if (a) break;
  }
  const o = qs(e.getLines(t, i, e.blkIndent, !1));
  e.line = i;
  const l = e.push("paragraph_open", "p", 1);
  l.map = [t, e.line];
  const c = e.push("inline", "", 0);
  return c.content = o, c.map = [t, e.line], c.children = [], e.push("paragraph_close", "p", -1), e.parentType = s, !0;
}
var ds = [
  [
    "table",
    K_,
    ["paragraph", "reference"]
  ],
  ["code", Y_],
  [
    "fence",
    X_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "blockquote",
    Z_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "hr",
    Q_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "list",
    t0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["reference", r0],
  [
    "html_block",
    l0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  [
    "heading",
    c0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["lheading", a0],
  ["paragraph", u0]
], ef = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of block rules.
      */
      "ruler",
      new zr()
    ), K(this, "State", Zu);
    for (let e = 0; e < ds.length; e++) this.ruler.push(ds[e][0], ds[e][1], { alt: (ds[e][2] || []).slice() });
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
}, tf = class {
  constructor(e, t, n, r) {
    K(this, "pos", 0), K(this, "level", 0), K(this, "pending", ""), K(this, "pendingLevel", 0), K(this, "cache", {}), K(this, "backticks", {}), K(this, "backticksScanned", !1), K(this, "skipHtmlSpecial", !1), K(this, "linkLevel", 0), K(this, "delimiters", []), K(this, "_prev_delimiters", []), K(this, "Token", Mn), this.src = e, this.env = n, this.md = t, this.tokens = r, this.tokens_meta = Array(r.length), this.posMax = this.src.length;
  }
  pushPending() {
    const e = new Mn("text", "", 0);
    return e.content = this.pending, e.level = this.pendingLevel, this.tokens.push(e), this.pending = "", e;
  }
  push(e, t, n) {
    this.pending && this.pushPending();
    const r = new Mn(e, t, n);
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
    const c = $r(s) || jr(s), a = $r(l) || jr(l), u = Pr(s), f = Pr(l), g = !f && (!a || u || c), m = !u && (!c || f || a);
    return {
      can_open: g && (t || !m || c),
      can_close: m && (t || !g || a),
      length: o
    };
  }
};
function f0(e) {
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
function d0(e, t) {
  let n = e.pos;
  for (; n < e.posMax && !f0(e.src.charCodeAt(n)); ) n++;
  return n === e.pos ? !1 : (t || (e.pending += e.src.slice(e.pos, n)), e.pos = n, !0);
}
function h0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122;
}
function p0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122 || e >= 48 && e <= 57 || e === 43 || e === 45 || e === 46;
}
function g0(e, t) {
  if (!e.md.options.linkify || e.linkLevel > 0) return !1;
  const n = e.pos, r = e.posMax;
  if (n + 3 > r || e.src.charCodeAt(n) !== 58 || e.src.charCodeAt(n + 1) !== 47 || e.src.charCodeAt(n + 2) !== 47) return !1;
  const s = n - Math.min(10, e.pending.length, n);
  let i = n;
  for (; i > s && p0(e.src.charCodeAt(i - 1)); ) i--;
  if (i === n || !h0(e.src.charCodeAt(i))) return !1;
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
    const f = e.push("link_open", "a", 1);
    f.attrs = [["href", u]], f.markup = "linkify", f.info = "auto";
    const g = e.push("text", "", 0);
    g.content = e.md.normalizeLinkText(c);
    const m = e.push("link_close", "a", -1);
    m.markup = "linkify", m.info = "auto";
  }
  return e.pos += c.length - o, !0;
}
function m0(e, t) {
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
  for (n++; n < s && Se(e.src.charCodeAt(n)); ) n++;
  return e.pos = n, !0;
}
var $o = [];
for (let e = 0; e < 256; e++) $o.push(0);
"\\!\"#$%&'()*+,./:;<=>?@[]^_`{|}~-".split("").forEach(function(e) {
  $o[e.charCodeAt(0)] = 1;
});
function _0(e, t) {
  let n = e.pos;
  const r = e.posMax;
  if (e.src.charCodeAt(n) !== 92 || (n++, n >= r)) return !1;
  let s = e.src.charCodeAt(n);
  if (s === 10) {
    for (t || e.push("hardbreak", "br", 0), n++; n < r && (s = e.src.charCodeAt(n), !!Se(s)); )
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
function y0(e) {
  const t = {};
  let n = 0;
  for (; (n = e.indexOf("`", n)) !== -1; ) {
    const r = n;
    for (; e.charCodeAt(++n) === 96; ) ;
    t[n - r] = r;
  }
  return t;
}
function b0(e, t) {
  var n;
  const r = e.pos;
  if (e.src.charCodeAt(r) !== 96) return !1;
  const s = e.posMax;
  let i = r + 1;
  for (; i < s && e.src.charCodeAt(i) === 96; ) i++;
  const o = e.src.slice(r, i), l = o.length;
  if (e.backticksScanned || (e.backticks = y0(e.src), e.backticksScanned = !0), ((n = e.backticks[l]) !== null && n !== void 0 ? n : -1) >= i) {
    let c = i, a;
    for (; (a = e.src.indexOf("`", c)) !== -1 && a < s; ) {
      for (c = a + 1; e.src.charCodeAt(c) === 96; ) c++;
      if (c > s) break;
      if (c - a === l) {
        if (!t) {
          const u = e.push("code_inline", "code", 0);
          u.markup = o;
          let f = e.src.slice(i, a).replace(/\n/g, " ");
          f.startsWith(" ") && f.endsWith(" ") && /[^ ]/.test(f) && (f = f.slice(1, -1)), u.content = f;
        }
        return e.pos = c, !0;
      }
    }
  }
  return t || (e.pending += o), e.pos = i, !0;
}
function k0(e, t) {
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
function Qc(e, t) {
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
function w0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  Qc(e, e.delimiters);
  for (let s = 0; s < n; s++) {
    var r;
    const i = (r = t[s]) === null || r === void 0 ? void 0 : r.delimiters;
    i && Qc(e, i);
  }
}
var nf = {
  tokenize: k0,
  postProcess: w0
};
function x0(e, t) {
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
function ea(e, t) {
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
function v0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  ea(e, e.delimiters);
  for (let s = 0; s < n; s++) {
    var r;
    const i = (r = t[s]) === null || r === void 0 ? void 0 : r.delimiters;
    i && ea(e, i);
  }
}
var rf = {
  tokenize: x0,
  postProcess: v0
};
function A0(e, t) {
  let n, r, s, i, o = "", l = "", c = e.pos, a = !0;
  if (e.src.charCodeAt(e.pos) !== 91) return !1;
  const u = e.pos, f = e.posMax, g = e.pos + 1, m = e.md.helpers.parseLinkLabel(e, e.pos, !0);
  if (m < 0) return !1;
  let h = m + 1;
  if (h < f && e.src.charCodeAt(h) === 40) {
    for (a = !1, h++; h < f && (n = e.src.charCodeAt(h), !(!Se(n) && n !== 10)); h++)
      ;
    if (h >= f) return !1;
    if (c = h, s = e.md.helpers.parseLinkDestination(e.src, h, e.posMax), s.ok) {
      for (o = e.md.normalizeLink(s.str), e.md.validateLink(o) ? h = s.pos : o = "", c = h; h < f && (n = e.src.charCodeAt(h), !(!Se(n) && n !== 10)); h++)
        ;
      if (s = e.md.helpers.parseLinkTitle(e.src, h, e.posMax), h < f && c !== h && s.ok)
        for (l = s.str, h = s.pos; h < f && (n = e.src.charCodeAt(h), !(!Se(n) && n !== 10)); h++)
          ;
    }
    (h >= f || e.src.charCodeAt(h) !== 41) && (a = !0), h++;
  }
  if (a) {
    if (typeof e.env.references > "u") return !1;
    if (h < f && e.src.charCodeAt(h) === 91 ? (c = h + 1, h = e.md.helpers.parseLinkLabel(e, h), h >= 0 ? r = e.src.slice(c, h++) : h = m + 1) : h = m + 1, r || (r = e.src.slice(g, m)), r = Js(r), i = e.env.references[r], !i)
      return e.pos = u, !1;
    o = i.href, l = i.title;
  }
  if (!t) {
    e.pos = g, e.posMax = m;
    const w = e.push("link_open", "a", 1), v = [["href", o]];
    if (w.attrs = v, l && v.push(["title", l]), r) {
      const T = /* @__PURE__ */ Object.create(null);
      T.label = r, w.meta = T;
    }
    e.linkLevel++, e.md.inline.tokenize(e), e.linkLevel--, e.push("link_close", "a", -1);
  }
  return e.pos = h, e.posMax = f, !0;
}
function R0(e, t) {
  let n, r, s, i, o, l, c, a, u = "";
  const f = e.pos, g = e.posMax;
  if (e.src.charCodeAt(e.pos) !== 33 || e.src.charCodeAt(e.pos + 1) !== 91) return !1;
  const m = e.pos + 2, h = e.md.helpers.parseLinkLabel(e, e.pos + 1, !1);
  if (h < 0) return !1;
  if (i = h + 1, i < g && e.src.charCodeAt(i) === 40) {
    for (i++; i < g && (n = e.src.charCodeAt(i), !(!Se(n) && n !== 10)); i++)
      ;
    if (i >= g) return !1;
    for (a = i, l = e.md.helpers.parseLinkDestination(e.src, i, e.posMax), l.ok && (u = e.md.normalizeLink(l.str), e.md.validateLink(u) ? i = l.pos : u = ""), a = i; i < g && (n = e.src.charCodeAt(i), !(!Se(n) && n !== 10)); i++)
      ;
    if (l = e.md.helpers.parseLinkTitle(e.src, i, e.posMax), i < g && a !== i && l.ok)
      for (c = l.str, i = l.pos; i < g && (n = e.src.charCodeAt(i), !(!Se(n) && n !== 10)); i++)
        ;
    else c = "";
    if (i >= g || e.src.charCodeAt(i) !== 41)
      return e.pos = f, !1;
    i++;
  } else {
    if (typeof e.env.references > "u") return !1;
    if (i < g && e.src.charCodeAt(i) === 91 ? (a = i + 1, i = e.md.helpers.parseLinkLabel(e, i), i >= 0 ? s = e.src.slice(a, i++) : i = h + 1) : i = h + 1, s || (s = e.src.slice(m, h)), s = Js(s), o = e.env.references[s], !o)
      return e.pos = f, !1;
    u = o.href, c = o.title;
  }
  if (!t) {
    r = e.src.slice(m, h);
    const w = [];
    e.md.inline.parse(r, e.md, e.env, w);
    const v = e.push("image", "img", 0), T = [["src", u], ["alt", ""]];
    if (v.attrs = T, v.children = w, v.content = r, c && T.push(["title", c]), s) {
      const x = /* @__PURE__ */ Object.create(null);
      x.label = s, v.meta = x;
    }
  }
  return e.pos = i, e.posMax = g, !0;
}
var E0 = /^([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, C0 = /^([a-zA-Z][a-zA-Z0-9+.-]{1,31}):([^<>\x00-\x20]*)$/;
function S0(e, t) {
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
  if (C0.test(i)) {
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
  if (E0.test(i)) {
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
function D0(e) {
  return /^<a[>\s]/i.test(e);
}
function T0(e) {
  return /^<\/a\s*>/i.test(e);
}
function sf(e) {
  const t = e | 32;
  return t >= 97 && t <= 122;
}
function F0(e, t) {
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
  else if (sf(n.charCodeAt(t + 2)))
    r = t + 3, s = ">";
  else return -1;
  if (e.skipHtmlSpecial) return -1;
  const i = n.indexOf(s, r);
  return i < 0 ? (e.skipHtmlSpecial = !0, -1) : i + s.length;
}
function I0(e, t) {
  if (!e.md.options.html) return !1;
  const n = e.posMax, r = e.pos;
  if (e.src.charCodeAt(r) !== 60 || r + 2 >= n) return !1;
  let s;
  const i = e.src.charCodeAt(r + 1);
  if (i === 33 || i === 63) s = F0(e, r);
  else if (i === 47 || sf(i)) {
    const o = e.src.slice(r).match(Qu);
    s = o ? r + o[0].length : -1;
  } else return !1;
  if (s < 0) return !1;
  if (!t) {
    const o = e.push("html_inline", "", 0);
    o.content = e.src.slice(r, s), D0(o.content) && e.linkLevel++, T0(o.content) && e.linkLevel--;
  }
  return e.pos = s, !0;
}
var O0 = /^&#((?:x[a-f0-9]{1,6}|[0-9]{1,7}));/i, N0 = /^&([a-z][a-z0-9]{1,31});/i;
function M0(e, t) {
  const n = e.pos, r = e.posMax;
  if (e.src.charCodeAt(n) !== 38 || n + 1 >= r) return !1;
  if (e.src.charCodeAt(n + 1) === 35) {
    const s = e.src.slice(n).match(O0);
    if (s) {
      if (!t) {
        const i = s[1][0].toLowerCase() === "x" ? parseInt(s[1].slice(1), 16) : parseInt(s[1], 10), o = e.push("text_special", "", 0);
        o.content = jo(i) ? Lr(i) : Lr(65533), o.markup = s[0], o.info = "entity";
      }
      return e.pos += s[0].length, !0;
    }
  } else {
    const s = e.src.slice(n).match(N0);
    if (s) {
      const i = Mu(s[0]);
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
function ta(e) {
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
      const f = e[a];
      if (f.marker === l.marker && f.open && f.end < 0) {
        let g = !1;
        if ((f.close || l.open) && (f.length + l.length) % 3 === 0 && (f.length % 3 !== 0 || l.length % 3 !== 0) && (g = !0), !g) {
          const m = a > 0 && !e[a - 1].open ? i[a - 1] + 1 : 0;
          i[o] = o - a + m, i[a] = m, l.open = !1, f.end = o, f.close = !1, u = -1, s = -2;
          break;
        }
      }
    }
    u !== -1 && (t[l.marker][(l.open ? 3 : 0) + (l.length || 0) % 3] = u);
  }
}
function L0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  ta(e.delimiters);
  for (let s = 0; s < n; s++) {
    var r;
    const i = (r = t[s]) === null || r === void 0 ? void 0 : r.delimiters;
    i && ta(i);
  }
}
function P0(e) {
  let t, n, r = 0;
  const s = e.tokens, i = e.tokens.length;
  for (t = n = 0; t < i; t++)
    s[t].nesting < 0 && r--, s[t].level = r, s[t].nesting > 0 && r++, s[t].type === "text" && t + 1 < i && s[t + 1].type === "text" ? s[t + 1].content = s[t].content + s[t + 1].content : (t !== n && (s[n] = s[t]), n++);
  t !== n && (s.length = n);
}
var Vi = [
  ["text", d0],
  ["linkify", g0],
  ["newline", m0],
  ["escape", _0],
  ["backticks", b0],
  ["strikethrough", nf.tokenize],
  ["emphasis", rf.tokenize],
  ["link", A0],
  ["image", R0],
  ["autolink", S0],
  ["html_inline", I0],
  ["entity", M0]
], Gi = [
  ["balance_pairs", L0],
  ["strikethrough", nf.postProcess],
  ["emphasis", rf.postProcess],
  ["fragments_join", P0]
], of = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of inline rules.
      */
      "ruler",
      new zr()
    ), K(
      this,
      /**
      * {@link Ruler} instance. Second ruler used for post-processing
      * (e.g. in emphasis-like rules).
      */
      "ruler2",
      new zr()
    ), K(this, "State", tf);
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
}, j0 = {
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
}, $0 = /^(vbscript|javascript|file|data):/, B0 = /^data:image\/(gif|png|jpeg|webp);/, na = [
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
    return $0.test(t) ? B0.test(t) : !0;
  }
  /**
  * Function used to encode link url to a machine-readable format,
  * which includes url-encoding, punycode, etc.
  */
  normalizeLink(e) {
    const t = go(e, !0);
    if (t.hostname && (!t.protocol || na.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Jc.toASCII(t.hostname);
      } catch {
      }
    return t.auth && (t.auth = qt(t.auth)), t.hostname && (t.hostname = qt(t.hostname)), t.pathname && (t.pathname = qt(t.pathname)), t.search && (t.search = qt(t.search)), t.hash && (t.hash = qt(t.hash)), po(t);
  }
  /**
  * Function used to decode link url to a human-readable format`
  */
  normalizeLinkText(e) {
    const t = go(e, !0);
    if (t.hostname && (!t.protocol || na.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Jc.toUnicode(t.hostname);
      } catch {
      }
    return or(po(t), or.defaultChars + "%");
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
      new of()
    ), K(
      this,
      /**
      * Instance of {@link ParserBlock}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "block",
      new ef()
    ), K(
      this,
      /**
      * Instance of {@link ParserCore} chain executor. You may need it to add new
      * rules when writing plugins. For simple rules control use
      * {@link MarkdownIt.disable} and {@link MarkdownIt.enable}.
      */
      "core",
      new Xu()
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
      new Gu()
    ), K(
      this,
      /**
      * [linkify-it](https://github.com/markdown-it/linkify-it) instance.
      * Used by [linkify](https://github.com/markdown-it/markdown-it/blob/master/src/rules_core/linkify.ts)
      * rule.
      */
      "linkify",
      new Gm()
    ), K(
      this,
      /**
      * Assorted utility functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/common/utils.ts).
      */
      "utils",
      o_
    ), K(
      this,
      /**
      * Link components parser functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/helpers).
      */
      "helpers",
      Object.assign({}, x_)
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
      if (t = j0[s], !t) throw new Error(`Wrong 'markdown-it' preset "${s}", check name`);
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
K(Mt, "Token", Mn);
K(Mt, "Ruler", zr);
K(Mt, "Renderer", Gu);
K(Mt, "ParserCore", Xu);
K(Mt, "StateCore", Ku);
K(Mt, "ParserBlock", ef);
K(Mt, "StateBlock", Zu);
K(Mt, "ParserInline", of);
K(Mt, "StateInline", tf);
var z0 = qu(Mt);
const U0 = 200 * 1024, Bo = /^(?:https?:\/\/|mailto:)/i, W0 = [
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
], J0 = ["href", "title", "target", "rel", "start", "class"], qr = new z0({ html: !1, linkify: !0, breaks: !0, typographer: !1 });
qr.disable(["image"]);
qr.validateLink = (e) => Bo.test(String(e).trim());
const q0 = qr.renderer.rules.link_open ?? ((e, t, n, r, s) => s.renderToken(e, t, n));
qr.renderer.rules.link_open = (e, t, n, r, s) => (e[t].attrSet("target", "_blank"), e[t].attrSet("rel", "noopener noreferrer nofollow"), q0(e, t, n, r, s));
function H0(e) {
  return String(e).replace(/[&<>"']/g, (t) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[t]);
}
let ra = null;
function V0(e) {
  return !e?.isSupported || typeof e.sanitize != "function" ? null : (ra !== e && (e.addHook("afterSanitizeAttributes", (t) => {
    if (t.nodeName !== "A") return;
    const n = t.getAttribute("href");
    n !== null && !Bo.test(n.trim()) && t.removeAttribute("href"), t.hasAttribute("href") ? (t.setAttribute("target", "_blank"), t.setAttribute("rel", "noopener noreferrer nofollow")) : (t.removeAttribute("target"), t.removeAttribute("rel"));
  }), ra = e), e);
}
function G0(e, t = pm) {
  const n = String(e ?? "").slice(0, U0), r = V0(t);
  if (!r) return `<p>${H0(n)}</p>`;
  const s = qr.render(n);
  return r.sanitize(s, {
    ALLOWED_TAGS: W0,
    ALLOWED_ATTR: J0,
    ALLOWED_URI_REGEXP: Bo,
    ALLOW_DATA_ATTR: !1,
    ALLOW_ARIA_ATTR: !1
  });
}
const K0 = 300, Vn = /* @__PURE__ */ new Map();
function Ki(e) {
  const t = String(e ?? "");
  let n = Vn.get(t);
  return n !== void 0 ? Vn.delete(t) : (n = G0(t), Vn.size >= K0 && Vn.delete(Vn.keys().next().value)), Vn.set(t, n), n;
}
const Y0 = ["data-prompt", "data-status"], X0 = { class: "cd-run-head" }, Z0 = { "data-test": "run-status" }, Q0 = { class: "cd-hint" }, ey = ["value"], ty = {
  key: 1,
  class: "cd-progress",
  "data-test": "run-progress"
}, ny = {
  class: "cd-hint",
  "data-test": "run-node"
}, ry = {
  key: 1,
  class: "cd-err",
  "data-test": "run-reason"
}, sy = ["data-node", "onClick"], iy = { class: "cd-err" }, oy = {
  key: 2,
  class: "cd-thumbs",
  "data-test": "run-outputs"
}, ly = ["src", "alt", "title", "onClick"], sa = {
  __name: "RunCard",
  props: { run: { type: Object, required: !0 }, ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = (i, o) => t.ctl.url(rc(i.id, o.nodeId, o.index, Qp)), r = (i) => i < 1 ? `${Math.round(i * 1e3)} ms` : `${i.toFixed(1)} s`, s = (i, o) => t.ctl.url(rc(i.id, o.nodeId, o.index));
    return (i, o) => (U(), q("div", {
      class: st(["cd-run", "cd-run-" + e.run.status]),
      "data-test": "run",
      "data-prompt": e.run.id,
      "data-status": e.run.status
    }, [
      H("div", X0, [
        o[0] || (o[0] = H("span", { class: "cd-who" }, "run", -1)),
        H("b", Z0, ie(e.run.status), 1),
        H("span", Q0, [
          ge(ie(e.run.short), 1),
          e.run.queuedBy ? (U(), q(oe, { key: 0 }, [
            ge(" · " + ie(e.run.queuedBy), 1)
          ], 64)) : pe("", !0),
          e.run.seconds !== null ? (U(), q(oe, { key: 1 }, [
            ge(" · " + ie(r(e.run.seconds)), 1)
          ], 64)) : pe("", !0)
        ])
      ]),
      e.run.final ? pe("", !0) : (U(), q(oe, { key: 0 }, [
        e.run.percent !== null ? (U(), q("progress", {
          key: 0,
          class: "cd-progress",
          value: e.run.percent,
          max: "100",
          "data-test": "run-progress"
        }, null, 8, ey)) : (U(), q("progress", ty)),
        H("div", ny, [
          e.run.status === "queued" ? (U(), q(oe, { key: 0 }, [
            o[1] || (o[1] = ge("waiting in ComfyUI's queue", -1)),
            e.run.queuePosition ? (U(), q(oe, { key: 0 }, [
              ge(" (position " + ie(e.run.queuePosition) + ")", 1)
            ], 64)) : pe("", !0)
          ], 64)) : e.run.node ? (U(), q(oe, { key: 1 }, [
            ge(ie(e.run.node.title), 1),
            e.run.max ? (U(), q(oe, { key: 0 }, [
              ge(" · " + ie(e.run.value) + "/" + ie(e.run.max), 1)
            ], 64)) : pe("", !0)
          ], 64)) : (U(), q(oe, { key: 2 }, [
            ge("starting…")
          ], 64)),
          e.run.done ? (U(), q(oe, { key: 3 }, [
            ge(" · " + ie(e.run.done) + " node" + ie(e.run.done === 1 ? "" : "s") + " done", 1)
          ], 64)) : pe("", !0)
        ])
      ], 64)),
      e.run.final && e.run.status !== "succeeded" && e.run.reason && !e.run.errors.length ? (U(), q("div", ry, ie(e.run.reason), 1)) : pe("", !0),
      (U(!0), q(oe, null, Ge(e.run.errors, (l, c) => (U(), q("div", {
        key: c,
        class: "cd-run-error",
        "data-test": "run-error"
      }, [
        l.nodeId ? (U(), q("button", {
          key: 0,
          class: "cd-link",
          "data-node": l.nodeId,
          title: "Select this node on the canvas",
          onClick: Kn((a) => e.ctl.focusNode(l.nodeId), ["stop"]),
          "data-test": "run-error-node"
        }, [
          ge(ie(l.title), 1),
          l.input ? (U(), q(oe, { key: 0 }, [
            ge(" · " + ie(l.input), 1)
          ], 64)) : pe("", !0)
        ], 8, sy)) : pe("", !0),
        H("span", iy, ie((l.nodeId ? ": " : "") + l.message), 1)
      ]))), 128)),
      e.run.outputs.length ? (U(), q("div", oy, [
        (U(!0), q(oe, null, Ge(e.run.outputs, (l) => (U(), q("img", {
          key: l.nodeId + "/" + l.index,
          src: n(e.run, l),
          alt: l.filename,
          title: l.filename + " (click for full size)",
          loading: "lazy",
          onClick: (c) => e.ctl.showImage(s(e.run, l)),
          "data-test": "run-thumb"
        }, null, 8, ly))), 128))
      ])) : pe("", !0)
    ], 10, Y0));
  }
}, cy = { class: "cd-bar" }, ay = ["title"], uy = ["value", "disabled"], fy = ["value"], dy = ["disabled"], hy = ["title"], py = ["disabled"], gy = {
  key: 0,
  class: "cd-hits",
  "data-test": "search-hits"
}, my = {
  key: 0,
  class: "cd-hint"
}, _y = ["onClick", "data-session"], yy = { class: "cd-hint" }, by = { key: 0 }, ky = {
  key: 1,
  class: "cd-settings",
  "data-test": "settings-pane"
}, wy = ["value"], xy = { class: "cd-wide" }, vy = { class: "cd-wide" }, Ay = { class: "cd-hint" }, Ry = { class: "cd-row" }, Ey = ["disabled"], Cy = {
  class: "cd-skills",
  "data-test": "skills"
}, Sy = ["title"], Dy = ["checked", "onChange", "data-skill"], Ty = {
  key: 0,
  class: "cd-hint",
  "data-test": "skills-hint"
}, Fy = { class: "cd-main" }, Iy = {
  key: 0,
  class: "cd-compacted",
  "data-test": "compacted"
}, Oy = { "data-test": "summary" }, Ny = ["innerHTML"], My = { class: "cd-user" }, Ly = ["data-skill"], Py = { class: "cd-skill" }, jy = ["innerHTML"], $y = ["data-message"], By = ["disabled", "onClick"], zy = ["disabled", "onClick"], Uy = ["disabled", "onClick"], Wy = {
  key: 1,
  class: "cd-atts",
  "data-test": "attachments"
}, Jy = ["src", "alt", "title", "onClick"], qy = ["href", "title"], Hy = {
  key: 2,
  class: "cd-hint",
  "data-test": "waiting"
}, Vy = {
  key: 3,
  class: "cd-err"
}, Gy = ["data-skill"], Ky = { class: "cd-skill" }, Yy = {
  key: 0,
  class: "cd-typing"
}, Xy = ["data-message"], Zy = ["disabled", "onClick"], Qy = ["disabled", "onClick"], eb = ["innerHTML"], tb = {
  key: 0,
  class: "cd-err"
}, nb = {
  key: 1,
  class: "cd-empty"
}, rb = {
  key: 0,
  class: "cd-hint"
}, sb = ["src"], ib = ["href"], ob = {
  key: 2,
  class: "cd-notice cd-stale",
  "data-test": "stale-revert"
}, lb = { class: "cd-row" }, cb = {
  key: 3,
  class: "cd-notice",
  "data-test": "notice"
}, ab = {
  key: 4,
  class: "cd-chips",
  "data-test": "chips"
}, ub = ["title", "data-state"], fb = ["src"], db = ["onClick"], hb = { class: "cd-input" }, pb = ["disabled"], gb = ["accept"], mb = ["disabled"], _b = ["disabled"], yb = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, r = t.ctl.ui, s = Ve(() => r.connected ? r.outage ? "core unavailable, reconnecting…" : r.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), i = Ve(() => r.connected && r.outage ? "cd-outage" : "cd-" + s.value.replace(" ", "-")), o = Ve(() => (r.connected ? r.outage : r.offlineReason) || n.statusDetail || s.value), l = Ve(() => r.connected ? r.outage ? `core unavailable, reconnecting… (${r.outage})` : r.notice ? r.notice : n.lastError ? `${n.lastError.code}: ${n.lastError.message}` : "" : r.offlineReason ? `comfyd is not reachable: ${r.offlineReason}` : ""), c = Ve(() => r.connected && !r.outage && n.status === "working"), a = Ve(() => r.connected && !r.outage && !!r.form.session_id), u = Ve(() => a.value && n.status !== "working" && !n.queuedTurns), f = Ve(() => r.form.skills), g = Ve(() => !!n.config?.api_key_set), m = Ve(() => {
      const J = [...r.sessions];
      return r.form.session_id && !J.some((R) => R.id === r.form.session_id) && J.unshift({ id: r.form.session_id, title: n.title || r.form.session_id }), J;
    }), h = Ve(() => cg(n)), w = Ve(() => h.value ? n.turns.filter((J) => !J.pending && J.id <= h.value.coversTo) : []), v = Ve(() => h.value ? n.turns.filter((J) => J.pending || J.id > h.value.coversTo) : n.turns);
    function T(J) {
      return String(J).split(/(\[[^\]]*\])/).filter((R) => R).map((R) => R.startsWith("[") && R.endsWith("]") ? { mark: !0, text: R.slice(1, -1) } : { mark: !1, text: R });
    }
    function x(J) {
      J.key === "Enter" && t.ctl.search(), J.key === "Escape" && (r.searchQuery = "", r.searchHits = null);
    }
    const b = Ve(() => {
      const J = {};
      for (const [R, C] of Object.entries(og(n))) J[R] = C.map((Y) => lg(Y, (ut) => t.ctl.titleOf(ut)));
      return J;
    }), k = (J) => b.value[J] ?? [];
    function F(J) {
      (!J || J.type === "click" || J.key === "Escape") && t.ctl.showImage("");
    }
    const B = /* @__PURE__ */ ts(null);
    mi(
      () => r.image,
      (J) => J && vr(() => B.value?.focus())
    );
    const j = /* @__PURE__ */ ts(null), ee = /* @__PURE__ */ ts(null), X = (J) => {
      J && (J.scrollTop = J.scrollHeight);
    };
    mi(
      () => [n.turns.length, n.lastSeq, Object.keys(n.runs).length],
      () => vr(() => X(j.value))
    ), mi(
      () => n.logs.length,
      () => vr(() => X(ee.value))
    );
    function ue(J) {
      const R = J.target.value;
      R === "__new__" ? t.ctl.createSession() : R && t.ctl.selectSession(R);
    }
    function ne(J) {
      J.key === "Enter" && !J.shiftKey && !J.isComposing && (J.preventDefault(), t.ctl.send());
    }
    const de = /* @__PURE__ */ ts(null), De = [...Mo, ".md", ".json", ".txt"].join(","), we = Ve(() => r.attachments.some((J) => J.state === "ready")), ve = Ve(() => r.connected && (r.draft.trim() || we.value));
    function at(J) {
      t.ctl.addFiles(J.target.files), J.target.value = "";
    }
    function W(J) {
      J.dataTransfer?.files?.length && t.ctl.addFiles(J.dataTransfer.files);
    }
    function se(J) {
      const R = Array.from(J.clipboardData?.files ?? []);
      R.length && (J.preventDefault(), t.ctl.addFiles(R));
    }
    const le = (J) => String(J.mime).startsWith("image/");
    function me(J) {
      J.stopPropagation();
    }
    return (J, R) => (U(), q("div", {
      class: "comfyd-panel",
      onKeydown: me,
      onKeyup: me,
      onWheel: R[21] || (R[21] = Kn(() => {
      }, ["stop"])),
      onContextmenu: R[22] || (R[22] = Kn(() => {
      }, ["stop"])),
      onDragover: R[23] || (R[23] = Kn(() => {
      }, ["prevent", "stop"])),
      onDrop: Kn(W, ["prevent", "stop"])
    }, [
      H("div", cy, [
        H("span", {
          class: st(["cd-dot", i.value]),
          title: o.value
        }, null, 10, ay),
        H("select", {
          class: "cd-session",
          value: G(r).form.session_id,
          disabled: !G(r).connected || G(r).busy,
          onChange: ue,
          "data-test": "session"
        }, [
          R[24] || (R[24] = H("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (U(!0), q(oe, null, Ge(m.value, (C) => (U(), q("option", {
            key: C.id,
            value: C.id
          }, ie(C.title), 9, fy))), 128)),
          R[25] || (R[25] = H("option", { value: "__new__" }, "+ new session", -1))
        ], 40, uy),
        bn(H("input", {
          class: "cd-search",
          "onUpdate:modelValue": R[0] || (R[0] = (C) => G(r).searchQuery = C),
          type: "search",
          placeholder: "search sessions…",
          disabled: !G(r).connected,
          onKeydown: x,
          "data-test": "session-search",
          title: 'Words, "a phrase", prefix*, a OR b, -excluded; Enter searches'
        }, null, 40, dy), [
          [Jn, G(r).searchQuery]
        ]),
        H("span", {
          class: st(["cd-status", { "cd-status-outage": G(r).connected && G(r).outage }]),
          title: o.value,
          "data-test": "status"
        }, [
          ge(ie(s.value), 1),
          G(n).queuedTurns ? (U(), q(oe, { key: 0 }, [
            ge(" · " + ie(G(n).queuedTurns) + " queued", 1)
          ], 64)) : pe("", !0)
        ], 10, hy),
        H("button", {
          class: "cd-btn",
          disabled: !c.value,
          onClick: R[1] || (R[1] = (C) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, py),
        H("button", {
          class: st(["cd-btn", { "cd-on": G(r).showSettings }]),
          onClick: R[2] || (R[2] = (C) => G(r).showSettings = !G(r).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        H("button", {
          class: st(["cd-btn", { "cd-on": G(r).showLog }]),
          onClick: R[3] || (R[3] = (C) => G(r).showLog = !G(r).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      G(r).searchHits ? (U(), q("div", gy, [
        G(r).searchHits.length ? pe("", !0) : (U(), q("div", my, "nothing found")),
        (U(!0), q(oe, null, Ge(G(r).searchHits, (C) => (U(), q("button", {
          key: C.key,
          class: "cd-hit",
          onClick: (Y) => e.ctl.openHit(C),
          "data-session": C.sessionId
        }, [
          H("b", null, ie(C.title), 1),
          R[26] || (R[26] = ge()),
          H("span", yy, ie(C.kind), 1),
          R[27] || (R[27] = H("br", null, null, -1)),
          (U(!0), q(oe, null, Ge(T(C.snippet), (Y, ut) => (U(), q(oe, { key: ut }, [
            Y.mark ? (U(), q("mark", by, ie(Y.text), 1)) : (U(), q(oe, { key: 1 }, [
              ge(ie(Y.text), 1)
            ], 64))
          ], 64))), 128))
        ], 8, _y))), 128))
      ])) : pe("", !0),
      G(r).showSettings ? (U(), q("div", ky, [
        H("label", null, [
          R[28] || (R[28] = ge("Provider ", -1)),
          bn(H("select", {
            "onUpdate:modelValue": R[4] || (R[4] = (C) => G(r).form.provider = C),
            onChange: R[5] || (R[5] = (C) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (U(!0), q(oe, null, Ge(G(_g), (C) => (U(), q("option", {
              key: C,
              value: C
            }, ie(C), 9, wy))), 128))
          ], 544), [
            [jh, G(r).form.provider]
          ])
        ]),
        H("label", null, [
          R[29] || (R[29] = ge("Model ", -1)),
          bn(H("input", {
            "onUpdate:modelValue": R[6] || (R[6] = (C) => G(r).form.model = C),
            onChange: R[7] || (R[7] = (C) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [Jn, G(r).form.model]
          ])
        ]),
        H("label", null, [
          R[30] || (R[30] = ge("Base URL ", -1)),
          bn(H("input", {
            "onUpdate:modelValue": R[8] || (R[8] = (C) => G(r).form.base_url = C),
            onChange: R[9] || (R[9] = (C) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [Jn, G(r).form.base_url]
          ])
        ]),
        H("label", xy, [
          R[31] || (R[31] = ge("System prompt ", -1)),
          bn(H("textarea", {
            "onUpdate:modelValue": R[10] || (R[10] = (C) => G(r).form.system_prompt = C),
            rows: "2",
            onChange: R[11] || (R[11] = (C) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [Jn, G(r).form.system_prompt]
          ])
        ]),
        H("label", vy, [
          R[32] || (R[32] = ge("API key ", -1)),
          H("span", Ay, ie(g.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          H("span", Ry, [
            bn(H("input", {
              "onUpdate:modelValue": R[12] || (R[12] = (C) => G(r).apiKey = C),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [Jn, G(r).apiKey]
            ]),
            H("button", {
              class: "cd-btn",
              onClick: R[13] || (R[13] = (C) => e.ctl.setApiKey()),
              disabled: !G(r).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, Ey)
          ])
        ])
      ])) : pe("", !0),
      H("div", Cy, [
        (U(!0), q(oe, null, Ge(G(r).skills, (C) => (U(), q("label", {
          key: C.name,
          class: st(["cd-chip", { "cd-on": f.value.includes(C.name) }]),
          title: C.description
        }, [
          H("input", {
            type: "checkbox",
            checked: f.value.includes(C.name),
            onChange: (Y) => e.ctl.toggleSkill(C.name, Y.target.checked),
            "data-skill": C.name
          }, null, 40, Dy),
          ge(" " + ie(C.name), 1)
        ], 10, Sy))), 128)),
        G(r).skills.length ? pe("", !0) : (U(), q("span", Ty, [
          ge(ie(G(r).connected ? G(r).outage ? "waiting for the core…" : "no skills loaded" : "connecting to comfyd…"), 1),
          !G(r).connected && G(r).offlineReason ? (U(), q(oe, { key: 0 }, [
            ge(" (" + ie(G(r).offlineReason) + ")", 1)
          ], 64)) : pe("", !0)
        ]))
      ]),
      H("div", Fy, [
        H("div", {
          ref_key: "chat",
          ref: j,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          h.value ? (U(), q("details", Iy, [
            H("summary", Oy, [
              R[33] || (R[33] = H("b", null, "Summary", -1)),
              ge(" of " + ie(w.value.length) + " earlier turn" + ie(w.value.length === 1 ? "" : "s") + " (what the model sees now; the originals below) ", 1),
              H("div", {
                class: "cd-text cd-md",
                innerHTML: G(Ki)(h.value.content)
              }, null, 8, Ny)
            ]),
            (U(!0), q(oe, null, Ge(w.value, (C) => (U(), q("div", {
              key: C.id,
              class: "cd-turn cd-old"
            }, [
              H("div", My, [
                R[34] || (R[34] = H("span", { class: "cd-who" }, "you", -1)),
                ge(ie(C.content), 1)
              ]),
              H("div", {
                class: "cd-replies",
                style: Dr({ "--cols": Math.max(1, G(ls)(C, f.value).length) })
              }, [
                (U(!0), q(oe, null, Ge(G(ls)(C, f.value), (Y) => (U(), q("div", {
                  key: Y.skill,
                  class: st(["cd-reply", "cd-" + Y.state]),
                  "data-skill": Y.skill
                }, [
                  H("div", Py, ie(Y.skill), 1),
                  H("div", {
                    class: "cd-text cd-md",
                    innerHTML: G(Ki)(Y.content)
                  }, null, 8, jy)
                ], 10, Ly))), 128))
              ], 4)
            ]))), 128))
          ])) : pe("", !0),
          (U(!0), q(oe, null, Ge(v.value, (C) => (U(), q("div", {
            key: C.pending ? C.clientId : C.id,
            class: "cd-turn"
          }, [
            H("div", {
              class: st(["cd-user", { "cd-failed": C.state === "failed", "cd-waiting": C.state === "waiting" }])
            }, [
              C.pending ? pe("", !0) : (U(), q("span", {
                key: 0,
                class: "cd-acts",
                "data-test": "message-actions",
                "data-message": C.id
              }, [
                H("button", {
                  class: "cd-act",
                  disabled: !a.value,
                  onClick: (Y) => e.ctl.forkFrom(C.id),
                  "data-test": "fork",
                  title: "Fork from here: a new session with the history up to this message"
                }, "fork", 8, By),
                H("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (Y) => e.ctl.revertTo(C.id),
                  "data-test": "revert",
                  title: "Revert to here: hide the later messages (kept in comfyd)"
                }, "revert", 8, zy),
                H("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (Y) => e.ctl.revertTo(C.id, { canvas: !0 }),
                  "data-test": "revert-canvas",
                  title: "Revert to here and put the canvas back as it was before this turn's changes"
                }, "revert + canvas", 8, Uy)
              ], 8, $y)),
              R[35] || (R[35] = H("span", { class: "cd-who" }, "you", -1)),
              ge(ie(C.content) + " ", 1),
              C.attachments?.length ? (U(), q("span", Wy, [
                (U(!0), q(oe, null, Ge(C.attachments, (Y) => (U(), q(oe, {
                  key: Y.sha256
                }, [
                  le(Y) ? (U(), q("img", {
                    key: 0,
                    class: "cd-thumb",
                    src: e.ctl.attachmentUrl(Y.sha256),
                    alt: Y.name,
                    title: Y.name + (Y.width ? ` · ${Y.width}×${Y.height}` : ""),
                    onClick: (ut) => e.ctl.showImage(e.ctl.attachmentUrl(Y.sha256)),
                    "data-test": "attachment"
                  }, null, 8, Jy)) : (U(), q("a", {
                    key: 1,
                    class: "cd-file",
                    href: e.ctl.attachmentUrl(Y.sha256),
                    target: "_blank",
                    rel: "noopener",
                    title: Y.mime,
                    "data-test": "attachment"
                  }, ie(Y.name || Y.mime), 9, qy))
                ], 64))), 128))
              ])) : pe("", !0),
              C.state === "waiting" ? (U(), q("span", Hy, " — waiting for comfyd, sent when it is back")) : pe("", !0),
              C.error ? (U(), q("span", Vy, " — " + ie(C.error), 1)) : pe("", !0)
            ], 2),
            H("div", {
              class: "cd-replies",
              style: Dr({ "--cols": Math.max(1, G(ls)(C, f.value).length) })
            }, [
              (U(!0), q(oe, null, Ge(G(ls)(C, f.value), (Y) => (U(), q("div", {
                key: Y.skill,
                class: st(["cd-reply", "cd-" + Y.state]),
                "data-skill": Y.skill
              }, [
                H("div", Ky, [
                  ge(ie(Y.skill), 1),
                  Y.state === "streaming" ? (U(), q("span", Yy, "…")) : pe("", !0),
                  Y.id ? (U(), q("span", {
                    key: 1,
                    class: "cd-acts",
                    "data-test": "reply-actions",
                    "data-message": Y.id
                  }, [
                    H("button", {
                      class: "cd-act",
                      disabled: !a.value,
                      onClick: (ut) => e.ctl.forkFrom(Y.id),
                      "data-test": "fork",
                      title: "Fork from here: a new session with the history up to this reply"
                    }, "fork", 8, Zy),
                    H("button", {
                      class: "cd-act",
                      disabled: !u.value,
                      onClick: (ut) => e.ctl.revertTo(Y.id),
                      "data-test": "revert",
                      title: "Revert to here: hide the later messages (kept in comfyd)"
                    }, "revert", 8, Qy)
                  ], 8, Xy)) : pe("", !0)
                ]),
                H("div", {
                  class: "cd-text cd-md",
                  innerHTML: G(Ki)(Y.content)
                }, null, 8, eb),
                Y.error ? (U(), q("div", tb, ie(Y.error), 1)) : pe("", !0)
              ], 10, Gy))), 128))
            ], 4),
            (U(!0), q(oe, null, Ge(k(C.id), (Y) => (U(), ps(sa, {
              key: Y.id,
              run: Y,
              ctl: e.ctl
            }, null, 8, ["run", "ctl"]))), 128))
          ]))), 128)),
          (U(!0), q(oe, null, Ge(k(0), (C) => (U(), ps(sa, {
            key: C.id,
            run: C,
            ctl: e.ctl,
            class: "cd-run-loose"
          }, null, 8, ["run", "ctl"]))), 128)),
          G(n).turns.length ? pe("", !0) : (U(), q("div", nb, ie(G(r).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        G(r).showLog ? (U(), q("div", {
          key: 0,
          ref_key: "logBox",
          ref: ee,
          class: "cd-log",
          "data-test": "log"
        }, [
          (U(!0), q(oe, null, Ge(G(n).logs, (C, Y) => (U(), q("div", {
            key: C.seq + ":" + Y,
            class: st("cd-l-" + C.level)
          }, [
            H("b", null, ie(C.level), 1),
            ge(" " + ie(C.module), 1),
            C.skill ? (U(), q(oe, { key: 0 }, [
              ge(" [" + ie(C.skill) + "]", 1)
            ], 64)) : pe("", !0),
            ge(": " + ie(C.message), 1)
          ], 2))), 128)),
          G(n).logs.length ? pe("", !0) : (U(), q("div", rb, "no debug output yet"))
        ], 512)) : pe("", !0)
      ]),
      (U(), ps(Td, { to: "body" }, [
        G(r).image ? (U(), q("div", {
          key: 0,
          ref_key: "overlay",
          ref: B,
          class: "comfyd-image-overlay",
          tabindex: "0",
          onClick: F,
          onKeydown: F,
          "data-test": "image-overlay"
        }, [
          H("img", {
            src: G(r).image,
            alt: "full size"
          }, null, 8, sb),
          H("a", {
            href: G(r).image,
            target: "_blank",
            rel: "noopener",
            onClick: R[14] || (R[14] = Kn(() => {
            }, ["stop"]))
          }, "open in a new tab", 8, ib)
        ], 544)) : pe("", !0)
      ])),
      G(r).staleRevert ? (U(), q("div", ob, [
        ge(ie(G(r).staleRevert.message) + " ", 1),
        H("span", lb, [
          H("button", {
            class: "cd-btn",
            onClick: R[15] || (R[15] = (C) => e.ctl.revertTo(G(r).staleRevert.messageId, { canvas: !0, force: !0 })),
            "data-test": "revert-force"
          }, "restore the canvas anyway"),
          H("button", {
            class: "cd-btn",
            onClick: R[16] || (R[16] = (C) => e.ctl.revertTo(G(r).staleRevert.messageId)),
            "data-test": "revert-keep-canvas"
          }, "revert, keep the canvas"),
          H("button", {
            class: "cd-btn",
            onClick: R[17] || (R[17] = (C) => G(r).staleRevert = null),
            "data-test": "revert-dismiss"
          }, "dismiss")
        ])
      ])) : pe("", !0),
      l.value ? (U(), q("div", cb, ie(l.value), 1)) : pe("", !0),
      G(r).attachments.length ? (U(), q("div", ab, [
        (U(!0), q(oe, null, Ge(G(r).attachments, (C) => (U(), q("span", {
          key: C.key,
          class: st(["cd-chip cd-att", "cd-att-" + C.state]),
          title: C.error || C.mime,
          "data-state": C.state
        }, [
          C.preview ? (U(), q("img", {
            key: 0,
            class: "cd-chip-thumb",
            src: C.preview,
            alt: ""
          }, null, 8, fb)) : pe("", !0),
          ge(" " + ie(C.name), 1),
          C.state === "uploading" ? (U(), q(oe, { key: 1 }, [
            ge(" …")
          ], 64)) : pe("", !0),
          C.error ? (U(), q(oe, { key: 2 }, [
            ge(" — " + ie(C.error), 1)
          ], 64)) : pe("", !0),
          H("button", {
            class: "cd-x",
            onClick: (Y) => e.ctl.removeAttachment(C.key),
            title: "Remove"
          }, "×", 8, db)
        ], 10, ub))), 128))
      ])) : pe("", !0),
      H("div", hb, [
        H("button", {
          class: "cd-btn",
          disabled: !G(r).connected,
          onClick: R[18] || (R[18] = (C) => de.value?.click()),
          title: "Attach images or text files (or drop, or paste)",
          "data-test": "attach"
        }, "+", 8, pb),
        H("input", {
          ref_key: "picker",
          ref: de,
          type: "file",
          multiple: "",
          accept: G(De),
          style: { display: "none" },
          onChange: at,
          "data-test": "file"
        }, null, 40, gb),
        bn(H("textarea", {
          "onUpdate:modelValue": R[19] || (R[19] = (C) => G(r).draft = C),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !G(r).connected,
          onKeydown: ne,
          onPaste: se,
          "data-test": "input"
        }, null, 40, mb), [
          [Jn, G(r).draft]
        ]),
        H("button", {
          class: "cd-btn cd-send",
          disabled: !ve.value,
          onClick: R[20] || (R[20] = (C) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, _b)
      ])
    ], 32));
  }
}, bb = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline,.comfyd-panel .cd-outage{background:#c84a4a}.comfyd-panel .cd-status.cd-status-outage{color:#e0a050;white-space:normal}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{word-break:break-word}.comfyd-panel .cd-waiting{opacity:.75}.comfyd-panel .cd-md>:first-child{margin-top:0}.comfyd-panel .cd-md>:last-child{margin-bottom:0}.comfyd-panel .cd-md p,.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol,.comfyd-panel .cd-md pre,.comfyd-panel .cd-md blockquote,.comfyd-panel .cd-md table{margin:0 0 6px}.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol{padding-left:18px}.comfyd-panel .cd-md h1,.comfyd-panel .cd-md h2,.comfyd-panel .cd-md h3,.comfyd-panel .cd-md h4,.comfyd-panel .cd-md h5,.comfyd-panel .cd-md h6{font-size:13px;margin:6px 0 4px}.comfyd-panel .cd-md code{font:11px/1.35 ui-monospace,DejaVu Sans Mono,monospace;background:#7f7f7f2e;border-radius:3px;padding:0 3px}.comfyd-panel .cd-md pre{padding:4px 6px;overflow-x:auto;background:#00000047;border-radius:4px}.comfyd-panel .cd-md pre code{background:none;padding:0;white-space:pre}.comfyd-panel .cd-md a{color:var(--cd-accent)}.comfyd-panel .cd-md blockquote{border-left:3px solid var(--cd-border);padding-left:6px;color:var(--cd-dim)}.comfyd-panel .cd-md table{border-collapse:collapse}.comfyd-panel .cd-md th,.comfyd-panel .cd-md td{border:1px solid var(--cd-border);padding:1px 4px}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}.comfyd-panel .cd-run{margin:4px 0 2px;padding:4px 6px;border:1px solid var(--border-color, #444);border-left-width:3px;border-radius:4px;font-size:12px}.comfyd-panel .cd-run-head{display:flex;gap:4px;align-items:baseline;flex-wrap:wrap}.comfyd-panel .cd-run-queued,.comfyd-panel .cd-run-running{border-left-color:#4a90d9}.comfyd-panel .cd-run-succeeded{border-left-color:#3c9a5f}.comfyd-panel .cd-run-failed,.comfyd-panel .cd-run-unknown{border-left-color:#c0392b}.comfyd-panel .cd-run-interrupted,.comfyd-panel .cd-run-cancelled{border-left-color:#b08a2e}.comfyd-panel .cd-progress{width:100%;height:8px;margin:3px 0 1px}.comfyd-panel .cd-run-error{margin-top:2px}.comfyd-panel .cd-link{background:none;border:none;padding:0;color:#6fa8ff;text-decoration:underline;cursor:pointer;font:inherit}.comfyd-panel .cd-thumbs{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumbs img{max-width:96px;max-height:96px;border-radius:3px;cursor:zoom-in;background:#222}.comfyd-image-overlay{position:fixed;inset:0;z-index:10000;background:#000000d9;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;cursor:zoom-out}.comfyd-image-overlay img{max-width:95vw;max-height:90vh;object-fit:contain}.comfyd-image-overlay a{color:#ddd;font-size:13px}.comfyd-panel .cd-chips{display:flex;flex-wrap:wrap;gap:4px;margin-bottom:4px}.comfyd-panel .cd-att{display:inline-flex;align-items:center;gap:4px;max-width:100%}.comfyd-panel .cd-att-failed{border-color:#c44;color:#e88}.comfyd-panel .cd-att-uploading{opacity:.7}.comfyd-panel .cd-chip-thumb{width:20px;height:20px;object-fit:cover;border-radius:2px}.comfyd-panel .cd-x{background:none;border:0;color:inherit;cursor:pointer;padding:0 2px}.comfyd-panel .cd-atts{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumb{max-width:96px;max-height:72px;border-radius:3px;cursor:zoom-in;border:1px solid var(--cd-border, #444)}.comfyd-panel .cd-file{font-size:.9em;padding:1px 5px;border:1px solid var(--cd-border, #444);border-radius:3px}.comfyd-panel .cd-search{flex:0 1 9em;min-width:5em}.comfyd-panel .cd-hits{display:flex;flex-direction:column;gap:2px;max-height:12em;overflow-y:auto;padding:4px;border-bottom:1px solid var(--border-color, #444)}.comfyd-panel .cd-hit{text-align:left;background:none;border:1px solid transparent;color:inherit;padding:3px 4px;cursor:pointer;font:inherit}.comfyd-panel .cd-hit:hover{border-color:var(--border-color, #555)}.comfyd-panel .cd-hit mark{background:#6a5d1e;color:inherit}.comfyd-panel .cd-compacted{margin:4px 0 8px;padding:4px 6px;border:1px dashed var(--border-color, #555);border-radius:4px}.comfyd-panel .cd-compacted>summary{cursor:pointer}.comfyd-panel .cd-old{opacity:.75}.comfyd-panel .cd-acts{float:right;visibility:hidden;margin-left:6px}.comfyd-panel .cd-user:hover .cd-acts,.comfyd-panel .cd-reply:hover .cd-acts,.comfyd-panel .cd-acts:focus-within{visibility:visible}.comfyd-panel .cd-act{background:none;border:1px solid #555;border-radius:3px;color:inherit;cursor:pointer;font-size:10px;line-height:14px;margin-left:2px;padding:0 3px}.comfyd-panel .cd-act:disabled{cursor:default;opacity:.4}.comfyd-panel .cd-stale{white-space:pre-wrap}.comfyd-panel .cd-stale .cd-row{display:flex;gap:4px;margin-top:4px}", kb = "comfyd.canvas", wb = 1500;
function ia() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function _o(e, t) {
  (console[e] ?? console.log)(t);
}
function xb(e) {
  const t = ia();
  if (t) return e(t, !1);
  let n = 0;
  const r = setInterval(() => {
    const s = ia();
    (s || ++n > wb) && (clearInterval(r), s ? e(s, !0) : _o("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function vb({ app: e, api: t }, n) {
  const r = new Zh({
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
  }), s = new qp({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: r,
    WebSocket: window.WebSocket,
    tabId: Jp(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: _o,
    isPanelNode: yc
  }), i = {
    app: e,
    connection: r,
    WebSocket: window.WebSocket,
    createApp: Jh,
    reactive: Ro,
    component: yb,
    css: bb,
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
      const f = await t.fetchApi(c, { method: "POST", body: a, headers: { "Content-Type": u || "application/octet-stream" }, cache: "no-store" }), g = await f.json().catch(() => ({}));
      if (!f.ok) throw new Error(g?.error || `HTTP ${f.status}`);
      return g;
    }
  };
  let o = !1;
  const l = () => {
    o || (o = !0, t.addEventListener("graphChanged", () => s.graphChanged()), window.addEventListener("focus", () => s.setFocus(!0)), window.addEventListener("blur", () => s.setFocus(!1)), document.addEventListener("visibilitychange", () => s.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      s.touched(), s.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => s.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => s.setPointerDown(!1), !0), window.addEventListener("keydown", () => s.touched(), !0), Xp({ app: e, document }), s.start());
  };
  e.registerExtension({
    name: kb,
    setup: l,
    afterConfigureGraph() {
      s.graphChanged();
    },
    beforeRegisterNodeDef(c, a) {
      a?.name === fo && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      yc(c) && Tg(c, i);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: s, version: "0.1.0" });
}
xb(vb);
