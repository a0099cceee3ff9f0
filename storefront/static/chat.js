/* Chat thread: polls for new messages, posts without leaving the page, runs card actions.
   Text is always inserted with textContent; card markup comes rendered (escaped) by the server. */
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  if (!thread) { return; }
  var viewer = thread.dataset.viewer, csrf = thread.dataset.csrf;
  var since = parseInt(thread.dataset.since, 10) || 0, timer = null, delay = 3000;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function build(m) {
    var li = el("li", "msg msg-" + m.direction + (m.delivery === "undelivered" || m.delivery === "failed" ? " msg-refused" : ""));
    li.id = "m" + m.id;
    li.dataset.id = m.id;
    if (m.card) {
      var card = el("div", "chat-card"), body = el("div");
      body.innerHTML = m.card.html;
      card.appendChild(body);
      m.card.actions.forEach(function (a) {
        if (a.done) { card.appendChild(el("p", "card-done", a.message || thread.dataset.done)); }
        else if (a.url) {
          var form = el("form", "card-action"), button = el("button", "button primary", a.label);
          form.method = "post"; form.action = a.url; form.appendChild(button);
          card.appendChild(form);
        } else { card.appendChild(el("p", "hint", a.label)); }
      });
      li.appendChild(card);
    } else {
      li.appendChild(el("p", "text", m.text));
    }
    var meta = m.time + (viewer === "agent" && m.direction === "out" ? " · " + m.delivery_text + (m.reason ? ": " + m.reason : "") : "");
    li.appendChild(el("small", "meta", meta));
    return li;
  }

  function add(m) {
    var empty = document.getElementById("thread-empty");
    if (empty) { empty.remove(); }
    var old = document.getElementById("m" + m.id), node = build(m);
    if (old) { old.replaceWith(node); } else { thread.appendChild(node); }
    since = Math.max(since, m.id);
    node.scrollIntoView({block: "end"});
  }

  function request(url, options) {
    options = options || {};
    options.headers = Object.assign({"Accept": "application/json", "X-CSRFToken": csrf}, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) { throw body; } return body; });
    });
  }

  function poll() {
    clearTimeout(timer);
    request(thread.dataset.poll + "?since=" + since).then(function (body) {
      body.messages.forEach(add);
      delay = 3000;
    }).catch(function () { delay = Math.min(delay * 2, 60000); })
      .then(function () { timer = setTimeout(poll, document.hidden ? 15000 : delay); });
  }

  function showError(body) {
    alert((body && body.title) || thread.dataset.error);
  }

  var composer = document.getElementById("composer");
  if (composer) {
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = composer.querySelector("textarea");
      if (!text.value.trim()) { return; }
      request(composer.action, {method: "POST", headers: {"Content-Type": "application/json"},
                                body: JSON.stringify({text: text.value})})
        .then(function (body) { add(body.message); text.value = ""; }).catch(showError);
    });
    composer.querySelectorAll("[data-quick]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var text = composer.querySelector("textarea");
        text.value = button.dataset.quick; text.focus();
      });
    });
  }

  thread.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("card-action")) { return; }
    event.preventDefault();
    form.querySelector("button").disabled = true;
    request(form.action, {method: "POST"}).then(function (body) { add(body.message); })
      .catch(function (body) { form.querySelector("button").disabled = false; showError(body); });
  });

  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
  timer = setTimeout(poll, delay);
}());
