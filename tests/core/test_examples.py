"""The examples shipped in the package are the fixtures they were copied from."""

from __future__ import annotations

import pytest

import sm_explorer
from sm_explorer import examples
from tests.helpers import fixture_model, tree_digest


@pytest.mark.parametrize("name", examples.names())
def test_examples_match_their_fixture(name):
    assert tree_digest(examples.path(name)) == tree_digest(fixture_model(name))
    assert sm_explorer.load(examples.path(name), tags="serve").signatures


def test_unknown_example_lists_the_valid_names():
    with pytest.raises(ValueError, match="seed_module"):
        examples.path("nope")
