// The REST API's docs page (/api/v1/docs): Swagger UI on the generated OpenAPI document, with an
// Authorize button for the bearer token.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: true,
});
