"""Execution without TensorFlow: NumPy kernels, the interpreter, and safety rules."""

from sm_explorer.exec.memory import tune_malloc

__all__ = ["tune_malloc"]
