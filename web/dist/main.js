// @__NO_SIDE_EFFECTS__
function Ro(e) {
  const t = /* @__PURE__ */ Object.create(null);
  for (const n of e.split(",")) t[n] = 1;
  return (n) => n in t;
}
const Oe = {}, Fn = [], Mn = () => {
}, gc = () => !1, $r = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // uppercase letter
(e.charCodeAt(2) > 122 || e.charCodeAt(2) < 97), jr = (e) => e.startsWith("onUpdate:"), mt = Object.assign, mc = (e, t) => {
  const n = e.indexOf(t);
  n > -1 && e.splice(n, 1);
}, Uf = Object.prototype.hasOwnProperty, Ae = (e, t) => Uf.call(e, t), ce = Array.isArray, an = (e) => qs(e) === "[object Map]", Bn = (e) => qs(e) === "[object Set]", _l = (e) => qs(e) === "[object Date]", Se = (e) => typeof e == "function", $e = (e) => typeof e == "string", Mt = (e) => typeof e == "symbol", Ne = (e) => e !== null && typeof e == "object", _c = (e) => (Ne(e) || Se(e)) && Se(e.then) && Se(e.catch), yc = Object.prototype.toString, qs = (e) => yc.call(e), Wf = (e) => qs(e).slice(8, -1), bc = (e) => qs(e) === "[object Object]", Eo = (e) => $e(e) && e !== "NaN" && e[0] !== "-" && "" + parseInt(e, 10) === e, xs = /* @__PURE__ */ Ro(
  // the leading comma is intentional so empty string "" is also included
  ",key,ref,ref_for,ref_key,onVnodeBeforeMount,onVnodeMounted,onVnodeBeforeUpdate,onVnodeUpdated,onVnodeBeforeUnmount,onVnodeUnmounted"
), Br = (e) => {
  const t = /* @__PURE__ */ Object.create(null);
  return ((n) => t[n] || (t[n] = e(n)));
}, Jf = /-\w/g, xt = /* @__PURE__ */ Br((e) => e.replace(Jf, (t) => t.slice(1).toUpperCase())), qf = /\B([A-Z])/g, zn = /* @__PURE__ */ Br(
  (e) => e.replace(qf, "-$1").toLowerCase()
), wc = /* @__PURE__ */ Br((e) => e.charAt(0).toUpperCase() + e.slice(1)), pi = /* @__PURE__ */ Br((e) => e ? `on${wc(e)}` : ""), Ft = (e, t) => !Object.is(e, t), _r = (e, ...t) => {
  for (let n = 0; n < e.length; n++)
    e[n](...t);
}, kc = (e, t, n, s = !1) => {
  Object.defineProperty(e, t, {
    configurable: !0,
    enumerable: !1,
    writable: s,
    value: n
  });
}, Hs = (e) => {
  const t = parseFloat(e);
  return isNaN(t) ? e : t;
};
let yl;
const zr = () => yl || (yl = typeof globalThis < "u" ? globalThis : typeof self < "u" ? self : typeof window < "u" ? window : typeof global < "u" ? global : {});
function Fs(e) {
  if (ce(e)) {
    const t = {};
    for (let n = 0; n < e.length; n++) {
      const s = e[n], r = $e(s) ? Kf(s) : Fs(s);
      if (r)
        for (const i in r)
          t[i] = r[i];
    }
    return t;
  } else if ($e(e) || Ne(e))
    return e;
}
const Hf = /;(?![^(]*\))/g, Vf = /:([^]+)/, Gf = /"(?:[^"\\]|\\[^])*"|'(?:[^'\\]|\\[^])*'|\\[^]|\/\*[^]*?\*\//g;
function Kf(e) {
  const t = {};
  return e.replace(Gf, (n) => n.startsWith("/*") ? "" : n).split(Hf).forEach((n) => {
    if (n) {
      const s = n.split(Vf);
      s.length > 1 && (t[s[0].trim()] = s[1].trim());
    }
  }), t;
}
function lt(e) {
  let t = "";
  if ($e(e))
    t = e;
  else if (ce(e))
    for (let n = 0; n < e.length; n++) {
      const s = lt(e[n]);
      s && (t += s + " ");
    }
  else if (Ne(e))
    for (const n in e)
      e[n] && (t += n + " ");
  return t.trim();
}
const Xf = "itemscope,allowfullscreen,disablepictureinpicture,disableremoteplayback,formnovalidate,ismap,nomodule,novalidate,playsinline,readonly", Yf = /* @__PURE__ */ Ro(Xf);
function vc(e) {
  return !!e || e === "";
}
function Zf(e, t, n) {
  if (e.length !== t.length) return !1;
  let s = !0;
  for (let r = 0; s && r < e.length; r++)
    s = fn(e[r], t[r], n);
  return s;
}
function bl(e, t, n) {
  if (e.size !== t.size) return !1;
  const s = Array.from(t), r = new Uint8Array(s.length);
  for (const i of e) {
    let o = -1;
    for (let l = 0; l < s.length; l++)
      if (!r[l] && fn(i, s[l], n)) {
        o = l;
        break;
      }
    if (o < 0) return !1;
    r[o] = 1;
  }
  return !0;
}
function Qf(e, t, n) {
  let s = an(e), r = an(t);
  if (s || r || (s = Bn(e), r = Bn(t), s || r))
    return s && r ? bl(e, t, n) : !1;
  const i = Object.keys(e).length, o = Object.keys(t).length;
  if (i !== o)
    return !1;
  for (const l in e) {
    const a = e.hasOwnProperty(l), c = t.hasOwnProperty(l);
    if (a && !c || !a && c || !fn(e[l], t[l], n))
      return !1;
  }
  return String(e) === String(t);
}
function wl(e, t, n, s) {
  n || (n = [/* @__PURE__ */ new Map(), /* @__PURE__ */ new Map()]);
  const [r, i] = n;
  if (r.has(e) || i.has(t))
    return r.get(e) === t && i.get(t) === e;
  r.set(e, t), i.set(t, e);
  const o = s(e, t, n);
  return r.delete(e), i.delete(t), o;
}
function fn(e, t, n) {
  if (e === t) return !0;
  let s = _l(e), r = _l(t);
  return s || r ? s && r ? e.getTime() === t.getTime() : !1 : (s = Mt(e), r = Mt(t), s || r ? e === t : (s = ce(e), r = ce(t), s || r ? s && r ? wl(e, t, n, Zf) : !1 : (s = Ne(e), r = Ne(t), s || r ? !s || !r ? !1 : wl(e, t, n, Qf) : String(e) === String(t))));
}
function ed(e, t) {
  return e.findIndex((n) => fn(n, t));
}
const xc = (e) => !!(e && e.__v_isRef === !0), se = (e) => $e(e) ? e : e == null ? "" : ce(e) || Ne(e) && (e.toString === yc || !Se(e.toString)) ? xc(e) ? se(e.value) : JSON.stringify(e, Ac, 2) : String(e), Ac = (e, t) => xc(t) ? Ac(e, t.value) : an(t) ? {
  [`Map(${t.size})`]: [...t.entries()].reduce(
    (n, [s, r], i) => (n[gi(s, i) + " =>"] = r, n),
    {}
  )
} : Bn(t) ? {
  [`Set(${t.size})`]: [...t.values()].map((n) => gi(n))
} : Mt(t) ? gi(t) : Ne(t) && !ce(t) && !bc(t) ? String(t) : t, gi = (e, t = "") => {
  var n;
  return (
    // Symbol.description in es2019+ so we need to cast here to pass
    // the lib: es2016 check
    Mt(e) ? `Symbol(${(n = e.description) != null ? n : t})` : e
  );
};
let Xe;
class td {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t = !1) {
    this.detached = t, this._active = !0, this._on = 0, this.effects = [], this.cleanups = [], this._isPaused = !1, this._warnOnRun = !0, this.__v_skip = !0, !t && Xe && (Xe.active ? (this.parent = Xe, this.index = (Xe.scopes || (Xe.scopes = [])).push(
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
      const n = Xe;
      try {
        return Xe = this, t();
      } finally {
        Xe = n;
      }
    }
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  on() {
    ++this._on === 1 && (this.prevScope = Xe, Xe = this);
  }
  /**
   * This should only be called on non-detached scopes
   * @internal
   */
  off() {
    if (this._on > 0 && --this._on === 0) {
      if (Xe === this)
        Xe = this.prevScope;
      else {
        let t = Xe;
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
function nd() {
  return Xe;
}
let De;
const mi = /* @__PURE__ */ new WeakSet();
class Rc {
  constructor(t) {
    this.fn = t, this.deps = void 0, this.depsTail = void 0, this.flags = 5, this.next = void 0, this.cleanup = void 0, this.scheduler = void 0, Xe && (Xe.active ? Xe.effects.push(this) : this.flags &= -2);
  }
  pause() {
    this.flags |= 64;
  }
  resume() {
    this.flags & 64 && (this.flags &= -65, mi.has(this) && (mi.delete(this), this.trigger()));
  }
  /**
   * @internal
   */
  notify() {
    this.flags & 2 && !(this.flags & 32) || this.flags & 8 || Cc(this);
  }
  run() {
    if (!(this.flags & 1))
      return this.fn();
    this.flags |= 2, kl(this), Sc(this);
    const t = De, n = At;
    De = this, At = !0;
    try {
      return this.fn();
    } finally {
      Dc(this), De = t, At = n, this.flags &= -3;
    }
  }
  stop() {
    if (this.flags & 1) {
      for (let t = this.deps; t; t = t.nextDep)
        Do(t);
      this.deps = this.depsTail = void 0, kl(this), this.onStop && this.onStop(), this.flags &= -2;
    }
  }
  trigger() {
    this.flags & 64 ? mi.add(this) : this.scheduler ? this.scheduler() : this.runIfDirty();
  }
  /**
   * @internal
   */
  runIfDirty() {
    so(this) && this.run();
  }
  get dirty() {
    return so(this);
  }
}
let Ec = 0, As, Rs;
function Cc(e, t = !1) {
  if (e.flags |= 8, t) {
    e.next = Rs, Rs = e;
    return;
  }
  e.next = As, As = e;
}
function Co() {
  Ec++;
}
function So() {
  if (--Ec > 0)
    return;
  if (Rs) {
    let t = Rs;
    for (Rs = void 0; t; ) {
      const n = t.next;
      t.next = void 0, t.flags &= -9, t = n;
    }
  }
  let e;
  for (; As; ) {
    let t = As;
    for (As = void 0; t; ) {
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
function Sc(e) {
  for (let t = e.deps; t; t = t.nextDep)
    t.version = -1, t.prevActiveLink = t.dep.activeLink, t.dep.activeLink = t;
}
function Dc(e) {
  let t, n = e.depsTail, s = n;
  for (; s; ) {
    const r = s.prevDep;
    s.version === -1 ? (s === n && (n = r), Do(s), sd(s)) : t = s, s.dep.activeLink = s.prevActiveLink, s.prevActiveLink = void 0, s = r;
  }
  e.deps = t, e.depsTail = n;
}
function so(e) {
  for (let t = e.deps; t; t = t.nextDep)
    if (t.dep.version !== t.version || t.dep.computed && (Tc(t.dep.computed) || t.dep.version !== t.version))
      return !0;
  return !!e._dirty;
}
function Tc(e) {
  if (e.flags & 4 && !(e.flags & 16) || (e.flags &= -17, e.globalVersion === Os) || (e.globalVersion = Os, !e.isSSR && e.flags & 128 && (!e.deps && !e._dirty || !so(e))))
    return;
  e.flags |= 2;
  const t = e.dep, n = De, s = At;
  De = e, At = !0;
  try {
    Sc(e);
    const r = e.fn(e._value);
    (t.version === 0 || Ft(r, e._value)) && (e.flags |= 128, e._value = r, t.version++);
  } catch (r) {
    throw t.version++, r;
  } finally {
    De = n, At = s, Dc(e), e.flags &= -3;
  }
}
function Do(e, t = !1) {
  const { dep: n, prevSub: s, nextSub: r } = e;
  if (s && (s.nextSub = r, e.prevSub = void 0), r && (r.prevSub = s, e.nextSub = void 0), n.subs === e && (n.subs = s, !s && n.computed)) {
    n.computed.flags &= -5;
    for (let i = n.computed.deps; i; i = i.nextDep)
      Do(i, !0);
  }
  !t && !--n.sc && n.map && n.map.delete(n.key);
}
function sd(e) {
  const { prevDep: t, nextDep: n } = e;
  t && (t.nextDep = n, e.prevDep = void 0), n && (n.prevDep = t, e.nextDep = void 0);
}
let At = !0;
const Ic = [];
function dn() {
  Ic.push(At), At = !1;
}
function hn() {
  const e = Ic.pop();
  At = e === void 0 ? !0 : e;
}
function kl(e) {
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
let Os = 0;
class rd {
  constructor(t, n) {
    this.sub = t, this.dep = n, this.version = n.version, this.nextDep = this.prevDep = this.nextSub = this.prevSub = this.prevActiveLink = void 0;
  }
}
class To {
  // TODO isolatedDeclarations "__v_skip"
  constructor(t) {
    this.computed = t, this.version = 0, this.activeLink = void 0, this.subs = void 0, this.map = void 0, this.key = void 0, this.sc = 0, this.__v_skip = !0;
  }
  track(t) {
    if (!De || !At || De === this.computed)
      return;
    let n = this.activeLink;
    if (n === void 0 || n.sub !== De)
      n = this.activeLink = new rd(De, this), De.deps ? (n.prevDep = De.depsTail, De.depsTail.nextDep = n, De.depsTail = n) : De.deps = De.depsTail = n, Fc(n);
    else if (n.version === -1 && (n.version = this.version, n.nextDep)) {
      const s = n.nextDep;
      s.prevDep = n.prevDep, n.prevDep && (n.prevDep.nextDep = s), n.prevDep = De.depsTail, n.nextDep = void 0, De.depsTail.nextDep = n, De.depsTail = n, De.deps === n && (De.deps = s);
    }
    return n;
  }
  trigger(t) {
    this.version++, Os++, this.notify(t);
  }
  notify(t) {
    Co();
    try {
      for (let n = this.subs; n; n = n.prevSub)
        n.sub.notify() && n.sub.dep.notify();
    } finally {
      So();
    }
  }
}
function Fc(e) {
  if (e.dep.sc++, e.sub.flags & 4) {
    const t = e.dep.computed;
    if (t && !e.dep.subs) {
      t.flags |= 20;
      for (let s = t.deps; s; s = s.nextDep)
        Fc(s);
    }
    const n = e.dep.subs;
    n !== e && (e.prevSub = n, n && (n.nextSub = e)), e.dep.subs = e;
  }
}
const ro = /* @__PURE__ */ new WeakMap(), Ln = /* @__PURE__ */ Symbol(
  ""
), io = /* @__PURE__ */ Symbol(
  ""
), Ns = /* @__PURE__ */ Symbol(
  ""
);
function et(e, t, n) {
  if (At && De) {
    let s = ro.get(e);
    s || ro.set(e, s = /* @__PURE__ */ new Map());
    let r = s.get(n);
    r || (s.set(n, r = new To()), r.map = s, r.key = n), r.track();
  }
}
function Ht(e, t, n, s, r, i) {
  const o = ro.get(e);
  if (!o) {
    Os++;
    return;
  }
  const l = (a) => {
    a && a.trigger();
  };
  if (Co(), t === "clear")
    o.forEach(l);
  else {
    const a = ce(e), c = a && Eo(n);
    if (a && n === "length") {
      const u = Number(s);
      o.forEach((f, m) => {
        (m === "length" || m === Ns || !Mt(m) && m >= u) && l(f);
      });
    } else
      switch ((n !== void 0 || o.has(void 0)) && l(o.get(n)), c && l(o.get(Ns)), t) {
        case "add":
          a ? c && l(o.get("length")) : (l(o.get(Ln)), an(e) && l(o.get(io)));
          break;
        case "delete":
          a || (l(o.get(Ln)), an(e) && l(o.get(io)));
          break;
        case "set":
          an(e) && l(o.get(Ln));
          break;
      }
  }
  So();
}
function Vn(e) {
  const t = /* @__PURE__ */ ve(e);
  return t === e || (et(t, "iterate", Ns), /* @__PURE__ */ gt(e)) ? t : /* @__PURE__ */ Lt(e) ? /* @__PURE__ */ cn(e) ? t.map((n) => pn(_t(n))) : t.map(pn) : t.map(_t);
}
function Ur(e) {
  return et(e = /* @__PURE__ */ ve(e), "iterate", Ns), e;
}
function Dt(e, t) {
  return /* @__PURE__ */ Lt(e) ? pn(/* @__PURE__ */ cn(e) ? _t(t) : t) : _t(t);
}
const id = {
  __proto__: null,
  [Symbol.iterator]() {
    return _i(this, Symbol.iterator, (e) => Dt(this, e));
  },
  concat(...e) {
    return Vn(this).concat(
      ...e.map((t) => ce(t) ? Vn(t) : t)
    );
  },
  entries() {
    return _i(this, "entries", (e) => (e[1] = Dt(this, e[1]), e));
  },
  every(e, t) {
    return zt(this, "every", e, t, void 0, arguments);
  },
  filter(e, t) {
    return zt(
      this,
      "filter",
      e,
      t,
      (n) => n.map((s) => Dt(this, s)),
      arguments
    );
  },
  find(e, t) {
    return zt(
      this,
      "find",
      e,
      t,
      (n) => Dt(this, n),
      arguments
    );
  },
  findIndex(e, t) {
    return zt(this, "findIndex", e, t, void 0, arguments);
  },
  findLast(e, t) {
    return zt(
      this,
      "findLast",
      e,
      t,
      (n) => Dt(this, n),
      arguments
    );
  },
  findLastIndex(e, t) {
    return zt(this, "findLastIndex", e, t, void 0, arguments);
  },
  // flat, flatMap could benefit from ARRAY_ITERATE but are not straight-forward to implement
  forEach(e, t) {
    return zt(this, "forEach", e, t, void 0, arguments);
  },
  includes(...e) {
    return yi(this, "includes", e);
  },
  indexOf(...e) {
    return yi(this, "indexOf", e);
  },
  join(e) {
    return Vn(this).join(e);
  },
  // keys() iterator only reads `length`, no optimization required
  lastIndexOf(...e) {
    return yi(this, "lastIndexOf", e);
  },
  map(e, t) {
    return zt(this, "map", e, t, void 0, arguments);
  },
  pop() {
    return ds(this, "pop");
  },
  push(...e) {
    return ds(this, "push", e);
  },
  reduce(e, ...t) {
    return xl(this, "reduce", e, t);
  },
  reduceRight(e, ...t) {
    return xl(this, "reduceRight", e, t);
  },
  shift() {
    return ds(this, "shift");
  },
  // slice could use ARRAY_ITERATE but also seems to beg for range tracking
  some(e, t) {
    return zt(this, "some", e, t, void 0, arguments);
  },
  splice(...e) {
    return ds(this, "splice", e);
  },
  toReversed() {
    return Vn(this).toReversed();
  },
  toSorted(e) {
    return Vn(this).toSorted(e);
  },
  toSpliced(...e) {
    return Vn(this).toSpliced(...e);
  },
  unshift(...e) {
    return ds(this, "unshift", e);
  },
  values() {
    return _i(this, "values", (e) => Dt(this, e));
  }
};
function _i(e, t, n) {
  const s = Ur(e), r = s[t], i = r.call(s);
  if (s !== e && !/* @__PURE__ */ gt(e)) {
    if (i[Symbol.toStringTag] === "Array Iterator") {
      const o = Object.create(Object.getPrototypeOf(i));
      return o.next = () => vl(i.next(), n), r !== Oc[t] && Object.defineProperties(o, {
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
    i._next = i.next, i.next = () => vl(i._next(), n);
  }
  return i;
}
function vl(e, t) {
  return e.done || (e.value = t(e.value)), e;
}
const Oc = Array.prototype;
function zt(e, t, n, s, r, i) {
  const o = Ur(e), l = o !== e && !/* @__PURE__ */ gt(e), a = o[t];
  if (a !== Oc[t]) {
    const f = a.apply(e, i);
    return l ? _t(f) : f;
  }
  let c = n;
  o !== e && (l ? c = function(f, m) {
    return n.call(this, Dt(e, f), m, e);
  } : n.length > 2 && (c = function(f, m) {
    return n.call(this, f, m, e);
  }));
  const u = a.call(o, c, s);
  return l && r ? r(u) : u;
}
function xl(e, t, n, s) {
  const r = Ur(e), i = r !== e && !/* @__PURE__ */ gt(e);
  let o = n, l = !1;
  r !== e && (i ? (l = s.length === 0, o = function(c, u, f) {
    return l && (l = !1, c = Dt(e, c)), n.call(this, c, Dt(e, u), f, e);
  }) : n.length > 3 && (o = function(c, u, f) {
    return n.call(this, c, u, f, e);
  }));
  const a = r[t](o, ...s);
  return l ? Dt(e, a) : a;
}
function yi(e, t, n) {
  const s = /* @__PURE__ */ ve(e);
  et(s, "iterate", Ns);
  const r = s[t](...n);
  return (r === -1 || r === !1) && /* @__PURE__ */ No(n[0]) ? (n[0] = /* @__PURE__ */ ve(n[0]), s[t](...n)) : r;
}
function ds(e, t, n = []) {
  dn(), Co();
  const s = (/* @__PURE__ */ ve(e))[t].apply(e, n);
  return So(), hn(), s;
}
const od = /* @__PURE__ */ Ro("__proto__,__v_isRef,__isVue"), Nc = /* @__PURE__ */ new Set(
  /* @__PURE__ */ Object.getOwnPropertyNames(Symbol).filter((e) => e !== "arguments" && e !== "caller").map((e) => Symbol[e]).filter(Mt)
);
function ld(e) {
  Mt(e) || (e = String(e));
  const t = /* @__PURE__ */ ve(this);
  return et(t, "has", e), t.hasOwnProperty(e);
}
class Mc {
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
      return s === (r ? i ? _d : jc : i ? $c : Pc).get(t) || // receiver is not the reactive proxy, but has the same prototype
      // this means the receiver is a user proxy of the reactive proxy
      Object.getPrototypeOf(t) === Object.getPrototypeOf(s) ? t : void 0;
    const o = ce(t);
    if (!r) {
      let a;
      if (o && (a = id[n]))
        return a;
      if (n === "hasOwnProperty")
        return ld;
    }
    const l = Reflect.get(
      t,
      n,
      // if this is a proxy wrapping a ref, return methods using the raw ref
      // as receiver so that we don't have to call `toRaw` on the ref in all
      // its class methods
      /* @__PURE__ */ rt(t) ? t : s
    );
    if ((Mt(n) ? Nc.has(n) : od(n)) || (r || et(t, "get", n), i))
      return l;
    if (/* @__PURE__ */ rt(l)) {
      const a = o && Eo(n) ? l : l.value;
      return r && Ne(a) ? /* @__PURE__ */ lo(a) : a;
    }
    return Ne(l) ? r ? /* @__PURE__ */ lo(l) : /* @__PURE__ */ Fo(l) : l;
  }
}
class Lc extends Mc {
  constructor(t = !1) {
    super(!1, t);
  }
  set(t, n, s, r) {
    let i = t[n];
    const o = ce(t) && Eo(n);
    if (!this._isShallow) {
      const c = /* @__PURE__ */ Lt(i);
      if (!/* @__PURE__ */ gt(s) && !/* @__PURE__ */ Lt(s) && (i = /* @__PURE__ */ ve(i), s = /* @__PURE__ */ ve(s)), !o && /* @__PURE__ */ rt(i) && !/* @__PURE__ */ rt(s))
        return c || (i.value = s), !0;
    }
    const l = o ? Number(n) < t.length : Ae(t, n), a = Reflect.set(
      t,
      n,
      s,
      /* @__PURE__ */ rt(t) ? t : r
    );
    return t === /* @__PURE__ */ ve(r) && a && (l ? Ft(s, i) && Ht(t, "set", n, s) : Ht(t, "add", n, s)), a;
  }
  deleteProperty(t, n) {
    const s = Ae(t, n);
    t[n];
    const r = Reflect.deleteProperty(t, n);
    return r && s && Ht(t, "delete", n, void 0), r;
  }
  has(t, n) {
    const s = Reflect.has(t, n);
    return (!Mt(n) || !Nc.has(n)) && et(t, "has", n), s;
  }
  ownKeys(t) {
    return et(
      t,
      "iterate",
      ce(t) ? "length" : Ln
    ), Reflect.ownKeys(t);
  }
}
class ad extends Mc {
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
const cd = /* @__PURE__ */ new Lc(), ud = /* @__PURE__ */ new ad(), fd = /* @__PURE__ */ new Lc(!0);
const oo = (e) => e, nr = (e) => Reflect.getPrototypeOf(e);
function dd(e, t, n) {
  return function(...s) {
    const r = this.__v_raw, i = /* @__PURE__ */ ve(r), o = an(i), l = e === "entries" || e === Symbol.iterator && o, a = e === "keys" && o, c = r[e](...s), u = n ? oo : t ? pn : _t;
    return !t && et(
      i,
      "iterate",
      a ? io : Ln
    ), mt(
      // inheriting all iterator properties
      Object.create(c),
      {
        // iterator protocol
        next() {
          const { value: f, done: m } = c.next();
          return m ? { value: f, done: m } : {
            value: l ? [u(f[0]), u(f[1])] : u(f),
            done: m
          };
        }
      }
    );
  };
}
function sr(e) {
  return function(...t) {
    return e === "delete" ? !1 : e === "clear" ? void 0 : this;
  };
}
function hd(e, t) {
  const n = {
    get(r) {
      const i = this.__v_raw, o = /* @__PURE__ */ ve(i), l = /* @__PURE__ */ ve(r);
      e || (Ft(r, l) && et(o, "get", r), et(o, "get", l));
      const { has: a } = nr(o), c = t ? oo : e ? pn : _t;
      if (a.call(o, r))
        return c(i.get(r));
      if (a.call(o, l))
        return c(i.get(l));
      i !== o && i.get(r);
    },
    get size() {
      const r = this.__v_raw;
      return !e && et(/* @__PURE__ */ ve(r), "iterate", Ln), r.size;
    },
    has(r) {
      const i = this.__v_raw, o = /* @__PURE__ */ ve(i), l = /* @__PURE__ */ ve(r);
      return e || (Ft(r, l) && et(o, "has", r), et(o, "has", l)), r === l ? i.has(r) : i.has(r) || i.has(l);
    },
    forEach(r, i) {
      const o = this, l = o.__v_raw, a = /* @__PURE__ */ ve(l), c = t ? oo : e ? pn : _t;
      return !e && et(a, "iterate", Ln), l.forEach((u, f) => r.call(i, c(u), c(f), o));
    }
  };
  return mt(
    n,
    e ? {
      add: sr("add"),
      set: sr("set"),
      delete: sr("delete"),
      clear: sr("clear")
    } : {
      add(r) {
        const i = /* @__PURE__ */ ve(this), o = nr(i), l = /* @__PURE__ */ ve(r), a = !t && !/* @__PURE__ */ gt(r) && !/* @__PURE__ */ Lt(r) ? l : r;
        return o.has.call(i, a) || Ft(r, a) && o.has.call(i, r) || Ft(l, a) && o.has.call(i, l) || (i.add(a), Ht(i, "add", a, a)), this;
      },
      set(r, i) {
        !t && !/* @__PURE__ */ gt(i) && !/* @__PURE__ */ Lt(i) && (i = /* @__PURE__ */ ve(i));
        const o = /* @__PURE__ */ ve(this), { has: l, get: a } = nr(o);
        let c = l.call(o, r);
        c || (r = /* @__PURE__ */ ve(r), c = l.call(o, r));
        const u = a.call(o, r);
        return o.set(r, i), c ? Ft(i, u) && Ht(o, "set", r, i) : Ht(o, "add", r, i), this;
      },
      delete(r) {
        const i = /* @__PURE__ */ ve(this), { has: o, get: l } = nr(i);
        let a = o.call(i, r);
        a || (r = /* @__PURE__ */ ve(r), a = o.call(i, r)), l && l.call(i, r);
        const c = i.delete(r);
        return a && Ht(i, "delete", r, void 0), c;
      },
      clear() {
        const r = /* @__PURE__ */ ve(this), i = r.size !== 0, o = r.clear();
        return i && Ht(
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
    n[r] = dd(r, e, t);
  }), n;
}
function Io(e, t) {
  const n = hd(e, t);
  return (s, r, i) => r === "__v_isReactive" ? !e : r === "__v_isReadonly" ? e : r === "__v_isShallow" ? t : r === "__v_raw" ? s : Reflect.get(
    Ae(n, r) && r in s ? n : s,
    r,
    i
  );
}
const pd = {
  get: /* @__PURE__ */ Io(!1, !1)
}, gd = {
  get: /* @__PURE__ */ Io(!1, !0)
}, md = {
  get: /* @__PURE__ */ Io(!0, !1)
};
const Pc = /* @__PURE__ */ new WeakMap(), $c = /* @__PURE__ */ new WeakMap(), jc = /* @__PURE__ */ new WeakMap(), _d = /* @__PURE__ */ new WeakMap();
function yd(e) {
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
function Fo(e) {
  return /* @__PURE__ */ Lt(e) ? e : Oo(
    e,
    !1,
    cd,
    pd,
    Pc
  );
}
// @__NO_SIDE_EFFECTS__
function bd(e) {
  return Oo(
    e,
    !1,
    fd,
    gd,
    $c
  );
}
// @__NO_SIDE_EFFECTS__
function lo(e) {
  return Oo(
    e,
    !0,
    ud,
    md,
    jc
  );
}
function Oo(e, t, n, s, r) {
  if (!Ne(e) || e.__v_raw && !(t && e.__v_isReactive) || e.__v_skip || !Object.isExtensible(e))
    return e;
  const i = r.get(e);
  if (i)
    return i;
  const o = yd(Wf(e));
  if (o === 0)
    return e;
  const l = new Proxy(
    e,
    o === 2 ? s : n
  );
  return r.set(e, l), l;
}
// @__NO_SIDE_EFFECTS__
function cn(e) {
  return /* @__PURE__ */ Lt(e) ? /* @__PURE__ */ cn(e.__v_raw) : !!(e && e.__v_isReactive);
}
// @__NO_SIDE_EFFECTS__
function Lt(e) {
  return !!(e && e.__v_isReadonly);
}
// @__NO_SIDE_EFFECTS__
function gt(e) {
  return !!(e && e.__v_isShallow);
}
// @__NO_SIDE_EFFECTS__
function No(e) {
  return e ? !!e.__v_raw : !1;
}
// @__NO_SIDE_EFFECTS__
function ve(e) {
  const t = e && e.__v_raw;
  return t ? /* @__PURE__ */ ve(t) : e;
}
function wd(e) {
  return !Ae(e, "__v_skip") && Object.isExtensible(e) && kc(e, "__v_skip", !0), e;
}
const _t = (e) => Ne(e) ? /* @__PURE__ */ Fo(e) : e, pn = (e) => Ne(e) ? /* @__PURE__ */ lo(e) : e;
// @__NO_SIDE_EFFECTS__
function rt(e) {
  return e ? e.__v_isRef === !0 : !1;
}
// @__NO_SIDE_EFFECTS__
function rr(e) {
  return kd(e, !1);
}
function kd(e, t) {
  return /* @__PURE__ */ rt(e) ? e : new vd(e, t);
}
class vd {
  constructor(t, n) {
    this.dep = new To(), this.__v_isRef = !0, this.__v_isShallow = !1, this._rawValue = n ? t : /* @__PURE__ */ ve(t), this._value = n ? t : _t(t), this.__v_isShallow = n;
  }
  get value() {
    return this.dep.track(), this._value;
  }
  set value(t) {
    const n = this._rawValue, s = this.__v_isShallow || /* @__PURE__ */ gt(t) || /* @__PURE__ */ Lt(t);
    t = s ? t : /* @__PURE__ */ ve(t), Ft(t, n) && (this._rawValue = t, this._value = s ? t : _t(t), this.dep.trigger());
  }
}
function H(e) {
  return /* @__PURE__ */ rt(e) ? e.value : e;
}
const xd = {
  get: (e, t, n) => t === "__v_raw" ? e : H(Reflect.get(e, t, n)),
  set: (e, t, n, s) => {
    const r = e[t];
    return /* @__PURE__ */ rt(r) && !/* @__PURE__ */ rt(n) ? (r.value = n, !0) : Reflect.set(e, t, n, s);
  }
};
function Bc(e) {
  return /* @__PURE__ */ cn(e) ? e : new Proxy(e, xd);
}
class Ad {
  constructor(t, n, s) {
    this.fn = t, this.setter = n, this._value = void 0, this.dep = new To(this), this.__v_isRef = !0, this.deps = void 0, this.depsTail = void 0, this.flags = 16, this.globalVersion = Os - 1, this.next = void 0, this.effect = this, this.__v_isReadonly = !n, this.isSSR = s;
  }
  /**
   * @internal
   */
  notify() {
    if (this.flags |= 16, !(this.flags & 8) && // avoid infinite self recursion
    De !== this)
      return Cc(this, !0), !0;
  }
  get value() {
    const t = this.dep.track();
    return Tc(this), t && (t.version = this.dep.version), this._value;
  }
  set value(t) {
    this.setter && this.setter(t);
  }
}
// @__NO_SIDE_EFFECTS__
function Rd(e, t, n = !1) {
  let s, r;
  return Se(e) ? s = e : (s = e.get, r = e.set), new Ad(s, r, n);
}
const ir = {}, xr = /* @__PURE__ */ new WeakMap();
let Cn;
function Ed(e, t = !1, n = Cn) {
  if (n) {
    let s = xr.get(n);
    s || xr.set(n, s = []), s.push(e);
  }
}
function Cd(e, t, n = Oe) {
  const { immediate: s, deep: r, once: i, scheduler: o, augmentJob: l, call: a } = n, c = (w) => r ? w : /* @__PURE__ */ gt(w) || r === !1 || r === 0 ? Vt(w, 1) : Vt(w);
  let u, f, m, h, p = !1, k = !1;
  if (/* @__PURE__ */ rt(e) ? (f = () => e.value, p = /* @__PURE__ */ gt(e)) : /* @__PURE__ */ cn(e) ? (f = () => c(e), p = !0) : ce(e) ? (k = !0, p = e.some((w) => /* @__PURE__ */ cn(w) || /* @__PURE__ */ gt(w)), f = () => e.map((w) => {
    if (/* @__PURE__ */ rt(w))
      return w.value;
    if (/* @__PURE__ */ cn(w))
      return c(w);
    if (Se(w))
      return a ? a(w, 2) : w();
  })) : Se(e) ? t ? f = a ? () => a(e, 2) : e : f = () => {
    if (m) {
      dn();
      try {
        m();
      } finally {
        hn();
      }
    }
    const w = Cn;
    Cn = u;
    try {
      return a ? a(e, 3, [h]) : e(h);
    } finally {
      Cn = w;
    }
  } : f = Mn, t && r) {
    const w = f, O = r === !0 ? 1 / 0 : r;
    f = () => Vt(w(), O);
  }
  const v = nd(), C = () => {
    u.stop(), v && v.active && mc(v.effects, u);
  };
  if (i && t) {
    const w = t;
    t = (...O) => {
      try {
        return w(...O);
      } finally {
        C();
      }
    };
  }
  let x = k ? new Array(e.length).fill(ir) : ir;
  const b = (w) => {
    if (!(!(u.flags & 1) || !u.dirty && !w))
      if (t) {
        const O = u.run();
        if (w || r || p || (k ? O.some((z, $) => Ft(z, x[$])) : Ft(O, x))) {
          const z = Cn;
          dn();
          try {
            m && m(), Cn = u;
            const $ = [
              O,
              // pass undefined as the old value when it's changed for the first time
              x === ir ? void 0 : k && x[0] === ir ? [] : x,
              h
            ];
            x = O, a ? a(t, 3, $) : (
              // @ts-expect-error
              t(...$)
            );
          } finally {
            Cn = z, hn();
          }
        }
      } else
        u.run();
  };
  return l && l(b), u = new Rc(f), u.scheduler = o ? () => o(b, !1) : b, h = (w) => Ed(w, !1, u), m = u.onStop = () => {
    const w = xr.get(u);
    if (w) {
      if (a)
        a(w, 4);
      else
        for (const O of w) O();
      xr.delete(u);
    }
  }, t ? s ? b(!0) : x = u.run() : o ? o(b.bind(null, !0), !0) : u.run(), C.pause = u.pause.bind(u), C.resume = u.resume.bind(u), C.stop = C, C;
}
function Vt(e, t = 1 / 0, n) {
  if (t <= 0 || !Ne(e) || e.__v_skip || (n = n || /* @__PURE__ */ new Map(), (n.get(e) || 0) >= t))
    return e;
  if (n.set(e, t), t--, /* @__PURE__ */ rt(e))
    Vt(e.value, t, n);
  else if (ce(e))
    for (let s = 0; s < e.length; s++)
      Vt(e[s], t, n);
  else if (Bn(e) || an(e))
    e.forEach((s) => {
      Vt(s, t, n);
    });
  else if (bc(e)) {
    for (const s in e)
      Vt(e[s], t, n);
    for (const s of Object.getOwnPropertySymbols(e))
      Object.prototype.propertyIsEnumerable.call(e, s) && Vt(e[s], t, n);
  }
  return e;
}
function Vs(e, t, n, s) {
  try {
    return s ? e(...s) : e();
  } catch (r) {
    Wr(r, t, n);
  }
}
function Yt(e, t, n, s) {
  if (Se(e)) {
    const r = Vs(e, t, n, s);
    return r && _c(r) && r.catch((i) => {
      Wr(i, t, n, void 0, !0);
    }), r;
  }
  if (ce(e)) {
    const r = [];
    for (let i = 0; i < e.length; i++)
      r.push(Yt(e[i], t, n, s));
    return r;
  }
}
function Wr(e, t, n, s = !0, r = !1) {
  const i = t ? t.vnode : null, { errorHandler: o, throwUnhandledErrorInProduction: l } = t && t.appContext.config || Oe;
  if (t) {
    let a = t.parent;
    const c = t.proxy, u = `https://vuejs.org/error-reference/#runtime-${n}`;
    for (; a; ) {
      const f = a.ec;
      if (f && !a.isUnmounted && // Async failures may outlive stopped scopes whose unmount effects
      // are deferred or discarded by Suspense.
      (!r || a.scope.active)) {
        for (let m = 0; m < f.length; m++)
          if (f[m](e, c, u) === !1)
            return;
      }
      a = a.parent;
    }
    if (o) {
      dn(), Vs(o, null, 10, [
        e,
        c,
        u
      ]), hn();
      return;
    }
  }
  Sd(e, n, i, s, l);
}
function Sd(e, t, n, s = !0, r = !1) {
  if (r)
    throw e;
  console.error(e);
}
const tt = [];
let vt = -1;
const Tt = [];
let rn = null, Yn = 0;
const zc = /* @__PURE__ */ Promise.resolve();
let Ar = null;
function Es(e) {
  const t = Ar || zc;
  return e ? t.then(this ? e.bind(this) : e) : t;
}
function Dd(e) {
  let t = vt + 1, n = tt.length;
  for (; t < n; ) {
    const s = t + n >>> 1, r = tt[s], i = Ms(r);
    i < e || i === e && r.flags & 2 ? t = s + 1 : n = s;
  }
  return t;
}
function Mo(e) {
  if (!(e.flags & 1)) {
    const t = Ms(e), n = tt[tt.length - 1];
    !n || // fast path when the job id is larger than the tail
    !(e.flags & 2) && t >= Ms(n) ? tt.push(e) : tt.splice(Dd(t), 0, e), e.flags |= 1, Uc();
  }
}
function Uc() {
  Ar || (Ar = zc.then(qc));
}
function Td(e) {
  if (!ce(e))
    rn && e.id === -1 ? rn.splice(Yn + 1, 0, e) : e.flags & 1 || (Tt.push(e), e.flags |= 1);
  else
    for (let t = 0; t < e.length; t++)
      Tt.push(e[t]);
  Uc();
}
function Wc(e, t, n, s = vt + 1) {
  for (; s < tt.length; s++) {
    const r = tt[s];
    if (r && r.flags & 2) {
      if (e && r.id !== e.uid || t !== void 0 && !(r.id >= t))
        continue;
      tt.splice(s, 1), s = e ? s - 1 : vt, r.flags & 4 && (r.flags &= -2), r(), r.flags & 4 || (r.flags &= -2);
    }
  }
}
function Jc(e, t, n = 0) {
  if (Tt.length) {
    let s = Tt, r = 0;
    if (t) {
      s = [];
      for (let o = 0; o < Tt.length; o++) {
        const l = Tt[o];
        (l.i !== void 0 ? !l.i || l.i.uid < n : t.has(l)) ? Tt[r++] = l : s.push(l);
      }
    }
    const i = [...new Set(s)].sort((o, l) => Ms(o) - Ms(l));
    if (Tt.length = r, rn) {
      for (let o = 0; o < i.length; o++)
        rn.push(i[o]);
      return;
    }
    for (rn = i, Yn = 0; Yn < rn.length; Yn++) {
      const o = rn[Yn];
      o.flags & 4 && (o.flags &= -2), o.flags & 8 || o(), o.flags &= -2;
    }
    rn = null, Yn = 0;
  }
}
let bi = !1;
function Id(e, t) {
  if (bi) {
    e();
    return;
  }
  const n = t === void 0 ? void 0 : new Set(Tt);
  e(), bi = !0;
  try {
    Wc(void 0, t), Jc(void 0, n, t);
  } finally {
    bi = !1;
  }
}
const Ms = (e) => e.id == null ? e.flags & 2 ? -1 : 1 / 0 : e.id;
function qc(e) {
  try {
    for (vt = 0; vt < tt.length; vt++) {
      const t = tt[vt];
      t && !(t.flags & 8) && (t.flags & 4 && (t.flags &= -2), Vs(
        t,
        t.i,
        t.i ? 15 : 14
      ), t.flags & 4 || (t.flags &= -2));
    }
  } finally {
    for (; vt < tt.length; vt++) {
      const t = tt[vt];
      t && (t.flags &= -2);
    }
    vt = -1, tt.length = 0, Jc(), Ar = null, (tt.length || Tt.length) && qc();
  }
}
let pt = null, Hc = null;
function Rr(e) {
  const t = pt;
  return pt = e, Hc = e && e.type.__scopeId || null, t;
}
function Fd(e, t = pt, n) {
  if (!t || e._n)
    return e;
  const s = (...r) => {
    s._d && Fl(-1);
    const i = Rr(t), o = Pn.length;
    let l;
    try {
      l = e(...r);
    } finally {
      for (let a = Pn.length; a > o; a--) au();
      Rr(i), s._d && Fl(1);
    }
    return l;
  };
  return s._n = !0, s._c = !0, s._d = !0, s;
}
function kn(e, t) {
  if (pt === null)
    return e;
  const n = Vr(pt), s = e.dirs || (e.dirs = []);
  for (let r = 0; r < t.length; r++) {
    let [i, o, l, a = Oe] = t[r];
    i && (Se(i) && (i = {
      mounted: i,
      updated: i
    }), i.deep && Vt(o), s.push({
      dir: i,
      instance: n,
      value: o,
      oldValue: void 0,
      arg: l,
      modifiers: a
    }));
  }
  return e;
}
function vn(e, t, n, s) {
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
    let a = i[l];
    o ? a.oldValue = o[l].value : s === "mounted" && a.oldValue !== void 0 && (a = mt({}, a, { oldValue: void 0 }));
    let c = a.dir[s];
    c && (dn(), Yt(c, n, 8, [
      e.el,
      a,
      r,
      t
    ]), hn());
  }
}
function Od(e, t, n = !1) {
  const s = yh();
  if (s || Qn) {
    let r = Qn ? Qn._context.provides : s ? s.parent == null || s.ce ? s.vnode.appContext && s.vnode.appContext.provides : s.parent.provides : void 0;
    if (r && e in r)
      return r[e];
    if (arguments.length > 1)
      return n && Se(t) ? t.call(s && s.proxy) : t;
  }
}
const Nd = /* @__PURE__ */ Symbol.for("v-scx"), Md = () => Od(Nd);
function wi(e, t, n) {
  return Ld(e, t, n);
}
function Ld(e, t, n = Oe) {
  const { immediate: s, deep: r, flush: i, once: o } = n, l = mt({}, n), a = t && s || !t && i !== "post";
  let c;
  if (Dr) {
    if (i === "sync") {
      const h = Md();
      c = h.__watcherHandles || (h.__watcherHandles = []);
    } else if (!a) {
      const h = () => {
      };
      return h.stop = Mn, h.resume = Mn, h.pause = Mn, h;
    }
  }
  const u = rs;
  l.call = (h, p, k) => Yt(h, u, p, k);
  let f = !1;
  i === "post" ? l.scheduler = (h) => {
    h.i = u, Ze(h, u && u.suspense);
  } : i !== "sync" && (f = !0, l.scheduler = (h, p) => {
    p ? h() : Mo(h);
  }), l.augmentJob = (h) => {
    t && (h.flags |= 4), f && (h.flags |= 2, u && (h.id = u.uid, h.i = u));
  };
  const m = Cd(e, t, l);
  return Dr && (c ? c.push(m) : a && m()), m;
}
const sn = /* @__PURE__ */ new WeakMap(), Vc = /* @__PURE__ */ Symbol("_vte"), Jr = (e) => e.__isTeleport, Tn = (e) => e && (e.disabled || e.disabled === ""), Pd = (e) => e && (e.defer || e.defer === ""), Al = (e) => typeof SVGElement < "u" && e instanceof SVGElement, Rl = (e) => typeof MathMLElement == "function" && e instanceof MathMLElement, ao = (e, t) => {
  const n = e && e.to;
  return $e(n) ? t ? t(n) : null : n;
}, $d = {
  name: "Teleport",
  __isTeleport: !0,
  process(e, t, n, s, r, i, o, l, a, c) {
    const {
      mc: u,
      pc: f,
      pbc: m,
      o: { insert: h, querySelector: p, createText: k, createComment: v, parentNode: C }
    } = c, x = Tn(t.props);
    let { dynamicChildren: b } = t;
    const w = ($, ee, X) => {
      $.shapeFlag & 16 && u(
        $.children,
        ee,
        X,
        r,
        i,
        o,
        l,
        a
      );
    }, O = ($ = t) => {
      const ee = Tn($.props), X = $.target = ao($.props, p), ue = co(X, $, k, h);
      X && (o !== "svg" && Al(X) ? o = "svg" : o !== "mathml" && Rl(X) && (o = "mathml"), r && r.isCE && (r.ce._teleportTargets || (r.ce._teleportTargets = /* @__PURE__ */ new Set())).add(X), ee || (w($, X, ue), bs($, !1)));
    }, z = ($) => {
      const ee = () => {
        if (sn.get($) === ee) {
          if (sn.delete($), Tn($.props)) {
            const X = C($.el) || n;
            w($, X, $.anchor), bs($, !0);
          }
          O($);
        }
      };
      sn.set($, ee), Ze(ee, i);
    };
    if (e == null) {
      const $ = t.el = k(""), ee = t.anchor = k("");
      if (h($, n, s), h(ee, n, s), Pd(t.props) || i && i.pendingBranch) {
        z(t);
        return;
      }
      x && (w(t, n, ee), bs(t, !0)), O();
    } else {
      t.el = e.el;
      const $ = t.anchor = e.anchor, ee = sn.get(e);
      if (ee) {
        ee.flags |= 8, sn.delete(e), z(t);
        return;
      }
      t.targetStart = e.targetStart;
      const X = t.target = e.target, ue = t.targetAnchor = e.targetAnchor, ne = Tn(e.props), pe = ne ? n : X, Ie = ne ? $ : ue;
      if (o === "svg" || Al(X) ? o = "svg" : (o === "mathml" || Rl(X)) && (o = "mathml"), b ? (m(
        e.dynamicChildren,
        b,
        pe,
        r,
        i,
        o,
        l
      ), $o(e, t, !0)) : a || f(
        e,
        t,
        pe,
        Ie,
        r,
        i,
        o,
        l,
        !1
      ), x)
        ne ? t.props && e.props && t.props.to !== e.props.to && (t.props.to = e.props.to) : or(
          t,
          n,
          $,
          c,
          1
        );
      else if ((t.props && t.props.to) !== (e.props && e.props.to)) {
        const xe = ao(t.props, p);
        xe && (t.target = xe, or(
          t,
          xe,
          null,
          c,
          0
        ));
      } else ne && or(
        t,
        X,
        ue,
        c,
        1
      );
      bs(t, x);
    }
  },
  remove(e, t, n, { um: s, o: { remove: r } }, i) {
    const {
      shapeFlag: o,
      children: l,
      anchor: a,
      targetStart: c,
      targetAnchor: u,
      target: f,
      props: m
    } = e, h = Tn(m), p = i || !h, k = sn.get(e);
    if (k && (k.flags |= 8, sn.delete(e)), f && (r(c), r(u)), i && r(a), !k && (h || f) && o & 16)
      for (let v = 0; v < l.length; v++) {
        const C = l[v];
        s(
          C,
          t,
          n,
          p,
          !!C.dynamicChildren
        );
      }
  },
  move: or,
  hydrate: jd
};
function or(e, t, n, { o: { insert: s }, m: r }, i = 2) {
  i === 0 && (e.targetStart && s(e.targetStart, t, n), s(e.targetAnchor, t, n), n = e.targetAnchor);
  const { el: o, anchor: l, shapeFlag: a, children: c, props: u } = e, f = i === 2;
  if (f && s(o, t, n), !sn.has(e) && (!f || Tn(u)) && a & 16)
    for (let m = 0; m < c.length; m++)
      r(
        c[m],
        t,
        n,
        2
      );
  f && s(l, t, n);
}
function jd(e, t, n, s, r, i, {
  o: { nextSibling: o, parentNode: l, querySelector: a, insert: c, createText: u }
}, f) {
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
  function h(v, C) {
    C.anchor = f(
      o(v),
      C,
      l(v),
      n,
      s,
      r,
      i
    );
  }
  const p = t.target = ao(
    t.props,
    a
  ), k = Tn(t.props);
  if (p) {
    const v = p._lpa || p.firstChild;
    t.shapeFlag & 16 && (k ? (h(e, t), m(p, v), t.targetAnchor || co(
      p,
      t,
      u,
      c,
      // if target is the same as the main view, insert anchors before current node
      // to avoid hydrating mismatch
      l(e) === p ? e : null
    )) : (t.anchor = o(e), m(p, v), t.targetAnchor || co(p, t, u, c), f(
      v && o(v),
      t,
      p,
      n,
      s,
      r,
      i
    ))), bs(t, k);
  } else k && t.shapeFlag & 16 && (h(e, t), t.targetStart = e, t.targetAnchor = o(e));
  return t.anchor && o(t.anchor);
}
const Bd = $d;
function bs(e, t) {
  const n = e.ctx;
  if (n && n.ut) {
    let s, r;
    for (t ? (s = e.el, r = e.anchor) : (s = e.targetStart, r = e.targetAnchor); s && s !== r; )
      s.nodeType === 1 && s.setAttribute("data-v-owner", n.uid), s = s.nextSibling;
    n.ut();
  }
}
function co(e, t, n, s, r = null) {
  const i = t.targetStart = n(""), o = t.targetAnchor = n("");
  return i[Vc] = o, e && (s(i, e, r), s(o, e, r)), o;
}
const ki = /* @__PURE__ */ Symbol("_leaveCb");
function zd(e) {
  let t = e[0];
  if (e.length > 1) {
    for (const n of e)
      if (n.type !== Rt) {
        t = n;
        break;
      }
  }
  return t;
}
function Gc(e) {
  if (!Kc(e))
    return Jr(e.type) && e.children ? zd(e.children) : e;
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
function Cs(e, t) {
  if (e.shapeFlag & 6 && e.component) {
    e.transition = t;
    const n = e.component.subTree;
    Cs(
      Jr(n.type) && Gc(n) || n,
      t
    );
  } else if (e.shapeFlag & 128) {
    const n = e.suspense;
    if (n) {
      const s = n.isHydrating ? n.pendingBranch : n.activeBranch;
      s && Cs(s, t.clone(s));
    } else
      e.ssContent.transition = t.clone(e.ssContent), e.ssFallback.transition = t.clone(e.ssFallback);
  } else if (e.transition = t, e.type === ie && ce(e.children)) {
    const n = Yc(e.children, !1);
    n && Cs(n, t);
  }
}
function uo(e) {
  if (e.component)
    return uo(e.component.subTree);
  if (e.type === ie) {
    const t = ce(e.children) && Yc(e.children, !1);
    return t ? uo(t) : void 0;
  }
  if (e.type !== Rt)
    return e;
}
function Ud(e) {
  e.ids = [e.ids[0] + e.ids[2]++ + "-", 0, 0];
}
function El(e, t) {
  let n;
  return !!((n = Object.getOwnPropertyDescriptor(e, t)) && !n.configurable);
}
const Er = /* @__PURE__ */ new WeakMap();
function Ss(e, t, n, s, r = !1) {
  if (ce(e)) {
    e.forEach(
      (k, v) => Ss(
        k,
        t && (ce(t) ? t[v] : t),
        n,
        s,
        r
      )
    );
    return;
  }
  if (Ds(s) && !r) {
    s.shapeFlag & 512 && s.type.__asyncResolved && s.component.subTree.component && Ss(e, t, n, s.component.subTree);
    return;
  }
  const i = s.shapeFlag & 4 ? Vr(s.component) : s.el, o = r ? null : i, { i: l, r: a } = e, c = t && t.r, u = l.refs === Oe ? l.refs = {} : l.refs, f = l.setupState, m = /* @__PURE__ */ ve(f), h = f === Oe ? gc : (k) => El(u, k) ? !1 : Ae(m, k), p = (k, v) => !(v && El(u, v));
  if (c != null && c !== a) {
    if (Cl(t), $e(c))
      u[c] = null, h(c) && (f[c] = null);
    else if (/* @__PURE__ */ rt(c)) {
      const k = t;
      p(c, k.k) && (c.value = null), k.k && (u[k.k] = null);
    }
  }
  if (Se(a))
    Vs(a, l, 12, [o, u]);
  else {
    const k = $e(a), v = /* @__PURE__ */ rt(a);
    if (k || v) {
      const C = () => {
        if (e.f) {
          const x = k ? h(a) ? f[a] : u[a] : p() || !e.k ? a.value : u[e.k];
          if (r)
            ce(x) && mc(x, i);
          else if (ce(x))
            x.includes(i) || x.push(i);
          else if (k)
            u[a] = [i], h(a) && (f[a] = u[a]);
          else {
            const b = [i];
            p(a, e.k) && (a.value = b), e.k && (u[e.k] = b);
          }
        } else k ? (u[a] = o, h(a) && (f[a] = o)) : v && (p(a, e.k) && (a.value = o), e.k && (u[e.k] = o));
      };
      if (o) {
        const x = () => {
          C(), Er.delete(e);
        };
        x.id = -1, Er.set(e, x), Ze(x, n);
      } else
        Cl(e), C();
    }
  }
}
function Cl(e) {
  const t = Er.get(e);
  t && (t.flags |= 8, Er.delete(e));
}
zr().requestIdleCallback;
zr().cancelIdleCallback;
const Ds = (e) => !!e.type.__asyncLoader, Kc = (e) => e.type.__isKeepAlive, Wd = /* @__PURE__ */ Symbol.for("v-ndc");
function Ye(e, t, n, s) {
  let r;
  const i = n, o = ce(e);
  if (o || $e(e)) {
    const l = o && /* @__PURE__ */ cn(e);
    let a = !1, c = !1;
    l && (a = !/* @__PURE__ */ gt(e), c = /* @__PURE__ */ Lt(e), e = Ur(e)), r = new Array(e.length);
    for (let u = 0, f = e.length; u < f; u++)
      r[u] = t(
        a ? c ? pn(_t(e[u])) : _t(e[u]) : e[u],
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
  else if (Ne(e))
    if (e[Symbol.iterator])
      r = Array.from(
        e,
        (l, a) => t(l, a, void 0, i)
      );
    else {
      const l = Object.keys(e);
      r = new Array(l.length);
      for (let a = 0, c = l.length; a < c; a++) {
        const u = l[a];
        r[a] = t(e[u], u, a, i);
      }
    }
  else
    r = [];
  return r;
}
const fo = (e) => e ? hu(e) ? Vr(e) : fo(e.parent) : null, Ts = (
  // Move PURE marker to new line to workaround compiler discarding it
  // due to type annotation
  /* @__PURE__ */ mt(/* @__PURE__ */ Object.create(null), {
    $: (e) => e,
    $el: (e) => e.vnode.el,
    $data: (e) => e.data,
    $props: (e) => e.props,
    $attrs: (e) => e.attrs,
    $slots: (e) => e.slots,
    $refs: (e) => e.refs,
    $parent: (e) => fo(e.parent),
    $root: (e) => fo(e.root),
    $host: (e) => e.ce,
    $emit: (e) => e.emit,
    $options: (e) => e.type,
    $forceUpdate: (e) => e.f || (e.f = () => {
      Mo(e.update);
    }),
    $nextTick: (e) => e.n || (e.n = Es.bind(e.proxy)),
    $watch: (e) => Mn
  })
), vi = (e, t) => e !== Oe && !e.__isScriptSetup && Ae(e, t), Jd = {
  get({ _: e }, t) {
    if (t === "__v_skip")
      return !0;
    const { ctx: n, setupState: s, data: r, props: i, accessCache: o, type: l, appContext: a } = e;
    if (t[0] !== "$") {
      const m = o[t];
      if (m !== void 0)
        switch (m) {
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
        if (vi(s, t))
          return o[t] = 1, s[t];
        if (Ae(i, t))
          return o[t] = 3, i[t];
        if (n !== Oe && Ae(n, t))
          return o[t] = 4, n[t];
        o[t] = 0;
      }
    }
    const c = Ts[t];
    let u, f;
    if (c)
      return t === "$attrs" && et(e.attrs, "get", ""), c(e);
    if (
      // css module (injected by vue-loader)
      (u = l.__cssModules) && (u = u[t])
    )
      return u;
    if (n !== Oe && Ae(n, t))
      return o[t] = 4, n[t];
    if (
      // global properties
      f = a.config.globalProperties, Ae(f, t)
    )
      return f[t];
  },
  set({ _: e }, t, n) {
    const { data: s, setupState: r, ctx: i } = e;
    return vi(r, t) ? (r[t] = n, !0) : Ae(e.props, t) || t[0] === "$" && t.slice(1) in e ? !1 : (i[t] = n, !0);
  },
  has({
    _: { data: e, setupState: t, accessCache: n, ctx: s, appContext: r, props: i, type: o }
  }, l) {
    let a;
    return !!(n[l] || vi(t, l) || Ae(i, l) || Ae(s, l) || Ae(Ts, l) || Ae(r.config.globalProperties, l) || (a = o.__cssModules) && a[l]);
  },
  defineProperty(e, t, n) {
    return n.get != null ? e._.accessCache[t] = 0 : Ae(n, "value") && this.set(e, t, n.value, null), Reflect.defineProperty(e, t, n);
  }
};
function Xc() {
  return {
    app: null,
    config: {
      isNativeTag: gc,
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
let qd = 0;
function Hd(e, t) {
  return function(s, r = null) {
    Se(s) || (s = mt({}, s)), r != null && !Ne(r) && (r = null);
    const i = Xc(), o = /* @__PURE__ */ new WeakSet(), l = [];
    let a = !1;
    const c = i.app = {
      _uid: qd++,
      _component: s,
      _props: r,
      _container: null,
      _context: i,
      _instance: null,
      version: Ah,
      get config() {
        return i.config;
      },
      set config(u) {
      },
      use(u, ...f) {
        return o.has(u) || (u && Se(u.install) ? (o.add(u), u.install(c, ...f)) : Se(u) && (o.add(u), u(c, ...f))), c;
      },
      mixin(u) {
        return c;
      },
      component(u, f) {
        return f ? (i.components[u] = f, c) : i.components[u];
      },
      directive(u, f) {
        return f ? (i.directives[u] = f, c) : i.directives[u];
      },
      mount(u, f, m) {
        if (!a) {
          const h = c._ceVNode || Kt(s, r);
          return h.appContext = i, m === !0 ? m = "svg" : m === !1 && (m = void 0), e(h, u, m), a = !0, c._container = u, u.__vue_app__ = c, Vr(h.component);
        }
      },
      onUnmount(u) {
        l.push(u);
      },
      unmount() {
        a && (Yt(
          l,
          c._instance,
          16
        ), e(null, c._container), delete c._container.__vue_app__);
      },
      provide(u, f) {
        return i.provides[u] = f, c;
      },
      runWithContext(u) {
        const f = Qn;
        Qn = c;
        try {
          return u();
        } finally {
          Qn = f;
        }
      }
    };
    return c;
  };
}
let Qn = null;
const Vd = (e, t) => t === "modelValue" || t === "model-value" ? e.modelModifiers : e[`${t}Modifiers`] || e[`${xt(t)}Modifiers`] || e[`${zn(t)}Modifiers`];
function Gd(e, t, ...n) {
  if (e.isUnmounted) return;
  const s = e.vnode.props || Oe;
  let r = n;
  const i = t.startsWith("update:"), o = i && Vd(s, t.slice(7));
  o && (o.trim && (r = n.map((u) => $e(u) ? u.trim() : u)), o.number && (r = r.map(Hs)));
  let l, a = s[l = pi(t)] || // also try camelCase event handler (#2249)
  s[l = pi(xt(t))];
  !a && i && (a = s[l = pi(zn(t))]), a && Yt(
    a,
    e,
    6,
    r
  );
  const c = s[l + "Once"];
  if (c) {
    if (!e.emitted)
      e.emitted = {};
    else if (e.emitted[l])
      return;
    e.emitted[l] = !0, Yt(
      c,
      e,
      6,
      r
    );
  }
}
function Kd(e, t, n = !1) {
  const s = t.emitsCache, r = s.get(e);
  if (r !== void 0)
    return r;
  const i = e.emits;
  let o = {};
  return i ? (ce(i) ? i.forEach((l) => o[l] = null) : mt(o, i), Ne(e) && s.set(e, o), o) : (Ne(e) && s.set(e, null), null);
}
function qr(e, t) {
  return !e || !$r(t) ? !1 : (t = t.slice(2), t = t === "Once" ? t : t.replace(/Once$/, ""), Ae(e, t[0].toLowerCase() + t.slice(1)) || Ae(e, zn(t)) || Ae(e, t));
}
function Sl(e) {
  const {
    type: t,
    vnode: n,
    proxy: s,
    withProxy: r,
    propsOptions: [i],
    slots: o,
    attrs: l,
    emit: a,
    render: c,
    renderCache: u,
    props: f,
    data: m,
    setupState: h,
    ctx: p,
    inheritAttrs: k
  } = e, v = Rr(e);
  let C, x;
  try {
    if (n.shapeFlag & 4) {
      const w = r || s, O = w;
      C = It(
        c.call(
          O,
          w,
          u,
          f,
          h,
          m,
          p
        )
      ), x = l;
    } else {
      const w = t;
      C = It(
        w.length > 1 ? w(
          f,
          { attrs: l, slots: o, emit: a }
        ) : w(
          f,
          null
        )
      ), x = t.props ? l : Xd(l);
    }
  } catch (w) {
    Pn.length = 0, Wr(w, e, 1), C = Kt(Rt);
  }
  let b = C;
  if (x && k !== !1) {
    const w = Object.keys(x), { shapeFlag: O } = b;
    w.length && O & 7 && (i && w.some(jr) && (x = Yd(
      x,
      i
    )), b = ss(b, x, !1, !0));
  }
  if (n.dirs && (b = ss(b, null, !1, !0), b.dirs = b.dirs ? b.dirs.concat(n.dirs) : n.dirs), n.transition) {
    const w = Jr(b.type) && Gc(b) || b;
    Cs(w, n.transition);
  }
  return C = b, Rr(v), C;
}
function Yc(e, t = !0) {
  let n;
  for (let s = 0; s < e.length; s++) {
    const r = e[s];
    if (jo(r)) {
      if (r.type !== Rt || r.children === "v-if") {
        if (n)
          return;
        n = r;
      }
    } else
      return;
  }
  return n;
}
const Xd = (e) => {
  let t;
  for (const n in e)
    (n === "class" || n === "style" || $r(n)) && ((t || (t = {}))[n] = e[n]);
  return t;
}, Yd = (e, t) => {
  const n = {};
  for (const s in e)
    (!jr(s) || !(s.slice(9) in t)) && (n[s] = e[s]);
  return n;
};
function Zd(e, t, n) {
  const { props: s, children: r, component: i } = e, { props: o, children: l, patchFlag: a } = t, c = i.emitsOptions;
  if (t.dirs || t.transition)
    return !0;
  if (n && a >= 0) {
    if (a & 1024)
      return !0;
    if (a & 16)
      return s ? Dl(s, o, c) : !!o;
    if (a & 8) {
      const u = t.dynamicProps;
      for (let f = 0; f < u.length; f++) {
        const m = u[f];
        if (Zc(o, s, m) && !qr(c, m))
          return !0;
      }
    }
  } else
    return (r || l) && (!l || !l.$stable) ? !0 : s === o ? !1 : s ? o ? Dl(s, o, c) : !0 : !!o;
  return !1;
}
function Dl(e, t, n) {
  const s = Object.keys(t);
  if (s.length !== Object.keys(e).length)
    return !0;
  for (let r = 0; r < s.length; r++) {
    const i = s[r];
    if (!Ae(e, i) || Zc(t, e, i) && !qr(n, i))
      return !0;
  }
  return !1;
}
function Zc(e, t, n) {
  const s = e[n], r = t[n];
  return n === "style" && Ne(s) && Ne(r) ? !fn(s, r) : s !== r;
}
function Qd({ vnode: e, parent: t, suspense: n }, s) {
  for (; t; ) {
    const r = t.subTree;
    if (r.suspense && r.suspense.activeBranch === e && (r.suspense.vnode.el = r.el = s, e = r), r === e)
      (e = t.vnode).el = s, t = t.parent;
    else
      break;
  }
  n && n.activeBranch === e && (n.vnode.el = s);
}
const Qc = {}, eu = () => Object.create(Qc), tu = (e) => Object.getPrototypeOf(e) === Qc;
function eh(e, t, n, s = !1) {
  const r = {}, i = eu();
  e.propsDefaults = /* @__PURE__ */ Object.create(null), nu(e, t, r, i);
  for (const o in e.propsOptions[0])
    o in r || (r[o] = void 0);
  n ? e.props = s ? r : /* @__PURE__ */ bd(r) : e.type.props ? e.props = r : e.props = i, e.attrs = i;
}
function th(e, t, n, s) {
  const {
    props: r,
    attrs: i,
    vnode: { patchFlag: o }
  } = e, l = /* @__PURE__ */ ve(r), [a] = e.propsOptions;
  let c = !1;
  if (
    // always force full diff in dev
    // - #1942 if hmr is enabled with sfc component
    // - vite#872 non-sfc component used by sfc component
    (s || o > 0) && !(o & 16)
  ) {
    if (o & 8) {
      const u = e.vnode.dynamicProps;
      for (let f = 0; f < u.length; f++) {
        let m = u[f];
        if (qr(e.emitsOptions, m))
          continue;
        const h = t[m];
        if (a)
          if (Ae(i, m))
            h !== i[m] && (i[m] = h, c = !0);
          else {
            const p = xt(m);
            r[p] = ho(
              a,
              l,
              p,
              h,
              e,
              !1
            );
          }
        else
          h !== i[m] && (i[m] = h, c = !0);
      }
    }
  } else {
    nu(e, t, r, i) && (c = !0);
    let u;
    for (const f in l)
      (!t || // for camelCase
      !Ae(t, f) && // it's possible the original props was passed in as kebab-case
      // and converted to camelCase (#955)
      ((u = zn(f)) === f || !Ae(t, u))) && (a ? n && // for camelCase
      (n[f] !== void 0 || // for kebab-case
      n[u] !== void 0) && (r[f] = ho(
        a,
        l,
        f,
        void 0,
        e,
        !0
      )) : delete r[f]);
    if (i !== l)
      for (const f in i)
        (!t || !Ae(t, f)) && (delete i[f], c = !0);
  }
  c && Ht(e.attrs, "set", "");
}
function nu(e, t, n, s) {
  const [r, i] = e.propsOptions;
  let o = !1, l;
  if (t)
    for (let a in t) {
      if (xs(a))
        continue;
      const c = t[a];
      let u;
      r && Ae(r, u = xt(a)) ? !i || !i.includes(u) ? n[u] = c : (l || (l = {}))[u] = c : qr(e.emitsOptions, a) || (!(a in s) || c !== s[a]) && (s[a] = c, o = !0);
    }
  if (i) {
    const a = /* @__PURE__ */ ve(n), c = l || Oe;
    for (let u = 0; u < i.length; u++) {
      const f = i[u];
      n[f] = ho(
        r,
        a,
        f,
        c[f],
        e,
        !Ae(c, f)
      );
    }
  }
  return o;
}
function ho(e, t, n, s, r, i) {
  const o = e[n];
  if (o != null) {
    const l = Ae(o, "default");
    if (l && s === void 0) {
      const a = o.default;
      if (o.type !== Function && !o.skipFactory && Se(a)) {
        const { propsDefaults: c } = r;
        if (n in c)
          s = c[n];
        else {
          const u = du(r);
          s = c[n] = a.call(
            null,
            t
          ), u();
        }
      } else
        s = a;
      r.ce && r.ce._setProp(n, s);
    }
    o[
      0
      /* shouldCast */
    ] && (i && !l ? s = !1 : o[
      1
      /* shouldCastTrue */
    ] && (s === "" || s === zn(n)) && (s = !0));
  }
  return s;
}
function nh(e, t, n = !1) {
  const s = t.propsCache, r = s.get(e);
  if (r)
    return r;
  const i = e.props, o = {}, l = [];
  if (!i)
    return Ne(e) && s.set(e, Fn), Fn;
  if (ce(i))
    for (let c = 0; c < i.length; c++) {
      const u = xt(i[c]);
      Tl(u) && (o[u] = Oe);
    }
  else if (i)
    for (const c in i) {
      const u = xt(c);
      if (Tl(u)) {
        const f = i[c], m = o[u] = ce(f) || Se(f) ? { type: f } : mt({}, f), h = m.type;
        let p = !1, k = !0;
        if (ce(h))
          for (let v = 0; v < h.length; ++v) {
            const C = h[v], x = Se(C) && C.name;
            if (x === "Boolean") {
              p = !0;
              break;
            } else x === "String" && (k = !1);
          }
        else
          p = Se(h) && h.name === "Boolean";
        m[
          0
          /* shouldCast */
        ] = p, m[
          1
          /* shouldCastTrue */
        ] = k, (p || Ae(m, "default")) && l.push(u);
      }
    }
  const a = [o, l];
  return Ne(e) && s.set(e, a), a;
}
function Tl(e) {
  return e[0] !== "$" && !xs(e);
}
const Lo = (e) => e === "_" || e === "_ctx" || e === "$stable", Po = (e) => ce(e) ? e.map(It) : [It(e)], sh = (e, t, n) => {
  if (t._n)
    return t;
  const s = Fd((...r) => Po(t(...r)), n);
  return s._c = !1, s;
}, su = (e, t, n) => {
  const s = e._ctx;
  for (const r in e) {
    if (Lo(r)) continue;
    const i = e[r];
    if (Se(i))
      t[r] = sh(r, i, s);
    else if (i != null) {
      const o = Po(i);
      t[r] = () => o;
    }
  }
}, ru = (e, t) => {
  const n = Po(t);
  e.slots.default = () => n;
}, iu = (e, t, n) => {
  for (const s in t)
    (n || !Lo(s)) && (e[s] = t[s]);
}, rh = (e, t, n) => {
  const s = e.slots = eu();
  if (e.vnode.shapeFlag & 32) {
    const r = t._;
    r ? (iu(s, t, n), n && kc(s, "_", r, !0)) : su(t, s);
  } else t && ru(e, t);
}, ih = (e, t, n) => {
  const { vnode: s, slots: r } = e;
  let i = !0, o = Oe;
  if (s.shapeFlag & 32) {
    const l = t._;
    l ? n && l === 1 ? i = !1 : iu(r, t, n) : (i = !t.$stable, su(t, r)), o = t;
  } else t && (ru(e, t), o = { default: 1 });
  if (i)
    for (const l in r)
      !Lo(l) && o[l] == null && delete r[l];
}, Ze = fh;
function oh(e) {
  return lh(e);
}
function lh(e, t) {
  const n = zr();
  n.__VUE__ = !0;
  const {
    insert: s,
    remove: r,
    patchProp: i,
    createElement: o,
    createText: l,
    createComment: a,
    setText: c,
    setElementText: u,
    parentNode: f,
    nextSibling: m,
    setScopeId: h = Mn,
    insertStaticContent: p
  } = e, k = (g, _, A, P = null, S = null, I = null, M = void 0, j = null, N = !!_.dynamicChildren) => {
    if (g === _)
      return;
    g && !hs(g, _) && (P = me(g), ye(g, S, I, !0), g = null), _.patchFlag === -2 && (N = !1, _.dynamicChildren = null), _.dynamicChildren && g && g.dynamicChildren && g.dynamicChildren.hasOnce && (_.dynamicChildren === Fn && (_.dynamicChildren = []), _.dynamicChildren.hasOnce = !0);
    const { type: D, ref: V, shapeFlag: U } = _;
    switch (D) {
      case Hr:
        v(g, _, A, P);
        break;
      case Rt:
        C(g, _, A, P);
        break;
      case Ai:
        g == null && x(_, A, P, M);
        break;
      case ie:
        pe(
          g,
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
        U & 1 ? O(
          g,
          _,
          A,
          P,
          S,
          I,
          M,
          j,
          N
        ) : U & 6 ? Ie(
          g,
          _,
          A,
          P,
          S,
          I,
          M,
          j,
          N
        ) : (U & 64 || U & 128) && D.process(
          g,
          _,
          A,
          P,
          S,
          I,
          M,
          j,
          N,
          mn
        );
    }
    V != null && S ? Ss(V, g && g.ref, I, _ || g, !_) : V == null && g && g.ref != null && Ss(g.ref, null, I, g, !0);
  }, v = (g, _, A, P) => {
    if (g == null)
      s(
        _.el = l(_.children),
        A,
        P
      );
    else {
      const S = _.el = g.el;
      _.children !== g.children && c(S, _.children);
    }
  }, C = (g, _, A, P) => {
    g == null ? s(
      _.el = a(_.children || ""),
      A,
      P
    ) : _.el = g.el;
  }, x = (g, _, A, P) => {
    [g.el, g.anchor] = p(
      g.children,
      _,
      A,
      P,
      g.el,
      g.anchor
    );
  }, b = ({ el: g, anchor: _ }, A, P) => {
    let S;
    for (; g && g !== _; )
      S = m(g), s(g, A, P), g = S;
    s(_, A, P);
  }, w = ({ el: g, anchor: _ }) => {
    let A;
    for (; g && g !== _; )
      A = m(g), r(g), g = A;
    r(_);
  }, O = (g, _, A, P, S, I, M, j, N) => {
    if (_.type === "svg" ? M = "svg" : _.type === "math" && (M = "mathml"), g == null)
      z(
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
      const D = g.el && g.el._isVueCE ? g.el : null;
      try {
        D && D._beginPatch(), X(
          g,
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
  }, z = (g, _, A, P, S, I, M, j) => {
    let N, D;
    const { props: V, shapeFlag: U, transition: Z, dirs: te } = g;
    if (N = g.el = o(
      g.type,
      I,
      V && V.is,
      V
    ), U & 8 ? u(N, g.children) : U & 16 && ee(
      g.children,
      N,
      null,
      P,
      S,
      xi(g, I),
      M,
      j
    ), te && vn(g, null, P, "created"), $(N, g, g.scopeId, M, P), V) {
      for (const be in V)
        be !== "value" && !xs(be) && i(N, be, null, V[be], I, P);
      "value" in V && i(N, "value", null, V.value, I), (D = V.onVnodeBeforeMount) && St(D, P, g);
    }
    te && vn(g, null, P, "beforeMount");
    const ge = ah(S, Z);
    ge ? Z.beforeEnter(N) : Z && !Z.persisted && (N[uh] = !0), s(N, _, A), ((D = V && V.onVnodeMounted) || ge || te) && Ze(() => {
      D && St(D, P, g), ge && Z.enter(N), te && vn(g, null, P, "mounted");
    }, S);
  }, $ = (g, _, A, P, S) => {
    if (A && h(g, A), P)
      for (let I = 0; I < P.length; I++)
        h(g, P[I]);
    if (S) {
      let I = S.subTree;
      if (_ === I || lu(I.type) && (I.ssContent === _ || I.ssFallback === _)) {
        const M = S.vnode;
        $(
          g,
          M,
          M.scopeId,
          M.slotScopeIds,
          S.parent
        );
      }
    }
  }, ee = (g, _, A, P, S, I, M, j, N = 0) => {
    for (let D = N; D < g.length; D++) {
      const V = g[D] = j ? qt(g[D]) : It(g[D]);
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
  }, X = (g, _, A, P, S, I, M) => {
    const j = _.el = g.el;
    let { patchFlag: N, dynamicChildren: D, dirs: V } = _;
    N |= g.patchFlag & 16;
    const U = g.props || Oe, Z = _.props || Oe;
    let te;
    if (A && xn(A, !1), (te = Z.onVnodeBeforeUpdate) && St(te, A, _, g), V && vn(_, g, A, "beforeUpdate"), A && xn(A, !0), // #6385 the old vnode may be a user-wrapped non-isomorphic block
    // Force full diff when block metadata is unstable.
    D && (!g.dynamicChildren || g.dynamicChildren.length !== D.length) && (N = 0, M = !1, D = null), (U.innerHTML && Z.innerHTML == null || U.textContent && Z.textContent == null) && u(j, ""), D ? ue(
      g.dynamicChildren,
      D,
      j,
      A,
      P,
      xi(_, S),
      I
    ) : M || oe(
      g,
      _,
      j,
      null,
      A,
      P,
      xi(_, S),
      I,
      !1
    ), N > 0) {
      if (N & 16)
        ne(j, U, Z, A, S);
      else if (N & 2 && U.class !== Z.class && i(j, "class", null, Z.class, S), N & 4 && i(j, "style", U.style, Z.style, S), N & 8) {
        const ge = _.dynamicProps;
        for (let be = 0; be < ge.length; be++) {
          const we = ge[be], Fe = U[we], Ce = Z[we];
          (Ce !== Fe || we === "value") && i(j, we, Fe, Ce, S, A);
        }
      }
      N & 1 && g.children !== _.children && u(j, _.children);
    } else !M && D == null && ne(j, U, Z, A, S);
    ((te = Z.onVnodeUpdated) || V) && Ze(() => {
      te && St(te, A, _, g), V && vn(_, g, A, "updated");
    }, P);
  }, ue = (g, _, A, P, S, I, M) => {
    for (let j = 0; j < _.length; j++) {
      const N = g[j], D = _[j], V = N.el || Is(N), U = (
        // oldVNode may be an errored async setup() component inside Suspense
        // which will not have a mounted element
        V && // - In the case of a Fragment, we need to provide the actual parent
        // of the Fragment itself so it can move its children.
        (N.type === ie || // - In the case of different nodes, there is going to be a replacement
        // which also requires the correct parent container
        !hs(N, D) || // - In the case of a component, it could contain anything.
        N.shapeFlag & 198) ? f(V) : (
          // In other cases, the parent container is not actually used so we
          // just pass the block element here to avoid a DOM parentNode call.
          A
        )
      );
      k(
        N,
        D,
        U,
        null,
        P,
        S,
        I,
        M,
        !0
      );
    }
  }, ne = (g, _, A, P, S) => {
    if (_ !== A) {
      if (_ !== Oe)
        for (const I in _)
          !xs(I) && !(I in A) && i(
            g,
            I,
            _[I],
            null,
            S,
            P
          );
      for (const I in A) {
        if (xs(I)) continue;
        const M = A[I], j = _[I];
        M !== j && I !== "value" && i(g, I, j, M, S, P);
      }
      "value" in A && i(g, "value", _.value, A.value, S);
    }
  }, pe = (g, _, A, P, S, I, M, j, N) => {
    const D = _.el = g ? g.el : l(""), V = _.anchor = g ? g.anchor : l("");
    let { patchFlag: U, dynamicChildren: Z, slotScopeIds: te } = _;
    te && (j = j ? j.concat(te) : te), g == null ? (s(D, A, P), s(V, A, P), ee(
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
    )) : U > 0 && U & 64 && Z && // #2715 the previous fragment could've been a BAILed one as a result
    // of renderSlot() with no valid children
    g.dynamicChildren && g.dynamicChildren.length === Z.length ? (ue(
      g.dynamicChildren,
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
    (_.key != null || S && _ === S.subTree) && $o(
      g,
      _,
      !0
      /* shallow */
    )) : oe(
      g,
      _,
      A,
      V,
      S,
      I,
      M,
      j,
      N
    );
  }, Ie = (g, _, A, P, S, I, M, j, N) => {
    _.slotScopeIds = j, g == null ? _.shapeFlag & 512 ? S.ctx.activate(
      _,
      A,
      P,
      M,
      N
    ) : xe(
      _,
      A,
      P,
      S,
      I,
      M,
      N
    ) : Re(g, _, N);
  }, xe = (g, _, A, P, S, I, M) => {
    const j = g.component = _h(
      g,
      P,
      S
    );
    if (Kc(g) && (j.ctx.renderer = mn), bh(j, !1, M), j.asyncDep) {
      if (S && S.registerDep(
        j,
        dt,
        M,
        I
      ), !g.el) {
        const N = j.subTree = Kt(Rt);
        C(null, N, _, A), g.placeholder = N.el;
      }
    } else
      dt(
        j,
        g,
        _,
        A,
        S,
        I,
        M
      );
  }, Re = (g, _, A) => {
    const P = _.component = g.component;
    if (Zd(g, _, A))
      if (P.asyncDep && !P.asyncResolved) {
        _.el = g.el, _.placeholder = g.placeholder, J(P, _, A);
        return;
      } else
        P.next = _, P.update();
    else
      _.el = g.el, _.placeholder = g.placeholder, P.vnode = _;
  }, dt = (g, _, A, P, S, I, M) => {
    const j = () => {
      if (g.isMounted) {
        let { next: U, bu: Z, u: te, parent: ge, vnode: be } = g;
        {
          const Ue = ou(g);
          if (Ue) {
            U && (U.el = be.el, J(g, U, M)), Ue.asyncDep.then(() => {
              const ct = () => {
                g.job.flags & 8 || (S && S.pendingBranch ? Ze(ct, S) : D());
              };
              ct.flags = 48, Ze(ct, S);
            });
            return;
          }
        }
        let we = U, Fe;
        xn(g, !1), U ? (U.el = be.el, J(g, U, M)) : U = be, Z && _r(Z), (Fe = U.props && U.props.onVnodeBeforeUpdate) && St(Fe, ge, U, be), xn(g, !0);
        const Ce = Sl(g), Be = g.subTree;
        g.subTree = Ce, k(
          Be,
          Ce,
          // parent may have changed if it's in a teleport. a root that is a
          // pending async component only has its placeholder comment
          f(
            Be.el || Is(Be)
          ),
          // anchor may have changed if it's in a fragment
          me(Be),
          g,
          S,
          I
        ), U.el = Ce.el, we === null && Qd(g, Ce.el), te && Ze(te, S), (Fe = U.props && U.props.onVnodeUpdated) && Ze(
          () => St(Fe, ge, U, be),
          S
        );
      } else {
        let U;
        const { el: Z, props: te } = _, { bm: ge, m: be, parent: we, root: Fe, type: Ce } = g, Be = Ds(_);
        xn(g, !1), ge && _r(ge), !Be && (U = te && te.onVnodeBeforeMount) && St(U, we, _), xn(g, !0);
        {
          Fe.ce && Fe.ce._hasShadowRoot() && Fe.ce._injectChildStyle(
            Ce,
            g.parent ? g.parent.type : void 0
          );
          const Ue = g.subTree = Sl(g);
          k(
            null,
            Ue,
            A,
            P,
            g,
            S,
            I
          ), _.el = Ue.el;
        }
        if (be && Ze(be, S), !Be && (U = te && te.onVnodeMounted)) {
          const Ue = _;
          Ze(
            () => St(U, we, Ue),
            S
          );
        }
        (_.shapeFlag & 256 || we && Ds(we.vnode) && we.vnode.shapeFlag & 256) && g.a && Ze(g.a, S), g.isMounted = !0, _ = A = P = null;
      }
    };
    g.scope.on();
    const N = g.effect = new Rc(j);
    g.scope.off();
    const D = g.update = N.run.bind(N), V = g.job = N.runIfDirty.bind(N);
    V.i = g, V.id = g.uid, N.scheduler = () => Mo(V), xn(g, !0), D();
  }, J = (g, _, A) => {
    _.component = g;
    const P = g.vnode.props;
    g.vnode = _, g.next = null, th(g, _.props, P, A), ih(g, _.children, A), dn(), Wc(g), hn();
  }, oe = (g, _, A, P, S, I, M, j, N = !1) => {
    const D = g && g.children, V = g ? g.shapeFlag : 0, U = _.children, { patchFlag: Z, shapeFlag: te } = _;
    if (Z > 0) {
      if (Z & 128) {
        _e(
          D,
          U,
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
          U,
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
    te & 8 ? (V & 16 && Y(D, S, I), U !== D && u(A, U)) : V & 16 ? te & 16 ? _e(
      D,
      U,
      A,
      P,
      S,
      I,
      M,
      j,
      N
    ) : Y(D, S, I, !0) : (V & 8 && u(A, ""), te & 16 && ee(
      U,
      A,
      P,
      S,
      I,
      M,
      j,
      N
    ));
  }, le = (g, _, A, P, S, I, M, j, N) => {
    g = g || Fn, _ = _ || Fn;
    const D = g.length, V = _.length, U = Math.min(D, V);
    let Z;
    for (Z = 0; Z < U; Z++) {
      const te = _[Z] = N ? qt(_[Z]) : It(_[Z]);
      k(
        g[Z],
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
    D > V ? Y(
      g,
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
      j,
      N,
      U
    );
  }, _e = (g, _, A, P, S, I, M, j, N) => {
    let D = 0;
    const V = _.length;
    let U = g.length - 1, Z = V - 1;
    for (; D <= U && D <= Z; ) {
      const te = g[D], ge = _[D] = N ? qt(_[D]) : It(_[D]);
      if (hs(te, ge))
        k(
          te,
          ge,
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
    for (; D <= U && D <= Z; ) {
      const te = g[U], ge = _[Z] = N ? qt(_[Z]) : It(_[Z]);
      if (hs(te, ge))
        k(
          te,
          ge,
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
      U--, Z--;
    }
    if (D > U) {
      if (D <= Z) {
        const te = Z + 1, ge = te < V ? _[te].el : P;
        for (; D <= Z; )
          k(
            null,
            _[D] = N ? qt(_[D]) : It(_[D]),
            A,
            ge,
            S,
            I,
            M,
            j,
            N
          ), D++;
      }
    } else if (D > Z)
      for (; D <= U; )
        ye(g[D], S, I, !0), D++;
    else {
      const te = D, ge = D, be = /* @__PURE__ */ new Map();
      for (D = ge; D <= Z; D++) {
        const We = _[D] = N ? qt(_[D]) : It(_[D]);
        We.key != null && be.set(We.key, D);
      }
      let we, Fe = 0;
      const Ce = Z - ge + 1;
      let Be = !1, Ue = 0;
      const ct = new Array(Ce);
      for (D = 0; D < Ce; D++) ct[D] = 0;
      for (D = te; D <= U; D++) {
        const We = g[D];
        if (Fe >= Ce) {
          ye(We, S, I, !0);
          continue;
        }
        let it;
        if (We.key != null)
          it = be.get(We.key);
        else
          for (we = ge; we <= Z; we++)
            if (ct[we - ge] === 0 && hs(We, _[we])) {
              it = we;
              break;
            }
        it === void 0 ? ye(We, S, I, !0) : (ct[it - ge] = D + 1, it >= Ue ? Ue = it : Be = !0, k(
          We,
          _[it],
          A,
          null,
          S,
          I,
          M,
          j,
          N
        ), Fe++);
      }
      const _n = Be ? ch(ct) : Fn;
      for (we = _n.length - 1, D = Ce - 1; D >= 0; D--) {
        const We = ge + D, it = _[We], jt = _[We + 1], yn = We + 1 < V ? (
          // #13559, #14173 fallback to el placeholder for unresolved async component
          jt.el || Is(jt)
        ) : P;
        ct[D] === 0 ? k(
          null,
          it,
          A,
          yn,
          S,
          I,
          M,
          j,
          N
        ) : Be && (we < 0 || D !== _n[we] ? Ee(it, A, yn, 2) : we--);
      }
    }
  }, Ee = (g, _, A, P, S = null) => {
    const { el: I, type: M, transition: j, children: N, shapeFlag: D } = g;
    if (D & 6) {
      Ee(g.component.subTree, _, A, P);
      return;
    }
    if (D & 128) {
      g.suspense.move(_, A, P);
      return;
    }
    if (D & 64) {
      M.move(g, _, A, mn);
      return;
    }
    if (M === ie) {
      s(I, _, A);
      for (let U = 0; U < N.length; U++)
        Ee(N[U], _, A, P);
      s(g.anchor, _, A);
      return;
    }
    if (M === Ai) {
      b(g, _, A);
      return;
    }
    if (P !== 2 && D & 1 && j)
      if (P === 0)
        j.persisted && !I[ki] ? s(I, _, A) : (j.beforeEnter(I), s(I, _, A), Ze(() => j.enter(I), S));
      else {
        const { leave: U, delayLeave: Z, afterLeave: te } = j, ge = () => {
          g.ctx.isUnmounted ? r(I) : s(I, _, A);
        }, be = () => {
          const we = I._isLeaving || !!I[ki];
          I._isLeaving && I[ki](
            !0
            /* cancelled */
          ), j.persisted && !we ? ge() : U(I, () => {
            ge(), te && te();
          });
        };
        Z ? Z(I, ge, be) : be();
      }
    else
      s(I, _, A);
  }, ye = (g, _, A, P = !1, S = !1) => {
    const {
      type: I,
      props: M,
      ref: j,
      children: N,
      dynamicChildren: D,
      shapeFlag: V,
      patchFlag: U,
      dirs: Z,
      cacheIndex: te,
      memo: ge
    } = g;
    if ((U === -2 || D && D.hasOnce) && (S = !1), j != null && (dn(), Ss(j, null, A, g, !0), hn()), te != null && (!g.ctx || g.ctx === _) && (_.renderCache[te] = void 0), V & 256 && _.ctx.deactivate(g))
      return;
    const be = V & 1 && Z, we = !Ds(g);
    let Fe;
    if (we && (Fe = M && M.onVnodeBeforeUnmount) && St(Fe, _, g), V & 6)
      E(g.component, A, P);
    else {
      if (V & 128) {
        g.suspense.unmount(A, P);
        return;
      }
      be && vn(g, null, _, "beforeUnmount"), V & 64 ? g.type.remove(
        g,
        _,
        A,
        mn,
        P
      ) : D && // #5154
      // when v-once is used inside a block, setBlockTracking(-1) marks the
      // parent block with hasOnce: true
      // so that it doesn't take the fast path during unmount - otherwise
      // components nested in v-once are never unmounted.
      !D.hasOnce && // #1153: fast path should not be taken for non-stable (v-for) fragments
      (I !== ie || U > 0 && U & 64) ? Y(
        D,
        _,
        A,
        !1,
        !0
      ) : (I === ie && U & 384 || !S && V & 16) && Y(N, _, A), P && G(g);
    }
    const Ce = ge != null && te == null;
    (we && (Fe = M && M.onVnodeUnmounted) || be || Ce) && Ze(() => {
      Fe && St(Fe, _, g), be && vn(g, null, _, "unmounted"), Ce && (g.el = null);
    }, A);
  }, G = (g) => {
    const { type: _, el: A, anchor: P, transition: S } = g, I = _ === ie;
    if (I && !S) {
      T(A, P);
      return;
    }
    if (_ === Ai) {
      w(g), S && !S.persisted && S.afterLeave && S.afterLeave();
      return;
    }
    const M = I ? uo(g) : g, j = () => {
      I ? f(A) && T(A, P) : r(A), S && !S.persisted && S.afterLeave && S.afterLeave();
    };
    if (M && M.shapeFlag & 1 && S && !S.persisted) {
      const { leave: N, delayLeave: D } = S, V = M.el, U = () => N(V, j);
      D ? D(V, j, U) : U();
    } else
      j();
  }, T = (g, _) => {
    let A;
    for (; g !== _; )
      A = m(g), r(g), g = A;
    r(_);
  }, E = (g, _, A) => {
    const { bum: P, scope: S, job: I, subTree: M, um: j, m: N, a: D } = g;
    Il(N), Il(D), P && _r(P), S.stop(), I ? (I.flags |= 8, ye(M, g, _, A)) : M && (M.transition = g.vnode.transition, ye(M, g, _, A)), j && Ze(j, _);
    const V = () => {
      g.isUnmounted = !0;
    };
    V.flags = 16, Ze(V, _);
  }, Y = (g, _, A, P = !1, S = !1, I = 0) => {
    for (let M = I; M < g.length; M++)
      ye(g[M], _, A, P, S);
  }, me = (g) => {
    if (g.shapeFlag & 6)
      return me(g.component.subTree);
    if (g.shapeFlag & 128)
      return g.suspense.next();
    const _ = m(g.anchor || g.el), A = _ && _[Vc];
    return A ? m(A) : _;
  }, Ks = (g, _, A) => {
    const P = g && _._vnode ? void 0 : g && g.component ? g.component.uid : mh();
    Id(() => {
      g == null ? _._vnode && ye(_._vnode, null, null, !0) : k(
        _._vnode || null,
        g,
        _,
        null,
        null,
        null,
        A
      ), _._vnode = g;
    }, P);
  }, mn = {
    p: k,
    um: ye,
    m: Ee,
    r: G,
    mt: xe,
    mc: ee,
    pc: oe,
    pbc: ue,
    n: me,
    o: e
  };
  return {
    render: Ks,
    hydrate: void 0,
    createApp: Hd(Ks)
  };
}
function xi({ type: e, props: t }, n) {
  return n === "svg" && e === "foreignObject" || n === "mathml" && e === "annotation-xml" && t && t.encoding && t.encoding.includes("html") ? void 0 : n;
}
function xn({ effect: e, job: t }, n) {
  n ? (e.flags |= 32, t.flags |= 4) : (e.flags &= -33, t.flags &= -5);
}
function ah(e, t) {
  return (!e || e && !e.pendingBranch) && t && !t.persisted;
}
function $o(e, t, n = !1) {
  const s = e.children, r = t.children;
  if (ce(s) && ce(r))
    for (let i = 0; i < s.length; i++) {
      const o = s[i];
      let l = r[i];
      l.shapeFlag & 1 && !l.dynamicChildren && ((l.patchFlag <= 0 || l.patchFlag === 32) && (l = r[i] = qt(r[i]), l.el = o.el), !n && l.patchFlag !== -2 && $o(o, l)), l.type === Hr && (l.patchFlag === -1 && (l = r[i] = qt(l)), l.el = o.el), l.type === Rt && !l.el && (l.el = o.el);
    }
}
function ch(e) {
  const t = e.slice(), n = [0];
  let s, r, i, o, l;
  const a = e.length;
  for (s = 0; s < a; s++) {
    const c = e[s];
    if (c !== 0) {
      if (r = n[n.length - 1], e[r] < c) {
        t[s] = r, n.push(s);
        continue;
      }
      for (i = 0, o = n.length - 1; i < o; )
        l = i + o >> 1, e[n[l]] < c ? i = l + 1 : o = l;
      c < e[n[i]] && (i > 0 && (t[s] = n[i - 1]), n[i] = s);
    }
  }
  for (i = n.length, o = n[i - 1]; i-- > 0; )
    n[i] = o, o = t[o];
  return n;
}
function ou(e) {
  const t = e.subTree.component;
  if (t)
    return t.asyncDep && !t.asyncResolved ? t : ou(t);
}
function Il(e) {
  if (e)
    for (let t = 0; t < e.length; t++)
      e[t].flags |= 8;
}
function Is(e) {
  if (e.placeholder)
    return e.placeholder;
  const t = e.component;
  if (t)
    return Is(t.subTree);
  const n = e.suspense;
  return n && n.activeBranch ? Is(n.activeBranch) : null;
}
const lu = (e) => e.__isSuspense, uh = /* @__PURE__ */ Symbol("_deferredEnter");
function fh(e, t) {
  t && t.pendingBranch ? ce(e) ? t.effects.push(...e) : t.effects.push(e) : Td(e);
}
const ie = /* @__PURE__ */ Symbol.for("v-fgt"), Hr = /* @__PURE__ */ Symbol.for("v-txt"), Rt = /* @__PURE__ */ Symbol.for("v-cmt"), Ai = /* @__PURE__ */ Symbol.for("v-stc"), Pn = [];
let ft = null;
function B(e = !1) {
  Pn.push(ft = e ? null : []);
}
function au() {
  Pn.pop(), ft = Pn[Pn.length - 1] || null;
}
let Ls = 1;
function Fl(e, t = !1) {
  Ls += e, e < 0 && ft && t && (ft.hasOnce = !0);
}
function cu(e) {
  return e.dynamicChildren = Ls > 0 ? ft || Fn : null, au(), Ls > 0 && ft && ft.push(e), e;
}
function W(e, t, n, s, r, i) {
  return cu(
    q(
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
function yr(e, t, n, s, r) {
  return cu(
    Kt(
      e,
      t,
      n,
      s,
      r,
      !0
    )
  );
}
function jo(e) {
  return e ? e.__v_isVNode === !0 : !1;
}
function hs(e, t) {
  return e.type === t.type && e.key === t.key;
}
const uu = ({ key: e }) => e ?? null, br = ({
  ref: e,
  ref_key: t,
  ref_for: n
}) => (typeof e == "number" && (e = "" + e), e != null ? $e(e) || /* @__PURE__ */ rt(e) || Se(e) ? { i: pt, r: e, k: t, f: !!n } : e : null);
function q(e, t = null, n = null, s = 0, r = null, i = e === ie ? 0 : 1, o = !1, l = !1) {
  const a = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e,
    props: t,
    key: t && uu(t),
    ref: t && br(t),
    scopeId: Hc,
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
    ctx: pt
  };
  return l ? (Cr(a, n), i & 128 && e.normalize(a)) : n && (a.shapeFlag |= $e(n) ? 8 : 16), Ls > 0 && // avoid a block node from tracking itself
  !o && // has current parent block
  ft && // presence of a patch flag indicates this node needs patching on updates.
  // component nodes also should always be patched, because even if the
  // component doesn't need to update, it needs to persist the instance on to
  // the next vnode so that it can be properly unmounted later.
  (a.patchFlag > 0 || i & 6) && // the EVENTS flag is only for hydration and if it is the only flag, the
  // vnode should not be considered dynamic due to handler caching.
  a.patchFlag !== 32 && ft.push(a), a;
}
const Kt = dh;
function dh(e, t = null, n = null, s = 0, r = null, i = !1) {
  if ((!e || e === Wd) && (e = Rt), jo(e)) {
    const l = ss(
      e,
      t,
      !0
      /* mergeRef: true */
    );
    return n && Cr(l, n), Ls > 0 && !i && ft && (l.shapeFlag & 6 ? ft[ft.indexOf(e)] = l : ft.push(l)), l.patchFlag = -2, l;
  }
  if (xh(e) && (e = e.__vccOpts), t) {
    t = hh(t);
    let { class: l, style: a } = t;
    l && !$e(l) && (t.class = lt(l)), Ne(a) && (/* @__PURE__ */ No(a) && !ce(a) && (a = mt({}, a)), t.style = Fs(a));
  }
  const o = $e(e) ? 1 : lu(e) ? 128 : Jr(e) ? 64 : Ne(e) ? 4 : Se(e) ? 2 : 0;
  return q(
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
function hh(e) {
  return e ? /* @__PURE__ */ No(e) ? mt({}, e) : tu(e) ? mt({}, e[gu] || e) : e : null;
}
function ss(e, t, n = !1, s = !1) {
  const { props: r, ref: i, patchFlag: o, children: l, transition: a } = e, c = t ? ph(r || {}, t) : r, u = {
    __v_isVNode: !0,
    __v_skip: !0,
    type: e.type,
    props: c,
    key: c && uu(c),
    ref: t && t.ref ? (
      // #2078 in the case of <component :is="vnode" ref="extra"/>
      // if the vnode itself already has a ref, cloneVNode will need to merge
      // the refs so the single vnode can be set on multiple refs
      n && i ? ce(i) ? i.concat(br(t)) : [i, br(t)] : br(t)
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
    transition: a,
    // These should technically only be non-null on mounted VNodes. However,
    // they *should* be copied for kept-alive vnodes. So we just always copy
    // them since them being non-null during a mount doesn't affect the logic as
    // they will simply be overwritten.
    component: e.component,
    suspense: e.suspense,
    ssContent: e.ssContent && ss(e.ssContent),
    ssFallback: e.ssFallback && ss(e.ssFallback),
    placeholder: e.placeholder,
    el: e.el,
    anchor: e.anchor,
    ctx: e.ctx,
    ce: e.ce,
    cacheIndex: e.cacheIndex
  };
  return a && s && Cs(
    u,
    a.clone(u)
  ), u;
}
function he(e = " ", t = 0) {
  return Kt(Hr, null, e, t);
}
function de(e = "", t = !1) {
  return t ? (B(), yr(Rt, null, e)) : Kt(Rt, null, e);
}
function It(e) {
  return e == null || typeof e == "boolean" ? Kt(Rt) : ce(e) ? Kt(
    ie,
    null,
    // #3666, avoid reference pollution when reusing vnode
    e.slice()
  ) : jo(e) ? qt(e) : Kt(Hr, null, String(e));
}
function qt(e) {
  return e.el === null && e.patchFlag !== -1 || e.memo ? e : ss(e);
}
function Cr(e, t) {
  let n = 0;
  const { shapeFlag: s } = e;
  if (t == null)
    t = null;
  else if (ce(t))
    n = 16;
  else if (typeof t == "object")
    if (s & 65) {
      const r = t.default;
      r && (r._c && (r._d = !1), Cr(e, r()), r._c && (r._d = !0));
      return;
    } else {
      n = 32;
      const r = t._;
      !r && !tu(t) ? t._ctx = pt : r === 3 && pt && (pt.slots._ === 1 ? t._ = 1 : (t._ = 2, e.patchFlag |= 1024));
    }
  else if (Se(t)) {
    if (s & 65) {
      Cr(e, { default: t });
      return;
    }
    t = { default: t, _ctx: pt }, n = 32;
  } else
    t = String(t), s & 64 ? (n = 16, t = [he(t)]) : n = 8;
  e.children = t, e.shapeFlag |= n;
}
function ph(...e) {
  const t = {};
  for (let n = 0; n < e.length; n++) {
    const s = e[n];
    for (const r in s)
      if (r === "class")
        t.class !== s.class && (t.class = lt([t.class, s.class]));
      else if (r === "style")
        t.style = Fs([t.style, s.style]);
      else if ($r(r)) {
        const i = t[r], o = s[r];
        o && i !== o && !(ce(i) && i.includes(o)) ? t[r] = i ? [].concat(i, o) : o : o == null && i == null && // mergeProps({ 'onUpdate:modelValue': undefined }) should not retain
        // the model listener.
        !jr(r) && (t[r] = o);
      } else r !== "" && (t[r] = s[r]);
  }
  return t;
}
function St(e, t, n, s = null) {
  Yt(e, t, 7, [
    n,
    s
  ]);
}
const gh = /* @__PURE__ */ Xc();
let fu = 0;
function mh() {
  return fu;
}
function _h(e, t, n) {
  const s = e.type, r = (t ? t.appContext : e.appContext) || gh, i = {
    uid: fu++,
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
    scope: new td(
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
    propsOptions: nh(s, r),
    emitsOptions: Kd(s, r),
    // emit
    emit: null,
    // to be set immediately
    emitted: null,
    // props default value
    propsDefaults: Oe,
    // inheritAttrs
    inheritAttrs: s.inheritAttrs,
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
  return i.ctx = { _: i }, i.root = t ? t.root : i, i.emit = Gd.bind(null, i), e.ce && e.ce(i), i;
}
let rs = null;
const yh = () => rs || pt;
let Sr, Ps;
{
  const e = zr(), t = (n, s) => {
    let r;
    return (r = e[n]) || (r = e[n] = []), r.push(s), (i) => {
      r.length > 1 ? r.forEach((o) => o(i)) : r[0](i);
    };
  };
  Sr = t(
    "__VUE_INSTANCE_SETTERS__",
    (n) => rs = n
  ), Ps = t(
    "__VUE_SSR_SETTERS__",
    (n) => Dr = n
  );
}
const du = (e) => {
  const t = rs;
  return Sr(e), e.scope.on(), () => {
    e.scope.off(), Sr(t);
  };
}, Ol = () => {
  rs && rs.scope.off(), Sr(null);
};
function hu(e) {
  return e.vnode.shapeFlag & 4;
}
let Dr = !1;
function bh(e, t = !1, n = !1) {
  t && Ps(t);
  const { props: s, children: r } = e.vnode, i = hu(e);
  eh(e, s, i, t), rh(e, r, n || t);
  const o = i ? wh(e, t) : void 0;
  return t && Ps(!1), o;
}
function wh(e, t) {
  const n = e.type;
  e.accessCache = /* @__PURE__ */ Object.create(null), e.proxy = new Proxy(e.ctx, Jd);
  const { setup: s } = n;
  if (s) {
    dn();
    const r = e.setupContext = s.length > 1 ? vh(e) : null, i = du(e), o = Vs(
      s,
      e,
      0,
      [
        e.props,
        r
      ]
    ), l = _c(o);
    if (hn(), i(), (l || e.sp) && !Ds(e) && Ud(e), l) {
      if (o.then(Ol, Ol), t)
        return o.then((a) => {
          Ps(!0);
          try {
            Nl(e, a, t);
          } finally {
            Ps(!1);
          }
        }).catch((a) => {
          Wr(a, e, 0, void 0, !0), e.ssrRender = (c, u) => u("<!---->");
        });
      e.asyncDep = o;
    } else
      Nl(e, o);
  } else
    pu(e);
}
function Nl(e, t, n) {
  Se(t) ? e.type.__ssrInlineRender ? e.ssrRender = t : e.render = t : Ne(t) && (e.setupState = Bc(t)), pu(e);
}
function pu(e, t, n) {
  const s = e.type;
  e.render || (e.render = s.render || Mn);
}
const gu = /* @__PURE__ */ Symbol(), kh = {
  get(e, t) {
    return et(e, "get", ""), t === gu ? e : e[t];
  }
};
function vh(e) {
  const t = (n) => {
    e.exposed = n || {};
  };
  return {
    attrs: new Proxy(e.attrs, kh),
    slots: e.slots,
    emit: e.emit,
    expose: t
  };
}
function Vr(e) {
  return e.exposed ? e.exposeProxy || (e.exposeProxy = new Proxy(Bc(wd(e.exposed)), {
    get(t, n) {
      if (n in t)
        return t[n];
      if (n in Ts)
        return Ts[n](e);
    },
    has(t, n) {
      return n in t || n in Ts;
    }
  })) : e.proxy;
}
function xh(e) {
  return Se(e) && "__vccOpts" in e;
}
const Je = (e, t) => /* @__PURE__ */ Rd(e, t, Dr), Ah = "3.5.45";
let po;
const Ml = typeof window < "u" && window.trustedTypes;
if (Ml)
  try {
    po = /* @__PURE__ */ Ml.createPolicy("vue", {
      createHTML: (e) => e
    });
  } catch {
  }
const mu = po ? (e) => po.createHTML(e) : (e) => e, Rh = "http://www.w3.org/2000/svg", Eh = "http://www.w3.org/1998/Math/MathML", Jt = typeof document < "u" ? document : null, Ll = Jt && /* @__PURE__ */ Jt.createElement("template"), Ch = {
  insert: (e, t, n) => {
    t.insertBefore(e, n || null);
  },
  remove: (e) => {
    const t = e.parentNode;
    t && t.removeChild(e);
  },
  createElement: (e, t, n, s) => {
    const r = t === "svg" ? Jt.createElementNS(Rh, e) : t === "mathml" ? Jt.createElementNS(Eh, e) : n ? Jt.createElement(e, { is: n }) : Jt.createElement(e);
    return e === "select" && s && s.multiple != null && r.setAttribute("multiple", s.multiple), r;
  },
  createText: (e) => Jt.createTextNode(e),
  createComment: (e) => Jt.createComment(e),
  setText: (e, t) => {
    e.nodeValue = t;
  },
  setElementText: (e, t) => {
    e.textContent = t;
  },
  parentNode: (e) => e.parentNode,
  nextSibling: (e) => e.nextSibling,
  querySelector: (e) => Jt.querySelector(e),
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
      Ll.innerHTML = mu(
        s === "svg" ? `<svg>${e}</svg>` : s === "mathml" ? `<math>${e}</math>` : e
      );
      const l = Ll.content;
      if (s === "svg" || s === "mathml") {
        const a = l.firstChild;
        for (; a.firstChild; )
          l.appendChild(a.firstChild);
        l.removeChild(a);
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
}, Sh = /* @__PURE__ */ Symbol("_vtc");
function Dh(e, t, n) {
  const s = e[Sh];
  s && (t = (t ? [t, ...s] : [...s]).join(" ")), t == null ? e.removeAttribute("class") : n ? e.setAttribute("class", t) : e.className = t;
}
const Pl = /* @__PURE__ */ Symbol("_vod"), Th = /* @__PURE__ */ Symbol("_vsh"), Ih = /* @__PURE__ */ Symbol(""), Fh = /(?:^|;)\s*display\s*:/;
function Oh(e, t, n) {
  const s = e.style, r = $e(n);
  let i = !1;
  if (n && !r) {
    if (t)
      if ($e(t))
        for (const o of t.split(";")) {
          const l = o.slice(0, o.indexOf(":")).trim();
          n[l] == null && ws(s, l, "");
        }
      else
        for (const o in t)
          n[o] == null && ws(s, o, "");
    for (const o in n) {
      o === "display" && (i = !0);
      const l = n[o];
      l != null ? Mh(
        e,
        o,
        !$e(t) && t ? t[o] : void 0,
        l
      ) || ws(s, o, l) : ws(s, o, "");
    }
  } else if (r) {
    if (t !== n) {
      const o = s[Ih];
      o && (n += ";" + o), s.cssText = n, i = Fh.test(n);
    }
  } else t && e.removeAttribute("style");
  Pl in e && ((!r || t !== n) && (e[Pl] = i ? s.display : ""), e[Th] && (s.display = "none"));
}
const lr = /\s*!important$/;
function ws(e, t, n) {
  if (ce(n))
    n.forEach((s) => ws(e, t, s));
  else if (n == null && (n = ""), t.startsWith("--"))
    lr.test(n) ? e.setProperty(t, n.replace(lr, ""), "important") : e.setProperty(t, n);
  else {
    const s = Nh(e, t);
    lr.test(n) ? e.setProperty(
      zn(s),
      n.replace(lr, ""),
      "important"
    ) : e[s] = n;
  }
}
const $l = ["Webkit", "Moz", "ms"], Ri = {};
function Nh(e, t) {
  const n = Ri[t];
  if (n)
    return n;
  let s = xt(t);
  if (s !== "filter" && s in e)
    return Ri[t] = s;
  s = wc(s);
  for (let r = 0; r < $l.length; r++) {
    const i = $l[r] + s;
    if (i in e)
      return Ri[t] = i;
  }
  return t;
}
function Mh(e, t, n, s) {
  return e.tagName === "TEXTAREA" && (t === "width" || t === "height") && $e(s) && n === s;
}
const jl = "http://www.w3.org/1999/xlink";
function Bl(e, t, n, s, r, i = Yf(t)) {
  s && t.startsWith("xlink:") ? n == null ? e.removeAttributeNS(jl, t.slice(6, t.length)) : e.setAttributeNS(jl, t, n) : n == null || i && !vc(n) ? e.removeAttribute(t) : e.setAttribute(
    t,
    i ? "" : Mt(n) ? String(n) : n
  );
}
function zl(e, t, n, s, r) {
  if (t === "innerHTML" || t === "textContent") {
    n != null && (e[t] = t === "innerHTML" ? mu(n) : n);
    return;
  }
  const i = e.tagName;
  if (t === "value" && i !== "PROGRESS" && // custom elements may use _value internally
  !i.includes("-")) {
    const l = i === "OPTION" ? e.getAttribute("value") || "" : e.value, a = n == null ? (
      // #11647: value should be set as empty string for null and undefined,
      // but <input type="checkbox"> should be set as 'on'.
      e.type === "checkbox" ? "on" : ""
    ) : String(n);
    (l !== a || !("_value" in e)) && (e.value = a), n == null && e.removeAttribute(t), e._value = n;
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
  o && e.removeAttribute(r || t);
}
function In(e, t, n, s) {
  e.addEventListener(t, n, s);
}
function Lh(e, t, n, s) {
  e.removeEventListener(t, n, s);
}
const Ul = /* @__PURE__ */ Symbol("_vei");
function Ph(e, t, n, s, r = null) {
  const i = e[Ul] || (e[Ul] = {}), o = i[t];
  if (s && o)
    o.value = s;
  else {
    const [l, a] = Bh(t);
    if (s) {
      const c = i[t] = Wh(
        s,
        r
      );
      In(e, l, c, a);
    } else o && (Lh(e, l, o, a), i[t] = void 0);
  }
}
const $h = /(Once|Passive|Capture)$/, jh = /^on:?(?:Once|Passive|Capture)$/;
function Bh(e) {
  let t, n;
  for (; (n = e.match($h)) && !jh.test(e); )
    t || (t = {}), e = e.slice(0, e.length - n[1].length), t[n[1].toLowerCase()] = !0;
  return [e[2] === ":" ? e.slice(3) : zn(e.slice(2)), t];
}
let Ei = 0;
const zh = /* @__PURE__ */ Promise.resolve(), Uh = () => Ei || (zh.then(() => Ei = 0), Ei = Date.now());
function Wh(e, t) {
  const n = (s) => {
    if (!s._vts)
      s._vts = Date.now();
    else if (s._vts <= n.attached)
      return;
    const r = n.value;
    if (ce(r)) {
      const i = s.stopImmediatePropagation;
      s.stopImmediatePropagation = () => {
        i.call(s), s._stopped = !0;
      };
      const o = r.slice(), l = [s];
      for (let a = 0; a < o.length && !s._stopped; a++) {
        const c = o[a];
        c && Yt(
          c,
          t,
          5,
          l
        );
      }
    } else
      Yt(
        r,
        t,
        5,
        [s]
      );
  };
  return n.value = e, n.attached = Uh(), n;
}
const Wl = (e) => e.charCodeAt(0) === 111 && e.charCodeAt(1) === 110 && // lowercase letter
e.charCodeAt(2) > 96 && e.charCodeAt(2) < 123, Jh = (e, t, n, s, r, i) => {
  const o = r === "svg";
  t === "class" ? Dh(e, s, o) : t === "style" ? Oh(e, n, s) : $r(t) ? jr(t) || Ph(e, t, n, s, i) : (t[0] === "." ? (t = t.slice(1), !0) : t[0] === "^" ? (t = t.slice(1), !1) : qh(e, t, s, o)) ? (zl(e, t, s), !e.tagName.includes("-") && (t === "value" || t === "checked" || t === "selected") && Bl(e, t, s, o, i, t !== "value")) : /* #11081 force set props for possible async custom element */ e._isVueCE && // #12408 check if it's declared prop or it's async custom element
  (Hh(e, t) || // @ts-expect-error _def is private
  e._def.__asyncLoader && (/[A-Z]/.test(t) || !$e(s))) ? zl(e, xt(t), s, i, t) : (t === "true-value" ? e._trueValue = s : t === "false-value" && (e._falseValue = s), Bl(e, t, s, o));
};
function qh(e, t, n, s) {
  if (s)
    return !!(t === "innerHTML" || t === "textContent" || t in e && Wl(t) && Se(n));
  if (t === "spellcheck" || t === "draggable" || t === "translate" || t === "autocorrect" || t === "sandbox" && e.tagName === "IFRAME" || t === "form" || t === "list" && e.tagName === "INPUT" || t === "type" && e.tagName === "TEXTAREA")
    return !1;
  if (t === "width" || t === "height") {
    const r = e.tagName;
    if (r === "IMG" || r === "VIDEO" || r === "CANVAS" || r === "SOURCE")
      return !1;
  }
  return Wl(t) && $e(n) ? !1 : t in e;
}
function Hh(e, t) {
  const n = (
    // @ts-expect-error _def is private
    e._def.props
  );
  if (!n)
    return !1;
  const s = xt(t);
  return Array.isArray(n) ? n.some((r) => xt(r) === s) : Object.keys(n).some((r) => xt(r) === s);
}
const Tr = (e) => {
  const t = e.props["onUpdate:modelValue"] || !1;
  return ce(t) ? (n) => _r(t, n) : t;
};
function Vh(e) {
  e.target.composing = !0;
}
function Jl(e) {
  const t = e.target;
  t.composing && (t.composing = !1, t.dispatchEvent(new Event("input")));
}
const On = /* @__PURE__ */ Symbol("_assign"), ar = /* @__PURE__ */ Symbol("_initialValue");
function Ci(e, t, n) {
  return t && (e = e.trim()), n && (e = Hs(e)), e;
}
const Gn = {
  created(e, { modifiers: { lazy: t, trim: n, number: s } }, r) {
    e.parentNode && (e.type === "text" ? e[ar] = e.defaultValue.replace(/[\r\n]/g, "") : e.type === "textarea" && (e[ar] = e.defaultValue.replace(/\r\n?/g, `
`))), e[On] = Tr(r);
    const i = s || r.props && r.props.type === "number";
    In(e, t ? "change" : "input", (o) => {
      o.target.composing || e[On](Ci(e.value, n, i));
    }), (n || i) && In(e, "change", () => {
      e.value = Ci(e.value, n, i);
    }), t || (In(e, "compositionstart", Vh), In(e, "compositionend", Jl), In(e, "change", Jl));
  },
  // set value on mounted so it's after min/max for type="range"
  mounted(e, { value: t, modifiers: { trim: n, number: s } }) {
    const r = t ?? "", i = e[ar];
    delete e[ar], i !== void 0 && (e.type === "text" || e.type === "textarea") && e.value !== i ? e[On](Ci(e.value, n, s)) : e.value = r;
  },
  beforeUpdate(e, { value: t, oldValue: n, modifiers: { lazy: s, trim: r, number: i } }, o) {
    if (e[On] = Tr(o), e.composing) return;
    const l = (i || e.type === "number") && !/^0\d/.test(e.value) ? Hs(e.value) : e.value, a = t ?? "";
    if (l === a)
      return;
    const c = e.getRootNode();
    (c instanceof Document || c instanceof ShadowRoot) && c.activeElement === e && e.type !== "range" && (s && t === n || r && e.value.trim() === a) || (e.value = a);
  }
}, Gh = {
  // <select multiple> value need to be deep traversed
  deep: !0,
  created(e, { value: t, modifiers: { number: n } }, s) {
    e._modelValue = t, In(e, "change", () => {
      const r = Array.prototype.filter.call(e.options, (a) => a.selected).map(
        (a) => n ? Hs(Ir(a)) : Ir(a)
      ), i = e.multiple, o = i ? Bn(e._modelValue) ? new Set(r) : r : r[0], l = e._pendingValue = [
        i,
        i ? ce(o) ? r.slice() : r : o
      ];
      try {
        e[On](o);
      } finally {
        Es(() => {
          e._pendingValue === l && (e._pendingValue = void 0);
        });
      }
    }), e[On] = Tr(s);
  },
  // set value in mounted & updated because <select> relies on its children
  // <option>s.
  mounted(e, { value: t, modifiers: { number: n } }) {
    ql(e, t, n);
  },
  beforeUpdate(e, { value: t }, n) {
    e._modelValue = t, e[On] = Tr(n);
  },
  updated(e, { value: t, modifiers: { number: n } }) {
    const s = e._pendingValue;
    e._pendingValue = void 0, (!s || s[0] !== e.multiple || !Kh(t, s[1], s[0])) && ql(e, t, n);
  }
};
function Kh(e, t, n) {
  if (!n || ce(e)) return fn(e, t);
  if (Bn(e)) {
    if (e.size !== t.length) return !1;
    for (const s of t)
      if (!e.has(s)) return !1;
    return !0;
  }
  return !1;
}
function ql(e, t, n = !1) {
  const s = e.multiple, r = ce(t);
  if (!(s && !r && !Bn(t))) {
    for (let i = 0, o = e.options.length; i < o; i++) {
      const l = e.options[i], a = Ir(l);
      if (s)
        if (r) {
          const c = typeof a;
          c === "string" || c === "number" ? l.selected = t.some((u) => String(u) === String(a)) : l.selected = ed(t, a) > -1;
        } else
          l.selected = t.has(a) || n && typeof a == "string" && t.has(Hs(a));
      else if (fn(Ir(l), t)) {
        e.selectedIndex !== i && (e.selectedIndex = i);
        return;
      }
    }
    !s && e.selectedIndex !== -1 && (e.selectedIndex = -1);
  }
}
function Ir(e) {
  return "_value" in e ? e._value : e.value;
}
const Xh = ["ctrl", "shift", "alt", "meta"], Yh = {
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
  exact: (e, t) => Xh.some((n) => e[`${n}Key`] && !t.includes(n))
}, Sn = (e, t) => {
  if (!e) return e;
  const n = e._withMods || (e._withMods = {}), s = t.join(".");
  return n[s] || (n[s] = ((r, ...i) => {
    for (let o = 0; o < t.length; o++) {
      const l = Yh[t[o]];
      if (l && l(r, t)) return;
    }
    return e(r, ...i);
  }));
}, Zh = /* @__PURE__ */ mt({ patchProp: Jh }, Ch);
let Hl;
function Qh() {
  return Hl || (Hl = oh(Zh));
}
const ep = ((...e) => {
  const t = Qh().createApp(...e), { mount: n } = t;
  return t.mount = (s) => {
    const r = np(s);
    if (!r) return;
    const i = t._component;
    !Se(i) && !i.render && !i.template && (i.template = r.innerHTML), r.nodeType === 1 && (r.textContent = "");
    const o = n(r, !1, tp(r));
    return r instanceof Element && (r.removeAttribute("v-cloak"), r.setAttribute("data-v-app", "")), o;
  }, t;
});
function tp(e) {
  if (e instanceof SVGElement)
    return "svg";
  if (typeof MathMLElement == "function" && e instanceof MathMLElement)
    return "mathml";
}
function np(e) {
  return $e(e) ? document.querySelector(e) : e;
}
const sp = "/comfyd/connection";
function rp(e, t) {
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
const ip = "comfyd", op = "comfyd.token.", lp = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function _u(e) {
  return lp.test(e.token);
}
function yu(e, t) {
  return _u(e) ? `${e.wsBase}${t}` : `${e.wsBase}${t}?token=${encodeURIComponent(e.token)}`;
}
function bu(e) {
  return _u(e) ? [ip, op + e.token] : [];
}
class ap {
  constructor({ fetchJson: t, location: n }) {
    this.fetchJson = t, this.location = n, this.pending = null;
  }
  get() {
    return this.pending || (this.pending = this.fetchJson(sp).then(
      (t) => rp(t, this.location),
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
function go(e, t = Math.random) {
  const n = Math.min(1e4, 500 * 2 ** Math.min(e, 5));
  return Math.round(n * (0.75 + 0.5 * t()));
}
const $n = (e) => Array.from(e?.nodes ?? e?._nodes ?? []);
function Xt(e, t) {
  if (t == null) return null;
  const n = e.getNodeById?.(t);
  return n || ($n(e).find((s) => String(s.id) === String(t)) ?? null);
}
function cp(e, t) {
  if (t == null) return null;
  const n = e.links ?? e._links;
  return n ? typeof n.get == "function" ? n.get(t) ?? null : n[t] ?? null : null;
}
function Vl(e, t) {
  const n = e.inputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function up(e, t) {
  const n = e.outputs ?? [];
  return typeof t == "number" ? Number.isInteger(t) && t >= 0 && t < n.length ? t : -1 : n.findIndex((s) => s?.name === t);
}
function fp(e, t) {
  return (e.widgets ?? []).find((n) => n?.name === t) ?? null;
}
function dp(e) {
  return (e.widgets ?? []).map((t) => t?.name).filter((t) => typeof t == "string");
}
function hp(e, t) {
  let n = e.options?.values;
  if (typeof n == "function")
    try {
      n = n(e, t);
    } catch {
      n = null;
    }
  return Array.isArray(n) ? n : n && typeof n == "object" ? Object.keys(n) : null;
}
function Nn(e) {
  if (!e || typeof e != "object") return "";
  const { extra: t, nodes: n, ...s } = e;
  let r = t;
  if (r && typeof r == "object" && "ds" in r) {
    const { ds: o, ...l } = r;
    r = l;
  }
  if (r && typeof r == "object" && r.comfyd && typeof r.comfyd == "object" && "provenance" in r.comfyd) {
    const { provenance: o, ...l } = r.comfyd, { comfyd: a, ...c } = r;
    r = Object.keys(l).length ? { ...c, comfyd: l } : c;
  }
  const i = Array.isArray(n) ? n.map((o) => {
    if (!o || typeof o != "object") return o;
    const { order: l, ...a } = o;
    return a;
  }) : n;
  return JSON.stringify({ ...s, nodes: i, extra: r ?? null });
}
function pp(e, t) {
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
      n = gp(e, s.provenance, n);
    } catch {
      n = null;
    }
    if (!n) return !1;
  }
  return e.extra.comfyd = { ...s, provenance: n }, !0;
}
function Gl(e) {
  const t = Number(e?.extra?.comfyd?.provenance?.revision);
  return Number.isSafeInteger(t) && t > 0 ? t : 0;
}
function ot(e) {
  return e && typeof e == "object" && !Array.isArray(e);
}
function gp(e, t, n) {
  if (!ot(t) || !ot(n) || t.v !== n.v || t.revision !== n.since || !Array.isArray(t.actors) || !Array.isArray(n.actors) || !ot(n.nodes) || !ot(n.links) || !ot(t.nodes) || !ot(t.links)) return null;
  const s = new Map(t.actors.map((f, m) => [JSON.stringify(f), m])), r = n.actors.map((f) => {
    if (!ot(f)) throw new Error("an actor is not an object");
    const m = JSON.stringify(f);
    return s.has(m) || (s.set(m, t.actors.length), t.actors.push(f)), s.get(m);
  }), i = (f) => {
    if (!Number.isInteger(f) || f < 0 || f >= r.length) throw new Error("a record names no actor");
    return r[f];
  }, o = (f) => {
    if (!ot(f)) return f;
    const m = { ...f, by: i(f.by) };
    if (ot(f.created) && (m.created = { ...f.created, by: i(f.created.by) }), ot(f.widgets)) {
      m.widgets = {};
      for (const [h, p] of Object.entries(f.widgets)) m.widgets[h] = ot(p) ? { ...p, by: i(p.by) } : p;
    }
    return m;
  }, l = Object.entries(n.nodes).map(([f, m]) => [f, o(m)]), a = Object.entries(n.links).map(([f, m]) => [f, o(m)]);
  for (const f of Object.keys(t.nodes)) e.getNodeById?.(Number(f)) || delete t.nodes[f];
  const c = e._links ?? e.links, u = (f) => !!c && (typeof c.get == "function" ? c.get(Number(f)) != null : c[f] != null);
  for (const f of Object.keys(t.links)) u(f) || delete t.links[f];
  for (const [f, m] of l) t.nodes[f] = m;
  for (const [f, m] of a) t.links[f] = m;
  return t.revision = n.revision, t.actors.length > mp && _p(t), t;
}
const mp = 64;
function _p(e) {
  const t = /* @__PURE__ */ new Map(), n = (i) => {
    ot(i) && (t.has(i.by) || t.set(i.by, t.size), i.by = t.get(i.by));
  }, s = (i) => {
    if (n(i), ot(i?.created) && n(i.created), ot(i?.widgets)) for (const o of Object.values(i.widgets)) n(o);
  };
  for (const i of Object.values(e.nodes)) s(i);
  for (const i of Object.values(e.links)) s(i);
  const r = new Array(t.size);
  for (const [i, o] of t) r[o] = e.actors[i];
  e.actors = r;
}
function Zn(e, t, n = 3) {
  const s = String(e).toLowerCase(), r = [];
  for (const i of t) {
    const o = String(i).toLowerCase();
    let l = yp(s, o);
    (o.includes(s) || s.includes(o)) && (l = Math.min(l, 1)), l <= Math.max(2, Math.floor(s.length / 3)) && r.push([l, i]);
  }
  return r.sort((i, o) => i[0] - o[0] || String(i[1]).localeCompare(String(o[1]))), r.slice(0, n).map((i) => i[1]);
}
const Kl = 128;
function yp(e, t) {
  if (e.length > Kl || t.length > Kl) return 1 / 0;
  let n = Array.from({ length: t.length + 1 }, (s, r) => r);
  for (let s = 1; s <= e.length; s++) {
    const r = [s];
    for (let i = 1; i <= t.length; i++)
      r[i] = Math.min(n[i] + 1, r[i - 1] + 1, n[i - 1] + (e[s - 1] === t[i - 1] ? 0 : 1));
    n = r;
  }
  return n[t.length];
}
const Zt = Object.freeze({
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
}), Fr = (e, t) => e < t ? -1 : e > t ? 1 : 0;
function wu(e, t, n = {}) {
  const s = n.x ?? 0, r = n.y ?? 0, i = n.spacing ?? Zt.spacing, o = e.length, l = /* @__PURE__ */ new Map();
  e.forEach((J, oe) => l.set(J.id, oe));
  const a = Array.from({ length: o }, () => []), c = Array.from({ length: o }, () => []), u = /* @__PURE__ */ new Set();
  for (const [J, oe] of t) {
    const le = l.get(J), _e = l.get(oe);
    if (le === void 0 || _e === void 0 || le === _e) continue;
    const Ee = le * o + _e;
    u.has(Ee) || (u.add(Ee), a[le].push(_e), c[_e].push(le));
  }
  const f = new Uint8Array(o), m = /* @__PURE__ */ new Set();
  for (let J = 0; J < o; J++) {
    if (f[J]) continue;
    const oe = [[J, 0]];
    for (f[J] = 1; oe.length; ) {
      const le = oe[oe.length - 1], [_e, Ee] = le;
      if (Ee < a[_e].length) {
        le[1]++;
        const ye = a[_e][Ee];
        f[ye] === 1 ? m.add(_e * o + ye) : f[ye] === 0 && (f[ye] = 1, oe.push([ye, 0]));
      } else
        f[_e] = 2, oe.pop();
    }
  }
  const h = (J, oe) => !m.has(J * o + oe), p = c.map((J, oe) => J.filter((le) => h(le, oe))), k = a.map((J, oe) => J.filter((le) => h(oe, le))), v = p.map((J) => J.length), C = [], x = [];
  for (let J = 0; J < o; J++) v[J] || x.push(J);
  for (let J = 0; J < x.length; J++) {
    const oe = x[J];
    C.push(oe);
    for (const le of k[oe]) --v[le] === 0 && x.push(le);
  }
  const b = new Int32Array(o);
  for (const J of C) for (const oe of k[J]) b[oe] = Math.max(b[oe], b[J] + 1);
  for (const J of C) {
    if (p[J].length || !k[J].length) continue;
    let oe = 1 / 0;
    for (const le of k[J]) oe = Math.min(oe, b[le]);
    b[J] = Math.max(0, oe - 1);
  }
  let w = 0;
  for (let J = 0; J < o; J++) w = Math.max(w, b[J] + 1);
  const O = Array.from({ length: w }, () => []);
  for (let J = 0; J < o; J++) O[b[J]].push(J);
  const z = new Float64Array(o), $ = () => {
    for (const J of O) J.forEach((oe, le) => z[oe] = J.length > 1 ? le / (J.length - 1) : 0.5);
  };
  $();
  const ee = (J, oe) => {
    const le = J.map((_e, Ee) => {
      const ye = oe[_e];
      let G = z[_e];
      if (ye.length) {
        let T = 0;
        for (const E of ye) T += z[E];
        G = T / ye.length;
      }
      return [G, Ee, _e];
    });
    return le.sort((_e, Ee) => Fr(_e[0], Ee[0]) || _e[1] - Ee[1]), le.map((_e) => _e[2]);
  };
  let X = O.map((J) => J.slice()), ue = Xl(O, k, b, o);
  for (let J = 0; J < Zt.sweeps && ue > 0; J++) {
    for (let le = 1; le < w; le++)
      O[le] = ee(O[le], p), $();
    for (let le = w - 2; le >= 0; le--)
      O[le] = ee(O[le], k), $();
    const oe = Xl(O, k, b, o);
    oe < ue && (ue = oe, X = O.map((le) => le.slice()));
  }
  const ne = new Float64Array(o), pe = new Float64Array(o);
  let Ie = s, xe = r;
  for (let J = 0; J < w; J++) {
    let oe = 0, le = r;
    for (const _e of X[J]) {
      const Ee = e[_e];
      let ye = le;
      if (p[_e].length) {
        let G = 0;
        for (const T of p[_e]) G += pe[T] + e[T].h / 2;
        ye = Math.max(le, G / p[_e].length - Ee.h / 2);
      }
      ne[_e] = Ie, pe[_e] = ye, le = ye + Ee.h + i, oe = Math.max(oe, Ee.w), xe = Math.max(xe, ye + Ee.h);
    }
    Ie += oe + i;
  }
  const Re = /* @__PURE__ */ new Map(), dt = /* @__PURE__ */ new Map();
  for (let J = 0; J < o; J++)
    Re.set(e[J].id, [ne[J], pe[J]]), dt.set(e[J].id, b[J]);
  return { pos: Re, layer: dt, width: w ? Ie - i - s : 0, height: xe - r };
}
function Xl(e, t, n, s) {
  const r = new Float64Array(s);
  for (const l of e) l.forEach((a, c) => r[a] = c);
  const i = /* @__PURE__ */ new Map();
  for (let l = 0; l < s; l++)
    for (const a of t[l]) {
      const c = n[l] * 65536 + n[a];
      let u = i.get(c);
      u || i.set(c, u = []), u.push([r[l], r[a]]);
    }
  let o = 0;
  for (const l of i.values())
    l.sort((a, c) => a[0] - c[0] || a[1] - c[1]), o += mo(l.map((a) => a[1]));
  return o;
}
function mo(e) {
  if (e.length < 2) return 0;
  const t = e.length >> 1, n = e.slice(0, t), s = e.slice(t);
  let r = mo(n) + mo(s), i = 0, o = 0, l = 0;
  for (; i < n.length && o < s.length; )
    n[i] <= s[o] ? e[l++] = n[i++] : (e[l++] = s[o++], r += n.length - i);
  for (; i < n.length; ) e[l++] = n[i++];
  for (; o < s.length; ) e[l++] = s[o++];
  return r;
}
function bp(e, t, n = 0) {
  return e.x < t.x + t.w + n && t.x < e.x + e.w + n && e.y < t.y + t.h + n && t.y < e.y + e.h + n;
}
function ku(e, t, n = Zt.spacing) {
  const s = n / 2, r = t.filter((o) => e.x < o.x + o.w + s && o.x < e.x + e.w + s);
  r.sort((o, l) => o.y - l.y || o.x - l.x);
  let i = e.y;
  for (const o of r) i < o.y + o.h + s && o.y < i + e.h + s && (i = o.y + o.h + n);
  return i;
}
function Bo(e) {
  const t = e?.NODE_TITLE_HEIGHT;
  return typeof t == "number" && Number.isFinite(t) && t >= 0 ? t : Zt.titleHeight;
}
function Or(e, t) {
  const n = Bo(t), s = Number(e.size?.[0]), r = Number(e.size?.[1]), i = !!e.flags?.collapsed;
  return {
    id: e.id,
    x: Number(e.pos?.[0]) || 0,
    y: (Number(e.pos?.[1]) || 0) - n,
    w: Number.isFinite(s) && s > 0 ? s : 200,
    h: i ? n : (Number.isFinite(r) && r > 0 ? r : 100) + n
  };
}
function vu(e) {
  const t = [];
  for (const n of $n(e))
    for (const s of n.inputs ?? []) {
      if (s?.link === null || s?.link === void 0) continue;
      const r = cp(e, s.link);
      if (!r) continue;
      const i = r.origin_id ?? r[1];
      i != null && t.push([r.id ?? r[0], i, n.id]);
    }
  return t.sort((n, s) => Fr(Number(n[0]), Number(s[0]))), t.map(([, n, s]) => [n, s]);
}
const wp = (e, t) => Fr(Number(e.id), Number(t.id)) || Fr(String(e.id), String(t.id));
function xu(e, t, n, s) {
  const r = [Math.round(t), Math.round(n + s)];
  e.pos && typeof e.pos.length == "number" && e.pos.length >= 2 ? (e.pos[0] = r[0], e.pos[1] = r[1]) : e.pos = r;
}
function kp(e, t, n = {}) {
  const s = n.LiteGraph, r = Bo(s), i = n.spacing ?? Zt.spacing, o = n.exclude ?? (() => !1);
  let l;
  if (t && t.length) {
    const b = new Set(t.map(String));
    l = $n(e).filter((w) => b.has(String(w.id)));
  } else l = $n(e).filter((b) => !o(b));
  if (!l.length) return [];
  const a = new Set(l.map((b) => String(b.id))), c = l.map((b) => Or(b, s));
  c.sort((b, w) => b.y - w.y || b.x - w.x || wp(b, w));
  const u = n.x ?? Math.min(...c.map((b) => b.x)), f = n.y ?? Math.min(...c.map((b) => b.y)), m = vu(e).filter(([b, w]) => a.has(String(b)) && a.has(String(w))), { pos: h, layer: p } = wu(c, m, { x: u, y: f, spacing: i }), k = new Set([...n.ignore ?? []].map(String)), v = $n(e).filter((b) => !a.has(String(b.id)) && !k.has(String(b.id))).map((b) => Or(b, s)), C = c.slice().sort((b, w) => p.get(b.id) - p.get(w.id) || h.get(b.id)[1] - h.get(w.id)[1]), x = [];
  for (const b of C) {
    const [w, O] = h.get(b.id), z = { ...b, x: w, y: O };
    v.length && (z.y = ku(z, v.concat(x), i)), x.push(z), xu(Xt(e, b.id), z.x, z.y, r);
  }
  return C.map((b) => b.id);
}
function vp(e, t, n = {}) {
  const s = n.LiteGraph, r = Bo(s), i = n.spacing ?? Zt.spacing, o = new Set(t.map(String)), l = t.map((x) => Xt(e, x)).filter(Boolean);
  if (!l.length) return [];
  const a = l.map((x) => Or(x, s)), c = $n(e).filter((x) => !o.has(String(x.id))).map((x) => Or(x, s)), u = new Map(c.map((x) => [String(x.id), x])), f = vu(e), m = f.filter(([x, b]) => o.has(String(x)) && o.has(String(b))), h = wu(a, m, { x: 0, y: 0, spacing: i });
  let p = -1 / 0, k = 1 / 0;
  for (const [x, b] of f) {
    const w = u.get(String(x));
    !w || !o.has(String(b)) || (p = Math.max(p, w.x + w.w + i - h.pos.get(b)[0]), k = Math.min(k, w.y));
  }
  if (p === -1 / 0) {
    const x = xp(c), b = Array.isArray(n.view) && n.view.length === 4 && n.view.every(Number.isFinite) ? n.view : null;
    let w = null;
    if (b) {
      w = [b[0] + Math.max(i, (b[2] - h.width) / 2), b[1] + Math.max(i, (b[3] - h.height) / 2)];
      const O = { x: w[0], y: w[1], w: h.width, h: h.height };
      c.some((z) => bp(O, z, i / 2)) && (w = null);
    }
    w || (w = x ? [x.x + x.w + i, x.y] : b ? [b[0] + b[2] / 4, b[1] + b[3] / 4] : Zt.origin), [p, k] = w;
  }
  const v = a.slice().sort((x, b) => h.layer.get(x.id) - h.layer.get(b.id) || h.pos.get(x.id)[1] - h.pos.get(b.id)[1]), C = c.slice();
  for (const x of v) {
    const [b, w] = h.pos.get(x.id), O = { ...x, x: p + b, y: k + w };
    O.y = ku(O, C, i), C.push(O), xu(Xt(e, x.id), O.x, O.y, r);
  }
  return v.map((x) => x.id);
}
function xp(e) {
  if (!e.length) return null;
  let t = 1 / 0, n = 1 / 0, s = -1 / 0, r = -1 / 0;
  for (const i of e)
    t = Math.min(t, i.x), n = Math.min(n, i.y), s = Math.max(s, i.x + i.w), r = Math.max(r, i.y + i.h);
  return { x: t, y: n, w: s - t, h: r - n };
}
const nt = Object.freeze({
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
}), Si = Object.freeze({ always: 0, never: 2, mute: 2, bypass: 4 });
class _o extends Error {
  constructor(t, n, s = []) {
    super(n), this.code = t, this.suggestions = s;
  }
}
const ae = (e, t, n) => {
  throw new _o(e, t, n);
}, is = (e) => e !== null && typeof e == "object" && !Array.isArray(e);
function Kn(e, t, n = nt.name, { optional: s = !1 } = {}) {
  if (e == null) {
    if (s) return "";
    ae("INVALID_COMMAND", `${t} is required`);
  }
  return typeof e != "string" && ae("INVALID_COMMAND", `${t} must be a string`), e.length > n && ae("INVALID_COMMAND", `${t} is longer than ${n} characters`), e;
}
function An(e, t, { optional: n = !1 } = {}) {
  return e == null ? n ? null : 0 : ((typeof e != "number" || !Number.isFinite(e) || Math.abs(e) > nt.coord) && ae("INVALID_COMMAND", `${t} must be a number within ±${nt.coord}`), e);
}
function en(e, t) {
  return is(e) && ("id" in e ? e = e.id : "ref" in e && (e = e.ref)), typeof e == "number" && Number.isSafeInteger(e) ? { id: e } : typeof e == "string" && e.length > 0 && e.length <= nt.ref ? /^-?\d+$/.test(e) && Number.isSafeInteger(Number(e)) ? { id: Number(e), ref: e } : { ref: e } : ae("INVALID_COMMAND", `${t} must be a node id or a ref`);
}
function Di(e, t) {
  if (e == null) return 0;
  if (is(e))
    if ("index" in e) e = e.index;
    else if ("name" in e) e = e.name;
    else return 0;
  return typeof e == "number" && Number.isInteger(e) && e >= 0 && e < 65536 || typeof e == "string" && e.length > 0 && e.length <= nt.name ? e : ae("INVALID_COMMAND", `${t} must be a slot index or name`);
}
function Yl(e, t) {
  if (is(e)) {
    const n = ["number", "integer", "text", "boolean"].filter((s) => s in e);
    n.length !== 1 && ae("INVALID_COMMAND", `${t} must be a number, a string or a boolean`), e = e[n[0]];
  }
  return typeof e == "number" ? (Number.isFinite(e) || ae("VALUE_INVALID", `${t} must be a finite number`), e) : typeof e == "boolean" ? e : typeof e == "string" ? (e.length > nt.text && ae("VALUE_INVALID", `${t} is longer than ${nt.text} characters`), e) : ae("INVALID_COMMAND", `${t} must be a number, a string or a boolean`);
}
const wr = {
  create_node(e) {
    const t = {
      node_type: Kn(e.node_type, "node_type"),
      x: An(e.x, "x", { optional: !0 }),
      y: An(e.y, "y", { optional: !0 }),
      ref: Kn(e.ref, "ref", nt.ref, { optional: !0 }),
      title: Kn(e.title, "title", nt.name, { optional: !0 }),
      widgets: []
    };
    if (t.node_type || ae("INVALID_COMMAND", "node_type is required"), e.widgets !== void 0 && e.widgets !== null) {
      is(e.widgets) || ae("INVALID_COMMAND", "widgets must be an object of name: value");
      const n = Object.keys(e.widgets);
      n.length > nt.widgets && ae("INVALID_COMMAND", `more than ${nt.widgets} widgets`);
      for (const s of n) t.widgets.push([Kn(s, "widget name"), Yl(e.widgets[s], `widgets.${s}`)]);
    }
    return t;
  },
  remove_node: (e) => ({ node_id: en(e.node_id, "node_id") }),
  connect: (e) => ({
    from_id: en(e.from_id, "from_id"),
    from_slot: Di(e.from_slot, "from_slot"),
    to_id: en(e.to_id, "to_id"),
    to_slot: Di(e.to_slot, "to_slot")
  }),
  disconnect: (e) => ({ node_id: en(e.node_id, "node_id"), slot: Di(e.slot, "slot") }),
  set_widget: (e) => ({
    node_id: en(e.node_id, "node_id"),
    name: Kn(e.name, "name"),
    value: Yl(e.value, "value")
  }),
  move_node: (e) => ({ node_id: en(e.node_id, "node_id"), x: An(e.x, "x"), y: An(e.y, "y") }),
  clear_graph: () => ({}),
  get_graph: () => ({}),
  arrange(e) {
    const t = e.node_ids ?? [];
    Array.isArray(t) || ae("INVALID_COMMAND", "node_ids must be an array of node ids or refs"), t.length > nt.nodes && ae("INVALID_COMMAND", `node_ids: more than ${nt.nodes}`);
    const n = An(e.spacing, "spacing", { optional: !0 });
    return n !== null && (n < 0 || n > Zt.maxSpacing) && ae("INVALID_COMMAND", `spacing must be between 0 and ${Zt.maxSpacing}`), {
      node_ids: t.map((s, r) => en(s, `node_ids[${r}]`)),
      x: An(e.x, "x", { optional: !0 }),
      y: An(e.y, "y", { optional: !0 }),
      spacing: n
    };
  },
  set_node_mode(e) {
    const t = Kn(e.mode, "mode");
    return Object.hasOwn(Si, t) || ae("INVALID_COMMAND", `mode "${t.slice(0, 40)}" is not one of ${Object.keys(Si).join(", ")}`), { node_id: en(e.node_id, "node_id"), mode: Si[t] };
  }
}, Au = Object.freeze(Object.keys(wr)), Zl = new Set(Au.filter((e) => e !== "get_graph")), Ap = /* @__PURE__ */ new Set(["move_node", "set_widget", "get_graph"]);
function Ru(e) {
  is(e) || ae("INVALID_COMMAND", "a command must be an object");
  let t = e.type, n = e;
  if (t === void 0) {
    const s = Object.keys(e).filter((r) => Object.hasOwn(wr, r));
    s.length !== 1 && ae("INVALID_COMMAND", "missing field: type"), t = s[0], n = is(e[t]) ? e[t] : {};
  }
  return (typeof t != "string" || !Object.hasOwn(wr, t)) && ae("INVALID_COMMAND", `unknown type '${String(t).slice(0, 64)}'; expected one of ${Au.join(", ")}`), { type: t, ...wr[t](n) };
}
const Rp = /* @__PURE__ */ new Set(["number", "slider", "knob"]), Ep = /* @__PURE__ */ new Set(["text", "string", "customtext", "textarea", "markdown"]);
function Cp(e, t, n) {
  const s = String(e.type ?? ""), r = e.options ?? {};
  if (s === "combo") {
    const i = hp(e, t);
    return i && !i.some((o) => o === n) && ae("VALUE_INVALID", `${JSON.stringify(n)} is not one of the ${i.length} options of ${e.name}`, Zn(n, i.filter((o) => typeof o == "string"))), n;
  }
  return Rp.has(s) ? (typeof n != "number" && ae("VALUE_INVALID", `${e.name} takes a number`), r.precision === 0 && !Number.isInteger(n) && ae("VALUE_INVALID", `${e.name} takes an integer`), typeof r.min == "number" && n < r.min && ae("VALUE_INVALID", `${e.name}: ${n} is below the minimum ${r.min}`), typeof r.max == "number" && n > r.max && ae("VALUE_INVALID", `${e.name}: ${n} is above the maximum ${r.max}`), n) : s === "toggle" || s === "boolean" ? (typeof n != "boolean" && ae("VALUE_INVALID", `${e.name} takes true or false`), n) : Ep.has(s) ? (typeof n != "string" && ae("VALUE_INVALID", `${e.name} takes a string`), n) : (s === "button" && ae("VALUE_INVALID", `${e.name} is a button, it has no value`), n);
}
function Sp(e) {
  const t = e.value;
  if (typeof t == "number" && Number.isFinite(t) || typeof t == "string" || typeof t == "boolean") return t;
}
function Ql(e, t, n, s) {
  const r = fp(t, n);
  r || ae("WIDGET_NOT_FOUND", `node #${t.id} (${t.type}) has no widget "${n}"`, Zn(n, dp(t)));
  const i = Cp(r, t, s), o = r.value;
  r.value = i;
  try {
    r.callback?.call(r, r.value, e.canvas ?? null, t, void 0, void 0), t.onWidgetChanged?.(r.name, r.value, o, r);
  } catch (l) {
    e.log?.("warn", `widget callback of ${n} failed: ${l?.message ?? l}`);
  }
  return Sp(r);
}
function tn(e, t, n) {
  if (t.ref !== void 0 && e.refs.has(t.ref)) return Xt(e.graph, e.refs.get(t.ref));
  if (t.id !== void 0) {
    const s = Xt(e.graph, t.id);
    if (s) return s;
    ae("NODE_NOT_FOUND", `${n}: no node #${t.id}`);
  }
  return ae("REF_NOT_FOUND", `${n}: no node was created with ref "${t.ref}" earlier in this patch`);
}
function Dp(e) {
  const t = typeof e.view == "function" ? e.view() : null;
  return Array.isArray(t) && t.length === 4 && t.every(Number.isFinite) ? t : null;
}
function Tp(e) {
  const t = [...e.pending].filter((n) => Xt(e.graph, n));
  e.pending.clear(), t.length && vp(e.graph, t, { LiteGraph: e.LiteGraph, view: Dp(e) });
}
const Ip = {
  create_node(e, t) {
    const { graph: n, LiteGraph: s } = e, r = s.createNode(t.node_type);
    if (!r) {
      const l = Object.keys(s.registered_node_types ?? {});
      ae("UNKNOWN_NODE_TYPE", `unknown node type "${t.node_type}"`, Zn(t.node_type, l));
    }
    t.title && (r.title = t.title);
    const i = t.x === null || t.y === null;
    r.pos = i ? [0, 0] : [t.x, t.y];
    const o = e.expectedId;
    Number.isSafeInteger(o) && o > 0 && !Xt(n, o) && (r.id = o), n.add(r), Xt(n, r.id) || ae("EDITOR_FAILED", `the graph did not accept the ${t.node_type} node`);
    try {
      for (const [l, a] of t.widgets) Ql(e, r, l, a);
    } catch (l) {
      throw n.remove(r), l;
    }
    return t.ref && e.refs.set(t.ref, r.id), i && e.pending.add(r.id), { node_id: r.id };
  },
  remove_node(e, t) {
    const n = tn(e, t.node_id, "node_id"), s = n.id;
    return e.graph.remove(n), Xt(e.graph, s) && ae("EDITOR_FAILED", `node #${s} cannot be removed`), { node_id: s };
  },
  connect(e, t) {
    const n = tn(e, t.from_id, "from_id"), s = tn(e, t.to_id, "to_id"), r = up(n, t.from_slot);
    r < 0 && ae(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no output ${JSON.stringify(t.from_slot)}`,
      typeof t.from_slot == "string" ? Zn(t.from_slot, (n.outputs ?? []).map((c) => c.name)) : []
    );
    const i = Vl(s, t.to_slot);
    i < 0 && ae(
      "SLOT_NOT_FOUND",
      `node #${s.id} (${s.type}) has no input ${JSON.stringify(t.to_slot)}`,
      typeof t.to_slot == "string" ? Zn(t.to_slot, (s.inputs ?? []).map((c) => c.name)) : []
    ), n === s && ae("INVALID_COMMAND", `node #${n.id} cannot be linked to itself`);
    const o = n.outputs[r].type, l = s.inputs[i].type;
    e.LiteGraph.isValidConnection(o, l) || ae("TYPE_MISMATCH", `output ${r} of #${n.id} is ${o}, input ${JSON.stringify(s.inputs[i].name)} of #${s.id} takes ${l}`);
    const a = n.connect(r, s, i);
    return a || ae("EDITOR_FAILED", `LiteGraph refused the link #${n.id}:${r} -> #${s.id}:${i}`), { node_id: s.id, link_id: a.id };
  },
  disconnect(e, t) {
    const n = tn(e, t.node_id, "node_id"), s = Vl(n, t.slot);
    s < 0 && ae(
      "SLOT_NOT_FOUND",
      `node #${n.id} (${n.type}) has no input ${JSON.stringify(t.slot)}`,
      typeof t.slot == "string" ? Zn(t.slot, (n.inputs ?? []).map((i) => i.name)) : []
    );
    const r = n.inputs[s].link;
    return r == null ? { node_id: n.id, link_id: 0 } : (n.disconnectInput(s), n.inputs[s].link !== null && n.inputs[s].link !== void 0 && ae("EDITOR_FAILED", `input ${s} of #${n.id} could not be disconnected`), { node_id: n.id, link_id: r });
  },
  set_widget(e, t) {
    const n = tn(e, t.node_id, "node_id"), s = Ql(e, n, t.name, t.value);
    return s === void 0 ? { node_id: n.id } : { node_id: n.id, value: s };
  },
  move_node(e, t) {
    const n = tn(e, t.node_id, "node_id");
    return n.pos = [t.x, t.y], e.pending.delete(n.id), { node_id: n.id };
  },
  clear_graph(e) {
    const t = e.keepOnClear ?? (() => !1);
    for (const n of $n(e.graph)) t(n) || e.graph.remove(n);
    for (const n of Array.from(e.graph._groups ?? e.graph.groups ?? [])) e.graph.remove(n);
    return {};
  },
  get_graph() {
    return {};
  },
  arrange(e, t) {
    const n = t.node_ids.map((r, i) => tn(e, r, `node_ids[${i}]`).id), s = kp(e.graph, n, {
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
    const n = tn(e, t.node_id, "node_id");
    return n.mode = t.mode, n.mode !== t.mode && ae("EDITOR_FAILED", `node #${n.id} kept mode ${n.mode}`), { node_id: n.id };
  }
}, Fp = "BATCH_MODE_PARTIAL";
function Op(e) {
  return e === Fp || e === 2 || String(e).toLowerCase() === "partial";
}
function ea(e, t) {
  const n = t instanceof _o ? t.code : "EDITOR_FAILED", s = t instanceof _o ? t.message : `command failed: ${t?.message ?? String(t)}`, r = { code: n, message: s.slice(0, 1e3), index: e };
  return t?.suggestions?.length && (r.suggestions = t.suggestions), { index: e, ok: !1, error: r };
}
function Np(e, t) {
  const n = Array.isArray(t?.commands) ? t.commands : [];
  if (n.length > nt.commands)
    return { ok: !1, error: `more than ${nt.commands} commands`, results: [], applied: !1 };
  const s = e.graph, r = Op(t?.mode), i = Array.isArray(t?.expected_node_ids) ? t.expected_node_ids.map(Number) : [], o = { ...e, refs: /* @__PURE__ */ new Map(), pending: /* @__PURE__ */ new Set(), expectedId: void 0 }, a = n.length === 1 && Ap.has(n[0]?.type) ? null : s.serialize(), c = new Array(n.length);
  let u = 0, f = -1, m = !1;
  for (let k = 0; k < n.length; k++) {
    let v;
    try {
      v = Ru(n[k]);
    } catch (x) {
      if (c[k] = ea(k, x), !r) {
        f = k;
        break;
      }
      continue;
    }
    o.expectedId = v.type === "create_node" ? i[u++] : void 0;
    const C = r && Zl.has(v.type) && k > 0 ? s.serialize() : null;
    try {
      c[k] = { index: k, ok: !0, ...Ip[v.type](o, v) }, Zl.has(v.type) && (m = !0);
    } catch (x) {
      if (c[k] = ea(k, x), !r) {
        f = k;
        break;
      }
      const b = C ?? a;
      b && Nn(s.serialize()) !== Nn(b) && ta(s, b);
    }
  }
  if (f >= 0) {
    a && Nn(s.serialize()) !== Nn(a) && ta(s, a);
    const k = `not applied: command ${f} failed and the patch is atomic (the graph was rolled back)`;
    for (let v = 0; v < n.length; v++)
      v !== f && (c[v] = { index: v, ok: !1, error: { code: "SKIPPED", message: k, index: v } });
    return s.setDirtyCanvas?.(!0, !0), { ok: !1, error: c[f].error.message, results: c, applied: !1 };
  }
  Tp(o), s.setDirtyCanvas?.(!0, !0);
  const h = c.every((k) => k.ok), p = c.find((k) => !k.ok);
  return {
    ok: h,
    error: h ? "" : p.error.message,
    results: c,
    applied: m
  };
}
function ta(e, t) {
  e.configure(structuredClone(t)), e.setDirtyCanvas?.(!0, !0);
}
const Eu = new Float64Array(1), na = new Uint32Array(Eu.buffer), sa = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
function ra(e) {
  for (let t = 1; t < e.length; t++) if (e[t - 1].id > e[t].id) return [...e].sort((n, s) => n.id - s.id);
  return e;
}
function Mp(e) {
  const t = e._links ?? e.links;
  return t ? [...typeof t.values == "function" && !Array.isArray(t) ? t.values() : Object.values(t)].filter((s) => s && s.id != null) : [];
}
const ks = 16777619;
function Lp(e) {
  const t = e < 0 ? -e : e, n = 31 - Math.clz32(t);
  return (e < 0 ? 2147483648 : 0) | 1023 + n << 20 | t - (1 << n) << 20 - n;
}
function Ke(e, t) {
  let n = typeof t == "number" ? t : Number(t);
  return n === (n | 0) && n > -2097152 && n < 2097152 ? (e = Math.imul(e, ks), Math.imul(e ^ (n === 0 ? 0 : Lp(n)), ks)) : ((n === 0 || !Number.isFinite(n)) && (n = 0), Eu[0] = n, e = Math.imul(e ^ na[sa], ks), Math.imul(e ^ na[1 - sa], ks));
}
function Pp(e, t) {
  const n = typeof t == "string" ? t : String(t ?? "");
  e = Ke(e, n.length);
  for (let s = 0; s < n.length; s++) e = Math.imul(e ^ n.charCodeAt(s), ks);
  return e;
}
function $p(e) {
  let t = -2128831035;
  const n = ra(e._nodes ?? e.nodes ?? []);
  t = Ke(t, n.length);
  for (const r of n) {
    t = Ke(t, r.id), t = Pp(t, r.type);
    const i = r.pos;
    t = Ke(t, i?.[0] ?? 0), t = Ke(t, i?.[1] ?? 0), t = Ke(t, r.mode ?? 0);
    const o = r.inputs ?? [];
    t = Ke(t, o.length);
    for (let a = 0; a < o.length; a++) {
      const c = o[a]?.link;
      t = Ke(t, c > 0 ? c : 0);
    }
    const l = r.outputs ?? [];
    t = Ke(t, l.length);
    for (let a = 0; a < l.length; a++) {
      const c = l[a]?.links ?? [];
      let u = 0;
      for (let f = 0; f < c.length; f++) c[f] > 0 && u++;
      t = Ke(t, u);
      for (let f = 0; f < c.length; f++) c[f] > 0 && (t = Ke(t, c[f]));
    }
  }
  const s = ra(Mp(e));
  t = Ke(t, s.length);
  for (const r of s)
    t = Ke(t, r.id), t = Ke(t, r.origin_id), t = Ke(t, r.origin_slot), t = Ke(t, r.target_id), t = Ke(t, r.target_slot);
  return (t >>> 0).toString(16).padStart(8, "0");
}
function jp(e) {
  return Array.isArray(e) ? e : e && typeof e == "object" ? [e.id, e.origin_id, e.origin_slot, e.target_id, e.target_slot, e.type] : null;
}
function Bp(e) {
  if (!e || typeof e != "object") return JSON.stringify(e);
  const { order: t, ...n } = e;
  return JSON.stringify(n);
}
function zp(e) {
  const { nodes: t, links: n, last_node_id: s, last_link_id: r, state: i, ...o } = e;
  return Nn({ ...o, nodes: [] });
}
function Cu(e) {
  if (!e || typeof e != "object" || !Array.isArray(e.nodes)) return null;
  const t = /* @__PURE__ */ new Map();
  for (const s of e.nodes) s && s.id != null && t.set(s.id, Bp(s));
  const n = /* @__PURE__ */ new Map();
  for (const s of Array.isArray(e.links) ? e.links : []) {
    const r = jp(s);
    r && r[0] != null && n.set(r[0], JSON.stringify(r));
  }
  return { nodes: t, links: n, rest: zp(e) };
}
function ia(e, t, n) {
  if (!e) return null;
  const s = Cu(t);
  if (!s || s.rest !== e.rest) return null;
  const r = [];
  for (const a of t.nodes)
    !a || a.id == null || e.nodes.get(a.id) !== s.nodes.get(a.id) && r.push(JSON.stringify(a));
  const i = [...e.nodes.keys()].filter((a) => !s.nodes.has(a)), o = [];
  for (const [a, c] of s.links) {
    const u = e.links.get(a);
    if (u === void 0) o.push(c);
    else if (u !== c) return null;
  }
  const l = [...e.links.keys()].filter((a) => !s.links.has(a));
  return {
    nodes_json: r,
    removed_node_ids: i,
    links_json: o,
    removed_link_ids: l,
    last_node_id: Number(n.state?.lastNodeId ?? n.last_node_id ?? t.last_node_id ?? 0),
    last_link_id: Number(n.state?.lastLinkId ?? n.last_link_id ?? t.last_link_id ?? 0),
    digest: $p(n)
  };
}
function Up(e) {
  const t = e?.canvas;
  if (t && typeof t.emitBeforeChange == "function" && typeof t.emitAfterChange == "function")
    return { begin: () => t.emitBeforeChange(), end: () => t.emitAfterChange() };
  const n = e?.rootGraph ?? e?.graph;
  return n && typeof n.beforeChange == "function" && typeof n.afterChange == "function" ? { begin: () => n.beforeChange(), end: () => n.afterChange() } : { begin() {
  }, end() {
  } };
}
function oa(e, t) {
  const n = Up(e);
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
const Wp = 1e3, Jp = 1500, qp = 120, Hp = 480 * 1024, Ti = "the tab has switched to another workflow; this canvas is no longer open in it", Vp = 200, Gp = 50, Kp = 1e4, Xp = 1e3, Yp = 128, Ii = 1024 * 1024 - 1024, Zp = 16;
function Qp(e) {
  let t = 2166136261;
  for (let n = 0; n < e.length; n++)
    t ^= e.charCodeAt(n), t = Math.imul(t, 16777619) >>> 0;
  return t.toString(16).padStart(8, "0");
}
function Fi(e, t) {
  const n = String(t || "workflow"), s = n.split("/").pop().replace(/[^\w .()-]/g, "_").slice(0, 48);
  return `${e}:${s}~${Qp(n)}`.slice(0, Yp);
}
function eg(e, t = Hp) {
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
function tg(e, t = () => Math.random().toString(36).slice(2, 10)) {
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
class ng {
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
    }), this.socket = null, this.attached = !1, this.canvasId = null, this.revision = 0, this.tabRevision = 0, this.lastSig = null, this.baseline = null, this.deltasSent = 0, this.patchDeltasSent = 0, this.resyncs = 0, this.answered = /* @__PURE__ */ new Map(), this.work = Promise.resolve(), this.busy = 0, this.attempt = 0, this.stopped = !0, this.replaced = !1, this.reconnectTimer = null, this.pollTimer = null, this.debounceTimer = null, this.focused = !1, this.focusSentAt = -1 / 0, this.waitedSteps = 0, this.pointerDown = !1, this.pointerDownAt = 0, this.pendingProvenance = null, this.objectInfoJson = null, this.listeners = [], this.status = "idle", this.onStatus = null;
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
  /** Stores the provenance of a report_ack (keepProvenance) unless
   * ComfyUI is restoring an undo or redo step: its change tracker loads the
   * stored state asynchronously and only then takes it as the current one,
   * so provenance written in between would be a change it never saw, which
   * it records as a new undo step, and a quick second Ctrl+Z would undo
   * that instead of the user's edit. The newest one waits and is stored by
   * the next edit check after the restore. */
  storeProvenance(t) {
    if (this.activeWorkflow()?.changeTracker?._restoringState) {
      this.pendingProvenance = t;
      return;
    }
    this.pendingProvenance = null, pp(this.graph(), t) && this.untrackProvenance();
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
    this.stopped && (this.stopped = !1, this.focused = !!this.d.hasFocus?.(), this.pollTimer = this.t.setInterval(() => this.checkEdits(), Jp), this.connect());
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
    const t = go(this.attempt++);
    this.setStatus("reconnecting"), this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, t);
  }
  /** The frontend opens its first workflow a moment after the extension's
   * setup: attach only then (or after WORKFLOW_WAIT_STEPS), so the canvas
   * id names that workflow and does not change right away. */
  workflowReady() {
    const t = this.d.app.extensionManager?.workflow;
    return this.d.app.rootGraph ?? this.d.app.graph ? !t || !!t.activeWorkflow || ++this.waitedSteps > Gp : !1;
  }
  async connect() {
    if (this.stopped) return;
    if (this.closeSocket(1e3, "reconnecting"), this.setStatus("connecting"), !this.workflowReady()) {
      this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = this.t.setTimeout(() => {
        this.reconnectTimer = null, this.connect();
      }, Vp);
      return;
    }
    let t;
    if (this.objectInfoJson === null)
      try {
        this.objectInfoJson = eg(await this.d.objectInfo?.());
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
      n = new this.d.WebSocket(yu(t, "/comfy/editor/ws"), bu(t));
    } catch (s) {
      this.log("warn", `comfyd: cannot open the editor socket (${s?.message ?? s})`), this.scheduleReconnect();
      return;
    }
    this.socket = n, n.onopen = () => this.sendAttach(), n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      if (this.socket === n && (this.socket = null, this.attached = !1, !this.stopped)) {
        if (s?.code === Wp) {
          this.replaced = !0, this.setStatus("replaced");
          return;
        }
        (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.scheduleReconnect();
      }
    };
  }
  sendAttach() {
    const t = this.serialize();
    this.canvasId = Fi(this.d.tabId, this.workflowKey()), this.reported(t), this.tabRevision += 1;
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
          this.attached = !0, this.pendingProvenance = null, this.attempt = 0, this.replaced = !1, this.revision = Number(n.revision) || 0, this.setStatus("attached"), this.d.onLeases?.({ leases: [] }), this.checkEdits();
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
          Number.isFinite(Number(n.revision)) && (this.revision = Number(n.revision)), n.provenance_json && this.storeProvenance(n.provenance_json);
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
    return Fi(this.d.tabId, this.workflowKey()) === this.canvasId ? !1 : (this.enqueue(() => this.reattach()), !0);
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
      return this.send({ type: "patch_result", request_id: t.request_id, ok: !1, error: Ti, results: [], workflow_json: "", tab_revision: this.tabRevision });
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
      s = oa(this.d.app, () => Np(n, t));
    } catch (l) {
      s = { ok: !1, error: `the patch failed: ${l?.message ?? l}`, results: [] };
    } finally {
      this.busy--;
    }
    const r = this.serialize();
    let i = null;
    try {
      i = ia(this.baseline, r, this.graph());
    } catch {
      i = null;
    }
    this.reported(r), this.tabRevision += 1;
    const o = {
      type: "patch_result",
      request_id: t.request_id,
      ok: !!s.ok,
      error: s.error ?? "",
      results: (s.results ?? []).filter(Boolean).map(sg),
      tab_revision: this.tabRevision,
      provenance_revision: Gl(this.graph())
    };
    this.answered.set(String(t.request_id), o), this.answered.size > Zp && this.answered.delete(this.answered.keys().next().value), i && this.send({ ...o, delta: i }) ? this.patchDeltasSent++ : i || this.send({ ...o, workflow_json: JSON.stringify(r) });
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
      return this.send({ type: "queue_result", request_id: t.request_id, ok: !1, error: Ti, prompt_id: "", number: 0 });
    if (t.prompt_only) return this.handlePromptOnly(t);
    const { app: n, api: s } = this.d, r = [];
    let i = "";
    const o = s.queuePrompt;
    s.queuePrompt = async function(...c) {
      try {
        const u = await o.apply(this, c);
        return r.push(u), u;
      } catch (u) {
        throw i = aa(u), u;
      }
    };
    try {
      const c = Math.max(1, Math.min(100, Number(t.batch_count) || 1));
      await n.queuePrompt(0, c);
    } catch (c) {
      i = i || aa(c);
    } finally {
      s.queuePrompt = o;
    }
    const l = r[r.length - 1], a = !!l?.prompt_id && !i;
    this.send({
      type: "queue_result",
      request_id: t.request_id,
      ok: a,
      error: a ? "" : i || "the frontend did not queue the workflow",
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
      la(s, "beforeQueued");
      const o = await n.graphToPrompt(s);
      if (i = { prompt_json: JSON.stringify(o?.output ?? null), workflow_json: JSON.stringify(o?.workflow ?? null) }, !o?.output || typeof o.output != "object") throw new Error("graphToPrompt returned no prompt");
      la(s, "afterQueued");
    } catch (o) {
      return this.send({ ...r, ok: !1, error: `cannot convert the workflow: ${String(o?.message ?? o).slice(0, 1e3)}` });
    }
    if (i.prompt_json.length + i.workflow_json.length > Ii)
      return this.send({ ...r, ok: !1, error: "the workflow is too large to hand over" });
    this.send({ ...r, ok: !0, error: "", ...i });
  }
  async handleLoad(t) {
    if (this.switchedAway())
      return this.send({ type: "load_result", request_id: t.request_id, ok: !1, error: Ti, workflow_json: "", tab_revision: this.tabRevision });
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
          oa(this.d.app, () => o.configure(n));
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
    }, qp);
  }
  /** Reports the graph when it differs from what was last reported; re-
   * attaches when the open workflow is another one. */
  checkEdits() {
    if (this.stopped || !this.attached || this.busy || this.pointerDown && (this.t.now?.() ?? Date.now()) - this.pointerDownAt < Kp || this.d.app.configuringGraph) return;
    if (this.pendingProvenance && this.storeProvenance(this.pendingProvenance), Fi(this.d.tabId, this.workflowKey()) !== this.canvasId) {
      this.enqueue(() => this.reattach());
      return;
    }
    let n;
    try {
      n = this.serialize();
    } catch {
      return;
    }
    const s = Nn(n);
    if (s === this.lastSig) return;
    let r = null;
    try {
      r = ia(this.baseline, n, this.graph());
    } catch {
      r = null;
    }
    this.reported(n, s), this.tabRevision += 1;
    const i = Gl(this.graph());
    r && this.send({ type: "user_edit", delta: r, tab_revision: this.tabRevision, provenance_revision: i }) ? this.deltasSent++ : r || this.send({ type: "user_edit", workflow_json: JSON.stringify(n), tab_revision: this.tabRevision });
  }
  /** The workflow the core now has from this tab: edits are found, and
   * their deltas taken, against it. */
  reported(t, n = Nn(t)) {
    this.lastSig = n, this.baseline = Cu(t);
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
    if (!(this.focused && t - this.focusSentAt < Xp)) {
      if (!this.focused) return this.setFocus(!0);
      this.attached && this.sendFocus();
    }
  }
  sendFocus() {
    this.focusSentAt = this.t.now?.() ?? Date.now(), this.send({ type: "focus", focused: this.focused });
  }
}
function la(e, t) {
  const n = e?._nodes ?? e?.nodes ?? [];
  for (const s of n) for (const r of s.widgets ?? []) r[t]?.();
}
function aa(e) {
  const t = e?.response;
  if (t && typeof t == "object") {
    const n = typeof t.error == "object" ? t.error?.message : t.error, s = t.node_errors && typeof t.node_errors == "object" ? Object.keys(t.node_errors) : [];
    return `${n ?? "prompt refused"}${s.length ? ` (nodes ${s.join(", ")})` : ""}`.slice(0, 1e3);
  }
  return String(e?.message ?? e).slice(0, 1e3);
}
function sg(e) {
  const t = { index: e.index, ok: !!e.ok };
  return Number.isSafeInteger(Number(e.node_id)) && e.node_id !== void 0 && (t.node_id = Number(e.node_id)), Number.isSafeInteger(Number(e.link_id)) && e.link_id !== void 0 && (t.link_id = Number(e.link_id)), e.value !== void 0 && (t.value = e.value), e.error && (t.error = { code: e.error.code, message: e.error.message, index: e.error.index ?? e.index }, e.error.suggestions?.length && (t.error.suggestions = e.error.suggestions.map(String))), t;
}
const rg = 80, ig = 220, ca = 90, og = 12;
function wt(e) {
  return e == null ? null : typeof e == "object" ? e.id !== void 0 ? `id:${Number(e.id)}` : e.ref !== void 0 ? `ref:${e.ref}` : null : typeof e == "string" && !/^\d+$/.test(e) ? `ref:${e}` : `id:${Number(e)}`;
}
function lg(e) {
  let t = 0, n = 1 / 0;
  for (const s of e?._nodes ?? [])
    t = Math.max(t, Number(s.pos?.[0] ?? 0) + Number(s.size?.[0] ?? 0)), n = Math.min(n, Number(s.pos?.[1] ?? 0));
  return { right: t, top: Number.isFinite(n) ? n : 0 };
}
function ag(e, t, n = {}) {
  const s = { ghosts: [], links: [], widgets: [], removed: [], unlinked: [], moved: [], other: [], lines: [] };
  s.requested_by = String(t?.requested_by ?? ""), s.deadline_ms = Number(t?.deadline_ms ?? 0), s.destructive = Array.isArray(t?.destructive) && t.destructive.length > 0;
  const r = (t?.expected_node_ids ?? []).map(Number), i = lg(e);
  let o = 0;
  const l = (c) => c && c.startsWith("id:") ? e?.getNodeById?.(Number(c.slice(3))) : null, a = (c) => {
    const u = l(c);
    if (u) return `#${u.id} ${u.title ?? u.type}`;
    const f = s.ghosts.find((m) => m.key === c || `id:${m.id}` === c);
    return f ? `new ${f.type}` : String(c);
  };
  for (const c of t?.commands ?? []) {
    let u;
    try {
      u = Ru(c);
    } catch {
      s.other.push(c);
      continue;
    }
    switch (u.type) {
      case "create_node": {
        const f = r[o] ?? null, h = Number.isFinite(u.x) && Number.isFinite(u.y) ? [u.x, u.y] : [i.right + rg, i.top + o * (ca + 40)];
        s.ghosts.push({ key: u.ref !== void 0 && u.ref !== "" ? `ref:${u.ref}` : `id:${f}`, id: f, type: u.node_type, title: u.title || u.node_type, pos: h, size: [ig, ca], widgets: u.widgets ?? {} }), s.lines.push(`+ ${u.node_type}${u.title ? ` "${u.title}"` : ""}`), o++;
        break;
      }
      case "connect":
        s.links.push({ from: wt(u.from_id), from_slot: u.from_slot, to: wt(u.to_id), to_slot: u.to_slot }), s.lines.push(`+ link ${a(wt(u.from_id))} → ${a(wt(u.to_id))}`);
        break;
      case "set_widget": {
        const f = wt(u.node_id), m = l(f), h = s.ghosts.find((k) => k.key === f);
        if (h) {
          h.widgets = { ...h.widgets, [u.name]: u.value };
          break;
        }
        const p = m?.widgets?.find((k) => k.name === u.name);
        s.widgets.push({ node_id: m ? m.id : f, name: u.name, from: p ? p.value : void 0, to: u.value }), s.lines.push(`~ ${a(f)}.${u.name}: ${JSON.stringify(p ? p.value : null)} → ${JSON.stringify(u.value)}`);
        break;
      }
      case "remove_node": {
        const f = l(wt(u.node_id));
        f && s.removed.push(f.id), s.lines.push(`− ${a(wt(u.node_id))}`);
        break;
      }
      case "disconnect": {
        const f = l(wt(u.node_id));
        s.unlinked.push({ node_id: f ? f.id : null, slot: u.slot }), s.lines.push(`− link into ${a(wt(u.node_id))} (${JSON.stringify(u.slot)})`);
        break;
      }
      case "clear_graph":
        for (const f of e?._nodes ?? []) n.keepOnClear?.(f) || s.removed.push(f.id);
        s.lines.push("− every node (clear)");
        break;
      case "move_node": {
        const f = l(wt(u.node_id));
        f && s.moved.push({ node_id: f.id, pos: [u.x, u.y] }), s.lines.push(`↦ ${a(wt(u.node_id))}`);
        break;
      }
      default:
        s.other.push(u), s.lines.push(`${u.type}`);
    }
  }
  return s;
}
function ua(e, t, n) {
  const s = typeof t == "number" ? t : Math.max(0, (n ? e.outputs : e.inputs)?.findIndex((i) => i.name === t) ?? 0);
  return [Number(e.pos[0]) + (n ? Number(e.size[0]) : 0), Number(e.pos[1]) + 14 + s * 20];
}
class cg {
  constructor(t) {
    this.d = t, this.t = t.timers ?? globalThis, this.current = null;
  }
  get active() {
    return this.current !== null;
  }
  show(t) {
    this.dismiss(!1);
    const n = this.d.app?.graph ?? this.d.app?.canvas?.graph, s = ag(n, t, { keepOnClear: this.d.isPanelNode });
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
      t.prevDraw && t.prevDraw.call(this, r, i), s.current === t && ug(r, n.graph ?? s.d.app.graph, t.desc);
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
    const o = t.desc.lines.slice(0, og);
    t.desc.lines.length > o.length && o.push(`… and ${t.desc.lines.length - o.length} more`);
    for (const c of o) {
      const u = n.createElement("li");
      u.textContent = c, i.appendChild(u);
    }
    s.appendChild(i);
    const l = n.createElement("div");
    l.style.cssText = "display:flex;gap:8px;justify-content:flex-end";
    const a = (c, u, f, m) => {
      const h = n.createElement("button");
      return h.type = "button", h.className = u, h.textContent = c, h.style.cssText = `background:${m};color:#fff;border:0;border-radius:5px;padding:5px 14px;cursor:pointer`, h.addEventListener("click", () => this.finish(t, f)), l.appendChild(h), h;
    };
    return a("Reject", "comfyd-preview-reject", !1, "#8a2c2c"), a("Accept", "comfyd-preview-accept", !0, "#2c7a3f"), s.appendChild(l), (n.body ?? n.documentElement)?.appendChild(s), s;
  }
}
function ug(e, t, n) {
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
    const [l, a] = o.pos, [c, u] = o.size;
    e.fillStyle = "rgba(20,20,20,0.6)", e.fillRect(l, a - 30, c, u + 30), e.strokeStyle = "#d9534f", e.lineWidth = 3, e.beginPath(), e.moveTo(l, a - 30), e.lineTo(l + c, a + u), e.stroke();
  }
  const r = /* @__PURE__ */ new Map();
  for (const i of n.widgets) r.set(i.node_id, [...r.get(i.node_id) ?? [], i]);
  for (const [i, o] of r) {
    const l = t?.getNodeById?.(Number(i));
    l && (e.strokeStyle = "#f0b429", e.lineWidth = 3, e.strokeRect(l.pos[0] - 4, l.pos[1] - 34, l.size[0] + 8, l.size[1] + 38), e.fillStyle = "#f0b429", e.font = "12px sans-serif", o.forEach((a, c) => e.fillText(`${a.name} → ${JSON.stringify(a.to)}`, l.pos[0], l.pos[1] - 40 - 14 * c)));
  }
  e.setLineDash([8, 6]);
  for (const i of n.ghosts)
    e.fillStyle = "rgba(80,160,255,0.15)", e.fillRect(i.pos[0], i.pos[1] - 30, i.size[0], i.size[1] + 30), e.strokeStyle = "#50a0ff", e.lineWidth = 2, e.strokeRect(i.pos[0], i.pos[1] - 30, i.size[0], i.size[1] + 30), e.fillStyle = "#9cc8ff", e.font = "14px sans-serif", e.fillText(`+ ${i.title}`, i.pos[0] + 8, i.pos[1] - 10);
  e.strokeStyle = "#50a0ff";
  for (const i of n.links) {
    const o = s(i.from), l = s(i.to);
    if (!o || !l) continue;
    const a = o.node ? ua(o.node, i.from_slot, !0) : [o.ghost.pos[0] + o.ghost.size[0], o.ghost.pos[1] + 14], c = l.node ? ua(l.node, i.to_slot, !1) : [l.ghost.pos[0], l.ghost.pos[1] + 14];
    e.beginPath(), e.moveTo(a[0], a[1]), e.bezierCurveTo(a[0] + 60, a[1], c[0] - 60, c[1], c[0], c[1]), e.stroke();
  }
  e.restore();
}
const fa = "rgba(110, 160, 255, 0.8)", da = 40, fg = 256, cr = 6;
function Oi(e) {
  const t = String(e ?? "");
  return t.length > da ? `${t.slice(0, da - 1)}…` : t;
}
function dg(e) {
  switch (String(e?.kind ?? "").replace(/^ACTOR_KIND_/, "").toLowerCase()) {
    case "skill":
      return `skill ${Oi(e.skill)}`;
    case "mcp":
      return e.name ? `MCP ${Oi(e.name)}` : "an MCP client";
    case "grpc":
      return e.name ? Oi(e.name) : "a caller";
    default:
      return "someone";
  }
}
function hg(e, t, n = 0) {
  const s = /* @__PURE__ */ new Map();
  if (!Array.isArray(e)) return s;
  for (const r of e.slice(0, fg)) {
    if (!r || typeof r != "object" || !Array.isArray(r.node_ids)) continue;
    const i = Number(r.expires_ms) - n;
    if (!Number.isFinite(i) || i <= t) continue;
    const o = `leased by ${dg(r.holder)}`;
    for (const l of r.node_ids) {
      const a = Number(l);
      Number.isInteger(a) && a > 0 && !s.has(a) && s.set(a, { label: o, expires: i, leaseId: Number(r.id) });
    }
  }
  return s;
}
function pg(e, t, n, { titleHeight: s = 30, scale: r = 1 } = {}) {
  if (!n.size || !t || typeof t.getNodeById != "function") return 0;
  let i = 0;
  e.save(), e.strokeStyle = fa, e.fillStyle = fa, e.lineWidth = Math.max(1, 1.5 / (r || 1)), typeof e.setLineDash == "function" && e.setLineDash([6, 4]), e.font = "12px sans-serif";
  for (const [o, l] of n) {
    const a = t.getNodeById(o);
    if (!a || !a.pos || !a.size) continue;
    const c = !!a.flags?.collapsed, u = Number(c ? a._collapsed_width ?? a.size[0] : a.size[0]), f = c ? 0 : Number(a.size[1]), m = Number(a.pos[0]) - cr, h = Number(a.pos[1]) - s - cr;
    e.strokeRect(m, h, u + 2 * cr, f + s + 2 * cr), e.fillText(l.label, m, h - 4), i++;
  }
  return e.restore(), i;
}
function gg({ app: e, LiteGraph: t, timers: n = globalThis, now: s = () => Date.now() }) {
  let r = [], i = 0, o = null, l = null;
  const a = () => hg(r, s(), i), c = () => e.canvas?.setDirty?.(!0, !0), u = () => {
    o && n.clearTimeout(o), o = null;
    let h = 1 / 0;
    for (const p of a().values()) h = Math.min(h, p.expires);
    h !== 1 / 0 && (o = n.setTimeout(() => {
      o = null, c(), u();
    }, Math.max(0, h - s()) + 50));
  }, f = (h) => {
    const p = e.canvas, k = e.rootGraph ?? e.graph;
    !p || p.graph && p.graph !== k || pg(h, k, a(), { titleHeight: t?.NODE_TITLE_HEIGHT ?? 30, scale: p.ds?.scale ?? 1 });
  }, m = () => {
    const h = e.canvas;
    if (!h || l === h) return;
    const p = h.onDrawForeground;
    h.onDrawForeground = function(k, v) {
      typeof p == "function" && p.call(this, k, v), f(k);
    }, l = h;
  };
  return {
    update(h) {
      m(), r = Array.isArray(h?.leases) ? h.leases : [];
      const p = Number(h?.now_ms);
      i = Number.isFinite(p) && p > 0 ? p - s() : 0, u(), c();
    },
    nodes: a,
    remove() {
      o && n.clearTimeout(o), o = null, r = [], c();
    }
  };
}
const mg = 600, ha = 64;
function ur(e) {
  const t = String(e ?? "");
  return t.length > ha ? `${t.slice(0, ha - 1)}…` : t;
}
function _g(e) {
  switch (e?.kind) {
    case "skill":
      return `skill ${ur(e.skill)} (session ${ur(e.session_id).slice(0, 8)})`;
    case "mcp":
      return e.name ? `MCP client ${ur(e.name)}` : "an MCP client";
    case "grpc":
      return e.name ? `caller ${ur(e.name)}` : "an unnamed caller";
    case "user":
      return "the user";
    case "load":
      return "a loaded workflow";
    default:
      return "someone unknown";
  }
}
function yg(e) {
  const t = Math.max(0, Math.round(Number(e) / 1e3));
  return !Number.isFinite(t) || t < 45 ? "just now" : t < 3600 ? `${Math.round(t / 60)} min ago` : t < 86400 ? `${Math.round(t / 3600)} h ago` : `${Math.round(t / 86400)} d ago`;
}
function bg(e, t, n = Date.now()) {
  if (!e || typeof e != "object" || !e.nodes || typeof e.nodes != "object") return null;
  const s = e.nodes[String(t)];
  if (!s || typeof s != "object") return null;
  const r = Array.isArray(e.actors) ? e.actors : [], i = (a) => `${_g(r[a.by])}, ${yg(n - Number(a.at))} (revision ${a.rev})`, o = [`Last changed by ${i(s)}`], l = s.created;
  return l && typeof l == "object" && (l.by !== s.by || l.rev !== s.rev) && o.push(`Created by ${i(l)}`), o;
}
function wg({ app: e, document: t, timers: n = globalThis, now: s = () => Date.now() }) {
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
  }, a = (m, h) => {
    const p = m.canvas?.getBoundingClientRect?.();
    return p && typeof m.ds?.convertCanvasToOffset == "function" ? m.ds.convertCanvasToOffset([h.clientX - p.left, h.clientY - p.top]) : m.graph_mouse ?? null;
  }, c = (m) => {
    const h = e.canvas, p = e.rootGraph ?? e.graph, k = h?.graph ?? p;
    if (k !== p) return null;
    const v = a(h, m);
    return !k || !v || typeof k.getNodeOnPos != "function" ? null : k.getNodeOnPos(v[0], v[1]) ?? null;
  }, u = (m, h) => {
    const p = e.rootGraph ?? e.graph, k = bg(p?.extra?.comfyd?.provenance, o, s());
    if (!k) {
      r.style.display = "none";
      return;
    }
    r.textContent = k.join(`
`), r.style.left = `${m + 14}px`, r.style.top = `${h + 14}px`, r.style.display = "block";
  }, f = (m) => {
    if (!e.canvas || m.target !== e.canvas.canvas || m.buttons) return l();
    const h = c(m);
    if (!h) return l();
    if (h.id === o) {
      i || u(m.clientX, m.clientY);
      return;
    }
    l(), o = h.id;
    const p = m.clientX, k = m.clientY;
    i = n.setTimeout(() => {
      i = null, u(p, k);
    }, mg);
  };
  return t.addEventListener("pointermove", f, { passive: !0 }), t.addEventListener("pointerdown", l, !0), () => {
    l(), t.removeEventListener("pointermove", f), t.removeEventListener("pointerdown", l, !0), r.remove();
  };
}
const yo = 200, kg = 16, vg = 256, xg = /* @__PURE__ */ new Set(["succeeded", "failed", "interrupted", "cancelled", "unknown"]), os = (e) => xg.has(e);
function ls(e) {
  let t = String(e ?? "").toLowerCase();
  return t.startsWith("run_status_") && (t = t.slice(11)), t || "unspecified";
}
const st = (e) => {
  const t = Number(e);
  return Number.isFinite(t) ? t : 0;
};
function Ag(e, t) {
  if (!e) return !0;
  const n = st(e.seq), s = st(t.seq);
  return n && s ? s > n : !(os(ls(e.status)) && !os(ls(t.status)));
}
function Rg(e) {
  const t = Object.keys(e.runs);
  if (t.length <= yo) return;
  const n = t.map((s) => e.runs[s]).sort((s, r) => Number(os(ls(r.status))) - Number(os(ls(s.status))) || st(s.queued_at_ms) - st(r.queued_at_ms));
  for (const s of n.slice(0, t.length - yo))
    delete e.runs[s.prompt_id], delete e.runTurns[s.prompt_id];
}
function Su(e, t, { workingTurn: n = 0 } = {}) {
  if (!t || typeof t != "object" || typeof t.prompt_id != "string" || !t.prompt_id || t.session_id && e.sessionId && t.session_id !== e.sessionId) return !1;
  const s = t.prompt_id;
  return Ag(e.runs[s], t) ? (e.runs[s] = t, !e.runTurns[s] && n && !os(ls(t.status)) && (e.runTurns[s] = n), Rg(e), !0) : !1;
}
function Eg(e) {
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
function Cg(e, t, n) {
  const s = Eg(n), r = Number(t) || 0;
  return !s || !r || e.runTurns[s] === r ? !1 : (e.runTurns[s] = r, !0);
}
function Sg(e, t) {
  const n = e.runTurns[t.prompt_id];
  if (n && e.turns.some((o) => o.id === n)) return n;
  const s = st(t.queued_at_ms), r = e.turns.filter((o) => !o.pending);
  if (!r.length) return 0;
  if (!s) return r.at(-1).id;
  let i = 0;
  for (const o of r) {
    if (!o.createdAt || o.createdAt > s) continue;
    i = o.id;
    const l = o.order.map((c) => o.replies[c]).filter((c) => c.final && c.createdAt);
    if ((l.length === o.order.length && l.length > 0 ? Math.max(...l.map((c) => c.createdAt)) : 1 / 0) >= s) return o.id;
  }
  return i || r[0].id;
}
function Dg(e) {
  const t = {}, n = Object.values(e.runs).sort((s, r) => st(s.queued_at_ms) - st(r.queued_at_ms) || st(s.number) - st(r.number));
  for (const s of n) {
    const r = Sg(e, s);
    (t[r] ??= []).push(s);
  }
  return t;
}
function Tg(e, t = () => "") {
  const n = ls(e.status), s = (c, u) => String(u || t(String(c)) || (c ? `#${c}` : "")), r = {
    id: e.prompt_id,
    short: String(e.prompt_id).slice(0, 8),
    status: n,
    final: os(n),
    queuedBy: String(e.queued_by ?? ""),
    reason: String(e.reason ?? ""),
    queuePosition: st(e.queue_position),
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
    const c = String(e.executing_node);
    r.node = { id: c, title: s(c) };
    const u = (e.progress ?? []).find((f) => String(f.node_id) === c);
    u && st(u.max) > 0 && (r.value = st(u.value), r.max = st(u.max), r.percent = Math.max(0, Math.min(100, Math.round(100 * r.value / r.max))));
  }
  for (const c of e.node_errors ?? [])
    r.errors.push({
      nodeId: String(c.node_id ?? ""),
      title: s(c.node_id, c.title),
      input: String(c.input_name ?? ""),
      message: [c.message, c.details].filter(Boolean).join(": ")
    });
  const o = e.execution_error;
  o && (o.node_id || o.exception_message || o.exception_type) && r.errors.push({
    nodeId: String(o.node_id ?? ""),
    title: s(o.node_id, o.title),
    input: "",
    message: [o.exception_type, o.exception_message].filter(Boolean).join(": ")
  }), !r.errors.length && (e.prompt_error || n === "failed" && e.reason) && r.errors.push({ nodeId: "", title: "", input: "", message: String(e.prompt_error || e.reason) });
  for (const c of e.outputs ?? [])
    (c.files ?? []).forEach((u, f) => {
      r.outputs.length >= kg || u.kind && u.kind !== "images" || /\.(png|jpe?g|webp|gif)$/i.test(String(u.filename ?? "")) && r.outputs.push({ nodeId: String(c.node_id), index: f, filename: String(u.filename), kind: String(u.kind ?? "images") });
    });
  const l = st(e.started_at_ms), a = st(e.ended_at_ms);
  return l && a >= l && (r.seconds = (a - l) / 1e3), r;
}
function pa(e, t, n, s = 0) {
  const r = s ? `?max_side=${s}` : "";
  return `/comfyd/runs/${encodeURIComponent(e)}/outputs/${encodeURIComponent(t)}/${n}${r}`;
}
const ga = 500, ma = 200;
function un(e, t) {
  if (e == null) return "";
  let n = String(e);
  return t && n.toUpperCase().startsWith(t) && (n = n.slice(t.length)), n.toLowerCase();
}
function Du() {
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
function Ig(e) {
  let t = null;
  for (const n of e.summaries) (!t || n.coversTo > t.coversTo) && (t = n);
  return t;
}
function Tu(e, t = "") {
  Object.assign(e, Du(), { sessionId: t });
}
function _a(e, t) {
  const n = Number(t) || 0;
  for (let s = e.turns.length - 1; s >= 0; s--) if (e.turns[s].id === n) return e.turns[s];
  return null;
}
function es(e, t) {
  let n = _a(e, t);
  if (n) return n;
  n = { id: Number(t) || 0, content: "", state: "", error: "", replies: {}, order: [] };
  let s = e.turns.length;
  for (; s > 0 && e.turns[s - 1].id > n.id; ) s--;
  return e.turns.splice(s, 0, n), e.turns.length > ma && e.turns.splice(0, e.turns.length - ma), _a(e, n.id) ?? n;
}
function kr(e, t) {
  const n = t || "comfyd";
  return e.replies[n] || (e.replies[n] = { skill: n, content: "", next: 0, state: "streaming", error: "" }, e.order.push(n)), e.replies[n];
}
function Rn(e, t) {
  e.logs.push(t), e.logs.length > ga && e.logs.splice(0, e.logs.length - ga);
}
function zo(e) {
  return Array.isArray(e) ? e.filter((t) => t && typeof t == "object" && /^[0-9a-f]{64}$/.test(String(t.sha256 ?? ""))).map((t) => ({
    sha256: String(t.sha256),
    name: String(t.name ?? ""),
    mime: String(t.mime_type ?? ""),
    size: Number(t.size) || 0,
    width: Number(t.width) || 0,
    height: Number(t.height) || 0
  })) : [];
}
function Ni(e, t) {
  if (!t || typeof t != "object") return;
  const n = un(t.role, "ROLE_"), s = un(t.state, "MESSAGE_STATE_");
  if (un(t.kind, "MESSAGE_KIND_") === "summary") {
    const r = Number(t.id) || 0;
    e.summaries.some((i) => i.id === r) || e.summaries.push({ id: r, coversTo: Number(t.covers_to) || 0, content: String(t.content ?? "") });
    return;
  }
  if (n === "user") {
    const r = es(e, t.id);
    r.content = String(t.content ?? ""), r.attachments = zo(t.attachments), r.state = s, r.error = String(t.error ?? ""), r.createdAt = Number(t.created_at_ms) || r.createdAt || 0, r.pending = !1;
  } else if (n === "assistant" || n === "tool") {
    const r = es(e, t.turn_id), i = kr(r, t.skill);
    i.id = Number(t.id) || i.id || 0, i.content = String(t.content ?? ""), i.state = s || "done", i.error = String(t.error ?? ""), i.createdAt = Number(t.created_at_ms) || i.createdAt || 0, i.final = !0;
  }
}
function ya(e, t) {
  !t || typeof t != "object" || (e.session = t, t.id && (e.sessionId = t.id), t.config && (e.config = t.config), typeof t.title == "string" && (e.title = t.title), t.status !== void 0 && (e.status = un(t.status, "SESSION_STATUS_") || e.status), t.queued_turns !== void 0 && (e.queuedTurns = Number(t.queued_turns) || 0));
}
function Iu(e) {
  const t = e?.seq ?? e?.data?.seq, n = Number(t);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
function Fg(e, t) {
  if (!t || typeof t != "object") return !1;
  const n = t.event, s = t.data && typeof t.data == "object" ? t.data : {}, r = Iu(t);
  if (s.session_id && e.sessionId && s.session_id !== e.sessionId && n !== "created") return !1;
  if (n === "sync_state") {
    if (r && r < e.lastSeq) return !1;
    const i = e.logs, o = { runs: e.runs, runTurns: e.runTurns }, l = e.turns.filter((c) => c.pending), a = s.session?.id ?? e.sessionId;
    Tu(e, a), e.logs = i;
    for (const [c, u] of Object.entries(o.runs))
      (!u.session_id || u.session_id === e.sessionId) && (e.runs[c] = u, o.runTurns[c] && (e.runTurns[c] = o.runTurns[c]));
    ya(e, s.session), s.status !== void 0 && (e.status = un(s.status, "SESSION_STATUS_") || e.status);
    for (const c of Array.isArray(s.history) ? s.history : []) Ni(e, c);
    for (const c of Array.isArray(s.partials) ? s.partials : []) {
      const u = kr(es(e, c.turn_id), c.skill);
      u.final || (u.content = String(c.content ?? ""), u.next = Number(c.delta_count) || 0, u.state = "streaming");
    }
    return e.lastSeq = r || e.lastSeq, e.needsResync = !1, e.turns.push(...l), !0;
  }
  if (n === "run_update") return Su(e, s.run, { workingTurn: e.status === "working" ? e.workingTurn : 0 });
  if (["created", "configured", "sessions", "skills", "ack", "cancelled", "forked", "revert_result", "unrevert_result"].includes(n))
    return n === "configured" && s.session && ya(e, s.session), !1;
  if (r) {
    if (r <= e.lastSeq) return !1;
    e.lastSeq = r;
  }
  switch (n) {
    case "status_update": {
      if (e.status = un(s.status, "SESSION_STATUS_") || e.status, e.statusDetail = String(s.detail ?? ""), e.queuedTurns = Number(s.queued_turns) || 0, e.workingTurn = e.status === "working" ? Number(s.turn_id) || e.workingTurn : 0, e.status === "idle")
        for (const i of e.turns)
          for (const o of i.order) i.replies[o].state === "streaming" && (i.replies[o].state = "done");
      return !0;
    }
    case "stream_delta": {
      const i = es(e, s.turn_id), o = kr(i, s.skill), l = Number(s.index);
      if (o.final) return !1;
      if (Number.isInteger(l) && l >= 0) {
        if (l < o.next) return !1;
        if (l > o.next)
          return e.needsResync = !0, !1;
      }
      return o.content += String(s.delta ?? ""), o.next += 1, o.state = "streaming", !0;
    }
    case "message_added":
      return Ni(e, s.message), e.lastRevert && (Number(s.message?.id) || 0) > e.lastRevert.to && (e.lastRevert = null), !0;
    case "debug_log":
      return Rn(e, {
        seq: r,
        level: un(s.level, "LOG_LEVEL_").toUpperCase() || "INFO",
        module: String(s.module ?? ""),
        skill: String(s.skill ?? ""),
        message: String(s.message ?? "")
      }), !0;
    case "error": {
      if (e.lastError = { code: String(s.code ?? ""), message: String(s.message ?? ""), skill: String(s.skill ?? "") }, s.turn_id) {
        const i = es(e, s.turn_id);
        if (s.skill) {
          const o = kr(i, s.skill);
          o.error = e.lastError.message, o.final || (o.state = s.code === "cancelled" ? "cancelled" : "failed");
        }
      }
      return Rn(e, { seq: r, level: "ERROR", module: "session", skill: e.lastError.skill, message: `${e.lastError.code}: ${e.lastError.message}` }), !0;
    }
    case "config_updated":
      return s.config && (e.config = s.config), typeof s.title == "string" && (e.title = s.title), !0;
    case "tool_call":
      return Rn(e, { seq: r, level: "INFO", module: "tool", skill: String(s.skill ?? ""), message: `${s.name ?? "tool"}(${String(s.arguments_json ?? "").slice(0, 300)})` }), !0;
    case "tool_result":
      return Cg(e, s.turn_id, s.result_json), Rn(e, { seq: r, level: s.ok ? "INFO" : "WARN", module: "tool", skill: String(s.skill ?? ""), message: `${s.call_id ?? ""} -> ${String(s.result_json ?? "").slice(0, 300)}` }), !0;
    case "reverted": {
      const i = Number(s.to_message_id) || 0;
      if (!i) return !1;
      e.turns = e.turns.filter((l) => l.pending || l.id <= i);
      for (const l of e.turns)
        for (const a of [...l.order])
          (l.replies[a].id || 0) > i && (delete l.replies[a], l.order.splice(l.order.indexOf(a), 1));
      e.summaries = e.summaries.filter((l) => l.id <= i), e.lastRevert = { to: i, hidden: Number(s.messages_hidden) || 0 };
      const o = Array.isArray(s.restored) ? s.restored.map((l) => l.canvas_id).join(", ") : "";
      return Rn(e, { seq: r, level: "INFO", module: "session", skill: "", message: `reverted to message ${i}: ${Number(s.messages_hidden) || 0} later message(s) hidden${o ? `; canvas ${o} restored` : ""}` }), !0;
    }
    case "unreverted": {
      const i = Array.isArray(s.messages) ? s.messages : [];
      for (const l of i) Ni(e, l);
      const o = e.turns.filter((l) => l.pending);
      return e.turns = e.turns.filter((l) => !l.pending).sort((l, a) => l.id - a.id).concat(o), e.summaries.sort((l, a) => l.id - a.id), e.lastRevert = null, Rn(e, { seq: r, level: "INFO", module: "session", skill: "", message: `revert undone: ${i.length} message(s) back` }), !0;
    }
    case "graph_changed":
      return Rn(e, { seq: r, level: "INFO", module: "graph", skill: "", message: `${s.canvas_id ?? ""} r${s.revision ?? ""}: ${s.summary ?? ""}` }), !0;
    default:
      return !1;
  }
}
function Og(e, t, n, s = []) {
  const r = { id: Number.MAX_SAFE_INTEGER, clientId: t, content: n, attachments: zo(s), state: "sending", error: "", replies: {}, order: [], pending: !0 };
  return e.turns.push(r), r;
}
function Ng(e, t, n) {
  const s = e.turns.findIndex((o) => o.pending && o.clientId === t), r = s >= 0 ? e.turns.splice(s, 1)[0] : null;
  if (!n?.id) return;
  const i = es(e, n.id);
  i.content || (i.content = String(n.content ?? r?.content ?? "")), i.attachments?.length || (i.attachments = zo(n.attachments ?? r?.attachments)), i.state || (i.state = un(n.state, "MESSAGE_STATE_"));
}
function ba(e, t) {
  const n = e.turns.find((s) => s.pending && s.clientId === t);
  n && (n.state = "waiting", n.error = "");
}
function Mg(e, t, n) {
  const s = e.turns.find((r) => r.pending && r.clientId === t);
  s && (s.state = "failed", s.error = String(n ?? "not sent"));
}
function fr(e, t = []) {
  const n = [];
  for (const s of t) e.replies[s] && n.push(s);
  for (const s of e.order) n.includes(s) || n.push(s);
  return n.map((s) => e.replies[s]);
}
const Lg = 15e3, Pg = /* @__PURE__ */ new Set(["NOT_FOUND", "INVALID_ARGUMENT", "PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION"]), $g = /* @__PURE__ */ new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "DISCONNECTED"]);
function vr(e) {
  return $g.has(String(e?.code ?? ""));
}
function ps(e, t) {
  const n = new Error(e);
  return n.code = t, n;
}
class jg {
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
    this.stopped = !0, this.t.clearTimeout(this.reconnectTimer), this.reconnectTimer = null, this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.drop(ps("panel closed", "CLOSED"));
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
      n = new this.d.WebSocket(yu(t, "/comfy/session/ws"), bu(t));
    } catch {
      return this.retry();
    }
    this.socket = n, n.onopen = () => {
      this.open = !0, this.attempt = 0, this.joined && this.sendJoin(this.joined), this.outage && this.scheduleProbe(0), this.d.onOpen?.();
    }, n.onmessage = (s) => this.onMessage(s.data), n.onerror = () => {
    }, n.onclose = (s) => {
      this.socket === n && (this.open || this.d.onOffline?.(`comfyd-bridge does not answer at ${t.bridgeUrl ?? t.wsBase}`), this.socket = null, this.open = !1, this.drop(ps("connection lost", "DISCONNECTED")), this.t.clearTimeout(this.probeTimer), this.probeTimer = null, this.d.onClose?.(s?.code), (s?.code === 1008 || s?.code === 1006) && this.d.connection.invalidate?.(), this.retry());
    };
  }
  retry() {
    this.stopped || this.reconnectTimer || (this.reconnectTimer = this.t.setTimeout(() => {
      this.reconnectTimer = null, this.connect();
    }, go(this.attempt++)));
  }
  send(t) {
    return !this.socket || !this.open ? !1 : (this.socket.send(JSON.stringify(t)), !0);
  }
  /** Sends {event, data, request_id}; resolves with the answer's data. */
  request(t, n = {}) {
    const s = this.nextId++;
    return new Promise((r, i) => {
      if (!this.send({ event: t, data: n, request_id: s })) {
        i(ps("not connected to comfyd", "DISCONNECTED"));
        return;
      }
      const o = this.t.setTimeout(() => {
        this.pending.delete(s);
        const l = ps(`${t}: no answer from comfyd`, "DEADLINE_EXCEEDED");
        this.coreAway(l.message), i(l);
      }, Lg);
      this.pending.set(s, { resolve: r, reject: i, timer: o });
    });
  }
  /** Follows a session: its events from last_seq on (0: a fresh snapshot). */
  join(t) {
    t !== this.state.sessionId && Tu(this.state, t), this.joined = t, t && this.open && this.sendJoin(t);
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
      if (Pg.has(r)) {
        this.state.lastError = { code: r, message: i, skill: "" }, this.d.onChange?.();
        return;
      }
      this.joinFailed = !0, this.coreAway(i || r);
      return;
    }
    if (s !== void 0 && this.pending.has(s)) {
      const r = this.pending.get(s);
      if (this.pending.delete(s), this.t.clearTimeout(r.timer), n.event === "error") {
        const i = ps(n.data?.message ?? "request failed", n.data?.code ?? "error");
        vr(i) ? this.coreAway(i.message) : this.coreBack(), r.reject(i);
      } else
        this.coreBack(), r.resolve(n.data ?? {});
      if (n.event !== "configured") return;
    }
    Iu(n) && n.event !== "error" && this.coreBack(), Fg(this.state, n) && this.d.onChange?.(), this.state.needsResync && this.joined && (this.state.needsResync = !1, this.sendJoin(this.joined, !0));
  }
  /** The core is away: say so once, and probe it with backoff. */
  coreAway(t) {
    this.stopped || (this.outage || (this.outage = String(t || "core unavailable"), this.probeAttempt = 0, this.log("warn", `comfyd: core unavailable (${this.outage}); reconnecting`), this.d.onOutage?.(this.outage)), this.scheduleProbe());
  }
  scheduleProbe(t) {
    if (this.stopped || this.probeTimer || !this.open) return;
    const n = t ?? go(this.probeAttempt++);
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
const Fu = Object.freeze([
  ["session_id", ""],
  ["provider", "echo"],
  ["model", ""],
  ["base_url", ""],
  ["system_prompt", ""],
  ["skills", ""]
]), Bg = Object.freeze(["echo", "openai"]), Mi = "workflow-builder", wa = 64 * 1024, Li = 4096, zg = 64 * 1024, ka = 8, va = 3 << 20, Uo = Object.freeze(["image/png", "image/jpeg", "image/webp", "image/gif", "text/plain", "text/markdown", "application/json"]), Ug = { md: "text/markdown", markdown: "text/markdown", json: "application/json", txt: "text/plain", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif" };
function Wg(e) {
  const t = String(e?.type ?? "").toLowerCase();
  if (Uo.includes(t)) return t;
  const n = String(e?.name ?? "").toLowerCase().split(".").pop();
  return Ug[n] ?? t;
}
let Jg = 0;
function qg(e) {
  return Array.isArray(e) ? e.map(String).filter(Boolean) : String(e ?? "").split(",").map((t) => t.trim()).filter(Boolean);
}
let xa = 0;
function Hg() {
  const e = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return xa += 1, `panel-${e}-${xa}`;
}
function Aa(e) {
  const t = {
    provider: String(e.provider || "echo"),
    model: String(e.model ?? ""),
    base_url: String(e.base_url ?? ""),
    system_prompt: String(e.system_prompt ?? "")
  };
  return Array.isArray(e.active_skills) && (t.skills = e.active_skills.map(String)), t;
}
function Ra(e, t) {
  return Array.isArray(e) || Array.isArray(t) ? JSON.stringify(e) === JSON.stringify(t) : e === t;
}
class Vg {
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
    this.state = n(Du()), this.ui = n({
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
    }), this.outbox = [], this.client = new jg({
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
      skills: qg(n.skills)
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
      t.sid === this.state.sessionId && Ng(this.state, t.cid, s.message);
    } catch (n) {
      vr(n) && !this.client.stopped ? (ba(this.state, t.cid), this.outbox.push(t)) : Mg(this.state, t.cid, n.message);
    }
  }
  onChange() {
    const t = this.state.config;
    if (!t) return;
    const n = Aa(t), s = this.coreConfig?.sid === this.state.sessionId ? this.coreConfig.values : null, r = this.ui.form;
    for (const [i, o] of Object.entries(n))
      !(s && !Ra(r[i], s[i])) && !Ra(r[i], o) && (r[i] = o, this.d.writeConfig(i, i === "skills" ? o.join(",") : o));
    this.coreConfig = { sid: this.state.sessionId, values: n };
  }
  async refreshSkills() {
    try {
      const t = await this.client.request("list_skills", {});
      this.ui.skills = (t.skills ?? []).map((n) => ({ name: String(n.name), description: String(n.description ?? "") })), this.ui.skillErrors = (t.errors ?? []).map((n) => `${n.path}: ${n.message}`), this.tickDefaultSkill();
    } catch (t) {
      vr(t) || (this.ui.notice = `skills: ${t.message}`);
    }
  }
  /** A panel without a session and without a chosen skill starts with the
   * default skill ticked (when the core has it). */
  tickDefaultSkill() {
    const t = this.ui.form;
    t.session_id || t.skills.length || this.skillsChosen || this.ui.skills.some((n) => n.name === Mi) && (t.skills = [Mi], this.d.writeConfig("skills", Mi));
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
      vr(t) || (this.ui.notice = `sessions: ${t.message}`);
    }
  }
  configFields() {
    const t = this.ui.form;
    return {
      provider: t.provider.slice(0, Li),
      model: t.model.slice(0, Li),
      base_url: t.base_url.slice(0, Li),
      system_prompt: t.system_prompt.slice(0, zg)
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
      this.coreConfig = { sid: String(r), values: Aa(n.config) }, this.selectSession(String(r)), await this.refreshSessions();
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
  /**
   * The session the shown one was forked from, or null: {id, title,
   * point} (point: the parent's message the fork was made at). The title
   * comes from the session list; a parent not listed (archived, deleted)
   * shows its id.
   */
  forkOf() {
    const t = this.ui.form.session_id, n = this.ui.sessions.find((o) => o.id === t), s = this.state.session && this.state.sessionId === t ? this.state.session : null, r = String(s?.parent_id || n?.parentId || "");
    if (!t || !r) return null;
    const i = this.ui.sessions.find((o) => o.id === r);
    return {
      id: r,
      title: i ? i.title : r,
      point: Number(s?.fork_point) || n?.forkPoint || 0,
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
      const i = Wg(r), o = { key: `att-${++Jg}`, name: String(r.name || (i.startsWith("image/") ? "pasted image" : "file")), mime: i, size: Number(r.size) || 0, state: "uploading", error: "", sha256: "", preview: "" };
      if (this.ui.attachments.length >= ka) {
        this.ui.notice = `at most ${ka} files per message`;
        break;
      }
      if (!Uo.includes(i))
        o.state = "failed", o.error = `${i || "this type"} is not accepted (PNG, JPEG, WebP, GIF, text, Markdown, JSON)`;
      else if (o.size > va)
        o.state = "failed", o.error = `larger than ${va >> 20} MiB`;
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
    if (t.length > wa) {
      this.ui.notice = `a message is at most ${wa} characters`;
      return;
    }
    await this.settingsStep(() => {
    }), this.ui.form.session_id || await this.createSession();
    const s = this.ui.form.session_id;
    if (!s) return;
    this.ui.draft = "";
    const r = n.map((o) => ({ sha256: o.sha256, name: o.name, mime_type: o.mime }));
    for (const o of [...this.ui.attachments]) this.removeAttachment(o.key);
    const i = { cid: Hg(), sid: s, content: t, attachments: r };
    if (Og(this.state, i.cid, t, r), this.client.outage) {
      ba(this.state, i.cid), this.outbox.push(i);
      return;
    }
    await this.deliver(i);
  }
  /** The runs of the session as the core has them (after a join: run
   * updates are live only). A core without --comfyui has none. */
  async refreshRuns(t) {
    if (!(!this.d.getJson || !t))
      try {
        const n = await this.d.getJson(`/comfyd/runs?session_id=${encodeURIComponent(t)}&page_size=${Math.min(100, yo)}`);
        if (t !== this.state.sessionId) return;
        for (const s of Array.isArray(n?.runs) ? n.runs : []) Su(this.state, s);
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
const bo = "ComfydAgentPanel", Ea = "comfyd-panel-style", Ca = Object.freeze([440, 560]), Gg = 320, Pi = (e) => e?.comfyClass === bo || e?.type === bo;
function Kg(e, t) {
  if (e.getElementById(Ea)) return;
  const n = e.createElement("style");
  n.id = Ea, n.textContent = t, e.head.appendChild(n);
}
function Xg(e) {
  e.hidden = !0, e.options = e.options ?? {}, e.options.hidden = !0, e.computeSize = () => [0, -4];
}
function Yg(e) {
  for (const [t, n] of Fu) {
    let s = (e.widgets ?? []).find((r) => r.name === t);
    s || (s = e.addWidget("text", t, n, () => {
    }, {})), Xg(s);
  }
}
function Zg(e) {
  const t = {};
  for (const [n, s] of Fu) {
    const i = (e.widgets ?? []).find((o) => o.name === n)?.value;
    t[n] = typeof i == "string" ? i : s;
  }
  return t;
}
function Qg(e, t) {
  if (e.__comfydPanel) return e.__comfydPanel;
  const { app: n, document: s } = t;
  Kg(s, t.css), Yg(e);
  const r = (m, h) => {
    const p = (e.widgets ?? []).find((k) => k.name === m);
    !p || p.value === h || (p.value = h, e.setDirtyCanvas?.(!0, !0), n?.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.());
  }, i = new Vg({
    connection: t.connection,
    WebSocket: t.WebSocket,
    reactive: t.reactive,
    log: t.log,
    readConfig: () => Zg(e),
    writeConfig: r,
    app: n,
    getJson: t.getJson,
    apiUrl: t.apiUrl,
    postBytes: t.postBytes
  }), o = s.createElement("div");
  o.className = "comfyd-panel-host", o.style.cssText = "width:100%;height:100%;min-height:0;display:flex;";
  const l = t.createApp(t.component, { ctl: i });
  if (l.mount(o), typeof e.addDOMWidget == "function") {
    const m = e.addDOMWidget("comfyd_panel", "comfyd_panel", o, {
      serialize: !1,
      hideOnZoom: !1,
      getMinHeight: () => Gg,
      getValue: () => {
      },
      setValue: () => {
      }
    });
    m.serialize = !1;
  } else
    t.log?.("error", "comfyd: this frontend has no addDOMWidget; the panel cannot be shown");
  const a = () => {
    (Array.isArray(e.size) || ArrayBuffer.isView(e.size)) && e.setSize?.([Math.max(e.size[0], Ca[0]), Math.max(e.size[1], Ca[1])]);
  };
  a();
  let c = !1;
  const u = e.onConfigure;
  e.onConfigure = function(...m) {
    c = !0;
    const h = u?.apply(this, m);
    return i.reloadConfig(), h;
  };
  const f = e.onRemoved;
  return e.onRemoved = function(...m) {
    i.stop();
    try {
      l.unmount();
    } catch {
    }
    return e.__comfydPanel = null, f?.apply(this, m);
  }, setTimeout(() => {
    e.__comfydPanel && (c || (a(), e.setDirtyCanvas?.(!0, !0)), i.reloadConfig(), i.start());
  }, 0), e.__comfydPanel = i, i;
}
function Sa(e, t) {
  (t == null || t > e.length) && (t = e.length);
  for (var n = 0, s = Array(t); n < t; n++) s[n] = e[n];
  return s;
}
function em(e) {
  if (Array.isArray(e)) return e;
}
function tm(e, t) {
  var n = e == null ? null : typeof Symbol < "u" && e[Symbol.iterator] || e["@@iterator"];
  if (n != null) {
    var s, r, i, o, l = [], a = !0, c = !1;
    try {
      if (i = (n = n.call(e)).next, t !== 0) for (; !(a = (s = i.call(n)).done) && (l.push(s.value), l.length !== t); a = !0) ;
    } catch (u) {
      c = !0, r = u;
    } finally {
      try {
        if (!a && n.return != null && (o = n.return(), Object(o) !== o)) return;
      } finally {
        if (c) throw r;
      }
    }
    return l;
  }
}
function nm() {
  throw new TypeError(`Invalid attempt to destructure non-iterable instance.
In order to be iterable, non-array objects must have a [Symbol.iterator]() method.`);
}
function sm(e, t) {
  return em(e) || tm(e, t) || rm(e, t) || nm();
}
function rm(e, t) {
  if (e) {
    if (typeof e == "string") return Sa(e, t);
    var n = {}.toString.call(e).slice(8, -1);
    return n === "Object" && e.constructor && (n = e.constructor.name), n === "Map" || n === "Set" ? Array.from(e) : n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n) ? Sa(e, t) : void 0;
  }
}
const Ou = Object.entries, im = Object.keys, Da = Object.setPrototypeOf, om = Object.isFrozen, Nu = Object.getPrototypeOf, Mu = Object.getOwnPropertyDescriptor;
let Ve = Object.freeze, je = Object.seal, on = Object.create, Lu = typeof Reflect < "u" && Reflect, Nr = Lu.apply, wo = Lu.construct;
Ve || (Ve = function(t) {
  return t;
});
je || (je = function(t) {
  return t;
});
Nr || (Nr = function(t, n) {
  for (var s = arguments.length, r = new Array(s > 2 ? s - 2 : 0), i = 2; i < s; i++) r[i - 2] = arguments[i];
  return t.apply(n, r);
});
wo || (wo = function(t) {
  for (var n = arguments.length, s = new Array(n > 1 ? n - 1 : 0), r = 1; r < n; r++) s[r - 1] = arguments[r];
  return new t(...s);
});
const Ut = Me(Array.prototype.forEach), lm = Me(Array.prototype.lastIndexOf), Ta = Me(Array.prototype.pop), gs = Me(Array.prototype.push), am = Me(Array.prototype.slice), cm = Me(Array.prototype.splice), ts = Array.isArray, $i = Pu(Set), ji = Me(Set.prototype.add), ms = Me(Set.prototype.has), Dn = Me(String.prototype.toLowerCase), Bi = Me(String.prototype.toString), um = Me(String.prototype.match), dr = Me(String.prototype.replace), zi = Me(String.prototype.indexOf), fm = Me(String.prototype.trim), dm = Me(Number.prototype.toString), hm = Me(Boolean.prototype.toString), Ia = typeof BigInt > "u" ? null : Me(BigInt.prototype.toString), Fa = typeof Symbol > "u" ? null : Me(Symbol.prototype.toString), Qe = Me(Object.prototype.hasOwnProperty), _s = Me(Object.prototype.toString), pm = RegExp.prototype.test, qe = function(t, n) {
  return t instanceof RegExp && (t.lastIndex = 0), Nr(pm, t, [n]);
}, Wt = Pu(TypeError);
function Me(e) {
  return function(t) {
    for (var n = arguments.length, s = new Array(n > 1 ? n - 1 : 0), r = 1; r < n; r++) s[r - 1] = arguments[r];
    return Nr(e, t, s);
  };
}
function Pu(e) {
  return function() {
    for (var t = arguments.length, n = new Array(t), s = 0; s < t; s++) n[s] = arguments[s];
    return wo(e, n);
  };
}
function ke(e, t) {
  let n = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : Dn;
  if (Da && Da(e, null), !ts(t)) return e;
  let s = t.length;
  for (; s--; ) {
    let r = t[s];
    if (typeof r == "string") {
      const i = n(r);
      i !== r && (om(t) || (t[s] = i), r = i);
    }
    e[r] = !0;
  }
  return e;
}
function gm(e) {
  for (let t = 0; t < e.length; t++) Qe(e, t) || (e[t] = null);
  return e;
}
function Mr(e) {
  const t = on(null);
  for (const s of Ou(e)) {
    var n = sm(s, 2);
    const r = n[0], i = n[1];
    Qe(e, r) && (ts(i) ? t[r] = gm(i) : i && typeof i == "object" && i.constructor === Object ? t[r] = Mr(i) : t[r] = i);
  }
  return t;
}
function vs(e) {
  const t = on(null), n = im(e);
  let s = n.length;
  for (; s--; ) t[n[s]] = e[n[s]];
  return t;
}
function mm(e) {
  switch (typeof e) {
    case "string":
      return e;
    case "number":
      return dm(e);
    case "boolean":
      return hm(e);
    case "bigint":
      return Ia ? Ia(e) : "0";
    case "symbol":
      return Fa ? Fa(e) : "Symbol()";
    case "undefined":
      return _s(e);
    case "function":
    case "object": {
      if (e === null) return _s(e);
      const t = e, n = ht(t, "toString");
      if (typeof n == "function") {
        const s = n(t);
        return typeof s == "string" ? s : _s(s);
      }
      return _s(e);
    }
    default:
      return _s(e);
  }
}
function ht(e, t) {
  for (; e !== null; ) {
    const s = Mu(e, t);
    if (s) {
      if (s.get) return Me(s.get);
      if (typeof s.value == "function") return Me(s.value);
    }
    e = Nu(e);
  }
  function n() {
    return null;
  }
  return n;
}
function _m(e, t) {
  for (; e !== null; ) {
    const n = Mu(e, t);
    if (n) return n.get ? Me(n.get) : null;
    e = Nu(e);
  }
  return null;
}
function ym(e) {
  if (!e) return !1;
  try {
    return qe(e, ""), !0;
  } catch {
    return !1;
  }
}
const Oa = Ve([
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
]), Ui = Ve([
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
]), Wi = Ve([
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
]), bm = Ve([
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
]), Ji = Ve([
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
]), wm = Ve([
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
]), Na = Ve(["#text"]), Ma = Ve([
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
]), qi = Ve([
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
]), La = Ve([
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
]), hr = Ve([
  "xlink:href",
  "xml:id",
  "xlink:title",
  "xml:space",
  "xmlns:xlink"
]), km = je(/{{[\w\W]*|^[\w\W]*}}/g), vm = je(/<%[\w\W]*|^[\w\W]*%>/g), xm = je(/\${[\w\W]*/g), Am = je(/{{|}}|\${|<%|%>|&lt;%|%&gt;/), Rm = je(/^data-[\-\w.\u00B7-\uFFFF]+$/), Em = je(/^aria-[\-\w]+$/), Pa = je(/^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i), Cm = je(/^(?:\w+script|data):/i), Sm = je(/[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g), Dm = je(/^html$/i), Tm = je(/^[a-z][.\w]*(-[.\w]+)+$/i), Hi = je(/<[/\w!]/g), $a = je(/<[/\w]/g), Im = je(/<\/no(script|embed|frames)/i), ja = je(/\/>/i), Fm = je(/((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i), Om = je(/^[\r\n\t ]+/), Pe = {
  element: 1,
  text: 3,
  processingInstruction: 7,
  comment: 8,
  document: 9,
  documentFragment: 11
}, Nm = Ve(ke({}, [
  "style",
  "script",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "plaintext",
  "noscript"
])), Mm = function() {
  return typeof window > "u" ? null : window;
}, Lm = function(t, n) {
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
}, Ba = function() {
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
}, nn = function(t, n, s, r) {
  return Qe(t, n) && ts(t[n]) ? ke(r.base ? vs(r.base) : {}, t[n], r.transform) : s;
}, Vi = function(t, n, s) {
  const r = Qe(t, n) ? t[n] : void 0;
  return r && typeof r == "object" ? Mr(r) : s;
};
function $u() {
  let e = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : Mm();
  const t = (F) => $u(F);
  if (t.version = "3.4.18", t.removed = [], !e || !e.document || e.document.nodeType !== Pe.document || !e.Element)
    return t.isSupported = !1, t;
  let n = e.document;
  const s = n, r = s.currentScript, i = e.HTMLTemplateElement, o = e.Node, l = e.Element, a = e.NodeFilter, c = e.DOMParser, u = e.trustedTypes, f = l.prototype, m = ht(f, "cloneNode"), h = ht(f, "remove"), p = ht(f, "removeAttributeNode"), k = ht(f, "nextSibling"), v = ht(f, "childNodes"), C = ht(f, "parentNode"), x = ht(f, "shadowRoot"), b = ht(f, "attributes"), w = o && o.prototype ? ht(o.prototype, "nodeType") : null, O = o && o.prototype ? ht(o.prototype, "nodeName") : null, z = o && o.prototype ? ht(o.prototype, "ownerDocument") : null, $ = function(d) {
    return w ? w(d) : d.nodeType;
  }, ee = function(d) {
    return O ? O(d) : d.nodeName;
  }, X = _m(f, "namespaceURI"), ue = function(d) {
    return X ? X(d) : d.namespaceURI;
  };
  if (typeof i == "function") {
    const F = n.createElement("template");
    F.content && F.content.ownerDocument && (n = F.content.ownerDocument);
  }
  let ne, pe = "", Ie, xe = !1, Re = 0;
  const dt = function() {
    if (Re > 0) throw Wt('A configured TRUSTED_TYPES_POLICY callback (createHTML or createScriptURL) must not call DOMPurify.sanitize, as that causes infinite recursion. Do not pass a policy whose callbacks wrap DOMPurify as TRUSTED_TYPES_POLICY; see the "DOMPurify and Trusted Types" section of the README.');
  }, J = function(d) {
    dt(), Re++;
    try {
      return ne.createHTML(d);
    } finally {
      Re--;
    }
  }, oe = function(d) {
    return ne && Xr ? J(d) : d;
  }, le = function(d) {
    dt(), Re++;
    try {
      return ne.createScriptURL(d);
    } finally {
      Re--;
    }
  }, _e = function() {
    return xe || (Ie = Lm(u, r), xe = !0), Ie;
  }, Ee = n, ye = Ee.implementation, G = Ee.createNodeIterator, T = Ee.createDocumentFragment, E = Ee.getElementsByTagName, Y = s.importNode;
  let me = Ba();
  t.isSupported = typeof Ou == "function" && typeof C == "function" && ye && ye.createHTMLDocument !== void 0;
  const Ks = km, mn = vm, Go = xm, g = Rm, _ = Em, A = Cm, P = Sm, S = Tm;
  let I = Pa, M = null;
  const j = ke({}, [
    ...Oa,
    ...Ui,
    ...Wi,
    ...Ji,
    ...Na
  ]);
  let N = null;
  const D = ke({}, [
    ...Ma,
    ...qi,
    ...La,
    ...hr
  ]);
  let V = null, U = null, Z = null;
  const te = Object.seal(on(null, {
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
  let ge = !0, be = !0, we = !1, Fe = !0, Ce = !1, Be = !0, Ue = !1, ct = !1, _n = null, We = null, it = !1, jt = !1, yn = !1, Xr = !1, Ko = !0, Xo = !1;
  const Yo = "user-content-";
  let Yr = !0, Zr = !1, bn = null, Un = !1, wn = null;
  const Zo = ke({}, [
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
  let Qo = null;
  const el = ke({}, [
    "audio",
    "video",
    "img",
    "source",
    "image",
    "track"
  ]);
  let tl = null;
  const nl = ke({}, [
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
  ]), Xs = "http://www.w3.org/1998/Math/MathML", Ys = "http://www.w3.org/2000/svg", Et = "http://www.w3.org/1999/xhtml";
  let Wn = Et, Qr = !1, sl = null;
  const _f = ke({}, [
    Xs,
    Ys,
    Et
  ], Bi), yf = Ve(ke({}, [
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext"
  ]));
  let ei = null;
  const bf = Ve(ke({}, ["annotation-xml"]));
  let ti = null;
  const wf = Ve(on(null)), kf = ke({}, [
    "title",
    "style",
    "font",
    "a",
    "script"
  ]);
  let us = null;
  const vf = ["application/xhtml+xml", "text/html"], xf = "text/html";
  let Le = null, Zs = null;
  const Af = n.createElement("form"), rl = function(d) {
    return d instanceof RegExp || d instanceof Function;
  }, ni = function() {
    let d = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    (!d || typeof d != "object") && (d = {}), d = Mr(d), us = vf.indexOf(d.PARSER_MEDIA_TYPE) === -1 ? xf : d.PARSER_MEDIA_TYPE, Le = us === "application/xhtml+xml" ? Bi : Dn, M = nn(d, "ALLOWED_TAGS", j, { transform: Le }), N = nn(d, "ALLOWED_ATTR", D, { transform: Le }), sl = nn(d, "ALLOWED_NAMESPACES", _f, { transform: Bi }), tl = nn(d, "ADD_URI_SAFE_ATTR", nl, {
      transform: Le,
      base: nl
    }), Qo = nn(d, "ADD_DATA_URI_TAGS", el, {
      transform: Le,
      base: el
    }), wn = nn(d, "FORBID_CONTENTS", Zo, { transform: Le }), U = nn(d, "FORBID_TAGS", on(null), { transform: Le }), Z = nn(d, "FORBID_ATTR", on(null), { transform: Le }), Un = Qe(d, "USE_PROFILES") ? d.USE_PROFILES && typeof d.USE_PROFILES == "object" ? Mr(d.USE_PROFILES) : d.USE_PROFILES : !1, ge = d.ALLOW_ARIA_ATTR !== !1, be = d.ALLOW_DATA_ATTR !== !1, we = d.ALLOW_UNKNOWN_PROTOCOLS || !1, Fe = d.ALLOW_SELF_CLOSE_IN_ATTR !== !1, Ce = d.SAFE_FOR_TEMPLATES || !1, Be = d.SAFE_FOR_XML !== !1, Ue = d.WHOLE_DOCUMENT || !1, jt = d.RETURN_DOM || !1, yn = d.RETURN_DOM_FRAGMENT || !1, Xr = d.RETURN_TRUSTED_TYPE || !1, it = d.FORCE_BODY || !1, Ko = d.SANITIZE_DOM !== !1, Xo = d.SANITIZE_NAMED_PROPS || !1, Yr = d.KEEP_CONTENT !== !1, Zr = d.IN_PLACE || !1, I = ym(d.ALLOWED_URI_REGEXP) ? d.ALLOWED_URI_REGEXP : Pa, Wn = typeof d.NAMESPACE == "string" ? d.NAMESPACE : Et, ei = Vi(d, "MATHML_TEXT_INTEGRATION_POINTS", yf), ti = Vi(d, "HTML_INTEGRATION_POINTS", bf);
    const y = Vi(d, "CUSTOM_ELEMENT_HANDLING", wf);
    if (V = on(null), Qe(y, "tagNameCheck") && rl(y.tagNameCheck) && (V.tagNameCheck = y.tagNameCheck), Qe(y, "attributeNameCheck") && rl(y.attributeNameCheck) && (V.attributeNameCheck = y.attributeNameCheck), Qe(y, "allowCustomizedBuiltInElements") && typeof y.allowCustomizedBuiltInElements == "boolean" && (V.allowCustomizedBuiltInElements = y.allowCustomizedBuiltInElements), je(V), Ce && (be = !1), yn && (jt = !0), Un && ((Qe(d, "ALLOWED_TAGS") || Qe(d, "ALLOWED_ATTR")) && typeof console < "u" && typeof console.warn == "function" && console.warn("DOMPurify: USE_PROFILES overrides ALLOWED_TAGS and ALLOWED_ATTR. Do not use these options together."), M = ke({}, Na), N = on(null), Un.html === !0 && (ke(M, Oa), ke(N, Ma)), Un.svg === !0 && (ke(M, Ui), ke(N, qi), ke(N, hr)), Un.svgFilters === !0 && (ke(M, Wi), ke(N, qi), ke(N, hr)), Un.mathMl === !0 && (ke(M, Ji), ke(N, La), ke(N, hr))), te.tagCheck = null, te.attributeCheck = null, Qe(d, "ADD_TAGS") && (typeof d.ADD_TAGS == "function" ? te.tagCheck = d.ADD_TAGS : ts(d.ADD_TAGS) && (M === j && (M = vs(M)), ke(M, d.ADD_TAGS, Le))), Qe(d, "ADD_ATTR") && (typeof d.ADD_ATTR == "function" ? te.attributeCheck = d.ADD_ATTR : ts(d.ADD_ATTR) && (N === D && (N = vs(N)), ke(N, d.ADD_ATTR, Le))), Qe(d, "ADD_FORBID_CONTENTS") && ts(d.ADD_FORBID_CONTENTS) && (wn === Zo && (wn = vs(wn)), ke(wn, d.ADD_FORBID_CONTENTS, Le)), Yr && (M["#text"] = !0), Ue && ke(M, [
      "html",
      "head",
      "body"
    ]), M.table && (M.tbody = !0, delete U.tbody), d.TRUSTED_TYPES_POLICY) {
      if (typeof d.TRUSTED_TYPES_POLICY.createHTML != "function") throw Wt('TRUSTED_TYPES_POLICY configuration option must provide a "createHTML" hook.');
      if (typeof d.TRUSTED_TYPES_POLICY.createScriptURL != "function") throw Wt('TRUSTED_TYPES_POLICY configuration option must provide a "createScriptURL" hook.');
      const R = ne;
      ne = d.TRUSTED_TYPES_POLICY;
      try {
        pe = J("");
      } catch (L) {
        throw ne = R, L;
      }
    } else d.TRUSTED_TYPES_POLICY === null ? (ne = void 0, pe = "") : (ne === void 0 && (ne = _e()), ne && typeof pe == "string" && (pe = J("")));
    Zs = Ve(d);
  }, il = ke({}, [
    ...Ui,
    ...Wi,
    ...bm
  ]), ol = ke({}, [...Ji, ...wm]), Rf = function(d, y, R) {
    return y === Et ? d === "svg" : y === Xs ? d === "svg" && (R === "annotation-xml" || ei[R]) : !!il[d];
  }, Ef = function(d, y, R) {
    return y === Et ? d === "math" : y === Ys ? d === "math" && ti[R] : !!ol[d];
  }, Cf = function(d, y, R) {
    return y === Ys && !ti[R] || y === Xs && !ei[R] ? !1 : !ol[d] && (kf[d] || !il[d]);
  }, Sf = function(d) {
    const y = ue(d), R = Dn(ee(d)), L = C(d);
    let Q = Wn, re = "template";
    return L && $(L) === Pe.element && (Q = ue(L), re = Dn(ee(L))), sl[y] ? y === Ys ? Rf(R, Q, re) : y === Xs ? Ef(R, Q, re) : y === Et ? Cf(R, Q, re) : us === "application/xhtml+xml" : !1;
  }, Qt = function(d) {
    gs(t.removed, { element: d });
    try {
      C(d).removeChild(d);
    } catch {
      if (h(d), !C(d)) throw Wt("a node selected for removal could not be detached from its tree and cannot be safely returned; refusing to sanitize in place");
    }
  }, ll = function(d, y, R) {
    try {
      p(d, y);
    } catch {
      try {
        d.removeAttribute(R);
      } catch {
      }
    }
  }, si = function(d) {
    oi(d);
    const y = v(d);
    y && Ut(am(y), (R) => {
      try {
        h(R);
      } catch {
      }
    }), $(d) === Pe.element && ri(d, !1);
  }, Jn = function(d, y, R) {
    if (!R) try {
      R = y.getAttributeNode(d);
    } catch {
      R = null;
    }
    if (gs(t.removed, {
      attribute: R || null,
      from: y
    }), R) ll(y, R, d);
    else try {
      y.removeAttribute(d);
    } catch {
    }
    if (d === "is")
      if (jt || yn) try {
        Qt(y);
      } catch {
      }
      else try {
        y.setAttribute(d, "");
      } catch {
      }
  }, ri = function(d, y) {
    const R = b(d);
    if (R)
      for (let L = R.length - 1; L >= 0; --L) {
        const Q = R[L], re = Q && Q.name;
        typeof re == "string" && !(y && N[Le(re)]) && ll(d, Q, re);
      }
  }, ii = function(d, y) {
    let R = arguments.length > 2 && arguments[2] !== void 0 ? arguments[2] : !1;
    const L = [d];
    for (; L.length > 0; ) {
      const Q = L.pop();
      if (y(Q) === !1) continue;
      if (R && $(Q) === Pe.element) {
        const fe = x(Q);
        qn(fe) && L.push(fe);
      }
      const re = v(Q);
      if (re) for (let fe = re.length - 1; fe >= 0; --fe) L.push(re[fe]);
    }
  }, oi = function(d) {
    ii(d, (y) => {
      $(y) === Pe.element && ri(y, !0);
    });
  }, li = function(d) {
    const y = [];
    return ii(d, (R) => {
      y.push(R);
    }, !0), y;
  }, Df = function(d, y) {
    const R = $i();
    Ut(li(d), (L) => {
      $(L) === Pe.element && ji(R, L);
    }), Ut(y, (L) => {
      $(L) === Pe.element && !ms(R, L) && ri(L, !0);
    });
  }, al = function(d, y) {
    let R = !1;
    return Ut(t.removed, (L) => {
      L.element && (R = R || L.element === d, oi(L.element));
    }), Df(d, y), R;
  }, Tf = 8, If = function(d, y) {
    const R = bn;
    let L = null;
    const Q = () => (L || (L = $i(), Ut(y, (re) => {
      ji(L, re);
    })), L);
    for (let re = 0; ; re++) {
      const fe = li(d), ze = [d];
      let Bt = !1;
      if (Ut(fe, (bt) => {
        $(bt) === Pe.documentFragment ? gs(ze, bt) : !Bt && !ms(R, bt) && (Bt = ms(Q(), bt));
      }), !Bt) return;
      if (re >= Tf) throw Wt("the tree kept changing during in-place sanitization; refusing to return it");
      Ut(ze, (bt, ut) => {
        Ff(bt, ut > 0, d, Q());
      });
    }
  }, Ff = function(d, y, R, L) {
    const Q = Qs(d);
    let re;
    for (; re = Q.nextNode(); )
      !ms(L, re) || ms(bn, re) || (y && yt(me.uponSanitizeShadowNode, re, null), fi(re, R));
  }, Of = function(d) {
    bn && ji(bn, d);
  }, cl = function(d, y) {
    return Be ? d === "patchsrc" ? !0 : d === "for" && y !== "label" && y !== "output" : !1;
  }, Nf = function(d) {
    Be && ii(d, (y) => {
      const R = $(y);
      if (R === Pe.processingInstruction || R === Pe.comment && qe($a, y.data)) {
        try {
          h(y);
        } catch {
        }
        return !1;
      }
      if (R === Pe.element) {
        const L = y, Q = Le(ee(y));
        try {
          L.hasAttribute && L.hasAttribute("patchsrc") && L.removeAttribute("patchsrc"), L.hasAttribute && L.hasAttribute("for") && cl("for", Q) && L.removeAttribute("for");
        } catch {
        }
      }
      return !0;
    });
  }, ul = function(d) {
    let y = null, R = null;
    if (it) d = "<remove></remove>" + d;
    else {
      const re = um(d, Om);
      R = re && re[0];
    }
    us === "application/xhtml+xml" && Wn === Et && (d = '<html xmlns="http://www.w3.org/1999/xhtml"><head></head><body>' + d + "</body></html>");
    const L = ne ? J(d) : d;
    if (Wn === Et) try {
      y = new c().parseFromString(L, us);
    } catch {
    }
    if (!y || !y.documentElement) {
      y = ye.createDocument(Wn, "template", null);
      try {
        y.documentElement.innerHTML = Qr ? pe : L;
      } catch {
      }
    }
    const Q = y.body || y.documentElement;
    return d && R && Q.insertBefore(n.createTextNode(R), Q.childNodes[0] || null), Wn === Et ? E.call(y, Ue ? "html" : "body")[0] : Ue ? y.documentElement : Q;
  }, Qs = function(d) {
    let y = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : !1;
    const R = z ? z(d) : d.ownerDocument;
    return G.call(R || d, d, (y ? 0 : a.SHOW_ELEMENT) | a.SHOW_COMMENT | a.SHOW_TEXT | a.SHOW_PROCESSING_INSTRUCTION | a.SHOW_CDATA_SECTION, null);
  }, ai = function(d) {
    return d = dr(d, Ks, " "), d = dr(d, mn, " "), d = dr(d, Go, " "), d;
  }, ci = function(d) {
    var y;
    ui(d);
    const R = (y = d.querySelectorAll) === null || y === void 0 ? void 0 : y.call(d, "template");
    R && Ut(R, (L) => {
      qn(L.content) && ci(L.content);
    });
  }, ui = function(d) {
    d.normalize();
    const y = Qs(d, !0);
    let R = y.nextNode();
    for (; R; )
      R.data = ai(R.data), R = y.nextNode();
  }, er = function(d) {
    const y = O ? O(d) : null;
    return typeof y != "string" || Le(y) !== "form" ? !1 : typeof d.nodeName != "string" || typeof d.textContent != "string" || typeof d.removeChild != "function" || d.attributes !== b(d) || typeof d.removeAttribute != "function" || typeof d.removeAttributeNode != "function" || typeof d.getAttributeNode != "function" || typeof d.setAttribute != "function" || typeof d.namespaceURI != "string" || typeof d.insertBefore != "function" || typeof d.hasChildNodes != "function" || d.nodeType !== w(d) || d.childNodes !== v(d);
  }, fl = function(d) {
    if (!w || typeof d != "object" || d === null) return null;
    try {
      const y = w(d);
      return typeof y == "number" ? y : null;
    } catch {
      return null;
    }
  }, qn = function(d) {
    return fl(d) === Pe.documentFragment;
  }, fs = function(d) {
    return fl(d) !== null;
  };
  function yt(F, d, y) {
    F.length !== 0 && Ut(F, (R) => {
      R.call(t, d, y, Zs);
    });
  }
  const Mf = function(d, y, R) {
    return !!(Be && R === Pe.element && d.hasChildNodes() && !fs(d.firstElementChild) && qe(Hi, d.textContent) && qe(Hi, d.innerHTML) || Be && Nm[y] && R === Pe.element && ue(d) === Et && (fs(d.firstElementChild) || typeof d.textContent == "string" && qe(Hi, d.textContent)) || R === Pe.processingInstruction || Be && R === Pe.comment && qe($a, d.data));
  }, tr = function(d, y) {
    if (d instanceof RegExp) return qe(d, y);
    if (d instanceof Function) {
      for (var R = arguments.length, L = new Array(R > 2 ? R - 2 : 0), Q = 2; Q < R; Q++) L[Q - 2] = arguments[Q];
      return !!d(y, ...L);
    }
    return !1;
  }, Lf = function(d, y, R) {
    if (!U[y] && pl(y) && tr(V.tagNameCheck, y)) return !1;
    if (Yr && !wn[y] && !wn[Dn(y)]) {
      const L = C(d), Q = v(d);
      if (Q && L) {
        const re = Q.length;
        for (let fe = re - 1; fe >= 0; --fe) {
          const ze = d === R ? m(Q[fe], !0) : Q[fe];
          L.insertBefore(ze, k(d));
        }
      }
    }
    return Qt(d), !0;
  }, dl = function(d, y, R, L) {
    return d.length === 0 ? y : y === R || y === L ? vs(y) : y;
  }, Hn = function(d, y) {
    return d === y || C(d) !== null ? !1 : (Zr && oi(d), !0);
  }, Pf = function(d, y) {
    if (Of(d), yt(me.beforeSanitizeElements, d, null), Hn(d, y)) return !0;
    if (er(d))
      return Qt(d), !0;
    const R = Le(ee(d)), L = $(d);
    if (M = dl(me.uponSanitizeElement, M, j, _n), yt(me.uponSanitizeElement, d, {
      tagName: R,
      allowedTags: M
    }), Hn(d, y)) return !0;
    if (Mf(d, R, L))
      return Qt(d), !0;
    if (U[R] || !(te.tagCheck instanceof Function && te.tagCheck(R)) && !M[R]) {
      const Q = Lf(d, R, y);
      return Q === !1 && (yt(me.afterSanitizeElements, d, null), Hn(d, y)) ? !0 : Q;
    }
    if (L === Pe.element && !Sf(d) || (R === "noscript" || R === "noembed" || R === "noframes") && qe(Im, d.innerHTML))
      return Qt(d), !0;
    if (Ce && L === Pe.text) {
      const Q = d.textContent, re = ai(Q);
      Q !== re && (gs(t.removed, { element: d.cloneNode() }), d.textContent = re);
    }
    return yt(me.afterSanitizeElements, d, null), Hn(d, y);
  }, hl = function(d, y, R) {
    if (Z[y] || cl(y, d) || Ko && (y === "id" || y === "name") && (R in n || R in Af)) return !1;
    const L = N[y] || te.attributeCheck instanceof Function && te.attributeCheck(y, d);
    if (be && qe(g, y) || ge && qe(_, y)) return !0;
    if (!L) return pl(d) && tr(V.tagNameCheck, d) && tr(V.attributeNameCheck, y, d) || y === "is" && V.allowCustomizedBuiltInElements && tr(V.tagNameCheck, R);
    if (tl[y]) return !0;
    const Q = dr(R, P, "");
    return qe(I, Q) || (y === "src" || y === "xlink:href" || y === "href") && d !== "script" && zi(R, "data:") === 0 && Qo[d] || we && !qe(A, Q) ? !0 : !R;
  }, $f = ke({}, [
    "annotation-xml",
    "color-profile",
    "font-face",
    "font-face-format",
    "font-face-name",
    "font-face-src",
    "font-face-uri",
    "missing-glyph"
  ]), pl = function(d) {
    return !$f[Dn(d)] && qe(S, d);
  }, jf = function(d, y, R, L) {
    if (ne && typeof u == "object" && typeof u.getAttributeType == "function" && !R) switch (u.getAttributeType(d, y)) {
      case "TrustedHTML":
        return J(L);
      case "TrustedScriptURL":
        return le(L);
    }
    return L;
  }, Bf = function(d, y, R, L) {
    try {
      return R ? d.setAttributeNS(R, y, L) : d.setAttribute(y, L), er(d) ? (Qt(d), !1) : !0;
    } catch {
      return Jn(y, d), !1;
    }
  }, gl = function(d, y) {
    return Be && qe(Fm, y) ? !0 : Dn(d) === "attributename" && zi(y, "href") !== -1;
  }, zf = function(d, y) {
    if (yt(me.beforeSanitizeAttributes, d, null), Hn(d, y)) return;
    const R = d.attributes;
    if (!R || er(d)) return;
    N = dl(me.uponSanitizeAttribute, N, D, We);
    const L = {
      attrName: "",
      attrValue: "",
      keepAttr: !0,
      allowedAttributes: N,
      forceKeepAttr: void 0
    };
    let Q = R.length;
    const re = Le(ee(d));
    for (; Q--; ) {
      const fe = R[Q], ze = fe.name, Bt = fe.namespaceURI, bt = fe.value, ut = Le(ze), Ct = bt;
      let Ge = ze === "value" ? Ct : fm(Ct), ml = !1;
      if (L.attrName = ut, L.attrValue = Ge, L.keepAttr = !0, L.forceKeepAttr = void 0, yt(me.uponSanitizeAttribute, d, L), Ge = L.attrValue, Xo && (ut === "id" || ut === "name") && zi(Ge, Yo) !== 0 && (Jn(ze, d, fe), Ge = Yo + Ge, ml = !0), gl(ze, Ge)) {
        Jn(ze, d, fe);
        continue;
      }
      if (!L.forceKeepAttr) {
        if (!L.keepAttr) {
          Jn(ze, d, fe);
          continue;
        }
        if (!Fe && qe(ja, Ge)) {
          Jn(ze, d, fe);
          continue;
        }
        if (Ce && (Ge = ai(Ge)), !hl(re, ut, Ge)) {
          Jn(ze, d, fe);
          continue;
        }
        Ge = jf(re, ut, Bt, Ge), Ge !== Ct && Bf(d, ze, Bt, Ge) && ml && Ta(t.removed);
      }
    }
    yt(me.afterSanitizeAttributes, d, null), Hn(d, y);
  }, fi = function(d, y) {
    Pf(d, y), zf(d, y), qn(d.content) && di(d.content);
  }, di = function(d) {
    let y = null;
    const R = Qs(d);
    for (yt(me.beforeSanitizeShadowDOM, d, null); y = R.nextNode(); )
      if (yt(me.uponSanitizeShadowNode, y, null), fi(y, d), $(y) === Pe.element) {
        const L = x(y);
        qn(L) && (hi(L), di(L));
      }
    Ce && ui(d), yt(me.afterSanitizeShadowDOM, d, null);
  }, hi = function(d) {
    const y = [{
      node: d,
      shadow: null
    }];
    for (; y.length > 0; ) {
      const R = y.pop();
      if (R.shadow) {
        di(R.shadow);
        continue;
      }
      const L = R.node, Q = $(L) === Pe.element, re = v(L);
      if (re) for (let fe = re.length - 1; fe >= 0; --fe) y.push({
        node: re[fe],
        shadow: null
      });
      if (Q) {
        const fe = O ? O(L) : null;
        if (typeof fe == "string" && Le(fe) === "template") {
          const ze = L.content;
          qn(ze) && y.push({
            node: ze,
            shadow: null
          });
        }
      }
      if (Q) {
        const fe = x(L);
        qn(fe) && y.push({
          node: null,
          shadow: fe
        }, {
          node: fe,
          shadow: null
        });
      }
    }
  };
  return t.sanitize = function(F) {
    let d = arguments.length > 1 && arguments[1] !== void 0 ? arguments[1] : {}, y = null, R = null, L = null, Q = null;
    if (Qr = !F, Qr && (F = "<!-->"), typeof F != "string" && !fs(F) && (F = mm(F), typeof F != "string"))
      throw Wt("dirty is not a string, aborting");
    if (!t.isSupported) return F;
    ct ? (M = _n, N = We) : ni(d), t.removed = [];
    const re = Zr && typeof F != "string" && fs(F);
    let fe = [];
    const ze = bn;
    if (re) {
      Nf(F);
      const Ct = ee(F);
      if (typeof Ct == "string") {
        const Ge = Le(Ct);
        if (!M[Ge] || U[Ge])
          throw si(F), Wt("root node is forbidden and cannot be sanitized in-place");
      }
      if (er(F))
        throw si(F), Wt("root node is clobbered and cannot be sanitized in-place");
      fe = li(F), bn = $i();
    } else if (fs(F))
      y = ul("<!---->"), R = y.ownerDocument.importNode(F, !0), R.nodeType === Pe.element && R.nodeName === "BODY" || R.nodeName === "HTML" ? y = R : y.appendChild(R), hi(y);
    else {
      if (!jt && !Ce && !Ue && F.indexOf("<") === -1) return oe(F);
      if (y = ul(F), !y) return jt ? null : Xr ? pe : "";
    }
    y && it && Qt(y.firstChild);
    const Bt = re ? F : y;
    try {
      re && hi(F);
      const Ct = Qs(Bt);
      for (; L = Ct.nextNode(); ) fi(L, Bt);
      re && If(F, fe);
    } catch (Ct) {
      throw re && (si(F), al(F, fe)), Ct;
    } finally {
      bn = ze;
    }
    if (re) {
      if (al(F, fe)) throw Wt("a node selected for removal could not be safely returned; refusing to sanitize in place");
      return Ce && ci(F), F;
    }
    if (jt) {
      if (Ce && ci(y), yn)
        for (Q = T.call(y.ownerDocument); y.firstChild; ) Q.appendChild(y.firstChild);
      else Q = y;
      return (N.shadowroot || N.shadowrootmode) && (Q = Y.call(s, Q, !0)), Q;
    }
    const bt = () => Ue ? y.outerHTML : y.innerHTML;
    let ut = bt();
    return Ce && qe(Am, ut) && (ui(y), ut = bt()), Ue && M["!doctype"] && y.ownerDocument && y.ownerDocument.doctype && y.ownerDocument.doctype.name && qe(Dm, y.ownerDocument.doctype.name) && (ut = "<!DOCTYPE " + y.ownerDocument.doctype.name + `>
` + ut), oe(ut);
  }, t.setConfig = function() {
    let F = arguments.length > 0 && arguments[0] !== void 0 ? arguments[0] : {};
    ni(F), ct = !0, _n = M, We = N;
  }, t.clearConfig = function() {
    Zs = null, ct = !1, _n = null, We = null, ne = Ie, pe = "";
  }, t.isValidAttribute = function(F, d, y) {
    Zs || ni({});
    const R = Le(F), L = Le(d);
    return typeof y == "string" && (gl(d, y) || !Fe && qe(ja, y)) ? !1 : hl(R, L, y);
  }, t.addHook = function(F, d) {
    typeof d == "function" && Qe(me, F) && gs(me[F], d);
  }, t.removeHook = function(F, d) {
    if (Qe(me, F)) {
      if (d !== void 0) {
        const y = lm(me[F], d);
        return y === -1 ? void 0 : cm(me[F], y, 1)[0];
      }
      return Ta(me[F]);
    }
  }, t.removeHooks = function(F) {
    Qe(me, F) && (me[F] = []);
  }, t.removeAllHooks = function() {
    me = Ba();
  }, t;
}
var Pm = $u();
const za = {};
function $m(e) {
  let t = za[e];
  if (t)
    return t;
  t = za[e] = [];
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
function as(e, t) {
  typeof t != "string" && (t = as.defaultChars);
  const n = $m(t);
  return e.replace(/(%[a-f0-9]{2})+/gi, function(s) {
    let r = "";
    for (let i = 0, o = s.length; i < o; i += 3) {
      const l = parseInt(s.slice(i + 1, i + 3), 16);
      if (l < 128) {
        r += n[l];
        continue;
      }
      if ((l & 224) === 192 && i + 3 < o) {
        const a = parseInt(s.slice(i + 4, i + 6), 16);
        if ((a & 192) === 128) {
          const c = l << 6 & 1984 | a & 63;
          c < 128 ? r += "��" : r += String.fromCharCode(c), i += 3;
          continue;
        }
      }
      if ((l & 240) === 224 && i + 6 < o) {
        const a = parseInt(s.slice(i + 4, i + 6), 16), c = parseInt(s.slice(i + 7, i + 9), 16);
        if ((a & 192) === 128 && (c & 192) === 128) {
          const u = l << 12 & 61440 | a << 6 & 4032 | c & 63;
          u < 2048 || u >= 55296 && u <= 57343 ? r += "���" : r += String.fromCharCode(u), i += 6;
          continue;
        }
      }
      if ((l & 248) === 240 && i + 9 < o) {
        const a = parseInt(s.slice(i + 4, i + 6), 16), c = parseInt(s.slice(i + 7, i + 9), 16), u = parseInt(s.slice(i + 10, i + 12), 16);
        if ((a & 192) === 128 && (c & 192) === 128 && (u & 192) === 128) {
          let f = l << 18 & 1835008 | a << 12 & 258048 | c << 6 & 4032 | u & 63;
          f < 65536 || f > 1114111 ? r += "����" : (f -= 65536, r += String.fromCharCode(55296 + (f >> 10), 56320 + (f & 1023))), i += 9;
          continue;
        }
      }
      r += "�";
    }
    return r;
  });
}
as.defaultChars = ";/?:@&=+$,#";
as.componentChars = "";
const Ua = {};
function jm(e) {
  let t = Ua[e];
  if (t)
    return t;
  t = Ua[e] = [];
  for (let n = 0; n < 128; n++) {
    const s = String.fromCharCode(n);
    /^[0-9a-z]$/i.test(s) ? t.push(s) : t.push("%" + ("0" + n.toString(16).toUpperCase()).slice(-2));
  }
  for (let n = 0; n < e.length; n++)
    t[e.charCodeAt(n)] = e[n];
  return t;
}
function Gt(e, t, n) {
  typeof t != "string" && (n = t, t = Gt.defaultChars), typeof n > "u" && (n = !0);
  const s = jm(t);
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
        const a = e.charCodeAt(i + 1);
        if (a >= 56320 && a <= 57343) {
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
Gt.defaultChars = ";/?:@&=+$,-_.!~*'()#";
Gt.componentChars = "-_.!~*'()";
function ko(e) {
  let t = "";
  return t += e.protocol || "", t += e.slashes ? "//" : "", t += e.auth ? e.auth + "@" : "", e.hostname && e.hostname.indexOf(":") !== -1 ? t += "[" + e.hostname + "]" : t += e.hostname || "", t += e.port ? ":" + e.port : "", t += e.pathname || "", t += e.search || "", t += e.hash || "", t;
}
function Lr() {
  this.protocol = null, this.slashes = null, this.auth = null, this.port = null, this.hostname = null, this.hash = null, this.search = null, this.pathname = null;
}
const Bm = /^([a-z0-9.+-]+:)/i, zm = /:[0-9]*$/, Um = /^(\/\/?(?!\/)[^\?\s]*)(\?[^\s]*)?$/, Wm = ["<", ">", '"', "`", " ", "\r", `
`, "	"], Jm = ["{", "}", "|", "\\", "^", "`"].concat(Wm), qm = ["'"].concat(Jm), Wa = ["%", "/", "?", ";", "#"].concat(qm), Ja = ["/", "?", "#"], Hm = 255, qa = /^[+a-z0-9A-Z_-]{0,63}$/, Vm = /^([+a-z0-9A-Z_-]{0,63})(.*)$/, Ha = {
  javascript: !0,
  "javascript:": !0
}, Va = {
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
function vo(e, t) {
  if (e && e instanceof Lr) return e;
  const n = new Lr();
  return n.parse(e, t), n;
}
Lr.prototype.parse = function(e, t) {
  let n, s, r, i = e;
  if (i = i.trim(), !t && e.split("#").length === 1) {
    const c = Um.exec(i);
    if (c)
      return this.pathname = c[1], c[2] && (this.search = c[2]), this;
  }
  let o = Bm.exec(i);
  if (o && (o = o[0], n = o.toLowerCase(), this.protocol = o, i = i.substr(o.length)), (t || o || i.match(/^\/\/[^@\/]+@[^@\/]+/)) && (r = i.substr(0, 2) === "//", r && !(o && Ha[o]) && (i = i.substr(2), this.slashes = !0)), !Ha[o] && (r || o && !Va[o])) {
    let c = -1;
    for (let p = 0; p < Ja.length; p++)
      s = i.indexOf(Ja[p]), s !== -1 && (c === -1 || s < c) && (c = s);
    let u, f;
    c === -1 ? f = i.lastIndexOf("@") : f = i.lastIndexOf("@", c), f !== -1 && (u = i.slice(0, f), i = i.slice(f + 1), this.auth = u), c = -1;
    for (let p = 0; p < Wa.length; p++)
      s = i.indexOf(Wa[p]), s !== -1 && (c === -1 || s < c) && (c = s);
    c === -1 && (c = i.length), i[c - 1] === ":" && c--;
    const m = i.slice(0, c);
    i = i.slice(c), this.parseHost(m), this.hostname = this.hostname || "";
    const h = this.hostname[0] === "[" && this.hostname[this.hostname.length - 1] === "]";
    if (!h) {
      const p = this.hostname.split(/\./);
      for (let k = 0, v = p.length; k < v; k++) {
        const C = p[k];
        if (C && !C.match(qa)) {
          let x = "";
          for (let b = 0, w = C.length; b < w; b++)
            C.charCodeAt(b) > 127 ? x += "x" : x += C[b];
          if (!x.match(qa)) {
            const b = p.slice(0, k), w = p.slice(k + 1), O = C.match(Vm);
            O && (b.push(O[1]), w.unshift(O[2])), w.length && (i = w.join(".") + i), this.hostname = b.join(".");
            break;
          }
        }
      }
    }
    this.hostname.length > Hm && (this.hostname = ""), h && (this.hostname = this.hostname.substr(1, this.hostname.length - 2));
  }
  const l = i.indexOf("#");
  l !== -1 && (this.hash = i.substr(l), i = i.slice(0, l));
  const a = i.indexOf("?");
  return a !== -1 && (this.search = i.substr(a), i = i.slice(0, a)), i && (this.pathname = i), Va[n] && this.hostname && !this.pathname && (this.pathname = ""), this;
};
Lr.prototype.parseHost = function(e) {
  let t = zm.exec(e);
  t && (t = t[0], t !== ":" && (this.port = t.substr(1)), e = e.substr(0, e.length - t.length)), e && (this.hostname = e);
};
const Gm = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  decode: as,
  encode: Gt,
  format: ko,
  parse: vo
}, Symbol.toStringTag, { value: "Module" })), ju = /[\0-\uD7FF\uE000-\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/, Bu = /[\0-\x1F\x7F-\x9F]/, Km = /[\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\uD804[\uDCBD\uDCCD]|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]|\uDB40[\uDC01\uDC20-\uDC7F]/, Wo = /[!-#%-\*,-\/:;\?@\[-\]_\{\}\xA1\xA7\xAB\xB6\xB7\xBB\xBF\u037E\u0387\u055A-\u055F\u0589\u058A\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0609\u060A\u060C\u060D\u061B\u061D-\u061F\u066A-\u066D\u06D4\u0700-\u070D\u07F7-\u07F9\u0830-\u083E\u085E\u0964\u0965\u0970\u09FD\u0A76\u0AF0\u0C77\u0C84\u0DF4\u0E4F\u0E5A\u0E5B\u0F04-\u0F12\u0F14\u0F3A-\u0F3D\u0F85\u0FD0-\u0FD4\u0FD9\u0FDA\u104A-\u104F\u10FB\u1360-\u1368\u1400\u166E\u169B\u169C\u16EB-\u16ED\u1735\u1736\u17D4-\u17D6\u17D8-\u17DA\u1800-\u180A\u1944\u1945\u1A1E\u1A1F\u1AA0-\u1AA6\u1AA8-\u1AAD\u1B4E\u1B4F\u1B5A-\u1B60\u1B7D-\u1B7F\u1BFC-\u1BFF\u1C3B-\u1C3F\u1C7E\u1C7F\u1CC0-\u1CC7\u1CD3\u2010-\u2027\u2030-\u2043\u2045-\u2051\u2053-\u205E\u207D\u207E\u208D\u208E\u2308-\u230B\u2329\u232A\u2768-\u2775\u27C5\u27C6\u27E6-\u27EF\u2983-\u2998\u29D8-\u29DB\u29FC\u29FD\u2CF9-\u2CFC\u2CFE\u2CFF\u2D70\u2E00-\u2E2E\u2E30-\u2E4F\u2E52-\u2E5D\u3001-\u3003\u3008-\u3011\u3014-\u301F\u3030\u303D\u30A0\u30FB\uA4FE\uA4FF\uA60D-\uA60F\uA673\uA67E\uA6F2-\uA6F7\uA874-\uA877\uA8CE\uA8CF\uA8F8-\uA8FA\uA8FC\uA92E\uA92F\uA95F\uA9C1-\uA9CD\uA9DE\uA9DF\uAA5C-\uAA5F\uAADE\uAADF\uAAF0\uAAF1\uABEB\uFD3E\uFD3F\uFE10-\uFE19\uFE30-\uFE52\uFE54-\uFE61\uFE63\uFE68\uFE6A\uFE6B\uFF01-\uFF03\uFF05-\uFF0A\uFF0C-\uFF0F\uFF1A\uFF1B\uFF1F\uFF20\uFF3B-\uFF3D\uFF3F\uFF5B\uFF5D\uFF5F-\uFF65]|\uD800[\uDD00-\uDD02\uDF9F\uDFD0]|\uD801\uDD6F|\uD802[\uDC57\uDD1F\uDD3F\uDE50-\uDE58\uDE7F\uDEF0-\uDEF6\uDF39-\uDF3F\uDF99-\uDF9C]|\uD803[\uDD6E\uDEAD\uDED0\uDF55-\uDF59\uDF86-\uDF89]|\uD804[\uDC47-\uDC4D\uDCBB\uDCBC\uDCBE-\uDCC1\uDD40-\uDD43\uDD74\uDD75\uDDC5-\uDDC8\uDDCD\uDDDB\uDDDD-\uDDDF\uDE38-\uDE3D\uDEA9\uDFD4\uDFD5\uDFD7\uDFD8]|\uD805[\uDC4B-\uDC4F\uDC5A\uDC5B\uDC5D\uDCC6\uDDC1-\uDDD7\uDE41-\uDE43\uDE60-\uDE6C\uDEB9\uDF3C-\uDF3E]|\uD806[\uDC3B\uDD44-\uDD46\uDDE2\uDE3F-\uDE46\uDE9A-\uDE9C\uDE9E-\uDEA2\uDF00-\uDF09\uDFE1]|\uD807[\uDC41-\uDC45\uDC70\uDC71\uDEF7\uDEF8\uDF43-\uDF4F\uDFFF]|\uD809[\uDC70-\uDC74]|\uD80B[\uDFF1\uDFF2]|\uD81A[\uDE6E\uDE6F\uDEF5\uDF37-\uDF3B\uDF44]|\uD81B[\uDD6D-\uDD6F\uDE97-\uDE9A\uDFE2]|\uD82F\uDC9F|\uD836[\uDE87-\uDE8B]|\uD839\uDDFF|\uD83A[\uDD5E\uDD5F]/, zu = /[\$\+<->\^`\|~\xA2-\xA6\xA8\xA9\xAC\xAE-\xB1\xB4\xB8\xD7\xF7\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02EB\u02ED\u02EF-\u02FF\u0375\u0384\u0385\u03F6\u0482\u058D-\u058F\u0606-\u0608\u060B\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6\u07FE\u07FF\u0888\u09F2\u09F3\u09FA\u09FB\u0AF1\u0B70\u0BF3-\u0BFA\u0C7F\u0D4F\u0D79\u0E3F\u0F01-\u0F03\u0F13\u0F15-\u0F17\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8\u109E\u109F\u1390-\u1399\u166D\u17DB\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u1FBD\u1FBF-\u1FC1\u1FCD-\u1FCF\u1FDD-\u1FDF\u1FED-\u1FEF\u1FFD\u1FFE\u2044\u2052\u207A-\u207C\u208A-\u208C\u20A0-\u20C1\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116-\u2118\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u2140-\u2144\u214A-\u214D\u214F\u218A\u218B\u2190-\u2307\u230C-\u2328\u232B-\u2429\u2440-\u244A\u249C-\u24E9\u2500-\u2767\u2794-\u27C4\u27C7-\u27E5\u27F0-\u2982\u2999-\u29D7\u29DC-\u29FB\u29FE-\u2B73\u2B76-\u2BFF\u2CE5-\u2CEA\u2E50\u2E51\u2E80-\u2E99\u2E9B-\u2EF3\u2F00-\u2FD5\u2FF0-\u2FFF\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u309B\u309C\u3190\u3191\u3196-\u319F\u31C0-\u31E5\u31EF\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0\u32C0-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA700-\uA716\uA720\uA721\uA789\uA78A\uA828-\uA82B\uA836-\uA839\uAA77-\uAA79\uAB5B\uAB6A\uAB6B\uFB29\uFBB2-\uFBD2\uFD40-\uFD4F\uFD90\uFD91\uFDC8-\uFDCF\uFDFC-\uFDFF\uFE62\uFE64-\uFE66\uFE69\uFF04\uFF0B\uFF1C-\uFF1E\uFF3E\uFF40\uFF5C\uFF5E\uFFE0-\uFFE6\uFFE8-\uFFEE\uFFFC\uFFFD]|\uD800[\uDD37-\uDD3F\uDD79-\uDD89\uDD8C-\uDD8E\uDD90-\uDD9C\uDDA0\uDDD0-\uDDFC]|\uD802[\uDC77\uDC78\uDEC8]|\uD803[\uDD8E\uDD8F\uDED1-\uDED8]|\uD805\uDF3F|\uD807[\uDFD5-\uDFF1]|\uD81A[\uDF3C-\uDF3F\uDF45]|\uD82F\uDC9C|\uD833[\uDC00-\uDCEF\uDCFA-\uDCFC\uDD00-\uDEB3\uDEBA-\uDED0\uDEE0-\uDEF0\uDF50-\uDFC3]|\uD834[\uDC00-\uDCF5\uDD00-\uDD26\uDD29-\uDD64\uDD6A-\uDD6C\uDD83\uDD84\uDD8C-\uDDA9\uDDAE-\uDDEA\uDE00-\uDE41\uDE45\uDF00-\uDF56]|\uD835[\uDEC1\uDEDB\uDEFB\uDF15\uDF35\uDF4F\uDF6F\uDF89\uDFA9\uDFC3]|\uD836[\uDC00-\uDDFF\uDE37-\uDE3A\uDE6D-\uDE74\uDE76-\uDE83\uDE85\uDE86]|\uD838[\uDD4F\uDEFF]|\uD83B[\uDCAC\uDCB0\uDD2E\uDEF0\uDEF1]|\uD83C[\uDC00-\uDC2B\uDC30-\uDC93\uDCA0-\uDCAE\uDCB1-\uDCBF\uDCC1-\uDCCF\uDCD1-\uDCF5\uDD0D-\uDDAD\uDDE6-\uDE02\uDE10-\uDE3B\uDE40-\uDE48\uDE50\uDE51\uDE60-\uDE65\uDF00-\uDFFF]|\uD83D[\uDC00-\uDED8\uDEDC-\uDEEC\uDEF0-\uDEFC\uDF00-\uDFD9\uDFE0-\uDFEB\uDFF0]|\uD83E[\uDC00-\uDC0B\uDC10-\uDC47\uDC50-\uDC59\uDC60-\uDC87\uDC90-\uDCAD\uDCB0-\uDCBB\uDCC0\uDCC1\uDCD0-\uDCD8\uDD00-\uDE57\uDE60-\uDE6D\uDE70-\uDE7C\uDE80-\uDE8A\uDE8E-\uDEC6\uDEC8\uDECD-\uDEDC\uDEDF-\uDEEA\uDEEF-\uDEF8\uDF00-\uDF92\uDF94-\uDFEF\uDFFA]/, Uu = /[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/, Xm = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.defineProperty({
  __proto__: null,
  Any: ju,
  Cc: Bu,
  Cf: Km,
  P: Wo,
  S: zu,
  Z: Uu
}, Symbol.toStringTag, { value: "Module" })), Ym = [
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
function Zm(e) {
  return e === 0 || e >= 55296 && e <= 57343 || e > 1114111;
}
function Qm(e) {
  return Zm(e) ? 65533 : e >= 128 && e <= 159 && Ym[e - 128] || e;
}
function e_(e) {
  return e - 1 >>> 0 < 127 || e - 160 >>> 0 < 55136 ? String.fromCharCode(e) : String.fromCodePoint(Qm(e));
}
const kt = /* @__PURE__ */ (() => {
  const e = new Uint8Array(127);
  let t = 0;
  for (let n = 33; n <= 126; n++)
    n !== 34 && n !== 36 && n !== 92 && (e[n] = t++);
  return e;
})();
function t_(e, t, n, s, r, i) {
  const l = e.length, a = i * 90;
  let c = 0;
  const u = () => {
    const X = kt[e.charCodeAt(c++)];
    return X < i ? X : X * 91 - a + kt[e.charCodeAt(c++)];
  }, f = n - s, m = n + r, h = new Int32Array(m);
  h.fill(-1, s, i), h.fill(-1, i + f, m);
  const p = new Int32Array(m), k = new Int32Array(m);
  function v(X, ue) {
    let ne = 0, pe = ue;
    const Ie = ue + X;
    for (; pe < Ie; ) {
      const xe = kt[e.charCodeAt(c++)];
      if (xe < 89)
        ne += xe, h[pe++] = ne;
      else if (xe === 89) {
        let Re = kt[e.charCodeAt(c++)] + 2;
        for (; Re--; )
          h[pe++] = ++ne;
      } else {
        const Re = kt[e.charCodeAt(c++)];
        ne += 89 + // eslint-disable-next-line unicorn/prefer-minimal-ternary -- branches read a different number of side-effecting input bytes
        (Re < 90 ? Re * 91 + kt[e.charCodeAt(c++)] : kt[e.charCodeAt(c++)] * 8281 + kt[e.charCodeAt(c++)] * 91 + kt[e.charCodeAt(c++)]), h[pe++] = ne;
      }
    }
  }
  v(s, 0), v(f, i);
  const C = new Int32Array(r * 2);
  let x = 0, b = 0;
  function w(X, ue) {
    for (let ne = 0; ne < X; ne++) {
      const pe = ue + ne, Ie = u(), xe = u();
      C[b * 2] = Ie, C[b * 2 + 1] = xe, b += 1, p[pe] = x;
      const Re = (h[Ie] < 0 ? k[Ie] : 1) + (h[xe] < 0 ? k[xe] : 1);
      k[pe] = Re, x += Re;
    }
  }
  w(r - i + s, i + f), w(i - s, s);
  const O = new Uint16Array(x);
  let z = 0;
  for (let X = 0; X < b; X++)
    for (let ue = 0; ue < 2; ue++) {
      const ne = C[X * 2 + ue], pe = h[ne];
      if (pe < 0) {
        let Ie = p[ne];
        const xe = Ie + k[ne];
        for (; Ie < xe; )
          O[z++] = O[Ie++];
      } else
        O[z++] = pe;
    }
  const $ = new Uint16Array(t);
  let ee = 0;
  for (; c < l; ) {
    let X = kt[e.charCodeAt(c++)];
    X >= i && (X = X * 91 - a + kt[e.charCodeAt(c++)]);
    const ue = h[X];
    if (ue < 0) {
      let ne = p[X];
      const pe = ne + k[X];
      for (; ne < pe; )
        $[ee++] = O[ne++];
    } else
      $[ee++] = ue;
  }
  return $;
}
const n_ = /* @__PURE__ */ t_("!}.&u%}'&}*'~!6*)%&,~!J~!J~%L~y<~!R,~~%Lu~~#GD~~#|)1#%}^%}2%+#.##%##%}&%##%'#%##&%#%#'%#&#%#&#'#%%#&#%##%#)%''%&%#%#'%#%%#%%}%%%#%#&(23#%%#&-%0%('1#(##%#'##+%'*.:1}#%#6-+(%'%%#%%%}#L'2351&('%}&/N'(0(/*-%(%%}#'+&T%7.2}#&%&#%#36/5##%&%%#&#%%#))2%%##%&&'0~!#*+&'%1~!%).'3q?&%'1~!.##%6(~!+%%%(Gw'rT~!E#<nA%#jZ~!H%(~!42##~!*31&~!G%U~#)5~#`3~!J~!Z~%]~%Y~%C~!q~!u~#kz~%#~!6'~!D~!U~!?~#T~!c%~!G#'~%7|~!G~!J~!G&~#pb~(Df}#%}*&}#%##%##%##&#-}&'#'&%#.++}%mI,#,@&(}*%}*'%&##&#%##%}&0}#.},U},%}+%}&%}#%##&}B%(}(%}+%)})%##%#&}&%##%&}<%}>%#%&}*%}(%}9%}/%})%}*%}*%}?&}&%}3%}&*#%})%#%#)}#&#-#+*%E%%'%'#%}#*V##&##I}#&&##%&%#&&Qf%%))w/0+&%#(#.%-''''++++7}>%4'',##1,#%#&%##&#'##&#*#9)%&%}#*}%,#+P(%A&%#'&##wSD',9E00#y#@}(+}&%&>~!#~!X}#*}(&&}(&}(,%}%&#+&}#&}I%#%}%)#(},'%#*}4%%#%}(''}#/##(##),%-##%%)#&}(.}&%#&}%%}*&#%},&&}&%}#%*'#%})%}D&}&%}-&}6&#&}-,%}#%})-(~+`~,=?~I9'9%~!,#%})%})%}@%}?%}(~!?~#<~#pP~#BG~#=1#%K+~#?#~%;)~#A~#mF1~#A'~'X%'~#lR~#N~'N~#r~#m#-~#i'?%#'%~#B%##%,%#~#_%#0%~#]732~,w~2+#:&#%&'0%&>%}#>##F+)#%&&#(+_}4&}-%}(&}@&}O7Fdf0@+/v4}&WU##&/0#&'('B#%}.%}'+#%}#%%&#&%#%##+#&#)#6#'#.},%}c%},%#%##%&#&%#&~#>'*-.%##%##%}#%%}%'~#)D1}#%*&~#_%%'(~#S2%'.}#~#=##*'*-%}&'%'##&&~'E%.#&~#M4}%%##&'%#~#O1##%&#'+~#<B%##%%'%+~#;#@%}#&%#&&%#(~#H1}'%'##&&~#?A}&'~#D#%32}'&&&&~#[}'(#%}'~#;C})&}%%#%~#=&%,3}%'(#%%~#^'#&&)#%'~#Y%-~#d-%'~#^%%&#&&&}#~#b~2t*&'~&(~&@~0%~e~3}%*''0})&}+~!9##-}#%-hD*)1fC#%/&/fB#40~!+#)*4~!+~!K'&:~!/*7~!.#~!H~!L':~%x&~!H#~!*~%1~!I#~!+A~#p'~!F~~#-#~,,(~.Z~!V~%;'B'mq-W~!N~%I%#&&#&}#%},%%}'%}+X#%}#&}(%}'%}<%}#%}%%'}'%}:~![)9@~%>~#UA%-%##&~!C%~!-.9:~!1~!-^2/:a~!y,D*J#-5)/4~%23,~#G~!L1~!0X3`~!2+~!!0-~&E~!W~!o,>Y&]~%cZx_&~#O*9#A#'#+I'%#)~!0B*-5A+-((F&*M#)(-7-5+'-3a5Vi~!Y~!?+[)%3),ERHm~!+:D,VG.+)?fB%%*(%)'(#&80%1'8`K8?`+'Z#&O&'H5#*9)A%%5&3))0%39+.*7#()&&*=4@**L)<'_&*+..;(#*+)./&0#3)%')-8(4ixD(&.}%,('aI:,)%,k2231T)I'#/-W7,/'Q#.'Y24+h')37</31&83##&0#),H(?'&?/1##%#&&#%''-%&&&#(&''&#.-'%#%%(,')*'&#&#'##%(%(#%('#&##%%%%('%#%#%%#%#&%##h>w+v<ayvyvcg.uuhKr}g/v|g>u9i[~>g5uI~=RvdwEg;v/g;uk!!TTSx]@RT!U!#!@VBRUU!'UTe-d0c`e&gSdicedFcrdTaqb.kYcAohdYd@a3e+d}dMdtd.aJ#bqcK`dle/e.e'dwdPdodddjbEb}ogd^ofdpduc6j?l%d{drdqc)d7bacOdQ%T#Y)X.sR[yH>6Vyv3[xwLu>vo'!*.[yBacahoj>6Rew3[xqdZa#!a&#^(X-[yG>6Vyu3[xvg3sEr|g.u/Ri9db0T#^(Xa)!-[y;>6Vylg4wKs{JwNZt3@3r=c4Z([xlg;wKt!cpq's@v7A'*a(a+!-a#[y<3Dt?3Dt'>6Vym3[xmg9rxsNJwLZt4~?r?db1T#`-!(Xa,!0[yS>6Vz%NuQs.g4wKtnJwNZtS@3r>c4Z([y%g;wKtrdga8!a(!#&T*Y-Xa#!a0<or[yc3Dtq>6Vz43[y3JwNZtf@3s!Ju}!%Dti:pm3c_%X#tjB5pkd6q!r]u?voC'*-a.a2!0a&a+[yI3DtI3Ds~3DtH>6Vyw3[xx;:s#~<5pKJwNZtE@3r~d`a)!a2T#a.(!+U.X1[yT3Dt`3Dtv>6Vz&3[y&g9rxwzcxstPu.<rAJwLZtT~?r@dZa%!a.&^*Za(/Reu[ya>6Vz23[y1g3sEr}wkg{NuQRg{ci(U#5@b`~,cg#U(2WnH5wugcRh7dX#T(Y,a'Ta!!a,[yZ<]mj>6Vz,3[y+Pv#5ReZKu+=,%!H}7ABwkaS?Rh:BcW(X#<]mrj:ubv/ARekdg%!(!a.*Ta(Y.X1!#sP>Rl*Dt6[y>>6Vyo3Wf*jOvuumvuRgRJuq*!:9<B@bX~3jVv&v@s@5Re[d/rQt{uAvo&a&a*)a2!,0Wf!3Dt0=Bs'>6Re}3[xy~<5s%JwJZt1~Gs)c;&!#2sJkNuXvzq7rxu,Re8dka4!a8(aEZ+a@Y.X1Xa)[yd=Bs(3DtP>6Vz53[y4cX#X&Re:avRe9~<5s&JwJZtQ~Gs*i^rzvdRg+Jv{%!2sbB@bX}kdga,!Za?&^*T1/!a'Dt+[y6>6Vyf3Wf%g/u;s4hGu6?Rh-JvZ,!c%#&RoX54Rivj7uyvf8RgTKvZB%*!2sGh<vu5Rgq<=C::9bb~#dZ#T&Ta6Y.X*Dt>[y93Wf)coZ(T,6VyifluvRgC@95@B@bX~/hFu34cC#T,k/unq8w8Q5RkUklwQuzunq8w8Q5Rk8d/rJu?v8w9)-&!a0a;a&aIWejg3sEr/h1s<DtDJvyZqY5aws3Jvy!&Wei~Hr1:au5@Bag>23E~5c:Z&bX};kKv?w&unuVu5Rjc;>bs)#~@:Rh.=ay<a]C;b`}Vd6s/t{uAvoaxa()!a,a7%-a#a2Dt,[yF2Wo[>6Vyt3[xuNuPRi&NuPwpi#RoWh?vf8Ri%Jv]!%Ri:KvxD!.'2WeAjZu`q9rxu,Re7woeAg-unLq(qA_/*2Wg_g3u5q^9:4E}/jTrxrzv=Wkkd~0UX#^^Xa-a1a5T&a=U1a'*aEa]!a*aPaA-adok[y54Rn>;:p3~Dp5g9rpsFNvZqjg3uJp4~<5p0Pw;5qlJwNZt*@3p1Pw:5p/Ou!5p2JvG'!6Vye=<qnJvh_[xhg3v,Rh3kOwOw-sDuev/Re^dha[a%!%!a+#Ta7)-5TaCaO!aka!a)sf[yb2>Rl!9ARiq5E}Qg=ucRkBE|oJrJ_@Wk~@Wk{JrJ_@Wk|@WkyJrJ_@Wk}@WkzJvO_[y2g-vMRmiKuYC!)&>Ri;>Ri<@3RkNc](X#@9Rk=g5vuRmhKvDB!+'=]meg3u4Rmgd)#Y'Vz3CARmfd`a+!%T'!+#Ta1Ta6TaM-sTDt9[yA9sYd'%Y#s[[xpj:ueunaXRgEjRq,v-vuqdd2'`#6Rev<32@5>:2<E}5xIo9a*X#Y(;5RePJvD_g>vyRgNj8w)v8<wggs:RgXiZt|vjx,hSq3ah!-(~@:Ro/Ou!5RhWj^v(pyw8unRhUdx-UY#^Ua.a3a70!)%UX1TaDa)'omRiRRhE[y:3Dsz=Br,>6Vyj3[xkg6ruwjcqsrPw;5r*Ku]D'Zt-@3r(~?r.i[vwv]dU1a--U#`a4(g/vsRhPOu!5RhLj:rmu9Wo!~@:wdh@g/vsRiTjXuvvNr}:RhBj^v(pyw8unRn]dz1UYa'a+^Y(!aETZalaRY.Ta?a4[yDJw1!#qLsW>6Vyrfzq-pLflpwRe|Js>%!Dt@3Dt&Jvy_[xs~HrnjMuwpsw'RecKu+D#'!t<~Grl~?rjg5u-x,gwp{ah!-(~@:Rg~Ou!5Rh'jXuvvNr}:Rh#cW#X/c;&!#2sLi[v7u7RgpJv)(!iLrxu,Re6j7v@s@5Se[e7d`aW!Za(a`T.a#!a3!&aDa-!9)Dt_=6s+3[x~~DR|h~DS6avhGun5RkZj3w)v-]mkKunB!&*]kb97R|i<ARk<c:Z(6Vy}Juh'!wziMRoS:F|vkLuauJv5vtvQRh1d='T+Y#VyO~DR|jcF#T'7R|g97R|kJv3'!ay<Rj,Jvh&!:ReXcsa6*a+#a#_aIRf9aLRf?c,Z&Rf5Rf7c.Z&Rf;Rf>cQ#%T'p-Rf8Rf=ct#%'(*!,p,Rf4p+Rf6Rf:Rf<d~'Ua%U*^UYa(!a,-!#a4YaTalaEX0a8a<Weo3Dt/3Dsx=Br93Wen~Dr;~<5p<JwNZt2@3p=Pw:5p;Ou!5r3c7&!#:p>3Ds}KvGB)_6Vyk2sM=<r7x'eovA(!hFu1ARf}cV#X&@r5j6rvwQa^Rf3c=Za'wkghJv__g;unRggA53B9=b^}%j6uduo5Jq;!(hIv%2Re`Ou4ARe_e%a#^^^Xa&!a*a2!&a6YaP!*ad!#a:aE/5Rn?[y@>6Vyp;:pE~DrY~<5pBJwNZt8@3pCh=rt3rWPw:5pAJup_[xoNuPpF9c!#'45pD5ARn)d8#X'X*3@rU72s]h>v<<sSjJpqvewOJq/(!hNw'5ReBk0s2u3w/w'5ReE5@Jq.!a+JQ!&WeU23d(#Y&RjG5]jBk!u7w&u0udARjEe#+^^^Ub#!a2/a`Z(agT1!a-a;|@TaG!aS[yV=Re~fow'RguNuPRe?bz#'>RoUWeL>:Cbb|?JwPZtVg6ruRmzJvD'!6Vz(g/vmRh~Jvy_[y(g9voRgyx*cy(#2>Ri2B9b]~9kIw9u7rluJu3Rg]dI#a%UY'@=p%CAx.gQZ&RhwwygtRm{x5g_Z'+ABqR9Woa=Bp&dV#^*Xa'!&@o{g4v]Rk;Jv{!%Rk[wkkiA5RkiwwfUB=x,fUuqC&*!>RfTg8v0RfV~ARfSd;rJsAuAv9wR'ae+/aO!a@aza/a#[yQ@Wg!2Wemg3sEr0JvB_g>uvReWg2v+Re=KupB_+[y!2AbY~-~Hr2AJwD!(h<~El>h<~El?Kun@+_:9b`}Kg-v/Ri3g;vtwyk_9]k_d=&T#*U.6qh@Ab`|K9:H|CJv[!&3Dtex'fDwC%!Rf[9WlMd[(^X,!a%Z06Vz!@WgBg=v~Rgvg,QRe@awd,#Y+jTv|Q~EfWj]uNr|~FRfXdy#Y&^Ua%!aO.!(a)Ua;=!a@aKap!a-,a!Ta]a[rSa]p?[y82sK=Bq~;:p:~<5p8Pw:5p7d'#Y'Wf(;RnRi[u4w&RgJJvG'!6Vyh=<r#ijuuv/sIKuYD'ZtG@3p9~Gr&d2#`(g<vtRgFj`u5w&rqpxRf2CJuY!+:wfnTOu!5Rg}jNs1ucv&RfwJvA!&3@q|BDcC#T,k/unq8w8Q5RkTklwQuzunq8w8Q5Rk9dga#!a'!a=#a0!:+Tb*b@aO.a4!aba8aFJv^}?!VyR~Dr<g;u%Rn.~<5p[x'e`wNZtR@3p]Pw:5pZhNvjBp.woe_g5u-r4JwF!%DtO3:ooc7&!#:p^3DtpLuGw(!+%)Dtk6Vz#2sd=<r8d'#Y([y#<x3gJt`w@!)%}MRiowzikRij=]ilxAf3,U(#B2Rf#g0v-Rm[ck{`U#]giKv3>)!&6Ri154s,KuGB_%@r68r:dJ|t`#X(9<E|u2@H|rx3gJu?w'!+'1Nu7Reg4=H~+9<wxgY95Rm]xLggZ-`(X}U2:Ri4h<uOawRmsJv__5@bb{jbV~3dka#a'a]!,#a+U=a>b6a3b%!/aKa/)!arwve^VyJ;:pR~DpTg3uJpS~<5pOPw;5qmPw:5pNOu!5pQJvG'!6Vyx=<qoJvA!{~Jup!%@qk7Rn/KvyD!}''[xz;>wkh'?Rh,x8gyt`w5D!&),(SgyccRgztJ@3pPB5p#d'(Y#<]mmifubw&RgoJvE&!82s^JvF&!8Rf,ADb]~;x=h'rNu]vK!,%'*0RnORh)4Rh*AqQg-vaRnNg;wHwkh'ba~4cE#Ta*x3gctyw@'!+%RnFRnD<4Rn@hFvK5RnCxWg[#`&a0Ua()`1Rm75Rg[c]%X#qi8Rg^NvdRj>BwzgZauwji7Rm6A4wgg]d1#&(*,.0a#Rm;Rm<Rm=Rm>Rm?Rm@RmARmBe%#^^^Xaea?aC/b+(,!a+a#!a/!>a&Ta<aKbD!2wphBRnk[yPw}hE|.=Br-3Dtm>6Vy~g6urRf.x,hPrNav!%'RnqRo%Ro#Nu;q[Pw;5r+JwNZtM@3r)d'#Y'Weh;xChL#`&RnmRnoKu}>%(!Rne~Bs-;2wjcussJv+'!aYSO}6@B<5?ba~8LrNvj!.%*ROwungw~ng~:9;Ri^>wtnig;wHRnixDh@|(UZ.x1h@|)!#:2<H|*xHn]#-UX'3Ro)z=iT}6ARns=Bwsn_wpnaRncw]aR(#UXa&Ua*a/=]iPd'#Y&Ro'WnXf{QRm2hNvj]nZd`'T~&1`{|`#9b]{}c:'!#Wl{>@=be}]?cl{{U#:5Abb}Jds#^YaF!a*b4a#a3aPa>&Tb!bH!*a_!Eau?/a&RjY<]gj>6Vz*;:pe~DrZg,QRj1JwNZtX@wihspcJvZ&!VyX9WmOJu|!|N2WmHJvh&!]ht~Bpbcn&T(!#RmQ<s7Nu;padH#X'`+WmJ@>RmKCARhnKup=!)&Wf+:RhqNuPpf9c!#'45pd5AwghpARn(Ls@w!%,)!RmP@Wfe<E|IJva!&WmNg8vsRmLd`*.`#Y'Xa!axRn*]hrA8Rhug5s@rXg8u!RmMd8#X'X*3@rV72smdI*#UY&RmICARho~GsgxVgd)Ta'U-Y&Xa!T#RnEWnA@Wffg1uDRi0hFvK5RnBxGnG&#`%owp)@wsf+bX}Ze-*1!a*^^^Ua|!#a.aq&Ya2!a>.a6!a:aO`aJDtL[y`@Wg#>6Vz12@wzoYRoZNuPRi!NuPRhzg=ucRi,@=b`{Yg=ucRi-ACJvB!&Sh[ebSh]ebi`wUuFRm4Jw2_[y0JvB!.<Ju(!&SoG}6Shd}6<Ju(!&SoH}6She}6Kur@._g5vHRieJvx!{L2G{Kx6gd'T#?Rh82Wi5cZ#X(g1w)Rm5dW-Y(Ta#!a)!#aYa=wnfE=su2>>bU{0j9udv:<svj8uQv-7RgHdE%#^'sq9sp=>Bb_{TJv`!&g/r|snj6v(us5d,#Y(56H}[978H}]Jw5!&g1rushJvB!+j;v{u5?zDhd}6}bj;v{u5?zDhe}6}ce*#`(^^^a[aea!=!a6a*aoXb1a.!aAbL!b>,b'aL!aV@Wf|2Wlg3[y/JwNZt^@3piPw:5pgJunZou3@rsJva&!Vy_g<v~Rm#JvG'!6Vz0=<r{Ju{%!:pj@WfsiXuJu3Rm:JvZ&!WfA~Bph@c4Z&Dtwax5rubx(#:awRk1@d,#Y&RfjRfid1#,Y(@Wfp2Wlrg5s@ryKu[@!,'=]ig9wlk?Rk>g5u-rqJvy'!@9RkQcH(T#=>Ri~@<wkj(Wj(KuZB*!&<7rw@9RkRcH(T#=>Ri}@<wkj)Wj)dg(Ta2Xa9X#`-!a*CARhg@@=I}d9x;c~#X%so=<sj>2@@=aybb}XjWv0Q~EfEj3vLv;<d,#Y(56H}`978H}_dgaPaFa'a/!#a3Y0a_a;a|!1(a7-[yE3[xt;:pJNvZrrg3uJrvJwNZt=@3pIh=rt3rxPw:5pGOu!5rpJvG'!6Vys=<rz@c4Z&Dt(ax5rtJvZ!&~BpH@wsfNg-vaRlNci*U#=<wei<F}a5@Jq.!a*JQ!%@qZ23d(#Y&RjH5]jCk!u7w&u0udARjFd/prq=tyvpaEa(a:.!a1aZ(@@=I}:9wpd%=<sX55w_h}@@=I{t=ay<aU@@=I}T=ay<2@@=I})?C9:9au@9Cb]}DP~=x-fAZ(2Wl1=ay<aU@@=I}>5@d##Y+jTv|vV~EfFj]uNpn~FRfGdgaK!Z2&!a8a-Tb({E!acTbM*!a(DtY[yYd'%Y#sl[y*hHvh>Re5x2c{Z}.j4uCvcawRiMd+#X+_x&d!},<5RkX;2Hzw@x,gavfB-!{CcF&T#Roe;RodwWbBg5urRgaKvHC*_6Vz+<4opieuew&Rmq@d]&Y)X,T#X0Rh}<BqP=4qS9:ReMg/ujReNJw0!/<Jui%!bd{kawwnemRelAxUa?a3#*.&UX(Ya+a/RhvRnQ<o}9Wmtd-#Y&RgSRmw9;Rmxay=Rmyg-vaRmuxEhSrNu,v-voC!%(aR.a(a7+1Ro1>Ro5CE{A9b]{@;5x#eO{:g;urRi+KrNA!%(Ro3>Ro79;Ri_Ku@>{;&!x%gX|{KunA_+g5QRj/g3u5Rj#g>uERj%wio/xRhS&!,!#^1U}wba{8>>@=be}qC@:D5ba{7Ku+A&!}x?ba}t>>@=be}se(aA^^^Uat!b0#{pa+awUazbGa#aLb9bgaWac'a5TbS=Br!d1#`%scp_Jvl!#rT>Re0JvX&!VyN=H{Fcm#U&:pY=ReaJv2&!]h0=]nUJvG'!6Vy|=<r%JrM_=]h2@Wlud'#)U'Wf'b]{i=]h/Jvh!&~BpWg=v]RnMx+ny#'Nu;pVwjnu=]nwxJnx,T#`&Reqwjnt=]nvieu9vrRjLLuYwP(#+!th@wih5pX~Gr'g5v/Rh4KunA'!-CARnP@wwiN:Rm_9x'cvw>!|l=<saKvAA!0&3@q}>w^e1bp#&Re2Re3BDx7gH#T|f5H|eKuZ>!%(:qNAH{]Jv6!+3B2B9=b^{X<5<B92:E{ZLvhwA(a;a%!igQuyRmad+#Y}m@3Rh5d8#X'X*:AqUAHzmaxwbh<aXRnVcF}RT#Nw&cj#U(BWnug/vsRntdka)(a3+.Zb7aYYan1!bVa@Xa}[y^@b[{G=H{+hFu73Rj&Pv#5ReQcK%T#sig1v{Rj'Ku+D#'!t]~Grm~?rkKuMB!01d5#`'Vy.ta3Dtu~Hroc8#'{^45s85AwZbP&!#Rn!wghxWn#KvEA!)&2RlA2RlBx:h|#(T,=]j09Wobz>x]z/@awRoTd+#Y(az]hFhCrm4d,#Y+jTv|Q~EfMj]uNr|~FRfOdCa!Xa9_X#@<plJvf!%b`{(9;Rgwc;.!#2x7cw#T|UDb]|T5Ju={(!=@E{&Jv)&!Ab`{'awJvf!~*>>@=be{#KuY>!+&4Ezyi[ugv&RjIdea+T)#UXa&T-T&a!Rh9auRmW=]kLg5vuRn+g3u4Rn-Ow6ARn,hHus5xNk?#UX(U~)/g8v0RkD~AwkkF?Ri.OuNBwkkA?Ri/d|a2`a*^UYa.!aBTZaTa'Xa;!(!2!-a#b2[yC>6Vyq3[xr2Wi?g1rusVh%s?DtF~<5rbJs;%!DtBfswKtCj[uvuSsEu3RgVx3o:u+wN'*Zt;@3rd~Grh~?rfg8w)Lq)qE&-a%!>bI|`jWv0vV~EfCjTv|vV~Ef@j]uNpn~FRfBcK#T']gWNu7x,k7q4ai(0!hHv8<RhmkMu9vrsBuev/RhlCJvB!,g<v{wchh~@:Rhji[vrv{wchi~@:RhkdS&a5UY#Ta!RgPwwiI5BwciI~@:Rh`x'iJvj'!5]iJPu8Bwch]~@:Rhach)U#h3rp]gLh@t|Ax,hTq3ah!-(~@:Ro0Ou!5RhXj^v(pyw8unRhVd|)`,^UYas!a?/a2Z'a^Ta{Tb7Ta(a#!a,Wf&9sZ3DtAadamov=Bqt3[xig8vsRm~>waiL2b`{QJv*_Ouv2qgj<v]v2BqfdR'X*X#Y-@3qr~Gqv~?p6hHv-]glPup5Lq+q?_%*b_{qF{n9b^{rOu4ARhpKvCD!+&~Bqp:5Dbb}nwoiKl&unuTuBv]v+ueunaXRf0=Jvh!0nKufu8v1w&w7q%w&uHrz:Rgnj5w,uxDJq/(!hNw'5ReCk0s2u3w/w'5ReFd>Za&!*UaA=<wkgsRnSJv^!%Refifw3vyRgOKu_B'!,<]gkiiu:w&Rh<=C@a^<B57@2F{[<B5@aW:=3away9A5aW=<B=C@a^<B57@2F{Ie-#`(^^^bCara.b8aza6!/bZ,!adTbnTbOb+aFaS!aAT9@Wf~2Wli3Dtl2@d,#Y&RfnRfmJwJZtN~GqyJva&!VyMg<v~Rm%iXuJu3Rm9Jv[_=]ih9wlkDRkCd1#`(@Wg>2Wls3cH#T(@<Rj*=>Ri|b~'#23s9h<~El.d'#Y&Dtxi^rzvdRl#d*#U%(o|B2s`hJwSaxRmDKv4B&!1:Rmdd5#`'Vx}to~Hq{x'f1v3(!BA5ba|bJv_&!Wfug1v]ReIdO+U/Y#&G}-8wze=Rh{g1v]ReHg/uQRf/by#)ibQwERl/cH#T(@<Rj+=>Ri{cNu+vlax-!(#a0qa9<Rii2;;bU{H;x<i=&X#Rk`<4wwi=C9H~8xAI(Y#<azRi@45wXI<B9;5bb~7dL(X#Xa(+!aL6Vy{g5QqOau:5au2@ay547EzbxOcU(UX-T#Ta#:Cbb|A?wjh/b_|SOw6ARgtihr}u7Rhy<d1#T)X1@@=I|~=ay<2@@=aybb}Sj3vLv;<d,#Y(56H}A978H}@dGpvs@uAu`vcw9*!aFa+ai%(b!aXa8.a?a[ozWey=sU2@G}Nch&U#Rf_WexKu+D#'!t:~Gr`~?r^j]uNr|~FRg*j^psurwJt|RmcKv)@&!)7Rkv~Br[@wxfO:Rl3co#U'6Rezj_q#vIuavjRltwzeyh@vr5JqD0!>aY?C9:9au@9Cb]}9cl#U*5;5<H||jbuus1ucv&Rfvg1v~d/pppzqFr^a--a~!aMat1(hFv;Wiz@@=Izoj5uuv-7Rix~Cw`fk2WlVcZ#X,k)u3vWs@u2]ktg;wEx'fBq(_2Wg/jTv|vV~EfoJv]!15x'hzqG!(P~EfU~CRl_j6v(us5x4i-#T(2WmZ?C2F|d>Kq<aj1!*jTqIsBv=Wl`~Cw`fi2WlWj`v0u*~>RlR=c>Z,k#u3vWs@u2]kr<c1Z+jTqIsBv=Wla~Cw`fm2WlXdmb3!a{(arZa`bkTa%TbQTa-a9+c'!aM!/[yL=Bqug.w'RifhFvyDRj.g>vgwyk^9]k^Jv3_@WfbAARkhJw2_[x|JvB_wkoIRoKwkoJRoLd'(Y#<]gm=<9<H|yd'%_X#skDtb3awwqkgNulRkgdB#^',9:p'hJwSaxRmEBwVb8@4=H|qLu+w50&!)@3qs~?pU>Awwn;;Rn=c:Z'ARn<=<qwKvC@!/&~BqqJv6!&]eVb^z^xRge'/a%+^`#Sge}6<4Rn3=]n0Pw2>Rn8Jw0!&>Rn:>Rn6cY#a7+!a&=<wkaNw~h3z_c5Z{=wjh#=]nLKv^D!&)Vyz=bW|swYb<WetcG#T(2wxa@qVx@gD#Y&b^|V5JwG&!5bb|pg/w&RgD@x=kHs=uAvn!a%%/'+RmSRh694Ro`g-vaRmRhHv-]mlxCcS#`&ba~.5cD#Ta)P~=d,#Y(56H{>978H{Dd_#{2^Y%_+qbbb{6g3sERhsbU{?dfa.,`a(Xa<!aiX#(55RiG54RiHcI#T'WiU3RiVNvdwtfcRlKNvdd,#Y&RlHRlExQgf.1*^T'X#Sgf}6Wn4=]hfPrk>Rn7Jw0!&>Rn5>Rn9Lunw?&a2!,5<oq@@wqfdRlJj5Q~=d,#Y(~ARfcOuN]fdDKw;ay(}i!547E}j?cI#T(@5bV}iCbV}hdv(^^Tb?a40,b##Tbo!a*bR!a<b|a/!aKai!aU[yK=]o^g:v>ReGJwPZtK<7Rh+h<~El,Pv#5ReR@awwxjCg,ulRjDJv6&!]j!z?aQeeg>w=Sh<eeJw;!&axEzOg,Qosc!#*:wkeJ]eJ>x'h-u(!%Ro.w~h.zPdNZ(X,Ya![x{;9ReY;wkgxRiF:x?ap#Y&RmUg<s2Rkod]+UY0TZ'!a&A9sw<=bczLNvuw{gqzNhJwSaxRmCKuLay!#&s_Rf-55b^{uJvZa!!c%#(55Ri654wmiu5RiuawLu,vp!+}^%b_}Y9;wkgxba}o>A9:=b^}zKuh=a''!3awRk3c*'!#aHRk6c+Z&Rk5Rk4Jv)&!awRjSawd9*`#0?C2@EzMj8u<uJ5RmbjQrquJu3x,k>uq@_+=ayb^|W~ARkEOuN]k@7dhzV^X/X&a-#zRzSb`zXcJzTT#2WkVKvDBzW!%FzY9;5bbzWjQrquJu3Jw3%!b`zU=ayb^zQd:#X(T-a!6Vyywxh}=b]{Jg=u1RiAdGp~qHtzv!w(wA+a+a;<!aJaYai'anasb(=azRmV:Cbb{MLq2vb!%')RjuRjrRjtRjqx3jnqCw3!%')Rk(Rk+Rk&Rk)Lq2vb!%')Rj{RjxRjzRjwLq2vb!%')RjsRjpRjfRjex3jcqCw3!%')Rk'Rk*RjkRjl9<CbbzfOu4ARhxLq2vb!%')RjyRjvRjhRjgx=joq*uKvb!%')+-Rk.Rk%Rj~Rk-Rk#Rj}x=jdq*uKvb!%')+-Rk,Rk!Rj|RjmRjjRjidAq&qKs@uAv8Aa.'*-a@a&0!aM@a5[y73Dsy3Ds|3Dt):wxgI2sHJwJZt.~Gqxwsf0ikrzt}Rl0Jvy_[xj~HqzKv_A|D!&WfP8axRoVcf,U#k(v]v+ueunaXRf1Ju}'!g8u#Ri=jQw!sCunLprq>!,')~<5qeGzq9F{W=c##%s5au:5aU3CBE|;d4#X(D!a&6Vygx(b;#(=]ed?C2F{N<capoq2r[a&!aPa9,'Pw;5s:@@=I|,55w_h|@@=IzcP~=x'fCqB_2Wl2>aU@@=I|1OuNBc1Z+jTqIsBv=Wlc~Cw`fl2WlZ~AcTa%!Z+jTqIsBv=Wlb~Cw`fh2WlYk+uNqJsBv=WlSg,u3dca3#UXaMYa)TaB-=cM|7T#<bI}l5@B932:aV2G{BOuNBJq:|M!5Ezt=<B=C@a^<B57@2F{v>cB{/T#=ay<bI{3Jv6!a.6BKq0ah&+!5E}HP~Ef{978BaU@@=Iza<7d#.Y#978BaU@@=IzH~AJq0!(@@=IzG978BaU@@=IzFe,aU*Y&^^^bvJb,b:bFad!a,c2Ta>aL.bo6!a#CbTa'T#Re{2Wlh2@G{yg6t~Ro_NvdRfticuRQRllJv3&!x&c|zs@Jw3!%RflwpfkRlpKuL;%(!Re<@G|C2GzdhIvuBwgjAg-u0RjAKQB%!(GzZ@G|5NuuRl7d='T+Y#Vy[g<v~Rm!==G|>JvA!)@wma=]m1ifuaw&RmnLs@vT'!|/+[y,g:v>ReTJw1!#qX=x!eC{bLu+wT&)ZtZauq_~Graci&U#F|89:r_Lupvq!.)&2RlG8RfaC=x!eF{_h?rpWlmd&'!#X|&]k::xJey#`'T|+<E|&2@H|%dE#(^,g;u.RiEg6vjRiC9xCkA{O|zY#g=ucRmXKs0@!&*@G|m@awRknJuh!,3d(}gY}eJvj!%Rm):Jw3!%Rm+Rm-Ls0w(&!a(a#@b[|6cZ#X'7RkxWgAOu4ARn'dH'U#Y*Vz-Wm'CARm}d]*#a%^a*T'aK!a<9bV{PC=p*Jw4!&SgxcbB5r]idw(wBRmF7xFkt#&`(Rm/Rm8E|!JuY_9:Rl5=wrgr2:bbxd@xXfB(a*#T+!.X0X1Ta/a'T&RlDRfL>RlyARl9b[z[>RfZ:RlL:RfRwlg/ARl;9;RlxKv,A/!%7s69<74=BA5ba{-8Bde#`a<XaKYa1,a'P~=wxfB2bZ}}?C972@@=I}r8@55B9;5bb}G978B2@@=aybb}3j3vLv;<Jw3&!>Rfk=ayb^}4~Ad1#`*@@=aybb{w2@>==<bbz]dx+UY#^UaF!a9!bB'Ya1.!ajXa#%olRhD[y=3Dt#Ov5BrHKuMB%!(Rf^Wep~HrJwkiQjKr|~FRg)Ku+D#'!t5~GrF~?rDdV)UY,Z/_7RkuG{<~BrBg,rlsO:235B@bX}|d?a1!#`(6Vyn5@d##Y+jTv|vV~EfIj]uNpn~FRfH7Lq2vb1!a9-978BaU@@=Iz9978BbU}#~AJq0!(@@=Iz8978BaU@@=Iz7~AJQ|}!978BbU}!JvkaK!AdUa21-U#`a+(g/vsRn~Ou!5RPj:rmu9WhOjXuvvNr}:RhAj^v(pyw8unRn[kPr}p|u7vwv]RiSBd;pppzq@qHQa?(b.!a.a`@.|xa(hFv;Wiyj5uuv-7Riw~Cw`fg2WlU978BbU|wOuNBJqG!(P~EfD~CRlQcZ#X,k)u3vWs@u2]ksg;wEx'f@q1_2Wg.j]uNpn~FRfqJv]!15x'h{qG!(@@=IzK~CRl^j6v(us5x4i,#T(2WmY?C2F{1>Kq<aj1!*jTqIsBv=Wld~Cw`fj2Wl[j`v0u*~>RlT=c>Z,k#u3vWs@u2]kq<c1Z+jTqIsBv=Wle~Cw`fn2Wl]dn1#c(a(b^a2!b/bAT(bj!aDa7bu,a_a{c0!2T0g:v>ReD2@G{42@G{5~DpM~<5rc=Bx6i>{RT#RnI@zCx]y]z:2Jv[!zr5Awyk]9]k]dD(Y+X#6Vz.g=wKtgwhaCwgmTWj2Lu,w%_+/[y-B;b^xeg3u3Rj-2@bX{*KrJ<!+'@Wg(g?QRlC@Jv`!%b[zIwsfII}8JQ_@w|kW|=Jv(%!AqcOuNBJvEzh!bYzjLs@wP#(0!oy@>RkdJwMZtc3Dtd@BcG#T'9bWxg2@2Fznd*#Y+;2x'c}w<zizixNgwa#Z'U+!/!a'!a+w~g~z6wcn{Rn}wcnzRn|5Rh%=]nJg5vuRmvNvdRlvcprJu}w*az*a#!%.a.'Bot9qT]kj@Wg'ay2Gzv@Jv`!%b[zEwsfHI}1;ck#Ux`<Cbbx_Lu+w!a&0*!wko*wwo,So,}6Juqxf!E}PigQuyRm`d3(`#8>Rn%:A5B;bZ~%KvhCa!a2!x>k7#Uxb@b{#xaRk7Jw0!)>wwhlShl}6>wwhmShm}6CJvB!.x'hhvj{!!5Bwkhhbaz}x'hivjz~!5Bwkhibaz|xEhTrNu,v-vpD!a%&/)a3a.,%Ro2t[CE{)@3re9b]{%wjo09:rgc:Z&Ro6=<riifuaw&RmoKrNA!%(Ro4>Ro89;Ri`dSaL'UYzxZb)7Rka3xRhT&!,!#^1U}vbaz{>>@=be}yC@:D5bazzKu+A&!}{?ba}y>>@=be}wxBh[t`u~vJvr!%a!a()a,a0a4RoC=]o;Ju(!%RoGRhdwjh`=]oAg>w#Ro?g5vuRo=NvdRl|Ku]C.!&;RoEJvB!%RoORoMBx'h[v+_?w~h`}~5?w~hd~!xKh]oiptu-utv.vp!#%&a30a@a'a+(a/aOp(o~p!RoDJu(!%RoHRhewjha=]oBNvdRl}g>w#Ro@g5vuRo>c[#X']o<CauRoRAd-#Y':RkpauRoQKu]C.!&;RoFJvB!%RoNRoPBx'h]v+_?w~ha}t5?w~he}ue!/UbhYacXaW^Tc&a;b:a-c/#b&aja1(!cL+!bKbt!bmcRc9aIc?8[yW3Dtt94Rg`Jv}!&SiRMzBhEebShEMNuPRe>x7gL#TzuwjirRipc<Z&>on;>z=h-MSh.Mwqczx'a7vj&!>Re4@=ResJt__NuPRi*NuPRi)j]uNr|~FRfzKrJ>_+@Wfy@Wf]2WocKrJ<!+'@Wg%g/QRl@@Jv`!&awRl<wsfFIzgLu(w*!.*&ShBMwvhIRhI9;RhNx1hK'!#Sn]Mx1hK~0!#:2<H~7cNu+w7D*'1ZtW>Rn1~?rOc:Z&Rn2=<rQ<7wjh&=BSnLMc]#X(6Vz)w[b=a!U#9wzgMc3#&(RgMRitRis<x,gKt`ax!&+SioM=BSilMc3#&(RgKRinRimKurB,!&SiQMzBhDebShDM6BJQ!(P~Efx978B2@@=I}WLrJw!!,a*&@G}O@9wkibRid@@x'fKwC!&SlDMSfLMjUv~Q~EfKKv3@a+!(hFv-]mpx/hYZ(C5RiWz<o/MwkhY?So/M@x,gbvfB*&!SgEM:SoeeehFu3:Rgbda(,^TZa)X/7Sg[eb:2RgI~BrMC@wgkc:wwkcRerx3h(uUvK!&*,SnOM4Sh*MArRg;wHRh(x=h;rJvPwI!a4',a'0@Wg&=BSh/Mg>w=Rh=g3w*wwgGRgGcW(X#;Sg}M2Gzk@Jv`!&awRl=wsfGIz`dKZ*T'Y-:RhR7RhQg5u-p`j6v(us5d,#Y+~Awkia?RicOuNBwkibba}Ld6p~tyu_vbAa'a+!a/'a3aEa8a!>Sh,ebJv{!&Sh@ebSaReb9;SgwebNuPRi(NvdRl)NuPRi'hHu^<Rm^Jvv_@Wl(g;u1Si/ebKu'B&!*Sh?eb@Wl'z@aPeb95Si.ebcpputyvjB)!,&a+0a%ShAMWeK@G}C@WfJ9;RhMwvhH9w{ia}ix,hJvRA1(!zAn[MRhHx1hJ~*!#hFv(BSn[MBJQ!(@@=I~'978B2@@=I}2db.Ua<'X}+T#a0XaG2G}E;wkg|wuh!Rh!x,hZu,@)!&So0MVy)C5RiXACJvB!&5RiY5RiZg8w)cG}*T#2@bU}=KsA>(!a.3wkhZba~(x,h^u(A!&(SoCMRhb5Bz=h[eb?w~hb~6x,h_u(A!&(SoDMRhc5Bz=h]eb?w~hc~6e)aA1T#T,^^^c-bMb&blcPaP(a/!0!bA=b5c@a(!bfbrc#2afwmhARnjwchORnp2Wlf3DtsNvdRl-2@wpa<]m0bx(#:awRk2@Jw3!%RfhwpfgRlnKQB%!(G{V@G|'NuuRl6d='T+Y#VyUg<v~Rl~==G|<Jv+'!aYShC}6@B<5?ba~8@Jw3'!g2QRljhLrpWlOd+#Y'g.w'rIg>w*wgj@g-u0Rj@Lu+wT&)ZtUauq]~GrGci&U#F|39:rELrNvj!.%*RhCwunfw~nf~:9;Ri]>wtnhg;wHRnhx3hDs@v~!/+'@Wfr@9RkSNu&Rlo=@<5GzoKs0@_+@Wl+@awRkmJuh!-3d(}pY#qWJvj!%Rm(:Jw3!%Rm,Rm*de&!1U-U#`)Re;@G|.@9Ri82@wjfvRlq=@<5GzpLvOvr!).&2RlF8Rf`C=x!eE{.Jw3_g2QRlkhLrpWlPde(!#U{s,UXa*Ta'[y'g:v>ReS;x0PZ&RnlRnn~HrKJw1}f!=x!eB|2w]aP(#Xa&a*Ta.Ua2a7=]iOd'#Y&Ro&WnWg;u.RiDg6vjRiBNvdRlzhNvj]nYJuW_2Wm3x)kFze{9d])!a.!,Y01!#&aC!a3RndC=ox~BrC@2b^{pg,rlse7x'ksuq!%Rm.E{xidw(wBRmGx9o+)X#wwo-So-}69:Rl4@xSf@a#XZ'X)X,Ta(/ARl8b[xc>RfY:RlI:RfQwlg.ARl:9;Rlwdn'#^XafaQa1X1TaHTa)@b[{zcZ#X'7RkwWg@Ou4ARn&x)kG#{,g7u/RkGdH'U#Y*Vz'Wm&CARm|bx#(A]gUbUzJj9Q~=d,#Y(56H}l978H{U7d,0#U*2>ABb_xZ978BbU{e~AJQ{g!978BbU{hxMh?ad{oUYZ.x1h?{l!#:2<H{mx3n[t{vl!,&a%3Ro(z=iS}6ARnr=Bwsn^wvn`Rnbd`*T}B0!#^X'BG{c9b]{a>>@=be}F?JvS!&BG{d7BG}(Bde#`a1X,Ya@!a'P~=wxf@2bZ}I56B2@@=aybb}08@55B9;5bb}<j3vLv;<Jw3&!>Rfg=ayb^}&OuNBKuLA!)a!P~=x#fD{f2@>==<bbzl?C972@@=Ix^d6rSu,v7w*C(0a)a6#B+a%!sQ[y?3Dt%3[xn~<5rLOu!5p@Ku+D#'!t7~GrP~?rNKvlaya7'!h+v-5qMg=t|cd,U#5AAaa5Abb{S@52B5@a[@52B5Gx[iXueu;d<#`a(!/549C;ag>23ExY5@Dah89b^~689Jv)!~2b[~1Lv'w(%*!a#bX|aPrmawRe]keu7uhv-q6rxu,q`xTo]/a5aU!bNaDXbi!b-!ao!b<bwA!#5@B932:aV2G|:d-)Y#hJrL>RhG<7@C5<H|_=Cau:5aj5@B932:bJ|ng>vIbs)#?C2F|9jPv0w.vISh-MKvUaz(.!9ABbb|[5;5<H|Eg>unwfh;9:4E|YjQsBt|vjx'hYq3!(?C2F|J:2<BaY?C2F|GOu!5x,g|p{ah!-(?C2F|c9:4E|OjXuvvNr}:Rh&i[w*t|cd+U#jJvsu)vsSn~Mkfrmu9p}u7vwv]So!McW#Xa!ax5@A5aY:5;5<H|>kJv~vYrquJu3x4ib#T)2@SmZM?C2F|Bj:rmu9@xPhI(a*a#U#`a3-5Abb|L~@:RhK9:4E|0@52B5G|#C::aY?C2F|-:2<BaY?C2F|.5Jvk!a)javYrquJu3x4ia#T)2@SmYM?C2F|HAxPhH(!a#U#`a*-5Abb|4~@:RhJ9:4E|R@52B5G|F:2<BaY?C2F|Sc^#Xa2j=Qq5CJvB!-g<v{z;hhM?C2F|Zi[vrv{z;hiM?C2F|XKsA>!a)-g<v{z;h[eb?C2F|]i[vrv{z;h]eb?C2F|^iZu.vix,hZq3ah!.(?C2F|QOu!5ShXM:2<BaY?C2F|P", 13494, 2713, 49, 25, 61);
var He;
(function(e) {
  e[e.VALUE_LENGTH = 49152] = "VALUE_LENGTH", e[e.FLAG13 = 8192] = "FLAG13", e[e.BRANCH_LENGTH = 8064] = "BRANCH_LENGTH", e[e.JUMP_TABLE = 127] = "JUMP_TABLE", e[e.VALUE_MASK = 8191] = "VALUE_MASK";
})(He || (He = {}));
var at;
(function(e) {
  e[e.AMP = 38] = "AMP", e[e.NUM = 35] = "NUM", e[e.SEMI = 59] = "SEMI", e[e.EQUALS = 61] = "EQUALS", e[e.ZERO = 48] = "ZERO", e[e.NINE = 57] = "NINE", e[e.LOWER_A = 97] = "LOWER_A", e[e.LOWER_X = 120] = "LOWER_X";
})(at || (at = {}));
const Pr = 32, Wu = 21, s_ = 2097151, xo = 2047;
let Ju = 0;
function r_(e) {
  const t = e >>> Wu;
  return t === xo ? Ju : t;
}
function i_(e) {
  return e - at.ZERO >>> 0 <= 9;
}
function o_(e) {
  return (e | Pr) - at.LOWER_A >>> 0 <= 5;
}
function l_(e) {
  return (e | Pr) - at.LOWER_A >>> 0 <= 25;
}
var Ga;
(function(e) {
  e[e.EntityStart = 0] = "EntityStart", e[e.NumericStart = 1] = "NumericStart", e[e.NumericDecimal = 2] = "NumericDecimal", e[e.NumericHex = 3] = "NumericHex", e[e.NamedEntity = 4] = "NamedEntity";
})(Ga || (Ga = {}));
var Ka;
(function(e) {
  e[e.Legacy = 0] = "Legacy", e[e.Strict = 1] = "Strict", e[e.Attribute = 2] = "Attribute";
})(Ka || (Ka = {}));
function a_(e, t, n, s) {
  const r = (t & He.BRANCH_LENGTH) >> 7, i = t & He.JUMP_TABLE;
  if (i) {
    if (r === 0)
      return s === i ? n : -1;
    const a = s - i;
    if (a >>> 0 >= r)
      return -1;
    const c = e[n + a];
    return c === 0 ? -1 : n + r + c - 1 & 65535;
  }
  if (r === 0)
    return -1;
  const o = r + 1 >> 1, l = n + o + r;
  for (let a = 0; a < r; a++) {
    const u = e[n + (a >> 1)] >> ((a & 1) << 3) & 255;
    if (u === s) {
      const f = n + o + a;
      return l + e[f] & 65535;
    }
    if (u > s)
      return -1;
  }
  return -1;
}
function Xa(e, t, n) {
  return n === 1 ? String.fromCharCode(e[t] & He.VALUE_MASK) : n === 2 ? String.fromCharCode(e[t + 1]) : String.fromCharCode(e[t + 1], e[t + 2]);
}
function c_(e, t, n) {
  let s = t + 1, r = 0, i = s;
  if (s < n && (e.charCodeAt(s) | Pr) === at.LOWER_X)
    for (s += 1, i = s; s < n; ) {
      const l = e.charCodeAt(s);
      if (i_(l))
        r = r * 16 + (l - at.ZERO);
      else if (o_(l))
        r = r * 16 + ((l | Pr) - at.LOWER_A + 10);
      else
        break;
      s += 1;
    }
  else
    for (; s < n; ) {
      const l = e.charCodeAt(s) - at.ZERO;
      if (l >>> 0 > 9)
        break;
      r = r * 10 + l, s += 1;
    }
  if (s === i)
    return 0;
  s < n && e.charCodeAt(s) === at.SEMI && (s += 1), r > 1114111 && (r = 1114112);
  let o = s - t;
  return o >= xo && (Ju = o, o = xo), o << Wu | r;
}
function u_(e, t, n) {
  const s = n_;
  let r = e.indexOf("&");
  if (r < 0)
    return e;
  const i = e.length;
  let o = 0, l = "";
  const a = s[0], c = a & He.JUMP_TABLE, u = (a & He.BRANCH_LENGTH) >> 7;
  do {
    const f = r + 1, m = e.charCodeAt(f);
    let h, p;
    if (m === at.NUM) {
      const k = c_(e, f, i);
      h = r_(k), h > 0 && e.charCodeAt(f + h - 1) !== at.SEMI && (h = 0), p = h === 0 ? "" : e_(k & s_);
    } else if (l_(m)) {
      h = 0, p = "";
      const k = m - c;
      let v;
      if (k >>> 0 < u) {
        const O = s[1 + k];
        v = O === 0 ? -1 : u + O & 65535;
      } else
        v = -1;
      let C = 0, x = 0, b = v < 0 ? 0 : s[v], w = f + 1;
      e: for (; w < i; ) {
        for (
          ;
          // Value-less, non-run node with a nonzero jump offset.
          (b & (He.VALUE_LENGTH | He.FLAG13)) === 0 && (b & He.JUMP_TABLE) !== 0;
        ) {
          const ee = b & He.JUMP_TABLE, X = (b & He.BRANCH_LENGTH) >> 7;
          if (X === 0) {
            if (e.charCodeAt(w) !== ee)
              break e;
            v += 1;
          } else {
            const ue = e.charCodeAt(w) - ee;
            if (ue >>> 0 >= X)
              break e;
            const ne = s[v + 1 + ue];
            if (ne === 0)
              break e;
            v = v + X + ne & 65535;
          }
          if (b = s[v], w += 1, w >= i)
            break e;
        }
        if ((b & (He.VALUE_LENGTH | He.FLAG13)) === He.FLAG13) {
          const ee = (b & He.BRANCH_LENGTH) >> 7;
          if (e.charCodeAt(w) !== (b & He.JUMP_TABLE))
            break;
          w += 1;
          const X = ee - 1;
          let ue = v + 1, ne = 0;
          for (; ne + 1 < X; ne += 2) {
            const pe = s[ue];
            if (e.charCodeAt(w) !== (pe & 255) || (w += 1, e.charCodeAt(w) !== (pe >> 8 & 255)))
              break e;
            w += 1, ue += 1;
          }
          if (ne < X) {
            if (e.charCodeAt(w) !== (s[ue] & 255))
              break;
            w += 1;
          }
          v += 1 + (ee >> 1), b = s[v];
          continue;
        }
        const O = b >>> 14, z = e.charCodeAt(w);
        if (O !== 0) {
          if (z === at.SEMI) {
            h = w - f + 1, p = O === 1 ? String.fromCharCode(b & He.VALUE_MASK) : Xa(s, v, O);
            break;
          }
          if (O === 1)
            break;
        }
        const $ = a_(s, b, v + (O || 1), z);
        if ($ < 0)
          break;
        v = $, b = s[v], w += 1;
      }
      p === "" && h > 0 && (p = Xa(s, C, x));
    } else
      h = 0, p = "";
    h === 0 || n ? r = f : (o < r && (l += e.slice(o, r)), l += p, r = o = f + h), e.charCodeAt(r) !== at.AMP && (r = e.indexOf("&", r));
  } while (r >= 0);
  return l + e.slice(o);
}
function qu(e) {
  return u_(e, !0, !1);
}
var f_ = class {
  src_Any = ju.source;
  src_Cc = Bu.source;
  src_Z = Uu.source;
  src_P = Wo.source;
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
}, Gi = {
  validate: (e, t, n) => {
    const s = n.re.get_http_validator();
    s.lastIndex = t;
    const r = s.exec(e);
    return r ? r[0].length : 0;
  },
  normalize: (e, t) => t.normalize(e)
}, d_ = {
  "http:": Gi,
  "https:": Gi,
  "ftp:": Gi,
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
}, h_ = "a:cdefgilmnoqrstuwxz|b:abdefghijmnorstvwyz|c:acdfghiklmnoruvwxyz|d:ejkmoz|e:cegrstu|f:ijkmor|g:abdefghilmnpqrstuwy|h:kmnrtu|i:delmnoqrst|j:emop|k:eghimnprwyz|l:abcikrstuvy|m:acdeghklmnopqrstuvwxyz|n:acefgilopruz|o:m|p:aefghklmnrstwy|q:a|r:eosuw|s:abcdeghijklmnortuvxyz|t:cdfghjklmnortvwz|u:agksyz|v:aceginu|w:fs|y:et|z:amw", p_ = "biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|рф";
function g_() {
  const e = p_.split("|");
  return h_.split("|").forEach((t) => {
    const n = t.indexOf(":"), s = t.slice(0, n);
    for (const r of t.slice(n + 1)) e.push(s + r);
  }), e;
}
var m_ = {
  fuzzyLink: !1,
  fuzzyEmail: !0,
  fuzzyIP: !1,
  "---": !1,
  tlds: g_(),
  urlAuth: !1,
  maxLength: 1e4
}, Ya = class {
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
}, __ = class {
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
      ...m_,
      ...n
    }, this.__schemas__ = { ...d_ }, this.re = t || new f_(), this.re.set({
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
    let s, r, i, o, l, a, c = !1, u = !1, f = !1, m = 0;
    if (!e.length) return null;
    for (n.lastIndex = 0, this.__opts__.fuzzyLink && this.__schemas__["http:"] && (s = this.re.get_fuzzy_link_search(), s.lastIndex = 0), this.__opts__.fuzzyEmail && this.__schemas__["mailto:"] && (r = this.re.get_fuzzy_mail_host_search(), r.lastIndex = 0, i = this.re.get_mail_name_validator()); ; ) {
      const h = Math.max(m - 1, 0);
      if (r && i && !f && (!l || l.index < m))
        for (r.lastIndex < h && (r.lastIndex = h); ; ) {
          const x = r.exec(e);
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
            }, l.index >= m) break;
            r.lastIndex < h && (r.lastIndex = h);
          }
        }
      if (s && !u && (!o || o.index < m))
        for (s.lastIndex < h && (s.lastIndex = h); ; ) {
          const x = s.exec(e);
          if (!x) {
            u = !0, o = void 0;
            break;
          }
          if (o = {
            schema: "",
            index: x.index + x[1].length,
            lastIndex: x.index + x[0].length
          }, o.index >= m) break;
          s.lastIndex < h && (s.lastIndex = h);
        }
      let p = l;
      (!p || o && (o.index < p.index || o.index === p.index && o.lastIndex > p.lastIndex)) && (p = o);
      let k;
      if (!c) for (; ; ) {
        if (!a) {
          n.lastIndex < h && (n.lastIndex = h);
          const w = n.exec(e);
          if (!w) {
            c = !0;
            break;
          }
          a = {
            schema: w[2],
            index: w.index + w[1].length,
            lastIndex: w.index + w[0].length
          };
        }
        if (a.index < m) {
          a = void 0;
          continue;
        }
        if (p && a.index > p.index) break;
        const x = a;
        a = void 0;
        const b = this.testSchemaAt(e, x.schema, x.lastIndex);
        if (b) {
          k = {
            schema: x.schema,
            index: x.index,
            lastIndex: x.lastIndex + b
          };
          break;
        }
      }
      let v = k;
      if ((!v || l && (l.index < v.index || l.index === v.index && l.lastIndex > v.lastIndex)) && (v = l), (!v || o && (o.index < v.index || o.index === v.index && o.lastIndex > v.lastIndex)) && (v = o), !v) break;
      v === l ? l = void 0 : v === o && (o = void 0);
      const C = new Ya(e, v.schema, v.index, v.lastIndex);
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
    const s = new Ya(e, t[2], t.index + t[1].length, t.index + t[0].length + n);
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
const ns = 2147483647, Ot = 36, Jo = 1, $s = 26, y_ = 38, b_ = 700, Hu = 72, Vu = 128, Gu = "-", w_ = /^xn--/, k_ = /[^\0-\x7F]/, v_ = /[\x2E\u3002\uFF0E\uFF61]/g, x_ = {
  overflow: "Overflow: input needs wider integers to process",
  "not-basic": "Illegal input >= 0x80 (not a basic code point)",
  "invalid-input": "Invalid input"
}, Ki = Ot - Jo, Nt = Math.floor, Xi = String.fromCharCode;
function ln(e) {
  throw new RangeError(x_[e]);
}
function A_(e, t) {
  const n = [];
  let s = e.length;
  for (; s--; )
    n[s] = t(e[s]);
  return n;
}
function Ku(e, t) {
  const n = e.split("@");
  let s = "";
  n.length > 1 && (s = n[0] + "@", e = n[1]), e = e.replace(v_, ".");
  const r = e.split("."), i = A_(r, t).join(".");
  return s + i;
}
function Xu(e) {
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
const R_ = (e) => String.fromCodePoint(...e), E_ = function(e) {
  return e >= 48 && e < 58 ? 26 + (e - 48) : e >= 65 && e < 91 ? e - 65 : e >= 97 && e < 123 ? e - 97 : Ot;
}, Za = function(e, t) {
  return e + 22 + 75 * (e < 26) - ((t != 0) << 5);
}, Yu = function(e, t, n) {
  let s = 0;
  for (e = n ? Nt(e / b_) : e >> 1, e += Nt(e / t); e > Ki * $s >> 1; s += Ot)
    e = Nt(e / Ki);
  return Nt(s + (Ki + 1) * e / (e + y_));
}, Zu = function(e) {
  const t = [], n = e.length;
  let s = 0, r = Vu, i = Hu, o = e.lastIndexOf(Gu);
  o < 0 && (o = 0);
  for (let l = 0; l < o; ++l)
    e.charCodeAt(l) >= 128 && ln("not-basic"), t.push(e.charCodeAt(l));
  for (let l = o > 0 ? o + 1 : 0; l < n; ) {
    const a = s;
    for (let u = 1, f = Ot; ; f += Ot) {
      l >= n && ln("invalid-input");
      const m = E_(e.charCodeAt(l++));
      m >= Ot && ln("invalid-input"), m > Nt((ns - s) / u) && ln("overflow"), s += m * u;
      const h = f <= i ? Jo : f >= i + $s ? $s : f - i;
      if (m < h)
        break;
      const p = Ot - h;
      u > Nt(ns / p) && ln("overflow"), u *= p;
    }
    const c = t.length + 1;
    i = Yu(s - a, c, a == 0), Nt(s / c) > ns - r && ln("overflow"), r += Nt(s / c), s %= c, t.splice(s++, 0, r);
  }
  return String.fromCodePoint(...t);
}, Qu = function(e) {
  const t = [];
  e = Xu(e);
  const n = e.length;
  let s = Vu, r = 0, i = Hu;
  for (const a of e)
    a < 128 && t.push(Xi(a));
  const o = t.length;
  let l = o;
  for (o && t.push(Gu); l < n; ) {
    let a = ns;
    for (const u of e)
      u >= s && u < a && (a = u);
    const c = l + 1;
    a - s > Nt((ns - r) / c) && ln("overflow"), r += (a - s) * c, s = a;
    for (const u of e)
      if (u < s && ++r > ns && ln("overflow"), u === s) {
        let f = r;
        for (let m = Ot; ; m += Ot) {
          const h = m <= i ? Jo : m >= i + $s ? $s : m - i;
          if (f < h)
            break;
          const p = f - h, k = Ot - h;
          t.push(
            Xi(Za(h + p % k, 0))
          ), f = Nt(p / k);
        }
        t.push(Xi(Za(f, 0))), i = Yu(r, c, l === o), r = 0, ++l;
      }
    ++r, ++s;
  }
  return t.join("");
}, C_ = function(e) {
  return Ku(e, function(t) {
    return w_.test(t) ? Zu(t.slice(4).toLowerCase()) : t;
  });
}, S_ = function(e) {
  return Ku(e, function(t) {
    return k_.test(t) ? "xn--" + Qu(t) : t;
  });
}, Qa = {
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
    decode: Xu,
    encode: R_
  },
  decode: Zu,
  encode: Qu,
  toASCII: S_,
  toUnicode: C_
};
var ec = Object.defineProperty, ef = (e, t) => {
  let n = {};
  for (var s in e) ec(n, s, {
    get: e[s],
    enumerable: !0
  });
  return ec(n, Symbol.toStringTag, { value: "Module" }), n;
}, D_ = /* @__PURE__ */ ef({
  arrayReplaceAt: () => T_,
  asciiTrim: () => Kr,
  callable: () => tf,
  escapeHtml: () => gn,
  escapeRE: () => B_,
  fromCodePoint: () => js,
  isMdAsciiPunct: () => Us,
  isPunctChar: () => sf,
  isPunctCharCode: () => zs,
  isSpace: () => Te,
  isValidEntityCode: () => qo,
  isWhiteSpace: () => Bs,
  lib: () => z_,
  normalizeReference: () => Gr,
  unescapeAll: () => cs,
  unescapeMd: () => N_
});
function tf(e) {
  const t = function(...n) {
    return Reflect.construct(e, n, new.target && new.target !== t ? new.target : e);
  };
  return Object.defineProperty(t, "name", { value: e.name }), Object.setPrototypeOf(t, e), t.prototype = e.prototype, t;
}
function T_(e, t, n) {
  return [].concat(e.slice(0, t), n, e.slice(t + 1));
}
function qo(e) {
  return !(e >= 55296 && e <= 57343 || e >= 64976 && e <= 65007 || (e & 65535) === 65535 || (e & 65535) === 65534 || e >= 0 && e <= 8 || e === 11 || e >= 14 && e <= 31 || e >= 127 && e <= 159 || e > 1114111);
}
function js(e) {
  if (e > 65535) {
    e -= 65536;
    const t = 55296 + (e >> 10), n = 56320 + (e & 1023);
    return String.fromCharCode(t, n);
  }
  return String.fromCharCode(e);
}
var nf = /\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, I_ = new RegExp(`${nf.source}|${/&([a-z#][a-z0-9]{1,31});/gi.source}`, "gi"), F_ = /^#((?:x[a-f0-9]{1,8}|[0-9]{1,8}))$/i;
function O_(e, t) {
  if (t.charCodeAt(0) === 35 && F_.test(t)) {
    const s = t[1].toLowerCase() === "x" ? parseInt(t.slice(2), 16) : parseInt(t.slice(1), 10);
    return qo(s) ? js(s) : e;
  }
  const n = qu(e);
  return n !== e ? n : e;
}
function N_(e) {
  return e.indexOf("\\") < 0 ? e : e.replace(nf, "$1");
}
function cs(e) {
  return e.indexOf("\\") < 0 && e.indexOf("&") < 0 ? e : e.replace(I_, function(t, n, s) {
    return n || O_(t, s);
  });
}
var M_ = /[&<>"]/, L_ = /[&<>"]/g, P_ = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;"
};
function $_(e) {
  return P_[e];
}
function gn(e) {
  return M_.test(e) ? e.replace(L_, $_) : e;
}
var j_ = /[.?*+^$[\]\\(){}|-]/g;
function B_(e) {
  return e.replace(j_, "\\$&");
}
function Te(e) {
  switch (e) {
    case 9:
    case 32:
      return !0;
  }
  return !1;
}
function Bs(e) {
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
function sf(e) {
  return Wo.test(e) || zu.test(e);
}
function zs(e) {
  return sf(js(e));
}
function Us(e) {
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
function Gr(e) {
  return e = e.trim().replace(/\s+/g, " "), e.toLowerCase().toUpperCase();
}
function tc(e) {
  return e === 32 || e === 9 || e === 10 || e === 13;
}
function Kr(e) {
  let t = 0;
  for (; t < e.length && tc(e.charCodeAt(t)); t++) ;
  let n = e.length - 1;
  for (; n >= t && tc(e.charCodeAt(n)); n--) ;
  return e.slice(t, n + 1);
}
var z_ = {
  mdurl: Gm,
  ucmicro: Xm
};
function U_(e, t, n) {
  let s, r, i, o;
  const l = e.posMax, a = e.pos;
  for (e.pos = t + 1, s = 1; e.pos < l; ) {
    if (i = e.src.charCodeAt(e.pos), i === 93 && (s--, s === 0)) {
      r = !0;
      break;
    }
    if (o = e.pos, e.md.inline.skipToken(e), i === 91) {
      if (o === e.pos - 1) s++;
      else if (n)
        return e.pos = a, -1;
    }
  }
  let c = -1;
  return r && (c = e.pos), e.pos = a, c;
}
function W_(e, t, n) {
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
function J_(e, t, n, s) {
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
var q_ = /* @__PURE__ */ ef({
  parseLinkDestination: () => W_,
  parseLinkLabel: () => U_,
  parseLinkTitle: () => J_
});
function Ws(e) {
  "@babel/helpers - typeof";
  return Ws = typeof Symbol == "function" && typeof Symbol.iterator == "symbol" ? function(t) {
    return typeof t;
  } : function(t) {
    return t && typeof Symbol == "function" && t.constructor === Symbol && t !== Symbol.prototype ? "symbol" : typeof t;
  }, Ws(e);
}
function H_(e, t) {
  if (Ws(e) != "object" || !e) return e;
  var n = e[Symbol.toPrimitive];
  if (n !== void 0) {
    var s = n.call(e, t);
    if (Ws(s) != "object") return s;
    throw new TypeError("@@toPrimitive must return a primitive value.");
  }
  return (t === "string" ? String : Number)(e);
}
function V_(e) {
  var t = H_(e, "string");
  return Ws(t) == "symbol" ? t : t + "";
}
function K(e, t, n) {
  return (t = V_(t)) in e ? Object.defineProperty(e, t, {
    value: n,
    enumerable: !0,
    configurable: !0,
    writable: !0
  }) : e[t] = n, e;
}
var jn = class {
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
}, Js = class {
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
}, Pt = {};
Pt.code_inline = function(e, t, n, s, r) {
  const i = e[t];
  return `<code${r.renderAttrs(i)}>${gn(i.content)}</code>`;
};
Pt.code_block = function(e, t, n, s, r) {
  const i = e[t];
  return `<pre${r.renderAttrs(i)}><code>${gn(e[t].content)}</code></pre>
`;
};
Pt.fence = function(e, t, n, s, r) {
  const i = e[t], o = i.info ? cs(i.info).trim() : "";
  let l = "", a = "";
  if (o) {
    const u = o.split(/(\s+)/g);
    l = u[0], a = u.slice(2).join("");
  }
  let c;
  if (n.highlight ? c = n.highlight(i.content, l, a) || gn(i.content) : c = gn(i.content), c.indexOf("<pre") === 0) return c + `
`;
  if (o) {
    const u = i.attrIndex("class"), f = i.attrs ? i.attrs.slice() : [];
    u < 0 ? f.push(["class", `${n.langPrefix}${l}`]) : (f[u] = [f[u][0], f[u][1]], f[u][1] += ` ${n.langPrefix}${l}`);
    const m = { attrs: f };
    return `<pre><code${r.renderAttrs(m)}>${c}</code></pre>
`;
  }
  return `<pre><code${r.renderAttrs(i)}>${c}</code></pre>
`;
};
Pt.image = function(e, t, n, s, r) {
  const i = e[t];
  return i.attrs[i.attrIndex("alt")][1] = r.renderInlineAsText(i.children, n, s), r.renderToken(e, t, n);
};
Pt.hardbreak = function(e, t, n) {
  return n.xhtmlOut ? `<br />
` : `<br>
`;
};
Pt.softbreak = function(e, t, n) {
  return n.breaks ? n.xhtmlOut ? `<br />
` : `<br>
` : `
`;
};
Pt.text = function(e, t) {
  return gn(e[t].content);
};
Pt.html_block = function(e, t) {
  return e[t].content;
};
Pt.html_inline = function(e, t) {
  return e[t].content;
};
var rf = class {
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
      Object.assign({}, Pt)
    );
  }
  /**
  * Render token attributes to string.
  */
  renderAttrs(e) {
    let t, n, s;
    if (!e.attrs) return "";
    for (s = "", t = 0, n = e.attrs.length; t < n; t++) s += ` ${gn(e.attrs[t][0])}="${gn(String(e.attrs[t][1]))}"`;
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
        const a = e[l];
        (a.type === "inline" || a.hidden || a.nesting === -1 && a.tag === s.tag) && (o = !1);
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
}, of = class {
  constructor(e, t, n) {
    K(this, "tokens", []), K(this, "inlineMode", !1), K(this, "Token", jn), this.src = e, this.env = n, this.md = t;
  }
}, G_ = /\r\n?/g, K_ = /\0/g;
function X_(e) {
  let t;
  t = e.src.replace(G_, `
`), t = t.replace(K_, "�"), e.src = t;
}
function Y_(e) {
  let t;
  e.inlineMode ? (t = new e.Token("inline", "", 0), t.content = e.src, t.map = [0, 1], t.children = [], e.tokens.push(t)) : e.md.block.parse(e.src, e.md, e.env, e.tokens);
}
function Z_(e) {
  const t = e.tokens;
  let n = 0;
  for (let s = 0; s < t.length; s++)
    t[s].type !== "reference_definition" && (s !== n && (t[n] = t[s]), n++);
  t.length !== n && (t.length = n);
}
function Q_(e) {
  const t = e.tokens;
  for (let n = 0, s = t.length; n < s; n++) {
    const r = t[n];
    r.type === "inline" && e.md.inline.parse(r.content, e.md, e.env, r.children);
  }
}
function e0(e) {
  return /^<a[>\s]/i.test(e);
}
function t0(e) {
  return /^<\/a\s*>/i.test(e);
}
function n0(e) {
  const t = e.tokens;
  if (e.md.options.linkify)
    for (let n = 0, s = t.length; n < s; n++) {
      if (t[n].type !== "inline" || !e.md.linkify.test(t[n].content)) continue;
      const r = t[n].children, i = [];
      let o = 0;
      for (let l = r.length - 1; l >= 0; l--) {
        const a = r[l];
        if (a.type === "link_close") {
          for (l--; r[l].level !== a.level && r[l].type !== "link_open"; ) l--;
          continue;
        }
        if (a.type === "html_inline" && (e0(a.content) && o > 0 && o--, t0(a.content) && o++), !(o > 0) && a.type === "text" && e.md.linkify.test(a.content)) {
          const c = a.content;
          let u = e.md.linkify.match(c);
          const f = [];
          let m = a.level, h = 0;
          u.length > 0 && u[0].index === 0 && l > 0 && r[l - 1].type === "text_special" && (u = u.slice(1));
          for (let p = 0; p < u.length; p++) {
            const k = u[p].url, v = e.md.normalizeLink(k);
            if (!e.md.validateLink(v)) continue;
            let C = u[p].text;
            u[p].schema ? u[p].schema === "mailto:" && !/^mailto:/i.test(C) ? C = e.md.normalizeLinkText(`mailto:${C}`).replace(/^mailto:/, "") : C = e.md.normalizeLinkText(C) : C = e.md.normalizeLinkText(`http://${C}`).replace(/^http:\/\//, "");
            const x = u[p].index;
            if (x > h) {
              const z = new e.Token("text", "", 0);
              z.content = c.slice(h, x), z.level = m, f.push(z);
            }
            const b = new e.Token("link_open", "a", 1);
            b.attrs = [["href", v]], b.level = m++, b.markup = "linkify", b.info = "auto", f.push(b);
            const w = new e.Token("text", "", 0);
            w.content = C, w.level = m, f.push(w);
            const O = new e.Token("link_close", "a", -1);
            O.level = --m, O.markup = "linkify", O.info = "auto", f.push(O), h = u[p].lastIndex;
          }
          if (h < c.length) {
            const p = new e.Token("text", "", 0);
            p.content = c.slice(h), p.level = m, f.push(p);
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
        const a = new Array(l);
        let c = 0, u = 0;
        i.reverse();
        for (let f = 0; f < r.length; f++) {
          const m = i[c];
          if (m?.index === f) {
            for (const h of m.nodes) a[u++] = h;
            c++;
          } else a[u++] = r[f];
        }
        t[n].children = a;
      }
    }
}
var lf = /\+-|\.\.|\?\?\?\?|!!!!|,,|--/, s0 = /\((c|tm|r)\)/i, r0 = /\((c|tm|r)\)/gi, i0 = {
  c: "©",
  r: "®",
  tm: "™"
};
function o0(e, t) {
  return i0[t.toLowerCase()];
}
function l0(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const s = e[n];
    s.type === "text" && !t && (s.content = s.content.replace(r0, o0)), s.type === "link_open" && s.info === "auto" && t--, s.type === "link_close" && s.info === "auto" && t++;
  }
}
function a0(e) {
  let t = 0;
  for (let n = e.length - 1; n >= 0; n--) {
    const s = e[n];
    s.type === "text" && !t && lf.test(s.content) && (s.content = s.content.replace(/\+-/g, "±").replace(/\.{2,}/g, "…").replace(/([?!])…/g, "$1..").replace(/([?!]){4,}/g, "$1$1$1").replace(/,{2,}/g, ",").replace(/(^|[^-])---(?=[^-]|$)/gm, "$1—").replace(/(^|\s)--(?=\s|$)/gm, "$1–").replace(/(^|[^-\s])--(?=[^-\s]|$)/gm, "$1–")), s.type === "link_open" && s.info === "auto" && t--, s.type === "link_close" && s.info === "auto" && t++;
  }
}
function c0(e) {
  let t;
  if (e.md.options.typographer)
    for (t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type === "inline" && (s0.test(e.tokens[t].content) && l0(e.tokens[t].children), lf.test(e.tokens[t].content) && a0(e.tokens[t].children));
}
var u0 = /['"]/, nc = /['"]/g, sc = "’", f0 = 1e3;
function rc(e, t, n) {
  for (; e.length > n; ) {
    const s = e.pop();
    s.isSingleQuote ? t.single = s.prevSameQuoteIdx : t.double = s.prevSameQuoteIdx;
  }
}
function pr(e, t, n, s) {
  e[t] || (e[t] = []), e[t].push({
    pos: n,
    ch: s
  });
}
function d0(e, t) {
  let n = "", s = 0;
  t.sort((r, i) => r.pos - i.pos);
  for (let r = 0; r < t.length; r++) {
    const i = t[r];
    n += e.slice(s, i.pos) + i.ch, s = i.pos + 1;
  }
  return n + e.slice(s);
}
function h0(e, t) {
  let n;
  const s = [], r = {
    single: -1,
    double: -1
  }, i = {};
  for (let o = 0; o < e.length; o++) {
    const l = e[o], a = e[o].level;
    for (n = s.length - 1; n >= 0 && !(s[n].level <= a); n--) ;
    if (rc(s, r, n + 1), l.type !== "text") continue;
    const c = l.content;
    let u = 0;
    const f = c.length;
    e: for (; u < f; ) {
      nc.lastIndex = u;
      const m = nc.exec(c);
      if (!m) break;
      let h = !0, p = !0;
      u = m.index + 1;
      const k = m[0] === "'";
      let v = 32;
      if (m.index - 1 >= 0) v = c.charCodeAt(m.index - 1);
      else for (n = o - 1; n >= 0 && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n--)
        if (e[n].content) {
          v = e[n].content.charCodeAt(e[n].content.length - 1);
          break;
        }
      let C = 32;
      if (u < f) C = c.charCodeAt(u);
      else for (n = o + 1; n < e.length && !(e[n].type === "softbreak" || e[n].type === "hardbreak"); n++)
        if (e[n].content) {
          C = e[n].content.charCodeAt(0);
          break;
        }
      const x = Us(v) || zs(v), b = Us(C) || zs(C), w = Bs(v), O = Bs(C);
      if (O ? h = !1 : b && (w || x || (h = !1)), w ? p = !1 : x && (O || b || (p = !1)), C === 34 && m[0] === '"' && v >= 48 && v <= 57 && (p = h = !1), h && p && (h = x, p = b), !h && !p) {
        k && pr(i, o, m.index, sc);
        continue;
      }
      if (p && (n = k ? r.single : r.double, n >= 0 && s[n].level === a)) {
        const z = s[n];
        let $, ee;
        k ? ($ = t.md.options.quotes[2], ee = t.md.options.quotes[3]) : ($ = t.md.options.quotes[0], ee = t.md.options.quotes[1]), pr(i, o, m.index, ee), pr(i, z.tokenIdx, z.contentPos, $), rc(s, r, n);
        continue e;
      }
      if (h) {
        if (s.length >= f0) return;
        s.push({
          tokenIdx: o,
          contentPos: m.index,
          isSingleQuote: k,
          level: a,
          prevSameQuoteIdx: k ? r.single : r.double
        }), k ? r.single = s.length - 1 : r.double = s.length - 1;
      } else p && k && pr(i, o, m.index, sc);
    }
  }
  Object.keys(i).forEach(function(o) {
    const l = Number(o);
    e[l].content = d0(e[l].content, i[o]);
  });
}
function p0(e) {
  if (e.md.options.typographer)
    for (let t = e.tokens.length - 1; t >= 0; t--)
      e.tokens[t].type !== "inline" || !u0.test(e.tokens[t].content) || h0(e.tokens[t].children, e);
}
function g0(e) {
  let t, n;
  const s = e.length;
  for (t = 0; t < s; t++) e[t].type === "text_special" && (e[t].type = "text");
  for (t = n = 0; t < s; t++) e[t].type === "text" && t + 1 < s && e[t + 1].type === "text" ? e[t + 1].content = e[t].content + e[t + 1].content : (t !== n && (e[n] = e[t]), n++);
  t !== n && (e.length = n);
}
function m0(e) {
  let t, n;
  const s = e.tokens, r = s.length;
  for (let i = 0; i < r; i++) {
    if (s[i].type !== "inline") continue;
    const o = s[i].children, l = o.length;
    for (t = 0; t < l; t++)
      o[t].type === "text_special" && (o[t].type = "text"), o[t].children && g0(o[t].children);
    for (t = n = 0; t < l; t++) o[t].type === "text" && t + 1 < l && o[t + 1].type === "text" ? o[t + 1].content = o[t].content + o[t + 1].content : (t !== n && (o[n] = o[t]), n++);
    t !== n && (o.length = n);
  }
}
var Yi = [
  ["normalize", X_],
  ["block", Y_],
  ["strip_references", Z_],
  ["inline", Q_],
  ["linkify", n0],
  ["replacements", c0],
  ["smartquotes", p0],
  ["text_join", m0]
], af = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of core rules.
      */
      "ruler",
      new Js()
    ), K(this, "State", of);
    for (let e = 0; e < Yi.length; e++) this.ruler.push(Yi[e][0], Yi[e][1]);
  }
  /**
  * Executes core chain rules.
  */
  process(e) {
    const t = this.ruler.getRules("");
    for (let n = 0, s = t.length; n < s; n++) t[n](e);
  }
}, cf = class {
  constructor(e, t, n, s) {
    K(this, "bMarks", []), K(this, "eMarks", []), K(this, "tShift", []), K(this, "sCount", []), K(this, "bsCount", []), K(this, "blkIndent", 0), K(this, "line", 0), K(this, "lineMax", 0), K(this, "tight", !1), K(this, "listIndent", -1), K(this, "parentType", "root"), K(this, "level", 0), K(this, "Token", jn), this.src = e, this.md = t, this.env = n, this.tokens = s;
    const r = this.src;
    for (let i = 0, o = 0, l = 0, a = 0, c = r.length, u = !1; o < c; o++) {
      const f = r.charCodeAt(o);
      if (!u)
        if (Te(f)) {
          l++, f === 9 ? a += 4 - a % 4 : a++;
          continue;
        } else u = !0;
      (f === 10 || o === c - 1) && (f !== 10 && o++, this.bMarks.push(i), this.eMarks.push(o), this.tShift.push(l), this.sCount.push(a), this.bsCount.push(0), u = !1, l = 0, a = 0, i = o + 1);
    }
    this.bMarks.push(r.length), this.eMarks.push(r.length), this.tShift.push(0), this.sCount.push(0), this.bsCount.push(0), this.lineMax = this.bMarks.length - 1;
  }
  push(e, t, n) {
    const s = new jn(e, t, n);
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
  getLines(e, t, n, s) {
    if (e >= t) return "";
    const r = new Array(t - e);
    for (let i = 0, o = e; o < t; o++, i++) {
      let l = 0;
      const a = this.bMarks[o];
      let c = a, u;
      for (o + 1 < t || s ? u = this.eMarks[o] + 1 : u = this.eMarks[o]; c < u && l < n; ) {
        const f = this.src.charCodeAt(c);
        if (Te(f))
          f === 9 ? l += 4 - (l + this.bsCount[o]) % 4 : l++;
        else if (c - a < this.tShift[o]) l++;
        else break;
        c++;
      }
      l > n ? r[i] = new Array(l - n + 1).join(" ") + this.src.slice(c, u) : r[i] = this.src.slice(c, u);
    }
    return r.join("");
  }
}, _0 = 65536;
function Zi(e, t) {
  const n = e.bMarks[t] + e.tShift[t], s = e.eMarks[t];
  return e.src.slice(n, s);
}
function ic(e) {
  const t = [], n = e.length;
  let s = 0, r = e.charCodeAt(s), i = !1, o = 0, l = "";
  for (; s < n; )
    r === 124 && (i ? (l += e.substring(o, s - 1), o = s) : (t.push(l + e.substring(o, s)), l = "", o = s + 1)), i = r === 92, s++, r = e.charCodeAt(s);
  return t.push(l + e.substring(o)), t;
}
function y0(e, t, n, s) {
  if (t + 2 > n) return !1;
  let r = t + 1;
  if (e.sCount[r] < e.blkIndent || e.sCount[r] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[r] + e.tShift[r];
  if (i >= e.eMarks[r]) return !1;
  const o = e.src.charCodeAt(i++);
  if (o !== 124 && o !== 45 && o !== 58 || i >= e.eMarks[r]) return !1;
  const l = e.src.charCodeAt(i++);
  if (l !== 124 && l !== 45 && l !== 58 && !Te(l) || o === 45 && Te(l)) return !1;
  for (; i < e.eMarks[r]; ) {
    const w = e.src.charCodeAt(i);
    if (w !== 124 && w !== 45 && w !== 58 && !Te(w)) return !1;
    i++;
  }
  let a = Zi(e, t + 1), c = a.split("|");
  const u = [];
  for (let w = 0; w < c.length; w++) {
    const O = c[w].trim();
    if (!O) {
      if (w === 0 || w === c.length - 1) continue;
      return !1;
    }
    if (!/^:?-+:?$/.test(O)) return !1;
    O.charCodeAt(O.length - 1) === 58 ? u.push(O.charCodeAt(0) === 58 ? "center" : "right") : O.charCodeAt(0) === 58 ? u.push("left") : u.push("");
  }
  if (a = Zi(e, t).trim(), a.indexOf("|") === -1 || e.sCount[t] - e.blkIndent >= 4) return !1;
  c = ic(a), c.length && c[0] === "" && c.shift(), c.length && c[c.length - 1] === "" && c.pop();
  const f = c.length;
  if (f === 0 || f !== u.length) return !1;
  if (s) return !0;
  const m = e.parentType;
  e.parentType = "table";
  const h = e.md.block.ruler.getRules("blockquote"), p = e.push("table_open", "table", 1), k = [t, 0];
  p.map = k;
  const v = e.push("thead_open", "thead", 1);
  v.map = [t, t + 1];
  const C = e.push("tr_open", "tr", 1);
  C.map = [t, t + 1];
  for (let w = 0; w < c.length; w++) {
    const O = e.push("th_open", "th", 1);
    u[w] && (O.attrs = [["style", `text-align:${u[w]}`]]);
    const z = e.push("inline", "", 0);
    z.content = c[w].trim(), z.children = [], e.push("th_close", "th", -1);
  }
  e.push("tr_close", "tr", -1), e.push("thead_close", "thead", -1);
  let x, b = 0;
  for (r = t + 2; r < n && !(e.sCount[r] < e.blkIndent); r++) {
    let w = !1;
    for (let z = 0, $ = h.length; z < $; z++) if (h[z](e, r, n, !0)) {
      w = !0;
      break;
    }
    if (w || (a = Zi(e, r).trim(), !a) || e.sCount[r] - e.blkIndent >= 4 || (c = ic(a), c.length && c[0] === "" && c.shift(), c.length && c[c.length - 1] === "" && c.pop(), b += f - c.length, b > _0)) break;
    if (r === t + 2) {
      const z = e.push("tbody_open", "tbody", 1);
      z.map = x = [t + 2, 0];
    }
    const O = e.push("tr_open", "tr", 1);
    O.map = [r, r + 1];
    for (let z = 0; z < f; z++) {
      const $ = e.push("td_open", "td", 1);
      u[z] && ($.attrs = [["style", `text-align:${u[z]}`]]);
      const ee = e.push("inline", "", 0);
      ee.content = c[z] ? c[z].trim() : "", ee.children = [], e.push("td_close", "td", -1);
    }
    e.push("tr_close", "tr", -1);
  }
  return x && (e.push("tbody_close", "tbody", -1), x[1] = r), e.push("table_close", "table", -1), k[1] = r, e.parentType = m, e.line = r, !0;
}
function b0(e, t, n) {
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
function w0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || r + 3 > i) return !1;
  const o = e.src.charCodeAt(r);
  if (o !== 126 && o !== 96) return !1;
  let l = r;
  r = e.skipChars(r, o);
  let a = r - l;
  if (a < 3) return !1;
  const c = e.src.slice(l, r), u = e.src.slice(r, i);
  if (o === 96 && u.indexOf(String.fromCharCode(o)) >= 0)
    return !1;
  if (s) return !0;
  let f = t, m = !1;
  for (; f++, !(f >= n || (r = l = e.bMarks[f] + e.tShift[f], i = e.eMarks[f], r < i && e.sCount[f] < e.blkIndent)); )
    if (e.src.charCodeAt(r) === o && !(e.sCount[f] - e.blkIndent >= 4) && (r = e.skipChars(r, o), !(r - l < a) && (r = e.skipSpaces(r), !(r < i)))) {
      m = !0;
      break;
    }
  a = e.sCount[t], e.line = f + (m ? 1 : 0);
  const h = e.push("fence", "code", 0);
  return h.info = u, h.content = e.getLines(t + 1, f, a, !0), h.markup = c, h.map = [t, e.line], !0;
}
function k0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  const o = e.lineMax;
  if (e.sCount[t] - e.blkIndent >= 4 || e.src.charCodeAt(r) !== 62) return !1;
  if (s) return !0;
  const l = [], a = [], c = [], u = [], f = e.md.block.ruler.getRules("blockquote"), m = e.parentType;
  e.parentType = "blockquote";
  let h = !1, p;
  for (p = t; p < n; p++) {
    const b = e.sCount[p] < e.blkIndent;
    if (r = e.bMarks[p] + e.tShift[p], i = e.eMarks[p], r >= i) break;
    if (e.src.charCodeAt(r++) === 62 && !b) {
      let O = e.sCount[p] + 1, z, $;
      e.src.charCodeAt(r) === 32 ? (r++, O++, $ = !1, z = !0) : e.src.charCodeAt(r) === 9 ? (z = !0, (e.bsCount[p] + O) % 4 === 3 ? (r++, O++, $ = !1) : $ = !0) : z = !1;
      let ee = O;
      for (l.push(e.bMarks[p]), e.bMarks[p] = r; r < i; ) {
        const X = e.src.charCodeAt(r);
        if (Te(X))
          X === 9 ? ee += 4 - (ee + e.bsCount[p] + ($ ? 1 : 0)) % 4 : ee++;
        else break;
        r++;
      }
      h = r >= i, a.push(e.bsCount[p]), e.bsCount[p] = e.sCount[p] + 1 + (z ? 1 : 0), c.push(e.sCount[p]), e.sCount[p] = ee - O, u.push(e.tShift[p]), e.tShift[p] = r - e.bMarks[p];
      continue;
    }
    if (h) break;
    let w = !1;
    for (let O = 0, z = f.length; O < z; O++) if (f[O](e, p, n, !0)) {
      w = !0;
      break;
    }
    if (w) {
      e.lineMax = p, e.blkIndent !== 0 && (l.push(e.bMarks[p]), a.push(e.bsCount[p]), u.push(e.tShift[p]), c.push(e.sCount[p]), e.sCount[p] -= e.blkIndent);
      break;
    }
    l.push(e.bMarks[p]), a.push(e.bsCount[p]), u.push(e.tShift[p]), c.push(e.sCount[p]), e.sCount[p] = -1;
  }
  const k = e.blkIndent;
  e.blkIndent = 0;
  const v = e.push("blockquote_open", "blockquote", 1);
  v.markup = ">";
  const C = [t, 0];
  v.map = C, e.md.block.tokenize(e, t, p);
  const x = e.push("blockquote_close", "blockquote", -1);
  x.markup = ">", e.lineMax = o, e.parentType = m, C[1] = e.line;
  for (let b = 0; b < u.length; b++)
    e.bMarks[b + t] = l[b], e.tShift[b + t] = u[b], e.sCount[b + t] = c[b], e.bsCount[b + t] = a[b];
  return e.blkIndent = k, !0;
}
function v0(e, t, n, s) {
  const r = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let i = e.bMarks[t] + e.tShift[t];
  const o = e.src.charCodeAt(i++);
  if (o !== 42 && o !== 45 && o !== 95) return !1;
  let l = 1;
  for (; i < r; ) {
    const c = e.src.charCodeAt(i++);
    if (c !== o && !Te(c)) return !1;
    c === o && l++;
  }
  if (l < 3) return !1;
  if (s) return !0;
  e.line = t + 1;
  const a = e.push("hr", "hr", 0);
  return a.map = [t, e.line], a.markup = Array(l + 1).join(String.fromCharCode(o)), !0;
}
function oc(e, t) {
  const n = e.eMarks[t];
  let s = e.bMarks[t] + e.tShift[t];
  const r = e.src.charCodeAt(s++);
  return r !== 42 && r !== 45 && r !== 43 || s < n && !Te(e.src.charCodeAt(s)) ? -1 : s;
}
function lc(e, t) {
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
  return r < s && (i = e.src.charCodeAt(r), !Te(i)) ? -1 : r;
}
function x0(e, t) {
  const n = e.level + 2;
  for (let s = t + 2, r = e.tokens.length - 2; s < r; s++) e.tokens[s].level === n && e.tokens[s].type === "paragraph_open" && (e.tokens[s + 2].hidden = !0, e.tokens[s].hidden = !0, s += 2);
}
function A0(e, t, n, s) {
  let r, i, o, l, a = t, c = !0;
  if (e.sCount[a] - e.blkIndent >= 4 || e.listIndent >= 0 && e.sCount[a] - e.listIndent >= 4 && e.sCount[a] < e.blkIndent) return !1;
  let u = !1;
  s && e.parentType === "paragraph" && e.sCount[a] >= e.blkIndent && (u = !0);
  let f, m, h;
  if ((h = lc(e, a)) >= 0) {
    if (f = !0, o = e.bMarks[a] + e.tShift[a], m = Number(e.src.slice(o, h - 1)), u && m !== 1) return !1;
  } else if ((h = oc(e, a)) >= 0) f = !1;
  else return !1;
  if (u && e.skipSpaces(h) >= e.eMarks[a])
    return !1;
  if (s) return !0;
  const p = e.src.charCodeAt(h - 1), k = e.tokens.length;
  f ? (l = e.push("ordered_list_open", "ol", 1), m !== 1 && (l.attrs = [["start", m]])) : l = e.push("bullet_list_open", "ul", 1);
  const v = [a, 0];
  l.map = v, l.markup = String.fromCharCode(p);
  let C = !1;
  const x = e.md.block.ruler.getRules("list"), b = e.parentType;
  for (e.parentType = "list"; a < n; ) {
    i = h, r = e.eMarks[a];
    const w = e.sCount[a] + h - (e.bMarks[a] + e.tShift[a]);
    let O = w;
    for (; i < r; ) {
      const Re = e.src.charCodeAt(i);
      if (Re === 9) O += 4 - (O + e.bsCount[a]) % 4;
      else if (Re === 32) O++;
      else break;
      i++;
    }
    const z = i;
    let $;
    z >= r ? $ = 1 : $ = O - w, $ > 4 && ($ = 1);
    const ee = w + $;
    l = e.push("list_item_open", "li", 1), l.markup = String.fromCharCode(p);
    const X = [a, 0];
    l.map = X, f && (l.info = e.src.slice(o, h - 1));
    const ue = e.tight, ne = e.tShift[a], pe = e.sCount[a], Ie = e.listIndent;
    if (e.listIndent = e.blkIndent, e.blkIndent = ee, e.tight = !0, e.tShift[a] = z - e.bMarks[a], e.sCount[a] = O, z >= r && e.isEmpty(a + 1) ? e.line = Math.min(e.line + 2, n) : e.md.block.tokenize(e, a, n), (!e.tight || C) && (c = !1), C = e.line - a > 1 && e.isEmpty(e.line - 1), e.blkIndent = e.listIndent, e.listIndent = Ie, e.tShift[a] = ne, e.sCount[a] = pe, e.tight = ue, l = e.push("list_item_close", "li", -1), l.markup = String.fromCharCode(p), a = e.line, X[1] = a, a >= n || e.sCount[a] < e.blkIndent || e.sCount[a] - e.blkIndent >= 4) break;
    let xe = !1;
    for (let Re = 0, dt = x.length; Re < dt; Re++) if (x[Re](e, a, n, !0)) {
      xe = !0;
      break;
    }
    if (xe) break;
    if (f) {
      if (h = lc(e, a), h < 0) break;
      o = e.bMarks[a] + e.tShift[a];
    } else if (h = oc(e, a), h < 0) break;
    if (p !== e.src.charCodeAt(h - 1)) break;
  }
  return f ? l = e.push("ordered_list_close", "ol", -1) : l = e.push("bullet_list_close", "ul", -1), l.markup = String.fromCharCode(p), v[1] = a, e.line = a, e.parentType = b, c && x0(e, k), !0;
}
var Qi = 999;
function R0(e) {
  let t = e.length;
  for (let n = 0; n < e.length - 1; n++) {
    const s = e.charCodeAt(n);
    if (s < 55296 || s > 56319) continue;
    const r = e.charCodeAt(n + 1);
    r >= 56320 && r <= 57343 && (t--, n++);
  }
  return t;
}
function ys(e, t) {
  return Math.min(e.eMarks[t] + 1, e.src.length);
}
function gr(e, t) {
  const n = e.lineMax;
  if (t >= n || e.isEmpty(t)) return -1;
  let s = !1;
  if (e.sCount[t] - e.blkIndent > 3 && (s = !0), e.sCount[t] < 0 && (s = !0), !s) {
    const r = e.md.block.ruler.getRules("reference"), i = e.parentType;
    e.parentType = "reference";
    let o = !1;
    for (let l = 0, a = r.length; l < a; l++) if (r[l](e, t, n, !0)) {
      o = !0;
      break;
    }
    if (e.parentType = i, o) return -1;
  }
  return e.bMarks[t] + e.tShift[t];
}
function E0(e, t, n, s) {
  const r = e.src;
  let i = e.bMarks[t] + e.tShift[t], o = t + 1;
  if (e.sCount[t] - e.blkIndent >= 4 || r.charCodeAt(i) !== 91) return !1;
  let l = ys(e, t), a = "", c = -1, u = ++i;
  for (; i < l; ) {
    if (a.length + i - u > Qi * 2) return !1;
    let z = r.charCodeAt(i);
    if (z === 91) return !1;
    if (z === 93) {
      c = i;
      break;
    }
    if (z === 92 && (z = r.charCodeAt(++i)), z === 10 && i < l) {
      const $ = gr(e, o);
      if ($ < 0) return !1;
      a += r.slice(u, l), i = u = $, l = ys(e, o++);
      continue;
    }
    i++;
  }
  if (c < 0 || r.charCodeAt(c + 1) !== 58 || (a += r.slice(u, c), a.length > Qi && R0(a) > Qi)) return !1;
  for (i = c + 2; i < l; ) {
    const z = r.charCodeAt(i);
    if (z === 10) {
      const $ = gr(e, o);
      if ($ < 0) break;
      i = $, l = ys(e, o++);
    } else if (Te(z)) i++;
    else break;
  }
  const f = e.md.helpers.parseLinkDestination(r, i, l);
  if (!f.ok) return !1;
  const m = e.md.normalizeLink(f.str);
  if (!e.md.validateLink(m)) return !1;
  i = f.pos;
  const h = i, p = l, k = o;
  for (; i < l; ) {
    const z = r.charCodeAt(i);
    if (z === 10) {
      const $ = gr(e, o);
      if ($ < 0) break;
      i = $, l = ys(e, o++);
    } else if (Te(z)) i++;
    else break;
  }
  const v = i;
  let C = e.md.helpers.parseLinkTitle(r, i, l);
  for (; C.can_continue; ) {
    const z = gr(e, o);
    if (z < 0) break;
    i = z, l = ys(e, o++), C = e.md.helpers.parseLinkTitle(r, i, l, C);
  }
  let x;
  for (v !== h && C.ok ? (x = C.str, i = C.pos) : (x = "", i = h, l = p, o = k); i < l && Te(r.charCodeAt(i)); )
    i++;
  if (i < l && r.charCodeAt(i) !== 10 && x)
    for (x = "", i = h, l = p, o = k; i < l && Te(r.charCodeAt(i)); )
      i++;
  if (i < l && r.charCodeAt(i) !== 10) return !1;
  const b = Gr(a);
  if (!b) return !1;
  if (s) return !0;
  typeof e.env.references > "u" && (e.env.references = {}), typeof e.env.references[b] > "u" && (e.env.references[b] = {
    title: x,
    href: m
  });
  const w = e.push("reference_definition", "", 0);
  w.map = [t, o], w.hidden = !0;
  const O = /* @__PURE__ */ Object.create(null);
  return O.label = b, w.meta = O, e.line = o, !0;
}
var C0 = [
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
], S0 = `<[A-Za-z][A-Za-z0-9\\-]*(?:\\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\\s*=\\s*(?:[^"'=<>\`\\x00-\\x20]+|'[^']*'|"[^"]*"))?)*\\s*\\/?>`, D0 = "<\\/[A-Za-z][A-Za-z0-9\\-]*\\s*>", uf = new RegExp(`^(?:${S0}|${D0})`), En = [
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
    new RegExp(`^</?(${C0.join("|")})(?=(\\s|/?>|$))`, "i"),
    /^$/,
    !0
  ],
  [
    new RegExp(`${uf.source}\\s*$`),
    /^$/,
    !1
  ]
];
function T0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4 || !e.md.options.html || e.src.charCodeAt(r) !== 60) return !1;
  let o = e.src.slice(r, i), l = 0;
  for (; l < En.length && !En[l][0].test(o); l++) ;
  if (l === En.length) return !1;
  if (s) return En[l][2];
  let a = t + 1;
  const c = En[l][1].test("");
  if (!En[l][1].test(o)) {
    for (; a < n && !(e.sCount[a] < e.blkIndent && (c || !e.isEmpty(a))); a++)
      if (r = e.bMarks[a] + e.tShift[a], i = e.eMarks[a], o = e.src.slice(r, i), En[l][1].test(o)) {
        o.length !== 0 && a++;
        break;
      }
  }
  e.line = a;
  const u = e.push("html_block", "", 0);
  return u.map = [t, a], u.content = e.getLines(t, a, e.blkIndent, !0), !0;
}
function I0(e, t, n, s) {
  let r = e.bMarks[t] + e.tShift[t], i = e.eMarks[t];
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  let o = e.src.charCodeAt(r);
  if (o !== 35 || r >= i) return !1;
  let l = 1;
  for (o = e.src.charCodeAt(++r); o === 35 && r < i && l <= 6; )
    l++, o = e.src.charCodeAt(++r);
  if (l > 6 || r < i && !Te(o)) return !1;
  if (s) return !0;
  i = e.skipSpacesBack(i, r);
  const a = e.skipCharsBack(i, 35, r);
  a > r && Te(e.src.charCodeAt(a - 1)) && (i = a), e.line = t + 1;
  const c = e.push("heading_open", `h${l}`, 1);
  c.markup = "########".slice(0, l), c.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = Kr(e.src.slice(r, i)), u.map = [t, e.line], u.children = [];
  const f = e.push("heading_close", `h${l}`, -1);
  return f.markup = "########".slice(0, l), !0;
}
function F0(e, t, n) {
  const s = e.md.block.ruler.getRules("paragraph");
  if (e.sCount[t] - e.blkIndent >= 4) return !1;
  const r = e.parentType;
  e.parentType = "paragraph";
  let i = 0, o, l = t + 1;
  for (; l < n && !e.isEmpty(l); l++) {
    if (e.sCount[l] - e.blkIndent > 3) continue;
    if (e.sCount[l] >= e.blkIndent) {
      let h = e.bMarks[l] + e.tShift[l];
      const p = e.eMarks[l];
      if (h < p && (o = e.src.charCodeAt(h), (o === 45 || o === 61) && (h = e.skipChars(h, o), h = e.skipSpaces(h), h >= p))) {
        i = o === 61 ? 1 : 2;
        break;
      }
    }
    if (e.sCount[l] < 0) continue;
    let m = !1;
    for (let h = 0, p = s.length; h < p; h++) if (s[h](e, l, n, !0)) {
      m = !0;
      break;
    }
    if (m) break;
  }
  if (!i)
    return e.parentType = r, !1;
  const a = Kr(e.getLines(t, l, e.blkIndent, !1));
  e.line = l + 1;
  const c = e.push("heading_open", `h${i}`, 1);
  c.markup = String.fromCharCode(o), c.map = [t, e.line];
  const u = e.push("inline", "", 0);
  u.content = a, u.map = [t, e.line - 1], u.children = [];
  const f = e.push("heading_close", `h${i}`, -1);
  return f.markup = String.fromCharCode(o), e.parentType = r, !0;
}
function O0(e, t, n) {
  const s = e.md.block.ruler.getRules("paragraph"), r = e.parentType;
  let i = t + 1;
  for (e.parentType = "paragraph"; i < n && !e.isEmpty(i); i++) {
    if (e.sCount[i] - e.blkIndent > 3 || e.sCount[i] < 0) continue;
    let c = !1;
    for (let u = 0, f = s.length; u < f; u++) if (s[u](e, i, n, !0)) {
      c = !0;
      break;
    }
    if (c) break;
  }
  const o = Kr(e.getLines(t, i, e.blkIndent, !1));
  e.line = i;
  const l = e.push("paragraph_open", "p", 1);
  l.map = [t, e.line];
  const a = e.push("inline", "", 0);
  return a.content = o, a.map = [t, e.line], a.children = [], e.push("paragraph_close", "p", -1), e.parentType = r, !0;
}
var mr = [
  [
    "table",
    y0,
    ["paragraph", "reference"]
  ],
  ["code", b0],
  [
    "fence",
    w0,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "blockquote",
    k0,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "hr",
    v0,
    [
      "paragraph",
      "reference",
      "blockquote",
      "list"
    ]
  ],
  [
    "list",
    A0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["reference", E0],
  [
    "html_block",
    T0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  [
    "heading",
    I0,
    [
      "paragraph",
      "reference",
      "blockquote"
    ]
  ],
  ["lheading", F0],
  ["paragraph", O0]
], ff = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of block rules.
      */
      "ruler",
      new Js()
    ), K(this, "State", cf);
    for (let e = 0; e < mr.length; e++) this.ruler.push(mr[e][0], mr[e][1], { alt: (mr[e][2] || []).slice() });
  }
  tokenize(e, t, n) {
    const s = this.ruler.getRules(""), r = s.length, i = e.md.options.maxNesting;
    let o = t, l = !1;
    for (; o < n && (e.line = o = e.skipEmptyLines(o), !(o >= n || e.sCount[o] < e.blkIndent)); ) {
      if (e.level >= i) {
        e.line = n;
        break;
      }
      const a = e.line;
      let c = !1;
      for (let u = 0; u < r; u++)
        if (c = s[u](e, o, n, !1), c) {
          if (a >= e.line) throw new Error("block rule didn't increment state.line");
          break;
        }
      if (!c) throw new Error("none of the block rules matched");
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
}, df = class {
  constructor(e, t, n, s) {
    K(this, "pos", 0), K(this, "level", 0), K(this, "pending", ""), K(this, "pendingLevel", 0), K(this, "cache", {}), K(this, "backticks", {}), K(this, "backticksScanned", !1), K(this, "skipHtmlSpecial", !1), K(this, "linkLevel", 0), K(this, "delimiters", []), K(this, "_prev_delimiters", []), K(this, "Token", jn), this.src = e, this.env = n, this.md = t, this.tokens = s, this.tokens_meta = Array(s.length), this.posMax = this.src.length;
  }
  pushPending() {
    const e = new jn("text", "", 0);
    return e.content = this.pending, e.level = this.pendingLevel, this.tokens.push(e), this.pending = "", e;
  }
  push(e, t, n) {
    this.pending && this.pushPending();
    const s = new jn(e, t, n);
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
      const p = this.src.charCodeAt(e - 2);
      r = (p & 64512) === 55296 ? 65536 + (p - 55296 << 10) + (r - 56320) : 65533;
    } else (r & 64512) === 55296 && (r = 65533);
    let i = e;
    for (; i < n && this.src.charCodeAt(i) === s; ) i++;
    const o = i - e;
    let l = i < n ? this.src.charCodeAt(i) : 32;
    if ((l & 64512) === 55296) {
      const p = this.src.charCodeAt(i + 1);
      l = (p & 64512) === 56320 ? 65536 + (l - 55296 << 10) + (p - 56320) : 65533;
    } else (l & 64512) === 56320 && (l = 65533);
    const a = Us(r) || zs(r), c = Us(l) || zs(l), u = Bs(r), f = Bs(l), m = !f && (!c || u || a), h = !u && (!a || f || c);
    return {
      can_open: m && (t || !h || a),
      can_close: h && (t || !m || c),
      length: o
    };
  }
};
function N0(e) {
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
function M0(e, t) {
  let n = e.pos;
  for (; n < e.posMax && !N0(e.src.charCodeAt(n)); ) n++;
  return n === e.pos ? !1 : (t || (e.pending += e.src.slice(e.pos, n)), e.pos = n, !0);
}
function L0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122;
}
function P0(e) {
  return e >= 65 && e <= 90 || e >= 97 && e <= 122 || e >= 48 && e <= 57 || e === 43 || e === 45 || e === 46;
}
function $0(e, t) {
  if (!e.md.options.linkify || e.linkLevel > 0) return !1;
  const n = e.pos, s = e.posMax;
  if (n + 3 > s || e.src.charCodeAt(n) !== 58 || e.src.charCodeAt(n + 1) !== 47 || e.src.charCodeAt(n + 2) !== 47) return !1;
  const r = n - Math.min(10, e.pending.length, n);
  let i = n;
  for (; i > r && P0(e.src.charCodeAt(i - 1)); ) i--;
  if (i === n || !L0(e.src.charCodeAt(i))) return !1;
  const o = n - i, l = e.md.linkify.matchAtStart(e.src.slice(i));
  if (!l) return !1;
  let a = l.url;
  if (a.length <= o) return !1;
  let c = a.length;
  for (; c > 0 && a.charCodeAt(c - 1) === 42; ) c--;
  c !== a.length && (a = a.slice(0, c));
  const u = e.md.normalizeLink(a);
  if (!e.md.validateLink(u)) return !1;
  if (!t) {
    e.pending = e.pending.slice(0, -o);
    const f = e.push("link_open", "a", 1);
    f.attrs = [["href", u]], f.markup = "linkify", f.info = "auto";
    const m = e.push("text", "", 0);
    m.content = e.md.normalizeLinkText(a);
    const h = e.push("link_close", "a", -1);
    h.markup = "linkify", h.info = "auto";
  }
  return e.pos += a.length - o, !0;
}
function j0(e, t) {
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
  for (n++; n < r && Te(e.src.charCodeAt(n)); ) n++;
  return e.pos = n, !0;
}
var Ho = [];
for (let e = 0; e < 256; e++) Ho.push(0);
"\\!\"#$%&'()*+,./:;<=>?@[]^_`{|}~-".split("").forEach(function(e) {
  Ho[e.charCodeAt(0)] = 1;
});
function B0(e, t) {
  let n = e.pos;
  const s = e.posMax;
  if (e.src.charCodeAt(n) !== 92 || (n++, n >= s)) return !1;
  let r = e.src.charCodeAt(n);
  if (r === 10) {
    for (t || e.push("hardbreak", "br", 0), n++; n < s && (r = e.src.charCodeAt(n), !!Te(r)); )
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
    r < 256 && Ho[r] !== 0 ? l.content = i : l.content = o, l.markup = o, l.info = "escape";
  }
  return e.pos = n + 1, !0;
}
function z0(e) {
  const t = {};
  let n = 0;
  for (; (n = e.indexOf("`", n)) !== -1; ) {
    const s = n;
    for (; e.charCodeAt(++n) === 96; ) ;
    t[n - s] = s;
  }
  return t;
}
function U0(e, t) {
  var n;
  const s = e.pos;
  if (e.src.charCodeAt(s) !== 96) return !1;
  const r = e.posMax;
  let i = s + 1;
  for (; i < r && e.src.charCodeAt(i) === 96; ) i++;
  const o = e.src.slice(s, i), l = o.length;
  if (e.backticksScanned || (e.backticks = z0(e.src), e.backticksScanned = !0), ((n = e.backticks[l]) !== null && n !== void 0 ? n : -1) >= i) {
    let a = i, c;
    for (; (c = e.src.indexOf("`", a)) !== -1 && c < r; ) {
      for (a = c + 1; e.src.charCodeAt(a) === 96; ) a++;
      if (a > r) break;
      if (a - c === l) {
        if (!t) {
          const u = e.push("code_inline", "code", 0);
          u.markup = o;
          let f = e.src.slice(i, c).replace(/\n/g, " ");
          f.startsWith(" ") && f.endsWith(" ") && /[^ ]/.test(f) && (f = f.slice(1, -1)), u.content = f;
        }
        return e.pos = a, !0;
      }
    }
  }
  return t || (e.pending += o), e.pos = i, !0;
}
function W0(e, t) {
  const n = e.pos, s = e.src.charCodeAt(n);
  if (t || s !== 126) return !1;
  const r = e.scanDelims(e.pos, !0);
  let i = r.length;
  const o = String.fromCharCode(s);
  if (i < 2) return !1;
  let l;
  i % 2 && (l = e.push("text", "", 0), l.content = o, i--);
  for (let a = 0; a < i; a += 2)
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
function ac(e, t) {
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
function J0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  ac(e, e.delimiters);
  for (let r = 0; r < n; r++) {
    var s;
    const i = (s = t[r]) === null || s === void 0 ? void 0 : s.delimiters;
    i && ac(e, i);
  }
}
var hf = {
  tokenize: W0,
  postProcess: J0
};
function q0(e, t) {
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
function cc(e, t) {
  const n = t.length;
  for (let s = n - 1; s >= 0; s--) {
    const r = t[s];
    if (r.marker !== 95 && r.marker !== 42 || r.end === -1) continue;
    const i = t[r.end], o = s > 0 && t[s - 1].end === r.end + 1 && t[s - 1].marker === r.marker && t[s - 1].token === r.token - 1 && t[r.end + 1].token === i.token + 1, l = String.fromCharCode(r.marker), a = e.tokens[r.token];
    a.type = o ? "strong_open" : "em_open", a.tag = o ? "strong" : "em", a.nesting = 1, a.markup = o ? l + l : l, a.content = "";
    const c = e.tokens[i.token];
    c.type = o ? "strong_close" : "em_close", c.tag = o ? "strong" : "em", c.nesting = -1, c.markup = o ? l + l : l, c.content = "", o && (e.tokens[t[s - 1].token].content = "", e.tokens[t[r.end + 1].token].content = "", s--);
  }
}
function H0(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  cc(e, e.delimiters);
  for (let r = 0; r < n; r++) {
    var s;
    const i = (s = t[r]) === null || s === void 0 ? void 0 : s.delimiters;
    i && cc(e, i);
  }
}
var pf = {
  tokenize: q0,
  postProcess: H0
};
function V0(e, t) {
  let n, s, r, i, o = "", l = "", a = e.pos, c = !0;
  if (e.src.charCodeAt(e.pos) !== 91) return !1;
  const u = e.pos, f = e.posMax, m = e.pos + 1, h = e.md.helpers.parseLinkLabel(e, e.pos, !0);
  if (h < 0) return !1;
  let p = h + 1;
  if (p < f && e.src.charCodeAt(p) === 40) {
    for (c = !1, p++; p < f && (n = e.src.charCodeAt(p), !(!Te(n) && n !== 10)); p++)
      ;
    if (p >= f) return !1;
    if (a = p, r = e.md.helpers.parseLinkDestination(e.src, p, e.posMax), r.ok) {
      for (o = e.md.normalizeLink(r.str), e.md.validateLink(o) ? p = r.pos : o = "", a = p; p < f && (n = e.src.charCodeAt(p), !(!Te(n) && n !== 10)); p++)
        ;
      if (r = e.md.helpers.parseLinkTitle(e.src, p, e.posMax), p < f && a !== p && r.ok)
        for (l = r.str, p = r.pos; p < f && (n = e.src.charCodeAt(p), !(!Te(n) && n !== 10)); p++)
          ;
    }
    (p >= f || e.src.charCodeAt(p) !== 41) && (c = !0), p++;
  }
  if (c) {
    if (typeof e.env.references > "u") return !1;
    if (p < f && e.src.charCodeAt(p) === 91 ? (a = p + 1, p = e.md.helpers.parseLinkLabel(e, p), p >= 0 ? s = e.src.slice(a, p++) : p = h + 1) : p = h + 1, s || (s = e.src.slice(m, h)), s = Gr(s), i = e.env.references[s], !i)
      return e.pos = u, !1;
    o = i.href, l = i.title;
  }
  if (!t) {
    e.pos = m, e.posMax = h;
    const k = e.push("link_open", "a", 1), v = [["href", o]];
    if (k.attrs = v, l && v.push(["title", l]), s) {
      const C = /* @__PURE__ */ Object.create(null);
      C.label = s, k.meta = C;
    }
    e.linkLevel++, e.md.inline.tokenize(e), e.linkLevel--, e.push("link_close", "a", -1);
  }
  return e.pos = p, e.posMax = f, !0;
}
function G0(e, t) {
  let n, s, r, i, o, l, a, c, u = "";
  const f = e.pos, m = e.posMax;
  if (e.src.charCodeAt(e.pos) !== 33 || e.src.charCodeAt(e.pos + 1) !== 91) return !1;
  const h = e.pos + 2, p = e.md.helpers.parseLinkLabel(e, e.pos + 1, !1);
  if (p < 0) return !1;
  if (i = p + 1, i < m && e.src.charCodeAt(i) === 40) {
    for (i++; i < m && (n = e.src.charCodeAt(i), !(!Te(n) && n !== 10)); i++)
      ;
    if (i >= m) return !1;
    for (c = i, l = e.md.helpers.parseLinkDestination(e.src, i, e.posMax), l.ok && (u = e.md.normalizeLink(l.str), e.md.validateLink(u) ? i = l.pos : u = ""), c = i; i < m && (n = e.src.charCodeAt(i), !(!Te(n) && n !== 10)); i++)
      ;
    if (l = e.md.helpers.parseLinkTitle(e.src, i, e.posMax), i < m && c !== i && l.ok)
      for (a = l.str, i = l.pos; i < m && (n = e.src.charCodeAt(i), !(!Te(n) && n !== 10)); i++)
        ;
    else a = "";
    if (i >= m || e.src.charCodeAt(i) !== 41)
      return e.pos = f, !1;
    i++;
  } else {
    if (typeof e.env.references > "u") return !1;
    if (i < m && e.src.charCodeAt(i) === 91 ? (c = i + 1, i = e.md.helpers.parseLinkLabel(e, i), i >= 0 ? r = e.src.slice(c, i++) : i = p + 1) : i = p + 1, r || (r = e.src.slice(h, p)), r = Gr(r), o = e.env.references[r], !o)
      return e.pos = f, !1;
    u = o.href, a = o.title;
  }
  if (!t) {
    s = e.src.slice(h, p);
    const k = [];
    e.md.inline.parse(s, e.md, e.env, k);
    const v = e.push("image", "img", 0), C = [["src", u], ["alt", ""]];
    if (v.attrs = C, v.children = k, v.content = s, a && C.push(["title", a]), r) {
      const x = /* @__PURE__ */ Object.create(null);
      x.label = r, v.meta = x;
    }
  }
  return e.pos = i, e.posMax = m, !0;
}
var K0 = /^([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, X0 = /^([a-zA-Z][a-zA-Z0-9+.-]{1,31}):([^<>\x00-\x20]*)$/;
function Y0(e, t) {
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
  if (X0.test(i)) {
    const o = e.md.normalizeLink(i);
    if (!e.md.validateLink(o)) return !1;
    if (!t) {
      const l = e.push("link_open", "a", 1);
      l.attrs = [["href", o]], l.markup = "autolink", l.info = "auto";
      const a = e.push("text", "", 0);
      a.content = e.md.normalizeLinkText(i);
      const c = e.push("link_close", "a", -1);
      c.markup = "autolink", c.info = "auto";
    }
    return e.pos += i.length + 2, !0;
  }
  if (K0.test(i)) {
    const o = e.md.normalizeLink(`mailto:${i}`);
    if (!e.md.validateLink(o)) return !1;
    if (!t) {
      const l = e.push("link_open", "a", 1);
      l.attrs = [["href", o]], l.markup = "autolink", l.info = "auto";
      const a = e.push("text", "", 0);
      a.content = e.md.normalizeLinkText(i);
      const c = e.push("link_close", "a", -1);
      c.markup = "autolink", c.info = "auto";
    }
    return e.pos += i.length + 2, !0;
  }
  return !1;
}
function Z0(e) {
  return /^<a[>\s]/i.test(e);
}
function Q0(e) {
  return /^<\/a\s*>/i.test(e);
}
function gf(e) {
  const t = e | 32;
  return t >= 97 && t <= 122;
}
function ey(e, t) {
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
  else if (gf(n.charCodeAt(t + 2)))
    s = t + 3, r = ">";
  else return -1;
  if (e.skipHtmlSpecial) return -1;
  const i = n.indexOf(r, s);
  return i < 0 ? (e.skipHtmlSpecial = !0, -1) : i + r.length;
}
function ty(e, t) {
  if (!e.md.options.html) return !1;
  const n = e.posMax, s = e.pos;
  if (e.src.charCodeAt(s) !== 60 || s + 2 >= n) return !1;
  let r;
  const i = e.src.charCodeAt(s + 1);
  if (i === 33 || i === 63) r = ey(e, s);
  else if (i === 47 || gf(i)) {
    const o = e.src.slice(s).match(uf);
    r = o ? s + o[0].length : -1;
  } else return !1;
  if (r < 0) return !1;
  if (!t) {
    const o = e.push("html_inline", "", 0);
    o.content = e.src.slice(s, r), Z0(o.content) && e.linkLevel++, Q0(o.content) && e.linkLevel--;
  }
  return e.pos = r, !0;
}
var ny = /^&#((?:x[a-f0-9]{1,6}|[0-9]{1,7}));/i, sy = /^&([a-z][a-z0-9]{1,31});/i;
function ry(e, t) {
  const n = e.pos, s = e.posMax;
  if (e.src.charCodeAt(n) !== 38 || n + 1 >= s) return !1;
  if (e.src.charCodeAt(n + 1) === 35) {
    const r = e.src.slice(n).match(ny);
    if (r) {
      if (!t) {
        const i = r[1][0].toLowerCase() === "x" ? parseInt(r[1].slice(1), 16) : parseInt(r[1], 10), o = e.push("text_special", "", 0);
        o.content = qo(i) ? js(i) : js(65533), o.markup = r[0], o.info = "entity";
      }
      return e.pos += r[0].length, !0;
    }
  } else {
    const r = e.src.slice(n).match(sy);
    if (r) {
      const i = qu(r[0]);
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
function uc(e) {
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
    const a = t[l.marker][(l.open ? 3 : 0) + l.length % 3];
    let c = s - i[s] - 1, u = c;
    for (; c > a; c -= i[c] + 1) {
      const f = e[c];
      if (f.marker === l.marker && f.open && f.end < 0) {
        let m = !1;
        if ((f.close || l.open) && (f.length + l.length) % 3 === 0 && (f.length % 3 !== 0 || l.length % 3 !== 0) && (m = !0), !m) {
          const h = c > 0 && !e[c - 1].open ? i[c - 1] + 1 : 0;
          i[o] = o - c + h, i[c] = h, l.open = !1, f.end = o, f.close = !1, u = -1, r = -2;
          break;
        }
      }
    }
    u !== -1 && (t[l.marker][(l.open ? 3 : 0) + (l.length || 0) % 3] = u);
  }
}
function iy(e) {
  const t = e.tokens_meta, n = e.tokens_meta.length;
  uc(e.delimiters);
  for (let r = 0; r < n; r++) {
    var s;
    const i = (s = t[r]) === null || s === void 0 ? void 0 : s.delimiters;
    i && uc(i);
  }
}
function oy(e) {
  let t, n, s = 0;
  const r = e.tokens, i = e.tokens.length;
  for (t = n = 0; t < i; t++)
    r[t].nesting < 0 && s--, r[t].level = s, r[t].nesting > 0 && s++, r[t].type === "text" && t + 1 < i && r[t + 1].type === "text" ? r[t + 1].content = r[t].content + r[t + 1].content : (t !== n && (r[n] = r[t]), n++);
  t !== n && (r.length = n);
}
var eo = [
  ["text", M0],
  ["linkify", $0],
  ["newline", j0],
  ["escape", B0],
  ["backticks", U0],
  ["strikethrough", hf.tokenize],
  ["emphasis", pf.tokenize],
  ["link", V0],
  ["image", G0],
  ["autolink", Y0],
  ["html_inline", ty],
  ["entity", ry]
], to = [
  ["balance_pairs", iy],
  ["strikethrough", hf.postProcess],
  ["emphasis", pf.postProcess],
  ["fragments_join", oy]
], mf = class {
  constructor() {
    K(
      this,
      /**
      * {@link Ruler} instance. Keep configuration of inline rules.
      */
      "ruler",
      new Js()
    ), K(
      this,
      /**
      * {@link Ruler} instance. Second ruler used for post-processing
      * (e.g. in emphasis-like rules).
      */
      "ruler2",
      new Js()
    ), K(this, "State", df);
    for (let e = 0; e < eo.length; e++) this.ruler.push(eo[e][0], eo[e][1]);
    for (let e = 0; e < to.length; e++) this.ruler2.push(to[e][0], to[e][1]);
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
}, ly = {
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
}, ay = /^(vbscript|javascript|file|data):/, cy = /^data:image\/(gif|png|jpeg|webp);/, fc = [
  "http:",
  "https:",
  "mailto:"
], $t = class {
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
    return ay.test(t) ? cy.test(t) : !0;
  }
  /**
  * Function used to encode link url to a machine-readable format,
  * which includes url-encoding, punycode, etc.
  */
  normalizeLink(e) {
    const t = vo(e, !0);
    if (t.hostname && (!t.protocol || fc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Qa.toASCII(t.hostname);
      } catch {
      }
    return t.auth && (t.auth = Gt(t.auth)), t.hostname && (t.hostname = Gt(t.hostname)), t.pathname && (t.pathname = Gt(t.pathname)), t.search && (t.search = Gt(t.search)), t.hash && (t.hash = Gt(t.hash)), ko(t);
  }
  /**
  * Function used to decode link url to a human-readable format`
  */
  normalizeLinkText(e) {
    const t = vo(e, !0);
    if (t.hostname && (!t.protocol || fc.indexOf(t.protocol) >= 0))
      try {
        t.hostname = Qa.toUnicode(t.hostname);
      } catch {
      }
    return as(ko(t), as.defaultChars + "%");
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
      new mf()
    ), K(
      this,
      /**
      * Instance of {@link ParserBlock}. You may need it to add new rules when
      * writing plugins. For simple rules control use {@link MarkdownIt.disable}
      * and {@link MarkdownIt.enable}.
      */
      "block",
      new ff()
    ), K(
      this,
      /**
      * Instance of {@link ParserCore} chain executor. You may need it to add new
      * rules when writing plugins. For simple rules control use
      * {@link MarkdownIt.disable} and {@link MarkdownIt.enable}.
      */
      "core",
      new af()
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
      new rf()
    ), K(
      this,
      /**
      * [linkify-it](https://github.com/markdown-it/linkify-it) instance.
      * Used by [linkify](https://github.com/markdown-it/markdown-it/blob/master/src/rules_core/linkify.ts)
      * rule.
      */
      "linkify",
      new __()
    ), K(
      this,
      /**
      * Assorted utility functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/common/utils.ts).
      */
      "utils",
      D_
    ), K(
      this,
      /**
      * Link components parser functions, useful to write plugins. See details
      * [here](https://github.com/markdown-it/markdown-it/blob/master/src/helpers).
      */
      "helpers",
      Object.assign({}, q_)
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
      if (t = ly[r], !t) throw new Error(`Wrong 'markdown-it' preset "${r}", check name`);
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
K($t, "Token", jn);
K($t, "Ruler", Js);
K($t, "Renderer", rf);
K($t, "ParserCore", af);
K($t, "StateCore", of);
K($t, "ParserBlock", ff);
K($t, "StateBlock", cf);
K($t, "ParserInline", mf);
K($t, "StateInline", df);
var uy = tf($t);
const fy = 200 * 1024, Vo = /^(?:https?:\/\/|mailto:)/i, dy = [
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
], hy = ["href", "title", "target", "rel", "start", "class"], Gs = new uy({ html: !1, linkify: !0, breaks: !0, typographer: !1 });
Gs.disable(["image"]);
Gs.validateLink = (e) => Vo.test(String(e).trim());
const py = Gs.renderer.rules.link_open ?? ((e, t, n, s, r) => r.renderToken(e, t, n));
Gs.renderer.rules.link_open = (e, t, n, s, r) => (e[t].attrSet("target", "_blank"), e[t].attrSet("rel", "noopener noreferrer nofollow"), py(e, t, n, s, r));
function gy(e) {
  return String(e).replace(/[&<>"']/g, (t) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[t]);
}
let dc = null;
function my(e) {
  return !e?.isSupported || typeof e.sanitize != "function" ? null : (dc !== e && (e.addHook("afterSanitizeAttributes", (t) => {
    if (t.nodeName !== "A") return;
    const n = t.getAttribute("href");
    n !== null && !Vo.test(n.trim()) && t.removeAttribute("href"), t.hasAttribute("href") ? (t.setAttribute("target", "_blank"), t.setAttribute("rel", "noopener noreferrer nofollow")) : (t.removeAttribute("target"), t.removeAttribute("rel"));
  }), dc = e), e);
}
function _y(e, t = Pm) {
  const n = String(e ?? "").slice(0, fy), s = my(t);
  if (!s) return `<p>${gy(n)}</p>`;
  const r = Gs.render(n);
  return s.sanitize(r, {
    ALLOWED_TAGS: dy,
    ALLOWED_ATTR: hy,
    ALLOWED_URI_REGEXP: Vo,
    ALLOW_DATA_ATTR: !1,
    ALLOW_ARIA_ATTR: !1
  });
}
const yy = 300, Xn = /* @__PURE__ */ new Map();
function no(e) {
  const t = String(e ?? "");
  let n = Xn.get(t);
  return n !== void 0 ? Xn.delete(t) : (n = _y(t), Xn.size >= yy && Xn.delete(Xn.keys().next().value)), Xn.set(t, n), n;
}
const by = ["data-prompt", "data-status"], wy = { class: "cd-run-head" }, ky = { "data-test": "run-status" }, vy = { class: "cd-hint" }, xy = ["value"], Ay = {
  key: 1,
  class: "cd-progress",
  "data-test": "run-progress"
}, Ry = {
  class: "cd-hint",
  "data-test": "run-node"
}, Ey = {
  key: 1,
  class: "cd-err",
  "data-test": "run-reason"
}, Cy = ["data-node", "onClick"], Sy = { class: "cd-err" }, Dy = {
  key: 2,
  class: "cd-thumbs",
  "data-test": "run-outputs"
}, Ty = ["src", "alt", "title", "onClick"], hc = {
  __name: "RunCard",
  props: { run: { type: Object, required: !0 }, ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = (i, o) => t.ctl.url(pa(i.id, o.nodeId, o.index, vg)), s = (i) => i < 1 ? `${Math.round(i * 1e3)} ms` : `${i.toFixed(1)} s`, r = (i, o) => t.ctl.url(pa(i.id, o.nodeId, o.index));
    return (i, o) => (B(), W("div", {
      class: lt(["cd-run", "cd-run-" + e.run.status]),
      "data-test": "run",
      "data-prompt": e.run.id,
      "data-status": e.run.status
    }, [
      q("div", wy, [
        o[0] || (o[0] = q("span", { class: "cd-who" }, "run", -1)),
        q("b", ky, se(e.run.status), 1),
        q("span", vy, [
          he(se(e.run.short), 1),
          e.run.queuedBy ? (B(), W(ie, { key: 0 }, [
            he(" · " + se(e.run.queuedBy), 1)
          ], 64)) : de("", !0),
          e.run.seconds !== null ? (B(), W(ie, { key: 1 }, [
            he(" · " + se(s(e.run.seconds)), 1)
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
        }, null, 8, xy)) : (B(), W("progress", Ay)),
        q("div", Ry, [
          e.run.status === "queued" ? (B(), W(ie, { key: 0 }, [
            o[1] || (o[1] = he("waiting in ComfyUI's queue", -1)),
            e.run.queuePosition ? (B(), W(ie, { key: 0 }, [
              he(" (position " + se(e.run.queuePosition) + ")", 1)
            ], 64)) : de("", !0)
          ], 64)) : e.run.node ? (B(), W(ie, { key: 1 }, [
            he(se(e.run.node.title), 1),
            e.run.max ? (B(), W(ie, { key: 0 }, [
              he(" · " + se(e.run.value) + "/" + se(e.run.max), 1)
            ], 64)) : de("", !0)
          ], 64)) : (B(), W(ie, { key: 2 }, [
            he("starting…")
          ], 64)),
          e.run.done ? (B(), W(ie, { key: 3 }, [
            he(" · " + se(e.run.done) + " node" + se(e.run.done === 1 ? "" : "s") + " done", 1)
          ], 64)) : de("", !0)
        ])
      ], 64)),
      e.run.final && e.run.status !== "succeeded" && e.run.reason && !e.run.errors.length ? (B(), W("div", Ey, se(e.run.reason), 1)) : de("", !0),
      (B(!0), W(ie, null, Ye(e.run.errors, (l, a) => (B(), W("div", {
        key: a,
        class: "cd-run-error",
        "data-test": "run-error"
      }, [
        l.nodeId ? (B(), W("button", {
          key: 0,
          class: "cd-link",
          "data-node": l.nodeId,
          title: "Select this node on the canvas",
          onClick: Sn((c) => e.ctl.focusNode(l.nodeId), ["stop"]),
          "data-test": "run-error-node"
        }, [
          he(se(l.title), 1),
          l.input ? (B(), W(ie, { key: 0 }, [
            he(" · " + se(l.input), 1)
          ], 64)) : de("", !0)
        ], 8, Cy)) : de("", !0),
        q("span", Sy, se((l.nodeId ? ": " : "") + l.message), 1)
      ]))), 128)),
      e.run.outputs.length ? (B(), W("div", Dy, [
        (B(!0), W(ie, null, Ye(e.run.outputs, (l) => (B(), W("img", {
          key: l.nodeId + "/" + l.index,
          src: n(e.run, l),
          alt: l.filename,
          title: l.filename + " (click for full size)",
          loading: "lazy",
          onClick: (a) => e.ctl.showImage(r(e.run, l)),
          "data-test": "run-thumb"
        }, null, 8, Ty))), 128))
      ])) : de("", !0)
    ], 10, by));
  }
}, Iy = { class: "cd-bar" }, Fy = ["title"], Oy = ["value", "disabled"], Ny = ["value", "title"], My = ["disabled"], Ly = ["title"], Py = ["disabled"], $y = {
  key: 0,
  class: "cd-forkof",
  "data-test": "fork-of"
}, jy = ["title"], By = {
  key: 1,
  class: "cd-hits",
  "data-test": "search-hits"
}, zy = {
  key: 0,
  class: "cd-hint"
}, Uy = ["onClick", "data-session"], Wy = { class: "cd-hint" }, Jy = { key: 0 }, qy = {
  key: 2,
  class: "cd-settings",
  "data-test": "settings-pane"
}, Hy = ["value"], Vy = { class: "cd-wide" }, Gy = { class: "cd-wide" }, Ky = { class: "cd-hint" }, Xy = { class: "cd-row" }, Yy = ["disabled"], Zy = {
  class: "cd-skills",
  "data-test": "skills"
}, Qy = ["title"], eb = ["checked", "onChange", "data-skill"], tb = {
  key: 0,
  class: "cd-hint",
  "data-test": "skills-hint"
}, nb = { class: "cd-main" }, sb = {
  key: 0,
  class: "cd-compacted",
  "data-test": "compacted"
}, rb = { "data-test": "summary" }, ib = ["innerHTML"], ob = { class: "cd-user" }, lb = ["data-skill"], ab = { class: "cd-skill" }, cb = ["innerHTML"], ub = ["data-message"], fb = ["disabled", "onClick"], db = ["disabled", "onClick"], hb = ["disabled", "onClick"], pb = {
  key: 1,
  class: "cd-atts",
  "data-test": "attachments"
}, gb = ["src", "alt", "title", "onClick"], mb = ["href", "title"], _b = {
  key: 2,
  class: "cd-hint",
  "data-test": "waiting"
}, yb = {
  key: 3,
  class: "cd-err"
}, bb = ["data-skill"], wb = { class: "cd-skill" }, kb = {
  key: 0,
  class: "cd-typing"
}, vb = ["data-message"], xb = ["disabled", "onClick"], Ab = ["disabled", "onClick"], Rb = ["innerHTML"], Eb = {
  key: 0,
  class: "cd-err"
}, Cb = {
  key: 1,
  class: "cd-empty"
}, Sb = {
  key: 0,
  class: "cd-hint"
}, Db = ["src"], Tb = ["href"], Ib = {
  key: 3,
  class: "cd-notice cd-stale",
  "data-test": "stale-revert"
}, Fb = { class: "cd-row" }, Ob = {
  key: 4,
  class: "cd-notice",
  "data-test": "reverted"
}, Nb = ["disabled"], Mb = {
  key: 5,
  class: "cd-notice",
  "data-test": "notice"
}, Lb = {
  key: 6,
  class: "cd-chips",
  "data-test": "chips"
}, Pb = ["title", "data-state"], $b = ["src"], jb = ["onClick"], Bb = { class: "cd-input" }, zb = ["disabled"], Ub = ["accept"], Wb = ["disabled"], Jb = ["disabled"], qb = {
  __name: "Panel",
  props: { ctl: { type: Object, required: !0 } },
  setup(e) {
    const t = e, n = t.ctl.state, s = t.ctl.ui, r = Je(() => s.connected ? s.outage ? "core unavailable, reconnecting…" : s.form.session_id ? n.status === "unknown" ? "joining" : n.status : "no session" : "offline"), i = Je(() => s.connected && s.outage ? "cd-outage" : "cd-" + r.value.replace(" ", "-")), o = Je(() => (s.connected ? s.outage : s.offlineReason) || n.statusDetail || r.value), l = Je(() => s.connected ? s.outage ? `core unavailable, reconnecting… (${s.outage})` : s.notice ? s.notice : n.lastError ? `${n.lastError.code}: ${n.lastError.message}` : "" : s.offlineReason ? `comfyd is not reachable: ${s.offlineReason}` : ""), a = Je(() => s.connected && !s.outage && n.status === "working"), c = Je(() => s.connected && !s.outage && !!s.form.session_id), u = Je(() => c.value && n.status !== "working" && !n.queuedTurns), f = Je(() => s.form.skills), m = Je(() => !!n.config?.api_key_set), h = Je(() => t.ctl.forkOf()), p = Je(() => Object.fromEntries(s.sessions.map((G) => [G.id, G.title]))), k = Je(() => {
      const G = [...s.sessions];
      return s.form.session_id && !G.some((T) => T.id === s.form.session_id) && G.unshift({ id: s.form.session_id, title: n.title || s.form.session_id }), G;
    }), v = Je(() => Ig(n)), C = Je(() => v.value ? n.turns.filter((G) => !G.pending && G.id <= v.value.coversTo) : []), x = Je(() => v.value ? n.turns.filter((G) => G.pending || G.id > v.value.coversTo) : n.turns);
    function b(G) {
      return String(G).split(/(\[[^\]]*\])/).filter((T) => T).map((T) => T.startsWith("[") && T.endsWith("]") ? { mark: !0, text: T.slice(1, -1) } : { mark: !1, text: T });
    }
    function w(G) {
      G.key === "Enter" && t.ctl.search(), G.key === "Escape" && (s.searchQuery = "", s.searchHits = null);
    }
    const O = Je(() => {
      const G = {};
      for (const [T, E] of Object.entries(Dg(n))) G[T] = E.map((Y) => Tg(Y, (me) => t.ctl.titleOf(me)));
      return G;
    }), z = (G) => O.value[G] ?? [];
    function $(G) {
      (!G || G.type === "click" || G.key === "Escape") && t.ctl.showImage("");
    }
    const ee = /* @__PURE__ */ rr(null);
    wi(
      () => s.image,
      (G) => G && Es(() => ee.value?.focus())
    );
    const X = /* @__PURE__ */ rr(null), ue = /* @__PURE__ */ rr(null), ne = (G) => {
      G && (G.scrollTop = G.scrollHeight);
    };
    wi(
      () => [n.turns.length, n.lastSeq, Object.keys(n.runs).length],
      () => Es(() => ne(X.value))
    ), wi(
      () => n.logs.length,
      () => Es(() => ne(ue.value))
    );
    function pe(G) {
      const T = G.target.value;
      T === "__new__" ? t.ctl.createSession() : T && t.ctl.selectSession(T);
    }
    function Ie(G) {
      G.key === "Enter" && !G.shiftKey && !G.isComposing && (G.preventDefault(), t.ctl.send());
    }
    const xe = /* @__PURE__ */ rr(null), Re = [...Uo, ".md", ".json", ".txt"].join(","), dt = Je(() => s.attachments.some((G) => G.state === "ready")), J = Je(() => s.connected && (s.draft.trim() || dt.value));
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
    const Ee = (G) => String(G.mime).startsWith("image/");
    function ye(G) {
      G.stopPropagation();
    }
    return (G, T) => (B(), W("div", {
      class: "comfyd-panel",
      onKeydown: ye,
      onKeyup: ye,
      onWheel: T[23] || (T[23] = Sn(() => {
      }, ["stop"])),
      onContextmenu: T[24] || (T[24] = Sn(() => {
      }, ["stop"])),
      onDragover: T[25] || (T[25] = Sn(() => {
      }, ["prevent", "stop"])),
      onDrop: Sn(le, ["prevent", "stop"])
    }, [
      q("div", Iy, [
        q("span", {
          class: lt(["cd-dot", i.value]),
          title: o.value
        }, null, 10, Fy),
        q("select", {
          class: "cd-session",
          value: H(s).form.session_id,
          disabled: !H(s).connected || H(s).busy,
          onChange: pe,
          "data-test": "session"
        }, [
          T[26] || (T[26] = q("option", {
            value: "",
            disabled: ""
          }, "choose a session…", -1)),
          (B(!0), W(ie, null, Ye(k.value, (E) => (B(), W("option", {
            key: E.id,
            value: E.id,
            title: E.parentId ? "fork of " + (p.value[E.parentId] ?? E.parentId) : ""
          }, se(E.parentId ? "↳ " : "") + se(E.title), 9, Ny))), 128)),
          T[27] || (T[27] = q("option", { value: "__new__" }, "+ new session", -1))
        ], 40, Oy),
        kn(q("input", {
          class: "cd-search",
          "onUpdate:modelValue": T[0] || (T[0] = (E) => H(s).searchQuery = E),
          type: "search",
          placeholder: "search sessions…",
          disabled: !H(s).connected,
          onKeydown: w,
          "data-test": "session-search",
          title: 'Words, "a phrase", prefix*, a OR b, -excluded; Enter searches'
        }, null, 40, My), [
          [Gn, H(s).searchQuery]
        ]),
        q("span", {
          class: lt(["cd-status", { "cd-status-outage": H(s).connected && H(s).outage }]),
          title: o.value,
          "data-test": "status"
        }, [
          he(se(r.value), 1),
          H(n).queuedTurns ? (B(), W(ie, { key: 0 }, [
            he(" · " + se(H(n).queuedTurns) + " queued", 1)
          ], 64)) : de("", !0)
        ], 10, Ly),
        q("button", {
          class: "cd-btn",
          disabled: !a.value,
          onClick: T[1] || (T[1] = (E) => e.ctl.cancel()),
          "data-test": "cancel",
          title: "Stop the running turn"
        }, "■", 8, Py),
        q("button", {
          class: lt(["cd-btn", { "cd-on": H(s).showSettings }]),
          onClick: T[2] || (T[2] = (E) => H(s).showSettings = !H(s).showSettings),
          "data-test": "settings",
          title: "Provider, model, skills"
        }, "⚙", 2),
        q("button", {
          class: lt(["cd-btn", { "cd-on": H(s).showLog }]),
          onClick: T[3] || (T[3] = (E) => H(s).showLog = !H(s).showLog),
          "data-test": "log-toggle",
          title: "Debug log"
        }, "≡", 2)
      ]),
      h.value ? (B(), W("div", $y, [
        T[28] || (T[28] = he(" fork of ", -1)),
        q("a", {
          href: "#",
          onClick: T[4] || (T[4] = Sn((E) => e.ctl.openParent(), ["prevent"])),
          "data-test": "fork-parent",
          title: "Switch to " + h.value.title
        }, se(h.value.title), 9, jy),
        h.value.point ? (B(), W(ie, { key: 0 }, [
          he(" at message " + se(h.value.point), 1)
        ], 64)) : de("", !0)
      ])) : de("", !0),
      H(s).searchHits ? (B(), W("div", By, [
        H(s).searchHits.length ? de("", !0) : (B(), W("div", zy, "nothing found")),
        (B(!0), W(ie, null, Ye(H(s).searchHits, (E) => (B(), W("button", {
          key: E.key,
          class: "cd-hit",
          onClick: (Y) => e.ctl.openHit(E),
          "data-session": E.sessionId
        }, [
          q("b", null, se(E.title), 1),
          T[29] || (T[29] = he()),
          q("span", Wy, se(E.kind), 1),
          T[30] || (T[30] = q("br", null, null, -1)),
          (B(!0), W(ie, null, Ye(b(E.snippet), (Y, me) => (B(), W(ie, { key: me }, [
            Y.mark ? (B(), W("mark", Jy, se(Y.text), 1)) : (B(), W(ie, { key: 1 }, [
              he(se(Y.text), 1)
            ], 64))
          ], 64))), 128))
        ], 8, Uy))), 128))
      ])) : de("", !0),
      H(s).showSettings ? (B(), W("div", qy, [
        q("label", null, [
          T[31] || (T[31] = he("Provider ", -1)),
          kn(q("select", {
            "onUpdate:modelValue": T[5] || (T[5] = (E) => H(s).form.provider = E),
            onChange: T[6] || (T[6] = (E) => e.ctl.saveConfig()),
            "data-test": "provider"
          }, [
            (B(!0), W(ie, null, Ye(H(Bg), (E) => (B(), W("option", {
              key: E,
              value: E
            }, se(E), 9, Hy))), 128))
          ], 544), [
            [Gh, H(s).form.provider]
          ])
        ]),
        q("label", null, [
          T[32] || (T[32] = he("Model ", -1)),
          kn(q("input", {
            "onUpdate:modelValue": T[7] || (T[7] = (E) => H(s).form.model = E),
            onChange: T[8] || (T[8] = (E) => e.ctl.saveConfig()),
            placeholder: "e.g. gpt-4o-mini",
            "data-test": "model"
          }, null, 544), [
            [Gn, H(s).form.model]
          ])
        ]),
        q("label", null, [
          T[33] || (T[33] = he("Base URL ", -1)),
          kn(q("input", {
            "onUpdate:modelValue": T[9] || (T[9] = (E) => H(s).form.base_url = E),
            onChange: T[10] || (T[10] = (E) => e.ctl.saveConfig()),
            placeholder: "http://127.0.0.1:11434/v1",
            "data-test": "base-url"
          }, null, 544), [
            [Gn, H(s).form.base_url]
          ])
        ]),
        q("label", Vy, [
          T[34] || (T[34] = he("System prompt ", -1)),
          kn(q("textarea", {
            "onUpdate:modelValue": T[11] || (T[11] = (E) => H(s).form.system_prompt = E),
            rows: "2",
            onChange: T[12] || (T[12] = (E) => e.ctl.saveConfig()),
            "data-test": "system-prompt"
          }, null, 544), [
            [Gn, H(s).form.system_prompt]
          ])
        ]),
        q("label", Gy, [
          T[35] || (T[35] = he("API key ", -1)),
          q("span", Ky, se(m.value ? "stored in comfyd" : "none stored") + " · sent to comfyd only, never saved in the workflow", 1),
          q("span", Xy, [
            kn(q("input", {
              "onUpdate:modelValue": T[13] || (T[13] = (E) => H(s).apiKey = E),
              type: "password",
              autocomplete: "off",
              placeholder: "sk-…",
              "data-test": "api-key"
            }, null, 512), [
              [Gn, H(s).apiKey]
            ]),
            q("button", {
              class: "cd-btn",
              onClick: T[14] || (T[14] = (E) => e.ctl.setApiKey()),
              disabled: !H(s).form.session_id,
              "data-test": "api-key-set"
            }, "set", 8, Yy)
          ])
        ])
      ])) : de("", !0),
      q("div", Zy, [
        (B(!0), W(ie, null, Ye(H(s).skills, (E) => (B(), W("label", {
          key: E.name,
          class: lt(["cd-chip", { "cd-on": f.value.includes(E.name) }]),
          title: E.description
        }, [
          q("input", {
            type: "checkbox",
            checked: f.value.includes(E.name),
            onChange: (Y) => e.ctl.toggleSkill(E.name, Y.target.checked),
            "data-skill": E.name
          }, null, 40, eb),
          he(" " + se(E.name), 1)
        ], 10, Qy))), 128)),
        H(s).skills.length ? de("", !0) : (B(), W("span", tb, [
          he(se(H(s).connected ? H(s).outage ? "waiting for the core…" : "no skills loaded" : "connecting to comfyd…"), 1),
          !H(s).connected && H(s).offlineReason ? (B(), W(ie, { key: 0 }, [
            he(" (" + se(H(s).offlineReason) + ")", 1)
          ], 64)) : de("", !0)
        ]))
      ]),
      q("div", nb, [
        q("div", {
          ref_key: "chat",
          ref: X,
          class: "cd-chat",
          "data-test": "chat"
        }, [
          v.value ? (B(), W("details", sb, [
            q("summary", rb, [
              T[36] || (T[36] = q("b", null, "Summary", -1)),
              he(" of " + se(C.value.length) + " earlier turn" + se(C.value.length === 1 ? "" : "s") + " (what the model sees now; the originals below) ", 1),
              q("div", {
                class: "cd-text cd-md",
                innerHTML: H(no)(v.value.content)
              }, null, 8, ib)
            ]),
            (B(!0), W(ie, null, Ye(C.value, (E) => (B(), W("div", {
              key: E.id,
              class: "cd-turn cd-old"
            }, [
              q("div", ob, [
                T[37] || (T[37] = q("span", { class: "cd-who" }, "you", -1)),
                he(se(E.content), 1)
              ]),
              q("div", {
                class: "cd-replies",
                style: Fs({ "--cols": Math.max(1, H(fr)(E, f.value).length) })
              }, [
                (B(!0), W(ie, null, Ye(H(fr)(E, f.value), (Y) => (B(), W("div", {
                  key: Y.skill,
                  class: lt(["cd-reply", "cd-" + Y.state]),
                  "data-skill": Y.skill
                }, [
                  q("div", ab, se(Y.skill), 1),
                  q("div", {
                    class: "cd-text cd-md",
                    innerHTML: H(no)(Y.content)
                  }, null, 8, cb)
                ], 10, lb))), 128))
              ], 4)
            ]))), 128))
          ])) : de("", !0),
          (B(!0), W(ie, null, Ye(x.value, (E) => (B(), W("div", {
            key: E.pending ? E.clientId : E.id,
            class: "cd-turn"
          }, [
            q("div", {
              class: lt(["cd-user", { "cd-failed": E.state === "failed", "cd-waiting": E.state === "waiting" }])
            }, [
              E.pending ? de("", !0) : (B(), W("span", {
                key: 0,
                class: "cd-acts",
                "data-test": "message-actions",
                "data-message": E.id
              }, [
                q("button", {
                  class: "cd-act",
                  disabled: !c.value,
                  onClick: (Y) => e.ctl.forkFrom(E.id),
                  "data-test": "fork",
                  title: "Fork from here: a new session with the history up to this message"
                }, "fork", 8, fb),
                q("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (Y) => e.ctl.revertTo(E.id),
                  "data-test": "revert",
                  title: "Revert to here: hide the later messages (kept in comfyd)"
                }, "revert", 8, db),
                q("button", {
                  class: "cd-act",
                  disabled: !u.value,
                  onClick: (Y) => e.ctl.revertTo(E.id, { canvas: !0 }),
                  "data-test": "revert-canvas",
                  title: "Revert to here and put the canvas back as it was before this turn's changes"
                }, "revert + canvas", 8, hb)
              ], 8, ub)),
              T[38] || (T[38] = q("span", { class: "cd-who" }, "you", -1)),
              he(se(E.content) + " ", 1),
              E.attachments?.length ? (B(), W("span", pb, [
                (B(!0), W(ie, null, Ye(E.attachments, (Y) => (B(), W(ie, {
                  key: Y.sha256
                }, [
                  Ee(Y) ? (B(), W("img", {
                    key: 0,
                    class: "cd-thumb",
                    src: e.ctl.attachmentUrl(Y.sha256),
                    alt: Y.name,
                    title: Y.name + (Y.width ? ` · ${Y.width}×${Y.height}` : ""),
                    onClick: (me) => e.ctl.showImage(e.ctl.attachmentUrl(Y.sha256)),
                    "data-test": "attachment"
                  }, null, 8, gb)) : (B(), W("a", {
                    key: 1,
                    class: "cd-file",
                    href: e.ctl.attachmentUrl(Y.sha256),
                    target: "_blank",
                    rel: "noopener",
                    title: Y.mime,
                    "data-test": "attachment"
                  }, se(Y.name || Y.mime), 9, mb))
                ], 64))), 128))
              ])) : de("", !0),
              E.state === "waiting" ? (B(), W("span", _b, " — waiting for comfyd, sent when it is back")) : de("", !0),
              E.error ? (B(), W("span", yb, " — " + se(E.error), 1)) : de("", !0)
            ], 2),
            q("div", {
              class: "cd-replies",
              style: Fs({ "--cols": Math.max(1, H(fr)(E, f.value).length) })
            }, [
              (B(!0), W(ie, null, Ye(H(fr)(E, f.value), (Y) => (B(), W("div", {
                key: Y.skill,
                class: lt(["cd-reply", "cd-" + Y.state]),
                "data-skill": Y.skill
              }, [
                q("div", wb, [
                  he(se(Y.skill), 1),
                  Y.state === "streaming" ? (B(), W("span", kb, "…")) : de("", !0),
                  Y.id ? (B(), W("span", {
                    key: 1,
                    class: "cd-acts",
                    "data-test": "reply-actions",
                    "data-message": Y.id
                  }, [
                    q("button", {
                      class: "cd-act",
                      disabled: !c.value,
                      onClick: (me) => e.ctl.forkFrom(Y.id),
                      "data-test": "fork",
                      title: "Fork from here: a new session with the history up to this reply"
                    }, "fork", 8, xb),
                    q("button", {
                      class: "cd-act",
                      disabled: !u.value,
                      onClick: (me) => e.ctl.revertTo(Y.id),
                      "data-test": "revert",
                      title: "Revert to here: hide the later messages (kept in comfyd)"
                    }, "revert", 8, Ab)
                  ], 8, vb)) : de("", !0)
                ]),
                q("div", {
                  class: "cd-text cd-md",
                  innerHTML: H(no)(Y.content)
                }, null, 8, Rb),
                Y.error ? (B(), W("div", Eb, se(Y.error), 1)) : de("", !0)
              ], 10, bb))), 128))
            ], 4),
            (B(!0), W(ie, null, Ye(z(E.id), (Y) => (B(), yr(hc, {
              key: Y.id,
              run: Y,
              ctl: e.ctl
            }, null, 8, ["run", "ctl"]))), 128))
          ]))), 128)),
          (B(!0), W(ie, null, Ye(z(0), (E) => (B(), yr(hc, {
            key: E.id,
            run: E,
            ctl: e.ctl,
            class: "cd-run-loose"
          }, null, 8, ["run", "ctl"]))), 128)),
          H(n).turns.length ? de("", !0) : (B(), W("div", Cb, se(H(s).form.session_id ? "No messages yet." : "Choose or create a session, pick skills, then write below."), 1))
        ], 512),
        H(s).showLog ? (B(), W("div", {
          key: 0,
          ref_key: "logBox",
          ref: ue,
          class: "cd-log",
          "data-test": "log"
        }, [
          (B(!0), W(ie, null, Ye(H(n).logs, (E, Y) => (B(), W("div", {
            key: E.seq + ":" + Y,
            class: lt("cd-l-" + E.level)
          }, [
            q("b", null, se(E.level), 1),
            he(" " + se(E.module), 1),
            E.skill ? (B(), W(ie, { key: 0 }, [
              he(" [" + se(E.skill) + "]", 1)
            ], 64)) : de("", !0),
            he(": " + se(E.message), 1)
          ], 2))), 128)),
          H(n).logs.length ? de("", !0) : (B(), W("div", Sb, "no debug output yet"))
        ], 512)) : de("", !0)
      ]),
      (B(), yr(Bd, { to: "body" }, [
        H(s).image ? (B(), W("div", {
          key: 0,
          ref_key: "overlay",
          ref: ee,
          class: "comfyd-image-overlay",
          tabindex: "0",
          onClick: $,
          onKeydown: $,
          "data-test": "image-overlay"
        }, [
          q("img", {
            src: H(s).image,
            alt: "full size"
          }, null, 8, Db),
          q("a", {
            href: H(s).image,
            target: "_blank",
            rel: "noopener",
            onClick: T[15] || (T[15] = Sn(() => {
            }, ["stop"]))
          }, "open in a new tab", 8, Tb)
        ], 544)) : de("", !0)
      ])),
      H(s).staleRevert ? (B(), W("div", Ib, [
        he(se(H(s).staleRevert.message) + " ", 1),
        q("span", Fb, [
          q("button", {
            class: "cd-btn",
            onClick: T[16] || (T[16] = (E) => e.ctl.revertTo(H(s).staleRevert.messageId, { canvas: !0, force: !0 })),
            "data-test": "revert-force"
          }, "restore the canvas anyway"),
          q("button", {
            class: "cd-btn",
            onClick: T[17] || (T[17] = (E) => e.ctl.revertTo(H(s).staleRevert.messageId)),
            "data-test": "revert-keep-canvas"
          }, "revert, keep the canvas"),
          q("button", {
            class: "cd-btn",
            onClick: T[18] || (T[18] = (E) => H(s).staleRevert = null),
            "data-test": "revert-dismiss"
          }, "dismiss")
        ])
      ])) : de("", !0),
      H(n).lastRevert && !H(s).staleRevert ? (B(), W("div", Ob, [
        he(se(H(n).lastRevert.hidden) + " later message(s) hidden by a revert ", 1),
        q("button", {
          class: "cd-btn",
          disabled: !u.value,
          onClick: T[19] || (T[19] = (E) => e.ctl.unrevert()),
          "data-test": "unrevert",
          title: "Bring the hidden messages back (the canvas stays as it is: Ctrl+Z in the tab undoes a restore)"
        }, "undo revert", 8, Nb)
      ])) : de("", !0),
      l.value ? (B(), W("div", Mb, se(l.value), 1)) : de("", !0),
      H(s).attachments.length ? (B(), W("div", Lb, [
        (B(!0), W(ie, null, Ye(H(s).attachments, (E) => (B(), W("span", {
          key: E.key,
          class: lt(["cd-chip cd-att", "cd-att-" + E.state]),
          title: E.error || E.mime,
          "data-state": E.state
        }, [
          E.preview ? (B(), W("img", {
            key: 0,
            class: "cd-chip-thumb",
            src: E.preview,
            alt: ""
          }, null, 8, $b)) : de("", !0),
          he(" " + se(E.name), 1),
          E.state === "uploading" ? (B(), W(ie, { key: 1 }, [
            he(" …")
          ], 64)) : de("", !0),
          E.error ? (B(), W(ie, { key: 2 }, [
            he(" — " + se(E.error), 1)
          ], 64)) : de("", !0),
          q("button", {
            class: "cd-x",
            onClick: (Y) => e.ctl.removeAttachment(E.key),
            title: "Remove"
          }, "×", 8, jb)
        ], 10, Pb))), 128))
      ])) : de("", !0),
      q("div", Bb, [
        q("button", {
          class: "cd-btn",
          disabled: !H(s).connected,
          onClick: T[20] || (T[20] = (E) => xe.value?.click()),
          title: "Attach images or text files (or drop, or paste)",
          "data-test": "attach"
        }, "+", 8, zb),
        q("input", {
          ref_key: "picker",
          ref: xe,
          type: "file",
          multiple: "",
          accept: H(Re),
          style: { display: "none" },
          onChange: oe,
          "data-test": "file"
        }, null, 40, Ub),
        kn(q("textarea", {
          "onUpdate:modelValue": T[21] || (T[21] = (E) => H(s).draft = E),
          rows: "2",
          placeholder: "Message the active skills (Enter sends, Shift+Enter newline)",
          disabled: !H(s).connected,
          onKeydown: Ie,
          onPaste: _e,
          "data-test": "input"
        }, null, 40, Wb), [
          [Gn, H(s).draft]
        ]),
        q("button", {
          class: "cd-btn cd-send",
          disabled: !J.value,
          onClick: T[22] || (T[22] = (E) => e.ctl.send()),
          "data-test": "send"
        }, "send", 8, Jb)
      ])
    ], 32));
  }
}, Hb = ".comfyd-panel{--cd-bg: var(--comfy-menu-bg, #202020);--cd-bg2: var(--comfy-input-bg, #222);--cd-fg: var(--input-text, #ddd);--cd-dim: var(--descrip-text, #999);--cd-border: var(--border-color, #4e4e4e);--cd-accent: #4a90d9;box-sizing:border-box;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;min-height:0;padding:4px;font:12px/1.35 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--cd-fg);background:var(--cd-bg);border:1px solid var(--cd-border);border-radius:6px;overflow:hidden}.comfyd-panel *{box-sizing:border-box}.comfyd-panel button,.comfyd-panel select,.comfyd-panel input,.comfyd-panel textarea{font:inherit;color:var(--cd-fg);background:var(--cd-bg2);border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel textarea{resize:none}.comfyd-panel .cd-bar{display:flex;align-items:center;gap:4px}.comfyd-panel .cd-session{flex:1;min-width:0;height:22px}.comfyd-panel .cd-status{color:var(--cd-dim);white-space:nowrap;font-size:11px}.comfyd-panel .cd-dot{width:8px;height:8px;border-radius:50%;background:#777;flex:none}.comfyd-panel .cd-idle{background:#3c9a5f}.comfyd-panel .cd-working,.comfyd-panel .cd-joining{background:#d9a23c}.comfyd-panel .cd-error,.comfyd-panel .cd-offline,.comfyd-panel .cd-outage{background:#c84a4a}.comfyd-panel .cd-status.cd-status-outage{color:#e0a050;white-space:normal}.comfyd-panel .cd-btn{height:22px;min-width:22px;padding:0 6px;cursor:pointer}.comfyd-panel .cd-btn:disabled{opacity:.45;cursor:default}.comfyd-panel .cd-btn.cd-on{border-color:var(--cd-accent);color:#fff}.comfyd-panel .cd-settings{display:grid;grid-template-columns:1fr 1fr 1fr;gap:4px 6px;padding:4px;border:1px solid var(--cd-border);border-radius:4px}.comfyd-panel .cd-settings label{display:flex;flex-direction:column;gap:2px;color:var(--cd-dim);min-width:0}.comfyd-panel .cd-settings .cd-wide{grid-column:1 / -1}.comfyd-panel .cd-settings input,.comfyd-panel .cd-settings select{height:22px;padding:0 4px}.comfyd-panel .cd-row{display:flex;gap:4px}.comfyd-panel .cd-row input{flex:1}.comfyd-panel .cd-hint{color:var(--cd-dim);font-size:11px}.comfyd-panel .cd-skills{display:flex;flex-wrap:wrap;gap:4px}.comfyd-panel .cd-chip{display:inline-flex;align-items:center;gap:3px;padding:1px 6px;border:1px solid var(--cd-border);border-radius:10px;cursor:pointer;color:var(--cd-dim);user-select:none}.comfyd-panel .cd-chip input{margin:0}.comfyd-panel .cd-chip.cd-on{border-color:var(--cd-accent);color:var(--cd-fg)}.comfyd-panel .cd-main{flex:1;min-height:0;display:flex;gap:4px}.comfyd-panel .cd-chat{flex:1;min-width:0;overflow-y:auto;display:flex;flex-direction:column;gap:6px}.comfyd-panel .cd-log{width:40%;overflow-y:auto;padding:4px;font:11px/1.3 ui-monospace,DejaVu Sans Mono,monospace;border:1px solid var(--cd-border);border-radius:4px;background:var(--cd-bg2);white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-l-WARN{color:#d9a23c}.comfyd-panel .cd-l-ERROR{color:#e06666}.comfyd-panel .cd-l-DEBUG{color:var(--cd-dim)}.comfyd-panel .cd-turn{display:flex;flex-direction:column}.comfyd-panel .cd-user{align-self:flex-end;max-width:85%;padding:3px 8px;background:#2d4a6b;border-radius:8px 8px 2px;white-space:pre-wrap;word-break:break-word}.comfyd-panel .cd-who{display:none}.comfyd-panel .cd-replies{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:4px;margin-top:3px}.comfyd-panel .cd-reply{padding:3px 6px;border:1px solid var(--cd-border);border-radius:6px;background:var(--cd-bg2);min-width:0}.comfyd-panel .cd-skill{font-size:10px;text-transform:uppercase;letter-spacing:.04em;color:var(--cd-accent)}.comfyd-panel .cd-typing{margin-left:3px;color:var(--cd-dim)}.comfyd-panel .cd-text{word-break:break-word}.comfyd-panel .cd-waiting{opacity:.75}.comfyd-panel .cd-md>:first-child{margin-top:0}.comfyd-panel .cd-md>:last-child{margin-bottom:0}.comfyd-panel .cd-md p,.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol,.comfyd-panel .cd-md pre,.comfyd-panel .cd-md blockquote,.comfyd-panel .cd-md table{margin:0 0 6px}.comfyd-panel .cd-md ul,.comfyd-panel .cd-md ol{padding-left:18px}.comfyd-panel .cd-md h1,.comfyd-panel .cd-md h2,.comfyd-panel .cd-md h3,.comfyd-panel .cd-md h4,.comfyd-panel .cd-md h5,.comfyd-panel .cd-md h6{font-size:13px;margin:6px 0 4px}.comfyd-panel .cd-md code{font:11px/1.35 ui-monospace,DejaVu Sans Mono,monospace;background:#7f7f7f2e;border-radius:3px;padding:0 3px}.comfyd-panel .cd-md pre{padding:4px 6px;overflow-x:auto;background:#00000047;border-radius:4px}.comfyd-panel .cd-md pre code{background:none;padding:0;white-space:pre}.comfyd-panel .cd-md a{color:var(--cd-accent)}.comfyd-panel .cd-md blockquote{border-left:3px solid var(--cd-border);padding-left:6px;color:var(--cd-dim)}.comfyd-panel .cd-md table{border-collapse:collapse}.comfyd-panel .cd-md th,.comfyd-panel .cd-md td{border:1px solid var(--cd-border);padding:1px 4px}.comfyd-panel .cd-failed .cd-text,.comfyd-panel .cd-err{color:#e06666}.comfyd-panel .cd-cancelled{opacity:.7}.comfyd-panel .cd-empty{margin:auto;color:var(--cd-dim);text-align:center;padding:8px}.comfyd-panel .cd-notice{color:#e0a050;font-size:11px}.comfyd-panel .cd-input{display:flex;gap:4px}.comfyd-panel .cd-input textarea{flex:1;padding:3px 5px}.comfyd-panel .cd-send{height:auto}.comfyd-panel .cd-run{margin:4px 0 2px;padding:4px 6px;border:1px solid var(--border-color, #444);border-left-width:3px;border-radius:4px;font-size:12px}.comfyd-panel .cd-run-head{display:flex;gap:4px;align-items:baseline;flex-wrap:wrap}.comfyd-panel .cd-run-queued,.comfyd-panel .cd-run-running{border-left-color:#4a90d9}.comfyd-panel .cd-run-succeeded{border-left-color:#3c9a5f}.comfyd-panel .cd-run-failed,.comfyd-panel .cd-run-unknown{border-left-color:#c0392b}.comfyd-panel .cd-run-interrupted,.comfyd-panel .cd-run-cancelled{border-left-color:#b08a2e}.comfyd-panel .cd-progress{width:100%;height:8px;margin:3px 0 1px}.comfyd-panel .cd-run-error{margin-top:2px}.comfyd-panel .cd-link{background:none;border:none;padding:0;color:#6fa8ff;text-decoration:underline;cursor:pointer;font:inherit}.comfyd-panel .cd-thumbs{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumbs img{max-width:96px;max-height:96px;border-radius:3px;cursor:zoom-in;background:#222}.comfyd-image-overlay{position:fixed;inset:0;z-index:10000;background:#000000d9;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;cursor:zoom-out}.comfyd-image-overlay img{max-width:95vw;max-height:90vh;object-fit:contain}.comfyd-image-overlay a{color:#ddd;font-size:13px}.comfyd-panel .cd-chips{display:flex;flex-wrap:wrap;gap:4px;margin-bottom:4px}.comfyd-panel .cd-att{display:inline-flex;align-items:center;gap:4px;max-width:100%}.comfyd-panel .cd-att-failed{border-color:#c44;color:#e88}.comfyd-panel .cd-att-uploading{opacity:.7}.comfyd-panel .cd-chip-thumb{width:20px;height:20px;object-fit:cover;border-radius:2px}.comfyd-panel .cd-x{background:none;border:0;color:inherit;cursor:pointer;padding:0 2px}.comfyd-panel .cd-atts{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}.comfyd-panel .cd-thumb{max-width:96px;max-height:72px;border-radius:3px;cursor:zoom-in;border:1px solid var(--cd-border, #444)}.comfyd-panel .cd-file{font-size:.9em;padding:1px 5px;border:1px solid var(--cd-border, #444);border-radius:3px}.comfyd-panel .cd-search{flex:0 1 9em;min-width:5em}.comfyd-panel .cd-hits{display:flex;flex-direction:column;gap:2px;max-height:12em;overflow-y:auto;padding:4px;border-bottom:1px solid var(--border-color, #444)}.comfyd-panel .cd-hit{text-align:left;background:none;border:1px solid transparent;color:inherit;padding:3px 4px;cursor:pointer;font:inherit}.comfyd-panel .cd-hit:hover{border-color:var(--border-color, #555)}.comfyd-panel .cd-hit mark{background:#6a5d1e;color:inherit}.comfyd-panel .cd-compacted{margin:4px 0 8px;padding:4px 6px;border:1px dashed var(--border-color, #555);border-radius:4px}.comfyd-panel .cd-compacted>summary{cursor:pointer}.comfyd-panel .cd-old{opacity:.75}.comfyd-panel .cd-acts{float:right;visibility:hidden;margin-left:6px}.comfyd-panel .cd-user:hover .cd-acts,.comfyd-panel .cd-reply:hover .cd-acts,.comfyd-panel .cd-acts:focus-within{visibility:visible}.comfyd-panel .cd-act{background:none;border:1px solid #555;border-radius:3px;color:inherit;cursor:pointer;font-size:10px;line-height:14px;margin-left:2px;padding:0 3px}.comfyd-panel .cd-act:disabled{cursor:default;opacity:.4}.comfyd-panel .cd-stale{white-space:pre-wrap}.comfyd-panel .cd-stale .cd-row{display:flex;gap:4px;margin-top:4px}.comfyd-panel .cd-forkof{padding:2px 8px;font-size:11px;color:var(--cd-dim)}.comfyd-panel .cd-forkof a{color:inherit;text-decoration:underline;cursor:pointer}", Vb = "comfyd.canvas", Gb = 1500;
function pc() {
  const e = window.comfyAPI, t = e?.app?.app, n = e?.api?.api;
  return t && n ? { app: t, api: n } : null;
}
function Ao(e, t) {
  (console[e] ?? console.log)(t);
}
function Kb(e) {
  const t = pc();
  if (t) return e(t, !1);
  let n = 0;
  const s = setInterval(() => {
    const r = pc();
    (r || ++n > Gb) && (clearInterval(s), r ? e(r, !0) : Ao("error", "comfyd: the ComfyUI frontend API never appeared; the extension is not active"));
  }, 20);
}
function Xb({ app: e, api: t }, n) {
  const s = new ap({
    fetchJson: async (c) => {
      const u = await t.fetchApi(c);
      let f = null;
      try {
        f = await u.json();
      } catch {
        f = null;
      }
      if (!u.ok) throw new Error(f?.error || f?.detail || `${c}: HTTP ${u.status}`);
      return f;
    },
    location: window.location
  }), r = gg({ app: e, LiteGraph: window.LiteGraph }), i = new ng({
    app: e,
    onLeases: (c) => r.update(c),
    api: t,
    LiteGraph: window.LiteGraph,
    connection: s,
    WebSocket: window.WebSocket,
    tabId: tg(window.sessionStorage),
    objectInfo: async () => {
      const c = await t.fetchApi("/object_info");
      return c.ok ? c.json() : null;
    },
    hasFocus: () => document.hasFocus(),
    log: Ao,
    isPanelNode: Pi,
    // Previews of agents' patches with Accept / Reject (preview.js).
    preview: new cg({ app: e, document, isPanelNode: Pi })
  }), o = {
    app: e,
    connection: s,
    WebSocket: window.WebSocket,
    createApp: ep,
    reactive: Fo,
    component: qb,
    css: Hb,
    document,
    log: Ao,
    // Runs and their outputs come through the package's routes on
    // ComfyUI's own server (same origin; it adds the bridge's token).
    getJson: async (c) => {
      const u = await t.fetchApi(c, { cache: "no-store" });
      if (!u.ok) throw new Error(`${c}: HTTP ${u.status}`);
      return u.json();
    },
    apiUrl: (c) => typeof t.apiURL == "function" ? t.apiURL(c) : `/api${c}`,
    // Attachments are uploaded the same way (the package's POST route).
    postBytes: async (c, u, f) => {
      const m = await t.fetchApi(c, { method: "POST", body: u, headers: { "Content-Type": f || "application/octet-stream" }, cache: "no-store" }), h = await m.json().catch(() => ({}));
      if (!m.ok) throw new Error(h?.error || `HTTP ${m.status}`);
      return h;
    }
  };
  let l = !1;
  const a = () => {
    l || (l = !0, t.addEventListener("graphChanged", () => i.graphChanged()), window.addEventListener("focus", () => i.setFocus(!0)), window.addEventListener("blur", () => i.setFocus(!1)), document.addEventListener("visibilitychange", () => i.setFocus(document.visibilityState === "visible" && document.hasFocus())), window.addEventListener("pointerdown", () => {
      i.touched(), i.setPointerDown(!0);
    }, !0), window.addEventListener("pointerup", () => i.setPointerDown(!1), !0), window.addEventListener("pointercancel", () => i.setPointerDown(!1), !0), window.addEventListener("keydown", () => i.touched(), !0), wg({ app: e, document }), i.start());
  };
  e.registerExtension({
    name: Vb,
    setup: a,
    afterConfigureGraph() {
      i.graphChanged();
    },
    beforeRegisterNodeDef(c, u) {
      u?.name === bo && (c.prototype.isVirtualNode = !0);
    },
    nodeCreated(c) {
      Pi(c) && Qg(c, o);
    }
  }), n && (e.rootGraph ?? e.graph) && a(), window.comfyd = Object.freeze({ editor: i, leases: r, version: "0.1.0" });
}
Kb(Xb);
