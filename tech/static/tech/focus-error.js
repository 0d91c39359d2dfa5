// A refused form's page: move the focus to its error summary, so keyboard and screen reader
// users start at what needs changing. A file, not an inline script: the CSP allows only 'self'.
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();
