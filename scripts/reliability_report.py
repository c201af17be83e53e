"""Counts what fnrec's reliability tests tried and what came of it, as a Markdown table.

Runs the bad-input property tests (hypothesis: generated bad inputs to fnrec.stats, the
renderers, an adapter, capture and the host envs) and every test marked ``fault`` (an encoder
killed, a full disk, an interrupt, a failed write or export, a run resumed from a checkpoint),
then prints:

- bad inputs tried: every generated input, and what each gave: the reference's result, or a
  TypeError/ValueError naming the argument; any other outcome (a raw JAX/numpy error, a wrong
  result, a silently accepted bad value) fails its test and is listed;
- faults survived: fault tests passed; each asserts that nothing already recorded is lost (earlier
  videos, statistics, the env's own step result, the previous checkpoint).

Usage (from the repository root, in a venv with ``pip install -e ".[test]"``)::

    python scripts/reliability_report.py            # the fixed (derandomized) examples CI runs
    python scripts/reliability_report.py --examples 300   # 300 fresh random examples per test
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROPERTY_TESTS = [
    "tests/test_bad_inputs.py",
    "tests/adapters/test_adapter_bad_inputs.py",
    "tests/host/test_host_bad_inputs.py",
]
FAULT_TESTS = ["tests/host", "tests/test_capture.py", "tests/test_history.py"]  # -m fault


def _run(args: list[str], env: dict[str, str], junit: Path) -> None:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args,
               f"--junitxml={junit}"]  # fmt: skip
    print("$", " ".join(command[1:]), file=sys.stderr, flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=False, stdout=sys.stderr)


def _outcomes(junit: Path) -> tuple[int, list[str], dict[str, int]]:
    """(passed, names of the failed/errored, passed per test module) from a JUnit XML file."""
    passed, failed, per_module = 0, [], {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
        elif case.find("skipped") is None:
            passed += 1
            module = str(case.get("classname")).split(".")[-1]
            per_module[module] = per_module.get(module, 0) + 1
    return passed, failed, per_module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    help_examples = "fresh random examples per property test (0: CI's fixed set)"
    parser.add_argument("--examples", type=int, default=0, help=help_examples)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tally, props_xml, faults_xml = (Path(folder) / n for n in ("tally.json", "p.xml", "f.xml"))
        env = {**os.environ, "FNREC_TALLY": str(tally), "SDL_VIDEODRIVER": "dummy"}
        if options.examples:
            env["FNREC_BAD_INPUT_EXAMPLES"] = str(options.examples)
        _run(PROPERTY_TESTS, env, props_xml)
        counts = json.loads(tally.read_text()) if tally.exists() else {}
        props_passed, props_failed, _ = _outcomes(props_xml)
        _run([*FAULT_TESTS, "-m", "fault"], {**os.environ, "SDL_VIDEODRIVER": "dummy"}, faults_xml)
        faults_passed, faults_failed, fault_classes = _outcomes(faults_xml)
    correct, clear = counts.get("correct result", 0), counts.get("clear error", 0)
    examples = f"{options.examples} random" if options.examples else "CI's fixed"
    rows = [
        ("calls with generated inputs (bad ones and valid ones)", correct + clear),
        ("  gave the reference's result", correct),
        ("  gave a clear TypeError/ValueError naming the argument", clear),
        ("  gave anything else (failed property tests)", len(props_failed)),
        ("property tests passed", props_passed),
        ("faults injected and survived", faults_passed),
        ("faults that lost data (failed fault tests)", len(faults_failed)),
        *((f"  survived, in {module}", n) for module, n in sorted(fault_classes.items())),
    ]
    print(f"| reliability ({examples} examples per property test) | count |")
    print("|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    for name in props_failed + faults_failed:
        print(f"\nFAILED: {name}")
    return 1 if props_failed or faults_failed or not correct + clear else 0


if __name__ == "__main__":
    sys.exit(main())
