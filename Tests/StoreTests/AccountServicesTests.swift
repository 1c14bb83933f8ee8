import Accounts
import Crypto
import Foundation
import Store
import Testing

/// The account services over a real store, on both backends: the rules they guard and what they
/// leave in the database.
@Suite("Account services on the store")
struct AccountServicesTests {
    // Small scrypt parameters keep the suite fast; the rules are what is tested here.
    static let hasher = PasswordHasher(parameters: .init(n: 1 << 10, r: 8, p: 1))
    static let password = "correct horse battery"

    @Test("users: valid names, strong passwords, never zero admins, changes end sessions", arguments: Backend.allCases)
    func directory(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let directory = UserDirectory(database: database, hasher: Self.hasher)
        let ann = try await directory.create(username: "ann", password: Self.password, role: .admin)
        let val = try await directory.create(username: "val", password: Self.password, role: .viewer)
        await #expect(throws: UserDirectory.Failure.usernameTaken("ann")) { try await directory.create(username: "ann", password: Self.password, role: .viewer) }
        await #expect(throws: UserDirectory.Failure.invalidUsername("a'; DROP TABLE users;--")) {
            try await directory.create(username: "a'; DROP TABLE users;--", password: Self.password, role: .viewer)
        }
        await #expect(throws: UserDirectory.Failure.weakPassword("use at least 10 characters")) { try await directory.create(username: "eve", password: "short", role: .viewer) }

        await #expect(throws: UserDirectory.Failure.lastAdmin) { try await directory.update(id: ann.id, .init(role: .viewer)) }
        await #expect(throws: UserDirectory.Failure.lastAdmin) { try await directory.update(id: ann.id, .init(disabled: true)) }
        await #expect(throws: UserDirectory.Failure.lastAdmin) { try await directory.delete(id: ann.id) }
        await #expect(throws: UserDirectory.Failure.notFound(999)) { try await directory.update(id: 999, .init(role: .viewer)) }

        let sessions = SessionRepository(database)
        func newSession(_ id: String, for user: UserRecord) async throws {
            try await sessions.create(SessionRecord(idHash: id, userID: user.id, csrfToken: "c", createdAt: 0, lastSeenAt: 0, expiresAt: .max, clientAddress: nil))
        }
        try await newSession("v1", for: val)
        // Re-stating the same role changes nothing and keeps the session.
        #expect(try await directory.update(id: val.id, .init(role: .viewer)).sessionsEnded == false)
        #expect(try await sessions.find(idHash: "v1") != nil)
        let promoted = try await directory.update(id: val.id, .init(role: .admin))
        #expect(promoted.user.role == "admin" && promoted.sessionsEnded)
        #expect(try await sessions.find(idHash: "v1") == nil)
        // Two admins now: one may step down.
        #expect(try await directory.update(id: ann.id, .init(role: .operator)).user.role == "operator")

        try await newSession("v2", for: val)
        try await newSession("v3", for: val)
        await #expect(throws: UserDirectory.Failure.weakPassword("use at least 10 characters")) {
            try await directory.changePassword(userID: val.id, to: "short", keepingSession: "v2")
        }
        try await directory.changePassword(userID: val.id, to: "new password 1", keepingSession: "v2")
        #expect(try await sessions.find(idHash: "v2") != nil)
        #expect(try await sessions.find(idHash: "v3") == nil)
        let stored = try #require(try await directory.find(id: val.id))
        #expect(try directory.verifyPassword("new password 1", of: stored) && !directory.verifyPassword(Self.password, of: stored))

        #expect(try await directory.delete(id: ann.id).username == "ann")
        #expect(try await directory.all().map(\.username) == ["val"])
    }

    @Test("second factor: sealed secret, codes once, recovery codes once", arguments: Backend.allCases)
    func secondFactor(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        let factor = SecondFactor(database: database, box: box)
        let users = UserRepository(database)
        let ann = try await users.create(username: "ann", passwordHash: "h", role: "admin")
        let proposal = factor.proposal(for: "ann")
        let secret = try #require(Base32.decode(proposal.secret))
        let now: Int64 = 1_800_000_000_000
        let totp = TOTP(secret: secret)

        await #expect(throws: SecondFactor.Failure.invalidCode) {
            try await factor.enable(user: ann, secret: proposal.secret, code: "000000" == totp.code(at: now / 1000) ? "111111" : "000000", now: now)
        }
        await #expect(throws: SecondFactor.Failure.invalidSecret) { try await factor.enable(user: ann, secret: "not base32!", code: "123456", now: now) }
        let codes = try await factor.enable(user: ann, secret: proposal.secret, code: totp.code(at: now / 1000), now: now)
        #expect(codes.count == 10 && Set(codes).count == 10)
        let enrolled = try #require(try await users.find(id: ann.id))
        let sealed = try #require(enrolled.totpSecret)
        #expect(sealed != secret && sealed.count == 1 + 12 + secret.count + 16)
        await #expect(throws: SecondFactor.Failure.alreadyEnabled) { try await factor.enable(user: enrolled, secret: proposal.secret, code: "1", now: now) }

        // The enrolment code is spent; the next step's code works once.
        #expect(try await !factor.verify(user: enrolled, code: totp.code(at: now / 1000), now: now))
        #expect(try await factor.verify(user: enrolled, code: totp.code(at: now / 1000 + 30), now: now + 30_000))
        #expect(try await !factor.verify(user: enrolled, code: totp.code(at: now / 1000 + 30), now: now + 30_000))
        #expect(try await factor.verify(user: enrolled, code: codes[0].uppercased(), now: now))
        #expect(try await !factor.verify(user: enrolled, code: codes[0], now: now))
        #expect(try await !factor.verify(user: enrolled, code: "'; DROP TABLE users;--", now: now))
        #expect(try await factor.remainingRecoveryCodes(userID: ann.id) == 9)

        // Under another key the secret does not open: an error, never a wrong code accepted.
        let stranger = SecondFactor(database: database, box: SecretBox(key: SymmetricKey(size: .bits256)))
        await #expect(throws: SecretsError.wrongKey(context: "totp:\(ann.id)")) {
            try await stranger.verify(user: enrolled, code: totp.code(at: now / 1000 + 60), now: now + 60_000)
        }

        try await factor.disable(userID: ann.id)
        #expect(try await users.find(id: ann.id)?.totpSecret == nil)
        #expect(try await factor.remainingRecoveryCodes(userID: ann.id) == 0)
    }

    @Test("vault: sealed at rest, key checked at open, lost key file refused", arguments: Backend.allCases)
    func vault(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-vault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let vault = try await SecretVault.open(database: database, environmentKey: nil, dataDirectory: directory)
        try await vault.put(name: "plex.token", value: "xyz-plex-token")
        #expect(try await vault.value(name: "plex.token") == "xyz-plex-token")
        #expect(try await vault.value(name: "absent") == nil)
        #expect(try await vault.list().map(\.name) == ["plex.token"])  // the key check stays hidden
        let raw = try #require(try await SecretRepository(database).find(name: "plex.token"))
        #expect(!String(decoding: raw.sealed, as: UTF8.self).contains("xyz-plex-token"))

        // Reopened with the same key file: fine.
        _ = try await SecretVault.open(database: database, environmentKey: nil, dataDirectory: directory)
        // A different key: refused at open, before anything could be misread.
        await #expect(throws: SecretsError.keyMismatch(source: "NEBULA_SECRET_KEY")) {
            try await SecretVault.open(database: database, environmentKey: String(repeating: "ab", count: 32), dataDirectory: directory)
        }
        // The key file gone: refused, and no new key is written.
        let keyFile = directory.appendingPathComponent(SecretKeyLoader.fileName)
        let key = try String(contentsOf: keyFile, encoding: .utf8)
        try FileManager.default.removeItem(at: keyFile)
        await #expect(throws: SecretsError.keyFileMissing(path: keyFile.path)) {
            try await SecretVault.open(database: database, environmentKey: nil, dataDirectory: directory)
        }
        #expect(!FileManager.default.fileExists(atPath: keyFile.path))
        // The same key from the environment opens it.
        let reopened = try await SecretVault.open(database: database, environmentKey: key, dataDirectory: directory)
        #expect(try await reopened.value(name: "plex.token") == "xyz-plex-token")
        #expect(try await reopened.delete(name: "plex.token"))
        #expect(try await !reopened.delete(name: "plex.token"))
    }
}
