"""The ``rnnref`` command line: a thin view over the graph, models and site.

One file per command group (composed in ``app.py``); ``main`` turns every error
into one line on stderr and the exit codes of the CLI contract (0 ok, 1 not found
or validation failure, 2 usage or input error).

The hot read commands (``lookup``, ``terms``) take a fast path that does not import
typer, click or rich: together they cost about 0.13 s per start, half of the 0.25 s
lookup budget. Anything the fast path does not recognise exactly (help, an unknown
option) goes to the typer app, which prints the same output for the same input.
"""

from __future__ import annotations

import os
import sys

from rnnref.cli.fast import fast_path

# An error is one line of at most this many characters (long inputs echoed back are cut).
MAX_ERROR_CHARS = 480


def one_line(message: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``message`` fit for one line on a terminal: whitespace folded to single spaces,
    control, format and surrogate characters (NUL, escape sequences, bidi overrides,
    undecodable bytes of argv) shown as ``\\xNN`` / ``\\uNNNN``, cut to ``limit``."""
    import unicodedata

    out = []
    for ch in str(message):
        if ch in "\t\n\r\v\f":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != " ":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    text = " ".join("".join(out).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"rnnref: error: {one_line(message)}\n")
    sys.stderr.flush()
    raise SystemExit(code)


def _usage_message(exc) -> str:
    """click's message; its NoSuchCommand repeats the "Did you mean" sentence (click 8.1/8.2)."""
    text = exc.format_message()
    tail = text.rsplit(" Did you mean ", 1)
    if len(tail) == 2 and text.count(" Did you mean " + tail[1]) > 1:
        text = tail[0]
    return text


def _click_exceptions():
    """Typer >= 0.29 vendors click as typer._click; older releases use click itself."""
    try:
        from typer._click import exceptions  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions
    return exceptions


def main(argv: list[str] | None = None) -> None:
    from rnnref.errors import NotFoundError, RnnrefError

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        if not fast_path(args):
            _run_typer(args)
    except NotFoundError as exc:
        hint = f"; did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else ""
        _fail(f"{exc}{hint}", exc.exit_code)
    except RnnrefError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        sys.stderr.close()
        raise SystemExit(0)
    except Exception as exc:  # a bug: still one line, with a way to see more
        if os.environ.get("RNNREF_DEBUG"):
            raise
        detail = one_line(str(exc), 300)
        _fail(f"internal error: {type(exc).__name__}: {detail} (set RNNREF_DEBUG=1 to see the traceback)", 2)


_COMMAND = None


def _command():
    """The click command of the typer app, built once per process (it takes ~50 ms)."""
    global _COMMAND
    if _COMMAND is None:
        import typer

        from rnnref.cli.app import app

        _COMMAND = typer.main.get_command(app)
    return _COMMAND


def _run_typer(args: list[str]) -> None:
    """Everything the fast path does not take; click's own outcomes become exit codes."""
    import typer

    click_exc = _click_exceptions()
    command = _command()
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of exiting.
        code = command.main(args=args, prog_name="rnnref", standalone_mode=False)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except (typer.Exit, getattr(click_exc, "Exit", typer.Exit)) as exc:
        raise SystemExit(exc.exit_code) from None
    except (typer.Abort, getattr(click_exc, "Abort", typer.Abort)):
        _fail("aborted", 130)
    except click_exc.UsageError as exc:  # bad option, missing argument, no command
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            sys.stdout.write(exc.ctx.get_help() + "\n")
            raise SystemExit(0) from None
        _fail(_usage_message(exc), 2)
    except click_exc.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code or 2)
