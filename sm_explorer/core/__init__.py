"""The pure core: reading SavedModel files into plain Python objects.

Nothing here imports TensorFlow, widgets, renderers or any layer above
(graph, exec, export, loaded): calling, pruning and saving are added by
``sm_explorer.loaded`` through subclasses (see ``core.classes``). Nothing here
writes model files either: the writers are in ``sm_explorer.export``.
"""

from sm_explorer.core import checksum, sstable
from sm_explorer.core.bundle import Checkpoint
from sm_explorer.core.classes import PLAIN, ObjectClasses
from sm_explorer.core.file_roles import anatomy
from sm_explorer.core.files import ModelFiles, locate
from sm_explorer.core.functions import ConcreteFunction, Signature
from sm_explorer.core.loader import open_saved_model
from sm_explorer.core.model import SavedModel
from sm_explorer.core.object_graph import escape_local_name
from sm_explorer.core.objects import Trackable, Variable
from sm_explorer.core.specs import TensorSpec
from sm_explorer.core.summary import checkpoint_paths

__all__ = [
    "open_saved_model", "locate", "SavedModel", "ModelFiles", "Checkpoint",
    "Trackable", "Variable", "ConcreteFunction", "Signature", "TensorSpec", "ObjectClasses", "PLAIN",
    "anatomy", "checkpoint_paths", "escape_local_name",
    "checksum", "sstable",  # the format's building blocks, for reading files by hand
]
