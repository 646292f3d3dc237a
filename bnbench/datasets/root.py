"""Where the data lives: the data root, a dataset's standard folder in it, and the files it must hold."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bnbench.errors import DataError

ENV_VAR = "BNBENCH_DATA"


@dataclass(frozen=True)
class Source:
    """A dataset's on-disk form: its standard folder under the root and where to get it."""

    folder: str
    what: str
    url: str
    parents: tuple[str, ...] = ()  # also accepted: <root>/<parent>/<folder>

    def expected(self) -> str:
        """The tail of every error message about this source: what belongs where, and where to get it."""
        return f"expected {self.what} ({self.url}) under <root>/{self.folder}"


def resolve_data_root(data_dir: str | os.PathLike | None) -> Path:
    """``data_dir`` if given, else ``$BNBENCH_DATA``; it must be an existing directory."""
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get(ENV_VAR) or None
    if data_dir is None:
        raise DataError(f"no data root given: pass --data-dir DIR or set {ENV_VAR}=DIR "
                        "(DIR holds the standard dataset folders, e.g. DIR/cifar-10-batches-py)")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"data root {root} is not a directory: pass --data-dir DIR or set {ENV_VAR}=DIR "
                        "to the folder holding the dataset folders (e.g. DIR/cifar-10-batches-py)")
    return root


def find_folder(root: Path, source: Source) -> Path:
    """``<root>/<folder>``; also accepts ``root`` being that folder itself or ``<root>/<parent>/<folder>``."""
    candidates = [root / source.folder, *(root / parent / source.folder for parent in source.parents)]
    if root.name == source.folder:
        candidates.insert(0, root)
    for path in candidates:
        if path.is_dir():
            return path
    raise DataError(f"{root / source.folder} does not exist: {source.expected()}")


def require_files(folder: Path, names: list[str], source: Source) -> list[Path]:
    """The paths of ``names`` in ``folder``; the first missing one is a DataError."""
    paths = [folder / name for name in names]
    for name, path in zip(names, paths):
        if not path.is_file():
            raise DataError(f"{folder} is missing {name}: {source.expected()}")
    return paths
