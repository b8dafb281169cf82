// @__NO_SIDE_EFFECTS__
function os(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const G = {}, Ze = [], tt = () => {
}, ki = () => !1, mn = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), yn = (e) => e.startsWith("onUpdate:"), he = Object.assign, Ii = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, qr = Object.prototype.hasOwnProperty, U = (e, t) => qr.call(e, t), R = Array.isArray, We = (e) => Kt(e) === "[object Map]", rt = (e) => Kt(e) === "[object Set]", Os = (e) => Kt(e) === "[object Date]", W = (e) => typeof e == "function", X = (e) => typeof e == "string", Ee = (e) => typeof e == "symbol", z = (e) => e !== null && typeof e == "object", Ei = (e) => (z(e) || W(e)) && W(e.then) && W(e.catch), Oi = Object.prototype.toString, Kt = (e) => Oi.call(e), Wr = (e) => Kt(e).slice(8, -1), Ni = (e) => Kt(e) === "[object Object]", ls = (e) => X(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, Ot = /* @__PURE__ */ os(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), _n = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Kr = /-\w/g, _e = /* @__PURE__ */ _n((e) => e.replace(Kr, (t) => t.slice(1).toUpperCase())), Hr = /\B([A-Z])/g, ot = /* @__PURE__ */ _n(
  (e) => e.replace(Hr, "-$1").toLowerCase()
), Mi = /* @__PURE__ */ _n((e) => e.charAt(0).toUpperCase() + e.slice(1)), On = /* @__PURE__ */ _n((e) => e ? `on${Mi(e)}` : ""), Ie = (e, t) => !Object.is(e, t), tn = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, $i = (e, t, n, s = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: s,
    value: n
  });
}, Ht = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let Ns;
const bn = () => Ns || (Ns = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function wn(e) {
  if (R(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const s = e[n], i = X(s) ? zr(s) : wn(s);
      if (i)
        for (const r in i)
          t[r] = i[r];
    }
    return t;
  } else if (X(e) || z(e))
    return e;
}
const Br = /;(?![^(]*\))/g, Jr = /:([^]+)/, Gr = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function zr(e) {
  const t = {};
  return e.replace(Gr, (n) => n.startsWith("/*") ? "" : n).split(Br).forEach((n) => {
    if (n) {
      const s = n.split(Jr);
      s.length > 1 && (t[s[0].trim()] = s[1].trim());
    }
  }), t;
}
function Ae(e) {
  let t = "";
  if (X(e))
    t = e;
  else if (R(e))
    for (let n = 0; n < e.length; n++) {
      const s = Ae(e[n]);
      s && (t += s + " ");
    }
  else if (z(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const Yr = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", Xr = /* @__PURE__ */ os(Yr);
function Di(e) {
  return !!e || e === "";
}
function Qr(e, t, n) {
  if (e.length !== t.length) return !1;
  let s = !0;
  for (let i = 0; s && i < e.length; i++)
    s = He(e[i], t[i], n);
  return s;
}
function Ms(e, t, n) {
  if (e.size !== t.size) return !1;
  const s = Array.from(t), i = new Uint8Array(s.length);
  for (const r of e) {
    let o = -1;
    for (let l = 0; l < s.length; l++)
      if (!i[l] && He(r, s[l], n)) {
        o = l;
        break;
      }
    if (o < 0) return !1;
    i[o] = 1;
  }
  return !0;
}
function Zr(e, t, n) {
  let s = We(e), i = We(t);
  if (s || i || (s = rt(e), i = rt(t), s || i))
    return s && i ? Ms(e, t, n) : !1;
  const r = Object.keys(e).length, o = Object.keys(t).length;
  if (r !== o)
    return !1;
  for (const l in e) {
    const c = e.hasOwnProperty(l), d = t.hasOwnProperty(l);
    if (c && !d || !c && d || !He(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function $s(e, t, n, s) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [i, r] = n;
  if (i.has(e) || r.has(t))
    return i.get(e) === t && r.get(t) === e;
  i.set(e, t), r.set(t, e);
  const o = s(e, t, n);
  return i.delete(e), r.delete(t), o;
}
function He(e, t, n) {
  if (e === t) return !0;
  let s = Os(e), i = Os(t);
  return s || i ? s && i ? e.getTime() === t.getTime() : !1 : (s = Ee(e), i = Ee(t), s || i ? e === t : (s = R(e), i = R(t), s || i ? s && i ? $s(e, t, n, Qr) : !1 : (s = z(e), i = z(t), s || i ? !s || !i ? !1 : $s(e, t, n, Zr) : String(e) === String(t))));
}
function eo(e, t) {
  return e.findIndex((n) => He(n, t));
}
const Ri = (e) => !!(e && e.__v_isRef === !0), Q = (e) => X(e) ? e : e == null ? "" : R(e) || z(e) && (e.toString === Oi || !W(e.toString)) ? Ri(e) ? Q(e.value) : JSON.stringify(e, Pi, 2) : String(e), Pi = (e, t) => Ri(t) ? Pi(e, t.value) : We(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [s, i], r) => (n[Nn(s, r) + " =>"] = i, n),
    {}
  )
} : rt(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => Nn(n))
} : Ee(t) ? Nn(t) : z(t) && !R(t) && !Ni(t) ? String(t) : t, Nn = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    Ee(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let te;
class to {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && te && (te.active ? (this.parent = te, this.index = (te.scopes || (te.scopes = [])).push(
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
      const n = te;
      try {
        return te = this, t();
      } finally {
        te = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = te, te = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (te === this)
        te = this.prevScope;
      else {
        let t = te;
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
function no() {
  return te;
}
let K;
const Mn = /* @__PURE__ */ new WeakSet();
class Li {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, te && (te.active ? te.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, Mn.has(this) && (Mn.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || Fi(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, Ds(this), Vi(this);
    const t = K, n = be;
    K = this, be = !0;
    try {
      return this.fn();
    } finally {
      Ui(this), K = t, be = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        fs(t);
      this.deps = this.depsTail = void 0, Ds(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? Mn.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    Gn(this) && this.run();
  }
  get dirty() {
    return Gn(this);
  }
}
let ji = 0, Nt, Mt;
function Fi(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = Mt, Mt = e;
    return;
  }
  e.next = Nt, Nt = e;
}
function cs() {
  ji++;
}
function as() {
  if (--ji > 0)
    return;
  if (Mt) {
    let t = Mt;
    for (Mt = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; Nt; ) {
    let t = Nt;
    for (Nt = void 0; t; ) {
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
function Vi(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function Ui(e) {
  let t, n = e.depsTail, s = n;
  for (; s; ) {
    const i = s.prevDep;
    s.version === -1 ? (s === n && (n = i), fs(s), so(s)) : t = s, s.dep.activeLink = s.prevActiveLink, s.prevActiveLink = void 0, s = i;
  }
  e.deps = t, e.depsTail = n;
}
function Gn(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (qi(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function qi(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === Ft) || (e.globalVersion = Ft, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !Gn(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = K, s = be;
  K = e, be = !0;
  try {
    Vi(e);
    const i = e.fn(e._value);
    (t.version === 0 || Ie(i, e._value)) && (e.flags |= 128, e._value = i, t.version++);
  } catch (i) {
    throw t.version++, i;
  } finally {
    K = n, be = s, Ui(e), e.flags &= -3;
  }
}
function fs(e, t = !1) {
  const { dep: n, prevSub: s, nextSub: i } = e;
  if (s && (s.nextSub = i, e.prevSub = void 0), i && (i.prevSub = s, e.nextSub = void 0), n.subs === e && (n.subs = s, !s && n.computed)) {
    n.computed.flags &= -5;
    for (let r = n.computed.deps; r; r = r.nextDep)
      fs(r, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function so(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let be = !0;
const Wi = [];
function Be() {
  Wi.push(be), be = !1;
}
function Je() {
  const e = Wi.pop();
  be = e === void 0 ? !0 : e;
}
function Ds(e) {
  const { cleanup: t } = e;
  if (e.cleanup = void 0, t) {
    const n = K;
    K = void 0;
    try {
      t();
    } finally {
      K = n;
    }
  }
}
let Ft = 0;
class io {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class us {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!K || !be || K === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== K)
      n = this.activeLink = new io(K, this), K.deps ? (n.prevDep = K.depsTail, K.depsTail.nextDep = n, K.depsTail = n) : K.deps = K.depsTail = n, Ki(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const s = n.nextDep;
      s.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = s), n.prevDep = K.depsTail, n.nextDep = void 0, K.depsTail.nextDep = n, K.depsTail = n, K.deps === n && (K.deps = s);
    }
    return n;
  }
  trigger(t) {
    this.version++, Ft++, this.notify(t);
  }
  notify(t) {
    cs();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      as();
    }
  }
}
function Ki(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let s = t.deps; s; s = s.nextDep)
        Ki(s);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const zn = /* @__PURE__ */ new WeakMap(), nt = /* @__PURE__ */ Symbol(
  ""
), Yn = /* @__PURE__ */ Symbol(
  ""
), Vt = /* @__PURE__ */ Symbol(
  ""
);
function se(e, t, n) {
  if (be && K) {
    let s = zn.get(e);
    s || zn.set(e, s = /* @__PURE__ */ new Map());
    let i = s.get(n);
    i || (s.set(n, i = new us()), i.map = s, i.key = n), i.track();
  }
}
function Pe(e, t, n, s, i, r) {
  const o = zn.get(e);
  if (!o) {
    Ft++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (cs(), t === "clear")
    o.forEach(l);
  else {
    const c = R(e), d = c && ls(n);
    if (c && n === "length") {
      const u = Number(s);
      o.forEach((p, C) => {
        (C === "length" || C === Vt || !Ee(C) && C >= u) && l(p);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), d && l(o.get(Vt)), t) {
        case "add":
          c ? d && l(o.get("length")) : (l(o.get(nt)), We(e) && l(o.get(Yn)));
          break;
        case "delete":
          c || (l(o.get(nt)), We(e) && l(o.get(Yn)));
          break;
        case "set":
          We(e) && l(o.get(nt));
          break;
      }
  }
  as();
}
function at(e) {
  const t = /* @__PURE__ */ F(e);
  return t === e || (se(t, "iterate", Vt), /* @__PURE__ */ de(e)) ? t : /* @__PURE__ */ Oe(e) ? /* @__PURE__ */ Ke(e) ? t.map((n) => Ge(pe(n))) : t.map(Ge) : t.map(pe);
}
function Sn(e) {
  return se(e = /* @__PURE__ */ F(e), "iterate", Vt), e;
}
function Ce(e, t) {
  return /* @__PURE__ */ Oe(e) ? Ge(/* @__PURE__ */ Ke(e) ? pe(t) : t) : pe(t);
}
const ro = {
  __proto__: null,
  [Symbol.iterator]() {
    return $n(this, Symbol.iterator, (e) => Ce(this, e));
  },
  concat(...e) {
    return at(this).concat(
      ...e.map((t) => R(t) ? at(t) : t)
    );
  },
  entries() {
    return $n(this, "entries", (e) => (e[1] = Ce(this, e[1]), e));
  },
  every(e, t) {
    return $e(this, "every", e, t, void 0, arguments);
  },
  filter(e, t) {
    return $e(
      this,
      "filter",
      e,
      t,
      (n) => n.map((s) => Ce(this, s)),
      arguments
    );
  },
  find(e, t) {
    return $e(
      this,
      "find",
      e,
      t,
      (n) => Ce(this, n),
      arguments
    );
  },
  findIndex(e, t) {
    return $e(this, "findIndex", e, t, void 0, arguments);
  },
  findLast(e, t) {
    return $e(
      this,
      "findLast",
      e,
      t,
      (n) => Ce(this, n),
      arguments
    );
  },
  findLastIndex(e, t) {
    return $e(this, "findLastIndex", e, t, void 0, arguments);
  },
  // flat, flatMap could benefit from ARRAY_ITERATE but are not straight-forward to implement
  forEach(e, t) {
    return $e(this, "forEach", e, t, void 0, arguments);
  },
  includes(...e) {
    return Dn(this, "includes", e);
  },
  indexOf(...e) {
    return Dn(this, "indexOf", e);
  },
  join(e) {
    return at(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return Dn(this, "lastIndexOf", e);
  },
  map(e, t) {
    return $e(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return vt(this, "pop");
  },
  push(...e) {
    return vt(this, "push", e);
  },
  reduce(e, ...t) {
    return Ps(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return Ps(this, "reduceRight", e, t);
  },
  shift() {
    return vt(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return $e(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return vt(this, "splice", e);
  },
  toReversed() {
    return at(this).toReversed();
  },
  toSorted(e) {
    return at(this).toSorted(e);
  },
  toSpliced(...e) {
    return at(this).toSpliced(...e);
  },
  unshift(...e) {
    return vt(this, "unshift", e);
  },
  values() {
    return $n(this, "values", (e) => Ce(this, e));
  }
};
function $n(e, t, n) {
  const s = Sn(e), i = s[t], r = i.call(s);
  if (s !== e && !/* @__PURE__ */ de(e)) {
    if (r[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(r));
      return o.next = () => Rs(r.next(), n), i !== Hi[t] && Object.defineProperties(o, {
        return: {
          get() {
            const l = r.return;
            return typeof l == "function" ? l.bind(r) : l;
          }
        },
        throw: {
          get() {
            const l = r.throw;
            return typeof l == "function" ? l.bind(r) : l;
          }
        }
      }), o;
    }
    r._next = r.next, r.next = () => Rs(r._next(), n);
  }
  return r;
}
function Rs(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const Hi = Array.prototype;
function $e(e, t, n, s, i, r) {
  const o = Sn(e), l = o !== e && !/* @__PURE__ */ de(e), c = o[t];
  if (c !== Hi[t]) {
    const p = c.apply(e, r);
    return l ? pe(p) : p;
  }
  let d = n;
  o !== e && (l ? d = function(p, C) {
    return n.call(this, Ce(e, p), C, e);
  } : n.length > 2 && (d = function(p, C) {
    return n.call(this, p, C, e);
  }));
  const u = c.call(o, d, s);
  return l && i ? i(u) : u;
}
function Ps(e, t, n, s) {
  const i = Sn(e), r = i !== e && !/* @__PURE__ */ de(e);
  let o = n, l = !1;
  i !== e && (r ? (l = s.length === 0, o = function(d, u, p) {
    return l && (l = !1, d = Ce(e, d)), n.call(this, d, Ce(e, u), p, e);
  }) : n.length > 3 && (o = function(d, u, p) {
    return n.call(this, d, u, p, e);
  }));
  const c = i[t](o, ...s);
  return l ? Ce(e, c) : c;
}
function Dn(e, t, n) {
  const s = /* @__PURE__ */ F(e);
  se(s, "iterate", Vt);
  const i = s[t](...n);
  return (i === -1 || i === !1) && /* @__PURE__ */ gs(n[0]) ? (n[0] = /* @__PURE__ */ F(n[0]), s[t](...n)) : i;
}
function vt(e, t, n = []) {
  Be(), cs();
  const s = (/* @__PURE__ */ F(e))[t].apply(e, n);
  return as(), Je(), s;
}
const oo = /* @__PURE__ */ os("__proto__,__v_isRef,__isVue"), Bi = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(Ee)
);
function lo(e) {
  Ee(e) || (e = String(e));
  const t = /* @__PURE__ */ F(this);
  return se(t, "has", e), t.hasOwnProperty(e);
}
class Ji {
  constructor(t = !1, n = !1) {
    this._isReadonly = t, this._isShallow = n;
  }
  get(t, n, s) {
    if (n === "__v_skip") return t.__v_skip;
    const i = this._isReadonly, r = this._isShallow;
    if (n === "__v_isReactive")
      return !i;
    if (n === "__v_isReadonly")
      return i;
    if (n === "__v_isShallow")
      return r;
    if (n === "__v_raw")
      return s === (i ? r ? _o : Xi : r ? Yi : zi).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(s) ? t : void 0;
    const o = R(t);
    if (!i) {
      let c;
      if (o && (c = ro[n]))
        return c;
      if (n === "hasOwnProperty")
        return lo;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ oe(t) ? t : s
    );
    if ((Ee(n) ? Bi.has(n) : oo(n)) || (i || se(t, "get", n), r))
      return l;
    if (/* @__PURE__ */ oe(l)) {
      const c = o && ls(n) ? l : l.value;
      return i && z(c) ? /* @__PURE__ */ Qn(c) : c;
    }
    return z(l) ? i ? /* @__PURE__ */ Qn(l) : /* @__PURE__ */ hs(l) : l;
  }
}
class Gi extends Ji {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, s, i) {
    let r = t[n];
    const o = R(t) && ls(n);
    if (!this._isShallow) {
      const d = /* @__PURE__ */ Oe(r);
      if (!/* @__PURE__ */ de(s) && !/* @__PURE__ */ Oe(s) && (r = /* @__PURE__ */ F(r), s = /* @__PURE__ */ F(s)), !o && /* @__PURE__ */ oe(r) && !/* @__PURE__ */ oe(s))
        return d || (r.value = s), !0;
    }
    const l = o ? Number(n) < t.length : U(t, n), c = Reflect.set(
      t,
      n,
      s,
      /* @__PURE__ */ oe(t) ? t : i
    );
    return t === /* @__PURE__ */ F(i) && c && (l ? Ie(s, r) && Pe(t, "set", n, s) : Pe(t, "add", n, s)), c;
  }
  deleteProperty(t, n) {
    const s = U(t, n);
    t[n];
    const i = Reflect.deleteProperty(t, n);
    return i && s && Pe(t, "delete", n, void 0), i;
  }
  has(t, n) {
    const s = Reflect.has(t, n);
    return (!Ee(n) || !Bi.has(n)) && se(t, "has", n), s;
  }
  ownKeys(t) {
    return se(
      t,
      "iterate",
      R(t) ? "length" : nt
    ), Reflect.ownKeys(t);
  }
}
class co extends Ji {
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
const ao = /* @__PURE__ */ new Gi(), fo = /* @__PURE__ */ new co(), uo = /* @__PURE__ */ new Gi(!0);
const Xn = (e) => e, zt = (e) => Reflect.getPrototypeOf(e);
function ho(e, t, n) {
  return function(...s) {
    const i = this.__v_raw, r = /* @__PURE__ */ F(i), o = We(r), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, d = i[e](...s), u = n ? Xn : t ? Ge : pe;
    return !t && se(
      r,
      "iterate",
      c ? Yn : nt
    ), he(
      // inheriting all iterator properties
      Object.create(d),
      {
        // iterator protocol
        next() {
          const { value: p, done: C } = d.next();
          return C ? { value: p, done: C } : {
            value: l ? [u(p[0]), u(p[1])] : u(p),
            done: C
          };
        }
      }
    );
  };
}
function Yt(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function po(e, t) {
  const n = {
    get(i) {
      const r = this.__v_raw, o = /* @__PURE__ */ F(r), l = /* @__PURE__ */ F(i);
      e || (Ie(i, l) && se(o, "get", i), se(o, "get", l));
      const { has: c } = zt(o), d = t ? Xn : e ? Ge : pe;
      if (c.call(o, i))
        return d(r.get(i));
      if (c.call(o, l))
        return d(r.get(l));
      r !== o && r.get(i);
    },
    get size() {
      const i = this.__v_raw;
      return !e && se(/* @__PURE__ */ F(i), "iterate", nt), i.size;
    },
    has(i) {
      const r = this.__v_raw, o = /* @__PURE__ */ F(r), l = /* @__PURE__ */ F(i);
      return e || (Ie(i, l) && se(o, "has", i), se(o, "has", l)), i === l ? r.has(i) : r.has(i) || r.has(l);
    },
    forEach(i, r) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ F(l), d = t ? Xn : e ? Ge : pe;
      return !e && se(c, "iterate", nt), l.forEach((u, p) => i.call(r, d(u), d(p), o));
    }
  };
  return he(
    n,
    e ? {
      add: Yt("add"),
      set: Yt("set"),
      delete: Yt("delete"),
      clear: Yt("clear")
    } : {
      add(i) {
        const r = /* @__PURE__ */ F(this), o = zt(r), l = /* @__PURE__ */ F(i), c = !t && !/* @__PURE__ */ de(i) && !/* @__PURE__ */ Oe(i) ? l : i;
        return o.has.call(r, c) || Ie(i, c) && o.has.call(r, i) || Ie(l, c) && o.has.call(r, l) || (r.add(c), Pe(r, "add", c, c)), this;
      },
      set(i, r) {
        !t && !/* @__PURE__ */ de(r) && !/* @__PURE__ */ Oe(r) && (r = /* @__PURE__ */ F(r));
        const o = /* @__PURE__ */ F(this), { has: l, get: c } = zt(o);
        let d = l.call(o, i);
        d || (i = /* @__PURE__ */ F(i), d = l.call(o, i));
        const u = c.call(o, i);
        return o.set(i, r), d ? Ie(r, u) && Pe(o, "set", i, r) : Pe(o, "add", i, r), this;
      },
      delete(i) {
        const r = /* @__PURE__ */ F(this), { has: o, get: l } = zt(r);
        let c = o.call(r, i);
        c || (i = /* @__PURE__ */ F(i), c = o.call(r, i)), l && l.call(r, i);
        const d = r.delete(i);
        return c && Pe(r, "delete", i, void 0), d;
      },
      clear() {
        const i = /* @__PURE__ */ F(this), r = i.size !== 0, o = i.clear();
        return r && Pe(
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
    n[i] = ho(i, e, t);
  }), n;
}
function ds(e, t) {
  const n = po(e, t);
  return (s, i, r) => i === "__v_isReactive" ? !e : i === "__v_isReadonly" ? e : i === "__v_isShallow" ? t : i === "__v_raw" ? s : Reflect.get(
    U(n, i) && i in s ? n : s,
    i,
    r
  );
}
const go = {
  get: /* @__PURE__ */ ds(!1, !1)
}, mo = {
  get: /* @__PURE__ */ ds(!1, !0)
}, yo = {
  get: /* @__PURE__ */ ds(!0, !1)
};
const zi = /* @__PURE__ */ new WeakMap(), Yi = /* @__PURE__ */ new WeakMap(), Xi = /* @__PURE__ */ new WeakMap(), _o = /* @__PURE__ */ new WeakMap();
function bo(e) {
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
function hs(e) {
  return /* @__PURE__ */ Oe(e) ? e : ps(
    e,
    !1,
    ao,
    go,
    zi
  );
}
// @__NO_SIDE_EFFECTS__
function wo(e) {
  return ps(
    e,
    !1,
    uo,
    mo,
    Yi
  );
}
// @__NO_SIDE_EFFECTS__
function Qn(e) {
  return ps(
    e,
    !0,
    fo,
    yo,
    Xi
  );
}
function ps(e, t, n, s, i) {
  if (!z(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const r = i.get(e);
  if (r)
    return r;
  const o = bo(Wr(e));
  if (o === 0)
    return e;
  const l = new Proxy(
    e,
    o === 2 ? s : n
  );
  return i.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function Ke(e) {
  return /* @__PURE__ */ Oe(e) ? /* @__PURE__ */ Ke(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function Oe(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function de(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function gs(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function F(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ F(t) : e;
}
function So(e) {
  return !U(e, "__v_skip") && Object.isExtensible(e) && $i(e, "__v_skip", !0), e;
}
const pe = (e) => z(e) ? /* @__PURE__ */ hs(e) : e, Ge = (e) => z(e) ? /* @__PURE__ */ Qn(e) : e;
// @__NO_SIDE_EFFECTS__
function oe(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function Ls(e) {
  return xo(e, !1);
}
function xo(e, t) {
  return /* @__PURE__ */ oe(e) ? e : new vo(e, t);
}
class vo {
  constructor(t, n) {
    this.dep = new us(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ F(t), this._value = n ? t : pe(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, s = this.__v_isShallow || /* @__PURE__ */ de(t) || /* @__PURE__ */ Oe(t);
    t = s ? t : /* @__PURE__ */ F(t), Ie(t, n) && (this._rawValue = t, this._value = s ? t : pe(t), this.dep.trigger());
  }
}
function N(e) {
  return /* @__PURE__ */ oe(e) ? e.value : e;
}
const Ao = {
  get: (e, t, n) => t === "__v_raw" ? e : N(Reflect.get(e, t, n)),
  set: (e, t, n, s) => {
    const i = e[t];
    return /* @__PURE__ */ oe(i) && !/* @__PURE__ */ oe(n) ? (i.value = n, !0) : Reflect.set(e, t, n, s);
  }
};
function Qi(e) {
  return /* @__PURE__ */ Ke(e) ? e : new Proxy(e, Ao);
}
class Co {
  constructor(t, n, s) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new us(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = Ft - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = s;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    K !== this)
      return Fi(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return qi(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function To(e, t, n = !1) {
  let s, i;
  return W(e) ? s = e : (s = e.get, i = e.set), new Co(s, i, n);
}
const Xt = {}, on = /* @__PURE__ */ new WeakMap();
let Xe;
function ko(e, t = !1, n = Xe) {
  if (n) {
    let s = on.get(n);
    s || on.set(n, s = []), s.push(e);
  }
}
function Io(e, t, n = G) {
  const { immediate: s, deep: i, once: r, scheduler: o, augmentJob: l, call: c } = n, d = ($) => i ? $ : /* @__PURE__ */ de($) || i === !1 || i === 0 ? Le($, 1) : Le($);
  let u, p, C, k, O = !1, T = !1;
  if (/* @__PURE__ */ oe(e) ? (p = () => e.value, O = /* @__PURE__ */ de(e)) : /* @__PURE__ */ Ke(e) ? (p = () => d(e), O = !0) : R(e) ? (T = !0, O = e.some(($) => /* @__PURE__ */ Ke($) || /* @__PURE__ */ de($)), p = () => e.map(($) => {
    if (/* @__PURE__ */ oe($))
      return $.value;
    if (/* @__PURE__ */ Ke($))
      return d($);
    if (W($))
      return c ? c($, 2) : $();
  })) : W(e) ? t ? p = c ? () => c(e, 2) : e : p = () => {
    if (C) {
      Be();
      try {
        C();
      } finally {
        Je();
      }
    }
    const $ = Xe;
    Xe = u;
    try {
      return c ? c(e, 3, [k]) : e(k);
    } finally {
      Xe = $;
    }
  } : p = tt, t && i) {
    const $ = p, ne = i === !0 ? 1 / 0 : i;
    p = () => Le($(), ne);
  }
  const v = no(), w = () => {
    u.stop(), v && v.active && Ii(v.effects, u);
  };
  if (r && t) {
    const $ = t;
    t = (...ne) => {
      try {
        return $(...ne);
      } finally {
        w();
      }
    };
  }
  let M = T ? new Array(e.length).fill(Xt) : Xt;
  const B = ($) => {
    if (!(!(u.flags & 1) || !u.dirty && !$))
      if (t) {
        const ne = u.run();
        if ($ || i || O || (T ? ne.some((lt, Ue) => Ie(lt, M[Ue])) : Ie(ne, M))) {
          const lt = Xe;
          Be();
          try {
            C && C(), Xe = u;
            const Ue = [
              ne,
              // pass undefined as the old value when it's changed for the first time
              M === Xt ? void 0 : T && M[0] === Xt ? [] : M,
              k
            ];
            M = ne, c ? c(t, 3, Ue) : (
              // @ts-expect-error
              t(...Ue)
            );
          } finally {
            Xe = lt, Je();
          }
        }
      } else
        u.run();
  };
  return l && l(B), u = new Li(p), u.scheduler = o ? () => o(B, !1) : B, k = ($) => ko($, !1, u), C = u.onStop = () => {
    const $ = on.get(u);
    if ($) {
      if (c)
        c($, 4);
      else
        for (const ne of $) ne();
      on.delete(u);
    }
  }, t ? s ? B(!0) : M = u.run() : o ? o(B.bind(null, !0), !0) : u.run(), w.pause = u.pause.bind(u), w.resume = u.resume.bind(u), w.stop = w, w;
}
function Le(e, t = 1 / 0, n) {
  if (t <= 0 || !z(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ oe(e))
    Le(e.value, t, n);
  else if (R(e))
    for (let s = 0; s < e.length; s++)
      Le(e[s], t, n);
  else if (rt(e) || We(e))
    e.forEach((s) => {
      Le(s, t, n);
    });
  else if (Ni(e)) {
    for (const s in e)
      Le(e[s], t, n);
    for (const s of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, s) && Le(e[s], t, n);
  }
  return e;
}
function Bt(e, t, n, s) {
  try {
    return s ? e(...s) : e();
  } catch (i) {
    xn(i, t, n);
  }
}
function Ve(e, t, n, s) {
  if (W(e)) {
    const i = Bt(e, t, n, s);
    return i && Ei(i) && i.catch((r) => {
      xn(r, t, n, void 0, !0);
    }), i;
  }
  if (R(e)) {
    const i = [];
    for (let r = 0; r < e.length; r++)
      i.push(Ve(e[r], t, n, s));
    return i;
  }
}
function xn(e, t, n, s = !0, i = !1) {
  const r = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || G;
  if (t) {
    let c = t.parent;
    const d = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; c; ) {
      const p = c.ec;
      if (p && !c.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!i || c.scope.active)) {
        for (let C = 0; C < p.length; C++)
          if (p[C](e, d, u) === !1)
            return;
      }
      c = c.parent;
    }
    if (o) {
      Be(), Bt(o, null, 10, [
        e,
        d,
        u
      ]), Je();
      return;
    }
  }
  Eo(e, n, r, s, l);
}
function Eo(e, t, n, s = !0, i = !1) {
  if (i)
    throw e;
  console.error(e);
}
const re = [];
let ye = -1;
const Te = [];
let qe = null, pt = 0;
const Zi = /* @__PURE__ */ Promise.resolve();
let ln = null;
function cn(e) {
  const t = ln || Zi;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function Oo(e) {
  let t = ye + 1, n = re.length;
  for (; t < n; ) {
    const s = t + n >>> 1, i = re[s], r = Ut(i);
    r < e || r === e && i.flags & 2 ? t = s + 1 : n = s;
  }
  return t;
}
function ms(e) {
  if (!(e.flags & 1)) {
    const t = Ut(e), n = re[re.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Ut(n) ? re.push(e) : re.splice(Oo(t), 0, e), e.flags |= 1, er();
  }
}
function er() {
  ln || (ln = Zi.then(sr));
}
function No(e) {
  if (!R(e))
    qe && e.id === -1 ? qe.splice(pt + 1, 0, e) : e.flags & 1 || (Te.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      Te.push(e[t]);
  er();
}
function tr(e, t, n, s = ye + 1) {
  for (; s < re.length; s++) {
    const i = re[s];
    if (i && i.flags & 2) {
      if (e && i.id !== e.uid || t !== void 0 && !(i.id >= t))
        continue;
      re.splice(s, 1), s = e ? s - 1 : ye, i.flags & 4 && (i.flags &= -2), i(), i.flags & 4 || (i.flags &= -2);
    }
  }
}
function nr(e, t, n = 0) {
  if (Te.length) {
    let s = Te, i = 0;
    if (t) {
      s = [];
      for (let o = 0; o < Te.length; o++) {
        const l = Te[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? Te[i++] = l : s.push(l);
      }
    }
    const r = [...new Set(s)].sort((o, l) => Ut(o) - Ut(l));
    if (Te.length = i, qe) {
      for (let o = 0; o < r.length; o++)
        qe.push(r[o]);
      return;
    }
    for (qe = r, pt = 0; pt < qe.length; pt++) {
      const o = qe[pt];
      o.flags & 4 && (o.flags &= -2), o.flags & 8 || o(), o.flags &= -2;
    }
    qe = null, pt = 0;
  }
}
let Rn = !1;
function Mo(e, t) {
  if (Rn) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(Te);
  e(), Rn = !0;
  try {
    tr(void 0, t), nr(void 0, n, t);
  } finally {
    Rn = !1;
  }
}
const Ut = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function sr(e) {
  try {
    for (ye = 0; ye < re.length; ye++) {
      const t = re[ye];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), Bt(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; ye < re.length; ye++) {
      const t = re[ye];
      t && (t.flags &= -2);
    }
    ye = -1, re.length = 0, nr(), ln = null, (re.length || Te.length) && sr();
  }
}
let ue = null, ir = null;
function an(e) {
  const t = ue;
  return ue = e, ir = e && e.type.__scopeId || null, t;
}
function $o(e, t = ue, n) {
  if (!t || e._n)
    return e;
  const s = (...i) => {
    s._d && Hs(-1);
    const r = an(t), o = st.length;
    let l;
    try {
      l = e(...i);
    } finally {
      for (let c = st.length; c > o; c--) wr();
      an(r), s._d && Hs(1);
    }
    return l;
  };
  return s._n = !0, s._c = !0, s._d = !0, s;
}
function ft(e, t) {
  if (ue === null)
    return e;
  const n = Tn(ue), s = e.dirs || (e.dirs = []);
  for (let i = 0; i < t.length; i++) {
    let [r, o, l, c = G] = t[i];
    r && (W(r) && (r = {
      mounted: r,
      updated: r
    }), r.deep && Le(o), s.push({
      dir: r,
      instance: n,
      value: o,
      oldValue: void 0,
      arg: l,
      modifiers: c
    }));
  }
  return e;
}
function ze(e, t, n, s) {
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
  const r = i.dirs, o = t && t.dirs;
  for (let l = 0; l < r.length; l++) {
    let c = r[l];
    o ? c.oldValue = o[l].value : s === "mounted" && c.oldValue !== void 0 && (c = he({}, c, { oldValue: void 0 }));
    let d = c.dir[s];
    d && (Be(), Ve(d, n, 8, [
      e.el,
      c,
      i,
      t
    ]), Je());
  }
}
function Do(e, t, n = !1) {
  const s = yl();
  if (s || mt) {
    let i = mt ? mt._context.provides : s ? s.parent == null || s.ce ? s.vnode.appContext && s.vnode.appContext.provides : s.parent.provides : void 0;
    if (i && e in i)
      return i[e];
    if (arguments.length > 1)
      return n && W(t) ? t.call(s && s.proxy) : t;
  }
}
const Ro = /* @__PURE__ */ Symbol.for("v-scx"), Po = () => Do(Ro);
function js(e, t, n) {
  return Lo(e, t, n);
}
function Lo(e, t, n = G) {
  const { immediate: s, deep: i, flush: r, once: o } = n, l = he({}, n), c = t && s || !t && r !== "post";
  let d;
  if (hn) {
    if (r === "sync") {
      const k = Po();
      d = k.__watcherHandles || (k.__watcherHandles = []);
    } else if (!c) {
      const k = () => {
      };
      return k.stop = tt, k.resume = tt, k.pause = tt, k;
    }
  }
  const u = bt;
  l.call = (k, O, T) => Ve(k, u, O, T);
  let p = !1;
  r === "post" ? l.scheduler = (k) => {
    k.i = u, ie(k, u && u.suspense);
  } : r !== "sync" && (p = !0, l.scheduler = (k, O) => {
    O ? k() : ms(k);
  }), l.augmentJob = (k) => {
    t && (k.flags |= 4), p && (k.flags |= 2, u && (k.id = u.uid, k.i = u));
  };
  const C = Io(e, t, l);
  return hn && (d ? d.push(C) : c && C()), C;
}
const jo = /* @__PURE__ */ Symbol("_vte"), vn = (e) => e.__isTeleport, Pn = /* @__PURE__ */ Symbol("_leaveCb");
function Fo(e) {
  let t = e[0];
  if (e.length > 1) {
    for (const n of e)
      if (n.type !== we) {
        t = n;
        break;
      }
  }
  return t;
}
function rr(e) {
  if (!or(e))
    return vn(e.type) && e.children ? Fo(e.children) : e;
  if (e.component)
    return e.component.subTree;
  const { shapeFlag: t, children: n } = e;
  if (n) {
    if (t & 16)
      return n[0];
    if (t & 32 && W(n.default))
      return n.default();
  }
}
function $t(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    $t(
      vn(n.type) && rr(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const s = n.isHydrating ? n.pendingBranch : n.activeBranch;
      s && $t(s, t.clone(s));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === Z && R(e.children)) {
    const n = cr(e.children, !1);
    n && $t(n, t);
  }
}
function Zn(e) {
  if (e.component)
    return Zn(e.component.subTree);
  if (e.type === Z) {
    const t = R(e.children) && cr(e.children, !1);
    return t ? Zn(t) : void 0;
  }
  if (e.type !== we)
    return e;
}
function Vo(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function Fs(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const fn = /* @__PURE__ */ new WeakMap();
function Dt(e, t, n, s, i = !1) {
  if (R(e)) {
    e.forEach(
      (T, v) => Dt(
        T,
        t && (R(t) ? t[v] : t),
        n,
        s,
        i
      )
    );
    return;
  }
  if (Rt(s) && !i) {
    s.shapeFlag & 512 && s.type.__asyncResolved && s.component.subTree.component && Dt(e, t, n, s.component.subTree);
    return;
  }
  const r = s.shapeFlag & 4 ? Tn(s.component) : s.el, o = i ? null : r, { i: l, r: c } = e, d = t && t.r, u = l.refs === G ? l.refs = {} : l.refs, p = l.setupState, C = /* @__PURE__ */ F(p), k = p === G ? ki : (T) => Fs(u, T) ? !1 : U(C, T), O = (T, v) => !(v && Fs(u, v));
  if (d != null && d !== c) {
    if (Vs(t), X(d))
      u[d] = null, k(d) && (p[d] = null);
    else if (/* @__PURE__ */ oe(d)) {
      const T = t;
      O(d, T.k) && (d.value = null), T.k && (u[T.k] = null);
    }
  }
  if (W(c))
    Bt(c, l, 12, [o, u]);
  else {
    const T = X(c), v = /* @__PURE__ */ oe(c);
    if (T || v) {
      const w = () => {
        if (e.f) {
          const M = T ? k(c) ? p[c] : u[c] : O() || !e.k ? c.value : u[e.k];
          if (i)
            R(M) && Ii(M, r);
          else if (R(M))
            M.includes(r) || M.push(r);
          else if (T)
            u[c] = [r], k(c) && (p[c] = u[c]);
          else {
            const B = [r];
            O(c, e.k) && (c.value = B), e.k && (u[e.k] = B);
          }
        } else T ? (u[c] = o, k(c) && (p[c] = o)) : v && (O(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const M = () => {
          w(), fn.delete(e);
        };
        M.id = -1, fn.set(e, M), ie(M, n);
      } else
        Vs(e), w();
    }
  }
}
function Vs(e) {
  const t = fn.get(e);
  t && (t.flags |= 8, fn.delete(e));
}
bn().requestIdleCallback;
bn().cancelIdleCallback;
const Rt = (e) => !!e.type.__asyncLoader, or = (e) => e.type.__isKeepAlive, Uo = /* @__PURE__ */ Symbol.for("v-ndc");
function ut(e, t, n, s) {
  let i;
  const r = n, o = R(e);
  if (o || X(e)) {
    const l = o && /* @__PURE__ */ Ke(e);
    let c = !1, d = !1;
    l && (c = !/* @__PURE__ */ de(e), d = /* @__PURE__ */ Oe(e), e = Sn(e)), i = new Array(e.length);
    for (let u = 0, p = e.length; u < p; u++)
      i[u] = t(
        c ? d ? Ge(pe(e[u])) : pe(e[u]) : e[u],
        u,
        void 0,
        r
      );
  } else if (typeof e == "number")
    if (!Number.isInteger(e) || e < 0)
      i = [];
    else {
      i = new Array(e);
      for (let l = 0; l < e; l++)
        i[l] = t(l + 1, l, void 0, r);
    }
  else if (z(e))
    if (e[Symbol.iterator])
      i = Array.from(
        e,
        (l, c) => t(l, c, void 0, r)
      );
    else {
      const l = Object.keys(e);
      i = new Array(l.length);
      for (let c = 0, d = l.length; c < d; c++) {
        const u = l[c];
        i[c] = t(e[u], u, c, r);
      }
    }
  else
    i = [];
  return i;
}
const es = (e) => e ? Cr(e) ? Tn(e) : es(e.parent) : null, Pt = (
  // Move PURE marker to new line to workaround compiler discarding it
  // due to type annotation
  /* @__PURE__ */ he(/* @__PURE__ */ Object.create(null), {
    $: (e) => e,
    $el: (e) => e.vnode.el,
    $data: (e) => e.data,
    $props: (e) => e.props,
    $attrs: (e) => e.attrs,
    $slots: (e) => e.slots,
    $refs: (e) => e.refs,
    $parent: (e) => es(e.parent),
    $root: (e) => es(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      ms(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = cn.bind(e.proxy)),
    $watch: (e) => tt
  })
), Ln = (e, t) => e !== G && !e.__isScriptSetup && U(e, t), qo = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: s, data: i, props: r, accessCache: o, type: l, appContext: c } = e;
    if (t[0] !== "$") {
      const C = o[t];
      if (C !== void 0)
        switch (C) {
          case 1:
            return s[t];
          case 2:
            return i[t];
          case 4:
            return n[t];
          case 3:
            return r[t];
        }
      else {
        if (Ln(s, t))
          return o[t] = 1, s[t];
        if (U(r, t))
          return o[t] = 3, r[t];
        if (n !== G && U(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const d = Pt[t];
    let u, p;
    if (d)
      return t === "$attrs" && se(e.attrs, "get", ""), d(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== G && U(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      p = c.config.globalProperties, U(p, t)
    )
      return p[t];
  },
  set({ _: e }, t, n) {
    const { data: s, setupState: i, ctx: r } = e;
    return Ln(i, t) ? (i[t] = n, !0) : U(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (r[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: s, appContext: i, props: r, type: o }
  }, l) {
    let c;
    return !!(n[l] || Ln(t, l) || U(r, l) || U(s, l) || U(Pt, l) || U(i.config.globalProperties, l) || (c = o.__cssModules) && c[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : U(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function lr() {
  return {
    app: null,
    config: {
      isNativeTag: ki,
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
let Wo = 0;
function Ko(e, t) {
  return function(s, i = null) {
    W(s) || (s = he({}, s)), i != null && !z(i) && (i = null);
    const r = lr(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const d = r.app = {
      _uid: Wo++,
      _component: s,
      _props: i,
      _container: null,
      _context: r,
      _instance: null,
      version: vl,
      get config() {
        return r.config;
      },
      set config(u) {
      },
      use(u, ...p) {
        return o.has(u) || (u && W(u.install) ? (o.add(u), u.install(d, ...p)) : W(u) && (o.add(u), u(d, ...p))), d;
      },
      mixin(u) {
        return d;
      },
      component(u, p) {
        return p ? (r.components[u] = p, d) : r.components[u];
      },
      directive(u, p) {
        return p ? (r.directives[u] = p, d) : r.directives[u];
      },
      mount(u, p, C) {
        if (!c) {
          const k = d._ceVNode || Fe(s, i);
          return k.appContext = r, C === !0 ? C = "svg" : C === !1 && (C = void 0), e(k, u, C), c = !0, d._container = u, u.__vue_app__ = d, Tn(k.component);
        }
      },
      onUnmount(u) {
        l.push(u);
      },
      unmount() {
        c && (Ve(
          l,
          d._instance,
          16
        ), e(null, d._container), delete d._container.__vue_app__);
      },
      provide(u, p) {
        return r.provides[u] = p, d;
      },
      runWithContext(u) {
        const p = mt;
        mt = d;
        try {
          return u();
        } finally {
          mt = p;
        }
      }
    };
    return d;
  };
}
let mt = null;
const Ho = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${_e(t)}Modifiers`] || e[`${ot(t)}Modifiers`];
function Bo(e, t, ...n) {
  if (e.isUnmounted) return;
  const s = e.vnode.props || G;
  let i = n;
  const r = t.startsWith("update:"), o = r && Ho(s, t.slice(7));
  o && (o.trim && (i = n.map((u) => X(u) ? u.trim() : u)), o.number && (i = i.map(Ht)));
  let l, c = s[l = On(t)] || // also try camelCase event handler (#2249)
  s[l = On(_e(t))];
  !c && r && (c = s[l = On(ot(t))]), c && Ve(
    c,
    e,
    6,
    i
  );
  const d = s[l + "Once"];
  if (d) {
    if (!e.emitted)
      e.emitted = {};
    else if (e.emitted[l])
      return;
    e.emitted[l] = !0, Ve(
      d,
      e,
      6,
      i
    );
  }
}
function Jo(e, t, n = !1) {
  const s = t.emitsCache, i = s.get(e);
  if (i !== void 0)
    return i;
  const r = e.emits;
  let o = {};
  return r ? (R(r) ? r.forEach((l) => o[l] = null) : he(o, r), z(e) && s.set(e, o), o) : (z(e) && s.set(e, null), null);
}
function An(e, t) {
  return !e || !mn(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), U(e, t[0].toLowerCase() + t.slice(1)) || U(e, ot(t)) || U(e, t));
}
function Us(e) {
  const {
    type: t,
    vnode: n,
    proxy: s,
    withProxy: i,
    propsOptions: [r],
    slots: o,
    attrs: l,
    emit: c,
    render: d,
    renderCache: u,
    props: p,
    data: C,
    setupState: k,
    ctx: O,
    inheritAttrs: T
  } = e, v = an(e);
  let w, M;
  try {
    if (n.shapeFlag & 4) {
      const $ = i || s, ne = $;
      w = ke(
        d.call(
          ne,
          $,
          u,
          p,
          k,
          C,
          O
        )
      ), M = l;
    } else {
      const $ = t;
      w = ke(
        $.length > 1 ? $(
          p,
          { attrs: l, slots: o, emit: c }
        ) : $(
          p,
          null
        )
      ), M = t.props ? l : Go(l);
    }
  } catch ($) {
    st.length = 0, xn($, e, 1), w = Fe(we);
  }
  let B = w;
  if (M && T !== !1) {
    const $ = Object.keys(M), { shapeFlag: ne } = B;
    $.length && ne & 7 && (r && $.some(yn) && (M = zo(
      M,
      r
    )), B = _t(B, M, !1, !0));
  }
  if (n.dirs && (B = _t(B, null, !1, !0), B.dirs = B.dirs ? B.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const $ = vn(B.type) && rr(B) || B;
    $t($, n.transition);
  }
  return w = B, an(v), w;
}
function cr(e, t = !0) {
  let n;
  for (let s = 0; s < e.length; s++) {
    const i = e[s];
    if (bs(i)) {
      if (i.type !== we || i.children === "v-if") {
        if (n)
          return;
        n = i;
      }
    } else
      return;
  }
  return n;
}
const Go = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || mn(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, zo = (e, t) => {
  const n = {};
  for (const s in e)
    (!yn(s) || !(s.slice(9) in t)) && (n[s] = e[s]);
  return n;
};
function Yo(e, t, n) {
  const { props: s, children: i, component: r } = e, { props: o, children: l, patchFlag: c } = t, d = r.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return s ? qs(s, o, d) : !!o;
    if (c & 8) {
      const u = t.dynamicProps;
      for (let p = 0; p < u.length; p++) {
        const C = u[p];
        if (ar(o, s, C) && !An(d, C))
          return !0;
      }
    }
  } else
    return (i || l) && (!l || !l.$stable) ? !0 : s === o ? !1 : s ? o ? qs(s, o, d) : !0 : !!o;
  return !1;
}
function qs(e, t, n) {
  const s = Object.keys(t);
  if (s.length !== Object.keys(e).length)
    return !0;
  for (let i = 0; i < s.length; i++) {
    const r = s[i];
    if (!U(e, r) || ar(t, e, r) && !An(n, r))
      return !0;
  }
  return !1;
}
function ar(e, t, n) {
  const s = e[n], i = t[n];
  return n === "style" && z(s) && z(i) ? !He(s, i) : s !== i;
}
function Xo({ vnode: e, parent: t, suspense: n }, s) {
  for (; t; ) {
    const i = t.subTree;
    if (i.suspense && i.suspense.activeBranch === e && (i.suspense.vnode.el = i.el = s, e = i), i === e)
      (e = t.vnode).el = s, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = s);
}
const fr = {}, ur = () => Object.create(fr), dr = (e) => Object.getPrototypeOf(e) === fr;
function Qo(e, t, n, s = !1) {
  const i = {}, r = ur();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), hr(e, t, i, r);
  for (const o in e.propsOptions[0])
    o in i || (i[o] = void 0);
  n ? e.props = s ? i : /* @__PURE__ */ wo(i) : e.type.props ? e.props = i : e.props = r, e.attrs = r;
}
function Zo(e, t, n, s) {
  const {
    props: i,
    attrs: r,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ F(i), [c] = e.propsOptions;
  let d = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (s || o > 0) && !(o & 16)
  ) {
    if (o & 8) {
      const u = e.vnode.dynamicProps;
      for (let p = 0; p < u.length; p++) {
        let C = u[p];
        if (An(e.emitsOptions, C))
          continue;
        const k = t[C];
        if (c)
          if (U(r, C))
            k !== r[C] && (r[C] = k, d = !0);
          else {
            const O = _e(C);
            i[O] = ts(
              c,
              l,
              O,
              k,
              e,
              !1
            );
          }
        else
          k !== r[C] && (r[C] = k, d = !0);
      }
    }
  } else {
    hr(e, t, i, r) && (d = !0);
    let u;
    for (const p in l)
      (!t || // for camelCase
      !U(t, p) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = ot(p)) === p || !U(t, u))) && (c ? n && // for camelCase
      (n[p] !== void 0 || // for kebab-case
      n[u] !== void 0) && (i[p] = ts(
        c,
        l,
        p,
        void 0,
        e,
        !0
      )) : delete i[p]);
    if (r !== l)
      for (const p in r)
        (!t || !U(t, p)) && (delete r[p], d = !0);
  }
  d && Pe(e.attrs, "set", "");
}
function hr(e, t, n, s) {
  const [i, r] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let c in t) {
      if (Ot(c))
        continue;
      const d = t[c];
      let u;
      i && U(i, u = _e(c)) ? !r || !r.includes(u) ? n[u] = d : (l || (l = {}))[u] = d : An(e.emitsOptions, c) || (!(c in s) || d !== s[c]) && (s[c] = d, o = !0);
    }
  if (r) {
    const c = /* @__PURE__ */ F(n), d = l || G;
    for (let u = 0; u < r.length; u++) {
      const p = r[u];
      n[p] = ts(
        i,
        c,
        p,
        d[p],
        e,
        !U(d, p)
      );
    }
  }
  return o;
}
function ts(e, t, n, s, i, r) {
  const o = e[n];
  if (o != null) {
    const l = U(o, "default");
    if (l && s === void 0) {
      const c = o.default;
      if (o.type !== Function && !o.skipFactory && W(c)) {
        const { propsDefaults: d } = i;
        if (n in d)
          s = d[n];
        else {
          const u = Ar(i);
          s = d[n] = c.call(
            null,
            t
          ), u();
        }
      } else
        s = c;
      i.ce && i.ce._setProp(n, s);
    }
    o[
      0
      /* shouldCast */
    ] && (r && !l ? s = !1 : o[
      1
      /* shouldCastTrue */
    ] && (s === "" || s === ot(n)) && (s = !0));
  }
  return s;
}
function el(e, t, n = !1) {
  const s = t.propsCache, i = s.get(e);
  if (i)
    return i;
  const r = e.props, o = {}, l = [];
  if (!r)
    return z(e) && s.set(e, Ze), Ze;
  if (R(r))
    for (let d = 0; d < r.length; d++) {
      const u = _e(r[d]);
      Ws(u) && (o[u] = G);
    }
  else if (r)
    for (const d in r) {
      const u = _e(d);
      if (Ws(u)) {
        const p = r[d], C = o[u] = R(p) || W(p) ? { type: p } : he({}, p), k = C.type;
        let O = !1, T = !0;
        if (R(k))
          for (let v = 0; v < k.length; ++v) {
            const w = k[v], M = W(w) && w.name;
            if (M === "Boolean") {
              O = !0;
              break;
            } else M === "String" && (T = !1);
          }
        else
          O = W(k) && k.name === "Boolean";
        C[
          0
          /* shouldCast */
        ] = O, C[
          1
          /* shouldCastTrue */
        ] = T, (O || U(C, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return z(e) && s.set(e, c), c;
}
function Ws(e) {
  return e[0] !== "$" && !Ot(e);
}
const ys = (e) => e === "_" || e === "_ctx" || e === "$stable", _s = (e) => R(e) ? e.map(ke) : [ke(e)], tl = (e, t, n) => {
  if (t._n)
    return t;
  const s = $o((...i) => _s(t(...i)), n);
  return s._c = !1, s;
}, pr = (e, t, n) => {
  const s = e._ctx;
  for (const i in e) {
    if (ys(i)) continue;
    const r = e[i];
    if (W(r))
      t[i] = tl(i, r, s);
    else if (r != null) {
      const o = _s(r);
      t[i] = () => o;
    }
  }
}, gr = (e, t) => {
  const n = _s(t);
  e.slots.default = () => n;
}, mr = (e, t, n) => {
  for (const s in t)
    (n || !ys(s)) && (e[s] = t[s]);
}, nl = (e, t, n) => {
  const s = e.slots = ur();
  if (e.vnode.shapeFlag & 32) {
    const i = t._;
    i ? (mr(s, t, n), n && $i(s, "_", i, !0)) : pr(t, s);
  } else t && gr(e, t);
}, sl = (e, t, n) => {
  const { vnode: s, slots: i } = e;
  let r = !0, o = G;
  if (s.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? r = !1 : mr(i, t, n) : (r = !t.$stable, pr(t, i)), o = t;
  } else t && (gr(e, t), o = { default: 1 });
  if (r)
    for (const l in i)
      !ys(l) && o[l] == null && delete i[l];
}, ie = al;
function il(e) {
  return rl(e);
}
function rl(e, t) {
  const n = bn();
  n.__VUE__ = !0;
  const {
    insert: s,
    remove: i,
    patchProp: r,
    createElement: o,
    createText: l,
    createComment: c,
    setText: d,
    setElementText: u,
    parentNode: p,
    nextSibling: C,
    setScopeId: k = tt,
    insertStaticContent: O
  } = e, T = (a, f, h, _ = null, g = null, y = null, x = void 0, S = null, b = !!f.dynamicChildren) => {
    if (a === f)
      return;
    a && !At(a, f) && (_ = Gt(a), Ne(a, g, y, !0), a = null), f.patchFlag === -2 && (b = !1, f.dynamicChildren = null), f.dynamicChildren && a && a.dynamicChildren && a.dynamicChildren.hasOnce && (f.dynamicChildren === Ze && (f.dynamicChildren = []), f.dynamicChildren.hasOnce = !0);
    const { type: m, ref: I, shapeFlag: A } = f;
    switch (m) {
      case Cn:
        v(a, f, h, _);
        break;
      case we:
        w(a, f, h, _);
        break;
      case Fn:
        a == null && M(f, h, _, x);
        break;
      case Z:
        Lr(
          a,
          f,
          h,
          _,
          g,
          y,
          x,
          S,
          b
        );
        break;
      default:
        A & 1 ? ne(
          a,
          f,
          h,
          _,
          g,
          y,
          x,
          S,
          b
        ) : A & 6 ? jr(
          a,
          f,
          h,
          _,
          g,
          y,
          x,
          S,
          b
        ) : (A & 64 || A & 128) && m.process(
          a,
          f,
          h,
          _,
          g,
          y,
          x,
          S,
          b,
          xt
        );
    }
    I != null && g ? Dt(I, a && a.ref, y, f || a, !f) : I == null && a && a.ref != null && Dt(a.ref, null, y, a, !0);
  }, v = (a, f, h, _) => {
    if (a == null)
      s(
        f.el = l(f.children),
        h,
        _
      );
    else {
      const g = f.el = a.el;
      f.children !== a.children && d(g, f.children);
    }
  }, w = (a, f, h, _) => {
    a == null ? s(
      f.el = c(f.children || ""),
      h,
      _
    ) : f.el = a.el;
  }, M = (a, f, h, _) => {
    [a.el, a.anchor] = O(
      a.children,
      f,
      h,
      _,
      a.el,
      a.anchor
    );
  }, B = ({ el: a, anchor: f }, h, _) => {
    let g;
    for (; a && a !== f; )
      g = C(a), s(a, h, _), a = g;
    s(f, h, _);
  }, $ = ({ el: a, anchor: f }) => {
    let h;
    for (; a && a !== f; )
      h = C(a), i(a), a = h;
    i(f);
  }, ne = (a, f, h, _, g, y, x, S, b) => {
    if (f.type === "svg" ? x = "svg" : f.type === "math" && (x = "mathml"), a == null)
      lt(
        f,
        h,
        _,
        g,
        y,
        x,
        S,
        b
      );
    else {
      const m = a.el && a.el._isVueCE ? a.el : null;
      try {
        m && m._beginPatch(), Pr(
          a,
          f,
          g,
          y,
          x,
          S,
          b
        );
      } finally {
        m && m._endPatch();
      }
    }
  }, lt = (a, f, h, _, g, y, x, S) => {
    let b, m;
    const { props: I, shapeFlag: A, transition: E, dirs: D } = a;
    if (b = a.el = o(
      a.type,
      y,
      I && I.is,
      I
    ), A & 8 ? u(b, a.children) : A & 16 && ct(
      a.children,
      b,
      null,
      _,
      g,
      jn(a, y),
      x,
      S
    ), D && ze(a, null, _, "created"), Ue(b, a, a.scopeId, x, _), I) {
      for (const q in I)
        q !== "value" && !Ot(q) && r(b, q, null, I[q], y, _);
      "value" in I && r(b, "value", null, I.value, y), (m = I.onVnodeBeforeMount) && ve(m, _, a);
    }
    D && ze(a, null, _, "beforeMount");
    const j = ol(g, E);
    j ? E.beforeEnter(b) : E && !E.persisted && (b[cl] = !0), s(b, f, h), ((m = I && I.onVnodeMounted) || j || D) && ie(() => {
      m && ve(m, _, a), j && E.enter(b), D && ze(a, null, _, "mounted");
    }, g);
  }, Ue = (a, f, h, _, g) => {
    if (h && k(a, h), _)
      for (let y = 0; y < _.length; y++)
        k(a, _[y]);
    if (g) {
      let y = g.subTree;
      if (f === y || br(y.type) && (y.ssContent === f || y.ssFallback === f)) {
        const x = g.vnode;
        Ue(
          a,
          x,
          x.scopeId,
          x.slotScopeIds,
          g.parent
        );
      }
    }
  }, ct = (a, f, h, _, g, y, x, S, b = 0) => {
    for (let m = b; m < a.length; m++) {
      const I = a[m] = S ? Re(a[m]) : ke(a[m]);
      T(
        null,
        I,
        f,
        h,
        _,
        g,
        y,
        x,
        S
      );
    }
  }, Pr = (a, f, h, _, g, y, x) => {
    const S = f.el = a.el;
    let { patchFlag: b, dynamicChildren: m, dirs: I } = f;
    b |= a.patchFlag & 16;
    const A = a.props || G, E = f.props || G;
    let D;
    if (h && Ye(h, !1), (D = E.onVnodeBeforeUpdate) && ve(D, h, f, a), I && ze(f, a, h, "beforeUpdate"), h && Ye(h, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    m && (!a.dynamicChildren || a.dynamicChildren.length !== m.length) && (b = 0, x = !1, m = null), (A.innerHTML && E.innerHTML == null || A.textContent && E.textContent == null) && u(S, ""), m ? kn(
      a.dynamicChildren,
      m,
      S,
      h,
      _,
      jn(f, g),
      y
    ) : x || En(
      a,
      f,
      S,
      null,
      h,
      _,
      jn(f, g),
      y,
      !1
    ), b > 0) {
      if (b & 16)
        ws(S, A, E, h, g);
      else if (b & 2 && A.class !== E.class && r(S, "class", null, E.class, g), b & 4 && r(S, "style", A.style, E.style, g), b & 8) {
        const j = f.dynamicProps;
        for (let q = 0; q < j.length; q++) {
          const V = j[q], Y = A[V], ee = E[V];
          (ee !== Y || V === "value") && r(S, V, Y, ee, g, h);
        }
      }
      b & 1 && a.children !== f.children && u(S, f.children);
    } else !x && m == null && ws(S, A, E, h, g);
    ((D = E.onVnodeUpdated) || I) && ie(() => {
      D && ve(D, h, f, a), I && ze(f, a, h, "updated");
    }, _);
  }, kn = (a, f, h, _, g, y, x) => {
    for (let S = 0; S < f.length; S++) {
      const b = a[S], m = f[S], I = b.el || Lt(b), A = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        I && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (b.type === Z || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !At(b, m) || // - In the case of a component, it could contain anything.
        b.shapeFlag & 198) ? p(I) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          h
        )
      );
      T(
        b,
        m,
        A,
        null,
        _,
        g,
        y,
        x,
        !0
      );
    }
  }, ws = (a, f, h, _, g) => {
    if (f !== h) {
      if (f !== G)
        for (const y in f)
          !Ot(y) && !(y in h) && r(
            a,
            y,
            f[y],
            null,
            g,
            _
          );
      for (const y in h) {
        if (Ot(y)) continue;
        const x = h[y], S = f[y];
        x !== S && y !== "value" && r(a, y, S, x, g, _);
      }
      "value" in h && r(a, "value", f.value, h.value, g);
    }
  }, Lr = (a, f, h, _, g, y, x, S, b) => {
    const m = f.el = a ? a.el : l(""), I = f.anchor = a ? a.anchor : l("");
    let { patchFlag: A, dynamicChildren: E, slotScopeIds: D } = f;
    D && (S = S ? S.concat(D) : D), a == null ? (s(m, h, _), s(I, h, _), ct(
      // #10007
      // such fragment like `<></>` will be compiled into
      // a fragment which doesn't have a children.
      // In this case fallback to an empty array
      f.children || [],
      h,
      I,
      g,
      y,
      x,
      S,
      b
    )) : A > 0 && A & 64 && E && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    a.dynamicChildren && a.dynamicChildren.length === E.length ? (kn(
      a.dynamicChildren,
      E,
      h,
      g,
      y,
      x,
      S
    ), // #2080 if the stable fragment has a key, it's a <template v-for> that may
    //  get moved around. Make sure all root level vnodes inherit el.
    // #2134 or if it's a component root, it may also get moved around
    // as the component is being moved.
    (f.key != null || g && f === g.subTree) && yr(
      a,
      f,
      !0
      /* shallow */
    )) : En(
      a,
      f,
      h,
      I,
      g,
      y,
      x,
      S,
      b
    );
  }, jr = (a, f, h, _, g, y, x, S, b) => {
    f.slotScopeIds = S, a == null ? f.shapeFlag & 512 ? g.ctx.activate(
      f,
      h,
      _,
      x,
      b
    ) : Ss(
      f,
      h,
      _,
      g,
      y,
      x,
      b
    ) : Fr(a, f, b);
  }, Ss = (a, f, h, _, g, y, x) => {
    const S = a.component = ml(
      a,
      _,
      g
    );
    if (or(a) && (S.ctx.renderer = xt), _l(S, !1, x), S.asyncDep) {
      if (g && g.registerDep(
        S,
        xs,
        x,
        y
      ), !a.el) {
        const b = S.subTree = Fe(we);
        w(null, b, f, h), a.placeholder = b.el;
      }
    } else
      xs(
        S,
        a,
        f,
        h,
        g,
        y,
        x
      );
  }, Fr = (a, f, h) => {
    const _ = f.component = a.component;
    if (Yo(a, f, h))
      if (_.asyncDep && !_.asyncResolved) {
        f.el = a.el, f.placeholder = a.placeholder, In(_, f, h);
        return;
      } else
        _.next = f, _.update();
    else
      f.el = a.el, f.placeholder = a.placeholder, _.vnode = f;
  }, xs = (a, f, h, _, g, y, x) => {
    const S = () => {
      if (a.isMounted) {
        let { next: A, bu: E, u: D, parent: j, vnode: q } = a;
        {
          const Se = _r(a);
          if (Se) {
            A && (A.el = q.el, In(a, A, x)), Se.asyncDep.then(() => {
              const Me = () => {
                a.job.flags & 8 || (g && g.pendingBranch ? ie(Me, g) : m());
              };
              Me.flags = 48, ie(Me, g);
            });
            return;
          }
        }
        let V = A, Y;
        Ye(a, !1), A ? (A.el = q.el, In(a, A, x)) : A = q, E && tn(E), (Y = A.props && A.props.onVnodeBeforeUpdate) && ve(Y, j, A, q), Ye(a, !0);
        const ee = Us(a), ge = a.subTree;
        a.subTree = ee, T(
          ge,
          ee,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          p(
            ge.el || Lt(ge)
          ),
          // anchor may have changed if it's in a fragment
          Gt(ge),
          a,
          g,
          y
        ), A.el = ee.el, V === null && Xo(a, ee.el), D && ie(D, g), (Y = A.props && A.props.onVnodeUpdated) && ie(
          () => ve(Y, j, A, q),
          g
        );
      } else {
        let A;
        const { el: E, props: D } = f, { bm: j, m: q, parent: V, root: Y, type: ee } = a, ge = Rt(f);
        Ye(a, !1), j && tn(j), !ge && (A = D && D.onVnodeBeforeMount) && ve(A, V, f), Ye(a, !0);
        {
          Y.ce && Y.ce._hasShadowRoot() && Y.ce._injectChildStyle(
            ee,
            a.parent ? a.parent.type : void 0
          );
          const Se = a.subTree = Us(a);
          T(
            null,
            Se,
            h,
            _,
            a,
            g,
            y
          ), f.el = Se.el;
        }
        if (q && ie(q, g), !ge && (A = D && D.onVnodeMounted)) {
          const Se = f;
          ie(
            () => ve(A, V, Se),
            g
          );
        }
        (f.shapeFlag & 256 || V && Rt(V.vnode) && V.vnode.shapeFlag & 256) && a.a && ie(a.a, g), a.isMounted = !0, f = h = _ = null;
      }
    };
    a.scope.on();
    const b = a.effect = new Li(S);
    a.scope.off();
    const m = a.update = b.run.bind(b), I = a.job = b.runIfDirty.bind(b);
    I.i = a, I.id = a.uid, b.scheduler = () => ms(I), Ye(a, !0), m();
  }, In = (a, f, h) => {
    f.component = a;
    const _ = a.vnode.props;
    a.vnode = f, a.next = null, Zo(a, f.props, _, h), sl(a, f.children, h), Be(), tr(a), Je();
  }, En = (a, f, h, _, g, y, x, S, b = !1) => {
    const m = a && a.children, I = a ? a.shapeFlag : 0, A = f.children, { patchFlag: E, shapeFlag: D } = f;
    if (E > 0) {
      if (E & 128) {
        vs(
          m,
          A,
          h,
          _,
          g,
          y,
          x,
          S,
          b
        );
        return;
      } else if (E & 256) {
        Vr(
          m,
          A,
          h,
          _,
          g,
          y,
          x,
          S,
          b
        );
        return;
      }
    }
    D & 8 ? (I & 16 && St(m, g, y), A !== m && u(h, A)) : I & 16 ? D & 16 ? vs(
      m,
      A,
      h,
      _,
      g,
      y,
      x,
      S,
      b
    ) : St(m, g, y, !0) : (I & 8 && u(h, ""), D & 16 && ct(
      A,
      h,
      _,
      g,
      y,
      x,
      S,
      b
    ));
  }, Vr = (a, f, h, _, g, y, x, S, b) => {
    a = a || Ze, f = f || Ze;
    const m = a.length, I = f.length, A = Math.min(m, I);
    let E;
    for (E = 0; E < A; E++) {
      const D = f[E] = b ? Re(f[E]) : ke(f[E]);
      T(
        a[E],
        D,
        h,
        null,
        g,
        y,
        x,
        S,
        b
      );
    }
    m > I ? St(
      a,
      g,
      y,
      !0,
      !1,
      A
    ) : ct(
      f,
      h,
      _,
      g,
      y,
      x,
      S,
      b,
      A
    );
  }, vs = (a, f, h, _, g, y, x, S, b) => {
    let m = 0;
    const I = f.length;
    let A = a.length - 1, E = I - 1;
    for (; m <= A && m <= E; ) {
      const D = a[m], j = f[m] = b ? Re(f[m]) : ke(f[m]);
      if (At(D, j))
        T(
          D,
          j,
          h,
          null,
          g,
          y,
          x,
          S,
          b
        );
      else
        break;
      m++;
    }
    for (; m <= A && m <= E; ) {
      const D = a[A], j = f[E] = b ? Re(f[E]) : ke(f[E]);
      if (At(D, j))
        T(
          D,
          j,
          h,
          null,
          g,
          y,
          x,
          S,
          b
        );
      else
        break;
      A--, E--;
    }
    if (m > A) {
      if (m <= E) {
        const D = E + 1, j = D < I ? f[D].el : _;
        for (; m <= E; )
          T(
            null,
            f[m] = b ? Re(f[m]) : ke(f[m]),
            h,
            j,
            g,
            y,
            x,
            S,
            b
          ), m++;
      }
    } else if (m > E)
      for (; m <= A; )
        Ne(a[m], g, y, !0), m++;
    else {
      const D = m, j = m, q = /* @__PURE__ */ new Map();
      for (m = j; m <= E; m++) {
        const ce = f[m] = b ? Re(f[m]) : ke(f[m]);
        ce.key != null && q.set(ce.key, m);
      }
      let V, Y = 0;
      const ee = E - j + 1;
      let ge = !1, Se = 0;
      const Me = new Array(ee);
      for (m = 0; m < ee; m++) Me[m] = 0;
      for (m = D; m <= A; m++) {
        const ce = a[m];
        if (Y >= ee) {
          Ne(ce, g, y, !0);
          continue;
        }
        let xe;
        if (ce.key != null)
          xe = q.get(ce.key);
        else
          for (V = j; V <= E; V++)
            if (Me[V - j] === 0 && At(ce, f[V])) {
              xe = V;
              break;
            }
        xe === void 0 ? Ne(ce, g, y, !0) : (Me[xe - j] = m + 1, xe >= Se ? Se = xe : ge = !0, T(
          ce,
          f[xe],
          h,
          null,
          g,
          y,
          x,
          S,
          b
        ), Y++);
      }
      const ks = ge ? ll(Me) : Ze;
      for (V = ks.length - 1, m = ee - 1; m >= 0; m--) {
        const ce = j + m, xe = f[ce], Is = f[ce + 1], Es = ce + 1 < I ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Is.el || Lt(Is)
        ) : _;
        Me[m] === 0 ? T(
          null,
          xe,
          h,
          Es,
          g,
          y,
          x,
          S,
          b
        ) : ge && (V < 0 || m !== ks[V] ? Jt(xe, h, Es, 2) : V--);
      }
    }
  }, Jt = (a, f, h, _, g = null) => {
    const { el: y, type: x, transition: S, children: b, shapeFlag: m } = a;
    if (m & 6) {
      Jt(a.component.subTree, f, h, _);
      return;
    }
    if (m & 128) {
      a.suspense.move(f, h, _);
      return;
    }
    if (m & 64) {
      x.move(a, f, h, xt);
      return;
    }
    if (x === Z) {
      s(y, f, h);
      for (let A = 0; A < b.length; A++)
        Jt(b[A], f, h, _);
      s(a.anchor, f, h);
      return;
    }
    if (x === Fn) {
      B(a, f, h);
      return;
    }
    if (_ !== 2 && m & 1 && S)
      if (_ === 0)
        S.persisted && !y[Pn] ? s(y, f, h) : (S.beforeEnter(y), s(y, f, h), ie(() => S.enter(y), g));
      else {
        const { leave: A, delayLeave: E, afterLeave: D } = S, j = () => {
          a.ctx.isUnmounted ? i(y) : s(y, f, h);
        }, q = () => {
          const V = y._isLeaving || !!y[Pn];
          y._isLeaving && y[Pn](
            !0
            /* cancelled */
          ), S.persisted && !V ? j() : A(y, () => {
            j(), D && D();
          });
        };
        E ? E(y, j, q) : q();
      }
    else
      s(y, f, h);
  }, Ne = (a, f, h, _ = !1, g = !1) => {
    const {
      type: y,
      props: x,
      ref: S,
      children: b,
      dynamicChildren: m,
      shapeFlag: I,
      patchFlag: A,
      dirs: E,
      cacheIndex: D,
      memo: j
    } = a;
    if ((A === -2 || m && m.hasOnce) && (g = !1), S != null && (Be(), Dt(S, null, h, a, !0), Je()), D != null && (!a.ctx || a.ctx === f) && (f.renderCache[D] = void 0), I & 256 && f.ctx.deactivate(a))
      return;
    const q = I & 1 && E, V = !Rt(a);
    let Y;
    if (V && (Y = x && x.onVnodeBeforeUnmount) && ve(Y, f, a), I & 6)
      Ur(a.component, h, _);
    else {
      if (I & 128) {
        a.suspense.unmount(h, _);
        return;
      }
      q && ze(a, null, f, "beforeUnmount"), I & 64 ? a.type.remove(
        a,
        f,
        h,
        xt,
        _
      ) : m && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !m.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (y !== Z || A > 0 && A & 64) ? St(
        m,
        f,
        h,
        !1,
        !0
      ) : (y === Z && A & 384 || !g && I & 16) && St(b, f, h), _ && As(a);
    }
    const ee = j != null && D == null;
    (V && (Y = x && x.onVnodeUnmounted) || q || ee) && ie(() => {
      Y && ve(Y, f, a), q && ze(a, null, f, "unmounted"), ee && (a.el = null);
    }, h);
  }, As = (a) => {
    const { type: f, el: h, anchor: _, transition: g } = a, y = f === Z;
    if (y && !g) {
      Cs(h, _);
      return;
    }
    if (f === Fn) {
      $(a), g && !g.persisted && g.afterLeave && g.afterLeave();
      return;
    }
    const x = y ? Zn(a) : a, S = () => {
      y ? p(h) && Cs(h, _) : i(h), g && !g.persisted && g.afterLeave && g.afterLeave();
    };
    if (x && x.shapeFlag & 1 && g && !g.persisted) {
      const { leave: b, delayLeave: m } = g, I = x.el, A = () => b(I, S);
      m ? m(I, S, A) : A();
    } else
      S();
  }, Cs = (a, f) => {
    let h;
    for (; a !== f; )
      h = C(a), i(a), a = h;
    i(f);
  }, Ur = (a, f, h) => {
    const { bum: _, scope: g, job: y, subTree: x, um: S, m: b, a: m } = a;
    Ks(b), Ks(m), _ && tn(_), g.stop(), y ? (y.flags |= 8, Ne(x, a, f, h)) : x && (x.transition = a.vnode.transition, Ne(x, a, f, h)), S && ie(S, f);
    const I = () => {
      a.isUnmounted = !0;
    };
    I.flags = 16, ie(I, f);
  }, St = (a, f, h, _ = !1, g = !1, y = 0) => {
    for (let x = y; x < a.length; x++)
      Ne(a[x], f, h, _, g);
  }, Gt = (a) => {
    if (a.shapeFlag & 6)
      return Gt(a.component.subTree);
    if (a.shapeFlag & 128)
      return a.suspense.next();
    const f = C(a.anchor || a.el), h = f && f[jo];
    return h ? C(h) : f;
  }, Ts = (a, f, h) => {
    const _ = a && f._vnode ? void 0 : a && a.component ? a.component.uid : gl();
    Mo(() => {
      a == null ? f._vnode && Ne(f._vnode, null, null, !0) : T(
        f._vnode || null,
        a,
        f,
        null,
        null,
        null,
        h
      ), f._vnode = a;
    }, _);
  }, xt = {
    p: T,
    um: Ne,
    m: Jt,
    r: As,
    mt: Ss,
    mc: ct,
    pc: En,
    pbc: kn,
    n: Gt,
    o: e
  };
  return {
    render: Ts,
    hydrate: void 0,
    createApp: Ko(Ts)
  };
}
function jn({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function Ye({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function ol(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function yr(e, t, n = !1) {
  const s = e.children, i = t.children;
  if (R(s) && R(i))
    for (let r = 0; r < s.length; r++) {
      const o = s[r];
      let l = i[r];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = i[r] = Re(i[r]), l.el = o.el), !n && l.patchFlag !== -2 && yr(o, l)), l.type === Cn && (l.patchFlag === -1 && (l = i[r] = Re(l)), l.el = o.el), l.type === we && !l.el && (l.el = o.el);
    }
}
function ll(e) {
  const t = e.slice(), n = [0];
  let s, i, r, o, l;
  const c = e.length;
  for (s = 0; s < c; s++) {
    const d = e[s];
    if (d !== 0) {
      if (i = n[n.length - 1], e[i] < d) {
        t[s] = i, n.push(s);
        continue;
      }
      for (r = 0, o = n.length - 1; r < o; )
        l = r + o >> 1, e[n[l]] < d ? r = l + 1 : o = l;
      d < e[n[r]] && (r > 0 && (t[s] = n[r - 1]), n[r] = s);
    }
  }
  for (r = n.length, o = n[r - 1]; r-- > 0; )
    n[r] = o, o = t[o];
  return n;
}
function _r(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : _r(t);
}
function Ks(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function Lt(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return Lt(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? Lt(n.activeBranch) : null;
}
const br = (e) => e.__isSuspense, cl = /* @__PURE__ */ Symbol("_deferredEnter");
function al(e, t) {
  t && t.pendingBranch ? R(e) ? t.effects.push(...e) : t.effects.push(e) : No(e);
}
const Z = /* @__PURE__ */ Symbol.for("v-fgt"), Cn = /* @__PURE__ */ Symbol.for("v-txt"), we = /* @__PURE__ */ Symbol.for("v-cmt"), Fn = /* @__PURE__ */ Symbol.for("v-stc"), st = [];
let ae = null;
function H(e = !1) {
  st.push(ae = e ? null : []);
}
function wr() {
  st.pop(), ae = st[st.length - 1] || null;
}
let qt = 1;
function Hs(e, t = !1) {
  qt += e, e < 0 && ae && t && (ae.hasOnce = !0);
}
function Sr(e) {
  return e.dynamicChildren = qt > 0 ? ae || Ze : null, wr(), qt > 0 && ae && ae.push(e), e;
}
function J(e, t, n, s, i, r) {
  return Sr(
    P(
      e,
      t,
      n,
      s,
      i,
      r,
      !0
    )
  );
}
function fl(e, t, n, s, i) {
  return Sr(
    Fe(
      e,
      t,
      n,
      s,
      i,
      !0
    )
  );
}
function bs(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function At(e, t) {
  return e.type === t.type && e.key === t.key;
}
const xr = ({ key: e }) => e ?? null, nn = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? X(e) || /* @__PURE__ */ oe(e) || W(e) ? { i: ue, r: e, k: t, f: !!n } : e : null);
function P(e, t = null, n = null, s = 0, i = null, r = e === Z ? 0 : 1, o = !1, l = !1) {
  const c = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && xr(t),
    ref: t && nn(t),
    scopeId: ir,
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
    shapeFlag: r,
    patchFlag: s,
    dynamicProps: i,
    dynamicChildren: null,
    appContext: null,
    ctx: ue
  };
  return l ? (un(c, n), r & 128 && e.normalize(c)) : n && (c.shapeFlag |= X(n) ? 8 : 16), qt > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  ae && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (c.patchFlag > 0 || r & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  c.patchFlag !== 32 && ae.push(c), c;
}
const Fe = ul;
function ul(e, t = null, n = null, s = 0, i = null, r = !1) {
  if ((!e || e === Uo) && (e = we), bs(e)) {
    const l = _t(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && un(l, n), qt > 0 && !r && ae && (l.shapeFlag & 6 ? ae[ae.indexOf(e)] = l : ae.push(l)), l.patchFlag = -2, l;
  }
  if (xl(e) && (e = e.__vccOpts), t) {
    t = dl(t);
    let { class: l, style: c } = t;
    l && !X(l) && (t.class = Ae(l)), z(c) && (/* @__PURE__ */ gs(c) && !R(c) && (c = he({}, c)), t.style = wn(c));
  }
  const o = X(e) ? 1 : br(e) ? 128 : vn(e) ? 64 : z(e) ? 4 : W(e) ? 2 : 0;
  return P(
    e,
    t,
    n,
    s,
    i,
    o,
    r,
    !0
  );
}
function dl(e) {
  return e ? /* @__PURE__ */ gs(e) ? he({}, e) : dr(e) ? he({}, e[kr] || e) : e : null;
}
function _t(e, t, n = !1, s = !1) {
  const { props: i, ref: r, patchFlag: o, children: l, transition: c } = e, d = t ? hl(i || {}, t) : i, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: d,
    key: d && xr(d),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && r ? R(r) ? r.concat(nn(t)) : [r, nn(t)] : nn(t)
    ) : r,
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
    patchFlag: t && e.type !== Z ? o === -1 ? 16 : o | 16 : o,
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
    ssContent: e.ssContent && _t(e.ssContent),
    ssFallback: e.ssFallback && _t(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return c && s && $t(
    u,
    c.clone(u)
  ), u;
}
function le(e = " ", t = 0) {
  return Fe(Cn, null, e, t);
}
function me(e = "", t = !1) {
  return t ? (H(), fl(we, null, e)) : Fe(we, null, e);
}
function ke(e) {
  return e == null || typeof e == "boolean" ? Fe(we) : R(e) ? Fe(
    Z,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : bs(e) ? Re(e) : Fe(Cn, null, String(e));
}
function Re(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : _t(e);
}
function un(e, t) {
  let n = 0;
  const { shapeFlag: s } = e;
  if (t == null)
    t = null;
  else if (R(t))
    n = 16;
  else if (typeof t == "object")
    if (s & 65) {
      const i = t.default;
      i && (i._c && (i._d = !1), un(e, i()), i._c && (i._d = !0));
      return;
    } else {
      n = 32;
      const i = t._;
      !i && !dr(t) ? t._ctx = ue : i === 3 && ue && (ue.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (W(t)) {
    if (s & 65) {
      un(e, { default: t });
      return;
    }
    t = { default: t, _ctx: ue }, n = 32;
  } else
    t = String(t), s & 64 ? (n = 16, t = [le(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function hl(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const s = e[n];
    for (const i in s)
      if (i === "class")
        t.class !== s.class && (t.class = Ae([t.class, s.class]));
      else if (i === "style")
        t.style = wn([t.style, s.style]);
      else if (mn(i)) {
        const r = t[i], o = s[i];
        o && r !== o && !(R(r) && r.includes(o)) ? t[i] = r ? [].concat(r, o) : o : o == null && r == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !yn(i) && (t[i] = o);
      } else i !== "" && (t[i] = s[i]);
  }
  return t;
}
function ve(e, t, n, s = null) {
  Ve(e, t, 7, [
    n,
    s
  ]);
}
const pl = /* @__PURE__ */ lr();
let vr = 0;
function gl() {
  return vr;
}
function ml(e, t, n) {
  const s = e.type, i = (t ? t.appContext : e.appContext) || pl, r = {
    uid: vr++,
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
    scope: new to(
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
    propsOptions: el(s, i),
    emitsOptions: Jo(s, i),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: G,
    // inheritAttrs
    inheritAttrs: s.inheritAttrs,
    // state
    ctx: G,
    data: G,
    props: G,
    attrs: G,
    slots: G,
    refs: G,
    setupState: G,
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
  return r.ctx = { _: r }, r.root = t ? t.root : r, r.emit = Bo.bind(null, r), e.ce && e.ce(r), r;
}
let bt = null;
const yl = () => bt || ue;
let dn, Wt;
{
  const e = bn(), t = (n, s) => {
    let i;
    return (i = e[n]) || (i = e[n] = []), i.push(s), (r) => {
      i.length > 1 ? i.forEach((o) => o(r)) : i[0](r);
    };
  };
  dn = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => bt = n
  ), Wt = t(
    "__VUE_SSR_SETTERS__",
    (n) => hn = n
  );
}
const Ar = (e) => {
  const t = bt;
  return dn(e), e.scope.on(), () => {
    e.scope.off(), dn(t);
  };
}, Bs = () => {
  bt && bt.scope.off(), dn(null);
};
function Cr(e) {
  return e.vnode.shapeFlag & 4;
}
let hn = !1;
function _l(e, t = !1, n = !1) {
  t && Wt(t);
  const { props: s, children: i } = e.vnode, r = Cr(e);
  Qo(e, s, r, t), nl(e, i, n || t);
  const o = r ? bl(e, t) : void 0;
  return t && Wt(!1), o;
}
function bl(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, qo);
  const { setup: s } = n;
  if (s) {
    Be();
    const i = e.setupContext = s.length > 1 ? Sl(e) : null, r = Ar(e), o = Bt(
      s,
      e,
      0,
      [
        e.props,
        i
      ]
    ), l = Ei(o);
    if (Je(), r(), (l || e.sp) && !Rt(e) && Vo(e), l) {
      if (o.then(Bs, Bs), t)
        return o.then((c) => {
          Wt(!0);
          try {
            Js(e, c, t);
          } finally {
            Wt(!1);
          }
        }).catch((c) => {
          xn(c, e, 0, void 0, !0), e.ssrRender = (d, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      Js(e, o);
  } else
    Tr(e);
}
function Js(e, t, n) {
  W(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : z(t) && (e.setupState = Qi(t)), Tr(e);
}
function Tr(e, t, n) {
  const s = e.type;
  e.render || (e.render = s.render || tt);
}
const kr = /* @__PURE__ */ Symbol(), wl = {
  get(e, t) {
    return se(e, "get", ""), t === kr ? e : e[t];
  }
};
function Sl(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, wl),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function Tn(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(Qi(So(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in Pt)
        return Pt[n](e);
    },
    has(t, n) {
      return n in t || n in Pt;
    }
  })) : e.proxy;
}
function xl(e) {
  return W(e) && "__vccOpts" in e;
}
const Ct = (e, t) => /* @__PURE__ */ To(e, t, hn), vl = "3.5.45";
let ns;
const Gs = typeof window < "u" && window.trustedTypes;
if (Gs)
  try {
    ns = /* @__PURE__ */ Gs.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const Ir = ns ? (e) => ns.createHTML(e) : (e) => e, Al = "http://www.w3.org/2000/svg", Cl = "http://www.w3.org/1998/Math/MathML", De = typeof document < "u" ? document : null, zs = De && /* @__PURE__ */ De.createElement("template"), Tl = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, s) => {
    const i = t === "svg" ? De.createElementNS(Al, e) : t === "mathml" ? De.createElementNS(Cl, e) : n ? De.createElement(e, { is: n }) : De.createElement(e);
    return e === "select" && s && s.multiple != null && i.setAttribute("multiple", s.multiple), i;
  },
  createText: (e) => De.createTextNode(e),
  createComment: (e) => De.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => De.querySelector(e),
  setScopeId(e, t) {
    e.setAttribute(t, "");
  },
  // __UNSAFE__
  // Reason: innerHTML.
  // Static content here can only come from compiled templates.
  // As long as the user only uses trusted templates, this is safe.
  insertStaticContent(e, t, n, s, i, r) {
    const o = n ? n.previousSibling : t.lastChild;
    if (i && (i === r || i.nextSibling))
      for (; t.insertBefore(i.cloneNode(!0), n), !(i === r || !(i = i.nextSibling)); )
        ;
    else {
      zs.innerHTML = Ir(
        s === "svg" ? `<svg>${e}</svg>` : s === "mathml" ? `<math>${e}</math>` : e
      );
      const l = zs.content;
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
}, kl = /* @__PURE__ */ Symbol("_vtc");
function Il(e, t, n) {
  const s = e[kl];
  s && (t = (t ? [t, ...s] : [...s]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const Ys = /* @__PURE__ */ Symbol("_vod"), El = /* @__PURE__ */ Symbol("_vsh"), Ol = /* @__PURE__ */ Symbol(""), Nl = /(?:^|;)\s*display\s*:/;
function Ml(e, t, n) {
  const s = e.style, i = X(n);
  let r = !1;
  if (n && !i) {
    if (t)
      if (X(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && Et(s, l, "");
        }
      else
        for (const o in t)
          n[o] == null && Et(s, o, "");
    for (const o in n) {
      o === "display" && (r = !0);
      const l = n[o];
      l != null ? Dl(
        e,
        o,
        !X(t) && t ? t[o] : void 0,
        l
      ) || Et(s, o, l) : Et(s, o, "");
    }
  } else if (i) {
    if (t !== n) {
      const o = s[Ol];
      o && (n += ";" + o), s.cssText = n, r = Nl.test(n);
    }
  } else t && e.removeAttribute("style");
  Ys in e && ((!i || t !== n) && (e[Ys] = r ? s.display : ""), e[El] && (s.display = "none"));
}
const Qt = /\s*!important$/;
function Et(e, t, n) {
  if (R(n))
    n.forEach((s) => Et(e, t, s));
  else if (n == null && (n = ""), t.startsWith("--"))
    Qt.test(n) ? e.setProperty(t, n.replace(Qt, ""), "important") : e.setProperty(t, n);
  else {
    const s = $l(e, t);
    Qt.test(n) ? e.setProperty(
      ot(s),
      n.replace(Qt, ""),
      "important"
    ) : e[s] = n;
  }
}
const Xs = ["Webkit", "Moz", "ms"], Vn = {};
function $l(e, t) {
  const n = Vn[t];
  if (n)
    return n;
  let s = _e(t);
  if (s !== "filter" && s in e)
    return Vn[t] = s;
  s = Mi(s);
  for (let i = 0; i < Xs.length; i++) {
    const r = Xs[i] + s;
    if (r in e)
      return Vn[t] = r;
  }
  return t;
}
function Dl(e, t, n, s) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && X(s) && n === s;
}
const Qs = "http://www.w3.org/1999/xlink";
function Zs(e, t, n, s, i, r = Xr(t)) {
  s && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(Qs, t.slice(6, t.length)) : e.setAttributeNS(Qs, t, n) : n == null || r && !Di(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    r ? "" : Ee(n) ? String(n) : n
  );
}
function ei(e, t, n, s, i) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? Ir(n) : n);
    return;
  }
  const r = e.tagName;
  if (t === "value" && r !== "PROGRESS" && // custom elements may use _value internally
  !r.includes("-")) {
    const l = r === "OPTION" ? e.getAttribute("value") || "" : e.value, c = n == null ? (
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
    l === "boolean" ? n = Di(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
  }
  try {
    e[t] = n;
  } catch {
  }
  o && e.removeAttribute(i || t);
}
function Qe(e, t, n, s) {
  e.addEventListener(t, n, s);
}
function Rl(e, t, n, s) {
  e.removeEventListener(t, n, s);
}
const ti = /* @__PURE__ */ Symbol("_vei");
function Pl(e, t, n, s, i = null) {
  const r = e[ti] || (e[ti] = {}), o = r[t];
  if (s && o)
    o.value = s;
  else {
    const [l, c] = Fl(t);
    if (s) {
      const d = r[t] = ql(
        s,
        i
      );
      Qe(e, l, d, c);
    } else o && (Rl(e, l, o, c), r[t] = void 0);
  }
}
const Ll = /(Once|Passive|Capture)$/, jl = /^on:?(?:Once|Passive|Capture)$/;
function Fl(e) {
  let t, n;
  for (; (n = e.match(Ll)) && !jl.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : ot(e.slice(2)), t];
}
let Un = 0;
const Vl = /* @__PURE__ */ Promise.resolve(), Ul = () => Un || (Vl.then(() => Un = 0), Un = Date.now());
function ql(e, t) {
  const n = (s) => {
    if (!s._vts)
      s._vts = Date.now();
    else if (s._vts <= n.attached)
      return;
    const i = n.value;
    if (R(i)) {
      const r = s.stopImmediatePropagation;
      s.stopImmediatePropagation = () => {
        r.call(s), s._stopped = !0;
      };
      const o = i.slice(), l = [s];
      for (let c = 0; c < o.length && !s._stopped; c++) {
        const d = o[c];
        d && Ve(
          d,
          t,
          5,
          l
        );
      }
    } else
      Ve(
        i,
        t,
        5,
        [s]
      );
  };
  return n.value = e, n.attached = Ul(), n;
}
const ni = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Wl = (e, t, n, s, i, r) => {
  const o = i === "svg";
  t === "class" ? Il(e, s, o) : t === "style" ? Ml(e, n, s) : mn(t) ? yn(t) || Pl(e, t, n, s, r) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : Kl(e, t, s, o)) ? (ei(e, t, s), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && Zs(e, t, s, o, r, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Hl(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !X(s))) ? ei(e, _e(t), s, r, t) : (t === "true-value" ? e._trueValue = s : t === "false-value" && (e._falseValue = s), Zs(e, t, s, o));
};
function Kl(e, t, n, s) {
  if (s)
    return !!(t === "innerHTML" || t === "textContent" || t in e && ni(t) && W(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const i = e.tagName;
    if (i === "IMG" || i === "VIDEO" || i === "CANVAS" || i === "SOURCE")
      return !1;
  }
  return ni(t) && X(n) ? !1 : t in e;
}
function Hl(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const s = _e(t);
  return Array.isArray(n) ? n.some((i) => _e(i) === s) : Object.keys(n).some((i) => _e(i) === s);
}
const pn = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return R(t) ? (n) => tn(t, n) : t;
};
function Bl(e) {
  e.target.composing = !0;
}
function si(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const et = /* @__PURE__ */ Symbol("_assign"), Zt = /* @__PURE__ */ Symbol("_initialValue");
function qn(e, t, n) {
  return t && (e = e.trim()), n && (e = Ht(e)), e;
}
const Tt = {
  created(e, { modifiers: { lazy: t, trim: n, number: s } }, i) {
    e.parentNode && (e.type === "text" ? e[Zt] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[Zt] = e.defaultValue.replace(/\r\n?/g, `
`))), e[et] = pn(i);
    const r = s || i.props && i.props.type === "number";
    Qe(e, t ? "change" : "input", (o) => {
      o.target.composing || e[et](qn(e.value, n, r));
    }), (n || r) && Qe(e, "change", () => {
      e.value = qn(e.value, n, r);
    }), t || (Qe(e, "compositionstart", Bl), Qe(e, "compositionend", si), Qe(e, "change", si));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: s } }) {
    const i = t ?? "", r = e[Zt];
    delete e[Zt], r !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== r ? e[et](qn(e.value, n, s)) : e.value = i;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: s, trim: i, number: r } }, o) {
    if (e[et] = pn(o), e.composing) return;
    const l = (r || e.type === "number") && !/^0\d/.test(e.value) ? Ht(e.value) : e.value, c = t ?? "";
    if (l === c)
      return;
    const d = e.getRootNode();
    (d instanceof Document || d instanceof ShadowRoot) && d.activeElement === e && e.type !== "range" && (s && t === n || i && e.value.trim() === c) || (e.value = c);
  }
}, Jl = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, s) {
    e._modelValue = t, Qe(e, "change", () => {
      const i = Array.prototype.filter.call(e.options, (c) => c.selected).map(
        (c) => n ? Ht(gn(c)) : gn(c)
      ), r = e.multiple, o = r ? rt(e._modelValue) ? new Set(i) : i : i[0], l = e._pendingValue = [
        r,
        r ? R(o) ? i.slice() : i : o
      ];
      try {
        e[et](o);
      } finally {
        cn(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[et] = pn(s);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    ii(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[et] = pn(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const s = e._pendingValue;
    e._pendingValue = void 0, (!s || s[0] !== e.multiple || !Gl(t, s[1], s[0])) && ii(e, t, n);
  }
};
function Gl(e, t, n) {
  if (!n || R(e)) return He(e, t);
  if (rt(e)) {
    if (e.size !== t.length) return !1;
    for (const s of t)
      if (!e.has(s)) return !1;
    return !0;
  }
  return !1;
}
function ii(e, t, n = !1) {
  const s = e.multiple, i = R(t);
  if (!(s && !i && !rt(t))) {
    for (let r = 0, o = e.options.length; r < o; r++) {
      const l = e.options[r], c = gn(l);
      if (s)
        if (i) {
          const d = typeof c;
          d === "string" || d === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = eo(t, c) > -1;
        } else
          l.selected = t.has(c) || n && typeof c == "string" && t.has(Ht(c));
      else if (He(gn(l), t)) {
        e.selectedIndex !== r && (e.selectedIndex = r);
        return;
      }
    }
    !s && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function gn(e) {
  return "_value" in e ? e._value : e.value;
}
const zl = ["ctrl", "shift", "alt", "meta"], Yl = {
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
  exact: (e, t) => zl.some((n) => e[`${n}Key`] && !t.includes(n))
}, ri = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), s = t.join(".");
  return n[s] || (n[s] = ((i, ...r) => {
    for (let o = 0; o < t.length; o++) {
      const l = Yl[t[o]];
      if (l && l(i, t)) return;
    }
    return e(i, ...r);
  }));
}, Xl = /* @__PURE__ */ he({ patchProp: Wl }, Tl);
let oi;
function Ql() {
  return oi || (oi = il(Xl));
}
const Zl = ((...e) => {
  const t = Ql().createApp(...e), { mount: n } = t;
  return t.mount = (s) => {
    const i = tc(s);
    if (!i) return;
    const r = t._component;
    !W(r) && !r.render && !r.template && (r.template = i.innerHTML), i.nodeType === 1 && (i.textContent = "");
    const o = n(i, !1, ec(i));
    return i instanceof Element && (i.removeAttribute("v-cloak"), i.setAttribute("data-v-app", "")), o;
  }, t;
});
function ec(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function tc(e) {
  return X(e) ? document.querySelector(e) : e;
}
const nc = "/comfyd/connection";
function sc(e, t) {
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
function Er(e, t) {
  return `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
class ic {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(nc).then(
      (t) => sc(t, this.location),
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
function Or(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const Nr = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function jt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (Nr(e).find((s) => String(s.id) === String(t)) ?? null);
}
function li(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function rc(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function oc(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function lc(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function cc(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function je(e) {
  if (!e || typeof e != "object") return "";
  const { extra: t, nodes: n, ...s } = e;
  let i = t;
  if (i && typeof i == "object" && "ds" in i) {
    const { ds: o, ...l } = i;
    i = l;
  }
  const r = Array.isArray(n) ? n.map((o) => {
    if (!o || typeof o != "object") return o;
    const { order: l, ...c } = o;
    return c;
  }) : n;
  return JSON.stringify({ ...s, nodes: r, extra: i ?? null });
}
function gt(e, t, n = 3) {
  const s = String(e).toLowerCase(), i = [];
  for (const r of t) {
    const o = String(r).toLowerCase();
    let l = ac(s, o);
    (o.includes(s) || s.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(s.length / 3)) && i.push([l, r]);
  }
  return i.sort((r, o) => r[0] - o[0] || String(r[1]).localeCompare(String(o[1]))), i.slice(0, n).map((r) => r[1]);
}
const ci = 128;
function ac(e, t) {
  if (e.length > ci || t.length > ci) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (s, i) => i);
  for (let s = 1; s <= e.length; s++) {
    const i = [s];
    for (let r = 1; r <= t.length; r++)
      i[r] = Math.min(n[r] + 1, i[r - 1] + 1, n[r - 1] + (e[s - 1] === t[r - 1] ? 0 : 1));
    n = i;
  }
  return n[t.length];
}
const fe = Object.freeze({
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
class ss extends Error {
  constructor(t, n, s = []) {
    super(n), this.code = t, this.suggestions = s;
  }
}
const L = (e, t, n) => {
  throw new ss(e, t, n);
}, wt = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function kt(e, t, n = fe.name, { optional: s = !1 } = {}) {
  if (e == null) {
    if (s) return "";
    L("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && L("INVALID_COMMAND", `${t} must be a string`), e.length > n && L("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function en(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > fe.coord) && L("INVALID_COMMAND", `${t} must be a number within ±${fe.coord}`), e);
}
function dt(e, t) {
  return wt(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= fe.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : L("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function Wn(e, t) {
  if (e == null) return 0;
  if (wt(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= fe.name ? e : L("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function ai(e, t) {
  if (wt(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((s) => s in e);
    n.length !== 1 && L("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || L("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > fe.text && L("VALUE_INVALID", `${t} is longer than ${fe.text} characters`), e) : L("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const sn = {
  create_node(e) {
    const t = {
      node_type: kt(e.node_type, "node_type"),
      x: en(e.x, "x", { optional: !0 }),
      y: en(e.y, "y", { optional: !0 }),
      ref: kt(e.ref, "ref", fe.ref, { optional: !0 }),
      title: kt(e.title, "title", fe.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || L("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      wt(e.widgets) || L("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > fe.widgets && L("INVALID_COMMAND", `more than ${fe.widgets} widgets`);
      for (const s of n) t.widgets.push([kt(s, "widget name"), ai(e.widgets[s], `widgets.${s}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: dt(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: dt(e.from_id, "from_id"),
    from_slot: Wn(e.from_slot, "from_slot"),
    to_id: dt(e.to_id, "to_id"),
    to_slot: Wn(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: dt(e.node_id, "node_id"), slot: Wn(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: dt(e.node_id, "node_id"),
    name: kt(e.name, "name"),
    value: ai(e.value, "value")
  }),
  move_node: (e) => ({ node_id: dt(e.node_id, "node_id"), x: en(e.x, "x"), y: en(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({})
}, Mr = Object.freeze(Object.keys(sn)), fc = new Set(Mr.filter((e) => e !== "get_graph"));
function uc(e) {
  wt(e) || L("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const s = Object.keys(e).filter((i) => Object.hasOwn(sn, i));
    s.length !== 1 && L("INVALID_COMMAND", "missing field: type"), t = s[0], n = wt(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(sn, t)) && L("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${Mr.join(", ")}`), { type: t, ...sn[t](n) };
}
const dc = /* @__PURE__ */ new Set(["number", "slider", "knob"]), hc = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function pc(e, t, n) {
  const s = String(e.type ?? ""), i = e.options ?? {};
  if (s === "combo") {
    const r = cc(e, t);
    return r && !r.some((o) => o === n) && L("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${r.length} options of ${e.name}`, gt(n, r.filter((o) => typeof o == "string"))), n;
  }
  return dc.has(s) ? (typeof n != "number" && L("VALUE_INVALID", `${e.name} takes a number`), i.precision === 0 && !Number.isInteger(n) && L("VALUE_INVALID", `${e.name} takes an integer`), typeof i.min == "number" && n < i.min && L("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${i.min}`), typeof i.max == "number" && n > i.max && L("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${i.max}`), n) : s === "toggle" || s === "boolean" ? (typeof n != "boolean" && L("VALUE_INVALID", `${e.name} takes true or false`), n) : hc.has(s) ? (typeof n != "string" && L("VALUE_INVALID", `${e.name} takes a string`), n) : (s === "button" && L("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function gc(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function fi(e, t, n, s) {
  const i = oc(t, n);
  i || L("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, gt(n, lc(t)));
  const r = pc(i, t, s), o = i.value;
  i.value = r;
  try {
    i.callback?.call(i, i.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(i.name, i.value, o, i);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return gc(i);
}
function ht(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return jt(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const s = jt(e.graph, t.id);
    if (s) return s;
    L("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return L("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function mc(e) {
  if (typeof e.place == "function") {
    const n = e.place(e.placed++);
    if (Array.isArray(n)) return n;
  }
  const t = e.placed++;
  return [100 + 40 * t, 100 + 40 * t];
}
const yc = {
  create_node(e, t) {
    const { graph: n, LiteGraph: s } = e, i = s.createNode(t.node_type);
    if (!i) {
      const o = Object.keys(s.registered_node_types ?? {});
      L("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, gt(t.node_type, o));
    }
    t.title && (i.title = t.title), i.pos = t.x !== null && t.y !== null ? [t.x, t.y] : mc(e);
    const r = e.expectedId;
    Number.isSafeInteger(r) && r > 0 && !jt(n, r) && (i.id = r), n.add(i), jt(n, i.id) || L("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [o, l] of t.widgets) fi(e, i, o, l);
    } catch (o) {
      throw n.remove(i), o;
    }
    return t.ref && e.refs.set(t.ref, i.id), { node_id: i.id };
  },
  remove_node(e, t) {
    const n = ht(e, t.node_id, "node_id"), s = n.id;
    return e.graph.remove(n), jt(e.graph, s) && L("EDITOR_FAILED", `node #${s} cannot be removed`), { node_id: s };
  },
  connect(e, t) {
    const n = ht(e, t.from_id, "from_id"), s = ht(e, t.to_id, "to_id"), i = rc(n, t.from_slot);
    i < 0 && L(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? gt(t.from_slot, (n.outputs ?? []).map((d) => d.name)) : []
    );
    const r = li(s, t.to_slot);
    r < 0 && L(
      "SLOT_NOT_FOUND",
      `node #${s.id} (${s.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? gt(t.to_slot, (s.inputs ?? []).map((d) => d.name)) : []
    ), n === s && L("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const o = n.outputs[i].type, l = s.inputs[r].type;
    e.LiteGraph.isValidConnection(o, l) || L("TYPE_MISMATCH", `output ${i} of #${n.id} is ${o}, input ${JSON.stringify(s.inputs[r].name)} of #${s.id} takes ${l}`);
    const c = n.connect(i, s, r);
    return c || L("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${i} -> #${s.id}:${r}`), { node_id: s.id, link_id: c.id };
  },
  disconnect(e, t) {
    const n = ht(e, t.node_id, "node_id"), s = li(n, t.slot);
    s < 0 && L(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? gt(t.slot, (n.inputs ?? []).map((r) => r.name)) : []
    );
    const i = n.inputs[s].link;
    return i == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(s), n.inputs[s].link !== null && n.inputs[s].link !== void 0 && L("EDITOR_FAILED", `input ${s} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: i });
  },
  set_widget(e, t) {
    const n = ht(e, t.node_id, "node_id"), s = fi(e, n, t.name, t.value);
    return s === void 0 ? { node_id: n.id } : { node_id: n.id, value: s };
  },
  move_node(e, t) {
    const n = ht(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of Nr(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  }
}, _c = "BATCH_MODE_PARTIAL";
function bc(e) {
  return e === _c || e === 2 || String(e).toLowerCase() === "partial";
}
function ui(e, t) {
  const n = t instanceof ss ? t.code : "EDITOR_FAILED", s = t instanceof ss ? t.message : `command failed: ${t?.message ?? String(t)}`, i = { code: n, message: s.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (i.suggestions = t.suggestions), { index: e, ok: !1, error: i };
}
function wc(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > fe.commands)
    return { ok: !1, error: `more than ${fe.commands} commands`, results: [], applied: !1 };
  const s = e.graph, i = bc(t?.mode), r = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), placed: 0, expectedId: void 0 }, l = s.serialize(), c = je(l), d = new Array(n.length);
  let u = 0, p = -1;
  for (let O = 0; O < n.length; O++) {
    let T;
    try {
      T = uc(n[O]);
    } catch (w) {
      if (d[O] = ui(O, w), !i) {
        p = O;
        break;
      }
      continue;
    }
    o.expectedId = T.type === "create_node" ? r[u++] : void 0;
    const v = i && fc.has(T.type) && O > 0 ? s.serialize() : null;
    try {
      d[O] = { index: O, ok: !0, ...yc[T.type](o, T) };
    } catch (w) {
      if (d[O] = ui(O, w), !i) {
        p = O;
        break;
      }
      const M = v ?? l;
      je(s.serialize()) !== je(M) && di(s, M);
    }
  }
  if (p >= 0) {
    je(s.serialize()) !== c && di(s, l);
    const O = `not applied: command ${p} failed and the patch is atomic (the graph was rolled back)`;
    for (let T = 0; T < n.length; T++)
      T !== p && (d[T] = { index: T, ok: !1, error: { code: "SKIPPED", message: O, index: T } });
    return s.setDirtyCanvas?.(!0, !0), { ok: !1, error: d[p].error.message, results: d, applied: !1 };
  }
  s.setDirtyCanvas?.(!0, !0);
  const C = d.every((O) => O.ok), k = d.find((O) => !O.ok);
  return {
    ok: C,
    error: C ? "" : k.error.message,
    results: d,
    applied: je(s.serialize()) !== c
  };
}
function di(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
function Sc(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function xc(e, t) {
  const n = Sc(e);
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
const vc = 1e3, Ac = 1500, Cc = 120, Tc = 480 * 1024, Kn = "the tab has switched to another workflow; this canvas is no longer open in it", kc = 200, Ic = 50, Ec = 1e4, Oc = 1e3, Nc = 128, Hn = 1024 * 1024 - 1024;
function Mc(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function Bn(e, t) {
  const n = String(t || "workflow"), s = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${s}~${Mc(n)}`.slice(0, Nc);
}
function $c(e, t = Tc) {
  if (!e || typeof e != "object") return "";
  const n = /* @__PURE__ */ new Set(["tooltip", "description", "output_tooltips", "search_aliases", "python_module"]), s = (r) => {
    if (Array.isArray(r)) return r.map(s);
    if (r && typeof r == "object") {
      const o = {};
      for (const l of Object.keys(r)) n.has(l) || (o[l] = s(r[l]));
      return o;
    }
    return r;
  }, i = JSON.stringify(s(e));
  return new TextEncoder().encode(i).length <= t ? i : "";
}
function Dc(e, t = () => Math.random().toString(36).slice(2, 10)) {
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
class Rc {
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), Ac), this.connect());
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
    const t = Or(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Ic : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, kc);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = $c(await this.d.objectInfo?.());
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
      n = new this.d.WebSocket(Er(t, "/comfy/editor/ws"));
    } catch (s) {
      this.log("warn", `comfyd: cannot open the editor socket (${s?.message ?? s})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (s?.code === vc) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = Bn(this.d.tabId, this.workflowKey()), this.lastSig = je(t), this.tabRevision += 1;
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
    return s.length > Hn && new TextEncoder().encode(s).length > Hn ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(s), !0);
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
    return Bn(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
  }
  handlePatch(t) {
    if (this.switchedAway())
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: Kn, results: [], workflow_json: "", tab_revision: this.tabRevision });
    const n = {
      graph: this.graph(),
      LiteGraph: this.d.LiteGraph,
      canvas: this.d.app.canvas,
      keepOnClear: this.d.isPanelNode,
      place: (r) => this.placement(r),
      log: this.log
    };
    let s;
    this.busy++;
    try {
      s = xc(this.d.app, () => wc(n, t));
    } catch (r) {
      s = { ok: !1, error: `the patch failed: ${r?.message ?? r}`, results: [] };
    } finally {
      this.busy--;
    }
    const i = this.serialize();
    this.lastSig = je(i), this.tabRevision += 1, this.send({
      type: "patch_result",
      request_id: t.request_id,
      ok: !!s.ok,
      error: s.error ?? "",
      results: (s.results ?? []).filter(Boolean).map(Pc),
      workflow_json: JSON.stringify(i),
      tab_revision: this.tabRevision
    });
  }
  /** Where a node without coordinates goes: the middle of the view. */
  placement(t) {
    const n = this.d.app.canvas, s = n?.ds, i = n?.canvas;
    if (s && i && s.scale) {
      const r = -s.offset[0] + i.width / 2 / s.scale, o = -s.offset[1] + i.height / 2 / s.scale;
      return [Math.round(r - 150 + 40 * t), Math.round(o - 100 + 40 * t)];
    }
    return [100 + 40 * t, 100 + 40 * t];
  }
  async handleQueue(t) {
    if (this.switchedAway())
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: Kn, prompt_id: "", number: 0 });
    if (t.prompt_only) return this.handlePromptOnly(t);
    const { app: n, api: s } = this.d, i = [];
    let r = "";
    const o = s.queuePrompt;
    s.queuePrompt = async function(...d) {
      try {
        const u = await o.apply(this, d);
        return i.push(u), u;
      } catch (u) {
        throw r = pi(u), u;
      }
    };
    try {
      const d = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, d);
    } catch (d) {
      r = r || pi(d);
    } finally {
      s.queuePrompt = o;
    }
    const l = i[i.length - 1], c = !!l?.prompt_id && !r;
    this.send({
      type: "queue_result",
      request_id: t.request_id,
      ok: c,
      error: c ? "" : r || "the frontend did not queue the workflow",
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
    const { app: n } = this.d, s = n.rootGraph ?? n.graph, i = { type: "queue_result", request_id: t.request_id, prompt_id: "", number: 0 };
    if (typeof n.graphToPrompt != "function")
      return this.send({ ...i, ok: !1, error: "this frontend has no graphToPrompt" });
    let r;
    try {
      hi(s, "beforeQueued");
      const o = await n.graphToPrompt(s);
      if (r = { prompt_json: JSON.stringify(o?.output ?? null), workflow_json: JSON.stringify(o?.workflow ?? null) }, !o?.output || typeof o.output != "object") throw new Error("graphToPrompt returned no prompt");
      hi(s, "afterQueued");
    } catch (o) {
      return this.send({ ...i, ok: !1, error: `cannot convert the workflow: ${String(o?.message ?? o).slice(0, 1e3)}` });
    }
    if (r.prompt_json.length + r.workflow_json.length > Hn)
      return this.send({ ...i, ok: !1, error: "the workflow is too large to hand over" });
    this.send({ ...i, ok: !0, error: "", ...r });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: Kn, workflow_json: "", tab_revision: this.tabRevision });
    let n, s = !1, i = "";
    try {
      if (n = JSON.parse(t.workflow_json), !n || typeof n != "object" || !Array.isArray(n.nodes)) throw new Error("not a workflow");
    } catch (o) {
      i = `cannot load: ${o?.message ?? o}`;
    }
    if (!i) {
      this.busy++;
      try {
        await this.d.app.loadGraphData(n, !0, !0, this.activeWorkflow() ?? void 0), s = !0;
      } catch (o) {
        i = `loading failed: ${o?.message ?? o}`;
      } finally {
        this.busy--;
      }
    }
    const r = this.serialize();
    this.lastSig = je(r), this.tabRevision += 1, this.send({
      type: "load_result",
      request_id: t.request_id,
      ok: s,
      error: i,
      workflow_json: s ? JSON.stringify(r) : "",
      tab_revision: this.tabRevision
    });
  }
  // ---- the user's edits and focus ----
  /** Called on graphChanged: a burst becomes one check. */
  graphChanged() {
    this.t.clearTimeout(this.debounceTimer), this.debounceTimer = this.t.setTimeout(() => {
      this.debounceTimer = null, this.checkEdits();
    }, Cc);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < Ec || this.d.app.configuringGraph) return;
    if (Bn(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const s = je(n);
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
    if (!(this.focused && t - this.focusSentAt < Oc)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function hi(e, t) {
  const n = e?._nodes ?? e?.nodes ?? [];
  for (const s of n) for (const i of s.widgets ?? []) i[t]?.();
}
function pi(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, s = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${s.length ? ` (nodes ${s.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function Pc(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const gi = 500, mi = 200;
function it(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function $r() {
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
function Dr(e, t = "") {
  Object.assign(e, $r(), { sessionId: t });
}
function yi(e, t) {
  const n = Number(t) || 0;
  for (let s = e.turns.length - 1; s >= 0; s--) if (e.turns[s].id === n) return e.turns[s];
  return null;
}
function yt(e, t) {
  let n = yi(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let s = e.turns.length;
  for (; s > 0 && e.turns[s - 1].id > n.id; ) s--;
  return e.turns.splice(s, 0, n), e.turns.length > mi && e.turns.splice(0, e.turns.length - mi), yi(e, n.id) ?? n;
}
function rn(e, t) {
  const n = t || "assistant";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function It(e, t) {
  e.logs.push(t), e.logs.length > gi && e.logs.splice(0, e.logs.length - gi);
}
function _i(e, t) {
  if (!t || typeof t != "object") return;
  const n = it(t.role, "ROLE_"), s = it(t.state, "MESSAGE_STATE_");
  if (n === "user") {
    const i = yt(e, t.id);
    i.content = String(t.content ?? ""), i.state = s, i.error = String(t.error ?? ""), i.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const i = yt(e, t.turn_id), r = rn(i, t.skill);
    r.content = String(t.content ?? ""), r.state = s || "done", r.error = String(t.error ?? ""), r.final = !0;
  }
}
function bi(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = it(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function Lc(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function jc(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, s = t.data && typeof t.data == "object" ? t.data : {}, i = Lc(t);
  if (s.session_id && e.sessionId && s.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (i && i < e.lastSeq) return !1;
    const r = e.logs, o = s.session?.id ?? e.sessionId;
    Dr(e, o), e.logs = r, bi(e, s.session), s.status !== void 0 && (e.status = it(s.status, "SESSION_STATUS_") || e.status);
    for (const l of Array.isArray(s.history) ? s.history : []) _i(e, l);
    for (const l of Array.isArray(s.partials) ? s.partials : []) {
      const c = rn(yt(e, l.turn_id), l.skill);
      c.final || (c.content = String(l.content ?? ""), c.next = Number(l.delta_count) || 0, c.state = "streaming");
    }
    return e.lastSeq = i || e.lastSeq, e.needsResync = !1, !0;
  }
  if (["created", "configured", "sessions", "skills", "ack", "cancelled"].includes(n))
    return n === "configured" && s.session && bi(e, s.session), !1;
  if (i) {
    if (i <= e.lastSeq) return !1;
    e.lastSeq = i;
  }
  switch (n) {
    case "status_update": {
      if (e.status = it(s.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(s.detail ?? ""), e.queuedTurns = Number(s.queued_turns) || 0, e.status === "idle")
        for (const r of e.turns)
          for (const o of r.order) r.replies[o].state === "streaming" && (r.replies[o].state = "done");
      return !0;
    }
    case "stream_delta": {
      const r = yt(e, s.turn_id), o = rn(r, s.skill), l = Number(s.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(s.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return _i(e, s.message), !0;
    case "debug_log":
      return It(e, {
        seq: i,
        level: it(s.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(s.module ?? ""),
        skill: String(s.skill ?? ""),
        message: String(s.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(s.code ?? ""), message: String(s.message ?? ""), skill: String(s.skill ?? "") }, s.turn_id) {
        const r = yt(e, s.turn_id);
        if (s.skill) {
          const o = rn(r, s.skill);
          o.error = e.lastError.message, o.final || (o.state = s.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return It(e, { seq: i, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return s.config && (e.config = s.config), typeof s.title == "string" && (e.title = s.title), !0;
    case "tool_call":
      return It(e, { seq: i, level: "INFO", module: "tool", skill: String(s.skill ?? ""), message: `${s.name ?? "tool"}(${String(s.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return It(e, { seq: i, level: s.ok ? "INFO" : "WARN", module: "tool", skill: String(s.skill ?? ""), message: `${s.call_id ?? ""} -> ${String(s.result_json ?? "").slice(0, 300)}` }), !0;
    case "graph_changed":
      return It(e, { seq: i, level: "INFO", module: "graph", skill: "", message: `${s.canvas_id ?? ""} r${s.revision ?? ""}: ${s.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function Fc(e, t, n) {
  const s = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(s), s;
}
function Vc(e, t, n) {
  const s = e.turns.findIndex((o) => o.pending && o.clientId === t), i = s >= 0 ? e.turns.splice(s, 1)[0] : null;
  if (!n?.id) return;
  const r = yt(e, n.id);
  r.content || (r.content = String(n.content ?? i?.content ?? "")), r.state || (r.state = it(n.state, "MESSAGE_STATE_"));
}
function Uc(e, t, n) {
  const s = e.turns.find((i) => i.pending && i.clientId === t);
  s && (s.state = "failed", s.error = String(n ?? "not sent"));
}
function wi(e, t = []) {
  const n = [];
  for (const s of t) e.replies[s] && n.push(s);
  for (const s of e.order) n.includes(s) || n.push(s);
  return n.map((s) => e.replies[s]);
}
const qc = 15e3;
class Wc {
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
      n = new this.d.WebSocket(Er(t, "/comfy/session/ws"));
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
    }, Or(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const s = this.nextId++;
    return new Promise((i, r) => {
      if (!this.send({ event: t, data: n, request_id: s })) {
        r(new Error("not connected to comfyd"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(s), r(new Error(`${t}: no answer from comfyd`));
      }, qc);
      this.pending.set(s, { resolve: i, reject: r, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && Dr(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
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
        const r = new Error(n.data?.message ?? "request failed");
        r.code = n.data?.code ?? "error", i.reject(r);
      } else
        i.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    jc(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
}
const Rr = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), Kc = Object.freeze(["echo", "openai"]), Si = 64 * 1024, Jn = 4096, Hc = 64 * 1024;
function Bc(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let xi = 0;
function Jc() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return xi += 1, `panel-${e}-${xi}`;
}
class Gc {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value)}
   */
  constructor(t) {
    this.d = t;
    const n = t.reactive ?? ((s) => s);
    this.state = n($r()), this.ui = n({
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
    }), this.client = new Wc({
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
      skills: Bc(n.skills)
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
    const n = this.ui.form, s = (i, r) => {
      r !== void 0 && n[i] !== r && (n[i] = r, this.d.writeConfig(i, i === "skills" ? r.join(",") : r));
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
      provider: t.provider.slice(0, Jn),
      model: t.model.slice(0, Jn),
      base_url: t.base_url.slice(0, Jn),
      system_prompt: t.system_prompt.slice(0, Hc)
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
    const i = this.ui.skills.map((o) => o.name), r = [...i.filter((o) => s.has(o)), ...[...s].filter((o) => !i.includes(o))];
    if (this.ui.form.skills = r, this.d.writeConfig("skills", r.join(",")), !!this.ui.form.session_id)
      try {
        await this.client.request("update_skills", { session_id: this.ui.form.session_id, skills: r });
      } catch (o) {
        this.ui.notice = `skills: ${o.message}`;
      }
  }
  async send() {
    const t = this.ui.draft.trim();
    if (!t) return;
    if (t.length > Si) {
      this.ui.notice = `a message is at most ${Si} characters`;
      return;
    }
    this.ui.form.session_id || await this.createSession();
    const n = this.ui.form.session_id;
    if (!n) return;
    this.ui.draft = "";
    const s = Jc();
    Fc(this.state, s, t);
    try {
      const i = await this.client.request("user_message", { session_id: n, content: t, client_message_id: s });
      Vc(this.state, s, i.message);
    } catch (i) {
      Uc(this.state, s, i.message);
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
const is = "ComfydAgentPanel", vi = "comfyd-panel-style", Ai = [560, 520], zc = 320, Ci = (e) => e?.comfyClass === is || e?.type === is;
function Yc(e, t) {
  if (e.getElementById(vi)) return;
  const n = e.createElement("style");
  n.id = vi, n.textContent = t, e.head.appendChild(n);
}
function Xc(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function Qc(e) {
  for (const [t, n] of Rr) {
    let s = (e.widgets ?? []).find((i) => i.name === t);
    s || (s = e.addWidget("text", t, n, () => {
    }, {})), Xc(s);
  }
}
function Zc(e) {
  const t = {};
  for (const [n, s] of Rr) {
    const r = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof r == "string" ? r : s;
  }
  return t;
}
function ea(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: s } = t;
  Yc(s, t.css), Qc(e);
  const i = (u, p) => {
    const C = (e.widgets ?? []).find((k) => k.name === u);
    !C || C.value === p || (C.value = p, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, r = new Gc({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => Zc(e),
    writeConfig: i
  }), o = s.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: r });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const u = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => zc,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    u.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  Array.isArray(e.size) && e.setSize?.([Math.max(e.size[0], Ai[0]), Math.max(e.size[1], Ai[1])]);
  const c = e.onConfigure;
  e.onConfigure = function(...u) {
    const p = c?.apply(this, u);
    return r.reloadConfig(), p;
  };
  const d = e.onRemoved;
  return e.onRemoved = function(...u) {
    r.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, d?.apply(this, u);
  }, setTimeout(() => {
    e.__comfydPanel && (r.reloadConfig(), r.start());
  }, 0), e.__comfydPanel = r, r;
}
const ta = { class: "cd-bar" }, na = ["title"], sa = ["value", "disabled"], ia = ["value"], ra = {
  class: "cd-status",
  "data-test": "status"
}, oa = ["disabled"], la = {
  key: 0,
  class: "cd-settings",
  "data-test": "settings-pane"
}, ca = ["value"], aa = { class: "cd-wide" }, fa = { class: "cd-wide" }, ua = { class: "cd-hint" }, da = { class: "cd-row" }, ha = ["disabled"], pa = {
  class: "cd-skills",
  "data-test": "skills"
}, ga = ["title"], ma = ["checked", "onChange", "data-skill"], ya = {
  key: 0,
  class: "cd-hint"
}, _a = { class: "cd-main" }, ba = {
  key: 0,
  class: "cd-err"
}, wa = ["data-skill"], Sa = { class: "cd-skill" }, xa = {
  key: 0,
  class: "cd-typing"
}, va = { class: "cd-text" }, Aa = {
  key: 0,
  class: "cd-err"
}, Ca = {
  key: 0,
  class: "cd-empty"
}, Ta = {
  key: 0,
  class: "cd-hint"
}, ka = {
  key: 1,
  class: "cd-notice",
  "data-test": "notice"
}, Ia = { class: "cd-input" }, Ea = ["disabled"], Oa = ["disabled"], Na = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, s = t.ctl.ui, i = Ct(() => s.connected ? s.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), r = Ct(() => s.connected && n.status === "working"), o = Ct(() => s.form.skills), l = Ct(() => !!n.config?.api_key_set), c = Ct(() => {
      const T = [...s.sessions];
      return s.form.session_id && !T.some((v) => v.id === s.form.session_id) && T.unshift({ id: s.form.session_id, title: n.title || s.form.session_id }), T;
    }), d = /* @__PURE__ */ Ls(null), u = /* @__PURE__ */ Ls(null), p = (T) => {
      T && (T.scrollTop = T.scrollHeight);
    };
    js(
      () => [n.turns.length, n.lastSeq],
      () => cn(() => p(d.value))
    ), js(
      () => n.logs.length,
      () => cn(() => p(u.value))
    );
    function C(T) {
      const v = T.target.value;
      v === "__new__" ? t.ctl.createSession() : v && t.ctl.selectSession(v);
    }
    function k(T) {
      T.key === "Enter" && !T.shiftKey && !T.isComposing && (T.preventDefault(), t.ctl.send());
    }
    function O(T) {
      T.stopPropagation();
    }
    return (T, v) => (H(), J("div", {
      class: "comfyd-panel",
      onKeydown: O,
      onKeyup: O,
      onWheel: v[15] || (v[15] = ri(() => {
      }, ["stop"])),
      onContextmenu: v[16] || (v[16] = ri(() => {
      }, ["stop"]))
    }, [
      P("div", ta, [
        P("span", {
          class: Ae(["cd-dot", "cd-" + i.value.replace(" ", "-")]),
          title: N(n).statusDetail || i.value
        }, null, 10, na),
        P("select", {
          class: "cd-session",
          value: N(s).form.session_id,
          disabled: !N(s).connected || N(s).busy,
          onChange: C,
          "data-test": "session"
        }, [
          v[17] || (v[17] = P("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (H(!0), J(Z, null, ut(c.value, (w) => (H(), J("option", {
            key: w.id,
            value: w.id
          }, Q(w.title), 9, ia))), 128)),
          v[18] || (v[18] = P("option", { value: "__new__" }, "+ new session", -1))
        ], 40, sa),
        P("span", ra, [
          le(Q(i.value), 1),
          N(n).queuedTurns ? (H(), J(Z, { key: 0 }, [
            le(" · " + Q(N(n).queuedTurns) + " queued", 1)
          ], 64)) : me("", !0)
        ]),
        P("button", {
          class: "cd-btn",
          disabled: !r.value,
          onClick: v[0] || (v[0] = (w) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, oa),
        P("button", {
          class: Ae(["cd-btn", { "cd-on": N(s).showSettings }]),
          onClick: v[1] || (v[1] = (w) => N(s).showSettings = !N(s).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        P("button", {
          class: Ae(["cd-btn", { "cd-on": N(s).showLog }]),
          onClick: v[2] || (v[2] = (w) => N(s).showLog = !N(s).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      N(s).showSettings ? (H(), J("div", la, [
        P("label", null, [
          v[19] || (v[19] = le("Provider ", -1)),
          ft(P("select", {
            "onUpdate:modelValue": v[3] || (v[3] = (w) => N(s).form.provider = w),
            onChange: v[4] || (v[4] = (w) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (H(!0), J(Z, null, ut(N(Kc), (w) => (H(), J("option", {
              key: w,
              value: w
            }, Q(w), 9, ca))), 128))
          ], 544), [
            [Jl, N(s).form.provider]
          ])
        ]),
        P("label", null, [
          v[20] || (v[20] = le("Model ", -1)),
          ft(P("input", {
            "onUpdate:modelValue": v[5] || (v[5] = (w) => N(s).form.model = w),
            onChange: v[6] || (v[6] = (w) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [Tt, N(s).form.model]
          ])
        ]),
        P("label", null, [
          v[21] || (v[21] = le("Base URL ", -1)),
          ft(P("input", {
            "onUpdate:modelValue": v[7] || (v[7] = (w) => N(s).form.base_url = w),
            onChange: v[8] || (v[8] = (w) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [Tt, N(s).form.base_url]
          ])
        ]),
        P("label", aa, [
          v[22] || (v[22] = le("System prompt ", -1)),
          ft(P("textarea", {
            "onUpdate:modelValue": v[9] || (v[9] = (w) => N(s).form.system_prompt = w),
            rows: "2",
            onChange: v[10] || (v[10] = (w) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [Tt, N(s).form.system_prompt]
          ])
        ]),
        P("label", fa, [
          v[23] || (v[23] = le("API key ", -1)),
          P("span", ua, Q(l.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          P("span", da, [
            ft(P("input", {
              "onUpdate:modelValue": v[11] || (v[11] = (w) => N(s).apiKey = w),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [Tt, N(s).apiKey]
            ]),
            P("button", {
              class: "cd-btn",
              onClick: v[12] || (v[12] = (w) => e.ctl.setApiKey()),
              disabled: !N(s).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, ha)
          ])
        ])
      ])) : me("", !0),
      P("div", pa, [
        (H(!0), J(Z, null, ut(N(s).skills, (w) => (H(), J("label", {
          key: w.name,
          class: Ae(["cd-chip", { "cd-on": o.value.includes(w.name) }]),
          title: w.description
        }, [
          P("input", {
            type: "checkbox",
            checked: o.value.includes(w.name),
            onChange: (M) => e.ctl.toggleSkill(w.name, M.target.checked),
            "data-skill": w.name
          }, null, 40, ma),
          le(" " + Q(w.name), 1)
        ], 10, ga))), 128)),
        N(s).skills.length ? me("", !0) : (H(), J("span", ya, Q(N(s).connected ? "no skills loaded" : "connecting to comfyd…"), 1))
      ]),
      P("div", _a, [
        P("div", {
          ref_key: "chat",
          ref: d,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          (H(!0), J(Z, null, ut(N(n).turns, (w) => (H(), J("div", {
            key: w.pending ? w.clientId : w.id,
            class: "cd-turn"
          }, [
            P("div", {
              class: Ae(["cd-user", { "cd-failed": w.state === "failed" }])
            }, [
              v[24] || (v[24] = P("span", { class: "cd-who" }, "you", -1)),
              le(Q(w.content) + " ", 1),
              w.error ? (H(), J("span", ba, " — " + Q(w.error), 1)) : me("", !0)
            ], 2),
            P("div", {
              class: "cd-replies",
              style: wn({ "--cols": Math.max(1, N(wi)(w, o.value).length) })
            }, [
              (H(!0), J(Z, null, ut(N(wi)(w, o.value), (M) => (H(), J("div", {
                key: M.skill,
                class: Ae(["cd-reply", "cd-" + M.state]),
                "data-skill": M.skill
              }, [
                P("div", Sa, [
                  le(Q(M.skill), 1),
                  M.state === "streaming" ? (H(), J("span", xa, "…")) : me("", !0)
                ]),
                P("div", va, Q(M.content), 1),
                M.error ? (H(), J("div", Aa, Q(M.error), 1)) : me("", !0)
              ], 10, wa))), 128))
            ], 4)
          ]))), 128)),
          N(n).turns.length ? me("", !0) : (H(), J("div", Ca, Q(N(s).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        N(s).showLog ? (H(), J("div", {
          key: 0,
          ref_key: "logBox",
          ref: u,
          class: "cd-log",
          "data-test": "log"
        }, [
          (H(!0), J(Z, null, ut(N(n).logs, (w, M) => (H(), J("div", {
            key: w.seq + ":" + M,
            class: Ae("cd-l-" + w.level)
          }, [
            P("b", null, Q(w.level), 1),
            le(" " + Q(w.module), 1),
            w.skill ? (H(), J(Z, { key: 0 }, [
              le(" [" + Q(w.skill) + "]", 1)
            ], 64)) : me("", !0),
            le(": " + Q(w.message), 1)
          ], 2))), 128)),
          N(n).logs.length ? me("", !0) : (H(), J("div", Ta, "no debug output yet"))
        ], 512)) : me("", !0)
      ]),
      N(s).notice || N(n).lastError ? (H(), J("div", ka, Q(N(s).notice || N(n).lastError.code + ": " + N(n).lastError.message), 1)) : me("", !0),
      P("div", Ia, [
        ft(P("textarea", {
          "onUpdate:modelValue": v[13] || (v[13] = (w) => N(s).draft = w),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !N(s).connected,
          onKeydown: k,
          "data-test": "input"
        }, null, 40, Ea), [
          [Tt, N(s).draft]
        ]),
        P("button", {
          class: "cd-btn cd-send",
          disabled: !N(s).connected || !N(s).draft.trim(),
          onClick: v[14] || (v[14] = (w) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, Oa)
      ])
    ], 32));
  }
}, Ma = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline{background:#c84a4a}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}", $a = "comfyd.canvas", Da = 1500;
function Ti() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function rs(e, t) {
  (console[e] ?? console.log)(t);
}
function Ra(e) {
  const t = Ti();
  if (t) return e(t, !1);
  let n = 0;
  const s = setInterval(() => {
    const i = Ti();
    (i || ++n > Da) && (clearInterval(s), i ? e(i, !0) : rs("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function Pa({ app: e, api: t }, n) {
  const s = new ic({
    fetchJson: async (c) => {
      const d = await t.fetchApi(c);
      let u = null;
      try {
        u = await d.json();
      } catch {
        u = null;
      }
      if (!d.ok) throw new Error(u?.error ?? `${c}: HTTP ${d.status}`);
      return u;
    },
    location: window.location
  }), i = new Rc({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: s,
    WebSocket: window.WebSocket,
    tabId: Dc(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: rs,
    isPanelNode: Ci
  }), r = {
    app: e,
    connection: s,
    WebSocket: window.WebSocket,
    createApp: Zl,
    reactive: hs,
    component: Na,
    css: Ma,
    document,
    log: rs
  };
  let o = !1;
  const l = () => {
    o || (o = !0, t.addEventListener("graphChanged", () => i.graphChanged()), window.addEventListener("focus", () => i.setFocus(!0)), window.addEventListener("blur", () => i.setFocus(!1)), document.addEventListener("visibilitychange", () => i.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      i.touched(), i.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => i.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => i.setPointerDown(!1), !0), window.addEventListener("keydown", () => i.touched(), !0), i.start());
  };
  e.registerExtension({
    name: $a,
    setup: l,
    afterConfigureGraph() {
      i.graphChanged();
    },
    beforeRegisterNodeDef(c, d) {
      d?.name === is && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      Ci(c) && ea(c, r);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: i, version: "0.1.0" });
}
Ra(Pa);
