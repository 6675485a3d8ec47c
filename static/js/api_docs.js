// The API docs page: Swagger UI reading the app's own OpenAPI document (no CDN).
// A file, not an inline script: the Content-Security-Policy allows scripts from 'self' only.
(function () {
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The API takes a token, never the page's cookie: "Authorize" asks for it.
    withCredentials: false,
    persistAuthorization: false,
  });
})();
