"""Breakpoint lines to nodes (engine.debug_locations) on real compiled files with `$ref`."""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.debug_locations import bind_line, node_lines
from engine.debug_setup import compile_program
from tests.support import marker_line

LIBRARY = textwrap.dedent(
    """\
    nodes:
      # @library_comment (gates shared by workflows)
      - id: used_gate                   # @used_gate
        type: transform
        transform: "gated = true"       # @used_gate_body

      - id: unused_gate
        type: transform
        transform: "other = true"       # @unused_gate_body
    """
)

WORKFLOWS = textwrap.dedent(
    """\
    workflows:
      main:
        nodes:
          - id: start                   # @main_start
            type: transform
            # @main_comment (a comment inside the node)

            transform: "x = 1"
          # @between (a comment between nodes)
          - $ref: "./lib.yaml#used_gate"  # @ref_site
      side:
        nodes:
          - id: start                   # @side_start
            type: transform
            transform: "y = 1"          # @side_body
    """
)


def _files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "lib.yaml").write_text(LIBRARY)
    (tmp_path / "flows.yaml").write_text(WORKFLOWS)
    return str(tmp_path / "flows.yaml"), str(tmp_path / "lib.yaml")


def test_lines_bind_to_the_debugged_workflow_and_others_are_explained(tmp_path: Path) -> None:
    program, _ = _files(tmp_path)
    result = compile_program(program)
    assert result.ok, result.problems
    main, side = result.workflow("main"), result.workflow("side")
    assert main is not None and side is not None

    def bind(marker: str) -> tuple[int, str | None, str | None]:
        binding = bind_line((main,), program, marker_line(WORKFLOWS, marker), not_debugged=(side,))
        return binding.line, binding.node_id, binding.message

    start = marker_line(WORKFLOWS, "main_start")
    assert bind("main_comment")[:2] == (start, "start")
    assert bind("ref_site")[:2] == (marker_line(WORKFLOWS, "ref_site"), "used_gate")
    _, node, message = bind("between")
    assert node is None and message is not None and "outside every node" in message
    for marker in ("side_start", "side_body"):
        _, node, message = bind(marker)
        assert node is None, "a line of another workflow must not bind to a node of the same id"
        assert message is not None and "workflow 'side'" in message
        assert "not the workflow being debugged" in message


def test_library_lines_bind_to_used_nodes_and_name_unused_ones(tmp_path: Path) -> None:
    program, library = _files(tmp_path)
    main = compile_program(program).workflow("main")
    assert main is not None
    used = bind_line((main,), library, marker_line(LIBRARY, "used_gate_body"))
    assert (used.line, used.node_id) == (marker_line(LIBRARY, "used_gate"), "used_gate")
    unused = bind_line((main,), library, marker_line(LIBRARY, "unused_gate_body"))
    assert unused.node_id is None and unused.message is not None
    assert "'unused_gate'" in unused.message and "does not use" in unused.message
    comment = bind_line((main,), library, marker_line(LIBRARY, "library_comment"))
    assert comment.node_id is None and comment.message is not None
    assert "outside every node" in comment.message
    assert node_lines((main,), library, 0, 100) == [marker_line(LIBRARY, "used_gate")]
