"""`pip install ./python` works offline: the package builds into a wheel with its modules.

Builds from a copy of python/ so the tree gets no build/ or .egg-info folders, without build
isolation and without an index (the interpreter's own setuptools), so it needs no network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

import support

import batchless_keras  # noqa: E402

MODULES = ["__init__.py", "init.py", "layer.py", "parametrization.py"]


class PackagingTest(unittest.TestCase):
    def test_builds_a_wheel_offline_with_every_module(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            source = os.path.join(folder, "python")
            shutil.copytree(
                support.PACKAGE_DIR,
                source,
                ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"),
            )
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "--no-deps",
                    "--no-build-isolation",
                    "--no-index",
                    "--quiet",
                    source,
                    "-w",
                    os.path.join(folder, "dist"),
                ],
                capture_output=True,
                text=True,
                timeout=180,
            )
            self.assertEqual(result.returncode, 0, result.stderr[-2000:])
            (wheel,) = os.listdir(os.path.join(folder, "dist"))
            self.assertRegex(wheel, r"^batchless_keras-\d+\.\d+\.\d+-py3-none-any\.whl$")
            with zipfile.ZipFile(os.path.join(folder, "dist", wheel)) as archive:
                names = archive.namelist()
                metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
        for module in MODULES:
            self.assertIn(f"batchless_keras/{module}", names)
        self.assertIn("Name: batchless-keras", metadata)
        version = re.search(r"^Version: (.+)$", metadata, re.M)
        self.assertIsNotNone(version)
        self.assertEqual(version.group(1), batchless_keras.__version__)
        self.assertIn("Requires-Dist: keras>=3.0", metadata)


if __name__ == "__main__":
    unittest.main()
