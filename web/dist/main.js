// @__NO_SIDE_EFFECTS__
function vo(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const Fe = {}, Dn = [], In = () => {
}, ha = () => !1, Lr = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), Pr = (e) => e.startsWith("onUpdate:"), pt = Object.assign, pa = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, Bf = Object.prototype.hasOwnProperty, ve = (e, t) => Bf.call(e, t), ae = Array.isArray, on = (e) => Ws(e) === "[object Map]", Pn = (e) => Ws(e) === "[object Set]", pl = (e) => Ws(e) === "[object Date]", Ee = (e) => typeof e == "function", Le = (e) => typeof e == "string", Ot = (e) => typeof e == "symbol", Ie = (e) => e !== null && typeof e == "object", ga = (e) => (Ie(e) || Ee(e)) && Ee(e.then) && Ee(e.catch), ma = Object.prototype.toString, Ws = (e) => ma.call(e), zf = (e) => Ws(e).slice(8, -1), _a = (e) => Ws(e) === "[object Object]", xo = (e) => Le(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, ks = /* @__PURE__ */ vo(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), $r = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Uf = /-\w/g, kt = /* @__PURE__ */ $r((e) => e.replace(Uf, (t) => t.slice(1).toUpperCase())), Wf = /\B([A-Z])/g, $n = /* @__PURE__ */ $r(
  (e) => e.replace(Wf, "-$1").toLowerCase()
), ya = /* @__PURE__ */ $r((e) => e.charAt(0).toUpperCase() + e.slice(1)), di = /* @__PURE__ */ $r((e) => e ? `on${ya(e)}` : ""), Tt = (e, t) => !Object.is(e, t), gr = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, ba = (e, t, n, s = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: s,
    value: n
  });
}, Js = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let gl;
const jr = () => gl || (gl = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function Ts(e) {
  if (ae(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const s = e[n], r = Le(s) ? Vf(s) : Ts(s);
      if (r)
        for (const i in r)
          t[i] = r[i];
    }
    return t;
  } else if (Le(e) || Ie(e))
    return e;
}
const Jf = /;(?![^(]*\))/g, qf = /:([^]+)/, Hf = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function Vf(e) {
  const t = {};
  return e.replace(Hf, (n) => n.startsWith("/*") ? "" : n).split(Jf).forEach((n) => {
    if (n) {
      const s = n.split(qf);
      s.length > 1 && (t[s[0].trim()] = s[1].trim());
    }
  }), t;
}
function rt(e) {
  let t = "";
  if (Le(e))
    t = e;
  else if (ae(e))
    for (let n = 0; n < e.length; n++) {
      const s = rt(e[n]);
      s && (t += s + " ");
    }
  else if (Ie(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const Gf = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", Kf = /* @__PURE__ */ vo(Gf);
function wa(e) {
  return !!e || e === "";
}
function Xf(e, t, n) {
  if (e.length !== t.length) return !1;
  let s = !0;
  for (let r = 0; s && r < e.length; r++)
    s = an(e[r], t[r], n);
  return s;
}
function ml(e, t, n) {
  if (e.size !== t.size) return !1;
  const s = Array.from(t), r = new Uint8Array(s.length);
  for (const i of e) {
    let o = -1;
    for (let l = 0; l < s.length; l++)
      if (!r[l] && an(i, s[l], n)) {
        o = l;
        break;
      }
    if (o < 0) return !1;
    r[o] = 1;
  }
  return !0;
}
function Yf(e, t, n) {
  let s = on(e), r = on(t);
  if (s || r || (s = Pn(e), r = Pn(t), s || r))
    return s && r ? ml(e, t, n) : !1;
  const i = Object.keys(e).length, o = Object.keys(t).length;
  if (i !== o)
    return !1;
  for (const l in e) {
    const c = e.hasOwnProperty(l), a = t.hasOwnProperty(l);
    if (c && !a || !c && a || !an(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function _l(e, t, n, s) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [r, i] = n;
  if (r.has(e) || i.has(t))
    return r.get(e) === t && i.get(t) === e;
  r.set(e, t), i.set(t, e);
  const o = s(e, t, n);
  return r.delete(e), i.delete(t), o;
}
function an(e, t, n) {
  if (e === t) return !0;
  let s = pl(e), r = pl(t);
  return s || r ? s && r ? e.getTime() === t.getTime() : !1 : (s = Ot(e), r = Ot(t), s || r ? e === t : (s = ae(e), r = ae(t), s || r ? s && r ? _l(e, t, n, Xf) : !1 : (s = Ie(e), r = Ie(t), s || r ? !s || !r ? !1 : _l(e, t, n, Yf) : String(e) === String(t))));
}
function Zf(e, t) {
  return e.findIndex((n) => an(n, t));
}
const ka = (e) => !!(e && e.__v_isRef === !0), ie = (e) => Le(e) ? e : e == null ? "" : ae(e) || Ie(e) && (e.toString === ma || !Ee(e.toString)) ? ka(e) ? ie(e.value) : JSON.stringify(e, va, 2) : String(e), va = (e, t) => ka(t) ? va(e, t.value) : on(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [s, r], i) => (n[hi(s, i) + " =>"] = r, n),
    {}
  )
} : Pn(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => hi(n))
} : Ot(t) ? hi(t) : Ie(t) && !ae(t) && !_a(t) ? String(t) : t, hi = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    Ot(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let He;
class Qf {
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
        const s = this.scopes.slice();
        for (t = 0, n = s.length; t < n; t++)
          s[t].pause();
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
        const r = this.scopes.slice();
        for (t = 0, n = r.length; t < n; t++)
          r[t].resume();
      }
      const s = this.effects.slice();
      for (t = 0, n = s.length; t < n; t++)
        s[t].resume();
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
      let n, s;
      for (n = 0, s = this.effects.length; n < s; n++)
        this.effects[n].stop();
      for (this.effects.length = 0, n = 0, s = this.cleanups.length; n < s; n++)
        this.cleanups[n]();
      if (this.cleanups.length = 0, this.scopes) {
        const r = this.scopes.slice();
        for (n = 0, s = r.length; n < s; n++)
          r[n].stop(!0);
        this.scopes.length = 0;
      }
      if (!this.detached && this.parent && !t) {
        const r = this.parent.scopes.pop();
        r && r !== this && (this.parent.scopes[this.index] = r, r.index = this.index);
      }
      this.parent = void 0;
    }
  }
}
function ed() {
  return He;
}
let Ce;
const pi = /* @__PURE__ */ new WeakSet();
class xa {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, He && (He.active ? He.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, pi.has(this) && (pi.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || Ra(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, yl(this), Ea(this);
    const t = Ce, n = vt;
    Ce = this, vt = !0;
    try {
      return this.fn();
    } finally {
      Ca(this), Ce = t, vt = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        Eo(t);
      this.deps = this.depsTail = void 0, yl(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? pi.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    eo(this) && this.run();
  }
  get dirty() {
    return eo(this);
  }
}
let Aa = 0, vs, xs;
function Ra(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = xs, xs = e;
    return;
  }
  e.next = vs, vs = e;
}
function Ao() {
  Aa++;
}
function Ro() {
  if (--Aa > 0)
    return;
  if (xs) {
    let t = xs;
    for (xs = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; vs; ) {
    let t = vs;
    for (vs = void 0; t; ) {
      const n = t.next;
      if (t.next = void 0, t.flags &= -9, t.flags & 1)
        try {
          t.trigger();
        } catch (s) {
          e || (e = s);
        }
      t = n;
    }
  }
  if (e) throw e;
}
function Ea(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function Ca(e) {
  let t, n = e.depsTail, s = n;
  for (; s; ) {
    const r = s.prevDep;
    s.version === -1 ? (s === n && (n = r), Eo(s), td(s)) : t = s, s.dep.activeLink = s.prevActiveLink, s.prevActiveLink = void 0, s = r;
  }
  e.deps = t, e.depsTail = n;
}
function eo(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (Sa(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function Sa(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === Fs) || (e.globalVersion = Fs, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !eo(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = Ce, s = vt;
  Ce = e, vt = !0;
  try {
    Ea(e);
    const r = e.fn(e._value);
    (t.version === 0 || Tt(r, e._value)) && (e.flags |= 128, e._value = r, t.version++);
  } catch (r) {
    throw t.version++, r;
  } finally {
    Ce = n, vt = s, Ca(e), e.flags &= -3;
  }
}
function Eo(e, t = !1) {
  const { dep: n, prevSub: s, nextSub: r } = e;
  if (s && (s.nextSub = r, e.prevSub = void 0), r && (r.prevSub = s, e.nextSub = void 0), n.subs === e && (n.subs = s, !s && n.computed)) {
    n.computed.flags &= -5;
    for (let i = n.computed.deps; i; i = i.nextDep)
      Eo(i, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function td(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let vt = !0;
const Da = [];
function un() {
  Da.push(vt), vt = !1;
}
function fn() {
  const e = Da.pop();
  vt = e === void 0 ? !0 : e;
}
function yl(e) {
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
let Fs = 0;
class nd {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class Co {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!Ce || !vt || Ce === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== Ce)
      n = this.activeLink = new nd(Ce, this), Ce.deps ? (n.prevDep = Ce.depsTail, Ce.depsTail.nextDep = n, Ce.depsTail = n) : Ce.deps = Ce.depsTail = n, Ta(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const s = n.nextDep;
      s.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = s), n.prevDep = Ce.depsTail, n.nextDep = void 0, Ce.depsTail.nextDep = n, Ce.depsTail = n, Ce.deps === n && (Ce.deps = s);
    }
    return n;
  }
  trigger(t) {
    this.version++, Fs++, this.notify(t);
  }
  notify(t) {
    Ao();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      Ro();
    }
  }
}
function Ta(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let s = t.deps; s; s = s.nextDep)
        Ta(s);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const to = /* @__PURE__ */ new WeakMap(), On = /* @__PURE__ */ Symbol(
  ""
), no = /* @__PURE__ */ Symbol(
  ""
), Is = /* @__PURE__ */ Symbol(
  ""
);
function Ye(e, t, n) {
  if (vt && Ce) {
    let s = to.get(e);
    s || to.set(e, s = /* @__PURE__ */ new Map());
    let r = s.get(n);
    r || (s.set(n, r = new Co()), r.map = s, r.key = n), r.track();
  }
}
function Jt(e, t, n, s, r, i) {
  const o = to.get(e);
  if (!o) {
    Fs++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (Ao(), t === "clear")
    o.forEach(l);
  else {
    const c = ae(e), a = c && xo(n);
    if (c && n === "length") {
      const u = Number(s);
      o.forEach((f, g) => {
        (g === "length" || g === Is || !Ot(g) && g >= u) && l(f);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), a && l(o.get(Is)), t) {
        case "add":
          c ? a && l(o.get("length")) : (l(o.get(On)), on(e) && l(o.get(no)));
          break;
        case "delete":
          c || (l(o.get(On)), on(e) && l(o.get(no)));
          break;
        case "set":
          on(e) && l(o.get(On));
          break;
      }
  }
  Ro();
}
function Jn(e) {
  const t = /* @__PURE__ */ we(e);
  return t === e || (Ye(t, "iterate", Is), /* @__PURE__ */ ht(e)) ? t : /* @__PURE__ */ Nt(e) ? /* @__PURE__ */ ln(e) ? t.map((n) => dn(gt(n))) : t.map(dn) : t.map(gt);
}
function Br(e) {
  return Ye(e = /* @__PURE__ */ we(e), "iterate", Is), e;
}
function Ct(e, t) {
  return /* @__PURE__ */ Nt(e) ? dn(/* @__PURE__ */ ln(e) ? gt(t) : t) : gt(t);
}
const sd = {
  __proto__: null,
  [Symbol.iterator]() {
    return gi(this, Symbol.iterator, (e) => Ct(this, e));
  },
  concat(...e) {
    return Jn(this).concat(
      ...e.map((t) => ae(t) ? Jn(t) : t)
    );
  },
  entries() {
    return gi(this, "entries", (e) => (e[1] = Ct(this, e[1]), e));
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
      (n) => n.map((s) => Ct(this, s)),
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
    return mi(this, "includes", e);
  },
  indexOf(...e) {
    return mi(this, "indexOf", e);
  },
  join(e) {
    return Jn(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return mi(this, "lastIndexOf", e);
  },
  map(e, t) {
    return jt(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return fs(this, "pop");
  },
  push(...e) {
    return fs(this, "push", e);
  },
  reduce(e, ...t) {
    return wl(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return wl(this, "reduceRight", e, t);
  },
  shift() {
    return fs(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return jt(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return fs(this, "splice", e);
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
    return fs(this, "unshift", e);
  },
  values() {
    return gi(this, "values", (e) => Ct(this, e));
  }
};
function gi(e, t, n) {
  const s = Br(e), r = s[t], i = r.call(s);
  if (s !== e && !/* @__PURE__ */ ht(e)) {
    if (i[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(i));
      return o.next = () => bl(i.next(), n), r !== Fa[t] && Object.defineProperties(o, {
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
    i._next = i.next, i.next = () => bl(i._next(), n);
  }
  return i;
}
function bl(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const Fa = Array.prototype;
function jt(e, t, n, s, r, i) {
  const o = Br(e), l = o !== e && !/* @__PURE__ */ ht(e), c = o[t];
  if (c !== Fa[t]) {
    const f = c.apply(e, i);
    return l ? gt(f) : f;
  }
  let a = n;
  o !== e && (l ? a = function(f, g) {
    return n.call(this, Ct(e, f), g, e);
  } : n.length > 2 && (a = function(f, g) {
    return n.call(this, f, g, e);
  }));
  const u = c.call(o, a, s);
  return l && r ? r(u) : u;
}
function wl(e, t, n, s) {
  const r = Br(e), i = r !== e && !/* @__PURE__ */ ht(e);
  let o = n, l = !1;
  r !== e && (i ? (l = s.length === 0, o = function(a, u, f) {
    return l && (l = !1, a = Ct(e, a)), n.call(this, a, Ct(e, u), f, e);
  }) : n.length > 3 && (o = function(a, u, f) {
    return n.call(this, a, u, f, e);
  }));
  const c = r[t](o, ...s);
  return l ? Ct(e, c) : c;
}
function mi(e, t, n) {
  const s = /* @__PURE__ */ we(e);
  Ye(s, "iterate", Is);
  const r = s[t](...n);
  return (r === -1 || r === !1) && /* @__PURE__ */ Fo(n[0]) ? (n[0] = /* @__PURE__ */ we(n[0]), s[t](...n)) : r;
}
function fs(e, t, n = []) {
  un(), Ao();
  const s = (/* @__PURE__ */ we(e))[t].apply(e, n);
  return Ro(), fn(), s;
}
const rd = /* @__PURE__ */ vo("__proto__,__v_isRef,__isVue"), Ia = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(Ot)
);
function id(e) {
  Ot(e) || (e = String(e));
  const t = /* @__PURE__ */ we(this);
  return Ye(t, "has", e), t.hasOwnProperty(e);
}
class Oa {
  constructor(t = !1, n = !1) {
    this._isReadonly = t, this._isShallow = n;
  }
  get(t, n, s) {
    if (n === "__v_skip") return t.__v_skip;
    const r = this._isReadonly, i = this._isShallow;
    if (n === "__v_isReactive")
      return !r;
    if (n === "__v_isReadonly")
      return r;
    if (n === "__v_isShallow")
      return i;
    if (n === "__v_raw")
      return s === (r ? i ? gd : Pa : i ? La : Ma).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(s) ? t : void 0;
    const o = ae(t);
    if (!r) {
      let c;
      if (o && (c = sd[n]))
        return c;
      if (n === "hasOwnProperty")
        return id;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ tt(t) ? t : s
    );
    if ((Ot(n) ? Ia.has(n) : rd(n)) || (r || Ye(t, "get", n), i))
      return l;
    if (/* @__PURE__ */ tt(l)) {
      const c = o && xo(n) ? l : l.value;
      return r && Ie(c) ? /* @__PURE__ */ ro(c) : c;
    }
    return Ie(l) ? r ? /* @__PURE__ */ ro(l) : /* @__PURE__ */ Do(l) : l;
  }
}
class Na extends Oa {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, s, r) {
    let i = t[n];
    const o = ae(t) && xo(n);
    if (!this._isShallow) {
      const a = /* @__PURE__ */ Nt(i);
      if (!/* @__PURE__ */ ht(s) && !/* @__PURE__ */ Nt(s) && (i = /* @__PURE__ */ we(i), s = /* @__PURE__ */ we(s)), !o && /* @__PURE__ */ tt(i) && !/* @__PURE__ */ tt(s))
        return a || (i.value = s), !0;
    }
    const l = o ? Number(n) < t.length : ve(t, n), c = Reflect.set(
      t,
      n,
      s,
      /* @__PURE__ */ tt(t) ? t : r
    );
    return t === /* @__PURE__ */ we(r) && c && (l ? Tt(s, i) && Jt(t, "set", n, s) : Jt(t, "add", n, s)), c;
  }
  deleteProperty(t, n) {
    const s = ve(t, n);
    t[n];
    const r = Reflect.deleteProperty(t, n);
    return r && s && Jt(t, "delete", n, void 0), r;
  }
  has(t, n) {
    const s = Reflect.has(t, n);
    return (!Ot(n) || !Ia.has(n)) && Ye(t, "has", n), s;
  }
  ownKeys(t) {
    return Ye(
      t,
      "iterate",
      ae(t) ? "length" : On
    ), Reflect.ownKeys(t);
  }
}
class od extends Oa {
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
const ld = /* @__PURE__ */ new Na(), cd = /* @__PURE__ */ new od(), ad = /* @__PURE__ */ new Na(!0);
const so = (e) => e, er = (e) => Reflect.getPrototypeOf(e);
function ud(e, t, n) {
  return function(...s) {
    const r = this.__v_raw, i = /* @__PURE__ */ we(r), o = on(i), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, a = r[e](...s), u = n ? so : t ? dn : gt;
    return !t && Ye(
      i,
      "iterate",
      c ? no : On
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
function tr(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function fd(e, t) {
  const n = {
    get(r) {
      const i = this.__v_raw, o = /* @__PURE__ */ we(i), l = /* @__PURE__ */ we(r);
      e || (Tt(r, l) && Ye(o, "get", r), Ye(o, "get", l));
      const { has: c } = er(o), a = t ? so : e ? dn : gt;
      if (c.call(o, r))
        return a(i.get(r));
      if (c.call(o, l))
        return a(i.get(l));
      i !== o && i.get(r);
    },
    get size() {
      const r = this.__v_raw;
      return !e && Ye(/* @__PURE__ */ we(r), "iterate", On), r.size;
    },
    has(r) {
      const i = this.__v_raw, o = /* @__PURE__ */ we(i), l = /* @__PURE__ */ we(r);
      return e || (Tt(r, l) && Ye(o, "has", r), Ye(o, "has", l)), r === l ? i.has(r) : i.has(r) || i.has(l);
    },
    forEach(r, i) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ we(l), a = t ? so : e ? dn : gt;
      return !e && Ye(c, "iterate", On), l.forEach((u, f) => r.call(i, a(u), a(f), o));
    }
  };
  return pt(
    n,
    e ? {
      add: tr("add"),
      set: tr("set"),
      delete: tr("delete"),
      clear: tr("clear")
    } : {
      add(r) {
        const i = /* @__PURE__ */ we(this), o = er(i), l = /* @__PURE__ */ we(r), c = !t && !/* @__PURE__ */ ht(r) && !/* @__PURE__ */ Nt(r) ? l : r;
        return o.has.call(i, c) || Tt(r, c) && o.has.call(i, r) || Tt(l, c) && o.has.call(i, l) || (i.add(c), Jt(i, "add", c, c)), this;
      },
      set(r, i) {
        !t && !/* @__PURE__ */ ht(i) && !/* @__PURE__ */ Nt(i) && (i = /* @__PURE__ */ we(i));
        const o = /* @__PURE__ */ we(this), { has: l, get: c } = er(o);
        let a = l.call(o, r);
        a || (r = /* @__PURE__ */ we(r), a = l.call(o, r));
        const u = c.call(o, r);
        return o.set(r, i), a ? Tt(i, u) && Jt(o, "set", r, i) : Jt(o, "add", r, i), this;
      },
      delete(r) {
        const i = /* @__PURE__ */ we(this), { has: o, get: l } = er(i);
        let c = o.call(i, r);
        c || (r = /* @__PURE__ */ we(r), c = o.call(i, r)), l && l.call(i, r);
        const a = i.delete(r);
        return c && Jt(i, "delete", r, void 0), a;
      },
      clear() {
        const r = /* @__PURE__ */ we(this), i = r.size !== 0, o = r.clear();
        return i && Jt(
          r,
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
  ].forEach((r) => {
    n[r] = ud(r, e, t);
  }), n;
}
function So(e, t) {
  const n = fd(e, t);
  return (s, r, i) => r === "__v_isReactive" ? !e : r === "__v_isReadonly" ? e : r === "__v_isShallow" ? t : r === "__v_raw" ? s : Reflect.get(
    ve(n, r) && r in s ? n : s,
    r,
    i
  );
}
const dd = {
  get: /* @__PURE__ */ So(!1, !1)
}, hd = {
  get: /* @__PURE__ */ So(!1, !0)
}, pd = {
  get: /* @__PURE__ */ So(!0, !1)
};
const Ma = /* @__PURE__ */ new WeakMap(), La = /* @__PURE__ */ new WeakMap(), Pa = /* @__PURE__ */ new WeakMap(), gd = /* @__PURE__ */ new WeakMap();
function md(e) {
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
function Do(e) {
  return /* @__PURE__ */ Nt(e) ? e : To(
    e,
    !1,
    ld,
    dd,
    Ma
  );
}
// @__NO_SIDE_EFFECTS__
function _d(e) {
  return To(
    e,
    !1,
    ad,
    hd,
    La
  );
}
// @__NO_SIDE_EFFECTS__
function ro(e) {
  return To(
    e,
    !0,
    cd,
    pd,
    Pa
  );
}
function To(e, t, n, s, r) {
  if (!Ie(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const i = r.get(e);
  if (i)
    return i;
  const o = md(zf(e));
  if (o === 0)
    return e;
  const l = new Proxy(
    e,
    o === 2 ? s : n
  );
  return r.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function ln(e) {
  return /* @__PURE__ */ Nt(e) ? /* @__PURE__ */ ln(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function Nt(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function ht(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function Fo(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function we(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ we(t) : e;
}
function yd(e) {
  return !ve(e, "__v_skip") && Object.isExtensible(e) && ba(e, "__v_skip", !0), e;
}
const gt = (e) => Ie(e) ? /* @__PURE__ */ Do(e) : e, dn = (e) => Ie(e) ? /* @__PURE__ */ ro(e) : e;
// @__NO_SIDE_EFFECTS__
function tt(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function nr(e) {
  return bd(e, !1);
}
function bd(e, t) {
  return /* @__PURE__ */ tt(e) ? e : new wd(e, t);
}
class wd {
  constructor(t, n) {
    this.dep = new Co(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ we(t), this._value = n ? t : gt(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, s = this.__v_isShallow || /* @__PURE__ */ ht(t) || /* @__PURE__ */ Nt(t);
    t = s ? t : /* @__PURE__ */ we(t), Tt(t, n) && (this._rawValue = t, this._value = s ? t : gt(t), this.dep.trigger());
  }
}
function G(e) {
  return /* @__PURE__ */ tt(e) ? e.value : e;
}
const kd = {
  get: (e, t, n) => t === "__v_raw" ? e : G(Reflect.get(e, t, n)),
  set: (e, t, n, s) => {
    const r = e[t];
    return /* @__PURE__ */ tt(r) && !/* @__PURE__ */ tt(n) ? (r.value = n, !0) : Reflect.set(e, t, n, s);
  }
};
function $a(e) {
  return /* @__PURE__ */ ln(e) ? e : new Proxy(e, kd);
}
class vd {
  constructor(t, n, s) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new Co(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = Fs - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = s;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    Ce !== this)
      return Ra(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return Sa(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function xd(e, t, n = !1) {
  let s, r;
  return Ee(e) ? s = e : (s = e.get, r = e.set), new vd(s, r, n);
}
const sr = {}, kr = /* @__PURE__ */ new WeakMap();
let Rn;
function Ad(e, t = !1, n = Rn) {
  if (n) {
    let s = kr.get(n);
    s || kr.set(n, s = []), s.push(e);
  }
}
function Rd(e, t, n = Fe) {
  const { immediate: s, deep: r, once: i, scheduler: o, augmentJob: l, call: c } = n, a = (w) => r ? w : /* @__PURE__ */ ht(w) || r === !1 || r === 0 ? qt(w, 1) : qt(w);
  let u, f, g, p, h = !1, k = !1;
  if (/* @__PURE__ */ tt(e) ? (f = () => e.value, h = /* @__PURE__ */ ht(e)) : /* @__PURE__ */ ln(e) ? (f = () => a(e), h = !0) : ae(e) ? (k = !0, h = e.some((w) => /* @__PURE__ */ ln(w) || /* @__PURE__ */ ht(w)), f = () => e.map((w) => {
    if (/* @__PURE__ */ tt(w))
      return w.value;
    if (/* @__PURE__ */ ln(w))
      return a(w);
    if (Ee(w))
      return c ? c(w, 2) : w();
  })) : Ee(e) ? t ? f = c ? () => c(e, 2) : e : f = () => {
    if (g) {
      un();
      try {
        g();
      } finally {
        fn();
      }
    }
    const w = Rn;
    Rn = u;
    try {
      return c ? c(e, 3, [p]) : e(p);
    } finally {
      Rn = w;
    }
  } : f = In, t && r) {
    const w = f, F = r === !0 ? 1 / 0 : r;
    f = () => qt(w(), F);
  }
  const x = ed(), T = () => {
    u.stop(), x && x.active && pa(x.effects, u);
  };
  if (i && t) {
    const w = t;
    t = (...F) => {
      try {
        return w(...F);
      } finally {
        T();
      }
    };
  }
  let v = k ? new Array(e.length).fill(sr) : sr;
  const b = (w) => {
    if (!(!(u.flags & 1) || !u.dirty && !w))
      if (t) {
        const F = u.run();
        if (w || r || h || (k ? F.some((B, $) => Tt(B, v[$])) : Tt(F, v))) {
          const B = Rn;
          un();
          try {
            g && g(), Rn = u;
            const $ = [
              F,
              // pass undefined as the old value when it's changed for the first time
              v === sr ? void 0 : k && v[0] === sr ? [] : v,
              p
            ];
            v = F, c ? c(t, 3, $) : (
              // @ts-expect-error
              t(...$)
            );
          } finally {
            Rn = B, fn();
          }
        }
      } else
        u.run();
  };
  return l && l(b), u = new xa(f), u.scheduler = o ? () => o(b, !1) : b, p = (w) => Ad(w, !1, u), g = u.onStop = () => {
    const w = kr.get(u);
    if (w) {
      if (c)
        c(w, 4);
      else
        for (const F of w) F();
      kr.delete(u);
    }
  }, t ? s ? b(!0) : v = u.run() : o ? o(b.bind(null, !0), !0) : u.run(), T.pause = u.pause.bind(u), T.resume = u.resume.bind(u), T.stop = T, T;
}
function qt(e, t = 1 / 0, n) {
  if (t <= 0 || !Ie(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ tt(e))
    qt(e.value, t, n);
  else if (ae(e))
    for (let s = 0; s < e.length; s++)
      qt(e[s], t, n);
  else if (Pn(e) || on(e))
    e.forEach((s) => {
      qt(s, t, n);
    });
  else if (_a(e)) {
    for (const s in e)
      qt(e[s], t, n);
    for (const s of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, s) && qt(e[s], t, n);
  }
  return e;
}
function qs(e, t, n, s) {
  try {
    return s ? e(...s) : e();
  } catch (r) {
    zr(r, t, n);
  }
}
function Kt(e, t, n, s) {
  if (Ee(e)) {
    const r = qs(e, t, n, s);
    return r && ga(r) && r.catch((i) => {
      zr(i, t, n, void 0, !0);
    }), r;
  }
  if (ae(e)) {
    const r = [];
    for (let i = 0; i < e.length; i++)
      r.push(Kt(e[i], t, n, s));
    return r;
  }
}
function zr(e, t, n, s = !0, r = !1) {
  const i = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || Fe;
  if (t) {
    let c = t.parent;
    const a = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const f = c.ec;
      if (f && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!r || c.scope.active)) {
        for (let g = 0; g < f.length; g++)
          if (f[g](e, a, u) === !1)
            return;
      }
      c = c.parent;
    }
    if (o) {
      un(), qs(o, null, 10, [
        e,
        a,
        u
      ]), fn();
      return;
    }
  }
  Ed(e, n, i, s, l);
}
function Ed(e, t, n, s = !0, r = !1) {
  if (r)
    throw e;
  console.error(e);
}
const Ze = [];
let wt = -1;
const St = [];
let nn = null, Kn = 0;
const ja = /* @__PURE__ */ Promise.resolve();
let vr = null;
function As(e) {
  const t = vr || ja;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function Cd(e) {
  let t = wt + 1, n = Ze.length;
  for (; t < n; ) {
    const s = t + n >>> 1, r = Ze[s], i = Os(r);
    i < e || i === e && r.flags & 2 ? t = s + 1 : n = s;
  }
  return t;
}
function Io(e) {
  if (!(e.flags & 1)) {
    const t = Os(e), n = Ze[Ze.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Os(n) ? Ze.push(e) : Ze.splice(Cd(t), 0, e), e.flags |= 1, Ba();
  }
}
function Ba() {
  vr || (vr = ja.then(Wa));
}
function Sd(e) {
  if (!ae(e))
    nn && e.id === -1 ? nn.splice(Kn + 1, 0, e) : e.flags & 1 || (St.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      St.push(e[t]);
  Ba();
}
function za(e, t, n, s = wt + 1) {
  for (; s < Ze.length; s++) {
    const r = Ze[s];
    if (r && r.flags & 2) {
      if (e && r.id !== e.uid || t !== void 0 && !(r.id >= t))
        continue;
      Ze.splice(s, 1), s = e ? s - 1 : wt, r.flags & 4 && (r.flags &= -2), r(), r.flags & 4 || (r.flags &= -2);
    }
  }
}
function Ua(e, t, n = 0) {
  if (St.length) {
    let s = St, r = 0;
    if (t) {
      s = [];
      for (let o = 0; o < St.length; o++) {
        const l = St[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? St[r++] = l : s.push(l);
      }
    }
    const i = [...new Set(s)].sort((o, l) => Os(o) - Os(l));
    if (St.length = r, nn) {
      for (let o = 0; o < i.length; o++)
        nn.push(i[o]);
      return;
    }
    for (nn = i, Kn = 0; Kn < nn.length; Kn++) {
      const o = nn[Kn];
      o.flags & 4 && (o.flags &= -2), o.flags & 8 || o(), o.flags &= -2;
    }
    nn = null, Kn = 0;
  }
}
let _i = !1;
function Dd(e, t) {
  if (_i) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(St);
  e(), _i = !0;
  try {
    za(void 0, t), Ua(void 0, n, t);
  } finally {
    _i = !1;
  }
}
const Os = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function Wa(e) {
  try {
    for (wt = 0; wt < Ze.length; wt++) {
      const t = Ze[wt];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), qs(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; wt < Ze.length; wt++) {
      const t = Ze[wt];
      t && (t.flags &= -2);
    }
    wt = -1, Ze.length = 0, Ua(), vr = null, (Ze.length || St.length) && Wa();
  }
}
let dt = null, Ja = null;
function xr(e) {
  const t = dt;
  return dt = e, Ja = e && e.type.__scopeId || null, t;
}
function Td(e, t = dt, n) {
  if (!t || e._n)
    return e;
  const s = (...r) => {
    s._d && Dl(-1);
    const i = xr(t), o = Nn.length;
    let l;
    try {
      l = e(...r);
    } finally {
      for (let c = Nn.length; c > o; c--) ou();
      xr(i), s._d && Dl(1);
    }
    return l;
  };
  return s._n = !0, s._c = !0, s._d = !0, s;
}
function wn(e, t) {
  if (dt === null)
    return e;
  const n = qr(dt), s = e.dirs || (e.dirs = []);
  for (let r = 0; r < t.length; r++) {
    let [i, o, l, c = Fe] = t[r];
    i && (Ee(i) && (i = {
      mounted: i,
      updated: i
    }), i.deep && qt(o), s.push({
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
function kn(e, t, n, s) {
  let r = e;
  if (s === "beforeMount")
    e._mount = e;
  else if (s === "beforeUpdate") {
    const l = t && t._mount;
    l && (l._latest = e, e._mount = l);
  } else if (s === "mounted") {
    const l = e._latest;
    e._mount = e._latest = void 0, l && (r = l, l._mount = void 0);
  }
  const i = r.dirs, o = t && t.dirs;
  for (let l = 0; l < i.length; l++) {
    let c = i[l];
    o ? c.oldValue = o[l].value : s === "mounted" && c.oldValue !== void 0 && (c = pt({}, c, { oldValue: void 0 }));
    let a = c.dir[s];
    a && (un(), Kt(a, n, 8, [
      e.el,
      c,
      r,
      t
    ]), fn());
  }
}
function Fd(e, t, n = !1) {
  const s = mh();
  if (s || Zn) {
    let r = Zn ? Zn._context.provides : s ? s.parent == null || s.ce ? s.vnode.appContext && s.vnode.appContext.provides : s.parent.provides : void 0;
    if (r && e in r)
      return r[e];
    if (arguments.length > 1)
      return n && Ee(t) ? t.call(s && s.proxy) : t;
  }
}
const Id = /* @__PURE__ */ Symbol.for("v-scx"), Od = () => Fd(Id);
function yi(e, t, n) {
  return Nd(e, t, n);
}
function Nd(e, t, n = Fe) {
  const { immediate: s, deep: r, flush: i, once: o } = n, l = pt({}, n), c = t && s || !t && i !== "post";
  let a;
  if (Cr) {
    if (i === "sync") {
      const p = Od();
      a = p.__watcherHandles || (p.__watcherHandles = []);
    } else if (!c) {
      const p = () => {
      };
      return p.stop = In, p.resume = In, p.pause = In, p;
    }
  }
  const u = ss;
  l.call = (p, h, k) => Kt(p, u, h, k);
  let f = !1;
  i === "post" ? l.scheduler = (p) => {
    p.i = u, Ke(p, u && u.suspense);
  } : i !== "sync" && (f = !0, l.scheduler = (p, h) => {
    h ? p() : Io(p);
  }), l.augmentJob = (p) => {
    t && (p.flags |= 4), f && (p.flags |= 2, u && (p.id = u.uid, p.i = u));
  };
  const g = Rd(e, t, l);
  return Cr && (a ? a.push(g) : c && g()), g;
}
const tn = /* @__PURE__ */ new WeakMap(), qa = /* @__PURE__ */ Symbol("_vte"), Ur = (e) => e.__isTeleport, Cn = (e) => e && (e.disabled || e.disabled === ""), Md = (e) => e && (e.defer || e.defer === ""), kl = (e) => typeof SVGElement < "u" && e instanceof SVGElement, vl = (e) => typeof MathMLElement == "function" && e instanceof MathMLElement, io = (e, t) => {
  const n = e && e.to;
  return Le(n) ? t ? t(n) : null : n;
}, Ld = {
  name: "Teleport",
  __isTeleport: !0,
  process(e, t, n, s, r, i, o, l, c, a) {
    const {
      mc: u,
      pc: f,
      pbc: g,
      o: { insert: p, querySelector: h, createText: k, createComment: x, parentNode: T }
    } = a, v = Cn(t.props);
    let { dynamicChildren: b } = t;
    const w = ($, ee, Y) => {
      $.shapeFlag & 16 && u(
        $.children,
        ee,
        Y,
        r,
        i,
        o,
        l,
        c
      );
    }, F = ($ = t) => {
      const ee = Cn($.props), Y = $.target = io($.props, h), ue = oo(Y, $, k, p);
      Y && (o !== "svg" && kl(Y) ? o = "svg" : o !== "mathml" && vl(Y) && (o = "mathml"), r && r.isCE && (r.ce._teleportTargets || (r.ce._teleportTargets = /* @__PURE__ */ new Set())).add(Y), ee || (w($, Y, ue), ys($, !1)));
    }, B = ($) => {
      const ee = () => {
        if (tn.get($) === ee) {
          if (tn.delete($), Cn($.props)) {
            const Y = T($.el) || n;
            w($, Y, $.anchor), ys($, !0);
          }
          F($);
        }
      };
      tn.set($, ee), Ke(ee, i);
    };
    if (e == null) {
      const $ = t.el = k(""), ee = t.anchor = k("");
      if (p($, n, s), p(ee, n, s), Md(t.props) || i && i.pendingBranch) {
        B(t);
        return;
      }
      v && (w(t, n, ee), ys(t, !0)), F();
    } else {
      t.el = e.el;
      const $ = t.anchor = e.anchor, ee = tn.get(e);
      if (ee) {
        ee.flags |= 8, tn.delete(e), B(t);
        return;
      }
      t.targetStart = e.targetStart;
      const Y = t.target = e.target, ue = t.targetAnchor = e.targetAnchor, ne = Cn(e.props), de = ne ? n : Y, De = ne ? $ : ue;
      if (o === "svg" || kl(Y) ? o = "svg" : (o === "mathml" || vl(Y)) && (o = "mathml"), b ? (g(
        e.dynamicChildren,
        b,
        de,
        r,
        i,
        o,
        l
      ), Mo(e, t, !0)) : c || f(
        e,
        t,
        de,
        De,
        r,
        i,
        o,
        l,
        !1
      ), v)
        ne ? t.props && e.props && t.props.to !== e.props.to && (t.props.to = e.props.to) : rr(
          t,
          n,
          $,
          a,
          1
        );
      else if ((t.props && t.props.to) !== (e.props && e.props.to)) {
        const ke = io(t.props, h);
        ke && (t.target = ke, rr(
          t,
          ke,
          null,
          a,
          0
        ));
      } else ne && rr(
        t,
        Y,
        ue,
        a,
        1
      );
      ys(t, v);
    }
  },
  remove(e, t, n, { um: s, o: { remove: r } }, i) {
    const {
      shapeFlag: o,
      children: l,
      anchor: c,
      targetStart: a,
      targetAnchor: u,
      target: f,
      props: g
    } = e, p = Cn(g), h = i || !p, k = tn.get(e);
    if (k && (k.flags |= 8, tn.delete(e)), f && (r(a), r(u)), i && r(c), !k && (p || f) && o & 16)
      for (let x = 0; x < l.length; x++) {
        const T = l[x];
        s(
          T,
          t,
          n,
          h,
          !!T.dynamicChildren
        );
      }
  },
  move: rr,
  hydrate: Pd
};
function rr(e, t, n, { o: { insert: s }, m: r }, i = 2) {
  i === 0 && (e.targetStart && s(e.targetStart, t, n), s(e.targetAnchor, t, n), n = e.targetAnchor);
  const { el: o, anchor: l, shapeFlag: c, children: a, props: u } = e, f = i === 2;
  if (f && s(o, t, n), !tn.has(e) && (!f || Cn(u)) && c & 16)
    for (let g = 0; g < a.length; g++)
      r(
        a[g],
        t,
        n,
        2
      );
  f && s(l, t, n);
}
function Pd(e, t, n, s, r, i, {
  o: { nextSibling: o, parentNode: l, querySelector: c, insert: a, createText: u }
}, f) {
  function g(x, T) {
    let v = T;
    for (; v; ) {
      if (v && v.nodeType === 8) {
        if (v.data === "teleport start anchor")
          t.targetStart = v;
        else if (v.data === "teleport anchor") {
          t.targetAnchor = v, x._lpa = t.targetAnchor && o(t.targetAnchor);
          break;
        }
      }
      v = o(v);
    }
  }
  function p(x, T) {
    T.anchor = f(
      o(x),
      T,
      l(x),
      n,
      s,
      r,
      i
    );
  }
  const h = t.target = io(
    t.props,
    c
  ), k = Cn(t.props);
  if (h) {
    const x = h._lpa || h.firstChild;
    t.shapeFlag & 16 && (k ? (p(e, t), g(h, x), t.targetAnchor || oo(
      h,
      t,
      u,
      a,
      // if target is the same as the main view, insert anchors before current node
      // to avoid hydrating mismatch
      l(e) === h ? e : null
    )) : (t.anchor = o(e), g(h, x), t.targetAnchor || oo(h, t, u, a), f(
      x && o(x),
      t,
      h,
      n,
      s,
      r,
      i
    ))), ys(t, k);
  } else k && t.shapeFlag & 16 && (p(e, t), t.targetStart = e, t.targetAnchor = o(e));
  return t.anchor && o(t.anchor);
}
const $d = Ld;
function ys(e, t) {
  const n = e.ctx;
  if (n && n.ut) {
    let s, r;
    for (t ? (s = e.el, r = e.anchor) : (s = e.targetStart, r = e.targetAnchor); s && s !== r; )
      s.nodeType === 1 && s.setAttribute("data-v-owner", n.uid), s = s.nextSibling;
    n.ut();
  }
}
function oo(e, t, n, s, r = null) {
  const i = t.targetStart = n(""), o = t.targetAnchor = n("");
  return i[qa] = o, e && (s(i, e, r), s(o, e, r)), o;
}
const bi = /* @__PURE__ */ Symbol("_leaveCb");
function jd(e) {
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
function Ha(e) {
  if (!Va(e))
    return Ur(e.type) && e.children ? jd(e.children) : e;
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
function Rs(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    Rs(
      Ur(n.type) && Ha(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const s = n.isHydrating ? n.pendingBranch : n.activeBranch;
      s && Rs(s, t.clone(s));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === oe && ae(e.children)) {
    const n = Ka(e.children, !1);
    n && Rs(n, t);
  }
}
function lo(e) {
  if (e.component)
    return lo(e.component.subTree);
  if (e.type === oe) {
    const t = ae(e.children) && Ka(e.children, !1);
    return t ? lo(t) : void 0;
  }
  if (e.type !== xt)
    return e;
}
function Bd(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function xl(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const Ar = /* @__PURE__ */ new WeakMap();
function Es(e, t, n, s, r = !1) {
  if (ae(e)) {
    e.forEach(
      (k, x) => Es(
        k,
        t && (ae(t) ? t[x] : t),
        n,
        s,
        r
      )
    );
    return;
  }
  if (Cs(s) && !r) {
    s.shapeFlag & 512 && s.type.__asyncResolved && s.component.subTree.component && Es(e, t, n, s.component.subTree);
    return;
  }
  const i = s.shapeFlag & 4 ? qr(s.component) : s.el, o = r ? null : i, { i: l, r: c } = e, a = t && t.r, u = l.refs === Fe ? l.refs = {} : l.refs, f = l.setupState, g = /* @__PURE__ */ we(f), p = f === Fe ? ha : (k) => xl(u, k) ? !1 : ve(g, k), h = (k, x) => !(x && xl(u, x));
  if (a != null && a !== c) {
    if (Al(t), Le(a))
      u[a] = null, p(a) && (f[a] = null);
    else if (/* @__PURE__ */ tt(a)) {
      const k = t;
      h(a, k.k) && (a.value = null), k.k && (u[k.k] = null);
    }
  }
  if (Ee(c))
    qs(c, l, 12, [o, u]);
  else {
    const k = Le(c), x = /* @__PURE__ */ tt(c);
    if (k || x) {
      const T = () => {
        if (e.f) {
          const v = k ? p(c) ? f[c] : u[c] : h() || !e.k ? c.value : u[e.k];
          if (r)
            ae(v) && pa(v, i);
          else if (ae(v))
            v.includes(i) || v.push(i);
          else if (k)
            u[c] = [i], p(c) && (f[c] = u[c]);
          else {
            const b = [i];
            h(c, e.k) && (c.value = b), e.k && (u[e.k] = b);
          }
        } else k ? (u[c] = o, p(c) && (f[c] = o)) : x && (h(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const v = () => {
          T(), Ar.delete(e);
        };
        v.id = -1, Ar.set(e, v), Ke(v, n);
      } else
        Al(e), T();
    }
  }
}
function Al(e) {
  const t = Ar.get(e);
  t && (t.flags |= 8, Ar.delete(e));
}
jr().requestIdleCallback;
jr().cancelIdleCallback;
const Cs = (e) => !!e.type.__asyncLoader, Va = (e) => e.type.__isKeepAlive, zd = /* @__PURE__ */ Symbol.for("v-ndc");
function Ge(e, t, n, s) {
  let r;
  const i = n, o = ae(e);
  if (o || Le(e)) {
    const l = o && /* @__PURE__ */ ln(e);
    let c = !1, a = !1;
    l && (c = !/* @__PURE__ */ ht(e), a = /* @__PURE__ */ Nt(e), e = Br(e)), r = new Array(e.length);
    for (let u = 0, f = e.length; u < f; u++)
      r[u] = t(
        c ? a ? dn(gt(e[u])) : gt(e[u]) : e[u],
        u,
        void 0,
        i
      );
  } else if (typeof e == "number")
    if (!Number.isInteger(e) || e < 0)
      r = [];
    else {
      r = new Array(e);
      for (let l = 0; l < e; l++)
        r[l] = t(l + 1, l, void 0, i);
    }
  else if (Ie(e))
    if (e[Symbol.iterator])
      r = Array.from(
        e,
        (l, c) => t(l, c, void 0, i)
      );
    else {
      const l = Object.keys(e);
      r = new Array(l.length);
      for (let c = 0, a = l.length; c < a; c++) {
        const u = l[c];
        r[c] = t(e[u], u, c, i);
      }
    }
  else
    r = [];
  return r;
}
const co = (e) => e ? fu(e) ? qr(e) : co(e.parent) : null, Ss = (
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
    $parent: (e) => co(e.parent),
    $root: (e) => co(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      Io(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = As.bind(e.proxy)),
    $watch: (e) => In
  })
), wi = (e, t) => e !== Fe && !e.__isScriptSetup && ve(e, t), Ud = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: s, data: r, props: i, accessCache: o, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const g = o[t];
      if (g !== void 0)
        switch (g) {
          case 1:
            return s[t];
          case 2:
            return r[t];
          case 4:
            return n[t];
          case 3:
            return i[t];
        }
      else {
        if (wi(s, t))
          return o[t] = 1, s[t];
        if (ve(i, t))
          return o[t] = 3, i[t];
        if (n !== Fe && ve(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const a = Ss[t];
    let u, f;
    if (a)
      return t === "$attrs" && Ye(e.attrs, "get", ""), a(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== Fe && ve(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      f = c.config.globalProperties, ve(f, t)
    )
      return f[t];
  },
  set({ _: e }, t, n) {
    const { data: s, setupState: r, ctx: i } = e;
    return wi(r, t) ? (r[t] = n, !0) : ve(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (i[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: s, appContext: r, props: i, type: o }
  }, l) {
    let c;
    return !!(n[l] || wi(t, l) || ve(i, l) || ve(s, l) || ve(Ss, l) || ve(r.config.globalProperties, l) || (c = o.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : ve(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function Ga() {
  return {
    app: null,
    config: {
      isNativeTag: ha,
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
let Wd = 0;
function Jd(e, t) {
  return function(s, r = null) {
    Ee(s) || (s = pt({}, s)), r != null && !Ie(r) && (r = null);
    const i = Ga(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const a = i.app = {
      _uid: Wd++,
      _component: s,
      _props: r,
      _container: null,
      _context: i,
      _instance: null,
      version: vh,
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
          const p = a._ceVNode || Vt(s, r);
          return p.appContext = i, g === !0 ? g = "svg" : g === !1 && (g = void 0), e(p, u, g), c = !0, a._container = u, u.__vue_app__ = a, qr(p.component);
        }
      },
      onUnmount(u) {
        l.push(u);
      },
      unmount() {
        c && (Kt(
          l,
          a._instance,
          16
        ), e(null, a._container), delete a._container.__vue_app__);
      },
      provide(u, f) {
        return i.provides[u] = f, a;
      },
      runWithContext(u) {
        const f = Zn;
        Zn = a;
        try {
          return u();
        } finally {
          Zn = f;
        }
      }
    };
    return a;
  };
}
let Zn = null;
const qd = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${kt(t)}Modifiers`] || e[`${$n(t)}Modifiers`];
function Hd(e, t, ...n) {
  if (e.isUnmounted) return;
  const s = e.vnode.props || Fe;
  let r = n;
  const i = t.startsWith("update:"), o = i && qd(s, t.slice(7));
  o && (o.trim && (r = n.map((u) => Le(u) ? u.trim() : u)), o.number && (r = r.map(Js)));
  let l, c = s[l = di(t)] || // also try camelCase event handler (#2249)
  s[l = di(kt(t))];
  !c && i && (c = s[l = di($n(t))]), c && Kt(
    c,
    e,
    6,
    r
  );
  const a = s[l + "Once"];
  if (a) {
    if (!e.emitted)
      e.emitted = {};
    else if (e.emitted[l])
      return;
    e.emitted[l] = !0, Kt(
      a,
      e,
      6,
      r
    );
  }
}
function Vd(e, t, n = !1) {
  const s = t.emitsCache, r = s.get(e);
  if (r !== void 0)
    return r;
  const i = e.emits;
  let o = {};
  return i ? (ae(i) ? i.forEach((l) => o[l] = null) : pt(o, i), Ie(e) && s.set(e, o), o) : (Ie(e) && s.set(e, null), null);
}
function Wr(e, t) {
  return !e || !Lr(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), ve(e, t[0].toLowerCase() + t.slice(1)) || ve(e, $n(t)) || ve(e, t));
}
function Rl(e) {
  const {
    type: t,
    vnode: n,
    proxy: s,
    withProxy: r,
    propsOptions: [i],
    slots: o,
    attrs: l,
    emit: c,
    render: a,
    renderCache: u,
    props: f,
    data: g,
    setupState: p,
    ctx: h,
    inheritAttrs: k
  } = e, x = xr(e);
  let T, v;
  try {
    if (n.shapeFlag & 4) {
      const w = r || s, F = w;
      T = Dt(
        a.call(
          F,
          w,
          u,
          f,
          p,
          g,
          h
        )
      ), v = l;
    } else {
      const w = t;
      T = Dt(
        w.length > 1 ? w(
          f,
          { attrs: l, slots: o, emit: c }
        ) : w(
          f,
          null
        )
      ), v = t.props ? l : Gd(l);
    }
  } catch (w) {
    Nn.length = 0, zr(w, e, 1), T = Vt(xt);
  }
  let b = T;
  if (v && k !== !1) {
    const w = Object.keys(v), { shapeFlag: F } = b;
    w.length && F & 7 && (i && w.some(Pr) && (v = Kd(
      v,
      i
    )), b = ns(b, v, !1, !0));
  }
  if (n.dirs && (b = ns(b, null, !1, !0), b.dirs = b.dirs ? b.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const w = Ur(b.type) && Ha(b) || b;
    Rs(w, n.transition);
  }
  return T = b, xr(x), T;
}
function Ka(e, t = !0) {
  let n;
  for (let s = 0; s < e.length; s++) {
    const r = e[s];
    if (Lo(r)) {
      if (r.type !== xt || r.children === "v-if") {
        if (n)
          return;
        n = r;
      }
    } else
      return;
  }
  return n;
}
const Gd = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || Lr(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, Kd = (e, t) => {
  const n = {};
  for (const s in e)
    (!Pr(s) || !(s.slice(9) in t)) && (n[s] = e[s]);
  return n;
};
function Xd(e, t, n) {
  const { props: s, children: r, component: i } = e, { props: o, children: l, patchFlag: c } = t, a = i.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return s ? El(s, o, a) : !!o;
    if (c & 8) {
      const u = t.dynamicProps;
      for (let f = 0; f < u.length; f++) {
        const g = u[f];
        if (Xa(o, s, g) && !Wr(a, g))
          return !0;
      }
    }
  } else
    return (r || l) && (!l || !l.$stable) ? !0 : s === o ? !1 : s ? o ? El(s, o, a) : !0 : !!o;
  return !1;
}
function El(e, t, n) {
  const s = Object.keys(t);
  if (s.length !== Object.keys(e).length)
    return !0;
  for (let r = 0; r < s.length; r++) {
    const i = s[r];
    if (!ve(e, i) || Xa(t, e, i) && !Wr(n, i))
      return !0;
  }
  return !1;
}
function Xa(e, t, n) {
  const s = e[n], r = t[n];
  return n === "style" && Ie(s) && Ie(r) ? !an(s, r) : s !== r;
}
function Yd({ vnode: e, parent: t, suspense: n }, s) {
  for (; t; ) {
    const r = t.subTree;
    if (r.suspense && r.suspense.activeBranch === e && (r.suspense.vnode.el = r.el = s, e = r), r === e)
      (e = t.vnode).el = s, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = s);
}
const Ya = {}, Za = () => Object.create(Ya), Qa = (e) => Object.getPrototypeOf(e) === Ya;
function Zd(e, t, n, s = !1) {
  const r = {}, i = Za();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), eu(e, t, r, i);
  for (const o in e.propsOptions[0])
    o in r || (r[o] = void 0);
  n ? e.props = s ? r : /* @__PURE__ */ _d(r) : e.type.props ? e.props = r : e.props = i, e.attrs = i;
}
function Qd(e, t, n, s) {
  const {
    props: r,
    attrs: i,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ we(r), [c] = e.propsOptions;
  let a = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (s || o > 0) && !(o & 16)
  ) {
    if (o & 8) {
      const u = e.vnode.dynamicProps;
      for (let f = 0; f < u.length; f++) {
        let g = u[f];
        if (Wr(e.emitsOptions, g))
          continue;
        const p = t[g];
        if (c)
          if (ve(i, g))
            p !== i[g] && (i[g] = p, a = !0);
          else {
            const h = kt(g);
            r[h] = ao(
              c,
              l,
              h,
              p,
              e,
              !1
            );
          }
        else
          p !== i[g] && (i[g] = p, a = !0);
      }
    }
  } else {
    eu(e, t, r, i) && (a = !0);
    let u;
    for (const f in l)
      (!t || // for camelCase
      !ve(t, f) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = $n(f)) === f || !ve(t, u))) && (c ? n && // for camelCase
      (n[f] !== void 0 || // for kebab-case
      n[u] !== void 0) && (r[f] = ao(
        c,
        l,
        f,
        void 0,
        e,
        !0
      )) : delete r[f]);
    if (i !== l)
      for (const f in i)
        (!t || !ve(t, f)) && (delete i[f], a = !0);
  }
  a && Jt(e.attrs, "set", "");
}
function eu(e, t, n, s) {
  const [r, i] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let c in t) {
      if (ks(c))
        continue;
      const a = t[c];
      let u;
      r && ve(r, u = kt(c)) ? !i || !i.includes(u) ? n[u] = a : (l || (l = {}))[u] = a : Wr(e.emitsOptions, c) || (!(c in s) || a !== s[c]) && (s[c] = a, o = !0);
    }
  if (i) {
    const c = /* @__PURE__ */ we(n), a = l || Fe;
    for (let u = 0; u < i.length; u++) {
      const f = i[u];
      n[f] = ao(
        r,
        c,
        f,
        a[f],
        e,
        !ve(a, f)
      );
    }
  }
  return o;
}
function ao(e, t, n, s, r, i) {
  const o = e[n];
  if (o != null) {
    const l = ve(o, "default");
    if (l && s === void 0) {
      const c = o.default;
      if (o.type !== Function && !o.skipFactory && Ee(c)) {
        const { propsDefaults: a } = r;
        if (n in a)
          s = a[n];
        else {
          const u = uu(r);
          s = a[n] = c.call(
            null,
            t
          ), u();
        }
      } else
        s = c;
      r.ce && r.ce._setProp(n, s);
    }
    o[
      0
      /* shouldCast */
    ] && (i && !l ? s = !1 : o[
      1
      /* shouldCastTrue */
    ] && (s === "" || s === $n(n)) && (s = !0));
  }
  return s;
}
function eh(e, t, n = !1) {
  const s = t.propsCache, r = s.get(e);
  if (r)
    return r;
  const i = e.props, o = {}, l = [];
  if (!i)
    return Ie(e) && s.set(e, Dn), Dn;
  if (ae(i))
    for (let a = 0; a < i.length; a++) {
      const u = kt(i[a]);
      Cl(u) && (o[u] = Fe);
    }
  else if (i)
    for (const a in i) {
      const u = kt(a);
      if (Cl(u)) {
        const f = i[a], g = o[u] = ae(f) || Ee(f) ? { type: f } : pt({}, f), p = g.type;
        let h = !1, k = !0;
        if (ae(p))
          for (let x = 0; x < p.length; ++x) {
            const T = p[x], v = Ee(T) && T.name;
            if (v === "Boolean") {
              h = !0;
              break;
            } else v === "String" && (k = !1);
          }
        else
          h = Ee(p) && p.name === "Boolean";
        g[
          0
          /* shouldCast */
        ] = h, g[
          1
          /* shouldCastTrue */
        ] = k, (h || ve(g, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return Ie(e) && s.set(e, c), c;
}
function Cl(e) {
  return e[0] !== "$" && !ks(e);
}
const Oo = (e) => e === "_" || e === "_ctx" || e === "$stable", No = (e) => ae(e) ? e.map(Dt) : [Dt(e)], th = (e, t, n) => {
  if (t._n)
    return t;
  const s = Td((...r) => No(t(...r)), n);
  return s._c = !1, s;
}, tu = (e, t, n) => {
  const s = e._ctx;
  for (const r in e) {
    if (Oo(r)) continue;
    const i = e[r];
    if (Ee(i))
      t[r] = th(r, i, s);
    else if (i != null) {
      const o = No(i);
      t[r] = () => o;
    }
  }
}, nu = (e, t) => {
  const n = No(t);
  e.slots.default = () => n;
}, su = (e, t, n) => {
  for (const s in t)
    (n || !Oo(s)) && (e[s] = t[s]);
}, nh = (e, t, n) => {
  const s = e.slots = Za();
  if (e.vnode.shapeFlag & 32) {
    const r = t._;
    r ? (su(s, t, n), n && ba(s, "_", r, !0)) : tu(t, s);
  } else t && nu(e, t);
}, sh = (e, t, n) => {
  const { vnode: s, slots: r } = e;
  let i = !0, o = Fe;
  if (s.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? i = !1 : su(r, t, n) : (i = !t.$stable, tu(t, r)), o = t;
  } else t && (nu(e, t), o = { default: 1 });
  if (i)
    for (const l in r)
      !Oo(l) && o[l] == null && delete r[l];
}, Ke = ah;
function rh(e) {
  return ih(e);
}
function ih(e, t) {
  const n = jr();
  n.__VUE__ = !0;
  const {
    insert: s,
    remove: r,
    patchProp: i,
    createElement: o,
    createText: l,
    createComment: c,
    setText: a,
    setElementText: u,
    parentNode: f,
    nextSibling: g,
    setScopeId: p = In,
    insertStaticContent: h
  } = e, k = (m, _, A, P = null, S = null, I = null, M = void 0, j = null, N = !!_.dynamicChildren) => {
    if (m === _)
      return;
    m && !ds(m, _) && (P = Ae(m), R(m, S, I, !0), m = null), _.patchFlag === -2 && (N = !1, _.dynamicChildren = null), _.dynamicChildren && m && m.dynamicChildren && m.dynamicChildren.hasOnce && (_.dynamicChildren === Dn && (_.dynamicChildren = []), _.dynamicChildren.hasOnce = !0);
    const { type: D, ref: V, shapeFlag: z } = _;
    switch (D) {
      case Jr:
        x(m, _, A, P);
        break;
      case xt:
        T(m, _, A, P);
        break;
      case vi:
        m == null && v(_, A, P, M);
        break;
      case oe:
        de(
          m,
          _,
          A,
          P,
          S,
          I,
          M,
          j,
          N
        );
        break;
      default:
        z & 1 ? F(
          m,
          _,
          A,
          P,
          S,
          I,
          M,
          j,
          N
        ) : z & 6 ? De(
          m,
          _,
          A,
          P,
          S,
          I,
          M,
          j,
          N
        ) : (z & 64 || z & 128) && D.process(
          m,
          _,
          A,
          P,
          S,
          I,
          M,
          j,
          N,
          gn
        );
    }
    V != null && S ? Es(V, m && m.ref, I, _ || m, !_) : V == null && m && m.ref != null && Es(m.ref, null, I, m, !0);
  }, x = (m, _, A, P) => {
    if (m == null)
      s(
        _.el = l(_.children),
        A,
        P
      );
    else {
      const S = _.el = m.el;
      _.children !== m.children && a(S, _.children);
    }
  }, T = (m, _, A, P) => {
    m == null ? s(
      _.el = c(_.children || ""),
      A,
      P
    ) : _.el = m.el;
  }, v = (m, _, A, P) => {
    [m.el, m.anchor] = h(
      m.children,
      _,
      A,
      P,
      m.el,
      m.anchor
    );
  }, b = ({ el: m, anchor: _ }, A, P) => {
    let S;
    for (; m && m !== _; )
      S = g(m), s(m, A, P), m = S;
    s(_, A, P);
  }, w = ({ el: m, anchor: _ }) => {
    let A;
    for (; m && m !== _; )
      A = g(m), r(m), m = A;
    r(_);
  }, F = (m, _, A, P, S, I, M, j, N) => {
    if (_.type === "svg" ? M = "svg" : _.type === "math" && (M = "mathml"), m == null)
      B(
        _,
        A,
        P,
        S,
        I,
        M,
        j,
        N
      );
    else {
      const D = m.el && m.el._isVueCE ? m.el : null;
      try {
        D && D._beginPatch(), Y(
          m,
          _,
          S,
          I,
          M,
          j,
          N
        );
      } finally {
        D && D._endPatch();
      }
    }
  }, B = (m, _, A, P, S, I, M, j) => {
    let N, D;
    const { props: V, shapeFlag: z, transition: Z, dirs: te } = m;
    if (N = m.el = o(
      m.type,
      I,
      V && V.is,
      V
    ), z & 8 ? u(N, m.children) : z & 16 && ee(
      m.children,
      N,
      null,
      P,
      S,
      ki(m, I),
      M,
      j
    ), te && kn(m, null, P, "created"), $(N, m, m.scopeId, M, P), V) {
      for (const _e in V)
        _e !== "value" && !ks(_e) && i(N, _e, null, V[_e], I, P);
      "value" in V && i(N, "value", null, V.value, I), (D = V.onVnodeBeforeMount) && Et(D, P, m);
    }
    te && kn(m, null, P, "beforeMount");
    const he = oh(S, Z);
    he ? Z.beforeEnter(N) : Z && !Z.persisted && (N[ch] = !0), s(N, _, A), ((D = V && V.onVnodeMounted) || he || te) && Ke(() => {
      D && Et(D, P, m), he && Z.enter(N), te && kn(m, null, P, "mounted");
    }, S);
  }, $ = (m, _, A, P, S) => {
    if (A && p(m, A), P)
      for (let I = 0; I < P.length; I++)
        p(m, P[I]);
    if (S) {
      let I = S.subTree;
      if (_ === I || iu(I.type) && (I.ssContent === _ || I.ssFallback === _)) {
        const M = S.vnode;
        $(
          m,
          M,
          M.scopeId,
          M.slotScopeIds,
          S.parent
        );
      }
    }
  }, ee = (m, _, A, P, S, I, M, j, N = 0) => {
    for (let D = N; D < m.length; D++) {
      const V = m[D] = j ? Wt(m[D]) : Dt(m[D]);
      k(
        null,
        V,
        _,
        A,
        P,
        S,
        I,
        M,
        j
      );
    }
  }, Y = (m, _, A, P, S, I, M) => {
    const j = _.el = m.el;
    let { patchFlag: N, dynamicChildren: D, dirs: V } = _;
    N |= m.patchFlag & 16;
    const z = m.props || Fe, Z = _.props || Fe;
    let te;
    if (A && vn(A, !1), (te = Z.onVnodeBeforeUpdate) && Et(te, A, _, m), V && kn(_, m, A, "beforeUpdate"), A && vn(A, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    D && (!m.dynamicChildren || m.dynamicChildren.length !== D.length) && (N = 0, M = !1, D = null), (z.innerHTML && Z.innerHTML == null || z.textContent && Z.textContent == null) && u(j, ""), D ? ue(
      m.dynamicChildren,
      D,
      j,
      A,
      P,
      ki(_, S),
      I
    ) : M || re(
      m,
      _,
      j,
      null,
      A,
      P,
      ki(_, S),
      I,
      !1
    ), N > 0) {
      if (N & 16)
        ne(j, z, Z, A, S);
      else if (N & 2 && z.class !== Z.class && i(j, "class", null, Z.class, S), N & 4 && i(j, "style", z.style, Z.style, S), N & 8) {
        const he = _.dynamicProps;
        for (let _e = 0; _e < he.length; _e++) {
          const ye = he[_e], Te = z[ye], Re = Z[ye];
          (Re !== Te || ye === "value") && i(j, ye, Te, Re, S, A);
        }
      }
      N & 1 && m.children !== _.children && u(j, _.children);
    } else !M && D == null && ne(j, z, Z, A, S);
    ((te = Z.onVnodeUpdated) || V) && Ke(() => {
      te && Et(te, A, _, m), V && kn(_, m, A, "updated");
    }, P);
  }, ue = (m, _, A, P, S, I, M) => {
    for (let j = 0; j < _.length; j++) {
      const N = m[j], D = _[j], V = N.el || Ds(N), z = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        V && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (N.type === oe || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !ds(N, D) || // - In the case of a component, it could contain anything.
        N.shapeFlag & 198) ? f(V) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          A
        )
      );
      k(
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
  }, ne = (m, _, A, P, S) => {
    if (_ !== A) {
      if (_ !== Fe)
        for (const I in _)
          !ks(I) && !(I in A) && i(
            m,
            I,
            _[I],
            null,
            S,
            P
          );
      for (const I in A) {
        if (ks(I)) continue;
        const M = A[I], j = _[I];
        M !== j && I !== "value" && i(m, I, j, M, S, P);
      }
      "value" in A && i(m, "value", _.value, A.value, S);
    }
  }, de = (m, _, A, P, S, I, M, j, N) => {
    const D = _.el = m ? m.el : l(""), V = _.anchor = m ? m.anchor : l("");
    let { patchFlag: z, dynamicChildren: Z, slotScopeIds: te } = _;
    te && (j = j ? j.concat(te) : te), m == null ? (s(D, A, P), s(V, A, P), ee(
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
      j,
      N
    )) : z > 0 && z & 64 && Z && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    m.dynamicChildren && m.dynamicChildren.length === Z.length ? (ue(
      m.dynamicChildren,
      Z,
      A,
      S,
      I,
      M,
      j
    ), // #2080 if the stable fragment has a key, it's a <template v-for> that may
    //  get moved around. Make sure all root level vnodes inherit el.
    // #2134 or if it's a component root, it may also get moved around
    // as the component is being moved.
    (_.key != null || S && _ === S.subTree) && Mo(
      m,
      _,
      !0
      /* shallow */
    )) : re(
      m,
      _,
      A,
      V,
      S,
      I,
      M,
      j,
      N
    );
  }, De = (m, _, A, P, S, I, M, j, N) => {
    _.slotScopeIds = j, m == null ? _.shapeFlag & 512 ? S.ctx.activate(
      _,
      A,
      P,
      M,
      N
    ) : ke(
      _,
      A,
      P,
      S,
      I,
      M,
      N
    ) : xe(m, _, N);
  }, ke = (m, _, A, P, S, I, M) => {
    const j = m.component = gh(
      m,
      P,
      S
    );
    if (Va(m) && (j.ctx.renderer = gn), _h(j, !1, M), j.asyncDep) {
      if (S && S.registerDep(
        j,
        at,
        M,
        I
      ), !m.el) {
        const N = j.subTree = Vt(xt);
        T(null, N, _, A), m.placeholder = N.el;
      }
    } else
      at(
        j,
        m,
        _,
        A,
        S,
        I,
        M
      );
  }, xe = (m, _, A) => {
    const P = _.component = m.component;
    if (Xd(m, _, A))
      if (P.asyncDep && !P.asyncResolved) {
        _.el = m.el, _.placeholder = m.placeholder, W(P, _, A);
        return;
      } else
        P.next = _, P.update();
    else
      _.el = m.el, _.placeholder = m.placeholder, P.vnode = _;
  }, at = (m, _, A, P, S, I, M) => {
    const j = () => {
      if (m.isMounted) {
        let { next: z, bu: Z, u: te, parent: he, vnode: _e } = m;
        {
          const Be = ru(m);
          if (Be) {
            z && (z.el = _e.el, W(m, z, M)), Be.asyncDep.then(() => {
              const ot = () => {
                m.job.flags & 8 || (S && S.pendingBranch ? Ke(ot, S) : D());
              };
              ot.flags = 48, Ke(ot, S);
            });
            return;
          }
        }
        let ye = z, Te;
        vn(m, !1), z ? (z.el = _e.el, W(m, z, M)) : z = _e, Z && gr(Z), (Te = z.props && z.props.onVnodeBeforeUpdate) && Et(Te, he, z, _e), vn(m, !0);
        const Re = Rl(m), $e = m.subTree;
        m.subTree = Re, k(
          $e,
          Re,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          f(
            $e.el || Ds($e)
          ),
          // anchor may have changed if it's in a fragment
          Ae($e),
          m,
          S,
          I
        ), z.el = Re.el, ye === null && Yd(m, Re.el), te && Ke(te, S), (Te = z.props && z.props.onVnodeUpdated) && Ke(
          () => Et(Te, he, z, _e),
          S
        );
      } else {
        let z;
        const { el: Z, props: te } = _, { bm: he, m: _e, parent: ye, root: Te, type: Re } = m, $e = Cs(_);
        vn(m, !1), he && gr(he), !$e && (z = te && te.onVnodeBeforeMount) && Et(z, ye, _), vn(m, !0);
        {
          Te.ce && Te.ce._hasShadowRoot() && Te.ce._injectChildStyle(
            Re,
            m.parent ? m.parent.type : void 0
          );
          const Be = m.subTree = Rl(m);
          k(
            null,
            Be,
            A,
            P,
            m,
            S,
            I
          ), _.el = Be.el;
        }
        if (_e && Ke(_e, S), !$e && (z = te && te.onVnodeMounted)) {
          const Be = _;
          Ke(
            () => Et(z, ye, Be),
            S
          );
        }
        (_.shapeFlag & 256 || ye && Cs(ye.vnode) && ye.vnode.shapeFlag & 256) && m.a && Ke(m.a, S), m.isMounted = !0, _ = A = P = null;
      }
    };
    m.scope.on();
    const N = m.effect = new xa(j);
    m.scope.off();
    const D = m.update = N.run.bind(N), V = m.job = N.runIfDirty.bind(N);
    V.i = m, V.id = m.uid, N.scheduler = () => Io(V), vn(m, !0), D();
  }, W = (m, _, A) => {
    _.component = m;
    const P = m.vnode.props;
    m.vnode = _, m.next = null, Qd(m, _.props, P, A), sh(m, _.children, A), un(), za(m), fn();
  }, re = (m, _, A, P, S, I, M, j, N = !1) => {
    const D = m && m.children, V = m ? m.shapeFlag : 0, z = _.children, { patchFlag: Z, shapeFlag: te } = _;
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
          j,
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
          j,
          N
        );
        return;
      }
    }
    te & 8 ? (V & 16 && pn(D, S, I), z !== D && u(A, z)) : V & 16 ? te & 16 ? me(
      D,
      z,
      A,
      P,
      S,
      I,
      M,
      j,
      N
    ) : pn(D, S, I, !0) : (V & 8 && u(A, ""), te & 16 && ee(
      z,
      A,
      P,
      S,
      I,
      M,
      j,
      N
    ));
  }, le = (m, _, A, P, S, I, M, j, N) => {
    m = m || Dn, _ = _ || Dn;
    const D = m.length, V = _.length, z = Math.min(D, V);
    let Z;
    for (Z = 0; Z < z; Z++) {
      const te = _[Z] = N ? Wt(_[Z]) : Dt(_[Z]);
      k(
        m[Z],
        te,
        A,
        null,
        S,
        I,
        M,
        j,
        N
      );
    }
    D > V ? pn(
      m,
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
      j,
      N,
      z
    );
  }, me = (m, _, A, P, S, I, M, j, N) => {
    let D = 0;
    const V = _.length;
    let z = m.length - 1, Z = V - 1;
    for (; D <= z && D <= Z; ) {
      const te = m[D], he = _[D] = N ? Wt(_[D]) : Dt(_[D]);
      if (ds(te, he))
        k(
          te,
          he,
          A,
          null,
          S,
          I,
          M,
          j,
          N
        );
      else
        break;
      D++;
    }
    for (; D <= z && D <= Z; ) {
      const te = m[z], he = _[Z] = N ? Wt(_[Z]) : Dt(_[Z]);
      if (ds(te, he))
        k(
          te,
          he,
          A,
          null,
          S,
          I,
          M,
          j,
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
          k(
            null,
            _[D] = N ? Wt(_[D]) : Dt(_[D]),
            A,
            he,
            S,
            I,
            M,
            j,
            N
          ), D++;
      }
    } else if (D > Z)
      for (; D <= z; )
        R(m[D], S, I, !0), D++;
    else {
      const te = D, he = D, _e = /* @__PURE__ */ new Map();
      for (D = he; D <= Z; D++) {
        const ze = _[D] = N ? Wt(_[D]) : Dt(_[D]);
        ze.key != null && _e.set(ze.key, D);
      }
      let ye, Te = 0;
      const Re = Z - he + 1;
      let $e = !1, Be = 0;
      const ot = new Array(Re);
      for (D = 0; D < Re; D++) ot[D] = 0;
      for (D = te; D <= z; D++) {
        const ze = m[D];
        if (Te >= Re) {
          R(ze, S, I, !0);
          continue;
        }
        let nt;
        if (ze.key != null)
          nt = _e.get(ze.key);
        else
          for (ye = he; ye <= Z; ye++)
            if (ot[ye - he] === 0 && ds(ze, _[ye])) {
              nt = ye;
              break;
            }
        nt === void 0 ? R(ze, S, I, !0) : (ot[nt - he] = D + 1, nt >= Be ? Be = nt : $e = !0, k(
          ze,
          _[nt],
          A,
          null,
          S,
          I,
          M,
          j,
          N
        ), Te++);
      }
      const mn = $e ? lh(ot) : Dn;
      for (ye = mn.length - 1, D = Re - 1; D >= 0; D--) {
        const ze = he + D, nt = _[ze], Pt = _[ze + 1], _n = ze + 1 < V ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Pt.el || Ds(Pt)
        ) : P;
        ot[D] === 0 ? k(
          null,
          nt,
          A,
          _n,
          S,
          I,
          M,
          j,
          N
        ) : $e && (ye < 0 || D !== mn[ye] ? J(nt, A, _n, 2) : ye--);
      }
    }
  }, J = (m, _, A, P, S = null) => {
    const { el: I, type: M, transition: j, children: N, shapeFlag: D } = m;
    if (D & 6) {
      J(m.component.subTree, _, A, P);
      return;
    }
    if (D & 128) {
      m.suspense.move(_, A, P);
      return;
    }
    if (D & 64) {
      M.move(m, _, A, gn);
      return;
    }
    if (M === oe) {
      s(I, _, A);
      for (let z = 0; z < N.length; z++)
        J(N[z], _, A, P);
      s(m.anchor, _, A);
      return;
    }
    if (M === vi) {
      b(m, _, A);
      return;
    }
    if (P !== 2 && D & 1 && j)
      if (P === 0)
        j.persisted && !I[bi] ? s(I, _, A) : (j.beforeEnter(I), s(I, _, A), Ke(() => j.enter(I), S));
      else {
        const { leave: z, delayLeave: Z, afterLeave: te } = j, he = () => {
          m.ctx.isUnmounted ? r(I) : s(I, _, A);
        }, _e = () => {
          const ye = I._isLeaving || !!I[bi];
          I._isLeaving && I[bi](
            !0
            /* cancelled */
          ), j.persisted && !ye ? he() : z(I, () => {
            he(), te && te();
          });
        };
        Z ? Z(I, he, _e) : _e();
      }
    else
      s(I, _, A);
  }, R = (m, _, A, P = !1, S = !1) => {
    const {
      type: I,
      props: M,
      ref: j,
      children: N,
      dynamicChildren: D,
      shapeFlag: V,
      patchFlag: z,
      dirs: Z,
      cacheIndex: te,
      memo: he
    } = m;
    if ((z === -2 || D && D.hasOnce) && (S = !1), j != null && (un(), Es(j, null, A, m, !0), fn()), te != null && (!m.ctx || m.ctx === _) && (_.renderCache[te] = void 0), V & 256 && _.ctx.deactivate(m))
      return;
    const _e = V & 1 && Z, ye = !Cs(m);
    let Te;
    if (ye && (Te = M && M.onVnodeBeforeUnmount) && Et(Te, _, m), V & 6)
      ut(m.component, A, P);
    else {
      if (V & 128) {
        m.suspense.unmount(A, P);
        return;
      }
      _e && kn(m, null, _, "beforeUnmount"), V & 64 ? m.type.remove(
        m,
        _,
        A,
        gn,
        P
      ) : D && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !D.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (I !== oe || z > 0 && z & 64) ? pn(
        D,
        _,
        A,
        !1,
        !0
      ) : (I === oe && z & 384 || !S && V & 16) && pn(N, _, A), P && C(m);
    }
    const Re = he != null && te == null;
    (ye && (Te = M && M.onVnodeUnmounted) || _e || Re) && Ke(() => {
      Te && Et(Te, _, m), _e && kn(m, null, _, "unmounted"), Re && (m.el = null);
    }, A);
  }, C = (m) => {
    const { type: _, el: A, anchor: P, transition: S } = m, I = _ === oe;
    if (I && !S) {
      X(A, P);
      return;
    }
    if (_ === vi) {
      w(m), S && !S.persisted && S.afterLeave && S.afterLeave();
      return;
    }
    const M = I ? lo(m) : m, j = () => {
      I ? f(A) && X(A, P) : r(A), S && !S.persisted && S.afterLeave && S.afterLeave();
    };
    if (M && M.shapeFlag & 1 && S && !S.persisted) {
      const { leave: N, delayLeave: D } = S, V = M.el, z = () => N(V, j);
      D ? D(V, j, z) : z();
    } else
      j();
  }, X = (m, _) => {
    let A;
    for (; m !== _; )
      A = g(m), r(m), m = A;
    r(_);
  }, ut = (m, _, A) => {
    const { bum: P, scope: S, job: I, subTree: M, um: j, m: N, a: D } = m;
    Sl(N), Sl(D), P && gr(P), S.stop(), I ? (I.flags |= 8, R(M, m, _, A)) : M && (M.transition = m.vnode.transition, R(M, m, _, A)), j && Ke(j, _);
    const V = () => {
      m.isUnmounted = !0;
    };
    V.flags = 16, Ke(V, _);
  }, pn = (m, _, A, P = !1, S = !1, I = 0) => {
    for (let M = I; M < m.length; M++)
      R(m[M], _, A, P, S);
  }, Ae = (m) => {
    if (m.shapeFlag & 6)
      return Ae(m.component.subTree);
    if (m.shapeFlag & 128)
      return m.suspense.next();
    const _ = g(m.anchor || m.el), A = _ && _[qa];
    return A ? g(A) : _;
  }, Vs = (m, _, A) => {
    const P = m && _._vnode ? void 0 : m && m.component ? m.component.uid : ph();
    Dd(() => {
      m == null ? _._vnode && R(_._vnode, null, null, !0) : k(
        _._vnode || null,
        m,
        _,
        null,
        null,
        null,
        A
      ), _._vnode = m;
    }, P);
  }, gn = {
    p: k,
    um: R,
    m: J,
    r: C,
    mt: ke,
    mc: ee,
    pc: re,
    pbc: ue,
    n: Ae,
    o: e
  };
  return {
    render: Vs,
    hydrate: void 0,
    createApp: Jd(Vs)
  };
}
function ki({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function vn({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function oh(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function Mo(e, t, n = !1) {
  const s = e.children, r = t.children;
  if (ae(s) && ae(r))
    for (let i = 0; i < s.length; i++) {
      const o = s[i];
      let l = r[i];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = r[i] = Wt(r[i]), l.el = o.el), !n && l.patchFlag !== -2 && Mo(o, l)), l.type === Jr && (l.patchFlag === -1 && (l = r[i] = Wt(l)), l.el = o.el), l.type === xt && !l.el && (l.el = o.el);
    }
}
function lh(e) {
  const t = e.slice(), n = [0];
  let s, r, i, o, l;
  const c = e.length;
  for (s = 0; s < c; s++) {
    const a = e[s];
    if (a !== 0) {
      if (r = n[n.length - 1], e[r] < a) {
        t[s] = r, n.push(s);
        continue;
      }
      for (i = 0, o = n.length - 1; i < o; )
        l = i + o >> 1, e[n[l]] < a ? i = l + 1 : o = l;
      a < e[n[i]] && (i > 0 && (t[s] = n[i - 1]), n[i] = s);
    }
  }
  for (i = n.length, o = n[i - 1]; i-- > 0; )
    n[i] = o, o = t[o];
  return n;
}
function ru(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : ru(t);
}
function Sl(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function Ds(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return Ds(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? Ds(n.activeBranch) : null;
}
const iu = (e) => e.__isSuspense, ch = /* @__PURE__ */ Symbol("_deferredEnter");
function ah(e, t) {
  t && t.pendingBranch ? ae(e) ? t.effects.push(...e) : t.effects.push(e) : Sd(e);
}
const oe = /* @__PURE__ */ Symbol.for("v-fgt"), Jr = /* @__PURE__ */ Symbol.for("v-txt"), xt = /* @__PURE__ */ Symbol.for("v-cmt"), vi = /* @__PURE__ */ Symbol.for("v-stc"), Nn = [];
let ct = null;
function U(e = !1) {
  Nn.push(ct = e ? null : []);
}
function ou() {
  Nn.pop(), ct = Nn[Nn.length - 1] || null;
}
let Ns = 1;
function Dl(e, t = !1) {
  Ns += e, e < 0 && ct && t && (ct.hasOnce = !0);
}
function lu(e) {
  return e.dynamicChildren = Ns > 0 ? ct || Dn : null, ou(), Ns > 0 && ct && ct.push(e), e;
}
function q(e, t, n, s, r, i) {
  return lu(
    H(
      e,
      t,
      n,
      s,
      r,
      i,
      !0
    )
  );
}
function mr(e, t, n, s, r) {
  return lu(
    Vt(
      e,
      t,
      n,
      s,
      r,
      !0
    )
  );
}
function Lo(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function ds(e, t) {
  return e.type === t.type && e.key === t.key;
}
const cu = ({ key: e }) => e ?? null, _r = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? Le(e) || /* @__PURE__ */ tt(e) || Ee(e) ? { i: dt, r: e, k: t, f: !!n } : e : null);
function H(e, t = null, n = null, s = 0, r = null, i = e === oe ? 0 : 1, o = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && cu(t),
    ref: t && _r(t),
    scopeId: Ja,
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
    patchFlag: s,
    dynamicProps: r,
    dynamicChildren: null,
    appContext: null,
    ctx: dt
  };
  return l ? (Rr(c, n), i & 128 && e.normalize(c)) : n && (c.shapeFlag |= Le(n) ? 8 : 16), Ns > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  ct && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || i & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && ct.push(c), c;
}
const Vt = uh;
function uh(e, t = null, n = null, s = 0, r = null, i = !1) {
  if ((!e || e === zd) && (e = xt), Lo(e)) {
    const l = ns(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && Rr(l, n), Ns > 0 && !i && ct && (l.shapeFlag & 6 ? ct[ct.indexOf(e)] = l : ct.push(l)), l.patchFlag = -2, l;
  }
  if (kh(e) && (e = e.__vccOpts), t) {
    t = fh(t);
    let { class: l, style: c } = t;
    l && !Le(l) && (t.class = rt(l)), Ie(c) && (/* @__PURE__ */ Fo(c) && !ae(c) && (c = pt({}, c)), t.style = Ts(c));
  }
  const o = Le(e) ? 1 : iu(e) ? 128 : Ur(e) ? 64 : Ie(e) ? 4 : Ee(e) ? 2 : 0;
  return H(
    e,
    t,
    n,
    s,
    r,
    o,
    i,
    !0
  );
}
function fh(e) {
  return e ? /* @__PURE__ */ Fo(e) ? pt({}, e) : Qa(e) ? pt({}, e[hu] || e) : e : null;
}
function ns(e, t, n = !1, s = !1) {
  const { props: r, ref: i, patchFlag: o, children: l, transition: c } = e, a = t ? dh(r || {}, t) : r, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: a,
    key: a && cu(a),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && i ? ae(i) ? i.concat(_r(t)) : [i, _r(t)] : _r(t)
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
    ssContent: e.ssContent && ns(e.ssContent),
    ssFallback: e.ssFallback && ns(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return c && s && Rs(
    u,
    c.clone(u)
  ), u;
}
function ge(e = " ", t = 0) {
  return Vt(Jr, null, e, t);
}
function pe(e = "", t = !1) {
  return t ? (U(), mr(xt, null, e)) : Vt(xt, null, e);
}
function Dt(e) {
  return e == null || typeof e == "boolean" ? Vt(xt) : ae(e) ? Vt(
    oe,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : Lo(e) ? Wt(e) : Vt(Jr, null, String(e));
}
function Wt(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : ns(e);
}
function Rr(e, t) {
  let n = 0;
  const { shapeFlag: s } = e;
  if (t == null)
    t = null;
  else if (ae(t))
    n = 16;
  else if (typeof t == "object")
    if (s & 65) {
      const r = t.default;
      r && (r._c && (r._d = !1), Rr(e, r()), r._c && (r._d = !0));
      return;
    } else {
      n = 32;
      const r = t._;
      !r && !Qa(t) ? t._ctx = dt : r === 3 && dt && (dt.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (Ee(t)) {
    if (s & 65) {
      Rr(e, { default: t });
      return;
    }
    t = { default: t, _ctx: dt }, n = 32;
  } else
    t = String(t), s & 64 ? (n = 16, t = [ge(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function dh(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const s = e[n];
    for (const r in s)
      if (r === "class")
        t.class !== s.class && (t.class = rt([t.class, s.class]));
      else if (r === "style")
        t.style = Ts([t.style, s.style]);
      else if (Lr(r)) {
        const i = t[r], o = s[r];
        o && i !== o && !(ae(i) && i.includes(o)) ? t[r] = i ? [].concat(i, o) : o : o == null && i == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !Pr(r) && (t[r] = o);
      } else r !== "" && (t[r] = s[r]);
  }
  return t;
}
function Et(e, t, n, s = null) {
  Kt(e, t, 7, [
    n,
    s
  ]);
}
const hh = /* @__PURE__ */ Ga();
let au = 0;
function ph() {
  return au;
}
function gh(e, t, n) {
  const s = e.type, r = (t ? t.appContext : e.appContext) || hh, i = {
    uid: au++,
    vnode: e,
    type: s,
    parent: t,
    appContext: r,
    root: null,
    // to be immediately set
    next: null,
    subTree: null,
    // will be set synchronously right after creation
    effect: null,
    update: null,
    // will be set synchronously right after creation
    job: null,
    scope: new Qf(
      !0
      /* detached */
    ),
    render: null,
    proxy: null,
    exposed: null,
    exposeProxy: null,
    withProxy: null,
    provides: t ? t.provides : Object.create(r.provides),
    ids: t ? t.ids : ["", 0, 0],
    accessCache: null,
    renderCache: [],
    // local resolved assets
    components: null,
    directives: null,
    // resolved props and emits options
    propsOptions: eh(s, r),
    emitsOptions: Vd(s, r),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: Fe,
    // inheritAttrs
    inheritAttrs: s.inheritAttrs,
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
  return i.ctx = { _: i }, i.root = t ? t.root : i, i.emit = Hd.bind(null, i), e.ce && e.ce(i), i;
}
let ss = null;
const mh = () => ss || dt;
let Er, Ms;
{
  const e = jr(), t = (n, s) => {
    let r;
    return (r = e[n]) || (r = e[n] = []), r.push(s), (i) => {
      r.length > 1 ? r.forEach((o) => o(i)) : r[0](i);
    };
  };
  Er = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => ss = n
  ), Ms = t(
    "__VUE_SSR_SETTERS__",
    (n) => Cr = n
  );
}
const uu = (e) => {
  const t = ss;
  return Er(e), e.scope.on(), () => {
    e.scope.off(), Er(t);
  };
}, Tl = () => {
  ss && ss.scope.off(), Er(null);
};
function fu(e) {
  return e.vnode.shapeFlag & 4;
}
let Cr = !1;
function _h(e, t = !1, n = !1) {
  t && Ms(t);
  const { props: s, children: r } = e.vnode, i = fu(e);
  Zd(e, s, i, t), nh(e, r, n || t);
  const o = i ? yh(e, t) : void 0;
  return t && Ms(!1), o;
}
function yh(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Ud);
  const { setup: s } = n;
  if (s) {
    un();
    const r = e.setupContext = s.length > 1 ? wh(e) : null, i = uu(e), o = qs(
      s,
      e,
      0,
      [
        e.props,
        r
      ]
    ), l = ga(o);
    if (fn(), i(), (l || e.sp) && !Cs(e) && Bd(e), l) {
      if (o.then(Tl, Tl), t)
        return o.then((c) => {
          Ms(!0);
          try {
            Fl(e, c, t);
          } finally {
            Ms(!1);
          }
        }).catch((c) => {
          zr(c, e, 0, void 0, !0), e.ssrRender = (a, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      Fl(e, o);
  } else
    du(e);
}
function Fl(e, t, n) {
  Ee(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : Ie(t) && (e.setupState = $a(t)), du(e);
}
function du(e, t, n) {
  const s = e.type;
  e.render || (e.render = s.render || In);
}
const hu = /* @__PURE__ */ Symbol(), bh = {
  get(e, t) {
    return Ye(e, "get", ""), t === hu ? e : e[t];
  }
};
function wh(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, bh),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function qr(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy($a(yd(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in Ss)
        return Ss[n](e);
    },
    has(t, n) {
      return n in t || n in Ss;
    }
  })) : e.proxy;
}
function kh(e) {
  return Ee(e) && "__vccOpts" in e;
}
const Ve = (e, t) => /* @__PURE__ */ xd(e, t, Cr), vh = "3.5.45";
let uo;
const Il = typeof window < "u" && window.trustedTypes;
if (Il)
  try {
    uo = /* @__PURE__ */ Il.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const pu = uo ? (e) => uo.createHTML(e) : (e) => e, xh = "http://www.w3.org/2000/svg", Ah = "http://www.w3.org/1998/Math/MathML", Ut = typeof document < "u" ? document : null, Ol = Ut && /* @__PURE__ */ Ut.createElement("template"), Rh = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, s) => {
    const r = t === "svg" ? Ut.createElementNS(xh, e) : t === "mathml" ? Ut.createElementNS(Ah, e) : n ? Ut.createElement(e, { is: n }) : Ut.createElement(e);
    return e === "select" && s && s.multiple != null && r.setAttribute("multiple", s.multiple), r;
  },
  createText: (e) => Ut.createTextNode(e),
  createComment: (e) => Ut.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => Ut.querySelector(e),
  setScopeId(e, t) {
    e.setAttribute(t, "");
  },
  // __UNSAFE__
  // Reason: innerHTML.
  // Static content here can only come from compiled templates.
  // As long as the user only uses trusted templates, this is safe.
  insertStaticContent(e, t, n, s, r, i) {
    const o = n ? n.previousSibling : t.lastChild;
    if (r && (r === i || r.nextSibling))
      for (; t.insertBefore(r.cloneNode(!0), n), !(r === i || !(r = r.nextSibling)); )
        ;
    else {
      Ol.innerHTML = pu(
        s === "svg" ? `<svg>${e}</svg>` : s === "mathml" ? `<math>${e}</math>` : e
      );
      const l = Ol.content;
      if (s === "svg" || s === "mathml") {
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
}, Eh = /* @__PURE__ */ Symbol("_vtc");
function Ch(e, t, n) {
  const s = e[Eh];
  s && (t = (t ? [t, ...s] : [...s]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const Nl = /* @__PURE__ */ Symbol("_vod"), Sh = /* @__PURE__ */ Symbol("_vsh"), Dh = /* @__PURE__ */ Symbol(""), Th = /(?:^|;)\s*display\s*:/;
function Fh(e, t, n) {
  const s = e.style, r = Le(n);
  let i = !1;
  if (n && !r) {
    if (t)
      if (Le(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && bs(s, l, "");
        }
      else
        for (const o in t)
          n[o] == null && bs(s, o, "");
    for (const o in n) {
      o === "display" && (i = !0);
      const l = n[o];
      l != null ? Oh(
        e,
        o,
        !Le(t) && t ? t[o] : void 0,
        l
      ) || bs(s, o, l) : bs(s, o, "");
    }
  } else if (r) {
    if (t !== n) {
      const o = s[Dh];
      o && (n += ";" + o), s.cssText = n, i = Th.test(n);
    }
  } else t && e.removeAttribute("style");
  Nl in e && ((!r || t !== n) && (e[Nl] = i ? s.display : ""), e[Sh] && (s.display = "none"));
}
const ir = /\s*!important$/;
function bs(e, t, n) {
  if (ae(n))
    n.forEach((s) => bs(e, t, s));
  else if (n == null && (n = ""), t.startsWith("--"))
    ir.test(n) ? e.setProperty(t, n.replace(ir, ""), "important") : e.setProperty(t, n);
  else {
    const s = Ih(e, t);
    ir.test(n) ? e.setProperty(
      $n(s),
      n.replace(ir, ""),
      "important"
    ) : e[s] = n;
  }
}
const Ml = ["Webkit", "Moz", "ms"], xi = {};
function Ih(e, t) {
  const n = xi[t];
  if (n)
    return n;
  let s = kt(t);
  if (s !== "filter" && s in e)
    return xi[t] = s;
  s = ya(s);
  for (let r = 0; r < Ml.length; r++) {
    const i = Ml[r] + s;
    if (i in e)
      return xi[t] = i;
  }
  return t;
}
function Oh(e, t, n, s) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && Le(s) && n === s;
}
const Ll = "http://www.w3.org/1999/xlink";
function Pl(e, t, n, s, r, i = Kf(t)) {
  s && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(Ll, t.slice(6, t.length)) : e.setAttributeNS(Ll, t, n) : n == null || i && !wa(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    i ? "" : Ot(n) ? String(n) : n
  );
}
function $l(e, t, n, s, r) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? pu(n) : n);
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
    l === "boolean" ? n = wa(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  o && e.removeAttribute(r || t);
}
function Sn(e, t, n, s) {
  e.addEventListener(t, n, s);
}
function Nh(e, t, n, s) {
  e.removeEventListener(t, n, s);
}
const jl = /* @__PURE__ */ Symbol("_vei");
function Mh(e, t, n, s, r = null) {
  const i = e[jl] || (e[jl] = {}), o = i[t];
  if (s && o)
    o.value = s;
  else {
    const [l, c] = $h(t);
    if (s) {
      const a = i[t] = zh(
        s,
        r
      );
      Sn(e, l, a, c);
    } else o && (Nh(e, l, o, c), i[t] = void 0);
  }
}
const Lh = /(Once|Passive|Capture)$/, Ph = /^on:?(?:Once|Passive|Capture)$/;
function $h(e) {
  let t, n;
  for (; (n = e.match(Lh)) && !Ph.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : $n(e.slice(2)), t];
}
let Ai = 0;
const jh = /* @__PURE__ */ Promise.resolve(), Bh = () => Ai || (jh.then(() => Ai = 0), Ai = Date.now());
function zh(e, t) {
  const n = (s) => {
    if (!s._vts)
      s._vts = Date.now();
    else if (s._vts <= n.attached)
      return;
    const r = n.value;
    if (ae(r)) {
      const i = s.stopImmediatePropagation;
      s.stopImmediatePropagation = () => {
        i.call(s), s._stopped = !0;
      };
      const o = r.slice(), l = [s];
      for (let c = 0; c < o.length && !s._stopped; c++) {
        const a = o[c];
        a && Kt(
          a,
          t,
          5,
          l
        );
      }
    } else
      Kt(
        r,
        t,
        5,
        [s]
      );
  };
  return n.value = e, n.attached = Bh(), n;
}
const Bl = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Uh = (e, t, n, s, r, i) => {
  const o = r === "svg";
  t === "class" ? Ch(e, s, o) : t === "style" ? Fh(e, n, s) : Lr(t) ? Pr(t) || Mh(e, t, n, s, i) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : Wh(e, t, s, o)) ? ($l(e, t, s), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && Pl(e, t, s, o, i, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Jh(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !Le(s))) ? $l(e, kt(t), s, i, t) : (t === "true-value" ? e._trueValue = s : t === "false-value" && (e._falseValue = s), Pl(e, t, s, o));
};
function Wh(e, t, n, s) {
  if (s)
    return !!(t === "innerHTML" || t === "textContent" || t in e && Bl(t) && Ee(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const r = e.tagName;
    if (r === "IMG" || r === "VIDEO" || r === "CANVAS" || r === "SOURCE")
      return !1;
  }
  return Bl(t) && Le(n) ? !1 : t in e;
}
function Jh(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const s = kt(t);
  return Array.isArray(n) ? n.some((r) => kt(r) === s) : Object.keys(n).some((r) => kt(r) === s);
}
const Sr = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return ae(t) ? (n) => gr(t, n) : t;
};
function qh(e) {
  e.target.composing = !0;
}
function zl(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const Tn = /* @__PURE__ */ Symbol("_assign"), or = /* @__PURE__ */ Symbol("_initialValue");
function Ri(e, t, n) {
  return t && (e = e.trim()), n && (e = Js(e)), e;
}
const qn = {
  created(e, { modifiers: { lazy: t, trim: n, number: s } }, r) {
    e.parentNode && (e.type === "text" ? e[or] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[or] = e.defaultValue.replace(/\r\n?/g, `
`))), e[Tn] = Sr(r);
    const i = s || r.props && r.props.type === "number";
    Sn(e, t ? "change" : "input", (o) => {
      o.target.composing || e[Tn](Ri(e.value, n, i));
    }), (n || i) && Sn(e, "change", () => {
      e.value = Ri(e.value, n, i);
    }), t || (Sn(e, "compositionstart", qh), Sn(e, "compositionend", zl), Sn(e, "change", zl));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: s } }) {
    const r = t ?? "", i = e[or];
    delete e[or], i !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== i ? e[Tn](Ri(e.value, n, s)) : e.value = r;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: s, trim: r, number: i } }, o) {
    if (e[Tn] = Sr(o), e.composing) return;
    const l = (i || e.type === "number") && !/^0\d/.test(e.value) ? Js(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const a = e.getRootNode();
    (a instanceof Document || a instanceof ShadowRoot) && a.activeElement === e && e.type !== "range" && (s && t === n || r && e.value.trim() === c) || (e.value = c);
  }
}, Hh = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, s) {
    e._modelValue = t, Sn(e, "change", () => {
      const r = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? Js(Dr(c)) : Dr(c)
      ), i = e.multiple, o = i ? Pn(e._modelValue) ? new Set(r) : r : r[0], l = e._pendingValue = [
        i,
        i ? ae(o) ? r.slice() : r : o
      ];
      try {
        e[Tn](o);
      } finally {
        As(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[Tn] = Sr(s);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    Ul(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[Tn] = Sr(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const s = e._pendingValue;
    e._pendingValue = void 0, (!s || s[0] !== e.multiple || !Vh(t, s[1], s[0])) && Ul(e, t, n);
  }
};
function Vh(e, t, n) {
  if (!n || ae(e)) return an(e, t);
  if (Pn(e)) {
    if (e.size !== t.length) return !1;
    for (const s of t)
      if (!e.has(s)) return !1;
    return !0;
  }
  return !1;
}
function Ul(e, t, n = !1) {
  const s = e.multiple, r = ae(t);
  if (!(s && !r && !Pn(t))) {
    for (let i = 0, o = e.options.length; i < o; i++) {
      const l = e.options[i], c = Dr(l);
      if (s)
        if (r) {
          const a = typeof c;
          a === "string" || a === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = Zf(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(Js(c));
      else if (an(Dr(l), t)) {
        e.selectedIndex !== i && (e.selectedIndex = i);
        return;
      }
    }
    !s && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function Dr(e) {
  return "_value" in e ? e._value : e.value;
}
const Gh = ["ctrl", "shift", "alt", "meta"], Kh = {
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
  exact: (e, t) => Gh.some((n) => e[`${n}Key`] && !t.includes(n))
}, Xn = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), s = t.join(".");
  return n[s] || (n[s] = ((r, ...i) => {
    for (let o = 0; o < t.length; o++) {
      const l = Kh[t[o]];
      if (l && l(r, t)) return;
    }
    return e(r, ...i);
  }));
}, Xh = /* @__PURE__ */ pt({ patchProp: Uh }, Rh);
let Wl;
function Yh() {
  return Wl || (Wl = rh(Xh));
}
const Zh = ((...e) => {
  const t = Yh().createApp(...e), { mount: n } = t;
  return t.mount = (s) => {
    const r = ep(s);
    if (!r) return;
    const i = t._component;
    !Ee(i) && !i.render && !i.template && (i.template = r.innerHTML), r.nodeType === 1 && (r.textContent = "");
    const o = n(r, !1, Qh(r));
    return r instanceof Element && (r.removeAttribute("v-cloak"), r.setAttribute("data-v-app", "")), o;
  }, t;
});
function Qh(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function ep(e) {
  return Le(e) ? document.querySelector(e) : e;
}
const tp = "/comfyd/connection";
function np(e, t) {
  if (!e || typeof e != "object") throw new Error("no connection info");
  if (e.status && e.status !== "ready") throw new Error(e.error || `comfyd is ${e.status}`);
  const n = e.token;
  if (typeof n != "string" || !/^[\x21-\x7e]{1,512}$/.test(n)) throw new Error("no bridge token");
  let s;
  try {
    s = new URL(String(e.bridge_url));
  } catch {
    throw new Error("bad bridge_url");
  }
  if (s.protocol !== "http:" && s.protocol !== "https:") throw new Error("bad bridge_url scheme");
  const r = /* @__PURE__ */ new Set(["127.0.0.1", "localhost", "[::1]"]);
  return t && r.has(s.hostname) && r.has(t.hostname) && (s.hostname = t.hostname), { wsBase: `${s.protocol === "https:" ? "wss:" : "ws:"}//${s.host}`, token: n, bridgeUrl: s.origin };
}
const sp = "comfyd", rp = "comfyd.token.", ip = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function gu(e) {
  return ip.test(e.token);
}
function mu(e, t) {
  return gu(e) ? `${e.wsBase}${t}` : `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
function _u(e) {
  return gu(e) ? [sp, rp + e.token] : [];
}
class op {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(tp).then(
      (t) => np(t, this.location),
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
function fo(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const Mn = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function Gt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (Mn(e).find((s) => String(s.id) === String(t)) ?? null);
}
function lp(e, t) {
  if (t == null) return null;
  const n = e.links ?? e._links;
  return n ? typeof n.get == "function" ? n.get(t) ?? null : n[t] ?? null : null;
}
function Jl(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function cp(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function ap(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function up(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function fp(e, t) {
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
  const { extra: t, nodes: n, ...s } = e;
  let r = t;
  if (r && typeof r == "object" && "ds" in r) {
    const { ds: o, ...l } = r;
    r = l;
  }
  if (r && typeof r == "object" && r.comfyd && typeof r.comfyd == "object" && "provenance" in r.comfyd) {
    const { provenance: o, ...l } = r.comfyd, { comfyd: c, ...a } = r;
    r = Object.keys(l).length ? { ...a, comfyd: l } : a;
  }
  const i = Array.isArray(n) ? n.map((o) => {
    if (!o || typeof o != "object") return o;
    const { order: l, ...c } = o;
    return c;
  }) : n;
  return JSON.stringify({ ...s, nodes: i, extra: r ?? null });
}
function dp(e, t) {
  if (!e || typeof t != "string" || !t) return !1;
  let n;
  try {
    n = JSON.parse(t);
  } catch {
    return !1;
  }
  if (!n || typeof n != "object" || Array.isArray(n)) return !1;
  (!e.extra || typeof e.extra != "object") && (e.extra = {});
  const s = e.extra.comfyd && typeof e.extra.comfyd == "object" ? e.extra.comfyd : {};
  if (n.since !== void 0) {
    try {
      n = hp(e, s.provenance, n);
    } catch {
      n = null;
    }
    if (!n) return !1;
  }
  return e.extra.comfyd = { ...s, provenance: n }, !0;
}
function ql(e) {
  const t = Number(e?.extra?.comfyd?.provenance?.revision);
  return Number.isSafeInteger(t) && t > 0 ? t : 0;
}
function st(e) {
  return e && typeof e == "object" && !Array.isArray(e);
}
function hp(e, t, n) {
  if (!st(t) || !st(n) || t.v !== n.v || t.revision !== n.since || !Array.isArray(t.actors) || !Array.isArray(n.actors) || !st(n.nodes) || !st(n.links) || !st(t.nodes) || !st(t.links)) return null;
  const s = new Map(t.actors.map((f, g) => [JSON.stringify(f), g])), r = n.actors.map((f) => {
    if (!st(f)) throw new Error("an actor is not an object");
    const g = JSON.stringify(f);
    return s.has(g) || (s.set(g, t.actors.length), t.actors.push(f)), s.get(g);
  }), i = (f) => {
    if (!Number.isInteger(f) || f < 0 || f >= r.length) throw new Error("a record names no actor");
    return r[f];
  }, o = (f) => {
    if (!st(f)) return f;
    const g = { ...f, by: i(f.by) };
    if (st(f.created) && (g.created = { ...f.created, by: i(f.created.by) }), st(f.widgets)) {
      g.widgets = {};
      for (const [p, h] of Object.entries(f.widgets)) g.widgets[p] = st(h) ? { ...h, by: i(h.by) } : h;
    }
    return g;
  }, l = Object.entries(n.nodes).map(([f, g]) => [f, o(g)]), c = Object.entries(n.links).map(([f, g]) => [f, o(g)]);
  for (const f of Object.keys(t.nodes)) e.getNodeById?.(Number(f)) || delete t.nodes[f];
  const a = e._links ?? e.links, u = (f) => !!a && (typeof a.get == "function" ? a.get(Number(f)) != null : a[f] != null);
  for (const f of Object.keys(t.links)) u(f) || delete t.links[f];
  for (const [f, g] of l) t.nodes[f] = g;
  for (const [f, g] of c) t.links[f] = g;
  return t.revision = n.revision, t.actors.length > pp && gp(t), t;
}
const pp = 64;
function gp(e) {
  const t = /* @__PURE__ */ new Map(), n = (i) => {
    st(i) && (t.has(i.by) || t.set(i.by, t.size), i.by = t.get(i.by));
  }, s = (i) => {
    if (n(i), st(i?.created) && n(i.created), st(i?.widgets)) for (const o of Object.values(i.widgets)) n(o);
  };
  for (const i of Object.values(e.nodes)) s(i);
  for (const i of Object.values(e.links)) s(i);
  const r = new Array(t.size);
  for (const [i, o] of t) r[o] = e.actors[i];
  e.actors = r;
}
function Yn(e, t, n = 3) {
  const s = String(e).toLowerCase(), r = [];
  for (const i of t) {
    const o = String(i).toLowerCase();
    let l = mp(s, o);
    (o.includes(s) || s.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(s.length / 3)) && r.push([l, i]);
  }
  return r.sort((i, o) => i[0] - o[0] || String(i[1]).localeCompare(String(o[1]))), r.slice(0, n).map((i) => i[1]);
}
const Hl = 128;
function mp(e, t) {
  if (e.length > Hl || t.length > Hl) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (s, r) => r);
  for (let s = 1; s <= e.length; s++) {
    const r = [s];
    for (let i = 1; i <= t.length; i++)
      r[i] = Math.min(n[i] + 1, r[i - 1] + 1, n[i - 1] + (e[s - 1] === t[i - 1] ? 0 : 1));
    n = r;
  }
  return n[t.length];
}
const Xt = Object.freeze({
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
}), Tr = (e, t) => e < t ? -1 : e > t ? 1 : 0;
function yu(e, t, n = {}) {
  const s = n.x ?? 0, r = n.y ?? 0, i = n.spacing ?? Xt.spacing, o = e.length, l = /* @__PURE__ */ new Map();
  e.forEach((W, re) => l.set(W.id, re));
  const c = Array.from({ length: o }, () => []), a = Array.from({ length: o }, () => []), u = /* @__PURE__ */ new Set();
  for (const [W, re] of t) {
    const le = l.get(W), me = l.get(re);
    if (le === void 0 || me === void 0 || le === me) continue;
    const J = le * o + me;
    u.has(J) || (u.add(J), c[le].push(me), a[me].push(le));
  }
  const f = new Uint8Array(o), g = /* @__PURE__ */ new Set();
  for (let W = 0; W < o; W++) {
    if (f[W]) continue;
    const re = [[W, 0]];
    for (f[W] = 1; re.length; ) {
      const le = re[re.length - 1], [me, J] = le;
      if (J < c[me].length) {
        le[1]++;
        const R = c[me][J];
        f[R] === 1 ? g.add(me * o + R) : f[R] === 0 && (f[R] = 1, re.push([R, 0]));
      } else
        f[me] = 2, re.pop();
    }
  }
  const p = (W, re) => !g.has(W * o + re), h = a.map((W, re) => W.filter((le) => p(le, re))), k = c.map((W, re) => W.filter((le) => p(re, le))), x = h.map((W) => W.length), T = [], v = [];
  for (let W = 0; W < o; W++) x[W] || v.push(W);
  for (let W = 0; W < v.length; W++) {
    const re = v[W];
    T.push(re);
    for (const le of k[re]) --x[le] === 0 && v.push(le);
  }
  const b = new Int32Array(o);
  for (const W of T) for (const re of k[W]) b[re] = Math.max(b[re], b[W] + 1);
  for (const W of T) {
    if (h[W].length || !k[W].length) continue;
    let re = 1 / 0;
    for (const le of k[W]) re = Math.min(re, b[le]);
    b[W] = Math.max(0, re - 1);
  }
  let w = 0;
  for (let W = 0; W < o; W++) w = Math.max(w, b[W] + 1);
  const F = Array.from({ length: w }, () => []);
  for (let W = 0; W < o; W++) F[b[W]].push(W);
  const B = new Float64Array(o), $ = () => {
    for (const W of F) W.forEach((re, le) => B[re] = W.length > 1 ? le / (W.length - 1) : 0.5);
  };
  $();
  const ee = (W, re) => {
    const le = W.map((me, J) => {
      const R = re[me];
      let C = B[me];
      if (R.length) {
        let X = 0;
        for (const ut of R) X += B[ut];
        C = X / R.length;
      }
      return [C, J, me];
    });
    return le.sort((me, J) => Tr(me[0], J[0]) || me[1] - J[1]), le.map((me) => me[2]);
  };
  let Y = F.map((W) => W.slice()), ue = Vl(F, k, b, o);
  for (let W = 0; W < Xt.sweeps && ue > 0; W++) {
    for (let le = 1; le < w; le++)
      F[le] = ee(F[le], h), $();
    for (let le = w - 2; le >= 0; le--)
      F[le] = ee(F[le], k), $();
    const re = Vl(F, k, b, o);
    re < ue && (ue = re, Y = F.map((le) => le.slice()));
  }
  const ne = new Float64Array(o), de = new Float64Array(o);
  let De = s, ke = r;
  for (let W = 0; W < w; W++) {
    let re = 0, le = r;
    for (const me of Y[W]) {
      const J = e[me];
      let R = le;
      if (h[me].length) {
        let C = 0;
        for (const X of h[me]) C += de[X] + e[X].h / 2;
        R = Math.max(le, C / h[me].length - J.h / 2);
      }
      ne[me] = De, de[me] = R, le = R + J.h + i, re = Math.max(re, J.w), ke = Math.max(ke, R + J.h);
    }
    De += re + i;
  }
  const xe = /* @__PURE__ */ new Map(), at = /* @__PURE__ */ new Map();
  for (let W = 0; W < o; W++)
    xe.set(e[W].id, [ne[W], de[W]]), at.set(e[W].id, b[W]);
  return { pos: xe, layer: at, width: w ? De - i - s : 0, height: ke - r };
}
function Vl(e, t, n, s) {
  const r = new Float64Array(s);
  for (const l of e) l.forEach((c, a) => r[c] = a);
  const i = /* @__PURE__ */ new Map();
  for (let l = 0; l < s; l++)
    for (const c of t[l]) {
      const a = n[l] * 65536 + n[c];
      let u = i.get(a);
      u || i.set(a, u = []), u.push([r[l], r[c]]);
    }
  let o = 0;
  for (const l of i.values())
    l.sort((c, a) => c[0] - a[0] || c[1] - a[1]), o += ho(l.map((c) => c[1]));
  return o;
}
function ho(e) {
  if (e.length < 2) return 0;
  const t = e.length >> 1, n = e.slice(0, t), s = e.slice(t);
  let r = ho(n) + ho(s), i = 0, o = 0, l = 0;
  for (; i < n.length && o < s.length; )
    n[i] <= s[o] ? e[l++] = n[i++] : (e[l++] = s[o++], r += n.length - i);
  for (; i < n.length; ) e[l++] = n[i++];
  for (; o < s.length; ) e[l++] = s[o++];
  return r;
}
function _p(e, t, n = 0) {
  return e.x < t.x + t.w + n && t.x < e.x + e.w + n && e.y < t.y + t.h + n && t.y < e.y + e.h + n;
}
function bu(e, t, n = Xt.spacing) {
  const s = n / 2, r = t.filter((o) => e.x < o.x + o.w + s && o.x < e.x + e.w + s);
  r.sort((o, l) => o.y - l.y || o.x - l.x);
  let i = e.y;
  for (const o of r) i < o.y + o.h + s && o.y < i + e.h + s && (i = o.y + o.h + n);
  return i;
}
function Po(e) {
  const t = e?.NODE_TITLE_HEIGHT;
  return typeof t == "number" && Number.isFinite(t) && t >= 0 ? t : Xt.titleHeight;
}
function Fr(e, t) {
  const n = Po(t), s = Number(e.size?.[0]), r = Number(e.size?.[1]), i = !!e.flags?.collapsed;
  return {
    id: e.id,
    x: Number(e.pos?.[0]) || 0,
    y: (Number(e.pos?.[1]) || 0) - n,
    w: Number.isFinite(s) && s > 0 ? s : 200,
    h: i ? n : (Number.isFinite(r) && r > 0 ? r : 100) + n
  };
}
function wu(e) {
  const t = [];
  for (const n of Mn(e))
    for (const s of n.inputs ?? []) {
      if (s?.link === null || s?.link === void 0) continue;
      const r = lp(e, s.link);
      if (!r) continue;
      const i = r.origin_id ?? r[1];
      i != null && t.push([r.id ?? r[0], i, n.id]);
    }
  return t.sort((n, s) => Tr(Number(n[0]), Number(s[0]))), t.map(([, n, s]) => [n, s]);
}
const yp = (e, t) => Tr(Number(e.id), Number(t.id)) || Tr(String(e.id), String(t.id));
function ku(e, t, n, s) {
  const r = [Math.round(t), Math.round(n + s)];
  e.pos && typeof e.pos.length == "number" && e.pos.length >= 2 ? (e.pos[0] = r[0], e.pos[1] = r[1]) : e.pos = r;
}
function bp(e, t, n = {}) {
  const s = n.LiteGraph, r = Po(s), i = n.spacing ?? Xt.spacing, o = n.exclude ?? (() => !1);
  let l;
  if (t && t.length) {
    const b = new Set(t.map(String));
    l = Mn(e).filter((w) => b.has(String(w.id)));
  } else l = Mn(e).filter((b) => !o(b));
  if (!l.length) return [];
  const c = new Set(l.map((b) => String(b.id))), a = l.map((b) => Fr(b, s));
  a.sort((b, w) => b.y - w.y || b.x - w.x || yp(b, w));
  const u = n.x ?? Math.min(...a.map((b) => b.x)), f = n.y ?? Math.min(...a.map((b) => b.y)), g = wu(e).filter(([b, w]) => c.has(String(b)) && c.has(String(w))), { pos: p, layer: h } = yu(a, g, { x: u, y: f, spacing: i }), k = new Set([...n.ignore ?? []].map(String)), x = Mn(e).filter((b) => !c.has(String(b.id)) && !k.has(String(b.id))).map((b) => Fr(b, s)), T = a.slice().sort((b, w) => h.get(b.id) - h.get(w.id) || p.get(b.id)[1] - p.get(w.id)[1]), v = [];
  for (const b of T) {
    const [w, F] = p.get(b.id), B = { ...b, x: w, y: F };
    x.length && (B.y = bu(B, x.concat(v), i)), v.push(B), ku(Gt(e, b.id), B.x, B.y, r);
  }
  return T.map((b) => b.id);
}
function wp(e, t, n = {}) {
  const s = n.LiteGraph, r = Po(s), i = n.spacing ?? Xt.spacing, o = new Set(t.map(String)), l = t.map((v) => Gt(e, v)).filter(Boolean);
  if (!l.length) return [];
  const c = l.map((v) => Fr(v, s)), a = Mn(e).filter((v) => !o.has(String(v.id))).map((v) => Fr(v, s)), u = new Map(a.map((v) => [String(v.id), v])), f = wu(e), g = f.filter(([v, b]) => o.has(String(v)) && o.has(String(b))), p = yu(c, g, { x: 0, y: 0, spacing: i });
  let h = -1 / 0, k = 1 / 0;
  for (const [v, b] of f) {
    const w = u.get(String(v));
    !w || !o.has(String(b)) || (h = Math.max(h, w.x + w.w + i - p.pos.get(b)[0]), k = Math.min(k, w.y));
  }
  if (h === -1 / 0) {
    const v = kp(a), b = Array.isArray(n.view) && n.view.length === 4 && n.view.every(Number.isFinite) ? n.view : null;
    let w = null;
    if (b) {
      w = [b[0] + Math.max(i, (b[2] - p.width) / 2), b[1] + Math.max(i, (b[3] - p.height) / 2)];
      const F = { x: w[0], y: w[1], w: p.width, h: p.height };
      a.some((B) => _p(F, B, i / 2)) && (w = null);
    }
    w || (w = v ? [v.x + v.w + i, v.y] : b ? [b[0] + b[2] / 4, b[1] + b[3] / 4] : Xt.origin), [h, k] = w;
  }
  const x = c.slice().sort((v, b) => p.layer.get(v.id) - p.layer.get(b.id) || p.pos.get(v.id)[1] - p.pos.get(b.id)[1]), T = a.slice();
  for (const v of x) {
    const [b, w] = p.pos.get(v.id), F = { ...v, x: h + b, y: k + w };
    F.y = bu(F, T, i), T.push(F), ku(Gt(e, v.id), F.x, F.y, r);
  }
  return x.map((v) => v.id);
}
function kp(e) {
  if (!e.length) return null;
  let t = 1 / 0, n = 1 / 0, s = -1 / 0, r = -1 / 0;
  for (const i of e)
    t = Math.min(t, i.x), n = Math.min(n, i.y), s = Math.max(s, i.x + i.w), r = Math.max(r, i.y + i.h);
  return { x: t, y: n, w: s - t, h: r - n };
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
}), Ei = Object.freeze({ always: 0, never: 2, mute: 2, bypass: 4 });
class po extends Error {
  constructor(t, n, s = []) {
    super(n), this.code = t, this.suggestions = s;
  }
}
const ce = (e, t, n) => {
  throw new po(e, t, n);
}, rs = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function Hn(e, t, n = Qe.name, { optional: s = !1 } = {}) {
  if (e == null) {
    if (s) return "";
    ce("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && ce("INVALID_COMMAND", `${t} must be a string`), e.length > n && ce("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function xn(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > Qe.coord) && ce("INVALID_COMMAND", `${t} must be a number within ±${Qe.coord}`), e);
}
function Zt(e, t) {
  return rs(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= Qe.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : ce("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function Ci(e, t) {
  if (e == null) return 0;
  if (rs(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= Qe.name ? e : ce("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function Gl(e, t) {
  if (rs(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((s) => s in e);
    n.length !== 1 && ce("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || ce("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > Qe.text && ce("VALUE_INVALID", `${t} is longer than ${Qe.text} characters`), e) : ce("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const yr = {
  create_node(e) {
    const t = {
      node_type: Hn(e.node_type, "node_type"),
      x: xn(e.x, "x", { optional: !0 }),
      y: xn(e.y, "y", { optional: !0 }),
      ref: Hn(e.ref, "ref", Qe.ref, { optional: !0 }),
      title: Hn(e.title, "title", Qe.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || ce("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      rs(e.widgets) || ce("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > Qe.widgets && ce("INVALID_COMMAND", `more than ${Qe.widgets} widgets`);
      for (const s of n) t.widgets.push([Hn(s, "widget name"), Gl(e.widgets[s], `widgets.${s}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: Zt(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: Zt(e.from_id, "from_id"),
    from_slot: Ci(e.from_slot, "from_slot"),
    to_id: Zt(e.to_id, "to_id"),
    to_slot: Ci(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: Zt(e.node_id, "node_id"), slot: Ci(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: Zt(e.node_id, "node_id"),
    name: Hn(e.name, "name"),
    value: Gl(e.value, "value")
  }),
  move_node: (e) => ({ node_id: Zt(e.node_id, "node_id"), x: xn(e.x, "x"), y: xn(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(e) {
    const t = e.node_ids ?? [];
    Array.isArray(t) || ce("INVALID_COMMAND", "node_ids must be an array of node ids or refs"), t.length > Qe.nodes && ce("INVALID_COMMAND", `node_ids: more than ${Qe.nodes}`);
    const n = xn(e.spacing, "spacing", { optional: !0 });
    return n !== null && (n < 0 || n > Xt.maxSpacing) && ce("INVALID_COMMAND", `spacing must be between 0 and ${Xt.maxSpacing}`), {
      node_ids: t.map((s, r) => Zt(s, `node_ids[${r}]`)),
      x: xn(e.x, "x", { optional: !0 }),
      y: xn(e.y, "y", { optional: !0 }),
      spacing: n
    };
  },
  set_node_mode(e) {
    const t = Hn(e.mode, "mode");
    return Object.hasOwn(Ei, t) || ce("INVALID_COMMAND", `mode "${t.slice(0, 40)}" is not one of ${Object.keys(Ei).join(", ")}`), { node_id: Zt(e.node_id, "node_id"), mode: Ei[t] };
  }
}, vu = Object.freeze(Object.keys(yr)), Kl = new Set(vu.filter((e) => e !== "get_graph")), vp = /* @__PURE__ */ new Set(["move_node", "set_widget", "get_graph"]);
function xu(e) {
  rs(e) || ce("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const s = Object.keys(e).filter((r) => Object.hasOwn(yr, r));
    s.length !== 1 && ce("INVALID_COMMAND", "missing field: type"), t = s[0], n = rs(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(yr, t)) && ce("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${vu.join(", ")}`), { type: t, ...yr[t](n) };
}
const xp = /* @__PURE__ */ new Set(["number", "slider", "knob"]), Ap = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function Rp(e, t, n) {
  const s = String(e.type ?? ""), r = e.options ?? {};
  if (s === "combo") {
    const i = fp(e, t);
    return i && !i.some((o) => o === n) && ce("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${i.length} options of ${e.name}`, Yn(n, i.filter((o) => typeof o == "string"))), n;
  }
  return xp.has(s) ? (typeof n != "number" && ce("VALUE_INVALID", `${e.name} takes a number`), r.precision === 0 && !Number.isInteger(n) && ce("VALUE_INVALID", `${e.name} takes an integer`), typeof r.min == "number" && n < r.min && ce("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${r.min}`), typeof r.max == "number" && n > r.max && ce("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${r.max}`), n) : s === "toggle" || s === "boolean" ? (typeof n != "boolean" && ce("VALUE_INVALID", `${e.name} takes true or false`), n) : Ap.has(s) ? (typeof n != "string" && ce("VALUE_INVALID", `${e.name} takes a string`), n) : (s === "button" && ce("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function Ep(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function Xl(e, t, n, s) {
  const r = ap(t, n);
  r || ce("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, Yn(n, up(t)));
  const i = Rp(r, t, s), o = r.value;
  r.value = i;
  try {
    r.callback?.call(r, r.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(r.name, r.value, o, r);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return Ep(r);
}
function Qt(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return Gt(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const s = Gt(e.graph, t.id);
    if (s) return s;
    ce("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return ce("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function Cp(e) {
  const t = typeof e.view == "function" ? e.view() : null;
  return Array.isArray(t) && t.length === 4 && t.every(Number.isFinite) ? t : null;
}
function Sp(e) {
  const t = [...e.pending].filter((n) => Gt(e.graph, n));
  e.pending.clear(), t.length && wp(e.graph, t, { LiteGraph: e.LiteGraph, view: Cp(e) });
}
const Dp = {
  create_node(e, t) {
    const { graph: n, LiteGraph: s } = e, r = s.createNode(t.node_type);
    if (!r) {
      const l = Object.keys(s.registered_node_types ?? {});
      ce("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, Yn(t.node_type, l));
    }
    t.title && (r.title = t.title);
    const i = t.x === null || t.y === null;
    r.pos = i ? [0, 0] : [t.x, t.y];
    const o = e.expectedId;
    Number.isSafeInteger(o) && o > 0 && !Gt(n, o) && (r.id = o), n.add(r), Gt(n, r.id) || ce("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [l, c] of t.widgets) Xl(e, r, l, c);
    } catch (l) {
      throw n.remove(r), l;
    }
    return t.ref && e.refs.set(t.ref, r.id), i && e.pending.add(r.id), { node_id: r.id };
  },
  remove_node(e, t) {
    const n = Qt(e, t.node_id, "node_id"), s = n.id;
    return e.graph.remove(n), Gt(e.graph, s) && ce("EDITOR_FAILED", `node #${s} cannot be removed`), { node_id: s };
  },
  connect(e, t) {
    const n = Qt(e, t.from_id, "from_id"), s = Qt(e, t.to_id, "to_id"), r = cp(n, t.from_slot);
    r < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? Yn(t.from_slot, (n.outputs ?? []).map((a) => a.name)) : []
    );
    const i = Jl(s, t.to_slot);
    i < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${s.id} (${s.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? Yn(t.to_slot, (s.inputs ?? []).map((a) => a.name)) : []
    ), n === s && ce("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const o = n.outputs[r].type, l = s.inputs[i].type;
    e.LiteGraph.isValidConnection(o, l) || ce("TYPE_MISMATCH", `output ${r} of #${n.id} is ${o}, input ${JSON.stringify(s.inputs[i].name)} of #${s.id} takes ${l}`);
    const c = n.connect(r, s, i);
    return c || ce("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${r} -> #${s.id}:${i}`), { node_id: s.id, link_id: c.id };
  },
  disconnect(e, t) {
    const n = Qt(e, t.node_id, "node_id"), s = Jl(n, t.slot);
    s < 0 && ce(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? Yn(t.slot, (n.inputs ?? []).map((i) => i.name)) : []
    );
    const r = n.inputs[s].link;
    return r == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(s), n.inputs[s].link !== null && n.inputs[s].link !== void 0 && ce("EDITOR_FAILED", `input ${s} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: r });
  },
  set_widget(e, t) {
    const n = Qt(e, t.node_id, "node_id"), s = Xl(e, n, t.name, t.value);
    return s === void 0 ? { node_id: n.id } : { node_id: n.id, value: s };
  },
  move_node(e, t) {
    const n = Qt(e, t.node_id, "node_id");
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
    const n = t.node_ids.map((r, i) => Qt(e, r, `node_ids[${i}]`).id), s = bp(e.graph, n, {
      LiteGraph: e.LiteGraph,
      x: t.x ?? void 0,
      y: t.y ?? void 0,
      spacing: t.spacing ?? void 0,
      exclude: e.keepOnClear,
      ignore: e.pending
    });
    for (const r of s) e.pending.delete(r);
    return {};
  },
  set_node_mode(e, t) {
    const n = Qt(e, t.node_id, "node_id");
    return n.mode = t.mode, n.mode !== t.mode && ce("EDITOR_FAILED", `node #${n.id} kept mode ${n.mode}`), { node_id: n.id };
  }
}, Tp = "BATCH_MODE_PARTIAL";
function Fp(e) {
  return e === Tp || e === 2 || String(e).toLowerCase() === "partial";
}
function Yl(e, t) {
  const n = t instanceof po ? t.code : "EDITOR_FAILED", s = t instanceof po ? t.message : `command failed: ${t?.message ?? String(t)}`, r = { code: n, message: s.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (r.suggestions = t.suggestions), { index: e, ok: !1, error: r };
}
function Ip(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > Qe.commands)
    return { ok: !1, error: `more than ${Qe.commands} commands`, results: [], applied: !1 };
  const s = e.graph, r = Fp(t?.mode), i = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), pending: /* @__PURE__ */ new Set(), expectedId: void 0 }, c = n.length === 1 && vp.has(n[0]?.type) ? null : s.serialize(), a = new Array(n.length);
  let u = 0, f = -1, g = !1;
  for (let k = 0; k < n.length; k++) {
    let x;
    try {
      x = xu(n[k]);
    } catch (v) {
      if (a[k] = Yl(k, v), !r) {
        f = k;
        break;
      }
      continue;
    }
    o.expectedId = x.type === "create_node" ? i[u++] : void 0;
    const T = r && Kl.has(x.type) && k > 0 ? s.serialize() : null;
    try {
      a[k] = { index: k, ok: !0, ...Dp[x.type](o, x) }, Kl.has(x.type) && (g = !0);
    } catch (v) {
      if (a[k] = Yl(k, v), !r) {
        f = k;
        break;
      }
      const b = T ?? c;
      b && Fn(s.serialize()) !== Fn(b) && Zl(s, b);
    }
  }
  if (f >= 0) {
    c && Fn(s.serialize()) !== Fn(c) && Zl(s, c);
    const k = `not applied: command ${f} failed and the patch is atomic (the graph was rolled back)`;
    for (let x = 0; x < n.length; x++)
      x !== f && (a[x] = { index: x, ok: !1, error: { code: "SKIPPED", message: k, index: x } });
    return s.setDirtyCanvas?.(!0, !0), { ok: !1, error: a[f].error.message, results: a, applied: !1 };
  }
  Sp(o), s.setDirtyCanvas?.(!0, !0);
  const p = a.every((k) => k.ok), h = a.find((k) => !k.ok);
  return {
    ok: p,
    error: p ? "" : h.error.message,
    results: a,
    applied: g
  };
}
function Zl(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
const Au = new Float64Array(1), Ql = new Uint32Array(Au.buffer), ec = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
function tc(e) {
  for (let t = 1; t < e.length; t++) if (e[t - 1].id > e[t].id) return [...e].sort((n, s) => n.id - s.id);
  return e;
}
function Op(e) {
  const t = e._links ?? e.links;
  return t ? [...typeof t.values == "function" && !Array.isArray(t) ? t.values() : Object.values(t)].filter((s) => s && s.id != null) : [];
}
function Np(e) {
  let t = -2128831035;
  const n = (l) => {
    t = Math.imul(t ^ l, 16777619);
  }, s = (l) => {
    let c = Number(l);
    (c === 0 || !Number.isFinite(c)) && (c = 0), Au[0] = c, n(Ql[ec]), n(Ql[1 - ec]);
  }, r = (l) => {
    const c = String(l ?? "");
    s(c.length);
    for (let a = 0; a < c.length; a++) n(c.charCodeAt(a));
  }, i = tc(e._nodes ?? e.nodes ?? []);
  s(i.length);
  for (const l of i) {
    s(l.id), r(l.type), s(l.pos?.[0] ?? 0), s(l.pos?.[1] ?? 0), s(l.mode ?? 0);
    const c = l.inputs ?? [];
    s(c.length);
    for (const u of c) s(u?.link > 0 ? u.link : 0);
    const a = l.outputs ?? [];
    s(a.length);
    for (const u of a) {
      const f = (u?.links ?? []).filter((g) => g > 0);
      s(f.length);
      for (const g of f) s(g);
    }
  }
  const o = tc(Op(e));
  s(o.length);
  for (const l of o)
    s(l.id), s(l.origin_id), s(l.origin_slot), s(l.target_id), s(l.target_slot);
  return (t >>> 0).toString(16).padStart(8, "0");
}
function Mp(e) {
  return Array.isArray(e) ? e : e && typeof e == "object" ? [e.id, e.origin_id, e.origin_slot, e.target_id, e.target_slot, e.type] : null;
}
function Lp(e) {
  if (!e || typeof e != "object") return JSON.stringify(e);
  const { order: t, ...n } = e;
  return JSON.stringify(n);
}
function Pp(e) {
  const { nodes: t, links: n, last_node_id: s, last_link_id: r, state: i, ...o } = e;
  return Fn({ ...o, nodes: [] });
}
function Ru(e) {
  if (!e || typeof e != "object" || !Array.isArray(e.nodes)) return null;
  const t = /* @__PURE__ */ new Map();
  for (const s of e.nodes) s && s.id != null && t.set(s.id, Lp(s));
  const n = /* @__PURE__ */ new Map();
  for (const s of Array.isArray(e.links) ? e.links : []) {
    const r = Mp(s);
    r && r[0] != null && n.set(r[0], JSON.stringify(r));
  }
  return { nodes: t, links: n, rest: Pp(e) };
}
function nc(e, t, n) {
  if (!e) return null;
  const s = Ru(t);
  if (!s || s.rest !== e.rest) return null;
  const r = [];
  for (const c of t.nodes)
    !c || c.id == null || e.nodes.get(c.id) !== s.nodes.get(c.id) && r.push(JSON.stringify(c));
  const i = [...e.nodes.keys()].filter((c) => !s.nodes.has(c)), o = [];
  for (const [c, a] of s.links) {
    const u = e.links.get(c);
    if (u === void 0) o.push(a);
    else if (u !== a) return null;
  }
  const l = [...e.links.keys()].filter((c) => !s.links.has(c));
  return {
    nodes_json: r,
    removed_node_ids: i,
    links_json: o,
    removed_link_ids: l,
    last_node_id: Number(n.state?.lastNodeId ?? n.last_node_id ?? t.last_node_id ?? 0),
    last_link_id: Number(n.state?.lastLinkId ?? n.last_link_id ?? t.last_link_id ?? 0),
    digest: Np(n)
  };
}
function $p(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function sc(e, t) {
  const n = $p(e);
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
const jp = 1e3, Bp = 1500, zp = 120, Up = 480 * 1024, Si = "the tab has switched to another workflow; this canvas is no longer open in it", Wp = 200, Jp = 50, qp = 1e4, Hp = 1e3, Vp = 128, Di = 1024 * 1024 - 1024, Gp = 16;
function Kp(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function Ti(e, t) {
  const n = String(t || "workflow"), s = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${s}~${Kp(n)}`.slice(0, Vp);
}
function Xp(e, t = Up) {
  if (!e || typeof e != "object") return "";
  const n = /* @__PURE__ */ new Set(["tooltip", "description", "output_tooltips", "search_aliases", "python_module"]), s = (i) => {
    if (Array.isArray(i)) return i.map(s);
    if (i && typeof i == "object") {
      const o = {};
      for (const l of Object.keys(i)) n.has(l) || (o[l] = s(i[l]));
      return o;
    }
    return i;
  }, r = JSON.stringify(s(e));
  return new TextEncoder().encode(r).length <= t ? r : "";
}
function Yp(e, t = () => Math.random().toString(36).slice(2, 10)) {
  const n = "comfyd.tabId";
  let s = null;
  try {
    s = e?.getItem(n);
  } catch {
    s = null;
  }
  if (!s || !/^[a-z0-9]{4,16}$/.test(s)) {
    s = t();
    try {
      e?.setItem(n, s);
    } catch {
    }
  }
  return s;
}
class Zp {
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
    const s = t.extra && typeof t.extra == "object" ? t.extra : {}, r = s.comfyd && typeof s.comfyd == "object" ? s.comfyd : {};
    t.extra = { ...s, comfyd: { ...r, provenance: JSON.parse(JSON.stringify(n)) } };
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), Bp), this.connect());
  }
  stop() {
    this.stopped = !0, this.t.clearInterval(this.pollTimer), this.t.clearTimeout(this.reconnectTimer), this.t.clearTimeout(this.debounceTimer), this.closeSocket(1e3, "tab closed");
  }
  setStatus(t) {
    this.status = t, this.onStatus?.(t);
  }
  closeSocket(t, n) {
    const s = this.socket;
    if (this.socket = null, this.attached = !1, s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(t, n);
      } catch {
      }
    }
  }
  scheduleReconnect() {
    if (this.stopped || this.reconnectTimer) return;
    const t = fo(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Jp : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, Wp);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = Xp(await this.d.objectInfo?.());
      } catch (s) {
        this.log("warn", `comfyd: cannot read /object_info (${s?.message ?? s})`);
      }
    try {
      t = await this.d.connection.get();
    } catch (s) {
      this.log("warn", `comfyd: no connection info yet (${s?.message ?? s})`), this.d.connection.invalidate?.(), this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    let n;
    try {
      n = new this.d.WebSocket(mu(t, "/comfy/editor/ws"), _u(t));
    } catch (s) {
      this.log("warn", `comfyd: cannot open the editor socket (${s?.message ?? s})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (s?.code === jp) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = Ti(this.d.tabId, this.workflowKey()), this.reported(t), this.tabRevision += 1;
    const n = {
      type: "attach",
      canvas_id: this.canvasId,
      title: this.title(),
      workflow_json: JSON.stringify(t),
      object_info_json: this.objectInfoJson ?? "",
      focused: this.focused,
      tab_revision: this.tabRevision
    };
    this.d.preview && (n.can_preview = !0), this.send(n) || (n.object_info_json = "", this.send(n));
  }
  send(t) {
    const n = this.socket;
    if (!n || n.readyState !== 1) return !1;
    const s = JSON.stringify(t);
    return s.length > Di && new TextEncoder().encode(s).length > Di ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(s), !0);
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
          this.attached = !0, this.attempt = 0, this.replaced = !1, this.revision = Number(n.revision) || 0, this.setStatus("attached"), this.d.onLeases?.({ leases: [] }), this.checkEdits();
          return;
        case "patch":
          return this.enqueue(() => this.handlePatch(n));
        case "queue":
          return this.enqueue(() => this.handleQueue(n));
        case "load":
          return this.enqueue(() => this.handleLoad(n));
        case "resync":
          return this.enqueue(() => this.resync(n));
        case "preview":
          return this.handlePreview(n);
        case "report_ack":
          Number.isFinite(Number(n.revision)) && (this.revision = Number(n.revision)), n.provenance_json && dp(this.graph(), n.provenance_json) && this.untrackProvenance();
          return;
        case "lease_update":
          this.d.onLeases?.(n);
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
    return Ti(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  /** Shows a preview and answers the user's decision (false when the tab
   * cannot show one, has switched workflows, or the deadline passed). */
  async handlePreview(t) {
    const n = this.d.preview;
    let s = !1;
    if (n && !this.switchedAway())
      try {
        s = await n.show(t);
      } catch (r) {
        this.log("error", `comfyd: the preview failed: ${r?.message ?? r}`);
      }
    this.send({ type: "preview_decision", request_id: t.request_id, accepted: !!s });
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: Si, results: [], workflow_json: "", tab_revision: this.tabRevision });
    const n = {
      graph: this.graph(),
      LiteGraph: this.d.LiteGraph,
      canvas: this.d.app.canvas,
      keepOnClear: this.d.isPanelNode,
      view: () => this.view(),
      log: this.log
    };
    let s;
    this.busy++;
    try {
      s = sc(this.d.app, () => Ip(n, t));
    } catch (l) {
      s = { ok: !1, error: `the patch failed: ${l?.message ?? l}`, results: [] };
    } finally {
      this.busy--;
    }
    const r = this.serialize();
    let i = null;
    try {
      i = nc(this.baseline, r, this.graph());
    } catch {
      i = null;
    }
    this.reported(r), this.tabRevision += 1;
    const o = {
      type: "patch_result",
      request_id: t.request_id,
      ok: !!s.ok,
      error: s.error ?? "",
      results: (s.results ?? []).filter(Boolean).map(Qp),
      tab_revision: this.tabRevision,
      provenance_revision: ql(this.graph())
    };
    this.answered.set(String(t.request_id), o), this.answered.size > Gp && this.answered.delete(this.answered.keys().next().value), i && this.send({ ...o, delta: i }) ? this.patchDeltasSent++ : i || this.send({ ...o, workflow_json: JSON.stringify(r) });
  }
  /** The visible part of the canvas in canvas units ([x, y, w, h]), where
   * nodes created without coordinates go when it is free; null when the
   * canvas has no size yet. */
  view() {
    const t = this.d.app.canvas, n = t?.ds, s = t?.canvas, r = n?.visible_area;
    if (r && r[2] > 0 && r[3] > 0) return [r[0], r[1], r[2], r[3]].map(Number);
    if (!n || !s || !n.scale || !s.width || !s.height) return null;
    const i = globalThis.devicePixelRatio || 1, o = (s.clientWidth || s.width / i) / n.scale, l = (s.clientHeight || s.height / i) / n.scale;
    return [-n.offset[0], -n.offset[1], o, l];
  }
  async handleQueue(t) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: Si, prompt_id: "", number: 0 });
    if (t.prompt_only) return this.handlePromptOnly(t);
    const { app: n, api: s } = this.d, r = [];
    let i = "";
    const o = s.queuePrompt;
    s.queuePrompt = async function(...a) {
      try {
        const u = await o.apply(this, a);
        return r.push(u), u;
      } catch (u) {
        throw i = ic(u), u;
      }
    };
    try {
      const a = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, a);
    } catch (a) {
      i = i || ic(a);
    } finally {
      s.queuePrompt = o;
    }
    const l = r[r.length - 1], c = !!l?.prompt_id && !i;
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
    const { app: n } = this.d, s = n.rootGraph ?? n.graph, r = { type: "queue_result", request_id: t.request_id, prompt_id: "", number: 0 };
    if (typeof n.graphToPrompt != "function")
      return this.send({ ...r, ok: !1, error: "this frontend has no graphToPrompt" });
    let i;
    try {
      rc(s, "beforeQueued");
      const o = await n.graphToPrompt(s);
      if (i = { prompt_json: JSON.stringify(o?.output ?? null), workflow_json: JSON.stringify(o?.workflow ?? null) }, !o?.output || typeof o.output != "object") throw new Error("graphToPrompt returned no prompt");
      rc(s, "afterQueued");
    } catch (o) {
      return this.send({ ...r, ok: !1, error: `cannot convert the workflow: ${String(o?.message ?? o).slice(0, 1e3)}` });
    }
    if (i.prompt_json.length + i.workflow_json.length > Di)
      return this.send({ ...r, ok: !1, error: "the workflow is too large to hand over" });
    this.send({ ...r, ok: !0, error: "", ...i });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: Si, workflow_json: "", tab_revision: this.tabRevision });
    let n, s = !1, r = "";
    try {
      if (n = JSON.parse(t.workflow_json), !n || typeof n != "object" || !Array.isArray(n.nodes)) throw new Error("not a workflow");
    } catch (o) {
      r = `cannot load: ${o?.message ?? o}`;
    }
    if (!r) {
      this.busy++;
      try {
        if (t.undo_step) {
          const o = this.d.app.rootGraph ?? this.d.app.graph;
          sc(this.d.app, () => o.configure(n));
        } else
          await this.d.app.loadGraphData(n, !0, !0, this.activeWorkflow() ?? void 0);
        s = !0;
      } catch (o) {
        r = `loading failed: ${o?.message ?? o}`;
      } finally {
        this.busy--;
      }
    }
    const i = this.serialize();
    this.reported(i), this.tabRevision += 1, this.send({
      type: "load_result",
      request_id: t.request_id,
      ok: s,
      error: r,
      workflow_json: s ? JSON.stringify(i) : "",
      tab_revision: this.tabRevision
    });
  }
  // ---- the user's edits and focus ----
  /** Called on graphChanged: a burst becomes one check. */
  graphChanged() {
    this.t.clearTimeout(this.debounceTimer), this.debounceTimer = this.t.setTimeout(() => {
      this.debounceTimer = null, this.checkEdits();
    }, zp);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < qp || this.d.app.configuringGraph) return;
    if (Ti(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const s = Fn(n);
    if (s === this.lastSig) return;
    let r = null;
    try {
      r = nc(this.baseline, n, this.graph());
    } catch {
      r = null;
    }
    this.reported(n, s), this.tabRevision += 1;
    const i = ql(this.graph());
    r && this.send({ type: "user_edit", delta: r, tab_revision: this.tabRevision, provenance_revision: i }) ? this.deltasSent++ : r || this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision });
  }
  /** The workflow the core now has from this tab: edits are found, and
   * their deltas taken, against it. */
  reported(t, n = Fn(t)) {
    this.lastSig = n, this.baseline = Ru(t);
  }
  /** The core could not use a delta: it gets the whole workflow, in the
   * answer to that patch again (request_id names it; the patch is still in
   * flight there) or, after a user edit (request_id 0), in a user_edit. */
  resync(t) {
    if (this.resyncs++, !this.attached) return;
    const n = String(t.request_id ?? 0), s = n === "0" ? null : this.answered.get(n);
    if (n !== "0" && !s) {
      this.log("warn", `comfyd: a resync for request ${n.slice(0, 40)}, which this tab no longer holds`);
      return;
    }
    let r;
    try {
      r = this.serialize();
    } catch {
      return;
    }
    if (this.reported(r), s) return this.send({ ...s, workflow_json: JSON.stringify(r), tab_revision: this.tabRevision });
    this.tabRevision += 1, this.send({ type: "user_edit", workflow_json: JSON.stringify(r), tab_revision: this.tabRevision });
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
    if (!(this.focused && t - this.focusSentAt < Hp)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function rc(e, t) {
  const n = e?._nodes ?? e?.nodes ?? [];
  for (const s of n) for (const r of s.widgets ?? []) r[t]?.();
}
function ic(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, s = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${s.length ? ` (nodes ${s.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function Qp(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const eg = 80, tg = 220, oc = 90, ng = 12;
function yt(e) {
  return e == null ? null : typeof e == "object" ? e.id !== void 0 ? `id:${Number(e.id)}` : e.ref !== void 0 ? `ref:${e.ref}` : null : typeof e == "string" && !/^\d+$/.test(e) ? `ref:${e}` : `id:${Number(e)}`;
}
function sg(e) {
  let t = 0, n = 1 / 0;
  for (const s of e?._nodes ?? [])
    t = Math.max(t, Number(s.pos?.[0] ?? 0) + Number(s.size?.[0] ?? 0)), n = Math.min(n, Number(s.pos?.[1] ?? 0));
  return { right: t, top: Number.isFinite(n) ? n : 0 };
}
function rg(e, t, n = {}) {
  const s = { ghosts: [], links: [], widgets: [], removed: [], unlinked: [], moved: [], other: [], lines: [] };
  s.requested_by = String(t?.requested_by ?? ""), s.deadline_ms = Number(t?.deadline_ms ?? 0), s.destructive = Array.isArray(t?.destructive) && t.destructive.length > 0;
  const r = (t?.expected_node_ids ?? []).map(Number), i = sg(e);
  let o = 0;
  const l = (a) => a && a.startsWith("id:") ? e?.getNodeById?.(Number(a.slice(3))) : null, c = (a) => {
    const u = l(a);
    if (u) return `#${u.id} ${u.title ?? u.type}`;
    const f = s.ghosts.find((g) => g.key === a || `id:${g.id}` === a);
    return f ? `new ${f.type}` : String(a);
  };
  for (const a of t?.commands ?? []) {
    let u;
    try {
      u = xu(a);
    } catch {
      s.other.push(a);
      continue;
    }
    switch (u.type) {
      case "create_node": {
        const f = r[o] ?? null, p = Number.isFinite(u.x) && Number.isFinite(u.y) ? [u.x, u.y] : [i.right + eg, i.top + o * (oc + 40)];
        s.ghosts.push({ key: u.ref !== void 0 && u.ref !== "" ? `ref:${u.ref}` : `id:${f}`, id: f, type: u.node_type, title: u.title || u.node_type, pos: p, size: [tg, oc], widgets: u.widgets ?? {} }), s.lines.push(`+ ${u.node_type}${u.title ? ` "${u.title}"` : ""}`), o++;
        break;
      }
      case "connect":
        s.links.push({ from: yt(u.from_id), from_slot: u.from_slot, to: yt(u.to_id), to_slot: u.to_slot }), s.lines.push(`+ link ${c(yt(u.from_id))} → ${c(yt(u.to_id))}`);
        break;
      case "set_widget": {
        const f = yt(u.node_id), g = l(f), p = s.ghosts.find((k) => k.key === f);
        if (p) {
          p.widgets = { ...p.widgets, [u.name]: u.value };
          break;
        }
        const h = g?.widgets?.find((k) => k.name === u.name);
        s.widgets.push({ node_id: g ? g.id : f, name: u.name, from: h ? h.value : void 0, to: u.value }), s.lines.push(`~ ${c(f)}.${u.name}: ${JSON.stringify(h ? h.value : null)} → ${JSON.stringify(u.value)}`);
        break;
      }
      case "remove_node": {
        const f = l(yt(u.node_id));
        f && s.removed.push(f.id), s.lines.push(`− ${c(yt(u.node_id))}`);
        break;
      }
      case "disconnect": {
        const f = l(yt(u.node_id));
        s.unlinked.push({ node_id: f ? f.id : null, slot: u.slot }), s.lines.push(`− link into ${c(yt(u.node_id))} (${JSON.stringify(u.slot)})`);
        break;
      }
      case "clear_graph":
        for (const f of e?._nodes ?? []) n.keepOnClear?.(f) || s.removed.push(f.id);
        s.lines.push("− every node (clear)");
        break;
      case "move_node": {
        const f = l(yt(u.node_id));
        f && s.moved.push({ node_id: f.id, pos: [u.x, u.y] }), s.lines.push(`↦ ${c(yt(u.node_id))}`);
        break;
      }
      default:
        s.other.push(u), s.lines.push(`${u.type}`);
    }
  }
  return s;
}
function lc(e, t, n) {
  const s = typeof t == "number" ? t : Math.max(0, (n ? e.outputs : e.inputs)?.findIndex((i) => i.name === t) ?? 0);
  return [Number(e.pos[0]) + (n ? Number(e.size[0]) : 0), Number(e.pos[1]) + 14 + s * 20];
}
class ig {
  constructor(t) {
    this.d = t, this.t = t.timers ?? globalThis, this.current = null;
  }
  get active() {
    return this.current !== null;
  }
  show(t) {
    this.dismiss(!1);
    const n = this.d.app?.graph ?? this.d.app?.canvas?.graph, s = rg(n, t, { keepOnClear: this.d.isPanelNode });
    return new Promise((r) => {
      const i = { msg: t, desc: s, resolve: r, el: null, timer: null, prevDraw: null };
      this.current = i;
      const o = s.deadline_ms ? s.deadline_ms - Date.now() : 0;
      o > 0 && (i.timer = this.t.setTimeout(() => this.finish(i, !1), o)), this.hookCanvas(i), i.el = this.bar(i);
    });
  }
  /** Ends the preview on screen (e.g. the tab switched workflows). */
  dismiss(t = !1) {
    this.current && this.finish(this.current, t);
  }
  decide(t) {
    this.current && this.finish(this.current, !!t);
  }
  finish(t, n) {
    if (this.current !== t) return;
    this.current = null, t.timer && this.t.clearTimeout(t.timer), t.el?.remove();
    const s = this.d.app?.canvas;
    s && (s.onDrawForeground = t.prevDraw, s.setDirty?.(!0, !0)), t.resolve(n);
  }
  hookCanvas(t) {
    const n = this.d.app?.canvas;
    if (!n) return;
    t.prevDraw = n.onDrawForeground ?? null;
    const s = this;
    n.onDrawForeground = function(r, i) {
      t.prevDraw && t.prevDraw.call(this, r, i), s.current === t && og(r, n.graph ?? s.d.app.graph, t.desc);
    }, n.setDirty?.(!0, !0);
  }
  bar(t) {
    const n = this.d.document ?? globalThis.document;
    if (!n?.createElement) return null;
    const s = n.createElement("div");
    s.className = "comfyd-preview", s.setAttribute("role", "dialog"), s.setAttribute("aria-label", "comfyd preview"), s.style.cssText = "position:fixed;left:50%;bottom:24px;transform:translateX(-50%);z-index:10000;max-width:560px;background:#1f2330;color:#e8e8e8;border:1px solid #f0b429;border-radius:8px;padding:10px 14px;font:13px/1.4 sans-serif;box-shadow:0 4px 18px rgba(0,0,0,.5)";
    const r = n.createElement("div");
    r.style.cssText = "font-weight:600;margin-bottom:6px", r.textContent = `${t.desc.requested_by || "An agent"} proposes a change${t.desc.destructive ? " that removes work" : ""}`, s.appendChild(r);
    const i = n.createElement("ul");
    i.style.cssText = "margin:0 0 8px 16px;padding:0;max-height:180px;overflow:auto";
    const o = t.desc.lines.slice(0, ng);
    t.desc.lines.length > o.length && o.push(`… and ${t.desc.lines.length - o.length} more`);
    for (const a of o) {
      const u = n.createElement("li");
      u.textContent = a, i.appendChild(u);
    }
    s.appendChild(i);
    const l = n.createElement("div");
    l.style.cssText = "display:flex;gap:8px;justify-content:flex-end";
    const c = (a, u, f, g) => {
      const p = n.createElement("button");
      return p.type = "button", p.className = u, p.textContent = a, p.style.cssText = `background:${g};color:#fff;border:0;border-radius:5px;padding:5px 14px;cursor:pointer`, p.addEventListener("click", () => this.finish(t, f)), l.appendChild(p), p;
    };
    return c("Reject", "comfyd-preview-reject", !1, "#8a2c2c"), c("Accept", "comfyd-preview-accept", !0, "#2c7a3f"), s.appendChild(l), (n.body ?? n.documentElement)?.appendChild(s), s;
  }
}
function og(e, t, n) {
  const s = (i) => {
    if (i?.startsWith?.("id:")) {
      const l = t?.getNodeById?.(Number(i.slice(3)));
      if (l) return { node: l };
    }
    const o = n.ghosts.find((l) => l.key === i || `id:${l.id}` === i);
    return o ? { ghost: o } : null;
  };
  e.save();
  for (const i of n.removed) {
    const o = t?.getNodeById?.(i);
    if (!o) continue;
    const [l, c] = o.pos, [a, u] = o.size;
    e.fillStyle = "rgba(20,20,20,0.6)", e.fillRect(l, c - 30, a, u + 30), e.strokeStyle = "#d9534f", e.lineWidth = 3, e.beginPath(), e.moveTo(l, c - 30), e.lineTo(l + a, c + u), e.stroke();
  }
  const r = /* @__PURE__ */ new Map();
  for (const i of n.widgets) r.set(i.node_id, [...r.get(i.node_id) ?? [], i]);
  for (const [i, o] of r) {
    const l = t?.getNodeById?.(Number(i));
    l && (e.strokeStyle = "#f0b429", e.lineWidth = 3, e.strokeRect(l.pos[0] - 4, l.pos[1] - 34, l.size[0] + 8, l.size[1] + 38), e.fillStyle = "#f0b429", e.font = "12px sans-serif", o.forEach((c, a) => e.fillText(`${c.name} → ${JSON.stringify(c.to)}`, l.pos[0], l.pos[1] - 40 - 14 * a)));
  }
  e.setLineDash([8, 6]);
  for (const i of n.ghosts)
    e.fillStyle = "rgba(80,160,255,0.15)", e.fillRect(i.pos[0], i.pos[1] - 30, i.size[0], i.size[1] + 30), e.strokeStyle = "#50a0ff", e.lineWidth = 2, e.strokeRect(i.pos[0], i.pos[1] - 30, i.size[0], i.size[1] + 30), e.fillStyle = "#9cc8ff", e.font = "14px sans-serif", e.fillText(`+ ${i.title}`, i.pos[0] + 8, i.pos[1] - 10);
  e.strokeStyle = "#50a0ff";
  for (const i of n.links) {
    const o = s(i.from), l = s(i.to);
    if (!o || !l) continue;
    const c = o.node ? lc(o.node, i.from_slot, !0) : [o.ghost.pos[0] + o.ghost.size[0], o.ghost.pos[1] + 14], a = l.node ? lc(l.node, i.to_slot, !1) : [l.ghost.pos[0], l.ghost.pos[1] + 14];
    e.beginPath(), e.moveTo(c[0], c[1]), e.bezierCurveTo(c[0] + 60, c[1], a[0] - 60, a[1], a[0], a[1]), e.stroke();
  }
  e.restore();
}
const cc = "rgba(110, 160, 255, 0.8)", ac = 40, lg = 256, lr = 6;
function Fi(e) {
  const t = String(e ?? "");
  return t.length > ac ? `${t.slice(0, ac - 1)}…` : t;
}
function cg(e) {
  switch (String(e?.kind ?? "").replace(/^ACTOR_KIND_/, "").toLowerCase()) {
    case "skill":
      return `skill ${Fi(e.skill)}`;
    case "mcp":
      return e.name ? `MCP ${Fi(e.name)}` : "an MCP client";
    case "grpc":
      return e.name ? Fi(e.name) : "a caller";
    default:
      return "someone";
  }
}
function ag(e, t, n = 0) {
  const s = /* @__PURE__ */ new Map();
  if (!Array.isArray(e)) return s;
  for (const r of e.slice(0, lg)) {
    if (!r || typeof r != "object" || !Array.isArray(r.node_ids)) continue;
    const i = Number(r.expires_ms) - n;
    if (!Number.isFinite(i) || i <= t) continue;
    const o = `leased by ${cg(r.holder)}`;
    for (const l of r.node_ids) {
      const c = Number(l);
      Number.isInteger(c) && c > 0 && !s.has(c) && s.set(c, { label: o, expires: i, leaseId: Number(r.id) });
    }
  }
  return s;
}
function ug(e, t, n, { titleHeight: s = 30, scale: r = 1 } = {}) {
  if (!n.size || !t || typeof t.getNodeById != "function") return 0;
  let i = 0;
  e.save(), e.strokeStyle = cc, e.fillStyle = cc, e.lineWidth = Math.max(1, 1.5 / (r || 1)), typeof e.setLineDash == "function" && e.setLineDash([6, 4]), e.font = "12px sans-serif";
  for (const [o, l] of n) {
    const c = t.getNodeById(o);
    if (!c || !c.pos || !c.size) continue;
    const a = !!c.flags?.collapsed, u = Number(a ? c._collapsed_width ?? c.size[0] : c.size[0]), f = a ? 0 : Number(c.size[1]), g = Number(c.pos[0]) - lr, p = Number(c.pos[1]) - s - lr;
    e.strokeRect(g, p, u + 2 * lr, f + s + 2 * lr), e.fillText(l.label, g, p - 4), i++;
  }
  return e.restore(), i;
}
function fg({ app: e, LiteGraph: t, timers: n = globalThis, now: s = () => Date.now() }) {
  let r = [], i = 0, o = null, l = null;
  const c = () => ag(r, s(), i), a = () => e.canvas?.setDirty?.(!0, !0), u = () => {
    o && n.clearTimeout(o), o = null;
    let p = 1 / 0;
    for (const h of c().values()) p = Math.min(p, h.expires);
    p !== 1 / 0 && (o = n.setTimeout(() => {
      o = null, a(), u();
    }, Math.max(0, p - s()) + 50));
  }, f = (p) => {
    const h = e.canvas, k = e.rootGraph ?? e.graph;
    !h || h.graph && h.graph !== k || ug(p, k, c(), { titleHeight: t?.NODE_TITLE_HEIGHT ?? 30, scale: h.ds?.scale ?? 1 });
  }, g = () => {
    const p = e.canvas;
    if (!p || l === p) return;
    const h = p.onDrawForeground;
    p.onDrawForeground = function(k, x) {
      typeof h == "function" && h.call(this, k, x), f(k);
    }, l = p;
  };
  return {
    update(p) {
      g(), r = Array.isArray(p?.leases) ? p.leases : [];
      const h = Number(p?.now_ms);
      i = Number.isFinite(h) && h > 0 ? h - s() : 0, u(), a();
    },
    nodes: c,
    remove() {
      o && n.clearTimeout(o), o = null, r = [], a();
    }
  };
}
const dg = 600, uc = 64;
function cr(e) {
  const t = String(e ?? "");
  return t.length > uc ? `${t.slice(0, uc - 1)}…` : t;
}
function hg(e) {
  switch (e?.kind) {
    case "skill":
      return `skill ${cr(e.skill)} (session ${cr(e.session_id).slice(0, 8)})`;
    case "mcp":
      return e.name ? `MCP client ${cr(e.name)}` : "an MCP client";
    case "grpc":
      return e.name ? `caller ${cr(e.name)}` : "an unnamed caller";
    case "user":
      return "the user";
    case "load":
      return "a loaded workflow";
    default:
      return "someone unknown";
  }
}
function pg(e) {
  const t = Math.max(0, Math.round(Number(e) / 1e3));
  return !Number.isFinite(t) || t < 45 ? "just now" : t < 3600 ? `${Math.round(t / 60)} min ago` : t < 86400 ? `${Math.round(t / 3600)} h ago` : `${Math.round(t / 86400)} d ago`;
}
function gg(e, t, n = Date.now()) {
  if (!e || typeof e != "object" || !e.nodes || typeof e.nodes != "object") return null;
  const s = e.nodes[String(t)];
  if (!s || typeof s != "object") return null;
  const r = Array.isArray(e.actors) ? e.actors : [], i = (c) => `${hg(r[c.by])}, ${pg(n - Number(c.at))} (revision ${c.rev})`, o = [`Last changed by ${i(s)}`], l = s.created;
  return l && typeof l == "object" && (l.by !== s.by || l.rev !== s.rev) && o.push(`Created by ${i(l)}`), o;
}
function mg({ app: e, document: t, timers: n = globalThis, now: s = () => Date.now() }) {
  const r = t.createElement("div");
  r.className = "comfyd-provenance-tip", Object.assign(r.style, {
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
  }), t.body.appendChild(r);
  let i = null, o = null;
  const l = () => {
    i && n.clearTimeout(i), i = null, o = null, r.style.display = "none";
  }, c = (g, p) => {
    const h = g.canvas?.getBoundingClientRect?.();
    return h && typeof g.ds?.convertCanvasToOffset == "function" ? g.ds.convertCanvasToOffset([p.clientX - h.left, p.clientY - h.top]) : g.graph_mouse ?? null;
  }, a = (g) => {
    const p = e.canvas, h = e.rootGraph ?? e.graph, k = p?.graph ?? h;
    if (k !== h) return null;
    const x = c(p, g);
    return !k || !x || typeof k.getNodeOnPos != "function" ? null : k.getNodeOnPos(x[0], x[1]) ?? null;
  }, u = (g, p) => {
    const h = e.rootGraph ?? e.graph, k = gg(h?.extra?.comfyd?.provenance, o, s());
    if (!k) {
      r.style.display = "none";
      return;
    }
    r.textContent = k.join(`
`), r.style.left = `${g + 14}px`, r.style.top = `${p + 14}px`, r.style.display = "block";
  }, f = (g) => {
    if (!e.canvas || g.target !== e.canvas.canvas || g.buttons) return l();
    const p = a(g);
    if (!p) return l();
    if (p.id === o) {
      i || u(g.clientX, g.clientY);
      return;
    }
    l(), o = p.id;
    const h = g.clientX, k = g.clientY;
    i = n.setTimeout(() => {
      i = null, u(h, k);
    }, dg);
  };
  return t.addEventListener("pointermove", f, { passive: !0 }), t.addEventListener("pointerdown", l, !0), () => {
    l(), t.removeEventListener("pointermove", f), t.removeEventListener("pointerdown", l, !0), r.remove();
  };
}
const go = 200, _g = 16, yg = 256, bg = /* @__PURE__ */ new Set(["succeeded", "failed", "interrupted", "cancelled", "unknown"]), is = (e) => bg.has(e);
function os(e) {
  let t = String(e ?? "").toLowerCase();
  return t.startsWith("run_status_") && (t = t.slice(11)), t || "unspecified";
}
const et = (e) => {
  const t = Number(e);
  return Number.isFinite(t) ? t : 0;
};
function wg(e, t) {
  if (!e) return !0;
  const n = et(e.seq), s = et(t.seq);
  return n && s ? s > n : !(is(os(e.status)) && !is(os(t.status)));
}
function kg(e) {
  const t = Object.keys(e.runs);
  if (t.length <= go) return;
  const n = t.map((s) => e.runs[s]).sort((s, r) => Number(is(os(r.status))) - Number(is(os(s.status))) || et(s.queued_at_ms) - et(r.queued_at_ms));
  for (const s of n.slice(0, t.length - go))
    delete e.runs[s.prompt_id], delete e.runTurns[s.prompt_id];
}
function Eu(e, t, { workingTurn: n = 0 } = {}) {
  if (!t || typeof t != "object" || typeof t.prompt_id != "string" || !t.prompt_id || t.session_id && e.sessionId && t.session_id !== e.sessionId) return !1;
  const s = t.prompt_id;
  return wg(e.runs[s], t) ? (e.runs[s] = t, !e.runTurns[s] && n && !is(os(t.status)) && (e.runTurns[s] = n), kg(e), !0) : !1;
}
function vg(e) {
  let t;
  try {
    t = typeof e == "string" ? JSON.parse(e) : e;
  } catch {
    return "";
  }
  if (!t || typeof t != "object") return "";
  const n = (s) => typeof s == "string" && s ? s : "";
  return n(t.run?.prompt_id) || n(t.prompt_id) || (Array.isArray(t.prompt_ids) ? n(t.prompt_ids.at(-1)) : "");
}
function xg(e, t, n) {
  const s = vg(n), r = Number(t) || 0;
  return !s || !r || e.runTurns[s] === r ? !1 : (e.runTurns[s] = r, !0);
}
function Ag(e, t) {
  const n = e.runTurns[t.prompt_id];
  if (n && e.turns.some((o) => o.id === n)) return n;
  const s = et(t.queued_at_ms), r = e.turns.filter((o) => !o.pending);
  if (!r.length) return 0;
  if (!s) return r.at(-1).id;
  let i = 0;
  for (const o of r) {
    if (!o.createdAt || o.createdAt > s) continue;
    i = o.id;
    const l = o.order.map((a) => o.replies[a]).filter((a) => a.final && a.createdAt);
    if ((l.length === o.order.length && l.length > 0 ? Math.max(...l.map((a) => a.createdAt)) : 1 / 0) >= s) return o.id;
  }
  return i || r[0].id;
}
function Rg(e) {
  const t = {}, n = Object.values(e.runs).sort((s, r) => et(s.queued_at_ms) - et(r.queued_at_ms) || et(s.number) - et(r.number));
  for (const s of n) {
    const r = Ag(e, s);
    (t[r] ??= []).push(s);
  }
  return t;
}
function Eg(e, t = () => "") {
  const n = os(e.status), s = (a, u) => String(u || t(String(a)) || (a ? `#${a}` : "")), r = {
    id: e.prompt_id,
    short: String(e.prompt_id).slice(0, 8),
    status: n,
    final: is(n),
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
  if (r.done = i.size, e.executing_node && !r.final) {
    const a = String(e.executing_node);
    r.node = { id: a, title: s(a) };
    const u = (e.progress ?? []).find((f) => String(f.node_id) === a);
    u && et(u.max) > 0 && (r.value = et(u.value), r.max = et(u.max), r.percent = Math.max(0, Math.min(100, Math.round(100 * r.value / r.max))));
  }
  for (const a of e.node_errors ?? [])
    r.errors.push({
      nodeId: String(a.node_id ?? ""),
      title: s(a.node_id, a.title),
      input: String(a.input_name ?? ""),
      message: [a.message, a.details].filter(Boolean).join(": ")
    });
  const o = e.execution_error;
  o && (o.node_id || o.exception_message || o.exception_type) && r.errors.push({
    nodeId: String(o.node_id ?? ""),
    title: s(o.node_id, o.title),
    input: "",
    message: [o.exception_type, o.exception_message].filter(Boolean).join(": ")
  }), !r.errors.length && (e.prompt_error || n === "failed" && e.reason) && r.errors.push({ nodeId: "", title: "", input: "", message: String(e.prompt_error || e.reason) });
  for (const a of e.outputs ?? [])
    (a.files ?? []).forEach((u, f) => {
      r.outputs.length >= _g || u.kind && u.kind !== "images" || /\.(png|jpe?g|webp|gif)$/i.test(String(u.filename ?? "")) && r.outputs.push({ nodeId: String(a.node_id), index: f, filename: String(u.filename), kind: String(u.kind ?? "images") });
    });
  const l = et(e.started_at_ms), c = et(e.ended_at_ms);
  return l && c >= l && (r.seconds = (c - l) / 1e3), r;
}
function fc(e, t, n, s = 0) {
  const r = s ? `?max_side=${s}` : "";
  return `/comfyd/runs/${encodeURIComponent(e)}/outputs/${encodeURIComponent(t)}/${n}${r}`;
}
const dc = 500, hc = 200;
function cn(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function Cu() {
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
function Cg(e) {
  let t = null;
  for (const n of e.summaries) (!t || n.coversTo > t.coversTo) && (t = n);
  return t;
}
function Su(e, t = "") {
  Object.assign(e, Cu(), { sessionId: t });
}
function pc(e, t) {
  const n = Number(t) || 0;
  for (let s = e.turns.length - 1; s >= 0; s--) if (e.turns[s].id === n) return e.turns[s];
  return null;
}
function Qn(e, t) {
  let n = pc(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let s = e.turns.length;
  for (; s > 0 && e.turns[s - 1].id > n.id; ) s--;
  return e.turns.splice(s, 0, n), e.turns.length > hc && e.turns.splice(0, e.turns.length - hc), pc(e, n.id) ?? n;
}
function br(e, t) {
  const n = t || "comfyd";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function Vn(e, t) {
  e.logs.push(t), e.logs.length > dc && e.logs.splice(0, e.logs.length - dc);
}
function $o(e) {
  return Array.isArray(e) ? e.filter((t) => t && typeof t == "object" && /^[0-9a-f]{64}$/.test(String(t.sha256 ?? ""))).map((t) => ({
    sha256: String(t.sha256),
    name: String(t.name ?? ""),
    mime: String(t.mime_type ?? ""),
    size: Number(t.size) || 0,
    width: Number(t.width) || 0,
    height: Number(t.height) || 0
  })) : [];
}
function gc(e, t) {
  if (!t || typeof t != "object") return;
  const n = cn(t.role, "ROLE_"), s = cn(t.state, "MESSAGE_STATE_");
  if (cn(t.kind, "MESSAGE_KIND_") === "summary") {
    const r = Number(t.id) || 0;
    e.summaries.some((i) => i.id === r) || e.summaries.push({ id: r, coversTo: Number(t.covers_to) || 0, content: String(t.content ?? "") });
    return;
  }
  if (n === "user") {
    const r = Qn(e, t.id);
    r.content = String(t.content ?? ""), r.attachments = $o(t.attachments), r.state = s, r.error = String(t.error ?? ""), r.createdAt = Number(t.created_at_ms) || r.createdAt || 0, r.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const r = Qn(e, t.turn_id), i = br(r, t.skill);
    i.id = Number(t.id) || i.id || 0, i.content = String(t.content ?? ""), i.state = s || "done", i.error = String(t.error ?? ""), i.createdAt = Number(t.created_at_ms) || i.createdAt || 0, i.final = !0;
  }
}
function mc(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = cn(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function Du(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function Sg(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, s = t.data && typeof t.data == "object" ? t.data : {}, r = Du(t);
  if (s.session_id && e.sessionId && s.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (r && r < e.lastSeq) return !1;
    const i = e.logs, o = { runs: e.runs, runTurns: e.runTurns }, l = e.turns.filter((a) => a.pending), c = s.session?.id ?? e.sessionId;
    Su(e, c), e.logs = i;
    for (const [a, u] of Object.entries(o.runs))
      (!u.session_id || u.session_id === e.sessionId) && (e.runs[a] = u, o.runTurns[a] && (e.runTurns[a] = o.runTurns[a]));
    mc(e, s.session), s.status !== void 0 && (e.status = cn(s.status, "SESSION_STATUS_") || e.status);
    for (const a of Array.isArray(s.history) ? s.history : []) gc(e, a);
    for (const a of Array.isArray(s.partials) ? s.partials : []) {
      const u = br(Qn(e, a.turn_id), a.skill);
      u.final || (u.content = String(a.content ?? ""), u.next = Number(a.delta_count) || 0, u.state = "streaming");
    }
    return e.lastSeq = r || e.lastSeq, e.needsResync = !1, e.turns.push(...l), !0;
  }
  if (n === "run_update") return Eu(e, s.run, { workingTurn: e.status === "working" ? e.workingTurn : 0 });
  if (["created", "configured", "sessions", "skills", "ack", "cancelled", "forked", "revert_result"].includes(n))
    return n === "configured" && s.session && mc(e, s.session), !1;
  if (r) {
    if (r <= e.lastSeq) return !1;
    e.lastSeq = r;
  }
  switch (n) {
    case "status_update": {
      if (e.status = cn(s.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(s.detail ?? ""), e.queuedTurns = Number(s.queued_turns) || 0, e.workingTurn = e.status === "working" ? Number(s.turn_id) || e.workingTurn : 0, e.status === "idle")
        for (const i of e.turns)
          for (const o of i.order) i.replies[o].state === "streaming" && (i.replies[o].state = "done");
      return !0;
    }
    case "stream_delta": {
      const i = Qn(e, s.turn_id), o = br(i, s.skill), l = Number(s.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(s.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return gc(e, s.message), !0;
    case "debug_log":
      return Vn(e, {
        seq: r,
        level: cn(s.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(s.module ?? ""),
        skill: String(s.skill ?? ""),
        message: String(s.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(s.code ?? ""), message: String(s.message ?? ""), skill: String(s.skill ?? "") }, s.turn_id) {
        const i = Qn(e, s.turn_id);
        if (s.skill) {
          const o = br(i, s.skill);
          o.error = e.lastError.message, o.final || (o.state = s.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return Vn(e, { seq: r, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return s.config && (e.config = s.config), typeof s.title == "string" && (e.title = s.title), !0;
    case "tool_call":
      return Vn(e, { seq: r, level: "INFO", module: "tool", skill: String(s.skill ?? ""), message: `${s.name ?? "tool"}(${String(s.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return xg(e, s.turn_id, s.result_json), Vn(e, { seq: r, level: s.ok ? "INFO" : "WARN", module: "tool", skill: String(s.skill ?? ""), message: `${s.call_id ?? ""} -> ${String(s.result_json ?? "").slice(0, 300)}` }), !0;
    case "reverted": {
      const i = Number(s.to_message_id) || 0;
      if (!i) return !1;
      e.turns = e.turns.filter((l) => l.pending || l.id <= i);
      for (const l of e.turns)
        for (const c of [...l.order])
          (l.replies[c].id || 0) > i && (delete l.replies[c], l.order.splice(l.order.indexOf(c), 1));
      e.summaries = e.summaries.filter((l) => l.id <= i);
      const o = Array.isArray(s.restored) ? s.restored.map((l) => l.canvas_id).join(", ") : "";
      return Vn(e, { seq: r, level: "INFO", module: "session", skill: "", message: `reverted to message ${i}: ${Number(s.messages_hidden) || 0} later message(s) hidden${o ? `; canvas ${o} restored` : ""}` }), !0;
    }
    case "graph_changed":
      return Vn(e, { seq: r, level: "INFO", module: "graph", skill: "", message: `${s.canvas_id ?? ""} r${s.revision ?? ""}: ${s.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function Dg(e, t, n, s = []) {
  const r = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, attachments: $o(s), state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(r), r;
}
function Tg(e, t, n) {
  const s = e.turns.findIndex((o) => o.pending && o.clientId === t), r = s >= 0 ? e.turns.splice(s, 1)[0] : null;
  if (!n?.id) return;
  const i = Qn(e, n.id);
  i.content || (i.content = String(n.content ?? r?.content ?? "")), i.attachments?.length || (i.attachments = $o(n.attachments ?? r?.attachments)), i.state || (i.state = cn(n.state, "MESSAGE_STATE_"));
}
function _c(e, t) {
  const n = e.turns.find((s) => s.pending && s.clientId === t);
  n && (n.state = "waiting", n.error = "");
}
function Fg(e, t, n) {
  const s = e.turns.find((r) => r.pending && r.clientId === t);
  s && (s.state = "failed", s.error = String(n ?? "not sent"));
}
function ar(e, t = []) {
  const n = [];
  for (const s of t) e.replies[s] && n.push(s);
  for (const s of e.order) n.includes(s) || n.push(s);
  return n.map((s) => e.replies[s]);
}
const Ig = 15e3, Og = /* @__PURE__ */ new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]), Ng = /* @__PURE__ */ new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);
function wr(e) {
  return Ng.has(String(e?.code ?? ""));
}
function hs(e, t) {
  const n = new Error(e);
  return n.code = t, n;
}
class Mg {
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
    this.stopped = !0, this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = null, this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.drop(hs("panel closed", "CLOSED"));
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
    } catch (s) {
      return this.log("warn", `comfyd: no connection info (${s?.message ?? s})`), this.d.onOffline?.(String(s?.message ?? s)), this.d.connection.invalidate?.(), this.retry();
    }
    if (this.stopped) return;
    let n;
    try {
      n = new this.d.WebSocket(mu(t, "/comfy/session/ws"), _u(t));
    } catch {
      return this.retry();
    }
    this.socket = n, n.onopen = () => {
      this.open = !0, this.attempt = 0, this.joined && this.sendJoin(this.joined), this.outage && this.scheduleProbe(0), this.d.onOpen?.();
    }, n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      this.socket === n && (this.open || this.d.onOffline?.(`comfyd-bridge does not answer at ${t.bridgeUrl ?? t.wsBase}`), this.socket = null, this.open = !1, this.drop(hs("connection lost", "DISCONNECTED")), this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.d.onClose?.(s?.code), (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.retry());
    };
  }
  retry() {
    this.stopped || this.reconnectTimer || (this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, fo(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const s = this.nextId++;
    return new Promise((r, i) => {
      if (!this.send({ event: t, data: n, request_id: s })) {
        i(hs("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(s);
        const l = hs(`${t}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(l.message), i(l);
      }, Ig);
      this.pending.set(s, { resolve: r, reject: i, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && Su(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
  }
  sendJoin(t, n = !1) {
    const s = n || this.state.sessionId !== t ? 0 : this.state.lastSeq;
    this.joinFailed = !1, this.joinRid = this.nextId++, this.send({ event: "join", data: { session_id: t, last_seq: s }, request_id: this.joinRid }), this.d.onJoin?.(t);
  }
  onMessage(t) {
    let n;
    try {
      n = JSON.parse(t);
    } catch {
      return;
    }
    if (!n || typeof n != "object") return;
    const s = n.request_id;
    if (s !== void 0 && s === this.joinRid && n.event === "error") {
      const r = String(n.data?.code ?? "join_failed"), i = String(n.data?.message ?? "");
      if (Og.has(r)) {
        this.state.lastError = { code: r, message: i, skill: "" }, this.d.onChange?.();
        return;
      }
      this.joinFailed = !0, this.coreAway(i || r);
      return;
    }
    if (s !== void 0 && this.pending.has(s)) {
      const r = this.pending.get(s);
      if (this.pending.delete(s), this.t.clearTimeout(r.timer), n.event === "error") {
        const i = hs(n.data?.message ?? "request failed", n.data?.code ?? "error");
        wr(i) ? this.coreAway(i.message) : this.coreBack(), r.reject(i);
      } else
        this.coreBack(), r.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    Du(n) && n.event !== "error" && this.coreBack(), Sg(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
  /** The core is away: say so once, and probe it with backoff. */
  coreAway(t) {
    this.stopped || (this.outage || (this.outage = String(t || "core unavailable"), this.probeAttempt = 0, this.log("warn", `comfyd: core unavailable (${this.outage}); reconnecting`), this.d.onOutage?.(this.outage)), this.scheduleProbe());
  }
  scheduleProbe(t) {
    if (this.stopped || this.probeTimer || !this.open) return;
    const n = t ?? fo(this.probeAttempt++);
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
const Tu = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), Lg = Object.freeze(["echo", "openai"]), Ii = "workflow-builder", yc = 64 * 1024, Oi = 4096, Pg = 64 * 1024, bc = 8, wc = 3 << 20, jo = Object.freeze(["image/png", "image/jpeg", "image/webp", "image/gif", "text/plain", "text/markdown", "application/json"]), $g = { md: "text/markdown", markdown: "text/markdown", json: "application/json", txt: "text/plain", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };
function jg(e) {
  const t = String(e?.type ?? "").toLowerCase();
  if (jo.includes(t)) return t;
  const n = String(e?.name ?? "").toLowerCase().split(".").pop();
  return $g[n] ?? t;
}
let Bg = 0;
function zg(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let kc = 0;
function Ug() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return kc += 1, `panel-${e}-${kc}`;
}
function vc(e) {
  const t = {
    provider: String(e.provider || "echo"),
    model: String(e.model ?? ""),
    base_url: String(e.base_url ?? ""),
    system_prompt: String(e.system_prompt ?? "")
  };
  return Array.isArray(e.active_skills) && (t.skills = e.active_skills.map(String)), t;
}
function xc(e, t) {
  return Array.isArray(e) || Array.isArray(t) ? JSON.stringify(e) === JSON.stringify(t) : e === t;
}
class Wg {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value),
   *        app? (the ComfyUI app: node titles, selecting a node),
   *        getJson?(path) (GET on ComfyUI's own server, same origin),
   *        apiUrl?(path) (the URL of such a path, for <img>)}
   */
  constructor(t) {
    this.d = t, this.creatingSession = null, this.settingsQueue = Promise.resolve();
    const n = t.reactive ?? ((s) => s);
    this.state = n(Cu()), this.ui = n({
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
    }), this.outbox = [], this.client = new Mg({
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
      onOffline: (s) => {
        this.ui.offlineReason = s;
      },
      onOutage: (s) => {
        this.ui.outage = s;
      },
      onRecovered: () => this.onRecovered(),
      onJoin: (s) => this.refreshRuns(s)
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
      skills: zg(n.skills)
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
      const s = await this.client.request("user_message", n);
      t.sid === this.state.sessionId && Tg(this.state, t.cid, s.message);
    } catch (n) {
      wr(n) && !this.client.stopped ? (_c(this.state, t.cid), this.outbox.push(t)) : Fg(this.state, t.cid, n.message);
    }
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = vc(t), s = this.coreConfig?.sid === this.state.sessionId ? this.coreConfig.values : null, r = this.ui.form;
    for (const [i, o] of Object.entries(n))
      !(s && !xc(r[i], s[i])) && !xc(r[i], o) && (r[i] = o, this.d.writeConfig(i, i === "skills" ? o.join(",") : o));
    this.coreConfig = { sid: this.state.sessionId, values: n };
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`), this.tickDefaultSkill();
    } catch (t) {
      wr(t) || (this.ui.notice = `skills: ${t.message}`);
    }
  }
  /** A panel without a session and without a chosen skill starts with the
   * default skill ticked (when the core has it). */
  tickDefaultSkill() {
    const t = this.ui.form;
    t.session_id || t.skills.length || this.skillsChosen || this.ui.skills.some((n) => n.name === Ii) && (t.skills = [Ii], this.d.writeConfig("skills", Ii));
  }
  async refreshSessions() {
    try {
      const t = await this.client.request("list", { page_size: 50 });
      this.ui.sessions = (t.sessions ?? []).map((n) => ({ id: String(n.id), title: String(n.title || n.id) }));
    } catch (t) {
      wr(t) || (this.ui.notice = `sessions: ${t.message}`);
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, Oi),
      model: t.model.slice(0, Oi),
      base_url: t.base_url.slice(0, Oi),
      system_prompt: t.system_prompt.slice(0, Pg)
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
      const s = await this.client.request("create", n);
      this.ui.apiKey = "";
      const r = s.session?.id;
      if (!r) throw new Error("the core answered without a session id");
      this.coreConfig = { sid: String(r), values: vc(n.config) }, this.selectSession(String(r)), await this.refreshSessions();
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
      this.ui.searchHits = (n.hits ?? []).map((s) => ({
        key: `${s.kind}:${s.id}`,
        sessionId: String(s.session_id ?? ""),
        title: String(s.session_title || s.session_id || "memory"),
        kind: String(s.kind ?? ""),
        snippet: String(s.snippet ?? "")
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
    const s = new Set(this.ui.form.skills);
    n ? s.add(t) : s.delete(t);
    const r = this.ui.skills.map((o) => o.name), i = [...r.filter((o) => s.has(o)), ...[...s].filter((o) => !r.includes(o))];
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
    const n = Array.from(t ?? []), s = [];
    for (const r of n) {
      const i = jg(r), o = { key: `att-${++Bg}`, name: String(r.name || (i.startsWith("image/") ? "pasted image" : "file")), mime: i, size: Number(r.size) || 0, state: "uploading", error: "", sha256: "", preview: "" };
      if (this.ui.attachments.length >= bc) {
        this.ui.notice = `at most ${bc} files per message`;
        break;
      }
      if (!jo.includes(i))
        o.state = "failed", o.error = `${i || "this type"} is not accepted (PNG, JPEG, WebP, GIF, text, Markdown, JSON)`;
      else if (o.size > wc)
        o.state = "failed", o.error = `larger than ${wc >> 20} MiB`;
      else if (i.startsWith("image/") && globalThis.URL?.createObjectURL)
        try {
          o.preview = URL.createObjectURL(r);
        } catch {
          o.preview = "";
        }
      this.ui.attachments.push(o), o.state === "uploading" && s.push(this.upload(r, o.key));
    }
    await Promise.all(s);
  }
  async upload(t, n) {
    const s = () => this.ui.attachments.find((r) => r.key === n);
    try {
      if (!this.d.postBytes) throw new Error("uploads are not available here");
      const r = s(), o = (await this.d.postBytes(`/comfyd/attachments?name=${encodeURIComponent(r?.name ?? "")}`, t, r?.mime ?? ""))?.attachment ?? {}, l = s();
      if (!l) return;
      l.sha256 = String(o.sha256 ?? ""), l.mime = String(o.mime_type ?? l.mime), l.state = l.sha256 ? "ready" : "failed", l.sha256 || (l.error = "the upload gave no hash");
    } catch (r) {
      const i = s();
      i && (i.state = "failed", i.error = r.message);
    }
  }
  removeAttachment(t) {
    const n = this.ui.attachments.findIndex((r) => r.key === t);
    if (n < 0) return;
    const [s] = this.ui.attachments.splice(n, 1);
    s.preview && globalThis.URL?.revokeObjectURL && URL.revokeObjectURL(s.preview);
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
    if (t.length > yc) {
      this.ui.notice = `a message is at most ${yc} characters`;
      return;
    }
    await this.settingsStep(() => {
    }), this.ui.form.session_id || await this.createSession();
    const s = this.ui.form.session_id;
    if (!s) return;
    this.ui.draft = "";
    const r = n.map((o) => ({ sha256: o.sha256, name: o.name, mime_type: o.mime }));
    for (const o of [...this.ui.attachments]) this.removeAttachment(o.key);
    const i = { cid: Ug(), sid: s, content: t, attachments: r };
    if (Dg(this.state, i.cid, t, r), this.client.outage) {
      _c(this.state, i.cid), this.outbox.push(i);
      return;
    }
    await this.deliver(i);
  }
  /** The runs of the session as the core has them (after a join: run
   * updates are live only). A core without --comfyui has none. */
  async refreshRuns(t) {
    if (!(!this.d.getJson || !t))
      try {
        const n = await this.d.getJson(`/comfyd/runs?session_id=${encodeURIComponent(t)}&page_size=${Math.min(100, go)}`);
        if (t !== this.state.sessionId) return;
        for (const s of Array.isArray(n?.runs) ? n.runs : []) Eu(this.state, s);
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
    const s = String(t), r = (i) => n.getNodeById(/^\d+$/.test(i) ? Number(i) : i) ?? null;
    return r(s) ?? (s.includes(":") ? r(s.split(":")[0]) : null);
  }
  titleOf(t) {
    const n = this.nodeOf(t);
    return n ? String(n.title || n.type || "") : "";
  }
  /** Selects and centres a node on the canvas (the failing one). */
  focusNode(t) {
    const n = this.nodeOf(t), s = this.d.app?.canvas;
    return !n || !s ? (this.ui.notice = `node ${t} is not on this canvas`, !1) : (typeof s.selectNode == "function" ? s.selectNode(n, !1) : typeof s.selectItems == "function" && s.selectItems([n]), typeof s.centerOnNode == "function" && s.centerOnNode(n), s.setDirty?.(!0, !0), this.ui.notice = "", !0);
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
        const s = await this.client.request("fork", { session_id: n, message_id: t }), r = s.session?.id;
        if (!r) throw new Error("the core answered without a session id");
        this.selectSession(String(r)), await this.refreshSessions(), this.ui.notice = `forked into "${s.session.title}" (${Number(s.messages_copied) || 0} message(s) copied)`;
      } catch (s) {
        this.ui.notice = `fork: ${s.message}`;
      }
  }
  /**
   * Takes the session back to this message (RevertSession): later
   * messages are hidden; with canvas, the canvas goes back to its
   * checkpoint too. A canvas the user changed since is refused with the
   * list of changes (staleRevert) until asked again with force.
   */
  async revertTo(t, { canvas: n = !1, force: s = !1 } = {}) {
    const r = this.ui.form.session_id;
    if (!(!r || !t)) {
      this.ui.staleRevert = null;
      try {
        const i = await this.client.request("revert", { session_id: r, message_id: t, restore_canvas: n, force: s });
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
const mo = "ComfydAgentPanel", Ac = "comfyd-panel-style", Rc = Object.freeze([440, 560]), Jg = 320, Ni = (e) => e?.comfyClass === mo || e?.type === mo;
function qg(e, t) {
  if (e.getElementById(Ac)) return;
  const n = e.createElement("style");
  n.id = Ac, n.textContent = t, e.head.appendChild(n);
}
function Hg(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function Vg(e) {
  for (const [t, n] of Tu) {
    let s = (e.widgets ?? []).find((r) => r.name === t);
    s || (s = e.addWidget("text", t, n, () => {
    }, {})), Hg(s);
  }
}
function Gg(e) {
  const t = {};
  for (const [n, s] of Tu) {
    const i = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof i == "string" ? i : s;
  }
  return t;
}
function Kg(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: s } = t;
  qg(s, t.css), Vg(e);
  const r = (g, p) => {
    const h = (e.widgets ?? []).find((k) => k.name === g);
    !h || h.value === p || (h.value = p, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, i = new Wg({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => Gg(e),
    writeConfig: r,
    app: n,
    getJson: t.getJson,
    apiUrl: t.apiUrl,
    postBytes: t.postBytes
  }), o = s.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: i });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const g = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => Jg,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    g.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  const c = () => {
    (Array.isArray(e.size) || ArrayBuffer.isView(e.size)) && e.setSize?.([Math.max(e.size[0], Rc[0]), Math.max(e.size[1], Rc[1])]);
  };
  c();
  let a = !1;
  const u = e.onConfigure;
  e.onConfigure = function(...g) {
    a = !0;
    const p = u?.apply(this, g);
    return i.reloadConfig(), p;
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
function Ec(e, t) {
  (t == null || t > e.length) && (t = e.length);
  for (var n = 0, s = Array(t); n < t; n++) s[n] = e[n];
  return s;
}
function Xg(e) {
  if (Array.isArray(e)) return e;
}
function Yg(e, t) {
  var n = e == null ? null : typeof Symbol < "u" && e[Symbol.iterator] || e["@@iterator"];
  if (n != null) {
    var s, r, i, o, l = [], c = !0, a = !1;
    try {
      if (i = (n = n.call(e)).next, t !== 0) for (; !(c = (s = i.call(n)).done) && (l.push(s.value), l.length !== t); c = !0) ;
    } catch (u) {
      a = !0, r = u;
    } finally {
      try {
        if (!c && n.return != null && (o = n.return(), Object(o) !== o)) return;
      } finally {
        if (a) throw r;
      }
    }
    return l;
  }
}
function Zg() {
  throw new TypeError(`Invalid attempt to destructure non-iterable instance.
In order to be iterable, non-array objects must have a [Symbol.iterator]() method.`);
}
function Qg(e, t) {
  return Xg(e) || Yg(e, t) || em(e, t) || Zg();
}
function em(e, t) {
  if (e) {
    if (typeof e == "string") return Ec(e, t);
    var n = {}.toString.call(e).slice(8, -1);
    return n === "Object" && e.constructor && (n = e.constructor.name), n === "Map" || n === "Set" ? Array.from(e) : n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n) ? Ec(e, t) : void 0;
  }
}
const Fu = Object.entries, tm = Object.keys, Cc = Object.setPrototypeOf, nm = Object.isFrozen, Iu = Object.getPrototypeOf, Ou = Object.getOwnPropertyDescriptor;
let Je = Object.freeze, Pe = Object.seal, sn = Object.create, Nu = typeof Reflect < "u" && Reflect, Ir = Nu.apply, _o = Nu.construct;
Je || (Je = function(t) {
  return t;
});
Pe || (Pe = function(t) {
  return t;
});
Ir || (Ir = function(t, n) {
  for (var s = arguments.length, r = new Array(s > 2 ? s - 2 : 0), i = 2; i < s; i++) r[i - 2] = arguments[i];
  return t.apply(n, r);
});
_o || (_o = function(t) {
  for (var n = arguments.length, s = new Array(n > 1 ? n - 1 : 0), r = 1; r < n; r++) s[r - 1] = arguments[r];
  return new t(...s);
});
const Bt = Oe(Array.prototype.forEach), sm = Oe(Array.prototype.lastIndexOf), Sc = Oe(Array.prototype.pop), ps = Oe(Array.prototype.push), rm = Oe(Array.prototype.slice), im = Oe(Array.prototype.splice), es = Array.isArray, Mi = Mu(Set), Li = Oe(Set.prototype.add), gs = Oe(Set.prototype.has), En = Oe(String.prototype.toLowerCase), Pi = Oe(String.prototype.toString), om = Oe(String.prototype.match), ur = Oe(String.prototype.replace), $i = Oe(String.prototype.indexOf), lm = Oe(String.prototype.trim), cm = Oe(Number.prototype.toString), am = Oe(Boolean.prototype.toString), Dc = typeof BigInt > "u" ? null : Oe(BigInt.prototype.toString), Tc = typeof Symbol > "u" ? null : Oe(Symbol.prototype.toString), Xe = Oe(Object.prototype.hasOwnProperty), ms = Oe(Object.prototype.toString), um = RegExp.prototype.test, Ue = function(t, n) {
  return t instanceof RegExp && (t.lastIndex = 0), Ir(um, t, [n]);
}, zt = Mu(TypeError);
function Oe(e) {
  return function(t) {
    for (var n = arguments.length, s = new Array(n > 1 ? n - 1 : 0), r = 1; r < n; r++) s[r - 1] = arguments[r];
    return Ir(e, t, s);
  };
}
function Mu(e) {
  return function() {
    for (var t = arguments.length, n = new Array(t), s = 0; s < t; s++) n[s] = arguments[s];
    return _o(e, n);
  };
}
function be(e, t) {
  let n = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : En;
  if (Cc && Cc(e, null), !es(t)) return e;
  let s = t.length;
  for (; s--; ) {
    let r = t[s];
    if (typeof r == "string") {
      const i = n(r);
      i !== r && (nm(t) || (t[s] = i), r = i);
    }
    e[r] = !0;
  }
  return e;
}
function fm(e) {
  for (let t = 0; t < e.length; t++) Xe(e, t) || (e[t] = null);
  return e;
}
function Or(e) {
  const t = sn(null);
  for (const s of Fu(e)) {
    var n = Qg(s, 2);
    const r = n[0], i = n[1];
    Xe(e, r) && (es(i) ? t[r] = fm(i) : i && typeof i == "object" && i.constructor === Object ? t[r] = Or(i) : t[r] = i);
  }
  return t;
}
function ws(e) {
  const t = sn(null), n = tm(e);
  let s = n.length;
  for (; s--; ) t[n[s]] = e[n[s]];
  return t;
}
function dm(e) {
  switch (typeof e) {
    case "string":
      return e;
    case "number":
      return cm(e);
    case "boolean":
      return am(e);
    case "bigint":
      return Dc ? Dc(e) : "0";
    case "symbol":
      return Tc ? Tc(e) : "Symbol()";
    case "undefined":
      return ms(e);
    case "function":
    case "object": {
      if (e === null) return ms(e);
      const t = e, n = ft(t, "toString");
      if (typeof n == "function") {
        const s = n(t);
        return typeof s == "string" ? s : ms(s);
      }
      return ms(e);
    }
    default:
      return ms(e);
  }
}
function ft(e, t) {
  for (; e !== null; ) {
    const s = Ou(e, t);
    if (s) {
      if (s.get) return Oe(s.get);
      if (typeof s.value == "function") return Oe(s.value);
    }
    e = Iu(e);
  }
  function n() {
    return null;
  }
  return n;
}
function hm(e, t) {
  for (; e !== null; ) {
    const n = Ou(e, t);
    if (n) return n.get ? Oe(n.get) : null;
    e = Iu(e);
  }
  return null;
}
function pm(e) {
  if (!e) return !1;
  try {
    return Ue(e, ""), !0;
  } catch {
    return !1;
  }
}
const Fc = Je([
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
]), ji = Je([
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
]), Bi = Je([
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
]), gm = Je([
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
]), zi = Je([
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
]), mm = Je([
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
]), Ic = Je(["#text"]), Oc = Je([
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
]), Ui = Je([
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
]), Nc = Je([
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
]), fr = Je([
  "xlink:href",
  "xml:id",
  "xlink:title",
  "xml:space",
  "xmlns:xlink"
]), _m = Pe(/{{[\w\W]*|^[\w\W]*}}/g), ym = Pe(/<%[\w\W]*|^[\w\W]*%>/g), bm = Pe(/\${[\w\W]*/g), wm = Pe(/{{|}}|\${|<%|%>|&lt;%|%&gt;/), km = Pe(/^data-[\-\w.\u00B7-\uFFFF]+$/), vm = Pe(/^aria-[\-\w]+$/), Mc = Pe(/^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i), xm = Pe(/^(?:\w+script|data):/i), Am = Pe(/[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g), Rm = Pe(/^html$/i), Em = Pe(/^[a-z][.\w]*(-[.\w]+)+$/i), Wi = Pe(/<[/\w!]/g), Lc = Pe(/<[/\w]/g), Cm = Pe(/<\/no(script|embed|frames)/i), Pc = Pe(/\/>/i), Sm = Pe(/((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i), Dm = Pe(/^[\r\n\t ]+/), Me = {
  element: 1,
  text: 3,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentFragment: 11
}, Tm = Je(be({}, [
  "style",
  "script",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "plaintext",
  "noscript"
])), Fm = function() {
  return typeof window > "u" ? null : window;
}, Im = function(t, n) {
  if (typeof t != "object" || typeof t.createPolicy != "function") return null;
  let s = null;
  const r = "data-tt-policy-suffix";
  n && n.hasAttribute(r) && (s = n.getAttribute(r));
  const i = "dompurify" + (s ? "#" + s : "");
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
}, $c = function() {
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
}, en = function(t, n, s, r) {
  return Xe(t, n) && es(t[n]) ? be(r.base ? ws(r.base) : {}, t[n], r.transform) : s;
}, Ji = function(t, n, s) {
  const r = Xe(t, n) ? t[n] : void 0;
  return r && typeof r == "object" ? Or(r) : s;
};
function Lu() {
  let e = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : Fm();
  const t = (O) => Lu(O);
  if (t.version = "3.4.18", t.removed = [], !e || !e.document || e.document.nodeType !== Me.document || !e.Element)
    return t.isSupported = !1, t;
  let n = e.document;
  const s = n, r = s.currentScript, i = e.HTMLTemplateElement, o = e.Node, l = e.Element, c = e.NodeFilter, a = e.DOMParser, u = e.trustedTypes, f = l.prototype, g = ft(f, "cloneNode"), p = ft(f, "remove"), h = ft(f, "removeAttributeNode"), k = ft(f, "nextSibling"), x = ft(f, "childNodes"), T = ft(f, "parentNode"), v = ft(f, "shadowRoot"), b = ft(f, "attributes"), w = o && o.prototype ? ft(o.prototype, "nodeType") : null, F = o && o.prototype ? ft(o.prototype, "nodeName") : null, B = o && o.prototype ? ft(o.prototype, "ownerDocument") : null, $ = function(d) {
    return w ? w(d) : d.nodeType;
  }, ee = function(d) {
    return F ? F(d) : d.nodeName;
  }, Y = hm(f, "namespaceURI"), ue = function(d) {
    return Y ? Y(d) : d.namespaceURI;
  };
  if (typeof i == "function") {
    const O = n.createElement("template");
    O.content && O.content.ownerDocument && (n = O.content.ownerDocument);
  }
  let ne, de = "", De, ke = !1, xe = 0;
  const at = function() {
    if (xe > 0) throw zt('A configured TRUSTED_TYPES_POLICY callback (createHTML or createScriptURL) must not call DOMPurify.sanitize, as that causes infinite recursion. Do not pass a policy whose callbacks wrap DOMPurify as TRUSTED_TYPES_POLICY; see the "DOMPurify and Trusted Types" section of the README.');
  }, W = function(d) {
    at(), xe++;
    try {
      return ne.createHTML(d);
    } finally {
      xe--;
    }
  }, re = function(d) {
    return ne && Gr ? W(d) : d;
  }, le = function(d) {
    at(), xe++;
    try {
      return ne.createScriptURL(d);
    } finally {
      xe--;
    }
  }, me = function() {
    return ke || (De = Im(u, r), ke = !0), De;
  }, J = n, R = J.implementation, C = J.createNodeIterator, X = J.createDocumentFragment, ut = J.getElementsByTagName, pn = s.importNode;
  let Ae = $c();
  t.isSupported = typeof Fu == "function" && typeof T == "function" && R && R.createHTMLDocument !== void 0;
  const Vs = _m, gn = ym, qo = bm, m = km, _ = vm, A = xm, P = Am, S = Em;
  let I = Mc, M = null;
  const j = be({}, [
    ...Fc,
    ...ji,
    ...Bi,
    ...zi,
    ...Ic
  ]);
  let N = null;
  const D = be({}, [
    ...Oc,
    ...Ui,
    ...Nc,
    ...fr
  ]);
  let V = null, z = null, Z = null;
  const te = Object.seal(sn(null, {
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
  let he = !0, _e = !0, ye = !1, Te = !0, Re = !1, $e = !0, Be = !1, ot = !1, mn = null, ze = null, nt = !1, Pt = !1, _n = !1, Gr = !1, Ho = !0, Vo = !1;
  const Go = "user-content-";
  let Kr = !0, Xr = !1, yn = null, jn = !1, bn = null;
  const Ko = be({}, [
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
  let Xo = null;
  const Yo = be({}, [
    "audio",
    "video",
    "img",
    "source",
    "image",
    "track"
  ]);
  let Zo = null;
  const Qo = be({}, [
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
  ]), Gs = "http://www.w3.org/1998/Math/MathML", Ks = "http://www.w3.org/2000/svg", At = "http://www.w3.org/1999/xhtml";
  let Bn = At, Yr = !1, el = null;
  const gf = be({}, [
    Gs,
    Ks,
    At
  ], Pi), mf = Je(be({}, [
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext"
  ]));
  let Zr = null;
  const _f = Je(be({}, ["annotation-xml"]));
  let Qr = null;
  const yf = Je(sn(null)), bf = be({}, [
    "title",
    "style",
    "font",
    "a",
    "script"
  ]);
  let as = null;
  const wf = ["application/xhtml+xml", "text/html"], kf = "text/html";
  let Ne = null, Xs = null;
  const vf = n.createElement("form"), tl = function(d) {
    return d instanceof RegExp || d instanceof Function;
  }, ei = function() {
    let d = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    (!d || typeof d != "object") && (d = {}), d = Or(d), as = wf.indexOf(d.PARSER_MEDIA_TYPE) === -1 ? kf : d.PARSER_MEDIA_TYPE, Ne = as === "application/xhtml+xml" ? Pi : En, M = en(d, "ALLOWED_TAGS", j, { transform: Ne }), N = en(d, "ALLOWED_ATTR", D, { transform: Ne }), el = en(d, "ALLOWED_NAMESPACES", gf, { transform: Pi }), Zo = en(d, "ADD_URI_SAFE_ATTR", Qo, {
      transform: Ne,
      base: Qo
    }), Xo = en(d, "ADD_DATA_URI_TAGS", Yo, {
      transform: Ne,
      base: Yo
    }), bn = en(d, "FORBID_CONTENTS", Ko, { transform: Ne }), z = en(d, "FORBID_TAGS", sn(null), { transform: Ne }), Z = en(d, "FORBID_ATTR", sn(null), { transform: Ne }), jn = Xe(d, "USE_PROFILES") ? d.USE_PROFILES && typeof d.USE_PROFILES == "object" ? Or(d.USE_PROFILES) : d.USE_PROFILES : !1, he = d.ALLOW_ARIA_ATTR !== !1, _e = d.ALLOW_DATA_ATTR !== !1, ye = d.ALLOW_UNKNOWN_PROTOCOLS || !1, Te = d.ALLOW_SELF_CLOSE_IN_ATTR !== !1, Re = d.SAFE_FOR_TEMPLATES || !1, $e = d.SAFE_FOR_XML !== !1, Be = d.WHOLE_DOCUMENT || !1, Pt = d.RETURN_DOM || !1, _n = d.RETURN_DOM_FRAGMENT || !1, Gr = d.RETURN_TRUSTED_TYPE || !1, nt = d.FORCE_BODY || !1, Ho = d.SANITIZE_DOM !== !1, Vo = d.SANITIZE_NAMED_PROPS || !1, Kr = d.KEEP_CONTENT !== !1, Xr = d.IN_PLACE || !1, I = pm(d.ALLOWED_URI_REGEXP) ? d.ALLOWED_URI_REGEXP : Mc, Bn = typeof d.NAMESPACE == "string" ? d.NAMESPACE : At, Zr = Ji(d, "MATHML_TEXT_INTEGRATION_POINTS", mf), Qr = Ji(d, "HTML_INTEGRATION_POINTS", _f);
    const y = Ji(d, "CUSTOM_ELEMENT_HANDLING", yf);
    if (V = sn(null), Xe(y, "tagNameCheck") && tl(y.tagNameCheck) && (V.tagNameCheck = y.tagNameCheck), Xe(y, "attributeNameCheck") && tl(y.attributeNameCheck) && (V.attributeNameCheck = y.attributeNameCheck), Xe(y, "allowCustomizedBuiltInElements") && typeof y.allowCustomizedBuiltInElements == "boolean" && (V.allowCustomizedBuiltInElements = y.allowCustomizedBuiltInElements), Pe(V), Re && (_e = !1), _n && (Pt = !0), jn && ((Xe(d, "ALLOWED_TAGS") || Xe(d, "ALLOWED_ATTR")) && typeof console < "u" && typeof console.warn == "function" && console.warn("DOMPurify: USE_PROFILES overrides ALLOWED_TAGS and ALLOWED_ATTR. Do not use these options together."), M = be({}, Ic), N = sn(null), jn.html === !0 && (be(M, Fc), be(N, Oc)), jn.svg === !0 && (be(M, ji), be(N, Ui), be(N, fr)), jn.svgFilters === !0 && (be(M, Bi), be(N, Ui), be(N, fr)), jn.mathMl === !0 && (be(M, zi), be(N, Nc), be(N, fr))), te.tagCheck = null, te.attributeCheck = null, Xe(d, "ADD_TAGS") && (typeof d.ADD_TAGS == "function" ? te.tagCheck = d.ADD_TAGS : es(d.ADD_TAGS) && (M === j && (M = ws(M)), be(M, d.ADD_TAGS, Ne))), Xe(d, "ADD_ATTR") && (typeof d.ADD_ATTR == "function" ? te.attributeCheck = d.ADD_ATTR : es(d.ADD_ATTR) && (N === D && (N = ws(N)), be(N, d.ADD_ATTR, Ne))), Xe(d, "ADD_FORBID_CONTENTS") && es(d.ADD_FORBID_CONTENTS) && (bn === Ko && (bn = ws(bn)), be(bn, d.ADD_FORBID_CONTENTS, Ne)), Kr && (M["#text"] = !0), Be && be(M, [
      "html",
      "head",
      "body"
    ]), M.table && (M.tbody = !0, delete z.tbody), d.TRUSTED_TYPES_POLICY) {
      if (typeof d.TRUSTED_TYPES_POLICY.createHTML != "function") throw zt('TRUSTED_TYPES_POLICY configuration option must provide a "createHTML" hook.');
      if (typeof d.TRUSTED_TYPES_POLICY.createScriptURL != "function") throw zt('TRUSTED_TYPES_POLICY configuration option must provide a "createScriptURL" hook.');
      const E = ne;
      ne = d.TRUSTED_TYPES_POLICY;
      try {
        de = W("");
      } catch (L) {
        throw ne = E, L;
      }
    } else d.TRUSTED_TYPES_POLICY === null ? (ne = void 0, de = "") : (ne === void 0 && (ne = me()), ne && typeof de == "string" && (de = W("")));
    Xs = Je(d);
  }, nl = be({}, [
    ...ji,
    ...Bi,
    ...gm
  ]), sl = be({}, [...zi, ...mm]), xf = function(d, y, E) {
    return y === At ? d === "svg" : y === Gs ? d === "svg" && (E === "annotation-xml" || Zr[E]) : !!nl[d];
  }, Af = function(d, y, E) {
    return y === At ? d === "math" : y === Ks ? d === "math" && Qr[E] : !!sl[d];
  }, Rf = function(d, y, E) {
    return y === Ks && !Qr[E] || y === Gs && !Zr[E] ? !1 : !sl[d] && (bf[d] || !nl[d]);
  }, Ef = function(d) {
    const y = ue(d), E = En(ee(d)), L = T(d);
    let Q = Bn, se = "template";
    return L && $(L) === Me.element && (Q = ue(L), se = En(ee(L))), el[y] ? y === Ks ? xf(E, Q, se) : y === Gs ? Af(E, Q, se) : y === At ? Rf(E, Q, se) : as === "application/xhtml+xml" : !1;
  }, Yt = function(d) {
    ps(t.removed, { element: d });
    try {
      T(d).removeChild(d);
    } catch {
      if (p(d), !T(d)) throw zt("a node selected for removal could not be detached from its tree and cannot be safely returned; refusing to sanitize in place");
    }
  }, rl = function(d, y, E) {
    try {
      h(d, y);
    } catch {
      try {
        d.removeAttribute(E);
      } catch {
      }
    }
  }, ti = function(d) {
    ri(d);
    const y = x(d);
    y && Bt(rm(y), (E) => {
      try {
        p(E);
      } catch {
      }
    }), $(d) === Me.element && ni(d, !1);
  }, zn = function(d, y, E) {
    if (!E) try {
      E = y.getAttributeNode(d);
    } catch {
      E = null;
    }
    if (ps(t.removed, {
      attribute: E || null,
      from: y
    }), E) rl(y, E, d);
    else try {
      y.removeAttribute(d);
    } catch {
    }
    if (d === "is")
      if (Pt || _n) try {
        Yt(y);
      } catch {
      }
      else try {
        y.setAttribute(d, "");
      } catch {
      }
  }, ni = function(d, y) {
    const E = b(d);
    if (E)
      for (let L = E.length - 1; L >= 0; --L) {
        const Q = E[L], se = Q && Q.name;
        typeof se == "string" && !(y && N[Ne(se)]) && rl(d, Q, se);
      }
  }, si = function(d, y) {
    let E = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : !1;
    const L = [d];
    for (; L.length > 0; ) {
      const Q = L.pop();
      if (y(Q) === !1) continue;
      if (E && $(Q) === Me.element) {
        const fe = v(Q);
        Un(fe) && L.push(fe);
      }
      const se = x(Q);
      if (se) for (let fe = se.length - 1; fe >= 0; --fe) L.push(se[fe]);
    }
  }, ri = function(d) {
    si(d, (y) => {
      $(y) === Me.element && ni(y, !0);
    });
  }, ii = function(d) {
    const y = [];
    return si(d, (E) => {
      y.push(E);
    }, !0), y;
  }, Cf = function(d, y) {
    const E = Mi();
    Bt(ii(d), (L) => {
      $(L) === Me.element && Li(E, L);
    }), Bt(y, (L) => {
      $(L) === Me.element && !gs(E, L) && ni(L, !0);
    });
  }, il = function(d, y) {
    let E = !1;
    return Bt(t.removed, (L) => {
      L.element && (E = E || L.element === d, ri(L.element));
    }), Cf(d, y), E;
  }, Sf = 8, Df = function(d, y) {
    const E = yn;
    let L = null;
    const Q = () => (L || (L = Mi(), Bt(y, (se) => {
      Li(L, se);
    })), L);
    for (let se = 0; ; se++) {
      const fe = ii(d), je = [d];
      let $t = !1;
      if (Bt(fe, (_t) => {
        $(_t) === Me.documentFragment ? ps(je, _t) : !$t && !gs(E, _t) && ($t = gs(Q(), _t));
      }), !$t) return;
      if (se >= Sf) throw zt("the tree kept changing during in-place sanitization; refusing to return it");
      Bt(je, (_t, lt) => {
        Tf(_t, lt > 0, d, Q());
      });
    }
  }, Tf = function(d, y, E, L) {
    const Q = Ys(d);
    let se;
    for (; se = Q.nextNode(); )
      !gs(L, se) || gs(yn, se) || (y && mt(Ae.uponSanitizeShadowNode, se, null), ai(se, E));
  }, Ff = function(d) {
    yn && Li(yn, d);
  }, ol = function(d, y) {
    return $e ? d === "patchsrc" ? !0 : d === "for" && y !== "label" && y !== "output" : !1;
  }, If = function(d) {
    $e && si(d, (y) => {
      const E = $(y);
      if (E === Me.processingInstruction || E === Me.comment && Ue(Lc, y.data)) {
        try {
          p(y);
        } catch {
        }
        return !1;
      }
      if (E === Me.element) {
        const L = y, Q = Ne(ee(y));
        try {
          L.hasAttribute && L.hasAttribute("patchsrc") && L.removeAttribute("patchsrc"), L.hasAttribute && L.hasAttribute("for") && ol("for", Q) && L.removeAttribute("for");
        } catch {
        }
      }
      return !0;
    });
  }, ll = function(d) {
    let y = null, E = null;
    if (nt) d = "<remove></remove>" + d;
    else {
      const se = om(d, Dm);
      E = se && se[0];
    }
    as === "application/xhtml+xml" && Bn === At && (d = '<html xmlns="http://www.w3.org/1999/xhtml"><head></head><body>' + d + "</body></html>");
    const L = ne ? W(d) : d;
    if (Bn === At) try {
      y = new a().parseFromString(L, as);
    } catch {
    }
    if (!y || !y.documentElement) {
      y = R.createDocument(Bn, "template", null);
      try {
        y.documentElement.innerHTML = Yr ? de : L;
      } catch {
      }
    }
    const Q = y.body || y.documentElement;
    return d && E && Q.insertBefore(n.createTextNode(E), Q.childNodes[0] || null), Bn === At ? ut.call(y, Be ? "html" : "body")[0] : Be ? y.documentElement : Q;
  }, Ys = function(d) {
    let y = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : !1;
    const E = B ? B(d) : d.ownerDocument;
    return C.call(E || d, d, (y ? 0 : c.SHOW_ELEMENT) | c.SHOW_COMMENT | c.SHOW_TEXT | c.SHOW_PROCESSING_INSTRUCTION | c.SHOW_CDATA_SECTION, null);
  }, oi = function(d) {
    return d = ur(d, Vs, " "), d = ur(d, gn, " "), d = ur(d, qo, " "), d;
  }, li = function(d) {
    var y;
    ci(d);
    const E = (y = d.querySelectorAll) === null || y === void 0 ? void 0 : y.call(d, "template");
    E && Bt(E, (L) => {
      Un(L.content) && li(L.content);
    });
  }, ci = function(d) {
    d.normalize();
    const y = Ys(d, !0);
    let E = y.nextNode();
    for (; E; )
      E.data = oi(E.data), E = y.nextNode();
  }, Zs = function(d) {
    const y = F ? F(d) : null;
    return typeof y != "string" || Ne(y) !== "form" ? !1 : typeof d.nodeName != "string" || typeof d.textContent != "string" || typeof d.removeChild != "function" || d.attributes !== b(d) || typeof d.removeAttribute != "function" || typeof d.removeAttributeNode != "function" || typeof d.getAttributeNode != "function" || typeof d.setAttribute != "function" || typeof d.namespaceURI != "string" || typeof d.insertBefore != "function" || typeof d.hasChildNodes != "function" || d.nodeType !== w(d) || d.childNodes !== x(d);
  }, cl = function(d) {
    if (!w || typeof d != "object" || d === null) return null;
    try {
      const y = w(d);
      return typeof y == "number" ? y : null;
    } catch {
      return null;
    }
  }, Un = function(d) {
    return cl(d) === Me.documentFragment;
  }, us = function(d) {
    return cl(d) !== null;
  };
  function mt(O, d, y) {
    O.length !== 0 && Bt(O, (E) => {
      E.call(t, d, y, Xs);
    });
  }
  const Of = function(d, y, E) {
    return !!($e && E === Me.element && d.hasChildNodes() && !us(d.firstElementChild) && Ue(Wi, d.textContent) && Ue(Wi, d.innerHTML) || $e && Tm[y] && E === Me.element && ue(d) === At && (us(d.firstElementChild) || typeof d.textContent == "string" && Ue(Wi, d.textContent)) || E === Me.processingInstruction || $e && E === Me.comment && Ue(Lc, d.data));
  }, Qs = function(d, y) {
    if (d instanceof RegExp) return Ue(d, y);
    if (d instanceof Function) {
      for (var E = arguments.length, L = new Array(E > 2 ? E - 2 : 0), Q = 2; Q < E; Q++) L[Q - 2] = arguments[Q];
      return !!d(y, ...L);
    }
    return !1;
  }, Nf = function(d, y, E) {
    if (!z[y] && fl(y) && Qs(V.tagNameCheck, y)) return !1;
    if (Kr && !bn[y] && !bn[En(y)]) {
      const L = T(d), Q = x(d);
      if (Q && L) {
        const se = Q.length;
        for (let fe = se - 1; fe >= 0; --fe) {
          const je = d === E ? g(Q[fe], !0) : Q[fe];
          L.insertBefore(je, k(d));
        }
      }
    }
    return Yt(d), !0;
  }, al = function(d, y, E, L) {
    return d.length === 0 ? y : y === E || y === L ? ws(y) : y;
  }, Wn = function(d, y) {
    return d === y || T(d) !== null ? !1 : (Xr && ri(d), !0);
  }, Mf = function(d, y) {
    if (Ff(d), mt(Ae.beforeSanitizeElements, d, null), Wn(d, y)) return !0;
    if (Zs(d))
      return Yt(d), !0;
    const E = Ne(ee(d)), L = $(d);
    if (M = al(Ae.uponSanitizeElement, M, j, mn), mt(Ae.uponSanitizeElement, d, {
      tagName: E,
      allowedTags: M
    }), Wn(d, y)) return !0;
    if (Of(d, E, L))
      return Yt(d), !0;
    if (z[E] || !(te.tagCheck instanceof Function && te.tagCheck(E)) && !M[E]) {
      const Q = Nf(d, E, y);
      return Q === !1 && (mt(Ae.afterSanitizeElements, d, null), Wn(d, y)) ? !0 : Q;
    }
    if (L === Me.element && !Ef(d) || (E === "noscript" || E === "noembed" || E === "noframes") && Ue(Cm, d.innerHTML))
      return Yt(d), !0;
    if (Re && L === Me.text) {
      const Q = d.textContent, se = oi(Q);
      Q !== se && (ps(t.removed, { element: d.cloneNode() }), d.textContent = se);
    }
    return mt(Ae.afterSanitizeElements, d, null), Wn(d, y);
  }, ul = function(d, y, E) {
    if (Z[y] || ol(y, d) || Ho && (y === "id" || y === "name") && (E in n || E in vf)) return !1;
    const L = N[y] || te.attributeCheck instanceof Function && te.attributeCheck(y, d);
    if (_e && Ue(m, y) || he && Ue(_, y)) return !0;
    if (!L) return fl(d) && Qs(V.tagNameCheck, d) && Qs(V.attributeNameCheck, y, d) || y === "is" && V.allowCustomizedBuiltInElements && Qs(V.tagNameCheck, E);
    if (Zo[y]) return !0;
    const Q = ur(E, P, "");
    return Ue(I, Q) || (y === "src" || y === "xlink:href" || y === "href") && d !== "script" && $i(E, "data:") === 0 && Xo[d] || ye && !Ue(A, Q) ? !0 : !E;
  }, Lf = be({}, [
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-format",
    "font-face-name",
    "font-face-src",
    "font-face-uri",
    "missing-glyph"
  ]), fl = function(d) {
    return !Lf[En(d)] && Ue(S, d);
  }, Pf = function(d, y, E, L) {
    if (ne && typeof u == "object" && typeof u.getAttributeType == "function" && !E) switch (u.getAttributeType(d, y)) {
      case "TrustedHTML":
        return W(L);
      case "TrustedScriptURL":
        return le(L);
    }
    return L;
  }, $f = function(d, y, E, L) {
    try {
      return E ? d.setAttributeNS(E, y, L) : d.setAttribute(y, L), Zs(d) ? (Yt(d), !1) : !0;
    } catch {
      return zn(y, d), !1;
    }
  }, dl = function(d, y) {
    return $e && Ue(Sm, y) ? !0 : En(d) === "attributename" && $i(y, "href") !== -1;
  }, jf = function(d, y) {
    if (mt(Ae.beforeSanitizeAttributes, d, null), Wn(d, y)) return;
    const E = d.attributes;
    if (!E || Zs(d)) return;
    N = al(Ae.uponSanitizeAttribute, N, D, ze);
    const L = {
      attrName: "",
      attrValue: "",
      keepAttr: !0,
      allowedAttributes: N,
      forceKeepAttr: void 0
    };
    let Q = E.length;
    const se = Ne(ee(d));
    for (; Q--; ) {
      const fe = E[Q], je = fe.name, $t = fe.namespaceURI, _t = fe.value, lt = Ne(je), Rt = _t;
      let qe = je === "value" ? Rt : lm(Rt), hl = !1;
      if (L.attrName = lt, L.attrValue = qe, L.keepAttr = !0, L.forceKeepAttr = void 0, mt(Ae.uponSanitizeAttribute, d, L), qe = L.attrValue, Vo && (lt === "id" || lt === "name") && $i(qe, Go) !== 0 && (zn(je, d, fe), qe = Go + qe, hl = !0), dl(je, qe)) {
        zn(je, d, fe);
        continue;
      }
      if (!L.forceKeepAttr) {
        if (!L.keepAttr) {
          zn(je, d, fe);
          continue;
        }
        if (!Te && Ue(Pc, qe)) {
          zn(je, d, fe);
          continue;
        }
        if (Re && (qe = oi(qe)), !ul(se, lt, qe)) {
          zn(je, d, fe);
          continue;
        }
        qe = Pf(se, lt, $t, qe), qe !== Rt && $f(d, je, $t, qe) && hl && Sc(t.removed);
      }
    }
    mt(Ae.afterSanitizeAttributes, d, null), Wn(d, y);
  }, ai = function(d, y) {
    Mf(d, y), jf(d, y), Un(d.content) && ui(d.content);
  }, ui = function(d) {
    let y = null;
    const E = Ys(d);
    for (mt(Ae.beforeSanitizeShadowDOM, d, null); y = E.nextNode(); )
      if (mt(Ae.uponSanitizeShadowNode, y, null), ai(y, d), $(y) === Me.element) {
        const L = v(y);
        Un(L) && (fi(L), ui(L));
      }
    Re && ci(d), mt(Ae.afterSanitizeShadowDOM, d, null);
  }, fi = function(d) {
    const y = [{
      node: d,
      shadow: null
    }];
    for (; y.length > 0; ) {
      const E = y.pop();
      if (E.shadow) {
        ui(E.shadow);
        continue;
      }
      const L = E.node, Q = $(L) === Me.element, se = x(L);
      if (se) for (let fe = se.length - 1; fe >= 0; --fe) y.push({
        node: se[fe],
        shadow: null
      });
      if (Q) {
        const fe = F ? F(L) : null;
        if (typeof fe == "string" && Ne(fe) === "template") {
          const je = L.content;
          Un(je) && y.push({
            node: je,
            shadow: null
          });
        }
      }
      if (Q) {
        const fe = v(L);
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
  return t.sanitize = function(O) {
    let d = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : {}, y = null, E = null, L = null, Q = null;
    if (Yr = !O, Yr && (O = "<!-->"), typeof O != "string" && !us(O) && (O = dm(O), typeof O != "string"))
      throw zt("dirty is not a string, aborting");
    if (!t.isSupported) return O;
    ot ? (M = mn, N = ze) : ei(d), t.removed = [];
    const se = Xr && typeof O != "string" && us(O);
    let fe = [];
    const je = yn;
    if (se) {
      If(O);
      const Rt = ee(O);
      if (typeof Rt == "string") {
        const qe = Ne(Rt);
        if (!M[qe] || z[qe])
          throw ti(O), zt("root node is forbidden and cannot be sanitized in-place");
      }
      if (Zs(O))
        throw ti(O), zt("root node is clobbered and cannot be sanitized in-place");
      fe = ii(O), yn = Mi();
    } else if (us(O))
      y = ll("<!---->"), E = y.ownerDocument.importNode(O, !0), E.nodeType === Me.element && E.nodeName === "BODY" || E.nodeName === "HTML" ? y = E : y.appendChild(E), fi(y);
    else {
      if (!Pt && !Re && !Be && O.indexOf("<") === -1) return re(O);
      if (y = ll(O), !y) return Pt ? null : Gr ? de : "";
    }
    y && nt && Yt(y.firstChild);
    const $t = se ? O : y;
    try {
      se && fi(O);
      const Rt = Ys($t);
      for (; L = Rt.nextNode(); ) ai(L, $t);
      se && Df(O, fe);
    } catch (Rt) {
      throw se && (ti(O), il(O, fe)), Rt;
    } finally {
      yn = je;
    }
    if (se) {
      if (il(O, fe)) throw zt("a node selected for removal could not be safely returned; refusing to sanitize in place");
      return Re && li(O), O;
    }
    if (Pt) {
      if (Re && li(y), _n)
        for (Q = X.call(y.ownerDocument); y.firstChild; ) Q.appendChild(y.firstChild);
      else Q = y;
      return (N.shadowroot || N.shadowrootmode) && (Q = pn.call(s, Q, !0)), Q;
    }
    const _t = () => Be ? y.outerHTML : y.innerHTML;
    let lt = _t();
    return Re && Ue(wm, lt) && (ci(y), lt = _t()), Be && M["!doctype"] && y.ownerDocument && y.ownerDocument.doctype && y.ownerDocument.doctype.name && Ue(Rm, y.ownerDocument.doctype.name) && (lt = "<!DOCTYPE " + y.ownerDocument.doctype.name + `>
` + lt), re(lt);
  }, t.setConfig = function() {
    let O = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    ei(O), ot = !0, mn = M, ze = N;
  }, t.clearConfig = function() {
    Xs = null, ot = !1, mn = null, ze = null, ne = De, de = "";
  }, t.isValidAttribute = function(O, d, y) {
    Xs || ei({});
    const E = Ne(O), L = Ne(d);
    return typeof y == "string" && (dl(d, y) || !Te && Ue(Pc, y)) ? !1 : ul(E, L, y);
  }, t.addHook = function(O, d) {
    typeof d == "function" && Xe(Ae, O) && ps(Ae[O], d);
  }, t.removeHook = function(O, d) {
    if (Xe(Ae, O)) {
      if (d !== void 0) {
        const y = sm(Ae[O], d);
        return y === -1 ? void 0 : im(Ae[O], y, 1)[0];
      }
      return Sc(Ae[O]);
    }
  }, t.removeHooks = function(O) {
    Xe(Ae, O) && (Ae[O] = []);
  }, t.removeAllHooks = function() {
    Ae = $c();
  }, t;
}
var Om = Lu();
const jc = {};
function Nm(e) {
  let t = jc[e];
  if (t)
    return t;
  t = jc[e] = [];
  for (let n = 0; n < 128; n++) {
    const s = String.fromCharCode(n);
    t.push(s);
  }
  for (let n = 0; n < e.length; n++) {
    const s = e.charCodeAt(n);
    t[s] = "%" + ("0" + s.toString(16).toUpperCase()).slice(-2);
  }
  return t;
}
function ls(e, t) {
  typeof t != "string" && (t = ls.defaultChars);
  const n = Nm(t);
  return e.replace(/(%[a-f0-9]{2})+/gi, function(s) {
    let r = "";
    for (let i = 0, o = s.length; i < o; i += 3) {
      const l = parseInt(s.slice(i + 1, i + 3), 16);
      if (l < 128) {
        r += n[l];
        continue;
      }
      if ((l & 224) === 192 && i + 3 < o) {
        const c = parseInt(s.slice(i + 4, i + 6), 16);
        if ((c & 192) === 128) {
          const a = l << 6 & 1984 | c & 63;
          a < 128 ? r += "��" : r += String.fromCharCode(a), i += 3;
          continue;
        }
      }
      if ((l & 240) === 224 && i + 6 < o) {
        const c = parseInt(s.slice(i + 4, i + 6), 16), a = parseInt(s.slice(i + 7, i + 9), 16);
        if ((c & 192) === 128 && (a & 192) === 128) {
          const u = l << 12 & 61440 | c << 6 & 4032 | a & 63;
          u < 2048 || u >= 55296 && u <= 57343 ? r += "���" : r += String.fromCharCode(u), i += 6;
          continue;
        }
      }
      if ((l & 248) === 240 && i + 9 < o) {
        const c = parseInt(s.slice(i + 4, i + 6), 16), a = parseInt(s.slice(i + 7, i + 9), 16), u = parseInt(s.slice(i + 10, i + 12), 16);
        if ((c & 192) === 128 && (a & 192) === 128 && (u & 192) === 128) {
          let f = l << 18 & 1835008 | c << 12 & 258048 | a << 6 & 4032 | u & 63;
          f < 65536 || f > 1114111 ? r += "����" : (f -= 65536, r += String.fromCharCode(55296 + (f >> 10), 56320 + (f & 1023))), i += 9;
          continue;
        }
      }
      r += "�";
    }
    return r;
  });
}
ls.defaultChars = ";/?:@&=+$,#";
ls.componentChars = "";
const Bc = {};
function Mm(e) {
  let t = Bc[e];
  if (t)
    return t;
  t = Bc[e] = [];
  for (let n = 0; n < 128; n++) {
    const s = String.fromCharCode(n);
    /^[0-9a-z]$/i.test(s) ? t.push(s) : t.push("%" + ("0" + n.toString(16).toUpperCase()).slice(-2));
  }
  for (let n = 0; n < e.length; n++)
    t[e.charCodeAt(n)] = e[n];
  return t;
}
function Ht(e, t, n) {
  typeof t != "string" && (n = t, t = Ht.defaultChars), typeof n > "u" && (n = !0);
  const s = Mm(t);
  let r = "";
  for (let i = 0, o = e.length; i < o; i++) {
    const l = e.charCodeAt(i);
    if (n && l === 37 && i + 2 < o && /^[0-9a-f]{2}$/i.test(e.slice(i + 1, i + 3))) {
      r += e.slice(i, i + 3), i += 2;
      continue;
    }
    if (l < 128) {
      r += s[l];
      continue;
    }
    if (l >= 55296 && l <= 57343) {
      if (l >= 55296 && l <= 56319 && i + 1 < o) {
        const c = e.charCodeAt(i + 1);
        if (c >= 56320 && c <= 57343) {
          r += encodeURIComponent(e[i] + e[i + 1]), i++;
          continue;
        }
      }
      r += "%EF%BF%BD";
      continue;
    }
    r += encodeURIComponent(e[i]);
  }
  return r;
}
Ht.defaultChars = ";/?:@&=+$,-_.!~*'()#";
Ht.componentChars = "-_.!~*'()";
function yo(e) {
  let t = "";
  return t += e.protocol || "", t += e.slashes ? "//" : "", t += e.auth ? e.auth + "@" : "", e.hostname && e.hostname.indexOf(":") !== -1 ? t += "[" + e.hostname + "]" : t += e.hostname || "", t += e.port ? ":" + e.port : "", t += e.pathname || "", t += e.search || "", t += e.hash || "", t;
}
function Nr() {
  this.protocol = null, this.slashes = null, this.auth = null, this.port = null, this.hostname = null, this.hash = null, this.search = null, this.pathname = null;
}
const Lm = /^([a-z0-9.+-]+:)/i, Pm = /:[0-9]*$/, $m = /^(\/\/?(?!\/)[^\?\s]*)(\?[^\s]*)?$/, jm = ["<", ">", '"', "`", " ", "\r", `
`, "	"], Bm = ["{", "}", "|", "\\", "^", "`"].concat(jm), zm = ["'"].concat(Bm), zc = ["%", "/", "?", ";", "#"].concat(zm), Uc = ["/", "?", "#"], Um = 255, Wc = /^[+a-z0-9A-Z_-]{0,63}$/, Wm = /^([+a-z0-9A-Z_-]{0,63})(.*)$/, Jc = {
  javascript: !0,
  "javascript:": !0
}, qc = {
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
function bo(e, t) {
  if (e && e instanceof Nr) return e;
  const n = new Nr();
  return n.parse(e, t), n;
}
Nr.prototype.parse = function(e, t) {
  let n, s, r, i = e;
  if (i = i.trim(), !t && e.split("#").length === 1) {
    const a = $m.exec(i);
    if (a)
      return this.pathname = a[1], a[2] && (this.search = a[2]), this;
  }
  let o = Lm.exec(i);
  if (o && (o = o[0], n = o.toLowerCase(), this.protocol = o, i = i.substr(o.length)), (t || o || i.match(/^\/\/[^@\/]+@[^@\/]+/)) && (r = i.substr(0, 2) === "//", r && !(o && Jc[o]) && (i = i.substr(2), this.slashes = !0)), !Jc[o] && (r || o && !qc[o])) {
    let a = -1;
    for (let h = 0; h < Uc.length; h++)
      s = i.indexOf(Uc[h]), s !== -1 && (a === -1 || s < a) && (a = s);
    let u, f;
    a === -1 ? f = i.lastIndexOf("@") : f = i.lastIndexOf("@", a), f !== -1 && (u = i.slice(0, f), i = i.slice(f + 1), this.auth = u), a = -1;
    for (let h = 0; h < zc.length; h++)
      s = i.indexOf(zc[h]), s !== -1 && (a === -1 || s < a) && (a = s);
    a === -1 && (a = i.length), i[a - 1] === ":" && a--;
    const g = i.slice(0, a);
    i = i.slice(a), this.parseHost(g), this.hostname = this.hostname || "";
    const p = this.hostname[0] === "[" && this.hostname[this.hostname.length - 1] === "]";
    if (!p) {
      const h = this.hostname.split(/\./);
      for (let k = 0, x = h.length; k < x; k++) {
        const T = h[k];
        if (T && !T.match(Wc)) {
          let v = "";
          for (let b = 0, w = T.length; b < w; b++)
            T.charCodeAt(b) > 127 ? v += "x" : v += T[b];
          if (!v.match(Wc)) {
            const b = h.slice(0, k), w = h.slice(k + 1), F = T.match(Wm);
            F && (b.push(F[1]), w.unshift(F[2])), w.length && (i = w.join(".") + i), this.hostname = b.join(".");
            break;
          }
        }
      }
    }
    this.hostname.length > Um && (this.hostname = ""), p && (this.hostname = this.hostname.substr(1, this.hostname.length - 2));
  }
  const l = i.indexOf("#");
  l !== -1 && (this.hash = i.substr(l), i = i.slice(0, l));
  const c = i.indexOf("?");
  return c !== -1 && (this.search = i.substr(c), i = i.slice(0, c)), i && (this.pathname = i), qc[n] && this.hostname && !this.pathname && (this.pathname = ""), this;
};
Nr.prototype.parseHost = function(e) {
  let t = Pm.exec(e);
  t && (t = t[0], t !== ":" && (this.port = t.substr(1)), e = e.substr(0, e.length - t.length)), e && (this.hostname = e);
};
const Jm = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  decode: ls,
  encode: Ht,
  format: yo,
  parse: bo
}, Symbol.toStringTag, { value: "Module" })), Pu = /[\0-\uD7FF\uE000-\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/, $u = /[\0-\x1F\x7F-\x9F]/, qm = /[\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/, Bo = /[!-#%-\*,-\/:;\?@\[-\]_\{\}\xA1\xA7\xAB\xB6\xB7\xBB\xBF\u037E\u0387\u055A-\u055F\u0589\u058A\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0609\u060A\u060C\u060D\u061B\u061D-\u061F\u066A-\u066D\u06D4\u0700-\u070D\u07F7-\u07F9\u0830-\u083E\u085E\u0964\u0965\u0970\u09FD\u0A76\u0AF0\u0C77\u0C84\u0DF4\u0E4F\u0E5A\u0E5B\u0F04-\u0F12\u0F14\u0F3A-\u0F3D\u0F85\u0FD0-\u0FD4\u0FD9\u0FDA\u104A-\u104F\u10FB\u1360-\u1368\u1400\u166E\u169B\u169C\u16EB-\u16ED\u1735\u1736\u17D4-\u17D6\u17D8-\u17DA\u1800-\u180A\u1944\u1945\u1A1E\u1A1F\u1AA0-\u1AA6\u1AA8-\u1AAD\u1B4E\u1B4F\u1B5A-\u1B60\u1B7D-\u1B7F\u1BFC-\u1BFF\u1C3B-\u1C3F\u1C7E\u1C7F\u1CC0-\u1CC7\u1CD3\u2010-\u2027\u2030-\u2043\u2045-\u2051\u2053-\u205E\u207D\u207E\u208D\u208E\u2308-\u230B\u2329\u232A\u2768-\u2775\u27C5\u27C6\u27E6-\u27EF\u2983-\u2998\u29D8-\u29DB\u29FC\u29FD\u2CF9-\u2CFC\u2CFE\u2CFF\u2D70\u2E00-\u2E2E\u2E30-\u2E4F\u2E52-\u2E5D\u3001-\u3003\u3008-\u3011\u3014-\u301F\u3030\u303D\u30A0\u30FB\uA4FE\uA4FF\uA60D-\uA60F\uA673\uA67E\uA6F2-\uA6F7\uA874-\uA877\uA8CE\uA8CF\uA8F8-\uA8FA\uA8FC\uA92E\uA92F\uA95F\uA9C1-\uA9CD\uA9DE\uA9DF\uAA5C-\uAA5F\uAADE\uAADF\uAAF0\uAAF1\uABEB\uFD3E\uFD3F\uFE10-\uFE19\uFE30-\uFE52\uFE54-\uFE61\uFE63\uFE68\uFE6A\uFE6B\uFF01-\uFF03\uFF05-\uFF0A\uFF0C-\uFF0F\uFF1A\uFF1B\uFF1F\uFF20\uFF3B-\uFF3D\uFF3F\uFF5B\uFF5D\uFF5F-\uFF65]|\uD800[\uDD00-\uDD02\uDF9F\uDFD0]|\uD801\uDD6F|\uD802[\uDC57\uDD1F\uDD3F\uDE50-\uDE58\uDE7F\uDEF0-\uDEF6\uDF39-\uDF3F\uDF99-\uDF9C]|\uD803[\uDD6E\uDEAD\uDED0\uDF55-\uDF59\uDF86-\uDF89]|\uD804[\uDC47-\uDC4D\uDCBB\uDCBC\uDCBE-\uDCC1\uDD40-\uDD43\uDD74\uDD75\uDDC5-\uDDC8\uDDCD\uDDDB\uDDDD-\uDDDF\uDE38-\uDE3D\uDEA9\uDFD4\uDFD5\uDFD7\uDFD8]|\uD805[\uDC4B-\uDC4F\uDC5A\uDC5B\uDC5D\uDCC6\uDDC1-\uDDD7\uDE41-\uDE43\uDE60-\uDE6C\uDEB9\uDF3C-\uDF3E]|\uD806[\uDC3B\uDD44-\uDD46\uDDE2\uDE3F-\uDE46\uDE9A-\uDE9C\uDE9E-\uDEA2\uDF00-\uDF09\uDFE1]|\uD807[\uDC41-\uDC45\uDC70\uDC71\uDEF7\uDEF8\uDF43-\uDF4F\uDFFF]|\uD809[\uDC70-\uDC74]|\uD80B[\uDFF1\uDFF2]|\uD81A[\uDE6E\uDE6F\uDEF5\uDF37-\uDF3B\uDF44]|\uD81B[\uDD6D-\uDD6F\uDE97-\uDE9A\uDFE2]|\uD82F\uDC9F|\uD836[\uDE87-\uDE8B]|\uD839\uDDFF|\uD83A[\uDD5E\uDD5F]/, ju = /[\$\+<->\^`\|~\xA2-\xA6\xA8\xA9\xAC\xAE-\xB1\xB4\xB8\xD7\xF7\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02EB\u02ED\u02EF-\u02FF\u0375\u0384\u0385\u03F6\u0482\u058D-\u058F\u0606-\u0608\u060B\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6\u07FE\u07FF\u0888\u09F2\u09F3\u09FA\u09FB\u0AF1\u0B70\u0BF3-\u0BFA\u0C7F\u0D4F\u0D79\u0E3F\u0F01-\u0F03\u0F13\u0F15-\u0F17\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8\u109E\u109F\u1390-\u1399\u166D\u17DB\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u1FBD\u1FBF-\u1FC1\u1FCD-\u1FCF\u1FDD-\u1FDF\u1FED-\u1FEF\u1FFD\u1FFE\u2044\u2052\u207A-\u207C\u208A-\u208C\u20A0-\u20C1\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u2140-\u2144\u214A-\u214D\u214F\u218A\u218B\u2190-\u2307\u230C-\u2328\u232B-\u2429\u2440-\u244A\u249C-\u24E9\u2500-\u2767\u2794-\u27C4\u27C7-\u27E5\u27F0-\u2982\u2999-\u29D7\u29DC-\u29FB\u29FE-\u2B73\u2B76-\u2BFF\u2CE5-\u2CEA\u2E50\u2E51\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u2FF0-\u2FFF\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u309B\u309C\u3190\u3191\u3196-\u319F\u31C0-\u31E5\u31EF\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0\u32C0-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA700-\uA716\uA720\uA721\uA789\uA78A\uA828-\uA82B\uA836-\uA839\uAA77-\uAA79\uAB5B\uAB6A\uAB6B\uFB29\uFBB2-\uFBD2\uFD40-\uFD4F\uFD90\uFD91\uFDC8-\uFDCF\uFDFC-\uFDFF\uFE62\uFE64-\uFE66\uFE69\uFF04\uFF0B\uFF1C-\uFF1E\uFF3E\uFF40\uFF5C\uFF5E\uFFE0-\uFFE6\uFFE8-\uFFEE\uFFFC\uFFFD]|\uD800[\uDD37-\uDD3F\uDD79-\uDD89\uDD8C-\uDD8E\uDD90-\uDD9C\uDDA0\uDDD0-\uDDFC]|\uD802[\uDC77\uDC78\uDEC8]|\uD803[\uDD8E\uDD8F\uDED1-\uDED8]|\uD805\uDF3F|\uD807[\uDFD5-\uDFF1]|\uD81A[\uDF3C-\uDF3F\uDF45]|\uD82F\uDC9C|\uD833[\uDC00-\uDCEF\uDCFA-\uDCFC\uDD00-\uDEB3\uDEBA-\uDED0\uDEE0-\uDEF0\uDF50-\uDFC3]|\uD834[\uDC00-\uDCF5\uDD00-\uDD26\uDD29-\uDD64\uDD6A-\uDD6C\uDD83\uDD84\uDD8C-\uDDA9\uDDAE-\uDDEA\uDE00-\uDE41\uDE45\uDF00-\uDF56]|\uD835[\uDEC1\uDEDB\uDEFB\uDF15\uDF35\uDF4F\uDF6F\uDF89\uDFA9\uDFC3]|\uD836[\uDC00-\uDDFF\uDE37-\uDE3A\uDE6D-\uDE74\uDE76-\uDE83\uDE85\uDE86]|\uD838[\uDD4F\uDEFF]|\uD83B[\uDCAC\uDCB0\uDD2E\uDEF0\uDEF1]|\uD83C[\uDC00-\uDC2B\uDC30-\uDC93\uDCA0-\uDCAE\uDCB1-\uDCBF\uDCC1-\uDCCF\uDCD1-\uDCF5\uDD0D-\uDDAD\uDDE6-\uDE02\uDE10-\uDE3B\uDE40-\uDE48\uDE50\uDE51\uDE60-\uDE65\uDF00-\uDFFF]|\uD83D[\uDC00-\uDED8\uDEDC-\uDEEC\uDEF0-\uDEFC\uDF00-\uDFD9\uDFE0-\uDFEB\uDFF0]|\uD83E[\uDC00-\uDC0B\uDC10-\uDC47\uDC50-\uDC59\uDC60-\uDC87\uDC90-\uDCAD\uDCB0-\uDCBB\uDCC0\uDCC1\uDCD0-\uDCD8\uDD00-\uDE57\uDE60-\uDE6D\uDE70-\uDE7C\uDE80-\uDE8A\uDE8E-\uDEC6\uDEC8\uDECD-\uDEDC\uDEDF-\uDEEA\uDEEF-\uDEF8\uDF00-\uDF92\uDF94-\uDFEF\uDFFA]/, Bu = /[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/, Hm = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  Any: Pu,
  Cc: $u,
  Cf: qm,
  P: Bo,
  S: ju,
  Z: Bu
}, Symbol.toStringTag, { value: "Module" })), Vm = [
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
function Gm(e) {
  return e === 0 || e >= 55296 && e <= 57343 || e > 1114111;
}
function Km(e) {
  return Gm(e) ? 65533 : e >= 128 && e <= 159 && Vm[e - 128] || e;
}
function Xm(e) {
  return e - 1 >>> 0 < 127 || e - 160 >>> 0 < 55136 ? String.fromCharCode(e) : String.fromCodePoint(Km(e));
}
const bt = /* @__PURE__ */ (() => {
  const e = new Uint8Array(127);
  let t = 0;
  for (let n = 33; n <= 126; n++)
    n !== 34 && n !== 36 && n !== 92 && (e[n] = t++);
  return e;
})();
function Ym(e, t, n, s, r, i) {
  const l = e.length, c = i * 90;
  let a = 0;
  const u = () => {
    const Y = bt[e.charCodeAt(a++)];
    return Y < i ? Y : Y * 91 - c + bt[e.charCodeAt(a++)];
  }, f = n - s, g = n + r, p = new Int32Array(g);
  p.fill(-1, s, i), p.fill(-1, i + f, g);
  const h = new Int32Array(g), k = new Int32Array(g);
  function x(Y, ue) {
    let ne = 0, de = ue;
    const De = ue + Y;
    for (; de < De; ) {
      const ke = bt[e.charCodeAt(a++)];
      if (ke < 89)
        ne += ke, p[de++] = ne;
      else if (ke === 89) {
        let xe = bt[e.charCodeAt(a++)] + 2;
        for (; xe--; )
          p[de++] = ++ne;
      } else {
        const xe = bt[e.charCodeAt(a++)];
        ne += 89 + // eslint-disable-next-line unicorn/prefer-minimal-ternary -- branches read a different number of side-effecting input bytes
        (xe < 90 ? xe * 91 + bt[e.charCodeAt(a++)] : bt[e.charCodeAt(a++)] * 8281 + bt[e.charCodeAt(a++)] * 91 + bt[e.charCodeAt(a++)]), p[de++] = ne;
      }
    }
  }
  x(s, 0), x(f, i);
  const T = new Int32Array(r * 2);
  let v = 0, b = 0;
  function w(Y, ue) {
    for (let ne = 0; ne < Y; ne++) {
      const de = ue + ne, De = u(), ke = u();
      T[b * 2] = De, T[b * 2 + 1] = ke, b += 1, h[de] = v;
      const xe = (p[De] < 0 ? k[De] : 1) + (p[ke] < 0 ? k[ke] : 1);
      k[de] = xe, v += xe;
    }
  }
  w(r - i + s, i + f), w(i - s, s);
  const F = new Uint16Array(v);
  let B = 0;
  for (let Y = 0; Y < b; Y++)
    for (let ue = 0; ue < 2; ue++) {
      const ne = T[Y * 2 + ue], de = p[ne];
      if (de < 0) {
        let De = h[ne];
        const ke = De + k[ne];
        for (; De < ke; )
          F[B++] = F[De++];
      } else
        F[B++] = de;
    }
  const $ = new Uint16Array(t);
  let ee = 0;
  for (; a < l; ) {
    let Y = bt[e.charCodeAt(a++)];
    Y >= i && (Y = Y * 91 - c + bt[e.charCodeAt(a++)]);
    const ue = p[Y];
    if (ue < 0) {
      let ne = h[Y];
      const de = ne + k[Y];
      for (; ne < de; )
        $[ee++] = F[ne++];
    } else
      $[ee++] = ue;
  }
  return $;
}
const Zm = /* @__PURE__ */ Ym("!}.&u%}'&}*'~!6*)%&,~!J~!J~%L~y<~!R,~~%Lu~~#GD~~#|)1#%}^%}2%+#.##%##%}&%##%'#%##&%#%#'%#&#%#&#'#%%#&#%##%#)%''%&%#%#'%#%%#%%}%%%#%#&(23#%%#&-%0%('1#(##%#'##+%'*.:1}#%#6-+(%'%%#%%%}#L'2351&('%}&/N'(0(/*-%(%%}#'+&T%7.2}#&%&#%#36/5##%&%%#&#%%#))2%%##%&&'0~!#*+&'%1~!%).'3q?&%'1~!.##%6(~!+%%%(Gw'rT~!E#<nA%#jZ~!H%(~!42##~!*31&~!G%U~#)5~#`3~!J~!Z~%]~%Y~%C~!q~!u~#kz~%#~!6'~!D~!U~!?~#T~!c%~!G#'~%7|~!G~!J~!G&~#pb~(Df}#%}*&}#%##%##%##&#-}&'#'&%#.++}%mI,#,@&(}*%}*'%&##&#%##%}&0}#.},U},%}+%}&%}#%##&}B%(}(%}+%)})%##%#&}&%##%&}<%}>%#%&}*%}(%}9%}/%})%}*%}*%}?&}&%}3%}&*#%})%#%#)}#&#-#+*%E%%'%'#%}#*V##&##I}#&&##%&%#&&Qf%%))w/0+&%#(#.%-''''++++7}>%4'',##1,#%#&%##&#'##&#*#9)%&%}#*}%,#+P(%A&%#'&##wSD',9E00#y#@}(+}&%&>~!#~!X}#*}(&&}(&}(,%}%&#+&}#&}I%#%}%)#(},'%#*}4%%#%}(''}#/##(##),%-##%%)#&}(.}&%#&}%%}*&#%},&&}&%}#%*'#%})%}D&}&%}-&}6&#&}-,%}#%})-(~+`~,=?~I9'9%~!,#%})%})%}@%}?%}(~!?~#<~#pP~#BG~#=1#%K+~#?#~%;)~#A~#mF1~#A'~'X%'~#lR~#N~'N~#r~#m#-~#i'?%#'%~#B%##%,%#~#_%#0%~#]732~,w~2+#:&#%&'0%&>%}#>##F+)#%&&#(+_}4&}-%}(&}@&}O7Fdf0@+/v4}&WU##&/0#&'('B#%}.%}'+#%}#%%&#&%#%##+#&#)#6#'#.},%}c%},%#%##%&#&%#&~#>'*-.%##%##%}#%%}%'~#)D1}#%*&~#_%%'(~#S2%'.}#~#=##*'*-%}&'%'##&&~'E%.#&~#M4}%%##&'%#~#O1##%&#'+~#<B%##%%'%+~#;#@%}#&%#&&%#(~#H1}'%'##&&~#?A}&'~#D#%32}'&&&&~#[}'(#%}'~#;C})&}%%#%~#=&%,3}%'(#%%~#^'#&&)#%'~#Y%-~#d-%'~#^%%&#&&&}#~#b~2t*&'~&(~&@~0%~e~3}%*''0})&}+~!9##-}#%-hD*)1fC#%/&/fB#40~!+#)*4~!+~!K'&:~!/*7~!.#~!H~!L':~%x&~!H#~!*~%1~!I#~!+A~#p'~!F~~#-#~,,(~.Z~!V~%;'B'mq-W~!N~%I%#&&#&}#%},%%}'%}+X#%}#&}(%}'%}<%}#%}%%'}'%}:~![)9@~%>~#UA%-%##&~!C%~!-.9:~!1~!-^2/:a~!y,D*J#-5)/4~%23,~#G~!L1~!0X3`~!2+~!!0-~&E~!W~!o,>Y&]~%cZx_&~#O*9#A#'#+I'%#)~!0B*-5A+-((F&*M#)(-7-5+'-3a5Vi~!Y~!?+[)%3),ERHm~!+:D,VG.+)?fB%%*(%)'(#&80%1'8`K8?`+'Z#&O&'H5#*9)A%%5&3))0%39+.*7#()&&*=4@**L)<'_&*+..;(#*+)./&0#3)%')-8(4ixD(&.}%,('aI:,)%,k2231T)I'#/-W7,/'Q#.'Y24+h')37</31&83##&0#),H(?'&?/1##%#&&#%''-%&&&#(&''&#.-'%#%%(,')*'&#&#'##%(%(#%('#&##%%%%('%#%#%%#%#&%##h>w+v<ayvyvcg.uuhKr}g/v|g>u9i[~>g5uI~=RvdwEg;v/g;uk!!TTSx]@RT!U!#!@VBRUU!'UTe-d0c`e&gSdicedFcrdTaqb.kYcAohdYd@a3e+d}dMdtd.aJ#bqcK`dle/e.e'dwdPdodddjbEb}ogd^ofdpduc6j?l%d{drdqc)d7bacOdQ%T#Y)X.sR[yH>6Vyv3[xwLu>vo'!*.[yBacahoj>6Rew3[xqdZa#!a&#^(X-[yG>6Vyu3[xvg3sEr|g.u/Ri9db0T#^(Xa)!-[y;>6Vylg4wKs{JwNZt3@3r=c4Z([xlg;wKt!cpq's@v7A'*a(a+!-a#[y<3Dt?3Dt'>6Vym3[xmg9rxsNJwLZt4~?r?db1T#`-!(Xa,!0[yS>6Vz%NuQs.g4wKtnJwNZtS@3r>c4Z([y%g;wKtrdga8!a(!#&T*Y-Xa#!a0<or[yc3Dtq>6Vz43[y3JwNZtf@3s!Ju}!%Dti:pm3c_%X#tjB5pkd6q!r]u?voC'*-a.a2!0a&a+[yI3DtI3Ds~3DtH>6Vyw3[xx;:s#~<5pKJwNZtE@3r~d`a)!a2T#a.(!+U.X1[yT3Dt`3Dtv>6Vz&3[y&g9rxwzcxstPu.<rAJwLZtT~?r@dZa%!a.&^*Za(/Reu[ya>6Vz23[y1g3sEr}wkg{NuQRg{ci(U#5@b`~,cg#U(2WnH5wugcRh7dX#T(Y,a'Ta!!a,[yZ<]mj>6Vz,3[y+Pv#5ReZKu+=,%!H}7ABwkaS?Rh:BcW(X#<]mrj:ubv/ARekdg%!(!a.*Ta(Y.X1!#sP>Rl*Dt6[y>>6Vyo3Wf*jOvuumvuRgRJuq*!:9<B@bX~3jVv&v@s@5Re[d/rQt{uAvo&a&a*)a2!,0Wf!3Dt0=Bs'>6Re}3[xy~<5s%JwJZt1~Gs)c;&!#2sJkNuXvzq7rxu,Re8dka4!a8(aEZ+a@Y.X1Xa)[yd=Bs(3DtP>6Vz53[y4cX#X&Re:avRe9~<5s&JwJZtQ~Gs*i^rzvdRg+Jv{%!2sbB@bX}kdga,!Za?&^*T1/!a'Dt+[y6>6Vyf3Wf%g/u;s4hGu6?Rh-JvZ,!c%#&RoX54Rivj7uyvf8RgTKvZB%*!2sGh<vu5Rgq<=C::9bb~#dZ#T&Ta6Y.X*Dt>[y93Wf)coZ(T,6VyifluvRgC@95@B@bX~/hFu34cC#T,k/unq8w8Q5RkUklwQuzunq8w8Q5Rk8d/rJu?v8w9)-&!a0a;a&aIWejg3sEr/h1s<DtDJvyZqY5aws3Jvy!&Wei~Hr1:au5@Bag>23E~5c:Z&bX};kKv?w&unuVu5Rjc;>bs)#~@:Rh.=ay<a]C;b`}Vd6s/t{uAvoaxa()!a,a7%-a#a2Dt,[yF2Wo[>6Vyt3[xuNuPRi&NuPwpi#RoWh?vf8Ri%Jv]!%Ri:KvxD!.'2WeAjZu`q9rxu,Re7woeAg-unLq(qA_/*2Wg_g3u5q^9:4E}/jTrxrzv=Wkkd~0UX#^^Xa-a1a5T&a=U1a'*aEa]!a*aPaA-adok[y54Rn>;:p3~Dp5g9rpsFNvZqjg3uJp4~<5p0Pw;5qlJwNZt*@3p1Pw:5p/Ou!5p2JvG'!6Vye=<qnJvh_[xhg3v,Rh3kOwOw-sDuev/Re^dha[a%!%!a+#Ta7)-5TaCaO!aka!a)sf[yb2>Rl!9ARiq5E}Qg=ucRkBE|oJrJ_@Wk~@Wk{JrJ_@Wk|@WkyJrJ_@Wk}@WkzJvO_[y2g-vMRmiKuYC!)&>Ri;>Ri<@3RkNc](X#@9Rk=g5vuRmhKvDB!+'=]meg3u4Rmgd)#Y'Vz3CARmfd`a+!%T'!+#Ta1Ta6TaM-sTDt9[yA9sYd'%Y#s[[xpj:ueunaXRgEjRq,v-vuqdd2'`#6Rev<32@5>:2<E}5xIo9a*X#Y(;5RePJvD_g>vyRgNj8w)v8<wggs:RgXiZt|vjx,hSq3ah!-(~@:Ro/Ou!5RhWj^v(pyw8unRhUdx-UY#^Ua.a3a70!)%UX1TaDa)'omRiRRhE[y:3Dsz=Br,>6Vyj3[xkg6ruwjcqsrPw;5r*Ku]D'Zt-@3r(~?r.i[vwv]dU1a--U#`a4(g/vsRhPOu!5RhLj:rmu9Wo!~@:wdh@g/vsRiTjXuvvNr}:RhBj^v(pyw8unRn]dz1UYa'a+^Y(!aETZalaRY.Ta?a4[yDJw1!#qLsW>6Vyrfzq-pLflpwRe|Js>%!Dt@3Dt&Jvy_[xs~HrnjMuwpsw'RecKu+D#'!t<~Grl~?rjg5u-x,gwp{ah!-(~@:Rg~Ou!5Rh'jXuvvNr}:Rh#cW#X/c;&!#2sLi[v7u7RgpJv)(!iLrxu,Re6j7v@s@5Se[e7d`aW!Za(a`T.a#!a3!&aDa-!9)Dt_=6s+3[x~~DR|h~DS6avhGun5RkZj3w)v-]mkKunB!&*]kb97R|i<ARk<c:Z(6Vy}Juh'!wziMRoS:F|vkLuauJv5vtvQRh1d='T+Y#VyO~DR|jcF#T'7R|g97R|kJv3'!ay<Rj,Jvh&!:ReXcsa6*a+#a#_aIRf9aLRf?c,Z&Rf5Rf7c.Z&Rf;Rf>cQ#%T'p-Rf8Rf=ct#%'(*!,p,Rf4p+Rf6Rf:Rf<d~'Ua%U*^UYa(!a,-!#a4YaTalaEX0a8a<Weo3Dt/3Dsx=Br93Wen~Dr;~<5p<JwNZt2@3p=Pw:5p;Ou!5r3c7&!#:p>3Ds}KvGB)_6Vyk2sM=<r7x'eovA(!hFu1ARf}cV#X&@r5j6rvwQa^Rf3c=Za'wkghJv__g;unRggA53B9=b^}%j6uduo5Jq;!(hIv%2Re`Ou4ARe_e%a#^^^Xa&!a*a2!&a6YaP!*ad!#a:aE/5Rn?[y@>6Vyp;:pE~DrY~<5pBJwNZt8@3pCh=rt3rWPw:5pAJup_[xoNuPpF9c!#'45pD5ARn)d8#X'X*3@rU72s]h>v<<sSjJpqvewOJq/(!hNw'5ReBk0s2u3w/w'5ReE5@Jq.!a+JQ!&WeU23d(#Y&RjG5]jBk!u7w&u0udARjEe#+^^^Ub#!a2/a`Z(agT1!a-a;|@TaG!aS[yV=Re~fow'RguNuPRe?bz#'>RoUWeL>:Cbb|?JwPZtVg6ruRmzJvD'!6Vz(g/vmRh~Jvy_[y(g9voRgyx*cy(#2>Ri2B9b]~9kIw9u7rluJu3Rg]dI#a%UY'@=p%CAx.gQZ&RhwwygtRm{x5g_Z'+ABqR9Woa=Bp&dV#^*Xa'!&@o{g4v]Rk;Jv{!%Rk[wkkiA5RkiwwfUB=x,fUuqC&*!>RfTg8v0RfV~ARfSd;rJsAuAv9wR'ae+/aO!a@aza/a#[yQ@Wg!2Wemg3sEr0JvB_g>uvReWg2v+Re=KupB_+[y!2AbY~-~Hr2AJwD!(h<~El>h<~El?Kun@+_:9b`}Kg-v/Ri3g;vtwyk_9]k_d=&T#*U.6qh@Ab`|K9:H|CJv[!&3Dtex'fDwC%!Rf[9WlMd[(^X,!a%Z06Vz!@WgBg=v~Rgvg,QRe@awd,#Y+jTv|Q~EfWj]uNr|~FRfXdy#Y&^Ua%!aO.!(a)Ua;=!a@aKap!a-,a!Ta]a[rSa]p?[y82sK=Bq~;:p:~<5p8Pw:5p7d'#Y'Wf(;RnRi[u4w&RgJJvG'!6Vyh=<r#ijuuv/sIKuYD'ZtG@3p9~Gr&d2#`(g<vtRgFj`u5w&rqpxRf2CJuY!+:wfnTOu!5Rg}jNs1ucv&RfwJvA!&3@q|BDcC#T,k/unq8w8Q5RkTklwQuzunq8w8Q5Rk9dga#!a'!a=#a0!:+Tb*b@aO.a4!aba8aFJv^}?!VyR~Dr<g;u%Rn.~<5p[x'e`wNZtR@3p]Pw:5pZhNvjBp.woe_g5u-r4JwF!%DtO3:ooc7&!#:p^3DtpLuGw(!+%)Dtk6Vz#2sd=<r8d'#Y([y#<x3gJt`w@!)%}MRiowzikRij=]ilxAf3,U(#B2Rf#g0v-Rm[ck{`U#]giKv3>)!&6Ri154s,KuGB_%@r68r:dJ|t`#X(9<E|u2@H|rx3gJu?w'!+'1Nu7Reg4=H~+9<wxgY95Rm]xLggZ-`(X}U2:Ri4h<uOawRmsJv__5@bb{jbV~3dka#a'a]!,#a+U=a>b6a3b%!/aKa/)!arwve^VyJ;:pR~DpTg3uJpS~<5pOPw;5qmPw:5pNOu!5pQJvG'!6Vyx=<qoJvA!{~Jup!%@qk7Rn/KvyD!}''[xz;>wkh'?Rh,x8gyt`w5D!&),(SgyccRgztJ@3pPB5p#d'(Y#<]mmifubw&RgoJvE&!82s^JvF&!8Rf,ADb]~;x=h'rNu]vK!,%'*0RnORh)4Rh*AqQg-vaRnNg;wHwkh'ba~4cE#Ta*x3gctyw@'!+%RnFRnD<4Rn@hFvK5RnCxWg[#`&a0Ua()`1Rm75Rg[c]%X#qi8Rg^NvdRj>BwzgZauwji7Rm6A4wgg]d1#&(*,.0a#Rm;Rm<Rm=Rm>Rm?Rm@RmARmBe%#^^^Xaea?aC/b+(,!a+a#!a/!>a&Ta<aKbD!2wphBRnk[yPw}hE|.=Br-3Dtm>6Vy~g6urRf.x,hPrNav!%'RnqRo%Ro#Nu;q[Pw;5r+JwNZtM@3r)d'#Y'Weh;xChL#`&RnmRnoKu}>%(!Rne~Bs-;2wjcussJv+'!aYSO}6@B<5?ba~8LrNvj!.%*ROwungw~ng~:9;Ri^>wtnig;wHRnixDh@|(UZ.x1h@|)!#:2<H|*xHn]#-UX'3Ro)z=iT}6ARns=Bwsn_wpnaRncw]aR(#UXa&Ua*a/=]iPd'#Y&Ro'WnXf{QRm2hNvj]nZd`'T~&1`{|`#9b]{}c:'!#Wl{>@=be}]?cl{{U#:5Abb}Jds#^YaF!a*b4a#a3aPa>&Tb!bH!*a_!Eau?/a&RjY<]gj>6Vz*;:pe~DrZg,QRj1JwNZtX@wihspcJvZ&!VyX9WmOJu|!|N2WmHJvh&!]ht~Bpbcn&T(!#RmQ<s7Nu;padH#X'`+WmJ@>RmKCARhnKup=!)&Wf+:RhqNuPpf9c!#'45pd5AwghpARn(Ls@w!%,)!RmP@Wfe<E|IJva!&WmNg8vsRmLd`*.`#Y'Xa!axRn*]hrA8Rhug5s@rXg8u!RmMd8#X'X*3@rV72smdI*#UY&RmICARho~GsgxVgd)Ta'U-Y&Xa!T#RnEWnA@Wffg1uDRi0hFvK5RnBxGnG&#`%owp)@wsf+bX}Ze-*1!a*^^^Ua|!#a.aq&Ya2!a>.a6!a:aO`aJDtL[y`@Wg#>6Vz12@wzoYRoZNuPRi!NuPRhzg=ucRi,@=b`{Yg=ucRi-ACJvB!&Sh[ebSh]ebi`wUuFRm4Jw2_[y0JvB!.<Ju(!&SoG}6Shd}6<Ju(!&SoH}6She}6Kur@._g5vHRieJvx!{L2G{Kx6gd'T#?Rh82Wi5cZ#X(g1w)Rm5dW-Y(Ta#!a)!#aYa=wnfE=su2>>bU{0j9udv:<svj8uQv-7RgHdE%#^'sq9sp=>Bb_{TJv`!&g/r|snj6v(us5d,#Y(56H}[978H}]Jw5!&g1rushJvB!+j;v{u5?zDhd}6}bj;v{u5?zDhe}6}ce*#`(^^^a[aea!=!a6a*aoXb1a.!aAbL!b>,b'aL!aV@Wf|2Wlg3[y/JwNZt^@3piPw:5pgJunZou3@rsJva&!Vy_g<v~Rm#JvG'!6Vz0=<r{Ju{%!:pj@WfsiXuJu3Rm:JvZ&!WfA~Bph@c4Z&Dtwax5rubx(#:awRk1@d,#Y&RfjRfid1#,Y(@Wfp2Wlrg5s@ryKu[@!,'=]ig9wlk?Rk>g5u-rqJvy'!@9RkQcH(T#=>Ri~@<wkj(Wj(KuZB*!&<7rw@9RkRcH(T#=>Ri}@<wkj)Wj)dg(Ta2Xa9X#`-!a*CARhg@@=I}d9x;c~#X%so=<sj>2@@=aybb}XjWv0Q~EfEj3vLv;<d,#Y(56H}`978H}_dgaPaFa'a/!#a3Y0a_a;a|!1(a7-[yE3[xt;:pJNvZrrg3uJrvJwNZt=@3pIh=rt3rxPw:5pGOu!5rpJvG'!6Vys=<rz@c4Z&Dt(ax5rtJvZ!&~BpH@wsfNg-vaRlNci*U#=<wei<F}a5@Jq.!a*JQ!%@qZ23d(#Y&RjH5]jCk!u7w&u0udARjFd/prq=tyvpaEa(a:.!a1aZ(@@=I}:9wpd%=<sX55w_h}@@=I{t=ay<aU@@=I}T=ay<2@@=I})?C9:9au@9Cb]}DP~=x-fAZ(2Wl1=ay<aU@@=I}>5@d##Y+jTv|vV~EfFj]uNpn~FRfGdgaK!Z2&!a8a-Tb({E!acTbM*!a(DtY[yYd'%Y#sl[y*hHvh>Re5x2c{Z}.j4uCvcawRiMd+#X+_x&d!},<5RkX;2Hzw@x,gavfB-!{CcF&T#Roe;RodwWbBg5urRgaKvHC*_6Vz+<4opieuew&Rmq@d]&Y)X,T#X0Rh}<BqP=4qS9:ReMg/ujReNJw0!/<Jui%!bd{kawwnemRelAxUa?a3#*.&UX(Ya+a/RhvRnQ<o}9Wmtd-#Y&RgSRmw9;Rmxay=Rmyg-vaRmuxEhSrNu,v-voC!%(aR.a(a7+1Ro1>Ro5CE{A9b]{@;5x#eO{:g;urRi+KrNA!%(Ro3>Ro79;Ri_Ku@>{;&!x%gX|{KunA_+g5QRj/g3u5Rj#g>uERj%wio/xRhS&!,!#^1U}wba{8>>@=be}qC@:D5ba{7Ku+A&!}x?ba}t>>@=be}se(aA^^^Uat!b0#{pa+awUazbGa#aLb9bgaWac'a5TbS=Br!d1#`%scp_Jvl!#rT>Re0JvX&!VyN=H{Fcm#U&:pY=ReaJv2&!]h0=]nUJvG'!6Vy|=<r%JrM_=]h2@Wlud'#)U'Wf'b]{i=]h/Jvh!&~BpWg=v]RnMx+ny#'Nu;pVwjnu=]nwxJnx,T#`&Reqwjnt=]nvieu9vrRjLLuYwP(#+!th@wih5pX~Gr'g5v/Rh4KunA'!-CARnP@wwiN:Rm_9x'cvw>!|l=<saKvAA!0&3@q}>w^e1bp#&Re2Re3BDx7gH#T|f5H|eKuZ>!%(:qNAH{]Jv6!+3B2B9=b^{X<5<B92:E{ZLvhwA(a;a%!igQuyRmad+#Y}m@3Rh5d8#X'X*:AqUAHzmaxwbh<aXRnVcF}RT#Nw&cj#U(BWnug/vsRntdka)(a3+.Zb7aYYan1!bVa@Xa}[y^@b[{G=H{+hFu73Rj&Pv#5ReQcK%T#sig1v{Rj'Ku+D#'!t]~Grm~?rkKuMB!01d5#`'Vy.ta3Dtu~Hroc8#'{^45s85AwZbP&!#Rn!wghxWn#KvEA!)&2RlA2RlBx:h|#(T,=]j09Wobz>x]z/@awRoTd+#Y(az]hFhCrm4d,#Y+jTv|Q~EfMj]uNr|~FRfOdCa!Xa9_X#@<plJvf!%b`{(9;Rgwc;.!#2x7cw#T|UDb]|T5Ju={(!=@E{&Jv)&!Ab`{'awJvf!~*>>@=be{#KuY>!+&4Ezyi[ugv&RjIdea+T)#UXa&T-T&a!Rh9auRmW=]kLg5vuRn+g3u4Rn-Ow6ARn,hHus5xNk?#UX(U~)/g8v0RkD~AwkkF?Ri.OuNBwkkA?Ri/d|a2`a*^UYa.!aBTZaTa'Xa;!(!2!-a#b2[yC>6Vyq3[xr2Wi?g1rusVh%s?DtF~<5rbJs;%!DtBfswKtCj[uvuSsEu3RgVx3o:u+wN'*Zt;@3rd~Grh~?rfg8w)Lq)qE&-a%!>bI|`jWv0vV~EfCjTv|vV~Ef@j]uNpn~FRfBcK#T']gWNu7x,k7q4ai(0!hHv8<RhmkMu9vrsBuev/RhlCJvB!,g<v{wchh~@:Rhji[vrv{wchi~@:RhkdS&a5UY#Ta!RgPwwiI5BwciI~@:Rh`x'iJvj'!5]iJPu8Bwch]~@:Rhach)U#h3rp]gLh@t|Ax,hTq3ah!-(~@:Ro0Ou!5RhXj^v(pyw8unRhVd|)`,^UYas!a?/a2Z'a^Ta{Tb7Ta(a#!a,Wf&9sZ3DtAadamov=Bqt3[xig8vsRm~>waiL2b`{QJv*_Ouv2qgj<v]v2BqfdR'X*X#Y-@3qr~Gqv~?p6hHv-]glPup5Lq+q?_%*b_{qF{n9b^{rOu4ARhpKvCD!+&~Bqp:5Dbb}nwoiKl&unuTuBv]v+ueunaXRf0=Jvh!0nKufu8v1w&w7q%w&uHrz:Rgnj5w,uxDJq/(!hNw'5ReCk0s2u3w/w'5ReFd>Za&!*UaA=<wkgsRnSJv^!%Refifw3vyRgOKu_B'!,<]gkiiu:w&Rh<=C@a^<B57@2F{[<B5@aW:=3away9A5aW=<B=C@a^<B57@2F{Ie-#`(^^^bCara.b8aza6!/bZ,!adTbnTbOb+aFaS!aAT9@Wf~2Wli3Dtl2@d,#Y&RfnRfmJwJZtN~GqyJva&!VyMg<v~Rm%iXuJu3Rm9Jv[_=]ih9wlkDRkCd1#`(@Wg>2Wls3cH#T(@<Rj*=>Ri|b~'#23s9h<~El.d'#Y&Dtxi^rzvdRl#d*#U%(o|B2s`hJwSaxRmDKv4B&!1:Rmdd5#`'Vx}to~Hq{x'f1v3(!BA5ba|bJv_&!Wfug1v]ReIdO+U/Y#&G}-8wze=Rh{g1v]ReHg/uQRf/by#)ibQwERl/cH#T(@<Rj+=>Ri{cNu+vlax-!(#a0qa9<Rii2;;bU{H;x<i=&X#Rk`<4wwi=C9H~8xAI(Y#<azRi@45wXI<B9;5bb~7dL(X#Xa(+!aL6Vy{g5QqOau:5au2@ay547EzbxOcU(UX-T#Ta#:Cbb|A?wjh/b_|SOw6ARgtihr}u7Rhy<d1#T)X1@@=I|~=ay<2@@=aybb}Sj3vLv;<d,#Y(56H}A978H}@dGpvs@uAu`vcw9*!aFa+ai%(b!aXa8.a?a[ozWey=sU2@G}Nch&U#Rf_WexKu+D#'!t:~Gr`~?r^j]uNr|~FRg*j^psurwJt|RmcKv)@&!)7Rkv~Br[@wxfO:Rl3co#U'6Rezj_q#vIuavjRltwzeyh@vr5JqD0!>aY?C9:9au@9Cb]}9cl#U*5;5<H||jbuus1ucv&Rfvg1v~d/pppzqFr^a--a~!aMat1(hFv;Wiz@@=Izoj5uuv-7Rix~Cw`fk2WlVcZ#X,k)u3vWs@u2]ktg;wEx'fBq(_2Wg/jTv|vV~EfoJv]!15x'hzqG!(P~EfU~CRl_j6v(us5x4i-#T(2WmZ?C2F|d>Kq<aj1!*jTqIsBv=Wl`~Cw`fi2WlWj`v0u*~>RlR=c>Z,k#u3vWs@u2]kr<c1Z+jTqIsBv=Wla~Cw`fm2WlXdmb3!a{(arZa`bkTa%TbQTa-a9+c'!aM!/[yL=Bqug.w'RifhFvyDRj.g>vgwyk^9]k^Jv3_@WfbAARkhJw2_[x|JvB_wkoIRoKwkoJRoLd'(Y#<]gm=<9<H|yd'%_X#skDtb3awwqkgNulRkgdB#^',9:p'hJwSaxRmEBwVb8@4=H|qLu+w50&!)@3qs~?pU>Awwn;;Rn=c:Z'ARn<=<qwKvC@!/&~BqqJv6!&]eVb^z^xRge'/a%+^`#Sge}6<4Rn3=]n0Pw2>Rn8Jw0!&>Rn:>Rn6cY#a7+!a&=<wkaNw~h3z_c5Z{=wjh#=]nLKv^D!&)Vyz=bW|swYb<WetcG#T(2wxa@qVx@gD#Y&b^|V5JwG&!5bb|pg/w&RgD@x=kHs=uAvn!a%%/'+RmSRh694Ro`g-vaRmRhHv-]mlxCcS#`&ba~.5cD#Ta)P~=d,#Y(56H{>978H{Dd_#{2^Y%_+qbbb{6g3sERhsbU{?dfa.,`a(Xa<!aiX#(55RiG54RiHcI#T'WiU3RiVNvdwtfcRlKNvdd,#Y&RlHRlExQgf.1*^T'X#Sgf}6Wn4=]hfPrk>Rn7Jw0!&>Rn5>Rn9Lunw?&a2!,5<oq@@wqfdRlJj5Q~=d,#Y(~ARfcOuN]fdDKw;ay(}i!547E}j?cI#T(@5bV}iCbV}hdv(^^Tb?a40,b##Tbo!a*bR!a<b|a/!aKai!aU[yK=]o^g:v>ReGJwPZtK<7Rh+h<~El,Pv#5ReR@awwxjCg,ulRjDJv6&!]j!z?aQeeg>w=Sh<eeJw;!&axEzOg,Qosc!#*:wkeJ]eJ>x'h-u(!%Ro.w~h.zPdNZ(X,Ya![x{;9ReY;wkgxRiF:x?ap#Y&RmUg<s2Rkod]+UY0TZ'!a&A9sw<=bczLNvuw{gqzNhJwSaxRmCKuLay!#&s_Rf-55b^{uJvZa!!c%#(55Ri654wmiu5RiuawLu,vp!+}^%b_}Y9;wkgxba}o>A9:=b^}zKuh=a''!3awRk3c*'!#aHRk6c+Z&Rk5Rk4Jv)&!awRjSawd9*`#0?C2@EzMj8u<uJ5RmbjQrquJu3x,k>uq@_+=ayb^|W~ARkEOuN]k@7dhzV^X/X&a-#zRzSb`zXcJzTT#2WkVKvDBzW!%FzY9;5bbzWjQrquJu3Jw3%!b`zU=ayb^zQd:#X(T-a!6Vyywxh}=b]{Jg=u1RiAdGp~qHtzv!w(wA+a+a;<!aJaYai'anasb(=azRmV:Cbb{MLq2vb!%')RjuRjrRjtRjqx3jnqCw3!%')Rk(Rk+Rk&Rk)Lq2vb!%')Rj{RjxRjzRjwLq2vb!%')RjsRjpRjfRjex3jcqCw3!%')Rk'Rk*RjkRjl9<CbbzfOu4ARhxLq2vb!%')RjyRjvRjhRjgx=joq*uKvb!%')+-Rk.Rk%Rj~Rk-Rk#Rj}x=jdq*uKvb!%')+-Rk,Rk!Rj|RjmRjjRjidAq&qKs@uAv8Aa.'*-a@a&0!aM@a5[y73Dsy3Ds|3Dt):wxgI2sHJwJZt.~Gqxwsf0ikrzt}Rl0Jvy_[xj~HqzKv_A|D!&WfP8axRoVcf,U#k(v]v+ueunaXRf1Ju}'!g8u#Ri=jQw!sCunLprq>!,')~<5qeGzq9F{W=c##%s5au:5aU3CBE|;d4#X(D!a&6Vygx(b;#(=]ed?C2F{N<capoq2r[a&!aPa9,'Pw;5s:@@=I|,55w_h|@@=IzcP~=x'fCqB_2Wl2>aU@@=I|1OuNBc1Z+jTqIsBv=Wlc~Cw`fl2WlZ~AcTa%!Z+jTqIsBv=Wlb~Cw`fh2WlYk+uNqJsBv=WlSg,u3dca3#UXaMYa)TaB-=cM|7T#<bI}l5@B932:aV2G{BOuNBJq:|M!5Ezt=<B=C@a^<B57@2F{v>cB{/T#=ay<bI{3Jv6!a.6BKq0ah&+!5E}HP~Ef{978BaU@@=Iza<7d#.Y#978BaU@@=IzH~AJq0!(@@=IzG978BaU@@=IzFe,aU*Y&^^^bvJb,b:bFad!a,c2Ta>aL.bo6!a#CbTa'T#Re{2Wlh2@G{yg6t~Ro_NvdRfticuRQRllJv3&!x&c|zs@Jw3!%RflwpfkRlpKuL;%(!Re<@G|C2GzdhIvuBwgjAg-u0RjAKQB%!(GzZ@G|5NuuRl7d='T+Y#Vy[g<v~Rm!==G|>JvA!)@wma=]m1ifuaw&RmnLs@vT'!|/+[y,g:v>ReTJw1!#qX=x!eC{bLu+wT&)ZtZauq_~Graci&U#F|89:r_Lupvq!.)&2RlG8RfaC=x!eF{_h?rpWlmd&'!#X|&]k::xJey#`'T|+<E|&2@H|%dE#(^,g;u.RiEg6vjRiC9xCkA{O|zY#g=ucRmXKs0@!&*@G|m@awRknJuh!,3d(}gY}eJvj!%Rm):Jw3!%Rm+Rm-Ls0w(&!a(a#@b[|6cZ#X'7RkxWgAOu4ARn'dH'U#Y*Vz-Wm'CARm}d]*#a%^a*T'aK!a<9bV{PC=p*Jw4!&SgxcbB5r]idw(wBRmF7xFkt#&`(Rm/Rm8E|!JuY_9:Rl5=wrgr2:bbxd@xXfB(a*#T+!.X0X1Ta/a'T&RlDRfL>RlyARl9b[z[>RfZ:RlL:RfRwlg/ARl;9;RlxKv,A/!%7s69<74=BA5ba{-8Bde#`a<XaKYa1,a'P~=wxfB2bZ}}?C972@@=I}r8@55B9;5bb}G978B2@@=aybb}3j3vLv;<Jw3&!>Rfk=ayb^}4~Ad1#`*@@=aybb{w2@>==<bbz]dx+UY#^UaF!a9!bB'Ya1.!ajXa#%olRhD[y=3Dt#Ov5BrHKuMB%!(Rf^Wep~HrJwkiQjKr|~FRg)Ku+D#'!t5~GrF~?rDdV)UY,Z/_7RkuG{<~BrBg,rlsO:235B@bX}|d?a1!#`(6Vyn5@d##Y+jTv|vV~EfIj]uNpn~FRfH7Lq2vb1!a9-978BaU@@=Iz9978BbU}#~AJq0!(@@=Iz8978BaU@@=Iz7~AJQ|}!978BbU}!JvkaK!AdUa21-U#`a+(g/vsRn~Ou!5RPj:rmu9WhOjXuvvNr}:RhAj^v(pyw8unRn[kPr}p|u7vwv]RiSBd;pppzq@qHQa?(b.!a.a`@.|xa(hFv;Wiyj5uuv-7Riw~Cw`fg2WlU978BbU|wOuNBJqG!(P~EfD~CRlQcZ#X,k)u3vWs@u2]ksg;wEx'f@q1_2Wg.j]uNpn~FRfqJv]!15x'h{qG!(@@=IzK~CRl^j6v(us5x4i,#T(2WmY?C2F{1>Kq<aj1!*jTqIsBv=Wld~Cw`fj2Wl[j`v0u*~>RlT=c>Z,k#u3vWs@u2]kq<c1Z+jTqIsBv=Wle~Cw`fn2Wl]dn1#c(a(b^a2!b/bAT(bj!aDa7bu,a_a{c0!2T0g:v>ReD2@G{42@G{5~DpM~<5rc=Bx6i>{RT#RnI@zCx]y]z:2Jv[!zr5Awyk]9]k]dD(Y+X#6Vz.g=wKtgwhaCwgmTWj2Lu,w%_+/[y-B;b^xeg3u3Rj-2@bX{*KrJ<!+'@Wg(g?QRlC@Jv`!%b[zIwsfII}8JQ_@w|kW|=Jv(%!AqcOuNBJvEzh!bYzjLs@wP#(0!oy@>RkdJwMZtc3Dtd@BcG#T'9bWxg2@2Fznd*#Y+;2x'c}w<zizixNgwa#Z'U+!/!a'!a+w~g~z6wcn{Rn}wcnzRn|5Rh%=]nJg5vuRmvNvdRlvcprJu}w*az*a#!%.a.'Bot9qT]kj@Wg'ay2Gzv@Jv`!%b[zEwsfHI}1;ck#Ux`<Cbbx_Lu+w!a&0*!wko*wwo,So,}6Juqxf!E}PigQuyRm`d3(`#8>Rn%:A5B;bZ~%KvhCa!a2!x>k7#Uxb@b{#xaRk7Jw0!)>wwhlShl}6>wwhmShm}6CJvB!.x'hhvj{!!5Bwkhhbaz}x'hivjz~!5Bwkhibaz|xEhTrNu,v-vpD!a%&/)a3a.,%Ro2t[CE{)@3re9b]{%wjo09:rgc:Z&Ro6=<riifuaw&RmoKrNA!%(Ro4>Ro89;Ri`dSaL'UYzxZb)7Rka3xRhT&!,!#^1U}vbaz{>>@=be}yC@:D5bazzKu+A&!}{?ba}y>>@=be}wxBh[t`u~vJvr!%a!a()a,a0a4RoC=]o;Ju(!%RoGRhdwjh`=]oAg>w#Ro?g5vuRo=NvdRl|Ku]C.!&;RoEJvB!%RoORoMBx'h[v+_?w~h`}~5?w~hd~!xKh]oiptu-utv.vp!#%&a30a@a'a+(a/aOp(o~p!RoDJu(!%RoHRhewjha=]oBNvdRl}g>w#Ro@g5vuRo>c[#X']o<CauRoRAd-#Y':RkpauRoQKu]C.!&;RoFJvB!%RoNRoPBx'h]v+_?w~ha}t5?w~he}ue!/UbhYacXaW^Tc&a;b:a-c/#b&aja1(!cL+!bKbt!bmcRc9aIc?8[yW3Dtt94Rg`Jv}!&SiRMzBhEebShEMNuPRe>x7gL#TzuwjirRipc<Z&>on;>z=h-MSh.Mwqczx'a7vj&!>Re4@=ResJt__NuPRi*NuPRi)j]uNr|~FRfzKrJ>_+@Wfy@Wf]2WocKrJ<!+'@Wg%g/QRl@@Jv`!&awRl<wsfFIzgLu(w*!.*&ShBMwvhIRhI9;RhNx1hK'!#Sn]Mx1hK~0!#:2<H~7cNu+w7D*'1ZtW>Rn1~?rOc:Z&Rn2=<rQ<7wjh&=BSnLMc]#X(6Vz)w[b=a!U#9wzgMc3#&(RgMRitRis<x,gKt`ax!&+SioM=BSilMc3#&(RgKRinRimKurB,!&SiQMzBhDebShDM6BJQ!(P~Efx978B2@@=I}WLrJw!!,a*&@G}O@9wkibRid@@x'fKwC!&SlDMSfLMjUv~Q~EfKKv3@a+!(hFv-]mpx/hYZ(C5RiWz<o/MwkhY?So/M@x,gbvfB*&!SgEM:SoeeehFu3:Rgbda(,^TZa)X/7Sg[eb:2RgI~BrMC@wgkc:wwkcRerx3h(uUvK!&*,SnOM4Sh*MArRg;wHRh(x=h;rJvPwI!a4',a'0@Wg&=BSh/Mg>w=Rh=g3w*wwgGRgGcW(X#;Sg}M2Gzk@Jv`!&awRl=wsfGIz`dKZ*T'Y-:RhR7RhQg5u-p`j6v(us5d,#Y+~Awkia?RicOuNBwkibba}Ld6p~tyu_vbAa'a+!a/'a3aEa8a!>Sh,ebJv{!&Sh@ebSaReb9;SgwebNuPRi(NvdRl)NuPRi'hHu^<Rm^Jvv_@Wl(g;u1Si/ebKu'B&!*Sh?eb@Wl'z@aPeb95Si.ebcpputyvjB)!,&a+0a%ShAMWeK@G}C@WfJ9;RhMwvhH9w{ia}ix,hJvRA1(!zAn[MRhHx1hJ~*!#hFv(BSn[MBJQ!(@@=I~'978B2@@=I}2db.Ua<'X}+T#a0XaG2G}E;wkg|wuh!Rh!x,hZu,@)!&So0MVy)C5RiXACJvB!&5RiY5RiZg8w)cG}*T#2@bU}=KsA>(!a.3wkhZba~(x,h^u(A!&(SoCMRhb5Bz=h[eb?w~hb~6x,h_u(A!&(SoDMRhc5Bz=h]eb?w~hc~6e)aA1T#T,^^^c-bMb&blcPaP(a/!0!bA=b5c@a(!bfbrc#2afwmhARnjwchORnp2Wlf3DtsNvdRl-2@wpa<]m0bx(#:awRk2@Jw3!%RfhwpfgRlnKQB%!(G{V@G|'NuuRl6d='T+Y#VyUg<v~Rl~==G|<Jv+'!aYShC}6@B<5?ba~8@Jw3'!g2QRljhLrpWlOd+#Y'g.w'rIg>w*wgj@g-u0Rj@Lu+wT&)ZtUauq]~GrGci&U#F|39:rELrNvj!.%*RhCwunfw~nf~:9;Ri]>wtnhg;wHRnhx3hDs@v~!/+'@Wfr@9RkSNu&Rlo=@<5GzoKs0@_+@Wl+@awRkmJuh!-3d(}pY#qWJvj!%Rm(:Jw3!%Rm,Rm*de&!1U-U#`)Re;@G|.@9Ri82@wjfvRlq=@<5GzpLvOvr!).&2RlF8Rf`C=x!eE{.Jw3_g2QRlkhLrpWlPde(!#U{s,UXa*Ta'[y'g:v>ReS;x0PZ&RnlRnn~HrKJw1}f!=x!eB|2w]aP(#Xa&a*Ta.Ua2a7=]iOd'#Y&Ro&WnWg;u.RiDg6vjRiBNvdRlzhNvj]nYJuW_2Wm3x)kFze{9d])!a.!,Y01!#&aC!a3RndC=ox~BrC@2b^{pg,rlse7x'ksuq!%Rm.E{xidw(wBRmGx9o+)X#wwo-So-}69:Rl4@xSf@a#XZ'X)X,Ta(/ARl8b[xc>RfY:RlI:RfQwlg.ARl:9;Rlwdn'#^XafaQa1X1TaHTa)@b[{zcZ#X'7RkwWg@Ou4ARn&x)kG#{,g7u/RkGdH'U#Y*Vz'Wm&CARm|bx#(A]gUbUzJj9Q~=d,#Y(56H}l978H{U7d,0#U*2>ABb_xZ978BbU{e~AJQ{g!978BbU{hxMh?ad{oUYZ.x1h?{l!#:2<H{mx3n[t{vl!,&a%3Ro(z=iS}6ARnr=Bwsn^wvn`Rnbd`*T}B0!#^X'BG{c9b]{a>>@=be}F?JvS!&BG{d7BG}(Bde#`a1X,Ya@!a'P~=wxf@2bZ}I56B2@@=aybb}08@55B9;5bb}<j3vLv;<Jw3&!>Rfg=ayb^}&OuNBKuLA!)a!P~=x#fD{f2@>==<bbzl?C972@@=Ix^d6rSu,v7w*C(0a)a6#B+a%!sQ[y?3Dt%3[xn~<5rLOu!5p@Ku+D#'!t7~GrP~?rNKvlaya7'!h+v-5qMg=t|cd,U#5AAaa5Abb{S@52B5@a[@52B5Gx[iXueu;d<#`a(!/549C;ag>23ExY5@Dah89b^~689Jv)!~2b[~1Lv'w(%*!a#bX|aPrmawRe]keu7uhv-q6rxu,q`xTo]/a5aU!bNaDXbi!b-!ao!b<bwA!#5@B932:aV2G|:d-)Y#hJrL>RhG<7@C5<H|_=Cau:5aj5@B932:bJ|ng>vIbs)#?C2F|9jPv0w.vISh-MKvUaz(.!9ABbb|[5;5<H|Eg>unwfh;9:4E|YjQsBt|vjx'hYq3!(?C2F|J:2<BaY?C2F|GOu!5x,g|p{ah!-(?C2F|c9:4E|OjXuvvNr}:Rh&i[w*t|cd+U#jJvsu)vsSn~Mkfrmu9p}u7vwv]So!McW#Xa!ax5@A5aY:5;5<H|>kJv~vYrquJu3x4ib#T)2@SmZM?C2F|Bj:rmu9@xPhI(a*a#U#`a3-5Abb|L~@:RhK9:4E|0@52B5G|#C::aY?C2F|-:2<BaY?C2F|.5Jvk!a)javYrquJu3x4ia#T)2@SmYM?C2F|HAxPhH(!a#U#`a*-5Abb|4~@:RhJ9:4E|R@52B5G|F:2<BaY?C2F|Sc^#Xa2j=Qq5CJvB!-g<v{z;hhM?C2F|Zi[vrv{z;hiM?C2F|XKsA>!a)-g<v{z;h[eb?C2F|]i[vrv{z;h]eb?C2F|^iZu.vix,hZq3ah!.(?C2F|QOu!5ShXM:2<BaY?C2F|P", 13494, 2713, 49, 25, 61);
var We;
(function(e) {
  e[e.VALUE_LENGTH = 49152] = "VALUE_LENGTH", e[e.FLAG13 = 8192] = "FLAG13", e[e.BRANCH_LENGTH = 8064] = "BRANCH_LENGTH", e[e.JUMP_TABLE = 127] = "JUMP_TABLE", e[e.VALUE_MASK = 8191] = "VALUE_MASK";
})(We || (We = {}));
var it;
(function(e) {
  e[e.AMP = 38] = "AMP", e[e.NUM = 35] = "NUM", e[e.SEMI = 59] = "SEMI", e[e.EQUALS = 61] = "EQUALS", e[e.ZERO = 48] = "ZERO", e[e.NINE = 57] = "NINE", e[e.LOWER_A = 97] = "LOWER_A", e[e.LOWER_X = 120] = "LOWER_X";
})(it || (it = {}));
const Mr = 32, zu = 21, Qm = 2097151, wo = 2047;
let Uu = 0;
function e_(e) {
  const t = e >>> zu;
  return t === wo ? Uu : t;
}
function t_(e) {
  return e - it.ZERO >>> 0 <= 9;
}
function n_(e) {
  return (e | Mr) - it.LOWER_A >>> 0 <= 5;
}
function s_(e) {
  return (e | Mr) - it.LOWER_A >>> 0 <= 25;
}
var Hc;
(function(e) {
  e[e.EntityStart = 0] = "EntityStart", e[e.NumericStart = 1] = "NumericStart", e[e.NumericDecimal = 2] = "NumericDecimal", e[e.NumericHex = 3] = "NumericHex", e[e.NamedEntity = 4] = "NamedEntity";
})(Hc || (Hc = {}));
var Vc;
(function(e) {
  e[e.Legacy = 0] = "Legacy", e[e.Strict = 1] = "Strict", e[e.Attribute = 2] = "Attribute";
})(Vc || (Vc = {}));
function r_(e, t, n, s) {
  const r = (t & We.BRANCH_LENGTH) >> 7, i = t & We.JUMP_TABLE;
  if (i) {
    if (r === 0)
      return s === i ? n : -1;
    const c = s - i;
    if (c >>> 0 >= r)
      return -1;
    const a = e[n + c];
    return a === 0 ? -1 : n + r + a - 1 & 65535;
  }
  if (r === 0)
    return -1;
  const o = r + 1 >> 1, l = n + o + r;
  for (let c = 0; c < r; c++) {
    const u = e[n + (c >> 1)] >> ((c & 1) << 3) & 255;
    if (u === s) {
      const f = n + o + c;
      return l + e[f] & 65535;
    }
    if (u > s)
      return -1;
  }
  return -1;
}
function Gc(e, t, n) {
  return n === 1 ? String.fromCharCode(e[t] & We.VALUE_MASK) : n === 2 ? String.fromCharCode(e[t + 1]) : String.fromCharCode(e[t + 1], e[t + 2]);
}
function i_(e, t, n) {
  let s = t + 1, r = 0, i = s;
  if (s < n && (e.charCodeAt(s) | Mr) === it.LOWER_X)
    for (s += 1, i = s; s < n; ) {
      const l = e.charCodeAt(s);
      if (t_(l))
        r = r * 16 + (l - it.ZERO);
      else if (n_(l))
        r = r * 16 + ((l | Mr) - it.LOWER_A + 10);
      else
        break;
      s += 1;
    }
  else
    for (; s < n; ) {
      const l = e.charCodeAt(s) - it.ZERO;
      if (l >>> 0 > 9)
        break;
      r = r * 10 + l, s += 1;
    }
  if (s === i)
    return 0;
  s < n && e.charCodeAt(s) === it.SEMI && (s += 1), r > 1114111 && (r = 1114112);
  let o = s - t;
  return o >= wo && (Uu = o, o = wo), o << zu | r;
}
function o_(e, t, n) {
  const s = Zm;
  let r = e.indexOf("&");
  if (r < 0)
    return e;
  const i = e.length;
  let o = 0, l = "";
  const c = s[0], a = c & We.JUMP_TABLE, u = (c & We.BRANCH_LENGTH) >> 7;
  do {
    const f = r + 1, g = e.charCodeAt(f);
    let p, h;
    if (g === it.NUM) {
      const k = i_(e, f, i);
      p = e_(k), p > 0 && e.charCodeAt(f + p - 1) !== it.SEMI && (p = 0), h = p === 0 ? "" : Xm(k & Qm);
    } else if (s_(g)) {
      p = 0, h = "";
      const k = g - a;
      let x;
      if (k >>> 0 < u) {
        const F = s[1 + k];
        x = F === 0 ? -1 : u + F & 65535;
      } else
        x = -1;
      let T = 0, v = 0, b = x < 0 ? 0 : s[x], w = f + 1;
      e: for (; w < i; ) {
        for (
          ;
          // Value-less, non-run node with a nonzero jump offset.
          (b & (We.VALUE_LENGTH | We.FLAG13)) === 0 && (b & We.JUMP_TABLE) !== 0;
        ) {
          const ee = b & We.JUMP_TABLE, Y = (b & We.BRANCH_LENGTH) >> 7;
          if (Y === 0) {
            if (e.charCodeAt(w) !== ee)
              break e;
            x += 1;
          } else {
            const ue = e.charCodeAt(w) - ee;
            if (ue >>> 0 >= Y)
              break e;
            const ne = s[x + 1 + ue];
            if (ne === 0)
              break e;
            x = x + Y + ne & 65535;
          }
          if (b = s[x], w += 1, w >= i)
            break e;
        }
        if ((b & (We.VALUE_LENGTH | We.FLAG13)) === We.FLAG13) {
          const ee = (b & We.BRANCH_LENGTH) >> 7;
          if (e.charCodeAt(w) !== (b & We.JUMP_TABLE))
            break;
          w += 1;
          const Y = ee - 1;
          let ue = x + 1, ne = 0;
          for (; ne + 1 < Y; ne += 2) {
            const de = s[ue];
            if (e.charCodeAt(w) !== (de & 255) || (w += 1, e.charCodeAt(w) !== (de >> 8 & 255)))
              break e;
            w += 1, ue += 1;
          }
          if (ne < Y) {
            if (e.charCodeAt(w) !== (s[ue] & 255))
              break;
            w += 1;
          }
          x += 1 + (ee >> 1), b = s[x];
          continue;
        }
        const F = b >>> 14, B = e.charCodeAt(w);
        if (F !== 0) {
          if (B === it.SEMI) {
            p = w - f + 1, h = F === 1 ? String.fromCharCode(b & We.VALUE_MASK) : Gc(s, x, F);
            break;
          }
          if (F === 1)
            break;
        }
        const $ = r_(s, b, x + (F || 1), B);
        if ($ < 0)
          break;
        x = $, b = s[x], w += 1;
      }
      h === "" && p > 0 && (h = Gc(s, T, v));
    } else
      p = 0, h = "";
    p === 0 || n ? r = f : (o < r && (l += e.slice(o, r)), l += h, r = o = f + p), e.charCodeAt(r) !== it.AMP && (r = e.indexOf("&", r));
  } while (r >= 0);
  return l + e.slice(o);
}
function Wu(e) {
  return o_(e, !0, !1);
}
var l_ = class {
  src_Any = Pu.source;
  src_Cc = $u.source;
  src_Z = Bu.source;
  src_P = Bo.source;
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
    const s = this.escapeRE(e), r = this.escapeRE(t), i = `(?:(?!${this.src_ZCc}|${s}|${r}).)`;
    let o = `${s}${i}{0,1000}${r}`;
    for (let l = 2; l <= n; l++) o = `${s}(?:${i}|${o}){0,1000}${r}`;
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
}, qi = {
  validate: (e, t, n) => {
    const s = n.re.get_http_validator();
    s.lastIndex = t;
    const r = s.exec(e);
    return r ? r[0].length : 0;
  },
  normalize: (e, t) => t.normalize(e)
}, c_ = {
  "http:": qi,
  "https:": qi,
  "ftp:": qi,
  "//": {
    validate: function(e, t, n) {
      const s = n.re.get_relative_proto_validator();
      s.lastIndex = t;
      const r = s.exec(e);
      return r ? t >= 3 && e[t - 3] === ":" || t >= 3 && e[t - 3] === "/" ? 0 : r[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  },
  "mailto:": {
    validate: function(e, t, n) {
      const s = n.re.get_mailto_validator();
      s.lastIndex = t;
      const r = s.exec(e);
      return r ? r[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  }
}, a_ = "a:cdefgilmnoqrstuwxz|b:abdefghijmnorstvwyz|c:acdfghiklmnoruvwxyz|d:ejkmoz|e:cegrstu|f:ijkmor|g:abdefghilmnpqrstuwy|h:kmnrtu|i:delmnoqrst|j:emop|k:eghimnprwyz|l:abcikrstuvy|m:acdeghklmnopqrstuvwxyz|n:acefgilopruz|o:m|p:aefghklmnrstwy|q:a|r:eosuw|s:abcdeghijklmnortuvxyz|t:cdfghjklmnortvwz|u:agksyz|v:aceginu|w:fs|y:et|z:amw", u_ = "biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф";
function f_() {
  const e = u_.split("|");
  return a_.split("|").forEach((t) => {
    const n = t.indexOf(":"), s = t.slice(0, n);
    for (const r of t.slice(n + 1)) e.push(s + r);
  }), e;
}
var d_ = {
  fuzzyLink: !1,
  fuzzyEmail: !0,
  fuzzyIP: !1,
  "---": !1,
  tlds: f_(),
  urlAuth: !1,
  maxLength: 1e4
}, Kc = class {
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
  constructor(e, t, n, s) {
    const r = e.slice(n, s);
    this.schema = t.toLowerCase(), this.index = n, this.lastIndex = s, this.raw = r, this.text = r, this.url = r;
  }
}, h_ = class {
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
      ...d_,
      ...n
    }, this.__schemas__ = { ...c_ }, this.re = t || new l_(), this.re.set({
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
        normalize: (s, r) => r.normalize(s),
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
      const s = this.re.get_fuzzy_mail_host_search(), r = this.re.get_mail_name_validator();
      for (s.lastIndex = 0; (t = s.exec(e)) !== null; ) {
        const i = e.slice(Math.max(0, t.index - 65), t.index);
        if (r.test(i)) return !0;
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
    let s, r, i, o, l, c, a = !1, u = !1, f = !1, g = 0;
    if (!e.length) return null;
    for (n.lastIndex = 0, this.__opts__.fuzzyLink && this.__schemas__["http:"] && (s = this.re.get_fuzzy_link_search(), s.lastIndex = 0), this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && (r = this.re.get_fuzzy_mail_host_search(), r.lastIndex = 0, i = this.re.get_mail_name_validator()); ; ) {
      const p = Math.max(g - 1, 0);
      if (r && i && !f && (!l || l.index < g))
        for (r.lastIndex < p && (r.lastIndex = p); ; ) {
          const v = r.exec(e);
          if (!v) {
            f = !0, l = void 0;
            break;
          }
          const b = i.exec(e.slice(Math.max(0, v.index - 65), v.index));
          if (b) {
            if (l = {
              schema: "mailto:",
              index: v.index - b[1].length,
              lastIndex: v.index + v[0].length
            }, l.index >= g) break;
            r.lastIndex < p && (r.lastIndex = p);
          }
        }
      if (s && !u && (!o || o.index < g))
        for (s.lastIndex < p && (s.lastIndex = p); ; ) {
          const v = s.exec(e);
          if (!v) {
            u = !0, o = void 0;
            break;
          }
          if (o = {
            schema: "",
            index: v.index + v[1].length,
            lastIndex: v.index + v[0].length
          }, o.index >= g) break;
          s.lastIndex < p && (s.lastIndex = p);
        }
      let h = l;
      (!h || o && (o.index < h.index || o.index === h.index && o.lastIndex > h.lastIndex)) && (h = o);
      let k;
      if (!a) for (; ; ) {
        if (!c) {
          n.lastIndex < p && (n.lastIndex = p);
          const w = n.exec(e);
          if (!w) {
            a = !0;
            break;
          }
          c = {
            schema: w[2],
            index: w.index + w[1].length,
            lastIndex: w.index + w[0].length
          };
        }
        if (c.index < g) {
          c = void 0;
          continue;
        }
        if (h && c.index > h.index) break;
        const v = c;
        c = void 0;
        const b = this.testSchemaAt(e, v.schema, v.lastIndex);
        if (b) {
          k = {
            schema: v.schema,
            index: v.index,
            lastIndex: v.lastIndex + b
          };
          break;
        }
      }
      let x = k;
      if ((!x || l && (l.index < x.index || l.index === x.index && l.lastIndex > x.lastIndex)) && (x = l), (!x || o && (o.index < x.index || o.index === x.index && o.lastIndex > x.lastIndex)) && (x = o), !x) break;
      x === l ? l = void 0 : x === o && (o = void 0);
      const T = new Kc(e, x.schema, x.index, x.lastIndex);
      T.schema ? this.__schemas__[T.schema].normalize(T, this) : this.normalize(T), t.push(T), g = x.lastIndex;
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
    const s = new Kc(e, t[2], t.index + t[1].length, t.index + t[0].length + n);
    return this.__schemas__[s.schema].normalize(s, this), s;
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
const ts = 2147483647, Ft = 36, zo = 1, Ls = 26, p_ = 38, g_ = 700, Ju = 72, qu = 128, Hu = "-", m_ = /^xn--/, __ = /[^\0-\x7F]/, y_ = /[\x2E\u3002\uFF0E\uFF61]/g, b_ = {
  overflow: "Overflow: input needs wider integers to process",
  "not-basic": "Illegal input >= 0x80 (not a basic code point)",
  "invalid-input": "Invalid input"
}, Hi = Ft - zo, It = Math.floor, Vi = String.fromCharCode;
function rn(e) {
  throw new RangeError(b_[e]);
}
function w_(e, t) {
  const n = [];
  let s = e.length;
  for (; s--; )
    n[s] = t(e[s]);
  return n;
}
function Vu(e, t) {
  const n = e.split("@");
  let s = "";
  n.length > 1 && (s = n[0] + "@", e = n[1]), e = e.replace(y_, ".");
  const r = e.split("."), i = w_(r, t).join(".");
  return s + i;
}
function Gu(e) {
  const t = [];
  let n = 0;
  const s = e.length;
  for (; n < s; ) {
    const r = e.charCodeAt(n++);
    if (r >= 55296 && r <= 56319 && n < s) {
      const i = e.charCodeAt(n++);
      (i & 64512) == 56320 ? t.push(((r & 1023) << 10) + (i & 1023) + 65536) : (t.push(r), n--);
    } else
      t.push(r);
  }
  return t;
}
const k_ = (e) => String.fromCodePoint(...e), v_ = function(e) {
  return e >= 48 && e < 58 ? 26 + (e - 48) : e >= 65 && e < 91 ? e - 65 : e >= 97 && e < 123 ? e - 97 : Ft;
}, Xc = function(e, t) {
  return e + 22 + 75 * (e < 26) - ((t != 0) << 5);
}, Ku = function(e, t, n) {
  let s = 0;
  for (e = n ? It(e / g_) : e >> 1, e += It(e / t); e > Hi * Ls >> 1; s += Ft)
    e = It(e / Hi);
  return It(s + (Hi + 1) * e / (e + p_));
}, Xu = function(e) {
  const t = [], n = e.length;
  let s = 0, r = qu, i = Ju, o = e.lastIndexOf(Hu);
  o < 0 && (o = 0);
  for (let l = 0; l < o; ++l)
    e.charCodeAt(l) >= 128 && rn("not-basic"), t.push(e.charCodeAt(l));
  for (let l = o > 0 ? o + 1 : 0; l < n; ) {
    const c = s;
    for (let u = 1, f = Ft; ; f += Ft) {
      l >= n && rn("invalid-input");
      const g = v_(e.charCodeAt(l++));
      g >= Ft && rn("invalid-input"), g > It((ts - s) / u) && rn("overflow"), s += g * u;
      const p = f <= i ? zo : f >= i + Ls ? Ls : f - i;
      if (g < p)
        break;
      const h = Ft - p;
      u > It(ts / h) && rn("overflow"), u *= h;
    }
    const a = t.length + 1;
    i = Ku(s - c, a, c == 0), It(s / a) > ts - r && rn("overflow"), r += It(s / a), s %= a, t.splice(s++, 0, r);
  }
  return String.fromCodePoint(...t);
}, Yu = function(e) {
  const t = [];
  e = Gu(e);
  const n = e.length;
  let s = qu, r = 0, i = Ju;
  for (const c of e)
    c < 128 && t.push(Vi(c));
  const o = t.length;
  let l = o;
  for (o && t.push(Hu); l < n; ) {
    let c = ts;
    for (const u of e)
      u >= s && u < c && (c = u);
    const a = l + 1;
    c - s > It((ts - r) / a) && rn("overflow"), r += (c - s) * a, s = c;
    for (const u of e)
      if (u < s && ++r > ts && rn("overflow"), u === s) {
        let f = r;
        for (let g = Ft; ; g += Ft) {
          const p = g <= i ? zo : g >= i + Ls ? Ls : g - i;
          if (f < p)
            break;
          const h = f - p, k = Ft - p;
          t.push(
            Vi(Xc(p + h % k, 0))
          ), f = It(h / k);
        }
        t.push(Vi(Xc(f, 0))), i = Ku(r, a, l === o), r = 0, ++l;
      }
    ++r, ++s;
  }
  return t.join("");
}, x_ = function(e) {
  return Vu(e, function(t) {
    return m_.test(t) ? Xu(t.slice(4).toLowerCase()) : t;
  });
}, A_ = function(e) {
  return Vu(e, function(t) {
    return __.test(t) ? "xn--" + Yu(t) : t;
  });
}, Yc = {
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
    decode: Gu,
    encode: k_
  },
  decode: Xu,
  encode: Yu,
  toASCII: A_,
  toUnicode: x_
};
var Zc = Object.defineProperty, Zu = (e, t) => {
  let n = {};
  for (var s in e) Zc(n, s, {
    get: e[s],
    enumerable: !0
  });
  return Zc(n, Symbol.toStringTag, { value: "Module" }), n;
}, R_ = /* @__PURE__ */ Zu({
  arrayReplaceAt: () => E_,
  asciiTrim: () => Vr,
  callable: () => Qu,
  escapeHtml: () => hn,
  escapeRE: () => L_,
  fromCodePoint: () => Ps,
  isMdAsciiPunct: () => Bs,
  isPunctChar: () => tf,
  isPunctCharCode: () => js,
  isSpace: () => Se,
  isValidEntityCode: () => Uo,
  isWhiteSpace: () => $s,
  lib: () => P_,
  normalizeReference: () => Hr,
  unescapeAll: () => cs,
  unescapeMd: () => T_
});
function Qu(e) {
  const t = function(...n) {
    return Reflect.construct(e, n, new.target && new.target !== t ? new.target : e);
  };
  return Object.defineProperty(t, "name", { value: e.name }), Object.setPrototypeOf(t, e), t.prototype = e.prototype, t;
}
function E_(e, t, n) {
  return [].concat(e.slice(0, t), n, e.slice(t + 1));
}
function Uo(e) {
  return !(e >= 55296 && e <= 57343 || e >= 64976 && e <= 65007 || (e & 65535) === 65535 || (e & 65535) === 65534 || e >= 0 && e <= 8 || e === 11 || e >= 14 && e <= 31 || e >= 127 && e <= 159 || e > 1114111);
}
function Ps(e) {
  if (e > 65535) {
    e -= 65536;
    const t = 55296 + (e >> 10), n = 56320 + (e & 1023);
    return String.fromCharCode(t, n);
  }
  return String.fromCharCode(e);
}
var ef = /\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, C_ = new RegExp(`${ef.source}|${/&([a-z#][a-z0-9]{1,31});/gi.source}`, "gi"), S_ = /^#((?:x[a-f0-9]{1,8}|[0-9]{1,8}))$/i;
function D_(e, t) {
  if (t.charCodeAt(0) === 35 && S_.test(t)) {
    const s = t[1].toLowerCase() === "x" ? parseInt(t.slice(2), 16) : parseInt(t.slice(1), 10);
    return Uo(s) ? Ps(s) : e;
  }
  const n = Wu(e);
  return n !== e ? n : e;
}
function T_(e) {
  return e.indexOf("\\") < 0 ? e : e.replace(ef, "$1");
}
function cs(e) {
  return e.indexOf("\\") < 0 && e.indexOf("&") < 0 ? e : e.replace(C_, function(t, n, s) {
    return n || D_(t, s);
  });
}
var F_ = /[&<>"]/, I_ = /[&<>"]/g, O_ = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;"
};
function N_(e) {
  return O_[e];
}
function hn(e) {
  return F_.test(e) ? e.replace(I_, N_) : e;
}
var M_ = /[.?*+^$[\]\\(){}|-]/g;
function L_(e) {
  return e.replace(M_, "\\$&");
}
function Se(e) {
  switch (e) {
    case 9:
    case 32:
      return !0;
  }
  return !1;
}
function $s(e) {
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
function tf(e) {
  return Bo.test(e) || ju.test(e);
}
function js(e) {
  return tf(Ps(e));
}
function Bs(e) {
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
function Hr(e) {
  return e = e.trim().replace(/\s+/g, " "), e.toLowerCase().toUpperCase();
}
function Qc(e) {
  return e === 32 || e === 9 || e === 10 || e === 13;
}
function Vr(e) {
  let t = 0;
  for (; t < e.length && Qc(e.charCodeAt(t)); t++) ;
  let n = e.length - 1;
  for (; n >= t && Qc(e.charCodeAt(n)); n--) ;
  return e.slice(t, n + 1);
}
var P_ = {
  mdurl: Jm,
  ucmicro: Hm
};
function $_(e, t, n) {
  let s, r, i, o;
  const l = e.posMax, c = e.pos;
  for (e.pos = t + 1, s = 1; e.pos < l; ) {
    if (i = e.src.charCodeAt(e.pos), i === 93 && (s--, s === 0)) {
      r = !0;
      break;
    }
    if (o = e.pos, e.md.inline.skipToken(e), i === 91) {
      if (o === e.pos - 1) s++;
      else if (n)
        return e.pos = c, -1;
    }
  }
  let a = -1;
  return r && (a = e.pos), e.pos = c, a;
}
function j_(e, t, n) {
  let s, r = t;
  const i = {
    ok: !1,
    pos: 0,
    str: ""
  };
  if (e.charCodeAt(r) === 60) {
    for (r++; r < n; ) {
      if (s = e.charCodeAt(r), s === 10 || s === 60) return i;
      if (s === 62)
        return i.pos = r + 1, i.str = cs(e.slice(t + 1, r)), i.ok = !0, i;
      if (s === 92 && r + 1 < n) {
        r += 2;
        continue;
      }
      r++;
    }
    return i;
  }
  let o = 0;
  for (; r < n && (s = e.charCodeAt(r), !(s === 32 || s < 32 || s === 127)); ) {
    if (s === 92 && r + 1 < n) {
      if (e.charCodeAt(r + 1) === 32) {
        r++;
        continue;
      }
      r += 2;
      continue;
    }
    if (s === 40 && (o++, o > 32))
      return i;
    if (s === 41) {
      if (o === 0) break;
      o--;
    }
    r++;
  }
  return t === r || o !== 0 || (i.str = cs(e.slice(t, r)), i.pos = r, i.ok = !0), i;
}
function B_(e, t, n, s) {
  let r, i = t;
  const o = {
    ok: !1,
    can_continue: !1,
    pos: 0,
    str: "",
    marker: 0
  };
  if (s)
    o.str = s.str, o.marker = s.marker;
  else {
    if (i >= n) return o;
    let l = e.charCodeAt(i);
    if (l !== 34 && l !== 39 && l !== 40) return o;
    t++, i++, l === 40 && (l = 41), o.marker = l;
  }
  for (; i < n; ) {
    if (r = e.charCodeAt(i), r === o.marker)
      return o.pos = i + 1, o.str += cs(e.slice(t, i)), o.ok = !0, o;
    if (r === 40 && o.marker === 41) return o;
    r === 92 && i + 1 < n && i++, i++;
  }
  return o.can_continue = !0, o.str += cs(e.slice(t, i)), o;
}
var z_ = /* @__PURE__ */ Zu({
  parseLinkDestination: () => j_,
  parseLinkLabel: () => $_,
  parseLinkTitle: () => B_
});
function zs(e) {
  "@babel/helpers - typeof";
  return zs = typeof Symbol == "function" && typeof Symbol.iterator == "symbol" ? function(t) {
    return typeof t;
  } : function(t) {
    return t && typeof Symbol == "function" && t.constructor === Symbol && t !== Symbol.prototype ? "symbol" : typeof t;
  }, zs(e);
}
function U_(e, t) {
  if (zs(e) != "object" || !e) return e;
  var n = e[Symbol.toPrimitive];
  if (n !== void 0) {
    var s = n.call(e, t);
    if (zs(s) != "object") return s;
    throw new TypeError("@@toPrimitive must return a primitive value.");
  }
  return (t === "string" ? String : Number)(e);
}
function W_(e) {
  var t = U_(e, "string");
  return zs(t) == "symbol" ? t : t + "";
}
function K(e, t, n) {
  return (t = W_(t)) in e ? Object.defineProperty(e, t, {
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
    for (let n = 0, s = t.length; n < s; n++) if (t[n][0] === e) return n;
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
    const n = this.attrIndex(e), s = [e, t];
    n < 0 ? this.attrPush(s) : this.attrs[n] = s;
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
}, Us = class {
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
    const s = this.__find__(e);
    if (s === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__[s].fn = t, this.__rules__[s].alt = n.alt || [], this.__cache__ = null;
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
  before(e, t, n, s = {}) {
    const r = this.__find__(e);
    if (r === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(r, 0, {
      name: t,
      enabled: !0,
      fn: n,
      alt: s.alt || []
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
  after(e, t, n, s = {}) {
    const r = this.__find__(e);
    if (r === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(r + 1, 0, {
      name: t,
      enabled: !0,
      fn: n,
      alt: s.alt || []
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
    return e.forEach((s) => {
      const r = this.__find__(s);
      if (r < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${s}`);
      }
      this.__rules__[r].enabled = !0, n.push(s);
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
    return e.forEach((s) => {
      const r = this.__find__(s);
      if (r < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${s}`);
      }
      this.__rules__[r].enabled = !1, n.push(s);
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
}, Mt = {};
Mt.code_inline = function(e, t, n, s, r) {
  const i = e[t];
  return `<code${r.renderAttrs(i)}>${hn(i.content)}</code>`;
};
Mt.code_block = function(e, t, n, s, r) {
  const i = e[t];
  return `<pre${r.renderAttrs(i)}><code>${hn(e[t].content)}</code></pre>
`;
};
Mt.fence = function(e, t, n, s, r) {
  const i = e[t], o = i.info ? cs(i.info).trim() : "";
  let l = "", c = "";
  if (o) {
    const u = o.split(/(\s+)/g);
    l = u[0], c = u.slice(2).join("");
  }
  let a;
  if (n.highlight ? a = n.highlight(i.content, l, c) || hn(i.content) : a = hn(i.content), a.indexOf("<pre") === 0) return a + `
`;
  if (o) {
    const u = i.attrIndex("class"), f = i.attrs ? i.attrs.slice() : [];
    u < 0 ? f.push(["class", `${n.langPrefix}${l}`]) : (f[u] = [f[u][0], f[u][1]], f[u][1] += ` ${n.langPrefix}${l}`);
    const g = { attrs: f };
    return `<pre><code${r.renderAttrs(g)}>${a}</code></pre>
`;
  }
  return `<pre><code${r.renderAttrs(i)}>${a}</code></pre>
`;
};
Mt.image = function(e, t, n, s, r) {
  const i = e[t];
  return i.attrs[i.attrIndex("alt")][1] = r.renderInlineAsText(i.children, n, s), r.renderToken(e, t, n);
};
Mt.hardbreak = function(e, t, n) {
  return n.xhtmlOut ? `<br />
` : `<br>
`;
};
Mt.softbreak = function(e, t, n) {
  return n.breaks ? n.xhtmlOut ? `<br />
` : `<br>
` : `
`;
};
Mt.text = function(e, t) {
  return hn(e[t].content);
};
Mt.html_block = function(e, t) {
  return e[t].content;
};
Mt.html_inline = function(e, t) {
  return e[t].content;
};
var nf = class {
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
      Object.assign({}, Mt)
    );
  }
  /**
  * Render token attributes to string.
  */
  renderAttrs(e) {
    let t, n, s;
    if (!e.attrs) return "";
    for (s = "", t = 0, n = e.attrs.length; t < n; t++) s += ` ${hn(e.attrs[t][0])}="${hn(String(e.attrs[t][1]))}"`;
    return s;
  }
  /**
  * Default token renderer. Can be overriden by custom function
  * in {@link Renderer.rules}.
  */
  renderToken(e, t, n) {
    const s = e[t];
    let r = "";
    if (s.hidden) return "";
    let i = t - 1;
    for (; i >= 0 && e[i].hidden && e[i].nesting === 0; ) i--;
    s.block && s.nesting !== -1 && i >= 0 && e[i].hidden && e[i].nesting === -1 && (r += `
`), r += (s.nesting === -1 ? "</" : "<") + s.tag, r += this.renderAttrs(s), s.nesting === 0 && n.xhtmlOut && (r += " /");
    let o = !1;
    if (s.block && (o = !0, s.nesting === 1)) {
      let l = t + 1;
      for (; l < e.length && e[l].hidden && e[l].nesting === 0; ) l++;
      if (l < e.length) {
        const c = e[l];
        (c.type === "inline" || c.hidden || c.nesting === -1 && c.tag === s.tag) && (o = !1);
      }
    }
    return r += o ? `>
` : ">", r;
  }
  /**
  * The same as {@link Renderer.render}, but for single token of `inline` type.
  */
  renderInline(e, t, n) {
    let s = "";
    const r = this.rules;
    for (let i = 0, o = e.length; i < o; i++) {
      const l = e[i].type;
      typeof r[l] < "u" ? s += r[l](e, i, t, n, this) : s += this.renderToken(e, i, t);
    }
    return s;
  }
  /**
  * Special kludge for image `alt` attributes to conform CommonMark spec.
  * Don't try to use it! Spec requires to show `alt` content with stripped markup,
  * instead of simple escaping.
  */
  renderInlineAsText(e, t, n) {
    let s = "";
    for (let r = 0, i = e.length; r < i; r++) switch (e[r].type) {
      case "text":
      case "code_inline":
        s += e[r].content;
        break;
      case "image":
        s += this.renderInlineAsText(e[r].children, t, n);
        break;
      case "html_inline":
      case "html_block":
        s += e[r].content;
        break;
      case "softbreak":
      case "hardbreak":
        s += `
`;
    }
    return s;
  }
  /**
  * Takes token stream and generates HTML. Probably, you will never need to call
  * this method directly.
  */
  render(e, t, n) {
    let s = "";
    const r = this.rules;
    for (let i = 0, o = e.length; i < o; i++) {
      const l = e[i].type;
      l === "inline" ? s += this.renderInline(e[i].children, t, n) : typeof r[l] < "u" ? s += r[l](e, i, t, n, this) : s += this.renderToken(e, i, t);
    }
    return s;
  }
}, sf = class {
  constructor(e, t, n) {
    K(this, "tokens", []), K(this, "inlineMode", !1), K(this, "Token", Ln), this.src = e, this.env = n, this.md = t;
  }
}, J_ = /\r\n?/g, q_ = /\0/g;
function H_(e) {
  let t;
  t = e.src.replace(J_, `
`), t = t.replace(q_, "�"), e.src = t;
}
function V_(e) {
  let t;
  e.inlineMode ? (t = new e.Token("inline", "", 0), t.content = e.src, t.map = [0, 1], t.children = [], e.tokens.push(t)) : e.md.block.parse(e.src, e.md, e.env, e.tokens);
}
function G_(e) {
  const t = e.tokens;
  let n = 0;
  for (let s = 0; s < t.length; s++)
    t[s].type !== "reference_definition" && (s !== n && (t[n] = t[s]), n++);
  t.length !== n && (t.length = n);
}
function K_(e) {
  const t = e.tokens;
  for (let n = 0, s = t.length; n < s; n++) {
    const r = t[n];
    r.type === "inline" && e.md.inline.parse(r.content, e.md, e.env, r.children);
  }
}
function X_(e) {
  return /^<a[>\s]/i.test(e);
}
function Y_(e) {
  return /^<\/a\s*>/i.test(e);
}
function Z_(e) {
  const t = e.tokens;
  if (e.md.options.linkify)
    for (let n = 0, s = t.length; n < s; n++) {
      if (t[n].type !== "inline" || !e.md.linkify.test(t[n].content)) continue;
      const r = t[n].children, i = [];
      let o = 0;
      for (let l = r.length - 1; l >= 0; l--) {
        const c = r[l];
        if (c.type === "link_close") {
          for (l--; r[l].level !== c.level && r[l].type !== "link_open"; ) l--;
          continue;
        }
        if (c.type === "html_inline" && (X_(c.content) && o > 0 && o--, Y_(c.content) && o++), !(o > 0) && c.type === "text" && e.md.linkify.test(c.content)) {
          const a = c.content;
          let u = e.md.linkify.match(a);
          const f = [];
          let g = c.level, p = 0;
          u.length > 0 && u[0].index === 0 && l > 0 && r[l - 1].type === "text_special" && (u = u.slice(1));
          for (let h = 0; h < u.length; h++) {
            const k = u[h].url, x = e.md.normalizeLink(k);
            if (!e.md.validateLink(x)) continue;
            let T = u[h].text;
            u[h].schema ? u[h].schema === "mailto:" && !/^mailto:/i.test(T) ? T = e.md.normalizeLinkText(`mailto:${T}`).replace(/^mailto:/, "") : T = e.md.normalizeLinkText(T) : T = e.md.normalizeLinkText(`http://${T}`).replace(/^http:\/\//, "");
            const v = u[h].index;
            if (v > p) {
              const B = new e.Token("text", "", 0);
              B.content = a.slice(p, v), B.level = g, f.push(B);
            }
            const b = new e.Token("link_open", "a", 1);
            b.attrs = [["href", x]], b.level = g++, b.markup = "linkify", b.info = "auto", f.push(b);
            const w = new e.Token("text", "", 0);
            w.content = T, w.level = g, f.push(w);
            const F = new e.Token("link_close", "a", -1);
            F.level = --g, F.markup = "linkify", F.info = "auto", f.push(F), p = u[h].lastIndex;
          }
          if (p < a.length) {
            const h = new e.Token("text", "", 0);
            h.content = a.slice(p), h.level = g, f.push(h);
          }
          i.push({
            index: l,
            nodes: f
          });
        }
      }
      if (i.length > 0) {
        let l = r.length;
        for (const f of i) l += f.nodes.length - 1;
        const c = new Array(l);
        let a = 0, u = 0;
        i.reverse();
        for (let f = 0; f < r.length; f++) {
          const g = i[a];
          if (g?.index === f) {
            for (const p of g.nodes) c[u++] = p;
            a++;
          } else c[u++] = r[f];
        }
        t[n].children = c;
      }
    }
}
var rf = /\+-|\.\.|\?\?\?\?|!!!!|,,|--/, Q_ = /\((c|tm|r)\)/i, e0 = /\((c|tm|r)\)/gi, t0 = {
  c: "©",
  r: "®",
  tm: "™"
};
function n0(e, t) {
  return t0[t.toLowerCase()];
}
function s0(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const s = e[n];
    s.type === "text" && !t && (s.content = s.content.replace(e0, n0)), s.type === "link_open" && s.info === "auto" && t--, s.type === "link_close" && s.info === "auto" && t++;
  }
}
function r0(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const s = e[n];
    s.type === "text" && !t && rf.test(s.content) && (s.content = s.content.replace(/\+-/g, "±").replace(/\.{2,}/g, "…").replace(/([?!])…/g, "$1..").replace(/([?!]){4,}/g, "$1$1$1").replace(/,{2,}/g, ",").replace(/(^|[^-])---(?=[^-]|$)/gm, "$1—").replace(/(^|\s)--(?=\s|$)/gm, "$1–").replace(/(^|[^-\s])--(?=[^-\s]|$)/gm, "$1–")), s.type === "link_open" && s.info === "auto" && t--, s.type === "link_close" && s.info === "auto" && t++;
  }
}
function i0(e) {
  let t;
  if (e.md.options.typographer)
    for (t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type === "inline" && (Q_.test(e.tokens[t].content) && s0(e.tokens[t].children), rf.test(e.tokens[t].content) && r0(e.tokens[t].children));
}
var o0 = /['"]/, ea = /['"]/g, ta = "’", l0 = 1e3;
function na(e, t, n) {
  for (; e.length > n; ) {
    const s = e.pop();
    s.isSingleQuote ? t.single = s.prevSameQuoteIdx : t.double = s.prevSameQuoteIdx;
  }
}
function dr(e, t, n, s) {
  e[t] || (e[t] = []), e[t].push({
    pos: n,
    ch: s
  });
}
function c0(e, t) {
  let n = "", s = 0;
  t.sort((r, i) => r.pos - i.pos);
  for (let r = 0; r < t.length; r++) {
    const i = t[r];
    n += e.slice(s, i.pos) + i.ch, s = i.pos + 1;
  }
  return n + e.slice(s);
}
function a0(e, t) {
  let n;
  const s = [], r = {
    single: -1,
    double: -1
  }, i = {};
  for (let o = 0; o < e.length; o++) {
    const l = e[o], c = e[o].level;
    for (n = s.length - 1; n >= 0 && !(s[n].level <= c); n--) ;
    if (na(s, r, n + 1), l.type !== "text") continue;
    const a = l.content;
    let u = 0;
    const f = a.length;
    e: for (; u < f; ) {
      ea.lastIndex = u;
      const g = ea.exec(a);
      if (!g) break;
      let p = !0, h = !0;
      u = g.index + 1;
      const k = g[0] === "'";
      let x = 32;
      if (g.index - 1 >= 0) x = a.charCodeAt(g.index - 1);
      else for (n = o - 1; n >= 0 && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n--)
        if (e[n].content) {
          x = e[n].content.charCodeAt(e[n].content.length - 1);
          break;
        }
      let T = 32;
      if (u < f) T = a.charCodeAt(u);
      else for (n = o + 1; n < e.length && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n++)
        if (e[n].content) {
          T = e[n].content.charCodeAt(0);
          break;
        }
      const v = Bs(x) || js(x), b = Bs(T) || js(T), w = $s(x), F = $s(T);
      if (F ? p = !1 : b && (w || v || (p = !1)), w ? h = !1 : v && (F || b || (h = !1)), T === 34 && g[0] === '"' && x >= 48 && x <= 57 && (h = p = !1), p && h && (p = v, h = b), !p && !h) {
        k && dr(i, o, g.index, ta);
        continue;
      }
      if (h && (n = k ? r.single : r.double, n >= 0 && s[n].level === c)) {
        const B = s[n];
        let $, ee;
        k ? ($ = t.md.options.quotes[2], ee = t.md.options.quotes[3]) : ($ = t.md.options.quotes[0], ee = t.md.options.quotes[1]), dr(i, o, g.index, ee), dr(i, B.tokenIdx, B.contentPos, $), na(s, r, n);
        continue e;
      }
      if (p) {
        if (s.length >= l0) return;
        s.push({
          tokenIdx: o,
          contentPos: g.index,
          isSingleQuote: k,
          level: c,
          prevSameQuoteIdx: k ? r.single : r.double
        }), k ? r.single = s.length - 1 : r.double = s.length - 1;
      } else h && k && dr(i, o, g.index, ta);
    }
  }
  Object.keys(i).forEach(function(o) {
    const l = Number(o);
    e[l].content = c0(e[l].content, i[o]);
  });
}
function u0(e) {
  if (e.md.options.typographer)
    for (let t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type !== "inline" || !o0.test(e.tokens[t].content) || a0(e.tokens[t].children, e);
}
function f0(e) {
  let t, n;
  const s = e.length;
  for (t = 0; t < s; t++) e[t].type === "text_special" && (e[t].type = "text");
  for (t = n = 0; t < s; t++) e[t].type === "text" && t + 1 < s && e[t + 1].type === "text" ? e[t + 1].content = e[t].content + e[t + 1].content : (t !== n && (e[n] = e[t]), n++);
  t !== n && (e.length = n);
}
function d0(e) {
  let t, n;
  const s = e.tokens, r = s.length;
  for (let i = 0; i < r; i++) {
    if (s[i].type !== "inline") continue;
    const o = s[i].children, l = o.length;
    for (t = 0; t < l; t++)
      o[t].type === "text_special" && (o[t].type = "text"), o[t].children && f0(o[t].children);
    for (t = n = 0; t < l; t++) o[t].type === "text" && t + 1 < l && o[t + 1].type === "text" ? o[t + 1].content = o[t].content + o[t + 1].content : (t !== n && (o[n] = o[t]), n++);
    t !== n && (o.length = n);
  }
}
var Gi = [
  ["normalize", H_],
  ["block", V_],
  ["strip_references", G_],
  ["inline", K_],
  ["linkify", Z_],
  ["replacements", i0],
  ["smartquotes", u0],
  ["text_join", d0]
], of = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of core rules.
      */
      "ruler",
      new Us()
    ), K(this, "State", sf);
    for (let e = 0; e < Gi.length; e++) this.ruler.push(Gi[e][0], Gi[e][1]);
  }
  /**
  * Executes core chain rules.
  */
  process(e) {
    const t = this.ruler.getRules("");
    for (let n = 0, s = t.length; n < s; n++) t[n](e);
  }
}, lf = class {
  constructor(e, t, n, s) {
    K(this, "bMarks", []), K(this, "eMarks", []), K(this, "tShift", []), K(this, "sCount", []), K(this, "bsCount", []), K(this, "blkIndent", 0), K(this, "line", 0), K(this, "lineMax", 0), K(this, "tight", !1), K(this, "listIndent", -1), K(this, "parentType", "root"), K(this, "level", 0), K(this, "Token", Ln), this.src = e, this.md = t, this.env = n, this.tokens = s;
    const r = this.src;
    for (let i = 0, o = 0, l = 0, c = 0, a = r.length, u = !1; o < a; o++) {
      const f = r.charCodeAt(o);
      if (!u)
        if (Se(f)) {
          l++, f === 9 ? c += 4 - c % 4 : c++;
          continue;
        } else u = !0;
      (f === 10 || o === a - 1) && (f !== 10 && o++, this.bMarks.push(i), this.eMarks.push(o), this.tShift.push(l), this.sCount.push(c), this.bsCount.push(0), u = !1, l = 0, c = 0, i = o + 1);
    }
    this.bMarks.push(r.length), this.eMarks.push(r.length), this.tShift.push(0), this.sCount.push(0), this.bsCount.push(0), this.lineMax = this.bMarks.length - 1;
  }
  push(e, t, n) {
    const s = new Ln(e, t, n);
    return s.block = !0, n < 0 && this.level--, s.level = this.level, n > 0 && this.level++, this.tokens.push(s), s;
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
  getLines(e, t, n, s) {
    if (e >= t) return "";
    const r = new Array(t - e);
    for (let i = 0, o = e; o < t; o++, i++) {
      let l = 0;
      const c = this.bMarks[o];
      let a = c, u;
      for (o + 1 < t || s ? u = this.eMarks[o] + 1 : u = this.eMarks[o]; a < u && l < n; ) {
        const f = this.src.charCodeAt(a);
        if (Se(f))
          f === 9 ? l += 4 - (l + this.bsCount[o]) % 4 : l++;
        else if (a - c < this.tShift[o]) l++;
        else break;
        a++;
      }
      l > n ? r[i] = new Array(l - n + 1).join(" ") + this.src.slice(a, u) : r[i] = this.src.slice(a, u);
    }
    return r.join("");
  }
}, h0 = 65536;
function Ki(e, t) {
  const n = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  return e.src.slice(n, s);
}
function sa(e) {
  const t = [], n = e.length;
  let s = 0, r = e.charCodeAt(s), i = !1, o = 0, l = "";
  for (; s < n; )
    r === 124 && (i ? (l += e.substring(o, s - 1), o = s) : (t.push(l + e.substring(o, s)), l = "", o = s + 1)), i = r === 92, s++, r = e.charCodeAt(s);
  return t.push(l + e.substring(o)), t;
}
function p0(e, t, n, s) {
  if (t + 2 > n) return !1;
  let r = t + 1;
  if (e.sCount[r] < e.blkIndent || e.sCount[r] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[r] + e.tShift[r];
  if (i >= e.eMarks[r]) return !1;
  const o = e.src.charCodeAt(i++);
  if (o !== 124 && o !== 45 && o !== 58 || i >= e.eMarks[r]) return !1;
  const l = e.src.charCodeAt(i++);
  if (l !== 124 && l !== 45 && l !== 58 && !Se(l) || o === 45 && Se(l)) return !1;
  for (; i < e.eMarks[r]; ) {
    const w = e.src.charCodeAt(i);
    if (w !== 124 && w !== 45 && w !== 58 && !Se(w)) return !1;
    i++;
  }
  let c = Ki(e, t + 1), a = c.split("|");
  const u = [];
  for (let w = 0; w < a.length; w++) {
    const F = a[w].trim();
    if (!F) {
      if (w === 0 || w === a.length - 1) continue;
      return !1;
    }
    if (!/^:?-+:?$/.test(F)) return !1;
    F.charCodeAt(F.length - 1) === 58 ? u.push(F.charCodeAt(0) === 58 ? "center" : "right") : F.charCodeAt(0) === 58 ? u.push("left") : u.push("");
  }
  if (c = Ki(e, t).trim(), c.indexOf("|") === -1 || e.sCount[t] - e.blkIndent >= 4) return !1;
  a = sa(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop();
  const f = a.length;
  if (f === 0 || f !== u.length) return !1;
  if (s) return !0;
  const g = e.parentType;
  e.parentType = "table";
  const p = e.md.block.ruler.getRules("blockquote"), h = e.push("table_open", "table", 1), k = [t, 0];
  h.map = k;
  const x = e.push("thead_open", "thead", 1);
  x.map = [t, t + 1];
  const T = e.push("tr_open", "tr", 1);
  T.map = [t, t + 1];
  for (let w = 0; w < a.length; w++) {
    const F = e.push("th_open", "th", 1);
    u[w] && (F.attrs = [["style", `text-align:${u[w]}`]]);
    const B = e.push("inline", "", 0);
    B.content = a[w].trim(), B.children = [], e.push("th_close", "th", -1);
  }
  e.push("tr_close", "tr", -1), e.push("thead_close", "thead", -1);
  let v, b = 0;
  for (r = t + 2; r < n && !(e.sCount[r] < e.blkIndent); r++) {
    let w = !1;
    for (let B = 0, $ = p.length; B < $; B++) if (p[B](e, r, n, !0)) {
      w = !0;
      break;
    }
    if (w || (c = Ki(e, r).trim(), !c) || e.sCount[r] - e.blkIndent >= 4 || (a = sa(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop(), b += f - a.length, b > h0)) break;
    if (r === t + 2) {
      const B = e.push("tbody_open", "tbody", 1);
      B.map = v = [t + 2, 0];
    }
    const F = e.push("tr_open", "tr", 1);
    F.map = [r, r + 1];
    for (let B = 0; B < f; B++) {
      const $ = e.push("td_open", "td", 1);
      u[B] && ($.attrs = [["style", `text-align:${u[B]}`]]);
      const ee = e.push("inline", "", 0);
      ee.content = a[B] ? a[B].trim() : "", ee.children = [], e.push("td_close", "td", -1);
    }
    e.push("tr_close", "tr", -1);
  }
  return v && (e.push("tbody_close", "tbody", -1), v[1] = r), e.push("table_close", "table", -1), k[1] = r, e.parentType = g, e.line = r, !0;
}
function g0(e, t, n) {
  if (e.sCount[t] - e.blkIndent < 4) return !1;
  let s = t + 1, r = s;
  for (; s < n; ) {
    if (e.isEmpty(s)) {
      s++;
      continue;
    }
    if (e.sCount[s] - e.blkIndent >= 4) {
      s++, r = s;
      continue;
    }
    break;
  }
  e.line = r;
  const i = e.push("code_block", "code", 0);
  return i.content = e.getLines(t, r, 4 + e.blkIndent, !1) + `
`, i.map = [t, e.line], !0;
}
function m0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || r + 3 > i) return !1;
  const o = e.src.charCodeAt(r);
  if (o !== 126 && o !== 96) return !1;
  let l = r;
  r = e.skipChars(r, o);
  let c = r - l;
  if (c < 3) return !1;
  const a = e.src.slice(l, r), u = e.src.slice(r, i);
  if (o === 96 && u.indexOf(String.fromCharCode(o)) >= 0)
    return !1;
  if (s) return !0;
  let f = t, g = !1;
  for (; f++, !(f >= n || (r = l = e.bMarks[f] + e.tShift[f], i = e.eMarks[f], r < i && e.sCount[f] < e.blkIndent)); )
    if (e.src.charCodeAt(r) === o && !(e.sCount[f] - e.blkIndent >= 4) && (r = e.skipChars(r, o), !(r - l < c) && (r = e.skipSpaces(r), !(r < i)))) {
      g = !0;
      break;
    }
  c = e.sCount[t], e.line = f + (g ? 1 : 0);
  const p = e.push("fence", "code", 0);
  return p.info = u, p.content = e.getLines(t + 1, f, c, !0), p.markup = a, p.map = [t, e.line], !0;
}
function _0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  const o = e.lineMax;
  if (e.sCount[t] - e.blkIndent >= 4 || e.src.charCodeAt(r) !== 62) return !1;
  if (s) return !0;
  const l = [], c = [], a = [], u = [], f = e.md.block.ruler.getRules("blockquote"), g = e.parentType;
  e.parentType = "blockquote";
  let p = !1, h;
  for (h = t; h < n; h++) {
    const b = e.sCount[h] < e.blkIndent;
    if (r = e.bMarks[h] + e.tShift[h], i = e.eMarks[h], r >= i) break;
    if (e.src.charCodeAt(r++) === 62 && !b) {
      let F = e.sCount[h] + 1, B, $;
      e.src.charCodeAt(r) === 32 ? (r++, F++, $ = !1, B = !0) : e.src.charCodeAt(r) === 9 ? (B = !0, (e.bsCount[h] + F) % 4 === 3 ? (r++, F++, $ = !1) : $ = !0) : B = !1;
      let ee = F;
      for (l.push(e.bMarks[h]), e.bMarks[h] = r; r < i; ) {
        const Y = e.src.charCodeAt(r);
        if (Se(Y))
          Y === 9 ? ee += 4 - (ee + e.bsCount[h] + ($ ? 1 : 0)) % 4 : ee++;
        else break;
        r++;
      }
      p = r >= i, c.push(e.bsCount[h]), e.bsCount[h] = e.sCount[h] + 1 + (B ? 1 : 0), a.push(e.sCount[h]), e.sCount[h] = ee - F, u.push(e.tShift[h]), e.tShift[h] = r - e.bMarks[h];
      continue;
    }
    if (p) break;
    let w = !1;
    for (let F = 0, B = f.length; F < B; F++) if (f[F](e, h, n, !0)) {
      w = !0;
      break;
    }
    if (w) {
      e.lineMax = h, e.blkIndent !== 0 && (l.push(e.bMarks[h]), c.push(e.bsCount[h]), u.push(e.tShift[h]), a.push(e.sCount[h]), e.sCount[h] -= e.blkIndent);
      break;
    }
    l.push(e.bMarks[h]), c.push(e.bsCount[h]), u.push(e.tShift[h]), a.push(e.sCount[h]), e.sCount[h] = -1;
  }
  const k = e.blkIndent;
  e.blkIndent = 0;
  const x = e.push("blockquote_open", "blockquote", 1);
  x.markup = ">";
  const T = [t, 0];
  x.map = T, e.md.block.tokenize(e, t, h);
  const v = e.push("blockquote_close", "blockquote", -1);
  v.markup = ">", e.lineMax = o, e.parentType = g, T[1] = e.line;
  for (let b = 0; b < u.length; b++)
    e.bMarks[b + t] = l[b], e.tShift[b + t] = u[b], e.sCount[b + t] = a[b], e.bsCount[b + t] = c[b];
  return e.blkIndent = k, !0;
}
function y0(e, t, n, s) {
  const r = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[t] + e.tShift[t];
  const o = e.src.charCodeAt(i++);
  if (o !== 42 && o !== 45 && o !== 95) return !1;
  let l = 1;
  for (; i < r; ) {
    const a = e.src.charCodeAt(i++);
    if (a !== o && !Se(a)) return !1;
    a === o && l++;
  }
  if (l < 3) return !1;
  if (s) return !0;
  e.line = t + 1;
  const c = e.push("hr", "hr", 0);
  return c.map = [t, e.line], c.markup = Array(l + 1).join(String.fromCharCode(o)), !0;
}
function ra(e, t) {
  const n = e.eMarks[t];
  let s = e.bMarks[t] + e.tShift[t];
  const r = e.src.charCodeAt(s++);
  return r !== 42 && r !== 45 && r !== 43 || s < n && !Se(e.src.charCodeAt(s)) ? -1 : s;
}
function ia(e, t) {
  const n = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  let r = n;
  if (r + 1 >= s) return -1;
  let i = e.src.charCodeAt(r++);
  if (i < 48 || i > 57) return -1;
  for (; ; ) {
    if (r >= s) return -1;
    if (i = e.src.charCodeAt(r++), i >= 48 && i <= 57) {
      if (r - n >= 10) return -1;
      continue;
    }
    if (i === 41 || i === 46) break;
    return -1;
  }
  return r < s && (i = e.src.charCodeAt(r), !Se(i)) ? -1 : r;
}
function b0(e, t) {
  const n = e.level + 2;
  for (let s = t + 2, r = e.tokens.length - 2; s < r; s++) e.tokens[s].level === n && e.tokens[s].type === "paragraph_open" && (e.tokens[s + 2].hidden = !0, e.tokens[s].hidden = !0, s += 2);
}
function w0(e, t, n, s) {
  let r, i, o, l, c = t, a = !0;
  if (e.sCount[c] - e.blkIndent >= 4 || e.listIndent >= 0 && e.sCount[c] - e.listIndent >= 4 && e.sCount[c] < e.blkIndent) return !1;
  let u = !1;
  s && e.parentType === "paragraph" && e.sCount[c] >= e.blkIndent && (u = !0);
  let f, g, p;
  if ((p = ia(e, c)) >= 0) {
    if (f = !0, o = e.bMarks[c] + e.tShift[c], g = Number(e.src.slice(o, p - 1)), u && g !== 1) return !1;
  } else if ((p = ra(e, c)) >= 0) f = !1;
  else return !1;
  if (u && e.skipSpaces(p) >= e.eMarks[c])
    return !1;
  if (s) return !0;
  const h = e.src.charCodeAt(p - 1), k = e.tokens.length;
  f ? (l = e.push("ordered_list_open", "ol", 1), g !== 1 && (l.attrs = [["start", g]])) : l = e.push("bullet_list_open", "ul", 1);
  const x = [c, 0];
  l.map = x, l.markup = String.fromCharCode(h);
  let T = !1;
  const v = e.md.block.ruler.getRules("list"), b = e.parentType;
  for (e.parentType = "list"; c < n; ) {
    i = p, r = e.eMarks[c];
    const w = e.sCount[c] + p - (e.bMarks[c] + e.tShift[c]);
    let F = w;
    for (; i < r; ) {
      const xe = e.src.charCodeAt(i);
      if (xe === 9) F += 4 - (F + e.bsCount[c]) % 4;
      else if (xe === 32) F++;
      else break;
      i++;
    }
    const B = i;
    let $;
    B >= r ? $ = 1 : $ = F - w, $ > 4 && ($ = 1);
    const ee = w + $;
    l = e.push("list_item_open", "li", 1), l.markup = String.fromCharCode(h);
    const Y = [c, 0];
    l.map = Y, f && (l.info = e.src.slice(o, p - 1));
    const ue = e.tight, ne = e.tShift[c], de = e.sCount[c], De = e.listIndent;
    if (e.listIndent = e.blkIndent, e.blkIndent = ee, e.tight = !0, e.tShift[c] = B - e.bMarks[c], e.sCount[c] = F, B >= r && e.isEmpty(c + 1) ? e.line = Math.min(e.line + 2, n) : e.md.block.tokenize(e, c, n), (!e.tight || T) && (a = !1), T = e.line - c > 1 && e.isEmpty(e.line - 1), e.blkIndent = e.listIndent, e.listIndent = De, e.tShift[c] = ne, e.sCount[c] = de, e.tight = ue, l = e.push("list_item_close", "li", -1), l.markup = String.fromCharCode(h), c = e.line, Y[1] = c, c >= n || e.sCount[c] < e.blkIndent || e.sCount[c] - e.blkIndent >= 4) break;
    let ke = !1;
    for (let xe = 0, at = v.length; xe < at; xe++) if (v[xe](e, c, n, !0)) {
      ke = !0;
      break;
    }
    if (ke) break;
    if (f) {
      if (p = ia(e, c), p < 0) break;
      o = e.bMarks[c] + e.tShift[c];
    } else if (p = ra(e, c), p < 0) break;
    if (h !== e.src.charCodeAt(p - 1)) break;
  }
  return f ? l = e.push("ordered_list_close", "ol", -1) : l = e.push("bullet_list_close", "ul", -1), l.markup = String.fromCharCode(h), x[1] = c, e.line = c, e.parentType = b, a && b0(e, k), !0;
}
var Xi = 999;
function k0(e) {
  let t = e.length;
  for (let n = 0; n < e.length - 1; n++) {
    const s = e.charCodeAt(n);
    if (s < 55296 || s > 56319) continue;
    const r = e.charCodeAt(n + 1);
    r >= 56320 && r <= 57343 && (t--, n++);
  }
  return t;
}
function _s(e, t) {
  return Math.min(e.eMarks[t] + 1, e.src.length);
}
function hr(e, t) {
  const n = e.lineMax;
  if (t >= n || e.isEmpty(t)) return -1;
  let s = !1;
  if (e.sCount[t] - e.blkIndent > 3 && (s = !0), e.sCount[t] < 0 && (s = !0), !s) {
    const r = e.md.block.ruler.getRules("reference"), i = e.parentType;
    e.parentType = "reference";
    let o = !1;
    for (let l = 0, c = r.length; l < c; l++) if (r[l](e, t, n, !0)) {
      o = !0;
      break;
    }
    if (e.parentType = i, o) return -1;
  }
  return e.bMarks[t] + e.tShift[t];
}
function v0(e, t, n, s) {
  const r = e.src;
  let i = e.bMarks[t] + e.tShift[t], o = t + 1;
  if (e.sCount[t] - e.blkIndent >= 4 || r.charCodeAt(i) !== 91) return !1;
  let l = _s(e, t), c = "", a = -1, u = ++i;
  for (; i < l; ) {
    if (c.length + i - u > Xi * 2) return !1;
    let B = r.charCodeAt(i);
    if (B === 91) return !1;
    if (B === 93) {
      a = i;
      break;
    }
    if (B === 92 && (B = r.charCodeAt(++i)), B === 10 && i < l) {
      const $ = hr(e, o);
      if ($ < 0) return !1;
      c += r.slice(u, l), i = u = $, l = _s(e, o++);
      continue;
    }
    i++;
  }
  if (a < 0 || r.charCodeAt(a + 1) !== 58 || (c += r.slice(u, a), c.length > Xi && k0(c) > Xi)) return !1;
  for (i = a + 2; i < l; ) {
    const B = r.charCodeAt(i);
    if (B === 10) {
      const $ = hr(e, o);
      if ($ < 0) break;
      i = $, l = _s(e, o++);
    } else if (Se(B)) i++;
    else break;
  }
  const f = e.md.helpers.parseLinkDestination(r, i, l);
  if (!f.ok) return !1;
  const g = e.md.normalizeLink(f.str);
  if (!e.md.validateLink(g)) return !1;
  i = f.pos;
  const p = i, h = l, k = o;
  for (; i < l; ) {
    const B = r.charCodeAt(i);
    if (B === 10) {
      const $ = hr(e, o);
      if ($ < 0) break;
      i = $, l = _s(e, o++);
    } else if (Se(B)) i++;
    else break;
  }
  const x = i;
  let T = e.md.helpers.parseLinkTitle(r, i, l);
  for (; T.can_continue; ) {
    const B = hr(e, o);
    if (B < 0) break;
    i = B, l = _s(e, o++), T = e.md.helpers.parseLinkTitle(r, i, l, T);
  }
  let v;
  for (x !== p && T.ok ? (v = T.str, i = T.pos) : (v = "", i = p, l = h, o = k); i < l && Se(r.charCodeAt(i)); )
    i++;
  if (i < l && r.charCodeAt(i) !== 10 && v)
    for (v = "", i = p, l = h, o = k; i < l && Se(r.charCodeAt(i)); )
      i++;
  if (i < l && r.charCodeAt(i) !== 10) return !1;
  const b = Hr(c);
  if (!b) return !1;
  if (s) return !0;
  typeof e.env.references > "u" && (e.env.references = {}), typeof e.env.references[b] > "u" && (e.env.references[b] = {
    title: v,
    href: g
  });
  const w = e.push("reference_definition", "", 0);
  w.map = [t, o], w.hidden = !0;
  const F = /* @__PURE__ */ Object.create(null);
  return F.label = b, w.meta = F, e.line = o, !0;
}
var x0 = [
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
], A0 = `<[A-Za-z][A-Za-z0-9\\-]*(?:\\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\\s*=\\s*(?:[^"'=<>\`\\x00-\\x20]+|'[^']*'|"[^"]*"))?)*\\s*\\/?>`, R0 = "<\\/[A-Za-z][A-Za-z0-9\\-]*\\s*>", cf = new RegExp(`^(?:${A0}|${R0})`), An = [
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
    new RegExp(`^</?(${x0.join("|")})(?=(\\s|/?>|$))`, "i"),
    /^$/,
    !0
  ],
  [
    new RegExp(`${cf.source}\\s*$`),
    /^$/,
    !1
  ]
];
function E0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || !e.md.options.html || e.src.charCodeAt(r) !== 60) return !1;
  let o = e.src.slice(r, i), l = 0;
  for (; l < An.length && !An[l][0].test(o); l++) ;
  if (l === An.length) return !1;
  if (s) return An[l][2];
  let c = t + 1;
  const a = An[l][1].test("");
  if (!An[l][1].test(o)) {
    for (; c < n && !(e.sCount[c] < e.blkIndent && (a || !e.isEmpty(c))); c++)
      if (r = e.bMarks[c] + e.tShift[c], i = e.eMarks[c], o = e.src.slice(r, i), An[l][1].test(o)) {
        o.length !== 0 && c++;
        break;
      }
  }
  e.line = c;
  const u = e.push("html_block", "", 0);
  return u.map = [t, c], u.content = e.getLines(t, c, e.blkIndent, !0), !0;
}
function C0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let o = e.src.charCodeAt(r);
  if (o !== 35 || r >= i) return !1;
  let l = 1;
  for (o = e.src.charCodeAt(++r); o === 35 && r < i && l <= 6; )
    l++, o = e.src.charCodeAt(++r);
  if (l > 6 || r < i && !Se(o)) return !1;
  if (s) return !0;
  i = e.skipSpacesBack(i, r);
  const c = e.skipCharsBack(i, 35, r);
  c > r && Se(e.src.charCodeAt(c - 1)) && (i = c), e.line = t + 1;
  const a = e.push("heading_open", `h${l}`, 1);
  a.markup = "########".slice(0, l), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = Vr(e.src.slice(r, i)), u.map = [t, e.line], u.children = [];
  const f = e.push("heading_close", `h${l}`, -1);
  return f.markup = "########".slice(0, l), !0;
}
function S0(e, t, n) {
  const s = e.md.block.ruler.getRules("paragraph");
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  const r = e.parentType;
  e.parentType = "paragraph";
  let i = 0, o, l = t + 1;
  for (; l < n && !e.isEmpty(l); l++) {
    if (e.sCount[l] - e.blkIndent > 3) continue;
    if (e.sCount[l] >= e.blkIndent) {
      let p = e.bMarks[l] + e.tShift[l];
      const h = e.eMarks[l];
      if (p < h && (o = e.src.charCodeAt(p), (o === 45 || o === 61) && (p = e.skipChars(p, o), p = e.skipSpaces(p), p >= h))) {
        i = o === 61 ? 1 : 2;
        break;
      }
    }
    if (e.sCount[l] < 0) continue;
    let g = !1;
    for (let p = 0, h = s.length; p < h; p++) if (s[p](e, l, n, !0)) {
      g = !0;
      break;
    }
    if (g) break;
  }
  if (!i)
    return e.parentType = r, !1;
  const c = Vr(e.getLines(t, l, e.blkIndent, !1));
  e.line = l + 1;
  const a = e.push("heading_open", `h${i}`, 1);
  a.markup = String.fromCharCode(o), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = c, u.map = [t, e.line - 1], u.children = [];
  const f = e.push("heading_close", `h${i}`, -1);
  return f.markup = String.fromCharCode(o), e.parentType = r, !0;
}
function D0(e, t, n) {
  const s = e.md.block.ruler.getRules("paragraph"), r = e.parentType;
  let i = t + 1;
  for (e.parentType = "paragraph"; i < n && !e.isEmpty(i); i++) {
    if (e.sCount[i] - e.blkIndent > 3 || e.sCount[i] < 0) continue;
    let a = !1;
    for (let u = 0, f = s.length; u < f; u++) if (s[u](e, i, n, !0)) {
      a = !0;
      break;
    }
    if (a) break;
  }
  const o = Vr(e.getLines(t, i, e.blkIndent, !1));
  e.line = i;
  const l = e.push("paragraph_open", "p", 1);
  l.map = [t, e.line];
  const c = e.push("inline", "", 0);
  return c.content = o, c.map = [t, e.line], c.children = [], e.push("paragraph_close", "p", -1), e.parentType = r, !0;
}
var pr = [
  [
    "table",
    p0,
    ["paragraph", "reference"]
  ],
  ["code", g0],
  [
    "fence",
    m0,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "blockquote",
    _0,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "hr",
    y0,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "list",
    w0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["reference", v0],
  [
    "html_block",
    E0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  [
    "heading",
    C0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["lheading", S0],
  ["paragraph", D0]
], af = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of block rules.
      */
      "ruler",
      new Us()
    ), K(this, "State", lf);
    for (let e = 0; e < pr.length; e++) this.ruler.push(pr[e][0], pr[e][1], { alt: (pr[e][2] || []).slice() });
  }
  tokenize(e, t, n) {
    const s = this.ruler.getRules(""), r = s.length, i = e.md.options.maxNesting;
    let o = t, l = !1;
    for (; o < n && (e.line = o = e.skipEmptyLines(o), !(o >= n || e.sCount[o] < e.blkIndent)); ) {
      if (e.level >= i) {
        e.line = n;
        break;
      }
      const c = e.line;
      let a = !1;
      for (let u = 0; u < r; u++)
        if (a = s[u](e, o, n, !1), a) {
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
  parse(e, t, n, s) {
    if (!e) return;
    const r = new this.State(e, t, n, s);
    this.tokenize(r, r.line, r.lineMax);
  }
}, uf = class {
  constructor(e, t, n, s) {
    K(this, "pos", 0), K(this, "level", 0), K(this, "pending", ""), K(this, "pendingLevel", 0), K(this, "cache", {}), K(this, "backticks", {}), K(this, "backticksScanned", !1), K(this, "skipHtmlSpecial", !1), K(this, "linkLevel", 0), K(this, "delimiters", []), K(this, "_prev_delimiters", []), K(this, "Token", Ln), this.src = e, this.env = n, this.md = t, this.tokens = s, this.tokens_meta = Array(s.length), this.posMax = this.src.length;
  }
  pushPending() {
    const e = new Ln("text", "", 0);
    return e.content = this.pending, e.level = this.pendingLevel, this.tokens.push(e), this.pending = "", e;
  }
  push(e, t, n) {
    this.pending && this.pushPending();
    const s = new Ln(e, t, n);
    let r;
    return n < 0 && (this.level--, this.delimiters = this._prev_delimiters.pop()), s.level = this.level, n > 0 && (this.level++, this._prev_delimiters.push(this.delimiters), this.delimiters = [], r = { delimiters: this.delimiters }), this.pendingLevel = this.level, this.tokens.push(s), this.tokens_meta.push(r), s;
  }
  scanDelims(e, t) {
    const n = this.posMax, s = this.src.charCodeAt(e);
    let r;
    if (e === 0) r = 32;
    else if (e === 1)
      r = this.src.charCodeAt(0), (r & 63488) === 55296 && (r = 65533);
    else if (r = this.src.charCodeAt(e - 1), (r & 64512) === 56320) {
      const h = this.src.charCodeAt(e - 2);
      r = (h & 64512) === 55296 ? 65536 + (h - 55296 << 10) + (r - 56320) : 65533;
    } else (r & 64512) === 55296 && (r = 65533);
    let i = e;
    for (; i < n && this.src.charCodeAt(i) === s; ) i++;
    const o = i - e;
    let l = i < n ? this.src.charCodeAt(i) : 32;
    if ((l & 64512) === 55296) {
      const h = this.src.charCodeAt(i + 1);
      l = (h & 64512) === 56320 ? 65536 + (l - 55296 << 10) + (h - 56320) : 65533;
    } else (l & 64512) === 56320 && (l = 65533);
    const c = Bs(r) || js(r), a = Bs(l) || js(l), u = $s(r), f = $s(l), g = !f && (!a || u || c), p = !u && (!c || f || a);
    return {
      can_open: g && (t || !p || c),
      can_close: p && (t || !g || a),
      length: o
    };
  }
};
function T0(e) {
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
function F0(e, t) {
  let n = e.pos;
  for (; n < e.posMax && !T0(e.src.charCodeAt(n)); ) n++;
  return n === e.pos ? !1 : (t || (e.pending += e.src.slice(e.pos, n)), e.pos = n, !0);
}
function I0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122;
}
function O0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122 || e >= 48 && e <= 57 || e === 43 || e === 45 || e === 46;
}
function N0(e, t) {
  if (!e.md.options.linkify || e.linkLevel > 0) return !1;
  const n = e.pos, s = e.posMax;
  if (n + 3 > s || e.src.charCodeAt(n) !== 58 || e.src.charCodeAt(n + 1) !== 47 || e.src.charCodeAt(n + 2) !== 47) return !1;
  const r = n - Math.min(10, e.pending.length, n);
  let i = n;
  for (; i > r && O0(e.src.charCodeAt(i - 1)); ) i--;
  if (i === n || !I0(e.src.charCodeAt(i))) return !1;
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
    const p = e.push("link_close", "a", -1);
    p.markup = "linkify", p.info = "auto";
  }
  return e.pos += c.length - o, !0;
}
function M0(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 10) return !1;
  const s = e.pending.length - 1, r = e.posMax;
  if (!t)
    if (s >= 0 && e.pending.charCodeAt(s) === 32)
      if (s >= 1 && e.pending.charCodeAt(s - 1) === 32) {
        let i = s - 1;
        for (; i >= 1 && e.pending.charCodeAt(i - 1) === 32; ) i--;
        e.pending = e.pending.slice(0, i), e.push("hardbreak", "br", 0);
      } else
        e.pending = e.pending.slice(0, -1), e.push("softbreak", "br", 0);
    else e.push("softbreak", "br", 0);
  for (n++; n < r && Se(e.src.charCodeAt(n)); ) n++;
  return e.pos = n, !0;
}
var Wo = [];
for (let e = 0; e < 256; e++) Wo.push(0);
"\\!\"#$%&'()*+,./:;<=>?@[]^_`{|}~-".split("").forEach(function(e) {
  Wo[e.charCodeAt(0)] = 1;
});
function L0(e, t) {
  let n = e.pos;
  const s = e.posMax;
  if (e.src.charCodeAt(n) !== 92 || (n++, n >= s)) return !1;
  let r = e.src.charCodeAt(n);
  if (r === 10) {
    for (t || e.push("hardbreak", "br", 0), n++; n < s && (r = e.src.charCodeAt(n), !!Se(r)); )
      n++;
    return e.pos = n, !0;
  }
  if (r === 32) {
    if (!t) {
      const l = e.push("text_special", "", 0);
      l.content = "\\", l.markup = "\\", l.info = "escape";
    }
    return e.pos = n, !0;
  }
  let i = e.src[n];
  if (r >= 55296 && r <= 56319 && n + 1 < s) {
    const l = e.src.charCodeAt(n + 1);
    l >= 56320 && l <= 57343 && (i += e.src[n + 1], n++);
  }
  const o = "\\" + i;
  if (!t) {
    const l = e.push("text_special", "", 0);
    r < 256 && Wo[r] !== 0 ? l.content = i : l.content = o, l.markup = o, l.info = "escape";
  }
  return e.pos = n + 1, !0;
}
function P0(e) {
  const t = {};
  let n = 0;
  for (; (n = e.indexOf("`", n)) !== -1; ) {
    const s = n;
    for (; e.charCodeAt(++n) === 96; ) ;
    t[n - s] = s;
  }
  return t;
}
function $0(e, t) {
  var n;
  const s = e.pos;
  if (e.src.charCodeAt(s) !== 96) return !1;
  const r = e.posMax;
  let i = s + 1;
  for (; i < r && e.src.charCodeAt(i) === 96; ) i++;
  const o = e.src.slice(s, i), l = o.length;
  if (e.backticksScanned || (e.backticks = P0(e.src), e.backticksScanned = !0), ((n = e.backticks[l]) !== null && n !== void 0 ? n : -1) >= i) {
    let c = i, a;
    for (; (a = e.src.indexOf("`", c)) !== -1 && a < r; ) {
      for (c = a + 1; e.src.charCodeAt(c) === 96; ) c++;
      if (c > r) break;
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
function j0(e, t) {
  const n = e.pos, s = e.src.charCodeAt(n);
  if (t || s !== 126) return !1;
  const r = e.scanDelims(e.pos, !0);
  let i = r.length;
  const o = String.fromCharCode(s);
  if (i < 2) return !1;
  let l;
  i % 2 && (l = e.push("text", "", 0), l.content = o, i--);
  for (let c = 0; c < i; c += 2)
    l = e.push("text", "", 0), l.content = o + o, e.delimiters.push({
      marker: s,
      length: 0,
      token: e.tokens.length - 1,
      end: -1,
      open: r.can_open,
      close: r.can_close
    });
  return e.pos += r.length, !0;
}
function oa(e, t) {
  let n;
  const s = [], r = t.length;
  for (let i = 0; i < r; i++) {
    const o = t[i];
    if (o.marker !== 126 || o.end === -1) continue;
    const l = t[o.end];
    n = e.tokens[o.token], n.type = "s_open", n.tag = "s", n.nesting = 1, n.markup = "~~", n.content = "", n = e.tokens[l.token], n.type = "s_close", n.tag = "s", n.nesting = -1, n.markup = "~~", n.content = "", e.tokens[l.token - 1].type === "text" && e.tokens[l.token - 1].content === "~" && s.push(l.token - 1);
  }
  for (; s.length; ) {
    const i = s.pop();
    let o = i + 1;
    for (; o < e.tokens.length && e.tokens[o].type === "s_close"; ) o++;
    o--, i !== o && (n = e.tokens[o], e.tokens[o] = e.tokens[i], e.tokens[i] = n);
  }
}
function B0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  oa(e, e.delimiters);
  for (let r = 0; r < n; r++) {
    var s;
    const i = (s = t[r]) === null || s === void 0 ? void 0 : s.delimiters;
    i && oa(e, i);
  }
}
var ff = {
  tokenize: j0,
  postProcess: B0
};
function z0(e, t) {
  const n = e.pos, s = e.src.charCodeAt(n);
  if (t || s !== 95 && s !== 42) return !1;
  const r = e.scanDelims(e.pos, s === 42);
  for (let i = 0; i < r.length; i++) {
    const o = e.push("text", "", 0);
    o.content = String.fromCharCode(s), e.delimiters.push({
      marker: s,
      length: r.length,
      token: e.tokens.length - 1,
      end: -1,
      open: r.can_open,
      close: r.can_close
    });
  }
  return e.pos += r.length, !0;
}
function la(e, t) {
  const n = t.length;
  for (let s = n - 1; s >= 0; s--) {
    const r = t[s];
    if (r.marker !== 95 && r.marker !== 42 || r.end === -1) continue;
    const i = t[r.end], o = s > 0 && t[s - 1].end === r.end + 1 && t[s - 1].marker === r.marker && t[s - 1].token === r.token - 1 && t[r.end + 1].token === i.token + 1, l = String.fromCharCode(r.marker), c = e.tokens[r.token];
    c.type = o ? "strong_open" : "em_open", c.tag = o ? "strong" : "em", c.nesting = 1, c.markup = o ? l + l : l, c.content = "";
    const a = e.tokens[i.token];
    a.type = o ? "strong_close" : "em_close", a.tag = o ? "strong" : "em", a.nesting = -1, a.markup = o ? l + l : l, a.content = "", o && (e.tokens[t[s - 1].token].content = "", e.tokens[t[r.end + 1].token].content = "", s--);
  }
}
function U0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  la(e, e.delimiters);
  for (let r = 0; r < n; r++) {
    var s;
    const i = (s = t[r]) === null || s === void 0 ? void 0 : s.delimiters;
    i && la(e, i);
  }
}
var df = {
  tokenize: z0,
  postProcess: U0
};
function W0(e, t) {
  let n, s, r, i, o = "", l = "", c = e.pos, a = !0;
  if (e.src.charCodeAt(e.pos) !== 91) return !1;
  const u = e.pos, f = e.posMax, g = e.pos + 1, p = e.md.helpers.parseLinkLabel(e, e.pos, !0);
  if (p < 0) return !1;
  let h = p + 1;
  if (h < f && e.src.charCodeAt(h) === 40) {
    for (a = !1, h++; h < f && (n = e.src.charCodeAt(h), !(!Se(n) && n !== 10)); h++)
      ;
    if (h >= f) return !1;
    if (c = h, r = e.md.helpers.parseLinkDestination(e.src, h, e.posMax), r.ok) {
      for (o = e.md.normalizeLink(r.str), e.md.validateLink(o) ? h = r.pos : o = "", c = h; h < f && (n = e.src.charCodeAt(h), !(!Se(n) && n !== 10)); h++)
        ;
      if (r = e.md.helpers.parseLinkTitle(e.src, h, e.posMax), h < f && c !== h && r.ok)
        for (l = r.str, h = r.pos; h < f && (n = e.src.charCodeAt(h), !(!Se(n) && n !== 10)); h++)
          ;
    }
    (h >= f || e.src.charCodeAt(h) !== 41) && (a = !0), h++;
  }
  if (a) {
    if (typeof e.env.references > "u") return !1;
    if (h < f && e.src.charCodeAt(h) === 91 ? (c = h + 1, h = e.md.helpers.parseLinkLabel(e, h), h >= 0 ? s = e.src.slice(c, h++) : h = p + 1) : h = p + 1, s || (s = e.src.slice(g, p)), s = Hr(s), i = e.env.references[s], !i)
      return e.pos = u, !1;
    o = i.href, l = i.title;
  }
  if (!t) {
    e.pos = g, e.posMax = p;
    const k = e.push("link_open", "a", 1), x = [["href", o]];
    if (k.attrs = x, l && x.push(["title", l]), s) {
      const T = /* @__PURE__ */ Object.create(null);
      T.label = s, k.meta = T;
    }
    e.linkLevel++, e.md.inline.tokenize(e), e.linkLevel--, e.push("link_close", "a", -1);
  }
  return e.pos = h, e.posMax = f, !0;
}
function J0(e, t) {
  let n, s, r, i, o, l, c, a, u = "";
  const f = e.pos, g = e.posMax;
  if (e.src.charCodeAt(e.pos) !== 33 || e.src.charCodeAt(e.pos + 1) !== 91) return !1;
  const p = e.pos + 2, h = e.md.helpers.parseLinkLabel(e, e.pos + 1, !1);
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
    if (i < g && e.src.charCodeAt(i) === 91 ? (a = i + 1, i = e.md.helpers.parseLinkLabel(e, i), i >= 0 ? r = e.src.slice(a, i++) : i = h + 1) : i = h + 1, r || (r = e.src.slice(p, h)), r = Hr(r), o = e.env.references[r], !o)
      return e.pos = f, !1;
    u = o.href, c = o.title;
  }
  if (!t) {
    s = e.src.slice(p, h);
    const k = [];
    e.md.inline.parse(s, e.md, e.env, k);
    const x = e.push("image", "img", 0), T = [["src", u], ["alt", ""]];
    if (x.attrs = T, x.children = k, x.content = s, c && T.push(["title", c]), r) {
      const v = /* @__PURE__ */ Object.create(null);
      v.label = r, x.meta = v;
    }
  }
  return e.pos = i, e.posMax = g, !0;
}
var q0 = /^([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, H0 = /^([a-zA-Z][a-zA-Z0-9+.-]{1,31}):([^<>\x00-\x20]*)$/;
function V0(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 60) return !1;
  const s = e.pos, r = e.posMax;
  for (; ; ) {
    if (++n >= r) return !1;
    const o = e.src.charCodeAt(n);
    if (o === 60) return !1;
    if (o === 62) break;
  }
  const i = e.src.slice(s + 1, n);
  if (H0.test(i)) {
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
  if (q0.test(i)) {
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
function G0(e) {
  return /^<a[>\s]/i.test(e);
}
function K0(e) {
  return /^<\/a\s*>/i.test(e);
}
function hf(e) {
  const t = e | 32;
  return t >= 97 && t <= 122;
}
function X0(e, t) {
  const n = e.src;
  let s, r;
  if (n.startsWith("<!--", t)) {
    if (n.startsWith(">", t + 4)) return t + 5;
    if (n.startsWith("->", t + 4)) return t + 6;
    s = t + 4, r = "-->";
  } else if (n.startsWith("<![CDATA[", t))
    s = t + 9, r = "]]>";
  else if (n.charCodeAt(t + 1) === 63)
    s = t + 2, r = "?>";
  else if (hf(n.charCodeAt(t + 2)))
    s = t + 3, r = ">";
  else return -1;
  if (e.skipHtmlSpecial) return -1;
  const i = n.indexOf(r, s);
  return i < 0 ? (e.skipHtmlSpecial = !0, -1) : i + r.length;
}
function Y0(e, t) {
  if (!e.md.options.html) return !1;
  const n = e.posMax, s = e.pos;
  if (e.src.charCodeAt(s) !== 60 || s + 2 >= n) return !1;
  let r;
  const i = e.src.charCodeAt(s + 1);
  if (i === 33 || i === 63) r = X0(e, s);
  else if (i === 47 || hf(i)) {
    const o = e.src.slice(s).match(cf);
    r = o ? s + o[0].length : -1;
  } else return !1;
  if (r < 0) return !1;
  if (!t) {
    const o = e.push("html_inline", "", 0);
    o.content = e.src.slice(s, r), G0(o.content) && e.linkLevel++, K0(o.content) && e.linkLevel--;
  }
  return e.pos = r, !0;
}
var Z0 = /^&#((?:x[a-f0-9]{1,6}|[0-9]{1,7}));/i, Q0 = /^&([a-z][a-z0-9]{1,31});/i;
function ey(e, t) {
  const n = e.pos, s = e.posMax;
  if (e.src.charCodeAt(n) !== 38 || n + 1 >= s) return !1;
  if (e.src.charCodeAt(n + 1) === 35) {
    const r = e.src.slice(n).match(Z0);
    if (r) {
      if (!t) {
        const i = r[1][0].toLowerCase() === "x" ? parseInt(r[1].slice(1), 16) : parseInt(r[1], 10), o = e.push("text_special", "", 0);
        o.content = Uo(i) ? Ps(i) : Ps(65533), o.markup = r[0], o.info = "entity";
      }
      return e.pos += r[0].length, !0;
    }
  } else {
    const r = e.src.slice(n).match(Q0);
    if (r) {
      const i = Wu(r[0]);
      if (i !== r[0]) {
        if (!t) {
          const o = e.push("text_special", "", 0);
          o.content = i, o.markup = r[0], o.info = "entity";
        }
        return e.pos += r[0].length, !0;
      }
    }
  }
  return !1;
}
function ca(e) {
  const t = {}, n = e.length;
  if (!n) return;
  let s = 0, r = -2;
  const i = [];
  for (let o = 0; o < n; o++) {
    const l = e[o];
    if (i.push(0), (e[s].marker !== l.marker || r !== l.token - 1) && (s = o), r = l.token, l.length = l.length || 0, !l.close) continue;
    t.hasOwnProperty(l.marker) || (t[l.marker] = [
      -1,
      -1,
      -1,
      -1,
      -1,
      -1
    ]);
    const c = t[l.marker][(l.open ? 3 : 0) + l.length % 3];
    let a = s - i[s] - 1, u = a;
    for (; a > c; a -= i[a] + 1) {
      const f = e[a];
      if (f.marker === l.marker && f.open && f.end < 0) {
        let g = !1;
        if ((f.close || l.open) && (f.length + l.length) % 3 === 0 && (f.length % 3 !== 0 || l.length % 3 !== 0) && (g = !0), !g) {
          const p = a > 0 && !e[a - 1].open ? i[a - 1] + 1 : 0;
          i[o] = o - a + p, i[a] = p, l.open = !1, f.end = o, f.close = !1, u = -1, r = -2;
          break;
        }
      }
    }
    u !== -1 && (t[l.marker][(l.open ? 3 : 0) + (l.length || 0) % 3] = u);
  }
}
function ty(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  ca(e.delimiters);
  for (let r = 0; r < n; r++) {
    var s;
    const i = (s = t[r]) === null || s === void 0 ? void 0 : s.delimiters;
    i && ca(i);
  }
}
function ny(e) {
  let t, n, s = 0;
  const r = e.tokens, i = e.tokens.length;
  for (t = n = 0; t < i; t++)
    r[t].nesting < 0 && s--, r[t].level = s, r[t].nesting > 0 && s++, r[t].type === "text" && t + 1 < i && r[t + 1].type === "text" ? r[t + 1].content = r[t].content + r[t + 1].content : (t !== n && (r[n] = r[t]), n++);
  t !== n && (r.length = n);
}
var Yi = [
  ["text", F0],
  ["linkify", N0],
  ["newline", M0],
  ["escape", L0],
  ["backticks", $0],
  ["strikethrough", ff.tokenize],
  ["emphasis", df.tokenize],
  ["link", W0],
  ["image", J0],
  ["autolink", V0],
  ["html_inline", Y0],
  ["entity", ey]
], Zi = [
  ["balance_pairs", ty],
  ["strikethrough", ff.postProcess],
  ["emphasis", df.postProcess],
  ["fragments_join", ny]
], pf = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of inline rules.
      */
      "ruler",
      new Us()
    ), K(
      this,
      /**
      * {@link Ruler} instance. Second ruler used for post-processing
      * (e.g. in emphasis-like rules).
      */
      "ruler2",
      new Us()
    ), K(this, "State", uf);
    for (let e = 0; e < Yi.length; e++) this.ruler.push(Yi[e][0], Yi[e][1]);
    for (let e = 0; e < Zi.length; e++) this.ruler2.push(Zi[e][0], Zi[e][1]);
  }
  skipToken(e) {
    const t = e.pos, n = this.ruler.getRules(""), s = n.length, r = e.md.options.maxNesting, i = e.cache;
    if (typeof i[t] < "u") {
      e.pos = i[t];
      return;
    }
    let o = !1;
    if (e.level < r) {
      for (let l = 0; l < s; l++)
        if (e.level++, o = n[l](e, !0), e.level--, o) {
          if (t >= e.pos) throw new Error("inline rule didn't increment state.pos");
          break;
        }
    } else e.pos = e.posMax;
    o || e.pos++, i[t] = e.pos;
  }
  tokenize(e) {
    const t = this.ruler.getRules(""), n = t.length, s = e.posMax, r = e.md.options.maxNesting;
    for (; e.pos < s; ) {
      const i = e.pos;
      let o = !1;
      if (e.level < r) {
        for (let l = 0; l < n; l++)
          if (o = t[l](e, !1), o) {
            if (i >= e.pos) throw new Error("inline rule didn't increment state.pos");
            break;
          }
      }
      if (o) {
        if (e.pos >= s) break;
        continue;
      }
      e.pending += e.src[e.pos++];
    }
    e.pending && e.pushPending();
  }
  /**
  * Process input string and push inline tokens into `outTokens`
  */
  parse(e, t, n, s) {
    const r = new this.State(e, t, n, s);
    this.tokenize(r);
    const i = this.ruler2.getRules(""), o = i.length;
    for (let l = 0; l < o; l++) i[l](r);
  }
}, sy = {
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
}, ry = /^(vbscript|javascript|file|data):/, iy = /^data:image\/(gif|png|jpeg|webp);/, aa = [
  "http:",
  "https:",
  "mailto:"
], Lt = class {
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
    return ry.test(t) ? iy.test(t) : !0;
  }
  /**
  * Function used to encode link url to a machine-readable format,
  * which includes url-encoding, punycode, etc.
  */
  normalizeLink(e) {
    const t = bo(e, !0);
    if (t.hostname && (!t.protocol || aa.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Yc.toASCII(t.hostname);
      } catch {
      }
    return t.auth && (t.auth = Ht(t.auth)), t.hostname && (t.hostname = Ht(t.hostname)), t.pathname && (t.pathname = Ht(t.pathname)), t.search && (t.search = Ht(t.search)), t.hash && (t.hash = Ht(t.hash)), yo(t);
  }
  /**
  * Function used to decode link url to a human-readable format`
  */
  normalizeLinkText(e) {
    const t = bo(e, !0);
    if (t.hostname && (!t.protocol || aa.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Yc.toUnicode(t.hostname);
      } catch {
      }
    return ls(yo(t), ls.defaultChars + "%");
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
      new pf()
    ), K(
      this,
      /**
      * Instance of {@link ParserBlock}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "block",
      new af()
    ), K(
      this,
      /**
      * Instance of {@link ParserCore} chain executor. You may need it to add new
      * rules when writing plugins. For simple rules control use
      * {@link MarkdownIt.disable} and {@link MarkdownIt.enable}.
      */
      "core",
      new of()
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
      new nf()
    ), K(
      this,
      /**
      * [linkify-it](https://github.com/markdown-it/linkify-it) instance.
      * Used by [linkify](https://github.com/markdown-it/markdown-it/blob/master/src/rules_core/linkify.ts)
      * rule.
      */
      "linkify",
      new h_()
    ), K(
      this,
      /**
      * Assorted utility functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/common/utils.ts).
      */
      "utils",
      R_
    ), K(
      this,
      /**
      * Link components parser functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/helpers).
      */
      "helpers",
      Object.assign({}, z_)
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
      const r = e;
      if (t = sy[r], !t) throw new Error(`Wrong 'markdown-it' preset "${r}", check name`);
    } else t = e;
    if (!t) throw new Error("Wrong `markdown-it` preset, can't be empty");
    t.options && (this.options = { ...t.options });
    const n = t.components;
    if (n) {
      var s;
      [
        "core",
        "block",
        "inline"
      ].forEach((i) => {
        var o;
        const l = (o = n[i]) === null || o === void 0 ? void 0 : o.rules;
        l && this[i].ruler.enableOnly(l);
      });
      const r = (s = n.inline) === null || s === void 0 ? void 0 : s.rules2;
      r && this.inline.ruler2.enableOnly(r);
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
    ].forEach((r) => {
      n = n.concat(this[r].ruler.enable(e, !0));
    }), n = n.concat(this.inline.ruler2.enable(e, !0));
    const s = e.filter((r) => n.indexOf(r) < 0);
    if (s.length && !t) throw new Error(`MarkdownIt. Failed to enable unknown rule(s): ${s}`);
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
    ].forEach((r) => {
      n = n.concat(this[r].ruler.disable(e, !0));
    }), n = n.concat(this.inline.ruler2.disable(e, !0));
    const s = e.filter((r) => n.indexOf(r) < 0);
    if (s.length && !t) throw new Error(`MarkdownIt. Failed to disable unknown rule(s): ${s}`);
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
K(Lt, "Token", Ln);
K(Lt, "Ruler", Us);
K(Lt, "Renderer", nf);
K(Lt, "ParserCore", of);
K(Lt, "StateCore", sf);
K(Lt, "ParserBlock", af);
K(Lt, "StateBlock", lf);
K(Lt, "ParserInline", pf);
K(Lt, "StateInline", uf);
var oy = Qu(Lt);
const ly = 200 * 1024, Jo = /^(?:https?:\/\/|mailto:)/i, cy = [
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
], ay = ["href", "title", "target", "rel", "start", "class"], Hs = new oy({ html: !1, linkify: !0, breaks: !0, typographer: !1 });
Hs.disable(["image"]);
Hs.validateLink = (e) => Jo.test(String(e).trim());
const uy = Hs.renderer.rules.link_open ?? ((e, t, n, s, r) => r.renderToken(e, t, n));
Hs.renderer.rules.link_open = (e, t, n, s, r) => (e[t].attrSet("target", "_blank"), e[t].attrSet("rel", "noopener noreferrer nofollow"), uy(e, t, n, s, r));
function fy(e) {
  return String(e).replace(/[&<>"']/g, (t) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[t]);
}
let ua = null;
function dy(e) {
  return !e?.isSupported || typeof e.sanitize != "function" ? null : (ua !== e && (e.addHook("afterSanitizeAttributes", (t) => {
    if (t.nodeName !== "A") return;
    const n = t.getAttribute("href");
    n !== null && !Jo.test(n.trim()) && t.removeAttribute("href"), t.hasAttribute("href") ? (t.setAttribute("target", "_blank"), t.setAttribute("rel", "noopener noreferrer nofollow")) : (t.removeAttribute("target"), t.removeAttribute("rel"));
  }), ua = e), e);
}
function hy(e, t = Om) {
  const n = String(e ?? "").slice(0, ly), s = dy(t);
  if (!s) return `<p>${fy(n)}</p>`;
  const r = Hs.render(n);
  return s.sanitize(r, {
    ALLOWED_TAGS: cy,
    ALLOWED_ATTR: ay,
    ALLOWED_URI_REGEXP: Jo,
    ALLOW_DATA_ATTR: !1,
    ALLOW_ARIA_ATTR: !1
  });
}
const py = 300, Gn = /* @__PURE__ */ new Map();
function Qi(e) {
  const t = String(e ?? "");
  let n = Gn.get(t);
  return n !== void 0 ? Gn.delete(t) : (n = hy(t), Gn.size >= py && Gn.delete(Gn.keys().next().value)), Gn.set(t, n), n;
}
const gy = ["data-prompt", "data-status"], my = { class: "cd-run-head" }, _y = { "data-test": "run-status" }, yy = { class: "cd-hint" }, by = ["value"], wy = {
  key: 1,
  class: "cd-progress",
  "data-test": "run-progress"
}, ky = {
  class: "cd-hint",
  "data-test": "run-node"
}, vy = {
  key: 1,
  class: "cd-err",
  "data-test": "run-reason"
}, xy = ["data-node", "onClick"], Ay = { class: "cd-err" }, Ry = {
  key: 2,
  class: "cd-thumbs",
  "data-test": "run-outputs"
}, Ey = ["src", "alt", "title", "onClick"], fa = {
  __name: "RunCard",
  props: { run: { type: Object, required: !0 }, ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = (i, o) => t.ctl.url(fc(i.id, o.nodeId, o.index, yg)), s = (i) => i < 1 ? `${Math.round(i * 1e3)} ms` : `${i.toFixed(1)} s`, r = (i, o) => t.ctl.url(fc(i.id, o.nodeId, o.index));
    return (i, o) => (U(), q("div", {
      class: rt(["cd-run", "cd-run-" + e.run.status]),
      "data-test": "run",
      "data-prompt": e.run.id,
      "data-status": e.run.status
    }, [
      H("div", my, [
        o[0] || (o[0] = H("span", { class: "cd-who" }, "run", -1)),
        H("b", _y, ie(e.run.status), 1),
        H("span", yy, [
          ge(ie(e.run.short), 1),
          e.run.queuedBy ? (U(), q(oe, { key: 0 }, [
            ge(" · " + ie(e.run.queuedBy), 1)
          ], 64)) : pe("", !0),
          e.run.seconds !== null ? (U(), q(oe, { key: 1 }, [
            ge(" · " + ie(s(e.run.seconds)), 1)
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
        }, null, 8, by)) : (U(), q("progress", wy)),
        H("div", ky, [
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
      e.run.final && e.run.status !== "succeeded" && e.run.reason && !e.run.errors.length ? (U(), q("div", vy, ie(e.run.reason), 1)) : pe("", !0),
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
          onClick: Xn((a) => e.ctl.focusNode(l.nodeId), ["stop"]),
          "data-test": "run-error-node"
        }, [
          ge(ie(l.title), 1),
          l.input ? (U(), q(oe, { key: 0 }, [
            ge(" · " + ie(l.input), 1)
          ], 64)) : pe("", !0)
        ], 8, xy)) : pe("", !0),
        H("span", Ay, ie((l.nodeId ? ": " : "") + l.message), 1)
      ]))), 128)),
      e.run.outputs.length ? (U(), q("div", Ry, [
        (U(!0), q(oe, null, Ge(e.run.outputs, (l) => (U(), q("img", {
          key: l.nodeId + "/" + l.index,
          src: n(e.run, l),
          alt: l.filename,
          title: l.filename + " (click for full size)",
          loading: "lazy",
          onClick: (c) => e.ctl.showImage(r(e.run, l)),
          "data-test": "run-thumb"
        }, null, 8, Ey))), 128))
      ])) : pe("", !0)
    ], 10, gy));
  }
}, Cy = { class: "cd-bar" }, Sy = ["title"], Dy = ["value", "disabled"], Ty = ["value"], Fy = ["disabled"], Iy = ["title"], Oy = ["disabled"], Ny = {
  key: 0,
  class: "cd-hits",
  "data-test": "search-hits"
}, My = {
  key: 0,
  class: "cd-hint"
}, Ly = ["onClick", "data-session"], Py = { class: "cd-hint" }, $y = { key: 0 }, jy = {
  key: 1,
  class: "cd-settings",
  "data-test": "settings-pane"
}, By = ["value"], zy = { class: "cd-wide" }, Uy = { class: "cd-wide" }, Wy = { class: "cd-hint" }, Jy = { class: "cd-row" }, qy = ["disabled"], Hy = {
  class: "cd-skills",
  "data-test": "skills"
}, Vy = ["title"], Gy = ["checked", "onChange", "data-skill"], Ky = {
  key: 0,
  class: "cd-hint",
  "data-test": "skills-hint"
}, Xy = { class: "cd-main" }, Yy = {
  key: 0,
  class: "cd-compacted",
  "data-test": "compacted"
}, Zy = { "data-test": "summary" }, Qy = ["innerHTML"], eb = { class: "cd-user" }, tb = ["data-skill"], nb = { class: "cd-skill" }, sb = ["innerHTML"], rb = ["data-message"], ib = ["disabled", "onClick"], ob = ["disabled", "onClick"], lb = ["disabled", "onClick"], cb = {
  key: 1,
  class: "cd-atts",
  "data-test": "attachments"
}, ab = ["src", "alt", "title", "onClick"], ub = ["href", "title"], fb = {
  key: 2,
  class: "cd-hint",
  "data-test": "waiting"
}, db = {
  key: 3,
  class: "cd-err"
}, hb = ["data-skill"], pb = { class: "cd-skill" }, gb = {
  key: 0,
  class: "cd-typing"
}, mb = ["data-message"], _b = ["disabled", "onClick"], yb = ["disabled", "onClick"], bb = ["innerHTML"], wb = {
  key: 0,
  class: "cd-err"
}, kb = {
  key: 1,
  class: "cd-empty"
}, vb = {
  key: 0,
  class: "cd-hint"
}, xb = ["src"], Ab = ["href"], Rb = {
  key: 2,
  class: "cd-notice cd-stale",
  "data-test": "stale-revert"
}, Eb = { class: "cd-row" }, Cb = {
  key: 3,
  class: "cd-notice",
  "data-test": "notice"
}, Sb = {
  key: 4,
  class: "cd-chips",
  "data-test": "chips"
}, Db = ["title", "data-state"], Tb = ["src"], Fb = ["onClick"], Ib = { class: "cd-input" }, Ob = ["disabled"], Nb = ["accept"], Mb = ["disabled"], Lb = ["disabled"], Pb = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, s = t.ctl.ui, r = Ve(() => s.connected ? s.outage ? "core unavailable, reconnecting…" : s.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), i = Ve(() => s.connected && s.outage ? "cd-outage" : "cd-" + r.value.replace(" ", "-")), o = Ve(() => (s.connected ? s.outage : s.offlineReason) || n.statusDetail || r.value), l = Ve(() => s.connected ? s.outage ? `core unavailable, reconnecting… (${s.outage})` : s.notice ? s.notice : n.lastError ? `${n.lastError.code}: ${n.lastError.message}` : "" : s.offlineReason ? `comfyd is not reachable: ${s.offlineReason}` : ""), c = Ve(() => s.connected && !s.outage && n.status === "working"), a = Ve(() => s.connected && !s.outage && !!s.form.session_id), u = Ve(() => a.value && n.status !== "working" && !n.queuedTurns), f = Ve(() => s.form.skills), g = Ve(() => !!n.config?.api_key_set), p = Ve(() => {
      const J = [...s.sessions];
      return s.form.session_id && !J.some((R) => R.id === s.form.session_id) && J.unshift({ id: s.form.session_id, title: n.title || s.form.session_id }), J;
    }), h = Ve(() => Cg(n)), k = Ve(() => h.value ? n.turns.filter((J) => !J.pending && J.id <= h.value.coversTo) : []), x = Ve(() => h.value ? n.turns.filter((J) => J.pending || J.id > h.value.coversTo) : n.turns);
    function T(J) {
      return String(J).split(/(\[[^\]]*\])/).filter((R) => R).map((R) => R.startsWith("[") && R.endsWith("]") ? { mark: !0, text: R.slice(1, -1) } : { mark: !1, text: R });
    }
    function v(J) {
      J.key === "Enter" && t.ctl.search(), J.key === "Escape" && (s.searchQuery = "", s.searchHits = null);
    }
    const b = Ve(() => {
      const J = {};
      for (const [R, C] of Object.entries(Rg(n))) J[R] = C.map((X) => Eg(X, (ut) => t.ctl.titleOf(ut)));
      return J;
    }), w = (J) => b.value[J] ?? [];
    function F(J) {
      (!J || J.type === "click" || J.key === "Escape") && t.ctl.showImage("");
    }
    const B = /* @__PURE__ */ nr(null);
    yi(
      () => s.image,
      (J) => J && As(() => B.value?.focus())
    );
    const $ = /* @__PURE__ */ nr(null), ee = /* @__PURE__ */ nr(null), Y = (J) => {
      J && (J.scrollTop = J.scrollHeight);
    };
    yi(
      () => [n.turns.length, n.lastSeq, Object.keys(n.runs).length],
      () => As(() => Y($.value))
    ), yi(
      () => n.logs.length,
      () => As(() => Y(ee.value))
    );
    function ue(J) {
      const R = J.target.value;
      R === "__new__" ? t.ctl.createSession() : R && t.ctl.selectSession(R);
    }
    function ne(J) {
      J.key === "Enter" && !J.shiftKey && !J.isComposing && (J.preventDefault(), t.ctl.send());
    }
    const de = /* @__PURE__ */ nr(null), De = [...jo, ".md", ".json", ".txt"].join(","), ke = Ve(() => s.attachments.some((J) => J.state === "ready")), xe = Ve(() => s.connected && (s.draft.trim() || ke.value));
    function at(J) {
      t.ctl.addFiles(J.target.files), J.target.value = "";
    }
    function W(J) {
      J.dataTransfer?.files?.length && t.ctl.addFiles(J.dataTransfer.files);
    }
    function re(J) {
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
      onWheel: R[21] || (R[21] = Xn(() => {
      }, ["stop"])),
      onContextmenu: R[22] || (R[22] = Xn(() => {
      }, ["stop"])),
      onDragover: R[23] || (R[23] = Xn(() => {
      }, ["prevent", "stop"])),
      onDrop: Xn(W, ["prevent", "stop"])
    }, [
      H("div", Cy, [
        H("span", {
          class: rt(["cd-dot", i.value]),
          title: o.value
        }, null, 10, Sy),
        H("select", {
          class: "cd-session",
          value: G(s).form.session_id,
          disabled: !G(s).connected || G(s).busy,
          onChange: ue,
          "data-test": "session"
        }, [
          R[24] || (R[24] = H("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (U(!0), q(oe, null, Ge(p.value, (C) => (U(), q("option", {
            key: C.id,
            value: C.id
          }, ie(C.title), 9, Ty))), 128)),
          R[25] || (R[25] = H("option", { value: "__new__" }, "+ new session", -1))
        ], 40, Dy),
        wn(H("input", {
          class: "cd-search",
          "onUpdate:modelValue": R[0] || (R[0] = (C) => G(s).searchQuery = C),
          type: "search",
          placeholder: "search sessions…",
          disabled: !G(s).connected,
          onKeydown: v,
          "data-test": "session-search",
          title: 'Words, "a phrase", prefix*, a OR b, -excluded; Enter searches'
        }, null, 40, Fy), [
          [qn, G(s).searchQuery]
        ]),
        H("span", {
          class: rt(["cd-status", { "cd-status-outage": G(s).connected && G(s).outage }]),
          title: o.value,
          "data-test": "status"
        }, [
          ge(ie(r.value), 1),
          G(n).queuedTurns ? (U(), q(oe, { key: 0 }, [
            ge(" · " + ie(G(n).queuedTurns) + " queued", 1)
          ], 64)) : pe("", !0)
        ], 10, Iy),
        H("button", {
          class: "cd-btn",
          disabled: !c.value,
          onClick: R[1] || (R[1] = (C) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, Oy),
        H("button", {
          class: rt(["cd-btn", { "cd-on": G(s).showSettings }]),
          onClick: R[2] || (R[2] = (C) => G(s).showSettings = !G(s).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        H("button", {
          class: rt(["cd-btn", { "cd-on": G(s).showLog }]),
          onClick: R[3] || (R[3] = (C) => G(s).showLog = !G(s).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      G(s).searchHits ? (U(), q("div", Ny, [
        G(s).searchHits.length ? pe("", !0) : (U(), q("div", My, "nothing found")),
        (U(!0), q(oe, null, Ge(G(s).searchHits, (C) => (U(), q("button", {
          key: C.key,
          class: "cd-hit",
          onClick: (X) => e.ctl.openHit(C),
          "data-session": C.sessionId
        }, [
          H("b", null, ie(C.title), 1),
          R[26] || (R[26] = ge()),
          H("span", Py, ie(C.kind), 1),
          R[27] || (R[27] = H("br", null, null, -1)),
          (U(!0), q(oe, null, Ge(T(C.snippet), (X, ut) => (U(), q(oe, { key: ut }, [
            X.mark ? (U(), q("mark", $y, ie(X.text), 1)) : (U(), q(oe, { key: 1 }, [
              ge(ie(X.text), 1)
            ], 64))
          ], 64))), 128))
        ], 8, Ly))), 128))
      ])) : pe("", !0),
      G(s).showSettings ? (U(), q("div", jy, [
        H("label", null, [
          R[28] || (R[28] = ge("Provider ", -1)),
          wn(H("select", {
            "onUpdate:modelValue": R[4] || (R[4] = (C) => G(s).form.provider = C),
            onChange: R[5] || (R[5] = (C) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (U(!0), q(oe, null, Ge(G(Lg), (C) => (U(), q("option", {
              key: C,
              value: C
            }, ie(C), 9, By))), 128))
          ], 544), [
            [Hh, G(s).form.provider]
          ])
        ]),
        H("label", null, [
          R[29] || (R[29] = ge("Model ", -1)),
          wn(H("input", {
            "onUpdate:modelValue": R[6] || (R[6] = (C) => G(s).form.model = C),
            onChange: R[7] || (R[7] = (C) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [qn, G(s).form.model]
          ])
        ]),
        H("label", null, [
          R[30] || (R[30] = ge("Base URL ", -1)),
          wn(H("input", {
            "onUpdate:modelValue": R[8] || (R[8] = (C) => G(s).form.base_url = C),
            onChange: R[9] || (R[9] = (C) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [qn, G(s).form.base_url]
          ])
        ]),
        H("label", zy, [
          R[31] || (R[31] = ge("System prompt ", -1)),
          wn(H("textarea", {
            "onUpdate:modelValue": R[10] || (R[10] = (C) => G(s).form.system_prompt = C),
            rows: "2",
            onChange: R[11] || (R[11] = (C) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [qn, G(s).form.system_prompt]
          ])
        ]),
        H("label", Uy, [
          R[32] || (R[32] = ge("API key ", -1)),
          H("span", Wy, ie(g.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          H("span", Jy, [
            wn(H("input", {
              "onUpdate:modelValue": R[12] || (R[12] = (C) => G(s).apiKey = C),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [qn, G(s).apiKey]
            ]),
            H("button", {
              class: "cd-btn",
              onClick: R[13] || (R[13] = (C) => e.ctl.setApiKey()),
              disabled: !G(s).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, qy)
          ])
        ])
      ])) : pe("", !0),
      H("div", Hy, [
        (U(!0), q(oe, null, Ge(G(s).skills, (C) => (U(), q("label", {
          key: C.name,
          class: rt(["cd-chip", { "cd-on": f.value.includes(C.name) }]),
          title: C.description
        }, [
          H("input", {
            type: "checkbox",
            checked: f.value.includes(C.name),
            onChange: (X) => e.ctl.toggleSkill(C.name, X.target.checked),
            "data-skill": C.name
          }, null, 40, Gy),
          ge(" " + ie(C.name), 1)
        ], 10, Vy))), 128)),
        G(s).skills.length ? pe("", !0) : (U(), q("span", Ky, [
          ge(ie(G(s).connected ? G(s).outage ? "waiting for the core…" : "no skills loaded" : "connecting to comfyd…"), 1),
          !G(s).connected && G(s).offlineReason ? (U(), q(oe, { key: 0 }, [
            ge(" (" + ie(G(s).offlineReason) + ")", 1)
          ], 64)) : pe("", !0)
        ]))
      ]),
      H("div", Xy, [
        H("div", {
          ref_key: "chat",
          ref: $,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          h.value ? (U(), q("details", Yy, [
            H("summary", Zy, [
              R[33] || (R[33] = H("b", null, "Summary", -1)),
              ge(" of " + ie(k.value.length) + " earlier turn" + ie(k.value.length === 1 ? "" : "s") + " (what the model sees now; the originals below) ", 1),
              H("div", {
                class: "cd-text cd-md",
                innerHTML: G(Qi)(h.value.content)
              }, null, 8, Qy)
            ]),
            (U(!0), q(oe, null, Ge(k.value, (C) => (U(), q("div", {
              key: C.id,
              class: "cd-turn cd-old"
            }, [
              H("div", eb, [
                R[34] || (R[34] = H("span", { class: "cd-who" }, "you", -1)),
                ge(ie(C.content), 1)
              ]),
              H("div", {
                class: "cd-replies",
                style: Ts({ "--cols": Math.max(1, G(ar)(C, f.value).length) })
              }, [
                (U(!0), q(oe, null, Ge(G(ar)(C, f.value), (X) => (U(), q("div", {
                  key: X.skill,
                  class: rt(["cd-reply", "cd-" + X.state]),
                  "data-skill": X.skill
                }, [
                  H("div", nb, ie(X.skill), 1),
                  H("div", {
                    class: "cd-text cd-md",
                    innerHTML: G(Qi)(X.content)
                  }, null, 8, sb)
                ], 10, tb))), 128))
              ], 4)
            ]))), 128))
          ])) : pe("", !0),
          (U(!0), q(oe, null, Ge(x.value, (C) => (U(), q("div", {
            key: C.pending ? C.clientId : C.id,
            class: "cd-turn"
          }, [
            H("div", {
              class: rt(["cd-user", { "cd-failed": C.state === "failed", "cd-waiting": C.state === "waiting" }])
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
                  onClick: (X) => e.ctl.forkFrom(C.id),
                  "data-test": "fork",
                  title: "Fork from here: a new session with the history up to this message"
                }, "fork", 8, ib),
                H("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (X) => e.ctl.revertTo(C.id),
                  "data-test": "revert",
                  title: "Revert to here: hide the later messages (kept in comfyd)"
                }, "revert", 8, ob),
                H("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (X) => e.ctl.revertTo(C.id, { canvas: !0 }),
                  "data-test": "revert-canvas",
                  title: "Revert to here and put the canvas back as it was before this turn's changes"
                }, "revert + canvas", 8, lb)
              ], 8, rb)),
              R[35] || (R[35] = H("span", { class: "cd-who" }, "you", -1)),
              ge(ie(C.content) + " ", 1),
              C.attachments?.length ? (U(), q("span", cb, [
                (U(!0), q(oe, null, Ge(C.attachments, (X) => (U(), q(oe, {
                  key: X.sha256
                }, [
                  le(X) ? (U(), q("img", {
                    key: 0,
                    class: "cd-thumb",
                    src: e.ctl.attachmentUrl(X.sha256),
                    alt: X.name,
                    title: X.name + (X.width ? ` · ${X.width}×${X.height}` : ""),
                    onClick: (ut) => e.ctl.showImage(e.ctl.attachmentUrl(X.sha256)),
                    "data-test": "attachment"
                  }, null, 8, ab)) : (U(), q("a", {
                    key: 1,
                    class: "cd-file",
                    href: e.ctl.attachmentUrl(X.sha256),
                    target: "_blank",
                    rel: "noopener",
                    title: X.mime,
                    "data-test": "attachment"
                  }, ie(X.name || X.mime), 9, ub))
                ], 64))), 128))
              ])) : pe("", !0),
              C.state === "waiting" ? (U(), q("span", fb, " — waiting for comfyd, sent when it is back")) : pe("", !0),
              C.error ? (U(), q("span", db, " — " + ie(C.error), 1)) : pe("", !0)
            ], 2),
            H("div", {
              class: "cd-replies",
              style: Ts({ "--cols": Math.max(1, G(ar)(C, f.value).length) })
            }, [
              (U(!0), q(oe, null, Ge(G(ar)(C, f.value), (X) => (U(), q("div", {
                key: X.skill,
                class: rt(["cd-reply", "cd-" + X.state]),
                "data-skill": X.skill
              }, [
                H("div", pb, [
                  ge(ie(X.skill), 1),
                  X.state === "streaming" ? (U(), q("span", gb, "…")) : pe("", !0),
                  X.id ? (U(), q("span", {
                    key: 1,
                    class: "cd-acts",
                    "data-test": "reply-actions",
                    "data-message": X.id
                  }, [
                    H("button", {
                      class: "cd-act",
                      disabled: !a.value,
                      onClick: (ut) => e.ctl.forkFrom(X.id),
                      "data-test": "fork",
                      title: "Fork from here: a new session with the history up to this reply"
                    }, "fork", 8, _b),
                    H("button", {
                      class: "cd-act",
                      disabled: !u.value,
                      onClick: (ut) => e.ctl.revertTo(X.id),
                      "data-test": "revert",
                      title: "Revert to here: hide the later messages (kept in comfyd)"
                    }, "revert", 8, yb)
                  ], 8, mb)) : pe("", !0)
                ]),
                H("div", {
                  class: "cd-text cd-md",
                  innerHTML: G(Qi)(X.content)
                }, null, 8, bb),
                X.error ? (U(), q("div", wb, ie(X.error), 1)) : pe("", !0)
              ], 10, hb))), 128))
            ], 4),
            (U(!0), q(oe, null, Ge(w(C.id), (X) => (U(), mr(fa, {
              key: X.id,
              run: X,
              ctl: e.ctl
            }, null, 8, ["run", "ctl"]))), 128))
          ]))), 128)),
          (U(!0), q(oe, null, Ge(w(0), (C) => (U(), mr(fa, {
            key: C.id,
            run: C,
            ctl: e.ctl,
            class: "cd-run-loose"
          }, null, 8, ["run", "ctl"]))), 128)),
          G(n).turns.length ? pe("", !0) : (U(), q("div", kb, ie(G(s).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        G(s).showLog ? (U(), q("div", {
          key: 0,
          ref_key: "logBox",
          ref: ee,
          class: "cd-log",
          "data-test": "log"
        }, [
          (U(!0), q(oe, null, Ge(G(n).logs, (C, X) => (U(), q("div", {
            key: C.seq + ":" + X,
            class: rt("cd-l-" + C.level)
          }, [
            H("b", null, ie(C.level), 1),
            ge(" " + ie(C.module), 1),
            C.skill ? (U(), q(oe, { key: 0 }, [
              ge(" [" + ie(C.skill) + "]", 1)
            ], 64)) : pe("", !0),
            ge(": " + ie(C.message), 1)
          ], 2))), 128)),
          G(n).logs.length ? pe("", !0) : (U(), q("div", vb, "no debug output yet"))
        ], 512)) : pe("", !0)
      ]),
      (U(), mr($d, { to: "body" }, [
        G(s).image ? (U(), q("div", {
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
            src: G(s).image,
            alt: "full size"
          }, null, 8, xb),
          H("a", {
            href: G(s).image,
            target: "_blank",
            rel: "noopener",
            onClick: R[14] || (R[14] = Xn(() => {
            }, ["stop"]))
          }, "open in a new tab", 8, Ab)
        ], 544)) : pe("", !0)
      ])),
      G(s).staleRevert ? (U(), q("div", Rb, [
        ge(ie(G(s).staleRevert.message) + " ", 1),
        H("span", Eb, [
          H("button", {
            class: "cd-btn",
            onClick: R[15] || (R[15] = (C) => e.ctl.revertTo(G(s).staleRevert.messageId, { canvas: !0, force: !0 })),
            "data-test": "revert-force"
          }, "restore the canvas anyway"),
          H("button", {
            class: "cd-btn",
            onClick: R[16] || (R[16] = (C) => e.ctl.revertTo(G(s).staleRevert.messageId)),
            "data-test": "revert-keep-canvas"
          }, "revert, keep the canvas"),
          H("button", {
            class: "cd-btn",
            onClick: R[17] || (R[17] = (C) => G(s).staleRevert = null),
            "data-test": "revert-dismiss"
          }, "dismiss")
        ])
      ])) : pe("", !0),
      l.value ? (U(), q("div", Cb, ie(l.value), 1)) : pe("", !0),
      G(s).attachments.length ? (U(), q("div", Sb, [
        (U(!0), q(oe, null, Ge(G(s).attachments, (C) => (U(), q("span", {
          key: C.key,
          class: rt(["cd-chip cd-att", "cd-att-" + C.state]),
          title: C.error || C.mime,
          "data-state": C.state
        }, [
          C.preview ? (U(), q("img", {
            key: 0,
            class: "cd-chip-thumb",
            src: C.preview,
            alt: ""
          }, null, 8, Tb)) : pe("", !0),
          ge(" " + ie(C.name), 1),
          C.state === "uploading" ? (U(), q(oe, { key: 1 }, [
            ge(" …")
          ], 64)) : pe("", !0),
          C.error ? (U(), q(oe, { key: 2 }, [
            ge(" — " + ie(C.error), 1)
          ], 64)) : pe("", !0),
          H("button", {
            class: "cd-x",
            onClick: (X) => e.ctl.removeAttachment(C.key),
            title: "Remove"
          }, "×", 8, Fb)
        ], 10, Db))), 128))
      ])) : pe("", !0),
      H("div", Ib, [
        H("button", {
          class: "cd-btn",
          disabled: !G(s).connected,
          onClick: R[18] || (R[18] = (C) => de.value?.click()),
          title: "Attach images or text files (or drop, or paste)",
          "data-test": "attach"
        }, "+", 8, Ob),
        H("input", {
          ref_key: "picker",
          ref: de,
          type: "file",
          multiple: "",
          accept: G(De),
          style: { display: "none" },
          onChange: at,
          "data-test": "file"
        }, null, 40, Nb),
        wn(H("textarea", {
          "onUpdate:modelValue": R[19] || (R[19] = (C) => G(s).draft = C),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !G(s).connected,
          onKeydown: ne,
          onPaste: re,
          "data-test": "input"
        }, null, 40, Mb), [
          [qn, G(s).draft]
        ]),
        H("button", {
          class: "cd-btn cd-send",
          disabled: !xe.value,
          onClick: R[20] || (R[20] = (C) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, Lb)
      ])
    ], 32));
  }
}, $b = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline,.comfyd-panel .cd-outage{background:#c84a4a}.comfyd-panel .cd-status.cd-status-outage{color:#e0a050;white-space:normal}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{word-break:break-word}.comfyd-panel .cd-waiting{opacity:.75}.comfyd-panel .cd-md>:first-child{margin-top:0}.comfyd-panel .cd-md>:last-child{margin-bottom:0}.comfyd-panel .cd-md p,.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol,.comfyd-panel .cd-md pre,.comfyd-panel .cd-md blockquote,.comfyd-panel .cd-md table{margin:0 0 6px}.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol{padding-left:18px}.comfyd-panel .cd-md h1,.comfyd-panel .cd-md h2,.comfyd-panel .cd-md h3,.comfyd-panel .cd-md h4,.comfyd-panel .cd-md h5,.comfyd-panel .cd-md h6{font-size:13px;margin:6px 0 4px}.comfyd-panel .cd-md code{font:11px/1.35 ui-monospace,DejaVu Sans Mono,monospace;background:#7f7f7f2e;border-radius:3px;padding:0 3px}.comfyd-panel .cd-md pre{padding:4px 6px;overflow-x:auto;background:#00000047;border-radius:4px}.comfyd-panel .cd-md pre code{background:none;padding:0;white-space:pre}.comfyd-panel .cd-md a{color:var(--cd-accent)}.comfyd-panel .cd-md blockquote{border-left:3px solid var(--cd-border);padding-left:6px;color:var(--cd-dim)}.comfyd-panel .cd-md table{border-collapse:collapse}.comfyd-panel .cd-md th,.comfyd-panel .cd-md td{border:1px solid var(--cd-border);padding:1px 4px}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}.comfyd-panel .cd-run{margin:4px 0 2px;padding:4px 6px;border:1px solid var(--border-color, #444);border-left-width:3px;border-radius:4px;font-size:12px}.comfyd-panel .cd-run-head{display:flex;gap:4px;align-items:baseline;flex-wrap:wrap}.comfyd-panel .cd-run-queued,.comfyd-panel .cd-run-running{border-left-color:#4a90d9}.comfyd-panel .cd-run-succeeded{border-left-color:#3c9a5f}.comfyd-panel .cd-run-failed,.comfyd-panel .cd-run-unknown{border-left-color:#c0392b}.comfyd-panel .cd-run-interrupted,.comfyd-panel .cd-run-cancelled{border-left-color:#b08a2e}.comfyd-panel .cd-progress{width:100%;height:8px;margin:3px 0 1px}.comfyd-panel .cd-run-error{margin-top:2px}.comfyd-panel .cd-link{background:none;border:none;padding:0;color:#6fa8ff;text-decoration:underline;cursor:pointer;font:inherit}.comfyd-panel .cd-thumbs{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumbs img{max-width:96px;max-height:96px;border-radius:3px;cursor:zoom-in;background:#222}.comfyd-image-overlay{position:fixed;inset:0;z-index:10000;background:#000000d9;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;cursor:zoom-out}.comfyd-image-overlay img{max-width:95vw;max-height:90vh;object-fit:contain}.comfyd-image-overlay a{color:#ddd;font-size:13px}.comfyd-panel .cd-chips{display:flex;flex-wrap:wrap;gap:4px;margin-bottom:4px}.comfyd-panel .cd-att{display:inline-flex;align-items:center;gap:4px;max-width:100%}.comfyd-panel .cd-att-failed{border-color:#c44;color:#e88}.comfyd-panel .cd-att-uploading{opacity:.7}.comfyd-panel .cd-chip-thumb{width:20px;height:20px;object-fit:cover;border-radius:2px}.comfyd-panel .cd-x{background:none;border:0;color:inherit;cursor:pointer;padding:0 2px}.comfyd-panel .cd-atts{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumb{max-width:96px;max-height:72px;border-radius:3px;cursor:zoom-in;border:1px solid var(--cd-border, #444)}.comfyd-panel .cd-file{font-size:.9em;padding:1px 5px;border:1px solid var(--cd-border, #444);border-radius:3px}.comfyd-panel .cd-search{flex:0 1 9em;min-width:5em}.comfyd-panel .cd-hits{display:flex;flex-direction:column;gap:2px;max-height:12em;overflow-y:auto;padding:4px;border-bottom:1px solid var(--border-color, #444)}.comfyd-panel .cd-hit{text-align:left;background:none;border:1px solid transparent;color:inherit;padding:3px 4px;cursor:pointer;font:inherit}.comfyd-panel .cd-hit:hover{border-color:var(--border-color, #555)}.comfyd-panel .cd-hit mark{background:#6a5d1e;color:inherit}.comfyd-panel .cd-compacted{margin:4px 0 8px;padding:4px 6px;border:1px dashed var(--border-color, #555);border-radius:4px}.comfyd-panel .cd-compacted>summary{cursor:pointer}.comfyd-panel .cd-old{opacity:.75}.comfyd-panel .cd-acts{float:right;visibility:hidden;margin-left:6px}.comfyd-panel .cd-user:hover .cd-acts,.comfyd-panel .cd-reply:hover .cd-acts,.comfyd-panel .cd-acts:focus-within{visibility:visible}.comfyd-panel .cd-act{background:none;border:1px solid #555;border-radius:3px;color:inherit;cursor:pointer;font-size:10px;line-height:14px;margin-left:2px;padding:0 3px}.comfyd-panel .cd-act:disabled{cursor:default;opacity:.4}.comfyd-panel .cd-stale{white-space:pre-wrap}.comfyd-panel .cd-stale .cd-row{display:flex;gap:4px;margin-top:4px}", jb = "comfyd.canvas", Bb = 1500;
function da() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function ko(e, t) {
  (console[e] ?? console.log)(t);
}
function zb(e) {
  const t = da();
  if (t) return e(t, !1);
  let n = 0;
  const s = setInterval(() => {
    const r = da();
    (r || ++n > Bb) && (clearInterval(s), r ? e(r, !0) : ko("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function Ub({ app: e, api: t }, n) {
  const s = new op({
    fetchJson: async (a) => {
      const u = await t.fetchApi(a);
      let f = null;
      try {
        f = await u.json();
      } catch {
        f = null;
      }
      if (!u.ok) throw new Error(f?.error || f?.detail || `${a}: HTTP ${u.status}`);
      return f;
    },
    location: window.location
  }), r = fg({ app: e, LiteGraph: window.LiteGraph }), i = new Zp({
    app: e,
    onLeases: (a) => r.update(a),
    api: t,
    LiteGraph: window.LiteGraph,
    connection: s,
    WebSocket: window.WebSocket,
    tabId: Yp(window.sessionStorage),
    objectInfo: async () => {
      const a = await t.fetchApi("/object_info");
      return a.ok ? a.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: ko,
    isPanelNode: Ni,
    // Previews of agents' patches with Accept / Reject (preview.js).
    preview: new ig({ app: e, document, isPanelNode: Ni })
  }), o = {
    app: e,
    connection: s,
    WebSocket: window.WebSocket,
    createApp: Zh,
    reactive: Do,
    component: Pb,
    css: $b,
    document,
    log: ko,
    // Runs and their outputs come through the package's routes on
    // ComfyUI's own server (same origin; it adds the bridge's token).
    getJson: async (a) => {
      const u = await t.fetchApi(a, { cache: "no-store" });
      if (!u.ok) throw new Error(`${a}: HTTP ${u.status}`);
      return u.json();
    },
    apiUrl: (a) => typeof t.apiURL == "function" ? t.apiURL(a) : `/api${a}`,
    // Attachments are uploaded the same way (the package's POST route).
    postBytes: async (a, u, f) => {
      const g = await t.fetchApi(a, { method: "POST", body: u, headers: { "Content-Type": f || "application/octet-stream" }, cache: "no-store" }), p = await g.json().catch(() => ({}));
      if (!g.ok) throw new Error(p?.error || `HTTP ${g.status}`);
      return p;
    }
  };
  let l = !1;
  const c = () => {
    l || (l = !0, t.addEventListener("graphChanged", () => i.graphChanged()), window.addEventListener("focus", () => i.setFocus(!0)), window.addEventListener("blur", () => i.setFocus(!1)), document.addEventListener("visibilitychange", () => i.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      i.touched(), i.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => i.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => i.setPointerDown(!1), !0), window.addEventListener("keydown", () => i.touched(), !0), mg({ app: e, document }), i.start());
  };
  e.registerExtension({
    name: jb,
    setup: c,
    afterConfigureGraph() {
      i.graphChanged();
    },
    beforeRegisterNodeDef(a, u) {
      u?.name === mo && (a.prototype.isVirtualNode = !0);
    },
    nodeCreated(a) {
      Ni(a) && Kg(a, o);
    }
  }), n && (e.rootGraph ?? e.graph) && c(), window.comfyd = Object.freeze({ editor: i, leases: r, version: "0.1.0" });
}
zb(Ub);
