"""TF1 while loops (Enter / Merge / Switch / LoopCond / NextIteration / Exit).

A TF1 loop is a cycle in the graph, so these graphs run as dataflow with
tagged values: each value belongs to a frame (one per loop entered, per
iteration of the enclosing frame) and an iteration. ``Enter`` moves a value
into a loop's frame (loop invariants, ``is_constant``, reach every
iteration), ``NextIteration`` into the next iteration, ``Exit`` back out;
``Merge`` fires on its first live input. The untaken side of a ``Switch`` is
dead, and dead values that reach ``NextIteration`` or ``Exit`` are dropped,
which is how a loop ends.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from sm_explorer.errors import LimitError
from sm_explorer.exec.body import Body, Ref
from sm_explorer.exec.errors import ExecutionError

if TYPE_CHECKING:
    from sm_explorer.exec.interpreter import Interpreter

__all__ = ["run_dataflow"]

Frame = tuple  # () for the root; (parent frame, parent iteration, loop name) inside a loop
Tag = tuple  # (frame, iteration)
ROOT: Tag = ((), 0)
PASS_THROUGH = {"Enter", "RefEnter", "Exit", "RefExit", "NextIteration", "RefNextIteration", "LoopCond"}


def run_dataflow(
    it: Interpreter,
    body: Body,
    feeds: dict[Ref, Any],
    fetches: list[Ref],
    targets: list[str],
    needed: set[str],
    depth: int,
) -> list[Any]:
    from sm_explorer.exec.interpreter import DEAD

    consumers: dict[str, list[tuple[str, int]]] = {n: [] for n in needed}  # slot -1: a control edge
    for name in needed:
        for slot, ref in enumerate(body.inputs[name]):
            if ref not in feeds and ref[0] in needed:
                consumers[ref[0]].append((name, slot))
        for control in body.controls[name]:
            if control in needed:
                consumers[control].append((name, -1))
    waiting: dict[tuple[str, Tag], list[Any]] = {}
    controls_seen: dict[tuple[str, Tag], int] = {}
    values: dict[tuple[str, Tag], Any] = {}
    invariants: dict[Frame, list[tuple[str, tuple]]] = {}
    started: dict[Frame, set[int]] = {}
    ready: deque[tuple[str, Tag]] = deque()

    def slots(name: str, tag: Tag) -> list[Any]:
        key = (name, tag)
        if key not in waiting:
            waiting[key] = [feeds.get(ref, _NOT_YET) for ref in body.inputs[name]]
        return waiting[key]

    def check(name: str, tag: Tag) -> None:
        key = (name, tag)
        if key in values or key in fired:
            return
        got = slots(name, tag)
        node = body.nodes[name]
        if node.op in ("Merge", "RefMerge"):
            if any(v is not _NOT_YET and v is not DEAD for v in got) or all(v is DEAD for v in got):
                fired.add(key)
                ready.append(key)
            return
        if all(v is not _NOT_YET for v in got) and controls_seen.get(key, 0) == len(
            [c for c in body.controls[name] if c in needed]
        ):
            fired.add(key)
            ready.append(key)

    def start_iteration(frame: Frame, iteration: int) -> None:
        if iteration > it.limits.max_iterations:
            raise LimitError(f"a TF1 while loop ran more than {it.limits.max_iterations} iterations")
        if iteration in started.setdefault(frame, set()):
            return
        started[frame].add(iteration)
        for enter, outputs in invariants.get(frame, []):
            deliver_to(enter, outputs, (frame, iteration))

    def deliver_to(src: str, outputs: Any, tag: Tag) -> None:
        for consumer, slot in consumers[src]:
            if slot < 0:
                controls_seen[(consumer, tag)] = controls_seen.get((consumer, tag), 0) + 1
                if outputs is DEAD:
                    slots(consumer, tag)  # a dead control input kills the node
                    dead_controls.add((consumer, tag))
            else:
                ref = body.inputs[consumer][slot]
                slots(consumer, tag)[slot] = DEAD if outputs is DEAD else outputs[ref[1]]
            check(consumer, tag)

    def deliver(src: str, tag: Tag, outputs: Any) -> None:
        node = body.nodes[src]
        frame, iteration = tag
        if node.op in ("Enter", "RefEnter"):
            child: Frame = (frame, iteration, body.attrs(node).get("frame_name", ""))
            if body.attrs(node).get("is_constant", False) and outputs is not DEAD:
                invariants.setdefault(child, []).append((src, outputs))
                for i in sorted(started.get(child, set())):
                    deliver_to(src, outputs, (child, i))
                start_iteration(child, 0)
                return
            start_iteration(child, 0)
            deliver_to(src, outputs, (child, 0))
        elif node.op in ("NextIteration", "RefNextIteration"):
            if outputs is not DEAD:
                start_iteration(frame, iteration + 1)
                deliver_to(src, outputs, (frame, iteration + 1))
        elif node.op in ("Exit", "RefExit"):
            if outputs is not DEAD and frame:
                deliver_to(src, outputs, (frame[0], frame[1]))
        else:
            deliver_to(src, outputs, tag)

    fired: set[tuple[str, Tag]] = set()
    dead_controls: set[tuple[str, Tag]] = set()
    started[()] = {0}
    for name in sorted(needed):
        check(name, ROOT)
    while ready:
        name, tag = ready.popleft()
        node = body.nodes[name]
        got = slots(name, tag)
        if node.op in ("Merge", "RefMerge"):
            live = [(i, v) for i, v in enumerate(got) if v is not _NOT_YET and v is not DEAD]
            out: Any = (live[0][1], np.asarray(live[0][0], np.int32)) if live else DEAD
        elif any(v is DEAD for v in got) or (name, tag) in dead_controls:
            out = DEAD
        elif node.op in PASS_THROUGH:
            out = (got[0],)
        else:
            out = it._execute(body, node, got, depth)
        values[(name, tag)] = out
        deliver(name, tag, out)
    results = []
    for ref in fetches:
        if ref in feeds:
            results.append(feeds[ref])
            continue
        out = values.get((ref[0], ROOT))
        if out is None:
            raise ExecutionError(f"{body.name}: {ref[0]} was never computed (a loop did not finish?)")
        results.append(DEAD if out is DEAD else out[ref[1]])
    for target in targets:
        if (target, ROOT) not in values:
            raise ExecutionError(f"{body.name}: {target} never ran")
    return results


_NOT_YET: Any = type("NotYet", (), {"__repr__": lambda self: "<not yet>"})()
