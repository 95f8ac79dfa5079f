"""Small example SavedModels shipped with sm_explorer (for the demo and notebooks).

    import sm_explorer
    from sm_explorer import examples
    loaded = sm_explorer.load(examples.path("seed_module"))

They are copies of test fixtures made by tests/fixtures/make_fixtures.py:
``seed_module`` (the tf.saved_model docs example, TF2), ``tf1_two_metagraphs``
(a TF1 Builder export with two MetaGraphs), ``keras3_export`` (a small Keras 3
``model.export()``) and ``assets_hash_table`` (hash tables filled from an asset file).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["path", "names"]

HERE = Path(__file__).resolve().parent


def names() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "saved_model.pb").is_file())


def path(name: str) -> Path:
    """The folder of the example SavedModel ``name``."""
    if name not in names():
        raise ValueError(f"no example {name!r}; examples: {', '.join(names())}")
    return HERE / name
