// The print view's button (no inline scripts: the CSP allows files from this site only).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
