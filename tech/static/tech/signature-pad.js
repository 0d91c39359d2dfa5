// Sign-off signature pads on the complete form (docs/sign-off.md): draw with pointer events
// (finger, stylus or mouse), keep the drawing as a PNG data URL in the pad's hidden field,
// clear with the pad's button. A file, not an inline script: the CSP allows only 'self'.
// The server decodes and checks the drawing (a real PNG, not blank, bounded size).
(function () {
  function setUp(pad) {
    var canvas = pad.querySelector("canvas");
    var field = pad.querySelector("input[type=hidden]");
    var clear = pad.querySelector("[data-signature-clear]");
    var context = canvas.getContext("2d");
    var drawing = false;
    var inked = false;
    context.lineWidth = 3;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#000";

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - box.left) * canvas.width) / box.width,
        y: ((event.clientY - box.top) * canvas.height) / box.height,
      };
    }
    function save() {
      field.value = inked ? canvas.toDataURL("image/png") : "";
    }
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      var p = point(event);
      context.beginPath();
      context.moveTo(p.x, p.y);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      context.lineTo(p.x, p.y);
      context.stroke();
      inked = true;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      save();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    clear.addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
      save();
    });
  }
  var pads = document.querySelectorAll("[data-signature-pad]");
  for (var i = 0; i < pads.length; i++) {
    setUp(pads[i]);
  }
})();
