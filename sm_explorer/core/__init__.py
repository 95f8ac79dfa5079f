"""The pure core: reading SavedModel files into plain Python objects.

Nothing here imports TensorFlow, widgets, renderers or any layer above
(graph, exec, export, loaded): calling, pruning and saving are added by
``sm_explorer.loaded`` through subclasses (see ``core.classes``). Nothing here
writes model files either: the writers are in ``sm_explorer.export``.
"""
