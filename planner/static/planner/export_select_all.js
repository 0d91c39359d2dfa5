// The export page's "Select all" box ticks or clears every field box. A static script because
// the CSP (script-src 'self') blocks the library's inline onchange handler.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input.select-toggle").forEach((toggle) => {
    toggle.addEventListener("change", () => {
      const boxes = document.querySelectorAll('.selectable-field-export-row input[type="checkbox"]');
      boxes.forEach((box) => {
        box.checked = toggle.checked;
      });
    });
  });
});
