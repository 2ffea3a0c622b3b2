// MathJax configuration for pymdownx.arithmatex in generic mode: only elements of
// class "arithmatex" are typeset, with \( \) inline and \[ \] display delimiters.
// MathJax itself is served by the site (assets/vendor/mathjax, see VENDOR.md) and
// loaded after this file; it typesets the page once it has started.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  }
};

// With mkdocs-material's instant navigation the theme swaps page content without a
// new page load: typeset again then. Not on the first emission, which is the page
// MathJax typesets on its own: clearing its output cache at that point leaves the
// page's formulas without their glyphs.
if (typeof document$ !== "undefined") {
  let firstPage = true;
  document$.subscribe(() => {
    if (firstPage) { firstPage = false; return; }
    if (!window.MathJax || !window.MathJax.typesetPromise) return;
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  });
}
