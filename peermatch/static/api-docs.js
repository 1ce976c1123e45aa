// Starts Swagger UI on the API reference page (/schema). A file, not an inline script, so the
// page runs under the same Content-Security-Policy as every other page.
const root = document.getElementById("swagger-ui");
if (root && window.SwaggerUIBundle) {
  window.SwaggerUIBundle({ url: root.dataset.schemaUrl, domNode: root, deepLinking: true });
}
