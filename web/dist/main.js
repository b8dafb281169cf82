// @__NO_SIDE_EFFECTS__
function Hs(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const me = {}, fn = [], dn = () => {
}, bc = () => !1, pi = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), gi = (e) => e.startsWith("onUpdate:"), et = Object.assign, yc = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, Nu = Object.prototype.hasOwnProperty, oe = (e, t) => Nu.call(e, t), K = Array.isArray, Jt = (e) => Rr(e) === "[object Map]", bn = (e) => Rr(e) === "[object Set]", No = (e) => Rr(e) === "[object Date]", fe = (e) => typeof e == "function", xe = (e) => typeof e == "string", yt = (e) => typeof e == "symbol", _e = (e) => e !== null && typeof e == "object", wc = (e) => (_e(e) || fe(e)) && fe(e.then) && fe(e.catch), kc = Object.prototype.toString, Rr = (e) => kc.call(e), Lu = (e) => Rr(e).slice(8, -1), Ac = (e) => Rr(e) === "[object Object]", Vs = (e) => xe(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, rr = /* @__PURE__ */ Hs(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), mi = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Pu = /-\w/g, lt = /* @__PURE__ */ mi((e) => e.replace(Pu, (t) => t.slice(1).toUpperCase())), Bu = /\B([A-Z])/g, yn = /* @__PURE__ */ mi(
  (e) => e.replace(Bu, "-$1").toLowerCase()
), xc = /* @__PURE__ */ mi((e) => e.charAt(0).toUpperCase() + e.slice(1)), Vi = /* @__PURE__ */ mi((e) => e ? `on${xc(e)}` : ""), mt = (e, t) => !Object.is(e, t), Gr = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, Rc = (e, t, n, r = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: r,
    value: n
  });
}, vr = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let Lo;
const _i = () => Lo || (Lo = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function bi(e) {
  if (K(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const r = e[n], i = xe(r) ? Uu(r) : bi(r);
      if (i)
        for (const s in i)
          t[s] = i[s];
    }
    return t;
  } else if (xe(e) || _e(e))
    return e;
}
const ju = /;(?![^(]*\))/g, zu = /:([^]+)/, $u = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function Uu(e) {
  const t = {};
  return e.replace($u, (n) => n.startsWith("/*") ? "" : n).split(ju).forEach((n) => {
    if (n) {
      const r = n.split(zu);
      r.length > 1 && (t[r[0].trim()] = r[1].trim());
    }
  }), t;
}
function st(e) {
  let t = "";
  if (xe(e))
    t = e;
  else if (K(e))
    for (let n = 0; n < e.length; n++) {
      const r = st(e[n]);
      r && (t += r + " ");
    }
  else if (_e(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const Wu = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", Ju = /* @__PURE__ */ Hs(Wu);
function vc(e) {
  return !!e || e === "";
}
function qu(e, t, n) {
  if (e.length !== t.length) return !1;
  let r = !0;
  for (let i = 0; r && i < e.length; i++)
    r = Ht(e[i], t[i], n);
  return r;
}
function Po(e, t, n) {
  if (e.size !== t.size) return !1;
  const r = Array.from(t), i = new Uint8Array(r.length);
  for (const s of e) {
    let o = -1;
    for (let l = 0; l < r.length; l++)
      if (!i[l] && Ht(s, r[l], n)) {
        o = l;
        break;
      }
    if (o < 0) return !1;
    i[o] = 1;
  }
  return !0;
}
function Hu(e, t, n) {
  let r = Jt(e), i = Jt(t);
  if (r || i || (r = bn(e), i = bn(t), r || i))
    return r && i ? Po(e, t, n) : !1;
  const s = Object.keys(e).length, o = Object.keys(t).length;
  if (s !== o)
    return !1;
  for (const l in e) {
    const c = e.hasOwnProperty(l), a = t.hasOwnProperty(l);
    if (c && !a || !c && a || !Ht(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function Bo(e, t, n, r) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [i, s] = n;
  if (i.has(e) || s.has(t))
    return i.get(e) === t && s.get(t) === e;
  i.set(e, t), s.set(t, e);
  const o = r(e, t, n);
  return i.delete(e), s.delete(t), o;
}
function Ht(e, t, n) {
  if (e === t) return !0;
  let r = No(e), i = No(t);
  return r || i ? r && i ? e.getTime() === t.getTime() : !1 : (r = yt(e), i = yt(t), r || i ? e === t : (r = K(e), i = K(t), r || i ? r && i ? Bo(e, t, n, qu) : !1 : (r = _e(e), i = _e(t), r || i ? !r || !i ? !1 : Bo(e, t, n, Hu) : String(e) === String(t))));
}
function Vu(e, t) {
  return e.findIndex((n) => Ht(n, t));
}
const Ec = (e) => !!(e && e.__v_isRef === !0), Ce = (e) => xe(e) ? e : e == null ? "" : K(e) || _e(e) && (e.toString === kc || !fe(e.toString)) ? Ec(e) ? Ce(e.value) : JSON.stringify(e, Cc, 2) : String(e), Cc = (e, t) => Ec(t) ? Cc(e, t.value) : Jt(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [r, i], s) => (n[Ki(r, s) + " =>"] = i, n),
    {}
  )
} : bn(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => Ki(n))
} : yt(t) ? Ki(t) : _e(t) && !K(t) && !Ac(t) ? String(t) : t, Ki = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    yt(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let Le;
class Ku {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && Le && (Le.active ? (this.parent = Le, this.index = (Le.scopes || (Le.scopes = [])).push(
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
        const i = this.scopes.slice();
        for (t = 0, n = i.length; t < n; t++)
          i[t].resume();
      }
      const r = this.effects.slice();
      for (t = 0, n = r.length; t < n; t++)
        r[t].resume();
    }
  }
  run(t) {
    if (this._active) {
      const n = Le;
      try {
        return Le = this, t();
      } finally {
        Le = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = Le, Le = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (Le === this)
        Le = this.prevScope;
      else {
        let t = Le;
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
        const i = this.scopes.slice();
        for (n = 0, r = i.length; n < r; n++)
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
function Gu() {
  return Le;
}
let de;
const Gi = /* @__PURE__ */ new WeakSet();
class Dc {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, Le && (Le.active ? Le.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, Gi.has(this) && (Gi.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || Tc(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, jo(this), Fc(this);
    const t = de, n = ct;
    de = this, ct = !0;
    try {
      return this.fn();
    } finally {
      Ic(this), de = t, ct = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        Ys(t);
      this.deps = this.depsTail = void 0, jo(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? Gi.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    Ss(this) && this.run();
  }
  get dirty() {
    return Ss(this);
  }
}
let Sc = 0, ir, sr;
function Tc(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = sr, sr = e;
    return;
  }
  e.next = ir, ir = e;
}
function Ks() {
  Sc++;
}
function Gs() {
  if (--Sc > 0)
    return;
  if (sr) {
    let t = sr;
    for (sr = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; ir; ) {
    let t = ir;
    for (ir = void 0; t; ) {
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
function Fc(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function Ic(e) {
  let t, n = e.depsTail, r = n;
  for (; r; ) {
    const i = r.prevDep;
    r.version === -1 ? (r === n && (n = i), Ys(r), Yu(r)) : t = r, r.dep.activeLink = r.prevActiveLink, r.prevActiveLink = void 0, r = i;
  }
  e.deps = t, e.depsTail = n;
}
function Ss(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (Oc(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function Oc(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === hr) || (e.globalVersion = hr, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !Ss(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = de, r = ct;
  de = e, ct = !0;
  try {
    Fc(e);
    const i = e.fn(e._value);
    (t.version === 0 || mt(i, e._value)) && (e.flags |= 128, e._value = i, t.version++);
  } catch (i) {
    throw t.version++, i;
  } finally {
    de = n, ct = r, Ic(e), e.flags &= -3;
  }
}
function Ys(e, t = !1) {
  const { dep: n, prevSub: r, nextSub: i } = e;
  if (r && (r.nextSub = i, e.prevSub = void 0), i && (i.prevSub = r, e.nextSub = void 0), n.subs === e && (n.subs = r, !r && n.computed)) {
    n.computed.flags &= -5;
    for (let s = n.computed.deps; s; s = s.nextDep)
      Ys(s, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function Yu(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let ct = !0;
const Mc = [];
function Vt() {
  Mc.push(ct), ct = !1;
}
function Kt() {
  const e = Mc.pop();
  ct = e === void 0 ? !0 : e;
}
function jo(e) {
  const { cleanup: t } = e;
  if (e.cleanup = void 0, t) {
    const n = de;
    de = void 0;
    try {
      t();
    } finally {
      de = n;
    }
  }
}
let hr = 0;
class Xu {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class Xs {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!de || !ct || de === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== de)
      n = this.activeLink = new Xu(de, this), de.deps ? (n.prevDep = de.depsTail, de.depsTail.nextDep = n, de.depsTail = n) : de.deps = de.depsTail = n, Nc(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const r = n.nextDep;
      r.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = r), n.prevDep = de.depsTail, n.nextDep = void 0, de.depsTail.nextDep = n, de.depsTail = n, de.deps === n && (de.deps = r);
    }
    return n;
  }
  trigger(t) {
    this.version++, hr++, this.notify(t);
  }
  notify(t) {
    Ks();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      Gs();
    }
  }
}
function Nc(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let r = t.deps; r; r = r.nextDep)
        Nc(r);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const Ts = /* @__PURE__ */ new WeakMap(), pn = /* @__PURE__ */ Symbol(
  ""
), Fs = /* @__PURE__ */ Symbol(
  ""
), dr = /* @__PURE__ */ Symbol(
  ""
);
function je(e, t, n) {
  if (ct && de) {
    let r = Ts.get(e);
    r || Ts.set(e, r = /* @__PURE__ */ new Map());
    let i = r.get(n);
    i || (r.set(n, i = new Xs()), i.map = r, i.key = n), i.track();
  }
}
function It(e, t, n, r, i, s) {
  const o = Ts.get(e);
  if (!o) {
    hr++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (Ks(), t === "clear")
    o.forEach(l);
  else {
    const c = K(e), a = c && Vs(n);
    if (c && n === "length") {
      const u = Number(r);
      o.forEach((h, y) => {
        (y === "length" || y === dr || !yt(y) && y >= u) && l(h);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), a && l(o.get(dr)), t) {
        case "add":
          c ? a && l(o.get("length")) : (l(o.get(pn)), Jt(e) && l(o.get(Fs)));
          break;
        case "delete":
          c || (l(o.get(pn)), Jt(e) && l(o.get(Fs)));
          break;
        case "set":
          Jt(e) && l(o.get(pn));
          break;
      }
  }
  Gs();
}
function En(e) {
  const t = /* @__PURE__ */ ie(e);
  return t === e || (je(t, "iterate", dr), /* @__PURE__ */ Qe(e)) ? t : /* @__PURE__ */ wt(e) ? /* @__PURE__ */ qt(e) ? t.map((n) => Gt(tt(n))) : t.map(Gt) : t.map(tt);
}
function yi(e) {
  return je(e = /* @__PURE__ */ ie(e), "iterate", dr), e;
}
function dt(e, t) {
  return /* @__PURE__ */ wt(e) ? Gt(/* @__PURE__ */ qt(e) ? tt(t) : t) : tt(t);
}
const Zu = {
  __proto__: null,
  [Symbol.iterator]() {
    return Yi(this, Symbol.iterator, (e) => dt(this, e));
  },
  concat(...e) {
    return En(this).concat(
      ...e.map((t) => K(t) ? En(t) : t)
    );
  },
  entries() {
    return Yi(this, "entries", (e) => (e[1] = dt(this, e[1]), e));
  },
  every(e, t) {
    return Ct(this, "every", e, t, void 0, arguments);
  },
  filter(e, t) {
    return Ct(
      this,
      "filter",
      e,
      t,
      (n) => n.map((r) => dt(this, r)),
      arguments
    );
  },
  find(e, t) {
    return Ct(
      this,
      "find",
      e,
      t,
      (n) => dt(this, n),
      arguments
    );
  },
  findIndex(e, t) {
    return Ct(this, "findIndex", e, t, void 0, arguments);
  },
  findLast(e, t) {
    return Ct(
      this,
      "findLast",
      e,
      t,
      (n) => dt(this, n),
      arguments
    );
  },
  findLastIndex(e, t) {
    return Ct(this, "findLastIndex", e, t, void 0, arguments);
  },
  // flat, flatMap could benefit from ARRAY_ITERATE but are not straight-forward to implement
  forEach(e, t) {
    return Ct(this, "forEach", e, t, void 0, arguments);
  },
  includes(...e) {
    return Xi(this, "includes", e);
  },
  indexOf(...e) {
    return Xi(this, "indexOf", e);
  },
  join(e) {
    return En(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return Xi(this, "lastIndexOf", e);
  },
  map(e, t) {
    return Ct(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return qn(this, "pop");
  },
  push(...e) {
    return qn(this, "push", e);
  },
  reduce(e, ...t) {
    return $o(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return $o(this, "reduceRight", e, t);
  },
  shift() {
    return qn(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return Ct(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return qn(this, "splice", e);
  },
  toReversed() {
    return En(this).toReversed();
  },
  toSorted(e) {
    return En(this).toSorted(e);
  },
  toSpliced(...e) {
    return En(this).toSpliced(...e);
  },
  unshift(...e) {
    return qn(this, "unshift", e);
  },
  values() {
    return Yi(this, "values", (e) => dt(this, e));
  }
};
function Yi(e, t, n) {
  const r = yi(e), i = r[t], s = i.call(r);
  if (r !== e && !/* @__PURE__ */ Qe(e)) {
    if (s[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(s));
      return o.next = () => zo(s.next(), n), i !== Lc[t] && Object.defineProperties(o, {
        return: {
          get() {
            const l = s.return;
            return typeof l == "function" ? l.bind(s) : l;
          }
        },
        throw: {
          get() {
            const l = s.throw;
            return typeof l == "function" ? l.bind(s) : l;
          }
        }
      }), o;
    }
    s._next = s.next, s.next = () => zo(s._next(), n);
  }
  return s;
}
function zo(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const Lc = Array.prototype;
function Ct(e, t, n, r, i, s) {
  const o = yi(e), l = o !== e && !/* @__PURE__ */ Qe(e), c = o[t];
  if (c !== Lc[t]) {
    const h = c.apply(e, s);
    return l ? tt(h) : h;
  }
  let a = n;
  o !== e && (l ? a = function(h, y) {
    return n.call(this, dt(e, h), y, e);
  } : n.length > 2 && (a = function(h, y) {
    return n.call(this, h, y, e);
  }));
  const u = c.call(o, a, r);
  return l && i ? i(u) : u;
}
function $o(e, t, n, r) {
  const i = yi(e), s = i !== e && !/* @__PURE__ */ Qe(e);
  let o = n, l = !1;
  i !== e && (s ? (l = r.length === 0, o = function(a, u, h) {
    return l && (l = !1, a = dt(e, a)), n.call(this, a, dt(e, u), h, e);
  }) : n.length > 3 && (o = function(a, u, h) {
    return n.call(this, a, u, h, e);
  }));
  const c = i[t](o, ...r);
  return l ? dt(e, c) : c;
}
function Xi(e, t, n) {
  const r = /* @__PURE__ */ ie(e);
  je(r, "iterate", dr);
  const i = r[t](...n);
  return (i === -1 || i === !1) && /* @__PURE__ */ to(n[0]) ? (n[0] = /* @__PURE__ */ ie(n[0]), r[t](...n)) : i;
}
function qn(e, t, n = []) {
  Vt(), Ks();
  const r = (/* @__PURE__ */ ie(e))[t].apply(e, n);
  return Gs(), Kt(), r;
}
const Qu = /* @__PURE__ */ Hs("__proto__,__v_isRef,__isVue"), Pc = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(yt)
);
function ef(e) {
  yt(e) || (e = String(e));
  const t = /* @__PURE__ */ ie(this);
  return je(t, "has", e), t.hasOwnProperty(e);
}
class Bc {
  constructor(t = !1, n = !1) {
    this._isReadonly = t, this._isShallow = n;
  }
  get(t, n, r) {
    if (n === "__v_skip") return t.__v_skip;
    const i = this._isReadonly, s = this._isShallow;
    if (n === "__v_isReactive")
      return !i;
    if (n === "__v_isReadonly")
      return i;
    if (n === "__v_isShallow")
      return s;
    if (n === "__v_raw")
      return r === (i ? s ? ff : Uc : s ? $c : zc).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(r) ? t : void 0;
    const o = K(t);
    if (!i) {
      let c;
      if (o && (c = Zu[n]))
        return c;
      if (n === "hasOwnProperty")
        return ef;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ Ue(t) ? t : r
    );
    if ((yt(n) ? Pc.has(n) : Qu(n)) || (i || je(t, "get", n), s))
      return l;
    if (/* @__PURE__ */ Ue(l)) {
      const c = o && Vs(n) ? l : l.value;
      return i && _e(c) ? /* @__PURE__ */ Os(c) : c;
    }
    return _e(l) ? i ? /* @__PURE__ */ Os(l) : /* @__PURE__ */ Qs(l) : l;
  }
}
class jc extends Bc {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, r, i) {
    let s = t[n];
    const o = K(t) && Vs(n);
    if (!this._isShallow) {
      const a = /* @__PURE__ */ wt(s);
      if (!/* @__PURE__ */ Qe(r) && !/* @__PURE__ */ wt(r) && (s = /* @__PURE__ */ ie(s), r = /* @__PURE__ */ ie(r)), !o && /* @__PURE__ */ Ue(s) && !/* @__PURE__ */ Ue(r))
        return a || (s.value = r), !0;
    }
    const l = o ? Number(n) < t.length : oe(t, n), c = Reflect.set(
      t,
      n,
      r,
      /* @__PURE__ */ Ue(t) ? t : i
    );
    return t === /* @__PURE__ */ ie(i) && c && (l ? mt(r, s) && It(t, "set", n, r) : It(t, "add", n, r)), c;
  }
  deleteProperty(t, n) {
    const r = oe(t, n);
    t[n];
    const i = Reflect.deleteProperty(t, n);
    return i && r && It(t, "delete", n, void 0), i;
  }
  has(t, n) {
    const r = Reflect.has(t, n);
    return (!yt(n) || !Pc.has(n)) && je(t, "has", n), r;
  }
  ownKeys(t) {
    return je(
      t,
      "iterate",
      K(t) ? "length" : pn
    ), Reflect.ownKeys(t);
  }
}
class tf extends Bc {
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
const nf = /* @__PURE__ */ new jc(), rf = /* @__PURE__ */ new tf(), sf = /* @__PURE__ */ new jc(!0);
const Is = (e) => e, Br = (e) => Reflect.getPrototypeOf(e);
function of(e, t, n) {
  return function(...r) {
    const i = this.__v_raw, s = /* @__PURE__ */ ie(i), o = Jt(s), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, a = i[e](...r), u = n ? Is : t ? Gt : tt;
    return !t && je(
      s,
      "iterate",
      c ? Fs : pn
    ), et(
      // inheriting all iterator properties
      Object.create(a),
      {
        // iterator protocol
        next() {
          const { value: h, done: y } = a.next();
          return y ? { value: h, done: y } : {
            value: l ? [u(h[0]), u(h[1])] : u(h),
            done: y
          };
        }
      }
    );
  };
}
function jr(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function lf(e, t) {
  const n = {
    get(i) {
      const s = this.__v_raw, o = /* @__PURE__ */ ie(s), l = /* @__PURE__ */ ie(i);
      e || (mt(i, l) && je(o, "get", i), je(o, "get", l));
      const { has: c } = Br(o), a = t ? Is : e ? Gt : tt;
      if (c.call(o, i))
        return a(s.get(i));
      if (c.call(o, l))
        return a(s.get(l));
      s !== o && s.get(i);
    },
    get size() {
      const i = this.__v_raw;
      return !e && je(/* @__PURE__ */ ie(i), "iterate", pn), i.size;
    },
    has(i) {
      const s = this.__v_raw, o = /* @__PURE__ */ ie(s), l = /* @__PURE__ */ ie(i);
      return e || (mt(i, l) && je(o, "has", i), je(o, "has", l)), i === l ? s.has(i) : s.has(i) || s.has(l);
    },
    forEach(i, s) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ ie(l), a = t ? Is : e ? Gt : tt;
      return !e && je(c, "iterate", pn), l.forEach((u, h) => i.call(s, a(u), a(h), o));
    }
  };
  return et(
    n,
    e ? {
      add: jr("add"),
      set: jr("set"),
      delete: jr("delete"),
      clear: jr("clear")
    } : {
      add(i) {
        const s = /* @__PURE__ */ ie(this), o = Br(s), l = /* @__PURE__ */ ie(i), c = !t && !/* @__PURE__ */ Qe(i) && !/* @__PURE__ */ wt(i) ? l : i;
        return o.has.call(s, c) || mt(i, c) && o.has.call(s, i) || mt(l, c) && o.has.call(s, l) || (s.add(c), It(s, "add", c, c)), this;
      },
      set(i, s) {
        !t && !/* @__PURE__ */ Qe(s) && !/* @__PURE__ */ wt(s) && (s = /* @__PURE__ */ ie(s));
        const o = /* @__PURE__ */ ie(this), { has: l, get: c } = Br(o);
        let a = l.call(o, i);
        a || (i = /* @__PURE__ */ ie(i), a = l.call(o, i));
        const u = c.call(o, i);
        return o.set(i, s), a ? mt(s, u) && It(o, "set", i, s) : It(o, "add", i, s), this;
      },
      delete(i) {
        const s = /* @__PURE__ */ ie(this), { has: o, get: l } = Br(s);
        let c = o.call(s, i);
        c || (i = /* @__PURE__ */ ie(i), c = o.call(s, i)), l && l.call(s, i);
        const a = s.delete(i);
        return c && It(s, "delete", i, void 0), a;
      },
      clear() {
        const i = /* @__PURE__ */ ie(this), s = i.size !== 0, o = i.clear();
        return s && It(
          i,
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
  ].forEach((i) => {
    n[i] = of(i, e, t);
  }), n;
}
function Zs(e, t) {
  const n = lf(e, t);
  return (r, i, s) => i === "__v_isReactive" ? !e : i === "__v_isReadonly" ? e : i === "__v_isShallow" ? t : i === "__v_raw" ? r : Reflect.get(
    oe(n, i) && i in r ? n : r,
    i,
    s
  );
}
const cf = {
  get: /* @__PURE__ */ Zs(!1, !1)
}, af = {
  get: /* @__PURE__ */ Zs(!1, !0)
}, uf = {
  get: /* @__PURE__ */ Zs(!0, !1)
};
const zc = /* @__PURE__ */ new WeakMap(), $c = /* @__PURE__ */ new WeakMap(), Uc = /* @__PURE__ */ new WeakMap(), ff = /* @__PURE__ */ new WeakMap();
function hf(e) {
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
function Qs(e) {
  return /* @__PURE__ */ wt(e) ? e : eo(
    e,
    !1,
    nf,
    cf,
    zc
  );
}
// @__NO_SIDE_EFFECTS__
function df(e) {
  return eo(
    e,
    !1,
    sf,
    af,
    $c
  );
}
// @__NO_SIDE_EFFECTS__
function Os(e) {
  return eo(
    e,
    !0,
    rf,
    uf,
    Uc
  );
}
function eo(e, t, n, r, i) {
  if (!_e(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const s = i.get(e);
  if (s)
    return s;
  const o = hf(Lu(e));
  if (o === 0)
    return e;
  const l = new Proxy(
    e,
    o === 2 ? r : n
  );
  return i.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function qt(e) {
  return /* @__PURE__ */ wt(e) ? /* @__PURE__ */ qt(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function wt(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function Qe(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function to(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function ie(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ ie(t) : e;
}
function pf(e) {
  return !oe(e, "__v_skip") && Object.isExtensible(e) && Rc(e, "__v_skip", !0), e;
}
const tt = (e) => _e(e) ? /* @__PURE__ */ Qs(e) : e, Gt = (e) => _e(e) ? /* @__PURE__ */ Os(e) : e;
// @__NO_SIDE_EFFECTS__
function Ue(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function Uo(e) {
  return gf(e, !1);
}
function gf(e, t) {
  return /* @__PURE__ */ Ue(e) ? e : new mf(e, t);
}
class mf {
  constructor(t, n) {
    this.dep = new Xs(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ ie(t), this._value = n ? t : tt(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, r = this.__v_isShallow || /* @__PURE__ */ Qe(t) || /* @__PURE__ */ wt(t);
    t = r ? t : /* @__PURE__ */ ie(t), mt(t, n) && (this._rawValue = t, this._value = r ? t : tt(t), this.dep.trigger());
  }
}
function H(e) {
  return /* @__PURE__ */ Ue(e) ? e.value : e;
}
const _f = {
  get: (e, t, n) => t === "__v_raw" ? e : H(Reflect.get(e, t, n)),
  set: (e, t, n, r) => {
    const i = e[t];
    return /* @__PURE__ */ Ue(i) && !/* @__PURE__ */ Ue(n) ? (i.value = n, !0) : Reflect.set(e, t, n, r);
  }
};
function Wc(e) {
  return /* @__PURE__ */ qt(e) ? e : new Proxy(e, _f);
}
class bf {
  constructor(t, n, r) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new Xs(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = hr - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = r;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    de !== this)
      return Tc(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return Oc(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function yf(e, t, n = !1) {
  let r, i;
  return fe(e) ? r = e : (r = e.get, i = e.set), new bf(r, i, n);
}
const zr = {}, ei = /* @__PURE__ */ new WeakMap();
let cn;
function wf(e, t = !1, n = cn) {
  if (n) {
    let r = ei.get(n);
    r || ei.set(n, r = []), r.push(e);
  }
}
function kf(e, t, n = me) {
  const { immediate: r, deep: i, once: s, scheduler: o, augmentJob: l, call: c } = n, a = (b) => i ? b : /* @__PURE__ */ Qe(b) || i === !1 || i === 0 ? Ot(b, 1) : Ot(b);
  let u, h, y, _, p = !1, E = !1;
  if (/* @__PURE__ */ Ue(e) ? (h = () => e.value, p = /* @__PURE__ */ Qe(e)) : /* @__PURE__ */ qt(e) ? (h = () => a(e), p = !0) : K(e) ? (E = !0, p = e.some((b) => /* @__PURE__ */ qt(b) || /* @__PURE__ */ Qe(b)), h = () => e.map((b) => {
    if (/* @__PURE__ */ Ue(b))
      return b.value;
    if (/* @__PURE__ */ qt(b))
      return a(b);
    if (fe(b))
      return c ? c(b, 2) : b();
  })) : fe(e) ? t ? h = c ? () => c(e, 2) : e : h = () => {
    if (y) {
      Vt();
      try {
        y();
      } finally {
        Kt();
      }
    }
    const b = cn;
    cn = u;
    try {
      return c ? c(e, 3, [_]) : e(_);
    } finally {
      cn = b;
    }
  } : h = dn, t && i) {
    const b = h, N = i === !0 ? 1 / 0 : i;
    h = () => Ot(b(), N);
  }
  const F = Gu(), M = () => {
    u.stop(), F && F.active && yc(F.effects, u);
  };
  if (s && t) {
    const b = t;
    t = (...N) => {
      try {
        return b(...N);
      } finally {
        M();
      }
    };
  }
  let v = E ? new Array(e.length).fill(zr) : zr;
  const w = (b) => {
    if (!(!(u.flags & 1) || !u.dirty && !b))
      if (t) {
        const N = u.run();
        if (b || i || p || (E ? N.some((j, W) => mt(j, v[W])) : mt(N, v))) {
          const j = cn;
          Vt();
          try {
            y && y(), cn = u;
            const W = [
              N,
              // pass undefined as the old value when it's changed for the first time
              v === zr ? void 0 : E && v[0] === zr ? [] : v,
              _
            ];
            v = N, c ? c(t, 3, W) : (
              // @ts-expect-error
              t(...W)
            );
          } finally {
            cn = j, Kt();
          }
        }
      } else
        u.run();
  };
  return l && l(w), u = new Dc(h), u.scheduler = o ? () => o(w, !1) : w, _ = (b) => wf(b, !1, u), y = u.onStop = () => {
    const b = ei.get(u);
    if (b) {
      if (c)
        c(b, 4);
      else
        for (const N of b) N();
      ei.delete(u);
    }
  }, t ? r ? w(!0) : v = u.run() : o ? o(w.bind(null, !0), !0) : u.run(), M.pause = u.pause.bind(u), M.resume = u.resume.bind(u), M.stop = M, M;
}
function Ot(e, t = 1 / 0, n) {
  if (t <= 0 || !_e(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ Ue(e))
    Ot(e.value, t, n);
  else if (K(e))
    for (let r = 0; r < e.length; r++)
      Ot(e[r], t, n);
  else if (bn(e) || Jt(e))
    e.forEach((r) => {
      Ot(r, t, n);
    });
  else if (Ac(e)) {
    for (const r in e)
      Ot(e[r], t, n);
    for (const r of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, r) && Ot(e[r], t, n);
  }
  return e;
}
function Er(e, t, n, r) {
  try {
    return r ? e(...r) : e();
  } catch (i) {
    wi(i, t, n);
  }
}
function Pt(e, t, n, r) {
  if (fe(e)) {
    const i = Er(e, t, n, r);
    return i && wc(i) && i.catch((s) => {
      wi(s, t, n, void 0, !0);
    }), i;
  }
  if (K(e)) {
    const i = [];
    for (let s = 0; s < e.length; s++)
      i.push(Pt(e[s], t, n, r));
    return i;
  }
}
function wi(e, t, n, r = !0, i = !1) {
  const s = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || me;
  if (t) {
    let c = t.parent;
    const a = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const h = c.ec;
      if (h && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!i || c.scope.active)) {
        for (let y = 0; y < h.length; y++)
          if (h[y](e, a, u) === !1)
            return;
      }
      c = c.parent;
    }
    if (o) {
      Vt(), Er(o, null, 10, [
        e,
        a,
        u
      ]), Kt();
      return;
    }
  }
  Af(e, n, s, r, l);
}
function Af(e, t, n, r = !0, i = !1) {
  if (i)
    throw e;
  console.error(e);
}
const $e = [];
let ot = -1;
const pt = [];
let $t = null, In = 0;
const Jc = /* @__PURE__ */ Promise.resolve();
let ti = null;
function ni(e) {
  const t = ti || Jc;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function xf(e) {
  let t = ot + 1, n = $e.length;
  for (; t < n; ) {
    const r = t + n >>> 1, i = $e[r], s = pr(i);
    s < e || s === e && i.flags & 2 ? t = r + 1 : n = r;
  }
  return t;
}
function no(e) {
  if (!(e.flags & 1)) {
    const t = pr(e), n = $e[$e.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= pr(n) ? $e.push(e) : $e.splice(xf(t), 0, e), e.flags |= 1, qc();
  }
}
function qc() {
  ti || (ti = Jc.then(Kc));
}
function Rf(e) {
  if (!K(e))
    $t && e.id === -1 ? $t.splice(In + 1, 0, e) : e.flags & 1 || (pt.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      pt.push(e[t]);
  qc();
}
function Hc(e, t, n, r = ot + 1) {
  for (; r < $e.length; r++) {
    const i = $e[r];
    if (i && i.flags & 2) {
      if (e && i.id !== e.uid || t !== void 0 && !(i.id >= t))
        continue;
      $e.splice(r, 1), r = e ? r - 1 : ot, i.flags & 4 && (i.flags &= -2), i(), i.flags & 4 || (i.flags &= -2);
    }
  }
}
function Vc(e, t, n = 0) {
  if (pt.length) {
    let r = pt, i = 0;
    if (t) {
      r = [];
      for (let o = 0; o < pt.length; o++) {
        const l = pt[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? pt[i++] = l : r.push(l);
      }
    }
    const s = [...new Set(r)].sort((o, l) => pr(o) - pr(l));
    if (pt.length = i, $t) {
      for (let o = 0; o < s.length; o++)
        $t.push(s[o]);
      return;
    }
    for ($t = s, In = 0; In < $t.length; In++) {
      const o = $t[In];
      o.flags & 4 && (o.flags &= -2), o.flags & 8 || o(), o.flags &= -2;
    }
    $t = null, In = 0;
  }
}
let Zi = !1;
function vf(e, t) {
  if (Zi) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(pt);
  e(), Zi = !0;
  try {
    Hc(void 0, t), Vc(void 0, n, t);
  } finally {
    Zi = !1;
  }
}
const pr = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function Kc(e) {
  try {
    for (ot = 0; ot < $e.length; ot++) {
      const t = $e[ot];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), Er(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; ot < $e.length; ot++) {
      const t = $e[ot];
      t && (t.flags &= -2);
    }
    ot = -1, $e.length = 0, Vc(), ti = null, ($e.length || pt.length) && Kc();
  }
}
let Ze = null, Gc = null;
function ri(e) {
  const t = Ze;
  return Ze = e, Gc = e && e.type.__scopeId || null, t;
}
function Ef(e, t = Ze, n) {
  if (!t || e._n)
    return e;
  const r = (...i) => {
    r._d && Yo(-1);
    const s = ri(t), o = gn.length;
    let l;
    try {
      l = e(...i);
    } finally {
      for (let c = gn.length; c > o; c--) fa();
      ri(s), r._d && Yo(1);
    }
    return l;
  };
  return r._n = !0, r._c = !0, r._d = !0, r;
}
function Cn(e, t) {
  if (Ze === null)
    return e;
  const n = Ri(Ze), r = e.dirs || (e.dirs = []);
  for (let i = 0; i < t.length; i++) {
    let [s, o, l, c = me] = t[i];
    s && (fe(s) && (s = {
      mounted: s,
      updated: s
    }), s.deep && Ot(o), r.push({
      dir: s,
      instance: n,
      value: o,
      oldValue: void 0,
      arg: l,
      modifiers: c
    }));
  }
  return e;
}
function sn(e, t, n, r) {
  let i = e;
  if (r === "beforeMount")
    e._mount = e;
  else if (r === "beforeUpdate") {
    const l = t && t._mount;
    l && (l._latest = e, e._mount = l);
  } else if (r === "mounted") {
    const l = e._latest;
    e._mount = e._latest = void 0, l && (i = l, l._mount = void 0);
  }
  const s = i.dirs, o = t && t.dirs;
  for (let l = 0; l < s.length; l++) {
    let c = s[l];
    o ? c.oldValue = o[l].value : r === "mounted" && c.oldValue !== void 0 && (c = et({}, c, { oldValue: void 0 }));
    let a = c.dir[r];
    a && (Vt(), Pt(a, n, 8, [
      e.el,
      c,
      i,
      t
    ]), Kt());
  }
}
function Cf(e, t, n = !1) {
  const r = uh();
  if (r || Mn) {
    let i = Mn ? Mn._context.provides : r ? r.parent == null || r.ce ? r.vnode.appContext && r.vnode.appContext.provides : r.parent.provides : void 0;
    if (i && e in i)
      return i[e];
    if (arguments.length > 1)
      return n && fe(t) ? t.call(r && r.proxy) : t;
  }
}
const Df = /* @__PURE__ */ Symbol.for("v-scx"), Sf = () => Cf(Df);
function Wo(e, t, n) {
  return Tf(e, t, n);
}
function Tf(e, t, n = me) {
  const { immediate: r, deep: i, flush: s, once: o } = n, l = et({}, n), c = t && r || !t && s !== "post";
  let a;
  if (li) {
    if (s === "sync") {
      const _ = Sf();
      a = _.__watcherHandles || (_.__watcherHandles = []);
    } else if (!c) {
      const _ = () => {
      };
      return _.stop = dn, _.resume = dn, _.pause = dn, _;
    }
  }
  const u = jn;
  l.call = (_, p, E) => Pt(_, u, p, E);
  let h = !1;
  s === "post" ? l.scheduler = (_) => {
    _.i = u, ze(_, u && u.suspense);
  } : s !== "sync" && (h = !0, l.scheduler = (_, p) => {
    p ? _() : no(_);
  }), l.augmentJob = (_) => {
    t && (_.flags |= 4), h && (_.flags |= 2, u && (_.id = u.uid, _.i = u));
  };
  const y = kf(e, t, l);
  return li && (a ? a.push(y) : c && y()), y;
}
const Ff = /* @__PURE__ */ Symbol("_vte"), ki = (e) => e.__isTeleport, Qi = /* @__PURE__ */ Symbol("_leaveCb");
function If(e) {
  let t = e[0];
  if (e.length > 1) {
    for (const n of e)
      if (n.type !== at) {
        t = n;
        break;
      }
  }
  return t;
}
function Yc(e) {
  if (!Xc(e))
    return ki(e.type) && e.children ? If(e.children) : e;
  if (e.component)
    return e.component.subTree;
  const { shapeFlag: t, children: n } = e;
  if (n) {
    if (t & 16)
      return n[0];
    if (t & 32 && fe(n.default))
      return n.default();
  }
}
function or(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    or(
      ki(n.type) && Yc(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const r = n.isHydrating ? n.pendingBranch : n.activeBranch;
      r && or(r, t.clone(r));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === Ae && K(e.children)) {
    const n = Qc(e.children, !1);
    n && or(n, t);
  }
}
function Ms(e) {
  if (e.component)
    return Ms(e.component.subTree);
  if (e.type === Ae) {
    const t = K(e.children) && Qc(e.children, !1);
    return t ? Ms(t) : void 0;
  }
  if (e.type !== at)
    return e;
}
function Of(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function Jo(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const ii = /* @__PURE__ */ new WeakMap();
function lr(e, t, n, r, i = !1) {
  if (K(e)) {
    e.forEach(
      (E, F) => lr(
        E,
        t && (K(t) ? t[F] : t),
        n,
        r,
        i
      )
    );
    return;
  }
  if (cr(r) && !i) {
    r.shapeFlag & 512 && r.type.__asyncResolved && r.component.subTree.component && lr(e, t, n, r.component.subTree);
    return;
  }
  const s = r.shapeFlag & 4 ? Ri(r.component) : r.el, o = i ? null : s, { i: l, r: c } = e, a = t && t.r, u = l.refs === me ? l.refs = {} : l.refs, h = l.setupState, y = /* @__PURE__ */ ie(h), _ = h === me ? bc : (E) => Jo(u, E) ? !1 : oe(y, E), p = (E, F) => !(F && Jo(u, F));
  if (a != null && a !== c) {
    if (qo(t), xe(a))
      u[a] = null, _(a) && (h[a] = null);
    else if (/* @__PURE__ */ Ue(a)) {
      const E = t;
      p(a, E.k) && (a.value = null), E.k && (u[E.k] = null);
    }
  }
  if (fe(c))
    Er(c, l, 12, [o, u]);
  else {
    const E = xe(c), F = /* @__PURE__ */ Ue(c);
    if (E || F) {
      const M = () => {
        if (e.f) {
          const v = E ? _(c) ? h[c] : u[c] : p() || !e.k ? c.value : u[e.k];
          if (i)
            K(v) && yc(v, s);
          else if (K(v))
            v.includes(s) || v.push(s);
          else if (E)
            u[c] = [s], _(c) && (h[c] = u[c]);
          else {
            const w = [s];
            p(c, e.k) && (c.value = w), e.k && (u[e.k] = w);
          }
        } else E ? (u[c] = o, _(c) && (h[c] = o)) : F && (p(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const v = () => {
          M(), ii.delete(e);
        };
        v.id = -1, ii.set(e, v), ze(v, n);
      } else
        qo(e), M();
    }
  }
}
function qo(e) {
  const t = ii.get(e);
  t && (t.flags |= 8, ii.delete(e));
}
_i().requestIdleCallback;
_i().cancelIdleCallback;
const cr = (e) => !!e.type.__asyncLoader, Xc = (e) => e.type.__isKeepAlive, Mf = /* @__PURE__ */ Symbol.for("v-ndc");
function Dn(e, t, n, r) {
  let i;
  const s = n, o = K(e);
  if (o || xe(e)) {
    const l = o && /* @__PURE__ */ qt(e);
    let c = !1, a = !1;
    l && (c = !/* @__PURE__ */ Qe(e), a = /* @__PURE__ */ wt(e), e = yi(e)), i = new Array(e.length);
    for (let u = 0, h = e.length; u < h; u++)
      i[u] = t(
        c ? a ? Gt(tt(e[u])) : tt(e[u]) : e[u],
        u,
        void 0,
        s
      );
  } else if (typeof e == "number")
    if (!Number.isInteger(e) || e < 0)
      i = [];
    else {
      i = new Array(e);
      for (let l = 0; l < e; l++)
        i[l] = t(l + 1, l, void 0, s);
    }
  else if (_e(e))
    if (e[Symbol.iterator])
      i = Array.from(
        e,
        (l, c) => t(l, c, void 0, s)
      );
    else {
      const l = Object.keys(e);
      i = new Array(l.length);
      for (let c = 0, a = l.length; c < a; c++) {
        const u = l[c];
        i[c] = t(e[u], u, c, s);
      }
    }
  else
    i = [];
  return i;
}
const Ns = (e) => e ? ma(e) ? Ri(e) : Ns(e.parent) : null, ar = (
  // Move PURE marker to new line to workaround compiler discarding it
  // due to type annotation
  /* @__PURE__ */ et(/* @__PURE__ */ Object.create(null), {
    $: (e) => e,
    $el: (e) => e.vnode.el,
    $data: (e) => e.data,
    $props: (e) => e.props,
    $attrs: (e) => e.attrs,
    $slots: (e) => e.slots,
    $refs: (e) => e.refs,
    $parent: (e) => Ns(e.parent),
    $root: (e) => Ns(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      no(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = ni.bind(e.proxy)),
    $watch: (e) => dn
  })
), es = (e, t) => e !== me && !e.__isScriptSetup && oe(e, t), Nf = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: r, data: i, props: s, accessCache: o, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const y = o[t];
      if (y !== void 0)
        switch (y) {
          case 1:
            return r[t];
          case 2:
            return i[t];
          case 4:
            return n[t];
          case 3:
            return s[t];
        }
      else {
        if (es(r, t))
          return o[t] = 1, r[t];
        if (oe(s, t))
          return o[t] = 3, s[t];
        if (n !== me && oe(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const a = ar[t];
    let u, h;
    if (a)
      return t === "$attrs" && je(e.attrs, "get", ""), a(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== me && oe(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      h = c.config.globalProperties, oe(h, t)
    )
      return h[t];
  },
  set({ _: e }, t, n) {
    const { data: r, setupState: i, ctx: s } = e;
    return es(i, t) ? (i[t] = n, !0) : oe(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (s[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: r, appContext: i, props: s, type: o }
  }, l) {
    let c;
    return !!(n[l] || es(t, l) || oe(s, l) || oe(r, l) || oe(ar, l) || oe(i.config.globalProperties, l) || (c = o.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : oe(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function Zc() {
  return {
    app: null,
    config: {
      isNativeTag: bc,
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
let Lf = 0;
function Pf(e, t) {
  return function(r, i = null) {
    fe(r) || (r = et({}, r)), i != null && !_e(i) && (i = null);
    const s = Zc(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const a = s.app = {
      _uid: Lf++,
      _component: r,
      _props: i,
      _container: null,
      _context: s,
      _instance: null,
      version: mh,
      get config() {
        return s.config;
      },
      set config(u) {
      },
      use(u, ...h) {
        return o.has(u) || (u && fe(u.install) ? (o.add(u), u.install(a, ...h)) : fe(u) && (o.add(u), u(a, ...h))), a;
      },
      mixin(u) {
        return a;
      },
      component(u, h) {
        return h ? (s.components[u] = h, a) : s.components[u];
      },
      directive(u, h) {
        return h ? (s.directives[u] = h, a) : s.directives[u];
      },
      mount(u, h, y) {
        if (!c) {
          const _ = a._ceVNode || Lt(r, i);
          return _.appContext = s, y === !0 ? y = "svg" : y === !1 && (y = void 0), e(_, u, y), c = !0, a._container = u, u.__vue_app__ = a, Ri(_.component);
        }
      },
      onUnmount(u) {
        l.push(u);
      },
      unmount() {
        c && (Pt(
          l,
          a._instance,
          16
        ), e(null, a._container), delete a._container.__vue_app__);
      },
      provide(u, h) {
        return s.provides[u] = h, a;
      },
      runWithContext(u) {
        const h = Mn;
        Mn = a;
        try {
          return u();
        } finally {
          Mn = h;
        }
      }
    };
    return a;
  };
}
let Mn = null;
const Bf = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${lt(t)}Modifiers`] || e[`${yn(t)}Modifiers`];
function jf(e, t, ...n) {
  if (e.isUnmounted) return;
  const r = e.vnode.props || me;
  let i = n;
  const s = t.startsWith("update:"), o = s && Bf(r, t.slice(7));
  o && (o.trim && (i = n.map((u) => xe(u) ? u.trim() : u)), o.number && (i = i.map(vr)));
  let l, c = r[l = Vi(t)] || // also try camelCase event handler (#2249)
  r[l = Vi(lt(t))];
  !c && s && (c = r[l = Vi(yn(t))]), c && Pt(
    c,
    e,
    6,
    i
  );
  const a = r[l + "Once"];
  if (a) {
    if (!e.emitted)
      e.emitted = {};
    else if (e.emitted[l])
      return;
    e.emitted[l] = !0, Pt(
      a,
      e,
      6,
      i
    );
  }
}
function zf(e, t, n = !1) {
  const r = t.emitsCache, i = r.get(e);
  if (i !== void 0)
    return i;
  const s = e.emits;
  let o = {};
  return s ? (K(s) ? s.forEach((l) => o[l] = null) : et(o, s), _e(e) && r.set(e, o), o) : (_e(e) && r.set(e, null), null);
}
function Ai(e, t) {
  return !e || !pi(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), oe(e, t[0].toLowerCase() + t.slice(1)) || oe(e, yn(t)) || oe(e, t));
}
function Ho(e) {
  const {
    type: t,
    vnode: n,
    proxy: r,
    withProxy: i,
    propsOptions: [s],
    slots: o,
    attrs: l,
    emit: c,
    render: a,
    renderCache: u,
    props: h,
    data: y,
    setupState: _,
    ctx: p,
    inheritAttrs: E
  } = e, F = ri(e);
  let M, v;
  try {
    if (n.shapeFlag & 4) {
      const b = i || r, N = b;
      M = gt(
        a.call(
          N,
          b,
          u,
          h,
          _,
          y,
          p
        )
      ), v = l;
    } else {
      const b = t;
      M = gt(
        b.length > 1 ? b(
          h,
          { attrs: l, slots: o, emit: c }
        ) : b(
          h,
          null
        )
      ), v = t.props ? l : $f(l);
    }
  } catch (b) {
    gn.length = 0, wi(b, e, 1), M = Lt(at);
  }
  let w = M;
  if (v && E !== !1) {
    const b = Object.keys(v), { shapeFlag: N } = w;
    b.length && N & 7 && (s && b.some(gi) && (v = Uf(
      v,
      s
    )), w = Bn(w, v, !1, !0));
  }
  if (n.dirs && (w = Bn(w, null, !1, !0), w.dirs = w.dirs ? w.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const b = ki(w.type) && Yc(w) || w;
    or(b, n.transition);
  }
  return M = w, ri(F), M;
}
function Qc(e, t = !0) {
  let n;
  for (let r = 0; r < e.length; r++) {
    const i = e[r];
    if (so(i)) {
      if (i.type !== at || i.children === "v-if") {
        if (n)
          return;
        n = i;
      }
    } else
      return;
  }
  return n;
}
const $f = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || pi(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, Uf = (e, t) => {
  const n = {};
  for (const r in e)
    (!gi(r) || !(r.slice(9) in t)) && (n[r] = e[r]);
  return n;
};
function Wf(e, t, n) {
  const { props: r, children: i, component: s } = e, { props: o, children: l, patchFlag: c } = t, a = s.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return r ? Vo(r, o, a) : !!o;
    if (c & 8) {
      const u = t.dynamicProps;
      for (let h = 0; h < u.length; h++) {
        const y = u[h];
        if (ea(o, r, y) && !Ai(a, y))
          return !0;
      }
    }
  } else
    return (i || l) && (!l || !l.$stable) ? !0 : r === o ? !1 : r ? o ? Vo(r, o, a) : !0 : !!o;
  return !1;
}
function Vo(e, t, n) {
  const r = Object.keys(t);
  if (r.length !== Object.keys(e).length)
    return !0;
  for (let i = 0; i < r.length; i++) {
    const s = r[i];
    if (!oe(e, s) || ea(t, e, s) && !Ai(n, s))
      return !0;
  }
  return !1;
}
function ea(e, t, n) {
  const r = e[n], i = t[n];
  return n === "style" && _e(r) && _e(i) ? !Ht(r, i) : r !== i;
}
function Jf({ vnode: e, parent: t, suspense: n }, r) {
  for (; t; ) {
    const i = t.subTree;
    if (i.suspense && i.suspense.activeBranch === e && (i.suspense.vnode.el = i.el = r, e = i), i === e)
      (e = t.vnode).el = r, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = r);
}
const ta = {}, na = () => Object.create(ta), ra = (e) => Object.getPrototypeOf(e) === ta;
function qf(e, t, n, r = !1) {
  const i = {}, s = na();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), ia(e, t, i, s);
  for (const o in e.propsOptions[0])
    o in i || (i[o] = void 0);
  n ? e.props = r ? i : /* @__PURE__ */ df(i) : e.type.props ? e.props = i : e.props = s, e.attrs = s;
}
function Hf(e, t, n, r) {
  const {
    props: i,
    attrs: s,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ ie(i), [c] = e.propsOptions;
  let a = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (r || o > 0) && !(o & 16)
  ) {
    if (o & 8) {
      const u = e.vnode.dynamicProps;
      for (let h = 0; h < u.length; h++) {
        let y = u[h];
        if (Ai(e.emitsOptions, y))
          continue;
        const _ = t[y];
        if (c)
          if (oe(s, y))
            _ !== s[y] && (s[y] = _, a = !0);
          else {
            const p = lt(y);
            i[p] = Ls(
              c,
              l,
              p,
              _,
              e,
              !1
            );
          }
        else
          _ !== s[y] && (s[y] = _, a = !0);
      }
    }
  } else {
    ia(e, t, i, s) && (a = !0);
    let u;
    for (const h in l)
      (!t || // for camelCase
      !oe(t, h) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = yn(h)) === h || !oe(t, u))) && (c ? n && // for camelCase
      (n[h] !== void 0 || // for kebab-case
      n[u] !== void 0) && (i[h] = Ls(
        c,
        l,
        h,
        void 0,
        e,
        !0
      )) : delete i[h]);
    if (s !== l)
      for (const h in s)
        (!t || !oe(t, h)) && (delete s[h], a = !0);
  }
  a && It(e.attrs, "set", "");
}
function ia(e, t, n, r) {
  const [i, s] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let c in t) {
      if (rr(c))
        continue;
      const a = t[c];
      let u;
      i && oe(i, u = lt(c)) ? !s || !s.includes(u) ? n[u] = a : (l || (l = {}))[u] = a : Ai(e.emitsOptions, c) || (!(c in r) || a !== r[c]) && (r[c] = a, o = !0);
    }
  if (s) {
    const c = /* @__PURE__ */ ie(n), a = l || me;
    for (let u = 0; u < s.length; u++) {
      const h = s[u];
      n[h] = Ls(
        i,
        c,
        h,
        a[h],
        e,
        !oe(a, h)
      );
    }
  }
  return o;
}
function Ls(e, t, n, r, i, s) {
  const o = e[n];
  if (o != null) {
    const l = oe(o, "default");
    if (l && r === void 0) {
      const c = o.default;
      if (o.type !== Function && !o.skipFactory && fe(c)) {
        const { propsDefaults: a } = i;
        if (n in a)
          r = a[n];
        else {
          const u = ga(i);
          r = a[n] = c.call(
            null,
            t
          ), u();
        }
      } else
        r = c;
      i.ce && i.ce._setProp(n, r);
    }
    o[
      0
      /* shouldCast */
    ] && (s && !l ? r = !1 : o[
      1
      /* shouldCastTrue */
    ] && (r === "" || r === yn(n)) && (r = !0));
  }
  return r;
}
function Vf(e, t, n = !1) {
  const r = t.propsCache, i = r.get(e);
  if (i)
    return i;
  const s = e.props, o = {}, l = [];
  if (!s)
    return _e(e) && r.set(e, fn), fn;
  if (K(s))
    for (let a = 0; a < s.length; a++) {
      const u = lt(s[a]);
      Ko(u) && (o[u] = me);
    }
  else if (s)
    for (const a in s) {
      const u = lt(a);
      if (Ko(u)) {
        const h = s[a], y = o[u] = K(h) || fe(h) ? { type: h } : et({}, h), _ = y.type;
        let p = !1, E = !0;
        if (K(_))
          for (let F = 0; F < _.length; ++F) {
            const M = _[F], v = fe(M) && M.name;
            if (v === "Boolean") {
              p = !0;
              break;
            } else v === "String" && (E = !1);
          }
        else
          p = fe(_) && _.name === "Boolean";
        y[
          0
          /* shouldCast */
        ] = p, y[
          1
          /* shouldCastTrue */
        ] = E, (p || oe(y, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return _e(e) && r.set(e, c), c;
}
function Ko(e) {
  return e[0] !== "$" && !rr(e);
}
const ro = (e) => e === "_" || e === "_ctx" || e === "$stable", io = (e) => K(e) ? e.map(gt) : [gt(e)], Kf = (e, t, n) => {
  if (t._n)
    return t;
  const r = Ef((...i) => io(t(...i)), n);
  return r._c = !1, r;
}, sa = (e, t, n) => {
  const r = e._ctx;
  for (const i in e) {
    if (ro(i)) continue;
    const s = e[i];
    if (fe(s))
      t[i] = Kf(i, s, r);
    else if (s != null) {
      const o = io(s);
      t[i] = () => o;
    }
  }
}, oa = (e, t) => {
  const n = io(t);
  e.slots.default = () => n;
}, la = (e, t, n) => {
  for (const r in t)
    (n || !ro(r)) && (e[r] = t[r]);
}, Gf = (e, t, n) => {
  const r = e.slots = na();
  if (e.vnode.shapeFlag & 32) {
    const i = t._;
    i ? (la(r, t, n), n && Rc(r, "_", i, !0)) : sa(t, r);
  } else t && oa(e, t);
}, Yf = (e, t, n) => {
  const { vnode: r, slots: i } = e;
  let s = !0, o = me;
  if (r.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? s = !1 : la(i, t, n) : (s = !t.$stable, sa(t, i)), o = t;
  } else t && (oa(e, t), o = { default: 1 });
  if (s)
    for (const l in i)
      !ro(l) && o[l] == null && delete i[l];
}, ze = nh;
function Xf(e) {
  return Zf(e);
}
function Zf(e, t) {
  const n = _i();
  n.__VUE__ = !0;
  const {
    insert: r,
    remove: i,
    patchProp: s,
    createElement: o,
    createText: l,
    createComment: c,
    setText: a,
    setElementText: u,
    parentNode: h,
    nextSibling: y,
    setScopeId: _ = dn,
    insertStaticContent: p
  } = e, E = (d, g, k, O = null, x = null, C = null, T = void 0, L = null, S = !!g.dynamicChildren) => {
    if (d === g)
      return;
    d && !Hn(d, g) && (O = ce(d), qe(d, x, C, !0), d = null), g.patchFlag === -2 && (S = !1, g.dynamicChildren = null), g.dynamicChildren && d && d.dynamicChildren && d.dynamicChildren.hasOnce && (g.dynamicChildren === fn && (g.dynamicChildren = []), g.dynamicChildren.hasOnce = !0);
    const { type: R, ref: B, shapeFlag: P } = g;
    switch (R) {
      case xi:
        F(d, g, k, O);
        break;
      case at:
        M(d, g, k, O);
        break;
      case ns:
        d == null && v(g, k, O, T);
        break;
      case Ae:
        le(
          d,
          g,
          k,
          O,
          x,
          C,
          T,
          L,
          S
        );
        break;
      default:
        P & 1 ? N(
          d,
          g,
          k,
          O,
          x,
          C,
          T,
          L,
          S
        ) : P & 6 ? Me(
          d,
          g,
          k,
          O,
          x,
          C,
          T,
          L,
          S
        ) : (P & 64 || P & 128) && R.process(
          d,
          g,
          k,
          O,
          x,
          C,
          T,
          L,
          S,
          Qt
        );
    }
    B != null && x ? lr(B, d && d.ref, C, g || d, !g) : B == null && d && d.ref != null && lr(d.ref, null, C, d, !0);
  }, F = (d, g, k, O) => {
    if (d == null)
      r(
        g.el = l(g.children),
        k,
        O
      );
    else {
      const x = g.el = d.el;
      g.children !== d.children && a(x, g.children);
    }
  }, M = (d, g, k, O) => {
    d == null ? r(
      g.el = c(g.children || ""),
      k,
      O
    ) : g.el = d.el;
  }, v = (d, g, k, O) => {
    [d.el, d.anchor] = p(
      d.children,
      g,
      k,
      O,
      d.el,
      d.anchor
    );
  }, w = ({ el: d, anchor: g }, k, O) => {
    let x;
    for (; d && d !== g; )
      x = y(d), r(d, k, O), d = x;
    r(g, k, O);
  }, b = ({ el: d, anchor: g }) => {
    let k;
    for (; d && d !== g; )
      k = y(d), i(d), d = k;
    i(g);
  }, N = (d, g, k, O, x, C, T, L, S) => {
    if (g.type === "svg" ? T = "svg" : g.type === "math" && (T = "mathml"), d == null)
      j(
        g,
        k,
        O,
        x,
        C,
        T,
        L,
        S
      );
    else {
      const R = d.el && d.el._isVueCE ? d.el : null;
      try {
        R && R._beginPatch(), Q(
          d,
          g,
          x,
          C,
          T,
          L,
          S
        );
      } finally {
        R && R._endPatch();
      }
    }
  }, j = (d, g, k, O, x, C, T, L) => {
    let S, R;
    const { props: B, shapeFlag: P, transition: $, dirs: J } = d;
    if (S = d.el = o(
      d.type,
      C,
      B && B.is,
      B
    ), P & 8 ? u(S, d.children) : P & 16 && Z(
      d.children,
      S,
      null,
      O,
      x,
      ts(d, C),
      T,
      L
    ), J && sn(d, null, O, "created"), W(S, d, d.scopeId, T, O), B) {
      for (const te in B)
        te !== "value" && !rr(te) && s(S, te, null, B[te], C, O);
      "value" in B && s(S, "value", null, B.value, C), (R = B.onVnodeBeforeMount) && ht(R, O, d);
    }
    J && sn(d, null, O, "beforeMount");
    const ee = Qf(x, $);
    ee ? $.beforeEnter(S) : $ && !$.persisted && (S[th] = !0), r(S, g, k), ((R = B && B.onVnodeMounted) || ee || J) && ze(() => {
      R && ht(R, O, d), ee && $.enter(S), J && sn(d, null, O, "mounted");
    }, x);
  }, W = (d, g, k, O, x) => {
    if (k && _(d, k), O)
      for (let C = 0; C < O.length; C++)
        _(d, O[C]);
    if (x) {
      let C = x.subTree;
      if (g === C || ua(C.type) && (C.ssContent === g || C.ssFallback === g)) {
        const T = x.vnode;
        W(
          d,
          T,
          T.scopeId,
          T.slotScopeIds,
          x.parent
        );
      }
    }
  }, Z = (d, g, k, O, x, C, T, L, S = 0) => {
    for (let R = S; R < d.length; R++) {
      const B = d[R] = L ? Ft(d[R]) : gt(d[R]);
      E(
        null,
        B,
        g,
        k,
        O,
        x,
        C,
        T,
        L
      );
    }
  }, Q = (d, g, k, O, x, C, T) => {
    const L = g.el = d.el;
    let { patchFlag: S, dynamicChildren: R, dirs: B } = g;
    S |= d.patchFlag & 16;
    const P = d.props || me, $ = g.props || me;
    let J;
    if (k && on(k, !1), (J = $.onVnodeBeforeUpdate) && ht(J, k, g, d), B && sn(g, d, k, "beforeUpdate"), k && on(k, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    R && (!d.dynamicChildren || d.dynamicChildren.length !== R.length) && (S = 0, T = !1, R = null), (P.innerHTML && $.innerHTML == null || P.textContent && $.textContent == null) && u(L, ""), R ? se(
      d.dynamicChildren,
      R,
      L,
      k,
      O,
      ts(g, x),
      C
    ) : T || wn(
      d,
      g,
      L,
      null,
      k,
      O,
      ts(g, x),
      C,
      !1
    ), S > 0) {
      if (S & 16)
        V(L, P, $, k, x);
      else if (S & 2 && P.class !== $.class && s(L, "class", null, $.class, x), S & 4 && s(L, "style", P.style, $.style, x), S & 8) {
        const ee = g.dynamicProps;
        for (let te = 0; te < ee.length; te++) {
          const ne = ee[te], ge = P[ne], ae = $[ne];
          (ae !== ge || ne === "value") && s(L, ne, ge, ae, x, k);
        }
      }
      S & 1 && d.children !== g.children && u(L, g.children);
    } else !T && R == null && V(L, P, $, k, x);
    ((J = $.onVnodeUpdated) || B) && ze(() => {
      J && ht(J, k, g, d), B && sn(g, d, k, "updated");
    }, O);
  }, se = (d, g, k, O, x, C, T) => {
    for (let L = 0; L < g.length; L++) {
      const S = d[L], R = g[L], B = S.el || ur(S), P = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        B && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (S.type === Ae || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !Hn(S, R) || // - In the case of a component, it could contain anything.
        S.shapeFlag & 198) ? h(B) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          k
        )
      );
      E(
        S,
        R,
        P,
        null,
        O,
        x,
        C,
        T,
        !0
      );
    }
  }, V = (d, g, k, O, x) => {
    if (g !== k) {
      if (g !== me)
        for (const C in g)
          !rr(C) && !(C in k) && s(
            d,
            C,
            g[C],
            null,
            x,
            O
          );
      for (const C in k) {
        if (rr(C)) continue;
        const T = k[C], L = g[C];
        T !== L && C !== "value" && s(d, C, L, T, x, O);
      }
      "value" in k && s(d, "value", g.value, k.value, x);
    }
  }, le = (d, g, k, O, x, C, T, L, S) => {
    const R = g.el = d ? d.el : l(""), B = g.anchor = d ? d.anchor : l("");
    let { patchFlag: P, dynamicChildren: $, slotScopeIds: J } = g;
    J && (L = L ? L.concat(J) : J), d == null ? (r(R, k, O), r(B, k, O), Z(
      // #10007
      // such fragment like `<></>` will be compiled into
      // a fragment which doesn't have a children.
      // In this case fallback to an empty array
      g.children || [],
      k,
      B,
      x,
      C,
      T,
      L,
      S
    )) : P > 0 && P & 64 && $ && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    d.dynamicChildren && d.dynamicChildren.length === $.length ? (se(
      d.dynamicChildren,
      $,
      k,
      x,
      C,
      T,
      L
    ), // #2080 if the stable fragment has a key, it's a <template v-for> that may
    //  get moved around. Make sure all root level vnodes inherit el.
    // #2134 or if it's a component root, it may also get moved around
    // as the component is being moved.
    (g.key != null || x && g === x.subTree) && ca(
      d,
      g,
      !0
      /* shallow */
    )) : wn(
      d,
      g,
      k,
      B,
      x,
      C,
      T,
      L,
      S
    );
  }, Me = (d, g, k, O, x, C, T, L, S) => {
    g.slotScopeIds = L, d == null ? g.shapeFlag & 512 ? x.ctx.activate(
      g,
      k,
      O,
      T,
      S
    ) : De(
      g,
      k,
      O,
      x,
      C,
      T,
      S
    ) : ye(d, g, S);
  }, De = (d, g, k, O, x, C, T) => {
    const L = d.component = ah(
      d,
      O,
      x
    );
    if (Xc(d) && (L.ctx.renderer = Qt), fh(L, !1, T), L.asyncDep) {
      if (x && x.registerDep(
        L,
        Xt,
        T,
        C
      ), !d.el) {
        const S = L.subTree = Lt(at);
        M(null, S, g, k), d.placeholder = S.el;
      }
    } else
      Xt(
        L,
        d,
        g,
        k,
        x,
        C,
        T
      );
  }, ye = (d, g, k) => {
    const O = g.component = d.component;
    if (Wf(d, g, k))
      if (O.asyncDep && !O.asyncResolved) {
        g.el = d.el, g.placeholder = d.placeholder, xt(O, g, k);
        return;
      } else
        O.next = g, O.update();
    else
      g.el = d.el, g.placeholder = d.placeholder, O.vnode = g;
  }, Xt = (d, g, k, O, x, C, T) => {
    const L = () => {
      if (d.isMounted) {
        let { next: P, bu: $, u: J, parent: ee, vnode: te } = d;
        {
          const Se = aa(d);
          if (Se) {
            P && (P.el = te.el, xt(d, P, T)), Se.asyncDep.then(() => {
              const He = () => {
                d.job.flags & 8 || (x && x.pendingBranch ? ze(He, x) : R());
              };
              He.flags = 48, ze(He, x);
            });
            return;
          }
        }
        let ne = P, ge;
        on(d, !1), P ? (P.el = te.el, xt(d, P, T)) : P = te, $ && Gr($), (ge = P.props && P.props.onVnodeBeforeUpdate) && ht(ge, ee, P, te), on(d, !0);
        const ae = Ho(d), ve = d.subTree;
        d.subTree = ae, E(
          ve,
          ae,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          h(
            ve.el || ur(ve)
          ),
          // anchor may have changed if it's in a fragment
          ce(ve),
          d,
          x,
          C
        ), P.el = ae.el, ne === null && Jf(d, ae.el), J && ze(J, x), (ge = P.props && P.props.onVnodeUpdated) && ze(
          () => ht(ge, ee, P, te),
          x
        );
      } else {
        let P;
        const { el: $, props: J } = g, { bm: ee, m: te, parent: ne, root: ge, type: ae } = d, ve = cr(g);
        on(d, !1), ee && Gr(ee), !ve && (P = J && J.onVnodeBeforeMount) && ht(P, ne, g), on(d, !0);
        {
          ge.ce && ge.ce._hasShadowRoot() && ge.ce._injectChildStyle(
            ae,
            d.parent ? d.parent.type : void 0
          );
          const Se = d.subTree = Ho(d);
          E(
            null,
            Se,
            k,
            O,
            d,
            x,
            C
          ), g.el = Se.el;
        }
        if (te && ze(te, x), !ve && (P = J && J.onVnodeMounted)) {
          const Se = g;
          ze(
            () => ht(P, ne, Se),
            x
          );
        }
        (g.shapeFlag & 256 || ne && cr(ne.vnode) && ne.vnode.shapeFlag & 256) && d.a && ze(d.a, x), d.isMounted = !0, g = k = O = null;
      }
    };
    d.scope.on();
    const S = d.effect = new Dc(L);
    d.scope.off();
    const R = d.update = S.run.bind(S), B = d.job = S.runIfDirty.bind(S);
    B.i = d, B.id = d.uid, S.scheduler = () => no(B), on(d, !0), R();
  }, xt = (d, g, k) => {
    g.component = d;
    const O = d.vnode.props;
    d.vnode = g, d.next = null, Hf(d, g.props, O, k), Yf(d, g.children, k), Vt(), Hc(d), Kt();
  }, wn = (d, g, k, O, x, C, T, L, S = !1) => {
    const R = d && d.children, B = d ? d.shapeFlag : 0, P = g.children, { patchFlag: $, shapeFlag: J } = g;
    if ($ > 0) {
      if ($ & 128) {
        Dr(
          R,
          P,
          k,
          O,
          x,
          C,
          T,
          L,
          S
        );
        return;
      } else if ($ & 256) {
        Ci(
          R,
          P,
          k,
          O,
          x,
          C,
          T,
          L,
          S
        );
        return;
      }
    }
    J & 8 ? (B & 16 && Zt(R, x, C), P !== R && u(k, P)) : B & 16 ? J & 16 ? Dr(
      R,
      P,
      k,
      O,
      x,
      C,
      T,
      L,
      S
    ) : Zt(R, x, C, !0) : (B & 8 && u(k, ""), J & 16 && Z(
      P,
      k,
      O,
      x,
      C,
      T,
      L,
      S
    ));
  }, Ci = (d, g, k, O, x, C, T, L, S) => {
    d = d || fn, g = g || fn;
    const R = d.length, B = g.length, P = Math.min(R, B);
    let $;
    for ($ = 0; $ < P; $++) {
      const J = g[$] = S ? Ft(g[$]) : gt(g[$]);
      E(
        d[$],
        J,
        k,
        null,
        x,
        C,
        T,
        L,
        S
      );
    }
    R > B ? Zt(
      d,
      x,
      C,
      !0,
      !1,
      P
    ) : Z(
      g,
      k,
      O,
      x,
      C,
      T,
      L,
      S,
      P
    );
  }, Dr = (d, g, k, O, x, C, T, L, S) => {
    let R = 0;
    const B = g.length;
    let P = d.length - 1, $ = B - 1;
    for (; R <= P && R <= $; ) {
      const J = d[R], ee = g[R] = S ? Ft(g[R]) : gt(g[R]);
      if (Hn(J, ee))
        E(
          J,
          ee,
          k,
          null,
          x,
          C,
          T,
          L,
          S
        );
      else
        break;
      R++;
    }
    for (; R <= P && R <= $; ) {
      const J = d[P], ee = g[$] = S ? Ft(g[$]) : gt(g[$]);
      if (Hn(J, ee))
        E(
          J,
          ee,
          k,
          null,
          x,
          C,
          T,
          L,
          S
        );
      else
        break;
      P--, $--;
    }
    if (R > P) {
      if (R <= $) {
        const J = $ + 1, ee = J < B ? g[J].el : O;
        for (; R <= $; )
          E(
            null,
            g[R] = S ? Ft(g[R]) : gt(g[R]),
            k,
            ee,
            x,
            C,
            T,
            L,
            S
          ), R++;
      }
    } else if (R > $)
      for (; R <= P; )
        qe(d[R], x, C, !0), R++;
    else {
      const J = R, ee = R, te = /* @__PURE__ */ new Map();
      for (R = ee; R <= $; R++) {
        const Te = g[R] = S ? Ft(g[R]) : gt(g[R]);
        Te.key != null && te.set(Te.key, R);
      }
      let ne, ge = 0;
      const ae = $ - ee + 1;
      let ve = !1, Se = 0;
      const He = new Array(ae);
      for (R = 0; R < ae; R++) He[R] = 0;
      for (R = J; R <= P; R++) {
        const Te = d[R];
        if (ge >= ae) {
          qe(Te, x, C, !0);
          continue;
        }
        let We;
        if (Te.key != null)
          We = te.get(Te.key);
        else
          for (ne = ee; ne <= $; ne++)
            if (He[ne - ee] === 0 && Hn(Te, g[ne])) {
              We = ne;
              break;
            }
        We === void 0 ? qe(Te, x, C, !0) : (He[We - ee] = R + 1, We >= Se ? Se = We : ve = !0, E(
          Te,
          g[We],
          k,
          null,
          x,
          C,
          T,
          L,
          S
        ), ge++);
      }
      const en = ve ? eh(He) : fn;
      for (ne = en.length - 1, R = ae - 1; R >= 0; R--) {
        const Te = ee + R, We = g[Te], vt = g[Te + 1], tn = Te + 1 < B ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          vt.el || ur(vt)
        ) : O;
        He[R] === 0 ? E(
          null,
          We,
          k,
          tn,
          x,
          C,
          T,
          L,
          S
        ) : ve && (ne < 0 || R !== en[ne] ? Rt(We, k, tn, 2) : ne--);
      }
    }
  }, Rt = (d, g, k, O, x = null) => {
    const { el: C, type: T, transition: L, children: S, shapeFlag: R } = d;
    if (R & 6) {
      Rt(d.component.subTree, g, k, O);
      return;
    }
    if (R & 128) {
      d.suspense.move(g, k, O);
      return;
    }
    if (R & 64) {
      T.move(d, g, k, Qt);
      return;
    }
    if (T === Ae) {
      r(C, g, k);
      for (let P = 0; P < S.length; P++)
        Rt(S[P], g, k, O);
      r(d.anchor, g, k);
      return;
    }
    if (T === ns) {
      w(d, g, k);
      return;
    }
    if (O !== 2 && R & 1 && L)
      if (O === 0)
        L.persisted && !C[Qi] ? r(C, g, k) : (L.beforeEnter(C), r(C, g, k), ze(() => L.enter(C), x));
      else {
        const { leave: P, delayLeave: $, afterLeave: J } = L, ee = () => {
          d.ctx.isUnmounted ? i(C) : r(C, g, k);
        }, te = () => {
          const ne = C._isLeaving || !!C[Qi];
          C._isLeaving && C[Qi](
            !0
            /* cancelled */
          ), L.persisted && !ne ? ee() : P(C, () => {
            ee(), J && J();
          });
        };
        $ ? $(C, ee, te) : te();
      }
    else
      r(C, g, k);
  }, qe = (d, g, k, O = !1, x = !1) => {
    const {
      type: C,
      props: T,
      ref: L,
      children: S,
      dynamicChildren: R,
      shapeFlag: B,
      patchFlag: P,
      dirs: $,
      cacheIndex: J,
      memo: ee
    } = d;
    if ((P === -2 || R && R.hasOnce) && (x = !1), L != null && (Vt(), lr(L, null, k, d, !0), Kt()), J != null && (!d.ctx || d.ctx === g) && (g.renderCache[J] = void 0), B & 256 && g.ctx.deactivate(d))
      return;
    const te = B & 1 && $, ne = !cr(d);
    let ge;
    if (ne && (ge = T && T.onVnodeBeforeUnmount) && ht(ge, g, d), B & 6)
      Di(d.component, k, O);
    else {
      if (B & 128) {
        d.suspense.unmount(k, O);
        return;
      }
      te && sn(d, null, g, "beforeUnmount"), B & 64 ? d.type.remove(
        d,
        g,
        k,
        Qt,
        O
      ) : R && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !R.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (C !== Ae || P > 0 && P & 64) ? Zt(
        R,
        g,
        k,
        !1,
        !0
      ) : (C === Ae && P & 384 || !x && B & 16) && Zt(S, g, k), O && Sr(d);
    }
    const ae = ee != null && J == null;
    (ne && (ge = T && T.onVnodeUnmounted) || te || ae) && ze(() => {
      ge && ht(ge, g, d), te && sn(d, null, g, "unmounted"), ae && (d.el = null);
    }, k);
  }, Sr = (d) => {
    const { type: g, el: k, anchor: O, transition: x } = d, C = g === Ae;
    if (C && !x) {
      Tr(k, O);
      return;
    }
    if (g === ns) {
      b(d), x && !x.persisted && x.afterLeave && x.afterLeave();
      return;
    }
    const T = C ? Ms(d) : d, L = () => {
      C ? h(k) && Tr(k, O) : i(k), x && !x.persisted && x.afterLeave && x.afterLeave();
    };
    if (T && T.shapeFlag & 1 && x && !x.persisted) {
      const { leave: S, delayLeave: R } = x, B = T.el, P = () => S(B, L);
      R ? R(B, L, P) : P();
    } else
      L();
  }, Tr = (d, g) => {
    let k;
    for (; d !== g; )
      k = y(d), i(d), d = k;
    i(g);
  }, Di = (d, g, k) => {
    const { bum: O, scope: x, job: C, subTree: T, um: L, m: S, a: R } = d;
    Go(S), Go(R), O && Gr(O), x.stop(), C ? (C.flags |= 8, qe(T, d, g, k)) : T && (T.transition = d.vnode.transition, qe(T, d, g, k)), L && ze(L, g);
    const B = () => {
      d.isUnmounted = !0;
    };
    B.flags = 16, ze(B, g);
  }, Zt = (d, g, k, O = !1, x = !1, C = 0) => {
    for (let T = C; T < d.length; T++)
      qe(d[T], g, k, O, x);
  }, ce = (d) => {
    if (d.shapeFlag & 6)
      return ce(d.component.subTree);
    if (d.shapeFlag & 128)
      return d.suspense.next();
    const g = y(d.anchor || d.el), k = g && g[Ff];
    return k ? y(k) : g;
  }, Fr = (d, g, k) => {
    const O = d && g._vnode ? void 0 : d && d.component ? d.component.uid : ch();
    vf(() => {
      d == null ? g._vnode && qe(g._vnode, null, null, !0) : E(
        g._vnode || null,
        d,
        g,
        null,
        null,
        null,
        k
      ), g._vnode = d;
    }, O);
  }, Qt = {
    p: E,
    um: qe,
    m: Rt,
    r: Sr,
    mt: De,
    mc: Z,
    pc: wn,
    pbc: se,
    n: ce,
    o: e
  };
  return {
    render: Fr,
    hydrate: void 0,
    createApp: Pf(Fr)
  };
}
function ts({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function on({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function Qf(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function ca(e, t, n = !1) {
  const r = e.children, i = t.children;
  if (K(r) && K(i))
    for (let s = 0; s < r.length; s++) {
      const o = r[s];
      let l = i[s];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = i[s] = Ft(i[s]), l.el = o.el), !n && l.patchFlag !== -2 && ca(o, l)), l.type === xi && (l.patchFlag === -1 && (l = i[s] = Ft(l)), l.el = o.el), l.type === at && !l.el && (l.el = o.el);
    }
}
function eh(e) {
  const t = e.slice(), n = [0];
  let r, i, s, o, l;
  const c = e.length;
  for (r = 0; r < c; r++) {
    const a = e[r];
    if (a !== 0) {
      if (i = n[n.length - 1], e[i] < a) {
        t[r] = i, n.push(r);
        continue;
      }
      for (s = 0, o = n.length - 1; s < o; )
        l = s + o >> 1, e[n[l]] < a ? s = l + 1 : o = l;
      a < e[n[s]] && (s > 0 && (t[r] = n[s - 1]), n[s] = r);
    }
  }
  for (s = n.length, o = n[s - 1]; s-- > 0; )
    n[s] = o, o = t[o];
  return n;
}
function aa(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : aa(t);
}
function Go(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function ur(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return ur(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? ur(n.activeBranch) : null;
}
const ua = (e) => e.__isSuspense, th = /* @__PURE__ */ Symbol("_deferredEnter");
function nh(e, t) {
  t && t.pendingBranch ? K(e) ? t.effects.push(...e) : t.effects.push(e) : Rf(e);
}
const Ae = /* @__PURE__ */ Symbol.for("v-fgt"), xi = /* @__PURE__ */ Symbol.for("v-txt"), at = /* @__PURE__ */ Symbol.for("v-cmt"), ns = /* @__PURE__ */ Symbol.for("v-stc"), gn = [];
let Ge = null;
function ue(e = !1) {
  gn.push(Ge = e ? null : []);
}
function fa() {
  gn.pop(), Ge = gn[gn.length - 1] || null;
}
let gr = 1;
function Yo(e, t = !1) {
  gr += e, e < 0 && Ge && t && (Ge.hasOnce = !0);
}
function ha(e) {
  return e.dynamicChildren = gr > 0 ? Ge || fn : null, fa(), gr > 0 && Ge && Ge.push(e), e;
}
function he(e, t, n, r, i, s) {
  return ha(
    Y(
      e,
      t,
      n,
      r,
      i,
      s,
      !0
    )
  );
}
function rh(e, t, n, r, i) {
  return ha(
    Lt(
      e,
      t,
      n,
      r,
      i,
      !0
    )
  );
}
function so(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function Hn(e, t) {
  return e.type === t.type && e.key === t.key;
}
const da = ({ key: e }) => e ?? null, Yr = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? xe(e) || /* @__PURE__ */ Ue(e) || fe(e) ? { i: Ze, r: e, k: t, f: !!n } : e : null);
function Y(e, t = null, n = null, r = 0, i = null, s = e === Ae ? 0 : 1, o = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && da(t),
    ref: t && Yr(t),
    scopeId: Gc,
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
    shapeFlag: s,
    patchFlag: r,
    dynamicProps: i,
    dynamicChildren: null,
    appContext: null,
    ctx: Ze
  };
  return l ? (si(c, n), s & 128 && e.normalize(c)) : n && (c.shapeFlag |= xe(n) ? 8 : 16), gr > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  Ge && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || s & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && Ge.push(c), c;
}
const Lt = ih;
function ih(e, t = null, n = null, r = 0, i = null, s = !1) {
  if ((!e || e === Mf) && (e = at), so(e)) {
    const l = Bn(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && si(l, n), gr > 0 && !s && Ge && (l.shapeFlag & 6 ? Ge[Ge.indexOf(e)] = l : Ge.push(l)), l.patchFlag = -2, l;
  }
  if (gh(e) && (e = e.__vccOpts), t) {
    t = sh(t);
    let { class: l, style: c } = t;
    l && !xe(l) && (t.class = st(l)), _e(c) && (/* @__PURE__ */ to(c) && !K(c) && (c = et({}, c)), t.style = bi(c));
  }
  const o = xe(e) ? 1 : ua(e) ? 128 : ki(e) ? 64 : _e(e) ? 4 : fe(e) ? 2 : 0;
  return Y(
    e,
    t,
    n,
    r,
    i,
    o,
    s,
    !0
  );
}
function sh(e) {
  return e ? /* @__PURE__ */ to(e) ? et({}, e) : ra(e) ? et({}, e[ba] || e) : e : null;
}
function Bn(e, t, n = !1, r = !1) {
  const { props: i, ref: s, patchFlag: o, children: l, transition: c } = e, a = t ? oh(i || {}, t) : i, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: a,
    key: a && da(a),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && s ? K(s) ? s.concat(Yr(t)) : [s, Yr(t)] : Yr(t)
    ) : s,
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
    patchFlag: t && e.type !== Ae ? o === -1 ? 16 : o | 16 : o,
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
    ssContent: e.ssContent && Bn(e.ssContent),
    ssFallback: e.ssFallback && Bn(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return c && r && or(
    u,
    c.clone(u)
  ), u;
}
function Pe(e = " ", t = 0) {
  return Lt(xi, null, e, t);
}
function Ke(e = "", t = !1) {
  return t ? (ue(), rh(at, null, e)) : Lt(at, null, e);
}
function gt(e) {
  return e == null || typeof e == "boolean" ? Lt(at) : K(e) ? Lt(
    Ae,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : so(e) ? Ft(e) : Lt(xi, null, String(e));
}
function Ft(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : Bn(e);
}
function si(e, t) {
  let n = 0;
  const { shapeFlag: r } = e;
  if (t == null)
    t = null;
  else if (K(t))
    n = 16;
  else if (typeof t == "object")
    if (r & 65) {
      const i = t.default;
      i && (i._c && (i._d = !1), si(e, i()), i._c && (i._d = !0));
      return;
    } else {
      n = 32;
      const i = t._;
      !i && !ra(t) ? t._ctx = Ze : i === 3 && Ze && (Ze.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (fe(t)) {
    if (r & 65) {
      si(e, { default: t });
      return;
    }
    t = { default: t, _ctx: Ze }, n = 32;
  } else
    t = String(t), r & 64 ? (n = 16, t = [Pe(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function oh(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const r = e[n];
    for (const i in r)
      if (i === "class")
        t.class !== r.class && (t.class = st([t.class, r.class]));
      else if (i === "style")
        t.style = bi([t.style, r.style]);
      else if (pi(i)) {
        const s = t[i], o = r[i];
        o && s !== o && !(K(s) && s.includes(o)) ? t[i] = s ? [].concat(s, o) : o : o == null && s == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !gi(i) && (t[i] = o);
      } else i !== "" && (t[i] = r[i]);
  }
  return t;
}
function ht(e, t, n, r = null) {
  Pt(e, t, 7, [
    n,
    r
  ]);
}
const lh = /* @__PURE__ */ Zc();
let pa = 0;
function ch() {
  return pa;
}
function ah(e, t, n) {
  const r = e.type, i = (t ? t.appContext : e.appContext) || lh, s = {
    uid: pa++,
    vnode: e,
    type: r,
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
    scope: new Ku(
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
    propsOptions: Vf(r, i),
    emitsOptions: zf(r, i),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: me,
    // inheritAttrs
    inheritAttrs: r.inheritAttrs,
    // state
    ctx: me,
    data: me,
    props: me,
    attrs: me,
    slots: me,
    refs: me,
    setupState: me,
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
  return s.ctx = { _: s }, s.root = t ? t.root : s, s.emit = jf.bind(null, s), e.ce && e.ce(s), s;
}
let jn = null;
const uh = () => jn || Ze;
let oi, mr;
{
  const e = _i(), t = (n, r) => {
    let i;
    return (i = e[n]) || (i = e[n] = []), i.push(r), (s) => {
      i.length > 1 ? i.forEach((o) => o(s)) : i[0](s);
    };
  };
  oi = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => jn = n
  ), mr = t(
    "__VUE_SSR_SETTERS__",
    (n) => li = n
  );
}
const ga = (e) => {
  const t = jn;
  return oi(e), e.scope.on(), () => {
    e.scope.off(), oi(t);
  };
}, Xo = () => {
  jn && jn.scope.off(), oi(null);
};
function ma(e) {
  return e.vnode.shapeFlag & 4;
}
let li = !1;
function fh(e, t = !1, n = !1) {
  t && mr(t);
  const { props: r, children: i } = e.vnode, s = ma(e);
  qf(e, r, s, t), Gf(e, i, n || t);
  const o = s ? hh(e, t) : void 0;
  return t && mr(!1), o;
}
function hh(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Nf);
  const { setup: r } = n;
  if (r) {
    Vt();
    const i = e.setupContext = r.length > 1 ? ph(e) : null, s = ga(e), o = Er(
      r,
      e,
      0,
      [
        e.props,
        i
      ]
    ), l = wc(o);
    if (Kt(), s(), (l || e.sp) && !cr(e) && Of(e), l) {
      if (o.then(Xo, Xo), t)
        return o.then((c) => {
          mr(!0);
          try {
            Zo(e, c, t);
          } finally {
            mr(!1);
          }
        }).catch((c) => {
          wi(c, e, 0, void 0, !0), e.ssrRender = (a, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      Zo(e, o);
  } else
    _a(e);
}
function Zo(e, t, n) {
  fe(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : _e(t) && (e.setupState = Wc(t)), _a(e);
}
function _a(e, t, n) {
  const r = e.type;
  e.render || (e.render = r.render || dn);
}
const ba = /* @__PURE__ */ Symbol(), dh = {
  get(e, t) {
    return je(e, "get", ""), t === ba ? e : e[t];
  }
};
function ph(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, dh),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function Ri(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(Wc(pf(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in ar)
        return ar[n](e);
    },
    has(t, n) {
      return n in t || n in ar;
    }
  })) : e.proxy;
}
function gh(e) {
  return fe(e) && "__vccOpts" in e;
}
const jt = (e, t) => /* @__PURE__ */ yf(e, t, li), mh = "3.5.45";
let Ps;
const Qo = typeof window < "u" && window.trustedTypes;
if (Qo)
  try {
    Ps = /* @__PURE__ */ Qo.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const ya = Ps ? (e) => Ps.createHTML(e) : (e) => e, _h = "http://www.w3.org/2000/svg", bh = "http://www.w3.org/1998/Math/MathML", Tt = typeof document < "u" ? document : null, el = Tt && /* @__PURE__ */ Tt.createElement("template"), yh = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, r) => {
    const i = t === "svg" ? Tt.createElementNS(_h, e) : t === "mathml" ? Tt.createElementNS(bh, e) : n ? Tt.createElement(e, { is: n }) : Tt.createElement(e);
    return e === "select" && r && r.multiple != null && i.setAttribute("multiple", r.multiple), i;
  },
  createText: (e) => Tt.createTextNode(e),
  createComment: (e) => Tt.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => Tt.querySelector(e),
  setScopeId(e, t) {
    e.setAttribute(t, "");
  },
  // __UNSAFE__
  // Reason: innerHTML.
  // Static content here can only come from compiled templates.
  // As long as the user only uses trusted templates, this is safe.
  insertStaticContent(e, t, n, r, i, s) {
    const o = n ? n.previousSibling : t.lastChild;
    if (i && (i === s || i.nextSibling))
      for (; t.insertBefore(i.cloneNode(!0), n), !(i === s || !(i = i.nextSibling)); )
        ;
    else {
      el.innerHTML = ya(
        r === "svg" ? `<svg>${e}</svg>` : r === "mathml" ? `<math>${e}</math>` : e
      );
      const l = el.content;
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
}, wh = /* @__PURE__ */ Symbol("_vtc");
function kh(e, t, n) {
  const r = e[wh];
  r && (t = (t ? [t, ...r] : [...r]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const tl = /* @__PURE__ */ Symbol("_vod"), Ah = /* @__PURE__ */ Symbol("_vsh"), xh = /* @__PURE__ */ Symbol(""), Rh = /(?:^|;)\s*display\s*:/;
function vh(e, t, n) {
  const r = e.style, i = xe(n);
  let s = !1;
  if (n && !i) {
    if (t)
      if (xe(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && tr(r, l, "");
        }
      else
        for (const o in t)
          n[o] == null && tr(r, o, "");
    for (const o in n) {
      o === "display" && (s = !0);
      const l = n[o];
      l != null ? Ch(
        e,
        o,
        !xe(t) && t ? t[o] : void 0,
        l
      ) || tr(r, o, l) : tr(r, o, "");
    }
  } else if (i) {
    if (t !== n) {
      const o = r[xh];
      o && (n += ";" + o), r.cssText = n, s = Rh.test(n);
    }
  } else t && e.removeAttribute("style");
  tl in e && ((!i || t !== n) && (e[tl] = s ? r.display : ""), e[Ah] && (r.display = "none"));
}
const $r = /\s*!important$/;
function tr(e, t, n) {
  if (K(n))
    n.forEach((r) => tr(e, t, r));
  else if (n == null && (n = ""), t.startsWith("--"))
    $r.test(n) ? e.setProperty(t, n.replace($r, ""), "important") : e.setProperty(t, n);
  else {
    const r = Eh(e, t);
    $r.test(n) ? e.setProperty(
      yn(r),
      n.replace($r, ""),
      "important"
    ) : e[r] = n;
  }
}
const nl = ["Webkit", "Moz", "ms"], rs = {};
function Eh(e, t) {
  const n = rs[t];
  if (n)
    return n;
  let r = lt(t);
  if (r !== "filter" && r in e)
    return rs[t] = r;
  r = xc(r);
  for (let i = 0; i < nl.length; i++) {
    const s = nl[i] + r;
    if (s in e)
      return rs[t] = s;
  }
  return t;
}
function Ch(e, t, n, r) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && xe(r) && n === r;
}
const rl = "http://www.w3.org/1999/xlink";
function il(e, t, n, r, i, s = Ju(t)) {
  r && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(rl, t.slice(6, t.length)) : e.setAttributeNS(rl, t, n) : n == null || s && !vc(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    s ? "" : yt(n) ? String(n) : n
  );
}
function sl(e, t, n, r, i) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? ya(n) : n);
    return;
  }
  const s = e.tagName;
  if (t === "value" && s !== "PROGRESS" && // custom elements may use _value internally
  !s.includes("-")) {
    const l = s === "OPTION" ? e.getAttribute("value") || "" : e.value, c = n == null ? (
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
    l === "boolean" ? n = vc(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  o && e.removeAttribute(i || t);
}
function un(e, t, n, r) {
  e.addEventListener(t, n, r);
}
function Dh(e, t, n, r) {
  e.removeEventListener(t, n, r);
}
const ol = /* @__PURE__ */ Symbol("_vei");
function Sh(e, t, n, r, i = null) {
  const s = e[ol] || (e[ol] = {}), o = s[t];
  if (r && o)
    o.value = r;
  else {
    const [l, c] = Ih(t);
    if (r) {
      const a = s[t] = Nh(
        r,
        i
      );
      un(e, l, a, c);
    } else o && (Dh(e, l, o, c), s[t] = void 0);
  }
}
const Th = /(Once|Passive|Capture)$/, Fh = /^on:?(?:Once|Passive|Capture)$/;
function Ih(e) {
  let t, n;
  for (; (n = e.match(Th)) && !Fh.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : yn(e.slice(2)), t];
}
let is = 0;
const Oh = /* @__PURE__ */ Promise.resolve(), Mh = () => is || (Oh.then(() => is = 0), is = Date.now());
function Nh(e, t) {
  const n = (r) => {
    if (!r._vts)
      r._vts = Date.now();
    else if (r._vts <= n.attached)
      return;
    const i = n.value;
    if (K(i)) {
      const s = r.stopImmediatePropagation;
      r.stopImmediatePropagation = () => {
        s.call(r), r._stopped = !0;
      };
      const o = i.slice(), l = [r];
      for (let c = 0; c < o.length && !r._stopped; c++) {
        const a = o[c];
        a && Pt(
          a,
          t,
          5,
          l
        );
      }
    } else
      Pt(
        i,
        t,
        5,
        [r]
      );
  };
  return n.value = e, n.attached = Mh(), n;
}
const ll = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Lh = (e, t, n, r, i, s) => {
  const o = i === "svg";
  t === "class" ? kh(e, r, o) : t === "style" ? vh(e, n, r) : pi(t) ? gi(t) || Sh(e, t, n, r, s) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : Ph(e, t, r, o)) ? (sl(e, t, r), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && il(e, t, r, o, s, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Bh(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !xe(r))) ? sl(e, lt(t), r, s, t) : (t === "true-value" ? e._trueValue = r : t === "false-value" && (e._falseValue = r), il(e, t, r, o));
};
function Ph(e, t, n, r) {
  if (r)
    return !!(t === "innerHTML" || t === "textContent" || t in e && ll(t) && fe(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const i = e.tagName;
    if (i === "IMG" || i === "VIDEO" || i === "CANVAS" || i === "SOURCE")
      return !1;
  }
  return ll(t) && xe(n) ? !1 : t in e;
}
function Bh(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const r = lt(t);
  return Array.isArray(n) ? n.some((i) => lt(i) === r) : Object.keys(n).some((i) => lt(i) === r);
}
const ci = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return K(t) ? (n) => Gr(t, n) : t;
};
function jh(e) {
  e.target.composing = !0;
}
function cl(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const hn = /* @__PURE__ */ Symbol("_assign"), Ur = /* @__PURE__ */ Symbol("_initialValue");
function ss(e, t, n) {
  return t && (e = e.trim()), n && (e = vr(e)), e;
}
const Vn = {
  created(e, { modifiers: { lazy: t, trim: n, number: r } }, i) {
    e.parentNode && (e.type === "text" ? e[Ur] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[Ur] = e.defaultValue.replace(/\r\n?/g, `
`))), e[hn] = ci(i);
    const s = r || i.props && i.props.type === "number";
    un(e, t ? "change" : "input", (o) => {
      o.target.composing || e[hn](ss(e.value, n, s));
    }), (n || s) && un(e, "change", () => {
      e.value = ss(e.value, n, s);
    }), t || (un(e, "compositionstart", jh), un(e, "compositionend", cl), un(e, "change", cl));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: r } }) {
    const i = t ?? "", s = e[Ur];
    delete e[Ur], s !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== s ? e[hn](ss(e.value, n, r)) : e.value = i;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: r, trim: i, number: s } }, o) {
    if (e[hn] = ci(o), e.composing) return;
    const l = (s || e.type === "number") && !/^0\d/.test(e.value) ? vr(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const a = e.getRootNode();
    (a instanceof Document || a instanceof ShadowRoot) && a.activeElement === e && e.type !== "range" && (r && t === n || i && e.value.trim() === c) || (e.value = c);
  }
}, zh = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, r) {
    e._modelValue = t, un(e, "change", () => {
      const i = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? vr(ai(c)) : ai(c)
      ), s = e.multiple, o = s ? bn(e._modelValue) ? new Set(i) : i : i[0], l = e._pendingValue = [
        s,
        s ? K(o) ? i.slice() : i : o
      ];
      try {
        e[hn](o);
      } finally {
        ni(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[hn] = ci(r);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    al(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[hn] = ci(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const r = e._pendingValue;
    e._pendingValue = void 0, (!r || r[0] !== e.multiple || !$h(t, r[1], r[0])) && al(e, t, n);
  }
};
function $h(e, t, n) {
  if (!n || K(e)) return Ht(e, t);
  if (bn(e)) {
    if (e.size !== t.length) return !1;
    for (const r of t)
      if (!e.has(r)) return !1;
    return !0;
  }
  return !1;
}
function al(e, t, n = !1) {
  const r = e.multiple, i = K(t);
  if (!(r && !i && !bn(t))) {
    for (let s = 0, o = e.options.length; s < o; s++) {
      const l = e.options[s], c = ai(l);
      if (r)
        if (i) {
          const a = typeof c;
          a === "string" || a === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = Vu(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(vr(c));
      else if (Ht(ai(l), t)) {
        e.selectedIndex !== s && (e.selectedIndex = s);
        return;
      }
    }
    !r && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function ai(e) {
  return "_value" in e ? e._value : e.value;
}
const Uh = ["ctrl", "shift", "alt", "meta"], Wh = {
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
  exact: (e, t) => Uh.some((n) => e[`${n}Key`] && !t.includes(n))
}, ul = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), r = t.join(".");
  return n[r] || (n[r] = ((i, ...s) => {
    for (let o = 0; o < t.length; o++) {
      const l = Wh[t[o]];
      if (l && l(i, t)) return;
    }
    return e(i, ...s);
  }));
}, Jh = /* @__PURE__ */ et({ patchProp: Lh }, yh);
let fl;
function qh() {
  return fl || (fl = Xf(Jh));
}
const Hh = ((...e) => {
  const t = qh().createApp(...e), { mount: n } = t;
  return t.mount = (r) => {
    const i = Kh(r);
    if (!i) return;
    const s = t._component;
    !fe(s) && !s.render && !s.template && (s.template = i.innerHTML), i.nodeType === 1 && (i.textContent = "");
    const o = n(i, !1, Vh(i));
    return i instanceof Element && (i.removeAttribute("v-cloak"), i.setAttribute("data-v-app", "")), o;
  }, t;
});
function Vh(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function Kh(e) {
  return xe(e) ? document.querySelector(e) : e;
}
const Gh = "/comfyd/connection";
function Yh(e, t) {
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
  const i = /* @__PURE__ */ new Set(["127.0.0.1", "localhost", "[::1]"]);
  return t && i.has(r.hostname) && i.has(t.hostname) && (r.hostname = t.hostname), { wsBase: `${r.protocol === "https:" ? "wss:" : "ws:"}//${r.host}`, token: n, bridgeUrl: r.origin };
}
function wa(e, t) {
  return `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
class Xh {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(Gh).then(
      (t) => Yh(t, this.location),
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
function Bs(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const ka = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function fr(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (ka(e).find((r) => String(r.id) === String(t)) ?? null);
}
function hl(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function Zh(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function Qh(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function ed(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function td(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function Mt(e) {
  if (!e || typeof e != "object") return "";
  const { extra: t, nodes: n, ...r } = e;
  let i = t;
  if (i && typeof i == "object" && "ds" in i) {
    const { ds: o, ...l } = i;
    i = l;
  }
  const s = Array.isArray(n) ? n.map((o) => {
    if (!o || typeof o != "object") return o;
    const { order: l, ...c } = o;
    return c;
  }) : n;
  return JSON.stringify({ ...r, nodes: s, extra: i ?? null });
}
function On(e, t, n = 3) {
  const r = String(e).toLowerCase(), i = [];
  for (const s of t) {
    const o = String(s).toLowerCase();
    let l = nd(r, o);
    (o.includes(r) || r.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(r.length / 3)) && i.push([l, s]);
  }
  return i.sort((s, o) => s[0] - o[0] || String(s[1]).localeCompare(String(o[1]))), i.slice(0, n).map((s) => s[1]);
}
const dl = 128;
function nd(e, t) {
  if (e.length > dl || t.length > dl) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (r, i) => i);
  for (let r = 1; r <= e.length; r++) {
    const i = [r];
    for (let s = 1; s <= t.length; s++)
      i[s] = Math.min(n[s] + 1, i[s - 1] + 1, n[s - 1] + (e[r - 1] === t[s - 1] ? 0 : 1));
    n = i;
  }
  return n[t.length];
}
const Ye = Object.freeze({
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
  ref: 128
});
class js extends Error {
  constructor(t, n, r = []) {
    super(n), this.code = t, this.suggestions = r;
  }
}
const X = (e, t, n) => {
  throw new js(e, t, n);
}, zn = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function Kn(e, t, n = Ye.name, { optional: r = !1 } = {}) {
  if (e == null) {
    if (r) return "";
    X("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && X("INVALID_COMMAND", `${t} must be a string`), e.length > n && X("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function Wr(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > Ye.coord) && X("INVALID_COMMAND", `${t} must be a number within ±${Ye.coord}`), e);
}
function Sn(e, t) {
  return zn(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= Ye.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : X("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function os(e, t) {
  if (e == null) return 0;
  if (zn(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= Ye.name ? e : X("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function pl(e, t) {
  if (zn(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((r) => r in e);
    n.length !== 1 && X("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || X("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > Ye.text && X("VALUE_INVALID", `${t} is longer than ${Ye.text} characters`), e) : X("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const Xr = {
  create_node(e) {
    const t = {
      node_type: Kn(e.node_type, "node_type"),
      x: Wr(e.x, "x", { optional: !0 }),
      y: Wr(e.y, "y", { optional: !0 }),
      ref: Kn(e.ref, "ref", Ye.ref, { optional: !0 }),
      title: Kn(e.title, "title", Ye.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || X("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      zn(e.widgets) || X("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > Ye.widgets && X("INVALID_COMMAND", `more than ${Ye.widgets} widgets`);
      for (const r of n) t.widgets.push([Kn(r, "widget name"), pl(e.widgets[r], `widgets.${r}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: Sn(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: Sn(e.from_id, "from_id"),
    from_slot: os(e.from_slot, "from_slot"),
    to_id: Sn(e.to_id, "to_id"),
    to_slot: os(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: Sn(e.node_id, "node_id"), slot: os(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: Sn(e.node_id, "node_id"),
    name: Kn(e.name, "name"),
    value: pl(e.value, "value")
  }),
  move_node: (e) => ({ node_id: Sn(e.node_id, "node_id"), x: Wr(e.x, "x"), y: Wr(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({})
}, Aa = Object.freeze(Object.keys(Xr)), rd = new Set(Aa.filter((e) => e !== "get_graph"));
function id(e) {
  zn(e) || X("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const r = Object.keys(e).filter((i) => Object.hasOwn(Xr, i));
    r.length !== 1 && X("INVALID_COMMAND", "missing field: type"), t = r[0], n = zn(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(Xr, t)) && X("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${Aa.join(", ")}`), { type: t, ...Xr[t](n) };
}
const sd = /* @__PURE__ */ new Set(["number", "slider", "knob"]), od = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function ld(e, t, n) {
  const r = String(e.type ?? ""), i = e.options ?? {};
  if (r === "combo") {
    const s = td(e, t);
    return s && !s.some((o) => o === n) && X("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${s.length} options of ${e.name}`, On(n, s.filter((o) => typeof o == "string"))), n;
  }
  return sd.has(r) ? (typeof n != "number" && X("VALUE_INVALID", `${e.name} takes a number`), i.precision === 0 && !Number.isInteger(n) && X("VALUE_INVALID", `${e.name} takes an integer`), typeof i.min == "number" && n < i.min && X("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${i.min}`), typeof i.max == "number" && n > i.max && X("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${i.max}`), n) : r === "toggle" || r === "boolean" ? (typeof n != "boolean" && X("VALUE_INVALID", `${e.name} takes true or false`), n) : od.has(r) ? (typeof n != "string" && X("VALUE_INVALID", `${e.name} takes a string`), n) : (r === "button" && X("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function cd(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function gl(e, t, n, r) {
  const i = Qh(t, n);
  i || X("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, On(n, ed(t)));
  const s = ld(i, t, r), o = i.value;
  i.value = s;
  try {
    i.callback?.call(i, i.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(i.name, i.value, o, i);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return cd(i);
}
function Tn(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return fr(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const r = fr(e.graph, t.id);
    if (r) return r;
    X("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return X("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function ad(e) {
  if (typeof e.place == "function") {
    const n = e.place(e.placed++);
    if (Array.isArray(n)) return n;
  }
  const t = e.placed++;
  return [100 + 40 * t, 100 + 40 * t];
}
const ud = {
  create_node(e, t) {
    const { graph: n, LiteGraph: r } = e, i = r.createNode(t.node_type);
    if (!i) {
      const o = Object.keys(r.registered_node_types ?? {});
      X("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, On(t.node_type, o));
    }
    t.title && (i.title = t.title), i.pos = t.x !== null && t.y !== null ? [t.x, t.y] : ad(e);
    const s = e.expectedId;
    Number.isSafeInteger(s) && s > 0 && !fr(n, s) && (i.id = s), n.add(i), fr(n, i.id) || X("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [o, l] of t.widgets) gl(e, i, o, l);
    } catch (o) {
      throw n.remove(i), o;
    }
    return t.ref && e.refs.set(t.ref, i.id), { node_id: i.id };
  },
  remove_node(e, t) {
    const n = Tn(e, t.node_id, "node_id"), r = n.id;
    return e.graph.remove(n), fr(e.graph, r) && X("EDITOR_FAILED", `node #${r} cannot be removed`), { node_id: r };
  },
  connect(e, t) {
    const n = Tn(e, t.from_id, "from_id"), r = Tn(e, t.to_id, "to_id"), i = Zh(n, t.from_slot);
    i < 0 && X(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? On(t.from_slot, (n.outputs ?? []).map((a) => a.name)) : []
    );
    const s = hl(r, t.to_slot);
    s < 0 && X(
      "SLOT_NOT_FOUND",
      `node #${r.id} (${r.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? On(t.to_slot, (r.inputs ?? []).map((a) => a.name)) : []
    ), n === r && X("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const o = n.outputs[i].type, l = r.inputs[s].type;
    e.LiteGraph.isValidConnection(o, l) || X("TYPE_MISMATCH", `output ${i} of #${n.id} is ${o}, input ${JSON.stringify(r.inputs[s].name)} of #${r.id} takes ${l}`);
    const c = n.connect(i, r, s);
    return c || X("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${i} -> #${r.id}:${s}`), { node_id: r.id, link_id: c.id };
  },
  disconnect(e, t) {
    const n = Tn(e, t.node_id, "node_id"), r = hl(n, t.slot);
    r < 0 && X(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? On(t.slot, (n.inputs ?? []).map((s) => s.name)) : []
    );
    const i = n.inputs[r].link;
    return i == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(r), n.inputs[r].link !== null && n.inputs[r].link !== void 0 && X("EDITOR_FAILED", `input ${r} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: i });
  },
  set_widget(e, t) {
    const n = Tn(e, t.node_id, "node_id"), r = gl(e, n, t.name, t.value);
    return r === void 0 ? { node_id: n.id } : { node_id: n.id, value: r };
  },
  move_node(e, t) {
    const n = Tn(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of ka(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  }
}, fd = "BATCH_MODE_PARTIAL";
function hd(e) {
  return e === fd || e === 2 || String(e).toLowerCase() === "partial";
}
function ml(e, t) {
  const n = t instanceof js ? t.code : "EDITOR_FAILED", r = t instanceof js ? t.message : `command failed: ${t?.message ?? String(t)}`, i = { code: n, message: r.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (i.suggestions = t.suggestions), { index: e, ok: !1, error: i };
}
function dd(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > Ye.commands)
    return { ok: !1, error: `more than ${Ye.commands} commands`, results: [], applied: !1 };
  const r = e.graph, i = hd(t?.mode), s = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), placed: 0, expectedId: void 0 }, l = r.serialize(), c = Mt(l), a = new Array(n.length);
  let u = 0, h = -1;
  for (let p = 0; p < n.length; p++) {
    let E;
    try {
      E = id(n[p]);
    } catch (M) {
      if (a[p] = ml(p, M), !i) {
        h = p;
        break;
      }
      continue;
    }
    o.expectedId = E.type === "create_node" ? s[u++] : void 0;
    const F = i && rd.has(E.type) && p > 0 ? r.serialize() : null;
    try {
      a[p] = { index: p, ok: !0, ...ud[E.type](o, E) };
    } catch (M) {
      if (a[p] = ml(p, M), !i) {
        h = p;
        break;
      }
      const v = F ?? l;
      Mt(r.serialize()) !== Mt(v) && _l(r, v);
    }
  }
  if (h >= 0) {
    Mt(r.serialize()) !== c && _l(r, l);
    const p = `not applied: command ${h} failed and the patch is atomic (the graph was rolled back)`;
    for (let E = 0; E < n.length; E++)
      E !== h && (a[E] = { index: E, ok: !1, error: { code: "SKIPPED", message: p, index: E } });
    return r.setDirtyCanvas?.(!0, !0), { ok: !1, error: a[h].error.message, results: a, applied: !1 };
  }
  r.setDirtyCanvas?.(!0, !0);
  const y = a.every((p) => p.ok), _ = a.find((p) => !p.ok);
  return {
    ok: y,
    error: y ? "" : _.error.message,
    results: a,
    applied: Mt(r.serialize()) !== c
  };
}
function _l(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
function pd(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function gd(e, t) {
  const n = pd(e);
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
const md = 1e3, _d = 1500, bd = 120, yd = 480 * 1024, ls = "the tab has switched to another workflow; this canvas is no longer open in it", wd = 200, kd = 50, Ad = 1e4, xd = 1e3, Rd = 128, bl = 1024 * 1024 - 1024;
function vd(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function cs(e, t) {
  const n = String(t || "workflow"), r = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${r}~${vd(n)}`.slice(0, Rd);
}
function Ed(e, t = yd) {
  if (!e || typeof e != "object") return "";
  const n = /* @__PURE__ */ new Set(["tooltip", "description", "output_tooltips", "search_aliases", "python_module"]), r = (s) => {
    if (Array.isArray(s)) return s.map(r);
    if (s && typeof s == "object") {
      const o = {};
      for (const l of Object.keys(s)) n.has(l) || (o[l] = r(s[l]));
      return o;
    }
    return s;
  }, i = JSON.stringify(r(e));
  return new TextEncoder().encode(i).length <= t ? i : "";
}
function Cd(e, t = () => Math.random().toString(36).slice(2, 10)) {
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
class Dd {
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), _d), this.connect());
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
    const t = Bs(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > kd : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, wd);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = Ed(await this.d.objectInfo?.());
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
      n = new this.d.WebSocket(wa(t, "/comfy/editor/ws"));
    } catch (r) {
      this.log("warn", `comfyd: cannot open the editor socket (${r?.message ?? r})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (r) => this.onMessage(r.data), n.onerror = () => {
    }, n.onclose = (r) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (r?.code === md) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (r?.code === 1008 || r?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = cs(this.d.tabId, this.workflowKey()), this.lastSig = Mt(t), this.tabRevision += 1;
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
    return r.length > bl && new TextEncoder().encode(r).length > bl ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(r), !0);
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
    return cs(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: ls, results: [], workflow_json: "", tab_revision: this.tabRevision });
    const n = {
      graph: this.graph(),
      LiteGraph: this.d.LiteGraph,
      canvas: this.d.app.canvas,
      keepOnClear: this.d.isPanelNode,
      place: (s) => this.placement(s),
      log: this.log
    };
    let r;
    this.busy++;
    try {
      r = gd(this.d.app, () => dd(n, t));
    } catch (s) {
      r = { ok: !1, error: `the patch failed: ${s?.message ?? s}`, results: [] };
    } finally {
      this.busy--;
    }
    const i = this.serialize();
    this.lastSig = Mt(i), this.tabRevision += 1, this.send({
      type: "patch_result",
      request_id: t.request_id,
      ok: !!r.ok,
      error: r.error ?? "",
      results: (r.results ?? []).filter(Boolean).map(Sd),
      workflow_json: JSON.stringify(i),
      tab_revision: this.tabRevision
    });
  }
  /** Where a node without coordinates goes: the middle of the view. */
  placement(t) {
    const n = this.d.app.canvas, r = n?.ds, i = n?.canvas;
    if (r && i && r.scale) {
      const s = -r.offset[0] + i.width / 2 / r.scale, o = -r.offset[1] + i.height / 2 / r.scale;
      return [Math.round(s - 150 + 40 * t), Math.round(o - 100 + 40 * t)];
    }
    return [100 + 40 * t, 100 + 40 * t];
  }
  async handleQueue(t) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: ls, prompt_id: "", number: 0 });
    const { app: n, api: r } = this.d, i = [];
    let s = "";
    const o = r.queuePrompt;
    r.queuePrompt = async function(...u) {
      try {
        const h = await o.apply(this, u);
        return i.push(h), h;
      } catch (h) {
        throw s = yl(h), h;
      }
    };
    try {
      const u = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, u);
    } catch (u) {
      s = s || yl(u);
    } finally {
      r.queuePrompt = o;
    }
    const l = i[i.length - 1], c = l?.node_errors && typeof l.node_errors == "object" ? Object.keys(l.node_errors) : [];
    !s && c.length && (s = `the server reported errors in nodes ${c.join(", ")}`);
    const a = !!l?.prompt_id && !s;
    this.send({
      type: "queue_result",
      request_id: t.request_id,
      ok: a,
      error: a ? "" : s || "the frontend did not queue the workflow",
      prompt_id: l?.prompt_id ? String(l.prompt_id) : "",
      number: Number.isSafeInteger(l?.number) ? l.number : 0
    });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: ls, workflow_json: "", tab_revision: this.tabRevision });
    let n, r = !1, i = "";
    try {
      if (n = JSON.parse(t.workflow_json), !n || typeof n != "object" || !Array.isArray(n.nodes)) throw new Error("not a workflow");
    } catch (o) {
      i = `cannot load: ${o?.message ?? o}`;
    }
    if (!i) {
      this.busy++;
      try {
        await this.d.app.loadGraphData(n, !0, !0, this.activeWorkflow() ?? void 0), r = !0;
      } catch (o) {
        i = `loading failed: ${o?.message ?? o}`;
      } finally {
        this.busy--;
      }
    }
    const s = this.serialize();
    this.lastSig = Mt(s), this.tabRevision += 1, this.send({
      type: "load_result",
      request_id: t.request_id,
      ok: r,
      error: i,
      workflow_json: r ? JSON.stringify(s) : "",
      tab_revision: this.tabRevision
    });
  }
  // ---- the user's edits and focus ----
  /** Called on graphChanged: a burst becomes one check. */
  graphChanged() {
    this.t.clearTimeout(this.debounceTimer), this.debounceTimer = this.t.setTimeout(() => {
      this.debounceTimer = null, this.checkEdits();
    }, bd);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < Ad || this.d.app.configuringGraph) return;
    if (cs(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const r = Mt(n);
    r !== this.lastSig && (this.lastSig = r, this.tabRevision += 1, this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision }));
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
    if (!(this.focused && t - this.focusSentAt < xd)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function yl(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, r = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${r.length ? ` (nodes ${r.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function Sd(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const wl = 500, kl = 200;
function mn(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function xa() {
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
function Ra(e, t = "") {
  Object.assign(e, xa(), { sessionId: t });
}
function Al(e, t) {
  const n = Number(t) || 0;
  for (let r = e.turns.length - 1; r >= 0; r--) if (e.turns[r].id === n) return e.turns[r];
  return null;
}
function Nn(e, t) {
  let n = Al(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let r = e.turns.length;
  for (; r > 0 && e.turns[r - 1].id > n.id; ) r--;
  return e.turns.splice(r, 0, n), e.turns.length > kl && e.turns.splice(0, e.turns.length - kl), Al(e, n.id) ?? n;
}
function Zr(e, t) {
  const n = t || "comfyd";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function Gn(e, t) {
  e.logs.push(t), e.logs.length > wl && e.logs.splice(0, e.logs.length - wl);
}
function xl(e, t) {
  if (!t || typeof t != "object") return;
  const n = mn(t.role, "ROLE_"), r = mn(t.state, "MESSAGE_STATE_");
  if (n === "user") {
    const i = Nn(e, t.id);
    i.content = String(t.content ?? ""), i.state = r, i.error = String(t.error ?? ""), i.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const i = Nn(e, t.turn_id), s = Zr(i, t.skill);
    s.content = String(t.content ?? ""), s.state = r || "done", s.error = String(t.error ?? ""), s.final = !0;
  }
}
function Rl(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = mn(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function va(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function Td(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, r = t.data && typeof t.data == "object" ? t.data : {}, i = va(t);
  if (r.session_id && e.sessionId && r.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (i && i < e.lastSeq) return !1;
    const s = e.logs, o = e.turns.filter((c) => c.pending), l = r.session?.id ?? e.sessionId;
    Ra(e, l), e.logs = s, Rl(e, r.session), r.status !== void 0 && (e.status = mn(r.status, "SESSION_STATUS_") || e.status);
    for (const c of Array.isArray(r.history) ? r.history : []) xl(e, c);
    for (const c of Array.isArray(r.partials) ? r.partials : []) {
      const a = Zr(Nn(e, c.turn_id), c.skill);
      a.final || (a.content = String(c.content ?? ""), a.next = Number(c.delta_count) || 0, a.state = "streaming");
    }
    return e.lastSeq = i || e.lastSeq, e.needsResync = !1, e.turns.push(...o), !0;
  }
  if (["created", "configured", "sessions", "skills", "ack", "cancelled"].includes(n))
    return n === "configured" && r.session && Rl(e, r.session), !1;
  if (i) {
    if (i <= e.lastSeq) return !1;
    e.lastSeq = i;
  }
  switch (n) {
    case "status_update": {
      if (e.status = mn(r.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(r.detail ?? ""), e.queuedTurns = Number(r.queued_turns) || 0, e.status === "idle")
        for (const s of e.turns)
          for (const o of s.order) s.replies[o].state === "streaming" && (s.replies[o].state = "done");
      return !0;
    }
    case "stream_delta": {
      const s = Nn(e, r.turn_id), o = Zr(s, r.skill), l = Number(r.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(r.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return xl(e, r.message), !0;
    case "debug_log":
      return Gn(e, {
        seq: i,
        level: mn(r.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(r.module ?? ""),
        skill: String(r.skill ?? ""),
        message: String(r.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(r.code ?? ""), message: String(r.message ?? ""), skill: String(r.skill ?? "") }, r.turn_id) {
        const s = Nn(e, r.turn_id);
        if (r.skill) {
          const o = Zr(s, r.skill);
          o.error = e.lastError.message, o.final || (o.state = r.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return Gn(e, { seq: i, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return r.config && (e.config = r.config), typeof r.title == "string" && (e.title = r.title), !0;
    case "tool_call":
      return Gn(e, { seq: i, level: "INFO", module: "tool", skill: String(r.skill ?? ""), message: `${r.name ?? "tool"}(${String(r.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return Gn(e, { seq: i, level: r.ok ? "INFO" : "WARN", module: "tool", skill: String(r.skill ?? ""), message: `${r.call_id ?? ""} -> ${String(r.result_json ?? "").slice(0, 300)}` }), !0;
    case "graph_changed":
      return Gn(e, { seq: i, level: "INFO", module: "graph", skill: "", message: `${r.canvas_id ?? ""} r${r.revision ?? ""}: ${r.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function Fd(e, t, n) {
  const r = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(r), r;
}
function Id(e, t, n) {
  const r = e.turns.findIndex((o) => o.pending && o.clientId === t), i = r >= 0 ? e.turns.splice(r, 1)[0] : null;
  if (!n?.id) return;
  const s = Nn(e, n.id);
  s.content || (s.content = String(n.content ?? i?.content ?? "")), s.state || (s.state = mn(n.state, "MESSAGE_STATE_"));
}
function vl(e, t) {
  const n = e.turns.find((r) => r.pending && r.clientId === t);
  n && (n.state = "waiting", n.error = "");
}
function Od(e, t, n) {
  const r = e.turns.find((i) => i.pending && i.clientId === t);
  r && (r.state = "failed", r.error = String(n ?? "not sent"));
}
function El(e, t = []) {
  const n = [];
  for (const r of t) e.replies[r] && n.push(r);
  for (const r of e.order) n.includes(r) || n.push(r);
  return n.map((r) => e.replies[r]);
}
const Md = 15e3, Nd = /* @__PURE__ */ new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]), Ld = /* @__PURE__ */ new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);
function Qr(e) {
  return Ld.has(String(e?.code ?? ""));
}
function Yn(e, t) {
  const n = new Error(e);
  return n.code = t, n;
}
class Pd {
  /**
   * deps: {connection, WebSocket, timers?, log?, state (session store),
   *        onOpen?(), onClose?(), onChange?(), onOffline?(reason),
   *        onOutage?(reason), onRecovered?()}
   */
  constructor(t) {
    this.d = t, this.t = t.timers ?? globalThis, this.log = t.log ?? (() => {
    }), this.state = t.state, this.socket = null, this.open = !1, this.nextId = 1, this.pending = /* @__PURE__ */ new Map(), this.joined = "", this.joinRid = 0, this.attempt = 0, this.stopped = !0, this.reconnectTimer = null, this.outage = "", this.probeTimer = null, this.probeAttempt = 0, this.joinFailed = !1;
  }
  start() {
    this.stopped && (this.stopped = !1, this.connect());
  }
  stop() {
    this.stopped = !0, this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = null, this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.drop(Yn("panel closed", "CLOSED"));
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
      n = new this.d.WebSocket(wa(t, "/comfy/session/ws"));
    } catch {
      return this.retry();
    }
    this.socket = n, n.onopen = () => {
      this.open = !0, this.attempt = 0, this.joined && this.sendJoin(this.joined), this.outage && this.scheduleProbe(0), this.d.onOpen?.();
    }, n.onmessage = (r) => this.onMessage(r.data), n.onerror = () => {
    }, n.onclose = (r) => {
      this.socket === n && (this.open || this.d.onOffline?.(`comfyd-bridge does not answer at ${t.bridgeUrl ?? t.wsBase}`), this.socket = null, this.open = !1, this.drop(Yn("connection lost", "DISCONNECTED")), this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.d.onClose?.(r?.code), (r?.code === 1008 || r?.code === 1006) && this.d.connection.invalidate?.(), this.retry());
    };
  }
  retry() {
    this.stopped || this.reconnectTimer || (this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, Bs(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const r = this.nextId++;
    return new Promise((i, s) => {
      if (!this.send({ event: t, data: n, request_id: r })) {
        s(Yn("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(r);
        const l = Yn(`${t}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(l.message), s(l);
      }, Md);
      this.pending.set(r, { resolve: i, reject: s, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && Ra(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
  }
  sendJoin(t, n = !1) {
    const r = n || this.state.sessionId !== t ? 0 : this.state.lastSeq;
    this.joinFailed = !1, this.joinRid = this.nextId++, this.send({ event: "join", data: { session_id: t, last_seq: r }, request_id: this.joinRid });
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
      const i = String(n.data?.code ?? "join_failed"), s = String(n.data?.message ?? "");
      if (Nd.has(i)) {
        this.state.lastError = { code: i, message: s, skill: "" }, this.d.onChange?.();
        return;
      }
      this.joinFailed = !0, this.coreAway(s || i);
      return;
    }
    if (r !== void 0 && this.pending.has(r)) {
      const i = this.pending.get(r);
      if (this.pending.delete(r), this.t.clearTimeout(i.timer), n.event === "error") {
        const s = Yn(n.data?.message ?? "request failed", n.data?.code ?? "error");
        Qr(s) ? this.coreAway(s.message) : this.coreBack(), i.reject(s);
      } else
        this.coreBack(), i.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    va(n) && n.event !== "error" && this.coreBack(), Td(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
  /** The core is away: say so once, and probe it with backoff. */
  coreAway(t) {
    this.stopped || (this.outage || (this.outage = String(t || "core unavailable"), this.probeAttempt = 0, this.log("warn", `comfyd: core unavailable (${this.outage}); reconnecting`), this.d.onOutage?.(this.outage)), this.scheduleProbe());
  }
  scheduleProbe(t) {
    if (this.stopped || this.probeTimer || !this.open) return;
    const n = t ?? Bs(this.probeAttempt++);
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
const Ea = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), Bd = Object.freeze(["echo", "openai"]), as = "workflow-builder", Cl = 64 * 1024, us = 4096, jd = 64 * 1024;
function zd(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let Dl = 0;
function $d() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return Dl += 1, `panel-${e}-${Dl}`;
}
class Ud {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value)}
   */
  constructor(t) {
    this.d = t;
    const n = t.reactive ?? ((r) => r);
    this.state = n(xa()), this.ui = n({
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
      busy: !1,
      offlineReason: "",
      // why the bridge cannot be reached (the supervisor's word)
      outage: ""
      // why the core is away while the bridge answers
    }), this.outbox = [], this.client = new Pd({
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
      onRecovered: () => this.onRecovered()
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
      skills: zd(n.skills)
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
      const n = await this.client.request("user_message", { session_id: t.sid, content: t.content, client_message_id: t.cid });
      t.sid === this.state.sessionId && Id(this.state, t.cid, n.message);
    } catch (n) {
      Qr(n) && !this.client.stopped ? (vl(this.state, t.cid), this.outbox.push(t)) : Od(this.state, t.cid, n.message);
    }
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = this.ui.form, r = (i, s) => {
      s !== void 0 && n[i] !== s && (n[i] = s, this.d.writeConfig(i, i === "skills" ? s.join(",") : s));
    };
    r("provider", t.provider || "echo"), r("model", t.model ?? ""), r("base_url", t.base_url ?? ""), r("system_prompt", t.system_prompt ?? ""), Array.isArray(t.active_skills) && r("skills", t.active_skills.map(String));
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`), this.tickDefaultSkill();
    } catch (t) {
      Qr(t) || (this.ui.notice = `skills: ${t.message}`);
    }
  }
  /** A panel without a session and without a chosen skill starts with the
   * default skill ticked (when the core has it). */
  tickDefaultSkill() {
    const t = this.ui.form;
    t.session_id || t.skills.length || this.skillsChosen || this.ui.skills.some((n) => n.name === as) && (t.skills = [as], this.d.writeConfig("skills", as));
  }
  async refreshSessions() {
    try {
      const t = await this.client.request("list", { page_size: 50 });
      this.ui.sessions = (t.sessions ?? []).map((n) => ({ id: String(n.id), title: String(n.title || n.id) }));
    } catch (t) {
      Qr(t) || (this.ui.notice = `sessions: ${t.message}`);
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, us),
      model: t.model.slice(0, us),
      base_url: t.base_url.slice(0, us),
      system_prompt: t.system_prompt.slice(0, jd)
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
      const r = await this.client.request("create", n);
      this.ui.apiKey = "";
      const i = r.session?.id;
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
    for (const [n, r] of Object.entries(t)) this.d.writeConfig(n, r);
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
    this.skillsChosen = !0;
    const r = new Set(this.ui.form.skills);
    n ? r.add(t) : r.delete(t);
    const i = this.ui.skills.map((o) => o.name), s = [...i.filter((o) => r.has(o)), ...[...r].filter((o) => !i.includes(o))];
    if (this.ui.form.skills = s, this.d.writeConfig("skills", s.join(",")), !!this.ui.form.session_id)
      try {
        await this.client.request("update_skills", { session_id: this.ui.form.session_id, skills: s });
      } catch (o) {
        this.ui.notice = `skills: ${o.message}`;
      }
  }
  async send() {
    const t = this.ui.draft.trim();
    if (!t) return;
    if (t.length > Cl) {
      this.ui.notice = `a message is at most ${Cl} characters`;
      return;
    }
    this.ui.form.session_id || await this.createSession();
    const n = this.ui.form.session_id;
    if (!n) return;
    this.ui.draft = "";
    const r = { cid: $d(), sid: n, content: t };
    if (Fd(this.state, r.cid, t), this.client.outage) {
      vl(this.state, r.cid), this.outbox.push(r);
      return;
    }
    await this.deliver(r);
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
const zs = "ComfydAgentPanel", Sl = "comfyd-panel-style", Tl = Object.freeze([440, 560]), Wd = 320, Fl = (e) => e?.comfyClass === zs || e?.type === zs;
function Jd(e, t) {
  if (e.getElementById(Sl)) return;
  const n = e.createElement("style");
  n.id = Sl, n.textContent = t, e.head.appendChild(n);
}
function qd(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function Hd(e) {
  for (const [t, n] of Ea) {
    let r = (e.widgets ?? []).find((i) => i.name === t);
    r || (r = e.addWidget("text", t, n, () => {
    }, {})), qd(r);
  }
}
function Vd(e) {
  const t = {};
  for (const [n, r] of Ea) {
    const s = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof s == "string" ? s : r;
  }
  return t;
}
function Kd(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: r } = t;
  Jd(r, t.css), Hd(e);
  const i = (y, _) => {
    const p = (e.widgets ?? []).find((E) => E.name === y);
    !p || p.value === _ || (p.value = _, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, s = new Ud({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => Vd(e),
    writeConfig: i
  }), o = r.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: s });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const y = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => Wd,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    y.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  const c = () => {
    (Array.isArray(e.size) || ArrayBuffer.isView(e.size)) && e.setSize?.([Math.max(e.size[0], Tl[0]), Math.max(e.size[1], Tl[1])]);
  };
  c();
  let a = !1;
  const u = e.onConfigure;
  e.onConfigure = function(...y) {
    a = !0;
    const _ = u?.apply(this, y);
    return s.reloadConfig(), _;
  };
  const h = e.onRemoved;
  return e.onRemoved = function(...y) {
    s.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, h?.apply(this, y);
  }, setTimeout(() => {
    e.__comfydPanel && (a || (c(), e.setDirtyCanvas?.(!0, !0)), s.reloadConfig(), s.start());
  }, 0), e.__comfydPanel = s, s;
}
function Il(e, t) {
  (t == null || t > e.length) && (t = e.length);
  for (var n = 0, r = Array(t); n < t; n++) r[n] = e[n];
  return r;
}
function Gd(e) {
  if (Array.isArray(e)) return e;
}
function Yd(e, t) {
  var n = e == null ? null : typeof Symbol < "u" && e[Symbol.iterator] || e["@@iterator"];
  if (n != null) {
    var r, i, s, o, l = [], c = !0, a = !1;
    try {
      if (s = (n = n.call(e)).next, t !== 0) for (; !(c = (r = s.call(n)).done) && (l.push(r.value), l.length !== t); c = !0) ;
    } catch (u) {
      a = !0, i = u;
    } finally {
      try {
        if (!c && n.return != null && (o = n.return(), Object(o) !== o)) return;
      } finally {
        if (a) throw i;
      }
    }
    return l;
  }
}
function Xd() {
  throw new TypeError(`Invalid attempt to destructure non-iterable instance.
In order to be iterable, non-array objects must have a [Symbol.iterator]() method.`);
}
function Zd(e, t) {
  return Gd(e) || Yd(e, t) || Qd(e, t) || Xd();
}
function Qd(e, t) {
  if (e) {
    if (typeof e == "string") return Il(e, t);
    var n = {}.toString.call(e).slice(8, -1);
    return n === "Object" && e.constructor && (n = e.constructor.name), n === "Map" || n === "Set" ? Array.from(e) : n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n) ? Il(e, t) : void 0;
  }
}
const Ca = Object.entries, ep = Object.keys, Ol = Object.setPrototypeOf, tp = Object.isFrozen, Da = Object.getPrototypeOf, Sa = Object.getOwnPropertyDescriptor;
let Oe = Object.freeze, Re = Object.seal, Ut = Object.create, Ta = typeof Reflect < "u" && Reflect, ui = Ta.apply, $s = Ta.construct;
Oe || (Oe = function(t) {
  return t;
});
Re || (Re = function(t) {
  return t;
});
ui || (ui = function(t, n) {
  for (var r = arguments.length, i = new Array(r > 2 ? r - 2 : 0), s = 2; s < r; s++) i[s - 2] = arguments[s];
  return t.apply(n, i);
});
$s || ($s = function(t) {
  for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), i = 1; i < n; i++) r[i - 1] = arguments[i];
  return new t(...r);
});
const Dt = be(Array.prototype.forEach), np = be(Array.prototype.lastIndexOf), Ml = be(Array.prototype.pop), Xn = be(Array.prototype.push), rp = be(Array.prototype.slice), ip = be(Array.prototype.splice), Ln = Array.isArray, fs = Fa(Set), hs = be(Set.prototype.add), Zn = be(Set.prototype.has), an = be(String.prototype.toLowerCase), ds = be(String.prototype.toString), sp = be(String.prototype.match), Jr = be(String.prototype.replace), ps = be(String.prototype.indexOf), op = be(String.prototype.trim), lp = be(Number.prototype.toString), cp = be(Boolean.prototype.toString), Nl = typeof BigInt > "u" ? null : be(BigInt.prototype.toString), Ll = typeof Symbol > "u" ? null : be(Symbol.prototype.toString), Be = be(Object.prototype.hasOwnProperty), Qn = be(Object.prototype.toString), ap = RegExp.prototype.test, Fe = function(t, n) {
  return t instanceof RegExp && (t.lastIndex = 0), ui(ap, t, [n]);
}, St = Fa(TypeError);
function be(e) {
  return function(t) {
    for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), i = 1; i < n; i++) r[i - 1] = arguments[i];
    return ui(e, t, r);
  };
}
function Fa(e) {
  return function() {
    for (var t = arguments.length, n = new Array(t), r = 0; r < t; r++) n[r] = arguments[r];
    return $s(e, n);
  };
}
function re(e, t) {
  let n = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : an;
  if (Ol && Ol(e, null), !Ln(t)) return e;
  let r = t.length;
  for (; r--; ) {
    let i = t[r];
    if (typeof i == "string") {
      const s = n(i);
      s !== i && (tp(t) || (t[r] = s), i = s);
    }
    e[i] = !0;
  }
  return e;
}
function up(e) {
  for (let t = 0; t < e.length; t++) Be(e, t) || (e[t] = null);
  return e;
}
function fi(e) {
  const t = Ut(null);
  for (const r of Ca(e)) {
    var n = Zd(r, 2);
    const i = n[0], s = n[1];
    Be(e, i) && (Ln(s) ? t[i] = up(s) : s && typeof s == "object" && s.constructor === Object ? t[i] = fi(s) : t[i] = s);
  }
  return t;
}
function nr(e) {
  const t = Ut(null), n = ep(e);
  let r = n.length;
  for (; r--; ) t[n[r]] = e[n[r]];
  return t;
}
function fp(e) {
  switch (typeof e) {
    case "string":
      return e;
    case "number":
      return lp(e);
    case "boolean":
      return cp(e);
    case "bigint":
      return Nl ? Nl(e) : "0";
    case "symbol":
      return Ll ? Ll(e) : "Symbol()";
    case "undefined":
      return Qn(e);
    case "function":
    case "object": {
      if (e === null) return Qn(e);
      const t = e, n = Xe(t, "toString");
      if (typeof n == "function") {
        const r = n(t);
        return typeof r == "string" ? r : Qn(r);
      }
      return Qn(e);
    }
    default:
      return Qn(e);
  }
}
function Xe(e, t) {
  for (; e !== null; ) {
    const r = Sa(e, t);
    if (r) {
      if (r.get) return be(r.get);
      if (typeof r.value == "function") return be(r.value);
    }
    e = Da(e);
  }
  function n() {
    return null;
  }
  return n;
}
function hp(e, t) {
  for (; e !== null; ) {
    const n = Sa(e, t);
    if (n) return n.get ? be(n.get) : null;
    e = Da(e);
  }
  return null;
}
function dp(e) {
  if (!e) return !1;
  try {
    return Fe(e, ""), !0;
  } catch {
    return !1;
  }
}
const Pl = Oe([
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
]), gs = Oe([
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
]), ms = Oe([
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
]), pp = Oe([
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
]), _s = Oe([
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
]), gp = Oe([
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
]), Bl = Oe(["#text"]), jl = Oe([
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
]), bs = Oe([
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
]), zl = Oe([
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
]), qr = Oe([
  "xlink:href",
  "xml:id",
  "xlink:title",
  "xml:space",
  "xmlns:xlink"
]), mp = Re(/{{[\w\W]*|^[\w\W]*}}/g), _p = Re(/<%[\w\W]*|^[\w\W]*%>/g), bp = Re(/\${[\w\W]*/g), yp = Re(/{{|}}|\${|<%|%>|&lt;%|%&gt;/), wp = Re(/^data-[\-\w.\u00B7-\uFFFF]+$/), kp = Re(/^aria-[\-\w]+$/), $l = Re(/^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i), Ap = Re(/^(?:\w+script|data):/i), xp = Re(/[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g), Rp = Re(/^html$/i), vp = Re(/^[a-z][.\w]*(-[.\w]+)+$/i), ys = Re(/<[/\w!]/g), Ul = Re(/<[/\w]/g), Ep = Re(/<\/no(script|embed|frames)/i), Wl = Re(/\/>/i), Cp = Re(/((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i), Dp = Re(/^[\r\n\t ]+/), ke = {
  element: 1,
  text: 3,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentFragment: 11
}, Sp = Oe(re({}, [
  "style",
  "script",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "plaintext",
  "noscript"
])), Tp = function() {
  return typeof window > "u" ? null : window;
}, Fp = function(t, n) {
  if (typeof t != "object" || typeof t.createPolicy != "function") return null;
  let r = null;
  const i = "data-tt-policy-suffix";
  n && n.hasAttribute(i) && (r = n.getAttribute(i));
  const s = "dompurify" + (r ? "#" + r : "");
  try {
    return t.createPolicy(s, {
      createHTML(o) {
        return o;
      },
      createScriptURL(o) {
        return o;
      }
    });
  } catch {
    return console.warn("TrustedTypes policy " + s + " could not be created."), null;
  }
}, Jl = function() {
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
}, zt = function(t, n, r, i) {
  return Be(t, n) && Ln(t[n]) ? re(i.base ? nr(i.base) : {}, t[n], i.transform) : r;
}, ws = function(t, n, r) {
  const i = Be(t, n) ? t[n] : void 0;
  return i && typeof i == "object" ? fi(i) : r;
};
function Ia() {
  let e = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : Tp();
  const t = (D) => Ia(D);
  if (t.version = "3.4.18", t.removed = [], !e || !e.document || e.document.nodeType !== ke.document || !e.Element)
    return t.isSupported = !1, t;
  let n = e.document;
  const r = n, i = r.currentScript, s = e.HTMLTemplateElement, o = e.Node, l = e.Element, c = e.NodeFilter, a = e.DOMParser, u = e.trustedTypes, h = l.prototype, y = Xe(h, "cloneNode"), _ = Xe(h, "remove"), p = Xe(h, "removeAttributeNode"), E = Xe(h, "nextSibling"), F = Xe(h, "childNodes"), M = Xe(h, "parentNode"), v = Xe(h, "shadowRoot"), w = Xe(h, "attributes"), b = o && o.prototype ? Xe(o.prototype, "nodeType") : null, N = o && o.prototype ? Xe(o.prototype, "nodeName") : null, j = o && o.prototype ? Xe(o.prototype, "ownerDocument") : null, W = function(f) {
    return b ? b(f) : f.nodeType;
  }, Z = function(f) {
    return N ? N(f) : f.nodeName;
  }, Q = hp(h, "namespaceURI"), se = function(f) {
    return Q ? Q(f) : f.namespaceURI;
  };
  if (typeof s == "function") {
    const D = n.createElement("template");
    D.content && D.content.ownerDocument && (n = D.content.ownerDocument);
  }
  let V, le = "", Me, De = !1, ye = 0;
  const Xt = function() {
    if (ye > 0) throw St('A configured TRUSTED_TYPES_POLICY callback (createHTML or createScriptURL) must not call DOMPurify.sanitize, as that causes infinite recursion. Do not pass a policy whose callbacks wrap DOMPurify as TRUSTED_TYPES_POLICY; see the "DOMPurify and Trusted Types" section of the README.');
  }, xt = function(f) {
    Xt(), ye++;
    try {
      return V.createHTML(f);
    } finally {
      ye--;
    }
  }, wn = function(f) {
    return V && Si ? xt(f) : f;
  }, Ci = function(f) {
    Xt(), ye++;
    try {
      return V.createScriptURL(f);
    } finally {
      ye--;
    }
  }, Dr = function() {
    return De || (Me = Fp(u, i), De = !0), Me;
  }, Rt = n, qe = Rt.implementation, Sr = Rt.createNodeIterator, Tr = Rt.createDocumentFragment, Di = Rt.getElementsByTagName, Zt = r.importNode;
  let ce = Jl();
  t.isSupported = typeof Ca == "function" && typeof M == "function" && qe && qe.createHTMLDocument !== void 0;
  const Fr = mp, Qt = _p, fo = bp, d = wp, g = kp, k = Ap, O = xp, x = vp;
  let C = $l, T = null;
  const L = re({}, [
    ...Pl,
    ...gs,
    ...ms,
    ..._s,
    ...Bl
  ]);
  let S = null;
  const R = re({}, [
    ...jl,
    ...bs,
    ...zl,
    ...qr
  ]);
  let B = null, P = null, $ = null;
  const J = Object.seal(Ut(null, {
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
  let ee = !0, te = !0, ne = !1, ge = !0, ae = !1, ve = !0, Se = !1, He = !1, en = null, Te = null, We = !1, vt = !1, tn = !1, Si = !1, ho = !0, po = !1;
  const go = "user-content-";
  let Ti = !0, Fi = !1, nn = null, kn = !1, rn = null;
  const mo = re({}, [
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
  let _o = null;
  const bo = re({}, [
    "audio",
    "video",
    "img",
    "source",
    "image",
    "track"
  ]);
  let yo = null;
  const wo = re({}, [
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
  ]), Ir = "http://www.w3.org/1998/Math/MathML", Or = "http://www.w3.org/2000/svg", ut = "http://www.w3.org/1999/xhtml";
  let An = ut, Ii = !1, ko = null;
  const uu = re({}, [
    Ir,
    Or,
    ut
  ], ds), fu = Oe(re({}, [
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext"
  ]));
  let Oi = null;
  const hu = Oe(re({}, ["annotation-xml"]));
  let Mi = null;
  const du = Oe(Ut(null)), pu = re({}, [
    "title",
    "style",
    "font",
    "a",
    "script"
  ]);
  let Wn = null;
  const gu = ["application/xhtml+xml", "text/html"], mu = "text/html";
  let we = null, Mr = null;
  const _u = n.createElement("form"), Ao = function(f) {
    return f instanceof RegExp || f instanceof Function;
  }, Ni = function() {
    let f = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    (!f || typeof f != "object") && (f = {}), f = fi(f), Wn = gu.indexOf(f.PARSER_MEDIA_TYPE) === -1 ? mu : f.PARSER_MEDIA_TYPE, we = Wn === "application/xhtml+xml" ? ds : an, T = zt(f, "ALLOWED_TAGS", L, { transform: we }), S = zt(f, "ALLOWED_ATTR", R, { transform: we }), ko = zt(f, "ALLOWED_NAMESPACES", uu, { transform: ds }), yo = zt(f, "ADD_URI_SAFE_ATTR", wo, {
      transform: we,
      base: wo
    }), _o = zt(f, "ADD_DATA_URI_TAGS", bo, {
      transform: we,
      base: bo
    }), rn = zt(f, "FORBID_CONTENTS", mo, { transform: we }), P = zt(f, "FORBID_TAGS", Ut(null), { transform: we }), $ = zt(f, "FORBID_ATTR", Ut(null), { transform: we }), kn = Be(f, "USE_PROFILES") ? f.USE_PROFILES && typeof f.USE_PROFILES == "object" ? fi(f.USE_PROFILES) : f.USE_PROFILES : !1, ee = f.ALLOW_ARIA_ATTR !== !1, te = f.ALLOW_DATA_ATTR !== !1, ne = f.ALLOW_UNKNOWN_PROTOCOLS || !1, ge = f.ALLOW_SELF_CLOSE_IN_ATTR !== !1, ae = f.SAFE_FOR_TEMPLATES || !1, ve = f.SAFE_FOR_XML !== !1, Se = f.WHOLE_DOCUMENT || !1, vt = f.RETURN_DOM || !1, tn = f.RETURN_DOM_FRAGMENT || !1, Si = f.RETURN_TRUSTED_TYPE || !1, We = f.FORCE_BODY || !1, ho = f.SANITIZE_DOM !== !1, po = f.SANITIZE_NAMED_PROPS || !1, Ti = f.KEEP_CONTENT !== !1, Fi = f.IN_PLACE || !1, C = dp(f.ALLOWED_URI_REGEXP) ? f.ALLOWED_URI_REGEXP : $l, An = typeof f.NAMESPACE == "string" ? f.NAMESPACE : ut, Oi = ws(f, "MATHML_TEXT_INTEGRATION_POINTS", fu), Mi = ws(f, "HTML_INTEGRATION_POINTS", hu);
    const m = ws(f, "CUSTOM_ELEMENT_HANDLING", du);
    if (B = Ut(null), Be(m, "tagNameCheck") && Ao(m.tagNameCheck) && (B.tagNameCheck = m.tagNameCheck), Be(m, "attributeNameCheck") && Ao(m.attributeNameCheck) && (B.attributeNameCheck = m.attributeNameCheck), Be(m, "allowCustomizedBuiltInElements") && typeof m.allowCustomizedBuiltInElements == "boolean" && (B.allowCustomizedBuiltInElements = m.allowCustomizedBuiltInElements), Re(B), ae && (te = !1), tn && (vt = !0), kn && ((Be(f, "ALLOWED_TAGS") || Be(f, "ALLOWED_ATTR")) && typeof console < "u" && typeof console.warn == "function" && console.warn("DOMPurify: USE_PROFILES overrides ALLOWED_TAGS and ALLOWED_ATTR. Do not use these options together."), T = re({}, Bl), S = Ut(null), kn.html === !0 && (re(T, Pl), re(S, jl)), kn.svg === !0 && (re(T, gs), re(S, bs), re(S, qr)), kn.svgFilters === !0 && (re(T, ms), re(S, bs), re(S, qr)), kn.mathMl === !0 && (re(T, _s), re(S, zl), re(S, qr))), J.tagCheck = null, J.attributeCheck = null, Be(f, "ADD_TAGS") && (typeof f.ADD_TAGS == "function" ? J.tagCheck = f.ADD_TAGS : Ln(f.ADD_TAGS) && (T === L && (T = nr(T)), re(T, f.ADD_TAGS, we))), Be(f, "ADD_ATTR") && (typeof f.ADD_ATTR == "function" ? J.attributeCheck = f.ADD_ATTR : Ln(f.ADD_ATTR) && (S === R && (S = nr(S)), re(S, f.ADD_ATTR, we))), Be(f, "ADD_FORBID_CONTENTS") && Ln(f.ADD_FORBID_CONTENTS) && (rn === mo && (rn = nr(rn)), re(rn, f.ADD_FORBID_CONTENTS, we)), Ti && (T["#text"] = !0), Se && re(T, [
      "html",
      "head",
      "body"
    ]), T.table && (T.tbody = !0, delete P.tbody), f.TRUSTED_TYPES_POLICY) {
      if (typeof f.TRUSTED_TYPES_POLICY.createHTML != "function") throw St('TRUSTED_TYPES_POLICY configuration option must provide a "createHTML" hook.');
      if (typeof f.TRUSTED_TYPES_POLICY.createScriptURL != "function") throw St('TRUSTED_TYPES_POLICY configuration option must provide a "createScriptURL" hook.');
      const A = V;
      V = f.TRUSTED_TYPES_POLICY;
      try {
        le = xt("");
      } catch (I) {
        throw V = A, I;
      }
    } else f.TRUSTED_TYPES_POLICY === null ? (V = void 0, le = "") : (V === void 0 && (V = Dr()), V && typeof le == "string" && (le = xt("")));
    Mr = Oe(f);
  }, xo = re({}, [
    ...gs,
    ...ms,
    ...pp
  ]), Ro = re({}, [..._s, ...gp]), bu = function(f, m, A) {
    return m === ut ? f === "svg" : m === Ir ? f === "svg" && (A === "annotation-xml" || Oi[A]) : !!xo[f];
  }, yu = function(f, m, A) {
    return m === ut ? f === "math" : m === Or ? f === "math" && Mi[A] : !!Ro[f];
  }, wu = function(f, m, A) {
    return m === Or && !Mi[A] || m === Ir && !Oi[A] ? !1 : !Ro[f] && (pu[f] || !xo[f]);
  }, ku = function(f) {
    const m = se(f), A = an(Z(f)), I = M(f);
    let U = An, q = "template";
    return I && W(I) === ke.element && (U = se(I), q = an(Z(I))), ko[m] ? m === Or ? bu(A, U, q) : m === Ir ? yu(A, U, q) : m === ut ? wu(A, U, q) : Wn === "application/xhtml+xml" : !1;
  }, Bt = function(f) {
    Xn(t.removed, { element: f });
    try {
      M(f).removeChild(f);
    } catch {
      if (_(f), !M(f)) throw St("a node selected for removal could not be detached from its tree and cannot be safely returned; refusing to sanitize in place");
    }
  }, vo = function(f, m, A) {
    try {
      p(f, m);
    } catch {
      try {
        f.removeAttribute(A);
      } catch {
      }
    }
  }, Li = function(f) {
    ji(f);
    const m = F(f);
    m && Dt(rp(m), (A) => {
      try {
        _(A);
      } catch {
      }
    }), W(f) === ke.element && Pi(f, !1);
  }, xn = function(f, m, A) {
    if (!A) try {
      A = m.getAttributeNode(f);
    } catch {
      A = null;
    }
    if (Xn(t.removed, {
      attribute: A || null,
      from: m
    }), A) vo(m, A, f);
    else try {
      m.removeAttribute(f);
    } catch {
    }
    if (f === "is")
      if (vt || tn) try {
        Bt(m);
      } catch {
      }
      else try {
        m.setAttribute(f, "");
      } catch {
      }
  }, Pi = function(f, m) {
    const A = w(f);
    if (A)
      for (let I = A.length - 1; I >= 0; --I) {
        const U = A[I], q = U && U.name;
        typeof q == "string" && !(m && S[we(q)]) && vo(f, U, q);
      }
  }, Bi = function(f, m) {
    let A = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : !1;
    const I = [f];
    for (; I.length > 0; ) {
      const U = I.pop();
      if (m(U) === !1) continue;
      if (A && W(U) === ke.element) {
        const G = v(U);
        Rn(G) && I.push(G);
      }
      const q = F(U);
      if (q) for (let G = q.length - 1; G >= 0; --G) I.push(q[G]);
    }
  }, ji = function(f) {
    Bi(f, (m) => {
      W(m) === ke.element && Pi(m, !0);
    });
  }, zi = function(f) {
    const m = [];
    return Bi(f, (A) => {
      m.push(A);
    }, !0), m;
  }, Au = function(f, m) {
    const A = fs();
    Dt(zi(f), (I) => {
      W(I) === ke.element && hs(A, I);
    }), Dt(m, (I) => {
      W(I) === ke.element && !Zn(A, I) && Pi(I, !0);
    });
  }, Eo = function(f, m) {
    let A = !1;
    return Dt(t.removed, (I) => {
      I.element && (A = A || I.element === f, ji(I.element));
    }), Au(f, m), A;
  }, xu = 8, Ru = function(f, m) {
    const A = nn;
    let I = null;
    const U = () => (I || (I = fs(), Dt(m, (q) => {
      hs(I, q);
    })), I);
    for (let q = 0; ; q++) {
      const G = zi(f), Ee = [f];
      let Et = !1;
      if (Dt(G, (rt) => {
        W(rt) === ke.documentFragment ? Xn(Ee, rt) : !Et && !Zn(A, rt) && (Et = Zn(U(), rt));
      }), !Et) return;
      if (q >= xu) throw St("the tree kept changing during in-place sanitization; refusing to return it");
      Dt(Ee, (rt, Ve) => {
        vu(rt, Ve > 0, f, U());
      });
    }
  }, vu = function(f, m, A, I) {
    const U = Nr(f);
    let q;
    for (; q = U.nextNode(); )
      !Zn(I, q) || Zn(nn, q) || (m && nt(ce.uponSanitizeShadowNode, q, null), Ji(q, A));
  }, Eu = function(f) {
    nn && hs(nn, f);
  }, Co = function(f, m) {
    return ve ? f === "patchsrc" ? !0 : f === "for" && m !== "label" && m !== "output" : !1;
  }, Cu = function(f) {
    ve && Bi(f, (m) => {
      const A = W(m);
      if (A === ke.processingInstruction || A === ke.comment && Fe(Ul, m.data)) {
        try {
          _(m);
        } catch {
        }
        return !1;
      }
      if (A === ke.element) {
        const I = m, U = we(Z(m));
        try {
          I.hasAttribute && I.hasAttribute("patchsrc") && I.removeAttribute("patchsrc"), I.hasAttribute && I.hasAttribute("for") && Co("for", U) && I.removeAttribute("for");
        } catch {
        }
      }
      return !0;
    });
  }, Do = function(f) {
    let m = null, A = null;
    if (We) f = "<remove></remove>" + f;
    else {
      const q = sp(f, Dp);
      A = q && q[0];
    }
    Wn === "application/xhtml+xml" && An === ut && (f = '<html xmlns="http://www.w3.org/1999/xhtml"><head></head><body>' + f + "</body></html>");
    const I = V ? xt(f) : f;
    if (An === ut) try {
      m = new a().parseFromString(I, Wn);
    } catch {
    }
    if (!m || !m.documentElement) {
      m = qe.createDocument(An, "template", null);
      try {
        m.documentElement.innerHTML = Ii ? le : I;
      } catch {
      }
    }
    const U = m.body || m.documentElement;
    return f && A && U.insertBefore(n.createTextNode(A), U.childNodes[0] || null), An === ut ? Di.call(m, Se ? "html" : "body")[0] : Se ? m.documentElement : U;
  }, Nr = function(f) {
    let m = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : !1;
    const A = j ? j(f) : f.ownerDocument;
    return Sr.call(A || f, f, (m ? 0 : c.SHOW_ELEMENT) | c.SHOW_COMMENT | c.SHOW_TEXT | c.SHOW_PROCESSING_INSTRUCTION | c.SHOW_CDATA_SECTION, null);
  }, $i = function(f) {
    return f = Jr(f, Fr, " "), f = Jr(f, Qt, " "), f = Jr(f, fo, " "), f;
  }, Ui = function(f) {
    var m;
    Wi(f);
    const A = (m = f.querySelectorAll) === null || m === void 0 ? void 0 : m.call(f, "template");
    A && Dt(A, (I) => {
      Rn(I.content) && Ui(I.content);
    });
  }, Wi = function(f) {
    f.normalize();
    const m = Nr(f, !0);
    let A = m.nextNode();
    for (; A; )
      A.data = $i(A.data), A = m.nextNode();
  }, Lr = function(f) {
    const m = N ? N(f) : null;
    return typeof m != "string" || we(m) !== "form" ? !1 : typeof f.nodeName != "string" || typeof f.textContent != "string" || typeof f.removeChild != "function" || f.attributes !== w(f) || typeof f.removeAttribute != "function" || typeof f.removeAttributeNode != "function" || typeof f.getAttributeNode != "function" || typeof f.setAttribute != "function" || typeof f.namespaceURI != "string" || typeof f.insertBefore != "function" || typeof f.hasChildNodes != "function" || f.nodeType !== b(f) || f.childNodes !== F(f);
  }, So = function(f) {
    if (!b || typeof f != "object" || f === null) return null;
    try {
      const m = b(f);
      return typeof m == "number" ? m : null;
    } catch {
      return null;
    }
  }, Rn = function(f) {
    return So(f) === ke.documentFragment;
  }, Jn = function(f) {
    return So(f) !== null;
  };
  function nt(D, f, m) {
    D.length !== 0 && Dt(D, (A) => {
      A.call(t, f, m, Mr);
    });
  }
  const Du = function(f, m, A) {
    return !!(ve && A === ke.element && f.hasChildNodes() && !Jn(f.firstElementChild) && Fe(ys, f.textContent) && Fe(ys, f.innerHTML) || ve && Sp[m] && A === ke.element && se(f) === ut && (Jn(f.firstElementChild) || typeof f.textContent == "string" && Fe(ys, f.textContent)) || A === ke.processingInstruction || ve && A === ke.comment && Fe(Ul, f.data));
  }, Pr = function(f, m) {
    if (f instanceof RegExp) return Fe(f, m);
    if (f instanceof Function) {
      for (var A = arguments.length, I = new Array(A > 2 ? A - 2 : 0), U = 2; U < A; U++) I[U - 2] = arguments[U];
      return !!f(m, ...I);
    }
    return !1;
  }, Su = function(f, m, A) {
    if (!P[m] && Io(m) && Pr(B.tagNameCheck, m)) return !1;
    if (Ti && !rn[m] && !rn[an(m)]) {
      const I = M(f), U = F(f);
      if (U && I) {
        const q = U.length;
        for (let G = q - 1; G >= 0; --G) {
          const Ee = f === A ? y(U[G], !0) : U[G];
          I.insertBefore(Ee, E(f));
        }
      }
    }
    return Bt(f), !0;
  }, To = function(f, m, A, I) {
    return f.length === 0 ? m : m === A || m === I ? nr(m) : m;
  }, vn = function(f, m) {
    return f === m || M(f) !== null ? !1 : (Fi && ji(f), !0);
  }, Tu = function(f, m) {
    if (Eu(f), nt(ce.beforeSanitizeElements, f, null), vn(f, m)) return !0;
    if (Lr(f))
      return Bt(f), !0;
    const A = we(Z(f)), I = W(f);
    if (T = To(ce.uponSanitizeElement, T, L, en), nt(ce.uponSanitizeElement, f, {
      tagName: A,
      allowedTags: T
    }), vn(f, m)) return !0;
    if (Du(f, A, I))
      return Bt(f), !0;
    if (P[A] || !(J.tagCheck instanceof Function && J.tagCheck(A)) && !T[A]) {
      const U = Su(f, A, m);
      return U === !1 && (nt(ce.afterSanitizeElements, f, null), vn(f, m)) ? !0 : U;
    }
    if (I === ke.element && !ku(f) || (A === "noscript" || A === "noembed" || A === "noframes") && Fe(Ep, f.innerHTML))
      return Bt(f), !0;
    if (ae && I === ke.text) {
      const U = f.textContent, q = $i(U);
      U !== q && (Xn(t.removed, { element: f.cloneNode() }), f.textContent = q);
    }
    return nt(ce.afterSanitizeElements, f, null), vn(f, m);
  }, Fo = function(f, m, A) {
    if ($[m] || Co(m, f) || ho && (m === "id" || m === "name") && (A in n || A in _u)) return !1;
    const I = S[m] || J.attributeCheck instanceof Function && J.attributeCheck(m, f);
    if (te && Fe(d, m) || ee && Fe(g, m)) return !0;
    if (!I) return Io(f) && Pr(B.tagNameCheck, f) && Pr(B.attributeNameCheck, m, f) || m === "is" && B.allowCustomizedBuiltInElements && Pr(B.tagNameCheck, A);
    if (yo[m]) return !0;
    const U = Jr(A, O, "");
    return Fe(C, U) || (m === "src" || m === "xlink:href" || m === "href") && f !== "script" && ps(A, "data:") === 0 && _o[f] || ne && !Fe(k, U) ? !0 : !A;
  }, Fu = re({}, [
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-format",
    "font-face-name",
    "font-face-src",
    "font-face-uri",
    "missing-glyph"
  ]), Io = function(f) {
    return !Fu[an(f)] && Fe(x, f);
  }, Iu = function(f, m, A, I) {
    if (V && typeof u == "object" && typeof u.getAttributeType == "function" && !A) switch (u.getAttributeType(f, m)) {
      case "TrustedHTML":
        return xt(I);
      case "TrustedScriptURL":
        return Ci(I);
    }
    return I;
  }, Ou = function(f, m, A, I) {
    try {
      return A ? f.setAttributeNS(A, m, I) : f.setAttribute(m, I), Lr(f) ? (Bt(f), !1) : !0;
    } catch {
      return xn(m, f), !1;
    }
  }, Oo = function(f, m) {
    return ve && Fe(Cp, m) ? !0 : an(f) === "attributename" && ps(m, "href") !== -1;
  }, Mu = function(f, m) {
    if (nt(ce.beforeSanitizeAttributes, f, null), vn(f, m)) return;
    const A = f.attributes;
    if (!A || Lr(f)) return;
    S = To(ce.uponSanitizeAttribute, S, R, Te);
    const I = {
      attrName: "",
      attrValue: "",
      keepAttr: !0,
      allowedAttributes: S,
      forceKeepAttr: void 0
    };
    let U = A.length;
    const q = we(Z(f));
    for (; U--; ) {
      const G = A[U], Ee = G.name, Et = G.namespaceURI, rt = G.value, Ve = we(Ee), ft = rt;
      let Ne = Ee === "value" ? ft : op(ft), Mo = !1;
      if (I.attrName = Ve, I.attrValue = Ne, I.keepAttr = !0, I.forceKeepAttr = void 0, nt(ce.uponSanitizeAttribute, f, I), Ne = I.attrValue, po && (Ve === "id" || Ve === "name") && ps(Ne, go) !== 0 && (xn(Ee, f, G), Ne = go + Ne, Mo = !0), Oo(Ee, Ne)) {
        xn(Ee, f, G);
        continue;
      }
      if (!I.forceKeepAttr) {
        if (!I.keepAttr) {
          xn(Ee, f, G);
          continue;
        }
        if (!ge && Fe(Wl, Ne)) {
          xn(Ee, f, G);
          continue;
        }
        if (ae && (Ne = $i(Ne)), !Fo(q, Ve, Ne)) {
          xn(Ee, f, G);
          continue;
        }
        Ne = Iu(q, Ve, Et, Ne), Ne !== ft && Ou(f, Ee, Et, Ne) && Mo && Ml(t.removed);
      }
    }
    nt(ce.afterSanitizeAttributes, f, null), vn(f, m);
  }, Ji = function(f, m) {
    Tu(f, m), Mu(f, m), Rn(f.content) && qi(f.content);
  }, qi = function(f) {
    let m = null;
    const A = Nr(f);
    for (nt(ce.beforeSanitizeShadowDOM, f, null); m = A.nextNode(); )
      if (nt(ce.uponSanitizeShadowNode, m, null), Ji(m, f), W(m) === ke.element) {
        const I = v(m);
        Rn(I) && (Hi(I), qi(I));
      }
    ae && Wi(f), nt(ce.afterSanitizeShadowDOM, f, null);
  }, Hi = function(f) {
    const m = [{
      node: f,
      shadow: null
    }];
    for (; m.length > 0; ) {
      const A = m.pop();
      if (A.shadow) {
        qi(A.shadow);
        continue;
      }
      const I = A.node, U = W(I) === ke.element, q = F(I);
      if (q) for (let G = q.length - 1; G >= 0; --G) m.push({
        node: q[G],
        shadow: null
      });
      if (U) {
        const G = N ? N(I) : null;
        if (typeof G == "string" && we(G) === "template") {
          const Ee = I.content;
          Rn(Ee) && m.push({
            node: Ee,
            shadow: null
          });
        }
      }
      if (U) {
        const G = v(I);
        Rn(G) && m.push({
          node: null,
          shadow: G
        }, {
          node: G,
          shadow: null
        });
      }
    }
  };
  return t.sanitize = function(D) {
    let f = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : {}, m = null, A = null, I = null, U = null;
    if (Ii = !D, Ii && (D = "<!-->"), typeof D != "string" && !Jn(D) && (D = fp(D), typeof D != "string"))
      throw St("dirty is not a string, aborting");
    if (!t.isSupported) return D;
    He ? (T = en, S = Te) : Ni(f), t.removed = [];
    const q = Fi && typeof D != "string" && Jn(D);
    let G = [];
    const Ee = nn;
    if (q) {
      Cu(D);
      const ft = Z(D);
      if (typeof ft == "string") {
        const Ne = we(ft);
        if (!T[Ne] || P[Ne])
          throw Li(D), St("root node is forbidden and cannot be sanitized in-place");
      }
      if (Lr(D))
        throw Li(D), St("root node is clobbered and cannot be sanitized in-place");
      G = zi(D), nn = fs();
    } else if (Jn(D))
      m = Do("<!---->"), A = m.ownerDocument.importNode(D, !0), A.nodeType === ke.element && A.nodeName === "BODY" || A.nodeName === "HTML" ? m = A : m.appendChild(A), Hi(m);
    else {
      if (!vt && !ae && !Se && D.indexOf("<") === -1) return wn(D);
      if (m = Do(D), !m) return vt ? null : Si ? le : "";
    }
    m && We && Bt(m.firstChild);
    const Et = q ? D : m;
    try {
      q && Hi(D);
      const ft = Nr(Et);
      for (; I = ft.nextNode(); ) Ji(I, Et);
      q && Ru(D, G);
    } catch (ft) {
      throw q && (Li(D), Eo(D, G)), ft;
    } finally {
      nn = Ee;
    }
    if (q) {
      if (Eo(D, G)) throw St("a node selected for removal could not be safely returned; refusing to sanitize in place");
      return ae && Ui(D), D;
    }
    if (vt) {
      if (ae && Ui(m), tn)
        for (U = Tr.call(m.ownerDocument); m.firstChild; ) U.appendChild(m.firstChild);
      else U = m;
      return (S.shadowroot || S.shadowrootmode) && (U = Zt.call(r, U, !0)), U;
    }
    const rt = () => Se ? m.outerHTML : m.innerHTML;
    let Ve = rt();
    return ae && Fe(yp, Ve) && (Wi(m), Ve = rt()), Se && T["!doctype"] && m.ownerDocument && m.ownerDocument.doctype && m.ownerDocument.doctype.name && Fe(Rp, m.ownerDocument.doctype.name) && (Ve = "<!DOCTYPE " + m.ownerDocument.doctype.name + `>
` + Ve), wn(Ve);
  }, t.setConfig = function() {
    let D = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    Ni(D), He = !0, en = T, Te = S;
  }, t.clearConfig = function() {
    Mr = null, He = !1, en = null, Te = null, V = Me, le = "";
  }, t.isValidAttribute = function(D, f, m) {
    Mr || Ni({});
    const A = we(D), I = we(f);
    return typeof m == "string" && (Oo(f, m) || !ge && Fe(Wl, m)) ? !1 : Fo(A, I, m);
  }, t.addHook = function(D, f) {
    typeof f == "function" && Be(ce, D) && Xn(ce[D], f);
  }, t.removeHook = function(D, f) {
    if (Be(ce, D)) {
      if (f !== void 0) {
        const m = np(ce[D], f);
        return m === -1 ? void 0 : ip(ce[D], m, 1)[0];
      }
      return Ml(ce[D]);
    }
  }, t.removeHooks = function(D) {
    Be(ce, D) && (ce[D] = []);
  }, t.removeAllHooks = function() {
    ce = Jl();
  }, t;
}
var Ip = Ia();
const ql = {};
function Op(e) {
  let t = ql[e];
  if (t)
    return t;
  t = ql[e] = [];
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
function $n(e, t) {
  typeof t != "string" && (t = $n.defaultChars);
  const n = Op(t);
  return e.replace(/(%[a-f0-9]{2})+/gi, function(r) {
    let i = "";
    for (let s = 0, o = r.length; s < o; s += 3) {
      const l = parseInt(r.slice(s + 1, s + 3), 16);
      if (l < 128) {
        i += n[l];
        continue;
      }
      if ((l & 224) === 192 && s + 3 < o) {
        const c = parseInt(r.slice(s + 4, s + 6), 16);
        if ((c & 192) === 128) {
          const a = l << 6 & 1984 | c & 63;
          a < 128 ? i += "��" : i += String.fromCharCode(a), s += 3;
          continue;
        }
      }
      if ((l & 240) === 224 && s + 6 < o) {
        const c = parseInt(r.slice(s + 4, s + 6), 16), a = parseInt(r.slice(s + 7, s + 9), 16);
        if ((c & 192) === 128 && (a & 192) === 128) {
          const u = l << 12 & 61440 | c << 6 & 4032 | a & 63;
          u < 2048 || u >= 55296 && u <= 57343 ? i += "���" : i += String.fromCharCode(u), s += 6;
          continue;
        }
      }
      if ((l & 248) === 240 && s + 9 < o) {
        const c = parseInt(r.slice(s + 4, s + 6), 16), a = parseInt(r.slice(s + 7, s + 9), 16), u = parseInt(r.slice(s + 10, s + 12), 16);
        if ((c & 192) === 128 && (a & 192) === 128 && (u & 192) === 128) {
          let h = l << 18 & 1835008 | c << 12 & 258048 | a << 6 & 4032 | u & 63;
          h < 65536 || h > 1114111 ? i += "����" : (h -= 65536, i += String.fromCharCode(55296 + (h >> 10), 56320 + (h & 1023))), s += 9;
          continue;
        }
      }
      i += "�";
    }
    return i;
  });
}
$n.defaultChars = ";/?:@&=+$,#";
$n.componentChars = "";
const Hl = {};
function Mp(e) {
  let t = Hl[e];
  if (t)
    return t;
  t = Hl[e] = [];
  for (let n = 0; n < 128; n++) {
    const r = String.fromCharCode(n);
    /^[0-9a-z]$/i.test(r) ? t.push(r) : t.push("%" + ("0" + n.toString(16).toUpperCase()).slice(-2));
  }
  for (let n = 0; n < e.length; n++)
    t[e.charCodeAt(n)] = e[n];
  return t;
}
function Nt(e, t, n) {
  typeof t != "string" && (n = t, t = Nt.defaultChars), typeof n > "u" && (n = !0);
  const r = Mp(t);
  let i = "";
  for (let s = 0, o = e.length; s < o; s++) {
    const l = e.charCodeAt(s);
    if (n && l === 37 && s + 2 < o && /^[0-9a-f]{2}$/i.test(e.slice(s + 1, s + 3))) {
      i += e.slice(s, s + 3), s += 2;
      continue;
    }
    if (l < 128) {
      i += r[l];
      continue;
    }
    if (l >= 55296 && l <= 57343) {
      if (l >= 55296 && l <= 56319 && s + 1 < o) {
        const c = e.charCodeAt(s + 1);
        if (c >= 56320 && c <= 57343) {
          i += encodeURIComponent(e[s] + e[s + 1]), s++;
          continue;
        }
      }
      i += "%EF%BF%BD";
      continue;
    }
    i += encodeURIComponent(e[s]);
  }
  return i;
}
Nt.defaultChars = ";/?:@&=+$,-_.!~*'()#";
Nt.componentChars = "-_.!~*'()";
function Us(e) {
  let t = "";
  return t += e.protocol || "", t += e.slashes ? "//" : "", t += e.auth ? e.auth + "@" : "", e.hostname && e.hostname.indexOf(":") !== -1 ? t += "[" + e.hostname + "]" : t += e.hostname || "", t += e.port ? ":" + e.port : "", t += e.pathname || "", t += e.search || "", t += e.hash || "", t;
}
function hi() {
  this.protocol = null, this.slashes = null, this.auth = null, this.port = null, this.hostname = null, this.hash = null, this.search = null, this.pathname = null;
}
const Np = /^([a-z0-9.+-]+:)/i, Lp = /:[0-9]*$/, Pp = /^(\/\/?(?!\/)[^\?\s]*)(\?[^\s]*)?$/, Bp = ["<", ">", '"', "`", " ", "\r", `
`, "	"], jp = ["{", "}", "|", "\\", "^", "`"].concat(Bp), zp = ["'"].concat(jp), Vl = ["%", "/", "?", ";", "#"].concat(zp), Kl = ["/", "?", "#"], $p = 255, Gl = /^[+a-z0-9A-Z_-]{0,63}$/, Up = /^([+a-z0-9A-Z_-]{0,63})(.*)$/, Yl = {
  javascript: !0,
  "javascript:": !0
}, Xl = {
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
function Ws(e, t) {
  if (e && e instanceof hi) return e;
  const n = new hi();
  return n.parse(e, t), n;
}
hi.prototype.parse = function(e, t) {
  let n, r, i, s = e;
  if (s = s.trim(), !t && e.split("#").length === 1) {
    const a = Pp.exec(s);
    if (a)
      return this.pathname = a[1], a[2] && (this.search = a[2]), this;
  }
  let o = Np.exec(s);
  if (o && (o = o[0], n = o.toLowerCase(), this.protocol = o, s = s.substr(o.length)), (t || o || s.match(/^\/\/[^@\/]+@[^@\/]+/)) && (i = s.substr(0, 2) === "//", i && !(o && Yl[o]) && (s = s.substr(2), this.slashes = !0)), !Yl[o] && (i || o && !Xl[o])) {
    let a = -1;
    for (let p = 0; p < Kl.length; p++)
      r = s.indexOf(Kl[p]), r !== -1 && (a === -1 || r < a) && (a = r);
    let u, h;
    a === -1 ? h = s.lastIndexOf("@") : h = s.lastIndexOf("@", a), h !== -1 && (u = s.slice(0, h), s = s.slice(h + 1), this.auth = u), a = -1;
    for (let p = 0; p < Vl.length; p++)
      r = s.indexOf(Vl[p]), r !== -1 && (a === -1 || r < a) && (a = r);
    a === -1 && (a = s.length), s[a - 1] === ":" && a--;
    const y = s.slice(0, a);
    s = s.slice(a), this.parseHost(y), this.hostname = this.hostname || "";
    const _ = this.hostname[0] === "[" && this.hostname[this.hostname.length - 1] === "]";
    if (!_) {
      const p = this.hostname.split(/\./);
      for (let E = 0, F = p.length; E < F; E++) {
        const M = p[E];
        if (M && !M.match(Gl)) {
          let v = "";
          for (let w = 0, b = M.length; w < b; w++)
            M.charCodeAt(w) > 127 ? v += "x" : v += M[w];
          if (!v.match(Gl)) {
            const w = p.slice(0, E), b = p.slice(E + 1), N = M.match(Up);
            N && (w.push(N[1]), b.unshift(N[2])), b.length && (s = b.join(".") + s), this.hostname = w.join(".");
            break;
          }
        }
      }
    }
    this.hostname.length > $p && (this.hostname = ""), _ && (this.hostname = this.hostname.substr(1, this.hostname.length - 2));
  }
  const l = s.indexOf("#");
  l !== -1 && (this.hash = s.substr(l), s = s.slice(0, l));
  const c = s.indexOf("?");
  return c !== -1 && (this.search = s.substr(c), s = s.slice(0, c)), s && (this.pathname = s), Xl[n] && this.hostname && !this.pathname && (this.pathname = ""), this;
};
hi.prototype.parseHost = function(e) {
  let t = Lp.exec(e);
  t && (t = t[0], t !== ":" && (this.port = t.substr(1)), e = e.substr(0, e.length - t.length)), e && (this.hostname = e);
};
const Wp = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  decode: $n,
  encode: Nt,
  format: Us,
  parse: Ws
}, Symbol.toStringTag, { value: "Module" })), Oa = /[\0-\uD7FF\uE000-\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/, Ma = /[\0-\x1F\x7F-\x9F]/, Jp = /[\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/, oo = /[!-#%-\*,-\/:;\?@\[-\]_\{\}\xA1\xA7\xAB\xB6\xB7\xBB\xBF\u037E\u0387\u055A-\u055F\u0589\u058A\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0609\u060A\u060C\u060D\u061B\u061D-\u061F\u066A-\u066D\u06D4\u0700-\u070D\u07F7-\u07F9\u0830-\u083E\u085E\u0964\u0965\u0970\u09FD\u0A76\u0AF0\u0C77\u0C84\u0DF4\u0E4F\u0E5A\u0E5B\u0F04-\u0F12\u0F14\u0F3A-\u0F3D\u0F85\u0FD0-\u0FD4\u0FD9\u0FDA\u104A-\u104F\u10FB\u1360-\u1368\u1400\u166E\u169B\u169C\u16EB-\u16ED\u1735\u1736\u17D4-\u17D6\u17D8-\u17DA\u1800-\u180A\u1944\u1945\u1A1E\u1A1F\u1AA0-\u1AA6\u1AA8-\u1AAD\u1B4E\u1B4F\u1B5A-\u1B60\u1B7D-\u1B7F\u1BFC-\u1BFF\u1C3B-\u1C3F\u1C7E\u1C7F\u1CC0-\u1CC7\u1CD3\u2010-\u2027\u2030-\u2043\u2045-\u2051\u2053-\u205E\u207D\u207E\u208D\u208E\u2308-\u230B\u2329\u232A\u2768-\u2775\u27C5\u27C6\u27E6-\u27EF\u2983-\u2998\u29D8-\u29DB\u29FC\u29FD\u2CF9-\u2CFC\u2CFE\u2CFF\u2D70\u2E00-\u2E2E\u2E30-\u2E4F\u2E52-\u2E5D\u3001-\u3003\u3008-\u3011\u3014-\u301F\u3030\u303D\u30A0\u30FB\uA4FE\uA4FF\uA60D-\uA60F\uA673\uA67E\uA6F2-\uA6F7\uA874-\uA877\uA8CE\uA8CF\uA8F8-\uA8FA\uA8FC\uA92E\uA92F\uA95F\uA9C1-\uA9CD\uA9DE\uA9DF\uAA5C-\uAA5F\uAADE\uAADF\uAAF0\uAAF1\uABEB\uFD3E\uFD3F\uFE10-\uFE19\uFE30-\uFE52\uFE54-\uFE61\uFE63\uFE68\uFE6A\uFE6B\uFF01-\uFF03\uFF05-\uFF0A\uFF0C-\uFF0F\uFF1A\uFF1B\uFF1F\uFF20\uFF3B-\uFF3D\uFF3F\uFF5B\uFF5D\uFF5F-\uFF65]|\uD800[\uDD00-\uDD02\uDF9F\uDFD0]|\uD801\uDD6F|\uD802[\uDC57\uDD1F\uDD3F\uDE50-\uDE58\uDE7F\uDEF0-\uDEF6\uDF39-\uDF3F\uDF99-\uDF9C]|\uD803[\uDD6E\uDEAD\uDED0\uDF55-\uDF59\uDF86-\uDF89]|\uD804[\uDC47-\uDC4D\uDCBB\uDCBC\uDCBE-\uDCC1\uDD40-\uDD43\uDD74\uDD75\uDDC5-\uDDC8\uDDCD\uDDDB\uDDDD-\uDDDF\uDE38-\uDE3D\uDEA9\uDFD4\uDFD5\uDFD7\uDFD8]|\uD805[\uDC4B-\uDC4F\uDC5A\uDC5B\uDC5D\uDCC6\uDDC1-\uDDD7\uDE41-\uDE43\uDE60-\uDE6C\uDEB9\uDF3C-\uDF3E]|\uD806[\uDC3B\uDD44-\uDD46\uDDE2\uDE3F-\uDE46\uDE9A-\uDE9C\uDE9E-\uDEA2\uDF00-\uDF09\uDFE1]|\uD807[\uDC41-\uDC45\uDC70\uDC71\uDEF7\uDEF8\uDF43-\uDF4F\uDFFF]|\uD809[\uDC70-\uDC74]|\uD80B[\uDFF1\uDFF2]|\uD81A[\uDE6E\uDE6F\uDEF5\uDF37-\uDF3B\uDF44]|\uD81B[\uDD6D-\uDD6F\uDE97-\uDE9A\uDFE2]|\uD82F\uDC9F|\uD836[\uDE87-\uDE8B]|\uD839\uDDFF|\uD83A[\uDD5E\uDD5F]/, Na = /[\$\+<->\^`\|~\xA2-\xA6\xA8\xA9\xAC\xAE-\xB1\xB4\xB8\xD7\xF7\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02EB\u02ED\u02EF-\u02FF\u0375\u0384\u0385\u03F6\u0482\u058D-\u058F\u0606-\u0608\u060B\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6\u07FE\u07FF\u0888\u09F2\u09F3\u09FA\u09FB\u0AF1\u0B70\u0BF3-\u0BFA\u0C7F\u0D4F\u0D79\u0E3F\u0F01-\u0F03\u0F13\u0F15-\u0F17\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8\u109E\u109F\u1390-\u1399\u166D\u17DB\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u1FBD\u1FBF-\u1FC1\u1FCD-\u1FCF\u1FDD-\u1FDF\u1FED-\u1FEF\u1FFD\u1FFE\u2044\u2052\u207A-\u207C\u208A-\u208C\u20A0-\u20C1\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u2140-\u2144\u214A-\u214D\u214F\u218A\u218B\u2190-\u2307\u230C-\u2328\u232B-\u2429\u2440-\u244A\u249C-\u24E9\u2500-\u2767\u2794-\u27C4\u27C7-\u27E5\u27F0-\u2982\u2999-\u29D7\u29DC-\u29FB\u29FE-\u2B73\u2B76-\u2BFF\u2CE5-\u2CEA\u2E50\u2E51\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u2FF0-\u2FFF\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u309B\u309C\u3190\u3191\u3196-\u319F\u31C0-\u31E5\u31EF\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0\u32C0-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA700-\uA716\uA720\uA721\uA789\uA78A\uA828-\uA82B\uA836-\uA839\uAA77-\uAA79\uAB5B\uAB6A\uAB6B\uFB29\uFBB2-\uFBD2\uFD40-\uFD4F\uFD90\uFD91\uFDC8-\uFDCF\uFDFC-\uFDFF\uFE62\uFE64-\uFE66\uFE69\uFF04\uFF0B\uFF1C-\uFF1E\uFF3E\uFF40\uFF5C\uFF5E\uFFE0-\uFFE6\uFFE8-\uFFEE\uFFFC\uFFFD]|\uD800[\uDD37-\uDD3F\uDD79-\uDD89\uDD8C-\uDD8E\uDD90-\uDD9C\uDDA0\uDDD0-\uDDFC]|\uD802[\uDC77\uDC78\uDEC8]|\uD803[\uDD8E\uDD8F\uDED1-\uDED8]|\uD805\uDF3F|\uD807[\uDFD5-\uDFF1]|\uD81A[\uDF3C-\uDF3F\uDF45]|\uD82F\uDC9C|\uD833[\uDC00-\uDCEF\uDCFA-\uDCFC\uDD00-\uDEB3\uDEBA-\uDED0\uDEE0-\uDEF0\uDF50-\uDFC3]|\uD834[\uDC00-\uDCF5\uDD00-\uDD26\uDD29-\uDD64\uDD6A-\uDD6C\uDD83\uDD84\uDD8C-\uDDA9\uDDAE-\uDDEA\uDE00-\uDE41\uDE45\uDF00-\uDF56]|\uD835[\uDEC1\uDEDB\uDEFB\uDF15\uDF35\uDF4F\uDF6F\uDF89\uDFA9\uDFC3]|\uD836[\uDC00-\uDDFF\uDE37-\uDE3A\uDE6D-\uDE74\uDE76-\uDE83\uDE85\uDE86]|\uD838[\uDD4F\uDEFF]|\uD83B[\uDCAC\uDCB0\uDD2E\uDEF0\uDEF1]|\uD83C[\uDC00-\uDC2B\uDC30-\uDC93\uDCA0-\uDCAE\uDCB1-\uDCBF\uDCC1-\uDCCF\uDCD1-\uDCF5\uDD0D-\uDDAD\uDDE6-\uDE02\uDE10-\uDE3B\uDE40-\uDE48\uDE50\uDE51\uDE60-\uDE65\uDF00-\uDFFF]|\uD83D[\uDC00-\uDED8\uDEDC-\uDEEC\uDEF0-\uDEFC\uDF00-\uDFD9\uDFE0-\uDFEB\uDFF0]|\uD83E[\uDC00-\uDC0B\uDC10-\uDC47\uDC50-\uDC59\uDC60-\uDC87\uDC90-\uDCAD\uDCB0-\uDCBB\uDCC0\uDCC1\uDCD0-\uDCD8\uDD00-\uDE57\uDE60-\uDE6D\uDE70-\uDE7C\uDE80-\uDE8A\uDE8E-\uDEC6\uDEC8\uDECD-\uDEDC\uDEDF-\uDEEA\uDEEF-\uDEF8\uDF00-\uDF92\uDF94-\uDFEF\uDFFA]/, La = /[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/, qp = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  Any: Oa,
  Cc: Ma,
  Cf: Jp,
  P: oo,
  S: Na,
  Z: La
}, Symbol.toStringTag, { value: "Module" })), Hp = [
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
function Vp(e) {
  return e === 0 || e >= 55296 && e <= 57343 || e > 1114111;
}
function Kp(e) {
  return Vp(e) ? 65533 : e >= 128 && e <= 159 && Hp[e - 128] || e;
}
function Gp(e) {
  return e - 1 >>> 0 < 127 || e - 160 >>> 0 < 55136 ? String.fromCharCode(e) : String.fromCodePoint(Kp(e));
}
const it = /* @__PURE__ */ (() => {
  const e = new Uint8Array(127);
  let t = 0;
  for (let n = 33; n <= 126; n++)
    n !== 34 && n !== 36 && n !== 92 && (e[n] = t++);
  return e;
})();
function Yp(e, t, n, r, i, s) {
  const l = e.length, c = s * 90;
  let a = 0;
  const u = () => {
    const Q = it[e.charCodeAt(a++)];
    return Q < s ? Q : Q * 91 - c + it[e.charCodeAt(a++)];
  }, h = n - r, y = n + i, _ = new Int32Array(y);
  _.fill(-1, r, s), _.fill(-1, s + h, y);
  const p = new Int32Array(y), E = new Int32Array(y);
  function F(Q, se) {
    let V = 0, le = se;
    const Me = se + Q;
    for (; le < Me; ) {
      const De = it[e.charCodeAt(a++)];
      if (De < 89)
        V += De, _[le++] = V;
      else if (De === 89) {
        let ye = it[e.charCodeAt(a++)] + 2;
        for (; ye--; )
          _[le++] = ++V;
      } else {
        const ye = it[e.charCodeAt(a++)];
        V += 89 + // eslint-disable-next-line unicorn/prefer-minimal-ternary -- branches read a different number of side-effecting input bytes
        (ye < 90 ? ye * 91 + it[e.charCodeAt(a++)] : it[e.charCodeAt(a++)] * 8281 + it[e.charCodeAt(a++)] * 91 + it[e.charCodeAt(a++)]), _[le++] = V;
      }
    }
  }
  F(r, 0), F(h, s);
  const M = new Int32Array(i * 2);
  let v = 0, w = 0;
  function b(Q, se) {
    for (let V = 0; V < Q; V++) {
      const le = se + V, Me = u(), De = u();
      M[w * 2] = Me, M[w * 2 + 1] = De, w += 1, p[le] = v;
      const ye = (_[Me] < 0 ? E[Me] : 1) + (_[De] < 0 ? E[De] : 1);
      E[le] = ye, v += ye;
    }
  }
  b(i - s + r, s + h), b(s - r, r);
  const N = new Uint16Array(v);
  let j = 0;
  for (let Q = 0; Q < w; Q++)
    for (let se = 0; se < 2; se++) {
      const V = M[Q * 2 + se], le = _[V];
      if (le < 0) {
        let Me = p[V];
        const De = Me + E[V];
        for (; Me < De; )
          N[j++] = N[Me++];
      } else
        N[j++] = le;
    }
  const W = new Uint16Array(t);
  let Z = 0;
  for (; a < l; ) {
    let Q = it[e.charCodeAt(a++)];
    Q >= s && (Q = Q * 91 - c + it[e.charCodeAt(a++)]);
    const se = _[Q];
    if (se < 0) {
      let V = p[Q];
      const le = V + E[Q];
      for (; V < le; )
        W[Z++] = N[V++];
    } else
      W[Z++] = se;
  }
  return W;
}
const Xp = /* @__PURE__ */ Yp("!}.&u%}'&}*'~!6*)%&,~!J~!J~%L~y<~!R,~~%Lu~~#GD~~#|)1#%}^%}2%+#.##%##%}&%##%'#%##&%#%#'%#&#%#&#'#%%#&#%##%#)%''%&%#%#'%#%%#%%}%%%#%#&(23#%%#&-%0%('1#(##%#'##+%'*.:1}#%#6-+(%'%%#%%%}#L'2351&('%}&/N'(0(/*-%(%%}#'+&T%7.2}#&%&#%#36/5##%&%%#&#%%#))2%%##%&&'0~!#*+&'%1~!%).'3q?&%'1~!.##%6(~!+%%%(Gw'rT~!E#<nA%#jZ~!H%(~!42##~!*31&~!G%U~#)5~#`3~!J~!Z~%]~%Y~%C~!q~!u~#kz~%#~!6'~!D~!U~!?~#T~!c%~!G#'~%7|~!G~!J~!G&~#pb~(Df}#%}*&}#%##%##%##&#-}&'#'&%#.++}%mI,#,@&(}*%}*'%&##&#%##%}&0}#.},U},%}+%}&%}#%##&}B%(}(%}+%)})%##%#&}&%##%&}<%}>%#%&}*%}(%}9%}/%})%}*%}*%}?&}&%}3%}&*#%})%#%#)}#&#-#+*%E%%'%'#%}#*V##&##I}#&&##%&%#&&Qf%%))w/0+&%#(#.%-''''++++7}>%4'',##1,#%#&%##&#'##&#*#9)%&%}#*}%,#+P(%A&%#'&##wSD',9E00#y#@}(+}&%&>~!#~!X}#*}(&&}(&}(,%}%&#+&}#&}I%#%}%)#(},'%#*}4%%#%}(''}#/##(##),%-##%%)#&}(.}&%#&}%%}*&#%},&&}&%}#%*'#%})%}D&}&%}-&}6&#&}-,%}#%})-(~+`~,=?~I9'9%~!,#%})%})%}@%}?%}(~!?~#<~#pP~#BG~#=1#%K+~#?#~%;)~#A~#mF1~#A'~'X%'~#lR~#N~'N~#r~#m#-~#i'?%#'%~#B%##%,%#~#_%#0%~#]732~,w~2+#:&#%&'0%&>%}#>##F+)#%&&#(+_}4&}-%}(&}@&}O7Fdf0@+/v4}&WU##&/0#&'('B#%}.%}'+#%}#%%&#&%#%##+#&#)#6#'#.},%}c%},%#%##%&#&%#&~#>'*-.%##%##%}#%%}%'~#)D1}#%*&~#_%%'(~#S2%'.}#~#=##*'*-%}&'%'##&&~'E%.#&~#M4}%%##&'%#~#O1##%&#'+~#<B%##%%'%+~#;#@%}#&%#&&%#(~#H1}'%'##&&~#?A}&'~#D#%32}'&&&&~#[}'(#%}'~#;C})&}%%#%~#=&%,3}%'(#%%~#^'#&&)#%'~#Y%-~#d-%'~#^%%&#&&&}#~#b~2t*&'~&(~&@~0%~e~3}%*''0})&}+~!9##-}#%-hD*)1fC#%/&/fB#40~!+#)*4~!+~!K'&:~!/*7~!.#~!H~!L':~%x&~!H#~!*~%1~!I#~!+A~#p'~!F~~#-#~,,(~.Z~!V~%;'B'mq-W~!N~%I%#&&#&}#%},%%}'%}+X#%}#&}(%}'%}<%}#%}%%'}'%}:~![)9@~%>~#UA%-%##&~!C%~!-.9:~!1~!-^2/:a~!y,D*J#-5)/4~%23,~#G~!L1~!0X3`~!2+~!!0-~&E~!W~!o,>Y&]~%cZx_&~#O*9#A#'#+I'%#)~!0B*-5A+-((F&*M#)(-7-5+'-3a5Vi~!Y~!?+[)%3),ERHm~!+:D,VG.+)?fB%%*(%)'(#&80%1'8`K8?`+'Z#&O&'H5#*9)A%%5&3))0%39+.*7#()&&*=4@**L)<'_&*+..;(#*+)./&0#3)%')-8(4ixD(&.}%,('aI:,)%,k2231T)I'#/-W7,/'Q#.'Y24+h')37</31&83##&0#),H(?'&?/1##%#&&#%''-%&&&#(&''&#.-'%#%%(,')*'&#&#'##%(%(#%('#&##%%%%('%#%#%%#%#&%##h>w+v<ayvyvcg.uuhKr}g/v|g>u9i[~>g5uI~=RvdwEg;v/g;uk!!TTSx]@RT!U!#!@VBRUU!'UTe-d0c`e&gSdicedFcrdTaqb.kYcAohdYd@a3e+d}dMdtd.aJ#bqcK`dle/e.e'dwdPdodddjbEb}ogd^ofdpduc6j?l%d{drdqc)d7bacOdQ%T#Y)X.sR[yH>6Vyv3[xwLu>vo'!*.[yBacahoj>6Rew3[xqdZa#!a&#^(X-[yG>6Vyu3[xvg3sEr|g.u/Ri9db0T#^(Xa)!-[y;>6Vylg4wKs{JwNZt3@3r=c4Z([xlg;wKt!cpq's@v7A'*a(a+!-a#[y<3Dt?3Dt'>6Vym3[xmg9rxsNJwLZt4~?r?db1T#`-!(Xa,!0[yS>6Vz%NuQs.g4wKtnJwNZtS@3r>c4Z([y%g;wKtrdga8!a(!#&T*Y-Xa#!a0<or[yc3Dtq>6Vz43[y3JwNZtf@3s!Ju}!%Dti:pm3c_%X#tjB5pkd6q!r]u?voC'*-a.a2!0a&a+[yI3DtI3Ds~3DtH>6Vyw3[xx;:s#~<5pKJwNZtE@3r~d`a)!a2T#a.(!+U.X1[yT3Dt`3Dtv>6Vz&3[y&g9rxwzcxstPu.<rAJwLZtT~?r@dZa%!a.&^*Za(/Reu[ya>6Vz23[y1g3sEr}wkg{NuQRg{ci(U#5@b`~,cg#U(2WnH5wugcRh7dX#T(Y,a'Ta!!a,[yZ<]mj>6Vz,3[y+Pv#5ReZKu+=,%!H}7ABwkaS?Rh:BcW(X#<]mrj:ubv/ARekdg%!(!a.*Ta(Y.X1!#sP>Rl*Dt6[y>>6Vyo3Wf*jOvuumvuRgRJuq*!:9<B@bX~3jVv&v@s@5Re[d/rQt{uAvo&a&a*)a2!,0Wf!3Dt0=Bs'>6Re}3[xy~<5s%JwJZt1~Gs)c;&!#2sJkNuXvzq7rxu,Re8dka4!a8(aEZ+a@Y.X1Xa)[yd=Bs(3DtP>6Vz53[y4cX#X&Re:avRe9~<5s&JwJZtQ~Gs*i^rzvdRg+Jv{%!2sbB@bX}kdga,!Za?&^*T1/!a'Dt+[y6>6Vyf3Wf%g/u;s4hGu6?Rh-JvZ,!c%#&RoX54Rivj7uyvf8RgTKvZB%*!2sGh<vu5Rgq<=C::9bb~#dZ#T&Ta6Y.X*Dt>[y93Wf)coZ(T,6VyifluvRgC@95@B@bX~/hFu34cC#T,k/unq8w8Q5RkUklwQuzunq8w8Q5Rk8d/rJu?v8w9)-&!a0a;a&aIWejg3sEr/h1s<DtDJvyZqY5aws3Jvy!&Wei~Hr1:au5@Bag>23E~5c:Z&bX};kKv?w&unuVu5Rjc;>bs)#~@:Rh.=ay<a]C;b`}Vd6s/t{uAvoaxa()!a,a7%-a#a2Dt,[yF2Wo[>6Vyt3[xuNuPRi&NuPwpi#RoWh?vf8Ri%Jv]!%Ri:KvxD!.'2WeAjZu`q9rxu,Re7woeAg-unLq(qA_/*2Wg_g3u5q^9:4E}/jTrxrzv=Wkkd~0UX#^^Xa-a1a5T&a=U1a'*aEa]!a*aPaA-adok[y54Rn>;:p3~Dp5g9rpsFNvZqjg3uJp4~<5p0Pw;5qlJwNZt*@3p1Pw:5p/Ou!5p2JvG'!6Vye=<qnJvh_[xhg3v,Rh3kOwOw-sDuev/Re^dha[a%!%!a+#Ta7)-5TaCaO!aka!a)sf[yb2>Rl!9ARiq5E}Qg=ucRkBE|oJrJ_@Wk~@Wk{JrJ_@Wk|@WkyJrJ_@Wk}@WkzJvO_[y2g-vMRmiKuYC!)&>Ri;>Ri<@3RkNc](X#@9Rk=g5vuRmhKvDB!+'=]meg3u4Rmgd)#Y'Vz3CARmfd`a+!%T'!+#Ta1Ta6TaM-sTDt9[yA9sYd'%Y#s[[xpj:ueunaXRgEjRq,v-vuqdd2'`#6Rev<32@5>:2<E}5xIo9a*X#Y(;5RePJvD_g>vyRgNj8w)v8<wggs:RgXiZt|vjx,hSq3ah!-(~@:Ro/Ou!5RhWj^v(pyw8unRhUdx-UY#^Ua.a3a70!)%UX1TaDa)'omRiRRhE[y:3Dsz=Br,>6Vyj3[xkg6ruwjcqsrPw;5r*Ku]D'Zt-@3r(~?r.i[vwv]dU1a--U#`a4(g/vsRhPOu!5RhLj:rmu9Wo!~@:wdh@g/vsRiTjXuvvNr}:RhBj^v(pyw8unRn]dz1UYa'a+^Y(!aETZalaRY.Ta?a4[yDJw1!#qLsW>6Vyrfzq-pLflpwRe|Js>%!Dt@3Dt&Jvy_[xs~HrnjMuwpsw'RecKu+D#'!t<~Grl~?rjg5u-x,gwp{ah!-(~@:Rg~Ou!5Rh'jXuvvNr}:Rh#cW#X/c;&!#2sLi[v7u7RgpJv)(!iLrxu,Re6j7v@s@5Se[e7d`aW!Za(a`T.a#!a3!&aDa-!9)Dt_=6s+3[x~~DR|h~DS6avhGun5RkZj3w)v-]mkKunB!&*]kb97R|i<ARk<c:Z(6Vy}Juh'!wziMRoS:F|vkLuauJv5vtvQRh1d='T+Y#VyO~DR|jcF#T'7R|g97R|kJv3'!ay<Rj,Jvh&!:ReXcsa6*a+#a#_aIRf9aLRf?c,Z&Rf5Rf7c.Z&Rf;Rf>cQ#%T'p-Rf8Rf=ct#%'(*!,p,Rf4p+Rf6Rf:Rf<d~'Ua%U*^UYa(!a,-!#a4YaTalaEX0a8a<Weo3Dt/3Dsx=Br93Wen~Dr;~<5p<JwNZt2@3p=Pw:5p;Ou!5r3c7&!#:p>3Ds}KvGB)_6Vyk2sM=<r7x'eovA(!hFu1ARf}cV#X&@r5j6rvwQa^Rf3c=Za'wkghJv__g;unRggA53B9=b^}%j6uduo5Jq;!(hIv%2Re`Ou4ARe_e%a#^^^Xa&!a*a2!&a6YaP!*ad!#a:aE/5Rn?[y@>6Vyp;:pE~DrY~<5pBJwNZt8@3pCh=rt3rWPw:5pAJup_[xoNuPpF9c!#'45pD5ARn)d8#X'X*3@rU72s]h>v<<sSjJpqvewOJq/(!hNw'5ReBk0s2u3w/w'5ReE5@Jq.!a+JQ!&WeU23d(#Y&RjG5]jBk!u7w&u0udARjEe#+^^^Ub#!a2/a`Z(agT1!a-a;|@TaG!aS[yV=Re~fow'RguNuPRe?bz#'>RoUWeL>:Cbb|?JwPZtVg6ruRmzJvD'!6Vz(g/vmRh~Jvy_[y(g9voRgyx*cy(#2>Ri2B9b]~9kIw9u7rluJu3Rg]dI#a%UY'@=p%CAx.gQZ&RhwwygtRm{x5g_Z'+ABqR9Woa=Bp&dV#^*Xa'!&@o{g4v]Rk;Jv{!%Rk[wkkiA5RkiwwfUB=x,fUuqC&*!>RfTg8v0RfV~ARfSd;rJsAuAv9wR'ae+/aO!a@aza/a#[yQ@Wg!2Wemg3sEr0JvB_g>uvReWg2v+Re=KupB_+[y!2AbY~-~Hr2AJwD!(h<~El>h<~El?Kun@+_:9b`}Kg-v/Ri3g;vtwyk_9]k_d=&T#*U.6qh@Ab`|K9:H|CJv[!&3Dtex'fDwC%!Rf[9WlMd[(^X,!a%Z06Vz!@WgBg=v~Rgvg,QRe@awd,#Y+jTv|Q~EfWj]uNr|~FRfXdy#Y&^Ua%!aO.!(a)Ua;=!a@aKap!a-,a!Ta]a[rSa]p?[y82sK=Bq~;:p:~<5p8Pw:5p7d'#Y'Wf(;RnRi[u4w&RgJJvG'!6Vyh=<r#ijuuv/sIKuYD'ZtG@3p9~Gr&d2#`(g<vtRgFj`u5w&rqpxRf2CJuY!+:wfnTOu!5Rg}jNs1ucv&RfwJvA!&3@q|BDcC#T,k/unq8w8Q5RkTklwQuzunq8w8Q5Rk9dga#!a'!a=#a0!:+Tb*b@aO.a4!aba8aFJv^}?!VyR~Dr<g;u%Rn.~<5p[x'e`wNZtR@3p]Pw:5pZhNvjBp.woe_g5u-r4JwF!%DtO3:ooc7&!#:p^3DtpLuGw(!+%)Dtk6Vz#2sd=<r8d'#Y([y#<x3gJt`w@!)%}MRiowzikRij=]ilxAf3,U(#B2Rf#g0v-Rm[ck{`U#]giKv3>)!&6Ri154s,KuGB_%@r68r:dJ|t`#X(9<E|u2@H|rx3gJu?w'!+'1Nu7Reg4=H~+9<wxgY95Rm]xLggZ-`(X}U2:Ri4h<uOawRmsJv__5@bb{jbV~3dka#a'a]!,#a+U=a>b6a3b%!/aKa/)!arwve^VyJ;:pR~DpTg3uJpS~<5pOPw;5qmPw:5pNOu!5pQJvG'!6Vyx=<qoJvA!{~Jup!%@qk7Rn/KvyD!}''[xz;>wkh'?Rh,x8gyt`w5D!&),(SgyccRgztJ@3pPB5p#d'(Y#<]mmifubw&RgoJvE&!82s^JvF&!8Rf,ADb]~;x=h'rNu]vK!,%'*0RnORh)4Rh*AqQg-vaRnNg;wHwkh'ba~4cE#Ta*x3gctyw@'!+%RnFRnD<4Rn@hFvK5RnCxWg[#`&a0Ua()`1Rm75Rg[c]%X#qi8Rg^NvdRj>BwzgZauwji7Rm6A4wgg]d1#&(*,.0a#Rm;Rm<Rm=Rm>Rm?Rm@RmARmBe%#^^^Xaea?aC/b+(,!a+a#!a/!>a&Ta<aKbD!2wphBRnk[yPw}hE|.=Br-3Dtm>6Vy~g6urRf.x,hPrNav!%'RnqRo%Ro#Nu;q[Pw;5r+JwNZtM@3r)d'#Y'Weh;xChL#`&RnmRnoKu}>%(!Rne~Bs-;2wjcussJv+'!aYSO}6@B<5?ba~8LrNvj!.%*ROwungw~ng~:9;Ri^>wtnig;wHRnixDh@|(UZ.x1h@|)!#:2<H|*xHn]#-UX'3Ro)z=iT}6ARns=Bwsn_wpnaRncw]aR(#UXa&Ua*a/=]iPd'#Y&Ro'WnXf{QRm2hNvj]nZd`'T~&1`{|`#9b]{}c:'!#Wl{>@=be}]?cl{{U#:5Abb}Jds#^YaF!a*b4a#a3aPa>&Tb!bH!*a_!Eau?/a&RjY<]gj>6Vz*;:pe~DrZg,QRj1JwNZtX@wihspcJvZ&!VyX9WmOJu|!|N2WmHJvh&!]ht~Bpbcn&T(!#RmQ<s7Nu;padH#X'`+WmJ@>RmKCARhnKup=!)&Wf+:RhqNuPpf9c!#'45pd5AwghpARn(Ls@w!%,)!RmP@Wfe<E|IJva!&WmNg8vsRmLd`*.`#Y'Xa!axRn*]hrA8Rhug5s@rXg8u!RmMd8#X'X*3@rV72smdI*#UY&RmICARho~GsgxVgd)Ta'U-Y&Xa!T#RnEWnA@Wffg1uDRi0hFvK5RnBxGnG&#`%owp)@wsf+bX}Ze-*1!a*^^^Ua|!#a.aq&Ya2!a>.a6!a:aO`aJDtL[y`@Wg#>6Vz12@wzoYRoZNuPRi!NuPRhzg=ucRi,@=b`{Yg=ucRi-ACJvB!&Sh[ebSh]ebi`wUuFRm4Jw2_[y0JvB!.<Ju(!&SoG}6Shd}6<Ju(!&SoH}6She}6Kur@._g5vHRieJvx!{L2G{Kx6gd'T#?Rh82Wi5cZ#X(g1w)Rm5dW-Y(Ta#!a)!#aYa=wnfE=su2>>bU{0j9udv:<svj8uQv-7RgHdE%#^'sq9sp=>Bb_{TJv`!&g/r|snj6v(us5d,#Y(56H}[978H}]Jw5!&g1rushJvB!+j;v{u5?zDhd}6}bj;v{u5?zDhe}6}ce*#`(^^^a[aea!=!a6a*aoXb1a.!aAbL!b>,b'aL!aV@Wf|2Wlg3[y/JwNZt^@3piPw:5pgJunZou3@rsJva&!Vy_g<v~Rm#JvG'!6Vz0=<r{Ju{%!:pj@WfsiXuJu3Rm:JvZ&!WfA~Bph@c4Z&Dtwax5rubx(#:awRk1@d,#Y&RfjRfid1#,Y(@Wfp2Wlrg5s@ryKu[@!,'=]ig9wlk?Rk>g5u-rqJvy'!@9RkQcH(T#=>Ri~@<wkj(Wj(KuZB*!&<7rw@9RkRcH(T#=>Ri}@<wkj)Wj)dg(Ta2Xa9X#`-!a*CARhg@@=I}d9x;c~#X%so=<sj>2@@=aybb}XjWv0Q~EfEj3vLv;<d,#Y(56H}`978H}_dgaPaFa'a/!#a3Y0a_a;a|!1(a7-[yE3[xt;:pJNvZrrg3uJrvJwNZt=@3pIh=rt3rxPw:5pGOu!5rpJvG'!6Vys=<rz@c4Z&Dt(ax5rtJvZ!&~BpH@wsfNg-vaRlNci*U#=<wei<F}a5@Jq.!a*JQ!%@qZ23d(#Y&RjH5]jCk!u7w&u0udARjFd/prq=tyvpaEa(a:.!a1aZ(@@=I}:9wpd%=<sX55w_h}@@=I{t=ay<aU@@=I}T=ay<2@@=I})?C9:9au@9Cb]}DP~=x-fAZ(2Wl1=ay<aU@@=I}>5@d##Y+jTv|vV~EfFj]uNpn~FRfGdgaK!Z2&!a8a-Tb({E!acTbM*!a(DtY[yYd'%Y#sl[y*hHvh>Re5x2c{Z}.j4uCvcawRiMd+#X+_x&d!},<5RkX;2Hzw@x,gavfB-!{CcF&T#Roe;RodwWbBg5urRgaKvHC*_6Vz+<4opieuew&Rmq@d]&Y)X,T#X0Rh}<BqP=4qS9:ReMg/ujReNJw0!/<Jui%!bd{kawwnemRelAxUa?a3#*.&UX(Ya+a/RhvRnQ<o}9Wmtd-#Y&RgSRmw9;Rmxay=Rmyg-vaRmuxEhSrNu,v-voC!%(aR.a(a7+1Ro1>Ro5CE{A9b]{@;5x#eO{:g;urRi+KrNA!%(Ro3>Ro79;Ri_Ku@>{;&!x%gX|{KunA_+g5QRj/g3u5Rj#g>uERj%wio/xRhS&!,!#^1U}wba{8>>@=be}qC@:D5ba{7Ku+A&!}x?ba}t>>@=be}se(aA^^^Uat!b0#{pa+awUazbGa#aLb9bgaWac'a5TbS=Br!d1#`%scp_Jvl!#rT>Re0JvX&!VyN=H{Fcm#U&:pY=ReaJv2&!]h0=]nUJvG'!6Vy|=<r%JrM_=]h2@Wlud'#)U'Wf'b]{i=]h/Jvh!&~BpWg=v]RnMx+ny#'Nu;pVwjnu=]nwxJnx,T#`&Reqwjnt=]nvieu9vrRjLLuYwP(#+!th@wih5pX~Gr'g5v/Rh4KunA'!-CARnP@wwiN:Rm_9x'cvw>!|l=<saKvAA!0&3@q}>w^e1bp#&Re2Re3BDx7gH#T|f5H|eKuZ>!%(:qNAH{]Jv6!+3B2B9=b^{X<5<B92:E{ZLvhwA(a;a%!igQuyRmad+#Y}m@3Rh5d8#X'X*:AqUAHzmaxwbh<aXRnVcF}RT#Nw&cj#U(BWnug/vsRntdka)(a3+.Zb7aYYan1!bVa@Xa}[y^@b[{G=H{+hFu73Rj&Pv#5ReQcK%T#sig1v{Rj'Ku+D#'!t]~Grm~?rkKuMB!01d5#`'Vy.ta3Dtu~Hroc8#'{^45s85AwZbP&!#Rn!wghxWn#KvEA!)&2RlA2RlBx:h|#(T,=]j09Wobz>x]z/@awRoTd+#Y(az]hFhCrm4d,#Y+jTv|Q~EfMj]uNr|~FRfOdCa!Xa9_X#@<plJvf!%b`{(9;Rgwc;.!#2x7cw#T|UDb]|T5Ju={(!=@E{&Jv)&!Ab`{'awJvf!~*>>@=be{#KuY>!+&4Ezyi[ugv&RjIdea+T)#UXa&T-T&a!Rh9auRmW=]kLg5vuRn+g3u4Rn-Ow6ARn,hHus5xNk?#UX(U~)/g8v0RkD~AwkkF?Ri.OuNBwkkA?Ri/d|a2`a*^UYa.!aBTZaTa'Xa;!(!2!-a#b2[yC>6Vyq3[xr2Wi?g1rusVh%s?DtF~<5rbJs;%!DtBfswKtCj[uvuSsEu3RgVx3o:u+wN'*Zt;@3rd~Grh~?rfg8w)Lq)qE&-a%!>bI|`jWv0vV~EfCjTv|vV~Ef@j]uNpn~FRfBcK#T']gWNu7x,k7q4ai(0!hHv8<RhmkMu9vrsBuev/RhlCJvB!,g<v{wchh~@:Rhji[vrv{wchi~@:RhkdS&a5UY#Ta!RgPwwiI5BwciI~@:Rh`x'iJvj'!5]iJPu8Bwch]~@:Rhach)U#h3rp]gLh@t|Ax,hTq3ah!-(~@:Ro0Ou!5RhXj^v(pyw8unRhVd|)`,^UYas!a?/a2Z'a^Ta{Tb7Ta(a#!a,Wf&9sZ3DtAadamov=Bqt3[xig8vsRm~>waiL2b`{QJv*_Ouv2qgj<v]v2BqfdR'X*X#Y-@3qr~Gqv~?p6hHv-]glPup5Lq+q?_%*b_{qF{n9b^{rOu4ARhpKvCD!+&~Bqp:5Dbb}nwoiKl&unuTuBv]v+ueunaXRf0=Jvh!0nKufu8v1w&w7q%w&uHrz:Rgnj5w,uxDJq/(!hNw'5ReCk0s2u3w/w'5ReFd>Za&!*UaA=<wkgsRnSJv^!%Refifw3vyRgOKu_B'!,<]gkiiu:w&Rh<=C@a^<B57@2F{[<B5@aW:=3away9A5aW=<B=C@a^<B57@2F{Ie-#`(^^^bCara.b8aza6!/bZ,!adTbnTbOb+aFaS!aAT9@Wf~2Wli3Dtl2@d,#Y&RfnRfmJwJZtN~GqyJva&!VyMg<v~Rm%iXuJu3Rm9Jv[_=]ih9wlkDRkCd1#`(@Wg>2Wls3cH#T(@<Rj*=>Ri|b~'#23s9h<~El.d'#Y&Dtxi^rzvdRl#d*#U%(o|B2s`hJwSaxRmDKv4B&!1:Rmdd5#`'Vx}to~Hq{x'f1v3(!BA5ba|bJv_&!Wfug1v]ReIdO+U/Y#&G}-8wze=Rh{g1v]ReHg/uQRf/by#)ibQwERl/cH#T(@<Rj+=>Ri{cNu+vlax-!(#a0qa9<Rii2;;bU{H;x<i=&X#Rk`<4wwi=C9H~8xAI(Y#<azRi@45wXI<B9;5bb~7dL(X#Xa(+!aL6Vy{g5QqOau:5au2@ay547EzbxOcU(UX-T#Ta#:Cbb|A?wjh/b_|SOw6ARgtihr}u7Rhy<d1#T)X1@@=I|~=ay<2@@=aybb}Sj3vLv;<d,#Y(56H}A978H}@dGpvs@uAu`vcw9*!aFa+ai%(b!aXa8.a?a[ozWey=sU2@G}Nch&U#Rf_WexKu+D#'!t:~Gr`~?r^j]uNr|~FRg*j^psurwJt|RmcKv)@&!)7Rkv~Br[@wxfO:Rl3co#U'6Rezj_q#vIuavjRltwzeyh@vr5JqD0!>aY?C9:9au@9Cb]}9cl#U*5;5<H||jbuus1ucv&Rfvg1v~d/pppzqFr^a--a~!aMat1(hFv;Wiz@@=Izoj5uuv-7Rix~Cw`fk2WlVcZ#X,k)u3vWs@u2]ktg;wEx'fBq(_2Wg/jTv|vV~EfoJv]!15x'hzqG!(P~EfU~CRl_j6v(us5x4i-#T(2WmZ?C2F|d>Kq<aj1!*jTqIsBv=Wl`~Cw`fi2WlWj`v0u*~>RlR=c>Z,k#u3vWs@u2]kr<c1Z+jTqIsBv=Wla~Cw`fm2WlXdmb3!a{(arZa`bkTa%TbQTa-a9+c'!aM!/[yL=Bqug.w'RifhFvyDRj.g>vgwyk^9]k^Jv3_@WfbAARkhJw2_[x|JvB_wkoIRoKwkoJRoLd'(Y#<]gm=<9<H|yd'%_X#skDtb3awwqkgNulRkgdB#^',9:p'hJwSaxRmEBwVb8@4=H|qLu+w50&!)@3qs~?pU>Awwn;;Rn=c:Z'ARn<=<qwKvC@!/&~BqqJv6!&]eVb^z^xRge'/a%+^`#Sge}6<4Rn3=]n0Pw2>Rn8Jw0!&>Rn:>Rn6cY#a7+!a&=<wkaNw~h3z_c5Z{=wjh#=]nLKv^D!&)Vyz=bW|swYb<WetcG#T(2wxa@qVx@gD#Y&b^|V5JwG&!5bb|pg/w&RgD@x=kHs=uAvn!a%%/'+RmSRh694Ro`g-vaRmRhHv-]mlxCcS#`&ba~.5cD#Ta)P~=d,#Y(56H{>978H{Dd_#{2^Y%_+qbbb{6g3sERhsbU{?dfa.,`a(Xa<!aiX#(55RiG54RiHcI#T'WiU3RiVNvdwtfcRlKNvdd,#Y&RlHRlExQgf.1*^T'X#Sgf}6Wn4=]hfPrk>Rn7Jw0!&>Rn5>Rn9Lunw?&a2!,5<oq@@wqfdRlJj5Q~=d,#Y(~ARfcOuN]fdDKw;ay(}i!547E}j?cI#T(@5bV}iCbV}hdv(^^Tb?a40,b##Tbo!a*bR!a<b|a/!aKai!aU[yK=]o^g:v>ReGJwPZtK<7Rh+h<~El,Pv#5ReR@awwxjCg,ulRjDJv6&!]j!z?aQeeg>w=Sh<eeJw;!&axEzOg,Qosc!#*:wkeJ]eJ>x'h-u(!%Ro.w~h.zPdNZ(X,Ya![x{;9ReY;wkgxRiF:x?ap#Y&RmUg<s2Rkod]+UY0TZ'!a&A9sw<=bczLNvuw{gqzNhJwSaxRmCKuLay!#&s_Rf-55b^{uJvZa!!c%#(55Ri654wmiu5RiuawLu,vp!+}^%b_}Y9;wkgxba}o>A9:=b^}zKuh=a''!3awRk3c*'!#aHRk6c+Z&Rk5Rk4Jv)&!awRjSawd9*`#0?C2@EzMj8u<uJ5RmbjQrquJu3x,k>uq@_+=ayb^|W~ARkEOuN]k@7dhzV^X/X&a-#zRzSb`zXcJzTT#2WkVKvDBzW!%FzY9;5bbzWjQrquJu3Jw3%!b`zU=ayb^zQd:#X(T-a!6Vyywxh}=b]{Jg=u1RiAdGp~qHtzv!w(wA+a+a;<!aJaYai'anasb(=azRmV:Cbb{MLq2vb!%')RjuRjrRjtRjqx3jnqCw3!%')Rk(Rk+Rk&Rk)Lq2vb!%')Rj{RjxRjzRjwLq2vb!%')RjsRjpRjfRjex3jcqCw3!%')Rk'Rk*RjkRjl9<CbbzfOu4ARhxLq2vb!%')RjyRjvRjhRjgx=joq*uKvb!%')+-Rk.Rk%Rj~Rk-Rk#Rj}x=jdq*uKvb!%')+-Rk,Rk!Rj|RjmRjjRjidAq&qKs@uAv8Aa.'*-a@a&0!aM@a5[y73Dsy3Ds|3Dt):wxgI2sHJwJZt.~Gqxwsf0ikrzt}Rl0Jvy_[xj~HqzKv_A|D!&WfP8axRoVcf,U#k(v]v+ueunaXRf1Ju}'!g8u#Ri=jQw!sCunLprq>!,')~<5qeGzq9F{W=c##%s5au:5aU3CBE|;d4#X(D!a&6Vygx(b;#(=]ed?C2F{N<capoq2r[a&!aPa9,'Pw;5s:@@=I|,55w_h|@@=IzcP~=x'fCqB_2Wl2>aU@@=I|1OuNBc1Z+jTqIsBv=Wlc~Cw`fl2WlZ~AcTa%!Z+jTqIsBv=Wlb~Cw`fh2WlYk+uNqJsBv=WlSg,u3dca3#UXaMYa)TaB-=cM|7T#<bI}l5@B932:aV2G{BOuNBJq:|M!5Ezt=<B=C@a^<B57@2F{v>cB{/T#=ay<bI{3Jv6!a.6BKq0ah&+!5E}HP~Ef{978BaU@@=Iza<7d#.Y#978BaU@@=IzH~AJq0!(@@=IzG978BaU@@=IzFe,aU*Y&^^^bvJb,b:bFad!a,c2Ta>aL.bo6!a#CbTa'T#Re{2Wlh2@G{yg6t~Ro_NvdRfticuRQRllJv3&!x&c|zs@Jw3!%RflwpfkRlpKuL;%(!Re<@G|C2GzdhIvuBwgjAg-u0RjAKQB%!(GzZ@G|5NuuRl7d='T+Y#Vy[g<v~Rm!==G|>JvA!)@wma=]m1ifuaw&RmnLs@vT'!|/+[y,g:v>ReTJw1!#qX=x!eC{bLu+wT&)ZtZauq_~Graci&U#F|89:r_Lupvq!.)&2RlG8RfaC=x!eF{_h?rpWlmd&'!#X|&]k::xJey#`'T|+<E|&2@H|%dE#(^,g;u.RiEg6vjRiC9xCkA{O|zY#g=ucRmXKs0@!&*@G|m@awRknJuh!,3d(}gY}eJvj!%Rm):Jw3!%Rm+Rm-Ls0w(&!a(a#@b[|6cZ#X'7RkxWgAOu4ARn'dH'U#Y*Vz-Wm'CARm}d]*#a%^a*T'aK!a<9bV{PC=p*Jw4!&SgxcbB5r]idw(wBRmF7xFkt#&`(Rm/Rm8E|!JuY_9:Rl5=wrgr2:bbxd@xXfB(a*#T+!.X0X1Ta/a'T&RlDRfL>RlyARl9b[z[>RfZ:RlL:RfRwlg/ARl;9;RlxKv,A/!%7s69<74=BA5ba{-8Bde#`a<XaKYa1,a'P~=wxfB2bZ}}?C972@@=I}r8@55B9;5bb}G978B2@@=aybb}3j3vLv;<Jw3&!>Rfk=ayb^}4~Ad1#`*@@=aybb{w2@>==<bbz]dx+UY#^UaF!a9!bB'Ya1.!ajXa#%olRhD[y=3Dt#Ov5BrHKuMB%!(Rf^Wep~HrJwkiQjKr|~FRg)Ku+D#'!t5~GrF~?rDdV)UY,Z/_7RkuG{<~BrBg,rlsO:235B@bX}|d?a1!#`(6Vyn5@d##Y+jTv|vV~EfIj]uNpn~FRfH7Lq2vb1!a9-978BaU@@=Iz9978BbU}#~AJq0!(@@=Iz8978BaU@@=Iz7~AJQ|}!978BbU}!JvkaK!AdUa21-U#`a+(g/vsRn~Ou!5RPj:rmu9WhOjXuvvNr}:RhAj^v(pyw8unRn[kPr}p|u7vwv]RiSBd;pppzq@qHQa?(b.!a.a`@.|xa(hFv;Wiyj5uuv-7Riw~Cw`fg2WlU978BbU|wOuNBJqG!(P~EfD~CRlQcZ#X,k)u3vWs@u2]ksg;wEx'f@q1_2Wg.j]uNpn~FRfqJv]!15x'h{qG!(@@=IzK~CRl^j6v(us5x4i,#T(2WmY?C2F{1>Kq<aj1!*jTqIsBv=Wld~Cw`fj2Wl[j`v0u*~>RlT=c>Z,k#u3vWs@u2]kq<c1Z+jTqIsBv=Wle~Cw`fn2Wl]dn1#c(a(b^a2!b/bAT(bj!aDa7bu,a_a{c0!2T0g:v>ReD2@G{42@G{5~DpM~<5rc=Bx6i>{RT#RnI@zCx]y]z:2Jv[!zr5Awyk]9]k]dD(Y+X#6Vz.g=wKtgwhaCwgmTWj2Lu,w%_+/[y-B;b^xeg3u3Rj-2@bX{*KrJ<!+'@Wg(g?QRlC@Jv`!%b[zIwsfII}8JQ_@w|kW|=Jv(%!AqcOuNBJvEzh!bYzjLs@wP#(0!oy@>RkdJwMZtc3Dtd@BcG#T'9bWxg2@2Fznd*#Y+;2x'c}w<zizixNgwa#Z'U+!/!a'!a+w~g~z6wcn{Rn}wcnzRn|5Rh%=]nJg5vuRmvNvdRlvcprJu}w*az*a#!%.a.'Bot9qT]kj@Wg'ay2Gzv@Jv`!%b[zEwsfHI}1;ck#Ux`<Cbbx_Lu+w!a&0*!wko*wwo,So,}6Juqxf!E}PigQuyRm`d3(`#8>Rn%:A5B;bZ~%KvhCa!a2!x>k7#Uxb@b{#xaRk7Jw0!)>wwhlShl}6>wwhmShm}6CJvB!.x'hhvj{!!5Bwkhhbaz}x'hivjz~!5Bwkhibaz|xEhTrNu,v-vpD!a%&/)a3a.,%Ro2t[CE{)@3re9b]{%wjo09:rgc:Z&Ro6=<riifuaw&RmoKrNA!%(Ro4>Ro89;Ri`dSaL'UYzxZb)7Rka3xRhT&!,!#^1U}vbaz{>>@=be}yC@:D5bazzKu+A&!}{?ba}y>>@=be}wxBh[t`u~vJvr!%a!a()a,a0a4RoC=]o;Ju(!%RoGRhdwjh`=]oAg>w#Ro?g5vuRo=NvdRl|Ku]C.!&;RoEJvB!%RoORoMBx'h[v+_?w~h`}~5?w~hd~!xKh]oiptu-utv.vp!#%&a30a@a'a+(a/aOp(o~p!RoDJu(!%RoHRhewjha=]oBNvdRl}g>w#Ro@g5vuRo>c[#X']o<CauRoRAd-#Y':RkpauRoQKu]C.!&;RoFJvB!%RoNRoPBx'h]v+_?w~ha}t5?w~he}ue!/UbhYacXaW^Tc&a;b:a-c/#b&aja1(!cL+!bKbt!bmcRc9aIc?8[yW3Dtt94Rg`Jv}!&SiRMzBhEebShEMNuPRe>x7gL#TzuwjirRipc<Z&>on;>z=h-MSh.Mwqczx'a7vj&!>Re4@=ResJt__NuPRi*NuPRi)j]uNr|~FRfzKrJ>_+@Wfy@Wf]2WocKrJ<!+'@Wg%g/QRl@@Jv`!&awRl<wsfFIzgLu(w*!.*&ShBMwvhIRhI9;RhNx1hK'!#Sn]Mx1hK~0!#:2<H~7cNu+w7D*'1ZtW>Rn1~?rOc:Z&Rn2=<rQ<7wjh&=BSnLMc]#X(6Vz)w[b=a!U#9wzgMc3#&(RgMRitRis<x,gKt`ax!&+SioM=BSilMc3#&(RgKRinRimKurB,!&SiQMzBhDebShDM6BJQ!(P~Efx978B2@@=I}WLrJw!!,a*&@G}O@9wkibRid@@x'fKwC!&SlDMSfLMjUv~Q~EfKKv3@a+!(hFv-]mpx/hYZ(C5RiWz<o/MwkhY?So/M@x,gbvfB*&!SgEM:SoeeehFu3:Rgbda(,^TZa)X/7Sg[eb:2RgI~BrMC@wgkc:wwkcRerx3h(uUvK!&*,SnOM4Sh*MArRg;wHRh(x=h;rJvPwI!a4',a'0@Wg&=BSh/Mg>w=Rh=g3w*wwgGRgGcW(X#;Sg}M2Gzk@Jv`!&awRl=wsfGIz`dKZ*T'Y-:RhR7RhQg5u-p`j6v(us5d,#Y+~Awkia?RicOuNBwkibba}Ld6p~tyu_vbAa'a+!a/'a3aEa8a!>Sh,ebJv{!&Sh@ebSaReb9;SgwebNuPRi(NvdRl)NuPRi'hHu^<Rm^Jvv_@Wl(g;u1Si/ebKu'B&!*Sh?eb@Wl'z@aPeb95Si.ebcpputyvjB)!,&a+0a%ShAMWeK@G}C@WfJ9;RhMwvhH9w{ia}ix,hJvRA1(!zAn[MRhHx1hJ~*!#hFv(BSn[MBJQ!(@@=I~'978B2@@=I}2db.Ua<'X}+T#a0XaG2G}E;wkg|wuh!Rh!x,hZu,@)!&So0MVy)C5RiXACJvB!&5RiY5RiZg8w)cG}*T#2@bU}=KsA>(!a.3wkhZba~(x,h^u(A!&(SoCMRhb5Bz=h[eb?w~hb~6x,h_u(A!&(SoDMRhc5Bz=h]eb?w~hc~6e)aA1T#T,^^^c-bMb&blcPaP(a/!0!bA=b5c@a(!bfbrc#2afwmhARnjwchORnp2Wlf3DtsNvdRl-2@wpa<]m0bx(#:awRk2@Jw3!%RfhwpfgRlnKQB%!(G{V@G|'NuuRl6d='T+Y#VyUg<v~Rl~==G|<Jv+'!aYShC}6@B<5?ba~8@Jw3'!g2QRljhLrpWlOd+#Y'g.w'rIg>w*wgj@g-u0Rj@Lu+wT&)ZtUauq]~GrGci&U#F|39:rELrNvj!.%*RhCwunfw~nf~:9;Ri]>wtnhg;wHRnhx3hDs@v~!/+'@Wfr@9RkSNu&Rlo=@<5GzoKs0@_+@Wl+@awRkmJuh!-3d(}pY#qWJvj!%Rm(:Jw3!%Rm,Rm*de&!1U-U#`)Re;@G|.@9Ri82@wjfvRlq=@<5GzpLvOvr!).&2RlF8Rf`C=x!eE{.Jw3_g2QRlkhLrpWlPde(!#U{s,UXa*Ta'[y'g:v>ReS;x0PZ&RnlRnn~HrKJw1}f!=x!eB|2w]aP(#Xa&a*Ta.Ua2a7=]iOd'#Y&Ro&WnWg;u.RiDg6vjRiBNvdRlzhNvj]nYJuW_2Wm3x)kFze{9d])!a.!,Y01!#&aC!a3RndC=ox~BrC@2b^{pg,rlse7x'ksuq!%Rm.E{xidw(wBRmGx9o+)X#wwo-So-}69:Rl4@xSf@a#XZ'X)X,Ta(/ARl8b[xc>RfY:RlI:RfQwlg.ARl:9;Rlwdn'#^XafaQa1X1TaHTa)@b[{zcZ#X'7RkwWg@Ou4ARn&x)kG#{,g7u/RkGdH'U#Y*Vz'Wm&CARm|bx#(A]gUbUzJj9Q~=d,#Y(56H}l978H{U7d,0#U*2>ABb_xZ978BbU{e~AJQ{g!978BbU{hxMh?ad{oUYZ.x1h?{l!#:2<H{mx3n[t{vl!,&a%3Ro(z=iS}6ARnr=Bwsn^wvn`Rnbd`*T}B0!#^X'BG{c9b]{a>>@=be}F?JvS!&BG{d7BG}(Bde#`a1X,Ya@!a'P~=wxf@2bZ}I56B2@@=aybb}08@55B9;5bb}<j3vLv;<Jw3&!>Rfg=ayb^}&OuNBKuLA!)a!P~=x#fD{f2@>==<bbzl?C972@@=Ix^d6rSu,v7w*C(0a)a6#B+a%!sQ[y?3Dt%3[xn~<5rLOu!5p@Ku+D#'!t7~GrP~?rNKvlaya7'!h+v-5qMg=t|cd,U#5AAaa5Abb{S@52B5@a[@52B5Gx[iXueu;d<#`a(!/549C;ag>23ExY5@Dah89b^~689Jv)!~2b[~1Lv'w(%*!a#bX|aPrmawRe]keu7uhv-q6rxu,q`xTo]/a5aU!bNaDXbi!b-!ao!b<bwA!#5@B932:aV2G|:d-)Y#hJrL>RhG<7@C5<H|_=Cau:5aj5@B932:bJ|ng>vIbs)#?C2F|9jPv0w.vISh-MKvUaz(.!9ABbb|[5;5<H|Eg>unwfh;9:4E|YjQsBt|vjx'hYq3!(?C2F|J:2<BaY?C2F|GOu!5x,g|p{ah!-(?C2F|c9:4E|OjXuvvNr}:Rh&i[w*t|cd+U#jJvsu)vsSn~Mkfrmu9p}u7vwv]So!McW#Xa!ax5@A5aY:5;5<H|>kJv~vYrquJu3x4ib#T)2@SmZM?C2F|Bj:rmu9@xPhI(a*a#U#`a3-5Abb|L~@:RhK9:4E|0@52B5G|#C::aY?C2F|-:2<BaY?C2F|.5Jvk!a)javYrquJu3x4ia#T)2@SmYM?C2F|HAxPhH(!a#U#`a*-5Abb|4~@:RhJ9:4E|R@52B5G|F:2<BaY?C2F|Sc^#Xa2j=Qq5CJvB!-g<v{z;hhM?C2F|Zi[vrv{z;hiM?C2F|XKsA>!a)-g<v{z;h[eb?C2F|]i[vrv{z;h]eb?C2F|^iZu.vix,hZq3ah!.(?C2F|QOu!5ShXM:2<BaY?C2F|P", 13494, 2713, 49, 25, 61);
var Ie;
(function(e) {
  e[e.VALUE_LENGTH = 49152] = "VALUE_LENGTH", e[e.FLAG13 = 8192] = "FLAG13", e[e.BRANCH_LENGTH = 8064] = "BRANCH_LENGTH", e[e.JUMP_TABLE = 127] = "JUMP_TABLE", e[e.VALUE_MASK = 8191] = "VALUE_MASK";
})(Ie || (Ie = {}));
var Je;
(function(e) {
  e[e.AMP = 38] = "AMP", e[e.NUM = 35] = "NUM", e[e.SEMI = 59] = "SEMI", e[e.EQUALS = 61] = "EQUALS", e[e.ZERO = 48] = "ZERO", e[e.NINE = 57] = "NINE", e[e.LOWER_A = 97] = "LOWER_A", e[e.LOWER_X = 120] = "LOWER_X";
})(Je || (Je = {}));
const di = 32, Pa = 21, Zp = 2097151, Js = 2047;
let Ba = 0;
function Qp(e) {
  const t = e >>> Pa;
  return t === Js ? Ba : t;
}
function eg(e) {
  return e - Je.ZERO >>> 0 <= 9;
}
function tg(e) {
  return (e | di) - Je.LOWER_A >>> 0 <= 5;
}
function ng(e) {
  return (e | di) - Je.LOWER_A >>> 0 <= 25;
}
var Zl;
(function(e) {
  e[e.EntityStart = 0] = "EntityStart", e[e.NumericStart = 1] = "NumericStart", e[e.NumericDecimal = 2] = "NumericDecimal", e[e.NumericHex = 3] = "NumericHex", e[e.NamedEntity = 4] = "NamedEntity";
})(Zl || (Zl = {}));
var Ql;
(function(e) {
  e[e.Legacy = 0] = "Legacy", e[e.Strict = 1] = "Strict", e[e.Attribute = 2] = "Attribute";
})(Ql || (Ql = {}));
function rg(e, t, n, r) {
  const i = (t & Ie.BRANCH_LENGTH) >> 7, s = t & Ie.JUMP_TABLE;
  if (s) {
    if (i === 0)
      return r === s ? n : -1;
    const c = r - s;
    if (c >>> 0 >= i)
      return -1;
    const a = e[n + c];
    return a === 0 ? -1 : n + i + a - 1 & 65535;
  }
  if (i === 0)
    return -1;
  const o = i + 1 >> 1, l = n + o + i;
  for (let c = 0; c < i; c++) {
    const u = e[n + (c >> 1)] >> ((c & 1) << 3) & 255;
    if (u === r) {
      const h = n + o + c;
      return l + e[h] & 65535;
    }
    if (u > r)
      return -1;
  }
  return -1;
}
function ec(e, t, n) {
  return n === 1 ? String.fromCharCode(e[t] & Ie.VALUE_MASK) : n === 2 ? String.fromCharCode(e[t + 1]) : String.fromCharCode(e[t + 1], e[t + 2]);
}
function ig(e, t, n) {
  let r = t + 1, i = 0, s = r;
  if (r < n && (e.charCodeAt(r) | di) === Je.LOWER_X)
    for (r += 1, s = r; r < n; ) {
      const l = e.charCodeAt(r);
      if (eg(l))
        i = i * 16 + (l - Je.ZERO);
      else if (tg(l))
        i = i * 16 + ((l | di) - Je.LOWER_A + 10);
      else
        break;
      r += 1;
    }
  else
    for (; r < n; ) {
      const l = e.charCodeAt(r) - Je.ZERO;
      if (l >>> 0 > 9)
        break;
      i = i * 10 + l, r += 1;
    }
  if (r === s)
    return 0;
  r < n && e.charCodeAt(r) === Je.SEMI && (r += 1), i > 1114111 && (i = 1114112);
  let o = r - t;
  return o >= Js && (Ba = o, o = Js), o << Pa | i;
}
function sg(e, t, n) {
  const r = Xp;
  let i = e.indexOf("&");
  if (i < 0)
    return e;
  const s = e.length;
  let o = 0, l = "";
  const c = r[0], a = c & Ie.JUMP_TABLE, u = (c & Ie.BRANCH_LENGTH) >> 7;
  do {
    const h = i + 1, y = e.charCodeAt(h);
    let _, p;
    if (y === Je.NUM) {
      const E = ig(e, h, s);
      _ = Qp(E), _ > 0 && e.charCodeAt(h + _ - 1) !== Je.SEMI && (_ = 0), p = _ === 0 ? "" : Gp(E & Zp);
    } else if (ng(y)) {
      _ = 0, p = "";
      const E = y - a;
      let F;
      if (E >>> 0 < u) {
        const N = r[1 + E];
        F = N === 0 ? -1 : u + N & 65535;
      } else
        F = -1;
      let M = 0, v = 0, w = F < 0 ? 0 : r[F], b = h + 1;
      e: for (; b < s; ) {
        for (
          ;
          // Value-less, non-run node with a nonzero jump offset.
          (w & (Ie.VALUE_LENGTH | Ie.FLAG13)) === 0 && (w & Ie.JUMP_TABLE) !== 0;
        ) {
          const Z = w & Ie.JUMP_TABLE, Q = (w & Ie.BRANCH_LENGTH) >> 7;
          if (Q === 0) {
            if (e.charCodeAt(b) !== Z)
              break e;
            F += 1;
          } else {
            const se = e.charCodeAt(b) - Z;
            if (se >>> 0 >= Q)
              break e;
            const V = r[F + 1 + se];
            if (V === 0)
              break e;
            F = F + Q + V & 65535;
          }
          if (w = r[F], b += 1, b >= s)
            break e;
        }
        if ((w & (Ie.VALUE_LENGTH | Ie.FLAG13)) === Ie.FLAG13) {
          const Z = (w & Ie.BRANCH_LENGTH) >> 7;
          if (e.charCodeAt(b) !== (w & Ie.JUMP_TABLE))
            break;
          b += 1;
          const Q = Z - 1;
          let se = F + 1, V = 0;
          for (; V + 1 < Q; V += 2) {
            const le = r[se];
            if (e.charCodeAt(b) !== (le & 255) || (b += 1, e.charCodeAt(b) !== (le >> 8 & 255)))
              break e;
            b += 1, se += 1;
          }
          if (V < Q) {
            if (e.charCodeAt(b) !== (r[se] & 255))
              break;
            b += 1;
          }
          F += 1 + (Z >> 1), w = r[F];
          continue;
        }
        const N = w >>> 14, j = e.charCodeAt(b);
        if (N !== 0) {
          if (j === Je.SEMI) {
            _ = b - h + 1, p = N === 1 ? String.fromCharCode(w & Ie.VALUE_MASK) : ec(r, F, N);
            break;
          }
          if (N === 1)
            break;
        }
        const W = rg(r, w, F + (N || 1), j);
        if (W < 0)
          break;
        F = W, w = r[F], b += 1;
      }
      p === "" && _ > 0 && (p = ec(r, M, v));
    } else
      _ = 0, p = "";
    _ === 0 || n ? i = h : (o < i && (l += e.slice(o, i)), l += p, i = o = h + _), e.charCodeAt(i) !== Je.AMP && (i = e.indexOf("&", i));
  } while (i >= 0);
  return l + e.slice(o);
}
function ja(e) {
  return sg(e, !0, !1);
}
var og = class {
  src_Any = Oa.source;
  src_Cc = Ma.source;
  src_Z = La.source;
  src_P = oo.source;
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
    const r = this.escapeRE(e), i = this.escapeRE(t), s = `(?:(?!${this.src_ZCc}|${r}|${i}).)`;
    let o = `${r}${s}{0,1000}${i}`;
    for (let l = 2; l <= n; l++) o = `${r}(?:${s}|${o}){0,1000}${i}`;
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
}, ks = {
  validate: (e, t, n) => {
    const r = n.re.get_http_validator();
    r.lastIndex = t;
    const i = r.exec(e);
    return i ? i[0].length : 0;
  },
  normalize: (e, t) => t.normalize(e)
}, lg = {
  "http:": ks,
  "https:": ks,
  "ftp:": ks,
  "//": {
    validate: function(e, t, n) {
      const r = n.re.get_relative_proto_validator();
      r.lastIndex = t;
      const i = r.exec(e);
      return i ? t >= 3 && e[t - 3] === ":" || t >= 3 && e[t - 3] === "/" ? 0 : i[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  },
  "mailto:": {
    validate: function(e, t, n) {
      const r = n.re.get_mailto_validator();
      r.lastIndex = t;
      const i = r.exec(e);
      return i ? i[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  }
}, cg = "a:cdefgilmnoqrstuwxz|b:abdefghijmnorstvwyz|c:acdfghiklmnoruvwxyz|d:ejkmoz|e:cegrstu|f:ijkmor|g:abdefghilmnpqrstuwy|h:kmnrtu|i:delmnoqrst|j:emop|k:eghimnprwyz|l:abcikrstuvy|m:acdeghklmnopqrstuvwxyz|n:acefgilopruz|o:m|p:aefghklmnrstwy|q:a|r:eosuw|s:abcdeghijklmnortuvxyz|t:cdfghjklmnortvwz|u:agksyz|v:aceginu|w:fs|y:et|z:amw", ag = "biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф";
function ug() {
  const e = ag.split("|");
  return cg.split("|").forEach((t) => {
    const n = t.indexOf(":"), r = t.slice(0, n);
    for (const i of t.slice(n + 1)) e.push(r + i);
  }), e;
}
var fg = {
  fuzzyLink: !1,
  fuzzyEmail: !0,
  fuzzyIP: !1,
  "---": !1,
  tlds: ug(),
  urlAuth: !1,
  maxLength: 1e4
}, tc = class {
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
    const i = e.slice(n, r);
    this.schema = t.toLowerCase(), this.index = n, this.lastIndex = r, this.raw = i, this.text = i, this.url = i;
  }
}, hg = class {
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
      ...fg,
      ...n
    }, this.__schemas__ = { ...lg }, this.re = t || new og(), this.re.set({
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
        normalize: (r, i) => i.normalize(r),
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
      const r = this.re.get_fuzzy_mail_host_search(), i = this.re.get_mail_name_validator();
      for (r.lastIndex = 0; (t = r.exec(e)) !== null; ) {
        const s = e.slice(Math.max(0, t.index - 65), t.index);
        if (i.test(s)) return !0;
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
    let r, i, s, o, l, c, a = !1, u = !1, h = !1, y = 0;
    if (!e.length) return null;
    for (n.lastIndex = 0, this.__opts__.fuzzyLink && this.__schemas__["http:"] && (r = this.re.get_fuzzy_link_search(), r.lastIndex = 0), this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && (i = this.re.get_fuzzy_mail_host_search(), i.lastIndex = 0, s = this.re.get_mail_name_validator()); ; ) {
      const _ = Math.max(y - 1, 0);
      if (i && s && !h && (!l || l.index < y))
        for (i.lastIndex < _ && (i.lastIndex = _); ; ) {
          const v = i.exec(e);
          if (!v) {
            h = !0, l = void 0;
            break;
          }
          const w = s.exec(e.slice(Math.max(0, v.index - 65), v.index));
          if (w) {
            if (l = {
              schema: "mailto:",
              index: v.index - w[1].length,
              lastIndex: v.index + v[0].length
            }, l.index >= y) break;
            i.lastIndex < _ && (i.lastIndex = _);
          }
        }
      if (r && !u && (!o || o.index < y))
        for (r.lastIndex < _ && (r.lastIndex = _); ; ) {
          const v = r.exec(e);
          if (!v) {
            u = !0, o = void 0;
            break;
          }
          if (o = {
            schema: "",
            index: v.index + v[1].length,
            lastIndex: v.index + v[0].length
          }, o.index >= y) break;
          r.lastIndex < _ && (r.lastIndex = _);
        }
      let p = l;
      (!p || o && (o.index < p.index || o.index === p.index && o.lastIndex > p.lastIndex)) && (p = o);
      let E;
      if (!a) for (; ; ) {
        if (!c) {
          n.lastIndex < _ && (n.lastIndex = _);
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
        if (c.index < y) {
          c = void 0;
          continue;
        }
        if (p && c.index > p.index) break;
        const v = c;
        c = void 0;
        const w = this.testSchemaAt(e, v.schema, v.lastIndex);
        if (w) {
          E = {
            schema: v.schema,
            index: v.index,
            lastIndex: v.lastIndex + w
          };
          break;
        }
      }
      let F = E;
      if ((!F || l && (l.index < F.index || l.index === F.index && l.lastIndex > F.lastIndex)) && (F = l), (!F || o && (o.index < F.index || o.index === F.index && o.lastIndex > F.lastIndex)) && (F = o), !F) break;
      F === l ? l = void 0 : F === o && (o = void 0);
      const M = new tc(e, F.schema, F.index, F.lastIndex);
      M.schema ? this.__schemas__[M.schema].normalize(M, this) : this.normalize(M), t.push(M), y = F.lastIndex;
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
    const r = new tc(e, t[2], t.index + t[1].length, t.index + t[0].length + n);
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
const Pn = 2147483647, _t = 36, lo = 1, _r = 26, dg = 38, pg = 700, za = 72, $a = 128, Ua = "-", gg = /^xn--/, mg = /[^\0-\x7F]/, _g = /[\x2E\u3002\uFF0E\uFF61]/g, bg = {
  overflow: "Overflow: input needs wider integers to process",
  "not-basic": "Illegal input >= 0x80 (not a basic code point)",
  "invalid-input": "Invalid input"
}, As = _t - lo, bt = Math.floor, xs = String.fromCharCode;
function Wt(e) {
  throw new RangeError(bg[e]);
}
function yg(e, t) {
  const n = [];
  let r = e.length;
  for (; r--; )
    n[r] = t(e[r]);
  return n;
}
function Wa(e, t) {
  const n = e.split("@");
  let r = "";
  n.length > 1 && (r = n[0] + "@", e = n[1]), e = e.replace(_g, ".");
  const i = e.split("."), s = yg(i, t).join(".");
  return r + s;
}
function Ja(e) {
  const t = [];
  let n = 0;
  const r = e.length;
  for (; n < r; ) {
    const i = e.charCodeAt(n++);
    if (i >= 55296 && i <= 56319 && n < r) {
      const s = e.charCodeAt(n++);
      (s & 64512) == 56320 ? t.push(((i & 1023) << 10) + (s & 1023) + 65536) : (t.push(i), n--);
    } else
      t.push(i);
  }
  return t;
}
const wg = (e) => String.fromCodePoint(...e), kg = function(e) {
  return e >= 48 && e < 58 ? 26 + (e - 48) : e >= 65 && e < 91 ? e - 65 : e >= 97 && e < 123 ? e - 97 : _t;
}, nc = function(e, t) {
  return e + 22 + 75 * (e < 26) - ((t != 0) << 5);
}, qa = function(e, t, n) {
  let r = 0;
  for (e = n ? bt(e / pg) : e >> 1, e += bt(e / t); e > As * _r >> 1; r += _t)
    e = bt(e / As);
  return bt(r + (As + 1) * e / (e + dg));
}, Ha = function(e) {
  const t = [], n = e.length;
  let r = 0, i = $a, s = za, o = e.lastIndexOf(Ua);
  o < 0 && (o = 0);
  for (let l = 0; l < o; ++l)
    e.charCodeAt(l) >= 128 && Wt("not-basic"), t.push(e.charCodeAt(l));
  for (let l = o > 0 ? o + 1 : 0; l < n; ) {
    const c = r;
    for (let u = 1, h = _t; ; h += _t) {
      l >= n && Wt("invalid-input");
      const y = kg(e.charCodeAt(l++));
      y >= _t && Wt("invalid-input"), y > bt((Pn - r) / u) && Wt("overflow"), r += y * u;
      const _ = h <= s ? lo : h >= s + _r ? _r : h - s;
      if (y < _)
        break;
      const p = _t - _;
      u > bt(Pn / p) && Wt("overflow"), u *= p;
    }
    const a = t.length + 1;
    s = qa(r - c, a, c == 0), bt(r / a) > Pn - i && Wt("overflow"), i += bt(r / a), r %= a, t.splice(r++, 0, i);
  }
  return String.fromCodePoint(...t);
}, Va = function(e) {
  const t = [];
  e = Ja(e);
  const n = e.length;
  let r = $a, i = 0, s = za;
  for (const c of e)
    c < 128 && t.push(xs(c));
  const o = t.length;
  let l = o;
  for (o && t.push(Ua); l < n; ) {
    let c = Pn;
    for (const u of e)
      u >= r && u < c && (c = u);
    const a = l + 1;
    c - r > bt((Pn - i) / a) && Wt("overflow"), i += (c - r) * a, r = c;
    for (const u of e)
      if (u < r && ++i > Pn && Wt("overflow"), u === r) {
        let h = i;
        for (let y = _t; ; y += _t) {
          const _ = y <= s ? lo : y >= s + _r ? _r : y - s;
          if (h < _)
            break;
          const p = h - _, E = _t - _;
          t.push(
            xs(nc(_ + p % E, 0))
          ), h = bt(p / E);
        }
        t.push(xs(nc(h, 0))), s = qa(i, a, l === o), i = 0, ++l;
      }
    ++i, ++r;
  }
  return t.join("");
}, Ag = function(e) {
  return Wa(e, function(t) {
    return gg.test(t) ? Ha(t.slice(4).toLowerCase()) : t;
  });
}, xg = function(e) {
  return Wa(e, function(t) {
    return mg.test(t) ? "xn--" + Va(t) : t;
  });
}, rc = {
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
    decode: Ja,
    encode: wg
  },
  decode: Ha,
  encode: Va,
  toASCII: xg,
  toUnicode: Ag
};
var ic = Object.defineProperty, Ka = (e, t) => {
  let n = {};
  for (var r in e) ic(n, r, {
    get: e[r],
    enumerable: !0
  });
  return ic(n, Symbol.toStringTag, { value: "Module" }), n;
}, Rg = /* @__PURE__ */ Ka({
  arrayReplaceAt: () => vg,
  asciiTrim: () => Ei,
  callable: () => Ga,
  escapeHtml: () => Yt,
  escapeRE: () => Ng,
  fromCodePoint: () => br,
  isMdAsciiPunct: () => kr,
  isPunctChar: () => Xa,
  isPunctCharCode: () => wr,
  isSpace: () => pe,
  isValidEntityCode: () => co,
  isWhiteSpace: () => yr,
  lib: () => Lg,
  normalizeReference: () => vi,
  unescapeAll: () => Un,
  unescapeMd: () => Sg
});
function Ga(e) {
  const t = function(...n) {
    return Reflect.construct(e, n, new.target && new.target !== t ? new.target : e);
  };
  return Object.defineProperty(t, "name", { value: e.name }), Object.setPrototypeOf(t, e), t.prototype = e.prototype, t;
}
function vg(e, t, n) {
  return [].concat(e.slice(0, t), n, e.slice(t + 1));
}
function co(e) {
  return !(e >= 55296 && e <= 57343 || e >= 64976 && e <= 65007 || (e & 65535) === 65535 || (e & 65535) === 65534 || e >= 0 && e <= 8 || e === 11 || e >= 14 && e <= 31 || e >= 127 && e <= 159 || e > 1114111);
}
function br(e) {
  if (e > 65535) {
    e -= 65536;
    const t = 55296 + (e >> 10), n = 56320 + (e & 1023);
    return String.fromCharCode(t, n);
  }
  return String.fromCharCode(e);
}
var Ya = /\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, Eg = new RegExp(`${Ya.source}|${/&([a-z#][a-z0-9]{1,31});/gi.source}`, "gi"), Cg = /^#((?:x[a-f0-9]{1,8}|[0-9]{1,8}))$/i;
function Dg(e, t) {
  if (t.charCodeAt(0) === 35 && Cg.test(t)) {
    const r = t[1].toLowerCase() === "x" ? parseInt(t.slice(2), 16) : parseInt(t.slice(1), 10);
    return co(r) ? br(r) : e;
  }
  const n = ja(e);
  return n !== e ? n : e;
}
function Sg(e) {
  return e.indexOf("\\") < 0 ? e : e.replace(Ya, "$1");
}
function Un(e) {
  return e.indexOf("\\") < 0 && e.indexOf("&") < 0 ? e : e.replace(Eg, function(t, n, r) {
    return n || Dg(t, r);
  });
}
var Tg = /[&<>"]/, Fg = /[&<>"]/g, Ig = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;"
};
function Og(e) {
  return Ig[e];
}
function Yt(e) {
  return Tg.test(e) ? e.replace(Fg, Og) : e;
}
var Mg = /[.?*+^$[\]\\(){}|-]/g;
function Ng(e) {
  return e.replace(Mg, "\\$&");
}
function pe(e) {
  switch (e) {
    case 9:
    case 32:
      return !0;
  }
  return !1;
}
function yr(e) {
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
function Xa(e) {
  return oo.test(e) || Na.test(e);
}
function wr(e) {
  return Xa(br(e));
}
function kr(e) {
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
function vi(e) {
  return e = e.trim().replace(/\s+/g, " "), e.toLowerCase().toUpperCase();
}
function sc(e) {
  return e === 32 || e === 9 || e === 10 || e === 13;
}
function Ei(e) {
  let t = 0;
  for (; t < e.length && sc(e.charCodeAt(t)); t++) ;
  let n = e.length - 1;
  for (; n >= t && sc(e.charCodeAt(n)); n--) ;
  return e.slice(t, n + 1);
}
var Lg = {
  mdurl: Wp,
  ucmicro: qp
};
function Pg(e, t, n) {
  let r, i, s, o;
  const l = e.posMax, c = e.pos;
  for (e.pos = t + 1, r = 1; e.pos < l; ) {
    if (s = e.src.charCodeAt(e.pos), s === 93 && (r--, r === 0)) {
      i = !0;
      break;
    }
    if (o = e.pos, e.md.inline.skipToken(e), s === 91) {
      if (o === e.pos - 1) r++;
      else if (n)
        return e.pos = c, -1;
    }
  }
  let a = -1;
  return i && (a = e.pos), e.pos = c, a;
}
function Bg(e, t, n) {
  let r, i = t;
  const s = {
    ok: !1,
    pos: 0,
    str: ""
  };
  if (e.charCodeAt(i) === 60) {
    for (i++; i < n; ) {
      if (r = e.charCodeAt(i), r === 10 || r === 60) return s;
      if (r === 62)
        return s.pos = i + 1, s.str = Un(e.slice(t + 1, i)), s.ok = !0, s;
      if (r === 92 && i + 1 < n) {
        i += 2;
        continue;
      }
      i++;
    }
    return s;
  }
  let o = 0;
  for (; i < n && (r = e.charCodeAt(i), !(r === 32 || r < 32 || r === 127)); ) {
    if (r === 92 && i + 1 < n) {
      if (e.charCodeAt(i + 1) === 32) {
        i++;
        continue;
      }
      i += 2;
      continue;
    }
    if (r === 40 && (o++, o > 32))
      return s;
    if (r === 41) {
      if (o === 0) break;
      o--;
    }
    i++;
  }
  return t === i || o !== 0 || (s.str = Un(e.slice(t, i)), s.pos = i, s.ok = !0), s;
}
function jg(e, t, n, r) {
  let i, s = t;
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
    if (s >= n) return o;
    let l = e.charCodeAt(s);
    if (l !== 34 && l !== 39 && l !== 40) return o;
    t++, s++, l === 40 && (l = 41), o.marker = l;
  }
  for (; s < n; ) {
    if (i = e.charCodeAt(s), i === o.marker)
      return o.pos = s + 1, o.str += Un(e.slice(t, s)), o.ok = !0, o;
    if (i === 40 && o.marker === 41) return o;
    i === 92 && s + 1 < n && s++, s++;
  }
  return o.can_continue = !0, o.str += Un(e.slice(t, s)), o;
}
var zg = /* @__PURE__ */ Ka({
  parseLinkDestination: () => Bg,
  parseLinkLabel: () => Pg,
  parseLinkTitle: () => jg
});
function Ar(e) {
  "@babel/helpers - typeof";
  return Ar = typeof Symbol == "function" && typeof Symbol.iterator == "symbol" ? function(t) {
    return typeof t;
  } : function(t) {
    return t && typeof Symbol == "function" && t.constructor === Symbol && t !== Symbol.prototype ? "symbol" : typeof t;
  }, Ar(e);
}
function $g(e, t) {
  if (Ar(e) != "object" || !e) return e;
  var n = e[Symbol.toPrimitive];
  if (n !== void 0) {
    var r = n.call(e, t);
    if (Ar(r) != "object") return r;
    throw new TypeError("@@toPrimitive must return a primitive value.");
  }
  return (t === "string" ? String : Number)(e);
}
function Ug(e) {
  var t = $g(e, "string");
  return Ar(t) == "symbol" ? t : t + "";
}
function z(e, t, n) {
  return (t = Ug(t)) in e ? Object.defineProperty(e, t, {
    value: n,
    enumerable: !0,
    configurable: !0,
    writable: !0
  }) : e[t] = n, e;
}
var _n = class {
  constructor(e, t, n) {
    z(
      this,
      /**
      * Source map info. Format: `[ line_begin, line_end ]`
      */
      "map",
      null
    ), z(
      this,
      /**
      * nesting level, the same as `state.level`
      */
      "level",
      0
    ), z(
      this,
      /**
      * An array of child nodes (inline and img tokens)
      */
      "children",
      null
    ), z(
      this,
      /**
      * In a case of self-closing tag (code, html, fence, etc.),
      * it has contents of this tag.
      */
      "content",
      ""
    ), z(
      this,
      /**
      * '*' or '_' for emphasis, fence string for fence, etc.
      */
      "markup",
      ""
    ), z(
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
    ), z(
      this,
      /**
      * True for block-level tokens, false for inline tokens.
      * Used in renderer to calculate line breaks
      */
      "block",
      !1
    ), z(
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
}, xr = class {
  constructor() {
    z(
      this,
      /** @internal */
      "__rules__",
      []
    ), z(
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
    const i = this.__find__(e);
    if (i === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(i, 0, {
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
    const i = this.__find__(e);
    if (i === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(i + 1, 0, {
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
      const i = this.__find__(r);
      if (i < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${r}`);
      }
      this.__rules__[i].enabled = !0, n.push(r);
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
      const i = this.__find__(r);
      if (i < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${r}`);
      }
      this.__rules__[i].enabled = !1, n.push(r);
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
}, kt = {};
kt.code_inline = function(e, t, n, r, i) {
  const s = e[t];
  return `<code${i.renderAttrs(s)}>${Yt(s.content)}</code>`;
};
kt.code_block = function(e, t, n, r, i) {
  const s = e[t];
  return `<pre${i.renderAttrs(s)}><code>${Yt(e[t].content)}</code></pre>
`;
};
kt.fence = function(e, t, n, r, i) {
  const s = e[t], o = s.info ? Un(s.info).trim() : "";
  let l = "", c = "";
  if (o) {
    const u = o.split(/(\s+)/g);
    l = u[0], c = u.slice(2).join("");
  }
  let a;
  if (n.highlight ? a = n.highlight(s.content, l, c) || Yt(s.content) : a = Yt(s.content), a.indexOf("<pre") === 0) return a + `
`;
  if (o) {
    const u = s.attrIndex("class"), h = s.attrs ? s.attrs.slice() : [];
    u < 0 ? h.push(["class", `${n.langPrefix}${l}`]) : (h[u] = [h[u][0], h[u][1]], h[u][1] += ` ${n.langPrefix}${l}`);
    const y = { attrs: h };
    return `<pre><code${i.renderAttrs(y)}>${a}</code></pre>
`;
  }
  return `<pre><code${i.renderAttrs(s)}>${a}</code></pre>
`;
};
kt.image = function(e, t, n, r, i) {
  const s = e[t];
  return s.attrs[s.attrIndex("alt")][1] = i.renderInlineAsText(s.children, n, r), i.renderToken(e, t, n);
};
kt.hardbreak = function(e, t, n) {
  return n.xhtmlOut ? `<br />
` : `<br>
`;
};
kt.softbreak = function(e, t, n) {
  return n.breaks ? n.xhtmlOut ? `<br />
` : `<br>
` : `
`;
};
kt.text = function(e, t) {
  return Yt(e[t].content);
};
kt.html_block = function(e, t) {
  return e[t].content;
};
kt.html_inline = function(e, t) {
  return e[t].content;
};
var Za = class {
  constructor() {
    z(
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
      Object.assign({}, kt)
    );
  }
  /**
  * Render token attributes to string.
  */
  renderAttrs(e) {
    let t, n, r;
    if (!e.attrs) return "";
    for (r = "", t = 0, n = e.attrs.length; t < n; t++) r += ` ${Yt(e.attrs[t][0])}="${Yt(String(e.attrs[t][1]))}"`;
    return r;
  }
  /**
  * Default token renderer. Can be overriden by custom function
  * in {@link Renderer.rules}.
  */
  renderToken(e, t, n) {
    const r = e[t];
    let i = "";
    if (r.hidden) return "";
    let s = t - 1;
    for (; s >= 0 && e[s].hidden && e[s].nesting === 0; ) s--;
    r.block && r.nesting !== -1 && s >= 0 && e[s].hidden && e[s].nesting === -1 && (i += `
`), i += (r.nesting === -1 ? "</" : "<") + r.tag, i += this.renderAttrs(r), r.nesting === 0 && n.xhtmlOut && (i += " /");
    let o = !1;
    if (r.block && (o = !0, r.nesting === 1)) {
      let l = t + 1;
      for (; l < e.length && e[l].hidden && e[l].nesting === 0; ) l++;
      if (l < e.length) {
        const c = e[l];
        (c.type === "inline" || c.hidden || c.nesting === -1 && c.tag === r.tag) && (o = !1);
      }
    }
    return i += o ? `>
` : ">", i;
  }
  /**
  * The same as {@link Renderer.render}, but for single token of `inline` type.
  */
  renderInline(e, t, n) {
    let r = "";
    const i = this.rules;
    for (let s = 0, o = e.length; s < o; s++) {
      const l = e[s].type;
      typeof i[l] < "u" ? r += i[l](e, s, t, n, this) : r += this.renderToken(e, s, t);
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
    for (let i = 0, s = e.length; i < s; i++) switch (e[i].type) {
      case "text":
      case "code_inline":
        r += e[i].content;
        break;
      case "image":
        r += this.renderInlineAsText(e[i].children, t, n);
        break;
      case "html_inline":
      case "html_block":
        r += e[i].content;
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
    const i = this.rules;
    for (let s = 0, o = e.length; s < o; s++) {
      const l = e[s].type;
      l === "inline" ? r += this.renderInline(e[s].children, t, n) : typeof i[l] < "u" ? r += i[l](e, s, t, n, this) : r += this.renderToken(e, s, t);
    }
    return r;
  }
}, Qa = class {
  constructor(e, t, n) {
    z(this, "tokens", []), z(this, "inlineMode", !1), z(this, "Token", _n), this.src = e, this.env = n, this.md = t;
  }
}, Wg = /\r\n?/g, Jg = /\0/g;
function qg(e) {
  let t;
  t = e.src.replace(Wg, `
`), t = t.replace(Jg, "�"), e.src = t;
}
function Hg(e) {
  let t;
  e.inlineMode ? (t = new e.Token("inline", "", 0), t.content = e.src, t.map = [0, 1], t.children = [], e.tokens.push(t)) : e.md.block.parse(e.src, e.md, e.env, e.tokens);
}
function Vg(e) {
  const t = e.tokens;
  let n = 0;
  for (let r = 0; r < t.length; r++)
    t[r].type !== "reference_definition" && (r !== n && (t[n] = t[r]), n++);
  t.length !== n && (t.length = n);
}
function Kg(e) {
  const t = e.tokens;
  for (let n = 0, r = t.length; n < r; n++) {
    const i = t[n];
    i.type === "inline" && e.md.inline.parse(i.content, e.md, e.env, i.children);
  }
}
function Gg(e) {
  return /^<a[>\s]/i.test(e);
}
function Yg(e) {
  return /^<\/a\s*>/i.test(e);
}
function Xg(e) {
  const t = e.tokens;
  if (e.md.options.linkify)
    for (let n = 0, r = t.length; n < r; n++) {
      if (t[n].type !== "inline" || !e.md.linkify.test(t[n].content)) continue;
      const i = t[n].children, s = [];
      let o = 0;
      for (let l = i.length - 1; l >= 0; l--) {
        const c = i[l];
        if (c.type === "link_close") {
          for (l--; i[l].level !== c.level && i[l].type !== "link_open"; ) l--;
          continue;
        }
        if (c.type === "html_inline" && (Gg(c.content) && o > 0 && o--, Yg(c.content) && o++), !(o > 0) && c.type === "text" && e.md.linkify.test(c.content)) {
          const a = c.content;
          let u = e.md.linkify.match(a);
          const h = [];
          let y = c.level, _ = 0;
          u.length > 0 && u[0].index === 0 && l > 0 && i[l - 1].type === "text_special" && (u = u.slice(1));
          for (let p = 0; p < u.length; p++) {
            const E = u[p].url, F = e.md.normalizeLink(E);
            if (!e.md.validateLink(F)) continue;
            let M = u[p].text;
            u[p].schema ? u[p].schema === "mailto:" && !/^mailto:/i.test(M) ? M = e.md.normalizeLinkText(`mailto:${M}`).replace(/^mailto:/, "") : M = e.md.normalizeLinkText(M) : M = e.md.normalizeLinkText(`http://${M}`).replace(/^http:\/\//, "");
            const v = u[p].index;
            if (v > _) {
              const j = new e.Token("text", "", 0);
              j.content = a.slice(_, v), j.level = y, h.push(j);
            }
            const w = new e.Token("link_open", "a", 1);
            w.attrs = [["href", F]], w.level = y++, w.markup = "linkify", w.info = "auto", h.push(w);
            const b = new e.Token("text", "", 0);
            b.content = M, b.level = y, h.push(b);
            const N = new e.Token("link_close", "a", -1);
            N.level = --y, N.markup = "linkify", N.info = "auto", h.push(N), _ = u[p].lastIndex;
          }
          if (_ < a.length) {
            const p = new e.Token("text", "", 0);
            p.content = a.slice(_), p.level = y, h.push(p);
          }
          s.push({
            index: l,
            nodes: h
          });
        }
      }
      if (s.length > 0) {
        let l = i.length;
        for (const h of s) l += h.nodes.length - 1;
        const c = new Array(l);
        let a = 0, u = 0;
        s.reverse();
        for (let h = 0; h < i.length; h++) {
          const y = s[a];
          if (y?.index === h) {
            for (const _ of y.nodes) c[u++] = _;
            a++;
          } else c[u++] = i[h];
        }
        t[n].children = c;
      }
    }
}
var eu = /\+-|\.\.|\?\?\?\?|!!!!|,,|--/, Zg = /\((c|tm|r)\)/i, Qg = /\((c|tm|r)\)/gi, em = {
  c: "©",
  r: "®",
  tm: "™"
};
function tm(e, t) {
  return em[t.toLowerCase()];
}
function nm(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && (r.content = r.content.replace(Qg, tm)), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function rm(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && eu.test(r.content) && (r.content = r.content.replace(/\+-/g, "±").replace(/\.{2,}/g, "…").replace(/([?!])…/g, "$1..").replace(/([?!]){4,}/g, "$1$1$1").replace(/,{2,}/g, ",").replace(/(^|[^-])---(?=[^-]|$)/gm, "$1—").replace(/(^|\s)--(?=\s|$)/gm, "$1–").replace(/(^|[^-\s])--(?=[^-\s]|$)/gm, "$1–")), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function im(e) {
  let t;
  if (e.md.options.typographer)
    for (t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type === "inline" && (Zg.test(e.tokens[t].content) && nm(e.tokens[t].children), eu.test(e.tokens[t].content) && rm(e.tokens[t].children));
}
var sm = /['"]/, oc = /['"]/g, lc = "’", om = 1e3;
function cc(e, t, n) {
  for (; e.length > n; ) {
    const r = e.pop();
    r.isSingleQuote ? t.single = r.prevSameQuoteIdx : t.double = r.prevSameQuoteIdx;
  }
}
function Hr(e, t, n, r) {
  e[t] || (e[t] = []), e[t].push({
    pos: n,
    ch: r
  });
}
function lm(e, t) {
  let n = "", r = 0;
  t.sort((i, s) => i.pos - s.pos);
  for (let i = 0; i < t.length; i++) {
    const s = t[i];
    n += e.slice(r, s.pos) + s.ch, r = s.pos + 1;
  }
  return n + e.slice(r);
}
function cm(e, t) {
  let n;
  const r = [], i = {
    single: -1,
    double: -1
  }, s = {};
  for (let o = 0; o < e.length; o++) {
    const l = e[o], c = e[o].level;
    for (n = r.length - 1; n >= 0 && !(r[n].level <= c); n--) ;
    if (cc(r, i, n + 1), l.type !== "text") continue;
    const a = l.content;
    let u = 0;
    const h = a.length;
    e: for (; u < h; ) {
      oc.lastIndex = u;
      const y = oc.exec(a);
      if (!y) break;
      let _ = !0, p = !0;
      u = y.index + 1;
      const E = y[0] === "'";
      let F = 32;
      if (y.index - 1 >= 0) F = a.charCodeAt(y.index - 1);
      else for (n = o - 1; n >= 0 && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n--)
        if (e[n].content) {
          F = e[n].content.charCodeAt(e[n].content.length - 1);
          break;
        }
      let M = 32;
      if (u < h) M = a.charCodeAt(u);
      else for (n = o + 1; n < e.length && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n++)
        if (e[n].content) {
          M = e[n].content.charCodeAt(0);
          break;
        }
      const v = kr(F) || wr(F), w = kr(M) || wr(M), b = yr(F), N = yr(M);
      if (N ? _ = !1 : w && (b || v || (_ = !1)), b ? p = !1 : v && (N || w || (p = !1)), M === 34 && y[0] === '"' && F >= 48 && F <= 57 && (p = _ = !1), _ && p && (_ = v, p = w), !_ && !p) {
        E && Hr(s, o, y.index, lc);
        continue;
      }
      if (p && (n = E ? i.single : i.double, n >= 0 && r[n].level === c)) {
        const j = r[n];
        let W, Z;
        E ? (W = t.md.options.quotes[2], Z = t.md.options.quotes[3]) : (W = t.md.options.quotes[0], Z = t.md.options.quotes[1]), Hr(s, o, y.index, Z), Hr(s, j.tokenIdx, j.contentPos, W), cc(r, i, n);
        continue e;
      }
      if (_) {
        if (r.length >= om) return;
        r.push({
          tokenIdx: o,
          contentPos: y.index,
          isSingleQuote: E,
          level: c,
          prevSameQuoteIdx: E ? i.single : i.double
        }), E ? i.single = r.length - 1 : i.double = r.length - 1;
      } else p && E && Hr(s, o, y.index, lc);
    }
  }
  Object.keys(s).forEach(function(o) {
    const l = Number(o);
    e[l].content = lm(e[l].content, s[o]);
  });
}
function am(e) {
  if (e.md.options.typographer)
    for (let t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type !== "inline" || !sm.test(e.tokens[t].content) || cm(e.tokens[t].children, e);
}
function um(e) {
  let t, n;
  const r = e.length;
  for (t = 0; t < r; t++) e[t].type === "text_special" && (e[t].type = "text");
  for (t = n = 0; t < r; t++) e[t].type === "text" && t + 1 < r && e[t + 1].type === "text" ? e[t + 1].content = e[t].content + e[t + 1].content : (t !== n && (e[n] = e[t]), n++);
  t !== n && (e.length = n);
}
function fm(e) {
  let t, n;
  const r = e.tokens, i = r.length;
  for (let s = 0; s < i; s++) {
    if (r[s].type !== "inline") continue;
    const o = r[s].children, l = o.length;
    for (t = 0; t < l; t++)
      o[t].type === "text_special" && (o[t].type = "text"), o[t].children && um(o[t].children);
    for (t = n = 0; t < l; t++) o[t].type === "text" && t + 1 < l && o[t + 1].type === "text" ? o[t + 1].content = o[t].content + o[t + 1].content : (t !== n && (o[n] = o[t]), n++);
    t !== n && (o.length = n);
  }
}
var Rs = [
  ["normalize", qg],
  ["block", Hg],
  ["strip_references", Vg],
  ["inline", Kg],
  ["linkify", Xg],
  ["replacements", im],
  ["smartquotes", am],
  ["text_join", fm]
], tu = class {
  constructor() {
    z(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of core rules.
      */
      "ruler",
      new xr()
    ), z(this, "State", Qa);
    for (let e = 0; e < Rs.length; e++) this.ruler.push(Rs[e][0], Rs[e][1]);
  }
  /**
  * Executes core chain rules.
  */
  process(e) {
    const t = this.ruler.getRules("");
    for (let n = 0, r = t.length; n < r; n++) t[n](e);
  }
}, nu = class {
  constructor(e, t, n, r) {
    z(this, "bMarks", []), z(this, "eMarks", []), z(this, "tShift", []), z(this, "sCount", []), z(this, "bsCount", []), z(this, "blkIndent", 0), z(this, "line", 0), z(this, "lineMax", 0), z(this, "tight", !1), z(this, "listIndent", -1), z(this, "parentType", "root"), z(this, "level", 0), z(this, "Token", _n), this.src = e, this.md = t, this.env = n, this.tokens = r;
    const i = this.src;
    for (let s = 0, o = 0, l = 0, c = 0, a = i.length, u = !1; o < a; o++) {
      const h = i.charCodeAt(o);
      if (!u)
        if (pe(h)) {
          l++, h === 9 ? c += 4 - c % 4 : c++;
          continue;
        } else u = !0;
      (h === 10 || o === a - 1) && (h !== 10 && o++, this.bMarks.push(s), this.eMarks.push(o), this.tShift.push(l), this.sCount.push(c), this.bsCount.push(0), u = !1, l = 0, c = 0, s = o + 1);
    }
    this.bMarks.push(i.length), this.eMarks.push(i.length), this.tShift.push(0), this.sCount.push(0), this.bsCount.push(0), this.lineMax = this.bMarks.length - 1;
  }
  push(e, t, n) {
    const r = new _n(e, t, n);
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
    for (let t = this.src.length; e < t && pe(this.src.charCodeAt(e)); e++) ;
    return e;
  }
  skipSpacesBack(e, t) {
    if (e <= t) return e;
    for (; e > t; ) if (!pe(this.src.charCodeAt(--e))) return e + 1;
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
    const i = new Array(t - e);
    for (let s = 0, o = e; o < t; o++, s++) {
      let l = 0;
      const c = this.bMarks[o];
      let a = c, u;
      for (o + 1 < t || r ? u = this.eMarks[o] + 1 : u = this.eMarks[o]; a < u && l < n; ) {
        const h = this.src.charCodeAt(a);
        if (pe(h))
          h === 9 ? l += 4 - (l + this.bsCount[o]) % 4 : l++;
        else if (a - c < this.tShift[o]) l++;
        else break;
        a++;
      }
      l > n ? i[s] = new Array(l - n + 1).join(" ") + this.src.slice(a, u) : i[s] = this.src.slice(a, u);
    }
    return i.join("");
  }
}, hm = 65536;
function vs(e, t) {
  const n = e.bMarks[t] + e.tShift[t], r = e.eMarks[t];
  return e.src.slice(n, r);
}
function ac(e) {
  const t = [], n = e.length;
  let r = 0, i = e.charCodeAt(r), s = !1, o = 0, l = "";
  for (; r < n; )
    i === 124 && (s ? (l += e.substring(o, r - 1), o = r) : (t.push(l + e.substring(o, r)), l = "", o = r + 1)), s = i === 92, r++, i = e.charCodeAt(r);
  return t.push(l + e.substring(o)), t;
}
function dm(e, t, n, r) {
  if (t + 2 > n) return !1;
  let i = t + 1;
  if (e.sCount[i] < e.blkIndent || e.sCount[i] - e.blkIndent >= 4) return !1;
  let s = e.bMarks[i] + e.tShift[i];
  if (s >= e.eMarks[i]) return !1;
  const o = e.src.charCodeAt(s++);
  if (o !== 124 && o !== 45 && o !== 58 || s >= e.eMarks[i]) return !1;
  const l = e.src.charCodeAt(s++);
  if (l !== 124 && l !== 45 && l !== 58 && !pe(l) || o === 45 && pe(l)) return !1;
  for (; s < e.eMarks[i]; ) {
    const b = e.src.charCodeAt(s);
    if (b !== 124 && b !== 45 && b !== 58 && !pe(b)) return !1;
    s++;
  }
  let c = vs(e, t + 1), a = c.split("|");
  const u = [];
  for (let b = 0; b < a.length; b++) {
    const N = a[b].trim();
    if (!N) {
      if (b === 0 || b === a.length - 1) continue;
      return !1;
    }
    if (!/^:?-+:?$/.test(N)) return !1;
    N.charCodeAt(N.length - 1) === 58 ? u.push(N.charCodeAt(0) === 58 ? "center" : "right") : N.charCodeAt(0) === 58 ? u.push("left") : u.push("");
  }
  if (c = vs(e, t).trim(), c.indexOf("|") === -1 || e.sCount[t] - e.blkIndent >= 4) return !1;
  a = ac(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop();
  const h = a.length;
  if (h === 0 || h !== u.length) return !1;
  if (r) return !0;
  const y = e.parentType;
  e.parentType = "table";
  const _ = e.md.block.ruler.getRules("blockquote"), p = e.push("table_open", "table", 1), E = [t, 0];
  p.map = E;
  const F = e.push("thead_open", "thead", 1);
  F.map = [t, t + 1];
  const M = e.push("tr_open", "tr", 1);
  M.map = [t, t + 1];
  for (let b = 0; b < a.length; b++) {
    const N = e.push("th_open", "th", 1);
    u[b] && (N.attrs = [["style", `text-align:${u[b]}`]]);
    const j = e.push("inline", "", 0);
    j.content = a[b].trim(), j.children = [], e.push("th_close", "th", -1);
  }
  e.push("tr_close", "tr", -1), e.push("thead_close", "thead", -1);
  let v, w = 0;
  for (i = t + 2; i < n && !(e.sCount[i] < e.blkIndent); i++) {
    let b = !1;
    for (let j = 0, W = _.length; j < W; j++) if (_[j](e, i, n, !0)) {
      b = !0;
      break;
    }
    if (b || (c = vs(e, i).trim(), !c) || e.sCount[i] - e.blkIndent >= 4 || (a = ac(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop(), w += h - a.length, w > hm)) break;
    if (i === t + 2) {
      const j = e.push("tbody_open", "tbody", 1);
      j.map = v = [t + 2, 0];
    }
    const N = e.push("tr_open", "tr", 1);
    N.map = [i, i + 1];
    for (let j = 0; j < h; j++) {
      const W = e.push("td_open", "td", 1);
      u[j] && (W.attrs = [["style", `text-align:${u[j]}`]]);
      const Z = e.push("inline", "", 0);
      Z.content = a[j] ? a[j].trim() : "", Z.children = [], e.push("td_close", "td", -1);
    }
    e.push("tr_close", "tr", -1);
  }
  return v && (e.push("tbody_close", "tbody", -1), v[1] = i), e.push("table_close", "table", -1), E[1] = i, e.parentType = y, e.line = i, !0;
}
function pm(e, t, n) {
  if (e.sCount[t] - e.blkIndent < 4) return !1;
  let r = t + 1, i = r;
  for (; r < n; ) {
    if (e.isEmpty(r)) {
      r++;
      continue;
    }
    if (e.sCount[r] - e.blkIndent >= 4) {
      r++, i = r;
      continue;
    }
    break;
  }
  e.line = i;
  const s = e.push("code_block", "code", 0);
  return s.content = e.getLines(t, i, 4 + e.blkIndent, !1) + `
`, s.map = [t, e.line], !0;
}
function gm(e, t, n, r) {
  let i = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || i + 3 > s) return !1;
  const o = e.src.charCodeAt(i);
  if (o !== 126 && o !== 96) return !1;
  let l = i;
  i = e.skipChars(i, o);
  let c = i - l;
  if (c < 3) return !1;
  const a = e.src.slice(l, i), u = e.src.slice(i, s);
  if (o === 96 && u.indexOf(String.fromCharCode(o)) >= 0)
    return !1;
  if (r) return !0;
  let h = t, y = !1;
  for (; h++, !(h >= n || (i = l = e.bMarks[h] + e.tShift[h], s = e.eMarks[h], i < s && e.sCount[h] < e.blkIndent)); )
    if (e.src.charCodeAt(i) === o && !(e.sCount[h] - e.blkIndent >= 4) && (i = e.skipChars(i, o), !(i - l < c) && (i = e.skipSpaces(i), !(i < s)))) {
      y = !0;
      break;
    }
  c = e.sCount[t], e.line = h + (y ? 1 : 0);
  const _ = e.push("fence", "code", 0);
  return _.info = u, _.content = e.getLines(t + 1, h, c, !0), _.markup = a, _.map = [t, e.line], !0;
}
function mm(e, t, n, r) {
  let i = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  const o = e.lineMax;
  if (e.sCount[t] - e.blkIndent >= 4 || e.src.charCodeAt(i) !== 62) return !1;
  if (r) return !0;
  const l = [], c = [], a = [], u = [], h = e.md.block.ruler.getRules("blockquote"), y = e.parentType;
  e.parentType = "blockquote";
  let _ = !1, p;
  for (p = t; p < n; p++) {
    const w = e.sCount[p] < e.blkIndent;
    if (i = e.bMarks[p] + e.tShift[p], s = e.eMarks[p], i >= s) break;
    if (e.src.charCodeAt(i++) === 62 && !w) {
      let N = e.sCount[p] + 1, j, W;
      e.src.charCodeAt(i) === 32 ? (i++, N++, W = !1, j = !0) : e.src.charCodeAt(i) === 9 ? (j = !0, (e.bsCount[p] + N) % 4 === 3 ? (i++, N++, W = !1) : W = !0) : j = !1;
      let Z = N;
      for (l.push(e.bMarks[p]), e.bMarks[p] = i; i < s; ) {
        const Q = e.src.charCodeAt(i);
        if (pe(Q))
          Q === 9 ? Z += 4 - (Z + e.bsCount[p] + (W ? 1 : 0)) % 4 : Z++;
        else break;
        i++;
      }
      _ = i >= s, c.push(e.bsCount[p]), e.bsCount[p] = e.sCount[p] + 1 + (j ? 1 : 0), a.push(e.sCount[p]), e.sCount[p] = Z - N, u.push(e.tShift[p]), e.tShift[p] = i - e.bMarks[p];
      continue;
    }
    if (_) break;
    let b = !1;
    for (let N = 0, j = h.length; N < j; N++) if (h[N](e, p, n, !0)) {
      b = !0;
      break;
    }
    if (b) {
      e.lineMax = p, e.blkIndent !== 0 && (l.push(e.bMarks[p]), c.push(e.bsCount[p]), u.push(e.tShift[p]), a.push(e.sCount[p]), e.sCount[p] -= e.blkIndent);
      break;
    }
    l.push(e.bMarks[p]), c.push(e.bsCount[p]), u.push(e.tShift[p]), a.push(e.sCount[p]), e.sCount[p] = -1;
  }
  const E = e.blkIndent;
  e.blkIndent = 0;
  const F = e.push("blockquote_open", "blockquote", 1);
  F.markup = ">";
  const M = [t, 0];
  F.map = M, e.md.block.tokenize(e, t, p);
  const v = e.push("blockquote_close", "blockquote", -1);
  v.markup = ">", e.lineMax = o, e.parentType = y, M[1] = e.line;
  for (let w = 0; w < u.length; w++)
    e.bMarks[w + t] = l[w], e.tShift[w + t] = u[w], e.sCount[w + t] = a[w], e.bsCount[w + t] = c[w];
  return e.blkIndent = E, !0;
}
function _m(e, t, n, r) {
  const i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let s = e.bMarks[t] + e.tShift[t];
  const o = e.src.charCodeAt(s++);
  if (o !== 42 && o !== 45 && o !== 95) return !1;
  let l = 1;
  for (; s < i; ) {
    const a = e.src.charCodeAt(s++);
    if (a !== o && !pe(a)) return !1;
    a === o && l++;
  }
  if (l < 3) return !1;
  if (r) return !0;
  e.line = t + 1;
  const c = e.push("hr", "hr", 0);
  return c.map = [t, e.line], c.markup = Array(l + 1).join(String.fromCharCode(o)), !0;
}
function uc(e, t) {
  const n = e.eMarks[t];
  let r = e.bMarks[t] + e.tShift[t];
  const i = e.src.charCodeAt(r++);
  return i !== 42 && i !== 45 && i !== 43 || r < n && !pe(e.src.charCodeAt(r)) ? -1 : r;
}
function fc(e, t) {
  const n = e.bMarks[t] + e.tShift[t], r = e.eMarks[t];
  let i = n;
  if (i + 1 >= r) return -1;
  let s = e.src.charCodeAt(i++);
  if (s < 48 || s > 57) return -1;
  for (; ; ) {
    if (i >= r) return -1;
    if (s = e.src.charCodeAt(i++), s >= 48 && s <= 57) {
      if (i - n >= 10) return -1;
      continue;
    }
    if (s === 41 || s === 46) break;
    return -1;
  }
  return i < r && (s = e.src.charCodeAt(i), !pe(s)) ? -1 : i;
}
function bm(e, t) {
  const n = e.level + 2;
  for (let r = t + 2, i = e.tokens.length - 2; r < i; r++) e.tokens[r].level === n && e.tokens[r].type === "paragraph_open" && (e.tokens[r + 2].hidden = !0, e.tokens[r].hidden = !0, r += 2);
}
function ym(e, t, n, r) {
  let i, s, o, l, c = t, a = !0;
  if (e.sCount[c] - e.blkIndent >= 4 || e.listIndent >= 0 && e.sCount[c] - e.listIndent >= 4 && e.sCount[c] < e.blkIndent) return !1;
  let u = !1;
  r && e.parentType === "paragraph" && e.sCount[c] >= e.blkIndent && (u = !0);
  let h, y, _;
  if ((_ = fc(e, c)) >= 0) {
    if (h = !0, o = e.bMarks[c] + e.tShift[c], y = Number(e.src.slice(o, _ - 1)), u && y !== 1) return !1;
  } else if ((_ = uc(e, c)) >= 0) h = !1;
  else return !1;
  if (u && e.skipSpaces(_) >= e.eMarks[c])
    return !1;
  if (r) return !0;
  const p = e.src.charCodeAt(_ - 1), E = e.tokens.length;
  h ? (l = e.push("ordered_list_open", "ol", 1), y !== 1 && (l.attrs = [["start", y]])) : l = e.push("bullet_list_open", "ul", 1);
  const F = [c, 0];
  l.map = F, l.markup = String.fromCharCode(p);
  let M = !1;
  const v = e.md.block.ruler.getRules("list"), w = e.parentType;
  for (e.parentType = "list"; c < n; ) {
    s = _, i = e.eMarks[c];
    const b = e.sCount[c] + _ - (e.bMarks[c] + e.tShift[c]);
    let N = b;
    for (; s < i; ) {
      const ye = e.src.charCodeAt(s);
      if (ye === 9) N += 4 - (N + e.bsCount[c]) % 4;
      else if (ye === 32) N++;
      else break;
      s++;
    }
    const j = s;
    let W;
    j >= i ? W = 1 : W = N - b, W > 4 && (W = 1);
    const Z = b + W;
    l = e.push("list_item_open", "li", 1), l.markup = String.fromCharCode(p);
    const Q = [c, 0];
    l.map = Q, h && (l.info = e.src.slice(o, _ - 1));
    const se = e.tight, V = e.tShift[c], le = e.sCount[c], Me = e.listIndent;
    if (e.listIndent = e.blkIndent, e.blkIndent = Z, e.tight = !0, e.tShift[c] = j - e.bMarks[c], e.sCount[c] = N, j >= i && e.isEmpty(c + 1) ? e.line = Math.min(e.line + 2, n) : e.md.block.tokenize(e, c, n), (!e.tight || M) && (a = !1), M = e.line - c > 1 && e.isEmpty(e.line - 1), e.blkIndent = e.listIndent, e.listIndent = Me, e.tShift[c] = V, e.sCount[c] = le, e.tight = se, l = e.push("list_item_close", "li", -1), l.markup = String.fromCharCode(p), c = e.line, Q[1] = c, c >= n || e.sCount[c] < e.blkIndent || e.sCount[c] - e.blkIndent >= 4) break;
    let De = !1;
    for (let ye = 0, Xt = v.length; ye < Xt; ye++) if (v[ye](e, c, n, !0)) {
      De = !0;
      break;
    }
    if (De) break;
    if (h) {
      if (_ = fc(e, c), _ < 0) break;
      o = e.bMarks[c] + e.tShift[c];
    } else if (_ = uc(e, c), _ < 0) break;
    if (p !== e.src.charCodeAt(_ - 1)) break;
  }
  return h ? l = e.push("ordered_list_close", "ol", -1) : l = e.push("bullet_list_close", "ul", -1), l.markup = String.fromCharCode(p), F[1] = c, e.line = c, e.parentType = w, a && bm(e, E), !0;
}
var Es = 999;
function wm(e) {
  let t = e.length;
  for (let n = 0; n < e.length - 1; n++) {
    const r = e.charCodeAt(n);
    if (r < 55296 || r > 56319) continue;
    const i = e.charCodeAt(n + 1);
    i >= 56320 && i <= 57343 && (t--, n++);
  }
  return t;
}
function er(e, t) {
  return Math.min(e.eMarks[t] + 1, e.src.length);
}
function Vr(e, t) {
  const n = e.lineMax;
  if (t >= n || e.isEmpty(t)) return -1;
  let r = !1;
  if (e.sCount[t] - e.blkIndent > 3 && (r = !0), e.sCount[t] < 0 && (r = !0), !r) {
    const i = e.md.block.ruler.getRules("reference"), s = e.parentType;
    e.parentType = "reference";
    let o = !1;
    for (let l = 0, c = i.length; l < c; l++) if (i[l](e, t, n, !0)) {
      o = !0;
      break;
    }
    if (e.parentType = s, o) return -1;
  }
  return e.bMarks[t] + e.tShift[t];
}
function km(e, t, n, r) {
  const i = e.src;
  let s = e.bMarks[t] + e.tShift[t], o = t + 1;
  if (e.sCount[t] - e.blkIndent >= 4 || i.charCodeAt(s) !== 91) return !1;
  let l = er(e, t), c = "", a = -1, u = ++s;
  for (; s < l; ) {
    if (c.length + s - u > Es * 2) return !1;
    let j = i.charCodeAt(s);
    if (j === 91) return !1;
    if (j === 93) {
      a = s;
      break;
    }
    if (j === 92 && (j = i.charCodeAt(++s)), j === 10 && s < l) {
      const W = Vr(e, o);
      if (W < 0) return !1;
      c += i.slice(u, l), s = u = W, l = er(e, o++);
      continue;
    }
    s++;
  }
  if (a < 0 || i.charCodeAt(a + 1) !== 58 || (c += i.slice(u, a), c.length > Es && wm(c) > Es)) return !1;
  for (s = a + 2; s < l; ) {
    const j = i.charCodeAt(s);
    if (j === 10) {
      const W = Vr(e, o);
      if (W < 0) break;
      s = W, l = er(e, o++);
    } else if (pe(j)) s++;
    else break;
  }
  const h = e.md.helpers.parseLinkDestination(i, s, l);
  if (!h.ok) return !1;
  const y = e.md.normalizeLink(h.str);
  if (!e.md.validateLink(y)) return !1;
  s = h.pos;
  const _ = s, p = l, E = o;
  for (; s < l; ) {
    const j = i.charCodeAt(s);
    if (j === 10) {
      const W = Vr(e, o);
      if (W < 0) break;
      s = W, l = er(e, o++);
    } else if (pe(j)) s++;
    else break;
  }
  const F = s;
  let M = e.md.helpers.parseLinkTitle(i, s, l);
  for (; M.can_continue; ) {
    const j = Vr(e, o);
    if (j < 0) break;
    s = j, l = er(e, o++), M = e.md.helpers.parseLinkTitle(i, s, l, M);
  }
  let v;
  for (F !== _ && M.ok ? (v = M.str, s = M.pos) : (v = "", s = _, l = p, o = E); s < l && pe(i.charCodeAt(s)); )
    s++;
  if (s < l && i.charCodeAt(s) !== 10 && v)
    for (v = "", s = _, l = p, o = E; s < l && pe(i.charCodeAt(s)); )
      s++;
  if (s < l && i.charCodeAt(s) !== 10) return !1;
  const w = vi(c);
  if (!w) return !1;
  if (r) return !0;
  typeof e.env.references > "u" && (e.env.references = {}), typeof e.env.references[w] > "u" && (e.env.references[w] = {
    title: v,
    href: y
  });
  const b = e.push("reference_definition", "", 0);
  b.map = [t, o], b.hidden = !0;
  const N = /* @__PURE__ */ Object.create(null);
  return N.label = w, b.meta = N, e.line = o, !0;
}
var Am = [
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
], xm = `<[A-Za-z][A-Za-z0-9\\-]*(?:\\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\\s*=\\s*(?:[^"'=<>\`\\x00-\\x20]+|'[^']*'|"[^"]*"))?)*\\s*\\/?>`, Rm = "<\\/[A-Za-z][A-Za-z0-9\\-]*\\s*>", ru = new RegExp(`^(?:${xm}|${Rm})`), ln = [
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
    new RegExp(`^</?(${Am.join("|")})(?=(\\s|/?>|$))`, "i"),
    /^$/,
    !0
  ],
  [
    new RegExp(`${ru.source}\\s*$`),
    /^$/,
    !1
  ]
];
function vm(e, t, n, r) {
  let i = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || !e.md.options.html || e.src.charCodeAt(i) !== 60) return !1;
  let o = e.src.slice(i, s), l = 0;
  for (; l < ln.length && !ln[l][0].test(o); l++) ;
  if (l === ln.length) return !1;
  if (r) return ln[l][2];
  let c = t + 1;
  const a = ln[l][1].test("");
  if (!ln[l][1].test(o)) {
    for (; c < n && !(e.sCount[c] < e.blkIndent && (a || !e.isEmpty(c))); c++)
      if (i = e.bMarks[c] + e.tShift[c], s = e.eMarks[c], o = e.src.slice(i, s), ln[l][1].test(o)) {
        o.length !== 0 && c++;
        break;
      }
  }
  e.line = c;
  const u = e.push("html_block", "", 0);
  return u.map = [t, c], u.content = e.getLines(t, c, e.blkIndent, !0), !0;
}
function Em(e, t, n, r) {
  let i = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let o = e.src.charCodeAt(i);
  if (o !== 35 || i >= s) return !1;
  let l = 1;
  for (o = e.src.charCodeAt(++i); o === 35 && i < s && l <= 6; )
    l++, o = e.src.charCodeAt(++i);
  if (l > 6 || i < s && !pe(o)) return !1;
  if (r) return !0;
  s = e.skipSpacesBack(s, i);
  const c = e.skipCharsBack(s, 35, i);
  c > i && pe(e.src.charCodeAt(c - 1)) && (s = c), e.line = t + 1;
  const a = e.push("heading_open", `h${l}`, 1);
  a.markup = "########".slice(0, l), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = Ei(e.src.slice(i, s)), u.map = [t, e.line], u.children = [];
  const h = e.push("heading_close", `h${l}`, -1);
  return h.markup = "########".slice(0, l), !0;
}
function Cm(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph");
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  const i = e.parentType;
  e.parentType = "paragraph";
  let s = 0, o, l = t + 1;
  for (; l < n && !e.isEmpty(l); l++) {
    if (e.sCount[l] - e.blkIndent > 3) continue;
    if (e.sCount[l] >= e.blkIndent) {
      let _ = e.bMarks[l] + e.tShift[l];
      const p = e.eMarks[l];
      if (_ < p && (o = e.src.charCodeAt(_), (o === 45 || o === 61) && (_ = e.skipChars(_, o), _ = e.skipSpaces(_), _ >= p))) {
        s = o === 61 ? 1 : 2;
        break;
      }
    }
    if (e.sCount[l] < 0) continue;
    let y = !1;
    for (let _ = 0, p = r.length; _ < p; _++) if (r[_](e, l, n, !0)) {
      y = !0;
      break;
    }
    if (y) break;
  }
  if (!s)
    return e.parentType = i, !1;
  const c = Ei(e.getLines(t, l, e.blkIndent, !1));
  e.line = l + 1;
  const a = e.push("heading_open", `h${s}`, 1);
  a.markup = String.fromCharCode(o), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = c, u.map = [t, e.line - 1], u.children = [];
  const h = e.push("heading_close", `h${s}`, -1);
  return h.markup = String.fromCharCode(o), e.parentType = i, !0;
}
function Dm(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph"), i = e.parentType;
  let s = t + 1;
  for (e.parentType = "paragraph"; s < n && !e.isEmpty(s); s++) {
    if (e.sCount[s] - e.blkIndent > 3 || e.sCount[s] < 0) continue;
    let a = !1;
    for (let u = 0, h = r.length; u < h; u++) if (r[u](e, s, n, !0)) {
      a = !0;
      break;
    }
    if (a) break;
  }
  const o = Ei(e.getLines(t, s, e.blkIndent, !1));
  e.line = s;
  const l = e.push("paragraph_open", "p", 1);
  l.map = [t, e.line];
  const c = e.push("inline", "", 0);
  return c.content = o, c.map = [t, e.line], c.children = [], e.push("paragraph_close", "p", -1), e.parentType = i, !0;
}
var Kr = [
  [
    "table",
    dm,
    ["paragraph", "reference"]
  ],
  ["code", pm],
  [
    "fence",
    gm,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "blockquote",
    mm,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "hr",
    _m,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "list",
    ym,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["reference", km],
  [
    "html_block",
    vm,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  [
    "heading",
    Em,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["lheading", Cm],
  ["paragraph", Dm]
], iu = class {
  constructor() {
    z(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of block rules.
      */
      "ruler",
      new xr()
    ), z(this, "State", nu);
    for (let e = 0; e < Kr.length; e++) this.ruler.push(Kr[e][0], Kr[e][1], { alt: (Kr[e][2] || []).slice() });
  }
  tokenize(e, t, n) {
    const r = this.ruler.getRules(""), i = r.length, s = e.md.options.maxNesting;
    let o = t, l = !1;
    for (; o < n && (e.line = o = e.skipEmptyLines(o), !(o >= n || e.sCount[o] < e.blkIndent)); ) {
      if (e.level >= s) {
        e.line = n;
        break;
      }
      const c = e.line;
      let a = !1;
      for (let u = 0; u < i; u++)
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
    const i = new this.State(e, t, n, r);
    this.tokenize(i, i.line, i.lineMax);
  }
}, su = class {
  constructor(e, t, n, r) {
    z(this, "pos", 0), z(this, "level", 0), z(this, "pending", ""), z(this, "pendingLevel", 0), z(this, "cache", {}), z(this, "backticks", {}), z(this, "backticksScanned", !1), z(this, "skipHtmlSpecial", !1), z(this, "linkLevel", 0), z(this, "delimiters", []), z(this, "_prev_delimiters", []), z(this, "Token", _n), this.src = e, this.env = n, this.md = t, this.tokens = r, this.tokens_meta = Array(r.length), this.posMax = this.src.length;
  }
  pushPending() {
    const e = new _n("text", "", 0);
    return e.content = this.pending, e.level = this.pendingLevel, this.tokens.push(e), this.pending = "", e;
  }
  push(e, t, n) {
    this.pending && this.pushPending();
    const r = new _n(e, t, n);
    let i;
    return n < 0 && (this.level--, this.delimiters = this._prev_delimiters.pop()), r.level = this.level, n > 0 && (this.level++, this._prev_delimiters.push(this.delimiters), this.delimiters = [], i = { delimiters: this.delimiters }), this.pendingLevel = this.level, this.tokens.push(r), this.tokens_meta.push(i), r;
  }
  scanDelims(e, t) {
    const n = this.posMax, r = this.src.charCodeAt(e);
    let i;
    if (e === 0) i = 32;
    else if (e === 1)
      i = this.src.charCodeAt(0), (i & 63488) === 55296 && (i = 65533);
    else if (i = this.src.charCodeAt(e - 1), (i & 64512) === 56320) {
      const p = this.src.charCodeAt(e - 2);
      i = (p & 64512) === 55296 ? 65536 + (p - 55296 << 10) + (i - 56320) : 65533;
    } else (i & 64512) === 55296 && (i = 65533);
    let s = e;
    for (; s < n && this.src.charCodeAt(s) === r; ) s++;
    const o = s - e;
    let l = s < n ? this.src.charCodeAt(s) : 32;
    if ((l & 64512) === 55296) {
      const p = this.src.charCodeAt(s + 1);
      l = (p & 64512) === 56320 ? 65536 + (l - 55296 << 10) + (p - 56320) : 65533;
    } else (l & 64512) === 56320 && (l = 65533);
    const c = kr(i) || wr(i), a = kr(l) || wr(l), u = yr(i), h = yr(l), y = !h && (!a || u || c), _ = !u && (!c || h || a);
    return {
      can_open: y && (t || !_ || c),
      can_close: _ && (t || !y || a),
      length: o
    };
  }
};
function Sm(e) {
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
function Tm(e, t) {
  let n = e.pos;
  for (; n < e.posMax && !Sm(e.src.charCodeAt(n)); ) n++;
  return n === e.pos ? !1 : (t || (e.pending += e.src.slice(e.pos, n)), e.pos = n, !0);
}
function Fm(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122;
}
function Im(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122 || e >= 48 && e <= 57 || e === 43 || e === 45 || e === 46;
}
function Om(e, t) {
  if (!e.md.options.linkify || e.linkLevel > 0) return !1;
  const n = e.pos, r = e.posMax;
  if (n + 3 > r || e.src.charCodeAt(n) !== 58 || e.src.charCodeAt(n + 1) !== 47 || e.src.charCodeAt(n + 2) !== 47) return !1;
  const i = n - Math.min(10, e.pending.length, n);
  let s = n;
  for (; s > i && Im(e.src.charCodeAt(s - 1)); ) s--;
  if (s === n || !Fm(e.src.charCodeAt(s))) return !1;
  const o = n - s, l = e.md.linkify.matchAtStart(e.src.slice(s));
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
    const h = e.push("link_open", "a", 1);
    h.attrs = [["href", u]], h.markup = "linkify", h.info = "auto";
    const y = e.push("text", "", 0);
    y.content = e.md.normalizeLinkText(c);
    const _ = e.push("link_close", "a", -1);
    _.markup = "linkify", _.info = "auto";
  }
  return e.pos += c.length - o, !0;
}
function Mm(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 10) return !1;
  const r = e.pending.length - 1, i = e.posMax;
  if (!t)
    if (r >= 0 && e.pending.charCodeAt(r) === 32)
      if (r >= 1 && e.pending.charCodeAt(r - 1) === 32) {
        let s = r - 1;
        for (; s >= 1 && e.pending.charCodeAt(s - 1) === 32; ) s--;
        e.pending = e.pending.slice(0, s), e.push("hardbreak", "br", 0);
      } else
        e.pending = e.pending.slice(0, -1), e.push("softbreak", "br", 0);
    else e.push("softbreak", "br", 0);
  for (n++; n < i && pe(e.src.charCodeAt(n)); ) n++;
  return e.pos = n, !0;
}
var ao = [];
for (let e = 0; e < 256; e++) ao.push(0);
"\\!\"#$%&'()*+,./:;<=>?@[]^_`{|}~-".split("").forEach(function(e) {
  ao[e.charCodeAt(0)] = 1;
});
function Nm(e, t) {
  let n = e.pos;
  const r = e.posMax;
  if (e.src.charCodeAt(n) !== 92 || (n++, n >= r)) return !1;
  let i = e.src.charCodeAt(n);
  if (i === 10) {
    for (t || e.push("hardbreak", "br", 0), n++; n < r && (i = e.src.charCodeAt(n), !!pe(i)); )
      n++;
    return e.pos = n, !0;
  }
  if (i === 32) {
    if (!t) {
      const l = e.push("text_special", "", 0);
      l.content = "\\", l.markup = "\\", l.info = "escape";
    }
    return e.pos = n, !0;
  }
  let s = e.src[n];
  if (i >= 55296 && i <= 56319 && n + 1 < r) {
    const l = e.src.charCodeAt(n + 1);
    l >= 56320 && l <= 57343 && (s += e.src[n + 1], n++);
  }
  const o = "\\" + s;
  if (!t) {
    const l = e.push("text_special", "", 0);
    i < 256 && ao[i] !== 0 ? l.content = s : l.content = o, l.markup = o, l.info = "escape";
  }
  return e.pos = n + 1, !0;
}
function Lm(e) {
  const t = {};
  let n = 0;
  for (; (n = e.indexOf("`", n)) !== -1; ) {
    const r = n;
    for (; e.charCodeAt(++n) === 96; ) ;
    t[n - r] = r;
  }
  return t;
}
function Pm(e, t) {
  var n;
  const r = e.pos;
  if (e.src.charCodeAt(r) !== 96) return !1;
  const i = e.posMax;
  let s = r + 1;
  for (; s < i && e.src.charCodeAt(s) === 96; ) s++;
  const o = e.src.slice(r, s), l = o.length;
  if (e.backticksScanned || (e.backticks = Lm(e.src), e.backticksScanned = !0), ((n = e.backticks[l]) !== null && n !== void 0 ? n : -1) >= s) {
    let c = s, a;
    for (; (a = e.src.indexOf("`", c)) !== -1 && a < i; ) {
      for (c = a + 1; e.src.charCodeAt(c) === 96; ) c++;
      if (c > i) break;
      if (c - a === l) {
        if (!t) {
          const u = e.push("code_inline", "code", 0);
          u.markup = o;
          let h = e.src.slice(s, a).replace(/\n/g, " ");
          h.startsWith(" ") && h.endsWith(" ") && /[^ ]/.test(h) && (h = h.slice(1, -1)), u.content = h;
        }
        return e.pos = c, !0;
      }
    }
  }
  return t || (e.pending += o), e.pos = s, !0;
}
function Bm(e, t) {
  const n = e.pos, r = e.src.charCodeAt(n);
  if (t || r !== 126) return !1;
  const i = e.scanDelims(e.pos, !0);
  let s = i.length;
  const o = String.fromCharCode(r);
  if (s < 2) return !1;
  let l;
  s % 2 && (l = e.push("text", "", 0), l.content = o, s--);
  for (let c = 0; c < s; c += 2)
    l = e.push("text", "", 0), l.content = o + o, e.delimiters.push({
      marker: r,
      length: 0,
      token: e.tokens.length - 1,
      end: -1,
      open: i.can_open,
      close: i.can_close
    });
  return e.pos += i.length, !0;
}
function hc(e, t) {
  let n;
  const r = [], i = t.length;
  for (let s = 0; s < i; s++) {
    const o = t[s];
    if (o.marker !== 126 || o.end === -1) continue;
    const l = t[o.end];
    n = e.tokens[o.token], n.type = "s_open", n.tag = "s", n.nesting = 1, n.markup = "~~", n.content = "", n = e.tokens[l.token], n.type = "s_close", n.tag = "s", n.nesting = -1, n.markup = "~~", n.content = "", e.tokens[l.token - 1].type === "text" && e.tokens[l.token - 1].content === "~" && r.push(l.token - 1);
  }
  for (; r.length; ) {
    const s = r.pop();
    let o = s + 1;
    for (; o < e.tokens.length && e.tokens[o].type === "s_close"; ) o++;
    o--, s !== o && (n = e.tokens[o], e.tokens[o] = e.tokens[s], e.tokens[s] = n);
  }
}
function jm(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  hc(e, e.delimiters);
  for (let i = 0; i < n; i++) {
    var r;
    const s = (r = t[i]) === null || r === void 0 ? void 0 : r.delimiters;
    s && hc(e, s);
  }
}
var ou = {
  tokenize: Bm,
  postProcess: jm
};
function zm(e, t) {
  const n = e.pos, r = e.src.charCodeAt(n);
  if (t || r !== 95 && r !== 42) return !1;
  const i = e.scanDelims(e.pos, r === 42);
  for (let s = 0; s < i.length; s++) {
    const o = e.push("text", "", 0);
    o.content = String.fromCharCode(r), e.delimiters.push({
      marker: r,
      length: i.length,
      token: e.tokens.length - 1,
      end: -1,
      open: i.can_open,
      close: i.can_close
    });
  }
  return e.pos += i.length, !0;
}
function dc(e, t) {
  const n = t.length;
  for (let r = n - 1; r >= 0; r--) {
    const i = t[r];
    if (i.marker !== 95 && i.marker !== 42 || i.end === -1) continue;
    const s = t[i.end], o = r > 0 && t[r - 1].end === i.end + 1 && t[r - 1].marker === i.marker && t[r - 1].token === i.token - 1 && t[i.end + 1].token === s.token + 1, l = String.fromCharCode(i.marker), c = e.tokens[i.token];
    c.type = o ? "strong_open" : "em_open", c.tag = o ? "strong" : "em", c.nesting = 1, c.markup = o ? l + l : l, c.content = "";
    const a = e.tokens[s.token];
    a.type = o ? "strong_close" : "em_close", a.tag = o ? "strong" : "em", a.nesting = -1, a.markup = o ? l + l : l, a.content = "", o && (e.tokens[t[r - 1].token].content = "", e.tokens[t[i.end + 1].token].content = "", r--);
  }
}
function $m(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  dc(e, e.delimiters);
  for (let i = 0; i < n; i++) {
    var r;
    const s = (r = t[i]) === null || r === void 0 ? void 0 : r.delimiters;
    s && dc(e, s);
  }
}
var lu = {
  tokenize: zm,
  postProcess: $m
};
function Um(e, t) {
  let n, r, i, s, o = "", l = "", c = e.pos, a = !0;
  if (e.src.charCodeAt(e.pos) !== 91) return !1;
  const u = e.pos, h = e.posMax, y = e.pos + 1, _ = e.md.helpers.parseLinkLabel(e, e.pos, !0);
  if (_ < 0) return !1;
  let p = _ + 1;
  if (p < h && e.src.charCodeAt(p) === 40) {
    for (a = !1, p++; p < h && (n = e.src.charCodeAt(p), !(!pe(n) && n !== 10)); p++)
      ;
    if (p >= h) return !1;
    if (c = p, i = e.md.helpers.parseLinkDestination(e.src, p, e.posMax), i.ok) {
      for (o = e.md.normalizeLink(i.str), e.md.validateLink(o) ? p = i.pos : o = "", c = p; p < h && (n = e.src.charCodeAt(p), !(!pe(n) && n !== 10)); p++)
        ;
      if (i = e.md.helpers.parseLinkTitle(e.src, p, e.posMax), p < h && c !== p && i.ok)
        for (l = i.str, p = i.pos; p < h && (n = e.src.charCodeAt(p), !(!pe(n) && n !== 10)); p++)
          ;
    }
    (p >= h || e.src.charCodeAt(p) !== 41) && (a = !0), p++;
  }
  if (a) {
    if (typeof e.env.references > "u") return !1;
    if (p < h && e.src.charCodeAt(p) === 91 ? (c = p + 1, p = e.md.helpers.parseLinkLabel(e, p), p >= 0 ? r = e.src.slice(c, p++) : p = _ + 1) : p = _ + 1, r || (r = e.src.slice(y, _)), r = vi(r), s = e.env.references[r], !s)
      return e.pos = u, !1;
    o = s.href, l = s.title;
  }
  if (!t) {
    e.pos = y, e.posMax = _;
    const E = e.push("link_open", "a", 1), F = [["href", o]];
    if (E.attrs = F, l && F.push(["title", l]), r) {
      const M = /* @__PURE__ */ Object.create(null);
      M.label = r, E.meta = M;
    }
    e.linkLevel++, e.md.inline.tokenize(e), e.linkLevel--, e.push("link_close", "a", -1);
  }
  return e.pos = p, e.posMax = h, !0;
}
function Wm(e, t) {
  let n, r, i, s, o, l, c, a, u = "";
  const h = e.pos, y = e.posMax;
  if (e.src.charCodeAt(e.pos) !== 33 || e.src.charCodeAt(e.pos + 1) !== 91) return !1;
  const _ = e.pos + 2, p = e.md.helpers.parseLinkLabel(e, e.pos + 1, !1);
  if (p < 0) return !1;
  if (s = p + 1, s < y && e.src.charCodeAt(s) === 40) {
    for (s++; s < y && (n = e.src.charCodeAt(s), !(!pe(n) && n !== 10)); s++)
      ;
    if (s >= y) return !1;
    for (a = s, l = e.md.helpers.parseLinkDestination(e.src, s, e.posMax), l.ok && (u = e.md.normalizeLink(l.str), e.md.validateLink(u) ? s = l.pos : u = ""), a = s; s < y && (n = e.src.charCodeAt(s), !(!pe(n) && n !== 10)); s++)
      ;
    if (l = e.md.helpers.parseLinkTitle(e.src, s, e.posMax), s < y && a !== s && l.ok)
      for (c = l.str, s = l.pos; s < y && (n = e.src.charCodeAt(s), !(!pe(n) && n !== 10)); s++)
        ;
    else c = "";
    if (s >= y || e.src.charCodeAt(s) !== 41)
      return e.pos = h, !1;
    s++;
  } else {
    if (typeof e.env.references > "u") return !1;
    if (s < y && e.src.charCodeAt(s) === 91 ? (a = s + 1, s = e.md.helpers.parseLinkLabel(e, s), s >= 0 ? i = e.src.slice(a, s++) : s = p + 1) : s = p + 1, i || (i = e.src.slice(_, p)), i = vi(i), o = e.env.references[i], !o)
      return e.pos = h, !1;
    u = o.href, c = o.title;
  }
  if (!t) {
    r = e.src.slice(_, p);
    const E = [];
    e.md.inline.parse(r, e.md, e.env, E);
    const F = e.push("image", "img", 0), M = [["src", u], ["alt", ""]];
    if (F.attrs = M, F.children = E, F.content = r, c && M.push(["title", c]), i) {
      const v = /* @__PURE__ */ Object.create(null);
      v.label = i, F.meta = v;
    }
  }
  return e.pos = s, e.posMax = y, !0;
}
var Jm = /^([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, qm = /^([a-zA-Z][a-zA-Z0-9+.-]{1,31}):([^<>\x00-\x20]*)$/;
function Hm(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 60) return !1;
  const r = e.pos, i = e.posMax;
  for (; ; ) {
    if (++n >= i) return !1;
    const o = e.src.charCodeAt(n);
    if (o === 60) return !1;
    if (o === 62) break;
  }
  const s = e.src.slice(r + 1, n);
  if (qm.test(s)) {
    const o = e.md.normalizeLink(s);
    if (!e.md.validateLink(o)) return !1;
    if (!t) {
      const l = e.push("link_open", "a", 1);
      l.attrs = [["href", o]], l.markup = "autolink", l.info = "auto";
      const c = e.push("text", "", 0);
      c.content = e.md.normalizeLinkText(s);
      const a = e.push("link_close", "a", -1);
      a.markup = "autolink", a.info = "auto";
    }
    return e.pos += s.length + 2, !0;
  }
  if (Jm.test(s)) {
    const o = e.md.normalizeLink(`mailto:${s}`);
    if (!e.md.validateLink(o)) return !1;
    if (!t) {
      const l = e.push("link_open", "a", 1);
      l.attrs = [["href", o]], l.markup = "autolink", l.info = "auto";
      const c = e.push("text", "", 0);
      c.content = e.md.normalizeLinkText(s);
      const a = e.push("link_close", "a", -1);
      a.markup = "autolink", a.info = "auto";
    }
    return e.pos += s.length + 2, !0;
  }
  return !1;
}
function Vm(e) {
  return /^<a[>\s]/i.test(e);
}
function Km(e) {
  return /^<\/a\s*>/i.test(e);
}
function cu(e) {
  const t = e | 32;
  return t >= 97 && t <= 122;
}
function Gm(e, t) {
  const n = e.src;
  let r, i;
  if (n.startsWith("<!--", t)) {
    if (n.startsWith(">", t + 4)) return t + 5;
    if (n.startsWith("->", t + 4)) return t + 6;
    r = t + 4, i = "-->";
  } else if (n.startsWith("<![CDATA[", t))
    r = t + 9, i = "]]>";
  else if (n.charCodeAt(t + 1) === 63)
    r = t + 2, i = "?>";
  else if (cu(n.charCodeAt(t + 2)))
    r = t + 3, i = ">";
  else return -1;
  if (e.skipHtmlSpecial) return -1;
  const s = n.indexOf(i, r);
  return s < 0 ? (e.skipHtmlSpecial = !0, -1) : s + i.length;
}
function Ym(e, t) {
  if (!e.md.options.html) return !1;
  const n = e.posMax, r = e.pos;
  if (e.src.charCodeAt(r) !== 60 || r + 2 >= n) return !1;
  let i;
  const s = e.src.charCodeAt(r + 1);
  if (s === 33 || s === 63) i = Gm(e, r);
  else if (s === 47 || cu(s)) {
    const o = e.src.slice(r).match(ru);
    i = o ? r + o[0].length : -1;
  } else return !1;
  if (i < 0) return !1;
  if (!t) {
    const o = e.push("html_inline", "", 0);
    o.content = e.src.slice(r, i), Vm(o.content) && e.linkLevel++, Km(o.content) && e.linkLevel--;
  }
  return e.pos = i, !0;
}
var Xm = /^&#((?:x[a-f0-9]{1,6}|[0-9]{1,7}));/i, Zm = /^&([a-z][a-z0-9]{1,31});/i;
function Qm(e, t) {
  const n = e.pos, r = e.posMax;
  if (e.src.charCodeAt(n) !== 38 || n + 1 >= r) return !1;
  if (e.src.charCodeAt(n + 1) === 35) {
    const i = e.src.slice(n).match(Xm);
    if (i) {
      if (!t) {
        const s = i[1][0].toLowerCase() === "x" ? parseInt(i[1].slice(1), 16) : parseInt(i[1], 10), o = e.push("text_special", "", 0);
        o.content = co(s) ? br(s) : br(65533), o.markup = i[0], o.info = "entity";
      }
      return e.pos += i[0].length, !0;
    }
  } else {
    const i = e.src.slice(n).match(Zm);
    if (i) {
      const s = ja(i[0]);
      if (s !== i[0]) {
        if (!t) {
          const o = e.push("text_special", "", 0);
          o.content = s, o.markup = i[0], o.info = "entity";
        }
        return e.pos += i[0].length, !0;
      }
    }
  }
  return !1;
}
function pc(e) {
  const t = {}, n = e.length;
  if (!n) return;
  let r = 0, i = -2;
  const s = [];
  for (let o = 0; o < n; o++) {
    const l = e[o];
    if (s.push(0), (e[r].marker !== l.marker || i !== l.token - 1) && (r = o), i = l.token, l.length = l.length || 0, !l.close) continue;
    t.hasOwnProperty(l.marker) || (t[l.marker] = [
      -1,
      -1,
      -1,
      -1,
      -1,
      -1
    ]);
    const c = t[l.marker][(l.open ? 3 : 0) + l.length % 3];
    let a = r - s[r] - 1, u = a;
    for (; a > c; a -= s[a] + 1) {
      const h = e[a];
      if (h.marker === l.marker && h.open && h.end < 0) {
        let y = !1;
        if ((h.close || l.open) && (h.length + l.length) % 3 === 0 && (h.length % 3 !== 0 || l.length % 3 !== 0) && (y = !0), !y) {
          const _ = a > 0 && !e[a - 1].open ? s[a - 1] + 1 : 0;
          s[o] = o - a + _, s[a] = _, l.open = !1, h.end = o, h.close = !1, u = -1, i = -2;
          break;
        }
      }
    }
    u !== -1 && (t[l.marker][(l.open ? 3 : 0) + (l.length || 0) % 3] = u);
  }
}
function e_(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  pc(e.delimiters);
  for (let i = 0; i < n; i++) {
    var r;
    const s = (r = t[i]) === null || r === void 0 ? void 0 : r.delimiters;
    s && pc(s);
  }
}
function t_(e) {
  let t, n, r = 0;
  const i = e.tokens, s = e.tokens.length;
  for (t = n = 0; t < s; t++)
    i[t].nesting < 0 && r--, i[t].level = r, i[t].nesting > 0 && r++, i[t].type === "text" && t + 1 < s && i[t + 1].type === "text" ? i[t + 1].content = i[t].content + i[t + 1].content : (t !== n && (i[n] = i[t]), n++);
  t !== n && (i.length = n);
}
var Cs = [
  ["text", Tm],
  ["linkify", Om],
  ["newline", Mm],
  ["escape", Nm],
  ["backticks", Pm],
  ["strikethrough", ou.tokenize],
  ["emphasis", lu.tokenize],
  ["link", Um],
  ["image", Wm],
  ["autolink", Hm],
  ["html_inline", Ym],
  ["entity", Qm]
], Ds = [
  ["balance_pairs", e_],
  ["strikethrough", ou.postProcess],
  ["emphasis", lu.postProcess],
  ["fragments_join", t_]
], au = class {
  constructor() {
    z(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of inline rules.
      */
      "ruler",
      new xr()
    ), z(
      this,
      /**
      * {@link Ruler} instance. Second ruler used for post-processing
      * (e.g. in emphasis-like rules).
      */
      "ruler2",
      new xr()
    ), z(this, "State", su);
    for (let e = 0; e < Cs.length; e++) this.ruler.push(Cs[e][0], Cs[e][1]);
    for (let e = 0; e < Ds.length; e++) this.ruler2.push(Ds[e][0], Ds[e][1]);
  }
  skipToken(e) {
    const t = e.pos, n = this.ruler.getRules(""), r = n.length, i = e.md.options.maxNesting, s = e.cache;
    if (typeof s[t] < "u") {
      e.pos = s[t];
      return;
    }
    let o = !1;
    if (e.level < i) {
      for (let l = 0; l < r; l++)
        if (e.level++, o = n[l](e, !0), e.level--, o) {
          if (t >= e.pos) throw new Error("inline rule didn't increment state.pos");
          break;
        }
    } else e.pos = e.posMax;
    o || e.pos++, s[t] = e.pos;
  }
  tokenize(e) {
    const t = this.ruler.getRules(""), n = t.length, r = e.posMax, i = e.md.options.maxNesting;
    for (; e.pos < r; ) {
      const s = e.pos;
      let o = !1;
      if (e.level < i) {
        for (let l = 0; l < n; l++)
          if (o = t[l](e, !1), o) {
            if (s >= e.pos) throw new Error("inline rule didn't increment state.pos");
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
    const i = new this.State(e, t, n, r);
    this.tokenize(i);
    const s = this.ruler2.getRules(""), o = s.length;
    for (let l = 0; l < o; l++) s[l](i);
  }
}, n_ = {
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
}, r_ = /^(vbscript|javascript|file|data):/, i_ = /^data:image\/(gif|png|jpeg|webp);/, gc = [
  "http:",
  "https:",
  "mailto:"
], At = class {
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
    return r_.test(t) ? i_.test(t) : !0;
  }
  /**
  * Function used to encode link url to a machine-readable format,
  * which includes url-encoding, punycode, etc.
  */
  normalizeLink(e) {
    const t = Ws(e, !0);
    if (t.hostname && (!t.protocol || gc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = rc.toASCII(t.hostname);
      } catch {
      }
    return t.auth && (t.auth = Nt(t.auth)), t.hostname && (t.hostname = Nt(t.hostname)), t.pathname && (t.pathname = Nt(t.pathname)), t.search && (t.search = Nt(t.search)), t.hash && (t.hash = Nt(t.hash)), Us(t);
  }
  /**
  * Function used to decode link url to a human-readable format`
  */
  normalizeLinkText(e) {
    const t = Ws(e, !0);
    if (t.hostname && (!t.protocol || gc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = rc.toUnicode(t.hostname);
      } catch {
      }
    return $n(Us(t), $n.defaultChars + "%");
  }
  constructor(...e) {
    z(
      this,
      /**
      * Instance of {@link ParserInline}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "inline",
      new au()
    ), z(
      this,
      /**
      * Instance of {@link ParserBlock}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "block",
      new iu()
    ), z(
      this,
      /**
      * Instance of {@link ParserCore} chain executor. You may need it to add new
      * rules when writing plugins. For simple rules control use
      * {@link MarkdownIt.disable} and {@link MarkdownIt.enable}.
      */
      "core",
      new tu()
    ), z(
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
      new Za()
    ), z(
      this,
      /**
      * [linkify-it](https://github.com/markdown-it/linkify-it) instance.
      * Used by [linkify](https://github.com/markdown-it/markdown-it/blob/master/src/rules_core/linkify.ts)
      * rule.
      */
      "linkify",
      new hg()
    ), z(
      this,
      /**
      * Assorted utility functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/common/utils.ts).
      */
      "utils",
      Rg
    ), z(
      this,
      /**
      * Link components parser functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/helpers).
      */
      "helpers",
      Object.assign({}, zg)
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
      const i = e;
      if (t = n_[i], !t) throw new Error(`Wrong 'markdown-it' preset "${i}", check name`);
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
      ].forEach((s) => {
        var o;
        const l = (o = n[s]) === null || o === void 0 ? void 0 : o.rules;
        l && this[s].ruler.enableOnly(l);
      });
      const i = (r = n.inline) === null || r === void 0 ? void 0 : r.rules2;
      i && this.inline.ruler2.enableOnly(i);
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
    ].forEach((i) => {
      n = n.concat(this[i].ruler.enable(e, !0));
    }), n = n.concat(this.inline.ruler2.enable(e, !0));
    const r = e.filter((i) => n.indexOf(i) < 0);
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
    ].forEach((i) => {
      n = n.concat(this[i].ruler.disable(e, !0));
    }), n = n.concat(this.inline.ruler2.disable(e, !0));
    const r = e.filter((i) => n.indexOf(i) < 0);
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
z(At, "Token", _n);
z(At, "Ruler", xr);
z(At, "Renderer", Za);
z(At, "ParserCore", tu);
z(At, "StateCore", Qa);
z(At, "ParserBlock", iu);
z(At, "StateBlock", nu);
z(At, "ParserInline", au);
z(At, "StateInline", su);
var s_ = Ga(At);
const o_ = 200 * 1024, uo = /^(?:https?:\/\/|mailto:)/i, l_ = [
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
], c_ = ["href", "title", "target", "rel", "start", "class"], Cr = new s_({ html: !1, linkify: !0, breaks: !0, typographer: !1 });
Cr.disable(["image"]);
Cr.validateLink = (e) => uo.test(String(e).trim());
const a_ = Cr.renderer.rules.link_open ?? ((e, t, n, r, i) => i.renderToken(e, t, n));
Cr.renderer.rules.link_open = (e, t, n, r, i) => (e[t].attrSet("target", "_blank"), e[t].attrSet("rel", "noopener noreferrer nofollow"), a_(e, t, n, r, i));
function u_(e) {
  return String(e).replace(/[&<>"']/g, (t) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[t]);
}
let mc = null;
function f_(e) {
  return !e?.isSupported || typeof e.sanitize != "function" ? null : (mc !== e && (e.addHook("afterSanitizeAttributes", (t) => {
    if (t.nodeName !== "A") return;
    const n = t.getAttribute("href");
    n !== null && !uo.test(n.trim()) && t.removeAttribute("href"), t.hasAttribute("href") ? (t.setAttribute("target", "_blank"), t.setAttribute("rel", "noopener noreferrer nofollow")) : (t.removeAttribute("target"), t.removeAttribute("rel"));
  }), mc = e), e);
}
function h_(e, t = Ip) {
  const n = String(e ?? "").slice(0, o_), r = f_(t);
  if (!r) return `<p>${u_(n)}</p>`;
  const i = Cr.render(n);
  return r.sanitize(i, {
    ALLOWED_TAGS: l_,
    ALLOWED_ATTR: c_,
    ALLOWED_URI_REGEXP: uo,
    ALLOW_DATA_ATTR: !1,
    ALLOW_ARIA_ATTR: !1
  });
}
const d_ = 300, Fn = /* @__PURE__ */ new Map();
function p_(e) {
  const t = String(e ?? "");
  let n = Fn.get(t);
  return n !== void 0 ? Fn.delete(t) : (n = h_(t), Fn.size >= d_ && Fn.delete(Fn.keys().next().value)), Fn.set(t, n), n;
}
const g_ = { class: "cd-bar" }, m_ = ["title"], __ = ["value", "disabled"], b_ = ["value"], y_ = ["title"], w_ = ["disabled"], k_ = {
  key: 0,
  class: "cd-settings",
  "data-test": "settings-pane"
}, A_ = ["value"], x_ = { class: "cd-wide" }, R_ = { class: "cd-wide" }, v_ = { class: "cd-hint" }, E_ = { class: "cd-row" }, C_ = ["disabled"], D_ = {
  class: "cd-skills",
  "data-test": "skills"
}, S_ = ["title"], T_ = ["checked", "onChange", "data-skill"], F_ = {
  key: 0,
  class: "cd-hint",
  "data-test": "skills-hint"
}, I_ = { class: "cd-main" }, O_ = {
  key: 0,
  class: "cd-hint",
  "data-test": "waiting"
}, M_ = {
  key: 1,
  class: "cd-err"
}, N_ = ["data-skill"], L_ = { class: "cd-skill" }, P_ = {
  key: 0,
  class: "cd-typing"
}, B_ = ["innerHTML"], j_ = {
  key: 0,
  class: "cd-err"
}, z_ = {
  key: 0,
  class: "cd-empty"
}, $_ = {
  key: 0,
  class: "cd-hint"
}, U_ = {
  key: 1,
  class: "cd-notice",
  "data-test": "notice"
}, W_ = { class: "cd-input" }, J_ = ["disabled"], q_ = ["disabled"], H_ = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, r = t.ctl.ui, i = jt(() => r.connected ? r.outage ? "core unavailable, reconnecting…" : r.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), s = jt(() => r.connected && r.outage ? "cd-outage" : "cd-" + i.value.replace(" ", "-")), o = jt(() => (r.connected ? r.outage : r.offlineReason) || n.statusDetail || i.value), l = jt(() => r.connected ? r.outage ? `core unavailable, reconnecting… (${r.outage})` : r.notice ? r.notice : n.lastError ? `${n.lastError.code}: ${n.lastError.message}` : "" : r.offlineReason ? `comfyd is not reachable: ${r.offlineReason}` : ""), c = jt(() => r.connected && !r.outage && n.status === "working"), a = jt(() => r.form.skills), u = jt(() => !!n.config?.api_key_set), h = jt(() => {
      const v = [...r.sessions];
      return r.form.session_id && !v.some((w) => w.id === r.form.session_id) && v.unshift({ id: r.form.session_id, title: n.title || r.form.session_id }), v;
    }), y = /* @__PURE__ */ Uo(null), _ = /* @__PURE__ */ Uo(null), p = (v) => {
      v && (v.scrollTop = v.scrollHeight);
    };
    Wo(
      () => [n.turns.length, n.lastSeq],
      () => ni(() => p(y.value))
    ), Wo(
      () => n.logs.length,
      () => ni(() => p(_.value))
    );
    function E(v) {
      const w = v.target.value;
      w === "__new__" ? t.ctl.createSession() : w && t.ctl.selectSession(w);
    }
    function F(v) {
      v.key === "Enter" && !v.shiftKey && !v.isComposing && (v.preventDefault(), t.ctl.send());
    }
    function M(v) {
      v.stopPropagation();
    }
    return (v, w) => (ue(), he("div", {
      class: "comfyd-panel",
      onKeydown: M,
      onKeyup: M,
      onWheel: w[15] || (w[15] = ul(() => {
      }, ["stop"])),
      onContextmenu: w[16] || (w[16] = ul(() => {
      }, ["stop"]))
    }, [
      Y("div", g_, [
        Y("span", {
          class: st(["cd-dot", s.value]),
          title: o.value
        }, null, 10, m_),
        Y("select", {
          class: "cd-session",
          value: H(r).form.session_id,
          disabled: !H(r).connected || H(r).busy,
          onChange: E,
          "data-test": "session"
        }, [
          w[17] || (w[17] = Y("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (ue(!0), he(Ae, null, Dn(h.value, (b) => (ue(), he("option", {
            key: b.id,
            value: b.id
          }, Ce(b.title), 9, b_))), 128)),
          w[18] || (w[18] = Y("option", { value: "__new__" }, "+ new session", -1))
        ], 40, __),
        Y("span", {
          class: st(["cd-status", { "cd-status-outage": H(r).connected && H(r).outage }]),
          title: o.value,
          "data-test": "status"
        }, [
          Pe(Ce(i.value), 1),
          H(n).queuedTurns ? (ue(), he(Ae, { key: 0 }, [
            Pe(" · " + Ce(H(n).queuedTurns) + " queued", 1)
          ], 64)) : Ke("", !0)
        ], 10, y_),
        Y("button", {
          class: "cd-btn",
          disabled: !c.value,
          onClick: w[0] || (w[0] = (b) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, w_),
        Y("button", {
          class: st(["cd-btn", { "cd-on": H(r).showSettings }]),
          onClick: w[1] || (w[1] = (b) => H(r).showSettings = !H(r).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        Y("button", {
          class: st(["cd-btn", { "cd-on": H(r).showLog }]),
          onClick: w[2] || (w[2] = (b) => H(r).showLog = !H(r).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      H(r).showSettings ? (ue(), he("div", k_, [
        Y("label", null, [
          w[19] || (w[19] = Pe("Provider ", -1)),
          Cn(Y("select", {
            "onUpdate:modelValue": w[3] || (w[3] = (b) => H(r).form.provider = b),
            onChange: w[4] || (w[4] = (b) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (ue(!0), he(Ae, null, Dn(H(Bd), (b) => (ue(), he("option", {
              key: b,
              value: b
            }, Ce(b), 9, A_))), 128))
          ], 544), [
            [zh, H(r).form.provider]
          ])
        ]),
        Y("label", null, [
          w[20] || (w[20] = Pe("Model ", -1)),
          Cn(Y("input", {
            "onUpdate:modelValue": w[5] || (w[5] = (b) => H(r).form.model = b),
            onChange: w[6] || (w[6] = (b) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [Vn, H(r).form.model]
          ])
        ]),
        Y("label", null, [
          w[21] || (w[21] = Pe("Base URL ", -1)),
          Cn(Y("input", {
            "onUpdate:modelValue": w[7] || (w[7] = (b) => H(r).form.base_url = b),
            onChange: w[8] || (w[8] = (b) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [Vn, H(r).form.base_url]
          ])
        ]),
        Y("label", x_, [
          w[22] || (w[22] = Pe("System prompt ", -1)),
          Cn(Y("textarea", {
            "onUpdate:modelValue": w[9] || (w[9] = (b) => H(r).form.system_prompt = b),
            rows: "2",
            onChange: w[10] || (w[10] = (b) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [Vn, H(r).form.system_prompt]
          ])
        ]),
        Y("label", R_, [
          w[23] || (w[23] = Pe("API key ", -1)),
          Y("span", v_, Ce(u.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          Y("span", E_, [
            Cn(Y("input", {
              "onUpdate:modelValue": w[11] || (w[11] = (b) => H(r).apiKey = b),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [Vn, H(r).apiKey]
            ]),
            Y("button", {
              class: "cd-btn",
              onClick: w[12] || (w[12] = (b) => e.ctl.setApiKey()),
              disabled: !H(r).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, C_)
          ])
        ])
      ])) : Ke("", !0),
      Y("div", D_, [
        (ue(!0), he(Ae, null, Dn(H(r).skills, (b) => (ue(), he("label", {
          key: b.name,
          class: st(["cd-chip", { "cd-on": a.value.includes(b.name) }]),
          title: b.description
        }, [
          Y("input", {
            type: "checkbox",
            checked: a.value.includes(b.name),
            onChange: (N) => e.ctl.toggleSkill(b.name, N.target.checked),
            "data-skill": b.name
          }, null, 40, T_),
          Pe(" " + Ce(b.name), 1)
        ], 10, S_))), 128)),
        H(r).skills.length ? Ke("", !0) : (ue(), he("span", F_, [
          Pe(Ce(H(r).connected ? H(r).outage ? "waiting for the core…" : "no skills loaded" : "connecting to comfyd…"), 1),
          !H(r).connected && H(r).offlineReason ? (ue(), he(Ae, { key: 0 }, [
            Pe(" (" + Ce(H(r).offlineReason) + ")", 1)
          ], 64)) : Ke("", !0)
        ]))
      ]),
      Y("div", I_, [
        Y("div", {
          ref_key: "chat",
          ref: y,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          (ue(!0), he(Ae, null, Dn(H(n).turns, (b) => (ue(), he("div", {
            key: b.pending ? b.clientId : b.id,
            class: "cd-turn"
          }, [
            Y("div", {
              class: st(["cd-user", { "cd-failed": b.state === "failed", "cd-waiting": b.state === "waiting" }])
            }, [
              w[24] || (w[24] = Y("span", { class: "cd-who" }, "you", -1)),
              Pe(Ce(b.content) + " ", 1),
              b.state === "waiting" ? (ue(), he("span", O_, " — waiting for comfyd, sent when it is back")) : Ke("", !0),
              b.error ? (ue(), he("span", M_, " — " + Ce(b.error), 1)) : Ke("", !0)
            ], 2),
            Y("div", {
              class: "cd-replies",
              style: bi({ "--cols": Math.max(1, H(El)(b, a.value).length) })
            }, [
              (ue(!0), he(Ae, null, Dn(H(El)(b, a.value), (N) => (ue(), he("div", {
                key: N.skill,
                class: st(["cd-reply", "cd-" + N.state]),
                "data-skill": N.skill
              }, [
                Y("div", L_, [
                  Pe(Ce(N.skill), 1),
                  N.state === "streaming" ? (ue(), he("span", P_, "…")) : Ke("", !0)
                ]),
                Y("div", {
                  class: "cd-text cd-md",
                  innerHTML: H(p_)(N.content)
                }, null, 8, B_),
                N.error ? (ue(), he("div", j_, Ce(N.error), 1)) : Ke("", !0)
              ], 10, N_))), 128))
            ], 4)
          ]))), 128)),
          H(n).turns.length ? Ke("", !0) : (ue(), he("div", z_, Ce(H(r).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        H(r).showLog ? (ue(), he("div", {
          key: 0,
          ref_key: "logBox",
          ref: _,
          class: "cd-log",
          "data-test": "log"
        }, [
          (ue(!0), he(Ae, null, Dn(H(n).logs, (b, N) => (ue(), he("div", {
            key: b.seq + ":" + N,
            class: st("cd-l-" + b.level)
          }, [
            Y("b", null, Ce(b.level), 1),
            Pe(" " + Ce(b.module), 1),
            b.skill ? (ue(), he(Ae, { key: 0 }, [
              Pe(" [" + Ce(b.skill) + "]", 1)
            ], 64)) : Ke("", !0),
            Pe(": " + Ce(b.message), 1)
          ], 2))), 128)),
          H(n).logs.length ? Ke("", !0) : (ue(), he("div", $_, "no debug output yet"))
        ], 512)) : Ke("", !0)
      ]),
      l.value ? (ue(), he("div", U_, Ce(l.value), 1)) : Ke("", !0),
      Y("div", W_, [
        Cn(Y("textarea", {
          "onUpdate:modelValue": w[13] || (w[13] = (b) => H(r).draft = b),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !H(r).connected,
          onKeydown: F,
          "data-test": "input"
        }, null, 40, J_), [
          [Vn, H(r).draft]
        ]),
        Y("button", {
          class: "cd-btn cd-send",
          disabled: !H(r).connected || !H(r).draft.trim(),
          onClick: w[14] || (w[14] = (b) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, q_)
      ])
    ], 32));
  }
}, V_ = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline,.comfyd-panel .cd-outage{background:#c84a4a}.comfyd-panel .cd-status.cd-status-outage{color:#e0a050;white-space:normal}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{word-break:break-word}.comfyd-panel .cd-waiting{opacity:.75}.comfyd-panel .cd-md>:first-child{margin-top:0}.comfyd-panel .cd-md>:last-child{margin-bottom:0}.comfyd-panel .cd-md p,.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol,.comfyd-panel .cd-md pre,.comfyd-panel .cd-md blockquote,.comfyd-panel .cd-md table{margin:0 0 6px}.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol{padding-left:18px}.comfyd-panel .cd-md h1,.comfyd-panel .cd-md h2,.comfyd-panel .cd-md h3,.comfyd-panel .cd-md h4,.comfyd-panel .cd-md h5,.comfyd-panel .cd-md h6{font-size:13px;margin:6px 0 4px}.comfyd-panel .cd-md code{font:11px/1.35 ui-monospace,DejaVu Sans Mono,monospace;background:#7f7f7f2e;border-radius:3px;padding:0 3px}.comfyd-panel .cd-md pre{padding:4px 6px;overflow-x:auto;background:#00000047;border-radius:4px}.comfyd-panel .cd-md pre code{background:none;padding:0;white-space:pre}.comfyd-panel .cd-md a{color:var(--cd-accent)}.comfyd-panel .cd-md blockquote{border-left:3px solid var(--cd-border);padding-left:6px;color:var(--cd-dim)}.comfyd-panel .cd-md table{border-collapse:collapse}.comfyd-panel .cd-md th,.comfyd-panel .cd-md td{border:1px solid var(--cd-border);padding:1px 4px}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}", K_ = "comfyd.canvas", G_ = 1500;
function _c() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function qs(e, t) {
  (console[e] ?? console.log)(t);
}
function Y_(e) {
  const t = _c();
  if (t) return e(t, !1);
  let n = 0;
  const r = setInterval(() => {
    const i = _c();
    (i || ++n > G_) && (clearInterval(r), i ? e(i, !0) : qs("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function X_({ app: e, api: t }, n) {
  const r = new Xh({
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
  }), i = new Dd({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: r,
    WebSocket: window.WebSocket,
    tabId: Cd(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: qs,
    isPanelNode: Fl
  }), s = {
    app: e,
    connection: r,
    WebSocket: window.WebSocket,
    createApp: Hh,
    reactive: Qs,
    component: H_,
    css: V_,
    document,
    log: qs
  };
  let o = !1;
  const l = () => {
    o || (o = !0, t.addEventListener("graphChanged", () => i.graphChanged()), window.addEventListener("focus", () => i.setFocus(!0)), window.addEventListener("blur", () => i.setFocus(!1)), document.addEventListener("visibilitychange", () => i.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      i.touched(), i.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => i.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => i.setPointerDown(!1), !0), window.addEventListener("keydown", () => i.touched(), !0), i.start());
  };
  e.registerExtension({
    name: K_,
    setup: l,
    afterConfigureGraph() {
      i.graphChanged();
    },
    beforeRegisterNodeDef(c, a) {
      a?.name === zs && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      Fl(c) && Kd(c, s);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: i, version: "0.1.0" });
}
Y_(X_);
