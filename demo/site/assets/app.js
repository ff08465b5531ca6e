// edgefront demo: ask a URL through edgefront and show the answer and the
// cache headers that came with it.
(function () {
  "use strict";

  // Code samples name this page's own origin.
  document.querySelectorAll(".origin").forEach(function (el) {
    el.textContent = window.location.origin;
  });

  var result = document.getElementById("result");
  if (!result) {
    return;
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function badgeClass(xCache) {
    var v = (xCache || "").toLowerCase();
    if (v.indexOf("hit") >= 0) {
      return "badge hit";
    }
    if (v.indexOf("miss") >= 0) {
      return "badge miss";
    }
    if (v.indexOf("error") >= 0) {
      return "badge error";
    }
    return "badge";
  }

  function show(url, res, body, ms) {
    var xCache = res.headers.get("X-Cache");
    var line = el("div");
    line.appendChild(el("strong", null, "GET " + url + " → " + res.status + " "));
    line.appendChild(el("span", badgeClass(xCache), "X-Cache: " + (xCache || "(none)")));
    var age = res.headers.get("Age");
    var details = "  " + Math.round(ms) + " ms";
    if (age !== null) {
      details += " · Age: " + age;
    }
    line.appendChild(el("span", "muted", details));
    if (body.length > 1200) {
      body = body.slice(0, 1200) + "\n… (" + body.length + " characters in all)";
    }
    result.replaceChildren(line, el("pre", null, body));
  }

  function ask(url) {
    var start = performance.now();
    result.replaceChildren(el("span", "muted", "Asking " + url + " …"));
    fetch(url, { cache: "no-store" })
      .then(function (res) {
        return res.text().then(function (body) {
          show(url, res, body, performance.now() - start);
        });
      })
      .catch(function (err) {
        result.replaceChildren(el("span", "badge error", "request failed: " + err));
      });
  }

  document.querySelectorAll("button[data-fetch]").forEach(function (b) {
    b.addEventListener("click", function () {
      ask(b.getAttribute("data-fetch"));
    });
  });

  ask("/api/time");
})();
