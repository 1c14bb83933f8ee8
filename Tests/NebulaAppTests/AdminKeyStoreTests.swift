import Foundation
import Testing

@testable import NebulaApp

@Suite("Admin key")
struct AdminKeyStoreTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("generated once, stored as a 0600 hash, accepted after a restart")
    func generateAndReload() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = AdminKeyStore(dataDirectory: directory)
        let (first, source) = try store.load(environmentKey: nil)
        guard case .generated(let key) = source else {
            Issue.record("expected a generated key, got \(source)")
            return
        }
        #expect(key.hasPrefix("nbk_") && key.count > 40)
        let path = directory.appendingPathComponent(AdminKeyStore.fileName).path
        let stored = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!stored.contains(key))
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        let (second, secondSource) = try store.load(environmentKey: nil)
        #expect(secondSource == .stored)
        #expect(await first.authenticate(Credentials(bearer: key)) != nil)
        #expect(await second.authenticate(Credentials(queryToken: key)) != nil)
        #expect(await second.authenticate(Credentials(bearer: key + "x")) == nil)
        #expect(await second.authenticate(Credentials()) == nil)
    }

    @Test("the environment key wins and nothing is written")
    func environmentKey() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (authenticator, source) = try AdminKeyStore(dataDirectory: directory).load(environmentKey: "from-env")
        #expect(source == .environment)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        #expect(await authenticator.authenticate(Credentials(bearer: "from-env")) != nil)
        #expect(await authenticator.authenticate(Credentials(bearer: "from-envx")) == nil)
    }

    @Test("a corrupt hash file is a clear error, not a new key")
    func corrupt() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "not hex".write(to: directory.appendingPathComponent(AdminKeyStore.fileName), atomically: true, encoding: .utf8)
        #expect(throws: AdminKeyStore.Failure.self) { try AdminKeyStore(dataDirectory: directory).load(environmentKey: nil) }
    }

    @Test("credentials: bearer header, token query (percent-decoded), header wins")
    func credentials() {
        #expect(Credentials(authorization: "Bearer abc", uri: "/ws").token == "abc")
        #expect(Credentials(authorization: "bearer  abc ", uri: nil).token == "abc")
        #expect(Credentials(authorization: "Basic abc", uri: "/ws").token == nil)
        #expect(Credentials(authorization: nil, uri: "/ws?x=1&token=a%2Bb").token == "a+b")
        #expect(Credentials(authorization: "Bearer h", uri: "/ws?token=q").token == "h")
        #expect(Credentials(authorization: nil, uri: "/ws?tokens=q").token == nil)
    }
}
