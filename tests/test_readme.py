"""The README's configuration table lists every setting with its real default."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from echostats.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _documented() -> dict[str, str]:
    rows = re.findall(r"^\| `(ECHOSTATS_[A-Z_]+)` \| ([^|]+) \|", README, flags=re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def _as_written(value: object) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value == "":
        return "*(empty)*"
    if value is None:
        return "*(auto)*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, Path):
        return f"`./{value}`"
    return f"`{value}`"


def test_readme_starts_with_the_two_commands() -> None:
    commands = README.index("make demo"), README.index("make test")
    assert max(commands) < README.index("## Configuration")


def test_every_setting_is_documented_with_its_default() -> None:
    documented = _documented()
    for name, field in Settings.model_fields.items():
        env = f"ECHOSTATS_{name.upper()}"
        assert env in documented, f"{env} is missing from the README"
        assert documented[env] == _as_written(field.default), env
    assert set(documented) == {f"ECHOSTATS_{n.upper()}" for n in Settings.model_fields}


REPO = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("echostats/", "actors/", "tests/", "bench/", "docs/", "deploy/", ".ci/")


def test_readme_points_only_at_files_inside_the_repository() -> None:
    links = re.findall(r"\]\(([^)#]+)[^)]*\)", README)
    local = [link for link in links if "://" not in link]
    quoted = [
        path
        for path in re.findall(r"`([^`\s]+)`", README)
        if path.startswith(TOP_LEVEL) and not any(c in path for c in "*{<")
    ]
    assert "../" not in README, "the README points outside the repository"
    missing = [path for path in local + quoted if not (REPO / path.rstrip("/")).exists()]
    assert not missing, f"the README names files the repository does not have: {missing}"
