// Address form: province → city → district selects filled as the shopper picks.
// Without JS the "Update choices" button re-renders the form with the next level's options.
(function () {
  var form = document.querySelector('.address-form');
  if (!form) { return; }
  var base = form.dataset.regions;
  var province = form.querySelector('[data-level=province]');
  var city = form.querySelector('[data-level=city]');
  var district = form.querySelector('[data-level=district]');
  Array.prototype.forEach.call(form.querySelectorAll('.js-hide'), function (el) { el.hidden = true; });

  function fill(select, items) {
    var first = select.options[0];
    select.innerHTML = '';
    select.appendChild(first);
    items.forEach(function (item) {
      var option = document.createElement('option');
      option.value = item[0];
      option.textContent = item[1];
      select.appendChild(option);
    });
    select.value = '';
    select.disabled = items.length === 0 && select === district;
  }

  function load(url, select, then) {
    fetch(url, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) { fill(select, items); if (then) { then(items); } })
      .catch(function () { fill(select, []); });
  }

  province.addEventListener('change', function () {
    fill(district, []);
    if (!province.value) { fill(city, []); return; }
    load(base + encodeURIComponent(province.value) + '.json', city, function (items) {
      if (items.length === 1) { city.value = items[0][0]; city.dispatchEvent(new Event('change')); }
    });
  });
  city.addEventListener('change', function () {
    if (!city.value) { fill(district, []); return; }
    load(base + encodeURIComponent(province.value) + '/' + encodeURIComponent(city.value) + '.json', district);
  });
})();
