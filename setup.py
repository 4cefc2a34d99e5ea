"""Build hooks for pyproject.toml (all metadata lives there).

* build_py runs build.sh first, so the wheel (and `pip install .`) carries
  python/ipclassifier/_lib/libipclassifier.so built from this tree.
  Set IPCLASSIFIER_SKIP_GO_BUILD=1 to package an already-built library.
* The distribution declares native content (has_ext_modules), so the wheel
  is platform-specific and its files sit in platlib; bdist_wheel tags it
  py3-none-<platform>: the library is native code but loaded with ctypes,
  so it does not depend on the CPython ABI.
"""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent
LIBRARY = ROOT / "python" / "ipclassifier" / "_lib" / "libipclassifier.so"


class BuildPyWithGo(build_py):
    def run(self):
        if os.environ.get("IPCLASSIFIER_SKIP_GO_BUILD") != "1":
            subprocess.check_call(["bash", str(ROOT / "build.sh")], cwd=str(ROOT))
        if not LIBRARY.is_file():
            sys.exit(f"{LIBRARY} is missing: run build.sh (needs Go and a C compiler)")
        # The package-data globs may have been expanded before the library existed.
        self.data_files = self._get_data_files()
        super().run()


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildPyWithGo, "bdist_wheel": PlatformWheel})
