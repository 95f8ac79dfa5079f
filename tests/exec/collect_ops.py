"""Collect the op names the kernel library must cover (rerun to refresh test data).

Usage:
    python tests/exec/collect_ops.py                  # corpus ops only
    python tests/exec/collect_ops.py --keras DIR      # also export the Keras models to DIR
                                                      # (unless already there) and list their ops

Prints CORPUS_OPS (ops named by the corpus' EXPECTED/*.json for meta graphs in
which TensorFlow ran a signature) and KERAS_OPS (ops in the graph and in every
FunctionDef of Keras 3 ``model.export()`` of the models below), ready to paste
into test_kernel_coverage.py. The Keras part needs TensorFlow and Keras; keep
DIR out of the repository (e.g. /tmp/kernel_models).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("SM_EXPLORER_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def corpus_ops(expected_dir: Path) -> set[str]:
    """Ops of every meta graph in which at least one signature ran under TensorFlow."""
    ops: set[str] = set()
    for path in sorted(expected_dir.glob("*.json")):
        for saved in json.loads(path.read_text()).get("saved_models", []):
            for meta in saved.get("meta_graphs", []):
                runs = meta.get("runs") or {}
                if any(isinstance(r, dict) and r.get("ran") for r in runs.values()):
                    ops.update(meta.get("ops") or {})
    return ops


def saved_model_ops(export_dir: Path) -> set[str]:
    """Ops in a saved_model.pb: graph nodes and all library functions."""
    from tensorflow.core.protobuf import saved_model_pb2

    model = saved_model_pb2.SavedModel()
    model.ParseFromString((export_dir / "saved_model.pb").read_bytes())
    ops: set[str] = set()
    for meta in model.meta_graphs:
        ops.update(node.op for node in meta.graph_def.node)
        for fn in meta.graph_def.library.function:
            ops.update(node.op for node in fn.node_def)
    return ops


def keras_models() -> Iterator[tuple[str, Callable[[], Any]]]:
    """The models whose exports the kernels must run (built with random weights)."""
    import keras
    from keras import layers

    def functional(shape: tuple[int | None, ...], body: Callable[[Any], Any], dtype: str = "float32") -> Any:
        inputs = keras.Input(shape, dtype=dtype)
        return keras.Model(inputs, body(inputs))

    def conv(x: Any) -> Any:
        x = layers.Conv2D(8, 3, padding="same", activation="elu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(8, 3, strides=2, padding="valid", activation="selu")(x)
        x = layers.DepthwiseConv2D(3, padding="same")(x)
        x = layers.SeparableConv2D(4, 3, padding="same", activation="gelu")(x)
        x = layers.AveragePooling2D(2, padding="same")(x)
        x = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
        x = layers.Conv1D(4, 3)(layers.Reshape((-1, 4))(x))
        return layers.LeakyReLU()(layers.GlobalAveragePooling1D()(x))

    def pools(x: Any) -> Any:
        a, b = layers.GlobalMaxPooling2D()(x), layers.GlobalAveragePooling2D()(x)
        c = layers.Flatten()(layers.MaxPooling2D(3, strides=2, padding="same")(x))
        d = layers.Cropping2D(2)(layers.ZeroPadding2D(1)(layers.UpSampling2D(2)(x)))
        d = layers.Flatten()(layers.AveragePooling2D(2)(d))
        return layers.Concatenate()([a, b, c, d])

    def attention(x: Any) -> Any:
        y = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
        return layers.Dense(16, activation="swish")(layers.LayerNormalization()(y + x))

    def misc(x: Any) -> Any:
        x = layers.Activation("softplus")(layers.Permute((2, 1))(layers.Attention()([x, x])))
        acts = [layers.Activation(a)(x) for a in ("softsign", "hard_sigmoid", "tanh", "log_softmax")]
        x = layers.Add()([x, *acts])
        x = layers.UnitNormalization()(layers.Multiply()([x, x]))
        return layers.GroupNormalization(groups=2, axis=1)(x)

    apps = keras.applications
    yield "mobilenetv2", lambda: apps.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    yield "resnet50", lambda: apps.ResNet50(weights=None, input_shape=(64, 64, 3))
    yield "efficientnetb0", lambda: apps.EfficientNetB0(weights=None, input_shape=(64, 64, 3))
    yield (
        "dense",
        lambda: functional(
            (8,),
            lambda x: layers.Dense(4, activation="softmax")(
                layers.Dropout(0.2)(layers.Dense(16, activation="relu")(x))
            ),
        ),
    )
    yield "conv", lambda: functional((16, 16, 3), conv)
    yield "pools", lambda: functional((12, 12, 4), pools)
    yield (
        "embedding",
        lambda: functional(
            (10,),
            lambda x: layers.GlobalAveragePooling1D()(layers.LayerNormalization()(layers.Embedding(50, 8)(x))),
            dtype="int32",
        ),
    )
    yield "lstm_gru", lambda: functional((7, 5), lambda x: layers.GRU(4)(layers.LSTM(6, return_sequences=True)(x)))
    yield "bilstm", lambda: functional((None, 5), lambda x: layers.Bidirectional(layers.LSTM(3))(x))
    yield "mha", lambda: functional((6, 16), attention)
    yield "misc", lambda: functional((6, 16), misc)


def export_keras(out_dir: Path) -> list[Path]:
    paths = []
    for name, make in keras_models():
        path = out_dir / name
        if not (path / "saved_model.pb").exists():
            make().export(str(path), verbose=False)
        paths.append(path)
    return paths


def main(argv: list[str]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print("CORPUS_OPS =", sorted(corpus_ops(SHARED / "savedmodels" / "EXPECTED")))
    if argv[:1] == ["--keras"] and len(argv) == 2:
        ops: set[str] = set()
        for path in export_keras(Path(argv[1])):
            ops |= saved_model_ops(path)
        print("KERAS_OPS =", sorted(ops))
    elif argv:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
