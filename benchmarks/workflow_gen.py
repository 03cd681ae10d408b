"""Generate large, realistic workflow files for benchmarks (every node type, loops, templates)."""

from __future__ import annotations


def _node(i: int, count: int) -> list[str]:
    nid = f"n{i}"
    nxt = f"n{i + 1}" if i + 1 < count else "__end__"
    kind = i % 6
    if kind == 0:
        return [
            f"      - id: {nid}",
            "        type: agent",
            "        role: researcher",
            "        goal: |",
            f"          Investigate item {i} for {{{{user_task}}}} using $ctx.repo.path",
            "          and summarise what you find in a few lines.",
            "        tool_budget: 10",
            "        tools: [read, grep]",
            "        llm_config:",
            "          temperature: 0.2",
            f"        output: out_{i}",
            f"        next: [{nxt}]",
        ]
    if kind == 1:
        return [
            f"      - id: {nid}",
            "        type: compute",
            "        handler: stats_compute",
            "        inputs:",
            f"          data: $ctx.out_{i - 1}",
            "          mode: fast",
            "        constraints: [llm, write]",
            "        timeout: 60",
            f"        output: stats_{i}",
            f"        next: [{nxt}]",
        ]
    if kind == 2:
        back = f"n{max(0, i - 2)}"
        return [
            f"      - id: {nid}",
            "        type: condition",
            f'        condition: "stats_{i - 1}.count > 3 and attempts < 5"',
            "        branches:",
            f'          "true": {nxt}',
            f'          "false": {back}',
        ]
    if kind == 3:
        return [
            f"      - id: {nid}",
            "        type: transform",
            "        transform: |",
            "          attempts = attempts + 1",
            f"          total_{i} = len(stats_{i - 2}.items) if stats_{i - 2} else 0",
            f"        next: [{nxt}]",
        ]
    if kind == 4:
        return [
            f"      - id: {nid}",
            "        type: hitl",
            "        hitl_type: approval",
            "        prompt: |",
            f"          Approve step {i}? Current: {{attempts}}",
            "        context_keys: [attempts]",
            "        timeout: 300",
            "        fallback: continue",
            f"        next: [{nxt}]",
        ]
    return [
        f"      - id: {nid}",
        "        type: agent",
        "        role: reviewer",
        f'        goal: "Review the result of step {i}: {{{{out_{i - 5}}}}}"',
        f"        output: review_{i}",
        f"        next: [{nxt}]",
    ]


def generate_workflow(target_lines: int = 40_000, *, nodes: int | None = None) -> str:
    """A single workflow of about `target_lines` lines (or exactly `nodes` nodes)."""
    header = [
        "# Generated benchmark workflow",
        "workflows:",
        "  big:",
        '    description: "generated"',
        "    execution: {max_iterations: 100000}",
        "    nodes:",
    ]
    body: list[str] = []
    i = 0
    while (nodes is None and len(header) + len(body) < target_lines) or (
        nodes is not None and i < nodes
    ):
        count = nodes if nodes is not None else 10**9
        body.extend(_node(i, count))
        i += 1
    if nodes is None:
        # Close the chain: the last node must end the run.
        body.extend(
            ["      - id: done", "        type: transform", '        transform: status = "done"']
        )
        body = [line.replace(f"n{i}]", "done]") for line in body]
    return "\n".join(header + body) + "\n"
