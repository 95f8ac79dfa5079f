"""Variable tables: one row per variable, statistics that match NumPy, problems kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sm_explorer
from sm_explorer.render.variable_frame import STAT_COLUMNS, value_stats, variables_frame
from tests.helpers import fixture_model


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
