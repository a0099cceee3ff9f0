// Polls the order status until the webhook has marked it paid (or the payment failed).
(function () {
  var box = document.getElementById('order-status');
  if (!box) { return; }
  var status = box.querySelector('.status');
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(box.dataset.url, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.paid) {
          status.textContent = box.dataset.paid; status.className = 'status status-paid';
          // The paid order emptied the cart: the header's count is stale.
          var badge = document.querySelector('.cart-link .badge');
          if (badge) { badge.remove(); }
          return;
        }
        if (data.status === 'cancelled') { status.textContent = box.dataset.failed; status.className = 'status'; return; }
        if (tries < 60) { setTimeout(poll, 1000); }
      })
      .catch(function () { if (tries < 60) { setTimeout(poll, 2000); } });
  }
  setTimeout(poll, 500);
})();
