// @__NO_SIDE_EFFECTS__
function Zs(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const xe = {}, kn = [], xn = () => {
}, Ec = () => !1, wr = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), kr = (e) => e.startsWith("onUpdate:"), st = Object.assign, Cc = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, Gu = Object.prototype.hasOwnProperty, he = (e, t) => Gu.call(e, t), X = Array.isArray, Zt = (e) => Ii(e) === "[object Map]", Sn = (e) => Ii(e) === "[object Set]", Uo = (e) => Ii(e) === "[object Date]", me = (e) => typeof e == "function", Fe = (e) => typeof e == "string", Ct = (e) => typeof e == "symbol", Re = (e) => e !== null && typeof e == "object", Dc = (e) => (Re(e) || me(e)) && me(e.then) && me(e.catch), Sc = Object.prototype.toString, Ii = (e) => Sc.call(e), Ku = (e) => Ii(e).slice(8, -1), Tc = (e) => Ii(e) === "[object Object]", Qs = (e) => Fe(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, hi = /* @__PURE__ */ Zs(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), Ar = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Yu = /-\w/g, ht = /* @__PURE__ */ Ar((e) => e.replace(Yu, (t) => t.slice(1).toUpperCase())), Xu = /\B([A-Z])/g, Tn = /* @__PURE__ */ Ar(
  (e) => e.replace(Xu, "-$1").toLowerCase()
), Fc = /* @__PURE__ */ Ar((e) => e.charAt(0).toUpperCase() + e.slice(1)), Xr = /* @__PURE__ */ Ar((e) => e ? `on${Fc(e)}` : ""), Rt = (e, t) => !Object.is(e, t), Qi = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, Ic = (e, t, n, i = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: i,
    value: n
  });
}, Oi = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let Wo;
const xr = () => Wo || (Wo = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function Rr(e) {
  if (X(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const i = e[n], r = Fe(i) ? tf(i) : Rr(i);
      if (r)
        for (const s in r)
          t[s] = r[s];
    }
    return t;
  } else if (Fe(e) || Re(e))
    return e;
}
const Zu = /;(?![^(]*\))/g, Qu = /:([^]+)/, ef = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function tf(e) {
  const t = {};
  return e.replace(ef, (n) => n.startsWith("/*") ? "" : n).split(Zu).forEach((n) => {
    if (n) {
      const i = n.split(Qu);
      i.length > 1 && (t[i[0].trim()] = i[1].trim());
    }
  }), t;
}
function ut(e) {
  let t = "";
  if (Fe(e))
    t = e;
  else if (X(e))
    for (let n = 0; n < e.length; n++) {
      const i = ut(e[n]);
      i && (t += i + " ");
    }
  else if (Re(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const nf = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", rf = /* @__PURE__ */ Zs(nf);
function Oc(e) {
  return !!e || e === "";
}
function sf(e, t, n) {
  if (e.length !== t.length) return !1;
  let i = !0;
  for (let r = 0; i && r < e.length; r++)
    i = en(e[r], t[r], n);
  return i;
}
function Jo(e, t, n) {
  if (e.size !== t.size) return !1;
  const i = Array.from(t), r = new Uint8Array(i.length);
  for (const s of e) {
    let o = -1;
    for (let l = 0; l < i.length; l++)
      if (!r[l] && en(s, i[l], n)) {
        o = l;
        break;
      }
    if (o < 0) return !1;
    r[o] = 1;
  }
  return !0;
}
function of(e, t, n) {
  let i = Zt(e), r = Zt(t);
  if (i || r || (i = Sn(e), r = Sn(t), i || r))
    return i && r ? Jo(e, t, n) : !1;
  const s = Object.keys(e).length, o = Object.keys(t).length;
  if (s !== o)
    return !1;
  for (const l in e) {
    const c = e.hasOwnProperty(l), a = t.hasOwnProperty(l);
    if (c && !a || !c && a || !en(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function qo(e, t, n, i) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [r, s] = n;
  if (r.has(e) || s.has(t))
    return r.get(e) === t && s.get(t) === e;
  r.set(e, t), s.set(t, e);
  const o = i(e, t, n);
  return r.delete(e), s.delete(t), o;
}
function en(e, t, n) {
  if (e === t) return !0;
  let i = Uo(e), r = Uo(t);
  return i || r ? i && r ? e.getTime() === t.getTime() : !1 : (i = Ct(e), r = Ct(t), i || r ? e === t : (i = X(e), r = X(t), i || r ? i && r ? qo(e, t, n, sf) : !1 : (i = Re(e), r = Re(t), i || r ? !i || !r ? !1 : qo(e, t, n, of) : String(e) === String(t))));
}
function lf(e, t) {
  return e.findIndex((n) => en(n, t));
}
const Mc = (e) => !!(e && e.__v_isRef === !0), Ne = (e) => Fe(e) ? e : e == null ? "" : X(e) || Re(e) && (e.toString === Sc || !me(e.toString)) ? Mc(e) ? Ne(e.value) : JSON.stringify(e, Nc, 2) : String(e), Nc = (e, t) => Mc(t) ? Nc(e, t.value) : Zt(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [i, r], s) => (n[Zr(i, s) + " =>"] = r, n),
    {}
  )
} : Sn(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => Zr(n))
} : Ct(t) ? Zr(t) : Re(t) && !X(t) && !Tc(t) ? String(t) : t, Zr = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    Ct(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let Ue;
class cf {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && Ue && (Ue.active ? (this.parent = Ue, this.index = (Ue.scopes || (Ue.scopes = [])).push(
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
        const i = this.scopes.slice();
        for (t = 0, n = i.length; t < n; t++)
          i[t].pause();
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
      const i = this.effects.slice();
      for (t = 0, n = i.length; t < n; t++)
        i[t].resume();
    }
  }
  run(t) {
    if (this._active) {
      const n = Ue;
      try {
        return Ue = this, t();
      } finally {
        Ue = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = Ue, Ue = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (Ue === this)
        Ue = this.prevScope;
      else {
        let t = Ue;
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
      let n, i;
      for (n = 0, i = this.effects.length; n < i; n++)
        this.effects[n].stop();
      for (this.effects.length = 0, n = 0, i = this.cleanups.length; n < i; n++)
        this.cleanups[n]();
      if (this.cleanups.length = 0, this.scopes) {
        const r = this.scopes.slice();
        for (n = 0, i = r.length; n < i; n++)
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
function af() {
  return Ue;
}
let be;
const Qr = /* @__PURE__ */ new WeakSet();
class Lc {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, Ue && (Ue.active ? Ue.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, Qr.has(this) && (Qr.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || Bc(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, Ho(this), jc(this);
    const t = be, n = dt;
    be = this, dt = !0;
    try {
      return this.fn();
    } finally {
      zc(this), be = t, dt = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        no(t);
      this.deps = this.depsTail = void 0, Ho(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? Qr.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    Ms(this) && this.run();
  }
  get dirty() {
    return Ms(this);
  }
}
let Pc = 0, di, pi;
function Bc(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = pi, pi = e;
    return;
  }
  e.next = di, di = e;
}
function eo() {
  Pc++;
}
function to() {
  if (--Pc > 0)
    return;
  if (pi) {
    let t = pi;
    for (pi = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; di; ) {
    let t = di;
    for (di = void 0; t; ) {
      const n = t.next;
      if (t.next = void 0, t.flags &= -9, t.flags & 1)
        try {
          t.trigger();
        } catch (i) {
          e || (e = i);
        }
      t = n;
    }
  }
  if (e) throw e;
}
function jc(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function zc(e) {
  let t, n = e.depsTail, i = n;
  for (; i; ) {
    const r = i.prevDep;
    i.version === -1 ? (i === n && (n = r), no(i), uf(i)) : t = i, i.dep.activeLink = i.prevActiveLink, i.prevActiveLink = void 0, i = r;
  }
  e.deps = t, e.depsTail = n;
}
function Ms(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && ($c(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function $c(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === wi) || (e.globalVersion = wi, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !Ms(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = be, i = dt;
  be = e, dt = !0;
  try {
    jc(e);
    const r = e.fn(e._value);
    (t.version === 0 || Rt(r, e._value)) && (e.flags |= 128, e._value = r, t.version++);
  } catch (r) {
    throw t.version++, r;
  } finally {
    be = n, dt = i, zc(e), e.flags &= -3;
  }
}
function no(e, t = !1) {
  const { dep: n, prevSub: i, nextSub: r } = e;
  if (i && (i.nextSub = r, e.prevSub = void 0), r && (r.prevSub = i, e.nextSub = void 0), n.subs === e && (n.subs = i, !i && n.computed)) {
    n.computed.flags &= -5;
    for (let s = n.computed.deps; s; s = s.nextDep)
      no(s, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function uf(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let dt = !0;
const Uc = [];
function tn() {
  Uc.push(dt), dt = !1;
}
function nn() {
  const e = Uc.pop();
  dt = e === void 0 ? !0 : e;
}
function Ho(e) {
  const { cleanup: t } = e;
  if (e.cleanup = void 0, t) {
    const n = be;
    be = void 0;
    try {
      t();
    } finally {
      be = n;
    }
  }
}
let wi = 0;
class ff {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class io {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!be || !dt || be === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== be)
      n = this.activeLink = new ff(be, this), be.deps ? (n.prevDep = be.depsTail, be.depsTail.nextDep = n, be.depsTail = n) : be.deps = be.depsTail = n, Wc(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const i = n.nextDep;
      i.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = i), n.prevDep = be.depsTail, n.nextDep = void 0, be.depsTail.nextDep = n, be.depsTail = n, be.deps === n && (be.deps = i);
    }
    return n;
  }
  trigger(t) {
    this.version++, wi++, this.notify(t);
  }
  notify(t) {
    eo();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      to();
    }
  }
}
function Wc(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let i = t.deps; i; i = i.nextDep)
        Wc(i);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const Ns = /* @__PURE__ */ new WeakMap(), Rn = /* @__PURE__ */ Symbol(
  ""
), Ls = /* @__PURE__ */ Symbol(
  ""
), ki = /* @__PURE__ */ Symbol(
  ""
);
function qe(e, t, n) {
  if (dt && be) {
    let i = Ns.get(e);
    i || Ns.set(e, i = /* @__PURE__ */ new Map());
    let r = i.get(n);
    r || (i.set(n, r = new io()), r.map = i, r.key = n), r.track();
  }
}
function Bt(e, t, n, i, r, s) {
  const o = Ns.get(e);
  if (!o) {
    wi++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (eo(), t === "clear")
    o.forEach(l);
  else {
    const c = X(e), a = c && Qs(n);
    if (c && n === "length") {
      const u = Number(i);
      o.forEach((h, w) => {
        (w === "length" || w === ki || !Ct(w) && w >= u) && l(h);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), a && l(o.get(ki)), t) {
        case "add":
          c ? a && l(o.get("length")) : (l(o.get(Rn)), Zt(e) && l(o.get(Ls)));
          break;
        case "delete":
          c || (l(o.get(Rn)), Zt(e) && l(o.get(Ls)));
          break;
        case "set":
          Zt(e) && l(o.get(Rn));
          break;
      }
  }
  to();
}
function Ln(e) {
  const t = /* @__PURE__ */ ue(e);
  return t === e || (qe(t, "iterate", ki), /* @__PURE__ */ rt(e)) ? t : /* @__PURE__ */ Dt(e) ? /* @__PURE__ */ Qt(e) ? t.map((n) => rn(ot(n))) : t.map(rn) : t.map(ot);
}
function vr(e) {
  return qe(e = /* @__PURE__ */ ue(e), "iterate", ki), e;
}
function kt(e, t) {
  return /* @__PURE__ */ Dt(e) ? rn(/* @__PURE__ */ Qt(e) ? ot(t) : t) : ot(t);
}
const hf = {
  __proto__: null,
  [Symbol.iterator]() {
    return es(this, Symbol.iterator, (e) => kt(this, e));
  },
  concat(...e) {
    return Ln(this).concat(
      ...e.map((t) => X(t) ? Ln(t) : t)
    );
  },
  entries() {
    return es(this, "entries", (e) => (e[1] = kt(this, e[1]), e));
  },
  every(e, t) {
    return Ot(this, "every", e, t, void 0, arguments);
  },
  filter(e, t) {
    return Ot(
      this,
      "filter",
      e,
      t,
      (n) => n.map((i) => kt(this, i)),
      arguments
    );
  },
  find(e, t) {
    return Ot(
      this,
      "find",
      e,
      t,
      (n) => kt(this, n),
      arguments
    );
  },
  findIndex(e, t) {
    return Ot(this, "findIndex", e, t, void 0, arguments);
  },
  findLast(e, t) {
    return Ot(
      this,
      "findLast",
      e,
      t,
      (n) => kt(this, n),
      arguments
    );
  },
  findLastIndex(e, t) {
    return Ot(this, "findLastIndex", e, t, void 0, arguments);
  },
  // flat, flatMap could benefit from ARRAY_ITERATE but are not straight-forward to implement
  forEach(e, t) {
    return Ot(this, "forEach", e, t, void 0, arguments);
  },
  includes(...e) {
    return ts(this, "includes", e);
  },
  indexOf(...e) {
    return ts(this, "indexOf", e);
  },
  join(e) {
    return Ln(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return ts(this, "lastIndexOf", e);
  },
  map(e, t) {
    return Ot(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return ei(this, "pop");
  },
  push(...e) {
    return ei(this, "push", e);
  },
  reduce(e, ...t) {
    return Go(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return Go(this, "reduceRight", e, t);
  },
  shift() {
    return ei(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return Ot(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return ei(this, "splice", e);
  },
  toReversed() {
    return Ln(this).toReversed();
  },
  toSorted(e) {
    return Ln(this).toSorted(e);
  },
  toSpliced(...e) {
    return Ln(this).toSpliced(...e);
  },
  unshift(...e) {
    return ei(this, "unshift", e);
  },
  values() {
    return es(this, "values", (e) => kt(this, e));
  }
};
function es(e, t, n) {
  const i = vr(e), r = i[t], s = r.call(i);
  if (i !== e && !/* @__PURE__ */ rt(e)) {
    if (s[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(s));
      return o.next = () => Vo(s.next(), n), r !== Jc[t] && Object.defineProperties(o, {
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
    s._next = s.next, s.next = () => Vo(s._next(), n);
  }
  return s;
}
function Vo(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const Jc = Array.prototype;
function Ot(e, t, n, i, r, s) {
  const o = vr(e), l = o !== e && !/* @__PURE__ */ rt(e), c = o[t];
  if (c !== Jc[t]) {
    const h = c.apply(e, s);
    return l ? ot(h) : h;
  }
  let a = n;
  o !== e && (l ? a = function(h, w) {
    return n.call(this, kt(e, h), w, e);
  } : n.length > 2 && (a = function(h, w) {
    return n.call(this, h, w, e);
  }));
  const u = c.call(o, a, i);
  return l && r ? r(u) : u;
}
function Go(e, t, n, i) {
  const r = vr(e), s = r !== e && !/* @__PURE__ */ rt(e);
  let o = n, l = !1;
  r !== e && (s ? (l = i.length === 0, o = function(a, u, h) {
    return l && (l = !1, a = kt(e, a)), n.call(this, a, kt(e, u), h, e);
  }) : n.length > 3 && (o = function(a, u, h) {
    return n.call(this, a, u, h, e);
  }));
  const c = r[t](o, ...i);
  return l ? kt(e, c) : c;
}
function ts(e, t, n) {
  const i = /* @__PURE__ */ ue(e);
  qe(i, "iterate", ki);
  const r = i[t](...n);
  return (r === -1 || r === !1) && /* @__PURE__ */ lo(n[0]) ? (n[0] = /* @__PURE__ */ ue(n[0]), i[t](...n)) : r;
}
function ei(e, t, n = []) {
  tn(), eo();
  const i = (/* @__PURE__ */ ue(e))[t].apply(e, n);
  return to(), nn(), i;
}
const df = /* @__PURE__ */ Zs("__proto__,__v_isRef,__isVue"), qc = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(Ct)
);
function pf(e) {
  Ct(e) || (e = String(e));
  const t = /* @__PURE__ */ ue(this);
  return qe(t, "has", e), t.hasOwnProperty(e);
}
class Hc {
  constructor(t = !1, n = !1) {
    this._isReadonly = t, this._isShallow = n;
  }
  get(t, n, i) {
    if (n === "__v_skip") return t.__v_skip;
    const r = this._isReadonly, s = this._isShallow;
    if (n === "__v_isReactive")
      return !r;
    if (n === "__v_isReadonly")
      return r;
    if (n === "__v_isShallow")
      return s;
    if (n === "__v_raw")
      return i === (r ? s ? Rf : Yc : s ? Kc : Gc).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(i) ? t : void 0;
    const o = X(t);
    if (!r) {
      let c;
      if (o && (c = hf[n]))
        return c;
      if (n === "hasOwnProperty")
        return pf;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ Ke(t) ? t : i
    );
    if ((Ct(n) ? qc.has(n) : df(n)) || (r || qe(t, "get", n), s))
      return l;
    if (/* @__PURE__ */ Ke(l)) {
      const c = o && Qs(n) ? l : l.value;
      return r && Re(c) ? /* @__PURE__ */ Bs(c) : c;
    }
    return Re(l) ? r ? /* @__PURE__ */ Bs(l) : /* @__PURE__ */ so(l) : l;
  }
}
class Vc extends Hc {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, i, r) {
    let s = t[n];
    const o = X(t) && Qs(n);
    if (!this._isShallow) {
      const a = /* @__PURE__ */ Dt(s);
      if (!/* @__PURE__ */ rt(i) && !/* @__PURE__ */ Dt(i) && (s = /* @__PURE__ */ ue(s), i = /* @__PURE__ */ ue(i)), !o && /* @__PURE__ */ Ke(s) && !/* @__PURE__ */ Ke(i))
        return a || (s.value = i), !0;
    }
    const l = o ? Number(n) < t.length : he(t, n), c = Reflect.set(
      t,
      n,
      i,
      /* @__PURE__ */ Ke(t) ? t : r
    );
    return t === /* @__PURE__ */ ue(r) && c && (l ? Rt(i, s) && Bt(t, "set", n, i) : Bt(t, "add", n, i)), c;
  }
  deleteProperty(t, n) {
    const i = he(t, n);
    t[n];
    const r = Reflect.deleteProperty(t, n);
    return r && i && Bt(t, "delete", n, void 0), r;
  }
  has(t, n) {
    const i = Reflect.has(t, n);
    return (!Ct(n) || !qc.has(n)) && qe(t, "has", n), i;
  }
  ownKeys(t) {
    return qe(
      t,
      "iterate",
      X(t) ? "length" : Rn
    ), Reflect.ownKeys(t);
  }
}
class gf extends Hc {
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
const mf = /* @__PURE__ */ new Vc(), _f = /* @__PURE__ */ new gf(), bf = /* @__PURE__ */ new Vc(!0);
const Ps = (e) => e, Wi = (e) => Reflect.getPrototypeOf(e);
function yf(e, t, n) {
  return function(...i) {
    const r = this.__v_raw, s = /* @__PURE__ */ ue(r), o = Zt(s), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, a = r[e](...i), u = n ? Ps : t ? rn : ot;
    return !t && qe(
      s,
      "iterate",
      c ? Ls : Rn
    ), st(
      // inheriting all iterator properties
      Object.create(a),
      {
        // iterator protocol
        next() {
          const { value: h, done: w } = a.next();
          return w ? { value: h, done: w } : {
            value: l ? [u(h[0]), u(h[1])] : u(h),
            done: w
          };
        }
      }
    );
  };
}
function Ji(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function wf(e, t) {
  const n = {
    get(r) {
      const s = this.__v_raw, o = /* @__PURE__ */ ue(s), l = /* @__PURE__ */ ue(r);
      e || (Rt(r, l) && qe(o, "get", r), qe(o, "get", l));
      const { has: c } = Wi(o), a = t ? Ps : e ? rn : ot;
      if (c.call(o, r))
        return a(s.get(r));
      if (c.call(o, l))
        return a(s.get(l));
      s !== o && s.get(r);
    },
    get size() {
      const r = this.__v_raw;
      return !e && qe(/* @__PURE__ */ ue(r), "iterate", Rn), r.size;
    },
    has(r) {
      const s = this.__v_raw, o = /* @__PURE__ */ ue(s), l = /* @__PURE__ */ ue(r);
      return e || (Rt(r, l) && qe(o, "has", r), qe(o, "has", l)), r === l ? s.has(r) : s.has(r) || s.has(l);
    },
    forEach(r, s) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ ue(l), a = t ? Ps : e ? rn : ot;
      return !e && qe(c, "iterate", Rn), l.forEach((u, h) => r.call(s, a(u), a(h), o));
    }
  };
  return st(
    n,
    e ? {
      add: Ji("add"),
      set: Ji("set"),
      delete: Ji("delete"),
      clear: Ji("clear")
    } : {
      add(r) {
        const s = /* @__PURE__ */ ue(this), o = Wi(s), l = /* @__PURE__ */ ue(r), c = !t && !/* @__PURE__ */ rt(r) && !/* @__PURE__ */ Dt(r) ? l : r;
        return o.has.call(s, c) || Rt(r, c) && o.has.call(s, r) || Rt(l, c) && o.has.call(s, l) || (s.add(c), Bt(s, "add", c, c)), this;
      },
      set(r, s) {
        !t && !/* @__PURE__ */ rt(s) && !/* @__PURE__ */ Dt(s) && (s = /* @__PURE__ */ ue(s));
        const o = /* @__PURE__ */ ue(this), { has: l, get: c } = Wi(o);
        let a = l.call(o, r);
        a || (r = /* @__PURE__ */ ue(r), a = l.call(o, r));
        const u = c.call(o, r);
        return o.set(r, s), a ? Rt(s, u) && Bt(o, "set", r, s) : Bt(o, "add", r, s), this;
      },
      delete(r) {
        const s = /* @__PURE__ */ ue(this), { has: o, get: l } = Wi(s);
        let c = o.call(s, r);
        c || (r = /* @__PURE__ */ ue(r), c = o.call(s, r)), l && l.call(s, r);
        const a = s.delete(r);
        return c && Bt(s, "delete", r, void 0), a;
      },
      clear() {
        const r = /* @__PURE__ */ ue(this), s = r.size !== 0, o = r.clear();
        return s && Bt(
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
    n[r] = yf(r, e, t);
  }), n;
}
function ro(e, t) {
  const n = wf(e, t);
  return (i, r, s) => r === "__v_isReactive" ? !e : r === "__v_isReadonly" ? e : r === "__v_isShallow" ? t : r === "__v_raw" ? i : Reflect.get(
    he(n, r) && r in i ? n : i,
    r,
    s
  );
}
const kf = {
  get: /* @__PURE__ */ ro(!1, !1)
}, Af = {
  get: /* @__PURE__ */ ro(!1, !0)
}, xf = {
  get: /* @__PURE__ */ ro(!0, !1)
};
const Gc = /* @__PURE__ */ new WeakMap(), Kc = /* @__PURE__ */ new WeakMap(), Yc = /* @__PURE__ */ new WeakMap(), Rf = /* @__PURE__ */ new WeakMap();
function vf(e) {
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
function so(e) {
  return /* @__PURE__ */ Dt(e) ? e : oo(
    e,
    !1,
    mf,
    kf,
    Gc
  );
}
// @__NO_SIDE_EFFECTS__
function Ef(e) {
  return oo(
    e,
    !1,
    bf,
    Af,
    Kc
  );
}
// @__NO_SIDE_EFFECTS__
function Bs(e) {
  return oo(
    e,
    !0,
    _f,
    xf,
    Yc
  );
}
function oo(e, t, n, i, r) {
  if (!Re(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const s = r.get(e);
  if (s)
    return s;
  const o = vf(Ku(e));
  if (o === 0)
    return e;
  const l = new Proxy(
    e,
    o === 2 ? i : n
  );
  return r.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function Qt(e) {
  return /* @__PURE__ */ Dt(e) ? /* @__PURE__ */ Qt(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function Dt(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function rt(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function lo(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function ue(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ ue(t) : e;
}
function Cf(e) {
  return !he(e, "__v_skip") && Object.isExtensible(e) && Ic(e, "__v_skip", !0), e;
}
const ot = (e) => Re(e) ? /* @__PURE__ */ so(e) : e, rn = (e) => Re(e) ? /* @__PURE__ */ Bs(e) : e;
// @__NO_SIDE_EFFECTS__
function Ke(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function Ko(e) {
  return Df(e, !1);
}
function Df(e, t) {
  return /* @__PURE__ */ Ke(e) ? e : new Sf(e, t);
}
class Sf {
  constructor(t, n) {
    this.dep = new io(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ ue(t), this._value = n ? t : ot(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, i = this.__v_isShallow || /* @__PURE__ */ rt(t) || /* @__PURE__ */ Dt(t);
    t = i ? t : /* @__PURE__ */ ue(t), Rt(t, n) && (this._rawValue = t, this._value = i ? t : ot(t), this.dep.trigger());
  }
}
function V(e) {
  return /* @__PURE__ */ Ke(e) ? e.value : e;
}
const Tf = {
  get: (e, t, n) => t === "__v_raw" ? e : V(Reflect.get(e, t, n)),
  set: (e, t, n, i) => {
    const r = e[t];
    return /* @__PURE__ */ Ke(r) && !/* @__PURE__ */ Ke(n) ? (r.value = n, !0) : Reflect.set(e, t, n, i);
  }
};
function Xc(e) {
  return /* @__PURE__ */ Qt(e) ? e : new Proxy(e, Tf);
}
class Ff {
  constructor(t, n, i) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new io(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = wi - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = i;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    be !== this)
      return Bc(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return $c(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function If(e, t, n = !1) {
  let i, r;
  return me(e) ? i = e : (i = e.get, r = e.set), new Ff(i, r, n);
}
const qi = {}, rr = /* @__PURE__ */ new WeakMap();
let bn;
function Of(e, t = !1, n = bn) {
  if (n) {
    let i = rr.get(n);
    i || rr.set(n, i = []), i.push(e);
  }
}
function Mf(e, t, n = xe) {
  const { immediate: i, deep: r, once: s, scheduler: o, augmentJob: l, call: c } = n, a = (g) => r ? g : /* @__PURE__ */ rt(g) || r === !1 || r === 0 ? jt(g, 1) : jt(g);
  let u, h, w, _, p = !1, x = !1;
  if (/* @__PURE__ */ Ke(e) ? (h = () => e.value, p = /* @__PURE__ */ rt(e)) : /* @__PURE__ */ Qt(e) ? (h = () => a(e), p = !0) : X(e) ? (x = !0, p = e.some((g) => /* @__PURE__ */ Qt(g) || /* @__PURE__ */ rt(g)), h = () => e.map((g) => {
    if (/* @__PURE__ */ Ke(g))
      return g.value;
    if (/* @__PURE__ */ Qt(g))
      return a(g);
    if (me(g))
      return c ? c(g, 2) : g();
  })) : me(e) ? t ? h = c ? () => c(e, 2) : e : h = () => {
    if (w) {
      tn();
      try {
        w();
      } finally {
        nn();
      }
    }
    const g = bn;
    bn = u;
    try {
      return c ? c(e, 3, [_]) : e(_);
    } finally {
      bn = g;
    }
  } : h = xn, t && r) {
    const g = h, v = r === !0 ? 1 / 0 : r;
    h = () => jt(g(), v);
  }
  const D = af(), I = () => {
    u.stop(), D && D.active && Cc(D.effects, u);
  };
  if (s && t) {
    const g = t;
    t = (...v) => {
      try {
        return g(...v);
      } finally {
        I();
      }
    };
  }
  let k = x ? new Array(e.length).fill(qi) : qi;
  const m = (g) => {
    if (!(!(u.flags & 1) || !u.dirty && !g))
      if (t) {
        const v = u.run();
        if (g || r || p || (x ? v.some((B, U) => Rt(B, k[U])) : Rt(v, k))) {
          const B = bn;
          tn();
          try {
            w && w(), bn = u;
            const U = [
              v,
              // pass undefined as the old value when it's changed for the first time
              k === qi ? void 0 : x && k[0] === qi ? [] : k,
              _
            ];
            k = v, c ? c(t, 3, U) : (
              // @ts-expect-error
              t(...U)
            );
          } finally {
            bn = B, nn();
          }
        }
      } else
        u.run();
  };
  return l && l(m), u = new Lc(h), u.scheduler = o ? () => o(m, !1) : m, _ = (g) => Of(g, !1, u), w = u.onStop = () => {
    const g = rr.get(u);
    if (g) {
      if (c)
        c(g, 4);
      else
        for (const v of g) v();
      rr.delete(u);
    }
  }, t ? i ? m(!0) : k = u.run() : o ? o(m.bind(null, !0), !0) : u.run(), I.pause = u.pause.bind(u), I.resume = u.resume.bind(u), I.stop = I, I;
}
function jt(e, t = 1 / 0, n) {
  if (t <= 0 || !Re(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ Ke(e))
    jt(e.value, t, n);
  else if (X(e))
    for (let i = 0; i < e.length; i++)
      jt(e[i], t, n);
  else if (Sn(e) || Zt(e))
    e.forEach((i) => {
      jt(i, t, n);
    });
  else if (Tc(e)) {
    for (const i in e)
      jt(e[i], t, n);
    for (const i of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, i) && jt(e[i], t, n);
  }
  return e;
}
function Mi(e, t, n, i) {
  try {
    return i ? e(...i) : e();
  } catch (r) {
    Er(r, t, n);
  }
}
function Jt(e, t, n, i) {
  if (me(e)) {
    const r = Mi(e, t, n, i);
    return r && Dc(r) && r.catch((s) => {
      Er(s, t, n, void 0, !0);
    }), r;
  }
  if (X(e)) {
    const r = [];
    for (let s = 0; s < e.length; s++)
      r.push(Jt(e[s], t, n, i));
    return r;
  }
}
function Er(e, t, n, i = !0, r = !1) {
  const s = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || xe;
  if (t) {
    let c = t.parent;
    const a = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const h = c.ec;
      if (h && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!r || c.scope.active)) {
        for (let w = 0; w < h.length; w++)
          if (h[w](e, a, u) === !1)
            return;
      }
      c = c.parent;
    }
    if (o) {
      tn(), Mi(o, null, 10, [
        e,
        a,
        u
      ]), nn();
      return;
    }
  }
  Nf(e, n, s, i, l);
}
function Nf(e, t, n, i = !0, r = !1) {
  if (r)
    throw e;
  console.error(e);
}
const Ve = [];
let ft = -1;
const At = [];
let Kt = null, zn = 0;
const Zc = /* @__PURE__ */ Promise.resolve();
let sr = null;
function or(e) {
  const t = sr || Zc;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function Lf(e) {
  let t = ft + 1, n = Ve.length;
  for (; t < n; ) {
    const i = t + n >>> 1, r = Ve[i], s = Ai(r);
    s < e || s === e && r.flags & 2 ? t = i + 1 : n = i;
  }
  return t;
}
function co(e) {
  if (!(e.flags & 1)) {
    const t = Ai(e), n = Ve[Ve.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Ai(n) ? Ve.push(e) : Ve.splice(Lf(t), 0, e), e.flags |= 1, Qc();
  }
}
function Qc() {
  sr || (sr = Zc.then(na));
}
function Pf(e) {
  if (!X(e))
    Kt && e.id === -1 ? Kt.splice(zn + 1, 0, e) : e.flags & 1 || (At.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      At.push(e[t]);
  Qc();
}
function ea(e, t, n, i = ft + 1) {
  for (; i < Ve.length; i++) {
    const r = Ve[i];
    if (r && r.flags & 2) {
      if (e && r.id !== e.uid || t !== void 0 && !(r.id >= t))
        continue;
      Ve.splice(i, 1), i = e ? i - 1 : ft, r.flags & 4 && (r.flags &= -2), r(), r.flags & 4 || (r.flags &= -2);
    }
  }
}
function ta(e, t, n = 0) {
  if (At.length) {
    let i = At, r = 0;
    if (t) {
      i = [];
      for (let o = 0; o < At.length; o++) {
        const l = At[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? At[r++] = l : i.push(l);
      }
    }
    const s = [...new Set(i)].sort((o, l) => Ai(o) - Ai(l));
    if (At.length = r, Kt) {
      for (let o = 0; o < s.length; o++)
        Kt.push(s[o]);
      return;
    }
    for (Kt = s, zn = 0; zn < Kt.length; zn++) {
      const o = Kt[zn];
      o.flags & 4 && (o.flags &= -2), o.flags & 8 || o(), o.flags &= -2;
    }
    Kt = null, zn = 0;
  }
}
let ns = !1;
function Bf(e, t) {
  if (ns) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(At);
  e(), ns = !0;
  try {
    ea(void 0, t), ta(void 0, n, t);
  } finally {
    ns = !1;
  }
}
const Ai = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function na(e) {
  try {
    for (ft = 0; ft < Ve.length; ft++) {
      const t = Ve[ft];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), Mi(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; ft < Ve.length; ft++) {
      const t = Ve[ft];
      t && (t.flags &= -2);
    }
    ft = -1, Ve.length = 0, ta(), sr = null, (Ve.length || At.length) && na();
  }
}
let it = null, ia = null;
function lr(e) {
  const t = it;
  return it = e, ia = e && e.type.__scopeId || null, t;
}
function jf(e, t = it, n) {
  if (!t || e._n)
    return e;
  const i = (...r) => {
    i._d && il(-1);
    const s = lr(t), o = vn.length;
    let l;
    try {
      l = e(...r);
    } finally {
      for (let c = vn.length; c > o; c--) ya();
      lr(s), i._d && il(1);
    }
    return l;
  };
  return i._n = !0, i._c = !0, i._d = !0, i;
}
function Pn(e, t) {
  if (it === null)
    return e;
  const n = Tr(it), i = e.dirs || (e.dirs = []);
  for (let r = 0; r < t.length; r++) {
    let [s, o, l, c = xe] = t[r];
    s && (me(s) && (s = {
      mounted: s,
      updated: s
    }), s.deep && jt(o), i.push({
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
function hn(e, t, n, i) {
  let r = e;
  if (i === "beforeMount")
    e._mount = e;
  else if (i === "beforeUpdate") {
    const l = t && t._mount;
    l && (l._latest = e, e._mount = l);
  } else if (i === "mounted") {
    const l = e._latest;
    e._mount = e._latest = void 0, l && (r = l, l._mount = void 0);
  }
  const s = r.dirs, o = t && t.dirs;
  for (let l = 0; l < s.length; l++) {
    let c = s[l];
    o ? c.oldValue = o[l].value : i === "mounted" && c.oldValue !== void 0 && (c = st({}, c, { oldValue: void 0 }));
    let a = c.dir[i];
    a && (tn(), Jt(a, n, 8, [
      e.el,
      c,
      r,
      t
    ]), nn());
  }
}
function zf(e, t, n = !1) {
  const i = xh();
  if (i || Un) {
    let r = Un ? Un._context.provides : i ? i.parent == null || i.ce ? i.vnode.appContext && i.vnode.appContext.provides : i.parent.provides : void 0;
    if (r && e in r)
      return r[e];
    if (arguments.length > 1)
      return n && me(t) ? t.call(i && i.proxy) : t;
  }
}
const $f = /* @__PURE__ */ Symbol.for("v-scx"), Uf = () => zf($f);
function Yo(e, t, n) {
  return Wf(e, t, n);
}
function Wf(e, t, n = xe) {
  const { immediate: i, deep: r, flush: s, once: o } = n, l = st({}, n), c = t && i || !t && s !== "post";
  let a;
  if (fr) {
    if (s === "sync") {
      const _ = Uf();
      a = _.__watcherHandles || (_.__watcherHandles = []);
    } else if (!c) {
      const _ = () => {
      };
      return _.stop = xn, _.resume = xn, _.pause = xn, _;
    }
  }
  const u = Vn;
  l.call = (_, p, x) => Jt(_, u, p, x);
  let h = !1;
  s === "post" ? l.scheduler = (_) => {
    _.i = u, He(_, u && u.suspense);
  } : s !== "sync" && (h = !0, l.scheduler = (_, p) => {
    p ? _() : co(_);
  }), l.augmentJob = (_) => {
    t && (_.flags |= 4), h && (_.flags |= 2, u && (_.id = u.uid, _.i = u));
  };
  const w = Mf(e, t, l);
  return fr && (a ? a.push(w) : c && w()), w;
}
const Jf = /* @__PURE__ */ Symbol("_vte"), Cr = (e) => e.__isTeleport, is = /* @__PURE__ */ Symbol("_leaveCb");
function qf(e) {
  let t = e[0];
  if (e.length > 1) {
    for (const n of e)
      if (n.type !== pt) {
        t = n;
        break;
      }
  }
  return t;
}
function ra(e) {
  if (!sa(e))
    return Cr(e.type) && e.children ? qf(e.children) : e;
  if (e.component)
    return e.component.subTree;
  const { shapeFlag: t, children: n } = e;
  if (n) {
    if (t & 16)
      return n[0];
    if (t & 32 && me(n.default))
      return n.default();
  }
}
function gi(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    gi(
      Cr(n.type) && ra(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const i = n.isHydrating ? n.pendingBranch : n.activeBranch;
      i && gi(i, t.clone(i));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === Te && X(e.children)) {
    const n = la(e.children, !1);
    n && gi(n, t);
  }
}
function js(e) {
  if (e.component)
    return js(e.component.subTree);
  if (e.type === Te) {
    const t = X(e.children) && la(e.children, !1);
    return t ? js(t) : void 0;
  }
  if (e.type !== pt)
    return e;
}
function Hf(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function Xo(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const cr = /* @__PURE__ */ new WeakMap();
function mi(e, t, n, i, r = !1) {
  if (X(e)) {
    e.forEach(
      (x, D) => mi(
        x,
        t && (X(t) ? t[D] : t),
        n,
        i,
        r
      )
    );
    return;
  }
  if (_i(i) && !r) {
    i.shapeFlag & 512 && i.type.__asyncResolved && i.component.subTree.component && mi(e, t, n, i.component.subTree);
    return;
  }
  const s = i.shapeFlag & 4 ? Tr(i.component) : i.el, o = r ? null : s, { i: l, r: c } = e, a = t && t.r, u = l.refs === xe ? l.refs = {} : l.refs, h = l.setupState, w = /* @__PURE__ */ ue(h), _ = h === xe ? Ec : (x) => Xo(u, x) ? !1 : he(w, x), p = (x, D) => !(D && Xo(u, D));
  if (a != null && a !== c) {
    if (Zo(t), Fe(a))
      u[a] = null, _(a) && (h[a] = null);
    else if (/* @__PURE__ */ Ke(a)) {
      const x = t;
      p(a, x.k) && (a.value = null), x.k && (u[x.k] = null);
    }
  }
  if (me(c))
    Mi(c, l, 12, [o, u]);
  else {
    const x = Fe(c), D = /* @__PURE__ */ Ke(c);
    if (x || D) {
      const I = () => {
        if (e.f) {
          const k = x ? _(c) ? h[c] : u[c] : p() || !e.k ? c.value : u[e.k];
          if (r)
            X(k) && Cc(k, s);
          else if (X(k))
            k.includes(s) || k.push(s);
          else if (x)
            u[c] = [s], _(c) && (h[c] = u[c]);
          else {
            const m = [s];
            p(c, e.k) && (c.value = m), e.k && (u[e.k] = m);
          }
        } else x ? (u[c] = o, _(c) && (h[c] = o)) : D && (p(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const k = () => {
          I(), cr.delete(e);
        };
        k.id = -1, cr.set(e, k), He(k, n);
      } else
        Zo(e), I();
    }
  }
}
function Zo(e) {
  const t = cr.get(e);
  t && (t.flags |= 8, cr.delete(e));
}
xr().requestIdleCallback;
xr().cancelIdleCallback;
const _i = (e) => !!e.type.__asyncLoader, sa = (e) => e.type.__isKeepAlive, Vf = /* @__PURE__ */ Symbol.for("v-ndc");
function Bn(e, t, n, i) {
  let r;
  const s = n, o = X(e);
  if (o || Fe(e)) {
    const l = o && /* @__PURE__ */ Qt(e);
    let c = !1, a = !1;
    l && (c = !/* @__PURE__ */ rt(e), a = /* @__PURE__ */ Dt(e), e = vr(e)), r = new Array(e.length);
    for (let u = 0, h = e.length; u < h; u++)
      r[u] = t(
        c ? a ? rn(ot(e[u])) : ot(e[u]) : e[u],
        u,
        void 0,
        s
      );
  } else if (typeof e == "number")
    if (!Number.isInteger(e) || e < 0)
      r = [];
    else {
      r = new Array(e);
      for (let l = 0; l < e; l++)
        r[l] = t(l + 1, l, void 0, s);
    }
  else if (Re(e))
    if (e[Symbol.iterator])
      r = Array.from(
        e,
        (l, c) => t(l, c, void 0, s)
      );
    else {
      const l = Object.keys(e);
      r = new Array(l.length);
      for (let c = 0, a = l.length; c < a; c++) {
        const u = l[c];
        r[c] = t(e[u], u, c, s);
      }
    }
  else
    r = [];
  return r;
}
const zs = (e) => e ? Ra(e) ? Tr(e) : zs(e.parent) : null, bi = (
  // Move PURE marker to new line to workaround compiler discarding it
  // due to type annotation
  /* @__PURE__ */ st(/* @__PURE__ */ Object.create(null), {
    $: (e) => e,
    $el: (e) => e.vnode.el,
    $data: (e) => e.data,
    $props: (e) => e.props,
    $attrs: (e) => e.attrs,
    $slots: (e) => e.slots,
    $refs: (e) => e.refs,
    $parent: (e) => zs(e.parent),
    $root: (e) => zs(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      co(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = or.bind(e.proxy)),
    $watch: (e) => xn
  })
), rs = (e, t) => e !== xe && !e.__isScriptSetup && he(e, t), Gf = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: i, data: r, props: s, accessCache: o, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const w = o[t];
      if (w !== void 0)
        switch (w) {
          case 1:
            return i[t];
          case 2:
            return r[t];
          case 4:
            return n[t];
          case 3:
            return s[t];
        }
      else {
        if (rs(i, t))
          return o[t] = 1, i[t];
        if (he(s, t))
          return o[t] = 3, s[t];
        if (n !== xe && he(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const a = bi[t];
    let u, h;
    if (a)
      return t === "$attrs" && qe(e.attrs, "get", ""), a(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== xe && he(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      h = c.config.globalProperties, he(h, t)
    )
      return h[t];
  },
  set({ _: e }, t, n) {
    const { data: i, setupState: r, ctx: s } = e;
    return rs(r, t) ? (r[t] = n, !0) : he(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (s[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: i, appContext: r, props: s, type: o }
  }, l) {
    let c;
    return !!(n[l] || rs(t, l) || he(s, l) || he(i, l) || he(bi, l) || he(r.config.globalProperties, l) || (c = o.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : he(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function oa() {
  return {
    app: null,
    config: {
      isNativeTag: Ec,
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
let Kf = 0;
function Yf(e, t) {
  return function(i, r = null) {
    me(i) || (i = st({}, i)), r != null && !Re(r) && (r = null);
    const s = oa(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const a = s.app = {
      _uid: Kf++,
      _component: i,
      _props: r,
      _container: null,
      _context: s,
      _instance: null,
      version: Sh,
      get config() {
        return s.config;
      },
      set config(u) {
      },
      use(u, ...h) {
        return o.has(u) || (u && me(u.install) ? (o.add(u), u.install(a, ...h)) : me(u) && (o.add(u), u(a, ...h))), a;
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
      mount(u, h, w) {
        if (!c) {
          const _ = a._ceVNode || Ut(i, r);
          return _.appContext = s, w === !0 ? w = "svg" : w === !1 && (w = void 0), e(_, u, w), c = !0, a._container = u, u.__vue_app__ = a, Tr(_.component);
        }
      },
      onUnmount(u) {
        l.push(u);
      },
      unmount() {
        c && (Jt(
          l,
          a._instance,
          16
        ), e(null, a._container), delete a._container.__vue_app__);
      },
      provide(u, h) {
        return s.provides[u] = h, a;
      },
      runWithContext(u) {
        const h = Un;
        Un = a;
        try {
          return u();
        } finally {
          Un = h;
        }
      }
    };
    return a;
  };
}
let Un = null;
const Xf = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${ht(t)}Modifiers`] || e[`${Tn(t)}Modifiers`];
function Zf(e, t, ...n) {
  if (e.isUnmounted) return;
  const i = e.vnode.props || xe;
  let r = n;
  const s = t.startsWith("update:"), o = s && Xf(i, t.slice(7));
  o && (o.trim && (r = n.map((u) => Fe(u) ? u.trim() : u)), o.number && (r = r.map(Oi)));
  let l, c = i[l = Xr(t)] || // also try camelCase event handler (#2249)
  i[l = Xr(ht(t))];
  !c && s && (c = i[l = Xr(Tn(t))]), c && Jt(
    c,
    e,
    6,
    r
  );
  const a = i[l + "Once"];
  if (a) {
    if (!e.emitted)
      e.emitted = {};
    else if (e.emitted[l])
      return;
    e.emitted[l] = !0, Jt(
      a,
      e,
      6,
      r
    );
  }
}
function Qf(e, t, n = !1) {
  const i = t.emitsCache, r = i.get(e);
  if (r !== void 0)
    return r;
  const s = e.emits;
  let o = {};
  return s ? (X(s) ? s.forEach((l) => o[l] = null) : st(o, s), Re(e) && i.set(e, o), o) : (Re(e) && i.set(e, null), null);
}
function Dr(e, t) {
  return !e || !wr(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), he(e, t[0].toLowerCase() + t.slice(1)) || he(e, Tn(t)) || he(e, t));
}
function Qo(e) {
  const {
    type: t,
    vnode: n,
    proxy: i,
    withProxy: r,
    propsOptions: [s],
    slots: o,
    attrs: l,
    emit: c,
    render: a,
    renderCache: u,
    props: h,
    data: w,
    setupState: _,
    ctx: p,
    inheritAttrs: x
  } = e, D = lr(e);
  let I, k;
  try {
    if (n.shapeFlag & 4) {
      const g = r || i, v = g;
      I = xt(
        a.call(
          v,
          g,
          u,
          h,
          _,
          w,
          p
        )
      ), k = l;
    } else {
      const g = t;
      I = xt(
        g.length > 1 ? g(
          h,
          { attrs: l, slots: o, emit: c }
        ) : g(
          h,
          null
        )
      ), k = t.props ? l : eh(l);
    }
  } catch (g) {
    vn.length = 0, Er(g, e, 1), I = Ut(pt);
  }
  let m = I;
  if (k && x !== !1) {
    const g = Object.keys(k), { shapeFlag: v } = m;
    g.length && v & 7 && (s && g.some(kr) && (k = th(
      k,
      s
    )), m = Hn(m, k, !1, !0));
  }
  if (n.dirs && (m = Hn(m, null, !1, !0), m.dirs = m.dirs ? m.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const g = Cr(m.type) && ra(m) || m;
    gi(g, n.transition);
  }
  return I = m, lr(D), I;
}
function la(e, t = !0) {
  let n;
  for (let i = 0; i < e.length; i++) {
    const r = e[i];
    if (fo(r)) {
      if (r.type !== pt || r.children === "v-if") {
        if (n)
          return;
        n = r;
      }
    } else
      return;
  }
  return n;
}
const eh = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || wr(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, th = (e, t) => {
  const n = {};
  for (const i in e)
    (!kr(i) || !(i.slice(9) in t)) && (n[i] = e[i]);
  return n;
};
function nh(e, t, n) {
  const { props: i, children: r, component: s } = e, { props: o, children: l, patchFlag: c } = t, a = s.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return i ? el(i, o, a) : !!o;
    if (c & 8) {
      const u = t.dynamicProps;
      for (let h = 0; h < u.length; h++) {
        const w = u[h];
        if (ca(o, i, w) && !Dr(a, w))
          return !0;
      }
    }
  } else
    return (r || l) && (!l || !l.$stable) ? !0 : i === o ? !1 : i ? o ? el(i, o, a) : !0 : !!o;
  return !1;
}
function el(e, t, n) {
  const i = Object.keys(t);
  if (i.length !== Object.keys(e).length)
    return !0;
  for (let r = 0; r < i.length; r++) {
    const s = i[r];
    if (!he(e, s) || ca(t, e, s) && !Dr(n, s))
      return !0;
  }
  return !1;
}
function ca(e, t, n) {
  const i = e[n], r = t[n];
  return n === "style" && Re(i) && Re(r) ? !en(i, r) : i !== r;
}
function ih({ vnode: e, parent: t, suspense: n }, i) {
  for (; t; ) {
    const r = t.subTree;
    if (r.suspense && r.suspense.activeBranch === e && (r.suspense.vnode.el = r.el = i, e = r), r === e)
      (e = t.vnode).el = i, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = i);
}
const aa = {}, ua = () => Object.create(aa), fa = (e) => Object.getPrototypeOf(e) === aa;
function rh(e, t, n, i = !1) {
  const r = {}, s = ua();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), ha(e, t, r, s);
  for (const o in e.propsOptions[0])
    o in r || (r[o] = void 0);
  n ? e.props = i ? r : /* @__PURE__ */ Ef(r) : e.type.props ? e.props = r : e.props = s, e.attrs = s;
}
function sh(e, t, n, i) {
  const {
    props: r,
    attrs: s,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ ue(r), [c] = e.propsOptions;
  let a = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (i || o > 0) && !(o & 16)
  ) {
    if (o & 8) {
      const u = e.vnode.dynamicProps;
      for (let h = 0; h < u.length; h++) {
        let w = u[h];
        if (Dr(e.emitsOptions, w))
          continue;
        const _ = t[w];
        if (c)
          if (he(s, w))
            _ !== s[w] && (s[w] = _, a = !0);
          else {
            const p = ht(w);
            r[p] = $s(
              c,
              l,
              p,
              _,
              e,
              !1
            );
          }
        else
          _ !== s[w] && (s[w] = _, a = !0);
      }
    }
  } else {
    ha(e, t, r, s) && (a = !0);
    let u;
    for (const h in l)
      (!t || // for camelCase
      !he(t, h) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = Tn(h)) === h || !he(t, u))) && (c ? n && // for camelCase
      (n[h] !== void 0 || // for kebab-case
      n[u] !== void 0) && (r[h] = $s(
        c,
        l,
        h,
        void 0,
        e,
        !0
      )) : delete r[h]);
    if (s !== l)
      for (const h in s)
        (!t || !he(t, h)) && (delete s[h], a = !0);
  }
  a && Bt(e.attrs, "set", "");
}
function ha(e, t, n, i) {
  const [r, s] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let c in t) {
      if (hi(c))
        continue;
      const a = t[c];
      let u;
      r && he(r, u = ht(c)) ? !s || !s.includes(u) ? n[u] = a : (l || (l = {}))[u] = a : Dr(e.emitsOptions, c) || (!(c in i) || a !== i[c]) && (i[c] = a, o = !0);
    }
  if (s) {
    const c = /* @__PURE__ */ ue(n), a = l || xe;
    for (let u = 0; u < s.length; u++) {
      const h = s[u];
      n[h] = $s(
        r,
        c,
        h,
        a[h],
        e,
        !he(a, h)
      );
    }
  }
  return o;
}
function $s(e, t, n, i, r, s) {
  const o = e[n];
  if (o != null) {
    const l = he(o, "default");
    if (l && i === void 0) {
      const c = o.default;
      if (o.type !== Function && !o.skipFactory && me(c)) {
        const { propsDefaults: a } = r;
        if (n in a)
          i = a[n];
        else {
          const u = xa(r);
          i = a[n] = c.call(
            null,
            t
          ), u();
        }
      } else
        i = c;
      r.ce && r.ce._setProp(n, i);
    }
    o[
      0
      /* shouldCast */
    ] && (s && !l ? i = !1 : o[
      1
      /* shouldCastTrue */
    ] && (i === "" || i === Tn(n)) && (i = !0));
  }
  return i;
}
function oh(e, t, n = !1) {
  const i = t.propsCache, r = i.get(e);
  if (r)
    return r;
  const s = e.props, o = {}, l = [];
  if (!s)
    return Re(e) && i.set(e, kn), kn;
  if (X(s))
    for (let a = 0; a < s.length; a++) {
      const u = ht(s[a]);
      tl(u) && (o[u] = xe);
    }
  else if (s)
    for (const a in s) {
      const u = ht(a);
      if (tl(u)) {
        const h = s[a], w = o[u] = X(h) || me(h) ? { type: h } : st({}, h), _ = w.type;
        let p = !1, x = !0;
        if (X(_))
          for (let D = 0; D < _.length; ++D) {
            const I = _[D], k = me(I) && I.name;
            if (k === "Boolean") {
              p = !0;
              break;
            } else k === "String" && (x = !1);
          }
        else
          p = me(_) && _.name === "Boolean";
        w[
          0
          /* shouldCast */
        ] = p, w[
          1
          /* shouldCastTrue */
        ] = x, (p || he(w, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return Re(e) && i.set(e, c), c;
}
function tl(e) {
  return e[0] !== "$" && !hi(e);
}
const ao = (e) => e === "_" || e === "_ctx" || e === "$stable", uo = (e) => X(e) ? e.map(xt) : [xt(e)], lh = (e, t, n) => {
  if (t._n)
    return t;
  const i = jf((...r) => uo(t(...r)), n);
  return i._c = !1, i;
}, da = (e, t, n) => {
  const i = e._ctx;
  for (const r in e) {
    if (ao(r)) continue;
    const s = e[r];
    if (me(s))
      t[r] = lh(r, s, i);
    else if (s != null) {
      const o = uo(s);
      t[r] = () => o;
    }
  }
}, pa = (e, t) => {
  const n = uo(t);
  e.slots.default = () => n;
}, ga = (e, t, n) => {
  for (const i in t)
    (n || !ao(i)) && (e[i] = t[i]);
}, ch = (e, t, n) => {
  const i = e.slots = ua();
  if (e.vnode.shapeFlag & 32) {
    const r = t._;
    r ? (ga(i, t, n), n && Ic(i, "_", r, !0)) : da(t, i);
  } else t && pa(e, t);
}, ah = (e, t, n) => {
  const { vnode: i, slots: r } = e;
  let s = !0, o = xe;
  if (i.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? s = !1 : ga(r, t, n) : (s = !t.$stable, da(t, r)), o = t;
  } else t && (pa(e, t), o = { default: 1 });
  if (s)
    for (const l in r)
      !ao(l) && o[l] == null && delete r[l];
}, He = gh;
function uh(e) {
  return fh(e);
}
function fh(e, t) {
  const n = xr();
  n.__VUE__ = !0;
  const {
    insert: i,
    remove: r,
    patchProp: s,
    createElement: o,
    createText: l,
    createComment: c,
    setText: a,
    setElementText: u,
    parentNode: h,
    nextSibling: w,
    setScopeId: _ = xn,
    insertStaticContent: p
  } = e, x = (d, b, A, N = null, E = null, S = null, O = void 0, L = null, F = !!b.dynamicChildren) => {
    if (d === b)
      return;
    d && !ti(d, b) && (N = de(d), fe(d, E, S, !0), d = null), b.patchFlag === -2 && (F = !1, b.dynamicChildren = null), b.dynamicChildren && d && d.dynamicChildren && d.dynamicChildren.hasOnce && (b.dynamicChildren === kn && (b.dynamicChildren = []), b.dynamicChildren.hasOnce = !0);
    const { type: C, ref: z, shapeFlag: P } = b;
    switch (C) {
      case Sr:
        D(d, b, A, N);
        break;
      case pt:
        I(d, b, A, N);
        break;
      case os:
        d == null && k(b, A, N, O);
        break;
      case Te:
        se(
          d,
          b,
          A,
          N,
          E,
          S,
          O,
          L,
          F
        );
        break;
      default:
        P & 1 ? v(
          d,
          b,
          A,
          N,
          E,
          S,
          O,
          L,
          F
        ) : P & 6 ? Ce(
          d,
          b,
          A,
          N,
          E,
          S,
          O,
          L,
          F
        ) : (P & 64 || P & 128) && C.process(
          d,
          b,
          A,
          N,
          E,
          S,
          O,
          L,
          F,
          ln
        );
    }
    z != null && E ? mi(z, d && d.ref, S, b || d, !b) : z == null && d && d.ref != null && mi(d.ref, null, S, d, !0);
  }, D = (d, b, A, N) => {
    if (d == null)
      i(
        b.el = l(b.children),
        A,
        N
      );
    else {
      const E = b.el = d.el;
      b.children !== d.children && a(E, b.children);
    }
  }, I = (d, b, A, N) => {
    d == null ? i(
      b.el = c(b.children || ""),
      A,
      N
    ) : b.el = d.el;
  }, k = (d, b, A, N) => {
    [d.el, d.anchor] = p(
      d.children,
      b,
      A,
      N,
      d.el,
      d.anchor
    );
  }, m = ({ el: d, anchor: b }, A, N) => {
    let E;
    for (; d && d !== b; )
      E = w(d), i(d, A, N), d = E;
    i(b, A, N);
  }, g = ({ el: d, anchor: b }) => {
    let A;
    for (; d && d !== b; )
      A = w(d), r(d), d = A;
    r(b);
  }, v = (d, b, A, N, E, S, O, L, F) => {
    if (b.type === "svg" ? O = "svg" : b.type === "math" && (O = "mathml"), d == null)
      B(
        b,
        A,
        N,
        E,
        S,
        O,
        L,
        F
      );
    else {
      const C = d.el && d.el._isVueCE ? d.el : null;
      try {
        C && C._beginPatch(), ee(
          d,
          b,
          E,
          S,
          O,
          L,
          F
        );
      } finally {
        C && C._endPatch();
      }
    }
  }, B = (d, b, A, N, E, S, O, L) => {
    let F, C;
    const { props: z, shapeFlag: P, transition: W, dirs: q } = d;
    if (F = d.el = o(
      d.type,
      S,
      z && z.is,
      z
    ), P & 8 ? u(F, d.children) : P & 16 && Q(
      d.children,
      F,
      null,
      N,
      E,
      ss(d, S),
      O,
      L
    ), q && hn(d, null, N, "created"), U(F, d, d.scopeId, O, N), z) {
      for (const le in z)
        le !== "value" && !hi(le) && s(F, le, null, z[le], S, N);
      "value" in z && s(F, "value", null, z.value, S), (C = z.onVnodeBeforeMount) && wt(C, N, d);
    }
    q && hn(d, null, N, "beforeMount");
    const ie = hh(E, W);
    ie ? W.beforeEnter(F) : W && !W.persisted && (F[ph] = !0), i(F, b, A), ((C = z && z.onVnodeMounted) || ie || q) && He(() => {
      C && wt(C, N, d), ie && W.enter(F), q && hn(d, null, N, "mounted");
    }, E);
  }, U = (d, b, A, N, E) => {
    if (A && _(d, A), N)
      for (let S = 0; S < N.length; S++)
        _(d, N[S]);
    if (E) {
      let S = E.subTree;
      if (b === S || ba(S.type) && (S.ssContent === b || S.ssFallback === b)) {
        const O = E.vnode;
        U(
          d,
          O,
          O.scopeId,
          O.slotScopeIds,
          E.parent
        );
      }
    }
  }, Q = (d, b, A, N, E, S, O, L, F = 0) => {
    for (let C = F; C < d.length; C++) {
      const z = d[C] = L ? Pt(d[C]) : xt(d[C]);
      x(
        null,
        z,
        b,
        A,
        N,
        E,
        S,
        O,
        L
      );
    }
  }, ee = (d, b, A, N, E, S, O) => {
    const L = b.el = d.el;
    let { patchFlag: F, dynamicChildren: C, dirs: z } = b;
    F |= d.patchFlag & 16;
    const P = d.props || xe, W = b.props || xe;
    let q;
    if (A && dn(A, !1), (q = W.onVnodeBeforeUpdate) && wt(q, A, b, d), z && hn(b, d, A, "beforeUpdate"), A && dn(A, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    C && (!d.dynamicChildren || d.dynamicChildren.length !== C.length) && (F = 0, O = !1, C = null), (P.innerHTML && W.innerHTML == null || P.textContent && W.textContent == null) && u(L, ""), C ? re(
      d.dynamicChildren,
      C,
      L,
      A,
      N,
      ss(b, E),
      S
    ) : O || K(
      d,
      b,
      L,
      null,
      A,
      N,
      ss(b, E),
      S,
      !1
    ), F > 0) {
      if (F & 16)
        G(L, P, W, A, E);
      else if (F & 2 && P.class !== W.class && s(L, "class", null, W.class, E), F & 4 && s(L, "style", P.style, W.style, E), F & 8) {
        const ie = b.dynamicProps;
        for (let le = 0; le < ie.length; le++) {
          const ce = ie[le], Ae = P[ce], pe = W[ce];
          (pe !== Ae || ce === "value") && s(L, ce, Ae, pe, E, A);
        }
      }
      F & 1 && d.children !== b.children && u(L, b.children);
    } else !O && C == null && G(L, P, W, A, E);
    ((q = W.onVnodeUpdated) || z) && He(() => {
      q && wt(q, A, b, d), z && hn(b, d, A, "updated");
    }, N);
  }, re = (d, b, A, N, E, S, O) => {
    for (let L = 0; L < b.length; L++) {
      const F = d[L], C = b[L], z = F.el || yi(F), P = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        z && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (F.type === Te || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !ti(F, C) || // - In the case of a component, it could contain anything.
        F.shapeFlag & 198) ? h(z) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          A
        )
      );
      x(
        F,
        C,
        P,
        null,
        N,
        E,
        S,
        O,
        !0
      );
    }
  }, G = (d, b, A, N, E) => {
    if (b !== A) {
      if (b !== xe)
        for (const S in b)
          !hi(S) && !(S in A) && s(
            d,
            S,
            b[S],
            null,
            E,
            N
          );
      for (const S in A) {
        if (hi(S)) continue;
        const O = A[S], L = b[S];
        O !== L && S !== "value" && s(d, S, L, O, E, N);
      }
      "value" in A && s(d, "value", b.value, A.value, E);
    }
  }, se = (d, b, A, N, E, S, O, L, F) => {
    const C = b.el = d ? d.el : l(""), z = b.anchor = d ? d.anchor : l("");
    let { patchFlag: P, dynamicChildren: W, slotScopeIds: q } = b;
    q && (L = L ? L.concat(q) : q), d == null ? (i(C, A, N), i(z, A, N), Q(
      // #10007
      // such fragment like `<></>` will be compiled into
      // a fragment which doesn't have a children.
      // In this case fallback to an empty array
      b.children || [],
      A,
      z,
      E,
      S,
      O,
      L,
      F
    )) : P > 0 && P & 64 && W && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    d.dynamicChildren && d.dynamicChildren.length === W.length ? (re(
      d.dynamicChildren,
      W,
      A,
      E,
      S,
      O,
      L
    ), // #2080 if the stable fragment has a key, it's a <template v-for> that may
    //  get moved around. Make sure all root level vnodes inherit el.
    // #2134 or if it's a component root, it may also get moved around
    // as the component is being moved.
    (b.key != null || E && b === E.subTree) && ma(
      d,
      b,
      !0
      /* shallow */
    )) : K(
      d,
      b,
      A,
      z,
      E,
      S,
      O,
      L,
      F
    );
  }, Ce = (d, b, A, N, E, S, O, L, F) => {
    b.slotScopeIds = L, d == null ? b.shapeFlag & 512 ? E.ctx.activate(
      b,
      A,
      N,
      O,
      F
    ) : Ee(
      b,
      A,
      N,
      E,
      S,
      O,
      F
    ) : we(d, b, F);
  }, Ee = (d, b, A, N, E, S, O) => {
    const L = d.component = Ah(
      d,
      N,
      E
    );
    if (sa(d) && (L.ctx.renderer = ln), Rh(L, !1, O), L.asyncDep) {
      if (E && E.registerDep(
        L,
        gt,
        O,
        S
      ), !d.el) {
        const F = L.subTree = Ut(pt);
        I(null, F, b, A), d.placeholder = F.el;
      }
    } else
      gt(
        L,
        d,
        b,
        A,
        E,
        S,
        O
      );
  }, we = (d, b, A) => {
    const N = b.component = d.component;
    if (nh(d, b, A))
      if (N.asyncDep && !N.asyncResolved) {
        b.el = d.el, b.placeholder = d.placeholder, j(N, b, A);
        return;
      } else
        N.next = b, N.update();
    else
      b.el = d.el, b.placeholder = d.placeholder, N.vnode = b;
  }, gt = (d, b, A, N, E, S, O) => {
    const L = () => {
      if (d.isMounted) {
        let { next: P, bu: W, u: q, parent: ie, vnode: le } = d;
        {
          const Le = _a(d);
          if (Le) {
            P && (P.el = le.el, j(d, P, O)), Le.asyncDep.then(() => {
              const Ze = () => {
                d.job.flags & 8 || (E && E.pendingBranch ? He(Ze, E) : C());
              };
              Ze.flags = 48, He(Ze, E);
            });
            return;
          }
        }
        let ce = P, Ae;
        dn(d, !1), P ? (P.el = le.el, j(d, P, O)) : P = le, W && Qi(W), (Ae = P.props && P.props.onVnodeBeforeUpdate) && wt(Ae, ie, P, le), dn(d, !0);
        const pe = Qo(d), Oe = d.subTree;
        d.subTree = pe, x(
          Oe,
          pe,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          h(
            Oe.el || yi(Oe)
          ),
          // anchor may have changed if it's in a fragment
          de(Oe),
          d,
          E,
          S
        ), P.el = pe.el, ce === null && ih(d, pe.el), q && He(q, E), (Ae = P.props && P.props.onVnodeUpdated) && He(
          () => wt(Ae, ie, P, le),
          E
        );
      } else {
        let P;
        const { el: W, props: q } = b, { bm: ie, m: le, parent: ce, root: Ae, type: pe } = d, Oe = _i(b);
        dn(d, !1), ie && Qi(ie), !Oe && (P = q && q.onVnodeBeforeMount) && wt(P, ce, b), dn(d, !0);
        {
          Ae.ce && Ae.ce._hasShadowRoot() && Ae.ce._injectChildStyle(
            pe,
            d.parent ? d.parent.type : void 0
          );
          const Le = d.subTree = Qo(d);
          x(
            null,
            Le,
            A,
            N,
            d,
            E,
            S
          ), b.el = Le.el;
        }
        if (le && He(le, E), !Oe && (P = q && q.onVnodeMounted)) {
          const Le = b;
          He(
            () => wt(P, ce, Le),
            E
          );
        }
        (b.shapeFlag & 256 || ce && _i(ce.vnode) && ce.vnode.shapeFlag & 256) && d.a && He(d.a, E), d.isMounted = !0, b = A = N = null;
      }
    };
    d.scope.on();
    const F = d.effect = new Lc(L);
    d.scope.off();
    const C = d.update = F.run.bind(F), z = d.job = F.runIfDirty.bind(F);
    z.i = d, z.id = d.uid, F.scheduler = () => co(z), dn(d, !0), C();
  }, j = (d, b, A) => {
    b.component = d;
    const N = d.vnode.props;
    d.vnode = b, d.next = null, sh(d, b.props, N, A), ah(d, b.children, A), tn(), ea(d), nn();
  }, K = (d, b, A, N, E, S, O, L, F = !1) => {
    const C = d && d.children, z = d ? d.shapeFlag : 0, P = b.children, { patchFlag: W, shapeFlag: q } = b;
    if (W > 0) {
      if (W & 128) {
        oe(
          C,
          P,
          A,
          N,
          E,
          S,
          O,
          L,
          F
        );
        return;
      } else if (W & 256) {
        Y(
          C,
          P,
          A,
          N,
          E,
          S,
          O,
          L,
          F
        );
        return;
      }
    }
    q & 8 ? (z & 16 && on(C, E, S), P !== C && u(A, P)) : z & 16 ? q & 16 ? oe(
      C,
      P,
      A,
      N,
      E,
      S,
      O,
      L,
      F
    ) : on(C, E, S, !0) : (z & 8 && u(A, ""), q & 16 && Q(
      P,
      A,
      N,
      E,
      S,
      O,
      L,
      F
    ));
  }, Y = (d, b, A, N, E, S, O, L, F) => {
    d = d || kn, b = b || kn;
    const C = d.length, z = b.length, P = Math.min(C, z);
    let W;
    for (W = 0; W < P; W++) {
      const q = b[W] = F ? Pt(b[W]) : xt(b[W]);
      x(
        d[W],
        q,
        A,
        null,
        E,
        S,
        O,
        L,
        F
      );
    }
    C > z ? on(
      d,
      E,
      S,
      !0,
      !1,
      P
    ) : Q(
      b,
      A,
      N,
      E,
      S,
      O,
      L,
      F,
      P
    );
  }, oe = (d, b, A, N, E, S, O, L, F) => {
    let C = 0;
    const z = b.length;
    let P = d.length - 1, W = z - 1;
    for (; C <= P && C <= W; ) {
      const q = d[C], ie = b[C] = F ? Pt(b[C]) : xt(b[C]);
      if (ti(q, ie))
        x(
          q,
          ie,
          A,
          null,
          E,
          S,
          O,
          L,
          F
        );
      else
        break;
      C++;
    }
    for (; C <= P && C <= W; ) {
      const q = d[P], ie = b[W] = F ? Pt(b[W]) : xt(b[W]);
      if (ti(q, ie))
        x(
          q,
          ie,
          A,
          null,
          E,
          S,
          O,
          L,
          F
        );
      else
        break;
      P--, W--;
    }
    if (C > P) {
      if (C <= W) {
        const q = W + 1, ie = q < z ? b[q].el : N;
        for (; C <= W; )
          x(
            null,
            b[C] = F ? Pt(b[C]) : xt(b[C]),
            A,
            ie,
            E,
            S,
            O,
            L,
            F
          ), C++;
      }
    } else if (C > W)
      for (; C <= P; )
        fe(d[C], E, S, !0), C++;
    else {
      const q = C, ie = C, le = /* @__PURE__ */ new Map();
      for (C = ie; C <= W; C++) {
        const Pe = b[C] = F ? Pt(b[C]) : xt(b[C]);
        Pe.key != null && le.set(Pe.key, C);
      }
      let ce, Ae = 0;
      const pe = W - ie + 1;
      let Oe = !1, Le = 0;
      const Ze = new Array(pe);
      for (C = 0; C < pe; C++) Ze[C] = 0;
      for (C = q; C <= P; C++) {
        const Pe = d[C];
        if (Ae >= pe) {
          fe(Pe, E, S, !0);
          continue;
        }
        let Ye;
        if (Pe.key != null)
          Ye = le.get(Pe.key);
        else
          for (ce = ie; ce <= W; ce++)
            if (Ze[ce - ie] === 0 && ti(Pe, b[ce])) {
              Ye = ce;
              break;
            }
        Ye === void 0 ? fe(Pe, E, S, !0) : (Ze[Ye - ie] = C + 1, Ye >= Le ? Le = Ye : Oe = !0, x(
          Pe,
          b[Ye],
          A,
          null,
          E,
          S,
          O,
          L,
          F
        ), Ae++);
      }
      const cn = Oe ? dh(Ze) : kn;
      for (ce = cn.length - 1, C = pe - 1; C >= 0; C--) {
        const Pe = ie + C, Ye = b[Pe], Ft = b[Pe + 1], an = Pe + 1 < z ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Ft.el || yi(Ft)
        ) : N;
        Ze[C] === 0 ? x(
          null,
          Ye,
          A,
          an,
          E,
          S,
          O,
          L,
          F
        ) : Oe && (ce < 0 || C !== cn[ce] ? ke(Ye, A, an, 2) : ce--);
      }
    }
  }, ke = (d, b, A, N, E = null) => {
    const { el: S, type: O, transition: L, children: F, shapeFlag: C } = d;
    if (C & 6) {
      ke(d.component.subTree, b, A, N);
      return;
    }
    if (C & 128) {
      d.suspense.move(b, A, N);
      return;
    }
    if (C & 64) {
      O.move(d, b, A, ln);
      return;
    }
    if (O === Te) {
      i(S, b, A);
      for (let P = 0; P < F.length; P++)
        ke(F[P], b, A, N);
      i(d.anchor, b, A);
      return;
    }
    if (O === os) {
      m(d, b, A);
      return;
    }
    if (N !== 2 && C & 1 && L)
      if (N === 0)
        L.persisted && !S[is] ? i(S, b, A) : (L.beforeEnter(S), i(S, b, A), He(() => L.enter(S), E));
      else {
        const { leave: P, delayLeave: W, afterLeave: q } = L, ie = () => {
          d.ctx.isUnmounted ? r(S) : i(S, b, A);
        }, le = () => {
          const ce = S._isLeaving || !!S[is];
          S._isLeaving && S[is](
            !0
            /* cancelled */
          ), L.persisted && !ce ? ie() : P(S, () => {
            ie(), q && q();
          });
        };
        W ? W(S, ie, le) : le();
      }
    else
      i(S, b, A);
  }, fe = (d, b, A, N = !1, E = !1) => {
    const {
      type: S,
      props: O,
      ref: L,
      children: F,
      dynamicChildren: C,
      shapeFlag: z,
      patchFlag: P,
      dirs: W,
      cacheIndex: q,
      memo: ie
    } = d;
    if ((P === -2 || C && C.hasOnce) && (E = !1), L != null && (tn(), mi(L, null, A, d, !0), nn()), q != null && (!d.ctx || d.ctx === b) && (b.renderCache[q] = void 0), z & 256 && b.ctx.deactivate(d))
      return;
    const le = z & 1 && W, ce = !_i(d);
    let Ae;
    if (ce && (Ae = O && O.onVnodeBeforeUnmount) && wt(Ae, b, d), z & 6)
      Xn(d.component, A, N);
    else {
      if (z & 128) {
        d.suspense.unmount(A, N);
        return;
      }
      le && hn(d, null, b, "beforeUnmount"), z & 64 ? d.type.remove(
        d,
        b,
        A,
        ln,
        N
      ) : C && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !C.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (S !== Te || P > 0 && P & 64) ? on(
        C,
        b,
        A,
        !1,
        !0
      ) : (S === Te && P & 384 || !E && z & 16) && on(F, b, A), N && mt(d);
    }
    const pe = ie != null && q == null;
    (ce && (Ae = O && O.onVnodeUnmounted) || le || pe) && He(() => {
      Ae && wt(Ae, b, d), le && hn(d, null, b, "unmounted"), pe && (d.el = null);
    }, A);
  }, mt = (d) => {
    const { type: b, el: A, anchor: N, transition: E } = d, S = b === Te;
    if (S && !E) {
      _t(A, N);
      return;
    }
    if (b === os) {
      g(d), E && !E.persisted && E.afterLeave && E.afterLeave();
      return;
    }
    const O = S ? js(d) : d, L = () => {
      S ? h(A) && _t(A, N) : r(A), E && !E.persisted && E.afterLeave && E.afterLeave();
    };
    if (O && O.shapeFlag & 1 && E && !E.persisted) {
      const { leave: F, delayLeave: C } = E, z = O.el, P = () => F(z, L);
      C ? C(z, L, P) : P();
    } else
      L();
  }, _t = (d, b) => {
    let A;
    for (; d !== b; )
      A = w(d), r(d), d = A;
    r(b);
  }, Xn = (d, b, A) => {
    const { bum: N, scope: E, job: S, subTree: O, um: L, m: F, a: C } = d;
    nl(F), nl(C), N && Qi(N), E.stop(), S ? (S.flags |= 8, fe(O, d, b, A)) : O && (O.transition = d.vnode.transition, fe(O, d, b, A)), L && He(L, b);
    const z = () => {
      d.isUnmounted = !0;
    };
    z.flags = 16, He(z, b);
  }, on = (d, b, A, N = !1, E = !1, S = 0) => {
    for (let O = S; O < d.length; O++)
      fe(d[O], b, A, N, E);
  }, de = (d) => {
    if (d.shapeFlag & 6)
      return de(d.component.subTree);
    if (d.shapeFlag & 128)
      return d.suspense.next();
    const b = w(d.anchor || d.el), A = b && b[Jf];
    return A ? w(A) : b;
  }, Li = (d, b, A) => {
    const N = d && b._vnode ? void 0 : d && d.component ? d.component.uid : kh();
    Bf(() => {
      d == null ? b._vnode && fe(b._vnode, null, null, !0) : x(
        b._vnode || null,
        d,
        b,
        null,
        null,
        null,
        A
      ), b._vnode = d;
    }, N);
  }, ln = {
    p: x,
    um: fe,
    m: ke,
    r: mt,
    mt: Ee,
    mc: Q,
    pc: K,
    pbc: re,
    n: de,
    o: e
  };
  return {
    render: Li,
    hydrate: void 0,
    createApp: Yf(Li)
  };
}
function ss({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function dn({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function hh(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function ma(e, t, n = !1) {
  const i = e.children, r = t.children;
  if (X(i) && X(r))
    for (let s = 0; s < i.length; s++) {
      const o = i[s];
      let l = r[s];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = r[s] = Pt(r[s]), l.el = o.el), !n && l.patchFlag !== -2 && ma(o, l)), l.type === Sr && (l.patchFlag === -1 && (l = r[s] = Pt(l)), l.el = o.el), l.type === pt && !l.el && (l.el = o.el);
    }
}
function dh(e) {
  const t = e.slice(), n = [0];
  let i, r, s, o, l;
  const c = e.length;
  for (i = 0; i < c; i++) {
    const a = e[i];
    if (a !== 0) {
      if (r = n[n.length - 1], e[r] < a) {
        t[i] = r, n.push(i);
        continue;
      }
      for (s = 0, o = n.length - 1; s < o; )
        l = s + o >> 1, e[n[l]] < a ? s = l + 1 : o = l;
      a < e[n[s]] && (s > 0 && (t[i] = n[s - 1]), n[s] = i);
    }
  }
  for (s = n.length, o = n[s - 1]; s-- > 0; )
    n[s] = o, o = t[o];
  return n;
}
function _a(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : _a(t);
}
function nl(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function yi(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return yi(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? yi(n.activeBranch) : null;
}
const ba = (e) => e.__isSuspense, ph = /* @__PURE__ */ Symbol("_deferredEnter");
function gh(e, t) {
  t && t.pendingBranch ? X(e) ? t.effects.push(...e) : t.effects.push(e) : Pf(e);
}
const Te = /* @__PURE__ */ Symbol.for("v-fgt"), Sr = /* @__PURE__ */ Symbol.for("v-txt"), pt = /* @__PURE__ */ Symbol.for("v-cmt"), os = /* @__PURE__ */ Symbol.for("v-stc"), vn = [];
let tt = null;
function ge(e = !1) {
  vn.push(tt = e ? null : []);
}
function ya() {
  vn.pop(), tt = vn[vn.length - 1] || null;
}
let xi = 1;
function il(e, t = !1) {
  xi += e, e < 0 && tt && t && (tt.hasOnce = !0);
}
function wa(e) {
  return e.dynamicChildren = xi > 0 ? tt || kn : null, ya(), xi > 0 && tt && tt.push(e), e;
}
function _e(e, t, n, i, r, s) {
  return wa(
    ne(
      e,
      t,
      n,
      i,
      r,
      s,
      !0
    )
  );
}
function mh(e, t, n, i, r) {
  return wa(
    Ut(
      e,
      t,
      n,
      i,
      r,
      !0
    )
  );
}
function fo(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function ti(e, t) {
  return e.type === t.type && e.key === t.key;
}
const ka = ({ key: e }) => e ?? null, er = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? Fe(e) || /* @__PURE__ */ Ke(e) || me(e) ? { i: it, r: e, k: t, f: !!n } : e : null);
function ne(e, t = null, n = null, i = 0, r = null, s = e === Te ? 0 : 1, o = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && ka(t),
    ref: t && er(t),
    scopeId: ia,
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
    patchFlag: i,
    dynamicProps: r,
    dynamicChildren: null,
    appContext: null,
    ctx: it
  };
  return l ? (ar(c, n), s & 128 && e.normalize(c)) : n && (c.shapeFlag |= Fe(n) ? 8 : 16), xi > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  tt && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || s & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && tt.push(c), c;
}
const Ut = _h;
function _h(e, t = null, n = null, i = 0, r = null, s = !1) {
  if ((!e || e === Vf) && (e = pt), fo(e)) {
    const l = Hn(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && ar(l, n), xi > 0 && !s && tt && (l.shapeFlag & 6 ? tt[tt.indexOf(e)] = l : tt.push(l)), l.patchFlag = -2, l;
  }
  if (Dh(e) && (e = e.__vccOpts), t) {
    t = bh(t);
    let { class: l, style: c } = t;
    l && !Fe(l) && (t.class = ut(l)), Re(c) && (/* @__PURE__ */ lo(c) && !X(c) && (c = st({}, c)), t.style = Rr(c));
  }
  const o = Fe(e) ? 1 : ba(e) ? 128 : Cr(e) ? 64 : Re(e) ? 4 : me(e) ? 2 : 0;
  return ne(
    e,
    t,
    n,
    i,
    r,
    o,
    s,
    !0
  );
}
function bh(e) {
  return e ? /* @__PURE__ */ lo(e) ? st({}, e) : fa(e) ? st({}, e[Ea] || e) : e : null;
}
function Hn(e, t, n = !1, i = !1) {
  const { props: r, ref: s, patchFlag: o, children: l, transition: c } = e, a = t ? yh(r || {}, t) : r, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: a,
    key: a && ka(a),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && s ? X(s) ? s.concat(er(t)) : [s, er(t)] : er(t)
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
    patchFlag: t && e.type !== Te ? o === -1 ? 16 : o | 16 : o,
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
    ssContent: e.ssContent && Hn(e.ssContent),
    ssFallback: e.ssFallback && Hn(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return c && i && gi(
    u,
    c.clone(u)
  ), u;
}
function We(e = " ", t = 0) {
  return Ut(Sr, null, e, t);
}
function et(e = "", t = !1) {
  return t ? (ge(), mh(pt, null, e)) : Ut(pt, null, e);
}
function xt(e) {
  return e == null || typeof e == "boolean" ? Ut(pt) : X(e) ? Ut(
    Te,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : fo(e) ? Pt(e) : Ut(Sr, null, String(e));
}
function Pt(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : Hn(e);
}
function ar(e, t) {
  let n = 0;
  const { shapeFlag: i } = e;
  if (t == null)
    t = null;
  else if (X(t))
    n = 16;
  else if (typeof t == "object")
    if (i & 65) {
      const r = t.default;
      r && (r._c && (r._d = !1), ar(e, r()), r._c && (r._d = !0));
      return;
    } else {
      n = 32;
      const r = t._;
      !r && !fa(t) ? t._ctx = it : r === 3 && it && (it.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (me(t)) {
    if (i & 65) {
      ar(e, { default: t });
      return;
    }
    t = { default: t, _ctx: it }, n = 32;
  } else
    t = String(t), i & 64 ? (n = 16, t = [We(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function yh(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const i = e[n];
    for (const r in i)
      if (r === "class")
        t.class !== i.class && (t.class = ut([t.class, i.class]));
      else if (r === "style")
        t.style = Rr([t.style, i.style]);
      else if (wr(r)) {
        const s = t[r], o = i[r];
        o && s !== o && !(X(s) && s.includes(o)) ? t[r] = s ? [].concat(s, o) : o : o == null && s == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !kr(r) && (t[r] = o);
      } else r !== "" && (t[r] = i[r]);
  }
  return t;
}
function wt(e, t, n, i = null) {
  Jt(e, t, 7, [
    n,
    i
  ]);
}
const wh = /* @__PURE__ */ oa();
let Aa = 0;
function kh() {
  return Aa;
}
function Ah(e, t, n) {
  const i = e.type, r = (t ? t.appContext : e.appContext) || wh, s = {
    uid: Aa++,
    vnode: e,
    type: i,
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
    scope: new cf(
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
    propsOptions: oh(i, r),
    emitsOptions: Qf(i, r),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: xe,
    // inheritAttrs
    inheritAttrs: i.inheritAttrs,
    // state
    ctx: xe,
    data: xe,
    props: xe,
    attrs: xe,
    slots: xe,
    refs: xe,
    setupState: xe,
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
  return s.ctx = { _: s }, s.root = t ? t.root : s, s.emit = Zf.bind(null, s), e.ce && e.ce(s), s;
}
let Vn = null;
const xh = () => Vn || it;
let ur, Ri;
{
  const e = xr(), t = (n, i) => {
    let r;
    return (r = e[n]) || (r = e[n] = []), r.push(i), (s) => {
      r.length > 1 ? r.forEach((o) => o(s)) : r[0](s);
    };
  };
  ur = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => Vn = n
  ), Ri = t(
    "__VUE_SSR_SETTERS__",
    (n) => fr = n
  );
}
const xa = (e) => {
  const t = Vn;
  return ur(e), e.scope.on(), () => {
    e.scope.off(), ur(t);
  };
}, rl = () => {
  Vn && Vn.scope.off(), ur(null);
};
function Ra(e) {
  return e.vnode.shapeFlag & 4;
}
let fr = !1;
function Rh(e, t = !1, n = !1) {
  t && Ri(t);
  const { props: i, children: r } = e.vnode, s = Ra(e);
  rh(e, i, s, t), ch(e, r, n || t);
  const o = s ? vh(e, t) : void 0;
  return t && Ri(!1), o;
}
function vh(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Gf);
  const { setup: i } = n;
  if (i) {
    tn();
    const r = e.setupContext = i.length > 1 ? Ch(e) : null, s = xa(e), o = Mi(
      i,
      e,
      0,
      [
        e.props,
        r
      ]
    ), l = Dc(o);
    if (nn(), s(), (l || e.sp) && !_i(e) && Hf(e), l) {
      if (o.then(rl, rl), t)
        return o.then((c) => {
          Ri(!0);
          try {
            sl(e, c, t);
          } finally {
            Ri(!1);
          }
        }).catch((c) => {
          Er(c, e, 0, void 0, !0), e.ssrRender = (a, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      sl(e, o);
  } else
    va(e);
}
function sl(e, t, n) {
  me(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : Re(t) && (e.setupState = Xc(t)), va(e);
}
function va(e, t, n) {
  const i = e.type;
  e.render || (e.render = i.render || xn);
}
const Ea = /* @__PURE__ */ Symbol(), Eh = {
  get(e, t) {
    return qe(e, "get", ""), t === Ea ? e : e[t];
  }
};
function Ch(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, Eh),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function Tr(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(Xc(Cf(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in bi)
        return bi[n](e);
    },
    has(t, n) {
      return n in t || n in bi;
    }
  })) : e.proxy;
}
function Dh(e) {
  return me(e) && "__vccOpts" in e;
}
const Vt = (e, t) => /* @__PURE__ */ If(e, t, fr), Sh = "3.5.45";
let Us;
const ol = typeof window < "u" && window.trustedTypes;
if (ol)
  try {
    Us = /* @__PURE__ */ ol.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const Ca = Us ? (e) => Us.createHTML(e) : (e) => e, Th = "http://www.w3.org/2000/svg", Fh = "http://www.w3.org/1998/Math/MathML", Lt = typeof document < "u" ? document : null, ll = Lt && /* @__PURE__ */ Lt.createElement("template"), Ih = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, i) => {
    const r = t === "svg" ? Lt.createElementNS(Th, e) : t === "mathml" ? Lt.createElementNS(Fh, e) : n ? Lt.createElement(e, { is: n }) : Lt.createElement(e);
    return e === "select" && i && i.multiple != null && r.setAttribute("multiple", i.multiple), r;
  },
  createText: (e) => Lt.createTextNode(e),
  createComment: (e) => Lt.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => Lt.querySelector(e),
  setScopeId(e, t) {
    e.setAttribute(t, "");
  },
  // __UNSAFE__
  // Reason: innerHTML.
  // Static content here can only come from compiled templates.
  // As long as the user only uses trusted templates, this is safe.
  insertStaticContent(e, t, n, i, r, s) {
    const o = n ? n.previousSibling : t.lastChild;
    if (r && (r === s || r.nextSibling))
      for (; t.insertBefore(r.cloneNode(!0), n), !(r === s || !(r = r.nextSibling)); )
        ;
    else {
      ll.innerHTML = Ca(
        i === "svg" ? `<svg>${e}</svg>` : i === "mathml" ? `<math>${e}</math>` : e
      );
      const l = ll.content;
      if (i === "svg" || i === "mathml") {
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
}, Oh = /* @__PURE__ */ Symbol("_vtc");
function Mh(e, t, n) {
  const i = e[Oh];
  i && (t = (t ? [t, ...i] : [...i]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const cl = /* @__PURE__ */ Symbol("_vod"), Nh = /* @__PURE__ */ Symbol("_vsh"), Lh = /* @__PURE__ */ Symbol(""), Ph = /(?:^|;)\s*display\s*:/;
function Bh(e, t, n) {
  const i = e.style, r = Fe(n);
  let s = !1;
  if (n && !r) {
    if (t)
      if (Fe(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && ui(i, l, "");
        }
      else
        for (const o in t)
          n[o] == null && ui(i, o, "");
    for (const o in n) {
      o === "display" && (s = !0);
      const l = n[o];
      l != null ? zh(
        e,
        o,
        !Fe(t) && t ? t[o] : void 0,
        l
      ) || ui(i, o, l) : ui(i, o, "");
    }
  } else if (r) {
    if (t !== n) {
      const o = i[Lh];
      o && (n += ";" + o), i.cssText = n, s = Ph.test(n);
    }
  } else t && e.removeAttribute("style");
  cl in e && ((!r || t !== n) && (e[cl] = s ? i.display : ""), e[Nh] && (i.display = "none"));
}
const Hi = /\s*!important$/;
function ui(e, t, n) {
  if (X(n))
    n.forEach((i) => ui(e, t, i));
  else if (n == null && (n = ""), t.startsWith("--"))
    Hi.test(n) ? e.setProperty(t, n.replace(Hi, ""), "important") : e.setProperty(t, n);
  else {
    const i = jh(e, t);
    Hi.test(n) ? e.setProperty(
      Tn(i),
      n.replace(Hi, ""),
      "important"
    ) : e[i] = n;
  }
}
const al = ["Webkit", "Moz", "ms"], ls = {};
function jh(e, t) {
  const n = ls[t];
  if (n)
    return n;
  let i = ht(t);
  if (i !== "filter" && i in e)
    return ls[t] = i;
  i = Fc(i);
  for (let r = 0; r < al.length; r++) {
    const s = al[r] + i;
    if (s in e)
      return ls[t] = s;
  }
  return t;
}
function zh(e, t, n, i) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && Fe(i) && n === i;
}
const ul = "http://www.w3.org/1999/xlink";
function fl(e, t, n, i, r, s = rf(t)) {
  i && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(ul, t.slice(6, t.length)) : e.setAttributeNS(ul, t, n) : n == null || s && !Oc(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    s ? "" : Ct(n) ? String(n) : n
  );
}
function hl(e, t, n, i, r) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? Ca(n) : n);
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
    l === "boolean" ? n = Oc(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  o && e.removeAttribute(r || t);
}
function wn(e, t, n, i) {
  e.addEventListener(t, n, i);
}
function $h(e, t, n, i) {
  e.removeEventListener(t, n, i);
}
const dl = /* @__PURE__ */ Symbol("_vei");
function Uh(e, t, n, i, r = null) {
  const s = e[dl] || (e[dl] = {}), o = s[t];
  if (i && o)
    o.value = i;
  else {
    const [l, c] = qh(t);
    if (i) {
      const a = s[t] = Gh(
        i,
        r
      );
      wn(e, l, a, c);
    } else o && ($h(e, l, o, c), s[t] = void 0);
  }
}
const Wh = /(Once|Passive|Capture)$/, Jh = /^on:?(?:Once|Passive|Capture)$/;
function qh(e) {
  let t, n;
  for (; (n = e.match(Wh)) && !Jh.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : Tn(e.slice(2)), t];
}
let cs = 0;
const Hh = /* @__PURE__ */ Promise.resolve(), Vh = () => cs || (Hh.then(() => cs = 0), cs = Date.now());
function Gh(e, t) {
  const n = (i) => {
    if (!i._vts)
      i._vts = Date.now();
    else if (i._vts <= n.attached)
      return;
    const r = n.value;
    if (X(r)) {
      const s = i.stopImmediatePropagation;
      i.stopImmediatePropagation = () => {
        s.call(i), i._stopped = !0;
      };
      const o = r.slice(), l = [i];
      for (let c = 0; c < o.length && !i._stopped; c++) {
        const a = o[c];
        a && Jt(
          a,
          t,
          5,
          l
        );
      }
    } else
      Jt(
        r,
        t,
        5,
        [i]
      );
  };
  return n.value = e, n.attached = Vh(), n;
}
const pl = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Kh = (e, t, n, i, r, s) => {
  const o = r === "svg";
  t === "class" ? Mh(e, i, o) : t === "style" ? Bh(e, n, i) : wr(t) ? kr(t) || Uh(e, t, n, i, s) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : Yh(e, t, i, o)) ? (hl(e, t, i), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && fl(e, t, i, o, s, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Xh(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !Fe(i))) ? hl(e, ht(t), i, s, t) : (t === "true-value" ? e._trueValue = i : t === "false-value" && (e._falseValue = i), fl(e, t, i, o));
};
function Yh(e, t, n, i) {
  if (i)
    return !!(t === "innerHTML" || t === "textContent" || t in e && pl(t) && me(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const r = e.tagName;
    if (r === "IMG" || r === "VIDEO" || r === "CANVAS" || r === "SOURCE")
      return !1;
  }
  return pl(t) && Fe(n) ? !1 : t in e;
}
function Xh(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const i = ht(t);
  return Array.isArray(n) ? n.some((r) => ht(r) === i) : Object.keys(n).some((r) => ht(r) === i);
}
const hr = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return X(t) ? (n) => Qi(t, n) : t;
};
function Zh(e) {
  e.target.composing = !0;
}
function gl(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const An = /* @__PURE__ */ Symbol("_assign"), Vi = /* @__PURE__ */ Symbol("_initialValue");
function as(e, t, n) {
  return t && (e = e.trim()), n && (e = Oi(e)), e;
}
const ni = {
  created(e, { modifiers: { lazy: t, trim: n, number: i } }, r) {
    e.parentNode && (e.type === "text" ? e[Vi] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[Vi] = e.defaultValue.replace(/\r\n?/g, `
`))), e[An] = hr(r);
    const s = i || r.props && r.props.type === "number";
    wn(e, t ? "change" : "input", (o) => {
      o.target.composing || e[An](as(e.value, n, s));
    }), (n || s) && wn(e, "change", () => {
      e.value = as(e.value, n, s);
    }), t || (wn(e, "compositionstart", Zh), wn(e, "compositionend", gl), wn(e, "change", gl));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: i } }) {
    const r = t ?? "", s = e[Vi];
    delete e[Vi], s !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== s ? e[An](as(e.value, n, i)) : e.value = r;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: i, trim: r, number: s } }, o) {
    if (e[An] = hr(o), e.composing) return;
    const l = (s || e.type === "number") && !/^0\d/.test(e.value) ? Oi(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const a = e.getRootNode();
    (a instanceof Document || a instanceof ShadowRoot) && a.activeElement === e && e.type !== "range" && (i && t === n || r && e.value.trim() === c) || (e.value = c);
  }
}, Qh = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, i) {
    e._modelValue = t, wn(e, "change", () => {
      const r = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? Oi(dr(c)) : dr(c)
      ), s = e.multiple, o = s ? Sn(e._modelValue) ? new Set(r) : r : r[0], l = e._pendingValue = [
        s,
        s ? X(o) ? r.slice() : r : o
      ];
      try {
        e[An](o);
      } finally {
        or(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[An] = hr(i);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    ml(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[An] = hr(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const i = e._pendingValue;
    e._pendingValue = void 0, (!i || i[0] !== e.multiple || !ed(t, i[1], i[0])) && ml(e, t, n);
  }
};
function ed(e, t, n) {
  if (!n || X(e)) return en(e, t);
  if (Sn(e)) {
    if (e.size !== t.length) return !1;
    for (const i of t)
      if (!e.has(i)) return !1;
    return !0;
  }
  return !1;
}
function ml(e, t, n = !1) {
  const i = e.multiple, r = X(t);
  if (!(i && !r && !Sn(t))) {
    for (let s = 0, o = e.options.length; s < o; s++) {
      const l = e.options[s], c = dr(l);
      if (i)
        if (r) {
          const a = typeof c;
          a === "string" || a === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = lf(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(Oi(c));
      else if (en(dr(l), t)) {
        e.selectedIndex !== s && (e.selectedIndex = s);
        return;
      }
    }
    !i && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function dr(e) {
  return "_value" in e ? e._value : e.value;
}
const td = ["ctrl", "shift", "alt", "meta"], nd = {
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
  exact: (e, t) => td.some((n) => e[`${n}Key`] && !t.includes(n))
}, _l = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), i = t.join(".");
  return n[i] || (n[i] = ((r, ...s) => {
    for (let o = 0; o < t.length; o++) {
      const l = nd[t[o]];
      if (l && l(r, t)) return;
    }
    return e(r, ...s);
  }));
}, id = /* @__PURE__ */ st({ patchProp: Kh }, Ih);
let bl;
function rd() {
  return bl || (bl = uh(id));
}
const sd = ((...e) => {
  const t = rd().createApp(...e), { mount: n } = t;
  return t.mount = (i) => {
    const r = ld(i);
    if (!r) return;
    const s = t._component;
    !me(s) && !s.render && !s.template && (s.template = r.innerHTML), r.nodeType === 1 && (r.textContent = "");
    const o = n(r, !1, od(r));
    return r instanceof Element && (r.removeAttribute("v-cloak"), r.setAttribute("data-v-app", "")), o;
  }, t;
});
function od(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function ld(e) {
  return Fe(e) ? document.querySelector(e) : e;
}
const cd = "/comfyd/connection";
function ad(e, t) {
  if (!e || typeof e != "object") throw new Error("no connection info");
  if (e.status && e.status !== "ready") throw new Error(e.error || `comfyd is ${e.status}`);
  const n = e.token;
  if (typeof n != "string" || !/^[\x21-\x7e]{1,512}$/.test(n)) throw new Error("no bridge token");
  let i;
  try {
    i = new URL(String(e.bridge_url));
  } catch {
    throw new Error("bad bridge_url");
  }
  if (i.protocol !== "http:" && i.protocol !== "https:") throw new Error("bad bridge_url scheme");
  const r = /* @__PURE__ */ new Set(["127.0.0.1", "localhost", "[::1]"]);
  return t && r.has(i.hostname) && r.has(t.hostname) && (i.hostname = t.hostname), { wsBase: `${i.protocol === "https:" ? "wss:" : "ws:"}//${i.host}`, token: n, bridgeUrl: i.origin };
}
const ud = "comfyd", fd = "comfyd.token.", hd = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function Da(e) {
  return hd.test(e.token);
}
function Sa(e, t) {
  return Da(e) ? `${e.wsBase}${t}` : `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
function Ta(e) {
  return Da(e) ? [ud, fd + e.token] : [];
}
class dd {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(cd).then(
      (t) => ad(t, this.location),
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
function Ws(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const En = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function Wt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (En(e).find((i) => String(i.id) === String(t)) ?? null);
}
function pd(e, t) {
  if (t == null) return null;
  const n = e.links ?? e._links;
  return n ? typeof n.get == "function" ? n.get(t) ?? null : n[t] ?? null : null;
}
function yl(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((i) => i?.name === t);
}
function gd(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((i) => i?.name === t);
}
function md(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function _d(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function bd(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function zt(e) {
  if (!e || typeof e != "object") return "";
  const { extra: t, nodes: n, ...i } = e;
  let r = t;
  if (r && typeof r == "object" && "ds" in r) {
    const { ds: o, ...l } = r;
    r = l;
  }
  const s = Array.isArray(n) ? n.map((o) => {
    if (!o || typeof o != "object") return o;
    const { order: l, ...c } = o;
    return c;
  }) : n;
  return JSON.stringify({ ...i, nodes: s, extra: r ?? null });
}
function $n(e, t, n = 3) {
  const i = String(e).toLowerCase(), r = [];
  for (const s of t) {
    const o = String(s).toLowerCase();
    let l = yd(i, o);
    (o.includes(i) || i.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(i.length / 3)) && r.push([l, s]);
  }
  return r.sort((s, o) => s[0] - o[0] || String(s[1]).localeCompare(String(o[1]))), r.slice(0, n).map((s) => s[1]);
}
const wl = 128;
function yd(e, t) {
  if (e.length > wl || t.length > wl) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (i, r) => r);
  for (let i = 1; i <= e.length; i++) {
    const r = [i];
    for (let s = 1; s <= t.length; s++)
      r[s] = Math.min(n[s] + 1, r[s - 1] + 1, n[s - 1] + (e[i - 1] === t[s - 1] ? 0 : 1));
    n = r;
  }
  return n[t.length];
}
const qt = Object.freeze({
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
}), pr = (e, t) => e < t ? -1 : e > t ? 1 : 0;
function Fa(e, t, n = {}) {
  const i = n.x ?? 0, r = n.y ?? 0, s = n.spacing ?? qt.spacing, o = e.length, l = /* @__PURE__ */ new Map();
  e.forEach((j, K) => l.set(j.id, K));
  const c = Array.from({ length: o }, () => []), a = Array.from({ length: o }, () => []), u = /* @__PURE__ */ new Set();
  for (const [j, K] of t) {
    const Y = l.get(j), oe = l.get(K);
    if (Y === void 0 || oe === void 0 || Y === oe) continue;
    const ke = Y * o + oe;
    u.has(ke) || (u.add(ke), c[Y].push(oe), a[oe].push(Y));
  }
  const h = new Uint8Array(o), w = /* @__PURE__ */ new Set();
  for (let j = 0; j < o; j++) {
    if (h[j]) continue;
    const K = [[j, 0]];
    for (h[j] = 1; K.length; ) {
      const Y = K[K.length - 1], [oe, ke] = Y;
      if (ke < c[oe].length) {
        Y[1]++;
        const fe = c[oe][ke];
        h[fe] === 1 ? w.add(oe * o + fe) : h[fe] === 0 && (h[fe] = 1, K.push([fe, 0]));
      } else
        h[oe] = 2, K.pop();
    }
  }
  const _ = (j, K) => !w.has(j * o + K), p = a.map((j, K) => j.filter((Y) => _(Y, K))), x = c.map((j, K) => j.filter((Y) => _(K, Y))), D = p.map((j) => j.length), I = [], k = [];
  for (let j = 0; j < o; j++) D[j] || k.push(j);
  for (let j = 0; j < k.length; j++) {
    const K = k[j];
    I.push(K);
    for (const Y of x[K]) --D[Y] === 0 && k.push(Y);
  }
  const m = new Int32Array(o);
  for (const j of I) for (const K of x[j]) m[K] = Math.max(m[K], m[j] + 1);
  for (const j of I) {
    if (p[j].length || !x[j].length) continue;
    let K = 1 / 0;
    for (const Y of x[j]) K = Math.min(K, m[Y]);
    m[j] = Math.max(0, K - 1);
  }
  let g = 0;
  for (let j = 0; j < o; j++) g = Math.max(g, m[j] + 1);
  const v = Array.from({ length: g }, () => []);
  for (let j = 0; j < o; j++) v[m[j]].push(j);
  const B = new Float64Array(o), U = () => {
    for (const j of v) j.forEach((K, Y) => B[K] = j.length > 1 ? Y / (j.length - 1) : 0.5);
  };
  U();
  const Q = (j, K) => {
    const Y = j.map((oe, ke) => {
      const fe = K[oe];
      let mt = B[oe];
      if (fe.length) {
        let _t = 0;
        for (const Xn of fe) _t += B[Xn];
        mt = _t / fe.length;
      }
      return [mt, ke, oe];
    });
    return Y.sort((oe, ke) => pr(oe[0], ke[0]) || oe[1] - ke[1]), Y.map((oe) => oe[2]);
  };
  let ee = v.map((j) => j.slice()), re = kl(v, x, m, o);
  for (let j = 0; j < qt.sweeps && re > 0; j++) {
    for (let Y = 1; Y < g; Y++)
      v[Y] = Q(v[Y], p), U();
    for (let Y = g - 2; Y >= 0; Y--)
      v[Y] = Q(v[Y], x), U();
    const K = kl(v, x, m, o);
    K < re && (re = K, ee = v.map((Y) => Y.slice()));
  }
  const G = new Float64Array(o), se = new Float64Array(o);
  let Ce = i, Ee = r;
  for (let j = 0; j < g; j++) {
    let K = 0, Y = r;
    for (const oe of ee[j]) {
      const ke = e[oe];
      let fe = Y;
      if (p[oe].length) {
        let mt = 0;
        for (const _t of p[oe]) mt += se[_t] + e[_t].h / 2;
        fe = Math.max(Y, mt / p[oe].length - ke.h / 2);
      }
      G[oe] = Ce, se[oe] = fe, Y = fe + ke.h + s, K = Math.max(K, ke.w), Ee = Math.max(Ee, fe + ke.h);
    }
    Ce += K + s;
  }
  const we = /* @__PURE__ */ new Map(), gt = /* @__PURE__ */ new Map();
  for (let j = 0; j < o; j++)
    we.set(e[j].id, [G[j], se[j]]), gt.set(e[j].id, m[j]);
  return { pos: we, layer: gt, width: g ? Ce - s - i : 0, height: Ee - r };
}
function kl(e, t, n, i) {
  const r = new Float64Array(i);
  for (const l of e) l.forEach((c, a) => r[c] = a);
  const s = /* @__PURE__ */ new Map();
  for (let l = 0; l < i; l++)
    for (const c of t[l]) {
      const a = n[l] * 65536 + n[c];
      let u = s.get(a);
      u || s.set(a, u = []), u.push([r[l], r[c]]);
    }
  let o = 0;
  for (const l of s.values())
    l.sort((c, a) => c[0] - a[0] || c[1] - a[1]), o += Js(l.map((c) => c[1]));
  return o;
}
function Js(e) {
  if (e.length < 2) return 0;
  const t = e.length >> 1, n = e.slice(0, t), i = e.slice(t);
  let r = Js(n) + Js(i), s = 0, o = 0, l = 0;
  for (; s < n.length && o < i.length; )
    n[s] <= i[o] ? e[l++] = n[s++] : (e[l++] = i[o++], r += n.length - s);
  for (; s < n.length; ) e[l++] = n[s++];
  for (; o < i.length; ) e[l++] = i[o++];
  return r;
}
function wd(e, t, n = 0) {
  return e.x < t.x + t.w + n && t.x < e.x + e.w + n && e.y < t.y + t.h + n && t.y < e.y + e.h + n;
}
function Ia(e, t, n = qt.spacing) {
  const i = n / 2, r = t.filter((o) => e.x < o.x + o.w + i && o.x < e.x + e.w + i);
  r.sort((o, l) => o.y - l.y || o.x - l.x);
  let s = e.y;
  for (const o of r) s < o.y + o.h + i && o.y < s + e.h + i && (s = o.y + o.h + n);
  return s;
}
function ho(e) {
  const t = e?.NODE_TITLE_HEIGHT;
  return typeof t == "number" && Number.isFinite(t) && t >= 0 ? t : qt.titleHeight;
}
function gr(e, t) {
  const n = ho(t), i = Number(e.size?.[0]), r = Number(e.size?.[1]), s = !!e.flags?.collapsed;
  return {
    id: e.id,
    x: Number(e.pos?.[0]) || 0,
    y: (Number(e.pos?.[1]) || 0) - n,
    w: Number.isFinite(i) && i > 0 ? i : 200,
    h: s ? n : (Number.isFinite(r) && r > 0 ? r : 100) + n
  };
}
function Oa(e) {
  const t = [];
  for (const n of En(e))
    for (const i of n.inputs ?? []) {
      if (i?.link === null || i?.link === void 0) continue;
      const r = pd(e, i.link);
      if (!r) continue;
      const s = r.origin_id ?? r[1];
      s != null && t.push([r.id ?? r[0], s, n.id]);
    }
  return t.sort((n, i) => pr(Number(n[0]), Number(i[0]))), t.map(([, n, i]) => [n, i]);
}
const kd = (e, t) => pr(Number(e.id), Number(t.id)) || pr(String(e.id), String(t.id));
function Ma(e, t, n, i) {
  const r = [Math.round(t), Math.round(n + i)];
  e.pos && typeof e.pos.length == "number" && e.pos.length >= 2 ? (e.pos[0] = r[0], e.pos[1] = r[1]) : e.pos = r;
}
function Ad(e, t, n = {}) {
  const i = n.LiteGraph, r = ho(i), s = n.spacing ?? qt.spacing, o = n.exclude ?? (() => !1);
  let l;
  if (t && t.length) {
    const m = new Set(t.map(String));
    l = En(e).filter((g) => m.has(String(g.id)));
  } else l = En(e).filter((m) => !o(m));
  if (!l.length) return [];
  const c = new Set(l.map((m) => String(m.id))), a = l.map((m) => gr(m, i));
  a.sort((m, g) => m.y - g.y || m.x - g.x || kd(m, g));
  const u = n.x ?? Math.min(...a.map((m) => m.x)), h = n.y ?? Math.min(...a.map((m) => m.y)), w = Oa(e).filter(([m, g]) => c.has(String(m)) && c.has(String(g))), { pos: _, layer: p } = Fa(a, w, { x: u, y: h, spacing: s }), x = new Set([...n.ignore ?? []].map(String)), D = En(e).filter((m) => !c.has(String(m.id)) && !x.has(String(m.id))).map((m) => gr(m, i)), I = a.slice().sort((m, g) => p.get(m.id) - p.get(g.id) || _.get(m.id)[1] - _.get(g.id)[1]), k = [];
  for (const m of I) {
    const [g, v] = _.get(m.id), B = { ...m, x: g, y: v };
    D.length && (B.y = Ia(B, D.concat(k), s)), k.push(B), Ma(Wt(e, m.id), B.x, B.y, r);
  }
  return I.map((m) => m.id);
}
function xd(e, t, n = {}) {
  const i = n.LiteGraph, r = ho(i), s = n.spacing ?? qt.spacing, o = new Set(t.map(String)), l = t.map((k) => Wt(e, k)).filter(Boolean);
  if (!l.length) return [];
  const c = l.map((k) => gr(k, i)), a = En(e).filter((k) => !o.has(String(k.id))).map((k) => gr(k, i)), u = new Map(a.map((k) => [String(k.id), k])), h = Oa(e), w = h.filter(([k, m]) => o.has(String(k)) && o.has(String(m))), _ = Fa(c, w, { x: 0, y: 0, spacing: s });
  let p = -1 / 0, x = 1 / 0;
  for (const [k, m] of h) {
    const g = u.get(String(k));
    !g || !o.has(String(m)) || (p = Math.max(p, g.x + g.w + s - _.pos.get(m)[0]), x = Math.min(x, g.y));
  }
  if (p === -1 / 0) {
    const k = Rd(a), m = Array.isArray(n.view) && n.view.length === 4 && n.view.every(Number.isFinite) ? n.view : null;
    let g = null;
    if (m) {
      g = [m[0] + Math.max(s, (m[2] - _.width) / 2), m[1] + Math.max(s, (m[3] - _.height) / 2)];
      const v = { x: g[0], y: g[1], w: _.width, h: _.height };
      a.some((B) => wd(v, B, s / 2)) && (g = null);
    }
    g || (g = k ? [k.x + k.w + s, k.y] : m ? [m[0] + m[2] / 4, m[1] + m[3] / 4] : qt.origin), [p, x] = g;
  }
  const D = c.slice().sort((k, m) => _.layer.get(k.id) - _.layer.get(m.id) || _.pos.get(k.id)[1] - _.pos.get(m.id)[1]), I = a.slice();
  for (const k of D) {
    const [m, g] = _.pos.get(k.id), v = { ...k, x: p + m, y: x + g };
    v.y = Ia(v, I, s), I.push(v), Ma(Wt(e, k.id), v.x, v.y, r);
  }
  return D.map((k) => k.id);
}
function Rd(e) {
  if (!e.length) return null;
  let t = 1 / 0, n = 1 / 0, i = -1 / 0, r = -1 / 0;
  for (const s of e)
    t = Math.min(t, s.x), n = Math.min(n, s.y), i = Math.max(i, s.x + s.w), r = Math.max(r, s.y + s.h);
  return { x: t, y: n, w: i - t, h: r - n };
}
const Ge = Object.freeze({
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
class qs extends Error {
  constructor(t, n, i = []) {
    super(n), this.code = t, this.suggestions = i;
  }
}
const Z = (e, t, n) => {
  throw new qs(e, t, n);
}, Gn = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function ii(e, t, n = Ge.name, { optional: i = !1 } = {}) {
  if (e == null) {
    if (i) return "";
    Z("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && Z("INVALID_COMMAND", `${t} must be a string`), e.length > n && Z("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function pn(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > Ge.coord) && Z("INVALID_COMMAND", `${t} must be a number within ±${Ge.coord}`), e);
}
function gn(e, t) {
  return Gn(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= Ge.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : Z("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function us(e, t) {
  if (e == null) return 0;
  if (Gn(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= Ge.name ? e : Z("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function Al(e, t) {
  if (Gn(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((i) => i in e);
    n.length !== 1 && Z("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || Z("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > Ge.text && Z("VALUE_INVALID", `${t} is longer than ${Ge.text} characters`), e) : Z("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const tr = {
  create_node(e) {
    const t = {
      node_type: ii(e.node_type, "node_type"),
      x: pn(e.x, "x", { optional: !0 }),
      y: pn(e.y, "y", { optional: !0 }),
      ref: ii(e.ref, "ref", Ge.ref, { optional: !0 }),
      title: ii(e.title, "title", Ge.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || Z("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      Gn(e.widgets) || Z("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > Ge.widgets && Z("INVALID_COMMAND", `more than ${Ge.widgets} widgets`);
      for (const i of n) t.widgets.push([ii(i, "widget name"), Al(e.widgets[i], `widgets.${i}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: gn(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: gn(e.from_id, "from_id"),
    from_slot: us(e.from_slot, "from_slot"),
    to_id: gn(e.to_id, "to_id"),
    to_slot: us(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: gn(e.node_id, "node_id"), slot: us(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: gn(e.node_id, "node_id"),
    name: ii(e.name, "name"),
    value: Al(e.value, "value")
  }),
  move_node: (e) => ({ node_id: gn(e.node_id, "node_id"), x: pn(e.x, "x"), y: pn(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(e) {
    const t = e.node_ids ?? [];
    Array.isArray(t) || Z("INVALID_COMMAND", "node_ids must be an array of node ids or refs"), t.length > Ge.nodes && Z("INVALID_COMMAND", `node_ids: more than ${Ge.nodes}`);
    const n = pn(e.spacing, "spacing", { optional: !0 });
    return n !== null && (n < 0 || n > qt.maxSpacing) && Z("INVALID_COMMAND", `spacing must be between 0 and ${qt.maxSpacing}`), {
      node_ids: t.map((i, r) => gn(i, `node_ids[${r}]`)),
      x: pn(e.x, "x", { optional: !0 }),
      y: pn(e.y, "y", { optional: !0 }),
      spacing: n
    };
  }
}, Na = Object.freeze(Object.keys(tr)), vd = new Set(Na.filter((e) => e !== "get_graph"));
function Ed(e) {
  Gn(e) || Z("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const i = Object.keys(e).filter((r) => Object.hasOwn(tr, r));
    i.length !== 1 && Z("INVALID_COMMAND", "missing field: type"), t = i[0], n = Gn(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(tr, t)) && Z("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${Na.join(", ")}`), { type: t, ...tr[t](n) };
}
const Cd = /* @__PURE__ */ new Set(["number", "slider", "knob"]), Dd = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function Sd(e, t, n) {
  const i = String(e.type ?? ""), r = e.options ?? {};
  if (i === "combo") {
    const s = bd(e, t);
    return s && !s.some((o) => o === n) && Z("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${s.length} options of ${e.name}`, $n(n, s.filter((o) => typeof o == "string"))), n;
  }
  return Cd.has(i) ? (typeof n != "number" && Z("VALUE_INVALID", `${e.name} takes a number`), r.precision === 0 && !Number.isInteger(n) && Z("VALUE_INVALID", `${e.name} takes an integer`), typeof r.min == "number" && n < r.min && Z("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${r.min}`), typeof r.max == "number" && n > r.max && Z("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${r.max}`), n) : i === "toggle" || i === "boolean" ? (typeof n != "boolean" && Z("VALUE_INVALID", `${e.name} takes true or false`), n) : Dd.has(i) ? (typeof n != "string" && Z("VALUE_INVALID", `${e.name} takes a string`), n) : (i === "button" && Z("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function Td(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function xl(e, t, n, i) {
  const r = md(t, n);
  r || Z("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, $n(n, _d(t)));
  const s = Sd(r, t, i), o = r.value;
  r.value = s;
  try {
    r.callback?.call(r, r.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(r.name, r.value, o, r);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return Td(r);
}
function mn(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return Wt(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const i = Wt(e.graph, t.id);
    if (i) return i;
    Z("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return Z("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function Fd(e) {
  const t = typeof e.view == "function" ? e.view() : null;
  return Array.isArray(t) && t.length === 4 && t.every(Number.isFinite) ? t : null;
}
function Id(e) {
  const t = [...e.pending].filter((n) => Wt(e.graph, n));
  e.pending.clear(), t.length && xd(e.graph, t, { LiteGraph: e.LiteGraph, view: Fd(e) });
}
const Od = {
  create_node(e, t) {
    const { graph: n, LiteGraph: i } = e, r = i.createNode(t.node_type);
    if (!r) {
      const l = Object.keys(i.registered_node_types ?? {});
      Z("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, $n(t.node_type, l));
    }
    t.title && (r.title = t.title);
    const s = t.x === null || t.y === null;
    r.pos = s ? [0, 0] : [t.x, t.y];
    const o = e.expectedId;
    Number.isSafeInteger(o) && o > 0 && !Wt(n, o) && (r.id = o), n.add(r), Wt(n, r.id) || Z("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [l, c] of t.widgets) xl(e, r, l, c);
    } catch (l) {
      throw n.remove(r), l;
    }
    return t.ref && e.refs.set(t.ref, r.id), s && e.pending.add(r.id), { node_id: r.id };
  },
  remove_node(e, t) {
    const n = mn(e, t.node_id, "node_id"), i = n.id;
    return e.graph.remove(n), Wt(e.graph, i) && Z("EDITOR_FAILED", `node #${i} cannot be removed`), { node_id: i };
  },
  connect(e, t) {
    const n = mn(e, t.from_id, "from_id"), i = mn(e, t.to_id, "to_id"), r = gd(n, t.from_slot);
    r < 0 && Z(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? $n(t.from_slot, (n.outputs ?? []).map((a) => a.name)) : []
    );
    const s = yl(i, t.to_slot);
    s < 0 && Z(
      "SLOT_NOT_FOUND",
      `node #${i.id} (${i.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? $n(t.to_slot, (i.inputs ?? []).map((a) => a.name)) : []
    ), n === i && Z("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const o = n.outputs[r].type, l = i.inputs[s].type;
    e.LiteGraph.isValidConnection(o, l) || Z("TYPE_MISMATCH", `output ${r} of #${n.id} is ${o}, input ${JSON.stringify(i.inputs[s].name)} of #${i.id} takes ${l}`);
    const c = n.connect(r, i, s);
    return c || Z("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${r} -> #${i.id}:${s}`), { node_id: i.id, link_id: c.id };
  },
  disconnect(e, t) {
    const n = mn(e, t.node_id, "node_id"), i = yl(n, t.slot);
    i < 0 && Z(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? $n(t.slot, (n.inputs ?? []).map((s) => s.name)) : []
    );
    const r = n.inputs[i].link;
    return r == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(i), n.inputs[i].link !== null && n.inputs[i].link !== void 0 && Z("EDITOR_FAILED", `input ${i} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: r });
  },
  set_widget(e, t) {
    const n = mn(e, t.node_id, "node_id"), i = xl(e, n, t.name, t.value);
    return i === void 0 ? { node_id: n.id } : { node_id: n.id, value: i };
  },
  move_node(e, t) {
    const n = mn(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], e.pending.delete(n.id), { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of En(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  },
  arrange(e, t) {
    const n = t.node_ids.map((r, s) => mn(e, r, `node_ids[${s}]`).id), i = Ad(e.graph, n, {
      LiteGraph: e.LiteGraph,
      x: t.x ?? void 0,
      y: t.y ?? void 0,
      spacing: t.spacing ?? void 0,
      exclude: e.keepOnClear,
      ignore: e.pending
    });
    for (const r of i) e.pending.delete(r);
    return {};
  }
}, Md = "BATCH_MODE_PARTIAL";
function Nd(e) {
  return e === Md || e === 2 || String(e).toLowerCase() === "partial";
}
function Rl(e, t) {
  const n = t instanceof qs ? t.code : "EDITOR_FAILED", i = t instanceof qs ? t.message : `command failed: ${t?.message ?? String(t)}`, r = { code: n, message: i.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (r.suggestions = t.suggestions), { index: e, ok: !1, error: r };
}
function Ld(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > Ge.commands)
    return { ok: !1, error: `more than ${Ge.commands} commands`, results: [], applied: !1 };
  const i = e.graph, r = Nd(t?.mode), s = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), pending: /* @__PURE__ */ new Set(), expectedId: void 0 }, l = i.serialize(), c = zt(l), a = new Array(n.length);
  let u = 0, h = -1;
  for (let p = 0; p < n.length; p++) {
    let x;
    try {
      x = Ed(n[p]);
    } catch (I) {
      if (a[p] = Rl(p, I), !r) {
        h = p;
        break;
      }
      continue;
    }
    o.expectedId = x.type === "create_node" ? s[u++] : void 0;
    const D = r && vd.has(x.type) && p > 0 ? i.serialize() : null;
    try {
      a[p] = { index: p, ok: !0, ...Od[x.type](o, x) };
    } catch (I) {
      if (a[p] = Rl(p, I), !r) {
        h = p;
        break;
      }
      const k = D ?? l;
      zt(i.serialize()) !== zt(k) && vl(i, k);
    }
  }
  if (h >= 0) {
    zt(i.serialize()) !== c && vl(i, l);
    const p = `not applied: command ${h} failed and the patch is atomic (the graph was rolled back)`;
    for (let x = 0; x < n.length; x++)
      x !== h && (a[x] = { index: x, ok: !1, error: { code: "SKIPPED", message: p, index: x } });
    return i.setDirtyCanvas?.(!0, !0), { ok: !1, error: a[h].error.message, results: a, applied: !1 };
  }
  Id(o), i.setDirtyCanvas?.(!0, !0);
  const w = a.every((p) => p.ok), _ = a.find((p) => !p.ok);
  return {
    ok: w,
    error: w ? "" : _.error.message,
    results: a,
    applied: zt(i.serialize()) !== c
  };
}
function vl(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
function Pd(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function Bd(e, t) {
  const n = Pd(e);
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
const jd = 1e3, zd = 1500, $d = 120, Ud = 480 * 1024, fs = "the tab has switched to another workflow; this canvas is no longer open in it", Wd = 200, Jd = 50, qd = 1e4, Hd = 1e3, Vd = 128, hs = 1024 * 1024 - 1024;
function Gd(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function ds(e, t) {
  const n = String(t || "workflow"), i = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${i}~${Gd(n)}`.slice(0, Vd);
}
function Kd(e, t = Ud) {
  if (!e || typeof e != "object") return "";
  const n = /* @__PURE__ */ new Set(["tooltip", "description", "output_tooltips", "search_aliases", "python_module"]), i = (s) => {
    if (Array.isArray(s)) return s.map(i);
    if (s && typeof s == "object") {
      const o = {};
      for (const l of Object.keys(s)) n.has(l) || (o[l] = i(s[l]));
      return o;
    }
    return s;
  }, r = JSON.stringify(i(e));
  return new TextEncoder().encode(r).length <= t ? r : "";
}
function Yd(e, t = () => Math.random().toString(36).slice(2, 10)) {
  const n = "comfyd.tabId";
  let i = null;
  try {
    i = e?.getItem(n);
  } catch {
    i = null;
  }
  if (!i || !/^[a-z0-9]{4,16}$/.test(i)) {
    i = t();
    try {
      e?.setItem(n, i);
    } catch {
    }
  }
  return i;
}
class Xd {
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), zd), this.connect());
  }
  stop() {
    this.stopped = !0, this.t.clearInterval(this.pollTimer), this.t.clearTimeout(this.reconnectTimer), this.t.clearTimeout(this.debounceTimer), this.closeSocket(1e3, "tab closed");
  }
  setStatus(t) {
    this.status = t, this.onStatus?.(t);
  }
  closeSocket(t, n) {
    const i = this.socket;
    if (this.socket = null, this.attached = !1, i) {
      i.onopen = i.onmessage = i.onclose = i.onerror = null;
      try {
        i.close(t, n);
      } catch {
      }
    }
  }
  scheduleReconnect() {
    if (this.stopped || this.reconnectTimer) return;
    const t = Ws(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Jd : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, Wd);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = Kd(await this.d.objectInfo?.());
      } catch (i) {
        this.log("warn", `comfyd: cannot read /object_info (${i?.message ?? i})`);
      }
    try {
      t = await this.d.connection.get();
    } catch (i) {
      this.log("warn", `comfyd: no connection info yet (${i?.message ?? i})`), this.d.connection.invalidate?.(), this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    let n;
    try {
      n = new this.d.WebSocket(Sa(t, "/comfy/editor/ws"), Ta(t));
    } catch (i) {
      this.log("warn", `comfyd: cannot open the editor socket (${i?.message ?? i})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (i) => this.onMessage(i.data), n.onerror = () => {
    }, n.onclose = (i) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (i?.code === jd) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (i?.code === 1008 || i?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = ds(this.d.tabId, this.workflowKey()), this.lastSig = zt(t), this.tabRevision += 1;
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
    const i = JSON.stringify(t);
    return i.length > hs && new TextEncoder().encode(i).length > hs ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(i), !0);
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
    return ds(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: fs, results: [], workflow_json: "", tab_revision: this.tabRevision });
    const n = {
      graph: this.graph(),
      LiteGraph: this.d.LiteGraph,
      canvas: this.d.app.canvas,
      keepOnClear: this.d.isPanelNode,
      view: () => this.view(),
      log: this.log
    };
    let i;
    this.busy++;
    try {
      i = Bd(this.d.app, () => Ld(n, t));
    } catch (s) {
      i = { ok: !1, error: `the patch failed: ${s?.message ?? s}`, results: [] };
    } finally {
      this.busy--;
    }
    const r = this.serialize();
    this.lastSig = zt(r), this.tabRevision += 1, this.send({
      type: "patch_result",
      request_id: t.request_id,
      ok: !!i.ok,
      error: i.error ?? "",
      results: (i.results ?? []).filter(Boolean).map(Zd),
      workflow_json: JSON.stringify(r),
      tab_revision: this.tabRevision
    });
  }
  /** The visible part of the canvas in canvas units ([x, y, w, h]), where
   * nodes created without coordinates go when it is free; null when the
   * canvas has no size yet. */
  view() {
    const t = this.d.app.canvas, n = t?.ds, i = t?.canvas, r = n?.visible_area;
    if (r && r[2] > 0 && r[3] > 0) return [r[0], r[1], r[2], r[3]].map(Number);
    if (!n || !i || !n.scale || !i.width || !i.height) return null;
    const s = globalThis.devicePixelRatio || 1, o = (i.clientWidth || i.width / s) / n.scale, l = (i.clientHeight || i.height / s) / n.scale;
    return [-n.offset[0], -n.offset[1], o, l];
  }
  async handleQueue(t) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: fs, prompt_id: "", number: 0 });
    if (t.prompt_only) return this.handlePromptOnly(t);
    const { app: n, api: i } = this.d, r = [];
    let s = "";
    const o = i.queuePrompt;
    i.queuePrompt = async function(...a) {
      try {
        const u = await o.apply(this, a);
        return r.push(u), u;
      } catch (u) {
        throw s = Cl(u), u;
      }
    };
    try {
      const a = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, a);
    } catch (a) {
      s = s || Cl(a);
    } finally {
      i.queuePrompt = o;
    }
    const l = r[r.length - 1], c = !!l?.prompt_id && !s;
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
    const { app: n } = this.d, i = n.rootGraph ?? n.graph, r = { type: "queue_result", request_id: t.request_id, prompt_id: "", number: 0 };
    if (typeof n.graphToPrompt != "function")
      return this.send({ ...r, ok: !1, error: "this frontend has no graphToPrompt" });
    let s;
    try {
      El(i, "beforeQueued");
      const o = await n.graphToPrompt(i);
      if (s = { prompt_json: JSON.stringify(o?.output ?? null), workflow_json: JSON.stringify(o?.workflow ?? null) }, !o?.output || typeof o.output != "object") throw new Error("graphToPrompt returned no prompt");
      El(i, "afterQueued");
    } catch (o) {
      return this.send({ ...r, ok: !1, error: `cannot convert the workflow: ${String(o?.message ?? o).slice(0, 1e3)}` });
    }
    if (s.prompt_json.length + s.workflow_json.length > hs)
      return this.send({ ...r, ok: !1, error: "the workflow is too large to hand over" });
    this.send({ ...r, ok: !0, error: "", ...s });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: fs, workflow_json: "", tab_revision: this.tabRevision });
    let n, i = !1, r = "";
    try {
      if (n = JSON.parse(t.workflow_json), !n || typeof n != "object" || !Array.isArray(n.nodes)) throw new Error("not a workflow");
    } catch (o) {
      r = `cannot load: ${o?.message ?? o}`;
    }
    if (!r) {
      this.busy++;
      try {
        await this.d.app.loadGraphData(n, !0, !0, this.activeWorkflow() ?? void 0), i = !0;
      } catch (o) {
        r = `loading failed: ${o?.message ?? o}`;
      } finally {
        this.busy--;
      }
    }
    const s = this.serialize();
    this.lastSig = zt(s), this.tabRevision += 1, this.send({
      type: "load_result",
      request_id: t.request_id,
      ok: i,
      error: r,
      workflow_json: i ? JSON.stringify(s) : "",
      tab_revision: this.tabRevision
    });
  }
  // ---- the user's edits and focus ----
  /** Called on graphChanged: a burst becomes one check. */
  graphChanged() {
    this.t.clearTimeout(this.debounceTimer), this.debounceTimer = this.t.setTimeout(() => {
      this.debounceTimer = null, this.checkEdits();
    }, $d);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < qd || this.d.app.configuringGraph) return;
    if (ds(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const i = zt(n);
    i !== this.lastSig && (this.lastSig = i, this.tabRevision += 1, this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision }));
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
    if (!(this.focused && t - this.focusSentAt < Hd)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function El(e, t) {
  const n = e?._nodes ?? e?.nodes ?? [];
  for (const i of n) for (const r of i.widgets ?? []) r[t]?.();
}
function Cl(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, i = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${i.length ? ` (nodes ${i.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function Zd(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const Dl = 500, Sl = 200;
function Cn(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function La() {
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
function Pa(e, t = "") {
  Object.assign(e, La(), { sessionId: t });
}
function Tl(e, t) {
  const n = Number(t) || 0;
  for (let i = e.turns.length - 1; i >= 0; i--) if (e.turns[i].id === n) return e.turns[i];
  return null;
}
function Wn(e, t) {
  let n = Tl(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let i = e.turns.length;
  for (; i > 0 && e.turns[i - 1].id > n.id; ) i--;
  return e.turns.splice(i, 0, n), e.turns.length > Sl && e.turns.splice(0, e.turns.length - Sl), Tl(e, n.id) ?? n;
}
function nr(e, t) {
  const n = t || "comfyd";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function ri(e, t) {
  e.logs.push(t), e.logs.length > Dl && e.logs.splice(0, e.logs.length - Dl);
}
function Fl(e, t) {
  if (!t || typeof t != "object") return;
  const n = Cn(t.role, "ROLE_"), i = Cn(t.state, "MESSAGE_STATE_");
  if (n === "user") {
    const r = Wn(e, t.id);
    r.content = String(t.content ?? ""), r.state = i, r.error = String(t.error ?? ""), r.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const r = Wn(e, t.turn_id), s = nr(r, t.skill);
    s.content = String(t.content ?? ""), s.state = i || "done", s.error = String(t.error ?? ""), s.final = !0;
  }
}
function Il(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = Cn(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function Ba(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function Qd(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, i = t.data && typeof t.data == "object" ? t.data : {}, r = Ba(t);
  if (i.session_id && e.sessionId && i.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (r && r < e.lastSeq) return !1;
    const s = e.logs, o = e.turns.filter((c) => c.pending), l = i.session?.id ?? e.sessionId;
    Pa(e, l), e.logs = s, Il(e, i.session), i.status !== void 0 && (e.status = Cn(i.status, "SESSION_STATUS_") || e.status);
    for (const c of Array.isArray(i.history) ? i.history : []) Fl(e, c);
    for (const c of Array.isArray(i.partials) ? i.partials : []) {
      const a = nr(Wn(e, c.turn_id), c.skill);
      a.final || (a.content = String(c.content ?? ""), a.next = Number(c.delta_count) || 0, a.state = "streaming");
    }
    return e.lastSeq = r || e.lastSeq, e.needsResync = !1, e.turns.push(...o), !0;
  }
  if (["created", "configured", "sessions", "skills", "ack", "cancelled"].includes(n))
    return n === "configured" && i.session && Il(e, i.session), !1;
  if (r) {
    if (r <= e.lastSeq) return !1;
    e.lastSeq = r;
  }
  switch (n) {
    case "status_update": {
      if (e.status = Cn(i.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(i.detail ?? ""), e.queuedTurns = Number(i.queued_turns) || 0, e.status === "idle")
        for (const s of e.turns)
          for (const o of s.order) s.replies[o].state === "streaming" && (s.replies[o].state = "done");
      return !0;
    }
    case "stream_delta": {
      const s = Wn(e, i.turn_id), o = nr(s, i.skill), l = Number(i.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(i.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return Fl(e, i.message), !0;
    case "debug_log":
      return ri(e, {
        seq: r,
        level: Cn(i.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(i.module ?? ""),
        skill: String(i.skill ?? ""),
        message: String(i.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(i.code ?? ""), message: String(i.message ?? ""), skill: String(i.skill ?? "") }, i.turn_id) {
        const s = Wn(e, i.turn_id);
        if (i.skill) {
          const o = nr(s, i.skill);
          o.error = e.lastError.message, o.final || (o.state = i.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return ri(e, { seq: r, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return i.config && (e.config = i.config), typeof i.title == "string" && (e.title = i.title), !0;
    case "tool_call":
      return ri(e, { seq: r, level: "INFO", module: "tool", skill: String(i.skill ?? ""), message: `${i.name ?? "tool"}(${String(i.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return ri(e, { seq: r, level: i.ok ? "INFO" : "WARN", module: "tool", skill: String(i.skill ?? ""), message: `${i.call_id ?? ""} -> ${String(i.result_json ?? "").slice(0, 300)}` }), !0;
    case "graph_changed":
      return ri(e, { seq: r, level: "INFO", module: "graph", skill: "", message: `${i.canvas_id ?? ""} r${i.revision ?? ""}: ${i.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function ep(e, t, n) {
  const i = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(i), i;
}
function tp(e, t, n) {
  const i = e.turns.findIndex((o) => o.pending && o.clientId === t), r = i >= 0 ? e.turns.splice(i, 1)[0] : null;
  if (!n?.id) return;
  const s = Wn(e, n.id);
  s.content || (s.content = String(n.content ?? r?.content ?? "")), s.state || (s.state = Cn(n.state, "MESSAGE_STATE_"));
}
function Ol(e, t) {
  const n = e.turns.find((i) => i.pending && i.clientId === t);
  n && (n.state = "waiting", n.error = "");
}
function np(e, t, n) {
  const i = e.turns.find((r) => r.pending && r.clientId === t);
  i && (i.state = "failed", i.error = String(n ?? "not sent"));
}
function Ml(e, t = []) {
  const n = [];
  for (const i of t) e.replies[i] && n.push(i);
  for (const i of e.order) n.includes(i) || n.push(i);
  return n.map((i) => e.replies[i]);
}
const ip = 15e3, rp = /* @__PURE__ */ new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]), sp = /* @__PURE__ */ new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);
function ir(e) {
  return sp.has(String(e?.code ?? ""));
}
function si(e, t) {
  const n = new Error(e);
  return n.code = t, n;
}
class op {
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
    this.stopped = !0, this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = null, this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.drop(si("panel closed", "CLOSED"));
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
    } catch (i) {
      return this.log("warn", `comfyd: no connection info (${i?.message ?? i})`), this.d.onOffline?.(String(i?.message ?? i)), this.d.connection.invalidate?.(), this.retry();
    }
    if (this.stopped) return;
    let n;
    try {
      n = new this.d.WebSocket(Sa(t, "/comfy/session/ws"), Ta(t));
    } catch {
      return this.retry();
    }
    this.socket = n, n.onopen = () => {
      this.open = !0, this.attempt = 0, this.joined && this.sendJoin(this.joined), this.outage && this.scheduleProbe(0), this.d.onOpen?.();
    }, n.onmessage = (i) => this.onMessage(i.data), n.onerror = () => {
    }, n.onclose = (i) => {
      this.socket === n && (this.open || this.d.onOffline?.(`comfyd-bridge does not answer at ${t.bridgeUrl ?? t.wsBase}`), this.socket = null, this.open = !1, this.drop(si("connection lost", "DISCONNECTED")), this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.d.onClose?.(i?.code), (i?.code === 1008 || i?.code === 1006) && this.d.connection.invalidate?.(), this.retry());
    };
  }
  retry() {
    this.stopped || this.reconnectTimer || (this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, Ws(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const i = this.nextId++;
    return new Promise((r, s) => {
      if (!this.send({ event: t, data: n, request_id: i })) {
        s(si("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(i);
        const l = si(`${t}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(l.message), s(l);
      }, ip);
      this.pending.set(i, { resolve: r, reject: s, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && Pa(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
  }
  sendJoin(t, n = !1) {
    const i = n || this.state.sessionId !== t ? 0 : this.state.lastSeq;
    this.joinFailed = !1, this.joinRid = this.nextId++, this.send({ event: "join", data: { session_id: t, last_seq: i }, request_id: this.joinRid });
  }
  onMessage(t) {
    let n;
    try {
      n = JSON.parse(t);
    } catch {
      return;
    }
    if (!n || typeof n != "object") return;
    const i = n.request_id;
    if (i !== void 0 && i === this.joinRid && n.event === "error") {
      const r = String(n.data?.code ?? "join_failed"), s = String(n.data?.message ?? "");
      if (rp.has(r)) {
        this.state.lastError = { code: r, message: s, skill: "" }, this.d.onChange?.();
        return;
      }
      this.joinFailed = !0, this.coreAway(s || r);
      return;
    }
    if (i !== void 0 && this.pending.has(i)) {
      const r = this.pending.get(i);
      if (this.pending.delete(i), this.t.clearTimeout(r.timer), n.event === "error") {
        const s = si(n.data?.message ?? "request failed", n.data?.code ?? "error");
        ir(s) ? this.coreAway(s.message) : this.coreBack(), r.reject(s);
      } else
        this.coreBack(), r.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    Ba(n) && n.event !== "error" && this.coreBack(), Qd(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
  /** The core is away: say so once, and probe it with backoff. */
  coreAway(t) {
    this.stopped || (this.outage || (this.outage = String(t || "core unavailable"), this.probeAttempt = 0, this.log("warn", `comfyd: core unavailable (${this.outage}); reconnecting`), this.d.onOutage?.(this.outage)), this.scheduleProbe());
  }
  scheduleProbe(t) {
    if (this.stopped || this.probeTimer || !this.open) return;
    const n = t ?? Ws(this.probeAttempt++);
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
const ja = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), lp = Object.freeze(["echo", "openai"]), ps = "workflow-builder", Nl = 64 * 1024, gs = 4096, cp = 64 * 1024;
function ap(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let Ll = 0;
function up() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return Ll += 1, `panel-${e}-${Ll}`;
}
class fp {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value)}
   */
  constructor(t) {
    this.d = t;
    const n = t.reactive ?? ((i) => i);
    this.state = n(La()), this.ui = n({
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
    }), this.outbox = [], this.client = new op({
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
      onOffline: (i) => {
        this.ui.offlineReason = i;
      },
      onOutage: (i) => {
        this.ui.outage = i;
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
      skills: ap(n.skills)
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
      t.sid === this.state.sessionId && tp(this.state, t.cid, n.message);
    } catch (n) {
      ir(n) && !this.client.stopped ? (Ol(this.state, t.cid), this.outbox.push(t)) : np(this.state, t.cid, n.message);
    }
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = this.ui.form, i = (r, s) => {
      s !== void 0 && n[r] !== s && (n[r] = s, this.d.writeConfig(r, r === "skills" ? s.join(",") : s));
    };
    i("provider", t.provider || "echo"), i("model", t.model ?? ""), i("base_url", t.base_url ?? ""), i("system_prompt", t.system_prompt ?? ""), Array.isArray(t.active_skills) && i("skills", t.active_skills.map(String));
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`), this.tickDefaultSkill();
    } catch (t) {
      ir(t) || (this.ui.notice = `skills: ${t.message}`);
    }
  }
  /** A panel without a session and without a chosen skill starts with the
   * default skill ticked (when the core has it). */
  tickDefaultSkill() {
    const t = this.ui.form;
    t.session_id || t.skills.length || this.skillsChosen || this.ui.skills.some((n) => n.name === ps) && (t.skills = [ps], this.d.writeConfig("skills", ps));
  }
  async refreshSessions() {
    try {
      const t = await this.client.request("list", { page_size: 50 });
      this.ui.sessions = (t.sessions ?? []).map((n) => ({ id: String(n.id), title: String(n.title || n.id) }));
    } catch (t) {
      ir(t) || (this.ui.notice = `sessions: ${t.message}`);
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, gs),
      model: t.model.slice(0, gs),
      base_url: t.base_url.slice(0, gs),
      system_prompt: t.system_prompt.slice(0, cp)
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
      const i = await this.client.request("create", n);
      this.ui.apiKey = "";
      const r = i.session?.id;
      if (!r) throw new Error("the core answered without a session id");
      this.selectSession(String(r)), await this.refreshSessions();
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
    for (const [n, i] of Object.entries(t)) this.d.writeConfig(n, i);
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
    const i = new Set(this.ui.form.skills);
    n ? i.add(t) : i.delete(t);
    const r = this.ui.skills.map((o) => o.name), s = [...r.filter((o) => i.has(o)), ...[...i].filter((o) => !r.includes(o))];
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
    if (t.length > Nl) {
      this.ui.notice = `a message is at most ${Nl} characters`;
      return;
    }
    this.ui.form.session_id || await this.createSession();
    const n = this.ui.form.session_id;
    if (!n) return;
    this.ui.draft = "";
    const i = { cid: up(), sid: n, content: t };
    if (ep(this.state, i.cid, t), this.client.outage) {
      Ol(this.state, i.cid), this.outbox.push(i);
      return;
    }
    await this.deliver(i);
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
const Hs = "ComfydAgentPanel", Pl = "comfyd-panel-style", Bl = Object.freeze([440, 560]), hp = 320, jl = (e) => e?.comfyClass === Hs || e?.type === Hs;
function dp(e, t) {
  if (e.getElementById(Pl)) return;
  const n = e.createElement("style");
  n.id = Pl, n.textContent = t, e.head.appendChild(n);
}
function pp(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function gp(e) {
  for (const [t, n] of ja) {
    let i = (e.widgets ?? []).find((r) => r.name === t);
    i || (i = e.addWidget("text", t, n, () => {
    }, {})), pp(i);
  }
}
function mp(e) {
  const t = {};
  for (const [n, i] of ja) {
    const s = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof s == "string" ? s : i;
  }
  return t;
}
function _p(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: i } = t;
  dp(i, t.css), gp(e);
  const r = (w, _) => {
    const p = (e.widgets ?? []).find((x) => x.name === w);
    !p || p.value === _ || (p.value = _, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, s = new fp({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => mp(e),
    writeConfig: r
  }), o = i.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: s });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const w = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => hp,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    w.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  const c = () => {
    (Array.isArray(e.size) || ArrayBuffer.isView(e.size)) && e.setSize?.([Math.max(e.size[0], Bl[0]), Math.max(e.size[1], Bl[1])]);
  };
  c();
  let a = !1;
  const u = e.onConfigure;
  e.onConfigure = function(...w) {
    a = !0;
    const _ = u?.apply(this, w);
    return s.reloadConfig(), _;
  };
  const h = e.onRemoved;
  return e.onRemoved = function(...w) {
    s.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, h?.apply(this, w);
  }, setTimeout(() => {
    e.__comfydPanel && (a || (c(), e.setDirtyCanvas?.(!0, !0)), s.reloadConfig(), s.start());
  }, 0), e.__comfydPanel = s, s;
}
function zl(e, t) {
  (t == null || t > e.length) && (t = e.length);
  for (var n = 0, i = Array(t); n < t; n++) i[n] = e[n];
  return i;
}
function bp(e) {
  if (Array.isArray(e)) return e;
}
function yp(e, t) {
  var n = e == null ? null : typeof Symbol < "u" && e[Symbol.iterator] || e["@@iterator"];
  if (n != null) {
    var i, r, s, o, l = [], c = !0, a = !1;
    try {
      if (s = (n = n.call(e)).next, t !== 0) for (; !(c = (i = s.call(n)).done) && (l.push(i.value), l.length !== t); c = !0) ;
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
function wp() {
  throw new TypeError(`Invalid attempt to destructure non-iterable instance.
In order to be iterable, non-array objects must have a [Symbol.iterator]() method.`);
}
function kp(e, t) {
  return bp(e) || yp(e, t) || Ap(e, t) || wp();
}
function Ap(e, t) {
  if (e) {
    if (typeof e == "string") return zl(e, t);
    var n = {}.toString.call(e).slice(8, -1);
    return n === "Object" && e.constructor && (n = e.constructor.name), n === "Map" || n === "Set" ? Array.from(e) : n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n) ? zl(e, t) : void 0;
  }
}
const za = Object.entries, xp = Object.keys, $l = Object.setPrototypeOf, Rp = Object.isFrozen, $a = Object.getPrototypeOf, Ua = Object.getOwnPropertyDescriptor;
let ze = Object.freeze, Ie = Object.seal, Yt = Object.create, Wa = typeof Reflect < "u" && Reflect, mr = Wa.apply, Vs = Wa.construct;
ze || (ze = function(t) {
  return t;
});
Ie || (Ie = function(t) {
  return t;
});
mr || (mr = function(t, n) {
  for (var i = arguments.length, r = new Array(i > 2 ? i - 2 : 0), s = 2; s < i; s++) r[s - 2] = arguments[s];
  return t.apply(n, r);
});
Vs || (Vs = function(t) {
  for (var n = arguments.length, i = new Array(n > 1 ? n - 1 : 0), r = 1; r < n; r++) i[r - 1] = arguments[r];
  return new t(...i);
});
const Mt = ve(Array.prototype.forEach), vp = ve(Array.prototype.lastIndexOf), Ul = ve(Array.prototype.pop), oi = ve(Array.prototype.push), Ep = ve(Array.prototype.slice), Cp = ve(Array.prototype.splice), Jn = Array.isArray, ms = Ja(Set), _s = ve(Set.prototype.add), li = ve(Set.prototype.has), yn = ve(String.prototype.toLowerCase), bs = ve(String.prototype.toString), Dp = ve(String.prototype.match), Gi = ve(String.prototype.replace), ys = ve(String.prototype.indexOf), Sp = ve(String.prototype.trim), Tp = ve(Number.prototype.toString), Fp = ve(Boolean.prototype.toString), Wl = typeof BigInt > "u" ? null : ve(BigInt.prototype.toString), Jl = typeof Symbol > "u" ? null : ve(Symbol.prototype.toString), Je = ve(Object.prototype.hasOwnProperty), ci = ve(Object.prototype.toString), Ip = RegExp.prototype.test, Be = function(t, n) {
  return t instanceof RegExp && (t.lastIndex = 0), mr(Ip, t, [n]);
}, Nt = Ja(TypeError);
function ve(e) {
  return function(t) {
    for (var n = arguments.length, i = new Array(n > 1 ? n - 1 : 0), r = 1; r < n; r++) i[r - 1] = arguments[r];
    return mr(e, t, i);
  };
}
function Ja(e) {
  return function() {
    for (var t = arguments.length, n = new Array(t), i = 0; i < t; i++) n[i] = arguments[i];
    return Vs(e, n);
  };
}
function ae(e, t) {
  let n = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : yn;
  if ($l && $l(e, null), !Jn(t)) return e;
  let i = t.length;
  for (; i--; ) {
    let r = t[i];
    if (typeof r == "string") {
      const s = n(r);
      s !== r && (Rp(t) || (t[i] = s), r = s);
    }
    e[r] = !0;
  }
  return e;
}
function Op(e) {
  for (let t = 0; t < e.length; t++) Je(e, t) || (e[t] = null);
  return e;
}
function _r(e) {
  const t = Yt(null);
  for (const i of za(e)) {
    var n = kp(i, 2);
    const r = n[0], s = n[1];
    Je(e, r) && (Jn(s) ? t[r] = Op(s) : s && typeof s == "object" && s.constructor === Object ? t[r] = _r(s) : t[r] = s);
  }
  return t;
}
function fi(e) {
  const t = Yt(null), n = xp(e);
  let i = n.length;
  for (; i--; ) t[n[i]] = e[n[i]];
  return t;
}
function Mp(e) {
  switch (typeof e) {
    case "string":
      return e;
    case "number":
      return Tp(e);
    case "boolean":
      return Fp(e);
    case "bigint":
      return Wl ? Wl(e) : "0";
    case "symbol":
      return Jl ? Jl(e) : "Symbol()";
    case "undefined":
      return ci(e);
    case "function":
    case "object": {
      if (e === null) return ci(e);
      const t = e, n = nt(t, "toString");
      if (typeof n == "function") {
        const i = n(t);
        return typeof i == "string" ? i : ci(i);
      }
      return ci(e);
    }
    default:
      return ci(e);
  }
}
function nt(e, t) {
  for (; e !== null; ) {
    const i = Ua(e, t);
    if (i) {
      if (i.get) return ve(i.get);
      if (typeof i.value == "function") return ve(i.value);
    }
    e = $a(e);
  }
  function n() {
    return null;
  }
  return n;
}
function Np(e, t) {
  for (; e !== null; ) {
    const n = Ua(e, t);
    if (n) return n.get ? ve(n.get) : null;
    e = $a(e);
  }
  return null;
}
function Lp(e) {
  if (!e) return !1;
  try {
    return Be(e, ""), !0;
  } catch {
    return !1;
  }
}
const ql = ze([
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
]), ws = ze([
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
]), ks = ze([
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
]), Pp = ze([
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
]), As = ze([
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
]), Bp = ze([
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
]), Hl = ze(["#text"]), Vl = ze([
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
]), xs = ze([
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
]), Gl = ze([
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
]), Ki = ze([
  "xlink:href",
  "xml:id",
  "xlink:title",
  "xml:space",
  "xmlns:xlink"
]), jp = Ie(/{{[\w\W]*|^[\w\W]*}}/g), zp = Ie(/<%[\w\W]*|^[\w\W]*%>/g), $p = Ie(/\${[\w\W]*/g), Up = Ie(/{{|}}|\${|<%|%>|&lt;%|%&gt;/), Wp = Ie(/^data-[\-\w.\u00B7-\uFFFF]+$/), Jp = Ie(/^aria-[\-\w]+$/), Kl = Ie(/^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i), qp = Ie(/^(?:\w+script|data):/i), Hp = Ie(/[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g), Vp = Ie(/^html$/i), Gp = Ie(/^[a-z][.\w]*(-[.\w]+)+$/i), Rs = Ie(/<[/\w!]/g), Yl = Ie(/<[/\w]/g), Kp = Ie(/<\/no(script|embed|frames)/i), Xl = Ie(/\/>/i), Yp = Ie(/((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i), Xp = Ie(/^[\r\n\t ]+/), Se = {
  element: 1,
  text: 3,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentFragment: 11
}, Zp = ze(ae({}, [
  "style",
  "script",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "plaintext",
  "noscript"
])), Qp = function() {
  return typeof window > "u" ? null : window;
}, eg = function(t, n) {
  if (typeof t != "object" || typeof t.createPolicy != "function") return null;
  let i = null;
  const r = "data-tt-policy-suffix";
  n && n.hasAttribute(r) && (i = n.getAttribute(r));
  const s = "dompurify" + (i ? "#" + i : "");
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
}, Zl = function() {
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
}, Gt = function(t, n, i, r) {
  return Je(t, n) && Jn(t[n]) ? ae(r.base ? fi(r.base) : {}, t[n], r.transform) : i;
}, vs = function(t, n, i) {
  const r = Je(t, n) ? t[n] : void 0;
  return r && typeof r == "object" ? _r(r) : i;
};
function qa() {
  let e = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : Qp();
  const t = (T) => qa(T);
  if (t.version = "3.4.18", t.removed = [], !e || !e.document || e.document.nodeType !== Se.document || !e.Element)
    return t.isSupported = !1, t;
  let n = e.document;
  const i = n, r = i.currentScript, s = e.HTMLTemplateElement, o = e.Node, l = e.Element, c = e.NodeFilter, a = e.DOMParser, u = e.trustedTypes, h = l.prototype, w = nt(h, "cloneNode"), _ = nt(h, "remove"), p = nt(h, "removeAttributeNode"), x = nt(h, "nextSibling"), D = nt(h, "childNodes"), I = nt(h, "parentNode"), k = nt(h, "shadowRoot"), m = nt(h, "attributes"), g = o && o.prototype ? nt(o.prototype, "nodeType") : null, v = o && o.prototype ? nt(o.prototype, "nodeName") : null, B = o && o.prototype ? nt(o.prototype, "ownerDocument") : null, U = function(f) {
    return g ? g(f) : f.nodeType;
  }, Q = function(f) {
    return v ? v(f) : f.nodeName;
  }, ee = Np(h, "namespaceURI"), re = function(f) {
    return ee ? ee(f) : f.namespaceURI;
  };
  if (typeof s == "function") {
    const T = n.createElement("template");
    T.content && T.content.ownerDocument && (n = T.content.ownerDocument);
  }
  let G, se = "", Ce, Ee = !1, we = 0;
  const gt = function() {
    if (we > 0) throw Nt('A configured TRUSTED_TYPES_POLICY callback (createHTML or createScriptURL) must not call DOMPurify.sanitize, as that causes infinite recursion. Do not pass a policy whose callbacks wrap DOMPurify as TRUSTED_TYPES_POLICY; see the "DOMPurify and Trusted Types" section of the README.');
  }, j = function(f) {
    gt(), we++;
    try {
      return G.createHTML(f);
    } finally {
      we--;
    }
  }, K = function(f) {
    return G && Or ? j(f) : f;
  }, Y = function(f) {
    gt(), we++;
    try {
      return G.createScriptURL(f);
    } finally {
      we--;
    }
  }, oe = function() {
    return Ee || (Ce = eg(u, r), Ee = !0), Ce;
  }, ke = n, fe = ke.implementation, mt = ke.createNodeIterator, _t = ke.createDocumentFragment, Xn = ke.getElementsByTagName, on = i.importNode;
  let de = Zl();
  t.isSupported = typeof za == "function" && typeof I == "function" && fe && fe.createHTMLDocument !== void 0;
  const Li = jp, ln = zp, yo = $p, d = Wp, b = Jp, A = qp, N = Hp, E = Gp;
  let S = Kl, O = null;
  const L = ae({}, [
    ...ql,
    ...ws,
    ...ks,
    ...As,
    ...Hl
  ]);
  let F = null;
  const C = ae({}, [
    ...Vl,
    ...xs,
    ...Gl,
    ...Ki
  ]);
  let z = null, P = null, W = null;
  const q = Object.seal(Yt(null, {
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
  let ie = !0, le = !0, ce = !1, Ae = !0, pe = !1, Oe = !0, Le = !1, Ze = !1, cn = null, Pe = null, Ye = !1, Ft = !1, an = !1, Or = !1, wo = !0, ko = !1;
  const Ao = "user-content-";
  let Mr = !0, Nr = !1, un = null, Fn = !1, fn = null;
  const xo = ae({}, [
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
  let Ro = null;
  const vo = ae({}, [
    "audio",
    "video",
    "img",
    "source",
    "image",
    "track"
  ]);
  let Eo = null;
  const Co = ae({}, [
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
  ]), Pi = "http://www.w3.org/1998/Math/MathML", Bi = "http://www.w3.org/2000/svg", bt = "http://www.w3.org/1999/xhtml";
  let In = bt, Lr = !1, Do = null;
  const xu = ae({}, [
    Pi,
    Bi,
    bt
  ], bs), Ru = ze(ae({}, [
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext"
  ]));
  let Pr = null;
  const vu = ze(ae({}, ["annotation-xml"]));
  let Br = null;
  const Eu = ze(Yt(null)), Cu = ae({}, [
    "title",
    "style",
    "font",
    "a",
    "script"
  ]);
  let Zn = null;
  const Du = ["application/xhtml+xml", "text/html"], Su = "text/html";
  let De = null, ji = null;
  const Tu = n.createElement("form"), So = function(f) {
    return f instanceof RegExp || f instanceof Function;
  }, jr = function() {
    let f = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    (!f || typeof f != "object") && (f = {}), f = _r(f), Zn = Du.indexOf(f.PARSER_MEDIA_TYPE) === -1 ? Su : f.PARSER_MEDIA_TYPE, De = Zn === "application/xhtml+xml" ? bs : yn, O = Gt(f, "ALLOWED_TAGS", L, { transform: De }), F = Gt(f, "ALLOWED_ATTR", C, { transform: De }), Do = Gt(f, "ALLOWED_NAMESPACES", xu, { transform: bs }), Eo = Gt(f, "ADD_URI_SAFE_ATTR", Co, {
      transform: De,
      base: Co
    }), Ro = Gt(f, "ADD_DATA_URI_TAGS", vo, {
      transform: De,
      base: vo
    }), fn = Gt(f, "FORBID_CONTENTS", xo, { transform: De }), P = Gt(f, "FORBID_TAGS", Yt(null), { transform: De }), W = Gt(f, "FORBID_ATTR", Yt(null), { transform: De }), Fn = Je(f, "USE_PROFILES") ? f.USE_PROFILES && typeof f.USE_PROFILES == "object" ? _r(f.USE_PROFILES) : f.USE_PROFILES : !1, ie = f.ALLOW_ARIA_ATTR !== !1, le = f.ALLOW_DATA_ATTR !== !1, ce = f.ALLOW_UNKNOWN_PROTOCOLS || !1, Ae = f.ALLOW_SELF_CLOSE_IN_ATTR !== !1, pe = f.SAFE_FOR_TEMPLATES || !1, Oe = f.SAFE_FOR_XML !== !1, Le = f.WHOLE_DOCUMENT || !1, Ft = f.RETURN_DOM || !1, an = f.RETURN_DOM_FRAGMENT || !1, Or = f.RETURN_TRUSTED_TYPE || !1, Ye = f.FORCE_BODY || !1, wo = f.SANITIZE_DOM !== !1, ko = f.SANITIZE_NAMED_PROPS || !1, Mr = f.KEEP_CONTENT !== !1, Nr = f.IN_PLACE || !1, S = Lp(f.ALLOWED_URI_REGEXP) ? f.ALLOWED_URI_REGEXP : Kl, In = typeof f.NAMESPACE == "string" ? f.NAMESPACE : bt, Pr = vs(f, "MATHML_TEXT_INTEGRATION_POINTS", Ru), Br = vs(f, "HTML_INTEGRATION_POINTS", vu);
    const y = vs(f, "CUSTOM_ELEMENT_HANDLING", Eu);
    if (z = Yt(null), Je(y, "tagNameCheck") && So(y.tagNameCheck) && (z.tagNameCheck = y.tagNameCheck), Je(y, "attributeNameCheck") && So(y.attributeNameCheck) && (z.attributeNameCheck = y.attributeNameCheck), Je(y, "allowCustomizedBuiltInElements") && typeof y.allowCustomizedBuiltInElements == "boolean" && (z.allowCustomizedBuiltInElements = y.allowCustomizedBuiltInElements), Ie(z), pe && (le = !1), an && (Ft = !0), Fn && ((Je(f, "ALLOWED_TAGS") || Je(f, "ALLOWED_ATTR")) && typeof console < "u" && typeof console.warn == "function" && console.warn("DOMPurify: USE_PROFILES overrides ALLOWED_TAGS and ALLOWED_ATTR. Do not use these options together."), O = ae({}, Hl), F = Yt(null), Fn.html === !0 && (ae(O, ql), ae(F, Vl)), Fn.svg === !0 && (ae(O, ws), ae(F, xs), ae(F, Ki)), Fn.svgFilters === !0 && (ae(O, ks), ae(F, xs), ae(F, Ki)), Fn.mathMl === !0 && (ae(O, As), ae(F, Gl), ae(F, Ki))), q.tagCheck = null, q.attributeCheck = null, Je(f, "ADD_TAGS") && (typeof f.ADD_TAGS == "function" ? q.tagCheck = f.ADD_TAGS : Jn(f.ADD_TAGS) && (O === L && (O = fi(O)), ae(O, f.ADD_TAGS, De))), Je(f, "ADD_ATTR") && (typeof f.ADD_ATTR == "function" ? q.attributeCheck = f.ADD_ATTR : Jn(f.ADD_ATTR) && (F === C && (F = fi(F)), ae(F, f.ADD_ATTR, De))), Je(f, "ADD_FORBID_CONTENTS") && Jn(f.ADD_FORBID_CONTENTS) && (fn === xo && (fn = fi(fn)), ae(fn, f.ADD_FORBID_CONTENTS, De)), Mr && (O["#text"] = !0), Le && ae(O, [
      "html",
      "head",
      "body"
    ]), O.table && (O.tbody = !0, delete P.tbody), f.TRUSTED_TYPES_POLICY) {
      if (typeof f.TRUSTED_TYPES_POLICY.createHTML != "function") throw Nt('TRUSTED_TYPES_POLICY configuration option must provide a "createHTML" hook.');
      if (typeof f.TRUSTED_TYPES_POLICY.createScriptURL != "function") throw Nt('TRUSTED_TYPES_POLICY configuration option must provide a "createScriptURL" hook.');
      const R = G;
      G = f.TRUSTED_TYPES_POLICY;
      try {
        se = j("");
      } catch (M) {
        throw G = R, M;
      }
    } else f.TRUSTED_TYPES_POLICY === null ? (G = void 0, se = "") : (G === void 0 && (G = oe()), G && typeof se == "string" && (se = j("")));
    ji = ze(f);
  }, To = ae({}, [
    ...ws,
    ...ks,
    ...Pp
  ]), Fo = ae({}, [...As, ...Bp]), Fu = function(f, y, R) {
    return y === bt ? f === "svg" : y === Pi ? f === "svg" && (R === "annotation-xml" || Pr[R]) : !!To[f];
  }, Iu = function(f, y, R) {
    return y === bt ? f === "math" : y === Bi ? f === "math" && Br[R] : !!Fo[f];
  }, Ou = function(f, y, R) {
    return y === Bi && !Br[R] || y === Pi && !Pr[R] ? !1 : !Fo[f] && (Cu[f] || !To[f]);
  }, Mu = function(f) {
    const y = re(f), R = yn(Q(f)), M = I(f);
    let J = In, H = "template";
    return M && U(M) === Se.element && (J = re(M), H = yn(Q(M))), Do[y] ? y === Bi ? Fu(R, J, H) : y === Pi ? Iu(R, J, H) : y === bt ? Ou(R, J, H) : Zn === "application/xhtml+xml" : !1;
  }, Ht = function(f) {
    oi(t.removed, { element: f });
    try {
      I(f).removeChild(f);
    } catch {
      if (_(f), !I(f)) throw Nt("a node selected for removal could not be detached from its tree and cannot be safely returned; refusing to sanitize in place");
    }
  }, Io = function(f, y, R) {
    try {
      p(f, y);
    } catch {
      try {
        f.removeAttribute(R);
      } catch {
      }
    }
  }, zr = function(f) {
    Wr(f);
    const y = D(f);
    y && Mt(Ep(y), (R) => {
      try {
        _(R);
      } catch {
      }
    }), U(f) === Se.element && $r(f, !1);
  }, On = function(f, y, R) {
    if (!R) try {
      R = y.getAttributeNode(f);
    } catch {
      R = null;
    }
    if (oi(t.removed, {
      attribute: R || null,
      from: y
    }), R) Io(y, R, f);
    else try {
      y.removeAttribute(f);
    } catch {
    }
    if (f === "is")
      if (Ft || an) try {
        Ht(y);
      } catch {
      }
      else try {
        y.setAttribute(f, "");
      } catch {
      }
  }, $r = function(f, y) {
    const R = m(f);
    if (R)
      for (let M = R.length - 1; M >= 0; --M) {
        const J = R[M], H = J && J.name;
        typeof H == "string" && !(y && F[De(H)]) && Io(f, J, H);
      }
  }, Ur = function(f, y) {
    let R = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : !1;
    const M = [f];
    for (; M.length > 0; ) {
      const J = M.pop();
      if (y(J) === !1) continue;
      if (R && U(J) === Se.element) {
        const te = k(J);
        Mn(te) && M.push(te);
      }
      const H = D(J);
      if (H) for (let te = H.length - 1; te >= 0; --te) M.push(H[te]);
    }
  }, Wr = function(f) {
    Ur(f, (y) => {
      U(y) === Se.element && $r(y, !0);
    });
  }, Jr = function(f) {
    const y = [];
    return Ur(f, (R) => {
      y.push(R);
    }, !0), y;
  }, Nu = function(f, y) {
    const R = ms();
    Mt(Jr(f), (M) => {
      U(M) === Se.element && _s(R, M);
    }), Mt(y, (M) => {
      U(M) === Se.element && !li(R, M) && $r(M, !0);
    });
  }, Oo = function(f, y) {
    let R = !1;
    return Mt(t.removed, (M) => {
      M.element && (R = R || M.element === f, Wr(M.element));
    }), Nu(f, y), R;
  }, Lu = 8, Pu = function(f, y) {
    const R = un;
    let M = null;
    const J = () => (M || (M = ms(), Mt(y, (H) => {
      _s(M, H);
    })), M);
    for (let H = 0; ; H++) {
      const te = Jr(f), Me = [f];
      let It = !1;
      if (Mt(te, (ct) => {
        U(ct) === Se.documentFragment ? oi(Me, ct) : !It && !li(R, ct) && (It = li(J(), ct));
      }), !It) return;
      if (H >= Lu) throw Nt("the tree kept changing during in-place sanitization; refusing to return it");
      Mt(Me, (ct, Qe) => {
        Bu(ct, Qe > 0, f, J());
      });
    }
  }, Bu = function(f, y, R, M) {
    const J = zi(f);
    let H;
    for (; H = J.nextNode(); )
      !li(M, H) || li(un, H) || (y && lt(de.uponSanitizeShadowNode, H, null), Gr(H, R));
  }, ju = function(f) {
    un && _s(un, f);
  }, Mo = function(f, y) {
    return Oe ? f === "patchsrc" ? !0 : f === "for" && y !== "label" && y !== "output" : !1;
  }, zu = function(f) {
    Oe && Ur(f, (y) => {
      const R = U(y);
      if (R === Se.processingInstruction || R === Se.comment && Be(Yl, y.data)) {
        try {
          _(y);
        } catch {
        }
        return !1;
      }
      if (R === Se.element) {
        const M = y, J = De(Q(y));
        try {
          M.hasAttribute && M.hasAttribute("patchsrc") && M.removeAttribute("patchsrc"), M.hasAttribute && M.hasAttribute("for") && Mo("for", J) && M.removeAttribute("for");
        } catch {
        }
      }
      return !0;
    });
  }, No = function(f) {
    let y = null, R = null;
    if (Ye) f = "<remove></remove>" + f;
    else {
      const H = Dp(f, Xp);
      R = H && H[0];
    }
    Zn === "application/xhtml+xml" && In === bt && (f = '<html xmlns="http://www.w3.org/1999/xhtml"><head></head><body>' + f + "</body></html>");
    const M = G ? j(f) : f;
    if (In === bt) try {
      y = new a().parseFromString(M, Zn);
    } catch {
    }
    if (!y || !y.documentElement) {
      y = fe.createDocument(In, "template", null);
      try {
        y.documentElement.innerHTML = Lr ? se : M;
      } catch {
      }
    }
    const J = y.body || y.documentElement;
    return f && R && J.insertBefore(n.createTextNode(R), J.childNodes[0] || null), In === bt ? Xn.call(y, Le ? "html" : "body")[0] : Le ? y.documentElement : J;
  }, zi = function(f) {
    let y = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : !1;
    const R = B ? B(f) : f.ownerDocument;
    return mt.call(R || f, f, (y ? 0 : c.SHOW_ELEMENT) | c.SHOW_COMMENT | c.SHOW_TEXT | c.SHOW_PROCESSING_INSTRUCTION | c.SHOW_CDATA_SECTION, null);
  }, qr = function(f) {
    return f = Gi(f, Li, " "), f = Gi(f, ln, " "), f = Gi(f, yo, " "), f;
  }, Hr = function(f) {
    var y;
    Vr(f);
    const R = (y = f.querySelectorAll) === null || y === void 0 ? void 0 : y.call(f, "template");
    R && Mt(R, (M) => {
      Mn(M.content) && Hr(M.content);
    });
  }, Vr = function(f) {
    f.normalize();
    const y = zi(f, !0);
    let R = y.nextNode();
    for (; R; )
      R.data = qr(R.data), R = y.nextNode();
  }, $i = function(f) {
    const y = v ? v(f) : null;
    return typeof y != "string" || De(y) !== "form" ? !1 : typeof f.nodeName != "string" || typeof f.textContent != "string" || typeof f.removeChild != "function" || f.attributes !== m(f) || typeof f.removeAttribute != "function" || typeof f.removeAttributeNode != "function" || typeof f.getAttributeNode != "function" || typeof f.setAttribute != "function" || typeof f.namespaceURI != "string" || typeof f.insertBefore != "function" || typeof f.hasChildNodes != "function" || f.nodeType !== g(f) || f.childNodes !== D(f);
  }, Lo = function(f) {
    if (!g || typeof f != "object" || f === null) return null;
    try {
      const y = g(f);
      return typeof y == "number" ? y : null;
    } catch {
      return null;
    }
  }, Mn = function(f) {
    return Lo(f) === Se.documentFragment;
  }, Qn = function(f) {
    return Lo(f) !== null;
  };
  function lt(T, f, y) {
    T.length !== 0 && Mt(T, (R) => {
      R.call(t, f, y, ji);
    });
  }
  const $u = function(f, y, R) {
    return !!(Oe && R === Se.element && f.hasChildNodes() && !Qn(f.firstElementChild) && Be(Rs, f.textContent) && Be(Rs, f.innerHTML) || Oe && Zp[y] && R === Se.element && re(f) === bt && (Qn(f.firstElementChild) || typeof f.textContent == "string" && Be(Rs, f.textContent)) || R === Se.processingInstruction || Oe && R === Se.comment && Be(Yl, f.data));
  }, Ui = function(f, y) {
    if (f instanceof RegExp) return Be(f, y);
    if (f instanceof Function) {
      for (var R = arguments.length, M = new Array(R > 2 ? R - 2 : 0), J = 2; J < R; J++) M[J - 2] = arguments[J];
      return !!f(y, ...M);
    }
    return !1;
  }, Uu = function(f, y, R) {
    if (!P[y] && jo(y) && Ui(z.tagNameCheck, y)) return !1;
    if (Mr && !fn[y] && !fn[yn(y)]) {
      const M = I(f), J = D(f);
      if (J && M) {
        const H = J.length;
        for (let te = H - 1; te >= 0; --te) {
          const Me = f === R ? w(J[te], !0) : J[te];
          M.insertBefore(Me, x(f));
        }
      }
    }
    return Ht(f), !0;
  }, Po = function(f, y, R, M) {
    return f.length === 0 ? y : y === R || y === M ? fi(y) : y;
  }, Nn = function(f, y) {
    return f === y || I(f) !== null ? !1 : (Nr && Wr(f), !0);
  }, Wu = function(f, y) {
    if (ju(f), lt(de.beforeSanitizeElements, f, null), Nn(f, y)) return !0;
    if ($i(f))
      return Ht(f), !0;
    const R = De(Q(f)), M = U(f);
    if (O = Po(de.uponSanitizeElement, O, L, cn), lt(de.uponSanitizeElement, f, {
      tagName: R,
      allowedTags: O
    }), Nn(f, y)) return !0;
    if ($u(f, R, M))
      return Ht(f), !0;
    if (P[R] || !(q.tagCheck instanceof Function && q.tagCheck(R)) && !O[R]) {
      const J = Uu(f, R, y);
      return J === !1 && (lt(de.afterSanitizeElements, f, null), Nn(f, y)) ? !0 : J;
    }
    if (M === Se.element && !Mu(f) || (R === "noscript" || R === "noembed" || R === "noframes") && Be(Kp, f.innerHTML))
      return Ht(f), !0;
    if (pe && M === Se.text) {
      const J = f.textContent, H = qr(J);
      J !== H && (oi(t.removed, { element: f.cloneNode() }), f.textContent = H);
    }
    return lt(de.afterSanitizeElements, f, null), Nn(f, y);
  }, Bo = function(f, y, R) {
    if (W[y] || Mo(y, f) || wo && (y === "id" || y === "name") && (R in n || R in Tu)) return !1;
    const M = F[y] || q.attributeCheck instanceof Function && q.attributeCheck(y, f);
    if (le && Be(d, y) || ie && Be(b, y)) return !0;
    if (!M) return jo(f) && Ui(z.tagNameCheck, f) && Ui(z.attributeNameCheck, y, f) || y === "is" && z.allowCustomizedBuiltInElements && Ui(z.tagNameCheck, R);
    if (Eo[y]) return !0;
    const J = Gi(R, N, "");
    return Be(S, J) || (y === "src" || y === "xlink:href" || y === "href") && f !== "script" && ys(R, "data:") === 0 && Ro[f] || ce && !Be(A, J) ? !0 : !R;
  }, Ju = ae({}, [
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-format",
    "font-face-name",
    "font-face-src",
    "font-face-uri",
    "missing-glyph"
  ]), jo = function(f) {
    return !Ju[yn(f)] && Be(E, f);
  }, qu = function(f, y, R, M) {
    if (G && typeof u == "object" && typeof u.getAttributeType == "function" && !R) switch (u.getAttributeType(f, y)) {
      case "TrustedHTML":
        return j(M);
      case "TrustedScriptURL":
        return Y(M);
    }
    return M;
  }, Hu = function(f, y, R, M) {
    try {
      return R ? f.setAttributeNS(R, y, M) : f.setAttribute(y, M), $i(f) ? (Ht(f), !1) : !0;
    } catch {
      return On(y, f), !1;
    }
  }, zo = function(f, y) {
    return Oe && Be(Yp, y) ? !0 : yn(f) === "attributename" && ys(y, "href") !== -1;
  }, Vu = function(f, y) {
    if (lt(de.beforeSanitizeAttributes, f, null), Nn(f, y)) return;
    const R = f.attributes;
    if (!R || $i(f)) return;
    F = Po(de.uponSanitizeAttribute, F, C, Pe);
    const M = {
      attrName: "",
      attrValue: "",
      keepAttr: !0,
      allowedAttributes: F,
      forceKeepAttr: void 0
    };
    let J = R.length;
    const H = De(Q(f));
    for (; J--; ) {
      const te = R[J], Me = te.name, It = te.namespaceURI, ct = te.value, Qe = De(Me), yt = ct;
      let $e = Me === "value" ? yt : Sp(yt), $o = !1;
      if (M.attrName = Qe, M.attrValue = $e, M.keepAttr = !0, M.forceKeepAttr = void 0, lt(de.uponSanitizeAttribute, f, M), $e = M.attrValue, ko && (Qe === "id" || Qe === "name") && ys($e, Ao) !== 0 && (On(Me, f, te), $e = Ao + $e, $o = !0), zo(Me, $e)) {
        On(Me, f, te);
        continue;
      }
      if (!M.forceKeepAttr) {
        if (!M.keepAttr) {
          On(Me, f, te);
          continue;
        }
        if (!Ae && Be(Xl, $e)) {
          On(Me, f, te);
          continue;
        }
        if (pe && ($e = qr($e)), !Bo(H, Qe, $e)) {
          On(Me, f, te);
          continue;
        }
        $e = qu(H, Qe, It, $e), $e !== yt && Hu(f, Me, It, $e) && $o && Ul(t.removed);
      }
    }
    lt(de.afterSanitizeAttributes, f, null), Nn(f, y);
  }, Gr = function(f, y) {
    Wu(f, y), Vu(f, y), Mn(f.content) && Kr(f.content);
  }, Kr = function(f) {
    let y = null;
    const R = zi(f);
    for (lt(de.beforeSanitizeShadowDOM, f, null); y = R.nextNode(); )
      if (lt(de.uponSanitizeShadowNode, y, null), Gr(y, f), U(y) === Se.element) {
        const M = k(y);
        Mn(M) && (Yr(M), Kr(M));
      }
    pe && Vr(f), lt(de.afterSanitizeShadowDOM, f, null);
  }, Yr = function(f) {
    const y = [{
      node: f,
      shadow: null
    }];
    for (; y.length > 0; ) {
      const R = y.pop();
      if (R.shadow) {
        Kr(R.shadow);
        continue;
      }
      const M = R.node, J = U(M) === Se.element, H = D(M);
      if (H) for (let te = H.length - 1; te >= 0; --te) y.push({
        node: H[te],
        shadow: null
      });
      if (J) {
        const te = v ? v(M) : null;
        if (typeof te == "string" && De(te) === "template") {
          const Me = M.content;
          Mn(Me) && y.push({
            node: Me,
            shadow: null
          });
        }
      }
      if (J) {
        const te = k(M);
        Mn(te) && y.push({
          node: null,
          shadow: te
        }, {
          node: te,
          shadow: null
        });
      }
    }
  };
  return t.sanitize = function(T) {
    let f = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : {}, y = null, R = null, M = null, J = null;
    if (Lr = !T, Lr && (T = "<!-->"), typeof T != "string" && !Qn(T) && (T = Mp(T), typeof T != "string"))
      throw Nt("dirty is not a string, aborting");
    if (!t.isSupported) return T;
    Ze ? (O = cn, F = Pe) : jr(f), t.removed = [];
    const H = Nr && typeof T != "string" && Qn(T);
    let te = [];
    const Me = un;
    if (H) {
      zu(T);
      const yt = Q(T);
      if (typeof yt == "string") {
        const $e = De(yt);
        if (!O[$e] || P[$e])
          throw zr(T), Nt("root node is forbidden and cannot be sanitized in-place");
      }
      if ($i(T))
        throw zr(T), Nt("root node is clobbered and cannot be sanitized in-place");
      te = Jr(T), un = ms();
    } else if (Qn(T))
      y = No("<!---->"), R = y.ownerDocument.importNode(T, !0), R.nodeType === Se.element && R.nodeName === "BODY" || R.nodeName === "HTML" ? y = R : y.appendChild(R), Yr(y);
    else {
      if (!Ft && !pe && !Le && T.indexOf("<") === -1) return K(T);
      if (y = No(T), !y) return Ft ? null : Or ? se : "";
    }
    y && Ye && Ht(y.firstChild);
    const It = H ? T : y;
    try {
      H && Yr(T);
      const yt = zi(It);
      for (; M = yt.nextNode(); ) Gr(M, It);
      H && Pu(T, te);
    } catch (yt) {
      throw H && (zr(T), Oo(T, te)), yt;
    } finally {
      un = Me;
    }
    if (H) {
      if (Oo(T, te)) throw Nt("a node selected for removal could not be safely returned; refusing to sanitize in place");
      return pe && Hr(T), T;
    }
    if (Ft) {
      if (pe && Hr(y), an)
        for (J = _t.call(y.ownerDocument); y.firstChild; ) J.appendChild(y.firstChild);
      else J = y;
      return (F.shadowroot || F.shadowrootmode) && (J = on.call(i, J, !0)), J;
    }
    const ct = () => Le ? y.outerHTML : y.innerHTML;
    let Qe = ct();
    return pe && Be(Up, Qe) && (Vr(y), Qe = ct()), Le && O["!doctype"] && y.ownerDocument && y.ownerDocument.doctype && y.ownerDocument.doctype.name && Be(Vp, y.ownerDocument.doctype.name) && (Qe = "<!DOCTYPE " + y.ownerDocument.doctype.name + `>
` + Qe), K(Qe);
  }, t.setConfig = function() {
    let T = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    jr(T), Ze = !0, cn = O, Pe = F;
  }, t.clearConfig = function() {
    ji = null, Ze = !1, cn = null, Pe = null, G = Ce, se = "";
  }, t.isValidAttribute = function(T, f, y) {
    ji || jr({});
    const R = De(T), M = De(f);
    return typeof y == "string" && (zo(f, y) || !Ae && Be(Xl, y)) ? !1 : Bo(R, M, y);
  }, t.addHook = function(T, f) {
    typeof f == "function" && Je(de, T) && oi(de[T], f);
  }, t.removeHook = function(T, f) {
    if (Je(de, T)) {
      if (f !== void 0) {
        const y = vp(de[T], f);
        return y === -1 ? void 0 : Cp(de[T], y, 1)[0];
      }
      return Ul(de[T]);
    }
  }, t.removeHooks = function(T) {
    Je(de, T) && (de[T] = []);
  }, t.removeAllHooks = function() {
    de = Zl();
  }, t;
}
var tg = qa();
const Ql = {};
function ng(e) {
  let t = Ql[e];
  if (t)
    return t;
  t = Ql[e] = [];
  for (let n = 0; n < 128; n++) {
    const i = String.fromCharCode(n);
    t.push(i);
  }
  for (let n = 0; n < e.length; n++) {
    const i = e.charCodeAt(n);
    t[i] = "%" + ("0" + i.toString(16).toUpperCase()).slice(-2);
  }
  return t;
}
function Kn(e, t) {
  typeof t != "string" && (t = Kn.defaultChars);
  const n = ng(t);
  return e.replace(/(%[a-f0-9]{2})+/gi, function(i) {
    let r = "";
    for (let s = 0, o = i.length; s < o; s += 3) {
      const l = parseInt(i.slice(s + 1, s + 3), 16);
      if (l < 128) {
        r += n[l];
        continue;
      }
      if ((l & 224) === 192 && s + 3 < o) {
        const c = parseInt(i.slice(s + 4, s + 6), 16);
        if ((c & 192) === 128) {
          const a = l << 6 & 1984 | c & 63;
          a < 128 ? r += "��" : r += String.fromCharCode(a), s += 3;
          continue;
        }
      }
      if ((l & 240) === 224 && s + 6 < o) {
        const c = parseInt(i.slice(s + 4, s + 6), 16), a = parseInt(i.slice(s + 7, s + 9), 16);
        if ((c & 192) === 128 && (a & 192) === 128) {
          const u = l << 12 & 61440 | c << 6 & 4032 | a & 63;
          u < 2048 || u >= 55296 && u <= 57343 ? r += "���" : r += String.fromCharCode(u), s += 6;
          continue;
        }
      }
      if ((l & 248) === 240 && s + 9 < o) {
        const c = parseInt(i.slice(s + 4, s + 6), 16), a = parseInt(i.slice(s + 7, s + 9), 16), u = parseInt(i.slice(s + 10, s + 12), 16);
        if ((c & 192) === 128 && (a & 192) === 128 && (u & 192) === 128) {
          let h = l << 18 & 1835008 | c << 12 & 258048 | a << 6 & 4032 | u & 63;
          h < 65536 || h > 1114111 ? r += "����" : (h -= 65536, r += String.fromCharCode(55296 + (h >> 10), 56320 + (h & 1023))), s += 9;
          continue;
        }
      }
      r += "�";
    }
    return r;
  });
}
Kn.defaultChars = ";/?:@&=+$,#";
Kn.componentChars = "";
const ec = {};
function ig(e) {
  let t = ec[e];
  if (t)
    return t;
  t = ec[e] = [];
  for (let n = 0; n < 128; n++) {
    const i = String.fromCharCode(n);
    /^[0-9a-z]$/i.test(i) ? t.push(i) : t.push("%" + ("0" + n.toString(16).toUpperCase()).slice(-2));
  }
  for (let n = 0; n < e.length; n++)
    t[e.charCodeAt(n)] = e[n];
  return t;
}
function $t(e, t, n) {
  typeof t != "string" && (n = t, t = $t.defaultChars), typeof n > "u" && (n = !0);
  const i = ig(t);
  let r = "";
  for (let s = 0, o = e.length; s < o; s++) {
    const l = e.charCodeAt(s);
    if (n && l === 37 && s + 2 < o && /^[0-9a-f]{2}$/i.test(e.slice(s + 1, s + 3))) {
      r += e.slice(s, s + 3), s += 2;
      continue;
    }
    if (l < 128) {
      r += i[l];
      continue;
    }
    if (l >= 55296 && l <= 57343) {
      if (l >= 55296 && l <= 56319 && s + 1 < o) {
        const c = e.charCodeAt(s + 1);
        if (c >= 56320 && c <= 57343) {
          r += encodeURIComponent(e[s] + e[s + 1]), s++;
          continue;
        }
      }
      r += "%EF%BF%BD";
      continue;
    }
    r += encodeURIComponent(e[s]);
  }
  return r;
}
$t.defaultChars = ";/?:@&=+$,-_.!~*'()#";
$t.componentChars = "-_.!~*'()";
function Gs(e) {
  let t = "";
  return t += e.protocol || "", t += e.slashes ? "//" : "", t += e.auth ? e.auth + "@" : "", e.hostname && e.hostname.indexOf(":") !== -1 ? t += "[" + e.hostname + "]" : t += e.hostname || "", t += e.port ? ":" + e.port : "", t += e.pathname || "", t += e.search || "", t += e.hash || "", t;
}
function br() {
  this.protocol = null, this.slashes = null, this.auth = null, this.port = null, this.hostname = null, this.hash = null, this.search = null, this.pathname = null;
}
const rg = /^([a-z0-9.+-]+:)/i, sg = /:[0-9]*$/, og = /^(\/\/?(?!\/)[^\?\s]*)(\?[^\s]*)?$/, lg = ["<", ">", '"', "`", " ", "\r", `
`, "	"], cg = ["{", "}", "|", "\\", "^", "`"].concat(lg), ag = ["'"].concat(cg), tc = ["%", "/", "?", ";", "#"].concat(ag), nc = ["/", "?", "#"], ug = 255, ic = /^[+a-z0-9A-Z_-]{0,63}$/, fg = /^([+a-z0-9A-Z_-]{0,63})(.*)$/, rc = {
  javascript: !0,
  "javascript:": !0
}, sc = {
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
function Ks(e, t) {
  if (e && e instanceof br) return e;
  const n = new br();
  return n.parse(e, t), n;
}
br.prototype.parse = function(e, t) {
  let n, i, r, s = e;
  if (s = s.trim(), !t && e.split("#").length === 1) {
    const a = og.exec(s);
    if (a)
      return this.pathname = a[1], a[2] && (this.search = a[2]), this;
  }
  let o = rg.exec(s);
  if (o && (o = o[0], n = o.toLowerCase(), this.protocol = o, s = s.substr(o.length)), (t || o || s.match(/^\/\/[^@\/]+@[^@\/]+/)) && (r = s.substr(0, 2) === "//", r && !(o && rc[o]) && (s = s.substr(2), this.slashes = !0)), !rc[o] && (r || o && !sc[o])) {
    let a = -1;
    for (let p = 0; p < nc.length; p++)
      i = s.indexOf(nc[p]), i !== -1 && (a === -1 || i < a) && (a = i);
    let u, h;
    a === -1 ? h = s.lastIndexOf("@") : h = s.lastIndexOf("@", a), h !== -1 && (u = s.slice(0, h), s = s.slice(h + 1), this.auth = u), a = -1;
    for (let p = 0; p < tc.length; p++)
      i = s.indexOf(tc[p]), i !== -1 && (a === -1 || i < a) && (a = i);
    a === -1 && (a = s.length), s[a - 1] === ":" && a--;
    const w = s.slice(0, a);
    s = s.slice(a), this.parseHost(w), this.hostname = this.hostname || "";
    const _ = this.hostname[0] === "[" && this.hostname[this.hostname.length - 1] === "]";
    if (!_) {
      const p = this.hostname.split(/\./);
      for (let x = 0, D = p.length; x < D; x++) {
        const I = p[x];
        if (I && !I.match(ic)) {
          let k = "";
          for (let m = 0, g = I.length; m < g; m++)
            I.charCodeAt(m) > 127 ? k += "x" : k += I[m];
          if (!k.match(ic)) {
            const m = p.slice(0, x), g = p.slice(x + 1), v = I.match(fg);
            v && (m.push(v[1]), g.unshift(v[2])), g.length && (s = g.join(".") + s), this.hostname = m.join(".");
            break;
          }
        }
      }
    }
    this.hostname.length > ug && (this.hostname = ""), _ && (this.hostname = this.hostname.substr(1, this.hostname.length - 2));
  }
  const l = s.indexOf("#");
  l !== -1 && (this.hash = s.substr(l), s = s.slice(0, l));
  const c = s.indexOf("?");
  return c !== -1 && (this.search = s.substr(c), s = s.slice(0, c)), s && (this.pathname = s), sc[n] && this.hostname && !this.pathname && (this.pathname = ""), this;
};
br.prototype.parseHost = function(e) {
  let t = sg.exec(e);
  t && (t = t[0], t !== ":" && (this.port = t.substr(1)), e = e.substr(0, e.length - t.length)), e && (this.hostname = e);
};
const hg = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  decode: Kn,
  encode: $t,
  format: Gs,
  parse: Ks
}, Symbol.toStringTag, { value: "Module" })), Ha = /[\0-\uD7FF\uE000-\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/, Va = /[\0-\x1F\x7F-\x9F]/, dg = /[\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/, po = /[!-#%-\*,-\/:;\?@\[-\]_\{\}\xA1\xA7\xAB\xB6\xB7\xBB\xBF\u037E\u0387\u055A-\u055F\u0589\u058A\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0609\u060A\u060C\u060D\u061B\u061D-\u061F\u066A-\u066D\u06D4\u0700-\u070D\u07F7-\u07F9\u0830-\u083E\u085E\u0964\u0965\u0970\u09FD\u0A76\u0AF0\u0C77\u0C84\u0DF4\u0E4F\u0E5A\u0E5B\u0F04-\u0F12\u0F14\u0F3A-\u0F3D\u0F85\u0FD0-\u0FD4\u0FD9\u0FDA\u104A-\u104F\u10FB\u1360-\u1368\u1400\u166E\u169B\u169C\u16EB-\u16ED\u1735\u1736\u17D4-\u17D6\u17D8-\u17DA\u1800-\u180A\u1944\u1945\u1A1E\u1A1F\u1AA0-\u1AA6\u1AA8-\u1AAD\u1B4E\u1B4F\u1B5A-\u1B60\u1B7D-\u1B7F\u1BFC-\u1BFF\u1C3B-\u1C3F\u1C7E\u1C7F\u1CC0-\u1CC7\u1CD3\u2010-\u2027\u2030-\u2043\u2045-\u2051\u2053-\u205E\u207D\u207E\u208D\u208E\u2308-\u230B\u2329\u232A\u2768-\u2775\u27C5\u27C6\u27E6-\u27EF\u2983-\u2998\u29D8-\u29DB\u29FC\u29FD\u2CF9-\u2CFC\u2CFE\u2CFF\u2D70\u2E00-\u2E2E\u2E30-\u2E4F\u2E52-\u2E5D\u3001-\u3003\u3008-\u3011\u3014-\u301F\u3030\u303D\u30A0\u30FB\uA4FE\uA4FF\uA60D-\uA60F\uA673\uA67E\uA6F2-\uA6F7\uA874-\uA877\uA8CE\uA8CF\uA8F8-\uA8FA\uA8FC\uA92E\uA92F\uA95F\uA9C1-\uA9CD\uA9DE\uA9DF\uAA5C-\uAA5F\uAADE\uAADF\uAAF0\uAAF1\uABEB\uFD3E\uFD3F\uFE10-\uFE19\uFE30-\uFE52\uFE54-\uFE61\uFE63\uFE68\uFE6A\uFE6B\uFF01-\uFF03\uFF05-\uFF0A\uFF0C-\uFF0F\uFF1A\uFF1B\uFF1F\uFF20\uFF3B-\uFF3D\uFF3F\uFF5B\uFF5D\uFF5F-\uFF65]|\uD800[\uDD00-\uDD02\uDF9F\uDFD0]|\uD801\uDD6F|\uD802[\uDC57\uDD1F\uDD3F\uDE50-\uDE58\uDE7F\uDEF0-\uDEF6\uDF39-\uDF3F\uDF99-\uDF9C]|\uD803[\uDD6E\uDEAD\uDED0\uDF55-\uDF59\uDF86-\uDF89]|\uD804[\uDC47-\uDC4D\uDCBB\uDCBC\uDCBE-\uDCC1\uDD40-\uDD43\uDD74\uDD75\uDDC5-\uDDC8\uDDCD\uDDDB\uDDDD-\uDDDF\uDE38-\uDE3D\uDEA9\uDFD4\uDFD5\uDFD7\uDFD8]|\uD805[\uDC4B-\uDC4F\uDC5A\uDC5B\uDC5D\uDCC6\uDDC1-\uDDD7\uDE41-\uDE43\uDE60-\uDE6C\uDEB9\uDF3C-\uDF3E]|\uD806[\uDC3B\uDD44-\uDD46\uDDE2\uDE3F-\uDE46\uDE9A-\uDE9C\uDE9E-\uDEA2\uDF00-\uDF09\uDFE1]|\uD807[\uDC41-\uDC45\uDC70\uDC71\uDEF7\uDEF8\uDF43-\uDF4F\uDFFF]|\uD809[\uDC70-\uDC74]|\uD80B[\uDFF1\uDFF2]|\uD81A[\uDE6E\uDE6F\uDEF5\uDF37-\uDF3B\uDF44]|\uD81B[\uDD6D-\uDD6F\uDE97-\uDE9A\uDFE2]|\uD82F\uDC9F|\uD836[\uDE87-\uDE8B]|\uD839\uDDFF|\uD83A[\uDD5E\uDD5F]/, Ga = /[\$\+<->\^`\|~\xA2-\xA6\xA8\xA9\xAC\xAE-\xB1\xB4\xB8\xD7\xF7\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02EB\u02ED\u02EF-\u02FF\u0375\u0384\u0385\u03F6\u0482\u058D-\u058F\u0606-\u0608\u060B\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6\u07FE\u07FF\u0888\u09F2\u09F3\u09FA\u09FB\u0AF1\u0B70\u0BF3-\u0BFA\u0C7F\u0D4F\u0D79\u0E3F\u0F01-\u0F03\u0F13\u0F15-\u0F17\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8\u109E\u109F\u1390-\u1399\u166D\u17DB\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u1FBD\u1FBF-\u1FC1\u1FCD-\u1FCF\u1FDD-\u1FDF\u1FED-\u1FEF\u1FFD\u1FFE\u2044\u2052\u207A-\u207C\u208A-\u208C\u20A0-\u20C1\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u2140-\u2144\u214A-\u214D\u214F\u218A\u218B\u2190-\u2307\u230C-\u2328\u232B-\u2429\u2440-\u244A\u249C-\u24E9\u2500-\u2767\u2794-\u27C4\u27C7-\u27E5\u27F0-\u2982\u2999-\u29D7\u29DC-\u29FB\u29FE-\u2B73\u2B76-\u2BFF\u2CE5-\u2CEA\u2E50\u2E51\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u2FF0-\u2FFF\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u309B\u309C\u3190\u3191\u3196-\u319F\u31C0-\u31E5\u31EF\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0\u32C0-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA700-\uA716\uA720\uA721\uA789\uA78A\uA828-\uA82B\uA836-\uA839\uAA77-\uAA79\uAB5B\uAB6A\uAB6B\uFB29\uFBB2-\uFBD2\uFD40-\uFD4F\uFD90\uFD91\uFDC8-\uFDCF\uFDFC-\uFDFF\uFE62\uFE64-\uFE66\uFE69\uFF04\uFF0B\uFF1C-\uFF1E\uFF3E\uFF40\uFF5C\uFF5E\uFFE0-\uFFE6\uFFE8-\uFFEE\uFFFC\uFFFD]|\uD800[\uDD37-\uDD3F\uDD79-\uDD89\uDD8C-\uDD8E\uDD90-\uDD9C\uDDA0\uDDD0-\uDDFC]|\uD802[\uDC77\uDC78\uDEC8]|\uD803[\uDD8E\uDD8F\uDED1-\uDED8]|\uD805\uDF3F|\uD807[\uDFD5-\uDFF1]|\uD81A[\uDF3C-\uDF3F\uDF45]|\uD82F\uDC9C|\uD833[\uDC00-\uDCEF\uDCFA-\uDCFC\uDD00-\uDEB3\uDEBA-\uDED0\uDEE0-\uDEF0\uDF50-\uDFC3]|\uD834[\uDC00-\uDCF5\uDD00-\uDD26\uDD29-\uDD64\uDD6A-\uDD6C\uDD83\uDD84\uDD8C-\uDDA9\uDDAE-\uDDEA\uDE00-\uDE41\uDE45\uDF00-\uDF56]|\uD835[\uDEC1\uDEDB\uDEFB\uDF15\uDF35\uDF4F\uDF6F\uDF89\uDFA9\uDFC3]|\uD836[\uDC00-\uDDFF\uDE37-\uDE3A\uDE6D-\uDE74\uDE76-\uDE83\uDE85\uDE86]|\uD838[\uDD4F\uDEFF]|\uD83B[\uDCAC\uDCB0\uDD2E\uDEF0\uDEF1]|\uD83C[\uDC00-\uDC2B\uDC30-\uDC93\uDCA0-\uDCAE\uDCB1-\uDCBF\uDCC1-\uDCCF\uDCD1-\uDCF5\uDD0D-\uDDAD\uDDE6-\uDE02\uDE10-\uDE3B\uDE40-\uDE48\uDE50\uDE51\uDE60-\uDE65\uDF00-\uDFFF]|\uD83D[\uDC00-\uDED8\uDEDC-\uDEEC\uDEF0-\uDEFC\uDF00-\uDFD9\uDFE0-\uDFEB\uDFF0]|\uD83E[\uDC00-\uDC0B\uDC10-\uDC47\uDC50-\uDC59\uDC60-\uDC87\uDC90-\uDCAD\uDCB0-\uDCBB\uDCC0\uDCC1\uDCD0-\uDCD8\uDD00-\uDE57\uDE60-\uDE6D\uDE70-\uDE7C\uDE80-\uDE8A\uDE8E-\uDEC6\uDEC8\uDECD-\uDEDC\uDEDF-\uDEEA\uDEEF-\uDEF8\uDF00-\uDF92\uDF94-\uDFEF\uDFFA]/, Ka = /[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/, pg = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  Any: Ha,
  Cc: Va,
  Cf: dg,
  P: po,
  S: Ga,
  Z: Ka
}, Symbol.toStringTag, { value: "Module" })), gg = [
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
function mg(e) {
  return e === 0 || e >= 55296 && e <= 57343 || e > 1114111;
}
function _g(e) {
  return mg(e) ? 65533 : e >= 128 && e <= 159 && gg[e - 128] || e;
}
function bg(e) {
  return e - 1 >>> 0 < 127 || e - 160 >>> 0 < 55136 ? String.fromCharCode(e) : String.fromCodePoint(_g(e));
}
const at = /* @__PURE__ */ (() => {
  const e = new Uint8Array(127);
  let t = 0;
  for (let n = 33; n <= 126; n++)
    n !== 34 && n !== 36 && n !== 92 && (e[n] = t++);
  return e;
})();
function yg(e, t, n, i, r, s) {
  const l = e.length, c = s * 90;
  let a = 0;
  const u = () => {
    const ee = at[e.charCodeAt(a++)];
    return ee < s ? ee : ee * 91 - c + at[e.charCodeAt(a++)];
  }, h = n - i, w = n + r, _ = new Int32Array(w);
  _.fill(-1, i, s), _.fill(-1, s + h, w);
  const p = new Int32Array(w), x = new Int32Array(w);
  function D(ee, re) {
    let G = 0, se = re;
    const Ce = re + ee;
    for (; se < Ce; ) {
      const Ee = at[e.charCodeAt(a++)];
      if (Ee < 89)
        G += Ee, _[se++] = G;
      else if (Ee === 89) {
        let we = at[e.charCodeAt(a++)] + 2;
        for (; we--; )
          _[se++] = ++G;
      } else {
        const we = at[e.charCodeAt(a++)];
        G += 89 + // eslint-disable-next-line unicorn/prefer-minimal-ternary -- branches read a different number of side-effecting input bytes
        (we < 90 ? we * 91 + at[e.charCodeAt(a++)] : at[e.charCodeAt(a++)] * 8281 + at[e.charCodeAt(a++)] * 91 + at[e.charCodeAt(a++)]), _[se++] = G;
      }
    }
  }
  D(i, 0), D(h, s);
  const I = new Int32Array(r * 2);
  let k = 0, m = 0;
  function g(ee, re) {
    for (let G = 0; G < ee; G++) {
      const se = re + G, Ce = u(), Ee = u();
      I[m * 2] = Ce, I[m * 2 + 1] = Ee, m += 1, p[se] = k;
      const we = (_[Ce] < 0 ? x[Ce] : 1) + (_[Ee] < 0 ? x[Ee] : 1);
      x[se] = we, k += we;
    }
  }
  g(r - s + i, s + h), g(s - i, i);
  const v = new Uint16Array(k);
  let B = 0;
  for (let ee = 0; ee < m; ee++)
    for (let re = 0; re < 2; re++) {
      const G = I[ee * 2 + re], se = _[G];
      if (se < 0) {
        let Ce = p[G];
        const Ee = Ce + x[G];
        for (; Ce < Ee; )
          v[B++] = v[Ce++];
      } else
        v[B++] = se;
    }
  const U = new Uint16Array(t);
  let Q = 0;
  for (; a < l; ) {
    let ee = at[e.charCodeAt(a++)];
    ee >= s && (ee = ee * 91 - c + at[e.charCodeAt(a++)]);
    const re = _[ee];
    if (re < 0) {
      let G = p[ee];
      const se = G + x[ee];
      for (; G < se; )
        U[Q++] = v[G++];
    } else
      U[Q++] = re;
  }
  return U;
}
const wg = /* @__PURE__ */ yg("!}.&u%}'&}*'~!6*)%&,~!J~!J~%L~y<~!R,~~%Lu~~#GD~~#|)1#%}^%}2%+#.##%##%}&%##%'#%##&%#%#'%#&#%#&#'#%%#&#%##%#)%''%&%#%#'%#%%#%%}%%%#%#&(23#%%#&-%0%('1#(##%#'##+%'*.:1}#%#6-+(%'%%#%%%}#L'2351&('%}&/N'(0(/*-%(%%}#'+&T%7.2}#&%&#%#36/5##%&%%#&#%%#))2%%##%&&'0~!#*+&'%1~!%).'3q?&%'1~!.##%6(~!+%%%(Gw'rT~!E#<nA%#jZ~!H%(~!42##~!*31&~!G%U~#)5~#`3~!J~!Z~%]~%Y~%C~!q~!u~#kz~%#~!6'~!D~!U~!?~#T~!c%~!G#'~%7|~!G~!J~!G&~#pb~(Df}#%}*&}#%##%##%##&#-}&'#'&%#.++}%mI,#,@&(}*%}*'%&##&#%##%}&0}#.},U},%}+%}&%}#%##&}B%(}(%}+%)})%##%#&}&%##%&}<%}>%#%&}*%}(%}9%}/%})%}*%}*%}?&}&%}3%}&*#%})%#%#)}#&#-#+*%E%%'%'#%}#*V##&##I}#&&##%&%#&&Qf%%))w/0+&%#(#.%-''''++++7}>%4'',##1,#%#&%##&#'##&#*#9)%&%}#*}%,#+P(%A&%#'&##wSD',9E00#y#@}(+}&%&>~!#~!X}#*}(&&}(&}(,%}%&#+&}#&}I%#%}%)#(},'%#*}4%%#%}(''}#/##(##),%-##%%)#&}(.}&%#&}%%}*&#%},&&}&%}#%*'#%})%}D&}&%}-&}6&#&}-,%}#%})-(~+`~,=?~I9'9%~!,#%})%})%}@%}?%}(~!?~#<~#pP~#BG~#=1#%K+~#?#~%;)~#A~#mF1~#A'~'X%'~#lR~#N~'N~#r~#m#-~#i'?%#'%~#B%##%,%#~#_%#0%~#]732~,w~2+#:&#%&'0%&>%}#>##F+)#%&&#(+_}4&}-%}(&}@&}O7Fdf0@+/v4}&WU##&/0#&'('B#%}.%}'+#%}#%%&#&%#%##+#&#)#6#'#.},%}c%},%#%##%&#&%#&~#>'*-.%##%##%}#%%}%'~#)D1}#%*&~#_%%'(~#S2%'.}#~#=##*'*-%}&'%'##&&~'E%.#&~#M4}%%##&'%#~#O1##%&#'+~#<B%##%%'%+~#;#@%}#&%#&&%#(~#H1}'%'##&&~#?A}&'~#D#%32}'&&&&~#[}'(#%}'~#;C})&}%%#%~#=&%,3}%'(#%%~#^'#&&)#%'~#Y%-~#d-%'~#^%%&#&&&}#~#b~2t*&'~&(~&@~0%~e~3}%*''0})&}+~!9##-}#%-hD*)1fC#%/&/fB#40~!+#)*4~!+~!K'&:~!/*7~!.#~!H~!L':~%x&~!H#~!*~%1~!I#~!+A~#p'~!F~~#-#~,,(~.Z~!V~%;'B'mq-W~!N~%I%#&&#&}#%},%%}'%}+X#%}#&}(%}'%}<%}#%}%%'}'%}:~![)9@~%>~#UA%-%##&~!C%~!-.9:~!1~!-^2/:a~!y,D*J#-5)/4~%23,~#G~!L1~!0X3`~!2+~!!0-~&E~!W~!o,>Y&]~%cZx_&~#O*9#A#'#+I'%#)~!0B*-5A+-((F&*M#)(-7-5+'-3a5Vi~!Y~!?+[)%3),ERHm~!+:D,VG.+)?fB%%*(%)'(#&80%1'8`K8?`+'Z#&O&'H5#*9)A%%5&3))0%39+.*7#()&&*=4@**L)<'_&*+..;(#*+)./&0#3)%')-8(4ixD(&.}%,('aI:,)%,k2231T)I'#/-W7,/'Q#.'Y24+h')37</31&83##&0#),H(?'&?/1##%#&&#%''-%&&&#(&''&#.-'%#%%(,')*'&#&#'##%(%(#%('#&##%%%%('%#%#%%#%#&%##h>w+v<ayvyvcg.uuhKr}g/v|g>u9i[~>g5uI~=RvdwEg;v/g;uk!!TTSx]@RT!U!#!@VBRUU!'UTe-d0c`e&gSdicedFcrdTaqb.kYcAohdYd@a3e+d}dMdtd.aJ#bqcK`dle/e.e'dwdPdodddjbEb}ogd^ofdpduc6j?l%d{drdqc)d7bacOdQ%T#Y)X.sR[yH>6Vyv3[xwLu>vo'!*.[yBacahoj>6Rew3[xqdZa#!a&#^(X-[yG>6Vyu3[xvg3sEr|g.u/Ri9db0T#^(Xa)!-[y;>6Vylg4wKs{JwNZt3@3r=c4Z([xlg;wKt!cpq's@v7A'*a(a+!-a#[y<3Dt?3Dt'>6Vym3[xmg9rxsNJwLZt4~?r?db1T#`-!(Xa,!0[yS>6Vz%NuQs.g4wKtnJwNZtS@3r>c4Z([y%g;wKtrdga8!a(!#&T*Y-Xa#!a0<or[yc3Dtq>6Vz43[y3JwNZtf@3s!Ju}!%Dti:pm3c_%X#tjB5pkd6q!r]u?voC'*-a.a2!0a&a+[yI3DtI3Ds~3DtH>6Vyw3[xx;:s#~<5pKJwNZtE@3r~d`a)!a2T#a.(!+U.X1[yT3Dt`3Dtv>6Vz&3[y&g9rxwzcxstPu.<rAJwLZtT~?r@dZa%!a.&^*Za(/Reu[ya>6Vz23[y1g3sEr}wkg{NuQRg{ci(U#5@b`~,cg#U(2WnH5wugcRh7dX#T(Y,a'Ta!!a,[yZ<]mj>6Vz,3[y+Pv#5ReZKu+=,%!H}7ABwkaS?Rh:BcW(X#<]mrj:ubv/ARekdg%!(!a.*Ta(Y.X1!#sP>Rl*Dt6[y>>6Vyo3Wf*jOvuumvuRgRJuq*!:9<B@bX~3jVv&v@s@5Re[d/rQt{uAvo&a&a*)a2!,0Wf!3Dt0=Bs'>6Re}3[xy~<5s%JwJZt1~Gs)c;&!#2sJkNuXvzq7rxu,Re8dka4!a8(aEZ+a@Y.X1Xa)[yd=Bs(3DtP>6Vz53[y4cX#X&Re:avRe9~<5s&JwJZtQ~Gs*i^rzvdRg+Jv{%!2sbB@bX}kdga,!Za?&^*T1/!a'Dt+[y6>6Vyf3Wf%g/u;s4hGu6?Rh-JvZ,!c%#&RoX54Rivj7uyvf8RgTKvZB%*!2sGh<vu5Rgq<=C::9bb~#dZ#T&Ta6Y.X*Dt>[y93Wf)coZ(T,6VyifluvRgC@95@B@bX~/hFu34cC#T,k/unq8w8Q5RkUklwQuzunq8w8Q5Rk8d/rJu?v8w9)-&!a0a;a&aIWejg3sEr/h1s<DtDJvyZqY5aws3Jvy!&Wei~Hr1:au5@Bag>23E~5c:Z&bX};kKv?w&unuVu5Rjc;>bs)#~@:Rh.=ay<a]C;b`}Vd6s/t{uAvoaxa()!a,a7%-a#a2Dt,[yF2Wo[>6Vyt3[xuNuPRi&NuPwpi#RoWh?vf8Ri%Jv]!%Ri:KvxD!.'2WeAjZu`q9rxu,Re7woeAg-unLq(qA_/*2Wg_g3u5q^9:4E}/jTrxrzv=Wkkd~0UX#^^Xa-a1a5T&a=U1a'*aEa]!a*aPaA-adok[y54Rn>;:p3~Dp5g9rpsFNvZqjg3uJp4~<5p0Pw;5qlJwNZt*@3p1Pw:5p/Ou!5p2JvG'!6Vye=<qnJvh_[xhg3v,Rh3kOwOw-sDuev/Re^dha[a%!%!a+#Ta7)-5TaCaO!aka!a)sf[yb2>Rl!9ARiq5E}Qg=ucRkBE|oJrJ_@Wk~@Wk{JrJ_@Wk|@WkyJrJ_@Wk}@WkzJvO_[y2g-vMRmiKuYC!)&>Ri;>Ri<@3RkNc](X#@9Rk=g5vuRmhKvDB!+'=]meg3u4Rmgd)#Y'Vz3CARmfd`a+!%T'!+#Ta1Ta6TaM-sTDt9[yA9sYd'%Y#s[[xpj:ueunaXRgEjRq,v-vuqdd2'`#6Rev<32@5>:2<E}5xIo9a*X#Y(;5RePJvD_g>vyRgNj8w)v8<wggs:RgXiZt|vjx,hSq3ah!-(~@:Ro/Ou!5RhWj^v(pyw8unRhUdx-UY#^Ua.a3a70!)%UX1TaDa)'omRiRRhE[y:3Dsz=Br,>6Vyj3[xkg6ruwjcqsrPw;5r*Ku]D'Zt-@3r(~?r.i[vwv]dU1a--U#`a4(g/vsRhPOu!5RhLj:rmu9Wo!~@:wdh@g/vsRiTjXuvvNr}:RhBj^v(pyw8unRn]dz1UYa'a+^Y(!aETZalaRY.Ta?a4[yDJw1!#qLsW>6Vyrfzq-pLflpwRe|Js>%!Dt@3Dt&Jvy_[xs~HrnjMuwpsw'RecKu+D#'!t<~Grl~?rjg5u-x,gwp{ah!-(~@:Rg~Ou!5Rh'jXuvvNr}:Rh#cW#X/c;&!#2sLi[v7u7RgpJv)(!iLrxu,Re6j7v@s@5Se[e7d`aW!Za(a`T.a#!a3!&aDa-!9)Dt_=6s+3[x~~DR|h~DS6avhGun5RkZj3w)v-]mkKunB!&*]kb97R|i<ARk<c:Z(6Vy}Juh'!wziMRoS:F|vkLuauJv5vtvQRh1d='T+Y#VyO~DR|jcF#T'7R|g97R|kJv3'!ay<Rj,Jvh&!:ReXcsa6*a+#a#_aIRf9aLRf?c,Z&Rf5Rf7c.Z&Rf;Rf>cQ#%T'p-Rf8Rf=ct#%'(*!,p,Rf4p+Rf6Rf:Rf<d~'Ua%U*^UYa(!a,-!#a4YaTalaEX0a8a<Weo3Dt/3Dsx=Br93Wen~Dr;~<5p<JwNZt2@3p=Pw:5p;Ou!5r3c7&!#:p>3Ds}KvGB)_6Vyk2sM=<r7x'eovA(!hFu1ARf}cV#X&@r5j6rvwQa^Rf3c=Za'wkghJv__g;unRggA53B9=b^}%j6uduo5Jq;!(hIv%2Re`Ou4ARe_e%a#^^^Xa&!a*a2!&a6YaP!*ad!#a:aE/5Rn?[y@>6Vyp;:pE~DrY~<5pBJwNZt8@3pCh=rt3rWPw:5pAJup_[xoNuPpF9c!#'45pD5ARn)d8#X'X*3@rU72s]h>v<<sSjJpqvewOJq/(!hNw'5ReBk0s2u3w/w'5ReE5@Jq.!a+JQ!&WeU23d(#Y&RjG5]jBk!u7w&u0udARjEe#+^^^Ub#!a2/a`Z(agT1!a-a;|@TaG!aS[yV=Re~fow'RguNuPRe?bz#'>RoUWeL>:Cbb|?JwPZtVg6ruRmzJvD'!6Vz(g/vmRh~Jvy_[y(g9voRgyx*cy(#2>Ri2B9b]~9kIw9u7rluJu3Rg]dI#a%UY'@=p%CAx.gQZ&RhwwygtRm{x5g_Z'+ABqR9Woa=Bp&dV#^*Xa'!&@o{g4v]Rk;Jv{!%Rk[wkkiA5RkiwwfUB=x,fUuqC&*!>RfTg8v0RfV~ARfSd;rJsAuAv9wR'ae+/aO!a@aza/a#[yQ@Wg!2Wemg3sEr0JvB_g>uvReWg2v+Re=KupB_+[y!2AbY~-~Hr2AJwD!(h<~El>h<~El?Kun@+_:9b`}Kg-v/Ri3g;vtwyk_9]k_d=&T#*U.6qh@Ab`|K9:H|CJv[!&3Dtex'fDwC%!Rf[9WlMd[(^X,!a%Z06Vz!@WgBg=v~Rgvg,QRe@awd,#Y+jTv|Q~EfWj]uNr|~FRfXdy#Y&^Ua%!aO.!(a)Ua;=!a@aKap!a-,a!Ta]a[rSa]p?[y82sK=Bq~;:p:~<5p8Pw:5p7d'#Y'Wf(;RnRi[u4w&RgJJvG'!6Vyh=<r#ijuuv/sIKuYD'ZtG@3p9~Gr&d2#`(g<vtRgFj`u5w&rqpxRf2CJuY!+:wfnTOu!5Rg}jNs1ucv&RfwJvA!&3@q|BDcC#T,k/unq8w8Q5RkTklwQuzunq8w8Q5Rk9dga#!a'!a=#a0!:+Tb*b@aO.a4!aba8aFJv^}?!VyR~Dr<g;u%Rn.~<5p[x'e`wNZtR@3p]Pw:5pZhNvjBp.woe_g5u-r4JwF!%DtO3:ooc7&!#:p^3DtpLuGw(!+%)Dtk6Vz#2sd=<r8d'#Y([y#<x3gJt`w@!)%}MRiowzikRij=]ilxAf3,U(#B2Rf#g0v-Rm[ck{`U#]giKv3>)!&6Ri154s,KuGB_%@r68r:dJ|t`#X(9<E|u2@H|rx3gJu?w'!+'1Nu7Reg4=H~+9<wxgY95Rm]xLggZ-`(X}U2:Ri4h<uOawRmsJv__5@bb{jbV~3dka#a'a]!,#a+U=a>b6a3b%!/aKa/)!arwve^VyJ;:pR~DpTg3uJpS~<5pOPw;5qmPw:5pNOu!5pQJvG'!6Vyx=<qoJvA!{~Jup!%@qk7Rn/KvyD!}''[xz;>wkh'?Rh,x8gyt`w5D!&),(SgyccRgztJ@3pPB5p#d'(Y#<]mmifubw&RgoJvE&!82s^JvF&!8Rf,ADb]~;x=h'rNu]vK!,%'*0RnORh)4Rh*AqQg-vaRnNg;wHwkh'ba~4cE#Ta*x3gctyw@'!+%RnFRnD<4Rn@hFvK5RnCxWg[#`&a0Ua()`1Rm75Rg[c]%X#qi8Rg^NvdRj>BwzgZauwji7Rm6A4wgg]d1#&(*,.0a#Rm;Rm<Rm=Rm>Rm?Rm@RmARmBe%#^^^Xaea?aC/b+(,!a+a#!a/!>a&Ta<aKbD!2wphBRnk[yPw}hE|.=Br-3Dtm>6Vy~g6urRf.x,hPrNav!%'RnqRo%Ro#Nu;q[Pw;5r+JwNZtM@3r)d'#Y'Weh;xChL#`&RnmRnoKu}>%(!Rne~Bs-;2wjcussJv+'!aYSO}6@B<5?ba~8LrNvj!.%*ROwungw~ng~:9;Ri^>wtnig;wHRnixDh@|(UZ.x1h@|)!#:2<H|*xHn]#-UX'3Ro)z=iT}6ARns=Bwsn_wpnaRncw]aR(#UXa&Ua*a/=]iPd'#Y&Ro'WnXf{QRm2hNvj]nZd`'T~&1`{|`#9b]{}c:'!#Wl{>@=be}]?cl{{U#:5Abb}Jds#^YaF!a*b4a#a3aPa>&Tb!bH!*a_!Eau?/a&RjY<]gj>6Vz*;:pe~DrZg,QRj1JwNZtX@wihspcJvZ&!VyX9WmOJu|!|N2WmHJvh&!]ht~Bpbcn&T(!#RmQ<s7Nu;padH#X'`+WmJ@>RmKCARhnKup=!)&Wf+:RhqNuPpf9c!#'45pd5AwghpARn(Ls@w!%,)!RmP@Wfe<E|IJva!&WmNg8vsRmLd`*.`#Y'Xa!axRn*]hrA8Rhug5s@rXg8u!RmMd8#X'X*3@rV72smdI*#UY&RmICARho~GsgxVgd)Ta'U-Y&Xa!T#RnEWnA@Wffg1uDRi0hFvK5RnBxGnG&#`%owp)@wsf+bX}Ze-*1!a*^^^Ua|!#a.aq&Ya2!a>.a6!a:aO`aJDtL[y`@Wg#>6Vz12@wzoYRoZNuPRi!NuPRhzg=ucRi,@=b`{Yg=ucRi-ACJvB!&Sh[ebSh]ebi`wUuFRm4Jw2_[y0JvB!.<Ju(!&SoG}6Shd}6<Ju(!&SoH}6She}6Kur@._g5vHRieJvx!{L2G{Kx6gd'T#?Rh82Wi5cZ#X(g1w)Rm5dW-Y(Ta#!a)!#aYa=wnfE=su2>>bU{0j9udv:<svj8uQv-7RgHdE%#^'sq9sp=>Bb_{TJv`!&g/r|snj6v(us5d,#Y(56H}[978H}]Jw5!&g1rushJvB!+j;v{u5?zDhd}6}bj;v{u5?zDhe}6}ce*#`(^^^a[aea!=!a6a*aoXb1a.!aAbL!b>,b'aL!aV@Wf|2Wlg3[y/JwNZt^@3piPw:5pgJunZou3@rsJva&!Vy_g<v~Rm#JvG'!6Vz0=<r{Ju{%!:pj@WfsiXuJu3Rm:JvZ&!WfA~Bph@c4Z&Dtwax5rubx(#:awRk1@d,#Y&RfjRfid1#,Y(@Wfp2Wlrg5s@ryKu[@!,'=]ig9wlk?Rk>g5u-rqJvy'!@9RkQcH(T#=>Ri~@<wkj(Wj(KuZB*!&<7rw@9RkRcH(T#=>Ri}@<wkj)Wj)dg(Ta2Xa9X#`-!a*CARhg@@=I}d9x;c~#X%so=<sj>2@@=aybb}XjWv0Q~EfEj3vLv;<d,#Y(56H}`978H}_dgaPaFa'a/!#a3Y0a_a;a|!1(a7-[yE3[xt;:pJNvZrrg3uJrvJwNZt=@3pIh=rt3rxPw:5pGOu!5rpJvG'!6Vys=<rz@c4Z&Dt(ax5rtJvZ!&~BpH@wsfNg-vaRlNci*U#=<wei<F}a5@Jq.!a*JQ!%@qZ23d(#Y&RjH5]jCk!u7w&u0udARjFd/prq=tyvpaEa(a:.!a1aZ(@@=I}:9wpd%=<sX55w_h}@@=I{t=ay<aU@@=I}T=ay<2@@=I})?C9:9au@9Cb]}DP~=x-fAZ(2Wl1=ay<aU@@=I}>5@d##Y+jTv|vV~EfFj]uNpn~FRfGdgaK!Z2&!a8a-Tb({E!acTbM*!a(DtY[yYd'%Y#sl[y*hHvh>Re5x2c{Z}.j4uCvcawRiMd+#X+_x&d!},<5RkX;2Hzw@x,gavfB-!{CcF&T#Roe;RodwWbBg5urRgaKvHC*_6Vz+<4opieuew&Rmq@d]&Y)X,T#X0Rh}<BqP=4qS9:ReMg/ujReNJw0!/<Jui%!bd{kawwnemRelAxUa?a3#*.&UX(Ya+a/RhvRnQ<o}9Wmtd-#Y&RgSRmw9;Rmxay=Rmyg-vaRmuxEhSrNu,v-voC!%(aR.a(a7+1Ro1>Ro5CE{A9b]{@;5x#eO{:g;urRi+KrNA!%(Ro3>Ro79;Ri_Ku@>{;&!x%gX|{KunA_+g5QRj/g3u5Rj#g>uERj%wio/xRhS&!,!#^1U}wba{8>>@=be}qC@:D5ba{7Ku+A&!}x?ba}t>>@=be}se(aA^^^Uat!b0#{pa+awUazbGa#aLb9bgaWac'a5TbS=Br!d1#`%scp_Jvl!#rT>Re0JvX&!VyN=H{Fcm#U&:pY=ReaJv2&!]h0=]nUJvG'!6Vy|=<r%JrM_=]h2@Wlud'#)U'Wf'b]{i=]h/Jvh!&~BpWg=v]RnMx+ny#'Nu;pVwjnu=]nwxJnx,T#`&Reqwjnt=]nvieu9vrRjLLuYwP(#+!th@wih5pX~Gr'g5v/Rh4KunA'!-CARnP@wwiN:Rm_9x'cvw>!|l=<saKvAA!0&3@q}>w^e1bp#&Re2Re3BDx7gH#T|f5H|eKuZ>!%(:qNAH{]Jv6!+3B2B9=b^{X<5<B92:E{ZLvhwA(a;a%!igQuyRmad+#Y}m@3Rh5d8#X'X*:AqUAHzmaxwbh<aXRnVcF}RT#Nw&cj#U(BWnug/vsRntdka)(a3+.Zb7aYYan1!bVa@Xa}[y^@b[{G=H{+hFu73Rj&Pv#5ReQcK%T#sig1v{Rj'Ku+D#'!t]~Grm~?rkKuMB!01d5#`'Vy.ta3Dtu~Hroc8#'{^45s85AwZbP&!#Rn!wghxWn#KvEA!)&2RlA2RlBx:h|#(T,=]j09Wobz>x]z/@awRoTd+#Y(az]hFhCrm4d,#Y+jTv|Q~EfMj]uNr|~FRfOdCa!Xa9_X#@<plJvf!%b`{(9;Rgwc;.!#2x7cw#T|UDb]|T5Ju={(!=@E{&Jv)&!Ab`{'awJvf!~*>>@=be{#KuY>!+&4Ezyi[ugv&RjIdea+T)#UXa&T-T&a!Rh9auRmW=]kLg5vuRn+g3u4Rn-Ow6ARn,hHus5xNk?#UX(U~)/g8v0RkD~AwkkF?Ri.OuNBwkkA?Ri/d|a2`a*^UYa.!aBTZaTa'Xa;!(!2!-a#b2[yC>6Vyq3[xr2Wi?g1rusVh%s?DtF~<5rbJs;%!DtBfswKtCj[uvuSsEu3RgVx3o:u+wN'*Zt;@3rd~Grh~?rfg8w)Lq)qE&-a%!>bI|`jWv0vV~EfCjTv|vV~Ef@j]uNpn~FRfBcK#T']gWNu7x,k7q4ai(0!hHv8<RhmkMu9vrsBuev/RhlCJvB!,g<v{wchh~@:Rhji[vrv{wchi~@:RhkdS&a5UY#Ta!RgPwwiI5BwciI~@:Rh`x'iJvj'!5]iJPu8Bwch]~@:Rhach)U#h3rp]gLh@t|Ax,hTq3ah!-(~@:Ro0Ou!5RhXj^v(pyw8unRhVd|)`,^UYas!a?/a2Z'a^Ta{Tb7Ta(a#!a,Wf&9sZ3DtAadamov=Bqt3[xig8vsRm~>waiL2b`{QJv*_Ouv2qgj<v]v2BqfdR'X*X#Y-@3qr~Gqv~?p6hHv-]glPup5Lq+q?_%*b_{qF{n9b^{rOu4ARhpKvCD!+&~Bqp:5Dbb}nwoiKl&unuTuBv]v+ueunaXRf0=Jvh!0nKufu8v1w&w7q%w&uHrz:Rgnj5w,uxDJq/(!hNw'5ReCk0s2u3w/w'5ReFd>Za&!*UaA=<wkgsRnSJv^!%Refifw3vyRgOKu_B'!,<]gkiiu:w&Rh<=C@a^<B57@2F{[<B5@aW:=3away9A5aW=<B=C@a^<B57@2F{Ie-#`(^^^bCara.b8aza6!/bZ,!adTbnTbOb+aFaS!aAT9@Wf~2Wli3Dtl2@d,#Y&RfnRfmJwJZtN~GqyJva&!VyMg<v~Rm%iXuJu3Rm9Jv[_=]ih9wlkDRkCd1#`(@Wg>2Wls3cH#T(@<Rj*=>Ri|b~'#23s9h<~El.d'#Y&Dtxi^rzvdRl#d*#U%(o|B2s`hJwSaxRmDKv4B&!1:Rmdd5#`'Vx}to~Hq{x'f1v3(!BA5ba|bJv_&!Wfug1v]ReIdO+U/Y#&G}-8wze=Rh{g1v]ReHg/uQRf/by#)ibQwERl/cH#T(@<Rj+=>Ri{cNu+vlax-!(#a0qa9<Rii2;;bU{H;x<i=&X#Rk`<4wwi=C9H~8xAI(Y#<azRi@45wXI<B9;5bb~7dL(X#Xa(+!aL6Vy{g5QqOau:5au2@ay547EzbxOcU(UX-T#Ta#:Cbb|A?wjh/b_|SOw6ARgtihr}u7Rhy<d1#T)X1@@=I|~=ay<2@@=aybb}Sj3vLv;<d,#Y(56H}A978H}@dGpvs@uAu`vcw9*!aFa+ai%(b!aXa8.a?a[ozWey=sU2@G}Nch&U#Rf_WexKu+D#'!t:~Gr`~?r^j]uNr|~FRg*j^psurwJt|RmcKv)@&!)7Rkv~Br[@wxfO:Rl3co#U'6Rezj_q#vIuavjRltwzeyh@vr5JqD0!>aY?C9:9au@9Cb]}9cl#U*5;5<H||jbuus1ucv&Rfvg1v~d/pppzqFr^a--a~!aMat1(hFv;Wiz@@=Izoj5uuv-7Rix~Cw`fk2WlVcZ#X,k)u3vWs@u2]ktg;wEx'fBq(_2Wg/jTv|vV~EfoJv]!15x'hzqG!(P~EfU~CRl_j6v(us5x4i-#T(2WmZ?C2F|d>Kq<aj1!*jTqIsBv=Wl`~Cw`fi2WlWj`v0u*~>RlR=c>Z,k#u3vWs@u2]kr<c1Z+jTqIsBv=Wla~Cw`fm2WlXdmb3!a{(arZa`bkTa%TbQTa-a9+c'!aM!/[yL=Bqug.w'RifhFvyDRj.g>vgwyk^9]k^Jv3_@WfbAARkhJw2_[x|JvB_wkoIRoKwkoJRoLd'(Y#<]gm=<9<H|yd'%_X#skDtb3awwqkgNulRkgdB#^',9:p'hJwSaxRmEBwVb8@4=H|qLu+w50&!)@3qs~?pU>Awwn;;Rn=c:Z'ARn<=<qwKvC@!/&~BqqJv6!&]eVb^z^xRge'/a%+^`#Sge}6<4Rn3=]n0Pw2>Rn8Jw0!&>Rn:>Rn6cY#a7+!a&=<wkaNw~h3z_c5Z{=wjh#=]nLKv^D!&)Vyz=bW|swYb<WetcG#T(2wxa@qVx@gD#Y&b^|V5JwG&!5bb|pg/w&RgD@x=kHs=uAvn!a%%/'+RmSRh694Ro`g-vaRmRhHv-]mlxCcS#`&ba~.5cD#Ta)P~=d,#Y(56H{>978H{Dd_#{2^Y%_+qbbb{6g3sERhsbU{?dfa.,`a(Xa<!aiX#(55RiG54RiHcI#T'WiU3RiVNvdwtfcRlKNvdd,#Y&RlHRlExQgf.1*^T'X#Sgf}6Wn4=]hfPrk>Rn7Jw0!&>Rn5>Rn9Lunw?&a2!,5<oq@@wqfdRlJj5Q~=d,#Y(~ARfcOuN]fdDKw;ay(}i!547E}j?cI#T(@5bV}iCbV}hdv(^^Tb?a40,b##Tbo!a*bR!a<b|a/!aKai!aU[yK=]o^g:v>ReGJwPZtK<7Rh+h<~El,Pv#5ReR@awwxjCg,ulRjDJv6&!]j!z?aQeeg>w=Sh<eeJw;!&axEzOg,Qosc!#*:wkeJ]eJ>x'h-u(!%Ro.w~h.zPdNZ(X,Ya![x{;9ReY;wkgxRiF:x?ap#Y&RmUg<s2Rkod]+UY0TZ'!a&A9sw<=bczLNvuw{gqzNhJwSaxRmCKuLay!#&s_Rf-55b^{uJvZa!!c%#(55Ri654wmiu5RiuawLu,vp!+}^%b_}Y9;wkgxba}o>A9:=b^}zKuh=a''!3awRk3c*'!#aHRk6c+Z&Rk5Rk4Jv)&!awRjSawd9*`#0?C2@EzMj8u<uJ5RmbjQrquJu3x,k>uq@_+=ayb^|W~ARkEOuN]k@7dhzV^X/X&a-#zRzSb`zXcJzTT#2WkVKvDBzW!%FzY9;5bbzWjQrquJu3Jw3%!b`zU=ayb^zQd:#X(T-a!6Vyywxh}=b]{Jg=u1RiAdGp~qHtzv!w(wA+a+a;<!aJaYai'anasb(=azRmV:Cbb{MLq2vb!%')RjuRjrRjtRjqx3jnqCw3!%')Rk(Rk+Rk&Rk)Lq2vb!%')Rj{RjxRjzRjwLq2vb!%')RjsRjpRjfRjex3jcqCw3!%')Rk'Rk*RjkRjl9<CbbzfOu4ARhxLq2vb!%')RjyRjvRjhRjgx=joq*uKvb!%')+-Rk.Rk%Rj~Rk-Rk#Rj}x=jdq*uKvb!%')+-Rk,Rk!Rj|RjmRjjRjidAq&qKs@uAv8Aa.'*-a@a&0!aM@a5[y73Dsy3Ds|3Dt):wxgI2sHJwJZt.~Gqxwsf0ikrzt}Rl0Jvy_[xj~HqzKv_A|D!&WfP8axRoVcf,U#k(v]v+ueunaXRf1Ju}'!g8u#Ri=jQw!sCunLprq>!,')~<5qeGzq9F{W=c##%s5au:5aU3CBE|;d4#X(D!a&6Vygx(b;#(=]ed?C2F{N<capoq2r[a&!aPa9,'Pw;5s:@@=I|,55w_h|@@=IzcP~=x'fCqB_2Wl2>aU@@=I|1OuNBc1Z+jTqIsBv=Wlc~Cw`fl2WlZ~AcTa%!Z+jTqIsBv=Wlb~Cw`fh2WlYk+uNqJsBv=WlSg,u3dca3#UXaMYa)TaB-=cM|7T#<bI}l5@B932:aV2G{BOuNBJq:|M!5Ezt=<B=C@a^<B57@2F{v>cB{/T#=ay<bI{3Jv6!a.6BKq0ah&+!5E}HP~Ef{978BaU@@=Iza<7d#.Y#978BaU@@=IzH~AJq0!(@@=IzG978BaU@@=IzFe,aU*Y&^^^bvJb,b:bFad!a,c2Ta>aL.bo6!a#CbTa'T#Re{2Wlh2@G{yg6t~Ro_NvdRfticuRQRllJv3&!x&c|zs@Jw3!%RflwpfkRlpKuL;%(!Re<@G|C2GzdhIvuBwgjAg-u0RjAKQB%!(GzZ@G|5NuuRl7d='T+Y#Vy[g<v~Rm!==G|>JvA!)@wma=]m1ifuaw&RmnLs@vT'!|/+[y,g:v>ReTJw1!#qX=x!eC{bLu+wT&)ZtZauq_~Graci&U#F|89:r_Lupvq!.)&2RlG8RfaC=x!eF{_h?rpWlmd&'!#X|&]k::xJey#`'T|+<E|&2@H|%dE#(^,g;u.RiEg6vjRiC9xCkA{O|zY#g=ucRmXKs0@!&*@G|m@awRknJuh!,3d(}gY}eJvj!%Rm):Jw3!%Rm+Rm-Ls0w(&!a(a#@b[|6cZ#X'7RkxWgAOu4ARn'dH'U#Y*Vz-Wm'CARm}d]*#a%^a*T'aK!a<9bV{PC=p*Jw4!&SgxcbB5r]idw(wBRmF7xFkt#&`(Rm/Rm8E|!JuY_9:Rl5=wrgr2:bbxd@xXfB(a*#T+!.X0X1Ta/a'T&RlDRfL>RlyARl9b[z[>RfZ:RlL:RfRwlg/ARl;9;RlxKv,A/!%7s69<74=BA5ba{-8Bde#`a<XaKYa1,a'P~=wxfB2bZ}}?C972@@=I}r8@55B9;5bb}G978B2@@=aybb}3j3vLv;<Jw3&!>Rfk=ayb^}4~Ad1#`*@@=aybb{w2@>==<bbz]dx+UY#^UaF!a9!bB'Ya1.!ajXa#%olRhD[y=3Dt#Ov5BrHKuMB%!(Rf^Wep~HrJwkiQjKr|~FRg)Ku+D#'!t5~GrF~?rDdV)UY,Z/_7RkuG{<~BrBg,rlsO:235B@bX}|d?a1!#`(6Vyn5@d##Y+jTv|vV~EfIj]uNpn~FRfH7Lq2vb1!a9-978BaU@@=Iz9978BbU}#~AJq0!(@@=Iz8978BaU@@=Iz7~AJQ|}!978BbU}!JvkaK!AdUa21-U#`a+(g/vsRn~Ou!5RPj:rmu9WhOjXuvvNr}:RhAj^v(pyw8unRn[kPr}p|u7vwv]RiSBd;pppzq@qHQa?(b.!a.a`@.|xa(hFv;Wiyj5uuv-7Riw~Cw`fg2WlU978BbU|wOuNBJqG!(P~EfD~CRlQcZ#X,k)u3vWs@u2]ksg;wEx'f@q1_2Wg.j]uNpn~FRfqJv]!15x'h{qG!(@@=IzK~CRl^j6v(us5x4i,#T(2WmY?C2F{1>Kq<aj1!*jTqIsBv=Wld~Cw`fj2Wl[j`v0u*~>RlT=c>Z,k#u3vWs@u2]kq<c1Z+jTqIsBv=Wle~Cw`fn2Wl]dn1#c(a(b^a2!b/bAT(bj!aDa7bu,a_a{c0!2T0g:v>ReD2@G{42@G{5~DpM~<5rc=Bx6i>{RT#RnI@zCx]y]z:2Jv[!zr5Awyk]9]k]dD(Y+X#6Vz.g=wKtgwhaCwgmTWj2Lu,w%_+/[y-B;b^xeg3u3Rj-2@bX{*KrJ<!+'@Wg(g?QRlC@Jv`!%b[zIwsfII}8JQ_@w|kW|=Jv(%!AqcOuNBJvEzh!bYzjLs@wP#(0!oy@>RkdJwMZtc3Dtd@BcG#T'9bWxg2@2Fznd*#Y+;2x'c}w<zizixNgwa#Z'U+!/!a'!a+w~g~z6wcn{Rn}wcnzRn|5Rh%=]nJg5vuRmvNvdRlvcprJu}w*az*a#!%.a.'Bot9qT]kj@Wg'ay2Gzv@Jv`!%b[zEwsfHI}1;ck#Ux`<Cbbx_Lu+w!a&0*!wko*wwo,So,}6Juqxf!E}PigQuyRm`d3(`#8>Rn%:A5B;bZ~%KvhCa!a2!x>k7#Uxb@b{#xaRk7Jw0!)>wwhlShl}6>wwhmShm}6CJvB!.x'hhvj{!!5Bwkhhbaz}x'hivjz~!5Bwkhibaz|xEhTrNu,v-vpD!a%&/)a3a.,%Ro2t[CE{)@3re9b]{%wjo09:rgc:Z&Ro6=<riifuaw&RmoKrNA!%(Ro4>Ro89;Ri`dSaL'UYzxZb)7Rka3xRhT&!,!#^1U}vbaz{>>@=be}yC@:D5bazzKu+A&!}{?ba}y>>@=be}wxBh[t`u~vJvr!%a!a()a,a0a4RoC=]o;Ju(!%RoGRhdwjh`=]oAg>w#Ro?g5vuRo=NvdRl|Ku]C.!&;RoEJvB!%RoORoMBx'h[v+_?w~h`}~5?w~hd~!xKh]oiptu-utv.vp!#%&a30a@a'a+(a/aOp(o~p!RoDJu(!%RoHRhewjha=]oBNvdRl}g>w#Ro@g5vuRo>c[#X']o<CauRoRAd-#Y':RkpauRoQKu]C.!&;RoFJvB!%RoNRoPBx'h]v+_?w~ha}t5?w~he}ue!/UbhYacXaW^Tc&a;b:a-c/#b&aja1(!cL+!bKbt!bmcRc9aIc?8[yW3Dtt94Rg`Jv}!&SiRMzBhEebShEMNuPRe>x7gL#TzuwjirRipc<Z&>on;>z=h-MSh.Mwqczx'a7vj&!>Re4@=ResJt__NuPRi*NuPRi)j]uNr|~FRfzKrJ>_+@Wfy@Wf]2WocKrJ<!+'@Wg%g/QRl@@Jv`!&awRl<wsfFIzgLu(w*!.*&ShBMwvhIRhI9;RhNx1hK'!#Sn]Mx1hK~0!#:2<H~7cNu+w7D*'1ZtW>Rn1~?rOc:Z&Rn2=<rQ<7wjh&=BSnLMc]#X(6Vz)w[b=a!U#9wzgMc3#&(RgMRitRis<x,gKt`ax!&+SioM=BSilMc3#&(RgKRinRimKurB,!&SiQMzBhDebShDM6BJQ!(P~Efx978B2@@=I}WLrJw!!,a*&@G}O@9wkibRid@@x'fKwC!&SlDMSfLMjUv~Q~EfKKv3@a+!(hFv-]mpx/hYZ(C5RiWz<o/MwkhY?So/M@x,gbvfB*&!SgEM:SoeeehFu3:Rgbda(,^TZa)X/7Sg[eb:2RgI~BrMC@wgkc:wwkcRerx3h(uUvK!&*,SnOM4Sh*MArRg;wHRh(x=h;rJvPwI!a4',a'0@Wg&=BSh/Mg>w=Rh=g3w*wwgGRgGcW(X#;Sg}M2Gzk@Jv`!&awRl=wsfGIz`dKZ*T'Y-:RhR7RhQg5u-p`j6v(us5d,#Y+~Awkia?RicOuNBwkibba}Ld6p~tyu_vbAa'a+!a/'a3aEa8a!>Sh,ebJv{!&Sh@ebSaReb9;SgwebNuPRi(NvdRl)NuPRi'hHu^<Rm^Jvv_@Wl(g;u1Si/ebKu'B&!*Sh?eb@Wl'z@aPeb95Si.ebcpputyvjB)!,&a+0a%ShAMWeK@G}C@WfJ9;RhMwvhH9w{ia}ix,hJvRA1(!zAn[MRhHx1hJ~*!#hFv(BSn[MBJQ!(@@=I~'978B2@@=I}2db.Ua<'X}+T#a0XaG2G}E;wkg|wuh!Rh!x,hZu,@)!&So0MVy)C5RiXACJvB!&5RiY5RiZg8w)cG}*T#2@bU}=KsA>(!a.3wkhZba~(x,h^u(A!&(SoCMRhb5Bz=h[eb?w~hb~6x,h_u(A!&(SoDMRhc5Bz=h]eb?w~hc~6e)aA1T#T,^^^c-bMb&blcPaP(a/!0!bA=b5c@a(!bfbrc#2afwmhARnjwchORnp2Wlf3DtsNvdRl-2@wpa<]m0bx(#:awRk2@Jw3!%RfhwpfgRlnKQB%!(G{V@G|'NuuRl6d='T+Y#VyUg<v~Rl~==G|<Jv+'!aYShC}6@B<5?ba~8@Jw3'!g2QRljhLrpWlOd+#Y'g.w'rIg>w*wgj@g-u0Rj@Lu+wT&)ZtUauq]~GrGci&U#F|39:rELrNvj!.%*RhCwunfw~nf~:9;Ri]>wtnhg;wHRnhx3hDs@v~!/+'@Wfr@9RkSNu&Rlo=@<5GzoKs0@_+@Wl+@awRkmJuh!-3d(}pY#qWJvj!%Rm(:Jw3!%Rm,Rm*de&!1U-U#`)Re;@G|.@9Ri82@wjfvRlq=@<5GzpLvOvr!).&2RlF8Rf`C=x!eE{.Jw3_g2QRlkhLrpWlPde(!#U{s,UXa*Ta'[y'g:v>ReS;x0PZ&RnlRnn~HrKJw1}f!=x!eB|2w]aP(#Xa&a*Ta.Ua2a7=]iOd'#Y&Ro&WnWg;u.RiDg6vjRiBNvdRlzhNvj]nYJuW_2Wm3x)kFze{9d])!a.!,Y01!#&aC!a3RndC=ox~BrC@2b^{pg,rlse7x'ksuq!%Rm.E{xidw(wBRmGx9o+)X#wwo-So-}69:Rl4@xSf@a#XZ'X)X,Ta(/ARl8b[xc>RfY:RlI:RfQwlg.ARl:9;Rlwdn'#^XafaQa1X1TaHTa)@b[{zcZ#X'7RkwWg@Ou4ARn&x)kG#{,g7u/RkGdH'U#Y*Vz'Wm&CARm|bx#(A]gUbUzJj9Q~=d,#Y(56H}l978H{U7d,0#U*2>ABb_xZ978BbU{e~AJQ{g!978BbU{hxMh?ad{oUYZ.x1h?{l!#:2<H{mx3n[t{vl!,&a%3Ro(z=iS}6ARnr=Bwsn^wvn`Rnbd`*T}B0!#^X'BG{c9b]{a>>@=be}F?JvS!&BG{d7BG}(Bde#`a1X,Ya@!a'P~=wxf@2bZ}I56B2@@=aybb}08@55B9;5bb}<j3vLv;<Jw3&!>Rfg=ayb^}&OuNBKuLA!)a!P~=x#fD{f2@>==<bbzl?C972@@=Ix^d6rSu,v7w*C(0a)a6#B+a%!sQ[y?3Dt%3[xn~<5rLOu!5p@Ku+D#'!t7~GrP~?rNKvlaya7'!h+v-5qMg=t|cd,U#5AAaa5Abb{S@52B5@a[@52B5Gx[iXueu;d<#`a(!/549C;ag>23ExY5@Dah89b^~689Jv)!~2b[~1Lv'w(%*!a#bX|aPrmawRe]keu7uhv-q6rxu,q`xTo]/a5aU!bNaDXbi!b-!ao!b<bwA!#5@B932:aV2G|:d-)Y#hJrL>RhG<7@C5<H|_=Cau:5aj5@B932:bJ|ng>vIbs)#?C2F|9jPv0w.vISh-MKvUaz(.!9ABbb|[5;5<H|Eg>unwfh;9:4E|YjQsBt|vjx'hYq3!(?C2F|J:2<BaY?C2F|GOu!5x,g|p{ah!-(?C2F|c9:4E|OjXuvvNr}:Rh&i[w*t|cd+U#jJvsu)vsSn~Mkfrmu9p}u7vwv]So!McW#Xa!ax5@A5aY:5;5<H|>kJv~vYrquJu3x4ib#T)2@SmZM?C2F|Bj:rmu9@xPhI(a*a#U#`a3-5Abb|L~@:RhK9:4E|0@52B5G|#C::aY?C2F|-:2<BaY?C2F|.5Jvk!a)javYrquJu3x4ia#T)2@SmYM?C2F|HAxPhH(!a#U#`a*-5Abb|4~@:RhJ9:4E|R@52B5G|F:2<BaY?C2F|Sc^#Xa2j=Qq5CJvB!-g<v{z;hhM?C2F|Zi[vrv{z;hiM?C2F|XKsA>!a)-g<v{z;h[eb?C2F|]i[vrv{z;h]eb?C2F|^iZu.vix,hZq3ah!.(?C2F|QOu!5ShXM:2<BaY?C2F|P", 13494, 2713, 49, 25, 61);
var je;
(function(e) {
  e[e.VALUE_LENGTH = 49152] = "VALUE_LENGTH", e[e.FLAG13 = 8192] = "FLAG13", e[e.BRANCH_LENGTH = 8064] = "BRANCH_LENGTH", e[e.JUMP_TABLE = 127] = "JUMP_TABLE", e[e.VALUE_MASK = 8191] = "VALUE_MASK";
})(je || (je = {}));
var Xe;
(function(e) {
  e[e.AMP = 38] = "AMP", e[e.NUM = 35] = "NUM", e[e.SEMI = 59] = "SEMI", e[e.EQUALS = 61] = "EQUALS", e[e.ZERO = 48] = "ZERO", e[e.NINE = 57] = "NINE", e[e.LOWER_A = 97] = "LOWER_A", e[e.LOWER_X = 120] = "LOWER_X";
})(Xe || (Xe = {}));
const yr = 32, Ya = 21, kg = 2097151, Ys = 2047;
let Xa = 0;
function Ag(e) {
  const t = e >>> Ya;
  return t === Ys ? Xa : t;
}
function xg(e) {
  return e - Xe.ZERO >>> 0 <= 9;
}
function Rg(e) {
  return (e | yr) - Xe.LOWER_A >>> 0 <= 5;
}
function vg(e) {
  return (e | yr) - Xe.LOWER_A >>> 0 <= 25;
}
var oc;
(function(e) {
  e[e.EntityStart = 0] = "EntityStart", e[e.NumericStart = 1] = "NumericStart", e[e.NumericDecimal = 2] = "NumericDecimal", e[e.NumericHex = 3] = "NumericHex", e[e.NamedEntity = 4] = "NamedEntity";
})(oc || (oc = {}));
var lc;
(function(e) {
  e[e.Legacy = 0] = "Legacy", e[e.Strict = 1] = "Strict", e[e.Attribute = 2] = "Attribute";
})(lc || (lc = {}));
function Eg(e, t, n, i) {
  const r = (t & je.BRANCH_LENGTH) >> 7, s = t & je.JUMP_TABLE;
  if (s) {
    if (r === 0)
      return i === s ? n : -1;
    const c = i - s;
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
    if (u === i) {
      const h = n + o + c;
      return l + e[h] & 65535;
    }
    if (u > i)
      return -1;
  }
  return -1;
}
function cc(e, t, n) {
  return n === 1 ? String.fromCharCode(e[t] & je.VALUE_MASK) : n === 2 ? String.fromCharCode(e[t + 1]) : String.fromCharCode(e[t + 1], e[t + 2]);
}
function Cg(e, t, n) {
  let i = t + 1, r = 0, s = i;
  if (i < n && (e.charCodeAt(i) | yr) === Xe.LOWER_X)
    for (i += 1, s = i; i < n; ) {
      const l = e.charCodeAt(i);
      if (xg(l))
        r = r * 16 + (l - Xe.ZERO);
      else if (Rg(l))
        r = r * 16 + ((l | yr) - Xe.LOWER_A + 10);
      else
        break;
      i += 1;
    }
  else
    for (; i < n; ) {
      const l = e.charCodeAt(i) - Xe.ZERO;
      if (l >>> 0 > 9)
        break;
      r = r * 10 + l, i += 1;
    }
  if (i === s)
    return 0;
  i < n && e.charCodeAt(i) === Xe.SEMI && (i += 1), r > 1114111 && (r = 1114112);
  let o = i - t;
  return o >= Ys && (Xa = o, o = Ys), o << Ya | r;
}
function Dg(e, t, n) {
  const i = wg;
  let r = e.indexOf("&");
  if (r < 0)
    return e;
  const s = e.length;
  let o = 0, l = "";
  const c = i[0], a = c & je.JUMP_TABLE, u = (c & je.BRANCH_LENGTH) >> 7;
  do {
    const h = r + 1, w = e.charCodeAt(h);
    let _, p;
    if (w === Xe.NUM) {
      const x = Cg(e, h, s);
      _ = Ag(x), _ > 0 && e.charCodeAt(h + _ - 1) !== Xe.SEMI && (_ = 0), p = _ === 0 ? "" : bg(x & kg);
    } else if (vg(w)) {
      _ = 0, p = "";
      const x = w - a;
      let D;
      if (x >>> 0 < u) {
        const v = i[1 + x];
        D = v === 0 ? -1 : u + v & 65535;
      } else
        D = -1;
      let I = 0, k = 0, m = D < 0 ? 0 : i[D], g = h + 1;
      e: for (; g < s; ) {
        for (
          ;
          // Value-less, non-run node with a nonzero jump offset.
          (m & (je.VALUE_LENGTH | je.FLAG13)) === 0 && (m & je.JUMP_TABLE) !== 0;
        ) {
          const Q = m & je.JUMP_TABLE, ee = (m & je.BRANCH_LENGTH) >> 7;
          if (ee === 0) {
            if (e.charCodeAt(g) !== Q)
              break e;
            D += 1;
          } else {
            const re = e.charCodeAt(g) - Q;
            if (re >>> 0 >= ee)
              break e;
            const G = i[D + 1 + re];
            if (G === 0)
              break e;
            D = D + ee + G & 65535;
          }
          if (m = i[D], g += 1, g >= s)
            break e;
        }
        if ((m & (je.VALUE_LENGTH | je.FLAG13)) === je.FLAG13) {
          const Q = (m & je.BRANCH_LENGTH) >> 7;
          if (e.charCodeAt(g) !== (m & je.JUMP_TABLE))
            break;
          g += 1;
          const ee = Q - 1;
          let re = D + 1, G = 0;
          for (; G + 1 < ee; G += 2) {
            const se = i[re];
            if (e.charCodeAt(g) !== (se & 255) || (g += 1, e.charCodeAt(g) !== (se >> 8 & 255)))
              break e;
            g += 1, re += 1;
          }
          if (G < ee) {
            if (e.charCodeAt(g) !== (i[re] & 255))
              break;
            g += 1;
          }
          D += 1 + (Q >> 1), m = i[D];
          continue;
        }
        const v = m >>> 14, B = e.charCodeAt(g);
        if (v !== 0) {
          if (B === Xe.SEMI) {
            _ = g - h + 1, p = v === 1 ? String.fromCharCode(m & je.VALUE_MASK) : cc(i, D, v);
            break;
          }
          if (v === 1)
            break;
        }
        const U = Eg(i, m, D + (v || 1), B);
        if (U < 0)
          break;
        D = U, m = i[D], g += 1;
      }
      p === "" && _ > 0 && (p = cc(i, I, k));
    } else
      _ = 0, p = "";
    _ === 0 || n ? r = h : (o < r && (l += e.slice(o, r)), l += p, r = o = h + _), e.charCodeAt(r) !== Xe.AMP && (r = e.indexOf("&", r));
  } while (r >= 0);
  return l + e.slice(o);
}
function Za(e) {
  return Dg(e, !0, !1);
}
var Sg = class {
  src_Any = Ha.source;
  src_Cc = Va.source;
  src_Z = Ka.source;
  src_P = po.source;
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
    const i = this.escapeRE(e), r = this.escapeRE(t), s = `(?:(?!${this.src_ZCc}|${i}|${r}).)`;
    let o = `${i}${s}{0,1000}${r}`;
    for (let l = 2; l <= n; l++) o = `${i}(?:${s}|${o}){0,1000}${r}`;
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
}, Es = {
  validate: (e, t, n) => {
    const i = n.re.get_http_validator();
    i.lastIndex = t;
    const r = i.exec(e);
    return r ? r[0].length : 0;
  },
  normalize: (e, t) => t.normalize(e)
}, Tg = {
  "http:": Es,
  "https:": Es,
  "ftp:": Es,
  "//": {
    validate: function(e, t, n) {
      const i = n.re.get_relative_proto_validator();
      i.lastIndex = t;
      const r = i.exec(e);
      return r ? t >= 3 && e[t - 3] === ":" || t >= 3 && e[t - 3] === "/" ? 0 : r[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  },
  "mailto:": {
    validate: function(e, t, n) {
      const i = n.re.get_mailto_validator();
      i.lastIndex = t;
      const r = i.exec(e);
      return r ? r[0].length : 0;
    },
    normalize: (e, t) => t.normalize(e)
  }
}, Fg = "a:cdefgilmnoqrstuwxz|b:abdefghijmnorstvwyz|c:acdfghiklmnoruvwxyz|d:ejkmoz|e:cegrstu|f:ijkmor|g:abdefghilmnpqrstuwy|h:kmnrtu|i:delmnoqrst|j:emop|k:eghimnprwyz|l:abcikrstuvy|m:acdeghklmnopqrstuvwxyz|n:acefgilopruz|o:m|p:aefghklmnrstwy|q:a|r:eosuw|s:abcdeghijklmnortuvxyz|t:cdfghjklmnortvwz|u:agksyz|v:aceginu|w:fs|y:et|z:amw", Ig = "biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф";
function Og() {
  const e = Ig.split("|");
  return Fg.split("|").forEach((t) => {
    const n = t.indexOf(":"), i = t.slice(0, n);
    for (const r of t.slice(n + 1)) e.push(i + r);
  }), e;
}
var Mg = {
  fuzzyLink: !1,
  fuzzyEmail: !0,
  fuzzyIP: !1,
  "---": !1,
  tlds: Og(),
  urlAuth: !1,
  maxLength: 1e4
}, ac = class {
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
  constructor(e, t, n, i) {
    const r = e.slice(n, i);
    this.schema = t.toLowerCase(), this.index = n, this.lastIndex = i, this.raw = r, this.text = r, this.url = r;
  }
}, Ng = class {
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
      ...Mg,
      ...n
    }, this.__schemas__ = { ...Tg }, this.re = t || new Sg(), this.re.set({
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
        normalize: (i, r) => r.normalize(i),
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
      const i = this.re.get_fuzzy_mail_host_search(), r = this.re.get_mail_name_validator();
      for (i.lastIndex = 0; (t = i.exec(e)) !== null; ) {
        const s = e.slice(Math.max(0, t.index - 65), t.index);
        if (r.test(s)) return !0;
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
    let i, r, s, o, l, c, a = !1, u = !1, h = !1, w = 0;
    if (!e.length) return null;
    for (n.lastIndex = 0, this.__opts__.fuzzyLink && this.__schemas__["http:"] && (i = this.re.get_fuzzy_link_search(), i.lastIndex = 0), this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && (r = this.re.get_fuzzy_mail_host_search(), r.lastIndex = 0, s = this.re.get_mail_name_validator()); ; ) {
      const _ = Math.max(w - 1, 0);
      if (r && s && !h && (!l || l.index < w))
        for (r.lastIndex < _ && (r.lastIndex = _); ; ) {
          const k = r.exec(e);
          if (!k) {
            h = !0, l = void 0;
            break;
          }
          const m = s.exec(e.slice(Math.max(0, k.index - 65), k.index));
          if (m) {
            if (l = {
              schema: "mailto:",
              index: k.index - m[1].length,
              lastIndex: k.index + k[0].length
            }, l.index >= w) break;
            r.lastIndex < _ && (r.lastIndex = _);
          }
        }
      if (i && !u && (!o || o.index < w))
        for (i.lastIndex < _ && (i.lastIndex = _); ; ) {
          const k = i.exec(e);
          if (!k) {
            u = !0, o = void 0;
            break;
          }
          if (o = {
            schema: "",
            index: k.index + k[1].length,
            lastIndex: k.index + k[0].length
          }, o.index >= w) break;
          i.lastIndex < _ && (i.lastIndex = _);
        }
      let p = l;
      (!p || o && (o.index < p.index || o.index === p.index && o.lastIndex > p.lastIndex)) && (p = o);
      let x;
      if (!a) for (; ; ) {
        if (!c) {
          n.lastIndex < _ && (n.lastIndex = _);
          const g = n.exec(e);
          if (!g) {
            a = !0;
            break;
          }
          c = {
            schema: g[2],
            index: g.index + g[1].length,
            lastIndex: g.index + g[0].length
          };
        }
        if (c.index < w) {
          c = void 0;
          continue;
        }
        if (p && c.index > p.index) break;
        const k = c;
        c = void 0;
        const m = this.testSchemaAt(e, k.schema, k.lastIndex);
        if (m) {
          x = {
            schema: k.schema,
            index: k.index,
            lastIndex: k.lastIndex + m
          };
          break;
        }
      }
      let D = x;
      if ((!D || l && (l.index < D.index || l.index === D.index && l.lastIndex > D.lastIndex)) && (D = l), (!D || o && (o.index < D.index || o.index === D.index && o.lastIndex > D.lastIndex)) && (D = o), !D) break;
      D === l ? l = void 0 : D === o && (o = void 0);
      const I = new ac(e, D.schema, D.index, D.lastIndex);
      I.schema ? this.__schemas__[I.schema].normalize(I, this) : this.normalize(I), t.push(I), w = D.lastIndex;
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
    const i = new ac(e, t[2], t.index + t[1].length, t.index + t[0].length + n);
    return this.__schemas__[i.schema].normalize(i, this), i;
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
const qn = 2147483647, vt = 36, go = 1, vi = 26, Lg = 38, Pg = 700, Qa = 72, eu = 128, tu = "-", Bg = /^xn--/, jg = /[^\0-\x7F]/, zg = /[\x2E\u3002\uFF0E\uFF61]/g, $g = {
  overflow: "Overflow: input needs wider integers to process",
  "not-basic": "Illegal input >= 0x80 (not a basic code point)",
  "invalid-input": "Invalid input"
}, Cs = vt - go, Et = Math.floor, Ds = String.fromCharCode;
function Xt(e) {
  throw new RangeError($g[e]);
}
function Ug(e, t) {
  const n = [];
  let i = e.length;
  for (; i--; )
    n[i] = t(e[i]);
  return n;
}
function nu(e, t) {
  const n = e.split("@");
  let i = "";
  n.length > 1 && (i = n[0] + "@", e = n[1]), e = e.replace(zg, ".");
  const r = e.split("."), s = Ug(r, t).join(".");
  return i + s;
}
function iu(e) {
  const t = [];
  let n = 0;
  const i = e.length;
  for (; n < i; ) {
    const r = e.charCodeAt(n++);
    if (r >= 55296 && r <= 56319 && n < i) {
      const s = e.charCodeAt(n++);
      (s & 64512) == 56320 ? t.push(((r & 1023) << 10) + (s & 1023) + 65536) : (t.push(r), n--);
    } else
      t.push(r);
  }
  return t;
}
const Wg = (e) => String.fromCodePoint(...e), Jg = function(e) {
  return e >= 48 && e < 58 ? 26 + (e - 48) : e >= 65 && e < 91 ? e - 65 : e >= 97 && e < 123 ? e - 97 : vt;
}, uc = function(e, t) {
  return e + 22 + 75 * (e < 26) - ((t != 0) << 5);
}, ru = function(e, t, n) {
  let i = 0;
  for (e = n ? Et(e / Pg) : e >> 1, e += Et(e / t); e > Cs * vi >> 1; i += vt)
    e = Et(e / Cs);
  return Et(i + (Cs + 1) * e / (e + Lg));
}, su = function(e) {
  const t = [], n = e.length;
  let i = 0, r = eu, s = Qa, o = e.lastIndexOf(tu);
  o < 0 && (o = 0);
  for (let l = 0; l < o; ++l)
    e.charCodeAt(l) >= 128 && Xt("not-basic"), t.push(e.charCodeAt(l));
  for (let l = o > 0 ? o + 1 : 0; l < n; ) {
    const c = i;
    for (let u = 1, h = vt; ; h += vt) {
      l >= n && Xt("invalid-input");
      const w = Jg(e.charCodeAt(l++));
      w >= vt && Xt("invalid-input"), w > Et((qn - i) / u) && Xt("overflow"), i += w * u;
      const _ = h <= s ? go : h >= s + vi ? vi : h - s;
      if (w < _)
        break;
      const p = vt - _;
      u > Et(qn / p) && Xt("overflow"), u *= p;
    }
    const a = t.length + 1;
    s = ru(i - c, a, c == 0), Et(i / a) > qn - r && Xt("overflow"), r += Et(i / a), i %= a, t.splice(i++, 0, r);
  }
  return String.fromCodePoint(...t);
}, ou = function(e) {
  const t = [];
  e = iu(e);
  const n = e.length;
  let i = eu, r = 0, s = Qa;
  for (const c of e)
    c < 128 && t.push(Ds(c));
  const o = t.length;
  let l = o;
  for (o && t.push(tu); l < n; ) {
    let c = qn;
    for (const u of e)
      u >= i && u < c && (c = u);
    const a = l + 1;
    c - i > Et((qn - r) / a) && Xt("overflow"), r += (c - i) * a, i = c;
    for (const u of e)
      if (u < i && ++r > qn && Xt("overflow"), u === i) {
        let h = r;
        for (let w = vt; ; w += vt) {
          const _ = w <= s ? go : w >= s + vi ? vi : w - s;
          if (h < _)
            break;
          const p = h - _, x = vt - _;
          t.push(
            Ds(uc(_ + p % x, 0))
          ), h = Et(p / x);
        }
        t.push(Ds(uc(h, 0))), s = ru(r, a, l === o), r = 0, ++l;
      }
    ++r, ++i;
  }
  return t.join("");
}, qg = function(e) {
  return nu(e, function(t) {
    return Bg.test(t) ? su(t.slice(4).toLowerCase()) : t;
  });
}, Hg = function(e) {
  return nu(e, function(t) {
    return jg.test(t) ? "xn--" + ou(t) : t;
  });
}, fc = {
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
    decode: iu,
    encode: Wg
  },
  decode: su,
  encode: ou,
  toASCII: Hg,
  toUnicode: qg
};
var hc = Object.defineProperty, lu = (e, t) => {
  let n = {};
  for (var i in e) hc(n, i, {
    get: e[i],
    enumerable: !0
  });
  return hc(n, Symbol.toStringTag, { value: "Module" }), n;
}, Vg = /* @__PURE__ */ lu({
  arrayReplaceAt: () => Gg,
  asciiTrim: () => Ir,
  callable: () => cu,
  escapeHtml: () => sn,
  escapeRE: () => rm,
  fromCodePoint: () => Ei,
  isMdAsciiPunct: () => Si,
  isPunctChar: () => uu,
  isPunctCharCode: () => Di,
  isSpace: () => ye,
  isValidEntityCode: () => mo,
  isWhiteSpace: () => Ci,
  lib: () => sm,
  normalizeReference: () => Fr,
  unescapeAll: () => Yn,
  unescapeMd: () => Zg
});
function cu(e) {
  const t = function(...n) {
    return Reflect.construct(e, n, new.target && new.target !== t ? new.target : e);
  };
  return Object.defineProperty(t, "name", { value: e.name }), Object.setPrototypeOf(t, e), t.prototype = e.prototype, t;
}
function Gg(e, t, n) {
  return [].concat(e.slice(0, t), n, e.slice(t + 1));
}
function mo(e) {
  return !(e >= 55296 && e <= 57343 || e >= 64976 && e <= 65007 || (e & 65535) === 65535 || (e & 65535) === 65534 || e >= 0 && e <= 8 || e === 11 || e >= 14 && e <= 31 || e >= 127 && e <= 159 || e > 1114111);
}
function Ei(e) {
  if (e > 65535) {
    e -= 65536;
    const t = 55296 + (e >> 10), n = 56320 + (e & 1023);
    return String.fromCharCode(t, n);
  }
  return String.fromCharCode(e);
}
var au = /\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, Kg = new RegExp(`${au.source}|${/&([a-z#][a-z0-9]{1,31});/gi.source}`, "gi"), Yg = /^#((?:x[a-f0-9]{1,8}|[0-9]{1,8}))$/i;
function Xg(e, t) {
  if (t.charCodeAt(0) === 35 && Yg.test(t)) {
    const i = t[1].toLowerCase() === "x" ? parseInt(t.slice(2), 16) : parseInt(t.slice(1), 10);
    return mo(i) ? Ei(i) : e;
  }
  const n = Za(e);
  return n !== e ? n : e;
}
function Zg(e) {
  return e.indexOf("\\") < 0 ? e : e.replace(au, "$1");
}
function Yn(e) {
  return e.indexOf("\\") < 0 && e.indexOf("&") < 0 ? e : e.replace(Kg, function(t, n, i) {
    return n || Xg(t, i);
  });
}
var Qg = /[&<>"]/, em = /[&<>"]/g, tm = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;"
};
function nm(e) {
  return tm[e];
}
function sn(e) {
  return Qg.test(e) ? e.replace(em, nm) : e;
}
var im = /[.?*+^$[\]\\(){}|-]/g;
function rm(e) {
  return e.replace(im, "\\$&");
}
function ye(e) {
  switch (e) {
    case 9:
    case 32:
      return !0;
  }
  return !1;
}
function Ci(e) {
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
function uu(e) {
  return po.test(e) || Ga.test(e);
}
function Di(e) {
  return uu(Ei(e));
}
function Si(e) {
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
function Fr(e) {
  return e = e.trim().replace(/\s+/g, " "), e.toLowerCase().toUpperCase();
}
function dc(e) {
  return e === 32 || e === 9 || e === 10 || e === 13;
}
function Ir(e) {
  let t = 0;
  for (; t < e.length && dc(e.charCodeAt(t)); t++) ;
  let n = e.length - 1;
  for (; n >= t && dc(e.charCodeAt(n)); n--) ;
  return e.slice(t, n + 1);
}
var sm = {
  mdurl: hg,
  ucmicro: pg
};
function om(e, t, n) {
  let i, r, s, o;
  const l = e.posMax, c = e.pos;
  for (e.pos = t + 1, i = 1; e.pos < l; ) {
    if (s = e.src.charCodeAt(e.pos), s === 93 && (i--, i === 0)) {
      r = !0;
      break;
    }
    if (o = e.pos, e.md.inline.skipToken(e), s === 91) {
      if (o === e.pos - 1) i++;
      else if (n)
        return e.pos = c, -1;
    }
  }
  let a = -1;
  return r && (a = e.pos), e.pos = c, a;
}
function lm(e, t, n) {
  let i, r = t;
  const s = {
    ok: !1,
    pos: 0,
    str: ""
  };
  if (e.charCodeAt(r) === 60) {
    for (r++; r < n; ) {
      if (i = e.charCodeAt(r), i === 10 || i === 60) return s;
      if (i === 62)
        return s.pos = r + 1, s.str = Yn(e.slice(t + 1, r)), s.ok = !0, s;
      if (i === 92 && r + 1 < n) {
        r += 2;
        continue;
      }
      r++;
    }
    return s;
  }
  let o = 0;
  for (; r < n && (i = e.charCodeAt(r), !(i === 32 || i < 32 || i === 127)); ) {
    if (i === 92 && r + 1 < n) {
      if (e.charCodeAt(r + 1) === 32) {
        r++;
        continue;
      }
      r += 2;
      continue;
    }
    if (i === 40 && (o++, o > 32))
      return s;
    if (i === 41) {
      if (o === 0) break;
      o--;
    }
    r++;
  }
  return t === r || o !== 0 || (s.str = Yn(e.slice(t, r)), s.pos = r, s.ok = !0), s;
}
function cm(e, t, n, i) {
  let r, s = t;
  const o = {
    ok: !1,
    can_continue: !1,
    pos: 0,
    str: "",
    marker: 0
  };
  if (i)
    o.str = i.str, o.marker = i.marker;
  else {
    if (s >= n) return o;
    let l = e.charCodeAt(s);
    if (l !== 34 && l !== 39 && l !== 40) return o;
    t++, s++, l === 40 && (l = 41), o.marker = l;
  }
  for (; s < n; ) {
    if (r = e.charCodeAt(s), r === o.marker)
      return o.pos = s + 1, o.str += Yn(e.slice(t, s)), o.ok = !0, o;
    if (r === 40 && o.marker === 41) return o;
    r === 92 && s + 1 < n && s++, s++;
  }
  return o.can_continue = !0, o.str += Yn(e.slice(t, s)), o;
}
var am = /* @__PURE__ */ lu({
  parseLinkDestination: () => lm,
  parseLinkLabel: () => om,
  parseLinkTitle: () => cm
});
function Ti(e) {
  "@babel/helpers - typeof";
  return Ti = typeof Symbol == "function" && typeof Symbol.iterator == "symbol" ? function(t) {
    return typeof t;
  } : function(t) {
    return t && typeof Symbol == "function" && t.constructor === Symbol && t !== Symbol.prototype ? "symbol" : typeof t;
  }, Ti(e);
}
function um(e, t) {
  if (Ti(e) != "object" || !e) return e;
  var n = e[Symbol.toPrimitive];
  if (n !== void 0) {
    var i = n.call(e, t);
    if (Ti(i) != "object") return i;
    throw new TypeError("@@toPrimitive must return a primitive value.");
  }
  return (t === "string" ? String : Number)(e);
}
function fm(e) {
  var t = um(e, "string");
  return Ti(t) == "symbol" ? t : t + "";
}
function $(e, t, n) {
  return (t = fm(t)) in e ? Object.defineProperty(e, t, {
    value: n,
    enumerable: !0,
    configurable: !0,
    writable: !0
  }) : e[t] = n, e;
}
var Dn = class {
  constructor(e, t, n) {
    $(
      this,
      /**
      * Source map info. Format: `[ line_begin, line_end ]`
      */
      "map",
      null
    ), $(
      this,
      /**
      * nesting level, the same as `state.level`
      */
      "level",
      0
    ), $(
      this,
      /**
      * An array of child nodes (inline and img tokens)
      */
      "children",
      null
    ), $(
      this,
      /**
      * In a case of self-closing tag (code, html, fence, etc.),
      * it has contents of this tag.
      */
      "content",
      ""
    ), $(
      this,
      /**
      * '*' or '_' for emphasis, fence string for fence, etc.
      */
      "markup",
      ""
    ), $(
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
    ), $(
      this,
      /**
      * True for block-level tokens, false for inline tokens.
      * Used in renderer to calculate line breaks
      */
      "block",
      !1
    ), $(
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
    for (let n = 0, i = t.length; n < i; n++) if (t[n][0] === e) return n;
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
    const n = this.attrIndex(e), i = [e, t];
    n < 0 ? this.attrPush(i) : this.attrs[n] = i;
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
}, Fi = class {
  constructor() {
    $(
      this,
      /** @internal */
      "__rules__",
      []
    ), $(
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
    const i = this.__find__(e);
    if (i === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__[i].fn = t, this.__rules__[i].alt = n.alt || [], this.__cache__ = null;
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
  before(e, t, n, i = {}) {
    const r = this.__find__(e);
    if (r === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(r, 0, {
      name: t,
      enabled: !0,
      fn: n,
      alt: i.alt || []
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
  after(e, t, n, i = {}) {
    const r = this.__find__(e);
    if (r === -1) throw new Error(`Parser rule not found: ${e}`);
    this.__rules__.splice(r + 1, 0, {
      name: t,
      enabled: !0,
      fn: n,
      alt: i.alt || []
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
    return e.forEach((i) => {
      const r = this.__find__(i);
      if (r < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${i}`);
      }
      this.__rules__[r].enabled = !0, n.push(i);
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
    return e.forEach((i) => {
      const r = this.__find__(i);
      if (r < 0) {
        if (t) return;
        throw new Error(`Rules manager: invalid rule name ${i}`);
      }
      this.__rules__[r].enabled = !1, n.push(i);
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
}, St = {};
St.code_inline = function(e, t, n, i, r) {
  const s = e[t];
  return `<code${r.renderAttrs(s)}>${sn(s.content)}</code>`;
};
St.code_block = function(e, t, n, i, r) {
  const s = e[t];
  return `<pre${r.renderAttrs(s)}><code>${sn(e[t].content)}</code></pre>
`;
};
St.fence = function(e, t, n, i, r) {
  const s = e[t], o = s.info ? Yn(s.info).trim() : "";
  let l = "", c = "";
  if (o) {
    const u = o.split(/(\s+)/g);
    l = u[0], c = u.slice(2).join("");
  }
  let a;
  if (n.highlight ? a = n.highlight(s.content, l, c) || sn(s.content) : a = sn(s.content), a.indexOf("<pre") === 0) return a + `
`;
  if (o) {
    const u = s.attrIndex("class"), h = s.attrs ? s.attrs.slice() : [];
    u < 0 ? h.push(["class", `${n.langPrefix}${l}`]) : (h[u] = [h[u][0], h[u][1]], h[u][1] += ` ${n.langPrefix}${l}`);
    const w = { attrs: h };
    return `<pre><code${r.renderAttrs(w)}>${a}</code></pre>
`;
  }
  return `<pre><code${r.renderAttrs(s)}>${a}</code></pre>
`;
};
St.image = function(e, t, n, i, r) {
  const s = e[t];
  return s.attrs[s.attrIndex("alt")][1] = r.renderInlineAsText(s.children, n, i), r.renderToken(e, t, n);
};
St.hardbreak = function(e, t, n) {
  return n.xhtmlOut ? `<br />
` : `<br>
`;
};
St.softbreak = function(e, t, n) {
  return n.breaks ? n.xhtmlOut ? `<br />
` : `<br>
` : `
`;
};
St.text = function(e, t) {
  return sn(e[t].content);
};
St.html_block = function(e, t) {
  return e[t].content;
};
St.html_inline = function(e, t) {
  return e[t].content;
};
var fu = class {
  constructor() {
    $(
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
      Object.assign({}, St)
    );
  }
  /**
  * Render token attributes to string.
  */
  renderAttrs(e) {
    let t, n, i;
    if (!e.attrs) return "";
    for (i = "", t = 0, n = e.attrs.length; t < n; t++) i += ` ${sn(e.attrs[t][0])}="${sn(String(e.attrs[t][1]))}"`;
    return i;
  }
  /**
  * Default token renderer. Can be overriden by custom function
  * in {@link Renderer.rules}.
  */
  renderToken(e, t, n) {
    const i = e[t];
    let r = "";
    if (i.hidden) return "";
    let s = t - 1;
    for (; s >= 0 && e[s].hidden && e[s].nesting === 0; ) s--;
    i.block && i.nesting !== -1 && s >= 0 && e[s].hidden && e[s].nesting === -1 && (r += `
`), r += (i.nesting === -1 ? "</" : "<") + i.tag, r += this.renderAttrs(i), i.nesting === 0 && n.xhtmlOut && (r += " /");
    let o = !1;
    if (i.block && (o = !0, i.nesting === 1)) {
      let l = t + 1;
      for (; l < e.length && e[l].hidden && e[l].nesting === 0; ) l++;
      if (l < e.length) {
        const c = e[l];
        (c.type === "inline" || c.hidden || c.nesting === -1 && c.tag === i.tag) && (o = !1);
      }
    }
    return r += o ? `>
` : ">", r;
  }
  /**
  * The same as {@link Renderer.render}, but for single token of `inline` type.
  */
  renderInline(e, t, n) {
    let i = "";
    const r = this.rules;
    for (let s = 0, o = e.length; s < o; s++) {
      const l = e[s].type;
      typeof r[l] < "u" ? i += r[l](e, s, t, n, this) : i += this.renderToken(e, s, t);
    }
    return i;
  }
  /**
  * Special kludge for image `alt` attributes to conform CommonMark spec.
  * Don't try to use it! Spec requires to show `alt` content with stripped markup,
  * instead of simple escaping.
  */
  renderInlineAsText(e, t, n) {
    let i = "";
    for (let r = 0, s = e.length; r < s; r++) switch (e[r].type) {
      case "text":
      case "code_inline":
        i += e[r].content;
        break;
      case "image":
        i += this.renderInlineAsText(e[r].children, t, n);
        break;
      case "html_inline":
      case "html_block":
        i += e[r].content;
        break;
      case "softbreak":
      case "hardbreak":
        i += `
`;
    }
    return i;
  }
  /**
  * Takes token stream and generates HTML. Probably, you will never need to call
  * this method directly.
  */
  render(e, t, n) {
    let i = "";
    const r = this.rules;
    for (let s = 0, o = e.length; s < o; s++) {
      const l = e[s].type;
      l === "inline" ? i += this.renderInline(e[s].children, t, n) : typeof r[l] < "u" ? i += r[l](e, s, t, n, this) : i += this.renderToken(e, s, t);
    }
    return i;
  }
}, hu = class {
  constructor(e, t, n) {
    $(this, "tokens", []), $(this, "inlineMode", !1), $(this, "Token", Dn), this.src = e, this.env = n, this.md = t;
  }
}, hm = /\r\n?/g, dm = /\0/g;
function pm(e) {
  let t;
  t = e.src.replace(hm, `
`), t = t.replace(dm, "�"), e.src = t;
}
function gm(e) {
  let t;
  e.inlineMode ? (t = new e.Token("inline", "", 0), t.content = e.src, t.map = [0, 1], t.children = [], e.tokens.push(t)) : e.md.block.parse(e.src, e.md, e.env, e.tokens);
}
function mm(e) {
  const t = e.tokens;
  let n = 0;
  for (let i = 0; i < t.length; i++)
    t[i].type !== "reference_definition" && (i !== n && (t[n] = t[i]), n++);
  t.length !== n && (t.length = n);
}
function _m(e) {
  const t = e.tokens;
  for (let n = 0, i = t.length; n < i; n++) {
    const r = t[n];
    r.type === "inline" && e.md.inline.parse(r.content, e.md, e.env, r.children);
  }
}
function bm(e) {
  return /^<a[>\s]/i.test(e);
}
function ym(e) {
  return /^<\/a\s*>/i.test(e);
}
function wm(e) {
  const t = e.tokens;
  if (e.md.options.linkify)
    for (let n = 0, i = t.length; n < i; n++) {
      if (t[n].type !== "inline" || !e.md.linkify.test(t[n].content)) continue;
      const r = t[n].children, s = [];
      let o = 0;
      for (let l = r.length - 1; l >= 0; l--) {
        const c = r[l];
        if (c.type === "link_close") {
          for (l--; r[l].level !== c.level && r[l].type !== "link_open"; ) l--;
          continue;
        }
        if (c.type === "html_inline" && (bm(c.content) && o > 0 && o--, ym(c.content) && o++), !(o > 0) && c.type === "text" && e.md.linkify.test(c.content)) {
          const a = c.content;
          let u = e.md.linkify.match(a);
          const h = [];
          let w = c.level, _ = 0;
          u.length > 0 && u[0].index === 0 && l > 0 && r[l - 1].type === "text_special" && (u = u.slice(1));
          for (let p = 0; p < u.length; p++) {
            const x = u[p].url, D = e.md.normalizeLink(x);
            if (!e.md.validateLink(D)) continue;
            let I = u[p].text;
            u[p].schema ? u[p].schema === "mailto:" && !/^mailto:/i.test(I) ? I = e.md.normalizeLinkText(`mailto:${I}`).replace(/^mailto:/, "") : I = e.md.normalizeLinkText(I) : I = e.md.normalizeLinkText(`http://${I}`).replace(/^http:\/\//, "");
            const k = u[p].index;
            if (k > _) {
              const B = new e.Token("text", "", 0);
              B.content = a.slice(_, k), B.level = w, h.push(B);
            }
            const m = new e.Token("link_open", "a", 1);
            m.attrs = [["href", D]], m.level = w++, m.markup = "linkify", m.info = "auto", h.push(m);
            const g = new e.Token("text", "", 0);
            g.content = I, g.level = w, h.push(g);
            const v = new e.Token("link_close", "a", -1);
            v.level = --w, v.markup = "linkify", v.info = "auto", h.push(v), _ = u[p].lastIndex;
          }
          if (_ < a.length) {
            const p = new e.Token("text", "", 0);
            p.content = a.slice(_), p.level = w, h.push(p);
          }
          s.push({
            index: l,
            nodes: h
          });
        }
      }
      if (s.length > 0) {
        let l = r.length;
        for (const h of s) l += h.nodes.length - 1;
        const c = new Array(l);
        let a = 0, u = 0;
        s.reverse();
        for (let h = 0; h < r.length; h++) {
          const w = s[a];
          if (w?.index === h) {
            for (const _ of w.nodes) c[u++] = _;
            a++;
          } else c[u++] = r[h];
        }
        t[n].children = c;
      }
    }
}
var du = /\+-|\.\.|\?\?\?\?|!!!!|,,|--/, km = /\((c|tm|r)\)/i, Am = /\((c|tm|r)\)/gi, xm = {
  c: "©",
  r: "®",
  tm: "™"
};
function Rm(e, t) {
  return xm[t.toLowerCase()];
}
function vm(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const i = e[n];
    i.type === "text" && !t && (i.content = i.content.replace(Am, Rm)), i.type === "link_open" && i.info === "auto" && t--, i.type === "link_close" && i.info === "auto" && t++;
  }
}
function Em(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const i = e[n];
    i.type === "text" && !t && du.test(i.content) && (i.content = i.content.replace(/\+-/g, "±").replace(/\.{2,}/g, "…").replace(/([?!])…/g, "$1..").replace(/([?!]){4,}/g, "$1$1$1").replace(/,{2,}/g, ",").replace(/(^|[^-])---(?=[^-]|$)/gm, "$1—").replace(/(^|\s)--(?=\s|$)/gm, "$1–").replace(/(^|[^-\s])--(?=[^-\s]|$)/gm, "$1–")), i.type === "link_open" && i.info === "auto" && t--, i.type === "link_close" && i.info === "auto" && t++;
  }
}
function Cm(e) {
  let t;
  if (e.md.options.typographer)
    for (t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type === "inline" && (km.test(e.tokens[t].content) && vm(e.tokens[t].children), du.test(e.tokens[t].content) && Em(e.tokens[t].children));
}
var Dm = /['"]/, pc = /['"]/g, gc = "’", Sm = 1e3;
function mc(e, t, n) {
  for (; e.length > n; ) {
    const i = e.pop();
    i.isSingleQuote ? t.single = i.prevSameQuoteIdx : t.double = i.prevSameQuoteIdx;
  }
}
function Yi(e, t, n, i) {
  e[t] || (e[t] = []), e[t].push({
    pos: n,
    ch: i
  });
}
function Tm(e, t) {
  let n = "", i = 0;
  t.sort((r, s) => r.pos - s.pos);
  for (let r = 0; r < t.length; r++) {
    const s = t[r];
    n += e.slice(i, s.pos) + s.ch, i = s.pos + 1;
  }
  return n + e.slice(i);
}
function Fm(e, t) {
  let n;
  const i = [], r = {
    single: -1,
    double: -1
  }, s = {};
  for (let o = 0; o < e.length; o++) {
    const l = e[o], c = e[o].level;
    for (n = i.length - 1; n >= 0 && !(i[n].level <= c); n--) ;
    if (mc(i, r, n + 1), l.type !== "text") continue;
    const a = l.content;
    let u = 0;
    const h = a.length;
    e: for (; u < h; ) {
      pc.lastIndex = u;
      const w = pc.exec(a);
      if (!w) break;
      let _ = !0, p = !0;
      u = w.index + 1;
      const x = w[0] === "'";
      let D = 32;
      if (w.index - 1 >= 0) D = a.charCodeAt(w.index - 1);
      else for (n = o - 1; n >= 0 && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n--)
        if (e[n].content) {
          D = e[n].content.charCodeAt(e[n].content.length - 1);
          break;
        }
      let I = 32;
      if (u < h) I = a.charCodeAt(u);
      else for (n = o + 1; n < e.length && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n++)
        if (e[n].content) {
          I = e[n].content.charCodeAt(0);
          break;
        }
      const k = Si(D) || Di(D), m = Si(I) || Di(I), g = Ci(D), v = Ci(I);
      if (v ? _ = !1 : m && (g || k || (_ = !1)), g ? p = !1 : k && (v || m || (p = !1)), I === 34 && w[0] === '"' && D >= 48 && D <= 57 && (p = _ = !1), _ && p && (_ = k, p = m), !_ && !p) {
        x && Yi(s, o, w.index, gc);
        continue;
      }
      if (p && (n = x ? r.single : r.double, n >= 0 && i[n].level === c)) {
        const B = i[n];
        let U, Q;
        x ? (U = t.md.options.quotes[2], Q = t.md.options.quotes[3]) : (U = t.md.options.quotes[0], Q = t.md.options.quotes[1]), Yi(s, o, w.index, Q), Yi(s, B.tokenIdx, B.contentPos, U), mc(i, r, n);
        continue e;
      }
      if (_) {
        if (i.length >= Sm) return;
        i.push({
          tokenIdx: o,
          contentPos: w.index,
          isSingleQuote: x,
          level: c,
          prevSameQuoteIdx: x ? r.single : r.double
        }), x ? r.single = i.length - 1 : r.double = i.length - 1;
      } else p && x && Yi(s, o, w.index, gc);
    }
  }
  Object.keys(s).forEach(function(o) {
    const l = Number(o);
    e[l].content = Tm(e[l].content, s[o]);
  });
}
function Im(e) {
  if (e.md.options.typographer)
    for (let t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type !== "inline" || !Dm.test(e.tokens[t].content) || Fm(e.tokens[t].children, e);
}
function Om(e) {
  let t, n;
  const i = e.length;
  for (t = 0; t < i; t++) e[t].type === "text_special" && (e[t].type = "text");
  for (t = n = 0; t < i; t++) e[t].type === "text" && t + 1 < i && e[t + 1].type === "text" ? e[t + 1].content = e[t].content + e[t + 1].content : (t !== n && (e[n] = e[t]), n++);
  t !== n && (e.length = n);
}
function Mm(e) {
  let t, n;
  const i = e.tokens, r = i.length;
  for (let s = 0; s < r; s++) {
    if (i[s].type !== "inline") continue;
    const o = i[s].children, l = o.length;
    for (t = 0; t < l; t++)
      o[t].type === "text_special" && (o[t].type = "text"), o[t].children && Om(o[t].children);
    for (t = n = 0; t < l; t++) o[t].type === "text" && t + 1 < l && o[t + 1].type === "text" ? o[t + 1].content = o[t].content + o[t + 1].content : (t !== n && (o[n] = o[t]), n++);
    t !== n && (o.length = n);
  }
}
var Ss = [
  ["normalize", pm],
  ["block", gm],
  ["strip_references", mm],
  ["inline", _m],
  ["linkify", wm],
  ["replacements", Cm],
  ["smartquotes", Im],
  ["text_join", Mm]
], pu = class {
  constructor() {
    $(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of core rules.
      */
      "ruler",
      new Fi()
    ), $(this, "State", hu);
    for (let e = 0; e < Ss.length; e++) this.ruler.push(Ss[e][0], Ss[e][1]);
  }
  /**
  * Executes core chain rules.
  */
  process(e) {
    const t = this.ruler.getRules("");
    for (let n = 0, i = t.length; n < i; n++) t[n](e);
  }
}, gu = class {
  constructor(e, t, n, i) {
    $(this, "bMarks", []), $(this, "eMarks", []), $(this, "tShift", []), $(this, "sCount", []), $(this, "bsCount", []), $(this, "blkIndent", 0), $(this, "line", 0), $(this, "lineMax", 0), $(this, "tight", !1), $(this, "listIndent", -1), $(this, "parentType", "root"), $(this, "level", 0), $(this, "Token", Dn), this.src = e, this.md = t, this.env = n, this.tokens = i;
    const r = this.src;
    for (let s = 0, o = 0, l = 0, c = 0, a = r.length, u = !1; o < a; o++) {
      const h = r.charCodeAt(o);
      if (!u)
        if (ye(h)) {
          l++, h === 9 ? c += 4 - c % 4 : c++;
          continue;
        } else u = !0;
      (h === 10 || o === a - 1) && (h !== 10 && o++, this.bMarks.push(s), this.eMarks.push(o), this.tShift.push(l), this.sCount.push(c), this.bsCount.push(0), u = !1, l = 0, c = 0, s = o + 1);
    }
    this.bMarks.push(r.length), this.eMarks.push(r.length), this.tShift.push(0), this.sCount.push(0), this.bsCount.push(0), this.lineMax = this.bMarks.length - 1;
  }
  push(e, t, n) {
    const i = new Dn(e, t, n);
    return i.block = !0, n < 0 && this.level--, i.level = this.level, n > 0 && this.level++, this.tokens.push(i), i;
  }
  isEmpty(e) {
    return this.bMarks[e] + this.tShift[e] >= this.eMarks[e];
  }
  skipEmptyLines(e) {
    for (let t = this.lineMax; e < t && !(this.bMarks[e] + this.tShift[e] < this.eMarks[e]); e++) ;
    return e;
  }
  skipSpaces(e) {
    for (let t = this.src.length; e < t && ye(this.src.charCodeAt(e)); e++) ;
    return e;
  }
  skipSpacesBack(e, t) {
    if (e <= t) return e;
    for (; e > t; ) if (!ye(this.src.charCodeAt(--e))) return e + 1;
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
  getLines(e, t, n, i) {
    if (e >= t) return "";
    const r = new Array(t - e);
    for (let s = 0, o = e; o < t; o++, s++) {
      let l = 0;
      const c = this.bMarks[o];
      let a = c, u;
      for (o + 1 < t || i ? u = this.eMarks[o] + 1 : u = this.eMarks[o]; a < u && l < n; ) {
        const h = this.src.charCodeAt(a);
        if (ye(h))
          h === 9 ? l += 4 - (l + this.bsCount[o]) % 4 : l++;
        else if (a - c < this.tShift[o]) l++;
        else break;
        a++;
      }
      l > n ? r[s] = new Array(l - n + 1).join(" ") + this.src.slice(a, u) : r[s] = this.src.slice(a, u);
    }
    return r.join("");
  }
}, Nm = 65536;
function Ts(e, t) {
  const n = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  return e.src.slice(n, i);
}
function _c(e) {
  const t = [], n = e.length;
  let i = 0, r = e.charCodeAt(i), s = !1, o = 0, l = "";
  for (; i < n; )
    r === 124 && (s ? (l += e.substring(o, i - 1), o = i) : (t.push(l + e.substring(o, i)), l = "", o = i + 1)), s = r === 92, i++, r = e.charCodeAt(i);
  return t.push(l + e.substring(o)), t;
}
function Lm(e, t, n, i) {
  if (t + 2 > n) return !1;
  let r = t + 1;
  if (e.sCount[r] < e.blkIndent || e.sCount[r] - e.blkIndent >= 4) return !1;
  let s = e.bMarks[r] + e.tShift[r];
  if (s >= e.eMarks[r]) return !1;
  const o = e.src.charCodeAt(s++);
  if (o !== 124 && o !== 45 && o !== 58 || s >= e.eMarks[r]) return !1;
  const l = e.src.charCodeAt(s++);
  if (l !== 124 && l !== 45 && l !== 58 && !ye(l) || o === 45 && ye(l)) return !1;
  for (; s < e.eMarks[r]; ) {
    const g = e.src.charCodeAt(s);
    if (g !== 124 && g !== 45 && g !== 58 && !ye(g)) return !1;
    s++;
  }
  let c = Ts(e, t + 1), a = c.split("|");
  const u = [];
  for (let g = 0; g < a.length; g++) {
    const v = a[g].trim();
    if (!v) {
      if (g === 0 || g === a.length - 1) continue;
      return !1;
    }
    if (!/^:?-+:?$/.test(v)) return !1;
    v.charCodeAt(v.length - 1) === 58 ? u.push(v.charCodeAt(0) === 58 ? "center" : "right") : v.charCodeAt(0) === 58 ? u.push("left") : u.push("");
  }
  if (c = Ts(e, t).trim(), c.indexOf("|") === -1 || e.sCount[t] - e.blkIndent >= 4) return !1;
  a = _c(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop();
  const h = a.length;
  if (h === 0 || h !== u.length) return !1;
  if (i) return !0;
  const w = e.parentType;
  e.parentType = "table";
  const _ = e.md.block.ruler.getRules("blockquote"), p = e.push("table_open", "table", 1), x = [t, 0];
  p.map = x;
  const D = e.push("thead_open", "thead", 1);
  D.map = [t, t + 1];
  const I = e.push("tr_open", "tr", 1);
  I.map = [t, t + 1];
  for (let g = 0; g < a.length; g++) {
    const v = e.push("th_open", "th", 1);
    u[g] && (v.attrs = [["style", `text-align:${u[g]}`]]);
    const B = e.push("inline", "", 0);
    B.content = a[g].trim(), B.children = [], e.push("th_close", "th", -1);
  }
  e.push("tr_close", "tr", -1), e.push("thead_close", "thead", -1);
  let k, m = 0;
  for (r = t + 2; r < n && !(e.sCount[r] < e.blkIndent); r++) {
    let g = !1;
    for (let B = 0, U = _.length; B < U; B++) if (_[B](e, r, n, !0)) {
      g = !0;
      break;
    }
    if (g || (c = Ts(e, r).trim(), !c) || e.sCount[r] - e.blkIndent >= 4 || (a = _c(c), a.length && a[0] === "" && a.shift(), a.length && a[a.length - 1] === "" && a.pop(), m += h - a.length, m > Nm)) break;
    if (r === t + 2) {
      const B = e.push("tbody_open", "tbody", 1);
      B.map = k = [t + 2, 0];
    }
    const v = e.push("tr_open", "tr", 1);
    v.map = [r, r + 1];
    for (let B = 0; B < h; B++) {
      const U = e.push("td_open", "td", 1);
      u[B] && (U.attrs = [["style", `text-align:${u[B]}`]]);
      const Q = e.push("inline", "", 0);
      Q.content = a[B] ? a[B].trim() : "", Q.children = [], e.push("td_close", "td", -1);
    }
    e.push("tr_close", "tr", -1);
  }
  return k && (e.push("tbody_close", "tbody", -1), k[1] = r), e.push("table_close", "table", -1), x[1] = r, e.parentType = w, e.line = r, !0;
}
function Pm(e, t, n) {
  if (e.sCount[t] - e.blkIndent < 4) return !1;
  let i = t + 1, r = i;
  for (; i < n; ) {
    if (e.isEmpty(i)) {
      i++;
      continue;
    }
    if (e.sCount[i] - e.blkIndent >= 4) {
      i++, r = i;
      continue;
    }
    break;
  }
  e.line = r;
  const s = e.push("code_block", "code", 0);
  return s.content = e.getLines(t, r, 4 + e.blkIndent, !1) + `
`, s.map = [t, e.line], !0;
}
function Bm(e, t, n, i) {
  let r = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || r + 3 > s) return !1;
  const o = e.src.charCodeAt(r);
  if (o !== 126 && o !== 96) return !1;
  let l = r;
  r = e.skipChars(r, o);
  let c = r - l;
  if (c < 3) return !1;
  const a = e.src.slice(l, r), u = e.src.slice(r, s);
  if (o === 96 && u.indexOf(String.fromCharCode(o)) >= 0)
    return !1;
  if (i) return !0;
  let h = t, w = !1;
  for (; h++, !(h >= n || (r = l = e.bMarks[h] + e.tShift[h], s = e.eMarks[h], r < s && e.sCount[h] < e.blkIndent)); )
    if (e.src.charCodeAt(r) === o && !(e.sCount[h] - e.blkIndent >= 4) && (r = e.skipChars(r, o), !(r - l < c) && (r = e.skipSpaces(r), !(r < s)))) {
      w = !0;
      break;
    }
  c = e.sCount[t], e.line = h + (w ? 1 : 0);
  const _ = e.push("fence", "code", 0);
  return _.info = u, _.content = e.getLines(t + 1, h, c, !0), _.markup = a, _.map = [t, e.line], !0;
}
function jm(e, t, n, i) {
  let r = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  const o = e.lineMax;
  if (e.sCount[t] - e.blkIndent >= 4 || e.src.charCodeAt(r) !== 62) return !1;
  if (i) return !0;
  const l = [], c = [], a = [], u = [], h = e.md.block.ruler.getRules("blockquote"), w = e.parentType;
  e.parentType = "blockquote";
  let _ = !1, p;
  for (p = t; p < n; p++) {
    const m = e.sCount[p] < e.blkIndent;
    if (r = e.bMarks[p] + e.tShift[p], s = e.eMarks[p], r >= s) break;
    if (e.src.charCodeAt(r++) === 62 && !m) {
      let v = e.sCount[p] + 1, B, U;
      e.src.charCodeAt(r) === 32 ? (r++, v++, U = !1, B = !0) : e.src.charCodeAt(r) === 9 ? (B = !0, (e.bsCount[p] + v) % 4 === 3 ? (r++, v++, U = !1) : U = !0) : B = !1;
      let Q = v;
      for (l.push(e.bMarks[p]), e.bMarks[p] = r; r < s; ) {
        const ee = e.src.charCodeAt(r);
        if (ye(ee))
          ee === 9 ? Q += 4 - (Q + e.bsCount[p] + (U ? 1 : 0)) % 4 : Q++;
        else break;
        r++;
      }
      _ = r >= s, c.push(e.bsCount[p]), e.bsCount[p] = e.sCount[p] + 1 + (B ? 1 : 0), a.push(e.sCount[p]), e.sCount[p] = Q - v, u.push(e.tShift[p]), e.tShift[p] = r - e.bMarks[p];
      continue;
    }
    if (_) break;
    let g = !1;
    for (let v = 0, B = h.length; v < B; v++) if (h[v](e, p, n, !0)) {
      g = !0;
      break;
    }
    if (g) {
      e.lineMax = p, e.blkIndent !== 0 && (l.push(e.bMarks[p]), c.push(e.bsCount[p]), u.push(e.tShift[p]), a.push(e.sCount[p]), e.sCount[p] -= e.blkIndent);
      break;
    }
    l.push(e.bMarks[p]), c.push(e.bsCount[p]), u.push(e.tShift[p]), a.push(e.sCount[p]), e.sCount[p] = -1;
  }
  const x = e.blkIndent;
  e.blkIndent = 0;
  const D = e.push("blockquote_open", "blockquote", 1);
  D.markup = ">";
  const I = [t, 0];
  D.map = I, e.md.block.tokenize(e, t, p);
  const k = e.push("blockquote_close", "blockquote", -1);
  k.markup = ">", e.lineMax = o, e.parentType = w, I[1] = e.line;
  for (let m = 0; m < u.length; m++)
    e.bMarks[m + t] = l[m], e.tShift[m + t] = u[m], e.sCount[m + t] = a[m], e.bsCount[m + t] = c[m];
  return e.blkIndent = x, !0;
}
function zm(e, t, n, i) {
  const r = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let s = e.bMarks[t] + e.tShift[t];
  const o = e.src.charCodeAt(s++);
  if (o !== 42 && o !== 45 && o !== 95) return !1;
  let l = 1;
  for (; s < r; ) {
    const a = e.src.charCodeAt(s++);
    if (a !== o && !ye(a)) return !1;
    a === o && l++;
  }
  if (l < 3) return !1;
  if (i) return !0;
  e.line = t + 1;
  const c = e.push("hr", "hr", 0);
  return c.map = [t, e.line], c.markup = Array(l + 1).join(String.fromCharCode(o)), !0;
}
function bc(e, t) {
  const n = e.eMarks[t];
  let i = e.bMarks[t] + e.tShift[t];
  const r = e.src.charCodeAt(i++);
  return r !== 42 && r !== 45 && r !== 43 || i < n && !ye(e.src.charCodeAt(i)) ? -1 : i;
}
function yc(e, t) {
  const n = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  let r = n;
  if (r + 1 >= i) return -1;
  let s = e.src.charCodeAt(r++);
  if (s < 48 || s > 57) return -1;
  for (; ; ) {
    if (r >= i) return -1;
    if (s = e.src.charCodeAt(r++), s >= 48 && s <= 57) {
      if (r - n >= 10) return -1;
      continue;
    }
    if (s === 41 || s === 46) break;
    return -1;
  }
  return r < i && (s = e.src.charCodeAt(r), !ye(s)) ? -1 : r;
}
function $m(e, t) {
  const n = e.level + 2;
  for (let i = t + 2, r = e.tokens.length - 2; i < r; i++) e.tokens[i].level === n && e.tokens[i].type === "paragraph_open" && (e.tokens[i + 2].hidden = !0, e.tokens[i].hidden = !0, i += 2);
}
function Um(e, t, n, i) {
  let r, s, o, l, c = t, a = !0;
  if (e.sCount[c] - e.blkIndent >= 4 || e.listIndent >= 0 && e.sCount[c] - e.listIndent >= 4 && e.sCount[c] < e.blkIndent) return !1;
  let u = !1;
  i && e.parentType === "paragraph" && e.sCount[c] >= e.blkIndent && (u = !0);
  let h, w, _;
  if ((_ = yc(e, c)) >= 0) {
    if (h = !0, o = e.bMarks[c] + e.tShift[c], w = Number(e.src.slice(o, _ - 1)), u && w !== 1) return !1;
  } else if ((_ = bc(e, c)) >= 0) h = !1;
  else return !1;
  if (u && e.skipSpaces(_) >= e.eMarks[c])
    return !1;
  if (i) return !0;
  const p = e.src.charCodeAt(_ - 1), x = e.tokens.length;
  h ? (l = e.push("ordered_list_open", "ol", 1), w !== 1 && (l.attrs = [["start", w]])) : l = e.push("bullet_list_open", "ul", 1);
  const D = [c, 0];
  l.map = D, l.markup = String.fromCharCode(p);
  let I = !1;
  const k = e.md.block.ruler.getRules("list"), m = e.parentType;
  for (e.parentType = "list"; c < n; ) {
    s = _, r = e.eMarks[c];
    const g = e.sCount[c] + _ - (e.bMarks[c] + e.tShift[c]);
    let v = g;
    for (; s < r; ) {
      const we = e.src.charCodeAt(s);
      if (we === 9) v += 4 - (v + e.bsCount[c]) % 4;
      else if (we === 32) v++;
      else break;
      s++;
    }
    const B = s;
    let U;
    B >= r ? U = 1 : U = v - g, U > 4 && (U = 1);
    const Q = g + U;
    l = e.push("list_item_open", "li", 1), l.markup = String.fromCharCode(p);
    const ee = [c, 0];
    l.map = ee, h && (l.info = e.src.slice(o, _ - 1));
    const re = e.tight, G = e.tShift[c], se = e.sCount[c], Ce = e.listIndent;
    if (e.listIndent = e.blkIndent, e.blkIndent = Q, e.tight = !0, e.tShift[c] = B - e.bMarks[c], e.sCount[c] = v, B >= r && e.isEmpty(c + 1) ? e.line = Math.min(e.line + 2, n) : e.md.block.tokenize(e, c, n), (!e.tight || I) && (a = !1), I = e.line - c > 1 && e.isEmpty(e.line - 1), e.blkIndent = e.listIndent, e.listIndent = Ce, e.tShift[c] = G, e.sCount[c] = se, e.tight = re, l = e.push("list_item_close", "li", -1), l.markup = String.fromCharCode(p), c = e.line, ee[1] = c, c >= n || e.sCount[c] < e.blkIndent || e.sCount[c] - e.blkIndent >= 4) break;
    let Ee = !1;
    for (let we = 0, gt = k.length; we < gt; we++) if (k[we](e, c, n, !0)) {
      Ee = !0;
      break;
    }
    if (Ee) break;
    if (h) {
      if (_ = yc(e, c), _ < 0) break;
      o = e.bMarks[c] + e.tShift[c];
    } else if (_ = bc(e, c), _ < 0) break;
    if (p !== e.src.charCodeAt(_ - 1)) break;
  }
  return h ? l = e.push("ordered_list_close", "ol", -1) : l = e.push("bullet_list_close", "ul", -1), l.markup = String.fromCharCode(p), D[1] = c, e.line = c, e.parentType = m, a && $m(e, x), !0;
}
var Fs = 999;
function Wm(e) {
  let t = e.length;
  for (let n = 0; n < e.length - 1; n++) {
    const i = e.charCodeAt(n);
    if (i < 55296 || i > 56319) continue;
    const r = e.charCodeAt(n + 1);
    r >= 56320 && r <= 57343 && (t--, n++);
  }
  return t;
}
function ai(e, t) {
  return Math.min(e.eMarks[t] + 1, e.src.length);
}
function Xi(e, t) {
  const n = e.lineMax;
  if (t >= n || e.isEmpty(t)) return -1;
  let i = !1;
  if (e.sCount[t] - e.blkIndent > 3 && (i = !0), e.sCount[t] < 0 && (i = !0), !i) {
    const r = e.md.block.ruler.getRules("reference"), s = e.parentType;
    e.parentType = "reference";
    let o = !1;
    for (let l = 0, c = r.length; l < c; l++) if (r[l](e, t, n, !0)) {
      o = !0;
      break;
    }
    if (e.parentType = s, o) return -1;
  }
  return e.bMarks[t] + e.tShift[t];
}
function Jm(e, t, n, i) {
  const r = e.src;
  let s = e.bMarks[t] + e.tShift[t], o = t + 1;
  if (e.sCount[t] - e.blkIndent >= 4 || r.charCodeAt(s) !== 91) return !1;
  let l = ai(e, t), c = "", a = -1, u = ++s;
  for (; s < l; ) {
    if (c.length + s - u > Fs * 2) return !1;
    let B = r.charCodeAt(s);
    if (B === 91) return !1;
    if (B === 93) {
      a = s;
      break;
    }
    if (B === 92 && (B = r.charCodeAt(++s)), B === 10 && s < l) {
      const U = Xi(e, o);
      if (U < 0) return !1;
      c += r.slice(u, l), s = u = U, l = ai(e, o++);
      continue;
    }
    s++;
  }
  if (a < 0 || r.charCodeAt(a + 1) !== 58 || (c += r.slice(u, a), c.length > Fs && Wm(c) > Fs)) return !1;
  for (s = a + 2; s < l; ) {
    const B = r.charCodeAt(s);
    if (B === 10) {
      const U = Xi(e, o);
      if (U < 0) break;
      s = U, l = ai(e, o++);
    } else if (ye(B)) s++;
    else break;
  }
  const h = e.md.helpers.parseLinkDestination(r, s, l);
  if (!h.ok) return !1;
  const w = e.md.normalizeLink(h.str);
  if (!e.md.validateLink(w)) return !1;
  s = h.pos;
  const _ = s, p = l, x = o;
  for (; s < l; ) {
    const B = r.charCodeAt(s);
    if (B === 10) {
      const U = Xi(e, o);
      if (U < 0) break;
      s = U, l = ai(e, o++);
    } else if (ye(B)) s++;
    else break;
  }
  const D = s;
  let I = e.md.helpers.parseLinkTitle(r, s, l);
  for (; I.can_continue; ) {
    const B = Xi(e, o);
    if (B < 0) break;
    s = B, l = ai(e, o++), I = e.md.helpers.parseLinkTitle(r, s, l, I);
  }
  let k;
  for (D !== _ && I.ok ? (k = I.str, s = I.pos) : (k = "", s = _, l = p, o = x); s < l && ye(r.charCodeAt(s)); )
    s++;
  if (s < l && r.charCodeAt(s) !== 10 && k)
    for (k = "", s = _, l = p, o = x; s < l && ye(r.charCodeAt(s)); )
      s++;
  if (s < l && r.charCodeAt(s) !== 10) return !1;
  const m = Fr(c);
  if (!m) return !1;
  if (i) return !0;
  typeof e.env.references > "u" && (e.env.references = {}), typeof e.env.references[m] > "u" && (e.env.references[m] = {
    title: k,
    href: w
  });
  const g = e.push("reference_definition", "", 0);
  g.map = [t, o], g.hidden = !0;
  const v = /* @__PURE__ */ Object.create(null);
  return v.label = m, g.meta = v, e.line = o, !0;
}
var qm = [
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
], Hm = `<[A-Za-z][A-Za-z0-9\\-]*(?:\\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\\s*=\\s*(?:[^"'=<>\`\\x00-\\x20]+|'[^']*'|"[^"]*"))?)*\\s*\\/?>`, Vm = "<\\/[A-Za-z][A-Za-z0-9\\-]*\\s*>", mu = new RegExp(`^(?:${Hm}|${Vm})`), _n = [
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
    new RegExp(`^</?(${qm.join("|")})(?=(\\s|/?>|$))`, "i"),
    /^$/,
    !0
  ],
  [
    new RegExp(`${mu.source}\\s*$`),
    /^$/,
    !1
  ]
];
function Gm(e, t, n, i) {
  let r = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || !e.md.options.html || e.src.charCodeAt(r) !== 60) return !1;
  let o = e.src.slice(r, s), l = 0;
  for (; l < _n.length && !_n[l][0].test(o); l++) ;
  if (l === _n.length) return !1;
  if (i) return _n[l][2];
  let c = t + 1;
  const a = _n[l][1].test("");
  if (!_n[l][1].test(o)) {
    for (; c < n && !(e.sCount[c] < e.blkIndent && (a || !e.isEmpty(c))); c++)
      if (r = e.bMarks[c] + e.tShift[c], s = e.eMarks[c], o = e.src.slice(r, s), _n[l][1].test(o)) {
        o.length !== 0 && c++;
        break;
      }
  }
  e.line = c;
  const u = e.push("html_block", "", 0);
  return u.map = [t, c], u.content = e.getLines(t, c, e.blkIndent, !0), !0;
}
function Km(e, t, n, i) {
  let r = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let o = e.src.charCodeAt(r);
  if (o !== 35 || r >= s) return !1;
  let l = 1;
  for (o = e.src.charCodeAt(++r); o === 35 && r < s && l <= 6; )
    l++, o = e.src.charCodeAt(++r);
  if (l > 6 || r < s && !ye(o)) return !1;
  if (i) return !0;
  s = e.skipSpacesBack(s, r);
  const c = e.skipCharsBack(s, 35, r);
  c > r && ye(e.src.charCodeAt(c - 1)) && (s = c), e.line = t + 1;
  const a = e.push("heading_open", `h${l}`, 1);
  a.markup = "########".slice(0, l), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = Ir(e.src.slice(r, s)), u.map = [t, e.line], u.children = [];
  const h = e.push("heading_close", `h${l}`, -1);
  return h.markup = "########".slice(0, l), !0;
}
function Ym(e, t, n) {
  const i = e.md.block.ruler.getRules("paragraph");
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  const r = e.parentType;
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
    let w = !1;
    for (let _ = 0, p = i.length; _ < p; _++) if (i[_](e, l, n, !0)) {
      w = !0;
      break;
    }
    if (w) break;
  }
  if (!s)
    return e.parentType = r, !1;
  const c = Ir(e.getLines(t, l, e.blkIndent, !1));
  e.line = l + 1;
  const a = e.push("heading_open", `h${s}`, 1);
  a.markup = String.fromCharCode(o), a.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = c, u.map = [t, e.line - 1], u.children = [];
  const h = e.push("heading_close", `h${s}`, -1);
  return h.markup = String.fromCharCode(o), e.parentType = r, !0;
}
function Xm(e, t, n) {
  const i = e.md.block.ruler.getRules("paragraph"), r = e.parentType;
  let s = t + 1;
  for (e.parentType = "paragraph"; s < n && !e.isEmpty(s); s++) {
    if (e.sCount[s] - e.blkIndent > 3 || e.sCount[s] < 0) continue;
    let a = !1;
    for (let u = 0, h = i.length; u < h; u++) if (i[u](e, s, n, !0)) {
      a = !0;
      break;
    }
    if (a) break;
  }
  const o = Ir(e.getLines(t, s, e.blkIndent, !1));
  e.line = s;
  const l = e.push("paragraph_open", "p", 1);
  l.map = [t, e.line];
  const c = e.push("inline", "", 0);
  return c.content = o, c.map = [t, e.line], c.children = [], e.push("paragraph_close", "p", -1), e.parentType = r, !0;
}
var Zi = [
  [
    "table",
    Lm,
    ["paragraph", "reference"]
  ],
  ["code", Pm],
  [
    "fence",
    Bm,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "blockquote",
    jm,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "hr",
    zm,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "list",
    Um,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["reference", Jm],
  [
    "html_block",
    Gm,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  [
    "heading",
    Km,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["lheading", Ym],
  ["paragraph", Xm]
], _u = class {
  constructor() {
    $(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of block rules.
      */
      "ruler",
      new Fi()
    ), $(this, "State", gu);
    for (let e = 0; e < Zi.length; e++) this.ruler.push(Zi[e][0], Zi[e][1], { alt: (Zi[e][2] || []).slice() });
  }
  tokenize(e, t, n) {
    const i = this.ruler.getRules(""), r = i.length, s = e.md.options.maxNesting;
    let o = t, l = !1;
    for (; o < n && (e.line = o = e.skipEmptyLines(o), !(o >= n || e.sCount[o] < e.blkIndent)); ) {
      if (e.level >= s) {
        e.line = n;
        break;
      }
      const c = e.line;
      let a = !1;
      for (let u = 0; u < r; u++)
        if (a = i[u](e, o, n, !1), a) {
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
  parse(e, t, n, i) {
    if (!e) return;
    const r = new this.State(e, t, n, i);
    this.tokenize(r, r.line, r.lineMax);
  }
}, bu = class {
  constructor(e, t, n, i) {
    $(this, "pos", 0), $(this, "level", 0), $(this, "pending", ""), $(this, "pendingLevel", 0), $(this, "cache", {}), $(this, "backticks", {}), $(this, "backticksScanned", !1), $(this, "skipHtmlSpecial", !1), $(this, "linkLevel", 0), $(this, "delimiters", []), $(this, "_prev_delimiters", []), $(this, "Token", Dn), this.src = e, this.env = n, this.md = t, this.tokens = i, this.tokens_meta = Array(i.length), this.posMax = this.src.length;
  }
  pushPending() {
    const e = new Dn("text", "", 0);
    return e.content = this.pending, e.level = this.pendingLevel, this.tokens.push(e), this.pending = "", e;
  }
  push(e, t, n) {
    this.pending && this.pushPending();
    const i = new Dn(e, t, n);
    let r;
    return n < 0 && (this.level--, this.delimiters = this._prev_delimiters.pop()), i.level = this.level, n > 0 && (this.level++, this._prev_delimiters.push(this.delimiters), this.delimiters = [], r = { delimiters: this.delimiters }), this.pendingLevel = this.level, this.tokens.push(i), this.tokens_meta.push(r), i;
  }
  scanDelims(e, t) {
    const n = this.posMax, i = this.src.charCodeAt(e);
    let r;
    if (e === 0) r = 32;
    else if (e === 1)
      r = this.src.charCodeAt(0), (r & 63488) === 55296 && (r = 65533);
    else if (r = this.src.charCodeAt(e - 1), (r & 64512) === 56320) {
      const p = this.src.charCodeAt(e - 2);
      r = (p & 64512) === 55296 ? 65536 + (p - 55296 << 10) + (r - 56320) : 65533;
    } else (r & 64512) === 55296 && (r = 65533);
    let s = e;
    for (; s < n && this.src.charCodeAt(s) === i; ) s++;
    const o = s - e;
    let l = s < n ? this.src.charCodeAt(s) : 32;
    if ((l & 64512) === 55296) {
      const p = this.src.charCodeAt(s + 1);
      l = (p & 64512) === 56320 ? 65536 + (l - 55296 << 10) + (p - 56320) : 65533;
    } else (l & 64512) === 56320 && (l = 65533);
    const c = Si(r) || Di(r), a = Si(l) || Di(l), u = Ci(r), h = Ci(l), w = !h && (!a || u || c), _ = !u && (!c || h || a);
    return {
      can_open: w && (t || !_ || c),
      can_close: _ && (t || !w || a),
      length: o
    };
  }
};
function Zm(e) {
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
function Qm(e, t) {
  let n = e.pos;
  for (; n < e.posMax && !Zm(e.src.charCodeAt(n)); ) n++;
  return n === e.pos ? !1 : (t || (e.pending += e.src.slice(e.pos, n)), e.pos = n, !0);
}
function e_(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122;
}
function t_(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122 || e >= 48 && e <= 57 || e === 43 || e === 45 || e === 46;
}
function n_(e, t) {
  if (!e.md.options.linkify || e.linkLevel > 0) return !1;
  const n = e.pos, i = e.posMax;
  if (n + 3 > i || e.src.charCodeAt(n) !== 58 || e.src.charCodeAt(n + 1) !== 47 || e.src.charCodeAt(n + 2) !== 47) return !1;
  const r = n - Math.min(10, e.pending.length, n);
  let s = n;
  for (; s > r && t_(e.src.charCodeAt(s - 1)); ) s--;
  if (s === n || !e_(e.src.charCodeAt(s))) return !1;
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
    const w = e.push("text", "", 0);
    w.content = e.md.normalizeLinkText(c);
    const _ = e.push("link_close", "a", -1);
    _.markup = "linkify", _.info = "auto";
  }
  return e.pos += c.length - o, !0;
}
function i_(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 10) return !1;
  const i = e.pending.length - 1, r = e.posMax;
  if (!t)
    if (i >= 0 && e.pending.charCodeAt(i) === 32)
      if (i >= 1 && e.pending.charCodeAt(i - 1) === 32) {
        let s = i - 1;
        for (; s >= 1 && e.pending.charCodeAt(s - 1) === 32; ) s--;
        e.pending = e.pending.slice(0, s), e.push("hardbreak", "br", 0);
      } else
        e.pending = e.pending.slice(0, -1), e.push("softbreak", "br", 0);
    else e.push("softbreak", "br", 0);
  for (n++; n < r && ye(e.src.charCodeAt(n)); ) n++;
  return e.pos = n, !0;
}
var _o = [];
for (let e = 0; e < 256; e++) _o.push(0);
"\\!\"#$%&'()*+,./:;<=>?@[]^_`{|}~-".split("").forEach(function(e) {
  _o[e.charCodeAt(0)] = 1;
});
function r_(e, t) {
  let n = e.pos;
  const i = e.posMax;
  if (e.src.charCodeAt(n) !== 92 || (n++, n >= i)) return !1;
  let r = e.src.charCodeAt(n);
  if (r === 10) {
    for (t || e.push("hardbreak", "br", 0), n++; n < i && (r = e.src.charCodeAt(n), !!ye(r)); )
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
  let s = e.src[n];
  if (r >= 55296 && r <= 56319 && n + 1 < i) {
    const l = e.src.charCodeAt(n + 1);
    l >= 56320 && l <= 57343 && (s += e.src[n + 1], n++);
  }
  const o = "\\" + s;
  if (!t) {
    const l = e.push("text_special", "", 0);
    r < 256 && _o[r] !== 0 ? l.content = s : l.content = o, l.markup = o, l.info = "escape";
  }
  return e.pos = n + 1, !0;
}
function s_(e) {
  const t = {};
  let n = 0;
  for (; (n = e.indexOf("`", n)) !== -1; ) {
    const i = n;
    for (; e.charCodeAt(++n) === 96; ) ;
    t[n - i] = i;
  }
  return t;
}
function o_(e, t) {
  var n;
  const i = e.pos;
  if (e.src.charCodeAt(i) !== 96) return !1;
  const r = e.posMax;
  let s = i + 1;
  for (; s < r && e.src.charCodeAt(s) === 96; ) s++;
  const o = e.src.slice(i, s), l = o.length;
  if (e.backticksScanned || (e.backticks = s_(e.src), e.backticksScanned = !0), ((n = e.backticks[l]) !== null && n !== void 0 ? n : -1) >= s) {
    let c = s, a;
    for (; (a = e.src.indexOf("`", c)) !== -1 && a < r; ) {
      for (c = a + 1; e.src.charCodeAt(c) === 96; ) c++;
      if (c > r) break;
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
function l_(e, t) {
  const n = e.pos, i = e.src.charCodeAt(n);
  if (t || i !== 126) return !1;
  const r = e.scanDelims(e.pos, !0);
  let s = r.length;
  const o = String.fromCharCode(i);
  if (s < 2) return !1;
  let l;
  s % 2 && (l = e.push("text", "", 0), l.content = o, s--);
  for (let c = 0; c < s; c += 2)
    l = e.push("text", "", 0), l.content = o + o, e.delimiters.push({
      marker: i,
      length: 0,
      token: e.tokens.length - 1,
      end: -1,
      open: r.can_open,
      close: r.can_close
    });
  return e.pos += r.length, !0;
}
function wc(e, t) {
  let n;
  const i = [], r = t.length;
  for (let s = 0; s < r; s++) {
    const o = t[s];
    if (o.marker !== 126 || o.end === -1) continue;
    const l = t[o.end];
    n = e.tokens[o.token], n.type = "s_open", n.tag = "s", n.nesting = 1, n.markup = "~~", n.content = "", n = e.tokens[l.token], n.type = "s_close", n.tag = "s", n.nesting = -1, n.markup = "~~", n.content = "", e.tokens[l.token - 1].type === "text" && e.tokens[l.token - 1].content === "~" && i.push(l.token - 1);
  }
  for (; i.length; ) {
    const s = i.pop();
    let o = s + 1;
    for (; o < e.tokens.length && e.tokens[o].type === "s_close"; ) o++;
    o--, s !== o && (n = e.tokens[o], e.tokens[o] = e.tokens[s], e.tokens[s] = n);
  }
}
function c_(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  wc(e, e.delimiters);
  for (let r = 0; r < n; r++) {
    var i;
    const s = (i = t[r]) === null || i === void 0 ? void 0 : i.delimiters;
    s && wc(e, s);
  }
}
var yu = {
  tokenize: l_,
  postProcess: c_
};
function a_(e, t) {
  const n = e.pos, i = e.src.charCodeAt(n);
  if (t || i !== 95 && i !== 42) return !1;
  const r = e.scanDelims(e.pos, i === 42);
  for (let s = 0; s < r.length; s++) {
    const o = e.push("text", "", 0);
    o.content = String.fromCharCode(i), e.delimiters.push({
      marker: i,
      length: r.length,
      token: e.tokens.length - 1,
      end: -1,
      open: r.can_open,
      close: r.can_close
    });
  }
  return e.pos += r.length, !0;
}
function kc(e, t) {
  const n = t.length;
  for (let i = n - 1; i >= 0; i--) {
    const r = t[i];
    if (r.marker !== 95 && r.marker !== 42 || r.end === -1) continue;
    const s = t[r.end], o = i > 0 && t[i - 1].end === r.end + 1 && t[i - 1].marker === r.marker && t[i - 1].token === r.token - 1 && t[r.end + 1].token === s.token + 1, l = String.fromCharCode(r.marker), c = e.tokens[r.token];
    c.type = o ? "strong_open" : "em_open", c.tag = o ? "strong" : "em", c.nesting = 1, c.markup = o ? l + l : l, c.content = "";
    const a = e.tokens[s.token];
    a.type = o ? "strong_close" : "em_close", a.tag = o ? "strong" : "em", a.nesting = -1, a.markup = o ? l + l : l, a.content = "", o && (e.tokens[t[i - 1].token].content = "", e.tokens[t[r.end + 1].token].content = "", i--);
  }
}
function u_(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  kc(e, e.delimiters);
  for (let r = 0; r < n; r++) {
    var i;
    const s = (i = t[r]) === null || i === void 0 ? void 0 : i.delimiters;
    s && kc(e, s);
  }
}
var wu = {
  tokenize: a_,
  postProcess: u_
};
function f_(e, t) {
  let n, i, r, s, o = "", l = "", c = e.pos, a = !0;
  if (e.src.charCodeAt(e.pos) !== 91) return !1;
  const u = e.pos, h = e.posMax, w = e.pos + 1, _ = e.md.helpers.parseLinkLabel(e, e.pos, !0);
  if (_ < 0) return !1;
  let p = _ + 1;
  if (p < h && e.src.charCodeAt(p) === 40) {
    for (a = !1, p++; p < h && (n = e.src.charCodeAt(p), !(!ye(n) && n !== 10)); p++)
      ;
    if (p >= h) return !1;
    if (c = p, r = e.md.helpers.parseLinkDestination(e.src, p, e.posMax), r.ok) {
      for (o = e.md.normalizeLink(r.str), e.md.validateLink(o) ? p = r.pos : o = "", c = p; p < h && (n = e.src.charCodeAt(p), !(!ye(n) && n !== 10)); p++)
        ;
      if (r = e.md.helpers.parseLinkTitle(e.src, p, e.posMax), p < h && c !== p && r.ok)
        for (l = r.str, p = r.pos; p < h && (n = e.src.charCodeAt(p), !(!ye(n) && n !== 10)); p++)
          ;
    }
    (p >= h || e.src.charCodeAt(p) !== 41) && (a = !0), p++;
  }
  if (a) {
    if (typeof e.env.references > "u") return !1;
    if (p < h && e.src.charCodeAt(p) === 91 ? (c = p + 1, p = e.md.helpers.parseLinkLabel(e, p), p >= 0 ? i = e.src.slice(c, p++) : p = _ + 1) : p = _ + 1, i || (i = e.src.slice(w, _)), i = Fr(i), s = e.env.references[i], !s)
      return e.pos = u, !1;
    o = s.href, l = s.title;
  }
  if (!t) {
    e.pos = w, e.posMax = _;
    const x = e.push("link_open", "a", 1), D = [["href", o]];
    if (x.attrs = D, l && D.push(["title", l]), i) {
      const I = /* @__PURE__ */ Object.create(null);
      I.label = i, x.meta = I;
    }
    e.linkLevel++, e.md.inline.tokenize(e), e.linkLevel--, e.push("link_close", "a", -1);
  }
  return e.pos = p, e.posMax = h, !0;
}
function h_(e, t) {
  let n, i, r, s, o, l, c, a, u = "";
  const h = e.pos, w = e.posMax;
  if (e.src.charCodeAt(e.pos) !== 33 || e.src.charCodeAt(e.pos + 1) !== 91) return !1;
  const _ = e.pos + 2, p = e.md.helpers.parseLinkLabel(e, e.pos + 1, !1);
  if (p < 0) return !1;
  if (s = p + 1, s < w && e.src.charCodeAt(s) === 40) {
    for (s++; s < w && (n = e.src.charCodeAt(s), !(!ye(n) && n !== 10)); s++)
      ;
    if (s >= w) return !1;
    for (a = s, l = e.md.helpers.parseLinkDestination(e.src, s, e.posMax), l.ok && (u = e.md.normalizeLink(l.str), e.md.validateLink(u) ? s = l.pos : u = ""), a = s; s < w && (n = e.src.charCodeAt(s), !(!ye(n) && n !== 10)); s++)
      ;
    if (l = e.md.helpers.parseLinkTitle(e.src, s, e.posMax), s < w && a !== s && l.ok)
      for (c = l.str, s = l.pos; s < w && (n = e.src.charCodeAt(s), !(!ye(n) && n !== 10)); s++)
        ;
    else c = "";
    if (s >= w || e.src.charCodeAt(s) !== 41)
      return e.pos = h, !1;
    s++;
  } else {
    if (typeof e.env.references > "u") return !1;
    if (s < w && e.src.charCodeAt(s) === 91 ? (a = s + 1, s = e.md.helpers.parseLinkLabel(e, s), s >= 0 ? r = e.src.slice(a, s++) : s = p + 1) : s = p + 1, r || (r = e.src.slice(_, p)), r = Fr(r), o = e.env.references[r], !o)
      return e.pos = h, !1;
    u = o.href, c = o.title;
  }
  if (!t) {
    i = e.src.slice(_, p);
    const x = [];
    e.md.inline.parse(i, e.md, e.env, x);
    const D = e.push("image", "img", 0), I = [["src", u], ["alt", ""]];
    if (D.attrs = I, D.children = x, D.content = i, c && I.push(["title", c]), r) {
      const k = /* @__PURE__ */ Object.create(null);
      k.label = r, D.meta = k;
    }
  }
  return e.pos = s, e.posMax = w, !0;
}
var d_ = /^([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, p_ = /^([a-zA-Z][a-zA-Z0-9+.-]{1,31}):([^<>\x00-\x20]*)$/;
function g_(e, t) {
  let n = e.pos;
  if (e.src.charCodeAt(n) !== 60) return !1;
  const i = e.pos, r = e.posMax;
  for (; ; ) {
    if (++n >= r) return !1;
    const o = e.src.charCodeAt(n);
    if (o === 60) return !1;
    if (o === 62) break;
  }
  const s = e.src.slice(i + 1, n);
  if (p_.test(s)) {
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
  if (d_.test(s)) {
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
function m_(e) {
  return /^<a[>\s]/i.test(e);
}
function __(e) {
  return /^<\/a\s*>/i.test(e);
}
function ku(e) {
  const t = e | 32;
  return t >= 97 && t <= 122;
}
function b_(e, t) {
  const n = e.src;
  let i, r;
  if (n.startsWith("<!--", t)) {
    if (n.startsWith(">", t + 4)) return t + 5;
    if (n.startsWith("->", t + 4)) return t + 6;
    i = t + 4, r = "-->";
  } else if (n.startsWith("<![CDATA[", t))
    i = t + 9, r = "]]>";
  else if (n.charCodeAt(t + 1) === 63)
    i = t + 2, r = "?>";
  else if (ku(n.charCodeAt(t + 2)))
    i = t + 3, r = ">";
  else return -1;
  if (e.skipHtmlSpecial) return -1;
  const s = n.indexOf(r, i);
  return s < 0 ? (e.skipHtmlSpecial = !0, -1) : s + r.length;
}
function y_(e, t) {
  if (!e.md.options.html) return !1;
  const n = e.posMax, i = e.pos;
  if (e.src.charCodeAt(i) !== 60 || i + 2 >= n) return !1;
  let r;
  const s = e.src.charCodeAt(i + 1);
  if (s === 33 || s === 63) r = b_(e, i);
  else if (s === 47 || ku(s)) {
    const o = e.src.slice(i).match(mu);
    r = o ? i + o[0].length : -1;
  } else return !1;
  if (r < 0) return !1;
  if (!t) {
    const o = e.push("html_inline", "", 0);
    o.content = e.src.slice(i, r), m_(o.content) && e.linkLevel++, __(o.content) && e.linkLevel--;
  }
  return e.pos = r, !0;
}
var w_ = /^&#((?:x[a-f0-9]{1,6}|[0-9]{1,7}));/i, k_ = /^&([a-z][a-z0-9]{1,31});/i;
function A_(e, t) {
  const n = e.pos, i = e.posMax;
  if (e.src.charCodeAt(n) !== 38 || n + 1 >= i) return !1;
  if (e.src.charCodeAt(n + 1) === 35) {
    const r = e.src.slice(n).match(w_);
    if (r) {
      if (!t) {
        const s = r[1][0].toLowerCase() === "x" ? parseInt(r[1].slice(1), 16) : parseInt(r[1], 10), o = e.push("text_special", "", 0);
        o.content = mo(s) ? Ei(s) : Ei(65533), o.markup = r[0], o.info = "entity";
      }
      return e.pos += r[0].length, !0;
    }
  } else {
    const r = e.src.slice(n).match(k_);
    if (r) {
      const s = Za(r[0]);
      if (s !== r[0]) {
        if (!t) {
          const o = e.push("text_special", "", 0);
          o.content = s, o.markup = r[0], o.info = "entity";
        }
        return e.pos += r[0].length, !0;
      }
    }
  }
  return !1;
}
function Ac(e) {
  const t = {}, n = e.length;
  if (!n) return;
  let i = 0, r = -2;
  const s = [];
  for (let o = 0; o < n; o++) {
    const l = e[o];
    if (s.push(0), (e[i].marker !== l.marker || r !== l.token - 1) && (i = o), r = l.token, l.length = l.length || 0, !l.close) continue;
    t.hasOwnProperty(l.marker) || (t[l.marker] = [
      -1,
      -1,
      -1,
      -1,
      -1,
      -1
    ]);
    const c = t[l.marker][(l.open ? 3 : 0) + l.length % 3];
    let a = i - s[i] - 1, u = a;
    for (; a > c; a -= s[a] + 1) {
      const h = e[a];
      if (h.marker === l.marker && h.open && h.end < 0) {
        let w = !1;
        if ((h.close || l.open) && (h.length + l.length) % 3 === 0 && (h.length % 3 !== 0 || l.length % 3 !== 0) && (w = !0), !w) {
          const _ = a > 0 && !e[a - 1].open ? s[a - 1] + 1 : 0;
          s[o] = o - a + _, s[a] = _, l.open = !1, h.end = o, h.close = !1, u = -1, r = -2;
          break;
        }
      }
    }
    u !== -1 && (t[l.marker][(l.open ? 3 : 0) + (l.length || 0) % 3] = u);
  }
}
function x_(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  Ac(e.delimiters);
  for (let r = 0; r < n; r++) {
    var i;
    const s = (i = t[r]) === null || i === void 0 ? void 0 : i.delimiters;
    s && Ac(s);
  }
}
function R_(e) {
  let t, n, i = 0;
  const r = e.tokens, s = e.tokens.length;
  for (t = n = 0; t < s; t++)
    r[t].nesting < 0 && i--, r[t].level = i, r[t].nesting > 0 && i++, r[t].type === "text" && t + 1 < s && r[t + 1].type === "text" ? r[t + 1].content = r[t].content + r[t + 1].content : (t !== n && (r[n] = r[t]), n++);
  t !== n && (r.length = n);
}
var Is = [
  ["text", Qm],
  ["linkify", n_],
  ["newline", i_],
  ["escape", r_],
  ["backticks", o_],
  ["strikethrough", yu.tokenize],
  ["emphasis", wu.tokenize],
  ["link", f_],
  ["image", h_],
  ["autolink", g_],
  ["html_inline", y_],
  ["entity", A_]
], Os = [
  ["balance_pairs", x_],
  ["strikethrough", yu.postProcess],
  ["emphasis", wu.postProcess],
  ["fragments_join", R_]
], Au = class {
  constructor() {
    $(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of inline rules.
      */
      "ruler",
      new Fi()
    ), $(
      this,
      /**
      * {@link Ruler} instance. Second ruler used for post-processing
      * (e.g. in emphasis-like rules).
      */
      "ruler2",
      new Fi()
    ), $(this, "State", bu);
    for (let e = 0; e < Is.length; e++) this.ruler.push(Is[e][0], Is[e][1]);
    for (let e = 0; e < Os.length; e++) this.ruler2.push(Os[e][0], Os[e][1]);
  }
  skipToken(e) {
    const t = e.pos, n = this.ruler.getRules(""), i = n.length, r = e.md.options.maxNesting, s = e.cache;
    if (typeof s[t] < "u") {
      e.pos = s[t];
      return;
    }
    let o = !1;
    if (e.level < r) {
      for (let l = 0; l < i; l++)
        if (e.level++, o = n[l](e, !0), e.level--, o) {
          if (t >= e.pos) throw new Error("inline rule didn't increment state.pos");
          break;
        }
    } else e.pos = e.posMax;
    o || e.pos++, s[t] = e.pos;
  }
  tokenize(e) {
    const t = this.ruler.getRules(""), n = t.length, i = e.posMax, r = e.md.options.maxNesting;
    for (; e.pos < i; ) {
      const s = e.pos;
      let o = !1;
      if (e.level < r) {
        for (let l = 0; l < n; l++)
          if (o = t[l](e, !1), o) {
            if (s >= e.pos) throw new Error("inline rule didn't increment state.pos");
            break;
          }
      }
      if (o) {
        if (e.pos >= i) break;
        continue;
      }
      e.pending += e.src[e.pos++];
    }
    e.pending && e.pushPending();
  }
  /**
  * Process input string and push inline tokens into `outTokens`
  */
  parse(e, t, n, i) {
    const r = new this.State(e, t, n, i);
    this.tokenize(r);
    const s = this.ruler2.getRules(""), o = s.length;
    for (let l = 0; l < o; l++) s[l](r);
  }
}, v_ = {
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
}, E_ = /^(vbscript|javascript|file|data):/, C_ = /^data:image\/(gif|png|jpeg|webp);/, xc = [
  "http:",
  "https:",
  "mailto:"
], Tt = class {
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
    return E_.test(t) ? C_.test(t) : !0;
  }
  /**
  * Function used to encode link url to a machine-readable format,
  * which includes url-encoding, punycode, etc.
  */
  normalizeLink(e) {
    const t = Ks(e, !0);
    if (t.hostname && (!t.protocol || xc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = fc.toASCII(t.hostname);
      } catch {
      }
    return t.auth && (t.auth = $t(t.auth)), t.hostname && (t.hostname = $t(t.hostname)), t.pathname && (t.pathname = $t(t.pathname)), t.search && (t.search = $t(t.search)), t.hash && (t.hash = $t(t.hash)), Gs(t);
  }
  /**
  * Function used to decode link url to a human-readable format`
  */
  normalizeLinkText(e) {
    const t = Ks(e, !0);
    if (t.hostname && (!t.protocol || xc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = fc.toUnicode(t.hostname);
      } catch {
      }
    return Kn(Gs(t), Kn.defaultChars + "%");
  }
  constructor(...e) {
    $(
      this,
      /**
      * Instance of {@link ParserInline}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "inline",
      new Au()
    ), $(
      this,
      /**
      * Instance of {@link ParserBlock}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "block",
      new _u()
    ), $(
      this,
      /**
      * Instance of {@link ParserCore} chain executor. You may need it to add new
      * rules when writing plugins. For simple rules control use
      * {@link MarkdownIt.disable} and {@link MarkdownIt.enable}.
      */
      "core",
      new pu()
    ), $(
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
      new fu()
    ), $(
      this,
      /**
      * [linkify-it](https://github.com/markdown-it/linkify-it) instance.
      * Used by [linkify](https://github.com/markdown-it/markdown-it/blob/master/src/rules_core/linkify.ts)
      * rule.
      */
      "linkify",
      new Ng()
    ), $(
      this,
      /**
      * Assorted utility functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/common/utils.ts).
      */
      "utils",
      Vg
    ), $(
      this,
      /**
      * Link components parser functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/helpers).
      */
      "helpers",
      Object.assign({}, am)
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
      if (t = v_[r], !t) throw new Error(`Wrong 'markdown-it' preset "${r}", check name`);
    } else t = e;
    if (!t) throw new Error("Wrong `markdown-it` preset, can't be empty");
    t.options && (this.options = { ...t.options });
    const n = t.components;
    if (n) {
      var i;
      [
        "core",
        "block",
        "inline"
      ].forEach((s) => {
        var o;
        const l = (o = n[s]) === null || o === void 0 ? void 0 : o.rules;
        l && this[s].ruler.enableOnly(l);
      });
      const r = (i = n.inline) === null || i === void 0 ? void 0 : i.rules2;
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
    const i = e.filter((r) => n.indexOf(r) < 0);
    if (i.length && !t) throw new Error(`MarkdownIt. Failed to enable unknown rule(s): ${i}`);
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
    const i = e.filter((r) => n.indexOf(r) < 0);
    if (i.length && !t) throw new Error(`MarkdownIt. Failed to disable unknown rule(s): ${i}`);
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
$(Tt, "Token", Dn);
$(Tt, "Ruler", Fi);
$(Tt, "Renderer", fu);
$(Tt, "ParserCore", pu);
$(Tt, "StateCore", hu);
$(Tt, "ParserBlock", _u);
$(Tt, "StateBlock", gu);
$(Tt, "ParserInline", Au);
$(Tt, "StateInline", bu);
var D_ = cu(Tt);
const S_ = 200 * 1024, bo = /^(?:https?:\/\/|mailto:)/i, T_ = [
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
], F_ = ["href", "title", "target", "rel", "start", "class"], Ni = new D_({ html: !1, linkify: !0, breaks: !0, typographer: !1 });
Ni.disable(["image"]);
Ni.validateLink = (e) => bo.test(String(e).trim());
const I_ = Ni.renderer.rules.link_open ?? ((e, t, n, i, r) => r.renderToken(e, t, n));
Ni.renderer.rules.link_open = (e, t, n, i, r) => (e[t].attrSet("target", "_blank"), e[t].attrSet("rel", "noopener noreferrer nofollow"), I_(e, t, n, i, r));
function O_(e) {
  return String(e).replace(/[&<>"']/g, (t) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[t]);
}
let Rc = null;
function M_(e) {
  return !e?.isSupported || typeof e.sanitize != "function" ? null : (Rc !== e && (e.addHook("afterSanitizeAttributes", (t) => {
    if (t.nodeName !== "A") return;
    const n = t.getAttribute("href");
    n !== null && !bo.test(n.trim()) && t.removeAttribute("href"), t.hasAttribute("href") ? (t.setAttribute("target", "_blank"), t.setAttribute("rel", "noopener noreferrer nofollow")) : (t.removeAttribute("target"), t.removeAttribute("rel"));
  }), Rc = e), e);
}
function N_(e, t = tg) {
  const n = String(e ?? "").slice(0, S_), i = M_(t);
  if (!i) return `<p>${O_(n)}</p>`;
  const r = Ni.render(n);
  return i.sanitize(r, {
    ALLOWED_TAGS: T_,
    ALLOWED_ATTR: F_,
    ALLOWED_URI_REGEXP: bo,
    ALLOW_DATA_ATTR: !1,
    ALLOW_ARIA_ATTR: !1
  });
}
const L_ = 300, jn = /* @__PURE__ */ new Map();
function P_(e) {
  const t = String(e ?? "");
  let n = jn.get(t);
  return n !== void 0 ? jn.delete(t) : (n = N_(t), jn.size >= L_ && jn.delete(jn.keys().next().value)), jn.set(t, n), n;
}
const B_ = { class: "cd-bar" }, j_ = ["title"], z_ = ["value", "disabled"], $_ = ["value"], U_ = ["title"], W_ = ["disabled"], J_ = {
  key: 0,
  class: "cd-settings",
  "data-test": "settings-pane"
}, q_ = ["value"], H_ = { class: "cd-wide" }, V_ = { class: "cd-wide" }, G_ = { class: "cd-hint" }, K_ = { class: "cd-row" }, Y_ = ["disabled"], X_ = {
  class: "cd-skills",
  "data-test": "skills"
}, Z_ = ["title"], Q_ = ["checked", "onChange", "data-skill"], e0 = {
  key: 0,
  class: "cd-hint",
  "data-test": "skills-hint"
}, t0 = { class: "cd-main" }, n0 = {
  key: 0,
  class: "cd-hint",
  "data-test": "waiting"
}, i0 = {
  key: 1,
  class: "cd-err"
}, r0 = ["data-skill"], s0 = { class: "cd-skill" }, o0 = {
  key: 0,
  class: "cd-typing"
}, l0 = ["innerHTML"], c0 = {
  key: 0,
  class: "cd-err"
}, a0 = {
  key: 0,
  class: "cd-empty"
}, u0 = {
  key: 0,
  class: "cd-hint"
}, f0 = {
  key: 1,
  class: "cd-notice",
  "data-test": "notice"
}, h0 = { class: "cd-input" }, d0 = ["disabled"], p0 = ["disabled"], g0 = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, i = t.ctl.ui, r = Vt(() => i.connected ? i.outage ? "core unavailable, reconnecting…" : i.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), s = Vt(() => i.connected && i.outage ? "cd-outage" : "cd-" + r.value.replace(" ", "-")), o = Vt(() => (i.connected ? i.outage : i.offlineReason) || n.statusDetail || r.value), l = Vt(() => i.connected ? i.outage ? `core unavailable, reconnecting… (${i.outage})` : i.notice ? i.notice : n.lastError ? `${n.lastError.code}: ${n.lastError.message}` : "" : i.offlineReason ? `comfyd is not reachable: ${i.offlineReason}` : ""), c = Vt(() => i.connected && !i.outage && n.status === "working"), a = Vt(() => i.form.skills), u = Vt(() => !!n.config?.api_key_set), h = Vt(() => {
      const k = [...i.sessions];
      return i.form.session_id && !k.some((m) => m.id === i.form.session_id) && k.unshift({ id: i.form.session_id, title: n.title || i.form.session_id }), k;
    }), w = /* @__PURE__ */ Ko(null), _ = /* @__PURE__ */ Ko(null), p = (k) => {
      k && (k.scrollTop = k.scrollHeight);
    };
    Yo(
      () => [n.turns.length, n.lastSeq],
      () => or(() => p(w.value))
    ), Yo(
      () => n.logs.length,
      () => or(() => p(_.value))
    );
    function x(k) {
      const m = k.target.value;
      m === "__new__" ? t.ctl.createSession() : m && t.ctl.selectSession(m);
    }
    function D(k) {
      k.key === "Enter" && !k.shiftKey && !k.isComposing && (k.preventDefault(), t.ctl.send());
    }
    function I(k) {
      k.stopPropagation();
    }
    return (k, m) => (ge(), _e("div", {
      class: "comfyd-panel",
      onKeydown: I,
      onKeyup: I,
      onWheel: m[15] || (m[15] = _l(() => {
      }, ["stop"])),
      onContextmenu: m[16] || (m[16] = _l(() => {
      }, ["stop"]))
    }, [
      ne("div", B_, [
        ne("span", {
          class: ut(["cd-dot", s.value]),
          title: o.value
        }, null, 10, j_),
        ne("select", {
          class: "cd-session",
          value: V(i).form.session_id,
          disabled: !V(i).connected || V(i).busy,
          onChange: x,
          "data-test": "session"
        }, [
          m[17] || (m[17] = ne("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (ge(!0), _e(Te, null, Bn(h.value, (g) => (ge(), _e("option", {
            key: g.id,
            value: g.id
          }, Ne(g.title), 9, $_))), 128)),
          m[18] || (m[18] = ne("option", { value: "__new__" }, "+ new session", -1))
        ], 40, z_),
        ne("span", {
          class: ut(["cd-status", { "cd-status-outage": V(i).connected && V(i).outage }]),
          title: o.value,
          "data-test": "status"
        }, [
          We(Ne(r.value), 1),
          V(n).queuedTurns ? (ge(), _e(Te, { key: 0 }, [
            We(" · " + Ne(V(n).queuedTurns) + " queued", 1)
          ], 64)) : et("", !0)
        ], 10, U_),
        ne("button", {
          class: "cd-btn",
          disabled: !c.value,
          onClick: m[0] || (m[0] = (g) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, W_),
        ne("button", {
          class: ut(["cd-btn", { "cd-on": V(i).showSettings }]),
          onClick: m[1] || (m[1] = (g) => V(i).showSettings = !V(i).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        ne("button", {
          class: ut(["cd-btn", { "cd-on": V(i).showLog }]),
          onClick: m[2] || (m[2] = (g) => V(i).showLog = !V(i).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      V(i).showSettings ? (ge(), _e("div", J_, [
        ne("label", null, [
          m[19] || (m[19] = We("Provider ", -1)),
          Pn(ne("select", {
            "onUpdate:modelValue": m[3] || (m[3] = (g) => V(i).form.provider = g),
            onChange: m[4] || (m[4] = (g) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (ge(!0), _e(Te, null, Bn(V(lp), (g) => (ge(), _e("option", {
              key: g,
              value: g
            }, Ne(g), 9, q_))), 128))
          ], 544), [
            [Qh, V(i).form.provider]
          ])
        ]),
        ne("label", null, [
          m[20] || (m[20] = We("Model ", -1)),
          Pn(ne("input", {
            "onUpdate:modelValue": m[5] || (m[5] = (g) => V(i).form.model = g),
            onChange: m[6] || (m[6] = (g) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [ni, V(i).form.model]
          ])
        ]),
        ne("label", null, [
          m[21] || (m[21] = We("Base URL ", -1)),
          Pn(ne("input", {
            "onUpdate:modelValue": m[7] || (m[7] = (g) => V(i).form.base_url = g),
            onChange: m[8] || (m[8] = (g) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [ni, V(i).form.base_url]
          ])
        ]),
        ne("label", H_, [
          m[22] || (m[22] = We("System prompt ", -1)),
          Pn(ne("textarea", {
            "onUpdate:modelValue": m[9] || (m[9] = (g) => V(i).form.system_prompt = g),
            rows: "2",
            onChange: m[10] || (m[10] = (g) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [ni, V(i).form.system_prompt]
          ])
        ]),
        ne("label", V_, [
          m[23] || (m[23] = We("API key ", -1)),
          ne("span", G_, Ne(u.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          ne("span", K_, [
            Pn(ne("input", {
              "onUpdate:modelValue": m[11] || (m[11] = (g) => V(i).apiKey = g),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [ni, V(i).apiKey]
            ]),
            ne("button", {
              class: "cd-btn",
              onClick: m[12] || (m[12] = (g) => e.ctl.setApiKey()),
              disabled: !V(i).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, Y_)
          ])
        ])
      ])) : et("", !0),
      ne("div", X_, [
        (ge(!0), _e(Te, null, Bn(V(i).skills, (g) => (ge(), _e("label", {
          key: g.name,
          class: ut(["cd-chip", { "cd-on": a.value.includes(g.name) }]),
          title: g.description
        }, [
          ne("input", {
            type: "checkbox",
            checked: a.value.includes(g.name),
            onChange: (v) => e.ctl.toggleSkill(g.name, v.target.checked),
            "data-skill": g.name
          }, null, 40, Q_),
          We(" " + Ne(g.name), 1)
        ], 10, Z_))), 128)),
        V(i).skills.length ? et("", !0) : (ge(), _e("span", e0, [
          We(Ne(V(i).connected ? V(i).outage ? "waiting for the core…" : "no skills loaded" : "connecting to comfyd…"), 1),
          !V(i).connected && V(i).offlineReason ? (ge(), _e(Te, { key: 0 }, [
            We(" (" + Ne(V(i).offlineReason) + ")", 1)
          ], 64)) : et("", !0)
        ]))
      ]),
      ne("div", t0, [
        ne("div", {
          ref_key: "chat",
          ref: w,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          (ge(!0), _e(Te, null, Bn(V(n).turns, (g) => (ge(), _e("div", {
            key: g.pending ? g.clientId : g.id,
            class: "cd-turn"
          }, [
            ne("div", {
              class: ut(["cd-user", { "cd-failed": g.state === "failed", "cd-waiting": g.state === "waiting" }])
            }, [
              m[24] || (m[24] = ne("span", { class: "cd-who" }, "you", -1)),
              We(Ne(g.content) + " ", 1),
              g.state === "waiting" ? (ge(), _e("span", n0, " — waiting for comfyd, sent when it is back")) : et("", !0),
              g.error ? (ge(), _e("span", i0, " — " + Ne(g.error), 1)) : et("", !0)
            ], 2),
            ne("div", {
              class: "cd-replies",
              style: Rr({ "--cols": Math.max(1, V(Ml)(g, a.value).length) })
            }, [
              (ge(!0), _e(Te, null, Bn(V(Ml)(g, a.value), (v) => (ge(), _e("div", {
                key: v.skill,
                class: ut(["cd-reply", "cd-" + v.state]),
                "data-skill": v.skill
              }, [
                ne("div", s0, [
                  We(Ne(v.skill), 1),
                  v.state === "streaming" ? (ge(), _e("span", o0, "…")) : et("", !0)
                ]),
                ne("div", {
                  class: "cd-text cd-md",
                  innerHTML: V(P_)(v.content)
                }, null, 8, l0),
                v.error ? (ge(), _e("div", c0, Ne(v.error), 1)) : et("", !0)
              ], 10, r0))), 128))
            ], 4)
          ]))), 128)),
          V(n).turns.length ? et("", !0) : (ge(), _e("div", a0, Ne(V(i).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        V(i).showLog ? (ge(), _e("div", {
          key: 0,
          ref_key: "logBox",
          ref: _,
          class: "cd-log",
          "data-test": "log"
        }, [
          (ge(!0), _e(Te, null, Bn(V(n).logs, (g, v) => (ge(), _e("div", {
            key: g.seq + ":" + v,
            class: ut("cd-l-" + g.level)
          }, [
            ne("b", null, Ne(g.level), 1),
            We(" " + Ne(g.module), 1),
            g.skill ? (ge(), _e(Te, { key: 0 }, [
              We(" [" + Ne(g.skill) + "]", 1)
            ], 64)) : et("", !0),
            We(": " + Ne(g.message), 1)
          ], 2))), 128)),
          V(n).logs.length ? et("", !0) : (ge(), _e("div", u0, "no debug output yet"))
        ], 512)) : et("", !0)
      ]),
      l.value ? (ge(), _e("div", f0, Ne(l.value), 1)) : et("", !0),
      ne("div", h0, [
        Pn(ne("textarea", {
          "onUpdate:modelValue": m[13] || (m[13] = (g) => V(i).draft = g),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !V(i).connected,
          onKeydown: D,
          "data-test": "input"
        }, null, 40, d0), [
          [ni, V(i).draft]
        ]),
        ne("button", {
          class: "cd-btn cd-send",
          disabled: !V(i).connected || !V(i).draft.trim(),
          onClick: m[14] || (m[14] = (g) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, p0)
      ])
    ], 32));
  }
}, m0 = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline,.comfyd-panel .cd-outage{background:#c84a4a}.comfyd-panel .cd-status.cd-status-outage{color:#e0a050;white-space:normal}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{word-break:break-word}.comfyd-panel .cd-waiting{opacity:.75}.comfyd-panel .cd-md>:first-child{margin-top:0}.comfyd-panel .cd-md>:last-child{margin-bottom:0}.comfyd-panel .cd-md p,.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol,.comfyd-panel .cd-md pre,.comfyd-panel .cd-md blockquote,.comfyd-panel .cd-md table{margin:0 0 6px}.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol{padding-left:18px}.comfyd-panel .cd-md h1,.comfyd-panel .cd-md h2,.comfyd-panel .cd-md h3,.comfyd-panel .cd-md h4,.comfyd-panel .cd-md h5,.comfyd-panel .cd-md h6{font-size:13px;margin:6px 0 4px}.comfyd-panel .cd-md code{font:11px/1.35 ui-monospace,DejaVu Sans Mono,monospace;background:#7f7f7f2e;border-radius:3px;padding:0 3px}.comfyd-panel .cd-md pre{padding:4px 6px;overflow-x:auto;background:#00000047;border-radius:4px}.comfyd-panel .cd-md pre code{background:none;padding:0;white-space:pre}.comfyd-panel .cd-md a{color:var(--cd-accent)}.comfyd-panel .cd-md blockquote{border-left:3px solid var(--cd-border);padding-left:6px;color:var(--cd-dim)}.comfyd-panel .cd-md table{border-collapse:collapse}.comfyd-panel .cd-md th,.comfyd-panel .cd-md td{border:1px solid var(--cd-border);padding:1px 4px}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}", _0 = "comfyd.canvas", b0 = 1500;
function vc() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function Xs(e, t) {
  (console[e] ?? console.log)(t);
}
function y0(e) {
  const t = vc();
  if (t) return e(t, !1);
  let n = 0;
  const i = setInterval(() => {
    const r = vc();
    (r || ++n > b0) && (clearInterval(i), r ? e(r, !0) : Xs("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function w0({ app: e, api: t }, n) {
  const i = new dd({
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
  }), r = new Xd({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: i,
    WebSocket: window.WebSocket,
    tabId: Yd(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: Xs,
    isPanelNode: jl
  }), s = {
    app: e,
    connection: i,
    WebSocket: window.WebSocket,
    createApp: sd,
    reactive: so,
    component: g0,
    css: m0,
    document,
    log: Xs
  };
  let o = !1;
  const l = () => {
    o || (o = !0, t.addEventListener("graphChanged", () => r.graphChanged()), window.addEventListener("focus", () => r.setFocus(!0)), window.addEventListener("blur", () => r.setFocus(!1)), document.addEventListener("visibilitychange", () => r.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      r.touched(), r.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => r.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => r.setPointerDown(!1), !0), window.addEventListener("keydown", () => r.touched(), !0), r.start());
  };
  e.registerExtension({
    name: _0,
    setup: l,
    afterConfigureGraph() {
      r.graphChanged();
    },
    beforeRegisterNodeDef(c, a) {
      a?.name === Hs && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      jl(c) && _p(c, s);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: r, version: "0.1.0" });
}
y0(w0);
