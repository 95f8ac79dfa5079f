"""Generated protobuf code for our own schema in protos/ (see tools/gen_protos.py).

The package is ``sm_explorer.tf``, not ``tensorflow``, so these classes load
in the same process as TensorFlow's own generated code.
"""
