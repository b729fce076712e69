#!/usr/bin/env python3
"""Benchmark op_continue against the Ed25519 floor and its peers.

One run measures, on this machine, medians over repeated batches:

  1. floor      PyNaCl SigningKey.sign of the same signature base + hashlib.sha512 of the body
  2. op         op_continue.sign_request(...) of a complete continuation request (public API)
  3. pyauth     the same request signed with http-message-signatures (PyPI), SDK-like settings
  4. node       createHeaders() of @interledger/http-signature-utils, timed inside Node
  5. e2e        N sequential continuations on loopback: op_continue.Client vs unsigned requests
                vs the official JS client's grant.continue (timed inside Node)
  6. cold       op-continue --help, import op_continue, import requests+nacl, op-continue hash,
                import requests, python -c pass (hyperfine when installed, else subprocess
                timing); and which of requests, nacl, argparse importing op_continue loads

and prints one table with the ratios next to the issue's targets (PASS/MISS), then writes it to
bench/RESULTS.md with the machine, versions and date. Use ``bash bench/run`` (it prepares the
venv and the Node install); ``python bench/run.py --help`` for the knobs. No timing assertion
lives in the test suite: this is a script.

``--module DIR`` benchmarks the op_continue.py found in DIR instead of the installed one (used to
measure a proposed patch on a copy); ``--profile`` prints a cProfile of sign_request and exits.
"""

# ruff: noqa: S105, S110, S603, S607  (fixed demo token; subprocesses of our own commands)
import argparse
import base64
import datetime
import gc
import hashlib
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
INTEROP = ROOT / "tests" / "interop"

# One continuation request, the same for every contender.
SEED = bytes(range(32))
KEY_ID = "bench-key-1"
URI = "https://auth.example.com/continue/4CF492MLVMSW9MKMXKHQ"
TOKEN = "33OMUKMKSKU80UPRY5NM"
INTERACT_REF = "4IFWWIKYBC2PQ6U56NL1"
COVERED = ("@method", "@target-uri", "authorization", "content-digest", "content-length",
           "content-type")


# --------------------------------------------------------------------------------------------
# timing helpers


def median(xs: List[float]) -> float:
    return statistics.median(xs)


def quartiles(xs: List[float]) -> Tuple[float, float]:
    if len(xs) < 4:
        return min(xs), max(xs)
    q = statistics.quantiles(xs, n=4)
    return q[0], q[2]


def time_batch(fn: Callable[[], Any], n: int) -> float:
    """Seconds per call, one batch of n calls, with the cyclic GC off as timeit does."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n
    finally:
        if enabled:
            gc.enable()


def interleaved(fns: Dict[str, Callable[[], Any]], n: int, rounds: int,
                warmup: int = 2) -> Dict[str, List[float]]:
    """Per-op seconds for each batch; contenders alternate batch by batch so drift hits all."""
    for _ in range(warmup):
        for fn in fns.values():
            time_batch(fn, n)
    out: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            out[name].append(time_batch(fn, n))
    return out


# --------------------------------------------------------------------------------------------
# 1-3: in-process signers


def make_signers(oc: Any) -> Tuple[Dict[str, Callable[[], Any]], Dict[str, Any]]:
    import nacl.signing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

    key = oc.PrivateKey.from_seed(SEED)

    def op_sign() -> Any:
        return oc.sign_request("POST", URI, key=key, key_id=KEY_ID, access_token=TOKEN,
                               body=oc.continue_body(INTERACT_REF))

    sample = op_sign()
    base = sample.signature_base.encode("ascii")
    body = sample.body
    nacl_key = nacl.signing.SigningKey(SEED)

    def floor() -> Any:
        hashlib.sha512(body).digest()
        return nacl_key.sign(base).signature

    # http-message-signatures, configured like the SDK: label sig1, Ed25519, the six components,
    # keyid + created (no alg). The library has no JSON or Content-Digest policy of its own for
    # this case, so a user writes the compact body and the digest with hashlib + base64.
    crypto_key = Ed25519PrivateKey.from_private_bytes(SEED)

    class Resolver(HTTPSignatureKeyResolver):
        def resolve_private_key(self, key_id: str) -> Any:
            return crypto_key

    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Resolver())

    class Request:
        __slots__ = ("headers", "method", "url")

        def __init__(self, method: str, url: str, headers: Dict[str, str]) -> None:
            self.method, self.url, self.headers = method, url, headers

    def pyauth_sign() -> Any:
        data = json.dumps({"interact_ref": INTERACT_REF}, separators=(",", ":")).encode()
        digest = "sha-512=:" + base64.b64encode(hashlib.sha512(data).digest()).decode() + ":"
        request = Request("POST", URI, {
            "Authorization": "GNAP " + TOKEN, "Accept": "application/json",
            "Content-Type": "application/json", "Content-Length": str(len(data)),
            "Content-Digest": digest})
        signer.sign(request, key_id=KEY_ID, label="sig1", include_alg=False,
                    covered_component_ids=COVERED, use_existing_digest=True)
        return request, data

    fns = {"floor": floor, "op": op_sign, "pyauth": pyauth_sign}
    return fns, {"key": key, "sample": sample, "pyauth_sample": pyauth_sign()}


def verify_headers(oc: Any, key: Any, headers: Dict[str, str], body: bytes, who: str) -> str:
    """Check a contender's output with op_continue's verifier: same request, same components."""
    message = oc.request_message("POST", URI, list(headers.items()), body)
    result = oc.verify_message(message, key.public_key, required=[f'"{c}"' for c in COVERED])
    if tuple(c.strip('"') for c in result.covered) != COVERED or result.keyid != KEY_ID:
        raise SystemExit(f"{who}: unexpected covered components or keyid: {result}")
    return result.base


# --------------------------------------------------------------------------------------------
# 4, 5: Node


def node_available() -> Optional[str]:
    node = shutil.which("node")
    if node is None or not (INTEROP / "node_modules" / "@interledger").is_dir():
        return None
    return node


def run_node(script: str, payload: Dict[str, Any], timeout: float = 120) -> Dict[str, Any]:
    proc = subprocess.run([node_available() or "node", str(BENCH / script)],
                          input=json.dumps(payload), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    result: Dict[str, Any] = json.loads(proc.stdout)
    return result


class Server:
    """bench/server.py in its own process (no shared GIL with the client)."""

    def __enter__(self) -> "Server":
        self.tmp = tempfile.mkdtemp(prefix="op-bench-")
        port_file = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen([sys.executable, str(BENCH / "server.py"), port_file, "300"],
                                     stdin=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("bench server did not start")
            time.sleep(0.02)
        with open(port_file) as handle:
            self.port = int(handle.read())
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the server stops when its stdin closes
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def bench_e2e(oc: Any, key: Any, n: int, rounds: int, node_ok: bool) -> Dict[str, Any]:
    import requests

    out: Dict[str, Any] = {}
    with Server() as server:
        base = f"http://127.0.0.1:{server.port}"
        uri = f"{base}/continue/1"
        client = oc.Client(key, KEY_ID, session=requests.Session(), allow_http=True)
        grant = client.continue_grant(uri, TOKEN, INTERACT_REF)
        if not grant.is_finalized:
            raise SystemExit("e2e: op_continue did not read a finalized grant")
        plain = requests.Session()
        body = json.dumps({"interact_ref": INTERACT_REF}, separators=(",", ":")).encode()
        headers = {"Authorization": "GNAP " + TOKEN, "Content-Type": "application/json",
                   "Accept": "application/json"}

        def op_e2e() -> Any:
            return client.continue_grant(uri, TOKEN, INTERACT_REF)

        def plain_e2e() -> Any:
            response = plain.post(uri, data=body, headers=headers, timeout=10)
            response.raise_for_status()
            return response.json()

        # The same bytes op_continue sends (signed once, outside the timing), sent unsigned:
        # what requests itself costs for the protocol's nine headers, without any signing.
        signed = client.sign("POST", uri, access_token=TOKEN, body=oc.continue_body(INTERACT_REF))
        wire_headers = dict(signed.headers)

        def wire_e2e() -> Any:
            response = plain.post(uri, data=signed.body, headers=wire_headers, timeout=10)
            response.raise_for_status()
            return response.json()

        times = interleaved({"op": op_e2e, "plain": plain_e2e, "wire": wire_e2e}, n, rounds,
                            warmup=1)
        out.update(times)
        if node_ok:
            result = run_node("node_e2e.mjs", {
                "privateKeyPem": key.to_pem(), "keyId": KEY_ID,
                "walletAddressUrl": f"{base}/alice", "url": uri, "accessToken": TOKEN,
                "interactRef": INTERACT_REF, "n": n, "batches": rounds, "warmup": 2})
            if result["sample"].get("access_token", {}).get("value") != "T":
                raise SystemExit(f"e2e: the JS client did not read the grant: {result['sample']}")
            out["js"] = [t / 1e6 for t in result["batches_us"]]
    return out


# --------------------------------------------------------------------------------------------
# 6: cold start

HASH_ARGS = ["hash", "--client-nonce", "VJLO6A4CATR0KRO", "--server-nonce",
             "MBDOFXG4Y5CVJCX821LH", "--grant-endpoint", "https://server.example.com/tx"]
# (the interact_ref, a secret, comes from the environment: see bench_cold)


def cold_commands() -> Dict[str, List[str]]:
    py = sys.executable
    cli = str(Path(py).with_name("op-continue"))
    return {
        "help": [cli, "--help"],
        "import_op": [py, "-c", "import op_continue"],
        "import_requests_nacl": [py, "-c", "import requests, nacl.signing"],
        "hash": [cli, *HASH_ARGS],
        "import_requests": [py, "-c", "import requests"],
        "pass": [py, "-c", "pass"],
    }


def time_commands(cmds: Dict[str, List[str]], env: Dict[str, str], runs: int,
                  warmup: int, cwd: str) -> Tuple[Dict[str, List[float]], str]:
    """Seconds per run for each command; hyperfine when installed, else subprocess timing."""
    hyperfine = shutil.which("hyperfine")
    out: Dict[str, List[float]] = {}
    if hyperfine:
        # hyperfine runs one command's runs back to back; several short rounds keep a change of
        # load on this shared machine from landing on one command only.
        rounds = max(1, runs // 5)
        names = list(cmds)
        out = {name: [] for name in names}
        with tempfile.TemporaryDirectory() as tmp:
            export = os.path.join(tmp, "h.json")
            for index in range(rounds):
                argv = [hyperfine, "-N", "--warmup", str(warmup if index == 0 else 1),
                        "--runs", str(-(-runs // rounds)), "--style", "none",
                        "--export-json", export]
                for name in names:
                    argv += ["-n", name, shlex.join(cmds[name])]
                subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                with open(export) as handle:
                    data = json.load(handle)
                for name, result in zip(names, data["results"]):
                    out[name] += list(result["times"])
        return out, f"hyperfine -N, {rounds} rounds"
    for cmd in cmds.values():
        for _ in range(warmup):
            subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    for name in cmds:
        out[name] = []
    for _ in range(runs):  # interleaved, like the in-process benches
        for name, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
            out[name].append(time.perf_counter() - start)
    return out, "subprocess"


def bench_cold(module_dir: Path, runs: int, warmup: int) -> Dict[str, Any]:
    """Both with PYTHONDONTWRITEBYTECODE=1 (as this machine sets it: op_continue.py compiled
    from source at every start; site-packages keep the .pyc pip wrote) and without it (after a
    warm-up run wrote op_continue's .pyc). Each variant imports a fresh copy of op_continue.py
    from its own temporary directory (PYTHONPATH wins over the editable install; the children
    run in another temporary directory, so ``-c``'s "" entry does not find the repo's file), so
    the repo gets no __pycache__ and the no-cache variant cannot pick up a stale one."""
    results: Dict[str, Any] = {}
    cmds = cold_commands()
    with tempfile.TemporaryDirectory(prefix="op-bench-cold-") as tmp:
        for variant in ("nopyc", "pyc"):
            src = Path(tmp) / variant
            src.mkdir()
            shutil.copy2(module_dir / "op_continue.py", src / "op_continue.py")
            env = dict(os.environ)
            env["PYTHONPATH"] = str(src)
            env["INTERACT_REF"] = INTERACT_REF
            env.pop("PYTHONPYCACHEPREFIX", None)
            if variant == "nopyc":
                env["PYTHONDONTWRITEBYTECODE"] = "1"
            else:
                env.pop("PYTHONDONTWRITEBYTECODE", None)
            probe = subprocess.run(
                [sys.executable, "-c", "import sys, op_continue; "
                 "print(sorted(m for m in ('requests', 'nacl', 'argparse') if m in sys.modules)); "
                 f"op_continue.main({HASH_ARGS!r}); "
                 "print(op_continue.__file__); print('requests' in sys.modules)"],
                env=env, cwd=tmp, capture_output=True, text=True, check=True)
            lines = probe.stdout.splitlines()
            if lines[-2] != str(src / "op_continue.py"):
                raise SystemExit(f"cold start: imported {lines[-2]}, not the copy")
            results["hash_imports_requests"] = lines[-1] == "True"
            results["import_imports"] = lines[0]
            has_pyc = any((src / "__pycache__").glob("op_continue.*.pyc"))
            if has_pyc != (variant == "pyc"):
                raise SystemExit(f"cold start: {variant}: .pyc present = {has_pyc}")
            times, tool = time_commands(cmds, env, runs, warmup, tmp)
            results[variant] = times
            results["tool"] = tool
    return results


# --------------------------------------------------------------------------------------------
# report


def versions(node_ok: bool) -> Dict[str, str]:
    out: Dict[str, str] = {"Python": platform.python_version()}
    for dist in ("op-continue", "PyNaCl", "requests", "urllib3", "http-message-signatures",
                 "cryptography", "http-sf"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "-"
    try:
        import nacl.bindings

        out["libsodium"] = nacl.bindings.sodium_version_string().decode()  # type: ignore[attr-defined]
    except Exception:  # older PyNaCl: no such binding
        pass
    if node_ok:
        out["Node"] = subprocess.run(["node", "--version"], capture_output=True, text=True,
                                     check=False).stdout.strip()
        for pkg in ("@interledger/http-signature-utils", "@interledger/open-payments",
                    "http-message-signatures"):
            path = INTEROP / "node_modules" / pkg / "package.json"
            if path.exists():
                out["npm " + pkg] = json.loads(path.read_text())["version"]
    hyperfine = shutil.which("hyperfine")
    if hyperfine:
        out["hyperfine"] = subprocess.run([hyperfine, "--version"], capture_output=True,
                                          text=True, check=False).stdout.strip().split()[-1]
    return out


def machine() -> Dict[str, str]:
    model = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {"nproc": str(os.cpu_count()), "CPU": model, "OS": platform.platform(),
            "load average (1, 5, 15 min) at the end": load + "  (other work on the machine "
            "widens the p25-p75 spreads; ratios come from interleaved batches)",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def fmt_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=200, help="calls per batch (signers)")
    parser.add_argument("--rounds", type=int, default=25, help="batches per signer")
    parser.add_argument("--e2e-n", type=int, default=100, help="continuations per batch")
    parser.add_argument("--e2e-rounds", type=int, default=9, help="batches per e2e client")
    parser.add_argument("--cold-runs", type=int, default=20, help="runs per cold-start command")
    parser.add_argument("--skip", default="", help="comma list of: node,e2e,cold")
    parser.add_argument("--module", type=Path, help="directory with an op_continue.py to "
                        "benchmark instead of the installed one (a patched copy)")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md",
                        help="where to write the table ('-': nowhere)")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of op_continue.sign_request and exit")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.module:
        sys.path.insert(0, str(args.module.resolve()))
    import op_continue as oc

    module_dir = Path(oc.__file__).resolve().parent
    print(f"op_continue from {oc.__file__}", flush=True)
    t_start = time.monotonic()

    fns, info = make_signers(oc)
    key = info["key"]
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(5000):
            fns["op"]()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)
        return 0

    # Every contender must produce a valid signature over the same six components.
    sample = info["sample"]
    verify_headers(oc, key, dict(sample.headers), sample.body, "op_continue")
    request, data = info["pyauth_sample"]
    verify_headers(oc, key, request.headers, data, "http-message-signatures")

    print("1-3: signing in process ...", flush=True)
    sign_times = interleaved(fns, args.batch, args.rounds)

    node = node_available()
    rows: List[Tuple[str, str, str, str, str]] = []  # label, time, ratio, target, verdict
    verdicts: List[Tuple[str, bool]] = []
    node_times: Optional[List[float]] = None
    if node and "node" not in skip:
        print("4: Node createHeaders ...", flush=True)
        result = run_node("node_sign.mjs", {
            "privateKeyPem": key.to_pem(), "keyId": KEY_ID, "url": URI, "accessToken": TOKEN,
            "body": sample.body.decode(), "n": args.batch, "batches": args.rounds,
            "warmup": 5})
        node_base = verify_headers(oc, key, {"Authorization": "GNAP " + TOKEN,
                                             **result["sample"]}, sample.body, "createHeaders")
        if node_base.split("\n")[:-1] != sample.signature_base.split("\n")[:-1]:
            raise SystemExit("createHeaders signed different component lines than op_continue")
        node_times = [t / 1e6 for t in result["batches_us"]]
    elif "node" not in skip:
        print("4: skipped (node or tests/interop/node_modules missing; run bash bench/run)")

    e2e: Dict[str, Any] = {}
    if "e2e" not in skip:
        print("5: end to end on loopback ...", flush=True)
        e2e = bench_e2e(oc, key, args.e2e_n, args.e2e_rounds, node is not None
                        and "node" not in skip)

    cold: Dict[str, Any] = {}
    if "cold" not in skip:
        print("6: cold start ...", flush=True)
        cold = bench_cold(module_dir, args.cold_runs, 3)

    # ---- the table ----
    def spread(xs: List[float]) -> str:
        lo, hi = quartiles(xs)
        return f"{fmt_time(median(xs))} ({fmt_time(lo)}-{fmt_time(hi)})"

    def check(label: str, ok: bool) -> str:
        verdicts.append((label, ok))
        return "PASS" if ok else "MISS"

    m = {name: median(ts) for name, ts in sign_times.items()}
    rows.append(("1 floor: PyNaCl sign(base) + sha512(body)", spread(sign_times["floor"]),
                 "1.00x floor", "", ""))
    r = m["op"] / m["floor"]
    rows.append(("2 op_continue.sign_request (public API)", spread(sign_times["op"]),
                 f"{r:.2f}x floor", "(2) ≤ 2.0x (1)", check("(2)/(1)", r <= 2.0)))
    r = m["pyauth"] / m["op"]
    rows.append(("3 http-message-signatures (pyauth)", spread(sign_times["pyauth"]),
                 f"{r:.1f}x op ({m['pyauth'] / m['floor']:.1f}x floor)", "(3)/(2) ≥ 10",
                 check("(3)/(2)", r >= 10)))
    if node_times:
        r = median(node_times) / m["op"]
        rows.append(("4 Node createHeaders (in Node)", spread(node_times),
                     f"{r:.2f}x op ({median(node_times) / m['floor']:.1f}x floor)",
                     "(no target)", ""))
    if e2e:
        r = median(e2e["op"]) / median(e2e["plain"])
        rows.append(("5 e2e unsigned requests.Session", spread(e2e["plain"]), "1.00x", "", ""))
        rows.append(("5 e2e requests sending op's exact headers, presigned", spread(e2e["wire"]),
                     f"{median(e2e['wire']) / median(e2e['plain']):.2f}x unsigned", "", ""))
        rows.append(("5 e2e op_continue Client.continue_grant", spread(e2e["op"]),
                     f"{r:.2f}x unsigned", "≤ 1.5x unsigned", check("e2e op/unsigned", r <= 1.5)))
        if "js" in e2e:
            r = median(e2e["op"]) / median(e2e["js"])
            rows.append(("5 e2e official JS grant.continue (in Node)", spread(e2e["js"]),
                         f"op = {r:.2f}x JS", "op ≤ 0.7x JS", check("e2e op/JS", r <= 0.7)))
    if cold:
        for variant, title in (("nopyc", "PYTHONDONTWRITEBYTECODE=1"), ("pyc", "with .pyc")):
            c = {name: median(ts) for name, ts in cold[variant].items()}
            base = c["import_requests_nacl"]
            rows.append((f"6 [{title}] python -c 'import requests, nacl.signing'",
                         spread(cold[variant]["import_requests_nacl"]), "baseline", "", ""))
            d = (c["import_op"] - base) * 1e3
            rows.append((f"6 [{title}] python -c 'import op_continue'",
                         spread(cold[variant]["import_op"]), f"{d:+.1f} ms vs baseline",
                         "(no target)", ""))
            d = (c["help"] - base) * 1e3
            rows.append((f"6 [{title}] op-continue --help", spread(cold[variant]["help"]),
                         f"{d:+.1f} ms vs baseline", "(no target)", ""))
            rows.append((f"6 [{title}] python -c 'import requests'",
                         spread(cold[variant]["import_requests"]), "baseline", "", ""))
            rows.append((f"6 [{title}] python -c pass", spread(cold[variant]["pass"]),
                         "baseline", "", ""))
            r = c["hash"] / c["pass"]
            rows.append((f"6 [{title}] op-continue hash …", spread(cold[variant]["hash"]),
                         f"{r:.2f}x python -c pass",
                         "≤ 3x python -c pass" if variant == "pyc" else "(no target)",
                         check("hash cold start [pyc]", r <= 3) if variant == "pyc" else ""))
        rows.append(("6 op-continue hash imports requests?",
                     "yes" if cold["hash_imports_requests"] else "no", "", "never",
                     check("hash never imports requests", not cold["hash_imports_requests"])))
        rows.append(("6 import op_continue imports requests, nacl, argparse?",
                     cold["import_imports"], "", "[] (none)",
                     check("import imports none of them", cold["import_imports"] == "[]")))

    header = ("benchmark", "median (p25-p75)", "ratio", "target", "verdict")
    table = [header, tuple("---" for _ in header), *rows]
    md = "\n".join("| " + " | ".join(row) + " |" for row in table)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in [header, *rows])
    elapsed = time.monotonic() - t_start
    passed = sum(ok for _, ok in verdicts)
    print()
    print(text)
    print(f"\n{passed}/{len(verdicts)} targets met; "
          + ("missed: " + ", ".join(lbl for lbl, ok in verdicts if not ok)
             if passed < len(verdicts) else "all met") + f"; run took {elapsed:.0f} s")

    if str(args.out) != "-":
        mach, vers = machine(), versions(node is not None)
        settings = (f"signers: {args.rounds} interleaved batches of {args.batch} calls "
                    f"(2 warm-up batches each), per-call median of batches; "
                    f"e2e: {args.e2e_rounds} batches of {args.e2e_n} sequential continuations; "
                    + (f"cold start: {cold['tool']}, {args.cold_runs} runs after 3 warm-ups"
                       if cold else "cold start: skipped"))
        lines = [
            "# Benchmark results",
            "",
            "Written by `bench/run.py` (run it with `bash bench/run`); do not edit by hand.",
            f"op_continue measured from `{Path(oc.__file__).resolve().relative_to(ROOT)}`"
            if Path(oc.__file__).resolve().is_relative_to(ROOT)
            else f"op_continue measured from `{oc.__file__}` (a copy, not the repo's file)",
            "",
            "## Machine",
            "",
            *[f"- {k}: {v}" for k, v in mach.items()],
            "",
            "## Versions",
            "",
            *[f"- {k}: {v}" for k, v in vers.items()],
            "",
            "## Results",
            "",
            settings,
            "",
            md,
            "",
            f"{passed}/{len(verdicts)} targets met"
            + ("; missed: " + ", ".join(lbl for lbl, ok in verdicts if not ok)
               if passed < len(verdicts) else "") + ".",
            "",
            "Each signer's output is checked before timing: op_continue's verifier accepts the "
            "signatures of (2), (3) and (4) over the same six components, and (4) signs the same "
            "component lines as (2). http-message-signatures writes `created` before `keyid` "
            "(the SDK and op_continue write keyid first); otherwise the requests are the same. "
            "The e2e server (bench/server.py) runs in its own process and answers every POST "
            "with one fixed finalized grant.",
            "",
        ]
        analysis = BENCH / "ANALYSIS.md"
        if analysis.exists():
            lines += ["", analysis.read_text().rstrip("\n"), ""]
        args.out.write_text("\n".join(lines))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
