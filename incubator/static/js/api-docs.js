// Swagger UI for /api/v1/openapi.json, served from the app (no CDN, no inline script).
window.addEventListener("load", () => {
  const node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: node.dataset.specUrl, dom_id: "#swagger-ui" });
});
