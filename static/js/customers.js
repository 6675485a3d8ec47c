// Ask before submitting a form that carries data-confirm (deleting a customer).
// Without JavaScript the form still works: the server refuses unsafe deletions anyway.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
