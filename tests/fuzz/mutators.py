"""Mutated SavedModels: seeds from real files, and the mutations applied to them.

A model is a dict of relative path -> bytes (or a ``Special`` entry: a
directory, a symlink, a FIFO), so a case is built in memory and written once.
``make_case`` is a pure function of (seeds, campaign seed, case index): the
worker that runs a case and the parent that saves a failing one build
exactly the same files.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz import bundle_mutators as bm
from tests.fuzz import table_mutators as tm
from tests.fuzz.wire import INTERESTING_INTS, INTERESTING_STRINGS, Field, mutate_message, parse

__all__ = [
    "Special", "Files", "Seed", "Case", "load_seed", "model_prefix", "make_case",
    "write_model", "mutate_bytes", "MUTATORS",
]


@dataclass(frozen=True)
class Special:
    """A non-regular entry: "dir", "symlink" (to ``target``) or "fifo"."""

    kind: str
    target: str = ""


Files = dict[str, bytes | Special]


@dataclass
class Seed:
    """A real model to mutate; its files are read once and cached."""

    name: str
    root: Path
    _files: Files | None = None
    protos: dict[str, list[Field] | None] = field(default_factory=dict)
    cache: dict[object, object] = field(default_factory=dict)  # other parses of seed files

    @property
    def files(self) -> Files:
        if self._files is None:
            self._files = load_seed(self.root)
        return self._files

    def parsed(self, path: str, data: bytes) -> list[Field] | None:
        """The wire-format parse of ``data`` (cached when it is the seed's own file:
        parsing a 2 MB graph again for every case would dominate the campaign)."""
        if self.files.get(path) is not data:
            return parse(data)
        if path not in self.protos:
            self.protos[path] = parse(data)
        return self.protos[path]


@dataclass
class Case:
    """One mutated model: its files, the seed it came from, and what was done to it."""
    files: Files
    seed: str
    mutations: list[str]


def load_seed(root: Path) -> Files:
    """Every entry under ``root`` (regular files as bytes; links and empty dirs kept)."""
    out: Files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root)
        if not dirnames and not filenames and rel_dir != Path("."):
            out[rel_dir.as_posix()] = Special("dir")
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = (rel_dir / name).as_posix()
            out[rel] = Special("symlink", os.readlink(full)) if full.is_symlink() else full.read_bytes()
    return out


def write_model(files: Files, dest: Path) -> None:
    """Create ``dest`` holding ``files`` (``dest`` must not exist yet)."""
    dest.mkdir(parents=True)
    for rel, value in sorted(files.items()):
        full = dest / rel
        full.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, bytes):
            full.write_bytes(value)
        elif value.kind == "dir":
            full.mkdir(exist_ok=True)
        elif value.kind == "symlink":
            full.symlink_to(value.target)
        elif value.kind == "fifo":
            os.mkfifo(full)


def model_prefix(files: Files) -> str:
    """The folder (as a "dir/" prefix, or "") whose saved_model.pb(txt) is the one used."""
    names = ("saved_model.pb", "saved_model.pbtxt")
    if any(n in files for n in names):
        return ""
    versions = sorted(
        {rel.split("/")[0] for rel in files if rel.count("/") == 1 and rel.split("/")[1] in names
         and rel.split("/")[0].isdigit()},
        key=int,
    )
    return f"{versions[-1]}/" if versions else ""


# ---- byte level: any file ----

def mutate_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Flips, interesting bytes, truncation, insertion, deletion, duplication."""
    n = len(data)
    if n == 0:
        extra = rng.randbytes(rng.randrange(1, 64))
        return extra, f"empty file filled with {len(extra)} random bytes"
    i = rng.randrange(n)
    j = min(n, i + rng.choice((1, 2, 4, 8, 64, 1024)))
    roll = rng.randrange(9)
    if roll == 0:
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            k = rng.randrange(n)
            out[k] ^= 1 << rng.randrange(8)
        return bytes(out), "bits flipped"
    if roll == 1:
        value = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x01))
        return data[:i] + bytes([value]) * (j - i) + data[j:], f"bytes {i}..{j} set to {value:#x}"
    if roll == 2:
        cut = rng.choice((0, 1, n // 2, n - 1, rng.randrange(n)))
        return data[:cut], f"truncated {n} -> {cut}"
    if roll == 3:
        extra = rng.randbytes(rng.choice((1, 4, 16, 300)))
        return data[:i] + extra + data[i:], f"{len(extra)} random bytes inserted at {i}"
    if roll == 4:
        k = rng.randrange(n + 1)
        return data[:k] + data[i:j] + data[k:], f"bytes {i}..{j} duplicated at {k}"
    if roll == 5:
        return data[:i] + data[j:], f"bytes {i}..{j} deleted"
    if roll == 6:
        k = rng.randrange(n)
        chunk = data[k : k + (j - i)]
        return data[:i] + chunk + data[i + len(chunk) :], f"bytes {k}.. copied over {i}"
    if roll == 7:
        extra = rng.randbytes(rng.choice((1, 8, 100)))
        return data + extra, f"{len(extra)} bytes appended"
    return data * 2, "file content doubled"


def _pick(files: Files, rng: random.Random, pred: Callable[[str], bool]) -> str | None:
    """A random regular file matching ``pred`` (sorted first: same choice every run)."""
    names = sorted(rel for rel, v in files.items() if isinstance(v, bytes) and pred(rel))
    return rng.choice(names) if names else None


def _mut_bytes(seed: Seed, files: Files, prefix: str, rng: random.Random) -> str | None:
    """Byte-level damage to any file of the model."""
    rel = _pick(files, rng, lambda r: r.startswith(prefix))
    if rel is None:
        return None
    files[rel], what = mutate_bytes(files[rel], rng)  # type: ignore[arg-type]
    return f"{rel}: {what}"


# ---- protobuf-aware: saved_model.pb, fingerprint.pb, keras metadata, debug info ----

def _mut_proto(seed: Seed, files: Files, prefix: str, rng: random.Random) -> str | None:
    """A field-level change deep inside saved_model.pb (mostly) or another .pb file."""
    main = f"{prefix}saved_model.pb"
    rel = main if main in files and rng.random() < 0.75 else _pick(
        files, rng, lambda r: r.startswith(prefix) and r.endswith(".pb")
    )
    if rel is None or not isinstance(files[rel], bytes):
        return None
    data = files[rel]
    fields = seed.parsed(rel, data)  # type: ignore[arg-type]
    if not fields:
        return None
    files[rel], what = mutate_message(fields, rng, stop=rng.choice((0.1, 0.2, 0.35)))
    return f"{rel} (protobuf) {what}"


# ---- text protos ----

_NUMBER = re.compile(rb"(?<![\w.])-?\d+(?![\w.])")
_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')


def _mut_pbtxt(seed: Seed, files: Files, prefix: str, rng: random.Random) -> str | None:
    """Numbers, strings and lines of a text proto changed (it must still tokenize)."""
    rel = f"{prefix}saved_model.pbtxt"
    data = files.get(rel)
    if not isinstance(data, bytes):
        return None
    roll = rng.randrange(4)
    pattern = _NUMBER if roll < 2 else _STRING
    spans = [m.span() for m in pattern.finditer(data)]
    if roll < 3 and spans:
        a, b = rng.choice(spans)
        if pattern is _NUMBER:
            new = str(rng.choice(INTERESTING_INTS)).encode()
        else:
            new = b'"' + rng.choice(INTERESTING_STRINGS).replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
        files[rel] = data[:a] + new + data[b:]
        return f"{rel}: {data[a:b][:30]!r} at {a} -> {new[:30]!r}"
    lines = data.split(b"\n")
    k = rng.randrange(len(lines))
    if rng.random() < 0.5:
        del lines[k]
        what = "deleted"
    else:
        lines.insert(k, lines[k])
        what = "duplicated"
    files[rel] = b"\n".join(lines)
    return f"{rel}: line {k + 1} {what}"


# ---- whole files ----

def _mut_files(seed: Seed, files: Files, prefix: str, rng: random.Random) -> str | None:
    """Files deleted, emptied, swapped, renamed, or replaced by dirs, links, FIFOs."""
    rel = _pick(files, rng, lambda r: r.startswith(prefix))
    roll = rng.randrange(10)
    if rel is None or roll == 9:
        extra = rng.choice((
            "saved_model.cpb", "saved_model.pbtxt", "variables/variables",
            "variables/variables.data-00001-of-00002", "fingerprint.pb", "keras_metadata.pb",
        ))
        files[prefix + extra] = rng.randbytes(rng.randrange(0, 64))
        return f"stray file {prefix + extra} added"
    if roll < 3:
        del files[rel]
        return f"{rel} deleted"
    if roll == 3:
        files[rel] = b""
        return f"{rel} emptied"
    if roll == 4:
        other = _pick(files, rng, lambda r: r != rel)
        if other is None:
            return None
        files[rel], files[other] = files[other], files[rel]
        return f"{rel} and {other} swapped"
    if roll == 5:
        files[rel] = Special("dir")
        return f"{rel} replaced by a directory"
    if roll == 6:
        target = rng.choice((rel.split("/")[-1], "missing-target", "../../outside", "/nonexistent/x"))
        files[rel] = Special("symlink", target)
        return f"{rel} replaced by a symlink to {target!r}"
    if roll == 7:
        # Rare on purpose: a FIFO that is opened blocks until the time limit.
        if rng.random() < 0.1:
            files[rel] = Special("fifo")
            return f"{rel} replaced by a FIFO"
        return None
    new_rel = rel.replace("00000", "00001", 1) if "00000" in rel else rel + ".bak"
    files[new_rel] = files.pop(rel)
    return f"{rel} renamed {new_rel}"


# Weighted: (weight, name, mutator). A mutator returns None when it does not
# apply to the model; another is then drawn.
MUTATORS: list[tuple[int, str, Callable[[Seed, Files, str, random.Random], str | None]]] = [
    (30, "proto", _mut_proto),
    (6, "pbtxt", _mut_pbtxt),
    (14, "table", tm.mut_table),
    (20, "bundle", bm.mut_bundle),
    (12, "shard", bm.mut_shard),
    (13, "bytes", _mut_bytes),
    (5, "files", _mut_files),
]


def make_case(seeds: list[Seed], campaign_seed: int, index: int) -> Case:
    """Case ``index`` of the campaign ``campaign_seed``: a seed model and 1-3 mutations."""
    rng = random.Random(f"sm-fuzz:{campaign_seed}:{index}")
    seed = seeds[rng.randrange(len(seeds))]
    files = dict(seed.files)
    prefix = model_prefix(files)
    done: list[str] = []
    wanted = rng.choice((1, 1, 1, 1, 2, 3))
    weights = [w for w, _, _ in MUTATORS]
    for _ in range(wanted * 8):
        if len(done) == wanted:
            break
        _, name, mutator = rng.choices(MUTATORS, weights)[0]
        what = mutator(seed, files, prefix, rng)
        if what is not None:
            done.append(f"[{name}] {what}")
    return Case(files, seed.name, done)
