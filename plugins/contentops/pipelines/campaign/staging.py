"""The run's staging area: each asset version's file read from Smint.io once, shared by every target.

A campaign release delivers one asset to several target systems, each in deliver tasks of its
own (mapped per system and batch, side by side). Were each task to stream the file from
Smint.io itself, Smint.io — a partner with a request ceiling of its own — would serve every file
once per target system. Instead the file of an asset version is staged once per run under
``$CONTENTOPS_HOME/staging/<dag>/<run>/``, named by the asset and its version (content-addressed:
a new version is a new file), and every deliver task of the run reads that copy:

- the first task that needs it takes the file's lock (``flock``), streams it from Smint.io to a
  ``.part`` file, checks its SHA-256 against the one Smint.io states for the binary (when it
  states one), writes the digest beside it and renames it into place; a task that needs the same
  file meanwhile waits on the lock and then reads the staged copy;
- a task reading a staged copy checks it against the recorded digest first (a damaged copy is
  fetched again, never delivered);
- the asset's metadata is read once per run the same way (:func:`asset_snapshot`): every target
  gets the same version, and Smint.io one metadata read per asset instead of one per system;
- the copy is removed once every target the gate cleared the asset for holds that version (the
  ledger says so), and what is left (a refused or failed target) goes with the run's folder in
  ``finalize``.

Tasks that share a machine share the area (LocalExecutor, ``dag.test()``); on workers without a
shared ``CONTENTOPS_HOME`` each worker stages its own copy (one read per asset version and worker).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from contentops.config import contentops_home
from contentops.models.smintio import Asset
from contentops.pipelines.runtime import PipelineRun

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_READ = 1 << 20


def run_folder(run: PipelineRun) -> Path:
    """The staging folder of one run (created on first use)."""
    return contentops_home() / "staging" / _SAFE.sub("_", run.dag_id) / _SAFE.sub("_", run.run_id)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_READ):
            digest.update(chunk)
    return digest.hexdigest()


class StagedFile:
    """The file of one asset version in the run's staging folder; fetched on first :meth:`get`."""

    def __init__(self, run: PipelineRun, asset: Asset) -> None:
        self.run = run
        self.asset = asset
        self.binary = asset.binaries[0] if asset.binaries else None
        name = f"{hashlib.sha256(asset.id.encode()).hexdigest()[:24]}-v{asset.version}"
        self.path = run_folder(run) / name
        self._digest = self.path.with_name(name + ".sha256")
        self._lock = self.path.with_name(name + ".lock")
        self._checked = False

    @property
    def content_type(self) -> str:
        return (self.binary.content_type if self.binary else None) or self.asset.content_type or "image/png"

    @property
    def file_name(self) -> str:
        return (self.binary.name if self.binary else None) or f"{self.asset.id}.png"

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return _locked(self._lock)

    def get(self) -> Path:
        """The staged file, checked: streamed from Smint.io only if no intact copy is staged."""
        if self.binary is None:
            raise ValueError(f"asset {self.asset.id} has no file to deliver")
        if self._checked and self.path.exists():
            return self.path
        with self._locked():
            if not self._intact():
                self._fetch()
        self._checked = True
        return self.path

    def _intact(self) -> bool:
        try:
            recorded = self._digest.read_text().strip()
        except FileNotFoundError:
            return False
        return self.path.exists() and file_sha256(self.path) == recorded

    def _fetch(self) -> None:
        assert self.binary is not None
        part = self.path.with_name(self.path.name + ".part")
        result = self.run.hook("smintio").download_asset_binary(self.asset.id, self.binary.id, part)
        expected = (self.binary.sha256 or "").lower()
        if expected and result.sha256 != expected:
            part.unlink(missing_ok=True)
            raise ValueError(
                f"the file of asset {self.asset.id} v{self.asset.version} arrived with SHA-256 "
                f"{result.sha256}, Smint.io states {expected}: not delivered"
            )
        self._digest.write_text(result.sha256)
        os.replace(part, self.path)

    def discard(self) -> None:
        """Remove the staged copy (every target holds this version: nobody needs it again)."""
        with self._locked():
            self.path.unlink(missing_ok=True)
            self._digest.unlink(missing_ok=True)
            _snapshot_path(self.run, self.asset.id).unlink(missing_ok=True)
        self._checked = False


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _snapshot_path(run: PipelineRun, asset_id: str) -> Path:
    return run_folder(run) / f"{hashlib.sha256(asset_id.encode()).hexdigest()[:24]}.asset.json"


def asset_snapshot(run: PipelineRun, asset_id: str) -> Asset:
    """The asset as Smint.io had it when the first deliver task of the run asked for it.

    Every system's deliver tasks then send the same version (a change in Smint.io mid-run goes
    out with the next run to every target alike), and Smint.io answers one metadata read per
    asset and run instead of one per target system. The snapshot goes with the staged file."""
    path = _snapshot_path(run, asset_id)
    with _locked(path.with_name(path.name + ".lock")):
        if path.exists():
            with contextlib.suppress(ValueError):
                return Asset.model_validate_json(path.read_text())
        asset = run.hook("smintio").get_asset(asset_id)
        text = asset.model_dump_json()
        with contextlib.suppress(ValueError):
            if Asset.model_validate_json(text) == asset:  # only what reads back as the same asset
                part = path.with_name(path.name + ".part")
                part.write_text(text)
                os.replace(part, path)
        return asset


def clean_up(run: PipelineRun) -> None:
    """Remove what is left of the run's staging folder (``finalize``: every delivery has ended)."""
    shutil.rmtree(run_folder(run), ignore_errors=True)
