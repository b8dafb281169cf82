// @__NO_SIDE_EFFECTS__
function mo(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const Se = {}, Cn = [], Sn = () => {
}, Xc = () => !1, Ii = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), Oi = (e) => e.startsWith("onUpdate:"), ft = Object.assign, Zc = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, kf = Object.prototype.hasOwnProperty, we = (e, t) => kf.call(e, t), ce = Array.isArray, rn = (e) => zr(e) === "[object Map]", Nn = (e) => zr(e) === "[object Set]", cl = (e) => zr(e) === "[object Date]", ve = (e) => typeof e == "function", Ne = (e) => typeof e == "string", Tt = (e) => typeof e == "symbol", Te = (e) => e !== null && typeof e == "object", Qc = (e) => (Te(e) || ve(e)) && ve(e.then) && ve(e.catch), ea = Object.prototype.toString, zr = (e) => ea.call(e), xf = (e) => zr(e).slice(8, -1), ta = (e) => zr(e) === "[object Object]", _o = (e) => Ne(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, yr = /* @__PURE__ */ mo(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), Ni = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Af = /-\w/g, _t = /* @__PURE__ */ Ni((e) => e.replace(Af, (t) => t.slice(1).toUpperCase())), vf = /\B([A-Z])/g, Mn = /* @__PURE__ */ Ni(
  (e) => e.replace(vf, "-$1").toLowerCase()
), na = /* @__PURE__ */ Ni((e) => e.charAt(0).toUpperCase() + e.slice(1)), cs = /* @__PURE__ */ Ni((e) => e ? `on${na(e)}` : ""), Ct = (e, t) => !Object.is(e, t), fi = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, ra = (e, t, n, r = !1) => {
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
let al;
const Mi = () => al || (al = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function Dr(e) {
  if (ce(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const r = e[n], i = Ne(r) ? Df(r) : Dr(r);
      if (i)
        for (const s in i)
          t[s] = i[s];
    }
    return t;
  } else if (Ne(e) || Te(e))
    return e;
}
const Rf = /;(?![^(]*\))/g, Ef = /:([^]+)/, Cf = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function Df(e) {
  const t = {};
  return e.replace(Cf, (n) => n.startsWith("/*") ? "" : n).split(Rf).forEach((n) => {
    if (n) {
      const r = n.split(Ef);
      r.length > 1 && (t[r[0].trim()] = r[1].trim());
    }
  }), t;
}
function nt(e) {
  let t = "";
  if (Ne(e))
    t = e;
  else if (ce(e))
    for (let n = 0; n < e.length; n++) {
      const r = nt(e[n]);
      r && (t += r + " ");
    }
  else if (Te(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const Sf = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", Tf = /* @__PURE__ */ mo(Sf);
function ia(e) {
  return !!e || e === "";
}
function Ff(e, t, n) {
  if (e.length !== t.length) return !1;
  let r = !0;
  for (let i = 0; r && i < e.length; i++)
    r = ln(e[i], t[i], n);
  return r;
}
function ul(e, t, n) {
  if (e.size !== t.size) return !1;
  const r = Array.from(t), i = new Uint8Array(r.length);
  for (const s of e) {
    let o = -1;
    for (let l = 0; l < r.length; l++)
      if (!i[l] && ln(s, r[l], n)) {
        o = l;
        break;
      }
    if (o < 0) return !1;
    i[o] = 1;
  }
  return !0;
}
function If(e, t, n) {
  let r = rn(e), i = rn(t);
  if (r || i || (r = Nn(e), i = Nn(t), r || i))
    return r && i ? ul(e, t, n) : !1;
  const s = Object.keys(e).length, o = Object.keys(t).length;
  if (s !== o)
    return !1;
  for (const l in e) {
    const c = e.hasOwnProperty(l), a = t.hasOwnProperty(l);
    if (c && !a || !c && a || !ln(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function fl(e, t, n, r) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [i, s] = n;
  if (i.has(e) || s.has(t))
    return i.get(e) === t && s.get(t) === e;
  i.set(e, t), s.set(t, e);
  const o = r(e, t, n);
  return i.delete(e), s.delete(t), o;
}
function ln(e, t, n) {
  if (e === t) return !0;
  let r = cl(e), i = cl(t);
  return r || i ? r && i ? e.getTime() === t.getTime() : !1 : (r = Tt(e), i = Tt(t), r || i ? e === t : (r = ce(e), i = ce(t), r || i ? r && i ? fl(e, t, n, Ff) : !1 : (r = Te(e), i = Te(t), r || i ? !r || !i ? !1 : fl(e, t, n, If) : String(e) === String(t))));
}
function Of(e, t) {
  return e.findIndex((n) => ln(n, t));
}
const sa = (e) => !!(e && e.__v_isRef === !0), oe = (e) => Ne(e) ? e : e == null ? "" : ce(e) || Te(e) && (e.toString === ea || !ve(e.toString)) ? sa(e) ? oe(e.value) : JSON.stringify(e, oa, 2) : String(e), oa = (e, t) => sa(t) ? oa(e, t.value) : rn(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [r, i], s) => (n[as(r, s) + " =>"] = i, n),
    {}
  )
} : Nn(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => as(n))
} : Tt(t) ? as(t) : Te(t) && !ce(t) && !ta(t) ? String(t) : t, as = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    Tt(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let Je;
class Nf {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && Je && (Je.active ? (this.parent = Je, this.index = (Je.scopes || (Je.scopes = [])).push(
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
      const n = Je;
      try {
        return Je = this, t();
      } finally {
        Je = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = Je, Je = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (Je === this)
        Je = this.prevScope;
      else {
        let t = Je;
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
function Mf() {
  return Je;
}
let Re;
const us = /* @__PURE__ */ new WeakSet();
class la {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, Je && (Je.active ? Je.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, us.has(this) && (us.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || aa(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, dl(this), ua(this);
    const t = Re, n = bt;
    Re = this, bt = !0;
    try {
      return this.fn();
    } finally {
      fa(this), Re = t, bt = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        wo(t);
      this.deps = this.depsTail = void 0, dl(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? us.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    Gs(this) && this.run();
  }
  get dirty() {
    return Gs(this);
  }
}
let ca = 0, wr, kr;
function aa(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = kr, kr = e;
    return;
  }
  e.next = wr, wr = e;
}
function bo() {
  ca++;
}
function yo() {
  if (--ca > 0)
    return;
  if (kr) {
    let t = kr;
    for (kr = void 0; t; ) {
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
function ua(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function fa(e) {
  let t, n = e.depsTail, r = n;
  for (; r; ) {
    const i = r.prevDep;
    r.version === -1 ? (r === n && (n = i), wo(r), Lf(r)) : t = r, r.dep.activeLink = r.prevActiveLink, r.prevActiveLink = void 0, r = i;
  }
  e.deps = t, e.depsTail = n;
}
function Gs(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (da(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function da(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === Sr) || (e.globalVersion = Sr, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !Gs(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = Re, r = bt;
  Re = e, bt = !0;
  try {
    ua(e);
    const i = e.fn(e._value);
    (t.version === 0 || Ct(i, e._value)) && (e.flags |= 128, e._value = i, t.version++);
  } catch (i) {
    throw t.version++, i;
  } finally {
    Re = n, bt = r, fa(e), e.flags &= -3;
  }
}
function wo(e, t = !1) {
  const { dep: n, prevSub: r, nextSub: i } = e;
  if (r && (r.nextSub = i, e.prevSub = void 0), i && (i.prevSub = r, e.nextSub = void 0), n.subs === e && (n.subs = r, !r && n.computed)) {
    n.computed.flags &= -5;
    for (let s = n.computed.deps; s; s = s.nextDep)
      wo(s, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function Lf(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let bt = !0;
const ha = [];
function cn() {
  ha.push(bt), bt = !1;
}
function an() {
  const e = ha.pop();
  bt = e === void 0 ? !0 : e;
}
function dl(e) {
  const { cleanup: t } = e;
  if (e.cleanup = void 0, t) {
    const n = Re;
    Re = void 0;
    try {
      t();
    } finally {
      Re = n;
    }
  }
}
let Sr = 0;
class Pf {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class ko {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!Re || !bt || Re === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== Re)
      n = this.activeLink = new Pf(Re, this), Re.deps ? (n.prevDep = Re.depsTail, Re.depsTail.nextDep = n, Re.depsTail = n) : Re.deps = Re.depsTail = n, pa(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const r = n.nextDep;
      r.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = r), n.prevDep = Re.depsTail, n.nextDep = void 0, Re.depsTail.nextDep = n, Re.depsTail = n, Re.deps === n && (Re.deps = r);
    }
    return n;
  }
  trigger(t) {
    this.version++, Sr++, this.notify(t);
  }
  notify(t) {
    bo();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      yo();
    }
  }
}
function pa(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let r = t.deps; r; r = r.nextDep)
        pa(r);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const Ks = /* @__PURE__ */ new WeakMap(), Tn = /* @__PURE__ */ Symbol(
  ""
), Ys = /* @__PURE__ */ Symbol(
  ""
), Tr = /* @__PURE__ */ Symbol(
  ""
);
function Ge(e, t, n) {
  if (bt && Re) {
    let r = Ks.get(e);
    r || Ks.set(e, r = /* @__PURE__ */ new Map());
    let i = r.get(n);
    i || (r.set(n, i = new ko()), i.map = r, i.key = n), i.track();
  }
}
function zt(e, t, n, r, i, s) {
  const o = Ks.get(e);
  if (!o) {
    Sr++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (bo(), t === "clear")
    o.forEach(l);
  else {
    const c = ce(e), a = c && _o(n);
    if (c && n === "length") {
      const u = Number(r);
      o.forEach((d, m) => {
        (m === "length" || m === Tr || !Tt(m) && m >= u) && l(d);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), a && l(o.get(Tr)), t) {
        case "add":
          c ? a && l(o.get("length")) : (l(o.get(Tn)), rn(e) && l(o.get(Ys)));
          break;
        case "delete":
          c || (l(o.get(Tn)), rn(e) && l(o.get(Ys)));
          break;
        case "set":
          rn(e) && l(o.get(Tn));
          break;
      }
  }
  yo();
}
function zn(e) {
  const t = /* @__PURE__ */ be(e);
  return t === e || (Ge(t, "iterate", Tr), /* @__PURE__ */ ut(e)) ? t : /* @__PURE__ */ Ft(e) ? /* @__PURE__ */ sn(e) ? t.map((n) => un(dt(n))) : t.map(un) : t.map(dt);
}
function Li(e) {
  return Ge(e = /* @__PURE__ */ be(e), "iterate", Tr), e;
}
function vt(e, t) {
  return /* @__PURE__ */ Ft(e) ? un(/* @__PURE__ */ sn(e) ? dt(t) : t) : dt(t);
}
const jf = {
  __proto__: null,
  [Symbol.iterator]() {
    return fs(this, Symbol.iterator, (e) => vt(this, e));
  },
  concat(...e) {
    return zn(this).concat(
      ...e.map((t) => ce(t) ? zn(t) : t)
    );
  },
  entries() {
    return fs(this, "entries", (e) => (e[1] = vt(this, e[1]), e));
  },
  every(e, t) {
    return Lt(this, "every", e, t, void 0, arguments);
  },
  filter(e, t) {
    return Lt(
      this,
      "filter",
      e,
      t,
      (n) => n.map((r) => vt(this, r)),
      arguments
    );
  },
  find(e, t) {
    return Lt(
      this,
      "find",
      e,
      t,
      (n) => vt(this, n),
      arguments
    );
  },
  findIndex(e, t) {
    return Lt(this, "findIndex", e, t, void 0, arguments);
  },
  findLast(e, t) {
    return Lt(
      this,
      "findLast",
      e,
      t,
      (n) => vt(this, n),
      arguments
    );
  },
  findLastIndex(e, t) {
    return Lt(this, "findLastIndex", e, t, void 0, arguments);
  },
  // flat, flatMap could benefit from ARRAY_ITERATE but are not straight-forward to implement
  forEach(e, t) {
    return Lt(this, "forEach", e, t, void 0, arguments);
  },
  includes(...e) {
    return ds(this, "includes", e);
  },
  indexOf(...e) {
    return ds(this, "indexOf", e);
  },
  join(e) {
    return zn(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return ds(this, "lastIndexOf", e);
  },
  map(e, t) {
    return Lt(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return cr(this, "pop");
  },
  push(...e) {
    return cr(this, "push", e);
  },
  reduce(e, ...t) {
    return pl(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return pl(this, "reduceRight", e, t);
  },
  shift() {
    return cr(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return Lt(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return cr(this, "splice", e);
  },
  toReversed() {
    return zn(this).toReversed();
  },
  toSorted(e) {
    return zn(this).toSorted(e);
  },
  toSpliced(...e) {
    return zn(this).toSpliced(...e);
  },
  unshift(...e) {
    return cr(this, "unshift", e);
  },
  values() {
    return fs(this, "values", (e) => vt(this, e));
  }
};
function fs(e, t, n) {
  const r = Li(e), i = r[t], s = i.call(r);
  if (r !== e && !/* @__PURE__ */ ut(e)) {
    if (s[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(s));
      return o.next = () => hl(s.next(), n), i !== ga[t] && Object.defineProperties(o, {
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
    s._next = s.next, s.next = () => hl(s._next(), n);
  }
  return s;
}
function hl(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const ga = Array.prototype;
function Lt(e, t, n, r, i, s) {
  const o = Li(e), l = o !== e && !/* @__PURE__ */ ut(e), c = o[t];
  if (c !== ga[t]) {
    const d = c.apply(e, s);
    return l ? dt(d) : d;
  }
  let a = n;
  o !== e && (l ? a = function(d, m) {
    return n.call(this, vt(e, d), m, e);
  } : n.length > 2 && (a = function(d, m) {
    return n.call(this, d, m, e);
  }));
  const u = c.call(o, a, r);
  return l && i ? i(u) : u;
}
function pl(e, t, n, r) {
  const i = Li(e), s = i !== e && !/* @__PURE__ */ ut(e);
  let o = n, l = !1;
  i !== e && (s ? (l = r.length === 0, o = function(a, u, d) {
    return l && (l = !1, a = vt(e, a)), n.call(this, a, vt(e, u), d, e);
  }) : n.length > 3 && (o = function(a, u, d) {
    return n.call(this, a, u, d, e);
  }));
  const c = i[t](o, ...r);
  return l ? vt(e, c) : c;
}
function ds(e, t, n) {
  const r = /* @__PURE__ */ be(e);
  Ge(r, "iterate", Tr);
  const i = r[t](...n);
  return (i === -1 || i === !1) && /* @__PURE__ */ Ro(n[0]) ? (n[0] = /* @__PURE__ */ be(n[0]), r[t](...n)) : i;
}
function cr(e, t, n = []) {
  cn(), bo();
  const r = (/* @__PURE__ */ be(e))[t].apply(e, n);
  return yo(), an(), r;
}
const Bf = /* @__PURE__ */ mo("__proto__,__v_isRef,__isVue"), ma = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(Tt)
);
function $f(e) {
  Tt(e) || (e = String(e));
  const t = /* @__PURE__ */ be(this);
  return Ge(t, "has", e), t.hasOwnProperty(e);
}
class _a {
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
      return r === (i ? s ? Yf : ka : s ? wa : ya).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(r) ? t : void 0;
    const o = ce(t);
    if (!i) {
      let c;
      if (o && (c = jf[n]))
        return c;
      if (n === "hasOwnProperty")
        return $f;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ Qe(t) ? t : r
    );
    if ((Tt(n) ? ma.has(n) : Bf(n)) || (i || Ge(t, "get", n), s))
      return l;
    if (/* @__PURE__ */ Qe(l)) {
      const c = o && _o(n) ? l : l.value;
      return i && Te(c) ? /* @__PURE__ */ Zs(c) : c;
    }
    return Te(l) ? i ? /* @__PURE__ */ Zs(l) : /* @__PURE__ */ Ao(l) : l;
  }
}
class ba extends _a {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, r, i) {
    let s = t[n];
    const o = ce(t) && _o(n);
    if (!this._isShallow) {
      const a = /* @__PURE__ */ Ft(s);
      if (!/* @__PURE__ */ ut(r) && !/* @__PURE__ */ Ft(r) && (s = /* @__PURE__ */ be(s), r = /* @__PURE__ */ be(r)), !o && /* @__PURE__ */ Qe(s) && !/* @__PURE__ */ Qe(r))
        return a || (s.value = r), !0;
    }
    const l = o ? Number(n) < t.length : we(t, n), c = Reflect.set(
      t,
      n,
      r,
      /* @__PURE__ */ Qe(t) ? t : i
    );
    return t === /* @__PURE__ */ be(i) && c && (l ? Ct(r, s) && zt(t, "set", n, r) : zt(t, "add", n, r)), c;
  }
  deleteProperty(t, n) {
    const r = we(t, n);
    t[n];
    const i = Reflect.deleteProperty(t, n);
    return i && r && zt(t, "delete", n, void 0), i;
  }
  has(t, n) {
    const r = Reflect.has(t, n);
    return (!Tt(n) || !ma.has(n)) && Ge(t, "has", n), r;
  }
  ownKeys(t) {
    return Ge(
      t,
      "iterate",
      ce(t) ? "length" : Tn
    ), Reflect.ownKeys(t);
  }
}
class zf extends _a {
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
const Uf = /* @__PURE__ */ new ba(), Wf = /* @__PURE__ */ new zf(), Jf = /* @__PURE__ */ new ba(!0);
const Xs = (e) => e, Zr = (e) => Reflect.getPrototypeOf(e);
function qf(e, t, n) {
  return function(...r) {
    const i = this.__v_raw, s = /* @__PURE__ */ be(i), o = rn(s), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, a = i[e](...r), u = n ? Xs : t ? un : dt;
    return !t && Ge(
      s,
      "iterate",
      c ? Ys : Tn
    ), ft(
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
function Hf(e, t) {
  const n = {
    get(i) {
      const s = this.__v_raw, o = /* @__PURE__ */ be(s), l = /* @__PURE__ */ be(i);
      e || (Ct(i, l) && Ge(o, "get", i), Ge(o, "get", l));
      const { has: c } = Zr(o), a = t ? Xs : e ? un : dt;
      if (c.call(o, i))
        return a(s.get(i));
      if (c.call(o, l))
        return a(s.get(l));
      s !== o && s.get(i);
    },
    get size() {
      const i = this.__v_raw;
      return !e && Ge(/* @__PURE__ */ be(i), "iterate", Tn), i.size;
    },
    has(i) {
      const s = this.__v_raw, o = /* @__PURE__ */ be(s), l = /* @__PURE__ */ be(i);
      return e || (Ct(i, l) && Ge(o, "has", i), Ge(o, "has", l)), i === l ? s.has(i) : s.has(i) || s.has(l);
    },
    forEach(i, s) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ be(l), a = t ? Xs : e ? un : dt;
      return !e && Ge(c, "iterate", Tn), l.forEach((u, d) => i.call(s, a(u), a(d), o));
    }
  };
  return ft(
    n,
    e ? {
      add: Qr("add"),
      set: Qr("set"),
      delete: Qr("delete"),
      clear: Qr("clear")
    } : {
      add(i) {
        const s = /* @__PURE__ */ be(this), o = Zr(s), l = /* @__PURE__ */ be(i), c = !t && !/* @__PURE__ */ ut(i) && !/* @__PURE__ */ Ft(i) ? l : i;
        return o.has.call(s, c) || Ct(i, c) && o.has.call(s, i) || Ct(l, c) && o.has.call(s, l) || (s.add(c), zt(s, "add", c, c)), this;
      },
      set(i, s) {
        !t && !/* @__PURE__ */ ut(s) && !/* @__PURE__ */ Ft(s) && (s = /* @__PURE__ */ be(s));
        const o = /* @__PURE__ */ be(this), { has: l, get: c } = Zr(o);
        let a = l.call(o, i);
        a || (i = /* @__PURE__ */ be(i), a = l.call(o, i));
        const u = c.call(o, i);
        return o.set(i, s), a ? Ct(s, u) && zt(o, "set", i, s) : zt(o, "add", i, s), this;
      },
      delete(i) {
        const s = /* @__PURE__ */ be(this), { has: o, get: l } = Zr(s);
        let c = o.call(s, i);
        c || (i = /* @__PURE__ */ be(i), c = o.call(s, i)), l && l.call(s, i);
        const a = s.delete(i);
        return c && zt(s, "delete", i, void 0), a;
      },
      clear() {
        const i = /* @__PURE__ */ be(this), s = i.size !== 0, o = i.clear();
        return s && zt(
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
    n[i] = qf(i, e, t);
  }), n;
}
function xo(e, t) {
  const n = Hf(e, t);
  return (r, i, s) => i === "__v_isReactive" ? !e : i === "__v_isReadonly" ? e : i === "__v_isShallow" ? t : i === "__v_raw" ? r : Reflect.get(
    we(n, i) && i in r ? n : r,
    i,
    s
  );
}
const Vf = {
  get: /* @__PURE__ */ xo(!1, !1)
}, Gf = {
  get: /* @__PURE__ */ xo(!1, !0)
}, Kf = {
  get: /* @__PURE__ */ xo(!0, !1)
};
const ya = /* @__PURE__ */ new WeakMap(), wa = /* @__PURE__ */ new WeakMap(), ka = /* @__PURE__ */ new WeakMap(), Yf = /* @__PURE__ */ new WeakMap();
function Xf(e) {
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
function Ao(e) {
  return /* @__PURE__ */ Ft(e) ? e : vo(
    e,
    !1,
    Uf,
    Vf,
    ya
  );
}
// @__NO_SIDE_EFFECTS__
function Zf(e) {
  return vo(
    e,
    !1,
    Jf,
    Gf,
    wa
  );
}
// @__NO_SIDE_EFFECTS__
function Zs(e) {
  return vo(
    e,
    !0,
    Wf,
    Kf,
    ka
  );
}
function vo(e, t, n, r, i) {
  if (!Te(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const s = i.get(e);
  if (s)
    return s;
  const o = Xf(xf(e));
  if (o === 0)
    return e;
  const l = new Proxy(
    e,
    o === 2 ? r : n
  );
  return i.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function sn(e) {
  return /* @__PURE__ */ Ft(e) ? /* @__PURE__ */ sn(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function Ft(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function ut(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function Ro(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function be(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ be(t) : e;
}
function Qf(e) {
  return !we(e, "__v_skip") && Object.isExtensible(e) && ra(e, "__v_skip", !0), e;
}
const dt = (e) => Te(e) ? /* @__PURE__ */ Ao(e) : e, un = (e) => Te(e) ? /* @__PURE__ */ Zs(e) : e;
// @__NO_SIDE_EFFECTS__
function Qe(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function ei(e) {
  return ed(e, !1);
}
function ed(e, t) {
  return /* @__PURE__ */ Qe(e) ? e : new td(e, t);
}
class td {
  constructor(t, n) {
    this.dep = new ko(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ be(t), this._value = n ? t : dt(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, r = this.__v_isShallow || /* @__PURE__ */ ut(t) || /* @__PURE__ */ Ft(t);
    t = r ? t : /* @__PURE__ */ be(t), Ct(t, n) && (this._rawValue = t, this._value = r ? t : dt(t), this.dep.trigger());
  }
}
function G(e) {
  return /* @__PURE__ */ Qe(e) ? e.value : e;
}
const nd = {
  get: (e, t, n) => t === "__v_raw" ? e : G(Reflect.get(e, t, n)),
  set: (e, t, n, r) => {
    const i = e[t];
    return /* @__PURE__ */ Qe(i) && !/* @__PURE__ */ Qe(n) ? (i.value = n, !0) : Reflect.set(e, t, n, r);
  }
};
function xa(e) {
  return /* @__PURE__ */ sn(e) ? e : new Proxy(e, nd);
}
class rd {
  constructor(t, n, r) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new ko(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = Sr - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = r;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    Re !== this)
      return aa(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return da(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function id(e, t, n = !1) {
  let r, i;
  return ve(e) ? r = e : (r = e.get, i = e.set), new rd(r, i, n);
}
const ti = {}, _i = /* @__PURE__ */ new WeakMap();
let An;
function sd(e, t = !1, n = An) {
  if (n) {
    let r = _i.get(n);
    r || _i.set(n, r = []), r.push(e);
  }
}
function od(e, t, n = Se) {
  const { immediate: r, deep: i, once: s, scheduler: o, augmentJob: l, call: c } = n, a = (y) => i ? y : /* @__PURE__ */ ut(y) || i === !1 || i === 0 ? Ut(y, 1) : Ut(y);
  let u, d, m, g, p = !1, x = !1;
  if (/* @__PURE__ */ Qe(e) ? (d = () => e.value, p = /* @__PURE__ */ ut(e)) : /* @__PURE__ */ sn(e) ? (d = () => a(e), p = !0) : ce(e) ? (x = !0, p = e.some((y) => /* @__PURE__ */ sn(y) || /* @__PURE__ */ ut(y)), d = () => e.map((y) => {
    if (/* @__PURE__ */ Qe(y))
      return y.value;
    if (/* @__PURE__ */ sn(y))
      return a(y);
    if (ve(y))
      return c ? c(y, 2) : y();
  })) : ve(e) ? t ? d = c ? () => c(e, 2) : e : d = () => {
    if (m) {
      cn();
      try {
        m();
      } finally {
        an();
      }
    }
    const y = An;
    An = u;
    try {
      return c ? c(e, 3, [g]) : e(g);
    } finally {
      An = y;
    }
  } : d = Sn, t && i) {
    const y = d, F = i === !0 ? 1 / 0 : i;
    d = () => Ut(y(), F);
  }
  const v = Mf(), D = () => {
    u.stop(), v && v.active && Zc(v.effects, u);
  };
  if (s && t) {
    const y = t;
    t = (...F) => {
      try {
        return y(...F);
      } finally {
        D();
      }
    };
  }
  let k = x ? new Array(e.length).fill(ti) : ti;
  const w = (y) => {
    if (!(!(u.flags & 1) || !u.dirty && !y))
      if (t) {
        const F = u.run();
        if (y || i || p || (x ? F.some((z, B) => Ct(z, k[B])) : Ct(F, k))) {
          const z = An;
          cn();
          try {
            m && m(), An = u;
            const B = [
              F,
              // pass undefined as the old value when it's changed for the first time
              k === ti ? void 0 : x && k[0] === ti ? [] : k,
              g
            ];
            k = F, c ? c(t, 3, B) : (
              // @ts-expect-error
              t(...B)
            );
          } finally {
            An = z, an();
          }
        }
      } else
        u.run();
  };
  return l && l(w), u = new la(d), u.scheduler = o ? () => o(w, !1) : w, g = (y) => sd(y, !1, u), m = u.onStop = () => {
    const y = _i.get(u);
    if (y) {
      if (c)
        c(y, 4);
      else
        for (const F of y) F();
      _i.delete(u);
    }
  }, t ? r ? w(!0) : k = u.run() : o ? o(w.bind(null, !0), !0) : u.run(), D.pause = u.pause.bind(u), D.resume = u.resume.bind(u), D.stop = D, D;
}
function Ut(e, t = 1 / 0, n) {
  if (t <= 0 || !Te(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ Qe(e))
    Ut(e.value, t, n);
  else if (ce(e))
    for (let r = 0; r < e.length; r++)
      Ut(e[r], t, n);
  else if (Nn(e) || rn(e))
    e.forEach((r) => {
      Ut(r, t, n);
    });
  else if (ta(e)) {
    for (const r in e)
      Ut(e[r], t, n);
    for (const r of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, r) && Ut(e[r], t, n);
  }
  return e;
}
function Wr(e, t, n, r) {
  try {
    return r ? e(...r) : e();
  } catch (i) {
    Pi(i, t, n);
  }
}
function Ht(e, t, n, r) {
  if (ve(e)) {
    const i = Wr(e, t, n, r);
    return i && Qc(i) && i.catch((s) => {
      Pi(s, t, n, void 0, !0);
    }), i;
  }
  if (ce(e)) {
    const i = [];
    for (let s = 0; s < e.length; s++)
      i.push(Ht(e[s], t, n, r));
    return i;
  }
}
function Pi(e, t, n, r = !0, i = !1) {
  const s = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || Se;
  if (t) {
    let c = t.parent;
    const a = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const d = c.ec;
      if (d && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!i || c.scope.active)) {
        for (let m = 0; m < d.length; m++)
          if (d[m](e, a, u) === !1)
            return;
      }
      c = c.parent;
    }
    if (o) {
      cn(), Wr(o, null, 10, [
        e,
        a,
        u
      ]), an();
      return;
    }
  }
  ld(e, n, s, r, l);
}
function ld(e, t, n, r = !0, i = !1) {
  if (i)
    throw e;
  console.error(e);
}
const Ye = [];
let mt = -1;
const Rt = [];
let Qt = null, qn = 0;
const Aa = /* @__PURE__ */ Promise.resolve();
let bi = null;
function xr(e) {
  const t = bi || Aa;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function cd(e) {
  let t = mt + 1, n = Ye.length;
  for (; t < n; ) {
    const r = t + n >>> 1, i = Ye[r], s = Fr(i);
    s < e || s === e && i.flags & 2 ? t = r + 1 : n = r;
  }
  return t;
}
function Eo(e) {
  if (!(e.flags & 1)) {
    const t = Fr(e), n = Ye[Ye.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Fr(n) ? Ye.push(e) : Ye.splice(cd(t), 0, e), e.flags |= 1, va();
  }
}
function va() {
  bi || (bi = Aa.then(Ca));
}
function ad(e) {
  if (!ce(e))
    Qt && e.id === -1 ? Qt.splice(qn + 1, 0, e) : e.flags & 1 || (Rt.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      Rt.push(e[t]);
  va();
}
function Ra(e, t, n, r = mt + 1) {
  for (; r < Ye.length; r++) {
    const i = Ye[r];
    if (i && i.flags & 2) {
      if (e && i.id !== e.uid || t !== void 0 && !(i.id >= t))
        continue;
      Ye.splice(r, 1), r = e ? r - 1 : mt, i.flags & 4 && (i.flags &= -2), i(), i.flags & 4 || (i.flags &= -2);
    }
  }
}
function Ea(e, t, n = 0) {
  if (Rt.length) {
    let r = Rt, i = 0;
    if (t) {
      r = [];
      for (let o = 0; o < Rt.length; o++) {
        const l = Rt[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? Rt[i++] = l : r.push(l);
      }
    }
    const s = [...new Set(r)].sort((o, l) => Fr(o) - Fr(l));
    if (Rt.length = i, Qt) {
      for (let o = 0; o < s.length; o++)
        Qt.push(s[o]);
      return;
    }
    for (Qt = s, qn = 0; qn < Qt.length; qn++) {
      const o = Qt[qn];
      o.flags & 4 && (o.flags &= -2), o.flags & 8 || o(), o.flags &= -2;
    }
    Qt = null, qn = 0;
  }
}
let hs = !1;
function ud(e, t) {
  if (hs) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(Rt);
  e(), hs = !0;
  try {
    Ra(void 0, t), Ea(void 0, n, t);
  } finally {
    hs = !1;
  }
}
const Fr = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function Ca(e) {
  try {
    for (mt = 0; mt < Ye.length; mt++) {
      const t = Ye[mt];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), Wr(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; mt < Ye.length; mt++) {
      const t = Ye[mt];
      t && (t.flags &= -2);
    }
    mt = -1, Ye.length = 0, Ea(), bi = null, (Ye.length || Rt.length) && Ca();
  }
}
let at = null, Da = null;
function yi(e) {
  const t = at;
  return at = e, Da = e && e.type.__scopeId || null, t;
}
function fd(e, t = at, n) {
  if (!t || e._n)
    return e;
  const r = (...i) => {
    r._d && Al(-1);
    const s = yi(t), o = Fn.length;
    let l;
    try {
      l = e(...i);
    } finally {
      for (let c = Fn.length; c > o; c--) Ja();
      yi(s), r._d && Al(1);
    }
    return l;
  };
  return r._n = !0, r._c = !0, r._d = !0, r;
}
function bn(e, t) {
  if (at === null)
    return e;
  const n = zi(at), r = e.dirs || (e.dirs = []);
  for (let i = 0; i < t.length; i++) {
    let [s, o, l, c = Se] = t[i];
    s && (ve(s) && (s = {
      mounted: s,
      updated: s
    }), s.deep && Ut(o), r.push({
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
function yn(e, t, n, r) {
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
    o ? c.oldValue = o[l].value : r === "mounted" && c.oldValue !== void 0 && (c = ft({}, c, { oldValue: void 0 }));
    let a = c.dir[r];
    a && (cn(), Ht(a, n, 8, [
      e.el,
      c,
      i,
      t
    ]), an());
  }
}
function dd(e, t, n = !1) {
  const r = Xd();
  if (r || Gn) {
    let i = Gn ? Gn._context.provides : r ? r.parent == null || r.ce ? r.vnode.appContext && r.vnode.appContext.provides : r.parent.provides : void 0;
    if (i && e in i)
      return i[e];
    if (arguments.length > 1)
      return n && ve(t) ? t.call(r && r.proxy) : t;
  }
}
const hd = /* @__PURE__ */ Symbol.for("v-scx"), pd = () => dd(hd);
function ps(e, t, n) {
  return gd(e, t, n);
}
function gd(e, t, n = Se) {
  const { immediate: r, deep: i, flush: s, once: o } = n, l = ft({}, n), c = t && r || !t && s !== "post";
  let a;
  if (Ai) {
    if (s === "sync") {
      const g = pd();
      a = g.__watcherHandles || (g.__watcherHandles = []);
    } else if (!c) {
      const g = () => {
      };
      return g.stop = Sn, g.resume = Sn, g.pause = Sn, g;
    }
  }
  const u = Qn;
  l.call = (g, p, x) => Ht(g, u, p, x);
  let d = !1;
  s === "post" ? l.scheduler = (g) => {
    g.i = u, He(g, u && u.suspense);
  } : s !== "sync" && (d = !0, l.scheduler = (g, p) => {
    p ? g() : Eo(g);
  }), l.augmentJob = (g) => {
    t && (g.flags |= 4), d && (g.flags |= 2, u && (g.id = u.uid, g.i = u));
  };
  const m = od(e, t, l);
  return Ai && (a ? a.push(m) : c && m()), m;
}
const Zt = /* @__PURE__ */ new WeakMap(), Sa = /* @__PURE__ */ Symbol("_vte"), ji = (e) => e.__isTeleport, Rn = (e) => e && (e.disabled || e.disabled === ""), md = (e) => e && (e.defer || e.defer === ""), gl = (e) => typeof SVGElement < "u" && e instanceof SVGElement, ml = (e) => typeof MathMLElement == "function" && e instanceof MathMLElement, Qs = (e, t) => {
  const n = e && e.to;
  return Ne(n) ? t ? t(n) : null : n;
}, _d = {
  name: "Teleport",
  __isTeleport: !0,
  process(e, t, n, r, i, s, o, l, c, a) {
    const {
      mc: u,
      pc: d,
      pbc: m,
      o: { insert: g, querySelector: p, createText: x, createComment: v, parentNode: D }
    } = a, k = Rn(t.props);
    let { dynamicChildren: w } = t;
    const y = (B, ee, Q) => {
      B.shapeFlag & 16 && u(
        B.children,
        ee,
        Q,
        i,
        s,
        o,
        l,
        c
      );
    }, F = (B = t) => {
      const ee = Rn(B.props), Q = B.target = Qs(B.props, p), ae = eo(Q, B, x, g);
      Q && (o !== "svg" && gl(Q) ? o = "svg" : o !== "mathml" && ml(Q) && (o = "mathml"), i && i.isCE && (i.ce._teleportTargets || (i.ce._teleportTargets = /* @__PURE__ */ new Set())).add(Q), ee || (y(B, Q, ae), mr(B, !1)));
    }, z = (B) => {
      const ee = () => {
        if (Zt.get(B) === ee) {
          if (Zt.delete(B), Rn(B.props)) {
            const Q = D(B.el) || n;
            y(B, Q, B.anchor), mr(B, !0);
          }
          F(B);
        }
      };
      Zt.set(B, ee), He(ee, s);
    };
    if (e == null) {
      const B = t.el = x(""), ee = t.anchor = x("");
      if (g(B, n, r), g(ee, n, r), md(t.props) || s && s.pendingBranch) {
        z(t);
        return;
      }
      k && (y(t, n, ee), mr(t, !0)), F();
    } else {
      t.el = e.el;
      const B = t.anchor = e.anchor, ee = Zt.get(e);
      if (ee) {
        ee.flags |= 8, Zt.delete(e), z(t);
        return;
      }
      t.targetStart = e.targetStart;
      const Q = t.target = e.target, ae = t.targetAnchor = e.targetAnchor, ne = Rn(e.props), fe = ne ? n : Q, Ce = ne ? B : ae;
      if (o === "svg" || gl(Q) ? o = "svg" : (o === "mathml" || ml(Q)) && (o = "mathml"), w ? (m(
        e.dynamicChildren,
        w,
        fe,
        i,
        s,
        o,
        l
      ), So(e, t, !0)) : c || d(
        e,
        t,
        fe,
        Ce,
        i,
        s,
        o,
        l,
        !1
      ), k)
        ne ? t.props && e.props && t.props.to !== e.props.to && (t.props.to = e.props.to) : ni(
          t,
          n,
          B,
          a,
          1
        );
      else if ((t.props && t.props.to) !== (e.props && e.props.to)) {
        const ye = Qs(t.props, p);
        ye && (t.target = ye, ni(
          t,
          ye,
          null,
          a,
          0
        ));
      } else ne && ni(
        t,
        Q,
        ae,
        a,
        1
      );
      mr(t, k);
    }
  },
  remove(e, t, n, { um: r, o: { remove: i } }, s) {
    const {
      shapeFlag: o,
      children: l,
      anchor: c,
      targetStart: a,
      targetAnchor: u,
      target: d,
      props: m
    } = e, g = Rn(m), p = s || !g, x = Zt.get(e);
    if (x && (x.flags |= 8, Zt.delete(e)), d && (i(a), i(u)), s && i(c), !x && (g || d) && o & 16)
      for (let v = 0; v < l.length; v++) {
        const D = l[v];
        r(
          D,
          t,
          n,
          p,
          !!D.dynamicChildren
        );
      }
  },
  move: ni,
  hydrate: bd
};
function ni(e, t, n, { o: { insert: r }, m: i }, s = 2) {
  s === 0 && (e.targetStart && r(e.targetStart, t, n), r(e.targetAnchor, t, n), n = e.targetAnchor);
  const { el: o, anchor: l, shapeFlag: c, children: a, props: u } = e, d = s === 2;
  if (d && r(o, t, n), !Zt.has(e) && (!d || Rn(u)) && c & 16)
    for (let m = 0; m < a.length; m++)
      i(
        a[m],
        t,
        n,
        2
      );
  d && r(l, t, n);
}
function bd(e, t, n, r, i, s, {
  o: { nextSibling: o, parentNode: l, querySelector: c, insert: a, createText: u }
}, d) {
  function m(v, D) {
    let k = D;
    for (; k; ) {
      if (k && k.nodeType === 8) {
        if (k.data === "teleport start anchor")
          t.targetStart = k;
        else if (k.data === "teleport anchor") {
          t.targetAnchor = k, v._lpa = t.targetAnchor && o(t.targetAnchor);
          break;
        }
      }
      k = o(k);
    }
  }
  function g(v, D) {
    D.anchor = d(
      o(v),
      D,
      l(v),
      n,
      r,
      i,
      s
    );
  }
  const p = t.target = Qs(
    t.props,
    c
  ), x = Rn(t.props);
  if (p) {
    const v = p._lpa || p.firstChild;
    t.shapeFlag & 16 && (x ? (g(e, t), m(p, v), t.targetAnchor || eo(
      p,
      t,
      u,
      a,
      // if target is the same as the main view, insert anchors before current node
      // to avoid hydrating mismatch
      l(e) === p ? e : null
    )) : (t.anchor = o(e), m(p, v), t.targetAnchor || eo(p, t, u, a), d(
      v && o(v),
      t,
      p,
      n,
      r,
      i,
      s
    ))), mr(t, x);
  } else x && t.shapeFlag & 16 && (g(e, t), t.targetStart = e, t.targetAnchor = o(e));
  return t.anchor && o(t.anchor);
}
const yd = _d;
function mr(e, t) {
  const n = e.ctx;
  if (n && n.ut) {
    let r, i;
    for (t ? (r = e.el, i = e.anchor) : (r = e.targetStart, i = e.targetAnchor); r && r !== i; )
      r.nodeType === 1 && r.setAttribute("data-v-owner", n.uid), r = r.nextSibling;
    n.ut();
  }
}
function eo(e, t, n, r, i = null) {
  const s = t.targetStart = n(""), o = t.targetAnchor = n("");
  return s[Sa] = o, e && (r(s, e, i), r(o, e, i)), o;
}
const gs = /* @__PURE__ */ Symbol("_leaveCb");
function wd(e) {
  let t = e[0];
  if (e.length > 1) {
    for (const n of e)
      if (n.type !== yt) {
        t = n;
        break;
      }
  }
  return t;
}
function Ta(e) {
  if (!Fa(e))
    return ji(e.type) && e.children ? wd(e.children) : e;
  if (e.component)
    return e.component.subTree;
  const { shapeFlag: t, children: n } = e;
  if (n) {
    if (t & 16)
      return n[0];
    if (t & 32 && ve(n.default))
      return n.default();
  }
}
function Ar(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    Ar(
      ji(n.type) && Ta(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const r = n.isHydrating ? n.pendingBranch : n.activeBranch;
      r && Ar(r, t.clone(r));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === se && ce(e.children)) {
    const n = Oa(e.children, !1);
    n && Ar(n, t);
  }
}
function to(e) {
  if (e.component)
    return to(e.component.subTree);
  if (e.type === se) {
    const t = ce(e.children) && Oa(e.children, !1);
    return t ? to(t) : void 0;
  }
  if (e.type !== yt)
    return e;
}
function kd(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function _l(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const wi = /* @__PURE__ */ new WeakMap();
function vr(e, t, n, r, i = !1) {
  if (ce(e)) {
    e.forEach(
      (x, v) => vr(
        x,
        t && (ce(t) ? t[v] : t),
        n,
        r,
        i
      )
    );
    return;
  }
  if (Rr(r) && !i) {
    r.shapeFlag & 512 && r.type.__asyncResolved && r.component.subTree.component && vr(e, t, n, r.component.subTree);
    return;
  }
  const s = r.shapeFlag & 4 ? zi(r.component) : r.el, o = i ? null : s, { i: l, r: c } = e, a = t && t.r, u = l.refs === Se ? l.refs = {} : l.refs, d = l.setupState, m = /* @__PURE__ */ be(d), g = d === Se ? Xc : (x) => _l(u, x) ? !1 : we(m, x), p = (x, v) => !(v && _l(u, v));
  if (a != null && a !== c) {
    if (bl(t), Ne(a))
      u[a] = null, g(a) && (d[a] = null);
    else if (/* @__PURE__ */ Qe(a)) {
      const x = t;
      p(a, x.k) && (a.value = null), x.k && (u[x.k] = null);
    }
  }
  if (ve(c))
    Wr(c, l, 12, [o, u]);
  else {
    const x = Ne(c), v = /* @__PURE__ */ Qe(c);
    if (x || v) {
      const D = () => {
        if (e.f) {
          const k = x ? g(c) ? d[c] : u[c] : p() || !e.k ? c.value : u[e.k];
          if (i)
            ce(k) && Zc(k, s);
          else if (ce(k))
            k.includes(s) || k.push(s);
          else if (x)
            u[c] = [s], g(c) && (d[c] = u[c]);
          else {
            const w = [s];
            p(c, e.k) && (c.value = w), e.k && (u[e.k] = w);
          }
        } else x ? (u[c] = o, g(c) && (d[c] = o)) : v && (p(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const k = () => {
          D(), wi.delete(e);
        };
        k.id = -1, wi.set(e, k), He(k, n);
      } else
        bl(e), D();
    }
  }
}
function bl(e) {
  const t = wi.get(e);
  t && (t.flags |= 8, wi.delete(e));
}
Mi().requestIdleCallback;
Mi().cancelIdleCallback;
const Rr = (e) => !!e.type.__asyncLoader, Fa = (e) => e.type.__isKeepAlive, xd = /* @__PURE__ */ Symbol.for("v-ndc");
function qe(e, t, n, r) {
  let i;
  const s = n, o = ce(e);
  if (o || Ne(e)) {
    const l = o && /* @__PURE__ */ sn(e);
    let c = !1, a = !1;
    l && (c = !/* @__PURE__ */ ut(e), a = /* @__PURE__ */ Ft(e), e = Li(e)), i = new Array(e.length);
    for (let u = 0, d = e.length; u < d; u++)
      i[u] = t(
        c ? a ? un(dt(e[u])) : dt(e[u]) : e[u],
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
  else if (Te(e))
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
const no = (e) => e ? Ka(e) ? zi(e) : no(e.parent) : null, Er = (
  // Move PURE marker to new line to workaround compiler discarding it
  // due to type annotation
  /* @__PURE__ */ ft(/* @__PURE__ */ Object.create(null), {
    $: (e) => e,
    $el: (e) => e.vnode.el,
    $data: (e) => e.data,
    $props: (e) => e.props,
    $attrs: (e) => e.attrs,
    $slots: (e) => e.slots,
    $refs: (e) => e.refs,
    $parent: (e) => no(e.parent),
    $root: (e) => no(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      Eo(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = xr.bind(e.proxy)),
    $watch: (e) => Sn
  })
), ms = (e, t) => e !== Se && !e.__isScriptSetup && we(e, t), Ad = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: r, data: i, props: s, accessCache: o, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const m = o[t];
      if (m !== void 0)
        switch (m) {
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
        if (ms(r, t))
          return o[t] = 1, r[t];
        if (we(s, t))
          return o[t] = 3, s[t];
        if (n !== Se && we(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const a = Er[t];
    let u, d;
    if (a)
      return t === "$attrs" && Ge(e.attrs, "get", ""), a(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== Se && we(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      d = c.config.globalProperties, we(d, t)
    )
      return d[t];
  },
  set({ _: e }, t, n) {
    const { data: r, setupState: i, ctx: s } = e;
    return ms(i, t) ? (i[t] = n, !0) : we(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (s[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: r, appContext: i, props: s, type: o }
  }, l) {
    let c;
    return !!(n[l] || ms(t, l) || we(s, l) || we(r, l) || we(Er, l) || we(i.config.globalProperties, l) || (c = o.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : we(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function Ia() {
  return {
    app: null,
    config: {
      isNativeTag: Xc,
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
let vd = 0;
function Rd(e, t) {
  return function(r, i = null) {
    ve(r) || (r = ft({}, r)), i != null && !Te(i) && (i = null);
    const s = Ia(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const a = s.app = {
      _uid: vd++,
      _component: r,
      _props: i,
      _container: null,
      _context: s,
      _instance: null,
      version: rh,
      get config() {
        return s.config;
      },
      set config(u) {
      },
      use(u, ...d) {
        return o.has(u) || (u && ve(u.install) ? (o.add(u), u.install(a, ...d)) : ve(u) && (o.add(u), u(a, ...d))), a;
      },
      mixin(u) {
        return a;
      },
      component(u, d) {
        return d ? (s.components[u] = d, a) : s.components[u];
      },
      directive(u, d) {
        return d ? (s.directives[u] = d, a) : s.directives[u];
      },
      mount(u, d, m) {
        if (!c) {
          const g = a._ceVNode || Jt(r, i);
          return g.appContext = s, m === !0 ? m = "svg" : m === !1 && (m = void 0), e(g, u, m), c = !0, a._container = u, u.__vue_app__ = a, zi(g.component);
        }
      },
      onUnmount(u) {
        l.push(u);
      },
      unmount() {
        c && (Ht(
          l,
          a._instance,
          16
        ), e(null, a._container), delete a._container.__vue_app__);
      },
      provide(u, d) {
        return s.provides[u] = d, a;
      },
      runWithContext(u) {
        const d = Gn;
        Gn = a;
        try {
          return u();
        } finally {
          Gn = d;
        }
      }
    };
    return a;
  };
}
let Gn = null;
const Ed = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${_t(t)}Modifiers`] || e[`${Mn(t)}Modifiers`];
function Cd(e, t, ...n) {
  if (e.isUnmounted) return;
  const r = e.vnode.props || Se;
  let i = n;
  const s = t.startsWith("update:"), o = s && Ed(r, t.slice(7));
  o && (o.trim && (i = n.map((u) => Ne(u) ? u.trim() : u)), o.number && (i = i.map(Ur)));
  let l, c = r[l = cs(t)] || // also try camelCase event handler (#2249)
  r[l = cs(_t(t))];
  !c && s && (c = r[l = cs(Mn(t))]), c && Ht(
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
    e.emitted[l] = !0, Ht(
      a,
      e,
      6,
      i
    );
  }
}
function Dd(e, t, n = !1) {
  const r = t.emitsCache, i = r.get(e);
  if (i !== void 0)
    return i;
  const s = e.emits;
  let o = {};
  return s ? (ce(s) ? s.forEach((l) => o[l] = null) : ft(o, s), Te(e) && r.set(e, o), o) : (Te(e) && r.set(e, null), null);
}
function Bi(e, t) {
  return !e || !Ii(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), we(e, t[0].toLowerCase() + t.slice(1)) || we(e, Mn(t)) || we(e, t));
}
function yl(e) {
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
    props: d,
    data: m,
    setupState: g,
    ctx: p,
    inheritAttrs: x
  } = e, v = yi(e);
  let D, k;
  try {
    if (n.shapeFlag & 4) {
      const y = i || r, F = y;
      D = Et(
        a.call(
          F,
          y,
          u,
          d,
          g,
          m,
          p
        )
      ), k = l;
    } else {
      const y = t;
      D = Et(
        y.length > 1 ? y(
          d,
          { attrs: l, slots: o, emit: c }
        ) : y(
          d,
          null
        )
      ), k = t.props ? l : Sd(l);
    }
  } catch (y) {
    Fn.length = 0, Pi(y, e, 1), D = Jt(yt);
  }
  let w = D;
  if (k && x !== !1) {
    const y = Object.keys(k), { shapeFlag: F } = w;
    y.length && F & 7 && (s && y.some(Oi) && (k = Td(
      k,
      s
    )), w = Zn(w, k, !1, !0));
  }
  if (n.dirs && (w = Zn(w, null, !1, !0), w.dirs = w.dirs ? w.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const y = ji(w.type) && Ta(w) || w;
    Ar(y, n.transition);
  }
  return D = w, yi(v), D;
}
function Oa(e, t = !0) {
  let n;
  for (let r = 0; r < e.length; r++) {
    const i = e[r];
    if (To(i)) {
      if (i.type !== yt || i.children === "v-if") {
        if (n)
          return;
        n = i;
      }
    } else
      return;
  }
  return n;
}
const Sd = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || Ii(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, Td = (e, t) => {
  const n = {};
  for (const r in e)
    (!Oi(r) || !(r.slice(9) in t)) && (n[r] = e[r]);
  return n;
};
function Fd(e, t, n) {
  const { props: r, children: i, component: s } = e, { props: o, children: l, patchFlag: c } = t, a = s.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return r ? wl(r, o, a) : !!o;
    if (c & 8) {
      const u = t.dynamicProps;
      for (let d = 0; d < u.length; d++) {
        const m = u[d];
        if (Na(o, r, m) && !Bi(a, m))
          return !0;
      }
    }
  } else
    return (i || l) && (!l || !l.$stable) ? !0 : r === o ? !1 : r ? o ? wl(r, o, a) : !0 : !!o;
  return !1;
}
function wl(e, t, n) {
  const r = Object.keys(t);
  if (r.length !== Object.keys(e).length)
    return !0;
  for (let i = 0; i < r.length; i++) {
    const s = r[i];
    if (!we(e, s) || Na(t, e, s) && !Bi(n, s))
      return !0;
  }
  return !1;
}
function Na(e, t, n) {
  const r = e[n], i = t[n];
  return n === "style" && Te(r) && Te(i) ? !ln(r, i) : r !== i;
}
function Id({ vnode: e, parent: t, suspense: n }, r) {
  for (; t; ) {
    const i = t.subTree;
    if (i.suspense && i.suspense.activeBranch === e && (i.suspense.vnode.el = i.el = r, e = i), i === e)
      (e = t.vnode).el = r, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = r);
}
const Ma = {}, La = () => Object.create(Ma), Pa = (e) => Object.getPrototypeOf(e) === Ma;
function Od(e, t, n, r = !1) {
  const i = {}, s = La();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), ja(e, t, i, s);
  for (const o in e.propsOptions[0])
    o in i || (i[o] = void 0);
  n ? e.props = r ? i : /* @__PURE__ */ Zf(i) : e.type.props ? e.props = i : e.props = s, e.attrs = s;
}
function Nd(e, t, n, r) {
  const {
    props: i,
    attrs: s,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ be(i), [c] = e.propsOptions;
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
        if (Bi(e.emitsOptions, m))
          continue;
        const g = t[m];
        if (c)
          if (we(s, m))
            g !== s[m] && (s[m] = g, a = !0);
          else {
            const p = _t(m);
            i[p] = ro(
              c,
              l,
              p,
              g,
              e,
              !1
            );
          }
        else
          g !== s[m] && (s[m] = g, a = !0);
      }
    }
  } else {
    ja(e, t, i, s) && (a = !0);
    let u;
    for (const d in l)
      (!t || // for camelCase
      !we(t, d) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = Mn(d)) === d || !we(t, u))) && (c ? n && // for camelCase
      (n[d] !== void 0 || // for kebab-case
      n[u] !== void 0) && (i[d] = ro(
        c,
        l,
        d,
        void 0,
        e,
        !0
      )) : delete i[d]);
    if (s !== l)
      for (const d in s)
        (!t || !we(t, d)) && (delete s[d], a = !0);
  }
  a && zt(e.attrs, "set", "");
}
function ja(e, t, n, r) {
  const [i, s] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let c in t) {
      if (yr(c))
        continue;
      const a = t[c];
      let u;
      i && we(i, u = _t(c)) ? !s || !s.includes(u) ? n[u] = a : (l || (l = {}))[u] = a : Bi(e.emitsOptions, c) || (!(c in r) || a !== r[c]) && (r[c] = a, o = !0);
    }
  if (s) {
    const c = /* @__PURE__ */ be(n), a = l || Se;
    for (let u = 0; u < s.length; u++) {
      const d = s[u];
      n[d] = ro(
        i,
        c,
        d,
        a[d],
        e,
        !we(a, d)
      );
    }
  }
  return o;
}
function ro(e, t, n, r, i, s) {
  const o = e[n];
  if (o != null) {
    const l = we(o, "default");
    if (l && r === void 0) {
      const c = o.default;
      if (o.type !== Function && !o.skipFactory && ve(c)) {
        const { propsDefaults: a } = i;
        if (n in a)
          r = a[n];
        else {
          const u = Ga(i);
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
    ] && (r === "" || r === Mn(n)) && (r = !0));
  }
  return r;
}
function Md(e, t, n = !1) {
  const r = t.propsCache, i = r.get(e);
  if (i)
    return i;
  const s = e.props, o = {}, l = [];
  if (!s)
    return Te(e) && r.set(e, Cn), Cn;
  if (ce(s))
    for (let a = 0; a < s.length; a++) {
      const u = _t(s[a]);
      kl(u) && (o[u] = Se);
    }
  else if (s)
    for (const a in s) {
      const u = _t(a);
      if (kl(u)) {
        const d = s[a], m = o[u] = ce(d) || ve(d) ? { type: d } : ft({}, d), g = m.type;
        let p = !1, x = !0;
        if (ce(g))
          for (let v = 0; v < g.length; ++v) {
            const D = g[v], k = ve(D) && D.name;
            if (k === "Boolean") {
              p = !0;
              break;
            } else k === "String" && (x = !1);
          }
        else
          p = ve(g) && g.name === "Boolean";
        m[
          0
          /* shouldCast */
        ] = p, m[
          1
          /* shouldCastTrue */
        ] = x, (p || we(m, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return Te(e) && r.set(e, c), c;
}
function kl(e) {
  return e[0] !== "$" && !yr(e);
}
const Co = (e) => e === "_" || e === "_ctx" || e === "$stable", Do = (e) => ce(e) ? e.map(Et) : [Et(e)], Ld = (e, t, n) => {
  if (t._n)
    return t;
  const r = fd((...i) => Do(t(...i)), n);
  return r._c = !1, r;
}, Ba = (e, t, n) => {
  const r = e._ctx;
  for (const i in e) {
    if (Co(i)) continue;
    const s = e[i];
    if (ve(s))
      t[i] = Ld(i, s, r);
    else if (s != null) {
      const o = Do(s);
      t[i] = () => o;
    }
  }
}, $a = (e, t) => {
  const n = Do(t);
  e.slots.default = () => n;
}, za = (e, t, n) => {
  for (const r in t)
    (n || !Co(r)) && (e[r] = t[r]);
}, Pd = (e, t, n) => {
  const r = e.slots = La();
  if (e.vnode.shapeFlag & 32) {
    const i = t._;
    i ? (za(r, t, n), n && ra(r, "_", i, !0)) : Ba(t, r);
  } else t && $a(e, t);
}, jd = (e, t, n) => {
  const { vnode: r, slots: i } = e;
  let s = !0, o = Se;
  if (r.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? s = !1 : za(i, t, n) : (s = !t.$stable, Ba(t, i)), o = t;
  } else t && ($a(e, t), o = { default: 1 });
  if (s)
    for (const l in i)
      !Co(l) && o[l] == null && delete i[l];
}, He = Jd;
function Bd(e) {
  return $d(e);
}
function $d(e, t) {
  const n = Mi();
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
    parentNode: d,
    nextSibling: m,
    setScopeId: g = Sn,
    insertStaticContent: p
  } = e, x = (h, _, A, P = null, S = null, I = null, M = void 0, $ = null, N = !!_.dynamicChildren) => {
    if (h === _)
      return;
    h && !ar(h, _) && (P = xe(h), H(h, S, I, !0), h = null), _.patchFlag === -2 && (N = !1, _.dynamicChildren = null), _.dynamicChildren && h && h.dynamicChildren && h.dynamicChildren.hasOnce && (_.dynamicChildren === Cn && (_.dynamicChildren = []), _.dynamicChildren.hasOnce = !0);
    const { type: T, ref: V, shapeFlag: U } = _;
    switch (T) {
      case $i:
        v(h, _, A, P);
        break;
      case yt:
        D(h, _, A, P);
        break;
      case bs:
        h == null && k(_, A, P, M);
        break;
      case se:
        fe(
          h,
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
        U & 1 ? F(
          h,
          _,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        ) : U & 6 ? Ce(
          h,
          _,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        ) : (U & 64 || U & 128) && T.process(
          h,
          _,
          A,
          P,
          S,
          I,
          M,
          $,
          N,
          hn
        );
    }
    V != null && S ? vr(V, h && h.ref, I, _ || h, !_) : V == null && h && h.ref != null && vr(h.ref, null, I, h, !0);
  }, v = (h, _, A, P) => {
    if (h == null)
      r(
        _.el = l(_.children),
        A,
        P
      );
    else {
      const S = _.el = h.el;
      _.children !== h.children && a(S, _.children);
    }
  }, D = (h, _, A, P) => {
    h == null ? r(
      _.el = c(_.children || ""),
      A,
      P
    ) : _.el = h.el;
  }, k = (h, _, A, P) => {
    [h.el, h.anchor] = p(
      h.children,
      _,
      A,
      P,
      h.el,
      h.anchor
    );
  }, w = ({ el: h, anchor: _ }, A, P) => {
    let S;
    for (; h && h !== _; )
      S = m(h), r(h, A, P), h = S;
    r(_, A, P);
  }, y = ({ el: h, anchor: _ }) => {
    let A;
    for (; h && h !== _; )
      A = m(h), i(h), h = A;
    i(_);
  }, F = (h, _, A, P, S, I, M, $, N) => {
    if (_.type === "svg" ? M = "svg" : _.type === "math" && (M = "mathml"), h == null)
      z(
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
      const T = h.el && h.el._isVueCE ? h.el : null;
      try {
        T && T._beginPatch(), Q(
          h,
          _,
          S,
          I,
          M,
          $,
          N
        );
      } finally {
        T && T._endPatch();
      }
    }
  }, z = (h, _, A, P, S, I, M, $) => {
    let N, T;
    const { props: V, shapeFlag: U, transition: X, dirs: te } = h;
    if (N = h.el = o(
      h.type,
      I,
      V && V.is,
      V
    ), U & 8 ? u(N, h.children) : U & 16 && ee(
      h.children,
      N,
      null,
      P,
      S,
      _s(h, I),
      M,
      $
    ), te && yn(h, null, P, "created"), B(N, h, h.scopeId, M, P), V) {
      for (const ge in V)
        ge !== "value" && !yr(ge) && s(N, ge, null, V[ge], I, P);
      "value" in V && s(N, "value", null, V.value, I), (T = V.onVnodeBeforeMount) && At(T, P, h);
    }
    te && yn(h, null, P, "beforeMount");
    const de = zd(S, X);
    de ? X.beforeEnter(N) : X && !X.persisted && (N[Wd] = !0), r(N, _, A), ((T = V && V.onVnodeMounted) || de || te) && He(() => {
      T && At(T, P, h), de && X.enter(N), te && yn(h, null, P, "mounted");
    }, S);
  }, B = (h, _, A, P, S) => {
    if (A && g(h, A), P)
      for (let I = 0; I < P.length; I++)
        g(h, P[I]);
    if (S) {
      let I = S.subTree;
      if (_ === I || Wa(I.type) && (I.ssContent === _ || I.ssFallback === _)) {
        const M = S.vnode;
        B(
          h,
          M,
          M.scopeId,
          M.slotScopeIds,
          S.parent
        );
      }
    }
  }, ee = (h, _, A, P, S, I, M, $, N = 0) => {
    for (let T = N; T < h.length; T++) {
      const V = h[T] = $ ? $t(h[T]) : Et(h[T]);
      x(
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
  }, Q = (h, _, A, P, S, I, M) => {
    const $ = _.el = h.el;
    let { patchFlag: N, dynamicChildren: T, dirs: V } = _;
    N |= h.patchFlag & 16;
    const U = h.props || Se, X = _.props || Se;
    let te;
    if (A && wn(A, !1), (te = X.onVnodeBeforeUpdate) && At(te, A, _, h), V && yn(_, h, A, "beforeUpdate"), A && wn(A, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    T && (!h.dynamicChildren || h.dynamicChildren.length !== T.length) && (N = 0, M = !1, T = null), (U.innerHTML && X.innerHTML == null || U.textContent && X.textContent == null) && u($, ""), T ? ae(
      h.dynamicChildren,
      T,
      $,
      A,
      P,
      _s(_, S),
      I
    ) : M || ie(
      h,
      _,
      $,
      null,
      A,
      P,
      _s(_, S),
      I,
      !1
    ), N > 0) {
      if (N & 16)
        ne($, U, X, A, S);
      else if (N & 2 && U.class !== X.class && s($, "class", null, X.class, S), N & 4 && s($, "style", U.style, X.style, S), N & 8) {
        const de = _.dynamicProps;
        for (let ge = 0; ge < de.length; ge++) {
          const me = de[ge], De = U[me], Ae = X[me];
          (Ae !== De || me === "value") && s($, me, De, Ae, S, A);
        }
      }
      N & 1 && h.children !== _.children && u($, _.children);
    } else !M && T == null && ne($, U, X, A, S);
    ((te = X.onVnodeUpdated) || V) && He(() => {
      te && At(te, A, _, h), V && yn(_, h, A, "updated");
    }, P);
  }, ae = (h, _, A, P, S, I, M) => {
    for (let $ = 0; $ < _.length; $++) {
      const N = h[$], T = _[$], V = N.el || Cr(N), U = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        V && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (N.type === se || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !ar(N, T) || // - In the case of a component, it could contain anything.
        N.shapeFlag & 198) ? d(V) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          A
        )
      );
      x(
        N,
        T,
        U,
        null,
        P,
        S,
        I,
        M,
        !0
      );
    }
  }, ne = (h, _, A, P, S) => {
    if (_ !== A) {
      if (_ !== Se)
        for (const I in _)
          !yr(I) && !(I in A) && s(
            h,
            I,
            _[I],
            null,
            S,
            P
          );
      for (const I in A) {
        if (yr(I)) continue;
        const M = A[I], $ = _[I];
        M !== $ && I !== "value" && s(h, I, $, M, S, P);
      }
      "value" in A && s(h, "value", _.value, A.value, S);
    }
  }, fe = (h, _, A, P, S, I, M, $, N) => {
    const T = _.el = h ? h.el : l(""), V = _.anchor = h ? h.anchor : l("");
    let { patchFlag: U, dynamicChildren: X, slotScopeIds: te } = _;
    te && ($ = $ ? $.concat(te) : te), h == null ? (r(T, A, P), r(V, A, P), ee(
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
    )) : U > 0 && U & 64 && X && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    h.dynamicChildren && h.dynamicChildren.length === X.length ? (ae(
      h.dynamicChildren,
      X,
      A,
      S,
      I,
      M,
      $
    ), // #2080 if the stable fragment has a key, it's a <template v-for> that may
    //  get moved around. Make sure all root level vnodes inherit el.
    // #2134 or if it's a component root, it may also get moved around
    // as the component is being moved.
    (_.key != null || S && _ === S.subTree) && So(
      h,
      _,
      !0
      /* shallow */
    )) : ie(
      h,
      _,
      A,
      V,
      S,
      I,
      M,
      $,
      N
    );
  }, Ce = (h, _, A, P, S, I, M, $, N) => {
    _.slotScopeIds = $, h == null ? _.shapeFlag & 512 ? S.ctx.activate(
      _,
      A,
      P,
      M,
      N
    ) : ye(
      _,
      A,
      P,
      S,
      I,
      M,
      N
    ) : ke(h, _, N);
  }, ye = (h, _, A, P, S, I, M) => {
    const $ = h.component = Yd(
      h,
      P,
      S
    );
    if (Fa(h) && ($.ctx.renderer = hn), Zd($, !1, M), $.asyncDep) {
      if (S && S.registerDep(
        $,
        lt,
        M,
        I
      ), !h.el) {
        const N = $.subTree = Jt(yt);
        D(null, N, _, A), h.placeholder = N.el;
      }
    } else
      lt(
        $,
        h,
        _,
        A,
        S,
        I,
        M
      );
  }, ke = (h, _, A) => {
    const P = _.component = h.component;
    if (Fd(h, _, A))
      if (P.asyncDep && !P.asyncResolved) {
        _.el = h.el, _.placeholder = h.placeholder, W(P, _, A);
        return;
      } else
        P.next = _, P.update();
    else
      _.el = h.el, _.placeholder = h.placeholder, P.vnode = _;
  }, lt = (h, _, A, P, S, I, M) => {
    const $ = () => {
      if (h.isMounted) {
        let { next: U, bu: X, u: te, parent: de, vnode: ge } = h;
        {
          const je = Ua(h);
          if (je) {
            U && (U.el = ge.el, W(h, U, M)), je.asyncDep.then(() => {
              const it = () => {
                h.job.flags & 8 || (S && S.pendingBranch ? He(it, S) : T());
              };
              it.flags = 48, He(it, S);
            });
            return;
          }
        }
        let me = U, De;
        wn(h, !1), U ? (U.el = ge.el, W(h, U, M)) : U = ge, X && fi(X), (De = U.props && U.props.onVnodeBeforeUpdate) && At(De, de, U, ge), wn(h, !0);
        const Ae = yl(h), Le = h.subTree;
        h.subTree = Ae, x(
          Le,
          Ae,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          d(
            Le.el || Cr(Le)
          ),
          // anchor may have changed if it's in a fragment
          xe(Le),
          h,
          S,
          I
        ), U.el = Ae.el, me === null && Id(h, Ae.el), te && He(te, S), (De = U.props && U.props.onVnodeUpdated) && He(
          () => At(De, de, U, ge),
          S
        );
      } else {
        let U;
        const { el: X, props: te } = _, { bm: de, m: ge, parent: me, root: De, type: Ae } = h, Le = Rr(_);
        wn(h, !1), de && fi(de), !Le && (U = te && te.onVnodeBeforeMount) && At(U, me, _), wn(h, !0);
        {
          De.ce && De.ce._hasShadowRoot() && De.ce._injectChildStyle(
            Ae,
            h.parent ? h.parent.type : void 0
          );
          const je = h.subTree = yl(h);
          x(
            null,
            je,
            A,
            P,
            h,
            S,
            I
          ), _.el = je.el;
        }
        if (ge && He(ge, S), !Le && (U = te && te.onVnodeMounted)) {
          const je = _;
          He(
            () => At(U, me, je),
            S
          );
        }
        (_.shapeFlag & 256 || me && Rr(me.vnode) && me.vnode.shapeFlag & 256) && h.a && He(h.a, S), h.isMounted = !0, _ = A = P = null;
      }
    };
    h.scope.on();
    const N = h.effect = new la($);
    h.scope.off();
    const T = h.update = N.run.bind(N), V = h.job = N.runIfDirty.bind(N);
    V.i = h, V.id = h.uid, N.scheduler = () => Eo(V), wn(h, !0), T();
  }, W = (h, _, A) => {
    _.component = h;
    const P = h.vnode.props;
    h.vnode = _, h.next = null, Nd(h, _.props, P, A), jd(h, _.children, A), cn(), Ra(h), an();
  }, ie = (h, _, A, P, S, I, M, $, N = !1) => {
    const T = h && h.children, V = h ? h.shapeFlag : 0, U = _.children, { patchFlag: X, shapeFlag: te } = _;
    if (X > 0) {
      if (X & 128) {
        C(
          T,
          U,
          A,
          P,
          S,
          I,
          M,
          $,
          N
        );
        return;
      } else if (X & 256) {
        j(
          T,
          U,
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
    te & 8 ? (V & 16 && dn(T, S, I), U !== T && u(A, U)) : V & 16 ? te & 16 ? C(
      T,
      U,
      A,
      P,
      S,
      I,
      M,
      $,
      N
    ) : dn(T, S, I, !0) : (V & 8 && u(A, ""), te & 16 && ee(
      U,
      A,
      P,
      S,
      I,
      M,
      $,
      N
    ));
  }, j = (h, _, A, P, S, I, M, $, N) => {
    h = h || Cn, _ = _ || Cn;
    const T = h.length, V = _.length, U = Math.min(T, V);
    let X;
    for (X = 0; X < U; X++) {
      const te = _[X] = N ? $t(_[X]) : Et(_[X]);
      x(
        h[X],
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
    T > V ? dn(
      h,
      S,
      I,
      !0,
      !1,
      U
    ) : ee(
      _,
      A,
      P,
      S,
      I,
      M,
      $,
      N,
      U
    );
  }, C = (h, _, A, P, S, I, M, $, N) => {
    let T = 0;
    const V = _.length;
    let U = h.length - 1, X = V - 1;
    for (; T <= U && T <= X; ) {
      const te = h[T], de = _[T] = N ? $t(_[T]) : Et(_[T]);
      if (ar(te, de))
        x(
          te,
          de,
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
      T++;
    }
    for (; T <= U && T <= X; ) {
      const te = h[U], de = _[X] = N ? $t(_[X]) : Et(_[X]);
      if (ar(te, de))
        x(
          te,
          de,
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
      U--, X--;
    }
    if (T > U) {
      if (T <= X) {
        const te = X + 1, de = te < V ? _[te].el : P;
        for (; T <= X; )
          x(
            null,
            _[T] = N ? $t(_[T]) : Et(_[T]),
            A,
            de,
            S,
            I,
            M,
            $,
            N
          ), T++;
      }
    } else if (T > X)
      for (; T <= U; )
        H(h[T], S, I, !0), T++;
    else {
      const te = T, de = T, ge = /* @__PURE__ */ new Map();
      for (T = de; T <= X; T++) {
        const Be = _[T] = N ? $t(_[T]) : Et(_[T]);
        Be.key != null && ge.set(Be.key, T);
      }
      let me, De = 0;
      const Ae = X - de + 1;
      let Le = !1, je = 0;
      const it = new Array(Ae);
      for (T = 0; T < Ae; T++) it[T] = 0;
      for (T = te; T <= U; T++) {
        const Be = h[T];
        if (De >= Ae) {
          H(Be, S, I, !0);
          continue;
        }
        let et;
        if (Be.key != null)
          et = ge.get(Be.key);
        else
          for (me = de; me <= X; me++)
            if (it[me - de] === 0 && ar(Be, _[me])) {
              et = me;
              break;
            }
        et === void 0 ? H(Be, S, I, !0) : (it[et - de] = T + 1, et >= je ? je = et : Le = !0, x(
          Be,
          _[et],
          A,
          null,
          S,
          I,
          M,
          $,
          N
        ), De++);
      }
      const pn = Le ? Ud(it) : Cn;
      for (me = pn.length - 1, T = Ae - 1; T >= 0; T--) {
        const Be = de + T, et = _[Be], Nt = _[Be + 1], gn = Be + 1 < V ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Nt.el || Cr(Nt)
        ) : P;
        it[T] === 0 ? x(
          null,
          et,
          A,
          gn,
          S,
          I,
          M,
          $,
          N
        ) : Le && (me < 0 || T !== pn[me] ? R(et, A, gn, 2) : me--);
      }
    }
  }, R = (h, _, A, P, S = null) => {
    const { el: I, type: M, transition: $, children: N, shapeFlag: T } = h;
    if (T & 6) {
      R(h.component.subTree, _, A, P);
      return;
    }
    if (T & 128) {
      h.suspense.move(_, A, P);
      return;
    }
    if (T & 64) {
      M.move(h, _, A, hn);
      return;
    }
    if (M === se) {
      r(I, _, A);
      for (let U = 0; U < N.length; U++)
        R(N[U], _, A, P);
      r(h.anchor, _, A);
      return;
    }
    if (M === bs) {
      w(h, _, A);
      return;
    }
    if (P !== 2 && T & 1 && $)
      if (P === 0)
        $.persisted && !I[gs] ? r(I, _, A) : ($.beforeEnter(I), r(I, _, A), He(() => $.enter(I), S));
      else {
        const { leave: U, delayLeave: X, afterLeave: te } = $, de = () => {
          h.ctx.isUnmounted ? i(I) : r(I, _, A);
        }, ge = () => {
          const me = I._isLeaving || !!I[gs];
          I._isLeaving && I[gs](
            !0
            /* cancelled */
          ), $.persisted && !me ? de() : U(I, () => {
            de(), te && te();
          });
        };
        X ? X(I, de, ge) : ge();
      }
    else
      r(I, _, A);
  }, H = (h, _, A, P = !1, S = !1) => {
    const {
      type: I,
      props: M,
      ref: $,
      children: N,
      dynamicChildren: T,
      shapeFlag: V,
      patchFlag: U,
      dirs: X,
      cacheIndex: te,
      memo: de
    } = h;
    if ((U === -2 || T && T.hasOnce) && (S = !1), $ != null && (cn(), vr($, null, A, h, !0), an()), te != null && (!h.ctx || h.ctx === _) && (_.renderCache[te] = void 0), V & 256 && _.ctx.deactivate(h))
      return;
    const ge = V & 1 && X, me = !Rr(h);
    let De;
    if (me && (De = M && M.onVnodeBeforeUnmount) && At(De, _, h), V & 6)
      sr(h.component, A, P);
    else {
      if (V & 128) {
        h.suspense.unmount(A, P);
        return;
      }
      ge && yn(h, null, _, "beforeUnmount"), V & 64 ? h.type.remove(
        h,
        _,
        A,
        hn,
        P
      ) : T && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !T.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (I !== se || U > 0 && U & 64) ? dn(
        T,
        _,
        A,
        !1,
        !0
      ) : (I === se && U & 384 || !S && V & 16) && dn(N, _, A), P && Ke(h);
    }
    const Ae = de != null && te == null;
    (me && (De = M && M.onVnodeUnmounted) || ge || Ae) && He(() => {
      De && At(De, _, h), ge && yn(h, null, _, "unmounted"), Ae && (h.el = null);
    }, A);
  }, Ke = (h) => {
    const { type: _, el: A, anchor: P, transition: S } = h, I = _ === se;
    if (I && !S) {
      wt(A, P);
      return;
    }
    if (_ === bs) {
      y(h), S && !S.persisted && S.afterLeave && S.afterLeave();
      return;
    }
    const M = I ? to(h) : h, $ = () => {
      I ? d(A) && wt(A, P) : i(A), S && !S.persisted && S.afterLeave && S.afterLeave();
    };
    if (M && M.shapeFlag & 1 && S && !S.persisted) {
      const { leave: N, delayLeave: T } = S, V = M.el, U = () => N(V, $);
      T ? T(V, $, U) : U();
    } else
      $();
  }, wt = (h, _) => {
    let A;
    for (; h !== _; )
      A = m(h), i(h), h = A;
    i(_);
  }, sr = (h, _, A) => {
    const { bum: P, scope: S, job: I, subTree: M, um: $, m: N, a: T } = h;
    xl(N), xl(T), P && fi(P), S.stop(), I ? (I.flags |= 8, H(M, h, _, A)) : M && (M.transition = h.vnode.transition, H(M, h, _, A)), $ && He($, _);
    const V = () => {
      h.isUnmounted = !0;
    };
    V.flags = 16, He(V, _);
  }, dn = (h, _, A, P = !1, S = !1, I = 0) => {
    for (let M = I; M < h.length; M++)
      H(h[M], _, A, P, S);
  }, xe = (h) => {
    if (h.shapeFlag & 6)
      return xe(h.component.subTree);
    if (h.shapeFlag & 128)
      return h.suspense.next();
    const _ = m(h.anchor || h.el), A = _ && _[Sa];
    return A ? m(A) : _;
  }, qr = (h, _, A) => {
    const P = h && _._vnode ? void 0 : h && h.component ? h.component.uid : Kd();
    ud(() => {
      h == null ? _._vnode && H(_._vnode, null, null, !0) : x(
        _._vnode || null,
        h,
        _,
        null,
        null,
        null,
        A
      ), _._vnode = h;
    }, P);
  }, hn = {
    p: x,
    um: H,
    m: R,
    r: Ke,
    mt: ye,
    mc: ee,
    pc: ie,
    pbc: ae,
    n: xe,
    o: e
  };
  return {
    render: qr,
    hydrate: void 0,
    createApp: Rd(qr)
  };
}
function _s({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function wn({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function zd(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function So(e, t, n = !1) {
  const r = e.children, i = t.children;
  if (ce(r) && ce(i))
    for (let s = 0; s < r.length; s++) {
      const o = r[s];
      let l = i[s];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = i[s] = $t(i[s]), l.el = o.el), !n && l.patchFlag !== -2 && So(o, l)), l.type === $i && (l.patchFlag === -1 && (l = i[s] = $t(l)), l.el = o.el), l.type === yt && !l.el && (l.el = o.el);
    }
}
function Ud(e) {
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
function Ua(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : Ua(t);
}
function xl(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function Cr(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return Cr(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? Cr(n.activeBranch) : null;
}
const Wa = (e) => e.__isSuspense, Wd = /* @__PURE__ */ Symbol("_deferredEnter");
function Jd(e, t) {
  t && t.pendingBranch ? ce(e) ? t.effects.push(...e) : t.effects.push(e) : ad(e);
}
const se = /* @__PURE__ */ Symbol.for("v-fgt"), $i = /* @__PURE__ */ Symbol.for("v-txt"), yt = /* @__PURE__ */ Symbol.for("v-cmt"), bs = /* @__PURE__ */ Symbol.for("v-stc"), Fn = [];
let ot = null;
function J(e = !1) {
  Fn.push(ot = e ? null : []);
}
function Ja() {
  Fn.pop(), ot = Fn[Fn.length - 1] || null;
}
let Ir = 1;
function Al(e, t = !1) {
  Ir += e, e < 0 && ot && t && (ot.hasOnce = !0);
}
function qa(e) {
  return e.dynamicChildren = Ir > 0 ? ot || Cn : null, Ja(), Ir > 0 && ot && ot.push(e), e;
}
function q(e, t, n, r, i, s) {
  return qa(
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
function di(e, t, n, r, i) {
  return qa(
    Jt(
      e,
      t,
      n,
      r,
      i,
      !0
    )
  );
}
function To(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function ar(e, t) {
  return e.type === t.type && e.key === t.key;
}
const Ha = ({ key: e }) => e ?? null, hi = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? Ne(e) || /* @__PURE__ */ Qe(e) || ve(e) ? { i: at, r: e, k: t, f: !!n } : e : null);
function Y(e, t = null, n = null, r = 0, i = null, s = e === se ? 0 : 1, o = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && Ha(t),
    ref: t && hi(t),
    scopeId: Da,
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
    ctx: at
  };
  return l ? (ki(c, n), s & 128 && e.normalize(c)) : n && (c.shapeFlag |= Ne(n) ? 8 : 16), Ir > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  ot && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || s & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && ot.push(c), c;
}
const Jt = qd;
function qd(e, t = null, n = null, r = 0, i = null, s = !1) {
  if ((!e || e === xd) && (e = yt), To(e)) {
    const l = Zn(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && ki(l, n), Ir > 0 && !s && ot && (l.shapeFlag & 6 ? ot[ot.indexOf(e)] = l : ot.push(l)), l.patchFlag = -2, l;
  }
  if (nh(e) && (e = e.__vccOpts), t) {
    t = Hd(t);
    let { class: l, style: c } = t;
    l && !Ne(l) && (t.class = nt(l)), Te(c) && (/* @__PURE__ */ Ro(c) && !ce(c) && (c = ft({}, c)), t.style = Dr(c));
  }
  const o = Ne(e) ? 1 : Wa(e) ? 128 : ji(e) ? 64 : Te(e) ? 4 : ve(e) ? 2 : 0;
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
function Hd(e) {
  return e ? /* @__PURE__ */ Ro(e) ? ft({}, e) : Pa(e) ? ft({}, e[Xa] || e) : e : null;
}
function Zn(e, t, n = !1, r = !1) {
  const { props: i, ref: s, patchFlag: o, children: l, transition: c } = e, a = t ? Vd(i || {}, t) : i, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: a,
    key: a && Ha(a),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && s ? ce(s) ? s.concat(hi(t)) : [s, hi(t)] : hi(t)
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
    patchFlag: t && e.type !== se ? o === -1 ? 16 : o | 16 : o,
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
    ssContent: e.ssContent && Zn(e.ssContent),
    ssFallback: e.ssFallback && Zn(e.ssFallback),
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
function he(e = " ", t = 0) {
  return Jt($i, null, e, t);
}
function pe(e = "", t = !1) {
  return t ? (J(), di(yt, null, e)) : Jt(yt, null, e);
}
function Et(e) {
  return e == null || typeof e == "boolean" ? Jt(yt) : ce(e) ? Jt(
    se,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : To(e) ? $t(e) : Jt($i, null, String(e));
}
function $t(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : Zn(e);
}
function ki(e, t) {
  let n = 0;
  const { shapeFlag: r } = e;
  if (t == null)
    t = null;
  else if (ce(t))
    n = 16;
  else if (typeof t == "object")
    if (r & 65) {
      const i = t.default;
      i && (i._c && (i._d = !1), ki(e, i()), i._c && (i._d = !0));
      return;
    } else {
      n = 32;
      const i = t._;
      !i && !Pa(t) ? t._ctx = at : i === 3 && at && (at.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (ve(t)) {
    if (r & 65) {
      ki(e, { default: t });
      return;
    }
    t = { default: t, _ctx: at }, n = 32;
  } else
    t = String(t), r & 64 ? (n = 16, t = [he(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function Vd(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const r = e[n];
    for (const i in r)
      if (i === "class")
        t.class !== r.class && (t.class = nt([t.class, r.class]));
      else if (i === "style")
        t.style = Dr([t.style, r.style]);
      else if (Ii(i)) {
        const s = t[i], o = r[i];
        o && s !== o && !(ce(s) && s.includes(o)) ? t[i] = s ? [].concat(s, o) : o : o == null && s == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !Oi(i) && (t[i] = o);
      } else i !== "" && (t[i] = r[i]);
  }
  return t;
}
function At(e, t, n, r = null) {
  Ht(e, t, 7, [
    n,
    r
  ]);
}
const Gd = /* @__PURE__ */ Ia();
let Va = 0;
function Kd() {
  return Va;
}
function Yd(e, t, n) {
  const r = e.type, i = (t ? t.appContext : e.appContext) || Gd, s = {
    uid: Va++,
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
    scope: new Nf(
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
    propsOptions: Md(r, i),
    emitsOptions: Dd(r, i),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: Se,
    // inheritAttrs
    inheritAttrs: r.inheritAttrs,
    // state
    ctx: Se,
    data: Se,
    props: Se,
    attrs: Se,
    slots: Se,
    refs: Se,
    setupState: Se,
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
  return s.ctx = { _: s }, s.root = t ? t.root : s, s.emit = Cd.bind(null, s), e.ce && e.ce(s), s;
}
let Qn = null;
const Xd = () => Qn || at;
let xi, Or;
{
  const e = Mi(), t = (n, r) => {
    let i;
    return (i = e[n]) || (i = e[n] = []), i.push(r), (s) => {
      i.length > 1 ? i.forEach((o) => o(s)) : i[0](s);
    };
  };
  xi = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => Qn = n
  ), Or = t(
    "__VUE_SSR_SETTERS__",
    (n) => Ai = n
  );
}
const Ga = (e) => {
  const t = Qn;
  return xi(e), e.scope.on(), () => {
    e.scope.off(), xi(t);
  };
}, vl = () => {
  Qn && Qn.scope.off(), xi(null);
};
function Ka(e) {
  return e.vnode.shapeFlag & 4;
}
let Ai = !1;
function Zd(e, t = !1, n = !1) {
  t && Or(t);
  const { props: r, children: i } = e.vnode, s = Ka(e);
  Od(e, r, s, t), Pd(e, i, n || t);
  const o = s ? Qd(e, t) : void 0;
  return t && Or(!1), o;
}
function Qd(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Ad);
  const { setup: r } = n;
  if (r) {
    cn();
    const i = e.setupContext = r.length > 1 ? th(e) : null, s = Ga(e), o = Wr(
      r,
      e,
      0,
      [
        e.props,
        i
      ]
    ), l = Qc(o);
    if (an(), s(), (l || e.sp) && !Rr(e) && kd(e), l) {
      if (o.then(vl, vl), t)
        return o.then((c) => {
          Or(!0);
          try {
            Rl(e, c, t);
          } finally {
            Or(!1);
          }
        }).catch((c) => {
          Pi(c, e, 0, void 0, !0), e.ssrRender = (a, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      Rl(e, o);
  } else
    Ya(e);
}
function Rl(e, t, n) {
  ve(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : Te(t) && (e.setupState = xa(t)), Ya(e);
}
function Ya(e, t, n) {
  const r = e.type;
  e.render || (e.render = r.render || Sn);
}
const Xa = /* @__PURE__ */ Symbol(), eh = {
  get(e, t) {
    return Ge(e, "get", ""), t === Xa ? e : e[t];
  }
};
function th(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, eh),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function zi(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(xa(Qf(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in Er)
        return Er[n](e);
    },
    has(t, n) {
      return n in t || n in Er;
    }
  })) : e.proxy;
}
function nh(e) {
  return ve(e) && "__vccOpts" in e;
}
const tt = (e, t) => /* @__PURE__ */ id(e, t, Ai), rh = "3.5.45";
let io;
const El = typeof window < "u" && window.trustedTypes;
if (El)
  try {
    io = /* @__PURE__ */ El.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const Za = io ? (e) => io.createHTML(e) : (e) => e, ih = "http://www.w3.org/2000/svg", sh = "http://www.w3.org/1998/Math/MathML", Bt = typeof document < "u" ? document : null, Cl = Bt && /* @__PURE__ */ Bt.createElement("template"), oh = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, r) => {
    const i = t === "svg" ? Bt.createElementNS(ih, e) : t === "mathml" ? Bt.createElementNS(sh, e) : n ? Bt.createElement(e, { is: n }) : Bt.createElement(e);
    return e === "select" && r && r.multiple != null && i.setAttribute("multiple", r.multiple), i;
  },
  createText: (e) => Bt.createTextNode(e),
  createComment: (e) => Bt.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => Bt.querySelector(e),
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
      Cl.innerHTML = Za(
        r === "svg" ? `<svg>${e}</svg>` : r === "mathml" ? `<math>${e}</math>` : e
      );
      const l = Cl.content;
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
}, lh = /* @__PURE__ */ Symbol("_vtc");
function ch(e, t, n) {
  const r = e[lh];
  r && (t = (t ? [t, ...r] : [...r]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const Dl = /* @__PURE__ */ Symbol("_vod"), ah = /* @__PURE__ */ Symbol("_vsh"), uh = /* @__PURE__ */ Symbol(""), fh = /(?:^|;)\s*display\s*:/;
function dh(e, t, n) {
  const r = e.style, i = Ne(n);
  let s = !1;
  if (n && !i) {
    if (t)
      if (Ne(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && _r(r, l, "");
        }
      else
        for (const o in t)
          n[o] == null && _r(r, o, "");
    for (const o in n) {
      o === "display" && (s = !0);
      const l = n[o];
      l != null ? ph(
        e,
        o,
        !Ne(t) && t ? t[o] : void 0,
        l
      ) || _r(r, o, l) : _r(r, o, "");
    }
  } else if (i) {
    if (t !== n) {
      const o = r[uh];
      o && (n += ";" + o), r.cssText = n, s = fh.test(n);
    }
  } else t && e.removeAttribute("style");
  Dl in e && ((!i || t !== n) && (e[Dl] = s ? r.display : ""), e[ah] && (r.display = "none"));
}
const ri = /\s*!important$/;
function _r(e, t, n) {
  if (ce(n))
    n.forEach((r) => _r(e, t, r));
  else if (n == null && (n = ""), t.startsWith("--"))
    ri.test(n) ? e.setProperty(t, n.replace(ri, ""), "important") : e.setProperty(t, n);
  else {
    const r = hh(e, t);
    ri.test(n) ? e.setProperty(
      Mn(r),
      n.replace(ri, ""),
      "important"
    ) : e[r] = n;
  }
}
const Sl = ["Webkit", "Moz", "ms"], ys = {};
function hh(e, t) {
  const n = ys[t];
  if (n)
    return n;
  let r = _t(t);
  if (r !== "filter" && r in e)
    return ys[t] = r;
  r = na(r);
  for (let i = 0; i < Sl.length; i++) {
    const s = Sl[i] + r;
    if (s in e)
      return ys[t] = s;
  }
  return t;
}
function ph(e, t, n, r) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && Ne(r) && n === r;
}
const Tl = "http://www.w3.org/1999/xlink";
function Fl(e, t, n, r, i, s = Tf(t)) {
  r && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(Tl, t.slice(6, t.length)) : e.setAttributeNS(Tl, t, n) : n == null || s && !ia(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    s ? "" : Tt(n) ? String(n) : n
  );
}
function Il(e, t, n, r, i) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? Za(n) : n);
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
    l === "boolean" ? n = ia(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  o && e.removeAttribute(i || t);
}
function En(e, t, n, r) {
  e.addEventListener(t, n, r);
}
function gh(e, t, n, r) {
  e.removeEventListener(t, n, r);
}
const Ol = /* @__PURE__ */ Symbol("_vei");
function mh(e, t, n, r, i = null) {
  const s = e[Ol] || (e[Ol] = {}), o = s[t];
  if (r && o)
    o.value = r;
  else {
    const [l, c] = yh(t);
    if (r) {
      const a = s[t] = xh(
        r,
        i
      );
      En(e, l, a, c);
    } else o && (gh(e, l, o, c), s[t] = void 0);
  }
}
const _h = /(Once|Passive|Capture)$/, bh = /^on:?(?:Once|Passive|Capture)$/;
function yh(e) {
  let t, n;
  for (; (n = e.match(_h)) && !bh.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : Mn(e.slice(2)), t];
}
let ws = 0;
const wh = /* @__PURE__ */ Promise.resolve(), kh = () => ws || (wh.then(() => ws = 0), ws = Date.now());
function xh(e, t) {
  const n = (r) => {
    if (!r._vts)
      r._vts = Date.now();
    else if (r._vts <= n.attached)
      return;
    const i = n.value;
    if (ce(i)) {
      const s = r.stopImmediatePropagation;
      r.stopImmediatePropagation = () => {
        s.call(r), r._stopped = !0;
      };
      const o = i.slice(), l = [r];
      for (let c = 0; c < o.length && !r._stopped; c++) {
        const a = o[c];
        a && Ht(
          a,
          t,
          5,
          l
        );
      }
    } else
      Ht(
        i,
        t,
        5,
        [r]
      );
  };
  return n.value = e, n.attached = kh(), n;
}
const Nl = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Ah = (e, t, n, r, i, s) => {
  const o = i === "svg";
  t === "class" ? ch(e, r, o) : t === "style" ? dh(e, n, r) : Ii(t) ? Oi(t) || mh(e, t, n, r, s) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : vh(e, t, r, o)) ? (Il(e, t, r), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && Fl(e, t, r, o, s, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Rh(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !Ne(r))) ? Il(e, _t(t), r, s, t) : (t === "true-value" ? e._trueValue = r : t === "false-value" && (e._falseValue = r), Fl(e, t, r, o));
};
function vh(e, t, n, r) {
  if (r)
    return !!(t === "innerHTML" || t === "textContent" || t in e && Nl(t) && ve(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const i = e.tagName;
    if (i === "IMG" || i === "VIDEO" || i === "CANVAS" || i === "SOURCE")
      return !1;
  }
  return Nl(t) && Ne(n) ? !1 : t in e;
}
function Rh(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const r = _t(t);
  return Array.isArray(n) ? n.some((i) => _t(i) === r) : Object.keys(n).some((i) => _t(i) === r);
}
const vi = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return ce(t) ? (n) => fi(t, n) : t;
};
function Eh(e) {
  e.target.composing = !0;
}
function Ml(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const Dn = /* @__PURE__ */ Symbol("_assign"), ii = /* @__PURE__ */ Symbol("_initialValue");
function ks(e, t, n) {
  return t && (e = e.trim()), n && (e = Ur(e)), e;
}
const Un = {
  created(e, { modifiers: { lazy: t, trim: n, number: r } }, i) {
    e.parentNode && (e.type === "text" ? e[ii] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[ii] = e.defaultValue.replace(/\r\n?/g, `
`))), e[Dn] = vi(i);
    const s = r || i.props && i.props.type === "number";
    En(e, t ? "change" : "input", (o) => {
      o.target.composing || e[Dn](ks(e.value, n, s));
    }), (n || s) && En(e, "change", () => {
      e.value = ks(e.value, n, s);
    }), t || (En(e, "compositionstart", Eh), En(e, "compositionend", Ml), En(e, "change", Ml));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: r } }) {
    const i = t ?? "", s = e[ii];
    delete e[ii], s !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== s ? e[Dn](ks(e.value, n, r)) : e.value = i;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: r, trim: i, number: s } }, o) {
    if (e[Dn] = vi(o), e.composing) return;
    const l = (s || e.type === "number") && !/^0\d/.test(e.value) ? Ur(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const a = e.getRootNode();
    (a instanceof Document || a instanceof ShadowRoot) && a.activeElement === e && e.type !== "range" && (r && t === n || i && e.value.trim() === c) || (e.value = c);
  }
}, Ch = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, r) {
    e._modelValue = t, En(e, "change", () => {
      const i = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? Ur(Ri(c)) : Ri(c)
      ), s = e.multiple, o = s ? Nn(e._modelValue) ? new Set(i) : i : i[0], l = e._pendingValue = [
        s,
        s ? ce(o) ? i.slice() : i : o
      ];
      try {
        e[Dn](o);
      } finally {
        xr(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[Dn] = vi(r);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    Ll(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[Dn] = vi(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const r = e._pendingValue;
    e._pendingValue = void 0, (!r || r[0] !== e.multiple || !Dh(t, r[1], r[0])) && Ll(e, t, n);
  }
};
function Dh(e, t, n) {
  if (!n || ce(e)) return ln(e, t);
  if (Nn(e)) {
    if (e.size !== t.length) return !1;
    for (const r of t)
      if (!e.has(r)) return !1;
    return !0;
  }
  return !1;
}
function Ll(e, t, n = !1) {
  const r = e.multiple, i = ce(t);
  if (!(r && !i && !Nn(t))) {
    for (let s = 0, o = e.options.length; s < o; s++) {
      const l = e.options[s], c = Ri(l);
      if (r)
        if (i) {
          const a = typeof c;
          a === "string" || a === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = Of(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(Ur(c));
      else if (ln(Ri(l), t)) {
        e.selectedIndex !== s && (e.selectedIndex = s);
        return;
      }
    }
    !r && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function Ri(e) {
  return "_value" in e ? e._value : e.value;
}
const Sh = ["ctrl", "shift", "alt", "meta"], Th = {
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
  exact: (e, t) => Sh.some((n) => e[`${n}Key`] && !t.includes(n))
}, Hn = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), r = t.join(".");
  return n[r] || (n[r] = ((i, ...s) => {
    for (let o = 0; o < t.length; o++) {
      const l = Th[t[o]];
      if (l && l(i, t)) return;
    }
    return e(i, ...s);
  }));
}, Fh = /* @__PURE__ */ ft({ patchProp: Ah }, oh);
let Pl;
function Ih() {
  return Pl || (Pl = Bd(Fh));
}
const Oh = ((...e) => {
  const t = Ih().createApp(...e), { mount: n } = t;
  return t.mount = (r) => {
    const i = Mh(r);
    if (!i) return;
    const s = t._component;
    !ve(s) && !s.render && !s.template && (s.template = i.innerHTML), i.nodeType === 1 && (i.textContent = "");
    const o = n(i, !1, Nh(i));
    return i instanceof Element && (i.removeAttribute("v-cloak"), i.setAttribute("data-v-app", "")), o;
  }, t;
});
function Nh(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function Mh(e) {
  return Ne(e) ? document.querySelector(e) : e;
}
const Lh = "/comfyd/connection";
function Ph(e, t) {
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
const jh = "comfyd", Bh = "comfyd.token.", $h = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function Qa(e) {
  return $h.test(e.token);
}
function eu(e, t) {
  return Qa(e) ? `${e.wsBase}${t}` : `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
function tu(e) {
  return Qa(e) ? [jh, Bh + e.token] : [];
}
class zh {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(Lh).then(
      (t) => Ph(t, this.location),
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
function so(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const In = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function qt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (In(e).find((r) => String(r.id) === String(t)) ?? null);
}
function Uh(e, t) {
  if (t == null) return null;
  const n = e.links ?? e._links;
  return n ? typeof n.get == "function" ? n.get(t) ?? null : n[t] ?? null : null;
}
function jl(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function Wh(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((r) => r?.name === t);
}
function Jh(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function qh(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function Hh(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function nn(e) {
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
function Vn(e, t, n = 3) {
  const r = String(e).toLowerCase(), i = [];
  for (const s of t) {
    const o = String(s).toLowerCase();
    let l = Vh(r, o);
    (o.includes(r) || r.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(r.length / 3)) && i.push([l, s]);
  }
  return i.sort((s, o) => s[0] - o[0] || String(s[1]).localeCompare(String(o[1]))), i.slice(0, n).map((s) => s[1]);
}
const Bl = 128;
function Vh(e, t) {
  if (e.length > Bl || t.length > Bl) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (r, i) => i);
  for (let r = 1; r <= e.length; r++) {
    const i = [r];
    for (let s = 1; s <= t.length; s++)
      i[s] = Math.min(n[s] + 1, i[s - 1] + 1, n[s - 1] + (e[r - 1] === t[s - 1] ? 0 : 1));
    n = i;
  }
  return n[t.length];
}
const Vt = Object.freeze({
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
}), Ei = (e, t) => e < t ? -1 : e > t ? 1 : 0;
function nu(e, t, n = {}) {
  const r = n.x ?? 0, i = n.y ?? 0, s = n.spacing ?? Vt.spacing, o = e.length, l = /* @__PURE__ */ new Map();
  e.forEach((W, ie) => l.set(W.id, ie));
  const c = Array.from({ length: o }, () => []), a = Array.from({ length: o }, () => []), u = /* @__PURE__ */ new Set();
  for (const [W, ie] of t) {
    const j = l.get(W), C = l.get(ie);
    if (j === void 0 || C === void 0 || j === C) continue;
    const R = j * o + C;
    u.has(R) || (u.add(R), c[j].push(C), a[C].push(j));
  }
  const d = new Uint8Array(o), m = /* @__PURE__ */ new Set();
  for (let W = 0; W < o; W++) {
    if (d[W]) continue;
    const ie = [[W, 0]];
    for (d[W] = 1; ie.length; ) {
      const j = ie[ie.length - 1], [C, R] = j;
      if (R < c[C].length) {
        j[1]++;
        const H = c[C][R];
        d[H] === 1 ? m.add(C * o + H) : d[H] === 0 && (d[H] = 1, ie.push([H, 0]));
      } else
        d[C] = 2, ie.pop();
    }
  }
  const g = (W, ie) => !m.has(W * o + ie), p = a.map((W, ie) => W.filter((j) => g(j, ie))), x = c.map((W, ie) => W.filter((j) => g(ie, j))), v = p.map((W) => W.length), D = [], k = [];
  for (let W = 0; W < o; W++) v[W] || k.push(W);
  for (let W = 0; W < k.length; W++) {
    const ie = k[W];
    D.push(ie);
    for (const j of x[ie]) --v[j] === 0 && k.push(j);
  }
  const w = new Int32Array(o);
  for (const W of D) for (const ie of x[W]) w[ie] = Math.max(w[ie], w[W] + 1);
  for (const W of D) {
    if (p[W].length || !x[W].length) continue;
    let ie = 1 / 0;
    for (const j of x[W]) ie = Math.min(ie, w[j]);
    w[W] = Math.max(0, ie - 1);
  }
  let y = 0;
  for (let W = 0; W < o; W++) y = Math.max(y, w[W] + 1);
  const F = Array.from({ length: y }, () => []);
  for (let W = 0; W < o; W++) F[w[W]].push(W);
  const z = new Float64Array(o), B = () => {
    for (const W of F) W.forEach((ie, j) => z[ie] = W.length > 1 ? j / (W.length - 1) : 0.5);
  };
  B();
  const ee = (W, ie) => {
    const j = W.map((C, R) => {
      const H = ie[C];
      let Ke = z[C];
      if (H.length) {
        let wt = 0;
        for (const sr of H) wt += z[sr];
        Ke = wt / H.length;
      }
      return [Ke, R, C];
    });
    return j.sort((C, R) => Ei(C[0], R[0]) || C[1] - R[1]), j.map((C) => C[2]);
  };
  let Q = F.map((W) => W.slice()), ae = $l(F, x, w, o);
  for (let W = 0; W < Vt.sweeps && ae > 0; W++) {
    for (let j = 1; j < y; j++)
      F[j] = ee(F[j], p), B();
    for (let j = y - 2; j >= 0; j--)
      F[j] = ee(F[j], x), B();
    const ie = $l(F, x, w, o);
    ie < ae && (ae = ie, Q = F.map((j) => j.slice()));
  }
  const ne = new Float64Array(o), fe = new Float64Array(o);
  let Ce = r, ye = i;
  for (let W = 0; W < y; W++) {
    let ie = 0, j = i;
    for (const C of Q[W]) {
      const R = e[C];
      let H = j;
      if (p[C].length) {
        let Ke = 0;
        for (const wt of p[C]) Ke += fe[wt] + e[wt].h / 2;
        H = Math.max(j, Ke / p[C].length - R.h / 2);
      }
      ne[C] = Ce, fe[C] = H, j = H + R.h + s, ie = Math.max(ie, R.w), ye = Math.max(ye, H + R.h);
    }
    Ce += ie + s;
  }
  const ke = /* @__PURE__ */ new Map(), lt = /* @__PURE__ */ new Map();
  for (let W = 0; W < o; W++)
    ke.set(e[W].id, [ne[W], fe[W]]), lt.set(e[W].id, w[W]);
  return { pos: ke, layer: lt, width: y ? Ce - s - r : 0, height: ye - i };
}
function $l(e, t, n, r) {
  const i = new Float64Array(r);
  for (const l of e) l.forEach((c, a) => i[c] = a);
  const s = /* @__PURE__ */ new Map();
  for (let l = 0; l < r; l++)
    for (const c of t[l]) {
      const a = n[l] * 65536 + n[c];
      let u = s.get(a);
      u || s.set(a, u = []), u.push([i[l], i[c]]);
    }
  let o = 0;
  for (const l of s.values())
    l.sort((c, a) => c[0] - a[0] || c[1] - a[1]), o += oo(l.map((c) => c[1]));
  return o;
}
function oo(e) {
  if (e.length < 2) return 0;
  const t = e.length >> 1, n = e.slice(0, t), r = e.slice(t);
  let i = oo(n) + oo(r), s = 0, o = 0, l = 0;
  for (; s < n.length && o < r.length; )
    n[s] <= r[o] ? e[l++] = n[s++] : (e[l++] = r[o++], i += n.length - s);
  for (; s < n.length; ) e[l++] = n[s++];
  for (; o < r.length; ) e[l++] = r[o++];
  return i;
}
function Gh(e, t, n = 0) {
  return e.x < t.x + t.w + n && t.x < e.x + e.w + n && e.y < t.y + t.h + n && t.y < e.y + e.h + n;
}
function ru(e, t, n = Vt.spacing) {
  const r = n / 2, i = t.filter((o) => e.x < o.x + o.w + r && o.x < e.x + e.w + r);
  i.sort((o, l) => o.y - l.y || o.x - l.x);
  let s = e.y;
  for (const o of i) s < o.y + o.h + r && o.y < s + e.h + r && (s = o.y + o.h + n);
  return s;
}
function Fo(e) {
  const t = e?.NODE_TITLE_HEIGHT;
  return typeof t == "number" && Number.isFinite(t) && t >= 0 ? t : Vt.titleHeight;
}
function Ci(e, t) {
  const n = Fo(t), r = Number(e.size?.[0]), i = Number(e.size?.[1]), s = !!e.flags?.collapsed;
  return {
    id: e.id,
    x: Number(e.pos?.[0]) || 0,
    y: (Number(e.pos?.[1]) || 0) - n,
    w: Number.isFinite(r) && r > 0 ? r : 200,
    h: s ? n : (Number.isFinite(i) && i > 0 ? i : 100) + n
  };
}
function iu(e) {
  const t = [];
  for (const n of In(e))
    for (const r of n.inputs ?? []) {
      if (r?.link === null || r?.link === void 0) continue;
      const i = Uh(e, r.link);
      if (!i) continue;
      const s = i.origin_id ?? i[1];
      s != null && t.push([i.id ?? i[0], s, n.id]);
    }
  return t.sort((n, r) => Ei(Number(n[0]), Number(r[0]))), t.map(([, n, r]) => [n, r]);
}
const Kh = (e, t) => Ei(Number(e.id), Number(t.id)) || Ei(String(e.id), String(t.id));
function su(e, t, n, r) {
  const i = [Math.round(t), Math.round(n + r)];
  e.pos && typeof e.pos.length == "number" && e.pos.length >= 2 ? (e.pos[0] = i[0], e.pos[1] = i[1]) : e.pos = i;
}
function Yh(e, t, n = {}) {
  const r = n.LiteGraph, i = Fo(r), s = n.spacing ?? Vt.spacing, o = n.exclude ?? (() => !1);
  let l;
  if (t && t.length) {
    const w = new Set(t.map(String));
    l = In(e).filter((y) => w.has(String(y.id)));
  } else l = In(e).filter((w) => !o(w));
  if (!l.length) return [];
  const c = new Set(l.map((w) => String(w.id))), a = l.map((w) => Ci(w, r));
  a.sort((w, y) => w.y - y.y || w.x - y.x || Kh(w, y));
  const u = n.x ?? Math.min(...a.map((w) => w.x)), d = n.y ?? Math.min(...a.map((w) => w.y)), m = iu(e).filter(([w, y]) => c.has(String(w)) && c.has(String(y))), { pos: g, layer: p } = nu(a, m, { x: u, y: d, spacing: s }), x = new Set([...n.ignore ?? []].map(String)), v = In(e).filter((w) => !c.has(String(w.id)) && !x.has(String(w.id))).map((w) => Ci(w, r)), D = a.slice().sort((w, y) => p.get(w.id) - p.get(y.id) || g.get(w.id)[1] - g.get(y.id)[1]), k = [];
  for (const w of D) {
    const [y, F] = g.get(w.id), z = { ...w, x: y, y: F };
    v.length && (z.y = ru(z, v.concat(k), s)), k.push(z), su(qt(e, w.id), z.x, z.y, i);
  }
  return D.map((w) => w.id);
}
function Xh(e, t, n = {}) {
  const r = n.LiteGraph, i = Fo(r), s = n.spacing ?? Vt.spacing, o = new Set(t.map(String)), l = t.map((k) => qt(e, k)).filter(Boolean);
  if (!l.length) return [];
  const c = l.map((k) => Ci(k, r)), a = In(e).filter((k) => !o.has(String(k.id))).map((k) => Ci(k, r)), u = new Map(a.map((k) => [String(k.id), k])), d = iu(e), m = d.filter(([k, w]) => o.has(String(k)) && o.has(String(w))), g = nu(c, m, { x: 0, y: 0, spacing: s });
  let p = -1 / 0, x = 1 / 0;
  for (const [k, w] of d) {
    const y = u.get(String(k));
    !y || !o.has(String(w)) || (p = Math.max(p, y.x + y.w + s - g.pos.get(w)[0]), x = Math.min(x, y.y));
  }
  if (p === -1 / 0) {
    const k = Zh(a), w = Array.isArray(n.view) && n.view.length === 4 && n.view.every(Number.isFinite) ? n.view : null;
    let y = null;
    if (w) {
      y = [w[0] + Math.max(s, (w[2] - g.width) / 2), w[1] + Math.max(s, (w[3] - g.height) / 2)];
      const F = { x: y[0], y: y[1], w: g.width, h: g.height };
      a.some((z) => Gh(F, z, s / 2)) && (y = null);
    }
    y || (y = k ? [k.x + k.w + s, k.y] : w ? [w[0] + w[2] / 4, w[1] + w[3] / 4] : Vt.origin), [p, x] = y;
  }
  const v = c.slice().sort((k, w) => g.layer.get(k.id) - g.layer.get(w.id) || g.pos.get(k.id)[1] - g.pos.get(w.id)[1]), D = a.slice();
  for (const k of v) {
    const [w, y] = g.pos.get(k.id), F = { ...k, x: p + w, y: x + y };
    F.y = ru(F, D, s), D.push(F), su(qt(e, k.id), F.x, F.y, i);
  }
  return v.map((k) => k.id);
}
function Zh(e) {
  if (!e.length) return null;
  let t = 1 / 0, n = 1 / 0, r = -1 / 0, i = -1 / 0;
  for (const s of e)
    t = Math.min(t, s.x), n = Math.min(n, s.y), r = Math.max(r, s.x + s.w), i = Math.max(i, s.y + s.h);
  return { x: t, y: n, w: r - t, h: i - n };
}
const Xe = Object.freeze({
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
}), xs = Object.freeze({ always: 0, never: 2, mute: 2, bypass: 4 });
class lo extends Error {
  constructor(t, n, r = []) {
    super(n), this.code = t, this.suggestions = r;
  }
}
const le = (e, t, n) => {
  throw new lo(e, t, n);
}, er = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function Wn(e, t, n = Xe.name, { optional: r = !1 } = {}) {
  if (e == null) {
    if (r) return "";
    le("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && le("INVALID_COMMAND", `${t} must be a string`), e.length > n && le("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function kn(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > Xe.coord) && le("INVALID_COMMAND", `${t} must be a number within ±${Xe.coord}`), e);
}
function Kt(e, t) {
  return er(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= Xe.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : le("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function As(e, t) {
  if (e == null) return 0;
  if (er(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= Xe.name ? e : le("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function zl(e, t) {
  if (er(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((r) => r in e);
    n.length !== 1 && le("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || le("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > Xe.text && le("VALUE_INVALID", `${t} is longer than ${Xe.text} characters`), e) : le("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const pi = {
  create_node(e) {
    const t = {
      node_type: Wn(e.node_type, "node_type"),
      x: kn(e.x, "x", { optional: !0 }),
      y: kn(e.y, "y", { optional: !0 }),
      ref: Wn(e.ref, "ref", Xe.ref, { optional: !0 }),
      title: Wn(e.title, "title", Xe.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || le("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      er(e.widgets) || le("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > Xe.widgets && le("INVALID_COMMAND", `more than ${Xe.widgets} widgets`);
      for (const r of n) t.widgets.push([Wn(r, "widget name"), zl(e.widgets[r], `widgets.${r}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: Kt(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: Kt(e.from_id, "from_id"),
    from_slot: As(e.from_slot, "from_slot"),
    to_id: Kt(e.to_id, "to_id"),
    to_slot: As(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: Kt(e.node_id, "node_id"), slot: As(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: Kt(e.node_id, "node_id"),
    name: Wn(e.name, "name"),
    value: zl(e.value, "value")
  }),
  move_node: (e) => ({ node_id: Kt(e.node_id, "node_id"), x: kn(e.x, "x"), y: kn(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(e) {
    const t = e.node_ids ?? [];
    Array.isArray(t) || le("INVALID_COMMAND", "node_ids must be an array of node ids or refs"), t.length > Xe.nodes && le("INVALID_COMMAND", `node_ids: more than ${Xe.nodes}`);
    const n = kn(e.spacing, "spacing", { optional: !0 });
    return n !== null && (n < 0 || n > Vt.maxSpacing) && le("INVALID_COMMAND", `spacing must be between 0 and ${Vt.maxSpacing}`), {
      node_ids: t.map((r, i) => Kt(r, `node_ids[${i}]`)),
      x: kn(e.x, "x", { optional: !0 }),
      y: kn(e.y, "y", { optional: !0 }),
      spacing: n
    };
  },
  set_node_mode(e) {
    const t = Wn(e.mode, "mode");
    return Object.hasOwn(xs, t) || le("INVALID_COMMAND", `mode "${t.slice(0, 40)}" is not one of ${Object.keys(xs).join(", ")}`), { node_id: Kt(e.node_id, "node_id"), mode: xs[t] };
  }
}, ou = Object.freeze(Object.keys(pi)), Ul = new Set(ou.filter((e) => e !== "get_graph"));
function Qh(e) {
  er(e) || le("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const r = Object.keys(e).filter((i) => Object.hasOwn(pi, i));
    r.length !== 1 && le("INVALID_COMMAND", "missing field: type"), t = r[0], n = er(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(pi, t)) && le("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${ou.join(", ")}`), { type: t, ...pi[t](n) };
}
const ep = /* @__PURE__ */ new Set(["number", "slider", "knob"]), tp = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function np(e, t, n) {
  const r = String(e.type ?? ""), i = e.options ?? {};
  if (r === "combo") {
    const s = Hh(e, t);
    return s && !s.some((o) => o === n) && le("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${s.length} options of ${e.name}`, Vn(n, s.filter((o) => typeof o == "string"))), n;
  }
  return ep.has(r) ? (typeof n != "number" && le("VALUE_INVALID", `${e.name} takes a number`), i.precision === 0 && !Number.isInteger(n) && le("VALUE_INVALID", `${e.name} takes an integer`), typeof i.min == "number" && n < i.min && le("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${i.min}`), typeof i.max == "number" && n > i.max && le("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${i.max}`), n) : r === "toggle" || r === "boolean" ? (typeof n != "boolean" && le("VALUE_INVALID", `${e.name} takes true or false`), n) : tp.has(r) ? (typeof n != "string" && le("VALUE_INVALID", `${e.name} takes a string`), n) : (r === "button" && le("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function rp(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function Wl(e, t, n, r) {
  const i = Jh(t, n);
  i || le("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, Vn(n, qh(t)));
  const s = np(i, t, r), o = i.value;
  i.value = s;
  try {
    i.callback?.call(i, i.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(i.name, i.value, o, i);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return rp(i);
}
function Yt(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return qt(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const r = qt(e.graph, t.id);
    if (r) return r;
    le("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return le("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function ip(e) {
  const t = typeof e.view == "function" ? e.view() : null;
  return Array.isArray(t) && t.length === 4 && t.every(Number.isFinite) ? t : null;
}
function sp(e) {
  const t = [...e.pending].filter((n) => qt(e.graph, n));
  e.pending.clear(), t.length && Xh(e.graph, t, { LiteGraph: e.LiteGraph, view: ip(e) });
}
const op = {
  create_node(e, t) {
    const { graph: n, LiteGraph: r } = e, i = r.createNode(t.node_type);
    if (!i) {
      const l = Object.keys(r.registered_node_types ?? {});
      le("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, Vn(t.node_type, l));
    }
    t.title && (i.title = t.title);
    const s = t.x === null || t.y === null;
    i.pos = s ? [0, 0] : [t.x, t.y];
    const o = e.expectedId;
    Number.isSafeInteger(o) && o > 0 && !qt(n, o) && (i.id = o), n.add(i), qt(n, i.id) || le("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [l, c] of t.widgets) Wl(e, i, l, c);
    } catch (l) {
      throw n.remove(i), l;
    }
    return t.ref && e.refs.set(t.ref, i.id), s && e.pending.add(i.id), { node_id: i.id };
  },
  remove_node(e, t) {
    const n = Yt(e, t.node_id, "node_id"), r = n.id;
    return e.graph.remove(n), qt(e.graph, r) && le("EDITOR_FAILED", `node #${r} cannot be removed`), { node_id: r };
  },
  connect(e, t) {
    const n = Yt(e, t.from_id, "from_id"), r = Yt(e, t.to_id, "to_id"), i = Wh(n, t.from_slot);
    i < 0 && le(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? Vn(t.from_slot, (n.outputs ?? []).map((a) => a.name)) : []
    );
    const s = jl(r, t.to_slot);
    s < 0 && le(
      "SLOT_NOT_FOUND",
      `node #${r.id} (${r.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? Vn(t.to_slot, (r.inputs ?? []).map((a) => a.name)) : []
    ), n === r && le("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const o = n.outputs[i].type, l = r.inputs[s].type;
    e.LiteGraph.isValidConnection(o, l) || le("TYPE_MISMATCH", `output ${i} of #${n.id} is ${o}, input ${JSON.stringify(r.inputs[s].name)} of #${r.id} takes ${l}`);
    const c = n.connect(i, r, s);
    return c || le("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${i} -> #${r.id}:${s}`), { node_id: r.id, link_id: c.id };
  },
  disconnect(e, t) {
    const n = Yt(e, t.node_id, "node_id"), r = jl(n, t.slot);
    r < 0 && le(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? Vn(t.slot, (n.inputs ?? []).map((s) => s.name)) : []
    );
    const i = n.inputs[r].link;
    return i == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(r), n.inputs[r].link !== null && n.inputs[r].link !== void 0 && le("EDITOR_FAILED", `input ${r} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: i });
  },
  set_widget(e, t) {
    const n = Yt(e, t.node_id, "node_id"), r = Wl(e, n, t.name, t.value);
    return r === void 0 ? { node_id: n.id } : { node_id: n.id, value: r };
  },
  move_node(e, t) {
    const n = Yt(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], e.pending.delete(n.id), { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of In(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  },
  arrange(e, t) {
    const n = t.node_ids.map((i, s) => Yt(e, i, `node_ids[${s}]`).id), r = Yh(e.graph, n, {
      LiteGraph: e.LiteGraph,
      x: t.x ?? void 0,
      y: t.y ?? void 0,
      spacing: t.spacing ?? void 0,
      exclude: e.keepOnClear,
      ignore: e.pending
    });
    for (const i of r) e.pending.delete(i);
    return {};
  },
  set_node_mode(e, t) {
    const n = Yt(e, t.node_id, "node_id");
    return n.mode = t.mode, n.mode !== t.mode && le("EDITOR_FAILED", `node #${n.id} kept mode ${n.mode}`), { node_id: n.id };
  }
}, lp = "BATCH_MODE_PARTIAL";
function cp(e) {
  return e === lp || e === 2 || String(e).toLowerCase() === "partial";
}
function Jl(e, t) {
  const n = t instanceof lo ? t.code : "EDITOR_FAILED", r = t instanceof lo ? t.message : `command failed: ${t?.message ?? String(t)}`, i = { code: n, message: r.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (i.suggestions = t.suggestions), { index: e, ok: !1, error: i };
}
function ap(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > Xe.commands)
    return { ok: !1, error: `more than ${Xe.commands} commands`, results: [], applied: !1 };
  const r = e.graph, i = cp(t?.mode), s = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), pending: /* @__PURE__ */ new Set(), expectedId: void 0 }, l = r.serialize(), c = new Array(n.length);
  let a = 0, u = -1, d = !1;
  for (let p = 0; p < n.length; p++) {
    let x;
    try {
      x = Qh(n[p]);
    } catch (D) {
      if (c[p] = Jl(p, D), !i) {
        u = p;
        break;
      }
      continue;
    }
    o.expectedId = x.type === "create_node" ? s[a++] : void 0;
    const v = i && Ul.has(x.type) && p > 0 ? r.serialize() : null;
    try {
      c[p] = { index: p, ok: !0, ...op[x.type](o, x) }, Ul.has(x.type) && (d = !0);
    } catch (D) {
      if (c[p] = Jl(p, D), !i) {
        u = p;
        break;
      }
      const k = v ?? l;
      nn(r.serialize()) !== nn(k) && ql(r, k);
    }
  }
  if (u >= 0) {
    nn(r.serialize()) !== nn(l) && ql(r, l);
    const p = `not applied: command ${u} failed and the patch is atomic (the graph was rolled back)`;
    for (let x = 0; x < n.length; x++)
      x !== u && (c[x] = { index: x, ok: !1, error: { code: "SKIPPED", message: p, index: x } });
    return r.setDirtyCanvas?.(!0, !0), { ok: !1, error: c[u].error.message, results: c, applied: !1 };
  }
  sp(o), r.setDirtyCanvas?.(!0, !0);
  const m = c.every((p) => p.ok), g = c.find((p) => !p.ok);
  return {
    ok: m,
    error: m ? "" : g.error.message,
    results: c,
    applied: d
  };
}
function ql(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
function up(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function fp(e, t) {
  const n = up(e);
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
const dp = 1e3, hp = 1500, pp = 120, gp = 480 * 1024, vs = "the tab has switched to another workflow; this canvas is no longer open in it", mp = 200, _p = 50, bp = 1e4, yp = 1e3, wp = 128, Rs = 1024 * 1024 - 1024;
function kp(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function Es(e, t) {
  const n = String(t || "workflow"), r = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${r}~${kp(n)}`.slice(0, wp);
}
function xp(e, t = gp) {
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
function Ap(e, t = () => Math.random().toString(36).slice(2, 10)) {
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
class vp {
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), hp), this.connect());
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
    const t = so(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > _p : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, mp);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = xp(await this.d.objectInfo?.());
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
      n = new this.d.WebSocket(eu(t, "/comfy/editor/ws"), tu(t));
    } catch (r) {
      this.log("warn", `comfyd: cannot open the editor socket (${r?.message ?? r})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (r) => this.onMessage(r.data), n.onerror = () => {
    }, n.onclose = (r) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (r?.code === dp) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (r?.code === 1008 || r?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = Es(this.d.tabId, this.workflowKey()), this.lastSig = nn(t), this.tabRevision += 1;
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
    return r.length > Rs && new TextEncoder().encode(r).length > Rs ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(r), !0);
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
    return Es(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: vs, results: [], workflow_json: "", tab_revision: this.tabRevision });
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
      r = fp(this.d.app, () => ap(n, t));
    } catch (s) {
      r = { ok: !1, error: `the patch failed: ${s?.message ?? s}`, results: [] };
    } finally {
      this.busy--;
    }
    const i = this.serialize();
    this.lastSig = nn(i), this.tabRevision += 1, this.send({
      type: "patch_result",
      request_id: t.request_id,
      ok: !!r.ok,
      error: r.error ?? "",
      results: (r.results ?? []).filter(Boolean).map(Rp),
      workflow_json: JSON.stringify(i),
      tab_revision: this.tabRevision
    });
  }
  /** The visible part of the canvas in canvas units ([x, y, w, h]), where
   * nodes created without coordinates go when it is free; null when the
   * canvas has no size yet. */
  view() {
    const t = this.d.app.canvas, n = t?.ds, r = t?.canvas, i = n?.visible_area;
    if (i && i[2] > 0 && i[3] > 0) return [i[0], i[1], i[2], i[3]].map(Number);
    if (!n || !r || !n.scale || !r.width || !r.height) return null;
    const s = globalThis.devicePixelRatio || 1, o = (r.clientWidth || r.width / s) / n.scale, l = (r.clientHeight || r.height / s) / n.scale;
    return [-n.offset[0], -n.offset[1], o, l];
  }
  async handleQueue(t) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: vs, prompt_id: "", number: 0 });
    if (t.prompt_only) return this.handlePromptOnly(t);
    const { app: n, api: r } = this.d, i = [];
    let s = "";
    const o = r.queuePrompt;
    r.queuePrompt = async function(...a) {
      try {
        const u = await o.apply(this, a);
        return i.push(u), u;
      } catch (u) {
        throw s = Vl(u), u;
      }
    };
    try {
      const a = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, a);
    } catch (a) {
      s = s || Vl(a);
    } finally {
      r.queuePrompt = o;
    }
    const l = i[i.length - 1], c = !!l?.prompt_id && !s;
    this.send({
      type: "queue_result",
      request_id: t.request_id,
      ok: c,
      error: c ? "" : s || "the frontend did not queue the workflow",
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
    const { app: n } = this.d, r = n.rootGraph ?? n.graph, i = { type: "queue_result", request_id: t.request_id, prompt_id: "", number: 0 };
    if (typeof n.graphToPrompt != "function")
      return this.send({ ...i, ok: !1, error: "this frontend has no graphToPrompt" });
    let s;
    try {
      Hl(r, "beforeQueued");
      const o = await n.graphToPrompt(r);
      if (s = { prompt_json: JSON.stringify(o?.output ?? null), workflow_json: JSON.stringify(o?.workflow ?? null) }, !o?.output || typeof o.output != "object") throw new Error("graphToPrompt returned no prompt");
      Hl(r, "afterQueued");
    } catch (o) {
      return this.send({ ...i, ok: !1, error: `cannot convert the workflow: ${String(o?.message ?? o).slice(0, 1e3)}` });
    }
    if (s.prompt_json.length + s.workflow_json.length > Rs)
      return this.send({ ...i, ok: !1, error: "the workflow is too large to hand over" });
    this.send({ ...i, ok: !0, error: "", ...s });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: vs, workflow_json: "", tab_revision: this.tabRevision });
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
    this.lastSig = nn(s), this.tabRevision += 1, this.send({
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
    }, pp);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < bp || this.d.app.configuringGraph) return;
    if (Es(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const r = nn(n);
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
    if (!(this.focused && t - this.focusSentAt < yp)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function Hl(e, t) {
  const n = e?._nodes ?? e?.nodes ?? [];
  for (const r of n) for (const i of r.widgets ?? []) i[t]?.();
}
function Vl(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, r = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${r.length ? ` (nodes ${r.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function Rp(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const co = 200, Ep = 16, Cp = 256, Dp = /* @__PURE__ */ new Set(["succeeded", "failed", "interrupted", "cancelled", "unknown"]), tr = (e) => Dp.has(e);
function nr(e) {
  let t = String(e ?? "").toLowerCase();
  return t.startsWith("run_status_") && (t = t.slice(11)), t || "unspecified";
}
const Ze = (e) => {
  const t = Number(e);
  return Number.isFinite(t) ? t : 0;
};
function Sp(e, t) {
  if (!e) return !0;
  const n = Ze(e.seq), r = Ze(t.seq);
  return n && r ? r > n : !(tr(nr(e.status)) && !tr(nr(t.status)));
}
function Tp(e) {
  const t = Object.keys(e.runs);
  if (t.length <= co) return;
  const n = t.map((r) => e.runs[r]).sort((r, i) => Number(tr(nr(i.status))) - Number(tr(nr(r.status))) || Ze(r.queued_at_ms) - Ze(i.queued_at_ms));
  for (const r of n.slice(0, t.length - co))
    delete e.runs[r.prompt_id], delete e.runTurns[r.prompt_id];
}
function lu(e, t, { workingTurn: n = 0 } = {}) {
  if (!t || typeof t != "object" || typeof t.prompt_id != "string" || !t.prompt_id || t.session_id && e.sessionId && t.session_id !== e.sessionId) return !1;
  const r = t.prompt_id;
  return Sp(e.runs[r], t) ? (e.runs[r] = t, !e.runTurns[r] && n && !tr(nr(t.status)) && (e.runTurns[r] = n), Tp(e), !0) : !1;
}
function Fp(e) {
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
function Ip(e, t, n) {
  const r = Fp(n), i = Number(t) || 0;
  return !r || !i || e.runTurns[r] === i ? !1 : (e.runTurns[r] = i, !0);
}
function Op(e, t) {
  const n = e.runTurns[t.prompt_id];
  if (n && e.turns.some((o) => o.id === n)) return n;
  const r = Ze(t.queued_at_ms), i = e.turns.filter((o) => !o.pending);
  if (!i.length) return 0;
  if (!r) return i.at(-1).id;
  let s = 0;
  for (const o of i) {
    if (!o.createdAt || o.createdAt > r) continue;
    s = o.id;
    const l = o.order.map((a) => o.replies[a]).filter((a) => a.final && a.createdAt);
    if ((l.length === o.order.length && l.length > 0 ? Math.max(...l.map((a) => a.createdAt)) : 1 / 0) >= r) return o.id;
  }
  return s || i[0].id;
}
function Np(e) {
  const t = {}, n = Object.values(e.runs).sort((r, i) => Ze(r.queued_at_ms) - Ze(i.queued_at_ms) || Ze(r.number) - Ze(i.number));
  for (const r of n) {
    const i = Op(e, r);
    (t[i] ??= []).push(r);
  }
  return t;
}
function Mp(e, t = () => "") {
  const n = nr(e.status), r = (a, u) => String(u || t(String(a)) || (a ? `#${a}` : "")), i = {
    id: e.prompt_id,
    short: String(e.prompt_id).slice(0, 8),
    status: n,
    final: tr(n),
    queuedBy: String(e.queued_by ?? ""),
    reason: String(e.reason ?? ""),
    queuePosition: Ze(e.queue_position),
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
  }, s = new Set([...e.executed_nodes ?? [], ...e.cached_nodes ?? []].map(String));
  if (i.done = s.size, e.executing_node && !i.final) {
    const a = String(e.executing_node);
    i.node = { id: a, title: r(a) };
    const u = (e.progress ?? []).find((d) => String(d.node_id) === a);
    u && Ze(u.max) > 0 && (i.value = Ze(u.value), i.max = Ze(u.max), i.percent = Math.max(0, Math.min(100, Math.round(100 * i.value / i.max))));
  }
  for (const a of e.node_errors ?? [])
    i.errors.push({
      nodeId: String(a.node_id ?? ""),
      title: r(a.node_id, a.title),
      input: String(a.input_name ?? ""),
      message: [a.message, a.details].filter(Boolean).join(": ")
    });
  const o = e.execution_error;
  o && (o.node_id || o.exception_message || o.exception_type) && i.errors.push({
    nodeId: String(o.node_id ?? ""),
    title: r(o.node_id, o.title),
    input: "",
    message: [o.exception_type, o.exception_message].filter(Boolean).join(": ")
  }), !i.errors.length && (e.prompt_error || n === "failed" && e.reason) && i.errors.push({ nodeId: "", title: "", input: "", message: String(e.prompt_error || e.reason) });
  for (const a of e.outputs ?? [])
    (a.files ?? []).forEach((u, d) => {
      i.outputs.length >= Ep || u.kind && u.kind !== "images" || /\.(png|jpe?g|webp|gif)$/i.test(String(u.filename ?? "")) && i.outputs.push({ nodeId: String(a.node_id), index: d, filename: String(u.filename), kind: String(u.kind ?? "images") });
    });
  const l = Ze(e.started_at_ms), c = Ze(e.ended_at_ms);
  return l && c >= l && (i.seconds = (c - l) / 1e3), i;
}
function Gl(e, t, n, r = 0) {
  const i = r ? `?max_side=${r}` : "";
  return `/comfyd/runs/${encodeURIComponent(e)}/outputs/${encodeURIComponent(t)}/${n}${i}`;
}
const Kl = 500, Yl = 200;
function on(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function cu() {
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
function Lp(e) {
  let t = null;
  for (const n of e.summaries) (!t || n.coversTo > t.coversTo) && (t = n);
  return t;
}
function au(e, t = "") {
  Object.assign(e, cu(), { sessionId: t });
}
function Xl(e, t) {
  const n = Number(t) || 0;
  for (let r = e.turns.length - 1; r >= 0; r--) if (e.turns[r].id === n) return e.turns[r];
  return null;
}
function Kn(e, t) {
  let n = Xl(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let r = e.turns.length;
  for (; r > 0 && e.turns[r - 1].id > n.id; ) r--;
  return e.turns.splice(r, 0, n), e.turns.length > Yl && e.turns.splice(0, e.turns.length - Yl), Xl(e, n.id) ?? n;
}
function gi(e, t) {
  const n = t || "comfyd";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function ur(e, t) {
  e.logs.push(t), e.logs.length > Kl && e.logs.splice(0, e.logs.length - Kl);
}
function Io(e) {
  return Array.isArray(e) ? e.filter((t) => t && typeof t == "object" && /^[0-9a-f]{64}$/.test(String(t.sha256 ?? ""))).map((t) => ({
    sha256: String(t.sha256),
    name: String(t.name ?? ""),
    mime: String(t.mime_type ?? ""),
    size: Number(t.size) || 0,
    width: Number(t.width) || 0,
    height: Number(t.height) || 0
  })) : [];
}
function Zl(e, t) {
  if (!t || typeof t != "object") return;
  const n = on(t.role, "ROLE_"), r = on(t.state, "MESSAGE_STATE_");
  if (on(t.kind, "MESSAGE_KIND_") === "summary") {
    const i = Number(t.id) || 0;
    e.summaries.some((s) => s.id === i) || e.summaries.push({ id: i, coversTo: Number(t.covers_to) || 0, content: String(t.content ?? "") });
    return;
  }
  if (n === "user") {
    const i = Kn(e, t.id);
    i.content = String(t.content ?? ""), i.attachments = Io(t.attachments), i.state = r, i.error = String(t.error ?? ""), i.createdAt = Number(t.created_at_ms) || i.createdAt || 0, i.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const i = Kn(e, t.turn_id), s = gi(i, t.skill);
    s.content = String(t.content ?? ""), s.state = r || "done", s.error = String(t.error ?? ""), s.createdAt = Number(t.created_at_ms) || s.createdAt || 0, s.final = !0;
  }
}
function Ql(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = on(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function uu(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function Pp(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, r = t.data && typeof t.data == "object" ? t.data : {}, i = uu(t);
  if (r.session_id && e.sessionId && r.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (i && i < e.lastSeq) return !1;
    const s = e.logs, o = { runs: e.runs, runTurns: e.runTurns }, l = e.turns.filter((a) => a.pending), c = r.session?.id ?? e.sessionId;
    au(e, c), e.logs = s;
    for (const [a, u] of Object.entries(o.runs))
      (!u.session_id || u.session_id === e.sessionId) && (e.runs[a] = u, o.runTurns[a] && (e.runTurns[a] = o.runTurns[a]));
    Ql(e, r.session), r.status !== void 0 && (e.status = on(r.status, "SESSION_STATUS_") || e.status);
    for (const a of Array.isArray(r.history) ? r.history : []) Zl(e, a);
    for (const a of Array.isArray(r.partials) ? r.partials : []) {
      const u = gi(Kn(e, a.turn_id), a.skill);
      u.final || (u.content = String(a.content ?? ""), u.next = Number(a.delta_count) || 0, u.state = "streaming");
    }
    return e.lastSeq = i || e.lastSeq, e.needsResync = !1, e.turns.push(...l), !0;
  }
  if (n === "run_update") return lu(e, r.run, { workingTurn: e.status === "working" ? e.workingTurn : 0 });
  if (["created", "configured", "sessions", "skills", "ack", "cancelled"].includes(n))
    return n === "configured" && r.session && Ql(e, r.session), !1;
  if (i) {
    if (i <= e.lastSeq) return !1;
    e.lastSeq = i;
  }
  switch (n) {
    case "status_update": {
      if (e.status = on(r.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(r.detail ?? ""), e.queuedTurns = Number(r.queued_turns) || 0, e.workingTurn = e.status === "working" ? Number(r.turn_id) || e.workingTurn : 0, e.status === "idle")
        for (const s of e.turns)
          for (const o of s.order) s.replies[o].state === "streaming" && (s.replies[o].state = "done");
      return !0;
    }
    case "stream_delta": {
      const s = Kn(e, r.turn_id), o = gi(s, r.skill), l = Number(r.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(r.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return Zl(e, r.message), !0;
    case "debug_log":
      return ur(e, {
        seq: i,
        level: on(r.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(r.module ?? ""),
        skill: String(r.skill ?? ""),
        message: String(r.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(r.code ?? ""), message: String(r.message ?? ""), skill: String(r.skill ?? "") }, r.turn_id) {
        const s = Kn(e, r.turn_id);
        if (r.skill) {
          const o = gi(s, r.skill);
          o.error = e.lastError.message, o.final || (o.state = r.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return ur(e, { seq: i, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return r.config && (e.config = r.config), typeof r.title == "string" && (e.title = r.title), !0;
    case "tool_call":
      return ur(e, { seq: i, level: "INFO", module: "tool", skill: String(r.skill ?? ""), message: `${r.name ?? "tool"}(${String(r.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return Ip(e, r.turn_id, r.result_json), ur(e, { seq: i, level: r.ok ? "INFO" : "WARN", module: "tool", skill: String(r.skill ?? ""), message: `${r.call_id ?? ""} -> ${String(r.result_json ?? "").slice(0, 300)}` }), !0;
    case "graph_changed":
      return ur(e, { seq: i, level: "INFO", module: "graph", skill: "", message: `${r.canvas_id ?? ""} r${r.revision ?? ""}: ${r.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function jp(e, t, n, r = []) {
  const i = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, attachments: Io(r), state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(i), i;
}
function Bp(e, t, n) {
  const r = e.turns.findIndex((o) => o.pending && o.clientId === t), i = r >= 0 ? e.turns.splice(r, 1)[0] : null;
  if (!n?.id) return;
  const s = Kn(e, n.id);
  s.content || (s.content = String(n.content ?? i?.content ?? "")), s.attachments?.length || (s.attachments = Io(n.attachments ?? i?.attachments)), s.state || (s.state = on(n.state, "MESSAGE_STATE_"));
}
function ec(e, t) {
  const n = e.turns.find((r) => r.pending && r.clientId === t);
  n && (n.state = "waiting", n.error = "");
}
function $p(e, t, n) {
  const r = e.turns.find((i) => i.pending && i.clientId === t);
  r && (r.state = "failed", r.error = String(n ?? "not sent"));
}
function si(e, t = []) {
  const n = [];
  for (const r of t) e.replies[r] && n.push(r);
  for (const r of e.order) n.includes(r) || n.push(r);
  return n.map((r) => e.replies[r]);
}
const zp = 15e3, Up = /* @__PURE__ */ new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]), Wp = /* @__PURE__ */ new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);
function mi(e) {
  return Wp.has(String(e?.code ?? ""));
}
function fr(e, t) {
  const n = new Error(e);
  return n.code = t, n;
}
class Jp {
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
      n = new this.d.WebSocket(eu(t, "/comfy/session/ws"), tu(t));
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
    }, so(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const r = this.nextId++;
    return new Promise((i, s) => {
      if (!this.send({ event: t, data: n, request_id: r })) {
        s(fr("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(r);
        const l = fr(`${t}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(l.message), s(l);
      }, zp);
      this.pending.set(r, { resolve: i, reject: s, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && au(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
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
      const i = String(n.data?.code ?? "join_failed"), s = String(n.data?.message ?? "");
      if (Up.has(i)) {
        this.state.lastError = { code: i, message: s, skill: "" }, this.d.onChange?.();
        return;
      }
      this.joinFailed = !0, this.coreAway(s || i);
      return;
    }
    if (r !== void 0 && this.pending.has(r)) {
      const i = this.pending.get(r);
      if (this.pending.delete(r), this.t.clearTimeout(i.timer), n.event === "error") {
        const s = fr(n.data?.message ?? "request failed", n.data?.code ?? "error");
        mi(s) ? this.coreAway(s.message) : this.coreBack(), i.reject(s);
      } else
        this.coreBack(), i.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    uu(n) && n.event !== "error" && this.coreBack(), Pp(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
  /** The core is away: say so once, and probe it with backoff. */
  coreAway(t) {
    this.stopped || (this.outage || (this.outage = String(t || "core unavailable"), this.probeAttempt = 0, this.log("warn", `comfyd: core unavailable (${this.outage}); reconnecting`), this.d.onOutage?.(this.outage)), this.scheduleProbe());
  }
  scheduleProbe(t) {
    if (this.stopped || this.probeTimer || !this.open) return;
    const n = t ?? so(this.probeAttempt++);
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
const fu = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), qp = Object.freeze(["echo", "openai"]), Cs = "workflow-builder", tc = 64 * 1024, Ds = 4096, Hp = 64 * 1024, nc = 8, rc = 3 << 20, Oo = Object.freeze(["image/png", "image/jpeg", "image/webp", "image/gif", "text/plain", "text/markdown", "application/json"]), Vp = { md: "text/markdown", markdown: "text/markdown", json: "application/json", txt: "text/plain", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };
function Gp(e) {
  const t = String(e?.type ?? "").toLowerCase();
  if (Oo.includes(t)) return t;
  const n = String(e?.name ?? "").toLowerCase().split(".").pop();
  return Vp[n] ?? t;
}
let Kp = 0;
function Yp(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let ic = 0;
function Xp() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return ic += 1, `panel-${e}-${ic}`;
}
function sc(e) {
  const t = {
    provider: String(e.provider || "echo"),
    model: String(e.model ?? ""),
    base_url: String(e.base_url ?? ""),
    system_prompt: String(e.system_prompt ?? "")
  };
  return Array.isArray(e.active_skills) && (t.skills = e.active_skills.map(String)), t;
}
function oc(e, t) {
  return Array.isArray(e) || Array.isArray(t) ? JSON.stringify(e) === JSON.stringify(t) : e === t;
}
class Zp {
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
    this.state = n(cu()), this.ui = n({
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
    }), this.outbox = [], this.client = new Jp({
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
      skills: Yp(n.skills)
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
      t.sid === this.state.sessionId && Bp(this.state, t.cid, r.message);
    } catch (n) {
      mi(n) && !this.client.stopped ? (ec(this.state, t.cid), this.outbox.push(t)) : $p(this.state, t.cid, n.message);
    }
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = sc(t), r = this.coreConfig?.sid === this.state.sessionId ? this.coreConfig.values : null, i = this.ui.form;
    for (const [s, o] of Object.entries(n))
      !(r && !oc(i[s], r[s])) && !oc(i[s], o) && (i[s] = o, this.d.writeConfig(s, s === "skills" ? o.join(",") : o));
    this.coreConfig = { sid: this.state.sessionId, values: n };
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`), this.tickDefaultSkill();
    } catch (t) {
      mi(t) || (this.ui.notice = `skills: ${t.message}`);
    }
  }
  /** A panel without a session and without a chosen skill starts with the
   * default skill ticked (when the core has it). */
  tickDefaultSkill() {
    const t = this.ui.form;
    t.session_id || t.skills.length || this.skillsChosen || this.ui.skills.some((n) => n.name === Cs) && (t.skills = [Cs], this.d.writeConfig("skills", Cs));
  }
  async refreshSessions() {
    try {
      const t = await this.client.request("list", { page_size: 50 });
      this.ui.sessions = (t.sessions ?? []).map((n) => ({ id: String(n.id), title: String(n.title || n.id) }));
    } catch (t) {
      mi(t) || (this.ui.notice = `sessions: ${t.message}`);
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, Ds),
      model: t.model.slice(0, Ds),
      base_url: t.base_url.slice(0, Ds),
      system_prompt: t.system_prompt.slice(0, Hp)
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
      const i = r.session?.id;
      if (!i) throw new Error("the core answered without a session id");
      this.coreConfig = { sid: String(i), values: sc(n.config) }, this.selectSession(String(i)), await this.refreshSessions();
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
    const i = this.ui.skills.map((o) => o.name), s = [...i.filter((o) => r.has(o)), ...[...r].filter((o) => !i.includes(o))];
    return this.ui.form.skills = s, this.d.writeConfig("skills", s.join(",")), this.settingsStep(async () => {
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
    for (const i of n) {
      const s = Gp(i), o = { key: `att-${++Kp}`, name: String(i.name || (s.startsWith("image/") ? "pasted image" : "file")), mime: s, size: Number(i.size) || 0, state: "uploading", error: "", sha256: "", preview: "" };
      if (this.ui.attachments.length >= nc) {
        this.ui.notice = `at most ${nc} files per message`;
        break;
      }
      if (!Oo.includes(s))
        o.state = "failed", o.error = `${s || "this type"} is not accepted (PNG, JPEG, WebP, GIF, text, Markdown, JSON)`;
      else if (o.size > rc)
        o.state = "failed", o.error = `larger than ${rc >> 20} MiB`;
      else if (s.startsWith("image/") && globalThis.URL?.createObjectURL)
        try {
          o.preview = URL.createObjectURL(i);
        } catch {
          o.preview = "";
        }
      this.ui.attachments.push(o), o.state === "uploading" && r.push(this.upload(i, o.key));
    }
    await Promise.all(r);
  }
  async upload(t, n) {
    const r = () => this.ui.attachments.find((i) => i.key === n);
    try {
      if (!this.d.postBytes) throw new Error("uploads are not available here");
      const i = r(), o = (await this.d.postBytes(`/comfyd/attachments?name=${encodeURIComponent(i?.name ?? "")}`, t, i?.mime ?? ""))?.attachment ?? {}, l = r();
      if (!l) return;
      l.sha256 = String(o.sha256 ?? ""), l.mime = String(o.mime_type ?? l.mime), l.state = l.sha256 ? "ready" : "failed", l.sha256 || (l.error = "the upload gave no hash");
    } catch (i) {
      const s = r();
      s && (s.state = "failed", s.error = i.message);
    }
  }
  removeAttachment(t) {
    const n = this.ui.attachments.findIndex((i) => i.key === t);
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
    if (t.length > tc) {
      this.ui.notice = `a message is at most ${tc} characters`;
      return;
    }
    await this.settingsStep(() => {
    }), this.ui.form.session_id || await this.createSession();
    const r = this.ui.form.session_id;
    if (!r) return;
    this.ui.draft = "";
    const i = n.map((o) => ({ sha256: o.sha256, name: o.name, mime_type: o.mime }));
    for (const o of [...this.ui.attachments]) this.removeAttachment(o.key);
    const s = { cid: Xp(), sid: r, content: t, attachments: i };
    if (jp(this.state, s.cid, t, i), this.client.outage) {
      ec(this.state, s.cid), this.outbox.push(s);
      return;
    }
    await this.deliver(s);
  }
  /** The runs of the session as the core has them (after a join: run
   * updates are live only). A core without --comfyui has none. */
  async refreshRuns(t) {
    if (!(!this.d.getJson || !t))
      try {
        const n = await this.d.getJson(`/comfyd/runs?session_id=${encodeURIComponent(t)}&page_size=${Math.min(100, co)}`);
        if (t !== this.state.sessionId) return;
        for (const r of Array.isArray(n?.runs) ? n.runs : []) lu(this.state, r);
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
    const r = String(t), i = (s) => n.getNodeById(/^\d+$/.test(s) ? Number(s) : s) ?? null;
    return i(r) ?? (r.includes(":") ? i(r.split(":")[0]) : null);
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
  async cancel() {
    if (this.ui.form.session_id)
      try {
        await this.client.request("cancel", { session_id: this.ui.form.session_id, clear_queue: !1 });
      } catch (t) {
        this.ui.notice = `cancel: ${t.message}`;
      }
  }
}
const ao = "ComfydAgentPanel", lc = "comfyd-panel-style", cc = Object.freeze([440, 560]), Qp = 320, ac = (e) => e?.comfyClass === ao || e?.type === ao;
function eg(e, t) {
  if (e.getElementById(lc)) return;
  const n = e.createElement("style");
  n.id = lc, n.textContent = t, e.head.appendChild(n);
}
function tg(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function ng(e) {
  for (const [t, n] of fu) {
    let r = (e.widgets ?? []).find((i) => i.name === t);
    r || (r = e.addWidget("text", t, n, () => {
    }, {})), tg(r);
  }
}
function rg(e) {
  const t = {};
  for (const [n, r] of fu) {
    const s = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof s == "string" ? s : r;
  }
  return t;
}
function ig(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: r } = t;
  eg(r, t.css), ng(e);
  const i = (m, g) => {
    const p = (e.widgets ?? []).find((x) => x.name === m);
    !p || p.value === g || (p.value = g, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, s = new Zp({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => rg(e),
    writeConfig: i,
    app: n,
    getJson: t.getJson,
    apiUrl: t.apiUrl,
    postBytes: t.postBytes
  }), o = r.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: s });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const m = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => Qp,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    m.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  const c = () => {
    (Array.isArray(e.size) || ArrayBuffer.isView(e.size)) && e.setSize?.([Math.max(e.size[0], cc[0]), Math.max(e.size[1], cc[1])]);
  };
  c();
  let a = !1;
  const u = e.onConfigure;
  e.onConfigure = function(...m) {
    a = !0;
    const g = u?.apply(this, m);
    return s.reloadConfig(), g;
  };
  const d = e.onRemoved;
  return e.onRemoved = function(...m) {
    s.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, d?.apply(this, m);
  }, setTimeout(() => {
    e.__comfydPanel && (a || (c(), e.setDirtyCanvas?.(!0, !0)), s.reloadConfig(), s.start());
  }, 0), e.__comfydPanel = s, s;
}
function uc(e, t) {
  (t == null || t > e.length) && (t = e.length);
  for (var n = 0, r = Array(t); n < t; n++) r[n] = e[n];
  return r;
}
function sg(e) {
  if (Array.isArray(e)) return e;
}
function og(e, t) {
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
function lg() {
  throw new TypeError(`Invalid attempt to destructure non-iterable instance.
In order to be iterable, non-array objects must have a [Symbol.iterator]() method.`);
}
function cg(e, t) {
  return sg(e) || og(e, t) || ag(e, t) || lg();
}
function ag(e, t) {
  if (e) {
    if (typeof e == "string") return uc(e, t);
    var n = {}.toString.call(e).slice(8, -1);
    return n === "Object" && e.constructor && (n = e.constructor.name), n === "Map" || n === "Set" ? Array.from(e) : n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n) ? uc(e, t) : void 0;
  }
}
const du = Object.entries, ug = Object.keys, fc = Object.setPrototypeOf, fg = Object.isFrozen, hu = Object.getPrototypeOf, pu = Object.getOwnPropertyDescriptor;
let Ue = Object.freeze, Me = Object.seal, en = Object.create, gu = typeof Reflect < "u" && Reflect, Di = gu.apply, uo = gu.construct;
Ue || (Ue = function(t) {
  return t;
});
Me || (Me = function(t) {
  return t;
});
Di || (Di = function(t, n) {
  for (var r = arguments.length, i = new Array(r > 2 ? r - 2 : 0), s = 2; s < r; s++) i[s - 2] = arguments[s];
  return t.apply(n, i);
});
uo || (uo = function(t) {
  for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), i = 1; i < n; i++) r[i - 1] = arguments[i];
  return new t(...r);
});
const Pt = Fe(Array.prototype.forEach), dg = Fe(Array.prototype.lastIndexOf), dc = Fe(Array.prototype.pop), dr = Fe(Array.prototype.push), hg = Fe(Array.prototype.slice), pg = Fe(Array.prototype.splice), Yn = Array.isArray, Ss = mu(Set), Ts = Fe(Set.prototype.add), hr = Fe(Set.prototype.has), vn = Fe(String.prototype.toLowerCase), Fs = Fe(String.prototype.toString), gg = Fe(String.prototype.match), oi = Fe(String.prototype.replace), Is = Fe(String.prototype.indexOf), mg = Fe(String.prototype.trim), _g = Fe(Number.prototype.toString), bg = Fe(Boolean.prototype.toString), hc = typeof BigInt > "u" ? null : Fe(BigInt.prototype.toString), pc = typeof Symbol > "u" ? null : Fe(Symbol.prototype.toString), Ve = Fe(Object.prototype.hasOwnProperty), pr = Fe(Object.prototype.toString), yg = RegExp.prototype.test, $e = function(t, n) {
  return t instanceof RegExp && (t.lastIndex = 0), Di(yg, t, [n]);
}, jt = mu(TypeError);
function Fe(e) {
  return function(t) {
    for (var n = arguments.length, r = new Array(n > 1 ? n - 1 : 0), i = 1; i < n; i++) r[i - 1] = arguments[i];
    return Di(e, t, r);
  };
}
function mu(e) {
  return function() {
    for (var t = arguments.length, n = new Array(t), r = 0; r < t; r++) n[r] = arguments[r];
    return uo(e, n);
  };
}
function _e(e, t) {
  let n = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : vn;
  if (fc && fc(e, null), !Yn(t)) return e;
  let r = t.length;
  for (; r--; ) {
    let i = t[r];
    if (typeof i == "string") {
      const s = n(i);
      s !== i && (fg(t) || (t[r] = s), i = s);
    }
    e[i] = !0;
  }
  return e;
}
function wg(e) {
  for (let t = 0; t < e.length; t++) Ve(e, t) || (e[t] = null);
  return e;
}
function Si(e) {
  const t = en(null);
  for (const r of du(e)) {
    var n = cg(r, 2);
    const i = n[0], s = n[1];
    Ve(e, i) && (Yn(s) ? t[i] = wg(s) : s && typeof s == "object" && s.constructor === Object ? t[i] = Si(s) : t[i] = s);
  }
  return t;
}
function br(e) {
  const t = en(null), n = ug(e);
  let r = n.length;
  for (; r--; ) t[n[r]] = e[n[r]];
  return t;
}
function kg(e) {
  switch (typeof e) {
    case "string":
      return e;
    case "number":
      return _g(e);
    case "boolean":
      return bg(e);
    case "bigint":
      return hc ? hc(e) : "0";
    case "symbol":
      return pc ? pc(e) : "Symbol()";
    case "undefined":
      return pr(e);
    case "function":
    case "object": {
      if (e === null) return pr(e);
      const t = e, n = ct(t, "toString");
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
function ct(e, t) {
  for (; e !== null; ) {
    const r = pu(e, t);
    if (r) {
      if (r.get) return Fe(r.get);
      if (typeof r.value == "function") return Fe(r.value);
    }
    e = hu(e);
  }
  function n() {
    return null;
  }
  return n;
}
function xg(e, t) {
  for (; e !== null; ) {
    const n = pu(e, t);
    if (n) return n.get ? Fe(n.get) : null;
    e = hu(e);
  }
  return null;
}
function Ag(e) {
  if (!e) return !1;
  try {
    return $e(e, ""), !0;
  } catch {
    return !1;
  }
}
const gc = Ue([
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
]), Os = Ue([
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
]), Ns = Ue([
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
]), vg = Ue([
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
]), Ms = Ue([
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
]), Rg = Ue([
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
]), mc = Ue(["#text"]), _c = Ue([
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
]), Ls = Ue([
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
]), bc = Ue([
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
]), li = Ue([
  "xlink:href",
  "xml:id",
  "xlink:title",
  "xml:space",
  "xmlns:xlink"
]), Eg = Me(/{{[\w\W]*|^[\w\W]*}}/g), Cg = Me(/<%[\w\W]*|^[\w\W]*%>/g), Dg = Me(/\${[\w\W]*/g), Sg = Me(/{{|}}|\${|<%|%>|&lt;%|%&gt;/), Tg = Me(/^data-[\-\w.\u00B7-\uFFFF]+$/), Fg = Me(/^aria-[\-\w]+$/), yc = Me(/^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i), Ig = Me(/^(?:\w+script|data):/i), Og = Me(/[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g), Ng = Me(/^html$/i), Mg = Me(/^[a-z][.\w]*(-[.\w]+)+$/i), Ps = Me(/<[/\w!]/g), wc = Me(/<[/\w]/g), Lg = Me(/<\/no(script|embed|frames)/i), kc = Me(/\/>/i), Pg = Me(/((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i), jg = Me(/^[\r\n\t ]+/), Oe = {
  element: 1,
  text: 3,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentFragment: 11
}, Bg = Ue(_e({}, [
  "style",
  "script",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "plaintext",
  "noscript"
])), $g = function() {
  return typeof window > "u" ? null : window;
}, zg = function(t, n) {
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
}, xc = function() {
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
}, Xt = function(t, n, r, i) {
  return Ve(t, n) && Yn(t[n]) ? _e(i.base ? br(i.base) : {}, t[n], i.transform) : r;
}, js = function(t, n, r) {
  const i = Ve(t, n) ? t[n] : void 0;
  return i && typeof i == "object" ? Si(i) : r;
};
function _u() {
  let e = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : $g();
  const t = (O) => _u(O);
  if (t.version = "3.4.18", t.removed = [], !e || !e.document || e.document.nodeType !== Oe.document || !e.Element)
    return t.isSupported = !1, t;
  let n = e.document;
  const r = n, i = r.currentScript, s = e.HTMLTemplateElement, o = e.Node, l = e.Element, c = e.NodeFilter, a = e.DOMParser, u = e.trustedTypes, d = l.prototype, m = ct(d, "cloneNode"), g = ct(d, "remove"), p = ct(d, "removeAttributeNode"), x = ct(d, "nextSibling"), v = ct(d, "childNodes"), D = ct(d, "parentNode"), k = ct(d, "shadowRoot"), w = ct(d, "attributes"), y = o && o.prototype ? ct(o.prototype, "nodeType") : null, F = o && o.prototype ? ct(o.prototype, "nodeName") : null, z = o && o.prototype ? ct(o.prototype, "ownerDocument") : null, B = function(f) {
    return y ? y(f) : f.nodeType;
  }, ee = function(f) {
    return F ? F(f) : f.nodeName;
  }, Q = xg(d, "namespaceURI"), ae = function(f) {
    return Q ? Q(f) : f.namespaceURI;
  };
  if (typeof s == "function") {
    const O = n.createElement("template");
    O.content && O.content.ownerDocument && (n = O.content.ownerDocument);
  }
  let ne, fe = "", Ce, ye = !1, ke = 0;
  const lt = function() {
    if (ke > 0) throw jt('A configured TRUSTED_TYPES_POLICY callback (createHTML or createScriptURL) must not call DOMPurify.sanitize, as that causes infinite recursion. Do not pass a policy whose callbacks wrap DOMPurify as TRUSTED_TYPES_POLICY; see the "DOMPurify and Trusted Types" section of the README.');
  }, W = function(f) {
    lt(), ke++;
    try {
      return ne.createHTML(f);
    } finally {
      ke--;
    }
  }, ie = function(f) {
    return ne && Ji ? W(f) : f;
  }, j = function(f) {
    lt(), ke++;
    try {
      return ne.createScriptURL(f);
    } finally {
      ke--;
    }
  }, C = function() {
    return ye || (Ce = zg(u, i), ye = !0), Ce;
  }, R = n, H = R.implementation, Ke = R.createNodeIterator, wt = R.createDocumentFragment, sr = R.getElementsByTagName, dn = r.importNode;
  let xe = xc();
  t.isSupported = typeof du == "function" && typeof D == "function" && H && H.createHTMLDocument !== void 0;
  const qr = Eg, hn = Cg, Bo = Dg, h = Tg, _ = Fg, A = Ig, P = Og, S = Mg;
  let I = yc, M = null;
  const $ = _e({}, [
    ...gc,
    ...Os,
    ...Ns,
    ...Ms,
    ...mc
  ]);
  let N = null;
  const T = _e({}, [
    ..._c,
    ...Ls,
    ...bc,
    ...li
  ]);
  let V = null, U = null, X = null;
  const te = Object.seal(en(null, {
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
  let de = !0, ge = !0, me = !1, De = !0, Ae = !1, Le = !0, je = !1, it = !1, pn = null, Be = null, et = !1, Nt = !1, gn = !1, Ji = !1, $o = !0, zo = !1;
  const Uo = "user-content-";
  let qi = !0, Hi = !1, mn = null, Ln = !1, _n = null;
  const Wo = _e({}, [
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
  let Jo = null;
  const qo = _e({}, [
    "audio",
    "video",
    "img",
    "source",
    "image",
    "track"
  ]);
  let Ho = null;
  const Vo = _e({}, [
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
  ]), Hr = "http://www.w3.org/1998/Math/MathML", Vr = "http://www.w3.org/2000/svg", kt = "http://www.w3.org/1999/xhtml";
  let Pn = kt, Vi = !1, Go = null;
  const Ku = _e({}, [
    Hr,
    Vr,
    kt
  ], Fs), Yu = Ue(_e({}, [
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext"
  ]));
  let Gi = null;
  const Xu = Ue(_e({}, ["annotation-xml"]));
  let Ki = null;
  const Zu = Ue(en(null)), Qu = _e({}, [
    "title",
    "style",
    "font",
    "a",
    "script"
  ]);
  let or = null;
  const ef = ["application/xhtml+xml", "text/html"], tf = "text/html";
  let Ie = null, Gr = null;
  const nf = n.createElement("form"), Ko = function(f) {
    return f instanceof RegExp || f instanceof Function;
  }, Yi = function() {
    let f = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    (!f || typeof f != "object") && (f = {}), f = Si(f), or = ef.indexOf(f.PARSER_MEDIA_TYPE) === -1 ? tf : f.PARSER_MEDIA_TYPE, Ie = or === "application/xhtml+xml" ? Fs : vn, M = Xt(f, "ALLOWED_TAGS", $, { transform: Ie }), N = Xt(f, "ALLOWED_ATTR", T, { transform: Ie }), Go = Xt(f, "ALLOWED_NAMESPACES", Ku, { transform: Fs }), Ho = Xt(f, "ADD_URI_SAFE_ATTR", Vo, {
      transform: Ie,
      base: Vo
    }), Jo = Xt(f, "ADD_DATA_URI_TAGS", qo, {
      transform: Ie,
      base: qo
    }), _n = Xt(f, "FORBID_CONTENTS", Wo, { transform: Ie }), U = Xt(f, "FORBID_TAGS", en(null), { transform: Ie }), X = Xt(f, "FORBID_ATTR", en(null), { transform: Ie }), Ln = Ve(f, "USE_PROFILES") ? f.USE_PROFILES && typeof f.USE_PROFILES == "object" ? Si(f.USE_PROFILES) : f.USE_PROFILES : !1, de = f.ALLOW_ARIA_ATTR !== !1, ge = f.ALLOW_DATA_ATTR !== !1, me = f.ALLOW_UNKNOWN_PROTOCOLS || !1, De = f.ALLOW_SELF_CLOSE_IN_ATTR !== !1, Ae = f.SAFE_FOR_TEMPLATES || !1, Le = f.SAFE_FOR_XML !== !1, je = f.WHOLE_DOCUMENT || !1, Nt = f.RETURN_DOM || !1, gn = f.RETURN_DOM_FRAGMENT || !1, Ji = f.RETURN_TRUSTED_TYPE || !1, et = f.FORCE_BODY || !1, $o = f.SANITIZE_DOM !== !1, zo = f.SANITIZE_NAMED_PROPS || !1, qi = f.KEEP_CONTENT !== !1, Hi = f.IN_PLACE || !1, I = Ag(f.ALLOWED_URI_REGEXP) ? f.ALLOWED_URI_REGEXP : yc, Pn = typeof f.NAMESPACE == "string" ? f.NAMESPACE : kt, Gi = js(f, "MATHML_TEXT_INTEGRATION_POINTS", Yu), Ki = js(f, "HTML_INTEGRATION_POINTS", Xu);
    const b = js(f, "CUSTOM_ELEMENT_HANDLING", Zu);
    if (V = en(null), Ve(b, "tagNameCheck") && Ko(b.tagNameCheck) && (V.tagNameCheck = b.tagNameCheck), Ve(b, "attributeNameCheck") && Ko(b.attributeNameCheck) && (V.attributeNameCheck = b.attributeNameCheck), Ve(b, "allowCustomizedBuiltInElements") && typeof b.allowCustomizedBuiltInElements == "boolean" && (V.allowCustomizedBuiltInElements = b.allowCustomizedBuiltInElements), Me(V), Ae && (ge = !1), gn && (Nt = !0), Ln && ((Ve(f, "ALLOWED_TAGS") || Ve(f, "ALLOWED_ATTR")) && typeof console < "u" && typeof console.warn == "function" && console.warn("DOMPurify: USE_PROFILES overrides ALLOWED_TAGS and ALLOWED_ATTR. Do not use these options together."), M = _e({}, mc), N = en(null), Ln.html === !0 && (_e(M, gc), _e(N, _c)), Ln.svg === !0 && (_e(M, Os), _e(N, Ls), _e(N, li)), Ln.svgFilters === !0 && (_e(M, Ns), _e(N, Ls), _e(N, li)), Ln.mathMl === !0 && (_e(M, Ms), _e(N, bc), _e(N, li))), te.tagCheck = null, te.attributeCheck = null, Ve(f, "ADD_TAGS") && (typeof f.ADD_TAGS == "function" ? te.tagCheck = f.ADD_TAGS : Yn(f.ADD_TAGS) && (M === $ && (M = br(M)), _e(M, f.ADD_TAGS, Ie))), Ve(f, "ADD_ATTR") && (typeof f.ADD_ATTR == "function" ? te.attributeCheck = f.ADD_ATTR : Yn(f.ADD_ATTR) && (N === T && (N = br(N)), _e(N, f.ADD_ATTR, Ie))), Ve(f, "ADD_FORBID_CONTENTS") && Yn(f.ADD_FORBID_CONTENTS) && (_n === Wo && (_n = br(_n)), _e(_n, f.ADD_FORBID_CONTENTS, Ie)), qi && (M["#text"] = !0), je && _e(M, [
      "html",
      "head",
      "body"
    ]), M.table && (M.tbody = !0, delete U.tbody), f.TRUSTED_TYPES_POLICY) {
      if (typeof f.TRUSTED_TYPES_POLICY.createHTML != "function") throw jt('TRUSTED_TYPES_POLICY configuration option must provide a "createHTML" hook.');
      if (typeof f.TRUSTED_TYPES_POLICY.createScriptURL != "function") throw jt('TRUSTED_TYPES_POLICY configuration option must provide a "createScriptURL" hook.');
      const E = ne;
      ne = f.TRUSTED_TYPES_POLICY;
      try {
        fe = W("");
      } catch (L) {
        throw ne = E, L;
      }
    } else f.TRUSTED_TYPES_POLICY === null ? (ne = void 0, fe = "") : (ne === void 0 && (ne = C()), ne && typeof fe == "string" && (fe = W("")));
    Gr = Ue(f);
  }, Yo = _e({}, [
    ...Os,
    ...Ns,
    ...vg
  ]), Xo = _e({}, [...Ms, ...Rg]), rf = function(f, b, E) {
    return b === kt ? f === "svg" : b === Hr ? f === "svg" && (E === "annotation-xml" || Gi[E]) : !!Yo[f];
  }, sf = function(f, b, E) {
    return b === kt ? f === "math" : b === Vr ? f === "math" && Ki[E] : !!Xo[f];
  }, of = function(f, b, E) {
    return b === Vr && !Ki[E] || b === Hr && !Gi[E] ? !1 : !Xo[f] && (Qu[f] || !Yo[f]);
  }, lf = function(f) {
    const b = ae(f), E = vn(ee(f)), L = D(f);
    let Z = Pn, re = "template";
    return L && B(L) === Oe.element && (Z = ae(L), re = vn(ee(L))), Go[b] ? b === Vr ? rf(E, Z, re) : b === Hr ? sf(E, Z, re) : b === kt ? of(E, Z, re) : or === "application/xhtml+xml" : !1;
  }, Gt = function(f) {
    dr(t.removed, { element: f });
    try {
      D(f).removeChild(f);
    } catch {
      if (g(f), !D(f)) throw jt("a node selected for removal could not be detached from its tree and cannot be safely returned; refusing to sanitize in place");
    }
  }, Zo = function(f, b, E) {
    try {
      p(f, b);
    } catch {
      try {
        f.removeAttribute(E);
      } catch {
      }
    }
  }, Xi = function(f) {
    es(f);
    const b = v(f);
    b && Pt(hg(b), (E) => {
      try {
        g(E);
      } catch {
      }
    }), B(f) === Oe.element && Zi(f, !1);
  }, jn = function(f, b, E) {
    if (!E) try {
      E = b.getAttributeNode(f);
    } catch {
      E = null;
    }
    if (dr(t.removed, {
      attribute: E || null,
      from: b
    }), E) Zo(b, E, f);
    else try {
      b.removeAttribute(f);
    } catch {
    }
    if (f === "is")
      if (Nt || gn) try {
        Gt(b);
      } catch {
      }
      else try {
        b.setAttribute(f, "");
      } catch {
      }
  }, Zi = function(f, b) {
    const E = w(f);
    if (E)
      for (let L = E.length - 1; L >= 0; --L) {
        const Z = E[L], re = Z && Z.name;
        typeof re == "string" && !(b && N[Ie(re)]) && Zo(f, Z, re);
      }
  }, Qi = function(f, b) {
    let E = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : !1;
    const L = [f];
    for (; L.length > 0; ) {
      const Z = L.pop();
      if (b(Z) === !1) continue;
      if (E && B(Z) === Oe.element) {
        const ue = k(Z);
        Bn(ue) && L.push(ue);
      }
      const re = v(Z);
      if (re) for (let ue = re.length - 1; ue >= 0; --ue) L.push(re[ue]);
    }
  }, es = function(f) {
    Qi(f, (b) => {
      B(b) === Oe.element && Zi(b, !0);
    });
  }, ts = function(f) {
    const b = [];
    return Qi(f, (E) => {
      b.push(E);
    }, !0), b;
  }, cf = function(f, b) {
    const E = Ss();
    Pt(ts(f), (L) => {
      B(L) === Oe.element && Ts(E, L);
    }), Pt(b, (L) => {
      B(L) === Oe.element && !hr(E, L) && Zi(L, !0);
    });
  }, Qo = function(f, b) {
    let E = !1;
    return Pt(t.removed, (L) => {
      L.element && (E = E || L.element === f, es(L.element));
    }), cf(f, b), E;
  }, af = 8, uf = function(f, b) {
    const E = mn;
    let L = null;
    const Z = () => (L || (L = Ss(), Pt(b, (re) => {
      Ts(L, re);
    })), L);
    for (let re = 0; ; re++) {
      const ue = ts(f), Pe = [f];
      let Mt = !1;
      if (Pt(ue, (pt) => {
        B(pt) === Oe.documentFragment ? dr(Pe, pt) : !Mt && !hr(E, pt) && (Mt = hr(Z(), pt));
      }), !Mt) return;
      if (re >= af) throw jt("the tree kept changing during in-place sanitization; refusing to return it");
      Pt(Pe, (pt, st) => {
        ff(pt, st > 0, f, Z());
      });
    }
  }, ff = function(f, b, E, L) {
    const Z = Kr(f);
    let re;
    for (; re = Z.nextNode(); )
      !hr(L, re) || hr(mn, re) || (b && ht(xe.uponSanitizeShadowNode, re, null), ss(re, E));
  }, df = function(f) {
    mn && Ts(mn, f);
  }, el = function(f, b) {
    return Le ? f === "patchsrc" ? !0 : f === "for" && b !== "label" && b !== "output" : !1;
  }, hf = function(f) {
    Le && Qi(f, (b) => {
      const E = B(b);
      if (E === Oe.processingInstruction || E === Oe.comment && $e(wc, b.data)) {
        try {
          g(b);
        } catch {
        }
        return !1;
      }
      if (E === Oe.element) {
        const L = b, Z = Ie(ee(b));
        try {
          L.hasAttribute && L.hasAttribute("patchsrc") && L.removeAttribute("patchsrc"), L.hasAttribute && L.hasAttribute("for") && el("for", Z) && L.removeAttribute("for");
        } catch {
        }
      }
      return !0;
    });
  }, tl = function(f) {
    let b = null, E = null;
    if (et) f = "<remove></remove>" + f;
    else {
      const re = gg(f, jg);
      E = re && re[0];
    }
    or === "application/xhtml+xml" && Pn === kt && (f = '<html xmlns="http://www.w3.org/1999/xhtml"><head></head><body>' + f + "</body></html>");
    const L = ne ? W(f) : f;
    if (Pn === kt) try {
      b = new a().parseFromString(L, or);
    } catch {
    }
    if (!b || !b.documentElement) {
      b = H.createDocument(Pn, "template", null);
      try {
        b.documentElement.innerHTML = Vi ? fe : L;
      } catch {
      }
    }
    const Z = b.body || b.documentElement;
    return f && E && Z.insertBefore(n.createTextNode(E), Z.childNodes[0] || null), Pn === kt ? sr.call(b, je ? "html" : "body")[0] : je ? b.documentElement : Z;
  }, Kr = function(f) {
    let b = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : !1;
    const E = z ? z(f) : f.ownerDocument;
    return Ke.call(E || f, f, (b ? 0 : c.SHOW_ELEMENT) | c.SHOW_COMMENT | c.SHOW_TEXT | c.SHOW_PROCESSING_INSTRUCTION | c.SHOW_CDATA_SECTION, null);
  }, ns = function(f) {
    return f = oi(f, qr, " "), f = oi(f, hn, " "), f = oi(f, Bo, " "), f;
  }, rs = function(f) {
    var b;
    is(f);
    const E = (b = f.querySelectorAll) === null || b === void 0 ? void 0 : b.call(f, "template");
    E && Pt(E, (L) => {
      Bn(L.content) && rs(L.content);
    });
  }, is = function(f) {
    f.normalize();
    const b = Kr(f, !0);
    let E = b.nextNode();
    for (; E; )
      E.data = ns(E.data), E = b.nextNode();
  }, Yr = function(f) {
    const b = F ? F(f) : null;
    return typeof b != "string" || Ie(b) !== "form" ? !1 : typeof f.nodeName != "string" || typeof f.textContent != "string" || typeof f.removeChild != "function" || f.attributes !== w(f) || typeof f.removeAttribute != "function" || typeof f.removeAttributeNode != "function" || typeof f.getAttributeNode != "function" || typeof f.setAttribute != "function" || typeof f.namespaceURI != "string" || typeof f.insertBefore != "function" || typeof f.hasChildNodes != "function" || f.nodeType !== y(f) || f.childNodes !== v(f);
  }, nl = function(f) {
    if (!y || typeof f != "object" || f === null) return null;
    try {
      const b = y(f);
      return typeof b == "number" ? b : null;
    } catch {
      return null;
    }
  }, Bn = function(f) {
    return nl(f) === Oe.documentFragment;
  }, lr = function(f) {
    return nl(f) !== null;
  };
  function ht(O, f, b) {
    O.length !== 0 && Pt(O, (E) => {
      E.call(t, f, b, Gr);
    });
  }
  const pf = function(f, b, E) {
    return !!(Le && E === Oe.element && f.hasChildNodes() && !lr(f.firstElementChild) && $e(Ps, f.textContent) && $e(Ps, f.innerHTML) || Le && Bg[b] && E === Oe.element && ae(f) === kt && (lr(f.firstElementChild) || typeof f.textContent == "string" && $e(Ps, f.textContent)) || E === Oe.processingInstruction || Le && E === Oe.comment && $e(wc, f.data));
  }, Xr = function(f, b) {
    if (f instanceof RegExp) return $e(f, b);
    if (f instanceof Function) {
      for (var E = arguments.length, L = new Array(E > 2 ? E - 2 : 0), Z = 2; Z < E; Z++) L[Z - 2] = arguments[Z];
      return !!f(b, ...L);
    }
    return !1;
  }, gf = function(f, b, E) {
    if (!U[b] && sl(b) && Xr(V.tagNameCheck, b)) return !1;
    if (qi && !_n[b] && !_n[vn(b)]) {
      const L = D(f), Z = v(f);
      if (Z && L) {
        const re = Z.length;
        for (let ue = re - 1; ue >= 0; --ue) {
          const Pe = f === E ? m(Z[ue], !0) : Z[ue];
          L.insertBefore(Pe, x(f));
        }
      }
    }
    return Gt(f), !0;
  }, rl = function(f, b, E, L) {
    return f.length === 0 ? b : b === E || b === L ? br(b) : b;
  }, $n = function(f, b) {
    return f === b || D(f) !== null ? !1 : (Hi && es(f), !0);
  }, mf = function(f, b) {
    if (df(f), ht(xe.beforeSanitizeElements, f, null), $n(f, b)) return !0;
    if (Yr(f))
      return Gt(f), !0;
    const E = Ie(ee(f)), L = B(f);
    if (M = rl(xe.uponSanitizeElement, M, $, pn), ht(xe.uponSanitizeElement, f, {
      tagName: E,
      allowedTags: M
    }), $n(f, b)) return !0;
    if (pf(f, E, L))
      return Gt(f), !0;
    if (U[E] || !(te.tagCheck instanceof Function && te.tagCheck(E)) && !M[E]) {
      const Z = gf(f, E, b);
      return Z === !1 && (ht(xe.afterSanitizeElements, f, null), $n(f, b)) ? !0 : Z;
    }
    if (L === Oe.element && !lf(f) || (E === "noscript" || E === "noembed" || E === "noframes") && $e(Lg, f.innerHTML))
      return Gt(f), !0;
    if (Ae && L === Oe.text) {
      const Z = f.textContent, re = ns(Z);
      Z !== re && (dr(t.removed, { element: f.cloneNode() }), f.textContent = re);
    }
    return ht(xe.afterSanitizeElements, f, null), $n(f, b);
  }, il = function(f, b, E) {
    if (X[b] || el(b, f) || $o && (b === "id" || b === "name") && (E in n || E in nf)) return !1;
    const L = N[b] || te.attributeCheck instanceof Function && te.attributeCheck(b, f);
    if (ge && $e(h, b) || de && $e(_, b)) return !0;
    if (!L) return sl(f) && Xr(V.tagNameCheck, f) && Xr(V.attributeNameCheck, b, f) || b === "is" && V.allowCustomizedBuiltInElements && Xr(V.tagNameCheck, E);
    if (Ho[b]) return !0;
    const Z = oi(E, P, "");
    return $e(I, Z) || (b === "src" || b === "xlink:href" || b === "href") && f !== "script" && Is(E, "data:") === 0 && Jo[f] || me && !$e(A, Z) ? !0 : !E;
  }, _f = _e({}, [
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-format",
    "font-face-name",
    "font-face-src",
    "font-face-uri",
    "missing-glyph"
  ]), sl = function(f) {
    return !_f[vn(f)] && $e(S, f);
  }, bf = function(f, b, E, L) {
    if (ne && typeof u == "object" && typeof u.getAttributeType == "function" && !E) switch (u.getAttributeType(f, b)) {
      case "TrustedHTML":
        return W(L);
      case "TrustedScriptURL":
        return j(L);
    }
    return L;
  }, yf = function(f, b, E, L) {
    try {
      return E ? f.setAttributeNS(E, b, L) : f.setAttribute(b, L), Yr(f) ? (Gt(f), !1) : !0;
    } catch {
      return jn(b, f), !1;
    }
  }, ol = function(f, b) {
    return Le && $e(Pg, b) ? !0 : vn(f) === "attributename" && Is(b, "href") !== -1;
  }, wf = function(f, b) {
    if (ht(xe.beforeSanitizeAttributes, f, null), $n(f, b)) return;
    const E = f.attributes;
    if (!E || Yr(f)) return;
    N = rl(xe.uponSanitizeAttribute, N, T, Be);
    const L = {
      attrName: "",
      attrValue: "",
      keepAttr: !0,
      allowedAttributes: N,
      forceKeepAttr: void 0
    };
    let Z = E.length;
    const re = Ie(ee(f));
    for (; Z--; ) {
      const ue = E[Z], Pe = ue.name, Mt = ue.namespaceURI, pt = ue.value, st = Ie(Pe), xt = pt;
      let We = Pe === "value" ? xt : mg(xt), ll = !1;
      if (L.attrName = st, L.attrValue = We, L.keepAttr = !0, L.forceKeepAttr = void 0, ht(xe.uponSanitizeAttribute, f, L), We = L.attrValue, zo && (st === "id" || st === "name") && Is(We, Uo) !== 0 && (jn(Pe, f, ue), We = Uo + We, ll = !0), ol(Pe, We)) {
        jn(Pe, f, ue);
        continue;
      }
      if (!L.forceKeepAttr) {
        if (!L.keepAttr) {
          jn(Pe, f, ue);
          continue;
        }
        if (!De && $e(kc, We)) {
          jn(Pe, f, ue);
          continue;
        }
        if (Ae && (We = ns(We)), !il(re, st, We)) {
          jn(Pe, f, ue);
          continue;
        }
        We = bf(re, st, Mt, We), We !== xt && yf(f, Pe, Mt, We) && ll && dc(t.removed);
      }
    }
    ht(xe.afterSanitizeAttributes, f, null), $n(f, b);
  }, ss = function(f, b) {
    mf(f, b), wf(f, b), Bn(f.content) && os(f.content);
  }, os = function(f) {
    let b = null;
    const E = Kr(f);
    for (ht(xe.beforeSanitizeShadowDOM, f, null); b = E.nextNode(); )
      if (ht(xe.uponSanitizeShadowNode, b, null), ss(b, f), B(b) === Oe.element) {
        const L = k(b);
        Bn(L) && (ls(L), os(L));
      }
    Ae && is(f), ht(xe.afterSanitizeShadowDOM, f, null);
  }, ls = function(f) {
    const b = [{
      node: f,
      shadow: null
    }];
    for (; b.length > 0; ) {
      const E = b.pop();
      if (E.shadow) {
        os(E.shadow);
        continue;
      }
      const L = E.node, Z = B(L) === Oe.element, re = v(L);
      if (re) for (let ue = re.length - 1; ue >= 0; --ue) b.push({
        node: re[ue],
        shadow: null
      });
      if (Z) {
        const ue = F ? F(L) : null;
        if (typeof ue == "string" && Ie(ue) === "template") {
          const Pe = L.content;
          Bn(Pe) && b.push({
            node: Pe,
            shadow: null
          });
        }
      }
      if (Z) {
        const ue = k(L);
        Bn(ue) && b.push({
          node: null,
          shadow: ue
        }, {
          node: ue,
          shadow: null
        });
      }
    }
  };
  return t.sanitize = function(O) {
    let f = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : {}, b = null, E = null, L = null, Z = null;
    if (Vi = !O, Vi && (O = "<!-->"), typeof O != "string" && !lr(O) && (O = kg(O), typeof O != "string"))
      throw jt("dirty is not a string, aborting");
    if (!t.isSupported) return O;
    it ? (M = pn, N = Be) : Yi(f), t.removed = [];
    const re = Hi && typeof O != "string" && lr(O);
    let ue = [];
    const Pe = mn;
    if (re) {
      hf(O);
      const xt = ee(O);
      if (typeof xt == "string") {
        const We = Ie(xt);
        if (!M[We] || U[We])
          throw Xi(O), jt("root node is forbidden and cannot be sanitized in-place");
      }
      if (Yr(O))
        throw Xi(O), jt("root node is clobbered and cannot be sanitized in-place");
      ue = ts(O), mn = Ss();
    } else if (lr(O))
      b = tl("<!---->"), E = b.ownerDocument.importNode(O, !0), E.nodeType === Oe.element && E.nodeName === "BODY" || E.nodeName === "HTML" ? b = E : b.appendChild(E), ls(b);
    else {
      if (!Nt && !Ae && !je && O.indexOf("<") === -1) return ie(O);
      if (b = tl(O), !b) return Nt ? null : Ji ? fe : "";
    }
    b && et && Gt(b.firstChild);
    const Mt = re ? O : b;
    try {
      re && ls(O);
      const xt = Kr(Mt);
      for (; L = xt.nextNode(); ) ss(L, Mt);
      re && uf(O, ue);
    } catch (xt) {
      throw re && (Xi(O), Qo(O, ue)), xt;
    } finally {
      mn = Pe;
    }
    if (re) {
      if (Qo(O, ue)) throw jt("a node selected for removal could not be safely returned; refusing to sanitize in place");
      return Ae && rs(O), O;
    }
    if (Nt) {
      if (Ae && rs(b), gn)
        for (Z = wt.call(b.ownerDocument); b.firstChild; ) Z.appendChild(b.firstChild);
      else Z = b;
      return (N.shadowroot || N.shadowrootmode) && (Z = dn.call(r, Z, !0)), Z;
    }
    const pt = () => je ? b.outerHTML : b.innerHTML;
    let st = pt();
    return Ae && $e(Sg, st) && (is(b), st = pt()), je && M["!doctype"] && b.ownerDocument && b.ownerDocument.doctype && b.ownerDocument.doctype.name && $e(Ng, b.ownerDocument.doctype.name) && (st = "<!DOCTYPE " + b.ownerDocument.doctype.name + `>
` + st), ie(st);
  }, t.setConfig = function() {
    let O = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    Yi(O), it = !0, pn = M, Be = N;
  }, t.clearConfig = function() {
    Gr = null, it = !1, pn = null, Be = null, ne = Ce, fe = "";
  }, t.isValidAttribute = function(O, f, b) {
    Gr || Yi({});
    const E = Ie(O), L = Ie(f);
    return typeof b == "string" && (ol(f, b) || !De && $e(kc, b)) ? !1 : il(E, L, b);
  }, t.addHook = function(O, f) {
    typeof f == "function" && Ve(xe, O) && dr(xe[O], f);
  }, t.removeHook = function(O, f) {
    if (Ve(xe, O)) {
      if (f !== void 0) {
        const b = dg(xe[O], f);
        return b === -1 ? void 0 : pg(xe[O], b, 1)[0];
      }
      return dc(xe[O]);
    }
  }, t.removeHooks = function(O) {
    Ve(xe, O) && (xe[O] = []);
  }, t.removeAllHooks = function() {
    xe = xc();
  }, t;
}
var Ug = _u();
const Ac = {};
function Wg(e) {
  let t = Ac[e];
  if (t)
    return t;
  t = Ac[e] = [];
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
function rr(e, t) {
  typeof t != "string" && (t = rr.defaultChars);
  const n = Wg(t);
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
          let d = l << 18 & 1835008 | c << 12 & 258048 | a << 6 & 4032 | u & 63;
          d < 65536 || d > 1114111 ? i += "����" : (d -= 65536, i += String.fromCharCode(55296 + (d >> 10), 56320 + (d & 1023))), s += 9;
          continue;
        }
      }
      i += "�";
    }
    return i;
  });
}
rr.defaultChars = ";/?:@&=+$,#";
rr.componentChars = "";
const vc = {};
function Jg(e) {
  let t = vc[e];
  if (t)
    return t;
  t = vc[e] = [];
  for (let n = 0; n < 128; n++) {
    const r = String.fromCharCode(n);
    /^[0-9a-z]$/i.test(r) ? t.push(r) : t.push("%" + ("0" + n.toString(16).toUpperCase()).slice(-2));
  }
  for (let n = 0; n < e.length; n++)
    t[e.charCodeAt(n)] = e[n];
  return t;
}
function Wt(e, t, n) {
  typeof t != "string" && (n = t, t = Wt.defaultChars), typeof n > "u" && (n = !0);
  const r = Jg(t);
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
Wt.defaultChars = ";/?:@&=+$,-_.!~*'()#";
Wt.componentChars = "-_.!~*'()";
function fo(e) {
  let t = "";
  return t += e.protocol || "", t += e.slashes ? "//" : "", t += e.auth ? e.auth + "@" : "", e.hostname && e.hostname.indexOf(":") !== -1 ? t += "[" + e.hostname + "]" : t += e.hostname || "", t += e.port ? ":" + e.port : "", t += e.pathname || "", t += e.search || "", t += e.hash || "", t;
}
function Ti() {
  this.protocol = null, this.slashes = null, this.auth = null, this.port = null, this.hostname = null, this.hash = null, this.search = null, this.pathname = null;
}
const qg = /^([a-z0-9.+-]+:)/i, Hg = /:[0-9]*$/, Vg = /^(\/\/?(?!\/)[^\?\s]*)(\?[^\s]*)?$/, Gg = ["<", ">", '"', "`", " ", "\r", `
`, "	"], Kg = ["{", "}", "|", "\\", "^", "`"].concat(Gg), Yg = ["'"].concat(Kg), Rc = ["%", "/", "?", ";", "#"].concat(Yg), Ec = ["/", "?", "#"], Xg = 255, Cc = /^[+a-z0-9A-Z_-]{0,63}$/, Zg = /^([+a-z0-9A-Z_-]{0,63})(.*)$/, Dc = {
  javascript: !0,
  "javascript:": !0
}, Sc = {
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
function ho(e, t) {
  if (e && e instanceof Ti) return e;
  const n = new Ti();
  return n.parse(e, t), n;
}
Ti.prototype.parse = function(e, t) {
  let n, r, i, s = e;
  if (s = s.trim(), !t && e.split("#").length === 1) {
    const a = Vg.exec(s);
    if (a)
      return this.pathname = a[1], a[2] && (this.search = a[2]), this;
  }
  let o = qg.exec(s);
  if (o && (o = o[0], n = o.toLowerCase(), this.protocol = o, s = s.substr(o.length)), (t || o || s.match(/^\/\/[^@\/]+@[^@\/]+/)) && (i = s.substr(0, 2) === "//", i && !(o && Dc[o]) && (s = s.substr(2), this.slashes = !0)), !Dc[o] && (i || o && !Sc[o])) {
    let a = -1;
    for (let p = 0; p < Ec.length; p++)
      r = s.indexOf(Ec[p]), r !== -1 && (a === -1 || r < a) && (a = r);
    let u, d;
    a === -1 ? d = s.lastIndexOf("@") : d = s.lastIndexOf("@", a), d !== -1 && (u = s.slice(0, d), s = s.slice(d + 1), this.auth = u), a = -1;
    for (let p = 0; p < Rc.length; p++)
      r = s.indexOf(Rc[p]), r !== -1 && (a === -1 || r < a) && (a = r);
    a === -1 && (a = s.length), s[a - 1] === ":" && a--;
    const m = s.slice(0, a);
    s = s.slice(a), this.parseHost(m), this.hostname = this.hostname || "";
    const g = this.hostname[0] === "[" && this.hostname[this.hostname.length - 1] === "]";
    if (!g) {
      const p = this.hostname.split(/\./);
      for (let x = 0, v = p.length; x < v; x++) {
        const D = p[x];
        if (D && !D.match(Cc)) {
          let k = "";
          for (let w = 0, y = D.length; w < y; w++)
            D.charCodeAt(w) > 127 ? k += "x" : k += D[w];
          if (!k.match(Cc)) {
            const w = p.slice(0, x), y = p.slice(x + 1), F = D.match(Zg);
            F && (w.push(F[1]), y.unshift(F[2])), y.length && (s = y.join(".") + s), this.hostname = w.join(".");
            break;
          }
        }
      }
    }
    this.hostname.length > Xg && (this.hostname = ""), g && (this.hostname = this.hostname.substr(1, this.hostname.length - 2));
  }
  const l = s.indexOf("#");
  l !== -1 && (this.hash = s.substr(l), s = s.slice(0, l));
  const c = s.indexOf("?");
  return c !== -1 && (this.search = s.substr(c), s = s.slice(0, c)), s && (this.pathname = s), Sc[n] && this.hostname && !this.pathname && (this.pathname = ""), this;
};
Ti.prototype.parseHost = function(e) {
  let t = Hg.exec(e);
  t && (t = t[0], t !== ":" && (this.port = t.substr(1)), e = e.substr(0, e.length - t.length)), e && (this.hostname = e);
};
const Qg = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  decode: rr,
  encode: Wt,
  format: fo,
  parse: ho
}, Symbol.toStringTag, { value: "Module" })), bu = /[\0-\uD7FF\uE000-\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/, yu = /[\0-\x1F\x7F-\x9F]/, em = /[\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/, No = /[!-#%-\*,-\/:;\?@\[-\]_\{\}\xA1\xA7\xAB\xB6\xB7\xBB\xBF\u037E\u0387\u055A-\u055F\u0589\u058A\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0609\u060A\u060C\u060D\u061B\u061D-\u061F\u066A-\u066D\u06D4\u0700-\u070D\u07F7-\u07F9\u0830-\u083E\u085E\u0964\u0965\u0970\u09FD\u0A76\u0AF0\u0C77\u0C84\u0DF4\u0E4F\u0E5A\u0E5B\u0F04-\u0F12\u0F14\u0F3A-\u0F3D\u0F85\u0FD0-\u0FD4\u0FD9\u0FDA\u104A-\u104F\u10FB\u1360-\u1368\u1400\u166E\u169B\u169C\u16EB-\u16ED\u1735\u1736\u17D4-\u17D6\u17D8-\u17DA\u1800-\u180A\u1944\u1945\u1A1E\u1A1F\u1AA0-\u1AA6\u1AA8-\u1AAD\u1B4E\u1B4F\u1B5A-\u1B60\u1B7D-\u1B7F\u1BFC-\u1BFF\u1C3B-\u1C3F\u1C7E\u1C7F\u1CC0-\u1CC7\u1CD3\u2010-\u2027\u2030-\u2043\u2045-\u2051\u2053-\u205E\u207D\u207E\u208D\u208E\u2308-\u230B\u2329\u232A\u2768-\u2775\u27C5\u27C6\u27E6-\u27EF\u2983-\u2998\u29D8-\u29DB\u29FC\u29FD\u2CF9-\u2CFC\u2CFE\u2CFF\u2D70\u2E00-\u2E2E\u2E30-\u2E4F\u2E52-\u2E5D\u3001-\u3003\u3008-\u3011\u3014-\u301F\u3030\u303D\u30A0\u30FB\uA4FE\uA4FF\uA60D-\uA60F\uA673\uA67E\uA6F2-\uA6F7\uA874-\uA877\uA8CE\uA8CF\uA8F8-\uA8FA\uA8FC\uA92E\uA92F\uA95F\uA9C1-\uA9CD\uA9DE\uA9DF\uAA5C-\uAA5F\uAADE\uAADF\uAAF0\uAAF1\uABEB\uFD3E\uFD3F\uFE10-\uFE19\uFE30-\uFE52\uFE54-\uFE61\uFE63\uFE68\uFE6A\uFE6B\uFF01-\uFF03\uFF05-\uFF0A\uFF0C-\uFF0F\uFF1A\uFF1B\uFF1F\uFF20\uFF3B-\uFF3D\uFF3F\uFF5B\uFF5D\uFF5F-\uFF65]|\uD800[\uDD00-\uDD02\uDF9F\uDFD0]|\uD801\uDD6F|\uD802[\uDC57\uDD1F\uDD3F\uDE50-\uDE58\uDE7F\uDEF0-\uDEF6\uDF39-\uDF3F\uDF99-\uDF9C]|\uD803[\uDD6E\uDEAD\uDED0\uDF55-\uDF59\uDF86-\uDF89]|\uD804[\uDC47-\uDC4D\uDCBB\uDCBC\uDCBE-\uDCC1\uDD40-\uDD43\uDD74\uDD75\uDDC5-\uDDC8\uDDCD\uDDDB\uDDDD-\uDDDF\uDE38-\uDE3D\uDEA9\uDFD4\uDFD5\uDFD7\uDFD8]|\uD805[\uDC4B-\uDC4F\uDC5A\uDC5B\uDC5D\uDCC6\uDDC1-\uDDD7\uDE41-\uDE43\uDE60-\uDE6C\uDEB9\uDF3C-\uDF3E]|\uD806[\uDC3B\uDD44-\uDD46\uDDE2\uDE3F-\uDE46\uDE9A-\uDE9C\uDE9E-\uDEA2\uDF00-\uDF09\uDFE1]|\uD807[\uDC41-\uDC45\uDC70\uDC71\uDEF7\uDEF8\uDF43-\uDF4F\uDFFF]|\uD809[\uDC70-\uDC74]|\uD80B[\uDFF1\uDFF2]|\uD81A[\uDE6E\uDE6F\uDEF5\uDF37-\uDF3B\uDF44]|\uD81B[\uDD6D-\uDD6F\uDE97-\uDE9A\uDFE2]|\uD82F\uDC9F|\uD836[\uDE87-\uDE8B]|\uD839\uDDFF|\uD83A[\uDD5E\uDD5F]/, wu = /[\$\+<->\^`\|~\xA2-\xA6\xA8\xA9\xAC\xAE-\xB1\xB4\xB8\xD7\xF7\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02EB\u02ED\u02EF-\u02FF\u0375\u0384\u0385\u03F6\u0482\u058D-\u058F\u0606-\u0608\u060B\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6\u07FE\u07FF\u0888\u09F2\u09F3\u09FA\u09FB\u0AF1\u0B70\u0BF3-\u0BFA\u0C7F\u0D4F\u0D79\u0E3F\u0F01-\u0F03\u0F13\u0F15-\u0F17\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8\u109E\u109F\u1390-\u1399\u166D\u17DB\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u1FBD\u1FBF-\u1FC1\u1FCD-\u1FCF\u1FDD-\u1FDF\u1FED-\u1FEF\u1FFD\u1FFE\u2044\u2052\u207A-\u207C\u208A-\u208C\u20A0-\u20C1\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u2140-\u2144\u214A-\u214D\u214F\u218A\u218B\u2190-\u2307\u230C-\u2328\u232B-\u2429\u2440-\u244A\u249C-\u24E9\u2500-\u2767\u2794-\u27C4\u27C7-\u27E5\u27F0-\u2982\u2999-\u29D7\u29DC-\u29FB\u29FE-\u2B73\u2B76-\u2BFF\u2CE5-\u2CEA\u2E50\u2E51\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u2FF0-\u2FFF\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u309B\u309C\u3190\u3191\u3196-\u319F\u31C0-\u31E5\u31EF\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0\u32C0-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA700-\uA716\uA720\uA721\uA789\uA78A\uA828-\uA82B\uA836-\uA839\uAA77-\uAA79\uAB5B\uAB6A\uAB6B\uFB29\uFBB2-\uFBD2\uFD40-\uFD4F\uFD90\uFD91\uFDC8-\uFDCF\uFDFC-\uFDFF\uFE62\uFE64-\uFE66\uFE69\uFF04\uFF0B\uFF1C-\uFF1E\uFF3E\uFF40\uFF5C\uFF5E\uFFE0-\uFFE6\uFFE8-\uFFEE\uFFFC\uFFFD]|\uD800[\uDD37-\uDD3F\uDD79-\uDD89\uDD8C-\uDD8E\uDD90-\uDD9C\uDDA0\uDDD0-\uDDFC]|\uD802[\uDC77\uDC78\uDEC8]|\uD803[\uDD8E\uDD8F\uDED1-\uDED8]|\uD805\uDF3F|\uD807[\uDFD5-\uDFF1]|\uD81A[\uDF3C-\uDF3F\uDF45]|\uD82F\uDC9C|\uD833[\uDC00-\uDCEF\uDCFA-\uDCFC\uDD00-\uDEB3\uDEBA-\uDED0\uDEE0-\uDEF0\uDF50-\uDFC3]|\uD834[\uDC00-\uDCF5\uDD00-\uDD26\uDD29-\uDD64\uDD6A-\uDD6C\uDD83\uDD84\uDD8C-\uDDA9\uDDAE-\uDDEA\uDE00-\uDE41\uDE45\uDF00-\uDF56]|\uD835[\uDEC1\uDEDB\uDEFB\uDF15\uDF35\uDF4F\uDF6F\uDF89\uDFA9\uDFC3]|\uD836[\uDC00-\uDDFF\uDE37-\uDE3A\uDE6D-\uDE74\uDE76-\uDE83\uDE85\uDE86]|\uD838[\uDD4F\uDEFF]|\uD83B[\uDCAC\uDCB0\uDD2E\uDEF0\uDEF1]|\uD83C[\uDC00-\uDC2B\uDC30-\uDC93\uDCA0-\uDCAE\uDCB1-\uDCBF\uDCC1-\uDCCF\uDCD1-\uDCF5\uDD0D-\uDDAD\uDDE6-\uDE02\uDE10-\uDE3B\uDE40-\uDE48\uDE50\uDE51\uDE60-\uDE65\uDF00-\uDFFF]|\uD83D[\uDC00-\uDED8\uDEDC-\uDEEC\uDEF0-\uDEFC\uDF00-\uDFD9\uDFE0-\uDFEB\uDFF0]|\uD83E[\uDC00-\uDC0B\uDC10-\uDC47\uDC50-\uDC59\uDC60-\uDC87\uDC90-\uDCAD\uDCB0-\uDCBB\uDCC0\uDCC1\uDCD0-\uDCD8\uDD00-\uDE57\uDE60-\uDE6D\uDE70-\uDE7C\uDE80-\uDE8A\uDE8E-\uDEC6\uDEC8\uDECD-\uDEDC\uDEDF-\uDEEA\uDEEF-\uDEF8\uDF00-\uDF92\uDF94-\uDFEF\uDFFA]/, ku = /[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/, tm = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  Any: bu,
  Cc: yu,
  Cf: em,
  P: No,
  S: wu,
  Z: ku
}, Symbol.toStringTag, { value: "Module" })), nm = [
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
function rm(e) {
  return e === 0 || e >= 55296 && e <= 57343 || e > 1114111;
}
function im(e) {
  return rm(e) ? 65533 : e >= 128 && e <= 159 && nm[e - 128] || e;
}
function sm(e) {
  return e - 1 >>> 0 < 127 || e - 160 >>> 0 < 55136 ? String.fromCharCode(e) : String.fromCodePoint(im(e));
}
const gt = /* @__PURE__ */ (() => {
  const e = new Uint8Array(127);
  let t = 0;
  for (let n = 33; n <= 126; n++)
    n !== 34 && n !== 36 && n !== 92 && (e[n] = t++);
  return e;
})();
function om(e, t, n, r, i, s) {
  const l = e.length, c = s * 90;
  let a = 0;
  const u = () => {
    const Q = gt[e.charCodeAt(a++)];
    return Q < s ? Q : Q * 91 - c + gt[e.charCodeAt(a++)];
  }, d = n - r, m = n + i, g = new Int32Array(m);
  g.fill(-1, r, s), g.fill(-1, s + d, m);
  const p = new Int32Array(m), x = new Int32Array(m);
  function v(Q, ae) {
    let ne = 0, fe = ae;
    const Ce = ae + Q;
    for (; fe < Ce; ) {
      const ye = gt[e.charCodeAt(a++)];
      if (ye < 89)
        ne += ye, g[fe++] = ne;
      else if (ye === 89) {
        let ke = gt[e.charCodeAt(a++)] + 2;
        for (; ke--; )
          g[fe++] = ++ne;
      } else {
        const ke = gt[e.charCodeAt(a++)];
        ne += 89 + // eslint-disable-next-line unicorn/prefer-minimal-ternary -- branches read a different number of side-effecting input bytes
        (ke < 90 ? ke * 91 + gt[e.charCodeAt(a++)] : gt[e.charCodeAt(a++)] * 8281 + gt[e.charCodeAt(a++)] * 91 + gt[e.charCodeAt(a++)]), g[fe++] = ne;
      }
    }
  }
  v(r, 0), v(d, s);
  const D = new Int32Array(i * 2);
  let k = 0, w = 0;
  function y(Q, ae) {
    for (let ne = 0; ne < Q; ne++) {
      const fe = ae + ne, Ce = u(), ye = u();
      D[w * 2] = Ce, D[w * 2 + 1] = ye, w += 1, p[fe] = k;
      const ke = (g[Ce] < 0 ? x[Ce] : 1) + (g[ye] < 0 ? x[ye] : 1);
      x[fe] = ke, k += ke;
    }
  }
  y(i - s + r, s + d), y(s - r, r);
  const F = new Uint16Array(k);
  let z = 0;
  for (let Q = 0; Q < w; Q++)
    for (let ae = 0; ae < 2; ae++) {
      const ne = D[Q * 2 + ae], fe = g[ne];
      if (fe < 0) {
        let Ce = p[ne];
        const ye = Ce + x[ne];
        for (; Ce < ye; )
          F[z++] = F[Ce++];
      } else
        F[z++] = fe;
    }
  const B = new Uint16Array(t);
  let ee = 0;
  for (; a < l; ) {
    let Q = gt[e.charCodeAt(a++)];
    Q >= s && (Q = Q * 91 - c + gt[e.charCodeAt(a++)]);
    const ae = g[Q];
    if (ae < 0) {
      let ne = p[Q];
      const fe = ne + x[Q];
      for (; ne < fe; )
        B[ee++] = F[ne++];
    } else
      B[ee++] = ae;
  }
  return B;
}
const lm = /* @__PURE__ */ om("!}.&u%}'&}*'~!6*)%&,~!J~!J~%L~y<~!R,~~%Lu~~#GD~~#|)1#%}^%}2%+#.##%##%}&%##%'#%##&%#%#'%#&#%#&#'#%%#&#%##%#)%''%&%#%#'%#%%#%%}%%%#%#&(23#%%#&-%0%('1#(##%#'##+%'*.:1}#%#6-+(%'%%#%%%}#L'2351&('%}&/N'(0(/*-%(%%}#'+&T%7.2}#&%&#%#36/5##%&%%#&#%%#))2%%##%&&'0~!#*+&'%1~!%).'3q?&%'1~!.##%6(~!+%%%(Gw'rT~!E#<nA%#jZ~!H%(~!42##~!*31&~!G%U~#)5~#`3~!J~!Z~%]~%Y~%C~!q~!u~#kz~%#~!6'~!D~!U~!?~#T~!c%~!G#'~%7|~!G~!J~!G&~#pb~(Df}#%}*&}#%##%##%##&#-}&'#'&%#.++}%mI,#,@&(}*%}*'%&##&#%##%}&0}#.},U},%}+%}&%}#%##&}B%(}(%}+%)})%##%#&}&%##%&}<%}>%#%&}*%}(%}9%}/%})%}*%}*%}?&}&%}3%}&*#%})%#%#)}#&#-#+*%E%%'%'#%}#*V##&##I}#&&##%&%#&&Qf%%))w/0+&%#(#.%-''''++++7}>%4'',##1,#%#&%##&#'##&#*#9)%&%}#*}%,#+P(%A&%#'&##wSD',9E00#y#@}(+}&%&>~!#~!X}#*}(&&}(&}(,%}%&#+&}#&}I%#%}%)#(},'%#*}4%%#%}(''}#/##(##),%-##%%)#&}(.}&%#&}%%}*&#%},&&}&%}#%*'#%})%}D&}&%}-&}6&#&}-,%}#%})-(~+`~,=?~I9'9%~!,#%})%})%}@%}?%}(~!?~#<~#pP~#BG~#=1#%K+~#?#~%;)~#A~#mF1~#A'~'X%'~#lR~#N~'N~#r~#m#-~#i'?%#'%~#B%##%,%#~#_%#0%~#]732~,w~2+#:&#%&'0%&>%}#>##F+)#%&&#(+_}4&}-%}(&}@&}O7Fdf0@+/v4}&WU##&/0#&'('B#%}.%}'+#%}#%%&#&%#%##+#&#)#6#'#.},%}c%},%#%##%&#&%#&~#>'*-.%##%##%}#%%}%'~#)D1}#%*&~#_%%'(~#S2%'.}#~#=##*'*-%}&'%'##&&~'E%.#&~#M4}%%##&'%#~#O1##%&#'+~#<B%##%%'%+~#;#@%}#&%#&&%#(~#H1}'%'##&&~#?A}&'~#D#%32}'&&&&~#[}'(#%}'~#;C})&}%%#%~#=&%,3}%'(#%%~#^'#&&)#%'~#Y%-~#d-%'~#^%%&#&&&}#~#b~2t*&'~&(~&@~0%~e~3}%*''0})&}+~!9##-}#%-hD*)1fC#%/&/fB#40~!+#)*4~!+~!K'&:~!/*7~!.#~!H~!L':~%x&~!H#~!*~%1~!I#~!+A~#p'~!F~~#-#~,,(~.Z~!V~%;'B'mq-W~!N~%I%#&&#&}#%},%%}'%}+X#%}#&}(%}'%}<%}#%}%%'}'%}:~![)9@~%>~#UA%-%##&~!C%~!-.9:~!1~!-^2/:a~!y,D*J#-5)/4~%23,~#G~!L1~!0X3`~!2+~!!0-~&E~!W~!o,>Y&]~%cZx_&~#O*9#A#'#+I'%#)~!0B*-5A+-((F&*M#)(-7-5+'-3a5Vi~!Y~!?+[)%3),ERHm~!+:D,VG.+)?fB%%*(%)'(#&80%1'8`K8?`+'Z#&O&'H5#*9)A%%5&3))0%39+.*7#()&&*=4@**L)<'_&*+..;(#*+)./&0#3)%')-8(4ixD(&.}%,('aI:,)%,k2231T)I'#/-W7,/'Q#.'Y24+h')37</31&83##&0#),H(?'&?/1##%#&&#%''-%&&&#(&''&#.-'%#%%(,')*'&#&#'##%(%(#%('#&##%%%%('%#%#%%#%#&%##h>w+v<ayvyvcg.uuhKr}g/v|g>u9i[~>g5uI~=RvdwEg;v/g;uk!!TTSx]@RT!U!#!@VBRUU!'UTe-d0c`e&gSdicedFcrdTaqb.kYcAohdYd@a3e+d}dMdtd.aJ#bqcK`dle/e.e'dwdPdodddjbEb}ogd^ofdpduc6j?l%d{drdqc)d7bacOdQ%T#Y)X.sR[yH>6Vyv3[xwLu>vo'!*.[yBacahoj>6Rew3[xqdZa#!a&#^(X-[yG>6Vyu3[xvg3sEr|g.u/Ri9db0T#^(Xa)!-[y;>6Vylg4wKs{JwNZt3@3r=c4Z([xlg;wKt!cpq's@v7A'*a(a+!-a#[y<3Dt?3Dt'>6Vym3[xmg9rxsNJwLZt4~?r?db1T#`-!(Xa,!0[yS>6Vz%NuQs.g4wKtnJwNZtS@3r>c4Z([y%g;wKtrdga8!a(!#&T*Y-Xa#!a0<or[yc3Dtq>6Vz43[y3JwNZtf@3s!Ju}!%Dti:pm3c_%X#tjB5pkd6q!r]u?voC'*-a.a2!0a&a+[yI3DtI3Ds~3DtH>6Vyw3[xx;:s#~<5pKJwNZtE@3r~d`a)!a2T#a.(!+U.X1[yT3Dt`3Dtv>6Vz&3[y&g9rxwzcxstPu.<rAJwLZtT~?r@dZa%!a.&^*Za(/Reu[ya>6Vz23[y1g3sEr}wkg{NuQRg{ci(U#5@b`~,cg#U(2WnH5wugcRh7dX#T(Y,a'Ta!!a,[yZ<]mj>6Vz,3[y+Pv#5ReZKu+=,%!H}7ABwkaS?Rh:BcW(X#<]mrj:ubv/ARekdg%!(!a.*Ta(Y.X1!#sP>Rl*Dt6[y>>6Vyo3Wf*jOvuumvuRgRJuq*!:9<B@bX~3jVv&v@s@5Re[d/rQt{uAvo&a&a*)a2!,0Wf!3Dt0=Bs'>6Re}3[xy~<5s%JwJZt1~Gs)c;&!#2sJkNuXvzq7rxu,Re8dka4!a8(aEZ+a@Y.X1Xa)[yd=Bs(3DtP>6Vz53[y4cX#X&Re:avRe9~<5s&JwJZtQ~Gs*i^rzvdRg+Jv{%!2sbB@bX}kdga,!Za?&^*T1/!a'Dt+[y6>6Vyf3Wf%g/u;s4hGu6?Rh-JvZ,!c%#&RoX54Rivj7uyvf8RgTKvZB%*!2sGh<vu5Rgq<=C::9bb~#dZ#T&Ta6Y.X*Dt>[y93Wf)coZ(T,6VyifluvRgC@95@B@bX~/hFu34cC#T,k/unq8w8Q5RkUklwQuzunq8w8Q5Rk8d/rJu?v8w9)-&!a0a;a&aIWejg3sEr/h1s<DtDJvyZqY5aws3Jvy!&Wei~Hr1:au5@Bag>23E~5c:Z&bX};kKv?w&unuVu5Rjc;>bs)#~@:Rh.=ay<a]C;b`}Vd6s/t{uAvoaxa()!a,a7%-a#a2Dt,[yF2Wo[>6Vyt3[xuNuPRi&NuPwpi#RoWh?vf8Ri%Jv]!%Ri:KvxD!.'2WeAjZu`q9rxu,Re7woeAg-unLq(qA_/*2Wg_g3u5q^9:4E}/jTrxrzv=Wkkd~0UX#^^Xa-a1a5T&a=U1a'*aEa]!a*aPaA-adok[y54Rn>;:p3~Dp5g9rpsFNvZqjg3uJp4~<5p0Pw;5qlJwNZt*@3p1Pw:5p/Ou!5p2JvG'!6Vye=<qnJvh_[xhg3v,Rh3kOwOw-sDuev/Re^dha[a%!%!a+#Ta7)-5TaCaO!aka!a)sf[yb2>Rl!9ARiq5E}Qg=ucRkBE|oJrJ_@Wk~@Wk{JrJ_@Wk|@WkyJrJ_@Wk}@WkzJvO_[y2g-vMRmiKuYC!)&>Ri;>Ri<@3RkNc](X#@9Rk=g5vuRmhKvDB!+'=]meg3u4Rmgd)#Y'Vz3CARmfd`a+!%T'!+#Ta1Ta6TaM-sTDt9[yA9sYd'%Y#s[[xpj:ueunaXRgEjRq,v-vuqdd2'`#6Rev<32@5>:2<E}5xIo9a*X#Y(;5RePJvD_g>vyRgNj8w)v8<wggs:RgXiZt|vjx,hSq3ah!-(~@:Ro/Ou!5RhWj^v(pyw8unRhUdx-UY#^Ua.a3a70!)%UX1TaDa)'omRiRRhE[y:3Dsz=Br,>6Vyj3[xkg6ruwjcqsrPw;5r*Ku]D'Zt-@3r(~?r.i[vwv]dU1a--U#`a4(g/vsRhPOu!5RhLj:rmu9Wo!~@:wdh@g/vsRiTjXuvvNr}:RhBj^v(pyw8unRn]dz1UYa'a+^Y(!aETZalaRY.Ta?a4[yDJw1!#qLsW>6Vyrfzq-pLflpwRe|Js>%!Dt@3Dt&Jvy_[xs~HrnjMuwpsw'RecKu+D#'!t<~Grl~?rjg5u-x,gwp{ah!-(~@:Rg~Ou!5Rh'jXuvvNr}:Rh#cW#X/c;&!#2sLi[v7u7RgpJv)(!iLrxu,Re6j7v@s@5Se[e7d`aW!Za(a`T.a#!a3!&aDa-!9)Dt_=6s+3[x~~DR|h~DS6avhGun5RkZj3w)v-]mkKunB!&*]kb97R|i<ARk<c:Z(6Vy}Juh'!wziMRoS:F|vkLuauJv5vtvQRh1d='T+Y#VyO~DR|jcF#T'7R|g97R|kJv3'!ay<Rj,Jvh&!:ReXcsa6*a+#a#_aIRf9aLRf?c,Z&Rf5Rf7c.Z&Rf;Rf>cQ#%T'p-Rf8Rf=ct#%'(*!,p,Rf4p+Rf6Rf:Rf<d~'Ua%U*^UYa(!a,-!#a4YaTalaEX0a8a<Weo3Dt/3Dsx=Br93Wen~Dr;~<5p<JwNZt2@3p=Pw:5p;Ou!5r3c7&!#:p>3Ds}KvGB)_6Vyk2sM=<r7x'eovA(!hFu1ARf}cV#X&@r5j6rvwQa^Rf3c=Za'wkghJv__g;unRggA53B9=b^}%j6uduo5Jq;!(hIv%2Re`Ou4ARe_e%a#^^^Xa&!a*a2!&a6YaP!*ad!#a:aE/5Rn?[y@>6Vyp;:pE~DrY~<5pBJwNZt8@3pCh=rt3rWPw:5pAJup_[xoNuPpF9c!#'45pD5ARn)d8#X'X*3@rU72s]h>v<<sSjJpqvewOJq/(!hNw'5ReBk0s2u3w/w'5ReE5@Jq.!a+JQ!&WeU23d(#Y&RjG5]jBk!u7w&u0udARjEe#+^^^Ub#!a2/a`Z(agT1!a-a;|@TaG!aS[yV=Re~fow'RguNuPRe?bz#'>RoUWeL>:Cbb|?JwPZtVg6ruRmzJvD'!6Vz(g/vmRh~Jvy_[y(g9voRgyx*cy(#2>Ri2B9b]~9kIw9u7rluJu3Rg]dI#a%UY'@=p%CAx.gQZ&RhwwygtRm{x5g_Z'+ABqR9Woa=Bp&dV#^*Xa'!&@o{g4v]Rk;Jv{!%Rk[wkkiA5RkiwwfUB=x,fUuqC&*!>RfTg8v0RfV~ARfSd;rJsAuAv9wR'ae+/aO!a@aza/a#[yQ@Wg!2Wemg3sEr0JvB_g>uvReWg2v+Re=KupB_+[y!2AbY~-~Hr2AJwD!(h<~El>h<~El?Kun@+_:9b`}Kg-v/Ri3g;vtwyk_9]k_d=&T#*U.6qh@Ab`|K9:H|CJv[!&3Dtex'fDwC%!Rf[9WlMd[(^X,!a%Z06Vz!@WgBg=v~Rgvg,QRe@awd,#Y+jTv|Q~EfWj]uNr|~FRfXdy#Y&^Ua%!aO.!(a)Ua;=!a@aKap!a-,a!Ta]a[rSa]p?[y82sK=Bq~;:p:~<5p8Pw:5p7d'#Y'Wf(;RnRi[u4w&RgJJvG'!6Vyh=<r#ijuuv/sIKuYD'ZtG@3p9~Gr&d2#`(g<vtRgFj`u5w&rqpxRf2CJuY!+:wfnTOu!5Rg}jNs1ucv&RfwJvA!&3@q|BDcC#T,k/unq8w8Q5RkTklwQuzunq8w8Q5Rk9dga#!a'!a=#a0!:+Tb*b@aO.a4!aba8aFJv^}?!VyR~Dr<g;u%Rn.~<5p[x'e`wNZtR@3p]Pw:5pZhNvjBp.woe_g5u-r4JwF!%DtO3:ooc7&!#:p^3DtpLuGw(!+%)Dtk6Vz#2sd=<r8d'#Y([y#<x3gJt`w@!)%}MRiowzikRij=]ilxAf3,U(#B2Rf#g0v-Rm[ck{`U#]giKv3>)!&6Ri154s,KuGB_%@r68r:dJ|t`#X(9<E|u2@H|rx3gJu?w'!+'1Nu7Reg4=H~+9<wxgY95Rm]xLggZ-`(X}U2:Ri4h<uOawRmsJv__5@bb{jbV~3dka#a'a]!,#a+U=a>b6a3b%!/aKa/)!arwve^VyJ;:pR~DpTg3uJpS~<5pOPw;5qmPw:5pNOu!5pQJvG'!6Vyx=<qoJvA!{~Jup!%@qk7Rn/KvyD!}''[xz;>wkh'?Rh,x8gyt`w5D!&),(SgyccRgztJ@3pPB5p#d'(Y#<]mmifubw&RgoJvE&!82s^JvF&!8Rf,ADb]~;x=h'rNu]vK!,%'*0RnORh)4Rh*AqQg-vaRnNg;wHwkh'ba~4cE#Ta*x3gctyw@'!+%RnFRnD<4Rn@hFvK5RnCxWg[#`&a0Ua()`1Rm75Rg[c]%X#qi8Rg^NvdRj>BwzgZauwji7Rm6A4wgg]d1#&(*,.0a#Rm;Rm<Rm=Rm>Rm?Rm@RmARmBe%#^^^Xaea?aC/b+(,!a+a#!a/!>a&Ta<aKbD!2wphBRnk[yPw}hE|.=Br-3Dtm>6Vy~g6urRf.x,hPrNav!%'RnqRo%Ro#Nu;q[Pw;5r+JwNZtM@3r)d'#Y'Weh;xChL#`&RnmRnoKu}>%(!Rne~Bs-;2wjcussJv+'!aYSO}6@B<5?ba~8LrNvj!.%*ROwungw~ng~:9;Ri^>wtnig;wHRnixDh@|(UZ.x1h@|)!#:2<H|*xHn]#-UX'3Ro)z=iT}6ARns=Bwsn_wpnaRncw]aR(#UXa&Ua*a/=]iPd'#Y&Ro'WnXf{QRm2hNvj]nZd`'T~&1`{|`#9b]{}c:'!#Wl{>@=be}]?cl{{U#:5Abb}Jds#^YaF!a*b4a#a3aPa>&Tb!bH!*a_!Eau?/a&RjY<]gj>6Vz*;:pe~DrZg,QRj1JwNZtX@wihspcJvZ&!VyX9WmOJu|!|N2WmHJvh&!]ht~Bpbcn&T(!#RmQ<s7Nu;padH#X'`+WmJ@>RmKCARhnKup=!)&Wf+:RhqNuPpf9c!#'45pd5AwghpARn(Ls@w!%,)!RmP@Wfe<E|IJva!&WmNg8vsRmLd`*.`#Y'Xa!axRn*]hrA8Rhug5s@rXg8u!RmMd8#X'X*3@rV72smdI*#UY&RmICARho~GsgxVgd)Ta'U-Y&Xa!T#RnEWnA@Wffg1uDRi0hFvK5RnBxGnG&#`%owp)@wsf+bX}Ze-*1!a*^^^Ua|!#a.aq&Ya2!a>.a6!a:aO`aJDtL[y`@Wg#>6Vz12@wzoYRoZNuPRi!NuPRhzg=ucRi,@=b`{Yg=ucRi-ACJvB!&Sh[ebSh]ebi`wUuFRm4Jw2_[y0JvB!.<Ju(!&SoG}6Shd}6<Ju(!&SoH}6She}6Kur@._g5vHRieJvx!{L2G{Kx6gd'T#?Rh82Wi5cZ#X(g1w)Rm5dW-Y(Ta#!a)!#aYa=wnfE=su2>>bU{0j9udv:<svj8uQv-7RgHdE%#^'sq9sp=>Bb_{TJv`!&g/r|snj6v(us5d,#Y(56H}[978H}]Jw5!&g1rushJvB!+j;v{u5?zDhd}6}bj;v{u5?zDhe}6}ce*#`(^^^a[aea!=!a6a*aoXb1a.!aAbL!b>,b'aL!aV@Wf|2Wlg3[y/JwNZt^@3piPw:5pgJunZou3@rsJva&!Vy_g<v~Rm#JvG'!6Vz0=<r{Ju{%!:pj@WfsiXuJu3Rm:JvZ&!WfA~Bph@c4Z&Dtwax5rubx(#:awRk1@d,#Y&RfjRfid1#,Y(@Wfp2Wlrg5s@ryKu[@!,'=]ig9wlk?Rk>g5u-rqJvy'!@9RkQcH(T#=>Ri~@<wkj(Wj(KuZB*!&<7rw@9RkRcH(T#=>Ri}@<wkj)Wj)dg(Ta2Xa9X#`-!a*CARhg@@=I}d9x;c~#X%so=<sj>2@@=aybb}XjWv0Q~EfEj3vLv;<d,#Y(56H}`978H}_dgaPaFa'a/!#a3Y0a_a;a|!1(a7-[yE3[xt;:pJNvZrrg3uJrvJwNZt=@3pIh=rt3rxPw:5pGOu!5rpJvG'!6Vys=<rz@c4Z&Dt(ax5rtJvZ!&~BpH@wsfNg-vaRlNci*U#=<wei<F}a5@Jq.!a*JQ!%@qZ23d(#Y&RjH5]jCk!u7w&u0udARjFd/prq=tyvpaEa(a:.!a1aZ(@@=I}:9wpd%=<sX55w_h}@@=I{t=ay<aU@@=I}T=ay<2@@=I})?C9:9au@9Cb]}DP~=x-fAZ(2Wl1=ay<aU@@=I}>5@d##Y+jTv|vV~EfFj]uNpn~FRfGdgaK!Z2&!a8a-Tb({E!acTbM*!a(DtY[yYd'%Y#sl[y*hHvh>Re5x2c{Z}.j4uCvcawRiMd+#X+_x&d!},<5RkX;2Hzw@x,gavfB-!{CcF&T#Roe;RodwWbBg5urRgaKvHC*_6Vz+<4opieuew&Rmq@d]&Y)X,T#X0Rh}<BqP=4qS9:ReMg/ujReNJw0!/<Jui%!bd{kawwnemRelAxUa?a3#*.&UX(Ya+a/RhvRnQ<o}9Wmtd-#Y&RgSRmw9;Rmxay=Rmyg-vaRmuxEhSrNu,v-voC!%(aR.a(a7+1Ro1>Ro5CE{A9b]{@;5x#eO{:g;urRi+KrNA!%(Ro3>Ro79;Ri_Ku@>{;&!x%gX|{KunA_+g5QRj/g3u5Rj#g>uERj%wio/xRhS&!,!#^1U}wba{8>>@=be}qC@:D5ba{7Ku+A&!}x?ba}t>>@=be}se(aA^^^Uat!b0#{pa+awUazbGa#aLb9bgaWac'a5TbS=Br!d1#`%scp_Jvl!#rT>Re0JvX&!VyN=H{Fcm#U&:pY=ReaJv2&!]h0=]nUJvG'!6Vy|=<r%JrM_=]h2@Wlud'#)U'Wf'b]{i=]h/Jvh!&~BpWg=v]RnMx+ny#'Nu;pVwjnu=]nwxJnx,T#`&Reqwjnt=]nvieu9vrRjLLuYwP(#+!th@wih5pX~Gr'g5v/Rh4KunA'!-CARnP@wwiN:Rm_9x'cvw>!|l=<saKvAA!0&3@q}>w^e1bp#&Re2Re3BDx7gH#T|f5H|eKuZ>!%(:qNAH{]Jv6!+3B2B9=b^{X<5<B92:E{ZLvhwA(a;a%!igQuyRmad+#Y}m@3Rh5d8#X'X*:AqUAHzmaxwbh<aXRnVcF}RT#Nw&cj#U(BWnug/vsRntdka)(a3+.Zb7aYYan1!bVa@Xa}[y^@b[{G=H{+hFu73Rj&Pv#5ReQcK%T#sig1v{Rj'Ku+D#'!t]~Grm~?rkKuMB!01d5#`'Vy.ta3Dtu~Hroc8#'{^45s85AwZbP&!#Rn!wghxWn#KvEA!)&2RlA2RlBx:h|#(T,=]j09Wobz>x]z/@awRoTd+#Y(az]hFhCrm4d,#Y+jTv|Q~EfMj]uNr|~FRfOdCa!Xa9_X#@<plJvf!%b`{(9;Rgwc;.!#2x7cw#T|UDb]|T5Ju={(!=@E{&Jv)&!Ab`{'awJvf!~*>>@=be{#KuY>!+&4Ezyi[ugv&RjIdea+T)#UXa&T-T&a!Rh9auRmW=]kLg5vuRn+g3u4Rn-Ow6ARn,hHus5xNk?#UX(U~)/g8v0RkD~AwkkF?Ri.OuNBwkkA?Ri/d|a2`a*^UYa.!aBTZaTa'Xa;!(!2!-a#b2[yC>6Vyq3[xr2Wi?g1rusVh%s?DtF~<5rbJs;%!DtBfswKtCj[uvuSsEu3RgVx3o:u+wN'*Zt;@3rd~Grh~?rfg8w)Lq)qE&-a%!>bI|`jWv0vV~EfCjTv|vV~Ef@j]uNpn~FRfBcK#T']gWNu7x,k7q4ai(0!hHv8<RhmkMu9vrsBuev/RhlCJvB!,g<v{wchh~@:Rhji[vrv{wchi~@:RhkdS&a5UY#Ta!RgPwwiI5BwciI~@:Rh`x'iJvj'!5]iJPu8Bwch]~@:Rhach)U#h3rp]gLh@t|Ax,hTq3ah!-(~@:Ro0Ou!5RhXj^v(pyw8unRhVd|)`,^UYas!a?/a2Z'a^Ta{Tb7Ta(a#!a,Wf&9sZ3DtAadamov=Bqt3[xig8vsRm~>waiL2b`{QJv*_Ouv2qgj<v]v2BqfdR'X*X#Y-@3qr~Gqv~?p6hHv-]glPup5Lq+q?_%*b_{qF{n9b^{rOu4ARhpKvCD!+&~Bqp:5Dbb}nwoiKl&unuTuBv]v+ueunaXRf0=Jvh!0nKufu8v1w&w7q%w&uHrz:Rgnj5w,uxDJq/(!hNw'5ReCk0s2u3w/w'5ReFd>Za&!*UaA=<wkgsRnSJv^!%Refifw3vyRgOKu_B'!,<]gkiiu:w&Rh<=C@a^<B57@2F{[<B5@aW:=3away9A5aW=<B=C@a^<B57@2F{Ie-#`(^^^bCara.b8aza6!/bZ,!adTbnTbOb+aFaS!aAT9@Wf~2Wli3Dtl2@d,#Y&RfnRfmJwJZtN~GqyJva&!VyMg<v~Rm%iXuJu3Rm9Jv[_=]ih9wlkDRkCd1#`(@Wg>2Wls3cH#T(@<Rj*=>Ri|b~'#23s9h<~El.d'#Y&Dtxi^rzvdRl#d*#U%(o|B2s`hJwSaxRmDKv4B&!1:Rmdd5#`'Vx}to~Hq{x'f1v3(!BA5ba|bJv_&!Wfug1v]ReIdO+U/Y#&G}-8wze=Rh{g1v]ReHg/uQRf/by#)ibQwERl/cH#T(@<Rj+=>Ri{cNu+vlax-!(#a0qa9<Rii2;;bU{H;x<i=&X#Rk`<4wwi=C9H~8xAI(Y#<azRi@45wXI<B9;5bb~7dL(X#Xa(+!aL6Vy{g5QqOau:5au2@ay547EzbxOcU(UX-T#Ta#:Cbb|A?wjh/b_|SOw6ARgtihr}u7Rhy<d1#T)X1@@=I|~=ay<2@@=aybb}Sj3vLv;<d,#Y(56H}A978H}@dGpvs@uAu`vcw9*!aFa+ai%(b!aXa8.a?a[ozWey=sU2@G}Nch&U#Rf_WexKu+D#'!t:~Gr`~?r^j]uNr|~FRg*j^psurwJt|RmcKv)@&!)7Rkv~Br[@wxfO:Rl3co#U'6Rezj_q#vIuavjRltwzeyh@vr5JqD0!>aY?C9:9au@9Cb]}9cl#U*5;5<H||jbuus1ucv&Rfvg1v~d/pppzqFr^a--a~!aMat1(hFv;Wiz@@=Izoj5uuv-7Rix~Cw`fk2WlVcZ#X,k)u3vWs@u2]ktg;wEx'fBq(_2Wg/jTv|vV~EfoJv]!15x'hzqG!(P~EfU~CRl_j6v(us5x4i-#T(2WmZ?C2F|d>Kq<aj1!*jTqIsBv=Wl`~Cw`fi2WlWj`v0u*~>RlR=c>Z,k#u3vWs@u2]kr<c1Z+jTqIsBv=Wla~Cw`fm2WlXdmb3!a{(arZa`bkTa%TbQTa-a9+c'!aM!/[yL=Bqug.w'RifhFvyDRj.g>vgwyk^9]k^Jv3_@WfbAARkhJw2_[x|JvB_wkoIRoKwkoJRoLd'(Y#<]gm=<9<H|yd'%_X#skDtb3awwqkgNulRkgdB#^',9:p'hJwSaxRmEBwVb8@4=H|qLu+w50&!)@3qs~?pU>Awwn;;Rn=c:Z'ARn<=<qwKvC@!/&~BqqJv6!&]eVb^z^xRge'/a%+^`#Sge}6<4Rn3=]n0Pw2>Rn8Jw0!&>Rn:>Rn6cY#a7+!a&=<wkaNw~h3z_c5Z{=wjh#=]nLKv^D!&)Vyz=bW|swYb<WetcG#T(2wxa@qVx@gD#Y&b^|V5JwG&!5bb|pg/w&RgD@x=kHs=uAvn!a%%/'+RmSRh694Ro`g-vaRmRhHv-]mlxCcS#`&ba~.5cD#Ta)P~=d,#Y(56H{>978H{Dd_#{2^Y%_+qbbb{6g3sERhsbU{?dfa.,`a(Xa<!aiX#(55RiG54RiHcI#T'WiU3RiVNvdwtfcRlKNvdd,#Y&RlHRlExQgf.1*^T'X#Sgf}6Wn4=]hfPrk>Rn7Jw0!&>Rn5>Rn9Lunw?&a2!,5<oq@@wqfdRlJj5Q~=d,#Y(~ARfcOuN]fdDKw;ay(}i!547E}j?cI#T(@5bV}iCbV}hdv(^^Tb?a40,b##Tbo!a*bR!a<b|a/!aKai!aU[yK=]o^g:v>ReGJwPZtK<7Rh+h<~El,Pv#5ReR@awwxjCg,ulRjDJv6&!]j!z?aQeeg>w=Sh<eeJw;!&axEzOg,Qosc!#*:wkeJ]eJ>x'h-u(!%Ro.w~h.zPdNZ(X,Ya![x{;9ReY;wkgxRiF:x?ap#Y&RmUg<s2Rkod]+UY0TZ'!a&A9sw<=bczLNvuw{gqzNhJwSaxRmCKuLay!#&s_Rf-55b^{uJvZa!!c%#(55Ri654wmiu5RiuawLu,vp!+}^%b_}Y9;wkgxba}o>A9:=b^}zKuh=a''!3awRk3c*'!#aHRk6c+Z&Rk5Rk4Jv)&!awRjSawd9*`#0?C2@EzMj8u<uJ5RmbjQrquJu3x,k>uq@_+=ayb^|W~ARkEOuN]k@7dhzV^X/X&a-#zRzSb`zXcJzTT#2WkVKvDBzW!%FzY9;5bbzWjQrquJu3Jw3%!b`zU=ayb^zQd:#X(T-a!6Vyywxh}=b]{Jg=u1RiAdGp~qHtzv!w(wA+a+a;<!aJaYai'anasb(=azRmV:Cbb{MLq2vb!%')RjuRjrRjtRjqx3jnqCw3!%')Rk(Rk+Rk&Rk)Lq2vb!%')Rj{RjxRjzRjwLq2vb!%')RjsRjpRjfRjex3jcqCw3!%')Rk'Rk*RjkRjl9<CbbzfOu4ARhxLq2vb!%')RjyRjvRjhRjgx=joq*uKvb!%')+-Rk.Rk%Rj~Rk-Rk#Rj}x=jdq*uKvb!%')+-Rk,Rk!Rj|RjmRjjRjidAq&qKs@uAv8Aa.'*-a@a&0!aM@a5[y73Dsy3Ds|3Dt):wxgI2sHJwJZt.~Gqxwsf0ikrzt}Rl0Jvy_[xj~HqzKv_A|D!&WfP8axRoVcf,U#k(v]v+ueunaXRf1Ju}'!g8u#Ri=jQw!sCunLprq>!,')~<5qeGzq9F{W=c##%s5au:5aU3CBE|;d4#X(D!a&6Vygx(b;#(=]ed?C2F{N<capoq2r[a&!aPa9,'Pw;5s:@@=I|,55w_h|@@=IzcP~=x'fCqB_2Wl2>aU@@=I|1OuNBc1Z+jTqIsBv=Wlc~Cw`fl2WlZ~AcTa%!Z+jTqIsBv=Wlb~Cw`fh2WlYk+uNqJsBv=WlSg,u3dca3#UXaMYa)TaB-=cM|7T#<bI}l5@B932:aV2G{BOuNBJq:|M!5Ezt=<B=C@a^<B57@2F{v>cB{/T#=ay<bI{3Jv6!a.6BKq0ah&+!5E}HP~Ef{978BaU@@=Iza<7d#.Y#978BaU@@=IzH~AJq0!(@@=IzG978BaU@@=IzFe,aU*Y&^^^bvJb,b:bFad!a,c2Ta>aL.bo6!a#CbTa'T#Re{2Wlh2@G{yg6t~Ro_NvdRfticuRQRllJv3&!x&c|zs@Jw3!%RflwpfkRlpKuL;%(!Re<@G|C2GzdhIvuBwgjAg-u0RjAKQB%!(GzZ@G|5NuuRl7d='T+Y#Vy[g<v~Rm!==G|>JvA!)@wma=]m1ifuaw&RmnLs@vT'!|/+[y,g:v>ReTJw1!#qX=x!eC{bLu+wT&)ZtZauq_~Graci&U#F|89:r_Lupvq!.)&2RlG8RfaC=x!eF{_h?rpWlmd&'!#X|&]k::xJey#`'T|+<E|&2@H|%dE#(^,g;u.RiEg6vjRiC9xCkA{O|zY#g=ucRmXKs0@!&*@G|m@awRknJuh!,3d(}gY}eJvj!%Rm):Jw3!%Rm+Rm-Ls0w(&!a(a#@b[|6cZ#X'7RkxWgAOu4ARn'dH'U#Y*Vz-Wm'CARm}d]*#a%^a*T'aK!a<9bV{PC=p*Jw4!&SgxcbB5r]idw(wBRmF7xFkt#&`(Rm/Rm8E|!JuY_9:Rl5=wrgr2:bbxd@xXfB(a*#T+!.X0X1Ta/a'T&RlDRfL>RlyARl9b[z[>RfZ:RlL:RfRwlg/ARl;9;RlxKv,A/!%7s69<74=BA5ba{-8Bde#`a<XaKYa1,a'P~=wxfB2bZ}}?C972@@=I}r8@55B9;5bb}G978B2@@=aybb}3j3vLv;<Jw3&!>Rfk=ayb^}4~Ad1#`*@@=aybb{w2@>==<bbz]dx+UY#^UaF!a9!bB'Ya1.!ajXa#%olRhD[y=3Dt#Ov5BrHKuMB%!(Rf^Wep~HrJwkiQjKr|~FRg)Ku+D#'!t5~GrF~?rDdV)UY,Z/_7RkuG{<~BrBg,rlsO:235B@bX}|d?a1!#`(6Vyn5@d##Y+jTv|vV~EfIj]uNpn~FRfH7Lq2vb1!a9-978BaU@@=Iz9978BbU}#~AJq0!(@@=Iz8978BaU@@=Iz7~AJQ|}!978BbU}!JvkaK!AdUa21-U#`a+(g/vsRn~Ou!5RPj:rmu9WhOjXuvvNr}:RhAj^v(pyw8unRn[kPr}p|u7vwv]RiSBd;pppzq@qHQa?(b.!a.a`@.|xa(hFv;Wiyj5uuv-7Riw~Cw`fg2WlU978BbU|wOuNBJqG!(P~EfD~CRlQcZ#X,k)u3vWs@u2]ksg;wEx'f@q1_2Wg.j]uNpn~FRfqJv]!15x'h{qG!(@@=IzK~CRl^j6v(us5x4i,#T(2WmY?C2F{1>Kq<aj1!*jTqIsBv=Wld~Cw`fj2Wl[j`v0u*~>RlT=c>Z,k#u3vWs@u2]kq<c1Z+jTqIsBv=Wle~Cw`fn2Wl]dn1#c(a(b^a2!b/bAT(bj!aDa7bu,a_a{c0!2T0g:v>ReD2@G{42@G{5~DpM~<5rc=Bx6i>{RT#RnI@zCx]y]z:2Jv[!zr5Awyk]9]k]dD(Y+X#6Vz.g=wKtgwhaCwgmTWj2Lu,w%_+/[y-B;b^xeg3u3Rj-2@bX{*KrJ<!+'@Wg(g?QRlC@Jv`!%b[zIwsfII}8JQ_@w|kW|=Jv(%!AqcOuNBJvEzh!bYzjLs@wP#(0!oy@>RkdJwMZtc3Dtd@BcG#T'9bWxg2@2Fznd*#Y+;2x'c}w<zizixNgwa#Z'U+!/!a'!a+w~g~z6wcn{Rn}wcnzRn|5Rh%=]nJg5vuRmvNvdRlvcprJu}w*az*a#!%.a.'Bot9qT]kj@Wg'ay2Gzv@Jv`!%b[zEwsfHI}1;ck#Ux`<Cbbx_Lu+w!a&0*!wko*wwo,So,}6Juqxf!E}PigQuyRm`d3(`#8>Rn%:A5B;bZ~%KvhCa!a2!x>k7#Uxb@b{#xaRk7Jw0!)>wwhlShl}6>wwhmShm}6CJvB!.x'hhvj{!!5Bwkhhbaz}x'hivjz~!5Bwkhibaz|xEhTrNu,v-vpD!a%&/)a3a.,%Ro2t[CE{)@3re9b]{%wjo09:rgc:Z&Ro6=<riifuaw&RmoKrNA!%(Ro4>Ro89;Ri`dSaL'UYzxZb)7Rka3xRhT&!,!#^1U}vbaz{>>@=be}yC@:D5bazzKu+A&!}{?ba}y>>@=be}wxBh[t`u~vJvr!%a!a()a,a0a4RoC=]o;Ju(!%RoGRhdwjh`=]oAg>w#Ro?g5vuRo=NvdRl|Ku]C.!&;RoEJvB!%RoORoMBx'h[v+_?w~h`}~5?w~hd~!xKh]oiptu-utv.vp!#%&a30a@a'a+(a/aOp(o~p!RoDJu(!%RoHRhewjha=]oBNvdRl}g>w#Ro@g5vuRo>c[#X']o<CauRoRAd-#Y':RkpauRoQKu]C.!&;RoFJvB!%RoNRoPBx'h]v+_?w~ha}t5?w~he}ue!/UbhYacXaW^Tc&a;b:a-c/#b&aja1(!cL+!bKbt!bmcRc9aIc?8[yW3Dtt94Rg`Jv}!&SiRMzBhEebShEMNuPRe>x7gL#TzuwjirRipc<Z&>on;>z=h-MSh.Mwqczx'a7vj&!>Re4@=ResJt__NuPRi*NuPRi)j]uNr|~FRfzKrJ>_+@Wfy@Wf]2WocKrJ<!+'@Wg%g/QRl@@Jv`!&awRl<wsfFIzgLu(w*!.*&ShBMwvhIRhI9;RhNx1hK'!#Sn]Mx1hK~0!#:2<H~7cNu+w7D*'1ZtW>Rn1~?rOc:Z&Rn2=<rQ<7wjh&=BSnLMc]#X(6Vz)w[b=a!U#9wzgMc3#&(RgMRitRis<x,gKt`ax!&+SioM=BSilMc3#&(RgKRinRimKurB,!&SiQMzBhDebShDM6BJQ!(P~Efx978B2@@=I}WLrJw!!,a*&@G}O@9wkibRid@@x'fKwC!&SlDMSfLMjUv~Q~EfKKv3@a+!(hFv-]mpx/hYZ(C5RiWz<o/MwkhY?So/M@x,gbvfB*&!SgEM:SoeeehFu3:Rgbda(,^TZa)X/7Sg[eb:2RgI~BrMC@wgkc:wwkcRerx3h(uUvK!&*,SnOM4Sh*MArRg;wHRh(x=h;rJvPwI!a4',a'0@Wg&=BSh/Mg>w=Rh=g3w*wwgGRgGcW(X#;Sg}M2Gzk@Jv`!&awRl=wsfGIz`dKZ*T'Y-:RhR7RhQg5u-p`j6v(us5d,#Y+~Awkia?RicOuNBwkibba}Ld6p~tyu_vbAa'a+!a/'a3aEa8a!>Sh,ebJv{!&Sh@ebSaReb9;SgwebNuPRi(NvdRl)NuPRi'hHu^<Rm^Jvv_@Wl(g;u1Si/ebKu'B&!*Sh?eb@Wl'z@aPeb95Si.ebcpputyvjB)!,&a+0a%ShAMWeK@G}C@WfJ9;RhMwvhH9w{ia}ix,hJvRA1(!zAn[MRhHx1hJ~*!#hFv(BSn[MBJQ!(@@=I~'978B2@@=I}2db.Ua<'X}+T#a0XaG2G}E;wkg|wuh!Rh!x,hZu,@)!&So0MVy)C5RiXACJvB!&5RiY5RiZg8w)cG}*T#2@bU}=KsA>(!a.3wkhZba~(x,h^u(A!&(SoCMRhb5Bz=h[eb?w~hb~6x,h_u(A!&(SoDMRhc5Bz=h]eb?w~hc~6e)aA1T#T,^^^c-bMb&blcPaP(a/!0!bA=b5c@a(!bfbrc#2afwmhARnjwchORnp2Wlf3DtsNvdRl-2@wpa<]m0bx(#:awRk2@Jw3!%RfhwpfgRlnKQB%!(G{V@G|'NuuRl6d='T+Y#VyUg<v~Rl~==G|<Jv+'!aYShC}6@B<5?ba~8@Jw3'!g2QRljhLrpWlOd+#Y'g.w'rIg>w*wgj@g-u0Rj@Lu+wT&)ZtUauq]~GrGci&U#F|39:rELrNvj!.%*RhCwunfw~nf~:9;Ri]>wtnhg;wHRnhx3hDs@v~!/+'@Wfr@9RkSNu&Rlo=@<5GzoKs0@_+@Wl+@awRkmJuh!-3d(}pY#qWJvj!%Rm(:Jw3!%Rm,Rm*de&!1U-U#`)Re;@G|.@9Ri82@wjfvRlq=@<5GzpLvOvr!).&2RlF8Rf`C=x!eE{.Jw3_g2QRlkhLrpWlPde(!#U{s,UXa*Ta'[y'g:v>ReS;x0PZ&RnlRnn~HrKJw1}f!=x!eB|2w]aP(#Xa&a*Ta.Ua2a7=]iOd'#Y&Ro&WnWg;u.RiDg6vjRiBNvdRlzhNvj]nYJuW_2Wm3x)kFze{9d])!a.!,Y01!#&aC!a3RndC=ox~BrC@2b^{pg,rlse7x'ksuq!%Rm.E{xidw(wBRmGx9o+)X#wwo-So-}69:Rl4@xSf@a#XZ'X)X,Ta(/ARl8b[xc>RfY:RlI:RfQwlg.ARl:9;Rlwdn'#^XafaQa1X1TaHTa)@b[{zcZ#X'7RkwWg@Ou4ARn&x)kG#{,g7u/RkGdH'U#Y*Vz'Wm&CARm|bx#(A]gUbUzJj9Q~=d,#Y(56H}l978H{U7d,0#U*2>ABb_xZ978BbU{e~AJQ{g!978BbU{hxMh?ad{oUYZ.x1h?{l!#:2<H{mx3n[t{vl!,&a%3Ro(z=iS}6ARnr=Bwsn^wvn`Rnbd`*T}B0!#^X'BG{c9b]{a>>@=be}F?JvS!&BG{d7BG}(Bde#`a1X,Ya@!a'P~=wxf@2bZ}I56B2@@=aybb}08@55B9;5bb}<j3vLv;<Jw3&!>Rfg=ayb^}&OuNBKuLA!)a!P~=x#fD{f2@>==<bbzl?C972@@=Ix^d6rSu,v7w*C(0a)a6#B+a%!sQ[y?3Dt%3[xn~<5rLOu!5p@Ku+D#'!t7~GrP~?rNKvlaya7'!h+v-5qMg=t|cd,U#5AAaa5Abb{S@52B5@a[@52B5Gx[iXueu;d<#`a(!/549C;ag>23ExY5@Dah89b^~689Jv)!~2b[~1Lv'w(%*!a#bX|aPrmawRe]keu7uhv-q6rxu,q`xTo]/a5aU!bNaDXbi!b-!ao!b<bwA!#5@B932:aV2G|:d-)Y#hJrL>RhG<7@C5<H|_=Cau:5aj5@B932:bJ|ng>vIbs)#?C2F|9jPv0w.vISh-MKvUaz(.!9ABbb|[5;5<H|Eg>unwfh;9:4E|YjQsBt|vjx'hYq3!(?C2F|J:2<BaY?C2F|GOu!5x,g|p{ah!-(?C2F|c9:4E|OjXuvvNr}:Rh&i[w*t|cd+U#jJvsu)vsSn~Mkfrmu9p}u7vwv]So!McW#Xa!ax5@A5aY:5;5<H|>kJv~vYrquJu3x4ib#T)2@SmZM?C2F|Bj:rmu9@xPhI(a*a#U#`a3-5Abb|L~@:RhK9:4E|0@52B5G|#C::aY?C2F|-:2<BaY?C2F|.5Jvk!a)javYrquJu3x4ia#T)2@SmYM?C2F|HAxPhH(!a#U#`a*-5Abb|4~@:RhJ9:4E|R@52B5G|F:2<BaY?C2F|Sc^#Xa2j=Qq5CJvB!-g<v{z;hhM?C2F|Zi[vrv{z;hiM?C2F|XKsA>!a)-g<v{z;h[eb?C2F|]i[vrv{z;h]eb?C2F|^iZu.vix,hZq3ah!.(?C2F|QOu!5ShXM:2<BaY?C2F|P", 13494, 2713, 49, 25, 61);
var ze;
(function(e) {
  e[e.VALUE_LENGTH = 49152] = "VALUE_LENGTH", e[e.FLAG13 = 8192] = "FLAG13", e[e.BRANCH_LENGTH = 8064] = "BRANCH_LENGTH", e[e.JUMP_TABLE = 127] = "JUMP_TABLE", e[e.VALUE_MASK = 8191] = "VALUE_MASK";
})(ze || (ze = {}));
var rt;
(function(e) {
  e[e.AMP = 38] = "AMP", e[e.NUM = 35] = "NUM", e[e.SEMI = 59] = "SEMI", e[e.EQUALS = 61] = "EQUALS", e[e.ZERO = 48] = "ZERO", e[e.NINE = 57] = "NINE", e[e.LOWER_A = 97] = "LOWER_A", e[e.LOWER_X = 120] = "LOWER_X";
})(rt || (rt = {}));
const Fi = 32, xu = 21, cm = 2097151, po = 2047;
let Au = 0;
function am(e) {
  const t = e >>> xu;
  return t === po ? Au : t;
}
function um(e) {
  return e - rt.ZERO >>> 0 <= 9;
}
function fm(e) {
  return (e | Fi) - rt.LOWER_A >>> 0 <= 5;
}
function dm(e) {
  return (e | Fi) - rt.LOWER_A >>> 0 <= 25;
}
var Tc;
(function(e) {
  e[e.EntityStart = 0] = "EntityStart", e[e.NumericStart = 1] = "NumericStart", e[e.NumericDecimal = 2] = "NumericDecimal", e[e.NumericHex = 3] = "NumericHex", e[e.NamedEntity = 4] = "NamedEntity";
})(Tc || (Tc = {}));
var Fc;
(function(e) {
  e[e.Legacy = 0] = "Legacy", e[e.Strict = 1] = "Strict", e[e.Attribute = 2] = "Attribute";
})(Fc || (Fc = {}));
function hm(e, t, n, r) {
  const i = (t & ze.BRANCH_LENGTH) >> 7, s = t & ze.JUMP_TABLE;
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
      const d = n + o + c;
      return l + e[d] & 65535;
    }
    if (u > r)
      return -1;
  }
  return -1;
}
function Ic(e, t, n) {
  return n === 1 ? String.fromCharCode(e[t] & ze.VALUE_MASK) : n === 2 ? String.fromCharCode(e[t + 1]) : String.fromCharCode(e[t + 1], e[t + 2]);
}
function pm(e, t, n) {
  let r = t + 1, i = 0, s = r;
  if (r < n && (e.charCodeAt(r) | Fi) === rt.LOWER_X)
    for (r += 1, s = r; r < n; ) {
      const l = e.charCodeAt(r);
      if (um(l))
        i = i * 16 + (l - rt.ZERO);
      else if (fm(l))
        i = i * 16 + ((l | Fi) - rt.LOWER_A + 10);
      else
        break;
      r += 1;
    }
  else
    for (; r < n; ) {
      const l = e.charCodeAt(r) - rt.ZERO;
      if (l >>> 0 > 9)
        break;
      i = i * 10 + l, r += 1;
    }
  if (r === s)
    return 0;
  r < n && e.charCodeAt(r) === rt.SEMI && (r += 1), i > 1114111 && (i = 1114112);
  let o = r - t;
  return o >= po && (Au = o, o = po), o << xu | i;
}
function gm(e, t, n) {
  const r = lm;
  let i = e.indexOf("&");
  if (i < 0)
    return e;
  const s = e.length;
  let o = 0, l = "";
  const c = r[0], a = c & ze.JUMP_TABLE, u = (c & ze.BRANCH_LENGTH) >> 7;
  do {
    const d = i + 1, m = e.charCodeAt(d);
    let g, p;
    if (m === rt.NUM) {
      const x = pm(e, d, s);
      g = am(x), g > 0 && e.charCodeAt(d + g - 1) !== rt.SEMI && (g = 0), p = g === 0 ? "" : sm(x & cm);
    } else if (dm(m)) {
      g = 0, p = "";
      const x = m - a;
      let v;
      if (x >>> 0 < u) {
        const F = r[1 + x];
        v = F === 0 ? -1 : u + F & 65535;
      } else
        v = -1;
      let D = 0, k = 0, w = v < 0 ? 0 : r[v], y = d + 1;
      e: for (; y < s; ) {
        for (
          ;
          // Value-less, non-run node with a nonzero jump offset.
          (w & (ze.VALUE_LENGTH | ze.FLAG13)) === 0 && (w & ze.JUMP_TABLE) !== 0;
        ) {
          const ee = w & ze.JUMP_TABLE, Q = (w & ze.BRANCH_LENGTH) >> 7;
          if (Q === 0) {
            if (e.charCodeAt(y) !== ee)
              break e;
            v += 1;
          } else {
            const ae = e.charCodeAt(y) - ee;
            if (ae >>> 0 >= Q)
              break e;
            const ne = r[v + 1 + ae];
            if (ne === 0)
              break e;
            v = v + Q + ne & 65535;
          }
          if (w = r[v], y += 1, y >= s)
            break e;
        }
        if ((w & (ze.VALUE_LENGTH | ze.FLAG13)) === ze.FLAG13) {
          const ee = (w & ze.BRANCH_LENGTH) >> 7;
          if (e.charCodeAt(y) !== (w & ze.JUMP_TABLE))
            break;
          y += 1;
          const Q = ee - 1;
          let ae = v + 1, ne = 0;
          for (; ne + 1 < Q; ne += 2) {
            const fe = r[ae];
            if (e.charCodeAt(y) !== (fe & 255) || (y += 1, e.charCodeAt(y) !== (fe >> 8 & 255)))
              break e;
            y += 1, ae += 1;
          }
          if (ne < Q) {
            if (e.charCodeAt(y) !== (r[ae] & 255))
              break;
            y += 1;
          }
          v += 1 + (ee >> 1), w = r[v];
          continue;
        }
        const F = w >>> 14, z = e.charCodeAt(y);
        if (F !== 0) {
          if (z === rt.SEMI) {
            g = y - d + 1, p = F === 1 ? String.fromCharCode(w & ze.VALUE_MASK) : Ic(r, v, F);
            break;
          }
          if (F === 1)
            break;
        }
        const B = hm(r, w, v + (F || 1), z);
        if (B < 0)
          break;
        v = B, w = r[v], y += 1;
      }
      p === "" && g > 0 && (p = Ic(r, D, k));
    } else
      g = 0, p = "";
    g === 0 || n ? i = d : (o < i && (l += e.slice(o, i)), l += p, i = o = d + g), e.charCodeAt(i) !== rt.AMP && (i = e.indexOf("&", i));
  } while (i >= 0);
  return l + e.slice(o);
}
function vu(e) {
  return gm(e, !0, !1);
}
var mm = class {
  src_Any = bu.source;
  src_Cc = yu.source;
  src_Z = ku.source;
  src_P = No.source;
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
}, Bs = {
  validate: (e, t, n) => {
    const r = n.re.get_http_validator();
    r.lastIndex = t;
    const i = r.exec(e);
    return i ? i[0].length : 0;
  },
  normalize: (e, t) => t.normalize(e)
}, _m = {
  "http:": Bs,
  "https:": Bs,
  "ftp:": Bs,
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
}, bm = "a:cdefgilmnoqrstuwxz|b:abdefghijmnorstvwyz|c:acdfghiklmnoruvwxyz|d:ejkmoz|e:cegrstu|f:ijkmor|g:abdefghilmnpqrstuwy|h:kmnrtu|i:delmnoqrst|j:emop|k:eghimnprwyz|l:abcikrstuvy|m:acdeghklmnopqrstuvwxyz|n:acefgilopruz|o:m|p:aefghklmnrstwy|q:a|r:eosuw|s:abcdeghijklmnortuvxyz|t:cdfghjklmnortvwz|u:agksyz|v:aceginu|w:fs|y:et|z:amw", ym = "biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф";
function wm() {
  const e = ym.split("|");
  return bm.split("|").forEach((t) => {
    const n = t.indexOf(":"), r = t.slice(0, n);
    for (const i of t.slice(n + 1)) e.push(r + i);
  }), e;
}
var km = {
  fuzzyLink: !1,
  fuzzyEmail: !0,
  fuzzyIP: !1,
  "---": !1,
  tlds: wm(),
  urlAuth: !1,
  maxLength: 1e4
}, Oc = class {
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
}, xm = class {
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
      ...km,
      ...n
    }, this.__schemas__ = { ..._m }, this.re = t || new mm(), this.re.set({
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
    let r, i, s, o, l, c, a = !1, u = !1, d = !1, m = 0;
    if (!e.length) return null;
    for (n.lastIndex = 0, this.__opts__.fuzzyLink && this.__schemas__["http:"] && (r = this.re.get_fuzzy_link_search(), r.lastIndex = 0), this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && (i = this.re.get_fuzzy_mail_host_search(), i.lastIndex = 0, s = this.re.get_mail_name_validator()); ; ) {
      const g = Math.max(m - 1, 0);
      if (i && s && !d && (!l || l.index < m))
        for (i.lastIndex < g && (i.lastIndex = g); ; ) {
          const k = i.exec(e);
          if (!k) {
            d = !0, l = void 0;
            break;
          }
          const w = s.exec(e.slice(Math.max(0, k.index - 65), k.index));
          if (w) {
            if (l = {
              schema: "mailto:",
              index: k.index - w[1].length,
              lastIndex: k.index + k[0].length
            }, l.index >= m) break;
            i.lastIndex < g && (i.lastIndex = g);
          }
        }
      if (r && !u && (!o || o.index < m))
        for (r.lastIndex < g && (r.lastIndex = g); ; ) {
          const k = r.exec(e);
          if (!k) {
            u = !0, o = void 0;
            break;
          }
          if (o = {
            schema: "",
            index: k.index + k[1].length,
            lastIndex: k.index + k[0].length
          }, o.index >= m) break;
          r.lastIndex < g && (r.lastIndex = g);
        }
      let p = l;
      (!p || o && (o.index < p.index || o.index === p.index && o.lastIndex > p.lastIndex)) && (p = o);
      let x;
      if (!a) for (; ; ) {
        if (!c) {
          n.lastIndex < g && (n.lastIndex = g);
          const y = n.exec(e);
          if (!y) {
            a = !0;
            break;
          }
          c = {
            schema: y[2],
            index: y.index + y[1].length,
            lastIndex: y.index + y[0].length
          };
        }
        if (c.index < m) {
          c = void 0;
          continue;
        }
        if (p && c.index > p.index) break;
        const k = c;
        c = void 0;
        const w = this.testSchemaAt(e, k.schema, k.lastIndex);
        if (w) {
          x = {
            schema: k.schema,
            index: k.index,
            lastIndex: k.lastIndex + w
          };
          break;
        }
      }
      let v = x;
      if ((!v || l && (l.index < v.index || l.index === v.index && l.lastIndex > v.lastIndex)) && (v = l), (!v || o && (o.index < v.index || o.index === v.index && o.lastIndex > v.lastIndex)) && (v = o), !v) break;
      v === l ? l = void 0 : v === o && (o = void 0);
      const D = new Oc(e, v.schema, v.index, v.lastIndex);
      D.schema ? this.__schemas__[D.schema].normalize(D, this) : this.normalize(D), t.push(D), m = v.lastIndex;
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
    const r = new Oc(e, t[2], t.index + t[1].length, t.index + t[0].length + n);
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
const Xn = 2147483647, Dt = 36, Mo = 1, Nr = 26, Am = 38, vm = 700, Ru = 72, Eu = 128, Cu = "-", Rm = /^xn--/, Em = /[^\0-\x7F]/, Cm = /[\x2E\u3002\uFF0E\uFF61]/g, Dm = {
  overflow: "Overflow: input needs wider integers to process",
  "not-basic": "Illegal input >= 0x80 (not a basic code point)",
  "invalid-input": "Invalid input"
}, $s = Dt - Mo, St = Math.floor, zs = String.fromCharCode;
function tn(e) {
  throw new RangeError(Dm[e]);
}
function Sm(e, t) {
  const n = [];
  let r = e.length;
  for (; r--; )
    n[r] = t(e[r]);
  return n;
}
function Du(e, t) {
  const n = e.split("@");
  let r = "";
  n.length > 1 && (r = n[0] + "@", e = n[1]), e = e.replace(Cm, ".");
  const i = e.split("."), s = Sm(i, t).join(".");
  return r + s;
}
function Su(e) {
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
const Tm = (e) => String.fromCodePoint(...e), Fm = function(e) {
  return e >= 48 && e < 58 ? 26 + (e - 48) : e >= 65 && e < 91 ? e - 65 : e >= 97 && e < 123 ? e - 97 : Dt;
}, Nc = function(e, t) {
  return e + 22 + 75 * (e < 26) - ((t != 0) << 5);
}, Tu = function(e, t, n) {
  let r = 0;
  for (e = n ? St(e / vm) : e >> 1, e += St(e / t); e > $s * Nr >> 1; r += Dt)
    e = St(e / $s);
  return St(r + ($s + 1) * e / (e + Am));
}, Fu = function(e) {
  const t = [], n = e.length;
  let r = 0, i = Eu, s = Ru, o = e.lastIndexOf(Cu);
  o < 0 && (o = 0);
  for (let l = 0; l < o; ++l)
    e.charCodeAt(l) >= 128 && tn("not-basic"), t.push(e.charCodeAt(l));
  for (let l = o > 0 ? o + 1 : 0; l < n; ) {
    const c = r;
    for (let u = 1, d = Dt; ; d += Dt) {
      l >= n && tn("invalid-input");
      const m = Fm(e.charCodeAt(l++));
      m >= Dt && tn("invalid-input"), m > St((Xn - r) / u) && tn("overflow"), r += m * u;
      const g = d <= s ? Mo : d >= s + Nr ? Nr : d - s;
      if (m < g)
        break;
      const p = Dt - g;
      u > St(Xn / p) && tn("overflow"), u *= p;
    }
    const a = t.length + 1;
    s = Tu(r - c, a, c == 0), St(r / a) > Xn - i && tn("overflow"), i += St(r / a), r %= a, t.splice(r++, 0, i);
  }
  return String.fromCodePoint(...t);
}, Iu = function(e) {
  const t = [];
  e = Su(e);
  const n = e.length;
  let r = Eu, i = 0, s = Ru;
  for (const c of e)
    c < 128 && t.push(zs(c));
  const o = t.length;
  let l = o;
  for (o && t.push(Cu); l < n; ) {
    let c = Xn;
    for (const u of e)
      u >= r && u < c && (c = u);
    const a = l + 1;
    c - r > St((Xn - i) / a) && tn("overflow"), i += (c - r) * a, r = c;
    for (const u of e)
      if (u < r && ++i > Xn && tn("overflow"), u === r) {
        let d = i;
        for (let m = Dt; ; m += Dt) {
          const g = m <= s ? Mo : m >= s + Nr ? Nr : m - s;
          if (d < g)
            break;
          const p = d - g, x = Dt - g;
          t.push(
            zs(Nc(g + p % x, 0))
          ), d = St(p / x);
        }
        t.push(zs(Nc(d, 0))), s = Tu(i, a, l === o), i = 0, ++l;
      }
    ++i, ++r;
  }
  return t.join("");
}, Im = function(e) {
  return Du(e, function(t) {
    return Rm.test(t) ? Fu(t.slice(4).toLowerCase()) : t;
  });
}, Om = function(e) {
  return Du(e, function(t) {
    return Em.test(t) ? "xn--" + Iu(t) : t;
  });
}, Mc = {
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
    decode: Su,
    encode: Tm
  },
  decode: Fu,
  encode: Iu,
  toASCII: Om,
  toUnicode: Im
};
var Lc = Object.defineProperty, Ou = (e, t) => {
  let n = {};
  for (var r in e) Lc(n, r, {
    get: e[r],
    enumerable: !0
  });
  return Lc(n, Symbol.toStringTag, { value: "Module" }), n;
}, Nm = /* @__PURE__ */ Ou({
  arrayReplaceAt: () => Mm,
  asciiTrim: () => Wi,
  callable: () => Nu,
  escapeHtml: () => fn,
  escapeRE: () => qm,
  fromCodePoint: () => Mr,
  isMdAsciiPunct: () => jr,
  isPunctChar: () => Lu,
  isPunctCharCode: () => Pr,
  isSpace: () => Ee,
  isValidEntityCode: () => Lo,
  isWhiteSpace: () => Lr,
  lib: () => Hm,
  normalizeReference: () => Ui,
  unescapeAll: () => ir,
  unescapeMd: () => Bm
});
function Nu(e) {
  const t = function(...n) {
    return Reflect.construct(e, n, new.target && new.target !== t ? new.target : e);
  };
  return Object.defineProperty(t, "name", { value: e.name }), Object.setPrototypeOf(t, e), t.prototype = e.prototype, t;
}
function Mm(e, t, n) {
  return [].concat(e.slice(0, t), n, e.slice(t + 1));
}
function Lo(e) {
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
var Mu = /\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, Lm = new RegExp(`${Mu.source}|${/&([a-z#][a-z0-9]{1,31});/gi.source}`, "gi"), Pm = /^#((?:x[a-f0-9]{1,8}|[0-9]{1,8}))$/i;
function jm(e, t) {
  if (t.charCodeAt(0) === 35 && Pm.test(t)) {
    const r = t[1].toLowerCase() === "x" ? parseInt(t.slice(2), 16) : parseInt(t.slice(1), 10);
    return Lo(r) ? Mr(r) : e;
  }
  const n = vu(e);
  return n !== e ? n : e;
}
function Bm(e) {
  return e.indexOf("\\") < 0 ? e : e.replace(Mu, "$1");
}
function ir(e) {
  return e.indexOf("\\") < 0 && e.indexOf("&") < 0 ? e : e.replace(Lm, function(t, n, r) {
    return n || jm(t, r);
  });
}
var $m = /[&<>"]/, zm = /[&<>"]/g, Um = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;"
};
function Wm(e) {
  return Um[e];
}
function fn(e) {
  return $m.test(e) ? e.replace(zm, Wm) : e;
}
var Jm = /[.?*+^$[\]\\(){}|-]/g;
function qm(e) {
  return e.replace(Jm, "\\$&");
}
function Ee(e) {
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
function Lu(e) {
  return No.test(e) || wu.test(e);
}
function Pr(e) {
  return Lu(Mr(e));
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
function Ui(e) {
  return e = e.trim().replace(/\s+/g, " "), e.toLowerCase().toUpperCase();
}
function Pc(e) {
  return e === 32 || e === 9 || e === 10 || e === 13;
}
function Wi(e) {
  let t = 0;
  for (; t < e.length && Pc(e.charCodeAt(t)); t++) ;
  let n = e.length - 1;
  for (; n >= t && Pc(e.charCodeAt(n)); n--) ;
  return e.slice(t, n + 1);
}
var Hm = {
  mdurl: Qg,
  ucmicro: tm
};
function Vm(e, t, n) {
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
function Gm(e, t, n) {
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
        return s.pos = i + 1, s.str = ir(e.slice(t + 1, i)), s.ok = !0, s;
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
  return t === i || o !== 0 || (s.str = ir(e.slice(t, i)), s.pos = i, s.ok = !0), s;
}
function Km(e, t, n, r) {
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
      return o.pos = s + 1, o.str += ir(e.slice(t, s)), o.ok = !0, o;
    if (i === 40 && o.marker === 41) return o;
    i === 92 && s + 1 < n && s++, s++;
  }
  return o.can_continue = !0, o.str += ir(e.slice(t, s)), o;
}
var Ym = /* @__PURE__ */ Ou({
  parseLinkDestination: () => Gm,
  parseLinkLabel: () => Vm,
  parseLinkTitle: () => Km
});
function Br(e) {
  "@babel/helpers - typeof";
  return Br = typeof Symbol == "function" && typeof Symbol.iterator == "symbol" ? function(t) {
    return typeof t;
  } : function(t) {
    return t && typeof Symbol == "function" && t.constructor === Symbol && t !== Symbol.prototype ? "symbol" : typeof t;
  }, Br(e);
}
function Xm(e, t) {
  if (Br(e) != "object" || !e) return e;
  var n = e[Symbol.toPrimitive];
  if (n !== void 0) {
    var r = n.call(e, t);
    if (Br(r) != "object") return r;
    throw new TypeError("@@toPrimitive must return a primitive value.");
  }
  return (t === "string" ? String : Number)(e);
}
function Zm(e) {
  var t = Xm(e, "string");
  return Br(t) == "symbol" ? t : t + "";
}
function K(e, t, n) {
  return (t = Zm(t)) in e ? Object.defineProperty(e, t, {
    value: n,
    enumerable: !0,
    configurable: !0,
    writable: !0
  }) : e[t] = n, e;
}
var On = class {
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
}, $r = class {
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
}, It = {};
It.code_inline = function(e, t, n, r, i) {
  const s = e[t];
  return `<code${i.renderAttrs(s)}>${fn(s.content)}</code>`;
};
It.code_block = function(e, t, n, r, i) {
  const s = e[t];
  return `<pre${i.renderAttrs(s)}><code>${fn(e[t].content)}</code></pre>
`;
};
It.fence = function(e, t, n, r, i) {
  const s = e[t], o = s.info ? ir(s.info).trim() : "";
  let l = "", c = "";
  if (o) {
    const u = o.split(/(\s+)/g);
    l = u[0], c = u.slice(2).join("");
  }
  let a;
  if (n.highlight ? a = n.highlight(s.content, l, c) || fn(s.content) : a = fn(s.content), a.indexOf("<pre") === 0) return a + `
`;
  if (o) {
    const u = s.attrIndex("class"), d = s.attrs ? s.attrs.slice() : [];
    u < 0 ? d.push(["class", `${n.langPrefix}${l}`]) : (d[u] = [d[u][0], d[u][1]], d[u][1] += ` ${n.langPrefix}${l}`);
    const m = { attrs: d };
    return `<pre><code${i.renderAttrs(m)}>${a}</code></pre>
`;
  }
  return `<pre><code${i.renderAttrs(s)}>${a}</code></pre>
`;
};
It.image = function(e, t, n, r, i) {
  const s = e[t];
  return s.attrs[s.attrIndex("alt")][1] = i.renderInlineAsText(s.children, n, r), i.renderToken(e, t, n);
};
It.hardbreak = function(e, t, n) {
  return n.xhtmlOut ? `<br />
` : `<br>
`;
};
It.softbreak = function(e, t, n) {
  return n.breaks ? n.xhtmlOut ? `<br />
` : `<br>
` : `
`;
};
It.text = function(e, t) {
  return fn(e[t].content);
};
It.html_block = function(e, t) {
  return e[t].content;
};
It.html_inline = function(e, t) {
  return e[t].content;
};
var Pu = class {
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
      Object.assign({}, It)
    );
  }
  /**
  * Render token attributes to string.
  */
  renderAttrs(e) {
    let t, n, r;
    if (!e.attrs) return "";
    for (r = "", t = 0, n = e.attrs.length; t < n; t++) r += ` ${fn(e.attrs[t][0])}="${fn(String(e.attrs[t][1]))}"`;
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
}, ju = class {
  constructor(e, t, n) {
    K(this, "tokens", []), K(this, "inlineMode", !1), K(this, "Token", On), this.src = e, this.env = n, this.md = t;
  }
}, Qm = /\r\n?/g, e_ = /\0/g;
function t_(e) {
  let t;
  t = e.src.replace(Qm, `
`), t = t.replace(e_, "�"), e.src = t;
}
function n_(e) {
  let t;
  e.inlineMode ? (t = new e.Token("inline", "", 0), t.content = e.src, t.map = [0, 1], t.children = [], e.tokens.push(t)) : e.md.block.parse(e.src, e.md, e.env, e.tokens);
}
function r_(e) {
  const t = e.tokens;
  let n = 0;
  for (let r = 0; r < t.length; r++)
    t[r].type !== "reference_definition" && (r !== n && (t[n] = t[r]), n++);
  t.length !== n && (t.length = n);
}
function i_(e) {
  const t = e.tokens;
  for (let n = 0, r = t.length; n < r; n++) {
    const i = t[n];
    i.type === "inline" && e.md.inline.parse(i.content, e.md, e.env, i.children);
  }
}
function s_(e) {
  return /^<a[>\s]/i.test(e);
}
function o_(e) {
  return /^<\/a\s*>/i.test(e);
}
function l_(e) {
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
        if (c.type === "html_inline" && (s_(c.content) && o > 0 && o--, o_(c.content) && o++), !(o > 0) && c.type === "text" && e.md.linkify.test(c.content)) {
          const a = c.content;
          let u = e.md.linkify.match(a);
          const d = [];
          let m = c.level, g = 0;
          u.length > 0 && u[0].index === 0 && l > 0 && i[l - 1].type === "text_special" && (u = u.slice(1));
          for (let p = 0; p < u.length; p++) {
            const x = u[p].url, v = e.md.normalizeLink(x);
            if (!e.md.validateLink(v)) continue;
            let D = u[p].text;
            u[p].schema ? u[p].schema === "mailto:" && !/^mailto:/i.test(D) ? D = e.md.normalizeLinkText(`mailto:${D}`).replace(/^mailto:/, "") : D = e.md.normalizeLinkText(D) : D = e.md.normalizeLinkText(`http://${D}`).replace(/^http:\/\//, "");
            const k = u[p].index;
            if (k > g) {
              const z = new e.Token("text", "", 0);
              z.content = a.slice(g, k), z.level = m, d.push(z);
            }
            const w = new e.Token("link_open", "a", 1);
            w.attrs = [["href", v]], w.level = m++, w.markup = "linkify", w.info = "auto", d.push(w);
            const y = new e.Token("text", "", 0);
            y.content = D, y.level = m, d.push(y);
            const F = new e.Token("link_close", "a", -1);
            F.level = --m, F.markup = "linkify", F.info = "auto", d.push(F), g = u[p].lastIndex;
          }
          if (g < a.length) {
            const p = new e.Token("text", "", 0);
            p.content = a.slice(g), p.level = m, d.push(p);
          }
          s.push({
            index: l,
            nodes: d
          });
        }
      }
      if (s.length > 0) {
        let l = i.length;
        for (const d of s) l += d.nodes.length - 1;
        const c = new Array(l);
        let a = 0, u = 0;
        s.reverse();
        for (let d = 0; d < i.length; d++) {
          const m = s[a];
          if (m?.index === d) {
            for (const g of m.nodes) c[u++] = g;
            a++;
          } else c[u++] = i[d];
        }
        t[n].children = c;
      }
    }
}
var Bu = /\+-|\.\.|\?\?\?\?|!!!!|,,|--/, c_ = /\((c|tm|r)\)/i, a_ = /\((c|tm|r)\)/gi, u_ = {
  c: "©",
  r: "®",
  tm: "™"
};
function f_(e, t) {
  return u_[t.toLowerCase()];
}
function d_(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && (r.content = r.content.replace(a_, f_)), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function h_(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const r = e[n];
    r.type === "text" && !t && Bu.test(r.content) && (r.content = r.content.replace(/\+-/g, "±").replace(/\.{2,}/g, "…").replace(/([?!])…/g, "$1..").replace(/([?!]){4,}/g, "$1$1$1").replace(/,{2,}/g, ",").replace(/(^|[^-])---(?=[^-]|$)/gm, "$1—").replace(/(^|\s)--(?=\s|$)/gm, "$1–").replace(/(^|[^-\s])--(?=[^-\s]|$)/gm, "$1–")), r.type === "link_open" && r.info === "auto" && t--, r.type === "link_close" && r.info === "auto" && t++;
  }
}
function p_(e) {
  let t;
  if (e.md.options.typographer)
    for (t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type === "inline" && (c_.test(e.tokens[t].content) && d_(e.tokens[t].children), Bu.test(e.tokens[t].content) && h_(e.tokens[t].children));
}
var g_ = /['"]/, jc = /['"]/g, Bc = "’", m_ = 1e3;
function $c(e, t, n) {
  for (; e.length > n; ) {
    const r = e.pop();
    r.isSingleQuote ? t.single = r.prevSameQuoteIdx : t.double = r.prevSameQuoteIdx;
  }
}
function ci(e, t, n, r) {
  e[t] || (e[t] = []), e[t].push({
    pos: n,
    ch: r
  });
}
function __(e, t) {
  let n = "", r = 0;
  t.sort((i, s) => i.pos - s.pos);
  for (let i = 0; i < t.length; i++) {
    const s = t[i];
    n += e.slice(r, s.pos) + s.ch, r = s.pos + 1;
  }
  return n + e.slice(r);
}
function b_(e, t) {
  let n;
  const r = [], i = {
    single: -1,
    double: -1
  }, s = {};
  for (let o = 0; o < e.length; o++) {
    const l = e[o], c = e[o].level;
    for (n = r.length - 1; n >= 0 && !(r[n].level <= c); n--) ;
    if ($c(r, i, n + 1), l.type !== "text") continue;
    const a = l.content;
    let u = 0;
    const d = a.length;
    e: for (; u < d; ) {
      jc.lastIndex = u;
      const m = jc.exec(a);
      if (!m) break;
      let g = !0, p = !0;
      u = m.index + 1;
      const x = m[0] === "'";
      let v = 32;
      if (m.index - 1 >= 0) v = a.charCodeAt(m.index - 1);
      else for (n = o - 1; n >= 0 && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n--)
        if (e[n].content) {
          v = e[n].content.charCodeAt(e[n].content.length - 1);
          break;
        }
      let D = 32;
      if (u < d) D = a.charCodeAt(u);
      else for (n = o + 1; n < e.length && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n++)
        if (e[n].content) {
          D = e[n].content.charCodeAt(0);
          break;
        }
      const k = jr(v) || Pr(v), w = jr(D) || Pr(D), y = Lr(v), F = Lr(D);
      if (F ? g = !1 : w && (y || k || (g = !1)), y ? p = !1 : k && (F || w || (p = !1)), D === 34 && m[0] === '"' && v >= 48 && v <= 57 && (p = g = !1), g && p && (g = k, p = w), !g && !p) {
        x && ci(s, o, m.index, Bc);
        continue;
      }
      if (p && (n = x ? i.single : i.double, n >= 0 && r[n].level === c)) {
        const z = r[n];
        let B, ee;
        x ? (B = t.md.options.quotes[2], ee = t.md.options.quotes[3]) : (B = t.md.options.quotes[0], ee = t.md.options.quotes[1]), ci(s, o, m.index, ee), ci(s, z.tokenIdx, z.contentPos, B), $c(r, i, n);
        continue e;
      }
      if (g) {
        if (r.length >= m_) return;
        r.push({
          tokenIdx: o,
          contentPos: m.index,
          isSingleQuote: x,
          level: c,
          prevSameQuoteIdx: x ? i.single : i.double
        }), x ? i.single = r.length - 1 : i.double = r.length - 1;
      } else p && x && ci(s, o, m.index, Bc);
    }
  }
  Object.keys(s).forEach(function(o) {
    const l = Number(o);
    e[l].content = __(e[l].content, s[o]);
  });
}
function y_(e) {
  if (e.md.options.typographer)
    for (let t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type !== "inline" || !g_.test(e.tokens[t].content) || b_(e.tokens[t].children, e);
}
function w_(e) {
  let t, n;
  const r = e.length;
  for (t = 0; t < r; t++) e[t].type === "text_special" && (e[t].type = "text");
  for (t = n = 0; t < r; t++) e[t].type === "text" && t + 1 < r && e[t + 1].type === "text" ? e[t + 1].content = e[t].content + e[t + 1].content : (t !== n && (e[n] = e[t]), n++);
  t !== n && (e.length = n);
}
function k_(e) {
  let t, n;
  const r = e.tokens, i = r.length;
  for (let s = 0; s < i; s++) {
    if (r[s].type !== "inline") continue;
    const o = r[s].children, l = o.length;
    for (t = 0; t < l; t++)
      o[t].type === "text_special" && (o[t].type = "text"), o[t].children && w_(o[t].children);
    for (t = n = 0; t < l; t++) o[t].type === "text" && t + 1 < l && o[t + 1].type === "text" ? o[t + 1].content = o[t].content + o[t + 1].content : (t !== n && (o[n] = o[t]), n++);
    t !== n && (o.length = n);
  }
}
var Us = [
  ["normalize", t_],
  ["block", n_],
  ["strip_references", r_],
  ["inline", i_],
  ["linkify", l_],
  ["replacements", p_],
  ["smartquotes", y_],
  ["text_join", k_]
], $u = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of core rules.
      */
      "ruler",
      new $r()
    ), K(this, "State", ju);
    for (let e = 0; e < Us.length; e++) this.ruler.push(Us[e][0], Us[e][1]);
  }
  /**
  * Executes core chain rules.
  */
  process(e) {
    const t = this.ruler.getRules("");
    for (let n = 0, r = t.length; n < r; n++) t[n](e);
  }
}, zu = class {
  constructor(e, t, n, r) {
    K(this, "bMarks", []), K(this, "eMarks", []), K(this, "tShift", []), K(this, "sCount", []), K(this, "bsCount", []), K(this, "blkIndent", 0), K(this, "line", 0), K(this, "lineMax", 0), K(this, "tight", !1), K(this, "listIndent", -1), K(this, "parentType", "root"), K(this, "level", 0), K(this, "Token", On), this.src = e, this.md = t, this.env = n, this.tokens = r;
    const i = this.src;
    for (let s = 0, o = 0, l = 0, c = 0, a = i.length, u = !1; o < a; o++) {
      const d = i.charCodeAt(o);
      if (!u)
        if (Ee(d)) {
          l++, d === 9 ? c += 4 - c % 4 : c++;
          continue;
        } else u = !0;
      (d === 10 || o === a - 1) && (d !== 10 && o++, this.bMarks.push(s), this.eMarks.push(o), this.tShift.push(l), this.sCount.push(c), this.bsCount.push(0), u = !1, l = 0, c = 0, s = o + 1);
    }
    this.bMarks.push(i.length), this.eMarks.push(i.length), this.tShift.push(0), this.sCount.push(0), this.bsCount.push(0), this.lineMax = this.bMarks.length - 1;
  }
  push(e, t, n) {
    const r = new On(e, t, n);
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
    for (let t = this.src.length; e < t && Ee(this.src.charCodeAt(e)); e++) ;
    return e;
  }
  skipSpacesBack(e, t) {
    if (e <= t) return e;
    for (; e > t; ) if (!Ee(this.src.charCodeAt(--e))) return e + 1;
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
        const d = this.src.charCodeAt(a);
        if (Ee(d))
          d === 9 ? l += 4 - (l + this.bsCount[o]) % 4 : l++;
        else if (a - c < this.tShift[o]) l++;
        else break;
        a++;
      }
      l > n ? i[s] = new Array(l - n + 1).join(" ") + this.src.slice(a, u) : i[s] = this.src.slice(a, u);
    }
    return i.join("");
  }
}, x_ = 65536;
function Ws(e, t) {
  const n = e.bMarks[t] + e.tShift[t], r = e.eMarks[t];
  return e.src.slice(n, r);
}
function zc(e) {
  const t = [], n = e.length;
  let r = 0, i = e.charCodeAt(r), s = !1, o = 0, l = "";
  for (; r < n; )
    i === 124 && (s ? (l += e.substring(o, r - 1), o = r) : (t.push(l + e.substring(o, r)), l = "", o = r + 1)), s = i === 92, r++, i = e.charCodeAt(r);
  return t.push(l + e.substring(o)), t;
}
function A_(e, t, n, r) {
  if (t + 2 > n) return !1;
  let i = t + 1;
  if (e.sCount[i] < e.blkIndent || e.sCount[i] - e.blkIndent >= 4) return !1;
  let s = e.bMarks[i] + e.tShift[i];
  if (s >= e.eMarks[i]) return !1;
  const o = e.src.charCodeAt(s++);
  if (o !== 124 && o !== 45 && o !== 58 || s >= e.eMarks[i]) return !1;
  const l = e.src.charCodeAt(s++);
  if (l !== 124 && l !== 45 && l !== 58 && !Ee(l) || o === 45 && Ee(l)) return !1;
  for (; s < e.eMarks[i]; ) {
    const y = e.src.charCodeAt(s);
    if (y !== 124 && y !== 45 && y !== 58 && !Ee(y)) return !1;
    s++;
  }
  let c = Ws(e, t + 1), a = c.split("|");
  const u = [];
  for (let y = 0; y < a.length; y++) {
    const F = a[y].trim();
    if (!F) {
      if (y === 0 || y === a.length - 1) continue;
      return !1;
    }
    if (!/^:?-+:?$/.test(F)) return !1;
    F.charCodeAt(F.length - 1) === 58 ? u.push(F.charCodeAt(0) === 58 ? "center" : "right") : F.charCodeAt(0) === 58 ? u.push("left") : u.push("");
  }
  if (c = Ws(e, t).trim(), c.indexOf("|") === -1 || e.sCount[t] - e.blkIndent >= 4) return !1;
  a = zc(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop();
  const d = a.length;
  if (d === 0 || d !== u.length) return !1;
  if (r) return !0;
  const m = e.parentType;
  e.parentType = "table";
  const g = e.md.block.ruler.getRules("blockquote"), p = e.push("table_open", "table", 1), x = [t, 0];
  p.map = x;
  const v = e.push("thead_open", "thead", 1);
  v.map = [t, t + 1];
  const D = e.push("tr_open", "tr", 1);
  D.map = [t, t + 1];
  for (let y = 0; y < a.length; y++) {
    const F = e.push("th_open", "th", 1);
    u[y] && (F.attrs = [["style", `text-align:${u[y]}`]]);
    const z = e.push("inline", "", 0);
    z.content = a[y].trim(), z.children = [], e.push("th_close", "th", -1);
  }
  e.push("tr_close", "tr", -1), e.push("thead_close", "thead", -1);
  let k, w = 0;
  for (i = t + 2; i < n && !(e.sCount[i] < e.blkIndent); i++) {
    let y = !1;
    for (let z = 0, B = g.length; z < B; z++) if (g[z](e, i, n, !0)) {
      y = !0;
      break;
    }
    if (y || (c = Ws(e, i).trim(), !c) || e.sCount[i] - e.blkIndent >= 4 || (a = zc(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop(), w += d - a.length, w > x_)) break;
    if (i === t + 2) {
      const z = e.push("tbody_open", "tbody", 1);
      z.map = k = [t + 2, 0];
    }
    const F = e.push("tr_open", "tr", 1);
    F.map = [i, i + 1];
    for (let z = 0; z < d; z++) {
      const B = e.push("td_open", "td", 1);
      u[z] && (B.attrs = [["style", `text-align:${u[z]}`]]);
      const ee = e.push("inline", "", 0);
      ee.content = a[z] ? a[z].trim() : "", ee.children = [], e.push("td_close", "td", -1);
    }
    e.push("tr_close", "tr", -1);
  }
  return k && (e.push("tbody_close", "tbody", -1), k[1] = i), e.push("table_close", "table", -1), x[1] = i, e.parentType = m, e.line = i, !0;
}
function v_(e, t, n) {
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
function R_(e, t, n, r) {
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
  let d = t, m = !1;
  for (; d++, !(d >= n || (i = l = e.bMarks[d] + e.tShift[d], s = e.eMarks[d], i < s && e.sCount[d] < e.blkIndent)); )
    if (e.src.charCodeAt(i) === o && !(e.sCount[d] - e.blkIndent >= 4) && (i = e.skipChars(i, o), !(i - l < c) && (i = e.skipSpaces(i), !(i < s)))) {
      m = !0;
      break;
    }
  c = e.sCount[t], e.line = d + (m ? 1 : 0);
  const g = e.push("fence", "code", 0);
  return g.info = u, g.content = e.getLines(t + 1, d, c, !0), g.markup = a, g.map = [t, e.line], !0;
}
function E_(e, t, n, r) {
  let i = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  const o = e.lineMax;
  if (e.sCount[t] - e.blkIndent >= 4 || e.src.charCodeAt(i) !== 62) return !1;
  if (r) return !0;
  const l = [], c = [], a = [], u = [], d = e.md.block.ruler.getRules("blockquote"), m = e.parentType;
  e.parentType = "blockquote";
  let g = !1, p;
  for (p = t; p < n; p++) {
    const w = e.sCount[p] < e.blkIndent;
    if (i = e.bMarks[p] + e.tShift[p], s = e.eMarks[p], i >= s) break;
    if (e.src.charCodeAt(i++) === 62 && !w) {
      let F = e.sCount[p] + 1, z, B;
      e.src.charCodeAt(i) === 32 ? (i++, F++, B = !1, z = !0) : e.src.charCodeAt(i) === 9 ? (z = !0, (e.bsCount[p] + F) % 4 === 3 ? (i++, F++, B = !1) : B = !0) : z = !1;
      let ee = F;
      for (l.push(e.bMarks[p]), e.bMarks[p] = i; i < s; ) {
        const Q = e.src.charCodeAt(i);
        if (Ee(Q))
          Q === 9 ? ee += 4 - (ee + e.bsCount[p] + (B ? 1 : 0)) % 4 : ee++;
        else break;
        i++;
      }
      g = i >= s, c.push(e.bsCount[p]), e.bsCount[p] = e.sCount[p] + 1 + (z ? 1 : 0), a.push(e.sCount[p]), e.sCount[p] = ee - F, u.push(e.tShift[p]), e.tShift[p] = i - e.bMarks[p];
      continue;
    }
    if (g) break;
    let y = !1;
    for (let F = 0, z = d.length; F < z; F++) if (d[F](e, p, n, !0)) {
      y = !0;
      break;
    }
    if (y) {
      e.lineMax = p, e.blkIndent !== 0 && (l.push(e.bMarks[p]), c.push(e.bsCount[p]), u.push(e.tShift[p]), a.push(e.sCount[p]), e.sCount[p] -= e.blkIndent);
      break;
    }
    l.push(e.bMarks[p]), c.push(e.bsCount[p]), u.push(e.tShift[p]), a.push(e.sCount[p]), e.sCount[p] = -1;
  }
  const x = e.blkIndent;
  e.blkIndent = 0;
  const v = e.push("blockquote_open", "blockquote", 1);
  v.markup = ">";
  const D = [t, 0];
  v.map = D, e.md.block.tokenize(e, t, p);
  const k = e.push("blockquote_close", "blockquote", -1);
  k.markup = ">", e.lineMax = o, e.parentType = m, D[1] = e.line;
  for (let w = 0; w < u.length; w++)
    e.bMarks[w + t] = l[w], e.tShift[w + t] = u[w], e.sCount[w + t] = a[w], e.bsCount[w + t] = c[w];
  return e.blkIndent = x, !0;
}
function C_(e, t, n, r) {
  const i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let s = e.bMarks[t] + e.tShift[t];
  const o = e.src.charCodeAt(s++);
  if (o !== 42 && o !== 45 && o !== 95) return !1;
  let l = 1;
  for (; s < i; ) {
    const a = e.src.charCodeAt(s++);
    if (a !== o && !Ee(a)) return !1;
    a === o && l++;
  }
  if (l < 3) return !1;
  if (r) return !0;
  e.line = t + 1;
  const c = e.push("hr", "hr", 0);
  return c.map = [t, e.line], c.markup = Array(l + 1).join(String.fromCharCode(o)), !0;
}
function Uc(e, t) {
  const n = e.eMarks[t];
  let r = e.bMarks[t] + e.tShift[t];
  const i = e.src.charCodeAt(r++);
  return i !== 42 && i !== 45 && i !== 43 || r < n && !Ee(e.src.charCodeAt(r)) ? -1 : r;
}
function Wc(e, t) {
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
  return i < r && (s = e.src.charCodeAt(i), !Ee(s)) ? -1 : i;
}
function D_(e, t) {
  const n = e.level + 2;
  for (let r = t + 2, i = e.tokens.length - 2; r < i; r++) e.tokens[r].level === n && e.tokens[r].type === "paragraph_open" && (e.tokens[r + 2].hidden = !0, e.tokens[r].hidden = !0, r += 2);
}
function S_(e, t, n, r) {
  let i, s, o, l, c = t, a = !0;
  if (e.sCount[c] - e.blkIndent >= 4 || e.listIndent >= 0 && e.sCount[c] - e.listIndent >= 4 && e.sCount[c] < e.blkIndent) return !1;
  let u = !1;
  r && e.parentType === "paragraph" && e.sCount[c] >= e.blkIndent && (u = !0);
  let d, m, g;
  if ((g = Wc(e, c)) >= 0) {
    if (d = !0, o = e.bMarks[c] + e.tShift[c], m = Number(e.src.slice(o, g - 1)), u && m !== 1) return !1;
  } else if ((g = Uc(e, c)) >= 0) d = !1;
  else return !1;
  if (u && e.skipSpaces(g) >= e.eMarks[c])
    return !1;
  if (r) return !0;
  const p = e.src.charCodeAt(g - 1), x = e.tokens.length;
  d ? (l = e.push("ordered_list_open", "ol", 1), m !== 1 && (l.attrs = [["start", m]])) : l = e.push("bullet_list_open", "ul", 1);
  const v = [c, 0];
  l.map = v, l.markup = String.fromCharCode(p);
  let D = !1;
  const k = e.md.block.ruler.getRules("list"), w = e.parentType;
  for (e.parentType = "list"; c < n; ) {
    s = g, i = e.eMarks[c];
    const y = e.sCount[c] + g - (e.bMarks[c] + e.tShift[c]);
    let F = y;
    for (; s < i; ) {
      const ke = e.src.charCodeAt(s);
      if (ke === 9) F += 4 - (F + e.bsCount[c]) % 4;
      else if (ke === 32) F++;
      else break;
      s++;
    }
    const z = s;
    let B;
    z >= i ? B = 1 : B = F - y, B > 4 && (B = 1);
    const ee = y + B;
    l = e.push("list_item_open", "li", 1), l.markup = String.fromCharCode(p);
    const Q = [c, 0];
    l.map = Q, d && (l.info = e.src.slice(o, g - 1));
    const ae = e.tight, ne = e.tShift[c], fe = e.sCount[c], Ce = e.listIndent;
    if (e.listIndent = e.blkIndent, e.blkIndent = ee, e.tight = !0, e.tShift[c] = z - e.bMarks[c], e.sCount[c] = F, z >= i && e.isEmpty(c + 1) ? e.line = Math.min(e.line + 2, n) : e.md.block.tokenize(e, c, n), (!e.tight || D) && (a = !1), D = e.line - c > 1 && e.isEmpty(e.line - 1), e.blkIndent = e.listIndent, e.listIndent = Ce, e.tShift[c] = ne, e.sCount[c] = fe, e.tight = ae, l = e.push("list_item_close", "li", -1), l.markup = String.fromCharCode(p), c = e.line, Q[1] = c, c >= n || e.sCount[c] < e.blkIndent || e.sCount[c] - e.blkIndent >= 4) break;
    let ye = !1;
    for (let ke = 0, lt = k.length; ke < lt; ke++) if (k[ke](e, c, n, !0)) {
      ye = !0;
      break;
    }
    if (ye) break;
    if (d) {
      if (g = Wc(e, c), g < 0) break;
      o = e.bMarks[c] + e.tShift[c];
    } else if (g = Uc(e, c), g < 0) break;
    if (p !== e.src.charCodeAt(g - 1)) break;
  }
  return d ? l = e.push("ordered_list_close", "ol", -1) : l = e.push("bullet_list_close", "ul", -1), l.markup = String.fromCharCode(p), v[1] = c, e.line = c, e.parentType = w, a && D_(e, x), !0;
}
var Js = 999;
function T_(e) {
  let t = e.length;
  for (let n = 0; n < e.length - 1; n++) {
    const r = e.charCodeAt(n);
    if (r < 55296 || r > 56319) continue;
    const i = e.charCodeAt(n + 1);
    i >= 56320 && i <= 57343 && (t--, n++);
  }
  return t;
}
function gr(e, t) {
  return Math.min(e.eMarks[t] + 1, e.src.length);
}
function ai(e, t) {
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
function F_(e, t, n, r) {
  const i = e.src;
  let s = e.bMarks[t] + e.tShift[t], o = t + 1;
  if (e.sCount[t] - e.blkIndent >= 4 || i.charCodeAt(s) !== 91) return !1;
  let l = gr(e, t), c = "", a = -1, u = ++s;
  for (; s < l; ) {
    if (c.length + s - u > Js * 2) return !1;
    let z = i.charCodeAt(s);
    if (z === 91) return !1;
    if (z === 93) {
      a = s;
      break;
    }
    if (z === 92 && (z = i.charCodeAt(++s)), z === 10 && s < l) {
      const B = ai(e, o);
      if (B < 0) return !1;
      c += i.slice(u, l), s = u = B, l = gr(e, o++);
      continue;
    }
    s++;
  }
  if (a < 0 || i.charCodeAt(a + 1) !== 58 || (c += i.slice(u, a), c.length > Js && T_(c) > Js)) return !1;
  for (s = a + 2; s < l; ) {
    const z = i.charCodeAt(s);
    if (z === 10) {
      const B = ai(e, o);
      if (B < 0) break;
      s = B, l = gr(e, o++);
    } else if (Ee(z)) s++;
    else break;
  }
  const d = e.md.helpers.parseLinkDestination(i, s, l);
  if (!d.ok) return !1;
  const m = e.md.normalizeLink(d.str);
  if (!e.md.validateLink(m)) return !1;
  s = d.pos;
  const g = s, p = l, x = o;
  for (; s < l; ) {
    const z = i.charCodeAt(s);
    if (z === 10) {
      const B = ai(e, o);
      if (B < 0) break;
      s = B, l = gr(e, o++);
    } else if (Ee(z)) s++;
    else break;
  }
  const v = s;
  let D = e.md.helpers.parseLinkTitle(i, s, l);
  for (; D.can_continue; ) {
    const z = ai(e, o);
    if (z < 0) break;
    s = z, l = gr(e, o++), D = e.md.helpers.parseLinkTitle(i, s, l, D);
  }
  let k;
  for (v !== g && D.ok ? (k = D.str, s = D.pos) : (k = "", s = g, l = p, o = x); s < l && Ee(i.charCodeAt(s)); )
    s++;
  if (s < l && i.charCodeAt(s) !== 10 && k)
    for (k = "", s = g, l = p, o = x; s < l && Ee(i.charCodeAt(s)); )
      s++;
  if (s < l && i.charCodeAt(s) !== 10) return !1;
  const w = Ui(c);
  if (!w) return !1;
  if (r) return !0;
  typeof e.env.references > "u" && (e.env.references = {}), typeof e.env.references[w] > "u" && (e.env.references[w] = {
    title: k,
    href: m
  });
  const y = e.push("reference_definition", "", 0);
  y.map = [t, o], y.hidden = !0;
  const F = /* @__PURE__ */ Object.create(null);
  return F.label = w, y.meta = F, e.line = o, !0;
}
var I_ = [
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
], O_ = `<[A-Za-z][A-Za-z0-9\\-]*(?:\\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\\s*=\\s*(?:[^"'=<>\`\\x00-\\x20]+|'[^']*'|"[^"]*"))?)*\\s*\\/?>`, N_ = "<\\/[A-Za-z][A-Za-z0-9\\-]*\\s*>", Uu = new RegExp(`^(?:${O_}|${N_})`), xn = [
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
    new RegExp(`^</?(${I_.join("|")})(?=(\\s|/?>|$))`, "i"),
    /^$/,
    !0
  ],
  [
    new RegExp(`${Uu.source}\\s*$`),
    /^$/,
    !1
  ]
];
function M_(e, t, n, r) {
  let i = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || !e.md.options.html || e.src.charCodeAt(i) !== 60) return !1;
  let o = e.src.slice(i, s), l = 0;
  for (; l < xn.length && !xn[l][0].test(o); l++) ;
  if (l === xn.length) return !1;
  if (r) return xn[l][2];
  let c = t + 1;
  const a = xn[l][1].test("");
  if (!xn[l][1].test(o)) {
    for (; c < n && !(e.sCount[c] < e.blkIndent && (a || !e.isEmpty(c))); c++)
      if (i = e.bMarks[c] + e.tShift[c], s = e.eMarks[c], o = e.src.slice(i, s), xn[l][1].test(o)) {
        o.length !== 0 && c++;
        break;
      }
  }
  e.line = c;
  const u = e.push("html_block", "", 0);
  return u.map = [t, c], u.content = e.getLines(t, c, e.blkIndent, !0), !0;
}
function L_(e, t, n, r) {
  let i = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let o = e.src.charCodeAt(i);
  if (o !== 35 || i >= s) return !1;
  let l = 1;
  for (o = e.src.charCodeAt(++i); o === 35 && i < s && l <= 6; )
    l++, o = e.src.charCodeAt(++i);
  if (l > 6 || i < s && !Ee(o)) return !1;
  if (r) return !0;
  s = e.skipSpacesBack(s, i);
  const c = e.skipCharsBack(s, 35, i);
  c > i && Ee(e.src.charCodeAt(c - 1)) && (s = c), e.line = t + 1;
  const a = e.push("heading_open", `h${l}`, 1);
  a.markup = "########".slice(0, l), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = Wi(e.src.slice(i, s)), u.map = [t, e.line], u.children = [];
  const d = e.push("heading_close", `h${l}`, -1);
  return d.markup = "########".slice(0, l), !0;
}
function P_(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph");
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  const i = e.parentType;
  e.parentType = "paragraph";
  let s = 0, o, l = t + 1;
  for (; l < n && !e.isEmpty(l); l++) {
    if (e.sCount[l] - e.blkIndent > 3) continue;
    if (e.sCount[l] >= e.blkIndent) {
      let g = e.bMarks[l] + e.tShift[l];
      const p = e.eMarks[l];
      if (g < p && (o = e.src.charCodeAt(g), (o === 45 || o === 61) && (g = e.skipChars(g, o), g = e.skipSpaces(g), g >= p))) {
        s = o === 61 ? 1 : 2;
        break;
      }
    }
    if (e.sCount[l] < 0) continue;
    let m = !1;
    for (let g = 0, p = r.length; g < p; g++) if (r[g](e, l, n, !0)) {
      m = !0;
      break;
    }
    if (m) break;
  }
  if (!s)
    return e.parentType = i, !1;
  const c = Wi(e.getLines(t, l, e.blkIndent, !1));
  e.line = l + 1;
  const a = e.push("heading_open", `h${s}`, 1);
  a.markup = String.fromCharCode(o), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = c, u.map = [t, e.line - 1], u.children = [];
  const d = e.push("heading_close", `h${s}`, -1);
  return d.markup = String.fromCharCode(o), e.parentType = i, !0;
}
function j_(e, t, n) {
  const r = e.md.block.ruler.getRules("paragraph"), i = e.parentType;
  let s = t + 1;
  for (e.parentType = "paragraph"; s < n && !e.isEmpty(s); s++) {
    if (e.sCount[s] - e.blkIndent > 3 || e.sCount[s] < 0) continue;
    let a = !1;
    for (let u = 0, d = r.length; u < d; u++) if (r[u](e, s, n, !0)) {
      a = !0;
      break;
    }
    if (a) break;
  }
  const o = Wi(e.getLines(t, s, e.blkIndent, !1));
  e.line = s;
  const l = e.push("paragraph_open", "p", 1);
  l.map = [t, e.line];
  const c = e.push("inline", "", 0);
  return c.content = o, c.map = [t, e.line], c.children = [], e.push("paragraph_close", "p", -1), e.parentType = i, !0;
}
var ui = [
  [
    "table",
    A_,
    ["paragraph", "reference"]
  ],
  ["code", v_],
  [
    "fence",
    R_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "blockquote",
    E_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "hr",
    C_,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "list",
    S_,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["reference", F_],
  [
    "html_block",
    M_,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  [
    "heading",
    L_,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["lheading", P_],
  ["paragraph", j_]
], Wu = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of block rules.
      */
      "ruler",
      new $r()
    ), K(this, "State", zu);
    for (let e = 0; e < ui.length; e++) this.ruler.push(ui[e][0], ui[e][1], { alt: (ui[e][2] || []).slice() });
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
}, Ju = class {
  constructor(e, t, n, r) {
    K(this, "pos", 0), K(this, "level", 0), K(this, "pending", ""), K(this, "pendingLevel", 0), K(this, "cache", {}), K(this, "backticks", {}), K(this, "backticksScanned", !1), K(this, "skipHtmlSpecial", !1), K(this, "linkLevel", 0), K(this, "delimiters", []), K(this, "_prev_delimiters", []), K(this, "Token", On), this.src = e, this.env = n, this.md = t, this.tokens = r, this.tokens_meta = Array(r.length), this.posMax = this.src.length;
  }
  pushPending() {
    const e = new On("text", "", 0);
    return e.content = this.pending, e.level = this.pendingLevel, this.tokens.push(e), this.pending = "", e;
  }
  push(e, t, n) {
    this.pending && this.pushPending();
    const r = new On(e, t, n);
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
    const c = jr(i) || Pr(i), a = jr(l) || Pr(l), u = Lr(i), d = Lr(l), m = !d && (!a || u || c), g = !u && (!c || d || a);
    return {
      can_open: m && (t || !g || c),
      can_close: g && (t || !m || a),
      length: o
    };
  }
};
function B_(e) {
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
function $_(e, t) {
  let n = e.pos;
  for (; n < e.posMax && !B_(e.src.charCodeAt(n)); ) n++;
  return n === e.pos ? !1 : (t || (e.pending += e.src.slice(e.pos, n)), e.pos = n, !0);
}
function z_(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122;
}
function U_(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122 || e >= 48 && e <= 57 || e === 43 || e === 45 || e === 46;
}
function W_(e, t) {
  if (!e.md.options.linkify || e.linkLevel > 0) return !1;
  const n = e.pos, r = e.posMax;
  if (n + 3 > r || e.src.charCodeAt(n) !== 58 || e.src.charCodeAt(n + 1) !== 47 || e.src.charCodeAt(n + 2) !== 47) return !1;
  const i = n - Math.min(10, e.pending.length, n);
  let s = n;
  for (; s > i && U_(e.src.charCodeAt(s - 1)); ) s--;
  if (s === n || !z_(e.src.charCodeAt(s))) return !1;
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
    const d = e.push("link_open", "a", 1);
    d.attrs = [["href", u]], d.markup = "linkify", d.info = "auto";
    const m = e.push("text", "", 0);
    m.content = e.md.normalizeLinkText(c);
    const g = e.push("link_close", "a", -1);
    g.markup = "linkify", g.info = "auto";
  }
  return e.pos += c.length - o, !0;
}
function J_(e, t) {
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
  for (n++; n < i && Ee(e.src.charCodeAt(n)); ) n++;
  return e.pos = n, !0;
}
var Po = [];
for (let e = 0; e < 256; e++) Po.push(0);
"\\!\"#$%&'()*+,./:;<=>?@[]^_`{|}~-".split("").forEach(function(e) {
  Po[e.charCodeAt(0)] = 1;
});
function q_(e, t) {
  let n = e.pos;
  const r = e.posMax;
  if (e.src.charCodeAt(n) !== 92 || (n++, n >= r)) return !1;
  let i = e.src.charCodeAt(n);
  if (i === 10) {
    for (t || e.push("hardbreak", "br", 0), n++; n < r && (i = e.src.charCodeAt(n), !!Ee(i)); )
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
    i < 256 && Po[i] !== 0 ? l.content = s : l.content = o, l.markup = o, l.info = "escape";
  }
  return e.pos = n + 1, !0;
}
function H_(e) {
  const t = {};
  let n = 0;
  for (; (n = e.indexOf("`", n)) !== -1; ) {
    const r = n;
    for (; e.charCodeAt(++n) === 96; ) ;
    t[n - r] = r;
  }
  return t;
}
function V_(e, t) {
  var n;
  const r = e.pos;
  if (e.src.charCodeAt(r) !== 96) return !1;
  const i = e.posMax;
  let s = r + 1;
  for (; s < i && e.src.charCodeAt(s) === 96; ) s++;
  const o = e.src.slice(r, s), l = o.length;
  if (e.backticksScanned || (e.backticks = H_(e.src), e.backticksScanned = !0), ((n = e.backticks[l]) !== null && n !== void 0 ? n : -1) >= s) {
    let c = s, a;
    for (; (a = e.src.indexOf("`", c)) !== -1 && a < i; ) {
      for (c = a + 1; e.src.charCodeAt(c) === 96; ) c++;
      if (c > i) break;
      if (c - a === l) {
        if (!t) {
          const u = e.push("code_inline", "code", 0);
          u.markup = o;
          let d = e.src.slice(s, a).replace(/\n/g, " ");
          d.startsWith(" ") && d.endsWith(" ") && /[^ ]/.test(d) && (d = d.slice(1, -1)), u.content = d;
        }
        return e.pos = c, !0;
      }
    }
  }
  return t || (e.pending += o), e.pos = s, !0;
}
function G_(e, t) {
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
function Jc(e, t) {
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
function K_(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  Jc(e, e.delimiters);
  for (let i = 0; i < n; i++) {
    var r;
    const s = (r = t[i]) === null || r === void 0 ? void 0 : r.delimiters;
    s && Jc(e, s);
  }
}
var qu = {
  tokenize: G_,
  postProcess: K_
};
function Y_(e, t) {
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
function qc(e, t) {
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
function X_(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  qc(e, e.delimiters);
  for (let i = 0; i < n; i++) {
    var r;
    const s = (r = t[i]) === null || r === void 0 ? void 0 : r.delimiters;
    s && qc(e, s);
  }
}
var Hu = {
  tokenize: Y_,
  postProcess: X_
};
function Z_(e, t) {
  let n, r, i, s, o = "", l = "", c = e.pos, a = !0;
  if (e.src.charCodeAt(e.pos) !== 91) return !1;
  const u = e.pos, d = e.posMax, m = e.pos + 1, g = e.md.helpers.parseLinkLabel(e, e.pos, !0);
  if (g < 0) return !1;
  let p = g + 1;
  if (p < d && e.src.charCodeAt(p) === 40) {
    for (a = !1, p++; p < d && (n = e.src.charCodeAt(p), !(!Ee(n) && n !== 10)); p++)
      ;
    if (p >= d) return !1;
    if (c = p, i = e.md.helpers.parseLinkDestination(e.src, p, e.posMax), i.ok) {
      for (o = e.md.normalizeLink(i.str), e.md.validateLink(o) ? p = i.pos : o = "", c = p; p < d && (n = e.src.charCodeAt(p), !(!Ee(n) && n !== 10)); p++)
        ;
      if (i = e.md.helpers.parseLinkTitle(e.src, p, e.posMax), p < d && c !== p && i.ok)
        for (l = i.str, p = i.pos; p < d && (n = e.src.charCodeAt(p), !(!Ee(n) && n !== 10)); p++)
          ;
    }
    (p >= d || e.src.charCodeAt(p) !== 41) && (a = !0), p++;
  }
  if (a) {
    if (typeof e.env.references > "u") return !1;
    if (p < d && e.src.charCodeAt(p) === 91 ? (c = p + 1, p = e.md.helpers.parseLinkLabel(e, p), p >= 0 ? r = e.src.slice(c, p++) : p = g + 1) : p = g + 1, r || (r = e.src.slice(m, g)), r = Ui(r), s = e.env.references[r], !s)
      return e.pos = u, !1;
    o = s.href, l = s.title;
  }
  if (!t) {
    e.pos = m, e.posMax = g;
    const x = e.push("link_open", "a", 1), v = [["href", o]];
    if (x.attrs = v, l && v.push(["title", l]), r) {
      const D = /* @__PURE__ */ Object.create(null);
      D.label = r, x.meta = D;
    }
    e.linkLevel++, e.md.inline.tokenize(e), e.linkLevel--, e.push("link_close", "a", -1);
  }
  return e.pos = p, e.posMax = d, !0;
}
function Q_(e, t) {
  let n, r, i, s, o, l, c, a, u = "";
  const d = e.pos, m = e.posMax;
  if (e.src.charCodeAt(e.pos) !== 33 || e.src.charCodeAt(e.pos + 1) !== 91) return !1;
  const g = e.pos + 2, p = e.md.helpers.parseLinkLabel(e, e.pos + 1, !1);
  if (p < 0) return !1;
  if (s = p + 1, s < m && e.src.charCodeAt(s) === 40) {
    for (s++; s < m && (n = e.src.charCodeAt(s), !(!Ee(n) && n !== 10)); s++)
      ;
    if (s >= m) return !1;
    for (a = s, l = e.md.helpers.parseLinkDestination(e.src, s, e.posMax), l.ok && (u = e.md.normalizeLink(l.str), e.md.validateLink(u) ? s = l.pos : u = ""), a = s; s < m && (n = e.src.charCodeAt(s), !(!Ee(n) && n !== 10)); s++)
      ;
    if (l = e.md.helpers.parseLinkTitle(e.src, s, e.posMax), s < m && a !== s && l.ok)
      for (c = l.str, s = l.pos; s < m && (n = e.src.charCodeAt(s), !(!Ee(n) && n !== 10)); s++)
        ;
    else c = "";
    if (s >= m || e.src.charCodeAt(s) !== 41)
      return e.pos = d, !1;
    s++;
  } else {
    if (typeof e.env.references > "u") return !1;
    if (s < m && e.src.charCodeAt(s) === 91 ? (a = s + 1, s = e.md.helpers.parseLinkLabel(e, s), s >= 0 ? i = e.src.slice(a, s++) : s = p + 1) : s = p + 1, i || (i = e.src.slice(g, p)), i = Ui(i), o = e.env.references[i], !o)
      return e.pos = d, !1;
    u = o.href, c = o.title;
  }
  if (!t) {
    r = e.src.slice(g, p);
    const x = [];
    e.md.inline.parse(r, e.md, e.env, x);
    const v = e.push("image", "img", 0), D = [["src", u], ["alt", ""]];
    if (v.attrs = D, v.children = x, v.content = r, c && D.push(["title", c]), i) {
      const k = /* @__PURE__ */ Object.create(null);
      k.label = i, v.meta = k;
    }
  }
  return e.pos = s, e.posMax = m, !0;
}
var e0 = /^([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, t0 = /^([a-zA-Z][a-zA-Z0-9+.-]{1,31}):([^<>\x00-\x20]*)$/;
function n0(e, t) {
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
  if (t0.test(s)) {
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
  if (e0.test(s)) {
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
function r0(e) {
  return /^<a[>\s]/i.test(e);
}
function i0(e) {
  return /^<\/a\s*>/i.test(e);
}
function Vu(e) {
  const t = e | 32;
  return t >= 97 && t <= 122;
}
function s0(e, t) {
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
  else if (Vu(n.charCodeAt(t + 2)))
    r = t + 3, i = ">";
  else return -1;
  if (e.skipHtmlSpecial) return -1;
  const s = n.indexOf(i, r);
  return s < 0 ? (e.skipHtmlSpecial = !0, -1) : s + i.length;
}
function o0(e, t) {
  if (!e.md.options.html) return !1;
  const n = e.posMax, r = e.pos;
  if (e.src.charCodeAt(r) !== 60 || r + 2 >= n) return !1;
  let i;
  const s = e.src.charCodeAt(r + 1);
  if (s === 33 || s === 63) i = s0(e, r);
  else if (s === 47 || Vu(s)) {
    const o = e.src.slice(r).match(Uu);
    i = o ? r + o[0].length : -1;
  } else return !1;
  if (i < 0) return !1;
  if (!t) {
    const o = e.push("html_inline", "", 0);
    o.content = e.src.slice(r, i), r0(o.content) && e.linkLevel++, i0(o.content) && e.linkLevel--;
  }
  return e.pos = i, !0;
}
var l0 = /^&#((?:x[a-f0-9]{1,6}|[0-9]{1,7}));/i, c0 = /^&([a-z][a-z0-9]{1,31});/i;
function a0(e, t) {
  const n = e.pos, r = e.posMax;
  if (e.src.charCodeAt(n) !== 38 || n + 1 >= r) return !1;
  if (e.src.charCodeAt(n + 1) === 35) {
    const i = e.src.slice(n).match(l0);
    if (i) {
      if (!t) {
        const s = i[1][0].toLowerCase() === "x" ? parseInt(i[1].slice(1), 16) : parseInt(i[1], 10), o = e.push("text_special", "", 0);
        o.content = Lo(s) ? Mr(s) : Mr(65533), o.markup = i[0], o.info = "entity";
      }
      return e.pos += i[0].length, !0;
    }
  } else {
    const i = e.src.slice(n).match(c0);
    if (i) {
      const s = vu(i[0]);
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
function Hc(e) {
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
      const d = e[a];
      if (d.marker === l.marker && d.open && d.end < 0) {
        let m = !1;
        if ((d.close || l.open) && (d.length + l.length) % 3 === 0 && (d.length % 3 !== 0 || l.length % 3 !== 0) && (m = !0), !m) {
          const g = a > 0 && !e[a - 1].open ? s[a - 1] + 1 : 0;
          s[o] = o - a + g, s[a] = g, l.open = !1, d.end = o, d.close = !1, u = -1, i = -2;
          break;
        }
      }
    }
    u !== -1 && (t[l.marker][(l.open ? 3 : 0) + (l.length || 0) % 3] = u);
  }
}
function u0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  Hc(e.delimiters);
  for (let i = 0; i < n; i++) {
    var r;
    const s = (r = t[i]) === null || r === void 0 ? void 0 : r.delimiters;
    s && Hc(s);
  }
}
function f0(e) {
  let t, n, r = 0;
  const i = e.tokens, s = e.tokens.length;
  for (t = n = 0; t < s; t++)
    i[t].nesting < 0 && r--, i[t].level = r, i[t].nesting > 0 && r++, i[t].type === "text" && t + 1 < s && i[t + 1].type === "text" ? i[t + 1].content = i[t].content + i[t + 1].content : (t !== n && (i[n] = i[t]), n++);
  t !== n && (i.length = n);
}
var qs = [
  ["text", $_],
  ["linkify", W_],
  ["newline", J_],
  ["escape", q_],
  ["backticks", V_],
  ["strikethrough", qu.tokenize],
  ["emphasis", Hu.tokenize],
  ["link", Z_],
  ["image", Q_],
  ["autolink", n0],
  ["html_inline", o0],
  ["entity", a0]
], Hs = [
  ["balance_pairs", u0],
  ["strikethrough", qu.postProcess],
  ["emphasis", Hu.postProcess],
  ["fragments_join", f0]
], Gu = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of inline rules.
      */
      "ruler",
      new $r()
    ), K(
      this,
      /**
      * {@link Ruler} instance. Second ruler used for post-processing
      * (e.g. in emphasis-like rules).
      */
      "ruler2",
      new $r()
    ), K(this, "State", Ju);
    for (let e = 0; e < qs.length; e++) this.ruler.push(qs[e][0], qs[e][1]);
    for (let e = 0; e < Hs.length; e++) this.ruler2.push(Hs[e][0], Hs[e][1]);
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
}, d0 = {
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
}, h0 = /^(vbscript|javascript|file|data):/, p0 = /^data:image\/(gif|png|jpeg|webp);/, Vc = [
  "http:",
  "https:",
  "mailto:"
], Ot = class {
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
    return h0.test(t) ? p0.test(t) : !0;
  }
  /**
  * Function used to encode link url to a machine-readable format,
  * which includes url-encoding, punycode, etc.
  */
  normalizeLink(e) {
    const t = ho(e, !0);
    if (t.hostname && (!t.protocol || Vc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Mc.toASCII(t.hostname);
      } catch {
      }
    return t.auth && (t.auth = Wt(t.auth)), t.hostname && (t.hostname = Wt(t.hostname)), t.pathname && (t.pathname = Wt(t.pathname)), t.search && (t.search = Wt(t.search)), t.hash && (t.hash = Wt(t.hash)), fo(t);
  }
  /**
  * Function used to decode link url to a human-readable format`
  */
  normalizeLinkText(e) {
    const t = ho(e, !0);
    if (t.hostname && (!t.protocol || Vc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Mc.toUnicode(t.hostname);
      } catch {
      }
    return rr(fo(t), rr.defaultChars + "%");
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
      new Gu()
    ), K(
      this,
      /**
      * Instance of {@link ParserBlock}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "block",
      new Wu()
    ), K(
      this,
      /**
      * Instance of {@link ParserCore} chain executor. You may need it to add new
      * rules when writing plugins. For simple rules control use
      * {@link MarkdownIt.disable} and {@link MarkdownIt.enable}.
      */
      "core",
      new $u()
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
      new Pu()
    ), K(
      this,
      /**
      * [linkify-it](https://github.com/markdown-it/linkify-it) instance.
      * Used by [linkify](https://github.com/markdown-it/markdown-it/blob/master/src/rules_core/linkify.ts)
      * rule.
      */
      "linkify",
      new xm()
    ), K(
      this,
      /**
      * Assorted utility functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/common/utils.ts).
      */
      "utils",
      Nm
    ), K(
      this,
      /**
      * Link components parser functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/helpers).
      */
      "helpers",
      Object.assign({}, Ym)
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
      if (t = d0[i], !t) throw new Error(`Wrong 'markdown-it' preset "${i}", check name`);
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
K(Ot, "Token", On);
K(Ot, "Ruler", $r);
K(Ot, "Renderer", Pu);
K(Ot, "ParserCore", $u);
K(Ot, "StateCore", ju);
K(Ot, "ParserBlock", Wu);
K(Ot, "StateBlock", zu);
K(Ot, "ParserInline", Gu);
K(Ot, "StateInline", Ju);
var g0 = Nu(Ot);
const m0 = 200 * 1024, jo = /^(?:https?:\/\/|mailto:)/i, _0 = [
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
], b0 = ["href", "title", "target", "rel", "start", "class"], Jr = new g0({ html: !1, linkify: !0, breaks: !0, typographer: !1 });
Jr.disable(["image"]);
Jr.validateLink = (e) => jo.test(String(e).trim());
const y0 = Jr.renderer.rules.link_open ?? ((e, t, n, r, i) => i.renderToken(e, t, n));
Jr.renderer.rules.link_open = (e, t, n, r, i) => (e[t].attrSet("target", "_blank"), e[t].attrSet("rel", "noopener noreferrer nofollow"), y0(e, t, n, r, i));
function w0(e) {
  return String(e).replace(/[&<>"']/g, (t) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[t]);
}
let Gc = null;
function k0(e) {
  return !e?.isSupported || typeof e.sanitize != "function" ? null : (Gc !== e && (e.addHook("afterSanitizeAttributes", (t) => {
    if (t.nodeName !== "A") return;
    const n = t.getAttribute("href");
    n !== null && !jo.test(n.trim()) && t.removeAttribute("href"), t.hasAttribute("href") ? (t.setAttribute("target", "_blank"), t.setAttribute("rel", "noopener noreferrer nofollow")) : (t.removeAttribute("target"), t.removeAttribute("rel"));
  }), Gc = e), e);
}
function x0(e, t = Ug) {
  const n = String(e ?? "").slice(0, m0), r = k0(t);
  if (!r) return `<p>${w0(n)}</p>`;
  const i = Jr.render(n);
  return r.sanitize(i, {
    ALLOWED_TAGS: _0,
    ALLOWED_ATTR: b0,
    ALLOWED_URI_REGEXP: jo,
    ALLOW_DATA_ATTR: !1,
    ALLOW_ARIA_ATTR: !1
  });
}
const A0 = 300, Jn = /* @__PURE__ */ new Map();
function Vs(e) {
  const t = String(e ?? "");
  let n = Jn.get(t);
  return n !== void 0 ? Jn.delete(t) : (n = x0(t), Jn.size >= A0 && Jn.delete(Jn.keys().next().value)), Jn.set(t, n), n;
}
const v0 = ["data-prompt", "data-status"], R0 = { class: "cd-run-head" }, E0 = { "data-test": "run-status" }, C0 = { class: "cd-hint" }, D0 = ["value"], S0 = {
  key: 1,
  class: "cd-progress",
  "data-test": "run-progress"
}, T0 = {
  class: "cd-hint",
  "data-test": "run-node"
}, F0 = {
  key: 1,
  class: "cd-err",
  "data-test": "run-reason"
}, I0 = ["data-node", "onClick"], O0 = { class: "cd-err" }, N0 = {
  key: 2,
  class: "cd-thumbs",
  "data-test": "run-outputs"
}, M0 = ["src", "alt", "title", "onClick"], Kc = {
  __name: "RunCard",
  props: { run: { type: Object, required: !0 }, ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = (s, o) => t.ctl.url(Gl(s.id, o.nodeId, o.index, Cp)), r = (s) => s < 1 ? `${Math.round(s * 1e3)} ms` : `${s.toFixed(1)} s`, i = (s, o) => t.ctl.url(Gl(s.id, o.nodeId, o.index));
    return (s, o) => (J(), q("div", {
      class: nt(["cd-run", "cd-run-" + e.run.status]),
      "data-test": "run",
      "data-prompt": e.run.id,
      "data-status": e.run.status
    }, [
      Y("div", R0, [
        o[0] || (o[0] = Y("span", { class: "cd-who" }, "run", -1)),
        Y("b", E0, oe(e.run.status), 1),
        Y("span", C0, [
          he(oe(e.run.short), 1),
          e.run.queuedBy ? (J(), q(se, { key: 0 }, [
            he(" · " + oe(e.run.queuedBy), 1)
          ], 64)) : pe("", !0),
          e.run.seconds !== null ? (J(), q(se, { key: 1 }, [
            he(" · " + oe(r(e.run.seconds)), 1)
          ], 64)) : pe("", !0)
        ])
      ]),
      e.run.final ? pe("", !0) : (J(), q(se, { key: 0 }, [
        e.run.percent !== null ? (J(), q("progress", {
          key: 0,
          class: "cd-progress",
          value: e.run.percent,
          max: "100",
          "data-test": "run-progress"
        }, null, 8, D0)) : (J(), q("progress", S0)),
        Y("div", T0, [
          e.run.status === "queued" ? (J(), q(se, { key: 0 }, [
            o[1] || (o[1] = he("waiting in ComfyUI's queue", -1)),
            e.run.queuePosition ? (J(), q(se, { key: 0 }, [
              he(" (position " + oe(e.run.queuePosition) + ")", 1)
            ], 64)) : pe("", !0)
          ], 64)) : e.run.node ? (J(), q(se, { key: 1 }, [
            he(oe(e.run.node.title), 1),
            e.run.max ? (J(), q(se, { key: 0 }, [
              he(" · " + oe(e.run.value) + "/" + oe(e.run.max), 1)
            ], 64)) : pe("", !0)
          ], 64)) : (J(), q(se, { key: 2 }, [
            he("starting…")
          ], 64)),
          e.run.done ? (J(), q(se, { key: 3 }, [
            he(" · " + oe(e.run.done) + " node" + oe(e.run.done === 1 ? "" : "s") + " done", 1)
          ], 64)) : pe("", !0)
        ])
      ], 64)),
      e.run.final && e.run.status !== "succeeded" && e.run.reason && !e.run.errors.length ? (J(), q("div", F0, oe(e.run.reason), 1)) : pe("", !0),
      (J(!0), q(se, null, qe(e.run.errors, (l, c) => (J(), q("div", {
        key: c,
        class: "cd-run-error",
        "data-test": "run-error"
      }, [
        l.nodeId ? (J(), q("button", {
          key: 0,
          class: "cd-link",
          "data-node": l.nodeId,
          title: "Select this node on the canvas",
          onClick: Hn((a) => e.ctl.focusNode(l.nodeId), ["stop"]),
          "data-test": "run-error-node"
        }, [
          he(oe(l.title), 1),
          l.input ? (J(), q(se, { key: 0 }, [
            he(" · " + oe(l.input), 1)
          ], 64)) : pe("", !0)
        ], 8, I0)) : pe("", !0),
        Y("span", O0, oe((l.nodeId ? ": " : "") + l.message), 1)
      ]))), 128)),
      e.run.outputs.length ? (J(), q("div", N0, [
        (J(!0), q(se, null, qe(e.run.outputs, (l) => (J(), q("img", {
          key: l.nodeId + "/" + l.index,
          src: n(e.run, l),
          alt: l.filename,
          title: l.filename + " (click for full size)",
          loading: "lazy",
          onClick: (c) => e.ctl.showImage(i(e.run, l)),
          "data-test": "run-thumb"
        }, null, 8, M0))), 128))
      ])) : pe("", !0)
    ], 10, v0));
  }
}, L0 = { class: "cd-bar" }, P0 = ["title"], j0 = ["value", "disabled"], B0 = ["value"], $0 = ["disabled"], z0 = ["title"], U0 = ["disabled"], W0 = {
  key: 0,
  class: "cd-hits",
  "data-test": "search-hits"
}, J0 = {
  key: 0,
  class: "cd-hint"
}, q0 = ["onClick", "data-session"], H0 = { class: "cd-hint" }, V0 = { key: 0 }, G0 = {
  key: 1,
  class: "cd-settings",
  "data-test": "settings-pane"
}, K0 = ["value"], Y0 = { class: "cd-wide" }, X0 = { class: "cd-wide" }, Z0 = { class: "cd-hint" }, Q0 = { class: "cd-row" }, eb = ["disabled"], tb = {
  class: "cd-skills",
  "data-test": "skills"
}, nb = ["title"], rb = ["checked", "onChange", "data-skill"], ib = {
  key: 0,
  class: "cd-hint",
  "data-test": "skills-hint"
}, sb = { class: "cd-main" }, ob = {
  key: 0,
  class: "cd-compacted",
  "data-test": "compacted"
}, lb = { "data-test": "summary" }, cb = ["innerHTML"], ab = { class: "cd-user" }, ub = ["data-skill"], fb = { class: "cd-skill" }, db = ["innerHTML"], hb = {
  key: 0,
  class: "cd-atts",
  "data-test": "attachments"
}, pb = ["src", "alt", "title", "onClick"], gb = ["href", "title"], mb = {
  key: 1,
  class: "cd-hint",
  "data-test": "waiting"
}, _b = {
  key: 2,
  class: "cd-err"
}, bb = ["data-skill"], yb = { class: "cd-skill" }, wb = {
  key: 0,
  class: "cd-typing"
}, kb = ["innerHTML"], xb = {
  key: 0,
  class: "cd-err"
}, Ab = {
  key: 1,
  class: "cd-empty"
}, vb = {
  key: 0,
  class: "cd-hint"
}, Rb = ["src"], Eb = ["href"], Cb = {
  key: 2,
  class: "cd-notice",
  "data-test": "notice"
}, Db = {
  key: 3,
  class: "cd-chips",
  "data-test": "chips"
}, Sb = ["title", "data-state"], Tb = ["src"], Fb = ["onClick"], Ib = { class: "cd-input" }, Ob = ["disabled"], Nb = ["accept"], Mb = ["disabled"], Lb = ["disabled"], Pb = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, r = t.ctl.ui, i = tt(() => r.connected ? r.outage ? "core unavailable, reconnecting…" : r.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), s = tt(() => r.connected && r.outage ? "cd-outage" : "cd-" + i.value.replace(" ", "-")), o = tt(() => (r.connected ? r.outage : r.offlineReason) || n.statusDetail || i.value), l = tt(() => r.connected ? r.outage ? `core unavailable, reconnecting… (${r.outage})` : r.notice ? r.notice : n.lastError ? `${n.lastError.code}: ${n.lastError.message}` : "" : r.offlineReason ? `comfyd is not reachable: ${r.offlineReason}` : ""), c = tt(() => r.connected && !r.outage && n.status === "working"), a = tt(() => r.form.skills), u = tt(() => !!n.config?.api_key_set), d = tt(() => {
      const j = [...r.sessions];
      return r.form.session_id && !j.some((C) => C.id === r.form.session_id) && j.unshift({ id: r.form.session_id, title: n.title || r.form.session_id }), j;
    }), m = tt(() => Lp(n)), g = tt(() => m.value ? n.turns.filter((j) => !j.pending && j.id <= m.value.coversTo) : []), p = tt(() => m.value ? n.turns.filter((j) => j.pending || j.id > m.value.coversTo) : n.turns);
    function x(j) {
      return String(j).split(/(\[[^\]]*\])/).filter((C) => C).map((C) => C.startsWith("[") && C.endsWith("]") ? { mark: !0, text: C.slice(1, -1) } : { mark: !1, text: C });
    }
    function v(j) {
      j.key === "Enter" && t.ctl.search(), j.key === "Escape" && (r.searchQuery = "", r.searchHits = null);
    }
    const D = tt(() => {
      const j = {};
      for (const [C, R] of Object.entries(Np(n))) j[C] = R.map((H) => Mp(H, (Ke) => t.ctl.titleOf(Ke)));
      return j;
    }), k = (j) => D.value[j] ?? [];
    function w(j) {
      (!j || j.type === "click" || j.key === "Escape") && t.ctl.showImage("");
    }
    const y = /* @__PURE__ */ ei(null);
    ps(
      () => r.image,
      (j) => j && xr(() => y.value?.focus())
    );
    const F = /* @__PURE__ */ ei(null), z = /* @__PURE__ */ ei(null), B = (j) => {
      j && (j.scrollTop = j.scrollHeight);
    };
    ps(
      () => [n.turns.length, n.lastSeq, Object.keys(n.runs).length],
      () => xr(() => B(F.value))
    ), ps(
      () => n.logs.length,
      () => xr(() => B(z.value))
    );
    function ee(j) {
      const C = j.target.value;
      C === "__new__" ? t.ctl.createSession() : C && t.ctl.selectSession(C);
    }
    function Q(j) {
      j.key === "Enter" && !j.shiftKey && !j.isComposing && (j.preventDefault(), t.ctl.send());
    }
    const ae = /* @__PURE__ */ ei(null), ne = [...Oo, ".md", ".json", ".txt"].join(","), fe = tt(() => r.attachments.some((j) => j.state === "ready")), Ce = tt(() => r.connected && (r.draft.trim() || fe.value));
    function ye(j) {
      t.ctl.addFiles(j.target.files), j.target.value = "";
    }
    function ke(j) {
      j.dataTransfer?.files?.length && t.ctl.addFiles(j.dataTransfer.files);
    }
    function lt(j) {
      const C = Array.from(j.clipboardData?.files ?? []);
      C.length && (j.preventDefault(), t.ctl.addFiles(C));
    }
    const W = (j) => String(j.mime).startsWith("image/");
    function ie(j) {
      j.stopPropagation();
    }
    return (j, C) => (J(), q("div", {
      class: "comfyd-panel",
      onKeydown: ie,
      onKeyup: ie,
      onWheel: C[18] || (C[18] = Hn(() => {
      }, ["stop"])),
      onContextmenu: C[19] || (C[19] = Hn(() => {
      }, ["stop"])),
      onDragover: C[20] || (C[20] = Hn(() => {
      }, ["prevent", "stop"])),
      onDrop: Hn(ke, ["prevent", "stop"])
    }, [
      Y("div", L0, [
        Y("span", {
          class: nt(["cd-dot", s.value]),
          title: o.value
        }, null, 10, P0),
        Y("select", {
          class: "cd-session",
          value: G(r).form.session_id,
          disabled: !G(r).connected || G(r).busy,
          onChange: ee,
          "data-test": "session"
        }, [
          C[21] || (C[21] = Y("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (J(!0), q(se, null, qe(d.value, (R) => (J(), q("option", {
            key: R.id,
            value: R.id
          }, oe(R.title), 9, B0))), 128)),
          C[22] || (C[22] = Y("option", { value: "__new__" }, "+ new session", -1))
        ], 40, j0),
        bn(Y("input", {
          class: "cd-search",
          "onUpdate:modelValue": C[0] || (C[0] = (R) => G(r).searchQuery = R),
          type: "search",
          placeholder: "search sessions…",
          disabled: !G(r).connected,
          onKeydown: v,
          "data-test": "session-search",
          title: 'Words, "a phrase", prefix*, a OR b, -excluded; Enter searches'
        }, null, 40, $0), [
          [Un, G(r).searchQuery]
        ]),
        Y("span", {
          class: nt(["cd-status", { "cd-status-outage": G(r).connected && G(r).outage }]),
          title: o.value,
          "data-test": "status"
        }, [
          he(oe(i.value), 1),
          G(n).queuedTurns ? (J(), q(se, { key: 0 }, [
            he(" · " + oe(G(n).queuedTurns) + " queued", 1)
          ], 64)) : pe("", !0)
        ], 10, z0),
        Y("button", {
          class: "cd-btn",
          disabled: !c.value,
          onClick: C[1] || (C[1] = (R) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, U0),
        Y("button", {
          class: nt(["cd-btn", { "cd-on": G(r).showSettings }]),
          onClick: C[2] || (C[2] = (R) => G(r).showSettings = !G(r).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        Y("button", {
          class: nt(["cd-btn", { "cd-on": G(r).showLog }]),
          onClick: C[3] || (C[3] = (R) => G(r).showLog = !G(r).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      G(r).searchHits ? (J(), q("div", W0, [
        G(r).searchHits.length ? pe("", !0) : (J(), q("div", J0, "nothing found")),
        (J(!0), q(se, null, qe(G(r).searchHits, (R) => (J(), q("button", {
          key: R.key,
          class: "cd-hit",
          onClick: (H) => e.ctl.openHit(R),
          "data-session": R.sessionId
        }, [
          Y("b", null, oe(R.title), 1),
          C[23] || (C[23] = he()),
          Y("span", H0, oe(R.kind), 1),
          C[24] || (C[24] = Y("br", null, null, -1)),
          (J(!0), q(se, null, qe(x(R.snippet), (H, Ke) => (J(), q(se, { key: Ke }, [
            H.mark ? (J(), q("mark", V0, oe(H.text), 1)) : (J(), q(se, { key: 1 }, [
              he(oe(H.text), 1)
            ], 64))
          ], 64))), 128))
        ], 8, q0))), 128))
      ])) : pe("", !0),
      G(r).showSettings ? (J(), q("div", G0, [
        Y("label", null, [
          C[25] || (C[25] = he("Provider ", -1)),
          bn(Y("select", {
            "onUpdate:modelValue": C[4] || (C[4] = (R) => G(r).form.provider = R),
            onChange: C[5] || (C[5] = (R) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (J(!0), q(se, null, qe(G(qp), (R) => (J(), q("option", {
              key: R,
              value: R
            }, oe(R), 9, K0))), 128))
          ], 544), [
            [Ch, G(r).form.provider]
          ])
        ]),
        Y("label", null, [
          C[26] || (C[26] = he("Model ", -1)),
          bn(Y("input", {
            "onUpdate:modelValue": C[6] || (C[6] = (R) => G(r).form.model = R),
            onChange: C[7] || (C[7] = (R) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [Un, G(r).form.model]
          ])
        ]),
        Y("label", null, [
          C[27] || (C[27] = he("Base URL ", -1)),
          bn(Y("input", {
            "onUpdate:modelValue": C[8] || (C[8] = (R) => G(r).form.base_url = R),
            onChange: C[9] || (C[9] = (R) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [Un, G(r).form.base_url]
          ])
        ]),
        Y("label", Y0, [
          C[28] || (C[28] = he("System prompt ", -1)),
          bn(Y("textarea", {
            "onUpdate:modelValue": C[10] || (C[10] = (R) => G(r).form.system_prompt = R),
            rows: "2",
            onChange: C[11] || (C[11] = (R) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [Un, G(r).form.system_prompt]
          ])
        ]),
        Y("label", X0, [
          C[29] || (C[29] = he("API key ", -1)),
          Y("span", Z0, oe(u.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          Y("span", Q0, [
            bn(Y("input", {
              "onUpdate:modelValue": C[12] || (C[12] = (R) => G(r).apiKey = R),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [Un, G(r).apiKey]
            ]),
            Y("button", {
              class: "cd-btn",
              onClick: C[13] || (C[13] = (R) => e.ctl.setApiKey()),
              disabled: !G(r).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, eb)
          ])
        ])
      ])) : pe("", !0),
      Y("div", tb, [
        (J(!0), q(se, null, qe(G(r).skills, (R) => (J(), q("label", {
          key: R.name,
          class: nt(["cd-chip", { "cd-on": a.value.includes(R.name) }]),
          title: R.description
        }, [
          Y("input", {
            type: "checkbox",
            checked: a.value.includes(R.name),
            onChange: (H) => e.ctl.toggleSkill(R.name, H.target.checked),
            "data-skill": R.name
          }, null, 40, rb),
          he(" " + oe(R.name), 1)
        ], 10, nb))), 128)),
        G(r).skills.length ? pe("", !0) : (J(), q("span", ib, [
          he(oe(G(r).connected ? G(r).outage ? "waiting for the core…" : "no skills loaded" : "connecting to comfyd…"), 1),
          !G(r).connected && G(r).offlineReason ? (J(), q(se, { key: 0 }, [
            he(" (" + oe(G(r).offlineReason) + ")", 1)
          ], 64)) : pe("", !0)
        ]))
      ]),
      Y("div", sb, [
        Y("div", {
          ref_key: "chat",
          ref: F,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          m.value ? (J(), q("details", ob, [
            Y("summary", lb, [
              C[30] || (C[30] = Y("b", null, "Summary", -1)),
              he(" of " + oe(g.value.length) + " earlier turn" + oe(g.value.length === 1 ? "" : "s") + " (what the model sees now; the originals below) ", 1),
              Y("div", {
                class: "cd-text cd-md",
                innerHTML: G(Vs)(m.value.content)
              }, null, 8, cb)
            ]),
            (J(!0), q(se, null, qe(g.value, (R) => (J(), q("div", {
              key: R.id,
              class: "cd-turn cd-old"
            }, [
              Y("div", ab, [
                C[31] || (C[31] = Y("span", { class: "cd-who" }, "you", -1)),
                he(oe(R.content), 1)
              ]),
              Y("div", {
                class: "cd-replies",
                style: Dr({ "--cols": Math.max(1, G(si)(R, a.value).length) })
              }, [
                (J(!0), q(se, null, qe(G(si)(R, a.value), (H) => (J(), q("div", {
                  key: H.skill,
                  class: nt(["cd-reply", "cd-" + H.state]),
                  "data-skill": H.skill
                }, [
                  Y("div", fb, oe(H.skill), 1),
                  Y("div", {
                    class: "cd-text cd-md",
                    innerHTML: G(Vs)(H.content)
                  }, null, 8, db)
                ], 10, ub))), 128))
              ], 4)
            ]))), 128))
          ])) : pe("", !0),
          (J(!0), q(se, null, qe(p.value, (R) => (J(), q("div", {
            key: R.pending ? R.clientId : R.id,
            class: "cd-turn"
          }, [
            Y("div", {
              class: nt(["cd-user", { "cd-failed": R.state === "failed", "cd-waiting": R.state === "waiting" }])
            }, [
              C[32] || (C[32] = Y("span", { class: "cd-who" }, "you", -1)),
              he(oe(R.content) + " ", 1),
              R.attachments?.length ? (J(), q("span", hb, [
                (J(!0), q(se, null, qe(R.attachments, (H) => (J(), q(se, {
                  key: H.sha256
                }, [
                  W(H) ? (J(), q("img", {
                    key: 0,
                    class: "cd-thumb",
                    src: e.ctl.attachmentUrl(H.sha256),
                    alt: H.name,
                    title: H.name + (H.width ? ` · ${H.width}×${H.height}` : ""),
                    onClick: (Ke) => e.ctl.showImage(e.ctl.attachmentUrl(H.sha256)),
                    "data-test": "attachment"
                  }, null, 8, pb)) : (J(), q("a", {
                    key: 1,
                    class: "cd-file",
                    href: e.ctl.attachmentUrl(H.sha256),
                    target: "_blank",
                    rel: "noopener",
                    title: H.mime,
                    "data-test": "attachment"
                  }, oe(H.name || H.mime), 9, gb))
                ], 64))), 128))
              ])) : pe("", !0),
              R.state === "waiting" ? (J(), q("span", mb, " — waiting for comfyd, sent when it is back")) : pe("", !0),
              R.error ? (J(), q("span", _b, " — " + oe(R.error), 1)) : pe("", !0)
            ], 2),
            Y("div", {
              class: "cd-replies",
              style: Dr({ "--cols": Math.max(1, G(si)(R, a.value).length) })
            }, [
              (J(!0), q(se, null, qe(G(si)(R, a.value), (H) => (J(), q("div", {
                key: H.skill,
                class: nt(["cd-reply", "cd-" + H.state]),
                "data-skill": H.skill
              }, [
                Y("div", yb, [
                  he(oe(H.skill), 1),
                  H.state === "streaming" ? (J(), q("span", wb, "…")) : pe("", !0)
                ]),
                Y("div", {
                  class: "cd-text cd-md",
                  innerHTML: G(Vs)(H.content)
                }, null, 8, kb),
                H.error ? (J(), q("div", xb, oe(H.error), 1)) : pe("", !0)
              ], 10, bb))), 128))
            ], 4),
            (J(!0), q(se, null, qe(k(R.id), (H) => (J(), di(Kc, {
              key: H.id,
              run: H,
              ctl: e.ctl
            }, null, 8, ["run", "ctl"]))), 128))
          ]))), 128)),
          (J(!0), q(se, null, qe(k(0), (R) => (J(), di(Kc, {
            key: R.id,
            run: R,
            ctl: e.ctl,
            class: "cd-run-loose"
          }, null, 8, ["run", "ctl"]))), 128)),
          G(n).turns.length ? pe("", !0) : (J(), q("div", Ab, oe(G(r).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        G(r).showLog ? (J(), q("div", {
          key: 0,
          ref_key: "logBox",
          ref: z,
          class: "cd-log",
          "data-test": "log"
        }, [
          (J(!0), q(se, null, qe(G(n).logs, (R, H) => (J(), q("div", {
            key: R.seq + ":" + H,
            class: nt("cd-l-" + R.level)
          }, [
            Y("b", null, oe(R.level), 1),
            he(" " + oe(R.module), 1),
            R.skill ? (J(), q(se, { key: 0 }, [
              he(" [" + oe(R.skill) + "]", 1)
            ], 64)) : pe("", !0),
            he(": " + oe(R.message), 1)
          ], 2))), 128)),
          G(n).logs.length ? pe("", !0) : (J(), q("div", vb, "no debug output yet"))
        ], 512)) : pe("", !0)
      ]),
      (J(), di(yd, { to: "body" }, [
        G(r).image ? (J(), q("div", {
          key: 0,
          ref_key: "overlay",
          ref: y,
          class: "comfyd-image-overlay",
          tabindex: "0",
          onClick: w,
          onKeydown: w,
          "data-test": "image-overlay"
        }, [
          Y("img", {
            src: G(r).image,
            alt: "full size"
          }, null, 8, Rb),
          Y("a", {
            href: G(r).image,
            target: "_blank",
            rel: "noopener",
            onClick: C[14] || (C[14] = Hn(() => {
            }, ["stop"]))
          }, "open in a new tab", 8, Eb)
        ], 544)) : pe("", !0)
      ])),
      l.value ? (J(), q("div", Cb, oe(l.value), 1)) : pe("", !0),
      G(r).attachments.length ? (J(), q("div", Db, [
        (J(!0), q(se, null, qe(G(r).attachments, (R) => (J(), q("span", {
          key: R.key,
          class: nt(["cd-chip cd-att", "cd-att-" + R.state]),
          title: R.error || R.mime,
          "data-state": R.state
        }, [
          R.preview ? (J(), q("img", {
            key: 0,
            class: "cd-chip-thumb",
            src: R.preview,
            alt: ""
          }, null, 8, Tb)) : pe("", !0),
          he(" " + oe(R.name), 1),
          R.state === "uploading" ? (J(), q(se, { key: 1 }, [
            he(" …")
          ], 64)) : pe("", !0),
          R.error ? (J(), q(se, { key: 2 }, [
            he(" — " + oe(R.error), 1)
          ], 64)) : pe("", !0),
          Y("button", {
            class: "cd-x",
            onClick: (H) => e.ctl.removeAttachment(R.key),
            title: "Remove"
          }, "×", 8, Fb)
        ], 10, Sb))), 128))
      ])) : pe("", !0),
      Y("div", Ib, [
        Y("button", {
          class: "cd-btn",
          disabled: !G(r).connected,
          onClick: C[15] || (C[15] = (R) => ae.value?.click()),
          title: "Attach images or text files (or drop, or paste)",
          "data-test": "attach"
        }, "+", 8, Ob),
        Y("input", {
          ref_key: "picker",
          ref: ae,
          type: "file",
          multiple: "",
          accept: G(ne),
          style: { display: "none" },
          onChange: ye,
          "data-test": "file"
        }, null, 40, Nb),
        bn(Y("textarea", {
          "onUpdate:modelValue": C[16] || (C[16] = (R) => G(r).draft = R),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !G(r).connected,
          onKeydown: Q,
          onPaste: lt,
          "data-test": "input"
        }, null, 40, Mb), [
          [Un, G(r).draft]
        ]),
        Y("button", {
          class: "cd-btn cd-send",
          disabled: !Ce.value,
          onClick: C[17] || (C[17] = (R) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, Lb)
      ])
    ], 32));
  }
}, jb = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline,.comfyd-panel .cd-outage{background:#c84a4a}.comfyd-panel .cd-status.cd-status-outage{color:#e0a050;white-space:normal}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{word-break:break-word}.comfyd-panel .cd-waiting{opacity:.75}.comfyd-panel .cd-md>:first-child{margin-top:0}.comfyd-panel .cd-md>:last-child{margin-bottom:0}.comfyd-panel .cd-md p,.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol,.comfyd-panel .cd-md pre,.comfyd-panel .cd-md blockquote,.comfyd-panel .cd-md table{margin:0 0 6px}.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol{padding-left:18px}.comfyd-panel .cd-md h1,.comfyd-panel .cd-md h2,.comfyd-panel .cd-md h3,.comfyd-panel .cd-md h4,.comfyd-panel .cd-md h5,.comfyd-panel .cd-md h6{font-size:13px;margin:6px 0 4px}.comfyd-panel .cd-md code{font:11px/1.35 ui-monospace,DejaVu Sans Mono,monospace;background:#7f7f7f2e;border-radius:3px;padding:0 3px}.comfyd-panel .cd-md pre{padding:4px 6px;overflow-x:auto;background:#00000047;border-radius:4px}.comfyd-panel .cd-md pre code{background:none;padding:0;white-space:pre}.comfyd-panel .cd-md a{color:var(--cd-accent)}.comfyd-panel .cd-md blockquote{border-left:3px solid var(--cd-border);padding-left:6px;color:var(--cd-dim)}.comfyd-panel .cd-md table{border-collapse:collapse}.comfyd-panel .cd-md th,.comfyd-panel .cd-md td{border:1px solid var(--cd-border);padding:1px 4px}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}.comfyd-panel .cd-run{margin:4px 0 2px;padding:4px 6px;border:1px solid var(--border-color, #444);border-left-width:3px;border-radius:4px;font-size:12px}.comfyd-panel .cd-run-head{display:flex;gap:4px;align-items:baseline;flex-wrap:wrap}.comfyd-panel .cd-run-queued,.comfyd-panel .cd-run-running{border-left-color:#4a90d9}.comfyd-panel .cd-run-succeeded{border-left-color:#3c9a5f}.comfyd-panel .cd-run-failed,.comfyd-panel .cd-run-unknown{border-left-color:#c0392b}.comfyd-panel .cd-run-interrupted,.comfyd-panel .cd-run-cancelled{border-left-color:#b08a2e}.comfyd-panel .cd-progress{width:100%;height:8px;margin:3px 0 1px}.comfyd-panel .cd-run-error{margin-top:2px}.comfyd-panel .cd-link{background:none;border:none;padding:0;color:#6fa8ff;text-decoration:underline;cursor:pointer;font:inherit}.comfyd-panel .cd-thumbs{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumbs img{max-width:96px;max-height:96px;border-radius:3px;cursor:zoom-in;background:#222}.comfyd-image-overlay{position:fixed;inset:0;z-index:10000;background:#000000d9;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;cursor:zoom-out}.comfyd-image-overlay img{max-width:95vw;max-height:90vh;object-fit:contain}.comfyd-image-overlay a{color:#ddd;font-size:13px}.comfyd-panel .cd-chips{display:flex;flex-wrap:wrap;gap:4px;margin-bottom:4px}.comfyd-panel .cd-att{display:inline-flex;align-items:center;gap:4px;max-width:100%}.comfyd-panel .cd-att-failed{border-color:#c44;color:#e88}.comfyd-panel .cd-att-uploading{opacity:.7}.comfyd-panel .cd-chip-thumb{width:20px;height:20px;object-fit:cover;border-radius:2px}.comfyd-panel .cd-x{background:none;border:0;color:inherit;cursor:pointer;padding:0 2px}.comfyd-panel .cd-atts{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumb{max-width:96px;max-height:72px;border-radius:3px;cursor:zoom-in;border:1px solid var(--cd-border, #444)}.comfyd-panel .cd-file{font-size:.9em;padding:1px 5px;border:1px solid var(--cd-border, #444);border-radius:3px}.comfyd-panel .cd-search{flex:0 1 9em;min-width:5em}.comfyd-panel .cd-hits{display:flex;flex-direction:column;gap:2px;max-height:12em;overflow-y:auto;padding:4px;border-bottom:1px solid var(--border-color, #444)}.comfyd-panel .cd-hit{text-align:left;background:none;border:1px solid transparent;color:inherit;padding:3px 4px;cursor:pointer;font:inherit}.comfyd-panel .cd-hit:hover{border-color:var(--border-color, #555)}.comfyd-panel .cd-hit mark{background:#6a5d1e;color:inherit}.comfyd-panel .cd-compacted{margin:4px 0 8px;padding:4px 6px;border:1px dashed var(--border-color, #555);border-radius:4px}.comfyd-panel .cd-compacted>summary{cursor:pointer}.comfyd-panel .cd-old{opacity:.75}", Bb = "comfyd.canvas", $b = 1500;
function Yc() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function go(e, t) {
  (console[e] ?? console.log)(t);
}
function zb(e) {
  const t = Yc();
  if (t) return e(t, !1);
  let n = 0;
  const r = setInterval(() => {
    const i = Yc();
    (i || ++n > $b) && (clearInterval(r), i ? e(i, !0) : go("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function Ub({ app: e, api: t }, n) {
  const r = new zh({
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
  }), i = new vp({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: r,
    WebSocket: window.WebSocket,
    tabId: Ap(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: go,
    isPanelNode: ac
  }), s = {
    app: e,
    connection: r,
    WebSocket: window.WebSocket,
    createApp: Oh,
    reactive: Ao,
    component: Pb,
    css: jb,
    document,
    log: go,
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
    o || (o = !0, t.addEventListener("graphChanged", () => i.graphChanged()), window.addEventListener("focus", () => i.setFocus(!0)), window.addEventListener("blur", () => i.setFocus(!1)), document.addEventListener("visibilitychange", () => i.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      i.touched(), i.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => i.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => i.setPointerDown(!1), !0), window.addEventListener("keydown", () => i.touched(), !0), i.start());
  };
  e.registerExtension({
    name: Bb,
    setup: l,
    afterConfigureGraph() {
      i.graphChanged();
    },
    beforeRegisterNodeDef(c, a) {
      a?.name === ao && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      ac(c) && ig(c, s);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: i, version: "0.1.0" });
}
zb(Ub);
