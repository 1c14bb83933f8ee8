import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The Docker Engine API (and Podman's compatible one) over its unix socket or TCP. The API version
/// is negotiated once from `/version`: the engine's, capped at the newest this client was written
/// against. Every call has a deadline; streams (events, logs) end when their task is cancelled.
public final class DockerClient: Sendable {
    /// The newest API version this client knows; an engine offering more is spoken to at this one.
    static let newestKnownVersion = APIVersion(1, 43)
    static let oldestUsableVersion = APIVersion(1, 25)

    /// Go's HTTP server (Docker's) refuses requests without a Host header, which a unix-socket URL
    /// has no natural value for; the docker CLI sends this one.
    static let hostHeader = "api.moby.localhost"

    public let endpoint: DockerEndpoint
    let http: HTTPClient
    let requestTimeout: TimeAmount
    private let negotiated = NIOLockedValueBox<APIVersion?>(nil)

    public init(endpoint: DockerEndpoint, eventLoopGroup: any EventLoopGroup, requestTimeout: TimeAmount = .seconds(10)) {
        self.endpoint = endpoint
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: nil)
        self.http = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        self.requestTimeout = requestTimeout
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: - Engine

    /// `GET /version`; also fixes the API version used from then on.
    public func version() async throws(DockerError) -> EngineVersion {
        let version: EngineVersion = try await decode(EngineVersion.self, from: try await send(.GET, "/version"), path: "/version")
        guard let offered = APIVersion(version.apiVersion), offered >= Self.oldestUsableVersion else {
            throw .unsupportedVersion(version.apiVersion)
        }
        negotiated.withLockedValue { $0 = min(offered, Self.newestKnownVersion) }
        return version
    }

    /// Forgets the negotiated version, so the next call asks again (the engine may have been upgraded).
    public func resetNegotiation() {
        negotiated.withLockedValue { $0 = nil }
    }

    // MARK: - Containers

    public func containers(all: Bool = true) async throws(DockerError) -> [ContainerSummary] {
        let path = "/containers/json?all=\(all)"
        return try await decode([ContainerSummary].self, from: try await send(.GET, try await versioned(path)), path: path)
    }

    public func details(_ container: String) async throws(DockerError) -> ContainerDetails {
        let path = "/containers/\(Self.escape(container))/json"
        return try await decode(ContainerDetails.self, from: try await send(.GET, try await versioned(path), container: container), path: path)
    }

    /// One sample without the engine's two-second wait (`one-shot`); nil when the engine has no
    /// numbers for it (Podman answers a stopped container with an empty body).
    public func stats(_ container: String, timeout: Duration? = nil) async throws(DockerError) -> ContainerStatsSample? {
        let path = "/containers/\(Self.escape(container))/stats?stream=false&one-shot=true"
        let deadline = timeout.map { TimeAmount.nanoseconds(Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000) }
        let body = try await send(.GET, try await versioned(path), container: container, timeout: deadline)
        if Self.isBlank(body) { return nil }
        return try await decode(ContainerStatsSample.self, from: body, path: path)
    }

    public func perform(_ action: ContainerAction, on container: String) async throws(DockerError) {
        let path = "/containers/\(Self.escape(container))/\(action.rawValue)"
        _ = try await send(.POST, try await versioned(path), container: container, acceptNotModified: true)
    }

    /// Disk use of images, containers, volumes and build cache; slow on big hosts, hence its own deadline.
    public func diskUsage(timeout: Duration = .seconds(120)) async throws(DockerError) -> DiskUsage {
        let path = "/system/df"
        let deadline = TimeAmount.seconds(Int64(timeout.components.seconds))
        return try await decode(DiskUsage.self, from: try await send(.GET, try await versioned(path), timeout: deadline), path: path)
    }

    /// Removes the build cache (`POST /build/prune`); answers the bytes reclaimed.
    public func pruneBuildCache() async throws(DockerError) -> Int64 {
        let path = "/build/prune"
        let body = try await send(.POST, try await versioned(path), timeout: .seconds(300))
        return try await decode(PruneReport.self, from: body, path: path).spaceReclaimed
    }

    /// Removes dangling images — untagged and used by no container (`POST /images/prune`); answers
    /// how many went and the bytes reclaimed.
    public func pruneDanglingImages() async throws(DockerError) -> (deleted: Int, reclaimed: Int64) {
        let filters = #"{"dangling":["true"]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let path = "/images/prune?filters=\(filters)"
        let report = try await decode(PruneReport.self, from: try await send(.POST, try await versioned(path), timeout: .seconds(300)), path: path)
        return (report.imagesDeleted, report.spaceReclaimed)
    }

    // MARK: - Streams

    /// Container events as they happen, until the task is cancelled or the engine goes away
    /// (the stream then ends with the error).
    public func events() -> AsyncThrowingStream<DockerEvent, any Error> {
        let filters = #"{"type":["container"]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return lines(path: "/events?filters=\(filters)") { line in
            try? JSONDecoder().decode(DockerEvent.self, from: Data(line))
        }
    }

    /// The container's last `tail` lines (`nil`: all), then with `follow` new ones as they are written,
    /// in batches as the engine sends them. With `timestamps`, each line starts with the engine's
    /// RFC 3339 time and a space; `since` (Unix seconds, fractions allowed) skips older lines.
    public func logs(
        _ container: String, tail: Int?, follow: Bool, tty: Bool, timestamps: Bool = false, since: String? = nil
    ) -> AsyncThrowingStream<[LogLine], any Error> {
        let path = "/containers/\(Self.escape(container))/logs?stdout=true&stderr=true&follow=\(follow)&timestamps=\(timestamps)"
            + "&tail=" + (tail.map(String.init) ?? "all") + (since.map { "&since=\($0)" } ?? "")
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await self.open(path, container: container)
                    var decoder = LogStreamDecoder(tty: tty)
                    for try await buffer in response.body {
                        let lines = decoder.feed(buffer.readableBytesView)
                        if !lines.isEmpty { continuation.yield(lines) }
                    }
                    let rest = decoder.finish()
                    if !rest.isEmpty { continuation.yield(rest) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Newline-delimited records of a long-lived response, each turned into an element (or skipped).
    private func lines<Element: Sendable>(path: String, _ parse: @escaping @Sendable ([UInt8]) -> Element?) -> AsyncThrowingStream<Element, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await self.open(path, container: nil)
                    var pending: [UInt8] = []
                    for try await buffer in response.body {
                        pending.append(contentsOf: buffer.readableBytesView)
                        while let newline = pending.firstIndex(of: 0x0A) {
                            let line = Array(pending[..<newline])
                            pending.removeSubrange(...newline)
                            if !line.isEmpty, let element = parse(line) { continuation.yield(element) }
                        }
                    }
                    continuation.finish(throwing: DockerError.unavailable(endpoint: self.endpoint.description, reason: "the stream ended"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func open(_ path: String, container: String?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: endpoint.baseURL + (try await versioned(path)))
        request.method = .GET
        request.headers.add(name: "Host", value: Self.hostHeader)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .distantFuture)
        } catch {
            throw DockerError.unavailable(endpoint: endpoint.description, reason: "\(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
            throw Self.failure(status: Int(response.status.code), body: body, path: path, container: container)
        }
        return response
    }

    // MARK: - Plumbing

    private func versioned(_ path: String) async throws(DockerError) -> String {
        if let version = negotiated.withLockedValue({ $0 }) { return "/v\(version)\(path)" }
        _ = try await version()
        guard let version = negotiated.withLockedValue({ $0 }) else { throw .unsupportedVersion("unknown") }
        return "/v\(version)\(path)"
    }

    private func send(
        _ method: HTTPMethod, _ path: String, container: String? = nil, timeout: TimeAmount? = nil, acceptNotModified: Bool = false
    ) async throws(DockerError) -> ByteBuffer {
        var request = HTTPClientRequest(url: endpoint.baseURL + path)
        request.method = method
        request.headers.add(name: "Host", value: Self.hostHeader)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout ?? requestTimeout)
            body = try await response.body.collect(upTo: 32 << 20)
        } catch {
            throw .unavailable(endpoint: endpoint.description, reason: "\(error)")
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) || (acceptNotModified && status == 304) { return body }
        throw Self.failure(status: status, body: body, path: path, container: container)
    }

    private static func failure(status: Int, body: ByteBuffer, path: String, container: String?) -> DockerError {
        if status == 404, let container { return .notFound(container: container) }
        struct Message: Decodable { let message: String }
        let message = (try? JSONDecoder().decode(Message.self, from: body))?.message ?? String(buffer: body)
        return .engine(path: path, status: status, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer, path: String) async throws(DockerError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch {
            throw .malformedResponse(path: path, reason: "\(error)")
        }
    }

    private static func isBlank(_ body: ByteBuffer) -> Bool {
        body.readableBytesView.allSatisfy { byte in byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
    }

    /// Container ids and names are path segments.
    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? segment
    }
}

/// `/version`: what the engine is.
public struct EngineVersion: Decodable, Sendable, Equatable {
    public let version: String
    public let apiVersion: String
    public let os: String?

    enum CodingKeys: String, CodingKey { case version = "Version", apiVersion = "ApiVersion", os = "Os" }
}

/// `major.minor` of the Engine API, compared numerically (1.9 < 1.41).
struct APIVersion: Comparable, Sendable, CustomStringConvertible {
    let major: Int
    let minor: Int

    init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    init?(_ text: String) {
        let parts = text.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        self.init(parts[0], parts[1])
    }

    static func < (a: APIVersion, b: APIVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    var description: String { "\(major).\(minor)" }
}
