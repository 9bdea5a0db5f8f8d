"""Runs the binding's unittest modules (test_*.py beside this file) and
prints one PASS, FAIL or SKIP line per test; exit status 1 if any failed."""
import os
import sys
import traceback
import unittest


class LineResult(unittest.TestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"PASS {test.id()}", flush=True)

    def _failed(self, test, err):
        print(f"FAIL {test.id()}", flush=True)
        for line in "".join(traceback.format_exception(*err)).splitlines():
            print(f"    {line}", flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._failed(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._failed(test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failed(subtest, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print(f"SKIP {test.id()}: {reason}", flush=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    suite = unittest.defaultTestLoader.discover(here, top_level_dir=here)
    result = LineResult()
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
