"""``View``: a picture of part of a model, as DOT text, SVG, PNG or PDF.

Subclasses build DOT source from core data; this base class turns it into
files and into inline SVG for Jupyter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sm_explorer.render.dot import FORMATS, DotUnavailableError, run_dot

__all__ = ["View"]


class View:
    """Something drawable. Subclasses implement ``to_dot``."""

    def to_dot(self) -> str:
        raise NotImplementedError

    def to_svg(self) -> str:
        return run_dot(self.to_dot(), "svg").decode("utf-8")

    def render(self, fmt: str) -> bytes:
        return run_dot(self.to_dot(), fmt)

    def save(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write ``out.svg``, ``out.png``, ``out.pdf`` or ``out.dot`` (format from the suffix)."""
        path = Path(path)
        fmt = (fmt or path.suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise ValueError(f"cannot tell the format of {path.name!r}; use one of: {', '.join(FORMATS)}")
        path.write_bytes(self.render(fmt))
        return path

    def to_graphviz(self) -> Any:
        """The DOT source as a ``graphviz.Source`` (for users of the graphviz package)."""
        import graphviz

        return graphviz.Source(self.to_dot())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self.to_svg()}
        except DotUnavailableError as exc:
            return {"text/plain": f"{self!r}\n({exc.message})"}
