"""The pure core: reading SavedModel files into plain Python objects.

Nothing here imports TensorFlow, widgets or renderers, and nothing here writes
model files: the writers are in ``sm_explorer.export``.
"""
