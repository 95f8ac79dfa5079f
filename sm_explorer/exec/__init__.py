"""Execution without TensorFlow: NumPy kernels, the interpreter, and safety rules."""
