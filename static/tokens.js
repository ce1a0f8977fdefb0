// The /tokens page: gets a token, shows its parts decoded, calls the API with the cookie
// only and with the token only, and logs out while keeping the token in memory.
// The token is held in a variable on purpose, never in localStorage (see the page).
(function () {
  "use strict";
  var demo = document.getElementById("tokens-demo");
  if (!demo) return;
  var csrf = demo.getAttribute("data-csrf");
  var token = null;
  var expiresAt = 0;
  var byId = function (id) { return document.getElementById(id); };

  function decodePart(part) {
    var base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var bytes = atob(base64);
    var text = decodeURIComponent(Array.prototype.map.call(bytes, function (c) {
      return "%" + ("0" + c.charCodeAt(0).toString(16)).slice(-2);
    }).join(""));
    return JSON.stringify(JSON.parse(text), null, 2);
  }

  function show(id, ok, text) {
    var node = byId(id);
    node.className = "result " + (ok ? "ok" : "bad");
    node.textContent = text;
  }

  function form(fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    return body;
  }

  function tick() {
    if (!token) return;
    var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    byId("token-countdown").textContent = left > 0 ? left + " s" : "now: it has expired";
  }

  byId("get-token").addEventListener("click", function () {
    fetch("/tokens", { method: "POST", credentials: "same-origin", body: form({ csrf_token: csrf }) })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); })
      .then(function (answer) {
        if (answer.status !== 200) {
          byId("token-status").textContent = "No token: " + answer.status + " " + (answer.body.error || "");
          return;
        }
        token = answer.body.token;
        expiresAt = Date.now() + answer.body.expires_in * 1000;
        var parts = token.split(".");
        byId("token-parts").innerHTML = "";
        ["header", "payload", "signature"].forEach(function (name, i) {
          var span = document.createElement("span");
          span.className = "jwt-part jwt-" + name;
          span.textContent = parts[i];
          byId("token-parts").appendChild(span);
          if (i < 2) byId("token-parts").appendChild(document.createTextNode("."));
        });
        byId("token-parts").className = "wrap";
        byId("token-header").textContent = decodePart(parts[0]);
        byId("token-payload").textContent = decodePart(parts[1]);
        byId("token-signature").textContent = parts[2];
        byId("token-decoded").hidden = false;
        byId("token-status").textContent = "Token received (" + answer.body.token_type + ", " + answer.body.expires_in + " s).";
        byId("call-token").disabled = false;
        byId("logout").disabled = false;
        tick();
      });
  });

  function callMe(resultId, init) {
    show(resultId, true, "calling…");
    fetch("/api/v1/users/me", init)
      .then(function (r) { return r.text().then(function (t) { return { status: r.status, text: t }; }); })
      .then(function (answer) {
        var label = answer.status === 200 ? "accepted" : "refused";
        show(resultId, answer.status === 200, answer.status + " " + label + ": " + answer.text);
      });
  }

  byId("call-cookie").addEventListener("click", function () {
    callMe("cookie-result", { credentials: "same-origin" });
  });
  byId("call-token").addEventListener("click", function () {
    callMe("token-result", { credentials: "omit", headers: { Authorization: "Bearer " + token } });
  });

  byId("logout").addEventListener("click", function () {
    // A fetch, not a form: a navigation would unload the page and the token with it.
    fetch("/logout", { method: "POST", credentials: "same-origin", redirect: "manual", body: form({ csrf_token: csrf }) })
      .then(function () {
        show("logout-result", true, "Logged out: the session record is deleted and the cookie removed. Try both calls again.");
        byId("logout").disabled = true;
        showLoggedOutNav();
      });
  });

  // The page stays (it holds the token), so its header must stop offering what only a
  // session could do: the same links an anonymous visitor gets.
  function showLoggedOutNav() {
    var nav = document.querySelector("nav[aria-label=Main]");
    if (!nav) return;
    Array.prototype.slice.call(nav.children, 1).forEach(function (child) { nav.removeChild(child); });
    [["/login", "Log in"], ["/signup", "Sign up"]].forEach(function (link) {
      var a = document.createElement("a");
      a.href = link[0];
      a.textContent = link[1];
      nav.appendChild(a);
    });
  }

  setInterval(tick, 1000);
})();
