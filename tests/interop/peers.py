"""Interop peers for the tests: find them, or FAIL (CI) / SKIP (a developer's machine).

A peer is the official Node tooling in tests/interop/node_modules (driven through peer.mjs) or
a third-party Python package from the ``test`` extra. When one is missing, ``missing_peer``
fails the test if OP_CONTINUE_REQUIRE_PEERS=1 (``.ci/run`` sets it: it installs every peer, so
a missing one is a broken install) and skips it with the install command otherwise.
"""
import importlib
import json
import os
import pathlib
import shutil
import subprocess
from types import ModuleType
from typing import Any, Dict, List, Optional

import pytest

INTEROP = pathlib.Path(__file__).resolve().parent
PEER = INTEROP / "peer.mjs"
NODE_PACKAGES = {  # exact versions, as locked in package-lock.json
    "@interledger/http-signature-utils": "2.0.3",
    "@interledger/open-payments": "7.4.0",
}
AUTH_SERVER_SPEC = (INTEROP / "node_modules" / "@interledger" / "open-payments" / "dist"
                    / "openapi" / "specs" / "auth-server.yaml")


def peers_required() -> bool:
    return os.environ.get("OP_CONTINUE_REQUIRE_PEERS", "") == "1"


def missing_peer(problem: str) -> None:
    """Fail (OP_CONTINUE_REQUIRE_PEERS=1) or skip, naming the peer and how to install it."""
    message = f"interop peer missing: {problem}"
    if peers_required():
        pytest.fail(message + " [OP_CONTINUE_REQUIRE_PEERS=1: a missing peer is a failure]",
                    pytrace=False)
    pytest.skip(message)


def node_problem() -> Optional[str]:
    """Why the Node peer cannot run, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH (install Node >= 20, then npm ci --prefix tests/interop)"
    for name, version in NODE_PACKAGES.items():
        manifest = INTEROP / "node_modules" / name / "package.json"
        if not manifest.is_file():
            return f"{name} is not installed (run: npm ci --prefix tests/interop)"
        installed = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if installed != version:
            return f"{name} is {installed}, expected {version} (run: npm ci --prefix tests/interop)"
    return None


def require_node() -> None:
    problem = node_problem()
    if problem:
        missing_peer(problem)


def require_module(module: str, dist: str) -> ModuleType:
    """Import a Python peer (from the ``test`` extra) or fail/skip."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing_peer(f"Python package {dist} is not installed (pip install -e '.[test]')")
        raise  # not reached: missing_peer raises


def run_peer(items: List[Dict[str, Any]], timeout: float = 90) -> List[Dict[str, Any]]:
    """Run ``items`` through ONE node process (peer.mjs batch op); one answer per item."""
    require_node()
    proc = subprocess.run(["node", str(PEER)], input=json.dumps({"op": "batch", "items": items}),
                          capture_output=True, text=True, timeout=timeout, cwd=str(INTEROP))
    assert proc.returncode == 0, f"peer.mjs exited {proc.returncode}: {proc.stderr[-2000:]}"
    answer = json.loads(proc.stdout)
    assert "results" in answer, answer
    results = answer["results"]
    assert len(results) == len(items)
    return results
