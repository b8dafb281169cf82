// @__NO_SIDE_EFFECTS__
function rs(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const J = {}, Ze = [], tt = () => {
}, Ii = () => !1, mn = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), yn = (e) => e.startsWith("onUpdate:"), he = Object.assign, Ti = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, Ur = Object.prototype.hasOwnProperty, U = (e, t) => Ur.call(e, t), R = Array.isArray, We = (e) => Kt(e) === "[object Map]", rt = (e) => Kt(e) === "[object Set]", Es = (e) => Kt(e) === "[object Date]", W = (e) => typeof e == "function", X = (e) => typeof e == "string", Ee = (e) => typeof e == "symbol", z = (e) => e !== null && typeof e == "object", ki = (e) => (z(e) || W(e)) && W(e.then) && W(e.catch), Ei = Object.prototype.toString, Kt = (e) => Ei.call(e), qr = (e) => Kt(e).slice(8, -1), Oi = (e) => Kt(e) === "[object Object]", os = (e) => X(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, Ot = /* @__PURE__ */ rs(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), _n = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Wr = /-\w/g, _e = /* @__PURE__ */ _n((e) => e.replace(Wr, (t) => t.slice(1).toUpperCase())), Kr = /\B([A-Z])/g, ot = /* @__PURE__ */ _n(
  (e) => e.replace(Kr, "-$1").toLowerCase()
), Ni = /* @__PURE__ */ _n((e) => e.charAt(0).toUpperCase() + e.slice(1)), On = /* @__PURE__ */ _n((e) => e ? `on${Ni(e)}` : ""), ke = (e, t) => !Object.is(e, t), tn = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, Mi = (e, t, n, s = !1) => {
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
let Os;
const bn = () => Os || (Os = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function wn(e) {
  if (R(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const s = e[n], i = X(s) ? Jr(s) : wn(s);
      if (i)
        for (const r in i)
          t[r] = i[r];
    }
    return t;
  } else if (X(e) || z(e))
    return e;
}
const Hr = /;(?![^(]*\))/g, Br = /:([^]+)/, Gr = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function Jr(e) {
  const t = {};
  return e.replace(Gr, (n) => n.startsWith("/*") ? "" : n).split(Hr).forEach((n) => {
    if (n) {
      const s = n.split(Br);
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
const zr = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", Yr = /* @__PURE__ */ rs(zr);
function $i(e) {
  return !!e || e === "";
}
function Xr(e, t, n) {
  if (e.length !== t.length) return !1;
  let s = !0;
  for (let i = 0; s && i < e.length; i++)
    s = He(e[i], t[i], n);
  return s;
}
function Ns(e, t, n) {
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
function Qr(e, t, n) {
  let s = We(e), i = We(t);
  if (s || i || (s = rt(e), i = rt(t), s || i))
    return s && i ? Ns(e, t, n) : !1;
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
function Ms(e, t, n, s) {
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
  let s = Es(e), i = Es(t);
  return s || i ? s && i ? e.getTime() === t.getTime() : !1 : (s = Ee(e), i = Ee(t), s || i ? e === t : (s = R(e), i = R(t), s || i ? s && i ? Ms(e, t, n, Xr) : !1 : (s = z(e), i = z(t), s || i ? !s || !i ? !1 : Ms(e, t, n, Qr) : String(e) === String(t))));
}
function Zr(e, t) {
  return e.findIndex((n) => He(n, t));
}
const Di = (e) => !!(e && e.__v_isRef === !0), Q = (e) => X(e) ? e : e == null ? "" : R(e) || z(e) && (e.toString === Ei || !W(e.toString)) ? Di(e) ? Q(e.value) : JSON.stringify(e, Ri, 2) : String(e), Ri = (e, t) => Di(t) ? Ri(e, t.value) : We(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [s, i], r) => (n[Nn(s, r) + " =>"] = i, n),
    {}
  )
} : rt(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => Nn(n))
} : Ee(t) ? Nn(t) : z(t) && !R(t) && !Oi(t) ? String(t) : t, Nn = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    Ee(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let te;
class eo {
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
function to() {
  return te;
}
let K;
const Mn = /* @__PURE__ */ new WeakSet();
class Pi {
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
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || ji(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, $s(this), Fi(this);
    const t = K, n = be;
    K = this, be = !0;
    try {
      return this.fn();
    } finally {
      Vi(this), K = t, be = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        as(t);
      this.deps = this.depsTail = void 0, $s(this), this.onStop && this.onStop(), this.flags &= -2;
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
let Li = 0, Nt, Mt;
function ji(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = Mt, Mt = e;
    return;
  }
  e.next = Nt, Nt = e;
}
function ls() {
  Li++;
}
function cs() {
  if (--Li > 0)
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
function Fi(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function Vi(e) {
  let t, n = e.depsTail, s = n;
  for (; s; ) {
    const i = s.prevDep;
    s.version === -1 ? (s === n && (n = i), as(s), no(s)) : t = s, s.dep.activeLink = s.prevActiveLink, s.prevActiveLink = void 0, s = i;
  }
  e.deps = t, e.depsTail = n;
}
function Gn(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (Ui(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function Ui(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === Ft) || (e.globalVersion = Ft, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !Gn(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = K, s = be;
  K = e, be = !0;
  try {
    Fi(e);
    const i = e.fn(e._value);
    (t.version === 0 || ke(i, e._value)) && (e.flags |= 128, e._value = i, t.version++);
  } catch (i) {
    throw t.version++, i;
  } finally {
    K = n, be = s, Vi(e), e.flags &= -3;
  }
}
function as(e, t = !1) {
  const { dep: n, prevSub: s, nextSub: i } = e;
  if (s && (s.nextSub = i, e.prevSub = void 0), i && (i.prevSub = s, e.nextSub = void 0), n.subs === e && (n.subs = s, !s && n.computed)) {
    n.computed.flags &= -5;
    for (let r = n.computed.deps; r; r = r.nextDep)
      as(r, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function no(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let be = !0;
const qi = [];
function Be() {
  qi.push(be), be = !1;
}
function Ge() {
  const e = qi.pop();
  be = e === void 0 ? !0 : e;
}
function $s(e) {
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
class so {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class fs {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!K || !be || K === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== K)
      n = this.activeLink = new so(K, this), K.deps ? (n.prevDep = K.depsTail, K.depsTail.nextDep = n, K.depsTail = n) : K.deps = K.depsTail = n, Wi(n);
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
    ls();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      cs();
    }
  }
}
function Wi(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let s = t.deps; s; s = s.nextDep)
        Wi(s);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const Jn = /* @__PURE__ */ new WeakMap(), nt = /* @__PURE__ */ Symbol(
  ""
), zn = /* @__PURE__ */ Symbol(
  ""
), Vt = /* @__PURE__ */ Symbol(
  ""
);
function se(e, t, n) {
  if (be && K) {
    let s = Jn.get(e);
    s || Jn.set(e, s = /* @__PURE__ */ new Map());
    let i = s.get(n);
    i || (s.set(n, i = new fs()), i.map = s, i.key = n), i.track();
  }
}
function Pe(e, t, n, s, i, r) {
  const o = Jn.get(e);
  if (!o) {
    Ft++;
    return;
  }
  const l = (c) => {
    c && c.trigger();
  };
  if (ls(), t === "clear")
    o.forEach(l);
  else {
    const c = R(e), d = c && os(n);
    if (c && n === "length") {
      const u = Number(s);
      o.forEach((p, C) => {
        (C === "length" || C === Vt || !Ee(C) && C >= u) && l(p);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), d && l(o.get(Vt)), t) {
        case "add":
          c ? d && l(o.get("length")) : (l(o.get(nt)), We(e) && l(o.get(zn)));
          break;
        case "delete":
          c || (l(o.get(nt)), We(e) && l(o.get(zn)));
          break;
        case "set":
          We(e) && l(o.get(nt));
          break;
      }
  }
  cs();
}
function at(e) {
  const t = /* @__PURE__ */ F(e);
  return t === e || (se(t, "iterate", Vt), /* @__PURE__ */ de(e)) ? t : /* @__PURE__ */ Oe(e) ? /* @__PURE__ */ Ke(e) ? t.map((n) => Je(pe(n))) : t.map(Je) : t.map(pe);
}
function Sn(e) {
  return se(e = /* @__PURE__ */ F(e), "iterate", Vt), e;
}
function Ce(e, t) {
  return /* @__PURE__ */ Oe(e) ? Je(/* @__PURE__ */ Ke(e) ? pe(t) : t) : pe(t);
}
const io = {
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
    return Rs(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return Rs(this, "reduceRight", e, t);
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
      return o.next = () => Ds(r.next(), n), i !== Ki[t] && Object.defineProperties(o, {
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
    r._next = r.next, r.next = () => Ds(r._next(), n);
  }
  return r;
}
function Ds(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const Ki = Array.prototype;
function $e(e, t, n, s, i, r) {
  const o = Sn(e), l = o !== e && !/* @__PURE__ */ de(e), c = o[t];
  if (c !== Ki[t]) {
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
function Rs(e, t, n, s) {
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
  return (i === -1 || i === !1) && /* @__PURE__ */ ps(n[0]) ? (n[0] = /* @__PURE__ */ F(n[0]), s[t](...n)) : i;
}
function vt(e, t, n = []) {
  Be(), ls();
  const s = (/* @__PURE__ */ F(e))[t].apply(e, n);
  return cs(), Ge(), s;
}
const ro = /* @__PURE__ */ rs("__proto__,__v_isRef,__isVue"), Hi = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(Ee)
);
function oo(e) {
  Ee(e) || (e = String(e));
  const t = /* @__PURE__ */ F(this);
  return se(t, "has", e), t.hasOwnProperty(e);
}
class Bi {
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
      return s === (i ? r ? yo : Yi : r ? zi : Ji).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(s) ? t : void 0;
    const o = R(t);
    if (!i) {
      let c;
      if (o && (c = io[n]))
        return c;
      if (n === "hasOwnProperty")
        return oo;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ oe(t) ? t : s
    );
    if ((Ee(n) ? Hi.has(n) : ro(n)) || (i || se(t, "get", n), r))
      return l;
    if (/* @__PURE__ */ oe(l)) {
      const c = o && os(n) ? l : l.value;
      return i && z(c) ? /* @__PURE__ */ Xn(c) : c;
    }
    return z(l) ? i ? /* @__PURE__ */ Xn(l) : /* @__PURE__ */ ds(l) : l;
  }
}
class Gi extends Bi {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, s, i) {
    let r = t[n];
    const o = R(t) && os(n);
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
    return t === /* @__PURE__ */ F(i) && c && (l ? ke(s, r) && Pe(t, "set", n, s) : Pe(t, "add", n, s)), c;
  }
  deleteProperty(t, n) {
    const s = U(t, n);
    t[n];
    const i = Reflect.deleteProperty(t, n);
    return i && s && Pe(t, "delete", n, void 0), i;
  }
  has(t, n) {
    const s = Reflect.has(t, n);
    return (!Ee(n) || !Hi.has(n)) && se(t, "has", n), s;
  }
  ownKeys(t) {
    return se(
      t,
      "iterate",
      R(t) ? "length" : nt
    ), Reflect.ownKeys(t);
  }
}
class lo extends Bi {
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
const co = /* @__PURE__ */ new Gi(), ao = /* @__PURE__ */ new lo(), fo = /* @__PURE__ */ new Gi(!0);
const Yn = (e) => e, zt = (e) => Reflect.getPrototypeOf(e);
function uo(e, t, n) {
  return function(...s) {
    const i = this.__v_raw, r = /* @__PURE__ */ F(i), o = We(r), l = e === "entries" || e === Symbol.iterator && o, c = e === "keys" && o, d = i[e](...s), u = n ? Yn : t ? Je : pe;
    return !t && se(
      r,
      "iterate",
      c ? zn : nt
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
function ho(e, t) {
  const n = {
    get(i) {
      const r = this.__v_raw, o = /* @__PURE__ */ F(r), l = /* @__PURE__ */ F(i);
      e || (ke(i, l) && se(o, "get", i), se(o, "get", l));
      const { has: c } = zt(o), d = t ? Yn : e ? Je : pe;
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
      return e || (ke(i, l) && se(o, "has", i), se(o, "has", l)), i === l ? r.has(i) : r.has(i) || r.has(l);
    },
    forEach(i, r) {
      const o = this, l = o.__v_raw, c = /* @__PURE__ */ F(l), d = t ? Yn : e ? Je : pe;
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
        return o.has.call(r, c) || ke(i, c) && o.has.call(r, i) || ke(l, c) && o.has.call(r, l) || (r.add(c), Pe(r, "add", c, c)), this;
      },
      set(i, r) {
        !t && !/* @__PURE__ */ de(r) && !/* @__PURE__ */ Oe(r) && (r = /* @__PURE__ */ F(r));
        const o = /* @__PURE__ */ F(this), { has: l, get: c } = zt(o);
        let d = l.call(o, i);
        d || (i = /* @__PURE__ */ F(i), d = l.call(o, i));
        const u = c.call(o, i);
        return o.set(i, r), d ? ke(r, u) && Pe(o, "set", i, r) : Pe(o, "add", i, r), this;
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
    n[i] = uo(i, e, t);
  }), n;
}
function us(e, t) {
  const n = ho(e, t);
  return (s, i, r) => i === "__v_isReactive" ? !e : i === "__v_isReadonly" ? e : i === "__v_isShallow" ? t : i === "__v_raw" ? s : Reflect.get(
    U(n, i) && i in s ? n : s,
    i,
    r
  );
}
const po = {
  get: /* @__PURE__ */ us(!1, !1)
}, go = {
  get: /* @__PURE__ */ us(!1, !0)
}, mo = {
  get: /* @__PURE__ */ us(!0, !1)
};
const Ji = /* @__PURE__ */ new WeakMap(), zi = /* @__PURE__ */ new WeakMap(), Yi = /* @__PURE__ */ new WeakMap(), yo = /* @__PURE__ */ new WeakMap();
function _o(e) {
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
function ds(e) {
  return /* @__PURE__ */ Oe(e) ? e : hs(
    e,
    !1,
    co,
    po,
    Ji
  );
}
// @__NO_SIDE_EFFECTS__
function bo(e) {
  return hs(
    e,
    !1,
    fo,
    go,
    zi
  );
}
// @__NO_SIDE_EFFECTS__
function Xn(e) {
  return hs(
    e,
    !0,
    ao,
    mo,
    Yi
  );
}
function hs(e, t, n, s, i) {
  if (!z(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const r = i.get(e);
  if (r)
    return r;
  const o = _o(qr(e));
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
function ps(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function F(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ F(t) : e;
}
function wo(e) {
  return !U(e, "__v_skip") && Object.isExtensible(e) && Mi(e, "__v_skip", !0), e;
}
const pe = (e) => z(e) ? /* @__PURE__ */ ds(e) : e, Je = (e) => z(e) ? /* @__PURE__ */ Xn(e) : e;
// @__NO_SIDE_EFFECTS__
function oe(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function Ps(e) {
  return So(e, !1);
}
function So(e, t) {
  return /* @__PURE__ */ oe(e) ? e : new xo(e, t);
}
class xo {
  constructor(t, n) {
    this.dep = new fs(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ F(t), this._value = n ? t : pe(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, s = this.__v_isShallow || /* @__PURE__ */ de(t) || /* @__PURE__ */ Oe(t);
    t = s ? t : /* @__PURE__ */ F(t), ke(t, n) && (this._rawValue = t, this._value = s ? t : pe(t), this.dep.trigger());
  }
}
function N(e) {
  return /* @__PURE__ */ oe(e) ? e.value : e;
}
const vo = {
  get: (e, t, n) => t === "__v_raw" ? e : N(Reflect.get(e, t, n)),
  set: (e, t, n, s) => {
    const i = e[t];
    return /* @__PURE__ */ oe(i) && !/* @__PURE__ */ oe(n) ? (i.value = n, !0) : Reflect.set(e, t, n, s);
  }
};
function Xi(e) {
  return /* @__PURE__ */ Ke(e) ? e : new Proxy(e, vo);
}
class Ao {
  constructor(t, n, s) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new fs(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = Ft - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = s;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    K !== this)
      return ji(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return Ui(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function Co(e, t, n = !1) {
  let s, i;
  return W(e) ? s = e : (s = e.get, i = e.set), new Ao(s, i, n);
}
const Xt = {}, on = /* @__PURE__ */ new WeakMap();
let Xe;
function Io(e, t = !1, n = Xe) {
  if (n) {
    let s = on.get(n);
    s || on.set(n, s = []), s.push(e);
  }
}
function To(e, t, n = J) {
  const { immediate: s, deep: i, once: r, scheduler: o, augmentJob: l, call: c } = n, d = ($) => i ? $ : /* @__PURE__ */ de($) || i === !1 || i === 0 ? Le($, 1) : Le($);
  let u, p, C, T, O = !1, I = !1;
  if (/* @__PURE__ */ oe(e) ? (p = () => e.value, O = /* @__PURE__ */ de(e)) : /* @__PURE__ */ Ke(e) ? (p = () => d(e), O = !0) : R(e) ? (I = !0, O = e.some(($) => /* @__PURE__ */ Ke($) || /* @__PURE__ */ de($)), p = () => e.map(($) => {
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
        Ge();
      }
    }
    const $ = Xe;
    Xe = u;
    try {
      return c ? c(e, 3, [T]) : e(T);
    } finally {
      Xe = $;
    }
  } : p = tt, t && i) {
    const $ = p, ne = i === !0 ? 1 / 0 : i;
    p = () => Le($(), ne);
  }
  const v = to(), w = () => {
    u.stop(), v && v.active && Ti(v.effects, u);
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
  let M = I ? new Array(e.length).fill(Xt) : Xt;
  const B = ($) => {
    if (!(!(u.flags & 1) || !u.dirty && !$))
      if (t) {
        const ne = u.run();
        if ($ || i || O || (I ? ne.some((lt, Ue) => ke(lt, M[Ue])) : ke(ne, M))) {
          const lt = Xe;
          Be();
          try {
            C && C(), Xe = u;
            const Ue = [
              ne,
              // pass undefined as the old value when it's changed for the first time
              M === Xt ? void 0 : I && M[0] === Xt ? [] : M,
              T
            ];
            M = ne, c ? c(t, 3, Ue) : (
              // @ts-expect-error
              t(...Ue)
            );
          } finally {
            Xe = lt, Ge();
          }
        }
      } else
        u.run();
  };
  return l && l(B), u = new Pi(p), u.scheduler = o ? () => o(B, !1) : B, T = ($) => Io($, !1, u), C = u.onStop = () => {
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
  else if (Oi(e)) {
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
    return i && ki(i) && i.catch((r) => {
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
  const r = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || J;
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
      ]), Ge();
      return;
    }
  }
  ko(e, n, r, s, l);
}
function ko(e, t, n, s = !0, i = !1) {
  if (i)
    throw e;
  console.error(e);
}
const re = [];
let ye = -1;
const Ie = [];
let qe = null, pt = 0;
const Qi = /* @__PURE__ */ Promise.resolve();
let ln = null;
function cn(e) {
  const t = ln || Qi;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function Eo(e) {
  let t = ye + 1, n = re.length;
  for (; t < n; ) {
    const s = t + n >>> 1, i = re[s], r = Ut(i);
    r < e || r === e && i.flags & 2 ? t = s + 1 : n = s;
  }
  return t;
}
function gs(e) {
  if (!(e.flags & 1)) {
    const t = Ut(e), n = re[re.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Ut(n) ? re.push(e) : re.splice(Eo(t), 0, e), e.flags |= 1, Zi();
  }
}
function Zi() {
  ln || (ln = Qi.then(nr));
}
function Oo(e) {
  if (!R(e))
    qe && e.id === -1 ? qe.splice(pt + 1, 0, e) : e.flags & 1 || (Ie.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      Ie.push(e[t]);
  Zi();
}
function er(e, t, n, s = ye + 1) {
  for (; s < re.length; s++) {
    const i = re[s];
    if (i && i.flags & 2) {
      if (e && i.id !== e.uid || t !== void 0 && !(i.id >= t))
        continue;
      re.splice(s, 1), s = e ? s - 1 : ye, i.flags & 4 && (i.flags &= -2), i(), i.flags & 4 || (i.flags &= -2);
    }
  }
}
function tr(e, t, n = 0) {
  if (Ie.length) {
    let s = Ie, i = 0;
    if (t) {
      s = [];
      for (let o = 0; o < Ie.length; o++) {
        const l = Ie[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? Ie[i++] = l : s.push(l);
      }
    }
    const r = [...new Set(s)].sort((o, l) => Ut(o) - Ut(l));
    if (Ie.length = i, qe) {
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
function No(e, t) {
  if (Rn) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(Ie);
  e(), Rn = !0;
  try {
    er(void 0, t), tr(void 0, n, t);
  } finally {
    Rn = !1;
  }
}
const Ut = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function nr(e) {
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
    ye = -1, re.length = 0, tr(), ln = null, (re.length || Ie.length) && nr();
  }
}
let ue = null, sr = null;
function an(e) {
  const t = ue;
  return ue = e, sr = e && e.type.__scopeId || null, t;
}
function Mo(e, t = ue, n) {
  if (!t || e._n)
    return e;
  const s = (...i) => {
    s._d && Ks(-1);
    const r = an(t), o = st.length;
    let l;
    try {
      l = e(...i);
    } finally {
      for (let c = st.length; c > o; c--) br();
      an(r), s._d && Ks(1);
    }
    return l;
  };
  return s._n = !0, s._c = !0, s._d = !0, s;
}
function ft(e, t) {
  if (ue === null)
    return e;
  const n = In(ue), s = e.dirs || (e.dirs = []);
  for (let i = 0; i < t.length; i++) {
    let [r, o, l, c = J] = t[i];
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
    ]), Ge());
  }
}
function $o(e, t, n = !1) {
  const s = ml();
  if (s || mt) {
    let i = mt ? mt._context.provides : s ? s.parent == null || s.ce ? s.vnode.appContext && s.vnode.appContext.provides : s.parent.provides : void 0;
    if (i && e in i)
      return i[e];
    if (arguments.length > 1)
      return n && W(t) ? t.call(s && s.proxy) : t;
  }
}
const Do = /* @__PURE__ */ Symbol.for("v-scx"), Ro = () => $o(Do);
function Ls(e, t, n) {
  return Po(e, t, n);
}
function Po(e, t, n = J) {
  const { immediate: s, deep: i, flush: r, once: o } = n, l = he({}, n), c = t && s || !t && r !== "post";
  let d;
  if (hn) {
    if (r === "sync") {
      const T = Ro();
      d = T.__watcherHandles || (T.__watcherHandles = []);
    } else if (!c) {
      const T = () => {
      };
      return T.stop = tt, T.resume = tt, T.pause = tt, T;
    }
  }
  const u = bt;
  l.call = (T, O, I) => Ve(T, u, O, I);
  let p = !1;
  r === "post" ? l.scheduler = (T) => {
    T.i = u, ie(T, u && u.suspense);
  } : r !== "sync" && (p = !0, l.scheduler = (T, O) => {
    O ? T() : gs(T);
  }), l.augmentJob = (T) => {
    t && (T.flags |= 4), p && (T.flags |= 2, u && (T.id = u.uid, T.i = u));
  };
  const C = To(e, t, l);
  return hn && (d ? d.push(C) : c && C()), C;
}
const Lo = /* @__PURE__ */ Symbol("_vte"), vn = (e) => e.__isTeleport, Pn = /* @__PURE__ */ Symbol("_leaveCb");
function jo(e) {
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
function ir(e) {
  if (!rr(e))
    return vn(e.type) && e.children ? jo(e.children) : e;
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
      vn(n.type) && ir(n) || n,
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
    const n = lr(e.children, !1);
    n && $t(n, t);
  }
}
function Qn(e) {
  if (e.component)
    return Qn(e.component.subTree);
  if (e.type === Z) {
    const t = R(e.children) && lr(e.children, !1);
    return t ? Qn(t) : void 0;
  }
  if (e.type !== we)
    return e;
}
function Fo(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function js(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const fn = /* @__PURE__ */ new WeakMap();
function Dt(e, t, n, s, i = !1) {
  if (R(e)) {
    e.forEach(
      (I, v) => Dt(
        I,
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
  const r = s.shapeFlag & 4 ? In(s.component) : s.el, o = i ? null : r, { i: l, r: c } = e, d = t && t.r, u = l.refs === J ? l.refs = {} : l.refs, p = l.setupState, C = /* @__PURE__ */ F(p), T = p === J ? Ii : (I) => js(u, I) ? !1 : U(C, I), O = (I, v) => !(v && js(u, v));
  if (d != null && d !== c) {
    if (Fs(t), X(d))
      u[d] = null, T(d) && (p[d] = null);
    else if (/* @__PURE__ */ oe(d)) {
      const I = t;
      O(d, I.k) && (d.value = null), I.k && (u[I.k] = null);
    }
  }
  if (W(c))
    Bt(c, l, 12, [o, u]);
  else {
    const I = X(c), v = /* @__PURE__ */ oe(c);
    if (I || v) {
      const w = () => {
        if (e.f) {
          const M = I ? T(c) ? p[c] : u[c] : O() || !e.k ? c.value : u[e.k];
          if (i)
            R(M) && Ti(M, r);
          else if (R(M))
            M.includes(r) || M.push(r);
          else if (I)
            u[c] = [r], T(c) && (p[c] = u[c]);
          else {
            const B = [r];
            O(c, e.k) && (c.value = B), e.k && (u[e.k] = B);
          }
        } else I ? (u[c] = o, T(c) && (p[c] = o)) : v && (O(c, e.k) && (c.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const M = () => {
          w(), fn.delete(e);
        };
        M.id = -1, fn.set(e, M), ie(M, n);
      } else
        Fs(e), w();
    }
  }
}
function Fs(e) {
  const t = fn.get(e);
  t && (t.flags |= 8, fn.delete(e));
}
bn().requestIdleCallback;
bn().cancelIdleCallback;
const Rt = (e) => !!e.type.__asyncLoader, rr = (e) => e.type.__isKeepAlive, Vo = /* @__PURE__ */ Symbol.for("v-ndc");
function ut(e, t, n, s) {
  let i;
  const r = n, o = R(e);
  if (o || X(e)) {
    const l = o && /* @__PURE__ */ Ke(e);
    let c = !1, d = !1;
    l && (c = !/* @__PURE__ */ de(e), d = /* @__PURE__ */ Oe(e), e = Sn(e)), i = new Array(e.length);
    for (let u = 0, p = e.length; u < p; u++)
      i[u] = t(
        c ? d ? Je(pe(e[u])) : pe(e[u]) : e[u],
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
const Zn = (e) => e ? Ar(e) ? In(e) : Zn(e.parent) : null, Pt = (
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
    $parent: (e) => Zn(e.parent),
    $root: (e) => Zn(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      gs(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = cn.bind(e.proxy)),
    $watch: (e) => tt
  })
), Ln = (e, t) => e !== J && !e.__isScriptSetup && U(e, t), Uo = {
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
        if (n !== J && U(n, t))
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
    if (n !== J && U(n, t))
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
function or() {
  return {
    app: null,
    config: {
      isNativeTag: Ii,
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
let qo = 0;
function Wo(e, t) {
  return function(s, i = null) {
    W(s) || (s = he({}, s)), i != null && !z(i) && (i = null);
    const r = or(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let c = !1;
    const d = r.app = {
      _uid: qo++,
      _component: s,
      _props: i,
      _container: null,
      _context: r,
      _instance: null,
      version: xl,
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
          const T = d._ceVNode || Fe(s, i);
          return T.appContext = r, C === !0 ? C = "svg" : C === !1 && (C = void 0), e(T, u, C), c = !0, d._container = u, u.__vue_app__ = d, In(T.component);
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
const Ko = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${_e(t)}Modifiers`] || e[`${ot(t)}Modifiers`];
function Ho(e, t, ...n) {
  if (e.isUnmounted) return;
  const s = e.vnode.props || J;
  let i = n;
  const r = t.startsWith("update:"), o = r && Ko(s, t.slice(7));
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
function Bo(e, t, n = !1) {
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
function Vs(e) {
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
    setupState: T,
    ctx: O,
    inheritAttrs: I
  } = e, v = an(e);
  let w, M;
  try {
    if (n.shapeFlag & 4) {
      const $ = i || s, ne = $;
      w = Te(
        d.call(
          ne,
          $,
          u,
          p,
          T,
          C,
          O
        )
      ), M = l;
    } else {
      const $ = t;
      w = Te(
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
  if (M && I !== !1) {
    const $ = Object.keys(M), { shapeFlag: ne } = B;
    $.length && ne & 7 && (r && $.some(yn) && (M = Jo(
      M,
      r
    )), B = _t(B, M, !1, !0));
  }
  if (n.dirs && (B = _t(B, null, !1, !0), B.dirs = B.dirs ? B.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const $ = vn(B.type) && ir(B) || B;
    $t($, n.transition);
  }
  return w = B, an(v), w;
}
function lr(e, t = !0) {
  let n;
  for (let s = 0; s < e.length; s++) {
    const i = e[s];
    if (_s(i)) {
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
}, Jo = (e, t) => {
  const n = {};
  for (const s in e)
    (!yn(s) || !(s.slice(9) in t)) && (n[s] = e[s]);
  return n;
};
function zo(e, t, n) {
  const { props: s, children: i, component: r } = e, { props: o, children: l, patchFlag: c } = t, d = r.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && c >= 0) {
    if (c & 1024)
      return !0;
    if (c & 16)
      return s ? Us(s, o, d) : !!o;
    if (c & 8) {
      const u = t.dynamicProps;
      for (let p = 0; p < u.length; p++) {
        const C = u[p];
        if (cr(o, s, C) && !An(d, C))
          return !0;
      }
    }
  } else
    return (i || l) && (!l || !l.$stable) ? !0 : s === o ? !1 : s ? o ? Us(s, o, d) : !0 : !!o;
  return !1;
}
function Us(e, t, n) {
  const s = Object.keys(t);
  if (s.length !== Object.keys(e).length)
    return !0;
  for (let i = 0; i < s.length; i++) {
    const r = s[i];
    if (!U(e, r) || cr(t, e, r) && !An(n, r))
      return !0;
  }
  return !1;
}
function cr(e, t, n) {
  const s = e[n], i = t[n];
  return n === "style" && z(s) && z(i) ? !He(s, i) : s !== i;
}
function Yo({ vnode: e, parent: t, suspense: n }, s) {
  for (; t; ) {
    const i = t.subTree;
    if (i.suspense && i.suspense.activeBranch === e && (i.suspense.vnode.el = i.el = s, e = i), i === e)
      (e = t.vnode).el = s, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = s);
}
const ar = {}, fr = () => Object.create(ar), ur = (e) => Object.getPrototypeOf(e) === ar;
function Xo(e, t, n, s = !1) {
  const i = {}, r = fr();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), dr(e, t, i, r);
  for (const o in e.propsOptions[0])
    o in i || (i[o] = void 0);
  n ? e.props = s ? i : /* @__PURE__ */ bo(i) : e.type.props ? e.props = i : e.props = r, e.attrs = r;
}
function Qo(e, t, n, s) {
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
        const T = t[C];
        if (c)
          if (U(r, C))
            T !== r[C] && (r[C] = T, d = !0);
          else {
            const O = _e(C);
            i[O] = es(
              c,
              l,
              O,
              T,
              e,
              !1
            );
          }
        else
          T !== r[C] && (r[C] = T, d = !0);
      }
    }
  } else {
    dr(e, t, i, r) && (d = !0);
    let u;
    for (const p in l)
      (!t || // for camelCase
      !U(t, p) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = ot(p)) === p || !U(t, u))) && (c ? n && // for camelCase
      (n[p] !== void 0 || // for kebab-case
      n[u] !== void 0) && (i[p] = es(
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
function dr(e, t, n, s) {
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
    const c = /* @__PURE__ */ F(n), d = l || J;
    for (let u = 0; u < r.length; u++) {
      const p = r[u];
      n[p] = es(
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
function es(e, t, n, s, i, r) {
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
          const u = vr(i);
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
function Zo(e, t, n = !1) {
  const s = t.propsCache, i = s.get(e);
  if (i)
    return i;
  const r = e.props, o = {}, l = [];
  if (!r)
    return z(e) && s.set(e, Ze), Ze;
  if (R(r))
    for (let d = 0; d < r.length; d++) {
      const u = _e(r[d]);
      qs(u) && (o[u] = J);
    }
  else if (r)
    for (const d in r) {
      const u = _e(d);
      if (qs(u)) {
        const p = r[d], C = o[u] = R(p) || W(p) ? { type: p } : he({}, p), T = C.type;
        let O = !1, I = !0;
        if (R(T))
          for (let v = 0; v < T.length; ++v) {
            const w = T[v], M = W(w) && w.name;
            if (M === "Boolean") {
              O = !0;
              break;
            } else M === "String" && (I = !1);
          }
        else
          O = W(T) && T.name === "Boolean";
        C[
          0
          /* shouldCast */
        ] = O, C[
          1
          /* shouldCastTrue */
        ] = I, (O || U(C, "default")) && l.push(u);
      }
    }
  const c = [o, l];
  return z(e) && s.set(e, c), c;
}
function qs(e) {
  return e[0] !== "$" && !Ot(e);
}
const ms = (e) => e === "_" || e === "_ctx" || e === "$stable", ys = (e) => R(e) ? e.map(Te) : [Te(e)], el = (e, t, n) => {
  if (t._n)
    return t;
  const s = Mo((...i) => ys(t(...i)), n);
  return s._c = !1, s;
}, hr = (e, t, n) => {
  const s = e._ctx;
  for (const i in e) {
    if (ms(i)) continue;
    const r = e[i];
    if (W(r))
      t[i] = el(i, r, s);
    else if (r != null) {
      const o = ys(r);
      t[i] = () => o;
    }
  }
}, pr = (e, t) => {
  const n = ys(t);
  e.slots.default = () => n;
}, gr = (e, t, n) => {
  for (const s in t)
    (n || !ms(s)) && (e[s] = t[s]);
}, tl = (e, t, n) => {
  const s = e.slots = fr();
  if (e.vnode.shapeFlag & 32) {
    const i = t._;
    i ? (gr(s, t, n), n && Mi(s, "_", i, !0)) : hr(t, s);
  } else t && pr(e, t);
}, nl = (e, t, n) => {
  const { vnode: s, slots: i } = e;
  let r = !0, o = J;
  if (s.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? r = !1 : gr(i, t, n) : (r = !t.$stable, hr(t, i)), o = t;
  } else t && (pr(e, t), o = { default: 1 });
  if (r)
    for (const l in i)
      !ms(l) && o[l] == null && delete i[l];
}, ie = cl;
function sl(e) {
  return il(e);
}
function il(e, t) {
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
    setScopeId: T = tt,
    insertStaticContent: O
  } = e, I = (a, f, h, _ = null, g = null, y = null, x = void 0, S = null, b = !!f.dynamicChildren) => {
    if (a === f)
      return;
    a && !At(a, f) && (_ = Jt(a), Ne(a, g, y, !0), a = null), f.patchFlag === -2 && (b = !1, f.dynamicChildren = null), f.dynamicChildren && a && a.dynamicChildren && a.dynamicChildren.hasOnce && (f.dynamicChildren === Ze && (f.dynamicChildren = []), f.dynamicChildren.hasOnce = !0);
    const { type: m, ref: k, shapeFlag: A } = f;
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
        Pr(
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
        ) : A & 6 ? Lr(
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
    k != null && g ? Dt(k, a && a.ref, y, f || a, !f) : k == null && a && a.ref != null && Dt(a.ref, null, y, a, !0);
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
        m && m._beginPatch(), Rr(
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
    const { props: k, shapeFlag: A, transition: E, dirs: D } = a;
    if (b = a.el = o(
      a.type,
      y,
      k && k.is,
      k
    ), A & 8 ? u(b, a.children) : A & 16 && ct(
      a.children,
      b,
      null,
      _,
      g,
      jn(a, y),
      x,
      S
    ), D && ze(a, null, _, "created"), Ue(b, a, a.scopeId, x, _), k) {
      for (const q in k)
        q !== "value" && !Ot(q) && r(b, q, null, k[q], y, _);
      "value" in k && r(b, "value", null, k.value, y), (m = k.onVnodeBeforeMount) && ve(m, _, a);
    }
    D && ze(a, null, _, "beforeMount");
    const j = rl(g, E);
    j ? E.beforeEnter(b) : E && !E.persisted && (b[ll] = !0), s(b, f, h), ((m = k && k.onVnodeMounted) || j || D) && ie(() => {
      m && ve(m, _, a), j && E.enter(b), D && ze(a, null, _, "mounted");
    }, g);
  }, Ue = (a, f, h, _, g) => {
    if (h && T(a, h), _)
      for (let y = 0; y < _.length; y++)
        T(a, _[y]);
    if (g) {
      let y = g.subTree;
      if (f === y || _r(y.type) && (y.ssContent === f || y.ssFallback === f)) {
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
      const k = a[m] = S ? Re(a[m]) : Te(a[m]);
      I(
        null,
        k,
        f,
        h,
        _,
        g,
        y,
        x,
        S
      );
    }
  }, Rr = (a, f, h, _, g, y, x) => {
    const S = f.el = a.el;
    let { patchFlag: b, dynamicChildren: m, dirs: k } = f;
    b |= a.patchFlag & 16;
    const A = a.props || J, E = f.props || J;
    let D;
    if (h && Ye(h, !1), (D = E.onVnodeBeforeUpdate) && ve(D, h, f, a), k && ze(f, a, h, "beforeUpdate"), h && Ye(h, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    m && (!a.dynamicChildren || a.dynamicChildren.length !== m.length) && (b = 0, x = !1, m = null), (A.innerHTML && E.innerHTML == null || A.textContent && E.textContent == null) && u(S, ""), m ? Tn(
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
        bs(S, A, E, h, g);
      else if (b & 2 && A.class !== E.class && r(S, "class", null, E.class, g), b & 4 && r(S, "style", A.style, E.style, g), b & 8) {
        const j = f.dynamicProps;
        for (let q = 0; q < j.length; q++) {
          const V = j[q], Y = A[V], ee = E[V];
          (ee !== Y || V === "value") && r(S, V, Y, ee, g, h);
        }
      }
      b & 1 && a.children !== f.children && u(S, f.children);
    } else !x && m == null && bs(S, A, E, h, g);
    ((D = E.onVnodeUpdated) || k) && ie(() => {
      D && ve(D, h, f, a), k && ze(f, a, h, "updated");
    }, _);
  }, Tn = (a, f, h, _, g, y, x) => {
    for (let S = 0; S < f.length; S++) {
      const b = a[S], m = f[S], k = b.el || Lt(b), A = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        k && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (b.type === Z || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !At(b, m) || // - In the case of a component, it could contain anything.
        b.shapeFlag & 198) ? p(k) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          h
        )
      );
      I(
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
  }, bs = (a, f, h, _, g) => {
    if (f !== h) {
      if (f !== J)
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
  }, Pr = (a, f, h, _, g, y, x, S, b) => {
    const m = f.el = a ? a.el : l(""), k = f.anchor = a ? a.anchor : l("");
    let { patchFlag: A, dynamicChildren: E, slotScopeIds: D } = f;
    D && (S = S ? S.concat(D) : D), a == null ? (s(m, h, _), s(k, h, _), ct(
      // #10007
      // such fragment like `<></>` will be compiled into
      // a fragment which doesn't have a children.
      // In this case fallback to an empty array
      f.children || [],
      h,
      k,
      g,
      y,
      x,
      S,
      b
    )) : A > 0 && A & 64 && E && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    a.dynamicChildren && a.dynamicChildren.length === E.length ? (Tn(
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
    (f.key != null || g && f === g.subTree) && mr(
      a,
      f,
      !0
      /* shallow */
    )) : En(
      a,
      f,
      h,
      k,
      g,
      y,
      x,
      S,
      b
    );
  }, Lr = (a, f, h, _, g, y, x, S, b) => {
    f.slotScopeIds = S, a == null ? f.shapeFlag & 512 ? g.ctx.activate(
      f,
      h,
      _,
      x,
      b
    ) : ws(
      f,
      h,
      _,
      g,
      y,
      x,
      b
    ) : jr(a, f, b);
  }, ws = (a, f, h, _, g, y, x) => {
    const S = a.component = gl(
      a,
      _,
      g
    );
    if (rr(a) && (S.ctx.renderer = xt), yl(S, !1, x), S.asyncDep) {
      if (g && g.registerDep(
        S,
        Ss,
        x,
        y
      ), !a.el) {
        const b = S.subTree = Fe(we);
        w(null, b, f, h), a.placeholder = b.el;
      }
    } else
      Ss(
        S,
        a,
        f,
        h,
        g,
        y,
        x
      );
  }, jr = (a, f, h) => {
    const _ = f.component = a.component;
    if (zo(a, f, h))
      if (_.asyncDep && !_.asyncResolved) {
        f.el = a.el, f.placeholder = a.placeholder, kn(_, f, h);
        return;
      } else
        _.next = f, _.update();
    else
      f.el = a.el, f.placeholder = a.placeholder, _.vnode = f;
  }, Ss = (a, f, h, _, g, y, x) => {
    const S = () => {
      if (a.isMounted) {
        let { next: A, bu: E, u: D, parent: j, vnode: q } = a;
        {
          const Se = yr(a);
          if (Se) {
            A && (A.el = q.el, kn(a, A, x)), Se.asyncDep.then(() => {
              const Me = () => {
                a.job.flags & 8 || (g && g.pendingBranch ? ie(Me, g) : m());
              };
              Me.flags = 48, ie(Me, g);
            });
            return;
          }
        }
        let V = A, Y;
        Ye(a, !1), A ? (A.el = q.el, kn(a, A, x)) : A = q, E && tn(E), (Y = A.props && A.props.onVnodeBeforeUpdate) && ve(Y, j, A, q), Ye(a, !0);
        const ee = Vs(a), ge = a.subTree;
        a.subTree = ee, I(
          ge,
          ee,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          p(
            ge.el || Lt(ge)
          ),
          // anchor may have changed if it's in a fragment
          Jt(ge),
          a,
          g,
          y
        ), A.el = ee.el, V === null && Yo(a, ee.el), D && ie(D, g), (Y = A.props && A.props.onVnodeUpdated) && ie(
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
          const Se = a.subTree = Vs(a);
          I(
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
    const b = a.effect = new Pi(S);
    a.scope.off();
    const m = a.update = b.run.bind(b), k = a.job = b.runIfDirty.bind(b);
    k.i = a, k.id = a.uid, b.scheduler = () => gs(k), Ye(a, !0), m();
  }, kn = (a, f, h) => {
    f.component = a;
    const _ = a.vnode.props;
    a.vnode = f, a.next = null, Qo(a, f.props, _, h), nl(a, f.children, h), Be(), er(a), Ge();
  }, En = (a, f, h, _, g, y, x, S, b = !1) => {
    const m = a && a.children, k = a ? a.shapeFlag : 0, A = f.children, { patchFlag: E, shapeFlag: D } = f;
    if (E > 0) {
      if (E & 128) {
        xs(
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
        Fr(
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
    D & 8 ? (k & 16 && St(m, g, y), A !== m && u(h, A)) : k & 16 ? D & 16 ? xs(
      m,
      A,
      h,
      _,
      g,
      y,
      x,
      S,
      b
    ) : St(m, g, y, !0) : (k & 8 && u(h, ""), D & 16 && ct(
      A,
      h,
      _,
      g,
      y,
      x,
      S,
      b
    ));
  }, Fr = (a, f, h, _, g, y, x, S, b) => {
    a = a || Ze, f = f || Ze;
    const m = a.length, k = f.length, A = Math.min(m, k);
    let E;
    for (E = 0; E < A; E++) {
      const D = f[E] = b ? Re(f[E]) : Te(f[E]);
      I(
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
    m > k ? St(
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
  }, xs = (a, f, h, _, g, y, x, S, b) => {
    let m = 0;
    const k = f.length;
    let A = a.length - 1, E = k - 1;
    for (; m <= A && m <= E; ) {
      const D = a[m], j = f[m] = b ? Re(f[m]) : Te(f[m]);
      if (At(D, j))
        I(
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
      const D = a[A], j = f[E] = b ? Re(f[E]) : Te(f[E]);
      if (At(D, j))
        I(
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
        const D = E + 1, j = D < k ? f[D].el : _;
        for (; m <= E; )
          I(
            null,
            f[m] = b ? Re(f[m]) : Te(f[m]),
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
        const ce = f[m] = b ? Re(f[m]) : Te(f[m]);
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
        xe === void 0 ? Ne(ce, g, y, !0) : (Me[xe - j] = m + 1, xe >= Se ? Se = xe : ge = !0, I(
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
      const Is = ge ? ol(Me) : Ze;
      for (V = Is.length - 1, m = ee - 1; m >= 0; m--) {
        const ce = j + m, xe = f[ce], Ts = f[ce + 1], ks = ce + 1 < k ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          Ts.el || Lt(Ts)
        ) : _;
        Me[m] === 0 ? I(
          null,
          xe,
          h,
          ks,
          g,
          y,
          x,
          S,
          b
        ) : ge && (V < 0 || m !== Is[V] ? Gt(xe, h, ks, 2) : V--);
      }
    }
  }, Gt = (a, f, h, _, g = null) => {
    const { el: y, type: x, transition: S, children: b, shapeFlag: m } = a;
    if (m & 6) {
      Gt(a.component.subTree, f, h, _);
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
        Gt(b[A], f, h, _);
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
      shapeFlag: k,
      patchFlag: A,
      dirs: E,
      cacheIndex: D,
      memo: j
    } = a;
    if ((A === -2 || m && m.hasOnce) && (g = !1), S != null && (Be(), Dt(S, null, h, a, !0), Ge()), D != null && (!a.ctx || a.ctx === f) && (f.renderCache[D] = void 0), k & 256 && f.ctx.deactivate(a))
      return;
    const q = k & 1 && E, V = !Rt(a);
    let Y;
    if (V && (Y = x && x.onVnodeBeforeUnmount) && ve(Y, f, a), k & 6)
      Vr(a.component, h, _);
    else {
      if (k & 128) {
        a.suspense.unmount(h, _);
        return;
      }
      q && ze(a, null, f, "beforeUnmount"), k & 64 ? a.type.remove(
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
      ) : (y === Z && A & 384 || !g && k & 16) && St(b, f, h), _ && vs(a);
    }
    const ee = j != null && D == null;
    (V && (Y = x && x.onVnodeUnmounted) || q || ee) && ie(() => {
      Y && ve(Y, f, a), q && ze(a, null, f, "unmounted"), ee && (a.el = null);
    }, h);
  }, vs = (a) => {
    const { type: f, el: h, anchor: _, transition: g } = a, y = f === Z;
    if (y && !g) {
      As(h, _);
      return;
    }
    if (f === Fn) {
      $(a), g && !g.persisted && g.afterLeave && g.afterLeave();
      return;
    }
    const x = y ? Qn(a) : a, S = () => {
      y ? p(h) && As(h, _) : i(h), g && !g.persisted && g.afterLeave && g.afterLeave();
    };
    if (x && x.shapeFlag & 1 && g && !g.persisted) {
      const { leave: b, delayLeave: m } = g, k = x.el, A = () => b(k, S);
      m ? m(k, S, A) : A();
    } else
      S();
  }, As = (a, f) => {
    let h;
    for (; a !== f; )
      h = C(a), i(a), a = h;
    i(f);
  }, Vr = (a, f, h) => {
    const { bum: _, scope: g, job: y, subTree: x, um: S, m: b, a: m } = a;
    Ws(b), Ws(m), _ && tn(_), g.stop(), y ? (y.flags |= 8, Ne(x, a, f, h)) : x && (x.transition = a.vnode.transition, Ne(x, a, f, h)), S && ie(S, f);
    const k = () => {
      a.isUnmounted = !0;
    };
    k.flags = 16, ie(k, f);
  }, St = (a, f, h, _ = !1, g = !1, y = 0) => {
    for (let x = y; x < a.length; x++)
      Ne(a[x], f, h, _, g);
  }, Jt = (a) => {
    if (a.shapeFlag & 6)
      return Jt(a.component.subTree);
    if (a.shapeFlag & 128)
      return a.suspense.next();
    const f = C(a.anchor || a.el), h = f && f[Lo];
    return h ? C(h) : f;
  }, Cs = (a, f, h) => {
    const _ = a && f._vnode ? void 0 : a && a.component ? a.component.uid : pl();
    No(() => {
      a == null ? f._vnode && Ne(f._vnode, null, null, !0) : I(
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
    p: I,
    um: Ne,
    m: Gt,
    r: vs,
    mt: ws,
    mc: ct,
    pc: En,
    pbc: Tn,
    n: Jt,
    o: e
  };
  return {
    render: Cs,
    hydrate: void 0,
    createApp: Wo(Cs)
  };
}
function jn({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function Ye({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function rl(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function mr(e, t, n = !1) {
  const s = e.children, i = t.children;
  if (R(s) && R(i))
    for (let r = 0; r < s.length; r++) {
      const o = s[r];
      let l = i[r];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = i[r] = Re(i[r]), l.el = o.el), !n && l.patchFlag !== -2 && mr(o, l)), l.type === Cn && (l.patchFlag === -1 && (l = i[r] = Re(l)), l.el = o.el), l.type === we && !l.el && (l.el = o.el);
    }
}
function ol(e) {
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
function yr(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : yr(t);
}
function Ws(e) {
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
const _r = (e) => e.__isSuspense, ll = /* @__PURE__ */ Symbol("_deferredEnter");
function cl(e, t) {
  t && t.pendingBranch ? R(e) ? t.effects.push(...e) : t.effects.push(e) : Oo(e);
}
const Z = /* @__PURE__ */ Symbol.for("v-fgt"), Cn = /* @__PURE__ */ Symbol.for("v-txt"), we = /* @__PURE__ */ Symbol.for("v-cmt"), Fn = /* @__PURE__ */ Symbol.for("v-stc"), st = [];
let ae = null;
function H(e = !1) {
  st.push(ae = e ? null : []);
}
function br() {
  st.pop(), ae = st[st.length - 1] || null;
}
let qt = 1;
function Ks(e, t = !1) {
  qt += e, e < 0 && ae && t && (ae.hasOnce = !0);
}
function wr(e) {
  return e.dynamicChildren = qt > 0 ? ae || Ze : null, br(), qt > 0 && ae && ae.push(e), e;
}
function G(e, t, n, s, i, r) {
  return wr(
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
function al(e, t, n, s, i) {
  return wr(
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
function _s(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function At(e, t) {
  return e.type === t.type && e.key === t.key;
}
const Sr = ({ key: e }) => e ?? null, nn = ({
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
    key: t && Sr(t),
    ref: t && nn(t),
    scopeId: sr,
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
const Fe = fl;
function fl(e, t = null, n = null, s = 0, i = null, r = !1) {
  if ((!e || e === Vo) && (e = we), _s(e)) {
    const l = _t(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && un(l, n), qt > 0 && !r && ae && (l.shapeFlag & 6 ? ae[ae.indexOf(e)] = l : ae.push(l)), l.patchFlag = -2, l;
  }
  if (Sl(e) && (e = e.__vccOpts), t) {
    t = ul(t);
    let { class: l, style: c } = t;
    l && !X(l) && (t.class = Ae(l)), z(c) && (/* @__PURE__ */ ps(c) && !R(c) && (c = he({}, c)), t.style = wn(c));
  }
  const o = X(e) ? 1 : _r(e) ? 128 : vn(e) ? 64 : z(e) ? 4 : W(e) ? 2 : 0;
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
function ul(e) {
  return e ? /* @__PURE__ */ ps(e) ? he({}, e) : ur(e) ? he({}, e[Ir] || e) : e : null;
}
function _t(e, t, n = !1, s = !1) {
  const { props: i, ref: r, patchFlag: o, children: l, transition: c } = e, d = t ? dl(i || {}, t) : i, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: d,
    key: d && Sr(d),
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
  return t ? (H(), al(we, null, e)) : Fe(we, null, e);
}
function Te(e) {
  return e == null || typeof e == "boolean" ? Fe(we) : R(e) ? Fe(
    Z,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : _s(e) ? Re(e) : Fe(Cn, null, String(e));
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
      !i && !ur(t) ? t._ctx = ue : i === 3 && ue && (ue.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
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
function dl(...e) {
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
const hl = /* @__PURE__ */ or();
let xr = 0;
function pl() {
  return xr;
}
function gl(e, t, n) {
  const s = e.type, i = (t ? t.appContext : e.appContext) || hl, r = {
    uid: xr++,
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
    scope: new eo(
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
    propsOptions: Zo(s, i),
    emitsOptions: Bo(s, i),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: J,
    // inheritAttrs
    inheritAttrs: s.inheritAttrs,
    // state
    ctx: J,
    data: J,
    props: J,
    attrs: J,
    slots: J,
    refs: J,
    setupState: J,
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
  return r.ctx = { _: r }, r.root = t ? t.root : r, r.emit = Ho.bind(null, r), e.ce && e.ce(r), r;
}
let bt = null;
const ml = () => bt || ue;
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
const vr = (e) => {
  const t = bt;
  return dn(e), e.scope.on(), () => {
    e.scope.off(), dn(t);
  };
}, Hs = () => {
  bt && bt.scope.off(), dn(null);
};
function Ar(e) {
  return e.vnode.shapeFlag & 4;
}
let hn = !1;
function yl(e, t = !1, n = !1) {
  t && Wt(t);
  const { props: s, children: i } = e.vnode, r = Ar(e);
  Xo(e, s, r, t), tl(e, i, n || t);
  const o = r ? _l(e, t) : void 0;
  return t && Wt(!1), o;
}
function _l(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Uo);
  const { setup: s } = n;
  if (s) {
    Be();
    const i = e.setupContext = s.length > 1 ? wl(e) : null, r = vr(e), o = Bt(
      s,
      e,
      0,
      [
        e.props,
        i
      ]
    ), l = ki(o);
    if (Ge(), r(), (l || e.sp) && !Rt(e) && Fo(e), l) {
      if (o.then(Hs, Hs), t)
        return o.then((c) => {
          Wt(!0);
          try {
            Bs(e, c, t);
          } finally {
            Wt(!1);
          }
        }).catch((c) => {
          xn(c, e, 0, void 0, !0), e.ssrRender = (d, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      Bs(e, o);
  } else
    Cr(e);
}
function Bs(e, t, n) {
  W(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : z(t) && (e.setupState = Xi(t)), Cr(e);
}
function Cr(e, t, n) {
  const s = e.type;
  e.render || (e.render = s.render || tt);
}
const Ir = /* @__PURE__ */ Symbol(), bl = {
  get(e, t) {
    return se(e, "get", ""), t === Ir ? e : e[t];
  }
};
function wl(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, bl),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function In(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(Xi(wo(e.exposed)), {
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
function Sl(e) {
  return W(e) && "__vccOpts" in e;
}
const Ct = (e, t) => /* @__PURE__ */ Co(e, t, hn), xl = "3.5.45";
let ts;
const Gs = typeof window < "u" && window.trustedTypes;
if (Gs)
  try {
    ts = /* @__PURE__ */ Gs.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const Tr = ts ? (e) => ts.createHTML(e) : (e) => e, vl = "http://www.w3.org/2000/svg", Al = "http://www.w3.org/1998/Math/MathML", De = typeof document < "u" ? document : null, Js = De && /* @__PURE__ */ De.createElement("template"), Cl = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, s) => {
    const i = t === "svg" ? De.createElementNS(vl, e) : t === "mathml" ? De.createElementNS(Al, e) : n ? De.createElement(e, { is: n }) : De.createElement(e);
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
      Js.innerHTML = Tr(
        s === "svg" ? `<svg>${e}</svg>` : s === "mathml" ? `<math>${e}</math>` : e
      );
      const l = Js.content;
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
}, Il = /* @__PURE__ */ Symbol("_vtc");
function Tl(e, t, n) {
  const s = e[Il];
  s && (t = (t ? [t, ...s] : [...s]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const zs = /* @__PURE__ */ Symbol("_vod"), kl = /* @__PURE__ */ Symbol("_vsh"), El = /* @__PURE__ */ Symbol(""), Ol = /(?:^|;)\s*display\s*:/;
function Nl(e, t, n) {
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
      l != null ? $l(
        e,
        o,
        !X(t) && t ? t[o] : void 0,
        l
      ) || Et(s, o, l) : Et(s, o, "");
    }
  } else if (i) {
    if (t !== n) {
      const o = s[El];
      o && (n += ";" + o), s.cssText = n, r = Ol.test(n);
    }
  } else t && e.removeAttribute("style");
  zs in e && ((!i || t !== n) && (e[zs] = r ? s.display : ""), e[kl] && (s.display = "none"));
}
const Qt = /\s*!important$/;
function Et(e, t, n) {
  if (R(n))
    n.forEach((s) => Et(e, t, s));
  else if (n == null && (n = ""), t.startsWith("--"))
    Qt.test(n) ? e.setProperty(t, n.replace(Qt, ""), "important") : e.setProperty(t, n);
  else {
    const s = Ml(e, t);
    Qt.test(n) ? e.setProperty(
      ot(s),
      n.replace(Qt, ""),
      "important"
    ) : e[s] = n;
  }
}
const Ys = ["Webkit", "Moz", "ms"], Vn = {};
function Ml(e, t) {
  const n = Vn[t];
  if (n)
    return n;
  let s = _e(t);
  if (s !== "filter" && s in e)
    return Vn[t] = s;
  s = Ni(s);
  for (let i = 0; i < Ys.length; i++) {
    const r = Ys[i] + s;
    if (r in e)
      return Vn[t] = r;
  }
  return t;
}
function $l(e, t, n, s) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && X(s) && n === s;
}
const Xs = "http://www.w3.org/1999/xlink";
function Qs(e, t, n, s, i, r = Yr(t)) {
  s && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(Xs, t.slice(6, t.length)) : e.setAttributeNS(Xs, t, n) : n == null || r && !$i(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    r ? "" : Ee(n) ? String(n) : n
  );
}
function Zs(e, t, n, s, i) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? Tr(n) : n);
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
    l === "boolean" ? n = $i(n) : n == null && l === "string" ? (n = "", o = !0) : l === "number" && (n = 0, o = !0);
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
function Dl(e, t, n, s) {
  e.removeEventListener(t, n, s);
}
const ei = /* @__PURE__ */ Symbol("_vei");
function Rl(e, t, n, s, i = null) {
  const r = e[ei] || (e[ei] = {}), o = r[t];
  if (s && o)
    o.value = s;
  else {
    const [l, c] = jl(t);
    if (s) {
      const d = r[t] = Ul(
        s,
        i
      );
      Qe(e, l, d, c);
    } else o && (Dl(e, l, o, c), r[t] = void 0);
  }
}
const Pl = /(Once|Passive|Capture)$/, Ll = /^on:?(?:Once|Passive|Capture)$/;
function jl(e) {
  let t, n;
  for (; (n = e.match(Pl)) && !Ll.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : ot(e.slice(2)), t];
}
let Un = 0;
const Fl = /* @__PURE__ */ Promise.resolve(), Vl = () => Un || (Fl.then(() => Un = 0), Un = Date.now());
function Ul(e, t) {
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
  return n.value = e, n.attached = Vl(), n;
}
const ti = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, ql = (e, t, n, s, i, r) => {
  const o = i === "svg";
  t === "class" ? Tl(e, s, o) : t === "style" ? Nl(e, n, s) : mn(t) ? yn(t) || Rl(e, t, n, s, r) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : Wl(e, t, s, o)) ? (Zs(e, t, s), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && Qs(e, t, s, o, r, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Kl(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !X(s))) ? Zs(e, _e(t), s, r, t) : (t === "true-value" ? e._trueValue = s : t === "false-value" && (e._falseValue = s), Qs(e, t, s, o));
};
function Wl(e, t, n, s) {
  if (s)
    return !!(t === "innerHTML" || t === "textContent" || t in e && ti(t) && W(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const i = e.tagName;
    if (i === "IMG" || i === "VIDEO" || i === "CANVAS" || i === "SOURCE")
      return !1;
  }
  return ti(t) && X(n) ? !1 : t in e;
}
function Kl(e, t) {
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
function Hl(e) {
  e.target.composing = !0;
}
function ni(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const et = /* @__PURE__ */ Symbol("_assign"), Zt = /* @__PURE__ */ Symbol("_initialValue");
function qn(e, t, n) {
  return t && (e = e.trim()), n && (e = Ht(e)), e;
}
const It = {
  created(e, { modifiers: { lazy: t, trim: n, number: s } }, i) {
    e.parentNode && (e.type === "text" ? e[Zt] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[Zt] = e.defaultValue.replace(/\r\n?/g, `
`))), e[et] = pn(i);
    const r = s || i.props && i.props.type === "number";
    Qe(e, t ? "change" : "input", (o) => {
      o.target.composing || e[et](qn(e.value, n, r));
    }), (n || r) && Qe(e, "change", () => {
      e.value = qn(e.value, n, r);
    }), t || (Qe(e, "compositionstart", Hl), Qe(e, "compositionend", ni), Qe(e, "change", ni));
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
}, Bl = {
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
    si(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[et] = pn(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const s = e._pendingValue;
    e._pendingValue = void 0, (!s || s[0] !== e.multiple || !Gl(t, s[1], s[0])) && si(e, t, n);
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
function si(e, t, n = !1) {
  const s = e.multiple, i = R(t);
  if (!(s && !i && !rt(t))) {
    for (let r = 0, o = e.options.length; r < o; r++) {
      const l = e.options[r], c = gn(l);
      if (s)
        if (i) {
          const d = typeof c;
          d === "string" || d === "number" ? l.selected = t.some((u) => String(u) === String(c)) : l.selected = Zr(t, c) > -1;
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
const Jl = ["ctrl", "shift", "alt", "meta"], zl = {
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
  exact: (e, t) => Jl.some((n) => e[`${n}Key`] && !t.includes(n))
}, ii = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), s = t.join(".");
  return n[s] || (n[s] = ((i, ...r) => {
    for (let o = 0; o < t.length; o++) {
      const l = zl[t[o]];
      if (l && l(i, t)) return;
    }
    return e(i, ...r);
  }));
}, Yl = /* @__PURE__ */ he({ patchProp: ql }, Cl);
let ri;
function Xl() {
  return ri || (ri = sl(Yl));
}
const Ql = ((...e) => {
  const t = Xl().createApp(...e), { mount: n } = t;
  return t.mount = (s) => {
    const i = ec(s);
    if (!i) return;
    const r = t._component;
    !W(r) && !r.render && !r.template && (r.template = i.innerHTML), i.nodeType === 1 && (i.textContent = "");
    const o = n(i, !1, Zl(i));
    return i instanceof Element && (i.removeAttribute("v-cloak"), i.setAttribute("data-v-app", "")), o;
  }, t;
});
function Zl(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function ec(e) {
  return X(e) ? document.querySelector(e) : e;
}
const tc = "/comfyd/connection";
function nc(e, t) {
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
function kr(e, t) {
  return `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
class sc {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(tc).then(
      (t) => nc(t, this.location),
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
function Er(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const Or = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function jt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || (Or(e).find((s) => String(s.id) === String(t)) ?? null);
}
function oi(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function ic(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function rc(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function oc(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function lc(e, t) {
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
    let l = cc(s, o);
    (o.includes(s) || s.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(s.length / 3)) && i.push([l, r]);
  }
  return i.sort((r, o) => r[0] - o[0] || String(r[1]).localeCompare(String(o[1]))), i.slice(0, n).map((r) => r[1]);
}
const li = 128;
function cc(e, t) {
  if (e.length > li || t.length > li) return 1 / 0;
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
class ns extends Error {
  constructor(t, n, s = []) {
    super(n), this.code = t, this.suggestions = s;
  }
}
const L = (e, t, n) => {
  throw new ns(e, t, n);
}, wt = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function Tt(e, t, n = fe.name, { optional: s = !1 } = {}) {
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
function ci(e, t) {
  if (wt(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((s) => s in e);
    n.length !== 1 && L("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || L("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > fe.text && L("VALUE_INVALID", `${t} is longer than ${fe.text} characters`), e) : L("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const sn = {
  create_node(e) {
    const t = {
      node_type: Tt(e.node_type, "node_type"),
      x: en(e.x, "x", { optional: !0 }),
      y: en(e.y, "y", { optional: !0 }),
      ref: Tt(e.ref, "ref", fe.ref, { optional: !0 }),
      title: Tt(e.title, "title", fe.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || L("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      wt(e.widgets) || L("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > fe.widgets && L("INVALID_COMMAND", `more than ${fe.widgets} widgets`);
      for (const s of n) t.widgets.push([Tt(s, "widget name"), ci(e.widgets[s], `widgets.${s}`)]);
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
    name: Tt(e.name, "name"),
    value: ci(e.value, "value")
  }),
  move_node: (e) => ({ node_id: dt(e.node_id, "node_id"), x: en(e.x, "x"), y: en(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({})
}, Nr = Object.freeze(Object.keys(sn)), ac = new Set(Nr.filter((e) => e !== "get_graph"));
function fc(e) {
  wt(e) || L("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const s = Object.keys(e).filter((i) => Object.hasOwn(sn, i));
    s.length !== 1 && L("INVALID_COMMAND", "missing field: type"), t = s[0], n = wt(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(sn, t)) && L("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${Nr.join(", ")}`), { type: t, ...sn[t](n) };
}
const uc = /* @__PURE__ */ new Set(["number", "slider", "knob"]), dc = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function hc(e, t, n) {
  const s = String(e.type ?? ""), i = e.options ?? {};
  if (s === "combo") {
    const r = lc(e, t);
    return r && !r.some((o) => o === n) && L("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${r.length} options of ${e.name}`, gt(n, r.filter((o) => typeof o == "string"))), n;
  }
  return uc.has(s) ? (typeof n != "number" && L("VALUE_INVALID", `${e.name} takes a number`), i.precision === 0 && !Number.isInteger(n) && L("VALUE_INVALID", `${e.name} takes an integer`), typeof i.min == "number" && n < i.min && L("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${i.min}`), typeof i.max == "number" && n > i.max && L("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${i.max}`), n) : s === "toggle" || s === "boolean" ? (typeof n != "boolean" && L("VALUE_INVALID", `${e.name} takes true or false`), n) : dc.has(s) ? (typeof n != "string" && L("VALUE_INVALID", `${e.name} takes a string`), n) : (s === "button" && L("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function pc(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function ai(e, t, n, s) {
  const i = rc(t, n);
  i || L("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, gt(n, oc(t)));
  const r = hc(i, t, s), o = i.value;
  i.value = r;
  try {
    i.callback?.call(i, i.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(i.name, i.value, o, i);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return pc(i);
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
function gc(e) {
  if (typeof e.place == "function") {
    const n = e.place(e.placed++);
    if (Array.isArray(n)) return n;
  }
  const t = e.placed++;
  return [100 + 40 * t, 100 + 40 * t];
}
const mc = {
  create_node(e, t) {
    const { graph: n, LiteGraph: s } = e, i = s.createNode(t.node_type);
    if (!i) {
      const o = Object.keys(s.registered_node_types ?? {});
      L("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, gt(t.node_type, o));
    }
    t.title && (i.title = t.title), i.pos = t.x !== null && t.y !== null ? [t.x, t.y] : gc(e);
    const r = e.expectedId;
    Number.isSafeInteger(r) && r > 0 && !jt(n, r) && (i.id = r), n.add(i), jt(n, i.id) || L("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [o, l] of t.widgets) ai(e, i, o, l);
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
    const n = ht(e, t.from_id, "from_id"), s = ht(e, t.to_id, "to_id"), i = ic(n, t.from_slot);
    i < 0 && L(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? gt(t.from_slot, (n.outputs ?? []).map((d) => d.name)) : []
    );
    const r = oi(s, t.to_slot);
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
    const n = ht(e, t.node_id, "node_id"), s = oi(n, t.slot);
    s < 0 && L(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? gt(t.slot, (n.inputs ?? []).map((r) => r.name)) : []
    );
    const i = n.inputs[s].link;
    return i == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(s), n.inputs[s].link !== null && n.inputs[s].link !== void 0 && L("EDITOR_FAILED", `input ${s} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: i });
  },
  set_widget(e, t) {
    const n = ht(e, t.node_id, "node_id"), s = ai(e, n, t.name, t.value);
    return s === void 0 ? { node_id: n.id } : { node_id: n.id, value: s };
  },
  move_node(e, t) {
    const n = ht(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of Or(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  }
}, yc = "BATCH_MODE_PARTIAL";
function _c(e) {
  return e === yc || e === 2 || String(e).toLowerCase() === "partial";
}
function fi(e, t) {
  const n = t instanceof ns ? t.code : "EDITOR_FAILED", s = t instanceof ns ? t.message : `command failed: ${t?.message ?? String(t)}`, i = { code: n, message: s.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (i.suggestions = t.suggestions), { index: e, ok: !1, error: i };
}
function bc(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > fe.commands)
    return { ok: !1, error: `more than ${fe.commands} commands`, results: [], applied: !1 };
  const s = e.graph, i = _c(t?.mode), r = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), placed: 0, expectedId: void 0 }, l = s.serialize(), c = je(l), d = new Array(n.length);
  let u = 0, p = -1;
  for (let O = 0; O < n.length; O++) {
    let I;
    try {
      I = fc(n[O]);
    } catch (w) {
      if (d[O] = fi(O, w), !i) {
        p = O;
        break;
      }
      continue;
    }
    o.expectedId = I.type === "create_node" ? r[u++] : void 0;
    const v = i && ac.has(I.type) && O > 0 ? s.serialize() : null;
    try {
      d[O] = { index: O, ok: !0, ...mc[I.type](o, I) };
    } catch (w) {
      if (d[O] = fi(O, w), !i) {
        p = O;
        break;
      }
      const M = v ?? l;
      je(s.serialize()) !== je(M) && ui(s, M);
    }
  }
  if (p >= 0) {
    je(s.serialize()) !== c && ui(s, l);
    const O = `not applied: command ${p} failed and the patch is atomic (the graph was rolled back)`;
    for (let I = 0; I < n.length; I++)
      I !== p && (d[I] = { index: I, ok: !1, error: { code: "SKIPPED", message: O, index: I } });
    return s.setDirtyCanvas?.(!0, !0), { ok: !1, error: d[p].error.message, results: d, applied: !1 };
  }
  s.setDirtyCanvas?.(!0, !0);
  const C = d.every((O) => O.ok), T = d.find((O) => !O.ok);
  return {
    ok: C,
    error: C ? "" : T.error.message,
    results: d,
    applied: je(s.serialize()) !== c
  };
}
function ui(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
function wc(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function Sc(e, t) {
  const n = wc(e);
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
const xc = 1e3, vc = 1500, Ac = 120, Cc = 480 * 1024, Kn = "the tab has switched to another workflow; this canvas is no longer open in it", Ic = 200, Tc = 50, kc = 1e4, Ec = 1e3, Oc = 128, di = 1024 * 1024 - 1024;
function Nc(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function Hn(e, t) {
  const n = String(t || "workflow"), s = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${s}~${Nc(n)}`.slice(0, Oc);
}
function Mc(e, t = Cc) {
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
function $c(e, t = () => Math.random().toString(36).slice(2, 10)) {
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
class Dc {
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), vc), this.connect());
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
    const t = Er(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Tc : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, Ic);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = Mc(await this.d.objectInfo?.());
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
      n = new this.d.WebSocket(kr(t, "/comfy/editor/ws"));
    } catch (s) {
      this.log("warn", `comfyd: cannot open the editor socket (${s?.message ?? s})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (s?.code === xc) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = Hn(this.d.tabId, this.workflowKey()), this.lastSig = je(t), this.tabRevision += 1;
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
    return s.length > di && new TextEncoder().encode(s).length > di ? (this.log("error", `comfyd: a ${t.type} message is larger than the bridge accepts`), !1) : (n.send(s), !0);
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
    return Hn(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
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
      s = Sc(this.d.app, () => bc(n, t));
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
      results: (s.results ?? []).filter(Boolean).map(Rc),
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
    const { app: n, api: s } = this.d, i = [];
    let r = "";
    const o = s.queuePrompt;
    s.queuePrompt = async function(...d) {
      try {
        const u = await o.apply(this, d);
        return i.push(u), u;
      } catch (u) {
        throw r = hi(u), u;
      }
    };
    try {
      const d = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, d);
    } catch (d) {
      r = r || hi(d);
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
    }, Ac);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < kc || this.d.app.configuringGraph) return;
    if (Hn(this.d.tabId, this.workflowKey()) !== this.canvasId) {
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
    if (!(this.focused && t - this.focusSentAt < Ec)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function hi(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, s = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${s.length ? ` (nodes ${s.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function Rc(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const pi = 500, gi = 200;
function it(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function Mr() {
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
function $r(e, t = "") {
  Object.assign(e, Mr(), { sessionId: t });
}
function mi(e, t) {
  const n = Number(t) || 0;
  for (let s = e.turns.length - 1; s >= 0; s--) if (e.turns[s].id === n) return e.turns[s];
  return null;
}
function yt(e, t) {
  let n = mi(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let s = e.turns.length;
  for (; s > 0 && e.turns[s - 1].id > n.id; ) s--;
  return e.turns.splice(s, 0, n), e.turns.length > gi && e.turns.splice(0, e.turns.length - gi), mi(e, n.id) ?? n;
}
function rn(e, t) {
  const n = t || "assistant";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function kt(e, t) {
  e.logs.push(t), e.logs.length > pi && e.logs.splice(0, e.logs.length - pi);
}
function yi(e, t) {
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
function _i(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = it(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function Pc(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function Lc(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, s = t.data && typeof t.data == "object" ? t.data : {}, i = Pc(t);
  if (s.session_id && e.sessionId && s.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (i && i < e.lastSeq) return !1;
    const r = e.logs, o = s.session?.id ?? e.sessionId;
    $r(e, o), e.logs = r, _i(e, s.session), s.status !== void 0 && (e.status = it(s.status, "SESSION_STATUS_") || e.status);
    for (const l of Array.isArray(s.history) ? s.history : []) yi(e, l);
    for (const l of Array.isArray(s.partials) ? s.partials : []) {
      const c = rn(yt(e, l.turn_id), l.skill);
      c.final || (c.content = String(l.content ?? ""), c.next = Number(l.delta_count) || 0, c.state = "streaming");
    }
    return e.lastSeq = i || e.lastSeq, e.needsResync = !1, !0;
  }
  if (["created", "configured", "sessions", "skills", "ack", "cancelled"].includes(n))
    return n === "configured" && s.session && _i(e, s.session), !1;
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
      return yi(e, s.message), !0;
    case "debug_log":
      return kt(e, {
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
      return kt(e, { seq: i, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return s.config && (e.config = s.config), typeof s.title == "string" && (e.title = s.title), !0;
    case "tool_call":
      return kt(e, { seq: i, level: "INFO", module: "tool", skill: String(s.skill ?? ""), message: `${s.name ?? "tool"}(${String(s.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return kt(e, { seq: i, level: s.ok ? "INFO" : "WARN", module: "tool", skill: String(s.skill ?? ""), message: `${s.call_id ?? ""} -> ${String(s.result_json ?? "").slice(0, 300)}` }), !0;
    case "graph_changed":
      return kt(e, { seq: i, level: "INFO", module: "graph", skill: "", message: `${s.canvas_id ?? ""} r${s.revision ?? ""}: ${s.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function jc(e, t, n) {
  const s = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(s), s;
}
function Fc(e, t, n) {
  const s = e.turns.findIndex((o) => o.pending && o.clientId === t), i = s >= 0 ? e.turns.splice(s, 1)[0] : null;
  if (!n?.id) return;
  const r = yt(e, n.id);
  r.content || (r.content = String(n.content ?? i?.content ?? "")), r.state || (r.state = it(n.state, "MESSAGE_STATE_"));
}
function Vc(e, t, n) {
  const s = e.turns.find((i) => i.pending && i.clientId === t);
  s && (s.state = "failed", s.error = String(n ?? "not sent"));
}
function bi(e, t = []) {
  const n = [];
  for (const s of t) e.replies[s] && n.push(s);
  for (const s of e.order) n.includes(s) || n.push(s);
  return n.map((s) => e.replies[s]);
}
const Uc = 15e3;
class qc {
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
      n = new this.d.WebSocket(kr(t, "/comfy/session/ws"));
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
    }, Er(this.attempt++)));
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
      }, Uc);
      this.pending.set(s, { resolve: i, reject: r, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && $r(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
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
    Lc(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
}
const Dr = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), Wc = Object.freeze(["echo", "openai"]), wi = 64 * 1024, Bn = 4096, Kc = 64 * 1024;
function Hc(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let Si = 0;
function Bc() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return Si += 1, `panel-${e}-${Si}`;
}
class Gc {
  /**
   * deps: {connection, WebSocket, reactive, timers?, log?,
   *        readConfig(): {name: value}, writeConfig(name, value)}
   */
  constructor(t) {
    this.d = t;
    const n = t.reactive ?? ((s) => s);
    this.state = n(Mr()), this.ui = n({
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
    }), this.client = new qc({
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
      skills: Hc(n.skills)
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
      provider: t.provider.slice(0, Bn),
      model: t.model.slice(0, Bn),
      base_url: t.base_url.slice(0, Bn),
      system_prompt: t.system_prompt.slice(0, Kc)
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
    if (t.length > wi) {
      this.ui.notice = `a message is at most ${wi} characters`;
      return;
    }
    this.ui.form.session_id || await this.createSession();
    const n = this.ui.form.session_id;
    if (!n) return;
    this.ui.draft = "";
    const s = Bc();
    jc(this.state, s, t);
    try {
      const i = await this.client.request("user_message", { session_id: n, content: t, client_message_id: s });
      Fc(this.state, s, i.message);
    } catch (i) {
      Vc(this.state, s, i.message);
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
const ss = "ComfydAgentPanel", xi = "comfyd-panel-style", vi = [560, 520], Jc = 320, Ai = (e) => e?.comfyClass === ss || e?.type === ss;
function zc(e, t) {
  if (e.getElementById(xi)) return;
  const n = e.createElement("style");
  n.id = xi, n.textContent = t, e.head.appendChild(n);
}
function Yc(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function Xc(e) {
  for (const [t, n] of Dr) {
    let s = (e.widgets ?? []).find((i) => i.name === t);
    s || (s = e.addWidget("text", t, n, () => {
    }, {})), Yc(s);
  }
}
function Qc(e) {
  const t = {};
  for (const [n, s] of Dr) {
    const r = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof r == "string" ? r : s;
  }
  return t;
}
function Zc(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: s } = t;
  zc(s, t.css), Xc(e);
  const i = (u, p) => {
    const C = (e.widgets ?? []).find((T) => T.name === u);
    !C || C.value === p || (C.value = p, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, r = new Gc({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => Qc(e),
    writeConfig: i
  }), o = s.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: r });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const u = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => Jc,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    u.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  Array.isArray(e.size) && e.setSize?.([Math.max(e.size[0], vi[0]), Math.max(e.size[1], vi[1])]);
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
const ea = { class: "cd-bar" }, ta = ["title"], na = ["value", "disabled"], sa = ["value"], ia = {
  class: "cd-status",
  "data-test": "status"
}, ra = ["disabled"], oa = {
  key: 0,
  class: "cd-settings",
  "data-test": "settings-pane"
}, la = ["value"], ca = { class: "cd-wide" }, aa = { class: "cd-wide" }, fa = { class: "cd-hint" }, ua = { class: "cd-row" }, da = ["disabled"], ha = {
  class: "cd-skills",
  "data-test": "skills"
}, pa = ["title"], ga = ["checked", "onChange", "data-skill"], ma = {
  key: 0,
  class: "cd-hint"
}, ya = { class: "cd-main" }, _a = {
  key: 0,
  class: "cd-err"
}, ba = ["data-skill"], wa = { class: "cd-skill" }, Sa = {
  key: 0,
  class: "cd-typing"
}, xa = { class: "cd-text" }, va = {
  key: 0,
  class: "cd-err"
}, Aa = {
  key: 0,
  class: "cd-empty"
}, Ca = {
  key: 0,
  class: "cd-hint"
}, Ia = {
  key: 1,
  class: "cd-notice",
  "data-test": "notice"
}, Ta = { class: "cd-input" }, ka = ["disabled"], Ea = ["disabled"], Oa = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, s = t.ctl.ui, i = Ct(() => s.connected ? s.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), r = Ct(() => s.connected && n.status === "working"), o = Ct(() => s.form.skills), l = Ct(() => !!n.config?.api_key_set), c = Ct(() => {
      const I = [...s.sessions];
      return s.form.session_id && !I.some((v) => v.id === s.form.session_id) && I.unshift({ id: s.form.session_id, title: n.title || s.form.session_id }), I;
    }), d = /* @__PURE__ */ Ps(null), u = /* @__PURE__ */ Ps(null), p = (I) => {
      I && (I.scrollTop = I.scrollHeight);
    };
    Ls(
      () => [n.turns.length, n.lastSeq],
      () => cn(() => p(d.value))
    ), Ls(
      () => n.logs.length,
      () => cn(() => p(u.value))
    );
    function C(I) {
      const v = I.target.value;
      v === "__new__" ? t.ctl.createSession() : v && t.ctl.selectSession(v);
    }
    function T(I) {
      I.key === "Enter" && !I.shiftKey && !I.isComposing && (I.preventDefault(), t.ctl.send());
    }
    function O(I) {
      I.stopPropagation();
    }
    return (I, v) => (H(), G("div", {
      class: "comfyd-panel",
      onKeydown: O,
      onKeyup: O,
      onWheel: v[15] || (v[15] = ii(() => {
      }, ["stop"])),
      onContextmenu: v[16] || (v[16] = ii(() => {
      }, ["stop"]))
    }, [
      P("div", ea, [
        P("span", {
          class: Ae(["cd-dot", "cd-" + i.value.replace(" ", "-")]),
          title: N(n).statusDetail || i.value
        }, null, 10, ta),
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
          (H(!0), G(Z, null, ut(c.value, (w) => (H(), G("option", {
            key: w.id,
            value: w.id
          }, Q(w.title), 9, sa))), 128)),
          v[18] || (v[18] = P("option", { value: "__new__" }, "+ new session", -1))
        ], 40, na),
        P("span", ia, [
          le(Q(i.value), 1),
          N(n).queuedTurns ? (H(), G(Z, { key: 0 }, [
            le(" · " + Q(N(n).queuedTurns) + " queued", 1)
          ], 64)) : me("", !0)
        ]),
        P("button", {
          class: "cd-btn",
          disabled: !r.value,
          onClick: v[0] || (v[0] = (w) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, ra),
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
      N(s).showSettings ? (H(), G("div", oa, [
        P("label", null, [
          v[19] || (v[19] = le("Provider ", -1)),
          ft(P("select", {
            "onUpdate:modelValue": v[3] || (v[3] = (w) => N(s).form.provider = w),
            onChange: v[4] || (v[4] = (w) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (H(!0), G(Z, null, ut(N(Wc), (w) => (H(), G("option", {
              key: w,
              value: w
            }, Q(w), 9, la))), 128))
          ], 544), [
            [Bl, N(s).form.provider]
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
            [It, N(s).form.model]
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
            [It, N(s).form.base_url]
          ])
        ]),
        P("label", ca, [
          v[22] || (v[22] = le("System prompt ", -1)),
          ft(P("textarea", {
            "onUpdate:modelValue": v[9] || (v[9] = (w) => N(s).form.system_prompt = w),
            rows: "2",
            onChange: v[10] || (v[10] = (w) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [It, N(s).form.system_prompt]
          ])
        ]),
        P("label", aa, [
          v[23] || (v[23] = le("API key ", -1)),
          P("span", fa, Q(l.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          P("span", ua, [
            ft(P("input", {
              "onUpdate:modelValue": v[11] || (v[11] = (w) => N(s).apiKey = w),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [It, N(s).apiKey]
            ]),
            P("button", {
              class: "cd-btn",
              onClick: v[12] || (v[12] = (w) => e.ctl.setApiKey()),
              disabled: !N(s).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, da)
          ])
        ])
      ])) : me("", !0),
      P("div", ha, [
        (H(!0), G(Z, null, ut(N(s).skills, (w) => (H(), G("label", {
          key: w.name,
          class: Ae(["cd-chip", { "cd-on": o.value.includes(w.name) }]),
          title: w.description
        }, [
          P("input", {
            type: "checkbox",
            checked: o.value.includes(w.name),
            onChange: (M) => e.ctl.toggleSkill(w.name, M.target.checked),
            "data-skill": w.name
          }, null, 40, ga),
          le(" " + Q(w.name), 1)
        ], 10, pa))), 128)),
        N(s).skills.length ? me("", !0) : (H(), G("span", ma, Q(N(s).connected ? "no skills loaded" : "connecting to comfyd…"), 1))
      ]),
      P("div", ya, [
        P("div", {
          ref_key: "chat",
          ref: d,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          (H(!0), G(Z, null, ut(N(n).turns, (w) => (H(), G("div", {
            key: w.pending ? w.clientId : w.id,
            class: "cd-turn"
          }, [
            P("div", {
              class: Ae(["cd-user", { "cd-failed": w.state === "failed" }])
            }, [
              v[24] || (v[24] = P("span", { class: "cd-who" }, "you", -1)),
              le(Q(w.content) + " ", 1),
              w.error ? (H(), G("span", _a, " — " + Q(w.error), 1)) : me("", !0)
            ], 2),
            P("div", {
              class: "cd-replies",
              style: wn({ "--cols": Math.max(1, N(bi)(w, o.value).length) })
            }, [
              (H(!0), G(Z, null, ut(N(bi)(w, o.value), (M) => (H(), G("div", {
                key: M.skill,
                class: Ae(["cd-reply", "cd-" + M.state]),
                "data-skill": M.skill
              }, [
                P("div", wa, [
                  le(Q(M.skill), 1),
                  M.state === "streaming" ? (H(), G("span", Sa, "…")) : me("", !0)
                ]),
                P("div", xa, Q(M.content), 1),
                M.error ? (H(), G("div", va, Q(M.error), 1)) : me("", !0)
              ], 10, ba))), 128))
            ], 4)
          ]))), 128)),
          N(n).turns.length ? me("", !0) : (H(), G("div", Aa, Q(N(s).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        N(s).showLog ? (H(), G("div", {
          key: 0,
          ref_key: "logBox",
          ref: u,
          class: "cd-log",
          "data-test": "log"
        }, [
          (H(!0), G(Z, null, ut(N(n).logs, (w, M) => (H(), G("div", {
            key: w.seq + ":" + M,
            class: Ae("cd-l-" + w.level)
          }, [
            P("b", null, Q(w.level), 1),
            le(" " + Q(w.module), 1),
            w.skill ? (H(), G(Z, { key: 0 }, [
              le(" [" + Q(w.skill) + "]", 1)
            ], 64)) : me("", !0),
            le(": " + Q(w.message), 1)
          ], 2))), 128)),
          N(n).logs.length ? me("", !0) : (H(), G("div", Ca, "no debug output yet"))
        ], 512)) : me("", !0)
      ]),
      N(s).notice || N(n).lastError ? (H(), G("div", Ia, Q(N(s).notice || N(n).lastError.code + ": " + N(n).lastError.message), 1)) : me("", !0),
      P("div", Ta, [
        ft(P("textarea", {
          "onUpdate:modelValue": v[13] || (v[13] = (w) => N(s).draft = w),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !N(s).connected,
          onKeydown: T,
          "data-test": "input"
        }, null, 40, ka), [
          [It, N(s).draft]
        ]),
        P("button", {
          class: "cd-btn cd-send",
          disabled: !N(s).connected || !N(s).draft.trim(),
          onClick: v[14] || (v[14] = (w) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, Ea)
      ])
    ], 32));
  }
}, Na = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline{background:#c84a4a}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}", Ma = "comfyd.canvas", $a = 1500;
function Ci() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function is(e, t) {
  (console[e] ?? console.log)(t);
}
function Da(e) {
  const t = Ci();
  if (t) return e(t, !1);
  let n = 0;
  const s = setInterval(() => {
    const i = Ci();
    (i || ++n > $a) && (clearInterval(s), i ? e(i, !0) : is("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function Ra({ app: e, api: t }, n) {
  const s = new sc({
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
  }), i = new Dc({
    app: e,
    api: t,
    LiteGraph: window.LiteGraph,
    connection: s,
    WebSocket: window.WebSocket,
    tabId: $c(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: is,
    isPanelNode: Ai
  }), r = {
    app: e,
    connection: s,
    WebSocket: window.WebSocket,
    createApp: Ql,
    reactive: ds,
    component: Oa,
    css: Na,
    document,
    log: is
  };
  let o = !1;
  const l = () => {
    o || (o = !0, t.addEventListener("graphChanged", () => i.graphChanged()), window.addEventListener("focus", () => i.setFocus(!0)), window.addEventListener("blur", () => i.setFocus(!1)), document.addEventListener("visibilitychange", () => i.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      i.touched(), i.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => i.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => i.setPointerDown(!1), !0), window.addEventListener("keydown", () => i.touched(), !0), i.start());
  };
  e.registerExtension({
    name: Ma,
    setup: l,
    afterConfigureGraph() {
      i.graphChanged();
    },
    beforeRegisterNodeDef(c, d) {
      d?.name === ss && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      Ai(c) && Zc(c, r);
    }
  }), n && (e.rootGraph ?? e.graph) && l(), window.comfyd = Object.freeze({ editor: i, version: "0.1.0" });
}
Da(Ra);
