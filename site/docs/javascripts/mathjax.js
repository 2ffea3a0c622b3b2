// MathJax configuration for pymdownx.arithmatex in generic mode: only elements of
// class "arithmatex" are typeset, with \( \) inline and \[ \] display delimiters.
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

// Typeset again after mkdocs-material swaps page content (instant navigation).
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (!window.MathJax.typesetPromise) return;
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  });
}
