import Docker
import Foundation
import Hummingbird
import Realtime
import Store
import Telemetry

/// `/api/v1/containers`: the latest container snapshot, and start/stop/restart/pause/unpause for
/// principals with the `containers` scope (operators and admins). Every action is audited, and the
/// new state is published at once.
struct ContainerRoutes {
    let service: ContainerTelemetryService
    let client: DockerClient
    let authenticator: any Authenticator
    let audit: any AuditSink

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/containers")
        group.get { request, _ in try await list(request) }
        group.post(":container/:action") { request, context in try await act(request, context: context) }
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try await request.principal(using: authenticator)
        guard let snapshot = service.snapshot else {
            throw APIError(.serviceUnavailable, code: "docker_unavailable", "no container data yet; the first sample is on its way")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var bytes = Array("{\"result\":".utf8)
        bytes += Array(try encoder.encode(snapshot))
        bytes += Array("}".utf8)
        return .json(bytes)
    }

    private func act(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.principal(using: authenticator)
        guard let container = context.parameters.get("container"), !container.isEmpty, container.utf8.count <= 256 else {
            throw APIError(.badRequest, code: "bad_request", "name the container by id or name")
        }
        guard let action = context.parameters.get("action").flatMap(ContainerAction.init(rawValue:)) else {
            throw APIError(.notFound, code: "not_found", "actions are start, stop, restart, pause and unpause")
        }
        guard principal.has(.containers) else {
            try await audit.append(principal.audit("container.\(action.rawValue)", target: container, from: context.clientAddress, outcome: "denied", details: "no containers scope"))
            throw APIError(.forbidden, code: "forbidden", "acting on containers needs the operator role or the containers scope")
        }
        do {
            try await client.perform(action, on: container)
        } catch {
            try await audit.append(principal.audit("container.\(action.rawValue)", target: container, from: context.clientAddress, outcome: "failed", details: "\(error)"))
            throw Self.apiError(error)
        }
        try await audit.append(principal.audit("container.\(action.rawValue)", target: container, from: context.clientAddress))
        await service.refresh(nil)
        let report = service.snapshot?.containers.first { $0.id == container || $0.name == container || $0.id.hasPrefix(container) }
        var w = JSONWriter()
        w.raw("{\"result\":{\"container\":")
        w.string(report?.id ?? container)
        w.raw(",\"name\":")
        w.optionalString(report?.name)
        w.raw(",\"action\":")
        w.string(action.rawValue)
        w.raw(",\"state\":")
        w.optionalString(report?.state)
        w.raw("}}")
        return .json(w.bytes)
    }

    static func apiError(_ error: DockerError) -> APIError {
        switch error {
        case .notFound(let container): APIError(.notFound, code: "not_found", "no container '\(container)'")
        case .unavailable, .unsupportedVersion, .malformedResponse:
            APIError(.badGateway, code: "docker_unavailable", error.description)
        case .engine(_, let status, let message):
            APIError(status == 409 ? .conflict : .badGateway, code: status == 409 ? "conflict" : "docker_error", message)
        }
    }
}
