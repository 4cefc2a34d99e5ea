"""Shared fixtures for the Python suite.

* The shared library is built once per session (build.sh) when it is
  missing or older than any Go source, go.mod or go.sum.
* ``fixture_server``: a local http.server on 127.0.0.1 serving the
  hand-written files under tests_py/fixtures/ in the real upstream formats;
  tests can make a path answer 500 or an HTML page with ``override``.
* ``make_classifier`` / ``classifier`` / ``loaded``: classifiers whose
  sources point at that server, with their data dir under tmp_path and the
  cache tiers off (``loaded`` has refreshed every source).
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON_DIR = ROOT / "python"
LIBRARY = PYTHON_DIR / "ipclassifier" / "_lib" / "libipclassifier.so"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The cloud lists served by the fixture server (the others would 404).
CLOUD_PROVIDERS = ["aws", "gcp", "cloudflare"]

sys.path.insert(0, str(PYTHON_DIR))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PYTHON_DIR), os.environ.get("PYTHONPATH", "")) if p)
# The tests pick every URL; the caller's environment must not.
for _var in (
    "TOR_BULK_LIST_URL", "ONIONOO_URL", "CLOUD_RANGES_BASE_URL", "DATACENTER_RANGES_URL", "HOSTING_RANGES_BASE_URL",
    "HOSTING_ASN_URL", "ASN_V4_URL", "ASN_V6_URL", "AWS_IP_RANGES_URL", "GCP_IP_RANGES_URL", "ORACLE_IP_RANGES_URL",
    "AZURE_SERVICE_TAGS_URL", "PEERINGDB_URL", "IPCLASSIFIER_DATA_DIR", "IPCLASSIFIER_ASN_PROFILE",
):  # fmt: skip
    os.environ.pop(_var, None)
# No background downloads behind a test's back: the tests of the background
# refresh turn it on themselves (auto_refresh=True).
os.environ["IPCLASSIFIER_AUTO_REFRESH"] = "0"


def _go_inputs() -> List[Path]:
    files = [ROOT / "go.mod", ROOT / "go.sum"]
    for d in ("classifier", "capi"):
        files.extend((ROOT / d).rglob("*.go"))
    return [f for f in files if f.is_file() and not f.name.endswith("_test.go")]


def _library_stale() -> bool:
    if not LIBRARY.is_file():
        return True
    built = LIBRARY.stat().st_mtime
    return any(f.stat().st_mtime > built for f in _go_inputs())


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("IPCLASSIFIER_LIBRARY"):
        return  # the caller provides the library
    if _library_stale():
        proc = subprocess.run(["bash", str(ROOT / "build.sh")], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.exit(f"build.sh failed:\n{proc.stdout}\n{proc.stderr}", returncode=3)


# ---------------------------------------------------------------------------
# Fixture HTTP server


class FixtureServer:
    """Serves tests_py/fixtures/ and records the paths requested."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.overrides: Dict[str, Tuple[int, bytes, str]] = {}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = self.path.split("?", 1)[0]
                with server.lock:
                    server.hits[path] += 1
                    override = server.overrides.get(path)
                if override is not None:
                    status, body, ctype = override
                else:
                    status, body, ctype = server.file(path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fixture-http", daemon=True)
        self.thread.start()

    def file(self, path: str) -> Tuple[int, bytes, str]:
        """The fixture at path; "x.gz" is served as the gzip of fixture "x"
        (kept uncompressed in the repository so it can be read)."""
        gz = path.endswith(".gz")
        f = (self.root / (path[:-3] if gz else path).lstrip("/")).resolve()
        if self.root not in f.parents or not f.is_file():
            return 404, b"not found\n", "text/plain"
        body = f.read_bytes()
        if gz:
            return 200, gzip.compress(body, mtime=0), "application/gzip"
        ctype = "application/json" if f.suffix == ".json" else "text/plain; charset=utf-8"
        return 200, body, ctype

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def override(self, path: str, status: int = 200, body: bytes = b"", content_type: str = "text/plain") -> None:
        with self.lock:
            self.overrides[path] = (status, body, content_type)

    def reset(self) -> None:
        with self.lock:
            self.overrides.clear()
            self.hits.clear()

    def source_urls(self) -> Dict[str, str]:
        return {
            "tor_url": f"{self.url}/tor/torbulkexitlist",
            "onionoo_url": f"{self.url}/tor/onionoo.json",
            "cloud_base_url": f"{self.url}/cloud",
            "datacenter_url": f"{self.url}/datacenter/datacenters.csv",
            "hosting_base_url": f"{self.url}/hosting",
            "hosting_asn_url": f"{self.url}/hosting/ASN.txt",
            "asn_v4_url": f"{self.url}/asn/ip2asn-v4.tsv.gz",
            "asn_v6_url": f"{self.url}/asn/ip2asn-v6.tsv.gz",
            "ipranges_base_url": f"{self.url}/ipranges",
            "scanner_url": f"{self.url}/maltrail/mass_scanner.txt",
            "vpn_base_url": f"{self.url}/vpn",
            "peeringdb_url": f"{self.url}/peeringdb/net.json",
        }

    def cli_options(self, data_dir: Path) -> List[str]:
        # The fixtures alone, as make_classifier: no bundled baseline.
        opts = ["--data-dir", str(data_dir), "--baseline-dir", "", "--cloud-providers", ",".join(CLOUD_PROVIDERS)]
        for key, url in self.source_urls().items():
            opts += ["--" + key.replace("_", "-"), url]
        return opts

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def _server() -> Iterator[FixtureServer]:
    s = FixtureServer(FIXTURES.resolve())
    yield s
    s.close()


@pytest.fixture
def fixture_server(_server: FixtureServer) -> Iterator[FixtureServer]:
    _server.reset()
    yield _server
    _server.reset()


# ---------------------------------------------------------------------------
# Classifiers

Factory = Callable[..., Any]


@pytest.fixture
def make_classifier(fixture_server: FixtureServer, tmp_path: Path) -> Iterator[Factory]:
    """make_classifier(**overrides) → IPClassifier on the fixture server."""
    from ipclassifier import create_ip_classifier

    made: List[Any] = []

    def make(**kw: Any) -> Any:
        opts: Dict[str, Any] = dict(fixture_server.source_urls())
        opts.update(
            data_dir=str(tmp_path / "data"),
            enable_cache=False,
            cloud_providers=CLOUD_PROVIDERS,
            attempts=1,
            backoff=0.01,
            http_timeout=5,
            baseline_dir="",  # the fixtures alone: test_baseline.py covers the bundled lists
        )
        opts.update(kw)
        c = create_ip_classifier(**opts)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def classifier(make_classifier: Factory) -> Any:
    """A classifier that has downloaded nothing."""
    return make_classifier()


@pytest.fixture
def loaded(make_classifier: Factory) -> Any:
    """A classifier after a forced refresh of every source."""
    c = make_classifier()
    report = c.refresh("all", force=True)
    assert report["failed"] == 0, report
    return c


collect_ignore = ["bench_classify.py"]


def pytest_report_header(config: pytest.Config) -> Optional[str]:
    return f"ipclassifier library: {LIBRARY}"
