// Card payment: the Card Element collects the card (Stripe.js, or localstripe's fake in
// development and tests), the server confirms the PaymentIntent, and confirmCardPayment
// finishes 3-D Secure when the bank asks for it. The signed webhook marks the order paid.
(function () {
  var form = document.getElementById('pay-form');
  if (!form || typeof Stripe === 'undefined') { return; }
  var stripe = Stripe(form.dataset.key);
  var card = stripe.elements().create('card');
  card.mount('#card-element');
  var errors = document.getElementById('card-errors');
  var button = document.getElementById('pay-button');

  function fail(message) {
    errors.textContent = form.dataset.failed + (message || '');
    button.disabled = false;
  }

  function paymentMethodId() {
    // Stripe.js returns a PaymentMethod; localstripe's fake only creates card tokens.
    return Promise.resolve(stripe.createPaymentMethod({ type: 'card', card: card }))
      .then(function (result) {
        if (result && result.paymentMethod) { return result.paymentMethod.id; }
        if (result && result.error) { throw result.error; }
        return stripe.createToken(card).then(function (res) {
          if (res.error) { throw res.error; }
          return res.token.card.id;
        });
      });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = '';
    paymentMethodId()
      .then(function (id) {
        return fetch(form.action, {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'Accept': 'application/json',
                     'X-CSRFToken': form.dataset.csrf },
          body: JSON.stringify({ payment_method: id })
        }).then(function (r) { return r.json(); });
      })
      .then(function (result) {
        if (result.status === 'requires_action') {
          return stripe.confirmCardPayment(result.client_secret).then(function (r) {
            if (r.error) { fail(r.error.message); return; }
            window.location.assign(result.return_url);
          });
        }
        if (result.error || result.status === 'failed' || result.title) {  // declined, or a problem (409, 502, 503)
          fail(result.error || result.title);
          setTimeout(function () { window.location.assign(result.return_url || form.dataset.return); }, 2500);
          return;
        }
        window.location.assign(result.return_url);
      })
      .catch(function (err) { fail(err && err.message); });
  });
})();
