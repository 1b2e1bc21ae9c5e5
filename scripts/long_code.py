"""Functions longer than ~80 lines and modules longer than ~400 lines in the package (issue 10,
item 7): the candidates for a split where a reader would thank you.

    python scripts/long_code.py [--function-lines 80] [--module-lines 400] [PATH ...]

Counts physical lines (a function from its ``def`` or first decorator to its last line).
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def long_functions(path: Path, limit: int) -> list[tuple[int, str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - start + 1
            if length > limit:
                found.append((node.lineno, node.name, length))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function-lines", type=int, default=80)
    parser.add_argument("--module-lines", type=int, default=400)
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "spacematch")])
    args = parser.parse_args()
    files = sorted(
        f for p in map(Path, args.paths) for f in ([p] if p.is_file() else p.rglob("*.py"))
    )
    functions = modules = 0
    for path in files:
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > args.module_lines:
            modules += 1
            print(f"module   {name}: {lines} lines")
        for lineno, func, length in long_functions(path, args.function_lines):
            functions += 1
            print(f"function {name}:{lineno} {func}: {length} lines")
    print(f"{functions} functions > {args.function_lines} lines, "
          f"{modules} modules > {args.module_lines} lines")  # fmt: skip


if __name__ == "__main__":
    main()
