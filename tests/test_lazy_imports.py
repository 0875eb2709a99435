"""Commands and pages import their heavy modules inside functions (so `ragtune --help` stays fast); a module
that moves must not leave such an import dangling until a user runs the command. Every `from ragtune... import
name` in the CLI, the demo and the server names something that exists."""

import ast
import importlib
from pathlib import Path

import ragtune

ROOT = Path(ragtune.__file__).parent


def test_every_function_level_ragtune_import_resolves():
    missing = []
    for folder in ("cli", "demo", "server"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ragtune"):
                    module = importlib.import_module(node.module)
                    missing += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{a.name}"
                                for a in node.names if not hasattr(module, a.name)
                                and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
    assert not missing, missing
