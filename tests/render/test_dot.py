"""DOT safety (hostile names) and the object graph view."""

from __future__ import annotations

import re

import pytest

import sm_explorer
from sm_explorer.render.dot import DotUnavailableError, label_text, quote, run_dot
from sm_explorer.render.objects_view import ObjectGraphView
from tests.helpers import copy_model, fixture_model

HOSTILE = ['a"b', "x:0", "{evil}", "<b>html</b>", "back\\slash", "new\nline", "tab\tand\x00nul", "é" * 300,
           '"; n0 -> n1; "', "]; digraph x {"]


@pytest.mark.parametrize("name", HOSTILE)
def test_quote_keeps_names_inside_one_string(name):
    text = quote(name)
    assert text.startswith('"') and text.endswith('"')
    body = text[1:-1]
    assert not re.search(r'(?<!\\)"', body.replace("\\\\", ""))  # every quote inside is escaped
    assert "\n" not in body and "\x00" not in body


def test_long_labels_keep_their_end():
    assert label_text("a" * 100 + "kernel").endswith("kernel")
    assert len(label_text("a" * 100)) == 60


def test_hostile_names_render(dot_binary, tmp_path):
    model = copy_model(fixture_model("seed_module"), tmp_path)
    from tests.helpers import rewrite_proto

    def rename(proto):
        for i, child in enumerate(proto.meta_graphs[0].object_graph_def.nodes[0].children):
            child.local_name = HOSTILE[i % len(HOSTILE)]

    rewrite_proto(model, rename)
    view = ObjectGraphView(sm_explorer.load(model).saved_model)
    svg = view.to_svg()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert "&lt;b&gt;html" in svg or "html" not in svg  # escaped by dot, never raw markup


def test_object_view_structure():
    view = ObjectGraphView(sm_explorer.load(fixture_model("multi_signature_module")).saved_model)
    dot = view.to_dot()
    assert 'label="w\\nfloat32 [4, 3]"' in dot
    assert "shape=component" in dot and "shape=ellipse" in dot
    assert dot.count("->") >= 20


def test_formats_and_missing_dot(monkeypatch, tmp_path):
    view = ObjectGraphView(sm_explorer.load(fixture_model("seed_module")).saved_model)
    assert view.save(tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match="svg"):
        view.save(tmp_path / "g.jpeg")
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(DotUnavailableError, match="apt-get install graphviz"):
        run_dot("digraph {}", "svg")
    assert "text/plain" in view._repr_mimebundle_()
