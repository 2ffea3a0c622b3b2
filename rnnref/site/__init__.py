"""The documentation site: Markdown pages generated from the graph's records, built
with mkdocs-material in strict mode. See ``rnnref.site.build``.

Importing this package imports neither mkdocs nor torch.
"""

from rnnref.site.build import BuildReport, SiteBuildError, build_site

__all__ = ["BuildReport", "SiteBuildError", "build_site"]
