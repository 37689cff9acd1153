"""Dependency audit: pip-audit over the installed environment; known vulnerabilities fail CI.

Run with the environment's own interpreter (``make audit``). pip-audit looks every installed
distribution up in PyPI's advisory data, per name and version. Two cases need care:

- EchoStats itself is not on PyPI. It is installed editable and skipped (``--skip-editable``);
  installed any other way it is still ours, so advisories PyPI may hold for a same-named project
  are not about it. Either way the report says it was skipped and why.
- pip-audit skips a distribution it finds no per-version PyPI entry for (a package index that
  serves only project pages, a build not published on PyPI). For those the project page is
  read: its advisories are the latest release's, so they count when that is the installed
  version. What is still unaudited is named, never silently passed; a PyPI that cannot be
  reached at all fails the audit, because then nothing was checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from typing import Any

OWN_PACKAGES = frozenset({"echostats"})
PROJECT_PAGE = "https://pypi.org/pypi/{name}/json"
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    fixed_in: tuple[str, ...]

    def line(self) -> str:
        fix = f"fixed in {', '.join(self.fixed_in)}" if self.fixed_in else "no fixed release yet"
        return f"  {self.package} {self.version}: {self.advisory} ({fix})"


def say(message: str) -> None:
    print(f"audit: {message}", flush=True)


def run_pip_audit() -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "pip_audit", "--skip-editable", "--progress-spinner", "off"]
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [*command, "--format", "json"], capture_output=True, text=True, check=False
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        say("pip-audit did not run; its output was:")
        print(done.stderr.strip()[-4000:], file=sys.stderr)
        sys.exit(2)
    dependencies: list[dict[str, Any]] = report["dependencies"]
    return dependencies


def read_project_page(name: str) -> dict[str, Any] | None:
    """PyPI's page of ``name``, or None when it has none; raises OSError when PyPI is away."""
    try:
        with urllib.request.urlopen(  # noqa: S310 - a fixed https URL
            PROJECT_PAGE.format(name=name), timeout=TIMEOUT_SECONDS
        ) as answer:
            page: dict[str, Any] = json.load(answer)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
    return page


def from_project_page(name: str) -> tuple[str, list[Finding] | None]:
    """(installed version, findings) — findings None when the page cannot speak for it."""
    version = metadata.version(name)
    page = read_project_page(name)
    if page is None or page["info"]["version"] != version:
        return version, None
    findings = [
        Finding(name, version, advisory["id"], tuple(advisory.get("fixed_in") or ()))
        for advisory in page.get("vulnerabilities") or []
        if not advisory.get("withdrawn")
    ]
    return version, findings


def lookup(name: str) -> tuple[str, list[Finding] | None] | OSError:
    try:
        return from_project_page(name)
    except OSError as error:  # URLError and timeouts are OSErrors too
        return error


def main() -> int:
    dependencies = run_pip_audit()
    findings: list[Finding] = []
    audited = 0
    own = 0
    skipped: list[str] = []
    for dependency in dependencies:
        name = dependency["name"]
        if name in OWN_PACKAGES:
            own += 1
            reason = dependency.get("skip_reason", "installed from this repository")
            say(f"{name} skipped: our own package, not on PyPI ({reason})")
        elif "skip_reason" in dependency:
            skipped.append(name)
        else:
            audited += 1
            findings += [
                Finding(name, dependency["version"], vuln["id"], tuple(vuln["fix_versions"]))
                for vuln in dependency["vulns"]
            ]
    unaudited: list[str] = []
    unreachable: list[str] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, outcome in zip(skipped, pool.map(lookup, skipped), strict=True):
            if isinstance(outcome, OSError):
                unreachable.append(f"{name} ({outcome})")
                continue
            version, page_findings = outcome
            if page_findings is None:
                unaudited.append(f"{name} {version}")
            else:
                audited += 1
                findings += page_findings
    say(
        f"{audited} of {len(dependencies)} installed distributions audited "
        f"({len(dependencies) - len(skipped) - own} by pip-audit per version, "
        f"{len(skipped) - len(unaudited) - len(unreachable)} from their PyPI project page)"
    )
    if unaudited:
        say(
            "not audited (PyPI has no advisory entry for the installed version): "
            + ", ".join(unaudited)
        )
    if unreachable:
        say("PyPI could not be reached, so these were not checked: " + ", ".join(unreachable))
        return 2
    if findings:
        say(f"{len(findings)} known vulnerabilities; upgrade (or pin past) each of these:")
        print("\n".join(f.line() for f in sorted(findings, key=lambda f: f.package)))
        return 1
    say("no known vulnerabilities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
