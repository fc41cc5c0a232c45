(function () {
  // The as-of slider: show the position it points at, and re-render the page when it is let go.
  var slider = document.getElementById("position");
  var shown = document.getElementById("position-value");
  if (!slider || !shown) { return; }
  var form = slider.form;
  slider.addEventListener("input", function () { shown.textContent = "@" + slider.value; });
  slider.addEventListener("change", function () {
    var typed = form.querySelector("input[name=as_of]");
    if (typed) { typed.value = ""; }
    form.submit();
  });
})();
