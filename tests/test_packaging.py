"""The installed package is the product: a wheel installed into a fresh virtualenv demos and serves from any
directory, with nothing read from the source checkout."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from tests.live import free_port

REPO = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    """The environment without what would make the checkout importable or change the registry."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NIANBAO_REGISTRY")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv holding the nianbao wheel built from this checkout. Its dependencies come from the
    test environment's site-packages (a path entry after its own), so no package index is needed."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(root / "dist"), str(REPO)], check=True, cwd=root, capture_output=True,
                   env={**_env(), "PYTHONWARNINGS": "ignore"})
    (wheel,) = (root / "dist").glob("nianbao-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=_env())
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, capture_output=True, env=_env())
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def test_the_wheel_demos_and_serves_outside_the_checkout(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import nianbao.demo, archive, crawler; print(nianbao.demo.__file__)"],
                           cwd=elsewhere, env=_env(), capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(installed)), where  # the installed copy, not the checkout

    nianbao = str(installed / "bin" / "nianbao")
    demo = subprocess.run([nianbao, "demo", "--no-serve", "--db", "demo.db", "-s", "DOWNLOAD_DELAY=0"],
                          cwd=elsewhere, env=_env(), capture_output=True, text=True, timeout=240)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert sqlite3.connect(elsewhere / "demo.db").execute("SELECT count(*) FROM report_summary").fetchone() == (5,)

    port = free_port()
    server = subprocess.Popen([nianbao, "serve", "--db", "demo.db", "--port", str(port)], cwd=elsewhere,
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        page = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/nianbao/report_summary.json?_shape=objects",
                                            timeout=5) as response:
                    page = response.read().decode("utf-8")
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert page is not None, server.stdout.read().decode(errors="replace")[-3000:] if server.poll() else ""
        assert "湘潭县数据局" in {row["agency"] for row in json.loads(page)["rows"]}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/metadata.json", timeout=5) as response:
            assert "政府信息公开工作年度报告" in json.loads(response.read())["title"]  # the packaged metadata.yml
    finally:
        server.terminate()
        server.wait(timeout=30)
