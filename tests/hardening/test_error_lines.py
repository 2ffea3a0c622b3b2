"""The one error handler: whatever text an error carries, stderr gets one short,
printable line (no terminal escapes, no NUL, no bidi overrides, no second line)."""

from __future__ import annotations

from rnnref.cli import MAX_ERROR_CHARS, one_line
from tests.fuzz.harness import call, check_contract


def test_one_line_folds_escapes_and_cuts():
    assert one_line("a\nb\r\nc\td") == "a b c d"
    assert one_line("nul\x00 esc\x1b[31m bidi\u202e zw\u200b surrogate\udcff") == (
        "nul\\x00 esc\\x1b[31m bidi\\u202e zw\\u200b surrogate\\udcff")
    long = one_line("x" * 10_000)
    assert len(long) == MAX_ERROR_CHARS and long.endswith("...")
    assert one_line("ünïcödé – fine") == "ünïcödé – fine"


def test_hostile_term_names_come_back_inert():
    for name in ("\x1b]0;owned\x07", "a\u202eb", "x\ny", "\udcff\udcfe"):
        r = call(["lookup", name])
        check_contract(r)
        assert r.code == 1
        assert "\x1b" not in r.err_text and "\u202e" not in r.err_text and "\x07" not in r.err_text


def test_click_usage_errors_are_one_line_without_repeats():
    r = call(["import-it"])
    check_contract(r)
    assert r.code == 2 and r.err_text.count("Did you mean") <= 1, r.err_text
    r = call(["bench", "lstm", "--repeats", "x" * 5000])
    check_contract(r)
    assert r.code == 2 and len(r.err_text) < 500
