"""Build the documentation site: graph -> generated Markdown -> mkdocs (strict).

The site source (``site/``: mkdocs.yml, hand-written pages, templates, theme
overrides) is copied into a temporary work dir; the term pages, the taxonomy and
the timeline are generated there, never in ``site/``. mkdocs builds into a staging
dir next to ``out_dir``, which replaces ``out_dir`` only when the build succeeded,
in one atomic step (``rnnref.atomic.replace_dir``), so a failed build, or a build
killed at any moment, leaves the previous site as it was. Builds into the same
folder take turns for the swap (a lock on the folder that holds ``out_dir``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import rnnref
from rnnref.atomic import file_lock, recover_dir, replace_dir
from rnnref.errors import InputError
from rnnref.site.pages import TERMS_DIR, write_pages

MARKER = ".rnnref-site"  # written into every built site: only such a dir is replaced
TERMS_NAV_ENTRY = f"{TERMS_DIR}/index.md"


class SiteBuildError(InputError):
    """mkdocs failed, or warned in strict mode; the message is one line."""


@dataclass(frozen=True)
class BuildReport:
    pages: int  # Markdown pages in the site, generated and hand-written
    terms: int  # of which term pages
    seconds: float
    out_dir: Path
    warnings: tuple[str, ...] = ()  # mkdocs warnings; always empty in strict mode


def site_source(root: Path) -> Path:
    """The site folder to build: the graph tree's own, else this package's tree's."""
    for candidate in (Path(root) / "site", Path(rnnref.__file__).resolve().parent.parent / "site"):
        if (candidate / "mkdocs.yml").is_file():
            return candidate
    raise InputError(f"no site/mkdocs.yml in {root} or in the rnnref source tree")


def prepare_site(kg, source: Path, work: Path) -> tuple[Path, list[str]]:
    """Copy the site source into ``work/site`` and generate its pages there.

    Returns the site folder and the term pages in nav order.
    """
    site = work / "site"
    shutil.copytree(source, site, ignore=shutil.ignore_patterns(".*", "__pycache__", "vendor.sh", "VENDOR.md"))
    term_pages = write_pages(kg, site / "docs", site / "templates")
    return site, term_pages


def build_site(kg, out_dir: Path, *, strict: bool = True) -> BuildReport:
    """Generate the pages for every term of ``kg`` and build the site into ``out_dir``."""
    started = time.perf_counter()
    out_dir = Path(out_dir).expanduser().resolve()
    source = site_source(kg.root)
    recover_dir(out_dir)  # a build killed between the fallback's two renames left it aside
    _check_out_dir(out_dir, Path(kg.root).resolve(), source.resolve())

    with tempfile.TemporaryDirectory(prefix="rnnref-site-") as work:
        site, term_pages = prepare_site(kg, source, Path(work))
        pages = sum(1 for _ in (site / "docs").rglob("*.md"))

        try:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
        except OSError as exc:
            raise InputError(f"cannot write the site into {out_dir}: {exc.strerror or exc}") from None
        try:
            warnings = _run_mkdocs(site / "mkdocs.yml", staging, term_pages, strict)
            (staging / MARKER).write_text("built by rnnref site build; replaced on every build\n", encoding="utf-8")
            with file_lock(out_dir.parent):
                _check_out_dir(out_dir, Path(kg.root).resolve(), source.resolve())  # again: it may have changed
                replace_dir(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return BuildReport(pages, len(term_pages) - 1, time.perf_counter() - started, out_dir, tuple(warnings))


def _check_out_dir(out_dir: Path, root: Path, source: Path) -> None:
    """Refuse an out_dir whose replacement would destroy something else."""
    for path in (root, source):
        if out_dir == path or out_dir in path.parents:
            raise InputError(f"refusing to build the site into {out_dir}: it holds {path}")
    if source in out_dir.parents:
        raise InputError(f"refusing to build the site into {out_dir}: it is inside the site source {source}")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise InputError(f"{out_dir} exists and is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
            raise InputError(f"{out_dir} is not empty and is not a site built by rnnref; choose another --out")


def _expand_nav(nav: list, term_pages: list[str]) -> list:
    """The nav with the entry for the taxonomy page replaced by the Terms section."""
    found = False

    def walk(items: list) -> list:
        nonlocal found
        out = []
        for item in items:
            if isinstance(item, dict) and len(item) == 1:
                (title, value), = item.items()
                if value == TERMS_NAV_ENTRY:
                    found = True
                    out.append({title: list(term_pages)})
                elif isinstance(value, list):
                    out.append({title: walk(value)})
                else:
                    out.append(item)
            elif item == TERMS_NAV_ENTRY:
                found = True
                out.append({"Terms": list(term_pages)})
            else:
                out.append(item)
        return out

    expanded = walk(nav)
    if not found:
        expanded.append({"Terms": list(term_pages)})
    return expanded


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


def _run_mkdocs(config_file: Path, site_dir: Path, term_pages: list[str], strict: bool) -> list[str]:
    """Build with mkdocs in this process; return its warnings (raise on any if strict)."""
    from mkdocs import config as mkdocs_config
    from mkdocs.commands import build as mkdocs_build

    logger = logging.getLogger("mkdocs")
    collect = _Collect()
    logger.addHandler(collect)
    propagate, logger.propagate = logger.propagate, False  # the warnings go into the error instead
    try:
        try:
            cfg = mkdocs_config.load_config(config_file=str(config_file), site_dir=str(site_dir), strict=strict)
            if cfg.nav is not None:
                cfg.nav = _expand_nav(cfg.nav, term_pages)
            cfg.plugins.on_startup(command="build", dirty=False)
            try:
                mkdocs_build.build(cfg)
            finally:
                cfg.plugins.on_shutdown()
        except SystemExit as exc:  # some plugins exit instead of raising
            raise SiteBuildError(_failure(collect.messages, f"mkdocs exited with {exc.code}")) from None
        except Exception as exc:  # mkdocs' Abort, ConfigurationError, PluginError, BuildError, ...
            detail = " ".join(str(getattr(exc, "message", None) or exc).split()) or type(exc).__name__
            raise SiteBuildError(_failure(collect.messages, detail)) from None
        if collect.messages and strict:  # belt and braces: strict should have aborted already
            raise SiteBuildError(_failure(collect.messages, "warnings in strict mode"))
    finally:
        logger.removeHandler(collect)
        logger.propagate = propagate
    return collect.messages


def _failure(warnings: list[str], detail: str) -> str:
    if not warnings:
        return f"site build failed: {detail}"
    more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return f"site build failed: {warnings[0]}{more}"
