"""Variable tables: one row per variable, statistics that match NumPy, problems kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sm_explorer
from sm_explorer.render.variable_frame import STAT_COLUMNS, value_stats, variables_frame
from tests.helpers import copy_model, fixture_model


def test_stats_match_numpy():
    rng = np.random.default_rng(0)
    value = rng.normal(size=(300, 7)).astype(np.float32)
    value[0, 0] = 0
    value[1, 1] = np.nan
    stats = value_stats(value)
    good = value[~np.isnan(value)].astype(np.float64)
    assert stats["min"] == pytest.approx(good.min()) and stats["max"] == pytest.approx(good.max())
    assert stats["mean"] == pytest.approx(good.mean()) and stats["std"] == pytest.approx(good.std())
    assert stats["nan_count"] == 1 and stats["zero_fraction"] == pytest.approx(1 / value.size)


def test_frame_covers_every_variable_and_dtype():
    loaded = sm_explorer.load(fixture_model("dtypes_variables"))
    frame = variables_frame(loaded.saved_model)
    assert list(frame["name"]) == [v.name for v in loaded.saved_model.variables]
    bf16 = frame.set_index("dtype").loc["bfloat16"]
    assert not math.isnan(bf16["max"])  # bfloat16 values are real numbers too
    strings = frame[frame["dtype"] == "string"]
    assert strings[STAT_COLUMNS].isna().all().all()


def test_missing_weights_keep_their_rows(corpus):
    loaded = sm_explorer.load(corpus / "PARTIAL__succulent-saga__exported_model_saved_model")
    frame = variables_frame(loaded.saved_model)
    assert len(frame) >= len(loaded.saved_model.variables)
    assert frame["problem"].str.contains("missing").all()


def test_progress_is_reported():
    calls = []
    variables_frame(sm_explorer.load(fixture_model("keras3_export")).saved_model, progress=lambda d, t: calls.append(d))
    assert calls == list(range(1, len(calls) + 1)) and calls


def test_repeated_entries_of_every_dtype(tmp_path):
    """Entries with equal bytes are marked as repeats, strings and NaN-holding floats too."""
    from sm_explorer.export import write_checkpoint

    model = copy_model(fixture_model("tf1_two_metagraphs"), tmp_path)
    words = np.array([b"a", b"bc", b""], dtype=object)
    floats = np.array([1.0, np.nan], np.float32)
    write_checkpoint(model / "variables" / "variables",
                     {"s1": words, "s2": words.copy(), "f1": floats, "f2": floats.copy(), "f3": floats + 1},
                     overwrite=True)
    frame = variables_frame(sm_explorer.open_saved_model(model, tags="serve")).set_index("name")
    assert frame.loc["s2", "same_as"] == "s1" and frame.loc["f2", "same_as"] == "f1"
    assert frame[["same_as"]].loc[["s1", "f1", "f3"]].isna().all().all()
