"""The pure core: reading SavedModel files into plain Python objects.

Nothing here imports TensorFlow, widgets or renderers.
"""
