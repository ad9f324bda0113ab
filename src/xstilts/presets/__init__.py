"""Bundled experiment presets (YAML); each file's header comment is the command that runs it."""

from __future__ import annotations

from pathlib import Path

from xstilts.config import bundled_yaml, load_yaml

PRESET_DIR = Path(__file__).parent


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name_or_path: str) -> Path:
    return bundled_yaml(name_or_path, PRESET_DIR, "preset")


def load_preset(name_or_path: str) -> dict:
    return load_yaml(preset_path(name_or_path))


def preset_header(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return "\n".join(lines)
