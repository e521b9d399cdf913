#!/usr/bin/env python3
"""Outside judges for every rewritten fixture Dockerfile.

For each fixture whose expected Dockerfile differs from its input:
  * the official BuildKit parser (PyPI `dockerfile`) must accept the output;
  * hadolint must report none of DL3002, DL3006, DL3007, DL3025 on it, unless harden
    itself reports the matching finding as not fixed (it says why it could not);
  * hadolint must not report any rule on the output that it did not report on the input.

Usage: dockerfiles.py HARDEN_BINARY FIXTURES_DIR
"""
import json
import subprocess
import sys
from pathlib import Path

import dockerfile

# hadolint rule -> harden rules whose unfixed presence explains it.
EXPLAINED_BY = {
    "DL3002": {"HD106"},
    "DL3006": {"HD111", "HD133"},
    "DL3007": {"HD111"},
    "DL3025": {"HD115", "HD130", "HD135"},
}


def hadolint(path):
    out = subprocess.run(["hadolint", "-f", "json", "--no-fail", str(path)], capture_output=True, text=True)
    return {item["code"] for item in json.loads(out.stdout or "[]")}


def unfixed_rules(harden, case_input):
    out = subprocess.run([harden, "fix", "--format", "json", str(case_input)], capture_output=True, text=True, check=True)
    files = json.loads(out.stdout)["files"]
    return {f["rule"] for file in files for f in file["findings"] if not f["fixed"]}


def main():
    harden, fixtures = sys.argv[1], Path(sys.argv[2])
    passed, failed = 0, 0
    for case in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        for expected in sorted((case / "expected").rglob("*")):
            lower = expected.name.lower()
            is_dockerfile = "dockerfile" in lower or "containerfile" in lower
            if expected.is_dir() or not is_dockerfile or lower.endswith((".yaml", ".yml")):
                continue
            original = case / "input" / expected.relative_to(case / "expected")
            if original.read_bytes() == expected.read_bytes():
                continue
            problems = []
            try:
                dockerfile.parse_file(str(expected))
            except Exception as e:  # the parser raises GoParseError
                problems.append(f"BuildKit parser rejects it: {e}")
            after, before = hadolint(expected), hadolint(original)
            unfixed = unfixed_rules(harden, case / "input")
            for code, explained_by in EXPLAINED_BY.items():
                if code in after and not (explained_by & unfixed):
                    problems.append(f"hadolint {code} on the rewritten file")
            new = after - before
            if new:
                problems.append(f"hadolint rules introduced by the rewrite: {sorted(new)}")
            name = f"{case.name}/{expected.relative_to(case / 'expected')}"
            if problems:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(problems))
            else:
                passed += 1
                print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
