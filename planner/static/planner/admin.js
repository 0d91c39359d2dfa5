// Every admin page (templates/admin/base_site.html): the search-as-you-type selects (select2
// inside Django's admin autocomplete) say which field they are. select2 names its combobox by
// the element that shows the current choice, so an empty choice left it without a name (axe:
// aria-input-field-name). Each gets its field's label, also when select2 draws one later
// (inline rows added, list filters).
(function () {
  "use strict";

  // The field's <label> gets an id, so the combobox and the shown choice can be named by it
  // and by the choice itself ("Problem" + "Bearing noise"), which stays current as it changes.
  function labelId(select) {
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    if (!label) {
      return null;
    }
    label.id = label.id || select.id + "-label";
    return label.id;
  }

  function name(container) {
    var select = container && container.previousElementSibling;
    if (!select || select.tagName !== "SELECT") {
      return;
    }
    var label = labelId(select);
    var shown = container.querySelector('[role="textbox"]');
    var names = [label, shown && shown.id].filter(Boolean).join(" ");
    container.querySelectorAll('[role="combobox"], [role="textbox"]').forEach(function (el) {
      if (label) {
        el.setAttribute("aria-labelledby", names);
      } else {
        el.setAttribute("aria-label", select.getAttribute("aria-label") || select.name);
      }
    });
  }

  function nameAll(root) {
    root.querySelectorAll("span.select2-container").forEach(name);
  }

  document.addEventListener("DOMContentLoaded", function () {
    nameAll(document);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType !== Node.ELEMENT_NODE) {
            return;
          }
          if (node.matches("span.select2-container")) {
            name(node);
          } else {
            nameAll(node);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
