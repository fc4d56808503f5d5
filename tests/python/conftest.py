"""Shared pytest fixtures: the qlm binary, the shared data folder, random-model factories."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")
sys.path.insert(0, SCRIPTS)
SHARED_DATA = os.environ.get("QLM_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
PYTHON = "/usr/bin/python3"


def qlm_binary():
    return os.environ.get("QLM_BIN", os.path.join(ROOT, "build", "release", "apps", "qlm", "qlm"))


def sanitized_build():
    """True for the ASan/UBSan build: slower, and its allocator keeps freed memory in quarantine."""
    with open(qlm_binary(), "rb") as f:
        return b"__asan_init" in f.read()


def run_qlm(*args, check=True, env=None, timeout=600):
    """Runs qlm; returns CompletedProcess (text). The 1e-4 oracle tests need the F32 reference
    kernels (the fast ones round activations to int8), so QLM_ISA defaults to ref here."""
    env = dict(os.environ if env is None else env)
    env.setdefault("QLM_ISA", "ref")
    proc = subprocess.run([qlm_binary(), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"qlm {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def run_qlm_json(*args, **kw):
    return json.loads(run_qlm(*args, **kw).stdout)


def shared(*parts):
    """Path under ../shared/data, or skip the test with a printed reason."""
    path = os.path.join(SHARED_DATA, *parts)
    if not os.path.exists(path):
        pytest.skip(f"shared data not found: {path}")
    return path


@pytest.fixture(scope="session")
def make_model(tmp_path_factory):
    """make_model(name, **flags) -> folder of a random checkpoint from make_random_model.py."""
    cache = {}

    def make(name, **flags):
        if name not in cache:
            out = tmp_path_factory.mktemp("models") / name
            cmd = [PYTHON, os.path.join(SCRIPTS, "make_random_model.py"), "--out", str(out)]
            for k, v in flags.items():
                cmd += ["--" + k.replace("_", "-"), str(v)]
            subprocess.run(cmd, check=True)
            cache[name] = str(out)
        return cache[name]

    return make
