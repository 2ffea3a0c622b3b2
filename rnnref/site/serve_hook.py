"""mkdocs hook for ``rnnref site serve`` (see ``rnnref.site.serve``): on every
(re)build, regenerate the pages if the graph or the site source changed, then give
the nav its Terms section. Only the serve command loads it."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.rnnref")


def on_config(config):
    from rnnref.site.build import _expand_nav
    from rnnref.site.serve import STATE_FILE, signature

    site = Path(config.config_file_path).resolve().parent
    state_file = site / STATE_FILE
    state = json.loads(state_file.read_text(encoding="utf-8"))
    root, source = Path(state["root"]), Path(state["source"])
    now = signature(root, source)
    if now != state["signature"]:
        try:
            state["term_pages"] = _regenerate(root, source, site)
        except Exception as exc:  # a half-written Turtle file: keep the last good pages
            log.warning("rnnref: pages not regenerated: %s", " ".join(str(exc).split()))
        else:
            log.info("rnnref: graph or site changed; pages regenerated")
        state["signature"] = now
        state_file.write_text(json.dumps(state), encoding="utf-8")
    if config.nav is not None:
        config.nav = _expand_nav(config.nav, state["term_pages"])
    return config


def _regenerate(root: Path, source: Path, site: Path) -> list[str]:
    """Generate the pages into a fresh copy of the site source, then move into the
    served docs dir only the files that differ (mkdocs watches it)."""
    import tempfile

    from rnnref.graph import KnowledgeGraph
    from rnnref.site.build import prepare_site

    kg = KnowledgeGraph(root)
    with tempfile.TemporaryDirectory(prefix="rnnref-regen-") as tmp:
        fresh, term_pages = prepare_site(kg, source, Path(tmp))
        _sync(fresh, site)
    return term_pages


def _sync(fresh: Path, site: Path) -> None:
    keep = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    for path in sorted(site.rglob("*"), reverse=True):
        rel = path.relative_to(site)
        if path.is_file() and rel not in keep and not rel.name.startswith("."):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for rel in keep:
        src, dst = fresh / rel, site / rel
        if dst.is_file() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
