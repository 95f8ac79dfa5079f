"""Jupyter widgets over the core: ``explore(path_or_loaded)``."""

from sm_explorer.widgets.explorer import Explorer, explore

__all__ = ["Explorer", "explore"]
