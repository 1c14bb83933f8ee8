import HTTPTypes
import Hummingbird

/// Headers that make the browser refuse what the dashboard never does: run inline or foreign
/// scripts, be framed by another site (clickjacking the buttons that restart things), guess content
/// types, or leak URLs (which may carry `?token=`) in the Referer.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = NebulaRequestContext

    static let contentSecurityPolicy =
        "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
            response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        }
        return response
    }
}
