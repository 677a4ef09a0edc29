#!/usr/bin/env python3
"""Runs the Python tests (unittest) and reports each one as a JSON line for other runners.

    python test/python/run_tests.py [test_module ...]

Human-readable progress goes to stderr. Every finished test case is one stdout line
`@@batchless-test {"module", "name", "status": pass|fail|skip, "seconds", "message"}`, which
test/unit/python-keras.test.ts turns into one node:test subtest each. Exit status 0 when all pass.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "@@batchless-test "


class JsonLinesResult(unittest.TextTestResult):
    """Emits one JSON line per test case, folding failed subTests into their test's outcome."""

    def startTest(self, test: unittest.TestCase) -> None:
        self._started = time.perf_counter()
        self._problems: list[str] = []
        self._skip: str | None = None
        super().startTest(test)

    def addError(self, test, err) -> None:
        super().addError(test, err)
        self._problems.append(self._format(err))

    def addFailure(self, test, err) -> None:
        super().addFailure(test, err)
        self._problems.append(self._format(err))

    def addSubTest(self, test, subtest, err) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._problems.append(f"{subtest._subDescription()}: {self._format(err)}")

    def addSkip(self, test, reason) -> None:
        super().addSkip(test, reason)
        self._skip = reason

    def stopTest(self, test: unittest.TestCase) -> None:
        super().stopTest(test)
        module, _, name = test.id().partition(".")
        status = "fail" if self._problems else "skip" if self._skip is not None else "pass"
        event = {
            "module": module,
            "name": name,
            "status": status,
            "seconds": round(time.perf_counter() - self._started, 3),
            "message": "\n\n".join(self._problems) or self._skip or "",
        }
        sys.stdout.write(PREFIX + json.dumps(event) + "\n")
        sys.stdout.flush()

    @staticmethod
    def _format(err) -> str:
        kind, value, tb = err
        return "".join(traceback.format_exception(kind, value, tb))[-4000:]


def main(argv: list[str]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, HERE)
    # Keras 3.15's convert_to_numpy trips a NumPy 2 DeprecationWarning on every variable read.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"keras(\.|$)")
    loader = unittest.defaultTestLoader
    if argv:
        suite = unittest.TestSuite(loader.loadTestsFromName(name) for name in argv)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(
        stream=sys.stderr, verbosity=2, resultclass=JsonLinesResult, warnings=None
    )
    result = runner.run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
