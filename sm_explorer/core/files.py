"""Finding a SavedModel's files on disk, and parsing its main protobuf.

Nothing here writes, and every path that comes from a file's contents is
checked to stay inside the model folder.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import text_format
from google.protobuf.message import DecodeError

from sm_explorer._proto import saved_model_pb2
from sm_explorer.errors import FormatError, MissingFileError, UnsafePathError, UnsupportedError

__all__ = ["ModelFiles", "locate", "parse_saved_model", "inside", "read_regular"]

PB, PBTXT, CPB = "saved_model.pb", "saved_model.pbtxt", "saved_model.cpb"


@dataclass
class ModelFiles:
    """Where the parts of one SavedModel are.

    ``base_dir`` and ``version`` are set when the user pointed at a serving
    base directory of numbered versions and we picked the newest.
    """

    root: Path
    proto_path: Path
    format: str  # "pb" or "pbtxt"
    base_dir: Path | None = None
    version: str | None = None
    versions: list[str] = field(default_factory=list)

    @property
    def variables_dir(self) -> Path:
        return self.root / "variables"

    @property
    def assets_dir(self) -> Path:
        return self.root / "assets"

    @property
    def extra_assets_dir(self) -> Path:
        return self.root / "assets.extra"

    @property
    def fingerprint_path(self) -> Path:
        return self.root / "fingerprint.pb"

    @property
    def keras_metadata_path(self) -> Path:
        return self.root / "keras_metadata.pb"

    @property
    def debug_info_path(self) -> Path:
        return self.root / "debug" / "saved_model_debug_info.pb"

    def listing(self) -> list[tuple[str, int]]:
        """Every file under the model folder with its size, relative paths sorted."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath) / name
                try:
                    out.append((full.relative_to(self.root).as_posix(), full.lstat().st_size))
                except OSError:
                    continue
        return out


def _proto_in(folder: Path) -> tuple[Path, str] | None:
    for name, fmt in ((PB, "pb"), (PBTXT, "pbtxt")):
        if (folder / name).is_file():
            return folder / name, fmt
    if (folder / CPB).is_file():
        raise UnsupportedError(
            "holds a chunked saved_model.cpb (for models over 2 GB); that format is not "
            "read yet", folder / CPB,
        )
    return None


def locate(export_dir: str | os.PathLike[str]) -> ModelFiles:
    """Find the SavedModel at ``export_dir`` (a model folder, its saved_model.pb,
    or a serving base folder of numbered versions, where the newest wins)."""
    path = Path(export_dir)
    if path.is_file() and path.name in (PB, PBTXT):
        path = path.parent
    if not path.exists():
        raise MissingFileError("does not exist", path)
    if not path.is_dir():
        raise MissingFileError("is not a SavedModel folder", path)
    found = _proto_in(path)
    if found:
        return ModelFiles(path, found[0], found[1])
    versions = sorted(
        (p for p in path.iterdir() if p.name.isdigit() and p.is_dir() and _proto_in(p)),
        key=lambda p: int(p.name),
    )
    if versions:
        newest = versions[-1]
        proto_path, fmt = _proto_in(newest)  # type: ignore[misc]
        return ModelFiles(
            newest, proto_path, fmt, base_dir=path, version=newest.name,
            versions=[p.name for p in versions],
        )
    raise MissingFileError(
        f"has no {PB} or {PBTXT} (nor numbered version folders holding one)", path
    )


def read_regular(path: Path, limit: int = 1 << 31) -> bytes:
    """The bytes of a regular file. A FIFO, device or directory (which would
    block or fail on read) and files over ``limit`` are refused."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise MissingFileError("is missing", path) from None
    except OSError as exc:
        raise FormatError(f"cannot be read ({exc.strerror})", path) from None
    if not stat.S_ISREG(info.st_mode):
        raise FormatError("is not a regular file", path)
    if info.st_size > limit:
        raise FormatError(f"is {info.st_size} bytes, more than the {limit} this format allows", path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read(info.st_size)  # what stat promised; never a blind huge read
    except OSError as exc:
        raise FormatError(f"cannot be read ({exc.strerror})", path) from None


def parse_saved_model(files: ModelFiles) -> saved_model_pb2.SavedModel:
    """Parse saved_model.pb or .pbtxt; any problem becomes a FormatError."""
    model = saved_model_pb2.SavedModel()
    data = read_regular(files.proto_path)
    if files.format == "pb":
        try:
            model.ParseFromString(data)
        except (DecodeError, RecursionError) as exc:
            raise FormatError(f"is not a valid SavedModel protobuf ({exc})", files.proto_path) from None
    else:
        try:
            text_format.Parse(data.decode("utf-8"), model)
        except (text_format.ParseError, UnicodeDecodeError, RecursionError) as exc:
            raise FormatError(f"is not a valid SavedModel text proto ({exc})", files.proto_path) from None
    if not model.meta_graphs:
        raise FormatError("holds no MetaGraph", files.proto_path)
    return model


def inside(root: Path, relative: str, what: str) -> Path:
    """``root / relative``, refusing anything that resolves outside ``root``."""
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise UnsafePathError(f"{what} {relative!r} points outside the model folder", root)
    full = root / candidate
    try:
        real_root = root.resolve()
        if not full.resolve().is_relative_to(real_root):
            raise UnsafePathError(f"{what} {relative!r} links outside the model folder", root)
    except OSError:
        raise UnsafePathError(f"{what} {relative!r} cannot be resolved", root) from None
    return full
