"""Jupyter widgets over the core: ``explore(path_or_loaded)``."""

from sm_explorer.widgets.explorer import Explorer, explore
from sm_explorer.widgets.variables_pane import histogram_svg

__all__ = ["Explorer", "explore", "histogram_svg"]
