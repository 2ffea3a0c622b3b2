"""A fast path for ``lookup`` and ``terms``: the same commands, parsed without typer.

It accepts only the exact forms below and returns False for anything else, which
then goes to the typer app (help, unknown options, usage errors)::

    [--root DIR] lookup TERM [--json] [--root DIR]
    [--root DIR] terms [--type T] [--json] [--root DIR]

Set RNNREF_NO_FAST=1 to always use typer (tests compare the two).
"""

from __future__ import annotations

import os
from pathlib import Path

_COMMANDS = {"lookup": {"--json": False, "--root": True}, "terms": {"--json": False, "--root": True, "--type": True}}


def _parse(args: list[str]) -> tuple[str, list[str], dict[str, str | bool]] | None:
    opts: dict[str, str | bool] = {}
    i = 0
    if args[:1] == ["--root"] and len(args) > 1:
        opts["--root"], i = args[1], 2
    elif args[:1] and args[0].startswith("--root="):
        opts["--root"], i = args[0].split("=", 1)[1], 1
    if i >= len(args) or args[i] not in _COMMANDS:
        return None
    command, known, positional = args[i], _COMMANDS[args[i]], []
    i += 1
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if arg.startswith("-"):
            if name not in known or (eq and not known[name]):
                return None
            if known[name]:
                if not eq:
                    if i + 1 >= len(args):
                        return None
                    i += 1
                    value = args[i]
                opts[name] = value
            else:
                opts[name] = True
        else:
            positional.append(arg)
        i += 1
    return command, positional, opts


def fast_path(args: list[str]) -> bool:
    """Run the command if it is one the fast path knows; return whether it did."""
    if os.environ.get("RNNREF_NO_FAST"):
        return False
    parsed = _parse(args)
    if parsed is None:
        return False
    command, positional, opts = parsed
    root = Path(str(opts["--root"])) if "--root" in opts else None
    json_out = bool(opts.get("--json"))
    from rnnref.cli import views

    if command == "lookup":
        if len(positional) != 1:
            return False
        views.lookup_view(positional[0], json_out, root)
        return True
    if positional:
        return False
    views.terms_view(opts.get("--type"), json_out, root)  # type: ignore[arg-type]
    return True
