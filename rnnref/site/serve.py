"""``rnnref site serve``: live preview with ``mkdocs serve`` on the generated tree.

The site is generated once into a temporary work dir (as ``rnnref site build`` does)
and served by mkdocs' own development server, which also watches the graph
(``kg/``, ``ontology/``) and the site source. mkdocs reloads its configuration on
every rebuild, and the hook ``rnnref.site.serve_hook`` runs then: when a graph or
site file changed since the pages were generated, it generates them again (so an
edited Turtle file shows on the page, and a new term gets a page and a nav entry),
then puts the term pages into the nav. The browser reloads itself.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from rnnref.errors import InputError
from rnnref.site.build import prepare_site, site_source

STATE_FILE = ".rnnref-serve.json"  # in the work site dir: what the hook needs to know
HOOK = Path(__file__).resolve().parent / "serve_hook.py"


def watched_files(root: Path, source: Path) -> list[Path]:
    files = [p for d in (root / "kg", root / "ontology") for p in sorted(d.rglob("*")) if p.is_file()]
    files += [p for p in sorted(source.rglob("*")) if p.is_file() and "docs/assets/vendor" not in p.as_posix()]
    return files


def signature(root: Path, source: Path) -> list:
    """What changes when a graph or site file changes: each file's path, size and mtime."""
    out = []
    for path in watched_files(root, source):
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append([path.as_posix(), stat.st_size, stat.st_mtime_ns])
    return out


def serve_site(root: Path | None, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False) -> None:
    from rnnref.graph import KnowledgeGraph

    kg = KnowledgeGraph(root)
    root = Path(kg.root).resolve()
    source = site_source(root).resolve()
    work = Path(tempfile.mkdtemp(prefix="rnnref-serve-"))
    try:
        site, term_pages = prepare_site(kg, source, work)
        state = {"root": str(root), "source": str(source), "term_pages": term_pages, "signature": signature(root, source)}
        (site / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        _mkdocs_serve(site, root, source, f"{host}:{port}", open_browser)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _mkdocs_serve(site: Path, root: Path, source: Path, dev_addr: str, open_browser: bool) -> None:
    from mkdocs.commands import serve as mkdocs_serve
    from mkdocs.exceptions import MkDocsException

    try:
        mkdocs_serve.serve(
            config_file=str(site / "mkdocs.yml"),
            livereload=True,
            watch=[str(root / "kg"), str(root / "ontology"), str(source)],
            open_in_browser=open_browser,
            dev_addr=dev_addr,
            hooks=[str(HOOK)],
        )
    except MkDocsException as exc:
        raise InputError(f"site serve failed: {' '.join(str(exc).split())}") from None
    except OSError as exc:  # the address is taken, or not ours
        raise InputError(f"cannot serve on {dev_addr}: {exc.strerror or exc}") from None
