"""Builds the qlm extension with the repository's CMake (target qlm_python) and installs the .so.

QLM_CMAKE_ARGS adds configure flags; QLM_BUILD_JOBS sets the build parallelism (default 2)."""
import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.join(ROOT, "build", "pip")
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                               "-DQLM_BUILD_TESTS=OFF", f"-DPython3_EXECUTABLE={sys.executable}",
                               *shlex.split(os.environ.get("QLM_CMAKE_ARGS", ""))])
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "qlm_python",
                               "-j", os.environ.get("QLM_BUILD_JOBS", "2")])
        built = [f for f in os.listdir(os.path.join(build_dir, "python")) if f.startswith("qlm.") and f.endswith(".so")]
        if not built:
            raise RuntimeError("the CMake build produced no qlm*.so (is pybind11 installed?)")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        self.copy_file(os.path.join(build_dir, "python", built[0]), target)


setup(ext_modules=[Extension("qlm", sources=[])], cmdclass={"build_ext": CMakeBuild})
