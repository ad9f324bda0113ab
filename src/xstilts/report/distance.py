"""How far a language is from English: URIEL's genetic distance, from the lang2vec package's data files.

URIEL (Littell et al., EACL 2017) describes each language by its membership in every language family
of its Glottolog tree; the genetic distance of two languages is the cosine distance of those vectors
(0: the same lineage, 1: no family in common). Only the package's ``.npz`` arrays are read, with
pickling refused; lang2vec's own loader is not used.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from xstilts.data.domains import ISO_639_1

#: macrolanguage codes whose URIEL entry is an individual language (Mandarin, Standard Arabic, ...)
URIEL_CODES = {
    "zh": "cmn", "ar": "arb", "fa": "pes", "sw": "swh", "et": "ekk", "ms": "zsm", "no": "nob", "lv": "lvs",
    "uz": "uzn", "mn": "khk", "ne": "npi", "sq": "als", "om": "gaz", "ku": "kmr", "qu": "quy", "yi": "ydd",
}  # fmt: skip
DISTANCES = ("genetic",)


@lru_cache(maxsize=1)
def _families() -> tuple[dict[str, int], np.ndarray]:
    # located through the installed distribution, not by importing ``lang2vec``: the package also
    # installs a script ``bin/lang2vec.py`` that shadows it whenever ``bin/`` is first on sys.path
    path = Path(str(metadata.distribution("lang2vec").locate_file("lang2vec/data/family_features.npz")))
    data = np.load(path, allow_pickle=False)
    langs, matrix = data["langs"], data["data"][:, :, 0]
    return {str(code): i for i, code in enumerate(langs)}, matrix


def uriel_code(lang: str) -> str | None:
    """The ISO 639-3 code URIEL files ``lang`` under, or None where it has none."""
    index, _ = _families()
    candidates = [URIEL_CODES.get(lang, ""), *(k for k, v in ISO_639_1.items() if v == lang), lang]
    return next((c for c in candidates if c in index), None)


def genetic_distance(lang: str, reference: str = "en") -> float | None:
    """URIEL genetic distance between two languages (ISO 639-1 or 639-3 codes); None if either is unknown."""
    index, matrix = _families()
    a, b = uriel_code(lang), uriel_code(reference)
    if a is None or b is None:
        return None
    u, v = matrix[index[a]], matrix[index[b]]
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    return 1.0 - float(u @ v) / norm if norm else None


def distances_from(languages: list[str], kind: str = "genetic", reference: str = "en") -> dict[str, float]:
    """Distance of each language from ``reference`` (languages URIEL does not know are left out)."""
    if kind not in DISTANCES:
        raise ValueError(f"a language distance in {{{', '.join(DISTANCES)}}}, found {kind!r}")
    out = {lang: genetic_distance(lang, reference) for lang in languages}
    return {lang: d for lang, d in out.items() if d is not None}
