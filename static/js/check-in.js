/* On-site check-in on the visit form: "Check in here" asks the browser for its location
   (the browser asks the user's permission) and puts latitude, longitude and accuracy into
   the form's hidden fields. A refused or unavailable location leaves them empty: the visit
   is logged all the same, without a check-in. No map service is called. */
(function () {
  "use strict";

  var box = document.getElementById("check-in");
  if (!box) {
    return;
  }
  var button = document.getElementById("check-in-button");
  var clear = document.getElementById("check-in-clear");
  var status = document.getElementById("check-in-status");
  var site = document.getElementById("check-in-site");
  var fields = {
    lat: document.getElementById("check_in_lat"),
    lng: document.getElementById("check_in_lng"),
    accuracy: document.getElementById("check_in_accuracy_m")
  };

  function say(key, tone, accuracy) {
    var text = box.getAttribute("data-" + key) || "";
    if (accuracy !== undefined) {
      text = text.replace("{accuracy}", String(accuracy));
    }
    status.textContent = text;
    status.className = "form-text mt-2 text-" + tone;
  }

  function located() {
    return fields.lat.value !== "" && fields.lng.value !== "";
  }

  function showState() {
    var have = located();
    clear.classList.toggle("d-none", !have);
    if (site) {
      site.classList.toggle("d-none", !have);
      if (!have) {
        site.querySelector("input").checked = false;
      }
    }
  }

  function setLocation(lat, lng, accuracy) {
    fields.lat.value = lat;
    fields.lng.value = lng;
    fields.accuracy.value = accuracy;
    showState();
  }

  function failed(error) {
    setLocation("", "", "");
    var key = "unavailable";
    if (error && error.code === 1) {
      key = "denied";
    } else if (error && error.code === 3) {
      key = "timeout";
    }
    say(key, "danger");
    button.disabled = false;
  }

  if (!window.isSecureContext) {
    say("insecure", "muted");
    return;
  }
  if (!("geolocation" in navigator)) {
    say("unsupported", "muted");
    return;
  }
  button.classList.remove("d-none");
  if (located()) {
    say("located", "success", Math.round(Number(fields.accuracy.value)));
  } else {
    say("ready", "muted");
  }
  showState();

  button.addEventListener("click", function () {
    button.disabled = true;
    say("locating", "muted");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var c = position.coords;
        setLocation(c.latitude.toFixed(6), c.longitude.toFixed(6), c.accuracy.toFixed(1));
        say("located", "success", Math.round(c.accuracy));
        button.disabled = false;
      },
      failed,
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  });

  clear.addEventListener("click", function () {
    setLocation("", "", "");
    say("ready", "muted");
  });
})();
