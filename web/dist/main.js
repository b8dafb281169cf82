// @__NO_SIDE_EFFECTS__
function xs(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const ee = {}, pt = [], mt = () => {
}, Fi = () => !1, Dn = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), Rn = (e) => e.startsWith("onUpdate:"), Se = Object.assign, Vi = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, er = Object.prototype.hasOwnProperty, G = (e, t) => er.call(e, t), P = Array.isArray, et = (e) => ln(e) === "[object Map]", St = (e) => ln(e) === "[object Set]", Us = (e) => ln(e) === "[object Date]", J = (e) => typeof e == "function", ie = (e) => typeof e == "string", Pe = (e) => typeof e == "symbol", te = (e) => e !== null && typeof e == "object", Ui = (e) => (te(e) || J(e)) && J(e.then) && J(e.catch), Wi = Object.prototype.toString, ln = (e) => Wi.call(e), tr = (e) => ln(e).slice(8, -1), qi = (e) => ln(e) === "[object Object]", vs = (e) => ie(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, Gt = /* @__PURE__ */ xs(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), Ln = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, nr = /-\w/g, ke = /* @__PURE__ */ Ln((e) => e.replace(nr, (t) => t.slice(1).toUpperCase())), sr = /\B([A-Z])/g, xt = /* @__PURE__ */ Ln(
  (e) => e.replace(sr, "-$1").toLowerCase()
), Ki = /* @__PURE__ */ Ln((e) => e.charAt(0).toUpperCase() + e.slice(1)), Bn = /* @__PURE__ */ Ln((e) => e ? `on${Ki(e)}` : ""), Le = (e, t) => !Object.is(e, t), _n = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, Hi = (e, t, n, s = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: s,
    value: n
  });
}, cn = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let Ws;
const Pn = () => Ws || (Ws = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function jn(e) {
  if (P(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const s = e[n], i = ie(s) ? lr(s) : jn(s);
      if (i)
        for (const o in i)
          t[o] = i[o];
    }
    return t;
  } else if (ie(e) || te(e))
    return e;
}
const ir = /;(?![^(]*\))/g, or = /:([^]+)/, rr = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function lr(e) {
  const t = {};
  return e.replace(rr, (n) => n.startsWith("/*") ? "" : n).split(ir).forEach((n) => {
    if (n) {
      const s = n.split(or);
      s.length > 1 && (t[s[0].trim()] = s[1].trim());
    }
  }), t;
}
function Me(e) {
  let t = "";
  if (ie(e))
    t = e;
  else if (P(e))
    for (let n = 0; n < e.length; n++) {
      const s = Me(e[n]);
      s && (t += s + " ");
    }
  else if (te(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const cr = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", ar = /* @__PURE__ */ xs(cr);
function Bi(e) {
  return !!e || e === "";
}
function fr(e, t, n) {
  if (e.length !== t.length) return !1;
  let s = !0;
  for (let i = 0; s && i < e.length; i++)
    s = nt(e[i], t[i], n);
  return s;
}
function qs(e, t, n) {
  if (e.size !== t.size) return !1;
  const s = Array.from(t), i = new Uint8Array(s.length);
  for (const o of e) {
    let r = -1;
    for (let l = 0; l < s.length; l++)
      if (!i[l] && nt(o, s[l], n)) {
        r = l;
        break;
      }
    if (r < 0) return !1;
    i[r] = 1;
  }
  return !0;
}
function ur(e, t, n) {
  let s = et(e), i = et(t);
  if (s || i || (s = St(e), i = St(t), s || i))
    return s && i ? qs(e, t, n) : !1;
  const o = Object.keys(e).length, r = Object.keys(t).length;
  if (o !== r)
    return !1;
  for (const l in e) {
    const c = e.hasOwnProperty(l), u = t.hasOwnProperty(l);
    if (c && !u || !c && u || !nt(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function Ks(e, t, n, s) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [i, o] = n;
  if (i.has(e) || o.has(t))
    return i.get(e) === t && o.get(t) === e;
  i.set(e, t), o.set(t, e);
  const r = s(e, t, n);
  return i.delete(e), o.delete(t), r;
}
function nt(e, t, n) {
  if (e === t) return !0;
  let s = Us(e), i = Us(t);
  return s || i ? s && i ? e.getTime() === t.getTime() : !1 : (s = Pe(e), i = Pe(t), s || i ? e === t : (s = P(e), i = P(t), s || i ? s && i ? Ks(e, t, n, fr) : !1 : (s = te(e), i = te(t), s || i ? !s || !i ? !1 : Ks(e, t, n, ur) : String(e) === String(t))));
}
function dr(e, t) {
  return e.findIndex((n) => nt(n, t));
}
const Gi = (e) => !!(e && e.__v_isRef === !0), oe = (e) => ie(e) ? e : e == null ? "" : P(e) || te(e) && (e.toString === Wi || !J(e.toString)) ? Gi(e) ? oe(e.value) : JSON.stringify(e, zi, 2) : String(e), zi = (e, t) => Gi(t) ? zi(e, t.value) : et(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [s, i], o) => (n[Gn(s, o) + " =>"] = i, n),
    {}
  )
} : St(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => Gn(n))
} : Pe(t) ? Gn(t) : te(t) && !P(t) && !qi(t) ? String(t) : t, Gn = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    Pe(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let ae;
class hr {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && ae && (ae.active ? (this.parent = ae, this.index = (ae.scopes || (ae.scopes = [])).push(
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
        const i = this.scopes.slice();
        for (t = 0, n = i.length; t < n; t++)
          i[t].resume();
      }
      const s = this.effects.slice();
      for (t = 0, n = s.length; t < n; t++)
        s[t].resume();
    }
  }
  run(t) {
    if (this._active) {
      const n = ae;
      try {
        return ae = this, t();
      } finally {
        ae = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = ae, ae = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (ae === this)
        ae = this.prevScope;
      else {
        let t = ae;
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
        const i = this.scopes.slice();
        for (n = 0, s = i.length; n < s; n++)
          i[n].stop(!0);
        this.scopes.length = 0;
      }
      if (!this.detached && this.parent && !t) {
        const i = this.parent.scopes.pop();
        i && i !== this && (this.parent.scopes[this.index] = i, i.index = this.index);
      }
      this.parent = void 0;
    }
  }
}
function pr() {
  return ae;
}
let Y;
const zn = /* @__PURE__ */ new WeakSet();
class Ji {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, ae && (ae.active ? ae.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, zn.has(this) && (zn.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || Xi(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, Hs(this), Qi(this);
    const t = Y, n = Ce;
    Y = this, Ce = !0;
    try {
      return this.fn();
    } finally {
      Zi(this), Y = t, Ce = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        ks(t);
      this.deps = this.depsTail = void 0, Hs(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? zn.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    as(this) && this.run();
  }
  get dirty() {
    return as(this);
  }
}
let Yi = 0, zt, Jt;
function Xi(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = Jt, Jt = e;
    return;
  }
  e.next = zt, zt = e;
}
function As() {
  Yi++;
}
function Is() {
  if (--Yi > 0)
    return;
  if (Jt) {
    let t = Jt;
    for (Jt = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; zt; ) {
    let t = zt;
    for (zt = void 0; t; ) {
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
function Qi(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function Zi(e) {
  let t, n = e.depsTail, s = n;
  for (; s; ) {
    const i = s.prevDep;
    s.version === -1 ? (s === n && (n = i), ks(s), gr(s)) : t = s, s.dep.activeLink = s.prevActiveLink, s.prevActiveLink = void 0, s = i;
  }
  e.deps = t, e.depsTail = n;
}
function as(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (eo(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function eo(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === tn) || (e.globalVersion = tn, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !as(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = Y, s = Ce;
  Y = e, Ce = !0;
  try {
    Qi(e);
    const i = e.fn(e._value);
    (t.version === 0 || Le(i, e._value)) && (e.flags |= 128, e._value = i, t.version++);
  } catch (i) {
    throw t.version++, i;
  } finally {
    Y = n, Ce = s, Zi(e), e.flags &= -3;
  }
}
function ks(e, t = !1) {
  const { dep: n, prevSub: s, nextSub: i } = e;
  if (s && (s.nextSub = i, e.prevSub = void 0), i && (i.prevSub = s, e.nextSub = void 0), n.subs === e && (n.subs = s, !s && n.computed)) {
    n.computed.flags &= -5;
    for (let o = n.computed.deps; o; o = o.nextDep)
      ks(o, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function gr(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let Ce = !0;
const to = [];
function st() {
  to.push(Ce), Ce = !1;
}
function it() {
  const e = to.pop();
  Ce = e === void 0 ? !0 : e;
}
function Hs(e) {
  const { cleanup: t } = e;
  if (e.cleanup = void 0, t) {
    const n = Y;
    Y = void 0;
    try {
      t();
    } finally {
      Y = n;
    }
  }
}
let tn = 0;
class mr {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class Cs {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!Y || !Ce || Y === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== Y)
      n = this.activeLink = new mr(Y, this), Y.deps ? (n.prevDep = Y.depsTail, Y.depsTail.nextDep = n, Y.depsTail = n) : Y.deps = Y.depsTail = n, no(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const s = n.nextDep;
      s.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = s), n.prevDep = Y.depsTail, n.nextDep = void 0, Y.depsTail.nextDep = n, Y.depsTail = n, Y.deps === n && (Y.deps = s);
    }
    return n;
  }
  trigger(t) {
    this.version++, tn++, this.notify(t);
  }
  notify(t) {
    As();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      Is();
    }
  }
}
function no(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let s = t.deps; s; s = s.nextDep)
        no(s);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const fs = /* @__PURE__ */ new WeakMap(), yt = /* @__PURE__ */ Symbol(
  ""
), us = /* @__PURE__ */ Symbol(
  ""
), nn = /* @__PURE__ */ Symbol(
  ""
);
function fe(e, t, n) {
  if (Ce && Y) {
    let s = fs.get(e);
    s || fs.set(e, s = /* @__PURE__ */ new Map());
    let i = s.get(n);
    i || (s.set(n, i = new Cs()), i.map = s, i.key = n), i.track();
  }
}
function Ke(e, t, n, s, i, o) {
  const r = fs.get(e);
  if (!r) {
    tn++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (As(), t === "clear")
    r.forEach(l);
  else {
    const c = P(e), u = c && vs(n);
    if (c && n === "length") {
      const d = Number(s);
      r.forEach((p, T) => {
        (T === "length" || T === nn || !Pe(T) && T >= d) && l(p);
      });
    } else
      switch ((n !== void 0 || r.has(void 0)) && l(r.get(n)), u && l(r.get(nn)), t) {
        case "add":
          c ? u && l(r.get("length")) : (l(r.get(yt)), et(e) && l(r.get(us)));
          break;
        case "delete":
          c || (l(r.get(yt)), et(e) && l(r.get(us)));
          break;
        case "set":
          et(e) && l(r.get(yt));
          break;
      }
  }
  Is();
}
function At(e) {
  const t = /* @__PURE__ */ K(e);
  return t === e || (fe(t, "iterate", nn), /* @__PURE__ */ we(e)) ? t : /* @__PURE__ */ je(e) ? /* @__PURE__ */ tt(e) ? t.map((n) => ot(xe(n))) : t.map(ot) : t.map(xe);
}
function Fn(e) {
  return fe(e = /* @__PURE__ */ K(e), "iterate", nn), e;
}
function $e(e, t) {
  return /* @__PURE__ */ je(e) ? ot(/* @__PURE__ */ tt(e) ? xe(t) : t) : xe(t);
}
const yr = {
  __proto__: null,
  [Symbol.iterator]() {
    return Jn(this, Symbol.iterator, (e) => $e(this, e));
  },
  concat(...e) {
    return At(this).concat(
      ...e.map((t) => P(t) ? At(t) : t)
    );
  },
  entries() {
    return Jn(this, "entries", (e) => (e[1] = $e(this, e[1]), e));
  },
  every(e, t) {
    return Ue(this, "every", e, t, void 0, arguments);
  },
  filter(e, t) {
    return Ue(
      this,
      "filter",
      e,
      t,
      (n) => n.map((s) => $e(this, s)),
      arguments
    );
  },
  find(e, t) {
    return Ue(
      this,
      "find",
      e,
      t,
      (n) => $e(this, n),
      arguments
    );
  },
  findIndex(e, t) {
    return Ue(this, "findIndex", e, t, void 0, arguments);
  },
  findLast(e, t) {
    return Ue(
      this,
      "findLast",
      e,
      t,
      (n) => $e(this, n),
      arguments
    );
  },
  findLastIndex(e, t) {
    return Ue(this, "findLastIndex", e, t, void 0, arguments);
  },
  // flat, flatMap could benefit from ARRAY_ITERATE but are not straight-forward to implement
  forEach(e, t) {
    return Ue(this, "forEach", e, t, void 0, arguments);
  },
  includes(...e) {
    return Yn(this, "includes", e);
  },
  indexOf(...e) {
    return Yn(this, "indexOf", e);
  },
  join(e) {
    return At(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return Yn(this, "lastIndexOf", e);
  },
  map(e, t) {
    return Ue(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return Vt(this, "pop");
  },
  push(...e) {
    return Vt(this, "push", e);
  },
  reduce(e, ...t) {
    return Gs(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return Gs(this, "reduceRight", e, t);
  },
  shift() {
    return Vt(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return Ue(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return Vt(this, "splice", e);
  },
  toReversed() {
    return At(this).toReversed();
  },
  toSorted(e) {
    return At(this).toSorted(e);
  },
  toSpliced(...e) {
    return At(this).toSpliced(...e);
  },
  unshift(...e) {
    return Vt(this, "unshift", e);
  },
  values() {
    return Jn(this, "values", (e) => $e(this, e));
  }
};
function Jn(e, t, n) {
  const s = Fn(e), i = s[t], o = i.call(s);
  if (s !== e && !/* @__PURE__ */ we(e)) {
    if (o[Symbol.toStringTag] === "Array Iterator") {
      const r = Object.create(Object.getPrototypeOf(o));
      return r.next = () => Bs(o.next(), n), i !== so[t] && Object.defineProperties(r, {
        return: {
          get() {
            const l = o.return;
            return typeof l == "function" ? l.bind(o) : l;
          }
        },
        throw: {
          get() {
            const l = o.throw;
            return typeof l == "function" ? l.bind(o) : l;
          }
        }
      }), r;
    }
    o._next = o.next, o.next = () => Bs(o._next(), n);
  }
  return o;
}
function Bs(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const so = Array.prototype;
function Ue(e, t, n, s, i, o) {
  const r = Fn(e), l = r !== e && !/* @__PURE__ */ we(e), c = r[t];
  if (c !== so[t]) {
    const p = c.apply(e, o);
    return l ? xe(p) : p;
  }
  let u = n;
  r !== e && (l ? u = function(p, T) {
    return n.call(this, $e(e, p), T, e);
  } : n.length > 2 && (u = function(p, T) {
    return n.call(this, p, T, e);
  }));
  const d = c.call(r, u, s);
  return l && i ? i(d) : d;
}
function Gs(e, t, n, s) {
  const i = Fn(e), o = i !== e && !/* @__PURE__ */ we(e);
  let r = n, l = !1;
  i !== e && (o ? (l = s.length === 0, r = function(u, d, p) {
    return l && (l = !1, u = $e(e, u)), n.call(this, u, $e(e, d), p, e);
  }) : n.length > 3 && (r = function(u, d, p) {
    return n.call(this, u, d, p, e);
  }));
  const c = i[t](r, ...s);
  return l ? $e(e, c) : c;
}
function Yn(e, t, n) {
  const s = /* @__PURE__ */ K(e);
  fe(s, "iterate", nn);
  const i = s[t](...n);
  return (i === -1 || i === !1) && /* @__PURE__ */ Ns(n[0]) ? (n[0] = /* @__PURE__ */ K(n[0]), s[t](...n)) : i;
}
function Vt(e, t, n = []) {
  st(), As();
  const s = (/* @__PURE__ */ K(e))[t].apply(e, n);
  return Is(), it(), s;
}
const _r = /* @__PURE__ */ xs("__proto__,__v_isRef,__isVue"), io = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(Pe)
);
function br(e) {
  Pe(e) || (e = String(e));
  const t = /* @__PURE__ */ K(this);
  return fe(t, "has", e), t.hasOwnProperty(e);
}
class oo {
  constructor(t = !1, n = !1) {
    this._isReadonly = t, this._isShallow = n;
  }
  get(t, n, s) {
    if (n === "__v_skip") return t.__v_skip;
    const i = this._isReadonly, o = this._isShallow;
    if (n === "__v_isReactive")
      return !i;
    if (n === "__v_isReadonly")
      return i;
    if (n === "__v_isShallow")
      return o;
    if (n === "__v_raw")
      return s === (i ? o ? Er : ao : o ? co : lo).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(s) ? t : void 0;
    const r = P(t);
    if (!i) {
      let c;
      if (r && (c = yr[n]))
        return c;
      if (n === "hasOwnProperty")
        return br;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ pe(t) ? t : s
    );
    if ((Pe(n) ? io.has(n) : _r(n)) || (i || fe(t, "get", n), o))
      return l;
    if (/* @__PURE__ */ pe(l)) {
      const c = r && vs(n) ? l : l.value;
      return i && te(c) ? /* @__PURE__ */ hs(c) : c;
    }
    return te(l) ? i ? /* @__PURE__ */ hs(l) : /* @__PURE__ */ Es(l) : l;
  }
}
class ro extends oo {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, s, i) {
    let o = t[n];
    const r = P(t) && vs(n);
    if (!this._isShallow) {
      const u = /* @__PURE__ */ je(o);
      if (!/* @__PURE__ */ we(s) && !/* @__PURE__ */ je(s) && (o = /* @__PURE__ */ K(o), s = /* @__PURE__ */ K(s)), !r && /* @__PURE__ */ pe(o) && !/* @__PURE__ */ pe(s))
        return u || (o.value = s), !0;
    }
    const l = r ? Number(n) < t.length : G(t, n), c = Reflect.set(
      t,
      n,
      s,
      /* @__PURE__ */ pe(t) ? t : i
    );
    return t === /* @__PURE__ */ K(i) && c && (l ? Le(s, o) && Ke(t, "set", n, s) : Ke(t, "add", n, s)), c;
  }
  deleteProperty(t, n) {
    const s = G(t, n);
    t[n];
    const i = Reflect.deleteProperty(t, n);
    return i && s && Ke(t, "delete", n, void 0), i;
  }
  has(t, n) {
    const s = Reflect.has(t, n);
    return (!Pe(n) || !io.has(n)) && fe(t, "has", n), s;
  }
  ownKeys(t) {
    return fe(
      t,
      "iterate",
      P(t) ? "length" : yt
    ), Reflect.ownKeys(t);
  }
}
class wr extends oo {
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
const Sr = /* @__PURE__ */ new ro(), xr = /* @__PURE__ */ new wr(), vr = /* @__PURE__ */ new ro(!0);
const ds = (e) => e, hn = (e) => Reflect.getPrototypeOf(e);
function Ar(e, t, n) {
  return function(...s) {
    const i = this.__v_raw, o = /* @__PURE__ */ K(i), r = et(o), l = e === "entries" || e === Symbol.iterator && r, c = e === "keys" && r, u = i[e](...s), d = n ? ds : t ? ot : xe;
    return !t && fe(
      o,
      "iterate",
      c ? us : yt
    ), Se(
      // inheriting all iterator properties
      Object.create(u),
      {
        // iterator protocol
        next() {
          const { value: p, done: T } = u.next();
          return T ? { value: p, done: T } : {
            value: l ? [d(p[0]), d(p[1])] : d(p),
            done: T
          };
        }
      }
    );
  };
}
function pn(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function Ir(e, t) {
  const n = {
    get(i) {
      const o = this.__v_raw, r = /* @__PURE__ */ K(o), l = /* @__PURE__ */ K(i);
      e || (Le(i, l) && fe(r, "get", i), fe(r, "get", l));
      const { has: c } = hn(r), u = t ? ds : e ? ot : xe;
      if (c.call(r, i))
        return u(o.get(i));
      if (c.call(r, l))
        return u(o.get(l));
      o !== r && o.get(i);
    },
    get size() {
      const i = this.__v_raw;
      return !e && fe(/* @__PURE__ */ K(i), "iterate", yt), i.size;
    },
    has(i) {
      const o = this.__v_raw, r = /* @__PURE__ */ K(o), l = /* @__PURE__ */ K(i);
      return e || (Le(i, l) && fe(r, "has", i), fe(r, "has", l)), i === l ? o.has(i) : o.has(i) || o.has(l);
    },
    forEach(i, o) {
      const r = this, l = r.__v_raw, c = /* @__PURE__ */ K(l), u = t ? ds : e ? ot : xe;
      return !e && fe(c, "iterate", yt), l.forEach((d, p) => i.call(o, u(d), u(p), r));
    }
  };
  return Se(
    n,
    e ? {
      add: pn("add"),
      set: pn("set"),
      delete: pn("delete"),
      clear: pn("clear")
    } : {
      add(i) {
        const o = /* @__PURE__ */ K(this), r = hn(o), l = /* @__PURE__ */ K(i), c = !t && !/* @__PURE__ */ we(i) && !/* @__PURE__ */ je(i) ? l : i;
        return r.has.call(o, c) || Le(i, c) && r.has.call(o, i) || Le(l, c) && r.has.call(o, l) || (o.add(c), Ke(o, "add", c, c)), this;
      },
      set(i, o) {
        !t && !/* @__PURE__ */ we(o) && !/* @__PURE__ */ je(o) && (o = /* @__PURE__ */ K(o));
        const r = /* @__PURE__ */ K(this), { has: l, get: c } = hn(r);
        let u = l.call(r, i);
        u || (i = /* @__PURE__ */ K(i), u = l.call(r, i));
        const d = c.call(r, i);
        return r.set(i, o), u ? Le(o, d) && Ke(r, "set", i, o) : Ke(r, "add", i, o), this;
      },
      delete(i) {
        const o = /* @__PURE__ */ K(this), { has: r, get: l } = hn(o);
        let c = r.call(o, i);
        c || (i = /* @__PURE__ */ K(i), c = r.call(o, i)), l && l.call(o, i);
        const u = o.delete(i);
        return c && Ke(o, "delete", i, void 0), u;
      },
      clear() {
        const i = /* @__PURE__ */ K(this), o = i.size !== 0, r = i.clear();
        return o && Ke(
          i,
          "clear",
          void 0,
          void 0
        ), r;
      }
    }
  ), [
    "keys",
    "values",
    "entries",
    Symbol.iterator
  ].forEach((i) => {
    n[i] = Ar(i, e, t);
  }), n;
}
function Ts(e, t) {
  const n = Ir(e, t);
  return (s, i, o) => i === "__v_isReactive" ? !e : i === "__v_isReadonly" ? e : i === "__v_isShallow" ? t : i === "__v_raw" ? s : Reflect.get(
    G(n, i) && i in s ? n : s,
    i,
    o
  );
}
const kr = {
  get: /* @__PURE__ */ Ts(!1, !1)
}, Cr = {
  get: /* @__PURE__ */ Ts(!1, !0)
}, Tr = {
  get: /* @__PURE__ */ Ts(!0, !1)
};
const lo = /* @__PURE__ */ new WeakMap(), co = /* @__PURE__ */ new WeakMap(), ao = /* @__PURE__ */ new WeakMap(), Er = /* @__PURE__ */ new WeakMap();
function Or(e) {
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
function Es(e) {
  return /* @__PURE__ */ je(e) ? e : Os(
    e,
    !1,
    Sr,
    kr,
    lo
  );
}
// @__NO_SIDE_EFFECTS__
function Nr(e) {
  return Os(
    e,
    !1,
    vr,
    Cr,
    co
  );
}
// @__NO_SIDE_EFFECTS__
function hs(e) {
  return Os(
    e,
    !0,
    xr,
    Tr,
    ao
  );
}
function Os(e, t, n, s, i) {
  if (!te(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const o = i.get(e);
  if (o)
    return o;
  const r = Or(tr(e));
  if (r === 0)
    return e;
  const l = new Proxy(
    e,
    r === 2 ? s : n
  );
  return i.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function tt(e) {
  return /* @__PURE__ */ je(e) ? /* @__PURE__ */ tt(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function je(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function we(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function Ns(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function K(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ K(t) : e;
}
function Mr(e) {
  return !G(e, "__v_skip") && Object.isExtensible(e) && Hi(e, "__v_skip", !0), e;
}
const xe = (e) => te(e) ? /* @__PURE__ */ Es(e) : e, ot = (e) => te(e) ? /* @__PURE__ */ hs(e) : e;
// @__NO_SIDE_EFFECTS__
function pe(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function zs(e) {
  return $r(e, !1);
}
function $r(e, t) {
  return /* @__PURE__ */ pe(e) ? e : new Dr(e, t);
}
class Dr {
  constructor(t, n) {
    this.dep = new Cs(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ K(t), this._value = n ? t : xe(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, s = this.__v_isShallow || /* @__PURE__ */ we(t) || /* @__PURE__ */ je(t);
    t = s ? t : /* @__PURE__ */ K(t), Le(t, n) && (this._rawValue = t, this._value = s ? t : xe(t), this.dep.trigger());
  }
}
function R(e) {
  return /* @__PURE__ */ pe(e) ? e.value : e;
}
const Rr = {
  get: (e, t, n) => t === "__v_raw" ? e : R(Reflect.get(e, t, n)),
  set: (e, t, n, s) => {
    const i = e[t];
    return /* @__PURE__ */ pe(i) && !/* @__PURE__ */ pe(n) ? (i.value = n, !0) : Reflect.set(e, t, n, s);
  }
};
function fo(e) {
  return /* @__PURE__ */ tt(e) ? e : new Proxy(e, Rr);
}
class Lr {
  constructor(t, n, s) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new Cs(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = tn - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = s;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    Y !== this)
      return Xi(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return eo(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function Pr(e, t, n = !1) {
  let s, i;
  return J(e) ? s = e : (s = e.get, i = e.set), new Lr(s, i, n);
}
const gn = {}, xn = /* @__PURE__ */ new WeakMap();
let dt;
function jr(e, t = !1, n = dt) {
  if (n) {
    let s = xn.get(n);
    s || xn.set(n, s = []), s.push(e);
  }
}
function Fr(e, t, n = ee) {
  const { immediate: s, deep: i, once: o, scheduler: r, augmentJob: l, call: c } = n, u = (A) => i ? A : /* @__PURE__ */ we(A) || i === !1 || i === 0 ? He(A, 1) : He(A);
  let d, p, T, E, M = !1, x = !1;
  if (/* @__PURE__ */ pe(e) ? (p = () => e.value, M = /* @__PURE__ */ we(e)) : /* @__PURE__ */ tt(e) ? (p = () => u(e), M = !0) : P(e) ? (x = !0, M = e.some((A) => /* @__PURE__ */ tt(A) || /* @__PURE__ */ we(A)), p = () => e.map((A) => {
    if (/* @__PURE__ */ pe(A))
      return A.value;
    if (/* @__PURE__ */ tt(A))
      return u(A);
    if (J(A))
      return c ? c(A, 2) : A();
  })) : J(e) ? t ? p = c ? () => c(e, 2) : e : p = () => {
    if (T) {
      st();
      try {
        T();
      } finally {
        it();
      }
    }
    const A = dt;
    dt = d;
    try {
      return c ? c(e, 3, [E]) : e(E);
    } finally {
      dt = A;
    }
  } : p = mt, t && i) {
    const A = p, U = i === !0 ? 1 / 0 : i;
    p = () => He(A(), U);
  }
  const S = pr(), b = () => {
    d.stop(), S && S.active && Vi(S.effects, d);
  };
  if (o && t) {
    const A = t;
    t = (...U) => {
      try {
        return A(...U);
      } finally {
        b();
      }
    };
  }
  let v = x ? new Array(e.length).fill(gn) : gn;
  const w = (A) => {
    if (!(!(d.flags & 1) || !d.dirty && !A))
      if (t) {
        const U = d.run();
        if (A || i || M || (x ? U.some((le, _e) => Le(le, v[_e])) : Le(U, v))) {
          const le = dt;
          st();
          try {
            T && T(), dt = d;
            const _e = [
              U,
              // pass undefined as the old value when it's changed for the first time
              v === gn ? void 0 : x && v[0] === gn ? [] : v,
              E
            ];
            v = U, c ? c(t, 3, _e) : (
              // @ts-expect-error
              t(..._e)
            );
          } finally {
            dt = le, it();
          }
        }
      } else
        d.run();
  };
  return l && l(w), d = new Ji(p), d.scheduler = r ? () => r(w, !1) : w, E = (A) => jr(A, !1, d), T = d.onStop = () => {
    const A = xn.get(d);
    if (A) {
      if (c)
        c(A, 4);
      else
        for (const U of A) U();
      xn.delete(d);
    }
  }, t ? s ? w(!0) : v = d.run() : r ? r(w.bind(null, !0), !0) : d.run(), b.pause = d.pause.bind(d), b.resume = d.resume.bind(d), b.stop = b, b;
}
function He(e, t = 1 / 0, n) {
  if (t <= 0 || !te(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ pe(e))
    He(e.value, t, n);
  else if (P(e))
    for (let s = 0; s < e.length; s++)
      He(e[s], t, n);
  else if (St(e) || et(e))
    e.forEach((s) => {
      He(s, t, n);
    });
  else if (qi(e)) {
    for (const s in e)
      He(e[s], t, n);
    for (const s of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, s) && He(e[s], t, n);
  }
  return e;
}
function an(e, t, n, s) {
  try {
    return s ? e(...s) : e();
  } catch (i) {
    Vn(i, t, n);
  }
}
function Je(e, t, n, s) {
  if (J(e)) {
    const i = an(e, t, n, s);
    return i && Ui(i) && i.catch((o) => {
      Vn(o, t, n, void 0, !0);
    }), i;
  }
  if (P(e)) {
    const i = [];
    for (let o = 0; o < e.length; o++)
      i.push(Je(e[o], t, n, s));
    return i;
  }
}
function Vn(e, t, n, s = !0, i = !1) {
  const o = t ? t.vnode : null, { errorHandler: r, throwUnhandledErrorInProduction: l } = t && t.appContext.config || ee;
  if (t) {
    let c = t.parent;
    const u = t.proxy, d = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const p = c.ec;
      if (p && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!i || c.scope.active)) {
        for (let T = 0; T < p.length; T++)
          if (p[T](e, u, d) === !1)
            return;
      }
      c = c.parent;
    }
    if (r) {
      st(), an(r, null, 10, [
        e,
        u,
        d
      ]), it();
      return;
    }
  }
  Vr(e, n, o, s, l);
}
function Vr(e, t, n, s = !0, i = !1) {
  if (i)
    throw e;
  console.error(e);
}
const de = [];
let Ie = -1;
const De = [];
let Ze = null, Ct = 0;
const uo = /* @__PURE__ */ Promise.resolve();
let vn = null;
function An(e) {
  const t = vn || uo;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function Ur(e) {
  let t = Ie + 1, n = de.length;
  for (; t < n; ) {
    const s = t + n >>> 1, i = de[s], o = sn(i);
    o < e || o === e && i.flags & 2 ? t = s + 1 : n = s;
  }
  return t;
}
function Ms(e) {
  if (!(e.flags & 1)) {
    const t = sn(e), n = de[de.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= sn(n) ? de.push(e) : de.splice(Ur(t), 0, e), e.flags |= 1, ho();
  }
}
function ho() {
  vn || (vn = uo.then(mo));
}
function Wr(e) {
  if (!P(e))
    Ze && e.id === -1 ? Ze.splice(Ct + 1, 0, e) : e.flags & 1 || (De.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      De.push(e[t]);
  ho();
}
function po(e, t, n, s = Ie + 1) {
  for (; s < de.length; s++) {
    const i = de[s];
    if (i && i.flags & 2) {
      if (e && i.id !== e.uid || t !== void 0 && !(i.id >= t))
        continue;
      de.splice(s, 1), s = e ? s - 1 : Ie, i.flags & 4 && (i.flags &= -2), i(), i.flags & 4 || (i.flags &= -2);
    }
  }
}
function go(e, t, n = 0) {
  if (De.length) {
    let s = De, i = 0;
    if (t) {
      s = [];
      for (let r = 0; r < De.length; r++) {
        const l = De[r];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? De[i++] = l : s.push(l);
      }
    }
    const o = [...new Set(s)].sort((r, l) => sn(r) - sn(l));
    if (De.length = i, Ze) {
      for (let r = 0; r < o.length; r++)
        Ze.push(o[r]);
      return;
    }
    for (Ze = o, Ct = 0; Ct < Ze.length; Ct++) {
      const r = Ze[Ct];
      r.flags & 4 && (r.flags &= -2), r.flags & 8 || r(), r.flags &= -2;
    }
    Ze = null, Ct = 0;
  }
}
let Xn = !1;
function qr(e, t) {
  if (Xn) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(De);
  e(), Xn = !0;
  try {
    po(void 0, t), go(void 0, n, t);
  } finally {
    Xn = !1;
  }
}
const sn = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function mo(e) {
  try {
    for (Ie = 0; Ie < de.length; Ie++) {
      const t = de[Ie];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), an(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; Ie < de.length; Ie++) {
      const t = de[Ie];
      t && (t.flags &= -2);
    }
    Ie = -1, de.length = 0, go(), vn = null, (de.length || De.length) && mo();
  }
}
let be = null, yo = null;
function In(e) {
  const t = be;
  return be = e, yo = e && e.type.__scopeId || null, t;
}
function Kr(e, t = be, n) {
  if (!t || e._n)
    return e;
  const s = (...i) => {
    s._d && ni(-1);
    const o = In(t), r = _t.length;
    let l;
    try {
      l = e(...i);
    } finally {
      for (let c = _t.length; c > r; c--) $o();
      In(o), s._d && ni(1);
    }
    return l;
  };
  return s._n = !0, s._c = !0, s._d = !0, s;
}
function It(e, t) {
  if (be === null)
    return e;
  const n = Kn(be), s = e.dirs || (e.dirs = []);
  for (let i = 0; i < t.length; i++) {
    let [o, r, l, c = ee] = t[i];
    o && (J(o) && (o = {
      mounted: o,
      updated: o
    }), o.deep && He(r), s.push({
      dir: o,
      instance: n,
      value: r,
      oldValue: void 0,
      arg: l,
      modifiers: c
    }));
  }
  return e;
}
function lt(e, t, n, s) {
  let i = e;
  if (s === "beforeMount")
    e._mount = e;
  else if (s === "beforeUpdate") {
    const l = t && t._mount;
    l && (l._latest = e, e._mount = l);
  } else if (s === "mounted") {
    const l = e._latest;
    e._mount = e._latest = void 0, l && (i = l, l._mount = void 0);
  }
  const o = i.dirs, r = t && t.dirs;
  for (let l = 0; l < o.length; l++) {
    let c = o[l];
    r ? c.oldValue = r[l].value : s === "mounted" && c.oldValue !== void 0 && (c = Se({}, c, { oldValue: void 0 }));
    let u = c.dir[s];
    u && (st(), Je(u, n, 8, [
      e.el,
      c,
      i,
      t
    ]), it());
  }
}
function Hr(e, t, n = !1) {
  const s = Tl();
  if (s || Et) {
    let i = Et ? Et._context.provides : s ? s.parent == null || s.ce ? s.vnode.appContext && s.vnode.appContext.provides : s.parent.provides : void 0;
    if (i && e in i)
      return i[e];
    if (arguments.length > 1)
      return n && J(t) ? t.call(s && s.proxy) : t;
  }
}
const Br = /* @__PURE__ */ Symbol.for("v-scx"), Gr = () => Hr(Br);
function Js(e, t, n) {
  return zr(e, t, n);
}
function zr(e, t, n = ee) {
  const { immediate: s, deep: i, flush: o, once: r } = n, l = Se({}, n), c = t && s || !t && o !== "post";
  let u;
  if (En) {
    if (o === "sync") {
      const E = Gr();
      u = E.__watcherHandles || (E.__watcherHandles = []);
    } else if (!c) {
      const E = () => {
      };
      return E.stop = mt, E.resume = mt, E.pause = mt, E;
    }
  }
  const d = Mt;
  l.call = (E, M, x) => Je(E, d, M, x);
  let p = !1;
  o === "post" ? l.scheduler = (E) => {
    E.i = d, ue(E, d && d.suspense);
  } : o !== "sync" && (p = !0, l.scheduler = (E, M) => {
    M ? E() : Ms(E);
  }), l.augmentJob = (E) => {
    t && (E.flags |= 4), p && (E.flags |= 2, d && (E.id = d.uid, E.i = d));
  };
  const T = Fr(e, t, l);
  return En && (u ? u.push(T) : c && T()), T;
}
const Jr = /* @__PURE__ */ Symbol("_vte"), Un = (e) => e.__isTeleport, Qn = /* @__PURE__ */ Symbol("_leaveCb");
function Yr(e) {
  let t = e[0];
  if (e.length > 1) {
    for (const n of e)
      if (n.type !== Te) {
        t = n;
        break;
      }
  }
  return t;
}
function _o(e) {
  if (!bo(e))
    return Un(e.type) && e.children ? Yr(e.children) : e;
  if (e.component)
    return e.component.subTree;
  const { shapeFlag: t, children: n } = e;
  if (n) {
    if (t & 16)
      return n[0];
    if (t & 32 && J(n.default))
      return n.default();
  }
}
function Yt(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    Yt(
      Un(n.type) && _o(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const s = n.isHydrating ? n.pendingBranch : n.activeBranch;
      s && Yt(s, t.clone(s));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === re && P(e.children)) {
    const n = So(e.children, !1);
    n && Yt(n, t);
  }
}
function ps(e) {
  if (e.component)
    return ps(e.component.subTree);
  if (e.type === re) {
    const t = P(e.children) && So(e.children, !1);
    return t ? ps(t) : void 0;
  }
  if (e.type !== Te)
    return e;
}
function Xr(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function Ys(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const kn = /* @__PURE__ */ new WeakMap();
function Xt(e, t, n, s, i = !1) {
  if (P(e)) {
    e.forEach(
      (x, S) => Xt(
        x,
        t && (P(t) ? t[S] : t),
        n,
        s,
        i
      )
    );
    return;
  }
  if (Qt(s) && !i) {
    s.shapeFlag & 512 && s.type.__asyncResolved && s.component.subTree.component && Xt(e, t, n, s.component.subTree);
    return;
  }
  const o = s.shapeFlag & 4 ? Kn(s.component) : s.el, r = i ? null : o, { i: l, r: c } = e, u = t && t.r, d = l.refs === ee ? l.refs = {} : l.refs, p = l.setupState, T = /* @__PURE__ */ K(p), E = p === ee ? Fi : (x) => Ys(d, x) ? !1 : G(T, x), M = (x, S) => !(S && Ys(d, S));
  if (u != null && u !== c) {
    if (Xs(t), ie(u))
      d[u] = null, E(u) && (p[u] = null);
    else if (/* @__PURE__ */ pe(u)) {
      const x = t;
      M(u, x.k) && (u.value = null), x.k && (d[x.k] = null);
    }
  }
  if (J(c))
    an(c, l, 12, [r, d]);
  else {
    const x = ie(c), S = /* @__PURE__ */ pe(c);
    if (x || S) {
      const b = () => {
        if (e.f) {
          const v = x ? E(c) ? p[c] : d[c] : M() || !e.k ? c.value : d[e.k];
          if (i)
            P(v) && Vi(v, o);
          else if (P(v))
            v.includes(o) || v.push(o);
          else if (x)
            d[c] = [o], E(c) && (p[c] = d[c]);
          else {
            const w = [o];
            M(c, e.k) && (c.value = w), e.k && (d[e.k] = w);
          }
        } else x ? (d[c] = r, E(c) && (p[c] = r)) : S && (M(c, e.k) && (c.value = r), e.k && (d[e.k] = r));
      };
      if (r) {
        const v = () => {
          b(), kn.delete(e);
        };
        v.id = -1, kn.set(e, v), ue(v, n);
      } else
        Xs(e), b();
    }
  }
}
function Xs(e) {
  const t = kn.get(e);
  t && (t.flags |= 8, kn.delete(e));
}
Pn().requestIdleCallback;
Pn().cancelIdleCallback;
const Qt = (e) => !!e.type.__asyncLoader, bo = (e) => e.type.__isKeepAlive, Qr = /* @__PURE__ */ Symbol.for("v-ndc");
function kt(e, t, n, s) {
  let i;
  const o = n, r = P(e);
  if (r || ie(e)) {
    const l = r && /* @__PURE__ */ tt(e);
    let c = !1, u = !1;
    l && (c = !/* @__PURE__ */ we(e), u = /* @__PURE__ */ je(e), e = Fn(e)), i = new Array(e.length);
    for (let d = 0, p = e.length; d < p; d++)
      i[d] = t(
        c ? u ? ot(xe(e[d])) : xe(e[d]) : e[d],
        d,
        void 0,
        o
      );
  } else if (typeof e == "number")
    if (!Number.isInteger(e) || e < 0)
      i = [];
    else {
      i = new Array(e);
      for (let l = 0; l < e; l++)
        i[l] = t(l + 1, l, void 0, o);
    }
  else if (te(e))
    if (e[Symbol.iterator])
      i = Array.from(
        e,
        (l, c) => t(l, c, void 0, o)
      );
    else {
      const l = Object.keys(e);
      i = new Array(l.length);
      for (let c = 0, u = l.length; c < u; c++) {
        const d = l[c];
        i[c] = t(e[d], d, c, o);
      }
    }
  else
    i = [];
  return i;
}
const gs = (e) => e ? jo(e) ? Kn(e) : gs(e.parent) : null, Zt = (
  // Move PURE marker to new line to workaround compiler discarding it
  // due to type annotation
  /* @__PURE__ */ Se(/* @__PURE__ */ Object.create(null), {
    $: (e) => e,
    $el: (e) => e.vnode.el,
    $data: (e) => e.data,
    $props: (e) => e.props,
    $attrs: (e) => e.attrs,
    $slots: (e) => e.slots,
    $refs: (e) => e.refs,
    $parent: (e) => gs(e.parent),
    $root: (e) => gs(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      Ms(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = An.bind(e.proxy)),
    $watch: (e) => mt
  })
), Zn = (e, t) => e !== ee && !e.__isScriptSetup && G(e, t), Zr = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: s, data: i, props: o, accessCache: r, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const T = r[t];
      if (T !== void 0)
        switch (T) {
          case 1:
            return s[t];
          case 2:
            return i[t];
          case 4:
            return n[t];
          case 3:
            return o[t];
        }
      else {
        if (Zn(s, t))
          return r[t] = 1, s[t];
        if (G(o, t))
          return r[t] = 3, o[t];
        if (n !== ee && G(n, t))
          return r[t] = 4, n[t];
        r[t] = 0;
      }
    }
    const u = Zt[t];
    let d, p;
    if (u)
      return t === "$attrs" && fe(e.attrs, "get", ""), u(e);
    if (
      // css module (injected by vue-loader)
      (d = l.__cssModules) && (d = d[t])
    )
      return d;
    if (n !== ee && G(n, t))
      return r[t] = 4, n[t];
    if (
      // global properties
      p = c.config.globalProperties, G(p, t)
    )
      return p[t];
  },
  set({ _: e }, t, n) {
    const { data: s, setupState: i, ctx: o } = e;
    return Zn(i, t) ? (i[t] = n, !0) : G(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (o[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: s, appContext: i, props: o, type: r }
  }, l) {
    let c;
    return !!(n[l] || Zn(t, l) || G(o, l) || G(s, l) || G(Zt, l) || G(i.config.globalProperties, l) || (c = r.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : G(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function wo() {
  return {
    app: null,
    config: {
      isNativeTag: Fi,
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
let el = 0;
function tl(e, t) {
  return function(s, i = null) {
    J(s) || (s = Se({}, s)), i != null && !te(i) && (i = null);
    const o = wo(), r = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const u = o.app = {
      _uid: el++,
      _component: s,
      _props: i,
      _container: null,
      _context: o,
      _instance: null,
      version: Dl,
      get config() {
        return o.config;
      },
      set config(d) {
      },
      use(d, ...p) {
        return r.has(d) || (d && J(d.install) ? (r.add(d), d.install(u, ...p)) : J(d) && (r.add(d), d(u, ...p))), u;
      },
      mixin(d) {
        return u;
      },
      component(d, p) {
        return p ? (o.components[d] = p, u) : o.components[d];
      },
      directive(d, p) {
        return p ? (o.directives[d] = p, u) : o.directives[d];
      },
      mount(d, p, T) {
        if (!c) {
          const E = u._ceVNode || Ge(s, i);
          return E.appContext = o, T === !0 ? T = "svg" : T === !1 && (T = void 0), e(E, d, T), c = !0, u._container = d, d.__vue_app__ = u, Kn(E.component);
        }
      },
      onUnmount(d) {
        l.push(d);
      },
      unmount() {
        c && (Je(
          l,
          u._instance,
          16
        ), e(null, u._container), delete u._container.__vue_app__);
      },
      provide(d, p) {
        return o.provides[d] = p, u;
      },
      runWithContext(d) {
        const p = Et;
        Et = u;
        try {
          return d();
        } finally {
          Et = p;
        }
      }
    };
    return u;
  };
}
let Et = null;
const nl = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${ke(t)}Modifiers`] || e[`${xt(t)}Modifiers`];
function sl(e, t, ...n) {
  if (e.isUnmounted) return;
  const s = e.vnode.props || ee;
  let i = n;
  const o = t.startsWith("update:"), r = o && nl(s, t.slice(7));
  r && (r.trim && (i = n.map((d) => ie(d) ? d.trim() : d)), r.number && (i = i.map(cn)));
  let l, c = s[l = Bn(t)] || // also try camelCase event handler (#2249)
  s[l = Bn(ke(t))];
  !c && o && (c = s[l = Bn(xt(t))]), c && Je(
    c,
    e,
    6,
    i
  );
  const u = s[l + "Once"];
  if (u) {
    if (!e.emitted)
      e.emitted = {};
    else if (e.emitted[l])
      return;
    e.emitted[l] = !0, Je(
      u,
      e,
      6,
      i
    );
  }
}
function il(e, t, n = !1) {
  const s = t.emitsCache, i = s.get(e);
  if (i !== void 0)
    return i;
  const o = e.emits;
  let r = {};
  return o ? (P(o) ? o.forEach((l) => r[l] = null) : Se(r, o), te(e) && s.set(e, r), r) : (te(e) && s.set(e, null), null);
}
function Wn(e, t) {
  return !e || !Dn(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), G(e, t[0].toLowerCase() + t.slice(1)) || G(e, xt(t)) || G(e, t));
}
function Qs(e) {
  const {
    type: t,
    vnode: n,
    proxy: s,
    withProxy: i,
    propsOptions: [o],
    slots: r,
    attrs: l,
    emit: c,
    render: u,
    renderCache: d,
    props: p,
    data: T,
    setupState: E,
    ctx: M,
    inheritAttrs: x
  } = e, S = In(e);
  let b, v;
  try {
    if (n.shapeFlag & 4) {
      const A = i || s, U = A;
      b = Re(
        u.call(
          U,
          A,
          d,
          p,
          E,
          T,
          M
        )
      ), v = l;
    } else {
      const A = t;
      b = Re(
        A.length > 1 ? A(
          p,
          { attrs: l, slots: r, emit: c }
        ) : A(
          p,
          null
        )
      ), v = t.props ? l : ol(l);
    }
  } catch (A) {
    _t.length = 0, Vn(A, e, 1), b = Ge(Te);
  }
  let w = b;
  if (v && x !== !1) {
    const A = Object.keys(v), { shapeFlag: U } = w;
    A.length && U & 7 && (o && A.some(Rn) && (v = rl(
      v,
      o
    )), w = Nt(w, v, !1, !0));
  }
  if (n.dirs && (w = Nt(w, null, !1, !0), w.dirs = w.dirs ? w.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const A = Un(w.type) && _o(w) || w;
    Yt(A, n.transition);
  }
  return b = w, In(S), b;
}
function So(e, t = !0) {
  let n;
  for (let s = 0; s < e.length; s++) {
    const i = e[s];
    if (Rs(i)) {
      if (i.type !== Te || i.children === "v-if") {
        if (n)
          return;
        n = i;
      }
    } else
      return;
  }
  return n;
}
const ol = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || Dn(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, rl = (e, t) => {
  const n = {};
  for (const s in e)
    (!Rn(s) || !(s.slice(9) in t)) && (n[s] = e[s]);
  return n;
};
function ll(e, t, n) {
  const { props: s, children: i, component: o } = e, { props: r, children: l, patchFlag: c } = t, u = o.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return s ? Zs(s, r, u) : !!r;
    if (c & 8) {
      const d = t.dynamicProps;
      for (let p = 0; p < d.length; p++) {
        const T = d[p];
        if (xo(r, s, T) && !Wn(u, T))
          return !0;
      }
    }
  } else
    return (i || l) && (!l || !l.$stable) ? !0 : s === r ? !1 : s ? r ? Zs(s, r, u) : !0 : !!r;
  return !1;
}
function Zs(e, t, n) {
  const s = Object.keys(t);
  if (s.length !== Object.keys(e).length)
    return !0;
  for (let i = 0; i < s.length; i++) {
    const o = s[i];
    if (!G(e, o) || xo(t, e, o) && !Wn(n, o))
      return !0;
  }
  return !1;
}
function xo(e, t, n) {
  const s = e[n], i = t[n];
  return n === "style" && te(s) && te(i) ? !nt(s, i) : s !== i;
}
function cl({ vnode: e, parent: t, suspense: n }, s) {
  for (; t; ) {
    const i = t.subTree;
    if (i.suspense && i.suspense.activeBranch === e && (i.suspense.vnode.el = i.el = s, e = i), i === e)
      (e = t.vnode).el = s, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = s);
}
const vo = {}, Ao = () => Object.create(vo), Io = (e) => Object.getPrototypeOf(e) === vo;
function al(e, t, n, s = !1) {
  const i = {}, o = Ao();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), ko(e, t, i, o);
  for (const r in e.propsOptions[0])
    r in i || (i[r] = void 0);
  n ? e.props = s ? i : /* @__PURE__ */ Nr(i) : e.type.props ? e.props = i : e.props = o, e.attrs = o;
}
function fl(e, t, n, s) {
  const {
    props: i,
    attrs: o,
    vnode: { patchFlag: r }
  } = e, l = /* @__PURE__ */ K(i), [c] = e.propsOptions;
  let u = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (s || r > 0) && !(r & 16)
  ) {
    if (r & 8) {
      const d = e.vnode.dynamicProps;
      for (let p = 0; p < d.length; p++) {
        let T = d[p];
        if (Wn(e.emitsOptions, T))
          continue;
        const E = t[T];
        if (c)
          if (G(o, T))
            E !== o[T] && (o[T] = E, u = !0);
          else {
            const M = ke(T);
            i[M] = ms(
              c,
              l,
              M,
              E,
              e,
              !1
            );
          }
        else
          E !== o[T] && (o[T] = E, u = !0);
      }
    }
  } else {
    ko(e, t, i, o) && (u = !0);
    let d;
    for (const p in l)
      (!t || // for camelCase
      !G(t, p) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((d = xt(p)) === p || !G(t, d))) && (c ? n && // for camelCase
      (n[p] !== void 0 || // for kebab-case
      n[d] !== void 0) && (i[p] = ms(
        c,
        l,
        p,
        void 0,
        e,
        !0
      )) : delete i[p]);
    if (o !== l)
      for (const p in o)
        (!t || !G(t, p)) && (delete o[p], u = !0);
  }
  u && Ke(e.attrs, "set", "");
}
function ko(e, t, n, s) {
  const [i, o] = e.propsOptions;
  let r = !1, l;
  if (t)
    for (let c in t) {
      if (Gt(c))
        continue;
      const u = t[c];
      let d;
      i && G(i, d = ke(c)) ? !o || !o.includes(d) ? n[d] = u : (l || (l = {}))[d] = u : Wn(e.emitsOptions, c) || (!(c in s) || u !== s[c]) && (s[c] = u, r = !0);
    }
  if (o) {
    const c = /* @__PURE__ */ K(n), u = l || ee;
    for (let d = 0; d < o.length; d++) {
      const p = o[d];
      n[p] = ms(
        i,
        c,
        p,
        u[p],
        e,
        !G(u, p)
      );
    }
  }
  return r;
}
function ms(e, t, n, s, i, o) {
  const r = e[n];
  if (r != null) {
    const l = G(r, "default");
    if (l && s === void 0) {
      const c = r.default;
      if (r.type !== Function && !r.skipFactory && J(c)) {
        const { propsDefaults: u } = i;
        if (n in u)
          s = u[n];
        else {
          const d = Po(i);
          s = u[n] = c.call(
            null,
            t
          ), d();
        }
      } else
        s = c;
      i.ce && i.ce._setProp(n, s);
    }
    r[
      0
      /* shouldCast */
    ] && (o && !l ? s = !1 : r[
      1
      /* shouldCastTrue */
    ] && (s === "" || s === xt(n)) && (s = !0));
  }
  return s;
}
function ul(e, t, n = !1) {
  const s = t.propsCache, i = s.get(e);
  if (i)
    return i;
  const o = e.props, r = {}, l = [];
  if (!o)
    return te(e) && s.set(e, pt), pt;
  if (P(o))
    for (let u = 0; u < o.length; u++) {
      const d = ke(o[u]);
      ei(d) && (r[d] = ee);
    }
  else if (o)
    for (const u in o) {
      const d = ke(u);
      if (ei(d)) {
        const p = o[u], T = r[d] = P(p) || J(p) ? { type: p } : Se({}, p), E = T.type;
        let M = !1, x = !0;
        if (P(E))
          for (let S = 0; S < E.length; ++S) {
            const b = E[S], v = J(b) && b.name;
            if (v === "Boolean") {
              M = !0;
              break;
            } else v === "String" && (x = !1);
          }
        else
          M = J(E) && E.name === "Boolean";
        T[
          0
          /* shouldCast */
        ] = M, T[
          1
          /* shouldCastTrue */
        ] = x, (M || G(T, "default")) && l.push(d);
      }
    }
  const c = [r, l];
  return te(e) && s.set(e, c), c;
}
function ei(e) {
  return e[0] !== "$" && !Gt(e);
}
const $s = (e) => e === "_" || e === "_ctx" || e === "$stable", Ds = (e) => P(e) ? e.map(Re) : [Re(e)], dl = (e, t, n) => {
  if (t._n)
    return t;
  const s = Kr((...i) => Ds(t(...i)), n);
  return s._c = !1, s;
}, Co = (e, t, n) => {
  const s = e._ctx;
  for (const i in e) {
    if ($s(i)) continue;
    const o = e[i];
    if (J(o))
      t[i] = dl(i, o, s);
    else if (o != null) {
      const r = Ds(o);
      t[i] = () => r;
    }
  }
}, To = (e, t) => {
  const n = Ds(t);
  e.slots.default = () => n;
}, Eo = (e, t, n) => {
  for (const s in t)
    (n || !$s(s)) && (e[s] = t[s]);
}, hl = (e, t, n) => {
  const s = e.slots = Ao();
  if (e.vnode.shapeFlag & 32) {
    const i = t._;
    i ? (Eo(s, t, n), n && Hi(s, "_", i, !0)) : Co(t, s);
  } else t && To(e, t);
}, pl = (e, t, n) => {
  const { vnode: s, slots: i } = e;
  let o = !0, r = ee;
  if (s.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? o = !1 : Eo(i, t, n) : (o = !t.$stable, Co(t, i)), r = t;
  } else t && (To(e, t), r = { default: 1 });
  if (o)
    for (const l in i)
      !$s(l) && r[l] == null && delete i[l];
}, ue = wl;
function gl(e) {
  return ml(e);
}
function ml(e, t) {
  const n = Pn();
  n.__VUE__ = !0;
  const {
    insert: s,
    remove: i,
    patchProp: o,
    createElement: r,
    createText: l,
    createComment: c,
    setText: u,
    setElementText: d,
    parentNode: p,
    nextSibling: T,
    setScopeId: E = mt,
    insertStaticContent: M
  } = e, x = (a, f, h, _ = null, g = null, y = null, C = void 0, k = null, I = !!f.dynamicChildren) => {
    if (a === f)
      return;
    a && !Ut(a, f) && (_ = dn(a), Q(a, g, y, !0), a = null), f.patchFlag === -2 && (I = !1, f.dynamicChildren = null), f.dynamicChildren && a && a.dynamicChildren && a.dynamicChildren.hasOnce && (f.dynamicChildren === pt && (f.dynamicChildren = []), f.dynamicChildren.hasOnce = !0);
    const { type: m, ref: $, shapeFlag: O } = f;
    switch (m) {
      case qn:
        S(a, f, h, _);
        break;
      case Te:
        b(a, f, h, _);
        break;
      case ts:
        a == null && v(f, h, _, C);
        break;
      case re:
        Rt(
          a,
          f,
          h,
          _,
          g,
          y,
          C,
          k,
          I
        );
        break;
      default:
        O & 1 ? U(
          a,
          f,
          h,
          _,
          g,
          y,
          C,
          k,
          I
        ) : O & 6 ? Lt(
          a,
          f,
          h,
          _,
          g,
          y,
          C,
          k,
          I
        ) : (O & 64 || O & 128) && m.process(
          a,
          f,
          h,
          _,
          g,
          y,
          C,
          k,
          I,
          Ft
        );
    }
    $ != null && g ? Xt($, a && a.ref, y, f || a, !f) : $ == null && a && a.ref != null && Xt(a.ref, null, y, a, !0);
  }, S = (a, f, h, _) => {
    if (a == null)
      s(
        f.el = l(f.children),
        h,
        _
      );
    else {
      const g = f.el = a.el;
      f.children !== a.children && u(g, f.children);
    }
  }, b = (a, f, h, _) => {
    a == null ? s(
      f.el = c(f.children || ""),
      h,
      _
    ) : f.el = a.el;
  }, v = (a, f, h, _) => {
    [a.el, a.anchor] = M(
      a.children,
      f,
      h,
      _,
      a.el,
      a.anchor
    );
  }, w = ({ el: a, anchor: f }, h, _) => {
    let g;
    for (; a && a !== f; )
      g = T(a), s(a, h, _), a = g;
    s(f, h, _);
  }, A = ({ el: a, anchor: f }) => {
    let h;
    for (; a && a !== f; )
      h = T(a), i(a), a = h;
    i(f);
  }, U = (a, f, h, _, g, y, C, k, I) => {
    if (f.type === "svg" ? C = "svg" : f.type === "math" && (C = "mathml"), a == null)
      le(
        f,
        h,
        _,
        g,
        y,
        C,
        k,
        I
      );
    else {
      const m = a.el && a.el._isVueCE ? a.el : null;
      try {
        m && m._beginPatch(), fn(
          a,
          f,
          g,
          y,
          C,
          k,
          I
        );
      } finally {
        m && m._endPatch();
      }
    }
  }, le = (a, f, h, _, g, y, C, k) => {
    let I, m;
    const { props: $, shapeFlag: O, transition: D, dirs: L } = a;
    if (I = a.el = r(
      a.type,
      y,
      $ && $.is,
      $
    ), O & 8 ? d(I, a.children) : O & 16 && Fe(
      a.children,
      I,
      null,
      _,
      g,
      es(a, y),
      C,
      k
    ), L && lt(a, null, _, "created"), _e(I, a, a.scopeId, C, _), $) {
      for (const z in $)
        z !== "value" && !Gt(z) && o(I, z, null, $[z], y, _);
      "value" in $ && o(I, "value", null, $.value, y), (m = $.onVnodeBeforeMount) && Ne(m, _, a);
    }
    L && lt(a, null, _, "beforeMount");
    const q = yl(g, D);
    q ? D.beforeEnter(I) : D && !D.persisted && (I[bl] = !0), s(I, f, h), ((m = $ && $.onVnodeMounted) || q || L) && ue(() => {
      m && Ne(m, _, a), q && D.enter(I), L && lt(a, null, _, "mounted");
    }, g);
  }, _e = (a, f, h, _, g) => {
    if (h && E(a, h), _)
      for (let y = 0; y < _.length; y++)
        E(a, _[y]);
    if (g) {
      let y = g.subTree;
      if (f === y || Mo(y.type) && (y.ssContent === f || y.ssFallback === f)) {
        const C = g.vnode;
        _e(
          a,
          C,
          C.scopeId,
          C.slotScopeIds,
          g.parent
        );
      }
    }
  }, Fe = (a, f, h, _, g, y, C, k, I = 0) => {
    for (let m = I; m < a.length; m++) {
      const $ = a[m] = k ? qe(a[m]) : Re(a[m]);
      x(
        null,
        $,
        f,
        h,
        _,
        g,
        y,
        C,
        k
      );
    }
  }, fn = (a, f, h, _, g, y, C) => {
    const k = f.el = a.el;
    let { patchFlag: I, dynamicChildren: m, dirs: $ } = f;
    I |= a.patchFlag & 16;
    const O = a.props || ee, D = f.props || ee;
    let L;
    if (h && ct(h, !1), (L = D.onVnodeBeforeUpdate) && Ne(L, h, f, a), $ && lt(f, a, h, "beforeUpdate"), h && ct(h, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    m && (!a.dynamicChildren || a.dynamicChildren.length !== m.length) && (I = 0, C = !1, m = null), (O.innerHTML && D.innerHTML == null || O.textContent && D.textContent == null) && d(k, ""), m ? rt(
      a.dynamicChildren,
      m,
      k,
      h,
      _,
      es(f, g),
      y
    ) : C || j(
      a,
      f,
      k,
      null,
      h,
      _,
      es(f, g),
      y,
      !1
    ), I > 0) {
      if (I & 16)
        Dt(k, O, D, h, g);
      else if (I & 2 && O.class !== D.class && o(k, "class", null, D.class, g), I & 4 && o(k, "style", O.style, D.style, g), I & 8) {
        const q = f.dynamicProps;
        for (let z = 0; z < q.length; z++) {
          const B = q[z], se = O[B], ce = D[B];
          (ce !== se || B === "value") && o(k, B, se, ce, g, h);
        }
      }
      I & 1 && a.children !== f.children && d(k, f.children);
    } else !C && m == null && Dt(k, O, D, h, g);
    ((L = D.onVnodeUpdated) || $) && ue(() => {
      L && Ne(L, h, f, a), $ && lt(f, a, h, "updated");
    }, _);
  }, rt = (a, f, h, _, g, y, C) => {
    for (let k = 0; k < f.length; k++) {
      const I = a[k], m = f[k], $ = I.el || en(I), O = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        $ && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (I.type === re || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !Ut(I, m) || // - In the case of a component, it could contain anything.
        I.shapeFlag & 198) ? p($) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          h
        )
      );
      x(
        I,
        m,
        O,
        null,
        _,
        g,
        y,
        C,
        !0
      );
    }
  }, Dt = (a, f, h, _, g) => {
    if (f !== h) {
      if (f !== ee)
        for (const y in f)
          !Gt(y) && !(y in h) && o(
            a,
            y,
            f[y],
            null,
            g,
            _
          );
      for (const y in h) {
        if (Gt(y)) continue;
        const C = h[y], k = f[y];
        C !== k && y !== "value" && o(a, y, k, C, g, _);
      }
      "value" in h && o(a, "value", f.value, h.value, g);
    }
  }, Rt = (a, f, h, _, g, y, C, k, I) => {
    const m = f.el = a ? a.el : l(""), $ = f.anchor = a ? a.anchor : l("");
    let { patchFlag: O, dynamicChildren: D, slotScopeIds: L } = f;
    L && (k = k ? k.concat(L) : L), a == null ? (s(m, h, _), s($, h, _), Fe(
      // #10007
      // such fragment like `<></>` will be compiled into
      // a fragment which doesn't have a children.
      // In this case fallback to an empty array
      f.children || [],
      h,
      $,
      g,
      y,
      C,
      k,
      I
    )) : O > 0 && O & 64 && D && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    a.dynamicChildren && a.dynamicChildren.length === D.length ? (rt(
      a.dynamicChildren,
      D,
      h,
      g,
      y,
      C,
      k
    ), // #2080 if the stable fragment has a key, it's a <template v-for> that may
    //  get moved around. Make sure all root level vnodes inherit el.
    // #2134 or if it's a component root, it may also get moved around
    // as the component is being moved.
    (f.key != null || g && f === g.subTree) && Oo(
      a,
      f,
      !0
      /* shallow */
    )) : j(
      a,
      f,
      h,
      $,
      g,
      y,
      C,
      k,
      I
    );
  }, Lt = (a, f, h, _, g, y, C, k, I) => {
    f.slotScopeIds = k, a == null ? f.shapeFlag & 512 ? g.ctx.activate(
      f,
      h,
      _,
      C,
      I
    ) : vt(
      f,
      h,
      _,
      g,
      y,
      C,
      I
    ) : un(a, f, I);
  }, vt = (a, f, h, _, g, y, C) => {
    const k = a.component = Cl(
      a,
      _,
      g
    );
    if (bo(a) && (k.ctx.renderer = Ft), El(k, !1, C), k.asyncDep) {
      if (g && g.registerDep(
        k,
        Pt,
        C,
        y
      ), !a.el) {
        const I = k.subTree = Ge(Te);
        b(null, I, f, h), a.placeholder = I.el;
      }
    } else
      Pt(
        k,
        a,
        f,
        h,
        g,
        y,
        C
      );
  }, un = (a, f, h) => {
    const _ = f.component = a.component;
    if (ll(a, f, h))
      if (_.asyncDep && !_.asyncResolved) {
        f.el = a.el, f.placeholder = a.placeholder, N(_, f, h);
        return;
      } else
        _.next = f, _.update();
    else
      f.el = a.el, f.placeholder = a.placeholder, _.vnode = f;
  }, Pt = (a, f, h, _, g, y, C) => {
    const k = () => {
      if (a.isMounted) {
        let { next: O, bu: D, u: L, parent: q, vnode: z } = a;
        {
          const Ee = No(a);
          if (Ee) {
            O && (O.el = z.el, N(a, O, C)), Ee.asyncDep.then(() => {
              const Ve = () => {
                a.job.flags & 8 || (g && g.pendingBranch ? ue(Ve, g) : m());
              };
              Ve.flags = 48, ue(Ve, g);
            });
            return;
          }
        }
        let B = O, se;
        ct(a, !1), O ? (O.el = z.el, N(a, O, C)) : O = z, D && _n(D), (se = O.props && O.props.onVnodeBeforeUpdate) && Ne(se, q, O, z), ct(a, !0);
        const ce = Qs(a), ve = a.subTree;
        a.subTree = ce, x(
          ve,
          ce,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          p(
            ve.el || en(ve)
          ),
          // anchor may have changed if it's in a fragment
          dn(ve),
          a,
          g,
          y
        ), O.el = ce.el, B === null && cl(a, ce.el), L && ue(L, g), (se = O.props && O.props.onVnodeUpdated) && ue(
          () => Ne(se, q, O, z),
          g
        );
      } else {
        let O;
        const { el: D, props: L } = f, { bm: q, m: z, parent: B, root: se, type: ce } = a, ve = Qt(f);
        ct(a, !1), q && _n(q), !ve && (O = L && L.onVnodeBeforeMount) && Ne(O, B, f), ct(a, !0);
        {
          se.ce && se.ce._hasShadowRoot() && se.ce._injectChildStyle(
            ce,
            a.parent ? a.parent.type : void 0
          );
          const Ee = a.subTree = Qs(a);
          x(
            null,
            Ee,
            h,
            _,
            a,
            g,
            y
          ), f.el = Ee.el;
        }
        if (z && ue(z, g), !ve && (O = L && L.onVnodeMounted)) {
          const Ee = f;
          ue(
            () => Ne(O, B, Ee),
            g
          );
        }
        (f.shapeFlag & 256 || B && Qt(B.vnode) && B.vnode.shapeFlag & 256) && a.a && ue(a.a, g), a.isMounted = !0, f = h = _ = null;
      }
    };
    a.scope.on();
    const I = a.effect = new Ji(k);
    a.scope.off();
    const m = a.update = I.run.bind(I), $ = a.job = I.runIfDirty.bind(I);
    $.i = a, $.id = a.uid, I.scheduler = () => Ms($), ct(a, !0), m();
  }, N = (a, f, h) => {
    f.component = a;
    const _ = a.vnode.props;
    a.vnode = f, a.next = null, fl(a, f.props, _, h), pl(a, f.children, h), st(), po(a), it();
  }, j = (a, f, h, _, g, y, C, k, I = !1) => {
    const m = a && a.children, $ = a ? a.shapeFlag : 0, O = f.children, { patchFlag: D, shapeFlag: L } = f;
    if (D > 0) {
      if (D & 128) {
        H(
          m,
          O,
          h,
          _,
          g,
          y,
          C,
          k,
          I
        );
        return;
      } else if (D & 256) {
        F(
          m,
          O,
          h,
          _,
          g,
          y,
          C,
          k,
          I
        );
        return;
      }
    }
    L & 8 ? ($ & 16 && jt(m, g, y), O !== m && d(h, O)) : $ & 16 ? L & 16 ? H(
      m,
      O,
      h,
      _,
      g,
      y,
      C,
      k,
      I
    ) : jt(m, g, y, !0) : ($ & 8 && d(h, ""), L & 16 && Fe(
      O,
      h,
      _,
      g,
      y,
      C,
      k,
      I
    ));
  }, F = (a, f, h, _, g, y, C, k, I) => {
    a = a || pt, f = f || pt;
    const m = a.length, $ = f.length, O = Math.min(m, $);
    let D;
    for (D = 0; D < O; D++) {
      const L = f[D] = I ? qe(f[D]) : Re(f[D]);
      x(
        a[D],
        L,
        h,
        null,
        g,
        y,
        C,
        k,
        I
      );
    }
    m > $ ? jt(
      a,
      g,
      y,
      !0,
      !1,
      O
    ) : Fe(
      f,
      h,
      _,
      g,
      y,
      C,
      k,
      I,
      O
    );
  }, H = (a, f, h, _, g, y, C, k, I) => {
    let m = 0;
    const $ = f.length;
    let O = a.length - 1, D = $ - 1;
    for (; m <= O && m <= D; ) {
      const L = a[m], q = f[m] = I ? qe(f[m]) : Re(f[m]);
      if (Ut(L, q))
        x(
          L,
          q,
          h,
          null,
          g,
          y,
          C,
          k,
          I
        );
      else
        break;
      m++;
    }
    for (; m <= O && m <= D; ) {
      const L = a[O], q = f[D] = I ? qe(f[D]) : Re(f[D]);
      if (Ut(L, q))
        x(
          L,
          q,
          h,
          null,
          g,
          y,
          C,
          k,
          I
        );
      else
        break;
      O--, D--;
    }
    if (m > O) {
      if (m <= D) {
        const L = D + 1, q = L < $ ? f[L].el : _;
        for (; m <= D; )
          x(
            null,
            f[m] = I ? qe(f[m]) : Re(f[m]),
            h,
            q,
            g,
            y,
            C,
            k,
            I
          ), m++;
      }
    } else if (m > D)
      for (; m <= O; )
        Q(a[m], g, y, !0), m++;
    else {
      const L = m, q = m, z = /* @__PURE__ */ new Map();
      for (m = q; m <= D; m++) {
        const me = f[m] = I ? qe(f[m]) : Re(f[m]);
        me.key != null && z.set(me.key, m);
      }
      let B, se = 0;
      const ce = D - q + 1;
      let ve = !1, Ee = 0;
      const Ve = new Array(ce);
      for (m = 0; m < ce; m++) Ve[m] = 0;
      for (m = L; m <= O; m++) {
        const me = a[m];
        if (se >= ce) {
          Q(me, g, y, !0);
          continue;
        }
        let Oe;
        if (me.key != null)
          Oe = z.get(me.key);
        else
          for (B = q; B <= D; B++)
            if (Ve[B - q] === 0 && Ut(me, f[B])) {
              Oe = B;
              break;
            }
        Oe === void 0 ? Q(me, g, y, !0) : (Ve[Oe - q] = m + 1, Oe >= Ee ? Ee = Oe : ve = !0, x(
          me,
          f[Oe],
          h,
          null,
          g,
          y,
          C,
          k,
          I
        ), se++);
      }
      const js = ve ? _l(Ve) : pt;
      for (B = js.length - 1, m = ce - 1; m >= 0; m--) {
        const me = q + m, Oe = f[me], Fs = f[me + 1], Vs = me + 1 < $ ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Fs.el || en(Fs)
        ) : _;
        Ve[m] === 0 ? x(
          null,
          Oe,
          h,
          Vs,
          g,
          y,
          C,
          k,
          I
        ) : ve && (B < 0 || m !== js[B] ? ne(Oe, h, Vs, 2) : B--);
      }
    }
  }, ne = (a, f, h, _, g = null) => {
    const { el: y, type: C, transition: k, children: I, shapeFlag: m } = a;
    if (m & 6) {
      ne(a.component.subTree, f, h, _);
      return;
    }
    if (m & 128) {
      a.suspense.move(f, h, _);
      return;
    }
    if (m & 64) {
      C.move(a, f, h, Ft);
      return;
    }
    if (C === re) {
      s(y, f, h);
      for (let O = 0; O < I.length; O++)
        ne(I[O], f, h, _);
      s(a.anchor, f, h);
      return;
    }
    if (C === ts) {
      w(a, f, h);
      return;
    }
    if (_ !== 2 && m & 1 && k)
      if (_ === 0)
        k.persisted && !y[Qn] ? s(y, f, h) : (k.beforeEnter(y), s(y, f, h), ue(() => k.enter(y), g));
      else {
        const { leave: O, delayLeave: D, afterLeave: L } = k, q = () => {
          a.ctx.isUnmounted ? i(y) : s(y, f, h);
        }, z = () => {
          const B = y._isLeaving || !!y[Qn];
          y._isLeaving && y[Qn](
            !0
            /* cancelled */
          ), k.persisted && !B ? q() : O(y, () => {
            q(), L && L();
          });
        };
        D ? D(y, q, z) : z();
      }
    else
      s(y, f, h);
  }, Q = (a, f, h, _ = !1, g = !1) => {
    const {
      type: y,
      props: C,
      ref: k,
      children: I,
      dynamicChildren: m,
      shapeFlag: $,
      patchFlag: O,
      dirs: D,
      cacheIndex: L,
      memo: q
    } = a;
    if ((O === -2 || m && m.hasOnce) && (g = !1), k != null && (st(), Xt(k, null, h, a, !0), it()), L != null && (!a.ctx || a.ctx === f) && (f.renderCache[L] = void 0), $ & 256 && f.ctx.deactivate(a))
      return;
    const z = $ & 1 && D, B = !Qt(a);
    let se;
    if (B && (se = C && C.onVnodeBeforeUnmount) && Ne(se, f, a), $ & 6)
      Hn(a.component, h, _);
    else {
      if ($ & 128) {
        a.suspense.unmount(h, _);
        return;
      }
      z && lt(a, null, f, "beforeUnmount"), $ & 64 ? a.type.remove(
        a,
        f,
        h,
        Ft,
        _
      ) : m && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !m.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (y !== re || O > 0 && O & 64) ? jt(
        m,
        f,
        h,
        !1,
        !0
      ) : (y === re && O & 384 || !g && $ & 16) && jt(I, f, h), _ && Xe(a);
    }
    const ce = q != null && L == null;
    (B && (se = C && C.onVnodeUnmounted) || z || ce) && ue(() => {
      se && Ne(se, f, a), z && lt(a, null, f, "unmounted"), ce && (a.el = null);
    }, h);
  }, Xe = (a) => {
    const { type: f, el: h, anchor: _, transition: g } = a, y = f === re;
    if (y && !g) {
      Qe(h, _);
      return;
    }
    if (f === ts) {
      A(a), g && !g.persisted && g.afterLeave && g.afterLeave();
      return;
    }
    const C = y ? ps(a) : a, k = () => {
      y ? p(h) && Qe(h, _) : i(h), g && !g.persisted && g.afterLeave && g.afterLeave();
    };
    if (C && C.shapeFlag & 1 && g && !g.persisted) {
      const { leave: I, delayLeave: m } = g, $ = C.el, O = () => I($, k);
      m ? m($, k, O) : O();
    } else
      k();
  }, Qe = (a, f) => {
    let h;
    for (; a !== f; )
      h = T(a), i(a), a = h;
    i(f);
  }, Hn = (a, f, h) => {
    const { bum: _, scope: g, job: y, subTree: C, um: k, m: I, a: m } = a;
    ti(I), ti(m), _ && _n(_), g.stop(), y ? (y.flags |= 8, Q(C, a, f, h)) : C && (C.transition = a.vnode.transition, Q(C, a, f, h)), k && ue(k, f);
    const $ = () => {
      a.isUnmounted = !0;
    };
    $.flags = 16, ue($, f);
  }, jt = (a, f, h, _ = !1, g = !1, y = 0) => {
    for (let C = y; C < a.length; C++)
      Q(a[C], f, h, _, g);
  }, dn = (a) => {
    if (a.shapeFlag & 6)
      return dn(a.component.subTree);
    if (a.shapeFlag & 128)
      return a.suspense.next();
    const f = T(a.anchor || a.el), h = f && f[Jr];
    return h ? T(h) : f;
  }, Ps = (a, f, h) => {
    const _ = a && f._vnode ? void 0 : a && a.component ? a.component.uid : kl();
    qr(() => {
      a == null ? f._vnode && Q(f._vnode, null, null, !0) : x(
        f._vnode || null,
        a,
        f,
        null,
        null,
        null,
        h
      ), f._vnode = a;
    }, _);
  }, Ft = {
    p: x,
    um: Q,
    m: ne,
    r: Xe,
    mt: vt,
    mc: Fe,
    pc: j,
    pbc: rt,
    n: dn,
    o: e
  };
  return {
    render: Ps,
    hydrate: void 0,
    createApp: tl(Ps)
  };
}
function es({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function ct({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function yl(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function Oo(e, t, n = !1) {
  const s = e.children, i = t.children;
  if (P(s) && P(i))
    for (let o = 0; o < s.length; o++) {
      const r = s[o];
      let l = i[o];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = i[o] = qe(i[o]), l.el = r.el), !n && l.patchFlag !== -2 && Oo(r, l)), l.type === qn && (l.patchFlag === -1 && (l = i[o] = qe(l)), l.el = r.el), l.type === Te && !l.el && (l.el = r.el);
    }
}
function _l(e) {
  const t = e.slice(), n = [0];
  let s, i, o, r, l;
  const c = e.length;
  for (s = 0; s < c; s++) {
    const u = e[s];
    if (u !== 0) {
      if (i = n[n.length - 1], e[i] < u) {
        t[s] = i, n.push(s);
        continue;
      }
      for (o = 0, r = n.length - 1; o < r; )
        l = o + r >> 1, e[n[l]] < u ? o = l + 1 : r = l;
      u < e[n[o]] && (o > 0 && (t[s] = n[o - 1]), n[o] = s);
    }
  }
  for (o = n.length, r = n[o - 1]; o-- > 0; )
    n[o] = r, r = t[r];
  return n;
}
function No(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : No(t);
}
function ti(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function en(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return en(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? en(n.activeBranch) : null;
}
const Mo = (e) => e.__isSuspense, bl = /* @__PURE__ */ Symbol("_deferredEnter");
function wl(e, t) {
  t && t.pendingBranch ? P(e) ? t.effects.push(...e) : t.effects.push(e) : Wr(e);
}
const re = /* @__PURE__ */ Symbol.for("v-fgt"), qn = /* @__PURE__ */ Symbol.for("v-txt"), Te = /* @__PURE__ */ Symbol.for("v-cmt"), ts = /* @__PURE__ */ Symbol.for("v-stc"), _t = [];
let ye = null;
function X(e = !1) {
  _t.push(ye = e ? null : []);
}
function $o() {
  _t.pop(), ye = _t[_t.length - 1] || null;
}
let on = 1;
function ni(e, t = !1) {
  on += e, e < 0 && ye && t && (ye.hasOnce = !0);
}
function Do(e) {
  return e.dynamicChildren = on > 0 ? ye || pt : null, $o(), on > 0 && ye && ye.push(e), e;
}
function Z(e, t, n, s, i, o) {
  return Do(
    W(
      e,
      t,
      n,
      s,
      i,
      o,
      !0
    )
  );
}
function Sl(e, t, n, s, i) {
  return Do(
    Ge(
      e,
      t,
      n,
      s,
      i,
      !0
    )
  );
}
function Rs(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function Ut(e, t) {
  return e.type === t.type && e.key === t.key;
}
const Ro = ({ key: e }) => e ?? null, bn = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? ie(e) || /* @__PURE__ */ pe(e) || J(e) ? { i: be, r: e, k: t, f: !!n } : e : null);
function W(e, t = null, n = null, s = 0, i = null, o = e === re ? 0 : 1, r = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && Ro(t),
    ref: t && bn(t),
    scopeId: yo,
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
    shapeFlag: o,
    patchFlag: s,
    dynamicProps: i,
    dynamicChildren: null,
    appContext: null,
    ctx: be
  };
  return l ? (Cn(c, n), o & 128 && e.normalize(c)) : n && (c.shapeFlag |= ie(n) ? 8 : 16), on > 0 && // avoid a block node from tracking itself
  !r && // has current parent block
  ye && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || o & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && ye.push(c), c;
}
const Ge = xl;
function xl(e, t = null, n = null, s = 0, i = null, o = !1) {
  if ((!e || e === Qr) && (e = Te), Rs(e)) {
    const l = Nt(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && Cn(l, n), on > 0 && !o && ye && (l.shapeFlag & 6 ? ye[ye.indexOf(e)] = l : ye.push(l)), l.patchFlag = -2, l;
  }
  if ($l(e) && (e = e.__vccOpts), t) {
    t = vl(t);
    let { class: l, style: c } = t;
    l && !ie(l) && (t.class = Me(l)), te(c) && (/* @__PURE__ */ Ns(c) && !P(c) && (c = Se({}, c)), t.style = jn(c));
  }
  const r = ie(e) ? 1 : Mo(e) ? 128 : Un(e) ? 64 : te(e) ? 4 : J(e) ? 2 : 0;
  return W(
    e,
    t,
    n,
    s,
    i,
    r,
    o,
    !0
  );
}
function vl(e) {
  return e ? /* @__PURE__ */ Ns(e) ? Se({}, e) : Io(e) ? Se({}, e[Vo] || e) : e : null;
}
function Nt(e, t, n = !1, s = !1) {
  const { props: i, ref: o, patchFlag: r, children: l, transition: c } = e, u = t ? Al(i || {}, t) : i, d = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: u,
    key: u && Ro(u),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && o ? P(o) ? o.concat(bn(t)) : [o, bn(t)] : bn(t)
    ) : o,
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
    patchFlag: t && e.type !== re ? r === -1 ? 16 : r | 16 : r,
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
    ssContent: e.ssContent && Nt(e.ssContent),
    ssFallback: e.ssFallback && Nt(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return c && s && Yt(
    d,
    c.clone(d)
  ), d;
}
function ge(e = " ", t = 0) {
  return Ge(qn, null, e, t);
}
function Ae(e = "", t = !1) {
  return t ? (X(), Sl(Te, null, e)) : Ge(Te, null, e);
}
function Re(e) {
  return e == null || typeof e == "boolean" ? Ge(Te) : P(e) ? Ge(
    re,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : Rs(e) ? qe(e) : Ge(qn, null, String(e));
}
function qe(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : Nt(e);
}
function Cn(e, t) {
  let n = 0;
  const { shapeFlag: s } = e;
  if (t == null)
    t = null;
  else if (P(t))
    n = 16;
  else if (typeof t == "object")
    if (s & 65) {
      const i = t.default;
      i && (i._c && (i._d = !1), Cn(e, i()), i._c && (i._d = !0));
      return;
    } else {
      n = 32;
      const i = t._;
      !i && !Io(t) ? t._ctx = be : i === 3 && be && (be.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (J(t)) {
    if (s & 65) {
      Cn(e, { default: t });
      return;
    }
    t = { default: t, _ctx: be }, n = 32;
  } else
    t = String(t), s & 64 ? (n = 16, t = [ge(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function Al(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const s = e[n];
    for (const i in s)
      if (i === "class")
        t.class !== s.class && (t.class = Me([t.class, s.class]));
      else if (i === "style")
        t.style = jn([t.style, s.style]);
      else if (Dn(i)) {
        const o = t[i], r = s[i];
        r && o !== r && !(P(o) && o.includes(r)) ? t[i] = o ? [].concat(o, r) : r : r == null && o == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !Rn(i) && (t[i] = r);
      } else i !== "" && (t[i] = s[i]);
  }
  return t;
}
function Ne(e, t, n, s = null) {
  Je(e, t, 7, [
    n,
    s
  ]);
}
const Il = /* @__PURE__ */ wo();
let Lo = 0;
function kl() {
  return Lo;
}
function Cl(e, t, n) {
  const s = e.type, i = (t ? t.appContext : e.appContext) || Il, o = {
    uid: Lo++,
    vnode: e,
    type: s,
    parent: t,
    appContext: i,
    root: null,
    // to be immediately set
    next: null,
    subTree: null,
    // will be set synchronously right after creation
    effect: null,
    update: null,
    // will be set synchronously right after creation
    job: null,
    scope: new hr(
      !0
      /* detached */
    ),
    render: null,
    proxy: null,
    exposed: null,
    exposeProxy: null,
    withProxy: null,
    provides: t ? t.provides : Object.create(i.provides),
    ids: t ? t.ids : ["", 0, 0],
    accessCache: null,
    renderCache: [],
    // local resolved assets
    components: null,
    directives: null,
    // resolved props and emits options
    propsOptions: ul(s, i),
    emitsOptions: il(s, i),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: ee,
    // inheritAttrs
    inheritAttrs: s.inheritAttrs,
    // state
    ctx: ee,
    data: ee,
    props: ee,
    attrs: ee,
    slots: ee,
    refs: ee,
    setupState: ee,
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
  return o.ctx = { _: o }, o.root = t ? t.root : o, o.emit = sl.bind(null, o), e.ce && e.ce(o), o;
}
let Mt = null;
const Tl = () => Mt || be;
let Tn, rn;
{
  const e = Pn(), t = (n, s) => {
    let i;
    return (i = e[n]) || (i = e[n] = []), i.push(s), (o) => {
      i.length > 1 ? i.forEach((r) => r(o)) : i[0](o);
    };
  };
  Tn = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => Mt = n
  ), rn = t(
    "__VUE_SSR_SETTERS__",
    (n) => En = n
  );
}
const Po = (e) => {
  const t = Mt;
  return Tn(e), e.scope.on(), () => {
    e.scope.off(), Tn(t);
  };
}, si = () => {
  Mt && Mt.scope.off(), Tn(null);
};
function jo(e) {
  return e.vnode.shapeFlag & 4;
}
let En = !1;
function El(e, t = !1, n = !1) {
  t && rn(t);
  const { props: s, children: i } = e.vnode, o = jo(e);
  al(e, s, o, t), hl(e, i, n || t);
  const r = o ? Ol(e, t) : void 0;
  return t && rn(!1), r;
}
function Ol(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Zr);
  const { setup: s } = n;
  if (s) {
    st();
    const i = e.setupContext = s.length > 1 ? Ml(e) : null, o = Po(e), r = an(
      s,
      e,
      0,
      [
        e.props,
        i
      ]
    ), l = Ui(r);
    if (it(), o(), (l || e.sp) && !Qt(e) && Xr(e), l) {
      if (r.then(si, si), t)
        return r.then((c) => {
          rn(!0);
          try {
            ii(e, c, t);
          } finally {
            rn(!1);
          }
        }).catch((c) => {
          Vn(c, e, 0, void 0, !0), e.ssrRender = (u, d) => d("<!---->");
        });
      e.asyncDep = r;
    } else
      ii(e, r);
  } else
    Fo(e);
}
function ii(e, t, n) {
  J(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : te(t) && (e.setupState = fo(t)), Fo(e);
}
function Fo(e, t, n) {
  const s = e.type;
  e.render || (e.render = s.render || mt);
}
const Vo = /* @__PURE__ */ Symbol(), Nl = {
  get(e, t) {
    return fe(e, "get", ""), t === Vo ? e : e[t];
  }
};
function Ml(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, Nl),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function Kn(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(fo(Mr(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in Zt)
        return Zt[n](e);
    },
    has(t, n) {
      return n in t || n in Zt;
    }
  })) : e.proxy;
}
function $l(e) {
  return J(e) && "__vccOpts" in e;
}
const Wt = (e, t) => /* @__PURE__ */ Pr(e, t, En), Dl = "3.5.45";
let ys;
const oi = typeof window < "u" && window.trustedTypes;
if (oi)
  try {
    ys = /* @__PURE__ */ oi.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const Uo = ys ? (e) => ys.createHTML(e) : (e) => e, Rl = "http://www.w3.org/2000/svg", Ll = "http://www.w3.org/1998/Math/MathML", We = typeof document < "u" ? document : null, ri = We && /* @__PURE__ */ We.createElement("template"), Pl = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, s) => {
    const i = t === "svg" ? We.createElementNS(Rl, e) : t === "mathml" ? We.createElementNS(Ll, e) : n ? We.createElement(e, { is: n }) : We.createElement(e);
    return e === "select" && s && s.multiple != null && i.setAttribute("multiple", s.multiple), i;
  },
  createText: (e) => We.createTextNode(e),
  createComment: (e) => We.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => We.querySelector(e),
  setScopeId(e, t) {
    e.setAttribute(t, "");
  },
  // __UNSAFE__
  // Reason: innerHTML.
  // Static content here can only come from compiled templates.
  // As long as the user only uses trusted templates, this is safe.
  insertStaticContent(e, t, n, s, i, o) {
    const r = n ? n.previousSibling : t.lastChild;
    if (i && (i === o || i.nextSibling))
      for (; t.insertBefore(i.cloneNode(!0), n), !(i === o || !(i = i.nextSibling)); )
        ;
    else {
      ri.innerHTML = Uo(
        s === "svg" ? `<svg>${e}</svg>` : s === "mathml" ? `<math>${e}</math>` : e
      );
      const l = ri.content;
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
      r ? r.nextSibling : t.firstChild,
      // last
      n ? n.previousSibling : t.lastChild
    ];
  }
}, jl = /* @__PURE__ */ Symbol("_vtc");
function Fl(e, t, n) {
  const s = e[jl];
  s && (t = (t ? [t, ...s] : [...s]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const li = /* @__PURE__ */ Symbol("_vod"), Vl = /* @__PURE__ */ Symbol("_vsh"), Ul = /* @__PURE__ */ Symbol(""), Wl = /(?:^|;)\s*display\s*:/;
function ql(e, t, n) {
  const s = e.style, i = ie(n);
  let o = !1;
  if (n && !i) {
    if (t)
      if (ie(t))
        for (const r of t.split(";")) {
          const l = r.slice(0, r.indexOf(":")).trim();
          n[l] == null && Bt(s, l, "");
        }
      else
        for (const r in t)
          n[r] == null && Bt(s, r, "");
    for (const r in n) {
      r === "display" && (o = !0);
      const l = n[r];
      l != null ? Hl(
        e,
        r,
        !ie(t) && t ? t[r] : void 0,
        l
      ) || Bt(s, r, l) : Bt(s, r, "");
    }
  } else if (i) {
    if (t !== n) {
      const r = s[Ul];
      r && (n += ";" + r), s.cssText = n, o = Wl.test(n);
    }
  } else t && e.removeAttribute("style");
  li in e && ((!i || t !== n) && (e[li] = o ? s.display : ""), e[Vl] && (s.display = "none"));
}
const mn = /\s*!important$/;
function Bt(e, t, n) {
  if (P(n))
    n.forEach((s) => Bt(e, t, s));
  else if (n == null && (n = ""), t.startsWith("--"))
    mn.test(n) ? e.setProperty(t, n.replace(mn, ""), "important") : e.setProperty(t, n);
  else {
    const s = Kl(e, t);
    mn.test(n) ? e.setProperty(
      xt(s),
      n.replace(mn, ""),
      "important"
    ) : e[s] = n;
  }
}
const ci = ["Webkit", "Moz", "ms"], ns = {};
function Kl(e, t) {
  const n = ns[t];
  if (n)
    return n;
  let s = ke(t);
  if (s !== "filter" && s in e)
    return ns[t] = s;
  s = Ki(s);
  for (let i = 0; i < ci.length; i++) {
    const o = ci[i] + s;
    if (o in e)
      return ns[t] = o;
  }
  return t;
}
function Hl(e, t, n, s) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && ie(s) && n === s;
}
const ai = "http://www.w3.org/1999/xlink";
function fi(e, t, n, s, i, o = ar(t)) {
  s && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(ai, t.slice(6, t.length)) : e.setAttributeNS(ai, t, n) : n == null || o && !Bi(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    o ? "" : Pe(n) ? String(n) : n
  );
}
function ui(e, t, n, s, i) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? Uo(n) : n);
    return;
  }
  const o = e.tagName;
  if (t === "value" && o !== "PROGRESS" && // custom elements may use _value internally
  !o.includes("-")) {
    const l = o === "OPTION" ? e.getAttribute("value") || "" : e.value, c = n == null ? (
      // #11647: value should be set as empty string for null and undefined,
      // but <input type="checkbox"> should be set as 'on'.
      e.type === "checkbox" ? "on" : ""
    ) : String(n);
    (l !== c || !("_value" in e)) && (e.value = c), n == null && e.removeAttribute(t), e._value = n;
    return;
  }
  let r = !1;
  if (n === "" || n == null) {
    const l = typeof e[t];
    l === "boolean" ? n = Bi(n) : n == null && l === "string" ? (n = "", r = !0) : l === "number" && (n = 0, r = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  r && e.removeAttribute(i || t);
}
function ht(e, t, n, s) {
  e.addEventListener(t, n, s);
}
function Bl(e, t, n, s) {
  e.removeEventListener(t, n, s);
}
const di = /* @__PURE__ */ Symbol("_vei");
function Gl(e, t, n, s, i = null) {
  const o = e[di] || (e[di] = {}), r = o[t];
  if (s && r)
    r.value = s;
  else {
    const [l, c] = Yl(t);
    if (s) {
      const u = o[t] = Zl(
        s,
        i
      );
      ht(e, l, u, c);
    } else r && (Bl(e, l, r, c), o[t] = void 0);
  }
}
const zl = /(Once|Passive|Capture)$/, Jl = /^on:?(?:Once|Passive|Capture)$/;
function Yl(e) {
  let t, n;
  for (; (n = e.match(zl)) && !Jl.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : xt(e.slice(2)), t];
}
let ss = 0;
const Xl = /* @__PURE__ */ Promise.resolve(), Ql = () => ss || (Xl.then(() => ss = 0), ss = Date.now());
function Zl(e, t) {
  const n = (s) => {
    if (!s._vts)
      s._vts = Date.now();
    else if (s._vts <= n.attached)
      return;
    const i = n.value;
    if (P(i)) {
      const o = s.stopImmediatePropagation;
      s.stopImmediatePropagation = () => {
        o.call(s), s._stopped = !0;
      };
      const r = i.slice(), l = [s];
      for (let c = 0; c < r.length && !s._stopped; c++) {
        const u = r[c];
        u && Je(
          u,
          t,
          5,
          l
        );
      }
    } else
      Je(
        i,
        t,
        5,
        [s]
      );
  };
  return n.value = e, n.attached = Ql(), n;
}
const hi = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, ec = (e, t, n, s, i, o) => {
  const r = i === "svg";
  t === "class" ? Fl(e, s, r) : t === "style" ? ql(e, n, s) : Dn(t) ? Rn(t) || Gl(e, t, n, s, o) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : tc(e, t, s, r)) ? (ui(e, t, s), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && fi(e, t, s, r, o, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (nc(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !ie(s))) ? ui(e, ke(t), s, o, t) : (t === "true-value" ? e._trueValue = s : t === "false-value" && (e._falseValue = s), fi(e, t, s, r));
};
function tc(e, t, n, s) {
  if (s)
    return !!(t === "innerHTML" || t === "textContent" || t in e && hi(t) && J(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const i = e.tagName;
    if (i === "IMG" || i === "VIDEO" || i === "CANVAS" || i === "SOURCE")
      return !1;
  }
  return hi(t) && ie(n) ? !1 : t in e;
}
function nc(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const s = ke(t);
  return Array.isArray(n) ? n.some((i) => ke(i) === s) : Object.keys(n).some((i) => ke(i) === s);
}
const On = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return P(t) ? (n) => _n(t, n) : t;
};
function sc(e) {
  e.target.composing = !0;
}
function pi(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const gt = /* @__PURE__ */ Symbol("_assign"), yn = /* @__PURE__ */ Symbol("_initialValue");
function is(e, t, n) {
  return t && (e = e.trim()), n && (e = cn(e)), e;
}
const qt = {
  created(e, { modifiers: { lazy: t, trim: n, number: s } }, i) {
    e.parentNode && (e.type === "text" ? e[yn] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[yn] = e.defaultValue.replace(/\r\n?/g, `
`))), e[gt] = On(i);
    const o = s || i.props && i.props.type === "number";
    ht(e, t ? "change" : "input", (r) => {
      r.target.composing || e[gt](is(e.value, n, o));
    }), (n || o) && ht(e, "change", () => {
      e.value = is(e.value, n, o);
    }), t || (ht(e, "compositionstart", sc), ht(e, "compositionend", pi), ht(e, "change", pi));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: s } }) {
    const i = t ?? "", o = e[yn];
    delete e[yn], o !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== o ? e[gt](is(e.value, n, s)) : e.value = i;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: s, trim: i, number: o } }, r) {
    if (e[gt] = On(r), e.composing) return;
    const l = (o || e.type === "number") && !/^0\d/.test(e.value) ? cn(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const u = e.getRootNode();
    (u instanceof Document || u instanceof ShadowRoot) && u.activeElement === e && e.type !== "range" && (s && t === n || i && e.value.trim() === c) || (e.value = c);
  }
}, ic = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, s) {
    e._modelValue = t, ht(e, "change", () => {
      const i = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? cn(Nn(c)) : Nn(c)
      ), o = e.multiple, r = o ? St(e._modelValue) ? new Set(i) : i : i[0], l = e._pendingValue = [
        o,
        o ? P(r) ? i.slice() : i : r
      ];
      try {
        e[gt](r);
      } finally {
        An(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[gt] = On(s);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    gi(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[gt] = On(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const s = e._pendingValue;
    e._pendingValue = void 0, (!s || s[0] !== e.multiple || !oc(t, s[1], s[0])) && gi(e, t, n);
  }
};
function oc(e, t, n) {
  if (!n || P(e)) return nt(e, t);
  if (St(e)) {
    if (e.size !== t.length) return !1;
    for (const s of t)
      if (!e.has(s)) return !1;
    return !0;
  }
  return !1;
}
function gi(e, t, n = !1) {
  const s = e.multiple, i = P(t);
  if (!(s && !i && !St(t))) {
    for (let o = 0, r = e.options.length; o < r; o++) {
      const l = e.options[o], c = Nn(l);
      if (s)
        if (i) {
          const u = typeof c;
          u === "string" || u === "number" ? l.selected = t.some((d) => String(d) === String(c)) : l.selected = dr(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(cn(c));
      else if (nt(Nn(l), t)) {
        e.selectedIndex !== o && (e.selectedIndex = o);
        return;
      }
    }
    !s && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function Nn(e) {
  return "_value" in e ? e._value : e.value;
}
const rc = ["ctrl", "shift", "alt", "meta"], lc = {
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
  exact: (e, t) => rc.some((n) => e[`${n}Key`] && !t.includes(n))
}, mi = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), s = t.join(".");
  return n[s] || (n[s] = ((i, ...o) => {
    for (let r = 0; r < t.length; r++) {
      const l = lc[t[r]];
      if (l && l(i, t)) return;
    }
    return e(i, ...o);
  }));
}, cc = /* @__PURE__ */ Se({ patchProp: ec }, Pl);
let yi;
function ac() {
  return yi || (yi = gl(cc));
}
const fc = ((...e) => {
  const t = ac().createApp(...e), { mount: n } = t;
  return t.mount = (s) => {
    const i = dc(s);
    if (!i) return;
    const o = t._component;
    !J(o) && !o.render && !o.template && (o.template = i.innerHTML), i.nodeType === 1 && (i.textContent = "");
    const r = n(i, !1, uc(i));
    return i instanceof Element && (i.removeAttribute("v-cloak"), i.setAttribute("data-v-app", "")), r;
  }, t;
});
function uc(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function dc(e) {
  return ie(e) ? document.querySelector(e) : e;
}
const hc = "/comfyd/connection";
function pc(e, t) {
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
  const i = /* @__PURE__ */ new Set(["127.0.0.1", "localhost", "[::1]"]);
  return t && i.has(s.hostname) && i.has(t.hostname) && (s.hostname = t.hostname), { wsBase: `${s.protocol === "https:" ? "wss:" : "ws:"}//${s.host}`, token: n, bridgeUrl: s.origin };
}
const gc = "comfyd", mc = "comfyd.token.", yc = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function Wo(e) {
  return yc.test(e.token);
}
function qo(e, t) {
  return Wo(e) ? `${e.wsBase}${t}` : `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
function Ko(e) {
  return Wo(e) ? [gc, mc + e.token] : [];
}
class _c {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(hc).then(
      (t) => pc(t, this.location),
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
function Ho(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const bt = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function ze(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (bt(e).find((s) => String(s.id) === String(t)) ?? null);
}
function bc(e, t) {
  if (t == null) return null;
  const n = e.links ?? e._links;
  return n ? typeof n.get == "function" ? n.get(t) ?? null : n[t] ?? null : null;
}
function _i(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function wc(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function Sc(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function xc(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function vc(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function Be(e) {
  if (!e || typeof e != "object") return "";
  const { extra: t, nodes: n, ...s } = e;
  let i = t;
  if (i && typeof i == "object" && "ds" in i) {
    const { ds: r, ...l } = i;
    i = l;
  }
  const o = Array.isArray(n) ? n.map((r) => {
    if (!r || typeof r != "object") return r;
    const { order: l, ...c } = r;
    return c;
  }) : n;
  return JSON.stringify({ ...s, nodes: o, extra: i ?? null });
}
function Tt(e, t, n = 3) {
  const s = String(e).toLowerCase(), i = [];
  for (const o of t) {
    const r = String(o).toLowerCase();
    let l = Ac(s, r);
    (r.includes(s) || s.includes(r)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(s.length / 3)) && i.push([l, o]);
  }
  return i.sort((o, r) => o[0] - r[0] || String(o[1]).localeCompare(String(r[1]))), i.slice(0, n).map((o) => o[1]);
}
const bi = 128;
function Ac(e, t) {
  if (e.length > bi || t.length > bi) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (s, i) => i);
  for (let s = 1; s <= e.length; s++) {
    const i = [s];
    for (let o = 1; o <= t.length; o++)
      i[o] = Math.min(n[o] + 1, i[o - 1] + 1, n[o - 1] + (e[s - 1] === t[o - 1] ? 0 : 1));
    n = i;
  }
  return n[t.length];
}
const Ye = Object.freeze({
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
}), Mn = (e, t) => e < t ? -1 : e > t ? 1 : 0;
function Bo(e, t, n = {}) {
  const s = n.x ?? 0, i = n.y ?? 0, o = n.spacing ?? Ye.spacing, r = e.length, l = /* @__PURE__ */ new Map();
  e.forEach((N, j) => l.set(N.id, j));
  const c = Array.from({ length: r }, () => []), u = Array.from({ length: r }, () => []), d = /* @__PURE__ */ new Set();
  for (const [N, j] of t) {
    const F = l.get(N), H = l.get(j);
    if (F === void 0 || H === void 0 || F === H) continue;
    const ne = F * r + H;
    d.has(ne) || (d.add(ne), c[F].push(H), u[H].push(F));
  }
  const p = new Uint8Array(r), T = /* @__PURE__ */ new Set();
  for (let N = 0; N < r; N++) {
    if (p[N]) continue;
    const j = [[N, 0]];
    for (p[N] = 1; j.length; ) {
      const F = j[j.length - 1], [H, ne] = F;
      if (ne < c[H].length) {
        F[1]++;
        const Q = c[H][ne];
        p[Q] === 1 ? T.add(H * r + Q) : p[Q] === 0 && (p[Q] = 1, j.push([Q, 0]));
      } else
        p[H] = 2, j.pop();
    }
  }
  const E = (N, j) => !T.has(N * r + j), M = u.map((N, j) => N.filter((F) => E(F, j))), x = c.map((N, j) => N.filter((F) => E(j, F))), S = M.map((N) => N.length), b = [], v = [];
  for (let N = 0; N < r; N++) S[N] || v.push(N);
  for (let N = 0; N < v.length; N++) {
    const j = v[N];
    b.push(j);
    for (const F of x[j]) --S[F] === 0 && v.push(F);
  }
  const w = new Int32Array(r);
  for (const N of b) for (const j of x[N]) w[j] = Math.max(w[j], w[N] + 1);
  for (const N of b) {
    if (M[N].length || !x[N].length) continue;
    let j = 1 / 0;
    for (const F of x[N]) j = Math.min(j, w[F]);
    w[N] = Math.max(0, j - 1);
  }
  let A = 0;
  for (let N = 0; N < r; N++) A = Math.max(A, w[N] + 1);
  const U = Array.from({ length: A }, () => []);
  for (let N = 0; N < r; N++) U[w[N]].push(N);
  const le = new Float64Array(r), _e = () => {
    for (const N of U) N.forEach((j, F) => le[j] = N.length > 1 ? F / (N.length - 1) : 0.5);
  };
  _e();
  const Fe = (N, j) => {
    const F = N.map((H, ne) => {
      const Q = j[H];
      let Xe = le[H];
      if (Q.length) {
        let Qe = 0;
        for (const Hn of Q) Qe += le[Hn];
        Xe = Qe / Q.length;
      }
      return [Xe, ne, H];
    });
    return F.sort((H, ne) => Mn(H[0], ne[0]) || H[1] - ne[1]), F.map((H) => H[2]);
  };
  let fn = U.map((N) => N.slice()), rt = wi(U, x, w, r);
  for (let N = 0; N < Ye.sweeps && rt > 0; N++) {
    for (let F = 1; F < A; F++)
      U[F] = Fe(U[F], M), _e();
    for (let F = A - 2; F >= 0; F--)
      U[F] = Fe(U[F], x), _e();
    const j = wi(U, x, w, r);
    j < rt && (rt = j, fn = U.map((F) => F.slice()));
  }
  const Dt = new Float64Array(r), Rt = new Float64Array(r);
  let Lt = s, vt = i;
  for (let N = 0; N < A; N++) {
    let j = 0, F = i;
    for (const H of fn[N]) {
      const ne = e[H];
      let Q = F;
      if (M[H].length) {
        let Xe = 0;
        for (const Qe of M[H]) Xe += Rt[Qe] + e[Qe].h / 2;
        Q = Math.max(F, Xe / M[H].length - ne.h / 2);
      }
      Dt[H] = Lt, Rt[H] = Q, F = Q + ne.h + o, j = Math.max(j, ne.w), vt = Math.max(vt, Q + ne.h);
    }
    Lt += j + o;
  }
  const un = /* @__PURE__ */ new Map(), Pt = /* @__PURE__ */ new Map();
  for (let N = 0; N < r; N++)
    un.set(e[N].id, [Dt[N], Rt[N]]), Pt.set(e[N].id, w[N]);
  return { pos: un, layer: Pt, width: A ? Lt - o - s : 0, height: vt - i };
}
function wi(e, t, n, s) {
  const i = new Float64Array(s);
  for (const l of e) l.forEach((c, u) => i[c] = u);
  const o = /* @__PURE__ */ new Map();
  for (let l = 0; l < s; l++)
    for (const c of t[l]) {
      const u = n[l] * 65536 + n[c];
      let d = o.get(u);
      d || o.set(u, d = []), d.push([i[l], i[c]]);
    }
  let r = 0;
  for (const l of o.values())
    l.sort((c, u) => c[0] - u[0] || c[1] - u[1]), r += _s(l.map((c) => c[1]));
  return r;
}
function _s(e) {
  if (e.length < 2) return 0;
  const t = e.length >> 1, n = e.slice(0, t), s = e.slice(t);
  let i = _s(n) + _s(s), o = 0, r = 0, l = 0;
  for (; o < n.length && r < s.length; )
    n[o] <= s[r] ? e[l++] = n[o++] : (e[l++] = s[r++], i += n.length - o);
  for (; o < n.length; ) e[l++] = n[o++];
  for (; r < s.length; ) e[l++] = s[r++];
  return i;
}
function Ic(e, t, n = 0) {
  return e.x < t.x + t.w + n && t.x < e.x + e.w + n && e.y < t.y + t.h + n && t.y < e.y + e.h + n;
}
function Go(e, t, n = Ye.spacing) {
  const s = n / 2, i = t.filter((r) => e.x < r.x + r.w + s && r.x < e.x + e.w + s);
  i.sort((r, l) => r.y - l.y || r.x - l.x);
  let o = e.y;
  for (const r of i) o < r.y + r.h + s && r.y < o + e.h + s && (o = r.y + r.h + n);
  return o;
}
function Ls(e) {
  const t = e?.NODE_TITLE_HEIGHT;
  return typeof t == "number" && Number.isFinite(t) && t >= 0 ? t : Ye.titleHeight;
}
function $n(e, t) {
  const n = Ls(t), s = Number(e.size?.[0]), i = Number(e.size?.[1]), o = !!e.flags?.collapsed;
  return {
    id: e.id,
    x: Number(e.pos?.[0]) || 0,
    y: (Number(e.pos?.[1]) || 0) - n,
    w: Number.isFinite(s) && s > 0 ? s : 200,
    h: o ? n : (Number.isFinite(i) && i > 0 ? i : 100) + n
  };
}
function zo(e) {
  const t = [];
  for (const n of bt(e))
    for (const s of n.inputs ?? []) {
      if (s?.link === null || s?.link === void 0) continue;
      const i = bc(e, s.link);
      if (!i) continue;
      const o = i.origin_id ?? i[1];
      o != null && t.push([i.id ?? i[0], o, n.id]);
    }
  return t.sort((n, s) => Mn(Number(n[0]), Number(s[0]))), t.map(([, n, s]) => [n, s]);
}
const kc = (e, t) => Mn(Number(e.id), Number(t.id)) || Mn(String(e.id), String(t.id));
function Jo(e, t, n, s) {
  const i = [Math.round(t), Math.round(n + s)];
  e.pos && typeof e.pos.length == "number" && e.pos.length >= 2 ? (e.pos[0] = i[0], e.pos[1] = i[1]) : e.pos = i;
}
function Cc(e, t, n = {}) {
  const s = n.LiteGraph, i = Ls(s), o = n.spacing ?? Ye.spacing, r = n.exclude ?? (() => !1);
  let l;
  if (t && t.length) {
    const w = new Set(t.map(String));
    l = bt(e).filter((A) => w.has(String(A.id)));
  } else l = bt(e).filter((w) => !r(w));
  if (!l.length) return [];
  const c = new Set(l.map((w) => String(w.id))), u = l.map((w) => $n(w, s));
  u.sort((w, A) => w.y - A.y || w.x - A.x || kc(w, A));
  const d = n.x ?? Math.min(...u.map((w) => w.x)), p = n.y ?? Math.min(...u.map((w) => w.y)), T = zo(e).filter(([w, A]) => c.has(String(w)) && c.has(String(A))), { pos: E, layer: M } = Bo(u, T, { x: d, y: p, spacing: o }), x = new Set([...n.ignore ?? []].map(String)), S = bt(e).filter((w) => !c.has(String(w.id)) && !x.has(String(w.id))).map((w) => $n(w, s)), b = u.slice().sort((w, A) => M.get(w.id) - M.get(A.id) || E.get(w.id)[1] - E.get(A.id)[1]), v = [];
  for (const w of b) {
    const [A, U] = E.get(w.id), le = { ...w, x: A, y: U };
    S.length && (le.y = Go(le, S.concat(v), o)), v.push(le), Jo(ze(e, w.id), le.x, le.y, i);
  }
  return b.map((w) => w.id);
}
function Tc(e, t, n = {}) {
  const s = n.LiteGraph, i = Ls(s), o = n.spacing ?? Ye.spacing, r = new Set(t.map(String)), l = t.map((v) => ze(e, v)).filter(Boolean);
  if (!l.length) return [];
  const c = l.map((v) => $n(v, s)), u = bt(e).filter((v) => !r.has(String(v.id))).map((v) => $n(v, s)), d = new Map(u.map((v) => [String(v.id), v])), p = zo(e), T = p.filter(([v, w]) => r.has(String(v)) && r.has(String(w))), E = Bo(c, T, { x: 0, y: 0, spacing: o });
  let M = -1 / 0, x = 1 / 0;
  for (const [v, w] of p) {
    const A = d.get(String(v));
    !A || !r.has(String(w)) || (M = Math.max(M, A.x + A.w + o - E.pos.get(w)[0]), x = Math.min(x, A.y));
  }
  if (M === -1 / 0) {
    const v = Ec(u), w = Array.isArray(n.view) && n.view.length === 4 && n.view.every(Number.isFinite) ? n.view : null;
    let A = null;
    if (w) {
      A = [w[0] + Math.max(o, (w[2] - E.width) / 2), w[1] + Math.max(o, (w[3] - E.height) / 2)];
      const U = { x: A[0], y: A[1], w: E.width, h: E.height };
      u.some((le) => Ic(U, le, o / 2)) && (A = null);
    }
    A || (A = v ? [v.x + v.w + o, v.y] : w ? [w[0] + w[2] / 4, w[1] + w[3] / 4] : Ye.origin), [M, x] = A;
  }
  const S = c.slice().sort((v, w) => E.layer.get(v.id) - E.layer.get(w.id) || E.pos.get(v.id)[1] - E.pos.get(w.id)[1]), b = u.slice();
  for (const v of S) {
    const [w, A] = E.pos.get(v.id), U = { ...v, x: M + w, y: x + A };
    U.y = Go(U, b, o), b.push(U), Jo(ze(e, v.id), U.x, U.y, i);
  }
  return S.map((v) => v.id);
}
function Ec(e) {
  if (!e.length) return null;
  let t = 1 / 0, n = 1 / 0, s = -1 / 0, i = -1 / 0;
  for (const o of e)
    t = Math.min(t, o.x), n = Math.min(n, o.y), s = Math.max(s, o.x + o.w), i = Math.max(i, o.y + o.h);
  return { x: t, y: n, w: s - t, h: i - n };
}
const he = Object.freeze({
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
});
class bs extends Error {
  constructor(t, n, s = []) {
    super(n), this.code = t, this.suggestions = s;
  }
}
const V = (e, t, n) => {
  throw new bs(e, t, n);
}, $t = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function Kt(e, t, n = he.name, { optional: s = !1 } = {}) {
  if (e == null) {
    if (s) return "";
    V("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && V("INVALID_COMMAND", `${t} must be a string`), e.length > n && V("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function at(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > he.coord) && V("INVALID_COMMAND", `${t} must be a number within ±${he.coord}`), e);
}
function ft(e, t) {
  return $t(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= he.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : V("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function os(e, t) {
  if (e == null) return 0;
  if ($t(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= he.name ? e : V("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function Si(e, t) {
  if ($t(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((s) => s in e);
    n.length !== 1 && V("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || V("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > he.text && V("VALUE_INVALID", `${t} is longer than ${he.text} characters`), e) : V("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const wn = {
  create_node(e) {
    const t = {
      node_type: Kt(e.node_type, "node_type"),
      x: at(e.x, "x", { optional: !0 }),
      y: at(e.y, "y", { optional: !0 }),
      ref: Kt(e.ref, "ref", he.ref, { optional: !0 }),
      title: Kt(e.title, "title", he.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || V("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      $t(e.widgets) || V("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > he.widgets && V("INVALID_COMMAND", `more than ${he.widgets} widgets`);
      for (const s of n) t.widgets.push([Kt(s, "widget name"), Si(e.widgets[s], `widgets.${s}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: ft(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: ft(e.from_id, "from_id"),
    from_slot: os(e.from_slot, "from_slot"),
    to_id: ft(e.to_id, "to_id"),
    to_slot: os(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: ft(e.node_id, "node_id"), slot: os(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: ft(e.node_id, "node_id"),
    name: Kt(e.name, "name"),
    value: Si(e.value, "value")
  }),
  move_node: (e) => ({ node_id: ft(e.node_id, "node_id"), x: at(e.x, "x"), y: at(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(e) {
    const t = e.node_ids ?? [];
    Array.isArray(t) || V("INVALID_COMMAND", "node_ids must be an array of node ids or refs"), t.length > he.nodes && V("INVALID_COMMAND", `node_ids: more than ${he.nodes}`);
    const n = at(e.spacing, "spacing", { optional: !0 });
    return n !== null && (n < 0 || n > Ye.maxSpacing) && V("INVALID_COMMAND", `spacing must be between 0 and ${Ye.maxSpacing}`), {
      node_ids: t.map((s, i) => ft(s, `node_ids[${i}]`)),
      x: at(e.x, "x", { optional: !0 }),
      y: at(e.y, "y", { optional: !0 }),
      spacing: n
    };
  }
}, Yo = Object.freeze(Object.keys(wn)), Oc = new Set(Yo.filter((e) => e !== "get_graph"));
function Nc(e) {
  $t(e) || V("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const s = Object.keys(e).filter((i) => Object.hasOwn(wn, i));
    s.length !== 1 && V("INVALID_COMMAND", "missing field: type"), t = s[0], n = $t(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(wn, t)) && V("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${Yo.join(", ")}`), { type: t, ...wn[t](n) };
}
const Mc = /* @__PURE__ */ new Set(["number", "slider", "knob"]), $c = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function Dc(e, t, n) {
  const s = String(e.type ?? ""), i = e.options ?? {};
  if (s === "combo") {
    const o = vc(e, t);
    return o && !o.some((r) => r === n) && V("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${o.length} options of ${e.name}`, Tt(n, o.filter((r) => typeof r == "string"))), n;
  }
  return Mc.has(s) ? (typeof n != "number" && V("VALUE_INVALID", `${e.name} takes a number`), i.precision === 0 && !Number.isInteger(n) && V("VALUE_INVALID", `${e.name} takes an integer`), typeof i.min == "number" && n < i.min && V("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${i.min}`), typeof i.max == "number" && n > i.max && V("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${i.max}`), n) : s === "toggle" || s === "boolean" ? (typeof n != "boolean" && V("VALUE_INVALID", `${e.name} takes true or false`), n) : $c.has(s) ? (typeof n != "string" && V("VALUE_INVALID", `${e.name} takes a string`), n) : (s === "button" && V("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function Rc(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function xi(e, t, n, s) {
  const i = Sc(t, n);
  i || V("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, Tt(n, xc(t)));
  const o = Dc(i, t, s), r = i.value;
  i.value = o;
  try {
    i.callback?.call(i, i.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(i.name, i.value, r, i);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return Rc(i);
}
function ut(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return ze(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const s = ze(e.graph, t.id);
    if (s) return s;
    V("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return V("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function Lc(e) {
  const t = typeof e.view == "function" ? e.view() : null;
  return Array.isArray(t) && t.length === 4 && t.every(Number.isFinite) ? t : null;
}
function Pc(e) {
  const t = [...e.pending].filter((n) => ze(e.graph, n));
  e.pending.clear(), t.length && Tc(e.graph, t, { LiteGraph: e.LiteGraph, view: Lc(e) });
}
const jc = {
  create_node(e, t) {
    const { graph: n, LiteGraph: s } = e, i = s.createNode(t.node_type);
    if (!i) {
      const l = Object.keys(s.registered_node_types ?? {});
      V("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, Tt(t.node_type, l));
    }
    t.title && (i.title = t.title);
    const o = t.x === null || t.y === null;
    i.pos = o ? [0, 0] : [t.x, t.y];
    const r = e.expectedId;
    Number.isSafeInteger(r) && r > 0 && !ze(n, r) && (i.id = r), n.add(i), ze(n, i.id) || V("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [l, c] of t.widgets) xi(e, i, l, c);
    } catch (l) {
      throw n.remove(i), l;
    }
    return t.ref && e.refs.set(t.ref, i.id), o && e.pending.add(i.id), { node_id: i.id };
  },
  remove_node(e, t) {
    const n = ut(e, t.node_id, "node_id"), s = n.id;
    return e.graph.remove(n), ze(e.graph, s) && V("EDITOR_FAILED", `node #${s} cannot be removed`), { node_id: s };
  },
  connect(e, t) {
    const n = ut(e, t.from_id, "from_id"), s = ut(e, t.to_id, "to_id"), i = wc(n, t.from_slot);
    i < 0 && V(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? Tt(t.from_slot, (n.outputs ?? []).map((u) => u.name)) : []
    );
    const o = _i(s, t.to_slot);
    o < 0 && V(
      "SLOT_NOT_FOUND",
      `node #${s.id} (${s.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? Tt(t.to_slot, (s.inputs ?? []).map((u) => u.name)) : []
    ), n === s && V("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const r = n.outputs[i].type, l = s.inputs[o].type;
    e.LiteGraph.isValidConnection(r, l) || V("TYPE_MISMATCH", `output ${i} of #${n.id} is ${r}, input ${JSON.stringify(s.inputs[o].name)} of #${s.id} takes ${l}`);
    const c = n.connect(i, s, o);
    return c || V("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${i} -> #${s.id}:${o}`), { node_id: s.id, link_id: c.id };
  },
  disconnect(e, t) {
    const n = ut(e, t.node_id, "node_id"), s = _i(n, t.slot);
    s < 0 && V(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? Tt(t.slot, (n.inputs ?? []).map((o) => o.name)) : []
    );
    const i = n.inputs[s].link;
    return i == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(s), n.inputs[s].link !== null && n.inputs[s].link !== void 0 && V("EDITOR_FAILED", `input ${s} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: i });
  },
  set_widget(e, t) {
    const n = ut(e, t.node_id, "node_id"), s = xi(e, n, t.name, t.value);
    return s === void 0 ? { node_id: n.id } : { node_id: n.id, value: s };
  },
  move_node(e, t) {
    const n = ut(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], e.pending.delete(n.id), { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of bt(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  },
  arrange(e, t) {
    const n = t.node_ids.map((i, o) => ut(e, i, `node_ids[${o}]`).id), s = Cc(e.graph, n, {
      LiteGraph: e.LiteGraph,
      x: t.x ?? void 0,
      y: t.y ?? void 0,
      spacing: t.spacing ?? void 0,
      exclude: e.keepOnClear,
      ignore: e.pending
    });
    for (const i of s) e.pending.delete(i);
    return {};
  }
}, Fc = "BATCH_MODE_PARTIAL";
function Vc(e) {
  return e === Fc || e === 2 || String(e).toLowerCase() === "partial";
}
function vi(e, t) {
  const n = t instanceof bs ? t.code : "EDITOR_FAILED", s = t instanceof bs ? t.message : `command failed: ${t?.message ?? String(t)}`, i = { code: n, message: s.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (i.suggestions = t.suggestions), { index: e, ok: !1, error: i };
}
function Uc(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > he.commands)
    return { ok: !1, error: `more than ${he.commands} commands`, results: [], applied: !1 };
  const s = e.graph, i = Vc(t?.mode), o = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], r = { ...e, refs: /* @__PURE__ */ new Map(), pending: /* @__PURE__ */ new Set(), expectedId: void 0 }, l = s.serialize(), c = Be(l), u = new Array(n.length);
  let d = 0, p = -1;
  for (let M = 0; M < n.length; M++) {
    let x;
    try {
      x = Nc(n[M]);
    } catch (b) {
      if (u[M] = vi(M, b), !i) {
        p = M;
        break;
      }
      continue;
    }
    r.expectedId = x.type === "create_node" ? o[d++] : void 0;
    const S = i && Oc.has(x.type) && M > 0 ? s.serialize() : null;
    try {
      u[M] = { index: M, ok: !0, ...jc[x.type](r, x) };
    } catch (b) {
      if (u[M] = vi(M, b), !i) {
        p = M;
        break;
      }
      const v = S ?? l;
      Be(s.serialize()) !== Be(v) && Ai(s, v);
    }
  }
  if (p >= 0) {
    Be(s.serialize()) !== c && Ai(s, l);
    const M = `not applied: command ${p} failed and the patch is atomic (the graph was rolled back)`;
    for (let x = 0; x < n.length; x++)
      x !== p && (u[x] = { index: x, ok: !1, error: { code: "SKIPPED", message: M, index: x } });
    return s.setDirtyCanvas?.(!0, !0), { ok: !1, error: u[p].error.message, results: u, applied: !1 };
  }
  Pc(r), s.setDirtyCanvas?.(!0, !0);
  const T = u.every((M) => M.ok), E = u.find((M) => !M.ok);
  return {
    ok: T,
    error: T ? "" : E.error.message,
    results: u,
    applied: Be(s.serialize()) !== c
  };
}
function Ai(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
function Wc(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function qc(e, t) {
  const n = Wc(e);
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
const Kc = 1e3, Hc = 1500, Bc = 120, Gc = 480 * 1024, rs = "the tab has switched to another workflow; this canvas is no longer open in it", zc = 200, Jc = 50, Yc = 1e4, Xc = 1e3, Qc = 128, Ii = 1024 * 1024 - 1024;
function Zc(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function ls(e, t) {
  const n = String(t || "workflow"), s = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${s}~${Zc(n)}`.slice(0, Qc);
}
function ea(e, t = Gc) {
  if (!e || typeof e != "object") return "";
  const n = /* @__PURE__ */ new Set(["tooltip", "description", "output_tooltips", "search_aliases", "python_module"]), s = (o) => {
    if (Array.isArray(o)) return o.map(s);
    if (o && typeof o == "object") {
      const r = {};
      for (const l of Object.keys(o)) n.has(l) || (r[l] = s(o[l]));
      return r;
    }
    return o;
  }, i = JSON.stringify(s(e));
  return new TextEncoder().encode(i).length <= t ? i : "";
}
function ta(e, t = () => Math.random().toString(36).slice(2, 10)) {
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
class na {
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
    }), this.socket = null, this.attached = !1, this.canvasId = null, this.revision = 0, this.tabRevision = 0, this.lastSig = null, this.work = Promise.resolve(), this.busy = 0, this.attempt = 0, this.stopped = !0, this.replaced = !1, this.reconnectTimer = null, this.pollTimer = null, this.debounceTimer = null, this.focused = !1, this.focusSentAt = -1 / 0, this.waitedSteps = 0, this.pointerDown = !1, this.pointerDownAt = 0, this.objectInfoJson = null, this.listeners = [], this.status = "idle", this.onStatus = null;
  }
  // ---- the graph ----
  graph() {
    return this.d.app.rootGraph ?? this.d.app.graph;
  }
  activeWorkflow() {
    return this.d.app.extensionManager?.workflow?.activeWorkflow ?? null;
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), Hc), this.connect());
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
    const t = Ho(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Jc : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, zc);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = ea(await this.d.objectInfo?.());
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
      n = new this.d.WebSocket(qo(t, "/comfy/editor/ws"), Ko(t));
    } catch (s) {
      this.log("warn", `comfyd: cannot open the editor socket (${s?.message ?? s})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (s?.code === Kc) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = ls(this.d.tabId, this.workflowKey()), this.lastSig = Be(t), this.tabRevision += 1;
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
    const s = JSON.stringify(t);
    return s.length > Ii && new TextEncoder().encode(s).length > Ii ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(s), !0);
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
        case "report_ack":
          Number.isFinite(Number(n.revision)) && (this.revision = Number(n.revision));
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
    return ls(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: rs, results: [], workflow_json: "", tab_revision: this.tabRevision });
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
      s = qc(this.d.app, () => Uc(n, t));
    } catch (o) {
      s = { ok: !1, error: `the patch failed: ${o?.message ?? o}`, results: [] };
    } finally {
      this.busy--;
    }
    const i = this.serialize();
    this.lastSig = Be(i), this.tabRevision += 1, this.send({
      type: "patch_result",
      request_id: t.request_id,
      ok: !!s.ok,
      error: s.error ?? "",
      results: (s.results ?? []).filter(Boolean).map(sa),
      workflow_json: JSON.stringify(i),
      tab_revision: this.tabRevision
    });
  }
  /** The visible part of the canvas in canvas units ([x, y, w, h]), where
   * nodes created without coordinates go when it is free; null when the
   * canvas has no size yet. */
  view() {
    const t = this.d.app.canvas, n = t?.ds, s = t?.canvas, i = n?.visible_area;
    if (i && i[2] > 0 && i[3] > 0) return [i[0], i[1], i[2], i[3]].map(Number);
    if (!n || !s || !n.scale || !s.width || !s.height) return null;
    const o = globalThis.devicePixelRatio || 1, r = (s.clientWidth || s.width / o) / n.scale, l = (s.clientHeight || s.height / o) / n.scale;
    return [-n.offset[0], -n.offset[1], r, l];
  }
  async handleQueue(t) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: rs, prompt_id: "", number: 0 });
    const { app: n, api: s } = this.d, i = [];
    let o = "";
    const r = s.queuePrompt;
    s.queuePrompt = async function(...u) {
      try {
        const d = await r.apply(this, u);
        return i.push(d), d;
      } catch (d) {
        throw o = ki(d), d;
      }
    };
    let l = !1;
    try {
      const u = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      l = await n.queuePrompt(0, u) !== !1;
    } catch (u) {
      o = o || ki(u);
    } finally {
      s.queuePrompt = r;
    }
    const c = i[i.length - 1];
    l = l && !!c?.prompt_id && !o, this.send({
      type: "queue_result",
      request_id: t.request_id,
      ok: l,
      error: l ? "" : o || "the frontend did not queue the workflow",
      prompt_id: c?.prompt_id ? String(c.prompt_id) : "",
      number: Number.isSafeInteger(c?.number) ? c.number : 0
    });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: rs, workflow_json: "", tab_revision: this.tabRevision });
    let n, s = !1, i = "";
    try {
      if (n = JSON.parse(t.workflow_json), !n || typeof n != "object" || !Array.isArray(n.nodes)) throw new Error("not a workflow");
    } catch (r) {
      i = `cannot load: ${r?.message ?? r}`;
    }
    if (!i) {
      this.busy++;
      try {
        await this.d.app.loadGraphData(n, !0, !0, this.activeWorkflow() ?? void 0), s = !0;
      } catch (r) {
        i = `loading failed: ${r?.message ?? r}`;
      } finally {
        this.busy--;
      }
    }
    const o = this.serialize();
    this.lastSig = Be(o), this.tabRevision += 1, this.send({
      type: "load_result",
      request_id: t.request_id,
      ok: s,
      error: i,
      workflow_json: s ? JSON.stringify(o) : "",
      tab_revision: this.tabRevision
    });
  }
  // ---- the user's edits and focus ----
  /** Called on graphChanged: a burst becomes one check. */
  graphChanged() {
    this.t.clearTimeout(this.debounceTimer), this.debounceTimer = this.t.setTimeout(() => {
      this.debounceTimer = null, this.checkEdits();
    }, Bc);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < Yc || this.d.app.configuringGraph) return;
    if (ls(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const s = Be(n);
    s !== this.lastSig && (this.lastSig = s, this.tabRevision += 1, this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision }));
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
    if (!(this.focused && t - this.focusSentAt < Xc)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function ki(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, s = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${s.length ? ` (nodes ${s.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function sa(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const Ci = 500, Ti = 200;
function wt(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function Xo() {
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
    needsResync: !1
  };
}
function Qo(e, t = "") {
  Object.assign(e, Xo(), { sessionId: t });
}
function Ei(e, t) {
  const n = Number(t) || 0;
  for (let s = e.turns.length - 1; s >= 0; s--) if (e.turns[s].id === n) return e.turns[s];
  return null;
}
function Ot(e, t) {
  let n = Ei(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let s = e.turns.length;
  for (; s > 0 && e.turns[s - 1].id > n.id; ) s--;
  return e.turns.splice(s, 0, n), e.turns.length > Ti && e.turns.splice(0, e.turns.length - Ti), Ei(e, n.id) ?? n;
}
function Sn(e, t) {
  const n = t || "assistant";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function Ht(e, t) {
  e.logs.push(t), e.logs.length > Ci && e.logs.splice(0, e.logs.length - Ci);
}
function Oi(e, t) {
  if (!t || typeof t != "object") return;
  const n = wt(t.role, "ROLE_"), s = wt(t.state, "MESSAGE_STATE_");
  if (n === "user") {
    const i = Ot(e, t.id);
    i.content = String(t.content ?? ""), i.state = s, i.error = String(t.error ?? ""), i.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const i = Ot(e, t.turn_id), o = Sn(i, t.skill);
    o.content = String(t.content ?? ""), o.state = s || "done", o.error = String(t.error ?? ""), o.final = !0;
  }
}
function Ni(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = wt(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function ia(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function oa(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, s = t.data && typeof t.data == "object" ? t.data : {}, i = ia(t);
  if (s.session_id && e.sessionId && s.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (i && i < e.lastSeq) return !1;
    const o = e.logs, r = s.session?.id ?? e.sessionId;
    Qo(e, r), e.logs = o, Ni(e, s.session), s.status !== void 0 && (e.status = wt(s.status, "SESSION_STATUS_") || e.status);
    for (const l of Array.isArray(s.history) ? s.history : []) Oi(e, l);
    for (const l of Array.isArray(s.partials) ? s.partials : []) {
      const c = Sn(Ot(e, l.turn_id), l.skill);
      c.final || (c.content = String(l.content ?? ""), c.next = Number(l.delta_count) || 0, c.state = "streaming");
    }
    return e.lastSeq = i || e.lastSeq, e.needsResync = !1, !0;
  }
  if (["created", "configured", "sessions", "skills", "ack", "cancelled"].includes(n))
    return n === "configured" && s.session && Ni(e, s.session), !1;
  if (i) {
    if (i <= e.lastSeq) return !1;
    e.lastSeq = i;
  }
  switch (n) {
    case "status_update": {
      if (e.status = wt(s.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(s.detail ?? ""), e.queuedTurns = Number(s.queued_turns) || 0, e.status === "idle")
        for (const o of e.turns)
          for (const r of o.order) o.replies[r].state === "streaming" && (o.replies[r].state = "done");
      return !0;
    }
    case "stream_delta": {
      const o = Ot(e, s.turn_id), r = Sn(o, s.skill), l = Number(s.index);
      if (r.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < r.next) return !1;
        if (l > r.next)
          return e.needsResync = !0, !1;
      }
      return r.content += String(s.delta ?? ""), r.next += 1, r.state = "streaming", !0;
    }
    case "message_added":
      return Oi(e, s.message), !0;
    case "debug_log":
      return Ht(e, {
        seq: i,
        level: wt(s.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(s.module ?? ""),
        skill: String(s.skill ?? ""),
        message: String(s.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(s.code ?? ""), message: String(s.message ?? ""), skill: String(s.skill ?? "") }, s.turn_id) {
        const o = Ot(e, s.turn_id);
        if (s.skill) {
          const r = Sn(o, s.skill);
          r.error = e.lastError.message, r.final || (r.state = s.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return Ht(e, { seq: i, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return s.config && (e.config = s.config), typeof s.title == "string" && (e.title = s.title), !0;
    case "tool_call":
      return Ht(e, { seq: i, level: "INFO", module: "tool", skill: String(s.skill ?? ""), message: `${s.name ?? "tool"}(${String(s.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return Ht(e, { seq: i, level: s.ok ? "INFO" : "WARN", module: "tool", skill: String(s.skill ?? ""), message: `${s.call_id ?? ""} -> ${String(s.result_json ?? "").slice(0, 300)}` }), !0;
    case "graph_changed":
      return Ht(e, { seq: i, level: "INFO", module: "graph", skill: "", message: `${s.canvas_id ?? ""} r${s.revision ?? ""}: ${s.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function ra(e, t, n) {
  const s = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(s), s;
}
function la(e, t, n) {
  const s = e.turns.findIndex((r) => r.pending && r.clientId === t), i = s >= 0 ? e.turns.splice(s, 1)[0] : null;
  if (!n?.id) return;
  const o = Ot(e, n.id);
  o.content || (o.content = String(n.content ?? i?.content ?? "")), o.state || (o.state = wt(n.state, "MESSAGE_STATE_"));
}
function ca(e, t, n) {
  const s = e.turns.find((i) => i.pending && i.clientId === t);
  s && (s.state = "failed", s.error = String(n ?? "not sent"));
}
function Mi(e, t = []) {
  const n = [];
  for (const s of t) e.replies[s] && n.push(s);
  for (const s of e.order) n.includes(s) || n.push(s);
  return n.map((s) => e.replies[s]);
}
const aa = 15e3;
class fa {
  /**
   * deps: {connection, WebSocket, timers?, log?, state (session store),
   *        onOpen?(), onClose?(), onChange?()}
   */
  constructor(t) {
    this.d = t, this.t = t.timers ?? globalThis, this.log = t.log ?? (() => {
    }), this.state = t.state, this.socket = null, this.open = !1, this.nextId = 1, this.pending = /* @__PURE__ */ new Map(), this.joined = "", this.joinRid = 0, this.attempt = 0, this.stopped = !0, this.reconnectTimer = null;
  }
  start() {
    this.stopped && (this.stopped = !1, this.connect());
  }
  stop() {
    this.stopped = !0, this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = null, this.drop(new Error("panel closed"));
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
      return this.log("warn", `comfyd: no connection info (${s?.message ?? s})`), this.d.connection.invalidate?.(), this.retry();
    }
    if (this.stopped) return;
    let n;
    try {
      n = new this.d.WebSocket(qo(t, "/comfy/session/ws"), Ko(t));
    } catch {
      return this.retry();
    }
    this.socket = n, n.onopen = () => {
      this.open = !0, this.attempt = 0, this.joined && this.sendJoin(this.joined), this.d.onOpen?.();
    }, n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      this.socket === n && (this.socket = null, this.open = !1, this.drop(new Error("connection lost")), this.d.onClose?.(), (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.retry());
    };
  }
  retry() {
    this.stopped || this.reconnectTimer || (this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, Ho(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const s = this.nextId++;
    return new Promise((i, o) => {
      if (!this.send({ event: t, data: n, request_id: s })) {
        o(new Error("not connected to comfyd"));
        return;
      }
      const r = this.t.setTimeout(() => {
        this.pending.delete(s), o(new Error(`${t}: no answer from comfyd`));
      }, aa);
      this.pending.set(s, { resolve: i, reject: o, timer: r });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && Qo(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
  }
  sendJoin(t, n = !1) {
    const s = n || this.state.sessionId !== t ? 0 : this.state.lastSeq;
    this.joinRid = this.nextId++, this.send({ event: "join", data: { session_id: t, last_seq: s }, request_id: this.joinRid });
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
      this.state.lastError = { code: String(n.data?.code ?? "join_failed"), message: String(n.data?.message ?? ""), skill: "" }, this.d.onChange?.();
      return;
    }
    if (s !== void 0 && this.pending.has(s)) {
      const i = this.pending.get(s);
      if (this.pending.delete(s), this.t.clearTimeout(i.timer), n.event === "error") {
        const o = new Error(n.data?.message ?? "request failed");
        o.code = n.data?.code ?? "error", i.reject(o);
      } else
        i.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    oa(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
}
const Zo = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), ua = Object.freeze(["echo", "openai"]), $i = 64 * 1024, cs = 4096, da = 64 * 1024;
function ha(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let Di = 0;
function pa() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return Di += 1, `panel-${e}-${Di}`;
}
class ga {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value)}
   */
  constructor(t) {
    this.d = t;
    const n = t.reactive ?? ((s) => s);
    this.state = n(Xo()), this.ui = n({
      connected: !1,
      sessions: [],
      skills: [],
      skillErrors: [],
      form: this.formFromConfig(t.readConfig()),
      apiKey: "",
      showSettings: !1,
      showLog: !1,
      notice: "",
      draft: "",
      busy: !1
    }), this.client = new fa({
      connection: t.connection,
      WebSocket: t.WebSocket,
      timers: t.timers,
      log: t.log,
      state: this.state,
      onOpen: () => this.onOpen(),
      onClose: () => {
        this.ui.connected = !1;
      },
      onChange: () => this.onChange()
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
      skills: ha(n.skills)
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
    this.ui.connected = !0, this.ui.notice = "", await Promise.allSettled([this.refreshSkills(), this.refreshSessions()]);
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = this.ui.form, s = (i, o) => {
      o !== void 0 && n[i] !== o && (n[i] = o, this.d.writeConfig(i, i === "skills" ? o.join(",") : o));
    };
    s("provider", t.provider || "echo"), s("model", t.model ?? ""), s("base_url", t.base_url ?? ""), s("system_prompt", t.system_prompt ?? ""), Array.isArray(t.active_skills) && s("skills", t.active_skills.map(String));
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`);
    } catch (t) {
      this.ui.notice = `skills: ${t.message}`;
    }
  }
  async refreshSessions() {
    try {
      const t = await this.client.request("list", { page_size: 50 });
      this.ui.sessions = (t.sessions ?? []).map((n) => ({ id: String(n.id), title: String(n.title || n.id) }));
    } catch (t) {
      this.ui.notice = `sessions: ${t.message}`;
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, cs),
      model: t.model.slice(0, cs),
      base_url: t.base_url.slice(0, cs),
      system_prompt: t.system_prompt.slice(0, da)
    };
  }
  async createSession(t = "") {
    this.ui.busy = !0;
    try {
      const n = {
        title: String(t || `ComfyUI ${(/* @__PURE__ */ new Date()).toISOString().slice(0, 16).replace("T", " ")}`).slice(0, 200),
        config: { ...this.configFields(), active_skills: [...this.ui.form.skills] }
      };
      this.ui.apiKey && (n.api_key = this.ui.apiKey);
      const s = await this.client.request("create", n);
      this.ui.apiKey = "";
      const i = s.session?.id;
      if (!i) throw new Error("the core answered without a session id");
      this.selectSession(String(i)), await this.refreshSessions();
    } catch (n) {
      this.ui.notice = `create: ${n.message}`;
    } finally {
      this.ui.busy = !1;
    }
  }
  selectSession(t) {
    this.ui.form.session_id = t, this.d.writeConfig("session_id", t), this.client.join(t);
  }
  /** Saves provider, model, base URL and system prompt (workflow + core). */
  async saveConfig() {
    const t = this.configFields();
    for (const [n, s] of Object.entries(t)) this.d.writeConfig(n, s);
    if (this.ui.form.session_id)
      try {
        await this.client.request("configure", { session_id: this.ui.form.session_id, ...t }), this.ui.notice = "";
      } catch (n) {
        this.ui.notice = `configure: ${n.message}`;
      }
  }
  /** Sends the API key to the core and forgets it. */
  async setApiKey() {
    const t = this.ui.apiKey;
    if (this.ui.apiKey = "", !this.ui.form.session_id) {
      this.ui.notice = "create or choose a session first";
      return;
    }
    try {
      await this.client.request("configure", { session_id: this.ui.form.session_id, api_key: t }), this.ui.notice = t ? "API key stored in comfyd" : "API key removed";
    } catch (n) {
      this.ui.notice = `API key: ${n.message}`;
    }
  }
  async toggleSkill(t, n) {
    const s = new Set(this.ui.form.skills);
    n ? s.add(t) : s.delete(t);
    const i = this.ui.skills.map((r) => r.name), o = [...i.filter((r) => s.has(r)), ...[...s].filter((r) => !i.includes(r))];
    if (this.ui.form.skills = o, this.d.writeConfig("skills", o.join(",")), !!this.ui.form.session_id)
      try {
        await this.client.request("update_skills", { session_id: this.ui.form.session_id, skills: o });
      } catch (r) {
        this.ui.notice = `skills: ${r.message}`;
      }
  }
  async send() {
    const t = this.ui.draft.trim();
    if (!t) return;
    if (t.length > $i) {
      this.ui.notice = `a message is at most ${$i} characters`;
      return;
    }
    this.ui.form.session_id || await this.createSession();
    const n = this.ui.form.session_id;
    if (!n) return;
    this.ui.draft = "";
    const s = pa();
    ra(this.state, s, t);
    try {
      const i = await this.client.request("user_message", { session_id: n, content: t, client_message_id: s });
      la(this.state, s, i.message);
    } catch (i) {
      ca(this.state, s, i.message);
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
const ws = "ComfydAgentPanel", Ri = "comfyd-panel-style", Li = [560, 520], ma = 320, Pi = (e) => e?.comfyClass === ws || e?.type === ws;
function ya(e, t) {
  if (e.getElementById(Ri)) return;
  const n = e.createElement("style");
  n.id = Ri, n.textContent = t, e.head.appendChild(n);
}
function _a(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function ba(e) {
  for (const [t, n] of Zo) {
    let s = (e.widgets ?? []).find((i) => i.name === t);
    s || (s = e.addWidget("text", t, n, () => {
    }, {})), _a(s);
  }
}
function wa(e) {
  const t = {};
  for (const [n, s] of Zo) {
    const o = (e.widgets ?? []).find((r) => r.name === n)?.value;
    t[n] = typeof o == "string" ? o : s;
  }
  return t;
}
function Sa(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: s } = t;
  ya(s, t.css), ba(e);
  const i = (d, p) => {
    const T = (e.widgets ?? []).find((E) => E.name === d);
    !T || T.value === p || (T.value = p, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, o = new ga({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => wa(e),
    writeConfig: i
  }), r = s.createElement("div");
  r.className = "comfyd-panel-host", r.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: o });
  if (l.mount(r), typeof e.addDOMWidget == "function") {
    const d = e.addDOMWidget("comfyd_panel", "comfyd_panel", r, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => ma,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    d.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  Array.isArray(e.size) && e.setSize?.([Math.max(e.size[0], Li[0]), Math.max(e.size[1], Li[1])]);
  const c = e.onConfigure;
  e.onConfigure = function(...d) {
    const p = c?.apply(this, d);
    return o.reloadConfig(), p;
  };
  const u = e.onRemoved;
  return e.onRemoved = function(...d) {
    o.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, u?.apply(this, d);
  }, setTimeout(() => {
    e.__comfydPanel && (o.reloadConfig(), o.start());
  }, 0), e.__comfydPanel = o, o;
}
const xa = { class: "cd-bar" }, va = ["title"], Aa = ["value", "disabled"], Ia = ["value"], ka = {
  class: "cd-status",
  "data-test": "status"
}, Ca = ["disabled"], Ta = {
  key: 0,
  class: "cd-settings",
  "data-test": "settings-pane"
}, Ea = ["value"], Oa = { class: "cd-wide" }, Na = { class: "cd-wide" }, Ma = { class: "cd-hint" }, $a = { class: "cd-row" }, Da = ["disabled"], Ra = {
  class: "cd-skills",
  "data-test": "skills"
}, La = ["title"], Pa = ["checked", "onChange", "data-skill"], ja = {
  key: 0,
  class: "cd-hint"
}, Fa = { class: "cd-main" }, Va = {
  key: 0,
  class: "cd-err"
}, Ua = ["data-skill"], Wa = { class: "cd-skill" }, qa = {
  key: 0,
  class: "cd-typing"
}, Ka = { class: "cd-text" }, Ha = {
  key: 0,
  class: "cd-err"
}, Ba = {
  key: 0,
  class: "cd-empty"
}, Ga = {
  key: 0,
  class: "cd-hint"
}, za = {
  key: 1,
  class: "cd-notice",
  "data-test": "notice"
}, Ja = { class: "cd-input" }, Ya = ["disabled"], Xa = ["disabled"], Qa = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, s = t.ctl.ui, i = Wt(() => s.connected ? s.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), o = Wt(() => s.connected && n.status === "working"), r = Wt(() => s.form.skills), l = Wt(() => !!n.config?.api_key_set), c = Wt(() => {
      const x = [...s.sessions];
      return s.form.session_id && !x.some((S) => S.id === s.form.session_id) && x.unshift({ id: s.form.session_id, title: n.title || s.form.session_id }), x;
    }), u = /* @__PURE__ */ zs(null), d = /* @__PURE__ */ zs(null), p = (x) => {
      x && (x.scrollTop = x.scrollHeight);
    };
    Js(
      () => [n.turns.length, n.lastSeq],
      () => An(() => p(u.value))
    ), Js(
      () => n.logs.length,
      () => An(() => p(d.value))
    );
    function T(x) {
      const S = x.target.value;
      S === "__new__" ? t.ctl.createSession() : S && t.ctl.selectSession(S);
    }
    function E(x) {
      x.key === "Enter" && !x.shiftKey && !x.isComposing && (x.preventDefault(), t.ctl.send());
    }
    function M(x) {
      x.stopPropagation();
    }
    return (x, S) => (X(), Z("div", {
      class: "comfyd-panel",
      onKeydown: M,
      onKeyup: M,
      onWheel: S[15] || (S[15] = mi(() => {
      }, ["stop"])),
      onContextmenu: S[16] || (S[16] = mi(() => {
      }, ["stop"]))
    }, [
      W("div", xa, [
        W("span", {
          class: Me(["cd-dot", "cd-" + i.value.replace(" ", "-")]),
          title: R(n).statusDetail || i.value
        }, null, 10, va),
        W("select", {
          class: "cd-session",
          value: R(s).form.session_id,
          disabled: !R(s).connected || R(s).busy,
          onChange: T,
          "data-test": "session"
        }, [
          S[17] || (S[17] = W("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (X(!0), Z(re, null, kt(c.value, (b) => (X(), Z("option", {
            key: b.id,
            value: b.id
          }, oe(b.title), 9, Ia))), 128)),
          S[18] || (S[18] = W("option", { value: "__new__" }, "+ new session", -1))
        ], 40, Aa),
        W("span", ka, [
          ge(oe(i.value), 1),
          R(n).queuedTurns ? (X(), Z(re, { key: 0 }, [
            ge(" · " + oe(R(n).queuedTurns) + " queued", 1)
          ], 64)) : Ae("", !0)
        ]),
        W("button", {
          class: "cd-btn",
          disabled: !o.value,
          onClick: S[0] || (S[0] = (b) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, Ca),
        W("button", {
          class: Me(["cd-btn", { "cd-on": R(s).showSettings }]),
          onClick: S[1] || (S[1] = (b) => R(s).showSettings = !R(s).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        W("button", {
          class: Me(["cd-btn", { "cd-on": R(s).showLog }]),
          onClick: S[2] || (S[2] = (b) => R(s).showLog = !R(s).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      R(s).showSettings ? (X(), Z("div", Ta, [
        W("label", null, [
          S[19] || (S[19] = ge("Provider ", -1)),
          It(W("select", {
            "onUpdate:modelValue": S[3] || (S[3] = (b) => R(s).form.provider = b),
            onChange: S[4] || (S[4] = (b) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (X(!0), Z(re, null, kt(R(ua), (b) => (X(), Z("option", {
              key: b,
              value: b
            }, oe(b), 9, Ea))), 128))
          ], 544), [
            [ic, R(s).form.provider]
          ])
        ]),
        W("label", null, [
          S[20] || (S[20] = ge("Model ", -1)),
          It(W("input", {
            "onUpdate:modelValue": S[5] || (S[5] = (b) => R(s).form.model = b),
            onChange: S[6] || (S[6] = (b) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [qt, R(s).form.model]
          ])
        ]),
        W("label", null, [
          S[21] || (S[21] = ge("Base URL ", -1)),
          It(W("input", {
            "onUpdate:modelValue": S[7] || (S[7] = (b) => R(s).form.base_url = b),
            onChange: S[8] || (S[8] = (b) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [qt, R(s).form.base_url]
          ])
        ]),
        W("label", Oa, [
          S[22] || (S[22] = ge("System prompt ", -1)),
          It(W("textarea", {
            "onUpdate:modelValue": S[9] || (S[9] = (b) => R(s).form.system_prompt = b),
            rows: "2",
            onChange: S[10] || (S[10] = (b) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [qt, R(s).form.system_prompt]
          ])
        ]),
        W("label", Na, [
          S[23] || (S[23] = ge("API key ", -1)),
          W("span", Ma, oe(l.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          W("span", $a, [
            It(W("input", {
              "onUpdate:modelValue": S[11] || (S[11] = (b) => R(s).apiKey = b),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [qt, R(s).apiKey]
            ]),
            W("button", {
              class: "cd-btn",
              onClick: S[12] || (S[12] = (b) => e.ctl.setApiKey()),
              disabled: !R(s).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, Da)
          ])
        ])
      ])) : Ae("", !0),
      W("div", Ra, [
        (X(!0), Z(re, null, kt(R(s).skills, (b) => (X(), Z("label", {
          key: b.name,
          class: Me(["cd-chip", { "cd-on": r.value.includes(b.name) }]),
          title: b.description
        }, [
          W("input", {
            type: "checkbox",
            checked: r.value.includes(b.name),
            onChange: (v) => e.ctl.toggleSkill(b.name, v.target.checked),
            "data-skill": b.name
          }, null, 40, Pa),
          ge(" " + oe(b.name), 1)
        ], 10, La))), 128)),
        R(s).skills.length ? Ae("", !0) : (X(), Z("span", ja, oe(R(s).connected ? "no skills loaded" : "connecting to comfyd…"), 1))
      ]),
      W("div", Fa, [
        W("div", {
          ref_key: "chat",
          ref: u,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          (X(!0), Z(re, null, kt(R(n).turns, (b) => (X(), Z("div", {
            key: b.pending ? b.clientId : b.id,
            class: "cd-turn"
          }, [
            W("div", {
              class: Me(["cd-user", { "cd-failed": b.state === "failed" }])
            }, [
              S[24] || (S[24] = W("span", { class: "cd-who" }, "you", -1)),
              ge(oe(b.content) + " ", 1),
              b.error ? (X(), Z("span", Va, " — " + oe(b.error), 1)) : Ae("", !0)
            ], 2),
            W("div", {
              class: "cd-replies",
              style: jn({ "--cols": Math.max(1, R(Mi)(b, r.value).length) })
            }, [
              (X(!0), Z(re, null, kt(R(Mi)(b, r.value), (v) => (X(), Z("div", {
                key: v.skill,
                class: Me(["cd-reply", "cd-" + v.state]),
                "data-skill": v.skill
              }, [
                W("div", Wa, [
                  ge(oe(v.skill), 1),
                  v.state === "streaming" ? (X(), Z("span", qa, "…")) : Ae("", !0)
                ]),
                W("div", Ka, oe(v.content), 1),
                v.error ? (X(), Z("div", Ha, oe(v.error), 1)) : Ae("", !0)
              ], 10, Ua))), 128))
            ], 4)
          ]))), 128)),
          R(n).turns.length ? Ae("", !0) : (X(), Z("div", Ba, oe(R(s).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        R(s).showLog ? (X(), Z("div", {
          key: 0,
          ref_key: "logBox",
          ref: d,
          class: "cd-log",
          "data-test": "log"
        }, [
          (X(!0), Z(re, null, kt(R(n).logs, (b, v) => (X(), Z("div", {
            key: b.seq + ":" + v,
            class: Me("cd-l-" + b.level)
          }, [
            W("b", null, oe(b.level), 1),
            ge(" " + oe(b.module), 1),
            b.skill ? (X(), Z(re, { key: 0 }, [
              ge(" [" + oe(b.skill) + "]", 1)
            ], 64)) : Ae("", !0),
            ge(": " + oe(b.message), 1)
          ], 2))), 128)),
          R(n).logs.length ? Ae("", !0) : (X(), Z("div", Ga, "no debug output yet"))
        ], 512)) : Ae("", !0)
      ]),
      R(s).notice || R(n).lastError ? (X(), Z("div", za, oe(R(s).notice || R(n).lastError.code + ": " + R(n).lastError.message), 1)) : Ae("", !0),
      W("div", Ja, [
        It(W("textarea", {
          "onUpdate:modelValue": S[13] || (S[13] = (b) => R(s).draft = b),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !R(s).connected,
          onKeydown: E,
          "data-test": "input"
        }, null, 40, Ya), [
          [qt, R(s).draft]
        ]),
        W("button", {
          class: "cd-btn cd-send",
          disabled: !R(s).connected || !R(s).draft.trim(),
          onClick: S[14] || (S[14] = (b) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, Xa)
      ])
    ], 32));
  }
}, Za = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline{background:#c84a4a}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}", ef = "comfyd.canvas", tf = 1500;
function ji() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function Ss(e, t) {
  (console[e] ?? console.log)(t);
}
function nf(e) {
  const t = ji();
  if (t) return e(t, !1);
  let n = 0;
  const s = setInterval(() => {
    const i = ji();
    (i || ++n > tf) && (clearInterval(s), i ? e(i, !0) : Ss("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function sf({ app: e, api: t }, n) {
  const s = new _c({
    fetchJson: async (c) => {
      const u = await t.fetchApi(c);
      let d = null;
      try {
        d = await u.json();
      } catch {
        d = null;
      }
      if (!u.ok) throw new Error(d?.error ?? `${c}: HTTP ${u.status}`);
      return d;
    },
    location: window.location
  }), i = new na({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: s,
    WebSocket: window.WebSocket,
    tabId: ta(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: Ss,
    isPanelNode: Pi
  }), o = {
    app: e,
    connection: s,
    WebSocket: window.WebSocket,
    createApp: fc,
    reactive: Es,
    component: Qa,
    css: Za,
    document,
    log: Ss
  };
  let r = !1;
  const l = () => {
    r || (r = !0, t.addEventListener("graphChanged", () => i.graphChanged()), window.addEventListener("focus", () => i.setFocus(!0)), window.addEventListener("blur", () => i.setFocus(!1)), document.addEventListener("visibilitychange", () => i.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      i.touched(), i.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => i.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => i.setPointerDown(!1), !0), window.addEventListener("keydown", () => i.touched(), !0), i.start());
  };
  e.registerExtension({
    name: ef,
    setup: l,
    afterConfigureGraph() {
      i.graphChanged();
    },
    beforeRegisterNodeDef(c, u) {
      u?.name === ws && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      Pi(c) && Sa(c, o);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: i, version: "0.1.0" });
}
nf(sf);
