"""Draws docs/images/architecture.png from the imports as they are, not as we meant them.

Every arrow is at least one `from cuiban.<package>… import …` found in the code (the number of
modules that import is its label); a dashed arrow is one only the named module draws, by the
table's exception for it (the composition root, the error handler). The table in
docs/architecture.md says what is allowed and tests/unit/test_import_boundaries.py checks it;
this picture shows what is.

    .venv/bin/python docs/images/make-architecture-picture.py   # needs graphviz's `dot`
"""

from __future__ import annotations

import ast
import subprocess
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = [
    ("cli", "the cuiban command\nbootstrap: settings, plan, engine, transport"),
    ("web", "cuiban serve: pages, sign-in,\nsessions, CSRF (FastAPI)"),
    ("services", "one use case each"),
    ("schedules", "the tick: load, decide, render, queue"),
    ("samples", "the 2016 sample"),
    ("reports", "the seed's forms\nxlsx, docx, PDF, HTML, chart"),
    ("planfile", "plan.yaml ⇄ domain"),
    ("intake", "files people hand us"),
    ("models", "tables, migrations, stores"),
    ("notifications", "render, MIME, transports"),
    ("workflow", "the domain: plan, calendar, machines, rules\nno I/O, no clock"),
]
EXCEPTIONS = {("cli", "models"): {"cli/bootstrap.py": "bootstrap", "cli/errors.py": "errors"}}
"""Arrows the table allows only to the modules named (docs/architecture.md)."""


def edges() -> dict[tuple[str, str], set[str]]:
    """(importer, imported) → the modules that import."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    packages = {name for name, _ in LAYERS}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            module = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [alias.name for alias in node.names]
                    targets = names if node.module == "cuiban" else [node.module.removeprefix("cuiban.")]
                    targets = targets if node.module.startswith("cuiban") else []
                elif isinstance(node, ast.Import):
                    ours = [alias.name for alias in node.names if alias.name.startswith("cuiban.")]
                    targets = [name.removeprefix("cuiban.") for name in ours]
                for target in targets:
                    other = target.split(".")[0]
                    if other in packages and other != package:
                        found[(package, other)].add(module)
    return found


def dot_source() -> str:
    lines = [
        "digraph cuiban {",
        '  graph [rankdir=TB, fontname="Helvetica", nodesep=0.35, ranksep=0.45, bgcolor="white"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", color="#8a99ad",'
        ' fontname="Helvetica", fontsize=11];',
        '  edge [color="#55657a", arrowsize=0.7, fontname="Helvetica", fontsize=9, fontcolor="#55657a"];',
    ]
    for name, what in LAYERS:
        fill = ' fillcolor="#e3f0e3"' if name == "workflow" else ""
        label = f"{name}/\\n" + what.replace("\n", "\\n")
        lines.append(f'  {name} [label="{label}"{fill}];')
    lines.append("  { rank=same; planfile; intake; reports; }")
    lines.append("  { rank=same; models; notifications; }")
    found = edges()
    for (source, target), modules in sorted(found.items()):
        named = EXCEPTIONS.get((source, target), {})
        if named and modules <= named.keys():
            names = ", ".join(named[module] for module in sorted(modules))
            lines.append(f'  {source} -> {target} [style=dashed, label=" {names}"];')
        else:
            lines.append(f'  {source} -> {target} [label=" {len(modules)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    out = ROOT / "docs" / "images" / "architecture.png"
    subprocess.run(["dot", "-Tpng", "-Gdpi=110", "-o", str(out)], input=dot_source(), text=True, check=True)
    print(out.relative_to(ROOT))


if __name__ == "__main__":
    main()
