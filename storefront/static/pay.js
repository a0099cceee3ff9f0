// Card payment with Stripe.js (or localstripe's fake Stripe.js in development and tests).
// The order is marked paid by the signed webhook; this page only confirms the card.
(function () {
  var form = document.getElementById('pay-form');
  if (!form || typeof Stripe === 'undefined') { return; }
  var stripe = Stripe(form.dataset.key);
  var card = stripe.elements().create('card');
  card.mount('#card-element');
  var errors = document.getElementById('card-errors');
  var button = document.getElementById('pay-button');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = '';
    stripe.confirmCardPayment(form.dataset.secret, { payment_method: { card: card } })
      .then(function (result) {
        if (result.error) {
          errors.textContent = form.dataset.failed + (result.error.message || '');
          setTimeout(function () { window.location.assign(form.dataset.return); }, 2000);
          return;
        }
        window.location.assign(form.dataset.return);
      });
  });
})();
