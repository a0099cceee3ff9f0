// Checkout: a changed delivery choice re-prices the page at once (the button does it without JS).
(function () {
  var form = document.getElementById('delivery-form');
  if (!form) { return; }
  Array.prototype.forEach.call(form.querySelectorAll('.js-hide'), function (el) { el.hidden = true; });
  form.addEventListener('change', function () { form.submit(); });
})();
