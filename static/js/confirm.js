// Ask before a destructive action. A form with data-confirm="question" is sent only when
// the dialog is accepted, and then carries confirmed=1 so the server does not ask again.
// Without JavaScript the server answers the first POST with a confirm page instead.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (!question) {
    return;
  }
  if (!window.confirm(question)) {
    event.preventDefault();
    return;
  }
  var flag = form.querySelector('input[name="confirmed"]');
  if (!flag) {
    flag = document.createElement("input");
    flag.type = "hidden";
    flag.name = "confirmed";
    form.appendChild(flag);
  }
  flag.value = "1";
});
