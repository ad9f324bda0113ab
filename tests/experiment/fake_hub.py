"""A Hugging Face hub served from a folder, at ``huggingface_hub``'s network boundary.

``huggingface_hub`` sends every request (its own, ``datasets``' and ``transformers``') through one
``httpx2.Client`` made by a factory that :func:`huggingface_hub.set_client_factory` replaces. Here the
client's transport is an ``httpx2.MockTransport`` answering the hub's HTTP API from files on disk, so
the real download code runs: revision lookups, tree listings, HEAD metadata, the cache layout.

Layout: ``ROOT/<models|datasets>/<org>/<name>/<commit>/<files>`` and ``.../<name>/refs.json`` (branch ->
commit). ``python -m tests.experiment.fake_hub ROOT ARGS...`` runs ``xstilts ARGS...`` against it;
``ROOT`` = ``none`` makes every request fail as a machine without network would, and records it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx2

ENDPOINT_HOST = "huggingface.co"


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def add_repo(root: Path, repo_type: str, repo_id: str, files: dict[str, bytes], commit: str | None = None, branch: str = "main") -> str:
    """Store one commit of a repo (default sha: one derived from the files); ``branch`` then points at it."""
    if commit is None:
        digest = hashlib.sha1(repo_id.encode())
        for name in sorted(files):
            digest.update(name.encode() + git_blob_sha(files[name]).encode())
        commit = digest.hexdigest()
    folder = root / f"{repo_type}s" / repo_id
    for name, data in files.items():
        path = folder / commit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    refs_file = folder / "refs.json"
    refs = json.loads(refs_file.read_text()) if refs_file.is_file() else {}
    refs[branch] = commit
    refs_file.write_text(json.dumps(refs))
    return commit


class FakeHub:
    """Answers the hub API calls that downloads make; any other request is a 404 and is recorded."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.requests: list[str] = []
        self.unhandled: list[str] = []

    # -------------------------------------------------------------------------------- storage

    def _repo(self, repo_type: str, repo_id: str) -> Path | None:
        assert self.root is not None
        folder = self.root / repo_type / repo_id
        return folder if (folder / "refs.json").is_file() else None

    def _commit(self, folder: Path, revision: str) -> str | None:
        refs = json.loads((folder / "refs.json").read_text())
        if revision in refs:
            return refs[revision]
        return revision if (folder / revision).is_dir() else None

    @staticmethod
    def _files(snapshot: Path) -> dict[str, Path]:
        return {p.relative_to(snapshot).as_posix(): p for p in sorted(snapshot.rglob("*")) if p.is_file()}

    @staticmethod
    def _entry(rel: str, path: Path | None, snapshot: Path) -> dict[str, Any]:
        if path is not None:
            return {"type": "file", "path": rel, "size": path.stat().st_size, "oid": git_blob_sha(path.read_bytes())}
        return {"type": "directory", "path": rel, "oid": hashlib.sha1(rel.encode()).hexdigest(), "size": 0}

    def _tree(self, snapshot: Path, under: str, recursive: bool) -> list[dict[str, Any]]:
        files = self._files(snapshot)
        prefix = f"{under}/" if under else ""
        out: dict[str, dict[str, Any]] = {}
        for rel, path in files.items():
            if not rel.startswith(prefix):
                continue
            parts = rel[len(prefix) :].split("/")
            for depth in range(1, len(parts)):
                folder = prefix + "/".join(parts[:depth])
                if recursive or depth == 1:
                    out.setdefault(folder, self._entry(folder, None, snapshot))
            if recursive or len(parts) == 1:
                out[rel] = self._entry(rel, path, snapshot)
        return list(out.values())

    # -------------------------------------------------------------------------------- HTTP

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(f"{request.method} {request.url}")
        if self.root is None:
            raise httpx2.ConnectError("no network (the fake hub refuses every request)", request=request)
        if request.url.host != ENDPOINT_HOST:
            return self._missing(request, "RepoNotFound")
        segments = [unquote(s) for s in request.url.raw_path.split(b"?")[0].decode().strip("/").split("/")]
        if segments[:1] == ["api"] and len(segments) >= 4 and segments[1] in ("models", "datasets"):
            return self._api(request, segments[1], "/".join(segments[2:4]), segments[4:])
        repo_type = "datasets" if segments[:1] == ["datasets"] else "models"
        rest = segments[1:] if repo_type == "datasets" else segments
        if len(rest) >= 5 and rest[2] == "resolve":
            return self._resolve(request, repo_type, "/".join(rest[:2]), rest[3], "/".join(rest[4:]))
        return self._missing(request, None)

    def _missing(self, request: httpx2.Request, code: str | None, commit: str | None = None) -> httpx2.Response:
        if code is None:
            self.unhandled.append(f"{request.method} {request.url}")
        headers = {"X-Error-Code": code} if code else {}
        if commit:
            headers["X-Repo-Commit"] = commit
        return httpx2.Response(404, headers=headers, json={"error": code or "not served by the fake hub"})

    def _api(self, request: httpx2.Request, repo_type: str, repo_id: str, rest: list[str]) -> httpx2.Response:
        folder = self._repo(repo_type, repo_id)
        if folder is None:
            return self._missing(request, "RepoNotFound")
        kind, revision, under = (rest[0], rest[1], "/".join(rest[2:])) if len(rest) >= 2 else ("revision", "main", "")
        commit = self._commit(folder, revision)
        if commit is None:
            return self._missing(request, "RevisionNotFound")
        snapshot = folder / commit
        if kind == "revision":
            siblings = [{"rfilename": rel} for rel in self._files(snapshot)]
            return httpx2.Response(200, json={"id": repo_id, "sha": commit, "private": False, "siblings": siblings})
        if kind == "tree":
            recursive = request.url.params.get("recursive", "False").lower() == "true"
            if under and not any(rel.startswith(f"{under}/") or rel == under for rel in self._files(snapshot)):
                return self._missing(request, "EntryNotFound", commit)
            return httpx2.Response(200, json=self._tree(snapshot, under, recursive))
        if kind == "paths-info" and request.method == "POST":
            form = parse_qs(request.read().decode())
            files = self._files(snapshot)
            entries = []
            for rel in form.get("paths", []):
                rel = rel.strip("/")
                if rel in files:
                    entries.append(self._entry(rel, files[rel], snapshot))
                elif any(f.startswith(f"{rel}/") for f in files):
                    entries.append(self._entry(rel, None, snapshot))
            return httpx2.Response(200, json=entries)
        return self._missing(request, None)

    def _resolve(self, request: httpx2.Request, repo_type: str, repo_id: str, revision: str, rel: str) -> httpx2.Response:
        folder = self._repo(repo_type, repo_id)
        if folder is None:
            return self._missing(request, "RepoNotFound")
        commit = self._commit(folder, revision)
        if commit is None:
            return self._missing(request, "RevisionNotFound")
        path = folder / commit / rel
        if not path.is_file():
            return self._missing(request, "EntryNotFound", commit)
        data = path.read_bytes()
        headers = {"X-Repo-Commit": commit, "ETag": f'"{git_blob_sha(data)}"', "Content-Length": str(len(data))}
        if request.method == "HEAD":
            return httpx2.Response(200, headers=headers)
        return httpx2.Response(200, headers=headers, content=data)


def install(root: Path | None) -> FakeHub:
    """Route every ``huggingface_hub`` request of this process to a fake hub serving ``root`` (None: no network)."""
    import huggingface_hub

    hub = FakeHub(root)

    def client() -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(hub), follow_redirects=True, timeout=None)

    huggingface_hub.set_client_factory(client)
    return hub


def main() -> None:
    """``python -m tests.experiment.fake_hub ROOT|none REQUESTS_LOG XSTILTS_ARGS...``: the CLI against the fake hub."""
    root, log, *args = sys.argv[1:]
    hub = install(None if root == "none" else Path(root))
    sys.argv = ["xstilts", *args]
    from xstilts.cli import main as xstilts_main

    try:
        xstilts_main()
    finally:
        Path(log).write_text(json.dumps({"requests": hub.requests, "unhandled": hub.unhandled}))


if __name__ == "__main__":
    main()
