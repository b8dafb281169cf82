"""Checks that scripts/setup.sh installs everything the build and the tests
use. Run by scripts/check-deps.sh (read its header for the usage).

Every file outside the checkout that the build read or linked (headers from
`ninja -t deps` and the fuzz build's dependency files, linker inputs from the
link commands and the fuzz build's `ld --trace`, the shared libraries the
built binaries load, the tools the build commands run, the .proto files they
read) is mapped to its Debian package with `dpkg -S`. That package must be in
the closure of setup.sh's PACKAGES: the named packages plus, recursively,
every installed package their Depends and Pre-Depends name (directly or
through Provides). Recommends are not followed: setup.sh installs with
--no-install-recommends.

Python: every module file the test suites imported (recorded by
scripts/deps/pyhook while they ran) comes from a Debian package in that
closure, from the checkout itself, or from a venv built by the suites, where
the installed distribution must be named by a requirements file, a
pyproject.toml or a pinned `name==version` in a tracked script, or be a
dependency of one that is; the venv's base interpreter must itself come from
the closure.

Packages: the installed release of every package used must be one the
configured Debian archives have (a package from a third-party repository is
not what a fresh Debian 12 installs).

Node: every package that a tracked JavaScript/TypeScript/Vue file imports
is declared in the nearest package.json and locked in the package-lock.json
next to it; when installed, node_modules matches the lock exactly (what
`npm ci` does); the node that runs the suites meets every locked package's
`engines`; and no tracked script runs `npm install`.
"""
import argparse
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SELF = REPO  # the checkout this script is in: its files are its own, whatever --repo says
DPKG_BATCH = 400  # paths per `dpkg -S` call: bounded command lines


class Problems:
    def __init__(self):
        self.items = []

    def add(self, what, detail):
        self.items.append("%s: %s" % (what, detail))


# ---------------------------------------------------------------- Debian side


def setup_packages(setup_path):
    """The package names setup.sh installs: PACKAGES=( ... ) and every
    PACKAGES+=( ... ) (the conditional nodejs/npm)."""
    lines = open(setup_path, encoding="utf-8").read().splitlines()
    text = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in lines)  # comments out
    names = []
    for m in re.finditer(r"\bPACKAGES\+?=\((.*?)\)", text, re.S):
        names.extend(m.group(1).split())
    if not names:
        sys.exit("check-deps: no PACKAGES=( ... ) in %s" % setup_path)
    return names


def installed_db():
    """name -> (essential, [dependency groups]); virtual name -> providers."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f",
         "${Package}\t${Status}\t${Essential}\t${Provides}\t${Pre-Depends}, ${Depends}\n"],
        check=True, capture_output=True, text=True).stdout
    pkgs, provides = {}, {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or not parts[1].endswith(" installed"):
            continue
        name, _, essential, prov, deps = parts
        groups = []
        for group in deps.split(","):
            alts = [re.split(r"[\s(:]", a.strip(), 1)[0] for a in group.split("|")]
            alts = [a for a in alts if a]
            if alts:
                groups.append(alts)
        pkgs[name] = (essential == "yes", groups)
        for p in prov.split(","):
            p = re.split(r"[\s(:]", p.strip(), 1)[0]
            if p:
                provides.setdefault(p, []).append(name)
    return pkgs, provides


def closure(roots, pkgs, provides):
    """Every installed package reachable from roots through Pre-Depends and
    Depends. An alternative group counts every alternative that is installed
    (apt satisfies it with any of them)."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        for real in ([name] if name in pkgs else []) + provides.get(name, []):
            if real in seen:
                continue
            seen.add(real)
            for group in pkgs[real][1]:
                todo.extend(group)
    return seen


class Dpkg:
    """`dpkg -S` with a cache for the run, asked in batches."""

    def __init__(self):
        self.cache = {}

    @staticmethod
    def candidates(path):
        """The names dpkg may know a file by: the path, every symlink hop
        (update-alternatives links such as /usr/bin/cc are owned by nobody,
        their targets are), the real path, and each of them with /usr
        added or removed (Debian 12 merges /lib, /bin, /sbin into /usr, but
        packages still list the old names)."""
        out, p = [], os.path.normpath(path)
        for _ in range(16):
            out.append(p)
            if not os.path.islink(p):
                break
            p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
        out.append(os.path.realpath(path))
        more = []
        for c in out:
            for top in ("/lib", "/lib64", "/bin", "/sbin"):
                if c.startswith("/usr" + top + "/"):
                    more.append(c[4:])
                elif c.startswith(top + "/"):
                    more.append("/usr" + c)
        seen, res = set(), []
        for c in out + more:
            if c not in seen:
                seen.add(c)
                res.append(c)
        return res

    def lookup(self, paths):
        """path -> package name or None, for every path."""
        want = {p: self.candidates(p) for p in paths}
        ask = sorted({c for cs in want.values() for c in cs if c not in self.cache})
        for i in range(0, len(ask), DPKG_BATCH):
            chunk = ask[i:i + DPKG_BATCH]
            for c in chunk:
                self.cache[c] = None
            r = subprocess.run(["dpkg", "-S", "--"] + chunk, capture_output=True, text=True)
            for line in r.stdout.splitlines():
                if line.startswith("diversion by "):
                    continue
                pkg, sep, f = line.partition(": ")
                if sep and f in self.cache:
                    # "a, b: /dir" for shared directories: the first is enough.
                    self.cache[f] = pkg.split(",")[0].split(":")[0].strip()
        return {p: next((self.cache[c] for c in cs if self.cache.get(c)), None)
                for p, cs in want.items()}


def release_line(version):
    """"2:20.20.2-1nodesource1" -> "20.20": the upstream major.minor."""
    m = re.match(r"^(?:\d+:)?(\d+)\.(\d+)", version)
    return m.groups() if m else version


def not_from_archive(names):
    """name -> (installed version, the archive's version) for each package
    whose installed version comes from no configured apt source and whose
    upstream release line (major.minor) none of them offers: it came from
    elsewhere (a third-party repository since removed, a .deb by hand), and
    a fresh Debian gets another release. (An older Debian update of the
    same release line, superseded in the archive, is not reported.)"""
    res = {}
    names = sorted(names)
    for i in range(0, len(names), DPKG_BATCH):
        out = subprocess.run(["apt-cache", "policy"] + names[i:i + DPKG_BATCH],
                             capture_output=True, text=True).stdout
        pkg = installed = None
        sources = {}  # version -> [source lines]
        cur = None

        def flush():
            if pkg and installed and installed in sources and \
                    all("/var/lib/dpkg/status" in s for s in sources[installed]):
                others = [v for v in sources if v != installed]
                if not any(release_line(v) == release_line(installed) for v in others):
                    res[pkg] = (installed, others[0] if others else "none")

        for line in out.splitlines():
            if not line.startswith(" "):
                flush()
                pkg, installed, sources, cur = line.rstrip(":"), None, {}, None
            elif line.strip().startswith("Installed:"):
                installed = line.split(":", 1)[1].strip()
            elif re.match(r"^ (\*\*\*| {3}) \S", line):
                cur = line[5:].split()[0]
                sources[cur] = []
            elif cur and re.match(r"^ {8}\d+ ", line):
                sources[cur].append(line.strip())
        flush()
    return res


# ------------------------------------------------------------- build inputs


def outside(path, roots):
    p = os.path.realpath(path)
    return not any(p == r or p.startswith(r + os.sep) for r in roots)


def ninja_deps(build):
    """Headers every object of the build was compiled from."""
    out = subprocess.run(["ninja", "-C", build, "-t", "deps"], check=True,
                         capture_output=True, text=True).stdout
    files = set()
    for line in out.splitlines():
        if line.startswith("    "):
            f = line.strip()
            files.add(f if os.path.isabs(f) else os.path.normpath(os.path.join(build, f)))
    return files


def tool_path(word):
    if os.path.isabs(word):
        return word if os.path.isfile(word) else None
    if "/" in word or not re.match(r"^[\w.+-]+$", word):
        return None
    return shutil.which(word)


def lib_path(cc, name):
    """Where the compiler driver finds -lname: the .so, else the .a."""
    for f in ("lib%s.so" % name, "lib%s.a" % name):
        r = subprocess.run([cc, "-print-file-name=" + f], capture_output=True, text=True)
        p = r.stdout.strip()
        if r.returncode == 0 and os.path.isabs(p) and os.path.exists(p):
            return p
    return None


def ninja_command_inputs(build, cc):
    """Files the build commands name: the tools they run, absolute paths
    among their arguments (the .proto files of libprotobuf-dev, the shared
    and static libraries of the link lines) and every -lNAME."""
    out = subprocess.run(["ninja", "-C", build, "-t", "commands"], check=True,
                         capture_output=True, text=True).stdout
    files, libs = set(), set()
    for cmd in out.splitlines():
        for seg in re.split(r"\s*(?:&&|\|\||;|\|)\s*", cmd):
            try:
                words = shlex.split(seg)
            except ValueError:
                words = seg.split()
            if not words:
                continue
            t = tool_path(words[0])
            if t:
                files.add(t)
            for w in words[1:]:
                if w.startswith("-l") and len(w) > 2:
                    libs.add(w[2:])
                    continue
                for part in re.split(r"[=,]", w):
                    if part.startswith("-I") or part.startswith("-L"):
                        continue
                    if os.path.isabs(part) and os.path.isfile(part):
                        files.add(part)
    for name in libs:
        p = lib_path(cc, name)
        if p:
            files.add(p)
    return files


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(tree):
    res = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = [d for d in dirnames if d not in ("CMakeFiles", "node_modules", ".venv")
                       and not d.endswith("-venv") and d != "venv"]
        for n in filenames:
            p = os.path.join(dirpath, n)
            if (n.endswith(".so") or os.access(p, os.X_OK)) and os.path.isfile(p) and is_elf(p):
                res.append(p)
    return res


def loaded_libraries(binaries):
    """The shared libraries the binaries load, as the loader resolves them
    (readelf's NEEDED, followed recursively by ldd)."""
    files = set()
    for b in binaries:
        r = subprocess.run(["ldd", b], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
            if m:
                files.add(m.group(1))
    return files


def make_deps(path):
    """Files named by a make-style dependency file (clang -M)."""
    text = open(path, encoding="utf-8", errors="replace").read().replace("\\\n", " ")
    files = set()
    for line in text.splitlines():
        _, sep, rest = line.partition(": ")
        if sep:
            files.update(w for w in rest.split() if os.path.isabs(w))
    return files


def trace_inputs(path):
    """Files the linker opened, from `ld --trace` output: objects, archives
    (as "(archive)member") and shared libraries."""
    files = set()
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.strip()
        m = re.match(r"^\(?(/[^()\s]+)\)?", line)
        if m and os.path.exists(m.group(1)):
            files.add(m.group(1))
    return files


# ------------------------------------------------------------------ Python


def find_venv(path):
    d = os.path.dirname(path)
    while d and d != "/":
        if os.path.isfile(os.path.join(d, "pyvenv.cfg")):
            return d
        d = os.path.dirname(d)
    return None


def req_name(spec):
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return norm(m.group(1)) if m else None


def req_extras(spec):
    """"pyjwt[crypto]>=2" -> {"crypto"}"""
    m = re.match(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*\[([^\]]*)\]", spec)
    return {norm(e) for e in m.group(1).split(",") if e.strip()} if m else set()


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def python_roots():
    """Distributions the suites install on purpose: requirements files,
    pyproject.toml projects and their dependencies, pinned name==version
    strings in tracked scripts; plus the venv bootstrap (pip and setuptools
    come from Debian's python3-pip-whl and python3-setuptools-whl through
    `python3 -m venv`)."""
    roots = {"pip", "setuptools"}
    files = git_files()
    for f in files:
        p = os.path.join(REPO, f)
        base = os.path.basename(f)
        if re.match(r".*requirements.*\.txt$", base) or base == "constraints.txt":
            if base == "constraints.txt":
                continue  # constraints pin versions, they install nothing
            for line in open(p, encoding="utf-8"):
                line = line.split("#", 1)[0].strip()
                if line and not line.startswith("-"):
                    n = req_name(line)
                    if n:
                        roots.add(n)
        elif base == "pyproject.toml":
            text = open(p, encoding="utf-8").read()
            m = re.search(r'^\[project\].*?^name\s*=\s*"([^"]+)"', text, re.S | re.M)
            if m:
                roots.add(norm(m.group(1)))
            m = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
            if m:
                for s in re.findall(r'"([^"]+)"', m.group(1)):
                    n = req_name(s)
                    if n:
                        roots.add(n)
        elif base.endswith(".sh"):
            for spec in re.findall(r"[\"' ]([A-Za-z][A-Za-z0-9._-]*)==[0-9][^\"' ]*",
                                   open(p, encoding="utf-8").read()):
                roots.add(norm(spec))
    return roots


class Venv:
    """The distributions of one venv: which one owns a file, and the
    Requires-Dist closure of the roots."""

    def __init__(self, path):
        self.path = path
        self.owner = {}
        self.requires = {}
        for info in glob.glob(os.path.join(path, "lib", "python*", "site-packages", "*.dist-info")):
            site = os.path.dirname(info)
            meta = os.path.join(info, "METADATA")
            name, reqs = None, []
            if os.path.isfile(meta):
                for line in open(meta, encoding="utf-8", errors="replace"):
                    if not line.strip():
                        break
                    if line.startswith("Name:"):
                        name = norm(line[5:].strip())
                    elif line.startswith("Requires-Dist:"):
                        # (name, extras it asks for, the extra of ours it
                        # belongs to or None)
                        spec = line[14:].strip()
                        m = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", spec)
                        n = req_name(spec)
                        if n:
                            reqs.append((n, req_extras(spec.split(";")[0]),
                                         norm(m.group(1)) if m else None))
            if not name:
                continue
            self.requires[name] = reqs
            rec = os.path.join(info, "RECORD")
            if os.path.isfile(rec):
                for line in open(rec, encoding="utf-8", errors="replace"):
                    f = line.split(",", 1)[0]
                    if f:
                        self.owner[os.path.normpath(os.path.join(site, f))] = name

    def local_roots(self):
        """Requirements a suite copied into the venv it built from them
        (tests/mcp, scripts/comfyui-venv.sh: files outside the checkout)."""
        roots = set()
        for f in glob.glob(os.path.join(self.path, "requirements*.txt")):
            for line in open(f, encoding="utf-8", errors="replace"):
                line = line.split("#", 1)[0].strip()
                if line and not line.startswith("-"):
                    n = req_name(line)
                    if n:
                        roots.add(n)
        return roots

    def allowed(self, roots):
        """Installed distributions reachable from roots through
        Requires-Dist, following the extras each requirement asks for
        (pyjwt[crypto] brings cryptography). Environment markers other than
        extras are not evaluated: a distribution installed in this venv and
        required under some marker counts."""
        roots = set(roots) | self.local_roots()
        done, todo = set(), [(r, None) for r in roots if r in self.requires]
        while todo:
            key = todo.pop()
            if key in done:
                continue
            done.add(key)
            name, extra = key
            for dep, extras, under in self.requires.get(name, []):
                if under is not None and under != extra:
                    continue
                if dep in self.requires:
                    todo.append((dep, None))
                    todo.extend((dep, e) for e in extras)
        return {n for n, _ in done}

    def base_interpreter(self):
        for line in open(os.path.join(self.path, "pyvenv.cfg"), encoding="utf-8"):
            k, _, v = line.partition("=")
            if k.strip() == "home":
                for n in ("python3", "python"):
                    p = os.path.join(v.strip(), n)
                    if os.path.exists(p):
                        return os.path.realpath(p)
        return None


def python_modules(log_dir):
    """origin file -> interpreter, from the hook's logs."""
    mods = {}
    for f in glob.glob(os.path.join(log_dir, "*.log")):
        for line in open(f, encoding="utf-8", errors="surrogateescape"):
            origin, _, exe = line.rstrip("\n").partition("\t")
            if origin and origin not in mods:
                mods[origin] = exe
    return mods


# -------------------------------------------------------------------- Node

IMPORT_RE = re.compile(
    r"""(?:^|[^\w.$])(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]"""
    r"""|(?:^|[^\w.$])import\s*['"]([^'"]+)['"]"""
    r"""|(?:^|[^\w.$])(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)""", re.M)


def git_files():
    """The checkout's files: git's list, or in a copy without git metadata
    every file outside the folders the builds and installs make."""
    r = subprocess.run(["git", "-C", REPO, "ls-files", "-z"], capture_output=True, text=True)
    if r.returncode == 0:
        return [f for f in r.stdout.split("\0") if f]
    res = []
    for dirpath, dirnames, filenames in os.walk(REPO):
        dirnames[:] = [d for d in dirnames if d not in ("node_modules", ".git", ".venv", "var")
                       and not (dirpath == REPO and d.startswith("build"))]
        res.extend(os.path.relpath(os.path.join(dirpath, n), REPO) for n in filenames)
    return res


def node_builtins():
    out = subprocess.run(["node", "-p", "require('module').builtinModules.join(' ')"],
                         check=True, capture_output=True, text=True).stdout
    return set(out.split())


def _ver(text):
    parts = re.findall(r"\d+", text)[:3]
    return tuple(int(x) for x in parts + ["0"] * (3 - len(parts))) if parts else None


def satisfies(version, rng):
    """Whether version (a tuple) meets an npm engines range such as
    "^20.19.0 || >=22.12.0"; None when the range is not understood."""
    for alt in rng.split("||"):
        alt = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alt.strip())
        ok = True
        for comp in alt.split():
            m = re.match(r"^(>=|<=|>|<|=|\^|~)?v?(\d+(?:\.(?:\d+|x|\*))*)$", comp)
            if comp in ("*", "x", ""):
                continue
            if not m:
                return None
            op, v = m.group(1) or "", m.group(2)
            exact = [int(p) for p in v.split(".") if p.isdigit()]
            base = _ver(v)
            if op == ">=":
                ok &= version >= base
            elif op == ">":
                ok &= version > base
            elif op == "<=":
                ok &= version <= base
            elif op == "<":
                ok &= version < base
            elif op == "^":
                top = next((i for i, p in enumerate(base) if p), 2)
                upper = base[:top] + (base[top] + 1,) + (0,) * (2 - top)
                ok &= base <= version < upper
            elif op == "~":
                upper = (base[0], base[1] + 1, 0) if len(exact) > 1 else (base[0] + 1, 0, 0)
                ok &= base <= version < upper
            else:  # "=" or a bare version: every given part matches
                ok &= tuple(version[:len(exact)]) == tuple(exact)
        if ok:
            return True
    return False


def check_node(problems):
    files = git_files()
    builtins = node_builtins()
    manifests = {}
    checked = 0
    for f in files:
        if not re.search(r"\.(m?js|cjs|ts|mts|vue)$", f) or "/dist/" in "/" + f:
            continue
        text = open(os.path.join(REPO, f), encoding="utf-8", errors="replace").read()
        # Comments mention imports too; drop them (not strings: a URL's //).
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"(?m)^\s*//.*$", " ", text)
        for m in IMPORT_RE.finditer(text):
            spec = next(g for g in m.groups() if g)
            if spec.startswith((".", "/", "node:", "data:", "http:", "https:", "virtual:")):
                continue
            parts = spec.split("/")
            name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
            if name in builtins:
                continue
            checked += 1
            d = os.path.dirname(os.path.join(REPO, f))
            while d.startswith(REPO) and not os.path.isfile(os.path.join(d, "package.json")):
                d = os.path.dirname(d)
            if not d.startswith(REPO):
                problems.add(f, "imports %s but no package.json declares it" % name)
                continue
            if d not in manifests:
                pj = json.load(open(os.path.join(d, "package.json"), encoding="utf-8"))
                lock_path = os.path.join(d, "package-lock.json")
                lock = json.load(open(lock_path, encoding="utf-8")) if os.path.isfile(lock_path) else None
                declared = set()
                for k in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
                    declared.update(pj.get(k, {}))
                manifests[d] = (pj.get("name"), declared, lock)
            own, declared, lock = manifests[d]
            rel = os.path.relpath(d, REPO)
            if name == own:
                continue
            if name not in declared:
                problems.add(f, "imports %s, not declared in %s/package.json" % (name, rel))
            elif lock is None:
                problems.add(f, "imports %s; %s has no package-lock.json for npm ci" % (name, rel))
            elif "node_modules/" + name not in lock.get("packages", {}):
                problems.add(f, "imports %s, missing from %s/package-lock.json" % (name, rel))
    # The Node that runs the suites meets every locked package's engines.
    node_version = _ver(subprocess.run(["node", "--version"], capture_output=True,
                                       text=True).stdout)
    for d, (_, _, lock) in sorted(manifests.items()):
        for k, v in (lock or {}).get("packages", {}).items():
            rng = (v.get("engines") or {}).get("node") if isinstance(v.get("engines"), dict) else None
            if not k or v.get("optional") or not rng:
                continue
            if satisfies(node_version, rng) is False:
                problems.add(os.path.relpath(os.path.join(d, k), REPO),
                             "%s needs Node %s; node is %s" % (v.get("version"), rng,
                                                              ".".join(map(str, node_version))))
    # Installed trees must be exactly the lock (npm ci), when present.
    for d, (_, _, lock) in sorted(manifests.items()):
        hidden = os.path.join(d, "node_modules", ".package-lock.json")
        if lock is None or not os.path.isfile(hidden):
            continue
        inst = json.load(open(hidden, encoding="utf-8")).get("packages", {})
        locked = lock.get("packages", {})
        for k, v in inst.items():
            if k not in locked or locked[k].get("version") != v.get("version"):
                problems.add(os.path.relpath(os.path.join(d, k), REPO),
                             "installed %s but package-lock.json has %s (not installed with npm ci)"
                             % (v.get("version"), locked.get(k, {}).get("version", "nothing")))
    for f in files:
        if f.endswith(".sh") or f.startswith(".ci/"):
            p = os.path.join(REPO, f)
            if not os.path.isfile(p):
                continue
            for i, line in enumerate(open(p, encoding="utf-8", errors="replace"), 1):
                code = line.split("#", 1)[0]
                if re.search(r"\bnpm\s+(install|i|add)\b", code):
                    problems.add("%s:%d" % (f, i), "runs npm install (rewrites the lockfile); use npm ci")
    return checked


# -------------------------------------------------------------------- main


def main():
    global REPO
    ap = argparse.ArgumentParser(prog="check-deps")
    ap.add_argument("--setup", default=os.path.join(REPO, "scripts", "setup.sh"))
    ap.add_argument("--build", action="append", default=[], help="a ninja build dir")
    ap.add_argument("--fuzz", action="append", default=[], help="fuzz/run.sh's output dir")
    ap.add_argument("--python-log", help="COMFYD_DEPS_PYLOG of a test run")
    ap.add_argument("--no-node", action="store_true")
    ap.add_argument("--repo", help="the checkout to scan for Node imports and Python "
                    "requirements (default: this one)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.repo:
        REPO = os.path.realpath(args.repo)

    problems = Problems()
    names = setup_packages(args.setup)
    pkgs, provides = installed_db()
    roots = list(names)
    # Debian Policy 3.8: Essential packages are on every Debian system and
    # other packages must not declare dependencies on them, so no Depends
    # chain leads to them (libc-bin, dpkg, coreutils, ...). They are the one
    # allowance beyond setup.sh's closure.
    roots += [n for n, (essential, _) in pkgs.items() if essential]
    allowed = closure(roots, pkgs, provides)
    for n in names:
        if n not in pkgs and n not in provides:
            problems.add(args.setup, "names %s, which is not installed here" % n)

    # path -> what used it
    used = {}
    skip = sorted({REPO, SELF}) + [os.path.realpath(b) for b in args.build + args.fuzz] + ["/tmp", "/proc", "/dev"]

    def use(paths, why):
        for p in paths:
            if outside(p, skip):
                used.setdefault(os.path.normpath(p), why)

    cc = "cc"
    for b in args.build:
        cache = os.path.join(b, "CMakeCache.txt")
        for line in open(cache, encoding="utf-8"):
            if line.startswith("CMAKE_C_COMPILER:"):
                cc = line.split("=", 1)[1].strip()
        use(ninja_deps(b), "header in " + b)
        use(ninja_command_inputs(b, cc), "build command input in " + b)
        use(loaded_libraries(elf_files(b)), "library loaded by a binary of " + b)
        use([cc], "compiler of " + b)
        # Tools CMake found at configure time (pkg-config, protoc-c, the
        # compilers) and ninja, which runs the commands.
        for line in open(cache, encoding="utf-8"):
            m = re.match(r"^[\w-]+:FILEPATH=(/.+)$", line.strip())
            if m and os.path.isfile(m.group(1)):
                use([m.group(1)], "tool found by CMake in " + b)
        use([shutil.which("ninja") or "ninja"], "build tool of " + b)
    for fz in args.fuzz:
        for d in glob.glob(os.path.join(fz, "*.d")):
            use(make_deps(d), "header of the fuzz build (" + os.path.basename(d) + ")")
        for t in glob.glob(os.path.join(fz, "*.inputs")):
            use(trace_inputs(t), "linker input of the fuzz build (" + os.path.basename(t) + ")")
        bins = [p for p in glob.glob(os.path.join(fz, "fuzz_*")) if is_elf(p)]
        use(loaded_libraries(bins), "library loaded by a fuzz target")
        clang = shutil.which("clang")
        if clang:
            use([clang], "compiler of the fuzz build")
        if args.fuzz and not glob.glob(os.path.join(fz, "*.inputs")):
            problems.add(fz, "no *.inputs files: run fuzz/run.sh first")

    py_count = 0
    if args.python_log:
        mods = python_modules(args.python_log)
        py_count = len(mods)
        if not mods:
            problems.add(args.python_log, "no Python imports recorded (hook not active?)")
        py_roots = python_roots()
        venvs = {}
        stray = {}  # (venv, distribution) -> files imported from it
        for origin, exe in sorted(mods.items()):
            if not os.path.exists(origin):
                continue  # a temporary file of a test, gone since
            v = find_venv(origin)
            if v:
                if v not in venvs:
                    venvs[v] = Venv(v)
                    venvs[v].ok = venvs[v].allowed(py_roots)
                    base = venvs[v].base_interpreter()
                    if base:
                        use([base], "base interpreter of the venv " + v)
                    else:
                        problems.add(v, "venv without a base interpreter")
                ve = venvs[v]
                dist = ve.owner.get(os.path.normpath(origin))
                if dist is None and origin.startswith(os.path.join(v, "lib")):
                    problems.add(origin, "imported from the venv %s but installed by no pip "
                                 "distribution" % v)
                elif dist is not None and dist not in ve.ok:
                    stray.setdefault((v, dist), []).append(origin)
                continue
            if outside(origin, skip):
                use([origin], "Python module imported by the tests")
        for (v, dist), files in sorted(stray.items()):
            problems.add(files[0], "distribution %s in %s is named by no requirements file, "
                         "pyproject.toml or pinned spec in a script, nor required by one%s"
                         % (dist, v, " (and %d more file(s))" % (len(files) - 1)
                            if len(files) > 1 else ""))
        for exe in sorted(set(mods.values())):
            if exe and find_venv(exe) is None:
                use([os.path.realpath(exe)], "Python interpreter of the tests")

    if not args.no_node:
        for tool in ("node", "npm"):
            p = shutil.which(tool)
            if p:
                use([os.path.realpath(p)], "the test suites' " + tool)
    owners = Dpkg().lookup(sorted(used))
    bad_pkgs = {}
    for path, pkg in sorted(owners.items()):
        if pkg is None:
            problems.add(path, "no Debian package provides it (%s)" % used[path])
        elif pkg not in allowed:
            bad_pkgs.setdefault(pkg, []).append(path)
    # The right package, but not Debian's version: what a fresh Debian 12
    # installs differs from what the tests ran with.
    # COMFYD_DEPS_NOT_DEBIAN_OK names packages a machine deliberately takes
    # from elsewhere (e.g. nodejs from a newer Node repository); they are
    # listed, not failed. scripts/test.sh does not set it.
    not_debian_ok = set(os.environ.get("COMFYD_DEPS_NOT_DEBIAN_OK", "").split())
    for pkg, (have, debian) in sorted(not_from_archive(set(owners.values()) - {None}).items()):
        paths = [p for p, o in owners.items() if o == pkg]
        if pkg in not_debian_ok:
            print("check-deps: note: %s %s is not Debian's (%s), allowed by "
                  "COMFYD_DEPS_NOT_DEBIAN_OK" % (pkg, have, debian))
            continue
        problems.add(pkg, "installed %s is from no configured Debian archive (a fresh Debian "
                     "gets %s); used for %s (%s)" % (have, debian, paths[0], used[paths[0]]))
    for pkg, paths in sorted(bad_pkgs.items()):
        problems.add(pkg, "not in setup.sh's PACKAGES nor pulled in by one; needed for %s (%s)%s"
                     % (paths[0], used[paths[0]],
                        " and %d more file(s)" % (len(paths) - 1) if len(paths) > 1 else ""))

    node_count = 0 if args.no_node else check_node(problems)

    if args.verbose:
        try:
            for path, pkg in sorted(owners.items()):
                print("%s\t%s\t%s" % (pkg, path, used[path]))
        except BrokenPipeError:  # -v | head
            sys.stderr.close()
            return 0
    if problems.items:
        for p in problems.items:
            print("check-deps: FAIL %s" % p, file=sys.stderr)
        return 1
    print("check-deps: ok: %d files from %d Debian packages (closure of %d named in %s: %d "
          "packages), %d Python module files, %d Node imports"
          % (len(owners), len(set(owners.values())), len(names), os.path.relpath(args.setup, REPO)
             if args.setup.startswith(REPO) else args.setup, len(allowed), py_count, node_count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
